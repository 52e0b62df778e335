//! Connection, handshake, events and acknowledgements in both directions, binary.

use std::time::{Duration, UNIX_EPOCH};

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
