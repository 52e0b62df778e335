//! Our client against our own server (`socketio-server`): every feature, over each transport.
//! No Node.js needed.

#![allow(clippy::unwrap_used, reason = "tests")]

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use common::*;
use serde_json::json;
use socketio_client::{Client, Parser, TransportKind};
use socketio_server as server;
use tokio::net::TcpListener;
use tokio::sync::mpsc;

/// Serves `io` on `listener`, returning its URL.
fn serve(io: &server::Server, listener: TcpListener) -> (String, tokio::task::JoinHandle<()>) {
    let addr = listener.local_addr().unwrap();
    let io = io.clone();
    let task = tokio::spawn(async move {
        let _ = io.serve(listener).await;
    });
    (format!("http://{addr}"), task)
}

async fn start(parser: Parser) -> (server::Server, String) {
    let io = test_server(parser);
    let (url, _) = serve(&io, TcpListener::bind("127.0.0.1:0").await.unwrap());
    (io, url)
}

/// A server with the handlers of `e2e/server.mjs`.
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
        socket.on(
            "whoami",
            |socket: server::Socket, ack: server::Ack| async move {
                let _ = ack.send(&json!({
                "id": socket.id(),
                "engine": socket.engine_id(),
                "auth": socket.handshake().auth(),
                "query": socket.handshake().query("q"),
                "header": socket.handshake().headers().get("x-test").and_then(|v| v.to_str().ok()),
            }));
            },
        );
        socket.on("kick", |socket: server::Socket| async move {
            socket.disconnect(false);
        });
        socket.on("never-ack", |_: server::Socket| async move {});
        let tries = Arc::new(AtomicUsize::new(0));
        socket.on(
            "job",
            move |server::Data(n): server::Data<u32>, ack: server::Ack| {
                let acked = tries.fetch_add(1, Ordering::SeqCst) % 3 == 2;
                async move {
                    if acked {
                        let _ = ack.send(&n);
                    }
                }
            },
        );
        socket.on(
            "job-ok",
            |server::Data(n): server::Data<u32>, ack: server::Ack| async move {
                let _ = ack.send(&n);
            },
        );
    };
    io.on_connection(handlers);
    io.of("/admin").on_connection(handlers);
    io.of("/private")
        .use_middleware(|socket: server::Socket| async move {
            if socket.handshake().auth()["token"] == "secret" {
                Ok(())
            } else {
                Err(server::ConnectError::new("not authorized").with_data(json!({"code": 42})))
            }
        });
    io.of("/private").on_connection(handlers);
    io
}

#[tokio::test]
async fn polling_then_websocket_upgrade() {
    let (_io, url) = start(Parser::Json).await;
    common::polling_then_websocket_upgrade(&url).await;
}

#[tokio::test]
async fn each_transport_alone() {
    let (_io, url) = start(Parser::Json).await;
    common::each_transport_alone(&url).await;
}

#[tokio::test]
async fn json_events_acks_binary() {
    let (_io, url) = start(Parser::Json).await;
    events_acks_and_binary(&url, Parser::Json, &[TransportKind::Polling]).await;
    events_acks_and_binary(&url, Parser::Json, &[TransportKind::WebSocket]).await;
}

#[tokio::test]
async fn msgpack_events_acks_binary() {
    let (_io, url) = start(Parser::Msgpack).await;
    events_acks_and_binary(&url, Parser::Msgpack, &[TransportKind::Polling]).await;
    events_acks_and_binary(&url, Parser::Msgpack, &[TransportKind::WebSocket]).await;
}

#[tokio::test]
async fn namespaces_share_one_connection() {
    let (_io, url) = start(Parser::Json).await;
    common::namespaces_share_one_connection(&url).await;
}

#[tokio::test]
async fn auth_query_headers_and_connect_error() {
    let (_io, url) = start(Parser::Json).await;
    common::auth_query_headers_and_connect_error(&url).await;
}

