//! Lync / Skype for Business client UccApi logs (`Lync-UccApi-0.UccApilog`, formats.md §7).
//!
//! Why this module exists: the client log is the only place that shows what the Lync / Skype
//! client itself saw when sign-in, EWS or Autodiscover failed: the SIP `REGISTER` it sent, the
//! `401` / `504` it received with its `ms-diagnostics` header, and the client's own lines about
//! EWS and Autodiscover discovery. This parser turns every time-stamped line (with the SIP
//! message lines that follow it) into one `Body::Sip` record of kind `client`, so rules can key
//! on the start line, the headers, the parsed diagnostics, the result codes and the text.
//!
//! Grammar and status markers: `grammars/uccapi.md`. Rule names used there: [`parse_chunk`]
//! (file / chunk), [`is_stamp`] (record start), [`head`] (the time-stamped line), [`marker`]
//! (send / receive marker), [`sip_message`] (the carried SIP message), [`split`] (chunking).
//! Much of the line grammar is NOT KNOWN (second token, level names, receive-marker wording, time
//! zone), so everything unknown is kept raw rather than rejected.

use super::psobject::DiagSink;
use super::{msdiag, Chunk, FileCtx};
use crate::model::{
    Body, DiagLevel, Diagnostic, Event, Format, Location, Parsed, Props, SipRecord, TsKind, Value,
};
use chrono::{NaiveDate, NaiveDateTime, NaiveTime};

/// Length of `MM/DD/YYYY|HH:MM:SS.mmm`.
const STAMP_LEN: usize = 23;
/// Upper bound (bytes) of a record's `text`.
const TEXT_MAX: usize = 4096;

/// `stamp := DD "/" DD "/" DDDD "|" DD ":" DD ":" DD "." DDD` — the record-start test (shape only;
/// the values are checked by [`head`]).
pub(crate) fn is_stamp(line: &str) -> bool {
    const PAT: &[u8; STAMP_LEN] = b"dd/dd/dddd|dd:dd:dd.ddd";
    let b = line.as_bytes();
    b.len() >= STAMP_LEN
        && PAT.iter().zip(b).all(|(p, c)| {
            if *p == b'd' {
                c.is_ascii_digit()
            } else {
                p == c
            }
        })
}

/// Number of the two-digit (or four-digit) field at `range` of a stamp.
fn num(stamp: &str, range: std::ops::Range<usize>) -> Option<u32> {
    stamp.get(range)?.parse().ok()
}

/// The time of a stamp line as client local time, or `None` for an impossible date or time.
fn stamp_time(line: &str) -> Option<NaiveDateTime> {
    let date = NaiveDate::from_ymd_opt(
        i32::try_from(num(line, 6..10)?).ok()?,
        num(line, 0..2)?,
        num(line, 3..5)?,
    )?;
    let time = NaiveTime::from_hms_milli_opt(
        num(line, 11..13)?,
        num(line, 14..16)?,
        num(line, 17..19)?,
        num(line, 20..23)?,
    )?;
    Some(NaiveDateTime::new(date, time))
}

/// The parts of a time-stamped line after the stamp.
#[derive(Debug, PartialEq)]
struct Head<'a> {
    token: Option<&'a str>,
    level: &'a str,
    text: &'a str,
}

/// `head := stamp [SP token] [SP LEVEL] SP* "::" SP* text` — `token` and `LEVEL` are optional; a
/// lone word that is all upper-case letters is the level. The `::` separator counts only when at
/// most two words precede it and it follows white space (so `fe80::1` in free text is not a
/// separator); without one, the whole rest is the text.
fn head(line: &str) -> Head<'_> {
    let rest = line.get(STAMP_LEN..).unwrap_or("");
    if let Some(i) = rest.find("::") {
        let pre = rest.get(..i).unwrap_or("");
        let words: Vec<&str> = pre.split_whitespace().collect();
        if words.len() <= 2 && (pre.is_empty() || pre.ends_with(char::is_whitespace)) {
            let text = rest.get(i + 2..).unwrap_or("").trim();
            let is_level = |w: &str| w.bytes().all(|c| c.is_ascii_uppercase());
            let (token, level) = match words.as_slice() {
                [t, l] => (Some(*t), *l),
                [l] if is_level(l) => (None, *l),
                [t] => (Some(*t), ""),
                _ => (None, ""),
            };
            return Head { token, level, text };
        }
    }
    Head {
        token: None,
        level: "",
        text: rest.trim(),
    }
}

