//! Engine.IO packets: the text and binary encodings of one packet, and WebSocket frames.
//!
//! A packet is a type digit followed by optional data (`4hello`, `2probe`, `6`). How binary data
//! travels depends on the protocol revision:
//!
//! | where                       | v4                    | v3                              |
//! |-----------------------------|-----------------------|---------------------------------|
//! | WebSocket binary frame      | the raw bytes         | byte `0x04`, then the bytes     |
//! | text (payloads, b64 clients)| `b` + base64          | `b4` + base64                   |
//!
//! ```
//! use engineio_proto::{Packet, ProtocolVersion, Str, packet::Frame};
//!
//! let packet = Packet::decode_text(Str::from_static("2probe"), ProtocolVersion::V4)?;
//! assert_eq!(packet, Packet::Ping(Str::from_static("probe")));
//! let answer = Packet::Pong(Str::from_static("probe"));
//! assert_eq!(answer.to_frame(ProtocolVersion::V4), Frame::Text(Str::from_static("3probe")));
//! # Ok::<(), engineio_proto::DecodeError>(())
//! ```

use std::borrow::Cow;

use base64::Engine as _;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use bytes::{Bytes, BytesMut};
use serde::Deserialize;

use crate::{DecodeError, ProtocolVersion, Str};

/// The type of an Engine.IO packet, as the digit that starts its text encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum PacketType {
    /// `0`: sent by the server when a session opens.
    Open = 0,
    /// `1`: closes the session.
    Close = 1,
    /// `2`: heartbeat request (or upgrade probe `2probe`).
    Ping = 2,
    /// `3`: heartbeat answer (or probe answer `3probe`).
    Pong = 3,
    /// `4`: a message for the layer above.
    Message = 4,
    /// `5`: completes a transport upgrade.
    Upgrade = 5,
    /// `6`: does nothing; flushes a pending long-polling request during an upgrade.
    Noop = 6,
}

/// One Engine.IO packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Packet {
    /// The handshake, sent by the server.
    /// (Boxed: it is sent once per session, and every queued packet is as large as the
    /// largest variant.)
    Open(Box<OpenPacket>),
    /// Close the session.
    Close,
    /// A ping; the data is empty for a heartbeat and `probe` during an upgrade.
    Ping(Str),
    /// A pong; echoes the data of the ping it answers.
    Pong(Str),
    /// A text message.
    Message(Str),
    /// A binary message.
    Binary(Bytes),
    /// Completes an upgrade.
    Upgrade,
    /// No operation.
    Noop,
    /// A text message whose encoding (the type character `4`, then the text) was written ahead,
    /// once for every recipient of a broadcast: sending it copies nothing. Build it with
    /// [`Packet::framed_message`]; decoders never produce it.
    Framed(Str),
}

/// The data of the [`Packet::Open`] handshake, a JSON object on the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenPacket {
    /// The session id.
    pub sid: Str,
    /// Transports the session may upgrade to (`["websocket"]` on a polling session).
    pub upgrades: Vec<Str>,
    /// Milliseconds between two pings.
    pub ping_interval: u64,
    /// Milliseconds a peer has to answer a ping.
    pub ping_timeout: u64,
    /// The largest payload in bytes the server accepts (v4 only; absent in v3).
    ///
    /// `0` means "not announced": a v3 handshake never carries it, and Node's client then applies
    /// no limit when it batches packets (it treats a falsy `maxPayload` as "no limit").
    pub max_payload: u64,
}

/// One WebSocket message of an Engine.IO connection.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Frame {
    /// A text frame: one packet in its text encoding.
    Text(Str),
    /// A binary frame: a binary message (v4: the raw bytes; v3: type byte `0x04`, then the bytes).
    Binary(Bytes),
}

/// Base64 as Node's `Buffer` writes it (standard alphabet, padded). Decoding is lenient where
/// Node's `Buffer.from(s, "base64")` is and that costs nothing: padding is optional and unused
/// trailing bits are ignored. Characters outside the alphabet are still an error.
pub(crate) const BASE64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_decode_padding_mode(DecodePaddingMode::Indifferent)
        .with_decode_allow_trailing_bits(true),
);

