//! MessagePack exactly as the npm `notepack.io` 2.2 encoder writes it — the format of
//! `socket.io-msgpack-parser`, which encodes each whole Socket.IO packet object with
//! `notepack.encode` — as a serde data format, plus low-level [`write`](mod@write) functions, a [`Reader`],
//! and fast direct conversions from and to `serde_json::Value`.
//!
//! # How notepack writes each JavaScript value (and so do we)
//!
//! | JavaScript value | MessagePack |
//! | --- | --- |
//! | integer `0..=127` / `-32..=-1` | positive / negative fixint |
//! | other integers | smallest of uint 8/16/32/64 (any non-negative value), int 8/16/32/64 (negative) |
//! | non-integral number, `NaN`, `±Infinity` | float 64 (never float 32) |
//! | string | fixstr / str 8 / str 16 / str 32 by UTF-8 byte length |
//! | `Buffer` (Node) | bin 8 / bin 16 / bin 32 (bin 8 even when empty) |
//! | `ArrayBuffer`, typed array (Node) | ext 8/16/32 of type 0 |
//! | array | fixarray / array 16 / array 32 |
//! | object | fixmap / map 16 / map 32, own enumerable keys in order, functions skipped |
//! | `null` | nil `c0` |
//! | `undefined` (also as an object property) | fixext 1 type 0: `d4 00 00` |
//! | `true` / `false` | `c3` / `c2` |
//! | `Date` | fixext 8 type 0: milliseconds as a big-endian int 64 |
//!
//! Decoding accepts everything notepack decodes: also float 32, and any other extension type
//! (as `[type, bytes]`).
//!
//! # Differences from notepack, on purpose
//! - Integral numbers outside `[-2^63, 2^64)` are written as float 64; notepack wraps them
//!   modulo 2^64, so they would decode as a different number.
//! - Decoding is strict where notepack is lenient: invalid UTF-8 is an error (notepack replaces
//!   it), `0xc1` and truncated input are errors, limits apply ([`Limits`]).
//! - 64-bit integers decode exactly (notepack rounds them to the nearest `f64`).
//! - A map entry whose value is `undefined` is dropped (JavaScript treats it as absent); a `Date`
//!   decodes to its ISO 8601 string, as `JSON.stringify` would write it.
//!
//! # Example
//! ```
//! use serde::{Deserialize, Serialize};
//! use socketio_msgpack::{Limits, from_slice, to_writer};
//!
//! #[derive(Serialize, Deserialize, PartialEq, Debug)]
//! struct Packet<'a> {
//!     r#type: u8,
//!     data: (&'a str, u32),
//!     nsp: &'a str,
//! }
//! let p = Packet { r#type: 2, data: ("hello", 1), nsp: "/" };
//! let mut out = Vec::new();
//! to_writer(&mut out, &p)?;
//! // notepack.encode({type: 2, data: ["hello", 1], nsp: "/"})
//! assert_eq!(out, b"\x83\xa4type\x02\xa4data\x92\xa5hello\x01\xa3nsp\xa1/");
//! assert_eq!(from_slice::<Packet<'_>>(&out, &Limits::default())?, p);
//! # Ok::<(), socketio_msgpack::Error>(())
//! ```

mod date;
mod de;
mod error;
mod read;
mod ser;
mod value;
pub mod write;

use serde::{Deserialize, Serialize};

pub use de::Deserializer;
pub use error::Error;
pub use read::{Header, Reader};
pub use ser::{Compound, Serializer};

/// Bounds on what a decoder accepts from a peer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Maximum nesting of arrays and maps (the top-level container is depth 1). Default 128.
    ///
    /// Decoding into values recurses once per level, so keep this in the hundreds.
    pub max_depth: usize,
    /// Maximum number of elements of one array, or entries of one map. Default 2^20.
    pub max_len: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_depth: 128,
            max_len: 1 << 20,
        }
    }
}

/// Appends `value` to `out` as MessagePack, byte-identical to what notepack writes for the
/// equivalent JavaScript value (see [`Serializer`] for the mapping).
///
/// On error, `out` may hold part of the value.
pub fn to_writer<T: ?Sized + Serialize>(out: &mut Vec<u8>, value: &T) -> Result<(), Error> {
    value.serialize(&mut Serializer::new(out))
}

/// Serializes `value` into a new `Vec<u8>`.
pub fn to_vec<T: ?Sized + Serialize>(value: &T) -> Result<Vec<u8>, Error> {
    let mut out = Vec::with_capacity(64);
    to_writer(&mut out, value)?;
    Ok(out)
}

/// Deserializes one value that must span all of `input`: bytes after it are
/// [`Error::TrailingBytes`] (notepack's decoder rejects them too).
///
/// Strings and bytes can be borrowed from `input` (`&str`, `&[u8]`, `Cow`).
pub fn from_slice<'de, T: Deserialize<'de>>(input: &'de [u8], limits: &Limits) -> Result<T, Error> {
    let mut de = Deserializer::new(Reader::new(input), *limits);
    let v = T::deserialize(&mut de)?;
    let rest = de.rd.rest().len();
    if rest != 0 {
        return Err(Error::TrailingBytes(rest));
    }
    Ok(v)
}

