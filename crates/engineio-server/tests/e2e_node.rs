//! The official npm `engine.io-client` against this server: polling only, WebSocket only,
//! polling then upgrade, binary, large payloads, heartbeat timeout, server close.
//!
//! Needs Node.js and the client installed once: `cd crates/engineio-server/e2e && npm ci`.
//! Then: `cargo test -p engineio-server --test e2e_node -- --ignored`.

use std::time::Duration;

use engineio_server::{Config, EngineIo, Message, SocketEvent};
use tokio::net::TcpListener;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Node.js and `npm ci` in crates/engineio-server/e2e"]
async fn official_engine_io_client() {
    let e2e = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("e2e");
    assert!(
        e2e.join("node_modules/engine.io-client").exists(),
        "run `npm ci` in {}",
        e2e.display()
    );
    let mut config = Config::default();
    config.ping_interval = Duration::from_millis(300);
    config.ping_timeout = Duration::from_millis(200);
    let engine = EngineIo::new(config, |socket, mut events| {
        tokio::spawn(async move {
            while let Some(event) = events.recv().await {
                match event {
                    SocketEvent::Message(Message::Text(text)) if &*text == "please close" => {
                        socket.close();
                    }
                    SocketEvent::Message(message) => {
                        let Ok(()) = socket.send_wait(message).await else {
                            break;
                        };
                    }
                    _ => {}
                }
            }
        });
    });
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(engine.serve(listener));
    let output = tokio::task::spawn_blocking(move || {
        std::process::Command::new("node")
            .args(["--test", "client.test.mjs"])
            .current_dir(&e2e)
            .env("EIO_URL", format!("http://{addr}"))
            .output()
            .expect("node is installed")
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    println!("{stdout}");
    eprintln!("{}", String::from_utf8_lossy(&output.stderr));
    assert!(output.status.success(), "engine.io-client e2e failed");
}
