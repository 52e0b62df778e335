//! The per-connection [`Decoder`]: engine.io messages in, Socket.IO packets out, with the binary
//! attachments of the JSON parser reassembled.

use bytes::Bytes;
use bytestring::ByteString;

use crate::encode::Message;
use crate::error::DecodeError;
use crate::packet::{Packet, PacketData};
use crate::{Limits, Parser, ProtocolVersion, Validation};

/// Decodes the Socket.IO packets of one connection.
///
/// Feed it every engine.io message in order. A text message is usually one packet; a
/// `BINARY_EVENT` / `BINARY_ACK` announces `N` attachments and the decoder then expects exactly
/// `N` binary messages before anything else, returning the packet after the last one (Node's
/// `BinaryReconstructor`). With the msgpack parser every packet is one binary message.
///
/// Any error means the peer broke the protocol; Node closes the connection (`"parse error"`), and
/// so should the caller. After an error the decoder is back in its initial state.
///
/// ```
/// use socketio_proto::{Decoder, Parser, ProtocolVersion, Limits, PacketData};
/// let mut d = Decoder::new(Parser::Json, ProtocolVersion::V5, Limits::default());
/// assert!(d.decode_text(r#"51-["upload",{"_placeholder":true,"num":0}]"#.into())?.is_none());
/// let p = d.decode_binary(bytes::Bytes::from_static(&[1, 2, 3]))?.expect("complete");
/// let PacketData::Event(e) = p.data else { panic!() };
/// assert_eq!(e.name(), "upload");
/// let (file,): (bytes::Bytes,) = e.args().deserialize()?;
/// assert_eq!(&file[..], &[1, 2, 3]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct Decoder {
    parser: Parser,
    version: ProtocolVersion,
    limits: Limits,
    validation: Validation,
    /// A binary packet waiting for its attachments. Boxed: rare, and a packet is large, while
    /// every connection holds a decoder.
    pending: Option<Box<Pending>>,
}

#[derive(Debug)]
pub(crate) struct Pending {
    packet: Packet,
    expected: usize,
    buffers: Vec<Bytes>,
    /// Bytes received for this packet so far (text and attachments).
    size: usize,
}

impl Pending {
    /// `packet`, read from a text message of `size` bytes, waiting for `expected` attachments.
    pub(crate) fn new(packet: Packet, expected: usize, size: usize) -> Box<Self> {
        Box::new(Pending {
            packet,
            expected,
            // Bounded by `max_attachments`, checked by the header parser.
            buffers: Vec::with_capacity(expected),
            size,
        })
    }
}

impl Decoder {
    /// A decoder for one connection, with the default [`Validation::Lazy`].
    pub fn new(parser: Parser, version: ProtocolVersion, limits: Limits) -> Self {
        Decoder {
            parser,
            version,
            limits,
            validation: Validation::Lazy,
            pending: None,
        }
    }

    /// Sets how much of each payload is checked at decode time.
    pub fn with_validation(mut self, validation: Validation) -> Self {
        self.validation = validation;
        self
    }

    /// The parser this decoder reads.
    pub fn parser(&self) -> Parser {
        self.parser
    }

    /// The protocol version this decoder reads.
    pub fn version(&self) -> ProtocolVersion {
        self.version
    }

    /// The limits in force.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// True while the attachments of a binary packet are awaited.
    pub fn is_reassembling(&self) -> bool {
        self.pending.is_some()
    }

    /// Drops a half-received binary packet (Node's `destroy`).
    pub fn reset(&mut self) {
        self.pending = None;
    }

    /// Decodes one engine.io message. `Ok(None)` means the message was an attachment and more are
    /// expected (or a binary packet header whose attachments follow).
    #[inline]
    pub fn decode(&mut self, message: Message) -> Result<Option<Packet>, DecodeError> {
        match message {
            Message::Text(t) => self.decode_text(t),
            Message::Binary(b) => self.decode_binary(b),
        }
    }

