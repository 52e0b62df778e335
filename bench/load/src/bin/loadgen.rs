//! The load generator: one scenario per run against one server, on one thread.
//!
//! ```text
//! loadgen echo    --addr 127.0.0.1:3000 [--conns 100] [--warmup 2] [--duration 10] [--payload 64]
//! loadgen binary  --addr … [--conns 100] [--binary 4096] [--warmup 2] [--duration 10]
//! loadgen bcast   --addr … [--conns 10000] [--rate 100] [--duration 10] [--probes 100] [--batch-ms 100]
//!                 [--also ADDR,ADDR]   (servers of one cluster: receivers spread over all of them)
//! loadgen polling --addr … [--conns 1000] [--warmup 2] [--duration 10]
//! loadgen idle    --addr … [--conns 10000] [--source 127.0.0.2,127.0.0.3] [--hold 30]
//! common: [--concurrency 200] [--max-secs 300]
//! ```
//!
//! Prints one JSON object per line: `{"phase":"…"}` at the edges of the measurement window
//! (`idle`: `connected` once every session is up), and last `{"phase":"result",…}`. `idle`
//! holds its sessions until it reads `stop` or end of file on stdin, or `--hold` seconds
//! passed. Whatever happens, the process exits after `--max-secs`.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use bench::{bcast, echo, idle, polling};
use serde_json::{Value, json};
use tokio::io::AsyncBufReadExt;

struct Args {
    scenario: String,
    addr: SocketAddr,
    also: Vec<SocketAddr>,
    conns: Option<usize>,
    warmup: f64,
    duration: f64,
    payload: usize,
    binary: usize,
    rate: f64,
    probes: usize,
    batch_ms: u64,
    drain: f64,
    sources: Vec<IpAddr>,
    hold: f64,
    concurrency: usize,
    max_secs: u64,
}

fn parse() -> Result<Args, String> {
    let mut argv = std::env::args().skip(1);
    let scenario = argv.next().ok_or("missing scenario")?;
    let mut args = Args {
        scenario,
        addr: SocketAddr::from(([127, 0, 0, 1], 3000)),
        also: Vec::new(),
        conns: None,
        warmup: 2.0,
        duration: 10.0,
        payload: 64,
        binary: 4096,
        rate: 100.0,
        probes: 100,
        batch_ms: 100,
        drain: 15.0,
        sources: Vec::new(),
        hold: 30.0,
        concurrency: 200,
        max_secs: 300,
    };
    while let Some(flag) = argv.next() {
        let value = argv.next().ok_or(format!("{flag} needs a value"))?;
        let bad = |_| format!("bad value for {flag}: {value}");
        match flag.as_str() {
            "--addr" => args.addr = value.parse().map_err(|_| bad(()))?,
            "--conns" => args.conns = Some(value.parse().map_err(|_| bad(()))?),
            "--warmup" => args.warmup = value.parse().map_err(|_| bad(()))?,
            "--duration" => args.duration = value.parse().map_err(|_| bad(()))?,
            "--payload" => args.payload = value.parse().map_err(|_| bad(()))?,
            "--binary" => args.binary = value.parse().map_err(|_| bad(()))?,
            "--rate" => args.rate = value.parse().map_err(|_| bad(()))?,
            "--probes" => args.probes = value.parse().map_err(|_| bad(()))?,
            "--batch-ms" => args.batch_ms = value.parse().map_err(|_| bad(()))?,
            "--drain" => args.drain = value.parse().map_err(|_| bad(()))?,
            "--hold" => args.hold = value.parse().map_err(|_| bad(()))?,
            "--concurrency" => args.concurrency = value.parse().map_err(|_| bad(()))?,
            "--max-secs" => args.max_secs = value.parse().map_err(|_| bad(()))?,
            "--also" => {
                args.also = value
                    .split(',')
                    .map(str::parse)
                    .collect::<Result<_, _>>()
                    .map_err(|_| bad(()))?;
            }
            "--source" => {
                args.sources = value
                    .split(',')
                    .map(str::parse)
                    .collect::<Result<_, _>>()
                    .map_err(|_| bad(()))?;
            }
            other => return Err(format!("unknown flag {other}")),
        }
    }
    if !args.addr.ip().is_loopback() || args.also.iter().any(|a| !a.ip().is_loopback()) {
        return Err("the load generator only targets loopback addresses (127.0.0.0/8, ::1)".into());
    }
    if args.sources.iter().any(|ip| !ip.is_loopback()) {
        return Err("source addresses must be loopback addresses".into());
    }
    Ok(args)
}

