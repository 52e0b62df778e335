//! Close

#![allow(clippy::unwrap_used, reason = "tests")]

use super::*;

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
    // As Node: the queue drains first, the close packet comes in the next response.
    let mut from_server = pair.wire.iter().filter(|w| w.from == Side::Server).rev();
    assert_eq!(from_server.next().unwrap().packets, vec![Packet::Close]);
    assert_eq!(from_server.next().unwrap().packets, vec![text("bye")]);
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
fn server_shutting_down_waits_briefly_for_a_get() {
    let t0 = Instant::now();
    let mut server = Session::accept(Str::from_static("s"), Config::default(), POLLING, t0);
    server.handle_poll_request(t0).unwrap();
    drain(&mut server);
    server.close(CloseReason::ServerShuttingDown, t0);
    assert_eq!(events(&mut server), vec![]);
    // The next GET carries the close packet.
    server.handle_poll_request(t0).unwrap();
    assert_eq!(
        drain(&mut server),
        vec![(Transmit::Send(POLLING), vec![Packet::Close])]
    );
    assert_eq!(
        events(&mut server),
        vec![closed(CloseReason::ServerShuttingDown)]
    );
    // Without a GET, the session ends after a short wait, not after `close_timeout`.
    let mut server = Session::accept(Str::from_static("s"), Config::default(), POLLING, t0);
    server.handle_poll_request(t0).unwrap();
    drain(&mut server);
    server.close(CloseReason::ServerShuttingDown, t0);
    assert_eq!(server.poll_timeout(), Some(t0 + SHUTDOWN_GET_WAIT));
    server.handle_timeout(t0 + SHUTDOWN_GET_WAIT);
    assert_eq!(
        events(&mut server),
        vec![closed(CloseReason::ServerShuttingDown)]
    );
    assert_eq!(server.handle_poll_request(t0), Err(PollError::Closed));
    // With a GET held, the close packet goes out on it at once.
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
fn stray_open_upgrade_and_noop_are_ignored_as_node_does() {
    let now = Instant::now();
    let open = OpenPacket {
        sid: Str::from_static("x"),
        upgrades: vec![],
        ping_interval: 1,
        ping_timeout: 1,
        max_payload: 1,
    };
    for packet in [Packet::Open(Box::new(open)), Packet::Upgrade, Packet::Noop] {
        let mut server = Session::accept(Str::from_static("s"), Config::default(), WS, now);
        server.handle_packet(packet, WS, now);
        assert!(events(&mut server).is_empty());
        assert!(!server.is_closed());
        // The session still works afterwards.
        server.handle_packet(text("after"), WS, now);
        assert_eq!(
            events(&mut server),
            vec![Event::Message(Str::from_static("after"))]
        );
    }
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
