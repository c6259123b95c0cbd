//! Time-stamp grammars shared by several formats.
//!
//! Why this module exists: the same handful of date shapes recur across formats (ISO 8601 with up to
//! nine fractional digits in event XML and Exchange logs, culture-formatted local dates in Event
//! Viewer and Format-List text). Each is parsed here once, and each returns the [`TsKind`] that says
//! how far the value can be trusted.

use crate::model::TsKind;
use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Utc};

/// ISO 8601 / RFC 3339 with `Z` or an offset, any number of fractional digits
/// (`2021-11-19T16:52:33.8337335Z`, `2021-11-17T19:31:45+01:00`, `2019-01-25T00:03:58.478Z`).
/// Without a zone the value is returned as [`TsKind::Local`].
pub fn iso(s: &str) -> Option<(DateTime<Utc>, TsKind)> {
    let s = s.trim();
    if s.len() < 19 {
        return None;
    }
    let b = s.as_bytes();
    if b[4] != b'-' || b[7] != b'-' || !(b[10] == b'T' || b[10] == b' ') {
        return None;
    }
    // `get`: the bytes checked above are ASCII, but a multi-byte character may sit elsewhere.
    let date = NaiveDate::parse_from_str(s.get(..10)?, "%Y-%m-%d").ok()?;
    let hms = NaiveTime::parse_from_str(s.get(11..19)?, "%H:%M:%S").ok()?;
    let mut rest = s.get(19..)?;
    let mut nanos: u32 = 0;
    if let Some(frac) = rest.strip_prefix(['.', ',']) {
        let digits = frac.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return None;
        }
        let mut n: u64 = 0;
        for (i, d) in frac.bytes().take(digits).enumerate() {
            if i < 9 {
                n = n * 10 + u64::from(d - b'0');
            }
        }
        for _ in digits..9 {
            n *= 10;
        }
        nanos = u32::try_from(n).ok()?;
        rest = &frac[digits..];
    }
    let naive = NaiveDateTime::new(date, hms)
        .checked_add_signed(chrono::Duration::nanoseconds(i64::from(nanos)))?;
    let rest = rest.trim();
    if rest.is_empty() {
        return Some((naive.and_utc(), TsKind::Local));
    }
    if rest == "Z" || rest.eq_ignore_ascii_case("utc") {
        return Some((naive.and_utc(), TsKind::Utc));
    }
    let sign = match rest.as_bytes()[0] {
        b'+' => 1i64,
        b'-' => -1i64,
        _ => return None,
    };
    let off = &rest[1..];
    let (h, m) = if let Some((h, m)) = off.split_once(':') {
        (h, m)
    } else if off.len() == 4 {
        (off.get(..2)?, off.get(2..)?)
    } else {
        (off, "0")
    };
    let h: i64 = h.parse().ok()?;
    let m: i64 = m.parse().ok()?;
    if h > 14 || m > 59 {
        return None;
    }
    let utc = naive - chrono::Duration::minutes(sign * (h * 60 + m));
    Some((utc.and_utc(), TsKind::Utc))
}

