//! The Redis Streams backend, compatible with npm `@socket.io/redis-streams-adapter` (0.3):
//! broadcasts, room changes and disconnections are appended to a stream (`XADD`, fields `uid`,
//! `nsp`, `type`, `data` with `data` as JSON, or base64 MessagePack when binary) that every
//! server reads (`XREAD`); requests that need answers go over pub/sub (`<prefix>#<nsp>#`,
//! MessagePack) and answers to `<prefix>#<nsp>#<uid>#`. The stream entry ids are the offsets of
//! connection state recovery, and sessions are kept in Redis (`sio:session:<pid>`), so a client
//! can resume on any server of the cluster.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use futures_util::StreamExt;
use redis::aio::ConnectionManager;
use socketio_cluster::message::{from_cluster_value, to_cluster_value};
use socketio_cluster::value::{self, Value};
use socketio_cluster::{
    Body, ClusterAdapter, ClusterConfig, Message, StoredSession, Transport, random_id,
};
use socketio_server::{Adapter, AdapterFuture};
use tokio::sync::mpsc;

use crate::adapter::RedisStats;
use crate::common::{Counters, PublishHealth, Resubscribe, lock, publisher, server_count};

/// Settings of the Redis Streams adapter (the options of `@socket.io/redis-streams-adapter`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct StreamsConfig {
    /// The stream name, or the prefix of the stream names (`streamName`, `"socket.io"`).
    pub stream_name: String,
    /// How many streams the namespaces are spread over (`streamCount`, 1).
    pub stream_count: u32,
    /// The prefix of the pub/sub channels (`channelPrefix`, `"socket.io"`).
    pub channel_prefix: String,
    /// The approximate most entries a stream keeps (`maxLen`, 10 000).
    pub max_len: usize,
    /// Entries read per `XREAD` (`readCount`, 100).
    pub read_count: usize,
    /// How long an `XREAD` blocks (`blockTimeInMs`, 5 s).
    pub block_time: Duration,
    /// The prefix of session keys (`sessionKeyPrefix`, `"sio:session:"`).
    pub session_key_prefix: String,
    /// How long to wait for the other servers' answers (5 s).
    pub request_timeout: Duration,
    /// Most messages waiting to be written; beyond that new ones are dropped and counted.
    pub max_queued_messages: usize,
}

impl Default for StreamsConfig {
    fn default() -> Self {
        Self {
            stream_name: "socket.io".to_owned(),
            stream_count: 1,
            channel_prefix: "socket.io".to_owned(),
            max_len: 10_000,
            read_count: 100,
            block_time: Duration::from_secs(5),
            session_key_prefix: "sio:session:".to_owned(),
            request_timeout: Duration::from_secs(5),
            max_queued_messages: 10_000,
        }
    }
}

impl StreamsConfig {
    /// With stream name (or prefix) `name`.
    #[must_use]
    pub fn stream_name(mut self, name: impl Into<String>) -> Self {
        self.stream_name = name.into();
        self
    }

    /// With channel prefix `prefix`.
    #[must_use]
    pub fn channel_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.channel_prefix = prefix.into();
        self
    }

    /// With session key prefix `prefix`.
    #[must_use]
    pub fn session_key_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.session_key_prefix = prefix.into();
        self
    }

    /// With `block_time` for each `XREAD`.
    #[must_use]
    pub fn block_time(mut self, block_time: Duration) -> Self {
        self.block_time = block_time;
        self
    }
}

/// The stream of namespace `nsp` (Node's `computeStreamName`, JavaScript's 32-bit hash and
/// signed remainder included).
pub fn stream_name(config: &StreamsConfig, nsp: &str) -> String {
    if config.stream_count <= 1 {
        return config.stream_name.clone();
    }
    let mut hash: i32 = 0;
    for unit in nsp.encode_utf16() {
        hash = hash.wrapping_mul(31).wrapping_add(i32::from(unit));
    }
    let count = i32::try_from(config.stream_count).unwrap_or(i32::MAX);
    format!("{}-{}", config.stream_name, hash % count)
}

