//! The runner of the load benchmark: for every run, every scenario and every server (the order
//! of the servers rotates from run to run), it starts a fresh server pinned to core 0, runs the
//! load generator pinned to core 1, samples the server's memory and CPU from `/proc`, stops the
//! server, and at the end prints the table of medians, spreads and ratios (markdown), also
//! written with the raw results to `--out`.
//!
//! Normally started by `bench/load/run.sh`, which builds the three servers first.
//!
//! ```text
//! bench-runner [--smoke] [--runs 3] [--servers ours,socketioxide,node] [--scenarios LIST]
//!              [--socketioxide-bin PATH] [--node-dir DIR] [--out DIR] [--port-base 44100]
//!              [--bcast-rates 100,300] [--no-pin]
//! ```
//!
//! `--scenarios cluster-bcast-100` (not in the default list: it needs Redis, at
//! `BENCH_REDIS_URL` or 127.0.0.1:6379) broadcasts across a cluster of three servers of each
//! implementation sharing Redis.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{BufRead, BufReader, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::{Duration, Instant};

use bench::stats::{cpu_seconds, rss_kib};
use serde_json::{Value, json};

type Metrics = BTreeMap<String, f64>;

/// Replaced by the server's address in load generator arguments once the server runs.
const PORT: &str = "{server address}";

/// A scenario that does not apply to a server.
const SKIPPED: &str = "skipped";

const SERVERS: [&str; 3] = ["ours", "socketioxide", "node"];

#[derive(Debug, Clone)]
struct Options {
    smoke: bool,
    runs: usize,
    servers: Vec<String>,
    scenarios: Vec<String>,
    bcast_rates: Vec<f64>,
    socketioxide_bin: PathBuf,
    node_dir: PathBuf,
    out: PathBuf,
    port_base: u16,
    pin: bool,
    exe_dir: PathBuf,
}

/// The sizes of one scenario run, full or smoke.
#[derive(Debug, Clone, Copy)]
struct Sizes {
    idle_10k: usize,
    idle_limit: usize,
    idle_multi: usize,
    idle_multi_servers: usize,
    idle_multi_loadgens: usize,
    idle_settle: f64,
    idle_hold: f64,
    echo_small: usize,
    echo_large: usize,
    warmup: f64,
    duration: f64,
    bcast_receivers: usize,
    bcast_duration: f64,
    polling: usize,
    binary_conns: usize,
}

const FULL: Sizes = Sizes {
    idle_10k: 10_000,
    // The descriptor limit is 20,000 per process: leave room for the server's own.
    idle_limit: 19_500,
    idle_multi: 100_000,
    idle_multi_servers: 6,
    idle_multi_loadgens: 11,
    idle_settle: 5.0,
    // Longer than pingInterval (25 s) so that every session gets a ping.
    idle_hold: 32.0,
    echo_small: 100,
    echo_large: 1000,
    warmup: 2.0,
    duration: 10.0,
    bcast_receivers: 10_000,
    bcast_duration: 10.0,
    polling: 1000,
    binary_conns: 100,
};

const SMOKE: Sizes = Sizes {
    idle_10k: 500,
    idle_limit: 1000,
    idle_multi: 2000,
    idle_multi_servers: 2,
    idle_multi_loadgens: 2,
    idle_settle: 1.0,
    idle_hold: 2.0,
    echo_small: 20,
    echo_large: 100,
    warmup: 0.5,
    duration: 2.0,
    bcast_receivers: 300,
    bcast_duration: 2.0,
    polling: 50,
    binary_conns: 20,
};

fn usage(message: &str) -> ! {
    eprintln!("bench-runner: {message}");
    std::process::exit(2);
}

