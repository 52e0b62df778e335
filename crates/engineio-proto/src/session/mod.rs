//! The Engine.IO session state machine, for both ends of a connection.
//!
//! A [`Session`] holds one Engine.IO connection's protocol state: handshake, heartbeat, transport
//! upgrade, outbound queue and close. It performs no I/O and never reads a clock, in the style of
//! `quinn-proto`'s `Connection`: the driver feeds it what happened (`handle_*`, with the current
//! time) and then drains what it must do (`poll_*`):
//!
//! ```text
//!   driver                                   Session<R>
//!   ──────                                   ──────────
//!   decoded packet ────── handle_packet ─────►┐
//!   GET arrived (server) ─ handle_poll_request►│
//!   websocket for sid ─── handle_upgrade_request►
//!   transport gone ────── handle_transport_closed►
//!   timer fired ───────── handle_timeout ─────►│
//!   app message ───────── send / close ───────►┘
//!                                              │
//!   write packets / close a transport ◄─ poll_transmit
//!   messages, upgraded, closed        ◄─ poll_event
//!   arm the timer                     ◄─ poll_timeout
//! ```
//!
//! After any `handle_*`, `send` or `close` call the driver should drain [`Session::poll_transmit`]
//! and [`Session::poll_event`] until they return `None`, then re-arm its timer with
//! [`Session::poll_timeout`]. The order in which it drains those two does not matter.
//!
//! ```
//! use std::time::{Duration, Instant};
//! use engineio_proto::session::{Config, Event, Session, Transmit};
//! use engineio_proto::{Packet, TransportKind};
//!
//! let mut now = Instant::now();
//! let mut session = Session::accept("sid".into(), Config::default(), TransportKind::Polling, now);
//! session.handle_poll_request(now).unwrap(); // the handshake GET
//! let mut out = Vec::new();
//! while let Some(transmit) = session.poll_transmit(&mut out) {
//!     match transmit {
//!         // Encode `out` as one payload and answer the held GET with it.
//!         Transmit::Send(TransportKind::Polling) => assert!(matches!(out[0], Packet::Open(_))),
//!         // One WebSocket message per packet.
//!         Transmit::Send(TransportKind::WebSocket) => {}
//!         // Close that transport (for polling: release a held GET with a noop).
//!         Transmit::Close(_) => {}
//!         Transmit::Poll | Transmit::Connect(_) => unreachable!("client only"),
//!     }
//!     out.clear();
//! }
//! while let Some(event) = session.poll_event() {
//!     // Hand messages to the layer above; drop the session on `Event::Closed`.
//!     let _ = event;
//! }
//! // Arm the timer (here: the first ping, 25 s on); when it fires, feed the time back in.
//! let at = session.poll_timeout().unwrap();
//! assert_eq!(at, now + Duration::from_secs(25));
//! now = at;
//! session.handle_timeout(now);
//! ```
//!
//! # States
//!
//! ```text
//!  Client::connect ─► AwaitingOpen ──Open packet──┐
//!  Server::accept ────────────────────────────────┴─► Open ──close()──► Closing ──flushed──► Closed
//!                                                      │                    (polling: Close packet)
//!                                                      └── peer close, transport close/error,
//!                                                          ping timeout, protocol error ───► Closed
//!
//!  upgrade (polling ─► websocket), alongside Open:
//!  Idle ─► [client: Connecting ─►] AwaitingProbe ─2probe/3probe─► [server: AwaitingUpgradePacket]
//!       ─► [client: Pausing ─►] Done;  any failure or upgrade_timeout ─► Idle (the session lives on)
//! ```
//!
//! # Transports
//!
//! A session has at most one polling transport and one WebSocket, so a [`TransportKind`] names
//! a transport without ambiguity. During an upgrade the WebSocket being probed is addressed as
//! `TransportKind::WebSocket` while the session's [`Session::transport`] is still polling.
//!
//! Long-polling is modelled explicitly. On the server a GET that arrives is reported with
//! [`Session::handle_poll_request`]; the session answers it (a [`Transmit::Send`] on
//! [`TransportKind::Polling`]) as soon as it has something to say: queued packets, a ping, a
//! `noop` during an upgrade. A client emits [`Transmit::Poll`] to ask its driver for a GET, and
//! [`Transmit::Send`] on polling for a POST, and hears back through
//! [`Session::handle_poll_done`] and [`Session::handle_post_done`].

use std::collections::VecDeque;
use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::{OpenPacket, Packet, PacketType, ProtocolVersion, Str, TransportKind};

