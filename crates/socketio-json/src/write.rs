//! Output primitives shared by the direct `Value` writer and the serde `Serializer`. The bytes
//! are identical to serde_json's compact output.

use serde_json::ser::Formatter as _;
use serde_json::{Number, Value};

use crate::read::{load_short, special_mask};

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Writes `s` as a JSON string, escaping exactly what serde_json escapes.
#[inline]
pub(crate) fn str(out: &mut Vec<u8>, s: &str) {
    quoted(out, b"\"", s.as_bytes(), b"\"");
}

/// Writes an object key with its separators: `"k":` for the first member, `,"k":` after.
#[inline]
pub(crate) fn key(out: &mut Vec<u8>, k: &str, first: bool) {
    if first {
        quoted(out, b"\"", k.as_bytes(), b"\":");
    } else {
        quoted(out, b",\"", k.as_bytes(), b"\":");
    }
}

/// Writes `open`, the escaped `bytes`, then `close` (`open`/`close` are at most 2 bytes, e.g.
/// `,"` and `":` around an object key).
///
/// Copies 8 bytes at a time: each word is stored whole (even past the end of the string; the
/// excess is cut off with `truncate`), so short strings cost a few word stores instead of a
/// `memcpy` call, and the same word is checked for bytes needing an escape.
#[inline(always)]
fn quoted(out: &mut Vec<u8>, open: &[u8], mut bytes: &[u8], close: &[u8]) {
    // Most keys and many values are at most 8 bytes: then `open`, the text and `close` are
    // assembled in one 128-bit word and written with a single store.
    let n = bytes.len();
    if n <= 8 && open.len() <= 2 && close.len() <= 2 {
        let w = match bytes.first_chunk::<8>() {
            Some(c) => u64::from_le_bytes(*c),
            None => load_short(bytes, b' '),
        };
        if special_mask(w) == 0 {
            let text = if n < 8 {
                w & ((1u64 << (8 * n)) - 1)
            } else {
                w
            };
            let word = |b: &[u8]| {
                b.iter()
                    .rev()
                    .fold(0u128, |acc, &x| (acc << 8) | u128::from(x))
            };
            let (ol, cl) = (open.len(), close.len());
            let v = word(open) | u128::from(text) << (8 * ol) | word(close) << (8 * (ol + n));
            out.extend_from_slice(&v.to_le_bytes());
            out.truncate(out.len() + ol + n + cl - 16);
            return;
        }
    }
    out.reserve(bytes.len() + 12);
    out.extend_from_slice(open);
    loop {
        let (w, n) = match bytes.first_chunk::<8>() {
            Some(c) => (u64::from_le_bytes(*c), 8),
            None if bytes.is_empty() => break,
            // Pad with spaces, which never need escaping.
            None => (load_short(bytes, b' '), bytes.len()),
        };
        out.extend_from_slice(&w.to_le_bytes());
        let m = special_mask(w);
        if m == 0 {
            if n < 8 {
                out.truncate(out.len() + n - 8);
                break;
            }
            bytes = bytes.get(8..).unwrap_or_default();
            continue;
        }
        let k = (m.trailing_zeros() / 8) as usize;
        out.truncate(out.len() + k - 8);
        escape(out, bytes.get(k).copied().unwrap_or_default());
        bytes = bytes.get(k + 1..).unwrap_or_default();
    }
    out.extend_from_slice(close);
}

#[cold]
fn escape(out: &mut Vec<u8>, b: u8) {
    let short = match b {
        b'"' => b'"',
        b'\\' => b'\\',
        b'\n' => b'n',
        b'\r' => b'r',
        b'\t' => b't',
        0x08 => b'b',
        0x0c => b'f',
        _ => {
            out.extend_from_slice(b"\\u00");
            out.push(HEX[usize::from(b >> 4)]);
            out.push(HEX[usize::from(b & 0xf)]);
            return;
        }
    };
    out.push(b'\\');
    out.push(short);
}

const DIGITS2: &[u8; 200] = b"\
    0001020304050607080910111213141516171819\
    2021222324252627282930313233343536373839\
    4041424344454647484950515253545556575859\
    6061626364656667686970717273747576777879\
    8081828384858687888990919293949596979899";

/// The two ASCII digits of `d` (< 100) as a little-endian `u16`.
#[inline(always)]
fn pair(d: u64) -> u128 {
    let i = d as usize * 2;
    match DIGITS2.get(i..i + 2) {
        Some(&[a, b]) => u128::from(u16::from_le_bytes([a, b])),
        _ => 0,
    }
}

