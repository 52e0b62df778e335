//! How a Rust value becomes a list of event arguments.
//!
//! The rule, shared by every encoder of this crate:
//! - `()` (and a unit struct) is **no argument**;
//! - a tuple, a tuple struct, a slice, a `Vec` or any other serde *sequence* is **one argument per
//!   element** (`(1, "a")` sends two arguments; to send one array argument, wrap it: `(vec,)`);
//! - anything else (a number, a string, a struct, a map, `Option`, bytes…) is **one argument**.
//!
//! A cheap probe looks at the first serde call of the value to pick the case (it stops there, so
//! nothing is written twice); sequences are then written element by element straight into the
//! output buffer, with no intermediate value.

use std::fmt;

use serde::ser::{self, Impossible, Serialize, SerializeSeq, SerializeTuple, SerializeTupleStruct};

/// What a value's serialization starts with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Shape {
    /// No argument.
    Unit,
    /// One argument per element; the length when serde announces it.
    Seq(Option<usize>),
    /// One argument.
    One,
}

pub(crate) fn shape<T: ?Sized + Serialize>(value: &T) -> Shape {
    match value.serialize(Probe) {
        Ok(s) => s,
        Err(ProbeStop(s)) => s,
    }
}

#[derive(Debug)]
struct ProbeStop(Shape);

impl fmt::Display for ProbeStop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "probe: {:?}", self.0)
    }
}

impl std::error::Error for ProbeStop {}

impl ser::Error for ProbeStop {
    // A `Serialize` impl that fails on its own is written as one argument; the real serialization
    // then reports its error.
    fn custom<T: fmt::Display>(_msg: T) -> Self {
        ProbeStop(Shape::One)
    }
}

struct Probe;

macro_rules! one {
    ($($name:ident($ty:ty)),* $(,)?) => {
        $(fn $name(self, _v: $ty) -> Result<Shape, ProbeStop> { Ok(Shape::One) })*
    };
}

impl ser::Serializer for Probe {
    type Ok = Shape;
    type Error = ProbeStop;
    type SerializeSeq = Impossible<Shape, ProbeStop>;
    type SerializeTuple = Impossible<Shape, ProbeStop>;
    type SerializeTupleStruct = Impossible<Shape, ProbeStop>;
    type SerializeTupleVariant = Impossible<Shape, ProbeStop>;
    type SerializeMap = Impossible<Shape, ProbeStop>;
    type SerializeStruct = Impossible<Shape, ProbeStop>;
    type SerializeStructVariant = Impossible<Shape, ProbeStop>;

    one!(
        serialize_bool(bool),
        serialize_i8(i8),
        serialize_i16(i16),
        serialize_i32(i32),
        serialize_i64(i64),
        serialize_i128(i128),
        serialize_u8(u8),
        serialize_u16(u16),
        serialize_u32(u32),
        serialize_u64(u64),
        serialize_u128(u128),
        serialize_f32(f32),
        serialize_f64(f64),
        serialize_char(char),
        serialize_str(&str),
        serialize_bytes(&[u8]),
    );

    fn serialize_none(self) -> Result<Shape, ProbeStop> {
        Ok(Shape::One)
    }
    fn serialize_some<T: ?Sized + Serialize>(self, _v: &T) -> Result<Shape, ProbeStop> {
        Ok(Shape::One)
    }
    fn serialize_unit(self) -> Result<Shape, ProbeStop> {
        Ok(Shape::Unit)
    }
    fn serialize_unit_struct(self, _name: &'static str) -> Result<Shape, ProbeStop> {
        Ok(Shape::Unit)
    }
    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
    ) -> Result<Shape, ProbeStop> {
        Ok(Shape::One)
    }
    fn serialize_newtype_struct<T: ?Sized + Serialize>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<Shape, ProbeStop> {
        // Transparent, as in JSON.
        value.serialize(Probe)
    }
    fn serialize_newtype_variant<T: ?Sized + Serialize>(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _value: &T,
    ) -> Result<Shape, ProbeStop> {
        Ok(Shape::One)
    }
    fn serialize_seq(self, len: Option<usize>) -> Result<Self::SerializeSeq, ProbeStop> {
        Err(ProbeStop(Shape::Seq(len)))
    }
    fn serialize_tuple(self, len: usize) -> Result<Self::SerializeTuple, ProbeStop> {
        Err(ProbeStop(Shape::Seq(Some(len))))
    }
    fn serialize_tuple_struct(
        self,
        _name: &'static str,
        len: usize,
    ) -> Result<Self::SerializeTupleStruct, ProbeStop> {
        Err(ProbeStop(Shape::Seq(Some(len))))
    }
    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleVariant, ProbeStop> {
        Err(ProbeStop(Shape::One))
    }
    fn serialize_map(self, _len: Option<usize>) -> Result<Self::SerializeMap, ProbeStop> {
        Err(ProbeStop(Shape::One))
    }
    fn serialize_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStruct, ProbeStop> {
        Err(ProbeStop(Shape::One))
    }
    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStructVariant, ProbeStop> {
        Err(ProbeStop(Shape::One))
    }
}

