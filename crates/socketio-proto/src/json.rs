//! The default parser: Node's `socket.io-parser` text encoding
//! `<type>[<attachments>-][<nsp>,][<id>][<json>]`, with binary attachments sent as separate binary
//! messages after the text and referenced by `{"_placeholder":true,"num":N}`.

use std::borrow::Cow;

use bytes::Bytes;
use bytestring::ByteString;
use serde::Serialize;

use crate::args::{Args, Buf, JsonSink, RawValue, trim_json_ws};
use crate::decoder::Pending;
use crate::encode::{AckTemplate, Encoded, Message};
use crate::error::{DecodeError, EncodeError};
use crate::packet::{Ack, AckId, Event, EventName, MAIN_NAMESPACE, Packet, PacketData, PacketType};
use crate::{Limits, Parser, ProtocolVersion, Validation, ser};

// ---------------------------------------------------------------------------------------------
// Decoding
// ---------------------------------------------------------------------------------------------

/// Returns `s` as a slice of `text` when it points into it (zero-copy), a copy otherwise.
fn sub_str(text: &ByteString, s: &str) -> ByteString {
    let base = text.as_ptr() as usize;
    let p = s.as_ptr() as usize;
    if p >= base && p + s.len() <= base + text.len() {
        text.slice_ref(s)
    } else {
        ByteString::from(s)
    }
}

/// Where the slice `b` of `text` sits in it.
fn span_of(text: &ByteString, b: &[u8]) -> (usize, usize) {
    let start = (b.as_ptr() as usize).wrapping_sub(text.as_ptr() as usize);
    (start, start.wrapping_add(b.len()))
}

/// `b`, a slice of `text` between ASCII bytes, as a `str` (no UTF-8 check: only the two char
/// boundaries are looked at).
fn text_of<'a>(text: &'a ByteString, b: &[u8]) -> Result<&'a str, DecodeError> {
    let off = (b.as_ptr() as usize).wrapping_sub(text.as_ptr() as usize);
    text.get(off..off.wrapping_add(b.len())).ok_or_else(|| {
        DecodeError::Json(socketio_json::Error::Custom(
            "payload is not a slice of the message".to_owned(),
        ))
    })
}

fn sub_bytes(text: &ByteString, b: &[u8]) -> Bytes {
    let all = text.as_bytes();
    let base = all.as_ptr() as usize;
    let p = b.as_ptr() as usize;
    if p >= base && p + b.len() <= base + all.len() {
        all.slice_ref(b)
    } else {
        Bytes::copy_from_slice(b)
    }
}

/// Parses a text message: the packet, or `None` when it is a binary packet, then left in
/// `pending` (empty on entry) for the decoder to collect its attachments.
///
/// Returns what [`Decoder::decode_text`](crate::Decoder::decode_text) returns so that the packet
/// is written once, in the caller's place.
pub(crate) fn decode_text(
    text: ByteString,
    version: ProtocolVersion,
    limits: &Limits,
    validation: Validation,
    pending: &mut Option<Box<Pending>>,
) -> Result<Option<Packet>, DecodeError> {
    let size = text.len();
    let b = text.as_bytes().as_ref();
    let (&first, _) = b.split_first().ok_or(DecodeError::Empty)?;
    let ty = first
        .checked_sub(b'0')
        .and_then(PacketType::from_u8)
        .ok_or(DecodeError::UnknownType)?;
    let mut i = 1;

    let mut attachments = 0usize;
    if matches!(ty, PacketType::BinaryEvent | PacketType::BinaryAck) {
        let digits = b.get(i..).unwrap_or_default();
        let n_digits = digits.iter().take_while(|c| c.is_ascii_digit()).count();
        if n_digits == 0 || b.get(i + n_digits) != Some(&b'-') {
            return Err(DecodeError::InvalidAttachments);
        }
        for &d in digits.get(..n_digits).unwrap_or_default() {
            attachments = attachments
                .saturating_mul(10)
                .saturating_add(usize::from(d - b'0'));
        }
        if attachments == 0 {
            return Err(DecodeError::InvalidAttachments);
        }
        if attachments > limits.max_attachments {
            return Err(DecodeError::TooManyAttachments {
                max: limits.max_attachments,
            });
        }
        i += n_digits + 1;
    }

    // Namespace: from a '/' up to a ',' (consumed) or the end of the message.
    let nsp = if b.get(i) == Some(&b'/') {
        let rest = b.get(i..).unwrap_or_default();
        let comma = memchr::memchr(b',', rest);
        let len = comma.unwrap_or(rest.len());
        if len > limits.max_namespace_len {
            return Err(DecodeError::NamespaceTooLong {
                max: limits.max_namespace_len,
            });
        }
        // Both ends sit on ASCII bytes (or the end), hence on char boundaries.
        let s = text.get(i..i + len).ok_or(DecodeError::InvalidNamespace)?;
        let nsp = sub_str(&text, s);
        i += comma.map_or(len, |c| c + 1);
        nsp
    } else {
        ByteString::from_static(MAIN_NAMESPACE)
    };

    // Ack id: a run of ASCII digits.
    let mut id = None;
    let id_digits = b
        .get(i..)
        .unwrap_or_default()
        .iter()
        .take_while(|c| c.is_ascii_digit())
        .count();
    if id_digits > 0 {
        let mut n: u64 = 0;
        for &d in b.get(i..i + id_digits).unwrap_or_default() {
            n = n
                .checked_mul(10)
                .and_then(|n| n.checked_add(u64::from(d - b'0')))
                .filter(|&n| n <= AckId::MAX.get())
                .ok_or(DecodeError::InvalidAckId)?;
        }
        id = AckId::new(n);
        i += id_digits;
    }

    let payload = b.get(i..).unwrap_or_default();
    let json = trim_json_ws(payload);
    let jl = limits.json();
    let strict = validation == Validation::Full;
    let first_last = (json.first().copied(), json.last().copied());

    let data = match ty {
        PacketType::Connect => {
            if payload.is_empty() {
                PacketData::Connect(None)
            } else {
                if is_v4(version) || first_last != (Some(b'{'), Some(b'}')) {
                    return Err(DecodeError::InvalidPayload(ty));
                }
                if strict {
                    socketio_json::validate(json, &jl)?;
                }
                PacketData::Connect(Some(raw(&text, json, limits)))
            }
        }
        PacketType::Disconnect => {
            if !payload.is_empty() {
                return Err(DecodeError::InvalidPayload(ty));
            }
            PacketData::Disconnect
        }
        PacketType::ConnectError => {
            if payload.is_empty() {
                return Err(DecodeError::MissingPayload(ty));
            }
            // v5: a string or an object (Node's isPayloadValid); v4 servers sent any value, but a
            // number there can only follow whitespace (its digits would be read as an ack id), and
            // could not be written back unambiguously: refused.
            if (!is_v4(version)
                && first_last != (Some(b'{'), Some(b'}'))
                && first_last != (Some(b'"'), Some(b'"')))
                || json.first().is_some_and(u8::is_ascii_digit)
            {
                return Err(DecodeError::InvalidPayload(ty));
            }
            if strict || is_v4(version) {
                socketio_json::validate(json, &jl)?;
            }
            PacketData::ConnectError(raw(&text, json, limits))
        }
        PacketType::Event | PacketType::BinaryEvent => {
            let array = array_payload(ty, payload, json, strict, &jl)?;
            let (start, end) = span_of(&text, array);
            let (name, rest) = match plain_name(b, start) {
                Some((name_start, name_end, at)) => {
                    if crate::packet::is_reserved_event_bytes(
                        b.get(name_start..name_end).unwrap_or_default(),
                    ) {
                        return Err(DecodeError::ReservedEventName(ByteString::from(
                            text.get(name_start..name_end).unwrap_or_default(),
                        )));
                    }
                    // Both ends sit next to a `"`, hence on char boundaries.
                    (name_span(&text, name_start, name_end), at - start)
                }
                None => event_name(&text, array)?,
            };
            // Returned from the arm rather than merged with the others after the match, which
            // would build the packet data first and copy it into the packet.
            let max_depth = limits.max_depth;
            return finish_decode(
                move || Packet {
                    nsp,
                    data: PacketData::Event(Event {
                        name,
                        args: Args::json(Buf::text(text, start, end), 1, rest, max_depth),
                        ack: id,
                    }),
                },
                attachments,
                size,
                pending,
            );
        }
        PacketType::Ack | PacketType::BinaryAck => {
            let id = id.ok_or(DecodeError::MissingAckId)?;
            let array = array_payload(ty, payload, json, strict, &jl)?;
            let (start, end) = span_of(&text, array);
            let max_depth = limits.max_depth;
            return finish_decode(
                move || Packet {
                    nsp,
                    data: PacketData::Ack(Ack {
                        id,
                        args: Args::json(Buf::text(text, start, end), 0, 1, max_depth),
                    }),
                },
                attachments,
                size,
                pending,
            );
        }
    };
    finish_decode(move || Packet { nsp, data }, attachments, size, pending)
}

