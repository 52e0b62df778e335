//! Two (or three) servers in one process over the in-process bus, with real clients: every
//! cluster operation, through the `ClusterAdapter` wire format.

#![allow(clippy::unwrap_used, reason = "tests")]

use std::time::Duration;

// Set RUST_BACKTRACE=1 to see which receive failed.

use serde_json::json;
use socketio_cluster::bus::Bus;
use socketio_cluster::{ClusterConfig, Heartbeat};
use socketio_server as server;
use tokio::net::TcpListener;

mod common;

use common::{WAIT, call, client, eventually, node_with};

async fn node(
    bus: &Bus,
    config: ClusterConfig,
    parser: server::Parser,
) -> (server::Server, String) {
    node_with(bus.factory(config), parser).await
}

async fn cluster_operations(config: ClusterConfig) {
    let bus = Bus::new();
    let (a, url_a) = node(&bus, config, server::Parser::Json).await;
    let (b, url_b) = node(&bus, config, server::Parser::Msgpack).await;
    if config.heartbeat.is_some() {
        // Heartbeats: each server learns of the other from its first messages.
        tokio::time::timeout(WAIT, async {
            while a.sockets().server_count().await < 2 || b.sockets().server_count().await < 2 {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
        .await
        .unwrap();
    }
    common::cluster_operations(a, url_a, b, url_b).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cluster_operations_counted_by_transport() {
    cluster_operations(ClusterConfig::default()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cluster_operations_counted_by_heartbeats() {
    let heartbeat = Heartbeat::new(Duration::from_millis(200), Duration::from_secs(5));
    cluster_operations(ClusterConfig::default().heartbeat(heartbeat)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_server_times_out() {
    // Server b has no handler: serverSideEmitWithAck times out, naming what was received.
    let bus = Bus::new();
    let config = ClusterConfig::default().request_timeout(Duration::from_millis(300));
    let (a, _) = node(&bus, config, server::Parser::Json).await;
    let (_b, _) = node(&bus, config, server::Parser::Json).await;
    let error = a
        .server_side_emit_with_ack("nobody", vec![])
        .await
        .unwrap_err();
    assert!(
        matches!(
            error,
            server::AdapterError::Timeout {
                received: 0,
                expected: 1
            }
        ),
        "{error}"
    );
}

/// Records the room hooks of `socketio_server::Adapter`.
#[derive(Default)]
struct RoomLog(std::sync::Mutex<Vec<String>>);

impl server::Adapter for RoomLog {
    fn room_created(&self, room: &server::Room) {
        self.0.lock().unwrap().push(format!("+{room}"));
    }
    fn room_deleted(&self, room: &server::Room) {
        self.0.lock().unwrap().push(format!("-{room}"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn room_hooks_follow_the_first_join_and_the_last_leave() {
    let log = std::sync::Arc::new(RoomLog::default());
    let shared = log.clone();
    let io = server::Server::builder()
        .adapter(move |_: &str| shared.clone() as std::sync::Arc<dyn server::Adapter>)
        .build();
    io.on_connection(|socket: server::Socket| async move {
        socket.on(
            "join",
            |socket: server::Socket, server::Data(room): server::Data<String>, ack: server::Ack| async move {
                socket.join(room);
                let _ = ack.send(&());
            },
        );
        socket.on(
            "leave",
            |socket: server::Socket, server::Data(room): server::Data<String>, ack: server::Ack| async move {
                socket.leave(&room);
                let _ = ack.send(&());
            },
        );
    });
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let serving = io.clone();
    tokio::spawn(async move {
        let _ = serving.serve(listener).await;
    });
    let (c1, _) = client(&url, server::Parser::Json, &[]).await;
    let (c2, _) = client(&url, server::Parser::Json, &[]).await;
    call(&c1, "join", json!("r")).await;
    call(&c2, "join", json!("r")).await;
    call(&c1, "join", json!("s")).await;
    call(&c1, "leave", json!("r")).await;
    assert_eq!(*log.0.lock().unwrap(), ["+r", "+s"]);
    call(&c2, "leave", json!("r")).await;
    assert_eq!(*log.0.lock().unwrap(), ["+r", "+s", "-r"]);
    // A disconnection empties the socket's rooms.
    c1.disconnect();
    eventually(|| async { log.0.lock().unwrap().len() == 4 }).await;
    assert_eq!(*log.0.lock().unwrap(), ["+r", "+s", "-r", "-s"]);
}
