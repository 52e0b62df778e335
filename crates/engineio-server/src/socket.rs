//! What the application holds: a [`Socket`] handle to send and close (and, with
//! [`crate::EngineIo::new`], [`crate::Events`] to receive).

use bytes::Bytes;
use engineio_proto::session::CloseReason;
use engineio_proto::{Packet, ProtocolVersion, Str, TransportKind};
use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};
use std::time::SystemTime;

use crate::driver::Command;
use crate::queue::{PushError, Queue};

/// One Engine.IO message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// A text message.
    Text(Str),
    /// A binary message.
    Binary(Bytes),
}

impl Message {
    /// The message a packet from the application carries (a pre-framed message is text).
    pub(crate) fn from_packet(packet: Packet) -> Self {
        match packet {
            Packet::Binary(data) => Message::Binary(data),
            other => Message::Text(other.message_text().unwrap_or_default()),
        }
    }
}

impl From<Message> for Packet {
    fn from(message: Message) -> Self {
        match message {
            Message::Text(text) => Packet::Message(text),
            Message::Binary(data) => Packet::Binary(data),
        }
    }
}

impl From<&'static str> for Message {
    fn from(text: &'static str) -> Self {
        Self::Text(Str::from_static(text))
    }
}

impl From<String> for Message {
    fn from(text: String) -> Self {
        Self::Text(Str::from(text))
    }
}

impl From<Bytes> for Message {
    fn from(data: Bytes) -> Self {
        Self::Binary(data)
    }
}

/// What a session reports to the application, in order. [`SocketEvent::Closed`] comes last.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SocketEvent {
    /// A message from the client.
    Message(Message),
    /// The session moved to this transport (polling to WebSocket).
    Upgraded(TransportKind),
    /// The session is over, for this reason (Node's names: `"transport close"`, `"ping timeout"`…).
    Closed(CloseReason),
}

/// Why [`Socket::send`] refused a message; the message is handed back.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SendError<T = Message> {
    /// The session's command channel is full ([`crate::Config::command_capacity`]): the
    /// session task is behind, usually because its peer reads slowly.
    #[error("session channel full")]
    Full(T),
    /// The session is closed.
    #[error("session closed")]
    Closed(T),
}

/// A handle to one Engine.IO session. Cheap to clone; every clone talks to the session's task
/// through one bounded channel, so sending never blocks and never takes a lock.
#[derive(Debug, Clone)]
pub struct Socket {
    pub(crate) sid: Str,
    pub(crate) protocol: ProtocolVersion,
    pub(crate) queue: Arc<Queue>,
    /// Most messages waiting in `queue` ([`crate::Config::command_capacity`]).
    pub(crate) capacity: usize,
    pub(crate) handshake: Arc<Handshake>,
}

/// The client's address, as a request extension. [`crate::EngineIo::serve`] inserts it into every
/// request; a server that mounts the engine as a tower service inserts it itself (for example from
/// axum's `ConnectInfo`) so that [`Handshake::remote_addr`] is known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RemoteAddr(pub SocketAddr);

/// Whether the connection is encrypted, as a request extension inserted by a TLS front end that
/// mounts the engine as a tower service ([`Handshake::secure`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Secure(pub bool);

/// What the request that opened a session looked like: what Node keeps as `socket.request`.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Handshake {
    /// The request's path and query (`EIO`, `transport` and the client's own parameters), as
    /// text: an `http::Uri` is five times larger and rarely needed ([`Handshake::uri`]).
    target: Box<str>,
    /// The request headers, kept as one compact block (`name:value\n` lines) and turned into a
    /// `HeaderMap` on first use: most sessions never look at them, and a `HeaderMap` costs more
    /// than the headers themselves.
    raw_headers: Box<[u8]>,
    headers: OnceLock<Box<http::HeaderMap>>,
    /// The client's address, from the [`RemoteAddr`] request extension.
    pub remote_addr: Option<SocketAddr>,
    /// Whether the connection is encrypted, from the [`Secure`] request extension.
    pub secure: bool,
    /// The transport of the first request.
    pub transport: TransportKind,
    /// When the session was opened.
    pub issued: SystemTime,
}

