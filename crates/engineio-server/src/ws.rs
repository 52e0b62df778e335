//! The server side of WebSocket (RFC 6455) after the handshake: frames in, frames out, nothing
//! more than Engine.IO needs (no extensions, no subprotocols).
//!
//! Written for many mostly idle connections and for broadcasts:
//! - **No buffer while idle.** Reads go through a stack buffer; only the tail of a frame that
//!   has not fully arrived is kept (in a buffer sized for that frame, freed once it is complete).
//!   A library WebSocket keeps its read buffer, its write buffer and their bookkeeping for the
//!   connection's whole life.
//! - **Frames are written from the shared bytes.** An outgoing frame is its 2–10 byte header
//!   plus the payload's `Bytes` (shared by every recipient of a broadcast); a flush hands them
//!   to the kernel as one vectored write, with no copy into a per-connection buffer.
//!
//! The handshake itself (the 101 answer) is in `server.rs`.

use std::collections::VecDeque;
use std::io::IoSlice;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use engineio_proto::websocket::{
    FrameError, OP_BINARY, OP_CLOSE, OP_CONTINUATION, OP_PING, OP_PONG, OP_TEXT, ParsedFrame,
    frame_header, parse_frame,
};
use engineio_proto::{Frame, Str};
use hyper::upgrade::Upgraded;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// Bytes read from the socket at once. On the stack: an idle connection keeps nothing.
const READ_CHUNK: usize = 8 * 1024;

/// Frames written by one vectored write, at most (two slices each).
const WRITE_BATCH: usize = 32;

/// `1002`: the peer broke the protocol.
const CLOSE_PROTOCOL_ERROR: u16 = 1002;
/// `1009`: a message above the size limit.
const CLOSE_TOO_BIG: u16 = 1009;

/// What reading a WebSocket gave.
pub(crate) enum Incoming {
    Frame(Frame),
    /// Not UTF-8 text: a parse error for Engine.IO.
    Invalid,
    /// The peer closed (cleanly: `true`) or the connection failed.
    Closed {
        clean: bool,
    },
    /// A message over `maxPayload`: the socket must be closed with 1009 and dropped.
    TooBig,
}

/// `Sec-WebSocket-Accept` for a `Sec-WebSocket-Key`.
pub(crate) fn accept_key(key: &[u8]) -> String {
    tokio_tungstenite::tungstenite::handshake::derive_accept_key(key)
}

/// The connection under a WebSocket: the TCP stream itself when hyper hands it back (our own
/// `serve`), else hyper's upgraded connection. Taking the stream back frees hyper's 8 KiB read
/// buffer, which an `Upgraded` keeps alive for as long as the connection lives.
enum Io {
    Tcp(tokio::net::TcpStream),
    Upgraded(TokioIo<Upgraded>),
}

impl Io {
    fn poll_read(
        &mut self,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        match self {
            Io::Tcp(io) => Pin::new(io).poll_read(cx, buf),
            Io::Upgraded(io) => Pin::new(io).poll_read(cx, buf),
        }
    }

    fn poll_write_vectored(
        &mut self,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        match self {
            Io::Tcp(io) => Pin::new(io).poll_write_vectored(cx, bufs),
            Io::Upgraded(io) => Pin::new(io).poll_write_vectored(cx, bufs),
        }
    }

    fn poll_shutdown(&mut self, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self {
            Io::Tcp(io) => Pin::new(io).poll_shutdown(cx),
            Io::Upgraded(io) => Pin::new(io).poll_shutdown(cx),
        }
    }
}

/// A frame waiting to be written: its header, then its payload, each partly written maybe.
struct OutFrame {
    header: [u8; 10],
    header_len: u8,
    /// Bytes of header and payload already written.
    written: usize,
    payload: Bytes,
}

impl OutFrame {
    fn new(opcode: u8, payload: Bytes) -> Self {
        let (header, used) = frame_header(opcode, payload.len());
        Self {
            header,
            // At most 10.
            header_len: used as u8,
            written: 0,
            payload,
        }
    }

