//! Broadcast fan-out: `receivers` WebSocket sessions in the room `all`, one of them sends
//! `bcast` at a fixed rate (open loop); every session counts the `msg` it receives.
//!
//! The payload is a 64-byte string `"<seq>:<send time µs>:xxx…"`. Latency (send to receipt)
//! is measured on the `probes` first receivers, which read as soon as data arrives; the others
//! read in batches every `batch` so the load generator spends one read per batch instead of
//! one per message (it would otherwise be the bottleneck long before the servers). Losses are
//! counted on every receiver: each should receive every message sent.

use std::cell::{Cell, RefCell};
use std::io;
use std::net::SocketAddr;
use std::rc::Rc;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use serde_json::{Value, json};
use tokio::time::MissedTickBehavior;

use crate::PhaseSink;
use crate::proto::{self, Session};
use crate::stats::{self, CpuWindow};
use crate::ws::{Opcode, WsReader, WsWriter};

/// What to run.
#[derive(Debug, Clone)]
pub struct BcastConfig {
    /// The server (the sender's).
    pub addr: SocketAddr,
    /// Other servers of the same cluster: the receivers are spread over all servers, in turn,
    /// so that the latency probes measure delivery through the cluster too.
    pub also: Vec<SocketAddr>,
    /// Sessions in the room, the sender included.
    pub receivers: usize,
    /// Broadcasts per second (each reaches every receiver).
    pub rate: f64,
    /// How long the sender sends.
    pub duration: Duration,
    /// Bytes of the string argument.
    pub payload: usize,
    /// Receivers that measure latency (read eagerly).
    pub probes: usize,
    /// How often the other receivers read.
    pub batch: Duration,
    /// How long to wait for the last deliveries after the sender stopped.
    pub drain: Duration,
    /// Handshakes in flight while connecting.
    pub concurrency: usize,
}

struct Shared {
    base: Instant,
    histogram: RefCell<Histogram<u64>>,
    delivered: Cell<u64>,
    last_delivery: Cell<Instant>,
    disconnects: Cell<u64>,
    stop: Cell<bool>,
}

impl Shared {
    fn delivered(&self, now: Instant) {
        self.delivered.set(self.delivered.get() + 1);
        self.last_delivery.set(now);
    }
}

/// Connects the receivers to every server of a cluster, interleaved (server 1, 2, 3, 1, …).
async fn connect_cluster(config: &BcastConfig) -> (Vec<Session>, usize, f64) {
    let addrs: Vec<SocketAddr> = std::iter::once(config.addr)
        .chain(config.also.iter().copied())
        .collect();
    let mut per_server = Vec::with_capacity(addrs.len());
    let (mut failed, mut secs) = (0, 0.0);
    for (i, addr) in addrs.iter().enumerate() {
        let n = config.receivers / addrs.len() + usize::from(i < config.receivers % addrs.len());
        let (sessions, f, s) = proto::connect_many(*addr, &[], n, config.concurrency).await;
        failed += f;
        secs += s;
        per_server.push(sessions.into_iter());
    }
    let mut sessions = Vec::with_capacity(config.receivers);
    loop {
        let before = sessions.len();
        for server in &mut per_server {
            sessions.extend(server.next());
        }
        if sessions.len() == before {
            break;
        }
    }
    (sessions, failed, secs)
}