impl PacketType {
    /// The packet type of a text type digit (`b'0'..=b'6'`).
    #[must_use]
    pub const fn from_digit(digit: u8) -> Option<Self> {
        match digit.wrapping_sub(b'0') {
            byte @ 0..=6 => Self::from_byte(byte),
            _ => None,
        }
    }

    /// The packet type of a binary type byte (`0..=6`, v3 binary packets).
    #[must_use]
    pub const fn from_byte(byte: u8) -> Option<Self> {
        Some(match byte {
            0 => Self::Open,
            1 => Self::Close,
            2 => Self::Ping,
            3 => Self::Pong,
            4 => Self::Message,
            5 => Self::Upgrade,
            6 => Self::Noop,
            _ => return None,
        })
    }

    /// The ASCII digit that starts the text encoding (`b'4'` for a message).
    #[must_use]
    pub const fn digit(self) -> u8 {
        b'0' + self as u8
    }
}

impl Packet {
    /// The type of this packet ([`Packet::Binary`] is a [`PacketType::Message`]).
    #[must_use]
    pub const fn packet_type(&self) -> PacketType {
        match self {
            Self::Open(_) => PacketType::Open,
            Self::Close => PacketType::Close,
            Self::Ping(_) => PacketType::Ping,
            Self::Pong(_) => PacketType::Pong,
            Self::Message(_) | Self::Binary(_) | Self::Framed(_) => PacketType::Message,
            Self::Upgrade => PacketType::Upgrade,
            Self::Noop => PacketType::Noop,
        }
    }

    /// Decodes one packet from its text encoding: a WebSocket text frame, or one packet of a
    /// polling payload. The data of ping, pong and message packets is a slice of `text` (no copy).
    ///
    /// As in Node, a `b` prefix marks base64 binary (`bAQID` in v4, `b4AQID` in v3), and data after
    /// a close, upgrade or noop digit is ignored.
    ///
    /// ```
    /// use engineio_proto::{Packet, ProtocolVersion, Str};
    ///
    /// let packet = Packet::decode_text(Str::from_static("4hello"), ProtocolVersion::V4)?;
    /// assert_eq!(packet, Packet::Message(Str::from_static("hello")));
    /// let packet = Packet::decode_text(Str::from_static("bAQIDBA=="), ProtocolVersion::V4)?;
    /// assert_eq!(packet, Packet::Binary(vec![1, 2, 3, 4].into()));
    /// # Ok::<(), engineio_proto::DecodeError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`DecodeError::Empty`], [`DecodeError::InvalidPacketType`], [`DecodeError::InvalidBase64`],
    /// [`DecodeError::InvalidOpenPacket`], and in v3 [`DecodeError::UnsupportedBinaryPacket`].
    pub fn decode_text(text: Str, version: ProtocolVersion) -> Result<Self, DecodeError> {
        let Some(&first) = text.as_bytes().first() else {
            return Err(DecodeError::Empty);
        };
        if first == b'b' {
            return decode_base64_packet(text.as_bytes().get(1..).unwrap_or_default(), version);
        }
        let kind = PacketType::from_digit(first).ok_or(DecodeError::InvalidPacketType(first))?;
        // The first byte is an ASCII digit, so byte 1 is a character boundary.
        let data = || sub_str(&text, 1);
        Ok(match kind {
            PacketType::Open => Self::Open(Box::new(OpenPacket::from_json(&data())?)),
            PacketType::Close => Self::Close,
            PacketType::Ping => Self::Ping(data()),
            PacketType::Pong => Self::Pong(data()),
            PacketType::Message => Self::Message(data()),
            PacketType::Upgrade => Self::Upgrade,
            PacketType::Noop => Self::Noop,
        })
    }

