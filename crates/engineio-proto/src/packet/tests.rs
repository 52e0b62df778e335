//! Packet codec tests: spec transcripts (socketio/engine.io-protocol, v4 README and v3 branch),
//! vectors produced by Node's engine.io-parser 5.x / 2.2.1, edge cases and round-trip properties.

use bytes::{Bytes, BytesMut};
use proptest::prelude::*;

use super::*;

const V4: ProtocolVersion = ProtocolVersion::V4;
#[cfg(feature = "v3")]
const V3: ProtocolVersion = ProtocolVersion::V3;

/// Every protocol version compiled in.
pub(crate) fn versions() -> Vec<ProtocolVersion> {
    vec![
        V4,
        #[cfg(feature = "v3")]
        V3,
    ]
}

fn text(s: &'static str) -> Str {
    Str::from_static(s)
}

fn decode(s: &'static str, version: ProtocolVersion) -> Result<Packet, DecodeError> {
    Packet::decode_text(text(s), version)
}

/// The handshake of the v4 README.
fn spec_open() -> OpenPacket {
    OpenPacket {
        sid: text("lv_VI97HAXpY6yYWAAAC"),
        upgrades: vec![text("websocket")],
        ping_interval: 25000,
        ping_timeout: 20000,
        max_payload: 1_000_000,
    }
}

const SPEC_OPEN_V4: &str = r#"0{"sid":"lv_VI97HAXpY6yYWAAAC","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}"#;

#[test]
fn spec_v4_handshake_open_packet() {
    let open = Packet::Open(Box::new(spec_open()));
    assert_eq!(open.to_text(V4), SPEC_OPEN_V4);
    assert_eq!(open.to_frame(V4), Frame::Text(text(SPEC_OPEN_V4)));
    assert_eq!(open.text_len(V4), SPEC_OPEN_V4.len());
    assert_eq!(decode(SPEC_OPEN_V4, V4), Ok(open));
}

#[test]
fn spec_v4_heartbeat_and_upgrade_transcript() {
    // Heartbeat: server `2`, client `3`.
    assert_eq!(decode("2", V4), Ok(Packet::Ping(Str::new())));
    assert_eq!(Packet::Ping(Str::new()).to_text(V4), "2");
    assert_eq!(decode("3", V4), Ok(Packet::Pong(Str::new())));
    assert_eq!(Packet::Pong(Str::new()).to_text(V4), "3");
    // Upgrade: client `2probe`, server `3probe`, client `5`.
    assert_eq!(decode("2probe", V4), Ok(Packet::Ping(text("probe"))));
    assert_eq!(
        Packet::Pong(text("probe")).to_frame(V4),
        Frame::Text(text("3probe"))
    );
    assert_eq!(decode("5", V4), Ok(Packet::Upgrade));
    // The server flushes a pending GET with a noop.
    assert_eq!(Packet::Noop.to_text(V4), "6");
}

#[test]
fn spec_v4_websocket_frames() {
    assert_eq!(decode("4hello", V4), Ok(Packet::Message(text("hello"))));
    assert_eq!(
        Packet::Message(text("hello")).to_frame(V4),
        Frame::Text(text("4hello"))
    );
    // "Binary payloads are sent as is, without modification."
    let data = Bytes::from_static(&[1, 2, 3, 4]);
    assert_eq!(
        Packet::decode_frame(Frame::Binary(data.clone()), V4),
        Ok(Packet::Binary(data.clone()))
    );
    assert_eq!(
        Packet::Binary(data.clone()).to_frame(V4),
        Frame::Binary(data)
    );
}

#[test]
fn every_type_digit() {
    for version in versions() {
        assert_eq!(decode("1", version), Ok(Packet::Close));
        assert_eq!(decode("2", version), Ok(Packet::Ping(Str::new())));
        assert_eq!(decode("3", version), Ok(Packet::Pong(Str::new())));
        assert_eq!(decode("4", version), Ok(Packet::Message(Str::new())));
        assert_eq!(decode("5", version), Ok(Packet::Upgrade));
        assert_eq!(decode("6", version), Ok(Packet::Noop));
        for (packet, digit) in [
            (Packet::Close, "1"),
            (Packet::Ping(Str::new()), "2"),
            (Packet::Pong(Str::new()), "3"),
            (Packet::Message(Str::new()), "4"),
            (Packet::Upgrade, "5"),
            (Packet::Noop, "6"),
        ] {
            assert_eq!(packet.to_text(version), digit);
            assert_eq!(packet.packet_type().digit(), digit.as_bytes()[0]);
        }
    }
}

