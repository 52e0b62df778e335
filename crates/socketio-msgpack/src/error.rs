//! The one error type of this crate.

use std::fmt;

/// Why encoding or decoding failed.
///
/// Decoding errors ([`Error::is_peer_fault`] returns `true`) come from the bytes a peer sent;
/// the others come from the local value being encoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The input ended in the middle of a value (or a declared length runs past its end).
    #[error("unexpected end of MessagePack input")]
    UnexpectedEof,
    /// A byte that cannot start a value (`0xc1`), or a marker of the wrong kind where a specific kind
    /// was required (e.g. [`Reader::read_str`](crate::Reader::read_str) on an integer).
    #[error("unexpected MessagePack marker 0x{0:02x}")]
    InvalidMarker(u8),
    /// Arrays and maps nest deeper than [`Limits::max_depth`](crate::Limits::max_depth).
    #[error("MessagePack nesting deeper than the limit")]
    DepthLimit,
    /// An array or map declares more entries than [`Limits::max_len`](crate::Limits::max_len).
    #[error("MessagePack array or map longer than the limit")]
    LengthLimit,
    /// A string is not valid UTF-8.
    #[error("MessagePack string is not valid UTF-8")]
    InvalidUtf8,
    /// A complete value was followed by more bytes (the count is given).
    #[error("{0} trailing bytes after the MessagePack value")]
    TrailingBytes(usize),
    /// A map key is not a string where a string key is required (conversion to
    /// `serde_json::Value`, whose object keys are strings).
    #[error("MessagePack map key is not a string")]
    KeyNotString,
    /// An integer does not fit the requested type.
    #[error("MessagePack integer out of range")]
    IntegerOverflow,
    /// Local: a string, byte string, array or map longer than MessagePack can express
    /// (`u32::MAX`), or a value serde cannot express in this format (e.g. a non-string map key).
    #[error("value cannot be encoded as MessagePack: {0}")]
    Unsupported(&'static str),
    /// A message from a serde `Serialize` or `Deserialize` implementation (for decoding: usually a
    /// type mismatch between the bytes and the requested Rust type).
    #[error("{0}")]
    Custom(String),
}

impl Error {
    /// `true` when the error is caused by the decoded bytes (the peer), `false` for local
    /// encoding failures.
    pub fn is_peer_fault(&self) -> bool {
        !matches!(self, Error::Unsupported(_))
    }
}

impl serde::ser::Error for Error {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        Error::Custom(msg.to_string())
    }
}

impl serde::de::Error for Error {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        Error::Custom(msg.to_string())
    }
}
