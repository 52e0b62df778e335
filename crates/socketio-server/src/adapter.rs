//! The adapter: how a namespace reaches the sockets of other servers. The namespace always
//! serves its own sockets itself; the adapter carries every operation to the rest of the
//! cluster and brings the answers back. [`MemoryAdapter`], the default, has no other server.
//!
//! The trait is object-safe and asynchronous so that a cluster adapter (Redis, PostgreSQL…)
//! answers with what other nodes say; no adapter type appears in the server's API.

use std::any::Any;
use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::pin::Pin;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use bytestring::ByteString;
use socketio_proto::{Args, Encoded};
use tokio::sync::mpsc;

use crate::Room;
use crate::ack::AckError;
use crate::cluster::LocalNamespace;

/// A boxed future returned by [`Adapter`] methods.
pub type AdapterFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Which sockets a cluster operation is for, and how.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct BroadcastOptions {
    /// Sockets in any of these rooms; every socket when empty.
    pub rooms: Vec<Room>,
    /// Sockets in none of these rooms (a socket's id counts as a room).
    pub except: Vec<Room>,
    /// The packet may be dropped for clients that cannot take it now.
    pub volatile: bool,
    /// The compression flag.
    pub compress: bool,
    /// The acknowledgement deadline of a broadcast with acknowledgements (Node's
    /// `flags.timeout`): how long other servers keep waiting for their clients' answers.
    pub timeout: Option<Duration>,
}

impl BroadcastOptions {
    /// Options for the sockets in any of `rooms` (all sockets when empty) but those in `except`.
    pub fn new(rooms: Vec<Room>, except: Vec<Room>) -> Self {
        Self {
            rooms,
            except,
            ..Self::default()
        }
    }
}

/// A socket on another server, as that server describes it.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct RemoteSocketData {
    /// The socket id.
    pub id: Room,
    /// Its rooms, its own id included.
    pub rooms: Vec<Room>,
    /// Its handshake as the remote server serialized it.
    pub handshake: serde_json::Value,
    /// Its `data`, as the remote server serialized it.
    pub data: serde_json::Value,
}

impl RemoteSocketData {
    /// A socket as its server described it.
    pub fn new(
        id: Room,
        rooms: Vec<Room>,
        handshake: serde_json::Value,
        data: serde_json::Value,
    ) -> Self {
        Self {
            id,
            rooms,
            handshake,
            data,
        }
    }
}

/// An error from the cluster.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AdapterError {
    /// Some servers did not answer in time.
    #[error("timeout reached: only {received} responses received out of {expected}")]
    Timeout {
        /// Answers received.
        received: usize,
        /// Answers expected.
        expected: usize,
    },
    /// The cluster cannot be reached.
    #[error("adapter error: {0}")]
    Other(String),
}

/// Where the acknowledgements of remote recipients of a broadcast go.
pub type AckSink = mpsc::UnboundedSender<Result<Args, AckError>>;

