//! Sans-IO Socket.IO protocol core: packets, the default (JSON) parser with binary attachments,
//! the msgpack parser, and every decoding limit. Socket.IO protocol v5 (socket.io 3.x and 4.x);
//! protocol v4 (socket.io 2.x) behind the `v4` feature.
//!
//! This crate never touches a socket, a clock or a task. The server and the client both feed it the
//! engine.io messages of a connection and get [`Packet`]s back, and ask it for the messages to send.
//!
//! ```text
//!   engine.io messages in                                           engine.io messages out
//!  ───── Message::Text / Binary ──► Decoder ──► Packet        Parser::encode_* ──► Encoded ─────►
//!                                   (binary reassembly,        (one buffer, shared by every
//!                                    limits, validation)        recipient of a broadcast)
//! ```
//!
//! # Parsers
//!
//! [`Parser::Json`] is Node's default `socket.io-parser`:
//! `<type>[<attachments>-][<nsp>,][<ack id>][<JSON payload>]`, binary values replaced by
//! `{"_placeholder":true,"num":N}` and sent as N separate binary messages after the text.
//! `Parser::Msgpack` (default feature `msgpack`) is npm `socket.io-msgpack-parser`: each packet is
//! one binary message, the packet object as notepack writes it. The parser is a runtime value, so a
//! server can choose it per connection without a generic parameter.
//!
//! # Arguments
//!
//! Received arguments stay raw ([`Args`]: a slice of the received message, no copy) and are parsed
//! only when a handler asks: [`Args::deserialize`] into its types, [`Args::to_values`] into
//! `serde_json::Value`s. The event name is extracted at decode time.
//!
//! Sent arguments are any `Serialize` value, by one rule for every encoder: `()` is no argument,
//! a tuple or another sequence is one argument per element, anything else is one argument. To send a
//! single array argument, wrap it in a 1-tuple: `(vec,)`. Bytes (`bytes::Bytes`, `serde_bytes`) are
//! binary: attachments with the JSON parser, `bin` with msgpack.
//!
//! # Validation at decode time
//!
//! Node's `JSON.parse` reads the whole payload when a packet arrives, and a malformed payload makes
//! the server close the connection (`"parse error"`). By default ([`Validation::Lazy`]) the
//! [`Decoder`] checks the packet's shape, the event name and the array brackets, and leaves the
//! arguments to the handler's one pass: [`Args::deserialize`] and [`Args::to_values`] validate the
//! *whole* array as they go (extra trailing elements that the target type ignores included, and
//! the depth limit too), so a malformed payload is always an [`ArgsError`], never a value.
//!
//! A server therefore decodes lazily and, when a handler's deserialization fails, re-runs
//! [`Args::validate`] on that error path only: a syntax (or depth) error there closes the
//! connection with `"parse error"`, as Node does; a payload that is well-formed but does not fit
//! the handler's types is a handler error. Binary placeholders are resolved when the arguments are
//! deserialized (a placeholder naming a missing attachment is then an [`ArgsError`]);
//! [`Args::to_values`] leaves them as their `{"_placeholder":true,"num":N}` objects.
//!
//! [`Validation::Full`] keeps the eager behaviour: the payload is checked once when the packet
//! arrives, without building anything (`socketio_json::validate`, or the msgpack skip), so a
//! malformed or too-deep payload is a [`DecodeError`] and never reaches a handler, and binary
//! packets get their placeholders checked against the attachments received, as Node's
//! `reconstructPacket` does. Handlers then deserialize with a second pass.
//!
//! # Compatibility notes
//!
//! - An event whose first element is a number is refused ([`DecodeError::EventNameNotString`]);
//!   Node's parser lets it through, but no socket.io client API produces one.
//! - Reserved event names are refused for both parsers (Node's msgpack parser does not check them,
//!   which lets a client fire the server's own `disconnect` listeners).
//! - An empty event array is refused for both parsers (Node's msgpack parser accepts it).
//! - Attachment counts and ack ids are plain ASCII digits (Node's `Number()` also accepts forms such
//!   as `1e0` or `0x1`); an ack id above 2^53-1 is refused rather than rounded.
//!
//! # Example
//!
//! ```
//! use socketio_proto::{AckId, Decoder, Limits, Message, PacketData, Parser, ProtocolVersion};
//!
//! // Server side: a client's event with an ack id…
//! let mut decoder = Decoder::new(Parser::Json, ProtocolVersion::V5, Limits::default());
//! let packet = decoder.decode_text(r#"2/chat,12["message","hi",{"to":"bob"}]"#.into())?.unwrap();
//! let PacketData::Event(event) = packet.data else { unreachable!() };
//! assert_eq!((&*packet.nsp, event.name(), event.ack), ("/chat", "message", AckId::new(12)));
//! let (text, _meta): (String, serde_json::Value) = event.args().deserialize()?;
//! assert_eq!(text, "hi");
//!
//! // …and its answer.
//! let ack = Parser::Json.encode_ack(&packet.nsp, event.ack.unwrap(), &("ok",))?;
//! assert_eq!(ack.packet, Message::Text(r#"3/chat,12["ok"]"#.into()));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod args;
mod decoder;
mod encode;
mod error;
mod json;
mod limits;
#[cfg(feature = "msgpack")]
mod msgpack;
mod packet;
mod ser;

