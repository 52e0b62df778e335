//! socketio-json against serde_json: arbitrary bytes must be accepted exactly when serde_json
//! accepts them, parse to equal values through every entry point (direct `Value` builder,
//! serde `Deserializer`, array helpers) and write back to serde_json's exact bytes.
#![no_main]

use bytes::Bytes;
use serde_json::Value;
use socketio_json::Limits;

/// serde_json's own recursion limit (it rejects 128 nested containers), in our terms.
const LIMITS: Limits = Limits { max_depth: 127 };

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let reference = serde_json::from_slice::<Value>(data).ok();

    // Accept/reject and values agree, on both our paths.
    let ours = socketio_json::value_from_slice(data, &LIMITS);
    assert_eq!(ours.as_ref().ok(), reference.as_ref(), "value_from_slice");
    assert_eq!(socketio_json::validate(data, &LIMITS).is_ok(), reference.is_some(), "validate");
    // `deserialize_any` turns placeholder objects into bytes, which `Value` refuses: compare
    // only inputs without them.
    if !data.windows(14).any(|w| w == b"\"_placeholder\"") {
        let de = socketio_json::from_slice::<Value>(data, &[], &LIMITS);
        assert_eq!(de.ok(), reference, "from_slice::<Value>");
    }

    // The array helpers.
    let items = match &reference {
        Some(Value::Array(items)) => Some(items),
        _ => None,
    };
    for skip in [0usize, 1, 2] {
        let values = socketio_json::values_from_array(data, skip, &LIMITS);
        let tail = socketio_json::from_array_tail::<Vec<Value>>(data, skip, &[], &LIMITS);
        match items {
            Some(items) => {
                let expected = items.get(skip..).unwrap_or_default();
                assert_eq!(values.as_deref().ok(), Some(expected), "values_from_array");
                if !data.windows(14).any(|w| w == b"\"_placeholder\"") {
                    // A sequence target takes all the remaining elements.
                    assert_eq!(tail.as_deref().ok(), Some(expected), "from_array_tail");
                }
            }
            None => {
                assert!(values.is_err(), "values_from_array accepted a non-array");
                assert!(tail.is_err(), "from_array_tail accepted a non-array");
            }
        }
    }
    match socketio_json::array_first_str(data) {
        Ok((name, at)) => {
            assert!(matches!(data.get(at), Some(b',' | b']')), "array_first_str offset");
            if let Some(Some(Value::String(s))) = items.map(|i| i.first()) {
                assert_eq!(&*name, s.as_str(), "array_first_str value");
            }
        }
        Err(_) => {
            // Only the prefix is read, so a reference failure says nothing; but a well-formed
            // array starting with a string must be read.
            assert!(
                !matches!(items.map(|i| i.first()), Some(Some(Value::String(_)))),
                "array_first_str refused a valid event name"
            );
        }
    }

    // Writing: the same bytes as serde_json, through both writers.
    if let Some(v) = &reference {
        let expected = serde_json::to_vec(v).expect("serde_json writes any Value");
        let mut out = Vec::new();
        socketio_json::write_value(&mut out, v);
        assert_eq!(out, expected, "write_value");
        let mut out = Vec::new();
        socketio_json::to_writer(&mut out, v, &mut Vec::new()).expect("Value serializes");
        assert_eq!(out, expected, "to_writer");

        // The packet encoders, whose text is not validated as UTF-8 again in release builds
        // (debug assertions, on in fuzz builds, still check it): the packet is the header and
        // serde_json's bytes of the argument.
        let want = format!("2[\"ev\",{}]", String::from_utf8_lossy(&expected));
        let direct = socketio_proto::Parser::Json
            .encode_event_values("/", "ev", std::slice::from_ref(v), None)
            .expect("a Value encodes");
        assert_eq!(direct.packet.as_bytes(), want.as_bytes(), "encode_event_values");
        let serde = socketio_proto::Parser::Json
            .encode_event("/", "ev", &(v,), None)
            .expect("a Value encodes");
        assert_eq!(serde.packet.as_bytes(), want.as_bytes(), "encode_event");
        let ack = socketio_proto::Parser::Json
            .encode_ack_values("/", socketio_proto::AckId::ZERO, std::slice::from_ref(v))
            .expect("a Value encodes");
        let want = format!("30[{}]", String::from_utf8_lossy(&expected));
        assert_eq!(ack.packet.as_bytes(), want.as_bytes(), "encode_ack_values");
    }

    // Binary placeholders and typed targets: anything may fail, nothing may panic.
    let attachments = [Bytes::from_static(b"\x00\x01"), Bytes::new()];
    let _ = socketio_json::from_slice::<Vec<Option<Bytes>>>(data, &attachments, &LIMITS);
    let _ = socketio_json::from_array_tail::<(String, Bytes)>(data, 1, &attachments, &LIMITS);
    let _ = socketio_json::from_array_tail::<Value>(data, 1, &attachments, &LIMITS);
    let _ = socketio_json::from_slice::<std::collections::HashMap<i64, bool>>(
        data,
        &attachments,
        &Limits::default(),
    );
});
