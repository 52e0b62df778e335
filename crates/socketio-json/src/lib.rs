//! JSON for Socket.IO payloads, with binary attachments as `_placeholder` objects.
//!
//! A Socket.IO packet carries its arguments as a JSON array (`["event", arg1, arg2]`). Binary
//! arguments travel as separate attachments; in the JSON each one is replaced by
//! `{"_placeholder":true,"num":N}`, N being its index among the attachments. This crate
//! provides:
//!
//! * a serde format ([`to_writer`], [`write_elements`], [`from_slice`], [`from_array_tail`])
//!   where serde *bytes* (`bytes::Bytes`, `serde_bytes`) map to placeholders and attachments;
//! * fast paths for `serde_json::Value` arguments that skip serde entirely
//!   ([`values_from_array`], [`write_value`]), plus [`array_first_str`] to read an event name
//!   and [`validate`].
//!
//! Output is byte-identical to serde_json's compact output; input is accepted exactly when
//! serde_json accepts it (RFC 8259, UTF-8, paired surrogate escapes) and numbers come out
//! bit-identical to serde_json's (its default, non-`float_roundtrip` algorithm is followed step
//! by step). The one deliberate difference is the depth limit, which is configurable here
//! ([`Limits::max_depth`]). Property tests and the `json_args` fuzz target hold both
//! directions against serde_json.
//!
//! # Why it is faster than serde_json
//!
//! * The `Value` paths skip serde's visitor machinery and never recurse while parsing. Values
//!   are assigned straight into preallocated slots (kept per thread between calls), so a
//!   freshly built `Value` is never copied through a temporary (a store-forwarding stall per
//!   value), and arrays are allocated once at their exact length.
//! * The input is validated as UTF-8 once; strings are then scanned 8 bytes at a time for `"`,
//!   `\` and control bytes (SWAR on `u64`, no `unsafe`) and sliced without further checks.
//! * The writers copy strings 8 bytes per store with the escape check on the same word, write
//!   short keys with their `,"` and `":` in a single store, format integers in a register and
//!   only call out for arrays, objects and floats.
//!
//! ```
//! use bytes::Bytes;
//! let mut out = b"[\"upload\"".to_vec();
//! let mut attachments = Vec::new();
//! let args = ("photo.png", Bytes::from_static(b"\x89PNG"));
//! socketio_json::write_elements(&mut out, &args, &mut attachments).unwrap();
//! out.push(b']');
//! assert_eq!(out, br#"["upload","photo.png",{"_placeholder":true,"num":0}]"#);
//!
//! let limits = socketio_json::Limits::default();
//! let (name, at) = socketio_json::array_first_str(&out).unwrap();
//! assert_eq!((&*name, at), ("upload", 9));
//! let (file, data): (String, Bytes) =
//!     socketio_json::from_array_tail(&out, 1, &attachments, &limits).unwrap();
//! assert_eq!((file.as_str(), &data[..]), ("photo.png", &b"\x89PNG"[..]));
//! ```

mod de;
mod error;
mod pow10;
mod read;
mod ser;
mod value;
mod write;

use std::borrow::Cow;

use bytes::Bytes;
use serde::{Deserialize, Serialize};

pub use error::{Error, PlaceholderError, SyntaxError};

/// Limits applied while reading untrusted input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// How many arrays and objects may be nested: `[]` has depth 1, `[[]]` depth 2. The array
    /// of a Socket.IO packet counts. serde_json's fixed limit rejects depth 128 and above, so
    /// `max_depth: 127` accepts exactly what it accepts. The `Value` paths and [`validate`]
    /// never recurse; the serde paths recurse once per level, so keep this in the hundreds.
    pub max_depth: usize,
}

impl Default for Limits {
    /// `max_depth: 128`.
    fn default() -> Self {
        Limits { max_depth: 128 }
    }
}

/// Serializes `value` as compact JSON (byte-identical to `serde_json::to_writer`), except that
/// every serde bytes value (`serialize_bytes`, e.g. `bytes::Bytes`, `serde_bytes`) becomes
/// `{"_placeholder":true,"num":N}` with N = `attachments.len()`, and its bytes are pushed to
/// `attachments`.
///
/// ```
/// let mut out = Vec::new();
/// let mut attachments = Vec::new();
/// let value = serde_json::json!({"a": [1, 2.5, "x"]});
/// socketio_json::to_writer(&mut out, &value, &mut attachments).unwrap();
/// assert_eq!(out, br#"{"a":[1,2.5,"x"]}"#);
/// ```
pub fn to_writer<T: ?Sized + Serialize>(
    out: &mut Vec<u8>,
    value: &T,
    attachments: &mut Vec<Bytes>,
) -> Result<(), Error> {
    value.serialize(&mut ser::Serializer { out, attachments })
}

