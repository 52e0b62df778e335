//! Namespaces: their sockets, rooms, middlewares and connection handlers.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard, Weak};
use std::time::Duration;

use bytestring::ByteString;
use serde::Serialize;
use serde::de::DeserializeOwned;
use socketio_proto::AckId;

use crate::ack::BroadcastAckFuture;
use crate::adapter::Adapter;
use crate::cluster::{LocalNamespace, ServerAck, ServerEventHandler};
use crate::handler::{BoxFuture, HandlerResult};
use crate::operators::{BroadcastOperator, RemoteSocket};
use crate::server::{Server, ServerInner};
use crate::socket::Socket;
use crate::{ConnectError, EmitError, Room};

type ConnectionHandler = dyn Fn(Socket) -> BoxFuture + Send + Sync;
pub(crate) type Middleware =
    dyn Fn(Socket) -> Pin<Box<dyn Future<Output = Result<(), ConnectError>> + Send>> + Send + Sync;

/// Connection handlers and middlewares; a dynamic namespace's children share their parent's.
#[derive(Default)]
pub(crate) struct Handlers {
    connection: RwLock<Vec<Arc<ConnectionHandler>>>,
    middlewares: RwLock<Vec<Arc<Middleware>>>,
}

/// A namespace: a channel of its own over the shared connections (`/`, `/admin`…). Cheap to
/// clone.
///
/// ```no_run
/// use socketio_server::{ConnectError, Server, Socket};
///
/// let io = Server::new();
/// let admin = io.of("/admin");
/// admin.use_middleware(|socket: Socket| async move {
///     match socket.handshake().auth().get("token") {
///         Some(_) => Ok(()),
///         None => Err(ConnectError::new("not authorized")),
///     }
/// });
/// admin.on_connection(|socket: Socket| async move {
///     let _ = socket.emit("welcome", "admin");
/// });
/// ```
#[derive(Clone)]
pub struct Namespace {
    pub(crate) inner: Arc<NamespaceInner>,
}

pub(crate) struct NamespaceInner {
    name: ByteString,
    server: Weak<ServerInner>,
    handlers: Arc<Handlers>,
    sockets: RwLock<HashMap<ByteString, Socket>>,
    /// Sockets whose middlewares are running: they may join rooms already.
    pre_connect: RwLock<HashMap<ByteString, Socket>>,
    /// Room members by socket id, with their handles: a broadcast to a room walks its members
    /// without looking each one up again.
    rooms: RwLock<HashMap<Room, HashMap<ByteString, Socket>>>,
    next_ack: AtomicU64,
    adapter: Arc<dyn Adapter>,
    /// Set for the children of a dynamic namespace, when empty children are removed.
    cleanup_when_empty: bool,
    /// Handlers of events from other servers ([`Namespace::on_server_side_emit`]).
    server_events: RwLock<HashMap<ByteString, Vec<Arc<ServerEventHandler>>>>,
}

impl NamespaceInner {
    pub(crate) fn name_bytes(&self) -> &ByteString {
        &self.name
    }
}

impl fmt::Debug for Namespace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Namespace")
            .field("name", &self.inner.name)
            .field("sockets", &read(&self.inner.sockets).len())
            .finish_non_exhaustive()
    }
}

