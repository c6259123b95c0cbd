//! Timelines: every normalised event of the bundle plus the findings, one row per item
//! (`--output timeline-csv`, `--output timeline-jsonl`; also the per-host timeline of the HTML
//! report).
//!
//! Why this module exists: an engineer reconstructs an incident by reading all sources of a host
//! side by side in time order — event logs, Exchange logs, PowerShell captures, configuration.
//! [`Row`] is the flat, format-independent shape of one item; [`rows`] turns a correlated bundle
//! into rows (only [`crate::timeline`] calls it, so [`crate::analyze`] keeps its memory profile),
//! and [`merged`] adds the findings and marks the events that are evidence of a finding.
//!
//! Both writers have the same fields, in this order: `time` (UTC RFC 3339, empty when the record
//! has none), `ts_kind`, `host`, `item` (`event` or `finding`), `format`, `path`, `line`,
//! `record`, `kind` (event body kind, or `finding`), `id` (Windows provider and event id, log
//! type, cmdlet, registry key, SIP start line, DNS query; the cause id of a finding), `level`
//! (record level as written; the severity of a finding), `text` (excerpt; the title of a finding),
//! `findings` (cause ids this event is evidence for, space-separated). Sorted by time (untimed
//! last), then path, line, record; an event sorts before a finding at the same place. The CSV has
//! a fixed header and RFC 4180 quoting.

use super::{format_name, rfc3339, Report, Reporter};
use crate::correlate::Correlated;
use crate::model::{Body, Event, TsKind};
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::collections::BTreeMap;
use std::io::{self, Write};
use std::sync::Arc;

/// The CSV header (and the JSON key order).
pub const HEADER: [&str; 13] = [
    "time", "ts_kind", "host", "item", "format", "path", "line", "record", "kind", "id", "level",
    "text", "findings",
];

/// One timeline item.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Row {
    pub time: Option<DateTime<Utc>>,
    pub ts_kind: TsKind,
    /// Display name of the host, empty when nothing named one.
    pub host: String,
    /// `event` or `finding`.
    pub item: &'static str,
    pub format: Option<&'static str>,
    pub path: Arc<str>,
    pub line: u64,
    pub record: u64,
    pub kind: &'static str,
    pub id: String,
    pub level: String,
    pub text: String,
    /// Cause ids this event is evidence for (empty for findings).
    pub findings: Vec<String>,
}

impl Row {
    /// The row of one event (`host` already resolved to its display name).
    pub fn of_event(e: &Event, host: String) -> Row {
        let (kind, id, level) = describe(&e.body);
        Row {
            time: e.time,
            ts_kind: e.ts_kind,
            host,
            item: "event",
            format: Some(e.format.as_str()),
            path: e.loc.path.clone(),
            line: e.loc.line,
            record: e.loc.record,
            kind,
            id,
            level,
            text: e.excerpt.clone(),
            findings: Vec::new(),
        }
    }

    fn key(&self) -> (bool, Option<DateTime<Utc>>, &str, u64, u64, &str, &str) {
        (
            self.time.is_none(),
            self.time,
            &self.path,
            self.line,
            self.record,
            self.item,
            &self.id,
        )
    }
}

/// Body kind, identity and level of an event, for the `kind`, `id` and `level` columns.
fn describe(b: &Body) -> (&'static str, String, String) {
    match b {
        Body::WinEvent(w) => {
            let level = w
                .level_text
                .clone()
                .or_else(|| {
                    w.level.map(|l| {
                        match l {
                            1 => "Critical",
                            2 => "Error",
                            3 => "Warning",
                            4 | 0 => "Information",
                            5 => "Verbose",
                            _ => "",
                        }
                        .to_string()
                    })
                })
                .unwrap_or_default();
            ("win_event", format!("{} {}", w.provider, w.event_id), level)
        }
        Body::LogRow { log_type, .. } => ("log_row", log_type.clone(), String::new()),
        Body::Object {
            type_names,
            command,
            ..
        } => (
            "object",
            command
                .clone()
                .or_else(|| type_names.first().cloned())
                .unwrap_or_default(),
            String::new(),
        ),
        Body::AppSettings { .. } => ("app_settings", "appSettings".into(), String::new()),
        Body::RegistryKey { key, .. } => ("registry_key", key.clone(), String::new()),
        Body::Sip(s) => (
            "sip",
            s.start_line.clone().unwrap_or_else(|| s.kind.clone()),
            s.level.clone(),
        ),
        Body::Dns(d) => ("dns", d.query.clone(), d.error.clone().unwrap_or_default()),
    }
}

/// Every event of a correlated bundle as a row, sorted.
pub fn rows(c: &Correlated) -> Vec<Row> {
    let mut out: Vec<Row> = c
        .events
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let host = c.host(i).map(|k| c.hosts.display(k)).unwrap_or_default();
            Row::of_event(e, host)
        })
        .collect();
    out.sort_by(|a, b| a.key().cmp(&b.key()));
    out
}

