//! A Socket.IO client for tokio, wire-compatible with Node's `socket.io` v4 servers (and with
//! `socketio-server`): Socket.IO protocol v5 over Engine.IO v4.
//!
//! The API mirrors the server's and keeps Node's vocabulary: a [`Manager`] holds one Engine.IO
//! connection and multiplexes [`Socket`]s, one per namespace, over it. Sockets listen with
//! [`Socket::on`] (typed arguments through the [`Data`], [`AllArgs`], [`RawArgs`] and [`Ack`]
//! extractors), send with [`Socket::emit`], and wait for answers with
//! [`Socket::emit_with_ack`].
//!
//! ```no_run
//! use std::time::Duration;
//! use socketio_client::{Ack, Client, Data, Socket};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! // Handlers first, then connect: nothing the server sends on connection is missed.
//! let socket = Client::builder("http://localhost:3000/chat")
//!     .auth(serde_json::json!({ "token": "abc" }))
//!     .socket()?;
//! socket.on("chat message", |Data(text): Data<String>| async move {
//!     println!("{text}");
//! });
//! socket.on("ping", |ack: Ack| async move {
//!     let _ = ack.send(&"pong");
//! });
//! socket.connect().await?;
//! socket.emit("chat message", &"hello")?;
//! let answer: u32 = socket
//!     .emit_with_ack("sum", &(1, 2))
//!     .timeout(Duration::from_secs(5))
//!     .await?;
//! # let _ = answer; Ok(()) }
//! ```
//!
//! # Behaviour, as in socket.io-client 4.8
//!
//! - **Reconnection**: when the connection is lost (not after an explicit
//!   [`Socket::disconnect`] nor a server-side disconnect), the manager reconnects with
//!   exponential backoff and jitter (`reconnection_delay` 1 s doubling up to
//!   `reconnection_delay_max` 5 s, ±`randomization_factor` 0.5), for at most
//!   `reconnection_attempts` attempts (unlimited by default), then reconnects every socket.
//! - **Offline buffer**: events emitted while a socket is not connected are buffered and sent
//!   when it connects (Node's `sendBuffer`); [`Socket::volatile`] events are dropped instead.
//! - **At-least-once delivery**: with `retries(n)`, every emit waits for the server's
//!   acknowledgement (for `ack_timeout`) and is sent again, up to `n` more times, one packet in
//!   flight at a time, in order; a packet interrupted by a disconnection is sent again after
//!   the reconnection.
//! - **Connection state recovery**: when the server answers with a private session id, the
//!   socket remembers it and the offset of the last event received (the event's last argument,
//!   when it is a string) and sends both in its next `CONNECT`; [`Socket::recovered`] tells
//!   whether the server restored the session.
//! - **Transports**: long-polling first, then an upgrade to WebSocket (or WebSocket only, see
//!   [`ClientBuilder::transports`]); binary arguments (`bytes::Bytes`) travel as attachments,
//!   or as msgpack binary with [`Parser::Msgpack`].
//!
//! TLS (`https://`, `wss://`) is not supported yet.

mod ack;
mod backoff;
mod builder;
mod engine;
mod handler;
mod manager;
mod socket;

pub use ack::{AckError, AckFuture};
pub use builder::{Auth, ClientBuilder};
pub use engineio_proto::TransportKind;
pub use handler::{
    Ack, AllArgs, BoxError, Data, EventContext, EventHandler, ExtractError, FromEvent,
    HandlerResult, RawArgs,
};
pub use manager::{Manager, ManagerEvent};
pub use socket::{ConnectFuture, ListenerId, Socket, SocketTimeout, Volatile};
pub use socketio_proto::{Args, Parser};

/// Entry points: [`Client::connect`] and [`Client::builder`].
#[derive(Debug)]
pub struct Client(());

impl Client {
    /// Connects to `url` with Node's default options: `http://host:port/namespace?query`.
    /// Resolves once the namespace accepted the socket.
    ///
    /// # Errors
    ///
    /// The first `connect_error`: the URL is invalid, the server cannot be reached
    /// (`"xhr poll error"`, `"websocket error"`), the handshake timed out (`"timeout"`), or the
    /// namespace refused the connection (the server's message and data). The connection is
    /// then closed.
    pub async fn connect(url: &str) -> Result<Socket, ConnectError> {
        Self::builder(url).connect().await
    }

    /// A builder with Node's options and defaults.
    pub fn builder(url: impl Into<String>) -> ClientBuilder {
        ClientBuilder::new(url.into())
    }
}

/// Why a socket left its namespace, as Node's client names it ([`DisconnectReason::as_str`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DisconnectReason {
    /// The server disconnected the socket (`socket.disconnect()` on the server):
    /// `"io server disconnect"`. No reconnection follows.
    IoServerDisconnect,
    /// This side called [`Socket::disconnect`]: `"io client disconnect"`. No reconnection follows.
    IoClientDisconnect,
    /// The server stopped sending pings: `"ping timeout"`.
    PingTimeout,
    /// The connection was closed (the server went away, or closed it): `"transport close"`.
    TransportClose,
    /// The connection failed: `"transport error"`.
    TransportError,
    /// The server sent something that does not decode: `"parse error"`.
    ParseError,
    /// The manager was closed: `"forced close"`.
    ForcedClose,
}

impl DisconnectReason {
    /// Node's string for this reason.
    ///
    /// ```
    /// assert_eq!(socketio_client::DisconnectReason::PingTimeout.as_str(), "ping timeout");
    /// ```
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::IoServerDisconnect => "io server disconnect",
            Self::IoClientDisconnect => "io client disconnect",
            Self::PingTimeout => "ping timeout",
            Self::TransportClose => "transport close",
            Self::TransportError => "transport error",
            Self::ParseError => "parse error",
            Self::ForcedClose => "forced close",
        }
    }

    /// Whether the manager reconnects after this reason (Node: every reason but an explicit
    /// disconnect by either side).
    pub const fn reconnects(self) -> bool {
        !matches!(
            self,
            Self::IoServerDisconnect | Self::IoClientDisconnect | Self::ForcedClose
        )
    }
}

impl std::fmt::Display for DisconnectReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A failed connection (Node's `connect_error` event): the namespace refused the socket
/// (`message` and `data` as the server's middleware set them), or the server could not be
/// reached (`"xhr poll error"`, `"websocket error"`, `"timeout"`; for `"xhr poll error"`,
/// `data` is `{"description": ...}` with the underlying error, Node's `err.description`).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct ConnectError {
    /// The error message.
    pub message: String,
    /// The server's extra details (`err.data`).
    pub data: Option<serde_json::Value>,
}

impl ConnectError {
    pub(crate) fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            data: None,
        }
    }
}

/// Why an emit failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EmitError {
    /// The arguments cannot be encoded, or the event name is reserved.
    #[error(transparent)]
    Encode(#[from] socketio_proto::EncodeError),
    /// The manager is gone.
    #[error("client closed")]
    Closed,
}
