//! Exchange `#Fields` CSV logs: OWA InstantMessaging "Sync Logs", EWS, HttpProxy, RPS Http,
//! message tracking and every other log written by Exchange's generic log writer (formats.md §2).
//!
//! Why this module exists: the OWA IM sign-in and presence failures, the EWS impersonation
//! errors seen by Cisco calendar integration and the front-end proxy failures all live in these
//! logs, and they share one header-driven grammar. Columns are named only by the active
//! `#Fields:` line (or the bare header row at file position 0), so the parser keeps that column
//! map as state, and large files are split into chunks that carry the state with them
//! ([`split`], [`Chunk::header`]) so they can be parsed in parallel with true positions.
//!
//! Grammar and status markers: `grammars/exchange-log.md`. Rule names used there:
//! [`parse_chunk`] (file / chunk), [`meta_line`] (`#` lines), [`bare_header_row`],
//! [`record`] (one data row), [`record_end`] (the quoting rule shared with [`split`]).

use crate::formats::csv::{split_line, CsvReader, CsvRecord};
use crate::formats::{time, Chunk, FileCtx};
use crate::model::{DiagLevel, Diagnostic, Event, Format, Location, Parsed, Props, TsKind, Value};
use std::sync::Arc;

/// Column-map state: what the `#` lines in effect say.
#[derive(Debug, Default)]
struct State {
    log_type: String,
    version: Option<String>,
    /// Field names of the active `#Fields:` line (or bare header row); `None` before any.
    fields: Option<Arc<[String]>>,
    /// Index of the `date-time` / `DateTime` column.
    time_col: Option<usize>,
    /// Indices of `ServerHostName`, `FrontEndServer`, `ServerName`, in that priority.
    host_cols: Vec<usize>,
}

impl State {
    /// Seeds the state from a chunk header (`#Log-type:`, `#Version:`, `#Fields:` lines). The
    /// `#Fields:` line comes last and may span lines (a bare header row with a quoted line end).
    fn from_header(header: &str) -> State {
        let mut st = State::default();
        let fields_at = if header.starts_with("#Fields:") {
            Some(0)
        } else {
            header.find("\n#Fields:").map(|i| i + 1)
        };
        let (before, fields) = match fields_at {
            Some(i) => (header.get(..i).unwrap_or(""), header.get(i..)),
            None => (header, None),
        };
        for line in before.lines().chain(fields) {
            meta_line(&mut st, line);
        }
        st
    }

    /// Binds a new column map.
    fn set_fields(&mut self, names: Vec<String>) {
        let names: Vec<String> = names
            .into_iter()
            .enumerate()
            .map(|(i, n)| {
                let n = n.trim();
                if n.is_empty() {
                    format!("_field{}", i + 1)
                } else {
                    n.to_string()
                }
            })
            .collect();
        let find = |want: &str| names.iter().position(|n| n.eq_ignore_ascii_case(want));
        self.time_col = find("date-time").or_else(|| find("DateTime"));
        self.host_cols = ["ServerHostName", "FrontEndServer", "ServerName"]
            .iter()
            .filter_map(|h| find(h))
            .collect();
        self.fields = Some(names.into());
    }
}

/// `meta_line := "#" NAME ":" TEXT` — applies a metadata line to the state. `#Fields:` rebinds
/// the column map; `#Log-type:` and `#Version:` are remembered; other `#` lines are ignored.
fn meta_line(st: &mut State, line: &str) {
    let Some(rest) = line.strip_prefix('#') else {
        return;
    };
    let Some((name, value)) = rest.split_once(':') else {
        return;
    };
    let value = value.trim();
    let name = name.trim();
    if name.eq_ignore_ascii_case("Fields") {
        st.set_fields(split_line(value, b','));
    } else if name.eq_ignore_ascii_case("Log-type") {
        st.log_type = value.to_string();
    } else if name.eq_ignore_ascii_case("Version") {
        st.version = Some(value.to_string()).filter(|v| !v.is_empty());
    }
}

/// `bare_header_row := NAME ("," NAME)*` — only at file position 0. A row there is taken as a
/// header unless its first field is a time stamp or starts with a digit (then it is data that
/// came before any `#Fields:` line and is rejected).
fn bare_header_row(first_field: &str) -> bool {
    let f = first_field.trim();
    !f.is_empty() && !f.starts_with(|c: char| c.is_ascii_digit()) && time::iso(f).is_none()
}

/// Header state rendered for a chunk (`#Log-type:`, `#Version:`, `#Fields:` lines joined by `\n`).
#[derive(Debug, Default, Clone)]
struct HeaderLines {
    log_type: Option<String>,
    version: Option<String>,
    fields: Option<String>,
}

