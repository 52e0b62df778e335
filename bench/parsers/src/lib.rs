//! Shared inputs of the parser benches, and the two sides under test.
//!
//! The benches in `benches/parsers.rs` run our Socket.IO parsers ([`ours`]) and socketioxide's
//! published parser crates ([`theirs`]) on the same [`Input`]s, in the same run. Both sides start
//! from the same wire messages (decode) or the same `serde_json::Value` arguments (encode), and
//! end at the same point; [`verify`] checks, once and outside the timed loops, that both sides
//! agree on every input so that a ratio compares like with like. See `docs/BENCHMARKS.md`.

use bytes::Bytes;
use serde_json::{Value, json};

pub mod ours;
pub mod theirs;
pub mod typed;

/// The two packet formats measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// The default text format (`socket.io-parser`): JSON, binary attachments as separate messages.
    Json,
    /// `socket.io-msgpack-parser`: the whole packet as one MessagePack binary message.
    Msgpack,
}

impl Format {
    /// Both formats, in table order.
    pub const ALL: [Format; 2] = [Format::Json, Format::Msgpack];

    /// Short name used in criterion group ids and in the report.
    pub fn id(self) -> &'static str {
        match self {
            Format::Json => "json",
            Format::Msgpack => "msgpack",
        }
    }
}

/// The two directions measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Wire messages in, event name and arguments out.
    Decode,
    /// Event name and arguments in, wire messages out.
    Encode,
}

impl Direction {
    /// Both directions, in table order.
    pub const ALL: [Direction; 2] = [Direction::Decode, Direction::Encode];

    /// Short name used in criterion group ids and in the report.
    pub fn id(self) -> &'static str {
        match self {
            Direction::Decode => "decode",
            Direction::Encode => "encode",
        }
    }
}

/// Name of the criterion function measuring our parser.
pub const OURS: &str = "ours";
/// Name of the extra decode function measuring our parser with `Validation::Full` (validate on
/// arrival, then build: two passes; not our default, shown apart in the report).
pub const OURS_FULL: &str = "ours_full";
/// Name of the criterion function measuring socketioxide's parser.
pub const THEIRS: &str = "socketioxide";

/// The criterion group id of one comparison, e.g. `json-decode-event_64B`. The group holds two
/// functions, [`OURS`] and [`THEIRS`]; the reporter finds them under
/// `<target>/criterion/<group>/<fn>/new/estimates.json`.
pub fn group_id(format: Format, direction: Direction, input: &str) -> String {
    format!("{}-{}-{}", format.id(), direction.id(), input)
}

/// The arguments of a packet.
#[derive(Debug, Clone, PartialEq)]
pub enum Args {
    /// Plain JSON arguments, decoded to and encoded from `serde_json::Value`s.
    Values(Vec<Value>),
    /// One JSON object and one binary attachment, decoded to and encoded from the typed pair
    /// `(serde_json::Value, bytes::Bytes)` (a `Value` cannot hold bytes).
    Binary(Value, Bytes),
}

/// One benchmark input: an EVENT or an ACK on the main namespace `/`.
#[derive(Debug, Clone)]
pub struct Input {
    /// Short id used in group ids, e.g. `event_64B`.
    pub id: &'static str,
    /// What the input is, for the report.
    pub label: &'static str,
    /// `Some(name)` for an EVENT, `None` for an ACK.
    pub event: Option<&'static str>,
    /// The ack id: requested by an EVENT, answered by an ACK (always `Some` for an ACK).
    pub ack_id: Option<u64>,
    /// The arguments (after the event name).
    pub args: Args,
}

/// What a decoder hands to the application: the event name (none for an ACK), the ack id, and
/// the arguments. Used to check that both sides agree; the timed loops return each side's own
/// types, whose construction and drop are part of the measurement.
#[derive(Debug, Clone, PartialEq)]
pub struct Decoded {
    /// The event name (`None` for an ACK).
    pub event: Option<String>,
    /// The ack id.
    pub ack_id: Option<u64>,
    /// The arguments.
    pub args: Args,
}

impl Decoded {
    /// Equality as JavaScript sees it: numbers compare by value, so an integral float written as
    /// an integer (notepack writes `3.0` as the integer `3`, since JavaScript has one number type)
    /// equals the float.
    pub fn js_eq(&self, other: &Decoded) -> bool {
        self.event == other.event
            && self.ack_id == other.ack_id
            && match (&self.args, &other.args) {
                (Args::Values(a), Args::Values(b)) => {
                    a.len() == b.len() && a.iter().zip(b).all(|(a, b)| js_eq(a, b))
                }
                (Args::Binary(a, x), Args::Binary(b, y)) => js_eq(a, b) && x == y,
                _ => false,
            }
    }
}

