//! What the cluster tests of `socketio-cluster` (in-process bus) and `socketio-redis` (real
//! Redis) share: a test server, a recording client, and the scenario every cluster adapter must
//! pass. `socketio-redis` includes this file by path (`#[path]`), so both run the same scenario.

#![allow(dead_code, reason = "each test file uses its own subset")]

use std::time::Duration;

use serde_json::json;
use socketio_client::{Client, Data};
use socketio_server as server;
use tokio::net::TcpListener;
use tokio::sync::mpsc;

pub(crate) const WAIT: Duration = Duration::from_secs(10);

/// A server on a free port with `join` and `set-data` handlers, over the adapter `factory` makes.
pub(crate) async fn node_with(
    factory: impl Fn(&str) -> std::sync::Arc<dyn server::Adapter> + Send + Sync + 'static,
    parser: server::Parser,
) -> (server::Server, String) {
    let io = server::Server::builder()
        .parser(parser)
        .adapter(factory)
        .build();
    io.on_connection(|socket: server::Socket| async move {
        socket.on(
            "join",
            |socket: server::Socket, server::Data(room): server::Data<String>, ack: server::Ack| async move {
                socket.join(room);
                let _ = ack.send(&());
            },
        );
        socket.on("set-data", |socket: server::Socket, server::Data(v): server::Data<serde_json::Value>, ack: server::Ack| async move {
            socket.set_data(v);
            let _ = ack.send(&());
        });
    });
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let serving = io.clone();
    tokio::spawn(async move {
        let _ = serving.serve(listener).await;
    });
    (io, url)
}

