//! Encoded packets: the engine.io messages to send, as shared, reference-counted bytes.

use bytes::Bytes;
use bytestring::ByteString;

use crate::Parser;
use crate::error::EncodeError;
use crate::packet::AckId;

/// One engine.io message (without the engine.io `4` type prefix): text or binary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// A text message (JSON parser packets).
    Text(ByteString),
    /// A binary message (JSON attachments, msgpack packets).
    Binary(Bytes),
}

impl Message {
    /// The message bytes.
    pub fn as_bytes(&self) -> &[u8] {
        match self {
            Message::Text(s) => s.as_bytes(),
            Message::Binary(b) => b,
        }
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        self.as_bytes().len()
    }

    /// True for an empty message.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// An encoded packet: the packet message, then its binary attachments (JSON parser; each one is a
/// separate binary message sent right after the packet). Cloning shares the bytes, so one
/// encoding serves every recipient of a broadcast.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Encoded {
    /// The packet itself.
    pub packet: Message,
    /// The binary attachments, in order (empty for most packets and always for msgpack).
    pub attachments: Vec<Bytes>,
}

impl Encoded {
    /// The number of engine.io messages: 1 + attachments.
    pub fn message_count(&self) -> usize {
        1 + self.attachments.len()
    }

    /// The engine.io messages in sending order (clones share the bytes).
    pub fn messages(&self) -> impl Iterator<Item = Message> + '_ {
        std::iter::once(self.packet.clone())
            .chain(self.attachments.iter().cloned().map(Message::Binary))
    }

    /// The engine.io messages in sending order.
    pub fn into_messages(self) -> Vec<Message> {
        let mut v = Vec::with_capacity(self.message_count());
        v.push(self.packet);
        v.extend(self.attachments.into_iter().map(Message::Binary));
        v
    }
}

/// An `EVENT` encoded once for many recipients that each need their own ack id, as in an acked
/// broadcast: everything but the id is written once; [`with_id`](AckTemplate::with_id) only copies
/// the two shared parts around the id.
///
/// JSON layout: head `<type>[<n>-][<nsp>,]`, id digits, tail `["event",...]`.
/// Msgpack layout (Node's `broadcastWithAck` key order `type, data, nsp, id`): head is the whole
/// map up to the `id` key, then the id as an integer; the tail is empty.
///
/// ```
/// use socketio_proto::{AckId, Message, Parser};
/// let t = Parser::Json.event_template("/", "hello", &("world",))?;
/// let e = t.with_id(AckId::new(7).unwrap())?;
/// assert_eq!(e.packet, Message::Text(r#"27["hello","world"]"#.into()));
/// assert_eq!((t.head(), t.tail()), (&b"2"[..], &br#"["hello","world"]"#[..]));
/// # Ok::<(), socketio_proto::EncodeError>(())
/// ```
#[derive(Debug, Clone)]
pub struct AckTemplate {
    pub(crate) parser: Parser,
    pub(crate) buf: Bytes,
    pub(crate) split: usize,
    pub(crate) attachments: Vec<Bytes>,
}

impl AckTemplate {
    /// The bytes before the ack id.
    pub fn head(&self) -> &[u8] {
        self.buf.get(..self.split).unwrap_or_default()
    }

    /// The bytes after the ack id.
    pub fn tail(&self) -> &[u8] {
        self.buf.get(self.split..).unwrap_or_default()
    }

    /// The shared head as `Bytes` (no copy), for vectored writes.
    pub fn head_bytes(&self) -> Bytes {
        self.buf.slice(..self.split)
    }

    /// The shared tail as `Bytes` (no copy), for vectored writes.
    pub fn tail_bytes(&self) -> Bytes {
        self.buf.slice(self.split..)
    }

    /// The attachments, shared by every recipient.
    pub fn attachments(&self) -> &[Bytes] {
        &self.attachments
    }

    /// The parser this template was written for.
    pub fn parser(&self) -> Parser {
        self.parser
    }

    /// Writes the id, in this template's format, into `out` (what goes between head and tail).
    pub fn write_id(&self, out: &mut Vec<u8>, id: AckId) {
        match self.parser {
            Parser::Json => out.extend_from_slice(itoa::Buffer::new().format(id.get()).as_bytes()),
            #[cfg(feature = "msgpack")]
            Parser::Msgpack => socketio_msgpack::write::uint(out, id.get()),
        }
    }

    /// The packet for one recipient: head, `id`, tail in one new buffer; attachments shared.
    pub fn with_id(&self, id: AckId) -> Result<Encoded, EncodeError> {
        let mut out = Vec::with_capacity(self.buf.len() + 20);
        out.extend_from_slice(self.head());
        self.write_id(&mut out, id);
        out.extend_from_slice(self.tail());
        let packet = match self.parser {
            Parser::Json => Message::Text(crate::json::text(out)?),
            #[cfg(feature = "msgpack")]
            Parser::Msgpack => Message::Binary(Bytes::from(out)),
        };
        Ok(Encoded {
            packet,
            attachments: self.attachments.clone(),
        })
    }
}
