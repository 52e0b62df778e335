//! serde serialization to MessagePack, byte-identical to notepack 2.2 for the equivalent
//! JavaScript value.

use serde::ser::{self, Serialize};

use crate::Error;
use crate::write;

/// A serde `Serializer` appending MessagePack to a `Vec<u8>`.
///
/// How the serde data model is written (each as notepack writes the JavaScript value serde_json
/// would produce):
/// - integers by value in the smallest form (non-negative ones always with unsigned markers);
///   `i128`/`u128` when they fit 64 bits;
/// - `f32`/`f64` as JavaScript numbers: integral values as integers, others as float 64;
/// - `str`/`char` as strings, bytes as bin 8/16/32;
/// - `None`, `()` and unit structs as `nil`; `Some(v)` and newtype structs as `v`;
/// - sequences and tuples as arrays, maps and structs as maps (map keys as strings: integer and
///   boolean keys are written in decimal / `"true"`, as JavaScript object keys);
/// - enums as serde_json writes them: a unit variant as its name, others as `{name: value}`.
///
/// Sequences and maps of unknown length are written and their header fixed afterwards.
#[derive(Debug)]
pub struct Serializer<'a> {
    out: &'a mut Vec<u8>,
}

impl<'a> Serializer<'a> {
    /// A serializer appending to `out`.
    pub fn new(out: &'a mut Vec<u8>) -> Self {
        Serializer { out }
    }
}

#[inline]
fn len_u32(len: usize) -> Result<u32, Error> {
    u32::try_from(len).map_err(|_| Error::Unsupported("length above u32::MAX"))
}

/// An open array or map: where its header starts and how many items it declared.
#[derive(Debug)]
pub struct Compound<'s, 'a> {
    ser: &'s mut Serializer<'a>,
    /// Offset of the header in `out`.
    pos: usize,
    /// `None` when the length was unknown and no header has been written yet.
    declared: Option<u32>,
    count: u32,
    is_map: bool,
}

impl<'s, 'a> Compound<'s, 'a> {
    fn new(ser: &'s mut Serializer<'a>, len: Option<usize>, is_map: bool) -> Result<Self, Error> {
        let pos = ser.out.len();
        let declared = match len {
            Some(n) => {
                let n = len_u32(n)?;
                if is_map {
                    write::map_len(ser.out, n);
                } else {
                    write::array_len(ser.out, n);
                }
                Some(n)
            }
            None => None,
        };
        Ok(Compound {
            ser,
            pos,
            declared,
            count: 0,
            is_map,
        })
    }

    #[inline]
    fn bump(&mut self) -> Result<(), Error> {
        self.count = self
            .count
            .checked_add(1)
            .ok_or(Error::Unsupported("more than u32::MAX items"))?;
        Ok(())
    }

    fn finish(self) -> Result<(), Error> {
        if self.declared == Some(self.count) {
            return Ok(());
        }
        // The declared length was wrong or unknown: replace the header in place.
        let old = self.declared.map_or(0, write::container_header_size);
        let mut header = Vec::with_capacity(5);
        if self.is_map {
            write::map_len(&mut header, self.count);
        } else {
            write::array_len(&mut header, self.count);
        }
        self.ser.out.splice(self.pos..self.pos + old, header);
        Ok(())
    }
}

impl<'s, 'a> ser::Serializer for &'s mut Serializer<'a> {
    type Ok = ();
    type Error = Error;
    type SerializeSeq = Compound<'s, 'a>;
    type SerializeTuple = Compound<'s, 'a>;
    type SerializeTupleStruct = Compound<'s, 'a>;
    type SerializeTupleVariant = Compound<'s, 'a>;
    type SerializeMap = Compound<'s, 'a>;
    type SerializeStruct = Compound<'s, 'a>;
    type SerializeStructVariant = Compound<'s, 'a>;

