//! The msgpack parser, byte-compatible with npm `socket.io-msgpack-parser`: every packet is one
//! binary message holding the packet object `{type, data, nsp, id}` as notepack writes it.
//!
//! Keys are written in the order Node's server creates them (notepack keeps insertion order):
//! - `socket.emit` → `type, data, [id], nsp` (the id is set before `socket.packet` adds `nsp`);
//! - acked broadcast (`broadcastWithAck`) → `type, data, nsp, id` ([`AckTemplate`]);
//! - ack answer (`socket.ack`) → `id, type, data, nsp`;
//! - `CONNECT` answer → `type, data: {sid, pid}, nsp`, with `pid: undefined` (`d4 00 00`) when
//!   connection state recovery is off, exactly as notepack writes the undefined property;
//! - `CONNECT_ERROR` → `type, data, nsp`; `DISCONNECT` → `type, nsp`.
//!
//! Decoding accepts the keys in any order, ignores unknown keys (the JS client adds `options`), and
//! treats `undefined` values as absent, like JavaScript property access.

use bytes::Bytes;
use bytestring::ByteString;
use serde::{Deserialize, Serialize};
use socketio_msgpack::{Header, Reader, write};

use crate::args::{Args, Buf, RawValue};
use crate::encode::{AckTemplate, Encoded, Message};
use crate::error::{ArgsError, DecodeError, EncodeError};
use crate::json::check_event;
use crate::packet::{Ack, AckId, Event, EventName, MAIN_NAMESPACE, Packet, PacketData, PacketType};
use crate::ser::{self, ElementSink, Shape};
use crate::{Limits, Parser, ProtocolVersion, Validation};

const TYPE: &[u8] = b"\xa4type";
const DATA: &[u8] = b"\xa4data";
const NSP: &[u8] = b"\xa3nsp";
const ID: &[u8] = b"\xa2id";

// ---------------------------------------------------------------------------------------------
// Decoding
// ---------------------------------------------------------------------------------------------

/// The msgpack format carries any string; only the leading `/` that every namespace has is required
/// (a `,` is fine here, unlike in the JSON text format).
fn check_nsp(nsp: &str) -> Result<(), EncodeError> {
    if !nsp.starts_with('/') {
        return Err(EncodeError::InvalidNamespace(nsp.to_owned()));
    }
    Ok(())
}

/// `b`, a slice of `data`, as text: the one UTF-8 check of a string read with
/// `read_str_bytes`.
fn text(data: &Bytes, b: &[u8]) -> Result<ByteString, DecodeError> {
    ByteString::try_from(sub_bytes(data, b))
        .map_err(|_| socketio_msgpack::Error::InvalidUtf8.into())
}

/// Where the slice `b` of `data` sits in it.
fn span_in(data: &Bytes, b: &[u8]) -> (usize, usize) {
    let start = (b.as_ptr() as usize).wrapping_sub(data.as_ptr() as usize);
    (start, start.wrapping_add(b.len()))
}

fn sub_bytes(data: &Bytes, b: &[u8]) -> Bytes {
    let base = data.as_ptr() as usize;
    let p = b.as_ptr() as usize;
    if p >= base && p + b.len() <= base + data.len() {
        // The offsets are known: `slice_ref` would check the pointers again.
        data.slice(p - base..p - base + b.len())
    } else {
        Bytes::copy_from_slice(b)
    }
}

/// An integral number (floats holding an integer count, as `Number.isInteger` says).
fn integer(h: Header) -> Option<i128> {
    match h {
        Header::UInt(u) => Some(i128::from(u)),
        Header::Int(i) => Some(i128::from(i)),
        Header::F32(f) => float_int(f64::from(f)),
        Header::F64(f) => float_int(f),
        _ => None,
    }
}

fn float_int(f: f64) -> Option<i128> {
    // Only the ranges that matter here (types 0..=4, ids up to 2^53) need exactness.
    (f.is_finite() && f.fract() == 0.0 && f.abs() < 1e19).then_some(f as i128)
}

