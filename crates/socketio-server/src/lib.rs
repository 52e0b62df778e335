//! A Socket.IO server for tokio, wire-compatible with Node's `socket.io` v4: the official
//! JavaScript client (and every other Socket.IO v5 client) connects to it as to a Node server.
//!
//! The API keeps Node's vocabulary: a [`Server`] has [`Namespace`]s, clients connect as
//! [`Socket`]s that listen with [`Socket::on`], send with [`Socket::emit`], join rooms, and
//! broadcast with [`BroadcastOperator`]s (`to`, `except`, `volatile`, `timeout`…).
//!
//! ```no_run
//! use socketio_server::{Ack, Data, Server, Socket};
//!
//! #[tokio::main]
//! async fn main() -> std::io::Result<()> {
//!     let io = Server::new();
//!     io.on_connection(|socket: Socket| async move {
//!         socket.on("chat message", |socket: Socket, Data(text): Data<String>| async move {
//!             // Everyone else in the namespace.
//!             let _ = socket.broadcast().emit("chat message", &text);
//!         });
//!         socket.on("echo", |Data(value): Data<serde_json::Value>, ack: Ack| async move {
//!             let _ = ack.send(&(value,));
//!         });
//!     });
//!     io.listen("127.0.0.1:3000".parse().unwrap()).await
//! }
//! ```
//!
//! # How it runs
//!
//! Each Engine.IO connection has one task that decodes its packets and calls the handlers.
//! A handler runs inline until it first waits (then it continues in a task of its own), so the
//! listeners a connection handler registers before its first `.await` are in place before the
//! next packet is read, as in Node.
//!
//! Broadcasts serialize and encode their packet once: every recipient's queue gets the same
//! reference-counted bytes. A broadcast with acknowledgements uses one ack id for every
//! recipient (as Node does), so it is encoded once too.
//!
//! # Limits and slow clients
//!
//! Incoming messages are bounded by `maxHttpBufferSize` (1 MB), packets by the
//! [`socketio_proto::Limits`] (10 attachments, nesting depth 128…). Outgoing, each connection
//! queues at most `max_queued_packets` packets (4096): a client that lets more pile up is
//! disconnected (`"transport error"`), except that [`volatile`](BroadcastOperator::volatile)
//! packets are dropped for it instead.
//!
//! # Handler errors
//!
//! A handler may return `Result<(), E>`; an `Err`, like arguments that do not deserialize into
//! the handler's parameters, goes to [`ServerBuilder::on_error`] (or is logged through `tracing`
//! at `warn`). When arguments do not fit and the client asked for an acknowledgement, the
//! acknowledgement is sent with one argument, `{"message": "invalid arguments: …"}`, so the
//! client is not left waiting. A payload that is not even well-formed closes the connection, as
//! Node's parser does.

mod ack;
mod adapter;
mod cluster;
mod connection;
mod handler;
mod handshake;
mod namespace;
mod operators;
mod server;
mod socket;

use bytestring::ByteString;
use serde::Serialize;

pub use ack::{AckError, AckFuture, BroadcastAckError, BroadcastAckFuture};
pub use adapter::{
    AckSink, Adapter, AdapterError, AdapterFuture, BroadcastOptions, MemoryAdapter,
    PersistedSession, RecoveryConfig, RemoteSocketData, RestoredSession,
};
pub use cluster::{LocalAcks, LocalNamespace, ServerAck};
pub use engineio_server::{
    Cors, CorsOrigin, Refusal, RemoteAddr, RequestInfo, RequestParts, TransportKind,
};
pub use handler::{
    Ack, AllArgs, BoxError, Data, EventContext, EventHandler, ExtractError, FromEvent,
    HandlerResult, RawArgs,
};
pub use handshake::Handshake;
pub use namespace::Namespace;
pub use operators::{BroadcastOperator, RemoteSocket};
pub use server::{DynamicNamespace, Server, ServerBuilder, ServerConfig};
pub use socket::{ListenerId, Socket, SocketTimeout};
pub use socketio_proto::{Args, Parser};

/// A room name. A socket's id is also a room holding only that socket.
pub type Room = ByteString;

/// One room or several, for [`BroadcastOperator::to`] and friends.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rooms(pub Vec<Room>);

