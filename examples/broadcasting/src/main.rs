//! Example 3, broadcasting: to everyone, to everyone but the sender, volatile messages, and a
//! broadcast that collects every client's acknowledgement.
//!
//! ```text
//! cargo run -p example-broadcasting
//! node examples/client.mjs          # in two or three terminals
//! ```
//!
//! - Each new client makes everyone get `< online N`, and the others `< joined "<id>"`.
//! - `"chat message" "hi"`: the other clients get it, not you.
//! - `shout "hi"`: everyone gets it, you too.
//! - `poll`: the server asks every client `poll` and prints their answers
//!   (`client.mjs` answers "ok").
//! - Every 5 s everyone gets a volatile `< tick N`: dropped, not queued, for a client that
//!   cannot take it now.

use std::time::Duration;

use socketio_server::{Data, Server, Socket};

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let io = Server::new();

    io.on_connection(|socket: Socket| async move {
        let io = socket.namespace().clone();
        let _ = io.emit("online", &io.socket_count());
        let _ = socket.broadcast().emit("joined", socket.id());

        socket.on(
            "chat message",
            |socket: Socket, Data(text): Data<String>| async move {
                // Everyone but the sender (Node's `socket.broadcast.emit`).
                let _ = socket.broadcast().emit("chat message", &text);
            },
        );

        socket.on(
            "shout",
            |socket: Socket, Data(text): Data<String>| async move {
                // Everyone, the sender included (Node's `io.emit`).
                let _ = socket.namespace().emit("shout", &text.to_uppercase());
            },
        );

        socket.on("poll", |socket: Socket| async move {
            let answers = socket
                .namespace()
                .timeout(Duration::from_secs(5))
                .emit_with_ack::<_, serde_json::Value>("poll", "still there?")
                .await;
            match answers {
                Ok(answers) => println!(
                    "every client answered: {}",
                    serde_json::Value::from(answers)
                ),
                Err(partial) => {
                    let error = partial.to_string();
                    println!("{error}: {}", serde_json::Value::from(partial.responses));
                }
            }
        });

        socket.on_disconnect(|socket: Socket, _reason| async move {
            let _ = socket
                .namespace()
                .emit("online", &socket.namespace().socket_count());
        });
    });

    let ticker = io.clone();
    tokio::spawn(async move {
        let mut interval = tokio::time::interval(Duration::from_secs(5));
        for n in 0u64.. {
            interval.tick().await;
            let _ = ticker.volatile().emit("tick", &n);
        }
    });

    let port = std::env::var("PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(3000);
    println!("listening on http://127.0.0.1:{port}");
    io.listen(([127, 0, 0, 1], port).into()).await
}
