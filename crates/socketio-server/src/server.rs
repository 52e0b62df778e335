//! The server: configuration, namespaces, and the HTTP side (through [`EngineIo`]).

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, OnceLock, PoisonError, RwLock, Weak};
use std::time::Duration;

use bytestring::ByteString;
use engineio_server::{EngineIo, EngineIoLayer, TransportKind};
use serde::Serialize;
use serde::de::DeserializeOwned;
use socketio_proto::{Limits, Parser};

use crate::ack::BroadcastAckFuture;
use crate::adapter::{Adapter, MemoryAdapter, RecoveryConfig};
use crate::handler::{BoxError, HandlerResult};
use crate::namespace::{Handlers, Namespace};
use crate::operators::{BroadcastOperator, RemoteSocket};
use crate::socket::Socket;
use crate::{ConnectError, EmitError, Rooms};

type ErrorHook = dyn Fn(&Socket, &str, &BoxError) + Send + Sync;
type AdapterFactory = dyn Fn(&str) -> Arc<dyn Adapter> + Send + Sync;
type NamespaceMatcher = dyn Fn(&str, &serde_json::Value) -> bool + Send + Sync;

/// Server settings, with Node's defaults.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ServerConfig {
    /// The Engine.IO settings; the path defaults to `/socket.io/`.
    pub engine: engineio_server::Config,
    /// How long a connection may stay without joining a namespace (`connectTimeout`, 45 s).
    pub connect_timeout: Duration,
    /// The packet format (`parser`: JSON; msgpack with `Parser::Msgpack`).
    pub parser: Parser,
    /// Remove a dynamic namespace's child once its last socket left
    /// (`cleanupEmptyChildNamespaces`, false).
    pub cleanup_empty_child_namespaces: bool,
    /// Decoding limits beyond the message size (attachments, depth, namespace length).
    pub limits: Limits,
    /// Connection state recovery (`connectionStateRecovery`, off): a client that lost its
    /// connection gets its socket back (id, rooms, data) with the packets it missed.
    pub connection_state_recovery: Option<RecoveryConfig>,
}

impl Default for ServerConfig {
    fn default() -> Self {
        let mut engine = engineio_server::Config::default();
        engine.path = "/socket.io/".to_owned();
        // One bound for the whole outbound path: the engine's queue limit.
        engine.command_capacity = engine.max_queued_packets;
        Self {
            engine,
            connect_timeout: Duration::from_secs(45),
            parser: Parser::Json,
            cleanup_empty_child_namespaces: false,
            limits: Limits::default(),
            connection_state_recovery: None,
        }
    }
}

impl ServerConfig {
    pub(crate) fn limits(&self) -> Limits {
        Limits {
            max_message_size: self.engine.max_http_buffer_size,
            ..self.limits
        }
    }
}

/// Builds a [`Server`] with settings other than the defaults.
///
/// ```
/// use std::time::Duration;
/// use socketio_server::Server;
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let io = Server::builder()
///     .ping_interval(Duration::from_secs(10))
///     .connect_timeout(Duration::from_secs(5))
///     .max_http_buffer_size(100_000)
///     .build();
/// # let _ = io; }
/// ```
#[must_use]
pub struct ServerBuilder {
    config: ServerConfig,
    on_error: Option<Arc<ErrorHook>>,
    adapter: Option<Arc<AdapterFactory>>,
    engine_hooks: Vec<EngineHook>,
}

type EngineHook = Box<dyn FnOnce(engineio_server::Builder) -> engineio_server::Builder + Send>;

