//! The serde `Deserializer`, with `{"_placeholder":true,"num":N}` objects turned back into the
//! binary attachments they stand for.

use bytes::Bytes;
use serde::de::value::UnitDeserializer;
use serde::de::{self, DeserializeSeed, Unexpected, Visitor};
use serde_json::Value;

use crate::error::{Error, PlaceholderError, SyntaxError};
use crate::read::{Num, Reader, Str};
use crate::value::Builder;

pub(crate) struct Deserializer<'de, 'b> {
    pub(crate) r: Reader<'de>,
    scratch: String,
    attachments: &'b [Bytes],
    /// Containers currently open.
    depth: usize,
    max_depth: usize,
    /// `from_array_tail`: no element of the outer array has been read yet.
    tail_first: bool,
}

/// The attachment a placeholder object names, following socket.io-parser's `reconstructPacket`:
/// `_placeholder` must be exactly `true`, `num` a number within range (other keys are allowed).
/// Unlike JS, which yields `undefined` for a fractional index, a non-integer `num` is an error.
pub(crate) fn placeholder<'b>(
    v: &Value,
    attachments: &'b [Bytes],
) -> Result<Option<&'b Bytes>, Error> {
    let Value::Object(m) = v else { return Ok(None) };
    if m.get("_placeholder") != Some(&Value::Bool(true)) {
        return Ok(None);
    }
    let num = match m.get("num") {
        Some(Value::Number(n)) => n,
        _ => return Err(Error::Placeholder(PlaceholderError::InvalidNum)),
    };
    let index = if let Some(u) = num.as_u64() {
        u
    } else {
        match num.as_f64() {
            // -0.0 is a valid index in JS.
            Some(0.0) => 0,
            Some(f) if f > 0.0 && f.fract() == 0.0 && f < 1.8e19 => f as u64,
            _ => return Err(Error::Placeholder(PlaceholderError::InvalidNum)),
        }
    };
    match usize::try_from(index).ok().and_then(|i| attachments.get(i)) {
        Some(b) => Ok(Some(b)),
        None => Err(Error::Placeholder(PlaceholderError::OutOfRange {
            num: index,
            available: attachments.len(),
        })),
    }
}

#[cold]
fn trailing_elements() -> Error {
    Error::Custom("more elements than expected".to_owned())
}

impl<'de, 'b> Deserializer<'de, 'b> {
    pub(crate) fn new(
        input: &'de [u8],
        attachments: &'b [Bytes],
        max_depth: usize,
    ) -> Result<Self, Error> {
        Ok(Self::from_reader(
            Reader::new(input)?,
            attachments,
            max_depth,
        ))
    }

    pub(crate) fn from_reader(r: Reader<'de>, attachments: &'b [Bytes], max_depth: usize) -> Self {
        Deserializer {
            r,
            scratch: String::new(),
            attachments,
            depth: 0,
            max_depth,
            tail_first: true,
        }
    }

    #[inline]
    fn enter(&mut self) -> Result<(), Error> {
        if self.depth >= self.max_depth {
            return Err(Error::DepthLimit);
        }
        self.depth += 1;
        self.r.pos += 1;
        Ok(())
    }

    #[inline]
    fn end_seq(&mut self) -> Result<(), Error> {
        match self.r.peek_ws() {
            Some(b']') => {
                self.r.pos += 1;
                self.depth -= 1;
                Ok(())
            }
            Some(b',') => Err(trailing_elements()),
            _ => Err(self.r.err_eof_or(SyntaxError::ExpectedCommaOrBracket)),
        }
    }

    #[inline]
    fn end_map(&mut self) -> Result<(), Error> {
        match self.r.peek_ws() {
            Some(b'}') => {
                self.r.pos += 1;
                self.depth -= 1;
                Ok(())
            }
            Some(b',') => Err(trailing_elements()),
            _ => Err(self.r.err_eof_or(SyntaxError::ExpectedCommaOrBrace)),
        }
    }

