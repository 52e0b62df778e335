//! Direct `serde_json::Value` building (no serde visitor), whole-input validation and the
//! Socket.IO array helpers.

use std::borrow::Cow;

use serde_json::{Map, Number, Value};

use crate::Limits;
use crate::error::{Error, SyntaxError};
use crate::read::{Num, Reader, find_special};

#[inline]
fn num_value(n: Num) -> Value {
    match n {
        Num::U(u) => Value::Number(Number::from(u)),
        Num::I(i) => Value::Number(Number::from(i)),
        // Our parser never yields a non-finite float, so this is never `Null`.
        Num::F(f) => Value::from(f),
    }
}

/// An open container while building: where its elements start on the scratch stacks.
#[derive(Clone, Copy)]
enum Frame {
    Array(usize),
    Object(usize),
}

/// Builds values without recursion. Elements of all open arrays share one stack (`vals`) and
/// members of all open objects another (`members`); closing a container moves its tail into a
/// collection allocated once at its exact size.
#[derive(Default)]
pub(crate) struct Builder {
    vals: Vec<Value>,
    members: Vec<(String, Value)>,
    frames: Vec<Frame>,
}

impl Builder {
    /// Turns the members from `start` on into a map. (`BTreeMap::from_iter` sorts and then
    /// bulk-builds, which measured cheaper than inserting one by one in any order.)
    #[inline]
    fn object(&mut self, start: usize) -> Map<String, Value> {
        self.members.drain(start..).collect()
    }

    /// Parses one value; `depth` containers are already open around it.
    pub(crate) fn value(
        &mut self,
        r: &mut Reader<'_>,
        depth: usize,
        max_depth: usize,
    ) -> Result<Value, Error> {
        self.frames.clear();
        self.vals.clear();
        self.members.clear();
        'value: loop {
            let mut value = match r.peek_ws() {
                Some(b'"') => {
                    r.pos += 1;
                    Value::String(r.string()?)
                }
                Some(b'-' | b'0'..=b'9') => num_value(r.number()?),
                Some(b'{') => {
                    if depth + self.frames.len() >= max_depth {
                        return Err(Error::DepthLimit);
                    }
                    r.pos += 1;
                    match r.peek_ws() {
                        Some(b'}') => {
                            r.pos += 1;
                            Value::Object(Map::new())
                        }
                        Some(b'"') => {
                            r.pos += 1;
                            let key = r.string()?;
                            r.colon()?;
                            self.frames.push(Frame::Object(self.members.len()));
                            self.members.push((key, Value::Null));
                            continue 'value;
                        }
                        _ => return Err(r.err_eof_or(SyntaxError::ExpectedKey)),
                    }
                }
                Some(b'[') => {
                    if depth + self.frames.len() >= max_depth {
                        return Err(Error::DepthLimit);
                    }
                    r.pos += 1;
                    if r.peek_ws() == Some(b']') {
                        r.pos += 1;
                        Value::Array(Vec::new())
                    } else {
                        self.frames.push(Frame::Array(self.vals.len()));
                        continue 'value;
                    }
                }
                Some(b't') => {
                    r.literal(b"true")?;
                    Value::Bool(true)
                }
                Some(b'f') => {
                    r.literal(b"false")?;
                    Value::Bool(false)
                }
                Some(b'n') => {
                    r.literal(b"null")?;
                    Value::Null
                }
                _ => return Err(r.err_eof_or(SyntaxError::ExpectedValue)),
            };
            loop {
                match self.frames.last() {
                    None => return Ok(value),
                    Some(&Frame::Array(start)) => {
                        self.vals.push(value);
                        match r.peek_ws() {
                            Some(b',') => {
                                r.pos += 1;
                                continue 'value;
                            }
                            Some(b']') => {
                                r.pos += 1;
                                self.frames.pop();
                                value = Value::Array(self.vals.drain(start..).collect());
                            }
                            _ => return Err(r.err_eof_or(SyntaxError::ExpectedCommaOrBracket)),
                        }
                    }
                    Some(&Frame::Object(start)) => {
                        if let Some(last) = self.members.last_mut() {
                            last.1 = value;
                        }
                        match r.peek_ws() {
                            Some(b',') => {
                                r.pos += 1;
                                r.key_start()?;
                                let key = r.string()?;
                                r.colon()?;
                                self.members.push((key, Value::Null));
                                continue 'value;
                            }
                            Some(b'}') => {
                                r.pos += 1;
                                self.frames.pop();
                                value = Value::Object(self.object(start));
                            }
                            _ => return Err(r.err_eof_or(SyntaxError::ExpectedCommaOrBrace)),
                        }
                    }
                }
            }
        }
    }
}

