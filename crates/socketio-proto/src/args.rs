//! Raw, lazily decoded payloads: event arguments ([`Args`]) and single values ([`RawValue`]).
//!
//! A decoded packet keeps its payload as the bytes it arrived in (a slice of the received message,
//! no copy) and parses it only when asked, straight into the type the handler wants.

use std::fmt;

use bytes::Bytes;
use bytestring::ByteString;
use serde::{Deserialize, Serialize};

use crate::Parser;
use crate::error::{ArgsError, EncodeError};
use crate::ser::{self, ElementSink};

/// Event or ack arguments, kept as received.
///
/// For the JSON parser this is a slice of the packet text holding the JSON array, plus the binary
/// attachments; for the msgpack parser it is the bytes of the MessagePack array. Nothing is parsed
/// until [`deserialize`](Args::deserialize) or [`to_values`](Args::to_values) is called.
///
/// ```
/// use socketio_proto::{Args, Parser};
/// let args = Args::new(Parser::Json, &(1, "two"))?;
/// let (a, b): (u32, String) = args.deserialize()?;
/// assert_eq!((a, b.as_str()), (1, "two"));
/// assert_eq!(args.to_values()?, vec![serde_json::json!(1), serde_json::json!("two")]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct Args {
    pub(crate) parser: Parser,
    /// The whole array value. JSON: trimmed, so it starts with `[` and ends with `]`, and kept as
    /// text so it is never checked for UTF-8 again.
    pub(crate) array: Buf,
    /// Elements of `array` before the arguments: 1 for an event (its name), 0 for an ack. Small
    /// types for this and `count` keep a packet small: it is built and moved on every decode.
    pub(crate) skip: u8,
    /// Byte offset in `array` where the argument elements start. JSON: just after the skipped
    /// elements (before a `,` or the `]`). Msgpack: the first argument's first byte.
    pub(crate) rest: usize,
    /// Msgpack: the number of arguments. JSON: unused (0).
    #[cfg_attr(
        not(feature = "msgpack"),
        allow(dead_code, reason = "read by the msgpack parser")
    )]
    pub(crate) count: u32,
    /// JSON binary attachments, in placeholder order.
    pub(crate) attachments: Vec<Bytes>,
    pub(crate) max_depth: usize,
}

const DEFAULT_DEPTH: usize = 128;

/// The bytes of a payload, `start..end` of a received message kept whole (moving the message in
/// costs no reference count, unlike slicing it): text (JSON, never checked for UTF-8 again) or
/// binary (msgpack).
#[derive(Clone)]
pub(crate) struct Buf {
    data: BufData,
    start: usize,
    end: usize,
}

#[derive(Clone)]
enum BufData {
    Text(ByteString),
    #[cfg_attr(
        not(feature = "msgpack"),
        allow(dead_code, reason = "built by the msgpack parser")
    )]
    Bin(Bytes),
}

impl Buf {
    /// `text[start..end]`; both ends must sit on char boundaries (else the span is empty).
    pub(crate) fn text(text: ByteString, start: usize, end: usize) -> Self {
        Buf {
            data: BufData::Text(text),
            start,
            end,
        }
    }

    pub(crate) fn whole_text(text: ByteString) -> Self {
        let end = text.len();
        Self::text(text, 0, end)
    }

    #[cfg_attr(
        not(feature = "msgpack"),
        allow(dead_code, reason = "built by the msgpack parser")
    )]
    pub(crate) fn bin(data: Bytes, start: usize, end: usize) -> Self {
        Buf {
            data: BufData::Bin(data),
            start,
            end,
        }
    }

    /// `start..end` of the whole text (not of the span), when it is text: a slice the decoder
    /// checked to sit on char boundaries, so no UTF-8 check here.
    #[inline]
    pub(crate) fn text_at(&self, start: usize, end: usize) -> Option<&str> {
        match &self.data {
            BufData::Text(s) => s.get(start..end),
            BufData::Bin(_) => None,
        }
    }

    /// [`text_at`](Buf::text_at) as a reference to the message of its own.
    pub(crate) fn text_slice(&self, start: usize, end: usize) -> Option<ByteString> {
        match &self.data {
            BufData::Text(s) => s.get(start..end).map(|t| s.slice_ref(t)),
            BufData::Bin(_) => None,
        }
    }

    /// The span as text, when it is text.
    #[inline]
    pub(crate) fn as_str(&self) -> Option<&str> {
        match &self.data {
            BufData::Text(s) => Some(s.get(self.start..self.end).unwrap_or_default()),
            BufData::Bin(_) => None,
        }
    }
}

