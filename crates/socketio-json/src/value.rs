//! Direct `serde_json::Value` building (no serde visitor), whole-input validation and the
//! Socket.IO array helpers.

use std::borrow::Cow;

use serde_json::{Map, Number, Value};

use crate::Limits;
use crate::error::{Error, SyntaxError};
use crate::read::{Num, Reader, find_special};

/// An open container while building: where its contents start on the slot stacks.
#[derive(Clone, Copy)]
enum Frame {
    Array(usize),
    Object(usize),
}

/// Builds values without recursion. Array elements wait in `vals` and object members in
/// `members`; closing a container moves its slots into a collection allocated once at its
/// exact size.
///
/// Both stacks are kept as filled slots (`Null` / empty) below `len()`: a value's slot is
/// chosen before the value is parsed and the value is assigned straight into it. Building a
/// `Value` first and then pushing it materializes it in a stack temporary with narrow stores
/// and copies it with wide loads, a store-forwarding stall per value that measured as a large
/// share of the parse time. The one exception: an object's members with scalar values are
/// read by a loop of their own (in the `{` arm of `value`) and each is stored whole, key and
/// value at once, which measured faster (fewer instructions and less time) than going through
/// the general loop.
#[derive(Default)]
pub(crate) struct Builder {
    vals: Vec<Value>,
    top: usize,
    members: Vec<(String, Value)>,
    mtop: usize,
    frames: Vec<Frame>,
    /// The slot of a top-level value.
    root: Value,
}

/// The slots `start..end` moved into a collection of exactly their number (the slice's
/// iterator knows its length), leaving them empty for the next value.
#[inline(always)]
fn take_slots<T: Default, C: FromIterator<T>>(slots: &mut [T], start: usize, end: usize) -> C {
    slots
        .get_mut(start..end)
        .unwrap_or_default()
        .iter_mut()
        .map(std::mem::take)
        .collect()
}

/// Slots kept between calls at most (a huge input should not pin its scratch memory).
const KEEP_SLOTS: usize = 1024;

thread_local! {
    static BUILDER: std::cell::RefCell<Builder> = std::cell::RefCell::new(Builder::default());
}

/// Runs `f` with the thread's reusable builder (or a fresh one if it is in use), so the slot
/// stacks are not allocated and filled again on every call.
pub(crate) fn with_builder<R>(mut f: impl FnMut(&mut Builder) -> R) -> R {
    let reused = BUILDER.try_with(|cell| {
        cell.try_borrow_mut().ok().map(|mut b| {
            let r = f(&mut b);
            b.reset();
            r
        })
    });
    match reused {
        Ok(Some(r)) => r,
        _ => f(&mut Builder::default()),
    }
}

impl Builder {
    /// Empties the slots (after an error some may hold values) and trims oversized stacks.
    /// After a successful parse everything is already empty: then only this check runs.
    #[inline]
    fn reset(&mut self) {
        if self.top == 0
            && self.mtop == 0
            && self.frames.is_empty()
            && self.root.is_null()
            && self.vals.len() <= KEEP_SLOTS
            && self.members.len() <= KEEP_SLOTS
        {
            return;
        }
        self.reset_slow();
    }

    #[cold]
    #[inline(never)]
    fn reset_slow(&mut self) {
        for v in self.vals.get_mut(..self.top).unwrap_or_default() {
            *v = Value::Null;
        }
        for m in self.members.get_mut(..self.mtop).unwrap_or_default() {
            *m = (String::new(), Value::Null);
        }
        self.top = 0;
        self.mtop = 0;
        self.frames.clear();
        self.root = Value::Null;
        if self.vals.len() > KEEP_SLOTS {
            self.vals.truncate(KEEP_SLOTS);
            self.vals.shrink_to_fit();
        }
        if self.members.len() > KEEP_SLOTS {
            self.members.truncate(KEEP_SLOTS);
            self.members.shrink_to_fit();
        }
    }

    /// Reserves the next array slot when the value about to be parsed is an array element.
    #[inline(always)]
    fn open_slot(&mut self) {
        if let Some(Frame::Array(_)) = self.frames.last() {
            if self.top == self.vals.len() {
                self.vals.push(Value::Null);
            }
            self.top += 1;
        }
    }