mod config;
mod error;
mod event;
mod heartbeat;
mod upgrade;

pub use config::Config;
pub use error::{PollError, ProtocolError, SendError, UpgradeError};
pub use event::{CloseReason, Event, Transmit, TransportEnd};

#[cfg(test)]
mod tests;

use heartbeat::Heartbeat;
use upgrade::Upgrade;

mod sealed {
    /// Keeps [`super::Role`] implemented by [`super::Server`] and [`super::Client`] only.
    #[allow(
        unreachable_pub,
        reason = "sealed-trait pattern: public, but in a private module"
    )]
    pub trait Sealed {}
}

/// Which end of the connection a [`Session`] plays. Implemented by [`Server`] and [`Client`] only.
pub trait Role: sealed::Sealed + fmt::Debug + Send + Sync + 'static {
    /// `true` for [`Server`].
    #[doc(hidden)]
    const IS_SERVER: bool;
}

/// The server role: answers the handshake, (v4) sends pings, accepts upgrades.
#[derive(Debug)]
pub enum Server {}

/// The client role: receives the handshake, (v4) answers pings, starts upgrades.
#[derive(Debug)]
pub enum Client {}

impl sealed::Sealed for Server {}
impl sealed::Sealed for Client {}
impl Role for Server {
    const IS_SERVER: bool = true;
}
impl Role for Client {
    const IS_SERVER: bool = false;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Client only: waiting for the server's `open` packet.
    AwaitingOpen,
    Open,
    /// A local close: flushing the queue (and, on polling, a `close` packet) first.
    Closing {
        reason: CloseReason,
        deadline: Option<Instant>,
    },
    Closed,
}

/// Long-polling bookkeeping.
#[derive(Debug, Default, Clone, Copy)]
struct Polling {
    /// Server: a GET is held, waiting for data.
    get_held: bool,
    /// Client: a GET is in flight.
    get_in_flight: bool,
    /// Client: a POST is in flight.
    post_in_flight: bool,
    /// Server, closing: the `close` packet goes in the response after the one that flushes the
    /// queue.
    close_after_flush: bool,
}

/// One Engine.IO connection's protocol state; `R` is [`Server`] or [`Client`].
///
/// ```
/// use std::time::Instant;
/// use engineio_proto::session::{Config, Event, Session, Transmit};
/// use engineio_proto::{Packet, TransportKind};
///
/// let now = Instant::now();
/// let mut server = Session::accept("sid1".into(), Config::default(), TransportKind::WebSocket, now);
/// let mut out = Vec::new();
/// assert_eq!(server.poll_transmit(&mut out), Some(Transmit::Send(TransportKind::WebSocket)));
/// assert!(matches!(out[0], Packet::Open(_)));
///
/// server.handle_packet(Packet::Message("hi".into()), TransportKind::WebSocket, now);
/// assert_eq!(server.poll_event(), Some(Event::Message("hi".into())));
/// ```
pub struct Session<R: Role> {
    /// Shared by every session of a server: one allocation, not one per connection.
    config: Arc<Config>,
    state: State,
    /// The transport messages flow on.
    transport: TransportKind,
    /// Server: our handshake; client: the server's, once received.
    open: Option<OpenPacket>,
    /// Packets waiting for the current transport, in order.
    queue: VecDeque<Packet>,
    /// Messages in `queue` (control packets are not counted against the limits).
    queued_messages: usize,
    /// Bytes of the messages in `queue`.
    queued_bytes: usize,
    /// A pong is already waiting in `queue`: a peer spamming pings gets one answer per flush.
    pong_queued: bool,
    /// Packets for the WebSocket being probed (`2probe`/`3probe`), ahead of the switch.
    probe_queue: VecDeque<Packet>,
    /// Transport-level instructions (`Poll`, `Connect`, `Close`) in order.
    instructions: VecDeque<Transmit>,
    events: VecDeque<Event>,
    heartbeat: Heartbeat,
    upgrade: Upgrade,
    polling: Polling,
    /// The polling transport is gone (closed by the peer or the driver): never tell it to close.
    polling_gone: bool,
    /// The WebSocket is gone.
    websocket_gone: bool,
    _role: PhantomData<R>,
}

impl<R: Role> fmt::Debug for Session<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session")
            .field("role", &if R::IS_SERVER { "server" } else { "client" })
            .field("sid", &self.sid())
            .field("state", &self.state)
            .field("transport", &self.transport)
            .field("upgrade", &self.upgrade)
            .field("queued", &self.queue.len())
            .finish_non_exhaustive()
    }
}

