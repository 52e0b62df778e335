//! Bounded memory and dropped connections: the limits of a session, each with a test that fails
//! when the limit is gone.

mod common;

use std::time::Duration;

use common::*;
use engineio_server::{CloseReason, Config, EngineIo, Events, Socket, SocketEvent};
use tokio::net::TcpListener;
use tokio::sync::mpsc;

/// A server whose application holds each session's `Events` without reading them, and hands
/// them to the test.
async fn start_unread(
    config: Config,
) -> (
    std::net::SocketAddr,
    mpsc::UnboundedReceiver<(Socket, Events)>,
) {
    let (tx, rx) = mpsc::unbounded_channel();
    let engine = EngineIo::new(config, move |socket, events| {
        let _ = tx.send((socket, events));
    });
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(engine.serve(listener));
    (addr, rx)
}

#[tokio::test]
async fn dropped_held_get_is_a_transport_error() {
    let mut server = start(Config::default()).await;
    let sid = handshake(server.addr).await;
    let mut stream = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    use tokio::io::AsyncWriteExt as _;
    stream
        .write_all(
            format!(
                "GET /engine.io/?EIO=4&transport=polling&sid={sid} HTTP/1.1\r\nHost: t\r\n\r\n"
            )
            .as_bytes(),
        )
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    drop(stream);
    assert_eq!(server.closed(&sid).await, CloseReason::TransportError);
}

#[tokio::test]
async fn a_client_that_never_polls_is_closed_when_its_queue_overflows() {
    let mut config = Config::default();
    config.max_queued_packets = 10;
    let (addr, mut sessions) = start_unread(config).await;
    handshake(addr).await;
    let (socket, mut events) = sessions.recv().await.unwrap();
    for i in 0..11 {
        socket.send(format!("m{i}")).unwrap();
    }
    let closed = tokio::time::timeout(SOON, async {
        loop {
            match events.recv().await {
                Some(SocketEvent::Closed(reason)) => return reason,
                Some(_) => {}
                None => panic!("no close event"),
            }
        }
    })
    .await
    .unwrap();
    assert_eq!(closed, CloseReason::TransportError);
}

#[tokio::test]
async fn a_slow_application_holds_the_post() {
    let mut config = Config::default();
    config.max_pending_events = 4;
    let (addr, mut sessions) = start_unread(config).await;
    let sid = handshake(addr).await;
    let (_socket, mut events) = sessions.recv().await.unwrap();
    let query = format!("EIO=4&transport=polling&sid={sid}");
    // More messages than the application's channel (16) and backlog (4) hold: the POST is fed
    // as far as they go and answered only once all of its packets are in.
    let batch: Vec<u8> = (0..30)
        .map(|i| format!("4m{i}"))
        .collect::<Vec<_>>()
        .join("\x1e")
        .into_bytes();
    let pending = {
        let query = query.clone();
        tokio::spawn(async move { post(addr, &query, &batch).await })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        !pending.is_finished(),
        "POST answered while the backlog was full"
    );
    // Reading catches up and releases it; nothing was lost or reordered.
    for i in 0..30 {
        match tokio::time::timeout(SOON, events.recv()).await.unwrap() {
            Some(SocketEvent::Message(message)) => {
                assert_eq!(message, engineio_server::Message::from(format!("m{i}")));
            }
            other => panic!("{other:?}"),
        }
    }
    let response = tokio::time::timeout(SOON, pending).await.unwrap().unwrap();
    assert_eq!(response.text(), "ok");
    assert_eq!(post(addr, &query, b"4last").await.text(), "ok");
    assert_eq!(
        events.recv().await,
        Some(SocketEvent::Message("last".into()))
    );
}

#[tokio::test]
async fn a_slow_application_stops_websocket_reads() {
    let mut config = Config::default();
    config.max_pending_events = 4;
    config.ping_interval = Duration::from_millis(100);
    config.ping_timeout = Duration::from_millis(5000);
    let (addr, mut sessions) = start_unread(config).await;
    let mut ws = ws_connect(addr, "EIO=4&transport=websocket").await;
    ws_text(&mut ws).await;
    let (_socket, mut events) = sessions.recv().await.unwrap();
    for i in 0..100 {
        ws_send(&mut ws, &format!("4m{i}")).await;
    }
    // Timers still run while reads are paused: the ping arrives.
    assert_eq!(ws_text(&mut ws).await, "2");
    ws_send(&mut ws, "3").await;
    for i in 0..100 {
        match tokio::time::timeout(SOON, events.recv()).await.unwrap() {
            Some(SocketEvent::Message(message)) => {
                assert_eq!(message, engineio_server::Message::from(format!("m{i}")));
            }
            other => panic!("{other:?}"),
        }
    }
}

