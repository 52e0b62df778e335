//! Our benchmark server, with the behaviour every server of the load benchmark shares:
//!
//! - on connection the socket joins the room `all`;
//! - `echo` with an acknowledgement: the acknowledgement carries the event's arguments;
//! - `bcast`: `msg` with the event's arguments goes to the room `all`, the sender included.
//!
//! ```text
//! cargo run --release -p bench --bin bench-server -- --port 3000 [--host 127.0.0.1] [--reuseport]
//!     [--redis redis://127.0.0.1:6379/ --key socket.io]
//! ```
//!
//! With `--redis`, the server is one of a cluster over Redis (`socketio-redis`, the channels of
//! `@socket.io/redis-adapter` with prefix `--key`).
//!
//! Default settings otherwise (pingInterval 25 s, pingTimeout 20 s, both transports). Once
//! listening it prints `listening on <address>` (with the port chosen when `--port 0`).
//! `--reuseport` binds with `SO_REUSEPORT`, so several processes can share the port.

use std::net::{IpAddr, SocketAddr};

use serde::Serialize;
use serde::ser::SerializeTuple;
use socketio_server::{Ack, RawArgs, Server, Socket};

/// Arguments sent back as separate arguments (a tuple to the emitter), however many arrived.
struct Spread(Vec<serde_json::Value>);

impl Serialize for Spread {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut tuple = serializer.serialize_tuple(self.0.len())?;
        for value in &self.0 {
            tuple.serialize_element(value)?;
        }
        tuple.end()
    }
}

fn usage(message: &str) -> std::io::Error {
    std::io::Error::other(format!(
        "{message}; usage: bench-server --port N [--host 127.0.0.1] [--reuseport] [--threads N] [--redis URL --key K]"
    ))
}

fn main() -> std::io::Result<()> {
    // One server process runs on one core (the benchmark pins it; more cores run more processes
    // sharing the port): a current-thread runtime schedules its tasks in one fair queue.
    // `--threads N` (N > 1) uses a multi-threaded runtime instead.
    let threads: usize = std::env::args()
        .skip_while(|arg| arg != "--threads")
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(1);
    let runtime = if threads > 1 {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(threads)
            .enable_all()
            .build()?
    } else {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?
    };
    runtime.block_on(run())
}

async fn run() -> std::io::Result<()> {
    let mut port: Option<u16> = None;
    let mut host: IpAddr = [127, 0, 0, 1].into();
    let mut reuseport = false;
    let mut redis: Option<String> = None;
    let mut key = "socket.io".to_owned();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--threads" => {
                // Read by `main`.
                args.next();
            }
            "--port" => {
                port = Some(
                    args.next()
                        .and_then(|p| p.parse().ok())
                        .ok_or_else(|| usage("--port needs a number"))?,
                );
            }
            "--host" => {
                host = args
                    .next()
                    .and_then(|h| h.parse().ok())
                    .ok_or_else(|| usage("--host needs an IP address"))?;
            }
            "--reuseport" => reuseport = true,
            "--redis" => redis = Some(args.next().ok_or_else(|| usage("--redis needs a URL"))?),
            "--key" => key = args.next().ok_or_else(|| usage("--key needs a value"))?,
            other => return Err(usage(&format!("unknown argument {other:?}"))),
        }
    }
    let port = port.ok_or_else(|| usage("--port is required"))?;

    let io = match redis {
        Some(url) => {
            let config = socketio_redis::RedisConfig::default().key(key);
            let redis = socketio_redis::RedisAdapter::new(&url, config)
                .map_err(|e| usage(&format!("--redis: {e}")))?;
            Server::builder().adapter(redis.factory()).build()
        }
        None => Server::new(),
    };
    io.on_connection(|socket: Socket| async move {
        socket.join("all");
        socket.on("echo", |RawArgs(args): RawArgs, ack: Ack| async move {
            let _ = ack.send_raw(&args);
        });
        socket.on(
            "bcast",
            |socket: Socket, RawArgs(args): RawArgs| async move {
                // Broadcasts take serializable arguments: decode them once (Node and
                // socketioxide decode them too); the packet is then encoded once for everyone.
                if let Ok(values) = args.to_values() {
                    let _ = socket.namespace().to("all").emit("msg", &Spread(values));
                }
            },
        );
    });

    let addr = SocketAddr::new(host, port);
    let socket = match addr {
        SocketAddr::V4(_) => tokio::net::TcpSocket::new_v4()?,
        SocketAddr::V6(_) => tokio::net::TcpSocket::new_v6()?,
    };
    socket.set_reuseaddr(true)?;
    if reuseport {
        socket.set_reuseport(true)?;
    }
    socket.bind(addr)?;
    let listener = socket.listen(4096)?;
    println!("listening on {}", listener.local_addr()?);
    io.serve(listener).await
}