fn parse() -> Options {
    let exe_dir = std::env::current_exe()
        .ok()
        .and_then(|p| p.parent().map(Path::to_path_buf))
        .unwrap_or_else(|| usage("cannot locate the runner's directory"));
    let mut options = Options {
        smoke: false,
        runs: 3,
        servers: SERVERS.iter().map(|s| (*s).to_owned()).collect(),
        scenarios: Vec::new(),
        bcast_rates: vec![100.0, 300.0],
        socketioxide_bin: exe_dir.join("socketioxide-bench-server"),
        node_dir: PathBuf::from("bench/node"),
        out: exe_dir.join("bench-load"),
        port_base: 44100,
        pin: true,
        exe_dir,
    };
    let mut args = std::env::args().skip(1);
    let mut runs = None;
    while let Some(flag) = args.next() {
        let mut value = || {
            args.next()
                .unwrap_or_else(|| usage(&format!("{flag} needs a value")))
        };
        let list = |v: String| v.split(',').map(str::to_owned).collect::<Vec<_>>();
        match flag.as_str() {
            "--smoke" => options.smoke = true,
            "--no-pin" => options.pin = false,
            "--runs" => runs = Some(value().parse().unwrap_or_else(|_| usage("bad --runs"))),
            "--servers" => options.servers = list(value()),
            "--scenarios" => options.scenarios = list(value()),
            "--bcast-rates" => {
                options.bcast_rates = list(value())
                    .iter()
                    .map(|r| r.parse().unwrap_or_else(|_| usage("bad --bcast-rates")))
                    .collect();
            }
            "--socketioxide-bin" => options.socketioxide_bin = value().into(),
            "--node-dir" => options.node_dir = value().into(),
            "--out" => options.out = value().into(),
            "--port-base" => {
                options.port_base = value().parse().unwrap_or_else(|_| usage("bad --port-base"));
            }
            other => usage(&format!("unknown flag {other}")),
        }
    }
    options.runs = runs.unwrap_or(if options.smoke { 1 } else { 3 });
    if options.scenarios.is_empty() {
        let mut all: Vec<String> = [
            "idle-10k",
            "idle-limit",
            "idle-100k",
            "echo-100",
            "echo-1000",
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
        for rate in &options.bcast_rates {
            all.push(format!("bcast-{rate}"));
        }
        all.extend(["polling-1000".to_owned(), "binary-4k".to_owned()]);
        options.scenarios = all;
    }
    for server in &options.servers {
        if !SERVERS.contains(&server.as_str()) {
            usage(&format!("unknown server {server}"));
        }
    }
    options
}

/// A server process (or several sharing a port) pinned to core 0.
struct ServerProcs {
    children: Vec<Child>,
}

impl ServerProcs {
    fn pids(&self) -> Vec<u32> {
        self.children.iter().map(Child::id).collect()
    }

    fn rss_kib(&self) -> u64 {
        self.pids().iter().filter_map(|&pid| rss_kib(pid)).sum()
    }

    fn cpu_seconds(&self) -> f64 {
        self.pids()
            .iter()
            .filter_map(|&pid| cpu_seconds(Some(pid)))
            .sum()
    }

    fn alive(&mut self) -> bool {
        self.children
            .iter_mut()
            .all(|c| matches!(c.try_wait(), Ok(None)))
    }
}

impl Drop for ServerProcs {
    fn drop(&mut self) {
        for child in &mut self.children {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn pinned(options: &Options, core: u32, program: &Path) -> Command {
    if options.pin {
        let mut command = Command::new("taskset");
        command.arg("-c").arg(core.to_string()).arg(program);
        command
    } else {
        Command::new(program)
    }
}

/// Starts `server` on the first port from `port` on that is free: the load generator's
/// ephemeral source ports share the range, so a port may be taken by a client socket.
fn start_server(
    options: &Options,
    server: &str,
    port: u16,
    processes: usize,
    log: &Path,
) -> Result<(ServerProcs, u16), String> {
    start_server_with(options, server, port, processes, log, &[])
}

/// [`start_server`] with more arguments for the server (`--redis URL --key K`).
fn start_server_with(
    options: &Options,
    server: &str,
    port: u16,
    processes: usize,
    log: &Path,
    extra: &[String],
) -> Result<(ServerProcs, u16), String> {
    let mut last = String::new();
    for candidate in port..port.saturating_add(20) {
        if std::net::TcpListener::bind(("127.0.0.1", candidate)).is_err() {
            continue;
        }
        match start_server_on(options, server, candidate, processes, log, extra) {
            Ok(procs) => return Ok((procs, candidate)),
            Err(e) => last = e,
        }
    }
    Err(last)
}

fn start_server_on(
    options: &Options,
    server: &str,
    port: u16,
    processes: usize,
    log: &Path,
    extra: &[String],
) -> Result<ServerProcs, String> {
    let mut procs = ServerProcs {
        children: Vec::new(),
    };
    for _ in 0..processes {
        let mut command = match server {
            "ours" => pinned(options, 0, &options.exe_dir.join("bench-server")),
            "socketioxide" => pinned(options, 0, &options.socketioxide_bin),
            "node" => {
                let mut command = pinned(options, 0, Path::new("node"));
                command.arg(options.node_dir.join("server.js"));
                command
            }
            other => return Err(format!("unknown server {other}")),
        };
        command.arg("--port").arg(port.to_string()).args(extra);
        if processes > 1 {
            command.arg("--reuseport");
        }
        let log_file = std::fs::File::options()
            .create(true)
            .append(true)
            .open(log)
            .map_err(|e| format!("log {}: {e}", log.display()))?;
        let err_file = log_file.try_clone().map_err(|e| e.to_string())?;
        let child = command
            .stdin(Stdio::null())
            .stdout(log_file)
            .stderr(err_file)
            .spawn()
            .map_err(|e| format!("starting {server}: {e}"))?;
        procs.children.push(child);
    }
    // Ready when it accepts connections (every process of a shared port binds before that
    // matters: connections go to whichever process is listening).
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            break;
        }
        if Instant::now() > deadline || !procs.alive() {
            return Err(format!(
                "{server} did not start on port {port} (see {})",
                log.display()
            ));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    // Let every process of a shared port bind, and the process settle.
    std::thread::sleep(Duration::from_millis(if processes > 1 {
        1500
    } else {
        500
    }));
    Ok(procs)
}

/// A load generator process and the JSON lines it printed.
struct Loadgen {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: Receiver<Value>,
}

impl Loadgen {
    fn spawn(options: &Options, args: &[String], log: &Path) -> Result<Self, String> {
        let err_file = std::fs::File::options()
            .create(true)
            .append(true)
            .open(log)
            .map_err(|e| e.to_string())?;
        let mut child = pinned(options, 1, &options.exe_dir.join("loadgen"))
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(err_file)
            .spawn()
            .map_err(|e| format!("starting loadgen: {e}"))?;
        let stdout = child.stdout.take().ok_or("no stdout")?;
        let stdin = child.stdin.take();
        let (tx, rx) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if let Ok(value) = serde_json::from_str::<Value>(&line) {
                    if tx.send(value).is_err() {
                        break;
                    }
                }
            }
        });
        Ok(Self {
            child,
            stdin,
            lines: rx,
        })
    }

    /// Waits for the line whose `phase` is `name` (a `result` line ends any wait).
    fn wait(&mut self, name: &str, timeout: Duration) -> Result<Value, String> {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(value) => {
                    let phase = value.get("phase").and_then(Value::as_str).unwrap_or("");
                    if phase == name {
                        return Ok(value);
                    }
                    if phase == "result" {
                        return Err(format!("load generator ended before {name}: {value}"));
                    }
                }
                Err(RecvTimeoutError::Timeout) => {
                    return Err(format!("timed out waiting for {name}"));
                }
                Err(RecvTimeoutError::Disconnected) => {
                    return Err(format!("load generator exited before {name}"));
                }
            }
        }
    }

    fn stop(&mut self) {
        if let Some(mut stdin) = self.stdin.take() {
            let _ = stdin.write_all(b"stop\n");
        }
    }
}

