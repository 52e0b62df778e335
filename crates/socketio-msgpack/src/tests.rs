//! Crate-level tests: serde round-trips, notepack transcripts, limits.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::*;

fn enc<T: Serialize + ?Sized>(v: &T) -> Vec<u8> {
    to_vec(v).expect("encodes")
}

#[test]
fn packet_transcript() {
    // notepack.encode({type: 2, data: ["chat", {a: 1}], nsp: "/", id: 12})
    let v = json!({"type": 2, "data": ["chat", {"a": 1}], "nsp": "/", "id": 12});
    let mut out = Vec::new();
    write_value(&mut out, &v);
    // serde_json's map is sorted by key here, so compare with a decoder, and check one order.
    assert_eq!(value_from_slice(&out, &Limits::default()), Ok(v.clone()));
    let expected = b"\x84\xa4type\x02\xa4data\x92\xa4chat\x81\xa1a\x01\xa3nsp\xa1/\xa2id\x0c";
    #[derive(Serialize)]
    struct P<'a> {
        r#type: u8,
        data: (&'a str, BTreeMap<&'a str, u8>),
        nsp: &'a str,
        id: u32,
    }
    let p = P {
        r#type: 2,
        data: ("chat", [("a", 1)].into()),
        nsp: "/",
        id: 12,
    };
    assert_eq!(enc(&p), expected);
    assert_eq!(from_slice::<Value>(expected, &Limits::default()), Ok(v));
}

#[test]
fn undefined_entries_are_absent() {
    // {type: 0, data: undefined, nsp: "/"} as notepack 2.2 writes it
    let bytes = b"\x83\xa4type\x00\xa4data\xd4\x00\x00\xa3nsp\xa1/";
    let v = value_from_slice(bytes, &Limits::default()).expect("decodes");
    assert_eq!(v, json!({"type": 0, "nsp": "/"}));
    assert_eq!(from_slice::<Value>(bytes, &Limits::default()), Ok(v));
    #[derive(Deserialize, Debug, PartialEq)]
    struct P {
        r#type: u8,
        data: Option<Value>,
        nsp: String,
    }
    assert_eq!(
        from_slice::<P>(bytes, &Limits::default()),
        Ok(P {
            r#type: 0,
            data: None,
            nsp: "/".into()
        })
    );
    assert_eq!(
        value_from_slice(b"\x92\xd4\x00\x00\x01", &Limits::default()),
        Ok(json!([null, 1]))
    );
}

#[test]
fn trailing_bytes_rejected() {
    assert_eq!(
        from_slice::<u8>(&[1, 2], &Limits::default()),
        Err(Error::TrailingBytes(1))
    );
    assert_eq!(
        value_from_slice(&[1, 2, 3], &Limits::default()),
        Err(Error::TrailingBytes(2))
    );
}

#[test]
fn limits() {
    let limits = Limits {
        max_depth: 2,
        max_len: 3,
    };
    assert!(value_from_slice(&[0x91, 0x91, 0x01], &limits).is_ok());
    assert_eq!(
        value_from_slice(&[0x91, 0x91, 0x91, 0x01], &limits),
        Err(Error::DepthLimit)
    );
    assert_eq!(
        from_slice::<Value>(&[0x91, 0x91, 0x91, 0x01], &limits),
        Err(Error::DepthLimit)
    );
    assert_eq!(
        value_from_slice(&[0x94, 1, 2, 3, 4], &limits),
        Err(Error::LengthLimit)
    );
    assert_eq!(
        from_slice::<Value>(&[0x94, 1, 2, 3, 4], &limits),
        Err(Error::LengthLimit)
    );
    // a map32 claiming 4 billion entries allocates nothing
    let huge = [0xdf, 0xff, 0xff, 0xff, 0xff, 0xa0, 0xc0];
    assert_eq!(
        value_from_slice(&huge, &Limits::default()),
        Err(Error::UnexpectedEof)
    );
    assert_eq!(
        from_slice::<Value>(&huge, &Limits::default()),
        Err(Error::UnexpectedEof)
    );
    let mut deep = vec![0x91; 200_000];
    deep.push(0);
    assert_eq!(
        value_from_slice(&deep, &Limits::default()),
        Err(Error::DepthLimit)
    );
    assert_eq!(
        from_slice::<Value>(&deep, &Limits::default()),
        Err(Error::DepthLimit)
    );
}

