//! Our client against our own server (`socketio-server`): every feature, over each transport.
//! No Node.js needed.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use bytes::Bytes;
use serde_json::{Value, json};
use socketio_client::{
    AckError, AllArgs, Client, Data, DisconnectReason, Manager, ManagerEvent, Parser, RawArgs,
    Socket, TransportKind,
};
use socketio_server as server;
use tokio::net::TcpListener;
use tokio::sync::mpsc;

/// A guard against hangs only: no test asserts on how long anything takes.
const PATIENCE: Duration = Duration::from_secs(20);

async fn within<F: std::future::IntoFuture>(f: F) -> F::Output {
    tokio::time::timeout(PATIENCE, f.into_future())
        .await
        .expect("timed out")
}

async fn recv<T>(rx: &mut mpsc::UnboundedReceiver<T>) -> T {
    within(rx.recv()).await.expect("channel closed")
}

/// Serves `io` on an OS-assigned port (or `port`), returning its URL.
async fn serve_on(io: &server::Server, port: u16) -> String {
    let listener = TcpListener::bind(("127.0.0.1", port)).await.unwrap();
    let addr = listener.local_addr().unwrap();
    let io = io.clone();
    tokio::spawn(async move { io.serve(listener).await });
    format!("http://{addr}")
}

/// A server with the handlers the tests use.
fn test_server(parser: Parser) -> server::Server {
    let io = server::Server::builder().parser(parser).build();
    let handlers = |socket: server::Socket| async move {
        socket.on(
            "echo",
            |server::RawArgs(args): server::RawArgs, ack: server::Ack| async move {
                let _ = ack.send_raw(&args);
            },
        );
        socket.on(
            "echo-event",
            |socket: server::Socket, server::RawArgs(args): server::RawArgs| async move {
                let _ = socket.emit_raw("echo-event", &args);
            },
        );
        socket.on(
            "ask",
            |socket: server::Socket, server::Data(question): server::Data<String>| async move {
                let answer: Result<String, _> = socket
                    .emit_with_ack("question", &(question,))
                    .timeout(Duration::from_secs(10))
                    .await;
                let _ = socket.emit("answer", &(answer.unwrap_or_else(|e| e.to_string()),));
            },
        );
        socket.on("whoami", |socket: server::Socket, ack: server::Ack| async move {
            let _ = ack.send(&json!({
                "id": socket.id(),
                "engine": socket.engine_id(),
                "auth": socket.handshake().auth(),
                "query": socket.handshake().query("q"),
                "header": socket.handshake().headers().get("x-test").and_then(|v| v.to_str().ok()),
            }));
        });
        socket.on("kick", |socket: server::Socket| async move {
            socket.disconnect(false);
        });
        socket.on("never-ack", |_: server::Socket| async move {});
    };
    io.on_connection(handlers);
    io.of("/admin").on_connection(handlers);
    io.of("/private").use_middleware(|socket: server::Socket| async move {
        if socket.handshake().auth()["token"] == "secret" {
            Ok(())
        } else {
            Err(server::ConnectError::new("not authorized").with_data(json!({"code": 42})))
        }
    });
    io.of("/private").on_connection(handlers);
    io
}

async fn echo_roundtrip(socket: &Socket) {
    let answer: Value = within(socket.emit_with_ack("echo", &json!({"hello": "world"})))
        .await
        .unwrap();
    assert_eq!(answer, json!({"hello": "world"}));
}

