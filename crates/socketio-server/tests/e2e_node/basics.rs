//! Connection, handshake, events and acknowledgements in both directions, binary.

use std::future::IntoFuture;
use std::time::{Duration, UNIX_EPOCH};

use bytes::Bytes;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use socketio_server::{Ack, AllArgs, Data, RawArgs, Socket};

use crate::support::{ALL, Log, each_variant, node, serve};

#[derive(Clone)]
struct User {
    name: String,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Node.js and `npm ci` in crates/socketio-server/e2e"]
async fn handshake_and_socket_data() {
    each_variant(ALL, |variant| async move {
        let log = Log::default();
        let io = variant.builder().build();
        io.use_middleware(|socket: Socket| async move {
            let name = socket.handshake().auth()["name"].as_str().unwrap_or("?");
            socket.set_data(User {
                name: name.to_owned(),
            });
            Ok(())
        });
        let l = log.clone();
        io.on_connection(move |socket: Socket| {
            let h = socket.handshake();
            let view = json!({
                "id": socket.id(),
                "engineId": socket.engine_id(),
                "auth": h.auth(),
                "query": {
                    "x": h.query("x"),
                    "room": h.query("room"),
                    "EIO": h.query("EIO"),
                    "transport": h.query("transport"),
                },
                "header": h.headers().get("x-e2e").and_then(|v| v.to_str().ok()),
                "address": h.address().map(|a| a.ip().to_string()),
                "url": h.url(),
                "issued": h.issued(),
                "time": h.time().duration_since(UNIX_EPOCH).unwrap().as_millis() as u64,
                "secure": h.secure(),
            });
            l.push(format!("connect {}", socket.id()));
            l.push(format!(
                "xdomain {}",
                h.xdomain() == h.headers().contains_key("origin")
            ));
            socket.emit("handshake", &view).unwrap();
            socket.on("whoami", |socket: Socket, ack: Ack| async move {
                ack.send(&socket.data::<User>().map(|u| u.name)).unwrap();
            });
            socket.on(
                "rename",
                |socket: Socket, Data(name): Data<String>, ack: Ack| async move {
                    socket.with_data(|user: &mut User| user.name = name);
                    ack.send(&()).unwrap();
                },
            );
            async {}
        });
        let addr = serve(&io).await;
        let report = node("handshake", addr, variant, json!({})).await;
        let id = report["id"].as_str().unwrap();
        assert_eq!(
            log.entries(),
            [format!("connect {id}"), "xdomain true".to_owned()]
        );
    })
    .await;
}

#[derive(Debug, Serialize, Deserialize)]
struct Point {
    x: f64,
    y: f64,
    label: Option<String>,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Node.js and `npm ci` in crates/socketio-server/e2e"]
async fn client_events_acks_and_handler_errors() {
    each_variant(ALL, |variant| async move {
        let log = Log::default();
        let l = log.clone();
        let io = variant
            .builder()
            .on_error(move |_socket, event, error| l.push(format!("error {event}: {error}")))
            .build();
        let l = log.clone();
        io.on_connection(move |socket: Socket| {
            let l = l.clone();
            async move {
                let log = l.clone();
                socket.on("zero", move || {
                    log.push("zero");
                    async {}
                });
                let log = l.clone();
                socket.on("raw", move |RawArgs(args): RawArgs| {
                    log.push(format!("raw {}", Value::from(args.to_values().unwrap())));
                    async {}
                });
                socket.on(
                    "typed",
                    |AllArgs((a, b, c)): AllArgs<(i64, String, Vec<bool>)>, ack: Ack| async move {
                        ack.send(&(a * 2, b.to_uppercase(), c.len())).unwrap();
                    },
                );
                socket.on("point", |Data(p): Data<Point>, ack: Ack| async move {
                    let swapped = Point {
                        x: p.y,
                        y: p.x,
                        label: p.label.map(|l| l.to_uppercase()),
                    };
                    ack.send(&swapped).unwrap();
                });
                socket.on(
                    "optional",
                    |Data(v): Data<Option<String>>, ack: Ack| async move {
                        ack.send(&v.is_none()).unwrap();
                    },
                );
                socket.on("no-answer", |ack: Ack| async move {
                    ack.send(&()).unwrap();
                });
                socket.on("sum", |Data(v): Data<Vec<i64>>, ack: Ack| async move {
                    ack.send(&v.iter().sum::<i64>()).unwrap();
                });
                socket.on("async", |Data(n): Data<u64>, ack: Ack| async move {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    ack.send(&(n + 1)).unwrap();
                });
                socket.on(
                    "echo",
                    |AllArgs((v, s)): AllArgs<(Value, String)>, ack: Ack| async move {
                        ack.send(&(v, s)).unwrap();
                    },
                );
                let log = l.clone();
                socket.on("number", move |Data(n): Data<i64>, ack: Ack| {
                    log.push(format!("number {n}"));
                    async move { ack.send(&n).unwrap() }
                });
                socket.on("fails", || async {
                    Err::<(), _>(std::io::Error::other("it failed"))
                });
                socket.on("twice", |ack: Ack| async move {
                    ack.send("first").unwrap();
                });
                let log = l.clone();
                socket.on("twice", move |ack: Ack| {
                    log.push(format!("twice again, ack expected: {}", ack.expected()));
                    async {}
                });
                let log = l.clone();
                socket.on("removable", move |Data(n): Data<i64>| {
                    log.push(format!("removable {n}"));
                    async {}
                });
                socket.on("remove", |socket: Socket, ack: Ack| async move {
                    socket.off("removable");
                    ack.send(&()).unwrap();
                });
                socket.use_middleware(|_socket, event, _args| {
                    if event == "forbidden" {
                        Err("forbidden event".into())
                    } else {
                        Ok(())
                    }
                });
                let log = l.clone();
                socket.on_error(move |_socket, error| log.push(format!("socket error: {error}")));
                let log = l.clone();
                socket.on("forbidden", move || {
                    log.push("forbidden handler called");
                    async {}
                });
                socket.on("allowed", |Data(n): Data<i64>, ack: Ack| async move {
                    ack.send(&n).unwrap();
                });
                let log = l.clone();
                socket.on("done", move |ack: Ack| {
                    log.push("done");
                    async move { ack.send(&()).unwrap() }
                });
            }
        });
        let addr = serve(&io).await;
        let report = node("events", addr, variant, json!({})).await;
        let mismatch = report["mismatch"].as_str().unwrap();
        let entries = log.entries();
        let number_errors: Vec<_> = entries
            .iter()
            .filter(|e| e.starts_with("error number: invalid arguments: "))
            .collect();
        assert_eq!(number_errors.len(), 2, "{entries:#?}");
        assert_eq!(
            number_errors[0],
            &format!("error number: {mismatch}"),
            "the hook sees what the ack said"
        );
        assert_eq!(
            entries,
            [
                "zero",
                "zero",
                "raw []",
                "raw [1]",
                r#"raw [1,"two",{"three":[3,null,true]}]"#,
                number_errors[0],
                number_errors[1],
                "number 7",
                "error fails: it failed",
                "twice again, ack expected: false",
                "removable 1",
                "socket error: forbidden event",
                "done",
            ]
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Node.js and `npm ci` in crates/socketio-server/e2e"]
async fn server_emits_and_acks() {
    each_variant(ALL, |variant| async move {
        let log = Log::default();
        let io = variant.builder().build();
        let l = log.clone();
        io.on_connection(move |socket: Socket| {
            let log = l.clone();
            socket.on(
                "bye",
                |socket: Socket| async move { socket.disconnect(false) },
            );
            async move {
                socket
                    .emit("hello", &("world", 42, json!({"a": [1, 2]})))
                    .unwrap();
                socket.emit("nothing", &()).unwrap();
                socket.emit("one-array", &(vec![1, 2, 3],)).unwrap();
                socket.emit("spread", &vec![1, 2, 3]).unwrap();
                socket.emit_volatile("volatile", "v").unwrap();
                let wait = Duration::from_secs(10);
                let answer: Result<String, _> = socket
                    .emit_with_ack("question", &("q1",))
                    .timeout(wait)
                    .await;
                log.push(format!("question: {answer:?}"));
                let ignored = socket
                    .timeout(Duration::from_millis(200))
                    .emit_with_ack::<_, Value>("ignored", &())
                    .await;
                log.push(format!("ignored: {}", ignored.unwrap_err()));
                let many = socket
                    .emit_with_ack::<_, Value>("many", &(1, 2))
                    .timeout(wait)
                    .raw()
                    .await
                    .unwrap();
                log.push(format!("many: {}", Value::from(many.to_values().unwrap())));
                let wrong = socket
                    .emit_with_ack::<_, i64>("wrong-type", &())
                    .timeout(wait)
                    .await;
                log.push(format!("wrong-type: {}", wrong.unwrap_err()));
                // Two acknowledgements pending at once, answered in the other order.
                let slow = socket.emit_with_ack::<_, String>("slow", &());
                let fast = socket.emit_with_ack::<_, String>("fast", &());
                let (slow, fast) = tokio::join!(slow.into_future(), fast.into_future());
                log.push(format!("slow: {}, fast: {}", slow.unwrap(), fast.unwrap()));
                // Never answered: fails when the socket leaves (no deadline).
                let never = socket.emit_with_ack::<_, Value>("never", &());
                socket.emit("finished", &()).unwrap();
                log.push(format!("never: {}", never.await.unwrap_err()));
            }
        });
        let addr = serve(&io).await;
        node("server_emit", addr, variant, json!({})).await;
        log.wait_for("never: socket disconnected before acknowledging")
            .await;
        let entries = log.entries();
        assert_eq!(entries.len(), 6, "{entries:#?}");
        assert_eq!(entries[0], r#"question: Ok("answer to q1")"#);
        assert_eq!(entries[1], "ignored: operation has timed out");
        assert_eq!(entries[2], r#"many: [1,2,"three"]"#);
        assert!(
            entries[3].starts_with("wrong-type: invalid acknowledgement: "),
            "{entries:#?}"
        );
        assert_eq!(entries[4], "slow: slow, fast: fast");
    })
    .await;
}

#[derive(Debug, Serialize, Deserialize)]
struct File {
    name: String,
    data: Bytes,
    parts: Vec<Bytes>,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Node.js and `npm ci` in crates/socketio-server/e2e"]
async fn binary_both_ways() {
    each_variant(ALL, |variant| async move {
        let log = Log::default();
        let io = variant.builder().build();
        let l = log.clone();
        io.on_connection(move |socket: Socket| {
            let log = l.clone();
            socket.on("bin", |Data(b): Data<Bytes>, ack: Ack| async move {
                let reversed: Vec<u8> = b.iter().rev().copied().collect();
                ack.send(&(b.len(), Bytes::from(reversed))).unwrap();
            });
            socket.on("file", |Data(f): Data<File>, ack: Ack| async move {
                let mut parts = f.parts;
                parts.reverse();
                let back = File {
                    name: f.name.to_uppercase(),
                    data: f.data,
                    parts,
                };
                ack.send(&back).unwrap();
            });
            socket.on(
                "mixed",
                |AllArgs((text, b, n)): AllArgs<(String, Bytes, i64)>, ack: Ack| async move {
                    ack.send(&(format!("{text}!"), b.len(), n + 1)).unwrap();
                },
            );
            socket.on(
                "echo-raw",
                |socket: Socket, RawArgs(args): RawArgs, ack: Ack| async move {
                    socket.emit_raw("echoed", &args).unwrap();
                    ack.send_raw(&args).unwrap();
                },
            );
            socket.on("big", |Data(b): Data<Bytes>, ack: Ack| async move {
                let sum: u64 = b.iter().map(|&x| u64::from(x)).sum();
                ack.send(&(b.len(), sum)).unwrap();
            });
            socket.on("done", |ack: Ack| async move { ack.send(&()).unwrap() });
            socket
                .emit(
                    "from-server",
                    &(Bytes::from_static(&[0, 1, 254, 255]), json!({"k": "v"})),
                )
                .unwrap();
            let file = File {
                name: "server.bin".into(),
                data: Bytes::from_static(&[1, 2, 3]),
                parts: vec![Bytes::from_static(&[4]), Bytes::new()],
            };
            socket.emit("file", &file).unwrap();
            socket
                .namespace()
                .emit("broadcast-binary", &Bytes::from_static(&[42]))
                .unwrap();
            async move {
                let got: Result<Bytes, _> = socket
                    .emit_with_ack("give-bytes", &())
                    .timeout(Duration::from_secs(10))
                    .await;
                log.push(format!("give-bytes: {:?}", got.map(|b| b.to_vec())));
            }
        });
        let addr = serve(&io).await;
        node("binary", addr, variant, json!({})).await;
        assert_eq!(log.entries(), ["give-bytes: Ok([7, 8, 9])"]);
    })
    .await;
}
