//! Errors of the Engine.IO core.

/// A peer sent bytes that are not a valid Engine.IO packet or payload.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// The packet is empty.
    #[error("empty packet")]
    Empty,
}