    #[inline]
    fn serialize_bool(self, v: bool) -> Result<(), Error> {
        write::bool(self.out, v);
        Ok(())
    }
    #[inline]
    fn serialize_i8(self, v: i8) -> Result<(), Error> {
        write::int(self.out, v.into());
        Ok(())
    }
    #[inline]
    fn serialize_i16(self, v: i16) -> Result<(), Error> {
        write::int(self.out, v.into());
        Ok(())
    }
    #[inline]
    fn serialize_i32(self, v: i32) -> Result<(), Error> {
        write::int(self.out, v.into());
        Ok(())
    }
    #[inline]
    fn serialize_i64(self, v: i64) -> Result<(), Error> {
        write::int(self.out, v);
        Ok(())
    }
    fn serialize_i128(self, v: i128) -> Result<(), Error> {
        if let Ok(v) = i64::try_from(v) {
            write::int(self.out, v);
        } else if let Ok(v) = u64::try_from(v) {
            write::uint(self.out, v);
        } else {
            return Err(Error::Unsupported("integer beyond 64 bits"));
        }
        Ok(())
    }
    #[inline]
    fn serialize_u8(self, v: u8) -> Result<(), Error> {
        write::uint(self.out, v.into());
        Ok(())
    }
    #[inline]
    fn serialize_u16(self, v: u16) -> Result<(), Error> {
        write::uint(self.out, v.into());
        Ok(())
    }
    #[inline]
    fn serialize_u32(self, v: u32) -> Result<(), Error> {
        write::uint(self.out, v.into());
        Ok(())
    }
    #[inline]
    fn serialize_u64(self, v: u64) -> Result<(), Error> {
        write::uint(self.out, v);
        Ok(())
    }
    fn serialize_u128(self, v: u128) -> Result<(), Error> {
        let v = u64::try_from(v).map_err(|_| Error::Unsupported("integer beyond 64 bits"))?;
        write::uint(self.out, v);
        Ok(())
    }
    #[inline]
    fn serialize_f32(self, v: f32) -> Result<(), Error> {
        write::number(self.out, v.into());
        Ok(())
    }
    #[inline]
    fn serialize_f64(self, v: f64) -> Result<(), Error> {
        write::number(self.out, v);
        Ok(())
    }
    #[inline]
    fn serialize_char(self, v: char) -> Result<(), Error> {
        write::str(self.out, v.encode_utf8(&mut [0; 4]));
        Ok(())
    }
    #[inline]
    fn serialize_str(self, v: &str) -> Result<(), Error> {
        write::str_len(self.out, len_u32(v.len())?);
        self.out.extend_from_slice(v.as_bytes());
        Ok(())
    }
    #[inline]
    fn serialize_bytes(self, v: &[u8]) -> Result<(), Error> {
        write::bin_len(self.out, len_u32(v.len())?);
        self.out.extend_from_slice(v);
        Ok(())
    }
    #[inline]
    fn serialize_none(self) -> Result<(), Error> {
        write::nil(self.out);
        Ok(())
    }
    #[inline]
    fn serialize_some<T: ?Sized + Serialize>(self, value: &T) -> Result<(), Error> {
        value.serialize(self)
    }
    #[inline]
    fn serialize_unit(self) -> Result<(), Error> {
        write::nil(self.out);
        Ok(())
    }
    fn serialize_unit_struct(self, _name: &'static str) -> Result<(), Error> {
        write::nil(self.out);
        Ok(())
    }
    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<(), Error> {
        self.serialize_str(variant)
    }
    #[inline]
    fn serialize_newtype_struct<T: ?Sized + Serialize>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: ?Sized + Serialize>(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        write::map_len(self.out, 1);
        write::str(self.out, variant);
        value.serialize(self)
    }
    #[inline]
    fn serialize_seq(self, len: Option<usize>) -> Result<Compound<'s, 'a>, Error> {
        Compound::new(self, len, false)
    }
    #[inline]
    fn serialize_tuple(self, len: usize) -> Result<Compound<'s, 'a>, Error> {
        Compound::new(self, Some(len), false)
    }
    fn serialize_tuple_struct(
        self,
        _name: &'static str,
        len: usize,
    ) -> Result<Compound<'s, 'a>, Error> {
        Compound::new(self, Some(len), false)
    }
    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Compound<'s, 'a>, Error> {
        write::map_len(self.out, 1);
        write::str(self.out, variant);
        Compound::new(self, Some(len), false)
    }
    #[inline]
    fn serialize_map(self, len: Option<usize>) -> Result<Compound<'s, 'a>, Error> {
        Compound::new(self, len, true)
    }
    #[inline]
    fn serialize_struct(self, _name: &'static str, len: usize) -> Result<Compound<'s, 'a>, Error> {
        Compound::new(self, Some(len), true)
    }
    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Compound<'s, 'a>, Error> {
        write::map_len(self.out, 1);
        write::str(self.out, variant);
        Compound::new(self, Some(len), true)
    }

    fn is_human_readable(&self) -> bool {
        true
    }
}

impl ser::SerializeSeq for Compound<'_, '_> {
    type Ok = ();
    type Error = Error;
    #[inline]
    fn serialize_element<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<(), Error> {
        self.bump()?;
        value.serialize(&mut *self.ser)
    }
    #[inline]
    fn end(self) -> Result<(), Error> {
        self.finish()
    }
}

impl ser::SerializeTuple for Compound<'_, '_> {
    type Ok = ();
    type Error = Error;
    #[inline]
    fn serialize_element<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<(), Error> {
        ser::SerializeSeq::serialize_element(self, value)
    }
    #[inline]
    fn end(self) -> Result<(), Error> {
        self.finish()
    }
}

impl ser::SerializeTupleStruct for Compound<'_, '_> {
    type Ok = ();
    type Error = Error;
    fn serialize_field<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<(), Error> {
        ser::SerializeSeq::serialize_element(self, value)
    }
    fn end(self) -> Result<(), Error> {
        self.finish()
    }
}

impl ser::SerializeTupleVariant for Compound<'_, '_> {
    type Ok = ();
    type Error = Error;
    fn serialize_field<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<(), Error> {
        ser::SerializeSeq::serialize_element(self, value)
    }
    fn end(self) -> Result<(), Error> {
        self.finish()
    }
}