impl std::ops::Deref for Buf {
    type Target = [u8];
    #[inline]
    fn deref(&self) -> &[u8] {
        let all: &[u8] = match &self.data {
            BufData::Text(s) => s.as_bytes(),
            BufData::Bin(b) => b,
        };
        all.get(self.start..self.end).unwrap_or_default()
    }
}

pub(crate) fn trim_json_ws(b: &[u8]) -> &[u8] {
    let start = b
        .iter()
        .position(|c| !matches!(c, b' ' | b'\t' | b'\n' | b'\r'))
        .unwrap_or(b.len());
    let b = b.get(start..).unwrap_or_default();
    let end = b
        .iter()
        .rposition(|c| !matches!(c, b' ' | b'\t' | b'\n' | b'\r'))
        .map_or(0, |p| p + 1);
    b.get(..end).unwrap_or_default()
}

impl Args {
    /// Decoded JSON arguments: `array` is the whole array, its first `skip` elements come before
    /// the arguments, which start at byte `rest` of it.
    #[inline(always)]
    pub(crate) fn json(array: Buf, skip: u8, rest: usize, max_depth: usize) -> Self {
        Args {
            parser: Parser::Json,
            array,
            skip,
            rest,
            count: 0,
            attachments: Vec::new(),
            max_depth,
        }
    }

    /// Arguments with no element.
    pub fn empty(parser: Parser) -> Self {
        match parser {
            Parser::Json => Args {
                parser,
                array: Buf::whole_text(ByteString::from_static("[]")),
                skip: 0,
                rest: 1,
                count: 0,
                attachments: Vec::new(),
                max_depth: DEFAULT_DEPTH,
            },
            #[cfg(feature = "msgpack")]
            Parser::Msgpack => Args {
                parser,
                array: Buf::bin(Bytes::from_static(&[0x90]), 0, 1),
                skip: 0,
                rest: 1,
                count: 0,
                attachments: Vec::new(),
                max_depth: DEFAULT_DEPTH,
            },
        }
    }

    /// Serializes `value` as an argument list (see [the argument rule](crate#arguments): `()` is
    /// none, a tuple or sequence is one argument per element, anything else is one argument).
    /// With the JSON parser, bytes values become binary attachments.
    ///
    /// The encoders ([`Parser::encode_event`] …) write arguments directly into the packet; this
    /// form is for building a [`Packet`](crate::Packet) value.
    pub fn new<T: ?Sized + Serialize>(parser: Parser, value: &T) -> Result<Self, EncodeError> {
        let shape = ser::shape(value);
        match parser {
            Parser::Json => {
                let mut out = Vec::with_capacity(64);
                let mut attachments = Vec::new();
                out.push(b'[');
                ser::write_args(
                    value,
                    shape,
                    &mut JsonSink {
                        out: &mut out,
                        attachments: &mut attachments,
                        first: true,
                    },
                )?;
                out.push(b']');
                Ok(Args {
                    parser,
                    array: Buf::whole_text(crate::json::text(out)?),
                    skip: 0,
                    rest: 1,
                    count: 0,
                    attachments,
                    max_depth: DEFAULT_DEPTH,
                })
            }
            #[cfg(feature = "msgpack")]
            Parser::Msgpack => {
                let mut out = Vec::with_capacity(64);
                let (count, rest) = crate::msgpack::write_array_of_args(&mut out, value, shape)?;
                let len = out.len();
                Ok(Args {
                    parser,
                    array: Buf::bin(Bytes::from(out), 0, len),
                    skip: 0,
                    rest,
                    // Written as a msgpack array length, so it fits.
                    count: u32::try_from(count).map_err(|_| {
                        socketio_msgpack::Error::Unsupported("more than u32::MAX items")
                    })?,
                    attachments: Vec::new(),
                    max_depth: DEFAULT_DEPTH,
                })
            }
        }
    }

    /// The parser these arguments were encoded with.
    pub fn parser(&self) -> Parser {
        self.parser
    }

    /// The binary attachments (JSON parser), in the order of their placeholders' `num`.
    pub fn attachments(&self) -> &[Bytes] {
        &self.attachments
    }

