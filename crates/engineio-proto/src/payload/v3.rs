//! Engine.IO v3 payloads: the length-prefixed string format and the XHR2 binary format.

use bytes::{BufMut, Bytes, BytesMut};

use super::check_size;
use crate::packet::{decimal_len, slice_str};
use crate::{DecodeError, Packet, ProtocolVersion, Str};

const V3: ProtocolVersion = ProtocolVersion::V3;

/// Ends the length of a part of a binary (XHR2) payload.
const BINARY_LENGTH_END: u8 = 0xFF;
/// First byte of a text part of a binary payload.
const PART_TEXT: u8 = 0;
/// First byte of a binary part of a binary payload.
const PART_BINARY: u8 = 1;

/// The two v3 payload formats; the HTTP `Content-Type` tells them apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum V3Format {
    /// `<length>:<packet>…`, sent as `text/plain; charset=UTF-8`.
    String,
    /// The XHR2 format, sent as `application/octet-stream`.
    Binary,
}

/// Decodes a v3 payload of the given format (see [`decode_v3_string`], [`decode_v3_binary`]).
///
/// # Errors
///
/// Those of the decoder of `format`.
pub fn decode_v3(
    body: Bytes,
    format: V3Format,
    max_payload: usize,
) -> Result<Vec<Packet>, DecodeError> {
    match format {
        V3Format::String => decode_v3_string(body, max_payload),
        V3Format::Binary => decode_v3_binary(body, max_payload),
    }
}

/// Encodes `packets` as Node's engine.io 3 does: the binary format when the client supports it
/// (it did not ask for `b64=1`) and some packet is binary, the string format otherwise.
/// Returns the format used, which decides the `Content-Type`.
pub fn encode_v3<'a, I>(packets: I, supports_binary: bool, out: &mut BytesMut) -> V3Format
where
    I: IntoIterator<Item = &'a Packet>,
    I::IntoIter: Clone,
{
    let packets = packets.into_iter();
    if supports_binary
        && packets
            .clone()
            .any(|packet| matches!(packet, Packet::Binary(_)))
    {
        encode_v3_binary(packets, out);
        V3Format::Binary
    } else {
        encode_v3_string(packets, out);
        V3Format::String
    }
}

/// Decodes a whole v3 string payload (`6:4hello2:4€`), failing if any part is malformed.
///
/// # Errors
///
/// [`DecodeError::PayloadTooLarge`] when `body` is longer than `max_payload` bytes,
/// [`DecodeError::EmptyPayload`], [`DecodeError::InvalidUtf8`], [`DecodeError::InvalidLength`],
/// [`DecodeError::Truncated`], [`DecodeError::SplitSurrogatePair`], or the error of the first
/// malformed packet.
pub fn decode_v3_string(body: Bytes, max_payload: usize) -> Result<Vec<Packet>, DecodeError> {
    iter_v3_string(body, max_payload)?.collect()
}

/// Checks the size and UTF-8 of a v3 string payload, then returns an iterator over its packets.
///
/// # Errors
///
/// [`DecodeError::PayloadTooLarge`], [`DecodeError::EmptyPayload`], [`DecodeError::InvalidUtf8`].
pub fn iter_v3_string(body: Bytes, max_payload: usize) -> Result<PacketsV3String, DecodeError> {
    check_size(body.len(), max_payload)?;
    if body.is_empty() {
        return Err(DecodeError::EmptyPayload);
    }
    let text = Str::try_from(body).map_err(|_| DecodeError::InvalidUtf8)?;
    Ok(PacketsV3String {
        text,
        position: 0,
        failed: false,
    })
}

/// The packets of a v3 string payload, each a slice of the body; stops after the first error.
///
/// Zero-length parts (`0:`, what Node writes for no packets) are skipped, as Node skips them.
#[derive(Debug, Clone)]
pub struct PacketsV3String {
    text: Str,
    /// Byte offset of the next part.
    position: usize,
    failed: bool,
}

impl PacketsV3String {
    /// Reads the part at `position`: `None` for a zero-length part.
    fn next_part(&mut self) -> Result<Option<Packet>, DecodeError> {
        let rest = self
            .text
            .as_bytes()
            .get(self.position..)
            .unwrap_or_default();
        let colon = memchr::memchr(b':', rest).ok_or(DecodeError::InvalidLength)?;
        let units = parse_length(rest.get(..colon).unwrap_or_default(), |byte| {
            byte.is_ascii_digit().then(|| byte - b'0')
        })?;
        let start = self.position + colon + 1;
        let end = utf16_end(&self.text, start, units)?;
        self.position = end;
        if units == 0 {
            return Ok(None);
        }
        let part = slice_str(&self.text, start..end).ok_or(DecodeError::Truncated)?;
        Packet::decode_text(part, V3).map(Some)
    }
}

