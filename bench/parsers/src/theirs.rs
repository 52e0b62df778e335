//! socketioxide's side: `socketioxide-parser-common` (JSON) and `socketioxide-parser-msgpack`,
//! driven through the `socketioxide_core::parser::Parse` trait exactly as socketioxide drives them.
//!
//! Decode = `decode_str` (+ one `decode_bin` per attachment) or `decode_bin`, then ONE
//! `decode_value` call that yields the event name and the arguments together:
//! * plain JSON arguments: `decode_value::<AllElements>(&mut data, false)`. `AllElements` is a
//!   newtype over `Vec<Value>`, which socketioxide treats as tuple-like, so its deserializer hands the
//!   whole array `[name, args...]` to serde in one pass. (The alternative, `read_event` followed by
//!   `decode_value(.., true)`, reads the array head twice and only yields the first argument for a
//!   non-tuple `T`; the one-pass newtype is the fastest way we found to get every argument.)
//! * binary: `decode_value::<(String, Value, Bytes)>(&mut data, false)`: name and typed arguments in
//!   one pass, the placeholder replaced by the attachment.
//!
//! Encode = `encode_value(&args, Some(event))` + `Packet::event` / `Packet::ack` + `encode`, which
//! returns the wire-ready text (with its attachments) or binary message.

use bytes::Bytes;
use serde::ser::SerializeTuple;
use serde::{Deserialize, Serialize, Serializer};
use serde_json::Value;
use socketioxide_core::{
    Str, Value as SioValue,
    packet::{Packet, PacketData},
    parser::{Parse, ParseConfig, ParseError, ParserState},
};
use socketioxide_parser_common::CommonParser;
use socketioxide_parser_msgpack::MsgPackParser;

use crate::typed::Typed as TypedArgs;
use crate::{Args, Decoded, Format, Input, Message};

/// `[name, args...]` (or `[args...]` for an ACK) read in one pass. A newtype is tuple-like for
/// socketioxide, so `decode_value` gives it the whole array.
#[derive(Debug, Deserialize)]
pub struct AllElements(pub Vec<Value>);

/// The typed arguments of the binary input, with the event name first.
pub type Typed = (String, Value, Bytes);

/// Arguments serialized as a tuple, so that `encode_value` writes them after the event name as
/// separate arguments (`[name, a, b]`), as socketioxide does for tuple data.
#[derive(Debug, Clone, Copy)]
pub struct ArgsTuple<'a>(pub &'a [Value]);

impl Serialize for ArgsTuple<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut tuple = serializer.serialize_tuple(self.0.len())?;
        for arg in self.0 {
            tuple.serialize_element(arg)?;
        }
        tuple.end()
    }
}

/// Wire messages in socketioxide's own types, built once outside the timed loops (cloning them
/// is a reference-count increment, as for the engine.io message socketioxide receives).
#[derive(Debug, Clone)]
pub enum WireIn {
    /// A text packet and its binary attachments.
    Json {
        /// The text message.
        text: Str,
        /// The attachments, in order.
        attachments: Vec<Bytes>,
    },
    /// One msgpack binary message.
    Msgpack(Bytes),
}

impl WireIn {
    /// Converts canonical messages. Panics on a shape no test input has.
    pub fn new(wire: &[Message]) -> Self {
        match wire {
            [Message::Text(text), rest @ ..] => WireIn::Json {
                text: Str::from(text.clone()),
                attachments: rest
                    .iter()
                    .map(|m| match m {
                        Message::Binary(b) => b.clone(),
                        Message::Text(_) => panic!("text message after the header"),
                    })
                    .collect(),
            },
            [Message::Binary(b)] => WireIn::Msgpack(b.clone()),
            _ => panic!("unexpected wire shape {wire:?}"),
        }
    }
}

/// Per-connection parser state, as socketioxide keeps it per socket.
#[derive(Debug, Default)]
pub struct Ctx {
    /// Limits (defaults).
    pub config: ParseConfig,
    /// Partial binary packet state; every decode completes its packet, so it can be reused.
    pub state: ParserState,
}

