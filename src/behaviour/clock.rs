//! Time as the mock sees it: the real clock plus a per-session offset that
//! tests move forward through the admin API, so that "ready after 5 s" is
//! tested without waiting. Timestamps are RFC 3339 in UTC.

use std::time::{SystemTime, UNIX_EPOCH};

/// Milliseconds since the Unix epoch, real time.
pub fn real_now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// Microseconds since the Unix epoch, real time.
pub fn real_now_us() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_micros() as i64)
        .unwrap_or(0)
}

/// `2026-11-22T10:04:05.123456Z`: the precision of Django and PostgreSQL.
pub fn format_datetime_us(us: i64) -> String {
    let mut text = String::with_capacity(27);
    push_datetime(&mut text, us.div_euclid(1_000_000) * 1000);
    let micros = us.rem_euclid(1_000_000);
    text.push('.');
    for divisor in [100_000, 10_000, 1000, 100, 10, 1] {
        text.push(digit(micros / divisor % 10));
    }
    text.push('Z');
    text
}

/// `2026-11-22T10:04:05Z`.
pub fn format_datetime(ms: i64) -> String {
    let mut text = String::with_capacity(20);
    push_datetime(&mut text, ms);
    text.push('Z');
    text
}

/// Writes `2026-11-22T10:04:05` (no zone). Written digit by digit: every
/// created item stamps the time, and `format!` cost more than the rest of
/// a stamp.
fn push_datetime(text: &mut String, ms: i64) {
    let seconds = ms.div_euclid(1000);
    let (days, rest) = (seconds.div_euclid(86_400), seconds.rem_euclid(86_400));
    push_days(text, days);
    text.push('T');
    push_two(text, rest / 3600);
    text.push(':');
    push_two(text, rest % 3600 / 60);
    text.push(':');
    push_two(text, rest % 60);
}

/// `2026-11-22`.
pub fn format_date(ms: i64) -> String {
    let mut text = String::with_capacity(10);
    push_days(&mut text, ms.div_euclid(1000).div_euclid(86_400));
    text
}

/// Writes the date `days` after the epoch.
fn push_days(text: &mut String, days: i64) {
    let (y, m, d) = civil_from_days(days);
    if (0..=9999).contains(&y) {
        for divisor in [1000, 100, 10, 1] {
            text.push(digit(y / divisor % 10));
        }
    } else {
        text.push_str(&format!("{y:04}"));
    }
    text.push('-');
    push_two(text, i64::from(m));
    text.push('-');
    push_two(text, i64::from(d));
}

fn push_two(text: &mut String, n: i64) {
    text.push(digit(n / 10 % 10));
    text.push(digit(n % 10));
}

fn digit(n: i64) -> char {
    char::from(b'0' + n.rem_euclid(10) as u8)
}

/// Reads an RFC 3339 date-time or a full date into milliseconds since the epoch.
pub fn parse_timestamp(text: &str) -> Option<i64> {
    let b = text.as_bytes();
    if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let year: i64 = text.get(0..4)?.parse().ok()?;
    let month: u32 = text.get(5..7)?.parse().ok()?;
    let day: u32 = text.get(8..10)?.parse().ok()?;
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return None;
    }
    let days = days_from_civil(year, month, day);
    if b.len() == 10 {
        return Some(days * 86_400_000);
    }
    if !matches!(b[10], b'T' | b't' | b' ') || b.len() < 19 || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let hour: i64 = text.get(11..13)?.parse().ok()?;
    let minute: i64 = text.get(14..16)?.parse().ok()?;
    let second: i64 = text.get(17..19)?.parse().ok()?;
    let mut rest = text.get(19..)?;
    let mut millis = 0i64;
    if let Some(fraction) = rest.strip_prefix('.') {
        let digits = fraction.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return None;
        }
        let padded = format!("{:0<3}", &fraction[..digits.min(3)]);
        millis = padded.parse().ok()?;
        rest = &fraction[digits..];
    }
    let offset_minutes = match rest {
        "Z" | "z" | "" => 0,
        _ => {
            let sign = match rest.as_bytes().first()? {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            let h: i64 = rest.get(1..3)?.parse().ok()?;
            let m: i64 = rest.get(4..6)?.parse().ok()?;
            sign * (h * 60 + m)
        }
    };
    let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offset_minutes * 60;
    Some(seconds * 1000 + millis)
}

// Howard Hinnant's algorithms for the proleptic Gregorian calendar.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn microseconds_are_written_in_full() {
        assert_eq!(format_datetime_us(0), "1970-01-01T00:00:00.000000Z");
        assert_eq!(
            format_datetime_us(1_795_000_000_000_123),
            "2026-11-18T11:06:40.000123Z"
        );
        let stamp = format_datetime_us(1_795_000_000_987_654);
        assert_eq!(parse_timestamp(&stamp), Some(1_795_000_000_987));
    }

    #[test]
    fn formats_and_parses_round_trip() {
        let ms = 1_795_000_000_000;
        let text = format_datetime(ms);
        assert_eq!(text, "2026-11-18T11:06:40Z");
        assert_eq!(parse_timestamp(&text), Some(ms));
        assert_eq!(format_date(ms), "2026-11-18");
        assert_eq!(parse_timestamp("1970-01-01"), Some(0));
        assert_eq!(
            parse_timestamp("2000-03-01T00:00:00.5+01:00"),
            Some(951_865_200_500)
        );
    }

    #[test]
    fn digit_by_digit_matches_format() {
        let day = 86_400_000_i64;
        for ms in [
            0,
            -1,
            -62_000_000_000_000,
            1_795_000_000_000 + 3_599_999,
            253_402_300_799_999,
            253_402_300_800_000,
            day * 365 * 3 + 7 * 3_600_000 + 5 * 60_000 + 9_000,
        ] {
            let seconds = ms.div_euclid(1000);
            let (days, rest) = (seconds.div_euclid(86_400), seconds.rem_euclid(86_400));
            let (y, m, d) = civil_from_days(days);
            let expected = format!(
                "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
                rest / 3600,
                rest % 3600 / 60,
                rest % 60
            );
            assert_eq!(format_datetime(ms), expected, "{ms}");
            assert_eq!(format_date(ms), expected[..expected.len() - 10], "{ms}");
        }
    }

    #[test]
    fn refuses_what_is_not_a_timestamp() {
        for bad in [
            "",
            "yesterday",
            "2026-13-01",
            "2026-11-22T10:00",
            "2026-11-22X10:00:00Z",
        ] {
            assert_eq!(parse_timestamp(bad), None, "{bad}");
        }
    }
}
