//! The sharded Redis pub/sub backend (Redis 7 `SPUBLISH` / `SSUBSCRIBE`), compatible with npm
//! `@socket.io/redis-adapter`'s `createShardedAdapter`: Node's `ClusterAdapter` messages
//! (`{uid, nsp, type, data}`, JSON or MessagePack when binary) on the channels
//! `<prefix>#<nsp>#` (requests and broadcasts), `<prefix>#<nsp>#<uid>#` (responses to server
//! `uid`) and, in the dynamic subscription mode, `<prefix>#<nsp>#<room>#` for single-room
//! broadcasts, subscribed by the servers that have the room.

use std::collections::HashSet;
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use redis::aio::ConnectionManager;
use socketio_cluster::message::{decode_cluster, encode_cluster};
use socketio_cluster::{Body, ClusterAdapter, ClusterConfig, Message, Transport, random_id};
use socketio_server::{Adapter, AdapterFuture};
use tokio::sync::mpsc;

use crate::adapter::RedisStats;
use crate::common::{Counters, PublishHealth, Resubscribe, lock, publisher, server_count};

/// Which channels a namespace uses (the `subscriptionMode` option).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum SubscriptionMode {
    /// Two channels per namespace: every server receives every broadcast.
    Static,
    /// Also one channel per public room (Node's default): a broadcast to a single room that is
    /// not a socket id reaches only the servers that have the room.
    #[default]
    Dynamic,
}

/// Settings of the sharded Redis adapter.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ShardedConfig {
    /// The channel prefix (`channelPrefix`, `"socket.io"`).
    pub channel_prefix: String,
    /// The subscription mode (`subscriptionMode`, dynamic). Every server must agree.
    pub subscription_mode: SubscriptionMode,
    /// How long to wait for the other servers' answers (5 s, as Node's `ClusterAdapter`).
    pub request_timeout: Duration,
    /// Most messages waiting to be published; beyond that new ones are dropped and counted.
    pub max_queued_messages: usize,
}

impl Default for ShardedConfig {
    fn default() -> Self {
        Self {
            channel_prefix: "socket.io".to_owned(),
            subscription_mode: SubscriptionMode::Dynamic,
            request_timeout: Duration::from_secs(5),
            max_queued_messages: 10_000,
        }
    }
}

impl ShardedConfig {
    /// With channel prefix `prefix`.
    #[must_use]
    pub fn channel_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.channel_prefix = prefix.into();
        self
    }

    /// With subscription mode `mode`.
    #[must_use]
    pub fn subscription_mode(mut self, mode: SubscriptionMode) -> Self {
        self.subscription_mode = mode;
        self
    }

    /// With `request_timeout`.
    #[must_use]
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = timeout;
        self
    }
}

struct Namespace {
    nsp: String,
    /// `<prefix>#<nsp>#`.
    channel: String,
    /// `<prefix>#<nsp>#<uid>#`.
    response: String,
    /// Room channels subscribed (dynamic mode).
    rooms: HashSet<String>,
    adapter: Weak<ClusterAdapter>,
}

enum Command {
    Subscribe(String),
    Unsubscribe(String),
}

struct Shared {
    config: ShardedConfig,
    client: redis::Client,
    publisher: ConnectionManager,
    queue: mpsc::Sender<(String, Vec<u8>)>,
    namespaces: Mutex<Vec<Namespace>>,
    commands: mpsc::UnboundedSender<Command>,
    counters: Counters,
}

/// A Redis adapter over sharded pub/sub (Redis 7), compatible with npm
/// `@socket.io/redis-adapter`'s `createShardedAdapter`.
///
/// ```no_run
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// use socketio_redis::{ShardedConfig, ShardedRedisAdapter};
/// let redis = ShardedRedisAdapter::new("redis://127.0.0.1:6379/", ShardedConfig::default())?;
/// let io = socketio_server::Server::builder().adapter(redis.factory()).build();
/// # let _ = io; Ok(()) }
/// ```
///
/// As [`crate::RedisAdapter`]: built inside a tokio runtime, reconnecting by itself, never
/// delaying local delivery, with a bounded publish queue.
#[derive(Clone)]
pub struct ShardedRedisAdapter {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for ShardedRedisAdapter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ShardedRedisAdapter")
            .field("config", &self.shared.config)
            .finish_non_exhaustive()
    }
}

