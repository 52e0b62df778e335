//! Property tests: whatever we encode decodes back to the same packet, with both parsers; decoded
//! packets re-encode to themselves; the decoder never panics on arbitrary input.

mod common;

use bytes::Bytes;
use common::*;
use proptest::prelude::*;
use serde::Serialize;
use serde_json::{Value, json};
use socketio_proto::{
    AckId, Decoder, Limits, Message, PacketData, Parser, ProtocolVersion, is_reserved_event,
};

const V5: ProtocolVersion = ProtocolVersion::V5;

fn parsers() -> Vec<Parser> {
    vec![
        Parser::Json,
        #[cfg(feature = "msgpack")]
        Parser::Msgpack,
    ]
}

/// One argument: a JSON value or binary data.
#[derive(Debug, Clone)]
enum Arg {
    Json(Value),
    Bin(Bytes),
}

impl Serialize for Arg {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Arg::Json(v) => v.serialize(s),
            Arg::Bin(b) => s.serialize_bytes(b),
        }
    }
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<u64>().prop_map(|n| json!(n)),
        (-1e15f64..1e15).prop_map(|f| json!(f)),
        ".{0,12}".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 32, 5, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::btree_map(".{0,6}", inner, 0..5)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn arg() -> impl Strategy<Value = Arg> {
    prop_oneof![
        4 => json_value().prop_map(Arg::Json),
        1 => prop::collection::vec(any::<u8>(), 0..16).prop_map(|b| Arg::Bin(Bytes::from(b))),
    ]
}

fn nsp() -> impl Strategy<Value = String> {
    prop_oneof![Just("/".to_owned()), "/[a-zA-Z0-9_\\-é?=&]{1,12}"]
}

fn event_name() -> impl Strategy<Value = String> {
    ".{0,16}".prop_filter("not reserved", |s| !is_reserved_event(s))
}

fn ack_id() -> impl Strategy<Value = Option<AckId>> {
    prop::option::of((0..=AckId::MAX.get()).prop_map(|n| AckId::new(n).expect("in range")))
}

/// What `to_values` gives back for `args` with `parser`.
fn expected_values(parser: Parser, args: &[Arg]) -> (Vec<Value>, Vec<Bytes>) {
    let mut bins = Vec::new();
    let values = args
        .iter()
        .map(|a| match a {
            Arg::Json(v) => v.clone(),
            Arg::Bin(b) => match parser {
                Parser::Json => {
                    bins.push(b.clone());
                    json!({"_placeholder": true, "num": bins.len() - 1})
                }
                #[cfg(feature = "msgpack")]
                Parser::Msgpack => Value::Array(b.iter().map(|x| json!(x)).collect()),
            },
        })
        .collect();
    (values, bins)
}

