//! Polling GET semantics and limits

#![allow(clippy::unwrap_used, reason = "tests")]

use super::*;

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
    client.handle_packet(Packet::Open(Box::new(open)), POLLING, now);
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
        client.handle_packet(Packet::Open(Box::new(open)), WS, now);
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
