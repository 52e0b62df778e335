//! serde deserialization from MessagePack, borrowing strings and bytes from the input.

use serde::de::{self, DeserializeSeed, IntoDeserializer, Visitor};
use serde::forward_to_deserialize_any;

use crate::read::{Header, Reader};
use crate::{Error, Limits};

/// A serde `Deserializer` reading one value from a [`Reader`].
///
/// How MessagePack maps to the serde data model (notepack 2.2 semantics):
/// - `nil` and `undefined` (`d4 00 00`) are unit, and `None` for an `Option`; a map entry whose
///   value is `undefined` is skipped entirely, as JavaScript treats it as an absent property;
/// - positive and uint markers visit `u64`, negative and int markers `i64`, float 32 `f32`,
///   float 64 `f64`;
/// - bin and ext-type-0 (`ArrayBuffer`) visit borrowed bytes; asked for a sequence (e.g. a
///   `Vec<u8>`) they yield the bytes one number at a time;
/// - a `Date` (fixext 8 type 0) visits the string `Date.prototype.toISOString` gives, or unit for
///   an invalid date (what `JSON.stringify` writes);
/// - any other extension visits a two-element sequence `[type, bytes]`, like notepack's
///   `[type, Buffer]`;
/// - enums: a string for a unit variant, a one-entry map `{variant: value}` otherwise;
/// - map keys asked for as strings must be strings (or `Date`s); integer keys of e.g. a
///   `HashMap<u32, _>` are parsed from their decimal string, as the serializer writes them.
///
/// It is human readable (as `serde_json` is), so types like dates and addresses deserialize from
/// the same strings they would with the JSON parser.
#[derive(Debug)]
pub struct Deserializer<'de> {
    pub(crate) rd: Reader<'de>,
    limits: Limits,
    depth: usize,
}

impl<'de> Deserializer<'de> {
    /// A deserializer at the reader's position, with containers nested `depth` deep already.
    pub fn new(rd: Reader<'de>, limits: Limits) -> Self {
        Deserializer {
            rd,
            limits,
            depth: 0,
        }
    }

    /// The reader, positioned after whatever has been deserialized.
    pub fn into_reader(self) -> Reader<'de> {
        self.rd
    }

    #[inline]
    fn enter(&mut self, n: u32) -> Result<(), Error> {
        if self.depth >= self.limits.max_depth {
            return Err(Error::DepthLimit);
        }
        if n as usize > self.limits.max_len {
            return Err(Error::LengthLimit);
        }
        self.depth += 1;
        Ok(())
    }

    #[inline]
    fn str(&mut self, n: u32) -> Result<&'de str, Error> {
        let b = self.rd.take(n as usize)?;
        std::str::from_utf8(b).map_err(|_| Error::InvalidUtf8)
    }

    fn visit_header<V: Visitor<'de>>(&mut self, h: Header, v: V) -> Result<V::Value, Error> {
        match h {
            Header::Nil | Header::Undefined => v.visit_unit(),
            Header::Bool(b) => v.visit_bool(b),
            Header::UInt(u) => v.visit_u64(u),
            Header::Int(i) => v.visit_i64(i),
            Header::F32(f) => v.visit_f32(f),
            Header::F64(f) => v.visit_f64(f),
            Header::Str(n) => {
                let s = self.str(n)?;
                v.visit_borrowed_str(s)
            }
            Header::Bin(n) => v.visit_borrowed_bytes(self.rd.take(n as usize)?),
            Header::Array(n) => {
                self.enter(n)?;
                let mut seq = SeqAccess { de: self, left: n };
                let r = v.visit_seq(&mut seq)?;
                if seq.left != 0 {
                    return Err(de::Error::invalid_length(
                        n as usize,
                        &"fewer elements in array",
                    ));
                }
                self.depth -= 1;
                Ok(r)
            }
            Header::Map(n) => {
                self.enter(n)?;
                let mut map = MapAccess { de: self, left: n };
                let r = v.visit_map(&mut map)?;
                if map.left != 0 {
                    return Err(de::Error::invalid_length(
                        n as usize,
                        &"fewer entries in map",
                    ));
                }
                self.depth -= 1;
                Ok(r)
            }
            Header::Date(ms) => match crate::date::iso_string(ms) {
                Some(s) => v.visit_string(s),
                None => v.visit_unit(),
            },
            Header::Ext(ty, n) => {
                let data = self.rd.take(n as usize)?;
                v.visit_seq(ExtAccess {
                    ty: Some(ty),
                    data: Some(data),
                })
            }
        }
    }

    /// Skips a map entry whose value is `undefined`; `Ok(false)` (and nothing consumed) otherwise.
    #[inline]
    fn skip_undefined_entry(&mut self) -> Result<bool, Error> {
        skip_undefined_entry(&mut self.rd, self.depth, &self.limits)
    }
}

