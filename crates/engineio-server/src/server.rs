//! The HTTP front: request routing and verification as Node's `Server.verify` / `handshake`,
//! the tower [`Service`] and [`Layer`], and a standalone [`EngineIo::listen`].

use std::collections::HashMap;
use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};

use bytes::Bytes;
use engineio_proto::session::{CloseReason, Server as ServerRole, Session};
use engineio_proto::{ProtocolVersion, Str, TransportKind};
use http::header::{self, HeaderMap, HeaderValue};
use http::{Method, Request, Response, StatusCode};
use http_body::Body as HttpBody;
use http_body_util::{BodyExt as _, Either, Limited};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tower_layer::Layer;
use tower_service::Service;

use crate::app::{ChannelHandler, Events, Handler as AppHandler};
use crate::config::Config;
use crate::driver::{Body, Command, Driver, PollReply};
use crate::http_util::{
    self, ErrorCode, Query, Refusal, Reject, ResponseBody, apply_cors, generate_id, ok_response,
    preflight,
};
use crate::queue::{PushError, Queue};
use crate::socket::{Handshake, RemoteAddr, Socket};
use crate::ws::{WebSocket, accept_key};

type BoxError = Box<dyn std::error::Error + Send + Sync>;
type Handler = dyn Fn(Socket) -> Box<dyn AppHandler> + Send + Sync;
type AllowRequest = dyn Fn(&RequestInfo<'_>) -> Result<(), String> + Send + Sync;
type AllowRequestAsync =
    dyn Fn(RequestParts) -> Pin<Box<dyn Future<Output = Result<(), Refusal>> + Send>> + Send + Sync;

/// An owned copy of a handshake request, for [`Builder::allow_request_async`].
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct RequestParts {
    /// The method.
    pub method: Method,
    /// The URI, with the Engine.IO query.
    pub uri: http::Uri,
    /// The headers.
    pub headers: HeaderMap,
    /// The client's address, when known ([`RemoteAddr`]).
    pub remote_addr: Option<SocketAddr>,
}
type HeadersHook = dyn Fn(&RequestInfo<'_>, &mut HeaderMap) + Send + Sync;

/// How long a connection lingers when the server shuts down (a little more than the time a
/// session waits for a polling client's last GET), and then how long its last request may take.
const SHUTDOWN_LINGER: std::time::Duration = engineio_proto::session::SHUTDOWN_GET_WAIT
    .saturating_add(std::time::Duration::from_millis(500));

/// What the hooks of [`Builder`] see of a request.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct RequestInfo<'a> {
    /// The method.
    pub method: &'a Method,
    /// The URI, with the Engine.IO query.
    pub uri: &'a http::Uri,
    /// The headers.
    pub headers: &'a HeaderMap,
}

/// Application hooks, set with [`Builder`].
#[derive(Default)]
struct Hooks {
    allow_request: Option<Box<AllowRequest>>,
    allow_request_async: Option<Box<AllowRequestAsync>>,
    headers: Option<Box<HeadersHook>>,
    initial_headers: Option<Box<HeadersHook>>,
}

impl Hooks {
    fn any(&self) -> bool {
        self.allow_request.is_some()
            || self.allow_request_async.is_some()
            || self.headers.is_some()
            || self.initial_headers.is_some()
    }
}

/// Builds an [`EngineIo`] with hooks (Node's `allowRequest`, `headers` and `initial_headers`
/// events).
///
/// ```
/// use engineio_server::{Config, EngineIo};
/// use http::HeaderValue;
///
/// let engine = EngineIo::builder(Config::default())
///     .allow_request(|request| match request.headers.get("authorization") {
///         Some(_) => Ok(()),
///         None => Err("no credentials".to_owned()),
///     })
///     .headers(|_, headers| {
///         headers.insert("x-served-by", HeaderValue::from_static("engineio-server"));
///     })
///     .build(|_socket, _events| {});
/// # let _ = engine;
/// ```
pub struct Builder {
    config: Config,
    hooks: Hooks,
}

impl std::fmt::Debug for Builder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Builder")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl Builder {
    /// Decides whether a handshake may proceed (not later requests of a session, as in Node).
    /// `Err(message)` refuses it: HTTP 403 `{"code":4,"message":message}` (a WebSocket
    /// handshake gets 400 with the message, as Node's `abortUpgrade` writes it).
    #[must_use]
    pub fn allow_request<F>(mut self, hook: F) -> Self
    where
        F: Fn(&RequestInfo<'_>) -> Result<(), String> + Send + Sync + 'static,
    {
        self.hooks.allow_request = Some(Box::new(hook));
        self
    }

    /// Decides asynchronously whether a handshake may proceed (a token checked against a
    /// database, say), with a status of its choice: `Err(refusal)` answers with
    /// `refusal.status` and `{"code":4,"message":..}`. Runs after [`Builder::allow_request`].
    ///
    /// ```
    /// use engineio_server::{Config, EngineIo, Refusal};
    /// let engine = EngineIo::builder(Config::default())
    ///     .allow_request_async(|request| async move {
    ///         match request.headers.get("authorization") {
    ///             Some(_) => Ok(()),
    ///             None => Err(Refusal::forbidden("no credentials")
    ///                 .with_status(http::StatusCode::UNAUTHORIZED)),
    ///         }
    ///     })
    ///     .build(|_socket, _events| {});
    /// # let _ = engine;
    /// ```
    #[must_use]
    pub fn allow_request_async<F, Fut>(mut self, hook: F) -> Self
    where
        F: Fn(RequestParts) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), Refusal>> + Send + 'static,
    {
        self.hooks.allow_request_async = Some(Box::new(move |parts| Box::pin(hook(parts))));
        self
    }

    /// Adds headers to every successful Engine.IO response (polling answers and WebSocket
    /// handshakes), as Node's `headers` event.
    #[must_use]
    pub fn headers<F>(mut self, hook: F) -> Self
    where
        F: Fn(&RequestInfo<'_>, &mut HeaderMap) + Send + Sync + 'static,
    {
        self.hooks.headers = Some(Box::new(hook));
        self
    }

    /// Adds headers to handshake responses only, as Node's `initial_headers` event.
    #[must_use]
    pub fn initial_headers<F>(mut self, hook: F) -> Self
    where
        F: Fn(&RequestInfo<'_>, &mut HeaderMap) + Send + Sync + 'static,
    {
        self.hooks.initial_headers = Some(Box::new(hook));
        self
    }

    /// The server; `on_connection` is called once per new session (see [`EngineIo::new`]).
    pub fn build<F>(self, on_connection: F) -> EngineIo
    where
        F: Fn(Socket, Events) + Send + Sync + 'static,
    {
        let high_water = self.config.max_pending_events;
        self.build_with_handler(move |socket| {
            let (handler, events) = ChannelHandler::new(high_water);
            on_connection(socket, events);
            Box::new(handler)
        })
    }

    /// The server, with a [`Handler`](crate::Handler) per session made by `new_handler`: the
    /// handler runs in the session's own task (no channel, no second task per session), which
    /// is what a protocol on top of Engine.IO (Socket.IO) wants.
    pub fn build_with_handler<F>(self, new_handler: F) -> EngineIo
    where
        F: Fn(Socket) -> Box<dyn AppHandler> + Send + Sync + 'static,
    {
        let on_connection = new_handler;
        let config = self.config;
        let (shutdown, _) = tokio::sync::watch::channel(false);
        EngineIo {
            shared: Arc::new(Shared {
                path: config.normalized_path(),
                session_v4: config.session_config(ProtocolVersion::V4),
                #[cfg(feature = "v3")]
                session_v3: config.session_config(ProtocolVersion::V3),
                config,
                sessions: Mutex::new(HashMap::new()),
                on_connection: Box::new(on_connection),
                hooks: self.hooks,
                shutdown,
            }),
        }
    }
}

/// A session in the table.
#[derive(Clone)]
struct Entry {
    queue: Arc<Queue>,
    protocol: ProtocolVersion,
    handshake: Arc<Handshake>,
}

/// State shared by the HTTP front and every session task.
pub(crate) struct Shared {
    pub(crate) config: Config,
    path: String,
    session_v4: Arc<engineio_proto::session::Config>,
    #[cfg(feature = "v3")]
    session_v3: Arc<engineio_proto::session::Config>,
    /// Sessions by id. A std mutex: held only to insert, look up or remove, never across an await.
    sessions: Mutex<HashMap<Str, Entry>>,
    on_connection: Box<Handler>,
    hooks: Hooks,
    shutdown: tokio::sync::watch::Sender<bool>,
}

impl Shared {
    pub(crate) fn remove(&self, sid: Option<&Str>) {
        if let Some(sid) = sid {
            self.table().remove(sid);
        }
    }

    fn table(&self) -> std::sync::MutexGuard<'_, HashMap<Str, Entry>> {
        // No code panics while holding the lock; recover the map anyway.
        self.sessions.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn lookup(&self, sid: &str) -> Option<Arc<Queue>> {
        self.table().get(sid).map(|entry| entry.queue.clone())
    }
}

/// An Engine.IO server: a cloneable handle that is also a tower [`Service`] answering every
/// request (404 outside [`Config::path`]); [`EngineIo::layer`] mounts it in front of another
/// service instead.
///
/// Each session runs in its own task; the application receives it through the connection
/// handler as a [`Socket`] (to send and close) and its [`Events`] (messages, then the close).
///
/// ```no_run
/// use engineio_server::{Config, EngineIo};
///
/// # async fn run() -> std::io::Result<()> {
/// let engine = EngineIo::new(Config::default(), |socket, mut events| {
///     tokio::spawn(async move {
///         while let Some(message) = events.next_message().await {
///             let _ = socket.send(message); // echo
///         }
///     });
/// });
/// engine.listen("127.0.0.1:3000".parse().unwrap()).await
/// # }
/// ```
#[derive(Clone)]
pub struct EngineIo {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for EngineIo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EngineIo")
            .field("path", &self.shared.path)
            .field("sessions", &self.session_count())
            .finish_non_exhaustive()
    }
}

impl EngineIo {
    /// A server with `config`; `on_connection` is called once per new session, from the task
    /// that accepted it (spawn anything long-running).
    pub fn new<F>(config: Config, on_connection: F) -> Self
    where
        F: Fn(Socket, Events) + Send + Sync + 'static,
    {
        Self::builder(config).build(on_connection)
    }

    /// A [`Builder`], to add hooks.
    pub fn builder(config: Config) -> Builder {
        Builder {
            config,
            hooks: Hooks::default(),
        }
    }

    /// The settings.
    pub fn config(&self) -> &Config {
        &self.shared.config
    }

    /// Open sessions.
    pub fn session_count(&self) -> usize {
        self.shared.table().len()
    }

    /// A handle to the session `sid`, if it is open.
    pub fn socket(&self, sid: &str) -> Option<Socket> {
        let entry = self.shared.table().get(sid).cloned()?;
        Some(Socket {
            sid: Str::from(sid),
            protocol: entry.protocol,
            queue: entry.queue,
            capacity: self.shared.config.command_capacity,
            handshake: entry.handshake,
        })
    }

    /// A tower [`Layer`] that answers Engine.IO requests and passes every other request on.
    pub fn layer(&self) -> EngineIoLayer {
        EngineIoLayer {
            engine: self.clone(),
        }
    }

    /// Closes every session with `"server shutting down"` and stops [`EngineIo::serve`].
    pub fn shutdown(&self) {
        self.shared.shutdown.send_replace(true);
        let entries: Vec<_> = self.shared.table().values().cloned().collect();
        for entry in entries {
            let socket = Socket {
                sid: Str::new(),
                protocol: entry.protocol,
                queue: entry.queue,
                capacity: self.shared.config.command_capacity,
                handshake: entry.handshake,
            };
            socket.close_with(CloseReason::ServerShuttingDown);
        }
    }

    /// Binds `addr` and serves until [`EngineIo::shutdown`].
    ///
    /// # Errors
    ///
    /// When the address cannot be bound.
    pub async fn listen(self, addr: SocketAddr) -> std::io::Result<()> {
        let listener = TcpListener::bind(addr).await?;
        self.serve(listener).await
    }

    /// Serves HTTP/1.1 connections from `listener` until [`EngineIo::shutdown`]; requests
    /// outside [`Config::path`] get 404.
    ///
    /// # Errors
    ///
    /// Never today; accept errors (such as too many open files) are retried.
    pub async fn serve(self, listener: TcpListener) -> std::io::Result<()> {
        let mut shutdown = self.shared.shutdown.subscribe();
        loop {
            let accepted = tokio::select! {
                accepted = listener.accept() => accepted,
                _ = shutdown.wait_for(|down| *down) => return Ok(()),
            };
            let (stream, peer) = match accepted {
                Ok(accepted) => accepted,
                Err(_) => {
                    // Out of descriptors and the like: back off instead of spinning.
                    tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                    continue;
                }
            };
            let _ = stream.set_nodelay(true);
            let engine = self.clone();
            let mut shutdown = self.shared.shutdown.subscribe();
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |mut request: Request<_>| {
                    request.extensions_mut().insert(RemoteAddr(peer));
                    let engine = engine.clone();
                    async move { Ok::<_, Infallible>(engine.handle(request).await) }
                });
                let connection = hyper::server::conn::http1::Builder::new()
                    .timer(TokioTimer::new())
                    .serve_connection(TokioIo::new(stream), service)
                    .with_upgrades();
                tokio::pin!(connection);
                tokio::select! {
                    _ = connection.as_mut() => return,
                    _ = shutdown.wait_for(|down| *down) => {}
                }
                // Shutting down: polling clients get a moment to fetch their `close` packet on
                // this (kept-alive) connection, then the connection ends once its request in
                // flight is answered, so no client keeps talking to a server that is gone.
                if tokio::time::timeout(SHUTDOWN_LINGER, connection.as_mut())
                    .await
                    .is_ok()
                {
                    return;
                }
                connection.as_mut().graceful_shutdown();
                let _ = tokio::time::timeout(SHUTDOWN_LINGER, connection).await;
            });
        }
    }

    /// Whether `request` is for this server (its path starts with [`Config::path`]).
    pub fn matches<B>(&self, request: &Request<B>) -> bool {
        request.uri().path().starts_with(self.shared.path.as_str())
    }

    /// Answers one request; outside [`Config::path`] with 404.
    pub async fn handle<B>(&self, request: Request<B>) -> Response<ResponseBody>
    where
        B: HttpBody + Send + 'static,
        B::Data: Send,
        B::Error: Into<BoxError>,
    {
        if !self.matches(&request) {
            return http_util::status_response(StatusCode::NOT_FOUND);
        }
        let cors = self.shared.config.cors.as_ref();
        let hooks = &self.shared.hooks;
        if let (Some(cors), &Method::OPTIONS) = (cors, request.method()) {
            return preflight(cors, request.headers());
        }
        // What the hooks and CORS read after the request is consumed.
        let kept = (cors.is_some() || hooks.any()).then(|| {
            (
                request.method().clone(),
                request.uri().clone(),
                request.headers().clone(),
            )
        });
        let mut response = self.route(request).await;
        if let Some((method, uri, headers)) = &kept {
            let info = RequestInfo {
                method,
                uri,
                headers,
            };
            let status = response.status();
            if status == StatusCode::OK || status == StatusCode::SWITCHING_PROTOCOLS {
                let handshake = Query::parse(uri.query().unwrap_or(""))
                    .sid
                    .is_none_or(|sid| sid.is_empty());
                if handshake {
                    if let Some(hook) = &hooks.initial_headers {
                        hook(&info, response.headers_mut());
                    }
                }
                if let Some(hook) = &hooks.headers {
                    hook(&info, response.headers_mut());
                }
            }
            // Node's CORS middleware also runs on upgrades: the 101 carries the headers too.
            if let Some(cors) = cors {
                apply_cors(cors, headers, response.headers_mut());
            }
        }
        response
    }

    async fn route<B>(&self, mut request: Request<B>) -> Response<ResponseBody>
    where
        B: HttpBody + Send + 'static,
        B::Data: Send,
        B::Error: Into<BoxError>,
    {
        let uri = request.uri().clone();
        let query = Query::parse(uri.query().unwrap_or(""));
        let upgrade = is_websocket_upgrade(request.headers());
        let reject = |reject: Reject| {
            if upgrade {
                reject.upgrade_response()
            } else {
                reject.response()
            }
        };
        // Node's `verify`, in its order.
        let transport = match query.transport.as_deref() {
            Some("polling") => TransportKind::Polling,
            Some("websocket") => TransportKind::WebSocket,
            _ => return reject(Reject::Code(ErrorCode::TransportUnknown)),
        };
        if !self.shared.config.transports.contains(&transport) {
            return reject(Reject::Code(ErrorCode::TransportUnknown));
        }
        if let Some(origin) = request.headers().get(header::ORIGIN) {
            if http_util::invalid_header_chars(origin.as_bytes()) {
                return reject(Reject::Code(ErrorCode::BadRequest));
            }
        }
        if let Some(sid) = query.sid.as_deref().filter(|sid| !sid.is_empty()) {
            let Some(queue) = self.shared.lookup(sid) else {
                return reject(Reject::Code(ErrorCode::SessionIdUnknown));
            };
            return match (transport, upgrade) {
                (TransportKind::WebSocket, true) => self.upgrade_session(&mut request, queue),
                (TransportKind::Polling, false) => self.polling_request(request, queue).await,
                // A WebSocket upgrade asking for polling, or a plain request naming websocket.
                _ => reject(Reject::Code(ErrorCode::BadRequest)),
            };
        }
        if request.method() != Method::GET {
            return reject(Reject::Code(ErrorCode::BadHandshakeMethod));
        }
        if transport == TransportKind::WebSocket && !upgrade {
            return reject(Reject::Code(ErrorCode::BadRequest));
        }
        if let Some(allow) = &self.shared.hooks.allow_request {
            let info = RequestInfo {
                method: request.method(),
                uri: request.uri(),
                headers: request.headers(),
            };
            if let Err(message) = allow(&info) {
                return reject(Refusal::forbidden(message).into());
            }
        }
        if let Some(allow) = &self.shared.hooks.allow_request_async {
            let parts = RequestParts {
                method: request.method().clone(),
                uri: request.uri().clone(),
                headers: request.headers().clone(),
                remote_addr: request.extensions().get::<RemoteAddr>().map(|addr| addr.0),
            };
            if let Err(refusal) = allow(parts).await {
                return reject(refusal.into());
            }
        }
        let Some(protocol) = self.protocol(query.eio.as_deref()) else {
            return reject(Reject::Code(ErrorCode::UnsupportedProtocolVersion));
        };
        let supports_binary = !query.b64;
        let handshake = Arc::new(Handshake::from_request(&request, transport));
        match transport {
            TransportKind::Polling => self.polling_handshake(protocol, supports_binary, handshake),
            TransportKind::WebSocket => {
                self.websocket_handshake(&mut request, protocol, supports_binary, handshake)
            }
        }
    }

    fn protocol(&self, eio: Option<&str>) -> Option<ProtocolVersion> {
        match eio {
            Some("4") => Some(ProtocolVersion::V4),
            #[cfg(feature = "v3")]
            _ if self.shared.config.allow_eio3 => Some(ProtocolVersion::V3),
            _ => None,
        }
    }

    fn session_config(&self, protocol: ProtocolVersion) -> Arc<engineio_proto::session::Config> {
        match protocol {
            ProtocolVersion::V4 => self.shared.session_v4.clone(),
            #[cfg(feature = "v3")]
            ProtocolVersion::V3 => self.shared.session_v3.clone(),
        }
    }

    /// Creates the session, its task and its table entry, and tells the application.
    fn start_session(
        &self,
        session: Session<ServerRole>,
        sid: Str,
        ws: Option<WebSocket>,
        supports_binary: bool,
        handshake: Arc<Handshake>,
    ) {
        let queue = Arc::new(Queue::default());
        let protocol = session.protocol();
        self.shared.table().insert(
            sid.clone(),
            Entry {
                queue: queue.clone(),
                protocol,
                handshake: handshake.clone(),
            },
        );
        let socket = Socket {
            sid,
            protocol,
            queue: queue.clone(),
            capacity: self.shared.config.command_capacity.max(1),
            handshake,
        };
        let app = (self.shared.on_connection)(socket);
        let driver = Driver::new(
            session,
            self.shared.clone(),
            queue,
            app,
            ws,
            supports_binary,
        );
        tokio::spawn(driver);
    }

    fn polling_handshake(
        &self,
        protocol: ProtocolVersion,
        supports_binary: bool,
        handshake: Arc<Handshake>,
    ) -> Response<ResponseBody> {
        let now = tokio::time::Instant::now().into_std();
        let sid = generate_id();
        let mut session = Session::accept(
            sid.clone(),
            self.session_config(protocol),
            TransportKind::Polling,
            now,
        );
        // The handshake GET is answered here, before the task exists: no channel hop.
        let mut out = Vec::new();
        let mut body = None;
        if session.handle_poll_request(now).is_ok() {
            while let Some(transmit) = session.poll_transmit(&mut out) {
                if transmit == engineio_proto::session::Transmit::Send(TransportKind::Polling) {
                    body = Some(Driver::encode_payload(&out, protocol, supports_binary));
                }
                out.clear();
            }
        }
        let Some((body, content_type)) = body else {
            return Reject::Code(ErrorCode::BadRequest).response();
        };
        let cookie = self
            .shared
            .config
            .cookie
            .as_ref()
            .and_then(|cookie| HeaderValue::from_str(&cookie.serialize(&sid)).ok());
        self.start_session(session, sid, None, supports_binary, handshake);
        let mut response = ok_response(body, content_type);
        if let Some(cookie) = cookie {
            response.headers_mut().insert(header::SET_COOKIE, cookie);
        }
        response
    }

    fn websocket_handshake<B>(
        &self,
        request: &mut Request<B>,
        protocol: ProtocolVersion,
        supports_binary: bool,
        handshake: Arc<Handshake>,
    ) -> Response<ResponseBody> {
        let Some(response) = switching_protocols(request.headers()) else {
            return Reject::Code(ErrorCode::BadRequest).upgrade_response();
        };
        let on_upgrade = hyper::upgrade::on(request);
        let engine = self.clone();
        tokio::spawn(async move {
            let Ok(upgraded) = on_upgrade.await else {
                return;
            };
            let ws =
                WebSocket::from_upgraded(upgraded, engine.shared.config.max_http_buffer_size).await;
            let now = tokio::time::Instant::now().into_std();
            let sid = generate_id();
            let session = Session::accept(
                sid.clone(),
                engine.session_config(protocol),
                TransportKind::WebSocket,
                now,
            );
            engine.start_session(session, sid, Some(ws), supports_binary, handshake);
        });
        response
    }

    fn upgrade_session<B>(
        &self,
        request: &mut Request<B>,
        queue: Arc<Queue>,
    ) -> Response<ResponseBody> {
        let Some(response) = switching_protocols(request.headers()) else {
            return Reject::Code(ErrorCode::BadRequest).upgrade_response();
        };
        let on_upgrade = hyper::upgrade::on(request);
        let max_payload = self.shared.config.max_http_buffer_size;
        let capacity = self.shared.config.command_capacity;
        tokio::spawn(async move {
            let Ok(upgraded) = on_upgrade.await else {
                return;
            };
            let ws = WebSocket::from_upgraded(upgraded, max_payload).await;
            if let Err(PushError::Full(command) | PushError::Closed(command)) =
                queue.push_request(Command::WebSocket(Box::new(ws)), capacity)
            {
                if let Command::WebSocket(ws) = command {
                    ws.close(false, std::time::Duration::from_secs(5)).await;
                }
            }
        });
        response
    }

    async fn polling_request<B>(
        &self,
        request: Request<B>,
        queue: Arc<Queue>,
    ) -> Response<ResponseBody>
    where
        B: HttpBody + Send + 'static,
        B::Data: Send,
        B::Error: Into<BoxError>,
    {
        let unknown = || Reject::Code(ErrorCode::SessionIdUnknown).response();
        let capacity = self.shared.config.command_capacity;
        match *request.method() {
            Method::GET => {
                let (reply, answer) = oneshot::channel();
                if queue.push_request(Command::Poll(reply), capacity).is_err() {
                    return unknown();
                }
                match answer.await {
                    Ok(PollReply::Payload { body, content_type }) => {
                        ok_response(body, content_type)
                    }
                    Ok(PollReply::Reject(reject)) => reject.response(),
                    Err(_) => unknown(),
                }
            }
            Method::POST => {
                let max = self.shared.config.max_http_buffer_size;
                let declared = request
                    .headers()
                    .get(header::CONTENT_LENGTH)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.parse::<u64>().ok());
                if declared.is_some_and(|len| len > max as u64) {
                    return http_util::status_response(StatusCode::PAYLOAD_TOO_LARGE);
                }
                let binary = request
                    .headers()
                    .get(header::CONTENT_TYPE)
                    .is_some_and(|v| v.as_bytes() == b"application/octet-stream");
                // Read at most `max` bytes, whatever the headers claimed, within a heartbeat
                // cycle: a body trickling in cannot hold its buffer for longer than the session
                // itself would wait for the client.
                let limit = self.shared.config.ping_interval + self.shared.config.ping_timeout;
                let body = Limited::new(request.into_body(), max).collect();
                let Ok(collected) = tokio::time::timeout(limit, body).await else {
                    return http_util::status_response(StatusCode::REQUEST_TIMEOUT);
                };
                let data = match collected {
                    Ok(collected) => collected.to_bytes(),
                    Err(error) => {
                        if error.is::<http_body_util::LengthLimitError>() {
                            return http_util::status_response(StatusCode::PAYLOAD_TOO_LARGE);
                        }
                        return Reject::Code(ErrorCode::BadRequest).response();
                    }
                };
                // Node handles a GET as soon as its headers are parsed but a POST only once its
                // body ended, a turn of the event loop later; clients (and the official test
                // suite) that send a GET and a POST together rely on the GET being held first.
                // One yield gives a GET that arrived alongside the same head start.
                tokio::task::yield_now().await;
                let (reply, answer) = oneshot::channel();
                if queue
                    .push_request(
                        Command::Post(Box::new((Body { data, binary }, reply))),
                        capacity,
                    )
                    .is_err()
                {
                    return unknown();
                }
                match answer.await {
                    Ok(Ok(())) => ok_response(Bytes::from_static(b"ok"), "text/html"),
                    Ok(Err(reject)) => reject.response(),
                    Err(_) => unknown(),
                }
            }
            // Node's polling transport answers other methods with a bare 500.
            _ => http_util::status_response(StatusCode::INTERNAL_SERVER_ERROR),
        }
    }
}

