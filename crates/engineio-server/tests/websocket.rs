//! WebSocket transcripts over loopback: direct sessions, upgrade from polling, limits, shutdown.

mod common;

use std::time::Duration;

use common::*;
use engineio_server::{CloseReason, Config, EngineIo, SocketEvent, TransportKind};
use futures_util::SinkExt as _;
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

fn open_sid(open: &str) -> String {
    assert!(open.starts_with('0'), "{open}");
    let value: serde_json::Value = serde_json::from_str(&open[1..]).unwrap();
    value["sid"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn direct_websocket_echoes_text_and_binary() {
    let mut server = start(Config::default()).await;
    let mut ws = ws_connect(server.addr, "EIO=4&transport=websocket").await;
    let open = ws_text(&mut ws).await;
    let sid = open_sid(&open);
    assert_eq!(
        open,
        format!(
            r#"0{{"sid":"{sid}","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}}"#
        )
    );
    ws_send(&mut ws, "4hello").await;
    assert_eq!(ws_text(&mut ws).await, "4hello");
    ws.send(WsMessage::binary(vec![1u8, 2, 3])).await.unwrap();
    match ws_next(&mut ws).await {
        Some(WsMessage::Binary(data)) => assert_eq!(&data[..], [1, 2, 3]),
        other => panic!("{other:?}"),
    }
    // A close packet ends the session and the server closes the socket.
    ws_send(&mut ws, "1").await;
    assert_eq!(server.closed(&sid).await, CloseReason::TransportClose);
    assert!(matches!(
        ws_next(&mut ws).await,
        None | Some(WsMessage::Close(_))
    ));
}

#[tokio::test]
async fn invalid_packet_closes_with_parse_error() {
    let mut server = start(Config::default()).await;
    let mut ws = ws_connect(server.addr, "EIO=4&transport=websocket").await;
    let sid = open_sid(&ws_text(&mut ws).await);
    ws_send(&mut ws, "abc").await;
    assert_eq!(server.closed(&sid).await, CloseReason::ParseError);
}

#[tokio::test]
async fn oversized_message_closes_with_1009() {
    let mut config = Config::default();
    config.max_http_buffer_size = 100;
    let mut server = start(config).await;
    let mut ws = ws_connect(server.addr, "EIO=4&transport=websocket").await;
    let sid = open_sid(&ws_text(&mut ws).await);
    ws_send(&mut ws, &format!("4{}", "x".repeat(200))).await;
    match ws_next(&mut ws).await {
        Some(WsMessage::Close(Some(frame))) => assert_eq!(frame.code, CloseCode::Size),
        other => panic!("{other:?}"),
    }
    assert_eq!(server.closed(&sid).await, CloseReason::TransportError);
}

#[tokio::test]
async fn ping_timeout_closes_the_websocket() {
    let mut config = Config::default();
    config.ping_interval = Duration::from_millis(50);
    config.ping_timeout = Duration::from_millis(50);
    let mut server = start(config).await;
    let mut ws = ws_connect(server.addr, "EIO=4&transport=websocket").await;
    let sid = open_sid(&ws_text(&mut ws).await);
    assert_eq!(ws_text(&mut ws).await, "2");
    // No pong.
    assert_eq!(server.closed(&sid).await, CloseReason::PingTimeout);
    assert!(matches!(
        ws_next(&mut ws).await,
        None | Some(WsMessage::Close(_))
    ));
}

#[tokio::test]
async fn answered_pings_keep_the_session() {
    let mut config = Config::default();
    config.ping_interval = Duration::from_millis(50);
    config.ping_timeout = Duration::from_millis(500);
    let server = start(config).await;
    let mut ws = ws_connect(server.addr, "EIO=4&transport=websocket").await;
    ws_text(&mut ws).await;
    for _ in 0..3 {
        assert_eq!(ws_text(&mut ws).await, "2");
        ws_send(&mut ws, "3").await;
    }
    assert_eq!(server.engine.session_count(), 1);
}

#[tokio::test]
async fn upgrade_from_polling_loses_and_reorders_nothing() {
    let mut server = start(Config::default()).await;
    let addr = server.addr;
    let sid = handshake(addr).await;
    let query = format!("EIO=4&transport=polling&sid={sid}");
    // The client keeps a GET held while it probes.
    let held = tokio::spawn({
        let query = query.clone();
        async move { get(addr, &query).await }
    });
    tokio::time::sleep(Duration::from_millis(50)).await;
    let mut ws = ws_connect(addr, &format!("EIO=4&transport=websocket&sid={sid}")).await;
    ws_send(&mut ws, "2probe").await;
    assert_eq!(ws_text(&mut ws).await, "3probe");
    // The held GET is released with a noop so that the client can pause polling.
    assert_eq!(held.await.unwrap().text(), "6");
    // Messages still arriving over polling are echoed into the queue (no GET is held now)...
    assert_eq!(post(addr, &query, b"4one\x1e4two").await.text(), "ok");
    server.event(&sid, |e| *e == text("two")).await;
    // ...and come out on the WebSocket, in order, once the upgrade completes.
    ws_send(&mut ws, "5").await;
    assert_eq!(ws_text(&mut ws).await, "4one");
    assert_eq!(ws_text(&mut ws).await, "4two");
    server
        .event(&sid, |e| {
            *e == SocketEvent::Upgraded(TransportKind::WebSocket)
        })
        .await;
    ws_send(&mut ws, "4three").await;
    assert_eq!(ws_text(&mut ws).await, "4three");
    // Polling is over for this session.
    let response = get(addr, &query).await;
    assert_eq!(response.status, 400);
    assert_eq!(response.text(), r#"{"code":3,"message":"Bad request"}"#);
    // A second WebSocket for the upgraded session is closed, the first one lives on.
    let mut second = ws_connect(addr, &format!("EIO=4&transport=websocket&sid={sid}")).await;
    assert!(matches!(
        ws_next(&mut second).await,
        None | Some(WsMessage::Close(_))
    ));
    ws_send(&mut ws, "4four").await;
    assert_eq!(ws_text(&mut ws).await, "4four");
}

#[tokio::test]
async fn failed_probe_leaves_polling_working() {
    let mut config = Config::default();
    config.upgrade_timeout = Duration::from_millis(100);
    let server = start(config).await;
    let addr = server.addr;
    let sid = handshake(addr).await;
    let query = format!("EIO=4&transport=polling&sid={sid}");
    let mut ws = ws_connect(addr, &format!("EIO=4&transport=websocket&sid={sid}")).await;
    // No probe: the upgrade times out and the WebSocket is closed.
    assert!(matches!(
        ws_next(&mut ws).await,
        None | Some(WsMessage::Close(_))
    ));
    assert_eq!(post(addr, &query, b"4still").await.text(), "ok");
    assert_eq!(get(addr, &query).await.text(), "4still");
}

#[tokio::test]
async fn unknown_sid_upgrade_is_refused() {
    let server = start(Config::default()).await;
    let stream = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    let url = format!(
        "ws://{}/engine.io/?EIO=4&transport=websocket&sid=nope",
        server.addr
    );
    match tokio_tungstenite::client_async(url, stream).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            assert_eq!(response.status(), 400);
        }
        other => panic!("{:?}", other.map(|_| ())),
    }
}

#[tokio::test]
async fn shutdown_closes_every_session() {
    let mut server = start(Config::default()).await;
    let mut ws = ws_connect(server.addr, "EIO=4&transport=websocket").await;
    let ws_sid = open_sid(&ws_text(&mut ws).await);
    let poll_sid = handshake(server.addr).await;
    server.engine.shutdown();
    let mut reasons = vec![server.closed(&ws_sid).await, server.closed(&poll_sid).await];
    reasons.dedup();
    assert_eq!(reasons, [CloseReason::ServerShuttingDown]);
    assert!(matches!(
        ws_next(&mut ws).await,
        None | Some(WsMessage::Close(_))
    ));
    tokio::time::timeout(SOON, async {
        while server.engine.session_count() > 0 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn layer_passes_other_paths_through() {
    use http_body_util::Full;
    use std::convert::Infallible;
    use tower_layer::Layer as _;
    use tower_service::Service as _;

    #[derive(Clone)]
    struct Hello;
    impl tower_service::Service<http::Request<Full<bytes::Bytes>>> for Hello {
        type Response = http::Response<Full<bytes::Bytes>>;
        type Error = Infallible;
        type Future = std::future::Ready<Result<Self::Response, Infallible>>;
        fn poll_ready(
            &mut self,
            _: &mut std::task::Context<'_>,
        ) -> std::task::Poll<Result<(), Infallible>> {
            std::task::Poll::Ready(Ok(()))
        }
        fn call(&mut self, _: http::Request<Full<bytes::Bytes>>) -> Self::Future {
            std::future::ready(Ok(http::Response::new(Full::new(
                bytes::Bytes::from_static(b"hello"),
            ))))
        }
    }

    let engine = EngineIo::new(Config::default(), |_, _| {});
    let mut service = engine.layer().layer(Hello);
    let request = |uri: &str| {
        http::Request::get(uri)
            .body(Full::new(bytes::Bytes::new()))
            .unwrap()
    };
    let response = service.call(request("/other")).await.unwrap();
    assert!(matches!(response.body(), http_body_util::Either::Right(_)));
    let response = service
        .call(request("/engine.io/?EIO=4&transport=polling"))
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(matches!(response.body(), http_body_util::Either::Left(_)));
    assert_eq!(engine.session_count(), 1);
}
