//! JavaScript `Date` → the string `JSON.stringify` gives it (`Date.prototype.toISOString`).
//!
//! A `Date` decoded from notepack's fixext 8 becomes this string, so that a Rust handler sees the
//! same value whether the peer used the msgpack parser or the JSON one (where `JSON.stringify`
//! turns the `Date` into this string before it leaves the peer).

use std::fmt::Write;

/// JavaScript's time value range: ±100,000,000 days around the epoch.
const MAX_MILLIS: i64 = 8_640_000_000_000_000;

/// `Some("2026-11-25T11:31:38.000Z")`, or `None` for an invalid date (`JSON.stringify` writes
/// `null`).
pub(crate) fn iso_string(millis: i64) -> Option<String> {
    if !(-MAX_MILLIS..=MAX_MILLIS).contains(&millis) {
        return None;
    }
    let days = millis.div_euclid(86_400_000);
    let ms_of_day = millis.rem_euclid(86_400_000);
    let (y, m, d) = civil_from_days(days);
    let (h, min, s, ms) = (
        ms_of_day / 3_600_000,
        ms_of_day / 60_000 % 60,
        ms_of_day / 1000 % 60,
        ms_of_day % 1000,
    );
    let mut out = String::with_capacity(27);
    // `write!` into a String cannot fail.
    let _ = if (0..=9999).contains(&y) {
        write!(out, "{y:04}")
    } else if y < 0 {
        write!(out, "-{:06}", -y)
    } else {
        write!(out, "+{y:06}")
    };
    let _ = write!(out, "-{m:02}-{d:02}T{h:02}:{min:02}:{s:02}.{ms:03}Z");
    Some(out)
}

/// Proleptic Gregorian date of a day count since 1970-01-01 (Howard Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::iso_string;

    #[test]
    fn like_to_iso_string() {
        assert_eq!(iso_string(0).as_deref(), Some("1970-01-01T00:00:00.000Z"));
        assert_eq!(
            iso_string(1_795_606_298_123).as_deref(),
            Some("2026-11-25T11:31:38.123Z")
        );
        assert_eq!(iso_string(-1).as_deref(), Some("1969-12-31T23:59:59.999Z"));
        assert_eq!(
            iso_string(951_782_400_000).as_deref(),
            Some("2000-02-29T00:00:00.000Z")
        );
        assert_eq!(
            iso_string(8_640_000_000_000_000).as_deref(),
            Some("+275760-09-13T00:00:00.000Z")
        );
        assert_eq!(
            iso_string(-8_640_000_000_000_000).as_deref(),
            Some("-271821-04-20T00:00:00.000Z")
        );
        assert_eq!(
            iso_string(-62_198_755_200_000).as_deref(),
            Some("-000001-01-01T00:00:00.000Z")
        );
        assert_eq!(iso_string(8_640_000_000_000_001), None);
    }
}
