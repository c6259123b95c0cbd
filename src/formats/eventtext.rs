//! Windows events as plain text: `wevtutil qe … /f:text` blocks (formats.md §1.4) and Event
//! Viewer "Copy details as text" pastes (§1.5).
//!
//! Why this module exists: support cases often carry events as text, pasted into a ticket or
//! redirected from `wevtutil`. These forms have no insertion strings and (wevtutil) no Qualifiers,
//! but they still give channel, provider, event id, level, time and computer, enough for the
//! identity rule of §1.1. An Event Viewer paste may end with an `Event Xml:` part; that part is read
//! with the shared XML mapping ([`eventxml::win_event_from_xml`]) and preferred, so a paste with XML
//! yields the same [`WinEvent`] as the `.evtx` it came from.

use crate::formats::eventxml::{
    self, excerpt_for, finish_rejects, iso_utc, level_from_word, local_time, parse_event_id,
    reject_capped,
};
use crate::formats::FileCtx;
use crate::model::{
    Body, DiagLevel, Diagnostic, Event, Format, Location, Parsed, TsKind, WinEvent,
};
use chrono::{DateTime, Utc};

/// One physical line: 1-based number, byte offset, text without its line end.
#[derive(Clone, Copy, Debug)]
struct Line<'a> {
    no: u64,
    offset: usize,
    text: &'a str,
}

/// Splits `text` into lines (LF, CRLF or lone CR).
fn lines(text: &str) -> Vec<Line<'_>> {
    let mut out = Vec::new();
    let (mut offset, mut no) = (0usize, 1u64);
    while let Some(rest) = text.get(offset..).filter(|r| !r.is_empty()) {
        let end = rest.find(['\n', '\r']).unwrap_or(rest.len());
        out.push(Line {
            no,
            offset,
            text: rest.get(..end).unwrap_or(""),
        });
        let tail = rest.get(end..).unwrap_or("");
        let eol = if tail.starts_with("\r\n") {
            2
        } else {
            usize::from(!tail.is_empty())
        };
        offset += end + eol;
        no += 1;
    }
    out
}

/// `Event[n]` or `Event[n]:` (rule `is_block_header`).
fn is_block_header(line: &str) -> bool {
    let t = line.trim();
    let Some(rest) = t.strip_prefix("Event[") else {
        return false;
    };
    let Some((num, tail)) = rest.split_once(']') else {
        return false;
    };
    !num.is_empty() && num.bytes().all(|c| c.is_ascii_digit()) && matches!(tail.trim(), "" | ":")
}

/// Splits the pairs that Windows Server 2022 20348.405 fused on one line with `?`
/// (`Task: Logon ?  Level: Information ?  Opcode: Info`), rule `split_fused`. A line is split only
/// when every piece is itself a `Key: Value` pair.
fn split_fused(line: &str) -> Vec<&str> {
    let pieces: Vec<&str> = line
        .split(" ?")
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .collect();
    if pieces.len() > 1 && pieces.iter().all(|p| p.contains(':')) {
        pieces
    } else {
        vec![line.trim()]
    }
}

/// `Key: Value` split on the first colon, both sides trimmed (keys may be padded).
fn key_value(line: &str) -> Option<(&str, &str)> {
    let (k, v) = line.split_once(':')?;
    let k = k.trim();
    (!k.is_empty()).then_some((k, v.trim()))
}

/// What the text part of either form said.
#[derive(Default)]
struct TextFields {
    win: WinEvent,
    id_ok: bool,
    id_raw: Option<String>,
    time: Option<(DateTime<Utc>, TsKind)>,
    computer: Option<String>,
}