#[test]
fn packet_type_conversions() {
    for byte in 0..=255_u8 {
        let from_byte = PacketType::from_byte(byte);
        assert_eq!(from_byte.is_some(), byte <= 6);
        assert_eq!(
            from_byte.map(|kind| kind as u8),
            (byte <= 6).then_some(byte)
        );
        let from_digit = PacketType::from_digit(byte);
        assert_eq!(from_digit.is_some(), (b'0'..=b'6').contains(&byte));
        if let Some(kind) = from_digit {
            assert_eq!(kind.digit(), byte);
        }
    }
}

#[test]
fn bad_type_digits_and_empty() {
    for version in versions() {
        assert_eq!(decode("", version), Err(DecodeError::Empty));
        assert_eq!(
            decode("7", version),
            Err(DecodeError::InvalidPacketType(b'7'))
        );
        assert_eq!(
            decode("/", version),
            Err(DecodeError::InvalidPacketType(b'/'))
        );
        assert_eq!(
            decode("x4", version),
            Err(DecodeError::InvalidPacketType(b'x'))
        );
        assert_eq!(
            decode("é", version),
            Err(DecodeError::InvalidPacketType(0xC3))
        );
        assert!(matches!(
            decode("0", version),
            Err(DecodeError::InvalidOpenPacket(_))
        ));
    }
}

#[test]
fn data_after_close_upgrade_noop_is_ignored_as_in_node() {
    // engine.io-parser 5: decodePacket("1close data") is { type: "close", data: "close data" },
    // and the data of those packets is never used.
    for version in versions() {
        assert_eq!(decode("1close data", version), Ok(Packet::Close));
        assert_eq!(decode("5x", version), Ok(Packet::Upgrade));
        assert_eq!(decode("6x", version), Ok(Packet::Noop));
    }
}

#[test]
fn data_is_a_slice_of_the_input() {
    let input = Str::from(String::from("4héllo wörld"));
    let Ok(Packet::Message(data)) = Packet::decode_text(input.clone(), V4) else {
        panic!("not a message");
    };
    assert_eq!(data, "héllo wörld");
    assert_eq!(data.as_ptr(), input[1..].as_ptr());

    let frame = Bytes::from(vec![9, 8, 7]);
    let Ok(Packet::Binary(data)) = Packet::decode_binary(frame.clone(), V4) else {
        panic!("not binary");
    };
    assert_eq!(data.as_ptr(), frame.as_ptr());
    let Frame::Binary(out) = Packet::Binary(data).to_frame(V4) else {
        panic!("not a binary frame");
    };
    assert_eq!(out.as_ptr(), frame.as_ptr());
}

#[test]
fn base64_text_packets_v4() {
    // engine.io-parser 5 decodes `b…` text as a binary message, over WebSocket too.
    assert_eq!(
        decode("bAQIDBA==", V4),
        Ok(Packet::Binary(Bytes::from_static(&[1, 2, 3, 4])))
    );
    assert_eq!(
        Packet::Binary(Bytes::from_static(&[1, 2, 3, 4])).to_text(V4),
        "bAQIDBA=="
    );
    assert_eq!(decode("b", V4), Ok(Packet::Binary(Bytes::new())));
    assert_eq!(Packet::Binary(Bytes::new()).to_text(V4), "b");
    // Padding is optional, as for Node's Buffer.
    assert_eq!(
        decode("bAQIDBA", V4),
        Ok(Packet::Binary(Bytes::from_static(&[1, 2, 3, 4])))
    );
    assert_eq!(decode("b!!!!", V4), Err(DecodeError::InvalidBase64));
    assert_eq!(decode("bAQID B==", V4), Err(DecodeError::InvalidBase64));
    assert_eq!(decode("bA", V4), Err(DecodeError::InvalidBase64));
}

