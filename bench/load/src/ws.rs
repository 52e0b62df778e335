//! A minimal WebSocket client (RFC 6455) for the load generator: the HTTP upgrade, masked
//! frames out, unmasked frames in, parsed in place from one growable buffer per connection, so
//! receiving a message allocates nothing.
//!
//! It is written for load, not for general use: no extensions (no `permessage-deflate` is
//! offered, so no server compresses), no validation of the server's accept key, and messages
//! fragmented by the server are reassembled but control frames inside them are not expected.

use std::io;
use std::net::SocketAddr;
use std::ops::Range;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};

/// Frame opcodes the load generator cares about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Opcode {
    /// A text message.
    Text,
    /// A binary message.
    Binary,
    /// Anything else the caller does not need to see (pong).
    Other,
}

/// One received message: its kind and where its payload sits in the reader's buffer.
#[derive(Debug, Clone)]
pub struct Frame {
    /// Text or binary.
    pub opcode: Opcode,
    /// The payload's bytes in [`WsReader::payload`].
    pub range: Range<usize>,
}

/// Opens a TCP connection to `addr`, from `source` when given.
///
/// Give the source port too: with port 0 the kernel searches its bind table for a free port,
/// which costs more than the rest of the connection once thousands are bound (measured: 80% of
/// the load generator's CPU at 10,000 connections).
///
/// # Errors
///
/// When the connection fails (`AddrInUse` / `AddrNotAvailable` when the source is taken).
pub async fn tcp_connect(addr: SocketAddr, source: Option<SocketAddr>) -> io::Result<TcpStream> {
    let stream = match source {
        None => TcpStream::connect(addr).await?,
        Some(source) => {
            let socket = match source {
                SocketAddr::V4(_) => tokio::net::TcpSocket::new_v4()?,
                SocketAddr::V6(_) => tokio::net::TcpSocket::new_v6()?,
            };
            // Ports in TIME_WAIT from an earlier run may be reused for the new connections.
            socket.set_reuseaddr(true)?;
            socket.bind(source)?;
            socket.connect(addr).await?
        }
    };
    stream.set_nodelay(true)?;
    Ok(stream)
}

/// Connects and upgrades to WebSocket at `path` (with its query string).
///
/// # Errors
///
/// When the connection fails or the server does not answer `101`.
pub async fn connect(
    addr: SocketAddr,
    source: Option<SocketAddr>,
    path: &str,
) -> io::Result<(WsReader, WsWriter)> {
    let mut stream = tcp_connect(addr, source).await?;
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await?;
    let mut buf = Vec::with_capacity(512);
    let header_end = loop {
        let mut chunk = [0u8; 512];
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "closed during the upgrade",
            ));
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(pos) = find(&buf, b"\r\n\r\n") {
            break pos + 4;
        }
        if buf.len() > 16 * 1024 {
            return Err(io::Error::other("upgrade response too long"));
        }
    };
    if !buf.starts_with(b"HTTP/1.1 101") {
        let line = buf.split(|&b| b == b'\r').next().unwrap_or_default();
        return Err(io::Error::other(format!(
            "upgrade refused: {}",
            String::from_utf8_lossy(line)
        )));
    }
    // Frames that arrived with the response stay for the reader.
    buf.drain(..header_end);
    let (read, write) = stream.into_split();
    let seed =
        u64::from(addr.port()) ^ (buf.as_ptr() as u64).rotate_left(17) ^ 0x9e37_79b9_7f4a_7c15;
    let end = buf.len();
    Ok((
        WsReader {
            stream: read,
            buf,
            start: 0,
            end,
            message: Vec::new(),
            fragmented: None,
            control: Vec::new(),
        },
        WsWriter {
            stream: write,
            out: Vec::with_capacity(128),
            rng: seed | 1,
        },
    ))
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// The receiving half: frames are parsed from one buffer that grows to the largest message.
#[derive(Debug)]
pub struct WsReader {
    stream: OwnedReadHalf,
    buf: Vec<u8>,
    start: usize,
    end: usize,
    /// A message reassembled from fragments (rare: servers here do not fragment).
    message: Vec<u8>,
    fragmented: Option<Opcode>,
    /// Control frames that need an answer (pings), for the owner to send.
    control: Vec<Vec<u8>>,
}

