//! HTTP answers as Node's `engine.io` writes them: error codes, CORS, query parsing, session ids.

use std::borrow::Cow;

use base64::Engine as _;
use bytes::Bytes;
use http::header::{self, HeaderMap, HeaderValue};
use http::{Response, StatusCode};
use http_body_util::Full;

use crate::config::{Cors, CorsOrigin};

/// The body of every response this crate writes.
pub type ResponseBody = Full<Bytes>;

/// Node's `Server.errors`: why a request was refused, answered with HTTP 400 (403 for
/// [`ErrorCode::Forbidden`]) and a JSON body `{"code":N,"message":"..."}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorCode {
    /// `0`: the `transport` query parameter is missing or not enabled.
    TransportUnknown = 0,
    /// `1`: the `sid` names no open session.
    SessionIdUnknown = 1,
    /// `2`: a handshake that is not a GET.
    BadHandshakeMethod = 2,
    /// `3`: any other malformed request.
    BadRequest = 3,
    /// `4`: refused by the application.
    Forbidden = 4,
    /// `5`: the `EIO` query parameter names a protocol revision that is not accepted.
    UnsupportedProtocolVersion = 5,
}

impl ErrorCode {
    /// Node's message for the code.
    pub const fn message(self) -> &'static str {
        match self {
            Self::TransportUnknown => "Transport unknown",
            Self::SessionIdUnknown => "Session ID unknown",
            Self::BadHandshakeMethod => "Bad handshake method",
            Self::BadRequest => "Bad request",
            Self::Forbidden => "Forbidden",
            Self::UnsupportedProtocolVersion => "Unsupported protocol version",
        }
    }
}

/// Why a request is refused: a coded error, or a bare status (Node's `res.writeHead(400).end()`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Reject {
    Code(ErrorCode),
    Status(StatusCode),
    /// Refused by `allow_request`, with the application's status and message.
    Refused(StatusCode, std::sync::Arc<str>),
}

/// Why `allow_request` refused a handshake: the HTTP status (403 by default, as Node) and a
/// message, sent as `{"code":4,"message":..}`.
///
/// ```
/// use engineio_server::Refusal;
/// let refusal = Refusal::forbidden("no token").with_status(http::StatusCode::UNAUTHORIZED);
/// assert_eq!(refusal.status, http::StatusCode::UNAUTHORIZED);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Refusal {
    /// The HTTP status of the answer (polling; a WebSocket handshake gets it too, except that
    /// 403 becomes Node's 400).
    pub status: StatusCode,
    /// The message of the JSON body.
    pub message: String,
}

impl Refusal {
    /// A 403 refusal with `message`, as Node's `allowRequest` refusal.
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::FORBIDDEN,
            message: message.into(),
        }
    }

    /// The same refusal with another status.
    #[must_use]
    pub fn with_status(mut self, status: StatusCode) -> Self {
        self.status = status;
        self
    }
}

impl From<Refusal> for Reject {
    fn from(refusal: Refusal) -> Self {
        Self::Refused(refusal.status, refusal.message.into())
    }
}

impl Reject {
    /// The HTTP answer of a plain request.
    pub(crate) fn response(self) -> Response<ResponseBody> {
        match self {
            Self::Code(code) => {
                let status = if code == ErrorCode::Forbidden {
                    StatusCode::FORBIDDEN
                } else {
                    StatusCode::BAD_REQUEST
                };
                // The messages need no JSON escaping.
                let body = format!(
                    r#"{{"code":{},"message":"{}"}}"#,
                    code as u8,
                    code.message()
                );
                let mut response = Response::new(Full::new(Bytes::from(body)));
                *response.status_mut() = status;
                response.headers_mut().insert(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/json"),
                );
                response
            }
            Self::Status(status) => status_response(status),
            Self::Refused(status, message) => {
                let body = serde_json::json!({
                    "code": ErrorCode::Forbidden as u8,
                    "message": &*message,
                });
                let mut response = Response::new(Full::new(Bytes::from(body.to_string())));
                *response.status_mut() = status;
                response.headers_mut().insert(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/json"),
                );
                response
            }
        }
    }

    /// The HTTP answer of a WebSocket upgrade request: always 400 with the message as text, as
    /// Node's `abortUpgrade` writes it.
    pub(crate) fn upgrade_response(self) -> Response<ResponseBody> {
        let mut status = StatusCode::BAD_REQUEST;
        let message = match self {
            Self::Code(code) => Bytes::from_static(code.message().as_bytes()),
            Self::Status(_) => Bytes::from_static(ErrorCode::BadRequest.message().as_bytes()),
            Self::Refused(refused, message) => {
                if refused != StatusCode::FORBIDDEN {
                    status = refused;
                }
                Bytes::copy_from_slice(message.as_bytes())
            }
        };
        let mut response = Response::new(Full::new(message));
        *response.status_mut() = status;
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html"));
        headers.insert(header::CONNECTION, HeaderValue::from_static("close"));
        response
    }
}