impl TextFields {
    /// Applies one header pair (rule `apply`); unknown keys are kept raw in `named`.
    fn apply(&mut self, key: &str, value: &str, date_is_utc: bool) {
        let w = &mut self.win;
        match key.to_ascii_lowercase().as_str() {
            "log name" => w.channel = value.to_string(),
            "source" => w.provider = value.to_string(),
            "date" => {
                self.time = if date_is_utc {
                    iso_utc(value).or_else(|| local_time(value))
                } else {
                    local_time(value)
                }
            }
            "event id" => {
                self.id_raw = Some(value.to_string());
                if let Some((id, q)) = parse_event_id(value) {
                    w.event_id = id;
                    w.qualifiers = q;
                    self.id_ok = true;
                }
            }
            "task" | "task category" => {
                if !value.is_empty() && value != "N/A" && value != "None" {
                    w.task = Some(value.to_string());
                }
            }
            "level" => {
                if !value.is_empty() {
                    w.level = level_from_word(value);
                    w.level_text = Some(value.to_string());
                }
            }
            "computer" => self.computer = Some(value.to_string()).filter(|c| !c.is_empty()),
            "opcode" | "keyword" | "keywords" | "user" | "user name" => {}
            _ => w.named.push((key.to_string(), value.to_string())),
        }
    }
}

/// Joins description lines, dropping leading and trailing blank lines.
fn join_description(parts: &[&str]) -> Option<String> {
    let first = parts.iter().position(|l| !l.trim().is_empty())?;
    let last = parts.iter().rposition(|l| !l.trim().is_empty())?;
    let s = parts
        .get(first..=last)?
        .iter()
        .map(|l| l.trim_end())
        .collect::<Vec<_>>()
        .join("\n");
    Some(s)
}

fn build_event(format: Format, loc: Location, t: TextFields) -> Event {
    let excerpt = excerpt_for(&t.win);
    let (time, kind) = t.time.map_or((None, TsKind::None), |(a, b)| (Some(a), b));
    Event::new(format, loc, Body::WinEvent(t.win), &excerpt)
        .with_time(time, kind)
        .with_host(t.computer.as_deref())
}

fn bad_id_diag(format: Format, loc: &Location, t: &TextFields, raw: &str) -> Diagnostic {
    let msg = match &t.id_raw {
        Some(v) => format!("event id is not a number: `{v}`"),
        None => "record has no event id".to_string(),
    };
    Diagnostic::at(DiagLevel::Error, loc, format, msg).with_excerpt(raw)
}

fn no_records(out: &mut Parsed, ctx: &FileCtx, text: &str, format: Format, what: &str) {
    if out.parsed + out.rejected == 0 && !text.trim().is_empty() {
        let mut d = Diagnostic::file(DiagLevel::Warning, &ctx.path, format!("no {what} found"));
        d.format = Some(format);
        out.diagnostics.push(d.with_excerpt(text));
    }
}

/// Parses `wevtutil qe /f:text` output: `text_export := block*` where a block runs from an
/// `Event[n]` line to the next one (grammars/event-text.md).
pub fn parse_wevtutil(ctx: &FileCtx, text: &str) -> Parsed {
    let mut out = Parsed::default();
    let all = lines(text);
    let starts: Vec<usize> = all
        .iter()
        .enumerate()
        .filter(|(_, l)| is_block_header(l.text))
        .map(|(i, _)| i)
        .collect();
    for (n, &s) in starts.iter().enumerate() {
        let end = starts.get(n + 1).copied().unwrap_or(all.len());
        let block = all.get(s..end).unwrap_or(&[]);
        let Some(head) = block.first() else { continue };
        let loc = Location {
            path: ctx.path.clone(),
            line: head.no,
            record: n as u64 + 1,
            offset: head.offset as u64,
        };
        let raw = text.get(head.offset..).unwrap_or("");
        let t = parse_block(block.get(1..).unwrap_or(&[]));
        if t.id_ok {
            out.push(build_event(Format::EventText, loc, t));
        } else {
            reject_capped(&mut out, bad_id_diag(Format::EventText, &loc, &t, raw));
        }
    }
    no_records(&mut out, ctx, text, Format::EventText, "`Event[n]` block");
    finish_rejects(&mut out, &ctx.path, Format::EventText);
    out
}