pub(crate) fn decode(
    data: Bytes,
    _version: ProtocolVersion,
    limits: &Limits,
    _validation: Validation,
) -> Result<Option<Packet>, DecodeError> {
    let ml = limits.msgpack();
    let mut r = Reader::new(&data);
    // A fixmap, as every packet is written, read from its marker (with `read_map_len`'s check
    // that the entries can fit in what is left).
    let entries = match r.peek_marker() {
        Some(m @ 0x80..=0x8f) => {
            r.take(1)?;
            let n = u32::from(m & 0x0f);
            if n as usize * 2 > r.rest().len() {
                return Err(socketio_msgpack::Error::UnexpectedEof.into());
            }
            n
        }
        _ => r.read_map_len()?,
    };
    let mut ty = None;
    let mut nsp = None;
    let mut payload: Option<(Header, &[u8])> = None;
    let mut id = None;
    for _ in 0..entries {
        // Keys are compared as bytes; only an unknown one is checked for UTF-8.
        let key = r.next_str_bytes()?;
        if key.is_none() {
            r.skip_value(&ml)?;
        }
        match key {
            Some(b"type") => {
                let n = match r.peek_marker() {
                    // A positive fixint, as every packet type is written.
                    Some(m @ 0x00..=0x7f) => {
                        r.take(1)?;
                        Some(m)
                    }
                    _ => integer(r.read_header()?).and_then(|n| u8::try_from(n).ok()),
                };
                ty = Some(
                    n.filter(|&n| n <= PacketType::ConnectError.as_u8())
                        .and_then(PacketType::from_u8)
                        .ok_or(DecodeError::UnknownType)?,
                );
            }
            Some(b"nsp") => {
                let len = match r.peek_marker() {
                    Some(m @ 0xa0..=0xbf) => {
                        r.take(1)?;
                        usize::from(m & 0x1f)
                    }
                    _ => match r.read_header()? {
                        Header::Str(len) => len as usize,
                        _ => return Err(DecodeError::InvalidNamespace),
                    },
                };
                if len > limits.max_namespace_len {
                    return Err(DecodeError::NamespaceTooLong {
                        max: limits.max_namespace_len,
                    });
                }
                // Checked for UTF-8 once, when made a `ByteString` below.
                let s = r.take(len)?;
                if !s.starts_with(b"/") {
                    return Err(DecodeError::InvalidNamespace);
                }
                nsp = Some(s);
            }
            Some(b"data") => {
                let h = match r.peek_marker() {
                    // A fixarray, as every event's and ack's data is written; its count is
                    // checked by `value_span`, as `peek_header` would.
                    Some(m @ 0x90..=0x9f) => Header::Array(u32::from(m & 0x0f)),
                    _ => r.peek_header()?,
                };
                let span = r.value_span(&ml)?;
                payload = (h != Header::Undefined).then_some((h, span));
            }
            Some(b"id") => {
                if let Some(m @ 0x00..=0x7f) = r.peek_marker() {
                    r.take(1)?;
                    id = AckId::new(u64::from(m));
                    continue;
                }
                let h = r.read_header()?;
                id = match h {
                    Header::Undefined => None,
                    h => Some(
                        integer(h)
                            .and_then(|n| u64::try_from(n).ok())
                            .and_then(AckId::new)
                            .ok_or(DecodeError::InvalidAckId)?,
                    ),
                };
            }
            Some(other) => {
                std::str::from_utf8(other).map_err(|_| socketio_msgpack::Error::InvalidUtf8)?;
                r.skip_value(&ml)?;
            }
            // A non-string key (skipped above): skip its value.
            None => r.skip_value(&ml)?,
        }
    }
    let trailing = r.rest().len();
    if trailing != 0 {
        return Err(socketio_msgpack::Error::TrailingBytes(trailing).into());
    }
    let ty = ty.ok_or(DecodeError::UnknownType)?;
    let nsp = match nsp.ok_or(DecodeError::InvalidNamespace)? {
        // The main namespace needs no reference to the message.
        b"/" => ByteString::from_static(MAIN_NAMESPACE),
        nsp => text(&data, nsp)?,
    };
    let raw = |span: &[u8]| RawValue {
        parser: Parser::Msgpack,
        bytes: sub_bytes(&data, span),
        max_depth: limits.max_depth,
    };

    let packet_data = match ty {
        PacketType::Connect => match payload {
            // Node's msgpack parser: `undefined` or a plain object (`null` is refused).
            None => PacketData::Connect(None),
            Some((Header::Map(_), span)) => PacketData::Connect(Some(raw(span))),
            Some(_) => return Err(DecodeError::InvalidPayload(ty)),
        },
        PacketType::Disconnect => match payload {
            None => PacketData::Disconnect,
            Some(_) => return Err(DecodeError::InvalidPayload(ty)),
        },
        PacketType::ConnectError => match payload {
            None => return Err(DecodeError::MissingPayload(ty)),
            Some((Header::Map(_) | Header::Str(_), span)) => PacketData::ConnectError(raw(span)),
            Some(_) => return Err(DecodeError::InvalidPayload(ty)),
        },
        PacketType::Event => {
            let (n, span) = match payload {
                None => return Err(DecodeError::MissingPayload(ty)),
                Some((Header::Array(n), span)) => (n, span),
                Some(_) => return Err(DecodeError::InvalidPayload(ty)),
            };
            if n == 0 {
                return Err(DecodeError::MissingEventName);
            }
            let mut ar = Reader::new(span);
            // The array and the name headers are nearly always a fixarray and a fixstr, read
            // without building a `Header`. Checked for UTF-8 once, when made a `ByteString`.
            match ar.peek_marker() {
                Some(0x90..=0x9f) => {
                    ar.take(1)?;
                }
                _ => {
                    ar.read_array_len()?;
                }
            }
            let name = match ar.next_str_bytes()? {
                Some(b) => text(&data, b)?,
                None => return Err(DecodeError::EventNameNotString),
            };
            if crate::packet::is_reserved_event(&name) {
                return Err(DecodeError::ReservedEventName(name));
            }
            let rest = ar.position();
            let (start, end) = span_in(&data, span);
            PacketData::Event(Event {
                name: EventName::Owned(name),
                args: Args {
                    parser: Parser::Msgpack,
                    array: Buf::bin(data, start, end),
                    skip: 1,
                    rest,
                    count: n - 1,
                    attachments: Vec::new(),
                    max_depth: limits.max_depth,
                },
                ack: id,
            })
        }
        PacketType::Ack => {
            let id = id.ok_or(DecodeError::MissingAckId)?;
            let (n, span) = match payload {
                None => return Err(DecodeError::MissingPayload(ty)),
                Some((Header::Array(n), span)) => (n, span),
                Some(_) => return Err(DecodeError::InvalidPayload(ty)),
            };
            let (start, end) = span_in(&data, span);
            PacketData::Ack(Ack {
                id,
                args: Args {
                    parser: Parser::Msgpack,
                    array: Buf::bin(data, start, end),
                    skip: 0,
                    rest: array_header_len(n as usize),
                    count: n,
                    attachments: Vec::new(),
                    max_depth: limits.max_depth,
                },
            })
        }
        // Filtered above: the msgpack parser has no binary packet types.
        PacketType::BinaryEvent | PacketType::BinaryAck => return Err(DecodeError::UnknownType),
    };
    // `Option` because that is what the decoder returns: the packet is written once, in place.
    Ok(Some(Packet {
        nsp,
        data: packet_data,
    }))
}