/// Same text as itoa (and so serde_json). Up to 16 digits are assembled in a 128-bit register
/// and written with one store, then the excess is cut with `truncate`: a digit buffer in
/// memory would be written in small pieces and read back whole, a store-forwarding stall.
#[inline]
pub(crate) fn u64(out: &mut Vec<u8>, mut v: u64) {
    let len = v.checked_ilog10().map_or(1, |l| l as usize + 1);
    if len > 16 {
        out.extend_from_slice(itoa::Buffer::new().format(v).as_bytes());
        return;
    }
    let mut word: u128 = 0;
    let mut i = len;
    while v >= 100 {
        i -= 2;
        word |= pair(v % 100) << (8 * i);
        v /= 100;
    }
    word |= if v >= 10 {
        pair(v)
    } else {
        u128::from(b'0' + v as u8)
    };
    out.extend_from_slice(&word.to_le_bytes());
    out.truncate(out.len() + len - 16);
}

#[inline]
pub(crate) fn i64(out: &mut Vec<u8>, v: i64) {
    if v < 0 {
        out.push(b'-');
    }
    u64(out, v.unsigned_abs());
}

/// Non-finite floats become `null`, as in serde_json. The text is serde_json's (its formatter
/// prints the shortest decimal that parses back to `v`, with zmij): short decimals are written
/// here directly (see [`f64_or`]), everything else by serde_json's own formatter. Not inlined:
/// one copy serves the `Value` writer and the serializer, and [`number`]'s integers need no
/// registers saved for it.
#[inline(never)]
pub(crate) fn f64(out: &mut Vec<u8>, v: f64) {
    f64_or(out, v, f64_slow);
}

#[inline(never)]
fn f64_slow(out: &mut Vec<u8>, v: f64) {
    if v.is_finite() {
        // Writing into a Vec cannot fail.
        let _ = serde_json::ser::CompactFormatter.write_f64(out, v);
    } else {
        out.extend_from_slice(b"null");
    }
}

/// The decimal digits of `v = a | b << 32` (`a`, `b` < 10^4) as byte values 0..=9: the 4
/// digits of `a` (with leading zeros) in bytes 0..4, most significant first, then those of
/// `b`. Each 32-bit lane is split by 100, then each 16-bit lane by 10, all lanes at once (the
/// multiply-and-shift quotients are exact below 10^4 and 100, and no lane's product reaches
/// the bits its neighbour keeps).
#[inline(always)]
fn digits4x2(v: u64) -> u64 {
    let q = ((v * 10_486) >> 20) & 0x0000_007f_0000_007f;
    let v = (v - q * 100) << 16 | q;
    let q = ((v * 103) >> 10) & 0x000f_000f_000f_000f;
    (v - q * 10) << 8 | q
}

/// The 8 decimal digits of `n` (< 10^8, with leading zeros) as byte values 0..=9, the most
/// significant in byte 0.
#[inline(always)]
fn digits8(n: u64) -> u64 {
    let hi = n / 10_000;
    digits4x2(hi | (n - hi * 10_000) << 32)
}

const ASCII_ZEROS: u64 = 0x3030_3030_3030_3030;

