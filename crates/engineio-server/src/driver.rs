//! The task that owns one [`Session`]: it feeds it HTTP requests, WebSocket frames, timer
//! expiries and application commands, and carries out what the session asks for.
//!
//! Nothing else touches the session, so it needs no lock. Everything reaches the task through
//! one bounded channel of [`Command`]s; the task answers HTTP requests through one-shot channels.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use engineio_proto::session::{
    CloseReason, Event, PollError, Server, Session, Transmit, TransportEnd,
};
use engineio_proto::{Packet, ProtocolVersion, TransportKind, payload};
use http::StatusCode;
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

use crate::http_util::{ErrorCode, Reject};
use crate::server::Shared;
use crate::socket::{Message, SocketEvent};
use crate::ws::{Incoming, WebSocket};

/// Requests to a session's task.
pub(crate) enum Command {
    /// A polling GET: answered once the session has something to say.
    Poll(oneshot::Sender<PollReply>),
    /// A polling POST whose body was read (within `maxHttpBufferSize`).
    Post(Body, oneshot::Sender<Result<(), Reject>>),
    /// A WebSocket for this session: the upgrade probe.
    WebSocket(Box<WebSocket>),
    /// A message from the application.
    Send(Packet),
    /// Messages from the application that go together.
    SendAll(Vec<Message>),
    /// Close from the server.
    Close(CloseReason),
}

/// A POST body and how it is encoded.
pub(crate) struct Body {
    pub(crate) data: Bytes,
    /// `Content-Type: application/octet-stream` (a v3 binary payload).
    pub(crate) binary: bool,
}

impl Command {
    pub(crate) fn into_messages(self) -> Vec<Message> {
        match self {
            Self::SendAll(messages) => messages,
            other => vec![other.into_message()],
        }
    }

    pub(crate) fn into_message(self) -> Message {
        match self {
            Self::Send(Packet::Binary(data)) => Message::Binary(data),
            Self::Send(Packet::Message(text)) => Message::Text(text),
            _ => Message::Text(engineio_proto::Str::new()),
        }
    }
}

/// The answer to a polling GET.
pub(crate) enum PollReply {
    Payload {
        body: Bytes,
        content_type: &'static str,
    },
    Reject(Reject),
}

pub(crate) struct Driver {
    session: Session<Server>,
    shared: Arc<Shared>,
    commands: mpsc::Receiver<Command>,
    events: mpsc::Sender<SocketEvent>,
    /// Events the application has not taken yet (bounded by `max_pending_events`, plus at most
    /// one POST's packets).
    pending: VecDeque<SocketEvent>,
    /// A POST that arrived while `pending` was full: processed once the application catches up.
    deferred_post: Option<(Body, oneshot::Sender<Result<(), Reject>>)>,
    /// A POST whose packets are being fed; answered once all of them went in. Feeding pauses
    /// while `pending` is full, so one body cannot turn into an unbounded number of events.
    feeding: Option<Feeding>,
    held_get: Option<oneshot::Sender<PollReply>>,
    ws: Option<WebSocket>,
    out: Vec<Packet>,
    closed: Option<CloseReason>,
    /// v3: the client takes binary payloads (it did not ask for `b64=1`).
    #[cfg_attr(not(feature = "v3"), allow(dead_code, reason = "v3 only"))]
    supports_binary: bool,
}

impl Driver {
    pub(crate) fn new(
        session: Session<Server>,
        shared: Arc<Shared>,
        commands: mpsc::Receiver<Command>,
        events: mpsc::Sender<SocketEvent>,
        ws: Option<WebSocket>,
        supports_binary: bool,
    ) -> Self {
        Self {
            session,
            shared,
            commands,
            events,
            pending: VecDeque::new(),
            deferred_post: None,
            feeding: None,
            held_get: None,
            ws,
            out: Vec::new(),
            closed: None,
            supports_binary,
        }
    }

    fn now() -> std::time::Instant {
        Instant::now().into_std()
    }

    fn protocol(&self) -> ProtocolVersion {
        self.session.protocol()
    }