impl fmt::Debug for ServerBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerBuilder")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl ServerBuilder {
    /// Replaces every setting.
    pub fn config(mut self, config: ServerConfig) -> Self {
        self.config = config;
        self
    }

    /// The HTTP path (`/socket.io/`).
    pub fn path(mut self, path: impl Into<String>) -> Self {
        self.config.engine.path = path.into();
        self
    }

    /// Time between pings (`pingInterval`, 25 s).
    pub fn ping_interval(mut self, interval: Duration) -> Self {
        self.config.engine.ping_interval = interval;
        self
    }

    /// Time the client has to answer a ping (`pingTimeout`, 20 s).
    pub fn ping_timeout(mut self, timeout: Duration) -> Self {
        self.config.engine.ping_timeout = timeout;
        self
    }

    /// Time the WebSocket upgrade may take (`upgradeTimeout`, 10 s).
    pub fn upgrade_timeout(mut self, timeout: Duration) -> Self {
        self.config.engine.upgrade_timeout = timeout;
        self
    }

    /// Largest message accepted (`maxHttpBufferSize`, 1e6 bytes).
    pub fn max_http_buffer_size(mut self, size: usize) -> Self {
        self.config.engine.max_http_buffer_size = size;
        self
    }

    /// Transports accepted (`transports`: polling and WebSocket).
    pub fn transports(mut self, transports: impl IntoIterator<Item = TransportKind>) -> Self {
        self.config.engine.transports = transports.into_iter().collect();
        self
    }

    /// CORS (`cors`).
    pub fn cors(mut self, cors: engineio_server::Cors) -> Self {
        self.config.engine.cors = Some(cors);
        self
    }

    /// Time a connection may stay without joining a namespace (`connectTimeout`, 45 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.config.connect_timeout = timeout;
        self
    }

    /// The packet format (JSON by default).
    pub fn parser(mut self, parser: Parser) -> Self {
        self.config.parser = parser;
        self
    }

    /// Remove dynamic child namespaces once empty (`cleanupEmptyChildNamespaces`).
    pub fn cleanup_empty_child_namespaces(mut self, cleanup: bool) -> Self {
        self.config.cleanup_empty_child_namespaces = cleanup;
        self
    }

    /// Turns connection state recovery on (Node's `connectionStateRecovery`): sockets that lose
    /// their connection for a recoverable reason are kept for
    /// [`RecoveryConfig::max_disconnection_duration`]; a client that comes back in time gets the
    /// same socket id, rooms and data, and the packets it missed, and
    /// [`Socket::recovered`](crate::Socket::recovered) is true.
    pub fn connection_state_recovery(mut self, config: RecoveryConfig) -> Self {
        self.config.connection_state_recovery = Some(config);
        self
    }

    /// Accept socket.io 2.x clients (Engine.IO v3, Socket.IO v4) (`allowEIO3`).
    #[cfg(feature = "v4")]
    pub fn allow_eio3(mut self, allow: bool) -> Self {
        self.config.engine.allow_eio3 = allow;
        self
    }

    /// Decides whether a connection may open (Node's `allowRequest`): `Err(message)` refuses
    /// the handshake with 403 `{"code":4,"message":message}`.
    pub fn allow_request<F>(mut self, hook: F) -> Self
    where
        F: Fn(&engineio_server::RequestInfo<'_>) -> Result<(), String> + Send + Sync + 'static,
    {
        self.engine_hooks
            .push(Box::new(move |builder| builder.allow_request(hook)));
        self
    }

    /// Decides asynchronously whether a connection may open, with a status of its choice (see
    /// [`engineio_server::Builder::allow_request_async`]).
    ///
    /// ```
    /// use socketio_server::{Refusal, Server};
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let io = Server::builder()
    ///     .allow_request_async(|request| async move {
    ///         if request.headers.contains_key("cookie") {
    ///             Ok(())
    ///         } else {
    ///             Err(Refusal::forbidden("sign in first"))
    ///         }
    ///     })
    ///     .build();
    /// # let _ = io; }
    /// ```
    pub fn allow_request_async<F, Fut>(mut self, hook: F) -> Self
    where
        F: Fn(engineio_server::RequestParts) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), engineio_server::Refusal>> + Send + 'static,
    {
        self.engine_hooks
            .push(Box::new(move |builder| builder.allow_request_async(hook)));
        self
    }

    /// Adds headers to every successful response (Node's `headers` event).
    pub fn headers<F>(mut self, hook: F) -> Self
    where
        F: Fn(&engineio_server::RequestInfo<'_>, &mut http::HeaderMap) + Send + Sync + 'static,
    {
        self.engine_hooks
            .push(Box::new(move |builder| builder.headers(hook)));
        self
    }

    /// Adds headers to the handshake response (Node's `initial_headers` event).
    pub fn initial_headers<F>(mut self, hook: F) -> Self
    where
        F: Fn(&engineio_server::RequestInfo<'_>, &mut http::HeaderMap) + Send + Sync + 'static,
    {
        self.engine_hooks
            .push(Box::new(move |builder| builder.initial_headers(hook)));
        self
    }

    /// Called with every handler error: a handler returning `Err`, or arguments that do not
    /// fit a handler's types. Without a hook, errors are logged (`tracing`, level `warn`).
    pub fn on_error<F>(mut self, hook: F) -> Self
    where
        F: Fn(&Socket, &str, &BoxError) + Send + Sync + 'static,
    {
        self.on_error = Some(Arc::new(hook));
        self
    }

    /// The adapter of every namespace, made by `factory` from the namespace name
    /// ([`MemoryAdapter`] by default).
    pub fn adapter<F>(mut self, factory: F) -> Self
    where
        F: Fn(&str) -> Arc<dyn Adapter> + Send + Sync + 'static,
    {
        self.adapter = Some(Arc::new(factory));
        self
    }

    /// The server. Needs a tokio runtime only once it serves connections.
    pub fn build(self) -> Server {
        let inner = Arc::new_cyclic(|weak: &Weak<ServerInner>| {
            let recovery = self.config.connection_state_recovery;
            let adapter: Arc<AdapterFactory> = self.adapter.unwrap_or_else(|| {
                Arc::new(move |_: &str| match recovery {
                    Some(config) => {
                        Arc::new(MemoryAdapter::with_recovery(config)) as Arc<dyn Adapter>
                    }
                    None => Arc::new(MemoryAdapter::new()) as Arc<dyn Adapter>,
                })
            });
            let main = Namespace::new(
                ByteString::from_static("/"),
                weak.clone(),
                Namespace::new_handlers(),
                adapter("/"),
                false,
            );
            let mut namespaces = HashMap::new();
            namespaces.insert(ByteString::from_static("/"), main);
            ServerInner {
                config: self.config,
                engine: OnceLock::new(),
                namespaces: RwLock::new(namespaces),
                parents: RwLock::new(Vec::new()),
                on_error: self.on_error,
                adapter,
            }
        });
        let weak = Arc::downgrade(&inner);
        let mut engine = EngineIo::builder(inner.config.engine.clone());
        for hook in self.engine_hooks {
            engine = hook(engine);
        }
        let engine =
            engine.build_with_handler(move |socket| -> Box<dyn engineio_server::Handler> {
                match weak.upgrade() {
                    Some(server) => Box::new(crate::connection::Client::new(server, socket)),
                    None => {
                        socket.close();
                        Box::new(Closed)
                    }
                }
            });
        let _ = inner.engine.set(engine);
        Server { inner }
    }
}

/// The handler of a connection that arrives while the server is being dropped.
struct Closed;

impl engineio_server::Handler for Closed {
    fn on_message(&mut self, _message: engineio_server::Message) {}
    fn on_close(&mut self, _reason: engineio_server::CloseReason) {}
}

pub(crate) struct ServerInner {
    pub(crate) config: ServerConfig,
    engine: OnceLock<EngineIo>,
    namespaces: RwLock<HashMap<ByteString, Namespace>>,
    parents: RwLock<Vec<Arc<ParentInner>>>,
    on_error: Option<Arc<ErrorHook>>,
    adapter: Arc<AdapterFactory>,
}

struct ParentInner {
    matcher: Box<NamespaceMatcher>,
    handlers: Arc<Handlers>,
    children: Mutex<Vec<Namespace>>,
}

impl ServerInner {
    /// The namespace a CONNECT asks for: an existing one, or a new child of the first dynamic
    /// namespace whose matcher accepts it.
    pub(crate) fn namespace_for(
        self: &Arc<Self>,
        name: &ByteString,
        auth: &serde_json::Value,
    ) -> Option<Namespace> {
        if let Some(ns) = read(&self.namespaces).get(name) {
            return Some(ns.clone());
        }
        let parents = read(&self.parents).clone();
        let parent = parents.iter().find(|parent| (parent.matcher)(name, auth))?;
        let mut namespaces = write(&self.namespaces);
        if let Some(ns) = namespaces.get(name) {
            return Some(ns.clone());
        }
        let child = Namespace::new(
            name.clone(),
            Arc::downgrade(self),
            parent.handlers.clone(),
            (self.adapter)(name),
            self.config.cleanup_empty_child_namespaces,
        );
        namespaces.insert(name.clone(), child.clone());
        parent
            .children
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(child.clone());
        Some(child)
    }

    pub(crate) fn remove_child(&self, ns: &Namespace) {
        let mut namespaces = write(&self.namespaces);
        if namespaces
            .get(ns.name())
            .is_some_and(|existing| Arc::ptr_eq(&existing.inner, &ns.inner))
        {
            namespaces.remove(ns.name());
        }
        drop(namespaces);
        ns.adapter().close();
        for parent in read(&self.parents).iter() {
            parent
                .children
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .retain(|child| !Arc::ptr_eq(&child.inner, &ns.inner));
        }
    }
}

fn read<T>(lock: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    lock.read().unwrap_or_else(PoisonError::into_inner)
}

fn write<T>(lock: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    lock.write().unwrap_or_else(PoisonError::into_inner)
}

/// A Socket.IO server. Cheap to clone; every clone is the same server.
///
/// Methods without a namespace act on the main namespace `/`, as Node's `io.on`, `io.emit`,
/// `io.to`… do.
///
/// ```no_run
/// use socketio_server::{Data, Server, Socket};
///
/// # #[tokio::main] async fn main() -> std::io::Result<()> {
/// let io = Server::new();
/// io.on_connection(|socket: Socket| async move {
///     socket.on("chat message", |socket: Socket, Data(text): Data<String>| async move {
///         let _ = socket.namespace().emit("chat message", &text);
///     });
/// });
/// io.listen("127.0.0.1:3000".parse().unwrap()).await
/// # }
/// ```
#[derive(Clone)]
pub struct Server {
    inner: Arc<ServerInner>,
}

impl fmt::Debug for Server {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Server")
            .field("path", &self.inner.config.engine.path)
            .finish_non_exhaustive()
    }
}

