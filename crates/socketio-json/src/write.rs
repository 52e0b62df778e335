//! Output primitives shared by the direct `Value` writer and the serde `Serializer`. The bytes
//! are identical to serde_json's compact output.

use serde_json::ser::Formatter as _;
use serde_json::{Number, Value};

use crate::read::{load_short, special_mask};

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Writes `s` as a JSON string, escaping exactly what serde_json escapes.
#[inline]
pub(crate) fn str(out: &mut Vec<u8>, s: &str) {
    quoted(out, b"\"", s.as_bytes(), b"\"");
}

/// Writes an object key with its separators: `"k":` for the first member, `,"k":` after.
#[inline]
pub(crate) fn key(out: &mut Vec<u8>, k: &str, first: bool) {
    if first {
        quoted(out, b"\"", k.as_bytes(), b"\":");
    } else {
        quoted(out, b",\"", k.as_bytes(), b"\":");
    }
}

/// Writes `open`, the escaped `bytes`, then `close` (`open`/`close` are at most 2 bytes, e.g.
/// `,"` and `":` around an object key).
///
/// Copies 8 bytes at a time: each word is stored whole (even past the end of the string; the
/// excess is cut off with `truncate`), so short strings cost a few word stores instead of a
/// `memcpy` call, and the same word is checked for bytes needing an escape.
#[inline(always)]
fn quoted(out: &mut Vec<u8>, open: &[u8], mut bytes: &[u8], close: &[u8]) {
    // Most keys and many values are at most 8 bytes: then `open`, the text and `close` are
    // assembled in one 128-bit word and written with a single store.
    let n = bytes.len();
    if n <= 8 && open.len() <= 2 && close.len() <= 2 {
        let w = match bytes.first_chunk::<8>() {
            Some(c) => u64::from_le_bytes(*c),
            None => load_short(bytes, b' '),
        };
        if special_mask(w) == 0 {
            let text = if n < 8 {
                w & ((1u64 << (8 * n)) - 1)
            } else {
                w
            };
            let word = |b: &[u8]| {
                b.iter()
                    .rev()
                    .fold(0u128, |acc, &x| (acc << 8) | u128::from(x))
            };
            let (ol, cl) = (open.len(), close.len());
            let v = word(open) | u128::from(text) << (8 * ol) | word(close) << (8 * (ol + n));
            out.extend_from_slice(&v.to_le_bytes());
            out.truncate(out.len() + ol + n + cl - 16);
            return;
        }
    }
    out.reserve(bytes.len() + 12);
    out.extend_from_slice(open);
    loop {
        let (w, n) = match bytes.first_chunk::<8>() {
            Some(c) => (u64::from_le_bytes(*c), 8),
            None if bytes.is_empty() => break,
            // Pad with spaces, which never need escaping.
            None => (load_short(bytes, b' '), bytes.len()),
        };
        out.extend_from_slice(&w.to_le_bytes());
        let m = special_mask(w);
        if m == 0 {
            if n < 8 {
                out.truncate(out.len() + n - 8);
                break;
            }
            bytes = bytes.get(8..).unwrap_or_default();
            continue;
        }
        let k = (m.trailing_zeros() / 8) as usize;
        out.truncate(out.len() + k - 8);
        escape(out, bytes.get(k).copied().unwrap_or_default());
        bytes = bytes.get(k + 1..).unwrap_or_default();
    }
    out.extend_from_slice(close);
}

#[cold]
fn escape(out: &mut Vec<u8>, b: u8) {
    let short = match b {
        b'"' => b'"',
        b'\\' => b'\\',
        b'\n' => b'n',
        b'\r' => b'r',
        b'\t' => b't',
        0x08 => b'b',
        0x0c => b'f',
        _ => {
            out.extend_from_slice(b"\\u00");
            out.push(HEX[usize::from(b >> 4)]);
            out.push(HEX[usize::from(b & 0xf)]);
            return;
        }
    };
    out.push(b'\\');
    out.push(short);
}

const DIGITS2: &[u8; 200] = b"\
    0001020304050607080910111213141516171819\
    2021222324252627282930313233343536373839\
    4041424344454647484950515253545556575859\
    6061626364656667686970717273747576777879\
    8081828384858687888990919293949596979899";

/// The two ASCII digits of `d` (< 100) as a little-endian `u16`.
#[inline(always)]
fn pair(d: u64) -> u128 {
    let i = d as usize * 2;
    match DIGITS2.get(i..i + 2) {
        Some(&[a, b]) => u128::from(u16::from_le_bytes([a, b])),
        _ => 0,
    }
}