#[tokio::test]
async fn polling_then_websocket_upgrade() {
    let io = test_server(Parser::Json);
    let url = serve_on(&io, 0).await;
    let socket = within(Client::connect(&url)).await.unwrap();
    assert!(socket.connected());
    assert!(socket.id().is_some());
    echo_roundtrip(&socket).await;
    // The upgrade completes in the background; traffic keeps flowing through it.
    for _ in 0..200 {
        if socket.io().transport() == Some(TransportKind::WebSocket) {
            break;
        }
        echo_roundtrip(&socket).await;
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(socket.io().transport(), Some(TransportKind::WebSocket));
    echo_roundtrip(&socket).await;
}

#[tokio::test]
async fn each_transport_alone() {
    let io = test_server(Parser::Json);
    let url = serve_on(&io, 0).await;
    let polling = within(Client::builder(&url).upgrade(false).connect()).await.unwrap();
    echo_roundtrip(&polling).await;
    assert_eq!(polling.io().transport(), Some(TransportKind::Polling));
    let ws = within(Client::builder(&url).transports([TransportKind::WebSocket]).connect())
        .await
        .unwrap();
    assert_eq!(ws.io().transport(), Some(TransportKind::WebSocket));
    echo_roundtrip(&ws).await;
}

async fn events_acks_and_binary(parser: Parser, transports: &[TransportKind]) {
    let io = test_server(parser);
    let url = serve_on(&io, 0).await;
    let socket = Client::builder(&url)
        .parser(parser)
        .transports(transports.iter().copied())
        .socket()
        .unwrap();
    let (tx, mut rx) = mpsc::unbounded_channel();
    let events = tx.clone();
    socket.on("echo-event", move |AllArgs(args): AllArgs<(String, u32, Bytes)>| {
        let events = events.clone();
        async move {
            let _ = events.send(format!("{} {} {:?}", args.0, args.1, &args.2[..]));
        }
    });
    let answers = tx.clone();
    socket.on("answer", move |Data(answer): Data<String>| {
        let answers = answers.clone();
        async move {
            let _ = answers.send(answer);
        }
    });
    socket.on("question", |Data(q): Data<String>, ack: socketio_client::Ack| async move {
        assert!(ack.expected());
        let _ = ack.send(&format!("answer to {q}"));
    });
    within(socket.connect()).await.unwrap();
    // Server to client, typed, with binary.
    socket
        .emit("echo-event", &("text", 7, Bytes::from_static(&[1, 2, 3])))
        .unwrap();
    assert_eq!(recv(&mut rx).await, "text 7 [1, 2, 3]");
    // Client acknowledges a server's emit_with_ack.
    socket.emit("ask", &"life").unwrap();
    assert_eq!(recv(&mut rx).await, "answer to life");
    // Binary in an acknowledgement.
    let answer: Bytes = within(socket.emit_with_ack("echo", &Bytes::from_static(b"\x00\xffbin")))
        .await
        .unwrap();
    assert_eq!(&answer[..], b"\x00\xffbin");
    // Several arguments back as raw arguments.
    let raw = within(socket.emit_with_ack::<_, Value>("echo", &(1, "two", [3])).raw())
        .await
        .unwrap();
    assert_eq!(raw.to_values().unwrap(), vec![json!(1), json!("two"), json!([3])]);
}

#[tokio::test]
async fn json_events_acks_binary_polling() {
    events_acks_and_binary(Parser::Json, &[TransportKind::Polling]).await;
}

#[tokio::test]
async fn json_events_acks_binary_websocket() {
    events_acks_and_binary(Parser::Json, &[TransportKind::WebSocket]).await;
}

#[tokio::test]
async fn msgpack_events_acks_binary() {
    events_acks_and_binary(Parser::Msgpack, &[TransportKind::Polling]).await;
    events_acks_and_binary(Parser::Msgpack, &[TransportKind::WebSocket]).await;
}

#[tokio::test]
async fn namespaces_share_one_connection() {
    let io = test_server(Parser::Json);
    let url = serve_on(&io, 0).await;
    let manager: Manager = Client::builder(&url).manager().unwrap();
    let main = manager.socket("/");
    let admin = manager.socket("/admin");
    within(main.connect()).await.unwrap();
    within(admin.connect()).await.unwrap();
    let a: Value = within(main.emit_with_ack("whoami", &())).await.unwrap();
    let b: Value = within(admin.emit_with_ack("whoami", &())).await.unwrap();
    assert_eq!(a["engine"], b["engine"], "one engine.io connection");
    assert_ne!(a["id"], b["id"]);
    assert_eq!(a["id"], json!(main.id()));
    // Leaving one namespace keeps the other.
    admin.disconnect();
    echo_roundtrip(&main).await;
    assert!(!admin.connected());
}

#[tokio::test]
async fn auth_query_headers_and_connect_error() {
    let io = test_server(Parser::Json);
    let url = serve_on(&io, 0).await;
    // Refused, with the server's message and data.
    let error = within(Client::connect(&format!("{url}/private"))).await.unwrap_err();
    assert_eq!(error.message, "not authorized");
    assert_eq!(error.data, Some(json!({"code": 42})));
    // Accepted with a static auth payload, query and header.
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
    // An auth callback, asked at each connection.
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

#[tokio::test]
async fn unreachable_server_is_a_connect_error() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let error = within(Client::builder(&url).reconnection(false).connect())
        .await
        .unwrap_err();
    assert_eq!(error.message.split(':').next(), Some("xhr poll error"));
    let error = within(
        Client::builder(&url)
            .transports([TransportKind::WebSocket])
            .reconnection(false)
            .connect(),
    )
    .await
    .unwrap_err();
    assert_eq!(error.message, "websocket error");
}

#[tokio::test]
async fn disconnect_reasons() {
    let io = test_server(Parser::Json);
    let (server_tx, mut server_rx) = mpsc::unbounded_channel();
    io.of("/admin").on_connection(move |socket: server::Socket| {
        let server_tx = server_tx.clone();
        async move {
            socket.on_disconnect(move |_, reason: server::DisconnectReason| {
                let server_tx = server_tx.clone();
                async move {
                    let _ = server_tx.send(reason.as_str());
                }
            });
        }
    });
    let url = serve_on(&io, 0).await;
    let socket = Client::builder(format!("{url}/admin")).socket().unwrap();
    let (tx, mut rx) = mpsc::unbounded_channel();
    socket.on_disconnect(move |_, reason: DisconnectReason| {
        let tx = tx.clone();
        async move {
            let _ = tx.send(reason);
        }
    });
    within(socket.connect()).await.unwrap();
    // The server kicks: no reconnection.
    socket.emit("kick", &()).unwrap();
    assert_eq!(recv(&mut rx).await, DisconnectReason::IoServerDisconnect);
    assert_eq!(recv(&mut server_rx).await, "server namespace disconnect");
    assert!(!socket.connected());
    // Connect again by hand, then leave from this side.
    within(socket.connect()).await.unwrap();
    socket.disconnect();
    assert_eq!(recv(&mut rx).await, DisconnectReason::IoClientDisconnect);
    assert_eq!(recv(&mut server_rx).await, "client namespace disconnect");
}

#[tokio::test]
async fn on_any_off_and_volatile() {
    let io = test_server(Parser::Json);
    let url = serve_on(&io, 0).await;
    let socket = within(Client::connect(&url)).await.unwrap();
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
    // A last round trip proves the server's echo of the next emit came and went unheard.
    socket.volatile().emit("echo-event", &(1,)).unwrap();
    echo_roundtrip(&socket).await;
    tokio::task::yield_now().await;
    assert_eq!(handled.load(Ordering::SeqCst), 1);
    assert!(rx.try_recv().is_err());
}

#[tokio::test]
async fn ack_timeout() {
    let io = test_server(Parser::Json);
    let url = serve_on(&io, 0).await;
    let socket = within(Client::builder(&url).ack_timeout(Duration::from_millis(100)).connect())
        .await
        .unwrap();
    let result: Result<Value, _> = within(socket.emit_with_ack("never-ack", &())).await;
    assert!(matches!(result, Err(AckError::Timeout)), "{result:?}");
    let result: Result<Value, _> = within(
        socket
            .timeout(Duration::from_millis(50))
            .emit_with_ack("never-ack", &()),
    )
    .await;
    assert!(matches!(result, Err(AckError::Timeout)));
    echo_roundtrip(&socket).await;
}

/// Serves a fresh server on `port` after the old one was shut down.
async fn restart(port: u16, io: server::Server) -> server::Server {
    loop {
        match TcpListener::bind(("127.0.0.1", port)).await {
            Ok(listener) => {
                let served = io.clone();
                tokio::spawn(async move { served.serve(listener).await });
                return io;
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
        }
    }
}

#[tokio::test]
async fn reconnects_and_flushes_the_offline_buffer() {
    let io = test_server(Parser::Json);
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let served = io.clone();
    let serving = tokio::spawn(async move { served.serve(listener).await });
    let socket = Client::builder(format!("http://127.0.0.1:{port}"))
        .reconnection_delay(Duration::from_millis(50))
        .reconnection_delay_max(Duration::from_millis(200))
        .socket()
        .unwrap();
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
    assert_eq!(recv(&mut rx).await, "connect");
    let first_id = socket.id();
    // The server goes away.
    io.close();
    serving.abort();
    assert!(recv(&mut rx).await.starts_with("disconnect transport"));
    // Offline: buffered, then sent after the reconnection (the volatile one is dropped).
    socket.volatile().emit("echo-event", &0).unwrap();
    socket.emit("echo-event", &1).unwrap();
    socket.emit("echo-event", &2).unwrap();
    let acked = socket.emit_with_ack::<_, u32>("echo", &3);
    let _io = restart(port, test_server(Parser::Json)).await;
    assert_eq!(recv(&mut rx).await, "connect");
    assert_eq!(recv(&mut rx).await, "echo 1");
    assert_eq!(recv(&mut rx).await, "echo 2");
    assert_eq!(within(acked).await.unwrap(), 3);
    assert!(attempts.load(Ordering::SeqCst) >= 1);
    assert_ne!(socket.id(), first_id);
    assert!(!socket.recovered());
}

#[tokio::test]
async fn retries_deliver_at_least_once() {
    let io = server::Server::new();
    // The server ignores the first two tries of each event, then acknowledges.
    let seen = Arc::new(std::sync::Mutex::new(Vec::<u32>::new()));
    let log = seen.clone();
    io.on_connection(move |socket: server::Socket| {
        let log = log.clone();
        async move {
            let tries = Arc::new(AtomicUsize::new(0));
            socket.on("job", move |server::Data(n): server::Data<u32>, ack: server::Ack| {
                let log = log.clone();
                let tries = tries.clone();
                async move {
                    log.lock().unwrap().push(n);
                    if tries.fetch_add(1, Ordering::SeqCst) % 3 == 2 {
                        let _ = ack.send(&n);
                    }
                }
            });
        }
    });
    let url = serve_on(&io, 0).await;
    let socket = within(
        Client::builder(&url)
            .retries(5)
            .ack_timeout(Duration::from_millis(100))
            .connect(),
    )
    .await
    .unwrap();
    let first = socket.emit_with_ack::<_, u32>("job", &1);
    socket.emit("job", &2).unwrap();
    assert_eq!(within(first).await.unwrap(), 1);
    let third: u32 = within(socket.emit_with_ack("job", &3)).await.unwrap();
    assert_eq!(third, 3);
    // One at a time, in order: three tries of each.
    assert_eq!(*seen.lock().unwrap(), [1, 1, 1, 2, 2, 2, 3, 3, 3]);
    // Out of tries: the error comes back.
    let socket = within(
        Client::builder(&url)
            .retries(1)
            .ack_timeout(Duration::from_millis(50))
            .connect(),
    )
    .await
    .unwrap();
    seen.lock().unwrap().clear();
    let result = within(socket.emit_with_ack::<_, u32>("job", &9)).await;
    assert!(matches!(result, Err(AckError::Timeout)), "{result:?}");
    assert_eq!(*seen.lock().unwrap(), [9, 9]);
}