/// The packet `make` builds, or `None` after leaving it in `pending` when it is a binary packet
/// (`attachments` announced, from a text message of `size` bytes).
///
/// A closure rather than a packet: built in one branch or the other, the packet is written
/// straight into the return value, where a packet value built first was then copied whole.
#[inline(always)]
fn finish_decode(
    make: impl FnOnce() -> Packet,
    attachments: usize,
    size: usize,
    pending: &mut Option<Box<Pending>>,
) -> Result<Option<Packet>, DecodeError> {
    if attachments != 0 {
        *pending = Some(Pending::new(make(), attachments, size));
        return Ok(None);
    }
    Ok(Some(make()))
}

/// The event name of the array starting at `b[open]` (a `[`) when it is written plainly, as
/// nearly every one is: `"`, no escape or control byte, `"`, then whitespace and a `,` or `]`.
/// Returns where the name's text starts and ends and where that `,` or `]` is, all in `b`.
/// `None` sends the name to the general reader, which also makes the errors.
#[inline(always)]
fn plain_name(b: &[u8], open: usize) -> Option<(usize, usize, usize)> {
    // Whitespace around the name is rare: looked for only when the next byte is not the one
    // expected.
    let mut i = open + 1;
    if b.get(i) != Some(&b'"') {
        i = skip_json_ws(b, i);
        if b.get(i) != Some(&b'"') {
            return None;
        }
    }
    let start = i + 1;
    // A scan past the array's end meets only the whitespace after it (control bytes: it stops).
    let end = socketio_json::find_string_special(b, start);
    if b.get(end) != Some(&b'"') {
        return None;
    }
    let mut at = end + 1;
    if !matches!(b.get(at), Some(b',' | b']')) {
        at = skip_json_ws(b, at);
        if !matches!(b.get(at), Some(b',' | b']')) {
            return None;
        }
    }
    Some((start, end, at))
}

/// The index of the first byte at or after `i` that is not JSON whitespace (or `b.len()`).
#[cold]
fn skip_json_ws(b: &[u8], mut i: usize) -> usize {
    while let Some(b' ' | b'\t' | b'\n' | b'\r') = b.get(i) {
        i += 1;
    }
    i
}

/// The name at `text[start..end]` (both on char boundaries), kept as a span of the text the
/// arguments hold: no reference count of its own. Offsets past `u32::MAX` (a message that
/// large is far beyond any limit in use) make it a slice of its own instead of truncating.
#[inline(always)]
fn name_span(text: &ByteString, start: usize, end: usize) -> EventName {
    match (u32::try_from(start), u32::try_from(end)) {
        (Ok(start), Ok(end)) => EventName::InArgs { start, end },
        _ => EventName::Owned(sub_str(text, text.get(start..end).unwrap_or_default())),
    }
}

/// The event name of `array` (a slice of `text`) by the general reader: an escaped name, or the
/// error for a missing, non-string or malformed one. Returns the name and where the `,` or `]`
/// after it is in `array`.
#[cold]
fn event_name(text: &ByteString, array: &[u8]) -> Result<(EventName, usize), DecodeError> {
    let after_bracket = trim_json_ws(array.get(1..).unwrap_or_default());
    match after_bracket.first() {
        Some(b']') => return Err(DecodeError::MissingEventName),
        Some(b'"') => {}
        _ => return Err(DecodeError::EventNameNotString),
    }
    let array = text_of(text, array)?;
    let (name, rest) = socketio_json::array_first_str_of_str(array)?;
    if crate::packet::is_reserved_event(&name) {
        return Err(DecodeError::ReservedEventName(ByteString::from(
            name.as_ref(),
        )));
    }
    let name = match name {
        Cow::Borrowed(s) => {
            let (start, end) = span_of(text, s.as_bytes());
            name_span(text, start, end)
        }
        Cow::Owned(s) => EventName::Owned(ByteString::from(s)),
    };
    Ok((name, rest))
}

fn is_v4(version: ProtocolVersion) -> bool {
    match version {
        ProtocolVersion::V5 => false,
        #[cfg(feature = "v4")]
        ProtocolVersion::V4 => true,
    }
}

fn raw(text: &ByteString, json: &[u8], limits: &Limits) -> RawValue {
    RawValue {
        parser: Parser::Json,
        bytes: sub_bytes(text, json),
        max_depth: limits.max_depth,
    }
}

fn array_payload<'a>(
    ty: PacketType,
    payload: &[u8],
    json: &'a [u8],
    strict: bool,
    jl: &socketio_json::Limits,
) -> Result<&'a [u8], DecodeError> {
    if payload.is_empty() {
        return Err(DecodeError::MissingPayload(ty));
    }
    if json.first() != Some(&b'[') || json.last() != Some(&b']') {
        return Err(DecodeError::InvalidPayload(ty));
    }
    if strict {
        socketio_json::validate(json, jl)?;
    }
    Ok(json)
}

