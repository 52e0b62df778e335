//! [`ClusterAdapter`]: Node's `ClusterAdapter` logic (and its heartbeat variant) over a
//! [`Transport`].

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError, Weak};
use std::time::{Duration, Instant};

use socketio_proto::{Encoded, Parser};
use socketio_server::{
    AckSink, Adapter, AdapterError, AdapterFuture, Args, BroadcastOptions, LocalNamespace,
    PersistedSession, RemoteSocketData, RestoredSession, Room, ServerAck,
};
use tokio::sync::{mpsc, oneshot};

use crate::message::{Body, EMITTER_UID, Message, Opts, strings};
use crate::packet::{EventPacket, first_arg};
use crate::value::Value;

/// Moves a namespace's cluster messages: all a backend implements. Publishing never waits: a
/// backend queues what it sends (bounded) so local delivery never waits for the network.
pub trait Transport: Send + Sync + 'static {
    /// Sends `message` to every other server serving the namespace.
    fn publish(&self, message: Message);

    /// Sends a response to server `requester` only (`message.body` is a response).
    fn publish_response(&self, requester: &str, message: Message);

    /// How many servers serve the namespace, this one included, when the backend can tell
    /// (Redis: the subscribers of a channel). `None`: the engine counts servers by their
    /// heartbeats ([`ClusterConfig::heartbeat`] must be set).
    fn server_count(&self) -> AdapterFuture<'_, Option<usize>> {
        Box::pin(async { None })
    }

    /// The namespace closes: stop receiving its messages.
    fn close(&self) {}

    /// Whether the backend gives each published broadcast an offset (a Redis stream entry id)
    /// that connection state recovery can resume from.
    fn assigns_offsets(&self) -> bool {
        false
    }

    /// Publishes `message`, then calls `then` with the offset the backend gave it (`None` when
    /// publishing failed), in publishing order.
    fn publish_then(&self, message: Message, then: Box<dyn FnOnce(Option<String>) + Send>) {
        self.publish(message);
        then(None);
    }

    /// Keeps a disconnected session (`{sid, pid, rooms, data}`) for `ttl`.
    fn persist_session(&self, _session: Value, _ttl: Duration) {}

    /// Takes the session `pid` and the broadcasts published after `offset` (with their
    /// offsets), or `None` when the session or the offset is unknown.
    fn restore_session(
        &self,
        _pid: &str,
        _offset: &str,
    ) -> AdapterFuture<'_, Option<StoredSession>> {
        Box::pin(async { None })
    }

    /// A room came to exist on this server (a backend with a channel per room subscribes).
    fn room_created(&self, _room: &str) {}

    /// A room no longer exists on this server.
    fn room_deleted(&self, _room: &str) {}
}

/// A session kept by a backend (`{sid, pid, rooms, data}`) and the broadcasts published after
/// the client's offset, each with its own offset.
pub type StoredSession = (Value, Vec<(Message, String)>);

/// Heartbeat settings (Node's `ClusterAdapterWithHeartbeat` options).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Heartbeat {
    /// Time between two heartbeats (`heartbeatInterval`, 5 s).
    pub interval: Duration,
    /// Time without a message after which a server counts as gone (`heartbeatTimeout`, 10 s).
    pub timeout: Duration,
}

impl Heartbeat {
    /// Heartbeats every `interval`; a server silent for `timeout` counts as gone.
    pub fn new(interval: Duration, timeout: Duration) -> Self {
        Self { interval, timeout }
    }
}

impl Default for Heartbeat {
    fn default() -> Self {
        Self {
            interval: Duration::from_secs(5),
            timeout: Duration::from_secs(10),
        }
    }
}

/// Settings of the cluster engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct ClusterConfig {
    /// How long to wait for the other servers' answers (`requestsTimeout`, 5 s), unless the
    /// operation has its own timeout.
    pub request_timeout: Duration,
    /// Count servers by heartbeats (`None`: the transport counts them).
    pub heartbeat: Option<Heartbeat>,
}

impl Default for ClusterConfig {
    fn default() -> Self {
        Self {
            request_timeout: Duration::from_secs(5),
            heartbeat: None,
        }
    }
}