#[cfg(feature = "v3")]
#[test]
fn spec_v3_packets() {
    // v3 README: `2probe` / `3probe`, `4HelloWorld`, binary `4|0|1|2|3|4|5`.
    assert_eq!(decode("2probe", V3), Ok(Packet::Ping(text("probe"))));
    assert_eq!(Packet::Pong(text("probe")).to_text(V3), "3probe");
    assert_eq!(
        decode("4HelloWorld", V3),
        Ok(Packet::Message(text("HelloWorld")))
    );
    let frame = Bytes::from_static(&[4, 0, 1, 2, 3, 4, 5]);
    let packet = Packet::decode_binary(frame.clone(), V3);
    assert_eq!(
        packet,
        Ok(Packet::Binary(Bytes::from_static(&[0, 1, 2, 3, 4, 5])))
    );
    assert_eq!(
        Packet::Binary(Bytes::from_static(&[0, 1, 2, 3, 4, 5])).to_frame(V3),
        Frame::Binary(frame)
    );
}

#[cfg(feature = "v3")]
#[test]
fn v3_binary_frames_and_base64() {
    // Node (engine.io-parser 2.2.1): encodePacket(message <01 02 03 04>) is <04 01 02 03 04>
    // with binary support, "b4AQIDBA==" without.
    let data = Bytes::from_static(&[1, 2, 3, 4]);
    assert_eq!(
        Packet::Binary(data.clone()).to_frame(V3),
        Frame::Binary(Bytes::from_static(&[4, 1, 2, 3, 4]))
    );
    assert_eq!(Packet::Binary(data.clone()).to_text(V3), "b4AQIDBA==");
    assert_eq!(decode("b4AQIDBA==", V3), Ok(Packet::Binary(data)));
    assert_eq!(decode("b4", V3), Ok(Packet::Binary(Bytes::new())));
    assert_eq!(decode("b", V3), Err(DecodeError::Empty));
    assert_eq!(
        decode("b9AQ==", V3),
        Err(DecodeError::InvalidPacketType(b'9'))
    );
    assert_eq!(
        decode("b2AQ==", V3),
        Err(DecodeError::UnsupportedBinaryPacket(PacketType::Ping))
    );
    assert_eq!(decode("b4A", V3), Err(DecodeError::InvalidBase64));

    let binary = |bytes: &'static [u8]| Packet::decode_binary(Bytes::from_static(bytes), V3);
    assert_eq!(binary(&[4]), Ok(Packet::Binary(Bytes::new())));
    assert_eq!(binary(&[]), Err(DecodeError::Empty));
    assert_eq!(binary(&[7, 1]), Err(DecodeError::InvalidPacketType(7)));
    assert_eq!(
        binary(&[b'4', 1]),
        Err(DecodeError::InvalidPacketType(b'4'))
    );
    assert_eq!(
        binary(&[0, 1]),
        Err(DecodeError::UnsupportedBinaryPacket(PacketType::Open))
    );
}

#[cfg(feature = "v3")]
#[test]
fn v3_open_packet_matches_engine_io_6() {
    // engine.io 6 (socket.io 4 with allowEIO3) writes maxPayload for v3 clients too.
    let expected = r#"0{"sid":"lv_VI97HAXpY6yYWAAAC","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}"#;
    let open = Packet::Open(Box::new(spec_open()));
    assert_eq!(open.to_text(V3), expected);
    assert_eq!(open.text_len(V3), expected.len());
    assert_eq!(decode(expected, V3), Ok(open));
    // engine.io 3 wrote no maxPayload: still accepted, as "no limit".
    let old = r#"0{"sid":"lv_VI97HAXpY6yYWAAAC","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000}"#;
    let Ok(Packet::Open(decoded)) = decode(old, V3) else {
        panic!("not an open packet");
    };
    assert_eq!(decoded.max_payload, 0);
}

#[test]
fn open_json_escapes_like_json_stringify() {
    // Node 20: JSON.stringify({ sid: 'a"b\\c\u0001\u001f\b\f\n\r\t\u007f/é😀\u2028', upgrades: [],
    // pingInterval: 25000, pingTimeout: 20000, maxPayload: 1e6 }).
    let open = OpenPacket {
        sid: Str::from("a\"b\\c\u{1}\u{1f}\u{8}\u{c}\n\r\t\u{7f}/é😀\u{2028}"),
        upgrades: vec![],
        ping_interval: 25000,
        ping_timeout: 20000,
        max_payload: 1_000_000,
    };
    let expected = "{\"sid\":\"a\\\"b\\\\c\\u0001\\u001f\\b\\f\\n\\r\\t\u{7f}/é😀\u{2028}\",\"upgrades\":[],\"pingInterval\":25000,\"pingTimeout\":20000,\"maxPayload\":1000000}";
    assert_eq!(open.to_json(V4), expected);
    assert_eq!(open.json_len(V4), expected.len());
    assert_eq!(OpenPacket::from_json(&Str::from(expected)), Ok(open));
}