/// Runs the scenario; the result is a JSON object (see `docs/BENCHMARKS.md`).
///
/// Must run inside a [`tokio::task::LocalSet`].
pub async fn run(config: &BcastConfig, phase: PhaseSink<'_>) -> Value {
    let (mut sessions, connect_failed, connect_secs) = if config.also.is_empty() {
        proto::connect_many(config.addr, &[], config.receivers, config.concurrency).await
    } else {
        connect_cluster(config).await
    };
    let connected = sessions.len();
    let shared = Rc::new(Shared {
        base: Instant::now(),
        histogram: RefCell::new(stats::latency_histogram()),
        delivered: Cell::new(0),
        last_delivery: Cell::new(Instant::now()),
        disconnects: Cell::new(0),
        stop: Cell::new(false),
    });
    if sessions.is_empty() {
        return json!({"scenario": "bcast", "error": "no session connected", "connect_failed": connect_failed});
    }
    let sender = sessions.swap_remove(0);
    let mut tasks = Vec::with_capacity(connected + 1);
    // The sender's own session receives too (the room includes it); its pongs go through the
    // sending task, which owns the writer.
    let (pong_tx, pong_rx) = tokio::sync::mpsc::unbounded_channel::<()>();
    {
        let shared = shared.clone();
        let mut reader = sender.reader;
        tasks.push(tokio::task::spawn_local(async move {
            if eager_receiver(&mut reader, None, Some(&pong_tx), &shared)
                .await
                .is_err()
                && !shared.stop.get()
            {
                shared.disconnects.set(shared.disconnects.get() + 1);
            }
        }));
    }
    for (i, session) in sessions.into_iter().enumerate() {
        let shared = shared.clone();
        let probe = i + 1 < config.probes;
        let batch = config.batch;
        tasks.push(tokio::task::spawn_local(async move {
            let Session {
                mut reader,
                mut writer,
                ..
            } = session;
            let result = if probe {
                eager_receiver(&mut reader, Some(&mut writer), None, &shared).await
            } else {
                batch_receiver(&mut reader, &mut writer, batch, &shared).await
            };
            if result.is_err() && !shared.stop.get() {
                shared.disconnects.set(shared.disconnects.get() + 1);
            }
        }));
    }
    // Every session joined `all` before its CONNECT answer; let the last answers settle.
    tokio::time::sleep(Duration::from_millis(500)).await;

    phase("measure-start");
    let cpu = CpuWindow::start();
    let sent = Rc::new(Cell::new(0u64));
    let first_send = Instant::now();
    let sending = {
        let sent = sent.clone();
        let shared = shared.clone();
        let config = config.clone();
        tokio::task::spawn_local(async move {
            let mut writer = sender.writer;
            let _ = send_loop(&mut writer, &config, &sent, &shared, pong_rx).await;
        })
    };
    tokio::time::sleep(config.duration).await;
    let send_secs = first_send.elapsed().as_secs_f64();
    let sent_count_at_end = sent.get();
    // Drain: until everything arrived, nothing arrived for 2 s, or the drain time is over.
    let drain_start = Instant::now();
    loop {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let expected = sent.get() * connected as u64;
        if shared.delivered.get() >= expected
            || shared.last_delivery.get().elapsed() > Duration::from_secs(2)
            || drain_start.elapsed() > config.drain
        {
            break;
        }
    }
    let loadgen_cpu = cpu.percent();
    phase("measure-end");
    shared.stop.set(true);
    sending.abort();
    for task in &tasks {
        task.abort();
    }
    let sent = sent.get();
    let delivered = shared.delivered.get();
    let expected = sent * connected as u64;
    let span = shared
        .last_delivery
        .get()
        .saturating_duration_since(first_send)
        .as_secs_f64()
        .max(send_secs.min(1e-3));
    let mut result = json!({
        "scenario": "bcast",
        "receivers": config.receivers,
        "connected": connected,
        "connect_failed": connect_failed,
        "connect_secs": connect_secs,
        "target_rate": config.rate,
        "sent": sent,
        "sent_during_window": sent_count_at_end,
        "send_rate": sent as f64 / send_secs,
        "expected": expected,
        "delivered": delivered,
        "losses": expected.saturating_sub(delivered),
        "loss_pct": if expected == 0 { 0.0 } else { expected.saturating_sub(delivered) as f64 * 100.0 / expected as f64 },
        "disconnects": shared.disconnects.get(),
        "secs": span,
        "deliveries_per_s": delivered as f64 / span,
        "loadgen_cpu_pct": loadgen_cpu,
    });
    crate::echo::merge(&mut result, stats::latency_json(&shared.histogram.borrow()));
    result
}