    /// Decodes one packet from a WebSocket binary frame (or a binary part of a v3 XHR2 payload).
    ///
    /// In v4 the whole frame is a binary message; in v3 the first byte is the packet type, which
    /// must be `4` (message), and the rest is the data (sliced, not copied).
    ///
    /// # Errors
    ///
    /// v3 only: [`DecodeError::Empty`], [`DecodeError::InvalidPacketType`],
    /// [`DecodeError::UnsupportedBinaryPacket`]. v4 never fails.
    pub fn decode_binary(data: Bytes, version: ProtocolVersion) -> Result<Self, DecodeError> {
        match version {
            ProtocolVersion::V4 => Ok(Self::Binary(data)),
            #[cfg(feature = "v3")]
            ProtocolVersion::V3 => {
                let Some(&first) = data.first() else {
                    return Err(DecodeError::Empty);
                };
                binary_message(first)?;
                Ok(Self::Binary(data.slice(1..)))
            }
        }
    }

    /// Decodes one WebSocket message: [`Packet::decode_text`] or [`Packet::decode_binary`].
    ///
    /// # Errors
    ///
    /// Those of the two functions above.
    pub fn decode_frame(frame: Frame, version: ProtocolVersion) -> Result<Self, DecodeError> {
        match frame {
            Frame::Text(text) => Self::decode_text(text, version),
            Frame::Binary(data) => Self::decode_binary(data, version),
        }
    }

    /// The WebSocket message carrying this packet, for a client that supports binary frames.
    ///
    /// Allocates once at most: close, upgrade and noop frames are static, a v4 binary message
    /// shares its bytes, every other packet is written into one buffer of the exact size.
    /// Build it once and clone it (a reference count) for every recipient of a broadcast.
    #[must_use]
    pub fn to_frame(&self, version: ProtocolVersion) -> Frame {
        match (self, version) {
            (Self::Binary(data), ProtocolVersion::V4) => Frame::Binary(data.clone()),
            #[cfg(feature = "v3")]
            (Self::Binary(data), ProtocolVersion::V3) => {
                let mut out = BytesMut::with_capacity(data.len() + 1);
                out.extend_from_slice(&[PacketType::Message as u8]);
                out.extend_from_slice(data);
                Frame::Binary(out.freeze())
            }
            _ => Frame::Text(self.to_text(version)),
        }
    }

    /// A text message encoded once, to be sent to many sessions ([`Packet::Framed`]).
    ///
    /// ```
    /// use engineio_proto::{Packet, ProtocolVersion};
    /// let framed = Packet::framed_message("hello");
    /// assert_eq!(&*framed.to_text(ProtocolVersion::V4), "4hello");
    /// assert_eq!(framed.to_text(ProtocolVersion::V4), Packet::Message("hello".into()).to_text(ProtocolVersion::V4));
    /// ```
    #[must_use]
    pub fn framed_message(text: &str) -> Self {
        let mut frame = String::with_capacity(text.len() + 1);
        frame.push('4');
        frame.push_str(text);
        Self::Framed(Str::from(frame))
    }

    /// The text of a message packet, without its type character ([`Packet::Message`] and
    /// [`Packet::Framed`]).
    #[must_use]
    pub fn message_text(&self) -> Option<Str> {
        match self {
            Self::Message(text) => Some(text.clone()),
            Self::Framed(frame) => Some(frame.slice_ref(frame.get(1..).unwrap_or_default())),
            _ => None,
        }
    }

    /// [`Packet::to_frame`] by value: a pre-framed message or a v4 binary message becomes its
    /// frame without touching the shared bytes' count.
    #[must_use]
    pub fn into_frame(self, version: ProtocolVersion) -> Frame {
        match (self, version) {
            (Self::Framed(frame), _) => Frame::Text(frame),
            (Self::Binary(data), ProtocolVersion::V4) => Frame::Binary(data),
            (other, version) => other.to_frame(version),
        }
    }

