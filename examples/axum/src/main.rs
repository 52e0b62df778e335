//! Example 8a, serving under axum: the Socket.IO server is a tower layer in front of an axum
//! `Router`; HTTP routes and Socket.IO handlers share the same `Server` handle.
//!
//! ```text
//! cargo run -p example-axum
//! node examples/client.mjs                                      # a Socket.IO client
//! curl http://127.0.0.1:3000/stats                              # {"clients": 1}
//! curl -d 'hello from HTTP' http://127.0.0.1:3000/announce      # the client gets < announcement
//! ```
//!
//! A page served by the router loads the browser client the same way: see `examples/chat`,
//! which is built like this.

use axum::Router;
use axum::extract::State;
use axum::routing::{get, post};
use socketio_server::{Data, Server, Socket};

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let io = Server::new();
    io.on_connection(|socket: Socket| async move {
        socket.on(
            "hello",
            |socket: Socket, Data(text): Data<String>| async move {
                let _ = socket.emit("hello", &format!("axum says hi back to {text}"));
            },
        );
    });

    let app = Router::new()
        .route("/", get(|| async { "Socket.IO lives under /socket.io/" }))
        .route("/stats", get(stats))
        .route("/announce", post(announce))
        .with_state(io.clone())
        // Requests under /socket.io/ go to the Socket.IO server, the others to the routes.
        .layer(io.layer());

    let port = std::env::var("PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(3000);
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    println!("listening on http://127.0.0.1:{port}");
    axum::serve(listener, app).await
}

async fn stats(State(io): State<Server>) -> axum::Json<serde_json::Value> {
    axum::Json(serde_json::json!({ "clients": io.sockets().socket_count() }))
}

async fn announce(State(io): State<Server>, text: String) -> &'static str {
    let _ = io.emit("announcement", &text);
    "sent\n"
}