#[test]
fn skip_nests_past_its_inline_levels() {
    // Deep arrays and maps, each holding a trailing item after the nested one, so every level's
    // remaining count must come back intact (inline levels and heap levels alike).
    for depth in [1usize, 15, 16, 17, 40, 127] {
        let mut b = Vec::new();
        for i in 0..depth {
            if i % 2 == 0 {
                write::array_len(&mut b, 2);
            } else {
                write::map_len(&mut b, 1);
                write::str(&mut b, "k");
            }
        }
        write::nil(&mut b);
        for i in (0..depth).rev() {
            if i % 2 == 0 {
                write::uint(&mut b, 7);
            }
        }
        b.push(0xc3);
        let limits = Limits {
            max_depth: 128,
            ..Limits::default()
        };
        let mut r = Reader::new(&b);
        r.skip_value(&limits).expect("well formed");
        assert_eq!(r.rest(), [0xc3], "depth {depth}");
        let tight = Limits {
            max_depth: depth - 1,
            ..Limits::default()
        };
        assert_eq!(Reader::new(&b).skip_value(&tight), Err(Error::DepthLimit));
    }
}

#[test]
fn invalid_utf8_rejected() {
    assert_eq!(
        value_from_slice(&[0xa1, 0xff], &Limits::default()),
        Err(Error::InvalidUtf8)
    );
    assert_eq!(
        from_slice::<String>(&[0xa1, 0xff], &Limits::default()),
        Err(Error::InvalidUtf8)
    );
}

#[test]
fn serde_shapes() {
    #[derive(Serialize, Deserialize, Debug, PartialEq)]
    enum E {
        Unit,
        New(u8),
        Tup(u8, u8),
        St { a: i8 },
    }
    for e in [E::Unit, E::New(1), E::Tup(1, 2), E::St { a: -1 }] {
        let b = enc(&e);
        assert_eq!(from_slice::<E>(&b, &Limits::default()), Ok(e));
    }
    assert_eq!(enc(&E::Unit), b"\xa4Unit");
    assert_eq!(enc(&E::New(1)), b"\x81\xa3New\x01");
    let m: BTreeMap<u32, bool> = [(1, true), (20, false)].into();
    let b = enc(&m);
    assert_eq!(b, b"\x82\xa11\xc3\xa220\xc2");
    assert_eq!(
        from_slice::<BTreeMap<u32, bool>>(&b, &Limits::default()),
        Ok(m)
    );
    assert_eq!(enc(&1.0f64), [1]);
    assert_eq!(enc(&Some(-0.0f32)), [0]);
    assert_eq!(enc(&bytes::Bytes::from_static(b"ab")), b"\xc4\x02ab");
    let b: bytes::Bytes = from_slice(b"\xc4\x02ab", &Limits::default()).expect("bytes");
    assert_eq!(&b[..], b"ab");
    let v: Vec<u8> = from_slice(b"\xc4\x02ab", &Limits::default()).expect("vec");
    assert_eq!(v, b"ab");
    let s: &str = from_slice(b"\xa2hi", &Limits::default()).expect("borrowed");
    assert_eq!(s, "hi");
}

#[test]
fn unknown_lengths_get_minimal_headers() {
    struct Iter(usize);
    impl Serialize for Iter {
        fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            s.collect_seq(std::iter::repeat_n(1u8, self.0).filter(|_| true))
        }
    }
    for n in [0, 15, 16, 70_000] {
        let b = enc(&Iter(n));
        let mut expected = Vec::new();
        write::array_len(&mut expected, n as u32);
        expected.resize(expected.len() + n, 1);
        assert_eq!(b, expected, "{n}");
    }
}

