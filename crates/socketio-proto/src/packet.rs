//! The Socket.IO packet model: what a packet means, independent of how a parser writes it.

use std::num::NonZeroU64;

use bytes::Bytes;
use bytestring::ByteString;

use crate::args::{Args, RawValue};

/// The type of a Socket.IO packet, as the number that identifies it on the wire.
///
/// `BinaryEvent` and `BinaryAck` exist only in the default (JSON) parser's encoding: in the
/// [`Packet`] model an event or an ack *with attachments* is simply an [`Event`] or an [`Ack`]
/// whose [`Args::attachments`] are not empty, exactly as Node's decoder turns them back into
/// `EVENT` / `ACK` packets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum PacketType {
    /// `0`: asks to join a namespace (client), or accepts the request (server).
    Connect = 0,
    /// `1`: leaves a namespace.
    Disconnect = 1,
    /// `2`: an event with arguments.
    Event = 2,
    /// `3`: the answer to an event that carried an ack id.
    Ack = 3,
    /// `4`: refuses a namespace connection (`ERROR` in protocol v4).
    ConnectError = 4,
    /// `5`: an event with binary attachments (JSON parser only).
    BinaryEvent = 5,
    /// `6`: an ack with binary attachments (JSON parser only).
    BinaryAck = 6,
}

impl PacketType {
    /// The packet type for a wire number, if there is one.
    pub const fn from_u8(n: u8) -> Option<Self> {
        Some(match n {
            0 => PacketType::Connect,
            1 => PacketType::Disconnect,
            2 => PacketType::Event,
            3 => PacketType::Ack,
            4 => PacketType::ConnectError,
            5 => PacketType::BinaryEvent,
            6 => PacketType::BinaryAck,
            _ => return None,
        })
    }

    /// The wire number.
    pub const fn as_u8(self) -> u8 {
        self as u8
    }

    /// The ASCII digit that starts this packet in the JSON parser's encoding.
    pub(crate) const fn digit(self) -> u8 {
        b'0' + self as u8
    }
}

/// The name of the main namespace.
pub const MAIN_NAMESPACE: &str = "/";

/// Event names that carry a special meaning in Node's socket.io and that a peer may therefore
/// neither send nor receive as ordinary events (`RESERVED_EVENTS` in `socket.io-parser`).
///
/// Node's decoder treats an `EVENT` packet named like one of these as an invalid payload and the
/// server closes the connection (`"parse error"`); [`Decoder`](crate::Decoder) returns
/// [`DecodeError::ReservedEventName`](crate::DecodeError::ReservedEventName) for the same input,
/// and the encoders refuse to write them, as Node's `emit` throws.
pub const RESERVED_EVENTS: [&str; 6] = [
    "connect",
    "connect_error",
    "disconnect",
    "disconnecting",
    "newListener",
    "removeListener",
];

/// True when `name` is one of the [`RESERVED_EVENTS`].
#[inline]
pub fn is_reserved_event(name: &str) -> bool {
    is_reserved_event_bytes(name.as_bytes())
}

/// [`is_reserved_event`] for a name known only as bytes (still to be made text).
///
/// Every decoded event pays this check: one length test rejects nearly every name, where a
/// search of the list cost about 90 instructions. The test `reserved_events` keeps it equal to
/// [`RESERVED_EVENTS`].
#[inline(always)]
pub(crate) fn is_reserved_event_bytes(name: &[u8]) -> bool {
    match name.len() {
        7 => name == b"connect",
        10 => name == b"disconnect",
        11 => name == b"newListener",
        13 => name == b"connect_error" || name == b"disconnecting",
        14 => name == b"removeListener",
        _ => false,
    }
}