#[test]
fn open_json_several_upgrades_and_extremes() {
    let open = OpenPacket {
        sid: Str::new(),
        upgrades: vec![text("websocket"), text("webtransport")],
        ping_interval: 0,
        ping_timeout: u64::MAX,
        max_payload: 9,
    };
    let json = open.to_json(V4);
    assert_eq!(
        json,
        r#"{"sid":"","upgrades":["websocket","webtransport"],"pingInterval":0,"pingTimeout":18446744073709551615,"maxPayload":9}"#
    );
    assert_eq!(open.json_len(V4), json.len());
}

#[test]
fn open_json_decoding_is_tolerant() {
    let parse = |json: &'static str| OpenPacket::from_json(&text(json));
    // Any order, whitespace, unknown fields, no upgrades, no maxPayload (v3 servers).
    let open = parse(
        r#" { "pingTimeout": 5000, "extra": {"a": [1]}, "pingInterval": 2500.9, "sid": "x\u0041" } "#,
    );
    assert_eq!(
        open,
        Ok(OpenPacket {
            sid: text("xA"),
            upgrades: vec![],
            ping_interval: 2500,
            ping_timeout: 5000,
            max_payload: 0,
        })
    );
    // Node's engine.io 6 also sends maxPayload to v3 clients: accepted.
    assert_eq!(
        parse(r#"{"sid":"s","upgrades":[],"pingInterval":1,"pingTimeout":2,"maxPayload":3}"#)
            .map(|open| open.max_payload),
        Ok(3)
    );
}

#[test]
fn open_json_errors() {
    for json in [
        "",
        "null",
        "[]",
        "{",
        r#"{"upgrades":[],"pingInterval":1,"pingTimeout":2}"#,
        r#"{"sid":"s","pingTimeout":2}"#,
        r#"{"sid":"s","pingInterval":1}"#,
        r#"{"sid":1,"pingInterval":1,"pingTimeout":2}"#,
        r#"{"sid":"s","pingInterval":-1,"pingTimeout":2}"#,
        r#"{"sid":"s","pingInterval":"1","pingTimeout":2}"#,
        r#"{"sid":"s","upgrades":"websocket","pingInterval":1,"pingTimeout":2}"#,
        r#"{"sid":"s","pingInterval":1,"pingTimeout":2} trailing"#,
    ] {
        assert!(
            matches!(
                OpenPacket::from_json(&text(json)),
                Err(DecodeError::InvalidOpenPacket(_))
            ),
            "{json}"
        );
    }
}

#[test]
fn open_json_strings_are_shared_when_unescaped() {
    let json = Str::from(String::from(
        r#"{"sid":"abc","upgrades":["websocket"],"pingInterval":1,"pingTimeout":2}"#,
    ));
    let Ok(open) = OpenPacket::from_json(&json) else {
        panic!("invalid");
    };
    let range = json.as_bytes().as_ptr_range();
    assert!(range.contains(&open.sid.as_ptr()));
    assert!(range.contains(&open.upgrades[0].as_ptr()));
}

#[test]
fn encode_text_into_appends() {
    for version in versions() {
        let mut out = BytesMut::from(&b"xx"[..]);
        Packet::Message(text("hi")).encode_text_into(version, &mut out);
        Packet::Binary(Bytes::from_static(&[255])).encode_text_into(version, &mut out);
        let expected: &[u8] = match version {
            ProtocolVersion::V4 => b"xx4hib/w==",
            #[cfg(feature = "v3")]
            ProtocolVersion::V3 => b"xx4hib4/w==",
        };
        assert_eq!(&out[..], expected);
    }
}

#[cfg(feature = "v3")]
#[test]
fn utf16_length_counts_like_javascript() {
    // "€".length === 1, "😀".length === 2, "é€😀x".length === 5 in JavaScript.
    assert_eq!(utf16_len(""), 0);
    assert_eq!(utf16_len("hello"), 5);
    assert_eq!(utf16_len("€"), 1);
    assert_eq!(utf16_len("😀"), 2);
    assert_eq!(utf16_len("é€😀x"), 5);
    assert_eq!(Packet::Message(text("é€😀x")).text_utf16_len(V3), 6);
}

// Strategies shared with the payload tests.

/// Any handshake `version` can carry (v3 has no maxPayload).
pub(crate) fn arb_open(version: ProtocolVersion) -> impl Strategy<Value = OpenPacket> {
    let max_payload = match version {
        ProtocolVersion::V4 => any::<u64>().boxed(),
        #[cfg(feature = "v3")]
        ProtocolVersion::V3 => Just(0).boxed(),
    };
    (
        any::<String>(),
        proptest::collection::vec(any::<String>(), 0..3),
        any::<u64>(),
        any::<u64>(),
        max_payload,
    )
        .prop_map(
            |(sid, upgrades, ping_interval, ping_timeout, max_payload)| OpenPacket {
                sid: sid.into(),
                upgrades: upgrades.into_iter().map(Str::from).collect(),
                ping_interval,
                ping_timeout,
                max_payload,
            },
        )
}

/// Any packet, with data from `data` (to keep `0x1e` out of v4 payloads).
pub(crate) fn arb_packet_with(
    version: ProtocolVersion,
    data: impl Strategy<Value = String> + Clone + 'static,
) -> impl Strategy<Value = Packet> {
    prop_oneof![
        arb_open(version).prop_map(|open| Packet::Open(Box::new(open))),
        Just(Packet::Close),
        data.clone().prop_map(|s| Packet::Ping(s.into())),
        data.clone().prop_map(|s| Packet::Pong(s.into())),
        data.prop_map(|s| Packet::Message(s.into())),
        proptest::collection::vec(any::<u8>(), 0..64).prop_map(|b| Packet::Binary(b.into())),
        Just(Packet::Upgrade),
        Just(Packet::Noop),
    ]
}

pub(crate) fn arb_packet(version: ProtocolVersion) -> impl Strategy<Value = Packet> {
    arb_packet_with(version, any::<String>())
}

fn arb_version() -> impl Strategy<Value = ProtocolVersion> {
    proptest::sample::select(versions())
}

fn arb_versioned_packet() -> impl Strategy<Value = (ProtocolVersion, Packet)> {
    arb_version().prop_flat_map(|version| (Just(version), arb_packet(version)))
}

proptest! {
    #[test]
    fn text_round_trip((version, packet) in arb_versioned_packet()) {
        let encoded = packet.to_text(version);
        prop_assert_eq!(encoded.len(), packet.text_len(version));
        let mut out = BytesMut::new();
        packet.encode_text_into(version, &mut out);
        prop_assert_eq!(&out[..], encoded.as_bytes());
        prop_assert_eq!(Packet::decode_text(encoded, version), Ok(packet));
    }

    #[test]
    fn frame_round_trip((version, packet) in arb_versioned_packet()) {
        let frame = packet.to_frame(version);
        prop_assert_eq!(
            matches!(frame, Frame::Binary(_)),
            matches!(packet, Packet::Binary(_))
        );
        prop_assert_eq!(Packet::decode_frame(frame, version), Ok(packet));
    }

    #[test]
    fn open_json_round_trip(open in arb_open(V4)) {
        let json = open.to_json(V4);
        prop_assert_eq!(json.len(), open.json_len(V4));
        // What Node would parse: serde_json agrees with JSON.parse on this subset.
        let value: serde_json::Value = serde_json::from_str(&json).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(value["sid"].as_str(), Some(&*open.sid));
        prop_assert_eq!(OpenPacket::from_json(&Str::from(json)), Ok(open));
    }

    #[test]
    fn arbitrary_text_never_panics(s in any::<String>(), version in arb_version()) {
        let _ = Packet::decode_text(Str::from(s), version);
    }

    #[test]
    fn arbitrary_binary_never_panics(b in proptest::collection::vec(any::<u8>(), 0..32), version in arb_version()) {
        if let Ok(packet) = Packet::decode_binary(Bytes::from(b), version) {
            prop_assert_eq!(Packet::decode_frame(packet.to_frame(version), version), Ok(packet));
        }
    }
}