/// The header state seen so far while scanning a chunk (shared by [`split`] and the skim).
#[derive(Debug, Default, Clone)]
pub(crate) struct HeaderTracker(HeaderLines);

impl HeaderTracker {
    /// Seeded from a chunk's `header`.
    pub(crate) fn new(header: &str) -> HeaderTracker {
        let mut h = HeaderLines::default();
        for line in header.lines() {
            h.note(line);
        }
        HeaderTracker(h)
    }

    /// Notes a `#` line, or the bare header row at file position 0 (re-quoted as a `#Fields:`
    /// line so that the parser reads back exactly the names it saw).
    pub(crate) fn note(&mut self, raw: &str) {
        if raw.starts_with('#') {
            self.0.note(raw);
            return;
        }
        let names = split_line(raw, b',');
        let quoted: Vec<String> = names
            .iter()
            .map(|n| format!("\"{}\"", n.replace('"', "\"\"")))
            .collect();
        self.0.fields = Some(format!("#Fields: {}", quoted.join(",")));
    }

    /// The state as a chunk `header`.
    pub(crate) fn render(&self) -> String {
        self.0.render()
    }
}

/// Whether the row at file position 0 is a bare header row (as [`parse_chunk`] decides).
fn is_bare_header_at_start(raw: &str) -> bool {
    CsvReader::new(raw, b',').next().is_some_and(|rec| {
        !rec.unterminated && bare_header_row(rec.fields.first().map(|f| f.as_ref()).unwrap_or(""))
    })
}

/// Record and `#` line starts of a chunk, by the parser's rules ([`record_end`]); the bare
/// header row at file position 0 is a header line, not a record.
pub(crate) fn marks(chunk: &Chunk<'_>, out: &mut Vec<super::skim::Mark>) {
    let bytes = chunk.text.as_bytes();
    let mut pos = 0usize;
    while pos < bytes.len() {
        if matches!(bytes.get(pos), Some(b'\n' | b'\r')) {
            pos = after_eol(bytes, pos);
            continue;
        }
        let end = if bytes.get(pos) == Some(&b'#') {
            line_end(bytes, pos)
        } else {
            record_end(bytes, pos).0
        };
        let raw = chunk.text.get(pos..end).unwrap_or("");
        let meta =
            raw.starts_with('#') || (chunk.offset == 0 && pos == 0 && is_bare_header_at_start(raw));
        if !raw.trim().is_empty() {
            out.push(super::skim::Mark { pos, meta });
        }
        pos = after_eol(bytes, end).max(end);
        if end == bytes.len() {
            break;
        }
    }
}

impl HeaderLines {
    fn note(&mut self, line: &str) {
        let Some((name, _)) = line.strip_prefix('#').and_then(|r| r.split_once(':')) else {
            return;
        };
        let slot = match name.trim().to_ascii_lowercase().as_str() {
            "fields" => &mut self.fields,
            "log-type" => &mut self.log_type,
            "version" => &mut self.version,
            _ => return,
        };
        *slot = Some(line.to_string());
    }