impl Default for Server {
    fn default() -> Self {
        Self::new()
    }
}

impl Server {
    /// A server with Node's defaults.
    pub fn new() -> Self {
        Self::builder().build()
    }

    /// A builder, for other settings.
    pub fn builder() -> ServerBuilder {
        ServerBuilder {
            config: ServerConfig::default(),
            on_error: None,
            adapter: None,
            engine_hooks: Vec::new(),
        }
    }

    pub(crate) fn from_inner(inner: Arc<ServerInner>) -> Self {
        Self { inner }
    }

    /// A server handle for namespaces whose server is gone (only during teardown).
    pub(crate) fn detached() -> Self {
        Self::builder().build()
    }

    /// The settings.
    pub fn config(&self) -> &ServerConfig {
        &self.inner.config
    }

    /// The Engine.IO server underneath: a tower `Service` for every request.
    pub fn engine(&self) -> &EngineIo {
        self.inner
            .engine
            .get()
            .unwrap_or_else(|| unreachable!("set by build"))
    }

    /// A tower `Layer` that answers Socket.IO requests (under the path) and passes the rest to
    /// the inner service, e.g. an axum `Router`.
    pub fn layer(&self) -> EngineIoLayer {
        self.engine().layer()
    }

    /// Binds `addr` and serves until [`close`](Server::close).
    ///
    /// # Errors
    ///
    /// When the address cannot be bound.
    pub async fn listen(&self, addr: SocketAddr) -> std::io::Result<()> {
        self.engine().clone().listen(addr).await
    }

