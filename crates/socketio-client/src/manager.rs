//! [`Manager`]: one Engine.IO connection, its namespaces, and reconnection.
//!
//! One task owns the connection: the Engine.IO session, the Socket.IO decoder, and the
//! protocol state of every namespace (connected or not, the send and receive buffers, the
//! recovery session id and offset). Handles ([`Manager`], [`Socket`]) talk to it over an
//! unbounded channel (an emit never waits, as in Node); the task ends when every handle is gone.

use std::collections::{HashSet, VecDeque};
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use bytestring::ByteString;
use engineio_proto::Packet as EnginePacket;
use engineio_proto::TransportKind;
use engineio_proto::session::CloseReason;
use socketio_proto::{
    Decoder, Encoded, Event, Limits, Message, Packet, PacketData, ProtocolVersion,
};
use tokio::sync::mpsc;

use crate::backoff::Backoff;
use crate::builder::{Auth, Options};
use crate::engine::{Engine, EngineEvent, Tagged};
use crate::handler::{EventContext, guarded, run_handler, run_inline};
use crate::socket::{SocketInner, Status};
use crate::{AckError, ConnectError, DisconnectReason, EmitError, Socket};

/// What the manager reports (Node's manager events), see [`Manager::on_event`].
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum ManagerEvent {
    /// The Engine.IO connection is open.
    Open,
    /// The Engine.IO connection closed.
    Close(DisconnectReason),
    /// A connection attempt failed (Node's `error`).
    Error(ConnectError),
    /// Reconnection attempt number `n` starts (Node's `reconnect_attempt`).
    ReconnectAttempt(u32),
    /// Reconnected after `n` attempts (Node's `reconnect`).
    Reconnect(u32),
    /// A reconnection attempt failed (Node's `reconnect_error`).
    ReconnectError(ConnectError),
    /// Gave up after `reconnection_attempts` attempts (Node's `reconnect_failed`).
    ReconnectFailed,
}

type EventListener = Arc<dyn Fn(&ManagerEvent) + Send + Sync>;

pub(crate) struct ManagerShared {
    opts: Arc<Options>,
    sockets: Mutex<Vec<Arc<SocketInner>>>,
    listeners: Mutex<Vec<EventListener>>,
    /// The transport of the open connection: 0 none, 1 polling, 2 WebSocket.
    transport: AtomicU8,
}

/// One connection to a server, multiplexing a [`Socket`] per namespace (Node's `Manager`).
/// Cloning is cheap; the connection closes when the manager and all its sockets are dropped.
#[derive(Clone)]
pub struct Manager {
    shared: Arc<ManagerShared>,
    cmd: mpsc::UnboundedSender<Command>,
}

impl std::fmt::Debug for Manager {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Manager")
            .field("endpoint", &self.shared.opts.engine.endpoint)
            .finish_non_exhaustive()
    }
}

/// What handles ask of the manager task.
pub(crate) enum Command {
    Register(Arc<SocketInner>),
    Connect(ByteString),
    Disconnect(ByteString),
    Emit {
        nsp: ByteString,
        encoded: Encoded,
        ack: Option<u64>,
        volatile: bool,
        /// Buffer while offline (else drop, failing the ack).
        buffer: bool,
    },
    Ack(Encoded),
    ForgetAck {
        nsp: ByteString,
        id: u64,
    },
    AuthReady {
        nsp: ByteString,
        engine: u64,
        auth: serde_json::Value,
    },
    Close,
}

impl Manager {
    pub(crate) fn new(opts: Options) -> Self {
        let shared = Arc::new(ManagerShared {
            opts: Arc::new(opts),
            sockets: Mutex::new(Vec::new()),
            listeners: Mutex::new(Vec::new()),
            transport: AtomicU8::new(0),
        });
        let (cmd, cmd_rx) = mpsc::unbounded_channel();
        let (ev_tx, ev_rx) = mpsc::unbounded_channel();
        let opts = &shared.opts;
        let task = Task {
            shared: shared.clone(),
            weak_cmd: cmd.downgrade(),
            cmd_rx,
            ev_tx,
            ev_rx,
            engine: None,
            engine_seq: 0,
            decoder: opts.parser.decoder(ProtocolVersion::V5, Limits::default()),
            nsps: Vec::new(),
            ready: Ready::Closed,
            backoff: Backoff::new(
                opts.reconnection_delay,
                opts.reconnection_delay_max,
                opts.randomization_factor,
            ),
            reconnect_at: None,
            attempting: false,
            skip_reconnect: false,
        };
        tokio::spawn(task.run());
        Manager { shared, cmd }
    }