/// Carries a namespace's operations to the other servers of a cluster. Every method has a
/// single-server default, so an adapter implements what its backend supports.
pub trait Adapter: Send + Sync + 'static {
    /// Called once, when the namespace this adapter serves is created: `ns` applies what other
    /// servers ask to this server's sockets. A cluster adapter subscribes here.
    fn init(&self, _ns: LocalNamespace) {}

    /// Called when the namespace is removed or the server closes (Node's `adapter.close()`): a
    /// cluster adapter unsubscribes and says goodbye to the other servers.
    fn close(&self) {}

    /// A room came to exist on this server: its first socket joined (Node's `create-room`
    /// event). A socket's own id room does not count.
    fn room_created(&self, _room: &Room) {}

    /// The last socket of a room on this server left it (Node's `delete-room` event).
    fn room_deleted(&self, _room: &Room) {}

    /// A broadcast already delivered to this server's sockets: deliver it on the others.
    fn broadcast(&self, _packet: &Encoded, _options: &BroadcastOptions) {}

    /// A broadcast with acknowledgements: deliver it on the other servers and send their
    /// sockets' answers to `acks`; resolves to how many answers to expect from them.
    fn broadcast_with_ack(
        &self,
        _packet: &Encoded,
        _options: &BroadcastOptions,
        _acks: AckSink,
    ) -> AdapterFuture<'_, Result<usize, AdapterError>> {
        Box::pin(async { Ok(0) })
    }

    /// The matching sockets of the other servers.
    fn fetch_sockets(
        &self,
        _options: &BroadcastOptions,
    ) -> AdapterFuture<'_, Result<Vec<RemoteSocketData>, AdapterError>> {
        Box::pin(async { Ok(Vec::new()) })
    }

    /// Makes the matching sockets of the other servers join `rooms`.
    fn add_sockets(
        &self,
        _options: &BroadcastOptions,
        _rooms: &[Room],
    ) -> AdapterFuture<'_, Result<(), AdapterError>> {
        Box::pin(async { Ok(()) })
    }

    /// Makes the matching sockets of the other servers leave `rooms`.
    fn del_sockets(
        &self,
        _options: &BroadcastOptions,
        _rooms: &[Room],
    ) -> AdapterFuture<'_, Result<(), AdapterError>> {
        Box::pin(async { Ok(()) })
    }

    /// Disconnects the matching sockets of the other servers.
    fn disconnect_sockets(
        &self,
        _options: &BroadcastOptions,
        _close: bool,
    ) -> AdapterFuture<'_, Result<(), AdapterError>> {
        Box::pin(async { Ok(()) })
    }

    /// Sends an event to the other servers (Node's `serverSideEmit`), without waiting for
    /// answers.
    fn server_side_emit(
        &self,
        _event: &str,
        _args: Vec<serde_json::Value>,
    ) -> AdapterFuture<'_, Result<(), AdapterError>> {
        Box::pin(async { Ok(()) })
    }

    /// Sends an event to the other servers and collects one answer from each (Node's
    /// `serverSideEmitWithAck`); none on a single server.
    fn server_side_emit_with_ack(
        &self,
        _event: &str,
        _args: Vec<serde_json::Value>,
    ) -> AdapterFuture<'_, Result<Vec<serde_json::Value>, AdapterError>> {
        Box::pin(async { Ok(Vec::new()) })
    }

    /// How many servers the cluster has, this one included.
    fn server_count(&self) -> AdapterFuture<'_, usize> {
        Box::pin(async { 1 })
    }

    /// Connection state recovery with offsets the cluster assigns (Redis stream entry ids):
    /// when true, a broadcast that is neither `local` nor volatile (and a socket's own emit,
    /// with recovery on) goes to [`broadcast_recorded`](Adapter::broadcast_recorded) instead
    /// of being delivered here first.
    fn assigns_offsets(&self) -> bool {
        false
    }

    /// With [`assigns_offsets`](Adapter::assigns_offsets): publishes `event` with `args` (one
    /// argument per element) to the cluster, then delivers it to this server's matching
    /// sockets with the offset the cluster gave as last argument
    /// ([`LocalNamespace::broadcast`] with `options`), or without one when the cluster cannot
    /// be reached. Deliveries keep the order of the calls.
    fn broadcast_recorded(&self, _event: &str, _args: Args, _options: &BroadcastOptions) {}

    /// Connection state recovery: the offset of the next recorded packet, or `None` when this
    /// adapter does not record packets (then no packet carries an offset and no session can be
    /// recovered).
    fn next_offset(&self) -> Option<ByteString> {
        None
    }

    /// Connection state recovery: keeps a packet sent with `offset` (its last argument), to
    /// replay it to the sessions it was meant for that are disconnected now.
    fn record(&self, _offset: &ByteString, _packet: &Encoded, _options: &BroadcastOptions) {}

    /// Connection state recovery: keeps the state of a socket that disconnected for a
    /// recoverable reason.
    fn persist_session(&self, _session: PersistedSession) {}

    /// Connection state recovery: the session `pid` with the packets it missed after `offset`,
    /// or `None` when it cannot be recovered (unknown or expired session, unknown offset).
    fn restore_session(
        &self,
        _pid: &str,
        _offset: &str,
    ) -> AdapterFuture<'_, Result<Option<RestoredSession>, AdapterError>> {
        Box::pin(async { Ok(None) })
    }
}

