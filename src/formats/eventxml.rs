//! `wevtutil qe … /f:xml` fragment streams (formats.md §1.3), and the one event-XML mapping that
//! every Windows event form shares.
//!
//! Why this module exists: a Windows event reaches a bundle as binary `.evtx`, as an XML fragment
//! stream, or as text that may embed the event's XML (Event Viewer "Copy details as text"). The
//! identity rule of §1.1 (Channel, Provider, EventID & 0xFFFF, Qualifiers, Data[]) must come out the
//! same whatever the form, so the XML → [`WinEvent`] mapping lives here once
//! ([`win_event_from_xml`]) and `evtx.rs` and `eventtext.rs` reuse it. The small helpers shared by
//! the five event parsers (level words, event-id parsing, safe time parsing, line index, capped
//! reject diagnostics, excerpts) live here too, next to the mapping they serve.

use crate::formats::{time, Chunk, FileCtx};
use crate::model::{
    Body, DiagLevel, Diagnostic, Event, Format, Location, Parsed, TsKind, WinEvent,
};
use chrono::{DateTime, Utc};
use quick_xml::events::{BytesStart, Event as XmlEvent};
use quick_xml::Reader;
use std::borrow::Cow;

/// Detailed reject diagnostics kept per file; the rest are summed up in one diagnostic.
pub(crate) const MAX_REJECT_DIAGS: u64 = 50;

/// What one `<Event>` element says, before it becomes an [`Event`].
#[derive(Clone, Debug, Default, PartialEq)]
pub struct XmlRecord {
    pub win: WinEvent,
    /// `System/TimeCreated/@SystemTime` (UTC).
    pub time: Option<(DateTime<Utc>, TsKind)>,
    /// `System/Computer`.
    pub computer: Option<String>,
    /// Bytes of the input consumed, up to and including the closing `</Event>`.
    pub len: usize,
}

/// Where a text value goes once its element closes.
#[derive(Clone, Debug, PartialEq)]
enum Target {
    System(String),
    Data(Option<String>),
    User(String),
    Rendering(String),
}

/// Maps one event element to an [`XmlRecord`]. `xml` must start with the element (an XML
/// declaration, comments and white space before it are skipped); anything after the closing
/// `</Event>` is ignored and [`XmlRecord::len`] says where the element ended. Elements are matched
/// by local name, so any namespace (or none, or `xmlns=""`) is accepted.
pub fn win_event_from_xml(xml: &str) -> Result<XmlRecord, String> {
    let mut reader = Reader::from_str(xml);
    reader.config_mut().expand_empty_elements = true;
    let mut rec = XmlRecord::default();
    // Stays the "no usable id" marker unless an `EventID` element holds a number.
    rec.win.event_id = u32::MAX;
    let mut stack: Vec<String> = Vec::new();
    // (target, depth at which it was opened, collected text)
    let mut cur: Option<(Target, usize, String)> = None;
    let mut user_root: Option<usize> = None;
    loop {
        let ev = reader.read_event().map_err(|e| {
            format!(
                "malformed event XML at byte {}: {e}",
                reader.error_position()
            )
        })?;
        match ev {
            XmlEvent::Start(s) => {
                let name = local_name(&s);
                if stack.is_empty() && name != "Event" {
                    return Err(format!("root element is <{name}>, not <Event>"));
                }
                if !stack.is_empty() && name == "Event" {
                    return Err("a new <Event> starts before the previous one is closed".into());
                }
                stack.push(name);
                let depth = stack.len();
                if cur.is_none() {
                    cur = open_target(&s, &stack, &mut rec, &mut user_root)
                        .map(|t| (t, depth, String::new()));
                }
            }
            XmlEvent::End(_) => {
                let depth = stack.len();
                if let Some((target, d, text)) = cur.take() {
                    if d == depth {
                        close_target(target, text, &mut rec);
                    } else {
                        cur = Some((target, d, text));
                    }
                }
                if user_root == Some(depth) {
                    user_root = None;
                }
                stack.pop();
                if stack.is_empty() {
                    rec.len = usize::try_from(reader.buffer_position()).unwrap_or(xml.len());
                    return Ok(rec);
                }
            }
            XmlEvent::Text(t) => {
                if let Some((_, _, text)) = cur.as_mut() {
                    match t.unescape() {
                        Ok(s) => text.push_str(&s),
                        Err(_) => text.push_str(&String::from_utf8_lossy(&t)),
                    }
                } else if stack.is_empty() && !t.iter().all(u8::is_ascii_whitespace) {
                    return Err("text before the <Event> element".into());
                }
            }
            XmlEvent::CData(c) => {
                if let Some((_, _, text)) = cur.as_mut() {
                    text.push_str(&String::from_utf8_lossy(&c));
                }
            }
            XmlEvent::Eof => {
                return Err(if stack.is_empty() {
                    "no <Event> element".into()
                } else {
                    "truncated event: no closing </Event>".into()
                });
            }
            _ => {}
        }
    }
}

