//! Feature checks shared by the interop tests: each takes the URL of a server that has the
//! handlers of `e2e/server.mjs` (Node) or `rust_server.rs`'s `test_server` (ours).

#![allow(
    dead_code,
    unreachable_pub,
    clippy::unwrap_used,
    reason = "a module of test helpers; each test binary uses its own subset"
)]

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use bytes::Bytes;
use serde_json::{Value, json};
use socketio_client::{
    Ack, AckError, AllArgs, Client, Data, DisconnectReason, Manager, ManagerEvent, Parser, RawArgs,
    Socket, TransportKind,
};
use tokio::sync::mpsc;

/// A guard against hangs only: no test asserts on how long anything takes.
pub const PATIENCE: Duration = Duration::from_secs(20);

pub type BoxFut = Pin<Box<dyn Future<Output = ()> + Send>>;

pub async fn within<F: std::future::IntoFuture>(f: F) -> F::Output {
    tokio::time::timeout(PATIENCE, f.into_future())
        .await
        .expect("timed out")
}

pub async fn recv<T>(rx: &mut mpsc::UnboundedReceiver<T>) -> T {
    within(rx.recv()).await.expect("channel closed")
}

pub async fn echo_roundtrip(socket: &Socket) {
    let answer: Value = within(socket.emit_with_ack("echo", &json!({"hello": "world"})))
        .await
        .unwrap();
    assert_eq!(answer, json!({"hello": "world"}));
}