impl Iterator for PacketsV3String {
    type Item = Result<Packet, DecodeError>;

    fn next(&mut self) -> Option<Self::Item> {
        while !self.failed && self.position < self.text.len() {
            match self.next_part() {
                Ok(None) => {}
                Ok(Some(packet)) => return Some(Ok(packet)),
                Err(error) => {
                    self.failed = true;
                    return Some(Err(error));
                }
            }
        }
        None
    }
}

impl std::iter::FusedIterator for PacketsV3String {}

/// Parses a decimal length whose digits `digit` maps to values; at least one digit.
///
/// Stricter than Node, which hands the prefix to `Number()` (and so also takes `0x1f` or ` 5`):
/// official encoders only ever write plain decimal digits.
fn parse_length(digits: &[u8], digit: impl Fn(u8) -> Option<u8>) -> Result<usize, DecodeError> {
    if digits.is_empty() {
        return Err(DecodeError::InvalidLength);
    }
    digits.iter().try_fold(0_usize, |value, &byte| {
        let digit = digit(byte).ok_or(DecodeError::InvalidLength)?;
        // A length that overflows cannot fit in the (size-checked) body.
        value
            .checked_mul(10)
            .and_then(|value| value.checked_add(usize::from(digit)))
            .ok_or(DecodeError::Truncated)
    })
}

/// The byte offset after `units` UTF-16 code units of `text` from byte `start`.
fn utf16_end(text: &str, start: usize, units: usize) -> Result<usize, DecodeError> {
    let rest = text.as_bytes().get(start..).unwrap_or_default();
    // Every code unit takes at least one byte: a huge length fails before any scanning.
    if units > rest.len() {
        return Err(DecodeError::Truncated);
    }
    let (mut counted, mut offset) = (0, 0);
    while counted < units {
        let &lead = rest.get(offset).ok_or(DecodeError::Truncated)?;
        let (width, lead_units) = match lead {
            0x00..=0x7F => (1, 1),
            0xC0..=0xDF => (2, 1),
            0xE0..=0xEF => (3, 1),
            // Outside the BMP: a surrogate pair, two units.
            _ => (4, 2),
        };
        counted += lead_units;
        offset += width;
    }
    if counted > units {
        return Err(DecodeError::SplitSurrogatePair);
    }
    if offset > rest.len() {
        return Err(DecodeError::Truncated);
    }
    Ok(start + offset)
}

/// The exact length in bytes of the v3 string payload of `packets`.
pub fn encoded_len_v3_string<'a>(packets: impl IntoIterator<Item = &'a Packet>) -> usize {
    let mut any = false;
    let len = packets
        .into_iter()
        .map(|packet| {
            any = true;
            decimal_len(packet.text_utf16_len(V3) as u64) + 1 + packet.text_len(V3)
        })
        .sum();
    if any { len } else { EMPTY_STRING_PAYLOAD.len() }
}

/// What Node writes for a string payload of no packets.
const EMPTY_STRING_PAYLOAD: &str = "0:";

/// Appends the v3 string payload of `packets` to `out` (`0:` when there are none), reserving its
/// exact size first. Binary messages become `b4` + base64.
pub fn encode_v3_string<'a, I>(packets: I, out: &mut BytesMut)
where
    I: IntoIterator<Item = &'a Packet>,
    I::IntoIter: Clone,
{
    let packets = packets.into_iter();
    out.reserve(encoded_len_v3_string(packets.clone()));
    let mut digits = itoa::Buffer::new();
    let mut any = false;
    for packet in packets {
        any = true;
        out.extend_from_slice(digits.format(packet.text_utf16_len(V3)).as_bytes());
        out.put_u8(b':');
        packet.write_text(V3, out);
    }
    if !any {
        out.extend_from_slice(EMPTY_STRING_PAYLOAD.as_bytes());
    }
}

