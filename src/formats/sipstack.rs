//! Lync / Skype for Business Server SIPStack text traces: OCSLogger / Snooper / CLS
//! (`Search-CsClsLogging`) decodings of the SIPStack ETW provider (formats.md §6).
//!
//! Why this module exists: the Front End and Edge servers say *why* they refused the Exchange
//! server serving OWA IM (or a federated peer) only in these traces: the TF_CONNECTION rejection
//! "The peer is not a configured server on this network interface" with the FQDN the peer
//! presented, TF_DIAG Result-Codes such as `SIPPROXY_E_ROUTING_MSG_CERT_MISMATCH`, and SIP
//! responses carrying `ms-diagnostics`. Each record becomes one [`Body::Sip`] event; the
//! `ms-diagnostics` and code parsing is shared with the client-log parser ([`msdiag`]).
//!
//! Grammar and status markers: `grammars/sipstack.md`. Rule names used there: [`parse_chunk`]
//! (file / chunk), [`header_like`] (record start), [`header`] (the full header line),
//! [`marker`] (what follows the source location), [`kind_of`], [`Record::body_line`] (one
//! `Key: value` line), [`Record::finish`] (the event), [`split`] (chunking).

use crate::formats::msdiag::{self, push_bounded, Codes};
use crate::formats::{Chunk, FileCtx};
use crate::model::{
    Body, DiagLevel, Diagnostic, Event, Format, Location, Parsed, Props, SipRecord, TsKind, Value,
    EXCERPT_MAX,
};
use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use regex::Regex;
use std::sync::OnceLock;

/// Most bytes kept per field value (a 50 MB message body is cut, not copied whole).
const VALUE_MAX: usize = 16 * 1024;
/// Most body entries (fields + SIP headers) kept per record; further lines are counted.
const ENTRIES_MAX: usize = 4096;
/// Header lines longer than this are matched on their first `HEADER_SCAN` bytes only.
const HEADER_SCAN: usize = 4096;
/// The record terminator line.
const END: &str = "$$end_record";
const BEGIN: &str = "$$begin_record";

/// formats.md §6.1, without the trailing `(?P<rest>.*)$` (the rest is the text after the match).
fn header_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(
            r"^(?P<level>TL_[A-Z]+)\((?P<flag>TF_[A-Z_]+)\) \[(?P<ctx>[^\]]*)\](?P<pid>[0-9A-Fa-f]{4})\.(?P<tid>[0-9A-Fa-f]{4})::(?P<mon>\d{2})/(?P<day>\d{2})/(?P<year>\d{4})-(?P<time>\d{2}:\d{2}:\d{2}\.\d{3})\.(?P<seq>[0-9A-Fa-f]{8}) \((?P<comp>[^,]+),(?P<func>[^:]+(?:::[^:]+)*):(?P<file>[^(]+)\((?P<line>\d+)\)\)",
        )
        .unwrap_or_else(|e| panic!("static regex: {e}"))
    })
}

/// `header_like := "TL_" [A-Z]+ ("(" | EOL)` — a line that starts a record, whether or not it is
/// a complete [`header`]. A header-like line that is not a header starts a rejected record.
pub fn header_like(line: &str) -> bool {
    let Some(rest) = line.strip_prefix("TL_") else {
        return false;
    };
    let n = rest.bytes().take_while(u8::is_ascii_uppercase).count();
    n > 0 && matches!(rest.as_bytes().get(n), None | Some(b'('))
}

/// What follows the `(Component,Function:File(Line))` of a header.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Marker<'a> {
    /// `$$begin_record` (9a) with the trimmed text before it: empty (9a), `[digits]` (9b) or
    /// anything else (NOT KNOWN, kept raw as field `_marker_text`).
    Begin(&'a str),
    /// Free trace text (9c), trimmed.
    Text(&'a str),
}

/// `marker := BEGIN | SP "[" DIGITS "]" SP BEGIN | TEXT`.
pub fn marker(rest: &str) -> Marker<'_> {
    let t = rest.trim();
    match t.strip_suffix(BEGIN) {
        Some(before) => Marker::Begin(before.trim()),
        None => Marker::Text(t),
    }
}