    fn high_water(&self) -> usize {
        self.shared.config.max_pending_events.max(1)
    }

    /// Encodes the handshake answer (or any polling payload) for the current protocol.
    pub(crate) fn encode_payload(
        packets: &[Packet],
        protocol: ProtocolVersion,
        supports_binary: bool,
    ) -> (Bytes, &'static str) {
        let mut buf = BytesMut::new();
        let _ = supports_binary;
        match protocol {
            ProtocolVersion::V4 => {
                payload::encode_v4(packets, &mut buf);
                (buf.freeze(), TEXT)
            }
            #[cfg(feature = "v3")]
            ProtocolVersion::V3 => match payload::encode_v3(packets, supports_binary, &mut buf) {
                payload::V3Format::String => (buf.freeze(), TEXT),
                payload::V3Format::Binary => (buf.freeze(), "application/octet-stream"),
            },
        }
    }

    pub(crate) async fn run(mut self) {
        let sleep = tokio::time::sleep(Duration::from_secs(3600));
        tokio::pin!(sleep);
        loop {
            self.drive().await;
            if self.session.is_closed() {
                break;
            }
            if self.pending.len() < self.high_water() {
                if self.feeding.is_some() {
                    self.feed_some();
                    continue;
                }
                if let Some((body, reply)) = self.deferred_post.take() {
                    self.start_post(body, reply);
                    continue;
                }
            }
            let deadline = self.session.poll_timeout();
            if let Some(at) = deadline {
                sleep.as_mut().reset(Instant::from_std(at));
            }
            let can_read = self.pending.len() < self.high_water();
            let has_pending = !self.pending.is_empty();
            let wake = tokio::select! {
                command = self.commands.recv() => Wake::Command(command),
                incoming = recv_ws(&mut self.ws), if can_read && self.ws.is_some() => {
                    Wake::WebSocket(incoming)
                }
                () = &mut sleep, if deadline.is_some() => Wake::Timer,
                () = get_closed(&mut self.held_get), if self.held_get.is_some() => Wake::GetClosed,
                permit = self.events.reserve(), if has_pending => match permit {
                    Ok(permit) => {
                        if let Some(event) = self.pending.pop_front() {
                            permit.send(event);
                        }
                        Wake::Delivered
                    }
                    // The application dropped its `Events`: nobody listens any more.
                    Err(_) => Wake::NoListener,
                },
            };
            // Timers that are due count before the input that raced them: a GET arriving after
            // the ping timeout finds the session closed.
            self.fire_due_timers();
            match wake {
                Wake::Command(Some(command)) => self.on_command(command),
                Wake::Command(None) => {
                    self.session
                        .close(CloseReason::ServerShuttingDown, Self::now());
                }
                Wake::WebSocket(incoming) => self.on_ws(incoming),
                Wake::Timer => {}
                Wake::GetClosed => {
                    // The client dropped its GET (Node: "poll connection closed prematurely").
                    self.held_get = None;
                    self.session.handle_transport_closed(
                        TransportKind::Polling,
                        TransportEnd::Error,
                        Self::now(),
                    );
                }
                Wake::Delivered => {}
                Wake::NoListener => self.pending.clear(),
            }
        }
        self.finish().await;
    }

    /// Feeds every due timer at the instant it was due, not when the task woke up: the tokio
    /// timer may fire a little late, and a heartbeat deadline computed from the late wake-up
    /// would drift (a ping due at 300 ms but sent at 305 ms would time out at 505 ms, not 500).
    fn fire_due_timers(&mut self) {
        let now = Self::now();
        // Each call moves the session's deadlines strictly later; the cap is only a safeguard.
        for _ in 0..16 {
            match self.session.poll_timeout() {
                Some(at) if at <= now => self.session.handle_timeout(at),
                _ => return,
            }
        }
    }

