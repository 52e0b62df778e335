//! Transcripts: every packet-encoding example of the Socket.IO protocol v5 specification
//! (socketio/socket.io-protocol, Readme "Packet encoding" and "Sample session"), and the packets of
//! its test suite, with their exact wire bytes (engine.io's leading `4` removed).

mod common;

use bytes::Bytes;
use common::*;
use serde_json::json;
use socketio_proto::{
    AckId, DecodeError, Decoder, Limits, Message, PacketData, Parser, ProtocolVersion,
};

const J: Parser = Parser::Json;
const V5: ProtocolVersion = ProtocolVersion::V5;

fn id(n: u64) -> Option<AckId> {
    AckId::new(n)
}

/// Encoding gives exactly `wire`, decoding `wire` and re-encoding the packet gives `wire` again.
fn roundtrip(encoded: socketio_proto::Encoded, wire: &[Message]) -> socketio_proto::Packet {
    assert_eq!(messages(&encoded), wire, "encoding");
    let p = decode_one(J, V5, wire);
    assert_eq!(
        messages(&J.encode(&p).expect("re-encode")),
        wire,
        "re-encoding"
    );
    p
}

#[test]
fn connect_main_namespace() {
    // { type: CONNECT, namespace: "/" } -> 0
    let p = roundtrip(J.encode_connect("/", None::<&()>).unwrap(), &[text("0")]);
    assert_eq!(&*p.nsp, "/");
    assert_eq!(p.data, PacketData::Connect(None));
}