    fn len(&self) -> usize {
        usize::from(self.header_len) + self.payload.len()
    }

    /// The unwritten parts.
    fn slices(&self) -> (&[u8], &[u8]) {
        let header_len = usize::from(self.header_len);
        if self.written < header_len {
            (&self.header[self.written..header_len], &self.payload)
        } else {
            (&[], &self.payload[self.written - header_len..])
        }
    }
}

/// A message arriving in several frames.
struct Fragments {
    opcode: u8,
    data: BytesMut,
}

/// A server-side WebSocket.
pub(crate) struct WebSocket {
    io: Io,
    max_payload: usize,
    /// The start of a frame that has not fully arrived; no capacity while idle.
    partial: Vec<u8>,
    /// A fragmented message being assembled (rare: browsers send whole messages).
    fragments: Option<Box<Fragments>>,
    out: VecDeque<OutFrame>,
    /// A close frame was received or sent: nothing more is read.
    closed: bool,
}

impl WebSocket {
    pub(crate) async fn from_upgraded(upgraded: Upgraded, max_payload: usize) -> Self {
        let (io, partial) = match upgraded.downcast::<TokioIo<tokio::net::TcpStream>>() {
            // The client may have sent frames right behind its handshake.
            Ok(parts) => (Io::Tcp(parts.io.into_inner()), parts.read_buf.to_vec()),
            Err(upgraded) => (Io::Upgraded(TokioIo::new(upgraded)), Vec::new()),
        };
        Self {
            io,
            max_payload,
            partial,
            fragments: None,
            out: VecDeque::new(),
            closed: false,
        }
    }

    /// Queues `frame` for the next flush.
    pub(crate) fn start_send(&mut self, frame: Frame) {
        let (opcode, payload) = match frame {
            Frame::Text(text) => (OP_TEXT, text.into_bytes()),
            Frame::Binary(data) => (OP_BINARY, data),
        };
        self.out.push_back(OutFrame::new(opcode, payload));
    }

    /// Gives back the write queue's capacity when it is empty.
    pub(crate) fn release_buffers(&mut self) {
        if self.out.is_empty() {
            self.out = VecDeque::new();
        }
    }

    /// Whether frames wait to be written (a pong, a close answer, messages).
    pub(crate) fn has_pending_writes(&self) -> bool {
        !self.out.is_empty()
    }

