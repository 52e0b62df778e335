//! Rooms, every broadcast operator, broadcast acknowledgements, and the socket utilities
//! (fetch_sockets, sockets_join / sockets_leave, disconnect_sockets). Three clients `a`, `b`, `c`
//! (`e2e/rooms.mjs`): a in r1, b in r1 and r2, c in r2; `a` asks the server to run each
//! operation.

use std::time::Duration;

use bytes::Bytes;
use serde::Deserialize;
use serde_json::{Value, json};
use socketio_server::{
    Ack, AllArgs, BroadcastAckError, BroadcastOperator, Data, RemoteSocket, Rooms, Server, Socket,
};

use crate::support::{ALL, Log, Variant, each_variant, node, serve};

#[derive(Debug, Deserialize)]
struct Ids {
    b: String,
    c: String,
}

fn name_of(handshake_auth: &Value) -> String {
    handshake_auth["name"].as_str().unwrap_or("?").to_owned()
}

/// The ids of `sockets`, ordered by client name.
fn ids_by_name(mut sockets: Vec<RemoteSocket>) -> Value {
    sockets.sort_by_key(|s| name_of(s.handshake().unwrap().auth()));
    sockets.iter().map(|s| s.id().to_owned()).collect()
}

fn acks(result: Result<Vec<String>, BroadcastAckError<String>>) -> Value {
    match result {
        Ok(mut answers) => {
            answers.sort();
            json!({ "ok": answers })
        }
        Err(error) => json!({
            "error": error.error.to_string(),
            "responses": error.responses,
            "expected": error.expected,
        }),
    }
}

async fn remote(io: &Server, id: &str) -> RemoteSocket {
    let mut found = io.to(id).fetch_sockets().await;
    assert_eq!(found.len(), 1);
    found.remove(0)
}

/// Runs operation `op`, asked for by `socket` (client a); returns the answer for a.
async fn run(io: &Server, socket: &Socket, op: &str, ids: &Ids) -> Value {
    let news = |target: BroadcastOperator| {
        target.emit("news", op).unwrap();
        Value::Null
    };
    let news_with = |target: BroadcastOperator, args: &(&str, Bytes)| {
        target.emit("news", args).unwrap();
        Value::Null
    };
    let wait = Duration::from_secs(10);
    match op {
        "to-r1" => news(io.to("r1")),
        "in-r2" => news(io.within("r2")),
        "to-r1-r2" => news(io.to(["r1", "r2"])),
        "to-r1-to-r2" => news(io.to("r1").within("r2")),
        "to-r1-except-r2" => news(io.to("r1").except("r2")),
        "except-r1" => news(io.except("r1")),
        "except-b" => news(io.except(ids.b.as_str())),
        "to-c" => news(io.to(ids.c.as_str())),
        "to-empty-room" => news(io.to("nobody")),
        "broadcast" => news(socket.broadcast()),
        "socket-to-r1" => news(socket.to("r1")),
        "socket-in-r2" => news(socket.within("r2")),
        "socket-except-r2" => news(socket.except("r2")),
        "socket-emit" => {
            socket.emit("news", op).unwrap();
            Value::Null
        }
        "volatile" => news(io.volatile()),
        "local" => news(io.local()),
        "compress" => news(io.compress(false)),
        "flags-to-r1" => news(io.to("r1").volatile().local().compress(true)),
        "namespace-to-r2" => news(io.of("/").to("r2")),
        "ack-all" => acks(io.timeout(wait).emit_with_ack("poll", &("q",)).await),
        "ack-r1" => acks(
            io.to("r1")
                .timeout(wait)
                .emit_with_ack("poll", &("q",))
                .await,
        ),
        "ack-r1-no-timeout" => acks(io.to("r1").emit_with_ack("poll", &("q",)).await),
        "ack-broadcast" => acks(
            socket
                .broadcast()
                .timeout(wait)
                .emit_with_ack("poll", &("q",))
                .await,
        ),
        "ack-empty" => acks(
            io.to("nobody")
                .timeout(wait)
                .emit_with_ack("poll", &("q",))
                .await,
        ),
        "ack-binary" => {
            let answers = io
                .timeout(wait)
                .emit_with_ack::<_, Bytes>("poll-bin", &())
                .await
                .unwrap();
            let names = answers
                .iter()
                .map(|b| String::from_utf8(b.to_vec()).unwrap())
                .collect();
            acks(Ok(names))
        }
        "binary-r1" => news_with(io.to("r1"), &(op, Bytes::from_static(&[1, 2, 3]))),
        "server-side-emit" => match io.server_side_emit_with_ack("hello", vec![json!(1)]).await {
            Ok(answers) => json!({ "ok": answers }),
            Err(error) => json!({ "error": error.to_string() }),
        },
        "ack-partial" => acks(
            io.to("r2")
                .timeout(Duration::from_millis(300))
                .emit_with_ack("poll-slow", &())
                .await,
        ),
        "fetch" => {
            let mut sockets = io.fetch_sockets().await;
            sockets.sort_by_key(|s| name_of(s.handshake().unwrap().auth()));
            sockets
                .iter()
                .map(|s| {
                    assert_eq!(s.as_local().unwrap().id(), s.id());
                    json!({
                        "id": s.id(),
                        "name": name_of(s.handshake().unwrap().auth()),
                        "rooms": s.rooms(),
                    })
                })
                .collect()
        }
        "fetch-r1" => ids_by_name(io.within("r1").fetch_sockets().await),
        "fetch-except-r1" => ids_by_name(io.except("r1").fetch_sockets().await),
        "fetch-r1-except-r2" => ids_by_name(io.to("r1").except("r2").fetch_sockets().await),
        "sockets-join-r9" => {
            io.to("r1").sockets_join("r9").await;
            ids_by_name(io.within("r9").fetch_sockets().await)
        }
        "sockets-leave-r9" => {
            io.sockets_leave(Rooms::from(["r9"])).await;
            ids_by_name(io.within("r9").fetch_sockets().await)
        }
        "to-r9" => news(io.to("r9")),
        "remote-emit-b" => {
            remote(io, &ids.b).await.emit("news", op).unwrap();
            Value::Null
        }
        "remote-join-c-r8" => {
            remote(io, &ids.c).await.join("r8").await;
            news(io.to("r8"))
        }
        "remote-leave-c-r8" => {
            remote(io, &ids.c).await.leave("r8").await;
            news(io.to("r8"))
        }
        "disconnect-r2" => {
            io.within("r2").disconnect_sockets(false).await;
            json!(io.sockets().socket_count())
        }
        "disconnect-all-close" => {
            io.disconnect_sockets(true).await;
            Value::Null
        }
        other => panic!("unknown operation {other}"),
    }
}

