//! Two-peer tests with no sockets and simulated time: a [`Pair`] shuttles what one session
//! transmits into the other, the way a driver and the network would.

#![allow(clippy::unwrap_used, reason = "tests")]

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

// ---------------------------------------------------------------------------------------------
// Handshake

#[test]
fn config_defaults_match_node() {
    let config = Config::default();
    assert_eq!(config.ping_interval, ms(25_000));
    assert_eq!(config.ping_timeout, ms(20_000));
    assert_eq!(config.upgrade_timeout, ms(10_000));
    assert_eq!(config.max_payload, 1_000_000);
    assert_eq!(config.protocol, crate::ProtocolVersion::V4);
    assert!(config.allow_upgrades);
    assert_eq!(config.upgrades, vec![WS]);
}

#[test]
fn close_reason_strings_match_node() {
    let all = [
        (CloseReason::TransportClose, "transport close"),
        (CloseReason::TransportError, "transport error"),
        (CloseReason::PingTimeout, "ping timeout"),
        (CloseReason::ForcedClose, "forced close"),
        (CloseReason::ServerShuttingDown, "server shutting down"),
        (CloseReason::ParseError, "parse error"),
    ];
    for (reason, s) in all {
        assert_eq!(reason.as_str(), s);
        assert_eq!(reason.to_string(), s);
    }
}

#[test]
fn server_open_packet_on_polling_offers_websocket() {
    let now = Instant::now();
    let mut server = Session::accept(Str::from_static("abc"), Config::default(), POLLING, now);
    // Nothing goes out before the handshake GET arrives.
    assert_eq!(drain(&mut server), vec![]);
    server.handle_poll_request(now).unwrap();
    let expected = OpenPacket {
        sid: Str::from_static("abc"),
        upgrades: vec![Str::from_static("websocket")],
        ping_interval: 25_000,
        ping_timeout: 20_000,
        max_payload: 1_000_000,
    };
    assert_eq!(
        drain(&mut server),
        vec![(Transmit::Send(POLLING), vec![Packet::Open(expected)])]
    );
    assert_eq!(server.sid().map(|s| &**s), Some("abc"));
}

#[test]
fn server_open_packet_on_websocket_offers_nothing() {
    let now = Instant::now();
    let mut server = Session::accept(Str::from_static("abc"), Config::default(), WS, now);
    let sent = drain(&mut server);
    assert_eq!(sent.len(), 1);
    let Packet::Open(open) = &sent[0].1[0] else {
        panic!("not an open packet: {sent:?}")
    };
    assert!(open.upgrades.is_empty());
    assert_eq!(sent[0].0, Transmit::Send(WS));
}

#[test]
fn server_open_packet_without_upgrades_when_disabled() {
    let config = Config {
        allow_upgrades: false,
        ..Config::default()
    };
    let mut server = Session::accept(Str::from_static("a"), config, POLLING, Instant::now());
    assert_eq!(server.open().unwrap().upgrades, Vec::<Str>::new());
    assert_eq!(
        server.handle_upgrade_request(Instant::now()),
        Err(UpgradeError::NotAllowed)
    );
}

#[test]
fn handshake_over_polling_adopts_server_parameters() {
    let server_config = Config {
        ping_interval: ms(300),
        ping_timeout: ms(200),
        max_payload: 5_000,
        allow_upgrades: false,
        ..Config::default()
    };
    let mut pair = Pair::new(server_config, Config::default(), POLLING);
    pair.drive();
    assert_eq!(pair.client_events, vec![Event::Opened]);
    let open = pair.client.open().unwrap();
    assert_eq!(
        (open.ping_interval, open.ping_timeout, open.max_payload),
        (300, 200, 5_000)
    );
    assert_eq!(pair.client.sid().map(|s| &**s), Some("sid1"));
    // The client keeps one GET waiting at the server.
    assert!(pair.get_outstanding);
    assert!(pair.server().polling.get_held);
    // It uses the server's timers: a ping after 300 ms, not 25 s.
    pair.advance(ms(300));
    assert_eq!(pair.count_sent(Side::Server, &ping("")), 1);
    assert_eq!(pair.count_sent(Side::Client, &pong("")), 1);
}

#[test]
fn handshake_over_websocket() {
    let mut pair = Pair::websocket();
    pair.drive();
    assert_eq!(pair.client_events, vec![Event::Opened]);
    assert_eq!(pair.client.transport(), WS);
    assert!(!pair.client.is_upgrading());
    pair.client.send(text("hello")).unwrap();
    pair.server().send(text("world")).unwrap();
    pair.drive();
    assert_eq!(pair.server_messages(), vec![msg("hello")]);
    assert_eq!(pair.client_messages(), vec![msg("world")]);
}

#[test]
fn client_queues_messages_until_the_handshake() {
    let mut pair = Pair::new(
        Config {
            allow_upgrades: false,
            ..Config::default()
        },
        Config::default(),
        POLLING,
    );
    pair.client.send(text("early")).unwrap();
    pair.drive();
    assert_eq!(pair.server_messages(), vec![msg("early")]);
}