/// Rule `parse_block`: header pairs, then `Description:` and every following line of the block.
fn parse_block(body: &[Line<'_>]) -> TextFields {
    let mut t = TextFields::default();
    let mut desc: Option<Vec<&str>> = None;
    for l in body {
        if let Some(d) = desc.as_mut() {
            d.push(l.text);
            continue;
        }
        for piece in split_fused(l.text) {
            let Some((k, v)) = key_value(piece) else {
                continue;
            };
            if k.eq_ignore_ascii_case("Description") {
                desc = Some(vec![v]);
            } else {
                t.apply(k, v, true);
            }
        }
    }
    t.win.description = desc.and_then(|d| join_description(&d));
    t
}

/// Parses Event Viewer "Copy details as text" pastes; one record per `Log Name:` line
/// (grammars/event-copy-text.md).
pub fn parse_copy_text(ctx: &FileCtx, text: &str) -> Parsed {
    let mut out = Parsed::default();
    let all = lines(text);
    let starts: Vec<usize> = all
        .iter()
        .enumerate()
        .filter(|(_, l)| key_value(l.text).is_some_and(|(k, _)| k.eq_ignore_ascii_case("Log Name")))
        .map(|(i, _)| i)
        .collect();
    for (n, &s) in starts.iter().enumerate() {
        let end = starts.get(n + 1).copied().unwrap_or(all.len());
        let record = all.get(s..end).unwrap_or(&[]);
        let Some(head) = record.first() else { continue };
        let loc = Location {
            path: ctx.path.clone(),
            line: head.no,
            record: n as u64 + 1,
            offset: head.offset as u64,
        };
        let end_offset = all.get(end).map_or(text.len(), |l| l.offset);
        let raw = text.get(head.offset..end_offset).unwrap_or("");
        let (mut t, xml_at) = parse_copy_record(record);
        if let Some(xml_offset) = xml_at {
            let xml = text.get(xml_offset..end_offset).unwrap_or("");
            match eventxml::find_event_start(xml, 0)
                .ok_or_else(|| "no <Event> element".to_string())
                .and_then(|at| {
                    eventxml::win_event_from_xml(xml.get(at..).unwrap_or("")).and_then(|x| {
                        if x.win.event_id == u32::MAX {
                            Err("event XML has no numeric EventID".into())
                        } else {
                            Ok(x)
                        }
                    })
                }) {
                Ok(x) => merge_xml(&mut t, x),
                Err(msg) => out.diagnostics.push(
                    Diagnostic::at(
                        DiagLevel::Warning,
                        &loc,
                        Format::EventCopyText,
                        format!("`Event Xml:` part unreadable, text values used: {msg}"),
                    )
                    .with_excerpt(xml),
                ),
            }
        }
        if t.id_ok {
            out.push(build_event(Format::EventCopyText, loc, t));
        } else {
            reject_capped(&mut out, bad_id_diag(Format::EventCopyText, &loc, &t, raw));
        }
    }
    no_records(
        &mut out,
        ctx,
        text,
        Format::EventCopyText,
        "`Log Name:` record",
    );
    finish_rejects(&mut out, &ctx.path, Format::EventCopyText);
    out
}

/// Rule `parse_copy_record`: header pairs, `Description:` lines, then an optional `Event Xml:` part
/// whose byte offset is returned.
fn parse_copy_record(record: &[Line<'_>]) -> (TextFields, Option<usize>) {
    let mut t = TextFields::default();
    let mut desc: Option<Vec<&str>> = None;
    let mut xml_at = None;
    for (i, l) in record.iter().enumerate() {
        let trimmed = l.text.trim();
        if trimmed.eq_ignore_ascii_case("Event Xml:") {
            xml_at = record.get(i + 1).map(|n| n.offset);
            break;
        }
        if let Some(d) = desc.as_mut() {
            d.push(l.text);
            continue;
        }
        let Some((k, v)) = key_value(l.text) else {
            continue;
        };
        if k.eq_ignore_ascii_case("Description") {
            desc = Some(vec![v]);
        } else {
            t.apply(k, v, false);
        }
    }
    t.win.description = desc.and_then(|d| join_description(&d));
    (t, xml_at)
}

/// Prefers the values of the `Event Xml:` part (§1.5); the text keeps what the XML lacks.
fn merge_xml(t: &mut TextFields, x: eventxml::XmlRecord) {
    let w = &mut t.win;
    let xw = x.win;
    if !xw.channel.is_empty() {
        w.channel = xw.channel;
    }
    if !xw.provider.is_empty() {
        w.provider = xw.provider;
    }
    w.event_id = xw.event_id;
    t.id_ok = true;
    w.qualifiers = xw.qualifiers.or(w.qualifiers);
    w.level = xw.level.or(w.level);
    w.level_text = w.level_text.take().or(xw.level_text);
    w.task = xw.task.or(w.task.take());
    w.record_id = xw.record_id.or(w.record_id);
    w.data = xw.data;
    let mut named = xw.named;
    named.append(&mut w.named);
    w.named = named;
    w.description = w.description.take().or(xw.description);
    if x.time.is_some() {
        t.time = x.time;
    }
    if x.computer.is_some() {
        t.computer = x.computer;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx() -> FileCtx {
        FileCtx::new("case/mbx01-events.txt")
    }

    fn win(e: &Event) -> &WinEvent {
        match &e.body {
            Body::WinEvent(w) => w,
            _ => panic!("not a win event"),
        }
    }

    fn rfc(e: &Event) -> String {
        e.time
            .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Nanos, true))
            .unwrap_or_default()
    }

    /// The real Windows Server 2022 block of formats.md §1.4 (with the `?` fusion bug), then a
    /// synthetic well-formed block.
    const WEVT: &str = "Event[0]\r\n  Log Name: Security\r\n  Source: Microsoft-Windows-Security-Auditing\r\n  Date: 2021-12-25T07:33:18.1520000Z\r\n  Event ID: 4625\r\n  Task: Logon ?  Level: Information ?  Opcode: Info  ?  Keyword: Audit Failure  ?  User: N/A\r\n  User Name: N/A\r\n  Computer: micro\r\n  Description: \r\nAn account failed to log on.\r\n\r\nSubject:\r\n\tSecurity ID:\t\tS-1-0-0\r\n\r\nEvent[1]:\r\n  Log Name: Application\r\n  Source: MSExchange OWA\r\n  Date: 2024-03-05T08:15:02.1234567Z\r\n  Event ID: 112\r\n  Task: N/A\r\n  Level: Information\r\n  Opcode: N/A\r\n  Keyword: Classic\r\n  User: N/A\r\n  User Name: N/A\r\n  Computer: MBX01.contoso.local\r\n  Description: \r\nThe Instant Messaging Endpoint Manager was successfully initialized.\r\n";

    #[test]
    fn wevtutil_blocks_with_fused_fields() {
        let p = parse_wevtutil(&ctx(), WEVT);
        assert_eq!((p.parsed, p.rejected), (2, 0), "{:?}", p.diagnostics);
        let e = &p.events[0];
        let w = win(e);
        assert_eq!(
            (w.channel.as_str(), w.provider.as_str()),
            ("Security", "Microsoft-Windows-Security-Auditing")
        );
        assert_eq!((w.event_id, w.qualifiers, w.level), (4625, None, Some(4)));
        assert_eq!(w.task.as_deref(), Some("Logon"));
        assert_eq!(w.level_text.as_deref(), Some("Information"));
        assert_eq!(
            w.description.as_deref(),
            Some("An account failed to log on.\n\nSubject:\n\tSecurity ID:\t\tS-1-0-0")
        );
        assert!(w.named.is_empty());
        assert_eq!(rfc(e), "2021-12-25T07:33:18.152000000Z");
        assert_eq!(e.ts_kind, TsKind::Utc);
        assert_eq!(e.host.as_deref(), Some("micro"));
        assert_eq!((e.loc.line, e.loc.record, e.loc.offset), (1, 1, 0));
        let e = &p.events[1];
        assert_eq!((e.loc.line, e.loc.record), (15, 2));
        assert_eq!(e.loc.offset as usize, WEVT.find("Event[1]").unwrap_or(0));
        assert_eq!(win(e).task, None);
        assert!(e
            .excerpt
            .starts_with("Application MSExchange OWA 112 Information: The Instant"));
    }

    #[test]
    fn wevtutil_bad_blocks_are_rejected() {
        let text = "preamble\nEvent[0]\n  Event ID: abc\n  Source: X\nEvent[1]\n  Source: Y\nEvent[2]\n  Event ID: 7\n  Lokaler Schlüssel: wert\n";
        let p = parse_wevtutil(&ctx(), text);
        assert_eq!((p.parsed, p.rejected), (1, 2));
        assert_eq!(
            p.diagnostics.iter().map(|d| d.line).collect::<Vec<_>>(),
            vec![2, 5]
        );
        assert!(p.diagnostics[0].message.contains("`abc`"));
        assert_eq!(win(&p.events[0]).named("Lokaler Schlüssel"), Some("wert"));
        assert_eq!(p.events[0].time, None);
    }

    #[test]
    fn wevtutil_junk_never_panics() {
        for t in [
            "",
            "\r",
            "Event[",
            "Event[]\n",
            "Event[0]",
            "Event[0]\n  Event ID: 99999999999999999999999\n",
            "\u{0}\u{ff}Ω?:?:",
        ] {
            let p = parse_wevtutil(&ctx(), t);
            assert_eq!(p.parsed, 0, "{t:?}");
        }
        assert_eq!(parse_wevtutil(&ctx(), "Event[0]").rejected, 1);
        assert_eq!(parse_wevtutil(&ctx(), "junk\n").diagnostics.len(), 1);
        assert_eq!(parse_wevtutil(&ctx(), "").diagnostics.len(), 0);
    }

    /// The real §1.5 paste (shortened), completed with a synthetic XML body.
    const COPY: &str = "Log Name:      Application\r\nSource:        MSExchange ADAccess\r\nDate:          23-9-2010 17:06:55\r\nEvent ID:      2937\r\nTask Category: Validation\r\nLevel:         Warning\r\nKeywords:      Classic\r\nUser:          N/A\r\nComputer:      exchangeserver.domain.local\r\nDescription:\r\nProcess powershell.exe (PID=8552). Object [CN=FederatedEmail].\r\nEvent Xml:\r\n<Event xmlns=\"\">\r\n  <System>\r\n    <Provider Name=\"MSExchange ADAccess\" />\r\n    <EventID Qualifiers=\"32768\">2937</EventID>\r\n    <Level>3</Level>\r\n    <Task>6</Task>\r\n    <TimeCreated SystemTime=\"2010-09-23T15:06:55.000000000Z\" />\r\n    <EventRecordID>123</EventRecordID>\r\n    <Channel>Application</Channel>\r\n    <Computer>exchangeserver.domain.local</Computer>\r\n  </System>\r\n  <EventData>\r\n    <Data>powershell.exe</Data>\r\n    <Data>8552</Data>\r\n  </EventData>\r\n</Event>\r\n";

    #[test]
    fn copy_text_prefers_event_xml() {
        let text = format!("{COPY}\r\nLog Name: Application\r\nSource: MSExchange OWA\r\nDate: 3/5/2024 9:15:02 AM\r\nEvent ID: 101\r\nTask Category: (9)\r\nLevel: Error\r\nComputer: MBX01\r\nDescription:\r\nsynthetic text\r\n");
        let p = parse_copy_text(&ctx(), &text);
        assert_eq!((p.parsed, p.rejected, p.diagnostics.len()), (2, 0, 0));
        let e = &p.events[0];
        let w = win(e);
        assert_eq!(
            (w.event_id, w.qualifiers, w.level),
            (2937, Some(32768), Some(3))
        );
        assert_eq!(w.task.as_deref(), Some("6"));
        assert_eq!(w.level_text.as_deref(), Some("Warning"));
        assert_eq!(w.record_id, Some(123));
        assert_eq!(
            w.data,
            vec!["powershell.exe".to_string(), "8552".to_string()]
        );
        assert_eq!(
            w.description.as_deref(),
            Some("Process powershell.exe (PID=8552). Object [CN=FederatedEmail].")
        );
        assert_eq!(rfc(e), "2010-09-23T15:06:55.000000000Z");
        assert_eq!(e.ts_kind, TsKind::Utc);
        assert_eq!(e.host.as_deref(), Some("exchangeserver.domain.local"));
        let e = &p.events[1];
        let w = win(e);
        assert_eq!(
            (w.channel.as_str(), w.provider.as_str(), w.event_id),
            ("Application", "MSExchange OWA", 101)
        );
        assert_eq!((w.level, w.task.as_deref()), (Some(2), Some("(9)")));
        assert_eq!(rfc(e), "2024-03-05T09:15:02.000000000Z");
        assert_eq!(e.ts_kind, TsKind::Local);
        assert_eq!((e.loc.line, e.loc.record), (30, 2));
    }

    #[test]
    fn copy_text_without_xml_uses_local_date() {
        let text = COPY.split("Event Xml:").next().unwrap_or("");
        let p = parse_copy_text(&ctx(), text);
        assert_eq!((p.parsed, p.rejected), (1, 0));
        let e = &p.events[0];
        assert_eq!(rfc(e), "2010-09-23T17:06:55.000000000Z");
        assert_eq!(e.ts_kind, TsKind::Local);
        assert_eq!(win(e).qualifiers, None);
        assert_eq!(win(e).task.as_deref(), Some("Validation"));
    }

    #[test]
    fn copy_text_broken_xml_falls_back_and_bad_ids_are_rejected() {
        let broken = COPY.replace("</EventData>", "");
        let p = parse_copy_text(&ctx(), &broken);
        assert_eq!((p.parsed, p.rejected), (1, 0));
        assert_eq!(p.diagnostics.len(), 1);
        assert_eq!(p.diagnostics[0].level, DiagLevel::Warning);
        assert_eq!(win(&p.events[0]).qualifiers, None);
        let p = parse_copy_text(
            &ctx(),
            "Log Name: System\nSource: X\nEvent ID: n/a\nLog Name: System\n",
        );
        assert_eq!((p.parsed, p.rejected), (0, 2));
        assert_eq!(
            p.diagnostics.iter().map(|d| d.line).collect::<Vec<_>>(),
            vec![1, 4]
        );
        for t in [
            "",
            "Log Name:",
            "Event Xml:\n<Event",
            "Log Name: a\nEvent Xml:\n<Event><System><EventID>5</EventID>",
        ] {
            let p = parse_copy_text(&ctx(), t);
            assert_eq!(p.parsed, 0, "{t:?}");
        }
    }

    #[test]
    fn every_truncation_of_every_text_form_is_safe() {
        let xml = COPY.split("Event Xml:\r\n").nth(1).unwrap_or("");
        let csv = "Level,Date and Time,Source,Event ID,Task Category\r\nError,3/5/2024 9:15:02 AM,MSExchange OWA,101,(9),\"a \"\"b\"\"\r\nc\"\r\n";
        let wcsv = "#TYPE x\r\n\"Message\",\"Id\",\"TimeCreated\"\r\n\"m\r\nn\",\"101\",\"3/5/2024 9:15:02 AM\"\r\n";
        let inputs = [WEVT, COPY, xml, csv, wcsv, "Ω€\u{0}<Event>\r\n\"é"];
        for input in inputs {
            for cut in (0..=input.len()).filter(|&i| input.is_char_boundary(i)) {
                let t = input.get(..cut).unwrap_or("");
                for p in [
                    parse_wevtutil(&ctx(), t),
                    parse_copy_text(&ctx(), t),
                    eventxml::parse(&ctx(), t),
                    crate::formats::eventcsv::parse_viewer(&ctx(), t),
                    crate::formats::eventcsv::parse_winevent(&ctx(), t),
                ] {
                    assert_eq!(p.events.len() as u64, p.parsed);
                    let errors = p
                        .diagnostics
                        .iter()
                        .filter(|d| d.level == DiagLevel::Error)
                        .count() as u64;
                    assert!(errors >= p.rejected.min(51), "{t:?}");
                }
            }
        }
    }
}
