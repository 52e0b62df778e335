//! The Redis pub/sub backend: one publishing connection and one subscribing connection per
//! server, shared by its namespaces; both reconnect by themselves.

use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use futures_util::StreamExt;
use redis::aio::ConnectionManager;
use socketio_cluster::{ClusterAdapter, ClusterConfig, Message, Transport, random_id};
use socketio_server::{Adapter, AdapterFuture};
use tokio::sync::mpsc;

use crate::codec::{
    ChannelKind, Channels, Outgoing, decode_broadcast, decode_request, decode_response,
    encode_request, encode_response,
};
use crate::common::{Counters, PublishHealth, Resubscribe, lock, publisher, server_count};

/// Settings of the Redis adapter (the options of npm `@socket.io/redis-adapter`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RedisConfig {
    /// The channel prefix (`key`, `"socket.io"`).
    pub key: String,
    /// How long to wait for the other servers' answers (`requestsTimeout`, 5 s).
    pub request_timeout: Duration,
    /// Send responses on the requesting server's own channel
    /// (`publishOnSpecificResponseChannel`, false). Every server of the cluster must agree.
    pub publish_on_specific_response_channel: bool,
    /// Most messages waiting to be published; beyond that (Redis down or too slow) new ones
    /// are dropped and counted ([`RedisStats::dropped`]).
    pub max_queued_messages: usize,
}

impl Default for RedisConfig {
    fn default() -> Self {
        Self {
            key: "socket.io".to_owned(),
            request_timeout: Duration::from_secs(5),
            publish_on_specific_response_channel: false,
            max_queued_messages: 10_000,
        }
    }
}

impl RedisConfig {
    /// With channel prefix `key`.
    #[must_use]
    pub fn key(mut self, key: impl Into<String>) -> Self {
        self.key = key.into();
        self
    }

    /// With `request_timeout`.
    #[must_use]
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = timeout;
        self
    }

    /// With `publishOnSpecificResponseChannel`.
    #[must_use]
    pub fn publish_on_specific_response_channel(mut self, specific: bool) -> Self {
        self.publish_on_specific_response_channel = specific;
        self
    }

    /// With at most `max` messages waiting to be published.
    #[must_use]
    pub fn max_queued_messages(mut self, max: usize) -> Self {
        self.max_queued_messages = max.max(1);
        self
    }
}

/// What the adapter did, to tell what was lost while Redis was away.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct RedisStats {
    /// Messages published.
    pub published: u64,
    /// Messages dropped because the queue was full (Redis down or too slow).
    pub dropped: u64,
    /// Messages whose publication failed (the connection broke).
    pub failed: u64,
    /// Times the subscribing connection was re-established after a loss. Messages other
    /// servers published meanwhile were not received.
    pub resubscribed: u64,
    /// Messages received.
    pub received: u64,
}

impl RedisStats {
    pub(crate) fn new(
        published: u64,
        dropped: u64,
        failed: u64,
        resubscribed: u64,
        received: u64,
    ) -> Self {
        Self {
            published,
            dropped,
            failed,
            resubscribed,
            received,
        }
    }
}

struct Subscription {
    channels: Channels,
    uid: String,
    adapter: Weak<ClusterAdapter>,
}

impl Subscription {
    fn patterns(&self) -> Vec<String> {
        vec![self.channels.broadcast_pattern()]
    }

    fn channels(&self) -> Vec<String> {
        vec![
            self.channels.request.clone(),
            self.channels.response.clone(),
            self.channels.specific_response(&self.uid),
        ]
    }
}

/// A change of subscriptions for the subscriber task: (patterns, channels).
enum Command {
    Subscribe(Vec<String>, Vec<String>),
    Unsubscribe(Vec<String>, Vec<String>),
}

struct Shared {
    config: RedisConfig,
    client: redis::Client,
    publisher: ConnectionManager,
    queue: mpsc::Sender<Outgoing>,
    subscriptions: Mutex<Vec<Subscription>>,
    /// New subscriptions for the subscriber task (one per namespace, so few).
    subscribe: mpsc::UnboundedSender<Command>,
    counters: Counters,
}

/// A Redis pub/sub adapter compatible with npm `@socket.io/redis-adapter` (its default,
/// non-sharded `createAdapter`): Rust and Node servers share one cluster, and
/// `@socket.io/redis-emitter` drives both.
///
/// ```no_run
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// use socketio_redis::{RedisAdapter, RedisConfig};
/// let redis = RedisAdapter::new("redis://127.0.0.1:6379/", RedisConfig::default())?;
/// let io = socketio_server::Server::builder().adapter(redis.factory()).build();
/// # let _ = io; Ok(()) }
/// ```
///
/// Build it, and the server, inside a tokio runtime: its connections run there. Redis need not
/// be up: the adapter connects, and reconnects after a loss, by itself. Meanwhile every server
/// keeps serving its own clients; messages for the other servers queue up to
/// [`RedisConfig::max_queued_messages`] and the rest are dropped ([`RedisAdapter::stats`]).
#[derive(Clone)]
pub struct RedisAdapter {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for RedisAdapter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisAdapter")
            .field("config", &self.shared.config)
            .finish_non_exhaustive()
    }
}