    /// The JSON text of the arguments between the array brackets, without a leading comma
    /// (possibly only whitespace when there are none). JSON parser only.
    pub(crate) fn json_elements(&self) -> &[u8] {
        let inner = self
            .array
            .get(self.rest..self.array.len().saturating_sub(1))
            .unwrap_or_default();
        if self.skip == 0 {
            return inner;
        }
        let t = trim_json_ws(inner);
        match t.split_first() {
            Some((b',', rest)) => rest,
            _ => t,
        }
    }

    /// The msgpack bytes of the argument elements (no array header). Msgpack parser only.
    #[cfg(feature = "msgpack")]
    pub(crate) fn msgpack_elements(&self) -> &[u8] {
        self.array.get(self.rest..).unwrap_or_default()
    }

    /// True when there is no argument.
    pub fn is_empty(&self) -> bool {
        match self.parser {
            Parser::Json => trim_json_ws(self.json_elements()).is_empty(),
            #[cfg(feature = "msgpack")]
            Parser::Msgpack => self.count == 0,
        }
    }

    /// Deserializes the arguments into `T`: a tuple (or `Vec`) takes the arguments one per element;
    /// any other type takes the single argument (exactly one must be present). Binary attachments
    /// (JSON) or bin values (msgpack) deserialize as bytes (`bytes::Bytes`, `serde_bytes`, `Vec<u8>`).
    ///
    /// Strings borrow from the received message when they need no unescaping.
    #[inline]
    pub fn deserialize<'de, T: Deserialize<'de>>(&'de self) -> Result<T, ArgsError> {
        match self.parser {
            Parser::Json => Ok(match self.array.as_str() {
                // `rest` is just after the `skip` elements, checked when the args were made
                // (the event name by the decoder): reading resumes there.
                Some(s) => socketio_json::from_array_tail_str_at(
                    s,
                    self.rest,
                    self.skip == 0,
                    &self.attachments,
                    &self.json_limits(),
                ),
                None => socketio_json::from_array_tail(
                    &self.array,
                    usize::from(self.skip),
                    &self.attachments,
                    &self.json_limits(),
                ),
            }?),
            #[cfg(feature = "msgpack")]
            Parser::Msgpack => crate::msgpack::deserialize_args(self),
        }
    }

    /// All arguments as `serde_json::Value`s, through each parser's fast direct path. JSON binary
    /// attachments stay as their `{"_placeholder":true,"num":N}` objects (see
    /// [`attachments`](Args::attachments)); msgpack binary becomes an array of byte values, and a
    /// msgpack map with a non-string key is an error (it has no `serde_json::Value` form).
    pub fn to_values(&self) -> Result<Vec<serde_json::Value>, ArgsError> {
        match self.parser {
            Parser::Json => match self.array.as_str() {
                Some(s) => {
                    let mut values = Vec::new();
                    socketio_json::values_from_array_str_at_into(
                        s,
                        self.rest,
                        self.skip == 0,
                        &self.json_limits(),
                        &mut values,
                    )?;
                    Ok(values)
                }
                None => Ok(socketio_json::values_from_array(
                    &self.array,
                    usize::from(self.skip),
                    &self.json_limits(),
                )?),
            },
            #[cfg(feature = "msgpack")]
            Parser::Msgpack => crate::msgpack::args_to_values(self),
        }
    }

    /// Runs the checks [`Validation::Full`](crate::Validation::Full) makes at decode time: the
    /// whole payload is well-formed and within the depth limit, and (JSON) every binary
    /// placeholder names a received attachment. A server decoding lazily calls this on the error
    /// path of [`deserialize`](Args::deserialize): an error here means the peer broke the protocol
    /// (Node closes the connection with `"parse error"`); success means the payload was fine and
    /// merely did not fit the handler's types.
    ///
    /// ```
    /// use socketio_proto::{Decoder, Limits, PacketData, Parser, ProtocolVersion};
    /// let mut d = Decoder::new(Parser::Json, ProtocolVersion::V5, Limits::default());
    /// let p = d.decode_text(r#"2["e","x",]"#.into())?.unwrap();
    /// let PacketData::Event(e) = p.data else { unreachable!() };
    /// assert!(e.args().deserialize::<(String,)>().is_err());
    /// assert!(e.args().validate().is_err()); // a syntax error: close the connection
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn validate(&self) -> Result<(), crate::DecodeError> {
        match self.parser {
            Parser::Json => {
                socketio_json::validate(&self.array, &self.json_limits())?;
                if !self.attachments.is_empty() {
                    crate::json::check_placeholders(self)?;
                }
                Ok(())
            }
            // The decoder skipped (so checked) the whole msgpack packet already.
            #[cfg(feature = "msgpack")]
            Parser::Msgpack => Ok(()),
        }
    }