    pub(crate) fn options(&self) -> &Options {
        &self.shared.opts
    }

    pub(crate) fn send(&self, command: Command) -> Result<(), EmitError> {
        self.cmd.send(command).map_err(|_| EmitError::Closed)
    }

    /// The socket of namespace `nsp` (created on first use, then the same one), not connected
    /// until [`Socket::connect`]. It sends the builder's `auth`.
    pub fn socket(&self, nsp: &str) -> Socket {
        self.socket_inner(nsp, None)
    }

    /// [`socket`](Manager::socket) with its own `auth` payload (it must be an object). Only a
    /// new socket takes it.
    pub fn socket_with_auth(&self, nsp: &str, auth: serde_json::Value) -> Socket {
        self.socket_inner(nsp, Some(Auth::Static(auth)))
    }

    fn socket_inner(&self, nsp: &str, auth: Option<Auth>) -> Socket {
        let nsp = if nsp.starts_with('/') {
            ByteString::from(nsp)
        } else {
            ByteString::from(format!("/{nsp}"))
        };
        let mut sockets = lock(&self.shared.sockets);
        let inner = match sockets.iter().find(|s| s.nsp == nsp) {
            Some(inner) => inner.clone(),
            None => {
                let auth = auth.or_else(|| self.shared.opts.auth.clone());
                let inner = Arc::new(SocketInner::new(nsp, self.shared.opts.clone(), auth));
                sockets.push(inner.clone());
                let _ = self.cmd.send(Command::Register(inner.clone()));
                inner
            }
        };
        Socket {
            inner,
            manager: self.clone(),
        }
    }

    /// Listens to the manager's events: open, close, reconnection attempts and outcomes.
    pub fn on_event<F>(&self, listener: F)
    where
        F: Fn(&ManagerEvent) + Send + Sync + 'static,
    {
        lock(&self.shared.listeners).push(Arc::new(listener));
    }

    /// The transport of the open connection (`None` while not connected): long-polling until
    /// the upgrade to WebSocket completes.
    pub fn transport(&self) -> Option<TransportKind> {
        match self.shared.transport.load(Ordering::Relaxed) {
            1 => Some(TransportKind::Polling),
            2 => Some(TransportKind::WebSocket),
            _ => None,
        }
    }