pub(crate) fn status_response(status: StatusCode) -> Response<ResponseBody> {
    let mut response = Response::new(Full::new(Bytes::new()));
    *response.status_mut() = status;
    response
}

/// A 200 answer with `body`.
pub(crate) fn ok_response(body: Bytes, content_type: &'static str) -> Response<ResponseBody> {
    let mut response = Response::new(Full::new(body));
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// Adds the CORS headers of a simple request, as Node's `cors` package does.
pub(crate) fn apply_cors(cors: &Cors, request: &HeaderMap, response: &mut HeaderMap) {
    let origin = request.get(header::ORIGIN);
    match &cors.origin {
        CorsOrigin::Any => {
            response.insert(
                header::ACCESS_CONTROL_ALLOW_ORIGIN,
                HeaderValue::from_static("*"),
            );
        }
        CorsOrigin::Reflect => {
            if let Some(origin) = origin {
                response.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin.clone());
            }
            response.append(header::VARY, HeaderValue::from_static("Origin"));
        }
        CorsOrigin::List(list) => {
            if let Some(origin) = origin {
                if list
                    .iter()
                    .any(|allowed| allowed.as_bytes() == origin.as_bytes())
                {
                    response.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin.clone());
                }
            }
            response.append(header::VARY, HeaderValue::from_static("Origin"));
        }
        CorsOrigin::Predicate(admit) => {
            if let Some(origin) = origin {
                if origin.to_str().is_ok_and(|origin| (admit.0)(origin)) {
                    response.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin.clone());
                }
            }
            response.append(header::VARY, HeaderValue::from_static("Origin"));
        }
    }
    if cors.credentials {
        response.insert(
            header::ACCESS_CONTROL_ALLOW_CREDENTIALS,
            HeaderValue::from_static("true"),
        );
    }
}

/// The answer to a CORS preflight (`OPTIONS`): 204 with the allowed methods and headers.
pub(crate) fn preflight(cors: &Cors, request: &HeaderMap) -> Response<ResponseBody> {
    let mut response = status_response(StatusCode::NO_CONTENT);
    let headers = response.headers_mut();
    apply_cors(cors, request, headers);
    if let Ok(methods) = HeaderValue::from_str(&cors.methods) {
        headers.insert(header::ACCESS_CONTROL_ALLOW_METHODS, methods);
    }
    if let Some(asked) = request.get(header::ACCESS_CONTROL_REQUEST_HEADERS) {
        headers.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, asked.clone());
        headers.append(
            header::VARY,
            HeaderValue::from_static("Access-Control-Request-Headers"),
        );
    }
    if let Some(age) = cors.max_age {
        headers.insert(header::ACCESS_CONTROL_MAX_AGE, HeaderValue::from(age));
    }
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from_static("0"));
    response
}

/// The query parameters Engine.IO reads.
#[derive(Debug, Default)]
pub(crate) struct Query<'a> {
    pub(crate) eio: Option<Cow<'a, str>>,
    pub(crate) transport: Option<Cow<'a, str>>,
    pub(crate) sid: Option<Cow<'a, str>>,
    /// v3: the client cannot take binary payloads (`b64=1`).
    #[cfg_attr(not(feature = "v3"), allow(dead_code, reason = "v3 only"))]
    pub(crate) b64: bool,
}

impl<'a> Query<'a> {
    /// Parses `a=b&c=d` as `URLSearchParams` does (the last of repeated keys wins here, where
    /// Node's `Object.fromEntries` also keeps the last).
    pub(crate) fn parse(query: &'a str) -> Self {
        let mut out = Self::default();
        for pair in query.split('&') {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            match key {
                "EIO" => out.eio = Some(percent_decode(value)),
                "transport" => out.transport = Some(percent_decode(value)),
                "sid" => out.sid = Some(percent_decode(value)),
                "b64" => out.b64 = !value.is_empty(),
                _ => {}
            }
        }
        out
    }
}

/// `application/x-www-form-urlencoded` decoding of a query component: `+` is a space, `%XX` a
/// byte; malformed escapes stay as they are, as in browsers, and invalid UTF-8 is replaced.
///
/// ```
/// assert_eq!(engineio_server::percent_decode("a+b%2Fc%zz"), "a b/c%zz");
/// ```
pub fn percent_decode(value: &str) -> Cow<'_, str> {
    if !value.bytes().any(|b| b == b'%' || b == b'+') {
        return Cow::Borrowed(value);
    }
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&byte) = bytes.get(i) {
        match byte {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = bytes
                    .get(i + 1..i + 3)
                    .and_then(|h| std::str::from_utf8(h).ok())
                    .and_then(|h| u8::from_str_radix(h, 16).ok());
                if let Some(decoded) = hex {
                    out.push(decoded);
                    i += 2;
                } else {
                    out.push(b'%');
                }
            }
            other => out.push(other),
        }
        i += 1;
    }
    Cow::Owned(String::from_utf8_lossy(&out).into_owned())
}