/// Writes one element of an argument list in some format.
pub(crate) trait ElementSink {
    type Error: ser::Error;
    fn element<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<(), Self::Error>;
}

/// Writes the arguments of `value` (see the module doc) through `sink`; returns how many.
pub(crate) fn write_args<T: ?Sized + Serialize, S: ElementSink>(
    value: &T,
    shape: Shape,
    sink: &mut S,
) -> Result<usize, S::Error> {
    match shape {
        Shape::Unit => Ok(0),
        Shape::One => sink.element(value).map(|()| 1),
        Shape::Seq(_) => value.serialize(Elements { sink, count: 0 }),
    }
}

/// A serializer that accepts only a sequence (what [`Shape::Seq`] promised) and hands each element
/// to the sink.
struct Elements<'s, S> {
    sink: &'s mut S,
    count: usize,
}

impl<S: ElementSink> SerializeSeq for Elements<'_, S> {
    type Ok = usize;
    type Error = S::Error;
    fn serialize_element<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<(), S::Error> {
        self.count += 1;
        self.sink.element(value)
    }
    fn end(self) -> Result<usize, S::Error> {
        Ok(self.count)
    }
}

impl<S: ElementSink> SerializeTuple for Elements<'_, S> {
    type Ok = usize;
    type Error = S::Error;
    fn serialize_element<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<(), S::Error> {
        SerializeSeq::serialize_element(self, value)
    }
    fn end(self) -> Result<usize, S::Error> {
        Ok(self.count)
    }
}

impl<S: ElementSink> SerializeTupleStruct for Elements<'_, S> {
    type Ok = usize;
    type Error = S::Error;
    fn serialize_field<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<(), S::Error> {
        SerializeSeq::serialize_element(self, value)
    }
    fn end(self) -> Result<usize, S::Error> {
        Ok(self.count)
    }
}

fn not_a_sequence<E: ser::Error>() -> E {
    E::custom("event arguments changed shape while being serialized")
}

macro_rules! reject {
    ($($name:ident($ty:ty)),* $(,)?) => {
        $(fn $name(self, _v: $ty) -> Result<usize, S::Error> { Err(not_a_sequence()) })*
    };
}

impl<'s, S: ElementSink> ser::Serializer for Elements<'s, S> {
    type Ok = usize;
    type Error = S::Error;
    type SerializeSeq = Self;
    type SerializeTuple = Self;
    type SerializeTupleStruct = Self;
    type SerializeTupleVariant = Impossible<usize, S::Error>;
    type SerializeMap = Impossible<usize, S::Error>;
    type SerializeStruct = Impossible<usize, S::Error>;
    type SerializeStructVariant = Impossible<usize, S::Error>;

    reject!(
        serialize_bool(bool),
        serialize_i8(i8),
        serialize_i16(i16),
        serialize_i32(i32),
        serialize_i64(i64),
        serialize_i128(i128),
        serialize_u8(u8),
        serialize_u16(u16),
        serialize_u32(u32),
        serialize_u64(u64),
        serialize_u128(u128),
        serialize_f32(f32),
        serialize_f64(f64),
        serialize_char(char),
        serialize_str(&str),
        serialize_bytes(&[u8]),
    );