impl Session<Server> {
    /// Opens a session for a new client that connected with `transport`, and queues the `open`
    /// packet (with `upgrades: ["websocket"]` on polling when upgrades are allowed, `[]` on a
    /// WebSocket). On polling the handshake GET is not implied: report it with
    /// [`Session::handle_poll_request`] so that the `open` packet answers it.
    pub fn accept(
        sid: Str,
        config: impl Into<Arc<Config>>,
        transport: TransportKind,
        now: Instant,
    ) -> Self {
        let config = config.into();
        let upgrades = if transport == TransportKind::Polling && config.allow_upgrades {
            config
                .upgrades
                .iter()
                .filter(|t| **t != transport)
                .map(|t| transport_name(*t))
                .collect()
        } else {
            Vec::new()
        };
        let open = OpenPacket {
            sid,
            upgrades,
            ping_interval: duration_ms(config.ping_interval),
            ping_timeout: duration_ms(config.ping_timeout),
            max_payload: config.max_payload,
        };
        let mut session = Self::new(config, transport, State::Open, now);
        session
            .queue
            .push_back(Packet::Open(Box::new(open.clone())));
        session.open = Some(open);
        session.heartbeat.start(now);
        session
    }

    /// A GET arrived on the polling transport. The session answers it through
    /// [`Session::poll_transmit`] as soon as it has packets (possibly right away), else holds it.
    ///
    /// # Errors
    ///
    /// The driver answers a refused GET with HTTP 400. A second GET while one is held also
    /// closes the session ([`PollError::Overlap`]), as Node does.
    pub fn handle_poll_request(&mut self, now: Instant) -> Result<(), PollError> {
        let _ = now;
        if matches!(self.state, State::Closed) {
            return Err(PollError::Closed);
        }
        if self.transport != TransportKind::Polling || self.polling_gone {
            return Err(PollError::WrongTransport);
        }
        if self.polling.get_held {
            self.fail(
                CloseReason::TransportError,
                Some(ProtocolError::PollOverlap),
            );
            return Err(PollError::Overlap);
        }
        self.polling.get_held = true;
        Ok(())
    }

    /// A POST arrived on the polling transport: check that the session takes it before decoding
    /// its body (with [`Config::max_payload`]) and feeding the packets to
    /// [`Session::handle_packet`] with [`TransportKind::Polling`]. Node answers a POST with `ok`.
    ///
    /// # Errors
    ///
    /// The driver answers a refused POST with HTTP 400 (Node: "bad request" once the session
    /// was upgraded, "session ID unknown" once it is closed); the session is not affected.
    pub fn handle_post_request(&mut self, now: Instant) -> Result<(), PollError> {
        let _ = now;
        if matches!(self.state, State::Closed) {
            return Err(PollError::Closed);
        }
        if self.transport != TransportKind::Polling || self.polling_gone {
            return Err(PollError::WrongTransport);
        }
        Ok(())
    }

    /// A WebSocket arrived for this (polling) session: start probing it for an upgrade. Its
    /// packets are then fed to [`Session::handle_packet`] with [`TransportKind::WebSocket`].
    ///
    /// # Errors
    ///
    /// The driver closes a refused WebSocket; the session itself is not affected.
    pub fn handle_upgrade_request(&mut self, now: Instant) -> Result<(), UpgradeError> {
        self.server_start_upgrade(now)
    }
}

impl Session<Client> {
    /// Starts a client session over `transport`. The driver opens that transport itself; on
    /// polling the first [`Transmit::Poll`] is the handshake GET. Messages sent before the
    /// handshake completes are queued. The handshake itself has no deadline here: the driver
    /// applies its connect timeout (socket.io's `timeout` option) and then calls
    /// [`Session::close`].
    pub fn connect(config: impl Into<Arc<Config>>, transport: TransportKind, now: Instant) -> Self {
        let config = config.into();
        let mut session = Self::new(config, transport, State::AwaitingOpen, now);
        if transport == TransportKind::Polling {
            session.instructions.push_back(Transmit::Poll);
        }
        session
    }

    /// The GET issued for [`Transmit::Poll`] completed and its packets were fed in.
    pub fn handle_poll_done(&mut self, now: Instant) {
        let _ = now;
        if !self.polling.get_in_flight {
            // Not ours: a stray completion must not let two GETs overlap.
            return;
        }
        self.polling.get_in_flight = false;
        self.client_polling_idle();
    }

    /// The POST issued for a [`Transmit::Send`] on polling completed.
    pub fn handle_post_done(&mut self, now: Instant) {
        let _ = now;
        if !self.polling.post_in_flight {
            return;
        }
        self.polling.post_in_flight = false;
        self.client_polling_idle();
    }