#[test]
fn client_rejects_anything_before_open() {
    let now = Instant::now();
    let mut client = Session::connect(Config::default(), WS, now);
    client.handle_packet(text("x"), WS, now);
    assert_eq!(
        events(&mut client),
        vec![Event::Closed {
            reason: CloseReason::TransportError,
            error: Some(ProtocolError::UnexpectedPacket(PacketType::Message)),
        }]
    );
    assert_eq!(drain(&mut client), vec![(Transmit::Close(WS), vec![])]);
}

// ---------------------------------------------------------------------------------------------
// Heartbeat

#[test]
fn heartbeat_over_websocket_for_many_intervals() {
    let mut pair = Pair::websocket();
    pair.drive();
    let start = pair.now;
    pair.advance(secs(25 * 40));
    assert_eq!(pair.count_sent(Side::Server, &ping("")), 40);
    assert_eq!(pair.count_sent(Side::Client, &pong("")), 40);
    assert!(!pair.server().is_closed());
    assert!(!pair.client.is_closed());
    // The next ping is due exactly one interval after the last pong.
    assert_eq!(pair.server().poll_timeout(), Some(start + secs(25 * 41)));
}

#[test]
fn heartbeat_over_polling_releases_the_held_get() {
    let mut pair = Pair::new(
        Config {
            allow_upgrades: false,
            ..Config::default()
        },
        Config::default(),
        POLLING,
    );
    pair.drive();
    let gets_answered = pair.wire.iter().filter(|w| w.from == Side::Server).count();
    pair.advance(secs(24));
    // The GET is held: nothing was answered during 24 s.
    assert_eq!(
        pair.wire.iter().filter(|w| w.from == Side::Server).count(),
        gets_answered
    );
    pair.advance(secs(1));
    let last = pair.wire.iter().rfind(|w| w.from == Side::Server).unwrap();
    assert_eq!(last.packets, vec![ping("")]);
    assert_eq!(last.transport, POLLING);
    // The pong came back in a POST, and a new GET is held.
    assert_eq!(pair.wire.last().unwrap().packets, vec![pong("")]);
    assert!(pair.server().polling.get_held);
    pair.advance(secs(25 * 20));
    assert_eq!(pair.count_sent(Side::Server, &ping("")), 21);
    assert!(!pair.client.is_closed());
}

#[test]
fn server_closes_with_ping_timeout_when_pongs_stop() {
    let mut pair = Pair::websocket();
    pair.drive();
    let start = pair.now;
    pair.mute_client = true;
    pair.advance(secs(25 + 20 - 1));
    assert!(pair.server_events.is_empty());
    pair.advance(secs(1));
    assert_eq!(pair.server_events, vec![closed(CloseReason::PingTimeout)]);
    assert_eq!(pair.now, start + secs(45));
    // The server closed the WebSocket, which the client sees as a transport close.
    assert_eq!(
        pair.client_events.last(),
        Some(&closed(CloseReason::TransportClose))
    );
}

#[test]
fn client_closes_with_ping_timeout_when_pings_stop() {
    let mut pair = Pair::websocket();
    pair.drive();
    pair.advance(secs(25)); // one ping round-trip
    let last_ping = pair.now;
    pair.mute_server = true;
    pair.advance(secs(25 + 20 - 1));
    assert!(!pair.client.is_closed());
    pair.advance(secs(1));
    assert_eq!(
        pair.client_events.last(),
        Some(&closed(CloseReason::PingTimeout))
    );
    assert_eq!(pair.now, last_ping + secs(45));
}

#[test]
fn any_packet_keeps_the_peer_alive_past_the_pong_deadline() {
    let now = Instant::now();
    let mut server = Session::accept(Str::from_static("s"), Config::default(), WS, now);
    drain(&mut server);
    server.handle_timeout(now + secs(25));
    assert_eq!(
        drain(&mut server),
        vec![(Transmit::Send(WS), vec![ping("")])]
    );
    // No pong, but a message 30 s in: the deadline (45 s) moves to 30 + 20 = 50 s.
    server.handle_packet(text("busy"), WS, now + secs(30));
    server.handle_timeout(now + secs(45));
    assert!(!server.is_closed());
    assert_eq!(server.poll_timeout(), Some(now + secs(50)));
    server.handle_timeout(now + secs(50));
    assert!(server.is_closed());
    assert_eq!(
        events(&mut server).last(),
        Some(&closed(CloseReason::PingTimeout))
    );
}

#[test]
fn server_rejects_a_ping_in_v4() {
    let now = Instant::now();
    let mut server = Session::accept(Str::from_static("s"), Config::default(), WS, now);
    drain(&mut server);
    server.handle_packet(ping(""), WS, now);
    assert_eq!(
        events(&mut server),
        vec![Event::Closed {
            reason: CloseReason::TransportError,
            error: Some(ProtocolError::InvalidHeartbeatDirection),
        }]
    );
    assert_eq!(drain(&mut server), vec![(Transmit::Close(WS), vec![])]);
}

#[cfg(feature = "v3")]
mod v3 {
    use super::*;
    use crate::ProtocolVersion;

    fn v3() -> Config {
        Config {
            protocol: ProtocolVersion::V3,
            ..Config::default()
        }
    }