impl Drop for Loadgen {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn numbers(value: &Value, into: &mut Metrics) {
    if let Some(object) = value.as_object() {
        for (key, v) in object {
            if let Some(n) = v.as_f64() {
                into.insert(key.clone(), n);
            }
        }
    }
}

struct Ctx<'a> {
    options: &'a Options,
    sizes: Sizes,
    port: u16,
    /// Distinguishes the source addresses of successive idle runs (TIME_WAIT).
    source_block: u8,
    log: PathBuf,
}

fn s(x: impl ToString) -> String {
    x.to_string()
}

/// Whole seconds, rounded up.
fn secs(x: f64) -> String {
    (x.ceil() as u64).to_string()
}

fn run_closed_loop(
    ctx: &Ctx<'_>,
    server: &str,
    args: Vec<String>,
    timeout: f64,
) -> Result<Metrics, String> {
    let (procs, port) = start_server(ctx.options, server, ctx.port, 1, &ctx.log)?;
    let args: Vec<String> = args
        .into_iter()
        .map(|a| {
            if a == PORT {
                format!("127.0.0.1:{port}")
            } else {
                a
            }
        })
        .collect();
    measure(ctx, &procs, &args, timeout)
}

/// The Redis of the cluster scenarios (`BENCH_REDIS_URL`, default 127.0.0.1:6379).
fn redis_url() -> String {
    std::env::var("BENCH_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379/".to_owned())
}

