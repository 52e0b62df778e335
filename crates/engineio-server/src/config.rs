//! Server settings, with the defaults of Node's `engine.io`.

use std::sync::Arc;
use std::time::Duration;

use engineio_proto::TransportKind;
use engineio_proto::session::Config as SessionConfig;

/// Settings of an Engine.IO server. The defaults are those of Node's `engine.io` (v6); the
/// struct is `#[non_exhaustive]`: start from [`Config::default`] and set fields.
///
/// ```
/// use std::time::Duration;
/// use engineio_server::{Config, Cors};
///
/// let mut config = Config::default();
/// config.ping_interval = Duration::from_millis(300);
/// config.cors = Some(Cors::any());
/// assert_eq!(config.path, "/engine.io/");
/// assert_eq!(config.max_http_buffer_size, 1_000_000);
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Config {
    /// The path the server answers under (`/engine.io/`; Socket.IO uses `/socket.io/`). Requests
    /// whose path starts with it are handled; a missing trailing slash is added.
    pub path: String,
    /// Time between two pings (`pingInterval`, 25 s).
    pub ping_interval: Duration,
    /// Time the client has to answer a ping (`pingTimeout`, 20 s).
    pub ping_timeout: Duration,
    /// Time a WebSocket being probed has to complete the upgrade (`upgradeTimeout`, 10 s).
    pub upgrade_timeout: Duration,
    /// Largest polling body and WebSocket message accepted, in bytes (`maxHttpBufferSize`, 1e6).
    pub max_http_buffer_size: usize,
    /// Transports accepted (`transports`, polling and WebSocket).
    pub transports: Vec<TransportKind>,
    /// Whether polling sessions may upgrade to WebSocket (`allowUpgrades`, true).
    pub allow_upgrades: bool,
    /// Accept Engine.IO v3 clients (socket.io 2.x) (`allowEIO3`, false).
    #[cfg(feature = "v3")]
    pub allow_eio3: bool,
    /// CORS headers (`cors`, none).
    pub cors: Option<Cors>,
    /// A cookie holding the session id, set on the polling handshake, for sticky load
    /// balancing (`cookie`, none).
    pub cookie: Option<Cookie>,
    /// Most messages waiting for one session's transport; beyond it the session is closed
    /// (slow consumer). See the crate docs on backpressure.
    pub max_queued_packets: usize,
    /// Most message bytes waiting for one session's transport; beyond it the session is closed.
    pub max_queued_bytes: usize,
    /// Most received events waiting for the application per session; beyond it the session stops
    /// reading its WebSocket and pauses the POST in progress until the application catches up.
    pub max_pending_events: usize,
    /// Capacity of the channel from [`crate::Socket`] handles (and HTTP requests) to a session's
    /// task; [`crate::Socket::send`] fails when it is full.
    pub command_capacity: usize,
}

impl Default for Config {
    fn default() -> Self {
        let session = SessionConfig::default();
        Self {
            path: "/engine.io/".to_owned(),
            ping_interval: session.ping_interval,
            ping_timeout: session.ping_timeout,
            upgrade_timeout: session.upgrade_timeout,
            max_http_buffer_size: 1_000_000,
            transports: vec![TransportKind::Polling, TransportKind::WebSocket],
            allow_upgrades: true,
            #[cfg(feature = "v3")]
            allow_eio3: false,
            cors: None,
            cookie: None,
            max_queued_packets: session.max_queued_packets,
            max_queued_bytes: session.max_queued_bytes,
            max_pending_events: 256,
            command_capacity: 1024,
        }
    }
}

impl Config {
    /// The session settings for `protocol`, shared by every session of the server.
    pub(crate) fn session_config(
        &self,
        protocol: engineio_proto::ProtocolVersion,
    ) -> Arc<SessionConfig> {
        let mut session = SessionConfig::default();
        session.protocol = protocol;
        session.ping_interval = self.ping_interval;
        session.ping_timeout = self.ping_timeout;
        session.upgrade_timeout = self.upgrade_timeout;
        session.max_payload = self.max_http_buffer_size as u64;
        session.allow_upgrades =
            self.allow_upgrades && self.transports.contains(&TransportKind::WebSocket);
        session.upgrades = vec![TransportKind::WebSocket];
        session.max_queued_packets = self.max_queued_packets;
        session.max_queued_bytes = self.max_queued_bytes;
        Arc::new(session)
    }