    /// After the close: leave the table, refuse what is still queued, hand the last events over.
    async fn finish(mut self) {
        self.shared
            .remove(self.session.open().map(|open| &open.sid));
        self.commands.close();
        while let Ok(command) = self.commands.try_recv() {
            match command {
                Command::Poll(reply) => {
                    let _ =
                        reply.send(PollReply::Reject(Reject::Code(ErrorCode::SessionIdUnknown)));
                }
                Command::Post(_, reply) => {
                    let _ = reply.send(Err(Reject::Code(ErrorCode::SessionIdUnknown)));
                }
                Command::WebSocket(ws) => {
                    tokio::spawn(ws.close(false, CLOSE_TIMEOUT));
                }
                Command::Send(_) | Command::SendAll(_) | Command::Close(_) => {}
            }
        }
        if let Some(feeding) = self.feeding.take() {
            let _ = feeding.reply.send(Ok(()));
        }
        if let Some((_, reply)) = self.deferred_post.take() {
            let _ = reply.send(Err(Reject::Code(ErrorCode::SessionIdUnknown)));
        }
        // The application gets its last events if it reads them within a bounded time.
        let events = self.events;
        let pending = std::mem::take(&mut self.pending);
        let limit = self.shared.config.ping_interval + self.shared.config.ping_timeout;
        let _ = tokio::time::timeout(limit, async move {
            for event in pending {
                if events.send(event).await.is_err() {
                    break;
                }
            }
        })
        .await;
    }

    /// Moves the session's events to `pending`; whether there were any.
    fn take_events(&mut self) -> bool {
        let mut any = false;
        while let Some(event) = self.session.poll_event() {
            any = true;
            let event = match event {
                Event::Message(text) => SocketEvent::Message(Message::Text(text)),
                Event::Binary(data) => SocketEvent::Message(Message::Binary(data)),
                Event::Upgraded(transport) => SocketEvent::Upgraded(transport),
                Event::Closed { reason, .. } => {
                    self.closed = Some(reason);
                    SocketEvent::Closed(reason)
                }
                _ => continue,
            };
            self.pending.push_back(event);
        }
        any
    }

    /// Drains the session until it has nothing more to say.
    async fn drive(&mut self) {
        loop {
            let mut progressed = false;
            progressed |= self.take_events();
            let mut out = std::mem::take(&mut self.out);
            while let Some(transmit) = self.session.poll_transmit(&mut out) {
                progressed = true;
                self.transmit(transmit, &mut out).await;
                out.clear();
            }
            self.out = out;
            if !progressed {
                return;
            }
        }
    }

    async fn transmit(&mut self, transmit: Transmit, out: &mut [Packet]) {
        match transmit {
            Transmit::Send(TransportKind::Polling) => {
                let (body, content_type) =
                    Self::encode_payload(out, self.protocol(), self.supports_binary);
                if let Some(get) = self.held_get.take() {
                    // A GET dropped meanwhile loses these packets, as in Node.
                    let _ = get.send(PollReply::Payload { body, content_type });
                }
            }
            Transmit::Send(TransportKind::WebSocket) => {
                let protocol = self.protocol();
                let supports_binary = self.supports_binary;
                let limit = self.shared.config.ping_interval + self.shared.config.ping_timeout;
                let Some(ws) = self.ws.as_mut() else {
                    return;
                };
                let frames = out.iter().map(|packet| {
                    if supports_binary {
                        packet.to_frame(protocol)
                    } else {
                        engineio_proto::Frame::Text(packet.to_text(protocol))
                    }
                });
                // A peer that does not read cannot hold the task forever.
                let written = tokio::time::timeout(limit, ws.send_all(frames)).await;
                if !matches!(written, Ok(Ok(()))) {
                    self.ws = None;
                    self.session.handle_transport_closed(
                        TransportKind::WebSocket,
                        TransportEnd::Error,
                        Self::now(),
                    );
                }
            }
            Transmit::Close(TransportKind::Polling) => {
                if let Some(get) = self.held_get.take() {
                    // Node answers a held GET with `close` when the session ends, except when
                    // the client asked for the close (its polling transport sends a `noop`); a
                    // GET left over by an upgrade gets a `noop` too.
                    let packet = match self.closed {
                        None | Some(CloseReason::TransportClose) => Packet::Noop,
                        Some(_) => Packet::Close,
                    };
                    let (body, content_type) = Self::encode_payload(
                        std::slice::from_ref(&packet),
                        self.protocol(),
                        self.supports_binary,
                    );
                    let _ = get.send(PollReply::Payload { body, content_type });
                }
            }
            Transmit::Close(TransportKind::WebSocket) => {
                if let Some(ws) = self.ws.take() {
                    tokio::spawn(ws.close(false, CLOSE_TIMEOUT));
                }
            }
            Transmit::Poll | Transmit::Connect(_) => {}
        }
    }