    #[test]
    fn client_pings_and_server_answers() {
        let mut pair = Pair::new(v3(), v3(), WS);
        pair.drive();
        pair.advance(secs(25 * 10));
        assert_eq!(pair.count_sent(Side::Client, &ping("")), 10);
        assert_eq!(pair.count_sent(Side::Server, &pong("")), 10);
        assert_eq!(pair.count_sent(Side::Server, &ping("")), 0);
        assert!(!pair.server().is_closed() && !pair.client.is_closed());
    }

    #[test]
    fn server_times_out_without_pings() {
        let mut pair = Pair::new(v3(), v3(), WS);
        pair.drive();
        pair.mute_client = true;
        // interval + timeout after the handshake, as Node's v3 server does.
        pair.advance(secs(25 + 20 - 1));
        assert!(pair.server_events.is_empty());
        pair.advance(secs(1));
        assert_eq!(pair.server_events, vec![closed(CloseReason::PingTimeout)]);
    }

    #[test]
    fn server_deadline_is_interval_plus_timeout() {
        let now = Instant::now();
        let mut server = Session::accept(Str::from_static("s"), v3(), WS, now);
        assert_eq!(server.poll_timeout(), Some(now + secs(45)));
        server.handle_packet(ping(""), WS, now + secs(20));
        assert_eq!(server.poll_timeout(), Some(now + secs(65)));
        server.handle_timeout(now + secs(64));
        assert!(!server.is_closed());
        server.handle_timeout(now + secs(65));
        assert!(server.is_closed());
    }

    #[test]
    fn client_times_out_without_pongs() {
        let mut pair = Pair::new(v3(), v3(), WS);
        pair.drive();
        pair.mute_server = true;
        pair.advance(secs(25 + 20));
        assert_eq!(
            pair.client_events.last(),
            Some(&closed(CloseReason::PingTimeout))
        );
    }

    #[test]
    fn server_rejects_a_pong_in_v3() {
        let now = Instant::now();
        let mut server = Session::accept(Str::from_static("s"), v3(), WS, now);
        server.handle_packet(pong(""), WS, now);
        assert!(matches!(
            events(&mut server)[..],
            [Event::Closed {
                error: Some(ProtocolError::InvalidHeartbeatDirection),
                ..
            }]
        ));
    }

    #[test]
    fn ping_spam_gets_one_pong_per_flush() {
        let now = Instant::now();
        let mut server = Session::accept(Str::from_static("s"), v3(), POLLING, now);
        for _ in 0..1000 {
            server.handle_packet(ping(""), POLLING, now);
        }
        server.handle_poll_request(now).unwrap();
        let sent = drain(&mut server);
        assert_eq!(sent.len(), 1);
        assert_eq!(sent[0].1.len(), 2, "open + one pong: {:?}", sent[0].1);
        assert_eq!(sent[0].1[1], pong(""));
    }
}

// ---------------------------------------------------------------------------------------------
// Upgrade

#[test]
fn upgrade_keeps_every_message_in_order() {
    let mut pair = Pair::polling();
    // Handshake, and stop as soon as the client asked for the WebSocket.
    pair.drive_until(|p| p.client.is_upgrading());
    pair.server().send(text("s1")).unwrap();
    pair.client.send(text("c1")).unwrap();
    // Stop when the server has answered the probe (3probe queued, not yet delivered).
    pair.drive_until(|p| {
        matches!(
            p.server.as_ref().unwrap().upgrade,
            Upgrade::AwaitingUpgradePacket { .. }
        )
    });
    pair.server().send(text("s2")).unwrap();
    pair.client.send(text("c2")).unwrap();
    // Stop when the client paused polling and is waiting for its GET to come back.
    pair.drive_until(|p| p.client.upgrade.is_pausing());
    pair.server().send(text("s3")).unwrap();
    pair.client.send(text("c3")).unwrap();
    pair.drive();
    assert_eq!(pair.server().transport(), WS);
    assert_eq!(pair.client.transport(), WS);
    pair.server().send(text("s4")).unwrap();
    pair.client.send(text("c4")).unwrap();
    pair.drive();

    assert_eq!(
        pair.client_messages(),
        vec![msg("s1"), msg("s2"), msg("s3"), msg("s4")]
    );
    assert_eq!(
        pair.server_messages(),
        vec![msg("c1"), msg("c2"), msg("c3"), msg("c4")]
    );
    assert!(pair.server_events.contains(&Event::Upgraded(WS)));
    assert!(pair.client_events.contains(&Event::Upgraded(WS)));

    // The probe handshake on the WebSocket, as the protocol spells it.
    let client_ws: Vec<_> = pair
        .sent_by(Side::Client)
        .into_iter()
        .filter(|(t, _)| *t == WS)
        .map(|(_, p)| p)
        .collect();
    assert_eq!(client_ws[0], ping("probe"));
    assert_eq!(client_ws[1], Packet::Upgrade);
    let server_ws: Vec<_> = pair
        .sent_by(Side::Server)
        .into_iter()
        .filter(|(t, _)| *t == WS)
        .map(|(_, p)| p)
        .collect();
    assert_eq!(server_ws[0], pong("probe"));
    // Nothing went on polling once the upgrade completed.
    let upgrade_at = pair
        .sent_by(Side::Client)
        .iter()
        .position(|(_, p)| *p == Packet::Upgrade);
    let after: Vec<_> = pair.sent_by(Side::Client)[upgrade_at.unwrap()..]
        .iter()
        .filter(|(t, _)| *t == POLLING)
        .cloned()
        .collect();
    assert_eq!(after, vec![]);
    // After the upgrade, the polling transport is refused.
    let now = pair.now;
    assert_eq!(
        pair.server().handle_poll_request(now),
        Err(PollError::WrongTransport)
    );
    assert_eq!(
        pair.server().handle_upgrade_request(now),
        Err(UpgradeError::AlreadyUpgraded)
    );
}