/// `cluster-bcast-<rate>`: three servers of one implementation sharing Redis (ours with
/// socketio-redis, Node with @socket.io/redis-adapter), the receivers spread over the three,
/// the sender on the first: every broadcast crosses Redis to reach two thirds of them.
fn run_cluster_bcast(ctx: &Ctx<'_>, server: &str, rate: f64) -> Result<Metrics, String> {
    if server == "socketioxide" {
        return Err(format!(
            "{SKIPPED}: socketioxide's Redis adapter is not in its benchmark server yet"
        ));
    }
    let url = redis_url();
    let host = url
        .trim_start_matches("redis://")
        .trim_end_matches('/')
        .to_owned();
    if std::net::TcpStream::connect(&host).is_err() {
        return Err(format!("Redis is needed at {url} (BENCH_REDIS_URL)"));
    }
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let key = format!("bench-{}-{nanos}", std::process::id());
    let extra = [s("--redis"), url, s("--key"), key];
    let mut procs = ServerProcs {
        children: Vec::new(),
    };
    let mut ports = Vec::new();
    for i in 0..3u16 {
        let (mut started, port) =
            start_server_with(ctx.options, server, ctx.port + i * 25, 1, &ctx.log, &extra)?;
        procs.children.append(&mut started.children);
        ports.push(port);
    }
    let z = ctx.sizes;
    let args = vec![
        s("bcast"),
        s("--addr"),
        format!("127.0.0.1:{}", ports[0]),
        s("--also"),
        ports[1..]
            .iter()
            .map(|p| format!("127.0.0.1:{p}"))
            .collect::<Vec<_>>()
            .join(","),
        s("--conns"),
        s(z.bcast_receivers),
        s("--rate"),
        s(rate),
        s("--duration"),
        s(z.bcast_duration),
        s("--max-secs"),
        secs(z.bcast_duration + 400.0),
    ];
    measure(ctx, &procs, &args, z.bcast_duration + 300.0)
}

/// Runs the load generator against servers already started and collects the metrics.
fn measure(
    ctx: &Ctx<'_>,
    procs: &ServerProcs,
    args: &[String],
    timeout: f64,
) -> Result<Metrics, String> {
    let mut loadgen = Loadgen::spawn(ctx.options, args, &ctx.log)?;
    let timeout = Duration::from_secs_f64(timeout);
    loadgen.wait("measure-start", timeout)?;
    let cpu0 = procs.cpu_seconds();
    let t0 = Instant::now();
    loadgen.wait("measure-end", timeout)?;
    let server_cpu = (procs.cpu_seconds() - cpu0) / t0.elapsed().as_secs_f64() * 100.0;
    let rss = procs.rss_kib();
    let result = loadgen.wait("result", Duration::from_secs(30))?;
    let mut metrics = Metrics::new();
    numbers(&result, &mut metrics);
    metrics.insert("server_cpu_pct".into(), server_cpu);
    metrics.insert("server_rss_mib".into(), rss as f64 / 1024.0);
    // CPU time per operation: comparable even when the server did not get its whole core.
    let rate = metrics
        .get("acks_per_s")
        .or_else(|| metrics.get("deliveries_per_s"))
        .copied()
        .unwrap_or(0.0);
    if rate > 0.0 {
        metrics.insert(
            "server_cpu_us_per_op".into(),
            server_cpu / 100.0 * 1e6 / rate,
        );
    }
    if let Some(p50) = metrics.get("p50_us").copied() {
        metrics.insert("p50_ms".into(), p50 / 1000.0);
    }
    if let Some(p99) = metrics.get("p99_us").copied() {
        metrics.insert("p99_ms".into(), p99 / 1000.0);
    }
    Ok(metrics)
}