type Then = Box<dyn FnOnce(Option<String>) + Send>;

enum Job {
    Publish {
        channel: String,
        payload: Vec<u8>,
    },
    Append {
        stream: String,
        fields: Vec<(&'static str, String)>,
        then: Option<Then>,
    },
}

struct Namespace {
    nsp: String,
    public: String,
    private: String,
    adapter: Weak<ClusterAdapter>,
}

struct Shared {
    config: StreamsConfig,
    client: redis::Client,
    publisher: ConnectionManager,
    queue: mpsc::Sender<Job>,
    namespaces: Mutex<Vec<Namespace>>,
    /// Channels to subscribe to (`true`) or unsubscribe from.
    subscribe: mpsc::UnboundedSender<(bool, Vec<String>)>,
    streams: Mutex<Vec<String>>,
    /// Set while Redis is known to be unreachable: recorded broadcasts are then delivered
    /// here at once, without an offset, instead of waiting for it.
    down: AtomicBool,
    counters: Counters,
}

/// A Redis Streams adapter compatible with npm `@socket.io/redis-streams-adapter`, with
/// connection state recovery across servers: enable it with
/// `ServerBuilder::connection_state_recovery`, and a client that reconnects to any server of the
/// cluster gets its session and the packets it missed.
///
/// ```no_run
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// use socketio_redis::{StreamsAdapter, StreamsConfig};
/// let redis = StreamsAdapter::new("redis://127.0.0.1:6379/", StreamsConfig::default())?;
/// let io = socketio_server::Server::builder()
///     .connection_state_recovery(Default::default())
///     .adapter(redis.factory())
///     .build();
/// # let _ = io; Ok(()) }
/// ```
///
/// With recovery on, a broadcast is written to the stream before this server delivers it (its
/// entry id is the offset its clients resume from), as in Node; while Redis is unreachable it
/// is delivered at once, without an offset.
#[derive(Clone)]
pub struct StreamsAdapter {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for StreamsAdapter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StreamsAdapter")
            .field("config", &self.shared.config)
            .finish_non_exhaustive()
    }
}

impl StreamsAdapter {
    /// An adapter for the Redis server at `url`.
    ///
    /// # Errors
    ///
    /// When `url` is not a Redis URL.
    ///
    /// # Panics
    ///
    /// Outside a tokio runtime.
    pub fn new(url: &str, config: StreamsConfig) -> redis::RedisResult<Self> {
        let client = redis::Client::open(url)?;
        let publisher = publisher(client.clone())?;
        let (queue, jobs) = mpsc::channel(config.max_queued_messages.max(1));
        let (subscribe, subscriptions) = mpsc::unbounded_channel();
        let shared = Arc::new(Shared {
            config,
            client,
            publisher,
            queue,
            namespaces: Mutex::new(Vec::new()),
            subscribe,
            streams: Mutex::new(Vec::new()),
            down: AtomicBool::new(false),
            counters: Counters::default(),
        });
        tokio::spawn(write_loop(Arc::downgrade(&shared), jobs));
        tokio::spawn(subscribe_loop(Arc::downgrade(&shared), subscriptions));
        Ok(Self { shared })
    }