impl ser::SerializeMap for Compound<'_, '_> {
    type Ok = ();
    type Error = Error;
    #[inline]
    fn serialize_key<T: ?Sized + Serialize>(&mut self, key: &T) -> Result<(), Error> {
        self.bump()?;
        key.serialize(MapKeySerializer { out: self.ser.out })
    }
    #[inline]
    fn serialize_value<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<(), Error> {
        value.serialize(&mut *self.ser)
    }
    #[inline]
    fn end(self) -> Result<(), Error> {
        self.finish()
    }
}

impl ser::SerializeStruct for Compound<'_, '_> {
    type Ok = ();
    type Error = Error;
    #[inline]
    fn serialize_field<T: ?Sized + Serialize>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        self.bump()?;
        write::str(self.ser.out, key);
        value.serialize(&mut *self.ser)
    }
    #[inline]
    fn end(self) -> Result<(), Error> {
        self.finish()
    }
}

impl ser::SerializeStructVariant for Compound<'_, '_> {
    type Ok = ();
    type Error = Error;
    fn serialize_field<T: ?Sized + Serialize>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        ser::SerializeStruct::serialize_field(self, key, value)
    }
    fn end(self) -> Result<(), Error> {
        self.finish()
    }
}

/// Map keys become strings, as JavaScript object keys are.
struct MapKeySerializer<'a> {
    out: &'a mut Vec<u8>,
}

const KEY_ERROR: Error = Error::Unsupported("map key must be a string, integer, bool or char");

macro_rules! key_display {
    ($($method:ident: $ty:ty),*) => {$(
        fn $method(self, v: $ty) -> Result<(), Error> {
            write::str(self.out, &v.to_string());
            Ok(())
        }
    )*};
}

impl ser::Serializer for MapKeySerializer<'_> {
    type Ok = ();
    type Error = Error;
    type SerializeSeq = ser::Impossible<(), Error>;
    type SerializeTuple = ser::Impossible<(), Error>;
    type SerializeTupleStruct = ser::Impossible<(), Error>;
    type SerializeTupleVariant = ser::Impossible<(), Error>;
    type SerializeMap = ser::Impossible<(), Error>;
    type SerializeStruct = ser::Impossible<(), Error>;
    type SerializeStructVariant = ser::Impossible<(), Error>;

    #[inline]
    fn serialize_str(self, v: &str) -> Result<(), Error> {
        write::str_len(self.out, len_u32(v.len())?);
        self.out.extend_from_slice(v.as_bytes());
        Ok(())
    }

    key_display! {
        serialize_bool: bool, serialize_i8: i8, serialize_i16: i16, serialize_i32: i32,
        serialize_i64: i64, serialize_i128: i128, serialize_u8: u8, serialize_u16: u16,
        serialize_u32: u32, serialize_u64: u64, serialize_u128: u128
    }

    fn serialize_char(self, v: char) -> Result<(), Error> {
        write::str(self.out, v.encode_utf8(&mut [0; 4]));
        Ok(())
    }
    fn serialize_f32(self, _v: f32) -> Result<(), Error> {
        Err(KEY_ERROR)
    }
    fn serialize_f64(self, _v: f64) -> Result<(), Error> {
        Err(KEY_ERROR)
    }
    fn serialize_bytes(self, _v: &[u8]) -> Result<(), Error> {
        Err(KEY_ERROR)
    }
    fn serialize_none(self) -> Result<(), Error> {
        Err(KEY_ERROR)
    }
    fn serialize_some<T: ?Sized + Serialize>(self, _value: &T) -> Result<(), Error> {
        Err(KEY_ERROR)
    }
    fn serialize_unit(self) -> Result<(), Error> {
        Err(KEY_ERROR)
    }
    fn serialize_unit_struct(self, _name: &'static str) -> Result<(), Error> {
        Err(KEY_ERROR)
    }
    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<(), Error> {
        self.serialize_str(variant)
    }
    fn serialize_newtype_struct<T: ?Sized + Serialize>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: ?Sized + Serialize>(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _value: &T,
    ) -> Result<(), Error> {
        Err(KEY_ERROR)
    }
    fn serialize_seq(self, _len: Option<usize>) -> Result<Self::SerializeSeq, Error> {
        Err(KEY_ERROR)
    }
    fn serialize_tuple(self, _len: usize) -> Result<Self::SerializeTuple, Error> {
        Err(KEY_ERROR)
    }
    fn serialize_tuple_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleStruct, Error> {
        Err(KEY_ERROR)
    }
    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleVariant, Error> {
        Err(KEY_ERROR)
    }
    fn serialize_map(self, _len: Option<usize>) -> Result<Self::SerializeMap, Error> {
        Err(KEY_ERROR)
    }
    fn serialize_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStruct, Error> {
        Err(KEY_ERROR)
    }
    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStructVariant, Error> {
        Err(KEY_ERROR)
    }
}