/// Kernel memory that grows with TCP connections, in KiB: the slab caches (socket structures)
/// and the TCP buffers (`/proc/net/sockstat`, pages). Both ends of a loopback connection count.
fn kernel_kib() -> (u64, u64) {
    let slab = std::fs::read_to_string("/proc/meminfo")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("Slab:"))
        .and_then(|r| r.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0);
    let tcp_pages: u64 = std::fs::read_to_string("/proc/net/sockstat")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("TCP:"))
        .and_then(|r| {
            let fields: Vec<&str> = r.split_whitespace().collect();
            fields
                .iter()
                .position(|f| *f == "mem")
                .and_then(|i| fields.get(i + 1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0);
    (slab, tcp_pages * 4)
}

fn run_idle(
    ctx: &Ctx<'_>,
    server: &str,
    conns: usize,
    servers: usize,
    loadgens: usize,
    hold: f64,
) -> Result<Metrics, String> {
    let (mut procs, port) = start_server(ctx.options, server, ctx.port, servers, &ctx.log)?;
    let base = procs.rss_kib();
    let kernel_base = kernel_kib();
    let cpu0 = procs.cpu_seconds();
    let t0 = Instant::now();
    let mut gens = Vec::new();
    for i in 0..loadgens {
        let n = conns / loadgens + usize::from(i < conns % loadgens);
        // One source address per process past the first: 127.<block>.<i>.10.
        let source = format!("127.{}.{}.10", ctx.source_block, i + 1);
        let args = vec![
            s("idle"),
            s("--addr"),
            format!("127.0.0.1:{port}"),
            s("--conns"),
            s(n),
            s("--source"),
            source,
            s("--hold"),
            s(hold + 600.0),
            s("--max-secs"),
            secs(hold + 900.0),
        ];
        gens.push(Loadgen::spawn(ctx.options, &args, &ctx.log)?);
    }
    for gen_ in &mut gens {
        gen_.wait("connected", Duration::from_secs(600))?;
    }
    let connect_wall = t0.elapsed().as_secs_f64();
    let connect_server_cpu = (procs.cpu_seconds() - cpu0) / connect_wall * 100.0;
    std::thread::sleep(Duration::from_secs_f64(ctx.sizes.idle_settle));
    let rss = procs.rss_kib();
    let kernel = kernel_kib();
    let held = Instant::now();
    if hold > ctx.sizes.idle_settle {
        std::thread::sleep(Duration::from_secs_f64(hold - ctx.sizes.idle_settle));
    }
    let rss_end = procs.rss_kib();
    let alive = procs.alive();
    for gen_ in &mut gens {
        gen_.stop();
    }
    let mut metrics = Metrics::new();
    let mut connected = 0.0;
    let mut connect_secs: f64 = 0.0;
    for gen_ in &mut gens {
        let result = gen_.wait("result", Duration::from_secs(60))?;
        let mut m = Metrics::new();
        numbers(&result, &mut m);
        connected += m.get("connected").copied().unwrap_or(0.0);
        connect_secs = connect_secs.max(m.get("connect_secs").copied().unwrap_or(0.0));
        for key in ["connect_failed", "pings", "late_pings", "disconnects"] {
            *metrics.entry(key.into()).or_insert(0.0) += m.get(key).copied().unwrap_or(0.0);
        }
        let gap = m.get("max_ping_gap_ms").copied().unwrap_or(0.0);
        let entry = metrics.entry("max_ping_gap_ms".into()).or_insert(0.0);
        *entry = entry.max(gap);
        let cpu = m.get("connect_loadgen_cpu_pct").copied().unwrap_or(0.0);
        let entry = metrics
            .entry("connect_loadgen_cpu_pct".into())
            .or_insert(0.0);
        *entry = entry.max(cpu);
    }
    metrics.insert("connected".into(), connected);
    metrics.insert("connect_secs".into(), connect_secs);
    metrics.insert("conns_per_s".into(), connected / connect_secs.max(1e-9));
    metrics.insert("connect_server_cpu_pct".into(), connect_server_cpu);
    if connected > 0.0 {
        metrics.insert(
            "server_cpu_us_per_op".into(),
            connect_server_cpu / 100.0 * connect_wall * 1e6 / connected,
        );
    }
    metrics.insert("server_rss_base_mib".into(), base as f64 / 1024.0);
    metrics.insert("server_rss_mib".into(), rss as f64 / 1024.0);
    metrics.insert("server_rss_end_mib".into(), rss_end as f64 / 1024.0);
    metrics.insert(
        "held_secs".into(),
        held.elapsed().as_secs_f64() + ctx.sizes.idle_settle,
    );
    metrics.insert("server_survived".into(), if alive { 1.0 } else { 0.0 });
    if connected > 0.0 {
        metrics.insert(
            "mem_per_conn_kib".into(),
            (rss.saturating_sub(base)) as f64 / connected,
        );
        // Machine-wide, both ends of each connection: an estimate, other processes move it.
        metrics.insert(
            "kernel_slab_per_conn_kib".into(),
            kernel.0.saturating_sub(kernel_base.0) as f64 / connected,
        );
        metrics.insert(
            "kernel_tcp_buf_per_conn_kib".into(),
            kernel.1.saturating_sub(kernel_base.1) as f64 / connected,
        );
    }
    Ok(metrics)
}

fn run_scenario(ctx: &Ctx<'_>, scenario: &str, server: &str) -> Result<Metrics, String> {
    let z = ctx.sizes;
    let addr = s(PORT);
    let closed = |kind: &str, conns: usize, extra: &[String]| {
        let mut args = vec![
            s(kind),
            s("--addr"),
            addr.clone(),
            s("--conns"),
            s(conns),
            s("--warmup"),
            s(z.warmup),
            s("--duration"),
            s(z.duration),
            s("--max-secs"),
            secs(z.warmup + z.duration + 300.0),
        ];
        args.extend_from_slice(extra);
        run_closed_loop(ctx, server, args, z.warmup + z.duration + 240.0)
    };
    match scenario {
        "idle-10k" => run_idle(ctx, server, z.idle_10k, 1, 1, z.idle_settle),
        "idle-limit" => run_idle(ctx, server, z.idle_limit, 1, 2, z.idle_hold),
        "idle-100k" => {
            if server == "node" {
                return Err(format!("{SKIPPED}: the Node server is one process"));
            }
            run_idle(
                ctx,
                server,
                z.idle_multi,
                z.idle_multi_servers,
                z.idle_multi_loadgens,
                z.idle_settle,
            )
        }
        "echo-100" => closed("echo", z.echo_small, &[]),
        "echo-1000" => closed("echo", z.echo_large, &[]),
        "polling-1000" => closed("polling", z.polling, &[]),
        "binary-4k" => closed("binary", z.binary_conns, &[s("--binary"), s(4096)]),
        other if other.starts_with("cluster-bcast-") => {
            let rate = other
                .trim_start_matches("cluster-bcast-")
                .parse::<f64>()
                .map_err(|_| format!("unknown scenario {other}"))?;
            run_cluster_bcast(ctx, server, rate)
        }
        other => {
            let Some(rate) = other
                .strip_prefix("bcast-")
                .and_then(|r| r.parse::<f64>().ok())
            else {
                return Err(format!("unknown scenario {other}"));
            };
            let args = vec![
                s("bcast"),
                s("--addr"),
                addr.clone(),
                s("--conns"),
                s(z.bcast_receivers),
                s("--rate"),
                s(rate),
                s("--duration"),
                s(z.bcast_duration),
                s("--max-secs"),
                secs(z.bcast_duration + 400.0),
            ];
            run_closed_loop(ctx, server, args, z.bcast_duration + 300.0)
        }
    }
}

/// The rows of the table: (metric, label, higher is better).
fn rows(scenario: &str) -> &'static [(&'static str, &'static str, bool)] {
    if scenario.starts_with("idle") {
        &[
            ("mem_per_conn_kib", "KiB per connection", false),
            ("conns_per_s", "connections/s", true),
            ("connected", "connected", true),
            (
                "kernel_slab_per_conn_kib",
                "kernel slab KiB per connection, both ends",
                false,
            ),
            (
                "kernel_tcp_buf_per_conn_kib",
                "kernel TCP buffers KiB per connection, both ends",
                false,
            ),
            ("late_pings", "late pings", false),
            ("max_ping_gap_ms", "max ping gap (ms)", false),
            ("disconnects", "disconnects", false),
            (
                "connect_server_cpu_pct",
                "server CPU % while connecting",
                false,
            ),
            (
                "server_cpu_us_per_op",
                "server CPU µs per connection",
                false,
            ),
            (
                "connect_loadgen_cpu_pct",
                "loadgen CPU % while connecting",
                false,
            ),
        ]
    } else if scenario.starts_with("bcast") || scenario.starts_with("cluster-bcast") {
        &[
            ("deliveries_per_s", "deliveries/s", true),
            ("send_rate", "broadcasts/s sent", true),
            ("loss_pct", "lost %", false),
            ("disconnects", "disconnected receivers", false),
            ("p50_ms", "p50 latency (ms)", false),
            ("p99_ms", "p99 latency (ms)", false),
            ("server_cpu_pct", "server CPU %", false),
            ("server_cpu_us_per_op", "server CPU µs per delivery", false),
            ("server_rss_mib", "server RSS (MiB)", false),
            ("loadgen_cpu_pct", "loadgen CPU %", false),
        ]
    } else {
        &[
            ("acks_per_s", "acks/s", true),
            ("p50_ms", "p50 latency (ms)", false),
            ("p99_ms", "p99 latency (ms)", false),
            ("errors", "errors", false),
            ("server_cpu_pct", "server CPU %", false),
            ("server_cpu_us_per_op", "server CPU µs per ack", false),
            ("server_rss_mib", "server RSS (MiB)", false),
            ("loadgen_cpu_pct", "loadgen CPU %", false),
        ]
    }
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    }
}

