//! The default parser: Node's `socket.io-parser` text encoding
//! `<type>[<attachments>-][<nsp>,][<id>][<json>]`, with binary attachments sent as separate binary
//! messages after the text and referenced by `{"_placeholder":true,"num":N}`.

use bytes::Bytes;
use bytestring::ByteString;
use serde::Serialize;

use crate::args::{Args, JsonSink, RawValue, trim_json_ws};
use crate::encode::{AckTemplate, Encoded, Message};
use crate::error::{DecodeError, EncodeError};
use crate::packet::{Ack, AckId, Event, MAIN_NAMESPACE, Packet, PacketData, PacketType};
use crate::{Limits, Parser, ProtocolVersion, Validation, ser};

// ---------------------------------------------------------------------------------------------
// Decoding
// ---------------------------------------------------------------------------------------------

/// A text packet, complete or waiting for its attachments.
pub(crate) struct Header {
    pub(crate) packet: Packet,
    /// Attachments announced by a binary packet (0 otherwise).
    pub(crate) attachments: usize,
}

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

/// Parses a text message. Attachments of a binary packet are not part of it: the caller collects
/// `Header::attachments` binary messages and stores them in the packet's args.
pub(crate) fn decode_text(
    text: &ByteString,
    version: ProtocolVersion,
    limits: &Limits,
    validation: Validation,
) -> Result<Header, DecodeError> {
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
        let nsp = sub_str(text, s);
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
                PacketData::Connect(Some(raw(text, json, limits)))
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
            // v5: a string or an object (Node's isPayloadValid); v4 servers sent any value.
            if !is_v4(version)
                && first_last != (Some(b'{'), Some(b'}'))
                && first_last != (Some(b'"'), Some(b'"'))
            {
                return Err(DecodeError::InvalidPayload(ty));
            }
            if strict || is_v4(version) {
                socketio_json::validate(json, &jl)?;
            }
            PacketData::ConnectError(raw(text, json, limits))
        }
        PacketType::Event | PacketType::BinaryEvent => {
            let array = array_payload(ty, payload, json, strict, &jl)?;
            let after_bracket = trim_json_ws(array.get(1..).unwrap_or_default());
            match after_bracket.first() {
                Some(b']') => return Err(DecodeError::MissingEventName),
                Some(b'"') => {}
                _ => return Err(DecodeError::EventNameNotString),
            }
            let (name, rest) = socketio_json::array_first_str(array)?;
            if crate::packet::is_reserved_event(&name) {
                return Err(DecodeError::ReservedEventName(ByteString::from(
                    name.as_ref(),
                )));
            }
            let name = sub_str(text, &name);
            PacketData::Event(Event {
                name,
                args: Args {
                    parser: Parser::Json,
                    array: sub_bytes(text, array),
                    skip: 1,
                    rest,
                    count: 0,
                    attachments: Vec::new(),
                    max_depth: limits.max_depth,
                },
                ack: id,
            })
        }
        PacketType::Ack | PacketType::BinaryAck => {
            let id = id.ok_or(DecodeError::MissingAckId)?;
            let array = array_payload(ty, payload, json, strict, &jl)?;
            PacketData::Ack(Ack {
                id,
                args: Args {
                    parser: Parser::Json,
                    array: sub_bytes(text, array),
                    skip: 0,
                    rest: 1,
                    count: 0,
                    attachments: Vec::new(),
                    max_depth: limits.max_depth,
                },
            })
        }
    };
    Ok(Header {
        packet: Packet { nsp, data },
        attachments,
    })
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
pub(crate) fn check_placeholders(args: &Args) -> Result<(), DecodeError> {
    fn walk(v: &serde_json::Value, n: usize) -> bool {
        match v {
            serde_json::Value::Array(a) => a.iter().all(|v| walk(v, n)),
            serde_json::Value::Object(o) => {
                if o.get("_placeholder") == Some(&serde_json::Value::Bool(true)) {
                    o.get("num")
                        .and_then(serde_json::Value::as_u64)
                        .is_some_and(|num| num < n as u64)
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
    let mut out = Vec::with_capacity(header_len(nsp) + event.len() + 64);
    write_head(&mut out, PacketType::Event, 0, nsp);
    write_id(&mut out, ack);
    let mut attachments = Vec::new();
    write_event_array(&mut out, event, args, &mut attachments)?;
    make_binary(&mut out, PacketType::BinaryEvent, attachments.len());
    finish(out, attachments)
}

pub(crate) fn encode_ack<T: ?Sized + Serialize>(
    nsp: &str,
    id: AckId,
    args: &T,
) -> Result<Encoded, EncodeError> {
    check_nsp(nsp)?;
    let mut out = Vec::with_capacity(header_len(nsp) + 64);
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
    finish(out, attachments)
}

pub(crate) fn event_template<T: ?Sized + Serialize>(
    nsp: &str,
    event: &str,
    args: &T,
) -> Result<AckTemplate, EncodeError> {
    check_nsp(nsp)?;
    check_event(event)?;
    // Serialize the payload first: the head depends on the attachment count.
    let mut payload = Vec::with_capacity(event.len() + 64);
    let mut attachments = Vec::new();
    write_event_array(&mut payload, event, args, &mut attachments)?;
    let ty = if attachments.is_empty() {
        PacketType::Event
    } else {
        PacketType::BinaryEvent
    };
    let mut out = Vec::with_capacity(header_len(nsp) + payload.len());
    write_head(&mut out, ty, attachments.len(), nsp);
    let split = out.len();
    out.extend_from_slice(&payload);
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
        socketio_json::to_writer(&mut out, data, &mut attachments)?;
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
                out.extend_from_slice(&v.bytes);
            }
        }
        PacketData::ConnectError(v) => {
            v.check_parser(Parser::Json)?;
            out = Vec::with_capacity(header_len(nsp) + v.bytes.len());
            write_head(&mut out, ty, 0, nsp);
            out.extend_from_slice(&v.bytes);
        }
        PacketData::Disconnect => {
            out = Vec::with_capacity(header_len(nsp));
            write_head(&mut out, ty, 0, nsp);
        }
        PacketData::Event(e) => {
            check_event(&e.name)?;
            e.args.check_parser(Parser::Json)?;
            let elements = e.args.json_elements();
            out = Vec::with_capacity(header_len(nsp) + e.name.len() + elements.len() + 8);
            write_head(&mut out, ty, attachments.len(), nsp);
            write_id(&mut out, e.ack);
            out.push(b'[');
            write_str(&mut out, &e.name);
            if !trim_json_ws(elements).is_empty() {
                out.push(b',');
                out.extend_from_slice(elements);
            }
            out.push(b']');
        }
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