/// The state of a socket kept for connection state recovery.
#[non_exhaustive]
pub struct PersistedSession {
    /// The socket id, given back on recovery.
    pub sid: Room,
    /// The private session id the client presents to recover.
    pub pid: Room,
    /// The socket's rooms, its own id included.
    pub rooms: Vec<Room>,
    /// The socket's data (see `Socket::set_data`).
    pub data: Option<Box<dyn Any + Send + Sync>>,
}

impl PersistedSession {
    /// A session's state, for an adapter that keeps sessions elsewhere (Redis…).
    pub fn new(
        sid: Room,
        pid: Room,
        rooms: Vec<Room>,
        data: Option<Box<dyn Any + Send + Sync>>,
    ) -> Self {
        Self {
            sid,
            pid,
            rooms,
            data,
        }
    }
}

impl RestoredSession {
    /// A recovered session and the packets it missed, encoded for its connection.
    pub fn new(session: PersistedSession, missed: Vec<Encoded>) -> Self {
        Self { session, missed }
    }
}

impl std::fmt::Debug for PersistedSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PersistedSession")
            .field("sid", &self.sid)
            .field("rooms", &self.rooms)
            .finish_non_exhaustive()
    }
}

/// A recovered session: its state, and what it missed, in order.
#[non_exhaustive]
pub struct RestoredSession {
    /// The state kept when it disconnected.
    pub session: PersistedSession,
    /// The packets sent to it meanwhile, encoded as they were sent (offsets included).
    pub missed: Vec<Encoded>,
}

impl std::fmt::Debug for RestoredSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RestoredSession")
            .field("session", &self.session)
            .field("missed", &self.missed.len())
            .finish()
    }
}

/// Connection state recovery settings (Node's `connectionStateRecovery`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct RecoveryConfig {
    /// How long a disconnected session can be recovered (`maxDisconnectionDuration`, 2 min).
    pub max_disconnection_duration: Duration,
    /// Whether a recovered socket skips the namespace middlewares (`skipMiddlewares`, true).
    pub skip_middlewares: bool,
    /// Most packets kept for replay per namespace (Node keeps every packet of the last
    /// `maxDisconnectionDuration`; this bounds memory under heavy traffic). A session whose
    /// offset was dropped is not recovered.
    pub max_buffered_packets: usize,
}

impl Default for RecoveryConfig {
    fn default() -> Self {
        Self {
            max_disconnection_duration: Duration::from_secs(120),
            skip_middlewares: true,
            max_buffered_packets: 65_536,
        }
    }
}

/// The single-server adapter (Node's in-memory `Adapter`): every operation stays on this
/// server, where the namespace already carried it out. With [`MemoryAdapter::with_recovery`]
/// it also keeps sessions and packets for connection state recovery (Node's
/// `SessionAwareAdapter`).
#[derive(Debug, Default)]
pub struct MemoryAdapter {
    recovery: Option<Mutex<RecoveryStore>>,
}

impl MemoryAdapter {
    /// An adapter without connection state recovery.
    pub fn new() -> Self {
        Self::default()
    }

