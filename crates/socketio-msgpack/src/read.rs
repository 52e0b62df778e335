//! [`Reader`]: a cursor over a MessagePack byte slice, reading one item at a time.

use crate::{Error, Limits};

/// The head of one MessagePack item, as notepack 2.2 interprets it.
///
/// For [`Header::Str`], [`Header::Bin`] and [`Header::Ext`] the payload follows and is read with
/// [`Reader::take`]; for [`Header::Array`] and [`Header::Map`] the elements (maps: key, value,
/// key, value, …) follow. Every length has already been checked against the remaining input (a
/// map of `n` entries needs at least `2n` more bytes), so it is safe to size an allocation by it.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub enum Header {
    /// `0xc0`.
    Nil,
    /// JavaScript `undefined`: fixext 1 of type 0 (`d4 00 xx`).
    Undefined,
    /// `0xc2` / `0xc3`.
    Bool(bool),
    /// Positive fixint, uint 8/16/32/64.
    UInt(u64),
    /// Negative fixint, int 8/16/32/64 (the value may be non-negative for int markers).
    Int(i64),
    /// float 32 (notepack never writes it, but decodes it).
    F32(f32),
    /// float 64.
    F64(f64),
    /// A UTF-8 string of this many bytes (not yet validated).
    Str(u32),
    /// Binary data of this many bytes: bin 8/16/32 (a Node `Buffer`) or ext 8/16/32 of type 0
    /// (how notepack 2.2 in Node writes an `ArrayBuffer` or typed array).
    Bin(u32),
    /// An array of this many elements.
    Array(u32),
    /// A map of this many key/value pairs.
    Map(u32),
    /// A JavaScript `Date`: fixext 8 of type 0, milliseconds since the Unix epoch.
    Date(i64),
    /// Any other extension: type and payload length. notepack decodes it as `[type, Buffer]`.
    Ext(i8, u32),
}

/// A cursor over a MessagePack byte slice.
///
/// Reads borrow from the input: strings and byte strings are returned as sub-slices, never copied.
///
/// ```
/// use socketio_msgpack::{Limits, Reader};
/// // {"type":2,"nsp":"/"}
/// let bytes = [0x82, 0xa4, b't', b'y', b'p', b'e', 0x02, 0xa3, b'n', b's', b'p', 0xa1, b'/'];
/// let mut r = Reader::new(&bytes);
/// assert_eq!(r.read_map_len()?, 2);
/// assert_eq!(r.read_str()?, "type");
/// assert_eq!(r.read_int()?, 2);
/// assert_eq!(r.read_str()?, "nsp");
/// r.skip_value(&Limits::default())?;
/// assert!(r.rest().is_empty());
/// # Ok::<(), socketio_msgpack::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    pub(crate) buf: &'a [u8],
    pub(crate) pos: usize,
}

impl<'a> Reader<'a> {
    /// A reader at the start of `buf`.
    #[inline]
    pub fn new(buf: &'a [u8]) -> Self {
        Reader { buf, pos: 0 }
    }

    /// Bytes consumed so far.
    #[inline]
    pub fn position(&self) -> usize {
        self.pos
    }