/// A parsed header line.
#[derive(Debug, Clone)]
pub struct Header<'a> {
    pub level: &'a str,
    pub flag: &'a str,
    pub context: &'a str,
    pub pid: &'a str,
    pub tid: &'a str,
    /// `None` when the date or time is out of range (the record is kept, with a warning).
    pub time: Option<DateTime<Utc>>,
    pub seq: &'a str,
    /// `Component,Function:File(Line)` as printed.
    pub source: &'a str,
    pub function: &'a str,
    pub marker: Marker<'a>,
}

/// `header := LEVEL "(" FLAG ") [" CTX "]" PID "." TID "::" MM "/" DD "/" YYYY "-" HH:MM:SS.mmm
/// "." SEQ " (" COMPONENT "," FUNCTION ":" FILE "(" LINE "))" marker` (formats.md §6.1).
pub fn header(line: &str) -> Option<Header<'_>> {
    if !line.starts_with("TL_") {
        return None;
    }
    let mut end = line.len().min(HEADER_SCAN);
    while !line.is_char_boundary(end) {
        end -= 1;
    }
    let c = header_re().captures(line.get(..end)?)?;
    let all = c.get(0)?;
    let g = |n: &str| c.name(n).map_or("", |m| m.as_str());
    let num = |n: &str| g(n).parse::<u32>().ok();
    let time = match (num("year"), num("mon"), num("day")) {
        (Some(y), Some(m), Some(d)) => {
            let date = NaiveDate::from_ymd_opt(i32::try_from(y).ok()?, m, d);
            let tod = NaiveTime::parse_from_str(g("time"), "%H:%M:%S%.3f").ok();
            date.zip(tod).map(|(d, t)| d.and_time(t).and_utc())
        }
        _ => None,
    };
    let source_start = c.name("comp").map_or(0, |m| m.start());
    Some(Header {
        level: g("level"),
        flag: g("flag"),
        context: g("ctx"),
        pid: g("pid"),
        tid: g("tid"),
        time,
        seq: g("seq"),
        source: line.get(source_start..all.end().saturating_sub(1))?,
        function: c.name("func").map_or("", |m| m.as_str()),
        marker: marker(line.get(all.end()..)?),
    })
}

/// `kind_of`: free text (9c) → `trace_text`; else the function (`TraceProtocolRecord`,
/// `TraceConnectionRecord`, `WriteDiagnosticEvent`), else the flag (`TF_PROTOCOL`,
/// `TF_CONNECTION`, `TF_DIAG`, `TF_COMPONENT`, `TF_SECURITY`), else `trace_text`.
pub fn kind_of(h: &Header<'_>) -> &'static str {
    if matches!(h.marker, Marker::Text(_)) {
        return "trace_text";
    }
    let f = h.function.rsplit("::").next().unwrap_or("");
    match (f, h.flag) {
        ("TraceProtocolRecord", _) | (_, "TF_PROTOCOL") => "protocol",
        ("TraceConnectionRecord", _) | (_, "TF_CONNECTION") => "connection",
        ("WriteDiagnosticEvent", _) | (_, "TF_DIAG") => "diagnostic",
        (_, "TF_COMPONENT") => "component",
        (_, "TF_SECURITY") => "security",
        _ => "trace_text",
    }
}

/// Where the next body line of a record goes.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Section {
    Fields,
    /// After `Start-Line` in a protocol record: SIP headers.
    SipHeaders,
    /// After `Message-Body`: every line is body text.
    MessageBody,
}

/// A record being read.
pub struct Record<'a> {
    hdr: Header<'a>,
    kind: &'static str,
    loc: Location,
    fields: Props,
    headers: Props,
    start_line: Option<String>,
    text: Option<String>,
    codes: Codes,
    section: Section,
    dropped: u64,
    cut: bool,
}

/// `key := ALPHA (ALNUM | "-" | "_" | ".")* ":"` — the key of a `Key: value` line and the value,
/// trimmed.
fn split_key(line: &str) -> Option<(&str, &str)> {
    let b = line.as_bytes();
    if !b.first()?.is_ascii_alphabetic() {
        return None;
    }
    let n = b
        .iter()
        .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'))
        .count();
    if b.get(n) != Some(&b':') {
        return None;
    }
    Some((line.get(..n)?, line.get(n + 1..)?.trim()))
}

fn bounded(s: &str) -> String {
    let mut out = String::new();
    push_bounded(&mut out, s, VALUE_MAX);
    out
}

