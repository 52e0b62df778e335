//! Direct conversions between MessagePack bytes and `serde_json::Value`, without serde dispatch.

use serde_json::{Map, Number, Value};

use crate::de::skip_undefined_entry;
use crate::read::{Header, Reader};
use crate::{Error, Limits, write};

/// Decodes one value at `rd`, nested `depth` containers deep.
///
/// Same result as deserializing a `serde_json::Value` through serde, except that binary data
/// (which serde_json's `Value` refuses) becomes an array of byte values, as
/// `serde_json::to_value` writes bytes.
///
/// The common markers (fixint, fixstr, fixarray, fixmap, nil, booleans) are handled inline; the
/// rest goes through [`Reader::read_header`].
pub(crate) fn decode(rd: &mut Reader<'_>, depth: usize, limits: &Limits) -> Result<Value, Error> {
    let Some(&m) = rd.buf.get(rd.pos) else {
        return Err(Error::UnexpectedEof);
    };
    match m {
        0x00..=0x7f => {
            rd.pos += 1;
            Ok(Value::Number(m.into()))
        }
        0xa0..=0xbf => {
            rd.pos += 1;
            string(rd, u32::from(m & 0x1f)).map(Value::String)
        }
        0x80..=0x8f => {
            rd.pos += 1;
            let n = u32::from(m & 0x0f);
            if (n as usize) * 2 > rd.buf.len() - rd.pos {
                return Err(Error::UnexpectedEof);
            }
            map(rd, n, depth, limits)
        }
        0x90..=0x9f => {
            rd.pos += 1;
            let n = u32::from(m & 0x0f);
            if n as usize > rd.buf.len() - rd.pos {
                return Err(Error::UnexpectedEof);
            }
            array(rd, n, depth, limits)
        }
        0xc0 => {
            rd.pos += 1;
            Ok(Value::Null)
        }
        0xc2 | 0xc3 => {
            rd.pos += 1;
            Ok(Value::Bool(m == 0xc3))
        }
        0xe0..=0xff => {
            rd.pos += 1;
            Ok(Value::Number(i64::from(m as i8).into()))
        }
        _ => decode_header(rd, depth, limits),
    }
}

#[inline(never)]
fn decode_header(rd: &mut Reader<'_>, depth: usize, limits: &Limits) -> Result<Value, Error> {
    Ok(match rd.read_header()? {
        Header::Nil | Header::Undefined => Value::Null,
        Header::Bool(b) => Value::Bool(b),
        Header::UInt(u) => Value::Number(u.into()),
        Header::Int(i) => Value::Number(i.into()),
        Header::F32(f) => float(f.into()),
        Header::F64(f) => float(f),
        Header::Str(n) => Value::String(string(rd, n)?),
        Header::Bin(n) => bytes(rd.take(n as usize)?),
        Header::Array(n) => array(rd, n, depth, limits)?,
        Header::Map(n) => map(rd, n, depth, limits)?,
        Header::Date(ms) => crate::date::iso_string(ms).map_or(Value::Null, Value::String),
        Header::Ext(ty, n) => Value::Array(vec![
            Value::Number(i64::from(ty).into()),
            bytes(rd.take(n as usize)?),
        ]),
    })
}

/// `n` has been checked against the remaining input.
#[inline]
fn array(rd: &mut Reader<'_>, n: u32, depth: usize, limits: &Limits) -> Result<Value, Error> {
    let depth = enter(depth, n, limits)?;
    let mut v = Vec::with_capacity(n as usize);
    for _ in 0..n {
        v.push(decode(rd, depth, limits)?);
    }
    Ok(Value::Array(v))
}

/// `n` has been checked against the remaining input.
#[inline]
fn map(rd: &mut Reader<'_>, n: u32, depth: usize, limits: &Limits) -> Result<Value, Error> {
    let depth = enter(depth, n, limits)?;
    // Inserting one by one measured cheaper here than `BTreeMap::from_iter` (sort, bulk build).
    let mut m = Map::new();
    for _ in 0..n {
        if let Some(key) = map_key(rd, depth, limits)? {
            let value = decode(rd, depth, limits)?;
            m.insert(key, value);
        }
    }
    Ok(Value::Object(m))
}

/// Reads a map key; `None` when the entry's value is `undefined` (the entry is then skipped).
#[inline]
fn map_key(rd: &mut Reader<'_>, depth: usize, limits: &Limits) -> Result<Option<String>, Error> {
    let key = match rd.buf.get(rd.pos) {
        Some(&k @ 0xa0..=0xbf) => {
            rd.pos += 1;
            string(rd, u32::from(k & 0x1f))?
        }
        _ => {
            // Rare key shapes: the generic path, which also drops `undefined` values.
            if skip_undefined_entry(rd, depth, limits)? {
                return Ok(None);
            }
            match rd.read_header()? {
                Header::Str(n) => string(rd, n)?,
                // A `Date` reads as a string, so it is a valid key (as through serde).
                Header::Date(ms) => crate::date::iso_string(ms).ok_or(Error::KeyNotString)?,
                _ => return Err(Error::KeyNotString),
            }
        }
    };
    if rd.peek_is_undefined() {
        rd.pos += 3;
        return Ok(None);
    }
    Ok(Some(key))
}

#[inline]
fn enter(depth: usize, n: u32, limits: &Limits) -> Result<usize, Error> {
    if depth >= limits.max_depth {
        return Err(Error::DepthLimit);
    }
    if n as usize > limits.max_len {
        return Err(Error::LengthLimit);
    }
    Ok(depth + 1)
}

#[inline]
fn string(rd: &mut Reader<'_>, n: u32) -> Result<String, Error> {
    let b = rd.take(n as usize)?;
    std::str::from_utf8(b)
        .map(str::to_owned)
        .map_err(|_| Error::InvalidUtf8)
}

#[inline]
fn float(f: f64) -> Value {
    Number::from_f64(f).map_or(Value::Null, Value::Number)
}

fn bytes(b: &[u8]) -> Value {
    Value::Array(b.iter().map(|&b| Value::Number(b.into())).collect())
}

/// Writes `value` as notepack writes the equivalent JavaScript value.
pub(crate) fn encode(out: &mut Vec<u8>, value: &Value) {
    match value {
        Value::Null => write::nil(out),
        Value::Bool(b) => write::bool(out, *b),
        Value::Number(n) => {
            if let Some(u) = n.as_u64() {
                write::uint(out, u);
            } else if let Some(i) = n.as_i64() {
                write::int(out, i);
            } else if let Some(f) = n.as_f64() {
                write::number(out, f);
            } else {
                write::nil(out);
            }
        }
        Value::String(s) => write::str(out, s),
        Value::Array(a) => {
            write::array_len(out, len_u32(a.len()));
            for v in a {
                encode(out, v);
            }
        }
        Value::Object(m) => {
            write::map_len(out, len_u32(m.len()));
            for (k, v) in m {
                write::str(out, k);
                encode(out, v);
            }
        }
    }
}

#[inline]
fn len_u32(n: usize) -> u32 {
    u32::try_from(n).expect("MessagePack cannot express more than u32::MAX items")
}
