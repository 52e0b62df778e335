//! socketioxide (latest published version) on axum, with the behaviour every server of the
//! load benchmark shares:
//!
//! - on connection the socket joins the room `all`;
//! - `echo` with an acknowledgement: the acknowledgement carries the event's argument;
//! - `bcast`: `msg` with the event's argument goes to the room `all`, the sender included.
//!
//! The load generator sends one argument; socketioxide's `Data<T>` extracts the first one, as
//! its own echo example does (`rmpv::Value` keeps binary attachments as bytes). Default
//! settings otherwise.
//!
//! ```text
//! cargo run --release --manifest-path bench/socketioxide/Cargo.toml -- --port 3000 [--reuseport]
//!     [--threads N]
//! ```
//!
//! The runtime is the one `bench-server` uses, so that both Rust servers are scheduled alike: a
//! current-thread runtime (one server process per core; the benchmark pins it to one), or with
//! `--threads N` (N > 1) a multi-threaded one.

use std::net::SocketAddr;

use rmpv::Value;
use socketioxide::SocketIo;
use socketioxide::extract::{AckSender, Data, SocketRef};

fn usage(message: &str) -> std::io::Error {
    std::io::Error::other(format!(
        "{message}; usage: socketioxide-bench-server --port N [--host 127.0.0.1] [--reuseport] [--threads N]"
    ))
}

fn main() -> std::io::Result<()> {
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
    let mut host = std::net::IpAddr::from([127, 0, 0, 1]);
    let mut reuseport = false;
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
            other => return Err(usage(&format!("unknown argument {other:?}"))),
        }
    }
    let port = port.ok_or_else(|| usage("--port is required"))?;

    let (layer, io) = SocketIo::new_layer();
    let room_io = io.clone();
    io.ns("/", async move |socket: SocketRef| {
        socket.join("all");
        socket.on("echo", async |Data::<Value>(data), ack: AckSender| {
            let _ = ack.send(&data);
        });
        let io = room_io.clone();
        socket.on("bcast", async move |Data::<Value>(data)| {
            let _ = io.to("all").emit("msg", &data).await;
        });
    });
    let app = axum::Router::new().layer(layer);

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
    axum::serve(listener, app).await
}