    /// Whether the object at `pos` (a `{`) starts with the key `_placeholder`.
    #[inline]
    fn starts_placeholder(&self) -> bool {
        let mut i = self.r.pos + 1;
        while let Some(b' ' | b'\n' | b'\t' | b'\r') = self.r.bytes.get(i) {
            i += 1;
        }
        self.r
            .bytes
            .get(i..)
            .is_some_and(|s| s.starts_with(b"\"_placeholder\""))
    }

    /// The placeholder at `pos` when it is written exactly `{"_placeholder":true,"num":N}`, as
    /// every known implementation writes it, and names a received attachment: resolved without
    /// building the object. `None` for any other form or an invalid one (the general path
    /// then decides, with its exact errors).
    #[inline]
    fn canonical_placeholder(&mut self) -> Option<&'b Bytes> {
        const HEAD: &[u8] = br#"{"_placeholder":true,"num":"#;
        if self.depth >= self.max_depth {
            return None;
        }
        let digits = self.r.bytes.get(self.r.pos..)?.strip_prefix(HEAD)?;
        let n = digits.iter().take_while(|c| c.is_ascii_digit()).count();
        if n == 0 || n > 9 || (n > 1 && digits.first() == Some(&b'0')) {
            return None;
        }
        if digits.get(n) != Some(&b'}') {
            return None;
        }
        let index = digits
            .get(..n)?
            .iter()
            .fold(0usize, |i, &d| i * 10 + usize::from(d - b'0'));
        let b = self.attachments.get(index)?;
        self.r.pos += HEAD.len() + n + 1;
        Some(b)
    }

    /// Reads the object at `pos` as a `Value` (placeholders are tiny) and resolves it.
    #[cold]
    fn read_object(&mut self) -> Result<Value, Error> {
        Builder::default().build(&mut self.r, self.depth, self.max_depth)
    }

    #[inline]
    fn any<V: Visitor<'de>>(&mut self, visitor: V, placeholders: bool) -> Result<V::Value, Error> {
        match self.r.peek_ws() {
            Some(b'"') => {
                self.r.pos += 1;
                match self.r.str(&mut self.scratch)? {
                    Str::Borrowed(s) => visitor.visit_borrowed_str(s),
                    Str::Copied(s) => visitor.visit_str(s),
                }
            }
            Some(b'-' | b'0'..=b'9') => match self.r.number()? {
                Num::U(u) => visitor.visit_u64(u),
                Num::I(i) => visitor.visit_i64(i),
                Num::F(f) => visitor.visit_f64(f),
            },
            Some(b'{') => {
                if placeholders && self.starts_placeholder() {
                    return self.placeholder_any(visitor);
                }
                self.enter()?;
                let v = visitor.visit_map(MapAccess {
                    de: self,
                    first: true,
                })?;
                self.end_map()?;
                Ok(v)
            }
            Some(b'[') => {
                self.enter()?;
                let v = visitor.visit_seq(SeqAccess {
                    de: self,
                    first: true,
                })?;
                self.end_seq()?;
                Ok(v)
            }
            Some(b't') => {
                self.r.literal(b"true")?;
                visitor.visit_bool(true)
            }
            Some(b'f') => {
                self.r.literal(b"false")?;
                visitor.visit_bool(false)
            }
            Some(b'n') => {
                self.r.literal(b"null")?;
                visitor.visit_unit()
            }
            _ => Err(self.r.err_eof_or(SyntaxError::ExpectedValue)),
        }
    }

    #[cold]
    fn placeholder_any<V: Visitor<'de>>(&mut self, visitor: V) -> Result<V::Value, Error> {
        if let Some(b) = self.canonical_placeholder() {
            return visitor.visit_bytes(b);
        }
        let v = self.read_object()?;
        match placeholder(&v, self.attachments)? {
            Some(b) => visitor.visit_bytes(b),
            // An object whose first key is `_placeholder` but which is no placeholder: replay it.
            None => de::Deserializer::deserialize_any(v, visitor)
                .map_err(|e| Error::Custom(e.to_string())),
        }
    }

    /// For 128-bit integers: consumes an integer and returns its text; leaves anything else
    /// (fractions, exponents, non-numbers) unread.
    fn int_text(&mut self) -> Result<Option<&'de str>, Error> {
        let start = match self.r.peek_ws() {
            Some(b'-' | b'0'..=b'9') => self.r.pos,
            _ => return Ok(None),
        };
        self.r.number()?;
        let text = self.r.text.get(start..self.r.pos).unwrap_or_default();
        if text.bytes().any(|b| matches!(b, b'.' | b'e' | b'E')) {
            self.r.pos = start;
            return Ok(None);
        }
        Ok(Some(text))
    }

    /// `from_array_tail`: moves to the next element of the outer array, if there is one.
    fn tail_next(&mut self) -> Result<bool, Error> {
        match self.r.peek_ws() {
            Some(b']') => Ok(false),
            Some(b',') if !self.tail_first => {
                self.r.pos += 1;
                Ok(true)
            }
            Some(_) if self.tail_first => {
                self.tail_first = false;
                Ok(true)
            }
            _ => Err(self.r.err_eof_or(SyntaxError::ExpectedCommaOrBracket)),
        }
    }

    /// `from_array_tail`: opens the outer array and skips `skip` elements.
    pub(crate) fn tail_open(&mut self, skip: usize) -> Result<(), Error> {
        if self.r.peek_ws() != Some(b'[') {
            return Err(self.r.err_eof_or(SyntaxError::ExpectedArray));
        }
        self.enter()?;
        for _ in 0..skip {
            if !self.tail_next()? {
                break;
            }
            self.r.skip_value(self.depth, self.max_depth)?;
        }
        Ok(())
    }

    /// `from_array_tail_at`: the outer array is open and the elements before `at` were read
    /// by the caller (`first`: none).
    pub(crate) fn tail_resume(&mut self, at: usize, first: bool) -> Result<(), Error> {
        if self.max_depth == 0 {
            return Err(Error::DepthLimit);
        }
        if at > self.r.bytes.len() {
            // A caller's `at` past the input: the input ended early, not a panic later.
            self.r.pos = self.r.bytes.len();
            return Err(self.r.err(SyntaxError::Eof));
        }
        self.depth = 1;
        self.r.pos = at;
        self.tail_first = first;
        Ok(())
    }

    /// `from_array_tail`: validates and ignores the elements left, closes the array.
    pub(crate) fn tail_close(&mut self) -> Result<(), Error> {
        while self.tail_next()? {
            self.r.skip_value(self.depth, self.max_depth)?;
        }
        self.end_seq()?;
        self.r.end()
    }
}