    /// The transport requested with [`Transmit::Connect`] is open: the probe starts.
    pub fn handle_transport_opened(&mut self, transport: TransportKind, now: Instant) {
        self.client_probe_opened(transport, now);
    }

    fn client_polling_idle(&mut self) {
        if self.upgrade.is_pausing() {
            self.client_try_finish_upgrade();
        }
        self.maybe_poll();
    }
}

impl<R: Role> Session<R> {
    fn new(config: Arc<Config>, transport: TransportKind, state: State, now: Instant) -> Self {
        let heartbeat = Heartbeat::new(
            config.ping_interval,
            config.ping_timeout,
            pinger::<R>(config.protocol),
            now,
        );
        Self {
            config,
            state,
            transport,
            open: None,
            queue: VecDeque::new(),
            queued_messages: 0,
            queued_bytes: 0,
            pong_queued: false,
            probe_queue: VecDeque::new(),
            instructions: VecDeque::new(),
            events: VecDeque::new(),
            heartbeat,
            upgrade: Upgrade::Idle,
            polling: Polling::default(),
            polling_gone: false,
            websocket_gone: false,
            _role: PhantomData,
        }
    }

    /// The session id (the client knows it once the handshake completed).
    pub fn sid(&self) -> Option<&Str> {
        self.open.as_ref().map(|open| &open.sid)
    }

    /// The handshake: the one sent (server) or received (client).
    pub fn open(&self) -> Option<&OpenPacket> {
        self.open.as_ref()
    }

    /// The settings this session was created with.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The transport messages currently flow on.
    pub fn transport(&self) -> TransportKind {
        self.transport
    }

    /// The protocol revision spoken.
    pub fn protocol(&self) -> ProtocolVersion {
        self.config.protocol
    }

    /// Whether a WebSocket is being probed.
    pub fn is_upgrading(&self) -> bool {
        self.upgrade.in_progress()
    }

    /// Whether the session is over ([`Event::Closed`] was queued).
    pub fn is_closed(&self) -> bool {
        matches!(self.state, State::Closed)
    }

    /// Messages waiting in the outbound queue (the driver's backpressure signal).
    pub fn queued_messages(&self) -> usize {
        self.queued_messages
    }

    /// Bytes of the messages waiting in the outbound queue.
    pub fn queued_bytes(&self) -> usize {
        self.queued_bytes
    }

    /// Queues a message ([`Packet::Message`] or [`Packet::Binary`]) from the layer above.
    ///
    /// # Errors
    ///
    /// The message is handed back when the queue is at its limits (the driver's policy decides:
    /// drop a volatile message, or disconnect a slow consumer), when the session is closing, or
    /// when the packet is not a message.
    pub fn send(&mut self, packet: Packet) -> Result<(), SendError> {
        let len = match &packet {
            Packet::Message(text) => text.len(),
            Packet::Framed(frame) => frame.len().saturating_sub(1),
            Packet::Binary(data) => data.len(),
            _ => return Err(SendError::NotAMessage(packet)),
        };
        if !matches!(self.state, State::Open | State::AwaitingOpen) {
            return Err(SendError::Closed(packet));
        }
        if self.queued_messages >= self.config.max_queued_packets
            || self.queued_bytes.saturating_add(len) > self.config.max_queued_bytes
        {
            return Err(SendError::QueueFull(packet));
        }
        self.queued_messages += 1;
        self.queued_bytes += len;
        self.queue.push_back(packet);
        Ok(())
    }

