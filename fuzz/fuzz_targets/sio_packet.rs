//! Socket.IO packet decoding, both parsers, with binary reassembly.
//!
//! Input layout: the first byte picks the configuration (bit 0: msgpack parser instead of JSON,
//! bit 1: lazy validation, bit 2: protocol v4); the rest is a sequence of engine.io messages, each
//! prefixed by one byte `h`: bit 0 set = binary, `h >> 1` = length (127 means the length is in the
//! next two bytes, big-endian). Text that is not UTF-8 is converted lossily.
//!
//! Checks: nothing panics; every decoded packet re-encodes, and its messages decode (with a fresh
//! decoder of the same configuration) to the same packet; a packet that decodes with full
//! validation also decodes, identically, with lazy validation; deserializing the arguments into
//! values never panics.
#![no_main]

use bytes::Bytes;
use socketio_proto::{
    Decoder, Limits, Message, Packet, PacketData, Parser, ProtocolVersion, Validation,
};

fn split(mut data: &[u8]) -> Vec<Message> {
    let mut out = Vec::new();
    while let Some((&h, rest)) = data.split_first() {
        data = rest;
        let mut len = usize::from(h >> 1);
        if len == 127 {
            let (a, b) = match data {
                [a, b, rest @ ..] => {
                    data = rest;
                    (*a, *b)
                }
                _ => (0, 0),
            };
            len = usize::from(u16::from_be_bytes([a, b]));
        }
        let len = len.min(data.len());
        let (chunk, rest) = data.split_at(len);
        data = rest;
        if h & 1 == 1 {
            out.push(Message::Binary(Bytes::copy_from_slice(chunk)));
        } else {
            out.push(Message::Text(String::from_utf8_lossy(chunk).into_owned().into()));
        }
    }
    out
}

fn decoder(parser: Parser, version: ProtocolVersion, validation: Validation) -> Decoder {
    let limits = Limits {
        max_attachments: 4,
        max_depth: 32,
        ..Limits::default()
    };
    Decoder::new(parser, version, limits).with_validation(validation)
}

fn check(packet: &Packet, parser: Parser, version: ProtocolVersion, validation: Validation) {
    let encoded = parser.encode(packet).expect("a decoded packet must re-encode");
    let mut d = decoder(parser, version, validation);
    let mut again = None;
    let messages: Vec<Message> = encoded.messages().collect();
    let last = messages.len() - 1;
    for (i, m) in messages.into_iter().enumerate() {
        let r = d.decode(m).expect("re-encoded messages must decode");
        assert_eq!(r.is_some(), i == last, "packet must complete on the last message");
        again = r;
    }
    assert_eq!(again.as_ref(), Some(packet));
    // Lazy argument access never panics.
    let args = match &packet.data {
        PacketData::Event(e) => Some(e.args()),
        PacketData::Ack(a) => Some(&a.args),
        _ => None,
    };
    if let Some(args) = args {
        let values = args.to_values();
        if parser == Parser::Json {
            // The server decodes lazily and asks `validate` on the error path to tell a malformed
            // payload (close the connection) from a type mismatch: the two must agree.
            let valid = args.validate();
            if values.is_ok() && args.attachments().is_empty() {
                assert!(valid.is_ok(), "to_values accepted what validate refuses: {valid:?}");
            }
            if valid.is_ok() {
                assert!(values.is_ok(), "validate accepted what to_values refuses");
            }
        }
        if validation == Validation::Full && parser == Parser::Json {
            // (msgpack: a map with non-string keys is valid but has no `serde_json::Value` form.)
            values.expect("fully validated arguments must convert to values");
        }
        let _ = args.deserialize::<Vec<Bytes>>();
        let _ = args.deserialize::<(String, Bytes, Option<u32>)>();
    }
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Some((&config, rest)) = data.split_first() else {
        return;
    };
    let parser = if config & 1 == 1 {
        Parser::Msgpack
    } else {
        Parser::Json
    };
    let validation = if config & 2 == 2 {
        Validation::Lazy
    } else {
        Validation::Full
    };
    let version = if config & 4 == 4 {
        ProtocolVersion::V4
    } else {
        ProtocolVersion::V5
    };
    let messages = split(rest);
    let mut d = decoder(parser, version, validation);
    let mut lazy = decoder(parser, version, Validation::Lazy);
    // The two decoders see the same messages until the full one refuses something the lazy one
    // accepts; from then on their states may differ.
    let mut in_sync = true;
    for m in messages {
        let r = d.decode(m.clone());
        let l = lazy.decode(m);
        match &r {
            // Full validation accepts a subset of what lazy validation accepts.
            Ok(r) if in_sync => assert_eq!(l.as_ref().ok(), Some(r), "lazy validation must agree"),
            Ok(_) => {}
            Err(_) => in_sync &= l.is_err(),
        }
        if let Ok(Some(packet)) = r {
            check(&packet, parser, version, validation);
        }
        if let Ok(Some(packet)) = l {
            check(&packet, parser, version, Validation::Lazy);
        }
    }
});