/// The report's event rows with evidence marked, plus one row per finding, sorted.
pub fn merged(r: &Report) -> Vec<Row> {
    let mut cited: BTreeMap<(&str, u64, u64), Vec<String>> = BTreeMap::new();
    for f in &r.analysis.findings {
        for e in &f.evidence {
            let ids = cited.entry((&e.path, e.line, e.record)).or_default();
            if !ids.contains(&f.id) {
                ids.push(f.id.clone());
            }
        }
    }
    let mut out: Vec<Row> = r
        .timeline
        .iter()
        .map(|row| {
            let mut row = row.clone();
            if let Some(ids) = cited.get(&(&*row.path, row.line, row.record)) {
                row.findings = ids.clone();
            }
            row
        })
        .collect();
    for f in &r.analysis.findings {
        let first = f.evidence.iter().find(|e| e.time == f.first_seen);
        let first = first.or(f.evidence.first());
        out.push(Row {
            time: f.first_seen,
            ts_kind: if f.first_seen.is_some() {
                TsKind::Utc
            } else {
                TsKind::None
            },
            host: f.host.clone(),
            item: "finding",
            format: first.and_then(|e| format_name(e.format)),
            path: first
                .map(|e| e.path.clone())
                .unwrap_or_else(|| Arc::from("")),
            line: first.map_or(0, |e| e.line),
            record: first.map_or(0, |e| e.record),
            kind: "finding",
            id: f.id.clone(),
            level: f.severity.as_str().to_string(),
            text: f.title.clone(),
            findings: Vec::new(),
        });
    }
    out.sort_by(|a, b| a.key().cmp(&b.key()));
    out
}

/// The `ts_kind` as written (`utc`, `assumed_utc`, `local`, `time_only`, `none`).
pub fn ts_kind_name(k: TsKind) -> &'static str {
    match k {
        TsKind::Utc => "utc",
        TsKind::AssumedUtc => "assumed_utc",
        TsKind::Local => "local",
        TsKind::TimeOnly => "time_only",
        TsKind::None => "none",
    }
}

fn fields(row: &Row) -> [String; 13] {
    let num = |n: u64| if n == 0 { String::new() } else { n.to_string() };
    [
        row.time.as_ref().map(rfc3339).unwrap_or_default(),
        ts_kind_name(row.ts_kind).to_string(),
        row.host.clone(),
        row.item.to_string(),
        row.format.unwrap_or("").to_string(),
        row.path.to_string(),
        num(row.line),
        num(row.record),
        row.kind.to_string(),
        row.id.clone(),
        row.level.clone(),
        row.text.clone(),
        row.findings.join(" "),
    ]
}

/// RFC 4180 quoting: a field with a comma, quote, CR or LF is quoted, quotes doubled. A field
/// that starts with `=`, `+`, `-` or `@` is also quoted so that it reads as text when opened in a
/// spreadsheet (it is still the same value to a CSV parser).
pub fn csv_field(s: &str) -> String {
    let needs = s.contains([',', '"', '\r', '\n'])
        || s.starts_with(['=', '+', '-', '@'])
        || s.starts_with(char::is_whitespace)
        || s.ends_with(char::is_whitespace);
    if needs {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// `--output timeline-csv`.
pub struct Csv;

impl Reporter for Csv {
    fn write(&mut self, r: &Report, out: &mut dyn Write) -> io::Result<()> {
        out.write_all(HEADER.join(",").as_bytes())?;
        out.write_all(b"\r\n")?;
        for row in merged(r) {
            let line: Vec<String> = fields(&row).iter().map(|f| csv_field(f)).collect();
            out.write_all(line.join(",").as_bytes())?;
            out.write_all(b"\r\n")?;
        }
        Ok(())
    }
}

/// `--output timeline-jsonl`.
pub struct JsonLines;

impl Reporter for JsonLines {
    fn write(&mut self, r: &Report, out: &mut dyn Write) -> io::Result<()> {
        for row in merged(r) {
            let mut o = serde_json::Map::new();
            let opt = |s: String| {
                if s.is_empty() {
                    serde_json::Value::Null
                } else {
                    serde_json::Value::String(s)
                }
            };
            let pos = |n: u64| {
                if n == 0 {
                    serde_json::Value::Null
                } else {
                    n.into()
                }
            };
            o.insert(
                "time".into(),
                opt(row.time.as_ref().map(rfc3339).unwrap_or_default()),
            );
            o.insert("ts_kind".into(), ts_kind_name(row.ts_kind).into());
            o.insert("host".into(), opt(row.host.clone()));
            o.insert("item".into(), row.item.into());
            o.insert("format".into(), opt(row.format.unwrap_or("").to_string()));
            o.insert("path".into(), row.path.to_string().into());
            o.insert("line".into(), pos(row.line));
            o.insert("record".into(), pos(row.record));
            o.insert("kind".into(), row.kind.into());
            o.insert("id".into(), row.id.clone().into());
            o.insert("level".into(), row.level.clone().into());
            o.insert("text".into(), row.text.clone().into());
            o.insert("findings".into(), row.findings.clone().into());
            serde_json::to_writer(&mut *out, &serde_json::Value::Object(o))?;
            out.write_all(b"\n")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quoting_follows_rfc_4180() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("two\nlines"), "\"two\nlines\"");
        assert_eq!(csv_field("=cmd|' /C calc'!A0"), "\"=cmd|' /C calc'!A0\"");
        assert_eq!(csv_field(""), "");
    }
}
