//! Golden vectors produced by the npm packages `socket.io-msgpack-parser` 3.0.2 (notepack.io 2.2.0)
//! and `socket.io-parser` 4.2.7 from packet objects shaped as Node's socket.io server and client
//! build them (see `tests/data/README.md`). Our encoders must produce the same bytes, our decoders
//! must read them.

mod common;

use bytes::Bytes;
use common::*;
use serde_json::{Value, json};
use socketio_proto::{AckId, Encoded, Parser, ProtocolVersion};

const V5: ProtocolVersion = ProtocolVersion::V5;

fn vectors() -> Value {
    serde_json::from_str(include_str!("data/node_vectors.json")).expect("valid vector file")
}

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex"))
        .collect()
}

fn find<'a>(v: &'a Value, kind: &str, name: &str) -> &'a Value {
    v[kind]
        .as_array()
        .expect("array")
        .iter()
        .find(|x| x["name"] == name)
        .unwrap_or_else(|| panic!("no vector {kind}/{name}"))
}

#[cfg(feature = "msgpack")]
mod msgpack {
    use super::*;
    use socketio_proto::{DecodeError, Decoder, Limits, Message, Packet, PacketData};

    const M: Parser = Parser::Msgpack;

    fn wire(name: &str) -> Vec<u8> {
        let v = vectors();
        let x = find(&v, "msgpack", name);
        assert_eq!(x["node_decoder"], true, "Node accepts {name}");
        hex(x["hex"].as_str().expect("hex"))
    }

    fn encoded(e: Encoded) -> Vec<u8> {
        assert!(e.attachments.is_empty());
        match e.packet {
            Message::Binary(b) => b.to_vec(),
            Message::Text(t) => panic!("msgpack wrote text {t:?}"),
        }
    }

    fn decode(name: &str) -> Packet {
        decode_one(M, V5, &[bin(&wire(name))])
    }

    /// Our encoding is Node's, and decoding it and re-encoding the packet value gives it back.
    fn same(name: &str, e: Encoded) -> Packet {
        let w = wire(name);
        assert_eq!(encoded(e), w, "{name}");
        let p = decode(name);
        assert_eq!(
            encoded(M.encode(&p).expect("re-encode")),
            w,
            "{name} re-encoded"
        );
        p
    }

    #[test]
    fn emit() {
        let p = same("emit", M.encode_event("/", "hello", "world", None).unwrap());
        let (name, args, ack) = event_parts(&p);
        assert_eq!((name, ack), ("hello", None));
        assert_eq!(args.deserialize::<String>().unwrap(), "world");
    }

    #[test]
    fn emit_with_ack() {
        let p = same(
            "emit_ack",
            M.encode_event("/admin", "hello", &1, AckId::new(12))
                .unwrap(),
        );
        assert_eq!((&*p.nsp, event_parts(&p).2), ("/admin", Some(12)));
    }

    #[test]
    fn broadcast_with_ack_template() {
        let t = M.event_template("/", "hello", &()).unwrap();
        assert_eq!(
            encoded(t.with_id(AckId::new(7).unwrap()).unwrap()),
            wire("broadcast_ack")
        );
        let p = decode("broadcast_ack");
        assert_eq!(event_parts(&p).2, Some(7));
    }

    #[test]
    fn ack() {
        let p = same(
            "ack",
            M.encode_ack("/", AckId::new(12).unwrap(), "ok").unwrap(),
        );
        assert_eq!(values(ack_parts(&p).1), json!(["ok"]));
        same("ack_empty", M.encode_ack("/", AckId::ZERO, &()).unwrap());
    }

    #[test]
    fn large_ack_ids() {
        same(
            "ack_big_id",
            M.encode_ack("/", AckId::new(4_294_967_301).unwrap(), &())
                .unwrap(),
        );
        let p = same("ack_max_id", M.encode_ack("/", AckId::MAX, &()).unwrap());
        assert_eq!(ack_parts(&p).0, AckId::MAX.get());
    }

    #[test]
    fn connect_ok() {
        let p = same(
            "connect_ok",
            M.encode_connect_ok("/", "wZX3oN0bSVIhsaknAAAI", None)
                .unwrap(),
        );
        let PacketData::Connect(Some(v)) = &p.data else {
            panic!()
        };
        let ok = v.connect_ok_fields().unwrap();
        assert_eq!((ok.sid.as_str(), ok.pid), ("wZX3oN0bSVIhsaknAAAI", None));
        let p = same(
            "connect_ok_pid",
            M.encode_connect_ok("/admin", "abc", Some("xyz")).unwrap(),
        );
        let PacketData::Connect(Some(v)) = &p.data else {
            panic!()
        };
        assert_eq!(v.connect_ok_fields().unwrap().pid.as_deref(), Some("xyz"));
    }

