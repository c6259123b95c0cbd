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
    let mut i = start;
    let mut inner_lines = 0u64;
    let mut field_start = true;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'"' if field_start => {
                i += 1;
                loop {
                    match bytes.get(i) {
                        None => return (bytes.len(), inner_lines),
                        Some(b'"') if bytes.get(i + 1) == Some(&b'"') => i += 2,
                        Some(b'"') => {
                            i += 1;
                            break;
                        }
                        Some(b'\n') => {
                            inner_lines += 1;
                            i += 1;
                        }
                        Some(b'\r') => {
                            if bytes.get(i + 1) != Some(&b'\n') {
                                inner_lines += 1;
                            }
                            i += 1;
                        }
                        Some(_) => i += 1,
                    }
                }
                field_start = false;
            }
            b'\n' | b'\r' => return (i, inner_lines),
            b',' => {
                field_start = true;
                i += 1;
            }
            _ => {
                field_start = false;
                i += 1;
            }
        }
    }
    (bytes.len(), inner_lines)
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
    let target = target.max(1);
    let bytes = text.as_bytes();
    let mut chunks = Vec::new();
    let mut hdr = HeaderLines::default();
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
        if raw.starts_with('#') {
            hdr.note(raw);
        } else if pos == 0 {
            let names = split_line(raw, b',');
            if bare_header_row(names.first().map(String::as_str).unwrap_or("")) {
                // Re-quoted so that `meta_line` reads back exactly the names the parser saw.
                let quoted: Vec<String> = names
                    .iter()
                    .map(|n| format!("\"{}\"", n.replace('"', "\"\"")))
                    .collect();
                hdr.fields = Some(format!("#Fields: {}", quoted.join(",")));
            }
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
pub(crate) mod tests {
    use super::*;
    use crate::model::Body;

    /// The ```` ```example ```` blocks of a grammar spec (shared by the format tests).
    pub(crate) fn grammar_examples(md: &str) -> Vec<String> {
        let mut out = Vec::new();
        let mut cur: Option<String> = None;
        for line in md.lines() {
            match cur.as_mut() {
                None if line.starts_with("```example") => cur = Some(String::new()),
                None => {}
                Some(_) if line.starts_with("```") => out.extend(cur.take()),
                Some(buf) => {
                    buf.push_str(line);
                    buf.push('\n');
                }
            }
        }
        out
    }

    #[test]
    fn grammar_examples_parse_cleanly() {
        let blocks = grammar_examples(include_str!("../../grammars/exchange-log.md"));
        assert_eq!(blocks.len(), 3);
        for b in &blocks {
            let p = whole(b);
            assert!(
                p.parsed >= 1 && p.rejected == 0 && p.diagnostics.is_empty(),
                "{b}: {:?}",
                p.diagnostics
            );
            assert!(check_split_invariant(b, 16) > 1);
        }
        let ews = whole(&blocks[1]);
        let (lt, f) = fields(&ews.events[0]);
        assert_eq!(
            (lt, f.text("ErrorCode")),
            ("EWS Logs", Some("ErrorImpersonateUserDenied"))
        );
        assert_eq!(ews.events[0].host.as_deref(), Some("EX01"));
        assert_eq!(ews.events[0].loc.line, 7);
    }

    const SYNC: &str = "#Software: Microsoft Exchange Server\r\n#Version: 15.01.2375.007\r\n#Log-type: Sync Logs\r\n#Date: 2020-09-25T11:34:00.000Z\r\n#Fields: date-time,thread-id,level,user,subscription-guid,subscription-type,logentry-id,context,property-bag\r\n2020-09-25T11:34:38.488Z,28,5,,,,0,\"DEBUG:InstantMessageOCSProvider.ChangeUserPresenceAfterInactivity. Context: user@contoso.local, Sip address=sip:user@contoso.local, Lyncserver=srv-lync01.contoso.local\",\r\n2020-09-25T11:34:38.504Z,53,5,,,,0,DEBUG:Queuing IM payload item UpdateUserPresence for user sip:user@contoso.local,\r\n";

    const EWS: &str = "DateTime,RequestId,ServerHostName,FrontEndServer,SoapAction,HttpStatus,ErrorCode\n#Software: Microsoft Exchange Server\n#Version: 15.02.1118.007\n#Log-type: EWS Logs\n#Date: 2023-11-20T14:15:43.189Z\n#Fields: DateTime,RequestId,ServerHostName,FrontEndServer,SoapAction,HttpStatus,ErrorCode\n2023-11-20T14:15:44.001Z,r1,EX01,FE01,GetUserAvailability,500,ErrorImpersonateUserDenied\n2023-11-20T14:15:45.002Z,r2,,FE02,GetItem,200,\n2023-11-20T14:15:46.003Z,r3,-,,\"multi\nline \"\"action\"\"\",200,,surplus\n";

    fn ctx() -> FileCtx {
        FileCtx::new("bundle.zip!MBX01/OWA_Logs/InstantMessaging/SyncLog.log")
    }

    fn whole(text: &str) -> Parsed {
        parse_chunk(&ctx(), &Chunk::whole(text))
    }

    fn fields(e: &Event) -> (&str, &Props) {
        match &e.body {
            Body::LogRow { log_type, fields } => (log_type, fields),
            other => panic!("not a log row: {other:?}"),
        }
    }

    #[test]
    fn sync_logs_rows() {
        let p = whole(SYNC);
        assert_eq!((p.parsed, p.rejected), (2, 0));
        assert!(p.diagnostics.is_empty(), "{:?}", p.diagnostics);
        let e = &p.events[0];
        let (lt, f) = fields(e);
        assert_eq!(lt, "Sync Logs");
        assert_eq!(f.len(), 10);
        assert_eq!(f.text("thread-id"), Some("28"));
        assert_eq!(f.text("user"), Some(""));
        assert!(f
            .text("context")
            .unwrap_or("")
            .contains("Lyncserver=srv-lync01.contoso.local"));
        assert_eq!(f.text("property-bag"), Some(""));
        assert_eq!(f.text("_version"), Some("15.01.2375.007"));
        assert_eq!(
            e.time.map(|t| t.to_rfc3339()),
            Some("2020-09-25T11:34:38.488+00:00".into())
        );
        assert_eq!(e.ts_kind, TsKind::Utc);
        assert_eq!((e.loc.line, e.loc.record), (6, 1));
        assert_eq!(
            e.loc.offset as usize,
            SYNC.find("2020-09-25T11:34:38.488Z").unwrap()
        );
        assert_eq!(e.host, None);
        assert_eq!(p.events[1].loc.line, 7);
    }

    #[test]
    fn ews_bare_header_hosts_quotes_and_extras() {
        let p = whole(EWS);
        assert_eq!((p.parsed, p.rejected), (3, 0));
        let hosts: Vec<_> = p.events.iter().map(|e| e.host.as_deref()).collect();
        assert_eq!(hosts, vec![Some("EX01"), Some("FE02"), None]);
        let (lt, f) = fields(&p.events[0]);
        assert_eq!(lt, "EWS Logs");
        assert_eq!(f.text("ErrorCode"), Some("ErrorImpersonateUserDenied"));
        let (_, f3) = fields(&p.events[2]);
        assert_eq!(f3.text("SoapAction"), Some("multi\nline \"action\""));
        assert_eq!(f3.text("_extra1"), Some("surplus"));
        assert_eq!(p.events[2].loc.line, 9);
        let warn: Vec<_> = p
            .diagnostics
            .iter()
            .filter(|d| d.level == DiagLevel::Warning)
            .collect();
        assert_eq!(warn.len(), 1);
        assert_eq!(warn[0].line, 9);
    }

    #[test]
    fn bare_header_alone_binds_fields() {
        let p = whole("date-time,x\n2021-01-01T00:00:00Z,1\n");
        assert_eq!((p.parsed, p.rejected), (1, 0));
        assert_eq!(fields(&p.events[0]).1.text("x"), Some("1"));
        assert_eq!(fields(&p.events[0]).0, "");
    }

    #[test]
    fn fields_rebind_mid_file_and_missing_fields() {
        let t = "#Fields: date-time,a,b\n2021-01-01T00:00:00.5Z,1\n#Log-type: Other\n#Fields: DateTime,c\n2021-01-02T00:00:00,9\n";
        let p = whole(t);
        assert_eq!((p.parsed, p.rejected), (2, 0));
        let (_, f1) = fields(&p.events[0]);
        assert_eq!((f1.text("a"), f1.text("b")), (Some("1"), Some("")));
        let (lt, f2) = fields(&p.events[1]);
        assert_eq!((lt, f2.text("c"), f2.get("a")), ("Other", Some("9"), None));
        assert_eq!(p.events[1].ts_kind, TsKind::AssumedUtc);
        assert_eq!(p.events[1].loc.record, 2);
    }

    #[test]
    fn rejects_rows_before_fields_and_unterminated_quotes() {
        let t = "2021-01-01T00:00:00Z,early\n#Fields: date-time,a\n2021-01-01T00:00:01Z,ok\nnot-a-time,x\n2021-01-01T00:00:02Z,\"open\nnever closed\n";
        let p = whole(t);
        assert_eq!((p.parsed, p.rejected), (2, 2));
        let errs: Vec<_> = p
            .diagnostics
            .iter()
            .filter(|d| d.level == DiagLevel::Error)
            .collect();
        assert_eq!(errs.len(), 2);
        assert_eq!((errs[0].line, errs[0].record, errs[0].offset), (1, 1, 0));
        assert_eq!(errs[0].message, "row before any #Fields line");
        assert_eq!((errs[1].line, errs[1].record), (5, 4));
        assert_eq!(errs[1].message, "unterminated quoted field");
        // The unreadable time is a warning on a parsed row.
        assert!(p
            .diagnostics
            .iter()
            .any(|d| d.level == DiagLevel::Warning && d.line == 4));
    }

    #[test]
    fn reject_details_are_capped() {
        let mut t = String::from("2000-01-01T00:00:00Z\n");
        for _ in 0..80 {
            t.push_str("2000-01-01T00:00:00Z,x\n");
        }
        let p = whole(&t);
        assert_eq!((p.parsed, p.rejected), (0, 81));
        assert_eq!(p.diagnostics.len(), crate::formats::DETAIL_CAP + 1);
        assert!(p.diagnostics[crate::formats::DETAIL_CAP]
            .message
            .starts_with("31 more rows rejected"));
    }

    #[test]
    fn malformed_inputs_do_not_panic() {
        // Junk at position 0 reads as a bare header row; `,,,` is then a row of empty fields.
        let junk = "\u{0}\u{1}\u{fffd}garbage,\"\r\r\n\"\"\"\n#\n#:\n#Fields\n,,,\n\"";
        let cases: [(&str, u64, u64); 6] = [
            ("", 0, 0),
            ("\n\r\n \t\r", 0, 0),
            (junk, 1, 1),
            ("#Fields: a\n\"", 0, 1),
            ("é,ü\n20é", 1, 0),
            ("1\u{7f}\u{0}\u{0}\u{2}\n2\u{0}0,\u{1}\r\u{1b}", 0, 3),
        ];
        for (t, parsed, rejected) in cases {
            let p = whole(t);
            assert_eq!((p.parsed, p.rejected), (parsed, rejected), "{t:?}");
            assert_eq!(p.parsed, p.events.len() as u64);
            for n in [1, 2, 7] {
                check_split_invariant(t, n);
            }
        }
    }

    /// Parses `text` whole and as chunks; events must match after rebasing record numbers.
    fn check_split_invariant(text: &str, target: usize) -> usize {
        let reference = whole(text);
        let chunks = split(text, target);
        let joined: String = chunks.iter().map(|c| c.text).collect();
        assert_eq!(joined, text);
        let mut events = Vec::new();
        let (mut base, mut parsed, mut rejected) = (0u64, 0u64, 0u64);
        for c in &chunks {
            assert_eq!(&text[c.offset as usize..][..c.text.len()], c.text);
            let before = &text[..c.offset as usize];
            let line_ends = before.replace("\r\n", "\n").matches(['\n', '\r']).count();
            assert_eq!(c.line, 1 + line_ends as u64);
            let p = parse_chunk(&ctx(), c);
            for mut e in p.events {
                e.loc.record += base;
                events.push(e);
            }
            base += p.parsed + p.rejected;
            parsed += p.parsed;
            rejected += p.rejected;
        }
        assert_eq!((parsed, rejected), (reference.parsed, reference.rejected));
        assert_eq!(events, reference.events);
        chunks.len()
    }

    #[test]
    fn split_then_parse_equals_whole_parse() {
        let mut big = String::from(EWS);
        big.push_str(SYNC);
        big.push_str("2021-01-01T00:00:00Z,1,5,,,,0,\"quoted\n2020 looks like a row start\n#and a header\",\n");
        big.push_str(&SYNC.replace("\r\n", "\n"));
        big.push_str("2021-01-01T00:00:00Z,\"unterminated\n2020-01-01\n");
        for target in [1, 10, 64, 200, 1000, 1 << 20] {
            let n = check_split_invariant(&big, target);
            if target == 1 {
                assert!(n > 10, "{n} chunks");
            }
        }
        // A chunk never starts inside the quoted field.
        for c in split(&big, 1) {
            assert!(!c.text.starts_with("2020 looks") && !c.text.starts_with("#and"));
        }
    }

    /// Deterministic pseudo-random texts built from the tokens that matter to the grammar.
    pub(crate) fn junk_texts(tokens: &[&str], count: usize) -> Vec<String> {
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        (0..count)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                let len = (x % 60) as usize;
                (0..len)
                    .map(|_| {
                        x ^= x << 13;
                        x ^= x >> 7;
                        x ^= x << 17;
                        tokens[(x % tokens.len() as u64) as usize]
                    })
                    .collect()
            })
            .collect()
    }

    #[test]
    fn random_texts_keep_the_split_invariant() {
        let tokens = [
            "\n",
            "\r\n",
            "\r",
            ",",
            "\"",
            "\"\"",
            "#Fields: date-time,a,ServerName\n",
            "#Log-type: X\n",
            "#Version: 1\n",
            "2021-01-01T00:00:00Z",
            "20",
            "x",
            "é",
            "\u{0}",
            " ",
            "HOST",
            "-",
        ];
        for t in junk_texts(&tokens, 3000) {
            let p = whole(&t);
            assert_eq!(p.parsed, p.events.len() as u64);
            for target in [1, 5, 33] {
                check_split_invariant(&t, target);
            }
        }
    }

    #[test]
    fn split_headers_carry_state() {
        let chunks = split(EWS, 1);
        let last = chunks.last().unwrap();
        assert!(last.header.contains("#Log-type: EWS Logs"));
        assert!(last.header.contains("#Fields: DateTime,RequestId"));
        assert!(last.header.contains("#Version: 15.02.1118.007"));
        let second = &chunks[1];
        assert_eq!(second.line, 2);
        assert_eq!(
            second.header,
            "#Fields: \"DateTime\",\"RequestId\",\"ServerHostName\",\"FrontEndServer\",\"SoapAction\",\"HttpStatus\",\"ErrorCode\""
        );
        assert_eq!(split("", 10).len(), 1);
    }
}
