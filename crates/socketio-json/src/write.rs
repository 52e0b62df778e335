//! Output primitives shared by the direct `Value` writer and the serde `Serializer`. The bytes
//! are identical to serde_json's compact output.

use serde_json::ser::Formatter as _;
use serde_json::{Number, Value};

use crate::read::{load_short, special_mask};

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Writes `s` as a JSON string, escaping exactly what serde_json escapes.
///
/// Copies 8 bytes at a time: each word is stored whole (even past the end of the string, the
/// excess is cut off with `truncate`), so short strings cost a few word stores instead of a
/// `memcpy` call, and the same word is checked for bytes needing an escape.
#[inline]
pub(crate) fn str(out: &mut Vec<u8>, s: &str) {
    let mut bytes = s.as_bytes();
    out.reserve(bytes.len() + 10);
    out.push(b'"');
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
    out.push(b'"');
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

#[inline]
pub(crate) fn u64(out: &mut Vec<u8>, v: u64) {
    out.extend_from_slice(itoa::Buffer::new().format(v).as_bytes());
}

#[inline]
pub(crate) fn i64(out: &mut Vec<u8>, v: i64) {
    out.extend_from_slice(itoa::Buffer::new().format(v).as_bytes());
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
    match v {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        Value::Number(n) => number(out, n),
        Value::String(s) => str(out, s),
        Value::Array(a) => {
            out.push(b'[');
            let mut it = a.iter();
            if let Some(first) = it.next() {
                value(out, first);
                for x in it {
                    out.push(b',');
                    value(out, x);
                }
            }
            out.push(b']');
        }
        Value::Object(m) => {
            out.push(b'{');
            let mut first = true;
            for (k, x) in m {
                if !first {
                    out.push(b',');
                }
                first = false;
                str(out, k);
                out.push(b':');
                value(out, x);
            }
            out.push(b'}');
        }
    }
}