fn local_name(s: &BytesStart<'_>) -> String {
    String::from_utf8_lossy(s.local_name().as_ref()).into_owned()
}

/// Value of an attribute by local name (unescaped, raw when unescaping fails).
fn attr(s: &BytesStart<'_>, name: &str) -> Option<String> {
    s.attributes()
        .flatten()
        .find(|a| a.key.local_name().as_ref() == name.as_bytes())
        .map(|a| {
            a.unescape_value()
                .map(Cow::into_owned)
                .unwrap_or_else(|_| String::from_utf8_lossy(&a.value).into_owned())
        })
}

/// Decides whether the element just opened (last on `stack`) carries a value we keep.
fn open_target(
    s: &BytesStart<'_>,
    stack: &[String],
    rec: &mut XmlRecord,
    user_root: &mut Option<usize>,
) -> Option<Target> {
    let depth = stack.len();
    let name = stack.last()?.as_str();
    let parent = if depth >= 2 {
        stack.get(depth - 2).map(String::as_str)
    } else {
        None
    };
    match (depth, parent) {
        (3, Some("System")) => {
            match name {
                "Provider" => {
                    if let Some(n) = attr(s, "Name").or_else(|| attr(s, "EventSourceName")) {
                        rec.win.provider = n.trim().to_string();
                    }
                }
                "EventID" => {
                    rec.win.qualifiers = attr(s, "Qualifiers").and_then(|q| q.trim().parse().ok())
                }
                "TimeCreated" => rec.time = attr(s, "SystemTime").and_then(|t| iso_utc(&t)),
                _ => {}
            }
            Some(Target::System(name.to_string()))
        }
        (3, Some("EventData")) if name == "Data" => Some(Target::Data(attr(s, "Name"))),
        (3, Some("UserData")) => {
            *user_root = Some(depth);
            None
        }
        (4, _) if *user_root == Some(3) => Some(Target::User(name.to_string())),
        (3, Some("RenderingInfo")) => Some(Target::Rendering(name.to_string())),
        _ => None,
    }
}

fn close_target(target: Target, text: String, rec: &mut XmlRecord) {
    let w = &mut rec.win;
    match target {
        Target::System(name) => {
            let v = text.trim();
            match name.as_str() {
                "EventID" => {
                    if let Some((id, q)) = parse_event_id(v) {
                        w.event_id = id;
                        if w.qualifiers.is_none() {
                            w.qualifiers = q;
                        }
                    }
                }
                "Level" => w.level = v.parse().ok(),
                "Task" if !v.is_empty() => w.task = Some(v.to_string()),
                "EventRecordID" => w.record_id = v.parse().ok(),
                "Channel" => w.channel = v.to_string(),
                "Computer" if !v.is_empty() => rec.computer = Some(v.to_string()),
                _ => {}
            }
        }
        Target::Data(Some(name)) => w.named.push((name, text)),
        Target::Data(None) => w.data.push(text),
        Target::User(name) => w.named.push((name, text)),
        Target::Rendering(name) => {
            let v = text.trim();
            match name.as_str() {
                "Message" if !v.is_empty() => w.description = Some(v.to_string()),
                "Level" if !v.is_empty() => w.level_text = Some(v.to_string()),
                _ => {}
            }
        }
    }
}