macro_rules! forward_any {
    ($($method:ident),* $(,)?) => {
        $(
            #[inline]
            fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
                self.any(visitor, false)
            }
        )*
    };
}

impl<'de> de::Deserializer<'de> for &mut Deserializer<'de, '_> {
    type Error = Error;

    #[inline]
    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.any(visitor, true)
    }

    forward_any! {
        deserialize_bool, deserialize_i8, deserialize_i16, deserialize_i32, deserialize_i64,
        deserialize_u8, deserialize_u16, deserialize_u32, deserialize_u64,
        deserialize_f32, deserialize_f64, deserialize_char, deserialize_str,
        deserialize_string, deserialize_unit, deserialize_seq, deserialize_map, deserialize_identifier,
    }

    fn deserialize_i128<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.int_text()? {
            Some(t) => match t.parse::<i128>() {
                Ok(i) => visitor.visit_i128(i),
                Err(_) => Err(self.r.err(SyntaxError::NumberOutOfRange)),
            },
            None => self.any(visitor, false),
        }
    }

    fn deserialize_u128<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.int_text()? {
            Some(t) if !t.starts_with('-') => match t.parse::<u128>() {
                Ok(u) => visitor.visit_u128(u),
                Err(_) => Err(self.r.err(SyntaxError::NumberOutOfRange)),
            },
            Some(_) => Err(de::Error::invalid_value(
                Unexpected::Other("negative integer"),
                &visitor,
            )),
            None => self.any(visitor, false),
        }
    }

    fn deserialize_bytes<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.r.peek_ws() {
            Some(b'"') => {
                self.r.pos += 1;
                match self.r.str(&mut self.scratch)? {
                    Str::Borrowed(s) => visitor.visit_borrowed_bytes(s.as_bytes()),
                    Str::Copied(s) => visitor.visit_bytes(s.as_bytes()),
                }
            }
            Some(b'{') => {
                if let Some(b) = self.canonical_placeholder() {
                    return visitor.visit_bytes(b);
                }
                let v = self.read_object()?;
                match placeholder(&v, self.attachments)? {
                    Some(b) => visitor.visit_bytes(b),
                    None => Err(de::Error::invalid_type(Unexpected::Map, &visitor)),
                }
            }
            _ => self.any(visitor, false),
        }
    }

    fn deserialize_byte_buf<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_bytes(visitor)
    }

    #[inline]
    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        if self.r.peek_ws() == Some(b'n') {
            self.r.literal(b"null")?;
            visitor.visit_none()
        } else {
            visitor.visit_some(self)
        }
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.any(visitor, false)
    }

    #[inline]
    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.any(visitor, false)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.any(visitor, false)
    }

    #[inline]
    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.any(visitor, false)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        match self.r.peek_ws() {
            Some(b'"') => visitor.visit_enum(UnitVariant { de: self }),
            Some(b'{') => {
                self.enter()?;
                let v = visitor.visit_enum(VariantAccess { de: self })?;
                self.end_map()?;
                Ok(v)
            }
            _ => Err(Error::Custom(
                "expected a string or an object for an enum".to_owned(),
            )),
        }
    }

    #[inline]
    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.r.skip_value(self.depth, self.max_depth)?;
        visitor.visit_unit()
    }
}

