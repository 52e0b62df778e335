//! Two servers over a real Redis (127.0.0.1:6379, or `REDIS_URL`), with real clients: every
//! cluster operation through the Redis adapter's channels; and a Redis restart (a Redis of our
//! own on port 26379) in the middle of traffic.

#![allow(clippy::unwrap_used, reason = "tests")]

use std::time::Duration;

// Set RUST_BACKTRACE=1 to see which receive failed.

use serde_json::json;
use socketio_redis::{
    RedisAdapter, RedisConfig, ShardedConfig, ShardedRedisAdapter, StreamsAdapter, StreamsConfig,
    SubscriptionMode,
};
use socketio_server as server;
use tokio::sync::mpsc;

#[path = "../../socketio-cluster/tests/common/mod.rs"]
mod common;

use common::{WAIT, call, client, cluster_operations, eventually, node_with, recv};

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