#[cfg(feature = "v3")]
#[tokio::test]
async fn eio3_handshake_when_allowed() {
    let mut config = Config::default();
    config.allow_eio3 = true;
    let server = start(config).await;
    let response = get(server.addr, "EIO=3&transport=polling").await;
    assert_eq!(response.status, 200);
    let body = response.text();
    // v3 string payload: `<length>:0{...}`; Node's engine.io 6 announces maxPayload to v3 too.
    let (len, packet) = body.split_once(':').unwrap();
    assert_eq!(len.parse::<usize>().unwrap(), packet.len());
    assert!(packet.starts_with(r#"0{"sid":""#));
    assert!(packet.ends_with(r#""pingTimeout":20000,"maxPayload":1000000}"#));
}

#[cfg(feature = "v3")]
#[tokio::test]
async fn eio3_polling_exchange_and_client_pings() {
    let mut config = Config::default();
    config.allow_eio3 = true;
    let server = start(config).await;
    let response = get(server.addr, "EIO=3&transport=polling&b64=1").await;
    let body = response.text();
    let sid = body[body.find(r#""sid":""#).unwrap() + 7..]
        .split('"')
        .next()
        .unwrap()
        .to_owned();
    let query = format!("EIO=3&transport=polling&b64=1&sid={sid}");
    // v3: the client pings, the server answers.
    assert_eq!(post(server.addr, &query, b"1:2").await.text(), "ok");
    assert_eq!(get(server.addr, &query).await.text(), "1:3");
    // Messages; a b64 client gets binary as `b4` + base64 in a string payload.
    assert_eq!(
        post(server.addr, &query, b"6:4hello10:b4AQIDBA==")
            .await
            .text(),
        "ok"
    );
    let mut server = server;
    server
        .event(&sid, |e| {
            matches!(e, SocketEvent::Message(engineio_server::Message::Binary(_)))
        })
        .await;
    assert_eq!(
        get(server.addr, &query).await.text(),
        "6:4hello10:b4AQIDBA=="
    );
}

/// Deterministic noise (xorshift), so a failure replays.
fn noise(seed: &mut u64, len: usize) -> Vec<u8> {
    (0..len)
        .map(|_| {
            *seed ^= *seed << 13;
            *seed ^= *seed >> 7;
            *seed ^= *seed << 17;
            // Bias towards bytes that mean something to the parsers.
            let b = (*seed >> 24) as u8;
            match b % 4 {
                0 => b"0123456b\x1e:{}\""[usize::from(b) % 14],
                _ => b,
            }
        })
        .collect()
}

#[tokio::test]
async fn random_payloads_never_take_the_server_down() {
    use futures_util::SinkExt as _;
    use tokio_tungstenite::tungstenite::Message as WsMessage;

    let mut config = Config::default();
    config.max_http_buffer_size = 4096;
    let server = start(config).await;
    let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
    for round in 0..40 {
        let sid = handshake(server.addr).await;
        let query = format!("EIO=4&transport=polling&sid={sid}");
        let len = 1 + (round * 37) % 200;
        let status = post(server.addr, &query, &noise(&mut seed, len))
            .await
            .status;
        assert!(matches!(status, 200 | 400), "{status}");
        let mut ws = ws_connect(server.addr, "EIO=4&transport=websocket").await;
        ws_text(&mut ws).await;
        let frame = noise(&mut seed, len);
        let message = match String::from_utf8(frame.clone()) {
            Ok(text) if round % 2 == 0 => WsMessage::text(text),
            _ => WsMessage::binary(frame),
        };
        let _ = ws.send(message).await;
        let _ = ws_next(&mut ws).await;
    }
    handshake(server.addr).await;
}

#[tokio::test]
async fn a_trickling_post_body_times_out() {
    let mut config = Config::default();
    config.ping_interval = Duration::from_millis(100);
    config.ping_timeout = Duration::from_millis(100);
    let server = start(config).await;
    let sid = handshake(server.addr).await;
    let mut stream = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    use tokio::io::AsyncWriteExt as _;
    // Ten bytes announced, two sent, and then nothing.
    stream
        .write_all(
            format!(
                "POST /engine.io/?EIO=4&transport=polling&sid={sid} HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\n4x"
            )
            .as_bytes(),
        )
        .await
        .unwrap();
    let response = read_response(&mut stream).await;
    assert_eq!(response.status, 408);
}
