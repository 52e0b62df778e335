//! Example 4, namespaces: separate channels of communication over one connection, each with
//! its own handlers and middlewares; and dynamic namespaces, created when a client asks.
//!
//! ```text
//! cargo run -p example-namespaces
//! node examples/client.mjs http://127.0.0.1:3000/            # the main namespace
//! node examples/client.mjs http://127.0.0.1:3000/admin --auth '{"token": "let-me-in"}'
//! node examples/client.mjs http://127.0.0.1:3000/admin       # refused: connect_error
//! node examples/client.mjs http://127.0.0.1:3000/team-rust   # a dynamic namespace
//! ```
//!
//! Anything typed in `/` (`hello "there"`) is reported to the clients of `/admin` as
//! `< activity`. Clients of `/team-<name>` are greeted with their namespace's name and see
//! only their own team's `message`s.

use socketio_server::{ConnectError, Data, Server, Socket};

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let io = Server::new();

    let admin = io.of("/admin");

    let to_admin = admin.clone();
    io.on_connection(move |socket: Socket| {
        let admin = to_admin.clone();
        async move {
            let _ = socket.emit("welcome", "you are in /");
            // A catch-all listener, reporting to the other namespace.
            socket.on_any(move |socket, event, _args| {
                let _ = admin.emit("activity", &(socket.id(), event));
            });
        }
    });

    // Only for `/admin`: the main namespace stays open.
    admin.use_middleware(|socket: Socket| async move {
        match socket
            .handshake()
            .auth()
            .get("token")
            .and_then(|t| t.as_str())
        {
            Some("let-me-in") => Ok(()),
            _ => Err(ConnectError::new("admins only")),
        }
    });
    let main = io.sockets();
    admin.on_connection(move |socket: Socket| {
        let users = main.socket_count();
        async move {
            let _ = socket.emit("welcome", &format!("admin: {users} client(s) in /"));
        }
    });

    // Every namespace whose name starts with /team- exists as soon as a client connects to it.
    let teams = io.of_dynamic(|name, _auth| name.starts_with("/team-"));
    teams.on_connection(|socket: Socket| async move {
        let _ = socket.emit(
            "welcome",
            &format!("you are in {}", socket.namespace().name()),
        );
        socket.on(
            "message",
            |socket: Socket, Data(text): Data<String>| async move {
                // Only this team's clients.
                let _ = socket.broadcast().emit("message", &text);
            },
        );
    });

    let port = std::env::var("PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(3000);
    println!("listening on http://127.0.0.1:{port}");
    io.listen(([127, 0, 0, 1], port).into()).await
}