#[test]
fn heartbeat_continues_after_upgrade() {
    let mut pair = Pair::polling();
    pair.drive();
    assert_eq!(pair.client.transport(), WS);
    pair.advance(secs(25 * 4));
    let pings: Vec<_> = pair
        .sent_by(Side::Server)
        .into_iter()
        .filter(|(_, p)| *p == ping(""))
        .map(|(t, _)| t)
        .collect();
    assert_eq!(pings, vec![WS; 4]);
    assert!(!pair.client.is_closed());
}

/// Server side, scripted: the probe exchange, the noop that releases the held GET, and the
/// periodic noops while waiting for the `5`.
#[test]
fn server_probe_releases_the_held_get_with_noops() {
    let t0 = Instant::now();
    let mut server = Session::accept(Str::from_static("s"), Config::default(), POLLING, t0);
    server.handle_poll_request(t0).unwrap();
    drain(&mut server); // open
    server.handle_poll_request(t0).unwrap(); // held
    assert_eq!(drain(&mut server), vec![]);
    server.handle_upgrade_request(t0).unwrap();
    assert_eq!(
        server.handle_upgrade_request(t0),
        Err(UpgradeError::AlreadyUpgrading)
    );
    // Before the probe the GET stays held.
    assert_eq!(drain(&mut server), vec![]);
    server.handle_packet(ping("probe"), WS, t0);
    assert_eq!(
        drain(&mut server),
        vec![
            (Transmit::Send(WS), vec![pong("probe")]),
            (Transmit::Send(POLLING), vec![Packet::Noop]),
        ]
    );
    // A new GET is held until the next noop tick, 100 ms later.
    server.handle_poll_request(t0 + ms(10)).unwrap();
    assert_eq!(drain(&mut server), vec![]);
    assert_eq!(server.poll_timeout(), Some(t0 + ms(100)));
    server.handle_timeout(t0 + ms(100));
    assert_eq!(
        drain(&mut server),
        vec![(Transmit::Send(POLLING), vec![Packet::Noop])]
    );
    // A message queued during the probe goes to a held GET, as Node flushes it there.
    server.handle_poll_request(t0 + ms(120)).unwrap();
    server.send(text("m")).unwrap();
    assert_eq!(
        drain(&mut server),
        vec![(Transmit::Send(POLLING), vec![text("m")])]
    );
    // The `5` switches; what is queued then goes on the WebSocket.
    server.send(text("n")).unwrap();
    server.handle_packet(Packet::Upgrade, WS, t0 + ms(150));
    assert_eq!(
        drain(&mut server),
        vec![
            (Transmit::Send(WS), vec![text("n")]),
            (Transmit::Close(POLLING), vec![])
        ]
    );
    assert_eq!(events(&mut server), vec![Event::Upgraded(WS)]);
    assert_eq!(server.transport(), WS);
}

#[test]
fn upgrade_timeout_closes_the_probe_only() {
    let t0 = Instant::now();
    let mut server = Session::accept(Str::from_static("s"), Config::default(), POLLING, t0);
    server.handle_poll_request(t0).unwrap();
    drain(&mut server);
    server.handle_upgrade_request(t0).unwrap();
    server.handle_packet(ping("probe"), WS, t0);
    drain(&mut server);
    server.handle_timeout(t0 + secs(10));
    let sent = drain(&mut server);
    assert_eq!(sent, vec![(Transmit::Close(WS), vec![])]);
    assert!(!server.is_closed() && !server.is_upgrading());
    assert_eq!(server.transport(), POLLING);
    // The session lives on over polling, and may try again.
    server.send(text("still here")).unwrap();
    server.handle_poll_request(t0 + secs(10)).unwrap();
    assert_eq!(
        drain(&mut server),
        vec![(Transmit::Send(POLLING), vec![text("still here")])]
    );
    server.handle_upgrade_request(t0 + secs(11)).unwrap();
    assert!(events(&mut server).is_empty());
}

#[test]
fn a_bad_packet_on_the_probe_closes_the_probe_only() {
    let t0 = Instant::now();
    let mut server = Session::accept(Str::from_static("s"), Config::default(), POLLING, t0);
    server.handle_upgrade_request(t0).unwrap();
    server.handle_packet(text("not a probe"), WS, t0);
    assert_eq!(drain(&mut server), vec![(Transmit::Close(WS), vec![])]);
    assert!(!server.is_closed());
    server.handle_upgrade_request(t0).unwrap();
    server.handle_parse_error(WS, t0);
    assert_eq!(drain(&mut server), vec![(Transmit::Close(WS), vec![])]);
    server.handle_upgrade_request(t0).unwrap();
    server.handle_transport_closed(WS, TransportEnd::Error, t0);
    assert_eq!(drain(&mut server), vec![]);
    assert!(!server.is_closed() && !server.is_upgrading());
}