    /// The text encoding of this packet; binary data becomes base64 (`b…` in v4, `b4…` in v3),
    /// which is also what a v3 client that asked for `b64=1` gets over WebSocket.
    #[must_use]
    pub fn to_text(&self, version: ProtocolVersion) -> Str {
        let header = match self {
            Self::Close => "1",
            Self::Upgrade => "5",
            Self::Noop => "6",
            Self::Ping(data) if data.is_empty() => "2",
            Self::Pong(data) if data.is_empty() => "3",
            Self::Message(data) if data.is_empty() => "4",
            Self::Framed(frame) => return frame.clone(),
            _ => {
                let mut out = String::with_capacity(self.text_len(version));
                self.write_text(version, &mut out);
                return Str::from(out);
            }
        };
        Str::from_static(header)
    }

    /// Appends the text encoding of this packet (see [`Packet::to_text`]) to `out`, reserving
    /// [`Packet::text_len`] bytes first.
    pub fn encode_text_into(&self, version: ProtocolVersion, out: &mut BytesMut) {
        out.reserve(self.text_len(version));
        self.write_text(version, out);
    }

    /// The length in bytes of the text encoding of this packet.
    #[must_use]
    pub fn text_len(&self, version: ProtocolVersion) -> usize {
        1 + match self {
            Self::Open(open) => open.json_len(version),
            Self::Close | Self::Upgrade | Self::Noop => 0,
            Self::Ping(data) | Self::Pong(data) | Self::Message(data) => data.len(),
            Self::Framed(frame) => frame.len().saturating_sub(1),
            // The leading 1 counts the `b`.
            Self::Binary(data) => base64_prefix(version).len() - 1 + base64_len(data.len()),
        }
    }

    /// The length of the text encoding in UTF-16 code units, as JavaScript's `String.length`
    /// counts it (the v3 string payload length prefix).
    #[cfg(feature = "v3")]
    pub(crate) fn text_utf16_len(&self, version: ProtocolVersion) -> usize {
        1 + match self {
            Self::Open(open) => open.json_utf16_len(version),
            Self::Close | Self::Upgrade | Self::Noop => 0,
            Self::Ping(data) | Self::Pong(data) | Self::Message(data) => utf16_len(data),
            Self::Framed(frame) => utf16_len(frame).saturating_sub(1),
            // base64 is ASCII.
            Self::Binary(data) => base64_prefix(version).len() - 1 + base64_len(data.len()),
        }
    }

    pub(crate) fn write_text(&self, version: ProtocolVersion, out: &mut impl TextSink) {
        match self {
            Self::Open(open) => {
                out.put_text("0");
                open.write_json(version, out);
            }
            Self::Close => out.put_text("1"),
            Self::Ping(data) => {
                out.put_text("2");
                out.put_text(data);
            }
            Self::Pong(data) => {
                out.put_text("3");
                out.put_text(data);
            }
            Self::Message(data) => {
                out.put_text("4");
                out.put_text(data);
            }
            Self::Framed(frame) => out.put_text(frame),
            Self::Binary(data) => {
                out.put_text(base64_prefix(version));
                out.put_base64(data);
            }
            Self::Upgrade => out.put_text("5"),
            Self::Noop => out.put_text("6"),
        }
    }
}

/// What a binary message starts with in text form.
fn base64_prefix(version: ProtocolVersion) -> &'static str {
    match version {
        ProtocolVersion::V4 => "b",
        #[cfg(feature = "v3")]
        ProtocolVersion::V3 => "b4",
    }
}

/// Padded base64 length; saturates instead of overflowing (an impossible allocation anyway).
pub(crate) fn base64_len(len: usize) -> usize {
    base64::encoded_len(len, true).unwrap_or(usize::MAX)
}

/// Checks a v3 binary type byte: only messages carry binary data.
#[cfg(feature = "v3")]
fn binary_message(byte: u8) -> Result<(), DecodeError> {
    match PacketType::from_byte(byte) {
        Some(PacketType::Message) => Ok(()),
        Some(other) => Err(DecodeError::UnsupportedBinaryPacket(other)),
        None => Err(DecodeError::InvalidPacketType(byte)),
    }
}