async fn send_loop(
    writer: &mut WsWriter,
    config: &BcastConfig,
    sent: &Cell<u64>,
    shared: &Shared,
    mut pongs: tokio::sync::mpsc::UnboundedReceiver<()>,
) -> io::Result<()> {
    let period = Duration::from_secs_f64(1.0 / config.rate.max(0.001));
    let mut interval = tokio::time::interval(period);
    interval.set_missed_tick_behavior(MissedTickBehavior::Burst);
    let end = Instant::now() + config.duration;
    let mut out = Vec::with_capacity(config.payload + 32);
    let mut seq = 0u64;
    while Instant::now() < end {
        interval.tick().await;
        while pongs.try_recv().is_ok() {
            writer.send_text(b"3").await?;
        }
        seq += 1;
        let micros = shared.base.elapsed().as_micros();
        let arg = proto::padded(&format!("{seq}:{micros}:"), config.payload);
        out.clear();
        out.extend_from_slice(b"42[\"bcast\",\"");
        out.extend_from_slice(arg.as_bytes());
        out.extend_from_slice(b"\"]");
        writer.send_text(&out).await?;
        sent.set(seq);
    }
    // Keep answering the sender session's pings until the end.
    while !shared.stop.get() {
        if pongs.recv().await.is_none() {
            break;
        }
        writer.send_text(b"3").await?;
    }
    Ok(())
}

/// The send time (µs since `base`) in a `msg` event's payload.
fn send_time(payload: &[u8]) -> Option<u64> {
    let rest = payload.strip_prefix(b"42[\"msg\",\"")?;
    let colon = rest.iter().position(|&b| b == b':')?;
    let rest = &rest[colon + 1..];
    let end = rest.iter().position(|&b| b == b':')?;
    proto::parse_u64(&rest[..end])
}

fn is_msg(payload: &[u8]) -> bool {
    payload.starts_with(b"42[\"msg\"")
}

/// Reads as data arrives and records latency.
async fn eager_receiver(
    reader: &mut WsReader,
    mut writer: Option<&mut WsWriter>,
    pongs: Option<&tokio::sync::mpsc::UnboundedSender<()>>,
    shared: &Shared,
) -> io::Result<()> {
    loop {
        let frame = reader.next_frame().await?;
        let data = reader.payload(&frame);
        if frame.opcode != Opcode::Text {
            continue;
        }
        if is_msg(data) {
            let now = Instant::now();
            shared.delivered(now);
            if let Some(sent) = send_time(data) {
                let at =
                    u64::try_from(now.duration_since(shared.base).as_micros()).unwrap_or(u64::MAX);
                stats::record(&mut shared.histogram.borrow_mut(), at.saturating_sub(sent));
            }
        } else if proto::is_ping(data) {
            if let Some(writer) = writer.as_deref_mut() {
                writer.send_text(b"3").await?;
            }
            if let Some(pongs) = pongs {
                let _ = pongs.send(());
            }
        }
    }
}

/// Reads whatever arrived every `batch`, counting deliveries.
async fn batch_receiver(
    reader: &mut WsReader,
    writer: &mut WsWriter,
    batch: Duration,
    shared: &Shared,
) -> io::Result<()> {
    while !shared.stop.get() {
        match tokio::time::timeout(Duration::from_millis(250), reader.readable()).await {
            Err(_) => continue,
            Ok(result) => result?,
        }
        if !reader.try_fill()? {
            continue;
        }
        let now = Instant::now();
        let mut ping = false;
        while let Some(frame) = reader.next_buffered()? {
            let data = reader.payload(&frame);
            if frame.opcode != Opcode::Text {
                continue;
            }
            if is_msg(data) {
                shared.delivered(now);
            } else if proto::is_ping(data) {
                ping = true;
            }
        }
        if ping {
            writer.send_text(b"3").await?;
        }
        proto::answer_ws_pings(reader, writer).await?;
        tokio::time::sleep(batch).await;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn send_time_parses() {
        assert_eq!(send_time(b"42[\"msg\",\"12:3456:xxxx\"]"), Some(3456));
        assert_eq!(send_time(b"42[\"echo\",\"12:3456:xxxx\"]"), None);
    }
}