/// Decodes wire messages into a socketioxide `Packet`, feeding attachments as they come.
pub fn decode_packet(ctx: &Ctx, wire: &WireIn) -> Result<Packet, ParseError> {
    match wire {
        WireIn::Json { text, attachments } => {
            let mut result = CommonParser.decode_str(&ctx.config, &ctx.state, text.clone());
            for attachment in attachments {
                match result {
                    Err(ParseError::NeedsMoreBinaryData) => {
                        result =
                            CommonParser.decode_bin(&ctx.config, &ctx.state, attachment.clone());
                    }
                    _ => break,
                }
            }
            result
        }
        WireIn::Msgpack(bin) => MsgPackParser.decode_bin(&ctx.config, &ctx.state, bin.clone()),
    }
}

/// The ack id and the data of an EVENT or ACK packet.
fn split(packet: Packet) -> Result<(Option<i64>, SioValue), String> {
    match packet.inner {
        PacketData::Event(data, id) | PacketData::BinaryEvent(data, id) => Ok((id, data)),
        PacketData::EventAck(data, id) | PacketData::BinaryAck(data, id) => Ok((Some(id), data)),
        other => Err(format!("unexpected packet {other:?}")),
    }
}

/// Timed decode of plain JSON arguments: packet, then `[name, args...]` in one `decode_value`.
pub fn decode_values(
    format: Format,
    ctx: &Ctx,
    wire: &WireIn,
) -> Result<(Option<i64>, AllElements), String> {
    let packet = decode_packet(ctx, wire).map_err(|e| e.to_string())?;
    let (id, mut data) = split(packet)?;
    let all = match format {
        Format::Json => CommonParser.decode_value::<AllElements>(&mut data, false),
        Format::Msgpack => MsgPackParser.decode_value::<AllElements>(&mut data, false),
    }
    .map_err(|e| e.to_string())?;
    Ok((id, all))
}

/// Timed decode of the binary input: packet, then `(name, Value, Bytes)` in one `decode_value`.
pub fn decode_typed(
    format: Format,
    ctx: &Ctx,
    wire: &WireIn,
) -> Result<(Option<i64>, Typed), String> {
    let packet = decode_packet(ctx, wire).map_err(|e| e.to_string())?;
    let (id, mut data) = split(packet)?;
    let typed = match format {
        Format::Json => CommonParser.decode_value::<Typed>(&mut data, false),
        Format::Msgpack => MsgPackParser.decode_value::<Typed>(&mut data, false),
    }
    .map_err(|e| e.to_string())?;
    Ok((id, typed))
}

/// Timed typed decode: the packet, then ONE `decode_value::<T::Whole>(&mut data, false)` (name
/// and typed arguments in one pass, strings borrowed where the deserializer can); `f` receives the
/// event name, the ack id and the typed arguments, which are dropped inside the timed loop.
#[inline]
pub fn decode_typed_args<T: TypedArgs, R>(
    format: Format,
    ctx: &Ctx,
    wire: &WireIn,
    f: impl for<'a> FnOnce(Option<&'a str>, Option<i64>, T::Args<'a>) -> R,
) -> Result<R, String> {
    let packet = decode_packet(ctx, wire).map_err(|e| e.to_string())?;
    let (id, mut data) = split(packet)?;
    let whole = match format {
        Format::Json => CommonParser.decode_value::<T::Whole<'_>>(&mut data, false),
        Format::Msgpack => MsgPackParser.decode_value::<T::Whole<'_>>(&mut data, false),
    }
    .map_err(|e| e.to_string())?;
    let (name, args) = T::split(whole);
    Ok(f(name.as_deref(), id, args))
}

fn ack_id(id: Option<i64>) -> Result<Option<u64>, String> {
    id.map(|id| u64::try_from(id).map_err(|e| e.to_string()))
        .transpose()
}

