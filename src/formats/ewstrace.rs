//! EWS SOAP responses and faults, and EWS Managed API client traces (formats.md §8.5).
//!
//! Why this module exists: when IM and Presence (or Lync / OWA) cannot read calendars over EWS,
//! the decisive evidence is the EWS answer itself: a SOAP fault (`a:ErrorImpersonateUserDenied`),
//! a per-item `ResponseCode` inside an otherwise successful envelope, or an HTTP 401 before any
//! SOAP at all. Bundles carry them as saved SOAP responses or as EWS Managed API traces — XML
//! fragments `<Trace Tag="EwsResponse" Tid="37" Time="2018-10-30 17:00:18Z" Version="2.2.0.1">`
//! (VERIFIED framing) with no single root. This parser reads both with quick-xml and turns each
//! response, fault or failed HTTP exchange into one `Body::LogRow { log_type: "ews-trace" }` whose
//! field names match the EWS protocol log (§2.4) where they overlap, so rules can treat both alike.
//!
//! Grammar and status markers: `grammars/ews-trace.md`; rule names used there: [`parse`],
//! [`trace`], [`envelope`], [`http_status`].

use super::psobject::{DiagSink, LineIndex};
use super::FileCtx;
use crate::model::{
    Body, DiagLevel, Diagnostic, Event, Format, Location, Parsed, Props, TsKind, Value,
};
use chrono::{DateTime, Utc};
use quick_xml::events::{BytesStart, Event as XmlEvent};
use quick_xml::Reader;
use std::collections::HashMap;

/// The `log_type` of every row of this parser.
pub const LOG_TYPE: &str = "ews-trace";

/// What one trace or envelope holds, gathered while reading it.
#[derive(Default)]
struct Rec {
    loc: Option<Location>,
    time: Option<(DateTime<Utc>, TsKind)>,
    tag: Option<String>,
    tid: Option<String>,
    version: Option<String>,
    /// Direct text of a `<Trace>` (HTTP headers, exception text).
    text: String,
    /// First child element of `Body`.
    body_first: Option<String>,
    /// `ResponseCode` texts with the id of their parent element.
    codes: Vec<(String, u64)>,
    /// `MessageText` texts with the id of their parent element.
    messages: Vec<(String, u64)>,
    fault_code: Option<String>,
    fault_string: Option<String>,
    detail_message: Option<String>,
    impersonated: Option<String>,
    authenticated: Option<String>,
    server_version: Option<String>,
    /// Stack depth of the `<Trace>` or `<Envelope>` that opened the record.
    depth: usize,
}

/// What a request trace tells about the response that follows on the same thread.
#[derive(Clone, Default)]
struct Request {
    /// Order of the request in the file, to tell whether `last_request` is this one.
    seq: u64,
    operation: Option<String>,
    impersonated: Option<String>,
}

/// Parser state that survives a resume after malformed XML.
struct State<'a> {
    ctx: &'a FileCtx,
    text: &'a str,
    index: LineIndex,
    out: Parsed,
    sink: DiagSink,
    record: u64,
    saw_element: bool,
    /// Last request per `Tid` (`""` without one).
    requests: HashMap<String, Request>,
    /// The last request, for a response whose `Tid` has none (traces seen with the request on
    /// one thread id and the response on another); taken by the first such response.
    last_request: Option<Request>,
    /// A 1xx–3xx HTTP status per `Tid`, waiting for the SOAP response it belongs to.
    http: HashMap<String, String>,
    /// The last such status, for a response whose `Tid` has none; taken once.
    last_http: Option<String>,
    /// Requests seen so far.
    seq: u64,
}

impl State<'_> {
    fn loc(&self, offset: usize, record: u64) -> Location {
        Location {
            path: self.ctx.path.clone(),
            line: self.index.line(offset),
            record,
            offset: offset as u64,
        }
    }
}