/// An acknowledgement id: a non-negative integer within JavaScript's safe-integer range
/// (`0..=2^53-1`), since Node reads it as a `Number`.
///
/// ```
/// use socketio_proto::AckId;
/// assert_eq!(AckId::new(12).map(AckId::get), Some(12));
/// assert!(AckId::new(1 << 53).is_none());
/// ```
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AckId(
    /// The id plus one: the zero this leaves unused makes an `Option<AckId>` (every event has
    /// one) as small as the id itself. The order is the ids' order.
    NonZeroU64,
);

impl AckId {
    /// The largest id: `Number.MAX_SAFE_INTEGER` (`2^53 - 1`).
    pub const MAX: AckId = match AckId::new((1 << 53) - 1) {
        Some(id) => id,
        None => unreachable!(),
    };
    /// Zero, where Node's counters start.
    pub const ZERO: AckId = match AckId::new(0) {
        Some(id) => id,
        None => unreachable!(),
    };

    /// The id `n`, or `None` when `n` exceeds [`AckId::MAX`].
    #[inline]
    pub const fn new(n: u64) -> Option<Self> {
        if n < (1 << 53) {
            match NonZeroU64::new(n + 1) {
                Some(v) => Some(AckId(v)),
                None => None,
            }
        } else {
            None
        }
    }

    /// The id as an integer.
    #[inline]
    pub const fn get(self) -> u64 {
        self.0.get() - 1
    }

    /// The next id, wrapping to zero after [`AckId::MAX`] (a counter never reaches it in practice,
    /// but wrapping keeps it valid).
    pub const fn next(self) -> Self {
        match AckId::new(self.get() + 1) {
            Some(id) => id,
            None => AckId::ZERO,
        }
    }
}

impl std::fmt::Debug for AckId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("AckId").field(&self.get()).finish()
    }
}

impl From<u32> for AckId {
    fn from(n: u32) -> Self {
        // Every u32 is within range.
        AckId::new(u64::from(n)).unwrap_or(AckId::MAX)
    }
}

impl TryFrom<u64> for AckId {
    type Error = AckIdOutOfRange;
    fn try_from(n: u64) -> Result<Self, Self::Error> {
        AckId::new(n).ok_or(AckIdOutOfRange(n))
    }
}

impl std::fmt::Display for AckId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.get().fmt(f)
    }
}

/// The error of `AckId::try_from` for a value above [`AckId::MAX`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("ack id {0} exceeds 2^53-1")]
pub struct AckIdOutOfRange(pub u64);

/// One Socket.IO packet: a namespace and what is sent to it.
#[derive(Debug, Clone, PartialEq)]
pub struct Packet {
    /// The namespace, `"/"` for the main one. In protocol v4 it may carry a query string
    /// (`/admin?token=1`); see `split_namespace_query` (feature `v4`).
    pub nsp: ByteString,
    /// The packet itself.
    pub data: PacketData,
}

/// What a [`Packet`] carries, by packet type.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum PacketData {
    /// `CONNECT`. From a client: the optional `auth` object. From a v5 server: the answer
    /// `{"sid":..}` (or `{"sid":..,"pid":..}` with connection state recovery), see
    /// [`RawValue::connect_ok`]. Always `None` in protocol v4.
    Connect(Option<RawValue>),
    /// `DISCONNECT`.
    Disconnect,
    /// `EVENT` or `BINARY_EVENT`.
    Event(Event),
    /// `ACK` or `BINARY_ACK`.
    Ack(Ack),
    /// `CONNECT_ERROR`: in v5 an object `{"message":..,"data":..}`, in v4 usually a string.
    ConnectError(RawValue),
}

/// An event: its name, its arguments (kept raw until asked for) and an optional ack id.
///
/// The name and the arguments are private because a decoded name is usually not a value of its
/// own but a span of the message the arguments keep (no reference count to take and drop per
/// packet): replacing the arguments alone would leave the name pointing into another message.
///
/// ```
/// use socketio_proto::{AckId, Args, Event, Parser};
/// let e = Event::new("chat", Args::new(Parser::Json, &("hi",))?, AckId::new(1));
/// assert_eq!((e.name(), e.ack), ("chat", AckId::new(1)));
/// let (name, args, _ack) = e.into_parts();
/// assert_eq!((&*name, args.deserialize::<(String,)>()?.0.as_str()), ("chat", "hi"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct Event {
    /// Always a string, never one of the [`RESERVED_EVENTS`] when decoded.
    pub(crate) name: EventName,
    pub(crate) args: Args,
    /// Present when the sender waits for an [`Ack`].
    pub ack: Option<AckId>,
}