/// What parsing the buffered bytes gave.
enum Parsed {
    Frame(Frame),
    /// A frame the reader consumed itself (control, fragment).
    Consumed,
    NeedMore,
}

impl WsReader {
    /// The bytes of a frame returned by [`next_frame`](Self::next_frame) or
    /// [`next_buffered`](Self::next_buffered); valid until the next call on the reader.
    pub fn payload(&self, frame: &Frame) -> &[u8] {
        if frame.range.start == usize::MAX {
            &self.message
        } else {
            &self.buf[frame.range.clone()]
        }
    }

    /// WebSocket pings received since the last call, whose pongs the owner must send.
    pub fn take_pings(&mut self) -> Vec<Vec<u8>> {
        std::mem::take(&mut self.control)
    }

    /// The next message already in the buffer, without reading the socket.
    ///
    /// # Errors
    ///
    /// When the server sent a close frame or a malformed one.
    pub fn next_buffered(&mut self) -> io::Result<Option<Frame>> {
        loop {
            match self.parse()? {
                Parsed::Frame(frame) => return Ok(Some(frame)),
                Parsed::Consumed => continue,
                Parsed::NeedMore => return Ok(None),
            }
        }
    }

    /// The next message, reading the socket as needed.
    ///
    /// # Errors
    ///
    /// When the connection ends, the server sent a close frame or a malformed one.
    pub async fn next_frame(&mut self) -> io::Result<Frame> {
        loop {
            if let Some(frame) = self.next_buffered()? {
                return Ok(frame);
            }
            self.fill().await?;
        }
    }

