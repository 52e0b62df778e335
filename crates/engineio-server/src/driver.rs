//! The task that owns one [`Session`]: it feeds it HTTP requests, WebSocket frames, timer
//! expiries and application commands, and carries out what the session asks for.
//!
//! Nothing else touches the session, so it needs no lock. Everything reaches the task through
//! its [`Queue`]; the task answers HTTP requests through one-shot channels and tells the
//! application through its [`Handler`], in this task.
//!
//! The task is a hand-written future rather than an `async` block around `select!`: its state is
//! this struct and one timer, about a kilobyte, where the generated state machine of the same
//! loop took four (memory per idle connection is what the server is measured on).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use engineio_proto::session::{
    CloseReason, Event, PollError, Server, Session, Transmit, TransportEnd,
};
use engineio_proto::{Packet, ProtocolVersion, TransportKind, payload};
use http::StatusCode;
use tokio::sync::oneshot;
use tokio::time::{Instant, Sleep};

use crate::app::Handler;
use crate::http_util::{ErrorCode, Reject};
use crate::queue::Queue;
use crate::server::Shared;
use crate::socket::Message;
use crate::ws::{Incoming, WebSocket};

/// Requests to a session's task.
pub(crate) enum Command {
    /// A polling GET: answered once the session has something to say.
    Poll(oneshot::Sender<PollReply>),
    /// A polling POST whose body was read (within `maxHttpBufferSize`). Boxed: it is rare and
    /// large, and every queued command is as large as the largest variant.
    Post(Box<(Body, oneshot::Sender<Result<(), Reject>>)>),
    /// A WebSocket for this session: the upgrade probe.
    WebSocket(Box<WebSocket>),
    /// A message from the application.
    Send(Packet),
    /// Messages from the application that go together.
    SendAll(Vec<Packet>),
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
    pub(crate) fn into_packets(self) -> Vec<Packet> {
        match self {
            Self::SendAll(packets) => packets,
            Self::Send(packet) => vec![packet],
            _ => Vec::new(),
        }
    }

    pub(crate) fn into_messages(self) -> Vec<Message> {
        self.into_packets()
            .into_iter()
            .map(Message::from_packet)
            .collect()
    }

