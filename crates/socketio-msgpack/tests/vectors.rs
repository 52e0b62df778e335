//! Golden vectors produced by notepack.io 2.2 (see tests/vectors/README.md): our encoder must write
//! the same bytes, our decoders must read back what notepack reads.

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::{self, Serialize, SerializeMap, SerializeSeq, Serializer};
use serde_json::{Number, Value};
use socketio_msgpack::{Limits, from_slice, to_vec, value_from_slice, write, write_value};

/// JSON with object entries kept in order.
#[derive(Debug, Clone)]
enum J {
    Null,
    Bool(bool),
    Num(Number),
    Str(String),
    Arr(Vec<J>),
    Obj(Vec<(String, J)>),
}

impl<'de> Deserialize<'de> for J {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = J;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("JSON")
            }
            fn visit_unit<E>(self) -> Result<J, E> {
                Ok(J::Null)
            }
            fn visit_bool<E>(self, v: bool) -> Result<J, E> {
                Ok(J::Bool(v))
            }
            fn visit_u64<E>(self, v: u64) -> Result<J, E> {
                Ok(J::Num(v.into()))
            }
            fn visit_i64<E>(self, v: i64) -> Result<J, E> {
                Ok(J::Num(v.into()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<J, E> {
                Number::from_f64(v)
                    .map(J::Num)
                    .ok_or_else(|| E::custom("non-finite"))
            }
            fn visit_str<E>(self, v: &str) -> Result<J, E> {
                Ok(J::Str(v.to_owned()))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> Result<J, A::Error> {
                let mut v = Vec::new();
                while let Some(x) = a.next_element()? {
                    v.push(x);
                }
                Ok(J::Arr(v))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<J, A::Error> {
                let mut v = Vec::new();
                while let Some(e) = a.next_entry()? {
                    v.push(e);
                }
                Ok(J::Obj(v))
            }
        }
        d.deserialize_any(V)
    }
}

/// A JavaScript value as the generator described it.
#[derive(Debug, Clone)]
enum Node {
    Null,
    Bool(bool),
    Num(Number),
    F64(f64),
    Str(String),
    Bin(Vec<u8>),
    ArrayBuffer(Vec<u8>),
    Undefined,
    Date(Option<i64>),
    Arr(Vec<Node>),
    Obj(Vec<(String, Node)>),
    Error,
}

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex"))
        .collect()
}

fn num(j: &J) -> u64 {
    match j {
        J::Num(n) => n.as_u64().expect("count"),
        _ => panic!("expected a number: {j:?}"),
    }
}

fn node(j: &J) -> Node {
    match j {
        J::Null => Node::Null,
        J::Bool(b) => Node::Bool(*b),
        J::Num(n) => Node::Num(n.clone()),
        J::Str(s) => Node::Str(s.clone()),
        J::Arr(a) => Node::Arr(a.iter().map(node).collect()),
        J::Obj(o) if o.len() == 1 && o[0].0.starts_with('$') => {
            let (k, v) = (&o[0].0[..], &o[0].1);
            let s = |v: &J| match v {
                J::Str(s) => s.clone(),
                _ => panic!("expected a string: {v:?}"),
            };
            match (k, v) {
                ("$f64", v) => {
                    Node::F64(f64::from_be_bytes(hex(&s(v)).try_into().expect("8 bytes")))
                }
                ("$bin", v) => Node::Bin(hex(&s(v))),
                ("$ab", v) => Node::ArrayBuffer(hex(&s(v))),
                ("$undefined", _) => Node::Undefined,
                ("$date", J::Null) => Node::Date(None),
                ("$date", J::Num(n)) => Node::Date(Some(n.as_i64().expect("ms"))),
                ("$binrep", J::Arr(a)) => Node::Bin(vec![num(&a[0]) as u8; num(&a[1]) as usize]),
                ("$strrep", J::Arr(a)) => {
                    Node::Str(s(&a[0]) + &s(&a[1]).repeat(num(&a[2]) as usize))
                }
                ("$arrrep", J::Arr(a)) => Node::Arr(vec![node(&a[0]); num(&a[1]) as usize]),
                ("$objrep", n) => Node::Obj(
                    (0..num(n))
                        .map(|i| (format!("k{i}"), Node::Num(i.into())))
                        .collect(),
                ),
                ("$obj", J::Arr(entries)) => Node::Obj(
                    entries
                        .iter()
                        .map(|e| match e {
                            J::Arr(kv) => (s(&kv[0]), node(&kv[1])),
                            _ => panic!("entry {e:?}"),
                        })
                        .collect(),
                ),
                ("$error", _) => Node::Error,
                _ => panic!("unknown spec {k}"),
            }
        }
        J::Obj(o) => panic!("untagged object {o:?}"),
    }
}

impl Serialize for Node {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Node::Null => s.serialize_unit(),
            Node::Bool(b) => s.serialize_bool(*b),
            Node::Num(n) => n.serialize(s),
            Node::F64(f) => s.serialize_f64(*f),
            Node::Str(v) => s.serialize_str(v),
            Node::Bin(b) => s.serialize_bytes(b),
            Node::Arr(a) => {
                let mut seq = s.serialize_seq(Some(a.len()))?;
                for x in a {
                    seq.serialize_element(x)?;
                }
                seq.end()
            }
            Node::Obj(o) => {
                let mut m = s.serialize_map(Some(o.len()))?;
                for (k, v) in o {
                    m.serialize_entry(k, v)?;
                }
                m.end()
            }
            Node::ArrayBuffer(_) | Node::Undefined | Node::Date(_) | Node::Error => {
                Err(ser::Error::custom("not expressible in serde"))
            }
        }
    }
}

