//! Error types. Peer faults (`Syntax`, `DepthLimit`, `Placeholder`, `Custom`) are kept apart from
//! the local fault `Serialize`.

use std::fmt;

/// Everything that can go wrong while reading or writing JSON.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The input is not well-formed JSON (peer fault).
    #[error("invalid JSON at byte {offset}: {kind}")]
    Syntax {
        /// Byte offset in the input where the problem was found.
        offset: usize,
        /// What was wrong.
        kind: SyntaxError,
    },
    /// Arrays and objects are nested deeper than [`Limits::max_depth`](crate::Limits::max_depth)
    /// (peer fault).
    #[error("JSON nesting exceeds the depth limit")]
    DepthLimit,
    /// A `{"_placeholder":true,"num":N}` object does not name an existing attachment (peer fault).
    #[error("invalid binary placeholder: {0}")]
    Placeholder(PlaceholderError),
    /// Well-formed JSON that does not fit the requested type; raised by a `Deserialize`
    /// implementation (peer fault).
    #[error("{0}")]
    Custom(String),
    /// The value cannot be written as JSON, e.g. a map key that is not a string or a number;
    /// raised by a `Serialize` implementation (local fault).
    #[error("cannot serialize as JSON: {0}")]
    Serialize(String),
}

impl Error {
    /// True when the error comes from the data received (anything but [`Error::Serialize`]).
    pub fn is_peer_fault(&self) -> bool {
        !matches!(self, Error::Serialize(_))
    }

    #[cold]
    pub(crate) fn syntax(offset: usize, kind: SyntaxError) -> Self {
        Error::Syntax { offset, kind }
    }
}

/// The kind of a JSON syntax error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SyntaxError {
    /// The input ended in the middle of a value.
    #[error("unexpected end of input")]
    Eof,
    /// A value was expected here.
    #[error("expected a value")]
    ExpectedValue,
    /// `true`, `false` or `null` is misspelled.
    #[error("invalid literal")]
    InvalidLiteral,
    /// An object key must be a string.
    #[error("expected a string key")]
    ExpectedKey,
    /// `:` must follow an object key.
    #[error("expected ':'")]
    ExpectedColon,
    /// `,` or `]` must follow an array element.
    #[error("expected ',' or ']'")]
    ExpectedCommaOrBracket,
    /// `,` or `}` must follow an object member.
    #[error("expected ',' or '}}'")]
    ExpectedCommaOrBrace,
    /// The input must be a JSON array here.
    #[error("expected an array")]
    ExpectedArray,
    /// The value must be a string here.
    #[error("expected a string")]
    ExpectedString,
    /// The number does not follow the JSON grammar.
    #[error("invalid number")]
    InvalidNumber,
    /// The number is too large to be represented as an `f64`.
    #[error("number out of range")]
    NumberOutOfRange,
    /// Unknown escape sequence in a string.
    #[error("invalid escape")]
    InvalidEscape,
    /// `\u` must be followed by four hexadecimal digits.
    #[error("invalid \\u escape")]
    InvalidUnicodeEscape,
    /// A UTF-16 surrogate escape without its pair.
    #[error("lone surrogate in \\u escape")]
    LoneSurrogate,
    /// Control characters (below U+0020) must be escaped inside strings.
    #[error("control character in string")]
    ControlCharacter,
    /// The input is not valid UTF-8.
    #[error("invalid UTF-8")]
    InvalidUtf8,
    /// Something follows the value.
    #[error("trailing characters")]
    TrailingCharacters,
}

/// Why a binary placeholder object was rejected.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum PlaceholderError {
    /// `num` is missing or is not a non-negative integer.
    #[error("`num` is not an attachment index")]
    InvalidNum,
    /// `num` is past the attachments received with the packet.
    #[error("attachment {num} requested but only {available} received")]
    OutOfRange {
        /// The index requested.
        num: u64,
        /// How many attachments there are.
        available: usize,
    },
}

impl serde::de::Error for Error {
    #[cold]
    fn custom<T: fmt::Display>(msg: T) -> Self {
        Error::Custom(msg.to_string())
    }
}

impl serde::ser::Error for Error {
    #[cold]
    fn custom<T: fmt::Display>(msg: T) -> Self {
        Error::Serialize(msg.to_string())
    }
}