#[test]
fn client_upgrade_timeout_without_probe_answer() {
    let mut pair = Pair::polling();
    pair.mute_server = false;
    // The server never answers the probe: swallow what it writes on the WebSocket.
    pair.drive_until(|p| matches!(p.client.upgrade, Upgrade::AwaitingProbe { .. }));
    pair.step_client(); // 2probe reaches the server
    let mut out = Vec::new();
    let _ = pair.server().poll_transmit(&mut out); // 3probe lost
    pair.advance(secs(10));
    assert!(!pair.client.is_upgrading());
    assert_eq!(pair.client.transport(), POLLING);
    assert!(!pair.client.is_closed());
    pair.client.send(text("over polling")).unwrap();
    pair.drive();
    assert_eq!(pair.server_messages(), vec![msg("over polling")]);
}

#[test]
fn refused_websocket_leaves_the_client_on_polling() {
    let mut pair = Pair::polling();
    pair.refuse_ws = true;
    pair.drive();
    assert_eq!(pair.client.transport(), POLLING);
    assert!(!pair.client.is_upgrading());
    pair.server().send(text("a")).unwrap();
    pair.client.send(text("b")).unwrap();
    pair.drive();
    assert_eq!(pair.client_messages(), vec![msg("a")]);
    assert_eq!(pair.server_messages(), vec![msg("b")]);
}

#[test]
fn websocket_for_a_websocket_session_is_refused() {
    let mut server = Session::accept(Str::from_static("s"), Config::default(), WS, Instant::now());
    assert_eq!(
        server.handle_upgrade_request(Instant::now()),
        Err(UpgradeError::NotAllowed)
    );
}

// ---------------------------------------------------------------------------------------------
// Close

#[test]
fn server_close_over_polling_flushes_then_sends_close() {
    let mut pair = Pair::new(
        Config {
            allow_upgrades: false,
            ..Config::default()
        },
        Config::default(),
        POLLING,
    );
    pair.drive();
    pair.server().send(text("bye")).unwrap();
    let now = pair.now;
    pair.server().close(CloseReason::ForcedClose, now);
    assert_eq!(
        pair.server().send(text("late")),
        Err(SendError::Closed(text("late")))
    );
    pair.drive();
    let last = pair.wire.iter().rfind(|w| w.from == Side::Server).unwrap();
    assert_eq!(last.packets, vec![text("bye"), Packet::Close]);
    assert_eq!(
        pair.server_events.last(),
        Some(&closed(CloseReason::ForcedClose))
    );
    assert_eq!(pair.client_messages(), vec![msg("bye")]);
    assert_eq!(
        pair.client_events.last(),
        Some(&closed(CloseReason::TransportClose))
    );
}

#[test]
fn server_close_over_websocket_flushes_then_closes_the_socket() {
    let mut pair = Pair::websocket();
    pair.drive();
    pair.server().send(text("bye")).unwrap();
    let now = pair.now;
    pair.server().close(CloseReason::ForcedClose, now);
    let mut out = Vec::new();
    assert_eq!(
        pair.server().poll_transmit(&mut out),
        Some(Transmit::Send(WS))
    );
    assert_eq!(out, vec![text("bye")]);
    out.clear();
    assert_eq!(
        pair.server().poll_transmit(&mut out),
        Some(Transmit::Close(WS))
    );
    assert_eq!(pair.server().poll_transmit(&mut out), None);
}

#[test]
fn server_polling_close_waits_for_a_get_then_gives_up() {
    let t0 = Instant::now();
    let mut server = Session::accept(Str::from_static("s"), Config::default(), POLLING, t0);
    server.handle_poll_request(t0).unwrap();
    drain(&mut server);
    server.close(CloseReason::ForcedClose, t0);
    assert!(!server.is_closed());
    assert_eq!(server.poll_timeout(), Some(t0 + secs(30)));
    server.handle_timeout(t0 + secs(30));
    assert_eq!(events(&mut server), vec![closed(CloseReason::ForcedClose)]);
    assert_eq!(drain(&mut server), vec![]);
}

#[test]
fn server_shutting_down_does_not_wait_for_a_get() {
    let t0 = Instant::now();
    let mut server = Session::accept(Str::from_static("s"), Config::default(), POLLING, t0);
    server.handle_poll_request(t0).unwrap();
    drain(&mut server);
    server.close(CloseReason::ServerShuttingDown, t0);
    assert_eq!(
        events(&mut server),
        vec![closed(CloseReason::ServerShuttingDown)]
    );
    assert_eq!(server.handle_poll_request(t0), Err(PollError::Closed));
    // With a GET held, the close packet still goes out on it.
    let mut server = Session::accept(Str::from_static("s"), Config::default(), POLLING, t0);
    server.handle_poll_request(t0).unwrap();
    drain(&mut server);
    server.handle_poll_request(t0).unwrap();
    server.close(CloseReason::ServerShuttingDown, t0);
    assert_eq!(
        drain(&mut server),
        vec![(Transmit::Send(POLLING), vec![Packet::Close])]
    );
    assert_eq!(
        events(&mut server),
        vec![closed(CloseReason::ServerShuttingDown)]
    );
}