/// Decodes a whole v3 binary (XHR2) payload, failing if any part is malformed.
///
/// # Errors
///
/// [`DecodeError::PayloadTooLarge`] when `body` is longer than `max_payload` bytes,
/// [`DecodeError::InvalidPartKind`], [`DecodeError::InvalidLength`], [`DecodeError::Truncated`],
/// [`DecodeError::InvalidUtf8`] in a text part, or the error of the first malformed packet.
pub fn decode_v3_binary(body: Bytes, max_payload: usize) -> Result<Vec<Packet>, DecodeError> {
    iter_v3_binary(body, max_payload)?.collect()
}

/// Checks the size of a v3 binary (XHR2) payload, then returns an iterator over its packets.
/// An empty body holds no packets (Node encodes no packets that way).
///
/// # Errors
///
/// [`DecodeError::PayloadTooLarge`].
pub fn iter_v3_binary(body: Bytes, max_payload: usize) -> Result<PacketsV3Binary, DecodeError> {
    check_size(body.len(), max_payload)?;
    Ok(PacketsV3Binary { rest: body })
}

/// The packets of a v3 binary payload, each a slice of the body; stops after the first error.
#[derive(Debug, Clone)]
pub struct PacketsV3Binary {
    /// What is left to decode; emptied on error.
    rest: Bytes,
}

impl PacketsV3Binary {
    fn next_part(&mut self) -> Result<Packet, DecodeError> {
        let Some((&kind, after_kind)) = self.rest.split_first() else {
            return Err(DecodeError::Truncated);
        };
        if kind != PART_TEXT && kind != PART_BINARY {
            return Err(DecodeError::InvalidPartKind(kind));
        }
        let digits_len =
            memchr::memchr(BINARY_LENGTH_END, after_kind).ok_or(DecodeError::InvalidLength)?;
        let len = parse_length(after_kind.get(..digits_len).unwrap_or_default(), |byte| {
            (byte <= 9).then_some(byte)
        })?;
        let start = 1 + digits_len + 1;
        let end = start
            .checked_add(len)
            .filter(|&end| end <= self.rest.len())
            .ok_or(DecodeError::Truncated)?;
        let data = self.rest.slice(start..end);
        self.rest = self.rest.slice(end..);
        if kind == PART_TEXT {
            let text = Str::try_from(data).map_err(|_| DecodeError::InvalidUtf8)?;
            Packet::decode_text(text, V3)
        } else {
            Packet::decode_binary(data, V3)
        }
    }
}

impl Iterator for PacketsV3Binary {
    type Item = Result<Packet, DecodeError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.is_empty() {
            return None;
        }
        let packet = self.next_part();
        if packet.is_err() {
            self.rest = Bytes::new();
        }
        Some(packet)
    }
}

impl std::iter::FusedIterator for PacketsV3Binary {}

/// The length of the data of `packet` in a binary payload, and whether it is a binary part.
fn binary_part_len(packet: &Packet) -> (usize, bool) {
    match packet {
        Packet::Binary(data) => (data.len() + 1, true),
        other => (other.text_len(V3), false),
    }
}

/// The exact length in bytes of the v3 binary payload of `packets`.
pub fn encoded_len_v3_binary<'a>(packets: impl IntoIterator<Item = &'a Packet>) -> usize {
    packets
        .into_iter()
        .map(|packet| {
            let (len, _) = binary_part_len(packet);
            1 + decimal_len(len as u64) + 1 + len
        })
        .sum()
}

/// Appends the v3 binary (XHR2) payload of `packets` to `out` (nothing when there are none),
/// reserving its exact size first. Text packets are written as UTF-8 and their length counts
/// bytes, as Node's engine.io-parser 2 does.
pub fn encode_v3_binary<'a, I>(packets: I, out: &mut BytesMut)
where
    I: IntoIterator<Item = &'a Packet>,
    I::IntoIter: Clone,
{
    let packets = packets.into_iter();
    out.reserve(encoded_len_v3_binary(packets.clone()));
    let mut digits = itoa::Buffer::new();
    for packet in packets {
        let (len, binary) = binary_part_len(packet);
        out.put_u8(if binary { PART_BINARY } else { PART_TEXT });
        for digit in digits.format(len).bytes() {
            out.put_u8(digit - b'0');
        }
        out.put_u8(BINARY_LENGTH_END);
        match packet {
            Packet::Binary(data) => {
                out.put_u8(crate::PacketType::Message as u8);
                out.extend_from_slice(data);
            }
            other => other.write_text(V3, out),
        }
    }
}
