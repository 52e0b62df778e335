//! The servers the official protocol test suites expect, on port 3000 (or `--port N`):
//!
//! - `engineio` (`socketio/engine.io-protocol`): an Engine.IO echo server on `/engine.io/`.
//! - `socketio` (`socketio/socket.io-protocol`): a Socket.IO server on `/socket.io/` that emits
//!   `auth` with the handshake's auth payload on connection (on `/` and `/custom`), echoes
//!   `message` as `message-back`, and acknowledges `message-with-ack` with its arguments.
//!
//! Both use pingInterval 300 ms, pingTimeout 200 ms, maxPayload 1e6 and CORS `*`; the Socket.IO
//! server has a connectTimeout of 1 s.
//!
//! ```text
//! cargo run --release --example conformance -- engineio [--port 3000]
//! cargo run --release --example conformance -- socketio [--port 3000]
//! # idle-memory measurements: [--ping-interval MS] [--ping-timeout MS]
//! ```

use std::time::Duration;

use engineio_server::{Config, Cors, EngineIo};
use socketio_server::{Ack, RawArgs, Server, Socket};

// One thread, like the Node server the suite was written against: requests are handled in the
// order they arrive. On a multi-threaded runtime the suite's "forcefully closes the session" test
// races (it sends its GET and its POST `1` at the same time and expects the GET to be held
// first; when the POST wins, Node would answer the GET with 400 too).
#[tokio::main(flavor = "current_thread")]
async fn main() -> std::io::Result<()> {
    let mut port: u16 = 3000;
    let mut ping_interval = 300;
    let mut ping_timeout = 200;
    let mut socketio = false;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "engineio" => socketio = false,
            "socketio" => socketio = true,
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
                    "unknown argument {other:?}; usage: conformance engineio|socketio [--port N]"
                )));
            }
        }
    }
    if socketio {
        return socketio_server(port, ping_interval, ping_timeout).await;
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

/// See the comment in [`socketio_server`].
const AUTH_DELAY: Duration = Duration::from_millis(20);

async fn socketio_server(port: u16, ping_interval: u64, ping_timeout: u64) -> std::io::Result<()> {
    let io = Server::builder()
        .ping_interval(Duration::from_millis(ping_interval))
        .ping_timeout(Duration::from_millis(ping_timeout))
        .max_http_buffer_size(1_000_000)
        .connect_timeout(Duration::from_secs(1))
        .cors(Cors::any())
        .build();
    // The suite reads WebSocket messages with a one-shot listener registered after the previous
    // message was handled, so a message that reaches the client in the same read as the one
    // before it is missed (fixed on the suite's `fix/waitfor` branch). Node's engine happens to
    // hold the second write until the first one drained; ours writes both at once. The handlers
    // therefore wait a little before emitting `auth`, so that it arrives in a read of its own.
    io.on_connection(|socket: Socket| async move {
        socket.on(
            "message",
            |socket: Socket, RawArgs(args): RawArgs| async move {
                let _ = socket.emit_raw("message-back", &args);
            },
        );
        socket.on(
            "message-with-ack",
            |RawArgs(args): RawArgs, ack: Ack| async move {
                let _ = ack.send_raw(&args);
            },
        );
        tokio::time::sleep(AUTH_DELAY).await;
        let _ = socket.emit("auth", socket.handshake().auth());
    });
    io.of("/custom").on_connection(|socket: Socket| async move {
        tokio::time::sleep(AUTH_DELAY).await;
        let _ = socket.emit("auth", socket.handshake().auth());
    });
    println!("socket.io conformance server on http://localhost:{port}/socket.io/");
    let v6 = tokio::net::TcpListener::bind(("::", port)).await;
    match v6 {
        Ok(listener) => io.serve(listener).await,
        Err(_) => io.listen(([0, 0, 0, 0], port).into()).await,
    }
}
