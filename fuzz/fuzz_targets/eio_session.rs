//! Drives an Engine.IO `Session` (server or client role) with an arbitrary sequence of inputs
//! decoded from the fuzz bytes, and checks that it never panics and keeps its invariants:
//! `Closed` is reported once, nothing but transport closes is transmitted after it, the queue
//! stays within its limits, and a fired timer never stays due.
#![no_main]

use std::time::{Duration, Instant};

use bytes::Bytes;
use engineio_proto::session::{
    Client, CloseReason, Config, Event, Role, Server, Session, Transmit, TransportEnd,
};
use engineio_proto::{OpenPacket, Packet, ProtocolVersion, Str, TransportKind};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let mut input = Reader(data);
    let flags = input.byte();
    let config = config(flags, &mut input);
    let transport = if flags & 2 == 0 {
        TransportKind::Polling
    } else {
        TransportKind::WebSocket
    };
    let start = Instant::now();
    if flags & 1 == 0 {
        let session = Session::accept(Str::from_static("fuzz"), config, transport, start);
        run(session, input, start, server_op, true);
    } else {
        let session = Session::connect(config, transport, start);
        run(session, input, start, client_op, false);
    }
});

/// A tiny cursor over the fuzz bytes; reads past the end yield zeros.
struct Reader<'a>(&'a [u8]);

impl Reader<'_> {
    fn byte(&mut self) -> u8 {
        match self.0.split_first() {
            Some((b, rest)) => {
                self.0 = rest;
                *b
            }
            None => 0,
        }
    }

    fn u16(&mut self) -> u16 {
        u16::from_le_bytes([self.byte(), self.byte()])
    }

    fn bytes(&mut self, max: usize) -> &[u8] {
        let len = usize::from(self.byte()) % (max + 1);
        let (head, rest) = self.0.split_at(len.min(self.0.len()));
        self.0 = rest;
        head
    }

    fn str(&mut self) -> Str {
        match self.byte() % 4 {
            0 => Str::new(),
            1 => Str::from_static("probe"),
            _ => Str::from(String::from_utf8_lossy(self.bytes(16)).into_owned()),
        }
    }

    fn transport(&mut self) -> TransportKind {
        if self.byte() & 1 == 0 {
            TransportKind::Polling
        } else {
            TransportKind::WebSocket
        }
    }

    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

fn config(flags: u8, input: &mut Reader<'_>) -> Config {
    let mut config = Config::default();
    if flags & 4 != 0 {
        config.protocol = ProtocolVersion::V3;
    }
    config.allow_upgrades = flags & 8 == 0;
    // Small, non-zero timers so that a few time steps reach every deadline.
    config.ping_interval = Duration::from_millis(u64::from(input.byte()) * 10 + 1);
    config.ping_timeout = Duration::from_millis(u64::from(input.byte()) * 10 + 1);
    config.upgrade_timeout = Duration::from_millis(u64::from(input.byte()) * 10 + 1);
    config.close_timeout = Duration::from_millis(u64::from(input.byte()) * 10 + 1);
    config.upgrade_noop_interval = Duration::from_millis(u64::from(input.byte() % 50) + 1);
    config.max_queued_packets = usize::from(input.byte() % 16);
    config.max_queued_bytes = usize::from(input.byte()) * 4;
    config.max_payload = u64::from(input.byte()) + 1;
    config
}

fn packet(input: &mut Reader<'_>) -> Packet {
    match input.byte() % 8 {
        0 => Packet::Open(Box::new(OpenPacket {
            sid: input.str(),
            upgrades: if input.byte() & 1 == 0 {
                vec![Str::from_static("websocket")]
            } else {
                Vec::new()
            },
            ping_interval: u64::from(input.u16()),
            ping_timeout: u64::from(input.u16()),
            max_payload: u64::from(input.u16()),
        })),
        1 => Packet::Close,
        2 => Packet::Ping(input.str()),
        3 => Packet::Pong(input.str()),
        4 => Packet::Message(input.str()),
        5 => Packet::Binary(Bytes::copy_from_slice(input.bytes(16))),
        6 => Packet::Upgrade,
        _ => Packet::Noop,
    }
}

fn close_reason(input: &mut Reader<'_>) -> CloseReason {
    match input.byte() % 3 {
        0 => CloseReason::ForcedClose,
        1 => CloseReason::ServerShuttingDown,
        _ => CloseReason::TransportClose,
    }
}

/// Role-specific inputs (`op` is 0, 1 or 2); returns false when the opcode is not one.
fn server_op(
    session: &mut Session<Server>,
    op: u8,
    input: &mut Reader<'_>,
    now: Instant,
    watch: &mut Watch,
) -> bool {
    match op {
        0 => {
            if session.handle_poll_request(now).is_ok() {
                watch.get_open = true;
            }
        }
        1 => {
            let _ = session.handle_upgrade_request(now);
        }
        _ => {
            let _ = input;
            let _ = session.handle_post_request(now);
        }
    }
    true
}