    fn on_command(&mut self, command: Command) {
        let now = Self::now();
        match command {
            Command::Poll(reply) => match self.session.handle_poll_request(now) {
                Ok(()) => self.held_get = Some(reply),
                Err(error) => {
                    let reject = match error {
                        // Node answers the second GET with a bare 400; the held one gets `close`.
                        PollError::Overlap => Reject::Status(StatusCode::BAD_REQUEST),
                        PollError::WrongTransport => Reject::Code(ErrorCode::BadRequest),
                        _ => Reject::Code(ErrorCode::SessionIdUnknown),
                    };
                    let _ = reply.send(PollReply::Reject(reject));
                }
            },
            Command::Post(body, reply) => {
                if self.feeding.is_some() || self.deferred_post.is_some() {
                    // A POST before the previous one was answered: engine.io clients never do
                    // that; Node closes the session ("data request overlap from client").
                    let _ = reply.send(Err(Reject::Status(StatusCode::BAD_REQUEST)));
                    self.session.handle_transport_closed(
                        TransportKind::Polling,
                        TransportEnd::Error,
                        now,
                    );
                } else if self.pending.len() >= self.high_water() {
                    self.deferred_post = Some((body, reply));
                } else {
                    self.start_post(body, reply);
                }
            }
            Command::WebSocket(ws) => match self.session.handle_upgrade_request(now) {
                Ok(()) if self.ws.is_none() => self.ws = Some(*ws),
                _ => {
                    tokio::spawn(ws.close(false, CLOSE_TIMEOUT));
                }
            },
            Command::Send(packet) => {
                if let Err(engineio_proto::session::SendError::QueueFull(_)) =
                    self.session.send(packet)
                {
                    self.drop_slow_consumer(now);
                }
            }
            Command::SendAll(messages) => {
                for message in messages {
                    if let Err(engineio_proto::session::SendError::QueueFull(_)) =
                        self.session.send(message.into())
                    {
                        self.drop_slow_consumer(now);
                        break;
                    }
                }
            }
            Command::Close(reason) => self.session.close(reason, now),
        }
    }

    /// The client does not take what is sent to it: end the session at once with
    /// "transport error" (a graceful close would queue behind the very backlog that overflowed).
    /// The session has no "abort" input, so the driver reports its transport as failed and
    /// releases that transport itself.
    fn drop_slow_consumer(&mut self, now: std::time::Instant) {
        let transport = self.session.transport();
        self.session
            .handle_transport_closed(transport, TransportEnd::Error, now);
        if transport == TransportKind::WebSocket {
            if let Some(ws) = self.ws.take() {
                tokio::spawn(ws.close(false, CLOSE_TIMEOUT));
            }
        } else if let Some(get) = self.held_get.take() {
            let (body, content_type) =
                Self::encode_payload(&[Packet::Close], self.protocol(), self.supports_binary);
            let _ = get.send(PollReply::Payload { body, content_type });
        }
    }

    fn start_post(&mut self, body: Body, reply: oneshot::Sender<Result<(), Reject>>) {
        match self.open_post(body) {
            Err(reject) => {
                let _ = reply.send(Err(reject));
            }
            Ok(None) => {
                let _ = reply.send(Ok(()));
            }
            Ok(Some(packets)) => {
                self.feeding = Some(Feeding { packets, reply });
                self.feed_some();
            }
        }
    }