/// Long-polling first, then the upgrade to WebSocket, with traffic before and after.
pub async fn polling_then_websocket_upgrade(url: &str) {
    let socket = within(Client::connect(url)).await.unwrap();
    assert!(socket.connected());
    assert!(socket.id().is_some());
    echo_roundtrip(&socket).await;
    for _ in 0..500 {
        if socket.io().transport() == Some(TransportKind::WebSocket) {
            break;
        }
        echo_roundtrip(&socket).await;
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(socket.io().transport(), Some(TransportKind::WebSocket));
    let me: Value = within(socket.emit_with_ack("whoami", &())).await.unwrap();
    if let Some(transport) = me.get("transport") {
        assert_eq!(transport, "websocket");
    }
    echo_roundtrip(&socket).await;
}

/// Long-polling only, then WebSocket only.
pub async fn each_transport_alone(url: &str) {
    let polling = within(Client::builder(url).upgrade(false).connect())
        .await
        .unwrap();
    echo_roundtrip(&polling).await;
    assert_eq!(polling.io().transport(), Some(TransportKind::Polling));
    let ws = within(
        Client::builder(url)
            .transports([TransportKind::WebSocket])
            .connect(),
    )
    .await
    .unwrap();
    assert_eq!(ws.io().transport(), Some(TransportKind::WebSocket));
    echo_roundtrip(&ws).await;
}

/// Typed events both ways, acks both ways, binary in events and acks.
pub async fn events_acks_and_binary(url: &str, parser: Parser, transports: &[TransportKind]) {
    let socket = Client::builder(url)
        .parser(parser)
        .transports(transports.iter().copied())
        .socket()
        .unwrap();
    let (tx, mut rx) = mpsc::unbounded_channel();
    let events = tx.clone();
    socket.on(
        "echo-event",
        move |AllArgs(args): AllArgs<(String, u32, Bytes)>| {
            let events = events.clone();
            async move {
                let _ = events.send(format!("{} {} {:?}", args.0, args.1, &args.2[..]));
            }
        },
    );
    let answers = tx.clone();
    socket.on("answer", move |Data(answer): Data<String>| {
        let answers = answers.clone();
        async move {
            let _ = answers.send(answer);
        }
    });
    socket.on("question", |Data(q): Data<String>, ack: Ack| async move {
        assert!(ack.expected());
        let _ = ack.send(&format!("answer to {q}"));
    });
    within(socket.connect()).await.unwrap();
    socket
        .emit("echo-event", &("text", 7, Bytes::from_static(&[1, 2, 3])))
        .unwrap();
    assert_eq!(recv(&mut rx).await, "text 7 [1, 2, 3]");
    socket.emit("ask", &"life").unwrap();
    assert_eq!(recv(&mut rx).await, "answer to life");
    let answer: Bytes = within(socket.emit_with_ack("echo", &Bytes::from_static(b"\x00\xffbin")))
        .await
        .unwrap();
    assert_eq!(&answer[..], b"\x00\xffbin");
    let raw = within(
        socket
            .emit_with_ack::<_, Value>("echo", &(1, "two", [3]))
            .raw(),
    )
    .await
    .unwrap();
    assert_eq!(
        raw.to_values().unwrap(),
        vec![json!(1), json!("two"), json!([3])]
    );
}

/// Two namespaces over one Engine.IO connection.
pub async fn namespaces_share_one_connection(url: &str) {
    let manager: Manager = Client::builder(url).manager().unwrap();
    let main = manager.socket("/");
    let admin = manager.socket("/admin");
    within(main.connect()).await.unwrap();
    within(admin.connect()).await.unwrap();
    let a: Value = within(main.emit_with_ack("whoami", &())).await.unwrap();
    let b: Value = within(admin.emit_with_ack("whoami", &())).await.unwrap();
    assert_eq!(a["engine"], b["engine"], "one engine.io connection");
    assert_ne!(a["id"], b["id"]);
    assert_eq!(a["id"], json!(main.id()));
    admin.disconnect();
    echo_roundtrip(&main).await;
    assert!(!admin.connected());
}

/// A middleware's refusal (message and data), then auth payload, auth callback, query, header.
pub async fn auth_query_headers_and_connect_error(url: &str) {
    let error = within(Client::connect(&format!("{url}/private")))
        .await
        .unwrap_err();
    assert_eq!(error.message, "not authorized");
    assert_eq!(error.data, Some(json!({"code": 42})));
    let socket = within(
        Client::builder(format!("{url}/private?q=from-url"))
            .auth(json!({"token": "secret"}))
            .extra_header("x-test", "hdr")
            .connect(),
    )
    .await
    .unwrap();
    let me: Value = within(socket.emit_with_ack("whoami", &())).await.unwrap();
    assert_eq!(me["auth"], json!({"token": "secret"}));
    assert_eq!(me["query"], "from-url");
    assert_eq!(me["header"], "hdr");
    let calls = Arc::new(AtomicUsize::new(0));
    let counted = calls.clone();
    let socket = within(
        Client::builder(format!("{url}/private"))
            .auth_fn(move || {
                counted.fetch_add(1, Ordering::SeqCst);
                async { json!({"token": "secret"}) }
            })
            .connect(),
    )
    .await
    .unwrap();
    assert!(socket.connected());
    assert_eq!(calls.load(Ordering::SeqCst), 1);
}

/// `"io server disconnect"` (no reconnection), then `"io client disconnect"`.
pub async fn disconnect_reasons(url: &str) {
    let socket = Client::builder(format!("{url}/admin")).socket().unwrap();
    let (tx, mut rx) = mpsc::unbounded_channel();
    socket.on_disconnect(move |_, reason: DisconnectReason| {
        let tx = tx.clone();
        async move {
            let _ = tx.send(reason);
        }
    });
    within(socket.connect()).await.unwrap();
    socket.emit("kick", &()).unwrap();
    assert_eq!(recv(&mut rx).await, DisconnectReason::IoServerDisconnect);
    assert!(!socket.connected());
    within(socket.connect()).await.unwrap();
    assert!(socket.connected());
    socket.disconnect();
    assert_eq!(recv(&mut rx).await, DisconnectReason::IoClientDisconnect);
}

/// Catch-all listeners, `off`, `off_any`, and a volatile emit.
pub async fn on_any_off_and_volatile(url: &str) {
    let socket = within(Client::connect(url)).await.unwrap();
    let (tx, mut rx) = mpsc::unbounded_channel();
    let any = socket.on_any(move |_, event, args| {
        let _ = tx.send(format!("{event} {}", args.to_values().unwrap().len()));
    });
    let handled = Arc::new(AtomicUsize::new(0));
    let count = handled.clone();
    socket.on("echo-event", move |RawArgs(_): RawArgs| {
        count.fetch_add(1, Ordering::SeqCst);
        async {}
    });
    socket.emit("echo-event", &(1, 2)).unwrap();
    assert_eq!(recv(&mut rx).await, "echo-event 2");
    socket.off("echo-event");
    socket.off_any(Some(any));
    // Connected and idle: a volatile emit goes out; its echo comes back unheard.
    socket.volatile().emit("echo-event", &(1,)).unwrap();
    echo_roundtrip(&socket).await;
    tokio::task::yield_now().await;
    assert_eq!(handled.load(Ordering::SeqCst), 1);
    assert!(rx.try_recv().is_err());
}

/// `ack_timeout` and `timeout(..)`: `"operation has timed out"`.
pub async fn ack_timeout(url: &str) {
    let socket = within(
        Client::builder(url)
            .ack_timeout(Duration::from_millis(100))
            .connect(),
    )
    .await
    .unwrap();
    let result: Result<Value, _> = within(socket.emit_with_ack("never-ack", &())).await;
    assert!(matches!(result, Err(AckError::Timeout)), "{result:?}");
    assert_eq!(result.unwrap_err().to_string(), "operation has timed out");
    let result: Result<Value, _> = within(
        socket
            .timeout(Duration::from_millis(50))
            .emit_with_ack("never-ack", &()),
    )
    .await;
    assert!(matches!(result, Err(AckError::Timeout)));
    echo_roundtrip(&socket).await;
}

/// `retries` + `ack_timeout`: the server acknowledges every third try of `job`.
pub async fn retries_deliver_at_least_once(url: &str) {
    let socket = within(
        Client::builder(url)
            .retries(5)
            .ack_timeout(Duration::from_millis(100))
            .connect(),
    )
    .await
    .unwrap();
    let first = socket.emit_with_ack::<_, u32>("job", &1);
    socket.emit("job", &2).unwrap();
    let third = socket.emit_with_ack::<_, u32>("job", &3);
    assert_eq!(within(first).await.unwrap(), 1);
    assert_eq!(within(third).await.unwrap(), 3);
    // Out of tries: the timeout comes back (2 tries, the server wants 3).
    let socket = within(
        Client::builder(url)
            .retries(1)
            .ack_timeout(Duration::from_millis(50))
            .connect(),
    )
    .await
    .unwrap();
    let result = within(socket.emit_with_ack::<_, u32>("job", &9)).await;
    assert!(matches!(result, Err(AckError::Timeout)), "{result:?}");
}

/// The server goes away (`kill`) and comes back (`restart`): the client reconnects with
/// backoff, sends what it buffered offline (not the volatile emit), and with `retries` every
/// acknowledged job is acknowledged exactly as sent.
pub async fn reconnects_and_flushes_the_offline_buffer(
    url: &str,
    kill: impl FnOnce() -> BoxFut,
    restart: impl FnOnce() -> BoxFut,
) {
    let socket = Client::builder(url)
        .reconnection_delay(Duration::from_millis(50))
        .reconnection_delay_max(Duration::from_millis(200))
        .socket()
        .unwrap();
    let reliable = Client::builder(url)
        .reconnection_delay(Duration::from_millis(50))
        .reconnection_delay_max(Duration::from_millis(200))
        .retries(3)
        .ack_timeout(Duration::from_secs(5))
        .connect();
    let (tx, mut rx) = mpsc::unbounded_channel();
    let events = tx.clone();
    socket.on_disconnect(move |_, reason| {
        let events = events.clone();
        async move {
            let _ = events.send(format!("disconnect {reason}"));
        }
    });
    let events = tx.clone();
    socket.on_connect(move |_| {
        let events = events.clone();
        async move {
            let _ = events.send("connect".to_owned());
        }
    });
    let events = tx.clone();
    socket.on("echo-event", move |Data(n): Data<u32>| {
        let events = events.clone();
        async move {
            let _ = events.send(format!("echo {n}"));
        }
    });
    let attempts = Arc::new(AtomicUsize::new(0));
    let counted = attempts.clone();
    socket.io().on_event(move |event| {
        if let ManagerEvent::ReconnectAttempt(_) = event {
            counted.fetch_add(1, Ordering::SeqCst);
        }
    });
    within(socket.connect()).await.unwrap();
    let reliable = within(reliable).await.unwrap();
    assert_eq!(recv(&mut rx).await, "connect");
    let first_id = socket.id();
    let before: Vec<_> = (0..3)
        .map(|n| reliable.emit_with_ack::<_, u32>("job-ok", &n))
        .collect();
    kill().await;
    let reason = recv(&mut rx).await;
    assert!(
        reason == "disconnect transport close" || reason == "disconnect transport error",
        "{reason}"
    );
    assert!(!socket.connected());
    socket.volatile().emit("echo-event", &0).unwrap();
    socket.emit("echo-event", &1).unwrap();
    socket.emit("echo-event", &2).unwrap();
    let acked = socket.emit_with_ack::<_, u32>("echo", &3);
    let during: Vec<_> = (3..6)
        .map(|n| reliable.emit_with_ack::<_, u32>("job-ok", &n))
        .collect();
    restart().await;
    assert_eq!(recv(&mut rx).await, "connect");
    assert_eq!(recv(&mut rx).await, "echo 1");
    assert_eq!(recv(&mut rx).await, "echo 2");
    assert_eq!(within(acked).await.unwrap(), 3);
    assert!(attempts.load(Ordering::SeqCst) >= 1);
    assert_ne!(socket.id(), first_id);
    assert!(!socket.recovered());
    for (n, job) in before.into_iter().chain(during).enumerate() {
        assert_eq!(within(job).await.unwrap(), n as u32, "job {n} acknowledged");
    }
}
