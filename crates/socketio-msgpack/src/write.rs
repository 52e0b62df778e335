//! Low-level writers: each appends one MessagePack item to a `Vec<u8>`, choosing the same encoding
//! `notepack.io` 2.2 (the encoder of `socket.io-msgpack-parser`) chooses for the equivalent
//! JavaScript value.
//!
//! Containers are written as a header ([`array_len`], [`map_len`]) followed by their elements,
//! which the caller writes next.
//!
//! ```
//! use socketio_msgpack::write;
//! let mut out = Vec::new();
//! write::map_len(&mut out, 1);
//! write::str(&mut out, "id");
//! write::uint(&mut out, 300);
//! assert_eq!(out, [0x81, 0xa2, b'i', b'd', 0xcd, 0x01, 0x2c]);
//! ```

/// 2^64 as an `f64`: integral numbers at or above it do not fit a uint 64.
const TWO_POW_64: f64 = 18_446_744_073_709_551_616.0;
/// -2^63 as an `f64`: the smallest number an int 64 holds.
const MINUS_TWO_POW_63: f64 = -9_223_372_036_854_775_808.0;

/// `nil` (`0xc0`): JavaScript `null`, Rust `None` and `()`.
#[inline]
pub fn nil(out: &mut Vec<u8>) {
    out.push(0xc0);
}

/// JavaScript `undefined` as notepack 2.2 writes it: fixext 1 of type 0 (`d4 00 00`).
///
/// Decoders of this crate treat it as absent: a map entry whose value is `undefined` is dropped,
/// elsewhere it reads as `nil`.
#[inline]
pub fn undefined(out: &mut Vec<u8>) {
    out.extend_from_slice(&[0xd4, 0x00, 0x00]);
}

/// `false` (`0xc2`) or `true` (`0xc3`).
#[inline]
pub fn bool(out: &mut Vec<u8>, v: bool) {
    out.push(if v { 0xc3 } else { 0xc2 });
}

/// A non-negative integer in the smallest form: positive fixint, uint 8, 16, 32 or 64.
#[inline]
pub fn uint(out: &mut Vec<u8>, v: u64) {
    if v < 0x80 {
        out.push(v as u8);
    } else if v < 0x100 {
        out.extend_from_slice(&[0xcc, v as u8]);
    } else if v < 0x1_0000 {
        let b = (v as u16).to_be_bytes();
        out.extend_from_slice(&[0xcd, b[0], b[1]]);
    } else if v < 0x1_0000_0000 {
        let b = (v as u32).to_be_bytes();
        out.extend_from_slice(&[0xce, b[0], b[1], b[2], b[3]]);
    } else {
        out.push(0xcf);
        out.extend_from_slice(&v.to_be_bytes());
    }
}

/// An integer in the smallest form: non-negative values as [`uint`] does (notepack never writes a
/// signed marker for them), negative ones as negative fixint, int 8, 16, 32 or 64.
#[inline]
pub fn int(out: &mut Vec<u8>, v: i64) {
    if v >= 0 {
        uint(out, v as u64);
    } else if v >= -0x20 {
        out.push(v as u8);
    } else if v >= -0x80 {
        out.extend_from_slice(&[0xd0, v as u8]);
    } else if v >= -0x8000 {
        let b = (v as i16).to_be_bytes();
        out.extend_from_slice(&[0xd1, b[0], b[1]]);
    } else if v >= -0x8000_0000 {
        let b = (v as i32).to_be_bytes();
        out.extend_from_slice(&[0xd2, b[0], b[1], b[2], b[3]]);
    } else {
        out.push(0xd3);
        out.extend_from_slice(&v.to_be_bytes());
    }
}

/// A JavaScript number: an integral finite value as an integer ([`uint`] / [`int`], so `1.0`
/// becomes `0x01` and `-0.0` becomes `0x00`), anything else (fractions, NaN, ±Infinity) as
/// float 64. notepack never writes float 32.
///
/// One deliberate difference: notepack wraps integral values outside `[-2^63, 2^64)` modulo 2^64
/// (so they decode as a different number); they are written here as float 64, which every
/// decoder reads back exactly.
#[inline]
pub fn number(out: &mut Vec<u8>, v: f64) {
    // `v as i64` saturates, so the round trip also rejects fractions, NaN and ±Infinity cheaply
    // for every value notepack writes as an integer in int 64 range; larger magnitudes take the
    // second test.
    // Every finite `f64` of magnitude 2^63 or more is integral (beyond 2^53 they all are).
    if (v as i64) as f64 == v || (v.is_finite() && v.abs() >= -MINUS_TWO_POW_63) {
        if v >= 0.0 {
            if v < TWO_POW_64 {
                uint(out, v as u64);
                return;
            }
        } else if v >= MINUS_TWO_POW_63 {
            int(out, v as i64);
            return;
        }
    }
    float64(out, v);
}