impl ShardedRedisAdapter {
    /// An adapter for the Redis server at `url`.
    ///
    /// # Errors
    ///
    /// When `url` is not a Redis URL.
    ///
    /// # Panics
    ///
    /// Outside a tokio runtime.
    pub fn new(url: &str, config: ShardedConfig) -> redis::RedisResult<Self> {
        let client = redis::Client::open(url)?;
        let info = client.get_connection_info().clone();
        let resp3 = info
            .redis_settings()
            .clone()
            .set_protocol(redis::ProtocolVersion::RESP3);
        // Pushed messages (`smessage`) need RESP3 on the subscribing connection.
        let subscriber = redis::Client::open(info.set_redis_settings(resp3))?;
        let publisher = publisher(client)?;
        let (queue, outgoing) = mpsc::channel(config.max_queued_messages.max(1));
        let (commands, command_rx) = mpsc::unbounded_channel();
        let shared = Arc::new(Shared {
            config,
            client: subscriber,
            publisher,
            queue,
            namespaces: Mutex::new(Vec::new()),
            commands,
            counters: Counters::default(),
        });
        tokio::spawn(publish_loop(Arc::downgrade(&shared), outgoing));
        tokio::spawn(subscribe_loop(Arc::downgrade(&shared), command_rx));
        Ok(Self { shared })
    }

    /// The factory for `ServerBuilder::adapter`.
    pub fn factory(&self) -> impl Fn(&str) -> Arc<dyn Adapter> + Send + Sync + 'static {
        let shared = self.shared.clone();
        move |nsp: &str| {
            let uid = random_id(8);
            let channel = format!("{}#{nsp}#", shared.config.channel_prefix);
            let response = format!("{channel}{uid}#");
            let transport = Arc::new(ShardedTransport {
                shared: shared.clone(),
                nsp: nsp.to_owned(),
                channel: channel.clone(),
            });
            let config = ClusterConfig::default().request_timeout(shared.config.request_timeout);
            let adapter = ClusterAdapter::with_uid(uid, transport, config);
            let _ = shared.commands.send(Command::Subscribe(channel.clone()));
            let _ = shared.commands.send(Command::Subscribe(response.clone()));
            lock(&shared.namespaces).push(Namespace {
                nsp: nsp.to_owned(),
                channel,
                response,
                rooms: HashSet::new(),
                adapter: Arc::downgrade(&adapter),
            });
            adapter as Arc<dyn Adapter>
        }
    }

    /// What the adapter did so far.
    pub fn stats(&self) -> RedisStats {
        self.shared.counters.stats()
    }

    /// Whether the subscribing connection is up.
    pub fn is_connected(&self) -> bool {
        self.shared.counters.is_connected()
    }
}

/// Whether a room is a socket id (Node's `looksLikeASocketId`: 20 characters).
fn looks_like_a_socket_id(room: &str) -> bool {
    room.chars().count() == 20
}

struct ShardedTransport {
    shared: Arc<Shared>,
    nsp: String,
    channel: String,
}

impl ShardedTransport {
    fn enqueue(&self, channel: String, message: &Message) {
        let payload = encode_cluster(message);
        if self.shared.queue.try_send((channel, payload)).is_err() {
            if let Some(dropped) = self.shared.counters.count_dropped() {
                tracing::warn!(
                    dropped,
                    "sharded Redis adapter: publish queue full, messages to other servers dropped"
                );
            }
        }
    }

    fn room_channel(&self, room: &str) -> String {
        format!("{}{room}#", self.channel)
    }