/// `marker := SEND_WORD NOUN | NOUN SEND_WORD | RECV_WORD NOUN | NOUN RECV_WORD` on the first two
/// words of the text (`Sending Packet -` VERIFIED; the receive wording is NOT KNOWN, so
/// `Data Received -`, `Received Packet -`, `Receiving Packet -` and the like are accepted).
fn marker(text: &str) -> Option<&'static str> {
    let mut w = text
        .split(|c: char| c.is_whitespace() || c == '-' || c == ':')
        .filter(|s| !s.is_empty())
        .map(str::to_ascii_lowercase);
    let (a, b) = (w.next()?, w.next()?);
    let noun = |s: &str| matches!(s, "packet" | "data" | "message");
    let send = |s: &str| matches!(s, "sending" | "sent" | "send");
    let recv = |s: &str| matches!(s, "received" | "receiving" | "receive" | "recv");
    let pair = |f: &dyn Fn(&str) -> bool| (f(&a) && noun(&b)) || (noun(&a) && f(&b));
    if pair(&send) {
        Some("send")
    } else if pair(&recv) {
        Some("receive")
    } else {
        None
    }
}

/// A continuation line with the web-paste artefact (one trailing `\`) removed.
fn clean(line: &str) -> &str {
    let t = line.trim_end();
    t.strip_suffix('\\').map_or(t, str::trim_end)
}

/// A SIP header name (RFC 3261 token characters).
fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|c| c.is_ascii_alphanumeric() || b"-.!%*_+`'~".contains(&c))
}

/// Splits a header merged onto the start line by a web paste
/// (`SIP/2.0 504 Server time-out Authentication-Info: TLS-DSK …`): the first `Name: ` after the
/// `SIP/2.0` part where `Name` starts with a letter.
fn split_merged(start: &str) -> (&str, Option<&str>) {
    let from = start.find("SIP/2.0").map_or(0, |i| i + 7);
    let tail = start.get(from..).unwrap_or("");
    for (i, _) in tail.match_indices(": ") {
        let before = tail.get(..i).unwrap_or("");
        let name = before.rsplit(' ').next().unwrap_or("");
        if is_token(name) && name.starts_with(|c: char| c.is_ascii_alphabetic()) {
            let cut = from + i - name.len();
            let header = start.get(cut..).map(str::trim);
            return (start.get(..cut).unwrap_or(start).trim_end(), header);
        }
    }
    (start, None)
}

/// `sip_message := start_line? header* [BLANK body*]`, ended by a line containing `End of` (in
/// the body only `:: End of`, so an IM text such as "End of day" stays in the body) or by the end
/// of the record. The lines are cleaned of web-paste artefacts (trailing `\`, a header merged
/// onto the start line) and handed to the shared [`msdiag::sip_message`], which splits headers,
/// folds, the bounded body and the `ms-diagnostics` family headers.
fn sip_message(cont: &[&str]) -> msdiag::SipMessage {
    let mut lines: Vec<&str> = Vec::with_capacity(cont.len() + 1);
    let (mut seen, mut in_body) = (false, false);
    for raw in cont {
        let line = clean(raw);
        let blank = line.trim().is_empty();
        if line.contains(if in_body { ":: End of" } else { "End of" }) {
            break;
        }
        if !seen && !blank {
            seen = true;
            if line.contains("SIP/2.0") {
                let (start, merged) = split_merged(line.trim());
                lines.push(start);
                lines.extend(merged);
                continue;
            }
        }
        in_body |= seen && blank;
        lines.push(line);
    }
    msdiag::sip_message(lines)
}

/// The first `http://` or `https://` URL in a text.
fn first_url(text: &str) -> Option<&str> {
    let lower = text.to_ascii_lowercase();
    let at = [lower.find("https://"), lower.find("http://")]
        .into_iter()
        .flatten()
        .min()?;
    let rest = text.get(at..)?;
    let end = rest
        .find(|c: char| c.is_whitespace() || "\"'<>()[]{}|\\".contains(c))
        .unwrap_or(rest.len());
    Some(rest.get(..end)?.trim_end_matches(['.', ',', ';', ':']))
}

/// A record: its stamp line and the lines that continue it.
struct Raw<'a> {
    line: u64,
    offset: usize,
    end: usize,
    first: &'a str,
    cont: Vec<&'a str>,
}