    /// Closes the session from this side: queued packets are flushed first and, on polling, a
    /// `close` packet follows them; then [`Event::Closed`] reports `reason` (Node uses
    /// [`CloseReason::ForcedClose`]). On polling the session waits up to
    /// [`Config::close_timeout`] for a request to carry the `close` packet (a server for the
    /// next GET, a client for its POST in flight); a server shutting down
    /// ([`CloseReason::ServerShuttingDown`]) waits at most [`SHUTDOWN_GET_WAIT`]. Node discards
    /// the polling transport on shutdown, so a client whose GET was not held at that instant
    /// sees an error ("xhr poll error") instead of the close; a polling client sends its next GET
    /// as soon as the previous one returns, so a short wait lets every client see a clean close.
    /// A client that has not completed the handshake closes at once. Does nothing once closing.
    pub fn close(&mut self, reason: CloseReason, now: Instant) {
        if !matches!(self.state, State::Open | State::AwaitingOpen) {
            return;
        }
        if let Some(deadline) = self.upgrade.awaiting_upgrade_packet() {
            if R::IS_SERVER && !self.websocket_gone {
                // The client answered the probe and is pausing its polling transport: it will
                // not poll again, and engine.io-client ignores the probe's failure once it
                // paused, so closing the probe now would leave it waiting for a heartbeat
                // timeout. Let its `5` come (within the upgrade's deadline) and close on the
                // WebSocket.
                self.state = State::Closing {
                    reason,
                    deadline: Some(deadline),
                };
                return;
            }
        }
        self.abort_upgrade();
        if self.state == State::AwaitingOpen {
            // No session id yet: nothing can be flushed.
            self.finish_close(reason, None);
            return;
        }
        let on_polling = self.transport == TransportKind::Polling && !self.polling_gone;
        if on_polling {
            if R::IS_SERVER && !self.queue.is_empty() && reason != CloseReason::ServerShuttingDown {
                // Node waits for the queue to drain before closing the transport, so the close
                // packet comes in a later response than the queued packets. socket.io-client
                // hands decoded packets on a tick later and handles `close` at once: in one
                // response, a DISCONNECT before the close would be lost to "transport close".
                self.polling.close_after_flush = true;
            } else {
                self.queue.push_back(Packet::Close);
            }
        }
        let wait = if R::IS_SERVER && reason == CloseReason::ServerShuttingDown {
            self.config.close_timeout.min(SHUTDOWN_GET_WAIT)
        } else {
            self.config.close_timeout
        };
        let deadline = on_polling.then(|| after(now, wait));
        self.state = State::Closing { reason, deadline };
        if !on_polling && self.queue.is_empty() {
            self.finish_close(reason, None);
        }
    }

    /// A packet decoded from `transport`.
    ///
    /// Packets on the WebSocket being probed drive the upgrade; packets on a transport the
    /// session left behind are ignored (Node removes its listeners). A protocol violation closes
    /// the session with [`CloseReason::TransportError`].
    pub fn handle_packet(&mut self, packet: Packet, transport: TransportKind, now: Instant) {
        match self.state {
            State::Closed => return,
            State::Closing { .. } if packet == Packet::Close => {
                if transport == self.transport {
                    self.fail(CloseReason::TransportClose, None);
                }
                return;
            }
            // The `5` of an upgrade the close waits for (see `close`).
            State::Closing { .. }
                if R::IS_SERVER
                    && packet == Packet::Upgrade
                    && transport != self.transport
                    && self.upgrade.in_progress() =>
            {
                self.handle_probe_packet(packet, now);
                if self.queue.is_empty() {
                    if let State::Closing { reason, .. } = self.state {
                        self.finish_close(reason, None);
                    }
                }
                return;
            }
            // Node's server drops packets once closing; its client still delivers them.
            State::Closing { .. } if R::IS_SERVER => return,
            _ => {}
        }
        if transport != self.transport {
            if self.upgrade.in_progress() {
                self.handle_probe_packet(packet, now);
            }
            return;
        }
        self.heartbeat.packet_received(now);
        match packet {
            Packet::Message(text) if self.is_open() => self.events.push_back(Event::Message(text)),
            Packet::Binary(data) if self.is_open() => self.events.push_back(Event::Binary(data)),
            Packet::Framed(_) if self.is_open() => {
                if let Some(text) = packet.message_text() {
                    self.events.push_back(Event::Message(text));
                }
            }
            Packet::Ping(data) if self.is_open() => {
                if self.heartbeat.is_pinger() {
                    if R::IS_SERVER {
                        self.fail(
                            CloseReason::TransportError,
                            Some(ProtocolError::InvalidHeartbeatDirection),
                        );
                    }
                    // Node's v3 client ignores a ping it did not expect.
                } else {
                    self.heartbeat.ping_received(now);
                    self.queue_pong(data);
                }
            }
            Packet::Pong(_) if self.is_open() => {
                if self.heartbeat.is_pinger() {
                    self.heartbeat.pong_received(now);
                } else if R::IS_SERVER {
                    self.fail(
                        CloseReason::TransportError,
                        Some(ProtocolError::InvalidHeartbeatDirection),
                    );
                }
            }
            // The transport stays up until the driver closes it (a held GET gets its noop), as
            // Node closes its side of the transport. Node's server only acts on a `close` sent
            // over polling; over a WebSocket the client closes the socket right after anyway.
            Packet::Close => self.fail(CloseReason::TransportClose, None),
            Packet::Noop => {}
            Packet::Open(open) if !R::IS_SERVER && self.state == State::AwaitingOpen => {
                self.client_handshake(*open, now);
            }
            // Node's server ignores a stray `open` or `upgrade` (its `onPacket` has no case for
            // them) and anything that arrives while the session is closing; so do we.
            _ if self.state != State::AwaitingOpen => {}
            // A client that hears anything but `open` first is not talking to an Engine.IO server.
            other => {
                let kind = packet_type(&other);
                self.fail(
                    CloseReason::TransportError,
                    Some(ProtocolError::UnexpectedPacket(kind)),
                );
            }
        }
    }

