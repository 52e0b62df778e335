//! A few seconds of every load generator scenario against our benchmark server (the
//! `bench-server` binary, started on an OS-assigned port): the harness works end to end and the
//! server behaves as the benchmark expects (acks carry the arguments, broadcasts reach the whole
//! room, the sender included). No assertion on speed.

#![allow(clippy::unwrap_used, reason = "test helpers")]

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use bench::{bcast, echo, idle, polling};
use serde_json::Value;

struct ServerProcess {
    child: Child,
    addr: SocketAddr,
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_server() -> ServerProcess {
    let mut child = Command::new(env!("CARGO_BIN_EXE_bench-server"))
        .args(["--port", "0"])
        .stdout(Stdio::piped())
        .spawn()
        .expect("bench-server starts");
    let stdout = child.stdout.take().unwrap();
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).unwrap();
    let addr = line
        .trim()
        .strip_prefix("listening on ")
        .expect("listening line")
        .parse()
        .unwrap();
    ServerProcess { child, addr }
}

fn run_local<F: std::future::Future<Output = Value>>(future: F) -> Value {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    tokio::task::LocalSet::new().block_on(&runtime, future)
}

fn n(value: &Value, key: &str) -> f64 {
    value[key]
        .as_f64()
        .unwrap_or_else(|| panic!("{key} in {value}"))
}

fn no_phase(_: &str) {}

#[test]
fn echo_text_and_binary() {
    let server = start_server();
    for binary in [None, Some(4096)] {
        let config = echo::EchoConfig {
            addr: server.addr,
            conns: 8,
            warmup: Duration::from_millis(100),
            duration: Duration::from_millis(500),
            payload: 64,
            binary,
            concurrency: 8,
        };
        let result = run_local(echo::run(&config, &no_phase));
        assert_eq!(n(&result, "connected"), 8.0, "{result}");
        assert_eq!(n(&result, "errors"), 0.0, "{result}");
        assert!(n(&result, "acks") > 0.0, "{result}");
        assert!(n(&result, "p99_us") > 0.0, "{result}");
    }
}

#[test]
fn broadcast_reaches_every_receiver() {
    let server = start_server();
    let config = bcast::BcastConfig {
        addr: server.addr,
        also: Vec::new(),
        receivers: 30,
        rate: 50.0,
        duration: Duration::from_millis(400),
        payload: 64,
        probes: 5,
        batch: Duration::from_millis(20),
        drain: Duration::from_secs(5),
        concurrency: 30,
    };
    let result = run_local(bcast::run(&config, &no_phase));
    assert_eq!(n(&result, "connected"), 30.0, "{result}");
    assert!(n(&result, "sent") > 0.0, "{result}");
    // Every receiver, the sender included, gets every broadcast.
    assert_eq!(
        n(&result, "delivered"),
        n(&result, "sent") * 30.0,
        "{result}"
    );
    assert_eq!(n(&result, "losses"), 0.0, "{result}");
    assert!(n(&result, "p50_us") > 0.0, "{result}");
}

#[test]
fn polling_echo() {
    let server = start_server();
    let config = polling::PollingConfig {
        addr: server.addr,
        clients: 5,
        warmup: Duration::from_millis(100),
        duration: Duration::from_millis(500),
        payload: 64,
        concurrency: 5,
    };
    let result = run_local(polling::run(&config, &no_phase));
    assert_eq!(n(&result, "connected"), 5.0, "{result}");
    assert_eq!(n(&result, "errors"), 0.0, "{result}");
    assert!(n(&result, "acks") > 0.0, "{result}");
}

#[test]
fn idle_sessions_connect_and_hold() {
    let server = start_server();
    let config = idle::IdleConfig {
        addr: server.addr,
        conns: 50,
        sources: vec!["127.0.0.1".parse().unwrap()],
        concurrency: 10,
    };
    let result = run_local(idle::run(&config, &no_phase, async {
        tokio::time::sleep(Duration::from_millis(200)).await
    }));
    assert_eq!(n(&result, "connected"), 50.0, "{result}");
    assert_eq!(n(&result, "disconnects"), 0.0, "{result}");
    assert!(n(&result, "conns_per_s") > 0.0, "{result}");
}
