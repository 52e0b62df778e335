//! Errors of the Engine.IO packet and payload codecs.
//!
//! Every variant of [`DecodeError`] is a fault of the peer (or of whatever produced the bytes):
//! encoding never fails, so the codecs have no local error type. The session keeps its own errors.

use crate::PacketType;

/// A peer sent bytes that are not a valid Engine.IO packet or payload.
///
/// Node's engine.io answers every one of these by closing the session with `"parse error"`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// The packet is empty: no type digit (e.g. an empty WebSocket text frame, or an empty record
    /// in a v4 payload such as the one after a trailing separator).
    #[error("empty packet")]
    Empty,
    /// The type digit (text) or type byte (binary) is not one of the seven packet types.
    #[error("unknown packet type {0:#04x}")]
    InvalidPacketType(u8),
    /// Text is not valid UTF-8.
    #[error("text is not valid UTF-8")]
    InvalidUtf8,
    /// A `b`-prefixed packet does not hold valid standard base64.
    #[error("invalid base64 in a binary packet")]
    InvalidBase64,
    /// The JSON of an open packet is malformed or lacks a required field.
    #[error("invalid open packet: {0}")]
    InvalidOpenPacket(String),
    /// Binary data in a packet other than a message; Engine.IO clients only send binary messages.
    #[error("binary data in a {0:?} packet")]
    UnsupportedBinaryPacket(PacketType),
    /// The polling request body is larger than the configured `maxHttpBufferSize`.
    #[error("payload of {len} bytes exceeds the limit of {max} bytes")]
    PayloadTooLarge {
        /// Size of the body in bytes.
        len: usize,
        /// The configured limit.
        max: usize,
    },
    /// An empty polling body (Node rejects it too; a v3 empty payload is `0:`).
    #[error("empty payload")]
    EmptyPayload,
    /// A v3 length prefix is missing, holds something else than decimal digits, or has no
    /// terminator (`:` in a string payload, `0xFF` in a binary payload).
    #[error("malformed length prefix")]
    InvalidLength,
    /// A v3 length prefix announces more data than the payload holds.
    #[error("length prefix runs past the end of the payload")]
    Truncated,
    /// A v3 string length (in UTF-16 code units) ends inside a surrogate pair, which would leave
    /// a lone surrogate that UTF-8 cannot hold.
    #[error("length prefix splits a surrogate pair")]
    SplitSurrogatePair,
    /// A part of a v3 binary (XHR2) payload starts with a byte other than `0` (text) or `1`
    /// (binary).
    #[error("unknown payload part kind {0:#04x}")]
    InvalidPartKind(u8),
}
