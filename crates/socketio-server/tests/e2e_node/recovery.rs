//! Connection state recovery with the official client: same id, rooms and data, missed packets
//! replayed with their offsets, middlewares skipped; no recovery after leaving on purpose.

use serde_json::json;
use socketio_server::{Ack, DisconnectReason, RecoveryConfig, Socket};

use crate::support::{ALL, Log, each_variant, node, serve};

#[derive(Clone)]
struct Visits(u32);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Node.js and `npm ci` in crates/socketio-server/e2e"]
async fn connection_state_recovery() {
    each_variant(ALL, |variant| async move {
        let log = Log::default();
        let io = variant
            .builder()
            .connection_state_recovery(RecoveryConfig::default())
            .build();
        let l = log.clone();
        io.use_middleware(move |_socket: Socket| {
            l.push("middleware");
            async { Ok(()) }
        });
        let l = log.clone();
        let server = io.clone();
        io.on_connection(move |socket: Socket| {
            l.push(format!("connect recovered: {}", socket.recovered()));
            if socket.recovered() {
                socket.with_data(|visits: &mut Visits| visits.0 += 1);
            } else {
                socket.join("room-r");
                socket.set_data(Visits(1));
            }
            socket.emit("welcome", &(socket.recovered(),)).unwrap();
            socket.on("state", |socket: Socket, ack: Ack| async move {
                let state = json!({
                    "recovered": socket.recovered(),
                    "rooms": socket.rooms(),
                    "data": socket.data::<Visits>().map(|v| v.0),
                });
                ack.send(&(state,)).unwrap();
            });
            let log = l.clone();
            let io = server.clone();
            socket.on_disconnect(move |socket: Socket, reason| {
                log.push(format!("disconnect {reason}"));
                if reason == DisconnectReason::TransportClose {
                    // Sent while the client is away.
                    io.to("room-r").emit("missed", "to room").unwrap();
                    io.to(socket.id()).emit("missed", "to socket").unwrap();
                    io.volatile().emit("missed", "volatile").unwrap();
                    io.except("room-r").emit("missed", "not for it").unwrap();
                    io.emit("missed", "to all").unwrap();
                }
                async {}
            });
            async {}
        });
        let addr = serve(&io).await;
        node("recovery", addr, variant, json!({})).await;
        // Then, maybe, the disconnection of the client's exit.
        let entries = log.entries();
        assert_eq!(
            entries[..entries.len().min(7)],
            [
                "middleware",
                "connect recovered: false",
                "disconnect transport close",
                "connect recovered: true",
                "disconnect client namespace disconnect",
                "middleware",
                "connect recovered: false",
            ]
        );
    })
    .await;
}