/// Decodes canonical messages into the comparable form (not timed). `binary` selects the typed
/// path used for the binary input.
pub fn decode(wire: &[Message], format: Format, binary: bool) -> Result<Decoded, String> {
    let ctx = Ctx::default();
    let wire = WireIn::new(wire);
    let is_event = match decode_packet(&ctx, &wire).map_err(|e| e.to_string())?.inner {
        PacketData::Event(..) | PacketData::BinaryEvent(..) => true,
        PacketData::EventAck(..) | PacketData::BinaryAck(..) => false,
        other => return Err(format!("unexpected packet {other:?}")),
    };
    if binary {
        let (id, (name, value, bin)) = decode_typed(format, &ctx, &wire)?;
        Ok(Decoded {
            event: Some(name),
            ack_id: ack_id(id)?,
            args: Args::Binary(value, bin),
        })
    } else {
        let (id, AllElements(mut all)) = decode_values(format, &ctx, &wire)?;
        let event = if is_event {
            match all.first() {
                Some(Value::String(_)) => match all.remove(0) {
                    Value::String(name) => Some(name),
                    _ => None,
                },
                _ => return Err("event without a name".to_owned()),
            }
        } else {
            None
        };
        Ok(Decoded {
            event,
            ack_id: ack_id(id)?,
            args: Args::Values(all),
        })
    }
}

/// Builds the packet around encoded data: EVENT (with the requested ack id) or ACK.
fn packet(event: Option<&str>, ack_id: Option<u64>, data: SioValue) -> Packet {
    // socketioxide's ack ids are i64; the inputs' ids are small.
    let id = ack_id.map(|id| i64::try_from(id).unwrap_or(i64::MAX));
    match (event, id) {
        (Some(_), id) => {
            let mut packet = Packet::event("/", data);
            if let Some(id) = id {
                packet.inner.set_ack_id(id);
            }
            packet
        }
        (None, id) => Packet::ack("/", data, id.unwrap_or(0)),
    }
}

/// Timed encode of plain JSON arguments: `encode_value` + `encode`.
pub fn encode_values(
    format: Format,
    event: Option<&str>,
    ack_id: Option<u64>,
    args: &[Value],
) -> Result<SioValue, String> {
    let data = match format {
        Format::Json => CommonParser.encode_value(&ArgsTuple(args), event),
        Format::Msgpack => MsgPackParser.encode_value(&ArgsTuple(args), event),
    }
    .map_err(|e| e.to_string())?;
    let packet = packet(event, ack_id, data);
    Ok(match format {
        Format::Json => CommonParser.encode(packet),
        Format::Msgpack => MsgPackParser.encode(packet),
    })
}

/// Timed encode of the binary input's typed arguments: `encode_value` + `encode`.
pub fn encode_typed(
    format: Format,
    event: Option<&str>,
    ack_id: Option<u64>,
    value: &Value,
    bin: &Bytes,
) -> Result<SioValue, String> {
    let data = match format {
        Format::Json => CommonParser.encode_value(&(value, bin), event),
        Format::Msgpack => MsgPackParser.encode_value(&(value, bin), event),
    }
    .map_err(|e| e.to_string())?;
    let packet = packet(event, ack_id, data);
    Ok(match format {
        Format::Json => CommonParser.encode(packet),
        Format::Msgpack => MsgPackParser.encode(packet),
    })
}

/// Timed encode of any input.
pub fn encode_input(input: &Input, format: Format) -> Result<SioValue, String> {
    match &input.args {
        Args::Values(args) => encode_values(format, input.event, input.ack_id, args),
        Args::Binary(value, bin) => encode_typed(format, input.event, input.ack_id, value, bin),
    }
}

/// Encodes `input` into canonical messages (not timed). Panics if socketioxide fails on an input.
pub fn encode(input: &Input, format: Format) -> Vec<Message> {
    match encode_input(input, format) {
        Ok(SioValue::Str(text, attachments)) => std::iter::once(Message::Text(text.into()))
            .chain(attachments.into_iter().flatten().map(Message::Binary))
            .collect(),
        Ok(SioValue::Bytes(bin)) => vec![Message::Binary(bin)],
        Err(e) => panic!("socketioxide cannot encode {}: {e}", input.id),
    }
}
