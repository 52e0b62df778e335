//! The messages servers exchange (Node's `ClusterMessage` and `ClusterResponse`), independent of
//! any backend's wire format, and the `ClusterAdapter` wire format itself
//! ([`encode_cluster`], [`decode_cluster`]): `{uid, nsp, type, data}` as JSON, or as MessagePack
//! when the data holds binary.

use std::time::Duration;

use socketio_server::{BroadcastOptions, Room};

use crate::value::{self, Value};

/// The uid the official emitters (`@socket.io/*-emitter`) send with: not a server.
pub const EMITTER_UID: &str = "emitter";

/// One message between servers: who sends it, for which namespace, and what it says.
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    /// The sending server's uid (empty when the wire format does not carry it).
    pub uid: String,
    /// The namespace.
    pub nsp: String,
    /// What it says.
    pub body: Body,
}

/// Which sockets a message is for (Node's encoded `BroadcastOptions`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Opts {
    /// Sockets in any of these rooms; every socket when empty.
    pub rooms: Vec<String>,
    /// Sockets in none of these rooms.
    pub except: Vec<String>,
    /// Node's `flags.volatile`.
    pub volatile: bool,
    /// Node's `flags.compress` (absent: `None`).
    pub compress: Option<bool>,
    /// Node's `flags.timeout`, in milliseconds.
    pub timeout: Option<u64>,
}

/// What a [`Message`] says. The numbers are Node's `MessageType`.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Body {
    /// 1: a server starts and asks the others to say they exist.
    InitialHeartbeat,
    /// 2: a server says it is alive.
    Heartbeat,
    /// 3: a packet for the matching sockets; with a request id, their acknowledgements are
    /// wanted.
    Broadcast {
        /// The Socket.IO packet object: `{type, data: [event, ...args], nsp}`.
        packet: Value,
        /// Which sockets.
        opts: Opts,
        /// Set when the sender collects acknowledgements.
        request_id: Option<String>,
    },
    /// 4: the matching sockets join `rooms`.
    SocketsJoin {
        /// Which sockets.
        opts: Opts,
        /// The rooms to join.
        rooms: Vec<String>,
    },
    /// 5: the matching sockets leave `rooms`.
    SocketsLeave {
        /// Which sockets.
        opts: Opts,
        /// The rooms to leave.
        rooms: Vec<String>,
    },
    /// 6: the matching sockets are disconnected.
    DisconnectSockets {
        /// Which sockets.
        opts: Opts,
        /// Whether their whole connections close.
        close: bool,
    },
    /// 7: the matching sockets are wanted.
    FetchSockets {
        /// Which sockets.
        opts: Opts,
        /// The request.
        request_id: String,
    },
    /// 8: the answer to [`Body::FetchSockets`].
    FetchSocketsResponse {
        /// The request.
        request_id: String,
        /// `{id, handshake, rooms, data}` per socket.
        sockets: Vec<Value>,
    },
    /// 9: an event for the other servers (Node's `serverSideEmit`).
    ServerSideEmit {
        /// Set when the sender waits for answers.
        request_id: Option<String>,
        /// `[event, ...args]`.
        packet: Vec<Value>,
    },
    /// 10: one server's answer to [`Body::ServerSideEmit`].
    ServerSideEmitResponse {
        /// The request.
        request_id: String,
        /// The answer.
        packet: Value,
    },
    /// 11: how many clients a server sent an acked broadcast to.
    BroadcastClientCount {
        /// The request.
        request_id: String,
        /// How many acknowledgements to expect from that server.
        client_count: u64,
    },
    /// 12: one client's acknowledgement of an acked broadcast (its first argument).
    BroadcastAck {
        /// The request.
        request_id: String,
        /// The answer.
        packet: Value,
    },
    /// 13: a server leaves the cluster.
    AdapterClose,
    /// The ids of the matching sockets (the Redis adapter's `SOCKETS` request, from Node's
    /// older `allSockets()`).
    Sockets {
        /// The request.
        request_id: String,
        /// Sockets in any of these rooms; every socket when empty.
        rooms: Vec<String>,
    },
    /// The answer to [`Body::Sockets`].
    SocketsResponse {
        /// The request.
        request_id: String,
        /// Socket ids.
        sockets: Vec<String>,
    },
    /// Every room (the Redis adapter's `ALL_ROOMS` request, Node's `allRooms()`).
    AllRooms {
        /// The request.
        request_id: String,
    },
    /// The answer to [`Body::AllRooms`].
    AllRoomsResponse {
        /// The request.
        request_id: String,
        /// Room names.
        rooms: Vec<String>,
    },
}