/// If the map entry at `rd` has the value `undefined`, skips the entry (validating the key like
/// [`Reader::skip_value`]) and returns `true`.
#[inline]
pub(crate) fn skip_undefined_entry(
    rd: &mut Reader<'_>,
    depth: usize,
    limits: &Limits,
) -> Result<bool, Error> {
    // The common key, a fixstr: when the byte after it is not the `undefined` marker, nothing
    // needs to be consumed or checked here (the key is read, and validated, by the caller).
    if let Some(&k @ 0xa0..=0xbf) = rd.buf.get(rd.pos) {
        let value_at = rd.pos + 1 + usize::from(k & 0x1f);
        if rd.buf.get(value_at) != Some(&0xd4) {
            return Ok(false);
        }
    }
    let mut probe = rd.clone();
    probe.skip_value_at(depth, limits)?;
    if probe.peek_is_undefined() {
        probe.take(3)?;
        *rd = probe;
        Ok(true)
    } else {
        Ok(false)
    }
}

impl<'de> de::Deserializer<'de> for &mut Deserializer<'de> {
    type Error = Error;

    #[inline]
    fn deserialize_any<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Error> {
        let h = self.rd.read_header()?;
        self.visit_header(h, v)
    }

    #[inline]
    fn deserialize_option<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Error> {
        if self.rd.peek_is_nil() {
            self.rd.read_header()?;
            v.visit_none()
        } else {
            v.visit_some(self)
        }
    }

    fn deserialize_seq<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Error> {
        match self.rd.read_header()? {
            Header::Bin(n) => {
                let b = self.rd.take(n as usize)?;
                let mut seq = de::value::SeqDeserializer::<_, Error>::new(b.iter().copied());
                let r = v.visit_seq(&mut seq)?;
                seq.end()?;
                Ok(r)
            }
            h => self.visit_header(h, v),
        }
    }

    fn deserialize_tuple<V: Visitor<'de>>(self, _len: usize, v: V) -> Result<V::Value, Error> {
        self.deserialize_seq(v)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _len: usize,
        v: V,
    ) -> Result<V::Value, Error> {
        self.deserialize_seq(v)
    }

    #[inline]
    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        v: V,
    ) -> Result<V::Value, Error> {
        v.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        v: V,
    ) -> Result<V::Value, Error> {
        match self.rd.read_header()? {
            Header::Str(n) => {
                let s = self.str(n)?;
                v.visit_enum(s.into_deserializer())
            }
            Header::Map(1) => {
                self.enter(1)?;
                let r = v.visit_enum(&mut *self)?;
                self.depth -= 1;
                Ok(r)
            }
            _ => Err(de::Error::custom(
                "expected a string or a one-entry map for an enum",
            )),
        }
    }

    #[inline]
    fn deserialize_ignored_any<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Error> {
        self.rd.skip_value_at(self.depth, &self.limits)?;
        v.visit_unit()
    }

    fn is_human_readable(&self) -> bool {
        true
    }

    forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf unit unit_struct map struct identifier
    }
}

struct SeqAccess<'a, 'de> {
    de: &'a mut Deserializer<'de>,
    left: u32,
}

impl<'de> de::SeqAccess<'de> for SeqAccess<'_, 'de> {
    type Error = Error;

    #[inline]
    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Error> {
        if self.left == 0 {
            return Ok(None);
        }
        self.left -= 1;
        seed.deserialize(&mut *self.de).map(Some)
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.left as usize)
    }
}

struct MapAccess<'a, 'de> {
    de: &'a mut Deserializer<'de>,
    left: u32,
}

impl<'de> de::MapAccess<'de> for MapAccess<'_, 'de> {
    type Error = Error;

    #[inline]
    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Error> {
        loop {
            if self.left == 0 {
                return Ok(None);
            }
            self.left -= 1;
            if !self.de.skip_undefined_entry()? {
                return seed.deserialize(MapKey { de: &mut *self.de }).map(Some);
            }
        }
    }

    #[inline]
    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Error> {
        seed.deserialize(&mut *self.de)
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.left as usize)
    }
}

/// `[type, bytes]` for an extension notepack does not interpret.
struct ExtAccess<'de> {
    ty: Option<i8>,
    data: Option<&'de [u8]>,
}