/// A client that forwards every `event` it receives to the returned channel.
pub(crate) async fn client(
    url: &str,
    parser: server::Parser,
    events: &[&'static str],
) -> (
    socketio_client::Socket,
    mpsc::UnboundedReceiver<(String, serde_json::Value)>,
) {
    let socket = Client::builder(url).parser(parser).socket().unwrap();
    let (tx, rx) = mpsc::unbounded_channel();
    for &event in events {
        let tx = tx.clone();
        socket.on(event, move |Data(v): Data<serde_json::Value>| {
            let tx = tx.clone();
            async move {
                let _ = tx.send((event.to_owned(), v));
            }
        });
    }
    let bin = tx.clone();
    socket.on("bin", move |Data(b): Data<bytes::Bytes>| {
        let bin = bin.clone();
        async move {
            let _ = bin.send(("bin".to_owned(), json!(b.to_vec())));
        }
    });
    socket.on(
        "ask",
        |Data(v): Data<serde_json::Value>, ack: socketio_client::Ack| async move {
            let _ = ack.send(&json!({ "answer": v }));
        },
    );
    tokio::time::timeout(WAIT, socket.connect())
        .await
        .unwrap()
        .unwrap();
    (socket, rx)
}

pub(crate) async fn recv(
    rx: &mut mpsc::UnboundedReceiver<(String, serde_json::Value)>,
) -> (String, serde_json::Value) {
    match tokio::time::timeout(WAIT, rx.recv()).await {
        Ok(Some(got)) => got,
        _ => panic!("nothing received"),
    }
}

/// Sends `event` and waits for the server's acknowledgement.
pub(crate) async fn call(socket: &socketio_client::Socket, event: &str, arg: serde_json::Value) {
    let done: Result<serde_json::Value, _> = socket.emit_with_ack(event, &arg).timeout(WAIT).await;
    done.unwrap();
}

/// Waits until `check` holds (cluster operations without answers apply asynchronously).
pub(crate) async fn eventually<F: std::future::Future<Output = bool>>(
    mut check: impl FnMut() -> F,
) {
    tokio::time::timeout(WAIT, async {
        while !check().await {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
    .unwrap();
}

/// Every cluster operation between two servers `a` and `b` (a JSON and a msgpack one) and their
/// clients.
pub(crate) async fn cluster_operations(
    a: server::Server,
    url_a: String,
    b: server::Server,
    url_b: String,
) {
    // Both servers subscribed: each counts two.
    eventually(|| async {
        a.sockets().server_count().await == 2 && b.sockets().server_count().await == 2
    })
    .await;
    let events = ["news", "room-news"];
    let (ca, mut ra) = client(&url_a, server::Parser::Json, &events).await;
    let (cb, mut rb) = client(&url_b, server::Parser::Msgpack, &events).await;
    call(&ca, "join", json!("blue")).await;
    call(&cb, "set-data", json!({"name": "bob"})).await;

    // A broadcast reaches the clients of both servers; rooms are honoured across servers.
    a.emit("news", "hello").unwrap();
    assert_eq!(recv(&mut ra).await, ("news".into(), json!("hello")));
    assert_eq!(recv(&mut rb).await, ("news".into(), json!("hello")));
    b.to("blue").emit("room-news", &json!({"n": 1})).unwrap();
    assert_eq!(recv(&mut ra).await, ("room-news".into(), json!({"n": 1})));
    // Binary crosses between a JSON-parser server and a msgpack-parser server.
    b.emit("bin", &bytes::Bytes::from_static(b"\x01\x02\x03"))
        .unwrap();
    assert_eq!(recv(&mut ra).await, ("bin".into(), json!([1, 2, 3])));
    assert_eq!(recv(&mut rb).await, ("bin".into(), json!([1, 2, 3])));
    // `except` on the other server: the blue socket is skipped.
    b.except("blue").emit("news", "not blue").unwrap();
    assert_eq!(recv(&mut rb).await, ("news".into(), json!("not blue")));

    // Acks from both servers' clients.
    let answers: Vec<serde_json::Value> = a.timeout(WAIT).emit_with_ack("ask", "q").await.unwrap();
    assert_eq!(
        answers,
        vec![json!({"answer": "q"}), json!({"answer": "q"})]
    );

    // fetch_sockets: local and remote, with rooms and data.
    let sockets = a.fetch_sockets().await;
    assert_eq!(sockets.len(), 2);
    let remote = sockets.iter().find(|s| s.as_local().is_none()).unwrap();
    assert_eq!(remote.id(), cb.id().unwrap());
    assert_eq!(remote.data(), &json!({"name": "bob"}));
    let in_blue = b.to("blue").fetch_sockets().await;
    assert_eq!(in_blue.len(), 1);
    assert_eq!(in_blue[0].id(), ca.id().unwrap());
    assert!(in_blue[0].rooms().iter().any(|r| r == "blue"));

    // sockets_join across servers, then a room broadcast from the other one.
    a.sockets().sockets_join("green").await;
    eventually(|| async { b.to("green").local().fetch_sockets().await.len() == 1 }).await;
    a.to("green").emit("room-news", "green").unwrap();
    assert_eq!(recv(&mut ra).await, ("room-news".into(), json!("green")));
    assert_eq!(recv(&mut rb).await, ("room-news".into(), json!("green")));
    b.sockets().sockets_leave("green").await;
    eventually(|| async { a.to("green").fetch_sockets().await.is_empty() }).await;

    // server_side_emit, with and without answers.
    let (tx, mut got) = mpsc::unbounded_channel();
    b.sockets().on_server_side_emit("hello", move |args, ack| {
        let tx = tx.clone();
        async move {
            let _ = tx.send(args.clone());
            if let Some(ack) = ack {
                ack.send(json!({"from": "b", "args": args}));
            }
        }
    });
    a.server_side_emit("hello", vec![json!(1), json!("two")])
        .await
        .unwrap();
    assert_eq!(
        tokio::time::timeout(WAIT, got.recv())
            .await
            .unwrap()
            .unwrap(),
        vec![json!(1), json!("two")]
    );
    let answers = a
        .server_side_emit_with_ack("hello", vec![json!(3)])
        .await
        .unwrap();
    assert_eq!(answers, vec![json!({"from": "b", "args": [3]})]);

    // disconnect_sockets across servers.
    let (dtx, mut disconnected) = mpsc::unbounded_channel();
    cb.on_disconnect(move |_: socketio_client::Socket, _reason| {
        let dtx = dtx.clone();
        async move {
            let _ = dtx.send(());
        }
    });
    a.except("blue").disconnect_sockets(false).await;
    tokio::time::timeout(WAIT, disconnected.recv())
        .await
        .unwrap()
        .unwrap();
    assert!(ca.connected());
    assert_eq!(a.sockets().server_count().await, 2);
}