/// Decodes what follows the `b` of a base64 packet.
fn decode_base64_packet(rest: &[u8], version: ProtocolVersion) -> Result<Packet, DecodeError> {
    let encoded = match version {
        ProtocolVersion::V4 => rest,
        #[cfg(feature = "v3")]
        ProtocolVersion::V3 => {
            let Some((&digit, encoded)) = rest.split_first() else {
                return Err(DecodeError::Empty);
            };
            let kind =
                PacketType::from_digit(digit).ok_or(DecodeError::InvalidPacketType(digit))?;
            binary_message(kind as u8)?;
            encoded
        }
    };
    BASE64
        .decode(encoded)
        .map(|data| Packet::Binary(Bytes::from(data)))
        .map_err(|_| DecodeError::InvalidBase64)
}

/// `text[start..]` sharing the buffer; empty when `start` is not a boundary (callers pass one).
fn sub_str(text: &Str, start: usize) -> Str {
    slice_str(text, start..).unwrap_or_default()
}

/// `text[range]` sharing the buffer, `None` when the range is out of bounds or not on character
/// boundaries.
pub(crate) fn slice_str(
    text: &Str,
    range: impl std::slice::SliceIndex<str, Output = str>,
) -> Option<Str> {
    text.get(range).map(|part| text.slice_ref(part))
}

/// Shares `part` with `parent` when it lies inside it, copies it otherwise.
fn share(parent: &Str, part: &str) -> Str {
    let outer = parent.as_bytes().as_ptr_range();
    let inner = part.as_bytes().as_ptr_range();
    if outer.start <= inner.start && inner.end <= outer.end {
        parent.slice_ref(part)
    } else {
        Str::from(part)
    }
}

/// JavaScript's `String.length` of a UTF-8 string: one unit per character, two for characters
/// outside the Basic Multilingual Plane (4-byte UTF-8 sequences, surrogate pairs in UTF-16).
#[cfg(feature = "v3")]
pub(crate) fn utf16_len(text: &str) -> usize {
    text.bytes()
        .map(|byte| usize::from(!is_continuation(byte)) + usize::from(byte >= 0xF0))
        .sum()
}

#[cfg(feature = "v3")]
const fn is_continuation(byte: u8) -> bool {
    byte & 0xC0 == 0x80
}

/// Destination of text encodings: a `String` for [`Packet::to_text`] (so the result needs no
/// second UTF-8 validation), a `BytesMut` for payloads.
pub(crate) trait TextSink {
    fn put_text(&mut self, text: &str);
    fn put_base64(&mut self, data: &[u8]);
}

impl TextSink for String {
    fn put_text(&mut self, text: &str) {
        self.push_str(text);
    }

    fn put_base64(&mut self, data: &[u8]) {
        BASE64.encode_string(data, self);
    }
}

impl TextSink for BytesMut {
    fn put_text(&mut self, text: &str) {
        self.extend_from_slice(text.as_bytes());
    }

    fn put_base64(&mut self, data: &[u8]) {
        let start = self.len();
        self.resize(start + base64_len(data.len()), 0);
        if let Some(tail) = self.get_mut(start..) {
            // The tail has exactly the encoded length, so this cannot fail.
            let _ = BASE64.encode_slice(data, tail);
        }
    }
}

/// The handshake JSON as the peer sent it; strings borrow from the input when unescaped.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct OpenJson<'a> {
    #[serde(borrow)]
    sid: Cow<'a, str>,
    #[serde(borrow, default)]
    upgrades: Vec<JsonStr<'a>>,
    #[serde(deserialize_with = "millis")]
    ping_interval: u64,
    #[serde(deserialize_with = "millis")]
    ping_timeout: u64,
    #[serde(default, deserialize_with = "millis")]
    max_payload: u64,
}

/// A JSON string that borrows from the input when unescaped (serde only borrows a `Cow` in a
/// field marked `borrow`, not inside a `Vec`).
#[derive(Deserialize)]
struct JsonStr<'a>(#[serde(borrow)] Cow<'a, str>);

