//! Cisco IM and Presence trace files: SDI (SIP Proxy `esp`, Presence Engine `epe`), XCP and the
//! log4j logs of the Java services (formats.md §8.2).
//!
//! Why this module exists: the evidence for a broken Exchange calendar integration on a Cisco IM
//! and Presence node (EWS errors seen by the Presence Engine, SIP Proxy routing, a service that
//! does not start) lives in these three line-oriented trace families. Each line starting with a
//! time stamp becomes one `Body::LogRow` (`cisco-sdi`, `cisco-xcp`, `cisco-log4j`); lines that do
//! not start a record (SIP headers, stack traces) are folded into the previous record's `msg`.
//!
//! SDI and XCP lines carry only a time of day: the date comes from an embedded ctime prefix, the
//! file name (or an enclosing archive name), or the file's time, with midnight roll-over, and is
//! otherwise left unknown with an explicit `date_unknown` flag (never guessed). Because roll-over
//! needs the whole file in order, SDI and XCP are parsed whole; log4j lines carry a full date and
//! are chunkable ([`split_log4j`]).
//!
//! Grammars and status markers: `grammars/cisco-sdi.md`, `grammars/cisco-xcp.md`,
//! `grammars/cisco-log4j.md`. Rule names used there: [`parse_sdi`], [`sdi_head`], [`parse_xcp`],
//! [`xcp_head`], [`is_time_line`], [`resolve_dates`], [`name_anchor`], [`parse_log4j`],
//! [`is_log4j_line`], [`split_log4j`].

use super::msdiag::push_bounded;
use super::psobject::DiagSink;
use super::{Chunk, FileCtx};
use crate::model::{
    Body, DiagLevel, Diagnostic, Event, Format, Location, Parsed, Props, TsKind, Value,
};
use chrono::{Duration, NaiveDate, NaiveDateTime, NaiveTime};
use regex::Regex;
use std::sync::LazyLock;

/// Upper bound (bytes) of a record's `msg` (first line plus continuation lines).
pub const MSG_MAX: usize = 16 * 1024;

fn re(pattern: &str) -> Regex {
    Regex::new(pattern).unwrap_or_else(|_| unreachable!("literal regex"))
}

/// SDI line, formats.md §8.2 (published regex; `[0-9]` instead of Unicode `\d`).
static SDI_LINE: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"^\s?(?P<time>[0-9]{1,2}:[0-9]{2}:[0-9]{2}\.[0-9]{3})\s*\|\[?(?:(?P<ctime>[A-Z][a-z]{2} [A-Z][a-z]{2} [0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2} [0-9]{4})\]\s)?P?ID\((?P<pid>[0-9]+)\)\s(?P<src>[\w.]+)\((?P<srcline>[0-9]+)\)\s(?P<msg>.*)$",
    )
});

/// Any `hh:mm:ss.mmm |` line (the sniffer's test): starts an SDI or XCP record.
static TIME_LINE: LazyLock<Regex> =
    LazyLock::new(|| re(r"^\s?(?P<time>[0-9]{1,2}:[0-9]{2}:[0-9]{2}\.[0-9]{3})\s*\|"));

/// An optional `[` and a ctime followed by `]` at the start of the text after `|`.
static CTIME_PREFIX: LazyLock<Regex> = LazyLock::new(|| {
    re(r"^\[?(?P<ctime>[A-Z][a-z]{2} [A-Z][a-z]{2} [0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2} [0-9]{4})\]")
});

/// XCP line, formats.md §8.2, widened like the sniffer (optional leading space, one-digit hour,
/// any white space before `|`).
static XCP_LINE: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"^\s?(?P<time>[0-9]{1,2}:[0-9]{2}:[0-9]{2}\.[0-9]{3})\s*\|(?:(?P<level>debug|info|notice|warning|error|critical)\s)?(?P<src>\S+?)(?::(?P<srcline>[0-9]+))?:?\s(?P<msg>.*)$",
    )
});