/// Turns a mapped record into an [`Event`]; `None` when it carries no usable EventID.
pub(crate) fn event_from_record(
    format: Format,
    loc: Location,
    rec: XmlRecord,
) -> Result<Event, String> {
    if rec.win.event_id == u32::MAX {
        return Err("event has no numeric EventID".into());
    }
    let excerpt = excerpt_for(&rec.win);
    let (time, kind) = match rec.time {
        Some((t, k)) => (Some(t), k),
        None => (None, TsKind::None),
    };
    Ok(Event::new(format, loc, Body::WinEvent(rec.win), &excerpt)
        .with_time(time, kind)
        .with_host(rec.computer.as_deref()))
}

/// Parses a `wevtutil qe /f:xml` stream: `[XMLDecl] [<root>] (WS* event)* [</root>]`
/// (rule `parse` of grammars/event-xml.md). A malformed event is rejected with its line and
/// reading resumes at the next `<Event`.
pub fn parse(ctx: &FileCtx, text: &str) -> Parsed {
    parse_chunk(ctx, &Chunk::whole(text))
}

/// [`parse`] of one chunk cut by [`split`]: positions are `chunk.line + local` and
/// `chunk.offset + local`, record numbers start at 1 within the chunk.
pub fn parse_chunk(ctx: &FileCtx, chunk: &Chunk<'_>) -> Parsed {
    let text = chunk.text;
    let mut out = Parsed::default();
    let lines = LineIndex::new(text);
    let mut pos = 0usize;
    let mut record = 0u64;
    while let Some(start) = find_event_start(text, pos) {
        record += 1;
        let loc = Location {
            path: ctx.path.clone(),
            line: chunk.line + lines.line_of(start) - 1,
            record,
            offset: chunk.offset + start as u64,
        };
        // A record is the text up to the next `<Event` start tag: the same boundaries the
        // splitter cuts at and the skim counts, whatever the record holds.
        let next = find_event_start(text, start + 1).unwrap_or(text.len());
        let rest = text.get(start..next).unwrap_or("");
        match win_event_from_xml(rest)
            .and_then(|rec| event_from_record(Format::EventXml, loc.clone(), rec))
        {
            Ok(event) => out.push(event),
            Err(msg) => reject_capped(
                &mut out,
                Diagnostic::at(DiagLevel::Error, &loc, Format::EventXml, msg).with_excerpt(rest),
            ),
        }
        pos = next;
    }
    if record == 0 && chunk.offset == 0 && !text.trim().is_empty() {
        let mut d = Diagnostic::file(DiagLevel::Warning, &ctx.path, "no <Event> element found");
        d.format = Some(Format::EventXml);
        out.diagnostics.push(d.with_excerpt(text));
    }
    finish_rejects(&mut out, &ctx.path, Format::EventXml);
    out
}

/// Splits an export into chunks of at least `target` bytes, cutting only before an `<Event`
/// start tag (the places where [`parse`] starts a record), so every chunk parses on its own.
/// Invariant (tested): parsing the chunks in order equals parsing the whole text, after rebasing
/// record numbers.
pub fn split(text: &str, target: usize) -> Vec<Chunk<'_>> {
    split_releasing(text, target, &|_, _| {})
}

/// [`split`], calling `done(offset, len)` for each chunk once it is cut.
pub fn split_releasing<'a>(
    text: &'a str,
    target: usize,
    done: &dyn Fn(usize, usize),
) -> Vec<Chunk<'a>> {
    super::split_at_starts(text, target, &|p| find_event_start(text, p), done)
}

