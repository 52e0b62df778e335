//! The wire format of npm `@socket.io/redis-adapter` (its default, non-sharded adapter) and of
//! `@socket.io/redis-emitter`: which channel each message goes to and how it is written.
//!
//! - broadcasts: `<key>#<nsp>#` (or `<key>#<nsp>#<room>#` for a single room), MessagePack
//!   `[uid, packet, {rooms, except, flags}]`;
//! - requests: `<key>-request#<nsp>#`, JSON `{uid, requestId?, type, ...}` (MessagePack for an
//!   acked broadcast, which may carry binary);
//! - responses: `<key>-response#<nsp>#` (or `<key>-response#<nsp>#<uid>#`), JSON
//!   `{requestId, ...}` (MessagePack for a broadcast acknowledgement).
//!
//! Request types: `SOCKETS` 0, `ALL_ROOMS` 1, `REMOTE_JOIN` 2, `REMOTE_LEAVE` 3,
//! `REMOTE_DISCONNECT` 4, `REMOTE_FETCH` 5, `SERVER_SIDE_EMIT` 6, `BROADCAST` 7,
//! `BROADCAST_CLIENT_COUNT` 8, `BROADCAST_ACK` 9.

use socketio_cluster::message::strings;
use socketio_cluster::value::{self, Value};
use socketio_cluster::{Body, Message, Opts};

/// The channels of one namespace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Channels {
    /// The namespace.
    pub nsp: String,
    /// `<key>#<nsp>#`: broadcasts (subscribed as the pattern `<key>#<nsp>#*`).
    pub broadcast: String,
    /// `<key>-request#<nsp>#`.
    pub request: String,
    /// `<key>-response#<nsp>#`.
    pub response: String,
}

impl Channels {
    /// The channels of namespace `nsp` with prefix `key` (`socket.io` by default).
    pub fn new(key: &str, nsp: &str) -> Self {
        Self {
            nsp: nsp.to_owned(),
            broadcast: format!("{key}#{nsp}#"),
            request: format!("{key}-request#{nsp}#"),
            response: format!("{key}-response#{nsp}#"),
        }
    }

    /// `<key>-response#<nsp>#<uid>#`: the responses meant for server `uid` only.
    pub fn specific_response(&self, uid: &str) -> String {
        format!("{}{uid}#", self.response)
    }

    /// The pattern that receives every broadcast of the namespace.
    pub fn broadcast_pattern(&self) -> String {
        format!("{}*", self.broadcast)
    }
}

/// What a received message is, by its channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChannelKind<'a> {
    /// A broadcast, to `room` when the channel names one.
    Broadcast(Option<&'a str>),
    /// A request.
    Request,
    /// A response.
    Response,
}

impl Channels {
    /// What `channel` carries for this namespace, if anything.
    pub fn classify<'a>(&self, channel: &'a str) -> Option<ChannelKind<'a>> {
        if channel == self.request {
            return Some(ChannelKind::Request);
        }
        if channel.starts_with(&self.response) {
            return Some(ChannelKind::Response);
        }
        let rest = channel.strip_prefix(&self.broadcast)?;
        if rest.is_empty() {
            return Some(ChannelKind::Broadcast(None));
        }
        Some(ChannelKind::Broadcast(Some(rest.strip_suffix('#')?)))
    }
}

/// Where a message goes and its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outgoing {
    /// The channel.
    pub channel: String,
    /// The payload.
    pub payload: Vec<u8>,
}

fn classic_opts(opts: &Opts, with_flags: bool) -> Value {
    if with_flags {
        return opts.to_value();
    }
    Value::map([
        ("rooms", Value::strings(&opts.rooms)),
        ("except", Value::strings(&opts.except)),
    ])
}