    /// The factory for `ServerBuilder::adapter`.
    pub fn factory(&self) -> impl Fn(&str) -> Arc<dyn Adapter> + Send + Sync + 'static {
        let shared = self.shared.clone();
        move |nsp: &str| {
            let uid = random_id(8);
            let public = format!("{}#{nsp}#", shared.config.channel_prefix);
            let private = format!("{public}{uid}#");
            let stream = stream_name(&shared.config, nsp);
            let transport = Arc::new(StreamsTransport {
                shared: shared.clone(),
                nsp: nsp.to_owned(),
                public: public.clone(),
                stream: stream.clone(),
            });
            let config = ClusterConfig::default().request_timeout(shared.config.request_timeout);
            let adapter = ClusterAdapter::with_uid(uid, transport, config);
            let _ = shared
                .subscribe
                .send((true, vec![public.clone(), private.clone()]));
            lock(&shared.namespaces).push(Namespace {
                nsp: nsp.to_owned(),
                public,
                private,
                adapter: Arc::downgrade(&adapter),
            });
            let mut streams = lock(&shared.streams);
            if !streams.contains(&stream) {
                streams.push(stream.clone());
                tokio::spawn(read_loop(Arc::downgrade(&shared), stream));
            }
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

struct StreamsTransport {
    shared: Arc<Shared>,
    nsp: String,
    public: String,
    stream: String,
}

/// Messages that need no replay: requests waiting for answers go over pub/sub.
fn is_ephemeral(body: &Body) -> bool {
    matches!(
        body,
        Body::Broadcast {
            request_id: Some(_),
            ..
        } | Body::ServerSideEmit { .. }
            | Body::FetchSockets { .. }
    )
}

/// The stream entry of a message (Node's `RedisStreamsAdapter.encode`).
fn entry_fields(message: &Message) -> Vec<(&'static str, String)> {
    let mut value = to_cluster_value(message);
    let mut fields = vec![
        ("uid", message.uid.clone()),
        ("nsp", message.nsp.clone()),
        ("type", message.body.type_number().to_string()),
    ];
    if let Some(data) = value.take("data") {
        let data = if data.has_binary() {
            BASE64.encode(value::to_msgpack(&data))
        } else {
            String::from_utf8_lossy(&value::to_json(&data)).into_owned()
        };
        fields.push(("data", data));
    }
    fields
}

/// A message from its stream entry fields. `None` when malformed.
fn from_entry(fields: &std::collections::HashMap<String, redis::Value>) -> Option<Message> {
    let text = |key: &str| -> Option<String> {
        match fields.get(key)? {
            redis::Value::BulkString(bytes) => Some(String::from_utf8_lossy(bytes).into_owned()),
            redis::Value::SimpleString(s) => Some(s.clone()),
            _ => None,
        }
    };
    let kind: u64 = text("type")?.parse().ok()?;
    let mut entries = vec![
        ("uid".to_owned(), Value::str(text("uid")?)),
        ("nsp".to_owned(), Value::str(text("nsp")?)),
        ("type".to_owned(), Value::from(kind)),
    ];
    if let Some(data) = text("data") {
        let data = if data.starts_with('{') {
            value::from_json(data.as_bytes()).ok()?
        } else {
            value::from_msgpack(&BASE64.decode(data.as_bytes()).ok()?).ok()?
        };
        entries.push(("data".to_owned(), data));
    }
    from_cluster_value(Value::Map(entries))
}

impl StreamsTransport {
    fn enqueue(&self, job: Job) {
        if let Err(error) = self.shared.queue.try_send(job) {
            if let Some(dropped) = self.shared.counters.count_dropped() {
                tracing::warn!(
                    dropped,
                    "Redis streams adapter: queue full, messages to other servers dropped"
                );
            }
            // Local delivery never waits for Redis.
            if let Job::Append {
                then: Some(then), ..
            } = error.into_inner()
            {
                then(None);
            }
        }
    }
}

impl Transport for StreamsTransport {
    fn publish(&self, message: Message) {
        if is_ephemeral(&message.body) {
            self.enqueue(Job::Publish {
                channel: self.public.clone(),
                payload: value::to_msgpack(&to_cluster_value(&message)),
            });
        } else {
            self.enqueue(Job::Append {
                stream: self.stream.clone(),
                fields: entry_fields(&message),
                then: None,
            });
        }
    }

    fn publish_response(&self, requester: &str, message: Message) {
        self.enqueue(Job::Publish {
            channel: format!("{}{requester}#", self.public),
            payload: value::to_msgpack(&to_cluster_value(&message)),
        });
    }

    fn assigns_offsets(&self) -> bool {
        true
    }

    fn publish_then(&self, message: Message, then: Box<dyn FnOnce(Option<String>) + Send>) {
        let fields = entry_fields(&message);
        if self.shared.down.load(Ordering::Acquire) {
            then(None);
            self.enqueue(Job::Append {
                stream: self.stream.clone(),
                fields,
                then: None,
            });
            return;
        }
        self.enqueue(Job::Append {
            stream: self.stream.clone(),
            fields,
            then: Some(then),
        });
    }

    fn server_count(&self) -> AdapterFuture<'_, Option<usize>> {
        Box::pin(async move {
            let answer = server_count(&self.shared.publisher, "NUMSUB", &self.public).await;
            Some(answer.unwrap_or(1))
        })
    }

    fn persist_session(&self, session: Value, ttl: Duration) {
        let Some(pid) = session.get("pid").and_then(Value::as_str) else {
            return;
        };
        let key = format!("{}{pid}", self.shared.config.session_key_prefix);
        let encoded = BASE64.encode(value::to_msgpack(&session));
        let mut conn = self.shared.publisher.clone();
        let millis = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1);
        tokio::spawn(async move {
            let stored: redis::RedisResult<()> = redis::cmd("SET")
                .arg(&key)
                .arg(encoded)
                .arg("PX")
                .arg(millis)
                .query_async(&mut conn)
                .await;
            if let Err(error) = stored {
                tracing::warn!(%error, "Redis streams adapter: session not kept");
            }
        });
    }