/// Encodes with the low-level writer, for what serde cannot express.
fn write_node(out: &mut Vec<u8>, n: &Node) -> bool {
    match n {
        Node::Undefined => write::undefined(out),
        Node::Date(Some(ms)) => write::date(out, *ms),
        Node::Arr(a) => {
            write::array_len(out, a.len() as u32);
            return a.iter().all(|x| write_node(out, x));
        }
        Node::Obj(o) => {
            write::map_len(out, o.len() as u32);
            return o.iter().all(|(k, v)| {
                write::str(out, k);
                write_node(out, v)
            });
        }
        Node::ArrayBuffer(_) | Node::Date(None) | Node::Error => return false,
        other => out.extend(to_vec(other).expect("serde-expressible")),
    }
    true
}

fn iso(ms: i64) -> &'static str {
    match ms {
        0 => "1970-01-01T00:00:00.000Z",
        1_795_606_298_123 => "2026-11-25T11:31:38.123Z",
        -1 => "1969-12-31T23:59:59.999Z",
        -8_640_000_000_000_000 => "-271821-04-20T00:00:00.000Z",
        _ => panic!("add {ms} to the table"),
    }
}

fn bytes_value(b: &[u8]) -> Value {
    Value::Array(b.iter().map(|&x| Value::from(x)).collect())
}

/// What our `Value` decoders should give for the value notepack decodes.
fn expected_value(n: &Node) -> Value {
    match n {
        Node::Null | Node::Undefined | Node::Date(None) | Node::Error => Value::Null,
        Node::Bool(b) => Value::Bool(*b),
        Node::Num(n) => Value::Number(n.clone()),
        Node::F64(f) => Number::from_f64(*f).map_or(Value::Null, Value::Number),
        Node::Str(s) => Value::String(s.clone()),
        Node::Bin(b) | Node::ArrayBuffer(b) => bytes_value(b),
        Node::Date(Some(ms)) => Value::String(iso(*ms).into()),
        Node::Arr(a) => Value::Array(a.iter().map(expected_value).collect()),
        Node::Obj(o) => Value::Object(
            o.iter()
                .filter(|(_, v)| !matches!(v, Node::Undefined))
                .map(|(k, v)| (k.clone(), expected_value(v)))
                .collect(),
        ),
    }
}

fn has_binary(n: &Node) -> bool {
    match n {
        Node::Bin(_) | Node::ArrayBuffer(_) => true,
        Node::Arr(a) => a.iter().any(has_binary),
        Node::Obj(o) => o.iter().any(|(_, v)| has_binary(v)),
        _ => false,
    }
}

/// Equality as JavaScript sees numbers (all `f64`).
fn js_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| js_eq(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| js_eq(v, w)))
        }
        _ => a == b,
    }
}

fn fnv1a64(b: &[u8]) -> u64 {
    b.iter().fold(0xcbf2_9ce4_8422_2325, |h, &x| {
        (h ^ u64::from(x)).wrapping_mul(0x100_0000_01b3)
    })
}