/// Encodes a message from this server (or an emitter) for the other servers; `None` for
/// messages this format does not have (heartbeats: servers are counted with `PUBSUB NUMSUB`).
pub fn encode_request(channels: &Channels, message: &Message) -> Option<Outgoing> {
    let uid = Value::str(&message.uid);
    let request = |payload: Vec<u8>| {
        Some(Outgoing {
            channel: channels.request.clone(),
            payload,
        })
    };
    match &message.body {
        Body::Broadcast {
            packet,
            opts,
            request_id: None,
        } => {
            let mut channel = channels.broadcast.clone();
            if let [room] = opts.rooms.as_slice() {
                channel.push_str(room);
                channel.push('#');
            }
            let payload = value::to_msgpack(&Value::Array(vec![
                uid,
                packet.clone(),
                classic_opts(opts, true),
            ]));
            Some(Outgoing { channel, payload })
        }
        Body::Broadcast {
            packet,
            opts,
            request_id: Some(request_id),
        } => request(value::to_msgpack(&Value::map([
            ("uid", uid),
            ("requestId", Value::str(request_id)),
            ("type", Value::Int(7)),
            ("packet", packet.clone()),
            ("opts", classic_opts(opts, true)),
        ]))),
        Body::SocketsJoin { opts, rooms } | Body::SocketsLeave { opts, rooms } => {
            let kind = if matches!(message.body, Body::SocketsJoin { .. }) {
                2
            } else {
                3
            };
            request(value::to_json(&Value::map([
                ("uid", uid),
                ("type", Value::Int(kind)),
                ("opts", classic_opts(opts, false)),
                ("rooms", Value::strings(rooms)),
            ])))
        }
        Body::DisconnectSockets { opts, close } => request(value::to_json(&Value::map([
            ("uid", uid),
            ("type", Value::Int(4)),
            ("opts", classic_opts(opts, false)),
            ("close", Value::Bool(*close)),
        ]))),
        Body::FetchSockets { opts, request_id } => request(value::to_json(&Value::map([
            ("uid", uid),
            ("requestId", Value::str(request_id)),
            ("type", Value::Int(5)),
            ("opts", classic_opts(opts, false)),
        ]))),
        Body::ServerSideEmit { request_id, packet } => {
            let mut entries = vec![("uid".to_owned(), uid)];
            if let Some(request_id) = request_id {
                entries.push(("requestId".to_owned(), Value::str(request_id)));
            }
            entries.push(("type".to_owned(), Value::Int(6)));
            entries.push(("data".to_owned(), Value::Array(packet.clone())));
            request(value::to_json(&Value::Map(entries)))
        }
        Body::Sockets { request_id, rooms } => request(value::to_json(&Value::map([
            ("uid", uid),
            ("requestId", Value::str(request_id)),
            ("type", Value::Int(0)),
            ("rooms", Value::strings(rooms)),
        ]))),
        Body::AllRooms { request_id } => request(value::to_json(&Value::map([
            ("uid", uid),
            ("requestId", Value::str(request_id)),
            ("type", Value::Int(1)),
        ]))),
        _ => None,
    }
}

/// Encodes a response for server `requester`; `specific` sends it on that server's own
/// response channel (Node's `publishOnSpecificResponseChannel`).
pub fn encode_response(
    channels: &Channels,
    requester: &str,
    specific: bool,
    message: &Message,
) -> Option<Outgoing> {
    let channel = if specific && !requester.is_empty() {
        channels.specific_response(requester)
    } else {
        channels.response.clone()
    };
    let payload = match &message.body {
        Body::FetchSocketsResponse {
            request_id,
            sockets,
        } => value::to_json(&Value::map([
            ("requestId", Value::str(request_id)),
            ("sockets", Value::Array(sockets.clone())),
        ])),
        Body::SocketsResponse {
            request_id,
            sockets,
        } => value::to_json(&Value::map([
            ("requestId", Value::str(request_id)),
            ("sockets", Value::strings(sockets)),
        ])),
        Body::AllRoomsResponse { request_id, rooms } => value::to_json(&Value::map([
            ("requestId", Value::str(request_id)),
            ("rooms", Value::strings(rooms)),
        ])),
        Body::ServerSideEmitResponse { request_id, packet } => {
            // Node answers server-side events on the shared response channel in every mode.
            return Some(Outgoing {
                channel: channels.response.clone(),
                payload: value::to_json(&Value::map([
                    ("type", Value::Int(6)),
                    ("requestId", Value::str(request_id)),
                    ("data", packet.clone()),
                ])),
            });
        }
        Body::BroadcastClientCount {
            request_id,
            client_count,
        } => value::to_json(&Value::map([
            ("type", Value::Int(8)),
            ("requestId", Value::str(request_id)),
            ("clientCount", Value::from(*client_count)),
        ])),
        Body::BroadcastAck { request_id, packet } => value::to_msgpack(&Value::map([
            ("type", Value::Int(9)),
            ("requestId", Value::str(request_id)),
            ("packet", packet.clone()),
        ])),
        _ => return None,
    };
    Some(Outgoing { channel, payload })
}

fn decode_any(payload: &[u8]) -> Option<Value> {
    if payload.first() == Some(&b'{') {
        value::from_json(payload).ok()
    } else {
        value::from_msgpack(payload).ok()
    }
}

fn string(value: &Value, key: &str) -> Option<String> {
    value
        .get(key)
        .and_then(Value::as_str)
        .map(ToOwned::to_owned)
}

/// Decodes a broadcast (`[uid, packet, opts]`). `None` when malformed.
pub fn decode_broadcast(nsp: &str, payload: &[u8]) -> Option<Message> {
    let Value::Array(parts) = value::from_msgpack(payload).ok()? else {
        return None;
    };
    let mut parts = parts.into_iter();
    let uid = match parts.next()? {
        Value::Str(uid) => uid,
        _ => String::new(),
    };
    let packet = parts.next()?;
    let opts = Opts::from_value(parts.next().as_ref());
    Some(Message {
        uid,
        nsp: nsp.to_owned(),
        body: Body::Broadcast {
            packet,
            opts,
            request_id: None,
        },
    })
}

