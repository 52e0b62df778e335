//! Example 1, hello world: the smallest Socket.IO server. It greets every client and prints
//! what clients say back.
//!
//! ```text
//! cargo run -p example-hello-world
//! node examples/client.mjs          # in another terminal (once: cd examples && npm ci)
//! ```
//!
//! The client prints `< hello "world"`; type `hello "server"` and the server prints it.
//! With the official client in a browser or in Node it is the same code:
//! `io("http://127.0.0.1:3000").on("hello", (text) => console.log(text))`.
//! Set `PORT` to listen elsewhere than 3000.

use socketio_server::{Data, Server, Socket};

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let io = Server::new();

    // Runs for every client that connects to the main namespace, `/`.
    io.on_connection(|socket: Socket| async move {
        println!("{} connected", socket.id());
        let _ = socket.emit("hello", "world");

        socket.on("hello", |Data(text): Data<String>| async move {
            println!("a client says hello: {text}");
        });
    });

    let port = std::env::var("PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(3000);
    println!("listening on http://127.0.0.1:{port}");
    io.listen(([127, 0, 0, 1], port).into()).await
}