    /// Bytes from `transport` did not decode. On the session's transport this closes it with
    /// [`CloseReason::ParseError`]; on a WebSocket being probed it only ends the probe.
    pub fn handle_parse_error(&mut self, transport: TransportKind, now: Instant) {
        let _ = now;
        if self.is_closed() {
            return;
        }
        if transport == self.transport {
            self.fail(CloseReason::ParseError, None);
        } else if self.upgrade.in_progress() {
            self.abort_upgrade();
        }
    }

    /// `transport` closed or failed. The session's own transport ends the session
    /// ([`CloseReason::TransportClose`] / [`CloseReason::TransportError`]); a WebSocket being
    /// probed only ends the probe.
    pub fn handle_transport_closed(
        &mut self,
        transport: TransportKind,
        end: TransportEnd,
        now: Instant,
    ) {
        let _ = now;
        if self.is_closed() {
            return;
        }
        if transport == self.transport {
            self.transport_gone(transport);
            let reason = match end {
                TransportEnd::Closed => CloseReason::TransportClose,
                TransportEnd::Error => CloseReason::TransportError,
            };
            self.fail(reason, None);
        } else if self.upgrade.in_progress() {
            self.transport_gone(transport);
            self.abort_upgrade();
            // The driver already knows it is gone: it needs no close instruction. A fresh
            // WebSocket may try again later.
            self.websocket_gone = false;
        }
    }

    /// Timers: heartbeat, upgrade timeout, upgrade noops, close timeout. Call it when the
    /// instant from [`Session::poll_timeout`] is reached (calling it early is harmless).
    pub fn handle_timeout(&mut self, now: Instant) {
        match self.state {
            State::Closed => return,
            State::Closing {
                reason,
                deadline: Some(deadline),
            } if now >= deadline => {
                self.finish_close(reason, None);
                return;
            }
            State::Closing { .. } => return,
            State::Open | State::AwaitingOpen => {}
        }
        self.upgrade_timeout(now);
        if self.state != State::Open {
            return;
        }
        match self.heartbeat.on_timeout(now) {
            heartbeat::Action::None => {}
            heartbeat::Action::SendPing => {
                // Once per heartbeat, buffers left over from earlier traffic go: an idle session
                // keeps none, a busy one regrows them once per ping interval.
                self.release_idle_buffers();
                self.queue.push_back(Packet::Ping(Str::new()));
            }
            heartbeat::Action::TimedOut => self.fail(CloseReason::PingTimeout, None),
        }
    }

    /// Frees the capacity of internal queues that are empty (it also happens at each heartbeat):
    /// a driver calls it when the session has been quiet for a while.
    pub fn release_idle_buffers(&mut self) {
        fn release<T>(queue: &mut VecDeque<T>) {
            if queue.is_empty() && queue.capacity() > 0 {
                *queue = VecDeque::new();
            }
        }
        release(&mut self.queue);
        release(&mut self.probe_queue);
        release(&mut self.instructions);
        release(&mut self.events);
    }

    /// The next instant at which [`Session::handle_timeout`] must be called, if any.
    pub fn poll_timeout(&self) -> Option<Instant> {
        match self.state {
            State::Closed => None,
            State::Closing { deadline, .. } => deadline,
            State::AwaitingOpen => self.upgrade.timeout(),
            State::Open => min_opt(self.heartbeat.timeout(), self.upgrade_poll_timeout()),
        }
    }

    /// The next event for the layer above.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// The next thing to do on a transport. For [`Transmit::Send`] the packets to write are
    /// appended to `out` (which the caller clears and reuses, so batches cost no allocation).
    pub fn poll_transmit(&mut self, out: &mut Vec<Packet>) -> Option<Transmit> {
        if self.is_closed() {
            return self.instructions.pop_front();
        }
        if !self.probe_queue.is_empty() {
            out.extend(self.probe_queue.drain(..));
            return Some(Transmit::Send(TransportKind::WebSocket));
        }
        if let Some(transmit) = self.flush(out) {
            return Some(transmit);
        }
        self.next_instruction()
    }

