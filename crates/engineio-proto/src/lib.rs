//! Sans-IO Engine.IO protocol core.
//!
//! This crate never touches a socket, a clock or a task: it turns bytes into [`Packet`]s and back,
//! and drives one connection's life ([`Session`]) from inputs that the caller feeds it together
//! with the current time. The server and client crates are thin drivers around it.
//!
//! ```text
//!            bytes in                                    bytes out
//!  transport ───────► payload / packet decode ──► Session ──► poll_transmit ──► encode ──► transport
//!                                                   ▲   │
//!                                 handle_timeout(now)   └──► poll_event (messages, close reason)
//! ```

pub mod error;
pub mod packet;
pub mod payload;
pub mod session;
pub mod websocket;

pub use bytestring::ByteString as Str;
pub use error::DecodeError;
pub use packet::{Frame, OpenPacket, Packet, PacketType};
pub use session::{Client, CloseReason, Event, Server, Session, Transmit};

/// The Engine.IO protocol revision spoken on a connection (the `EIO` query parameter).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ProtocolVersion {
    /// Engine.IO v3 (socket.io 2.x): length-prefixed polling payloads, the client sends pings.
    #[cfg(feature = "v3")]
    V3,
    /// Engine.IO v4 (socket.io 3.x and 4.x): record-separated payloads, the server sends pings.
    V4,
}

/// The transport a session currently uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TransportKind {
    /// HTTP long-polling (`transport=polling`).
    Polling,
    /// WebSocket (`transport=websocket`).
    WebSocket,
}