    fn restore_session(&self, pid: &str, offset: &str) -> AdapterFuture<'_, Option<StoredSession>> {
        let key = format!("{}{pid}", self.shared.config.session_key_prefix);
        let offset = offset.to_owned();
        Box::pin(async move {
            let (ms, seq) = offset.split_once('-')?;
            let seq: u64 = seq.parse().ok()?;
            ms.parse::<u64>().ok()?;
            let mut conn = self.shared.publisher.clone();
            let (raw, _): (Option<String>, i64) = redis::pipe()
                .atomic()
                .get(&key)
                .del(&key)
                .query_async(&mut conn)
                .await
                .ok()?;
            let exists: redis::streams::StreamRangeReply = redis::cmd("XRANGE")
                .arg(&self.stream)
                .arg(&offset)
                .arg(&offset)
                .query_async(&mut conn)
                .await
                .ok()?;
            if exists.ids.is_empty() {
                return None;
            }
            let session = value::from_msgpack(&BASE64.decode(raw?.as_bytes()).ok()?).ok()?;
            let mut missed = Vec::new();
            let mut from = format!("{ms}-{}", seq + 1);
            // As Node: a bounded number of reads, so that a stream written faster than it is
            // read cannot keep this going.
            for _ in 0..100 {
                let range: redis::streams::StreamRangeReply = redis::cmd("XRANGE")
                    .arg(&self.stream)
                    .arg(&from)
                    .arg("+")
                    .arg("COUNT")
                    .arg(1000)
                    .query_async(&mut conn)
                    .await
                    .ok()?;
                let Some(last) = range.ids.last() else { break };
                let (ms, seq) = last.id.split_once('-')?;
                from = format!("{ms}-{}", seq.parse::<u64>().ok()? + 1);
                for entry in &range.ids {
                    if let Some(message) = from_entry(&entry.map) {
                        if message.nsp == self.nsp && matches!(message.body, Body::Broadcast { .. })
                        {
                            missed.push((message, entry.id.clone()));
                        }
                    }
                }
            }
            Some((session, missed))
        })
    }

    fn close(&self) {
        let mut namespaces = lock(&self.shared.namespaces);
        for closed in namespaces.iter().filter(|ns| ns.nsp == self.nsp) {
            // No longer counted by the other servers' NUMSUB: they stop waiting for answers.
            let _ = self
                .shared
                .subscribe
                .send((false, vec![closed.public.clone(), closed.private.clone()]));
        }
        namespaces.retain(|ns| ns.nsp != self.nsp);
    }
}

