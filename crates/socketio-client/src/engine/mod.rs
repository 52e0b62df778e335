//! The Engine.IO client driver: one [`Engine`] per connection attempt, driving the sans-IO
//! [`Session<Client>`] over long-polling (hyper) and WebSocket (tokio-tungstenite).
//!
//! The engine is owned by the manager task, which feeds it the [`TransportEvent`]s that the
//! transport tasks send back and calls [`Engine::drive`] after each input. Transport tasks only
//! move bytes: every protocol decision (handshake, heartbeat, upgrade, batching) is the session's.
//!
//! ```text
//!   manager task ── send / close / handle ──► Engine ──► Session<Client>
//!        ▲                                      │ poll_transmit
//!        │ TransportEvent (tagged with the      ├── Poll ──────► GET task ───┐
//!        │ engine and WebSocket generation)     ├── Send(Polling) ► POST task ┤
//!        └──────────────────────────────────────┴── Send(WebSocket) / Connect ► WebSocket task
//! ```

mod polling;
mod url;
mod ws;

use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use engineio_proto::session::{CloseReason, Config, Event, Session, Transmit, TransportEnd};
use engineio_proto::{Client, Frame, Packet, ProtocolVersion, Str, TransportKind};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::ConnectError;

use polling::{HttpClient, polling_client};
pub(crate) use url::{EndpointUrl, parse_url};

/// How the engine reaches the server.
#[derive(Debug)]
pub(crate) struct EngineOptions {
    pub(crate) endpoint: EndpointUrl,
    /// Engine.IO path with its trailing slash (`/socket.io/`).
    pub(crate) path: String,
    pub(crate) query: Vec<(String, String)>,
    pub(crate) headers: http::HeaderMap,
    pub(crate) transports: Vec<TransportKind>,
    pub(crate) upgrade: bool,
    /// Largest polling response body read, in bytes (what a peer can make us buffer).
    pub(crate) max_response: usize,
}

impl EngineOptions {
    /// The request URL for `transport`, with the session id once known.
    pub(crate) fn url(&self, transport: TransportKind, sid: Option<&str>) -> String {
        let scheme = match (transport, self.endpoint.secure) {
            (TransportKind::Polling, false) => "http",
            (TransportKind::Polling, true) => "https",
            (TransportKind::WebSocket, false) => "ws",
            (TransportKind::WebSocket, true) => "wss",
        };
        let mut url = format!(
            "{scheme}://{}{}?EIO=4&transport={}",
            self.endpoint.authority,
            self.path,
            match transport {
                TransportKind::Polling => "polling",
                TransportKind::WebSocket => "websocket",
            }
        );
        if transport == TransportKind::Polling {
            // Node's client adds a cache-busting timestamp to polling requests.
            url.push_str("&t=");
            url.push_str(&url::timestamp());
        }
        if let Some(sid) = sid {
            url.push_str("&sid=");
            url::push_encoded(&mut url, sid);
        }
        for (key, value) in &self.query {
            url.push('&');
            url::push_encoded(&mut url, key);
            url.push('=');
            url::push_encoded(&mut url, value);
        }
        url
    }
}

/// What a transport task reports, tagged so that reports of an older engine or WebSocket are
/// recognised and dropped.
#[derive(Debug)]
pub(crate) struct Tagged {
    pub(crate) engine: u64,
    pub(crate) event: TransportEvent,
}

/// A transport task's report.
#[derive(Debug)]
pub(crate) enum TransportEvent {
    /// A GET completed: its packets, or the failure.
    Polled(Result<Vec<Packet>, TransportFailure>),
    /// A POST completed.
    Posted(Result<(), TransportFailure>),
    /// WebSocket `ws` connected; its writer.
    WsOpened(u64, mpsc::UnboundedSender<ws::Out>),
    /// WebSocket `ws` could not connect.
    WsFailed(u64),
    /// A message on WebSocket `ws`.
    WsFrame(u64, Frame),
    /// WebSocket `ws` ended.
    WsClosed(u64, TransportEnd),
}

/// A transport request that failed: the I/O error, or an answer that is not Engine.IO.
#[derive(Debug)]
pub(crate) enum TransportFailure {
    /// The request failed or the server answered with an error status: Node's message
    /// (`"xhr poll error"`, `"xhr post error"`) and what happened.
    Io(&'static str, String),
    /// The body did not decode.
    Parse,
}

/// What the engine reports to the manager.
#[derive(Debug)]
pub(crate) enum EngineEvent {
    Opened,
    Text(Str),
    Binary(Bytes),
    Closed(CloseReason),
}

/// One Engine.IO connection.
pub(crate) struct Engine {
    id: u64,
    session: Session<Client>,
    opts: Arc<EngineOptions>,
    http: HttpClient,
    tx: mpsc::UnboundedSender<Tagged>,
    get_task: Option<JoinHandle<()>>,
    post_tasks: Vec<JoinHandle<()>>,
    /// The current WebSocket (main transport, or the one being probed) and its generation.
    ws: Option<(u64, mpsc::UnboundedSender<ws::Out>)>,
    ws_task: Option<JoinHandle<()>>,
    ws_seq: u64,
    out: Vec<Packet>,
    events: Vec<EngineEvent>,
    /// The first transport failure, for the error message of a failed handshake.
    pub(crate) first_failure: Option<ConnectError>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("id", &self.id)
            .field("session", &self.session)
            .finish_non_exhaustive()
    }
}

