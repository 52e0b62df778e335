//! Engine.IO packet decoding: text and binary, v4 and v3. Whatever decodes must re-encode (as
//! text and as a WebSocket frame) to bytes that decode to the same packet.
#![no_main]

use bytes::{Bytes, BytesMut};
use engineio_proto::{Frame, Packet, ProtocolVersion, Str};

fn check_round_trip(packet: &Packet, version: ProtocolVersion) {
    let expected = packet.clone();

    let text = packet.to_text(version);
    assert_eq!(text.len(), packet.text_len(version));
    let mut out = BytesMut::new();
    packet.encode_text_into(version, &mut out);
    assert_eq!(&out[..], text.as_bytes());
    let again = Packet::decode_text(text, version).expect("re-encoded text must decode");
    assert_eq!(again, expected);

    let frame = packet.to_frame(version);
    assert_eq!(
        matches!(frame, Frame::Binary(_)),
        matches!(packet, Packet::Binary(_))
    );
    let again = Packet::decode_frame(frame, version).expect("re-encoded frame must decode");
    assert_eq!(again, expected);
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    for version in [ProtocolVersion::V4, ProtocolVersion::V3] {
        if let Ok(packet) = Packet::decode_binary(Bytes::copy_from_slice(data), version) {
            check_round_trip(&packet, version);
        }
        if let Ok(text) = std::str::from_utf8(data) {
            if let Ok(packet) = Packet::decode_text(Str::from(text), version) {
                check_round_trip(&packet, version);
            }
        }
    }
});