/// Parses an EWS trace or SOAP document: one row per response, fault or failed HTTP exchange.
///
/// `parse := (trace | envelope | OTHER)*` read as XML fragments (no single root needed; a
/// `<Traces>` wrapper is fine). Malformed XML rejects the record being read (or one record when
/// none was open) with the line of the error, and reading resumes at the next `<Trace`.
pub fn parse(ctx: &FileCtx, text: &str) -> Parsed {
    let mut st = State {
        ctx,
        text,
        index: LineIndex::new(text),
        out: Parsed::default(),
        sink: DiagSink::new(&ctx.path, Format::EwsTrace),
        record: 0,
        saw_element: false,
        requests: HashMap::new(),
        last_request: None,
        http: HashMap::new(),
        last_http: None,
        seq: 0,
    };
    let mut from = text.len() - text.trim_start_matches('\u{feff}').len();
    while let Err((at, resume, msg)) = scan(&mut st, from) {
        st.record += 1;
        let loc = st.loc(at, st.record);
        let line = line_at(text, at);
        let d = Diagnostic::at(DiagLevel::Error, &loc, Format::EwsTrace, msg).with_excerpt(line);
        st.sink.reject(&mut st.out, d);
        match next_trace(text, resume.max(from + 1)) {
            Some(next) => from = next,
            None => break,
        }
    }
    let mut out = st.out;
    if !st.saw_element && out.rejected == 0 {
        let loc = Location {
            path: ctx.path.clone(),
            line: 1,
            record: 1,
            offset: 0,
        };
        let d = Diagnostic::at(
            DiagLevel::Error,
            &loc,
            Format::EwsTrace,
            "no XML element found",
        )
        .with_excerpt(text.trim_start());
        st.sink.reject(&mut out, d);
    } else if out.parsed + out.rejected == 0 {
        let mut d = Diagnostic::file(
            DiagLevel::Warning,
            &ctx.path,
            "no EWS response, fault or HTTP status found",
        );
        d.format = Some(Format::EwsTrace);
        out.diagnostics.push(d);
    }
    st.sink.finish(&mut out);
    out
}

/// The next `<Trace` start tag (not `<Traces`) at or after `from`.
fn next_trace(text: &str, from: usize) -> Option<usize> {
    let mut pos = from;
    while pos < text.len() && !text.is_char_boundary(pos) {
        pos += 1;
    }
    while let Some(k) = text.get(pos..).and_then(|r| r.find("<Trace")) {
        let at = pos + k;
        let after = text.as_bytes().get(at + 6).copied();
        if matches!(after, Some(b' ' | b'>' | b'\t' | b'\r' | b'\n' | b'/')) {
            return Some(at);
        }
        pos = at + 6;
    }
    None
}

/// Reads from `from` to the end, emitting rows; on malformed XML `Err((offset to report, offset
/// to resume from, message))`.
fn scan(st: &mut State<'_>, from: usize) -> Result<(), (usize, usize, String)> {
    let sub = st.text.get(from..).unwrap_or("");
    let mut reader = Reader::from_str(sub);
    let cfg = reader.config_mut();
    cfg.trim_text(false);
    cfg.check_end_names = true;
    cfg.expand_empty_elements = false;
    // (local name, element id)
    let mut stack: Vec<(String, u64)> = Vec::new();
    let mut next_id = 0u64;
    let mut cur: Option<Rec> = None;
    let mut text_buf = String::new();
    loop {
        let before = usize::try_from(reader.buffer_position()).unwrap_or(usize::MAX);
        let ev = match reader.read_event() {
            Ok(ev) => ev,
            Err(e) => {
                let at = usize::try_from(reader.error_position()).unwrap_or(before);
                return Err((from + at, from + at, format!("malformed XML: {e}")));
            }
        };
        let start = from
            + sub
                .get(before..)
                .and_then(|r| r.find('<'))
                .map_or(before, |k| before + k);
        match ev {
            XmlEvent::Start(ref e) | XmlEvent::Empty(ref e) => {
                st.saw_element = true;
                let empty = matches!(ev, XmlEvent::Empty(_));
                let name = local(e.local_name().as_ref());
                next_id += 1;
                text_buf.clear();
                if name == "Trace" {
                    if let Some(open) = cur.as_ref() {
                        // The open trace is the broken record: report it at its own line.
                        let at = open.loc.as_ref().map_or(start, |l| l.offset as usize);
                        let msg = "a <Trace> starts before the previous one ended";
                        return Err((at, start, msg.into()));
                    }
                    cur = Some(trace(st, e, start, stack.len()));
                } else if name == "Envelope" && cur.is_none() {
                    cur = Some(envelope(st, start, stack.len()));
                }
                if let Some(rec) = cur.as_mut() {
                    element(rec, e, &name, &stack);
                }
                if empty {
                    if cur.as_ref().is_some_and(|r| r.depth == stack.len()) {
                        finish(st, cur.take());
                    }
                } else {
                    stack.push((name, next_id));
                }
            }
            XmlEvent::Text(t) => {
                let s = t.unescape().map_or_else(
                    |_| String::from_utf8_lossy(&t).into_owned(),
                    |c| c.into_owned(),
                );
                text_buf.push_str(&s);
                if let (Some(rec), Some((top, _))) = (cur.as_mut(), stack.last()) {
                    if top == "Trace" && rec.depth + 1 == stack.len() {
                        rec.text.push_str(&s);
                    }
                }
            }
            XmlEvent::CData(t) => text_buf.push_str(&String::from_utf8_lossy(&t)),
            XmlEvent::End(_) => {
                let Some((name, _)) = stack.pop() else {
                    return Err((start, start, "end tag without start tag".into()));
                };
                if let Some(rec) = cur.as_mut() {
                    let value = std::mem::take(&mut text_buf);
                    end_text(rec, &name, value.trim(), &stack);
                    if rec.depth == stack.len() {
                        finish(st, cur.take());
                    }
                }
                text_buf.clear();
            }
            XmlEvent::Eof => {
                return match stack.last() {
                    Some((n, _)) => {
                        let at = cur
                            .as_ref()
                            .and_then(|r| r.loc.as_ref())
                            .map_or(st.text.len(), |l| l.offset as usize);
                        let msg = format!("unexpected end of document inside <{n}>");
                        Err((at, st.text.len(), msg))
                    }
                    None => Ok(()),
                };
            }
            // Declarations, comments, processing instructions, DOCTYPE.
            _ => {}
        }
    }
}

