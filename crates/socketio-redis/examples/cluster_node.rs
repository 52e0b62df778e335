//! One server of a Redis cluster, with the control events of the e2e test (`e2e/`): clients ask
//! it to broadcast, fetch sockets, make sockets join or leave rooms, disconnect them, and send
//! server-side events, so that the test compares our servers with Node's.
//!
//! ```text
//! cargo run -p socketio-redis --example cluster_node -- --redis redis://127.0.0.1:6379/ --key socket.io --name rust-1
//! ```
//!
//! With `--sharded`, the sharded adapter (`createShardedAdapter`; `--key` is the channel prefix);
//! with `--streams`, the Redis Streams adapter (`--key` names the stream, the channels and the
//! session keys) and connection state recovery.
//!
//! It prints `LISTENING <port>` once it serves (port 0 by default: the system picks).

#![allow(clippy::unwrap_used, reason = "an example")]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};
use socketio_redis::{
    RedisAdapter, RedisConfig, ShardedConfig, ShardedRedisAdapter, StreamsAdapter, StreamsConfig,
};
use socketio_server::{Ack, Data, RecoveryConfig, Server, Socket};

fn arg(name: &str, default: &str) -> String {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
        .unwrap_or_else(|| default.to_owned())
}

fn strings(value: &Value) -> Vec<String> {
    match value {
        Value::String(s) => vec![s.clone()],
        Value::Array(items) => items
            .iter()
            .filter_map(|v| v.as_str().map(ToOwned::to_owned))
            .collect(),
        _ => Vec::new(),
    }
}