impl<'de> de::SeqAccess<'de> for ExtAccess<'de> {
    type Error = Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Error> {
        if let Some(ty) = self.ty.take() {
            return seed.deserialize(ty.into_deserializer()).map(Some);
        }
        match self.data.take() {
            Some(d) => seed
                .deserialize(de::value::BorrowedBytesDeserializer::new(d))
                .map(Some),
            None => Ok(None),
        }
    }

    fn size_hint(&self) -> Option<usize> {
        Some(usize::from(self.ty.is_some()) + usize::from(self.data.is_some()))
    }
}

impl<'de> de::EnumAccess<'de> for &mut Deserializer<'de> {
    type Error = Error;
    type Variant = Self;

    fn variant_seed<V: DeserializeSeed<'de>>(self, seed: V) -> Result<(V::Value, Self), Error> {
        let v = seed.deserialize(MapKey { de: &mut *self })?;
        Ok((v, self))
    }
}

impl<'de> de::VariantAccess<'de> for &mut Deserializer<'de> {
    type Error = Error;

    fn unit_variant(self) -> Result<(), Error> {
        de::Deserialize::deserialize(self)
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<T::Value, Error> {
        seed.deserialize(self)
    }

    fn tuple_variant<V: Visitor<'de>>(self, _len: usize, v: V) -> Result<V::Value, Error> {
        de::Deserializer::deserialize_seq(self, v)
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        _fields: &'static [&'static str],
        v: V,
    ) -> Result<V::Value, Error> {
        de::Deserializer::deserialize_any(self, v)
    }
}

/// Map keys: JavaScript object keys are strings, so integer keys (e.g. of a `HashMap<u32, _>`)
/// are parsed from them, mirroring how the serializer writes them.
struct MapKey<'a, 'de> {
    de: &'a mut Deserializer<'de>,
}

impl MapKey<'_, '_> {
    /// A string key must be a string (or a `Date`, which reads as one): byte strings would be
    /// accepted by some visitors and not others (serde_json's `Value` takes them for every key
    /// but the first), so they are refused for all.
    fn string_key(&self) -> Result<(), Error> {
        match self.de.rd.peek_header()? {
            Header::Str(_) | Header::Date(_) => Ok(()),
            _ => Err(Error::KeyNotString),
        }
    }
}

macro_rules! key_int {
    ($($method:ident => $visit:ident: $ty:ty),*) => {$(
        fn $method<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Error> {
            match self.de.rd.peek_header()? {
                Header::Str(_) => {
                    let s = self.de.rd.read_str()?;
                    let n: $ty = s.parse().map_err(|_| {
                        de::Error::invalid_value(de::Unexpected::Str(s), &"an integer key")
                    })?;
                    v.$visit(n)
                }
                _ => de::Deserializer::$method(&mut *self.de, v),
            }
        }
    )*};
}

impl<'de> de::Deserializer<'de> for MapKey<'_, 'de> {
    type Error = Error;

    #[inline]
    fn deserialize_any<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Error> {
        de::Deserializer::deserialize_any(self.de, v)
    }

    key_int! {
        deserialize_i8 => visit_i8: i8, deserialize_i16 => visit_i16: i16,
        deserialize_i32 => visit_i32: i32, deserialize_i64 => visit_i64: i64,
        deserialize_u8 => visit_u8: u8, deserialize_u16 => visit_u16: u16,
        deserialize_u32 => visit_u32: u32, deserialize_u64 => visit_u64: u64
    }

    fn deserialize_option<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Error> {
        de::Deserializer::deserialize_option(self.de, v)
    }

    fn deserialize_str<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Error> {
        self.string_key()?;
        de::Deserializer::deserialize_str(self.de, v)
    }

    fn deserialize_string<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Error> {
        self.string_key()?;
        de::Deserializer::deserialize_string(self.de, v)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        v: V,
    ) -> Result<V::Value, Error> {
        de::Deserializer::deserialize_newtype_struct(self.de, name, v)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        v: V,
    ) -> Result<V::Value, Error> {
        de::Deserializer::deserialize_enum(self.de, name, variants, v)
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Error> {
        de::Deserializer::deserialize_ignored_any(self.de, v)
    }

    fn is_human_readable(&self) -> bool {
        true
    }

    forward_to_deserialize_any! {
        bool i128 u128 f32 f64 char bytes byte_buf unit unit_struct seq tuple tuple_struct map
        struct identifier
    }
}

/// The elements of an array whose header the caller has already read, as one serde value; see
/// [`from_elements`](crate::from_elements) for the rule.
pub(crate) struct Elements<'a, 'de> {
    pub(crate) de: &'a mut Deserializer<'de>,
    pub(crate) count: u32,
}

impl Elements<'_, '_> {
    /// Skips the elements the visitor left unread (extra arguments, as JavaScript ignores them).
    pub(crate) fn skip_rest(&mut self, used: u32) -> Result<(), Error> {
        for _ in used..self.count {
            self.de.rd.skip_value_at(self.de.depth, &self.de.limits)?;
        }
        Ok(())
    }
}

macro_rules! first_element {
    ($($method:ident)*) => {$(
        fn $method<V: Visitor<'de>>(mut self, v: V) -> Result<V::Value, Error> {
            if self.count == 0 {
                return Err(de::Error::invalid_length(0, &"one argument"));
            }
            let r = de::Deserializer::$method(&mut *self.de, v)?;
            self.skip_rest(1)?;
            Ok(r)
        }
    )*};
}