/// Writes `v` exactly as serde_json (zmij) prints it if `v` is zero, an integer below 2^53,
/// or a decimal with at most 8 fractional digits and 2^-11 <= |v| < 2^26 (and `out` has 16
/// bytes of spare capacity, so that the common path makes no call). Every other value goes
/// to `slow`, with nothing written. The common path (at most 4 integral and 4 fractional
/// digits) is inline; the others are tail calls, so it saves few registers.
///
/// Why these are zmij's digits: `v = m * 2^-s` with `2^52 <= m < 2^53`. For `27 <= s <= 63`
/// the rounding interval of `v` (the reals that parse back to `v`) is `v ± 2^-s / 2` (only
/// `[v - 2^-s / 4, v + 2^-s / 2]` when `m = 2^52`, see below), narrower than the spacing
/// 10^-K of K-digit fractions for K = 4 and 8 (10^8 < 2^27 <= 2^s): at most one decimal `D`
/// with K fractional digits lies in it. If one does, `D` without its trailing zeros is the
/// shortest decimal in the interval: any decimal in it with no more significant digits than
/// `D` has its last digit at 10^-K or above (it has about the same magnitude; across a power
/// of ten the one above has one more integral digit), so it is on the same grid and is `D`.
/// Being the only shortest one, it is what zmij's shortest-then-closest search returns.
///
/// The test: with the fraction bits as a 64-bit fixed-point fraction `q = (m mod 2^s) *
/// 2^(64-s)` and `h = 10^K * 2^(64-s) / 2` (an integer below 2^63), `D = (m >> s) + g *
/// 10^-K` is in the interval when `|q * 10^K - g * 2^64| <= h`, that is `(q * 10^K + h) mod
/// 2^64 <= 2h` with `g = (q * 10^K + h) >> 64`. A tie (a `D` exactly half an ulp away, where
/// rounding to even would matter) cannot occur: `D * 2^(s+1)` would be odd, but it is `d *
/// 2^(s+1-K) / 5^K` for an integer `d`, even as `s >= K`. `g = 10^K` cannot pass (it is at
/// least `2h` away), so `g < 10^K`. For `m = 2^52` (`v` a power of two: an integer, or
/// `2^-j` with `1 <= j <= 11`) the symmetric test is still exact: `2^-j` has exactly `j`
/// fractional digits, so for `j <= K` it is `D` itself, and for `j > K` every K-digit
/// decimal is at least 10^-j from it, far outside the interval.
///
/// Format: zmij prints these in fixed notation (their decimal exponent, -4..=15, is inside
/// its fixed range -5..=15): `-` when negative (also `-0.0`), the integral part, `.`, and the
/// fraction digits without trailing zeros, or `0` when there are none (`3.0`, `0.0`).
#[inline(always)]
pub(crate) fn f64_or<S: FnOnce(&mut Vec<u8>, f64)>(out: &mut Vec<u8>, v: f64, slow: S) {
    let bits = v.to_bits();
    let m = bits & ((1 << 52) - 1) | 1 << 52;
    // `r = 64 - s`.
    let r = ((bits >> 52) & 0x7ff) as i64 - 1011;
    if !(1..=37).contains(&r) {
        return f64_rest(out, v, slow);
    }
    if out.capacity() - out.len() < 16 {
        return slow(out, v);
    }
    // The fraction bits as a 64-bit fixed-point fraction, and the integral part.
    let wide = u128::from(m) << r;
    let (q, int) = (wide as u64, (wide >> 64) as u64);
    // The 4-digit test, then the 8-digit one.
    let h = 5_000u64 << r;
    let x = u128::from(q) * 10_000 + u128::from(h);
    if x as u64 > 2 * h || int >= 10_000 {
        return f64_8(out, v, slow);
    }
    // Up to 4 integral and 4 fractional digits: one conversion.
    let w = digits4x2(int | ((x >> 64) as u64) << 32);
    // Leading zeros of the integral part (keeping its last digit) and trailing zeros of the
    // fraction (keeping its first digit).
    let lead = (w | 1 << 24).trailing_zeros() / 8;
    let frac_len = 4 - (w | 1 << 32).leading_zeros() / 8;
    // `0`, the 4 integral digits, `.`, the 4 fraction digits (in `lo` and `hi`); a `-`
    // replaces the `0` before the first integral digit kept.
    let neg = (bits >> 63) as u32;
    let digits = (w & 0xffff_ffff) << 8 | w >> 32 << 48;
    let lo =
        (digits + 0x3030_2e30_3030_3030) ^ (u64::from(neg * u32::from(b'-' ^ b'0')) << (8 * lead));
    let hi = (w >> 48) + 0x3030;
    let word = (u128::from(hi) << 64 | u128::from(lo)) >> (8 * (1 + lead - neg));
    out.extend_from_slice(&word.to_le_bytes());
    out.truncate(out.len() + (5 + frac_len + neg - lead) as usize - 16);
}

/// [`f64_or`] after the 4-digit test failed or found more than 4 integral digits: the
/// 8-digit test (`2^-11 <= |v| < 2^26`).
#[inline(never)]
fn f64_8<S: FnOnce(&mut Vec<u8>, f64)>(out: &mut Vec<u8>, v: f64, slow: S) {
    let bits = v.to_bits();
    let m = bits & ((1 << 52) - 1) | 1 << 52;
    let r = ((bits >> 52) & 0x7ff) as i64 - 1011;
    let h = 50_000_000u64 << r;
    let x = u128::from(m << r) * 100_000_000 + u128::from(h);
    if x as u64 > 2 * h {
        return slow(out, v);
    }
    f64_digits8(out, bits >> 63 != 0, m >> (64 - r), (x >> 64) as u64);
}

/// Writes the sign, the integral part `int` (< 2^26) and the 8 fraction digits `g` (< 10^8)
/// without their trailing zeros (at least one).
#[inline(never)]
fn f64_digits8(out: &mut Vec<u8>, neg: bool, int: u64, g: u64) {
    if neg {
        out.push(b'-');
    }
    u64(out, int);
    // `.` and the fraction digits without their trailing zeros (at least one digit).
    let frac = digits8(g);
    let frac_len = 8 - (frac | 1).leading_zeros() / 8;
    let word = u128::from(b'.') | u128::from(frac + ASCII_ZEROS) << 8;
    out.extend_from_slice(&word.to_le_bytes());
    out.truncate(out.len() + 1 + frac_len as usize - 16);
}

