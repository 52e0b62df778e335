//! Two servers over a real Redis (127.0.0.1:6379, or `REDIS_URL`), with real clients: every
//! cluster operation through the Redis adapter's channels; and a Redis restart (a Redis of our
//! own on port 26379) in the middle of traffic.

#![allow(clippy::unwrap_used, reason = "tests")]

use std::time::Duration;

// Set RUST_BACKTRACE=1 to see which receive failed.

use serde_json::json;
use socketio_client::{Client, Data};
use socketio_redis::{
    RedisAdapter, RedisConfig, ShardedConfig, ShardedRedisAdapter, StreamsAdapter, StreamsConfig,
    SubscriptionMode,
};
use socketio_server as server;
use tokio::net::TcpListener;
use tokio::sync::mpsc;

const WAIT: Duration = Duration::from_secs(10);

fn redis_url() -> String {
    std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379/".to_owned())
}

/// A channel prefix of its own for each test, so that tests running at once do not meet.
fn unique_key(name: &str) -> String {
    format!("test-{name}-{}", socketio_cluster::random_id(4))
}

async fn node(
    url: &str,
    config: RedisConfig,
    parser: server::Parser,
) -> (server::Server, String, RedisAdapter) {
    let redis = RedisAdapter::new(url, config).unwrap();
    let (io, url) = node_with(redis.factory(), parser).await;
    (io, url, redis)
}

async fn sharded_node(
    url: &str,
    config: ShardedConfig,
    parser: server::Parser,
) -> (server::Server, String, ShardedRedisAdapter) {
    let redis = ShardedRedisAdapter::new(url, config).unwrap();
    let (io, url) = node_with(redis.factory(), parser).await;
    (io, url, redis)
}

async fn streams_node(
    url: &str,
    config: StreamsConfig,
    parser: server::Parser,
) -> (server::Server, String, StreamsAdapter) {
    let redis = StreamsAdapter::new(url, config).unwrap();
    let (io, url) = node_with(redis.factory(), parser).await;
    (io, url, redis)
}