    /// Serves connections from `listener` until [`close`](Server::close).
    ///
    /// # Errors
    ///
    /// Never today.
    pub async fn serve(&self, listener: tokio::net::TcpListener) -> std::io::Result<()> {
        self.engine().clone().serve(listener).await
    }

    /// Closes every connection (sockets see `"server shutting down"`) and stops serving.
    pub fn close(&self) {
        // As Node's `io.close()`: the adapters leave the cluster first.
        for ns in self.namespaces() {
            ns.adapter().close();
        }
        self.engine().shutdown();
    }

    /// The namespace `name`, created if needed (Node's `io.of(name)`). A name without a
    /// leading `/` gets one.
    pub fn of(&self, name: &str) -> Namespace {
        let name: ByteString = if name.starts_with('/') {
            ByteString::from(name)
        } else {
            ByteString::from(format!("/{name}"))
        };
        if let Some(ns) = read(&self.inner.namespaces).get(&name) {
            return ns.clone();
        }
        let mut namespaces = write(&self.inner.namespaces);
        namespaces
            .entry(name.clone())
            .or_insert_with(|| {
                Namespace::new(
                    name.clone(),
                    Arc::downgrade(&self.inner),
                    Namespace::new_handlers(),
                    (self.inner.adapter)(&name),
                    false,
                )
            })
            .clone()
    }