#[tokio::test]
async fn disconnect_reasons() {
    let (io, url) = start(Parser::Json).await;
    let (tx, mut server_rx) = mpsc::unbounded_channel();
    io.of("/admin")
        .on_connection(move |socket: server::Socket| {
            let tx = tx.clone();
            async move {
                socket.on_disconnect(move |_, reason: server::DisconnectReason| {
                    let tx = tx.clone();
                    async move {
                        let _ = tx.send(reason.as_str());
                    }
                });
            }
        });
    common::disconnect_reasons(&url).await;
    // The server saw both sides' reasons.
    assert_eq!(recv(&mut server_rx).await, "server namespace disconnect");
    assert_eq!(recv(&mut server_rx).await, "client namespace disconnect");
}

#[tokio::test]
async fn on_any_off_and_volatile() {
    let (_io, url) = start(Parser::Json).await;
    common::on_any_off_and_volatile(&url).await;
}

#[tokio::test]
async fn ack_timeout() {
    let (_io, url) = start(Parser::Json).await;
    common::ack_timeout(&url).await;
}

#[tokio::test]
async fn retries_deliver_at_least_once() {
    let (_io, url) = start(Parser::Json).await;
    common::retries_deliver_at_least_once(&url).await;
}

#[tokio::test]
async fn unreachable_server_is_a_connect_error() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let error = within(Client::builder(&url).reconnection(false).connect())
        .await
        .unwrap_err();
    assert_eq!(error.message, "xhr poll error");
    assert!(error.data.is_some());
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
async fn reconnects_and_flushes_the_offline_buffer() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let io = test_server(Parser::Json);
    let (url, serving) = serve(&io, listener);
    let kill = move || -> BoxFut {
        Box::pin(async move {
            io.close();
            serving.abort();
        })
    };
    let restart = move || -> BoxFut {
        Box::pin(async move {
            loop {
                if let Ok(listener) = TcpListener::bind(("127.0.0.1", port)).await {
                    let io = test_server(Parser::Json);
                    let _ = serve(&io, listener);
                    // Keep the new server for the rest of the test.
                    std::mem::forget(io);
                    return;
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
    };
    common::reconnects_and_flushes_the_offline_buffer(&url, kill, restart).await;
}

#[tokio::test]
async fn connection_state_recovery() {
    let io = server::Server::builder()
        .connection_state_recovery(server::RecoveryConfig::default())
        .build();
    let broadcaster = io.clone();
    io.on_connection(move |socket: server::Socket| {
        let io = broadcaster.clone();
        async move {
            socket.on(
                "echo",
                |server::RawArgs(args): server::RawArgs, ack: server::Ack| async move {
                    let _ = ack.send_raw(&args);
                },
            );
            // Ends the engine.io connection as a network failure would (recoverable).
            let engine = io.clone();
            socket.on("close-transport", move |socket: server::Socket| {
                if let Some(conn) = engine.engine().socket(socket.engine_id()) {
                    conn.close();
                }
                async {}
            });
            socket.on_disconnect(move |_, reason: server::DisconnectReason| {
                let _ = io.emit("missed", &(format!("while away ({reason})"),));
                async {}
            });
            let _ = socket.emit("hello", &("welcome",));
        }
    });
    let (url, _) = serve(&io, TcpListener::bind("127.0.0.1:0").await.unwrap());
    let socket = Client::builder(&url)
        .reconnection_delay(Duration::from_millis(50))
        .socket()
        .unwrap();
    let (tx, mut rx) = mpsc::unbounded_channel();
    for event in ["hello", "missed"] {
        let tx = tx.clone();
        socket.on(
            event,
            move |socketio_client::Data(text): socketio_client::Data<String>| {
                let tx = tx.clone();
                async move {
                    let _ = tx.send(text);
                }
            },
        );
    }
    let events = tx.clone();
    socket.on_disconnect(move |_, reason| {
        let events = events.clone();
        async move {
            let _ = events.send(format!("disconnect {reason}"));
        }
    });
    let events = tx.clone();
    socket.on_connect(move |socket| {
        let events = events.clone();
        async move {
            let _ = events.send(format!("connect recovered={}", socket.recovered()));
        }
    });
    within(socket.connect()).await.unwrap();
    assert_eq!(recv(&mut rx).await, "connect recovered=false");
    assert_eq!(recv(&mut rx).await, "welcome");
    let id = socket.id();
    socket.emit("close-transport", &()).unwrap();
    assert!(recv(&mut rx).await.starts_with("disconnect transport"));
    // The missed broadcast first (replayed before the CONNECT answer), then `connect`.
    assert_eq!(recv(&mut rx).await, "while away (forced close)");
    assert_eq!(recv(&mut rx).await, "connect recovered=true");
    assert_eq!(recv(&mut rx).await, "welcome");
    assert!(socket.recovered());
    assert_eq!(socket.id(), id);
    echo_roundtrip(&socket).await;
}

#[tokio::test]
async fn reconnection_gives_up_after_its_attempts() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let socket = Client::builder(&url)
        .reconnection_attempts(2)
        .reconnection_delay(Duration::from_millis(10))
        .reconnection_delay_max(Duration::from_millis(20))
        .socket()
        .unwrap();
    let (tx, mut rx) = mpsc::unbounded_channel();
    let events = tx.clone();
    socket.io().on_event(move |event| {
        let _ = events.send(format!("{event:?}"));
    });
    socket.on_connect_error(move |_, error| {
        let tx = tx.clone();
        async move {
            let _ = tx.send(format!("connect_error {}", error.message));
        }
    });
    let first = within(socket.connect()).await.unwrap_err();
    assert_eq!(first.message, "xhr poll error");
    let mut seen = Vec::new();
    loop {
        let event = recv(&mut rx).await;
        let done = event == "ReconnectFailed";
        seen.push(event);
        if done {
            break;
        }
    }
    // As in Node, the last attempt's error is reported after `reconnect_failed`.
    assert!(recv(&mut rx).await.starts_with("ReconnectError"));
    seen.push("ReconnectError".into());
    let attempts = seen
        .iter()
        .filter(|e| e.starts_with("ReconnectAttempt"))
        .count();
    let errors = seen
        .iter()
        .filter(|e| e.starts_with("ReconnectError"))
        .count();
    let connect_errors = seen
        .iter()
        .filter(|e| *e == "connect_error xhr poll error")
        .count();
    assert_eq!((attempts, errors, connect_errors), (2, 2, 3), "{seen:?}");
    assert!(!socket.connected());
}

#[tokio::test]
async fn a_handshake_that_never_comes_times_out() {
    // Accepts connections and never answers.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let _silent = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((stream, _)) = listener.accept().await {
            held.push(stream);
        }
    });
    let error = within(
        Client::builder(&url)
            .timeout(Duration::from_millis(100))
            .reconnection(false)
            .connect(),
    )
    .await
    .unwrap_err();
    assert_eq!(error.message, "timeout");
}