/// Always float 64 (`0xcb`), whatever the value.
#[inline]
pub fn float64(out: &mut Vec<u8>, v: f64) {
    out.push(0xcb);
    out.extend_from_slice(&v.to_be_bytes());
}

/// Header of a string of `len` UTF-8 bytes: fixstr, str 8, str 16 or str 32.
#[inline]
pub fn str_len(out: &mut Vec<u8>, len: u32) {
    if len < 0x20 {
        out.push(0xa0 | len as u8);
    } else if len < 0x100 {
        out.extend_from_slice(&[0xd9, len as u8]);
    } else if len < 0x1_0000 {
        let b = (len as u16).to_be_bytes();
        out.extend_from_slice(&[0xda, b[0], b[1]]);
    } else {
        let b = len.to_be_bytes();
        out.extend_from_slice(&[0xdb, b[0], b[1], b[2], b[3]]);
    }
}

/// A string (header and bytes).
///
/// # Panics
/// If `s` is longer than `u32::MAX` bytes, which MessagePack cannot express (notepack throws).
#[inline]
pub fn str(out: &mut Vec<u8>, s: &str) {
    let b = s.as_bytes();
    if b.len() < 16 {
        // Most keys and short values: the marker and the text assembled in one 128-bit word and
        // written with one 16-byte store (no `memcpy` call), then the length set back.
        let n = b.len();
        let text: u128 = if let (Some(lo), Some(hi)) = (b.first_chunk::<8>(), b.last_chunk::<8>()) {
            // Overlapping loads: the shared bytes are the same in both.
            u128::from(u64::from_le_bytes(*lo))
                | u128::from(u64::from_le_bytes(*hi)) << (8 * (n - 8))
        } else if let (Some(lo), Some(hi)) = (b.first_chunk::<4>(), b.last_chunk::<4>()) {
            u128::from(u32::from_le_bytes(*lo))
                | u128::from(u32::from_le_bytes(*hi)) << (8 * (n - 4))
        } else {
            b.iter()
                .rev()
                .fold(0u128, |acc, &x| (acc << 8) | u128::from(x))
        };
        let word = u128::from(0xa0 | n as u8) | text << 8;
        out.extend_from_slice(&word.to_le_bytes());
        out.truncate(out.len() + n + 1 - 16);
    } else if b.len() < 0x20 {
        // The common case (keys, event names, short texts): one capacity check.
        out.reserve(b.len() + 1);
        out.push(0xa0 | b.len() as u8);
        out.extend_from_slice(b);
    } else {
        long_str(out, b);
    }
}

fn long_str(out: &mut Vec<u8>, b: &[u8]) {
    out.reserve(b.len() + 5);
    str_len(out, len_u32(b.len()));
    out.extend_from_slice(b);
}

/// Header of a byte string of `len` bytes: bin 8, bin 16 or bin 32 (notepack writes a Node
/// `Buffer` so; there is no shorter form).
#[inline]
pub fn bin_len(out: &mut Vec<u8>, len: u32) {
    if len < 0x100 {
        out.extend_from_slice(&[0xc4, len as u8]);
    } else if len < 0x1_0000 {
        let b = (len as u16).to_be_bytes();
        out.extend_from_slice(&[0xc5, b[0], b[1]]);
    } else {
        let b = len.to_be_bytes();
        out.extend_from_slice(&[0xc6, b[0], b[1], b[2], b[3]]);
    }
}

/// A byte string (header and bytes).
///
/// # Panics
/// If `b` is longer than `u32::MAX` bytes.
#[inline]
pub fn bin(out: &mut Vec<u8>, b: &[u8]) {
    bin_len(out, len_u32(b.len()));
    out.extend_from_slice(b);
}

/// Header of an array of `n` elements: fixarray, array 16 or array 32.
#[inline]
pub fn array_len(out: &mut Vec<u8>, n: u32) {
    if n < 0x10 {
        out.push(0x90 | n as u8);
    } else if n < 0x1_0000 {
        let b = (n as u16).to_be_bytes();
        out.extend_from_slice(&[0xdc, b[0], b[1]]);
    } else {
        let b = n.to_be_bytes();
        out.extend_from_slice(&[0xdd, b[0], b[1], b[2], b[3]]);
    }
}