    /// A dynamic namespace (Node's `io.of(regex)` / `io.of(fn)`): a client connecting to a
    /// namespace that does not exist gets one, a child of the first dynamic namespace whose
    /// `matcher` accepts its name and auth payload. Children share the parent's connection
    /// handlers and middlewares, including those added later.
    ///
    /// ```no_run
    /// # fn f(io: socketio_server::Server) {
    /// use socketio_server::Socket;
    /// let workspaces = io.of_dynamic(|name, _auth| name.starts_with("/workspace-"));
    /// workspaces.on_connection(|socket: Socket| async move {
    ///     let _ = socket.emit("hello", socket.namespace().name());
    /// });
    /// # }
    /// ```
    pub fn of_dynamic<F>(&self, matcher: F) -> DynamicNamespace
    where
        F: Fn(&str, &serde_json::Value) -> bool + Send + Sync + 'static,
    {
        let parent = Arc::new(ParentInner {
            matcher: Box::new(matcher),
            handlers: Namespace::new_handlers(),
            children: Mutex::new(Vec::new()),
        });
        write(&self.inner.parents).push(parent.clone());
        DynamicNamespace {
            parent,
            server: self.clone(),
        }
    }

    /// The main namespace `/` (Node's `io.sockets`).
    pub fn sockets(&self) -> Namespace {
        self.of("/")
    }

    /// Every namespace that exists now.
    pub fn namespaces(&self) -> Vec<Namespace> {
        read(&self.inner.namespaces).values().cloned().collect()
    }

    /// [`Namespace::on_connection`] on `/`.
    pub fn on_connection<F, Fut, R>(&self, handler: F)
    where
        F: Fn(Socket) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = R> + Send + 'static,
        R: HandlerResult,
    {
        self.sockets().on_connection(handler);
    }