    /// Writes the queued frames.
    pub(crate) fn poll_flush(&mut self, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        while !self.out.is_empty() {
            let written = {
                let mut slices: [IoSlice<'_>; 2 * WRITE_BATCH] =
                    [IoSlice::new(&[]); 2 * WRITE_BATCH];
                let mut count = 0;
                for frame in self.out.iter().take(WRITE_BATCH) {
                    let (header, payload) = frame.slices();
                    for part in [header, payload] {
                        if !part.is_empty() {
                            slices[count] = IoSlice::new(part);
                            count += 1;
                        }
                    }
                }
                ready!(self.io.poll_write_vectored(cx, &slices[..count]))?
            };
            if written == 0 {
                return Poll::Ready(Err(std::io::ErrorKind::WriteZero.into()));
            }
            self.advance(written);
        }
        if self.out.capacity() > 64 {
            // After a burst, an idle connection keeps no large queue.
            self.out = VecDeque::new();
        }
        Poll::Ready(Ok(()))
    }

    /// Marks `written` bytes of the queued frames as written.
    fn advance(&mut self, mut written: usize) {
        while written > 0 {
            let Some(frame) = self.out.front_mut() else {
                return;
            };
            let left = frame.len() - frame.written;
            if written >= left {
                written -= left;
                self.out.pop_front();
            } else {
                frame.written += written;
                return;
            }
        }
    }

    /// The next message, answering pings on the way.
    pub(crate) fn poll_next(&mut self, cx: &mut Context<'_>) -> Poll<Incoming> {
        if self.closed {
            return Poll::Ready(Incoming::Closed { clean: true });
        }
        loop {
            // A frame already buffered (or its missing length).
            let needed = if self.partial.is_empty() {
                1
            } else {
                match parse_frame(&self.partial, self.max_payload) {
                    Ok(frame) => {
                        self.partial.drain(..frame.len);
                        if self.partial.is_empty() {
                            self.partial = Vec::new();
                        }
                        if let Some(incoming) = self.on_frame(frame) {
                            return Poll::Ready(incoming);
                        }
                        continue;
                    }
                    Err(FrameError::Incomplete(needed)) => needed,
                    Err(FrameError::Protocol) => {
                        return Poll::Ready(self.fail(CLOSE_PROTOCOL_ERROR));
                    }
                    Err(FrameError::TooBig) => return Poll::Ready(Incoming::TooBig),
                }
            };
            // Not zeroed: the read fills what it returns (zeroing 8 KiB cost 4% of an echo).
            let mut chunk = [std::mem::MaybeUninit::<u8>::uninit(); READ_CHUNK];
            let mut buf = ReadBuf::uninit(&mut chunk);
            match self.io.poll_read(cx, &mut buf) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Err(_)) => return Poll::Ready(Incoming::Closed { clean: false }),
                Poll::Ready(Ok(())) => {}
            }
            let read = buf.filled();
            if read.is_empty() {
                return Poll::Ready(Incoming::Closed { clean: false });
            }
            if self.partial.is_empty() {
                // Frames that arrived whole are taken from the stack buffer directly.
                let mut at = 0;
                while at < read.len() {
                    match parse_frame(&read[at..], self.max_payload) {
                        Ok(frame) => {
                            at += frame.len;
                            if let Some(incoming) = self.on_frame(frame) {
                                // Keep the rest for the next call.
                                self.partial.extend_from_slice(&read[at..]);
                                return Poll::Ready(incoming);
                            }
                        }
                        Err(FrameError::Incomplete(needed)) => {
                            self.partial.reserve_exact(needed.max(read.len() - at));
                            self.partial.extend_from_slice(&read[at..]);
                            break;
                        }
                        Err(FrameError::Protocol) => {
                            return Poll::Ready(self.fail(CLOSE_PROTOCOL_ERROR));
                        }
                        Err(FrameError::TooBig) => return Poll::Ready(Incoming::TooBig),
                    }
                }
            } else {
                if self.partial.capacity() < needed {
                    self.partial.reserve_exact(needed - self.partial.len());
                }
                self.partial.extend_from_slice(read);
            }
        }
    }

    /// A frame read: a message for Engine.IO, or `None` (a control frame, a fragment).
    fn on_frame(&mut self, frame: ParsedFrame) -> Option<Incoming> {
        match frame.opcode {
            OP_PING => {
                // Only the latest ping is answered (RFC 6455 5.5.3 allows it): a client that pings
                // without reading cannot grow the write queue.
                match self.out.back_mut() {
                    Some(last) if last.written == 0 && last.header[0] == 0x80 | OP_PONG => {
                        *last = OutFrame::new(OP_PONG, frame.payload);
                    }
                    _ => self.out.push_back(OutFrame::new(OP_PONG, frame.payload)),
                }
                None
            }
            OP_PONG => None,
            OP_CLOSE => {
                // Answer with the same code, as the RFC asks, then stop reading.
                let code = frame
                    .payload
                    .get(..2)
                    .map_or(Bytes::new(), |_| frame.payload.slice(..2));
                self.out.push_back(OutFrame::new(OP_CLOSE, code));
                self.closed = true;
                Some(Incoming::Closed { clean: true })
            }
            OP_CONTINUATION => {
                let Some(fragments) = self.fragments.as_mut() else {
                    return Some(self.fail(CLOSE_PROTOCOL_ERROR));
                };
                if fragments.data.len() + frame.payload.len() > self.max_payload {
                    return Some(Incoming::TooBig);
                }
                fragments.data.extend_from_slice(&frame.payload);
                if !frame.fin {
                    return None;
                }
                let fragments = self.fragments.take()?;
                Some(message(fragments.opcode, fragments.data.freeze()))
            }
            opcode => {
                if self.fragments.is_some() {
                    // A new message before the previous one ended.
                    return Some(self.fail(CLOSE_PROTOCOL_ERROR));
                }
                if frame.fin {
                    return Some(message(opcode, frame.payload));
                }
                self.fragments = Some(Box::new(Fragments {
                    opcode,
                    data: BytesMut::from(&frame.payload[..]),
                }));
                None
            }
        }
    }

    /// The peer broke the protocol: tell it (best effort) and stop.
    fn fail(&mut self, code: u16) -> Incoming {
        self.out.push_back(OutFrame::new(
            OP_CLOSE,
            Bytes::copy_from_slice(&code.to_be_bytes()),
        ));
        self.closed = true;
        Incoming::Closed { clean: false }
    }

    /// Closes with a close frame (1009 when a message was too big), waits for the peer's close
    /// (or the end of the connection), giving up after `timeout`.
    pub(crate) async fn close(mut self, too_big: bool, timeout: Duration) {
        let payload = if too_big {
            let mut payload = CLOSE_TOO_BIG.to_be_bytes().to_vec();
            payload.extend_from_slice(b"Max payload size exceeded");
            Bytes::from(payload)
        } else {
            Bytes::new()
        };
        // A close frame already went (our answer to the peer's, or a protocol error): the
        // handshake is over once it is written.
        let already_answered = self.closed;
        if !already_answered {
            self.out.push_back(OutFrame::new(OP_CLOSE, payload));
        }
        let _ = tokio::time::timeout(timeout, async {
            if std::future::poll_fn(|cx| self.poll_flush(cx))
                .await
                .is_err()
            {
                return;
            }
            if !already_answered {
                // The peer's close frame (or EOF) completes the closing handshake.
                loop {
                    let incoming = std::future::poll_fn(|cx| self.poll_next_raw(cx)).await;
                    if incoming {
                        break;
                    }
                }
            }
            let _ = std::future::poll_fn(|cx| self.io.poll_shutdown(cx)).await;
        })
        .await;
    }

    /// Reads and drops frames until a close frame, EOF or an error: `true` then.
    fn poll_next_raw(&mut self, cx: &mut Context<'_>) -> Poll<bool> {
        match self.poll_next(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Incoming::Closed { .. } | Incoming::TooBig) => Poll::Ready(true),
            Poll::Ready(_) => Poll::Ready(false),
        }
    }
}