    /// The bytes not read yet.
    #[inline]
    pub fn rest(&self) -> &'a [u8] {
        self.buf.get(self.pos..).unwrap_or_default()
    }

    /// `true` when every byte has been read.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.pos >= self.buf.len()
    }

    /// The first byte of the next item, without consuming it.
    #[inline]
    pub fn peek_marker(&self) -> Option<u8> {
        self.buf.get(self.pos).copied()
    }

    /// The header of the next item, without consuming anything.
    #[inline]
    pub fn peek_header(&self) -> Result<Header, Error> {
        self.clone().read_header()
    }

    /// `true` when the next item is `nil` or `undefined`, which notepack users treat alike.
    #[inline]
    pub fn peek_is_nil(&self) -> bool {
        match self.peek_marker() {
            Some(0xc0) => true,
            Some(0xd4) => self.buf.get(self.pos + 1) == Some(&0) && self.buf.len() >= self.pos + 3,
            _ => false,
        }
    }

    /// `true` when the next item is `undefined` (`d4 00 xx`).
    #[inline]
    pub(crate) fn peek_is_undefined(&self) -> bool {
        matches!(
            self.buf.get(self.pos..self.pos.wrapping_add(3)),
            Some([0xd4, 0x00, _])
        )
    }

    /// Consumes and returns the next `n` raw bytes (e.g. the payload after a [`Header::Str`]).
    #[inline]
    pub fn take(&mut self, n: usize) -> Result<&'a [u8], Error> {
        let end = self.pos.checked_add(n).ok_or(Error::UnexpectedEof)?;
        let s = self.buf.get(self.pos..end).ok_or(Error::UnexpectedEof)?;
        self.pos = end;
        Ok(s)
    }

    #[inline]
    fn array<const N: usize>(&mut self) -> Result<[u8; N], Error> {
        let s = self.take(N)?;
        let mut a = [0u8; N];
        a.copy_from_slice(s);
        Ok(a)
    }

    #[inline]
    fn u8(&mut self) -> Result<u8, Error> {
        let b = *self.buf.get(self.pos).ok_or(Error::UnexpectedEof)?;
        self.pos += 1;
        Ok(b)
    }

    #[inline]
    fn u16(&mut self) -> Result<u32, Error> {
        Ok(u32::from(u16::from_be_bytes(self.array()?)))
    }

    #[inline]
    fn u32(&mut self) -> Result<u32, Error> {
        Ok(u32::from_be_bytes(self.array()?))
    }

    #[inline]
    fn remaining(&self) -> usize {
        self.buf.len().saturating_sub(self.pos)
    }

    /// Checks that `n` bytes of payload remain.
    #[inline]
    fn payload(&self, n: u32) -> Result<u32, Error> {
        if n as usize <= self.remaining() {
            Ok(n)
        } else {
            Err(Error::UnexpectedEof)
        }
    }

    #[inline]
    fn ext(&mut self, len: u32) -> Result<Header, Error> {
        let ty = self.u8()? as i8;
        let len = self.payload(len)?;
        Ok(if ty == 0 {
            Header::Bin(len)
        } else {
            Header::Ext(ty, len)
        })
    }

    #[inline]
    fn fixext(&mut self, len: u32) -> Result<Header, Error> {
        let ty = self.u8()? as i8;
        let len = self.payload(len)?;
        Ok(Header::Ext(ty, len))
    }

    /// Reads the header of the next item. Lengths are checked against the remaining input.
    #[inline]
    pub fn read_header(&mut self) -> Result<Header, Error> {
        let m = self.u8()?;
        Ok(match m {
            0x00..=0x7f => Header::UInt(u64::from(m)),
            0x80..=0x8f => Header::Map(self.map_count(u32::from(m & 0x0f))?),
            0x90..=0x9f => Header::Array(self.array_count(u32::from(m & 0x0f))?),
            0xa0..=0xbf => Header::Str(self.payload(u32::from(m & 0x1f))?),
            0xe0..=0xff => Header::Int(i64::from(m as i8)),
            0xc0 => Header::Nil,
            0xc2 => Header::Bool(false),
            0xc3 => Header::Bool(true),
            0xc4 => {
                let n = u32::from(self.u8()?);
                Header::Bin(self.payload(n)?)
            }
            0xc5 => {
                let n = self.u16()?;
                Header::Bin(self.payload(n)?)
            }
            0xc6 => {
                let n = self.u32()?;
                Header::Bin(self.payload(n)?)
            }
            0xc7 => {
                let n = u32::from(self.u8()?);
                self.ext(n)?
            }
            0xc8 => {
                let n = self.u16()?;
                self.ext(n)?
            }
            0xc9 => {
                let n = self.u32()?;
                self.ext(n)?
            }
            0xca => Header::F32(f32::from_be_bytes(self.array()?)),
            0xcb => Header::F64(f64::from_be_bytes(self.array()?)),
            0xcc => Header::UInt(u64::from(self.u8()?)),
            0xcd => Header::UInt(u64::from(self.u16()?)),
            0xce => Header::UInt(u64::from(self.u32()?)),
            0xcf => Header::UInt(u64::from_be_bytes(self.array()?)),
            0xd0 => Header::Int(i64::from(self.u8()? as i8)),
            0xd1 => Header::Int(i64::from(i16::from_be_bytes(self.array()?))),
            0xd2 => Header::Int(i64::from(i32::from_be_bytes(self.array()?))),
            0xd3 => Header::Int(i64::from_be_bytes(self.array()?)),
            0xd4 => match self.fixext(1)? {
                Header::Ext(0, _) => {
                    self.pos += 1;
                    Header::Undefined
                }
                h => h,
            },
            0xd5 => self.fixext(2)?,
            0xd6 => self.fixext(4)?,
            0xd7 => match self.fixext(8)? {
                Header::Ext(0, _) => Header::Date(i64::from_be_bytes(self.array()?)),
                h => h,
            },
            0xd8 => self.fixext(16)?,
            0xd9 => {
                let n = u32::from(self.u8()?);
                Header::Str(self.payload(n)?)
            }
            0xda => {
                let n = self.u16()?;
                Header::Str(self.payload(n)?)
            }
            0xdb => {
                let n = self.u32()?;
                Header::Str(self.payload(n)?)
            }
            0xdc => {
                let n = self.u16()?;
                Header::Array(self.array_count(n)?)
            }
            0xdd => {
                let n = self.u32()?;
                Header::Array(self.array_count(n)?)
            }
            0xde => {
                let n = self.u16()?;
                Header::Map(self.map_count(n)?)
            }
            0xdf => {
                let n = self.u32()?;
                Header::Map(self.map_count(n)?)
            }
            0xc1 => return Err(Error::InvalidMarker(m)),
        })
    }

    /// Every element takes at least one byte: a count beyond the remaining input is a lie.
    #[inline]
    fn array_count(&self, n: u32) -> Result<u32, Error> {
        if n as usize <= self.remaining() {
            Ok(n)
        } else {
            Err(Error::UnexpectedEof)
        }
    }

    #[inline]
    fn map_count(&self, n: u32) -> Result<u32, Error> {
        if (n as usize).saturating_mul(2) <= self.remaining() {
            Ok(n)
        } else {
            Err(Error::UnexpectedEof)
        }
    }

    /// Reads a header and fails with [`Error::InvalidMarker`] (the marker byte) when `f` rejects it.
    #[inline]
    fn expect<T>(&mut self, f: impl FnOnce(Header) -> Option<T>) -> Result<T, Error> {
        let start = self.pos;
        let h = self.read_header()?;
        match f(h) {
            Some(v) => Ok(v),
            None => {
                let m = self.buf.get(start).copied().unwrap_or_default();
                self.pos = start;
                Err(Error::InvalidMarker(m))
            }
        }
    }

    /// Reads `nil`.
    #[inline]
    pub fn read_nil(&mut self) -> Result<(), Error> {
        self.expect(|h| matches!(h, Header::Nil).then_some(()))
    }

    /// Reads `nil` or `undefined`.
    #[inline]
    pub fn read_nil_or_undefined(&mut self) -> Result<(), Error> {
        self.expect(|h| matches!(h, Header::Nil | Header::Undefined).then_some(()))
    }

    /// Reads a boolean.
    #[inline]
    pub fn read_bool(&mut self) -> Result<bool, Error> {
        self.expect(|h| match h {
            Header::Bool(b) => Some(b),
            _ => None,
        })
    }

    /// Reads an array header and returns its element count (checked against the remaining input,
    /// not against [`Limits`]: apply those yourself).
    #[inline]
    pub fn read_array_len(&mut self) -> Result<u32, Error> {
        self.expect(|h| match h {
            Header::Array(n) => Some(n),
            _ => None,
        })
    }

    /// Reads a map header and returns its entry count (checked against the remaining input, not
    /// against [`Limits`]).
    #[inline]
    pub fn read_map_len(&mut self) -> Result<u32, Error> {
        self.expect(|h| match h {
            Header::Map(n) => Some(n),
            _ => None,
        })
    }

    /// Reads a string, validating its UTF-8.
    #[inline]
    pub fn read_str(&mut self) -> Result<&'a str, Error> {
        let n = self.expect(|h| match h {
            Header::Str(n) => Some(n),
            _ => None,
        })?;
        let b = self.take(n as usize)?;
        std::str::from_utf8(b).map_err(|_| Error::InvalidUtf8)
    }

    /// Reads a str value's bytes without checking them for UTF-8: for comparing with known
    /// names (map keys), or when the caller checks them once itself.
    #[inline]
    pub fn read_str_bytes(&mut self) -> Result<&'a [u8], Error> {
        let n = self.expect(|h| match h {
            Header::Str(n) => Some(n),
            _ => None,
        })?;
        self.take(n as usize)
    }

    /// The next str value's bytes (not checked for UTF-8, as [`read_str_bytes`]), or `None`,
    /// consuming nothing, when the next item is not a str. A fixstr, as every short string is
    /// written, is read from its marker without building a [`Header`].
    ///
    /// [`read_str_bytes`]: Reader::read_str_bytes
    #[inline(always)]
    pub fn next_str_bytes(&mut self) -> Result<Option<&'a [u8]>, Error> {
        match self.peek_marker() {
            Some(m @ 0xa0..=0xbf) => {
                self.pos += 1;
                self.take(usize::from(m & 0x1f)).map(Some)
            }
            _ => match self.peek_header()? {
                Header::Str(_) => self.read_str_bytes().map(Some),
                _ => Ok(None),
            },
        }
    }

    /// Reads binary data: bin 8/16/32, or ext 8/16/32 of type 0 (notepack's `ArrayBuffer`).
    #[inline]
    pub fn read_bin(&mut self) -> Result<&'a [u8], Error> {
        let n = self.expect(|h| match h {
            Header::Bin(n) => Some(n),
            _ => None,
        })?;
        self.take(n as usize)
    }

    /// Reads an integer that fits `i64`. Like JavaScript's `Number.isInteger`, a float holding an
    /// integral value is accepted too. Fails with [`Error::IntegerOverflow`] out of range or for a
    /// float that is not integral, [`Error::InvalidMarker`] for a non-number (nothing consumed).
    #[inline]
    pub fn read_int(&mut self) -> Result<i64, Error> {
        let start = self.pos;
        let r = match self.read_header()? {
            Header::Int(i) => Ok(i),
            Header::UInt(u) => i64::try_from(u).map_err(|_| Error::IntegerOverflow),
            Header::F32(f) => float_to_i64(f64::from(f)),
            Header::F64(f) => float_to_i64(f),
            _ => Err(Error::InvalidMarker(
                self.buf.get(start).copied().unwrap_or_default(),
            )),
        };
        if r.is_err() {
            self.pos = start;
        }
        r
    }

    /// Reads a non-negative integer that fits `u64` (integral floats accepted, see
    /// [`read_int`](Self::read_int)).
    #[inline]
    pub fn read_uint(&mut self) -> Result<u64, Error> {
        let start = self.pos;
        let r = match self.read_header()? {
            Header::UInt(u) => Ok(u),
            Header::Int(i) => u64::try_from(i).map_err(|_| Error::IntegerOverflow),
            Header::F32(f) => float_to_i64(f64::from(f))
                .and_then(|i| u64::try_from(i).map_err(|_| Error::IntegerOverflow)),
            Header::F64(f) => {
                float_to_i64(f).and_then(|i| u64::try_from(i).map_err(|_| Error::IntegerOverflow))
            }
            _ => Err(Error::InvalidMarker(
                self.buf.get(start).copied().unwrap_or_default(),
            )),
        };
        if r.is_err() {
            self.pos = start;
        }
        r
    }

    /// Reads any number as `f64`, as JavaScript sees it (integers beyond 2^53 lose precision).
    #[inline]
    pub fn read_f64(&mut self) -> Result<f64, Error> {
        self.expect(|h| match h {
            Header::UInt(u) => Some(u as f64),
            Header::Int(i) => Some(i as f64),
            Header::F32(f) => Some(f64::from(f)),
            Header::F64(f) => Some(f),
            _ => None,
        })
    }

    /// Skips one complete value (containers included), checking it is well formed: lengths,
    /// UTF-8 of strings, nesting depth and container sizes against `limits`. Uses no recursion.
    pub fn skip_value(&mut self, limits: &Limits) -> Result<(), Error> {
        self.skip_value_at(0, limits)
    }

    /// Like [`skip_value`](Self::skip_value) and returns the bytes of the skipped value.
    pub fn value_span(&mut self, limits: &Limits) -> Result<&'a [u8], Error> {
        let start = self.pos;
        self.skip_value_at(0, limits)?;
        Ok(self.buf.get(start..self.pos).unwrap_or_default())
    }

    /// [`skip_value`](Self::skip_value) for a value nested `depth` containers deep.
    pub(crate) fn skip_value_at(&mut self, depth: usize, limits: &Limits) -> Result<(), Error> {
        // Items still to read at each open level: the first levels in an array on the call
        // stack, deeper ones on the heap (allocated only then), which keeps hostile nesting off
        // the call stack.
        const INLINE: usize = 16;
        let mut inline = [0u64; INLINE];
        let mut depth_open = 0usize;
        let mut deep: Vec<u64> = Vec::new();
        let mut remaining: u64 = 1;
        loop {
            while remaining == 0 {
                if depth_open == 0 {
                    return Ok(());
                }
                depth_open -= 1;
                remaining = match inline.get(depth_open) {
                    Some(&r) => r,
                    None => deep.pop().unwrap_or_default(),
                };
            }
            remaining -= 1;
            // The common items by their marker alone, without building a `Header`.
            let (n, items) = match self.peek_marker() {
                Some(0x00..=0x7f | 0xe0..=0xff | 0xc0 | 0xc2 | 0xc3) => {
                    self.take(1)?;
                    continue;
                }
                Some(m @ 0xa0..=0xbf) => {
                    self.pos += 1;
                    let b = self.take(usize::from(m & 0x1f))?;
                    if !b.is_ascii() {
                        std::str::from_utf8(b).map_err(|_| Error::InvalidUtf8)?;
                    }
                    continue;
                }
                Some(0xcc | 0xd0) => {
                    self.take(2)?;
                    continue;
                }
                Some(0xcd | 0xd1) => {
                    self.take(3)?;
                    continue;
                }
                Some(0xca | 0xce | 0xd2) => {
                    self.take(5)?;
                    continue;
                }
                Some(0xcb | 0xcf | 0xd3) => {
                    self.take(9)?;
                    continue;
                }
                // Fixarray and fixmap: the same count checks as `read_header`.
                Some(m @ 0x90..=0x9f) => {
                    self.pos += 1;
                    let n = self.array_count(u32::from(m & 0x0f))?;
                    (n, u64::from(n))
                }
                Some(m @ 0x80..=0x8f) => {
                    self.pos += 1;
                    let n = self.map_count(u32::from(m & 0x0f))?;
                    (n, u64::from(n) * 2)
                }
                _ => match self.read_header()? {
                    Header::Str(n) => {
                        let b = self.take(n as usize)?;
                        if !b.is_ascii() {
                            std::str::from_utf8(b).map_err(|_| Error::InvalidUtf8)?;
                        }
                        continue;
                    }
                    Header::Bin(n) | Header::Ext(_, n) => {
                        self.take(n as usize)?;
                        continue;
                    }
                    Header::Array(n) => (n, u64::from(n)),
                    Header::Map(n) => (n, u64::from(n) * 2),
                    _ => continue,
                },
            };
            if depth + depth_open + 1 > limits.max_depth {
                return Err(Error::DepthLimit);
            }
            if n as usize > limits.max_len {
                return Err(Error::LengthLimit);
            }
            if items > 0 {
                match inline.get_mut(depth_open) {
                    Some(slot) => *slot = remaining,
                    None => deep.push(remaining),
                }
                depth_open += 1;
                remaining = items;
            }
        }
    }
}

