//! Engine.IO packets.

use bytes::Bytes;

use crate::Str;

/// The type of an Engine.IO packet, as the digit that starts its text encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum PacketType {
    /// `0`: sent by the server when a session opens.
    Open = 0,
    /// `1`: closes the session.
    Close = 1,
    /// `2`: heartbeat request (or upgrade probe `2probe`).
    Ping = 2,
    /// `3`: heartbeat answer (or probe answer `3probe`).
    Pong = 3,
    /// `4`: a message for the layer above.
    Message = 4,
    /// `5`: completes a transport upgrade.
    Upgrade = 5,
    /// `6`: does nothing; flushes a pending long-polling request during an upgrade.
    Noop = 6,
}

/// One Engine.IO packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Packet {
    /// The handshake, sent by the server.
    Open(OpenPacket),
    /// Close the session.
    Close,
    /// A ping; the data is empty for a heartbeat and `probe` during an upgrade.
    Ping(Str),
    /// A pong; echoes the data of the ping it answers.
    Pong(Str),
    /// A text message.
    Message(Str),
    /// A binary message.
    Binary(Bytes),
    /// Completes an upgrade.
    Upgrade,
    /// No operation.
    Noop,
}

/// The data of the [`Packet::Open`] handshake, a JSON object on the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenPacket {
    /// The session id.
    pub sid: Str,
    /// Transports the session may upgrade to (`["websocket"]` on a polling session).
    pub upgrades: Vec<Str>,
    /// Milliseconds between two pings.
    pub ping_interval: u64,
    /// Milliseconds a peer has to answer a ping.
    pub ping_timeout: u64,
    /// The largest payload in bytes the server accepts (v4 only; absent in v3).
    pub max_payload: u64,
}
