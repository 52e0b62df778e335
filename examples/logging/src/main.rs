//! Example 7, logging and debugging: the server logs through `tracing`; `RUST_LOG` chooses what
//! is shown, as `DEBUG=socket.io*` does for Node.
//!
//! ```text
//! cargo run -p example-logging                                  # info: connections, events
//! RUST_LOG=debug cargo run -p example-logging                   # and the server's own debug lines
//! RUST_LOG=example_logging=debug,socketio_server=debug,engineio_server=trace cargo run -p example-logging
//! node examples/client.mjs                                      # then type: hello "world"
//! ```
//!
//! Targets: `socketio_server` (namespaces, sockets, handler errors), `engineio_server` (HTTP,
//! transports, heartbeats), and this example's own `example_logging`. The listeners below log
//! every event in and out of each socket, inside a span that names the socket, which is how to
//! watch an application's traffic.

use socketio_server::{Data, Server, Socket};
use tracing::Instrument;
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| EnvFilter::new("example_logging=info,socketio_server=info")),
        )
        .init();

    let io = Server::new();
    io.on_connection(|socket: Socket| {
        let span = tracing::info_span!("socket", id = %socket.id());
        async move {
            tracing::info!(
                address = ?socket.handshake().address(),
                user_agent = ?socket.handshake().headers().get("user-agent"),
                "connected"
            );
            socket.on_any(|socket, event, args| {
                let args = args
                    .to_values()
                    .map(serde_json::Value::Array)
                    .unwrap_or_default();
                tracing::debug!(socket = %socket.id(), event, %args, "in");
            });
            socket.on_any_outgoing(|socket, event, args| {
                let args = args
                    .to_values()
                    .map(serde_json::Value::Array)
                    .unwrap_or_default();
                tracing::debug!(socket = %socket.id(), event, %args, "out");
            });
            socket.on(
                "hello",
                |socket: Socket, Data(text): Data<String>| async move {
                    tracing::info!(socket = %socket.id(), %text, "hello");
                    let _ = socket.emit("hello", &format!("you said {text}"));
                },
            );
            socket.on_disconnect(|socket: Socket, reason| async move {
                tracing::info!(socket = %socket.id(), %reason, "disconnected");
            });
        }
        .instrument(span)
    });

    let port = std::env::var("PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(3000);
    tracing::info!("listening on http://127.0.0.1:{port}");
    io.listen(([127, 0, 0, 1], port).into()).await
}