    /// The slot of the value being parsed: the last array slot, the last member's value, or
    /// the root. Assigning into it builds the value in place.
    #[inline(always)]
    fn slot(&mut self) -> &mut Value {
        let slot = match self.frames.last() {
            Some(Frame::Array(_)) => self.top.checked_sub(1).and_then(|i| self.vals.get_mut(i)),
            Some(Frame::Object(_)) => self
                .mtop
                .checked_sub(1)
                .and_then(|i| self.members.get_mut(i))
                .map(|m| &mut m.1),
            None => None,
        };
        match slot {
            Some(slot) => slot,
            None => &mut self.root,
        }
    }

    /// Stores a value in its slot (see [`Builder::slot`]). A slot is always empty (`Null`)
    /// before, so there is nothing to drop: the old value is forgotten instead of dropped, which
    /// spares a call to the `Value` destructor per value.
    #[inline(always)]
    fn put(&mut self, v: Value) {
        let old = std::mem::replace(self.slot(), v);
        debug_assert!(old.is_null());
        std::mem::forget(old);
    }

    /// Stores a key in the next member slot.
    #[inline(always)]
    fn key(&mut self, k: String) {
        match self.members.get_mut(self.mtop) {
            Some(slot) => std::mem::forget(std::mem::replace(&mut slot.0, k)),
            None => self.members.push((k, Value::Null)),
        }
        self.mtop += 1;
    }

    /// Stores a whole member in the next member slot.
    #[inline(always)]
    fn member(&mut self, k: String, v: Value) {
        match self.members.get_mut(self.mtop) {
            Some(slot) => std::mem::forget(std::mem::replace(slot, (k, v))),
            None => self.members.push((k, v)),
        }
        self.mtop += 1;
    }

    /// The object whose members are the slots from `start` up: they are moved out, leaving
    /// them empty.
    #[inline(always)]
    fn close_object(&mut self, start: usize) -> Map<String, Value> {
        // `BTreeMap::from_iter` sorts, then bulk-builds: measured faster than inserting one by
        // one, even for two or three members (fewer instructions, but more time).
        let map = take_slots(&mut self.members, start, self.mtop);
        self.mtop = start;
        map
    }

    /// Parses one value and returns it; `depth` containers are already open around it.
    pub(crate) fn build(
        &mut self,
        r: &mut Reader<'_>,
        depth: usize,
        max_depth: usize,
    ) -> Result<Value, Error> {
        self.value(r, depth, max_depth)?;
        Ok(std::mem::take(&mut self.root))
    }