/// log4j record start (the sniffer's test).
static LOG4J_HEAD: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"^(?P<date>[0-9]{4}-[0-9]{2}-[0-9]{2}) (?P<time>[0-9]{2}:[0-9]{2}:[0-9]{2}),(?P<ms>[0-9]{3}) (?P<level>TRACE|DEBUG|INFO|WARN|ERROR|FATAL)\s",
    )
});

/// log4j line, formats.md §8.2 (published regex).
static LOG4J_LINE: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2},[0-9]{3} (?:TRACE|DEBUG|INFO|WARN|ERROR|FATAL)\s+\[(?P<thread>[^\]]+)\] (?P<logger>\S+) - (?P<msg>.*)$",
    )
});

/// `YYYY-MM-DD-HHhMMmSSs` (CLI bundle names), `YYYY-MM-DD`, `YYYYMMDD` in a file name.
static NAME_STAMP: LazyLock<Regex> =
    LazyLock::new(|| re(r"([0-9]{4})-([0-9]{2})-([0-9]{2})-([0-9]{2})h([0-9]{2})m([0-9]{2})s"));
static NAME_DATE: LazyLock<Regex> =
    LazyLock::new(|| re(r"(?:^|[^0-9])([0-9]{4})-?([0-9]{2})-?([0-9]{2})(?:[^0-9]|$)"));

/// `h:mm:ss.mmm` or `hh:mm:ss.mmm` as a time, `None` when impossible (hour 25, minute 61).
fn time_of_day(s: &str) -> Option<NaiveTime> {
    let (hms, ms) = s.split_once('.')?;
    let mut it = hms.split(':').map(|p| p.parse::<u32>().ok());
    let (h, m, sec) = (it.next()??, it.next()??, it.next()??);
    NaiveTime::from_hms_milli_opt(h, m, sec, ms.parse().ok()?)
}

/// `Mon Mar 07 22:26:18 2011` (the weekday is not checked).
fn ctime(s: &str) -> Option<NaiveDateTime> {
    NaiveDateTime::parse_from_str(s.get(4..)?, "%b %d %H:%M:%S %Y").ok()
}

/// What a record-start line says, before dates are resolved.
struct Head<'a> {
    time_text: &'a str,
    ctime: Option<&'a str>,
    fields: Vec<(&'static str, &'a str)>,
    msg: &'a str,
}

/// `is_time_line := SP? H{1,2} ":" MM ":" SS "." mmm WS* "|"` — starts an SDI or XCP record.
pub fn is_time_line(line: &str) -> bool {
    TIME_LINE.is_match(line)
}

/// The generic `time |rest` record: `msg` is the whole rest after the first `|`; a ctime prefix
/// at its start still dates the record.
fn generic_head(line: &str) -> Option<Head<'_>> {
    let caps = TIME_LINE.captures(line)?;
    let time_text = caps.name("time")?.as_str();
    let rest = line.get(caps.get(0)?.end()..)?;
    let ctime = CTIME_PREFIX
        .captures(rest)
        .and_then(|c| c.name("ctime"))
        .map(|m| m.as_str());
    Some(Head {
        time_text,
        ctime,
        fields: Vec::new(),
        msg: rest.trim_end(),
    })
}

/// `sdi_head := time "|" ["["] [ctime "]" SP] ["P"] "ID(" pid ")" SP src "(" srcline ")" SP msg`,
/// falling back to the generic `time |rest` record for any other time line (Presence Engine
/// lines are NOT KNOWN).
fn sdi_head(line: &str) -> Option<Head<'_>> {
    let Some(c) = SDI_LINE.captures(line) else {
        return generic_head(line);
    };
    let get = |n: &str| c.name(n).map_or("", |m| m.as_str());
    Some(Head {
        time_text: get("time"),
        ctime: c.name("ctime").map(|m| m.as_str()),
        fields: vec![
            ("pid", get("pid")),
            ("src", get("src")),
            ("srcline", get("srcline")),
        ],
        msg: get("msg").trim_end(),
    })
}