    /// Dynamic mode: subscribes to a room's channel when the room appears on this server, and
    /// unsubscribes when it is gone.
    fn follow_room(&self, room: &str, subscribe: bool) {
        if self.shared.config.subscription_mode != SubscriptionMode::Dynamic {
            return;
        }
        let channel = self.room_channel(room);
        if let Some(ns) = lock(&self.shared.namespaces)
            .iter_mut()
            .find(|ns| ns.nsp == self.nsp)
        {
            if subscribe {
                ns.rooms.insert(channel.clone());
            } else {
                ns.rooms.remove(&channel);
            }
        }
        let command = if subscribe {
            Command::Subscribe(channel)
        } else {
            Command::Unsubscribe(channel)
        };
        let _ = self.shared.commands.send(command);
    }
}

impl Transport for ShardedTransport {
    fn publish(&self, message: Message) {
        // A broadcast with acks cannot use a room channel: every server must answer its count.
        let channel = match &message.body {
            Body::Broadcast {
                opts,
                request_id: None,
                ..
            } if self.shared.config.subscription_mode == SubscriptionMode::Dynamic => {
                match opts.rooms.as_slice() {
                    [room] if !looks_like_a_socket_id(room) => self.room_channel(room),
                    _ => self.channel.clone(),
                }
            }
            _ => self.channel.clone(),
        };
        self.enqueue(channel, &message);
    }

    fn publish_response(&self, requester: &str, message: Message) {
        let channel = format!("{}{requester}#", self.channel);
        self.enqueue(channel, &message);
    }

    fn server_count(&self) -> AdapterFuture<'_, Option<usize>> {
        Box::pin(async move {
            match server_count(&self.shared.publisher, "SHARDNUMSUB", &self.channel).await {
                Ok(count) => Some(count),
                Err(error) => {
                    tracing::warn!(%error, "sharded Redis adapter: cannot count the servers");
                    Some(1)
                }
            }
        })
    }

    fn close(&self) {
        let mut namespaces = lock(&self.shared.namespaces);
        for ns in namespaces.iter().filter(|ns| ns.nsp == self.nsp) {
            let _ = self
                .shared
                .commands
                .send(Command::Unsubscribe(ns.channel.clone()));
            let _ = self
                .shared
                .commands
                .send(Command::Unsubscribe(ns.response.clone()));
            for room in &ns.rooms {
                let _ = self
                    .shared
                    .commands
                    .send(Command::Unsubscribe(room.clone()));
            }
        }
        namespaces.retain(|ns| ns.nsp != self.nsp);
    }

    fn room_created(&self, room: &str) {
        self.follow_room(room, true);
    }

    fn room_deleted(&self, room: &str) {
        self.follow_room(room, false);
    }
}

async fn publish_loop(shared: Weak<Shared>, mut outgoing: mpsc::Receiver<(String, Vec<u8>)>) {
    let mut health = PublishHealth::default();
    while let Some((channel, payload)) = outgoing.recv().await {
        let Some(shared) = shared.upgrade() else {
            return;
        };
        let mut conn = shared.publisher.clone();
        let result: redis::RedisResult<()> = redis::cmd("SPUBLISH")
            .arg(&channel)
            .arg(&payload)
            .query_async(&mut conn)
            .await;
        match result {
            Ok(()) => {
                if health.published(&shared.counters) {
                    let c = shared.counters.stats();
                    tracing::warn!(
                        failed = c.failed,
                        dropped = c.dropped,
                        "sharded Redis adapter: publishing again; messages counted as failed or dropped were lost"
                    );
                }
            }
            Err(error) => {
                if health.failed(&shared.counters) {
                    tracing::warn!(%error, "sharded Redis adapter: cannot publish");
                }
            }
        }
    }
}

/// Most pushed messages waiting for dispatch before more are dropped.
const PUSH_QUEUE: usize = 10_000;