/// Checks, as Node's `reconstructPacket` does, that every `{"_placeholder":true,...}` object names
/// a received attachment (`num` an integer in `0..attachments`).
///
/// One serde walk over the text that builds nothing: placeholders whose first key is
/// `_placeholder` are resolved by `socketio_json` itself (an invalid `num` is its error), others
/// are checked by [`Walk`]. The walk is never more lenient than the exact rule, only stricter
/// with duplicate keys (it looks at every duplicate); whenever it does not say yes, the exact
/// rule on built values decides.
pub(crate) fn check_placeholders(args: &Args) -> Result<(), DecodeError> {
    let fast = socketio_json::from_slice_seed(
        &args.array,
        &args.attachments,
        &args.json_limits(),
        Walk(args.attachments.len()),
    );
    if let Ok(Node { ok: true, .. }) = fast {
        return Ok(());
    }
    check_placeholders_exact(args)
}

/// What [`Walk`] learns about one value.
struct Node {
    /// No bad placeholder inside.
    ok: bool,
    /// `true` (for a `_placeholder` key's value).
    is_true: bool,
    /// The number (for a `num` key's value).
    num: Option<f64>,
}

impl Node {
    const PLAIN: Node = Node {
        ok: true,
        is_true: false,
        num: None,
    };
}

/// Walks one value, checking placeholders against `self.0` attachments.
#[derive(Clone, Copy)]
struct Walk(usize);

impl<'de> serde::de::DeserializeSeed<'de> for Walk {
    type Value = Node;
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Node, D::Error> {
        d.deserialize_any(self)
    }
}

/// Classifies an object key without copying it.
struct KeyKind;

#[derive(PartialEq)]
enum Key {
    Placeholder,
    Num,
    Other,
}

impl<'de> serde::de::DeserializeSeed<'de> for KeyKind {
    type Value = Key;
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Key, D::Error> {
        d.deserialize_str(self)
    }
}

impl serde::de::Visitor<'_> for KeyKind {
    type Value = Key;
    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("an object key")
    }
    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Key, E> {
        Ok(match v {
            "_placeholder" => Key::Placeholder,
            "num" => Key::Num,
            _ => Key::Other,
        })
    }
}

impl<'de> serde::de::Visitor<'de> for Walk {
    type Value = Node;
    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<Node, E> {
        Ok(Node {
            is_true: v,
            ..Node::PLAIN
        })
    }
    fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Node, E> {
        Ok(Node {
            num: Some(v as f64),
            ..Node::PLAIN
        })
    }
    fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Node, E> {
        Ok(Node {
            num: Some(v as f64),
            ..Node::PLAIN
        })
    }
    fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Node, E> {
        Ok(Node {
            num: Some(v),
            ..Node::PLAIN
        })
    }
    fn visit_str<E: serde::de::Error>(self, _: &str) -> Result<Node, E> {
        Ok(Node::PLAIN)
    }
    fn visit_bytes<E: serde::de::Error>(self, _: &[u8]) -> Result<Node, E> {
        // A placeholder socketio_json resolved: it names a received attachment.
        Ok(Node::PLAIN)
    }
    fn visit_unit<E: serde::de::Error>(self) -> Result<Node, E> {
        Ok(Node::PLAIN)
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
        let mut ok = true;
        while let Some(node) = seq.next_element_seed(self)? {
            ok &= node.ok;
        }
        Ok(Node { ok, ..Node::PLAIN })
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
        let (mut children_ok, mut placeholder, mut num) = (true, false, None);
        while let Some(key) = map.next_key_seed(KeyKind)? {
            let node = map.next_value_seed(self)?;
            children_ok &= node.ok;
            match key {
                Key::Placeholder => placeholder = node.is_true,
                Key::Num => num = node.num,
                Key::Other => {}
            }
        }
        // Node: `typeof num === "number" && num >= 0 && num < buffers.length`; we also want an
        // integer (`0.0` is one in JS, `0.5` would read `undefined`).
        let ok = if placeholder {
            num.is_some_and(|num| num >= 0.0 && num.fract() == 0.0 && num < self.0 as f64)
        } else {
            children_ok
        };
        Ok(Node { ok, ..Node::PLAIN })
    }
}

/// The exact rule, on values built from the whole array (the slow path).
#[cold]
fn check_placeholders_exact(args: &Args) -> Result<(), DecodeError> {
    fn walk(v: &serde_json::Value, n: usize) -> bool {
        match v {
            serde_json::Value::Array(a) => a.iter().all(|v| walk(v, n)),
            serde_json::Value::Object(o) => {
                if o.get("_placeholder") == Some(&serde_json::Value::Bool(true)) {
                    o.get("num")
                        .and_then(serde_json::Value::as_f64)
                        .is_some_and(|num| num >= 0.0 && num.fract() == 0.0 && num < n as f64)
                } else {
                    o.values().all(|v| walk(v, n))
                }
            }
            _ => true,
        }
    }
    // The name (if any) is a string; walk the whole array.
    let values = socketio_json::values_from_array(&args.array, 0, &args.json_limits())?;
    if values.iter().all(|v| walk(v, args.attachments.len())) {
        Ok(())
    } else {
        Err(DecodeError::InvalidPlaceholder)
    }
}

// ---------------------------------------------------------------------------------------------
// Encoding
// ---------------------------------------------------------------------------------------------

/// Writes `s` as a JSON string, escaping exactly what `JSON.stringify` escapes.
pub(crate) fn write_str(out: &mut Vec<u8>, s: &str) {
    out.reserve(s.len() + 2);
    out.push(b'"');
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, &c) in bytes.iter().enumerate() {
        let esc: &[u8] = match c {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0x08 => b"\\b",
            0x0c => b"\\f",
            0..=0x1f => b"",
            _ => continue,
        };
        out.extend_from_slice(bytes.get(start..i).unwrap_or_default());
        if esc.is_empty() {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            out.extend_from_slice(b"\\u00");
            out.push(HEX[usize::from(c >> 4)]);
            out.push(HEX[usize::from(c & 0xf)]);
        } else {
            out.extend_from_slice(esc);
        }
        start = i + 1;
    }
    out.extend_from_slice(bytes.get(start..).unwrap_or_default());
    out.push(b'"');
}

/// Node's encoder refuses a `,` in a namespace because it ends the namespace in this text format.
pub(crate) fn check_nsp(nsp: &str) -> Result<(), EncodeError> {
    if !nsp.starts_with('/') || nsp.contains(',') {
        return Err(EncodeError::InvalidNamespace(nsp.to_owned()));
    }
    Ok(())
}

pub(crate) fn check_event(name: &str) -> Result<(), EncodeError> {
    if crate::packet::is_reserved_event(name) {
        return Err(EncodeError::ReservedEventName(name.to_owned()));
    }
    Ok(())
}

/// A payload right after the header must not start with a digit: it would be read as an ack id
/// (Node's encoder has the same ambiguity, e.g. a v4 `ERROR` whose data is a number).
fn check_payload_start(payload: &[u8]) -> Result<(), EncodeError> {
    if payload.first().is_some_and(u8::is_ascii_digit) {
        return Err(EncodeError::Json(
            <socketio_json::Error as serde::ser::Error>::custom(
                "a CONNECT or CONNECT_ERROR payload cannot be a number",
            ),
        ));
    }
    Ok(())
}