impl RedisAdapter {
    /// An adapter for the Redis server at `url` (`redis://host:port/db`).
    ///
    /// # Errors
    ///
    /// When `url` is not a Redis URL. Connecting happens later, and again after every loss.
    ///
    /// # Panics
    ///
    /// Outside a tokio runtime.
    pub fn new(url: &str, config: RedisConfig) -> redis::RedisResult<Self> {
        Self::with_client(redis::Client::open(url)?, config)
    }

    /// An adapter over an existing client.
    ///
    /// # Errors
    ///
    /// Never today; kept for settings a client may refuse.
    ///
    /// # Panics
    ///
    /// Outside a tokio runtime.
    pub fn with_client(client: redis::Client, config: RedisConfig) -> redis::RedisResult<Self> {
        let publisher = publisher(client.clone())?;
        let (queue, outgoing) = mpsc::channel(config.max_queued_messages.max(1));
        let (subscribe, new_subscriptions) = mpsc::unbounded_channel();
        let shared = Arc::new(Shared {
            config,
            client,
            publisher,
            queue,
            subscriptions: Mutex::new(Vec::new()),
            subscribe,
            counters: Counters::default(),
        });
        tokio::spawn(publish_loop(Arc::downgrade(&shared), outgoing));
        tokio::spawn(subscribe_loop(Arc::downgrade(&shared), new_subscriptions));
        Ok(Self { shared })
    }

    /// The factory for `ServerBuilder::adapter`: one adapter per namespace, all sharing this
    /// adapter's connections.
    pub fn factory(&self) -> impl Fn(&str) -> Arc<dyn Adapter> + Send + Sync + 'static {
        let shared = self.shared.clone();
        move |nsp: &str| {
            let channels = Channels::new(&shared.config.key, nsp);
            // Node's Redis adapter uids are 6 characters.
            let uid = random_id(3);
            let transport = Arc::new(RedisTransport {
                shared: shared.clone(),
                channels: channels.clone(),
            });
            let config = ClusterConfig::default().request_timeout(shared.config.request_timeout);
            let adapter = ClusterAdapter::with_uid(uid.clone(), transport, config);
            let subscription = Subscription {
                channels,
                uid,
                adapter: Arc::downgrade(&adapter),
            };
            let _ = shared.subscribe.send(Command::Subscribe(
                subscription.patterns(),
                subscription.channels(),
            ));
            lock(&shared.subscriptions).push(subscription);
            adapter as Arc<dyn Adapter>
        }
    }

    /// What the adapter did so far.
    pub fn stats(&self) -> RedisStats {
        self.shared.counters.stats()
    }

    /// Whether the subscribing connection is up (messages from other servers arrive).
    pub fn is_connected(&self) -> bool {
        self.shared.counters.is_connected()
    }
}

struct RedisTransport {
    shared: Arc<Shared>,
    channels: Channels,
}

impl RedisTransport {
    fn enqueue(&self, outgoing: Option<Outgoing>) {
        let Some(outgoing) = outgoing else { return };
        if self.shared.queue.try_send(outgoing).is_err() {
            if let Some(dropped) = self.shared.counters.count_dropped() {
                tracing::warn!(
                    dropped,
                    "Redis adapter: publish queue full (Redis down or slow), messages to other servers dropped"
                );
            }
        }
    }
}

impl Transport for RedisTransport {
    fn publish(&self, message: Message) {
        self.enqueue(encode_request(&self.channels, &message));
    }

    fn publish_response(&self, requester: &str, message: Message) {
        self.enqueue(encode_response(
            &self.channels,
            requester,
            self.shared.config.publish_on_specific_response_channel,
            &message,
        ));
    }

    fn server_count(&self) -> AdapterFuture<'_, Option<usize>> {
        Box::pin(async move {
            match server_count(&self.shared.publisher, "NUMSUB", &self.channels.request).await {
                Ok(count) => Some(count),
                Err(error) => {
                    // Without Redis this server is alone as far as anyone can tell.
                    tracing::warn!(%error, "Redis adapter: cannot count the servers");
                    Some(1)
                }
            }
        })
    }

    fn close(&self) {
        let mut subscriptions = lock(&self.shared.subscriptions);
        for closed in subscriptions.iter().filter(|s| s.channels == self.channels) {
            // Unsubscribed, the server no longer counts in the other servers' NUMSUB, so they
            // do not wait for its answers.
            let _ = self
                .shared
                .subscribe
                .send(Command::Unsubscribe(closed.patterns(), closed.channels()));
        }
        subscriptions.retain(|s| s.channels != self.channels);
    }
}