async fn write_loop(shared: Weak<Shared>, mut jobs: mpsc::Receiver<Job>) {
    let mut health = PublishHealth::default();
    while let Some(job) = jobs.recv().await {
        let Some(shared) = shared.upgrade() else {
            return;
        };
        let mut conn = shared.publisher.clone();
        let (result, then) = match job {
            Job::Publish { channel, payload } => {
                let result: redis::RedisResult<()> = redis::cmd("PUBLISH")
                    .arg(channel)
                    .arg(payload)
                    .query_async(&mut conn)
                    .await;
                (result.map(|()| None), None)
            }
            Job::Append {
                stream,
                fields,
                then,
            } => {
                let mut cmd = redis::cmd("XADD");
                cmd.arg(stream)
                    .arg("MAXLEN")
                    .arg("~")
                    .arg(shared.config.max_len)
                    .arg("*");
                for (name, value) in fields {
                    cmd.arg(name).arg(value);
                }
                let result: redis::RedisResult<String> = cmd.query_async(&mut conn).await;
                (result.map(Some), then)
            }
        };
        let offset = match result {
            Ok(offset) => {
                if health.published(&shared.counters) {
                    shared.down.store(false, Ordering::Release);
                    let c = shared.counters.stats();
                    tracing::warn!(
                        failed = c.failed,
                        dropped = c.dropped,
                        "Redis streams adapter: writing again; messages counted as failed or dropped were lost"
                    );
                }
                offset
            }
            Err(error) => {
                if health.failed(&shared.counters) {
                    shared.down.store(true, Ordering::Release);
                    tracing::warn!(%error, "Redis streams adapter: cannot write");
                }
                None
            }
        };
        if let Some(then) = then {
            then(offset);
        }
    }
}

fn dispatch(shared: &Shared, message: Message, offset: Option<String>) {
    let target = lock(&shared.namespaces)
        .iter()
        .find(|ns| ns.nsp == message.nsp)
        .and_then(|ns| ns.adapter.upgrade());
    if let Some(adapter) = target {
        adapter.handle_at(message, offset);
    }
}

async fn read_loop(shared: Weak<Shared>, stream: String) {
    let mut offset = "$".to_owned();
    let mut delay = Duration::from_millis(50);
    loop {
        let Some((client, block, count)) = shared
            .upgrade()
            .map(|s| (s.client.clone(), s.config.block_time, s.config.read_count))
        else {
            return;
        };
        let config = redis::AsyncConnectionConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(1)))
            .set_response_timeout(Some(block + Duration::from_secs(2)));
        let mut conn = match client
            .get_multiplexed_async_connection_with_config(&config)
            .await
        {
            Ok(conn) => conn,
            Err(error) => {
                tracing::debug!(%error, "Redis streams adapter: cannot read the stream yet");
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(2));
                continue;
            }
        };
        delay = Duration::from_millis(50);
        loop {
            let reply: redis::RedisResult<Option<redis::streams::StreamReadReply>> =
                redis::cmd("XREAD")
                    .arg("COUNT")
                    .arg(count)
                    .arg("BLOCK")
                    .arg(u64::try_from(block.as_millis()).unwrap_or(u64::MAX))
                    .arg("STREAMS")
                    .arg(&stream)
                    .arg(&offset)
                    .query_async(&mut conn)
                    .await;
            let Some(shared) = shared.upgrade() else {
                return;
            };
            let reply = match reply {
                Ok(reply) => reply,
                Err(error) => {
                    tracing::debug!(%error, "Redis streams adapter: reading the stream failed");
                    break;
                }
            };
            for key in reply.map(|r| r.keys).unwrap_or_default() {
                for entry in key.ids {
                    offset.clone_from(&entry.id);
                    shared.counters.count_received();
                    if let Some(message) = from_entry(&entry.map) {
                        dispatch(&shared, message, Some(entry.id));
                    }
                }
            }
        }
        tokio::time::sleep(delay).await;
    }
}

