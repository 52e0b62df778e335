//! Decoding limits: everything a peer controls is bounded before anything is allocated for it.

/// Bounds applied while decoding, with Node's defaults where Node has one.
///
/// | limit | default | Node |
/// | --- | --- | --- |
/// | [`max_message_size`](Self::max_message_size) | 1 000 000 bytes | `maxHttpBufferSize` (1e6), enforced by engine.io per message |
/// | [`max_packet_size`](Self::max_packet_size) | 11 000 000 bytes | none of its own: one message plus at most 10 attachments of 1e6 each |
/// | [`max_attachments`](Self::max_attachments) | 10 | `maxAttachments` of `socket.io-parser`'s `Decoder` (10) |
/// | [`max_depth`](Self::max_depth) | 128 | none (`JSON.parse` recurses until the stack ends) |
/// | [`max_namespace_len`](Self::max_namespace_len) | 4096 bytes | none (bounded by the message size) |
///
/// Limits that are not configurable because they are part of the protocol: an ack id is at most
/// `2^53-1` ([`AckId::MAX`](crate::AckId::MAX)), an event name must be a string and must not be one
/// of the [`RESERVED_EVENTS`](crate::RESERVED_EVENTS).
///
/// ```
/// use socketio_proto::Limits;
/// let limits = Limits { max_attachments: 2, ..Limits::default() };
/// assert_eq!(limits.max_message_size, 1_000_000);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest single engine.io message (a text packet, a msgpack packet or one attachment), in
    /// bytes. The engine layer enforces its own `maxPayload` first; this is the same bound seen
    /// from the packet layer, so a decoder used on its own is safe too.
    pub max_message_size: usize,
    /// Largest total of one packet: its text plus all of its binary attachments, in bytes. Bounds
    /// the memory a half-received binary packet can hold.
    pub max_packet_size: usize,
    /// Most binary attachments one `BINARY_EVENT` / `BINARY_ACK` may announce. A larger count is
    /// refused before any attachment is awaited.
    pub max_attachments: usize,
    /// Deepest nesting of arrays and objects in a payload.
    pub max_depth: usize,
    /// Longest namespace, in bytes (in protocol v4 this includes the query string).
    pub max_namespace_len: usize,
}

impl Limits {
    /// Node's `maxHttpBufferSize` default.
    pub const DEFAULT_MAX_MESSAGE_SIZE: usize = 1_000_000;
    /// `socket.io-parser`'s default `maxAttachments`.
    pub const DEFAULT_MAX_ATTACHMENTS: usize = 10;

    pub(crate) fn json(&self) -> socketio_json::Limits {
        json_limits(self.max_depth)
    }

    #[cfg(feature = "msgpack")]
    pub(crate) fn msgpack(&self) -> socketio_msgpack::Limits {
        let mut l = msgpack_limits(self.max_depth);
        // No container can hold more elements than the message has bytes.
        l.max_len = l.max_len.min(self.max_message_size);
        l
    }
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_message_size: Self::DEFAULT_MAX_MESSAGE_SIZE,
            max_packet_size: Self::DEFAULT_MAX_MESSAGE_SIZE * (1 + Self::DEFAULT_MAX_ATTACHMENTS),
            max_attachments: Self::DEFAULT_MAX_ATTACHMENTS,
            max_depth: 128,
            max_namespace_len: 4096,
        }
    }
}

#[allow(
    clippy::field_reassign_with_default,
    reason = "keeps working when the format crate adds limits"
)]
pub(crate) fn json_limits(max_depth: usize) -> socketio_json::Limits {
    let mut l = socketio_json::Limits::default();
    l.max_depth = max_depth;
    l
}

#[cfg(feature = "msgpack")]
#[allow(
    clippy::field_reassign_with_default,
    reason = "keeps working when the format crate adds limits"
)]
pub(crate) fn msgpack_limits(max_depth: usize) -> socketio_msgpack::Limits {
    let mut l = socketio_msgpack::Limits::default();
    l.max_depth = max_depth;
    l
}