/// Where an [`Event`]'s name is kept.
#[derive(Clone)]
pub(crate) enum EventName {
    /// `start..end` of the text buffer of the event's JSON [`Args`] (a name written without
    /// escapes, the usual case): shares the arguments' reference to the message.
    InArgs { start: u32, end: u32 },
    /// A name of its own: a JSON name written with escapes (unescaped into a copy), a msgpack
    /// name (checked for UTF-8 once, when decoded), or one given to [`Event::new`].
    Owned(ByteString),
}

impl Event {
    /// An event named `name` with `args`, waiting for an [`Ack`] when `ack` is set (to encode
    /// with [`Parser::encode`](crate::Parser::encode), or to compare with a decoded one).
    pub fn new(name: impl Into<ByteString>, args: Args, ack: Option<AckId>) -> Self {
        Event {
            name: EventName::Owned(name.into()),
            args,
            ack,
        }
    }

    /// The event name.
    #[inline]
    pub fn name(&self) -> &str {
        match &self.name {
            EventName::InArgs { start, end } => self
                .args
                .array
                .text_at(*start as usize, *end as usize)
                .unwrap_or_default(),
            EventName::Owned(s) => s,
        }
    }

    /// The event name as a value of its own, for a caller that keeps it past the event (a
    /// reference to the message, no copy, for a decoded name).
    pub fn name_owned(&self) -> ByteString {
        match &self.name {
            EventName::InArgs { start, end } => self
                .args
                .array
                .text_slice(*start as usize, *end as usize)
                .unwrap_or_default(),
            EventName::Owned(s) => s.clone(),
        }
    }

    /// The arguments after the name.
    #[inline]
    pub fn args(&self) -> &Args {
        &self.args
    }

    /// The arguments, dropping the name.
    pub fn into_args(self) -> Args {
        self.args
    }

    /// The name (see [`name_owned`](Event::name_owned)), the arguments and the ack id.
    pub fn into_parts(self) -> (ByteString, Args, Option<AckId>) {
        (self.name_owned(), self.args, self.ack)
    }
}

impl PartialEq for Event {
    /// Same name, same arguments, same ack id (wherever the name is kept).
    fn eq(&self, other: &Self) -> bool {
        self.name() == other.name() && self.args == other.args && self.ack == other.ack
    }
}

impl std::fmt::Debug for Event {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Event")
            .field("name", &self.name())
            .field("args", &self.args)
            .field("ack", &self.ack)
            .finish()
    }
}

/// The answer to an event that carried an ack id.
#[derive(Debug, Clone, PartialEq)]
pub struct Ack {
    /// The id of the event answered.
    pub id: AckId,
    /// The answer's arguments.
    pub args: Args,
}

impl Packet {
    /// The packet type this packet is written with by the JSON parser (binary variants when the
    /// arguments have attachments).
    pub fn packet_type(&self) -> PacketType {
        match &self.data {
            PacketData::Connect(_) => PacketType::Connect,
            PacketData::Disconnect => PacketType::Disconnect,
            PacketData::Event(e) if e.args.attachments().is_empty() => PacketType::Event,
            PacketData::Event(_) => PacketType::BinaryEvent,
            PacketData::Ack(a) if a.args.attachments().is_empty() => PacketType::Ack,
            PacketData::Ack(_) => PacketType::BinaryAck,
            PacketData::ConnectError(_) => PacketType::ConnectError,
        }
    }

