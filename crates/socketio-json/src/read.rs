//! The byte-level JSON reader shared by the `Value` builder, the validator and the serde
//! `Deserializer`: whitespace, literals, strings (SWAR scanning), numbers (bit-identical to
//! serde_json's default parser) and value skipping.

use crate::error::{Error, SyntaxError};
use crate::pow10::POW10;

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = 0x8080_8080_8080_8080;

/// High bit set in every byte lane that holds `"`, `\` or a control byte (< 0x20).
///
/// The classic "has zero byte" trick can flag a lane falsely, but only above (at a higher address
/// than) a lane that is truly flagged, so the lowest set bit is always exact.
#[inline(always)]
pub(crate) fn special_mask(w: u64) -> u64 {
    let q = w ^ (ONES * u64::from(b'"'));
    let b = w ^ (ONES * u64::from(b'\\'));
    let zq = q.wrapping_sub(ONES) & !q;
    let zb = b.wrapping_sub(ONES) & !b;
    let ctl = w.wrapping_sub(ONES * 0x20) & !w;
    (zq | zb | ctl) & HIGHS
}

/// Loads up to 8 bytes as a little-endian word whose missing high lanes hold `pad`
/// bytes, using overlapping loads instead of a byte loop.
#[inline(always)]
pub(crate) fn load_short(b: &[u8], pad: u8) -> u64 {
    if let Some(c) = b.first_chunk::<8>() {
        return u64::from_le_bytes(*c);
    }
    let n = b.len();
    let fill = if n >= 8 {
        0
    } else {
        (ONES * u64::from(pad)) << (8 * n)
    };
    let v = if let (Some(lo), Some(hi)) = (b.first_chunk::<4>(), b.last_chunk::<4>()) {
        u64::from(u32::from_le_bytes(*lo)) | u64::from(u32::from_le_bytes(*hi)) << (8 * (n - 4))
    } else if let (Some(lo), Some(hi)) = (b.first_chunk::<2>(), b.last_chunk::<2>()) {
        u64::from(u16::from_le_bytes(*lo)) | u64::from(u16::from_le_bytes(*hi)) << (8 * (n - 2))
    } else if let Some(&x) = b.first() {
        u64::from(x)
    } else {
        0
    };
    v | fill
}

#[inline(always)]
fn is_special(b: u8) -> bool {
    b == b'"' || b == b'\\' || b < 0x20
}