fn field<'a>(o: &'a [(String, J)], k: &str) -> Option<&'a J> {
    o.iter().find(|(n, _)| n == k).map(|(_, v)| v)
}

fn load() -> Vec<(String, Vec<(String, J)>)> {
    let text = include_str!("vectors.json");
    let J::Obj(top) = serde_json::from_str::<J>(text).expect("vectors.json") else {
        panic!()
    };
    let mut all = Vec::new();
    for section in ["encode", "decode"] {
        let Some(J::Arr(items)) = field(&top, section) else {
            panic!("{section}")
        };
        for it in items {
            let J::Obj(o) = it else { panic!() };
            all.push((section.to_owned(), o.clone()));
        }
    }
    all
}

fn s(j: Option<&J>) -> &str {
    match j {
        Some(J::Str(s)) => s,
        other => panic!("expected a string, got {other:?}"),
    }
}

#[test]
fn encoder_matches_notepack() {
    let limits = Limits::default();
    let mut checked = 0;
    for (section, v) in load() {
        if section != "encode" {
            continue;
        }
        let name = s(field(&v, "name"));
        let value = node(field(&v, "value").expect("value"));
        let deviation = name.contains("(deviation)");

        // Our bytes: through serde when it can express the value, else the low-level writer.
        let ours = match to_vec(&value) {
            Ok(b) => b,
            Err(_) => {
                let mut b = Vec::new();
                if !write_node(&mut b, &value) {
                    // ArrayBuffer: Node's notepack writes ext type 0, we write bin (as the browser
                    // build of notepack does); decoding is checked below.
                    assert!(name.starts_with("ArrayBuffer"), "{name}");
                    let theirs = hex(s(field(&v, "hex")));
                    assert_eq!(
                        value_from_slice(&theirs, &limits)
                            .as_ref()
                            .map(|x| js_eq(x, &expected_value(&value))),
                        Ok(true),
                        "{name}"
                    );
                    continue;
                }
                b
            }
        };
        if deviation {
            let Node::F64(f) = value else { panic!() };
            let mut expected = vec![0xcb];
            expected.extend(f.to_be_bytes());
            assert_eq!(ours, expected, "{name}");
        } else if let Some(h) = field(&v, "hex") {
            assert_eq!(ours, hex(s(Some(h))), "{name}");
        } else {
            let len = num(field(&v, "len").expect("len")) as usize;
            assert_eq!(ours.len(), len, "{name}");
            assert_eq!(ours[..32], hex(s(field(&v, "head")))[..], "{name}");
            let h = u64::from_str_radix(s(field(&v, "fnv1a64")), 16).expect("hash");
            assert_eq!(fnv1a64(&ours), h, "{name}");
        }

        // Decoding what notepack wrote.
        let expected = expected_value(&value);
        let decoded = value_from_slice(&ours, &limits).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(
            js_eq(&decoded, &expected),
            "{name}: {decoded} != {expected}"
        );
        match from_slice::<Value>(&ours, &limits) {
            Ok(d) => assert_eq!(d, decoded, "{name}"),
            Err(e) => assert!(has_binary(&value), "{name}: {e}"),
        }

        // The direct Value writer agrees with serde on the same Value.
        if !has_binary(&value) {
            let mut direct = Vec::new();
            write_value(&mut direct, &decoded);
            assert_eq!(direct, to_vec(&decoded).expect("value"), "{name}");
            assert_eq!(
                value_from_slice(&direct, &limits).as_ref(),
                Ok(&decoded),
                "{name}"
            );
        }
        checked += 1;
    }
    assert!(checked > 60, "{checked}");
}

#[test]
fn decoder_matches_notepack() {
    let limits = Limits::default();
    for (section, v) in load() {
        if section != "decode" {
            continue;
        }
        let name = s(field(&v, "name"));
        let bytes = hex(s(field(&v, "hex")));
        let expect = node(field(&v, "expect").expect("expect"));
        if matches!(expect, Node::Error) {
            assert!(value_from_slice(&bytes, &limits).is_err(), "{name}");
            continue;
        }
        let expected = expected_value(&expect);
        let decoded = value_from_slice(&bytes, &limits).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(
            js_eq(&decoded, &expected),
            "{name}: {decoded} != {expected}"
        );
        match from_slice::<Value>(&bytes, &limits) {
            Ok(d) => assert_eq!(d, decoded, "{name}"),
            Err(e) => assert!(has_binary(&expect), "{name}: {e}"),
        }
    }
}