/// `a == b` as JavaScript values: numbers compare by value (see [`Decoded::js_eq`]).
pub fn js_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) if x.is_f64() || y.is_f64() => {
            x.as_f64() == y.as_f64()
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| js_eq(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, a)| y.get(k).is_some_and(|b| js_eq(a, b)))
        }
        _ => a == b,
    }
}

impl Input {
    /// What decoding this input must produce.
    pub fn expected(&self) -> Decoded {
        Decoded {
            event: self.event.map(str::to_owned),
            ack_id: self.ack_id,
            args: self.args.clone(),
        }
    }

    /// Whether the input carries a binary attachment (and is decoded into typed arguments).
    pub fn is_binary(&self) -> bool {
        matches!(self.args, Args::Binary(..))
    }

    /// Number of argument bytes in JSON (binary attachment length included), for the report.
    pub fn payload_len(&self) -> usize {
        match &self.args {
            Args::Values(v) => v.iter().map(|v| v.to_string().len()).sum(),
            Args::Binary(v, b) => v.to_string().len() + b.len(),
        }
    }
}

/// One message as Engine.IO delivers it to the Socket.IO layer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// A text message (the packet header and its JSON).
    Text(String),
    /// A binary message (an attachment, or a whole msgpack packet).
    Binary(Bytes),
}

/// The four inputs, in table order.
pub fn inputs() -> Vec<Input> {
    vec![
        Input {
            id: "event_64B",
            label: "EVENT \"message\", 64 B JSON",
            event: Some("message"),
            ack_id: None,
            args: Args::Values(vec![small_payload()]),
        },
        Input {
            id: "event_4KiB",
            label: "EVENT \"records\", 4 KiB JSON",
            event: Some("records"),
            ack_id: None,
            args: Args::Values(vec![large_payload()]),
        },
        Input {
            id: "binary_4KiB",
            label: "EVENT \"upload\", JSON + 4 KiB binary",
            event: Some("upload"),
            ack_id: None,
            args: Args::Binary(
                json!({"name": "photo.jpg", "type": "image/jpeg", "size": 4096}),
                binary_payload(),
            ),
        },
        Input {
            id: "ack_small",
            label: "ACK id 42, small JSON",
            event: None,
            ack_id: Some(42),
            args: Args::Values(vec![json!({"ok": true, "id": "b7f3c2", "count": 3})]),
        },
    ]
}

/// About 64 bytes of JSON: a chat message.
pub fn small_payload() -> Value {
    json!({"user": "alice", "text": "hello there, how are you?", "ts": 1_700_000_000_000_u64})
}

/// About 4 KiB of realistic JSON: a page of 20 records with every JSON type, escapes, non-ASCII
/// text and nested objects.
pub fn large_payload() -> Value {
    const CITIES: [(&str, f64, f64); 4] = [
        ("Zürich", 47.3769, 8.5417),
        ("São Paulo", -23.5505, -46.6333),
        ("東京", 35.6762, 139.6503),
        ("Kraków", 50.0647, 19.945),
    ];
    let records: Vec<Value> = (0..20_u32)
        .map(|i| {
            let (city, lat, lng) = CITIES[(i % 4) as usize];
            json!({
                "id": 10_000 + i,
                "name": format!("user-{i}"),
                "bio": format!("Line one\nsaid \"hi\" \\ café #{i}"),
                "score": f64::from(i) * 1.25 + 0.5,
                "active": i % 3 != 0,
                "manager": null,
                "tags": ["rust", "io"],
                "address": {"city": city, "geo": {"lat": lat, "lng": lng}},
            })
        })
        .collect();
    json!({
        "page": 3,
        "total": 1234,
        "cursor": "eyJvZmZzZXQiOjYwfQ==",
        "records": records,
    })
}

/// 4 KiB of binary data (every byte value, repeated).
pub fn binary_payload() -> Bytes {
    (0..4096_u32)
        .map(|i| (i % 251) as u8)
        .collect::<Vec<u8>>()
        .into()
}

/// The canonical wire messages of `input` in `format`: what a peer sends. They are produced by
/// socketioxide's encoder (outside any timed loop): for JSON what `JSON.stringify` writes, for
/// msgpack the same values as notepack writes, in another key order and with integral floats as
/// float64. [`verify`] checks that both decoders read them, and our encoding, to the same values.
pub fn wire(input: &Input, format: Format) -> Vec<Message> {
    theirs::encode(input, format)
}