    /// Decodes one engine.io text message.
    #[inline]
    pub fn decode_text(&mut self, text: ByteString) -> Result<Option<Packet>, DecodeError> {
        // Taking the pending packet is the reset an error asks for.
        if let Some(p) = self.pending.take() {
            return Err(DecodeError::UnexpectedText {
                missing: p.expected - p.buffers.len(),
            });
        }
        match self.parser {
            Parser::Json => {}
            #[cfg(feature = "msgpack")]
            Parser::Msgpack => return Err(DecodeError::TextWithMsgpack),
        }
        if text.len() > self.limits.max_message_size {
            return Err(DecodeError::TooLarge {
                max: self.limits.max_message_size,
            });
        }
        // A tail call: the packet is built where the caller wants it, not moved through here
        // (a packet is large). Nothing is pending, so an error leaves the decoder reset.
        crate::json::decode_text(
            text,
            self.version,
            &self.limits,
            self.validation,
            &mut self.pending,
        )
    }

    /// Decodes one engine.io binary message.
    #[inline]
    pub fn decode_binary(&mut self, data: Bytes) -> Result<Option<Packet>, DecodeError> {
        match self.parser {
            Parser::Json => {}
            #[cfg(feature = "msgpack")]
            Parser::Msgpack => {
                // Every msgpack packet is one message: nothing is ever pending. A tail call, as
                // for a text packet.
                if data.len() > self.limits.max_message_size {
                    return Err(DecodeError::TooLarge {
                        max: self.limits.max_message_size,
                    });
                }
                return crate::msgpack::decode(data, self.version, &self.limits, self.validation);
            }
        }
        let r = self.binary_inner(data);
        if r.is_err() {
            self.pending = None;
        }
        r
    }