/// Turns one raw record into an event, or the reason it is rejected.
fn record(raw: &Raw<'_>, all: &str, loc: Location) -> Result<Event, String> {
    let Some(time) = stamp_time(raw.first) else {
        return Err(format!(
            "impossible date or time in time stamp {}",
            raw.first.get(..STAMP_LEN).unwrap_or(raw.first)
        ));
    };
    let h = head(raw.first);
    let direction = marker(h.text);
    let first_cont = raw.cont.iter().map(|l| clean(l)).find(|l| !l.is_empty());
    let is_sip = direction.is_some() || first_cont.is_some_and(|l| l.contains("SIP/2.0"));
    let mut fields = Props::default();
    if let Some(t) = h.token {
        fields.push("Token", Value::Text(t.to_string()));
    }
    if let Some(d) = direction {
        fields.push("Direction", Value::Text(d.to_string()));
    }
    let mut text = h.text.to_string();
    let mut sip = msdiag::SipMessage::default();
    if is_sip {
        sip = sip_message(&raw.cont);
    } else {
        for l in raw.cont.iter().map(|l| clean(l)).filter(|l| !l.is_empty()) {
            msdiag::push_bounded(&mut text, "\n", TEXT_MAX);
            msdiag::push_bounded(&mut text, l, TEXT_MAX);
        }
    }
    if let Some(u) = first_url(&text) {
        fields.push("Url", Value::Text(u.to_string()));
    }
    if !sip.body.is_empty() {
        fields.push("Body", Value::Text(sip.body));
    }
    let source = all.get(raw.offset..raw.end).unwrap_or(raw.first);
    let rec = SipRecord {
        kind: "client".into(),
        level: h.level.to_string(),
        flag: String::new(),
        fields,
        start_line: sip.start_line,
        headers: sip.headers,
        diagnostics: sip.diagnostics,
        codes: msdiag::codes_in(source),
        text,
    };
    Ok(Event::new(Format::UccApi, loc, Body::Sip(rec), source)
        .with_time(Some(time.and_utc()), TsKind::Local))
}

/// Parses one chunk (or a whole file given as [`Chunk::whole`]).
///
/// `file := preamble (record)*`, `record := stamp_line continuation*`: a line for which
/// [`is_stamp`] holds starts a record; every other line continues the previous one. Non-blank
/// lines before the first record give one Warning. Positions are `chunk.line` / `chunk.offset`
/// plus the local ones; record numbers start at 1 within the chunk.
pub fn parse_chunk(ctx: &FileCtx, chunk: &Chunk<'_>) -> Parsed {
    let mut out = Parsed::default();
    let mut sink = DiagSink::new(&ctx.path, Format::UccApi);
    let text = chunk.text;
    let skip = if text.starts_with('\u{feff}') { 3 } else { 0 };
    let body = text.get(skip..).unwrap_or("");
    let mut preamble: Option<(u64, usize, &str, u64)> = None;
    let mut cur: Option<Raw<'_>> = None;
    let mut record_no = 0u64;
    let mut flush = |raw: Raw<'_>, out: &mut Parsed, sink: &mut DiagSink| {
        record_no += 1;
        let loc = Location {
            path: ctx.path.clone(),
            line: chunk.line + raw.line,
            record: record_no,
            offset: chunk.offset + (skip + raw.offset) as u64,
        };
        match record(&raw, body, loc.clone()) {
            Ok(e) => out.push(e),
            Err(msg) => sink.reject(
                out,
                Diagnostic::at(DiagLevel::Error, &loc, Format::UccApi, msg).with_excerpt(raw.first),
            ),
        }
    };
    for (no, (off, line)) in lines(body).enumerate() {
        let end = off + line.len();
        if is_stamp(line) {
            if let Some(raw) = cur.take() {
                flush(raw, &mut out, &mut sink);
            }
            cur = Some(Raw {
                line: no as u64,
                offset: off,
                end,
                first: line,
                cont: Vec::new(),
            });
        } else if let Some(raw) = cur.as_mut() {
            raw.cont.push(line);
            raw.end = end;
        } else if !line.trim().is_empty() {
            let p = preamble.get_or_insert((no as u64, off, line, 0));
            p.3 += 1;
        }
    }
    if let Some(raw) = cur.take() {
        flush(raw, &mut out, &mut sink);
    }
    if let Some((no, off, first, n)) = preamble {
        let loc = Location {
            path: ctx.path.clone(),
            line: chunk.line + no,
            record: 0,
            offset: chunk.offset + (skip + off) as u64,
        };
        let msg = format!("{n} non-blank lines before the first time-stamped line were not read");
        sink.warn(
            &mut out,
            Diagnostic::at(DiagLevel::Warning, &loc, Format::UccApi, msg).with_excerpt(first),
        );
    }
    sink.finish(&mut out);
    out
}

