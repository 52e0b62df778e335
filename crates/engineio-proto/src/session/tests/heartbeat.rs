//! Heartbeat

#![allow(clippy::unwrap_used, reason = "tests")]

use super::*;

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
