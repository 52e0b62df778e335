//! The few Engine.IO v4 / Socket.IO v5 packets the load generator speaks, over WebSocket.
//!
//! WebSocket sessions start directly on the WebSocket transport
//! (`/socket.io/?EIO=4&transport=websocket`), as a client does with `transports: ["websocket"]`.

use std::io::{self, Write as _};
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use crate::ws::{self, Opcode, WsReader, WsWriter};

/// The Engine.IO path of every server in the benchmark.
pub const WS_PATH: &str = "/socket.io/?EIO=4&transport=websocket";

/// A connected Socket.IO session on the main namespace.
#[derive(Debug)]
pub struct Session {
    /// Receiving half.
    pub reader: WsReader,
    /// Sending half.
    pub writer: WsWriter,
    /// The server's `pingInterval`.
    pub ping_interval: Duration,
}

/// Whether an Engine.IO text message is a ping (`2`).
pub fn is_ping(payload: &[u8]) -> bool {
    payload == b"2"
}

/// Answers the WebSocket-level pings the reader collected (servers here do not send any, but
/// a peer may).
///
/// # Errors
///
/// When the connection fails.
pub async fn answer_ws_pings(reader: &mut WsReader, writer: &mut WsWriter) -> io::Result<()> {
    for ping in reader.take_pings() {
        writer.send_pong(&ping).await?;
    }
    Ok(())
}

/// Opens a WebSocket session and joins the main namespace: Engine.IO open (`0{…}`), Socket.IO
/// CONNECT (`40`) and its answer (`40{"sid":…}`).
///
/// # Errors
///
/// When the connection fails or the server answers something else.
pub async fn connect(addr: SocketAddr, source: Option<SocketAddr>) -> io::Result<Session> {
    let (mut reader, mut writer) = ws::connect(addr, source, WS_PATH).await?;
    let frame = reader.next_frame().await?;
    let open = reader.payload(&frame);
    if frame.opcode != Opcode::Text || open.first() != Some(&b'0') {
        return Err(io::Error::other("expected the Engine.IO open packet"));
    }
    let ping_interval = serde_json::from_slice::<serde_json::Value>(&open[1..])
        .ok()
        .and_then(|v| v.get("pingInterval").and_then(serde_json::Value::as_u64))
        .map_or(Duration::from_secs(25), Duration::from_millis);
    writer.send_text(b"40").await?;
    loop {
        let frame = reader.next_frame().await?;
        let payload = reader.payload(&frame);
        if is_ping(payload) {
            writer.send_text(b"3").await?;
        } else if payload.starts_with(b"40") {
            return Ok(Session {
                reader,
                writer,
                ping_interval,
            });
        } else if payload.starts_with(b"44") {
            return Err(io::Error::other(format!(
                "connect refused: {}",
                String::from_utf8_lossy(payload)
            )));
        }
    }
}

/// The ack id of an ACK (`43<id>[…]`) or BINARY_ACK (`46<n>-<id>[…]`) on the main namespace,
/// with the number of attachments that follow.
pub fn parse_ack(payload: &[u8]) -> Option<(u64, usize)> {
    let rest = payload.strip_prefix(b"4")?;
    let (rest, attachments) = match rest.first()? {
        b'3' => (&rest[1..], 0),
        b'6' => {
            let rest = &rest[1..];
            let dash = rest.iter().position(|&b| b == b'-')?;
            let n = parse_u64(&rest[..dash])?;
            (&rest[dash + 1..], usize::try_from(n).ok()?)
        }
        _ => return None,
    };
    let end = rest.iter().position(|&b| !b.is_ascii_digit())?;
    Some((parse_u64(&rest[..end])?, attachments))
}

/// Parses ASCII digits.
pub fn parse_u64(digits: &[u8]) -> Option<u64> {
    if digits.is_empty() || digits.len() > 19 {
        return None;
    }
    digits.iter().try_fold(0u64, |acc, &b| {
        b.is_ascii_digit().then(|| acc * 10 + u64::from(b - b'0'))
    })
}

/// Writes `42<id>["echo","<payload>"]` (a 64-byte payload is a 64-character string).
pub fn echo_event(out: &mut Vec<u8>, id: u64, payload: &str) {
    out.clear();
    let _ = write!(out, "42{id}[\"echo\",\"{payload}\"]");
}

