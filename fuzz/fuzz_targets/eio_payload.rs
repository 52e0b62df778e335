//! Engine.IO polling payload decoding: v4, v3 string and v3 binary (XHR2), with a small size
//! limit. Whatever decodes must re-encode to a payload that decodes to the same packets, and the
//! iterators must agree with the collecting decoders.
#![no_main]

use bytes::{Bytes, BytesMut};
use engineio_proto::payload;
use engineio_proto::{DecodeError, Packet};

const MAX: usize = 4096;

/// The collecting decoder's answer must be the iterator's packets up to its first error.
fn agree(
    collected: &Result<Vec<Packet>, DecodeError>,
    iterated: Result<impl Iterator<Item = Result<Packet, DecodeError>>, DecodeError>,
) {
    let iterated: Result<Vec<Packet>, DecodeError> = iterated.and_then(|packets| packets.collect());
    assert_eq!(collected, &iterated);
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let body = Bytes::copy_from_slice(data);

    let v4 = payload::decode_v4(body.clone(), MAX);
    agree(&v4, payload::iter_v4(body.clone(), MAX));
    if let Ok(packets) = &v4 {
        let mut out = BytesMut::new();
        payload::encode_v4(packets, &mut out);
        assert_eq!(out.len(), payload::encoded_len_v4(packets));
        let again = payload::decode_v4(out.freeze(), usize::MAX).expect("re-encoded v4 payload");
        assert_eq!(&again, packets);
    }

    let v3_string = payload::decode_v3_string(body.clone(), MAX);
    agree(&v3_string, payload::iter_v3_string(body.clone(), MAX));
    let v3_binary = payload::decode_v3_binary(body.clone(), MAX);
    agree(&v3_binary, payload::iter_v3_binary(body, MAX));
    for packets in [v3_string, v3_binary].iter().flatten() {
        let expected = packets.clone();
        let mut out = BytesMut::new();
        payload::encode_v3_string(packets, &mut out);
        assert_eq!(out.len(), payload::encoded_len_v3_string(packets));
        let again =
            payload::decode_v3_string(out.freeze(), usize::MAX).expect("re-encoded v3 string");
        assert_eq!(again, expected);

        let mut out = BytesMut::new();
        payload::encode_v3_binary(packets, &mut out);
        assert_eq!(out.len(), payload::encoded_len_v3_binary(packets));
        let again =
            payload::decode_v3_binary(out.freeze(), usize::MAX).expect("re-encoded v3 binary");
        assert_eq!(again, expected);
    }
});
