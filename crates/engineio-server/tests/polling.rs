//! HTTP long-polling transcripts over loopback.

mod common;

use std::time::Duration;

use common::*;
use engineio_server::{CloseReason, Config, Cors, Message, SocketEvent};

fn config() -> Config {
    Config::default()
}

#[tokio::test]
async fn handshake_answers_the_open_packet() {
    let server = start(config()).await;
    let response = get(server.addr, "EIO=4&transport=polling").await;
    assert_eq!(response.status, 200);
    assert_eq!(
        response.header("content-type"),
        Some("text/plain; charset=UTF-8")
    );
    assert_eq!(response.header("cache-control"), Some("no-store"));
    let body = response.text();
    let sid = &body[9..29];
    assert_eq!(
        body,
        format!(
            r#"0{{"sid":"{sid}","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}}"#
        )
    );
    assert!(
        sid.bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_')
    );
    assert_eq!(server.engine.session_count(), 1);
}

#[tokio::test]
async fn post_then_get_echoes_text_and_binary() {
    let mut server = start(config()).await;
    let sid = handshake(server.addr).await;
    let query = format!("EIO=4&transport=polling&sid={sid}");

    let response = post(server.addr, &query, b"4hello\x1ebAQIDBA==").await;
    assert_eq!(response.status, 200);
    assert_eq!(response.text(), "ok");
    assert_eq!(response.header("content-type"), Some("text/html"));

    server.event(&sid, |e| *e == text("hello")).await;
    server
        .event(&sid, |e| {
            *e == SocketEvent::Message(Message::Binary(bytes_of(&[1, 2, 3, 4])))
        })
        .await;

    let response = get(server.addr, &query).await;
    assert_eq!(response.status, 200);
    assert_eq!(response.text(), "4hello\x1ebAQIDBA==");
}

fn bytes_of(data: &[u8]) -> bytes::Bytes {
    bytes::Bytes::copy_from_slice(data)
}

#[tokio::test]
async fn get_is_held_until_the_ping() {
    let mut config = config();
    config.ping_interval = Duration::from_millis(100);
    config.ping_timeout = Duration::from_millis(2000);
    let server = start(config).await;
    let sid = handshake(server.addr).await;
    let query = format!("EIO=4&transport=polling&sid={sid}");
    let response = get(server.addr, &query).await;
    assert_eq!(response.text(), "2");
    let response = post(server.addr, &query, b"3").await;
    assert_eq!(response.text(), "ok");
    let response = get(server.addr, &query).await;
    assert_eq!(response.text(), "2");
}

#[tokio::test]
async fn heartbeat_timeout_closes_the_session() {
    let mut config = config();
    config.ping_interval = Duration::from_millis(50);
    config.ping_timeout = Duration::from_millis(50);
    let mut server = start(config).await;
    let sid = handshake(server.addr).await;
    assert_eq!(server.closed(&sid).await, CloseReason::PingTimeout);
    let response = get(server.addr, &format!("EIO=4&transport=polling&sid={sid}")).await;
    assert_eq!(response.status, 400);
    assert_eq!(
        response.text(),
        r#"{"code":1,"message":"Session ID unknown"}"#
    );
}

