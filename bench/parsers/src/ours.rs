//! Our side: `socketio-proto`'s packet codecs over `socketio-json` and `socketio-msgpack`.
//!
//! Decode = a per-connection [`Decoder`] with its defaults (`Limits::default()`, `Validation::Lazy`:
//! the one pass that reads the arguments validates all of them, see `socketio_proto::Validation`),
//! fed the text message
//! and its attachments (or the msgpack message), then `Args::to_values()` for plain arguments or
//! `Args::deserialize::<(Value, Bytes)>()` for the binary input. The event name is a field of the
//! decoded packet.
//!
//! Encode = `Parser::encode_event_values` / `Parser::encode_ack_values` with the `Value` arguments
//! (the direct `Value` writers), or `Parser::encode_event` with the typed pair for the binary
//! input; each returns every wire message.

use bytes::Bytes;
use bytestring::ByteString;
use serde_json::Value;
use socketio_proto::{
    AckId, ArgsError, Decoder, Encoded, Limits, Message as SioMessage, Packet, PacketData, Parser,
    ProtocolVersion, Validation,
};

use crate::typed::Typed;
use crate::{Args, Decoded, Format, Input, Message};

/// Our parser for `format`.
pub fn parser(format: Format) -> Parser {
    match format {
        Format::Json => Parser::Json,
        Format::Msgpack => Parser::Msgpack,
    }
}

/// A decoder as a server keeps it per connection, with the default limits and validation
/// (`Validation::Lazy`: the arguments are validated, entirely, by the one pass that reads them).
pub fn decoder(format: Format) -> Decoder {
    Decoder::new(parser(format), ProtocolVersion::V5, Limits::default())
}

/// The same decoder with `Validation::Full`: the whole payload is checked on arrival, then parsed
/// again when the arguments are read (two passes).
pub fn decoder_full(format: Format) -> Decoder {
    decoder(format).with_validation(Validation::Full)
}

/// Wire messages in our own types, built once outside the timed loops (cloning them is a
/// reference-count increment, as for the engine.io message the decoder receives).
#[derive(Debug, Clone)]
pub struct WireIn(pub Vec<SioMessage>);

impl WireIn {
    /// Converts canonical messages.
    pub fn new(wire: &[Message]) -> Self {
        WireIn(
            wire.iter()
                .map(|m| match m {
                    Message::Text(t) => SioMessage::Text(ByteString::from(t.clone())),
                    Message::Binary(b) => SioMessage::Binary(b.clone()),
                })
                .collect(),
        )
    }
}

/// Feeds the messages to the decoder until the packet completes (on the last one), then hands
/// the packet to `f` where the decoder returned it (a server matches on the result the same way;
/// moving the packet out first would copy it).
#[inline]
fn with_packet<R>(
    decoder: &mut Decoder,
    wire: &WireIn,
    f: impl FnOnce(&Packet) -> Result<R, String>,
) -> Result<R, String> {
    for message in &wire.0 {
        match decoder.decode(message.clone()) {
            Ok(Some(ref packet)) => return f(packet),
            Ok(None) => {}
            Err(e) => return Err(e.to_string()),
        }
    }
    Err("incomplete packet".to_owned())
}

/// What the application receives, kept past the decode (not timed): the event name (none for an
/// ACK), the ack id and the arguments.
pub type Received<T> = (Option<String>, Option<AckId>, T);