impl Body {
    /// Node's `MessageType` number (0 for the Redis-only requests, which have none).
    pub fn type_number(&self) -> u8 {
        match self {
            Body::InitialHeartbeat => 1,
            Body::Heartbeat => 2,
            Body::Broadcast { .. } => 3,
            Body::SocketsJoin { .. } => 4,
            Body::SocketsLeave { .. } => 5,
            Body::DisconnectSockets { .. } => 6,
            Body::FetchSockets { .. } => 7,
            Body::FetchSocketsResponse { .. } => 8,
            Body::ServerSideEmit { .. } => 9,
            Body::ServerSideEmitResponse { .. } => 10,
            Body::BroadcastClientCount { .. } => 11,
            Body::BroadcastAck { .. } => 12,
            Body::AdapterClose => 13,
            Body::Sockets { .. }
            | Body::SocketsResponse { .. }
            | Body::AllRooms { .. }
            | Body::AllRoomsResponse { .. } => 0,
        }
    }

    /// Whether this answers a request (sent to the requesting server only).
    pub fn is_response(&self) -> bool {
        matches!(
            self,
            Body::FetchSocketsResponse { .. }
                | Body::ServerSideEmitResponse { .. }
                | Body::BroadcastClientCount { .. }
                | Body::BroadcastAck { .. }
                | Body::SocketsResponse { .. }
                | Body::AllRoomsResponse { .. }
        )
    }
}

impl Opts {
    /// From the server's options.
    pub fn from_options(options: &BroadcastOptions) -> Self {
        Self {
            rooms: options.rooms.iter().map(ToString::to_string).collect(),
            except: options.except.iter().map(ToString::to_string).collect(),
            volatile: options.volatile,
            compress: Some(options.compress),
            timeout: options
                .timeout
                .map(|t| u64::try_from(t.as_millis()).unwrap_or(u64::MAX)),
        }
    }

    /// Into the server's options.
    pub fn to_options(&self) -> BroadcastOptions {
        let mut options = BroadcastOptions::new(
            self.rooms.iter().map(|r| Room::from(r.as_str())).collect(),
            self.except.iter().map(|r| Room::from(r.as_str())).collect(),
        );
        options.volatile = self.volatile;
        options.compress = self.compress.unwrap_or(true);
        options.timeout = self.timeout.map(Duration::from_millis);
        options
    }

    /// `{rooms, except, flags}` as Node encodes it.
    pub fn to_value(&self) -> Value {
        let mut flags = Vec::new();
        if self.volatile {
            flags.push(("volatile".to_owned(), Value::Bool(true)));
        }
        if let Some(compress) = self.compress {
            flags.push(("compress".to_owned(), Value::Bool(compress)));
        }
        if let Some(timeout) = self.timeout {
            flags.push(("timeout".to_owned(), Value::from(timeout)));
        }
        Value::map([
            ("rooms", Value::strings(&self.rooms)),
            ("except", Value::strings(&self.except)),
            ("flags", Value::Map(flags)),
        ])
    }

    /// From `{rooms, except, flags}`; missing parts are empty. Rooms may be numbers in Node.
    pub fn from_value(value: Option<&Value>) -> Self {
        let Some(value) = value else {
            return Self::default();
        };
        let flags = value.get("flags");
        let flag = |name: &str| flags.and_then(|f| f.get(name));
        Self {
            rooms: strings(value.get("rooms")),
            except: strings(value.get("except")),
            volatile: flag("volatile").and_then(Value::as_bool).unwrap_or(false),
            compress: flag("compress").and_then(Value::as_bool),
            timeout: flag("timeout").and_then(Value::as_u64),
        }
    }
}