impl ClusterConfig {
    /// With `request_timeout`.
    #[must_use]
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = timeout;
        self
    }

    /// With heartbeats.
    #[must_use]
    pub fn heartbeat(mut self, heartbeat: Heartbeat) -> Self {
        self.heartbeat = Some(heartbeat);
        self
    }
}

/// Most answers queued for one request before more are dropped (a peer cannot grow memory by
/// answering many times).
const RESPONSE_QUEUE: usize = 1024;

/// Most servers tracked by heartbeats.
const MAX_NODES: usize = 4096;

struct AckRequest {
    acks: AckSink,
    counts: mpsc::Sender<u64>,
}

/// A cluster adapter for one namespace: the request/response logic of Node's `ClusterAdapter`
/// over any [`Transport`]. The backend gives it every message received for the namespace
/// ([`handle`](ClusterAdapter::handle)).
pub struct ClusterAdapter {
    uid: String,
    config: ClusterConfig,
    transport: Arc<dyn Transport>,
    this: Weak<ClusterAdapter>,
    ns: OnceLock<LocalNamespace>,
    requests: Mutex<HashMap<String, mpsc::Sender<Message>>>,
    ack_requests: Mutex<HashMap<String, AckRequest>>,
    nodes: Mutex<HashMap<String, Instant>>,
    runtime: Option<tokio::runtime::Handle>,
    heartbeat_task: Mutex<Option<tokio::task::JoinHandle<()>>>,
}

