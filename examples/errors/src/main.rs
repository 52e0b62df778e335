//! Example 6, error handling: a middleware that refuses a connection (the client's
//! `connect_error`), handlers that fail (`Result` and the server's `on_error` hook), arguments
//! that do not fit, and a packet middleware that refuses events.
//!
//! ```text
//! cargo run -p example-errors
//! node examples/client.mjs                                   # connect_error: not authorized {"hint": …}
//! node examples/client.mjs --auth '{"user": "ada"}'          # connected
//! ```
//!
//! Then:
//!
//! | you type | what happens |
//! | --- | --- |
//! | `?divide 6, 3` | `ack: {"ok": 2}` |
//! | `?divide 1, 0` | `ack: {"error": "division by zero"}`: an error the client should see |
//! | `?divide "a"` | `ack: {"message": "invalid arguments: …"}`, sent by the server itself; `on_error` sees it too |
//! | `save "x"` | the handler returns `Err`: `on_error` logs it and tells the client `< failed` |
//! | `admin:reset` | refused by the packet middleware: `< failed "…"`, the handler never runs |
//!
//! In the browser or in Node, the refused connection is
//! `socket.on("connect_error", (err) => console.log(err.message, err.data))`.

use serde::Serialize;
use serde_json::json;
use socketio_server::{Ack, AllArgs, ConnectError, Data, Server, Socket};

/// A handler's own error type: anything that implements `std::error::Error`.
#[derive(Debug, thiserror::Error)]
enum StoreError {
    #[error("the store is read-only")]
    ReadOnly,
}

/// An answer that carries either a result or an error for the client.
#[derive(Serialize)]
#[serde(rename_all = "lowercase")]
enum Answer {
    Ok(i64),
    Error(String),
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let io = Server::builder()
        // Every handler error ends here: a handler that returned `Err`, or arguments that did
        // not fit its types. Without this hook they are logged through `tracing` (warn).
        .on_error(|socket: &Socket, event: &str, error| {
            eprintln!("{}: `{event}` failed: {error}", socket.id());
            let _ = socket.emit("failed", &format!("{event}: {error}"));
        })
        .build();

    // Runs before a client connects; an `Err` refuses it with this message and data.
    io.use_middleware(|socket: Socket| async move {
        match socket.handshake().auth().get("user") {
            Some(_) => Ok(()),
            None => Err(ConnectError::new("not authorized")
                .with_data(json!({ "hint": "connect with auth {\"user\": \"name\"}" }))),
        }
    });

    io.on_connection(|socket: Socket| async move {
        // An error for the client: answer with it.
        socket.on(
            "divide",
            |AllArgs((a, b)): AllArgs<(i64, i64)>, ack: Ack| async move {
                let answer = match a.checked_div(b) {
                    Some(quotient) => Answer::Ok(quotient),
                    None => Answer::Error("division by zero".into()),
                };
                let _ = ack.send(&answer);
            },
        );

        // An error of the server's: return it, `on_error` gets it.
        socket.on("save", |Data(_value): Data<String>| async move {
            Err::<(), _>(StoreError::ReadOnly)
        });

        // Checks every event before its handlers (Node's `socket.use`).
        socket.use_middleware(|_socket, event, _args| {
            if event.starts_with("admin:") {
                return Err(format!("{event} is for admins").into());
            }
            Ok(())
        });
        // What the packet middleware refused (Node's `socket.on("error")`).
        socket.on_error(|socket, error| {
            let _ = socket.emit("failed", &error.to_string());
        });
        socket.on("admin:reset", |socket: Socket| async move {
            println!("{} reset everything (never printed)", socket.id());
        });
    });

    let port = std::env::var("PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(3000);
    println!("listening on http://127.0.0.1:{port}");
    io.listen(([127, 0, 0, 1], port).into()).await
}