/// The headers as one block that shares nothing with the request: hyper's header values are
/// slices of its 8 KiB read buffer, and a session that kept them would keep that buffer for its
/// whole life. Names cannot hold `:` and values cannot hold `\n`, so the block is unambiguous.
fn compact_headers(headers: &http::HeaderMap) -> Box<[u8]> {
    let total: usize = headers
        .iter()
        .map(|(name, value)| name.as_str().len() + value.as_bytes().len() + 2)
        .sum();
    let mut raw = Vec::with_capacity(total);
    for (name, value) in headers {
        raw.extend_from_slice(name.as_str().as_bytes());
        raw.push(b':');
        raw.extend_from_slice(value.as_bytes());
        raw.push(b'\n');
    }
    raw.into_boxed_slice()
}

/// The `HeaderMap` of a block made by [`compact_headers`].
fn expand_headers(raw: &[u8]) -> http::HeaderMap {
    let lines = raw.split(|&b| b == b'\n').filter(|line| !line.is_empty());
    let mut headers = http::HeaderMap::with_capacity(lines.clone().count());
    for line in lines {
        let Some(colon) = line.iter().position(|&b| b == b':') else {
            continue;
        };
        let (name, value) = (&line[..colon], &line[colon + 1..]);
        if let (Ok(name), Ok(value)) = (
            http::HeaderName::from_bytes(name),
            http::HeaderValue::from_bytes(value),
        ) {
            headers.append(name, value);
        }
    }
    headers
}

/// The path and query of `uri`, in a buffer of their own (see [`compact_headers`]).
fn request_target(uri: &http::Uri) -> Box<str> {
    uri.path_and_query()
        .map_or("/", |target| target.as_str())
        .into()
}

impl Handshake {
    pub(crate) fn from_request<B>(request: &http::Request<B>, transport: TransportKind) -> Self {
        let extensions = request.extensions();
        Self {
            target: request_target(request.uri()),
            raw_headers: compact_headers(request.headers()),
            headers: OnceLock::new(),
            remote_addr: extensions.get::<RemoteAddr>().map(|addr| addr.0),
            secure: extensions.get::<Secure>().is_some_and(|secure| secure.0),
            transport,
            issued: SystemTime::now(),
        }
    }

    /// The request headers.
    pub fn headers(&self) -> &http::HeaderMap {
        self.headers
            .get_or_init(|| Box::new(expand_headers(&self.raw_headers)))
    }

    /// The request's path and query, as sent (`/socket.io/?EIO=4&transport=polling&t=…`).
    pub fn path_and_query(&self) -> &str {
        &self.target
    }

    /// The request's query string, without `?` (empty when there is none).
    pub fn query(&self) -> &str {
        self.target.split_once('?').map_or("", |(_, query)| query)
    }

    /// The request URI.
    pub fn uri(&self) -> http::Uri {
        self.target
            .parse()
            .unwrap_or_else(|_| http::Uri::from_static("/"))
    }

    /// The same handshake with another request target (tests, and sessions made without a
    /// request).
    #[must_use]
    pub fn with_path_and_query(mut self, target: &str) -> Self {
        self.target = target.into();
        self
    }

    /// Whether the request had header `name`, without building the header map.
    pub fn has_header(&self, name: &str) -> bool {
        self.raw_headers
            .split(|&b| b == b'\n')
            .filter_map(|line| line.iter().position(|&b| b == b':').map(|at| &line[..at]))
            .any(|header| header.eq_ignore_ascii_case(name.as_bytes()))
    }

    /// A handshake with nothing in it, for tests and for sessions made without a request.
    pub fn empty(transport: TransportKind) -> Self {
        Self {
            target: "/".into(),
            raw_headers: Box::default(),
            headers: OnceLock::new(),
            remote_addr: None,
            secure: false,
            transport,
            issued: SystemTime::now(),
        }
    }
}

impl Socket {
    /// The session id.
    pub fn id(&self) -> &str {
        &self.sid
    }