/// Same text as itoa (and so serde_json). Up to 16 digits are assembled in a 128-bit register
/// and written with one store, then the excess is cut with `truncate`: a digit buffer in
/// memory would be written in small pieces and read back whole, a store-forwarding stall.
#[inline]
pub(crate) fn u64(out: &mut Vec<u8>, mut v: u64) {
    let len = v.checked_ilog10().map_or(1, |l| l as usize + 1);
    if len > 16 {
        out.extend_from_slice(itoa::Buffer::new().format(v).as_bytes());
        return;
    }
    let mut word: u128 = 0;
    let mut i = len;
    while v >= 100 {
        i -= 2;
        word |= pair(v % 100) << (8 * i);
        v /= 100;
    }
    word |= if v >= 10 {
        pair(v)
    } else {
        u128::from(b'0' + v as u8)
    };
    out.extend_from_slice(&word.to_le_bytes());
    out.truncate(out.len() + len - 16);
}

#[inline]
pub(crate) fn i64(out: &mut Vec<u8>, v: i64) {
    if v < 0 {
        out.push(b'-');
    }
    u64(out, v.unsigned_abs());
}

/// Non-finite floats become `null`, as in serde_json. The shortest round-trip digits come from
/// serde_json's own formatter so the text is identical.
#[inline]
pub(crate) fn f64(out: &mut Vec<u8>, v: f64) {
    if v.is_finite() {
        // Writing into a Vec cannot fail.
        let _ = serde_json::ser::CompactFormatter.write_f64(out, v);
    } else {
        out.extend_from_slice(b"null");
    }
}

#[inline]
pub(crate) fn f32(out: &mut Vec<u8>, v: f32) {
    if v.is_finite() {
        let _ = serde_json::ser::CompactFormatter.write_f32(out, v);
    } else {
        out.extend_from_slice(b"null");
    }
}

#[inline]
pub(crate) fn number(out: &mut Vec<u8>, n: &Number) {
    if let Some(u) = n.as_u64() {
        u64(out, u);
    } else if let Some(i) = n.as_i64() {
        i64(out, i);
    } else if let Some(f) = n.as_f64() {
        f64(out, f);
    } else {
        // Only reachable with serde_json's `arbitrary_precision`: let serde_json print it.
        let _ = serde_json::to_writer(out, n);
    }
}

/// The direct `Value` writer.
pub(crate) fn value(out: &mut Vec<u8>, v: &Value) {
    item(out, b"", v);
}

/// Writes `sep` (empty or `,`) and then `v`. Scalars are written inline; only arrays and
/// objects cost a (recursive) call.
#[inline(always)]
fn item(out: &mut Vec<u8>, sep: &[u8], v: &Value) {
    match v {
        Value::String(s) => {
            if sep.is_empty() {
                quoted(out, b"\"", s.as_bytes(), b"\"");
            } else {
                quoted(out, b",\"", s.as_bytes(), b"\"");
            }
        }
        Value::Number(n) => {
            out.extend_from_slice(sep);
            number(out, n);
        }
        Value::Null => {
            out.extend_from_slice(sep);
            out.extend_from_slice(b"null");
        }
        Value::Bool(true) => {
            out.extend_from_slice(sep);
            out.extend_from_slice(b"true");
        }
        Value::Bool(false) => {
            out.extend_from_slice(sep);
            out.extend_from_slice(b"false");
        }
        Value::Array(a) => {
            out.extend_from_slice(sep);
            array(out, a);
        }
        Value::Object(m) => {
            out.extend_from_slice(sep);
            object(out, m);
        }
    }
}

fn array(out: &mut Vec<u8>, a: &[Value]) {
    out.push(b'[');
    let mut it = a.iter();
    if let Some(first) = it.next() {
        item(out, b"", first);
        for x in it {
            item(out, b",", x);
        }
    }
    out.push(b']');
}

fn object(out: &mut Vec<u8>, m: &serde_json::Map<String, Value>) {
    out.push(b'{');
    let mut it = m.iter();
    if let Some((k, x)) = it.next() {
        quoted(out, b"\"", k.as_bytes(), b"\":");
        item(out, b"", x);
        for (k, x) in it {
            quoted(out, b",\"", k.as_bytes(), b"\":");
            item(out, b"", x);
        }
    }
    out.push(b'}');
}