    pub(crate) fn json_limits(&self) -> socketio_json::Limits {
        crate::limits::json_limits(self.max_depth)
    }

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

impl PartialEq for Args {
    /// Same parser, same argument bytes (ignoring JSON whitespace at the edges), same attachments.
    fn eq(&self, other: &Self) -> bool {
        if self.parser != other.parser || self.attachments != other.attachments {
            return false;
        }
        match self.parser {
            Parser::Json => {
                trim_json_ws(self.json_elements()) == trim_json_ws(other.json_elements())
            }
            #[cfg(feature = "msgpack")]
            Parser::Msgpack => {
                self.count == other.count && self.msgpack_elements() == other.msgpack_elements()
            }
        }
    }
}

impl fmt::Debug for Args {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Args");
        d.field("parser", &self.parser);
        match self.parser {
            Parser::Json => d.field(
                "elements",
                &String::from_utf8_lossy(trim_json_ws(self.json_elements())),
            ),
            #[cfg(feature = "msgpack")]
            Parser::Msgpack => d
                .field("count", &self.count)
                .field("elements", &self.msgpack_elements()),
        };
        d.field("attachments", &self.attachments.len()).finish()
    }
}

/// Writes JSON elements separated by commas; bytes become attachments.
pub(crate) struct JsonSink<'a> {
    pub(crate) out: &'a mut Vec<u8>,
    pub(crate) attachments: &'a mut Vec<Bytes>,
    /// No comma before the next element.
    pub(crate) first: bool,
}

impl ElementSink for JsonSink<'_> {
    type Error = socketio_json::Error;
    fn element<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<(), Self::Error> {
        if !self.first {
            self.out.push(b',');
        }
        self.first = false;
        socketio_json::to_writer(self.out, value, self.attachments)
    }
}

/// One payload value kept raw: the `data` of a `CONNECT` or `CONNECT_ERROR` packet.
///
/// ```
/// use socketio_proto::{Parser, RawValue};
/// let v = RawValue::connect_ok(Parser::Json, "abc", None);
/// assert_eq!(&v.as_bytes()[..], br#"{"sid":"abc"}"#);
/// assert_eq!(v.to_value()?, serde_json::json!({"sid": "abc"}));
/// # Ok::<(), socketio_proto::ArgsError>(())
/// ```
#[derive(Clone)]
pub struct RawValue {
    pub(crate) parser: Parser,
    pub(crate) bytes: Bytes,
    pub(crate) max_depth: usize,
}

/// The answer of a v5 server to a `CONNECT`: the socket id, and the private session id when
/// connection state recovery is enabled.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ConnectOk {
    /// The socket id (`socket.id`).
    pub sid: String,
    /// The private session id, present with connection state recovery.
    #[serde(default)]
    pub pid: Option<String>,
}

/// The payload of a v5 `CONNECT_ERROR`: Node's `{"message":..,"data":..}`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ConnectErrorData {
    /// The error message (`err.message`).
    pub message: String,
    /// Extra data (`err.data`), when the server set some.
    #[serde(default)]
    pub data: Option<serde_json::Value>,
}

impl RawValue {
    /// Serializes `value` as one raw value.
    pub fn new<T: ?Sized + Serialize>(parser: Parser, value: &T) -> Result<Self, EncodeError> {
        let mut out = Vec::with_capacity(32);
        match parser {
            Parser::Json => {
                // A payload value never carries attachments: bytes inside a CONNECT payload are
                // written as Node would write a Buffer in non-binary packet data, i.e. refused here.
                let mut attachments = Vec::new();
                socketio_json::to_writer(&mut out, value, &mut attachments)?;
                if !attachments.is_empty() {
                    return Err(EncodeError::Json(
                        <socketio_json::Error as serde::ser::Error>::custom(
                            "binary data is only allowed in event and ack arguments",
                        ),
                    ));
                }
            }
            #[cfg(feature = "msgpack")]
            Parser::Msgpack => socketio_msgpack::to_writer(&mut out, value)?,
        }
        Ok(RawValue {
            parser,
            bytes: Bytes::from(out),
            max_depth: DEFAULT_DEPTH,
        })
    }