/// JavaScript's integral check plus the `i64` range.
#[inline]
fn float_to_i64(f: f64) -> Result<i64, Error> {
    if f.is_finite() && f.floor() == f {
        if (-9_223_372_036_854_775_808.0..9_223_372_036_854_775_808.0).contains(&f) {
            Ok(f as i64)
        } else {
            Err(Error::IntegerOverflow)
        }
    } else {
        Err(Error::IntegerOverflow)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn huge_declared_lengths_fail_before_allocating() {
        for bytes in [
            &[0xdf, 0xff, 0xff, 0xff, 0xff][..],
            &[0xdd, 0xff, 0xff, 0xff, 0xff],
            &[0xdb, 0xff, 0xff, 0xff, 0xff],
            &[0xc6, 0xff, 0xff, 0xff, 0xff],
            &[0xc9, 0xff, 0xff, 0xff, 0xff, 0x01],
            &[0x81, 0xa0],
        ] {
            assert_eq!(
                Reader::new(bytes).read_header(),
                Err(Error::UnexpectedEof),
                "{bytes:x?}"
            );
        }
    }

    #[test]
    fn next_str_bytes_reads_every_str_form_and_leaves_the_rest() {
        // fixstr, str8, str16, str32 of the same text, then a non-str item left in place.
        let mut r = Reader::new(&[
            0xa2, b'h', b'i', 0xd9, 2, b'h', b'i', 0xda, 0, 2, b'h', b'i', 0xdb, 0, 0, 0, 2, b'h',
            b'i', 0x07,
        ]);
        for _ in 0..4 {
            assert_eq!(r.next_str_bytes(), Ok(Some(&b"hi"[..])));
        }
        assert_eq!(r.next_str_bytes(), Ok(None));
        assert_eq!(r.read_header(), Ok(Header::UInt(7)));
        // A str cut short is an error in both forms.
        assert_eq!(
            Reader::new(&[0xa3, b'a']).next_str_bytes(),
            Err(Error::UnexpectedEof)
        );
        assert_eq!(
            Reader::new(&[0xd9, 3, b'a']).next_str_bytes(),
            Err(Error::UnexpectedEof)
        );
    }

    #[test]
    fn skip_checks_depth_iteratively() {
        let limits = Limits::default();
        let mut deep = vec![0x91; 100_000];
        deep.push(0xc0);
        assert_eq!(
            Reader::new(&deep).skip_value(&limits),
            Err(Error::DepthLimit)
        );
        let ok = [0x91, 0x91, 0x92, 0x80, 0xa1, b'x', 0xc3];
        let mut r = Reader::new(&ok);
        assert_eq!(r.value_span(&limits), Ok(&ok[..6]));
        assert_eq!(r.read_bool(), Ok(true));
        assert!(r.is_empty());
    }

    #[test]
    fn skip_validates_utf8() {
        let bad = [0x91, 0xa1, 0xff];
        assert_eq!(
            Reader::new(&bad).skip_value(&Limits::default()),
            Err(Error::InvalidUtf8)
        );
    }

    #[test]
    fn notepack_extensions() {
        assert_eq!(
            Reader::new(&[0xd4, 0, 0]).read_header(),
            Ok(Header::Undefined)
        );
        assert_eq!(
            Reader::new(&[0xc7, 1, 0, 9]).read_header(),
            Ok(Header::Bin(1))
        );
        assert_eq!(
            Reader::new(&[0xd7, 0, 0, 0, 0, 0, 0, 0, 1, 0]).read_header(),
            Ok(Header::Date(256))
        );
        assert_eq!(
            Reader::new(&[0xd5, 7, 1, 2]).read_header(),
            Ok(Header::Ext(7, 2))
        );
        assert_eq!(
            Reader::new(&[0xc1]).read_header(),
            Err(Error::InvalidMarker(0xc1))
        );
    }

    #[test]
    fn read_int_accepts_integral_floats() {
        let mut out = Vec::new();
        crate::write::float64(&mut out, 5.0);
        crate::write::float64(&mut out, 5.5);
        let mut r = Reader::new(&out);
        assert_eq!(r.read_int(), Ok(5));
        assert_eq!(r.read_int(), Err(Error::IntegerOverflow));
        assert_eq!(r.position(), 9);
    }
}