impl<'a> Record<'a> {
    fn new(hdr: Header<'a>, loc: Location) -> Record<'a> {
        let mut codes = Codes::new();
        let kind = kind_of(&hdr);
        let text = match hdr.marker {
            Marker::Text(t) => {
                codes.add(t);
                Some(bounded(t))
            }
            Marker::Begin(_) => None,
        };
        Record {
            hdr,
            kind,
            loc,
            fields: Props::default(),
            headers: Props::default(),
            start_line: None,
            text,
            codes,
            section: Section::Fields,
            dropped: 0,
            cut: false,
        }
    }

    fn push(&mut self, to_headers: bool, key: &str, value: &str) {
        if self.fields.len() + self.headers.len() >= ENTRIES_MAX {
            self.dropped += 1;
            return;
        }
        self.cut |= value.len() > VALUE_MAX;
        let v = Value::Text(bounded(value));
        if to_headers {
            self.headers.push(key, v);
        } else {
            self.fields.push(key, v);
        }
    }

    /// Appends a line to the last entry (continuation or message body), bounded.
    fn append(&mut self, line: &str) {
        let last = match self.section {
            Section::SipHeaders => self.headers.0.last_mut(),
            _ => self.fields.0.last_mut(),
        };
        match last {
            Some((_, Value::Text(v))) => {
                if v.len() + 1 + line.len() > VALUE_MAX {
                    self.cut = true;
                }
                if v.len() < VALUE_MAX {
                    v.push('\n');
                    push_bounded(v, line, VALUE_MAX);
                }
            }
            _ => self.push(false, "_line", line),
        }
    }

    /// `body_line := KEY ":" SP* VALUE | continuation`. `Start-Line` of a protocol record opens
    /// the SIP header section, `Message-Body` the message body (every later line is body text);
    /// a line without a key continues the previous value. `Text:` is split at ` Result-Code: `
    /// (Cisco rendering); `Data:` is also split into `Data.<name>` fields.
    pub fn body_line(&mut self, line: &str) {
        self.codes.add(line);
        if self.section == Section::MessageBody {
            self.append(line);
            return;
        }
        if line.trim().is_empty() || line.trim() == BEGIN {
            return;
        }
        let Some((key, value)) = split_key(line) else {
            self.append(line);
            return;
        };
        match key {
            "Start-Line" if self.kind == "protocol" && self.start_line.is_none() => {
                self.start_line = Some(bounded(value));
                self.section = Section::SipHeaders;
            }
            "Message-Body" => {
                self.push(false, key, value);
                self.section = Section::MessageBody;
            }
            _ if self.section == Section::SipHeaders => self.push(true, key, value),
            "Text" => {
                let (text, code) = match value.split_once(" Result-Code: ") {
                    Some((t, c)) => (t.trim(), Some(c.trim())),
                    None => (value, None),
                };
                if self.text.is_none() {
                    self.text = Some(bounded(text));
                }
                self.push(false, key, text);
                if let Some(c) = code {
                    self.push(false, "Result-Code", c);
                }
            }
            "Data" => {
                self.push(false, key, value);
                if value.contains('=') {
                    for (k, v) in msdiag::params(value) {
                        self.push(false, &format!("Data.{k}"), &v);
                    }
                }
            }
            _ => self.push(false, key, value),
        }
    }

    /// The one-line summary: `LEVEL FLAG kind: TEXT[; Result-Code: …][; Data: …]`, for protocol
    /// records `LEVEL FLAG protocol: START-LINE[; ms-diagnostics: …]`; bounded.
    fn excerpt(&self, diag: Option<(&str, &str)>) -> String {
        let mut s = format!("{} {} {}: ", self.hdr.level, self.hdr.flag, self.kind);
        let main = match self.kind {
            "protocol" => self.start_line.as_deref(),
            _ => self.text.as_deref(),
        };
        let first = self
            .fields
            .0
            .first()
            .map(|(k, v)| (k.as_str(), v.as_text().unwrap_or("")));
        let more = ["Result-Code", "Data"].map(|k| self.fields.text(k).map(|v| (k, v)));
        let parts = main
            .map(|m| ("", m))
            .or(first)
            .into_iter()
            .chain(diag)
            .chain(more.into_iter().flatten());
        for (i, (k, v)) in parts.enumerate() {
            for piece in [
                if i > 0 { "; " } else { "" },
                k,
                if k.is_empty() { "" } else { ": " },
                v,
            ] {
                push_bounded(&mut s, piece, EXCERPT_MAX * 2);
            }
        }
        s
    }

    /// `finish`: the event, plus the warnings this record raised.
    pub fn finish(self) -> (Event, Vec<String>) {
        let mut notes = Vec::new();
        if self.hdr.time.is_none() {
            notes.push("header date or time out of range; record kept without time".to_string());
        }
        if self.dropped > 0 {
            notes.push(format!(
                "record has more than {ENTRIES_MAX} body lines; {} not kept",
                self.dropped
            ));
        }
        if self.cut {
            notes.push(format!("record values cut at {VALUE_MAX} bytes"));
        }
        let diag_headers: Vec<(&str, &str)> = (self.headers.0.iter().chain(&self.fields.0))
            .filter(|(n, _)| msdiag::is_diag_header(n))
            .map(|(n, v)| (n.as_str(), v.as_text().unwrap_or("")))
            .collect();
        let diagnostics: Vec<_> = diag_headers
            .iter()
            .filter_map(|(n, v)| msdiag::parse_header(n, v))
            .collect();
        let excerpt = self.excerpt(diag_headers.first().copied());
        let h = &self.hdr;
        let mut fields = self.fields;
        for (k, v) in [
            ("_context", h.context),
            ("_pid", h.pid),
            ("_tid", h.tid),
            ("_seq", h.seq),
            ("_source", h.source),
        ] {
            fields.push(k, Value::Text(v.to_string()));
        }
        if let Marker::Begin(before) = h.marker {
            let id = before.strip_prefix('[').and_then(|b| b.strip_suffix(']'));
            match id.filter(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit())) {
                Some(id) => fields.push("_begin_id", Value::Text(id.to_string())),
                None if !before.is_empty() => {
                    fields.push("_marker_text", Value::Text(bounded(before)))
                }
                None => {}
            }
        }
        let rec = SipRecord {
            kind: self.kind.to_string(),
            level: h.level.to_string(),
            flag: h.flag.to_string(),
            fields,
            start_line: self.start_line,
            headers: self.headers,
            diagnostics,
            codes: self.codes.into_vec(),
            text: self.text.unwrap_or_default(),
        };
        let event = Event::new(Format::SipStack, self.loc, Body::Sip(rec), &excerpt)
            .with_time(h.time, TsKind::AssumedUtc);
        (event, notes)
    }
}