#[inline]
pub(crate) fn deserialize_args<'de, T: Deserialize<'de>>(args: &'de Args) -> Result<T, ArgsError> {
    let mut r = Reader::new(args.msgpack_elements());
    let count = args.count;
    Ok(socketio_msgpack::from_elements(
        &mut r,
        count,
        &crate::limits::msgpack_limits(args.max_depth),
    )?)
}

pub(crate) fn args_to_values(args: &Args) -> Result<Vec<serde_json::Value>, ArgsError> {
    let l = crate::limits::msgpack_limits(args.max_depth);
    let mut r = Reader::new(args.msgpack_elements());
    // `count` was checked against the message when decoded, or produced by our encoder.
    let mut out = Vec::with_capacity(
        usize::try_from(args.count)
            .unwrap_or(usize::MAX)
            .min(r.rest().len()),
    );
    for _ in 0..args.count {
        out.push(socketio_msgpack::value_from_reader(&mut r, &l)?);
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// Encoding
// ---------------------------------------------------------------------------------------------

pub(crate) fn array_header_len(n: usize) -> usize {
    if n < 16 {
        1
    } else if n < 0x10000 {
        3
    } else {
        5
    }
}

fn len32(n: usize) -> Result<u32, EncodeError> {
    u32::try_from(n)
        .map_err(|_| socketio_msgpack::Error::Unsupported("more than u32::MAX items").into())
}

struct MsgpackSink<'a> {
    out: &'a mut Vec<u8>,
}

impl ElementSink for MsgpackSink<'_> {
    type Error = socketio_msgpack::Error;
    fn element<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<(), Self::Error> {
        socketio_msgpack::to_writer(self.out, value)
    }
}

/// Writes `[name?, ...args]`; returns the number of args.
fn write_args_array<T: ?Sized + Serialize>(
    out: &mut Vec<u8>,
    name: Option<&str>,
    value: &T,
    shape: Shape,
) -> Result<usize, EncodeError> {
    let extra = usize::from(name.is_some());
    let known = match shape {
        Shape::Unit => Some(0),
        Shape::One => Some(1),
        Shape::Seq(n) => n,
    };
    match known {
        Some(n) => {
            write::array_len(out, len32(n + extra)?);
            if let Some(name) = name {
                write::str(out, name);
            }
            let written = ser::write_args(value, shape, &mut MsgpackSink { out })?;
            if written != n {
                return Err(socketio_msgpack::Error::Custom(
                    "sequence length differs from its announced length".into(),
                )
                .into());
            }
            Ok(n)
        }
        None => {
            // A sequence of unknown length: write the elements, then put the header in front.
            let pos = out.len();
            let n = ser::write_args(value, shape, &mut MsgpackSink { out })?;
            let mut head = Vec::with_capacity(5 + name.map_or(0, |s| s.len() + 5));
            write::array_len(&mut head, len32(n + extra)?);
            if let Some(name) = name {
                write::str(&mut head, name);
            }
            out.splice(pos..pos, head);
            Ok(n)
        }
    }
}