    /// The path with exactly one trailing slash, as Node normalizes it.
    pub(crate) fn normalized_path(&self) -> String {
        let mut path = self.path.trim_end_matches('/').to_owned();
        path.push('/');
        path
    }
}

/// Which origins CORS admits.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CorsOrigin {
    /// `Access-Control-Allow-Origin: *` (Node: `origin: "*"`).
    Any,
    /// The request's `Origin` is echoed back when it is in the list (Node: an array).
    List(Vec<String>),
    /// The request's `Origin` is always echoed back (Node: `origin: true`).
    Reflect,
    /// The request's `Origin` is echoed back when the predicate accepts it (Node: a function).
    Predicate(OriginPredicate),
}

/// A function deciding which origins CORS admits ([`CorsOrigin::Predicate`]).
#[derive(Clone)]
pub struct OriginPredicate(pub std::sync::Arc<dyn Fn(&str) -> bool + Send + Sync>);

impl std::fmt::Debug for OriginPredicate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("OriginPredicate(..)")
    }
}

impl PartialEq for OriginPredicate {
    fn eq(&self, other: &Self) -> bool {
        std::sync::Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Eq for OriginPredicate {}

/// CORS settings, as Node's `cors` package applies them to every Engine.IO response.
///
/// ```
/// use engineio_server::{Cors, CorsOrigin};
/// let cors = Cors::list(["https://example.com"]).with_credentials(true);
/// assert!(matches!(cors.origin, CorsOrigin::List(_)));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Cors {
    /// Admitted origins.
    pub origin: CorsOrigin,
    /// Send `Access-Control-Allow-Credentials: true`.
    pub credentials: bool,
    /// `Access-Control-Allow-Methods` of a preflight answer (Node's default list).
    pub methods: String,
    /// `Access-Control-Max-Age` of a preflight answer, in seconds.
    pub max_age: Option<u32>,
}

impl Cors {
    /// Any origin (`*`).
    pub fn any() -> Self {
        Self::with_origin(CorsOrigin::Any)
    }

    /// Only these origins.
    pub fn list<I, S>(origins: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Self::with_origin(CorsOrigin::List(
            origins.into_iter().map(Into::into).collect(),
        ))
    }

    /// Echo whatever origin the request names.
    pub fn reflect() -> Self {
        Self::with_origin(CorsOrigin::Reflect)
    }

    /// The origins `admit` accepts.
    ///
    /// ```
    /// let cors = engineio_server::Cors::predicate(|origin| origin.ends_with(".example.com"));
    /// # let _ = cors;
    /// ```
    pub fn predicate<F>(admit: F) -> Self
    where
        F: Fn(&str) -> bool + Send + Sync + 'static,
    {
        Self::with_origin(CorsOrigin::Predicate(OriginPredicate(std::sync::Arc::new(
            admit,
        ))))
    }

    /// Sets [`Cors::credentials`].
    #[must_use]
    pub fn with_credentials(mut self, credentials: bool) -> Self {
        self.credentials = credentials;
        self
    }

    fn with_origin(origin: CorsOrigin) -> Self {
        Self {
            origin,
            credentials: false,
            methods: "GET,HEAD,PUT,PATCH,POST,DELETE".to_owned(),
            max_age: None,
        }
    }
}

/// The session cookie (Node's `cookie` option), as Node serializes it:
/// `io=<sid>; Path=/; HttpOnly; SameSite=Lax` by default.
///
/// ```
/// let cookie = engineio_server::Cookie::default();
/// assert_eq!((cookie.name.as_str(), cookie.path.as_deref()), ("io", Some("/")));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Cookie {
    /// Cookie name (`io`).
    pub name: String,
    /// `Path` attribute (`/`).
    pub path: Option<String>,
    /// `HttpOnly` attribute (true).
    pub http_only: bool,
    /// `SameSite` attribute (`Lax`).
    pub same_site: Option<String>,
}

impl Default for Cookie {
    fn default() -> Self {
        Self {
            name: "io".to_owned(),
            path: Some("/".to_owned()),
            http_only: true,
            same_site: Some("Lax".to_owned()),
        }
    }
}

impl Cookie {
    pub(crate) fn serialize(&self, sid: &str) -> String {
        let mut out = format!("{}={sid}", self.name);
        if let Some(path) = &self.path {
            out.push_str("; Path=");
            out.push_str(path);
        }
        if self.http_only {
            out.push_str("; HttpOnly");
        }
        if let Some(same_site) = &self.same_site {
            out.push_str("; SameSite=");
            out.push_str(same_site);
        }
        out
    }
}
