//! Closed-loop echo over WebSocket: each connection sends `echo` with an acknowledgement and
//! sends the next one when the acknowledgement arrived.

use std::cell::{Cell, RefCell};
use std::io;
use std::net::SocketAddr;
use std::rc::Rc;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use serde_json::{Value, json};

use crate::PhaseSink;
use crate::proto::{self, Session};
use crate::stats::{self, CpuWindow};
use crate::ws::Opcode;

/// What to run.
#[derive(Debug, Clone)]
pub struct EchoConfig {
    /// The server.
    pub addr: SocketAddr,
    /// Connections, each with one echo in flight.
    pub conns: usize,
    /// Before the measurement.
    pub warmup: Duration,
    /// The measurement.
    pub duration: Duration,
    /// Bytes of the string argument (text echo).
    pub payload: usize,
    /// When set, the argument is one binary attachment of this many bytes instead.
    pub binary: Option<usize>,
    /// Handshakes in flight while connecting.
    pub concurrency: usize,
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
pub async fn run(config: &EchoConfig, phase: PhaseSink<'_>) -> Value {
    let (sessions, connect_failed, connect_secs) =
        proto::connect_many(config.addr, &[], config.conns, config.concurrency).await;
    let shared = Rc::new(Shared {
        histogram: RefCell::new(stats::latency_histogram()),
        acks: Cell::new(0),
        measuring: Cell::new(false),
        stop: Cell::new(false),
        errors: Cell::new(0),
    });
    let payload = proto::padded("", config.payload);
    let binary = config.binary.map(|len| vec![0xa5u8; len]);
    let mut tasks = Vec::with_capacity(sessions.len());
    for session in sessions {
        let shared = shared.clone();
        let payload = payload.clone();
        let binary = binary.clone();
        tasks.push(tokio::task::spawn_local(async move {
            if echo_loop(session, &shared, &payload, binary.as_deref())
                .await
                .is_err()
                && !shared.stop.get()
            {
                shared.errors.set(shared.errors.get() + 1);
            }
        }));
    }
    tokio::time::sleep(config.warmup).await;
    shared.measuring.set(true);
    phase("measure-start");
    let cpu = CpuWindow::start();
    let start = Instant::now();
    tokio::time::sleep(config.duration).await;
    shared.measuring.set(false);
    let elapsed = start.elapsed().as_secs_f64();
    let loadgen_cpu = cpu.percent();
    phase("measure-end");
    shared.stop.set(true);
    for task in &tasks {
        task.abort();
    }
    let acks = shared.acks.get();
    let histogram = shared.histogram.borrow();
    let mut result = json!({
        "scenario": if config.binary.is_some() { "binary" } else { "echo" },
        "conns": config.conns,
        "connected": config.conns - connect_failed,
        "connect_failed": connect_failed,
        "connect_secs": connect_secs,
        "errors": shared.errors.get(),
        "acks": acks,
        "secs": elapsed,
        "acks_per_s": acks as f64 / elapsed,
        "loadgen_cpu_pct": loadgen_cpu,
    });
    merge(&mut result, stats::latency_json(&histogram));
    result
}

/// Adds `extra`'s members to `target` (both objects).
pub fn merge(target: &mut Value, extra: Value) {
    if let (Some(target), Value::Object(extra)) = (target.as_object_mut(), extra) {
        target.extend(extra);
    }
}

async fn echo_loop(
    mut session: Session,
    shared: &Shared,
    payload: &str,
    binary: Option<&[u8]>,
) -> io::Result<()> {
    let mut out = Vec::with_capacity(payload.len() + 32);
    let mut id: u64 = 0;
    while !shared.stop.get() {
        id += 1;
        let sent = Instant::now();
        match binary {
            None => {
                proto::echo_event(&mut out, id, payload);
                session.writer.send_text(&out).await?;
            }
            Some(bytes) => {
                proto::binary_echo_event(&mut out, id);
                session
                    .writer
                    .send_text_and_binaries(&out, &[bytes])
                    .await?;
            }
        }
        // Wait for the acknowledgement (and its attachments).
        let mut attachments_left = None;
        loop {
            let frame = session.reader.next_frame().await?;
            let data = session.reader.payload(&frame);
            match (frame.opcode, attachments_left) {
                (Opcode::Binary, Some(left)) => {
                    if binary.is_some_and(|b| b.len() != data.len()) {
                        return Err(io::Error::other("attachment of the wrong size"));
                    }
                    if left <= 1 {
                        break;
                    }
                    attachments_left = Some(left - 1);
                }
                (Opcode::Text, _) if proto::is_ping(data) => {
                    session.writer.send_text(b"3").await?;
                }
                (Opcode::Text, None) => match proto::parse_ack(data) {
                    Some((ack, 0)) if ack == id => {
                        if binary.is_some() {
                            return Err(io::Error::other("binary echo acked without bytes"));
                        }
                        break;
                    }
                    Some((ack, attachments)) if ack == id => {
                        attachments_left = Some(attachments);
                    }
                    _ => {}
                },
                _ => {}
            }
        }
        proto::answer_ws_pings(&mut session.reader, &mut session.writer).await?;
        if shared.measuring.get() {
            shared.acks.set(shared.acks.get() + 1);
            let micros = u64::try_from(sent.elapsed().as_micros()).unwrap_or(u64::MAX);
            stats::record(&mut shared.histogram.borrow_mut(), micros);
        }
    }
    Ok(())
}
