//! Two-peer tests with no sockets and simulated time: a [`Pair`] shuttles what one session
//! transmits into the other, the way a driver and the network would.

#![allow(clippy::unwrap_used, reason = "tests")]

mod close;
mod handshake;
mod heartbeat;
mod limits;
mod random;
mod upgrade;

use std::time::{Duration, Instant};

use bytes::Bytes;

use super::*;
use crate::{Packet, Str, TransportKind};

const POLLING: TransportKind = TransportKind::Polling;
const WS: TransportKind = TransportKind::WebSocket;

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

fn ms(m: u64) -> Duration {
    Duration::from_millis(m)
}

fn text(s: &'static str) -> Packet {
    Packet::Message(Str::from_static(s))
}

fn ping(s: &'static str) -> Packet {
    Packet::Ping(Str::from_static(s))
}

fn pong(s: &'static str) -> Packet {
    Packet::Pong(Str::from_static(s))
}

/// Who wrote something on the simulated wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Side {
    Server,
    Client,
}

/// One write seen on the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Wire {
    from: Side,
    transport: TransportKind,
    packets: Vec<Packet>,
}

/// A server and a client session joined by a simulated network that delivers instantly.
struct Pair {
    now: Instant,
    server_config: Config,
    server: Option<Session<Server>>,
    client: Session<Client>,
    server_events: Vec<Event>,
    client_events: Vec<Event>,
    wire: Vec<Wire>,
    /// The client issued a GET that is not answered yet.
    get_outstanding: bool,
    /// The WebSocket between them is open.
    ws_open: bool,
    /// Writes from this side are lost (a peer that stopped answering).
    mute_client: bool,
    mute_server: bool,
    /// Refuse the next WebSocket the client opens.
    refuse_ws: bool,
    /// POSTs stay in flight until [`Pair::release_post`] (or until nothing else can happen).
    delay_posts: bool,
    pending_post: Option<Vec<Packet>>,
}

impl Pair {
    fn new(server_config: Config, client_config: Config, transport: TransportKind) -> Self {
        let now = Instant::now();
        let client = Session::connect(client_config, transport, now);
        let mut pair = Self {
            now,
            server_config,
            server: None,
            client,
            server_events: Vec::new(),
            client_events: Vec::new(),
            wire: Vec::new(),
            get_outstanding: false,
            ws_open: false,
            mute_client: false,
            mute_server: false,
            refuse_ws: false,
            delay_posts: false,
            pending_post: None,
        };
        if transport == WS {
            // The driver opened the WebSocket itself: the server accepts at once.
            pair.ws_open = true;
            pair.accept(WS);
        }
        pair
    }

    fn polling() -> Self {
        Self::new(Config::default(), Config::default(), POLLING)
    }

    fn websocket() -> Self {
        Self::new(Config::default(), Config::default(), WS)
    }

    fn accept(&mut self, transport: TransportKind) {
        let config = self.server_config.clone();
        self.server = Some(Session::accept(
            Str::from_static("sid1"),
            config,
            transport,
            self.now,
        ));
    }

    fn server(&mut self) -> &mut Session<Server> {
        self.server.as_mut().unwrap()
    }

    /// Handles one server transmit; false when there was none.
    fn step_server(&mut self) -> bool {
        let Some(server) = self.server.as_mut() else {
            return false;
        };
        let mut out = Vec::new();
        let Some(transmit) = server.poll_transmit(&mut out) else {
            return false;
        };
        let now = self.now;
        match transmit {
            Transmit::Send(transport) => {
                self.wire.push(Wire {
                    from: Side::Server,
                    transport,
                    packets: out.clone(),
                });
                if self.mute_server {
                    return true;
                }
                match transport {
                    TransportKind::Polling => {
                        assert!(self.get_outstanding, "server answered a GET nobody sent");
                        self.get_outstanding = false;
                        for packet in out {
                            self.client.handle_packet(packet, POLLING, now);
                        }
                        self.client.handle_poll_done(now);
                    }
                    TransportKind::WebSocket => {
                        assert!(self.ws_open, "server wrote on a closed WebSocket");
                        for packet in out {
                            self.client.handle_packet(packet, WS, now);
                        }
                    }
                }
            }
            Transmit::Close(TransportKind::Polling) => {
                if self.get_outstanding {
                    self.get_outstanding = false;
                    self.wire.push(Wire {
                        from: Side::Server,
                        transport: POLLING,
                        packets: vec![Packet::Noop],
                    });
                    self.client.handle_packet(Packet::Noop, POLLING, now);
                    self.client.handle_poll_done(now);
                }
            }
            Transmit::Close(TransportKind::WebSocket) => {
                if self.ws_open {
                    self.ws_open = false;
                    self.client
                        .handle_transport_closed(WS, TransportEnd::Closed, now);
                }
            }
            other => panic!("a server never asks for {other:?}"),
        }
        true
    }

