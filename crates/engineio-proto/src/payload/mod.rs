//! Polling payloads: several packets in one HTTP body.
//!
//! - **v4**: packets in their text encoding joined by the record separator `0x1e`; binary
//!   messages as `b` + base64 (`4hello\x1ebAQIDBA==`). See [`decode_v4`], [`encode_v4`].
//! - **v3** (feature `v3`): a *string* payload `<length>:<packet>…` whose lengths count UTF-16
//!   code units as JavaScript's `String.length` does (`6:4hello2:4€`), binary messages as
//!   `b4` + base64; or, for clients that support XHR2, a *binary* payload where each packet is
//!   `<0 text | 1 binary><length as one byte per decimal digit><0xFF><packet>`.
//!
//! Decoders check the body against the size limit (`maxHttpBufferSize`, see
//! [`DEFAULT_MAX_PAYLOAD`]) before anything else, and slice packet data out of the body instead of
//! copying it (base64 binary is the exception: it must be decoded). Each decoder comes as an
//! iterator (`iter_*`) that yields packets up to the first malformed one, which is what Node does
//! (it delivers the packets before a parse error, then closes the session), and as a function
//! that collects all of them or fails as a whole.
//!
//! Encoders compute the exact size first and reserve it once.
//!
//! ```
//! use bytes::{Bytes, BytesMut};
//! use engineio_proto::{Packet, Str, payload};
//!
//! let packets = payload::decode_v4(Bytes::from_static(b"4hello\x1e2\x1e4world"), 1_000_000)?;
//! assert_eq!(packets, [
//!     Packet::Message(Str::from_static("hello")),
//!     Packet::Ping(Str::new()),
//!     Packet::Message(Str::from_static("world")),
//! ]);
//! let mut out = BytesMut::new();
//! payload::encode_v4(&packets, &mut out);
//! assert_eq!(&out[..], b"4hello\x1e2\x1e4world");
//! # Ok::<(), engineio_proto::DecodeError>(())
//! ```

use crate::DecodeError;

#[cfg(feature = "v3")]
mod v3;
mod v4;

#[cfg(feature = "v3")]
pub use v3::{
    PacketsV3Binary, PacketsV3String, V3Format, decode_v3, decode_v3_binary, decode_v3_string,
    encode_v3, encode_v3_binary, encode_v3_string, encoded_len_v3_binary, encoded_len_v3_string,
    iter_v3_binary, iter_v3_string,
};
pub use v4::{PacketsV4, SEPARATOR, decode_v4, encode_v4, encoded_len_v4, iter_v4};

/// Node's default `maxHttpBufferSize`: the largest polling body accepted, in bytes (1 MB).
pub const DEFAULT_MAX_PAYLOAD: usize = 1_000_000;

/// Rejects a body over the limit before any work is done on it.
fn check_size(len: usize, max: usize) -> Result<(), DecodeError> {
    if len > max {
        return Err(DecodeError::PayloadTooLarge { len, max });
    }
    Ok(())
}

#[cfg(test)]
mod tests;
