//! What a session reports: events, transmit instructions, close reasons.

#[cfg(doc)]
use super::Session;
use std::fmt;

use bytes::Bytes;

use super::ProtocolError;
use crate::{Str, TransportKind};

/// Why a session closed, with Node's reason strings ([`CloseReason::as_str`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CloseReason {
    /// The transport closed, or the peer sent a `close` packet: `"transport close"`.
    TransportClose,
    /// The transport failed, or the peer broke the protocol: `"transport error"`.
    TransportError,
    /// The peer did not keep the heartbeat: `"ping timeout"`.
    PingTimeout,
    /// Closed on purpose by this side: `"forced close"`.
    ForcedClose,
    /// The server is shutting down: `"server shutting down"`.
    ServerShuttingDown,
    /// The peer sent bytes that do not decode: `"parse error"`.
    ParseError,
}

impl CloseReason {
    /// The reason as Node's `engine.io` spells it in its `close` event.
    ///
    /// ```
    /// use engineio_proto::session::CloseReason;
    /// assert_eq!(CloseReason::PingTimeout.as_str(), "ping timeout");
    /// ```
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::TransportClose => "transport close",
            Self::TransportError => "transport error",
            Self::PingTimeout => "ping timeout",
            Self::ForcedClose => "forced close",
            Self::ServerShuttingDown => "server shutting down",
            Self::ParseError => "parse error",
        }
    }
}

impl fmt::Display for CloseReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How a transport ended, as seen by the driver ([`Session::handle_transport_closed`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TransportEnd {
    /// Closed cleanly (WebSocket close, connection shut down).
    Closed,
    /// Failed: I/O error, or a held GET whose connection the client dropped (Node: "poll
    /// connection closed prematurely").
    Error,
}

/// What the session reports to the layer above.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// Client only: the handshake completed; the server's parameters are in [`Session::open`].
    Opened,
    /// A text message.
    Message(Str),
    /// A binary message.
    Binary(Bytes),
    /// The session now runs over this transport.
    Upgraded(TransportKind),
    /// The session is over; nothing more is transmitted or received. Emitted exactly once.
    Closed {
        /// Node's reason.
        reason: CloseReason,
        /// The peer's fault, when [`CloseReason::TransportError`] came from a protocol violation.
        error: Option<ProtocolError>,
    },
}

/// What the driver must do next on a transport ([`Session::poll_transmit`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Transmit {
    /// Write the packets put in the caller's buffer on this transport, in order. On a WebSocket,
    /// one message per packet. On polling, one payload: the server's answer to the held GET, or
    /// the body of a client's POST.
    Send(TransportKind),
    /// Client, polling: issue a GET, feed the packets of its answer to
    /// [`Session::handle_packet`], then call [`Session::handle_poll_done`].
    Poll,
    /// Client: open this transport (the WebSocket to probe), then call
    /// [`Session::handle_transport_opened`] or [`Session::handle_transport_closed`].
    Connect(TransportKind),
    /// Close this transport once what was sent before is written. For the server's polling
    /// transport: answer a held GET, if any, with a `noop` payload, and forget the transport.
    /// For a client's polling transport: abandon the GET in flight.
    Close(TransportKind),
}