    /// Handles one client transmit; false when there was none.
    fn step_client(&mut self) -> bool {
        let mut out = Vec::new();
        let Some(transmit) = self.client.poll_transmit(&mut out) else {
            return false;
        };
        let now = self.now;
        match transmit {
            Transmit::Poll => {
                assert!(!self.get_outstanding, "client issued two GETs");
                self.get_outstanding = true;
                if self.server.is_none() {
                    self.accept(POLLING);
                }
                if !self.mute_client {
                    self.server().handle_poll_request(now).unwrap();
                }
            }
            Transmit::Send(transport) => {
                self.wire.push(Wire {
                    from: Side::Client,
                    transport,
                    packets: out.clone(),
                });
                match transport {
                    TransportKind::Polling => {
                        assert!(self.pending_post.is_none(), "client sent two POSTs at once");
                        self.pending_post = Some(out);
                        if !self.delay_posts {
                            self.release_post();
                        }
                    }
                    TransportKind::WebSocket => {
                        assert!(self.ws_open, "client wrote on a closed WebSocket");
                        if !self.mute_client {
                            for packet in out {
                                self.server().handle_packet(packet, WS, now);
                            }
                        }
                    }
                }
            }
            Transmit::Connect(TransportKind::WebSocket) => {
                if !self.refuse_ws && self.server().handle_upgrade_request(now).is_ok() {
                    self.ws_open = true;
                    self.client.handle_transport_opened(WS, now);
                } else {
                    self.client
                        .handle_transport_closed(WS, TransportEnd::Error, now);
                }
            }
            Transmit::Close(TransportKind::WebSocket) => {
                if self.ws_open {
                    self.ws_open = false;
                    if let Some(server) = self.server.as_mut() {
                        server.handle_transport_closed(WS, TransportEnd::Closed, now);
                    }
                }
            }
            // The client abandons its GET; the server may still answer it, into the void.
            Transmit::Close(TransportKind::Polling) => self.get_outstanding = false,
            other => panic!("unexpected client transmit {other:?}"),
        }
        true
    }

    /// The POST in flight reaches the server, and its answer the client.
    fn release_post(&mut self) -> bool {
        let Some(packets) = self.pending_post.take() else {
            return false;
        };
        let now = self.now;
        if !self.mute_client {
            if let Some(server) = self.server.as_mut() {
                server.handle_post_request(now).unwrap();
                for packet in packets {
                    server.handle_packet(packet, POLLING, now);
                }
            }
        }
        self.client.handle_post_done(now);
        true
    }

    fn collect_events(&mut self) {
        if let Some(server) = self.server.as_mut() {
            while let Some(event) = server.poll_event() {
                self.server_events.push(event);
            }
        }
        while let Some(event) = self.client.poll_event() {
            self.client_events.push(event);
        }
    }

    /// Runs both sides until neither has anything to transmit.
    fn drive(&mut self) {
        self.drive_until(|_| false);
    }

    /// Like [`Pair::drive`], stopping early once `stop` holds (checked after every step).
    fn drive_until(&mut self, mut stop: impl FnMut(&Self) -> bool) -> bool {
        loop {
            let mut progress = self.step_client() | self.step_server();
            if !progress {
                progress = self.release_post();
            }
            self.collect_events();
            if stop(self) {
                return true;
            }
            if !progress {
                return false;
            }
        }
    }

    fn next_timeout(&self) -> Option<Instant> {
        let server = self.server.as_ref().and_then(|s| s.poll_timeout());
        match (server, self.client.poll_timeout()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, None) => a,
            (None, b) => b,
        }
    }

    /// Lets simulated time pass, firing every timer on the way.
    fn advance(&mut self, by: Duration) {
        let target = self.now + by;
        self.drive();
        while let Some(at) = self.next_timeout().filter(|at| *at <= target) {
            self.now = self.now.max(at);
            let now = self.now;
            if let Some(server) = self.server.as_mut() {
                server.handle_timeout(now);
            }
            self.client.handle_timeout(now);
            self.drive();
        }
        self.now = target;
        self.drive();
    }

    fn server_messages(&self) -> Vec<Event> {
        self.server_events
            .iter()
            .filter(|e| is_message_event(e))
            .cloned()
            .collect()
    }

    fn client_messages(&self) -> Vec<Event> {
        self.client_events
            .iter()
            .filter(|e| is_message_event(e))
            .cloned()
            .collect()
    }

    /// Every packet a side wrote, in order, with the transport it went on.
    fn sent_by(&self, from: Side) -> Vec<(TransportKind, Packet)> {
        self.wire
            .iter()
            .filter(|w| w.from == from)
            .flat_map(|w| w.packets.iter().map(move |p| (w.transport, p.clone())))
            .collect()
    }

    fn count_sent(&self, from: Side, packet: &Packet) -> usize {
        self.sent_by(from)
            .iter()
            .filter(|(_, p)| p == packet)
            .count()
    }
}

fn is_message_event(event: &Event) -> bool {
    matches!(event, Event::Message(_) | Event::Binary(_))
}

fn msg(s: &'static str) -> Event {
    Event::Message(Str::from_static(s))
}

fn closed(reason: CloseReason) -> Event {
    Event::Closed {
        reason,
        error: None,
    }
}

fn drain(session: &mut Session<impl Role>) -> Vec<(Transmit, Vec<Packet>)> {
    let mut all = Vec::new();
    loop {
        let mut out = Vec::new();
        match session.poll_transmit(&mut out) {
            Some(t) => all.push((t, out)),
            None => return all,
        }
    }
}

fn events(session: &mut Session<impl Role>) -> Vec<Event> {
    std::iter::from_fn(|| session.poll_event()).collect()
}

#[test]
fn sessions_can_move_between_threads() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Session<Server>>();
    assert_send_sync::<Session<Client>>();
}