    fn render(&self) -> String {
        [&self.log_type, &self.version, &self.fields]
            .into_iter()
            .flatten()
            .map(String::as_str)
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// Parses one chunk (or a whole file given as [`Chunk::whole`]).
///
/// `file := [bare_header_row] (meta_line | record)*`. The state is seeded from `chunk.header`;
/// positions are reported as `chunk.line + local` and `chunk.offset + local`; record numbers
/// start at 1 within the chunk. Detailed diagnostics are capped per call.
pub fn parse_chunk(ctx: &FileCtx, chunk: &Chunk<'_>) -> Parsed {
    let mut st = State::from_header(&chunk.header);
    let mut out = Parsed::default();
    let mut rejects = super::Capped::default();
    let mut warnings = super::Capped::default();
    let mut rd = CsvReader::new(chunk.text, b',');
    let mut record_no: u64 = 0;
    while let Some(line) = rd.peek_line() {
        if line.trim().is_empty() {
            rd.skip_line();
            continue;
        }
        if line.starts_with('#') {
            meta_line(&mut st, line);
            rd.skip_line();
            continue;
        }
        let Some(rec) = rd.next() else { break };
        if chunk.offset == 0 && rec.offset == 0 && !rec.unterminated {
            let first = rec.fields.first().map(|f| f.as_ref()).unwrap_or("");
            if bare_header_row(first) {
                st.set_fields(rec.fields.iter().map(|f| f.to_string()).collect());
                continue;
            }
        }
        record_no += 1;
        let loc = Location {
            path: ctx.path.clone(),
            line: chunk.line + rec.line.saturating_sub(1),
            record: record_no,
            offset: chunk.offset + rec.offset,
        };
        match record(&st, &rec, loc) {
            Ok((event, notes)) => {
                for note in notes {
                    if warnings.admit(&event.loc) {
                        out.diagnostics.push(
                            Diagnostic::at(
                                DiagLevel::Warning,
                                &event.loc,
                                Format::ExchangeLog,
                                note,
                            )
                            .with_excerpt(rec.raw),
                        );
                    }
                }
                out.push(event);
            }
            Err((loc, reason)) => {
                if rejects.admit(&loc) {
                    out.reject(
                        Diagnostic::at(DiagLevel::Error, &loc, Format::ExchangeLog, reason)
                            .with_excerpt(rec.raw),
                    );
                } else {
                    out.rejected += 1;
                }
            }
        }
    }
    out.diagnostics
        .extend(rejects.summary(DiagLevel::Error, Format::ExchangeLog, "rows rejected"));
    out.diagnostics.extend(warnings.summary(
        DiagLevel::Warning,
        Format::ExchangeLog,
        "row warnings",
    ));
    out
}

/// `record := field ("," field)*` — one data row turned into a [`crate::model::Body::LogRow`],
/// with the warnings it raised, or the reason it was rejected.
#[allow(clippy::result_large_err)]
fn record(
    st: &State,
    rec: &CsvRecord<'_>,
    loc: Location,
) -> Result<(Event, Vec<String>), (Location, String)> {
    if rec.unterminated {
        return Err((loc, "unterminated quoted field".into()));
    }
    let Some(names) = st.fields.as_ref() else {
        return Err((loc, "row before any #Fields line".into()));
    };
    let mut notes = Vec::new();
    let mut props = Props(Vec::with_capacity(names.len() + 1));
    for (i, name) in names.iter().enumerate() {
        let v = rec.fields.get(i).map(|f| f.to_string()).unwrap_or_default();
        props.push(name.clone(), Value::Text(v));
    }
    let extra = rec.fields.len().saturating_sub(names.len());
    for (k, v) in rec.fields.iter().skip(names.len()).enumerate() {
        props.push(format!("_extra{}", k + 1), Value::Text(v.to_string()));
    }
    if extra > 0 {
        notes.push(format!(
            "row has {} fields, #Fields names {}; extra kept as _extra1…",
            rec.fields.len(),
            names.len()
        ));
    }
    if let Some(v) = &st.version {
        props.push("_version", Value::Text(v.clone()));
    }
    let cell = |i: usize| rec.fields.get(i).map(|f| f.trim()).unwrap_or("");
    let (time, kind) = match st.time_col.map(cell).filter(|s| !s.is_empty()) {
        Some(s) => match time::iso(s) {
            // The writer stamps UTC (formats.md §2.1); a value without a zone is still UTC.
            Some((t, TsKind::Local)) => (Some(t), TsKind::AssumedUtc),
            Some((t, k)) => (Some(t), k),
            None => {
                notes.push(format!("unreadable time {s:?}"));
                (None, TsKind::None)
            }
        },
        None => (None, TsKind::None),
    };
    let host = st
        .host_cols
        .iter()
        .map(|&i| cell(i))
        .find(|h| !h.is_empty() && *h != "-");
    let body = crate::model::Body::LogRow {
        log_type: st.log_type.clone(),
        fields: props,
    };
    let event = Event::new(Format::ExchangeLog, loc, body, rec.raw)
        .with_time(time, kind)
        .with_host(host);
    Ok((event, notes))
}

/// End of the record starting at `start` (the index of its line end, or the text length) and
/// the number of line ends inside it. Mirrors [`CsvReader`]: a `"` opens a quoted field only at
/// a field start, `""` inside it is a quote, and line ends inside it do not end the record.
fn record_end(bytes: &[u8], start: usize) -> (usize, u64) {
    // Jumps from quote to quote with memchr (a few calls per row): the skim walks every row.
    let eol_from = |i: usize| {
        bytes
            .get(i..)
            .and_then(|r| memchr::memchr2(b'\n', b'\r', r))
            .map_or(bytes.len(), |k| i + k)
    };
    let mut i = start;
    let mut field_start = true;
    let mut inner_lines = 0u64;
    let mut eol = eol_from(i);
    loop {
        let Some(q) = bytes
            .get(i..eol)
            .and_then(|r| memchr::memchr(b'"', r))
            .map(|k| i + k)
        else {
            return (eol, inner_lines);
        };
        let opens = if q == i {
            field_start
        } else {
            bytes.get(q - 1) == Some(&b',')
        };
        i = q + 1;
        field_start = false;
        if !opens {
            continue; // a plain quote inside an unquoted field
        }
        // Inside a quoted field: `""` is a quote, line ends do not end the record.
        loop {
            let rest = bytes.get(i..).unwrap_or_default();
            let Some(k) = memchr::memchr(b'"', rest) else {
                inner_lines += super::count_line_ends(rest);
                return (bytes.len(), inner_lines);
            };
            inner_lines += super::count_line_ends(rest.get(..k).unwrap_or_default());
            i += k + 1;
            if bytes.get(i) == Some(&b'"') {
                i += 1;
            } else {
                break;
            }
        }
        if i > eol {
            eol = eol_from(i);
        }
    }
}

/// End of the physical line starting at `start` (index of its line end, or the text length).
fn line_end(bytes: &[u8], start: usize) -> usize {
    bytes
        .get(start..)
        .and_then(|rest| memchr::memchr2(b'\n', b'\r', rest))
        .map_or(bytes.len(), |k| start + k)
}

/// Position after one line end at `i` (CRLF, LF or a lone CR), or `i` when there is none.
fn after_eol(bytes: &[u8], i: usize) -> usize {
    match bytes.get(i) {
        Some(b'\r') if bytes.get(i + 1) == Some(&b'\n') => i + 2,
        Some(b'\r' | b'\n') => i + 1,
        _ => i,
    }
}

/// Splits `text` into chunks of about `target` bytes for parallel parsing.
///
/// Cuts happen only at the start of a record or `#` line, as found by scanning the text with the
/// same quoting rule as the parser ([`record_end`]), so a cut never falls inside a quoted field;
/// in addition the line must begin with `20` (a `date-time` value of this millennium) or `#`
/// (INFERRED heuristic: every Exchange log row starts with its UTC time stamp). Each chunk's
/// `header` holds the `#Log-type:`, `#Version:` and `#Fields:` lines in effect where it starts (a
/// bare header row at position 0 is carried as a `#Fields:` line of re-quoted names); `line` and
/// `offset` locate it.
pub fn split(text: &str, target: usize) -> Vec<Chunk<'_>> {
    split_releasing(text, target, &|_, _| {})
}

/// [`split`], calling `done(offset, len)` for each chunk once it is cut.
pub fn split_releasing<'a>(
    text: &'a str,
    target: usize,
    done: &dyn Fn(usize, usize),
) -> Vec<Chunk<'a>> {
    let target = target.max(1);
    let bytes = text.as_bytes();
    let mut chunks = Vec::new();
    let mut hdr = HeaderTracker::default();
    let (mut chunk_start, mut chunk_line, mut chunk_header) = (0usize, 1u64, String::new());
    let (mut pos, mut line) = (0usize, 1u64);
    while pos < bytes.len() {
        if matches!(bytes.get(pos), Some(b'\n' | b'\r')) {
            pos = after_eol(bytes, pos);
            line += 1;
            continue;
        }
        let starts_record =
            bytes.get(pos..pos + 2) == Some(b"20".as_slice()) || bytes.get(pos) == Some(&b'#');
        if pos - chunk_start >= target && starts_record {
            chunks.push(Chunk {
                text: text.get(chunk_start..pos).unwrap_or(""),
                line: chunk_line,
                offset: chunk_start as u64,
                header: std::mem::take(&mut chunk_header),
            });
            done(chunk_start, pos - chunk_start);
            chunk_start = pos;
            chunk_line = line;
            chunk_header = hdr.render();
        }
        let (end, inner) = if bytes.get(pos) == Some(&b'#') {
            (line_end(bytes, pos), 0)
        } else {
            record_end(bytes, pos)
        };
        let raw = text.get(pos..end).unwrap_or("");
        if raw.starts_with('#') || (pos == 0 && is_bare_header_at_start(raw)) {
            hdr.note(raw);
        }
        line += inner;
        if end < bytes.len() {
            line += 1;
        }
        pos = after_eol(bytes, end).max(end);
    }
    if chunk_start < bytes.len() || chunks.is_empty() {
        chunks.push(Chunk {
            text: text.get(chunk_start..).unwrap_or(""),
            line: chunk_line,
            offset: chunk_start as u64,
            header: chunk_header,
        });
    }
    chunks
}

#[cfg(test)]
#[path = "exlog_tests.rs"]
pub(crate) mod tests;
