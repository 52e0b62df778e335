//! Catch-all listeners, disconnections and their reasons, namespaces (static, dynamic, cleanup,
//! unknown), namespace middlewares, connect_timeout.

use std::time::Duration;

use serde_json::{Value, json};
use socketio_server::{Ack, Args, ConnectError, Data, Server, Socket};

use crate::support::{ALL, Log, Variant, each_variant, node, serve};

fn values(args: &Args) -> Value {
    Value::from(args.to_values().unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Node.js and `npm ci` in crates/socketio-server/e2e"]
async fn catch_all_listeners() {
    each_variant(ALL, |variant| async move {
        let log = Log::default();
        let io = variant.builder().build();
        let l = log.clone();
        io.on_connection(move |socket: Socket| {
            let log = l.clone();
            socket.on_any(move |_, event, args| log.push(format!("any1 {event} {}", values(args))));
            let log = l.clone();
            socket.prepend_any(move |_, event, _| log.push(format!("any0 {event}")));
            let log = l.clone();
            let any2 = socket.on_any(move |_, event, _| log.push(format!("any2 {event}")));
            let log = l.clone();
            socket.on_any_outgoing(move |_, event, args| {
                log.push(format!("out {event} {}", values(args)));
            });
            socket.use_middleware(|_, event, _| match event {
                "refused" => Err("refused".into()),
                _ => Ok(()),
            });
            socket.on("emit-to-me", |socket: Socket, ack: Ack| async move {
                socket.emit("to-client", &(1, "x")).unwrap();
                socket.namespace().emit("to-all", &("y",)).unwrap();
                ack.send(&("ack-arg",)).unwrap();
            });
            socket.on("off-any2", move |socket: Socket, ack: Ack| async move {
                socket.off_any(Some(any2));
                ack.send(&()).unwrap();
            });
            socket.on("off-all", |socket: Socket, ack: Ack| async move {
                socket.off_any(None);
                ack.send(&()).unwrap();
            });
            socket.on("off-outgoing", |socket: Socket, ack: Ack| async move {
                socket.off_any_outgoing(None);
                ack.send(&()).unwrap();
                socket.emit("after-off", &()).unwrap();
            });
            socket.on("done", |ack: Ack| async move { ack.send(&()).unwrap() });
            async {}
        });
        let addr = serve(&io).await;
        node("any", addr, variant, json!({})).await;
        assert_eq!(
            log.entries(),
            [
                "any0 e1",
                "any1 e1 [1,2]",
                "any2 e1",
                "any0 emit-to-me",
                "any1 emit-to-me []",
                "any2 emit-to-me",
                r#"out to-client [1,"x"]"#,
                r#"out to-all ["y"]"#,
                "any0 refused",
                "any1 refused [true]",
                "any2 refused",
                "any0 off-any2",
                "any1 off-any2 []",
                "any2 off-any2",
                "any0 e2",
                "any1 e2 []",
                "any0 off-all",
                "any1 off-all []",
            ]
        );
    })
    .await;
}

fn tag(socket: &Socket) -> String {
    socket.handshake().auth()["tag"]
        .as_str()
        .unwrap_or("?")
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Node.js and `npm ci` in crates/socketio-server/e2e"]
async fn disconnect_reasons() {
    each_variant(ALL, |variant| async move {
        let log = Log::default();
        let io = variant.builder().build();
        for nsp in ["/", "/admin"] {
            let l = log.clone();
            let server = io.clone();
            io.of(nsp).on_connection(move |socket: Socket| {
                let room = format!("room-{}", tag(&socket));
                socket.join(room.clone());
                let log = l.clone();
                let r = room.clone();
                socket.on_disconnecting(move |socket: Socket, reason| {
                    log.push(format!(
                        "disconnecting {} {} {reason} in room: {}",
                        socket.namespace().name(),
                        tag(&socket),
                        socket.in_room(&r)
                    ));
                    async {}
                });
                let log = l.clone();
                socket.on_disconnect(move |socket: Socket, reason| {
                    log.push(format!(
                        "disconnect {} {} {reason} in room: {}, connected: {}",
                        socket.namespace().name(),
                        tag(&socket),
                        socket.in_room(&room),
                        socket.connected()
                    ));
                    async {}
                });
                socket.on(
                    "kick",
                    |socket: Socket| async move { socket.disconnect(false) },
                );
                socket.on("kick-close", |socket: Socket| async move {
                    socket.disconnect(true)
                });
                socket.on("still-there", |socket: Socket, ack: Ack| async move {
                    ack.send(&socket.connected()).unwrap();
                });
                let server = server.clone();
                socket.on("shutdown", move || {
                    server.close();
                    async {}
                });
                async {}
            });
        }
        let addr = serve(&io).await;
        let report = node("disconnect", addr, variant, json!({})).await;
        let expected = [
            ("/", "kick", "server namespace disconnect"),
            ("/", "close", "server namespace disconnect"),
            ("/admin", "close-admin", "server namespace disconnect"),
            ("/", "client", "client namespace disconnect"),
            ("/", "transport", "transport close"),
            ("/", "shutdown", "server shutting down"),
            ("/admin", "kick-admin", "server shutting down"),
        ];
        for (nsp, tag, reason) in expected {
            log.wait_for(&format!(
                "disconnect {nsp} {tag} {reason} in room: false, connected: false"
            ))
            .await;
            let disconnecting = format!("disconnecting {nsp} {tag} {reason} in room: true");
            assert!(
                log.entries().contains(&disconnecting),
                "{disconnecting}: {:#?}",
                log.entries()
            );
        }
        assert_eq!(
            log.entries().len(),
            2 * expected.len(),
            "{:#?}",
            log.entries()
        );
        // As with Node: a close packet when a GET is held or on WebSocket, else the next
        // request fails.
        for reason in report["shutdown"].as_array().unwrap() {
            assert!(
                reason == "transport close" || reason == "transport error",
                "{reason}"
            );
        }
    })
    .await;
}

fn names(mut names: Vec<String>) -> Value {
    names.sort();
    json!(names)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Node.js and `npm ci` in crates/socketio-server/e2e"]
async fn namespaces_and_middlewares() {
    each_variant(ALL, |variant| async move {
        let log = Log::default();
        let io = variant
            .builder()
            .cleanup_empty_child_namespaces(true)
            .build();
        let welcome = |socket: Socket| async move {
            let nsp = socket.namespace().name().to_owned();
            let auth = socket.handshake().auth().clone();
            socket
                .emit("welcome", &json!({ "nsp": nsp, "auth": auth }))
                .unwrap();
        };
        let dynamic = io.of_dynamic(|name, _auth| name.starts_with("/dyn-"));
        let teams = io.of_dynamic(|name, auth| {
            name.strip_prefix("/team-")
                .is_some_and(|team| auth["team"].as_str() == Some(team))
        });
        io.of("/admin").on_connection(welcome);
        dynamic.on_connection(welcome);
        teams.on_connection(welcome);
        let l = log.clone();
        dynamic.use_middleware(move |socket: Socket| {
            let log = l.clone();
            async move {
                log.push(format!("dynamic middleware {}", socket.namespace().name()));
                if socket.namespace().name() == "/dyn-forbidden" {
                    return Err(ConnectError::new("forbidden namespace"));
                }
                Ok(())
            }
        });
        let private = io.of("/private");
        let l = log.clone();
        private.use_middleware(move |socket: Socket| {
            l.push("private middleware 1");
            socket.join("pre");
            socket.set_data("from middleware".to_owned());
            async { Ok(()) }
        });
        let l = log.clone();
        private.use_middleware(move |socket: Socket| {
            let log = l.clone();
            async move {
                tokio::time::sleep(Duration::from_millis(5)).await;
                if socket.handshake().auth()["token"] == "secret" {
                    log.push("private middleware 2 accepts");
                    return Ok(());
                }
                log.push("private middleware 2 refuses");
                Err(ConnectError::new("not authorized")
                    .with_data(json!({"code": 403, "hint": "send a token"})))
            }
        });
        private.on_connection(|socket: Socket| async move {
            let view = json!({
                "nsp": socket.namespace().name(),
                "auth": socket.handshake().auth(),
                "pre": socket.in_room("pre"),
                "data": socket.data::<String>(),
            });
            socket.emit("welcome", &view).unwrap();
        });
        io.of("/refuse-plain")
            .use_middleware(|_socket: Socket| async { Err(ConnectError::new("no")) });
        let server = io.clone();
        io.on_connection(move |socket: Socket| {
            let io = server.clone();
            socket.on("list", move |ack: Ack| {
                let list = names(
                    io.namespaces()
                        .iter()
                        .map(|ns| ns.name().to_owned())
                        .collect(),
                );
                async move { ack.send(&(list,)).unwrap() }
            });
            let parent = dynamic.clone();
            socket.on("children", move |ack: Ack| {
                let children = names(
                    parent
                        .children()
                        .iter()
                        .map(|ns| ns.name().to_owned())
                        .collect(),
                );
                async move { ack.send(&(children,)).unwrap() }
            });
            let dynamic = dynamic.clone();
            socket.on("dyn-emit", move |ack: Ack| {
                dynamic.emit("dyn-news", "hi").unwrap();
                async move { ack.send(&()).unwrap() }
            });
            async {}
        });
        let addr = serve(&io).await;
        node("namespaces", addr, variant, json!({})).await;
        assert_eq!(
            log.entries(),
            [
                "dynamic middleware /dyn-1",
                "dynamic middleware /dyn-2",
                "dynamic middleware /dyn-forbidden",
                "private middleware 1",
                "private middleware 2 refuses",
                "private middleware 1",
                "private middleware 2 accepts",
            ]
        );
    })
    .await;
}

fn hanging_server(variant: Variant) -> Server {
    let io = variant
        .builder()
        .connect_timeout(Duration::from_secs(2))
        .build();
    io.on_connection(|socket: Socket| async move {
        socket.on("ping", |ack: Ack| async move { ack.send("pong").unwrap() });
    });
    io.of("/hang").use_middleware(|_socket: Socket| async {
        tokio::time::sleep(Duration::from_secs(3600)).await;
        Ok(())
    });
    io
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Node.js and `npm ci` in crates/socketio-server/e2e"]
async fn connect_timeout_closes_idle_connections() {
    each_variant(ALL, |variant| async move {
        let io = hanging_server(variant);
        let addr = serve(&io).await;
        let report = node("connect_timeout", addr, variant, json!({})).await;
        assert_eq!(
            report["reasons"],
            json!(["transport close", "transport close"])
        );
    })
    .await;
}

/// A namespace middleware that has not finished holds only its own namespace: events of
/// namespaces already joined and other CONNECTs go on, as in Node.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Node.js and `npm ci` in crates/socketio-server/e2e"]
async fn pending_middleware_holds_only_its_namespace() {
    each_variant(ALL, |variant| async move {
        let io = hanging_server(variant);
        let addr = serve(&io).await;
        node("middleware_pending", addr, variant, json!({})).await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Node.js and `npm ci` in crates/socketio-server/e2e"]
async fn message_size_limit() {
    each_variant(ALL, |variant| async move {
        let log = Log::default();
        // A short heartbeat: a polling session whose client gave up after the refused POST
        // (and has no GET waiting) ends by ping timeout, as in Node.
        let io = variant
            .builder()
            .max_http_buffer_size(10_000)
            .ping_interval(Duration::from_millis(500))
            .ping_timeout(Duration::from_millis(1000))
            .build();
        let l = log.clone();
        io.on_connection(move |socket: Socket| {
            socket.on("size", |Data(v): Data<Value>, ack: Ack| async move {
                let size = match v {
                    Value::String(s) => s.len(),
                    other => other.to_string().len(),
                };
                ack.send(&size).unwrap();
            });
            let log = l.clone();
            socket.on_disconnect(move |socket: Socket, reason| {
                log.push(format!("disconnect {} {reason}", tag(&socket)));
                async {}
            });
            async {}
        });
        let addr = serve(&io).await;
        node("limits", addr, variant, json!({})).await;
        // Node: the WebSocket frame is refused ("transport error"); the POST is refused with 413
        // and the session stays until its transport closes or the heartbeat times out.
        for tag in ["big", "binary"] {
            log.wait_until(&format!("{tag} disconnected"), |entries| {
                entries
                    .iter()
                    .any(|e| e.starts_with(&format!("disconnect {tag} ")))
            })
            .await;
        }
        let reasons = log.entries();
        for tag in ["big", "binary"] {
            let entry = reasons
                .iter()
                .find(|e| e.starts_with(&format!("disconnect {tag} ")))
                .unwrap();
            let polling = variant.transport != "websocket";
            assert!(
                entry.ends_with("transport error")
                    || polling
                        && (entry.ends_with("transport close") || entry.ends_with("ping timeout")),
                "{entry}"
            );
        }
    })
    .await;
}
