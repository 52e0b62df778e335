#![no_main]
//! Arbitrary bytes through every MessagePack decoder of `socketio-msgpack`: the direct
//! `value_from_slice`, serde's `from_slice::<serde_json::Value>` and `Reader::skip_value` must
//! agree, and whatever decodes must re-encode and decode to the same value.

use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use socketio_msgpack::{Header, Limits, Reader, from_slice, value_from_slice, write_value};

const LIMITS: Limits = Limits {
    max_depth: 32,
    max_len: 4096,
};

/// `true` if the value at `r` holds binary data or an extension (which serde_json's `Value`
/// cannot be deserialized from, while `value_from_slice` turns it into numbers).
fn has_binary(r: &mut Reader<'_>, depth: usize) -> bool {
    if depth > LIMITS.max_depth {
        return false;
    }
    match r.read_header() {
        Ok(Header::Bin(_) | Header::Ext(..)) => true,
        Ok(Header::Str(n)) => r.take(n as usize).is_err(),
        Ok(Header::Array(n)) => (0..n).any(|_| has_binary(r, depth + 1)),
        Ok(Header::Map(n)) => (0..u64::from(n) * 2).any(|_| has_binary(r, depth + 1)),
        _ => false,
    }
}

/// Equal as JavaScript numbers: a float that re-encodes as an integer decodes as one.
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) if x.is_f64() => x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        _ => a == b,
    }
}

fuzz_target!(|data: &[u8]| {
    let fast = value_from_slice(data, &LIMITS);
    let serde = from_slice::<Value>(data, &LIMITS);
    let mut r = Reader::new(data);
    let skipped = r.skip_value(&LIMITS).map(|()| r.position());

    match (&fast, &serde) {
        (Ok(a), Ok(b)) => assert_eq!(a, b, "decoders disagree on the value"),
        (Ok(_), Err(e)) => {
            assert!(
                has_binary(&mut Reader::new(data), 0),
                "only serde rejected: {e}"
            )
        }
        (Err(e), Ok(_)) => panic!("only value_from_slice rejected: {e}"),
        (Err(_), Err(_)) => {}
    }

    let Ok(v) = fast else { return };
    assert_eq!(
        skipped,
        Ok(data.len()),
        "skip_value disagrees with value_from_slice"
    );

    let mut once = Vec::new();
    write_value(&mut once, &v);
    // An extension decodes as `[type, [bytes…]]`, one level deeper than its marker: the
    // re-encoded value may sit up to two levels past the limit the original respected.
    let deeper = Limits {
        max_depth: LIMITS.max_depth + 2,
        ..LIMITS
    };
    let back = value_from_slice(&once, &deeper).expect("our own encoding decodes");
    assert!(same(&v, &back), "re-encoded value differs: {v} vs {back}");
    let mut twice = Vec::new();
    write_value(&mut twice, &back);
    assert_eq!(once, twice, "encoding is not stable");
    assert_eq!(
        socketio_msgpack::to_vec(&back).expect("serde encodes"),
        once
    );
});