/// Writes `451-<id>["echo",{"_placeholder":true,"num":0}]`, the text part of an `echo` with
/// one binary argument.
pub fn binary_echo_event(out: &mut Vec<u8>, id: u64) {
    out.clear();
    let _ = write!(
        out,
        "451-{id}[\"echo\",{{\"_placeholder\":true,\"num\":0}}]"
    );
}

/// A string argument of exactly `len` bytes that starts with `prefix` (the rest is filler).
pub fn padded(prefix: &str, len: usize) -> String {
    let mut s = String::with_capacity(len.max(prefix.len()));
    s.push_str(prefix);
    while s.len() < len {
        s.push('x');
    }
    s
}

/// Source ports handed out in turn for each source address, skipping 44000–44999 (where the
/// runner puts its servers) and the ports below 10000.
#[derive(Debug)]
struct SourcePorts {
    next: Vec<u16>,
}

impl SourcePorts {
    const FIRST: u16 = 10_000;

    fn new(sources: usize) -> Self {
        Self {
            next: vec![Self::FIRST; sources],
        }
    }

    fn take(&mut self, source: usize) -> u16 {
        let port = self.next[source];
        let mut next = port.checked_add(1).unwrap_or(Self::FIRST);
        if (44_000..45_000).contains(&next) {
            next = 45_000;
        }
        self.next[source] = next;
        port
    }
}

/// Opens `n` sessions, at most `concurrency` handshakes at a time: the sessions that
/// connected (in no particular order), the number that failed, and the seconds it took.
/// With `sources`, connections come from those addresses in turn, each with a source port
/// chosen here (a taken port is skipped).
///
/// Must run inside a [`tokio::task::LocalSet`].
pub async fn connect_many(
    addr: SocketAddr,
    sources: &[IpAddr],
    n: usize,
    concurrency: usize,
) -> (Vec<Session>, usize, f64) {
    let start = std::time::Instant::now();
    let permits = std::rc::Rc::new(tokio::sync::Semaphore::new(concurrency.max(1)));
    let ports = std::rc::Rc::new(std::cell::RefCell::new(SourcePorts::new(sources.len())));
    let mut tasks = Vec::with_capacity(n);
    for i in 0..n {
        let permits = permits.clone();
        let ports = ports.clone();
        let source = (!sources.is_empty()).then(|| (i % sources.len(), sources[i % sources.len()]));
        tasks.push(tokio::task::spawn_local(async move {
            let _permit = permits.acquire().await.ok()?;
            let attempt = async {
                let mut tries = 0;
                loop {
                    let from =
                        source.map(|(k, ip)| SocketAddr::new(ip, ports.borrow_mut().take(k)));
                    match connect(addr, from).await {
                        Err(e)
                            if from.is_some()
                                && tries < 200
                                && matches!(
                                    e.kind(),
                                    io::ErrorKind::AddrInUse | io::ErrorKind::AddrNotAvailable
                                ) =>
                        {
                            tries += 1;
                        }
                        other => return other,
                    }
                }
            };
            match tokio::time::timeout(Duration::from_secs(30), attempt).await {
                Ok(Ok(session)) => Some(session),
                Ok(Err(_)) | Err(_) => None,
            }
        }));
    }
    let mut sessions = Vec::with_capacity(n);
    let mut failed = 0;
    for task in tasks {
        match task.await {
            Ok(Some(session)) => sessions.push(session),
            _ => failed += 1,
        }
    }
    (sessions, failed, start.elapsed().as_secs_f64())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn acks_parse() {
        assert_eq!(parse_ack(b"4312[\"x\"]"), Some((12, 0)));
        assert_eq!(
            parse_ack(b"461-7[{\"_placeholder\":true,\"num\":0}]"),
            Some((7, 1))
        );
        assert_eq!(parse_ack(b"42[\"msg\"]"), None);
        assert_eq!(parse_ack(b"43[\"no id\"]"), None);
    }

    #[test]
    fn events_are_well_formed() {
        let mut out = Vec::new();
        let payload = padded("", 64);
        echo_event(&mut out, 5, &payload);
        let text = String::from_utf8(out.clone()).unwrap();
        assert!(text.starts_with("425["));
        let args: serde_json::Value = serde_json::from_str(&text[3..]).unwrap();
        assert_eq!(args[1].as_str().unwrap().len(), 64);
        binary_echo_event(&mut out, 9);
        assert_eq!(
            out,
            b"451-9[\"echo\",{\"_placeholder\":true,\"num\":0}]".to_vec()
        );
    }
}