    /// The v5 server's `CONNECT` answer `{"sid":..}` or `{"sid":..,"pid":..}`, written exactly as
    /// Node writes it (for msgpack, Node's `pid: undefined` key is kept when `pid` is `None`, as
    /// notepack writes it).
    pub fn connect_ok(parser: Parser, sid: &str, pid: Option<&str>) -> Self {
        let mut out = Vec::with_capacity(24 + sid.len() + pid.map_or(0, str::len));
        match parser {
            Parser::Json => {
                out.extend_from_slice(b"{\"sid\":");
                crate::json::write_str(&mut out, sid);
                if let Some(pid) = pid {
                    out.extend_from_slice(b",\"pid\":");
                    crate::json::write_str(&mut out, pid);
                }
                out.push(b'}');
            }
            #[cfg(feature = "msgpack")]
            Parser::Msgpack => crate::msgpack::write_connect_ok(&mut out, sid, pid),
        }
        RawValue {
            parser,
            bytes: Bytes::from(out),
            max_depth: DEFAULT_DEPTH,
        }
    }

    /// The v5 `CONNECT_ERROR` payload `{"message":..}` or `{"message":..,"data":..}`.
    pub fn connect_error<T: ?Sized + Serialize>(
        parser: Parser,
        message: &str,
        data: Option<&T>,
    ) -> Result<Self, EncodeError> {
        #[derive(Serialize)]
        struct Payload<'a, T: ?Sized> {
            message: &'a str,
            #[serde(skip_serializing_if = "Option::is_none")]
            data: Option<&'a T>,
        }
        RawValue::new(parser, &Payload { message, data })
    }

    /// The parser this value was encoded with.
    pub fn parser(&self) -> Parser {
        self.parser
    }

    /// The encoded bytes (JSON text or MessagePack).
    pub fn as_bytes(&self) -> &Bytes {
        &self.bytes
    }

    /// Deserializes the value.
    pub fn deserialize<'de, T: Deserialize<'de>>(&'de self) -> Result<T, ArgsError> {
        match self.parser {
            Parser::Json => Ok(socketio_json::from_slice(
                &self.bytes,
                &[],
                &self.json_limits(),
            )?),
            #[cfg(feature = "msgpack")]
            Parser::Msgpack => Ok(socketio_msgpack::from_slice(
                &self.bytes,
                &crate::limits::msgpack_limits(self.max_depth),
            )?),
        }
    }

    /// The value as a `serde_json::Value`.
    pub fn to_value(&self) -> Result<serde_json::Value, ArgsError> {
        match self.parser {
            Parser::Json => Ok(socketio_json::from_slice(
                &self.bytes,
                &[],
                &self.json_limits(),
            )?),
            #[cfg(feature = "msgpack")]
            Parser::Msgpack => Ok(socketio_msgpack::value_from_slice(
                &self.bytes,
                &crate::limits::msgpack_limits(self.max_depth),
            )?),
        }
    }

    /// Reads a v5 server's `CONNECT` answer.
    pub fn connect_ok_fields(&self) -> Result<ConnectOk, ArgsError> {
        self.deserialize()
    }

    /// Reads a v5 `CONNECT_ERROR` payload.
    pub fn connect_error_fields(&self) -> Result<ConnectErrorData, ArgsError> {
        self.deserialize()
    }

    fn json_limits(&self) -> socketio_json::Limits {
        crate::limits::json_limits(self.max_depth)
    }
}

impl PartialEq for RawValue {
    /// Same parser, same bytes.
    fn eq(&self, other: &Self) -> bool {
        self.parser == other.parser && self.bytes == other.bytes
    }
}

impl fmt::Debug for RawValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("RawValue");
        d.field("parser", &self.parser);
        match self.parser {
            Parser::Json => d.field("json", &String::from_utf8_lossy(&self.bytes)),
            #[cfg(feature = "msgpack")]
            Parser::Msgpack => d.field("msgpack", &self.bytes),
        };
        d.finish()
    }
}