    /// The binary attachments that follow this packet (JSON parser), empty for most packets.
    pub fn attachments(&self) -> &[Bytes] {
        match &self.data {
            PacketData::Event(e) => e.args.attachments(),
            PacketData::Ack(a) => a.args.attachments(),
            _ => &[],
        }
    }
}

/// Splits a protocol v4 namespace such as `/admin?token=1` into the path and the query string
/// (without `?`), as Node's server does with `url.parse(packet.nsp)`. Zero-copy.
///
/// ```
/// use socketio_proto::split_namespace_query;
/// let (path, query) = split_namespace_query(&"/admin?token=1".into());
/// assert_eq!((&*path, query.as_deref()), ("/admin", Some("token=1")));
/// ```
#[cfg(feature = "v4")]
pub fn split_namespace_query(nsp: &ByteString) -> (ByteString, Option<ByteString>) {
    match nsp.find('?') {
        Some(q) => {
            let path = nsp.slice_ref(nsp.get(..q).unwrap_or_default());
            let query = nsp.slice_ref(nsp.get(q + 1..).unwrap_or_default());
            (path, Some(query))
        }
        None => (nsp.clone(), None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packet_type_numbers() {
        for n in 0..=6u8 {
            let t = PacketType::from_u8(n).expect("valid");
            assert_eq!(t.as_u8(), n);
            assert_eq!(t.digit(), b'0' + n);
        }
        assert_eq!(PacketType::from_u8(7), None);
    }

    #[test]
    fn ack_id_range() {
        assert_eq!(AckId::new(0), Some(AckId::ZERO));
        assert_eq!(AckId::new(9_007_199_254_740_991), Some(AckId::MAX));
        assert_eq!(AckId::new(9_007_199_254_740_992), None);
        assert_eq!(AckId::try_from(u64::MAX), Err(AckIdOutOfRange(u64::MAX)));
        assert_eq!(AckId::MAX.next(), AckId::ZERO);
        assert_eq!(AckId::ZERO.next().get(), 1);
        assert_eq!(AckId::from(7u32).to_string(), "7");
        assert_eq!(AckId::from(u32::MAX).get(), u64::from(u32::MAX));
        assert_eq!(format!("{:?}", AckId::ZERO), "AckId(0)");
        assert!(AckId::ZERO < AckId::new(1).unwrap() && AckId::new(1).unwrap() < AckId::MAX);
        assert_eq!(AckId::new(41).map(AckId::next).map(AckId::get), Some(42));
        assert_eq!(size_of::<Option<AckId>>(), size_of::<u64>());
    }

    #[test]
    fn reserved_events() {
        for name in RESERVED_EVENTS {
            assert!(is_reserved_event(name));
        }
        assert!(!is_reserved_event("message"));
        assert!(!is_reserved_event("Connect"));
        // The length dispatch says what a search of the list says, for names next to every
        // reserved one: one byte changed, or cut short.
        let listed = |n: &[u8]| RESERVED_EVENTS.iter().any(|r| r.as_bytes() == n);
        for name in RESERVED_EVENTS {
            for i in 0..name.len() {
                let mut other = name.as_bytes().to_vec();
                other[i] ^= 0x20;
                assert_eq!(is_reserved_event_bytes(&other), listed(&other));
                let prefix = &name.as_bytes()[..i];
                assert_eq!(is_reserved_event_bytes(prefix), listed(prefix));
            }
        }
        assert!(!is_reserved_event(""));
    }

    #[cfg(feature = "v4")]
    #[test]
    fn namespace_query() {
        let (p, q) = split_namespace_query(&"/admin".into());
        assert_eq!((&*p, q), ("/admin", None));
        let (p, q) = split_namespace_query(&"/?a=1&b=2".into());
        assert_eq!((&*p, q.as_deref()), ("/", Some("a=1&b=2")));
        let (p, q) = split_namespace_query(&"/x?".into());
        assert_eq!((&*p, q.as_deref()), ("/x", Some("")));
    }
}