/// A complete message.
fn message(opcode: u8, payload: Bytes) -> Incoming {
    if opcode == OP_TEXT {
        match Str::try_from(payload) {
            Ok(text) => Incoming::Frame(Frame::Text(text)),
            Err(_) => Incoming::Invalid,
        }
    } else {
        Incoming::Frame(Frame::Binary(payload))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A client that pings without reading leaves one pong waiting, not one per ping.
    #[tokio::test]
    async fn only_the_latest_ping_is_answered() {
        use tokio::io::AsyncWriteExt as _;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let mut client = tokio::net::TcpStream::connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        let (server, _) = listener.accept().await.unwrap();
        let mut ws = WebSocket {
            io: Io::Tcp(server),
            max_payload: 1000,
            partial: Vec::new(),
            fragments: None,
            out: VecDeque::new(),
            closed: false,
        };
        // 100 masked pings (mask 0), then a text frame to stop on.
        let mut bytes = Vec::new();
        for i in 0..100u8 {
            bytes.extend_from_slice(&[0x89, 0x81, 0, 0, 0, 0, i]);
        }
        bytes.extend_from_slice(&[0x81, 0x81, 0, 0, 0, 0, b'x']);
        client.write_all(&bytes).await.unwrap();
        let incoming = std::future::poll_fn(|cx| ws.poll_next(cx)).await;
        assert!(matches!(incoming, Incoming::Frame(Frame::Text(ref t)) if &**t == "x"));
        assert_eq!(ws.out.len(), 1);
        assert_eq!(&ws.out[0].payload[..], &[99]);
    }
}