/// A list of room names (numbers become their decimal form, as JavaScript keys do).
pub fn strings(value: Option<&Value>) -> Vec<String> {
    value
        .and_then(Value::as_array)
        .unwrap_or_default()
        .iter()
        .filter_map(|v| match v {
            Value::Str(s) => Some(s.clone()),
            Value::Int(i) => Some(i.to_string()),
            Value::UInt(u) => Some(u.to_string()),
            Value::Float(f) => Some(f.to_string()),
            _ => None,
        })
        .collect()
}

fn string(value: Option<&Value>) -> Option<String> {
    value.and_then(Value::as_str).map(ToOwned::to_owned)
}

/// The `data` of a message in the `ClusterAdapter` format.
fn data_of(body: &Body) -> Option<Value> {
    let id = |id: &str| Value::str(id);
    Some(match body {
        Body::InitialHeartbeat | Body::Heartbeat | Body::AdapterClose => return None,
        Body::Broadcast {
            packet,
            opts,
            request_id,
        } => {
            let mut entries = vec![
                ("opts".to_owned(), opts.to_value()),
                ("packet".to_owned(), packet.clone()),
            ];
            if let Some(request_id) = request_id {
                entries.push(("requestId".to_owned(), id(request_id)));
            }
            Value::Map(entries)
        }
        Body::SocketsJoin { opts, rooms } | Body::SocketsLeave { opts, rooms } => {
            Value::map([("opts", opts.to_value()), ("rooms", Value::strings(rooms))])
        }
        Body::DisconnectSockets { opts, close } => {
            Value::map([("opts", opts.to_value()), ("close", Value::Bool(*close))])
        }
        Body::FetchSockets { opts, request_id } => {
            Value::map([("opts", opts.to_value()), ("requestId", id(request_id))])
        }
        Body::FetchSocketsResponse {
            request_id,
            sockets,
        } => Value::map([
            ("requestId", id(request_id)),
            ("sockets", Value::Array(sockets.clone())),
        ]),
        Body::ServerSideEmit { request_id, packet } => {
            let mut entries = Vec::new();
            if let Some(request_id) = request_id {
                entries.push(("requestId".to_owned(), id(request_id)));
            }
            entries.push(("packet".to_owned(), Value::Array(packet.clone())));
            Value::Map(entries)
        }
        Body::ServerSideEmitResponse { request_id, packet }
        | Body::BroadcastAck { request_id, packet } => {
            Value::map([("requestId", id(request_id)), ("packet", packet.clone())])
        }
        Body::BroadcastClientCount {
            request_id,
            client_count,
        } => Value::map([
            ("requestId", id(request_id)),
            ("clientCount", Value::from(*client_count)),
        ]),
        Body::Sockets { request_id, rooms } => Value::map([
            ("requestId", id(request_id)),
            ("rooms", Value::strings(rooms)),
        ]),
        Body::SocketsResponse {
            request_id,
            sockets,
        } => Value::map([
            ("requestId", id(request_id)),
            ("sockets", Value::strings(sockets)),
        ]),
        Body::AllRooms { request_id } => Value::map([("requestId", id(request_id))]),
        Body::AllRoomsResponse { request_id, rooms } => Value::map([
            ("requestId", id(request_id)),
            ("rooms", Value::strings(rooms)),
        ]),
    })
}

/// The message as a `ClusterAdapter` value: `{uid, nsp, type, data}`.
pub fn to_cluster_value(message: &Message) -> Value {
    let mut entries = vec![
        ("uid".to_owned(), Value::str(&message.uid)),
        ("nsp".to_owned(), Value::str(&message.nsp)),
        (
            "type".to_owned(),
            Value::from(u64::from(message.body.type_number())),
        ),
    ];
    if let Some(data) = data_of(&message.body) {
        entries.push(("data".to_owned(), data));
    }
    Value::Map(entries)
}

/// Encodes a message as Node's `ClusterAdapter` backends do (the sharded Redis adapter, the
/// Redis Streams and PostgreSQL adapters): JSON, unless the data holds binary, then MessagePack.
pub fn encode_cluster(message: &Message) -> Vec<u8> {
    let value = to_cluster_value(message);
    if value.get("data").is_some_and(Value::has_binary) {
        value::to_msgpack(&value)
    } else {
        value::to_json(&value)
    }
}