impl<'de> Elements<'_, 'de> {
    fn seq<V: Visitor<'de>>(mut self, v: V) -> Result<V::Value, Error> {
        let mut seq = SeqAccess {
            de: &mut *self.de,
            left: self.count,
        };
        let r = v.visit_seq(&mut seq)?;
        let used = self.count - seq.left;
        self.skip_rest(used)?;
        Ok(r)
    }
}

impl<'de> de::Deserializer<'de> for Elements<'_, 'de> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Error> {
        if self.count == 1 {
            de::Deserializer::deserialize_any(self.de, v)
        } else {
            self.seq(v)
        }
    }

    fn deserialize_seq<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Error> {
        self.seq(v)
    }

    fn deserialize_tuple<V: Visitor<'de>>(self, _len: usize, v: V) -> Result<V::Value, Error> {
        self.seq(v)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _len: usize,
        v: V,
    ) -> Result<V::Value, Error> {
        self.seq(v)
    }

    fn deserialize_option<V: Visitor<'de>>(mut self, v: V) -> Result<V::Value, Error> {
        if self.count == 0 {
            return v.visit_none();
        }
        let r = de::Deserializer::deserialize_option(&mut *self.de, v)?;
        self.skip_rest(1)?;
        Ok(r)
    }

    fn deserialize_unit<V: Visitor<'de>>(mut self, v: V) -> Result<V::Value, Error> {
        if self.count == 0 {
            return v.visit_unit();
        }
        let r = de::Deserializer::deserialize_unit(&mut *self.de, v)?;
        self.skip_rest(1)?;
        Ok(r)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        mut self,
        name: &'static str,
        v: V,
    ) -> Result<V::Value, Error> {
        if self.count == 0 {
            return Err(de::Error::invalid_length(0, &"one argument"));
        }
        let r = de::Deserializer::deserialize_newtype_struct(&mut *self.de, name, v)?;
        self.skip_rest(1)?;
        Ok(r)
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        v: V,
    ) -> Result<V::Value, Error> {
        de::Deserializer::deserialize_unit(self, v)
    }

    fn deserialize_struct<V: Visitor<'de>>(
        mut self,
        name: &'static str,
        fields: &'static [&'static str],
        v: V,
    ) -> Result<V::Value, Error> {
        if self.count == 0 {
            return Err(de::Error::invalid_length(0, &"one argument"));
        }
        let r = de::Deserializer::deserialize_struct(&mut *self.de, name, fields, v)?;
        self.skip_rest(1)?;
        Ok(r)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        mut self,
        name: &'static str,
        variants: &'static [&'static str],
        v: V,
    ) -> Result<V::Value, Error> {
        if self.count == 0 {
            return Err(de::Error::invalid_length(0, &"one argument"));
        }
        let r = de::Deserializer::deserialize_enum(&mut *self.de, name, variants, v)?;
        self.skip_rest(1)?;
        Ok(r)
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(mut self, v: V) -> Result<V::Value, Error> {
        self.skip_rest(0)?;
        v.visit_unit()
    }

    fn is_human_readable(&self) -> bool {
        true
    }

    first_element! {
        deserialize_bool deserialize_i8 deserialize_i16 deserialize_i32 deserialize_i64
        deserialize_i128 deserialize_u8 deserialize_u16 deserialize_u32 deserialize_u64
        deserialize_u128 deserialize_f32 deserialize_f64 deserialize_char deserialize_str
        deserialize_string deserialize_bytes deserialize_byte_buf deserialize_map
        deserialize_identifier
    }
}

impl Deserializer<'_> {
    pub(crate) fn set_depth(&mut self, depth: usize) {
        self.depth = depth;
    }
}