/// Splits `text` into chunks of about `target` bytes, cutting only at the start of a
/// time-stamped line ([`is_stamp`]), so every chunk after the first starts with a record.
/// `header` stays empty (the format has no state); `line` and `offset` locate each chunk.
pub fn split(text: &str, target: usize) -> Vec<Chunk<'_>> {
    super::split_at_record_starts(text, target, &is_stamp)
}

/// Physical lines of `text` as `(byte offset, line without its end)`.
fn lines(text: &str) -> impl Iterator<Item = (usize, &str)> + '_ {
    super::numbered_lines(text).map(|(_, off, line)| (off, line))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Event;

    /// Synthetic client log (formats.md §7: line shape VERIFIED in part, the rest NOT KNOWN).
    const LOG: &str = "01/15/2012|11:30:10.163 1A2C:1B3D INFO  :: Sending Packet - 10.0.0.30:443 (From Local Address: 192.168.1.20:50123) 420 bytes:\r
REGISTER sip:contoso.com SIP/2.0\r
Via: SIP/2.0/TLS 192.168.1.20:50123\r
From: <sip:user1@contoso.com>;tag=a1\r
Call-ID: 1f2e3d4c\r
CSeq: 1 REGISTER\r
Content-Length: 0\r
01/15/2012|11:30:10.164 1A2C:1B3D INFO  :: End of Sending Packet - 10.0.0.30:443\r
01/15/2012|11:30:10.300 1A2C:1B3D INFO  :: Data Received - 10.0.0.30:443 (To Local Address: 192.168.1.20:50123) 300 bytes:\r
SIP/2.0 401 Unauthorized\r
WWW-Authenticate: NTLM realm=\"SIP Communications Service\",\r
  targetname=\"fe01.contoso.com\"\r