    /// Disconnects every socket (`"io client disconnect"`) and closes the connection; no
    /// reconnection follows.
    pub fn close(&self) {
        let _ = self.cmd.send(Command::Close);
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ready {
    Closed,
    Opening { deadline: Option<Instant> },
    Open,
}

/// The protocol state of one namespace, owned by the task.
struct Nsp {
    inner: Arc<SocketInner>,
    /// Wants to be connected (Node's `socket.active`).
    active: bool,
    connected: bool,
    /// Connection state recovery: the private session id and the last offset received.
    pid: Option<String>,
    last_offset: Option<String>,
    send_buffer: VecDeque<(Option<u64>, Encoded)>,
    receive_buffer: Vec<Event>,
}

/// Events received before the `CONNECT` answer (replayed missed events) beyond this are
/// dropped: a server cannot make the client buffer without bound.
const MAX_RECEIVE_BUFFER: usize = 100_000;

struct Task {
    shared: Arc<ManagerShared>,
    weak_cmd: mpsc::WeakUnboundedSender<Command>,
    cmd_rx: mpsc::UnboundedReceiver<Command>,
    ev_tx: mpsc::UnboundedSender<Tagged>,
    ev_rx: mpsc::UnboundedReceiver<Tagged>,
    engine: Option<Engine>,
    engine_seq: u64,
    decoder: Decoder,
    nsps: Vec<Nsp>,
    ready: Ready,
    backoff: Backoff,
    /// A reconnection attempt is scheduled for then.
    reconnect_at: Option<Instant>,
    /// The current opening is a reconnection attempt.
    attempting: bool,
    skip_reconnect: bool,
}

impl Task {
    async fn run(mut self) {
        loop {
            let deadline = self.next_deadline();
            tokio::select! {
                command = self.cmd_rx.recv() => match command {
                    Some(command) => self.handle_command(command),
                    None => break,
                },
                Some(tagged) = self.ev_rx.recv() => {
                    if let Some(engine) = self.engine.as_mut().filter(|e| e.id() == tagged.engine) {
                        engine.handle(tagged.event, Instant::now());
                    }
                }
                () = sleep_until(deadline), if deadline.is_some() => self.handle_timers(),
            }
            self.drive();
            let transport = match self.engine.as_ref() {
                Some(engine) if engine.is_open() => match engine.transport() {
                    TransportKind::Polling => 1,
                    TransportKind::WebSocket => 2,
                },
                _ => 0,
            };
            self.shared.transport.store(transport, Ordering::Relaxed);
        }
        // Every handle is gone: close the connection (a polling close packet still goes out).
        if let Some(engine) = self.engine.as_mut() {
            engine.close(Instant::now());
            let _ = engine.drive().count();
        }
    }

    fn next_deadline(&self) -> Option<Instant> {
        let mut deadline = self.engine.as_ref().and_then(Engine::poll_timeout);
        let mut consider = |at: Option<Instant>| {
            if let Some(at) = at {
                deadline = Some(deadline.map_or(at, |d| d.min(at)));
            }
        };
        if let Ready::Opening { deadline } = self.ready {
            consider(deadline);
        }
        consider(self.reconnect_at);
        deadline
    }

    fn handle_timers(&mut self) {
        let now = Instant::now();
        if let Some(engine) = self.engine.as_mut() {
            if engine.poll_timeout().is_some_and(|at| at <= now) {
                engine.handle_timeout(now);
            }
        }
        if let Ready::Opening {
            deadline: Some(deadline),
        } = self.ready
        {
            if deadline <= now {
                self.engine = None;
                self.open_failed(ConnectError::new("timeout"));
            }
        }
        if self.reconnect_at.is_some_and(|at| at <= now) {
            self.reconnect_at = None;
            if !self.skip_reconnect {
                self.attempting = true;
                self.emit(&ManagerEvent::ReconnectAttempt(self.backoff.attempts));
                self.open();
            }
        }
    }

    fn emit(&self, event: &ManagerEvent) {
        let listeners = lock(&self.shared.listeners).clone();
        for listener in listeners {
            guarded(|| listener(event));
        }
    }

    /// A handle for handlers; `None` once every user handle is gone.
    fn socket(&self, inner: &Arc<SocketInner>) -> Option<Socket> {
        Some(Socket {
            inner: inner.clone(),
            manager: Manager {
                shared: self.shared.clone(),
                cmd: self.weak_cmd.upgrade()?,
            },
        })
    }

    fn nsp_index(&self, nsp: &str) -> Option<usize> {
        self.nsps.iter().position(|n| &*n.inner.nsp == nsp)
    }

    // ---- commands -------------------------------------------------------------------------

    fn handle_command(&mut self, command: Command) {
        match command {
            Command::Register(inner) => {
                if self.nsp_index(&inner.nsp).is_none() {
                    self.nsps.push(Nsp {
                        inner,
                        active: false,
                        connected: false,
                        pid: None,
                        last_offset: None,
                        send_buffer: VecDeque::new(),
                        receive_buffer: Vec::new(),
                    });
                }
            }
            Command::Connect(nsp) => {
                let Some(i) = self.nsp_index(&nsp) else {
                    return;
                };
                if self.nsps[i].connected {
                    return;
                }
                self.nsps[i].active = true;
                if self.reconnect_at.is_none() && !self.attempting {
                    self.open();
                }
                if self.ready == Ready::Open {
                    self.send_connect(i);
                }
            }
            Command::Disconnect(nsp) => {
                let Some(i) = self.nsp_index(&nsp) else {
                    return;
                };
                self.client_disconnect(i);
                self.close_if_unused();
            }
            Command::Emit {
                nsp,
                encoded,
                ack,
                volatile,
                buffer,
            } => {
                let Some(i) = self.nsp_index(&nsp) else {
                    return;
                };
                let writable = self.engine.as_ref().is_some_and(Engine::is_writable);
                let connected = self.nsps[i].connected && self.ready == Ready::Open;
                if volatile && !(writable && connected) {
                    tracing::debug!("volatile packet discarded");
                } else if connected {
                    self.write(&encoded);
                } else if buffer {
                    self.nsps[i].send_buffer.push_back((ack, encoded));
                } else if let Some(id) = ack {
                    // The retry queue sends only while connected; it tries again later.
                    if let Some(tx) = self.nsps[i].inner.state().acks.remove(&id) {
                        let _ = tx.send(Err(AckError::Disconnected));
                    }
                }
            }
            Command::Ack(encoded) => {
                if self.ready == Ready::Open {
                    self.write(&encoded);
                }
            }
            Command::ForgetAck { nsp, id } => {
                if let Some(i) = self.nsp_index(&nsp) {
                    self.nsps[i].send_buffer.retain(|(ack, _)| *ack != Some(id));
                }
            }
            Command::AuthReady { nsp, engine, auth } => {
                let current = self.engine.as_ref().is_some_and(|e| e.id() == engine);
                if let (true, Some(i)) =
                    (current && self.ready == Ready::Open, self.nsp_index(&nsp))
                {
                    self.write_connect(i, Some(auth));
                }
            }
            Command::Close => {
                for i in 0..self.nsps.len() {
                    self.client_disconnect(i);
                }
                self.close_if_unused();
            }
        }
    }

    /// Node's `socket.disconnect()`.
    fn client_disconnect(&mut self, i: usize) {
        let was_connected = self.nsps[i].connected;
        if was_connected {
            match self
                .shared
                .opts
                .parser
                .encode_disconnect(&self.nsps[i].inner.nsp)
            {
                Ok(encoded) => self.write(&encoded),
                Err(error) => tracing::warn!(%error, "cannot encode DISCONNECT"),
            }
        }
        self.nsps[i].active = false;
        if was_connected {
            self.socket_closed(i, DisconnectReason::IoClientDisconnect);
        }
    }

    /// Node's `manager._destroy`: the connection closes once no socket is active.
    fn close_if_unused(&mut self) {
        if self.nsps.iter().any(|n| n.active) {
            return;
        }
        self.skip_reconnect = true;
        self.reconnect_at = None;
        self.attempting = false;
        if let Some(engine) = self.engine.as_mut() {
            engine.close(Instant::now());
            // Flush the DISCONNECT packets; the engine is dropped when its close completes.
        }
        if self.ready != Ready::Closed {
            self.ready = Ready::Closed;
            self.backoff.reset();
            self.connection_lost(DisconnectReason::ForcedClose);
        }
    }

    // ---- engine ---------------------------------------------------------------------------

    fn open(&mut self) {
        if self.ready != Ready::Closed {
            return;
        }
        self.engine_seq += 1;
        let now = Instant::now();
        self.engine = Some(Engine::start(
            self.engine_seq,
            self.shared.opts.engine.clone(),
            self.ev_tx.clone(),
            now,
        ));
        self.decoder.reset();
        self.ready = Ready::Opening {
            deadline: self.shared.opts.timeout.and_then(|t| now.checked_add(t)),
        };
        self.skip_reconnect = false;
    }

    fn drive(&mut self) {
        loop {
            let Some(engine) = self.engine.as_mut() else {
                return;
            };
            let events: Vec<EngineEvent> = engine.drive().collect();
            if events.is_empty() {
                return;
            }
            for event in events {
                self.on_engine_event(event);
            }
        }
    }

    fn on_engine_event(&mut self, event: EngineEvent) {
        match event {
            EngineEvent::Opened => {
                self.ready = Ready::Open;
                self.emit(&ManagerEvent::Open);
                if self.attempting {
                    self.attempting = false;
                    let attempts = self.backoff.attempts;
                    self.backoff.reset();
                    self.emit(&ManagerEvent::Reconnect(attempts));
                }
                for i in 0..self.nsps.len() {
                    if self.nsps[i].active {
                        self.send_connect(i);
                    }
                }
            }
            EngineEvent::Text(text) => {
                let decoded = self.decoder.decode_text(text);
                self.on_decoded(decoded);
            }
            EngineEvent::Binary(data) => {
                let decoded = self.decoder.decode_binary(data);
                self.on_decoded(decoded);
            }
            EngineEvent::Closed(reason) => {
                let engine = self.engine.take();
                match self.ready {
                    Ready::Opening { .. } => {
                        let error = engine
                            .and_then(|mut e| e.first_failure.take())
                            .unwrap_or_else(|| ConnectError::new(reason.as_str()));
                        self.open_failed(error);
                    }
                    Ready::Open => self.engine_closed(match reason {
                        CloseReason::PingTimeout => DisconnectReason::PingTimeout,
                        CloseReason::TransportError => DisconnectReason::TransportError,
                        CloseReason::ParseError => DisconnectReason::ParseError,
                        CloseReason::ForcedClose => DisconnectReason::ForcedClose,
                        _ => DisconnectReason::TransportClose,
                    }),
                    // A close we asked for (the manager is unused).
                    Ready::Closed => {}
                }
            }
        }
    }

    fn on_decoded(&mut self, decoded: Result<Option<Packet>, socketio_proto::DecodeError>) {
        match decoded {
            Ok(Some(packet)) => self.on_packet(packet),
            Ok(None) => {}
            Err(error) => {
                tracing::debug!(%error, "undecodable packet from the server");
                if let Some(mut engine) = self.engine.take() {
                    engine.close(Instant::now());
                    let _ = engine.drive().count();
                }
                self.engine_closed(DisconnectReason::ParseError);
            }
        }
    }

    /// The connection failed before its handshake completed.
    fn open_failed(&mut self, error: ConnectError) {
        self.ready = Ready::Closed;
        self.emit(&ManagerEvent::Error(error.clone()));
        for i in 0..self.nsps.len() {
            if self.nsps[i].active && !self.nsps[i].connected {
                self.connect_error(i, error.clone());
            }
        }
        if self.attempting {
            self.attempting = false;
            self.reconnect();
            self.emit(&ManagerEvent::ReconnectError(error));
        } else if self.shared.opts.reconnection && self.backoff.attempts == 0 {
            self.reconnect();
        }
    }

    /// An open connection closed.
    fn engine_closed(&mut self, reason: DisconnectReason) {
        self.engine = None;
        self.ready = Ready::Closed;
        self.backoff.reset();
        self.connection_lost(reason);
        if self.shared.opts.reconnection && !self.skip_reconnect {
            self.reconnect();
        }
    }

    fn connection_lost(&mut self, reason: DisconnectReason) {
        self.emit(&ManagerEvent::Close(reason));
        for i in 0..self.nsps.len() {
            if self.nsps[i].connected {
                self.socket_closed(i, reason);
            }
        }
    }

    fn reconnect(&mut self) {
        if self.reconnect_at.is_some() || self.attempting || self.skip_reconnect {
            return;
        }
        if self.backoff.attempts >= self.shared.opts.reconnection_attempts {
            self.backoff.reset();
            self.emit(&ManagerEvent::ReconnectFailed);
        } else {
            let delay = self.backoff.duration();
            self.reconnect_at = Instant::now().checked_add(delay);
        }
    }

    fn write(&mut self, encoded: &Encoded) {
        let Some(engine) = self.engine.as_mut() else {
            return;
        };
        for message in encoded.messages() {
            let packet = match message {
                Message::Text(text) => EnginePacket::Message(text),
                Message::Binary(data) => EnginePacket::Binary(data),
            };
            if !engine.send(packet) {
                tracing::warn!("engine queue full: packet dropped");
            }
        }
    }

    // ---- namespaces -----------------------------------------------------------------------

    fn send_connect(&mut self, i: usize) {
        match &self.nsps[i].inner.auth {
            None => self.write_connect(i, None),
            Some(Auth::Static(value)) => {
                let value = value.clone();
                self.write_connect(i, Some(value));
            }
            Some(Auth::Callback(callback)) => {
                let future = callback();
                let (Some(cmd), Some(engine)) = (self.weak_cmd.upgrade(), self.engine.as_ref())
                else {
                    return;
                };
                let engine = engine.id();
                let nsp = self.nsps[i].inner.nsp.clone();
                tokio::spawn(async move {
                    let auth = future.await;
                    let _ = cmd.send(Command::AuthReady { nsp, engine, auth });
                });
            }
        }
    }

    /// Node's `_sendConnectPacket`: with a recovery session, `{pid, offset}` first, then the
    /// user's keys (which win).
    fn write_connect(&mut self, i: usize, auth: Option<serde_json::Value>) {
        let nsp = &self.nsps[i];
        let data = connect_payload(nsp.pid.as_deref(), nsp.last_offset.as_deref(), auth);
        match self
            .shared
            .opts
            .parser
            .encode_connect(&nsp.inner.nsp, data.as_ref())
        {
            Ok(encoded) => self.write(&encoded),
            Err(error) => {
                let error = ConnectError::new(format!("invalid auth: {error}"));
                self.connect_error(i, error);
            }
        }
    }

    fn on_packet(&mut self, packet: Packet) {
        let Some(i) = self.nsp_index(&packet.nsp) else {
            return;
        };
        match packet.data {
            PacketData::Connect(Some(data)) => match data.connect_ok_fields() {
                Ok(ok) => self.connected(i, ok.sid, ok.pid),
                Err(_) => self.v2_server(i),
            },
            PacketData::Connect(None) => self.v2_server(i),
            PacketData::Event(event) => {
                if self.nsps[i].connected {
                    self.dispatch(i, event);
                } else if self.nsps[i].receive_buffer.len() < MAX_RECEIVE_BUFFER {
                    self.nsps[i].receive_buffer.push(event);
                }
            }
            PacketData::Ack(ack) => {
                let slot = self.nsps[i].inner.state().acks.remove(&ack.id.get());
                if let Some(tx) = slot {
                    let _ = tx.send(Ok(ack.args));
                }
            }
            PacketData::Disconnect if self.nsps[i].connected => {
                self.nsps[i].active = false;
                self.socket_closed(i, DisconnectReason::IoServerDisconnect);
                self.close_if_unused();
            }
            PacketData::ConnectError(data) => {
                let error = match data.connect_error_fields() {
                    Ok(fields) => ConnectError {
                        message: fields.message,
                        data: fields.data,
                    },
                    Err(_) => ConnectError {
                        message: "connect error".into(),
                        data: data.to_value().ok(),
                    },
                };
                self.nsps[i].active = false;
                self.connect_error(i, error);
                self.close_if_unused();
            }
            _ => {}
        }
    }

    fn v2_server(&mut self, i: usize) {
        self.connect_error(
            i,
            ConnectError::new(
                "It seems you are trying to reach a Socket.IO server in v2.x with a v3.x client, but they are not compatible",
            ),
        );
    }

    /// Node's `onconnect`: record the ids, deliver buffered events, send buffered emits, then
    /// fire `connect`.
    fn connected(&mut self, i: usize, sid: String, pid: Option<String>) {
        let nsp = &mut self.nsps[i];
        let recovered = pid.is_some() && nsp.pid == pid;
        nsp.pid = pid;
        nsp.connected = true;
        {
            let mut state = nsp.inner.state();
            state.id = Some(sid);
            state.connected = true;
            state.recovered = recovered;
        }
        let received = std::mem::take(&mut nsp.receive_buffer);
        let buffered = std::mem::take(&mut nsp.send_buffer);
        for event in received {
            self.dispatch(i, event);
        }
        for (_, encoded) in buffered {
            self.write(&encoded);
        }
        let inner = self.nsps[i].inner.clone();
        inner.status.send_replace(Status::Connected);
        if let Some(socket) = self.socket(&inner) {
            let handlers = inner.state().on_connect.clone();
            for handler in handlers {
                run_inline(handler(socket.clone()));
            }
        }
    }

    fn connect_error(&mut self, i: usize, error: ConnectError) {
        let inner = self.nsps[i].inner.clone();
        inner.status.send_replace(Status::Failed(error.clone()));
        if let Some(socket) = self.socket(&inner) {
            let handlers = inner.state().on_connect_error.clone();
            for handler in handlers {
                run_inline(handler(socket.clone(), error.clone()));
            }
        }
    }

    /// Node's socket `onclose`: fire `disconnect`, then fail the acks of events already sent
    /// (buffered ones still have a chance).
    fn socket_closed(&mut self, i: usize, reason: DisconnectReason) {
        let nsp = &mut self.nsps[i];
        nsp.connected = false;
        let buffered: HashSet<u64> = nsp.send_buffer.iter().filter_map(|(id, _)| *id).collect();
        let inner = nsp.inner.clone();
        let failed: Vec<_> = {
            let mut state = inner.state();
            state.connected = false;
            state.id = None;
            let ids: Vec<u64> = state
                .acks
                .keys()
                .filter(|id| !buffered.contains(id))
                .copied()
                .collect();
            ids.into_iter()
                .filter_map(|id| state.acks.remove(&id))
                .collect()
        };
        inner.status.send_replace(Status::Disconnected);
        if let Some(socket) = self.socket(&inner) {
            let handlers = inner.state().on_disconnect.clone();
            for handler in handlers {
                run_inline(handler(socket.clone(), reason));
            }
        }
        for tx in failed {
            let _ = tx.send(Err(AckError::Disconnected));
        }
    }

    /// Node's `emitEvent`: catch-all listeners, then the event's handlers; then the offset of
    /// connection state recovery.
    fn dispatch(&mut self, i: usize, event: Event) {
        let inner = self.nsps[i].inner.clone();
        if self.nsps[i].pid.is_some() {
            if let Ok(values) = event.args().to_values() {
                if let Some(serde_json::Value::String(offset)) = values.last() {
                    self.nsps[i].last_offset = Some(offset.clone());
                }
            }
        }
        let Some(socket) = self.socket(&inner) else {
            return;
        };
        let (any, handlers) = {
            let state = inner.state();
            let handlers: Vec<_> = state
                .handlers
                .iter()
                .filter(|(name, _)| *name == event.name())
                .map(|(_, handler)| handler.clone())
                .collect();
            (state.any.clone(), handlers)
        };
        for (_, listener) in any {
            guarded(|| listener(&socket, event.name(), event.args()));
        }
        let mut cx = EventContext::new(&socket, event.args(), event.ack);
        for handler in handlers {
            let mut call = None;
            guarded(|| call = Some(handler.call(&mut cx)));
            match call {
                Some(Ok(future)) => run_handler(future, event.name()),
                Some(Err(error)) => {
                    tracing::warn!(event = %event.name(), %error, "event handler skipped");
                }
                None => {}
            }
        }
    }
}

/// The `CONNECT` payload: with a recovery session `{pid, offset}` first, then the user's keys
/// (which win, as `Object.assign({pid, offset}, auth)` in Node's client).
fn connect_payload(
    pid: Option<&str>,
    offset: Option<&str>,
    auth: Option<serde_json::Value>,
) -> Option<serde_json::Value> {
    let Some(pid) = pid else { return auth };
    let mut map = serde_json::Map::new();
    map.insert("pid".into(), pid.into());
    if let Some(offset) = offset {
        map.insert("offset".into(), offset.into());
    }
    if let Some(serde_json::Value::Object(user)) = auth {
        map.extend(user);
    }
    Some(serde_json::Value::Object(map))
}

async fn sleep_until(deadline: Option<Instant>) {
    if let Some(deadline) = deadline {
        tokio::time::sleep_until(tokio::time::Instant::from_std(deadline)).await;
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::connect_payload;

    #[test]
    fn connect_payload_puts_recovery_ids_first_and_lets_user_keys_win() {
        assert_eq!(connect_payload(None, None, None), None);
        assert_eq!(
            connect_payload(None, Some("o"), Some(json!({"token": 1}))),
            Some(json!({"token": 1}))
        );
        assert_eq!(
            connect_payload(Some("p"), None, None),
            Some(json!({"pid": "p"}))
        );
        let payload = connect_payload(
            Some("p"),
            Some("o"),
            Some(json!({"token": 1, "pid": "mine"})),
        );
        assert_eq!(
            payload,
            Some(json!({"pid": "mine", "offset": "o", "token": 1}))
        );
    }
}
