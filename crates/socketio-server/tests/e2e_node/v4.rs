//! Protocol v4: the socket.io-client 2.x (Engine.IO v3) against a server with `allow_eio3`.

use bytes::Bytes;
use serde_json::{Value, json};
use socketio_server::{Ack, ConnectError, Data, RawArgs, Socket};

use crate::support::{Log, Variant, each_variant, node, serve};

const V4: &[Variant] = &[
    Variant::json("polling"),
    Variant::json("websocket"),
    Variant::json("upgrade"),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Node.js and `npm ci` in crates/socketio-server/e2e"]
async fn socket_io_client_2() {
    each_variant(V4, |variant| async move {
        let log = Log::default();
        let l = log.clone();
        let io = variant
            .builder()
            .allow_eio3(true)
            .on_error(move |_, event, error| l.push(format!("error {event}: {error}")))
            .build();
        let server = io.clone();
        let l = log.clone();
        io.on_connection(move |socket: Socket| {
            let h = socket.handshake();
            let hello = json!({
                "id": socket.id(),
                "x": h.query("x"),
                "eio": h.query("EIO"),
            });
            socket.emit("hello", &(hello,)).unwrap();
            socket.on("echo", |RawArgs(args): RawArgs, ack: Ack| async move {
                ack.send_raw(&args).unwrap();
            });
            socket.on("bin", |Data(b): Data<Bytes>, ack: Ack| async move {
                let reversed: Vec<u8> = b.iter().rev().copied().collect();
                ack.send(&(b.len(), Bytes::from(reversed))).unwrap();
            });
            socket.on("number", |Data(n): Data<i64>, ack: Ack| async move {
                ack.send(&n).unwrap();
            });
            let log = l.clone();
            socket.on("ask-me", move |socket: Socket, ack: Ack| {
                let log = log.clone();
                async move {
                    let answer: Value = socket.emit_with_ack("question", "q1").await.unwrap();
                    log.push(format!("answer {answer}"));
                    ack.send(&answer).unwrap();
                    socket.emit("binary", &Bytes::from_static(&[9, 8])).unwrap();
                }
            });
            let io = server.clone();
            socket.on("broadcast", move || {
                io.emit("news", "to /").unwrap();
                io.of("/admin").emit("news", "to /admin").unwrap();
                async {}
            });
            socket.on(
                "kick",
                |socket: Socket| async move { socket.disconnect(false) },
            );
            let log = l.clone();
            socket.on_disconnect(move |_, reason| {
                log.push(format!("disconnect {reason}"));
                async {}
            });
            async {}
        });
        io.of("/admin").on_connection(|socket: Socket| async move {
            let welcome = json!({
                "nsp": socket.namespace().name(),
                "auth": socket.handshake().auth(),
            });
            socket.emit("welcome", &(welcome,)).unwrap();
        });
        io.of("/private")
            .use_middleware(|_socket: Socket| async { Err(ConnectError::new("not authorized")) });
        let addr = serve(&io).await;
        node("v2_client", addr, variant, json!({})).await;
        log.wait_for("disconnect server namespace disconnect").await;
        let entries = log.entries();
        assert!(
            entries[0].starts_with("error number: invalid arguments: "),
            "{entries:#?}"
        );
        assert_eq!(entries[1], r#"answer "answer to q1""#, "{entries:#?}");
    })
    .await;
}
