//! Counts heap allocations (not time) of emits and broadcasts, so that "encode once, share the
//! bytes" cannot regress: a broadcast to N sockets costs a constant number of allocations for
//! serializing and encoding, plus at most one queue entry per recipient.
//!
//! Everything runs on one thread (a current-thread runtime), so while the synchronous `emit`
//! call runs, nothing else allocates: the global counts measure that call alone.

#![allow(clippy::unwrap_used, reason = "test code")]

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use socketio_server::{Server, Socket};
use tokio_tungstenite::tungstenite::Message;

#[global_allocator]
static ALLOC: dhat::Alloc = dhat::Alloc;

type Client =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// A raw Socket.IO client connected to the main namespace over WebSocket.
async fn connect(port: u16) -> Client {
    let url = format!("ws://127.0.0.1:{port}/socket.io/?EIO=4&transport=websocket");
    let (mut ws, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    let open = ws.next().await.unwrap().unwrap();
    assert!(open.to_text().unwrap().starts_with('0'));
    ws.send(Message::text("40")).await.unwrap();
    let connect = ws.next().await.unwrap().unwrap();
    assert!(connect.to_text().unwrap().starts_with("40{"));
    ws
}

/// Allocations made by `f`.
fn blocks(f: impl FnOnce()) -> u64 {
    let before = dhat::HeapStats::get().total_blocks;
    f();
    dhat::HeapStats::get().total_blocks - before
}

async fn server_with_clients(n: usize) -> (Server, Vec<Client>) {
    let io = Server::new();
    io.on_connection(|socket: Socket| async move {
        socket.join("all");
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let serving = io.clone();
    tokio::spawn(async move { serving.serve(listener).await });
    let mut clients = Vec::new();
    for _ in 0..n {
        clients.push(connect(port).await);
    }
    while io.sockets().socket_count() < n {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    (io, clients)
}

#[derive(serde::Serialize)]
struct Update<'a> {
    user: &'a str,
    text: &'a str,
    at: u64,
}

// One test function: dhat allows one profiler at a time, and tests run in parallel.
#[test]
fn allocations_of_emits_and_broadcasts() {
    let _profiler = dhat::Profiler::builder().testing().build();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(broadcast_allocations_do_not_grow_with_serialization_per_recipient());
    runtime.block_on(emit_to_one_socket_allocates_a_constant());
    runtime.block_on(new_sessions_give_their_scratch_buffers_back_at_once());
}

/// Sessions that open together and go quiet give back their handshake's scratch buffers at
/// once, not a second later: blocks freed after the storm would stay holes in the heap between
/// the sessions that opened meanwhile (a quarter of an idle connection's memory, measured).
async fn new_sessions_give_their_scratch_buffers_back_at_once() {
    let (_io, _clients) = server_with_clients(32).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    let quiet = dhat::HeapStats::get().curr_blocks;
    // Longer than a busy session keeps its buffers for (1 s of quiet, checked every second).
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let later = dhat::HeapStats::get().curr_blocks;
    println!("32 idle sessions: {quiet} live blocks once quiet, {later} 2.5 s later");
    // Nothing is left to give back late (a few blocks of slack for the runtime's own).
    assert!(
        later + 8 >= quiet,
        "{} blocks were freed more than 100 ms after 32 sessions went quiet",
        quiet - later
    );
}

async fn broadcast_allocations_do_not_grow_with_serialization_per_recipient() {
    {
        let payload = Update {
            user: "alice",
            text: "hello everyone, this is a message of a reasonable size",
            at: 1_700_000_000_000,
        };
        let (io, clients_small) = server_with_clients(2).await;
        // Warm up: first sends grow the queues once.
        for _ in 0..3 {
            io.to("all").emit("update", &payload).unwrap();
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let small = blocks(|| io.to("all").emit("update", &payload).unwrap());
        drop(clients_small);

        let (io, clients_large) = server_with_clients(64).await;
        for _ in 0..3 {
            io.to("all").emit("update", &payload).unwrap();
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let large = blocks(|| io.to("all").emit("update", &payload).unwrap());
        let acked = blocks(|| {
            drop(
                io.to("all")
                    .timeout(Duration::from_secs(1))
                    .emit_with_ack::<_, ()>("update", &payload),
            );
        });
        drop(clients_large);

        println!("broadcast to 2: {small} allocations; to 64: {large}; with acks to 64: {acked}");
        // Serializing, encoding and framing happen once: a small constant (the operator's room
        // list, the packet buffer and its Engine.IO frame with their shared-bytes headers, the
        // list of recipients).
        assert!(
            small <= 12,
            "broadcast to 2 sockets made {small} allocations"
        );
        // Per recipient at most one queue entry; the queues' buffers are amortized, so 62 more
        // recipients cost far fewer than 62 allocations. Serializing per recipient would cost
        // several each.
        assert!(
            large <= small + 16,
            "broadcast to 64 sockets made {large} allocations (to 2: {small})"
        );
        // An acked broadcast shares one ack id: at most one ack slot per recipient more.
        assert!(
            acked <= large + 64 + 8,
            "acked broadcast to 64 sockets made {acked} allocations"
        );
    }
}

async fn emit_to_one_socket_allocates_a_constant() {
    {
        let (io, _clients) = server_with_clients(1).await;
        let socket = io.sockets().sockets().pop().unwrap();
        for _ in 0..3 {
            socket.emit("update", &("hello", 42)).unwrap();
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let emit = blocks(|| socket.emit("update", &("hello", 42)).unwrap());
        println!("emit: {emit} allocations");
        assert!(emit <= 4, "one emit made {emit} allocations");
    }
}