impl Engine {
    /// Starts connecting: the handshake GET, or the WebSocket when polling is not allowed.
    pub(crate) fn start(
        id: u64,
        opts: Arc<EngineOptions>,
        tx: mpsc::UnboundedSender<Tagged>,
        now: Instant,
    ) -> Self {
        // A connection pool per Engine.IO connection: a kept-alive connection to a server that
        // went away must not carry the requests of the next connection.
        let http = polling_client();
        let transport = if opts.transports.contains(&TransportKind::Polling) {
            TransportKind::Polling
        } else {
            TransportKind::WebSocket
        };
        let mut config = Config::default();
        config.allow_upgrades = opts.upgrade && opts.transports.contains(&TransportKind::WebSocket);
        config.upgrades = vec![TransportKind::WebSocket];
        // Node's client queues without limit; keep a (generous) bound all the same.
        config.max_queued_packets = 1 << 20;
        config.max_queued_bytes = 256 << 20;
        let session = Session::connect(config, transport, now);
        let mut engine = Engine {
            id,
            session,
            opts,
            http,
            tx,
            get_task: None,
            post_tasks: Vec::new(),
            ws: None,
            ws_task: None,
            ws_seq: 0,
            out: Vec::new(),
            events: Vec::new(),
            first_failure: None,
        };
        if transport == TransportKind::WebSocket {
            engine.connect_ws();
        }
        engine
    }

    /// The engine generation this engine answers to.
    pub(crate) fn id(&self) -> u64 {
        self.id
    }

    /// Whether the handshake completed and the session is not closed.
    pub(crate) fn is_open(&self) -> bool {
        self.session.sid().is_some() && !self.session.is_closed()
    }

    /// Whether a message sent now is written at once (Node's `transport.writable`): used to
    /// drop volatile packets.
    pub(crate) fn is_writable(&self) -> bool {
        self.is_open() && self.session.queued_messages() == 0
    }

    /// The transport in use.
    pub(crate) fn transport(&self) -> TransportKind {
        self.session.transport()
    }

    /// Queues one Engine.IO message.
    pub(crate) fn send(&mut self, packet: Packet) -> bool {
        self.session.send(packet).is_ok()
    }

    /// Closes the session from this side ("forced close").
    pub(crate) fn close(&mut self, now: Instant) {
        self.session.close(CloseReason::ForcedClose, now);
    }

    /// The next instant the session needs [`Engine::handle_timeout`].
    pub(crate) fn poll_timeout(&self) -> Option<Instant> {
        self.session.poll_timeout()
    }

    /// A timer fired.
    pub(crate) fn handle_timeout(&mut self, now: Instant) {
        self.session.handle_timeout(now);
    }

    /// Feeds a transport task's report.
    pub(crate) fn handle(&mut self, event: TransportEvent, now: Instant) {
        match event {
            TransportEvent::Polled(Ok(packets)) => {
                self.get_task = None;
                for packet in packets {
                    self.session
                        .handle_packet(packet, TransportKind::Polling, now);
                }
                self.session.handle_poll_done(now);
            }
            TransportEvent::Polled(Err(failure)) => {
                self.get_task = None;
                self.polling_failed(failure, now);
            }
            TransportEvent::Posted(Ok(())) => self.session.handle_post_done(now),
            TransportEvent::Posted(Err(failure)) => self.polling_failed(failure, now),
            TransportEvent::WsOpened(ws, writer) => {
                if self.ws.as_ref().is_some_and(|(id, _)| *id == ws) {
                    self.ws = Some((ws, writer));
                    if self.session.transport() == TransportKind::Polling {
                        self.session
                            .handle_transport_opened(TransportKind::WebSocket, now);
                    }
                }
            }
            TransportEvent::WsFailed(ws) => {
                if self.is_current_ws(ws) {
                    self.ws = None;
                    self.first_failure
                        .get_or_insert_with(|| ConnectError::new("websocket error"));
                    self.session.handle_transport_closed(
                        TransportKind::WebSocket,
                        TransportEnd::Error,
                        now,
                    );
                }
            }
            TransportEvent::WsFrame(ws, frame) => {
                if self.is_current_ws(ws) {
                    match Packet::decode_frame(frame, ProtocolVersion::V4) {
                        Ok(packet) => {
                            self.session
                                .handle_packet(packet, TransportKind::WebSocket, now);
                        }
                        Err(_) => self
                            .session
                            .handle_parse_error(TransportKind::WebSocket, now),
                    }
                }
            }
            TransportEvent::WsClosed(ws, end) => {
                if self.is_current_ws(ws) {
                    self.ws = None;
                    self.session
                        .handle_transport_closed(TransportKind::WebSocket, end, now);
                }
            }
        }
    }

