//! WebSocket framing (RFC 6455), server side, sans I/O: parsing the masked frames a client
//! sends and writing the headers of the frames a server sends. No extensions, no subprotocols:
//! what Engine.IO needs.
//!
//! ```
//! use engineio_proto::websocket::{FrameError, OP_TEXT, frame_header, parse_frame};
//! // A client's masked "hi".
//! let mask = [1, 2, 3, 4];
//! let frame = [0x81, 0x82, 1, 2, 3, 4, b'h' ^ 1, b'i' ^ 2];
//! let parsed = parse_frame(&frame, 1000).ok().unwrap();
//! assert_eq!((parsed.opcode, &parsed.payload[..], parsed.len), (OP_TEXT, &b"hi"[..], 8));
//! assert!(matches!(parse_frame(&frame[..5], 1000), Err(FrameError::Incomplete(8))));
//! let (header, len) = frame_header(OP_TEXT, 2);
//! assert_eq!(&header[..len], &[0x81, 2]);
//! # let _ = mask;
//! ```

use bytes::Bytes;

/// A continuation frame.
pub const OP_CONTINUATION: u8 = 0x0;
/// A text frame.
pub const OP_TEXT: u8 = 0x1;
/// A binary frame.
pub const OP_BINARY: u8 = 0x2;
/// A close frame.
pub const OP_CLOSE: u8 = 0x8;
/// A ping frame.
pub const OP_PING: u8 = 0x9;
/// A pong frame.
pub const OP_PONG: u8 = 0xA;

/// One frame parsed from the front of a buffer, unmasked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedFrame {
    /// The final fragment of its message.
    pub fin: bool,
    /// The opcode (`OP_*`).
    pub opcode: u8,
    /// The whole frame's length (header + payload): what to consume.
    pub len: usize,
    /// The payload, unmasked.
    pub payload: Bytes,
}

/// Why the bytes are not (yet) a frame a server takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameError {
    /// More bytes are needed: at least this many in all.
    Incomplete(usize),
    /// Not a frame a server may accept: unmasked, reserved bits or opcode, a fragmented or
    /// oversized control frame (close with 1002).
    Protocol,
    /// A payload above the limit, known from the header alone (close with 1009).
    TooBig,
}

/// Parses (and unmasks) the frame at the start of `buf`; payloads above `max_payload` are
/// refused before anything is allocated.
///
/// # Errors
///
/// See [`FrameError`].
pub fn parse_frame(buf: &[u8], max_payload: usize) -> Result<ParsedFrame, FrameError> {
    let (&b0, &b1) = match (buf.first(), buf.get(1)) {
        (Some(b0), Some(b1)) => (b0, b1),
        _ => return Err(FrameError::Incomplete(2)),
    };
    if b0 & 0x70 != 0 {
        // Reserved bits: no extension was negotiated.
        return Err(FrameError::Protocol);
    }
    let fin = b0 & 0x80 != 0;
    let opcode = b0 & 0x0F;
    if b1 & 0x80 == 0 {
        // RFC 6455 5.1: a server must close the connection on an unmasked client frame.
        return Err(FrameError::Protocol);
    }
    let (len, mut at) = match b1 & 0x7F {
        126 => match buf.get(2..4) {
            Some(b) => (u64::from(u16::from_be_bytes([b[0], b[1]])), 4),
            None => return Err(FrameError::Incomplete(4)),
        },
        127 => match buf.get(2..10) {
            Some(b) => {
                let mut bytes = [0u8; 8];
                bytes.copy_from_slice(b);
                (u64::from_be_bytes(bytes), 10)
            }
            None => return Err(FrameError::Incomplete(10)),
        },
        len => (u64::from(len), 2),
    };
    let is_control = opcode & 0x8 != 0;
    if is_control && (len > 125 || !fin) {
        return Err(FrameError::Protocol);
    }
    if !matches!(
        opcode,
        OP_CONTINUATION | OP_TEXT | OP_BINARY | OP_CLOSE | OP_PING | OP_PONG
    ) {
        return Err(FrameError::Protocol);
    }
    let len = match usize::try_from(len) {
        Ok(len) if len <= max_payload || is_control => len,
        _ => return Err(FrameError::TooBig),
    };
    // `len` is at most `max_payload` (or 125): the sums below cannot overflow unless the limit
    // is absurd, and then they are refused rather than wrapped.
    let Some(end) = (at + 4_usize).checked_add(len) else {
        return Err(FrameError::TooBig);
    };
    let Some(mask) = buf.get(at..at + 4) else {
        return Err(FrameError::Incomplete(end));
    };
    let mask = [mask[0], mask[1], mask[2], mask[3]];
    at += 4;
    let Some(masked) = buf.get(at..end) else {
        return Err(FrameError::Incomplete(end));
    };
    let mut payload = masked.to_vec();
    for (i, byte) in payload.iter_mut().enumerate() {
        *byte ^= mask[i & 3];
    }
    Ok(ParsedFrame {
        fin,
        opcode,
        len: at + len,
        payload: Bytes::from(payload),
    })
}