    /// Parses one value into its slot: the next element of the open array frame if there is
    /// one (see `values_from_array`), else `root`. `depth` containers are already open around
    /// it.
    pub(crate) fn value(
        &mut self,
        r: &mut Reader<'_>,
        depth: usize,
        max_depth: usize,
    ) -> Result<(), Error> {
        let base = self.frames.len();
        'value: loop {
            self.open_slot();
            match r.peek_ws() {
                Some(b'"') => {
                    r.pos += 1;
                    let v = r.string()?;
                    self.put(Value::String(v));
                }
                Some(b'-' | b'0'..=b'9') => {
                    let n = r.number()?;
                    // Each variant is stored by its own arm: a `Value` merged from the arms
                    // would be built in a temporary first (see `Builder`). Our parser never
                    // yields a non-finite float, so `Value::from(f)` is never `Null`.
                    match n {
                        Num::U(u) => self.put(Value::Number(Number::from(u))),
                        Num::I(i) => self.put(Value::Number(Number::from(i))),
                        Num::F(f) => self.put(Value::from(f)),
                    }
                }
                Some(b'{') => {
                    if depth + self.frames.len() - base >= max_depth {
                        return Err(Error::DepthLimit);
                    }
                    r.pos += 1;
                    match r.peek_ws() {
                        Some(b'}') => {
                            r.pos += 1;
                            self.put(Value::Object(Map::new()));
                        }
                        Some(b'"') => {
                            r.pos += 1;
                            // Members whose values are scalars are read here, each stored
                            // whole; the first container value hands the object over to the
                            // general loop (which also makes the errors).
                            let start = self.mtop;
                            loop {
                                let key = r.string()?;
                                r.colon()?;
                                // Each arm stores its member itself: a value merged from the
                                // arms would be built in a temporary first (see `Builder`).
                                match r.peek_ws() {
                                    Some(b'"') => {
                                        r.pos += 1;
                                        let v = r.string()?;
                                        self.member(key, Value::String(v));
                                    }
                                    Some(b'-' | b'0'..=b'9') => {
                                        let n = r.number()?;
                                        match n {
                                            Num::U(u) => {
                                                self.member(key, Value::Number(Number::from(u)));
                                            }
                                            Num::I(i) => {
                                                self.member(key, Value::Number(Number::from(i)));
                                            }
                                            // Never `Null`: our parser yields finite floats.
                                            Num::F(f) => self.member(key, Value::from(f)),
                                        }
                                    }
                                    Some(b't') => {
                                        r.literal(b"true")?;
                                        self.member(key, Value::Bool(true));
                                    }
                                    Some(b'f') => {
                                        r.literal(b"false")?;
                                        self.member(key, Value::Bool(false));
                                    }
                                    Some(b'n') => {
                                        r.literal(b"null")?;
                                        self.member(key, Value::Null);
                                    }
                                    _ => {
                                        self.frames.push(Frame::Object(start));
                                        self.key(key);
                                        continue 'value;
                                    }
                                }
                                match r.peek_ws() {
                                    Some(b',') => {
                                        r.pos += 1;
                                        r.key_start()?;
                                    }
                                    Some(b'}') => {
                                        r.pos += 1;
                                        let map = self.close_object(start);
                                        self.put(Value::Object(map));
                                        break;
                                    }
                                    _ => {
                                        return Err(r.err_eof_or(SyntaxError::ExpectedCommaOrBrace));
                                    }
                                }
                            }
                        }
                        _ => return Err(r.err_eof_or(SyntaxError::ExpectedKey)),
                    }
                }
                Some(b'[') => {
                    if depth + self.frames.len() - base >= max_depth {
                        return Err(Error::DepthLimit);
                    }
                    r.pos += 1;
                    if r.peek_ws() == Some(b']') {
                        r.pos += 1;
                        self.put(Value::Array(Vec::new()));
                    } else {
                        self.frames.push(Frame::Array(self.top));
                        continue 'value;
                    }
                }
                Some(b't') => {
                    r.literal(b"true")?;
                    self.put(Value::Bool(true));
                }
                Some(b'f') => {
                    r.literal(b"false")?;
                    self.put(Value::Bool(false));
                }
                Some(b'n') => {
                    r.literal(b"null")?;
                    self.put(Value::Null);
                }
                _ => return Err(r.err_eof_or(SyntaxError::ExpectedValue)),
            }
            // A value is complete: continue or close its containers.
            loop {
                if self.frames.len() == base {
                    return Ok(());
                }
                match self.frames.last() {
                    Some(&Frame::Array(start)) => match r.peek_ws() {
                        Some(b',') => {
                            r.pos += 1;
                            continue 'value;
                        }
                        Some(b']') => {
                            r.pos += 1;
                            self.frames.pop();
                            let array = take_slots(&mut self.vals, start, self.top);
                            self.top = start;
                            self.put(Value::Array(array));
                        }
                        _ => return Err(r.err_eof_or(SyntaxError::ExpectedCommaOrBracket)),
                    },
                    Some(&Frame::Object(start)) => match r.peek_ws() {
                        Some(b',') => {
                            r.pos += 1;
                            r.key_start()?;
                            let key = r.string()?;
                            r.colon()?;
                            self.key(key);
                            continue 'value;
                        }
                        Some(b'}') => {
                            r.pos += 1;
                            self.frames.pop();
                            let map = self.close_object(start);
                            self.put(Value::Object(map));
                        }
                        _ => return Err(r.err_eof_or(SyntaxError::ExpectedCommaOrBrace)),
                    },
                    None => return Ok(()),
                }
            }
        }
    }
}