async fn node_with(
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
async fn client(
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

async fn recv(
    rx: &mut mpsc::UnboundedReceiver<(String, serde_json::Value)>,
) -> (String, serde_json::Value) {
    match tokio::time::timeout(WAIT, rx.recv()).await {
        Ok(Some(got)) => got,
        _ => panic!("nothing received"),
    }
}

/// Sends `event` and waits for the server's acknowledgement.
async fn call(socket: &socketio_client::Socket, event: &str, arg: serde_json::Value) {
    let done: Result<serde_json::Value, _> = socket.emit_with_ack(event, &arg).timeout(WAIT).await;
    done.unwrap();
}

/// Waits until `check` holds (cluster operations without answers apply asynchronously).
async fn eventually<F: std::future::Future<Output = bool>>(mut check: impl FnMut() -> F) {
    tokio::time::timeout(WAIT, async {
        while !check().await {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Redis on 127.0.0.1:6379 (or REDIS_URL) and redis-server: scripts/test-all provides them"]
async fn cluster_operations_over_redis() {
    let config = RedisConfig::default().key(unique_key("ops"));
    let (a, url_a, _ra) = node(&redis_url(), config.clone(), server::Parser::Json).await;
    let (b, url_b, _rb) = node(&redis_url(), config, server::Parser::Msgpack).await;
    cluster_operations(a, url_a, b, url_b).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Redis 7 on 127.0.0.1:6379 (or REDIS_URL): scripts/test-all provides it"]
async fn cluster_operations_over_sharded_redis() {
    for mode in [SubscriptionMode::Dynamic, SubscriptionMode::Static] {
        let config = ShardedConfig::default()
            .channel_prefix(unique_key("sharded"))
            .subscription_mode(mode);
        let (a, url_a, _ra) =
            sharded_node(&redis_url(), config.clone(), server::Parser::Json).await;
        let (b, url_b, _rb) = sharded_node(&redis_url(), config, server::Parser::Msgpack).await;
        cluster_operations(a, url_a, b, url_b).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Redis on 127.0.0.1:6379 (or REDIS_URL): scripts/test-all provides it"]
async fn cluster_operations_over_redis_streams() {
    let key = unique_key("streams");
    let config = StreamsConfig::default()
        .stream_name(key.clone())
        .channel_prefix(key.clone())
        .block_time(Duration::from_millis(500));
    let (a, url_a, _ra) = streams_node(&redis_url(), config.clone(), server::Parser::Json).await;
    let (b, url_b, _rb) = streams_node(&redis_url(), config, server::Parser::Msgpack).await;
    cluster_operations(a, url_a, b, url_b).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Redis on 127.0.0.1:6379 (or REDIS_URL): scripts/test-all provides it"]
async fn a_closed_server_leaves_the_count() {
    // Classic, sharded and streams: once a server closes, the others stop counting it (and
    // stop waiting for its answers).
    let key = unique_key("close");
    let classic = RedisConfig::default().key(key.clone());
    let (a, _, _ra) = node(&redis_url(), classic.clone(), server::Parser::Json).await;
    let (b, _, _rb) = node(&redis_url(), classic, server::Parser::Json).await;
    let sharded = ShardedConfig::default().channel_prefix(format!("{key}-sharded"));
    let (c, _, _rc) = sharded_node(&redis_url(), sharded.clone(), server::Parser::Json).await;
    let (d, _, _rd) = sharded_node(&redis_url(), sharded, server::Parser::Json).await;
    let streams = StreamsConfig::default()
        .stream_name(format!("{key}-streams"))
        .channel_prefix(format!("{key}-streams"))
        .block_time(Duration::from_millis(500));
    let (e, _, _re) = streams_node(&redis_url(), streams.clone(), server::Parser::Json).await;
    let (f, _, _rf) = streams_node(&redis_url(), streams, server::Parser::Json).await;
    for (one, other) in [(&a, &b), (&c, &d), (&e, &f)] {
        eventually(|| async { other.sockets().server_count().await == 2 }).await;
        one.close();
        eventually(|| async { other.sockets().server_count().await == 1 }).await;
        // Nobody else to ask: answers come at once.
        assert_eq!(other.fetch_sockets().await.len(), 0);
    }
}

async fn cluster_operations(a: server::Server, url_a: String, b: server::Server, url_b: String) {
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Redis on 127.0.0.1:6379 (or REDIS_URL) and redis-server: scripts/test-all provides them"]
async fn rust_emitter_drives_the_servers() {
    let key = unique_key("emitter");
    let config = RedisConfig::default().key(key.clone());
    let (a, url_a, _ra) = node(&redis_url(), config, server::Parser::Json).await;
    let (ca, mut ra) = client(&url_a, server::Parser::Json, &["news"]).await;
    call(&ca, "join", json!("blue")).await;
    eventually(|| async { a.sockets().server_count().await == 1 }).await;
    let emitter = socketio_redis::Emitter::new(&redis_url()).unwrap().key(key);
    emitter
        .to("blue")
        .emit("news", &("from emitter",))
        .await
        .unwrap();
    assert_eq!(recv(&mut ra).await, ("news".into(), json!("from emitter")));
    emitter.sockets_join("green").await.unwrap();
    eventually(|| async { a.to("green").fetch_sockets().await.len() == 1 }).await;
    let (tx, mut got) = mpsc::unbounded_channel();
    a.sockets().on_server_side_emit("tick", move |args, _| {
        let tx = tx.clone();
        async move {
            let _ = tx.send(args);
        }
    });
    emitter.server_side_emit("tick", &[json!(7)]).await.unwrap();
    assert_eq!(
        tokio::time::timeout(WAIT, got.recv())
            .await
            .unwrap()
            .unwrap(),
        vec![json!(7)]
    );
}

/// A Redis of our own, on a port of this project's range, that the test may stop and restart.
struct OwnRedis {
    port: u16,
    child: std::process::Child,
}

impl OwnRedis {
    fn start(port: u16) -> Self {
        let child = std::process::Command::new("redis-server")
            .args([
                "--port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("redis-server (Debian package redis-server) is needed for this test");
        Self { port, child }
    }

    fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    async fn wait_ready(&self) {
        let url = format!("redis://127.0.0.1:{}/", self.port);
        eventually(|| {
            let url = url.clone();
            async move {
                let Ok(client) = redis::Client::open(url) else {
                    return false;
                };
                client.get_multiplexed_async_connection().await.is_ok()
            }
        })
        .await;
    }
}

impl Drop for OwnRedis {
    fn drop(&mut self) {
        self.stop();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Redis on 127.0.0.1:6379 (or REDIS_URL) and redis-server: scripts/test-all provides them"]
async fn redis_restart_mid_traffic() {
    // Below 32768, out of the kernel's range for client ports.
    let port = 26379;
    let mut redis = OwnRedis::start(port);
    redis.wait_ready().await;
    let url = format!("redis://127.0.0.1:{port}/");
    let config = RedisConfig::default()
        .key(unique_key("restart"))
        .max_queued_messages(100);
    let (a, url_a, redis_a) = node(&url, config.clone(), server::Parser::Json).await;
    let (b, url_b, redis_b) = node(&url, config, server::Parser::Json).await;
    let (_ca, mut ra) = client(&url_a, server::Parser::Json, &["news"]).await;
    let (_cb, mut rb) = client(&url_b, server::Parser::Json, &["news"]).await;
    eventually(|| async { redis_a.is_connected() && redis_b.is_connected() }).await;
    a.emit("news", "before").unwrap();
    assert_eq!(recv(&mut ra).await, ("news".into(), json!("before")));
    assert_eq!(recv(&mut rb).await, ("news".into(), json!("before")));

    redis.stop();
    eventually(|| async { !redis_a.is_connected() && !redis_b.is_connected() }).await;
    // Local delivery goes on while Redis is down; far more messages than the queue holds are
    // sent, and the excess is dropped and counted, not buffered.
    for i in 0..500 {
        a.emit("news", &format!("down {i}")).unwrap();
    }
    for i in 0..500 {
        assert_eq!(
            recv(&mut ra).await,
            ("news".into(), json!(format!("down {i}")))
        );
    }
    assert!(redis_a.stats().dropped > 0, "{:?}", redis_a.stats());

    let redis = OwnRedis::start(port);
    redis.wait_ready().await;
    eventually(|| async { redis_a.is_connected() && redis_b.is_connected() }).await;
    // The cluster recovers by itself: b's messages reach a's clients again (retrying, since
    // the publisher may still drain what queued up during the outage).
    let mut n = 0;
    tokio::time::timeout(WAIT, async {
        loop {
            n += 1;
            b.emit("news", &format!("after {n}")).unwrap();
            while let Ok(Some((_, v))) =
                tokio::time::timeout(Duration::from_millis(200), ra.recv()).await
            {
                if v.as_str().is_some_and(|s| s.starts_with("after")) {
                    return;
                }
            }
        }
    })
    .await
    .unwrap();
    assert!(redis_b.stats().resubscribed >= 1 || redis_a.stats().resubscribed >= 1);
    drop(redis);
}