/// `xcp_head := time "|" [level SP] src [":" srcline] [":"] SP msg`, falling back to the generic
/// `time |rest` record.
fn xcp_head(line: &str) -> Option<Head<'_>> {
    let Some(c) = XCP_LINE.captures(line) else {
        return generic_head(line);
    };
    let mut fields = Vec::new();
    for name in ["level", "src", "srcline"] {
        if let Some(m) = c.name(name) {
            fields.push((name, m.as_str()));
        }
    }
    Some(Head {
        time_text: c.name("time").map_or("", |m| m.as_str()),
        ctime: None,
        fields,
        msg: c.name("msg").map_or("", |m| m.as_str()).trim_end(),
    })
}

/// One SDI / XCP record before its date is resolved.
struct TodRec<'a> {
    line: u64,
    offset: usize,
    first: &'a str,
    time_text: &'a str,
    tod: Option<NaiveTime>,
    ctime: Option<NaiveDateTime>,
    fields: Vec<(&'static str, &'a str)>,
    msg: String,
}

/// Where a date anchor sits: a date for the first record, or a date and time for the last one.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Anchor {
    Start(NaiveDate),
    End(NaiveDateTime),
}

/// The date of a time of day `tod` that was written within 12 h of `at`.
fn date_near(at: NaiveDateTime, tod: NaiveTime) -> NaiveDate {
    let diff = tod.signed_duration_since(at.time());
    let d = at.date();
    if diff > Duration::hours(12) {
        d.pred_opt().unwrap_or(d)
    } else if diff < -Duration::hours(12) {
        d.succ_opt().unwrap_or(d)
    } else {
        d
    }
}

/// `name_anchor`: a date in the leaf file name, else in the enclosing path segments (innermost
/// first): `YYYY-MM-DD-HHhMMmSSs` is a collection time (an [`Anchor::End`]); `YYYY-MM-DD` and
/// `YYYYMMDD` (not inside a longer digit run, year 1990–2099) a start date.
pub(crate) fn name_anchor(ctx: &FileCtx) -> Option<Anchor> {
    let segments = ctx.path.rsplit(['/', '\\', '!']).skip(1);
    std::iter::once(ctx.file_name.as_str())
        .chain(segments)
        .find_map(anchor_in)
}

fn anchor_in(name: &str) -> Option<Anchor> {
    let n =
        |c: &regex::Captures<'_>, i: usize| c.get(i).and_then(|m| m.as_str().parse::<u32>().ok());
    for c in NAME_STAMP.captures_iter(name) {
        let date = NaiveDate::from_ymd_opt(i32::try_from(n(&c, 1)?).ok()?, n(&c, 2)?, n(&c, 3)?);
        let time = NaiveTime::from_hms_opt(n(&c, 4)?, n(&c, 5)?, n(&c, 6)?);
        if let (Some(d), Some(t)) = (date, time) {
            return Some(Anchor::End(NaiveDateTime::new(d, t)));
        }
    }
    // `captures_iter` does not overlap, so scan from every position to find e.g. the second date
    // of `20110307_20110308`.
    let mut from = 0;
    while let Some(c) = name.get(from..).and_then(|s| NAME_DATE.captures(s)) {
        let year = n(&c, 1)?;
        if (1990..2100).contains(&year) {
            if let Some(d) =
                NaiveDate::from_ymd_opt(i32::try_from(year).ok()?, n(&c, 2)?, n(&c, 3)?)
            {
                return Some(Anchor::Start(d));
            }
        }
        from += c.get(1)?.start() + 1;
    }
    None
}

/// `date` moved by `days` (negative: back), `None` beyond chrono's range.
fn shift(date: NaiveDate, days: i64) -> Option<NaiveDate> {
    date.checked_add_signed(Duration::try_days(days)?)
}