/// Byte offset of the next `<Event` (or `<prefix:Event`) start tag at or after `from`.
pub(crate) fn find_event_start(text: &str, from: usize) -> Option<usize> {
    // Jumps from `<Event` / `:Event` to the next (memmem) and checks the tag around it, instead of
    // reading every tag: the skim and the splitter call this for every record of a large export.
    type F = memchr::memmem::Finder<'static>;
    static FINDERS: std::sync::OnceLock<(F, F)> = std::sync::OnceLock::new();
    let (lt_event, colon_event) = FINDERS.get_or_init(|| {
        (
            memchr::memmem::Finder::new(b"<Event"),
            memchr::memmem::Finder::new(b":Event"),
        )
    });
    let bytes = text.as_bytes();
    let find =
        |f: &F, i: usize, end: usize| bytes.get(i..end).and_then(|r| f.find(r)).map(|k| i + k);
    let is_name = |c: u8| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'.' | b':');
    let mut i = from;
    loop {
        // `p`: the next `Event` preceded by `<` or `:` (no other can be a start tag's name). The
        // rare `:Event` is only looked for up to the next `<Event`, so each byte is read once.
        let lt_hit = find(lt_event, i, bytes.len());
        let colon_hit = find(colon_event, i, lt_hit.unwrap_or(bytes.len()));
        let p = match (colon_hit, lt_hit) {
            (Some(b), _) => b + 1,
            (None, Some(a)) => a + 1,
            (None, None) => return None,
        };
        i = p;
        let follows_ok = bytes
            .get(p + 5)
            .is_none_or(|c| c.is_ascii_whitespace() || *c == b'>' || *c == b'/');
        if !follows_ok {
            continue;
        }
        // `<Event`, or `<prefix:Event` (the local name after the last `:` is `Event`).
        let lt = match bytes.get(p - 1) {
            Some(b'<') => Some(p - 1),
            _ => {
                let mut q = p - 1;
                while q > 0 && bytes.get(q - 1).is_some_and(|&c| is_name(c)) {
                    q -= 1;
                }
                (q > 0 && bytes.get(q - 1) == Some(&b'<')).then(|| q - 1)
            }
        };
        if let Some(lt) = lt.filter(|&lt| lt >= from) {
            return Some(lt);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Helpers shared by the five Windows event parsers.

/// Parses an event id (`101`, ` 4625 `, or a full classic message id such as `3221225573`):
/// returns `(id & 0xFFFF, qualifiers)` where qualifiers are the high 16 bits when present.
pub(crate) fn parse_event_id(s: &str) -> Option<(u32, Option<u32>)> {
    let v: u64 = s.trim().parse().ok()?;
    let id = u32::try_from(v & 0xFFFF).ok()?;
    let high = v >> 16;
    let q = if high > 0 {
        u32::try_from(high & 0xFFFF).ok()
    } else {
        None
    };
    Some((id, q))
}

/// Level number for a level word (English and a few common localisations, INFERRED).
pub(crate) fn level_from_word(word: &str) -> Option<u8> {
    let w = word.trim().to_lowercase();
    Some(match w.as_str() {
        "critical" | "critique" | "kritisch" | "crítico" | "critico" | "kritiek" => 1,
        "error" | "erreur" | "fehler" | "fout" | "errore" => 2,
        "warning" | "avertissement" | "warnung" | "advertencia" | "waarschuwing" | "avviso" => 3,
        "information" | "informationen" | "información" | "informatie" | "informazioni"
        | "informational" => 4,
        "verbose" | "ausführlich" | "détaillé" | "detallado" => 5,
        _ => return None,
    })
}

/// English word for a level number, for excerpts.
pub(crate) fn level_word(level: u8) -> &'static str {
    match level {
        1 => "Critical",
        2 => "Error",
        3 => "Warning",
        0 | 4 => "Information",
        5 => "Verbose",
        _ => "Level?",
    }
}

/// A one-line summary: `Application MSExchange OWA 101 Error: <first data or description>`.
pub(crate) fn excerpt_for(w: &WinEvent) -> String {
    let level = w
        .level_text
        .clone()
        .or_else(|| w.level.map(|l| level_word(l).to_string()))
        .unwrap_or_default();
    let head: Vec<String> = [
        w.channel.clone(),
        w.provider.clone(),
        w.event_id.to_string(),
        level,
    ]
    .into_iter()
    .filter(|s| !s.trim().is_empty())
    .collect();
    let data: Vec<&str> = w
        .data
        .iter()
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
        .collect();
    let detail = if !data.is_empty() {
        data.join(" | ")
    } else if !w.named.is_empty() {
        w.named
            .iter()
            .filter(|(_, v)| !v.trim().is_empty())
            .map(|(k, v)| format!("{k}={}", v.trim()))
            .collect::<Vec<_>>()
            .join("; ")
    } else {
        w.description.as_deref().unwrap_or("").trim().to_string()
    };
    let mut s = head.join(" ");
    if !detail.is_empty() {
        s.push_str(": ");
        s.push_str(&detail);
    }
    s
}

/// Keeps only ASCII and drops the bidi marks Windows puts into localised dates, so that the
/// shared time parsers (which slice by byte position) only ever see ASCII.
fn ascii_only(s: &str) -> Option<String> {
    let cleaned: String = s
        .chars()
        .filter(|c| !matches!(c, '\u{200e}' | '\u{200f}' | '\u{feff}'))
        .collect();
    cleaned.is_ascii().then_some(cleaned)
}

/// ISO 8601 time with a zone (`SystemTime`, wevtutil text `Date:`).
pub(crate) fn iso_utc(s: &str) -> Option<(DateTime<Utc>, TsKind)> {
    time::iso(&ascii_only(s)?)
}

/// Culture-formatted local time, or ISO when the text is ISO.
pub(crate) fn local_time(s: &str) -> Option<(DateTime<Utc>, TsKind)> {
    time::local(&ascii_only(s)?)
}

/// Records a rejected record; after [`MAX_REJECT_DIAGS`] only the count grows.
pub(crate) fn reject_capped(out: &mut Parsed, diag: Diagnostic) {
    if out.rejected < MAX_REJECT_DIAGS {
        out.reject(diag);
    } else {
        out.rejected += 1;
    }
}

/// Adds the "N more rejected" diagnostic when the cap was hit.
pub(crate) fn finish_rejects(out: &mut Parsed, path: &std::sync::Arc<str>, format: Format) {
    if out.rejected > MAX_REJECT_DIAGS {
        let more = out.rejected - MAX_REJECT_DIAGS;
        let mut d = Diagnostic::file(
            DiagLevel::Error,
            path,
            format!("{more} more records were rejected (details shown for the first {MAX_REJECT_DIAGS})"),
        );
        d.format = Some(format);
        out.diagnostics.push(d);
    }
}

/// Line starts of a text (LF, CRLF and lone CR all end a line), for 1-based line numbers.
pub(crate) struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    pub(crate) fn new(text: &str) -> LineIndex {
        let b = text.as_bytes();
        let mut starts = vec![0];
        for (i, &c) in b.iter().enumerate() {
            if c == b'\n' || (c == b'\r' && b.get(i + 1) != Some(&b'\n')) {
                starts.push(i + 1);
            }
        }
        LineIndex { starts }
    }

    /// 1-based line holding byte `offset`.
    pub(crate) fn line_of(&self, offset: usize) -> u64 {
        self.starts.partition_point(|&s| s <= offset) as u64
    }
}

#[cfg(test)]
#[path = "eventxml_tests.rs"]
mod tests;