    /// Reads once from the socket into the buffer (waits until something arrives).
    ///
    /// # Errors
    ///
    /// When the connection ends.
    pub async fn fill(&mut self) -> io::Result<()> {
        self.make_room();
        let n = self.stream.read(&mut self.buf[self.end..]).await?;
        if n == 0 {
            return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "closed"));
        }
        self.end += n;
        Ok(())
    }

    /// Reads what the socket has without waiting: `Ok(false)` when nothing was there.
    ///
    /// # Errors
    ///
    /// When the connection ends.
    pub fn try_fill(&mut self) -> io::Result<bool> {
        self.make_room();
        match self.stream.try_read(&mut self.buf[self.end..]) {
            Ok(0) => Err(io::Error::new(io::ErrorKind::UnexpectedEof, "closed")),
            Ok(n) => {
                self.end += n;
                Ok(true)
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Waits until the socket is readable.
    ///
    /// # Errors
    ///
    /// As the socket's `readable`.
    pub async fn readable(&self) -> io::Result<()> {
        self.stream.readable().await
    }

    fn make_room(&mut self) {
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
        } else if self.start > 0 && self.buf.len() - self.end < 2048 {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        if self.buf.len() - self.end < 1024 {
            let grown = (self.buf.len() * 2).max(4096);
            self.buf.resize(grown, 0);
        }
    }

    fn parse(&mut self) -> io::Result<Parsed> {
        let avail = &self.buf[self.start..self.end];
        if avail.len() < 2 {
            return Ok(Parsed::NeedMore);
        }
        let fin = avail[0] & 0x80 != 0;
        let opcode = avail[0] & 0x0f;
        if avail[1] & 0x80 != 0 {
            return Err(io::Error::other("masked frame from the server"));
        }
        let (len, header) = match avail[1] & 0x7f {
            126 => {
                if avail.len() < 4 {
                    return Ok(Parsed::NeedMore);
                }
                (usize::from(u16::from_be_bytes([avail[2], avail[3]])), 4)
            }
            127 => {
                if avail.len() < 10 {
                    return Ok(Parsed::NeedMore);
                }
                let mut b = [0u8; 8];
                b.copy_from_slice(&avail[2..10]);
                let len = usize::try_from(u64::from_be_bytes(b))
                    .map_err(|_| io::Error::other("frame too long"))?;
                if len > 64 * 1024 * 1024 {
                    return Err(io::Error::other("frame too long"));
                }
                (len, 10)
            }
            n => (usize::from(n), 2),
        };
        if avail.len() < header + len {
            // Make sure the whole frame fits once compacted.
            if self.buf.len() < header + len + 1024 {
                self.buf.resize(header + len + 4096, 0);
            }
            return Ok(Parsed::NeedMore);
        }
        let range = self.start + header..self.start + header + len;
        self.start += header + len;
        let kind = match opcode {
            0x1 => Opcode::Text,
            0x2 => Opcode::Binary,
            0x0 => {
                let Some(kind) = self.fragmented else {
                    return Err(io::Error::other("continuation without a message"));
                };
                self.message.extend_from_slice(&self.buf[range]);
                if fin {
                    self.fragmented = None;
                    return Ok(Parsed::Frame(Frame {
                        opcode: kind,
                        range: usize::MAX..usize::MAX,
                    }));
                }
                return Ok(Parsed::Consumed);
            }
            0x8 => {
                return Err(io::Error::new(
                    io::ErrorKind::ConnectionReset,
                    "close frame",
                ));
            }
            0x9 => {
                self.control.push(self.buf[range].to_vec());
                return Ok(Parsed::Consumed);
            }
            0xA => return Ok(Parsed::Consumed),
            _ => return Err(io::Error::other("unknown opcode")),
        };
        if !fin {
            self.message.clear();
            self.message.extend_from_slice(&self.buf[range]);
            self.fragmented = Some(kind);
            return Ok(Parsed::Consumed);
        }
        Ok(Parsed::Frame(Frame {
            opcode: kind,
            range,
        }))
    }
}

/// The sending half: each message is one masked frame written with one `write_all`.
#[derive(Debug)]
pub struct WsWriter {
    stream: OwnedWriteHalf,
    out: Vec<u8>,
    rng: u64,
}

impl WsWriter {
    /// Sends a text message.
    ///
    /// # Errors
    ///
    /// When the connection fails.
    pub async fn send_text(&mut self, payload: &[u8]) -> io::Result<()> {
        self.out.clear();
        self.push_frame(0x1, payload);
        self.stream.write_all(&self.out).await
    }

    /// Sends a text message followed by binary messages (a Socket.IO packet with its
    /// attachments) with one write.
    ///
    /// # Errors
    ///
    /// When the connection fails.
    pub async fn send_text_and_binaries(
        &mut self,
        text: &[u8],
        binaries: &[&[u8]],
    ) -> io::Result<()> {
        self.out.clear();
        self.push_frame(0x1, text);
        for binary in binaries {
            self.push_frame(0x2, binary);
        }
        self.stream.write_all(&self.out).await
    }

    /// Answers a WebSocket ping.
    ///
    /// # Errors
    ///
    /// When the connection fails.
    pub async fn send_pong(&mut self, payload: &[u8]) -> io::Result<()> {
        self.out.clear();
        self.push_frame(0xA, payload);
        self.stream.write_all(&self.out).await
    }

    fn next_mask(&mut self) -> [u8; 4] {
        // xorshift64: masks need not be secret here, only vary.
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 7;
        self.rng ^= self.rng << 17;
        let [a, b, c, d, ..] = self.rng.to_le_bytes();
        [a, b, c, d]
    }

    fn push_frame(&mut self, opcode: u8, payload: &[u8]) {
        let mask = self.next_mask();
        self.out.push(0x80 | opcode);
        let len = payload.len();
        if len < 126 {
            self.out.push(0x80 | len as u8);
        } else if let Ok(len16) = u16::try_from(len) {
            self.out.push(0x80 | 126);
            self.out.extend_from_slice(&len16.to_be_bytes());
        } else {
            self.out.push(0x80 | 127);
            self.out.extend_from_slice(&(len as u64).to_be_bytes());
        }
        self.out.extend_from_slice(&mask);
        let start = self.out.len();
        self.out.extend_from_slice(payload);
        let mask32 = u32::from_ne_bytes(mask);
        let mask64 = u64::from(mask32) | (u64::from(mask32) << 32);
        let body = &mut self.out[start..];
        let mut chunks = body.chunks_exact_mut(8);
        for chunk in &mut chunks {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            let masked = u64::from_ne_bytes(word) ^ mask64;
            chunk.copy_from_slice(&masked.to_ne_bytes());
        }
        for (i, byte) in chunks.into_remainder().iter_mut().enumerate() {
            *byte ^= mask[i % 4];
        }
    }
}
