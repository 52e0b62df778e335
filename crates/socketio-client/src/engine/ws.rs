//! The WebSocket transport: one task per WebSocket, reading frames into the manager's channel
//! and writing what the engine hands it.

use std::sync::Arc;

use bytestring::ByteString;
use engineio_proto::Frame;
use engineio_proto::session::TransportEnd;
use futures_util::{SinkExt, StreamExt};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use super::{EngineOptions, Tagged, TransportEvent};

/// What the engine asks of its WebSocket task.
#[derive(Debug)]
pub(crate) enum Out {
    Frame(Frame),
    Close,
}

/// Connects WebSocket `ws` of engine `engine`, then pumps frames both ways until either side
/// closes.
pub(crate) fn connect(
    url: String,
    opts: Arc<EngineOptions>,
    engine: u64,
    ws: u64,
    tx: mpsc::UnboundedSender<Tagged>,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let report = |event| {
            let _ = tx.send(Tagged { engine, event });
        };
        let request = match url.as_str().into_client_request() {
            Ok(mut request) => {
                for (name, value) in &opts.headers {
                    request.headers_mut().append(name.clone(), value.clone());
                }
                request
            }
            Err(_) => return report(TransportEvent::WsFailed(ws)),
        };
        let stream = match tokio_tungstenite::connect_async(request).await {
            Ok((stream, _)) => stream,
            Err(error) => {
                tracing::debug!(%error, "websocket connect failed");
                return report(TransportEvent::WsFailed(ws));
            }
        };
        let (out_tx, mut out_rx) = mpsc::unbounded_channel();
        report(TransportEvent::WsOpened(ws, out_tx));
        let (mut sink, mut stream) = stream.split();
        let end = loop {
            tokio::select! {
                message = stream.next() => match message {
                    Some(Ok(Message::Text(text))) => {
                        let text: ByteString = ByteString::from(text.as_str());
                        report(TransportEvent::WsFrame(ws, Frame::Text(text)));
                    }
                    Some(Ok(Message::Binary(data))) => {
                        report(TransportEvent::WsFrame(ws, Frame::Binary(data)));
                    }
                    Some(Ok(Message::Close(_))) | None => break TransportEnd::Closed,
                    Some(Ok(_)) => {}
                    Some(Err(_)) => break TransportEnd::Error,
                },
                out = out_rx.recv() => match out {
                    Some(Out::Frame(frame)) => {
                        let message = match frame {
                            Frame::Text(text) => Message::text(&*text),
                            Frame::Binary(data) => Message::Binary(data),
                        };
                        if sink.send(message).await.is_err() {
                            break TransportEnd::Error;
                        }
                    }
                    Some(Out::Close) | None => {
                        let _ = sink.close().await;
                        return;
                    }
                },
            }
        };
        report(TransportEvent::WsClosed(ws, end));
    })
}