/// Like [`to_writer`], but writes the elements of a sequence or tuple `value` as continuation
/// elements of a JSON array the caller has opened: each element is preceded by `,`. Any other
/// value (including `()` and `serde_json::Value::Null`, both written `null`) is one element.
/// To write no argument at all, pass an empty sequence such as `&[(); 0]`.
///
/// ```
/// let mut out = b"[\"chat\"".to_vec();
/// let mut attachments = Vec::new();
/// socketio_json::write_elements(&mut out, &("hi", 42), &mut attachments).unwrap();
/// socketio_json::write_elements(&mut out, &true, &mut attachments).unwrap();
/// out.push(b']');
/// assert_eq!(out, br#"["chat","hi",42,true]"#);
/// ```
pub fn write_elements<T: ?Sized + Serialize>(
    out: &mut Vec<u8>,
    value: &T,
    attachments: &mut Vec<Bytes>,
) -> Result<(), Error> {
    let mut ser = ser::Serializer { out, attachments };
    value.serialize(ser::Elements { ser: &mut ser })
}

/// Deserializes one JSON value. Placeholder objects become bytes taken from `attachments`
/// (visited with `visit_bytes`, so `bytes::Bytes` and `serde_bytes` targets work) when a bytes
/// value is expected (any key order, as in socket.io-parser), and also where any value is
/// accepted (`deserialize_any`, e.g. untagged enums) when `_placeholder` is the object's first
/// key, which is how every known implementation writes it. Strings without escapes are
/// borrowed from `input`.
///
/// ```
/// #[derive(serde::Deserialize)]
/// struct Msg<'a> { text: &'a str, n: u32 }
/// let limits = socketio_json::Limits::default();
/// let m: Msg<'_> = socketio_json::from_slice(br#"{"text":"hi","n":7}"#, &[], &limits).unwrap();
/// assert_eq!((m.text, m.n), ("hi", 7));
/// ```
pub fn from_slice<'de, T: Deserialize<'de>>(
    input: &'de [u8],
    attachments: &[Bytes],
    limits: &Limits,
) -> Result<T, Error> {
    let mut de = de::Deserializer::new(input, attachments, limits.max_depth)?;
    let v = T::deserialize(&mut de)?;
    de.r.end()?;
    Ok(v)
}

/// [`from_slice`] with a [`DeserializeSeed`](serde::de::DeserializeSeed): stateful visitors
/// (e.g. a walk that checks something without building anything) read the value in one pass.
///
/// ```
/// use serde::de::{DeserializeSeed, IgnoredAny};
/// use std::marker::PhantomData;
/// let limits = socketio_json::Limits::default();
/// let seed = PhantomData::<IgnoredAny>;
/// assert!(socketio_json::from_slice_seed(br#"[1,{"a":2}]"#, &[], &limits, seed).is_ok());
/// assert!(socketio_json::from_slice_seed(br#"[1,]"#, &[], &limits, seed).is_err());
/// ```
pub fn from_slice_seed<'de, S: serde::de::DeserializeSeed<'de>>(
    input: &'de [u8],
    attachments: &[Bytes],
    limits: &Limits,
    seed: S,
) -> Result<S::Value, Error> {
    let mut de = de::Deserializer::new(input, attachments, limits.max_depth)?;
    let v = seed.deserialize(&mut de)?;
    de.r.end()?;
    Ok(v)
}

/// `input` is a JSON array; deserializes `T` from its elements after the first `skip` ones (the
/// arguments of a Socket.IO event after its name), with placeholders resolved as in
/// [`from_slice`]. The rule:
///
/// * a tuple, tuple struct or sequence (`Vec`, ...) gets the remaining elements, one per
///   field or item;
/// * something accepting any value (`serde_json::Value`, untagged enums) gets the single
///   remaining element if there is exactly one, otherwise all of them as an array;
/// * anything else (a struct, a string, an `Option`, ...) gets the first remaining element; if
///   there is none it is read from `null` (so `Option<T>` gives `None`, like JS `undefined`).
///
/// Elements left over are validated and ignored, as a JS listener ignores extra arguments. To
/// take a single argument that is itself an array, ask for a 1-tuple: `(Vec<u32>,)`. If the
/// array has `skip` elements or fewer, no element remains.
///
/// ```
/// let limits = socketio_json::Limits::default();
/// let input = br#"["move",3,4]"#;
/// let (x, y): (i32, i32) = socketio_json::from_array_tail(input, 1, &[], &limits).unwrap();
/// assert_eq!((x, y), (3, 4));
/// let x: i32 = socketio_json::from_array_tail(input, 1, &[], &limits).unwrap();
/// assert_eq!(x, 3);
/// ```
pub fn from_array_tail<'de, T: Deserialize<'de>>(
    input: &'de [u8],
    skip: usize,
    attachments: &[Bytes],
    limits: &Limits,
) -> Result<T, Error> {
    let mut de = de::Deserializer::new(input, attachments, limits.max_depth)?;
    de.tail_open(skip)?;
    let v = T::deserialize(de::Tail { de: &mut de })?;
    de.tail_close()?;
    Ok(v)
}

