//! Helpers shared by the transcript tests.
#![allow(dead_code, reason = "each test file uses a subset")]

use bytes::Bytes;
use socketio_proto::{
    Args, Decoder, Encoded, Limits, Message, Packet, PacketData, Parser, ProtocolVersion,
};

pub(crate) fn text(s: &str) -> Message {
    Message::Text(s.into())
}

pub(crate) fn bin(b: &[u8]) -> Message {
    Message::Binary(Bytes::copy_from_slice(b))
}

/// Decodes a sequence of messages that must form exactly one packet.
pub(crate) fn decode_one(parser: Parser, version: ProtocolVersion, msgs: &[Message]) -> Packet {
    let mut d = Decoder::new(parser, version, Limits::default());
    let mut out = None;
    for (i, m) in msgs.iter().enumerate() {
        let r = d
            .decode(m.clone())
            .unwrap_or_else(|e| panic!("message {i} {m:?}: {e}"));
        if i + 1 < msgs.len() {
            assert!(r.is_none(), "packet completed early at message {i}");
        } else {
            out = r;
        }
    }
    out.expect("packet complete after the last message")
}

pub(crate) fn messages(e: &Encoded) -> Vec<Message> {
    e.messages().collect()
}

pub(crate) fn event_parts(p: &Packet) -> (&str, &Args, Option<u64>) {
    match &p.data {
        PacketData::Event(e) => (e.name(), e.args(), e.ack.map(|a| a.get())),
        other => panic!("not an event: {other:?}"),
    }
}

pub(crate) fn ack_parts(p: &Packet) -> (u64, &Args) {
    match &p.data {
        PacketData::Ack(a) => (a.id.get(), &a.args),
        other => panic!("not an ack: {other:?}"),
    }
}

pub(crate) fn values(args: &Args) -> serde_json::Value {
    serde_json::Value::Array(args.to_values().expect("valid args"))
}

/// Decoding the encoded form of `p` gives `p` back.
pub(crate) fn assert_reencodes(parser: Parser, version: ProtocolVersion, p: &Packet) {
    let e = parser.encode(p).expect("encodable");
    let back = decode_one(parser, version, &messages(&e));
    assert_eq!(&back, p);
}
