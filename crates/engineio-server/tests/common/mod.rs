//! Loopback helpers: a server on 127.0.0.1:0, raw HTTP/1.1 exchanges, WebSocket clients.

#![allow(dead_code, reason = "each test file uses a subset")]
#![allow(unreachable_pub, reason = "test helper module")]
#![allow(missing_docs, reason = "test helper module")]

use std::net::SocketAddr;
use std::time::Duration;

use engineio_server::{CloseReason, Config, EngineIo, Message, Socket, SocketEvent};
use futures_util::{SinkExt as _, StreamExt as _};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message as WsMessage;

/// Generous bound for anything that should happen "soon".
pub const SOON: Duration = Duration::from_secs(5);

/// What the echo application saw, per session.
#[derive(Debug)]
pub enum Seen {
    Connected(Socket),
    Event(String, SocketEvent),
}

pub struct TestServer {
    pub addr: SocketAddr,
    pub engine: EngineIo,
    pub seen: mpsc::UnboundedReceiver<Seen>,
    backlog: Vec<(String, SocketEvent)>,
}

/// An echo server (messages come back as they came) that reports what it sees.
pub async fn start(config: Config) -> TestServer {
    let (seen_tx, seen) = mpsc::unbounded_channel();
    let engine = EngineIo::new(config, move |socket, mut events| {
        let seen = seen_tx.clone();
        let _ = seen.send(Seen::Connected(socket.clone()));
        tokio::spawn(async move {
            while let Some(event) = events.recv().await {
                if let SocketEvent::Message(message) = &event {
                    let _ = socket.send(message.clone());
                }
                let _ = seen.send(Seen::Event(socket.id().to_owned(), event));
            }
        });
    });
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(engine.clone().serve(listener));
    TestServer {
        addr,
        engine,
        seen,
        backlog: Vec::new(),
    }
}

impl TestServer {
    /// Waits for the close reported for `sid`.
    pub async fn closed(&mut self, sid: &str) -> CloseReason {
        match self
            .event(sid, |e| matches!(e, SocketEvent::Closed(_)))
            .await
        {
            SocketEvent::Closed(reason) => reason,
            _ => unreachable!(),
        }
    }

    /// Waits for an event for `sid` matching `pred`; other events stay for later calls.
    pub async fn event(&mut self, sid: &str, pred: impl Fn(&SocketEvent) -> bool) -> SocketEvent {
        if let Some(at) = self.backlog.iter().position(|(id, e)| id == sid && pred(e)) {
            return self.backlog.remove(at).1;
        }
        tokio::time::timeout(SOON, async {
            loop {
                match self.seen.recv().await {
                    Some(Seen::Event(id, event)) if id == sid && pred(&event) => return event,
                    Some(Seen::Event(id, event)) => self.backlog.push((id, event)),
                    Some(Seen::Connected(_)) => {}
                    None => panic!("server gone"),
                }
            }
        })
        .await
        .expect("event not seen")
    }
}

pub fn text(message: &str) -> SocketEvent {
    SocketEvent::Message(Message::Text(message.to_owned().into()))
}

#[derive(Debug)]
pub struct HttpResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl HttpResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn text(&self) -> &str {
        std::str::from_utf8(&self.body).unwrap()
    }
}

/// Sends `request` (raw bytes) on a fresh connection and reads one response.
pub async fn raw(addr: SocketAddr, request: &[u8]) -> HttpResponse {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(request).await.unwrap();
    tokio::time::timeout(SOON, read_response(&mut stream))
        .await
        .expect("no response")
}

pub async fn read_response(stream: &mut TcpStream) -> HttpResponse {
    let mut buf = Vec::new();
    let head_end = loop {
        if let Some(at) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break at;
        }
        let mut chunk = [0u8; 4096];
        let n = stream.read(&mut chunk).await.unwrap();
        assert!(n > 0, "connection closed before a response: {buf:?}");
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = std::str::from_utf8(&buf[..head_end]).unwrap().to_owned();
    let mut lines = head.split("\r\n");
    let status = lines.next().unwrap()[9..12].parse().unwrap();
    let headers: Vec<(String, String)> = lines
        .map(|l| {
            let (n, v) = l.split_once(": ").unwrap();
            (n.to_owned(), v.to_owned())
        })
        .collect();
    let len: usize = headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
        .map_or(0, |(_, v)| v.parse().unwrap());
    let mut body = buf[head_end + 4..].to_vec();
    while body.len() < len {
        let mut chunk = [0u8; 4096];
        let n = stream.read(&mut chunk).await.unwrap();
        assert!(n > 0, "connection closed inside the body");
        body.extend_from_slice(&chunk[..n]);
    }
    HttpResponse {
        status,
        headers,
        body,
    }
}

pub async fn get(addr: SocketAddr, query: &str) -> HttpResponse {
    raw(
        addr,
        format!("GET /engine.io/?{query} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n")
            .as_bytes(),
    )
    .await
}

pub async fn post(addr: SocketAddr, query: &str, body: &[u8]) -> HttpResponse {
    let mut request = format!(
        "POST /engine.io/?{query} HTTP/1.1\r\nHost: test\r\nConnection: close\r\nContent-Type: text/plain;charset=UTF-8\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    request.extend_from_slice(body);
    raw(addr, &request).await
}

/// A polling handshake; returns the sid.
pub async fn handshake(addr: SocketAddr) -> String {
    let response = get(addr, "EIO=4&transport=polling").await;
    assert_eq!(response.status, 200, "{}", response.text());
    let open: serde_json::Value = serde_json::from_str(&response.text()[1..]).unwrap();
    open["sid"].as_str().unwrap().to_owned()
}

pub type Ws = tokio_tungstenite::WebSocketStream<TcpStream>;

pub async fn ws_connect(addr: SocketAddr, query: &str) -> Ws {
    let stream = TcpStream::connect(addr).await.unwrap();
    let url = format!("ws://{addr}/engine.io/?{query}");
    let (ws, _) = tokio_tungstenite::client_async(url, stream).await.unwrap();
    ws
}

/// The next data message (text or binary); `None` when the socket closed.
pub async fn ws_next(ws: &mut Ws) -> Option<WsMessage> {
    tokio::time::timeout(SOON, async {
        loop {
            match ws.next().await {
                Some(Ok(m @ (WsMessage::Text(_) | WsMessage::Binary(_) | WsMessage::Close(_)))) => {
                    return Some(m);
                }
                Some(Ok(_)) => {}
                Some(Err(_)) | None => return None,
            }
        }
    })
    .await
    .expect("websocket silent")
}

pub async fn ws_text(ws: &mut Ws) -> String {
    match ws_next(ws).await {
        Some(WsMessage::Text(text)) => text.as_str().to_owned(),
        other => panic!("expected text, got {other:?}"),
    }
}

pub async fn ws_send(ws: &mut Ws, text: &str) {
    ws.send(WsMessage::text(text)).await.unwrap();
}