/// Floats may come back as integers when integral (JS has one number type); compare as numbers.
///
/// The last bit of a float may differ: `serde_json` without its `float_roundtrip` feature, and
/// `socketio_json`'s float reader at the time of writing, are not correctly rounded for all
/// 16-17 digit inputs (JavaScript's `JSON.parse` is). Reported to the `socketio-json` owner.
fn same_json(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            x == y
                || match (x.as_f64(), y.as_f64()) {
                    (Some(x), Some(y)) => {
                        (x - y).abs() <= 4.0 * f64::EPSILON * x.abs().max(y.abs())
                    }
                    _ => false,
                }
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same_json(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| same_json(v, w)))
        }
        _ => a == b,
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn events_roundtrip(nsp in nsp(), name in event_name(), args in prop::collection::vec(arg(), 0..5), ack in ack_id()) {
        for parser in parsers() {
            let e = parser.encode_event(&nsp, &name, &args, ack).expect("encodable");
            let p = decode_one(parser, V5, &messages(&e));
            prop_assert_eq!(&*p.nsp, nsp.as_str());
            let (got_name, got_args, got_ack) = event_parts(&p);
            prop_assert_eq!(got_name, name.as_str());
            prop_assert_eq!(got_ack, ack.map(AckId::get));
            let (values, bins) = expected_values(parser, &args);
            let got = got_args.to_values().expect("valid");
            prop_assert!(same_json(&Value::Array(got.clone()), &Value::Array(values.clone())), "{:?} != {:?}", got, values);
            prop_assert_eq!(got_args.attachments(), &bins[..]);
            // The decoded packet re-encodes to the same bytes.
            let again = parser.encode(&p).expect("re-encodable");
            prop_assert_eq!(&again, &e);
            // Forwarding the raw arguments under another name and namespace keeps them intact.
            let fwd = parser.encode_event_args("/fwd", "forwarded", got_args, None).expect("forwardable");
            let fp = decode_one(parser, V5, &messages(&fwd));
            let (fname, fargs, fack) = event_parts(&fp);
            prop_assert_eq!((fname, fack, &*fp.nsp), ("forwarded", None, "/fwd"));
            prop_assert_eq!(fargs, got_args);
            // An acked broadcast template gives the same packet as a direct encoding.
            if let Some(id) = ack {
                let t = parser.event_template(&nsp, &name, &args).expect("template");
                let from_template = decode_one(parser, V5, &messages(&t.with_id(id).expect("id")));
                prop_assert_eq!(&from_template, &p);
            }
        }
    }

    #[test]
    fn value_encoders_write_the_serde_bytes(nsp in nsp(), name in event_name(), args in prop::collection::vec(json_value(), 0..5), ack in ack_id(), id in 0..=AckId::MAX.get()) {
        let id = AckId::new(id).expect("in range");
        for parser in parsers() {
            prop_assert_eq!(
                parser.encode_event_values(&nsp, &name, &args, ack).expect("encodable"),
                parser.encode_event(&nsp, &name, &args[..], ack).expect("encodable")
            );
            prop_assert_eq!(
                parser.encode_ack_values(&nsp, id, &args).expect("encodable"),
                parser.encode_ack(&nsp, id, &args[..]).expect("encodable")
            );
        }
    }

    #[test]
    fn acks_roundtrip(nsp in nsp(), args in prop::collection::vec(arg(), 0..5), id in 0..=AckId::MAX.get()) {
        let id = AckId::new(id).expect("in range");
        for parser in parsers() {
            let e = parser.encode_ack(&nsp, id, &args).expect("encodable");
            let p = decode_one(parser, V5, &messages(&e));
            let (got_id, got_args) = ack_parts(&p);
            prop_assert_eq!(got_id, id.get());
            let (values, bins) = expected_values(parser, &args);
            let got = got_args.to_values().expect("valid");
            prop_assert!(same_json(&Value::Array(got), &Value::Array(values)));
            prop_assert_eq!(got_args.attachments(), &bins[..]);
            prop_assert_eq!(parser.encode(&p).expect("re-encodable"), e);
        }
    }

    #[test]
    fn typed_arguments_roundtrip(a in any::<i32>(), b in ".{0,10}", c in prop::collection::vec(any::<u8>(), 0..10), d in any::<Option<bool>>()) {
        for parser in parsers() {
            let bin = Bytes::from(c.clone());
            let e = parser.encode_event("/", "typed", &(a, &b, &bin, d), None).expect("encodable");
            let p = decode_one(parser, V5, &messages(&e));
            let (_, args, _) = event_parts(&p);
            let (a2, b2, c2, d2): (i32, String, Bytes, Option<bool>) = args.deserialize().expect("typed");
            prop_assert_eq!((a2, b2, c2, d2), (a, b.clone(), bin, d));
            // Borrowed strings, where no unescaping is needed.
            if !b.contains(['"', '\\']) && !b.chars().any(char::is_control) {
                let (_, s): (i32, &str) = args.deserialize().expect("borrowed");
                prop_assert_eq!(s, b.as_str());
            }
        }
    }

    #[test]
    fn connect_and_errors_roundtrip(nsp in nsp(), sid in "[A-Za-z0-9_\\-]{1,20}", pid in prop::option::of("[A-Za-z0-9_\\-]{1,20}"), msg in ".{0,20}") {
        for parser in parsers() {
            let e = parser.encode_connect_ok(&nsp, &sid, pid.as_deref()).expect("encodable");
            let p = decode_one(parser, V5, &messages(&e));
            let PacketData::Connect(Some(v)) = &p.data else { panic!("{p:?}") };
            let ok = v.connect_ok_fields().expect("fields");
            prop_assert_eq!((&ok.sid, &ok.pid), (&sid, &pid));
            prop_assert_eq!(parser.encode(&p).expect("re-encode"), e);

            let e = parser.encode_connect_error(&nsp, &msg, Some(&json!({"x": 1}))).expect("encodable");
            let p = decode_one(parser, V5, &messages(&e));
            let PacketData::ConnectError(v) = &p.data else { panic!("{p:?}") };
            prop_assert_eq!(v.connect_error_fields().expect("fields").message, msg.clone());
            prop_assert_eq!(parser.encode(&p).expect("re-encode"), e);

            let e = parser.encode_disconnect(&nsp).expect("encodable");
            let p = decode_one(parser, V5, &messages(&e));
            prop_assert_eq!(p.data, PacketData::Disconnect);
        }
    }

    #[test]
    fn json_decoder_never_panics(s in "[0-6]{0,1}[0-9\\-]{0,3}(/[a-z,]{0,5})?[0-9]{0,3}[\\[\\]{}\",:0-9a-z_ ]{0,40}", bins in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..4), 0..3)) {
        let mut d = Decoder::new(Parser::Json, V5, Limits::default());
        let mut msgs = vec![Message::Text(s.as_str().into())];
        msgs.extend(bins.into_iter().map(|b| Message::Binary(Bytes::from(b))));
        for m in msgs {
            if let Ok(Some(p)) = d.decode(m) {
                assert_reencodes(Parser::Json, V5, &p);
            }
        }
    }

    #[test]
    fn decoder_never_panics_on_bytes(b in prop::collection::vec(any::<u8>(), 0..64)) {
        for parser in parsers() {
            let mut d = Decoder::new(parser, V5, Limits::default());
            if let Ok(Some(p)) = d.decode(Message::Binary(Bytes::from(b.clone()))) {
                assert_reencodes(parser, V5, &p);
            }
            if let Ok(s) = std::str::from_utf8(&b) {
                let mut d = Decoder::new(parser, V5, Limits::default());
                if let Ok(Some(p)) = d.decode(Message::Text(s.into())) {
                    assert_reencodes(parser, V5, &p);
                }
            }
        }
    }
}