#[test]
fn client_close_over_polling_posts_close() {
    let mut pair = Pair::new(
        Config {
            allow_upgrades: false,
            ..Config::default()
        },
        Config::default(),
        POLLING,
    );
    pair.drive();
    pair.client.send(text("last words")).unwrap();
    let now = pair.now;
    pair.client.close(CloseReason::ForcedClose, now);
    pair.drive();
    let last = pair.wire.iter().rfind(|w| w.from == Side::Client).unwrap();
    assert_eq!(last.packets, vec![text("last words"), Packet::Close]);
    assert_eq!(
        pair.client_events.last(),
        Some(&closed(CloseReason::ForcedClose))
    );
    assert_eq!(pair.server_messages(), vec![msg("last words")]);
    assert_eq!(
        pair.server_events.last(),
        Some(&closed(CloseReason::TransportClose))
    );
    // The server released the held GET, and the client abandoned it.
    assert!(!pair.get_outstanding);
}

#[test]
fn client_close_over_websocket() {
    let mut pair = Pair::websocket();
    pair.drive();
    let now = pair.now;
    pair.client.close(CloseReason::ForcedClose, now);
    pair.drive();
    assert_eq!(
        pair.client_events.last(),
        Some(&closed(CloseReason::ForcedClose))
    );
    assert_eq!(
        pair.server_events.last(),
        Some(&closed(CloseReason::TransportClose))
    );
    assert!(!pair.ws_open);
}

#[test]
fn close_packet_from_the_peer_is_a_transport_close() {
    let now = Instant::now();
    let mut server = Session::accept(Str::from_static("s"), Config::default(), WS, now);
    drain(&mut server);
    server.handle_packet(Packet::Close, WS, now);
    assert_eq!(
        events(&mut server),
        vec![closed(CloseReason::TransportClose)]
    );
    assert_eq!(drain(&mut server), vec![(Transmit::Close(WS), vec![])]);
    // Over polling, a held GET is released.
    let mut server = Session::accept(Str::from_static("s"), Config::default(), POLLING, now);
    server.handle_poll_request(now).unwrap();
    drain(&mut server);
    server.handle_poll_request(now).unwrap();
    server.handle_packet(Packet::Close, POLLING, now);
    assert_eq!(
        events(&mut server),
        vec![closed(CloseReason::TransportClose)]
    );
    assert_eq!(drain(&mut server), vec![(Transmit::Close(POLLING), vec![])]);
}

#[test]
fn transport_end_reasons() {
    let now = Instant::now();
    for (end, reason) in [
        (TransportEnd::Closed, CloseReason::TransportClose),
        (TransportEnd::Error, CloseReason::TransportError),
    ] {
        let mut server = Session::accept(Str::from_static("s"), Config::default(), WS, now);
        server.handle_transport_closed(WS, end, now);
        assert_eq!(events(&mut server), vec![closed(reason)]);
        assert_eq!(drain(&mut server), vec![]);
    }
    let mut server = Session::accept(Str::from_static("s"), Config::default(), WS, now);
    server.handle_parse_error(WS, now);
    assert_eq!(events(&mut server), vec![closed(CloseReason::ParseError)]);
}

#[test]
fn unexpected_packets_are_protocol_errors() {
    let now = Instant::now();
    let open = OpenPacket {
        sid: Str::from_static("x"),
        upgrades: vec![],
        ping_interval: 1,
        ping_timeout: 1,
        max_payload: 1,
    };
    for (packet, kind) in [
        (Packet::Open(open), PacketType::Open),
        (Packet::Upgrade, PacketType::Upgrade),
    ] {
        let mut server = Session::accept(Str::from_static("s"), Config::default(), WS, now);
        server.handle_packet(packet, WS, now);
        assert_eq!(
            events(&mut server),
            vec![Event::Closed {
                reason: CloseReason::TransportError,
                error: Some(ProtocolError::UnexpectedPacket(kind)),
            }]
        );
    }
    // A noop is harmless.
    let mut server = Session::accept(Str::from_static("s"), Config::default(), WS, now);
    server.handle_packet(Packet::Noop, WS, now);
    assert!(events(&mut server).is_empty());
}

#[test]
fn nothing_happens_after_closed() {
    let now = Instant::now();
    let mut server = Session::accept(Str::from_static("s"), Config::default(), POLLING, now);
    server.handle_poll_request(now).unwrap();
    drain(&mut server);
    server.handle_poll_request(now).unwrap();
    server.handle_transport_closed(POLLING, TransportEnd::Error, now);
    assert_eq!(
        events(&mut server),
        vec![closed(CloseReason::TransportError)]
    );
    server.handle_packet(text("x"), POLLING, now);
    server.handle_timeout(now + secs(1000));
    server.close(CloseReason::ForcedClose, now);
    assert_eq!(server.send(text("y")), Err(SendError::Closed(text("y"))));
    assert_eq!(drain(&mut server), vec![]);
    assert!(events(&mut server).is_empty());
    assert_eq!(server.poll_timeout(), None);
}

// ---------------------------------------------------------------------------------------------
// Polling GET semantics and limits

