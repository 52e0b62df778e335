//! A chat application: Socket.IO for Rust on the server, the official `socket.io-client` in the
//! browser.
//!
//! Pick a nickname, see who is online, talk in `#general` (everyone is there), join and leave
//! other channels, send private messages, see who is typing. Messages show as delivered when the
//! server (for a private message: the recipient's page) confirms them, and the page reconnects
//! by itself, and says so, when the server restarts.
//!
//! ```text
//! cargo run -p chat                      # http://127.0.0.1:3000
//! cargo run -p chat -- --port 8080 --host 0.0.0.0
//! cargo run -p chat -- --port 3001 --redis redis://127.0.0.1:6379/   # one of several servers
//! RUST_LOG=chat=debug,socketio_server=debug cargo run -p chat
//! ```
//!
//! The page loads the official browser bundle from `examples/node_modules`; when it is missing,
//! the first start runs `npm ci --omit=dev` in `examples/` (Node.js and npm needed once).
//! The HTTP side is an axum `Router` with the Socket.IO server as a layer in front of it.

mod assets;
mod chat;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::process::ExitCode;

use axum::Router;
use axum::routing::get;
use socketio_server::Server;
use tracing_subscriber::EnvFilter;

const USAGE: &str = "usage: chat [--host ADDR] [--port PORT] [--redis URL]

  --host ADDR   address to listen on (default 127.0.0.1)
  --port PORT   port to listen on (default 3000; 0 picks a free one)
  --redis URL   share channel messages with the other chat servers on this Redis
                (e.g. redis://127.0.0.1:6379/; compatible with @socket.io/redis-adapter)

Logging: RUST_LOG (default \"chat=info,socketio_server=info\"), e.g.
  RUST_LOG=chat=debug,socketio_server=debug,engineio_server=debug";

/// Command-line settings.
#[derive(Debug)]
struct Options {
    host: IpAddr,
    port: u16,
    redis: Option<String>,
}

impl Options {
    fn parse(mut args: impl Iterator<Item = String>) -> Result<Self, String> {
        let mut options = Options {
            host: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port: 3000,
            redis: None,
        };
        while let Some(arg) = args.next() {
            let mut value = |name: &str| args.next().ok_or(format!("{name} needs a value"));
            match arg.as_str() {
                "--host" => {
                    options.host = value("--host")?
                        .parse()
                        .map_err(|e| format!("--host: {e}"))?;
                }
                "--port" => {
                    options.port = value("--port")?
                        .parse()
                        .map_err(|e| format!("--port: {e}"))?;
                }
                "--redis" => options.redis = Some(value("--redis")?),
                "-h" | "--help" => return Err(String::new()),
                other => return Err(format!("unknown argument {other:?}")),
            }
        }
        Ok(options)
    }
}

/// The Socket.IO server. With `--redis`, several servers behind a load balancer share channel
/// messages, joins, leaves and typing notices through Redis; each keeps its own user list and
/// history. Alone, it keeps everything in memory.
fn socket_server(options: &Options) -> Result<Server, String> {
    let builder = Server::builder();
    let Some(url) = &options.redis else {
        return Ok(builder.build());
    };
    let redis = socketio_redis::RedisAdapter::new(url, socketio_redis::RedisConfig::default())
        .map_err(|e| format!("--redis: {e}"))?;
    tracing::info!("sharing messages with the other servers through {url}");
    Ok(builder.adapter(redis.factory()).build())
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| EnvFilter::new("chat=info,socketio_server=info")),
        )
        .with_writer(std::io::stderr)
        .init();

    let options = match Options::parse(std::env::args().skip(1)) {
        Ok(options) => options,
        Err(message) => {
            if !message.is_empty() {
                eprintln!("chat: {message}\n");
            }
            eprintln!("{USAGE}");
            return if message.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(2)
            };
        }
    };
    match run(options).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("chat: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn run(options: Options) -> Result<(), String> {
    let assets = assets::Assets::load().map_err(|e| e.to_string())?;
    let io = socket_server(&options)?;
    chat::Chat::attach(&io);

    let app = Router::new()
        .route("/", get(assets::index))
        .route("/app.js", get(assets::app_js))
        .route("/style.css", get(assets::style_css))
        .route("/socket.io.min.js", get(assets::bundle))
        .route("/socket.io.min.js.map", get(assets::bundle_map))
        .with_state(assets)
        // Socket.IO requests (under /socket.io/) are answered by `io`, the rest by the routes.
        .layer(io.layer());

    let address = SocketAddr::new(options.host, options.port);
    let listener = tokio::net::TcpListener::bind(address)
        .await
        .map_err(|e| format!("cannot listen on {address}: {e}"))?;
    let local = listener.local_addr().map_err(|e| e.to_string())?;
    // Scripts (the browser test) read this line to find the port.
    println!("chat listening on http://{local}");
    tracing::info!("open http://{local} in a browser; Ctrl-C stops");

    let shutdown = {
        let io = io.clone();
        async move {
            let _ = tokio::signal::ctrl_c().await;
            tracing::info!("shutting down");
            io.close();
        }
    };
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
        .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Options, String> {
        Options::parse(args.iter().map(|s| (*s).to_owned()))
    }

    #[test]
    fn options() {
        let defaults = parse(&[]).unwrap();
        assert_eq!(defaults.port, 3000);
        assert_eq!(defaults.host, IpAddr::V4(Ipv4Addr::LOCALHOST));
        let custom = parse(&["--port", "0", "--host", "::1"]).unwrap();
        assert_eq!(custom.port, 0);
        assert!(custom.host.is_ipv6());
        assert!(parse(&["--port"]).is_err());
        let clustered = parse(&["--redis", "redis://127.0.0.1:6379/"]).unwrap();
        assert_eq!(clustered.redis.as_deref(), Some("redis://127.0.0.1:6379/"));
        assert!(parse(&["--redis"]).is_err());
        assert!(parse(&["--port", "x"]).is_err());
        assert!(parse(&["--what"]).is_err());
    }
}
