//! Example 2, event handling: custom events with typed arguments (serde), several arguments,
//! acknowledgements both ways, binary data, and a catch-all listener.
//!
//! ```text
//! cargo run -p example-events
//! node examples/client.mjs          # then type the lines below
//! ```
//!
//! | you type | you get |
//! | --- | --- |
//! | `greet {"name": "Ada"}` | `< greeting "Hello, Ada!"` |
//! | `greet {"name": "Ada", "language": "fr"}` | `< greeting "Bonjour, Ada !"` |
//! | `?sum 1, 2` | `ack: 3` (the handler answers the acknowledgement) |
//! | `?sum "one", 2` | `ack: {"message": "invalid arguments: …"}` (arguments that do not fit) |
//! | `ask` | the server asks `< question "ready?"`, the client answers, the server prints it |
//!
//! Binary: the browser or Node client sends an `ArrayBuffer`/`Buffer`
//! (`socket.emitWithAck("upload", new Uint8Array([1, 2, 3]))`), the handler takes `Bytes`.

use std::time::Duration;

use bytes::Bytes;
use serde::Deserialize;
use socketio_server::{Ack, AllArgs, Data, Server, Socket};

/// What `greet` carries: any JSON object with these fields (extra ones are ignored).
#[derive(Debug, Deserialize)]
struct Greeting {
    name: String,
    language: Option<String>,
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let io = Server::new();
    io.on_connection(|socket: Socket| async move {
        // The first argument, deserialized into the handler's type.
        socket.on(
            "greet",
            |socket: Socket, Data(greeting): Data<Greeting>| async move {
                let text = match greeting.language.as_deref() {
                    Some("fr") => format!("Bonjour, {} !", greeting.name),
                    _ => format!("Hello, {}!", greeting.name),
                };
                let _ = socket.emit("greeting", &text);
            },
        );

        // Every argument as a tuple; `Ack` answers the client's callback.
        socket.on(
            "sum",
            |AllArgs((a, b)): AllArgs<(i64, i64)>, ack: Ack| async move {
                let _ = ack.send(&(a + b));
            },
        );

        // Binary arguments arrive as bytes.
        socket.on("upload", |Data(file): Data<Bytes>, ack: Ack| async move {
            let _ = ack.send(&file.len());
        });

        // The server asks, the client answers (its acknowledgement callback).
        socket.on("ask", |socket: Socket| async move {
            let answer = socket
                .emit_with_ack::<_, String>("question", "ready?")
                .timeout(Duration::from_secs(5))
                .await;
            match answer {
                Ok(answer) => println!("{} answered {answer:?}", socket.id()),
                Err(error) => println!("{} did not answer: {error}", socket.id()),
            }
        });

        // Sees every event, before its handlers (Node's `socket.onAny`).
        socket.on_any(|socket, event, args| {
            let args = args.to_values().map(serde_json::Value::Array);
            println!("{}: {event} {}", socket.id(), args.unwrap_or_default());
        });
    });

    let port = std::env::var("PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(3000);
    println!("listening on http://127.0.0.1:{port}");
    io.listen(([127, 0, 0, 1], port).into()).await
}