/// The header of an unmasked (server) frame with `opcode` and a payload of `len` bytes: the
/// bytes, and how many of them are used (2, 4 or 10).
#[must_use]
pub fn frame_header(opcode: u8, len: usize) -> ([u8; 10], usize) {
    let mut header = [0u8; 10];
    header[0] = 0x80 | opcode;
    let used = if len < 126 {
        header[1] = len as u8;
        2
    } else if let Ok(len) = u16::try_from(len) {
        header[1] = 126;
        header[2..4].copy_from_slice(&len.to_be_bytes());
        4
    } else {
        header[1] = 127;
        header[2..10].copy_from_slice(&(len as u64).to_be_bytes());
        10
    };
    (header, used)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "tests")]
mod tests {
    use super::*;

    fn masked(fin: bool, opcode: u8, payload: &[u8]) -> Vec<u8> {
        let mask = [0x12, 0x34, 0x56, 0x78];
        let mut out = vec![(u8::from(fin) << 7) | opcode];
        if payload.len() < 126 {
            out.push(0x80 | payload.len() as u8);
        } else if payload.len() <= 0xFFFF {
            out.push(0x80 | 126);
            out.extend_from_slice(&(payload.len() as u16).to_be_bytes());
        } else {
            out.push(0x80 | 127);
            out.extend_from_slice(&(payload.len() as u64).to_be_bytes());
        }
        out.extend_from_slice(&mask);
        out.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i & 3]));
        out
    }

    #[test]
    fn parses_masked_frames_of_every_length_form() {
        for len in [0, 5, 125, 126, 65_535, 65_536] {
            let payload = vec![b'a'; len];
            let frame = masked(true, OP_TEXT, &payload);
            let Ok(parsed) = parse_frame(&frame, 1 << 20) else {
                panic!("length {len} did not parse");
            };
            assert_eq!(
                (parsed.len, &parsed.payload[..]),
                (frame.len(), &payload[..])
            );
            // Every strict prefix is incomplete.
            for cut in [0, 1, frame.len() / 2, frame.len() - 1] {
                assert!(matches!(
                    parse_frame(&frame[..cut], 1 << 20),
                    Err(FrameError::Incomplete(_))
                ));
            }
        }
    }

    #[test]
    fn refuses_what_the_rfc_refuses() {
        // Unmasked, reserved bits, unknown opcode, fragmented or long control frames.
        let mut unmasked = masked(true, OP_TEXT, b"x");
        unmasked[1] &= 0x7F;
        assert!(matches!(
            parse_frame(&unmasked, 100),
            Err(FrameError::Protocol)
        ));
        let mut reserved = masked(true, OP_TEXT, b"x");
        reserved[0] |= 0x40;
        assert!(matches!(
            parse_frame(&reserved, 100),
            Err(FrameError::Protocol)
        ));
        assert!(matches!(
            parse_frame(&masked(true, 0x3, b"x"), 100),
            Err(FrameError::Protocol)
        ));
        assert!(matches!(
            parse_frame(&masked(false, OP_PING, b"x"), 100),
            Err(FrameError::Protocol)
        ));
        assert!(matches!(
            parse_frame(&masked(true, OP_PING, &[0; 126]), 1000),
            Err(FrameError::Protocol)
        ));
        // Above the limit, known from the header alone.
        assert!(matches!(
            parse_frame(&masked(true, OP_BINARY, &[0; 101])[..4], 100),
            Err(FrameError::TooBig)
        ));
    }

    #[test]
    fn writes_headers_for_every_length_form() {
        for (len, expected) in [
            (5usize, vec![0x81, 5]),
            (126, vec![0x81, 126, 0, 126]),
            (70_000, vec![0x81, 127, 0, 0, 0, 0, 0, 1, 0x11, 0x70]),
        ] {
            let (header, used) = frame_header(OP_TEXT, len);
            assert_eq!(&header[..used], &expected[..]);
        }
    }
}