/// [`from_array_tail`] for input already known to be UTF-8: the same result, without checking
/// the encoding again.
///
/// ```
/// let limits = socketio_json::Limits::default();
/// let (x,): (u8,) = socketio_json::from_array_tail_str(r#"["ev",7]"#, 1, &[], &limits).unwrap();
/// assert_eq!(x, 7);
/// ```
pub fn from_array_tail_str<'de, T: Deserialize<'de>>(
    input: &'de str,
    skip: usize,
    attachments: &[Bytes],
    limits: &Limits,
) -> Result<T, Error> {
    let mut de =
        de::Deserializer::from_reader(read::Reader::from_str(input), attachments, limits.max_depth);
    de.tail_open(skip)?;
    let v = T::deserialize(de::Tail { de: &mut de })?;
    de.tail_close()?;
    Ok(v)
}

/// [`from_array_tail_str`] resumed after the elements a caller has already read and checked:
/// `at` is the byte offset just after the array's `[` when `first` (nothing read yet), or of
/// the `,` or `]` that follows the last element read (as [`array_first_str`] returns it). The
/// bytes before `at` are not looked at again; everything from `at` on is validated as by
/// [`from_array_tail_str`].
///
/// ```
/// let limits = socketio_json::Limits::default();
/// let input = r#"["ev",7]"#;
/// let (_, at) = socketio_json::array_first_str_of_str(input).unwrap();
/// let (x,): (u8,) =
///     socketio_json::from_array_tail_str_at(input, at, false, &[], &limits).unwrap();
/// assert_eq!(x, 7);
/// ```
#[inline]
pub fn from_array_tail_str_at<'de, T: Deserialize<'de>>(
    input: &'de str,
    at: usize,
    first: bool,
    attachments: &[Bytes],
    limits: &Limits,
) -> Result<T, Error> {
    let mut de =
        de::Deserializer::from_reader(read::Reader::from_str(input), attachments, limits.max_depth);
    de.tail_resume(at, first)?;
    let v = T::deserialize(de::Tail { de: &mut de })?;
    de.tail_close()?;
    Ok(v)
}

/// [`values_from_array_str`] resumed after the elements a caller has already read and checked;
/// `at` and `first` as for [`from_array_tail_str_at`].
///
/// ```
/// let limits = socketio_json::Limits::default();
/// let input = r#"["ev",1]"#;
/// let (_, at) = socketio_json::array_first_str_of_str(input).unwrap();
/// let args = socketio_json::values_from_array_str_at(input, at, false, &limits).unwrap();
/// assert_eq!(args, vec![serde_json::json!(1)]);
/// ```
pub fn values_from_array_str_at(
    input: &str,
    at: usize,
    first: bool,
    limits: &Limits,
) -> Result<Vec<serde_json::Value>, Error> {
    let mut r = read::Reader::from_str(input);
    r.pos = at;
    value::values_after(r, 0, first, limits)
}

/// [`values_from_array_str_at`] into `out`, which is replaced by the values (and left empty on
/// an error): for a caller that returns the vector inside its own `Result`, one move instead of
/// one per layer.
///
/// ```
/// let limits = socketio_json::Limits::default();
/// let mut args = Vec::new();
/// socketio_json::values_from_array_str_at_into(r#"["ev",1]"#, 5, false, &limits, &mut args).unwrap();
/// assert_eq!(args, vec![serde_json::json!(1)]);
/// ```
pub fn values_from_array_str_at_into(
    input: &str,
    at: usize,
    first: bool,
    limits: &Limits,
    out: &mut Vec<serde_json::Value>,
) -> Result<(), Error> {
    let mut r = read::Reader::from_str(input);
    r.pos = at;
    value::values_after_into(r, 0, first, limits, out)
}

/// [`array_first_str`] for input already known to be UTF-8.
///
/// ```
/// let (name, at) = socketio_json::array_first_str_of_str(r#"["hi",1]"#).unwrap();
/// assert_eq!((&*name, at), ("hi", 5));
/// ```
pub fn array_first_str_of_str(input: &str) -> Result<(Cow<'_, str>, usize), Error> {
    value::array_first_str_in(input.as_bytes(), Some(input))
}