    #[inline]
    fn binary_inner(&mut self, data: Bytes) -> Result<Option<Packet>, DecodeError> {
        if data.len() > self.limits.max_message_size {
            return Err(DecodeError::TooLarge {
                max: self.limits.max_message_size,
            });
        }
        let Some(pending) = &mut self.pending else {
            return Err(DecodeError::UnexpectedBinary);
        };
        pending.size = pending.size.saturating_add(data.len());
        if pending.size > self.limits.max_packet_size {
            return Err(DecodeError::TooLarge {
                max: self.limits.max_packet_size,
            });
        }
        pending.buffers.push(data);
        if pending.buffers.len() < pending.expected {
            return Ok(None);
        }
        let Some(pending) = self.pending.take() else {
            return Err(DecodeError::UnexpectedBinary);
        };
        let Pending {
            mut packet,
            buffers,
            ..
        } = *pending;
        let args = match &mut packet.data {
            PacketData::Event(e) => &mut e.args,
            PacketData::Ack(a) => &mut a.args,
            // Only binary events and acks announce attachments.
            _ => return Err(DecodeError::UnexpectedBinary),
        };
        args.attachments = buffers;
        if self.validation == Validation::Full {
            crate::json::check_placeholders(args)?;
        }
        Ok(Some(packet))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ProtocolVersion::V5;

    fn b(x: &'static [u8]) -> Bytes {
        Bytes::from_static(x)
    }

    #[test]
    fn reassembles_attachments_in_order() {
        let mut d = Decoder::new(Parser::Json, V5, Limits::default());
        let head = r#"53-/x,5["e",{"_placeholder":true,"num":2},{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#;
        assert_eq!(d.decode_text(head.into()).unwrap(), None);
        assert!(d.is_reassembling());
        assert_eq!(d.decode_binary(b(b"zero")).unwrap(), None);
        assert_eq!(d.decode_binary(b(b"one")).unwrap(), None);
        let p = d.decode_binary(b(b"two")).unwrap().unwrap();
        assert!(!d.is_reassembling());
        assert_eq!(p.attachments(), [b(b"zero"), b(b"one"), b(b"two")]);
        let PacketData::Event(e) = &p.data else {
            panic!()
        };
        let (x, y, z): (Bytes, Bytes, Bytes) = e.args.deserialize().unwrap();
        assert_eq!((x, y, z), (b(b"two"), b(b"zero"), b(b"one")));
        // Back to normal.
        assert!(d.decode_text(r#"2["e"]"#.into()).unwrap().is_some());
    }

    #[test]
    fn text_while_reassembling() {
        let mut d = Decoder::new(Parser::Json, V5, Limits::default());
        d.decode_text(r#"52-["e",{"_placeholder":true,"num":0}]"#.into())
            .unwrap();
        d.decode_binary(b(b"a")).unwrap();
        assert_eq!(
            d.decode_text(r#"2["e"]"#.into()),
            Err(DecodeError::UnexpectedText { missing: 1 })
        );
        // The error reset the decoder.
        assert!(!d.is_reassembling());
        assert_eq!(d.decode_binary(b(b"b")), Err(DecodeError::UnexpectedBinary));
        assert!(d.decode_text(r#"2["e"]"#.into()).unwrap().is_some());
    }

    #[test]
    fn binary_when_idle() {
        let mut d = Decoder::new(Parser::Json, V5, Limits::default());
        assert_eq!(d.decode_binary(b(b"x")), Err(DecodeError::UnexpectedBinary));
        assert_eq!(
            d.decode(Message::Binary(Bytes::new())),
            Err(DecodeError::UnexpectedBinary)
        );
    }

    #[test]
    fn reset_drops_the_pending_packet() {
        let mut d = Decoder::new(Parser::Json, V5, Limits::default());
        d.decode_text(r#"51-["e",{"_placeholder":true,"num":0}]"#.into())
            .unwrap();
        d.reset();
        assert_eq!(d.decode_binary(b(b"x")), Err(DecodeError::UnexpectedBinary));
    }

    #[test]
    fn message_size_limit() {
        let limits = Limits {
            max_message_size: 10,
            ..Limits::default()
        };
        let mut d = Decoder::new(Parser::Json, V5, limits);
        assert!(d.decode_text(r#"2["abcde"]"#.into()).unwrap().is_some()); // 10 bytes
        assert_eq!(
            d.decode_text(r#"2["abcdef"]"#.into()),
            Err(DecodeError::TooLarge { max: 10 })
        );
        d.decode_text(r#"51-["e",1]"#.into()).unwrap();
        assert_eq!(
            d.decode_binary(Bytes::from(vec![0; 11])),
            Err(DecodeError::TooLarge { max: 10 })
        );
    }

    #[test]
    fn packet_size_limit() {
        let limits = Limits {
            max_packet_size: 30,
            ..Limits::default()
        };
        let mut d = Decoder::new(Parser::Json, V5, limits);
        let head = r#"53-["e",1]"#; // 10 bytes
        d.decode_text(head.into()).unwrap();
        d.decode_binary(Bytes::from(vec![0; 10])).unwrap();
        d.decode_binary(Bytes::from(vec![0; 10])).unwrap();
        assert_eq!(
            d.decode_binary(Bytes::from(vec![0; 1])),
            Err(DecodeError::TooLarge { max: 30 })
        );
        // Exactly at the limit is fine.
        d.decode_text(head.into()).unwrap();
        d.decode_binary(Bytes::from(vec![0; 10])).unwrap();
        d.decode_binary(Bytes::from(vec![0; 5])).unwrap();
        assert!(d.decode_binary(Bytes::from(vec![0; 5])).unwrap().is_some());
    }

    #[test]
    fn attachment_limit_is_configurable() {
        let limits = Limits {
            max_attachments: 2,
            ..Limits::default()
        };
        let mut d = Decoder::new(Parser::Json, V5, limits);
        assert!(d.decode_text(r#"52-["e"]"#.into()).is_ok());
        d.reset();
        assert_eq!(
            d.decode_text(r#"53-["e"]"#.into()),
            Err(DecodeError::TooManyAttachments { max: 2 })
        );
    }

    #[cfg(feature = "msgpack")]
    #[test]
    fn msgpack_takes_only_binary() {
        let mut d = Parser::Msgpack.decoder(V5, Limits::default());
        assert_eq!(
            d.decode_text(r#"2["e"]"#.into()),
            Err(DecodeError::TextWithMsgpack)
        );
        let e = Parser::Msgpack.encode_event("/", "e", &1, None).unwrap();
        assert!(d.decode(e.packet).unwrap().is_some());
    }
}
