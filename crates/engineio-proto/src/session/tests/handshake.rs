//! Handshake

#![allow(clippy::unwrap_used, reason = "tests")]

use super::*;

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
        vec![(
            Transmit::Send(POLLING),
            vec![Packet::Open(Box::new(expected))]
        )]
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
