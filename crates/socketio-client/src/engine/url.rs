//! The server URL: what `Client::connect("http://host:3000/admin?x=1")` means.

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// Where the server is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct EndpointUrl {
    /// `host:port` (the port is always explicit).
    pub(crate) authority: String,
    /// `https` / `wss`.
    pub(crate) secure: bool,
}

/// A parsed client URL: the endpoint, the namespace (the URL's path) and its query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ParsedUrl {
    pub(crate) endpoint: EndpointUrl,
    pub(crate) namespace: String,
    pub(crate) query: Vec<(String, String)>,
}

/// Parses `http://`, `https://`, `ws://` or `wss://` URLs as Node's client does: the path is the
/// namespace (`/` when empty), the query goes to every Engine.IO request.
pub(crate) fn parse_url(input: &str) -> Result<ParsedUrl, String> {
    let uri: http::Uri = input
        .parse()
        .map_err(|e| format!("invalid URL {input:?}: {e}"))?;
    let secure = match uri.scheme_str() {
        Some("http" | "ws") => false,
        Some("https" | "wss") => true,
        Some(other) => return Err(format!("unsupported URL scheme {other:?}")),
        None => return Err(format!("URL {input:?} has no scheme")),
    };
    let host = uri
        .host()
        .ok_or_else(|| format!("URL {input:?} has no host"))?;
    let port = uri.port_u16().unwrap_or(if secure { 443 } else { 80 });
    let authority = if host.contains(':') && !host.starts_with('[') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    };
    let path = uri.path();
    let namespace = if path.is_empty() {
        "/".to_owned()
    } else {
        path.to_owned()
    };
    let query = uri.query().map(parse_query).unwrap_or_default();
    Ok(ParsedUrl {
        endpoint: EndpointUrl { authority, secure },
        namespace,
        query,
    })
}

fn parse_query(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| match pair.split_once('=') {
            Some((k, v)) => (decode(k), decode(v)),
            None => (decode(pair), String::new()),
        })
        .collect()
}

fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(b) => {
                        out.push(b);
                        i += 3;
                        continue;
                    }
                    None => out.push(b'%'),
                }
            }
            b'+' => out.push(b' '),
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Appends `s` percent-encoded as `encodeURIComponent` does.
pub(crate) fn push_encoded(out: &mut String, s: &str) {
    for b in s.bytes() {
        if b.is_ascii_alphanumeric()
            || matches!(
                b,
                b'-' | b'_' | b'.' | b'!' | b'~' | b'*' | b'\'' | b'(' | b')'
            )
        {
            out.push(char::from(b));
        } else {
            out.push('%');
            out.push(char::from(b"0123456789ABCDEF"[usize::from(b >> 4)]));
            out.push(char::from(b"0123456789ABCDEF"[usize::from(b & 15)]));
        }
    }
}

/// A cache-busting token for polling requests, unique within the process (Node's `yeast`).
pub(crate) fn timestamp() -> String {
    static SEQ: AtomicU32 = AtomicU32::new(0);
    let ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis());
    format!("{ms:x}.{}", SEQ.fetch_add(1, Ordering::Relaxed))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        let u = parse_url("http://localhost:3000/admin?token=a%20b&x").unwrap();
        assert_eq!(u.endpoint.authority, "localhost:3000");
        assert_eq!(u.namespace, "/admin");
        assert_eq!(
            u.query,
            vec![("token".into(), "a b".into()), ("x".into(), String::new())]
        );
        let u = parse_url("ws://127.0.0.1").unwrap();
        assert_eq!(
            (u.endpoint.authority.as_str(), u.namespace.as_str()),
            ("127.0.0.1:80", "/")
        );
        assert!(parse_url("https://example.com").unwrap().endpoint.secure);
        assert!(parse_url("ftp://x").is_err());
        let mut s = String::new();
        push_encoded(&mut s, "a b/é");
        assert_eq!(s, "a%20b%2F%C3%A9");
    }
}