async fn subscribe_loop(shared: Weak<Shared>, mut commands: mpsc::UnboundedReceiver<Command>) {
    let mut resubscribe = Resubscribe::new();
    loop {
        let Some(client) = shared.upgrade().map(|s| s.client.clone()) else {
            return;
        };
        let (push_tx, mut pushes) = mpsc::channel::<redis::PushInfo>(PUSH_QUEUE);
        let config = redis::AsyncConnectionConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(1)))
            .set_response_timeout(Some(Duration::from_secs(2)))
            .set_push_sender(move |info: redis::PushInfo| push_tx.try_send(info));
        let connected = async {
            let mut conn = client
                .get_multiplexed_async_connection_with_config(&config)
                .await?;
            let channels: Vec<String> = match shared.upgrade() {
                Some(shared) => lock(&shared.namespaces)
                    .iter()
                    .flat_map(|ns| {
                        [ns.channel.clone(), ns.response.clone()]
                            .into_iter()
                            .chain(ns.rooms.iter().cloned())
                    })
                    .collect(),
                None => Vec::new(),
            };
            for channel in channels {
                redis::cmd("SSUBSCRIBE")
                    .arg(&channel)
                    .exec_async(&mut conn)
                    .await?;
            }
            redis::RedisResult::Ok(conn)
        };
        match connected.await {
            Ok(mut conn) => {
                if resubscribe.subscribed(shared.upgrade().as_deref().map(|s| &s.counters)) {
                    tracing::warn!(
                        "sharded Redis adapter: subscribed again; messages published meanwhile were lost"
                    );
                }
                let mut ping = tokio::time::interval(Duration::from_secs(1));
                loop {
                    tokio::select! {
                        push = pushes.recv() => {
                            let Some(push) = push else { break };
                            match push.kind {
                                redis::PushKind::SMessage => {
                                    let Some(shared) = shared.upgrade() else { return };
                                    shared.counters.count_received();
                                    if let [channel, payload, ..] = push.data.as_slice() {
                                        if let (Some(channel), Some(payload)) = (bytes_of(channel), bytes_of(payload)) {
                                            dispatch(&shared, &String::from_utf8_lossy(channel), payload);
                                        }
                                    }
                                }
                                redis::PushKind::Disconnection => break,
                                _ => {}
                            }
                        }
                        command = commands.recv() => {
                            let Some(command) = command else { return };
                            let (verb, channel) = match command {
                                Command::Subscribe(channel) => ("SSUBSCRIBE", channel),
                                Command::Unsubscribe(channel) => ("SUNSUBSCRIBE", channel),
                            };
                            if redis::cmd(verb).arg(&channel).exec_async(&mut conn).await.is_err() {
                                break;
                            }
                        }
                        _ = ping.tick() => {
                            // Finds a half-open connection that no push reports.
                            if redis::cmd("PING").exec_async(&mut conn).await.is_err() {
                                break;
                            }
                        }
                    }
                }
                resubscribe.lost(shared.upgrade().as_deref().map(|s| &s.counters));
                tracing::warn!("sharded Redis adapter: subscription lost; reconnecting");
            }
            Err(error) => {
                tracing::debug!(%error, "sharded Redis adapter: cannot subscribe yet");
                resubscribe.failed();
            }
        }
        resubscribe.pause().await;
    }
}

fn bytes_of(value: &redis::Value) -> Option<&[u8]> {
    match value {
        redis::Value::BulkString(bytes) => Some(bytes),
        redis::Value::SimpleString(s) => Some(s.as_bytes()),
        _ => None,
    }
}

fn dispatch(shared: &Shared, channel: &str, payload: &[u8]) {
    let target = lock(&shared.namespaces)
        .iter()
        .find(|ns| channel.starts_with(&ns.channel))
        .and_then(|ns| ns.adapter.upgrade());
    let Some(adapter) = target else { return };
    match decode_cluster(payload) {
        Some(message) => adapter.handle(message),
        None => tracing::debug!(channel, "sharded Redis adapter: malformed message ignored"),
    }
}