async fn publish_loop(shared: Weak<Shared>, mut outgoing: mpsc::Receiver<Outgoing>) {
    let mut health = PublishHealth::default();
    while let Some(message) = outgoing.recv().await {
        let Some(shared) = shared.upgrade() else {
            return;
        };
        let mut conn = shared.publisher.clone();
        let result: redis::RedisResult<()> = redis::cmd("PUBLISH")
            .arg(&message.channel)
            .arg(&message.payload)
            .query_async(&mut conn)
            .await;
        match result {
            Ok(()) => {
                if health.published(&shared.counters) {
                    let c = shared.counters.stats();
                    tracing::warn!(
                        failed = c.failed,
                        dropped = c.dropped,
                        "Redis adapter: publishing again; the messages counted as failed or dropped were lost"
                    );
                }
            }
            Err(error) => {
                if health.failed(&shared.counters) {
                    tracing::warn!(%error, "Redis adapter: cannot publish; messages to other servers are lost until Redis is back");
                }
            }
        }
    }
}

async fn subscribe_loop(
    shared: Weak<Shared>,
    mut new_subscriptions: mpsc::UnboundedReceiver<Command>,
) {
    let mut resubscribe = Resubscribe::new();
    loop {
        let Some(client) = shared.upgrade().map(|s| s.client.clone()) else {
            return;
        };
        match connect(&shared, &client).await {
            Ok(pubsub) => {
                if resubscribe.subscribed(shared.upgrade().as_deref().map(|s| &s.counters)) {
                    tracing::warn!(
                        "Redis adapter: subscribed again; messages other servers published meanwhile were lost"
                    );
                }
                let (mut sink, mut stream) = pubsub.split();
                loop {
                    tokio::select! {
                        message = stream.next() => {
                            let Some(message) = message else { break };
                            let Some(shared) = shared.upgrade() else { return };
                            shared.counters.count_received();
                            dispatch(&shared, message.get_channel_name(), message.get_payload_bytes());
                        }
                        subscription = new_subscriptions.recv() => {
                            let Some(command) = subscription else { return };
                            let done = async {
                                match command {
                                    Command::Subscribe(patterns, channels) => {
                                        sink.psubscribe(&patterns).await?;
                                        sink.subscribe(&channels).await
                                    }
                                    Command::Unsubscribe(patterns, channels) => {
                                        sink.punsubscribe(&patterns).await?;
                                        sink.unsubscribe(&channels).await
                                    }
                                }
                            };
                            if done.await.is_err() {
                                // The full set is subscribed again on reconnection.
                                break;
                            }
                        }
                    }
                }
                resubscribe.lost(shared.upgrade().as_deref().map(|s| &s.counters));
                tracing::warn!("Redis adapter: subscription lost; reconnecting");
            }
            Err(error) => {
                tracing::debug!(%error, "Redis adapter: cannot subscribe yet");
                resubscribe.failed();
            }
        }
        resubscribe.pause().await;
    }
}

/// Connects and subscribes every namespace's channels.
async fn connect(
    shared: &Weak<Shared>,
    client: &redis::Client,
) -> redis::RedisResult<redis::aio::PubSub> {
    let mut pubsub = tokio::time::timeout(Duration::from_secs(2), client.get_async_pubsub())
        .await
        .map_err(|_| redis::RedisError::from((redis::ErrorKind::Io, "connection timed out")))??;
    let (patterns, channels) = {
        let Some(shared) = shared.upgrade() else {
            return Ok(pubsub);
        };
        let subscriptions = lock(&shared.subscriptions);
        (
            subscriptions
                .iter()
                .flat_map(Subscription::patterns)
                .collect::<Vec<_>>(),
            subscriptions
                .iter()
                .flat_map(Subscription::channels)
                .collect::<Vec<_>>(),
        )
    };
    if !patterns.is_empty() {
        pubsub.psubscribe(&patterns).await?;
    }
    if !channels.is_empty() {
        pubsub.subscribe(&channels).await?;
    }
    Ok(pubsub)
}

fn dispatch(shared: &Shared, channel: &str, payload: &[u8]) {
    let targets: Vec<(Arc<ClusterAdapter>, ChannelKind<'_>, String)> = {
        let subscriptions = lock(&shared.subscriptions);
        subscriptions
            .iter()
            .filter_map(|s| {
                let kind = s.channels.classify(channel)?;
                Some((s.adapter.upgrade()?, kind, s.channels.nsp.clone()))
            })
            .collect()
    };
    for (adapter, kind, nsp) in targets {
        let message = match kind {
            ChannelKind::Broadcast(room) => {
                // As Node: a room channel concerns this server only if it has the room.
                if let Some(room) = room {
                    if !adapter.namespace().is_some_and(|ns| ns.has_room(room)) {
                        continue;
                    }
                }
                decode_broadcast(&nsp, payload)
            }
            ChannelKind::Request => decode_request(&nsp, payload),
            ChannelKind::Response => decode_response(&nsp, payload),
        };
        match message {
            Some(message) => adapter.handle(message),
            None => tracing::debug!(channel, "Redis adapter: malformed message ignored"),
        }
    }
}
