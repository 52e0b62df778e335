//! [`ClientBuilder`]: Node's client options, with Node's defaults.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use engineio_proto::TransportKind;
use serde::Serialize;
use socketio_proto::Parser;

use crate::engine::{EngineOptions, parse_url};
use crate::{ConnectError, Manager, Socket};

type AuthFuture = Pin<Box<dyn Future<Output = serde_json::Value> + Send>>;

/// The `auth` payload of a socket's `CONNECT`: a fixed object, or a callback asked before every
/// connection (e.g. to refresh a token), as Node's `auth: (cb) => cb({...})`.
#[derive(Clone)]
pub enum Auth {
    /// The same payload every time.
    Static(serde_json::Value),
    /// Asked before each `CONNECT`.
    Callback(Arc<dyn Fn() -> AuthFuture + Send + Sync>),
}

impl fmt::Debug for Auth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Auth::Static(value) => f.debug_tuple("Static").field(value).finish(),
            Auth::Callback(_) => f.write_str("Callback(..)"),
        }
    }
}

/// The options of a manager and its sockets.
#[derive(Debug)]
pub(crate) struct Options {
    pub(crate) engine: Arc<EngineOptions>,
    pub(crate) namespace: String,
    pub(crate) auth: Option<Auth>,
    pub(crate) timeout: Option<Duration>,
    pub(crate) reconnection: bool,
    pub(crate) reconnection_attempts: u32,
    pub(crate) reconnection_delay: Duration,
    pub(crate) reconnection_delay_max: Duration,
    pub(crate) randomization_factor: f64,
    pub(crate) ack_timeout: Option<Duration>,
    pub(crate) retries: u32,
    pub(crate) parser: Parser,
}

/// Builds a client with Node's options (`io(url, { ... })`) and defaults.
///
/// ```no_run
/// use std::time::Duration;
/// use socketio_client::{Client, TransportKind};
/// # async fn f() -> Result<(), socketio_client::ConnectError> {
/// let socket = Client::builder("http://localhost:3000")
///     .path("/socket.io")                                  // the default
///     .query("room", "lobby")
///     .extra_header("x-api-key", "secret")
///     .transports([TransportKind::WebSocket])              // skip long-polling
///     .reconnection_attempts(10)
///     .ack_timeout(Duration::from_secs(5))
///     .retries(3)
///     .connect()
///     .await?;
/// # let _ = socket; Ok(()) }
/// ```
#[derive(Debug)]
#[must_use]
pub struct ClientBuilder {
    url: String,
    path: String,
    query: Vec<(String, String)>,
    headers: http::HeaderMap,
    error: Option<String>,
    auth: Option<Auth>,
    transports: Vec<TransportKind>,
    upgrade: bool,
    timeout: Option<Duration>,
    reconnection: bool,
    reconnection_attempts: u32,
    reconnection_delay: Duration,
    reconnection_delay_max: Duration,
    randomization_factor: f64,
    ack_timeout: Option<Duration>,
    retries: u32,
    parser: Parser,
}

impl ClientBuilder {
    pub(crate) fn new(url: String) -> Self {
        Self {
            url,
            path: "/socket.io".into(),
            query: Vec::new(),
            headers: http::HeaderMap::new(),
            error: None,
            auth: None,
            transports: vec![TransportKind::Polling, TransportKind::WebSocket],
            upgrade: true,
            timeout: Some(Duration::from_millis(20_000)),
            reconnection: true,
            reconnection_attempts: u32::MAX,
            reconnection_delay: Duration::from_millis(1000),
            reconnection_delay_max: Duration::from_millis(5000),
            randomization_factor: 0.5,
            ack_timeout: None,
            retries: 0,
            parser: Parser::Json,
        }
    }

    /// The Engine.IO path on the server (default `/socket.io`).
    pub fn path(mut self, path: impl Into<String>) -> Self {
        self.path = path.into();
        self
    }

    /// Adds a query parameter to every Engine.IO request (the server sees it in the
    /// handshake's `query`). Parameters of the URL are kept too.
    pub fn query(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.query.push((key.into(), value.into()));
        self
    }

    /// Adds an HTTP header to every request: polling requests and the WebSocket handshake
    /// (Node's `extraHeaders`). An invalid name or value makes `connect` fail.
    pub fn extra_header(mut self, name: &str, value: &str) -> Self {
        match (
            http::HeaderName::try_from(name),
            http::HeaderValue::try_from(value),
        ) {
            (Ok(name), Ok(value)) => {
                self.headers.append(name, value);
            }
            _ => {
                self.error
                    .get_or_insert_with(|| format!("invalid header {name:?}"));
            }
        }
        self
    }

    /// The `auth` payload sent with every `CONNECT` (it must serialize as an object). The
    /// server reads it in its handshake and middlewares.
    pub fn auth<T: Serialize>(mut self, auth: T) -> Self {
        match serde_json::to_value(auth) {
            Ok(value @ serde_json::Value::Object(_)) => self.auth = Some(Auth::Static(value)),
            _ => {
                self.error
                    .get_or_insert_with(|| "auth must serialize as an object".into());
            }
        }
        self
    }