/// `GET` with `Upgrade: websocket`.
fn is_websocket_upgrade(headers: &HeaderMap) -> bool {
    headers
        .get(header::UPGRADE)
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"websocket"))
}

/// The 101 answer to a valid WebSocket handshake, or `None` when the handshake is malformed.
fn switching_protocols(headers: &HeaderMap) -> Option<Response<ResponseBody>> {
    let key = headers.get(header::SEC_WEBSOCKET_KEY)?;
    if headers
        .get(header::SEC_WEBSOCKET_VERSION)
        .is_none_or(|v| v.as_bytes() != b"13")
    {
        return None;
    }
    let accept = HeaderValue::from_str(&accept_key(key.as_bytes())).ok()?;
    let mut response = http_util::status_response(StatusCode::SWITCHING_PROTOCOLS);
    let out = response.headers_mut();
    out.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
    out.insert(header::CONNECTION, HeaderValue::from_static("Upgrade"));
    out.insert(header::SEC_WEBSOCKET_ACCEPT, accept);
    Some(response)
}

/// A tower [`Layer`] putting an [`EngineIo`] in front of a service ([`EngineIo::layer`]).
#[derive(Debug, Clone)]
pub struct EngineIoLayer {
    engine: EngineIo,
}

impl<S> Layer<S> for EngineIoLayer {
    type Service = EngineIoService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        EngineIoService {
            engine: self.engine.clone(),
            inner,
        }
    }
}

