//! The server the official `socketio/engine.io-protocol` test suite expects: an Engine.IO echo
//! server on `/engine.io/` with pingInterval 300 ms, pingTimeout 200 ms, maxPayload 1e6, CORS `*`.
//!
//! ```text
//! cargo run --release --example conformance -- engineio [--port 3000]
//! # idle-memory measurements: [--ping-interval MS] [--ping-timeout MS]
//! ```

use std::time::Duration;

use engineio_server::{Config, Cors, EngineIo};

// One thread, like the Node server the suite was written against: requests are handled in the
// order they arrive. On a multi-threaded runtime the suite's "forcefully closes the session" test
// races (it sends its GET and its POST `1` at the same time and expects the GET to be held
// first; when the POST wins, Node would answer the GET with 400 too).
#[tokio::main(flavor = "current_thread")]
async fn main() -> std::io::Result<()> {
    let mut port: u16 = 3000;
    let mut ping_interval = 300;
    let mut ping_timeout = 200;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "engineio" => {}
            "--port" => {
                port = args
                    .next()
                    .and_then(|p| p.parse().ok())
                    .ok_or_else(|| std::io::Error::other("--port needs a number"))?;
            }
            // Not used by the suite: longer heartbeats for measuring idle sessions.
            "--ping-interval" | "--ping-timeout" => {
                let ms = args
                    .next()
                    .and_then(|p| p.parse().ok())
                    .ok_or_else(|| std::io::Error::other(format!("{arg} needs milliseconds")))?;
                if arg == "--ping-interval" {
                    ping_interval = ms;
                } else {
                    ping_timeout = ms;
                }
            }
            other => {
                return Err(std::io::Error::other(format!(
                    "unknown argument {other:?}; usage: conformance engineio [--port N]"
                )));
            }
        }
    }
    let mut config = Config::default();
    config.ping_interval = Duration::from_millis(ping_interval);
    config.ping_timeout = Duration::from_millis(ping_timeout);
    config.max_http_buffer_size = 1_000_000;
    config.cors = Some(Cors::any());
    let engine = EngineIo::new(config, |socket, mut events| {
        tokio::spawn(async move {
            while let Some(message) = events.next_message().await {
                if socket.send_wait(message).await.is_err() {
                    break;
                }
            }
        });
    });
    println!("engine.io conformance server on http://localhost:{port}/engine.io/");
    // `localhost` may resolve to either family: listen on both when possible.
    let v6 = tokio::net::TcpListener::bind(("::", port)).await;
    match v6 {
        Ok(listener) => engine.serve(listener).await,
        Err(_) => engine.listen(([0, 0, 0, 0], port).into()).await,
    }
}