    /// An `auth` callback, asked before every `CONNECT` (Node's `auth: (cb) => ...`). It must
    /// return an object.
    pub fn auth_fn<F, Fut>(mut self, callback: F) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = serde_json::Value> + Send + 'static,
    {
        self.auth = Some(Auth::Callback(Arc::new(move || Box::pin(callback()))));
        self
    }

    /// The transports to use, in order of preference (default: long-polling, then an upgrade
    /// to WebSocket). `[TransportKind::WebSocket]` connects over WebSocket directly.
    pub fn transports(mut self, transports: impl IntoIterator<Item = TransportKind>) -> Self {
        self.transports = transports.into_iter().collect();
        self
    }

    /// Whether to upgrade from long-polling to WebSocket (default `true`).
    pub fn upgrade(mut self, upgrade: bool) -> Self {
        self.upgrade = upgrade;
        self
    }

    /// How long a connection attempt may take before `connect_error` `"timeout"` (default
    /// 20 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Whether to reconnect after a lost connection (default `true`).
    pub fn reconnection(mut self, reconnection: bool) -> Self {
        self.reconnection = reconnection;
        self
    }

    /// Most reconnection attempts before giving up (default: unlimited).
    pub fn reconnection_attempts(mut self, attempts: u32) -> Self {
        self.reconnection_attempts = attempts;
        self
    }

    /// The first reconnection delay (default 1 s), doubled at each attempt.
    pub fn reconnection_delay(mut self, delay: Duration) -> Self {
        self.reconnection_delay = delay;
        self
    }

    /// The largest reconnection delay (default 5 s).
    pub fn reconnection_delay_max(mut self, delay: Duration) -> Self {
        self.reconnection_delay_max = delay;
        self
    }

    /// How much each delay is randomly spread, `0.0..=1.0` (default 0.5).
    pub fn randomization_factor(mut self, factor: f64) -> Self {
        self.randomization_factor = factor;
        self
    }

    /// The default deadline of acknowledgements (Node's `ackTimeout`; default: none).
    pub fn ack_timeout(mut self, timeout: Duration) -> Self {
        self.ack_timeout = Some(timeout);
        self
    }

    /// Sends every event up to `retries` more times until the server acknowledges it
    /// (at-least-once delivery, one event in flight at a time; default 0: off).
    pub fn retries(mut self, retries: u32) -> Self {
        self.retries = retries;
        self
    }

    /// The packet format; it must match the server's (default [`Parser::Json`]).
    pub fn parser(mut self, parser: Parser) -> Self {
        self.parser = parser;
        self
    }

    fn options(self) -> Result<Options, ConnectError> {
        if let Some(error) = self.error {
            return Err(ConnectError::new(error));
        }
        let url = parse_url(&self.url).map_err(ConnectError::new)?;
        if url.endpoint.secure {
            return Err(ConnectError::new("TLS (https, wss) is not supported"));
        }
        if self.transports.is_empty() {
            return Err(ConnectError::new("no transport"));
        }
        let mut path = self.path.trim_end_matches('/').to_owned();
        if !path.starts_with('/') {
            path.insert(0, '/');
        }
        path.push('/');
        let mut query = url.query;
        query.extend(self.query);
        Ok(Options {
            engine: Arc::new(EngineOptions {
                endpoint: url.endpoint,
                path,
                query,
                headers: self.headers,
                transports: self.transports,
                upgrade: self.upgrade,
                max_response: 64 << 20,
            }),
            namespace: url.namespace,
            auth: self.auth,
            timeout: self.timeout,
            reconnection: self.reconnection,
            reconnection_attempts: self.reconnection_attempts,
            reconnection_delay: self.reconnection_delay,
            reconnection_delay_max: self.reconnection_delay_max,
            randomization_factor: self.randomization_factor,
            ack_timeout: self.ack_timeout,
            retries: self.retries,
            parser: self.parser,
        })
    }

    /// The manager (one Engine.IO connection) for these options, not connected yet; get its
    /// sockets with [`Manager::socket`]. Needs a tokio runtime.
    ///
    /// # Errors
    ///
    /// An invalid URL or option.
    pub fn manager(self) -> Result<Manager, ConnectError> {
        Ok(Manager::new(self.options()?))
    }

    /// The socket of the URL's namespace, not connected yet: register its handlers, then call
    /// [`Socket::connect`]. Needs a tokio runtime.
    ///
    /// # Errors
    ///
    /// An invalid URL or option.
    pub fn socket(self) -> Result<Socket, ConnectError> {
        let manager = self.manager()?;
        let nsp = manager.options().namespace.clone();
        Ok(manager.socket(&nsp))
    }

    /// Connects the socket of the URL's namespace and resolves once the namespace accepted
    /// it.
    ///
    /// # Errors
    ///
    /// As [`Client::connect`](crate::Client::connect).
    pub async fn connect(self) -> Result<Socket, ConnectError> {
        let socket = self.socket()?;
        match socket.connect().await {
            Ok(()) => Ok(socket),
            Err(error) => {
                socket.disconnect();
                Err(error)
            }
        }
    }
}
