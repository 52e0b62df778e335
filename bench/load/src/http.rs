//! A minimal HTTP/1.1 keep-alive client for the long-polling transport: one request at a time
//! per connection, bodies by `Content-Length` or chunked.

use std::io;
use std::net::SocketAddr;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// One keep-alive connection.
#[derive(Debug)]
pub struct HttpConn {
    stream: TcpStream,
    host: String,
    buf: Vec<u8>,
    start: usize,
    end: usize,
    out: Vec<u8>,
}

/// A response: status and body.
#[derive(Debug)]
pub struct Response {
    /// The status code.
    pub status: u16,
    /// The body (chunked bodies are joined).
    pub body: Vec<u8>,
}

impl HttpConn {
    /// Connects to `addr`.
    ///
    /// # Errors
    ///
    /// When the connection fails.
    pub async fn connect(addr: SocketAddr) -> io::Result<Self> {
        let stream = crate::ws::tcp_connect(addr, None).await?;
        Ok(Self {
            stream,
            host: addr.to_string(),
            buf: vec![0; 4096],
            start: 0,
            end: 0,
            out: Vec::with_capacity(256),
        })
    }

    /// Sends `GET path` and reads the response.
    ///
    /// # Errors
    ///
    /// When the connection fails or the response is malformed.
    pub async fn get(&mut self, path: &str) -> io::Result<Response> {
        self.out.clear();
        self.out.extend_from_slice(b"GET ");
        self.out.extend_from_slice(path.as_bytes());
        self.out.extend_from_slice(b" HTTP/1.1\r\nHost: ");
        self.out.extend_from_slice(self.host.as_bytes());
        self.out.extend_from_slice(b"\r\nAccept: */*\r\n\r\n");
        self.stream.write_all(&self.out).await?;
        self.read_response().await
    }

    /// Sends `POST path` with a `text/plain` body and reads the response.
    ///
    /// # Errors
    ///
    /// When the connection fails or the response is malformed.
    pub async fn post(&mut self, path: &str, body: &[u8]) -> io::Result<Response> {
        use std::io::Write as _;
        self.out.clear();
        let _ = write!(
            self.out,
            "POST {path} HTTP/1.1\r\nHost: {}\r\nContent-Type: text/plain;charset=UTF-8\r\n\
             Content-Length: {}\r\n\r\n",
            self.host,
            body.len()
        );
        self.out.extend_from_slice(body);
        self.stream.write_all(&self.out).await?;
        self.read_response().await
    }

    async fn fill(&mut self) -> io::Result<()> {
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
        } else if self.start > 0 {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        if self.buf.len() - self.end < 1024 {
            let len = self.buf.len() * 2;
            self.buf.resize(len, 0);
        }
        let n = self.stream.read(&mut self.buf[self.end..]).await?;
        if n == 0 {
            return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "closed"));
        }
        self.end += n;
        Ok(())
    }

    async fn read_response(&mut self) -> io::Result<Response> {
        let (status, header_len, length, chunked) = loop {
            let mut headers = [httparse::EMPTY_HEADER; 32];
            let mut response = httparse::Response::new(&mut headers);
            match response.parse(&self.buf[self.start..self.end]) {
                Ok(httparse::Status::Complete(len)) => {
                    let status = response.code.unwrap_or(0);
                    let mut length = None;
                    let mut chunked = false;
                    for header in response.headers.iter() {
                        if header.name.eq_ignore_ascii_case("content-length") {
                            length = std::str::from_utf8(header.value)
                                .ok()
                                .and_then(|v| v.trim().parse::<usize>().ok());
                        } else if header.name.eq_ignore_ascii_case("transfer-encoding") {
                            chunked = header.value.eq_ignore_ascii_case(b"chunked");
                        }
                    }
                    break (status, len, length, chunked);
                }
                Ok(httparse::Status::Partial) => self.fill().await?,
                Err(e) => return Err(io::Error::other(format!("bad response: {e}"))),
            }
        };
        self.start += header_len;
        let body = if chunked {
            self.read_chunked().await?
        } else {
            let length = length.unwrap_or(0);
            while self.end - self.start < length {
                self.fill().await?;
            }
            let body = self.buf[self.start..self.start + length].to_vec();
            self.start += length;
            body
        };
        Ok(Response { status, body })
    }

    async fn read_chunked(&mut self) -> io::Result<Vec<u8>> {
        let mut body = Vec::new();
        loop {
            let line_end = loop {
                if let Some(pos) = self.buf[self.start..self.end]
                    .windows(2)
                    .position(|w| w == b"\r\n")
                {
                    break self.start + pos;
                }
                self.fill().await?;
            };
            let size_text = std::str::from_utf8(&self.buf[self.start..line_end])
                .map_err(|_| io::Error::other("bad chunk size"))?;
            let size_text = size_text.split(';').next().unwrap_or_default().trim();
            let size = usize::from_str_radix(size_text, 16)
                .map_err(|_| io::Error::other("bad chunk size"))?;
            self.start = line_end + 2;
            while self.end - self.start < size + 2 {
                self.fill().await?;
            }
            body.extend_from_slice(&self.buf[self.start..self.start + size]);
            self.start += size + 2;
            if size == 0 {
                return Ok(body);
            }
        }
    }
}