/// The event name (none for an ACK), the ack id and the arguments that `args` reads, handed to
/// `f` while the packet is alive.
#[inline]
fn read<'p, T, R>(
    packet: &'p Packet,
    args: impl FnOnce(&'p socketio_proto::Args) -> Result<T, ArgsError>,
    f: impl FnOnce(Option<&'p str>, Option<AckId>, T) -> R,
) -> Result<R, String> {
    match &packet.data {
        PacketData::Event(e) => {
            let args = args(e.args()).map_err(|e| e.to_string())?;
            Ok(f(Some(e.name()), e.ack, args))
        }
        PacketData::Ack(a) => {
            let args = args(&a.args).map_err(|e| e.to_string())?;
            Ok(f(None, Some(a.id), args))
        }
        other => Err(format!("unexpected packet {other:?}")),
    }
}

/// Timed decode of plain JSON arguments: `f` receives the event name, the ack id and the
/// arguments as `Value`s; the packet and the values are dropped inside the timed loop.
#[inline]
pub fn decode_values<R>(
    decoder: &mut Decoder,
    wire: &WireIn,
    f: impl FnOnce(Option<&str>, Option<AckId>, Vec<Value>) -> R,
) -> Result<R, String> {
    with_packet(decoder, wire, |packet| {
        read(packet, socketio_proto::Args::to_values, f)
    })
}

/// Timed decode of the binary input: `f` receives the event name, the ack id and the typed
/// arguments.
#[inline]
pub fn decode_typed<R>(
    decoder: &mut Decoder,
    wire: &WireIn,
    f: impl FnOnce(Option<&str>, Option<AckId>, (Value, Bytes)) -> R,
) -> Result<R, String> {
    with_packet(decoder, wire, |packet| {
        read(packet, |args| args.deserialize::<(Value, Bytes)>(), f)
    })
}

/// Timed typed decode: the packet, then `Args::deserialize::<T::Args>()`; `f` receives the event
/// name (borrowed from the packet), the ack id and the typed arguments (borrowing from the
/// received message), which are dropped inside the timed loop.
#[inline]
pub fn decode_typed_args<T: Typed, R>(
    decoder: &mut Decoder,
    wire: &WireIn,
    f: impl for<'a> FnOnce(Option<&'a str>, Option<AckId>, T::Args<'a>) -> R,
) -> Result<R, String> {
    with_packet(decoder, wire, |packet| {
        read(packet, |args| args.deserialize::<T::Args<'_>>(), f)
    })
}

fn ack(ack_id: Option<u64>) -> Result<Option<AckId>, String> {
    ack_id
        .map(|id| AckId::new(id).ok_or_else(|| format!("ack id {id} out of range")))
        .transpose()
}

/// Timed encode of plain JSON arguments (`event` `None` = an ACK).
pub fn encode_values(
    format: Format,
    event: Option<&str>,
    ack_id: Option<u64>,
    args: &[Value],
) -> Result<Encoded, String> {
    let parser = parser(format);
    match (event, ack(ack_id)?) {
        (Some(event), id) => parser.encode_event_values("/", event, args, id),
        (None, Some(id)) => parser.encode_ack_values("/", id, args),
        (None, None) => return Err("an ACK needs an id".to_owned()),
    }
    .map_err(|e| e.to_string())
}

/// Timed encode of the binary input's typed arguments.
pub fn encode_typed(
    format: Format,
    event: Option<&str>,
    ack_id: Option<u64>,
    value: &Value,
    bin: &Bytes,
) -> Result<Encoded, String> {
    let parser = parser(format);
    let args = (value, bin);
    match (event, ack(ack_id)?) {
        (Some(event), id) => parser.encode_event("/", event, &args, id),
        (None, Some(id)) => parser.encode_ack("/", id, &args),
        (None, None) => return Err("an ACK needs an id".to_owned()),
    }
    .map_err(|e| e.to_string())
}

/// Decodes canonical messages into the comparable form (not timed). `binary` selects the typed
/// path used for the binary input.
pub fn decode(wire: &[Message], format: Format, binary: bool) -> Result<Decoded, String> {
    decode_using(decoder(format), wire, binary)
}

/// [`decode`] with the [`decoder_full`] decoder.
pub fn decode_full(wire: &[Message], format: Format, binary: bool) -> Result<Decoded, String> {
    decode_using(decoder_full(format), wire, binary)
}

fn decode_using(mut decoder: Decoder, wire: &[Message], binary: bool) -> Result<Decoded, String> {
    let wire = WireIn::new(wire);
    let (name, id, args): Received<Args> = if binary {
        decode_typed(&mut decoder, &wire, |name, id, (value, bin)| {
            (name.map(str::to_owned), id, Args::Binary(value, bin))
        })?
    } else {
        decode_values(&mut decoder, &wire, |name, id, values| {
            (name.map(str::to_owned), id, Args::Values(values))
        })?
    };
    Ok(Decoded {
        event: name,
        ack_id: id.map(AckId::get),
        args,
    })
}

/// Encodes `input` into wire messages (not timed).
pub fn encode(input: &Input, format: Format) -> Result<Vec<Message>, String> {
    let encoded = match &input.args {
        Args::Values(args) => encode_values(format, input.event, input.ack_id, args),
        Args::Binary(value, bin) => encode_typed(format, input.event, input.ack_id, value, bin),
    }?;
    Ok(encoded
        .into_messages()
        .into_iter()
        .map(|m| match m {
            SioMessage::Text(t) => Message::Text(t.to_string()),
            SioMessage::Binary(b) => Message::Binary(b),
        })
        .collect())
}