fn header_len(nsp: &str) -> usize {
    // type + attachments + '-' + nsp + ',' + id
    1 + 3 + nsp.len() + 1 + 16
}

/// `<type>[<n>-][<nsp>,]` — everything before the ack id.
fn write_head(out: &mut Vec<u8>, ty: PacketType, attachments: usize, nsp: &str) {
    out.push(ty.digit());
    if attachments > 0 {
        out.extend_from_slice(itoa::Buffer::new().format(attachments).as_bytes());
        out.push(b'-');
    }
    if nsp != MAIN_NAMESPACE {
        out.extend_from_slice(nsp.as_bytes());
        out.push(b',');
    }
}

fn write_id(out: &mut Vec<u8>, id: Option<AckId>) {
    if let Some(id) = id {
        out.extend_from_slice(itoa::Buffer::new().format(id.get()).as_bytes());
    }
}

/// Turns a non-binary event/ack written with type digit `plain` into its binary form now that the
/// attachments are known: `2...` becomes `5<n>-...`. Binary packets are rare; one shift of the
/// text is cheaper than serializing twice.
fn make_binary(out: &mut Vec<u8>, binary: PacketType, attachments: usize) {
    if attachments == 0 {
        return;
    }
    if let Some(first) = out.first_mut() {
        *first = binary.digit();
    }
    let mut n = itoa::Buffer::new();
    let digits = n.format(attachments).as_bytes();
    out.splice(1..1, digits.iter().copied().chain([b'-']));
}

pub(crate) fn text(out: Vec<u8>) -> Result<ByteString, EncodeError> {
    ByteString::try_from(out).map_err(|_| {
        EncodeError::Json(<socketio_json::Error as serde::ser::Error>::custom(
            "encoder produced invalid UTF-8",
        ))
    })
}

fn finish(out: Vec<u8>, attachments: Vec<Bytes>) -> Result<Encoded, EncodeError> {
    Ok(Encoded {
        packet: Message::Text(text(out)?),
        attachments,
    })
}

/// The text of a packet whose every byte was written by this crate's and `socketio_json`'s
/// writers from `&str`s, ASCII literals and ASCII digits, so it is UTF-8 by construction; unlike
/// [`text`] it is not validated again (that check was 8% of a 4 KiB event's encode).
///
/// Only for buffers that never received bytes from anywhere else: the encoders of events and
/// acks from serializable or `serde_json::Value` arguments. Raw payloads (forwarded arguments,
/// `RawValue`s, templates) go through [`text`].
#[expect(
    unsafe_code,
    reason = "the one audited exception (docs/DESIGN.md, \"Unsafe code\"): skips re-validating \
              text that is UTF-8 by construction"
)]
fn written_text(out: Vec<u8>) -> ByteString {
    // Tests, the property tests and the fuzz targets run with debug assertions: a writer that
    // ever breaks the invariant fails there.
    debug_assert!(
        std::str::from_utf8(&out).is_ok(),
        "an encoder wrote invalid UTF-8: {out:?}"
    );
    // SAFETY: `out` was written only by `write_head` (ASCII digits, `-`, `,` and the namespace,
    // a `&str`), `write_id` (ASCII digits), `write_str` and `socketio_json`'s writers and
    // serializer (whole `&str`s or `&str` pieces cut at ASCII bytes, escapes and numbers in
    // ASCII, word stores truncated back to the end of such a piece) and `make_binary` (ASCII
    // digits inserted before the first byte). Callers are the four functions below that build
    // their buffer from nothing but these.
    unsafe { ByteString::from_bytes_unchecked(Bytes::from(out)) }
}

/// [`finish`] for a buffer that holds only what our writers wrote (see [`written_text`]).
fn finish_written(out: Vec<u8>, attachments: Vec<Bytes>) -> Encoded {
    Encoded {
        packet: Message::Text(written_text(out)),
        attachments,
    }
}

/// `["event",args...]` with the args written straight from `args`.
fn write_event_array<T: ?Sized + Serialize>(
    out: &mut Vec<u8>,
    event: &str,
    args: &T,
    attachments: &mut Vec<Bytes>,
) -> Result<(), EncodeError> {
    out.push(b'[');
    write_str(out, event);
    ser::write_args(
        args,
        ser::shape(args),
        &mut JsonSink {
            out,
            attachments,
            first: false,
        },
    )?;
    out.push(b']');
    Ok(())
}

pub(crate) fn encode_event<T: ?Sized + Serialize>(
    nsp: &str,
    event: &str,
    args: &T,
    ack: Option<AckId>,
) -> Result<Encoded, EncodeError> {
    check_nsp(nsp)?;
    check_event(event)?;
    let mut out = Vec::with_capacity(header_len(nsp) + event.len() + 128);
    write_head(&mut out, PacketType::Event, 0, nsp);
    write_id(&mut out, ack);
    let mut attachments = Vec::new();
    write_event_array(&mut out, event, args, &mut attachments)?;
    make_binary(&mut out, PacketType::BinaryEvent, attachments.len());
    Ok(finish_written(out, attachments))
}

/// [`encode_event`] for `serde_json::Value` arguments, through `socketio_json`'s direct writer
/// (a `Value` holds no bytes, so there are never attachments).
pub(crate) fn encode_event_values(
    nsp: &str,
    event: &str,
    args: &[serde_json::Value],
    ack: Option<AckId>,
) -> Result<Encoded, EncodeError> {
    check_nsp(nsp)?;
    check_event(event)?;
    let mut out = Vec::with_capacity(header_len(nsp) + event.len() + 128);
    write_head(&mut out, PacketType::Event, 0, nsp);
    write_id(&mut out, ack);
    out.push(b'[');
    write_str(&mut out, event);
    socketio_json::write_values(&mut out, args);
    out.push(b']');
    Ok(finish_written(out, Vec::new()))
}

/// [`encode_ack`] for `serde_json::Value` arguments (see [`encode_event_values`]).
pub(crate) fn encode_ack_values(
    nsp: &str,
    id: AckId,
    args: &[serde_json::Value],
) -> Result<Encoded, EncodeError> {
    check_nsp(nsp)?;
    let mut out = Vec::with_capacity(header_len(nsp) + 128);
    write_head(&mut out, PacketType::Ack, 0, nsp);
    write_id(&mut out, Some(id));
    out.push(b'[');
    if let Some((first, rest)) = args.split_first() {
        socketio_json::write_value(&mut out, first);
        socketio_json::write_values(&mut out, rest);
    }
    out.push(b']');
    Ok(finish_written(out, Vec::new()))
}