async fn subscribe_loop(
    shared: Weak<Shared>,
    mut subscriptions: mpsc::UnboundedReceiver<(bool, Vec<String>)>,
) {
    let mut resubscribe = Resubscribe::new();
    loop {
        let Some(client) = shared.upgrade().map(|s| s.client.clone()) else {
            return;
        };
        let connected = async {
            let mut pubsub =
                tokio::time::timeout(Duration::from_secs(2), client.get_async_pubsub())
                    .await
                    .map_err(|_| {
                        redis::RedisError::from((redis::ErrorKind::Io, "connection timed out"))
                    })??;
            let channels: Vec<String> = match shared.upgrade() {
                Some(shared) => lock(&shared.namespaces)
                    .iter()
                    .flat_map(|ns| [ns.public.clone(), ns.private.clone()])
                    .collect(),
                None => Vec::new(),
            };
            if !channels.is_empty() {
                pubsub.subscribe(&channels).await?;
            }
            redis::RedisResult::Ok(pubsub)
        };
        match connected.await {
            Ok(pubsub) => {
                let alive = shared.upgrade();
                if let Some(shared) = &alive {
                    shared.down.store(false, Ordering::Release);
                }
                if resubscribe.subscribed(alive.as_deref().map(|s| &s.counters)) {
                    tracing::warn!("Redis streams adapter: subscribed again");
                }
                drop(alive);
                let (mut sink, mut messages) = pubsub.split();
                loop {
                    tokio::select! {
                        message = messages.next() => {
                            let Some(message) = message else { break };
                            let Some(shared) = shared.upgrade() else { return };
                            shared.counters.count_received();
                            let decoded = value::from_msgpack(message.get_payload_bytes())
                                .ok()
                                .and_then(from_cluster_value);
                            match decoded {
                                Some(decoded) => dispatch(&shared, decoded, None),
                                None => tracing::debug!("Redis streams adapter: malformed message ignored"),
                            }
                        }
                        channels = subscriptions.recv() => {
                            let Some((subscribe, channels)) = channels else { return };
                            let done = if subscribe {
                                sink.subscribe(&channels).await
                            } else {
                                sink.unsubscribe(&channels).await
                            };
                            if done.is_err() {
                                break;
                            }
                        }
                    }
                }
                let alive = shared.upgrade();
                resubscribe.lost(alive.as_deref().map(|s| &s.counters));
                if let Some(shared) = alive {
                    shared.down.store(true, Ordering::Release);
                }
                tracing::warn!("Redis streams adapter: subscription lost; reconnecting");
            }
            Err(error) => {
                tracing::debug!(%error, "Redis streams adapter: cannot subscribe yet");
                resubscribe.failed();
            }
        }
        resubscribe.pause().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stream_names_as_node_computes_them() {
        let config = StreamsConfig::default();
        assert_eq!(stream_name(&config, "/"), "socket.io");
        let config = StreamsConfig {
            stream_count: 3,
            ..StreamsConfig::default()
        };
        // JavaScript: "/".charCodeAt(0) = 47; 47 % 3 = 2.
        assert_eq!(stream_name(&config, "/"), "socket.io-2");
        // A hash that overflows 32 bits and turns negative keeps its sign, as in JavaScript.
        let long = "/a-namespace-with-a-long-name";
        let mut hash: i32 = 0;
        for c in long.encode_utf16() {
            hash = hash.wrapping_mul(31).wrapping_add(i32::from(c));
        }
        assert_eq!(
            stream_name(&config, long),
            format!("socket.io-{}", hash % 3)
        );
    }

    #[test]
    fn entries_round_trip() {
        let message = Message {
            uid: "abc".into(),
            nsp: "/".into(),
            body: Body::SocketsJoin {
                opts: socketio_cluster::Opts::default(),
                rooms: vec!["r".into()],
            },
        };
        let fields = entry_fields(&message);
        assert_eq!(fields[2], ("type", "4".to_owned()));
        assert_eq!(
            fields[3].1,
            r#"{"opts":{"rooms":[],"except":[],"flags":{}},"rooms":["r"]}"#
        );
        let map = fields
            .into_iter()
            .map(|(k, v)| (k.to_owned(), redis::Value::BulkString(v.into_bytes())))
            .collect();
        assert_eq!(from_entry(&map), Some(message));
    }
}