struct SeqAccess<'a, 'de, 'b> {
    de: &'a mut Deserializer<'de, 'b>,
    first: bool,
}

impl<'de> de::SeqAccess<'de> for SeqAccess<'_, 'de, '_> {
    type Error = Error;

    #[inline]
    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Error> {
        match self.de.r.peek_ws() {
            Some(b']') => return Ok(None),
            Some(b',') if !self.first => self.de.r.pos += 1,
            Some(_) if self.first => self.first = false,
            _ => return Err(self.de.r.err_eof_or(SyntaxError::ExpectedCommaOrBracket)),
        }
        seed.deserialize(&mut *self.de).map(Some)
    }
}

struct MapAccess<'a, 'de, 'b> {
    de: &'a mut Deserializer<'de, 'b>,
    first: bool,
}

impl<'de> de::MapAccess<'de> for MapAccess<'_, 'de, '_> {
    type Error = Error;

    #[inline]
    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Error> {
        match self.de.r.peek_ws() {
            Some(b'}') => return Ok(None),
            Some(b',') if !self.first => {
                self.de.r.pos += 1;
                self.de.r.key_start()?;
            }
            Some(b'"') if self.first => {
                self.first = false;
                self.de.r.pos += 1;
            }
            _ if self.first => return Err(self.de.r.err_eof_or(SyntaxError::ExpectedKey)),
            _ => return Err(self.de.r.err_eof_or(SyntaxError::ExpectedCommaOrBrace)),
        }
        seed.deserialize(MapKey { de: &mut *self.de }).map(Some)
    }

    #[inline]
    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Error> {
        self.de.r.colon()?;
        seed.deserialize(&mut *self.de)
    }
}

/// An object key; the opening quote is already consumed. Keys standing for numbers and
/// booleans are parsed from the string, as serde_json does.
struct MapKey<'a, 'de, 'b> {
    de: &'a mut Deserializer<'de, 'b>,
}