fn fmt_num(x: f64) -> String {
    let a = x.abs();
    if x.fract() == 0.0 && a < 100_000.0 {
        format!("{x:.0}")
    } else if a >= 100_000.0 {
        format!("{:.0}k", x / 1000.0)
    } else if a >= 1000.0 {
        format!("{x:.0}")
    } else if a >= 10.0 {
        format!("{x:.1}")
    } else {
        format!("{x:.2}")
    }
}

type Results = BTreeMap<(String, String), Vec<Result<Metrics, String>>>;

fn table(options: &Options, results: &Results) -> String {
    let mut out = String::new();
    let peers: Vec<&String> = options.servers.iter().filter(|s| *s != "ours").collect();
    let has_ours = options.servers.iter().any(|s| s == "ours");
    let _ = write!(out, "| scenario | metric |");
    for server in &options.servers {
        let _ = write!(out, " {server} |");
    }
    if has_ours {
        for peer in &peers {
            let _ = write!(out, " ours vs {peer} |");
        }
    }
    out.push('\n');
    let columns = 2 + options.servers.len() + if has_ours { peers.len() } else { 0 };
    out.push('|');
    for i in 0..columns {
        out.push_str(if i < 2 { " --- |" } else { " ---: |" });
    }
    out.push('\n');
    for scenario in &options.scenarios {
        for &(key, label, higher_better) in rows(scenario) {
            let mut medians = BTreeMap::new();
            let mut cells = Vec::new();
            let mut any = false;
            for server in &options.servers {
                let runs = results.get(&(scenario.clone(), server.clone()));
                let mut values: Vec<f64> = runs
                    .into_iter()
                    .flatten()
                    .filter_map(|r| r.as_ref().ok())
                    .filter_map(|m| m.get(key).copied())
                    .collect();
                let failed = runs
                    .into_iter()
                    .flatten()
                    .filter(|r| r.as_ref().is_err_and(|e| !e.starts_with(SKIPPED)))
                    .count();
                if values.is_empty() {
                    cells.push(if failed > 0 {
                        "failed".to_owned()
                    } else {
                        "n/a".to_owned()
                    });
                    continue;
                }
                any = true;
                let lo = values.iter().copied().fold(f64::INFINITY, f64::min);
                let hi = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                let m = median(&mut values);
                medians.insert(server.clone(), m);
                let mut cell = fmt_num(m);
                if values.len() > 1 {
                    let _ = write!(cell, " ({}–{})", fmt_num(lo), fmt_num(hi));
                }
                if failed > 0 {
                    let _ = write!(cell, " [{failed} failed]");
                }
                cells.push(cell);
            }
            if !any {
                continue;
            }
            let _ = write!(out, "| {scenario} | {label} |");
            for cell in cells {
                let _ = write!(out, " {cell} |");
            }
            if has_ours {
                for peer in &peers {
                    let ratio = match (medians.get("ours"), medians.get(*peer)) {
                        (Some(&ours), Some(&theirs)) if ours > 0.0 && theirs > 0.0 => {
                            let r = if higher_better {
                                ours / theirs
                            } else {
                                theirs / ours
                            };
                            format!("{r:.2}x")
                        }
                        _ => "–".to_owned(),
                    };
                    let _ = write!(out, " {ratio} |");
                }
            }
            out.push('\n');
        }
    }
    out
}