fn phase(name: &str) {
    println!("{}", json!({ "phase": name }));
}

fn secs(s: f64) -> Duration {
    Duration::from_secs_f64(s.max(0.0))
}

async fn run(args: Args) -> Result<Value, String> {
    let result = match args.scenario.as_str() {
        "echo" | "binary" => {
            let config = echo::EchoConfig {
                addr: args.addr,
                conns: args.conns.unwrap_or(100),
                warmup: secs(args.warmup),
                duration: secs(args.duration),
                payload: args.payload,
                binary: (args.scenario == "binary").then_some(args.binary),
                concurrency: args.concurrency,
            };
            echo::run(&config, &phase).await
        }
        "bcast" => {
            let config = bcast::BcastConfig {
                addr: args.addr,
                also: args.also.clone(),
                receivers: args.conns.unwrap_or(10_000),
                rate: args.rate,
                duration: secs(args.duration),
                payload: args.payload,
                probes: args.probes,
                batch: Duration::from_millis(args.batch_ms),
                drain: secs(args.drain),
                concurrency: args.concurrency,
            };
            bcast::run(&config, &phase).await
        }
        "polling" => {
            let config = polling::PollingConfig {
                addr: args.addr,
                clients: args.conns.unwrap_or(1000),
                warmup: secs(args.warmup),
                duration: secs(args.duration),
                payload: args.payload,
                concurrency: args.concurrency,
            };
            polling::run(&config, &phase).await
        }
        "idle" => {
            let config = idle::IdleConfig {
                addr: args.addr,
                conns: args.conns.unwrap_or(10_000),
                sources: args.sources.clone(),
                concurrency: args.concurrency,
            };
            let hold = secs(args.hold);
            let stop = async move {
                let stdin = async {
                    let mut lines = tokio::io::BufReader::new(tokio::io::stdin()).lines();
                    while let Ok(Some(line)) = lines.next_line().await {
                        if line.trim() == "stop" {
                            return;
                        }
                    }
                };
                tokio::select! {
                    () = stdin => {}
                    () = tokio::time::sleep(hold) => {}
                }
            };
            idle::run(&config, &phase, stop).await
        }
        other => return Err(format!("unknown scenario {other}")),
    };
    Ok(result)
}

fn main() {
    let args = match parse() {
        Ok(args) => args,
        Err(message) => {
            eprintln!("loadgen: {message}");
            std::process::exit(2);
        }
    };
    // Bounded in time whatever the server does.
    let max_secs = args.max_secs;
    std::thread::spawn(move || {
        std::thread::sleep(Duration::from_secs(max_secs));
        eprintln!("loadgen: --max-secs {max_secs} reached, exiting");
        std::process::exit(3);
    });
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("loadgen: {e}");
            std::process::exit(1);
        }
    };
    let local = tokio::task::LocalSet::new();
    match local.block_on(&runtime, run(args)) {
        Ok(mut result) => {
            echo::merge(&mut result, json!({"phase": "result"}));
            println!("{result}");
        }
        Err(message) => {
            eprintln!("loadgen: {message}");
            std::process::exit(2);
        }
    }
    // Sessions are dropped with the runtime; exit without waiting for their tasks.
    std::process::exit(0);
}