/// Lines of a text with their byte offsets; line ends are CRLF, LF or a lone CR.
struct Lines<'a> {
    text: &'a str,
    pos: usize,
}

impl<'a> Iterator for Lines<'a> {
    type Item = (&'a str, usize);

    fn next(&mut self) -> Option<(&'a str, usize)> {
        let bytes = self.text.as_bytes();
        let start = self.pos;
        if start >= bytes.len() {
            return None;
        }
        let rest = bytes.get(start..)?;
        let end = memchr::memchr2(b'\n', b'\r', rest).map_or(bytes.len(), |k| start + k);
        self.pos = match bytes.get(end) {
            Some(b'\r') if bytes.get(end + 1) == Some(&b'\n') => end + 2,
            Some(_) => end + 1,
            None => end,
        };
        Some((self.text.get(start..end)?, start))
    }
}

fn lines(text: &str) -> Lines<'_> {
    Lines { text, pos: 0 }
}

/// A count of one kind of warning with the place of its first occurrence; one diagnostic.
#[derive(Default)]
struct Tally {
    count: u64,
    first: Option<(Location, String)>,
}

impl Tally {
    fn note(&mut self, loc: Location, excerpt: &str) {
        self.count += 1;
        self.first.get_or_insert_with(|| (loc, excerpt.to_string()));
    }

    fn diagnostic(&self, what: &str) -> Option<Diagnostic> {
        let (loc, ex) = self.first.as_ref()?;
        let msg = format!("{} {what}", self.count);
        let d = Diagnostic::at(DiagLevel::Warning, loc, Format::SipStack, msg);
        Some(if ex.is_empty() { d } else { d.with_excerpt(ex) })
    }
}

/// The record currently being read.
enum Cur<'a> {
    /// Before the first record.
    Start,
    Open(Box<Record<'a>>),
    /// A rejected header: its body lines are consumed without output.
    Rejected,
    /// After `$$end_record`.
    Closed,
}