use serde::Serialize;

pub use args::{Args, ConnectErrorData, ConnectOk, RawValue};
pub use decoder::Decoder;
pub use encode::{AckTemplate, Encoded, Message};
pub use error::{ArgsError, DecodeError, EncodeError};
pub use limits::Limits;
#[cfg(feature = "v4")]
pub use packet::split_namespace_query;
pub use packet::{
    Ack, AckId, AckIdOutOfRange, Event, MAIN_NAMESPACE, Packet, PacketData, PacketType,
    RESERVED_EVENTS, is_reserved_event,
};
pub use ser::Append;

/// The Socket.IO protocol revision of a connection. It follows from the engine.io revision: `EIO=4`
/// is Socket.IO v5, `EIO=3` is Socket.IO v4.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum ProtocolVersion {
    /// Protocol v4 (socket.io 2.x): no `CONNECT` payload (auth travels in the namespace's query
    /// string), `ERROR` (4) payloads are usually strings.
    #[cfg(feature = "v4")]
    V4,
    /// Protocol v5 (socket.io 3.x and 4.x).
    #[default]
    V5,
}

/// How much of a payload [`Decoder`] checks when a packet arrives. See
/// [the crate documentation](crate#validation-at-decode-time).
///
/// The msgpack parser always checks the whole packet (finding where `data` ends means reading it),
/// so this only changes the JSON parser.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Validation {
    /// The default: only the packet shape, the event name and the array brackets; the rest is
    /// checked, entirely, when the arguments are deserialized (one pass).
    #[default]
    Lazy,
    /// The whole payload is checked on arrival, as Node's `JSON.parse` does: malformed or too-deep
    /// payloads and dangling binary placeholders are decode errors (two passes).
    Full,
}

/// The packet format of a connection, chosen at run time.
///
/// All encoders check what Node checks before sending: the namespace must start with `/` (and, for
/// the JSON parser, must not contain `,`), the event name must not be reserved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Parser {
    /// Node's default `socket.io-parser` (text packets, binary attachments).
    #[default]
    Json,
    /// npm `socket.io-msgpack-parser` (one binary message per packet).
    #[cfg(feature = "msgpack")]
    Msgpack,
}

impl Parser {
    /// A decoder for one connection.
    pub fn decoder(self, version: ProtocolVersion, limits: Limits) -> Decoder {
        Decoder::new(self, version, limits)
    }

    /// Encodes a packet value (raw payloads are copied as they are; they must come from this
    /// parser).
    pub fn encode(self, packet: &Packet) -> Result<Encoded, EncodeError> {
        match self {
            Parser::Json => json::encode_packet(packet),
            #[cfg(feature = "msgpack")]
            Parser::Msgpack => msgpack::encode_packet(packet),
        }
    }