/// Checks, once, that both sides agree on `input` in `format`, so that the comparison is honest:
///
/// * both decoders turn the canonical wire messages into the expected event name, ack id and
///   arguments (compared as JavaScript compares them, see [`Decoded::js_eq`]);
/// * both encoders turn the arguments into messages that both decoders read back as the expected
///   values (our bytes are also compared with socketioxide's, and the first difference is reported).
///
/// Returns a note when the wire bytes differ (a difference the benches may still accept, e.g.
/// key order), or an error describing the first disagreement.
pub fn verify(input: &Input, format: Format) -> Result<Option<String>, String> {
    let expected = input.expected();
    let wire = wire(input, format);

    let theirs_decoded = theirs::decode(&wire, format, input.is_binary())?;
    if !theirs_decoded.js_eq(&expected) {
        return Err(format!(
            "socketioxide decode of {} ({}) = {theirs_decoded:?}, expected {expected:?}",
            input.id,
            format.id()
        ));
    }
    for (who, decoded) in [
        ("our", ours::decode(&wire, format, input.is_binary())?),
        (
            "our full-validation",
            ours::decode_full(&wire, format, input.is_binary())?,
        ),
    ] {
        if !decoded.js_eq(&expected) {
            return Err(format!(
                "{who} decode of {} ({}) = {decoded:?}, expected {expected:?}",
                input.id,
                format.id()
            ));
        }
    }

    let ours_wire = ours::encode(input, format)?;
    for (who, decoded) in [
        (
            "socketioxide",
            theirs::decode(&ours_wire, format, input.is_binary())?,
        ),
        ("our", ours::decode(&ours_wire, format, input.is_binary())?),
    ] {
        if !decoded.js_eq(&expected) {
            return Err(format!(
                "{who} decode of our encoding of {} ({}) = {decoded:?}, expected {expected:?}",
                input.id,
                format.id()
            ));
        }
    }
    if ours_wire == wire {
        return Ok(None);
    }
    let bytes = |w: &[Message]| -> Vec<u8> {
        w.iter()
            .flat_map(|m| match m {
                Message::Text(t) => t.as_bytes().to_vec(),
                Message::Binary(b) => b.to_vec(),
            })
            .collect()
    };
    let (ours, theirs) = (bytes(&ours_wire), bytes(&wire));
    let first = ours.iter().zip(&theirs).position(|(a, b)| a != b);
    Ok(Some(format!(
        "{} ({}): our bytes differ from socketioxide's but decode equal on both sides \
         ({} vs {} bytes in {} vs {} messages, first difference at byte {})",
        input.id,
        format.id(),
        ours.len(),
        theirs.len(),
        ours_wire.len(),
        wire.len(),
        first.unwrap_or(ours.len().min(theirs.len())),
    )))
}

/// Name of the criterion function group prefix of the typed decode comparison: groups are
/// `<format>-decode_typed-<input>`, each with [`OURS`] and [`THEIRS`].
pub const DECODE_TYPED: &str = "decode_typed";

/// The criterion group id of one typed decode comparison, e.g. `json-decode_typed-event_64B`.
pub fn typed_group_id(format: Format, input: &str) -> String {
    format!("{}-{DECODE_TYPED}-{}", format.id(), input)
}

/// Checks, once, that both sides decode the canonical wire messages of `input` into EQUAL typed
/// structs (compared with `PartialEq`, the two results alive side by side), with the same event
/// name and ack id, and that those structs hold the expected values.
pub fn verify_typed(input: &Input, format: Format) -> Result<(), String> {
    with_typed!(input.id, T => verify_typed_as::<T>(input, format))
        .unwrap_or_else(|| Err(format!("no typed structs for input {}", input.id)))
}