impl std::fmt::Debug for ClusterAdapter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClusterAdapter")
            .field("uid", &self.uid)
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A random hex id of `bytes` bytes (Node's `randomBytes(n).toString("hex")`).
pub fn random_id(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    if getrandom::fill(&mut buf).is_err() {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        for (i, b) in buf.iter_mut().enumerate() {
            *b = (nanos >> ((i % 16) * 8)) as u8;
        }
    }
    buf.iter().map(|b| format!("{b:02x}")).collect()
}

impl ClusterAdapter {
    /// An adapter with a new random uid. Call it inside a tokio runtime: the adapter's work
    /// (answers, heartbeats) runs there.
    pub fn new(transport: Arc<dyn Transport>, config: ClusterConfig) -> Arc<Self> {
        Self::with_uid(random_id(8), transport, config)
    }

    /// An adapter with the given uid (the Redis adapter's uids are 6 characters).
    pub fn with_uid(
        uid: String,
        transport: Arc<dyn Transport>,
        config: ClusterConfig,
    ) -> Arc<Self> {
        Arc::new_cyclic(|this| Self {
            uid,
            config,
            transport,
            this: this.clone(),
            ns: OnceLock::new(),
            requests: Mutex::new(HashMap::new()),
            ack_requests: Mutex::new(HashMap::new()),
            nodes: Mutex::new(HashMap::new()),
            runtime: tokio::runtime::Handle::try_current().ok(),
            heartbeat_task: Mutex::new(None),
        })
    }

    /// This server's uid.
    pub fn uid(&self) -> &str {
        &self.uid
    }

    /// The namespace, once the server created it.
    pub fn namespace(&self) -> Option<&LocalNamespace> {
        self.ns.get()
    }

    fn nsp(&self) -> &str {
        self.ns.get().map_or("/", LocalNamespace::name)
    }

    fn spawn(&self, future: impl Future<Output = ()> + Send + 'static) {
        match &self.runtime {
            Some(runtime) => {
                runtime.spawn(future);
            }
            None => match tokio::runtime::Handle::try_current() {
                Ok(runtime) => {
                    runtime.spawn(future);
                }
                Err(_) => tracing::warn!("cluster adapter used outside a tokio runtime"),
            },
        }
    }

    fn message(&self, body: Body) -> Message {
        Message {
            uid: self.uid.clone(),
            nsp: self.nsp().to_owned(),
            body,
        }
    }

    fn publish(&self, body: Body) {
        self.transport.publish(self.message(body));
    }

    fn respond(&self, requester: &str, body: Body) {
        self.transport
            .publish_response(requester, self.message(body));
    }

    /// Handles a message another server (or an emitter) sent for this namespace. Messages of
    /// this server itself and of other namespaces are ignored; work that waits (local
    /// acknowledgements, fetches) runs in tasks.
    pub fn handle(&self, message: Message) {
        self.handle_at(message, None);
    }

    /// [`handle`](ClusterAdapter::handle) for a message the backend gave an offset (a stream
    /// entry id): a broadcast is delivered with it as last argument when the server recovers
    /// sessions (Node's `addOffsetIfNecessary`).
    pub fn handle_at(&self, message: Message, offset: Option<String>) {
        if message.uid == self.uid {
            return;
        }
        if self.config.heartbeat.is_some() && !message.uid.is_empty() && message.uid != EMITTER_UID
        {
            let mut nodes = lock(&self.nodes);
            // Many uids at once (servers restarting in a loop): forget the silent ones first.
            if nodes.len() >= MAX_NODES && !nodes.contains_key(&message.uid) {
                let timeout = self.config.heartbeat.unwrap_or_default().timeout;
                nodes.retain(|_, seen| seen.elapsed() <= timeout);
            }
            if nodes.len() < MAX_NODES || nodes.contains_key(&message.uid) {
                nodes.insert(message.uid.clone(), Instant::now());
            }
        }
        if message.nsp != self.nsp() {
            return;
        }
        let Some(ns) = self.ns.get().cloned() else {
            return;
        };
        let from = message.uid;
        match message.body {
            Body::InitialHeartbeat => {
                if self.config.heartbeat.is_some() {
                    self.publish(Body::Heartbeat);
                }
            }
            Body::Heartbeat => {}
            Body::AdapterClose => {
                lock(&self.nodes).remove(&from);
            }
            Body::Broadcast {
                packet,
                opts,
                request_id: None,
            } => {
                let Some(mut packet) = EventPacket::from_value(&packet) else {
                    return;
                };
                if let Some(offset) = offset {
                    if !opts.volatile && ns.recovery().is_some() {
                        packet.args.push(Value::Str(offset));
                    }
                }
                if let Err(error) =
                    ns.broadcast(&packet.event, &packet.args[..], &opts.to_options())
                {
                    tracing::debug!(%error, "remote broadcast not delivered");
                }
            }
            Body::Broadcast {
                packet,
                opts,
                request_id: Some(request_id),
            } => {
                if lock(&self.ack_requests).contains_key(&request_id) {
                    return;
                }
                self.remote_broadcast_with_ack(ns, from, request_id, &packet, &opts);
            }
            Body::SocketsJoin { opts, rooms } => {
                let rooms: Vec<Room> = rooms.iter().map(|r| Room::from(r.as_str())).collect();
                self.spawn(async move { ns.add_sockets(&opts.to_options(), &rooms).await });
            }
            Body::SocketsLeave { opts, rooms } => {
                let rooms: Vec<Room> = rooms.iter().map(|r| Room::from(r.as_str())).collect();
                self.spawn(async move { ns.del_sockets(&opts.to_options(), &rooms).await });
            }
            Body::DisconnectSockets { opts, close } => {
                self.spawn(async move { ns.disconnect_sockets(&opts.to_options(), close).await });
            }
            Body::FetchSockets { opts, request_id } => {
                if lock(&self.requests).contains_key(&request_id) {
                    return;
                }
                let this = self.this.clone();
                self.spawn(async move {
                    let sockets = ns.fetch_sockets(&opts.to_options()).await;
                    let Some(this) = this.upgrade() else { return };
                    let sockets = sockets.iter().map(socket_to_value).collect();
                    this.respond(
                        &from,
                        Body::FetchSocketsResponse {
                            request_id,
                            sockets,
                        },
                    );
                });
            }
            Body::ServerSideEmit { request_id, packet } => {
                let mut packet = packet.into_iter();
                let Some(Value::Str(event)) = packet.next() else {
                    return;
                };
                let args: Vec<serde_json::Value> = packet.map(|v| v.to_json()).collect();
                let Some(request_id) = request_id else {
                    ns.server_side_emit(&event, args, None);
                    return;
                };
                if lock(&self.requests).contains_key(&request_id) {
                    return;
                }
                let (tx, rx) = oneshot::channel();
                ns.server_side_emit(&event, args, Some(ServerAck::new(tx)));
                let this = self.this.clone();
                let timeout = self.config.request_timeout;
                self.spawn(async move {
                    // A handler that never answers must not keep this task forever.
                    let Ok(Ok(answer)) = tokio::time::timeout(timeout, rx).await else {
                        return;
                    };
                    if let Some(this) = this.upgrade() {
                        this.respond(
                            &from,
                            Body::ServerSideEmitResponse {
                                request_id,
                                packet: Value::from(answer),
                            },
                        );
                    }
                });
            }
            Body::Sockets { request_id, rooms } => {
                if lock(&self.requests).contains_key(&request_id) {
                    return;
                }
                let options = BroadcastOptions::new(
                    rooms.iter().map(|r| Room::from(r.as_str())).collect(),
                    Vec::new(),
                );
                let this = self.this.clone();
                self.spawn(async move {
                    let sockets = ns.fetch_sockets(&options).await;
                    let Some(this) = this.upgrade() else { return };
                    let sockets = sockets.into_iter().map(|s| s.id.to_string()).collect();
                    this.respond(
                        &from,
                        Body::SocketsResponse {
                            request_id,
                            sockets,
                        },
                    );
                });
            }
            Body::AllRooms { request_id } => {
                if lock(&self.requests).contains_key(&request_id) {
                    return;
                }
                let mut rooms: Vec<String> = Vec::new();
                if let Some(namespace) = ns.namespace() {
                    rooms.extend(namespace.rooms().iter().map(ToString::to_string));
                    rooms.extend(namespace.sockets().iter().map(|s| s.id().to_owned()));
                }
                self.respond(&from, Body::AllRoomsResponse { request_id, rooms });
            }
            Body::BroadcastClientCount {
                request_id,
                client_count,
            } => {
                if let Some(request) = lock(&self.ack_requests).get(&request_id) {
                    let _ = request.counts.try_send(client_count);
                }
            }
            Body::BroadcastAck { request_id, packet } => {
                if let Some(request) = lock(&self.ack_requests).get(&request_id) {
                    match Args::new(Parser::Json, &(packet,)) {
                        Ok(args) => {
                            let _ = request.acks.send(Ok(args));
                        }
                        Err(error) => tracing::debug!(%error, "unusable remote acknowledgement"),
                    }
                }
            }
            body @ (Body::FetchSocketsResponse { .. }
            | Body::ServerSideEmitResponse { .. }
            | Body::SocketsResponse { .. }
            | Body::AllRoomsResponse { .. }) => {
                let request_id = match &body {
                    Body::FetchSocketsResponse { request_id, .. }
                    | Body::ServerSideEmitResponse { request_id, .. }
                    | Body::SocketsResponse { request_id, .. }
                    | Body::AllRoomsResponse { request_id, .. } => request_id.clone(),
                    _ => return,
                };
                if let Some(tx) = lock(&self.requests).get(&request_id) {
                    let _ = tx.try_send(Message {
                        uid: from,
                        nsp: String::new(),
                        body,
                    });
                }
            }
        }
    }

    fn remote_broadcast_with_ack(
        &self,
        ns: LocalNamespace,
        from: String,
        request_id: String,
        packet: &Value,
        opts: &Opts,
    ) {
        let Some(packet) = EventPacket::from_value(packet) else {
            return;
        };
        let options = opts.to_options();
        let mut acks = match ns.broadcast_with_ack(&packet.event, &packet.args[..], &options) {
            Ok(acks) => acks,
            Err(error) => {
                tracing::debug!(%error, "remote broadcast not delivered");
                return;
            }
        };
        self.respond(
            &from,
            Body::BroadcastClientCount {
                request_id: request_id.clone(),
                client_count: acks.count as u64,
            },
        );
        let timeout = options.timeout.unwrap_or(self.config.request_timeout);
        let this = self.this.clone();
        self.spawn(async move {
            let deadline = tokio::time::Instant::now() + timeout;
            while let Ok(Some(answer)) = tokio::time::timeout_at(deadline, acks.next()).await {
                let Ok(args) = answer else { continue };
                let Some(this) = this.upgrade() else { return };
                this.respond(
                    &from,
                    Body::BroadcastAck {
                        request_id: request_id.clone(),
                        packet: first_arg(&args),
                    },
                );
            }
        });
    }

    /// How many other servers are expected to answer.
    async fn others(&self) -> usize {
        match self.transport.server_count().await {
            Some(count) => count.saturating_sub(1),
            None => self.live_nodes(),
        }
    }

    fn live_nodes(&self) -> usize {
        let timeout = self.config.heartbeat.unwrap_or_default().timeout;
        let mut nodes = lock(&self.nodes);
        nodes.retain(|_, seen| seen.elapsed() <= timeout);
        nodes.len()
    }

    /// Publishes a request and collects `expected` answers, or what came before `timeout`.
    async fn request(
        &self,
        make: impl FnOnce(String) -> Body,
        expected: usize,
        timeout: Duration,
    ) -> (Vec<Body>, Option<AdapterError>) {
        let request_id = random_id(8);
        let (tx, mut rx) = mpsc::channel(RESPONSE_QUEUE);
        lock(&self.requests).insert(request_id.clone(), tx);
        self.publish(make(request_id.clone()));
        let mut answers = Vec::with_capacity(expected.min(RESPONSE_QUEUE));
        let deadline = tokio::time::Instant::now() + timeout;
        let mut error = None;
        while answers.len() < expected {
            match tokio::time::timeout_at(deadline, rx.recv()).await {
                Ok(Some(message)) => answers.push(message.body),
                Ok(None) => break,
                Err(_) => {
                    error = Some(AdapterError::Timeout {
                        received: answers.len(),
                        expected,
                    });
                    break;
                }
            }
        }
        lock(&self.requests).remove(&request_id);
        (answers, error)
    }

    fn start_heartbeat(&self, heartbeat: Heartbeat) {
        self.publish(Body::InitialHeartbeat);
        let this = self.this.clone();
        let Some(runtime) = self
            .runtime
            .clone()
            .or_else(|| tokio::runtime::Handle::try_current().ok())
        else {
            return;
        };
        let task = runtime.spawn(async move {
            let mut interval = tokio::time::interval(heartbeat.interval);
            interval.tick().await;
            loop {
                interval.tick().await;
                let Some(this) = this.upgrade() else { return };
                this.publish(Body::Heartbeat);
            }
        });
        *lock(&self.heartbeat_task) = Some(task);
    }
}

/// `{id, handshake, rooms, data}` as Node answers `FETCH_SOCKETS`.
fn socket_to_value(socket: &RemoteSocketData) -> Value {
    Value::map([
        ("id", Value::str(socket.id.to_string())),
        ("handshake", Value::from(&socket.handshake)),
        (
            "rooms",
            Value::Array(
                socket
                    .rooms
                    .iter()
                    .map(|r| Value::str(r.to_string()))
                    .collect(),
            ),
        ),
        ("data", Value::from(&socket.data)),
    ])
}

fn socket_from_value(socket: &Value) -> Option<RemoteSocketData> {
    let id = socket.get("id")?.as_str()?;
    Some(RemoteSocketData::new(
        Room::from(id),
        strings(socket.get("rooms"))
            .into_iter()
            .map(Room::from)
            .collect(),
        socket
            .get("handshake")
            .map(Value::to_json)
            .unwrap_or_default(),
        socket.get("data").map(Value::to_json).unwrap_or_default(),
    ))
}

impl Adapter for ClusterAdapter {
    fn init(&self, ns: LocalNamespace) {
        let _ = self.ns.set(ns);
        if let Some(heartbeat) = self.config.heartbeat {
            self.start_heartbeat(heartbeat);
        }
    }

    fn close(&self) {
        if self.config.heartbeat.is_some() {
            self.publish(Body::AdapterClose);
        }
        if let Some(task) = lock(&self.heartbeat_task).take() {
            task.abort();
        }
        self.transport.close();
    }

    fn room_created(&self, room: &Room) {
        self.transport.room_created(room);
    }

    fn room_deleted(&self, room: &Room) {
        self.transport.room_deleted(room);
    }

    fn assigns_offsets(&self) -> bool {
        self.transport.assigns_offsets() && self.ns.get().is_some_and(|ns| ns.recovery().is_some())
    }

    fn broadcast_recorded(&self, event: &str, args: Args, options: &BroadcastOptions) {
        let Some(ns) = self.ns.get().cloned() else {
            return;
        };
        let Some(args) = crate::packet::args_to_values(&args) else {
            return;
        };
        let packet = EventPacket {
            nsp: ns.name().to_owned(),
            event: event.to_owned(),
            args,
        };
        let message = self.message(Body::Broadcast {
            packet: packet.to_value(),
            opts: Opts::from_options(options),
            request_id: None,
        });
        let options = options.clone();
        self.transport.publish_then(
            message,
            Box::new(move |offset| {
                let mut args = packet.args;
                args.extend(offset.map(Value::Str));
                if let Err(error) = ns.broadcast(&packet.event, &args[..], &options) {
                    tracing::debug!(%error, "broadcast not delivered");
                }
            }),
        );
    }

    fn persist_session(&self, session: PersistedSession) {
        let Some(ttl) = self
            .ns
            .get()
            .and_then(LocalNamespace::recovery)
            .map(|r| r.max_disconnection_duration)
        else {
            return;
        };
        let data = session
            .data
            .as_ref()
            .and_then(|data| data.downcast_ref::<serde_json::Value>())
            .map_or(Value::Null, Value::from);
        let value = Value::map([
            ("sid", Value::str(session.sid.to_string())),
            ("pid", Value::str(session.pid.to_string())),
            (
                "rooms",
                Value::Array(
                    session
                        .rooms
                        .iter()
                        .map(|r| Value::str(r.to_string()))
                        .collect(),
                ),
            ),
            ("data", data),
        ]);
        self.transport.persist_session(value, ttl);
    }

    fn restore_session(
        &self,
        pid: &str,
        offset: &str,
    ) -> AdapterFuture<'_, Result<Option<RestoredSession>, AdapterError>> {
        let pid = pid.to_owned();
        let offset = offset.to_owned();
        Box::pin(async move {
            let Some(ns) = self.ns.get() else {
                return Ok(None);
            };
            let Some((session, entries)) = self.transport.restore_session(&pid, &offset).await
            else {
                return Ok(None);
            };
            let Some(sid) = session.get("sid").and_then(Value::as_str) else {
                return Ok(None);
            };
            let rooms = strings(session.get("rooms"));
            let data = session
                .get("data")
                .map(Value::to_json)
                .filter(|d| !d.is_null())
                .map(|d| Box::new(d) as Box<dyn std::any::Any + Send + Sync>);
            let mut missed = Vec::new();
            for (message, id) in entries {
                if message.nsp != ns.name() {
                    continue;
                }
                let Body::Broadcast {
                    packet,
                    opts,
                    request_id: None,
                } = message.body
                else {
                    continue;
                };
                // Node's shouldIncludePacket.
                let included = (opts.rooms.is_empty()
                    || rooms.iter().any(|r| opts.rooms.contains(r)))
                    && rooms.iter().all(|r| !opts.except.contains(r));
                let Some(mut packet) = EventPacket::from_value(&packet) else {
                    continue;
                };
                if !included {
                    continue;
                }
                packet.args.push(Value::Str(id));
                if let Ok(encoded) = ns.encode_event(&packet.event, &packet.args[..]) {
                    missed.push(encoded);
                }
            }
            let session = PersistedSession::new(
                Room::from(sid),
                Room::from(pid.as_str()),
                rooms.into_iter().map(Room::from).collect(),
                data,
            );
            Ok(Some(RestoredSession::new(session, missed)))
        })
    }

    fn broadcast(&self, packet: &Encoded, options: &BroadcastOptions) {
        let Some(packet) = EventPacket::from_encoded(packet) else {
            return;
        };
        self.publish(Body::Broadcast {
            packet: packet.to_value(),
            opts: Opts::from_options(options),
            request_id: None,
        });
    }

    fn broadcast_with_ack(
        &self,
        packet: &Encoded,
        options: &BroadcastOptions,
        acks: AckSink,
    ) -> AdapterFuture<'_, Result<usize, AdapterError>> {
        let packet = EventPacket::from_encoded(packet);
        let options = options.clone();
        Box::pin(async move {
            let Some(packet) = packet else { return Ok(0) };
            let request_id = random_id(8);
            let (counts_tx, mut counts) = mpsc::channel(RESPONSE_QUEUE);
            lock(&self.ack_requests).insert(
                request_id.clone(),
                AckRequest {
                    acks,
                    counts: counts_tx,
                },
            );
            self.publish(Body::Broadcast {
                packet: packet.to_value(),
                opts: Opts::from_options(&options),
                request_id: Some(request_id.clone()),
            });
            let timeout = options.timeout.unwrap_or(self.config.request_timeout);
            // As Node: the answers are routed until the operation's timeout, then forgotten.
            let this = self.this.clone();
            let forget = request_id.clone();
            self.spawn(async move {
                tokio::time::sleep(timeout).await;
                if let Some(this) = this.upgrade() {
                    lock(&this.ack_requests).remove(&forget);
                }
            });
            let expected = self.others().await;
            let deadline = tokio::time::Instant::now() + timeout;
            let mut total = 0usize;
            for received in 0..expected {
                match tokio::time::timeout_at(deadline, counts.recv()).await {
                    Ok(Some(count)) => {
                        total = total.saturating_add(usize::try_from(count).unwrap_or(usize::MAX));
                    }
                    _ => return Err(AdapterError::Timeout { received, expected }),
                }
            }
            Ok(total)
        })
    }

    fn fetch_sockets(
        &self,
        options: &BroadcastOptions,
    ) -> AdapterFuture<'_, Result<Vec<RemoteSocketData>, AdapterError>> {
        let options = options.clone();
        Box::pin(async move {
            let expected = self.others().await;
            if expected == 0 {
                return Ok(Vec::new());
            }
            let timeout = options.timeout.unwrap_or(self.config.request_timeout);
            let opts = Opts::from_options(&options);
            let (answers, error) = self
                .request(
                    |request_id| Body::FetchSockets { opts, request_id },
                    expected,
                    timeout,
                )
                .await;
            if let Some(error) = error {
                return Err(error);
            }
            Ok(answers
                .iter()
                .flat_map(|body| match body {
                    Body::FetchSocketsResponse { sockets, .. } => sockets.as_slice(),
                    _ => &[],
                })
                .filter_map(socket_from_value)
                .collect())
        })
    }

    fn add_sockets(
        &self,
        options: &BroadcastOptions,
        rooms: &[Room],
    ) -> AdapterFuture<'_, Result<(), AdapterError>> {
        self.publish(Body::SocketsJoin {
            opts: Opts::from_options(options),
            rooms: rooms.iter().map(ToString::to_string).collect(),
        });
        Box::pin(async { Ok(()) })
    }

    fn del_sockets(
        &self,
        options: &BroadcastOptions,
        rooms: &[Room],
    ) -> AdapterFuture<'_, Result<(), AdapterError>> {
        self.publish(Body::SocketsLeave {
            opts: Opts::from_options(options),
            rooms: rooms.iter().map(ToString::to_string).collect(),
        });
        Box::pin(async { Ok(()) })
    }

    fn disconnect_sockets(
        &self,
        options: &BroadcastOptions,
        close: bool,
    ) -> AdapterFuture<'_, Result<(), AdapterError>> {
        self.publish(Body::DisconnectSockets {
            opts: Opts::from_options(options),
            close,
        });
        Box::pin(async { Ok(()) })
    }

    fn server_side_emit(
        &self,
        event: &str,
        args: Vec<serde_json::Value>,
    ) -> AdapterFuture<'_, Result<(), AdapterError>> {
        let mut packet = vec![Value::str(event)];
        packet.extend(args.iter().map(Value::from));
        self.publish(Body::ServerSideEmit {
            request_id: None,
            packet,
        });
        Box::pin(async { Ok(()) })
    }

    fn server_side_emit_with_ack(
        &self,
        event: &str,
        args: Vec<serde_json::Value>,
    ) -> AdapterFuture<'_, Result<Vec<serde_json::Value>, AdapterError>> {
        let mut packet = vec![Value::str(event)];
        packet.extend(args.iter().map(Value::from));
        Box::pin(async move {
            let expected = self.others().await;
            if expected == 0 {
                return Ok(Vec::new());
            }
            let (answers, error) = self
                .request(
                    |request_id| Body::ServerSideEmit {
                        request_id: Some(request_id),
                        packet,
                    },
                    expected,
                    self.config.request_timeout,
                )
                .await;
            if let Some(error) = error {
                return Err(error);
            }
            Ok(answers
                .into_iter()
                .filter_map(|body| match body {
                    Body::ServerSideEmitResponse { packet, .. } => Some(packet.to_json()),
                    _ => None,
                })
                .collect())
        })
    }

    fn server_count(&self) -> AdapterFuture<'_, usize> {
        Box::pin(async { self.others().await + 1 })
    }
}

impl Drop for ClusterAdapter {
    fn drop(&mut self) {
        if let Some(task) = lock(&self.heartbeat_task).take() {
            task.abort();
        }
    }
}
