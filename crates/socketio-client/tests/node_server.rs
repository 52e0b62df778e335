//! Our client against the official Node `socket.io` server (npm, `e2e/server.mjs`, one child
//! process per test): every feature, plus reconnection after the server process is killed and
//! restarted, and connection state recovery.
//!
//! Needs Node.js and `npm ci` in `crates/socketio-client/e2e`; run by `scripts/test-all`, or
//! `cargo test -p socketio-client --test node_server -- --ignored`.

#![allow(clippy::unwrap_used, reason = "tests")]

mod common;

use std::path::PathBuf;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::*;
use socketio_client::{Client, Data, DisconnectReason, Parser, TransportKind};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::mpsc;

/// One `node server.mjs` process.
struct NodeServer {
    child: Child,
    port: u16,
}

fn e2e_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("e2e");
    assert!(
        dir.join("node_modules/socket.io").exists(),
        "run `npm ci` in {}",
        dir.display()
    );
    dir
}

impl NodeServer {
    async fn start(port: u16, env: &[(&str, &str)]) -> Self {
        let mut child = Command::new("node")
            .arg("server.mjs")
            .current_dir(e2e_dir())
            .env("PORT", port.to_string())
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("node is installed");
        let stdout = child.stdout.take().unwrap();
        let mut lines = BufReader::new(stdout).lines();
        let line = within(lines.next_line())
            .await
            .unwrap()
            .expect("the server prints its port");
        let port = line
            .strip_prefix("PORT ")
            .and_then(|p| p.parse().ok())
            .expect("PORT <n>");
        // Keep draining stdout so the child never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        NodeServer { child, port }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Kills the process (SIGKILL, by its PID) and waits for it to exit.
    async fn kill(mut self) {
        self.child.start_kill().unwrap();
        let _ = self.child.wait().await;
    }
}

async fn node(env: &[(&str, &str)]) -> NodeServer {
    NodeServer::start(0, env).await
}

#[tokio::test]
#[ignore = "needs Node.js and `npm ci` in crates/socketio-client/e2e"]
async fn polling_then_websocket_upgrade() {
    let server = node(&[]).await;
    common::polling_then_websocket_upgrade(&server.url()).await;
}

#[tokio::test]
#[ignore = "needs Node.js and `npm ci` in crates/socketio-client/e2e"]
async fn each_transport_alone() {
    let server = node(&[]).await;
    common::each_transport_alone(&server.url()).await;
}

#[tokio::test]
#[ignore = "needs Node.js and `npm ci` in crates/socketio-client/e2e"]
async fn json_events_acks_binary() {
    let server = node(&[]).await;
    events_acks_and_binary(&server.url(), Parser::Json, &[TransportKind::Polling]).await;
    events_acks_and_binary(&server.url(), Parser::Json, &[TransportKind::WebSocket]).await;
}

#[tokio::test]
#[ignore = "needs Node.js and `npm ci` in crates/socketio-client/e2e"]
async fn msgpack_events_acks_binary() {
    let server = node(&[("PARSER", "msgpack")]).await;
    events_acks_and_binary(&server.url(), Parser::Msgpack, &[TransportKind::Polling]).await;
    events_acks_and_binary(&server.url(), Parser::Msgpack, &[TransportKind::WebSocket]).await;
}

#[tokio::test]
#[ignore = "needs Node.js and `npm ci` in crates/socketio-client/e2e"]
async fn namespaces_share_one_connection() {
    let server = node(&[]).await;
    common::namespaces_share_one_connection(&server.url()).await;
}

#[tokio::test]
#[ignore = "needs Node.js and `npm ci` in crates/socketio-client/e2e"]
async fn auth_query_headers_and_connect_error() {
    let server = node(&[]).await;
    common::auth_query_headers_and_connect_error(&server.url()).await;
}

#[tokio::test]
#[ignore = "needs Node.js and `npm ci` in crates/socketio-client/e2e"]
async fn disconnect_reasons() {
    let server = node(&[]).await;
    common::disconnect_reasons(&server.url()).await;
}

#[tokio::test]
#[ignore = "needs Node.js and `npm ci` in crates/socketio-client/e2e"]
async fn on_any_off_and_volatile() {
    let server = node(&[]).await;
    common::on_any_off_and_volatile(&server.url()).await;
}

#[tokio::test]
#[ignore = "needs Node.js and `npm ci` in crates/socketio-client/e2e"]
async fn ack_timeout() {
    let server = node(&[]).await;
    common::ack_timeout(&server.url()).await;
}

#[tokio::test]
#[ignore = "needs Node.js and `npm ci` in crates/socketio-client/e2e"]
async fn retries_deliver_at_least_once() {
    let server = node(&[]).await;
    common::retries_deliver_at_least_once(&server.url()).await;
}

#[tokio::test]
#[ignore = "needs Node.js and `npm ci` in crates/socketio-client/e2e"]
async fn reconnects_after_the_server_process_is_killed_and_restarted() {
    let server = node(&[]).await;
    let port = server.port;
    let url = server.url();
    let restarted = Arc::new(Mutex::new(None));
    let keep = restarted.clone();
    common::reconnects_and_flushes_the_offline_buffer(
        &url,
        move || -> BoxFut { Box::pin(server.kill()) },
        move || -> BoxFut {
            Box::pin(async move {
                // The port is free again once the process is gone; retry until it binds.
                let server = NodeServer::start(port, &[]).await;
                *keep.lock().unwrap() = Some(server);
            })
        },
    )
    .await;
    drop(restarted);
}

#[tokio::test]
#[ignore = "needs Node.js and `npm ci` in crates/socketio-client/e2e"]
async fn connection_state_recovery() {
    for transports in [
        &[TransportKind::Polling, TransportKind::WebSocket][..],
        &[TransportKind::WebSocket][..],
    ] {
        let server = node(&[("RECOVERY", "1")]).await;
        let socket = Client::builder(server.url())
            .transports(transports.iter().copied())
            .reconnection_delay(Duration::from_millis(50))
            .socket()
            .unwrap();
        let (tx, mut rx) = mpsc::unbounded_channel();
        for event in ["hello", "missed"] {
            let tx = tx.clone();
            socket.on(event, move |Data(text): Data<String>| {
                let tx = tx.clone();
                async move {
                    let _ = tx.send(text);
                }
            });
        }
        let events = tx.clone();
        socket.on_disconnect(move |_, reason: DisconnectReason| {
            let events = events.clone();
            async move {
                let _ = events.send(format!("disconnect {reason}"));
            }
        });
        let events = tx.clone();
        socket.on_connect(move |socket| {
            let events = events.clone();
            async move {
                let _ = events.send(format!("connect recovered={}", socket.recovered()));
            }
        });
        within(socket.connect()).await.unwrap();
        assert_eq!(recv(&mut rx).await, "connect recovered=false");
        // The server's first event carries an offset (its last argument), which the client keeps.
        assert_eq!(recv(&mut rx).await, "welcome");
        let id = socket.id();
        // A network failure: the server broadcasts "missed" while the socket is away.
        socket.emit("close-transport", &()).unwrap();
        assert_eq!(recv(&mut rx).await, "disconnect transport close");
        // Reconnected with {pid, offset}: the missed event first, then `connect`, same id.
        assert_eq!(recv(&mut rx).await, "while away (forced close)");
        assert_eq!(recv(&mut rx).await, "connect recovered=true");
        // `connection` handlers run again for a recovered socket.
        assert_eq!(recv(&mut rx).await, "welcome");
        assert!(socket.recovered());
        assert_eq!(socket.id(), id);
        echo_roundtrip(&socket).await;
        // A server that does not know the session (restarted): a fresh session, a new id.
        let port = server.port;
        server.kill().await;
        assert!(recv(&mut rx).await.starts_with("disconnect transport"));
        let _server = NodeServer::start(port, &[("RECOVERY", "1")]).await;
        assert_eq!(recv(&mut rx).await, "connect recovered=false");
        assert!(!socket.recovered());
        assert_ne!(socket.id(), id);
    }
}

#[tokio::test]
#[ignore = "needs Node.js and `npm ci` in crates/socketio-client/e2e"]
async fn heartbeat_keeps_the_connection() {
    // Pings every 50 ms, 100 ms to answer: many heartbeats pass during the test, over each
    // transport, and none may be missed.
    let server = node(&[("PING", "fast")]).await;
    for transports in [
        &[TransportKind::Polling][..],
        &[TransportKind::WebSocket][..],
        &[TransportKind::Polling, TransportKind::WebSocket][..],
    ] {
        let socket = Client::builder(server.url())
            .transports(transports.iter().copied())
            .socket()
            .unwrap();
        let (tx, mut rx) = mpsc::unbounded_channel();
        socket.on_disconnect(move |_, reason: DisconnectReason| {
            let _ = tx.send(reason);
            async {}
        });
        within(socket.connect()).await.unwrap();
        for _ in 0..10 {
            tokio::time::sleep(Duration::from_millis(50)).await;
            echo_roundtrip(&socket).await;
        }
        assert!(rx.try_recv().is_err(), "no disconnection");
        assert!(socket.connected());
        socket.disconnect();
        assert_eq!(recv(&mut rx).await, DisconnectReason::IoClientDisconnect);
    }
}