    /// Encodes `EVENT` `event` with `args` (see [the argument rule](crate#arguments)) to
    /// namespace `nsp`, with an ack id when the sender waits for an answer. The arguments are
    /// serialized straight into the packet; the result can be cloned to every recipient.
    ///
    /// ```
    /// use socketio_proto::{AckId, Message, Parser};
    /// let e = Parser::Json.encode_event("/", "hello", &(1, "two"), None)?;
    /// assert_eq!(e.packet, Message::Text(r#"2["hello",1,"two"]"#.into()));
    /// let e = Parser::Json.encode_event("/admin", "file", &bytes::Bytes::from_static(b"\x01"), AckId::new(3))?;
    /// assert_eq!(e.packet, Message::Text(r#"51-/admin,3["file",{"_placeholder":true,"num":0}]"#.into()));
    /// assert_eq!(e.attachments, [bytes::Bytes::from_static(b"\x01")]);
    /// # Ok::<(), socketio_proto::EncodeError>(())
    /// ```
    pub fn encode_event<T: ?Sized + Serialize>(
        self,
        nsp: &str,
        event: &str,
        args: &T,
        ack: Option<AckId>,
    ) -> Result<Encoded, EncodeError> {
        match self {
            Parser::Json => json::encode_event(nsp, event, args, ack),
            #[cfg(feature = "msgpack")]
            Parser::Msgpack => msgpack::encode_event(nsp, event, args, ack),
        }
    }

    /// [`encode_event`](Parser::encode_event) for arguments that are `serde_json::Value`s, one
    /// argument per element, written by each format's direct `Value` writer (no serde dispatch).
    /// The bytes are the same as `encode_event(nsp, event, args, ack)`'s.
    ///
    /// ```
    /// use serde_json::json;
    /// use socketio_proto::{AckId, Message, Parser};
    /// let args = [json!({"to": "bob"}), json!(1.5)];
    /// let e = Parser::Json.encode_event_values("/", "msg", &args, AckId::new(7))?;
    /// assert_eq!(e.packet, Message::Text(r#"27["msg",{"to":"bob"},1.5]"#.into()));
    /// assert_eq!(e, Parser::Json.encode_event("/", "msg", &args[..], AckId::new(7))?);
    /// # Ok::<(), socketio_proto::EncodeError>(())
    /// ```
    pub fn encode_event_values(
        self,
        nsp: &str,
        event: &str,
        args: &[serde_json::Value],
        ack: Option<AckId>,
    ) -> Result<Encoded, EncodeError> {
        match self {
            Parser::Json => json::encode_event_values(nsp, event, args, ack),
            #[cfg(feature = "msgpack")]
            Parser::Msgpack => msgpack::encode_event_values(nsp, event, args, ack),
        }
    }

    /// [`encode_ack`](Parser::encode_ack) for `serde_json::Value` arguments (see
    /// [`encode_event_values`](Parser::encode_event_values)).
    pub fn encode_ack_values(
        self,
        nsp: &str,
        id: AckId,
        args: &[serde_json::Value],
    ) -> Result<Encoded, EncodeError> {
        match self {
            Parser::Json => json::encode_ack_values(nsp, id, args),
            #[cfg(feature = "msgpack")]
            Parser::Msgpack => msgpack::encode_ack_values(nsp, id, args),
        }
    }