#[tokio::test]
async fn error_answers_match_node() {
    let server = start(config()).await;
    let cases: &[(&str, &str, &str)] = &[
        (
            "GET",
            "EIO=4",
            r#"{"code":0,"message":"Transport unknown"}"#,
        ),
        (
            "GET",
            "EIO=4&transport=abc",
            r#"{"code":0,"message":"Transport unknown"}"#,
        ),
        (
            "GET",
            "EIO=4&transport=polling&sid=nope",
            r#"{"code":1,"message":"Session ID unknown"}"#,
        ),
        (
            "POST",
            "EIO=4&transport=polling",
            r#"{"code":2,"message":"Bad handshake method"}"#,
        ),
        (
            "PUT",
            "EIO=4&transport=polling",
            r#"{"code":2,"message":"Bad handshake method"}"#,
        ),
        (
            "GET",
            "EIO=4&transport=websocket",
            r#"{"code":3,"message":"Bad request"}"#,
        ),
        (
            "GET",
            "transport=polling",
            r#"{"code":5,"message":"Unsupported protocol version"}"#,
        ),
        (
            "GET",
            "EIO=abc&transport=polling",
            r#"{"code":5,"message":"Unsupported protocol version"}"#,
        ),
        (
            "GET",
            "EIO=3&transport=polling",
            r#"{"code":5,"message":"Unsupported protocol version"}"#,
        ),
    ];
    for (method, query, body) in cases {
        let response = raw(
            server.addr,
            format!(
                "{method} /engine.io/?{query} HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            )
            .as_bytes(),
        )
        .await;
        assert_eq!(response.status, 400, "{method} {query}");
        assert_eq!(response.header("content-type"), Some("application/json"));
        assert_eq!(response.text(), *body, "{method} {query}");
    }
    // Outside the path: not ours.
    let response = raw(
        server.addr,
        b"GET /other HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert_eq!(response.status, 404);
    assert_eq!(server.engine.session_count(), 0);
}

#[tokio::test]
async fn oversized_posts_get_413() {
    let mut config = config();
    config.max_http_buffer_size = 100;
    let mut server = start(config).await;
    let sid = handshake(server.addr).await;
    let query = format!("EIO=4&transport=polling&sid={sid}");
    // Declared too large: refused before the body is read.
    let big = vec![b'4'; 101];
    assert_eq!(post(server.addr, &query, &big).await.status, 413);
    // Chunked, no length announced: refused once 100 bytes were read.
    let mut request = format!(
        "POST /engine.io/?{query} HTTP/1.1\r\nHost: t\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n"
    )
    .into_bytes();
    for _ in 0..3 {
        request.extend_from_slice(b"32\r\n");
        request.extend_from_slice(&[b'4'; 50]);
        request.extend_from_slice(b"\r\n");
    }
    request.extend_from_slice(b"0\r\n\r\n");
    assert_eq!(raw(server.addr, &request).await.status, 413);
    // Exactly at the limit is fine.
    let mut fits = vec![b'x'; 100];
    fits[0] = b'4';
    let response = post(server.addr, &query, &fits).await;
    assert_eq!(response.status, 200);
    server
        .event(
            &sid,
            |e| matches!(e, SocketEvent::Message(Message::Text(t)) if t.len() == 99),
        )
        .await;
}

#[tokio::test]
async fn a_second_get_closes_the_session() {
    let mut server = start(config()).await;
    let sid = handshake(server.addr).await;
    let query = format!("EIO=4&transport=polling&sid={sid}");
    let addr = server.addr;
    let first = tokio::spawn({
        let query = query.clone();
        async move { get(addr, &query).await }
    });
    // Let the first GET be held (a later GET still overlaps if it is not: then it gets `1`).
    tokio::time::sleep(Duration::from_millis(100)).await;
    let second = get(addr, &query).await;
    assert_eq!(second.status, 400);
    let first = first.await.unwrap();
    assert_eq!(first.status, 200);
    assert_eq!(first.text(), "1");
    assert_eq!(server.closed(&sid).await, CloseReason::TransportError);
    assert_eq!(get(addr, &query).await.status, 400);
}

#[tokio::test]
async fn client_close_releases_the_held_get_with_a_noop() {
    let mut server = start(config()).await;
    let sid = handshake(server.addr).await;
    let query = format!("EIO=4&transport=polling&sid={sid}");
    let addr = server.addr;
    let held = tokio::spawn({
        let query = query.clone();
        async move { get(addr, &query).await }
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(post(addr, &query, b"1").await.text(), "ok");
    assert_eq!(held.await.unwrap().text(), "6");
    assert_eq!(server.closed(&sid).await, CloseReason::TransportClose);
}

#[tokio::test]
async fn invalid_payload_is_a_parse_error() {
    let mut server = start(config()).await;
    let sid = handshake(server.addr).await;
    let query = format!("EIO=4&transport=polling&sid={sid}");
    // Node answers `ok` and closes the session.
    assert_eq!(post(server.addr, &query, b"abc").await.status, 200);
    assert_eq!(server.closed(&sid).await, CloseReason::ParseError);
    assert_eq!(get(server.addr, &query).await.status, 400);
}

#[tokio::test]
async fn server_close_flushes_then_sends_close() {
    let mut server = start(config()).await;
    let sid = handshake(server.addr).await;
    let socket = match server.seen.recv().await {
        Some(Seen::Connected(socket)) => socket,
        other => panic!("{other:?}"),
    };
    socket.send("bye").unwrap();
    socket.close();
    let query = format!("EIO=4&transport=polling&sid={sid}");
    // As Node: the queue drains first, the close packet comes in the next response.
    assert_eq!(get(server.addr, &query).await.text(), "4bye");
    assert_eq!(get(server.addr, &query).await.text(), "1");
    assert_eq!(server.closed(&sid).await, CloseReason::ForcedClose);
}

#[tokio::test]
async fn cors_headers_and_preflight() {
    let mut config = config();
    config.cors = Some(Cors::list(["https://good.example"]).with_credentials(true));
    let server = start(config).await;
    let response = raw(
        server.addr,
        b"OPTIONS /engine.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: t\r\nOrigin: https://good.example\r\nAccess-Control-Request-Headers: content-type\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert_eq!(response.status, 204);
    assert_eq!(
        response.header("access-control-allow-origin"),
        Some("https://good.example")
    );
    assert_eq!(
        response.header("access-control-allow-credentials"),
        Some("true")
    );
    assert_eq!(
        response.header("access-control-allow-methods"),
        Some("GET,HEAD,PUT,PATCH,POST,DELETE")
    );
    assert_eq!(
        response.header("access-control-allow-headers"),
        Some("content-type")
    );
    let response = raw(
        server.addr,
        b"GET /engine.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: t\r\nOrigin: https://evil.example\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert_eq!(response.status, 200);
    assert_eq!(response.header("access-control-allow-origin"), None);
    assert_eq!(response.header("vary"), Some("Origin"));
    // Error answers carry CORS headers too (Node's middleware runs first).
    let response = raw(
        server.addr,
        b"GET /engine.io/?EIO=4 HTTP/1.1\r\nHost: t\r\nOrigin: https://good.example\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert_eq!(response.status, 400);
    assert_eq!(
        response.header("access-control-allow-origin"),
        Some("https://good.example")
    );
}

#[tokio::test]
async fn garbage_never_takes_the_server_down() {
    let server = start(config()).await;
    for junk in [
        &b"\x00\x01\x02\xff\r\n\r\n"[..],
        b"GET /engine.io/?EIO=4&transport=polling&sid=%ff%fe HTTP/1.1\r\nHost: t\r\n\r\n",
        b"POST /engine.io/?EIO=4&transport=polling&sid= HTTP/1.1\r\nContent-Length: 99999999999999999999\r\n\r\n",
    ] {
        let mut stream = tokio::net::TcpStream::connect(server.addr).await.unwrap();
        use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
        let _ = stream.write_all(junk).await;
        let mut sink = Vec::new();
        let _ = tokio::time::timeout(Duration::from_secs(1), stream.read_to_end(&mut sink)).await;
    }
    handshake(server.addr).await;
}

#[tokio::test]
async fn hooks_allow_request_headers_and_cookie() {
    use engineio_server::{Cookie, EngineIo};
    use http::HeaderValue;

    let mut config = config();
    config.cookie = Some(Cookie::default());
    let engine = EngineIo::builder(config)
        .allow_request(|request| {
            if request.headers.contains_key("x-token") {
                Ok(())
            } else {
                Err(r#"no "token""#.to_owned())
            }
        })
        .headers(|_, headers| {
            headers.insert("x-every", HeaderValue::from_static("1"));
        })
        .initial_headers(|_, headers| {
            headers.insert("x-first", HeaderValue::from_static("1"));
        })
        .build(|_, _| {});
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(engine.serve(listener));

    let refused = get(addr, "EIO=4&transport=polling").await;
    assert_eq!(refused.status, 403);
    assert_eq!(refused.text(), r#"{"code":4,"message":"no \"token\""}"#);
    assert_eq!(refused.header("x-every"), None);

    let handshake = raw(
        addr,
        b"GET /engine.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: t\r\nX-Token: 1\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert_eq!(handshake.status, 200);
    let sid = &handshake.text()[9..29];
    assert_eq!(
        handshake.header("set-cookie"),
        Some(format!("io={sid}; Path=/; HttpOnly; SameSite=Lax").as_str())
    );
    assert_eq!(handshake.header("x-first"), Some("1"));
    assert_eq!(handshake.header("x-every"), Some("1"));

    // Later requests of the session are not asked about (as in Node) and get `headers` only.
    let query = format!("EIO=4&transport=polling&sid={sid}");
    let response = post(addr, &query, b"4x").await;
    assert_eq!(response.status, 200);
    assert_eq!(response.header("x-every"), Some("1"));
    assert_eq!(response.header("x-first"), None);
    assert_eq!(response.header("set-cookie"), None);
}

#[tokio::test]
async fn sockets_are_found_by_sid() {
    let server = start(config()).await;
    let sid = handshake(server.addr).await;
    let socket = server.engine.socket(&sid).expect("open session");
    assert_eq!(socket.id(), sid);
    assert_eq!(socket.protocol(), engineio_server::ProtocolVersion::V4);
    socket.send("pushed").unwrap();
    let query = format!("EIO=4&transport=polling&sid={sid}");
    assert_eq!(get(server.addr, &query).await.text(), "4pushed");
    assert!(server.engine.socket("nope").is_none());
}

#[tokio::test]
async fn async_allow_request_refuses_with_its_status() {
    use engineio_server::{EngineIo, Refusal};

    let engine = EngineIo::builder(config())
        .allow_request_async(|request| async move {
            // A lookup that waits, as a database check would.
            tokio::task::yield_now().await;
            match request.headers.get("authorization") {
                Some(token) if token == "Bearer good" => Ok(()),
                _ => {
                    Err(Refusal::forbidden("bad token").with_status(http::StatusCode::UNAUTHORIZED))
                }
            }
        })
        .build(|_, _| {});
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(engine.serve(listener));

    let refused = get(addr, "EIO=4&transport=polling").await;
    assert_eq!(refused.status, 401);
    assert_eq!(refused.text(), r#"{"code":4,"message":"bad token"}"#);
    let accepted = raw(
        addr,
        b"GET /engine.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer good\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert_eq!(accepted.status, 200);
    assert!(accepted.text().starts_with("0{\"sid\":"));
}

#[tokio::test]
async fn cors_origin_predicate() {
    let mut config = config();
    config.cors = Some(Cors::predicate(|origin| origin.ends_with(".good.example")));
    let server = start(config).await;
    let admitted = raw(
        server.addr,
        b"GET /engine.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: t\r\nOrigin: https://app.good.example\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert_eq!(
        admitted.header("access-control-allow-origin"),
        Some("https://app.good.example")
    );
    let refused = raw(
        server.addr,
        b"GET /engine.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: t\r\nOrigin: https://evil.example\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert_eq!(refused.header("access-control-allow-origin"), None);
    assert_eq!(refused.header("vary"), Some("Origin"));
}