/// The service of [`EngineIoLayer`]: Engine.IO requests are answered, others go to `S`.
#[derive(Debug, Clone)]
pub struct EngineIoService<S> {
    engine: EngineIo,
    inner: S,
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

impl<S, B, ResBody> Service<Request<B>> for EngineIoService<S>
where
    S: Service<Request<B>, Response = Response<ResBody>> + Clone + Send + 'static,
    S::Future: Send,
    B: HttpBody + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    type Response = Response<Either<ResponseBody, ResBody>>;
    type Error = S::Error;
    type Future = BoxFuture<Result<Self::Response, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        if self.engine.matches(&request) {
            let engine = self.engine.clone();
            Box::pin(async move { Ok(engine.handle(request).await.map(Either::Left)) })
        } else {
            // The readied service serves this call; a fresh clone waits for the next one.
            let clone = self.inner.clone();
            let mut inner = std::mem::replace(&mut self.inner, clone);
            Box::pin(async move { Ok(inner.call(request).await?.map(Either::Right)) })
        }
    }
}

impl<B> Service<Request<B>> for EngineIo
where
    B: HttpBody + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    type Response = Response<ResponseBody>;
    type Error = Infallible;
    type Future = BoxFuture<Result<Self::Response, Infallible>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let engine = self.clone();
        Box::pin(async move { Ok(engine.handle(request).await) })
    }
}
