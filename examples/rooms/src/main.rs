//! Example 5, rooms: named groups of sockets that a server joins them to, to send to all of a
//! group at once. Each socket is also alone in a room named by its id.
//!
//! ```text
//! cargo run -p example-rooms
//! node examples/client.mjs          # in two or three terminals
//! ```
//!
//! | you type | what happens |
//! | --- | --- |
//! | `?join "rust"` | `ack: ["<your id>", "rust"]`, your rooms; the other members get `< joined` |
//! | `say {"room": "rust", "text": "hi"}` | the room's members get `< message`, you too |
//! | `?who "rust"` | `ack: [ids…]`: the sockets in the room |
//! | `?leave "rust"` | you are out; the members get `< left` |
//! | `dm {"room": "<socket id>", "text": "hi"}` | a socket's id is a room: a private message |
//!
//! Leaving (closing the client) makes the server tell every room you were in (`disconnecting`
//! runs while the socket is still in its rooms).

use serde::Deserialize;
use socketio_server::{Ack, Data, Server, Socket};

#[derive(Debug, Deserialize)]
struct Say {
    room: String,
    text: String,
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let io = Server::new();
    io.on_connection(|socket: Socket| async move {
        socket.on(
            "join",
            |socket: Socket, Data(room): Data<String>, ack: Ack| async move {
                socket.join(room.clone());
                let _ = socket
                    .to(room.clone())
                    .emit("joined", &(socket.id(), &room));
                // A tuple of one: the list is one argument (a bare list would be one argument per room).
                let _ = ack.send(&(socket.rooms(),));
            },
        );

        socket.on(
            "leave",
            |socket: Socket, Data(room): Data<String>, ack: Ack| async move {
                socket.leave(&room);
                let _ = socket.to(room.clone()).emit("left", &(socket.id(), &room));
                let _ = ack.send(&(socket.rooms(),));
            },
        );

        socket.on("say", |socket: Socket, Data(say): Data<Say>| async move {
            // Only members may speak; the sender gets it too (the namespace's `to`, not the
            // socket's, which would leave the sender out).
            if socket.in_room(&say.room) {
                let _ = socket
                    .namespace()
                    .to(say.room.clone())
                    .emit("message", &(socket.id(), &say.room, &say.text));
            }
        });

        socket.on("dm", |socket: Socket, Data(say): Data<Say>| async move {
            let _ = socket.to(say.room).emit("dm", &(socket.id(), &say.text));
        });

        socket.on(
            "who",
            |socket: Socket, Data(room): Data<String>, ack: Ack| async move {
                let members = socket.namespace().to(room).fetch_sockets().await;
                let ids: Vec<&str> = members.iter().map(|s| s.id()).collect();
                let _ = ack.send(&(ids,));
            },
        );

        socket.on_disconnecting(|socket: Socket, reason| async move {
            for room in socket.rooms().iter().skip(1) {
                let _ = socket
                    .to(room.clone())
                    .emit("left", &(socket.id(), room, reason.as_str()));
            }
        });
    });

    let port = std::env::var("PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(3000);
    println!("listening on http://127.0.0.1:{port}");
    io.listen(([127, 0, 0, 1], port).into()).await
}