/// `trace := "<Trace" (Tag | Tid | Time | Version)* ">" (TEXT | envelope | ELEMENT)* "</Trace>"`
/// — opens a record with the trace attributes; `Time` is UTC (a `Z` or documented, §8.5).
fn trace(st: &State<'_>, e: &BytesStart<'_>, start: usize, depth: usize) -> Rec {
    let mut rec = Rec {
        loc: Some(st.loc(start, 0)),
        depth,
        ..Rec::default()
    };
    for (k, v) in attrs(e) {
        match k.as_str() {
            "Tag" => rec.tag = Some(v),
            "Tid" => rec.tid = Some(v),
            "Version" => rec.version = Some(v),
            "Time" => {
                rec.time = super::time::iso(&v).map(|(t, k)| {
                    (
                        t,
                        if k == TsKind::Local {
                            TsKind::AssumedUtc
                        } else {
                            k
                        },
                    )
                });
            }
            _ => {}
        }
    }
    rec
}

/// `envelope := "<" PREFIX? "Envelope" …> Header? Body "</" PREFIX? "Envelope>"` outside any
/// trace — a SOAP document saved on its own opens a record.
fn envelope(st: &State<'_>, start: usize, depth: usize) -> Rec {
    Rec {
        loc: Some(st.loc(start, 0)),
        depth,
        ..Rec::default()
    }
}

/// Notes what a start tag tells: the first child of `Body`, `ServerVersionInfo` attributes.
fn element(rec: &mut Rec, e: &BytesStart<'_>, name: &str, stack: &[(String, u64)]) {
    let parent = stack.last().map_or("", |(n, _)| n.as_str());
    if parent == "Body" && rec.body_first.is_none() {
        rec.body_first = Some(name.to_string());
    }
    if name == "ServerVersionInfo" {
        let a: HashMap<String, String> = attrs(e).into_iter().collect();
        let parts: Vec<&str> = [
            "MajorVersion",
            "MinorVersion",
            "MajorBuildNumber",
            "MinorBuildNumber",
        ]
        .iter()
        .filter_map(|k| a.get(*k).map(String::as_str))
        .collect();
        if !parts.is_empty() {
            rec.server_version = Some(parts.join("."));
        }
    }
}

/// Notes the text of an element that just closed, by its local name and its ancestors.
fn end_text(rec: &mut Rec, name: &str, value: &str, stack: &[(String, u64)]) {
    if value.is_empty() {
        return;
    }
    let parent = stack.last().map_or(0, |(_, id)| *id);
    let inside = |n: &str| stack.iter().any(|(s, _)| s == n);
    let v = value.to_string();
    match name {
        "ResponseCode" => rec.codes.push((v, parent)),
        "MessageText" => rec.messages.push((v, parent)),
        "faultcode" => rec.fault_code = Some(strip_prefix(value)),
        "Value" if inside("Fault") && inside("Code") => rec.fault_code = Some(strip_prefix(value)),
        "faultstring" => rec.fault_string = Some(v),
        "Text" if inside("Fault") && inside("Reason") => rec.fault_string = Some(v),
        "Message" if inside("detail") || inside("Detail") => rec.detail_message = Some(v),
        "PrimarySmtpAddress" | "PrincipalName" | "SID" | "SmtpAddress"
            if inside("ExchangeImpersonation") =>
        {
            rec.impersonated = Some(v);
        }
        "AuthenticatedUser" => rec.authenticated = Some(v),
        _ => {}
    }
}