/// Culture-formatted local date and time, as Event Viewer, Get-WinEvent CSV and Format-List print
/// them: `4/16/2020 3:47:36 PM` (US, month first), `23-9-2010 17:06:55` (day first),
/// `2020-04-16 15:47:36`, `16.04.2020 15:47:36`. Returned as [`TsKind::Local`] (the wall-clock value
/// stored as UTC). When day and month are both ≤ 12 the order is ambiguous: `/` means month first
/// (US), `-` and `.` mean day first.
pub fn local(s: &str) -> Option<(DateTime<Utc>, TsKind)> {
    let s = s.trim();
    if let Some(iso) = iso(s) {
        return Some(iso);
    }
    let (date_part, time_part) = s.split_once([' ', 'T'])?;
    let time_part = time_part.trim();
    let sep = date_part.chars().find(|c| matches!(c, '/' | '-' | '.'))?;
    let nums: Vec<&str> = date_part.split(sep).collect();
    if nums.len() != 3 {
        return None;
    }
    let a: u32 = nums[0].parse().ok()?;
    let b: u32 = nums[1].parse().ok()?;
    let y: i32 = nums[2].parse().ok()?;
    let y = if y < 100 { 2000 + y } else { y };
    let month_first = a <= 12 && (b > 12 || sep == '/');
    let (month, day) = if month_first { (a, b) } else { (b, a) };
    let date = NaiveDate::from_ymd_opt(y, month, day)?;
    let upper = time_part.to_ascii_uppercase();
    let (clock, pm, am) = if let Some(c) = upper.strip_suffix("PM") {
        (c.trim().to_string(), true, false)
    } else if let Some(c) = upper.strip_suffix("AM") {
        (c.trim().to_string(), false, true)
    } else {
        (upper.clone(), false, false)
    };
    let parts: Vec<&str> = clock.split(':').collect();
    if parts.len() < 2 {
        return None;
    }
    let mut h: u32 = parts[0].trim().parse().ok()?;
    let m: u32 = parts[1].trim().parse().ok()?;
    let (sec, frac) = match parts.get(2) {
        Some(sf) => {
            let (sec, frac) = sf.split_once(['.', ',']).unwrap_or((sf, ""));
            (sec.trim().parse::<u32>().ok()?, frac)
        }
        None => (0, ""),
    };
    if pm && h < 12 {
        h += 12;
    }
    if am && h == 12 {
        h = 0;
    }
    let mut t = NaiveTime::from_hms_opt(h, m, sec)?;
    if !frac.is_empty() && frac.bytes().all(|c| c.is_ascii_digit()) {
        let ms: u32 = frac
            .chars()
            .chain("000".chars())
            .take(3)
            .collect::<String>()
            .parse()
            .ok()?;
        t = NaiveTime::from_hms_milli_opt(h, m, sec, ms)?;
    }
    Some((NaiveDateTime::new(date, t).and_utc(), TsKind::Local))
}

/// Any of the shapes above.
pub fn any(s: &str) -> Option<(DateTime<Utc>, TsKind)> {
    iso(s).or_else(|| local(s))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fmt(r: Option<(DateTime<Utc>, TsKind)>) -> String {
        match r {
            Some((t, k)) => format!(
                "{} {:?}",
                t.to_rfc3339_opts(chrono::SecondsFormat::Nanos, true),
                k
            ),
            None => "none".into(),
        }
    }

    #[test]
    fn iso_shapes() {
        assert_eq!(
            fmt(iso("2021-11-19T16:52:33.8337335Z")),
            "2021-11-19T16:52:33.833733500Z Utc"
        );
        assert_eq!(
            fmt(iso("2021-11-17T19:31:45+01:00")),
            "2021-11-17T18:31:45.000000000Z Utc"
        );
        assert_eq!(
            fmt(iso("2019-01-25T00:03:58.478Z")),
            "2019-01-25T00:03:58.478000000Z Utc"
        );
        assert_eq!(
            fmt(iso("2010-09-23T15:06:55.000000000Z")),
            "2010-09-23T15:06:55.000000000Z Utc"
        );
        assert_eq!(fmt(iso("2020-13-01T00:00:00Z")), "none");
        assert_eq!(fmt(iso("garbage")), "none");
    }

    #[test]
    fn local_shapes() {
        assert_eq!(
            fmt(local("4/16/2020 3:47:36 PM")),
            "2020-04-16T15:47:36.000000000Z Local"
        );
        assert_eq!(
            fmt(local("23-9-2010 17:06:55")),
            "2010-09-23T17:06:55.000000000Z Local"
        );
        assert_eq!(
            fmt(local("10/7/2016 06:38:24 PM")),
            "2016-10-07T18:38:24.000000000Z Local"
        );
        assert_eq!(
            fmt(local("11/23/2018 18:34:03")),
            "2018-11-23T18:34:03.000000000Z Local"
        );
        assert_eq!(
            fmt(local("5/21/2013 12:23")),
            "2013-05-21T12:23:00.000000000Z Local"
        );
        assert_eq!(
            fmt(local("1/1/2020 12:05:00 AM")),
            "2020-01-01T00:05:00.000000000Z Local"
        );
        assert_eq!(
            fmt(local("16.04.2020 15:47:36")),
            "2020-04-16T15:47:36.000000000Z Local"
        );
        assert_eq!(fmt(local("not a date")), "none");
    }
}