/// `resolve_dates`: the date of every record with a valid time of day, and the `date_source`.
///
/// A day index counts midnight roll-overs through the file (time of day lower than the previous
/// record's by more than 12 h → next day). Anchors, in priority: ctime prefixes (each one resets
/// the date from its record on; records before the first one are projected back from it), the
/// file name ([`name_anchor`]), the file time (`mtime`, the end of the file). None → unknown.
fn resolve_dates(recs: &[TodRec<'_>], ctx: &FileCtx) -> (Vec<Option<NaiveDate>>, &'static str) {
    let mut days = Vec::with_capacity(recs.len());
    let (mut day, mut prev) = (0i64, None::<NaiveTime>);
    for r in recs {
        if let (Some(t), Some(p)) = (r.tod, prev) {
            if t < p && p.signed_duration_since(t) > Duration::hours(12) {
                day += 1;
            }
        }
        prev = r.tod.or(prev);
        days.push(day);
    }
    let base = |anchor_date: NaiveDate, day: i64| shift(anchor_date, -day);
    let first_ctime = recs.iter().zip(&days).find_map(|(r, d)| {
        let (c, t) = (r.ctime?, r.tod?);
        base(date_near(c, t), *d)
    });
    if let Some(first) = first_ctime {
        let mut cur = Some(first);
        let dates = recs
            .iter()
            .zip(&days)
            .map(|(r, d)| {
                let t = r.tod?;
                if let Some(c) = r.ctime {
                    cur = base(date_near(c, t), *d);
                }
                shift(cur?, *d)
            })
            .collect();
        return (dates, "ctime");
    }
    let last = recs
        .iter()
        .zip(&days)
        .rev()
        .find_map(|(r, d)| Some((r.tod?, *d)));
    let from_end = |at: NaiveDateTime| last.and_then(|(t, d)| base(date_near(at, t), d));
    let (day0, source) = match name_anchor(ctx) {
        Some(Anchor::Start(d)) => (Some(d), "file_name"),
        Some(Anchor::End(at)) => (from_end(at), "file_name"),
        None => match ctx.mtime {
            Some(m) => (from_end(m.naive_utc()), "mtime"),
            None => (None, "unknown"),
        },
    };
    let dates = recs
        .iter()
        .zip(&days)
        .map(|(r, d)| r.tod.and(day0.and_then(|d0| shift(d0, *d))))
        .collect();
    (dates, source)
}

/// Parses a whole SDI or XCP file: `file := preamble record*`, `record := head continuation*`.
fn parse_tod(
    ctx: &FileCtx,
    text: &str,
    format: Format,
    head: fn(&str) -> Option<Head<'_>>,
) -> Parsed {
    let mut out = Parsed::default();
    let mut sink = DiagSink::new(&ctx.path, format);
    let skip = super::bom_len(text);
    let body = text.get(skip..).unwrap_or("");
    let mut recs: Vec<TodRec<'_>> = Vec::new();
    let mut preamble: Option<(u64, usize, &str, u64)> = None;
    for (no, off, line) in lines(body) {
        if let Some(h) = head(line) {
            let mut msg = String::new();
            push_bounded(&mut msg, h.msg, MSG_MAX);
            recs.push(TodRec {
                line: no + 1,
                offset: skip + off,
                first: line,
                time_text: h.time_text,
                tod: time_of_day(h.time_text),
                ctime: h.ctime.and_then(ctime),
                fields: h.fields,
                msg,
            });
        } else if let Some(r) = recs.last_mut() {
            if !line.trim().is_empty() {
                push_bounded(&mut r.msg, "\n", MSG_MAX);
                push_bounded(&mut r.msg, line.trim_end(), MSG_MAX);
            }
        } else if !line.trim().is_empty() {
            preamble.get_or_insert((no + 1, skip + off, line, 0)).3 += 1;
        }
    }
    if let Some((line, offset, first, n)) = preamble {
        let loc = Location {
            path: ctx.path.clone(),
            line,
            record: 0,
            offset: offset as u64,
        };
        let msg = format!("{n} non-blank lines before the first time-stamped line were not read");
        sink.warn(
            &mut out,
            Diagnostic::at(DiagLevel::Warning, &loc, format, msg).with_excerpt(first),
        );
    }
    let (dates, source) = resolve_dates(&recs, ctx);
    let mut undated = 0u64;
    for (i, (r, date)) in recs.into_iter().zip(dates).enumerate() {
        let loc = Location {
            path: ctx.path.clone(),
            line: r.line,
            record: i as u64 + 1,
            offset: r.offset as u64,
        };
        let Some(tod) = r.tod else {
            let msg = format!("impossible time of day {}", r.time_text);
            let d = Diagnostic::at(DiagLevel::Error, &loc, format, msg).with_excerpt(r.first);
            sink.reject(&mut out, d);
            continue;
        };
        let mut fields = Props::default();
        for (k, v) in r.fields {
            fields.push(k, Value::Text(v.to_string()));
        }
        fields.push("msg", Value::Text(r.msg));
        fields.push("time_of_day", Value::Text(r.time_text.to_string()));
        fields.push("date_source", Value::Text(source.to_string()));
        if date.is_none() {
            fields.push("date_unknown", Value::Text("true".into()));
            undated += 1;
        }
        let body = Body::LogRow {
            log_type: format.as_str().to_string(),
            fields,
        };
        let mut ev = Event::new(format, loc, body, r.first);
        ev.time = date.map(|d| NaiveDateTime::new(d, tod).and_utc());
        ev.ts_kind = TsKind::TimeOnly;
        out.push(ev);
    }
    if undated > 0 {
        let msg = format!(
            "the date of this trace could not be determined (no ctime prefix, no date in the file \
             name, no file time): {undated} records kept without a date"
        );
        let mut d = Diagnostic::file(DiagLevel::Warning, &ctx.path, msg);
        d.format = Some(format);
        out.diagnostics.push(d);
    }
    sink.finish(&mut out);
    out
}

/// Parses an SDI trace (SIP Proxy `esp`, Presence Engine `epe`) whole: see [`sdi_head`] and
/// [`resolve_dates`]. Fields: `pid`, `src`, `srcline` (absent on generic records), `msg`,
/// `time_of_day`, `date_source`, `date_unknown`.
pub fn parse_sdi(ctx: &FileCtx, text: &str) -> Parsed {
    parse_tod(ctx, text, Format::CiscoSdi, sdi_head)
}

/// Parses an XCP trace whole: see [`xcp_head`] and [`resolve_dates`]. Fields: `level`, `src`,
/// `srcline` (each when present), `msg`, `time_of_day`, `date_source`, `date_unknown`.
pub fn parse_xcp(ctx: &FileCtx, text: &str) -> Parsed {
    parse_tod(ctx, text, Format::CiscoXcp, xcp_head)
}

/// `is_log4j_line := YYYY "-" MM "-" DD SP hh ":" mm ":" ss "," mmm SP LEVEL WS` — starts a
/// log4j record; also the only place [`split_log4j`] cuts.
pub fn is_log4j_line(line: &str) -> bool {
    LOG4J_HEAD.is_match(line)
}

/// Named values of a record head, in output order.
type Fields<'a> = Vec<(&'static str, &'a str)>;

/// One log4j record start as `(time, fields)`; `Err` for an impossible date or time.
fn log4j_head(line: &str) -> Result<(NaiveDateTime, Fields<'_>), String> {
    let caps = LOG4J_HEAD.captures(line).ok_or("not a log4j line")?;
    let get = |n: &str| caps.name(n).map_or("", |m| m.as_str());
    let stamp = format!("{} {}.{}", get("date"), get("time"), get("ms"));
    let time = NaiveDateTime::parse_from_str(&stamp, "%Y-%m-%d %H:%M:%S%.3f")
        .map_err(|_| format!("impossible date or time in time stamp {stamp}"))?;
    let level = get("level");
    let fields = match LOG4J_LINE.captures(line) {
        Some(c) => {
            let g = |n: &str| c.name(n).map_or("", |m| m.as_str());
            vec![
                ("level", level),
                ("thread", g("thread")),
                ("logger", g("logger")),
                ("msg", g("msg")),
            ]
        }
        None => {
            let rest = caps
                .get(0)
                .map_or("", |m| line.get(m.end()..).unwrap_or(""));
            vec![("level", level), ("msg", rest.trim_start())]
        }
    };
    Ok((time, fields))
}

/// A log4j record: its first line and its continuation lines (stack traces).
struct Log4jRaw<'a> {
    line: u64,
    offset: usize,
    first: &'a str,
    cont: Vec<&'a str>,
}