#[test]
fn args_and_elements() {
    let mut out = Vec::new();
    write_args(&mut out, Some("ev"), &("a", 1)).expect("args");
    assert_eq!(out, b"\x93\xa2ev\xa1a\x01");
    out.clear();
    write_args(&mut out, Some("ev"), &"one").expect("args");
    assert_eq!(out, b"\x92\xa2ev\xa3one");
    out.clear();
    write_args(&mut out, None, &vec![0u8; 20]).expect("args");
    assert_eq!(out.len(), 3 + 20);
    assert_eq!(&out[..3], b"\xdc\x00\x14");

    let limits = Limits::default();
    let data = b"\x93\xa2ev\xa1a\x01";
    let mut r = Reader::new(data);
    assert_eq!(r.read_array_len(), Ok(3));
    assert_eq!(r.read_str(), Ok("ev"));
    let mut r1 = r.clone();
    assert_eq!(
        from_elements::<(String, u8)>(&mut r1, 2, &limits),
        Ok(("a".into(), 1))
    );
    assert!(r1.is_empty());
    let mut r1 = r.clone();
    assert_eq!(from_elements::<String>(&mut r1, 2, &limits), Ok("a".into()));
    assert!(r1.is_empty());
    let mut r1 = r.clone();
    assert_eq!(
        from_elements::<Value>(&mut r1, 2, &limits),
        Ok(json!(["a", 1]))
    );
    let mut r1 = r.clone();
    assert_eq!(
        from_elements::<(String,)>(&mut r1, 2, &limits),
        Ok(("a".into(),))
    );
    assert!(r1.is_empty());
    let mut r1 = r.clone();
    assert_eq!(
        from_elements::<Option<String>>(&mut r1, 0, &limits),
        Ok(None)
    );
}

#[test]
fn dates_and_extensions() {
    let mut b = Vec::new();
    write::date(&mut b, 0);
    assert_eq!(
        value_from_slice(&b, &Limits::default()),
        Ok(json!("1970-01-01T00:00:00.000Z"))
    );
    assert_eq!(
        from_slice::<Value>(&b, &Limits::default()),
        Ok(json!("1970-01-01T00:00:00.000Z"))
    );
    assert_eq!(
        value_from_slice(&[0xd5, 0x07, 1, 2], &Limits::default()),
        Ok(json!([7, [1, 2]]))
    );
    assert_eq!(
        value_from_slice(&[0xc7, 2, 0, 1, 2], &Limits::default()),
        Ok(json!([1, 2]))
    );
    let (ty, data): (i8, &[u8]) = from_slice(&[0xd5, 0xfe, 1, 2], &Limits::default()).expect("ext");
    assert_eq!((ty, data), (-2, &[1u8, 2][..]));
}

mod props {
    use proptest::prelude::*;
    use serde_json::{Map, Number, Value};

    use crate::*;