/// `Args::new` for msgpack: returns (count, offset of the first element).
pub(crate) fn write_array_of_args<T: ?Sized + Serialize>(
    out: &mut Vec<u8>,
    value: &T,
    shape: Shape,
) -> Result<(usize, usize), EncodeError> {
    let n = write_args_array(out, None, value, shape)?;
    Ok((n, array_header_len(n)))
}

pub(crate) fn write_connect_ok(out: &mut Vec<u8>, sid: &str, pid: Option<&str>) {
    write::map_len(out, 2);
    write::str(out, "sid");
    write::str(out, sid);
    write::str(out, "pid");
    match pid {
        Some(pid) => write::str(out, pid),
        None => write::undefined(out),
    }
}

fn binary(out: Vec<u8>) -> Encoded {
    Encoded {
        packet: Message::Binary(Bytes::from(out)),
        attachments: Vec::new(),
    }
}

fn write_nsp(out: &mut Vec<u8>, nsp: &str) {
    out.extend_from_slice(NSP);
    write::str(out, nsp);
}

fn write_type(out: &mut Vec<u8>, ty: PacketType) {
    out.extend_from_slice(TYPE);
    write::uint(out, u64::from(ty.as_u8()));
}

pub(crate) fn encode_event<T: ?Sized + Serialize>(
    nsp: &str,
    event: &str,
    args: &T,
    ack: Option<AckId>,
) -> Result<Encoded, EncodeError> {
    check_nsp(nsp)?;
    check_event(event)?;
    let mut out = Vec::with_capacity(32 + nsp.len() + event.len() + 64);
    write::map_len(&mut out, if ack.is_some() { 4 } else { 3 });
    write_type(&mut out, PacketType::Event);
    out.extend_from_slice(DATA);
    write_args_array(&mut out, Some(event), args, ser::shape(args))?;
    if let Some(id) = ack {
        out.extend_from_slice(ID);
        write::uint(&mut out, id.get());
    }
    write_nsp(&mut out, nsp);
    Ok(binary(out))
}

/// The `data` array `[name?, args...]` of `serde_json::Value` arguments, written directly.
fn write_values_array(
    out: &mut Vec<u8>,
    name: Option<&str>,
    args: &[serde_json::Value],
) -> Result<(), EncodeError> {
    write::array_len(out, len32(args.len() + usize::from(name.is_some()))?);
    if let Some(name) = name {
        write::str(out, name);
    }
    for v in args {
        socketio_msgpack::write_value(out, v);
    }
    Ok(())
}

/// [`encode_event`] for `serde_json::Value` arguments, through `socketio_msgpack`'s direct writer.
pub(crate) fn encode_event_values(
    nsp: &str,
    event: &str,
    args: &[serde_json::Value],
    ack: Option<AckId>,
) -> Result<Encoded, EncodeError> {
    check_nsp(nsp)?;
    check_event(event)?;
    let mut out = Vec::with_capacity(32 + nsp.len() + event.len() + 64);
    write::map_len(&mut out, if ack.is_some() { 4 } else { 3 });
    write_type(&mut out, PacketType::Event);
    out.extend_from_slice(DATA);
    write_values_array(&mut out, Some(event), args)?;
    if let Some(id) = ack {
        out.extend_from_slice(ID);
        write::uint(&mut out, id.get());
    }
    write_nsp(&mut out, nsp);
    Ok(binary(out))
}

/// [`encode_ack`] for `serde_json::Value` arguments.
pub(crate) fn encode_ack_values(
    nsp: &str,
    id: AckId,
    args: &[serde_json::Value],
) -> Result<Encoded, EncodeError> {
    check_nsp(nsp)?;
    let mut out = Vec::with_capacity(32 + nsp.len() + 64);
    write::map_len(&mut out, 4);
    out.extend_from_slice(ID);
    write::uint(&mut out, id.get());
    write_type(&mut out, PacketType::Ack);
    out.extend_from_slice(DATA);
    write_values_array(&mut out, None, args)?;
    write_nsp(&mut out, nsp);
    Ok(binary(out))
}

pub(crate) fn encode_ack<T: ?Sized + Serialize>(
    nsp: &str,
    id: AckId,
    args: &T,
) -> Result<Encoded, EncodeError> {
    check_nsp(nsp)?;
    let mut out = Vec::with_capacity(32 + nsp.len() + 64);
    write::map_len(&mut out, 4);
    out.extend_from_slice(ID);
    write::uint(&mut out, id.get());
    write_type(&mut out, PacketType::Ack);
    out.extend_from_slice(DATA);
    write_args_array(&mut out, None, args, ser::shape(args))?;
    write_nsp(&mut out, nsp);
    Ok(binary(out))
}