    /// Checks that the session takes a POST and opens its payload. `Ok(None)`: the payload did
    /// not parse (the session closed; Node still answers `ok`).
    fn open_post(&mut self, body: Body) -> Result<Option<Packets>, Reject> {
        let now = Self::now();
        match self.session.handle_post_request(now) {
            Ok(()) => {}
            Err(PollError::WrongTransport) => return Err(Reject::Code(ErrorCode::BadRequest)),
            Err(_) => return Err(Reject::Code(ErrorCode::SessionIdUnknown)),
        }
        let max = self.shared.config.max_http_buffer_size;
        let packets = match self.protocol() {
            ProtocolVersion::V4 => {
                if body.binary {
                    // Node: "invalid content" closes the session.
                    self.session.handle_parse_error(TransportKind::Polling, now);
                    return Err(Reject::Code(ErrorCode::BadRequest));
                }
                payload::iter_v4(body.data, max).map(|p| Box::new(p) as Packets)
            }
            #[cfg(feature = "v3")]
            ProtocolVersion::V3 => {
                if body.binary {
                    payload::iter_v3_binary(body.data, max).map(|p| Box::new(p) as Packets)
                } else {
                    payload::iter_v3_string(body.data, max).map(|p| Box::new(p) as Packets)
                }
            }
        };
        match packets {
            Ok(packets) => Ok(Some(packets)),
            Err(_) => {
                self.session.handle_parse_error(TransportKind::Polling, now);
                Ok(None)
            }
        }
    }

    /// Feeds the POST being processed while the application keeps up; answers it when done.
    fn feed_some(&mut self) {
        let Some(mut feeding) = self.feeding.take() else {
            return;
        };
        let now = Self::now();
        let high_water = self.high_water();
        loop {
            if self.session.is_closed() {
                break;
            }
            self.take_events();
            if self.pending.len() >= high_water {
                self.feeding = Some(feeding);
                return;
            }
            match feeding.packets.next() {
                None => break,
                Some(Ok(packet)) => {
                    self.session
                        .handle_packet(packet, TransportKind::Polling, now);
                }
                Some(Err(_)) => {
                    self.session.handle_parse_error(TransportKind::Polling, now);
                    break;
                }
            }
        }
        let _ = feeding.reply.send(Ok(()));
    }

    fn on_ws(&mut self, incoming: Incoming) {
        let now = Self::now();
        match incoming {
            Incoming::Frame(frame) => match Packet::decode_frame(frame, self.protocol()) {
                Ok(packet) => self
                    .session
                    .handle_packet(packet, TransportKind::WebSocket, now),
                Err(_) => self
                    .session
                    .handle_parse_error(TransportKind::WebSocket, now),
            },
            Incoming::Invalid => self
                .session
                .handle_parse_error(TransportKind::WebSocket, now),
            Incoming::Closed { clean } => {
                self.ws = None;
                let end = if clean {
                    TransportEnd::Closed
                } else {
                    TransportEnd::Error
                };
                self.session
                    .handle_transport_closed(TransportKind::WebSocket, end, now);
            }
            Incoming::TooBig => {
                if let Some(ws) = self.ws.take() {
                    tokio::spawn(ws.close(true, CLOSE_TIMEOUT));
                }
                self.session.handle_transport_closed(
                    TransportKind::WebSocket,
                    TransportEnd::Error,
                    now,
                );
            }
        }
    }
}

/// The packets of a POST body, decoded lazily.
type Packets = Box<dyn Iterator<Item = Result<Packet, engineio_proto::DecodeError>> + Send>;

/// A POST in progress.
struct Feeding {
    packets: Packets,
    reply: oneshot::Sender<Result<(), Reject>>,
}

/// What woke the task up.
enum Wake {
    Command(Option<Command>),
    WebSocket(Incoming),
    Timer,
    GetClosed,
    Delivered,
    NoListener,
}

const TEXT: &str = "text/plain; charset=UTF-8";

/// How long closing a WebSocket may take before the connection is dropped.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(5);

async fn recv_ws(ws: &mut Option<WebSocket>) -> Incoming {
    match ws {
        Some(ws) => ws.recv().await,
        None => std::future::pending().await,
    }
}

async fn get_closed(get: &mut Option<oneshot::Sender<PollReply>>) {
    match get {
        Some(get) => get.closed().await,
        None => std::future::pending().await,
    }
}