/// Parses one log4j chunk (or a whole file as [`Chunk::whole`]).
///
/// `file := preamble record*`, `record := log4j_line continuation*`: [`is_log4j_line`] starts a
/// record; other non-blank lines continue `msg`. Time: `TsKind::Local` (zone NOT KNOWN). Lines
/// that start a record but do not match the full grammar give `level` and `msg` only.
pub fn parse_log4j(ctx: &FileCtx, chunk: &Chunk<'_>) -> Parsed {
    let format = Format::CiscoLog4j;
    let mut out = Parsed::default();
    let mut sink = DiagSink::new(&ctx.path, format);
    let skip = super::bom_len(chunk.text);
    let body = chunk.text.get(skip..).unwrap_or("");
    let mut raws: Vec<Log4jRaw<'_>> = Vec::new();
    let mut preamble: Option<(u64, usize, &str, u64)> = None;
    for (no, off, line) in lines(body) {
        if is_log4j_line(line) {
            raws.push(Log4jRaw {
                line: no,
                offset: skip + off,
                first: line,
                cont: Vec::new(),
            });
        } else if let Some(r) = raws.last_mut() {
            if !line.trim().is_empty() {
                r.cont.push(line);
            }
        } else if !line.trim().is_empty() {
            preamble.get_or_insert((no, skip + off, line, 0)).3 += 1;
        }
    }
    if let Some((no, off, first, n)) = preamble {
        let loc = Location {
            path: ctx.path.clone(),
            line: chunk.line + no,
            record: 0,
            offset: chunk.offset + off as u64,
        };
        let msg = format!("{n} non-blank lines before the first log4j line were not read");
        sink.warn(
            &mut out,
            Diagnostic::at(DiagLevel::Warning, &loc, format, msg).with_excerpt(first),
        );
    }
    for (i, r) in raws.iter().enumerate() {
        let loc = Location {
            path: ctx.path.clone(),
            line: chunk.line + r.line,
            record: i as u64 + 1,
            offset: chunk.offset + r.offset as u64,
        };
        match log4j_head(r.first) {
            Ok((time, head)) => {
                let mut fields = Props::default();
                for (k, v) in head {
                    if k == "msg" {
                        let mut msg = String::new();
                        push_bounded(&mut msg, v.trim_end(), MSG_MAX);
                        for c in &r.cont {
                            if msg.len() >= MSG_MAX {
                                break;
                            }
                            push_bounded(&mut msg, "\n", MSG_MAX);
                            push_bounded(&mut msg, c.trim_end(), MSG_MAX);
                        }
                        fields.push(k, Value::Text(msg));
                    } else {
                        fields.push(k, Value::Text(v.to_string()));
                    }
                }
                let body = Body::LogRow {
                    log_type: format.as_str().to_string(),
                    fields,
                };
                out.push(
                    Event::new(format, loc, body, r.first)
                        .with_time(Some(time.and_utc()), TsKind::Local),
                );
            }
            Err(msg) => {
                let d = Diagnostic::at(DiagLevel::Error, &loc, format, msg).with_excerpt(r.first);
                sink.reject(&mut out, d);
            }
        }
    }
    sink.finish(&mut out);
    out
}

/// Splits a log4j text into chunks of about `target` bytes, cutting only at the start of a line
/// for which [`is_log4j_line`] holds (so a stack trace never straddles chunks). The format has no
/// state: `header` stays empty; `line` and `offset` locate each chunk.
pub fn split_log4j(text: &str, target: usize) -> Vec<Chunk<'_>> {
    super::split_at_record_starts(text, target, &is_log4j_line)
}

/// Physical lines of `text` as `(0-based line number, byte offset, line without its end)`.
fn lines(text: &str) -> impl Iterator<Item = (u64, usize, &str)> + '_ {
    super::numbered_lines(text).map(|(no, off, line)| (no - 1, off, line))
}

#[cfg(test)]
#[path = "cisco_tests.rs"]
mod tests;