/// A non-negative JSON number; a fractional one (a JavaScript number is a double) is truncated.
fn millis<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<u64, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Number {
        Int(u64),
        Float(f64),
    }
    match Number::deserialize(deserializer)? {
        Number::Int(value) => Ok(value),
        // `as` truncates the fraction and saturates at u64::MAX, the right answer for an absurd
        // timer.
        Number::Float(value) if value.is_finite() && value >= 0.0 => Ok(value as u64),
        Number::Float(_) => Err(serde::de::Error::custom("expected a non-negative number")),
    }
}

impl OpenPacket {
    /// Parses the JSON of an open packet (the client side of the handshake).
    ///
    /// Tolerant like Node's client: fields may come in any order, unknown fields are ignored,
    /// `upgrades` defaults to none and `maxPayload` to `0` (absent in v3). `sid`, `pingInterval`
    /// and `pingTimeout` are required. Unescaped strings are slices of `json` (no copy).
    ///
    /// ```
    /// use engineio_proto::{OpenPacket, Str};
    ///
    /// let json = Str::from_static(r#"{"sid":"abc","pingTimeout":60000,"pingInterval":25000}"#);
    /// let open = OpenPacket::from_json(&json)?;
    /// assert_eq!((open.sid.as_ref(), open.ping_interval, open.max_payload), ("abc", 25000, 0));
    /// # Ok::<(), engineio_proto::DecodeError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`DecodeError::InvalidOpenPacket`] when `json` is not such an object.
    pub fn from_json(json: &Str) -> Result<Self, DecodeError> {
        let parsed: OpenJson<'_> = serde_json::from_str(json)
            .map_err(|error| DecodeError::InvalidOpenPacket(error.to_string()))?;
        let to_str = |value: Cow<'_, str>| match value {
            Cow::Borrowed(part) => share(json, part),
            Cow::Owned(owned) => Str::from(owned),
        };
        Ok(Self {
            sid: to_str(parsed.sid),
            upgrades: parsed
                .upgrades
                .into_iter()
                .map(|upgrade| to_str(upgrade.0))
                .collect(),
            ping_interval: parsed.ping_interval,
            ping_timeout: parsed.ping_timeout,
            max_payload: parsed.max_payload,
        })
    }

    /// The JSON Node's engine.io writes for this handshake, byte for byte: keys in the order
    /// `sid`, `upgrades`, `pingInterval`, `pingTimeout`, `maxPayload` (v4 only), no spaces, and
    /// strings escaped as `JSON.stringify` escapes them.
    ///
    /// ```
    /// use engineio_proto::{OpenPacket, ProtocolVersion, Str};
    ///
    /// let open = OpenPacket {
    ///     sid: Str::from_static("lv_VI97HAXpY6yYWAAAC"),
    ///     upgrades: vec![Str::from_static("websocket")],
    ///     ping_interval: 25000,
    ///     ping_timeout: 20000,
    ///     max_payload: 1_000_000,
    /// };
    /// assert_eq!(
    ///     open.to_json(ProtocolVersion::V4),
    ///     r#"{"sid":"lv_VI97HAXpY6yYWAAAC","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}"#,
    /// );
    /// ```
    #[must_use]
    pub fn to_json(&self, version: ProtocolVersion) -> String {
        let mut out = String::with_capacity(self.json_len(version));
        self.write_json(version, &mut out);
        out
    }

    /// The length in bytes of [`OpenPacket::to_json`].
    #[must_use]
    pub fn json_len(&self, version: ProtocolVersion) -> usize {
        self.measure_json(version, |text| json_str_len(text, str::len))
    }

    #[cfg(feature = "v3")]
    fn json_utf16_len(&self, version: ProtocolVersion) -> usize {
        self.measure_json(version, |text| json_str_len(text, utf16_len))
    }

    /// Sums the JSON length, measuring strings with `string` (bytes or UTF-16 units); everything
    /// else is ASCII.
    fn measure_json(&self, version: ProtocolVersion, string: impl Fn(&str) -> usize) -> usize {
        let upgrades: usize = self
            .upgrades
            .iter()
            .map(|upgrade| string(upgrade) + 1)
            .sum();
        let mut len = r#"{"sid":,"upgrades":[],"pingInterval":,"pingTimeout":}"#.len()
            + string(&self.sid)
            + upgrades.saturating_sub(1)
            + decimal_len(self.ping_interval)
            + decimal_len(self.ping_timeout);
        if has_max_payload(version) {
            len += r#","maxPayload":"#.len() + decimal_len(self.max_payload);
        }
        len
    }

    fn write_json(&self, version: ProtocolVersion, out: &mut impl TextSink) {
        let mut digits = itoa::Buffer::new();
        out.put_text(r#"{"sid":"#);
        write_json_str(&self.sid, out);
        out.put_text(r#","upgrades":["#);
        for (index, upgrade) in self.upgrades.iter().enumerate() {
            if index > 0 {
                out.put_text(",");
            }
            write_json_str(upgrade, out);
        }
        out.put_text(r#"],"pingInterval":"#);
        out.put_text(digits.format(self.ping_interval));
        out.put_text(r#","pingTimeout":"#);
        out.put_text(digits.format(self.ping_timeout));
        if has_max_payload(version) {
            out.put_text(r#","maxPayload":"#);
            out.put_text(digits.format(self.max_payload));
        }
        out.put_text("}");
    }
}

/// Whether the handshake carries `maxPayload`. Node's engine.io 6 (the server of socket.io 4, which
/// also serves v3 clients under `allowEIO3`) writes it for every protocol revision; engine.io 3 did
/// not, and v3 clients ignore it, so matching the current server is the compatible choice.
fn has_max_payload(_version: ProtocolVersion) -> bool {
    true
}

pub(crate) fn decimal_len(value: u64) -> usize {
    value.checked_ilog10().map_or(1, |log| log as usize + 1)
}

/// How `JSON.stringify` escapes one byte of a string, if it does.
fn json_escape(byte: u8) -> Option<&'static str> {
    const CONTROL: [&str; 32] = [
        "\\u0000", "\\u0001", "\\u0002", "\\u0003", "\\u0004", "\\u0005", "\\u0006", "\\u0007",
        "\\b", "\\t", "\\n", "\\u000b", "\\f", "\\r", "\\u000e", "\\u000f", "\\u0010", "\\u0011",
        "\\u0012", "\\u0013", "\\u0014", "\\u0015", "\\u0016", "\\u0017", "\\u0018", "\\u0019",
        "\\u001a", "\\u001b", "\\u001c", "\\u001d", "\\u001e", "\\u001f",
    ];
    match byte {
        b'"' => Some("\\\""),
        b'\\' => Some("\\\\"),
        _ => CONTROL.get(usize::from(byte)).copied(),
    }
}

/// Length of a quoted JSON string; unescaped runs are measured with `measure`.
fn json_str_len(text: &str, measure: impl Fn(&str) -> usize) -> usize {
    let mut len = 2;
    let mut run_start = 0;
    for (index, byte) in text.bytes().enumerate() {
        if let Some(escape) = json_escape(byte) {
            len += measure(text.get(run_start..index).unwrap_or_default()) + escape.len();
            run_start = index + 1;
        }
    }
    len + measure(text.get(run_start..).unwrap_or_default())
}

fn write_json_str(text: &str, out: &mut impl TextSink) {
    out.put_text("\"");
    let mut run_start = 0;
    for (index, byte) in text.bytes().enumerate() {
        if let Some(escape) = json_escape(byte) {
            // Escaped bytes are ASCII, so `index` and `index + 1` are character boundaries.
            out.put_text(text.get(run_start..index).unwrap_or_default());
            out.put_text(escape);
            run_start = index + 1;
        }
    }
    out.put_text(text.get(run_start..).unwrap_or_default());
    out.put_text("\"");
}

#[cfg(test)]
pub(crate) mod tests;
