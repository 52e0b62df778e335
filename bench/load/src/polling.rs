//! Closed-loop echo over HTTP long-polling: each client keeps two keep-alive connections, as a
//! browser does, one for its long-polling `GET`s and one for its `POST`s. Each round posts
//! `echo` with an acknowledgement while a `GET` waits for the answer.

use std::cell::{Cell, RefCell};
use std::io;
use std::net::SocketAddr;
use std::rc::Rc;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use serde_json::{Value, json};

use crate::PhaseSink;
use crate::http::HttpConn;
use crate::proto;
use crate::stats::{self, CpuWindow};

/// What to run.
#[derive(Debug, Clone)]
pub struct PollingConfig {
    /// The server.
    pub addr: SocketAddr,
    /// Clients, each with one echo in flight.
    pub clients: usize,
    /// Before the measurement.
    pub warmup: Duration,
    /// The measurement.
    pub duration: Duration,
    /// Bytes of the string argument.
    pub payload: usize,
    /// Handshakes in flight while connecting.
    pub concurrency: usize,
}

const PACKET_SEPARATOR: u8 = 0x1e;

/// A polling session on the main namespace.
struct Client {
    get: HttpConn,
    post: HttpConn,
    path: String,
}

async fn connect(addr: SocketAddr) -> io::Result<Client> {
    let mut get = HttpConn::connect(addr).await?;
    let post = HttpConn::connect(addr).await?;
    let open = get.get("/socket.io/?EIO=4&transport=polling").await?;
    if open.status != 200 || open.body.first() != Some(&b'0') {
        return Err(io::Error::other("expected the Engine.IO open packet"));
    }
    let first = open
        .body
        .split(|&b| b == PACKET_SEPARATOR)
        .next()
        .unwrap_or_default();
    let sid = serde_json::from_slice::<Value>(&first[1..])
        .ok()
        .and_then(|v| v.get("sid").and_then(Value::as_str).map(str::to_owned))
        .ok_or_else(|| io::Error::other("no sid in the open packet"))?;
    let mut client = Client {
        get,
        post,
        path: format!("/socket.io/?EIO=4&transport=polling&sid={sid}"),
    };
    let answer = client.post.post(&client.path, b"40").await?;
    if answer.status != 200 {
        return Err(io::Error::other("CONNECT refused"));
    }
    loop {
        let response = client.get.get(&client.path).await?;
        if response.status != 200 {
            return Err(io::Error::other("poll failed"));
        }
        let mut pings = 0;
        let mut connected = false;
        for packet in response.body.split(|&b| b == PACKET_SEPARATOR) {
            if proto::is_ping(packet) {
                pings += 1;
            } else if packet.starts_with(b"40") {
                connected = true;
            }
        }
        for _ in 0..pings {
            client.post.post(&client.path, b"3").await?;
        }
        if connected {
            return Ok(client);
        }
    }
}

struct Shared {
    histogram: RefCell<Histogram<u64>>,
    acks: Cell<u64>,
    measuring: Cell<bool>,
    stop: Cell<bool>,
    errors: Cell<u64>,
}

/// Runs the scenario; the result is a JSON object (see `docs/BENCHMARKS.md`).
///
/// Must run inside a [`tokio::task::LocalSet`].
pub async fn run(config: &PollingConfig, phase: PhaseSink<'_>) -> Value {
    let start = Instant::now();
    let permits = Rc::new(tokio::sync::Semaphore::new(config.concurrency.max(1)));
    let mut connecting = Vec::with_capacity(config.clients);
    for _ in 0..config.clients {
        let permits = permits.clone();
        let addr = config.addr;
        connecting.push(tokio::task::spawn_local(async move {
            let _permit = permits.acquire().await.ok()?;
            tokio::time::timeout(Duration::from_secs(30), connect(addr))
                .await
                .ok()?
                .ok()
        }));
    }
    let mut clients = Vec::with_capacity(config.clients);
    for task in connecting {
        if let Ok(Some(client)) = task.await {
            clients.push(client);
        }
    }
    let connect_secs = start.elapsed().as_secs_f64();
    let connected = clients.len();
    let shared = Rc::new(Shared {
        histogram: RefCell::new(stats::latency_histogram()),
        acks: Cell::new(0),
        measuring: Cell::new(false),
        stop: Cell::new(false),
        errors: Cell::new(0),
    });
    let payload = proto::padded("", config.payload);
    let mut tasks = Vec::with_capacity(connected);
    for client in clients {
        let shared = shared.clone();
        let payload = payload.clone();
        tasks.push(tokio::task::spawn_local(async move {
            if echo_loop(client, &shared, &payload).await.is_err() && !shared.stop.get() {
                shared.errors.set(shared.errors.get() + 1);
            }
        }));
    }
    tokio::time::sleep(config.warmup).await;
    shared.measuring.set(true);
    phase("measure-start");
    let cpu = CpuWindow::start();
    let window = Instant::now();
    tokio::time::sleep(config.duration).await;
    shared.measuring.set(false);
    let elapsed = window.elapsed().as_secs_f64();
    let loadgen_cpu = cpu.percent();
    phase("measure-end");
    shared.stop.set(true);
    for task in &tasks {
        task.abort();
    }
    let acks = shared.acks.get();
    let mut result = json!({
        "scenario": "polling",
        "clients": config.clients,
        "connected": connected,
        "connect_failed": config.clients - connected,
        "connect_secs": connect_secs,
        "errors": shared.errors.get(),
        "acks": acks,
        "secs": elapsed,
        "acks_per_s": acks as f64 / elapsed,
        "loadgen_cpu_pct": loadgen_cpu,
    });
    crate::echo::merge(&mut result, stats::latency_json(&shared.histogram.borrow()));
    result
}

async fn echo_loop(mut client: Client, shared: &Shared, payload: &str) -> io::Result<()> {
    let mut body = Vec::with_capacity(payload.len() + 32);
    let mut id = 0u64;
    while !shared.stop.get() {
        id += 1;
        proto::echo_event(&mut body, id, payload);
        let sent = Instant::now();
        let Client { get, post, path } = &mut client;
        let posting = async {
            let answer = post.post(path, &body).await?;
            if answer.status != 200 {
                return Err(io::Error::other("POST failed"));
            }
            Ok(())
        };
        let polling = async {
            let mut pings = 0u32;
            loop {
                let response = get.get(path).await?;
                if response.status != 200 {
                    return Err(io::Error::other("GET failed"));
                }
                let mut acked = false;
                for packet in response.body.split(|&b| b == PACKET_SEPARATOR) {
                    if proto::is_ping(packet) {
                        pings += 1;
                    } else if proto::parse_ack(packet).is_some_and(|(ack, _)| ack == id) {
                        acked = true;
                    }
                }
                if acked {
                    return Ok(pings);
                }
            }
        };
        let (posted, polled) = tokio::join!(posting, polling);
        posted?;
        let pings = polled?;
        let micros = u64::try_from(sent.elapsed().as_micros()).unwrap_or(u64::MAX);
        if shared.measuring.get() {
            shared.acks.set(shared.acks.get() + 1);
            stats::record(&mut shared.histogram.borrow_mut(), micros);
        }
        for _ in 0..pings {
            let answer = post.post(path, b"3").await?;
            if answer.status != 200 {
                return Err(io::Error::other("pong failed"));
            }
        }
    }
    Ok(())
}