/// Parses a whole input holding one JSON value into a `serde_json::Value`.
pub(crate) fn value_from_slice(input: &[u8], limits: &Limits) -> Result<Value, Error> {
    let mut r = Reader::new(input)?;
    let v = Builder::default().value(&mut r, 0, limits.max_depth)?;
    r.end()?;
    Ok(v)
}

/// Opens the top-level array: checks the depth budget and consumes `[`.
fn open_array(r: &mut Reader<'_>, limits: &Limits) -> Result<(), Error> {
    if r.peek_ws() != Some(b'[') {
        return Err(r.err_eof_or(SyntaxError::ExpectedArray));
    }
    if limits.max_depth == 0 {
        return Err(Error::DepthLimit);
    }
    r.pos += 1;
    Ok(())
}

pub(crate) fn values_from_array(
    input: &[u8],
    skip: usize,
    limits: &Limits,
) -> Result<Vec<Value>, Error> {
    let mut r = Reader::new(input)?;
    open_array(&mut r, limits)?;
    let mut out = Vec::new();
    if r.peek_ws() == Some(b']') {
        r.pos += 1;
    } else {
        let mut builder = Builder::default();
        let mut index = 0usize;
        loop {
            if index < skip {
                r.skip_value(1, limits.max_depth)?;
            } else {
                out.push(builder.value(&mut r, 1, limits.max_depth)?);
            }
            index += 1;
            match r.peek_ws() {
                Some(b',') => r.pos += 1,
                Some(b']') => {
                    r.pos += 1;
                    break;
                }
                _ => return Err(r.err_eof_or(SyntaxError::ExpectedCommaOrBracket)),
            }
        }
    }
    r.end()?;
    Ok(out)
}

pub(crate) fn validate(input: &[u8], limits: &Limits) -> Result<(), Error> {
    let mut r = Reader::new(input)?;
    r.skip_value(0, limits.max_depth)?;
    r.end()
}

fn utf8(s: &[u8], at: usize) -> Result<&str, Error> {
    std::str::from_utf8(s)
        .map_err(|e| Error::syntax(at + e.valid_up_to(), SyntaxError::InvalidUtf8))
}

pub(crate) fn array_first_str(input: &[u8]) -> Result<(Cow<'_, str>, usize), Error> {
    let mut pos = 0;
    let ws = |pos: &mut usize| {
        while let Some(b' ' | b'\n' | b'\t' | b'\r') = input.get(*pos) {
            *pos += 1;
        }
    };
    let eof_or = |pos: usize, kind: SyntaxError| {
        Error::syntax(
            pos,
            if pos >= input.len() {
                SyntaxError::Eof
            } else {
                kind
            },
        )
    };
    ws(&mut pos);
    if input.get(pos) != Some(&b'[') {
        return Err(eof_or(pos, SyntaxError::ExpectedArray));
    }
    pos += 1;
    ws(&mut pos);
    if input.get(pos) != Some(&b'"') {
        return Err(eof_or(pos, SyntaxError::ExpectedString));
    }
    pos += 1;
    let start = pos;
    let end = find_special(input, start);
    let s = match input.get(end) {
        Some(b'"') => {
            pos = end + 1;
            Cow::Borrowed(utf8(input.get(start..end).unwrap_or_default(), start)?)
        }
        Some(b'\\') => {
            // Only the string itself is validated, run by run: the rest of the input is not
            // looked at.
            let mut owned = String::new();
            let mut i = start;
            loop {
                let run_end = find_special(input, i);
                owned.push_str(utf8(input.get(i..run_end).unwrap_or_default(), i)?);
                match input.get(run_end) {
                    Some(b'"') => {
                        pos = run_end + 1;
                        break;
                    }
                    Some(b'\\') => {
                        // Escape decoding only looks at bytes, never at `text`.
                        let mut r = Reader {
                            text: "",
                            bytes: input,
                            pos: run_end + 1,
                        };
                        owned.push(r.escape()?);
                        i = r.pos;
                    }
                    _ => return Err(eof_or(run_end, SyntaxError::ControlCharacter)),
                }
            }
            Cow::Owned(owned)
        }
        _ => return Err(eof_or(end, SyntaxError::ControlCharacter)),
    };
    ws(&mut pos);
    match input.get(pos) {
        Some(b',' | b']') => Ok((s, pos)),
        _ => Err(eof_or(pos, SyntaxError::ExpectedCommaOrBracket)),
    }
}