#[test]
fn connect_custom_namespace_with_sid() {
    // { type: CONNECT, namespace: "/admin", data: { sid: "oSO0OpakMV_3jnilAAAA" } }
    let wire = [text(r#"0/admin,{"sid":"oSO0OpakMV_3jnilAAAA"}"#)];
    let p = roundtrip(
        J.encode_connect_ok("/admin", "oSO0OpakMV_3jnilAAAA", None)
            .unwrap(),
        &wire,
    );
    assert_eq!(&*p.nsp, "/admin");
    let PacketData::Connect(Some(v)) = &p.data else {
        panic!("{p:?}")
    };
    let ok = v.connect_ok_fields().unwrap();
    assert_eq!((ok.sid.as_str(), ok.pid), ("oSO0OpakMV_3jnilAAAA", None));
}

#[test]
fn connect_with_pid() {
    let p = roundtrip(
        J.encode_connect_ok("/", "abc", Some("xyz")).unwrap(),
        &[text(r#"0{"sid":"abc","pid":"xyz"}"#)],
    );
    let PacketData::Connect(Some(v)) = &p.data else {
        panic!()
    };
    assert_eq!(v.connect_ok_fields().unwrap().pid.as_deref(), Some("xyz"));
}

#[test]
fn connect_refused() {
    // { type: CONNECT_ERROR, namespace: "/", data: { message: "Not authorized" } }
    let p = roundtrip(
        J.encode_connect_error("/", "Not authorized", None::<&()>)
            .unwrap(),
        &[text(r#"4{"message":"Not authorized"}"#)],
    );
    let PacketData::ConnectError(v) = &p.data else {
        panic!()
    };
    let e = v.connect_error_fields().unwrap();
    assert_eq!((e.message.as_str(), e.data), ("Not authorized", None));
}

#[test]
fn event_main_namespace() {
    // { type: EVENT, namespace: "/", data: ["foo"] } -> 2["foo"]
    let p = roundtrip(
        J.encode_event("/", "foo", &(), None).unwrap(),
        &[text(r#"2["foo"]"#)],
    );
    let (name, args, ack) = event_parts(&p);
    assert_eq!((name, ack), ("foo", None));
    assert!(args.is_empty());
    assert_eq!(values(args), json!([]));
}

#[test]
fn event_custom_namespace() {
    // { type: EVENT, namespace: "/admin", data: ["bar"] } -> 2/admin,["bar"]
    let p = roundtrip(
        J.encode_event("/admin", "bar", &(), None).unwrap(),
        &[text(r#"2/admin,["bar"]"#)],
    );
    assert_eq!(&*p.nsp, "/admin");
    assert_eq!(event_parts(&p).0, "bar");
}

#[test]
fn event_with_binary() {
    // { type: BINARY_EVENT, namespace: "/", data: ["baz", <Buffer <01 02 03 04>> ] }
    let buf = Bytes::from_static(&[1, 2, 3, 4]);
    let wire = [
        text(r#"51-["baz",{"_placeholder":true,"num":0}]"#),
        bin(&[1, 2, 3, 4]),
    ];
    let p = roundtrip(J.encode_event("/", "baz", &buf, None).unwrap(), &wire);
    let (name, args, _) = event_parts(&p);
    assert_eq!(name, "baz");
    assert_eq!(args.attachments(), std::slice::from_ref(&buf));
    let got: Bytes = args.deserialize().unwrap();
    assert_eq!(got, buf);
}

#[test]
fn event_with_multiple_attachments() {
    // { type: BINARY_EVENT, namespace: "/admin", data: ["baz", <Buffer <01 02>>, <Buffer <03 04>> ] }
    let (a, b) = (Bytes::from_static(&[1, 2]), Bytes::from_static(&[3, 4]));
    let wire = [
        text(r#"52-/admin,["baz",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#),
        bin(&[1, 2]),
        bin(&[3, 4]),
    ];
    let p = roundtrip(
        J.encode_event("/admin", "baz", &(&a, &b), None).unwrap(),
        &wire,
    );
    let (x, y): (Bytes, Bytes) = event_parts(&p).1.deserialize().unwrap();
    assert_eq!((x, y), (a, b));
}

#[test]
fn event_with_ack_main_namespace() {
    // { type: EVENT, namespace: "/", data: ["foo"], id: 12 } -> 212["foo"]
    let p = roundtrip(
        J.encode_event("/", "foo", &(), id(12)).unwrap(),
        &[text(r#"212["foo"]"#)],
    );
    assert_eq!(event_parts(&p).2, Some(12));
}

#[test]
fn ack_main_namespace() {
    // Server > { type: ACK, namespace: "/", data: [], id: 12 }
    let p = roundtrip(
        J.encode_ack("/", id(12).unwrap(), &()).unwrap(),
        &[text("312[]")],
    );
    let (n, args) = ack_parts(&p);
    assert_eq!(n, 12);
    assert!(args.is_empty());
}

#[test]
fn ack_custom_namespace() {
    // { type: ACK, namespace: "/admin", data: ["bar"], id: 13 } -> 3/admin,13["bar"]
    let p = roundtrip(
        J.encode_ack("/admin", id(13).unwrap(), "bar").unwrap(),
        &[text(r#"3/admin,13["bar"]"#)],
    );
    let (n, args) = ack_parts(&p);
    assert_eq!(n, 13);
    let s: String = args.deserialize().unwrap();
    assert_eq!(s, "bar");
}

#[test]
fn binary_ack() {
    // { type: BINARY_ACK, namespace: "/", data: ["bar", <Buffer <01 02 03 04>>], id: 15 }
    let buf = Bytes::from_static(&[1, 2, 3, 4]);
    let wire = [
        text(r#"61-15["bar",{"_placeholder":true,"num":0}]"#),
        bin(&[1, 2, 3, 4]),
    ];
    let p = roundtrip(
        J.encode_ack("/", id(15).unwrap(), &("bar", &buf)).unwrap(),
        &wire,
    );
    let (s, b): (String, Bytes) = ack_parts(&p).1.deserialize().unwrap();
    assert_eq!((s.as_str(), b), ("bar", buf));
}

#[test]
fn disconnect() {
    // { type: DISCONNECT, namespace: "/" } -> 1 ; "/admin" -> 1/admin,
    let p = roundtrip(J.encode_disconnect("/").unwrap(), &[text("1")]);
    assert_eq!(p.data, PacketData::Disconnect);
    let p = roundtrip(J.encode_disconnect("/admin").unwrap(), &[text("1/admin,")]);
    assert_eq!(&*p.nsp, "/admin");
}

#[test]
fn sample_session() {
    // Request n°2: 40 -> CONNECT; n°3: 40{"sid":"wZX3oN0bSVIhsaknAAAI"}
    roundtrip(J.encode_connect("/", None::<&()>).unwrap(), &[text("0")]);
    roundtrip(
        J.encode_connect_ok("/", "wZX3oN0bSVIhsaknAAAI", None)
            .unwrap(),
        &[text(r#"0{"sid":"wZX3oN0bSVIhsaknAAAI"}"#)],
    );
    // n°4: socket.emit('hey', 'Jude') -> 42["hey","Jude"]
    roundtrip(
        J.encode_event("/", "hey", "Jude", None).unwrap(),
        &[text(r#"2["hey","Jude"]"#)],
    );
    // n°5: 42["hello"]\x1e42["world"]
    roundtrip(
        J.encode_event("/", "hello", &(), None).unwrap(),
        &[text(r#"2["hello"]"#)],
    );
    roundtrip(
        J.encode_event("/", "world", &(), None).unwrap(),
        &[text(r#"2["world"]"#)],
    );
    // WebSocket frames.
    roundtrip(
        J.encode_connect("/admin", None::<&()>).unwrap(),
        &[text("0/admin,")],
    );
    roundtrip(
        J.encode_connect_ok("/admin", "-G5j-67EZFp-q59rADQM", None)
            .unwrap(),
        &[text(r#"0/admin,{"sid":"-G5j-67EZFp-q59rADQM"}"#)],
    );
    roundtrip(
        J.encode_event("/admin", "tellme", &(), id(1)).unwrap(),
        &[text(r#"2/admin,1["tellme"]"#)],
    );
    let attachment = Bytes::from_static(b"\x00\xff");
    roundtrip(
        J.encode_ack("/admin", id(1).unwrap(), &attachment).unwrap(),
        &[
            text(r#"61-/admin,1[{"_placeholder":true,"num":0}]"#),
            bin(b"\x00\xff"),
        ],
    );
}

#[test]
fn test_suite_connect_packets() {
    // socket.send('40{"token":"123"}') and friends.
    let p = decode_one(J, V5, &[text(r#"0{"token":"123"}"#)]);
    let PacketData::Connect(Some(auth)) = &p.data else {
        panic!()
    };
    assert_eq!(auth.to_value().unwrap(), json!({"token": "123"}));
    let p = decode_one(J, V5, &[text("0/custom,")]);
    assert_eq!((&*p.nsp, &p.data), ("/custom", &PacketData::Connect(None)));
    let p = decode_one(J, V5, &[text(r#"0/custom,{"token":"abc"}"#)]);
    assert_eq!(&*p.nsp, "/custom");
    // "40/random" (no comma): the namespace runs to the end of the message.
    let p = decode_one(J, V5, &[text("0/random")]);
    assert_eq!((&*p.nsp, &p.data), ("/random", &PacketData::Connect(None)));
    // The server's answer: 44/random,{"message":"Invalid namespace"}
    let e = J
        .encode_connect_error("/random", "Invalid namespace", None::<&()>)
        .unwrap();
    assert_eq!(
        messages(&e),
        [text(r#"4/random,{"message":"Invalid namespace"}"#)]
    );
    // 41/custom (disconnect without comma).
    let p = decode_one(J, V5, &[text("1/custom")]);
    assert_eq!((&*p.nsp, &p.data), ("/custom", &PacketData::Disconnect));
}

#[test]
fn test_suite_events() {
    let p = decode_one(J, V5, &[text(r#"2["message",1,"2",{"3":[true]}]"#)]);
    let (name, args, _) = event_parts(&p);
    assert_eq!(name, "message");
    assert_eq!(values(args), json!([1, "2", {"3": [true]}]));
    let vals = args.to_values().unwrap();
    let e = J.encode_event("/", "message-back", &vals, None).unwrap();
    assert_eq!(
        messages(&e),
        [text(r#"2["message-back",1,"2",{"3":[true]}]"#)]
    );

    let wire = [
        text(r#"52-["message",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#),
        bin(&[1, 2, 3]),
        bin(&[4, 5, 6]),
    ];
    let p = decode_one(J, V5, &wire);
    let (a, b): (Bytes, Bytes) = event_parts(&p).1.deserialize().unwrap();
    let e = J.encode_event("/", "message-back", &(a, b), None).unwrap();
    assert_eq!(
        messages(&e),
        [
            text(
                r#"52-["message-back",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#
            ),
            bin(&[1, 2, 3]),
            bin(&[4, 5, 6]),
        ]
    );

    let p = decode_one(
        J,
        V5,
        &[text(r#"2456["message-with-ack",1,"2",{"3":[false]}]"#)],
    );
    let (_, args, ack) = event_parts(&p);
    assert_eq!(ack, Some(456));
    let e = J
        .encode_ack("/", id(456).unwrap(), &args.to_values().unwrap())
        .unwrap();
    assert_eq!(messages(&e), [text(r#"3456[1,"2",{"3":[false]}]"#)]);

    let p = decode_one(
        J,
        V5,
        &[
            text(
                r#"52-789["message-with-ack",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#,
            ),
            bin(&[1, 2, 3]),
            bin(&[4, 5, 6]),
        ],
    );
    let (_, args, ack) = event_parts(&p);
    let bufs: (Bytes, Bytes) = args.deserialize().unwrap();
    let e = J.encode_ack("/", id(ack.unwrap()).unwrap(), &bufs).unwrap();
    assert_eq!(
        messages(&e),
        [
            text(r#"62-789[{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#),
            bin(&[1, 2, 3]),
            bin(&[4, 5, 6]),
        ]
    );
}

#[test]
fn test_suite_invalid_packets_close_the_connection() {
    let mut d = Decoder::new(J, V5, Limits::default());
    // "4abc": unknown packet type.
    assert_eq!(d.decode_text("abc".into()), Err(DecodeError::UnknownType));
    // "42{}": invalid payload format.
    assert_eq!(
        d.decode_text("2{}".into()),
        Err(DecodeError::InvalidPayload(
            socketio_proto::PacketType::Event
        ))
    );
    // '42abc[...]': invalid ack id.
    assert_eq!(
        d.decode_text(r#"2abc["message-with-ack",1,"2",{"3":[false]}]"#.into()),
        Err(DecodeError::InvalidPayload(
            socketio_proto::PacketType::Event
        ))
    );
}