impl<'de> MapKey<'_, 'de, '_> {
    #[inline]
    fn key<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.de.r.str(&mut self.de.scratch)? {
            Str::Borrowed(s) => visitor.visit_borrowed_str(s),
            Str::Copied(s) => visitor.visit_str(s),
        }
    }

    fn parsed<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        let s = match self.de.r.str(&mut self.de.scratch)? {
            Str::Borrowed(s) => s,
            Str::Copied(s) => s,
        };
        if let Ok(u) = s.parse::<u64>() {
            visitor.visit_u64(u)
        } else if let Ok(i) = s.parse::<i64>() {
            visitor.visit_i64(i)
        } else if let Ok(f) = s.parse::<f64>() {
            visitor.visit_f64(f)
        } else if s == "true" {
            visitor.visit_bool(true)
        } else if s == "false" {
            visitor.visit_bool(false)
        } else {
            visitor.visit_str(s)
        }
    }
}

macro_rules! key_parsed {
    ($($method:ident),* $(,)?) => {
        $(
            fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
                self.parsed(visitor)
            }
        )*
    };
}

impl<'de> de::Deserializer<'de> for MapKey<'_, 'de, '_> {
    type Error = Error;

    #[inline]
    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.key(visitor)
    }

    key_parsed! {
        deserialize_bool, deserialize_i8, deserialize_i16, deserialize_i32, deserialize_i64,
        deserialize_i128, deserialize_u8, deserialize_u16, deserialize_u32, deserialize_u64,
        deserialize_u128, deserialize_f32, deserialize_f64,
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_some(self)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        visitor.visit_enum(KeyVariant { key: self })
    }

    serde::forward_to_deserialize_any! {
        char str string bytes byte_buf unit unit_struct seq tuple tuple_struct map struct
        identifier ignored_any
    }
}

struct KeyVariant<'a, 'de, 'b> {
    key: MapKey<'a, 'de, 'b>,
}

impl<'de> de::EnumAccess<'de> for KeyVariant<'_, 'de, '_> {
    type Error = Error;
    type Variant = UnitOnly;

    fn variant_seed<V: DeserializeSeed<'de>>(self, seed: V) -> Result<(V::Value, UnitOnly), Error> {
        Ok((seed.deserialize(self.key)?, UnitOnly))
    }
}

/// The variant of an enum written as a plain string: only unit variants fit.
struct UnitOnly;

#[cold]
fn not_unit(found: Unexpected<'_>, exp: &str) -> Error {
    de::Error::invalid_type(found, &exp)
}

impl<'de> de::VariantAccess<'de> for UnitOnly {
    type Error = Error;

    fn unit_variant(self) -> Result<(), Error> {
        Ok(())
    }
    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, _seed: T) -> Result<T::Value, Error> {
        Err(not_unit(Unexpected::UnitVariant, "newtype variant"))
    }
    fn tuple_variant<V: Visitor<'de>>(self, _len: usize, _visitor: V) -> Result<V::Value, Error> {
        Err(not_unit(Unexpected::UnitVariant, "tuple variant"))
    }
    fn struct_variant<V: Visitor<'de>>(
        self,
        _fields: &'static [&'static str],
        _visitor: V,
    ) -> Result<V::Value, Error> {
        Err(not_unit(Unexpected::UnitVariant, "struct variant"))
    }
}

struct UnitVariant<'a, 'de, 'b> {
    de: &'a mut Deserializer<'de, 'b>,
}

impl<'de> de::EnumAccess<'de> for UnitVariant<'_, 'de, '_> {
    type Error = Error;
    type Variant = UnitOnly;

    fn variant_seed<V: DeserializeSeed<'de>>(self, seed: V) -> Result<(V::Value, UnitOnly), Error> {
        Ok((seed.deserialize(&mut *self.de)?, UnitOnly))
    }
}

/// `{"variant": value}`; the `{` is already consumed.
struct VariantAccess<'a, 'de, 'b> {
    de: &'a mut Deserializer<'de, 'b>,
}