/// Decodes a message in the `ClusterAdapter` format: JSON when it starts with `{`, else
/// MessagePack. `None` for anything malformed or unknown (it is ignored, as Node ignores it).
pub fn decode_cluster(bytes: &[u8]) -> Option<Message> {
    let value = if bytes.first() == Some(&b'{') {
        value::from_json(bytes).ok()?
    } else {
        value::from_msgpack(bytes).ok()?
    };
    from_cluster_value(value)
}

/// A `{uid, nsp, type, data}` value as a message.
pub fn from_cluster_value(mut value: Value) -> Option<Message> {
    let uid = string(value.get("uid")).unwrap_or_default();
    let nsp = string(value.get("nsp")).unwrap_or_else(|| "/".to_owned());
    let kind = value.get("type").and_then(Value::as_u64)?;
    let mut data = value.take("data").unwrap_or_default();
    let request_id = string(data.get("requestId"));
    let opts = Opts::from_value(data.get("opts"));
    let body = match kind {
        1 => Body::InitialHeartbeat,
        2 => Body::Heartbeat,
        3 => Body::Broadcast {
            packet: data.take("packet")?,
            opts,
            request_id,
        },
        4 => Body::SocketsJoin {
            opts,
            rooms: strings(data.get("rooms")),
        },
        5 => Body::SocketsLeave {
            opts,
            rooms: strings(data.get("rooms")),
        },
        6 => Body::DisconnectSockets {
            opts,
            close: data.get("close").and_then(Value::as_bool).unwrap_or(false),
        },
        7 => Body::FetchSockets {
            opts,
            request_id: request_id?,
        },
        8 => Body::FetchSocketsResponse {
            request_id: request_id?,
            sockets: match data.take("sockets") {
                Some(Value::Array(sockets)) => sockets,
                _ => Vec::new(),
            },
        },
        9 => Body::ServerSideEmit {
            request_id,
            packet: match data.take("packet") {
                Some(Value::Array(packet)) => packet,
                _ => return None,
            },
        },
        10 => Body::ServerSideEmitResponse {
            request_id: request_id?,
            packet: data.take("packet").unwrap_or_default(),
        },
        11 => Body::BroadcastClientCount {
            request_id: request_id?,
            client_count: data.get("clientCount").and_then(Value::as_u64)?,
        },
        12 => Body::BroadcastAck {
            request_id: request_id?,
            packet: data.take("packet").unwrap_or_default(),
        },
        13 => Body::AdapterClose,
        _ => return None,
    };
    Some(Message { uid, nsp, body })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cluster_format_round_trip() {
        let message = Message {
            uid: "abc".into(),
            nsp: "/".into(),
            body: Body::Broadcast {
                packet: Value::map([
                    ("type", Value::Int(2)),
                    (
                        "data",
                        Value::Array(vec![Value::str("hello"), Value::Bin(vec![1, 2].into())]),
                    ),
                    ("nsp", Value::str("/")),
                ]),
                opts: Opts {
                    rooms: vec!["room1".into()],
                    ..Opts::default()
                },
                request_id: None,
            },
        };
        let bytes = encode_cluster(&message);
        // Binary inside: MessagePack (a fixmap of 4 entries).
        assert_eq!(bytes[0], 0x84);
        assert_eq!(decode_cluster(&bytes), Some(message));

        let join = Message {
            uid: "abc".into(),
            nsp: "/admin".into(),
            body: Body::SocketsJoin {
                opts: Opts::default(),
                rooms: vec!["r".into()],
            },
        };
        let bytes = encode_cluster(&join);
        assert_eq!(
            std::str::from_utf8(&bytes).unwrap(),
            r#"{"uid":"abc","nsp":"/admin","type":4,"data":{"opts":{"rooms":[],"except":[],"flags":{}},"rooms":["r"]}}"#
        );
        assert_eq!(decode_cluster(&bytes), Some(join));
        assert_eq!(decode_cluster(b"{\"type\":99}"), None);
        assert_eq!(decode_cluster(b"\xc1"), None);
    }
}
