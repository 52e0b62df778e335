//! Long-polling requests: one task per GET or POST, reporting back to the manager task.

use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use engineio_proto::Packet;
use engineio_proto::payload::{decode_v4, encode_v4};
use http_body_util::{BodyExt, Full, Limited};
use hyper_util::client::legacy::Client as HyperClient;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::{EngineOptions, Tagged, TransportEvent, TransportFailure};

/// The HTTP/1.1 client shared by every request of a manager (keeps connections alive).
pub(crate) type HttpClient = HyperClient<HttpConnector, Full<Bytes>>;

/// A new HTTP client.
pub(crate) fn polling_client() -> HttpClient {
    HyperClient::builder(TokioExecutor::new()).build_http()
}

fn request(
    method: http::Method,
    url: &str,
    opts: &EngineOptions,
    body: Bytes,
) -> Result<http::Request<Full<Bytes>>, TransportFailure> {
    let mut builder = http::Request::builder().method(method).uri(url);
    if let Some(headers) = builder.headers_mut() {
        for (name, value) in &opts.headers {
            headers.append(name.clone(), value.clone());
        }
        if !body.is_empty() {
            headers.insert(
                http::header::CONTENT_TYPE,
                http::HeaderValue::from_static("text/plain;charset=UTF-8"),
            );
        }
    }
    builder
        .body(Full::new(body))
        .map_err(|e| TransportFailure::Io("xhr poll error", format!("invalid request: {e}")))
}

async fn exchange(
    http: &HttpClient,
    req: http::Request<Full<Bytes>>,
    max: usize,
    what: &'static str,
) -> Result<Bytes, TransportFailure> {
    let response = http
        .request(req)
        .await
        .map_err(|e| TransportFailure::Io(what, e.to_string()))?;
    let status = response.status();
    let body = Limited::new(response.into_body(), max)
        .collect()
        .await
        .map_err(|e| TransportFailure::Io(what, e.to_string()))?
        .to_bytes();
    if !status.is_success() {
        return Err(TransportFailure::Io(
            what,
            format!("status {status}: {}", String::from_utf8_lossy(&body)),
        ));
    }
    Ok(body)
}

/// Issues a GET and reports its packets.
pub(crate) fn get(
    http: HttpClient,
    url: String,
    opts: Arc<EngineOptions>,
    engine: u64,
    tx: mpsc::UnboundedSender<Tagged>,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let result = async {
            let req = request(http::Method::GET, &url, &opts, Bytes::new())?;
            let body = exchange(&http, req, opts.max_response, "xhr poll error").await?;
            decode_v4(body, opts.max_response).map_err(|_| TransportFailure::Parse)
        }
        .await;
        let _ = tx.send(Tagged {
            engine,
            event: TransportEvent::Polled(result),
        });
    })
}

/// Issues a POST with `packets` and reports its completion.
pub(crate) fn post(
    http: HttpClient,
    url: String,
    opts: Arc<EngineOptions>,
    packets: &[Packet],
    engine: u64,
    tx: mpsc::UnboundedSender<Tagged>,
) -> JoinHandle<()> {
    let mut body = BytesMut::new();
    encode_v4(packets, &mut body);
    let body = body.freeze();
    tokio::spawn(async move {
        let result = async {
            let req = request(http::Method::POST, &url, &opts, body)?;
            exchange(&http, req, 1024, "xhr post error").await.map(drop)
        }
        .await;
        let _ = tx.send(Tagged {
            engine,
            event: TransportEvent::Posted(result),
        });
    })
}