#[test]
fn overlapping_get_closes_the_session() {
    let now = Instant::now();
    let mut server = Session::accept(Str::from_static("s"), Config::default(), POLLING, now);
    server.handle_poll_request(now).unwrap();
    drain(&mut server);
    server.handle_poll_request(now).unwrap();
    assert_eq!(server.handle_poll_request(now), Err(PollError::Overlap));
    assert_eq!(
        events(&mut server),
        vec![Event::Closed {
            reason: CloseReason::TransportError,
            error: Some(ProtocolError::PollOverlap),
        }]
    );
    // The first GET is released.
    assert_eq!(drain(&mut server), vec![(Transmit::Close(POLLING), vec![])]);
}

#[test]
fn held_get_is_answered_with_everything_queued() {
    let now = Instant::now();
    let mut server = Session::accept(Str::from_static("s"), Config::default(), POLLING, now);
    server.send(text("a")).unwrap();
    server
        .send(Packet::Binary(Bytes::from_static(b"\x01\x02")))
        .unwrap();
    server.handle_poll_request(now).unwrap();
    let sent = drain(&mut server);
    assert_eq!(sent.len(), 1);
    assert_eq!(
        sent[0].1[1..],
        [text("a"), Packet::Binary(Bytes::from_static(b"\x01\x02"))]
    );
    // Then the next GET is held until something is sent.
    server.handle_poll_request(now).unwrap();
    assert_eq!(drain(&mut server), vec![]);
    server.send(text("b")).unwrap();
    assert_eq!(
        drain(&mut server),
        vec![(Transmit::Send(POLLING), vec![text("b")])]
    );
}

#[test]
fn queue_limits_by_count_and_bytes() {
    let now = Instant::now();
    let config = Config {
        max_queued_packets: 3,
        max_queued_bytes: 10,
        ..Config::default()
    };
    let mut server = Session::accept(Str::from_static("s"), config, WS, now);
    server.send(text("1234")).unwrap();
    server.send(text("5678")).unwrap();
    // 4 + 4 + 3 > 10 bytes
    assert_eq!(
        server.send(text("abc")),
        Err(SendError::QueueFull(text("abc")))
    );
    server.send(text("ab")).unwrap();
    assert_eq!((server.queued_messages(), server.queued_bytes()), (3, 10));
    // 3 messages: the count is full even for an empty one.
    assert_eq!(server.send(text("")), Err(SendError::QueueFull(text(""))));
    drain(&mut server);
    assert_eq!((server.queued_messages(), server.queued_bytes()), (0, 0));
    server.send(text("again")).unwrap();
    assert_eq!(
        server.send(Packet::Noop),
        Err(SendError::NotAMessage(Packet::Noop))
    );
}

#[test]
fn client_posts_stay_under_max_payload() {
    let server_config = Config {
        max_payload: 10,
        allow_upgrades: false,
        ..Config::default()
    };
    let mut pair = Pair::new(server_config, Config::default(), POLLING);
    pair.drive();
    for m in ["aaaa", "bbbb", "cccc", "dddddddddddddddd"] {
        pair.client
            .send(Packet::Message(Str::from_static(m)))
            .unwrap();
    }
    pair.drive();
    let posts: Vec<Vec<Packet>> = pair
        .wire
        .iter()
        .filter(|w| w.from == Side::Client && w.transport == POLLING)
        .map(|w| w.packets.clone())
        .collect();
    // 1 + 4 = 5, +2 +4 = 11 > 10: one per POST, and an oversized one still goes alone.
    assert_eq!(
        posts,
        vec![
            vec![text("aaaa")],
            vec![text("bbbb")],
            vec![text("cccc")],
            vec![text("dddddddddddddddd")]
        ]
    );
    assert_eq!(pair.server_messages().len(), 4);
}

#[test]
fn client_keeps_one_get_and_one_post_in_flight() {
    let now = Instant::now();
    let mut client = Session::connect(
        Config {
            allow_upgrades: false,
            ..Config::default()
        },
        POLLING,
        now,
    );
    assert_eq!(drain(&mut client), vec![(Transmit::Poll, vec![])]);
    client.send(text("a")).unwrap();
    // No POST before the handshake: there is no session id yet.
    assert_eq!(drain(&mut client), vec![]);
    let open = OpenPacket {
        sid: Str::from_static("s"),
        upgrades: vec![Str::from_static("websocket")],
        ping_interval: 25_000,
        ping_timeout: 20_000,
        max_payload: 1_000_000,
    };
    client.handle_packet(Packet::Open(open), POLLING, now);
    assert_eq!(events(&mut client), vec![Event::Opened]);
    // The GET that carried the handshake is still in flight.
    assert_eq!(
        drain(&mut client),
        vec![(Transmit::Send(POLLING), vec![text("a")])]
    );
    client.send(text("b")).unwrap();
    // POST in flight, GET in flight: nothing more.
    assert_eq!(drain(&mut client), vec![]);
    client.handle_post_done(now);
    assert_eq!(
        drain(&mut client),
        vec![(Transmit::Send(POLLING), vec![text("b")])]
    );
    client.handle_poll_done(now);
    assert_eq!(drain(&mut client), vec![(Transmit::Poll, vec![])]);
}