    fn arb_value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<u64>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            any::<f64>().prop_map(|f| Number::from_f64(f).map_or(Value::Null, Value::Number)),
            (-1e6f64..1e6).prop_map(Value::from),
            ".{0,40}".prop_map(Value::String),
        ];
        leaf.prop_recursive(6, 256, 20, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..20).prop_map(Value::Array),
                prop::collection::vec((".{0,10}", inner), 0..20)
                    .prop_map(|kv| Value::Object(kv.into_iter().collect::<Map<_, _>>())),
            ]
        })
    }

    /// What a round trip through JavaScript numbers gives: integral floats become integers.
    fn normalize(v: &Value) -> Value {
        match v {
            Value::Number(n) if n.is_f64() => {
                let mut out = Vec::new();
                write::number(&mut out, n.as_f64().unwrap_or_default());
                value_from_slice(&out, &Limits::default()).unwrap_or(Value::Null)
            }
            Value::Array(a) => Value::Array(a.iter().map(normalize).collect()),
            Value::Object(o) => {
                Value::Object(o.iter().map(|(k, v)| (k.clone(), normalize(v))).collect())
            }
            v => v.clone(),
        }
    }

    proptest! {
        #[test]
        fn value_round_trips(v in arb_value()) {
            let mut direct = Vec::new();
            write_value(&mut direct, &v);
            prop_assert_eq!(&direct, &to_vec(&v).expect("serde"));
            let limits = Limits::default();
            let back = value_from_slice(&direct, &limits).expect("decodes");
            prop_assert_eq!(&back, &normalize(&v));
            prop_assert_eq!(from_slice::<Value>(&direct, &limits).expect("serde decodes"), back);
            let mut r = Reader::new(&direct);
            prop_assert_eq!(r.value_span(&limits).expect("skips"), &direct[..]);
        }

        #[test]
        fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..64)) {
            let limits = Limits { max_depth: 8, max_len: 16 };
            let fast = value_from_slice(&bytes, &limits);
            let serde = from_slice::<Value>(&bytes, &limits);
            let skip = Reader::new(&bytes).skip_value(&limits);
            if let Ok(v) = &serde {
                prop_assert_eq!(fast.as_ref().ok(), Some(v));
            }
            if fast.is_ok() {
                prop_assert!(skip.is_ok());
            }
        }

        #[test]
        fn mutated_packets_never_panic(
            flips in prop::collection::vec((0usize..64, any::<u8>()), 1..4),
        ) {
            let mut bytes = b"\x84\xa4type\x02\xa4data\x93\xa4chat\x81\xa1a\xcb\x3f\xe0\0\0\0\0\0\0\xc4\x01\x07\xa3nsp\xa1/\xa2id\x0c".to_vec();
            for (i, b) in flips {
                let n = bytes.len();
                bytes[i % n] = b;
            }
            let limits = Limits::default();
            let fast = value_from_slice(&bytes, &limits);
            if let Ok(v) = from_slice::<Value>(&bytes, &limits) {
                prop_assert_eq!(fast.as_ref().ok(), Some(&v));
            }
        }
    }
}

#[test]
fn map_keys() {
    let limits = Limits::default();
    // {"a": 1, <bin "b">: 2}: binary keys are refused by both decoders
    let bytes = b"\x82\xa1a\x01\xc4\x01b\x02";
    assert_eq!(value_from_slice(bytes, &limits), Err(Error::KeyNotString));
    assert_eq!(
        from_slice::<Value>(bytes, &limits),
        Err(Error::KeyNotString)
    );
    // a Date key reads as its ISO string
    let bytes = b"\x81\xd7\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01";
    assert_eq!(
        value_from_slice(bytes, &limits),
        Ok(json!({"1970-01-01T00:00:00.000Z": 1}))
    );
    assert_eq!(
        from_slice::<Value>(bytes, &limits),
        Ok(json!({"1970-01-01T00:00:00.000Z": 1}))
    );
    // integer keys are not strings
    assert_eq!(
        value_from_slice(b"\x81\x01\x01", &limits),
        Err(Error::KeyNotString)
    );
    assert!(from_slice::<Value>(b"\x81\x01\x01", &limits).is_err());
}

mod typed_props {
    use std::collections::BTreeMap;

    use proptest::prelude::*;
    use serde::{Deserialize, Serialize};

    use crate::*;

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    enum Kind {
        A,
        B(i32),
        C { x: String },
    }

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    struct Msg {
        id: u64,
        delta: i64,
        ratio: f64,
        name: String,
        tags: Vec<String>,
        extra: Option<BTreeMap<String, i16>>,
        #[serde(with = "serde_bytes_compat")]
        blob: Vec<u8>,
        kind: Kind,
        flag: bool,
    }