#[tokio::test]
async fn dropping_every_handle_closes_the_connection() {
    let (io, url) = start(Parser::Json).await;
    let (tx, mut rx) = mpsc::unbounded_channel();
    io.on_connection(move |socket: server::Socket| {
        let tx = tx.clone();
        async move {
            socket.on_disconnect(move |_, reason: server::DisconnectReason| {
                let _ = tx.send(reason.as_str());
                async {}
            });
        }
    });
    for transports in [
        &[TransportKind::Polling][..],
        &[TransportKind::WebSocket][..],
    ] {
        let socket = within(
            Client::builder(&url)
                .transports(transports.iter().copied())
                .connect(),
        )
        .await
        .unwrap();
        echo_roundtrip(&socket).await;
        drop(socket);
        let reason = recv(&mut rx).await;
        assert!(
            reason == "transport close" || reason == "client namespace disconnect",
            "{reason}"
        );
    }
}

#[tokio::test]
async fn a_panicking_handler_does_not_break_the_connection() {
    let (_io, url) = start(Parser::Json).await;
    let socket = within(Client::connect(&url)).await.unwrap();
    socket.on(
        "echo-event",
        |socketio_client::Data(n): socketio_client::Data<u32>| async move {
            assert!(n != 1, "handler bug");
        },
    );
    socket.on_any(|_, _, args| {
        assert!(args.to_values().unwrap()[0] != 1, "listener bug");
    });
    socket.emit("echo-event", &1).unwrap();
    echo_roundtrip(&socket).await;
    assert!(socket.connected());
}
