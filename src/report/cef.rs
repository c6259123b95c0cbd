//! ArcSight Common Event Format lines, one finding per line (`--output cef`).
//!
//! Why this module exists: ArcSight and many syslog-fed SIEMs read CEF:
//! `CEF:0|Vendor|Product|Version|Signature ID|Name|Severity|Extension`. The signature id is the
//! cause id, the severity is on the 0–10 scale. Escaping (formats.md §11): in the header `\` and `|`
//! get a backslash; in the extension `\` and `=` get a backslash and line breaks are written `\n`
//! / `\r` (a `|` needs none there). Header fields are single-line: line breaks become spaces.
//!
//! Extension keys, in this fixed order: `rt` (first evidence time, epoch ms, else the collection
//! time), `start`/`end`, `dhost`, `externalId` (the stable finding id), `cat` (our severity),
//! `filePath` (first evidence line's bundle path), `cnt` (evidence lines), `msg`, and the custom
//! strings `cs1` confidence, `cs2` evidence (one `path:line time excerpt` per line), `cs3` fix (one
//! step per line), `cs4` related hosts, `cs5` sources, `cs6` absorbed causes, each with its
//! `csNLabel`. `--stamp` adds `deviceCustomDate1` (the wall clock) with its label.

use super::siem;
use super::{rfc3339, Report, Reporter};
use chrono::{DateTime, Utc};
use std::io::{self, Write};

pub struct Cef {
    pub stamp: Option<DateTime<Utc>>,
}

/// Escapes a header field: `\` → `\\`, `|` → `\|`, line breaks → space.
pub fn escape_header(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '|' => out.push_str("\\|"),
            '\r' | '\n' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// Escapes an extension value: `\` → `\\`, `=` → `\=`, CR → `\r`, LF → `\n`.
pub fn escape_ext(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '=' => out.push_str("\\="),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c => out.push(c),
        }
    }
    out
}

/// One CEF line (without the line break) for a finding.
pub fn line(f: &crate::classify::Finding, r: &Report, stamp: Option<DateTime<Utc>>) -> String {
    let (t, _) = siem::finding_time(f, r, stamp);
    let mut ext: Vec<(&str, String)> = vec![("rt", siem::epoch_ms(&t).to_string())];
    if let Some(s) = &f.first_seen {
        ext.push(("start", siem::epoch_ms(s).to_string()));
    }
    if let Some(e) = &f.last_seen {
        ext.push(("end", siem::epoch_ms(e).to_string()));
    }
    ext.push(("dhost", f.host.clone()));
    ext.push(("externalId", siem::finding_uid(f)));
    ext.push(("cat", f.severity.as_str().to_string()));
    if let Some(e) = f.evidence.first() {
        ext.push(("filePath", e.path.to_string()));
    }
    ext.push(("cnt", f.evidence.len().to_string()));
    ext.push(("msg", siem::message(f)));
    let evidence: Vec<String> = f
        .evidence
        .iter()
        .map(|e| {
            format!(
                "{} {} {}",
                siem::place(&e.path, e.line, e.record),
                e.time.as_ref().map(rfc3339).unwrap_or_else(|| "-".into()),
                e.excerpt
            )
        })
        .collect();
    let custom = [
        ("confidence", f.confidence.as_str().to_string()),
        ("evidence", evidence.join("\n")),
        ("fix", f.fix.join("\n")),
        ("relatedHosts", f.related_hosts.join(",")),
        ("sources", f.source.join(",")),
        ("absorbed", f.absorbed.join(",")),
    ];
    let keys = ["cs1", "cs2", "cs3", "cs4", "cs5", "cs6"];
    let labels = [
        "cs1Label", "cs2Label", "cs3Label", "cs4Label", "cs5Label", "cs6Label",
    ];
    for (i, (label, value)) in custom.into_iter().enumerate() {
        if value.is_empty() {
            continue;
        }
        ext.push((keys[i], value));
        ext.push((labels[i], label.to_string()));
    }
    if let Some(s) = &stamp {
        ext.push(("deviceCustomDate1", siem::epoch_ms(s).to_string()));
        ext.push(("deviceCustomDate1Label", "generated".to_string()));
    }
    let extension: Vec<String> = ext
        .iter()
        .map(|(k, v)| format!("{k}={}", escape_ext(v)))
        .collect();
    format!(
        "CEF:0|{}|{}|{}|{}|{}|{}|{}",
        escape_header(siem::VENDOR),
        escape_header(siem::PRODUCT),
        escape_header(siem::VERSION),
        escape_header(&f.id),
        escape_header(&f.title),
        siem::cef_severity(f.severity),
        extension.join(" ")
    )
}

impl Reporter for Cef {
    fn write(&mut self, r: &Report, out: &mut dyn Write) -> io::Result<()> {
        for f in &r.analysis.findings {
            out.write_all(line(f, r, self.stamp).as_bytes())?;
            out.write_all(b"\n")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_escapes_pipe_and_backslash() {
        assert_eq!(escape_header(r"a|b\c"), r"a\|b\\c");
        assert_eq!(escape_header("two\nlines"), "two lines");
        assert_eq!(escape_header("x=y"), "x=y");
    }

    #[test]
    fn extension_escapes_equals_backslash_and_newlines() {
        assert_eq!(escape_ext(r"C:\a=b|c"), r"C:\\a\=b|c");
        assert_eq!(escape_ext("1\r\n2"), r"1\r\n2");
    }
}