#[test]
fn extreme_handshake_timers_from_the_server_do_not_panic() {
    let now = Instant::now();
    for (interval, timeout) in [(u64::MAX, u64::MAX), (0, 0), (u64::MAX, 0)] {
        let mut client = Session::connect(Config::default(), WS, now);
        let open = OpenPacket {
            sid: Str::from_static("s"),
            upgrades: vec![],
            ping_interval: interval,
            ping_timeout: timeout,
            max_payload: 0,
        };
        client.handle_packet(Packet::Open(open), WS, now);
        let at = client.poll_timeout().unwrap();
        assert!(at > now);
        client.handle_timeout(at);
        assert!(client.poll_timeout().is_none_or(|next| next > at) || client.is_closed());
    }
}

#[test]
fn client_close_before_the_handshake_is_immediate() {
    let now = Instant::now();
    let mut client = Session::connect(Config::default(), POLLING, now);
    assert_eq!(drain(&mut client), vec![(Transmit::Poll, vec![])]);
    client.send(text("never sent")).unwrap();
    client.close(CloseReason::ForcedClose, now);
    assert_eq!(events(&mut client), vec![closed(CloseReason::ForcedClose)]);
    // The handshake GET in flight is abandoned.
    assert_eq!(drain(&mut client), vec![(Transmit::Close(POLLING), vec![])]);
}

#[test]
fn client_polling_close_gives_up_when_the_post_never_ends() {
    let mut pair = Pair::new(
        Config {
            allow_upgrades: false,
            ..Config::default()
        },
        Config::default(),
        POLLING,
    );
    pair.drive();
    let now = pair.now;
    pair.client.send(text("a")).unwrap();
    let mut out = Vec::new();
    assert_eq!(
        pair.client.poll_transmit(&mut out),
        Some(Transmit::Send(POLLING))
    );
    // The POST hangs; the close packet waits behind it, then the session gives up.
    pair.client.close(CloseReason::ForcedClose, now);
    assert_eq!(pair.client.poll_transmit(&mut out), None);
    pair.client.handle_timeout(now + secs(30));
    assert_eq!(
        events(&mut pair.client).last(),
        Some(&closed(CloseReason::ForcedClose))
    );
}

// ---------------------------------------------------------------------------------------------
// Randomized: whatever the interleaving of sends, partial steps and time, across the upgrade,
// every message arrives exactly once and in order, and nobody closes.

#[derive(Debug, Clone)]
enum Op {
    ServerSend,
    ClientSend,
    StepClient,
    StepServer,
    Advance(u64),
    Drive,
    ReleasePost,
}

fn op() -> impl proptest::strategy::Strategy<Value = Op> {
    use proptest::prelude::*;
    prop_oneof![
        3 => Just(Op::ServerSend),
        3 => Just(Op::ClientSend),
        3 => Just(Op::StepClient),
        3 => Just(Op::StepServer),
        1 => (0u64..60_000).prop_map(Op::Advance),
        1 => Just(Op::Drive),
        2 => Just(Op::ReleasePost),
    ]
}

proptest::proptest! {
    #[test]
    fn messages_survive_any_interleaving(
        ops in proptest::collection::vec(op(), 0..200),
        start_on_websocket: bool,
        refuse_ws: bool,
        delay_posts: bool,
        v3: bool,
    ) {
        #[cfg_attr(not(feature = "v3"), allow(unused_mut))]
        let mut config = Config::default();
        #[cfg(feature = "v3")]
        if v3 {
            config.protocol = crate::ProtocolVersion::V3;
        }
        let _ = v3;
        let transport = if start_on_websocket { WS } else { POLLING };
        let mut pair = Pair::new(config.clone(), config, transport);
        pair.refuse_ws = refuse_ws;
        pair.delay_posts = delay_posts;
        let (mut to_client, mut to_server) = (Vec::new(), Vec::new());
        for op in ops {
            match op {
                Op::ServerSend => {
                    if let Some(server) = pair.server.as_mut() {
                        let m = Str::from(format!("s{}", to_client.len()));
                        server.send(Packet::Message(m.clone())).unwrap();
                        to_client.push(Event::Message(m));
                    }
                }
                Op::ClientSend => {
                    let m = Str::from(format!("c{}", to_server.len()));
                    pair.client.send(Packet::Message(m.clone())).unwrap();
                    to_server.push(Event::Message(m));
                }
                Op::StepClient => {
                    pair.step_client();
                }
                Op::StepServer => {
                    pair.step_server();
                }
                Op::Advance(ms) => pair.advance(Duration::from_millis(ms)),
                Op::Drive => pair.drive(),
                Op::ReleasePost => {
                    pair.release_post();
                }
            }
            pair.collect_events();
        }
        pair.advance(ms(1));
        proptest::prop_assert_eq!(pair.client_messages(), to_client);
        proptest::prop_assert_eq!(pair.server_messages(), to_server);
        proptest::prop_assert!(!pair.client.is_closed());
        proptest::prop_assert!(!pair.server().is_closed());
        if !start_on_websocket {
            let upgraded = !refuse_ws;
            proptest::prop_assert_eq!(pair.client.transport() == WS, upgraded);
        }
    }
}