pub(crate) fn event_template<T: ?Sized + Serialize>(
    nsp: &str,
    event: &str,
    args: &T,
) -> Result<AckTemplate, EncodeError> {
    check_nsp(nsp)?;
    check_event(event)?;
    let mut out = Vec::with_capacity(32 + nsp.len() + event.len() + 64);
    write::map_len(&mut out, 4);
    write_type(&mut out, PacketType::Event);
    out.extend_from_slice(DATA);
    write_args_array(&mut out, Some(event), args, ser::shape(args))?;
    write_nsp(&mut out, nsp);
    out.extend_from_slice(ID);
    let split = out.len();
    Ok(AckTemplate {
        parser: Parser::Msgpack,
        buf: Bytes::from(out),
        split,
        attachments: Vec::new(),
    })
}

pub(crate) fn encode_connect_ok(
    nsp: &str,
    sid: &str,
    pid: Option<&str>,
) -> Result<Encoded, EncodeError> {
    check_nsp(nsp)?;
    let mut out = Vec::with_capacity(40 + nsp.len() + sid.len() + pid.map_or(0, str::len));
    write::map_len(&mut out, 3);
    write_type(&mut out, PacketType::Connect);
    out.extend_from_slice(DATA);
    write_connect_ok(&mut out, sid, pid);
    write_nsp(&mut out, nsp);
    Ok(binary(out))
}

pub(crate) fn encode_simple<T: ?Sized + Serialize>(
    ty: PacketType,
    nsp: &str,
    data: Option<&T>,
) -> Result<Encoded, EncodeError> {
    check_nsp(nsp)?;
    let mut out = Vec::with_capacity(32 + nsp.len());
    write::map_len(&mut out, if data.is_some() { 3 } else { 2 });
    write_type(&mut out, ty);
    if let Some(data) = data {
        out.extend_from_slice(DATA);
        socketio_msgpack::to_writer(&mut out, data)?;
    }
    write_nsp(&mut out, nsp);
    Ok(binary(out))
}

fn write_raw(out: &mut Vec<u8>, v: &RawValue) -> Result<(), EncodeError> {
    v.check_parser(Parser::Msgpack)?;
    out.extend_from_slice(DATA);
    out.extend_from_slice(&v.bytes);
    Ok(())
}

pub(crate) fn encode_event_args(
    nsp: &str,
    event: &str,
    args: &Args,
    ack: Option<AckId>,
) -> Result<Encoded, EncodeError> {
    check_nsp(nsp)?;
    check_event(event)?;
    args.check_parser(Parser::Msgpack)?;
    let elements = args.msgpack_elements();
    let mut out = Vec::with_capacity(32 + nsp.len() + event.len() + elements.len());
    write::map_len(&mut out, if ack.is_some() { 4 } else { 3 });
    write_type(&mut out, PacketType::Event);
    out.extend_from_slice(DATA);
    write::array_len(
        &mut out,
        args.count
            .checked_add(1)
            .ok_or(socketio_msgpack::Error::Unsupported(
                "more than u32::MAX items",
            ))?,
    );
    write::str(&mut out, event);
    out.extend_from_slice(elements);
    if let Some(id) = ack {
        out.extend_from_slice(ID);
        write::uint(&mut out, id.get());
    }
    write_nsp(&mut out, nsp);
    Ok(binary(out))
}