    fn is_current_ws(&self, ws: u64) -> bool {
        self.ws.as_ref().is_some_and(|(id, _)| *id == ws)
    }

    fn polling_failed(&mut self, failure: TransportFailure, now: Instant) {
        match failure {
            TransportFailure::Io(message, description) => {
                self.first_failure.get_or_insert_with(|| ConnectError {
                    message: message.into(),
                    data: Some(serde_json::json!({ "description": description })),
                });
                self.session.handle_transport_closed(
                    TransportKind::Polling,
                    TransportEnd::Error,
                    now,
                );
            }
            TransportFailure::Parse => {
                self.first_failure
                    .get_or_insert_with(|| ConnectError::new("parse error"));
                self.session.handle_parse_error(TransportKind::Polling, now);
            }
        }
    }

    /// Carries out what the session asks for, and returns what it reported.
    pub(crate) fn drive(&mut self) -> std::vec::Drain<'_, EngineEvent> {
        while let Some(transmit) = self.session.poll_transmit(&mut self.out) {
            match transmit {
                Transmit::Send(TransportKind::Polling) => {
                    let url = self.opts.url(TransportKind::Polling, self.sid());
                    let task = polling::post(
                        self.http.clone(),
                        url,
                        self.opts.clone(),
                        &self.out,
                        self.id,
                        self.tx.clone(),
                    );
                    self.post_tasks.retain(|t| !t.is_finished());
                    self.post_tasks.push(task);
                }
                Transmit::Send(TransportKind::WebSocket) => {
                    if let Some((_, writer)) = &self.ws {
                        for packet in self.out.drain(..) {
                            let _ =
                                writer.send(ws::Out::Frame(packet.to_frame(ProtocolVersion::V4)));
                        }
                    }
                }
                Transmit::Poll => {
                    let url = self.opts.url(TransportKind::Polling, self.sid());
                    self.get_task = Some(polling::get(
                        self.http.clone(),
                        url,
                        self.opts.clone(),
                        self.id,
                        self.tx.clone(),
                    ));
                }
                Transmit::Connect(TransportKind::WebSocket) => self.connect_ws(),
                Transmit::Connect(TransportKind::Polling) => {}
                Transmit::Close(TransportKind::Polling) => {
                    if let Some(task) = self.get_task.take() {
                        task.abort();
                    }
                }
                Transmit::Close(TransportKind::WebSocket) => {
                    if let Some((_, writer)) = self.ws.take() {
                        let _ = writer.send(ws::Out::Close);
                    }
                }
            }
            self.out.clear();
        }
        while let Some(event) = self.session.poll_event() {
            match event {
                Event::Opened => self.events.push(EngineEvent::Opened),
                Event::Message(text) => self.events.push(EngineEvent::Text(text)),
                Event::Binary(data) => self.events.push(EngineEvent::Binary(data)),
                Event::Closed { reason, .. } => self.events.push(EngineEvent::Closed(reason)),
                Event::Upgraded(_) => tracing::debug!("engine upgraded to websocket"),
                _ => {}
            }
        }
        self.events.drain(..)
    }

    fn sid(&self) -> Option<&str> {
        self.session.sid().map(|s| &**s)
    }

    fn connect_ws(&mut self) {
        self.ws_seq += 1;
        let ws_id = self.ws_seq;
        let url = self.opts.url(TransportKind::WebSocket, self.sid());
        // The writer is set once the handshake succeeded; until then the id marks it as ours.
        let (placeholder, _) = mpsc::unbounded_channel();
        self.ws = Some((ws_id, placeholder));
        if let Some(task) = self.ws_task.take() {
            task.abort();
        }
        self.ws_task = Some(ws::connect(
            url,
            self.opts.clone(),
            self.id,
            ws_id,
            self.tx.clone(),
        ));
    }
}

impl Drop for Engine {
    fn drop(&mut self) {
        if let Some(task) = self.get_task.take() {
            task.abort();
        }
        // POSTs in flight may finish (they carry the close packet); the WebSocket task ends
        // when its writer is dropped.
        if let Some((_, writer)) = self.ws.take() {
            let _ = writer.send(ws::Out::Close);
        }
    }
}