/// Deserializes the value at the reader's position and advances the reader past it (nothing is
/// said about the bytes after it).
pub fn from_reader<'de, T: Deserialize<'de>>(
    reader: &mut Reader<'de>,
    limits: &Limits,
) -> Result<T, Error> {
    let mut de = Deserializer::new(reader.clone(), *limits);
    let v = T::deserialize(&mut de)?;
    *reader = de.into_reader();
    Ok(v)
}

/// Deserializes `T` from the next `count` values at the reader, typically the arguments left in
/// an array whose header and first elements (e.g. the event name) the caller has read already.
///
/// The rule, which mirrors how a JavaScript handler receives arguments:
/// - a `T` that asks for a sequence (tuple, tuple struct, `Vec`, array) gets the `count` values as
///   its elements; a tuple shorter than `count` ignores the extra values;
/// - `serde_json::Value` and other self-describing types get the single value when `count == 1`,
///   otherwise all values as an array;
/// - `Option<T>` is `None` when `count == 0`, `()` accepts `count == 0`;
/// - any other type (string, number, struct, map, …) gets the first value; extra values are
///   ignored; `count == 0` is an error.
///
/// Skipped values are still validated. The reader ends after the `count` values; nesting depth
/// counts from 1 (the enclosing array).
#[inline]
pub fn from_elements<'de, T: Deserialize<'de>>(
    reader: &mut Reader<'de>,
    count: u32,
    limits: &Limits,
) -> Result<T, Error> {
    let mut de = Deserializer::new(reader.clone(), *limits);
    de.set_depth(1);
    let v = T::deserialize(de::Elements { de: &mut de, count })?;
    *reader = de.into_reader();
    Ok(v)
}

/// Writes the array `[event, ...args]` (or `[...args]` when `event` is `None`), the `data` of a
/// Socket.IO EVENT or ACK packet.
///
/// `args` that serialize as a sequence (tuple, `Vec`, array, `Value::Array`) are spread as
/// separate elements; any other value (including `()` and bytes) is one element.
pub fn write_args<T: ?Sized + Serialize>(
    out: &mut Vec<u8>,
    event: Option<&str>,
    args: &T,
) -> Result<(), Error> {
    let pos = out.len();
    to_writer(out, args)?;
    let first = out.get(pos).copied();
    let (n, header) = match first {
        Some(m @ 0x90..=0x9f) => (u32::from(m & 0x0f), 1),
        Some(0xdc) => {
            let mut r = Reader::new(out.get(pos..).unwrap_or_default());
            (r.read_array_len()?, 3)
        }
        Some(0xdd) => {
            let mut r = Reader::new(out.get(pos..).unwrap_or_default());
            (r.read_array_len()?, 5)
        }
        _ => (1, 0),
    };
    let total = n
        .checked_add(u32::from(event.is_some()))
        .ok_or(Error::Unsupported("more than u32::MAX items"))?;
    let mut prefix = Vec::with_capacity(5 + event.map_or(0, |e| e.len() + 5));
    write::array_len(&mut prefix, total);
    if let Some(e) = event {
        write::str(&mut prefix, e);
    }
    out.splice(pos..pos + header, prefix);
    Ok(())
}

/// Decodes one value spanning all of `input` straight into a `serde_json::Value`, without serde
/// dispatch.
///
/// Gives the same result as `from_slice::<serde_json::Value>` wherever that succeeds. In
/// addition, binary data (bin, `ArrayBuffer` ext) becomes an array of byte values, as
/// `serde_json::to_value` writes bytes (serde_json's `Value` cannot be deserialized from bytes).
/// Map keys must be strings (or `Date`s, which decode to strings): [`Error::KeyNotString`].
pub fn value_from_slice(input: &[u8], limits: &Limits) -> Result<serde_json::Value, Error> {
    let mut rd = Reader::new(input);
    let v = value::decode(&mut rd, 0, limits)?;
    let rest = rd.rest().len();
    if rest != 0 {
        return Err(Error::TrailingBytes(rest));
    }
    Ok(v)
}

/// [`value_from_slice`] for the value at the reader's position, advancing past it.
pub fn value_from_reader(
    reader: &mut Reader<'_>,
    limits: &Limits,
) -> Result<serde_json::Value, Error> {
    value::decode(reader, 0, limits)
}

/// Writes a `serde_json::Value` directly (same bytes as [`to_writer`] gives for it).
///
/// # Panics
/// If a string, array or object is longer than `u32::MAX`, which MessagePack cannot express.
pub fn write_value(out: &mut Vec<u8>, value: &serde_json::Value) {
    value::encode(out, value);
}

#[cfg(test)]
mod tests;