/// Parses one chunk (or a whole file given as [`Chunk::whole`]).
///
/// `parse_chunk := (BLANK | stray)* (record (BLANK | stray)*)*`, `record := (header |
/// header_like) body_line* [END]`. A record ends at `$$end_record`, at the next header-like line
/// or at the end of the text (counted in one Warning). A header-like line that is not a
/// [`header`] is a rejected record (Error) that consumes the lines up to the next header-like
/// line. Non-blank lines before the first record, and between records, are one Warning each.
/// Positions are `chunk.line + local` and `chunk.offset + local`; record numbers start at 1.
pub fn parse_chunk(ctx: &FileCtx, chunk: &Chunk<'_>) -> Parsed {
    let mut out = Parsed::default();
    let (mut rejects, mut warnings) = (super::Capped::default(), super::Capped::default());
    let (mut before, mut between, mut no_end) =
        (Tally::default(), Tally::default(), Tally::default());
    let mut record_no = 0u64;
    let mut cur = Cur::Start;
    let emit = |rec: Box<Record<'_>>, out: &mut Parsed, warnings: &mut super::Capped| {
        let (event, notes) = rec.finish();
        for note in notes {
            if warnings.admit(&event.loc) {
                let d = Diagnostic::at(DiagLevel::Warning, &event.loc, Format::SipStack, note);
                out.diagnostics.push(d.with_excerpt(&event.excerpt));
            }
        }
        out.push(event);
    };
    for (i, (line, local)) in lines(chunk.text).enumerate() {
        let loc = Location {
            path: ctx.path.clone(),
            line: chunk.line + i as u64,
            record: 0,
            offset: chunk.offset + local as u64,
        };
        if header_like(line) {
            if let Cur::Open(rec) = std::mem::replace(&mut cur, Cur::Closed) {
                no_end.note(rec.loc.clone(), "");
                emit(rec, &mut out, &mut warnings);
            }
            record_no += 1;
            let loc = Location {
                record: record_no,
                ..loc
            };
            cur = match header(line) {
                Some(h) => Cur::Open(Box::new(Record::new(h, loc))),
                None if rejects.admit(&loc) => {
                    let msg = "header line does not match the SIPStack header grammar";
                    out.reject(
                        Diagnostic::at(DiagLevel::Error, &loc, Format::SipStack, msg)
                            .with_excerpt(line),
                    );
                    Cur::Rejected
                }
                None => {
                    out.rejected += 1;
                    Cur::Rejected
                }
            };
            continue;
        }
        let is_end = line.trim() == END;
        let blank = line.trim().is_empty();
        match &mut cur {
            Cur::Open(rec) if !is_end => rec.body_line(line),
            Cur::Open(_) => {
                if let Cur::Open(rec) = std::mem::replace(&mut cur, Cur::Closed) {
                    emit(rec, &mut out, &mut warnings);
                }
            }
            Cur::Rejected if is_end => cur = Cur::Closed,
            Cur::Start if !blank => before.note(loc, line),
            Cur::Closed if !blank && !is_end => between.note(loc, line),
            Cur::Rejected | Cur::Start | Cur::Closed => {}
        }
    }
    if let Cur::Open(rec) = cur {
        no_end.note(rec.loc.clone(), "");
        emit(rec, &mut out, &mut warnings);
    }
    let d = &mut out.diagnostics;
    d.extend(no_end.diagnostic(
        "records without $$end_record (ended at the next header or at the end of the text)",
    ));
    d.extend(before.diagnostic("lines before the first record"));
    d.extend(between.diagnostic("lines between records ignored"));
    d.extend(rejects.summary(DiagLevel::Error, Format::SipStack, "header lines rejected"));
    d.extend(warnings.summary(DiagLevel::Warning, Format::SipStack, "record warnings"));
    out
}

/// Splits `text` into chunks of about `target` bytes for parallel parsing, cutting only before a
/// full [`header`] line (a line starting with `TL_` that matches the header grammar), so a
/// record never straddles two chunks. `header` stays empty (no state crosses records); `line` and
/// `offset` locate each chunk. Invariant (tested): parsing the chunks in order equals parsing the
/// whole text, after rebasing record numbers.
pub fn split(text: &str, target: usize) -> Vec<Chunk<'_>> {
    split_releasing(text, target, &|_, _| {})
}

/// [`split`], calling `done(offset, len)` for each chunk once it is cut.
pub fn split_releasing<'a>(
    text: &'a str,
    target: usize,
    done: &dyn Fn(usize, usize),
) -> Vec<Chunk<'a>> {
    super::split_at_record_starts_releasing(text, target, &|line| header(line).is_some(), done)
}

#[cfg(test)]
#[path = "sipstack_tests.rs"]
mod tests;