pub(crate) fn encode_packet(packet: &Packet) -> Result<Encoded, EncodeError> {
    let nsp: &str = &packet.nsp;
    check_nsp(nsp)?;
    let mut out = Vec::with_capacity(32 + nsp.len());
    match &packet.data {
        PacketData::Connect(v) => {
            write::map_len(&mut out, if v.is_some() { 3 } else { 2 });
            write_type(&mut out, PacketType::Connect);
            if let Some(v) = v {
                write_raw(&mut out, v)?;
            }
        }
        PacketData::Disconnect => {
            write::map_len(&mut out, 2);
            write_type(&mut out, PacketType::Disconnect);
        }
        PacketData::ConnectError(v) => {
            write::map_len(&mut out, 3);
            write_type(&mut out, PacketType::ConnectError);
            write_raw(&mut out, v)?;
        }
        PacketData::Event(e) => return encode_event_args(nsp, e.name(), &e.args, e.ack),
        PacketData::Ack(a) => {
            a.args.check_parser(Parser::Msgpack)?;
            let elements = a.args.msgpack_elements();
            out.reserve(elements.len() + 16);
            write::map_len(&mut out, 4);
            out.extend_from_slice(ID);
            write::uint(&mut out, a.id.get());
            write_type(&mut out, PacketType::Ack);
            out.extend_from_slice(DATA);
            write::array_len(&mut out, a.args.count);
            out.extend_from_slice(elements);
        }
    }
    write_nsp(&mut out, nsp);
    Ok(binary(out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Decoder;
    use crate::ProtocolVersion::V5;
    use DecodeError as E;
    use socketio_msgpack::write as w;

    fn dec(bytes: Vec<u8>) -> Result<Packet, DecodeError> {
        Decoder::new(Parser::Msgpack, V5, Limits::default())
            .decode_binary(Bytes::from(bytes))
            .map(|p| p.expect("one message is one packet"))
    }

    /// A map built from (key, value-writer) pairs.
    type Write<'a> = &'a dyn Fn(&mut Vec<u8>);

    fn map(entries: &[(&str, Write<'_>)]) -> Vec<u8> {
        let mut out = Vec::new();
        w::map_len(&mut out, entries.len() as u32);
        for (k, v) in entries {
            w::str(&mut out, k);
            v(&mut out);
        }
        out
    }

    fn event_data(out: &mut Vec<u8>) {
        w::array_len(out, 2);
        w::str(out, "e");
        w::uint(out, 1);
    }

    fn root(out: &mut Vec<u8>) {
        w::str(out, "/");
    }

    #[test]
    fn keys_in_any_order_unknown_keys_ignored() {
        let p = dec(map(&[
            ("nsp", &root),
            ("options", &|o| {
                w::map_len(o, 1);
                w::str(o, "compress");
                w::bool(o, true);
            }),
            ("data", &event_data),
            ("id", &|o| w::uint(o, 3)),
            ("type", &|o| w::uint(o, 2)),
        ]))
        .unwrap();
        let PacketData::Event(e) = &p.data else {
            panic!()
        };
        assert_eq!((e.name(), e.ack.map(AckId::get)), ("e", Some(3)));
        assert_eq!(e.args.deserialize::<u32>().unwrap(), 1);
    }

    #[test]
    fn wide_headers_read_as_the_compact_ones() {
        // The fast paths read fixstr keys and names, fixint types and fixarrays; the same packet
        // with every header in a wider (legal, non-minimal) form decodes the same.
        let str8 = |o: &mut Vec<u8>, s: &str| {
            o.extend_from_slice(&[0xd9, s.len() as u8]);
            o.extend_from_slice(s.as_bytes());
        };
        let mut out = vec![0xde, 0, 4];
        str8(&mut out, "type");
        out.extend_from_slice(&[0xcc, 2]);
        str8(&mut out, "data");
        out.extend_from_slice(&[0xdc, 0, 2]);
        str8(&mut out, "hé");
        w::uint(&mut out, 1);
        str8(&mut out, "id");
        out.extend_from_slice(&[0xcd, 0, 3]);
        str8(&mut out, "nsp");
        str8(&mut out, "/x");
        let wide = dec(out).unwrap();
        let compact = dec(map(&[
            ("type", &|o| w::uint(o, 2)),
            ("data", &|o| {
                w::array_len(o, 2);
                w::str(o, "hé");
                w::uint(o, 1);
            }),
            ("id", &|o| w::uint(o, 3)),
            ("nsp", &|o| w::str(o, "/x")),
        ]))
        .unwrap();
        assert_eq!(wide, compact);
        let PacketData::Event(e) = &wide.data else {
            panic!()
        };
        assert_eq!((e.name(), e.ack.map(AckId::get)), ("hé", Some(3)));
        assert_eq!(e.args.deserialize::<u32>().unwrap(), 1);
        // A fixmap that cannot hold its entries is cut short, as before.
        assert_eq!(
            dec(vec![0x82, 0xa4]).unwrap_err(),
            E::Msgpack(socketio_msgpack::Error::UnexpectedEof)
        );
        // A fixstr name that is not UTF-8 is still refused.
        let bad = map(&[
            ("type", &|o| w::uint(o, 2)),
            ("data", &|o| o.extend_from_slice(&[0x91, 0xa1, 0xff])),
            ("nsp", &root),
        ]);
        assert!(dec(bad).is_err());
    }

    #[test]
    fn non_string_keys_and_duplicates() {
        // A non-string key is skipped with its value; a repeated key: the last one wins, as when
        // notepack fills a JavaScript object.
        let mut out = Vec::new();
        w::map_len(&mut out, 5);
        w::uint(&mut out, 1);
        w::str(&mut out, "ignored");
        w::str(&mut out, "type");
        w::uint(&mut out, 1);
        w::str(&mut out, "nsp");
        w::str(&mut out, "/first");
        w::str(&mut out, "type");
        w::uint(&mut out, 2);
        w::str(&mut out, "data");
        event_data(&mut out);
        let p = dec(out).unwrap();
        assert_eq!(&*p.nsp, "/first");
        assert!(matches!(p.data, PacketData::Event(_)));
    }

    #[test]
    fn type_validation() {
        for t in [5u64, 6, 7, 255, 1 << 40] {
            assert_eq!(
                dec(map(&[
                    ("type", &|o| w::uint(o, t)),
                    ("nsp", &root),
                    ("data", &event_data)
                ]))
                .unwrap_err(),
                E::UnknownType
            );
        }
        assert_eq!(
            dec(map(&[("type", &|o| w::int(o, -1)), ("nsp", &root)])).unwrap_err(),
            E::UnknownType
        );
        assert_eq!(
            dec(map(&[("type", &|o| w::str(o, "2")), ("nsp", &root)])).unwrap_err(),
            E::UnknownType
        );
        assert_eq!(
            dec(map(&[("type", &|o| w::float64(o, 1.5)), ("nsp", &root)])).unwrap_err(),
            E::UnknownType
        );
        assert_eq!(dec(map(&[("nsp", &root)])).unwrap_err(), E::UnknownType);
        // Integral floats are integers, as `Number.isInteger` says.
        let p = dec(map(&[("type", &|o| w::float64(o, 1.0)), ("nsp", &root)])).unwrap();
        assert_eq!(p.data, PacketData::Disconnect);
    }

    #[test]
    fn namespace_validation() {
        let t1 = |o: &mut Vec<u8>| w::uint(o, 1);
        assert_eq!(dec(map(&[("type", &t1)])).unwrap_err(), E::InvalidNamespace);
        assert_eq!(
            dec(map(&[("type", &t1), ("nsp", &|o| w::uint(o, 1))])).unwrap_err(),
            E::InvalidNamespace
        );
        assert_eq!(
            dec(map(&[("type", &t1), ("nsp", &|o| w::str(o, "admin"))])).unwrap_err(),
            E::InvalidNamespace
        );
        assert_eq!(
            dec(map(&[("type", &t1), ("nsp", &|o| w::undefined(o))])).unwrap_err(),
            E::InvalidNamespace
        );
        let long = "/".repeat(5000);
        assert_eq!(
            dec(map(&[("type", &t1), ("nsp", &|o| w::str(o, &long))])).unwrap_err(),
            E::NamespaceTooLong { max: 4096 }
        );
    }

    #[test]
    fn ack_id_validation() {
        let base = |id: &dyn Fn(&mut Vec<u8>)| {
            dec(map(&[
                ("type", &|o| w::uint(o, 3)),
                ("nsp", &root),
                ("data", &|o| w::array_len(o, 0)),
                ("id", id),
            ]))
        };
        assert!(base(&|o| w::uint(o, AckId::MAX.get())).is_ok());
        assert!(base(&|o| w::float64(o, 7.0)).is_ok());
        for bad in [
            &(|o: &mut Vec<u8>| w::uint(o, AckId::MAX.get() + 1)) as &dyn Fn(&mut Vec<u8>),
            &|o| w::uint(o, u64::MAX),
            &|o| w::int(o, -1),
            &|o| w::float64(o, 1.5),
            &|o| w::float64(o, f64::NAN),
            &|o| w::str(o, "1"),
            &|o| w::nil(o),
        ] {
            assert_eq!(base(bad).unwrap_err(), E::InvalidAckId);
        }
        // `id: undefined` is no id: an ACK needs one.
        assert_eq!(base(&|o| w::undefined(o)).unwrap_err(), E::MissingAckId);
    }

    #[test]
    fn payload_validation() {
        let ty = |t: u64| move |o: &mut Vec<u8>| w::uint(o, t);
        let check = |t: u64, data: Option<Write<'_>>| {
            let t = ty(t);
            match data {
                Some(d) => dec(map(&[("type", &t), ("nsp", &root), ("data", d)])),
                None => dec(map(&[("type", &t), ("nsp", &root)])),
            }
        };
        let arr0 = |o: &mut Vec<u8>| w::array_len(o, 0);
        let obj = |o: &mut Vec<u8>| w::map_len(o, 0);
        let s = |o: &mut Vec<u8>| w::str(o, "x");
        let nil = |o: &mut Vec<u8>| w::nil(o);
        let undef = |o: &mut Vec<u8>| w::undefined(o);
        assert!(check(0, None).is_ok());
        assert!(check(0, Some(&undef)).is_ok());
        assert!(check(0, Some(&obj)).is_ok());
        assert_eq!(
            check(0, Some(&nil)).unwrap_err(),
            E::InvalidPayload(PacketType::Connect)
        );
        assert_eq!(
            check(0, Some(&arr0)).unwrap_err(),
            E::InvalidPayload(PacketType::Connect)
        );
        assert!(check(1, None).is_ok());
        assert_eq!(
            check(1, Some(&obj)).unwrap_err(),
            E::InvalidPayload(PacketType::Disconnect)
        );
        assert!(check(4, Some(&s)).is_ok());
        assert!(check(4, Some(&obj)).is_ok());
        assert_eq!(
            check(4, None).unwrap_err(),
            E::MissingPayload(PacketType::ConnectError)
        );
        assert_eq!(
            check(4, Some(&arr0)).unwrap_err(),
            E::InvalidPayload(PacketType::ConnectError)
        );
        assert_eq!(
            check(2, None).unwrap_err(),
            E::MissingPayload(PacketType::Event)
        );
        assert_eq!(
            check(2, Some(&obj)).unwrap_err(),
            E::InvalidPayload(PacketType::Event)
        );
        assert_eq!(check(2, Some(&arr0)).unwrap_err(), E::MissingEventName);
        assert_eq!(
            check(
                2,
                Some(&|o: &mut Vec<u8>| {
                    w::array_len(o, 1);
                    w::bin(o, b"e");
                })
            )
            .unwrap_err(),
            E::EventNameNotString
        );
    }

    #[test]
    fn malformed_bytes() {
        assert!(matches!(dec(vec![]), Err(E::Msgpack(_))));
        assert!(matches!(dec(vec![0x92, 0x01, 0x02]), Err(E::Msgpack(_))));
        assert!(matches!(dec(vec![0x81]), Err(E::Msgpack(_))));
        assert!(matches!(dec(vec![0xc1]), Err(E::Msgpack(_))));
        // Trailing bytes, as notepack refuses them.
        let mut v = map(&[("type", &|o| w::uint(o, 1)), ("nsp", &root)]);
        v.push(0xc0);
        assert_eq!(
            dec(v).unwrap_err(),
            E::Msgpack(socketio_msgpack::Error::TrailingBytes(1))
        );
        // Truncated.
        let v = map(&[
            ("type", &|o| w::uint(o, 2)),
            ("nsp", &root),
            ("data", &event_data),
        ]);
        for cut in 0..v.len() {
            assert!(dec(v[..cut].to_vec()).is_err(), "cut at {cut}");
        }
        // Too deep.
        let deep = |o: &mut Vec<u8>| {
            w::array_len(o, 2);
            w::str(o, "e");
            for _ in 0..200 {
                w::array_len(o, 1);
            }
            w::nil(o);
        };
        assert_eq!(
            dec(map(&[
                ("type", &|o| w::uint(o, 2)),
                ("nsp", &root),
                ("data", &deep)
            ]))
            .unwrap_err(),
            E::Msgpack(socketio_msgpack::Error::DepthLimit)
        );
    }

    #[test]
    fn template_matches_direct_encoding_shape() {
        let t = Parser::Msgpack.event_template("/", "e", &(1, "x")).unwrap();
        assert!(t.tail().is_empty());
        for id in [0, 127, 128, 65_535, 65_536, 1 << 32, AckId::MAX.get()] {
            let id = AckId::new(id).unwrap();
            let p = dec(match t.with_id(id).unwrap().packet {
                Message::Binary(b) => b.to_vec(),
                Message::Text(_) => unreachable!(),
            })
            .unwrap();
            let PacketData::Event(e) = &p.data else {
                panic!()
            };
            assert_eq!(e.ack, Some(id));
            assert_eq!(
                e.args.deserialize::<(u8, String)>().unwrap(),
                (1, "x".into())
            );
        }
    }

    #[test]
    fn parser_mismatch() {
        let json_args = Args::new(Parser::Json, &(1,)).unwrap();
        let p = Packet {
            nsp: "/".into(),
            data: PacketData::Ack(Ack {
                id: AckId::ZERO,
                args: json_args,
            }),
        };
        assert_eq!(
            Parser::Msgpack.encode(&p).unwrap_err(),
            EncodeError::ParserMismatch {
                have: Parser::Json,
                want: Parser::Msgpack
            }
        );
        let m = Args::new(Parser::Msgpack, &(1,)).unwrap();
        let p = Packet {
            nsp: "/".into(),
            data: PacketData::Ack(Ack {
                id: AckId::ZERO,
                args: m,
            }),
        };
        assert!(Parser::Json.encode(&p).is_err());
        assert!(Parser::Msgpack.encode(&p).is_ok());
    }

    #[test]
    fn args_new_and_values() {
        let a = Args::new(
            Parser::Msgpack,
            &(1, "two", bytes::Bytes::from_static(b"3")),
        )
        .unwrap();
        assert_eq!(a.count, 3);
        assert_eq!(
            a.to_values().unwrap(),
            [
                serde_json::json!(1),
                serde_json::json!("two"),
                serde_json::json!([51])
            ]
        );
        let big: Vec<u32> = (0..70_000).collect();
        let a = Args::new(Parser::Msgpack, &big).unwrap();
        assert_eq!(a.rest, 5);
        assert_eq!(a.deserialize::<Vec<u32>>().unwrap(), big);
        assert!(Args::new(Parser::Msgpack, &()).unwrap().is_empty());
        assert_eq!(
            Args::empty(Parser::Msgpack),
            Args::new(Parser::Msgpack, &()).unwrap()
        );
    }
}