/// Whether a header value holds a character Node's HTTP parser rejects (`checkInvalidHeaderChar`).
pub(crate) fn invalid_header_chars(value: &[u8]) -> bool {
    value
        .iter()
        .any(|&b| !(b == b'\t' || (0x20..0x7f).contains(&b) || b >= 0x80))
}

/// A fresh session id: 15 random bytes in URL-safe base64, 20 characters, like Node's `base64id`.
/// A new random id in Node's `base64id` format: 15 random bytes, URL-safe base64 (20 characters).
///
/// ```
/// assert_eq!(engineio_server::generate_id().len(), 20);
/// ```
pub fn generate_id() -> engineio_proto::Str {
    let mut raw = [0u8; 15];
    // The OS generator failing is not something a peer can cause; fall back to the clock and a
    // counter so that ids stay unique even then.
    if random_bytes(&mut raw).is_err() {
        use std::sync::atomic::{AtomicU64, Ordering};
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        raw[..8].copy_from_slice(&n.to_le_bytes());
        raw[8..].copy_from_slice(&t.to_le_bytes()[..7]);
    }
    engineio_proto::Str::from(base64::engine::general_purpose::URL_SAFE.encode(raw))
}

/// Bytes from the OS generator, taken from a per-thread pool refilled 4 KiB at a time (as
/// Node's `crypto.randomBytes` pool): two ids per connection no longer cost two system calls.
/// Every byte is used once. (A process that forks without exec would share its pool with the
/// child, as with any user-space pool; servers do not fork after starting their runtime.)
fn random_bytes(into: &mut [u8]) -> Result<(), getrandom::Error> {
    const POOL: usize = 4096;
    struct Pool {
        bytes: Box<[u8; POOL]>,
        used: usize,
    }
    thread_local! {
        static POOL_BYTES: std::cell::RefCell<Option<Pool>> = const { std::cell::RefCell::new(None) };
    }
    if into.len() > POOL {
        return getrandom::fill(into);
    }
    POOL_BYTES.with(|cell| {
        let mut cell = cell.borrow_mut();
        let pool = cell.get_or_insert_with(|| Pool {
            bytes: Box::new([0u8; POOL]),
            used: POOL,
        });
        if POOL - pool.used < into.len() {
            getrandom::fill(&mut pool.bytes[..])?;
            pool.used = 0;
        }
        into.copy_from_slice(&pool.bytes[pool.used..pool.used + into.len()]);
        // Taken bytes are not kept around for anyone to read later.
        pool.bytes[pool.used..pool.used + into.len()].fill(0);
        pool.used += into.len();
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_from_the_pool_are_distinct_across_refills() {
        let ids: std::collections::HashSet<_> = (0..1000).map(|_| generate_id()).collect();
        assert_eq!(ids.len(), 1000);
    }

    #[test]
    fn query_parses_engine_parameters() {
        let q = Query::parse("EIO=4&transport=polling&t=abc&sid=a%2Db+c");
        assert_eq!(q.eio.as_deref(), Some("4"));
        assert_eq!(q.transport.as_deref(), Some("polling"));
        assert_eq!(q.sid.as_deref(), Some("a-b c"));
        let q = Query::parse("sid=%zz%4");
        assert_eq!(q.sid.as_deref(), Some("%zz%4"));
        assert!(Query::parse("").eio.is_none());
    }

    #[test]
    fn sids_are_20_url_safe_chars() {
        let a = generate_id();
        let b = generate_id();
        assert_eq!(a.len(), 20);
        assert_ne!(a, b);
        assert!(
            a.bytes()
                .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_')
        );
    }

    #[test]
    fn error_bodies_match_node() {
        let response = Reject::Code(ErrorCode::SessionIdUnknown).response();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        assert_eq!(
            response.headers()[header::CONTENT_TYPE],
            HeaderValue::from_static("application/json")
        );
        let response = Reject::Code(ErrorCode::Forbidden).response();
        assert_eq!(response.status(), StatusCode::FORBIDDEN);
    }

    #[test]
    fn header_chars() {
        assert!(!invalid_header_chars(b"https://a.b"));
        assert!(invalid_header_chars(b"a\x01b"));
        assert!(invalid_header_chars(b"a\x7f"));
    }
}
