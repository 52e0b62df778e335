//! Runs a scenario of `e2e/scenarios/` with Node against a server of ours, and records what the
//! server sees.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;
use socketio_server::{Parser, Server, ServerBuilder};
use tokio::net::TcpListener;

/// How the client connects: transport and parser.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Variant {
    /// `polling`, `websocket` or `upgrade` (polling, then the WebSocket upgrade).
    pub(crate) transport: &'static str,
    pub(crate) parser: Parser,
}

impl Variant {
    pub(crate) const fn json(transport: &'static str) -> Self {
        Self {
            transport,
            parser: Parser::Json,
        }
    }

    pub(crate) const fn msgpack(transport: &'static str) -> Self {
        Self {
            transport,
            parser: Parser::Msgpack,
        }
    }

    pub(crate) fn name(&self) -> String {
        let parser = match self.parser {
            Parser::Json => "json",
            Parser::Msgpack => "msgpack",
        };
        format!("{}/{parser}", self.transport)
    }

    /// A server builder with this variant's parser.
    pub(crate) fn builder(&self) -> ServerBuilder {
        Server::builder().parser(self.parser)
    }
}

/// Every transport with the default parser, and both single transports with msgpack.
pub(crate) const ALL: &[Variant] = &[
    Variant::json("polling"),
    Variant::json("websocket"),
    Variant::json("upgrade"),
    Variant::msgpack("polling"),
    Variant::msgpack("websocket"),
];

/// Runs `test` once per variant, all at once (each has its own server and Node process).
pub(crate) async fn each_variant<F, Fut>(variants: &[Variant], test: F)
where
    F: Fn(Variant) -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let runs: Vec<_> = variants
        .iter()
        .map(|variant| (variant.name(), tokio::spawn(test(*variant))))
        .collect();
    let mut failed = Vec::new();
    for (name, run) in runs {
        if let Err(error) = run.await {
            let message = match error.try_into_panic() {
                Ok(panic) => panic
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                    .unwrap_or_default(),
                Err(error) => error.to_string(),
            };
            failed.push(format!("[{name}] {message}"));
        }
    }
    assert!(failed.is_empty(), "failed:\n{}", failed.join("\n\n"));
}

/// Serves `io` on 127.0.0.1, on a port the system picks.
pub(crate) async fn serve(io: &Server) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let io = io.clone();
    tokio::spawn(async move { io.serve(listener).await });
    addr
}

fn e2e_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("e2e");
    assert!(
        dir.join("node_modules/socket.io-client").exists(),
        "run `npm ci` in {}",
        dir.display()
    );
    dir
}

/// Runs `node scenarios/<scenario>.mjs` against `addr` and returns its report. Panics, with
/// what Node printed, when the scenario fails.
pub(crate) async fn node(scenario: &str, addr: SocketAddr, variant: Variant, args: Value) -> Value {
    let dir = e2e_dir();
    let script = format!("scenarios/{scenario}.mjs");
    let variant_name = variant.name();
    let output = {
        let script = script.clone();
        let variant_name = variant_name.clone();
        tokio::task::spawn_blocking(move || {
            std::process::Command::new("node")
                .arg(&script)
                .arg(format!("http://{addr}"))
                .arg(&variant_name)
                .arg(args.to_string())
                .current_dir(&dir)
                .output()
                .expect("node is installed")
        })
        .await
        .unwrap()
    };
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "{script} {variant_name} failed ({}):\n--- stdout\n{stdout}\n--- stderr\n{stderr}",
        output.status
    );
    let report = stdout
        .lines()
        .rev()
        .find_map(|line| line.strip_prefix("REPORT "))
        .unwrap_or_else(|| panic!("{script} {variant_name}: no report in\n{stdout}"));
    serde_json::from_str(report).unwrap()
}

/// What the server saw, in order: handlers push entries, the test checks them.
#[derive(Clone, Default)]
pub(crate) struct Log(Arc<Mutex<Vec<String>>>);

impl Log {
    pub(crate) fn push(&self, entry: impl Into<String>) {
        self.0.lock().unwrap().push(entry.into());
    }

    pub(crate) fn entries(&self) -> Vec<String> {
        self.0.lock().unwrap().clone()
    }

    /// The entries that start with `prefix`.
    pub(crate) fn matching(&self, prefix: &str) -> Vec<String> {
        self.entries()
            .into_iter()
            .filter(|e| e.starts_with(prefix))
            .collect()
    }

    /// Waits until an entry equals `entry` (what a server sees after the client is done may
    /// come a little later: a disconnection, a cleanup). Panics after 10 s.
    pub(crate) async fn wait_for(&self, entry: &str) {
        self.wait_until(entry, |entries| entries.iter().any(|e| e == entry))
            .await;
    }

    /// Waits until `done(entries)`; panics after 10 s with `what` and the log.
    pub(crate) async fn wait_until(&self, what: &str, done: impl Fn(&[String]) -> bool) {
        for _ in 0..1000 {
            if done(&self.entries()) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("server never saw {what}; log:\n{:#?}", self.entries());
    }
}