fn operator(io: &Server, request: &Value) -> socketio_server::BroadcastOperator {
    io.to(strings(&request["rooms"]))
        .except(strings(&request["except"]))
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let url = arg("--redis", "redis://127.0.0.1:6379/");
    let key = arg("--key", "socket.io");
    let name = arg("--name", "rust");
    let port: u16 = arg("--port", "0").parse().unwrap();
    let builder = Server::builder();
    let builder = if std::env::args().any(|a| a == "--sharded") {
        let config = ShardedConfig::default().channel_prefix(key);
        builder.adapter(ShardedRedisAdapter::new(&url, config).unwrap().factory())
    } else if std::env::args().any(|a| a == "--streams") {
        let config = StreamsConfig::default()
            .stream_name(key.clone())
            .channel_prefix(key.clone())
            .session_key_prefix(format!("{key}:session:"))
            .block_time(Duration::from_secs(1));
        builder
            .connection_state_recovery(RecoveryConfig::default())
            .adapter(StreamsAdapter::new(&url, config).unwrap().factory())
    } else {
        builder.adapter(
            RedisAdapter::new(&url, RedisConfig::default().key(key))
                .unwrap()
                .factory(),
        )
    };
    let io = builder.build();

    let notes = Arc::new(Mutex::new(Vec::<Value>::new()));
    let me = name.clone();
    io.sockets().on_server_side_emit("ping", move |args, ack| {
        let me = me.clone();
        async move {
            if let Some(ack) = ack {
                ack.send(json!({"from": me, "data": args.first()}));
            }
        }
    });
    let kept = notes.clone();
    io.sockets().on_server_side_emit("note", move |args, _| {
        let kept = kept.clone();
        async move {
            kept.lock()
                .unwrap()
                .push(args.first().cloned().unwrap_or(Value::Null));
        }
    });

    let server = io.clone();
    io.on_connection(move |socket: Socket| {
        let io = server.clone();
        let name = name.clone();
        let notes = notes.clone();
        async move {
            socket.on("whoami", move |ack: Ack| {
                let name = name.clone();
                async move {
                    let _ = ack.send(&name);
                }
            });
            socket.on(
                "join",
                |socket: Socket, Data(room): Data<String>, ack: Ack| async move {
                    socket.join(room);
                    let _ = ack.send(&());
                },
            );
            socket.on(
                "set-data",
                |socket: Socket, Data(data): Data<Value>, ack: Ack| async move {
                    socket.set_data(data);
                    let _ = ack.send(&());
                },
            );
            let io2 = io.clone();
            socket.on("broadcast", move |Data(request): Data<Value>, ack: Ack| {
                let io = io2.clone();
                async move {
                    let event = request["event"].as_str().unwrap_or("news").to_owned();
                    let _ = operator(&io, &request).emit(&event, &request["data"]);
                    let _ = ack.send(&());
                }
            });
            let io2 = io.clone();
            socket.on(
                "broadcast-binary",
                move |Data(tag): Data<String>, ack: Ack| {
                    let io = io2.clone();
                    async move {
                        let _ = io.emit("bin", &(tag, bytes::Bytes::from_static(&[1, 2, 3])));
                        let _ = ack.send(&());
                    }
                },
            );
            let io2 = io.clone();
            socket.on(
                "broadcast-ack",
                move |Data(request): Data<Value>, ack: Ack| {
                    let io = io2.clone();
                    async move {
                        let timeout =
                            Duration::from_millis(request["timeout"].as_u64().unwrap_or(2000));
                        let answers = operator(&io, &request)
                            .timeout(timeout)
                            .emit_with_ack::<_, Value>("ask", &request["data"])
                            .await;
                        let _ = match answers {
                            Ok(responses) => ack.send(&json!({"responses": responses})),
                            Err(e) => ack.send(
                                &json!({"error": e.error.to_string(), "responses": e.responses}),
                            ),
                        };
                    }
                },
            );
            let io2 = io.clone();
            socket.on("fetch", move |Data(request): Data<Value>, ack: Ack| {
                let io = io2.clone();
                async move {
                    let sockets = operator(&io, &request).fetch_sockets().await;
                    let list: Vec<Value> = sockets
                        .iter()
                        .map(|s| {
                            let data = match s.as_local() {
                                Some(local) => local.data::<Value>().unwrap_or(Value::Null),
                                None => s.data().clone(),
                            };
                            json!({"id": s.id(), "rooms": s.rooms(), "data": data})
                        })
                        .collect();
                    let _ = ack.send(&(list,));
                }
            });
            let io2 = io.clone();
            socket.on(
                "sockets-join",
                move |Data(request): Data<Value>, ack: Ack| {
                    let io = io2.clone();
                    async move {
                        operator(&io, &request)
                            .sockets_join(strings(&request["room"]))
                            .await;
                        let _ = ack.send(&());
                    }
                },
            );
            let io2 = io.clone();
            socket.on(
                "sockets-leave",
                move |Data(request): Data<Value>, ack: Ack| {
                    let io = io2.clone();
                    async move {
                        operator(&io, &request)
                            .sockets_leave(strings(&request["room"]))
                            .await;
                        let _ = ack.send(&());
                    }
                },
            );
            let io2 = io.clone();
            socket.on(
                "disconnect-sockets",
                move |Data(request): Data<Value>, ack: Ack| {
                    let io = io2.clone();
                    async move {
                        let close = request["close"].as_bool().unwrap_or(false);
                        let _ = ack.send(&());
                        operator(&io, &request).disconnect_sockets(close).await;
                    }
                },
            );
            let io2 = io.clone();
            socket.on("sse", move |Data(request): Data<Value>, ack: Ack| {
                let io = io2.clone();
                async move {
                    let _ = match io
                        .server_side_emit_with_ack("ping", vec![request["data"].clone()])
                        .await
                    {
                        Ok(responses) => ack.send(&json!({"responses": responses})),
                        Err(e) => ack.send(&json!({"error": e.to_string()})),
                    };
                }
            });
            let io2 = io.clone();
            socket.on("note", move |Data(request): Data<Value>, ack: Ack| {
                let io = io2.clone();
                async move {
                    let _ = io
                        .server_side_emit("note", vec![request["data"].clone()])
                        .await;
                    let _ = ack.send(&());
                }
            });
            socket.on("notes", move |ack: Ack| {
                let notes = notes.lock().unwrap().clone();
                async move {
                    let _ = ack.send(&(notes,));
                }
            });
            let io2 = io.clone();
            socket.on("server-count", move |ack: Ack| {
                let io = io2.clone();
                async move {
                    let _ = ack.send(&io.sockets().server_count().await);
                }
            });
        }
    });

    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    println!("LISTENING {}", listener.local_addr()?.port());
    io.serve(listener).await
}