    /// `Vec<u8>` as serde bytes (bin), without pulling in `serde_bytes`.
    mod serde_bytes_compat {
        pub(super) fn serialize<S: serde::Serializer>(v: &[u8], s: S) -> Result<S::Ok, S::Error> {
            s.serialize_bytes(v)
        }
        pub(super) fn deserialize<'de, D: serde::Deserializer<'de>>(
            d: D,
        ) -> Result<Vec<u8>, D::Error> {
            let b: bytes::Bytes = serde::Deserialize::deserialize(d)?;
            Ok(b.to_vec())
        }
    }

    fn arb_msg() -> impl Strategy<Value = Msg> {
        (
            any::<u64>(),
            any::<i64>(),
            (-1e9f64..1e9).prop_filter("fraction", |f| f.fract() != 0.0),
            ".{0,40}",
            prop::collection::vec(".{0,8}", 0..20),
            prop::option::of(prop::collection::btree_map(".{0,6}", any::<i16>(), 0..20)),
            prop::collection::vec(any::<u8>(), 0..300),
            prop_oneof![
                Just(Kind::A),
                any::<i32>().prop_map(Kind::B),
                ".{0,5}".prop_map(|x| Kind::C { x }),
            ],
            any::<bool>(),
        )
            .prop_map(
                |(id, delta, ratio, name, tags, extra, blob, kind, flag)| Msg {
                    id,
                    delta,
                    ratio,
                    name,
                    tags,
                    extra,
                    blob,
                    kind,
                    flag,
                },
            )
    }

    proptest! {
        #[test]
        fn structs_round_trip(m in arb_msg()) {
            let bytes = to_vec(&m).expect("encodes");
            prop_assert_eq!(from_slice::<Msg>(&bytes, &Limits::default()).expect("decodes"), m);
        }

        #[test]
        fn args_round_trip(args in prop::collection::vec(any::<i64>(), 0..40), event in ".{0,10}") {
            let mut out = Vec::new();
            write_args(&mut out, Some(&event), &args).expect("writes");
            let limits = Limits::default();
            let mut r = Reader::new(&out);
            let n = r.read_array_len().expect("array");
            prop_assert_eq!(n as usize, args.len() + 1);
            prop_assert_eq!(r.read_str().expect("event"), event.as_str());
            let back: Vec<i64> = from_elements(&mut r, n - 1, &limits).expect("args");
            prop_assert_eq!(back, args);
            prop_assert!(r.is_empty());
        }
    }
}

#[test]
fn str_writer_every_short_length() {
    // The one-store path (< 16 bytes), the fixstr and str 8 paths, with multi-byte text and
    // bytes already in the buffer before it.
    for n in 0..40 {
        let s: String = "aé東".chars().cycle().take(n).collect();
        let mut out = vec![0x93];
        write::str(&mut out, &s);
        let b = s.as_bytes();
        let mut want = vec![0x93];
        if b.len() < 0x20 {
            want.push(0xa0 | b.len() as u8);
        } else {
            want.extend_from_slice(&[0xd9, b.len() as u8]);
        }
        want.extend_from_slice(b);
        assert_eq!(out, want, "{s:?}");
    }
}

#[test]
fn undefined_entries_skipped_after_any_key() {
    // fixstr keys followed by `undefined` (d4 00 00) or by a value starting like it.
    let bytes = [
        0x83, 0xa1, b'a', 0xd4, 0x00, 0x00, 0xa1, b'b', 0x01, 0xa1, b'c', 0xd4, 0x01, 0x05,
    ];
    let m: BTreeMap<String, serde::de::IgnoredAny> =
        from_slice(&bytes, &Limits::default()).unwrap();
    assert_eq!(m.keys().collect::<Vec<_>>(), ["b", "c"]);
    let bad_key = [0x81, 0xa1, 0xff, 0x01];
    assert!(from_slice::<Value>(&bad_key, &Limits::default()).is_err());
    assert!(from_slice::<BTreeMap<String, u8>>(&bad_key, &Limits::default()).is_err());
}
