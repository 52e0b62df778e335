//! Packets between servers travel as Node's Socket.IO packet objects
//! (`{type: 2, data: [event, ...args], nsp}`, binary inline), whatever parser the clients use:
//! this turns the server's encoded packets into that form and back.

use socketio_proto::{
    Decoder, Limits, Message as EngineMessage, PacketData, Parser, ProtocolVersion,
};
use socketio_server::Args;

use crate::value::Value;

/// The event of an encoded `EVENT` packet: its name, arguments and namespace.
#[derive(Debug, Clone, PartialEq)]
pub struct EventPacket {
    /// The namespace.
    pub nsp: String,
    /// The event name.
    pub event: String,
    /// The arguments.
    pub args: Vec<Value>,
}

impl EventPacket {
    /// Decodes an `EVENT` the server encoded (JSON text with attachments, or MessagePack).
    /// `None` for any other packet.
    pub fn from_encoded(encoded: &socketio_proto::Encoded) -> Option<Self> {
        let parser = match encoded.packet {
            EngineMessage::Text(_) => Parser::Json,
            EngineMessage::Binary(_) => Parser::Msgpack,
        };
        let mut decoder = Decoder::new(parser, ProtocolVersion::V5, Limits::default());
        let mut packet = None;
        for message in encoded.messages() {
            packet = decoder.decode(message).ok()?;
        }
        let packet = packet?;
        let PacketData::Event(event) = packet.data else {
            return None;
        };
        Some(Self {
            nsp: packet.nsp.to_string(),
            event: event.name().to_owned(),
            args: args_to_values(event.args())?,
        })
    }

    /// Node's packet object: `{type: 2, data: [event, ...args], nsp}`.
    pub fn to_value(&self) -> Value {
        let mut data = Vec::with_capacity(self.args.len() + 1);
        data.push(Value::str(&self.event));
        data.extend(self.args.iter().cloned());
        Value::map([
            ("type", Value::Int(2)),
            ("data", Value::Array(data)),
            ("nsp", Value::str(&self.nsp)),
        ])
    }

    /// From Node's packet object. `None` unless it is an event (type 2 or 5) with a string
    /// name. A missing `nsp` is `/`, as in Node's Redis adapter.
    pub fn from_value(packet: &Value) -> Option<Self> {
        let kind = packet.get("type").and_then(Value::as_u64)?;
        if kind != 2 && kind != 5 {
            return None;
        }
        let data = packet.get("data")?.as_array()?;
        let (event, args) = data.split_first()?;
        Some(Self {
            nsp: packet
                .get("nsp")
                .and_then(Value::as_str)
                .unwrap_or("/")
                .to_owned(),
            event: event.as_str()?.to_owned(),
            args: args.to_vec(),
        })
    }
}

/// Received arguments as values (binary kept as binary). `None` when malformed.
pub fn args_to_values(args: &Args) -> Option<Vec<Value>> {
    args.deserialize::<Vec<Value>>().ok()
}

/// The first argument of an acknowledgement (what Node forwards to the requesting server).
pub fn first_arg(args: &Args) -> Value {
    args_to_values(args)
        .and_then(|values| values.into_iter().next())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoded_events_become_node_packets() {
        for parser in [Parser::Json, Parser::Msgpack] {
            let encoded = parser
                .encode_event(
                    "/chat",
                    "file",
                    &("name", bytes::Bytes::from_static(b"\x01\x02"), 3),
                    None,
                )
                .unwrap();
            let packet = EventPacket::from_encoded(&encoded).unwrap();
            assert_eq!(packet.event, "file");
            assert_eq!(packet.nsp, "/chat");
            assert_eq!(
                packet.args,
                vec![
                    Value::str("name"),
                    Value::Bin(bytes::Bytes::from_static(b"\x01\x02")),
                    Value::Int(3)
                ]
            );
            assert_eq!(EventPacket::from_value(&packet.to_value()), Some(packet));
        }
    }
}