    fn serialize_none(self) -> Result<usize, S::Error> {
        Err(not_a_sequence())
    }
    fn serialize_some<T: ?Sized + Serialize>(self, _v: &T) -> Result<usize, S::Error> {
        Err(not_a_sequence())
    }
    fn serialize_unit(self) -> Result<usize, S::Error> {
        Err(not_a_sequence())
    }
    fn serialize_unit_struct(self, _name: &'static str) -> Result<usize, S::Error> {
        Err(not_a_sequence())
    }
    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
    ) -> Result<usize, S::Error> {
        Err(not_a_sequence())
    }
    fn serialize_newtype_struct<T: ?Sized + Serialize>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<usize, S::Error> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: ?Sized + Serialize>(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _value: &T,
    ) -> Result<usize, S::Error> {
        Err(not_a_sequence())
    }
    fn serialize_seq(self, _len: Option<usize>) -> Result<Self, S::Error> {
        Ok(self)
    }
    fn serialize_tuple(self, _len: usize) -> Result<Self, S::Error> {
        Ok(self)
    }
    fn serialize_tuple_struct(self, _name: &'static str, _len: usize) -> Result<Self, S::Error> {
        Ok(self)
    }
    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleVariant, S::Error> {
        Err(not_a_sequence())
    }
    fn serialize_map(self, _len: Option<usize>) -> Result<Self::SerializeMap, S::Error> {
        Err(not_a_sequence())
    }
    fn serialize_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStruct, S::Error> {
        Err(not_a_sequence())
    }
    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStructVariant, S::Error> {
        Err(not_a_sequence())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Serialize)]
    struct Point {
        x: i32,
    }
    #[derive(serde::Serialize)]
    struct Wrapper(Vec<u8>);
    #[derive(serde::Serialize)]
    struct Pair(u8, u8);
    #[derive(serde::Serialize)]
    struct Nothing;

    #[test]
    fn shapes() {
        assert_eq!(shape(&()), Shape::Unit);
        assert_eq!(shape(&Nothing), Shape::Unit);
        assert_eq!(shape(&(1, "a")), Shape::Seq(Some(2)));
        assert_eq!(shape(&(1,)), Shape::Seq(Some(1)));
        assert_eq!(shape(&vec![1, 2, 3]), Shape::Seq(Some(3)));
        assert_eq!(shape(&[1u8, 2][..]), Shape::Seq(Some(2)));
        assert_eq!(shape(&Wrapper(vec![1])), Shape::Seq(Some(1)));
        assert_eq!(shape(&Pair(1, 2)), Shape::Seq(Some(2)));
        assert_eq!(shape(&1), Shape::One);
        assert_eq!(shape("a"), Shape::One);
        assert_eq!(shape(&Some(vec![1])), Shape::One);
        assert_eq!(shape(&None::<u8>), Shape::One);
        assert_eq!(shape(&Point { x: 1 }), Shape::One);
        assert_eq!(shape(&bytes::Bytes::from_static(b"x")), Shape::One);
        assert_eq!(shape(&serde_json::json!({"a": 1})), Shape::One);
        assert_eq!(shape(&serde_json::json!([1, 2])), Shape::Seq(Some(2)));
    }

    struct Collect(Vec<String>);
    impl ElementSink for Collect {
        type Error = serde_json::Error;
        fn element<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<(), Self::Error> {
            self.0.push(serde_json::to_string(value)?);
            Ok(())
        }
    }

    fn collect<T: ?Sized + Serialize>(v: &T) -> Vec<String> {
        let mut sink = Collect(Vec::new());
        let n = write_args(v, shape(v), &mut sink).expect("serializable");
        assert_eq!(n, sink.0.len());
        sink.0
    }

    #[test]
    fn elements() {
        assert!(collect(&()).is_empty());
        assert_eq!(collect(&(1, "a")), ["1", "\"a\""]);
        assert_eq!(collect(&(vec![1, 2],)), ["[1,2]"]);
        assert_eq!(collect(&vec![1, 2]), ["1", "2"]);
        assert_eq!(collect(&Point { x: 3 }), ["{\"x\":3}"]);
        assert_eq!(collect(&Wrapper(vec![7])), ["7"]);
        assert_eq!(collect(&Pair(1, 2)), ["1", "2"]);
        assert_eq!(collect(&Some(5)), ["5"]);
    }
}

/// Argument lists with one more argument at the end: `Append(&args, &last)` is sent as the
/// arguments of `args` (by [the argument rule](crate#arguments)) followed by `last`. Connection
/// state recovery uses it to add the packet's offset.
///
/// ```
/// use socketio_proto::{Append, Message, Parser};
/// let e = Parser::Json.encode_event("/", "news", &Append(&("a", 1), &"off"), None)?;
/// assert_eq!(e.packet, Message::Text(r#"2["news","a",1,"off"]"#.into()));
/// let e = Parser::Json.encode_event("/", "news", &Append(&(), &"off"), None)?;
/// assert_eq!(e.packet, Message::Text(r#"2["news","off"]"#.into()));
/// let e = Parser::Json.encode_event("/", "news", &Append(&vec![1, 2], &"off"), None)?;
/// assert_eq!(e.packet, Message::Text(r#"2["news",1,2,"off"]"#.into()));
/// # Ok::<(), socketio_proto::EncodeError>(())
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Append<'a, T: ?Sized, L: ?Sized>(pub &'a T, pub &'a L);

impl<T: ?Sized + Serialize, L: ?Sized + Serialize> Serialize for Append<'_, T, L> {
    fn serialize<S: ser::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let shape = shape(self.0);
        let len = match shape {
            Shape::Unit => Some(1),
            Shape::One => Some(2),
            Shape::Seq(len) => len.map(|n| n + 1),
        };
        let mut seq = serializer.serialize_seq(len)?;
        write_args(self.0, shape, &mut SeqSink(&mut seq))?;
        seq.serialize_element(self.1)?;
        seq.end()
    }
}

/// Hands every element to an outer sequence.
struct SeqSink<'a, Q>(&'a mut Q);

impl<Q: SerializeSeq> ElementSink for SeqSink<'_, Q> {
    type Error = Q::Error;
    fn element<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<(), Q::Error> {
        self.0.serialize_element(value)
    }
}