/// Decodes a request. `None` when malformed or of an unknown type.
pub fn decode_request(nsp: &str, payload: &[u8]) -> Option<Message> {
    let mut request = decode_any(payload)?;
    let uid = string(&request, "uid").unwrap_or_default();
    let request_id = string(&request, "requestId");
    let kind = request.get("type").and_then(Value::as_u64)?;
    let opts = match request.get("opts") {
        Some(opts) => Opts::from_value(Some(opts)),
        // Node's older `RemoteSocket` form: one socket by id, one room.
        None => Opts {
            rooms: string(&request, "sid").into_iter().collect(),
            ..Opts::default()
        },
    };
    let has_target = request.get("opts").is_some() || request.get("sid").is_some();
    let rooms = || match request.get("rooms") {
        Some(_) => strings(request.get("rooms")),
        None => string(&request, "room").into_iter().collect(),
    };
    let body = match kind {
        0 => Body::Sockets {
            request_id: request_id?,
            rooms: rooms(),
        },
        1 => Body::AllRooms {
            request_id: request_id?,
        },
        2 if has_target => Body::SocketsJoin {
            rooms: rooms(),
            opts,
        },
        3 if has_target => Body::SocketsLeave {
            rooms: rooms(),
            opts,
        },
        4 if has_target => Body::DisconnectSockets {
            close: request
                .get("close")
                .and_then(Value::as_bool)
                .unwrap_or(false),
            opts,
        },
        5 => Body::FetchSockets {
            opts,
            request_id: request_id?,
        },
        6 => Body::ServerSideEmit {
            request_id,
            packet: match request.take("data") {
                Some(Value::Array(data)) => data,
                _ => return None,
            },
        },
        7 => Body::Broadcast {
            packet: request.take("packet")?,
            opts,
            request_id: Some(request_id?),
        },
        _ => return None,
    };
    Some(Message {
        uid,
        nsp: nsp.to_owned(),
        body,
    })
}

