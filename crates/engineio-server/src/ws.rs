//! The WebSocket seam: everything that names the WebSocket crate lives here, so that it can be
//! swapped after measuring alternatives (memory per idle connection, throughput, Autobahn,
//! sending one pre-built frame to many connections). Today: `tokio-tungstenite`.

use std::time::Duration;

use bytes::Bytes;
use engineio_proto::{Frame, Str};
use futures_util::{Sink as _, StreamExt as _};
use hyper::upgrade::Upgraded;
use hyper_util::rt::TokioIo;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::protocol::frame::Frame as WsFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::{CloseCode, Data, OpCode};
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, Role, WebSocketConfig};
use tokio_tungstenite::tungstenite::{Error, Message, Utf8Bytes};

/// Initial read buffer of a WebSocket: it is allocated up front and kept while the connection
/// is idle, so it is small; a larger message grows it as needed.
const READ_BUFFER: usize = 256;

/// A server-side WebSocket over an upgraded hyper connection.
pub(crate) struct WebSocket {
    pub(crate) inner: WebSocketStream<Io>,
}

/// The connection under a WebSocket: the TCP stream itself when hyper hands it back (our own
/// `serve`), else hyper's upgraded connection. Taking the stream back frees hyper's 8 KiB read
/// buffer, which an `Upgraded` keeps alive for as long as the connection lives.
pub(crate) enum Io {
    Tcp(tokio::net::TcpStream),
    Upgraded(TokioIo<Upgraded>),
}

impl tokio::io::AsyncRead for Io {
    fn poll_read(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        match self.get_mut() {
            Io::Tcp(io) => std::pin::Pin::new(io).poll_read(cx, buf),
            Io::Upgraded(io) => std::pin::Pin::new(io).poll_read(cx, buf),
        }
    }
}

impl tokio::io::AsyncWrite for Io {
    fn poll_write(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        match self.get_mut() {
            Io::Tcp(io) => std::pin::Pin::new(io).poll_write(cx, buf),
            Io::Upgraded(io) => std::pin::Pin::new(io).poll_write(cx, buf),
        }
    }

    fn poll_write_vectored(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> std::task::Poll<std::io::Result<usize>> {
        match self.get_mut() {
            Io::Tcp(io) => std::pin::Pin::new(io).poll_write_vectored(cx, bufs),
            Io::Upgraded(io) => std::pin::Pin::new(io).poll_write_vectored(cx, bufs),
        }
    }

    fn is_write_vectored(&self) -> bool {
        match self {
            Io::Tcp(io) => io.is_write_vectored(),
            Io::Upgraded(io) => io.is_write_vectored(),
        }
    }

    fn poll_flush(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        match self.get_mut() {
            Io::Tcp(io) => std::pin::Pin::new(io).poll_flush(cx),
            Io::Upgraded(io) => std::pin::Pin::new(io).poll_flush(cx),
        }
    }

    fn poll_shutdown(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        match self.get_mut() {
            Io::Tcp(io) => std::pin::Pin::new(io).poll_shutdown(cx),
            Io::Upgraded(io) => std::pin::Pin::new(io).poll_shutdown(cx),
        }
    }
}

/// What reading a WebSocket gave.
pub(crate) enum Incoming {
    Frame(Frame),
    /// Not UTF-8 text: a parse error for Engine.IO.
    Invalid,
    /// The peer closed (cleanly: `true`) or the connection failed.
    Closed {
        clean: bool,
    },
    /// A message over `maxPayload`: the socket was told 1009 and must be dropped.
    TooBig,
}

/// What a message read from the WebSocket means for the session; `None` for control frames,
/// which the crate answers itself.
pub(crate) fn incoming(item: Option<Result<Message, Error>>) -> Option<Incoming> {
    Some(match item {
        Some(Ok(Message::Text(text))) => match Str::try_from(Bytes::from(text)) {
            Ok(text) => Incoming::Frame(Frame::Text(text)),
            Err(_) => Incoming::Invalid,
        },
        Some(Ok(Message::Binary(data))) => Incoming::Frame(Frame::Binary(data)),
        Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_))) => return None,
        Some(Ok(Message::Close(_))) | None => Incoming::Closed { clean: true },
        Some(Err(Error::Capacity(_))) => Incoming::TooBig,
        Some(Err(_)) => Incoming::Closed { clean: false },
    })
}

/// `Sec-WebSocket-Accept` for a `Sec-WebSocket-Key`.
pub(crate) fn accept_key(key: &[u8]) -> String {
    tokio_tungstenite::tungstenite::handshake::derive_accept_key(key)
}

impl WebSocket {
    pub(crate) async fn from_upgraded(upgraded: Upgraded, max_payload: usize) -> Self {
        // tungstenite's default 128 KiB read buffer is allocated per connection up front: for
        // mostly idle Engine.IO sessions that dominated memory (about 145 KB per idle session,
        // measured with 5,000 sessions). Larger messages still grow the buffer as needed.
        let config = WebSocketConfig::default()
            .read_buffer_size(READ_BUFFER)
            .max_message_size(Some(max_payload))
            .max_frame_size(Some(max_payload));
        let inner = match upgraded.downcast::<TokioIo<tokio::net::TcpStream>>() {
            Ok(parts) if parts.read_buf.is_empty() => {
                WebSocketStream::from_raw_socket(
                    Io::Tcp(parts.io.into_inner()),
                    Role::Server,
                    Some(config),
                )
                .await
            }
            Ok(parts) => {
                // The client sent frames right behind its handshake: hand them over.
                WebSocketStream::from_partially_read(
                    Io::Tcp(parts.io.into_inner()),
                    parts.read_buf.to_vec(),
                    Role::Server,
                    Some(config),
                )
                .await
            }
            Err(upgraded) => {
                WebSocketStream::from_raw_socket(
                    Io::Upgraded(TokioIo::new(upgraded)),
                    Role::Server,
                    Some(config),
                )
                .await
            }
        };
        Self { inner }
    }

    /// Buffers `frame` for the next flush.
    pub(crate) fn start_send(&mut self, frame: Frame) -> Result<(), Error> {
        let message = match frame {
            // `Str` is valid UTF-8 already: a raw text frame skips tungstenite's second check
            // (a `Message::Text` would validate every recipient's copy of a broadcast again).
            Frame::Text(text) => Message::Frame(WsFrame::message(
                text.into_bytes(),
                OpCode::Data(Data::Text),
                true,
            )),
            Frame::Binary(data) => Message::Binary(data),
        };
        std::pin::Pin::new(&mut self.inner).start_send(message)
    }

    /// Closes with a close frame, giving up after `timeout`.
    pub(crate) async fn close(mut self, too_big: bool, timeout: Duration) {
        let frame = too_big.then(|| CloseFrame {
            code: CloseCode::Size,
            reason: Utf8Bytes::from_static("Max payload size exceeded"),
        });
        let _ = tokio::time::timeout(timeout, async {
            let _ = self.inner.close(frame).await;
            // Wait for the peer's close frame (or EOF) so the close handshake completes.
            while let Some(Ok(_)) = self.inner.next().await {}
        })
        .await;
    }
}