fn command_output(program: &str, args: &[&str]) -> String {
    Command::new(program)
        .args(args)
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default()
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .unwrap_or_default()
        .split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ")
}

fn versions(options: &Options) -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .unwrap_or_default()
        .lines()
        .find_map(|l| {
            l.strip_prefix("model name")
                .map(|r| r.trim_start_matches([' ', '\t', ':']).to_owned())
        })
        .unwrap_or_default();
    let socketio =
        std::fs::read_to_string(options.node_dir.join("node_modules/socket.io/package.json"))
            .ok()
            .and_then(|t| serde_json::from_str::<Value>(&t).ok())
            .and_then(|v| v.get("version").and_then(Value::as_str).map(str::to_owned))
            .unwrap_or_else(|| "?".into());
    // The versions the socketioxide server was built with, from its lockfile.
    let lock = std::fs::read_to_string(options.node_dir.join("../socketioxide/Cargo.lock"))
        .unwrap_or_default();
    let locked = |name: &str| {
        let marker = format!("name = \"{name}\"\nversion = \"");
        lock.find(&marker)
            .and_then(|at| {
                lock[at + marker.len()..]
                    .split('"')
                    .next()
                    .map(str::to_owned)
            })
            .unwrap_or_else(|| "?".into())
    };
    let sx_version = format!(
        "socketioxide {} (engineioxide {}, axum {})",
        locked("socketioxide"),
        locked("engineioxide"),
        locked("axum")
    );
    format!(
        "- machine: {} CPUs ({cpu}), {}, kernel {}\n- {}, node {}, socket.io {socketio}, {sx_version}\n",
        command_output("nproc", &[]),
        std::fs::read_to_string("/proc/meminfo")
            .unwrap_or_default()
            .lines()
            .next()
            .unwrap_or_default()
            .split_whitespace()
            .nth(1)
            .and_then(|kb| kb.parse::<u64>().ok())
            .map_or_else(String::new, |kb| format!("{} GiB RAM", kb / 1024 / 1024)),
        command_output("uname", &["-r"]),
        command_output("rustc", &["--version"]),
        command_output("node", &["--version"]),
    )
}