/// `a:ErrorX` → `ErrorX`.
fn strip_prefix(s: &str) -> String {
    s.rsplit(':').next().unwrap_or(s).trim().to_string()
}

/// The attributes of a start tag by local name, values unescaped (raw when that fails).
fn attrs(e: &BytesStart<'_>) -> Vec<(String, String)> {
    e.attributes()
        .flatten()
        .map(|a| {
            let k = local(a.key.local_name().as_ref());
            let v = a.unescape_value().map_or_else(
                |_| String::from_utf8_lossy(&a.value).into_owned(),
                |c| c.into_owned(),
            );
            (k, v)
        })
        .collect()
}

fn local(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// `http_status := ("HTTP/" VERSION SP)? DIGIT{3} (SP REASON)?` on the first non-empty line of a
/// trace's text, else `(401) Unauthorized`-style or `error code:401` text anywhere in it.
pub fn http_status(text: &str) -> Option<String> {
    let first = text.lines().map(str::trim).find(|l| !l.is_empty())?;
    let mut words = first.split_whitespace();
    let mut w = words.next()?;
    if w.starts_with("HTTP/") {
        w = words.next()?;
    }
    let reason_ok = words
        .next()
        .is_none_or(|r| r.starts_with(char::is_alphabetic));
    if is_status(w) && reason_ok {
        return Some(w.to_string());
    }
    for (i, _) in text.match_indices('(') {
        if let Some(code) = text.get(i + 1..i + 4) {
            let closes = text.get(i + 4..i + 5) == Some(")");
            if closes && is_status(code) {
                return Some(code.to_string());
            }
        }
    }
    let lower = text.to_ascii_lowercase();
    lower.find("error code:").and_then(|i| {
        let code: String = lower.get(i + 11..)?.trim_start().chars().take(3).collect();
        is_status(&code).then_some(code)
    })
}

fn is_status(w: &str) -> bool {
    w.len() == 3
        && w.bytes().all(|b| b.is_ascii_digit())
        && (b'1'..=b'5').contains(&w.as_bytes()[0])
}

/// Closes a record: a request is remembered for its thread, an HTTP success waits for its SOAP
/// response, a response, fault or HTTP failure becomes a row; anything else is not a record.
fn finish(st: &mut State<'_>, rec: Option<Rec>) {
    let Some(rec) = rec else { return };
    let tid = rec.tid.clone().unwrap_or_default();
    let tag = rec.tag.clone().unwrap_or_default();
    let first = rec.body_first.clone().unwrap_or_default();
    let soap_response = first.ends_with("Response")
        || first == "Fault"
        || !rec.codes.is_empty()
        || rec.fault_code.is_some();
    let is_request = if rec.tag.is_some() {
        tag.to_ascii_lowercase().contains("request")
    } else {
        !first.is_empty() && !soap_response
    };
    if is_request {
        let operation = (!first.is_empty()).then(|| operation_of(&first));
        st.seq += 1;
        let req = Request {
            seq: st.seq,
            operation,
            impersonated: rec.impersonated,
        };
        if req.operation.is_some() || req.impersonated.is_some() {
            st.requests.insert(tid, req.clone());
            st.last_request = Some(req);
        }
        return;
    }
    let status = if soap_response {
        None
    } else {
        http_status(&rec.text)
    };
    if !soap_response {
        match status.as_deref() {
            Some(s) if s >= "400" => {}
            Some(s) => {
                st.http.insert(tid, s.to_string());
                st.last_http = Some(s.to_string());
                return;
            }
            None => return,
        }
    }
    let http = status.or_else(|| match st.http.remove(&tid) {
        Some(h) => {
            if st.last_http.as_ref() == Some(&h) {
                st.last_http = None;
            }
            Some(h)
        }
        None => st.last_http.take(),
    });
    st.record += 1;
    let request = match st.requests.remove(&tid) {
        Some(r) => {
            if st.last_request.as_ref().is_some_and(|l| l.seq == r.seq) {
                st.last_request = None;
            }
            r
        }
        None => st.last_request.take().unwrap_or_default(),
    };
    let event = row(rec, request, http, st.record);
    st.out.push(event);
}

/// `GetUserAvailabilityRequest` / `GetUserAvailabilityResponse` / `FindItem` → the operation.
fn operation_of(element: &str) -> String {
    element
        .strip_suffix("Response")
        .or_else(|| element.strip_suffix("Request"))
        .unwrap_or(element)
        .to_string()
}

/// One `ews-trace` row (field order as documented in `grammars/ews-trace.md`).
fn row(rec: Rec, request: Request, http: Option<String>, record: u64) -> Event {
    let mut f = Props::default();
    let mut put = |k: &str, v: Option<String>| {
        if let Some(v) = v {
            f.push(k, Value::Text(v));
        }
    };
    put("Tag", rec.tag.clone());
    put("Tid", rec.tid.clone());
    put("Version", rec.version.clone());
    let first = rec.body_first.clone().filter(|b| b != "Fault");
    put("SoapAction", first.clone());
    put(
        "Operation",
        first.as_deref().map(operation_of).or(request.operation),
    );
    // The first code that is not NoError, else NoError; its MessageText when it has one.
    let chosen = rec
        .codes
        .iter()
        .find(|(c, _)| c != "NoError")
        .or(rec.codes.first());
    let code = chosen
        .map(|(c, _)| c.clone())
        .or_else(|| rec.fault_code.clone().filter(|c| c.starts_with("Error")));
    let message = chosen
        .and_then(|(_, p)| rec.messages.iter().find(|(_, mp)| mp == p))
        .or(rec.messages.first())
        .map(|(m, _)| m.clone())
        .or(rec.detail_message.clone());
    put("ResponseCode", code.clone());
    let mut all: Vec<String> = Vec::new();
    for (c, _) in &rec.codes {
        if !all.contains(c) {
            all.push(c.clone());
        }
    }
    put("MessageText", message.clone());
    put("faultcode", rec.fault_code.clone());
    put("faultstring", rec.fault_string.clone());
    put("HttpStatus", http.clone());
    put(
        "ImpersonatedUser",
        rec.impersonated.or(request.impersonated),
    );
    put("AuthenticatedUser", rec.authenticated);
    put("ServerVersion", rec.server_version);
    let www: Vec<String> = rec
        .text
        .lines()
        .filter_map(|l| l.trim().split_once(':'))
        .filter(|(k, _)| k.trim().eq_ignore_ascii_case("WWW-Authenticate"))
        .map(|(_, v)| v.trim().to_string())
        .collect();
    if !www.is_empty() {
        f.push(
            "WwwAuthenticate",
            Value::List {
                items: www,
                truncated: false,
            },
        );
    }
    if !all.is_empty() {
        f.push(
            "ResponseCodes",
            Value::List {
                items: all,
                truncated: false,
            },
        );
    }
    let mut excerpt = rec.tag.clone().unwrap_or_else(|| "Envelope".into());
    for (k, v) in [
        ("Tid", rec.tid.as_deref()),
        ("", f.text("SoapAction").or(f.text("Operation"))),
        ("ResponseCode", code.as_deref()),
        (
            "faultcode",
            rec.fault_code.as_deref().filter(|_| code.is_none()),
        ),
        ("HTTP", http.as_deref()),
    ] {
        if let Some(v) = v {
            excerpt.push(' ');
            if !k.is_empty() {
                excerpt.push_str(k);
                excerpt.push('=');
            }
            excerpt.push_str(v);
        }
    }
    if let Some(m) = rec.fault_string.as_deref().or(message.as_deref()) {
        excerpt.push_str(": ");
        excerpt.push_str(m);
    } else if http.is_some() {
        if let Some(l) = rec.text.lines().map(str::trim).find(|l| !l.is_empty()) {
            excerpt.push_str(": ");
            excerpt.push_str(l);
        }
    }
    let mut loc = rec.loc.unwrap_or_else(|| Location {
        path: std::sync::Arc::from(""),
        line: 0,
        record: 0,
        offset: 0,
    });
    loc.record = record;
    let body = Body::LogRow {
        log_type: LOG_TYPE.to_string(),
        fields: f,
    };
    let (time, kind) = rec.time.map_or((None, TsKind::None), |(t, k)| (Some(t), k));
    Event::new(Format::EwsTrace, loc, body, &excerpt).with_time(time, kind)
}

/// The text of the line holding `offset`.
fn line_at(text: &str, offset: usize) -> &str {
    let mut start = offset.min(text.len());
    while !text.is_char_boundary(start) {
        start -= 1;
    }
    let begin = text
        .get(..start)
        .and_then(|h| h.rfind(['\n', '\r']))
        .map_or(0, |k| k + 1);
    let rest = text.get(begin..).unwrap_or("");
    rest.get(..rest.find(['\n', '\r']).unwrap_or(rest.len()))
        .unwrap_or(rest)
}

#[cfg(test)]
#[path = "ewstrace_tests.rs"]
mod tests;