impl<'de> de::EnumAccess<'de> for VariantAccess<'_, 'de, '_> {
    type Error = Error;
    type Variant = Self;

    fn variant_seed<V: DeserializeSeed<'de>>(self, seed: V) -> Result<(V::Value, Self), Error> {
        self.de.r.key_start()?;
        let v = seed.deserialize(MapKey { de: &mut *self.de })?;
        self.de.r.colon()?;
        Ok((v, self))
    }
}

impl<'de> de::VariantAccess<'de> for VariantAccess<'_, 'de, '_> {
    type Error = Error;

    fn unit_variant(self) -> Result<(), Error> {
        de::Deserialize::deserialize(self.de)
    }
    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<T::Value, Error> {
        seed.deserialize(self.de)
    }
    fn tuple_variant<V: Visitor<'de>>(self, _len: usize, visitor: V) -> Result<V::Value, Error> {
        de::Deserializer::deserialize_seq(self.de, visitor)
    }
    fn struct_variant<V: Visitor<'de>>(
        self,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        de::Deserializer::deserialize_map(self.de, visitor)
    }
}

/// `from_array_tail`: the elements of the outer array after the skipped ones.
pub(crate) struct Tail<'a, 'de, 'b> {
    pub(crate) de: &'a mut Deserializer<'de, 'b>,
}

impl<'de> Tail<'_, 'de, '_> {
    fn seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_seq(TailSeq { de: self.de })
    }

    /// Whether exactly one element remains (looks ahead without consuming).
    fn exactly_one(&mut self) -> Result<bool, Error> {
        let (pos, first) = (self.de.r.pos, self.de.tail_first);
        let one = self.de.tail_next()? && {
            self.de.r.skip_value(self.de.depth, self.de.max_depth)?;
            self.de.r.peek_ws() == Some(b']')
        };
        self.de.r.pos = pos;
        self.de.tail_first = first;
        Ok(one)
    }
}

struct TailSeq<'a, 'de, 'b> {
    de: &'a mut Deserializer<'de, 'b>,
}

impl<'de> de::SeqAccess<'de> for TailSeq<'_, 'de, '_> {
    type Error = Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Error> {
        if self.de.tail_next()? {
            seed.deserialize(&mut *self.de).map(Some)
        } else {
            Ok(None)
        }
    }
}

macro_rules! tail_single {
    ($($method:ident $(, $arg:ident: $ty:ty)*;)*) => {
        $(
            fn $method<V: Visitor<'de>>(self, $($arg: $ty,)* visitor: V) -> Result<V::Value, Error> {
                if self.de.tail_next()? {
                    de::Deserializer::$method(&mut *self.de, $($arg,)* visitor)
                } else {
                    // No argument at all reads like JS `undefined`: `null`.
                    de::Deserializer::$method(UnitDeserializer::<Error>::new(), $($arg,)* visitor)
                }
            }
        )*
    };
}

impl<'de> de::Deserializer<'de> for Tail<'_, 'de, '_> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(mut self, visitor: V) -> Result<V::Value, Error> {
        if self.exactly_one()? {
            self.de.tail_next()?;
            de::Deserializer::deserialize_any(&mut *self.de, visitor)
        } else {
            self.seq(visitor)
        }
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.seq(visitor)
    }

    /// Transparent: the wrapped type decides.
    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.seq(visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.seq(visitor)
    }

    tail_single! {
        deserialize_bool; deserialize_i8; deserialize_i16; deserialize_i32; deserialize_i64;
        deserialize_i128; deserialize_u8; deserialize_u16; deserialize_u32; deserialize_u64;
        deserialize_u128; deserialize_f32; deserialize_f64; deserialize_char; deserialize_str;
        deserialize_string; deserialize_bytes; deserialize_byte_buf; deserialize_option;
        deserialize_unit; deserialize_map; deserialize_identifier; deserialize_ignored_any;
        deserialize_unit_struct, name: &'static str;
        deserialize_struct, name: &'static str, fields: &'static [&'static str];
        deserialize_enum, name: &'static str, variants: &'static [&'static str];
    }
}