/// Decodes a response. Responses carry no sender uid. `None` when malformed or unknown.
pub fn decode_response(nsp: &str, payload: &[u8]) -> Option<Message> {
    let mut response = decode_any(payload)?;
    let request_id = string(&response, "requestId")?;
    let kind = response.get("type").and_then(Value::as_u64);
    let body = match kind {
        Some(6) => Body::ServerSideEmitResponse {
            request_id,
            packet: response.take("data").unwrap_or_default(),
        },
        Some(8) => Body::BroadcastClientCount {
            request_id,
            client_count: response.get("clientCount").and_then(Value::as_u64)?,
        },
        Some(9) => Body::BroadcastAck {
            request_id,
            packet: response.take("packet").unwrap_or_default(),
        },
        _ => match (response.take("sockets"), response.get("rooms")) {
            (Some(Value::Array(sockets)), _) => {
                if sockets.iter().all(|s| matches!(s, Value::Str(_))) && !sockets.is_empty() {
                    Body::SocketsResponse {
                        request_id,
                        sockets: strings(Some(&Value::Array(sockets))),
                    }
                } else {
                    Body::FetchSocketsResponse {
                        request_id,
                        sockets,
                    }
                }
            }
            (_, Some(rooms)) => Body::AllRoomsResponse {
                request_id,
                rooms: strings(Some(rooms)),
            },
            _ => return None,
        },
    };
    Some(Message {
        uid: String::new(),
        nsp: nsp.to_owned(),
        body,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests")]

    use super::*;

    fn message(body: Body) -> Message {
        Message {
            uid: "abc123".into(),
            nsp: "/".into(),
            body,
        }
    }

    #[test]
    fn channels_as_node_names_them() {
        let channels = Channels::new("socket.io", "/");
        assert_eq!(channels.broadcast, "socket.io#/#");
        assert_eq!(channels.request, "socket.io-request#/#");
        assert_eq!(channels.response, "socket.io-response#/#");
        assert_eq!(
            channels.specific_response("abc"),
            "socket.io-response#/#abc#"
        );
        assert_eq!(channels.broadcast_pattern(), "socket.io#/#*");
        assert_eq!(
            channels.classify("socket.io#/#room1#"),
            Some(ChannelKind::Broadcast(Some("room1")))
        );
        assert_eq!(
            channels.classify("socket.io#/#"),
            Some(ChannelKind::Broadcast(None))
        );
        assert_eq!(channels.classify("socket.io#/admin#"), None);
        assert_eq!(
            channels.classify("socket.io-response#/#abc#"),
            Some(ChannelKind::Response)
        );
    }

    #[test]
    fn broadcast_bytes() {
        let channels = Channels::new("socket.io", "/");
        let packet = Value::map([
            ("type", Value::Int(2)),
            ("data", Value::Array(vec![Value::str("hi")])),
            ("nsp", Value::str("/")),
        ]);
        let out = encode_request(
            &channels,
            &message(Body::Broadcast {
                packet: packet.clone(),
                opts: Opts {
                    rooms: vec!["r1".into()],
                    ..Opts::default()
                },
                request_id: None,
            }),
        )
        .unwrap();
        assert_eq!(out.channel, "socket.io#/#r1#");
        // What notepack writes for ["abc123", {type: 2, data: ["hi"], nsp: "/"},
        // {rooms: ["r1"], except: [], flags: {}}].
        let mut expected = vec![0x93, 0xa6];
        expected.extend_from_slice(b"abc123");
        expected.extend_from_slice(&[0x83, 0xa4]);
        expected.extend_from_slice(b"type");
        expected.push(0x02);
        expected.push(0xa4);
        expected.extend_from_slice(b"data");
        expected.extend_from_slice(&[0x91, 0xa2]);
        expected.extend_from_slice(b"hi");
        expected.push(0xa3);
        expected.extend_from_slice(b"nsp");
        expected.extend_from_slice(&[0xa1, b'/']);
        expected.extend_from_slice(&[0x83, 0xa5]);
        expected.extend_from_slice(b"rooms");
        expected.extend_from_slice(&[0x91, 0xa2]);
        expected.extend_from_slice(b"r1");
        expected.push(0xa6);
        expected.extend_from_slice(b"except");
        expected.extend_from_slice(&[0x90, 0xa5]);
        expected.extend_from_slice(b"flags");
        expected.push(0x80);
        assert_eq!(out.payload, expected);
        let back = decode_broadcast("/", &out.payload).unwrap();
        assert_eq!(back.uid, "abc123");
        assert!(matches!(back.body, Body::Broadcast { packet: p, .. } if p == packet));
    }

    #[test]
    fn requests_and_responses_round_trip() {
        let channels = Channels::new("socket.io", "/");
        let join = message(Body::SocketsJoin {
            opts: Opts {
                rooms: vec!["a".into()],
                except: vec!["b".into()],
                ..Opts::default()
            },
            rooms: vec!["c".into()],
        });
        let out = encode_request(&channels, &join).unwrap();
        assert_eq!(
            String::from_utf8(out.payload.clone()).unwrap(),
            r#"{"uid":"abc123","type":2,"opts":{"rooms":["a"],"except":["b"]},"rooms":["c"]}"#
        );
        assert_eq!(decode_request("/", &out.payload).unwrap(), join);

        let emit = message(Body::ServerSideEmit {
            request_id: Some("r1".into()),
            packet: vec![Value::str("hello"), Value::Int(1)],
        });
        let out = encode_request(&channels, &emit).unwrap();
        assert_eq!(
            String::from_utf8(out.payload.clone()).unwrap(),
            r#"{"uid":"abc123","requestId":"r1","type":6,"data":["hello",1]}"#
        );
        assert_eq!(decode_request("/", &out.payload).unwrap(), emit);

        let count = message(Body::BroadcastClientCount {
            request_id: "r2".into(),
            client_count: 3,
        });
        let out = encode_response(&channels, "xyz", true, &count).unwrap();
        assert_eq!(out.channel, "socket.io-response#/#xyz#");
        assert_eq!(
            String::from_utf8(out.payload.clone()).unwrap(),
            r#"{"type":8,"requestId":"r2","clientCount":3}"#
        );
        let back = decode_response("/", &out.payload).unwrap();
        assert_eq!(back.body, count.body);

        let fetched = message(Body::FetchSocketsResponse {
            request_id: "r3".into(),
            sockets: vec![Value::map([("id", Value::str("s1"))])],
        });
        let out = encode_response(&channels, "xyz", false, &fetched).unwrap();
        assert_eq!(out.channel, "socket.io-response#/#");
        assert_eq!(
            decode_response("/", &out.payload).unwrap().body,
            fetched.body
        );

        // The emitter's form, and garbage.
        let emitter = br#"{"uid":"emitter","type":4,"opts":{"rooms":[],"except":[]},"close":true}"#;
        assert!(matches!(
            decode_request("/", emitter).unwrap().body,
            Body::DisconnectSockets { close: true, .. }
        ));
        assert_eq!(decode_request("/", b"{not json"), None);
        assert_eq!(decode_request("/", b"\xc1\xc1"), None);
        assert_eq!(decode_response("/", br#"{"requestId":"x"}"#), None);
    }
}