    /// A `Poll` counts as in flight once handed out, and is dropped if polling stopped since.
    fn next_instruction(&mut self) -> Option<Transmit> {
        while let Some(transmit) = self.instructions.pop_front() {
            if transmit == Transmit::Poll {
                if !self.can_poll() {
                    continue;
                }
                self.polling.get_in_flight = true;
            }
            return Some(transmit);
        }
        None
    }

    /// Writes the queue on the current transport when that transport can take it.
    fn flush(&mut self, out: &mut Vec<Packet>) -> Option<Transmit> {
        if self.state == State::AwaitingOpen {
            // A client has no session id to address a POST with before the handshake.
            return None;
        }
        let transport = self.transport;
        match transport {
            TransportKind::WebSocket => {
                if self.queue.is_empty() || self.websocket_gone {
                    return None;
                }
                self.drain_all(out);
            }
            TransportKind::Polling if R::IS_SERVER => {
                if !self.polling.get_held || self.polling_gone {
                    return None;
                }
                if self.queue.is_empty() {
                    if !self.upgrade.take_noop() {
                        return None;
                    }
                    out.push(Packet::Noop);
                } else {
                    self.drain_all(out);
                    if std::mem::take(&mut self.polling.close_after_flush) {
                        self.queue.push_back(Packet::Close);
                    }
                }
                self.polling.get_held = false;
            }
            TransportKind::Polling => {
                if self.queue.is_empty()
                    || self.polling.post_in_flight
                    || self.polling_gone
                    || self.upgrade.blocks_polling()
                {
                    return None;
                }
                self.drain_batch(out);
                self.polling.post_in_flight = true;
            }
        }
        if let State::Closing { reason, .. } = self.state {
            if self.queue.is_empty() {
                self.finish_close(reason, None);
            }
        }
        Some(Transmit::Send(transport))
    }

    fn drain_all(&mut self, out: &mut Vec<Packet>) {
        out.extend(self.queue.drain(..));
        self.queued_messages = 0;
        self.queued_bytes = 0;
        self.pong_queued = false;
    }

    /// A client's POST stays under the server's `maxPayload`, counted as Node's client does.
    fn drain_batch(&mut self, out: &mut Vec<Packet>) {
        let max = self.open.as_ref().map_or(u64::MAX, |open| {
            if open.max_payload == 0 {
                u64::MAX
            } else {
                open.max_payload
            }
        });
        let mut size: u64 = 1;
        let mut taken = 0usize;
        while let Some(packet) = self.queue.front() {
            let len = payload_len(packet) as u64;
            size = size.saturating_add(len);
            if taken > 0 && size > max {
                break;
            }
            size = size.saturating_add(2);
            taken += 1;
            if let Some(packet) = self.queue.pop_front() {
                if is_message(&packet) {
                    self.queued_messages -= 1;
                    self.queued_bytes -= payload_len(&packet);
                }
                out.push(packet);
            }
        }
        self.pong_queued = self.queue.iter().any(|p| matches!(p, Packet::Pong(_)));
    }

    /// Client: keeps one GET in flight while the session polls.
    fn maybe_poll(&mut self) {
        if self.can_poll() && !self.instructions.contains(&Transmit::Poll) {
            self.instructions.push_back(Transmit::Poll);
        }
    }

    fn can_poll(&self) -> bool {
        !R::IS_SERVER
            && matches!(self.state, State::Open | State::AwaitingOpen)
            && self.transport == TransportKind::Polling
            && !self.polling_gone
            && !self.polling.get_in_flight
            && !self.upgrade.blocks_polling()
    }

    fn queue_pong(&mut self, data: Str) {
        if !self.pong_queued {
            self.pong_queued = true;
            self.queue.push_back(Packet::Pong(data));
        }
    }

    fn is_open(&self) -> bool {
        matches!(self.state, State::Open | State::Closing { .. })
    }

    fn client_handshake(&mut self, open: OpenPacket, now: Instant) {
        self.heartbeat.configure(
            Duration::from_millis(open.ping_interval),
            Duration::from_millis(open.ping_timeout),
        );
        self.heartbeat.start(now);
        let websocket_offered = open.upgrades.iter().any(|name| &**name == "websocket");
        self.open = Some(open);
        self.state = State::Open;
        self.events.push_back(Event::Opened);
        if self.transport == TransportKind::Polling
            && self.config.allow_upgrades
            && websocket_offered
            && self.config.upgrades.contains(&TransportKind::WebSocket)
        {
            self.upgrade = Upgrade::Connecting {
                deadline: after(now, self.config.upgrade_timeout),
            };
            self.instructions
                .push_back(Transmit::Connect(TransportKind::WebSocket));
        }
    }