/// [`f64_or`] outside `2^-11 <= |v| < 2^26`: zero, and integers below 2^53. Such an integer
/// is the only integer in its rounding interval (the interval is at most `v ± 1/2`, and
/// `v ± 1/2` is not an integer), and a decimal with fewer significant digits would be an
/// integer too, so zmij prints its digits, in fixed notation up to 10^16.
#[inline(never)]
fn f64_rest<S: FnOnce(&mut Vec<u8>, f64)>(out: &mut Vec<u8>, v: f64, slow: S) {
    let bits = v.to_bits();
    if bits << 1 == 0 {
        // Two calls, each copying a fixed size (no `memcpy` call).
        if bits == 0 {
            out.extend_from_slice(b"0.0");
        } else {
            out.extend_from_slice(b"-0.0");
        }
        return;
    }
    let m = bits & ((1 << 52) - 1) | 1 << 52;
    let s = 1075 - ((bits >> 52) & 0x7ff) as i64;
    if !(0..27).contains(&s) || m & ((1 << s) - 1) != 0 {
        return slow(out, v);
    }
    f64_int(out, bits >> 63 != 0, m >> s);
}

/// An integral float below 2^53 (apart from its sign): its digits, then `.0`. Kept out of
/// [`f64_rest`] so that the values it rejects cost no saved registers.
#[inline(never)]
fn f64_int(out: &mut Vec<u8>, neg: bool, int: u64) {
    if neg {
        out.push(b'-');
    }
    u64(out, int);
    out.extend_from_slice(b".0");
}

#[inline]
pub(crate) fn f32(out: &mut Vec<u8>, v: f32) {
    if v.is_finite() {
        let _ = serde_json::ser::CompactFormatter.write_f32(out, v);
    } else {
        out.extend_from_slice(b"null");
    }
}

#[inline]
pub(crate) fn number(out: &mut Vec<u8>, n: &Number) {
    if let Some(u) = n.as_u64() {
        u64(out, u);
    } else if let Some(i) = n.as_i64() {
        i64(out, i);
    } else if let Some(f) = n.as_f64() {
        f64(out, f);
    } else {
        // Only reachable with serde_json's `arbitrary_precision`: let serde_json print it.
        let _ = serde_json::to_writer(out, n);
    }
}

/// The direct `Value` writer.
pub(crate) fn value(out: &mut Vec<u8>, v: &Value) {
    item(out, b"", v);
}

/// Writes `sep` (empty or `,`) and then `v`. Scalars are written inline; only arrays and
/// objects cost a (recursive) call.
#[inline(always)]
fn item(out: &mut Vec<u8>, sep: &[u8], v: &Value) {
    match v {
        Value::String(s) => {
            if sep.is_empty() {
                quoted(out, b"\"", s.as_bytes(), b"\"");
            } else {
                quoted(out, b",\"", s.as_bytes(), b"\"");
            }
        }
        Value::Number(n) => {
            out.extend_from_slice(sep);
            number(out, n);
        }
        Value::Null => {
            out.extend_from_slice(sep);
            out.extend_from_slice(b"null");
        }
        Value::Bool(true) => {
            out.extend_from_slice(sep);
            out.extend_from_slice(b"true");
        }
        Value::Bool(false) => {
            out.extend_from_slice(sep);
            out.extend_from_slice(b"false");
        }
        Value::Array(a) => {
            out.extend_from_slice(sep);
            array(out, a);
        }
        Value::Object(m) => {
            out.extend_from_slice(sep);
            object(out, m);
        }
    }
}

fn array(out: &mut Vec<u8>, a: &[Value]) {
    out.push(b'[');
    let mut it = a.iter();
    if let Some(first) = it.next() {
        item(out, b"", first);
        for x in it {
            item(out, b",", x);
        }
    }
    out.push(b']');
}

fn object(out: &mut Vec<u8>, m: &serde_json::Map<String, Value>) {
    out.push(b'{');
    let mut it = m.iter();
    if let Some((k, x)) = it.next() {
        quoted(out, b"\"", k.as_bytes(), b"\":");
        item(out, b"", x);
        for (k, x) in it {
            quoted(out, b",\"", k.as_bytes(), b"\":");
            item(out, b"", x);
        }
    }
    out.push(b'}');
}