pub(crate) fn encode_ack<T: ?Sized + Serialize>(
    nsp: &str,
    id: AckId,
    args: &T,
) -> Result<Encoded, EncodeError> {
    check_nsp(nsp)?;
    let mut out = Vec::with_capacity(header_len(nsp) + 128);
    write_head(&mut out, PacketType::Ack, 0, nsp);
    write_id(&mut out, Some(id));
    let mut attachments = Vec::new();
    out.push(b'[');
    ser::write_args(
        args,
        ser::shape(args),
        &mut JsonSink {
            out: &mut out,
            attachments: &mut attachments,
            first: true,
        },
    )?;
    out.push(b']');
    make_binary(&mut out, PacketType::BinaryAck, attachments.len());
    Ok(finish_written(out, attachments))
}

pub(crate) fn event_template<T: ?Sized + Serialize>(
    nsp: &str,
    event: &str,
    args: &T,
) -> Result<AckTemplate, EncodeError> {
    check_nsp(nsp)?;
    check_event(event)?;
    let mut out = Vec::with_capacity(header_len(nsp) + event.len() + 128);
    write_head(&mut out, PacketType::Event, 0, nsp);
    let mut split = out.len();
    let mut attachments = Vec::new();
    write_event_array(&mut out, event, args, &mut attachments)?;
    let before = out.len();
    make_binary(&mut out, PacketType::BinaryEvent, attachments.len());
    split += out.len() - before;
    Ok(AckTemplate {
        parser: Parser::Json,
        buf: Bytes::from(out),
        split,
        attachments,
    })
}

pub(crate) fn encode_connect_ok(
    nsp: &str,
    sid: &str,
    pid: Option<&str>,
) -> Result<Encoded, EncodeError> {
    check_nsp(nsp)?;
    let mut out = Vec::with_capacity(header_len(nsp) + 24 + sid.len() + pid.map_or(0, str::len));
    write_head(&mut out, PacketType::Connect, 0, nsp);
    out.extend_from_slice(b"{\"sid\":");
    write_str(&mut out, sid);
    if let Some(pid) = pid {
        out.extend_from_slice(b",\"pid\":");
        write_str(&mut out, pid);
    }
    out.push(b'}');
    finish(out, Vec::new())
}

/// `CONNECT`, `DISCONNECT` or `CONNECT_ERROR` with an optional payload written by serde.
pub(crate) fn encode_simple<T: ?Sized + Serialize>(
    ty: PacketType,
    nsp: &str,
    data: Option<&T>,
) -> Result<Encoded, EncodeError> {
    check_nsp(nsp)?;
    let mut out = Vec::with_capacity(header_len(nsp) + 32);
    write_head(&mut out, ty, 0, nsp);
    if let Some(data) = data {
        let mut attachments = Vec::new();
        let start = out.len();
        socketio_json::to_writer(&mut out, data, &mut attachments)?;
        check_payload_start(out.get(start..).unwrap_or_default())?;
        if !attachments.is_empty() {
            return Err(EncodeError::Json(
                <socketio_json::Error as serde::ser::Error>::custom(
                    "binary data is only allowed in event and ack arguments",
                ),
            ));
        }
    }
    finish(out, Vec::new())
}

/// An event whose arguments are raw (e.g. received ones being forwarded): their bytes are copied.
pub(crate) fn encode_event_args(
    nsp: &str,
    event: &str,
    args: &Args,
    ack: Option<AckId>,
) -> Result<Encoded, EncodeError> {
    check_nsp(nsp)?;
    check_event(event)?;
    args.check_parser(Parser::Json)?;
    let elements = args.json_elements();
    let attachments = args.attachments();
    let ty = if attachments.is_empty() {
        PacketType::Event
    } else {
        PacketType::BinaryEvent
    };
    let mut out = Vec::with_capacity(header_len(nsp) + event.len() + elements.len() + 8);
    write_head(&mut out, ty, attachments.len(), nsp);
    write_id(&mut out, ack);
    out.push(b'[');
    write_str(&mut out, event);
    if !trim_json_ws(elements).is_empty() {
        out.push(b',');
        out.extend_from_slice(elements);
    }
    out.push(b']');
    finish(out, attachments.to_vec())
}

/// Encodes a packet value, copying its raw payload bytes.
pub(crate) fn encode_packet(packet: &Packet) -> Result<Encoded, EncodeError> {
    let nsp: &str = &packet.nsp;
    check_nsp(nsp)?;
    let ty = packet.packet_type();
    let attachments = packet.attachments();
    let mut out;
    match &packet.data {
        PacketData::Connect(v) => {
            let len = v.as_ref().map_or(0, |v| v.bytes.len());
            out = Vec::with_capacity(header_len(nsp) + len);
            write_head(&mut out, ty, 0, nsp);
            if let Some(v) = v {
                v.check_parser(Parser::Json)?;
                check_payload_start(&v.bytes)?;
                out.extend_from_slice(&v.bytes);
            }
        }
        PacketData::ConnectError(v) => {
            v.check_parser(Parser::Json)?;
            check_payload_start(&v.bytes)?;
            out = Vec::with_capacity(header_len(nsp) + v.bytes.len());
            write_head(&mut out, ty, 0, nsp);
            out.extend_from_slice(&v.bytes);
        }
        PacketData::Disconnect => {
            out = Vec::with_capacity(header_len(nsp));
            write_head(&mut out, ty, 0, nsp);
        }
        PacketData::Event(e) => return encode_event_args(nsp, e.name(), &e.args, e.ack),
        PacketData::Ack(a) => {
            a.args.check_parser(Parser::Json)?;
            let elements = a.args.json_elements();
            out = Vec::with_capacity(header_len(nsp) + elements.len() + 2);
            write_head(&mut out, ty, attachments.len(), nsp);
            write_id(&mut out, Some(a.id));
            out.push(b'[');
            out.extend_from_slice(elements);
            out.push(b']');
        }
    }
    finish(out, attachments.to_vec())
}

