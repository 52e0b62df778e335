//! Idle sessions: open `conns` WebSocket sessions as fast as the server takes them (at most
//! `concurrency` handshakes in flight), then hold them, answering every ping, until told to
//! stop. Reports the connection rate and whether every heartbeat came on time.

use std::cell::Cell;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::rc::Rc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::PhaseSink;
use crate::proto;
use crate::stats::CpuWindow;
use crate::ws::Opcode;

/// What to run.
#[derive(Debug, Clone)]
pub struct IdleConfig {
    /// The server.
    pub addr: SocketAddr,
    /// Sessions to open.
    pub conns: usize,
    /// Source addresses, used in turn (none: the kernel's choice).
    pub sources: Vec<IpAddr>,
    /// Handshakes in flight.
    pub concurrency: usize,
}

struct Shared {
    pings: Cell<u64>,
    late: Cell<u64>,
    max_gap: Cell<Duration>,
    disconnects: Cell<u64>,
    stop: Cell<bool>,
}

/// Runs the scenario: connects, reports the phase `connected`, holds the sessions until
/// `stop` completes, and returns the result (see `docs/BENCHMARKS.md`).
///
/// Must run inside a [`tokio::task::LocalSet`].
pub async fn run(
    config: &IdleConfig,
    phase: PhaseSink<'_>,
    stop: impl Future<Output = ()>,
) -> Value {
    let cpu = CpuWindow::start();
    let (sessions, connect_failed, connect_secs) = proto::connect_many(
        config.addr,
        &config.sources,
        config.conns,
        config.concurrency,
    )
    .await;
    let connect_cpu = cpu.percent();
    let connected = sessions.len();
    phase("connected");
    let shared = Rc::new(Shared {
        pings: Cell::new(0),
        late: Cell::new(0),
        max_gap: Cell::new(Duration::ZERO),
        disconnects: Cell::new(0),
        stop: Cell::new(false),
    });
    let held_from = Instant::now();
    let mut tasks = Vec::with_capacity(connected);
    for mut session in sessions {
        let shared = shared.clone();
        tasks.push(tokio::task::spawn_local(async move {
            // A ping is late when it comes more than 2 s after the interval (from the
            // previous ping, or from the start of the hold for the first one, which
            // is early rather than late since the session started before).
            let allowed = session.ping_interval + Duration::from_secs(2);
            let mut last = Instant::now();
            let result: std::io::Result<()> = async {
                loop {
                    let frame = session.reader.next_frame().await?;
                    let data = session.reader.payload(&frame);
                    if frame.opcode == Opcode::Text && proto::is_ping(data) {
                        let now = Instant::now();
                        let gap = now - last;
                        last = now;
                        shared.pings.set(shared.pings.get() + 1);
                        if gap > allowed {
                            shared.late.set(shared.late.get() + 1);
                        }
                        if gap > shared.max_gap.get() {
                            shared.max_gap.set(gap);
                        }
                        session.writer.send_text(b"3").await?;
                    }
                    proto::answer_ws_pings(&mut session.reader, &mut session.writer).await?;
                }
            }
            .await;
            if result.is_err() && !shared.stop.get() {
                shared.disconnects.set(shared.disconnects.get() + 1);
            }
        }));
    }
    stop.await;
    shared.stop.set(true);
    let held_secs = held_from.elapsed().as_secs_f64();
    for task in &tasks {
        task.abort();
    }
    json!({
        "scenario": "idle",
        "conns": config.conns,
        "connected": connected,
        "connect_failed": connect_failed,
        "connect_secs": connect_secs,
        "conns_per_s": connected as f64 / connect_secs.max(1e-9),
        "connect_loadgen_cpu_pct": connect_cpu,
        "held_secs": held_secs,
        "pings": shared.pings.get(),
        "late_pings": shared.late.get(),
        "max_ping_gap_ms": shared.max_gap.get().as_millis() as u64,
        "disconnects": shared.disconnects.get(),
    })
}