    /// [`Namespace::use_middleware`] on `/`.
    pub fn use_middleware<F, Fut>(&self, middleware: F)
    where
        F: Fn(Socket) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), ConnectError>> + Send + 'static,
    {
        self.sockets().use_middleware(middleware);
    }

    /// [`Namespace::emit`] on `/`.
    ///
    /// # Errors
    ///
    /// As [`Namespace::emit`].
    pub fn emit<T: ?Sized + Serialize>(&self, event: &str, args: &T) -> Result<(), EmitError> {
        self.sockets().emit(event, args)
    }

    /// [`Namespace::emit_with_ack`] on `/`.
    pub fn emit_with_ack<T, R>(&self, event: &str, args: &T) -> BroadcastAckFuture<R>
    where
        T: ?Sized + Serialize,
        R: DeserializeOwned,
    {
        self.sockets().emit_with_ack(event, args)
    }

    /// [`Namespace::to`] on `/`.
    pub fn to(&self, rooms: impl Into<crate::Rooms>) -> BroadcastOperator {
        self.sockets().to(rooms)
    }

    /// [`Namespace::within`] on `/`.
    pub fn within(&self, rooms: impl Into<crate::Rooms>) -> BroadcastOperator {
        self.sockets().within(rooms)
    }

    /// [`Namespace::except`] on `/`.
    pub fn except(&self, rooms: impl Into<crate::Rooms>) -> BroadcastOperator {
        self.sockets().except(rooms)
    }

    /// [`Namespace::volatile`] on `/`.
    pub fn volatile(&self) -> BroadcastOperator {
        self.sockets().volatile()
    }

    /// [`Namespace::local`] on `/`.
    pub fn local(&self) -> BroadcastOperator {
        self.sockets().local()
    }

    /// [`Namespace::compress`] on `/`.
    pub fn compress(&self, compress: bool) -> BroadcastOperator {
        self.sockets().compress(compress)
    }

    /// [`Namespace::timeout`] on `/`.
    pub fn timeout(&self, timeout: Duration) -> BroadcastOperator {
        self.sockets().timeout(timeout)
    }

    /// [`Namespace::fetch_sockets`] on `/`.
    pub async fn fetch_sockets(&self) -> Vec<RemoteSocket> {
        self.sockets().fetch_sockets().await
    }

    /// [`Namespace::sockets_join`] on `/`.
    pub async fn sockets_join(&self, rooms: impl Into<Rooms>) {
        self.sockets().sockets_join(rooms).await;
    }

    /// [`Namespace::sockets_leave`] on `/`.
    pub async fn sockets_leave(&self, rooms: impl Into<Rooms>) {
        self.sockets().sockets_leave(rooms).await;
    }

    /// [`Namespace::disconnect_sockets`] on `/`.
    pub async fn disconnect_sockets(&self, close: bool) {
        self.sockets().disconnect_sockets(close).await;
    }

    /// [`Namespace::server_side_emit`] on `/`.
    ///
    /// # Errors
    ///
    /// As [`Namespace::server_side_emit`].
    pub async fn server_side_emit(
        &self,
        event: &str,
        args: Vec<serde_json::Value>,
    ) -> Result<(), crate::AdapterError> {
        self.sockets().server_side_emit(event, args).await
    }

    /// [`Namespace::server_side_emit_with_ack`] on `/`.
    ///
    /// # Errors
    ///
    /// As [`Namespace::server_side_emit_with_ack`].
    pub async fn server_side_emit_with_ack(
        &self,
        event: &str,
        args: Vec<serde_json::Value>,
    ) -> Result<Vec<serde_json::Value>, crate::AdapterError> {
        self.sockets().server_side_emit_with_ack(event, args).await
    }

    pub(crate) fn report_error(&self, socket: &Socket, event: &str, error: &BoxError) {
        match &self.inner.on_error {
            Some(hook) => hook(socket, event, error),
            None => tracing::warn!(
                socket = %socket.id(),
                nsp = %socket.namespace().name(),
                event,
                %error,
                "handler error"
            ),
        }
    }
}

/// A dynamic namespace ([`Server::of_dynamic`]): handlers and middlewares for all of its
/// children, and broadcasts to them all.
#[derive(Clone)]
pub struct DynamicNamespace {
    parent: Arc<ParentInner>,
    server: Server,
}

impl fmt::Debug for DynamicNamespace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DynamicNamespace")
            .field("children", &self.children().len())
            .finish_non_exhaustive()
    }
}

impl DynamicNamespace {
    /// [`Namespace::on_connection`] for every child.
    pub fn on_connection<F, Fut, R>(&self, handler: F)
    where
        F: Fn(Socket) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = R> + Send + 'static,
        R: HandlerResult,
    {
        self.template().on_connection(handler);
    }

    /// [`Namespace::use_middleware`] for every child.
    pub fn use_middleware<F, Fut>(&self, middleware: F)
    where
        F: Fn(Socket) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), ConnectError>> + Send + 'static,
    {
        self.template().use_middleware(middleware);
    }

    /// The children that exist now.
    pub fn children(&self) -> Vec<Namespace> {
        self.parent
            .children
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Sends `event` to every socket of every child.
    ///
    /// # Errors
    ///
    /// As [`Namespace::emit`].
    pub fn emit<T: ?Sized + Serialize>(&self, event: &str, args: &T) -> Result<(), EmitError> {
        for child in self.children() {
            child.emit(event, args)?;
        }
        Ok(())
    }

    /// A namespace value sharing the parent's handlers, to register them (never connected).
    fn template(&self) -> Namespace {
        Namespace::new(
            ByteString::from_static("/_dynamic"),
            Arc::downgrade(&self.server.inner),
            self.parent.handlers.clone(),
            Arc::new(MemoryAdapter::new()),
            false,
        )
    }
}