fn rooms_server(variant: Variant, log: &Log) -> Server {
    let io = variant.builder().build();
    let server = io.clone();
    let log = log.clone();
    io.on_connection(move |socket: Socket| {
        let name = name_of(socket.handshake().auth());
        socket.on(
            "join",
            |socket: Socket, Data(rooms): Data<Value>, ack: Ack| async move {
                match rooms {
                    Value::String(room) => socket.join(room),
                    rooms => socket.join_all(serde_json::from_value::<Vec<String>>(rooms).unwrap()),
                }
                ack.send(&(socket.rooms(),)).unwrap();
            },
        );
        socket.on(
            "leave",
            |socket: Socket, Data(room): Data<String>, ack: Ack| async move {
                socket.leave(&room);
                ack.send(&(socket.rooms(),)).unwrap();
            },
        );
        let io = server.clone();
        let l = log.clone();
        socket.on(
            "op",
            move |socket: Socket, AllArgs((op, ids)): AllArgs<(String, Ids)>, ack: Ack| {
                let io = io.clone();
                let log = l.clone();
                async move {
                    log.push(format!("op {op}"));
                    let answer = run(&io, &socket, &op, &ids).await;
                    io.emit("marker", &()).unwrap();
                    // The socket may have been disconnected by `op`.
                    let _ = ack.send(&(answer,));
                }
            },
        );
        let l = log.clone();
        socket.on_disconnect(move |_socket: Socket, reason| {
            l.push(format!("disconnect {name}: {reason}"));
            async {}
        });
        async {}
    });
    io
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Node.js and `npm ci` in crates/socketio-server/e2e"]
async fn rooms_and_broadcast_operators() {
    each_variant(ALL, |variant| async move {
        let log = Log::default();
        let io = rooms_server(variant, &log);
        let addr = serve(&io).await;
        node("broadcast", addr, variant, json!({})).await;
        assert_eq!(log.matching("op ").len(), 28, "{:#?}", log.entries());
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Node.js and `npm ci` in crates/socketio-server/e2e"]
async fn fetch_join_leave_and_disconnect_sockets() {
    each_variant(ALL, |variant| async move {
        let log = Log::default();
        let io = rooms_server(variant, &log);
        let addr = serve(&io).await;
        node("sockets", addr, variant, json!({})).await;
        for name in ["a", "b", "c"] {
            log.wait_for(&format!("disconnect {name}: server namespace disconnect"))
                .await;
        }
        assert_eq!(log.matching("disconnect ").len(), 3);
        assert_eq!(io.sockets().socket_count(), 0);
    })
    .await;
}
