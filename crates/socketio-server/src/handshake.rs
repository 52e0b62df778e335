//! What a client sent when it connected to a namespace (Node's `socket.handshake`).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

/// The handshake of a socket: the HTTP request that opened the connection, and the `auth`
/// payload of the namespace CONNECT.
///
/// ```no_run
/// # fn f(socket: socketio_server::Socket) {
/// let handshake = socket.handshake();
/// let token = handshake.auth().get("token").and_then(|t| t.as_str());
/// let room = handshake.query("room");
/// let agent = handshake.headers().get("user-agent");
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct Handshake {
    engine: Arc<engineio_server::Handshake>,
    auth: serde_json::Value,
    issued: SystemTime,
}

impl Handshake {
    pub(crate) fn new(engine: Arc<engineio_server::Handshake>, auth: serde_json::Value) -> Self {
        Self {
            engine,
            auth,
            issued: SystemTime::now(),
        }
    }

    /// The headers of the request that opened the connection.
    pub fn headers(&self) -> &http::HeaderMap {
        self.engine.headers()
    }

    /// The request URL, path and query (Node's `handshake.url`).
    pub fn url(&self) -> &str {
        self.engine.path_and_query()
    }

    /// The raw query string of the request, without `?`.
    pub fn query_string(&self) -> &str {
        self.engine.query()
    }

    /// The first value of query parameter `name`, percent-decoded (Node's `handshake.query[name]`).
    pub fn query(&self, name: &str) -> Option<String> {
        self.query_pairs()
            .into_iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value)
    }

    /// Every query parameter, percent-decoded, in order.
    pub fn query_pairs(&self) -> Vec<(String, String)> {
        self.query_string()
            .split('&')
            .filter(|pair| !pair.is_empty())
            .map(|pair| {
                let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
                (percent_decode(key), percent_decode(value))
            })
            .collect()
    }

    /// The `auth` payload of the CONNECT packet (`{}` when the client sent none).
    pub fn auth(&self) -> &serde_json::Value {
        &self.auth
    }

    /// The client's address, when the server knows it (see [`engineio_server::RemoteAddr`]).
    pub fn address(&self) -> Option<SocketAddr> {
        self.engine.remote_addr
    }

    /// Whether the request came from another origin (it has an `Origin` header).
    pub fn xdomain(&self) -> bool {
        self.engine.has_header("origin")
    }

    /// Whether the connection is encrypted (see [`engineio_server::Secure`]).
    pub fn secure(&self) -> bool {
        self.engine.secure
    }

    /// When the socket connected to its namespace.
    pub fn time(&self) -> SystemTime {
        self.issued
    }

    /// When the socket connected, in milliseconds since the Unix epoch (Node's `issued`).
    pub fn issued(&self) -> u64 {
        self.issued
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
    }
}

impl Handshake {
    /// The handshake as Node serializes it for the other servers of a cluster
    /// (`fetchSockets`): `headers`, `time`, `address`, `xdomain`, `secure`, `issued`, `url`,
    /// `query` and `auth`. `time` is written as an ISO 8601 date (Node writes its own
    /// `Date.toString()` form, which no program parses back).
    pub fn to_json(&self) -> serde_json::Value {
        let mut headers = serde_json::Map::new();
        for (name, value) in self.headers() {
            let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
            match headers.get_mut(name.as_str()) {
                // Node joins repeated headers with ", " (set-cookie aside).
                Some(serde_json::Value::String(existing)) => {
                    existing.push_str(", ");
                    existing.push_str(&value);
                }
                _ => {
                    headers.insert(name.as_str().to_owned(), value.into());
                }
            }
        }
        let mut query = serde_json::Map::new();
        for (key, value) in self.query_pairs() {
            match query.get_mut(&key) {
                Some(serde_json::Value::Array(values)) => values.push(value.into()),
                Some(existing) => {
                    let first = existing.take();
                    *existing = serde_json::Value::Array(vec![first, value.into()]);
                }
                None => {
                    query.insert(key, value.into());
                }
            }
        }
        serde_json::json!({
            "headers": headers,
            "time": iso_date(self.issued()),
            "address": self.address().map(|a| a.ip().to_string()),
            "xdomain": self.xdomain(),
            "secure": self.secure(),
            "issued": self.issued(),
            "url": self.url(),
            "query": query,
            "auth": self.auth(),
        })
    }
}

/// `YYYY-MM-DDTHH:MM:SS.mmmZ` for milliseconds since the Unix epoch.
fn iso_date(millis: u64) -> String {
    let secs = millis / 1000;
    let days = i64::try_from(secs / 86_400).unwrap_or(0);
    let rem = secs % 86_400;
    // Howard Hinnant's days-to-civil.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        rem / 60 % 60,
        rem % 60,
        millis % 1000
    )
}

/// Query components, decoded as the engine decodes its own parameters.
pub(crate) fn percent_decode(input: &str) -> String {
    engineio_server::percent_decode(input).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_dates() {
        assert_eq!(iso_date(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(iso_date(1_795_617_228_123), "2026-11-25T14:33:48.123Z");
        assert_eq!(iso_date(951_782_400_000), "2000-02-29T00:00:00.000Z");
    }

    #[test]
    fn decodes_query_values() {
        assert_eq!(percent_decode("a+b%20c%zz%4"), "a b c%zz%4");
        assert_eq!(percent_decode("%C3%A9"), "é");
        let engine = engineio_server::Handshake::empty(engineio_server::TransportKind::Polling)
            .with_path_and_query("/socket.io/?EIO=4&transport=polling&room=a%2Fb&flag");
        let handshake = Handshake::new(Arc::new(engine), serde_json::json!({}));
        assert_eq!(handshake.query("room").as_deref(), Some("a/b"));
        assert_eq!(handshake.query("flag").as_deref(), Some(""));
        assert_eq!(handshake.query("none"), None);
        let json = handshake.to_json();
        assert_eq!(json["query"]["room"], "a/b");
        assert_eq!(json["query"]["EIO"], "4");
        assert_eq!(json["auth"], serde_json::json!({}));
        assert_eq!(
            handshake.url(),
            "/socket.io/?EIO=4&transport=polling&room=a%2Fb&flag"
        );
    }
}
