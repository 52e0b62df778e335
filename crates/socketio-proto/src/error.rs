//! Error types: [`DecodeError`] for what a peer sent (every variant is a peer fault; Node closes the
//! connection with `"parse error"` on all of them), [`EncodeError`] for what we were asked to
//! send (local faults), [`ArgsError`] for turning received arguments into Rust values.

use bytestring::ByteString;

use crate::packet::PacketType;

/// A malformed or disallowed message from the peer. The connection should be closed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// An empty text message.
    #[error("empty packet")]
    Empty,
    /// The packet type is not one of 0..=6 (0..=4 for msgpack), or is missing.
    #[error("unknown packet type")]
    UnknownType,
    /// The attachment count of a binary packet is missing, malformed or zero.
    #[error("illegal attachments")]
    InvalidAttachments,
    /// A binary packet announces more attachments than [`Limits::max_attachments`](crate::Limits::max_attachments).
    #[error("too many attachments: more than {max}")]
    TooManyAttachments {
        /// The configured maximum.
        max: usize,
    },
    /// The namespace is missing (msgpack), not a string, or does not start with `/`.
    #[error("invalid namespace")]
    InvalidNamespace,
    /// The namespace is longer than [`Limits::max_namespace_len`](crate::Limits::max_namespace_len).
    #[error("namespace longer than {max} bytes")]
    NamespaceTooLong {
        /// The configured maximum.
        max: usize,
    },
    /// The ack id is not an integer in `0..=2^53-1`.
    #[error("invalid ack id")]
    InvalidAckId,
    /// An `ACK` packet without an id.
    #[error("ack packet without an id")]
    MissingAckId,
    /// A message, or a packet with its attachments, is larger than the limits allow.
    #[error("packet larger than {max} bytes")]
    TooLarge {
        /// The limit that was exceeded.
        max: usize,
    },
    /// A packet type that requires a payload (`EVENT`, `ACK`, `CONNECT_ERROR`) has none.
    #[error("missing payload for a {0:?} packet")]
    MissingPayload(PacketType),
    /// The payload has the wrong shape for the packet type (e.g. `EVENT` whose payload is not an
    /// array, `DISCONNECT` with a payload, `CONNECT` whose payload is not an object).
    #[error("invalid payload for a {0:?} packet")]
    InvalidPayload(PacketType),
    /// The payload of an `EVENT` is an empty array.
    #[error("missing event name")]
    MissingEventName,
    /// The first element of an `EVENT` payload is not a string.
    #[error("event name is not a string")]
    EventNameNotString,
    /// The event name is one of the [`RESERVED_EVENTS`](crate::RESERVED_EVENTS).
    #[error("reserved event name {0:?}")]
    ReservedEventName(ByteString),
    /// The payload is not well-formed JSON, or nests too deep.
    #[error("malformed JSON payload: {0}")]
    Json(#[from] socketio_json::Error),
    /// The packet is not well-formed MessagePack, or nests too deep.
    #[cfg(feature = "msgpack")]
    #[error("malformed MessagePack packet: {0}")]
    Msgpack(#[from] socketio_msgpack::Error),
    /// A `{"_placeholder":true,"num":N}` whose `N` names no received attachment.
    #[error("illegal attachments: placeholder without a matching attachment")]
    InvalidPlaceholder,
    /// A text message arrived while the attachments of a binary packet were still expected
    /// (Node: "got plaintext data when reconstructing a packet").
    #[error("got a text message while {missing} attachment(s) were expected")]
    UnexpectedText {
        /// Attachments that were still missing.
        missing: usize,
    },
    /// A binary message arrived when no attachment was expected
    /// (Node: "got binary data when not reconstructing a packet").
    #[error("got a binary message when no attachment was expected")]
    UnexpectedBinary,
    /// The msgpack parser only accepts binary messages.
    #[error("the msgpack parser got a text message")]
    TextWithMsgpack,
}

impl DecodeError {
    /// Always `true`: every decoding error is caused by what the peer sent. Present so callers
    /// can treat all error types of this crate alike.
    pub fn is_peer_fault(&self) -> bool {
        true
    }
}

/// A packet that cannot be encoded. These are local faults: the caller asked for something the
/// protocol cannot carry.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum EncodeError {
    /// The namespace does not start with `/`, or (JSON parser) contains a `,`, which ends the
    /// namespace on the wire so the packet could not be decoded back (Node throws the same).
    #[error(
        "invalid namespace {0:?}: must start with '/' (and contain no ',' with the JSON parser)"
    )]
    InvalidNamespace(String),
    /// The event name is one of the [`RESERVED_EVENTS`](crate::RESERVED_EVENTS) (Node's `emit`
    /// throws `"… is a reserved event name"`).
    #[error("{0:?} is a reserved event name")]
    ReservedEventName(String),
    /// A value could not be written as JSON.
    #[error("cannot encode as JSON: {0}")]
    Json(#[from] socketio_json::Error),
    /// A value could not be written as MessagePack.
    #[cfg(feature = "msgpack")]
    #[error("cannot encode as MessagePack: {0}")]
    Msgpack(#[from] socketio_msgpack::Error),
    /// Raw arguments or a raw value decoded by one parser cannot be written by the other one.
    #[error("raw data of the {have:?} parser cannot be written by the {want:?} parser")]
    ParserMismatch {
        /// The parser that produced the data.
        have: crate::Parser,
        /// The parser asked to write it.
        want: crate::Parser,
    },
}

/// Received arguments (or a raw value) that do not fit the requested Rust type, or that turn out
/// to be malformed when decoded lazily. Caused by the peer's data.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ArgsError {
    /// From the JSON parser.
    #[error(transparent)]
    Json(#[from] socketio_json::Error),
    /// From the msgpack parser.
    #[cfg(feature = "msgpack")]
    #[error(transparent)]
    Msgpack(#[from] socketio_msgpack::Error),
}