/// Reads the first element of a JSON array if it is a string: returns it (unescaped, borrowed
/// when it has no escapes) and the byte offset of the `,` or `]` that follows it. Errors when
/// the array is malformed up to there or the first element is not a string. Does not look at
/// the rest of the input.
///
/// ```
/// let (name, at) = socketio_json::array_first_str(br#"["hello", {"a":1}]"#).unwrap();
/// assert_eq!((&*name, at), ("hello", 8));
/// ```
pub fn array_first_str(input: &[u8]) -> Result<(Cow<'_, str>, usize), Error> {
    value::array_first_str(input)
}

/// Index of the first `"`, `\\` or control byte (below 0x20) in `bytes` at or after `from`, or
/// `bytes.len()`: where a JSON string whose contents start at `from` ends when it holds no escape
/// (a `"` there), found 8 bytes at a time. For callers with their own fast path for short plain
/// strings, such as an event name.
///
/// ```
/// assert_eq!(socketio_json::find_string_special(br#"["hello",1]"#, 2), 7);
/// assert_eq!(socketio_json::find_string_special(br#""a\n""#, 1), 2);
/// assert_eq!(socketio_json::find_string_special(b"abc", 0), 3);
/// ```
#[inline]
pub fn find_string_special(bytes: &[u8], from: usize) -> usize {
    read::find_special(bytes, from)
}

/// Parses the elements of the JSON array `input` after the first `skip` into
/// `serde_json::Value`s in one pass, without serde, validating the whole input (skipped
/// elements included). Placeholders stay as they are. Values are equal to what
/// `serde_json::from_slice` gives.
///
/// ```
/// let limits = socketio_json::Limits::default();
/// let args = socketio_json::values_from_array(br#"["ev",1,{"k":null}]"#, 1, &limits).unwrap();
/// assert_eq!(args, vec![serde_json::json!(1), serde_json::json!({"k": null})]);
/// ```
pub fn values_from_array(
    input: &[u8],
    skip: usize,
    limits: &Limits,
) -> Result<Vec<serde_json::Value>, Error> {
    value::values_from_array(input, skip, limits)
}

/// [`values_from_array`] for input already known to be UTF-8 (e.g. a WebSocket text message):
/// the same result, without checking the encoding again.
///
/// ```
/// let limits = socketio_json::Limits::default();
/// let args = socketio_json::values_from_array_str(r#"["ev",1]"#, 1, &limits).unwrap();
/// assert_eq!(args, vec![serde_json::json!(1)]);
/// ```
pub fn values_from_array_str(
    input: &str,
    skip: usize,
    limits: &Limits,
) -> Result<Vec<serde_json::Value>, Error> {
    value::values_from_array_in(read::Reader::from_str(input), skip, limits)
}

/// Parses one JSON value into a `serde_json::Value`, without serde (same result as
/// `serde_json::from_slice`).
///
/// ```
/// let limits = socketio_json::Limits::default();
/// let v = socketio_json::value_from_slice(br#"{"a":[true]}"#, &limits).unwrap();
/// assert_eq!(v, serde_json::json!({"a": [true]}));
/// ```
pub fn value_from_slice(input: &[u8], limits: &Limits) -> Result<serde_json::Value, Error> {
    value::value_from_slice(input, limits)
}

/// Validates that `input` is exactly one well-formed JSON value within `limits`, without
/// building anything.
///
/// ```
/// let limits = socketio_json::Limits::default();
/// assert!(socketio_json::validate(br#"[1, {"a": "b"}]"#, &limits).is_ok());
/// assert!(socketio_json::validate(br#"[1,]"#, &limits).is_err());
/// ```
pub fn validate(input: &[u8], limits: &Limits) -> Result<(), Error> {
    value::validate(input, limits)
}

/// Writes a `serde_json::Value` directly (no serde dispatch); the bytes are identical to
/// `serde_json::to_writer`'s.
///
/// ```
/// let mut out = Vec::new();
/// socketio_json::write_value(&mut out, &serde_json::json!(["a\n", 1.5, null]));
/// assert_eq!(out, br#"["a\n",1.5,null]"#);
/// ```
pub fn write_value(out: &mut Vec<u8>, value: &serde_json::Value) {
    write::value(out, value);
}

/// Writes each element of `values` preceded by `,`: the arguments of an event after an array
/// opened by the caller (`["event"` + elements + `]`).
///
/// ```
/// let mut out = b"[\"ev\"".to_vec();
/// socketio_json::write_values(&mut out, &[serde_json::json!(1), serde_json::json!("x")]);
/// out.push(b']');
/// assert_eq!(out, br#"["ev",1,"x"]"#);
/// ```
pub fn write_values(out: &mut Vec<u8>, values: &[serde_json::Value]) {
    for v in values {
        out.push(b',');
        write::value(out, v);
    }
}

#[cfg(test)]
mod tests;