    pub(crate) fn into_message(self) -> Message {
        match self {
            Self::Send(packet) => Message::from_packet(packet),
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

/// How many rounds one wake-up may take before the task yields to others.
const ROUNDS_PER_POLL: usize = 64;

/// How long a busy session must stay quiet before its scratch buffers are given back.
const RELEASE_AFTER: Duration = Duration::from_secs(1);

/// How many bursts of traffic per heartbeat interval give their scratch buffers back as soon
/// as they end: the handshake, a heartbeat, an occasional message. Past that the session is
/// busy and keeps them for [`RELEASE_AFTER`], so steady traffic allocates nothing per message.
///
/// Giving them back at once matters when many sessions start together (a reconnection storm
/// after a restart): buffers freed a second later sit as holes between the sessions that
/// started meanwhile, and nothing fills them when the storm is over (measured: 1 KiB of free
/// heap per idle connection, a quarter of its memory, at 10,000 connections opened in 0.5 s).
const QUICK_RELEASES: u8 = 4;

/// How long closing a WebSocket may take before the connection is dropped.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(5);

const TEXT: &str = "text/plain; charset=UTF-8";

pub(crate) struct Driver {
    session: Session<Server>,
    shared: Arc<Shared>,
    queue: Arc<Queue>,
    /// Commands taken from `queue` in one batch, handled without its lock.
    commands: std::collections::VecDeque<Command>,
    app: Box<dyn Handler>,
    /// A POST that arrived while the application was not ready: processed once it is.
    deferred_post: Option<(Body, oneshot::Sender<Result<(), Reject>>)>,
    /// A POST whose packets are being fed; answered once all of them went in. Feeding pauses
    /// while the application is not ready, so one body cannot flood it.
    feeding: Option<Feeding>,
    held_get: Option<oneshot::Sender<PollReply>>,
    ws: Option<WebSocket>,
    /// When the WebSocket write in progress started (a peer that does not read cannot hold
    /// the session forever).
    writing_since: Option<Instant>,
    out: Vec<Packet>,
    closed: Option<CloseReason>,
    /// The one timer: the session's next deadline, the write deadline or `release_at`,
    /// whichever is first.
    timer: Pin<Box<Sleep>>,
    timer_at: Option<Instant>,
    /// When to give back the scratch buffers of a session that went quiet.
    release_at: Option<Instant>,
    /// Whether anything happened since `release_at` was set.
    busy: bool,
    /// Bursts that gave their buffers back at once since the last heartbeat (up to
    /// [`QUICK_RELEASES`]).
    quick_releases: u8,
    /// v3: the client takes binary payloads (it did not ask for `b64=1`).
    #[cfg_attr(not(feature = "v3"), allow(dead_code, reason = "v3 only"))]
    supports_binary: bool,
}

impl Driver {
    pub(crate) fn new(
        session: Session<Server>,
        shared: Arc<Shared>,
        queue: Arc<Queue>,
        app: Box<dyn Handler>,
        ws: Option<WebSocket>,
        supports_binary: bool,
    ) -> Self {
        Self {
            session,
            shared,
            queue,
            commands: std::collections::VecDeque::new(),
            app,
            deferred_post: None,
            feeding: None,
            held_get: None,
            ws,
            writing_since: None,
            out: Vec::new(),
            closed: None,
            timer: Box::pin(tokio::time::sleep_until(Instant::now())),
            timer_at: None,
            release_at: None,
            busy: false,
            quick_releases: 0,
            supports_binary,
        }
    }

    fn now() -> std::time::Instant {
        Instant::now().into_std()
    }

    fn protocol(&self) -> ProtocolVersion {
        self.session.protocol()
    }

    fn write_limit(&self) -> Duration {
        self.shared.config.ping_interval + self.shared.config.ping_timeout
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

    /// One round: takes every input that is ready and carries out what the session asks for.
    /// Whether anything happened.
    fn round(&mut self, cx: &mut Context<'_>) -> bool {
        let mut progressed = false;
        if self.queue.take_all(&mut self.commands) {
            progressed = true;
            let mut commands = std::mem::take(&mut self.commands);
            for command in commands.drain(..) {
                self.on_command(command);
            }
            // The emptied buffer, with its capacity, takes the next batch.
            self.commands = commands;
        }
        self.app.poll(cx);
        if self.app.ready() {
            if self.feeding.is_some() {
                progressed |= self.feed_some();
            } else if let Some((body, reply)) = self.deferred_post.take() {
                self.start_post(body, reply);
                progressed = true;
            }
        }
        progressed |= self.read_ws(cx);
        if let Some(get) = self.held_get.as_mut() {
            if get.poll_closed(cx).is_ready() {
                // The client dropped its GET (Node: "poll connection closed prematurely").
                self.held_get = None;
                self.session.handle_transport_closed(
                    TransportKind::Polling,
                    TransportEnd::Error,
                    Self::now(),
                );
                progressed = true;
            }
        }
        // Timers that are due count before the input that raced them: a GET arriving after
        // the ping timeout finds the session closed.
        self.fire_due_timers();
        progressed |= self.drive(cx);
        progressed
    }

    /// Feeds every due timer at the instant it was due, not when the task woke up: the tokio
    /// timer may fire a little late, and a heartbeat deadline computed from the late wake-up
    /// would drift (a ping due at 300 ms but sent at 305 ms would time out at 505 ms, not 500).
    fn fire_due_timers(&mut self) {
        let now = Self::now();
        // Each call moves the session's deadlines strictly later; the cap is only a safeguard.
        for _ in 0..16 {
            match self.session.poll_timeout() {
                Some(at) if at <= now => {
                    self.session.handle_timeout(at);
                    // Heartbeat time: buffers left over from traffic go (an idle session keeps
                    // none; a busy one regrows them once per interval).
                    self.out = Vec::new();
                    self.commands = std::collections::VecDeque::new();
                    self.queue.release_if_empty();
                    self.quick_releases = 0;
                }
                _ => break,
            }
        }
        // One clock read per round (it was 4% of an echo's CPU when each check read it).
        let now = Instant::from_std(now);
        if let Some(since) = self.writing_since {
            if now.duration_since(since) >= self.write_limit() {
                self.ws_failed();
            }
        }
        if let Some(at) = self.release_at {
            if at <= now {
                if std::mem::take(&mut self.busy) {
                    self.release_at = Some(now + RELEASE_AFTER);
                } else {
                    self.release_at = None;
                    self.release_buffers();
                }
            }
        }
    }

    /// Gives back the capacity of every empty scratch buffer (queues keep what they grew to
    /// while busy; an idle session should hold none of it).
    fn release_buffers(&mut self) {
        self.out = Vec::new();
        self.commands = std::collections::VecDeque::new();
        self.queue.release_if_empty();
        self.session.release_idle_buffers();
        if let Some(ws) = self.ws.as_mut() {
            ws.release_buffers();
        }
    }

    /// Points the timer at the next deadline; whether it is already due.
    fn arm_timer(&mut self, cx: &mut Context<'_>) -> bool {
        let session = self.session.poll_timeout().map(Instant::from_std);
        let write = self.writing_since.map(|since| since + self.write_limit());
        let next = [session, write, self.release_at]
            .into_iter()
            .flatten()
            .min();
        let Some(at) = next else {
            self.timer_at = None;
            return false;
        };
        if self.timer_at != Some(at) {
            self.timer.as_mut().reset(at);
            self.timer_at = Some(at);
        }
        self.timer.as_mut().poll(cx).is_ready()
    }

    /// Moves the session's events to the application; whether there were any.
    fn take_events(&mut self) -> bool {
        let mut any = false;
        while let Some(event) = self.session.poll_event() {
            any = true;
            match event {
                Event::Message(text) => self.app.on_message(Message::Text(text)),
                Event::Binary(data) => self.app.on_message(Message::Binary(data)),
                Event::Upgraded(transport) => self.app.on_upgrade(transport),
                Event::Closed { reason, .. } => self.closed = Some(reason),
                _ => {}
            }
        }
        any
    }

    /// Drains the session until it has nothing more to say, or until the WebSocket is busy
    /// writing: while a write is in progress nothing more is taken from the session, whose
    /// bounded queue is where a slow reader's backlog waits.
    fn drive(&mut self, cx: &mut Context<'_>) -> bool {
        let mut progressed = false;
        loop {
            let mut round = self.take_events();
            if self.writing_since.is_some() {
                round |= self.flush_ws(cx);
                if self.writing_since.is_some() {
                    return progressed | round;
                }
            }
            let mut out = std::mem::take(&mut self.out);
            if let Some(transmit) = self.session.poll_transmit(&mut out) {
                round = true;
                self.transmit(transmit, &mut out);
                out.clear();
            }
            // Kept for the next batch (released at the next heartbeat).
            self.out = out;
            progressed |= round;
            if !round {
                return progressed;
            }
        }
    }

    fn transmit(&mut self, transmit: Transmit, out: &mut Vec<Packet>) {
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
                let Some(ws) = self.ws.as_mut() else {
                    return;
                };
                for packet in out.drain(..) {
                    let frame = if supports_binary {
                        packet.into_frame(protocol)
                    } else {
                        engineio_proto::Frame::Text(packet.to_text(protocol))
                    };
                    ws.start_send(frame);
                }
                self.writing_since = Some(Instant::now());
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
                    self.writing_since = None;
                    tokio::spawn(ws.close(false, CLOSE_TIMEOUT));
                }
            }
            Transmit::Poll | Transmit::Connect(_) => {}
        }
    }

    /// Pushes buffered frames to the socket; whether the write finished now.
    fn flush_ws(&mut self, cx: &mut Context<'_>) -> bool {
        let Some(ws) = self.ws.as_mut() else {
            self.writing_since = None;
            return false;
        };
        match ws.poll_flush(cx) {
            Poll::Ready(Ok(())) => self.writing_since.take().is_some(),
            Poll::Ready(Err(_)) => {
                self.ws_failed();
                true
            }
            Poll::Pending => {
                self.writing_since.get_or_insert_with(Instant::now);
                false
            }
        }
    }

    /// The WebSocket failed or stalled: the transport is over.
    fn ws_failed(&mut self) {
        self.writing_since = None;
        if self.ws.take().is_some() {
            self.session.handle_transport_closed(
                TransportKind::WebSocket,
                TransportEnd::Error,
                Self::now(),
            );
        }
    }

    /// Reads the frames the WebSocket has, while the application takes them.
    fn read_ws(&mut self, cx: &mut Context<'_>) -> bool {
        let mut progressed = false;
        // A bounded number per round, so that one busy client cannot starve the rest.
        for _ in 0..32 {
            if !self.app.ready() || self.session.is_closed() {
                break;
            }
            let Some(ws) = self.ws.as_mut() else {
                break;
            };
            let incoming = match ws.poll_next(cx) {
                Poll::Pending => break,
                Poll::Ready(incoming) => incoming,
            };
            progressed = true;
            self.on_ws(incoming);
            // Let the application see this frame's events before the next frame.
            self.take_events();
        }
        if self.writing_since.is_none()
            && self.ws.as_ref().is_some_and(WebSocket::has_pending_writes)
        {
            // A pong (or a close answer) to write.
            self.writing_since = Some(Instant::now());
        }
        progressed
    }

    fn on_command(&mut self, command: Command) {
        // Messages, by far the most frequent commands, need no clock.
        let command = match command {
            Command::Send(packet) => {
                if let Err(engineio_proto::session::SendError::QueueFull(_)) =
                    self.session.send(packet)
                {
                    self.drop_slow_consumer(Self::now());
                }
                return;
            }
            other => other,
        };
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
            Command::Post(post) => {
                let (body, reply) = *post;
                if self.feeding.is_some() || self.deferred_post.is_some() {
                    // A POST before the previous one was answered: engine.io clients never do
                    // that; Node closes the session ("data request overlap from client").
                    let _ = reply.send(Err(Reject::Status(StatusCode::BAD_REQUEST)));
                    self.session.handle_transport_closed(
                        TransportKind::Polling,
                        TransportEnd::Error,
                        now,
                    );
                } else if !self.app.ready() {
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
            Command::SendAll(packets) => {
                for packet in packets {
                    if let Err(engineio_proto::session::SendError::QueueFull(_)) =
                        self.session.send(packet)
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
                self.writing_since = None;
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
    fn feed_some(&mut self) -> bool {
        let Some(mut feeding) = self.feeding.take() else {
            return false;
        };
        let now = Self::now();
        let mut progressed = false;
        loop {
            if self.session.is_closed() {
                break;
            }
            self.take_events();
            if !self.app.ready() {
                self.feeding = Some(feeding);
                return progressed;
            }
            progressed = true;
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
        self.take_events();
        let _ = feeding.reply.send(Ok(()));
        true
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
                // Our answer to the peer's close frame (or to its protocol error) goes out
                // before the connection ends.
                if let Some(ws) = self.ws.take() {
                    tokio::spawn(ws.close(false, CLOSE_TIMEOUT));
                }
                self.writing_since = None;
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
                    self.writing_since = None;
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

    /// After the close: leave the table, refuse what is still queued, tell the application.
    fn finish(&mut self) {
        self.shared
            .remove(self.session.open().map(|open| &open.sid));
        for command in self.queue.close() {
            match command {
                Command::Poll(reply) => {
                    let _ =
                        reply.send(PollReply::Reject(Reject::Code(ErrorCode::SessionIdUnknown)));
                }
                Command::Post(post) => {
                    let (_, reply) = *post;
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
        if let Some(ws) = self.ws.take() {
            tokio::spawn(ws.close(false, CLOSE_TIMEOUT));
        }
        self.take_events();
        let reason = self.closed.unwrap_or(CloseReason::TransportClose);
        self.app.on_close(reason);
    }
}

impl Future for Driver {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        this.queue.start_polling(cx.waker());
        for _ in 0..ROUNDS_PER_POLL {
            let progressed = this.round(cx);
            if this.session.is_closed() {
                this.finish();
                return Poll::Ready(());
            }
            if progressed {
                this.busy = true;
                continue;
            }
            // Nothing to do: make sure every source will wake us, then sleep (and give back
            // the scratch buffers if the session stays quiet).
            if this.busy && this.release_at.is_none() {
                if this.quick_releases < QUICK_RELEASES {
                    this.quick_releases += 1;
                    this.busy = false;
                    this.release_buffers();
                } else {
                    this.release_at = Some(Instant::now() + RELEASE_AFTER);
                }
            }
            this.app.poll(cx);
            if this.arm_timer(cx) {
                continue;
            }
            if this.queue.stop_polling() {
                this.queue.start_polling(cx.waker());
                continue;
            }
            return Poll::Pending;
        }
        // Busy: let other tasks run, and come back.
        this.queue.stop_polling();
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

/// The packets of a POST body, decoded lazily.
type Packets = Box<dyn Iterator<Item = Result<Packet, engineio_proto::DecodeError>> + Send>;

/// A POST in progress.
struct Feeding {
    packets: Packets,
    reply: oneshot::Sender<Result<(), Reject>>,
}