impl RawValue {
    pub(crate) fn check_parser(&self, want: Parser) -> Result<(), EncodeError> {
        if self.parser == want {
            Ok(())
        } else {
            Err(EncodeError::ParserMismatch {
                have: self.parser,
                want,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Decoder, ProtocolVersion::V5};

    fn dec(s: &str) -> Result<Option<Packet>, DecodeError> {
        Decoder::new(Parser::Json, V5, Limits::default())
            .with_validation(Validation::Full)
            .decode_text(s.into())
    }

    fn lazy(s: &str) -> Result<Option<Packet>, DecodeError> {
        Decoder::new(Parser::Json, V5, Limits::default())
            .with_validation(Validation::Lazy)
            .decode_text(s.into())
    }

    fn event(p: &Packet) -> &Event {
        match &p.data {
            PacketData::Event(e) => e,
            other => panic!("{other:?}"),
        }
    }

    use DecodeError as E;
    use PacketType as T;

    #[test]
    fn packet_type() {
        assert_eq!(dec("").unwrap_err(), E::Empty);
        for s in ["7", "x", "/", "9[]", "-1", " 2[\"a\"]"] {
            assert_eq!(dec(s).unwrap_err(), E::UnknownType, "{s}");
        }
    }

    #[test]
    fn attachment_count() {
        for s in [
            "5",
            "5[\"a\"]",
            "5-[\"a\"]",
            "50-[\"a\"]",
            "5x-[\"a\"]",
            "51[\"a\"]",
            "51",
            "5 1-[]",
        ] {
            assert_eq!(dec(s).unwrap_err(), E::InvalidAttachments, "{s}");
        }
        assert_eq!(
            dec("511-[\"a\"]").unwrap_err(),
            E::TooManyAttachments { max: 10 }
        );
        assert_eq!(
            dec("5999999999999999999999999999999-[\"a\"]").unwrap_err(),
            E::TooManyAttachments { max: 10 }
        );
        // Exactly at the limit: accepted, attachments awaited.
        assert_eq!(dec("510-[\"a\"]").unwrap(), None);
        assert_eq!(dec("601-1[]").unwrap(), None);
    }

    #[test]
    fn namespace() {
        let p = dec("2/ü-ñ,[\"a\"]").unwrap().unwrap();
        assert_eq!(&*p.nsp, "/ü-ñ");
        // Zero-copy: the namespace and the event name point into the message.
        let text: ByteString = "2/chat,[\"msg\"]".into();
        let p = Decoder::new(Parser::Json, V5, Limits::default())
            .decode_text(text.clone())
            .unwrap()
            .unwrap();
        let range = text.as_ptr() as usize..text.as_ptr() as usize + text.len();
        assert!(range.contains(&(p.nsp.as_ptr() as usize)));
        assert!(range.contains(&(event(&p).name().as_ptr() as usize)));
        // No leading '/': main namespace, and what follows must be an id or the payload.
        assert_eq!(
            dec("2admin,[\"a\"]").unwrap_err(),
            E::InvalidPayload(T::Event)
        );
        // Length limit.
        let limits = Limits {
            max_namespace_len: 6,
            ..Limits::default()
        };
        let mut d = Decoder::new(Parser::Json, V5, limits);
        assert!(d.decode_text("2/admin,[\"a\"]".into()).is_ok());
        assert_eq!(
            d.decode_text("2/admin2,[\"a\"]".into()).unwrap_err(),
            E::NamespaceTooLong { max: 6 }
        );
        assert_eq!(
            d.decode_text("0/admin2".into()).unwrap_err(),
            E::NamespaceTooLong { max: 6 }
        );
    }

    #[test]
    fn ack_id() {
        let p = dec("29007199254740991[\"a\"]").unwrap().unwrap();
        assert_eq!(event(&p).ack, Some(AckId::MAX));
        let p = dec("2012[\"a\"]").unwrap().unwrap();
        assert_eq!(event(&p).ack.map(AckId::get), Some(12));
        let p = dec("20[\"a\"]").unwrap().unwrap();
        assert_eq!(event(&p).ack, Some(AckId::ZERO));
        for s in [
            "29007199254740992[\"a\"]",
            "299999999999999999999999999[\"a\"]",
            "3/a,18446744073709551616[]",
        ] {
            assert_eq!(dec(s).unwrap_err(), E::InvalidAckId, "{s}");
        }
        assert_eq!(dec("3[]").unwrap_err(), E::MissingAckId);
        assert_eq!(dec("3/a,[]").unwrap_err(), E::MissingAckId);
        // Ids on packet types that have none are read and dropped, as Node ignores them.
        assert_eq!(dec("07").unwrap().unwrap().data, PacketData::Connect(None));
    }

    #[test]
    fn payload_shapes() {
        assert_eq!(dec("2").unwrap_err(), E::MissingPayload(T::Event));
        assert_eq!(dec("2/a,").unwrap_err(), E::MissingPayload(T::Event));
        assert_eq!(dec("31").unwrap_err(), E::MissingPayload(T::Ack));
        assert_eq!(dec("4").unwrap_err(), E::MissingPayload(T::ConnectError));
        assert_eq!(dec("2[]").unwrap_err(), E::MissingEventName);
        assert_eq!(dec("2[ ]").unwrap_err(), E::MissingEventName);
        assert_eq!(dec("2[1]").unwrap_err(), E::EventNameNotString);
        assert_eq!(dec("2[null,1]").unwrap_err(), E::EventNameNotString);
        assert_eq!(dec("2[[\"a\"]]").unwrap_err(), E::EventNameNotString);
        assert_eq!(dec("2{\"a\":1}").unwrap_err(), E::InvalidPayload(T::Event));
        assert_eq!(dec("2\"a\"").unwrap_err(), E::InvalidPayload(T::Event));
        assert_eq!(dec("2[\"a\"").unwrap_err(), E::InvalidPayload(T::Event));
        assert_eq!(dec("2 ").unwrap_err(), E::InvalidPayload(T::Event));
        assert_eq!(dec("31{}").unwrap_err(), E::InvalidPayload(T::Ack));
        assert_eq!(dec("1{}").unwrap_err(), E::InvalidPayload(T::Disconnect));
        assert_eq!(dec("1/a,x").unwrap_err(), E::InvalidPayload(T::Disconnect));
        assert_eq!(dec("0[]").unwrap_err(), E::InvalidPayload(T::Connect));
        assert_eq!(dec("0\"x\"").unwrap_err(), E::InvalidPayload(T::Connect));
        assert_eq!(dec("0{").unwrap_err(), E::InvalidPayload(T::Connect));
        assert_eq!(dec("4[1]").unwrap_err(), E::InvalidPayload(T::ConnectError));
        // "41": an id, then nothing.
        assert_eq!(dec("41").unwrap_err(), E::MissingPayload(T::ConnectError));
        assert!(dec("4\"plain\"").is_ok());
        // JSON whitespace around the payload is allowed (JSON.parse allows it).
        let p = dec("2 [ \"a\" , 1 ] \n").unwrap().unwrap();
        assert_eq!(event(&p).name(), "a");
        assert_eq!(event(&p).args.to_values().unwrap(), [serde_json::json!(1)]);
    }

    #[test]
    fn malformed_json_is_caught_at_decode() {
        for s in [
            "2[\"a\",]",
            "2[\"a\",01]",
            "2[\"a\" 1]",
            "2[\"a\",{]",
            "2[\"a\",tru]",
            "2[\"a\\q\"]",
            "2[\"a\"]]",
            "31[,]",
            "31[1,,2]",
            "0{\"a\":}",
            "0{\"a\":1}}",
            "4{\"message\"}",
        ] {
            assert!(
                matches!(dec(s), Err(E::Json(_)) | Err(E::InvalidPayload(_))),
                "{s}: {:?}",
                dec(s)
            );
        }
        // Lazy validation lets the tail through; deserialization reports it.
        let p = lazy("2[\"a\",]").unwrap().unwrap();
        assert!(event(&p).args.to_values().is_err());
        assert!(event(&p).args.deserialize::<(u32,)>().is_err());
        // ...but never a malformed event name.
        assert!(lazy("2[\"a]").is_err());
    }

    #[test]
    fn lazy_args_reject_every_malformed_payload() {
        // Each decodes lazily (shape, name and brackets are fine) and is refused by full
        // validation; every way of reading the arguments must then fail too, including when the
        // malformed part is an extra element the target type ignores.
        for text in [
            r#"2["a","x",]"#,
            r#"2["a","x",,1]"#,
            r#"2["a","x" 1]"#,
            r#"2["a","x",{"k":}]"#,
            r#"2["a","x",{"k" 1}]"#,
            r#"2["a","x",{"k":1,}]"#,
            r#"2["a","x",[1,]]"#,
            r#"2["a","x",tru]"#,
            r#"2["a","x",01]"#,
            r#"2["a","x",1.]"#,
            r#"2["a","x","\q"]"#,
            "2[\"a\",\"x\",\"\u{1}\"]",
            r#"2["a","x","\ud800"]"#,
            r#"2["a","x",[[[[[[1]]]]]]]"#,
            r#"2["a","x"]]"#,
            r#"2["a","x"],1]"#,
            r#"31["x",}]"#,
        ] {
            let limits = Limits {
                max_depth: 6,
                ..Limits::default()
            };
            let full = Decoder::new(Parser::Json, V5, limits)
                .with_validation(Validation::Full)
                .decode_text(text.into());
            assert!(full.is_err(), "{text}");
            let p = match Decoder::new(Parser::Json, V5, limits).decode_text(text.into()) {
                Ok(p) => p.unwrap(),
                Err(_) => continue,
            };
            let args = match &p.data {
                PacketData::Event(e) => &e.args,
                PacketData::Ack(a) => &a.args,
                other => panic!("{other:?}"),
            };
            assert!(args.to_values().is_err(), "{text}");
            assert!(args.validate().is_err(), "{text}");
            assert!(args.deserialize::<(String,)>().is_err(), "{text}");
            assert!(args.deserialize::<String>().is_err(), "{text}");
            assert!(args.deserialize::<serde_json::Value>().is_err(), "{text}");
            assert!(
                args.deserialize::<Vec<serde_json::Value>>().is_err(),
                "{text}"
            );
            assert!(args.deserialize::<()>().is_err(), "{text}");
            assert!(
                args.deserialize::<serde::de::IgnoredAny>().is_err(),
                "{text}"
            );
        }
    }

    #[test]
    fn depth_limit() {
        let deep = format!("2[\"a\",{}{}]", "[".repeat(200), "]".repeat(200));
        assert_eq!(
            dec(&deep).unwrap_err(),
            E::Json(socketio_json::Error::DepthLimit)
        );
        let ok = format!("2[\"a\",{}{}]", "[".repeat(100), "]".repeat(100));
        assert!(dec(&ok).is_ok());
        let limits = Limits {
            max_depth: 3,
            ..Limits::default()
        };
        let mut d = Decoder::new(Parser::Json, V5, limits).with_validation(Validation::Full);
        assert!(d.decode_text("2[\"a\",[[1]]]".into()).is_ok());
        assert!(d.decode_text("2[\"a\",[[[1]]]]".into()).is_err());
        // Lazy: the limit still applies when deserializing.
        let mut d = Decoder::new(Parser::Json, V5, limits).with_validation(Validation::Lazy);
        let p = d.decode_text("2[\"a\",[[[1]]]]".into()).unwrap().unwrap();
        assert!(event(&p).args.to_values().is_err());
    }

    #[test]
    fn event_names() {
        let p = dec(r#"2["a\u0062\n"]"#).unwrap().unwrap();
        assert_eq!(event(&p).name(), "ab\n");
        assert!(matches!(event(&p).name, EventName::Owned(_)));
        assert_eq!(&*event(&p).name_owned(), "ab\n");
        // A plain name is a span of the message, shared by its owned form; wherever it is kept,
        // the event equals one built from its parts.
        let text: ByteString = "2 [ \"hé\" , 1 ]".into();
        let p = Decoder::new(Parser::Json, V5, Limits::default())
            .decode_text(text.clone())
            .unwrap()
            .unwrap();
        let e = event(&p);
        assert!(matches!(e.name, EventName::InArgs { .. }));
        assert_eq!(e.name(), "hé");
        let owned = e.name_owned();
        assert_eq!(&*owned, "hé");
        let range = text.as_ptr() as usize..text.as_ptr() as usize + text.len();
        assert!(range.contains(&(owned.as_ptr() as usize)));
        let built = Event::new("hé", Args::new(Parser::Json, &(1,)).unwrap(), None);
        assert_eq!(e, &built);
        assert_ne!(
            e,
            &Event::new("he", Args::new(Parser::Json, &(1,)).unwrap(), None)
        );
        let (name, args, ack) = e.clone().into_parts();
        assert_eq!(
            (&*name, args.deserialize::<(u8,)>().unwrap(), ack),
            ("hé", (1,), None)
        );
        assert_eq!(format!("{e:?}"), format!("{built:?}"));
        // The plain-name fast path agrees with the general reader wherever it answers, and
        // leaves to it everything it does not read (escapes, raw control bytes, bad syntax).
        for array in [
            r#"["a",1]"#,
            r#"[ "a" ,1]"#,
            "[\n\"a\"\t]",
            r#"["",1]"#,
            r#"["hé llo wörld, how are you?"]"#,
            r#"["a\"b",1]"#,
            "[\"a\tb\"]",
            r#"["abc]"#,
            r#"["a"x]"#,
            r#"["a":1]"#,
            r#"[1]"#,
            r#"[]"#,
            r#"["a"  "#,
        ] {
            let text = ByteString::from(array);
            let fast = plain_name(text.as_bytes(), 0);
            let general = event_name(&text, text.as_bytes());
            if let Some((start, end, at)) = fast {
                let (name, rest) = general.unwrap();
                let EventName::InArgs { start: s, end: e } = name else {
                    panic!("{array}: owned")
                };
                assert_eq!((start, end, at), (s as usize, e as usize, rest), "{array}");
            }
            assert_eq!(
                dec(&format!("2{array}")).map(|p| p.map(|p| event(&p).name().to_owned())),
                lazy(&format!("2{array}")).map(|p| p.map(|p| event(&p).name().to_owned())),
                "{array}"
            );
        }
        assert_eq!(
            event(&lazy(r#"2["a\"b",1]"#).unwrap().unwrap()).name(),
            "a\"b"
        );
        assert_eq!(
            lazy("2[\"a\tb\"]").unwrap_err(),
            dec("2[\"a\tb\"]").unwrap_err()
        );
        assert!(lazy(r#"2["a"x]"#).is_err());
        for name in crate::RESERVED_EVENTS {
            let s = format!("2[\"{name}\",1]");
            assert_eq!(
                dec(&s).unwrap_err(),
                E::ReservedEventName(name.into()),
                "{name}"
            );
        }
        // Escaped forms of a reserved name are the same name.
        assert_eq!(
            dec(r#"2["\u0063onnect"]"#).unwrap_err(),
            E::ReservedEventName("connect".into())
        );
        assert!(dec("2[\"connect \"]").is_ok());
        assert!(dec("2[\"Disconnect\"]").is_ok());
        assert!(dec("2[\"\"]").is_ok());
    }

    #[test]
    fn write_str_matches_json_stringify() {
        let mut out = Vec::new();
        write_str(
            &mut out,
            "a\"b\\c\n\r\t\u{8}\u{c}\u{0}\u{1f}\u{7f}\u{2028}é😀/",
        );
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "\"a\\\"b\\\\c\\n\\r\\t\\b\\f\\u0000\\u001f\u{7f}\u{2028}é😀/\""
        );
    }

    #[test]
    fn encode_checks() {
        let j = Parser::Json;
        for nsp in ["", "admin", "/a,b"] {
            assert_eq!(
                j.encode_event(nsp, "e", &(), None).unwrap_err(),
                EncodeError::InvalidNamespace(nsp.into())
            );
            assert!(j.encode_disconnect(nsp).is_err());
        }
        for name in crate::RESERVED_EVENTS {
            assert_eq!(
                j.encode_event("/", name, &(), None).unwrap_err(),
                EncodeError::ReservedEventName(name.into())
            );
            assert!(j.event_template("/", name, &()).is_err());
        }
        // A number right after the header would read as an ack id.
        assert!(j.encode_connect("/", Some(&5)).is_err());
        assert!(j.encode_connect_error("/", "m", None::<&()>).is_ok());
        // Binary data is only for event and ack arguments.
        assert!(
            j.encode_connect("/", Some(&bytes::Bytes::from_static(b"x")))
                .is_err()
        );
        assert!(crate::RawValue::new(j, &bytes::Bytes::from_static(b"x")).is_err());
    }

    #[test]
    fn arguments_rule() {
        let j = Parser::Json;
        let t = |e: Encoded| match e.packet {
            Message::Text(t) => t.to_string(),
            Message::Binary(_) => unreachable!(),
        };
        assert_eq!(t(j.encode_event("/", "e", &(), None).unwrap()), r#"2["e"]"#);
        assert_eq!(
            t(j.encode_event("/", "e", &1, None).unwrap()),
            r#"2["e",1]"#
        );
        assert_eq!(
            t(j.encode_event("/", "e", &(1, 2), None).unwrap()),
            r#"2["e",1,2]"#
        );
        assert_eq!(
            t(j.encode_event("/", "e", &[1, 2], None).unwrap()),
            r#"2["e",1,2]"#
        );
        assert_eq!(
            t(j.encode_event("/", "e", &(vec![1, 2],), None).unwrap()),
            r#"2["e",[1,2]]"#
        );
        assert_eq!(
            t(j.encode_event("/", "e", &None::<u8>, None).unwrap()),
            r#"2["e",null]"#
        );
        assert_eq!(t(j.encode_ack("/", AckId::ZERO, &()).unwrap()), "30[]");
        assert_eq!(
            t(j.encode_ack("/", AckId::ZERO, &(1, "x")).unwrap()),
            r#"30[1,"x"]"#
        );
        assert_eq!(t(j.encode_ack("/", AckId::ZERO, &[(); 0]).unwrap()), "30[]");
        // A sequence of unknown length (an iterator) works too.
        struct Iter;
        impl Serialize for Iter {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_seq((1..=3).filter(|x| x % 2 == 1))
            }
        }
        assert_eq!(
            t(j.encode_event("/", "e", &Iter, None).unwrap()),
            r#"2["e",1,3]"#
        );
    }

    #[test]
    fn ack_template() {
        let j = Parser::Json;
        let t = j
            .event_template("/admin", "up", &(bytes::Bytes::from_static(b"\x07"), 1))
            .unwrap();
        assert_eq!(t.head(), b"51-/admin,");
        assert_eq!(t.tail(), br#"["up",{"_placeholder":true,"num":0},1]"#);
        assert_eq!(t.attachments(), [bytes::Bytes::from_static(b"\x07")]);
        for id in [0, 9, 10, 123_456, AckId::MAX.get()] {
            let id = AckId::new(id).unwrap();
            let direct = j
                .encode_event(
                    "/admin",
                    "up",
                    &(bytes::Bytes::from_static(b"\x07"), 1),
                    Some(id),
                )
                .unwrap();
            assert_eq!(t.with_id(id).unwrap(), direct);
        }
        // Vectored form: head + id + tail.
        let mut v = t.head_bytes().to_vec();
        t.write_id(&mut v, AckId::new(42).unwrap());
        v.extend_from_slice(&t.tail_bytes());
        assert_eq!(v, br#"51-/admin,42["up",{"_placeholder":true,"num":0},1]"#);
    }

    #[test]
    fn placeholders_are_checked() {
        let mut d =
            Decoder::new(Parser::Json, V5, Limits::default()).with_validation(Validation::Full);
        let mut lazy = Decoder::new(Parser::Json, V5, Limits::default());
        for text in [
            r#"51-["a",{"x":1,"_placeholder":true,"num":1}]"#,
            r#"51-["a",{"_placeholder":true,"num":0,"_placeholder":true,"num":2}]"#,
            r#"51-["a",{"_placeholder":true,"num":1}]"#,
            r#"51-["a",{"_placeholder":true,"num":-1}]"#,
            r#"51-["a",{"_placeholder":true,"num":"0"}]"#,
            r#"51-["a",{"_placeholder":true,"num":0.5}]"#,
            r#"51-["a",{"_placeholder":true}]"#,
            r#"51-["a",[{"x":{"_placeholder":true,"num":3}}]]"#,
        ] {
            assert_eq!(d.decode_text(text.into()).unwrap(), None);
            assert_eq!(
                d.decode_binary(bytes::Bytes::from_static(b"x"))
                    .unwrap_err(),
                E::InvalidPlaceholder,
                "{text}"
            );
            // Lazy: the same check on demand, and deserializing the bytes fails.
            assert_eq!(lazy.decode_text(text.into()).unwrap(), None);
            let p = lazy
                .decode_binary(bytes::Bytes::from_static(b"x"))
                .unwrap()
                .unwrap();
            assert_eq!(
                event(&p).args.validate(),
                Err(E::InvalidPlaceholder),
                "{text}"
            );
        }
        // Valid, an unused attachment, and a non-placeholder lookalike.
        for text in [
            r#"52-["a",{"_placeholder":true,"num":1}]"#,
            r#"52-["a",{"_placeholder":false,"num":9},{"_placeholder":true,"num":0.0}]"#,
            r#"52-["a",{"n":{"num":1,"_placeholder":true}},[{"_placeholder":true,"num":1,"x":{"_placeholder":true,"num":7}}]]"#,
            r#"52-["a",{"_placeholder":true,"num":9,"num":1},{"_placeholder":1,"num":9}]"#,
        ] {
            assert_eq!(d.decode_text(text.into()).unwrap(), None);
            assert_eq!(
                d.decode_binary(bytes::Bytes::from_static(b"x")).unwrap(),
                None
            );
            assert!(
                d.decode_binary(bytes::Bytes::from_static(b"y"))
                    .unwrap()
                    .is_some()
            );
        }
    }
}