fn main() {
    let options = parse();
    let sizes = if options.smoke { SMOKE } else { FULL };
    // Logs of an earlier invocation would mix with this one's.
    let _ = std::fs::remove_dir_all(options.out.join("logs"));
    if let Err(e) = std::fs::create_dir_all(options.out.join("logs")) {
        usage(&format!("cannot create {}: {e}", options.out.display()));
    }
    let started = Instant::now();
    let mut header = format!(
        "load benchmark: {} run(s){}; load average at start {}\n",
        options.runs,
        if options.smoke { " (smoke sizes)" } else { "" },
        loadavg()
    );
    header.push_str(&versions(&options));
    eprint!("{header}");
    let raw_path = options.out.join("results.jsonl");
    let mut raw = std::fs::File::create(&raw_path).ok();
    let mut results = Results::new();
    let mut counter: u16 = 0;
    for run in 0..options.runs {
        for scenario in &options.scenarios {
            let mut order = options.servers.clone();
            if !order.is_empty() {
                let k = run % order.len();
                order.rotate_left(k);
            }
            for server in &order {
                counter = counter.wrapping_add(1);
                let ctx = Ctx {
                    options: &options,
                    sizes,
                    port: options.port_base + counter % 800,
                    source_block: (counter % 250 + 1) as u8,
                    log: options
                        .out
                        .join("logs")
                        .join(format!("{scenario}-{server}-{run}.log")),
                };
                let t = Instant::now();
                let result = run_scenario(&ctx, scenario, server);
                let summary = match &result {
                    Ok(m) => {
                        let main = rows(scenario)
                            .iter()
                            .take(3)
                            .filter_map(|(k, label, _)| {
                                m.get(*k).map(|v| format!("{label} {}", fmt_num(*v)))
                            })
                            .collect::<Vec<_>>()
                            .join(", ");
                        format!("ok: {main}")
                    }
                    Err(e) => format!("FAILED: {e}"),
                };
                eprintln!(
                    "[run {}/{}] {scenario} {server}: {summary} ({:.1}s, load {})",
                    run + 1,
                    options.runs,
                    t.elapsed().as_secs_f64(),
                    loadavg()
                );
                if let Some(file) = raw.as_mut() {
                    let line = json!({
                        "run": run,
                        "scenario": scenario,
                        "server": server,
                        "metrics": result.as_ref().ok(),
                        "error": result.as_ref().err(),
                    });
                    let _ = writeln!(file, "{line}");
                }
                results
                    .entry((scenario.clone(), server.clone()))
                    .or_default()
                    .push(result);
                // Closed sockets drain before the next server starts.
                std::thread::sleep(Duration::from_secs(1));
            }
        }
    }
    let mut report = header;
    let _ = writeln!(
        report,
        "- load average at end {}, total {:.0} s\n\nmedian (min–max) over runs; ratios: ours vs peer, above 1 = ours better\n",
        loadavg(),
        started.elapsed().as_secs_f64()
    );
    report.push_str(&table(&options, &results));
    print!("{report}");
    let _ = std::fs::write(options.out.join("report.md"), &report);
    eprintln!("raw results: {}", raw_path.display());
}