CSeq: 1 REGISTER\r
End of Data Received\r
01/15/2012|11:30:11.000 1A2C:1B3D INFO  :: Received Packet - 10.0.0.30:443\r
SIP/2.0 200 OK\r
Content-Type: application/vnd-microsoft-roaming-self+xml\r
\r
<roamingData><categories/></roamingData>\r
End of day\r
01/15/2012|11:30:12.000 1A2C:1B3D ERROR  :: Data Received - 10.0.0.30:443\r
SIP/2.0 504 Server time-out Authentication-Info: TLS-DSK qop=\"auth\" \\\r
ms-diagnostics: 1010;reason=\"Certificate trust with another server could not be established\";HRESULT=\"0x80090322(SEC_E_WRONG_PRINCIPAL)\";source=\"sip.contoso.com\" \\\r
CSeq: 2 REGISTER \\\r
01/15/2012|11:31:00.000 1A2C:1B3D INFO  :: EWS discovery trying https://autodiscover.contoso.com/autodiscover/autodiscover.xml.\r
01/15/2012|11:31:01.000 1A2C:1B3D WARN  :: first line\r
continuation Ã© mojibake\r
13/40/2012|11:31:02.000 1A2C:1B3D INFO  :: impossible\r
lost continuation\r
01/15/2012|11:31:03.000 only text fe80::1 here\r
01/15/2012|11:31:04.000 1A2C:1B3D INFO  :: Sending Packet - 10.0.0.30:443\r
INVITE sip:user2@contoso.com SIP/2.0\r
Via: SIP/2.0/TLS 192.1";

    fn ctx() -> FileCtx {
        FileCtx::new("client/Lync-UccApi-0.UccApilog")
    }

    fn whole(t: &str) -> Parsed {
        parse_chunk(&ctx(), &Chunk::whole(t))
    }

    fn sip(e: &Event) -> &SipRecord {
        match &e.body {
            Body::Sip(s) => s,
            other => panic!("not sip: {other:?}"),
        }
    }

    #[test]
    fn client_log_records() {
        let p = whole(LOG);
        assert_eq!((p.parsed, p.rejected), (9, 1));
        assert_eq!(p.events.len(), 9);
        let reg = sip(&p.events[0]);
        assert_eq!(reg.kind, "client");
        assert_eq!(reg.level, "INFO");
        assert_eq!(
            reg.start_line.as_deref(),
            Some("REGISTER sip:contoso.com SIP/2.0")
        );
        assert_eq!(reg.fields.text("Direction"), Some("send"));
        assert_eq!(reg.fields.text("Token"), Some("1A2C:1B3D"));
        assert_eq!(reg.headers.text("Call-ID"), Some("1f2e3d4c"));
        assert_eq!(reg.headers.len(), 5);
        assert!(reg.text.starts_with("Sending Packet - 10.0.0.30:443"));
        let e0 = &p.events[0];
        assert_eq!((e0.loc.line, e0.loc.record, e0.loc.offset), (1, 1, 0));
        assert_eq!(e0.ts_kind, TsKind::Local);
        assert_eq!(
            e0.time.map(|t| t.to_rfc3339()).as_deref(),
            Some("2012-01-15T11:30:10.163+00:00")
        );
        assert_eq!(e0.host, None);
        let end = sip(&p.events[1]);
        assert_eq!(
            (end.start_line.as_deref(), end.fields.text("Direction")),
            (None, None)
        );
        assert_eq!(end.text, "End of Sending Packet - 10.0.0.30:443");

        let r401 = sip(&p.events[2]);
        assert_eq!(r401.fields.text("Direction"), Some("receive"));
        assert_eq!(r401.start_line.as_deref(), Some("SIP/2.0 401 Unauthorized"));
        assert_eq!(
            r401.headers.text("WWW-Authenticate"),
            Some("NTLM realm=\"SIP Communications Service\", targetname=\"fe01.contoso.com\"")
        );
        assert_eq!(p.events[2].loc.line, 9);
        let r200 = sip(&p.events[3]);
        assert_eq!(r200.start_line.as_deref(), Some("SIP/2.0 200 OK"));
        assert_eq!(
            r200.fields.text("Body"),
            Some("<roamingData><categories/></roamingData>\nEnd of day")
        );

        let r504 = sip(&p.events[4]);
        assert_eq!(r504.level, "ERROR");
        assert_eq!(
            r504.start_line.as_deref(),
            Some("SIP/2.0 504 Server time-out")
        );
        assert_eq!(
            r504.headers.text("Authentication-Info"),
            Some("TLS-DSK qop=\"auth\"")
        );
        assert_eq!(r504.headers.text("CSeq"), Some("2 REGISTER"));
        assert!(r504
            .headers
            .text("ms-diagnostics")
            .is_some_and(|v| v.starts_with("1010;")));
        assert_eq!(r504.diagnostics.len(), 1);
        let d = &r504.diagnostics[0];
        assert_eq!(
            (d.header.as_str(), d.code, d.sub_code),
            ("ms-diagnostics", 1010, None)
        );
        assert_eq!(d.attr("HRESULT"), Some("0x80090322(SEC_E_WRONG_PRINCIPAL)"));
        assert_eq!(d.attr("source"), Some("sip.contoso.com"));
        assert_eq!(
            r504.codes,
            vec!["0x80090322 SEC_E_WRONG_PRINCIPAL".to_string()]
        );
        assert!(reg.diagnostics.is_empty() && reg.codes.is_empty());

        let ews = sip(&p.events[5]);
        assert_eq!(
            ews.fields.text("Url"),
            Some("https://autodiscover.contoso.com/autodiscover/autodiscover.xml")
        );
        assert_eq!(
            sip(&p.events[6]).text,
            "first line\ncontinuation Ã© mojibake"
        );
        assert_eq!(sip(&p.events[6]).level, "WARN");
        let plain = sip(&p.events[7]);
        assert_eq!(
            (plain.level.as_str(), plain.text.as_str()),
            ("", "only text fe80::1 here")
        );
        assert_eq!(p.events[7].loc.record, 9);
        // Truncated file: the last message ends mid-header.
        let cut = sip(&p.events[8]);
        assert_eq!(
            cut.start_line.as_deref(),
            Some("INVITE sip:user2@contoso.com SIP/2.0")
        );
        assert_eq!(cut.headers.text("Via"), Some("SIP/2.0/TLS 192.1"));

        let errs: Vec<_> = p
            .diagnostics
            .iter()
            .filter(|d| d.level == DiagLevel::Error)
            .collect();
        assert_eq!(errs.len(), 1);
        assert_eq!((errs[0].line, errs[0].record), (28, 8));
        assert_eq!(
            errs[0].message,
            "impossible date or time in time stamp 13/40/2012|11:31:02.000"
        );
        assert_eq!(p.diagnostics.len(), 1);
    }

    #[test]
    fn head_variants() {
        let h = head("01/15/2012|11:30:10.163 INFO  :: x :: y");
        assert_eq!(
            h,
            Head {
                token: None,
                level: "INFO",
                text: "x :: y"
            }
        );
        let h = head("01/15/2012|11:30:10.163 0x1A2C VERBOSE::z");
        assert_eq!(
            h,
            Head {
                token: None,
                level: "",
                text: "0x1A2C VERBOSE::z"
            }
        );
        let h = head("01/15/2012|11:30:10.163 :: bare");
        assert_eq!(
            h,
            Head {
                token: None,
                level: "",
                text: "bare"
            }
        );
        assert_eq!(marker("Receiving Packet - a"), Some("receive"));
        assert_eq!(marker("Packet Sent:"), Some("send"));
        assert_eq!(marker("Sending request"), None);
        assert_eq!(marker(""), None);
    }

    #[test]
    fn preamble_garbage_and_empty() {
        let p = whole("");
        assert_eq!((p.parsed, p.rejected, p.diagnostics.len()), (0, 0, 0));
        let p = whole("\u{0}\u{1}garbage\u{fffd}\n\nmore\r01/15/2012|11:30");
        assert_eq!((p.parsed, p.rejected), (0, 0));
        assert_eq!(p.diagnostics.len(), 1);
        assert_eq!(p.diagnostics[0].level, DiagLevel::Warning);
        assert_eq!(
            p.diagnostics[0].message,
            "3 non-blank lines before the first time-stamped line were not read"
        );
        let p = whole("\u{feff}junk\n01/15/2012|11:30:10.163 a b c d :: e\n");
        assert_eq!((p.parsed, p.rejected, p.diagnostics.len()), (1, 0, 1));
        assert_eq!((p.events[0].loc.line, p.events[0].loc.offset), (2, 8));
        assert_eq!(sip(&p.events[0]).text, "a b c d :: e");
    }

    #[test]
    fn rejects_are_capped() {
        let t = "99/99/2012|11:30:10.163 INFO  :: x\n".repeat(70);
        let p = whole(&t);
        assert_eq!((p.parsed, p.rejected), (0, 70));
        assert_eq!(p.diagnostics.len(), 51);
        assert_eq!(
            p.diagnostics[50].message,
            "20 more rejected records not detailed"
        );
    }

    /// Parses `text` whole and as chunks; events must match after rebasing record numbers.
    fn check_split(text: &str, target: usize) -> usize {
        let reference = whole(text);
        let chunks = split(text, target);
        assert_eq!(chunks.iter().map(|c| c.text).collect::<String>(), text);
        let parts = chunks.iter().map(|c| parse_chunk(&ctx(), c)).collect();
        let merged = crate::pipeline::merge_chunks(parts);
        assert_eq!(
            (merged.parsed, merged.rejected),
            (reference.parsed, reference.rejected)
        );
        assert_eq!(merged.events, reference.events);
        chunks.len()
    }

    #[test]
    fn split_then_parse_equals_whole_parse() {
        for target in [1, 16, 100, 400, 1 << 20] {
            let n = check_split(LOG, target);
            if target == 1 {
                assert_eq!(n, 10);
            }
        }
        for t in [
            "",
            "junk\r\n",
            "01/15/2012|11:30:10.163 a\r01/15/2012|11:30:10.163 b\r\n\n",
        ] {
            for target in [1, 3, 50] {
                check_split(t, target);
            }
        }
        let c = split(LOG, 1);
        assert_eq!((c[2].line, c[2].text.get(..10)), (9, Some("01/15/2012")));
    }

    #[test]
    fn random_texts_do_not_panic() {
        let tokens = [
            "\n",
            "\r\n",
            "\r",
            "01/15/2012|11:30:10.163 ",
            "13/15/2012|11:30:10.163 ",
            "INFO  :: ",
            "Sending Packet - ",
            "SIP/2.0 200 OK",
            "ms-diagnostics: 1010;x",
            ": ",
            "::",
            " ",
            "\\",
            "é",
            "\u{0}",
            "End of",
            "https://a",
            "\t",
        ];
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        for _ in 0..2000 {
            let mut t = String::new();
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            for _ in 0..(x % 40) {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                t.push_str(tokens[(x % tokens.len() as u64) as usize]);
            }
            let p = whole(&t);
            assert_eq!(p.parsed, p.events.len() as u64);
            for target in [1, 7] {
                check_split(&t, target);
            }
        }
    }
}