fn verify_typed_as<T: typed::Typed>(input: &Input, format: Format) -> Result<(), String> {
    let wire = wire(input, format);
    let expected = input.expected();
    let mut decoder = ours::decoder(format);
    let ours_wire = ours::WireIn::new(&wire);
    let ctx = theirs::Ctx::default();
    let theirs_wire = theirs::WireIn::new(&wire);
    let what = format!("typed decode of {} ({})", input.id, format.id());
    ours::decode_typed_args::<T, _>(&mut decoder, &ours_wire, |name, id, args| {
        theirs::decode_typed_args::<T, _>(format, &ctx, &theirs_wire, |t_name, t_id, t_args| {
            if name != t_name || id.map(|id| id.get()) != t_id.and_then(|i| u64::try_from(i).ok()) {
                return Err(format!(
                    "{what}: name/id ours {name:?} {id:?}, socketioxide {t_name:?} {t_id:?}"
                ));
            }
            if !T::same(&args, &t_args) {
                return Err(format!("{what}: ours {args:?} != socketioxide {t_args:?}"));
            }
            let decoded = Decoded {
                event: name.map(str::to_owned),
                ack_id: id.map(|id| id.get()),
                args: T::to_args(&args)?,
            };
            if !decoded.js_eq(&expected) {
                return Err(format!("{what} = {decoded:?}, expected {expected:?}"));
            }
            Ok(())
        })?
    })?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payload_sizes_are_as_documented() {
        let inputs = inputs();
        let small = inputs[0].payload_len();
        assert!((56..=80).contains(&small), "small payload is {small} bytes");
        let large = inputs[1].payload_len();
        assert!(
            (3800..=4400).contains(&large),
            "large payload is {large} bytes"
        );
        let Args::Binary(_, bin) = &inputs[2].args else {
            panic!("input 2 must be binary");
        };
        assert_eq!(bin.len(), 4096);
    }

    #[test]
    fn socketioxide_round_trips_every_input() {
        for input in inputs() {
            for format in Format::ALL {
                let wire = wire(&input, format);
                assert_eq!(
                    theirs::decode(&wire, format, input.is_binary()),
                    Ok(input.expected()),
                    "{}",
                    input.id
                );
            }
        }
    }

    #[test]
    fn json_wire_is_what_socket_io_parser_writes() {
        let inputs = inputs();
        assert_eq!(
            wire(&inputs[0], Format::Json),
            vec![Message::Text(
                r#"2["message",{"text":"hello there, how are you?","ts":1700000000000,"user":"alice"}]"#
                    .to_owned()
            )]
        );
        assert_eq!(
            wire(&inputs[3], Format::Json),
            vec![Message::Text(
                r#"342[{"count":3,"id":"b7f3c2","ok":true}]"#.to_owned()
            )]
        );
        let binary = wire(&inputs[2], Format::Json);
        assert_eq!(
            binary.first(),
            Some(&Message::Text(
                r#"51-["upload",{"name":"photo.jpg","size":4096,"type":"image/jpeg"},{"_placeholder":true,"num":0}]"#
                    .to_owned()
            ))
        );
        assert_eq!(binary.get(1), Some(&Message::Binary(binary_payload())));
    }

    #[test]
    fn js_eq_compares_numbers_by_value_only() {
        assert!(js_eq(&json!([3, {"a": 1.0}]), &json!([3.0, {"a": 1}])));
        assert!(!js_eq(&json!(3), &json!(3.5)));
        assert!(!js_eq(&json!({"a": 1}), &json!({"b": 1})));
        assert!(!js_eq(&json!([1, 2]), &json!([1])));
        assert!(!js_eq(&json!("3"), &json!(3)));
    }

    #[test]
    fn both_sides_decode_equal_typed_structs() {
        for input in inputs() {
            for format in Format::ALL {
                if let Err(e) = verify_typed(&input, format) {
                    panic!("{e}");
                }
            }
        }
    }

    /// What the typed tables compare: where each side borrows strings from the message.
    #[test]
    fn typed_strings_borrow_where_each_deserializer_can() {
        use std::borrow::Cow;
        let borrowed = |c: &Cow<'_, str>| matches!(c, Cow::Borrowed(_));
        let chat = &inputs()[0];
        let page = &inputs()[1];
        for (format, theirs_borrow) in [(Format::Json, true), (Format::Msgpack, false)] {
            let w = wire(chat, format);
            let ours = ours::decode_typed_args::<typed::ChatEvent, _>(
                &mut ours::decoder(format),
                &ours::WireIn::new(&w),
                |_, _, a| borrowed(&a.user) && borrowed(&a.text),
            );
            assert_eq!(ours, Ok(true), "ours borrows ({})", format.id());
            let theirs = theirs::decode_typed_args::<typed::ChatEvent, _>(
                format,
                &theirs::Ctx::default(),
                &theirs::WireIn::new(&w),
                |_, _, a| borrowed(&a.user) && borrowed(&a.text),
            );
            assert_eq!(theirs, Ok(theirs_borrow), "socketioxide ({})", format.id());
            // An escaped JSON string is always copied; msgpack has no escapes.
            let w = wire(page, format);
            let ours = ours::decode_typed_args::<typed::PageEvent, _>(
                &mut ours::decoder(format),
                &ours::WireIn::new(&w),
                |_, _, a| {
                    a.records
                        .iter()
                        .map(|r| (borrowed(&r.name), borrowed(&r.bio)))
                        .collect::<Vec<_>>()
                },
            )
            .expect("decode");
            let json = format == Format::Json;
            assert!(ours.iter().all(|&(name, bio)| name && bio != json));
        }
    }

    #[test]
    fn both_sides_agree_on_every_input() {
        for input in inputs() {
            for format in Format::ALL {
                if let Err(e) = verify(&input, format) {
                    panic!("{e}");
                }
            }
        }
    }
}