    fn transport_gone(&mut self, transport: TransportKind) {
        match transport {
            TransportKind::Polling => {
                self.polling_gone = true;
                self.polling = Polling::default();
            }
            TransportKind::WebSocket => self.websocket_gone = true,
        }
    }

    /// Ends the session at once (no flush): the peer's doing, a timeout, or a transport failure.
    fn fail(&mut self, reason: CloseReason, error: Option<ProtocolError>) {
        if self.is_closed() {
            return;
        }
        self.abort_upgrade();
        self.queue.clear();
        self.queued_messages = 0;
        self.queued_bytes = 0;
        self.finish_close(reason, error);
    }

    fn finish_close(&mut self, reason: CloseReason, error: Option<ProtocolError>) {
        self.abort_upgrade();
        self.state = State::Closed;
        // Only transport closes may follow Closed.
        self.instructions
            .retain(|t| matches!(t, Transmit::Close(_)));
        self.probe_queue.clear();
        let transport = self.transport;
        let gone = match transport {
            TransportKind::Polling => self.polling_gone,
            TransportKind::WebSocket => self.websocket_gone,
        };
        let needs_close = match transport {
            // A server's polling transport needs a word only to release a held GET; a client
            // abandons its GET in flight.
            TransportKind::Polling if R::IS_SERVER => self.polling.get_held,
            TransportKind::Polling => self.polling.get_in_flight,
            TransportKind::WebSocket => true,
        };
        if !gone && needs_close {
            self.instructions.push_back(Transmit::Close(transport));
        }
        self.transport_gone(transport);
        self.queue.clear();
        self.queued_messages = 0;
        self.queued_bytes = 0;
        self.events.push_back(Event::Closed { reason, error });
    }
}

/// How long a server shutting down waits for a polling client's next GET to carry the `close`
/// packet (see [`Session::close`]).
pub const SHUTDOWN_GET_WAIT: Duration = Duration::from_secs(1);

/// Whether this role sends the pings in this protocol revision (v4: the server; v3: the client).
fn pinger<R: Role>(protocol: ProtocolVersion) -> bool {
    match protocol {
        ProtocolVersion::V4 => R::IS_SERVER,
        #[cfg(feature = "v3")]
        ProtocolVersion::V3 => !R::IS_SERVER,
    }
}

fn transport_name(transport: TransportKind) -> Str {
    Str::from_static(match transport {
        TransportKind::Polling => "polling",
        TransportKind::WebSocket => "websocket",
    })
}

fn duration_ms(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

/// `now + duration`, never panicking on overflow, and always strictly later than `now` so that a
/// timer that fired is never still due (a zero duration, from a peer's handshake or a config,
/// counts as one millisecond).
fn after(now: Instant, duration: Duration) -> Instant {
    let duration = duration.max(Duration::from_millis(1));
    now.checked_add(duration)
        .or_else(|| now.checked_add(FAR_FUTURE))
        .unwrap_or(now)
}

/// Stands for "never" where a duration does not fit in an `Instant`.
const FAR_FUTURE: Duration = Duration::from_secs(100 * 365 * 24 * 3600);

fn min_opt(a: Option<Instant>, b: Option<Instant>) -> Option<Instant> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, None) => a,
        (None, b) => b,
    }
}

fn is_message(packet: &Packet) -> bool {
    matches!(
        packet,
        Packet::Message(_) | Packet::Binary(_) | Packet::Framed(_)
    )
}

/// The data length Node's client counts for a packet when it sizes a polling batch.
fn payload_len(packet: &Packet) -> usize {
    match packet {
        Packet::Message(text) | Packet::Ping(text) | Packet::Pong(text) => text.len(),
        Packet::Framed(frame) => frame.len().saturating_sub(1),
        Packet::Binary(data) => data.len(),
        _ => 0,
    }
}

fn packet_type(packet: &Packet) -> PacketType {
    match packet {
        Packet::Open(_) => PacketType::Open,
        Packet::Close => PacketType::Close,
        Packet::Ping(_) => PacketType::Ping,
        Packet::Pong(_) => PacketType::Pong,
        Packet::Message(_) | Packet::Binary(_) | Packet::Framed(_) => PacketType::Message,
        Packet::Upgrade => PacketType::Upgrade,
        Packet::Noop => PacketType::Noop,
    }
}