    /// Encodes `EVENT` `event` with raw arguments, e.g. received ones being forwarded as they are:
    /// their bytes (and attachments) are copied, nothing is parsed. They must come from this
    /// parser ([`EncodeError::ParserMismatch`] otherwise).
    ///
    /// ```
    /// use socketio_proto::{Decoder, Limits, Message, PacketData, Parser, ProtocolVersion};
    /// let mut d = Decoder::new(Parser::Json, ProtocolVersion::V5, Limits::default());
    /// let p = d.decode_text(r#"2["chat",{"text":"hi"},2]"#.into())?.unwrap();
    /// let PacketData::Event(e) = &p.data else { unreachable!() };
    /// let fwd = Parser::Json.encode_event_args("/room", "chat", e.args(), None)?;
    /// assert_eq!(fwd.packet, Message::Text(r#"2/room,["chat",{"text":"hi"},2]"#.into()));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn encode_event_args(
        self,
        nsp: &str,
        event: &str,
        args: &Args,
        ack: Option<AckId>,
    ) -> Result<Encoded, EncodeError> {
        match self {
            Parser::Json => json::encode_event_args(nsp, event, args, ack),
            #[cfg(feature = "msgpack")]
            Parser::Msgpack => msgpack::encode_event_args(nsp, event, args, ack),
        }
    }

    /// Encodes the `ACK` answering event `id` with `args`.
    pub fn encode_ack<T: ?Sized + Serialize>(
        self,
        nsp: &str,
        id: AckId,
        args: &T,
    ) -> Result<Encoded, EncodeError> {
        match self {
            Parser::Json => json::encode_ack(nsp, id, args),
            #[cfg(feature = "msgpack")]
            Parser::Msgpack => msgpack::encode_ack(nsp, id, args),
        }
    }

    /// Encodes an `EVENT` once for many recipients that each get their own ack id (an acked
    /// broadcast); see [`AckTemplate`].
    pub fn event_template<T: ?Sized + Serialize>(
        self,
        nsp: &str,
        event: &str,
        args: &T,
    ) -> Result<AckTemplate, EncodeError> {
        match self {
            Parser::Json => json::event_template(nsp, event, args),
            #[cfg(feature = "msgpack")]
            Parser::Msgpack => msgpack::event_template(nsp, event, args),
        }
    }

    /// Encodes a client's `CONNECT` to `nsp`, with an optional `auth` payload (protocol v5; it must
    /// serialize as an object). With `None` this is also the protocol v4 server's `CONNECT`.
    pub fn encode_connect<T: ?Sized + Serialize>(
        self,
        nsp: &str,
        auth: Option<&T>,
    ) -> Result<Encoded, EncodeError> {
        self.encode_simple(PacketType::Connect, nsp, auth)
    }

    /// Encodes a v5 server's `CONNECT` answer: `{"sid":..}`, or `{"sid":..,"pid":..}` with
    /// connection state recovery.
    ///
    /// ```
    /// use socketio_proto::{Message, Parser};
    /// let e = Parser::Json.encode_connect_ok("/admin", "oSO0OpakMV_3jnilAAAA", None)?;
    /// assert_eq!(e.packet, Message::Text(r#"0/admin,{"sid":"oSO0OpakMV_3jnilAAAA"}"#.into()));
    /// # Ok::<(), socketio_proto::EncodeError>(())
    /// ```
    pub fn encode_connect_ok(
        self,
        nsp: &str,
        sid: &str,
        pid: Option<&str>,
    ) -> Result<Encoded, EncodeError> {
        match self {
            Parser::Json => json::encode_connect_ok(nsp, sid, pid),
            #[cfg(feature = "msgpack")]
            Parser::Msgpack => msgpack::encode_connect_ok(nsp, sid, pid),
        }
    }

    /// Encodes a v5 `CONNECT_ERROR` `{"message":..}` or `{"message":..,"data":..}`.
    ///
    /// ```
    /// use socketio_proto::{Message, Parser};
    /// let e = Parser::Json.encode_connect_error("/", "Not authorized", None::<&()>)?;
    /// assert_eq!(e.packet, Message::Text(r#"4{"message":"Not authorized"}"#.into()));
    /// # Ok::<(), socketio_proto::EncodeError>(())
    /// ```
    pub fn encode_connect_error<T: ?Sized + Serialize>(
        self,
        nsp: &str,
        message: &str,
        data: Option<&T>,
    ) -> Result<Encoded, EncodeError> {
        #[derive(Serialize)]
        struct Payload<'a, T: ?Sized> {
            message: &'a str,
            #[serde(skip_serializing_if = "Option::is_none")]
            data: Option<&'a T>,
        }
        self.encode_simple(
            PacketType::ConnectError,
            nsp,
            Some(&Payload { message, data }),
        )
    }

    /// Encodes a protocol v4 `ERROR` packet, whose payload is the message string.
    #[cfg(feature = "v4")]
    pub fn encode_connect_error_v4(self, nsp: &str, message: &str) -> Result<Encoded, EncodeError> {
        self.encode_simple(PacketType::ConnectError, nsp, Some(message))
    }

    /// Encodes a `DISCONNECT` from `nsp`.
    pub fn encode_disconnect(self, nsp: &str) -> Result<Encoded, EncodeError> {
        self.encode_simple(PacketType::Disconnect, nsp, None::<&()>)
    }

    fn encode_simple<T: ?Sized + Serialize>(
        self,
        ty: PacketType,
        nsp: &str,
        data: Option<&T>,
    ) -> Result<Encoded, EncodeError> {
        match self {
            Parser::Json => json::encode_simple(ty, nsp, data),
            #[cfg(feature = "msgpack")]
            Parser::Msgpack => msgpack::encode_simple(ty, nsp, data),
        }
    }
}