    #[test]
    fn connect_error() {
        let p = same(
            "connect_error",
            M.encode_connect_error("/", "Not authorized", None::<&()>)
                .unwrap(),
        );
        let PacketData::ConnectError(v) = &p.data else {
            panic!()
        };
        assert_eq!(v.connect_error_fields().unwrap().message, "Not authorized");
        let p = same(
            "connect_error_data",
            M.encode_connect_error("/", "m", Some(&json!({"code": 1})))
                .unwrap(),
        );
        let PacketData::ConnectError(v) = &p.data else {
            panic!()
        };
        assert_eq!(
            v.connect_error_fields().unwrap().data,
            Some(json!({"code": 1}))
        );
    }

    #[test]
    fn disconnect() {
        let p = same("disconnect", M.encode_disconnect("/admin").unwrap());
        assert_eq!(p.data, PacketData::Disconnect);
    }

    #[test]
    fn binary_inline() {
        let buf = Bytes::from_static(&[1, 2, 3]);
        let p = same(
            "emit_binary",
            M.encode_event("/", "file", &buf, None).unwrap(),
        );
        assert_eq!(event_parts(&p).1.deserialize::<Bytes>().unwrap(), buf);
    }

    #[test]
    fn client_packets() {
        same(
            "client_connect_auth",
            M.encode_connect("/", Some(&json!({"token": "123"})))
                .unwrap(),
        );
        // The JS client sends `data: undefined` when it has no auth.
        let p = decode("client_connect_undefined");
        assert_eq!(p.data, PacketData::Connect(None));
        // ...and an `options` key, ignored.
        let p = decode("client_emit_options");
        let (name, args, ack) = event_parts(&p);
        assert_eq!((name, ack), ("x", Some(1)));
        assert_eq!(values(args), json!([1.5, -3, null, true]));
        let p = decode("client_ack");
        assert_eq!(ack_parts(&p).0, 5);
        assert_eq!(values(ack_parts(&p).1), json!([{"a": [1, 2]}]));
    }

    #[test]
    fn containers_and_strings() {
        let many: Vec<u32> = (0..20).map(|i| i * 1000).collect();
        let p = same(
            "emit_many",
            M.encode_event("/", "many", &many, None).unwrap(),
        );
        assert_eq!(event_parts(&p).1.deserialize::<Vec<u32>>().unwrap(), many);
        same(
            "emit_long_str",
            M.encode_event("/", "s", &("x".repeat(40), "é".repeat(200)), None)
                .unwrap(),
        );
        same(
            "emit_nested",
            M.encode_event(
                "/ns",
                "n",
                &json!({"a": {"b": [null, false, "c"]}, "k": 65536}),
                None,
            )
            .unwrap(),
        );
    }

    #[test]
    fn what_node_lets_through_and_we_refuse() {
        let mut d = Decoder::new(M, V5, Limits::default());
        assert_eq!(
            d.decode_binary(wire("reserved").into()),
            Err(DecodeError::ReservedEventName("disconnect".into()))
        );
        assert_eq!(
            d.decode_binary(wire("numeric_event").into()),
            Err(DecodeError::EventNameNotString)
        );
    }
}

#[test]
fn json_vectors() {
    let v = vectors();
    let j = Parser::Json;
    let check = |name: &str, e: Encoded| {
        let x = find(&v, "json", name);
        let mut want = vec![text(x["text"].as_str().expect("text"))];
        for a in x["attachments"].as_array().expect("array") {
            want.push(bin(&hex(a.as_str().expect("hex"))));
        }
        assert_eq!(messages(&e), want, "{name}");
        let p = decode_one(j, V5, &want);
        assert_eq!(
            messages(&j.encode(&p).expect("re-encode")),
            want,
            "{name} re-encoded"
        );
    };
    check("emit", j.encode_event("/", "hello", "world", None).unwrap());
    check(
        "emit_escapes",
        j.encode_event(
            "/",
            "a\"b\\c\n\u{1}\u{1f}\u{7f}\u{2028}é😀",
            &json!({"k\t": "v"}),
            None,
        )
        .unwrap(),
    );
    check(
        "emit_binary_ack_nsp",
        j.encode_event(
            "/admin",
            "up",
            &(
                Bytes::from_static(&[1]),
                Wrap {
                    x: Bytes::from_static(&[2, 3]),
                },
            ),
            AckId::new(9),
        )
        .unwrap(),
    );
    check(
        "ack_binary",
        j.encode_ack("/", AckId::new(15).unwrap(), &Bytes::from_static(&[9]))
            .unwrap(),
    );
    check(
        "connect_ok_pid",
        j.encode_connect_ok("/", "abc", Some("xyz")).unwrap(),
    );
    check(
        "connect_error_data",
        j.encode_connect_error("/x", "m", Some(&json!({"code": 1})))
            .unwrap(),
    );
    check(
        "floats",
        j.encode_event(
            "/",
            "f",
            &(1.5, -0.25, 1e21, 1e-7, 123_456_789_012u64),
            None,
        )
        .unwrap(),
    );
}

#[derive(serde::Serialize)]
struct Wrap {
    x: Bytes,
}
