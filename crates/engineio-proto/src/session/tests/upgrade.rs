//! Upgrade

#![allow(clippy::unwrap_used, reason = "tests")]

use super::*;

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
        pair.server().handle_post_request(now),
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

fn open_offering_websocket() -> Packet {
    Packet::Open(Box::new(OpenPacket {
        sid: Str::from_static("s"),
        upgrades: vec![Str::from_static("websocket")],
        ping_interval: 25_000,
        ping_timeout: 20_000,
        max_payload: 1_000_000,
    }))
}

/// Client side, scripted: connect the WebSocket, `2probe`, `3probe`, wait for the GET in flight,
/// then `5` first and the queue after it, all on the WebSocket.
#[test]
fn client_probe_pauses_polling_then_switches() {
    let t0 = Instant::now();
    let mut client = Session::connect(Config::default(), POLLING, t0);
    assert_eq!(drain(&mut client), vec![(Transmit::Poll, vec![])]);
    client.handle_packet(open_offering_websocket(), POLLING, t0);
    client.handle_poll_done(t0);
    assert_eq!(
        drain(&mut client),
        vec![(Transmit::Connect(WS), vec![]), (Transmit::Poll, vec![])]
    );
    client.handle_transport_opened(WS, t0);
    client.send(text("a")).unwrap();
    assert_eq!(
        drain(&mut client),
        vec![
            (Transmit::Send(WS), vec![ping("probe")]),
            (Transmit::Send(POLLING), vec![text("a")]),
        ]
    );
    client.handle_packet(pong("probe"), WS, t0);
    client.send(text("b")).unwrap();
    // GET and POST still in flight: nothing moves, not even a new POST.
    assert_eq!(drain(&mut client), vec![]);
    assert!(client.is_upgrading());
    client.handle_post_done(t0);
    assert_eq!(drain(&mut client), vec![]);
    // The server releases the GET with a noop: now the switch happens.
    client.handle_packet(Packet::Noop, POLLING, t0);
    client.handle_poll_done(t0);
    assert_eq!(
        drain(&mut client),
        vec![(Transmit::Send(WS), vec![Packet::Upgrade, text("b")])]
    );
    assert_eq!(
        events(&mut client),
        vec![Event::Opened, Event::Upgraded(WS)]
    );
    assert_eq!(client.transport(), WS);
    // No GET follows once upgraded.
    assert_eq!(drain(&mut client), vec![]);
}

#[test]
fn client_probe_failure_closes_the_websocket_and_keeps_polling() {
    let t0 = Instant::now();
    let mut client = Session::connect(Config::default(), POLLING, t0);
    drain(&mut client);
    client.handle_packet(open_offering_websocket(), POLLING, t0);
    client.handle_poll_done(t0);
    drain(&mut client);
    client.handle_transport_opened(WS, t0);
    drain(&mut client);
    // Anything but `3probe` fails the probe (Node: "probe error").
    client.handle_packet(text("nope"), WS, t0);
    assert_eq!(drain(&mut client), vec![(Transmit::Close(WS), vec![])]);
    assert!(!client.is_upgrading() && !client.is_closed());
    client.send(text("still polling")).unwrap();
    assert_eq!(
        drain(&mut client),
        vec![(Transmit::Send(POLLING), vec![text("still polling")])]
    );
}

/// A server that closes once it answered the probe waits for the client's `5` and closes on the
/// WebSocket: engine.io-client has paused polling by then and ignores a failed probe, so closing
/// the probe would leave it waiting for a heartbeat timeout.
#[test]
fn close_during_an_answered_probe_waits_for_the_upgrade() {
    let mut pair = Pair::polling();
    pair.drive_until(|p| {
        matches!(
            p.server.as_ref().unwrap().upgrade,
            Upgrade::AwaitingUpgradePacket { .. }
        )
    });
    let now = pair.now;
    pair.server().close(CloseReason::ServerShuttingDown, now);
    assert!(!pair.server().is_closed(), "closed before the client's `5`");
    pair.drive();
    assert!(pair.server().is_closed());
    assert_eq!(
        pair.client.transport(),
        WS,
        "the client completed its upgrade"
    );
    assert!(pair.client.is_closed(), "the client saw the session end");
    assert!(pair.server_events.contains(&Event::Closed {
        reason: CloseReason::ServerShuttingDown,
        error: None
    }));
}