fn client_op(
    session: &mut Session<Client>,
    op: u8,
    input: &mut Reader<'_>,
    now: Instant,
    watch: &mut Watch,
) -> bool {
    match op {
        0 => {
            watch.get_open = false;
            session.handle_poll_done(now);
        }
        1 => {
            watch.post_open = false;
            session.handle_post_done(now);
        }
        2 => session.handle_transport_opened(input.transport(), now),
        _ => return false,
    }
    true
}

/// What the harness knows, as a driver would.
struct Watch {
    server: bool,
    closed: bool,
    /// Server: a GET is held. Client: a GET is in flight.
    get_open: bool,
    /// Client: a POST is in flight.
    post_open: bool,
}

fn run<R: Role>(
    mut session: Session<R>,
    mut input: Reader<'_>,
    start: Instant,
    role_op: fn(&mut Session<R>, u8, &mut Reader<'_>, Instant, &mut Watch) -> bool,
    server: bool,
) {
    let mut now = start;
    let mut watch = Watch {
        server,
        closed: false,
        get_open: false,
        post_open: false,
    };
    let max_packets = session.config().max_queued_packets;
    let max_bytes = session.config().max_queued_bytes;
    let mut steps = 0;
    while !input.is_empty() && steps < 2_000 {
        steps += 1;
        let op = input.byte();
        match op % 12 {
            0 => {
                let transport = input.transport();
                let packet = packet(&mut input);
                session.handle_packet(packet, transport, now);
            }
            1 => {
                let transport = input.transport();
                let end = if input.byte() & 1 == 0 {
                    TransportEnd::Closed
                } else {
                    TransportEnd::Error
                };
                session.handle_transport_closed(transport, end, now);
            }
            2 => session.handle_parse_error(input.transport(), now),
            3 => {
                now += Duration::from_millis(u64::from(input.u16()));
                session.handle_timeout(now);
            }
            4 => {
                // Jump to the next deadline and fire it: the timer must not stay due.
                if let Some(at) = session.poll_timeout() {
                    now = now.max(at);
                    session.handle_timeout(now);
                    if let Some(next) = session.poll_timeout() {
                        assert!(next > now, "timer still due after firing: {session:?}");
                    }
                }
            }
            5 => {
                let message = if input.byte() & 1 == 0 {
                    Packet::Message(input.str())
                } else {
                    Packet::Binary(Bytes::copy_from_slice(input.bytes(16)))
                };
                let result = session.send(message);
                if watch.closed {
                    assert!(result.is_err(), "send accepted after Closed");
                }
            }
            6 => session.close(close_reason(&mut input), now),
            7 => drain(&mut session, &mut watch),
            8..=10 => {
                if !role_op(&mut session, op % 3, &mut input, now, &mut watch) {
                    drain(&mut session, &mut watch);
                }
            }
            _ => drain_events(&mut session, &mut watch),
        }
        assert!(session.queued_messages() <= max_packets);
        assert!(session.queued_bytes() <= max_bytes);
        // Events first, so a Closed is seen before what follows it is checked.
        drain_events(&mut session, &mut watch);
    }
    drain(&mut session, &mut watch);
}

fn drain_events<R: Role>(session: &mut Session<R>, watch: &mut Watch) {
    while let Some(event) = session.poll_event() {
        assert!(!watch.closed, "event after Closed: {event:?}");
        if let Event::Closed { .. } = event {
            watch.closed = true;
            assert!(session.is_closed());
        }
    }
    if watch.closed {
        assert_eq!(session.poll_timeout(), None);
    }
}

fn drain<R: Role>(session: &mut Session<R>, watch: &mut Watch) {
    let mut out = Vec::new();
    let mut rounds = 0;
    while let Some(transmit) = session.poll_transmit(&mut out) {
        rounds += 1;
        assert!(rounds < 10_000, "poll_transmit never ends");
        match transmit {
            Transmit::Send(transport) => {
                assert!(!out.is_empty(), "empty send");
                assert!(!watch.closed, "sent after Closed: {out:?}");
                if transport == TransportKind::Polling {
                    if watch.server {
                        assert!(watch.get_open, "answered a GET that is not held");
                        watch.get_open = false;
                    } else {
                        assert!(!watch.post_open, "two POSTs at once");
                        watch.post_open = true;
                    }
                }
            }
            // Closing transports is all that may follow Closed.
            Transmit::Close(transport) => {
                assert!(out.is_empty());
                if transport == TransportKind::Polling {
                    watch.get_open = false;
                }
            }
            Transmit::Poll => {
                assert!(!watch.closed, "poll after Closed");
                assert!(!watch.get_open, "two GETs at once");
                watch.get_open = true;
                assert!(out.is_empty());
            }
            Transmit::Connect(_) => {
                assert!(!watch.closed, "{transmit:?} after Closed");
                assert!(out.is_empty());
            }
        }
        out.clear();
        drain_events(session, watch);
    }
}