/// Header of a map of `n` key/value pairs: fixmap, map 16 or map 32.
#[inline]
pub fn map_len(out: &mut Vec<u8>, n: u32) {
    if n < 0x10 {
        out.push(0x80 | n as u8);
    } else if n < 0x1_0000 {
        let b = (n as u16).to_be_bytes();
        out.extend_from_slice(&[0xde, b[0], b[1]]);
    } else {
        let b = n.to_be_bytes();
        out.extend_from_slice(&[0xdf, b[0], b[1], b[2], b[3]]);
    }
}

/// A JavaScript `Date` as notepack 2.2 writes it: fixext 8 of type 0 holding the milliseconds since
/// the Unix epoch as a big-endian signed 64-bit integer.
#[inline]
pub fn date(out: &mut Vec<u8>, millis: i64) {
    out.extend_from_slice(&[0xd7, 0x00]);
    out.extend_from_slice(&millis.to_be_bytes());
}

/// Length as `u32`, panicking beyond (documented on the callers).
#[inline]
fn len_u32(len: usize) -> u32 {
    u32::try_from(len).expect("MessagePack cannot express lengths above u32::MAX")
}

/// Number of bytes [`array_len`] / [`map_len`] write for `n`.
#[inline]
pub(crate) fn container_header_size(n: u32) -> usize {
    if n < 0x10 {
        1
    } else if n < 0x1_0000 {
        3
    } else {
        5
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(f: impl FnOnce(&mut Vec<u8>)) -> Vec<u8> {
        let mut v = Vec::new();
        f(&mut v);
        v
    }

    #[test]
    fn ints_by_value() {
        assert_eq!(w(|o| int(o, 0)), [0x00]);
        assert_eq!(w(|o| int(o, 127)), [0x7f]);
        assert_eq!(w(|o| int(o, 128)), [0xcc, 0x80]);
        assert_eq!(w(|o| int(o, 256)), [0xcd, 0x01, 0x00]);
        assert_eq!(w(|o| int(o, 65536)), [0xce, 0, 1, 0, 0]);
        assert_eq!(w(|o| int(o, 1 << 32)), [0xcf, 0, 0, 0, 1, 0, 0, 0, 0]);
        assert_eq!(w(|o| int(o, -1)), [0xff]);
        assert_eq!(w(|o| int(o, -32)), [0xe0]);
        assert_eq!(w(|o| int(o, -33)), [0xd0, 0xdf]);
        assert_eq!(w(|o| int(o, -129)), [0xd1, 0xff, 0x7f]);
        assert_eq!(w(|o| int(o, -32769)), [0xd2, 0xff, 0xff, 0x7f, 0xff]);
        assert_eq!(
            w(|o| int(o, -(1 << 31) - 1)),
            [0xd3, 0xff, 0xff, 0xff, 0xff, 0x7f, 0xff, 0xff, 0xff]
        );
    }

    #[test]
    fn numbers_like_javascript() {
        assert_eq!(w(|o| number(o, 1.0)), [0x01]);
        assert_eq!(w(|o| number(o, -0.0)), [0x00]);
        assert_eq!(w(|o| number(o, 0.5)), [0xcb, 0x3f, 0xe0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(w(|o| number(o, f64::NAN))[0], 0xcb);
        assert_eq!(w(|o| number(o, 1e300))[0], 0xcb);
        assert_eq!(
            w(|o| number(o, -4294967296.0)),
            [0xd3, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0]
        );
    }

    #[test]
    fn headers() {
        assert_eq!(w(|o| str(o, "")), [0xa0]);
        assert_eq!(w(|o| str_len(o, 31)), [0xbf]);
        assert_eq!(w(|o| str_len(o, 32)), [0xd9, 32]);
        assert_eq!(w(|o| bin(o, b"")), [0xc4, 0]);
        assert_eq!(w(|o| array_len(o, 15)), [0x9f]);
        assert_eq!(w(|o| array_len(o, 16)), [0xdc, 0, 16]);
        assert_eq!(w(|o| map_len(o, 16)), [0xde, 0, 16]);
        assert_eq!(w(|o| map_len(o, 65536)), [0xdf, 0, 1, 0, 0]);
        assert_eq!(w(undefined), [0xd4, 0, 0]);
    }
}