    /// An adapter that keeps what connection state recovery needs.
    pub fn with_recovery(config: RecoveryConfig) -> Self {
        let mut epoch = [0u8; 6];
        // Offsets only need to differ from a previous run's; a clock fallback is enough.
        if getrandom::fill(&mut epoch).is_err() {
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos());
            epoch.copy_from_slice(&nanos.to_le_bytes()[..6]);
        }
        let epoch = epoch.iter().map(|b| format!("{b:02x}")).collect();
        Self {
            recovery: Some(Mutex::new(RecoveryStore {
                config,
                epoch,
                next_seq: 0,
                packets: VecDeque::new(),
                sessions: HashMap::new(),
                session_order: VecDeque::new(),
            })),
        }
    }

    fn store(&self) -> Option<std::sync::MutexGuard<'_, RecoveryStore>> {
        self.recovery
            .as_ref()
            .map(|store| store.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

#[derive(Debug)]
struct RecoveryStore {
    config: RecoveryConfig,
    /// Distinguishes this store's offsets from another run's.
    epoch: String,
    next_seq: u64,
    packets: VecDeque<StoredPacket>,
    sessions: HashMap<Room, (Instant, PersistedSession)>,
    /// Sessions by disconnection time, to expire them in order.
    session_order: VecDeque<(Instant, Room)>,
}

#[derive(Debug)]
struct StoredPacket {
    seq: u64,
    at: Instant,
    rooms: Vec<Room>,
    except: Vec<Room>,
    packet: Encoded,
}

impl RecoveryStore {
    fn seq_of(&self, offset: &str) -> Option<u64> {
        let (epoch, seq) = offset.split_once('-')?;
        if epoch != self.epoch {
            return None;
        }
        seq.parse().ok()
    }

    fn expire(&mut self, now: Instant) {
        let max = self.config.max_disconnection_duration;
        while let Some(front) = self.packets.front() {
            if now.duration_since(front.at) <= max
                && self.packets.len() <= self.config.max_buffered_packets
            {
                break;
            }
            self.packets.pop_front();
        }
        while let Some((at, pid)) = self.session_order.front() {
            if now.duration_since(*at) <= max {
                break;
            }
            // A session persisted again later has a newer entry; only drop the one this was.
            if self.sessions.get(pid).is_some_and(|(t, _)| t == at) {
                self.sessions.remove(pid);
            }
            self.session_order.pop_front();
        }
    }
}

/// Whether a packet broadcast to `rooms` except `except` was meant for a socket in
/// `session_rooms` (Node's `shouldIncludePacket`).
fn meant_for(session_rooms: &[Room], rooms: &[Room], except: &[Room]) -> bool {
    (rooms.is_empty() || session_rooms.iter().any(|r| rooms.contains(r)))
        && session_rooms.iter().all(|r| !except.contains(r))
}

impl Adapter for MemoryAdapter {
    fn next_offset(&self) -> Option<ByteString> {
        let mut store = self.store()?;
        let seq = store.next_seq;
        store.next_seq += 1;
        Some(ByteString::from(format!("{}-{seq}", store.epoch)))
    }

    fn record(&self, offset: &ByteString, packet: &Encoded, options: &BroadcastOptions) {
        let Some(mut store) = self.store() else {
            return;
        };
        let Some(seq) = store.seq_of(offset) else {
            return;
        };
        let now = Instant::now();
        store.packets.push_back(StoredPacket {
            seq,
            at: now,
            rooms: options.rooms.clone(),
            except: options.except.clone(),
            packet: packet.clone(),
        });
        store.expire(now);
    }

    fn persist_session(&self, session: PersistedSession) {
        let Some(mut store) = self.store() else {
            return;
        };
        let now = Instant::now();
        store.session_order.push_back((now, session.pid.clone()));
        store.sessions.insert(session.pid.clone(), (now, session));
        store.expire(now);
    }

    fn restore_session(
        &self,
        pid: &str,
        offset: &str,
    ) -> AdapterFuture<'_, Result<Option<RestoredSession>, AdapterError>> {
        let restored = self.store().and_then(|mut store| {
            store.expire(Instant::now());
            let seq = store.seq_of(offset)?;
            let first = store.packets.front()?.seq;
            // The offset must still be held: otherwise packets may have been lost.
            let index = usize::try_from(seq.checked_sub(first)?).ok()?;
            store.packets.get(index).filter(|p| p.seq == seq)?;
            // Recovery takes the session: a second client with the same pid starts afresh.
            let (_, session) = store.sessions.remove(pid)?;
            let missed = store
                .packets
                .iter()
                .skip(index + 1)
                .filter(|p| meant_for(&session.rooms, &p.rooms, &p.except))
                .map(|p| p.packet.clone())
                .collect();
            Some(RestoredSession { session, missed })
        });
        Box::pin(async move { Ok(restored) })
    }
}