    /// The request that opened the session.
    pub fn handshake(&self) -> &Arc<Handshake> {
        &self.handshake
    }

    /// The protocol revision the client speaks.
    pub fn protocol(&self) -> ProtocolVersion {
        self.protocol
    }

    /// Queues a message for the client.
    ///
    /// # Errors
    ///
    /// [`SendError::Full`] when the session's queue is full, [`SendError::Closed`] once the
    /// session is over. A session whose own outbound queue overflows (a client that does not
    /// read) is closed with `"transport error"`.
    pub fn send(&self, message: impl Into<Message>) -> Result<(), SendError> {
        let message = message.into();
        self.queue
            .push(Command::Send(message.into()), self.capacity)
            .map_err(|error| match error {
                PushError::Full(command) => SendError::Full(command.into_message()),
                PushError::Closed(command) => SendError::Closed(command.into_message()),
            })
    }

    /// Queues several messages that must reach the client together and in order (a Socket.IO
    /// packet and its binary attachments): either all of them are queued or none.
    ///
    /// # Errors
    ///
    /// As [`Socket::send`]; the messages are handed back.
    pub fn send_all(&self, messages: Vec<Message>) -> Result<(), SendError<Vec<Message>>> {
        let packets = messages.into_iter().map(Packet::from).collect();
        self.queue
            .push(Command::SendAll(packets), self.capacity)
            .map_err(|error| match error {
                PushError::Full(command) => SendError::Full(command.into_messages()),
                PushError::Closed(command) => SendError::Closed(command.into_messages()),
            })
    }

    /// Queues message packets ([`Packet::Message`], [`Packet::Binary`], or a message framed
    /// once for many sessions with [`Packet::framed_message`]) that must reach the client
    /// together and in order; other packets are refused by the session.
    ///
    /// # Errors
    ///
    /// As [`Socket::send`]; the packets are handed back.
    pub fn send_packets(&self, packets: Vec<Packet>) -> Result<(), SendError<Vec<Packet>>> {
        let command = match <[Packet; 1]>::try_from(packets) {
            Ok([packet]) => Command::Send(packet),
            Err(packets) => Command::SendAll(packets),
        };
        self.queue
            .push(command, self.capacity)
            .map_err(|error| match error {
                PushError::Full(command) => SendError::Full(command.into_packets()),
                PushError::Closed(command) => SendError::Closed(command.into_packets()),
            })
    }

    /// Queues one message packet (see [`Socket::send_packets`]).
    ///
    /// # Errors
    ///
    /// As [`Socket::send`]; the packet is handed back.
    pub fn send_packet(&self, packet: Packet) -> Result<(), SendError<Packet>> {
        self.queue
            .push(Command::Send(packet), self.capacity)
            .map_err(|error| match error {
                PushError::Full(command) => {
                    SendError::Full(command.into_packets().pop().unwrap_or(Packet::Noop))
                }
                PushError::Closed(command) => {
                    SendError::Closed(command.into_packets().pop().unwrap_or(Packet::Noop))
                }
            })
    }

    /// Queues a message, waiting for room in the session's queue.
    ///
    /// # Errors
    ///
    /// [`SendError::Closed`] once the session is over.
    pub async fn send_wait(&self, message: impl Into<Message>) -> Result<(), SendError> {
        let mut message = message.into();
        loop {
            match self.send(message) {
                Err(SendError::Full(back)) => {
                    message = back;
                    self.queue.wait_for_space().await;
                }
                other => return other,
            }
        }
    }

    /// Closes the session from the server (`"forced close"`): queued messages are flushed first.
    pub fn close(&self) {
        self.close_with(CloseReason::ForcedClose);
    }

    /// Closes the session from the server with `reason` (reported to the application as the
    /// session's close reason); queued messages are flushed first.
    pub fn close_with(&self, reason: CloseReason) {
        // Closing must not be lost to a full queue.
        let _ = self.queue.push(Command::Close(reason), usize::MAX);
    }

    /// Whether the session is over.
    pub fn is_closed(&self) -> bool {
        self.queue.is_closed()
    }
}
