//! Engine.IO v4 payloads: text packets separated by `0x1e`.

use bytes::{BufMut, Bytes, BytesMut};

use super::check_size;
use crate::packet::slice_str;
use crate::{DecodeError, Packet, ProtocolVersion, Str};

/// The record separator between two packets of a v4 payload.
///
/// The protocol does not escape it: a message containing `0x1e` cannot travel over polling.
pub const SEPARATOR: u8 = 0x1e;

/// Decodes a whole v4 payload, failing if any packet is malformed.
///
/// # Errors
///
/// [`DecodeError::PayloadTooLarge`] when `body` is longer than `max_payload` bytes,
/// [`DecodeError::EmptyPayload`], [`DecodeError::InvalidUtf8`], or the error of the first
/// malformed packet (an empty record, e.g. after a trailing separator, is [`DecodeError::Empty`]).
pub fn decode_v4(body: Bytes, max_payload: usize) -> Result<Vec<Packet>, DecodeError> {
    iter_v4(body, max_payload)?.collect()
}

/// Checks the size and UTF-8 of a v4 payload, then returns an iterator over its packets.
///
/// # Errors
///
/// [`DecodeError::PayloadTooLarge`], [`DecodeError::EmptyPayload`], [`DecodeError::InvalidUtf8`].
pub fn iter_v4(body: Bytes, max_payload: usize) -> Result<PacketsV4, DecodeError> {
    check_size(body.len(), max_payload)?;
    if body.is_empty() {
        return Err(DecodeError::EmptyPayload);
    }
    let text = Str::try_from(body).map_err(|_| DecodeError::InvalidUtf8)?;
    Ok(PacketsV4 { rest: Some(text) })
}

/// The packets of a v4 payload, each a slice of the body; stops after the first error.
#[derive(Debug, Clone)]
pub struct PacketsV4 {
    /// What is left to decode; `None` once done or failed.
    rest: Option<Str>,
}

impl Iterator for PacketsV4 {
    type Item = Result<Packet, DecodeError>;

    fn next(&mut self) -> Option<Self::Item> {
        let rest = self.rest.take()?;
        let record = match memchr::memchr(SEPARATOR, rest.as_bytes()) {
            // The separator is ASCII, so both slices are on character boundaries.
            Some(at) => {
                self.rest = slice_str(&rest, at + 1..);
                slice_str(&rest, ..at).unwrap_or_default()
            }
            None => rest,
        };
        let packet = Packet::decode_text(record, ProtocolVersion::V4);
        if packet.is_err() {
            self.rest = None;
        }
        Some(packet)
    }
}

impl std::iter::FusedIterator for PacketsV4 {}

/// The exact length in bytes of the v4 payload of `packets`.
pub fn encoded_len_v4<'a>(packets: impl IntoIterator<Item = &'a Packet>) -> usize {
    let (count, len) = packets
        .into_iter()
        .fold((0_usize, 0), |(count, len), packet| {
            (count + 1, len + packet.text_len(ProtocolVersion::V4))
        });
    len + count.saturating_sub(1)
}

/// Appends the v4 payload of `packets` to `out`, reserving its exact size first.
///
/// Takes anything that iterates twice over packets: `&[Packet]`, `&Vec<Packet>`,
/// `&VecDeque<Packet>`, `iter()` of those. No packets write nothing (which a peer cannot decode:
/// do not send an empty body).
pub fn encode_v4<'a, I>(packets: I, out: &mut BytesMut)
where
    I: IntoIterator<Item = &'a Packet>,
    I::IntoIter: Clone,
{
    let packets = packets.into_iter();
    out.reserve(encoded_len_v4(packets.clone()));
    for (index, packet) in packets.enumerate() {
        if index > 0 {
            out.put_u8(SEPARATOR);
        }
        packet.write_text(ProtocolVersion::V4, out);
    }
}