fn read<T>(lock: &RwLock<T>) -> RwLockReadGuard<'_, T> {
    // No code panics while holding these locks and no user code runs under them.
    lock.read()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn write<T>(lock: &RwLock<T>) -> RwLockWriteGuard<'_, T> {
    lock.write()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Namespace {
    pub(crate) fn new(
        name: ByteString,
        server: Weak<ServerInner>,
        handlers: Arc<Handlers>,
        adapter: Arc<dyn Adapter>,
        cleanup_when_empty: bool,
    ) -> Self {
        let ns = Self {
            inner: Arc::new(NamespaceInner {
                name,
                server,
                handlers,
                sockets: RwLock::new(HashMap::new()),
                pre_connect: RwLock::new(HashMap::new()),
                rooms: RwLock::new(HashMap::new()),
                next_ack: AtomicU64::new(0),
                adapter,
                cleanup_when_empty,
                server_events: RwLock::new(HashMap::new()),
            }),
        };
        ns.inner.adapter.init(LocalNamespace::new(&ns));
        ns
    }

    pub(crate) fn new_handlers() -> Arc<Handlers> {
        Arc::new(Handlers::default())
    }

    /// The namespace name (`/` for the main one).
    pub fn name(&self) -> &str {
        &self.inner.name
    }

    /// The server this namespace belongs to (Node's `nsp.server`).
    pub fn server(&self) -> Server {
        match self.inner.server.upgrade() {
            Some(inner) => Server::from_inner(inner),
            None => Server::detached(),
        }
    }

    /// Calls `handler` for every socket that connects (Node's `nsp.on("connection")`). The
    /// handler runs before any packet of the socket is processed, up to its first `.await`:
    /// register the socket's listeners there.
    pub fn on_connection<F, Fut, R>(&self, handler: F)
    where
        F: Fn(Socket) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = R> + Send + 'static,
        R: HandlerResult,
    {
        let handler: Arc<ConnectionHandler> = Arc::new(move |socket: Socket| {
            let future = handler(socket.clone());
            Box::pin(async move {
                if let Err(error) = future.await.into_result() {
                    socket
                        .namespace()
                        .server()
                        .report_error(&socket, "connection", &error);
                }
            }) as BoxFuture
        });
        write(&self.inner.handlers.connection).push(handler);
    }

    /// Adds a connection middleware (Node's `nsp.use`): it runs, in order with the others,
    /// before the socket connects; an error refuses the connection with a CONNECT_ERROR carrying
    /// its `message` and `data` (the client's `connect_error` event).
    pub fn use_middleware<F, Fut>(&self, middleware: F)
    where
        F: Fn(Socket) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), ConnectError>> + Send + 'static,
    {
        let middleware: Arc<Middleware> = Arc::new(move |socket| Box::pin(middleware(socket)));
        write(&self.inner.handlers.middlewares).push(middleware);
    }

    pub(crate) fn middlewares(&self) -> Vec<Arc<Middleware>> {
        read(&self.inner.handlers.middlewares).clone()
    }

    pub(crate) fn connection_handlers(&self) -> Vec<Arc<ConnectionHandler>> {
        read(&self.inner.handlers.connection).clone()
    }

    /// The sockets connected to this namespace on this server.
    pub fn sockets(&self) -> Vec<Socket> {
        read(&self.inner.sockets).values().cloned().collect()
    }

    /// The connected socket `id`, if it is on this server.
    pub fn socket(&self, id: &str) -> Option<Socket> {
        read(&self.inner.sockets).get(id).cloned()
    }

    /// How many sockets are connected to this namespace on this server.
    pub fn socket_count(&self) -> usize {
        read(&self.inner.sockets).len()
    }

    // ---- broadcasting (shortcuts to a BroadcastOperator) --------------------------------

    pub(crate) fn operator(&self) -> BroadcastOperator {
        BroadcastOperator::new(self.clone())
    }

    /// Sockets in `room` (Node's `nsp.to(room)`).
    pub fn to(&self, rooms: impl Into<crate::Rooms>) -> BroadcastOperator {
        self.operator().to(rooms)
    }

    /// Same as [`to`](Namespace::to) (Node's `nsp.in(room)`).
    pub fn within(&self, rooms: impl Into<crate::Rooms>) -> BroadcastOperator {
        self.operator().to(rooms)
    }

    /// Every socket but those in `room`.
    pub fn except(&self, rooms: impl Into<crate::Rooms>) -> BroadcastOperator {
        self.operator().except(rooms)
    }

    /// Packets that may be dropped for clients that cannot take them now.
    pub fn volatile(&self) -> BroadcastOperator {
        self.operator().volatile()
    }

    /// Only the sockets of this server, even with a cluster adapter.
    pub fn local(&self) -> BroadcastOperator {
        self.operator().local()
    }

    /// Sets the compression flag (accepted for compatibility; see [`BroadcastOperator::compress`]).
    pub fn compress(&self, compress: bool) -> BroadcastOperator {
        self.operator().compress(compress)
    }

    /// A deadline for the acknowledgements of [`BroadcastOperator::emit_with_ack`].
    pub fn timeout(&self, timeout: Duration) -> BroadcastOperator {
        self.operator().timeout(timeout)
    }

    /// Sends `event` to every socket of the namespace (see [`Socket::emit`] for `args`).
    ///
    /// # Errors
    ///
    /// When the arguments cannot be encoded or the event name is reserved.
    pub fn emit<T: ?Sized + Serialize>(&self, event: &str, args: &T) -> Result<(), EmitError> {
        self.operator().emit(event, args)
    }

    /// Sends `event` to every socket and collects their acknowledgements.
    pub fn emit_with_ack<T, R>(&self, event: &str, args: &T) -> BroadcastAckFuture<R>
    where
        T: ?Sized + Serialize,
        R: DeserializeOwned,
    {
        self.operator().emit_with_ack(event, args)
    }

    /// Every socket of the namespace, on every server of the cluster.
    pub async fn fetch_sockets(&self) -> Vec<RemoteSocket> {
        self.operator().fetch_sockets().await
    }

    /// Makes every socket join `rooms`.
    pub async fn sockets_join(&self, rooms: impl Into<crate::Rooms>) {
        self.operator().sockets_join(rooms).await;
    }

    /// Makes every socket leave `rooms`.
    pub async fn sockets_leave(&self, rooms: impl Into<crate::Rooms>) {
        self.operator().sockets_leave(rooms).await;
    }

    /// Disconnects every socket (with `close`, their whole connections).
    pub async fn disconnect_sockets(&self, close: bool) {
        self.operator().disconnect_sockets(close).await;
    }

    /// Sends `event` to the other servers of the cluster (Node's `serverSideEmit`), where
    /// [`on_server_side_emit`](Namespace::on_server_side_emit) handlers receive it; with the
    /// in-memory adapter there are none.
    ///
    /// # Errors
    ///
    /// When the adapter cannot reach the cluster.
    pub async fn server_side_emit(
        &self,
        event: &str,
        args: Vec<serde_json::Value>,
    ) -> Result<(), crate::AdapterError> {
        self.inner.adapter.server_side_emit(event, args).await
    }

    /// Sends `event` to the other servers and resolves to one answer from each (Node's
    /// `serverSideEmitWithAck`); none with the in-memory adapter.
    ///
    /// # Errors
    ///
    /// When the adapter cannot reach the cluster, or some servers did not answer in time
    /// ([`crate::AdapterError::Timeout`]).
    pub async fn server_side_emit_with_ack(
        &self,
        event: &str,
        args: Vec<serde_json::Value>,
    ) -> Result<Vec<serde_json::Value>, crate::AdapterError> {
        self.inner
            .adapter
            .server_side_emit_with_ack(event, args)
            .await
    }

    /// Handles `event` sent by another server of the cluster with
    /// [`server_side_emit`](Namespace::server_side_emit) (Node's `io.on(event, ...)` for
    /// `serverSideEmit`). The handler gets the arguments and, when the sender waits for answers,
    /// a [`ServerAck`] to answer with.
    ///
    /// ```no_run
    /// # fn f(io: socketio_server::Server) {
    /// io.sockets().on_server_side_emit("ping", |args, ack| async move {
    ///     if let Some(ack) = ack {
    ///         ack.send(serde_json::json!({"pong": args}));
    ///     }
    /// });
    /// # }
    /// ```
    pub fn on_server_side_emit<F, Fut>(&self, event: impl Into<ByteString>, handler: F)
    where
        F: Fn(Vec<serde_json::Value>, Option<ServerAck>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let handler: Arc<ServerEventHandler> =
            Arc::new(move |args, ack| Box::pin(handler(args, ack)) as BoxFuture);
        write(&self.inner.server_events)
            .entry(event.into())
            .or_default()
            .push(handler);
    }

    pub(crate) fn server_event_handlers(&self, event: &str) -> Vec<Arc<ServerEventHandler>> {
        read(&self.inner.server_events)
            .get(event)
            .cloned()
            .unwrap_or_default()
    }

    pub(crate) fn has_room(&self, room: &str) -> bool {
        read(&self.inner.rooms).contains_key(room)
    }

    /// How many servers the cluster has, this one included (Node's `adapter.serverCount()`).
    pub async fn server_count(&self) -> usize {
        self.inner.adapter.server_count().await
    }

    // ---- internals ----------------------------------------------------------------------

    pub(crate) fn adapter(&self) -> &Arc<dyn Adapter> {
        &self.inner.adapter
    }

    pub(crate) fn next_ack_id(&self) -> AckId {
        let id = self.inner.next_ack.fetch_add(1, Ordering::Relaxed);
        // 2^53 acknowledgements take centuries at any rate; wrap rather than fail.
        AckId::new(id & AckId::MAX.get()).unwrap_or(AckId::MAX)
    }

    pub(crate) fn add_pre_connect(&self, socket: &Socket) {
        write(&self.inner.pre_connect).insert(socket.id_bytes().clone(), socket.clone());
    }

    pub(crate) fn remove_pre_connect(&self, socket: &Socket) {
        write(&self.inner.pre_connect).remove(socket.id());
    }

    pub(crate) fn is_pre_connect(&self, socket: &Socket) -> bool {
        read(&self.inner.pre_connect).contains_key(socket.id())
    }

    pub(crate) fn add_socket(&self, socket: &Socket) {
        write(&self.inner.sockets).insert(socket.id_bytes().clone(), socket.clone());
    }

    pub(crate) fn remove_socket(&self, socket: &Socket, rooms: &[Room]) {
        let mut deleted = Vec::new();
        {
            let mut index = write(&self.inner.rooms);
            for room in rooms {
                if let Some(members) = index.get_mut(room) {
                    members.remove(socket.id());
                    if members.is_empty() {
                        index.remove(room);
                        deleted.push(room);
                    }
                }
            }
        }
        for room in deleted {
            self.inner.adapter.room_deleted(room);
        }
        write(&self.inner.sockets).remove(socket.id());
        self.cleanup_if_empty();
    }

    /// Removes a dynamic child namespace that has no socket left, when the server says so.
    pub(crate) fn cleanup_if_empty(&self) {
        if self.inner.cleanup_when_empty
            && read(&self.inner.sockets).is_empty()
            && read(&self.inner.pre_connect).is_empty()
        {
            if let Some(server) = self.inner.server.upgrade() {
                server.remove_child(self);
            }
        }
    }

    pub(crate) fn index_join(&self, socket: &Socket, room: Room) {
        let created = {
            let mut index = write(&self.inner.rooms);
            let members = index.entry(room.clone()).or_default();
            let created = members.is_empty();
            members.insert(socket.id_bytes().clone(), socket.clone());
            created
        };
        // Outside the lock: an adapter may subscribe to the room's channel.
        if created {
            self.inner.adapter.room_created(&room);
        }
    }

    pub(crate) fn index_leave(&self, id: &str, room: &str) {
        let deleted = {
            let mut index = write(&self.inner.rooms);
            match index.get_mut(room) {
                Some(members) => {
                    members.remove(id);
                    members.is_empty() && index.remove_entry(room).is_some()
                }
                None => false,
            }
        };
        if deleted {
            self.inner.adapter.room_deleted(&Room::from(room));
        }
    }

    /// The local sockets a broadcast reaches: in any of `rooms` (all when empty), in none of
    /// `except`, and not `except_socket`; only connected ones (a socket whose middlewares still
    /// run may be in rooms already). Collected first, so that no lock is held while packets are
    /// queued or listeners run.
    pub(crate) fn targets(
        &self,
        rooms: &[Room],
        except: &[Room],
        except_socket: Option<&str>,
    ) -> Vec<Socket> {
        let index = read(&self.inner.rooms);
        let sockets = read(&self.inner.sockets);
        let members = |room: &Room| {
            let joined = index
                .get(room)
                .into_iter()
                .flat_map(|members| members.values());
            // A socket's own id is a room too.
            joined.chain(sockets.get(&**room))
        };
        let excluded: HashSet<&str> = except
            .iter()
            .flat_map(|room| members(room).map(Socket::id))
            .collect();
        let keep = |socket: &Socket| {
            socket.connected()
                && except_socket != Some(socket.id())
                && (excluded.is_empty() || !excluded.contains(socket.id()))
        };
        if rooms.is_empty() {
            let mut targets = Vec::with_capacity(sockets.len());
            targets.extend(sockets.values().filter(|s| keep(s)).cloned());
            return targets;
        }
        let capacity: usize = rooms
            .iter()
            .map(|room| index.get(room).map_or(1, HashMap::len))
            .sum();
        let mut targets = Vec::with_capacity(capacity);
        if let [room] = rooms {
            targets.extend(members(room).filter(|s| keep(s)).cloned());
            return targets;
        }
        let mut seen: HashSet<&str> = HashSet::new();
        for room in rooms {
            for socket in members(room) {
                if keep(socket) && seen.insert(socket.id()) {
                    targets.push(socket.clone());
                }
            }
        }
        targets
    }

    /// The rooms that exist in this namespace on this server (Node's `adapter.rooms` keys),
    /// without the sockets' own-id rooms.
    pub fn rooms(&self) -> Vec<Room> {
        read(&self.inner.rooms).keys().cloned().collect()
    }
}