/// Parses a whole input holding one JSON value into a `serde_json::Value`.
pub(crate) fn value_from_slice(input: &[u8], limits: &Limits) -> Result<Value, Error> {
    let mut r = Reader::new(input)?;
    let v = with_builder(|b| b.build(&mut r, 0, limits.max_depth))?;
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
    values_from_array_in(Reader::new(input)?, skip, limits)
}

pub(crate) fn values_from_array_in(
    mut r: Reader<'_>,
    skip: usize,
    limits: &Limits,
) -> Result<Vec<Value>, Error> {
    open_array(&mut r, limits)?;
    values_after(r, skip, true, limits)
}

/// [`values_from_array_in`] resumed inside the array: `r` sits just after the `[` (`first`) or
/// on the `,` or `]` that follows an element already checked by the caller; `skip` more elements
/// are skipped (validated) before the values start.
pub(crate) fn values_after(
    r: Reader<'_>,
    skip: usize,
    first: bool,
    limits: &Limits,
) -> Result<Vec<Value>, Error> {
    let mut out = Vec::new();
    values_after_into(r, skip, first, limits, &mut out)?;
    Ok(out)
}

/// [`values_after`] into `out` (left empty on an error). The vector is stored once, where the
/// caller keeps it: returned through each layer inside a `Result`, it was copied at every
/// return with wide loads of what had just been stored in narrow pieces (a store-forwarding
/// stall per layer, about 8% of a small packet's decode in `perf`).
pub(crate) fn values_after_into(
    mut r: Reader<'_>,
    skip: usize,
    first: bool,
    limits: &Limits,
    out: &mut Vec<Value>,
) -> Result<(), Error> {
    out.clear();
    if limits.max_depth == 0 {
        return Err(Error::DepthLimit);
    }
    match r.peek_ws() {
        Some(b']') => r.pos += 1,
        Some(b',') if !first => {
            r.pos += 1;
            with_builder(|builder| builder.elements(&mut r, skip, limits.max_depth, out))?;
        }
        _ if first => {
            with_builder(|builder| builder.elements(&mut r, skip, limits.max_depth, out))?;
        }
        _ => return Err(r.err_eof_or(SyntaxError::ExpectedCommaOrBracket)),
    }
    if let Err(e) = r.end() {
        out.clear();
        return Err(e);
    }
    Ok(())
}

impl Builder {
    /// The elements of the packet's array up to its `]`, the first `skip` of them skipped
    /// (validated); `r` sits on the first element.
    fn elements(
        &mut self,
        r: &mut Reader<'_>,
        skip: usize,
        max_depth: usize,
        out: &mut Vec<Value>,
    ) -> Result<(), Error> {
        // The packet's array is an open frame of the builder: elements are built directly
        // in its slots, then moved into a vector of exactly the right size.
        self.frames.push(Frame::Array(self.top));
        let mut index = 0usize;
        loop {
            if index < skip {
                r.skip_value(1, max_depth)?;
            } else {
                self.value(r, 1, max_depth)?;
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
        *out = take_slots(&mut self.vals, 0, self.top);
        // Every slot is empty again and the packet's frame is closed.
        self.top = 0;
        self.frames.clear();
        Ok(())
    }
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
    array_first_str_in(input, None)
}

/// `text`, when given, is `input` as a `str` (then nothing is checked for UTF-8 again).
pub(crate) fn array_first_str_in<'a>(
    input: &'a [u8],
    text: Option<&'a str>,
) -> Result<(Cow<'a, str>, usize), Error> {
    let utf8 = |s: usize, e: usize| -> Result<&'a str, Error> {
        match text {
            Some(t) => t
                .get(s..e)
                .ok_or(Error::syntax(s, SyntaxError::InvalidUtf8)),
            None => utf8(input.get(s..e).unwrap_or_default(), s),
        }
    };
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
            Cow::Borrowed(utf8(start, end)?)
        }
        Some(b'\\') => {
            // Only the string itself is validated, run by run: the rest of the input is not
            // looked at.
            let mut owned = String::new();
            let mut i = start;
            loop {
                let run_end = find_special(input, i);
                owned.push_str(utf8(i, run_end)?);
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