impl From<&str> for Rooms {
    fn from(room: &str) -> Self {
        Rooms(vec![Room::from(room)])
    }
}

impl From<String> for Rooms {
    fn from(room: String) -> Self {
        Rooms(vec![Room::from(room)])
    }
}

impl From<&String> for Rooms {
    fn from(room: &String) -> Self {
        Rooms(vec![Room::from(room.as_str())])
    }
}

impl From<Room> for Rooms {
    fn from(room: Room) -> Self {
        Rooms(vec![room])
    }
}

impl<R: Into<Room>> From<Vec<R>> for Rooms {
    fn from(rooms: Vec<R>) -> Self {
        Rooms(rooms.into_iter().map(Into::into).collect())
    }
}

impl<R: Into<Room>, const N: usize> From<[R; N]> for Rooms {
    fn from(rooms: [R; N]) -> Self {
        Rooms(rooms.into_iter().map(Into::into).collect())
    }
}

/// Why a socket left its namespace, as Node names it ([`DisconnectReason::as_str`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DisconnectReason {
    /// The client closed the connection, or its transport ended: `"transport close"`.
    TransportClose,
    /// The transport failed, or the client did not read fast enough: `"transport error"`.
    TransportError,
    /// The client stopped answering pings: `"ping timeout"`.
    PingTimeout,
    /// The client sent something undecodable at the Engine.IO level: `"parse error"`.
    ParseError,
    /// The server closed the connection: `"forced close"`.
    ForcedClose,
    /// The server closed the connection while packets were queued: `"forced server close"`.
    ForcedServerClose,
    /// The server is shutting down: `"server shutting down"`.
    ServerShuttingDown,
    /// The server disconnected the socket ([`Socket::disconnect`]):
    /// `"server namespace disconnect"`.
    ServerNamespaceDisconnect,
    /// The client disconnected the socket: `"client namespace disconnect"`.
    ClientNamespaceDisconnect,
}

impl DisconnectReason {
    /// Node's string for this reason.
    ///
    /// ```
    /// assert_eq!(socketio_server::DisconnectReason::PingTimeout.as_str(), "ping timeout");
    /// ```
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::TransportClose => "transport close",
            Self::TransportError => "transport error",
            Self::PingTimeout => "ping timeout",
            Self::ParseError => "parse error",
            Self::ForcedClose => "forced close",
            Self::ForcedServerClose => "forced server close",
            Self::ServerShuttingDown => "server shutting down",
            Self::ServerNamespaceDisconnect => "server namespace disconnect",
            Self::ClientNamespaceDisconnect => "client namespace disconnect",
        }
    }

    /// Whether a session that ended this way may be resumed by connection state recovery
    /// (Node's `RECOVERABLE_DISCONNECT_REASONS`).
    pub const fn is_recoverable(self) -> bool {
        !matches!(
            self,
            Self::ParseError | Self::ServerNamespaceDisconnect | Self::ClientNamespaceDisconnect
        )
    }
}

impl std::fmt::Display for DisconnectReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why an emit failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EmitError {
    /// The arguments cannot be encoded, or the event name is reserved.
    #[error(transparent)]
    Encode(#[from] socketio_proto::EncodeError),
    /// The connection is closed.
    #[error("connection closed")]
    Closed,
    /// The client let too many packets pile up and was disconnected.
    #[error("client too slow: disconnected")]
    SlowConsumer,
}

/// A connection refused by a namespace middleware: the client's `connect_error` event receives
/// an `Error` with this `message` and, when set, `data`.
///
/// ```
/// use socketio_server::ConnectError;
/// let error = ConnectError::new("not authorized").with_data(serde_json::json!({"retry": false}));
/// assert_eq!(serde_json::to_string(&error).unwrap(), r#"{"message":"not authorized","data":{"retry":false}}"#);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, thiserror::Error)]
#[error("{message}")]
pub struct ConnectError {
    /// The error message.
    pub message: String,
    /// Extra details for the client.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data: Option<serde_json::Value>,
}

impl ConnectError {
    /// An error with `message` and no data.
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            data: None,
        }
    }

    /// Adds `data` for the client.
    #[must_use]
    pub fn with_data(mut self, data: serde_json::Value) -> Self {
        self.data = Some(data);
        self
    }
}