/// Index of the first `"`, `\` or control byte in `bytes` at or after `i`, or `bytes.len()`.
#[inline]
pub(crate) fn find_special(bytes: &[u8], mut i: usize) -> usize {
    let n = bytes.len();
    while i < n && n - i >= 8 {
        let w = bytes
            .get(i..i + 8)
            .and_then(|s| s.first_chunk::<8>())
            .map_or(0, |c| u64::from_le_bytes(*c));
        let m = special_mask(w);
        if m != 0 {
            return i + (m.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    while let Some(&b) = bytes.get(i) {
        if is_special(b) {
            return i;
        }
        i += 1;
    }
    bytes.len()
}

/// A number as serde_json represents it: non-negative integers as `u64`, negative integers as
/// `i64`, everything else (fractions, exponents, `-0`, integers out of range) as `f64`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Num {
    U(u64),
    I(i64),
    F(f64),
}

/// Whether `a * 10 + b` would overflow `max` (same test as serde_json's `overflow!`).
#[inline(always)]
fn overflows_u64(a: u64, b: u64) -> bool {
    a >= u64::MAX / 10 && (a > u64::MAX / 10 || b > u64::MAX % 10)
}

#[inline(always)]
fn overflows_i32(a: i32, b: i32) -> bool {
    a >= i32::MAX / 10 && (a > i32::MAX / 10 || b > i32::MAX % 10)
}

/// A cursor over UTF-8 validated JSON text.
pub(crate) struct Reader<'a> {
    pub(crate) text: &'a str,
    pub(crate) bytes: &'a [u8],
    pub(crate) pos: usize,
}

/// A string read from the input: borrowed when it had no escapes.
pub(crate) enum Str<'a, 's> {
    Borrowed(&'a str),
    Copied(&'s str),
}

impl<'a> Reader<'a> {
    /// Validates `input` as UTF-8 once, so strings can later be sliced out without re-checking.
    pub(crate) fn new(input: &'a [u8]) -> Result<Self, Error> {
        match std::str::from_utf8(input) {
            Ok(text) => Ok(Reader {
                text,
                bytes: input,
                pos: 0,
            }),
            Err(e) => Err(Error::syntax(e.valid_up_to(), SyntaxError::InvalidUtf8)),
        }
    }

    /// A reader over text already known to be UTF-8 (no check).
    #[inline]
    pub(crate) fn from_str(text: &'a str) -> Self {
        Reader {
            text,
            bytes: text.as_bytes(),
            pos: 0,
        }
    }

    #[cold]
    pub(crate) fn err(&self, kind: SyntaxError) -> Error {
        Error::syntax(self.pos, kind)
    }

    #[cold]
    pub(crate) fn err_eof_or(&self, kind: SyntaxError) -> Error {
        if self.pos >= self.bytes.len() {
            Error::syntax(self.pos, SyntaxError::Eof)
        } else {
            Error::syntax(self.pos, kind)
        }
    }

    #[inline(always)]
    pub(crate) fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    /// Skips whitespace and returns the next byte without consuming it.
    #[inline(always)]
    pub(crate) fn peek_ws(&mut self) -> Option<u8> {
        loop {
            match self.bytes.get(self.pos) {
                Some(b' ' | b'\n' | b'\t' | b'\r') => self.pos += 1,
                Some(&b) => return Some(b),
                None => return None,
            }
        }
    }

    /// Skips whitespace; errors unless the input ends here.
    pub(crate) fn end(&mut self) -> Result<(), Error> {
        match self.peek_ws() {
            None => Ok(()),
            Some(_) => Err(self.err(SyntaxError::TrailingCharacters)),
        }
    }

    /// Consumes the literal `lit` (its first byte already peeked).
    #[inline]
    pub(crate) fn literal(&mut self, lit: &'static [u8]) -> Result<(), Error> {
        let end = self.pos + lit.len();
        match self.bytes.get(self.pos..end) {
            Some(s) if s == lit => {
                self.pos = end;
                Ok(())
            }
            _ => {
                // Point at the first wrong byte, as serde_json does.
                let mut i = 0;
                while let (Some(a), Some(b)) = (self.bytes.get(self.pos + i), lit.get(i)) {
                    if a != b {
                        break;
                    }
                    i += 1;
                }
                self.pos += i;
                Err(self.err_eof_or(SyntaxError::InvalidLiteral))
            }
        }
    }

    /// Reads a string; `pos` is just after the opening quote. Escapes are decoded into `scratch`.
    #[inline]
    pub(crate) fn str<'s>(&mut self, scratch: &'s mut String) -> Result<Str<'a, 's>, Error> {
        let start = self.pos;
        let end = find_special(self.bytes, start);
        match self.bytes.get(end) {
            Some(b'"') => {
                self.pos = end + 1;
                Ok(Str::Borrowed(self.slice(start, end)?))
            }
            Some(b'\\') => {
                scratch.clear();
                scratch.push_str(self.slice(start, end)?);
                self.pos = end;
                self.str_escaped(scratch)?;
                Ok(Str::Copied(scratch.as_str()))
            }
            _ => {
                self.pos = end;
                Err(self.err_eof_or(SyntaxError::ControlCharacter))
            }
        }
    }

    /// Reads a string into a new `String` of exactly the right size when it has no escapes.
    #[inline(always)]
    pub(crate) fn string(&mut self) -> Result<String, Error> {
        let start = self.pos;
        let end = find_special(self.bytes, start);
        match self.bytes.get(end) {
            Some(b'"') => {
                self.pos = end + 1;
                Ok(String::from(self.slice(start, end)?))
            }
            Some(b'\\') => {
                let mut s = String::with_capacity(end - start + 16);
                s.push_str(self.slice(start, end)?);
                self.pos = end;
                self.str_escaped(&mut s)?;
                Ok(s)
            }
            _ => {
                self.pos = end;
                Err(self.err_eof_or(SyntaxError::ControlCharacter))
            }
        }
    }

    /// Both ends sit next to ASCII bytes, so they are always char boundaries; `get` keeps this
    /// panic-free anyway.
    #[inline(always)]
    fn slice(&self, start: usize, end: usize) -> Result<&'a str, Error> {
        match self.text.get(start..end) {
            Some(s) => Ok(s),
            None => Err(Error::syntax(start, SyntaxError::InvalidUtf8)),
        }
    }

    /// Continues a string at a backslash, appending to `out` up to and including the closing
    /// quote (which is consumed but not appended).
    #[cold]
    fn str_escaped(&mut self, out: &mut String) -> Result<(), Error> {
        loop {
            match self.bytes.get(self.pos) {
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(());
                }
                Some(b'\\') => {
                    self.pos += 1;
                    let c = self.escape()?;
                    out.push(c);
                }
                Some(_) => {
                    let start = self.pos;
                    let end = find_special(self.bytes, start);
                    if end == start {
                        return Err(self.err(SyntaxError::ControlCharacter));
                    }
                    out.push_str(self.slice(start, end)?);
                    self.pos = end;
                }
                None => return Err(self.err(SyntaxError::Eof)),
            }
        }
    }

    /// Skips a string (validating it); `pos` is just after the opening quote.
    #[inline]
    pub(crate) fn skip_str(&mut self) -> Result<(), Error> {
        loop {
            let end = find_special(self.bytes, self.pos);
            self.pos = end;
            match self.bytes.get(end) {
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(());
                }
                Some(b'\\') => {
                    self.pos += 1;
                    self.escape()?;
                }
                _ => return Err(self.err_eof_or(SyntaxError::ControlCharacter)),
            }
        }
    }

    /// Decodes one escape; `pos` is just after the backslash. Surrogates must come in pairs,
    /// like serde_json requires for strings.
    pub(crate) fn escape(&mut self) -> Result<char, Error> {
        let Some(&b) = self.bytes.get(self.pos) else {
            return Err(self.err(SyntaxError::Eof));
        };
        self.pos += 1;
        let c = match b {
            b'"' => '"',
            b'\\' => '\\',
            b'/' => '/',
            b'b' => '\x08',
            b'f' => '\x0c',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => return self.unicode_escape(),
            _ => {
                self.pos -= 1;
                return Err(self.err(SyntaxError::InvalidEscape));
            }
        };
        Ok(c)
    }

    #[cold]
    fn unicode_escape(&mut self) -> Result<char, Error> {
        let n = self.hex4()?;
        if (0xDC00..=0xDFFF).contains(&n) {
            return Err(self.err(SyntaxError::LoneSurrogate));
        }
        if !(0xD800..=0xDBFF).contains(&n) {
            return char::from_u32(u32::from(n))
                .ok_or_else(|| self.err(SyntaxError::LoneSurrogate));
        }
        if self.bytes.get(self.pos..self.pos + 2) != Some(b"\\u") {
            return Err(self.err_eof_or(SyntaxError::LoneSurrogate));
        }
        self.pos += 2;
        let n2 = self.hex4()?;
        if !(0xDC00..=0xDFFF).contains(&n2) {
            return Err(self.err(SyntaxError::LoneSurrogate));
        }
        let c = ((u32::from(n) - 0xD800) << 10 | (u32::from(n2) - 0xDC00)) + 0x1_0000;
        char::from_u32(c).ok_or_else(|| self.err(SyntaxError::LoneSurrogate))
    }

    fn hex4(&mut self) -> Result<u16, Error> {
        let mut n: u16 = 0;
        for _ in 0..4 {
            let Some(&b) = self.bytes.get(self.pos) else {
                return Err(self.err(SyntaxError::Eof));
            };
            let d = match b {
                b'0'..=b'9' => b - b'0',
                b'a'..=b'f' => b - b'a' + 10,
                b'A'..=b'F' => b - b'A' + 10,
                _ => return Err(self.err(SyntaxError::InvalidUnicodeEscape)),
            };
            n = (n << 4) | u16::from(d);
            self.pos += 1;
        }
        Ok(n)
    }

    /// Reads a number; `pos` is at `-` or a digit. Follows serde_json's default algorithm step
    /// by step so that every result, including the inexact `f64` ones, is bit-identical.
    #[inline(always)]
    pub(crate) fn number(&mut self) -> Result<Num, Error> {
        let positive = if self.peek() == Some(b'-') {
            self.pos += 1;
            false
        } else {
            true
        };
        let significand: u64 = match self.peek() {
            Some(b'0') => {
                self.pos += 1;
                if let Some(b'0'..=b'9') = self.peek() {
                    return Err(self.err(SyntaxError::InvalidNumber));
                }
                0
            }
            Some(c @ b'1'..=b'9') => {
                self.pos += 1;
                let mut s = u64::from(c - b'0');
                while let Some(c @ b'0'..=b'9') = self.peek() {
                    let d = u64::from(c - b'0');
                    if overflows_u64(s, d) {
                        return self.long_integer(positive, s).map(Num::F);
                    }
                    self.pos += 1;
                    s = s * 10 + d;
                }
                s
            }
            _ => return Err(self.err_eof_or(SyntaxError::InvalidNumber)),
        };
        match self.peek() {
            Some(b'.') => self.decimal(positive, significand, 0).map(Num::F),
            Some(b'e' | b'E') => self.exponent(positive, significand, 0).map(Num::F),
            _ => {
                if positive {
                    Ok(Num::U(significand))
                } else {
                    let neg = (significand as i64).wrapping_neg();
                    if neg >= 0 {
                        // Below i64::MIN, or -0.
                        Ok(Num::F(-(significand as f64)))
                    } else {
                        Ok(Num::I(neg))
                    }
                }
            }
        }
    }

    fn decimal(
        &mut self,
        positive: bool,
        mut significand: u64,
        exp_before: i32,
    ) -> Result<f64, Error> {
        self.pos += 1;
        let mut exp_after: i32 = 0;
        while let Some(c @ b'0'..=b'9') = self.peek() {
            let d = u64::from(c - b'0');
            if overflows_u64(significand, d) {
                return self.decimal_overflow(positive, significand, exp_before + exp_after);
            }
            self.pos += 1;
            significand = significand * 10 + d;
            exp_after -= 1;
        }
        if exp_after == 0 {
            return Err(self.err_eof_or(SyntaxError::InvalidNumber));
        }
        let exponent = exp_before + exp_after;
        match self.peek() {
            Some(b'e' | b'E') => self.exponent(positive, significand, exponent),
            _ => self.f64_from_parts(positive, significand, exponent),
        }
    }

    fn exponent(
        &mut self,
        positive: bool,
        significand: u64,
        starting_exp: i32,
    ) -> Result<f64, Error> {
        self.pos += 1;
        let positive_exp = match self.peek() {
            Some(b'+') => {
                self.pos += 1;
                true
            }
            Some(b'-') => {
                self.pos += 1;
                false
            }
            _ => true,
        };
        let mut exp: i32 = match self.peek() {
            Some(c @ b'0'..=b'9') => {
                self.pos += 1;
                i32::from(c - b'0')
            }
            _ => return Err(self.err_eof_or(SyntaxError::InvalidNumber)),
        };
        while let Some(c @ b'0'..=b'9') = self.peek() {
            self.pos += 1;
            let d = i32::from(c - b'0');
            if overflows_i32(exp, d) {
                return self.exponent_overflow(positive, significand == 0, positive_exp);
            }
            exp = exp * 10 + d;
        }
        let final_exp = if positive_exp {
            starting_exp.saturating_add(exp)
        } else {
            starting_exp.saturating_sub(exp)
        };
        self.f64_from_parts(positive, significand, final_exp)
    }

    fn f64_from_parts(
        &mut self,
        positive: bool,
        significand: u64,
        mut exponent: i32,
    ) -> Result<f64, Error> {
        let mut f = significand as f64;
        loop {
            match POW10.get(exponent.unsigned_abs() as usize) {
                Some(&pow) => {
                    if exponent >= 0 {
                        f *= pow;
                        if f.is_infinite() {
                            return Err(self.err(SyntaxError::NumberOutOfRange));
                        }
                    } else {
                        f /= pow;
                    }
                    break;
                }
                None => {
                    if f == 0.0 {
                        break;
                    }
                    if exponent >= 0 {
                        return Err(self.err(SyntaxError::NumberOutOfRange));
                    }
                    f /= 1e308;
                    exponent += 308;
                }
            }
        }
        Ok(if positive { f } else { -f })
    }

    #[cold]
    fn long_integer(&mut self, positive: bool, significand: u64) -> Result<f64, Error> {
        let mut exponent: i32 = 0;
        loop {
            match self.peek() {
                Some(b'0'..=b'9') => {
                    self.pos += 1;
                    exponent = exponent.saturating_add(1);
                }
                Some(b'.') => return self.decimal(positive, significand, exponent),
                Some(b'e' | b'E') => return self.exponent(positive, significand, exponent),
                _ => return self.f64_from_parts(positive, significand, exponent),
            }
        }
    }

    #[cold]
    fn decimal_overflow(
        &mut self,
        positive: bool,
        significand: u64,
        exponent: i32,
    ) -> Result<f64, Error> {
        while let Some(b'0'..=b'9') = self.peek() {
            self.pos += 1;
        }
        match self.peek() {
            Some(b'e' | b'E') => self.exponent(positive, significand, exponent),
            _ => self.f64_from_parts(positive, significand, exponent),
        }
    }

    #[cold]
    fn exponent_overflow(
        &mut self,
        positive: bool,
        zero_significand: bool,
        positive_exp: bool,
    ) -> Result<f64, Error> {
        if !zero_significand && positive_exp {
            return Err(self.err(SyntaxError::NumberOutOfRange));
        }
        while let Some(b'0'..=b'9') = self.peek() {
            self.pos += 1;
        }
        Ok(if positive { 0.0 } else { -0.0 })
    }

    /// Skips (and fully validates) one value, without recursion: `depth` containers are already
    /// open around it.
    pub(crate) fn skip_value(&mut self, depth: usize, max_depth: usize) -> Result<(), Error> {
        // One bit per open container: 1 = object, 0 = array.
        let mut stack: Vec<bool> = Vec::new();
        'value: loop {
            match self.peek_ws() {
                Some(b'[') => {
                    if depth + stack.len() >= max_depth {
                        return Err(Error::DepthLimit);
                    }
                    self.pos += 1;
                    if self.peek_ws() == Some(b']') {
                        self.pos += 1;
                    } else {
                        stack.push(false);
                        continue 'value;
                    }
                }
                Some(b'{') => {
                    if depth + stack.len() >= max_depth {
                        return Err(Error::DepthLimit);
                    }
                    self.pos += 1;
                    match self.peek_ws() {
                        Some(b'}') => self.pos += 1,
                        Some(b'"') => {
                            self.pos += 1;
                            self.skip_str()?;
                            self.colon()?;
                            stack.push(true);
                            continue 'value;
                        }
                        _ => return Err(self.err_eof_or(SyntaxError::ExpectedKey)),
                    }
                }
                Some(b'"') => {
                    self.pos += 1;
                    self.skip_str()?;
                }
                Some(b'-' | b'0'..=b'9') => {
                    self.number()?;
                }
                Some(b't') => self.literal(b"true")?,
                Some(b'f') => self.literal(b"false")?,
                Some(b'n') => self.literal(b"null")?,
                _ => return Err(self.err_eof_or(SyntaxError::ExpectedValue)),
            }
            // A value is complete: close containers as far as possible.
            loop {
                match stack.last() {
                    None => return Ok(()),
                    Some(false) => match self.peek_ws() {
                        Some(b',') => {
                            self.pos += 1;
                            continue 'value;
                        }
                        Some(b']') => {
                            self.pos += 1;
                            stack.pop();
                        }
                        _ => return Err(self.err_eof_or(SyntaxError::ExpectedCommaOrBracket)),
                    },
                    Some(true) => match self.peek_ws() {
                        Some(b',') => {
                            self.pos += 1;
                            self.key_start()?;
                            self.skip_str()?;
                            self.colon()?;
                            continue 'value;
                        }
                        Some(b'}') => {
                            self.pos += 1;
                            stack.pop();
                        }
                        _ => return Err(self.err_eof_or(SyntaxError::ExpectedCommaOrBrace)),
                    },
                }
            }
        }
    }

    /// Skips whitespace and the opening quote of an object key.
    #[inline]
    pub(crate) fn key_start(&mut self) -> Result<(), Error> {
        if self.peek_ws() == Some(b'"') {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.err_eof_or(SyntaxError::ExpectedKey))
        }
    }

    /// Skips whitespace and the `:` after an object key.
    #[inline]
    pub(crate) fn colon(&mut self) -> Result<(), Error> {
        if self.peek_ws() == Some(b':') {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.err_eof_or(SyntaxError::ExpectedColon))
        }
    }
}
