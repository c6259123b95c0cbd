//! Windows events as CSV: Event Viewer "Save All Events As…" CSV/TSV (formats.md §1.6) and
//! `Get-WinEvent | Export-Csv` (§1.7, also the older `Get-EventLog` columns).
//!
//! Why this module exists: administrators export event logs to CSV for tickets and spreadsheets,
//! so bundles often hold them instead of `.evtx`. Neither form carries insertion strings, and the
//! Event Viewer form has no channel or computer, but both give provider, event id, level, local
//! time and the rendered description, enough for the identity rule of §1.1 with a lowered
//! confidence. Fields are split by the shared position-keeping [`CsvReader`], so every rejected
//! row is reported with its line.

use crate::formats::csv::{CsvReader, CsvRecord};
use crate::formats::eventxml::{
    excerpt_for, finish_rejects, level_from_word, local_time, parse_event_id, reject_capped,
};
use crate::formats::FileCtx;
use crate::model::{
    Body, DiagLevel, Diagnostic, Event, Format, Location, Parsed, TsKind, WinEvent,
};
use chrono::{DateTime, Utc};

/// Classic and common log names that an Event Viewer export may be named after (INFERRED).
const KNOWN_LOGS: &[&str] = &[
    "Application",
    "System",
    "Security",
    "Setup",
    "ForwardedEvents",
    "Windows PowerShell",
    "MSExchange Management",
    "Lync Server",
    "Directory Service",
    "DNS Server",
    "DFS Replication",
    "Hardware Events",
    "Key Management Service",
];

/// Channel named by the file: `Application.csv`, `MBX01_System.txt` → `Application`, `System`;
/// otherwise empty (the Event Viewer CSV has no channel column, §1.6; INFERRED).
fn channel_from_file_name(file_name: &str) -> String {
    let stem = file_name.rsplit_once('.').map_or(file_name, |(s, _)| s);
    let last = stem.rsplit('_').next().unwrap_or(stem);
    for cand in [stem, last] {
        let squashed = cand.replace(' ', "");
        if let Some(k) = KNOWN_LOGS.iter().find(|k| {
            k.eq_ignore_ascii_case(cand) || k.replace(' ', "").eq_ignore_ascii_case(&squashed)
        }) {
            return (*k).to_string();
        }
    }
    String::new()
}

fn loc_of(ctx: &FileCtx, rec: &CsvRecord<'_>, record: u64) -> Location {
    Location {
        path: ctx.path.clone(),
        line: rec.line,
        record,
        offset: rec.offset,
    }
}

fn reject(out: &mut Parsed, format: Format, loc: &Location, msg: String, raw: &str) {
    reject_capped(
        out,
        Diagnostic::at(DiagLevel::Error, loc, format, msg).with_excerpt(raw),
    );
}

fn make_event(
    format: Format,
    loc: Location,
    w: WinEvent,
    time: Option<(DateTime<Utc>, TsKind)>,
    host: Option<&str>,
) -> Event {
    let excerpt = excerpt_for(&w);
    let (t, k) = time.map_or((None, TsKind::None), |(a, b)| (Some(a), b));
    Event::new(format, loc, Body::WinEvent(w), &excerpt)
        .with_time(t, k)
        .with_host(host)
}

fn non_empty(s: &str) -> Option<String> {
    let t = s.trim();
    (!t.is_empty()).then(|| t.to_string())
}

/// Parses an Event Viewer CSV or TSV export (rule `parse_viewer` of grammars/event-viewer-csv.md):
/// header `Level,Date and Time,Source,Event ID,Task Category` (comma or TAB), rows with a sixth,
/// unnamed, quoted, possibly multi-line description column.
pub fn parse_viewer(ctx: &FileCtx, text: &str) -> Parsed {
    let mut out = Parsed::default();
    let first_line = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    let sep = if first_line.contains('\t') {
        b'\t'
    } else {
        b','
    };
    let channel = channel_from_file_name(&ctx.file_name);
    let mut reader = CsvReader::new(text, sep).peekable();
    // Rule `viewer_header`: detected by position (localised names), i.e. a 4th field that is no number.
    match reader.peek() {
        Some(h)
            if h.fields.len() >= 5
                && h.fields
                    .get(3)
                    .is_some_and(|id| parse_event_id(id).is_none()) =>
        {
            reader.next();
        }
        Some(h) => {
            let mut d = Diagnostic::file(
                DiagLevel::Warning,
                &ctx.path,
                "no Event Viewer header line; rows read by position",
            );
            d.format = Some(Format::EventViewerCsv);
            out.diagnostics.push(d.with_excerpt(h.raw));
        }
        None => {}
    }
    for (i, rec) in reader.enumerate() {
        let loc = loc_of(ctx, &rec, i as u64 + 1);
        if rec.unterminated {
            reject(
                &mut out,
                Format::EventViewerCsv,
                &loc,
                "unterminated quoted field".into(),
                rec.raw,
            );
            continue;
        }
        let [level, date, source, id, task, rest @ ..] = rec.fields.as_slice() else {
            let msg = format!("row has {} fields, expected at least 5", rec.fields.len());
            reject(&mut out, Format::EventViewerCsv, &loc, msg, rec.raw);
            continue;
        };
        let Some((event_id, qualifiers)) = parse_event_id(id) else {
            let msg = format!("event id is not a number: `{}`", id.trim());
            reject(&mut out, Format::EventViewerCsv, &loc, msg, rec.raw);
            continue;
        };
        // A description that was not quoted and held the separator spreads over extra fields.
        let description = non_empty(&rest.join(if sep == b'\t' { "\t" } else { "," }));
        let w = WinEvent {
            channel: channel.clone(),
            provider: source.trim().to_string(),
            event_id,
            qualifiers,
            level: level_from_word(level),
            level_text: non_empty(level),
            task: non_empty(task).filter(|t| t != "None"),
            description,
            ..WinEvent::default()
        };
        let time = local_time(date);
        out.push(make_event(Format::EventViewerCsv, loc, w, time, None));
    }
    finish_rejects(&mut out, &ctx.path, Format::EventViewerCsv);
    out
}

/// The separator among `,` `;` TAB that occurs most often outside quotes in `line`.
fn sniff_separator(line: &str) -> u8 {
    let (mut counts, mut quoted) = ([0usize; 3], false);
    for b in line.bytes() {
        match b {
            b'"' => quoted = !quoted,
            b',' if !quoted => counts[0] += 1,
            b';' if !quoted => counts[1] += 1,
            b'\t' if !quoted => counts[2] += 1,
            _ => {}
        }
    }
    let seps = [b',', b';', b'\t'];
    let mut best = 0;
    for (i, c) in counts.iter().enumerate() {
        if *c > counts[best] {
            best = i;
        }
    }
    seps[best]
}

/// Column positions of a `Get-WinEvent` / `Get-EventLog` header, by case-insensitive name.
struct Columns(Vec<String>);

impl Columns {
    fn index(&self, names: &[&str]) -> Option<usize> {
        names
            .iter()
            .find_map(|n| self.0.iter().position(|c| c.eq_ignore_ascii_case(n)))
    }
}

/// Parses `Get-WinEvent | Export-Csv` (rule `parse_winevent` of grammars/win-event-csv.md):
/// optional `#TYPE` line, a header row, then one row per event; header-driven, separator sniffed.
pub fn parse_winevent(ctx: &FileCtx, text: &str) -> Parsed {
    let mut out = Parsed::default();
    let mut probe = CsvReader::new(text, b',');
    while probe
        .peek_line()
        .is_some_and(|l| l.trim().is_empty() || l.trim_start().starts_with("#TYPE"))
    {
        probe.skip_line();
    }
    let start = probe.position();
    let line_base = probe.line() - 1;
    let body = text.get(start..).unwrap_or("");
    let sep = sniff_separator(probe.peek_line().unwrap_or(""));
    let mut reader = CsvReader::new(body, sep);
    let Some(header) = reader.next() else {
        return out;
    };
    let cols = Columns(header.fields.iter().map(|f| f.trim().to_string()).collect());
    let id_col = cols.index(&["Id", "EventID", "InstanceId"]);
    if id_col.is_none() {
        let mut d = Diagnostic::file(
            DiagLevel::Warning,
            &ctx.path,
            "header has no `Id` column; rows cannot be identified",
        );
        d.format = Some(Format::WinEventCsv);
        out.diagnostics.push(d.with_excerpt(header.raw));
    }
    let c = |names: &[&str]| cols.index(names);
    let (c_q, c_level, c_level_text) = (
        c(&["Qualifiers"]),
        c(&["Level"]),
        c(&["LevelDisplayName", "EntryType"]),
    );
    let (c_task, c_task_text) = (
        c(&["Task", "CategoryNumber"]),
        c(&["TaskDisplayName", "Category"]),
    );
    let (c_rid, c_prov, c_log) = (
        c(&["RecordId", "Index"]),
        c(&["ProviderName", "Source"]),
        c(&["LogName"]),
    );
    let (c_host, c_time, c_msg) = (
        c(&["MachineName"]),
        c(&["TimeCreated", "TimeGenerated"]),
        c(&["Message"]),
    );
    for (i, mut rec) in reader.enumerate() {
        rec.line += line_base;
        rec.offset += start as u64;
        let loc = loc_of(ctx, &rec, i as u64 + 1);
        let get = |col: Option<usize>| {
            col.and_then(|n| rec.fields.get(n))
                .map(|v| v.trim())
                .filter(|v| !v.is_empty())
        };
        if rec.unterminated {
            reject(
                &mut out,
                Format::WinEventCsv,
                &loc,
                "unterminated quoted field".into(),
                rec.raw,
            );
            continue;
        }
        let raw_id = get(id_col).unwrap_or("");
        let Some((event_id, high)) = parse_event_id(raw_id) else {
            let msg = if id_col.is_none() {
                "no `Id` column in the header".to_string()
            } else {
                format!("event id is not a number: `{raw_id}`")
            };
            reject(&mut out, Format::WinEventCsv, &loc, msg, rec.raw);
            continue;
        };
        let level_text = get(c_level_text).map(str::to_string);
        let w = WinEvent {
            channel: get(c_log).unwrap_or("").to_string(),
            provider: get(c_prov).unwrap_or("").to_string(),
            event_id,
            qualifiers: get(c_q).and_then(|q| q.parse().ok()).or(high),
            level: get(c_level)
                .and_then(|l| l.parse().ok())
                .or_else(|| level_text.as_deref().and_then(level_from_word)),
            level_text,
            task: get(c_task).or(get(c_task_text)).map(str::to_string),
            record_id: get(c_rid).and_then(|r| r.parse().ok()),
            description: get(c_msg).map(str::to_string),
            ..WinEvent::default()
        };
        let time = get(c_time).and_then(local_time);
        let host = get(c_host);
        out.push(make_event(Format::WinEventCsv, loc, w, time, host));
    }
    finish_rejects(&mut out, &ctx.path, Format::WinEventCsv);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn win(e: &Event) -> &WinEvent {
        match &e.body {
            Body::WinEvent(w) => w,
            _ => panic!("not a win event"),
        }
    }

    fn rfc(e: &Event) -> String {
        e.time
            .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
            .unwrap_or_default()
    }

    const VIEWER_CSV: &str = "Level,Date and Time,Source,Event ID,Task Category\r\nError,3/5/2024 9:15:02 AM,MSExchange OWA,101,(9),\"Synthetic description, line one.\r\nLine two with \"\"quotes\"\".\"\r\nInformation,3/5/2024 9:20:00 AM,MSExchange OWA,112,(9),\"Synthetic: endpoint manager initialised.\"\r\n";

    #[test]
    fn viewer_csv_rows() {
        let p = parse_viewer(&FileCtx::new("MBX01/Application.csv"), VIEWER_CSV);
        assert_eq!((p.parsed, p.rejected, p.diagnostics.len()), (2, 0, 0));
        let e = &p.events[0];
        let w = win(e);
        assert_eq!(
            (w.channel.as_str(), w.provider.as_str(), w.event_id),
            ("Application", "MSExchange OWA", 101)
        );
        assert_eq!(
            (w.qualifiers, w.level, w.level_text.as_deref()),
            (None, Some(2), Some("Error"))
        );
        assert_eq!(w.task.as_deref(), Some("(9)"));
        assert_eq!(
            w.description.as_deref(),
            Some("Synthetic description, line one.\r\nLine two with \"quotes\".")
        );
        assert_eq!(
            (rfc(e).as_str(), e.ts_kind),
            ("2024-03-05T09:15:02Z", TsKind::Local)
        );
        assert_eq!(e.host, None);
        assert_eq!((e.loc.line, e.loc.record, e.loc.offset), (2, 1, 51));
        assert_eq!((p.events[1].loc.line, p.events[1].loc.record), (4, 2));
        assert!(e
            .excerpt
            .starts_with("Application MSExchange OWA 101 Error: Synthetic description"));
    }

    #[test]
    fn viewer_tsv_real_start_and_channel_rules() {
        let tsv = "Level\tDate and Time\tSource\tEvent ID\tTask Category\nInformation\t4/16/2020 3:47:36 PM\tMicrosoft-Windows-Sysmon\t1\tProcess Create (rule: ProcessCreate)\t\"Process Create:\nRuleName: \nUtcTime: 4/16/2020\"\n";
        let p = parse_viewer(&FileCtx::new("sysmon.txt"), tsv);
        assert_eq!((p.parsed, p.rejected), (1, 0));
        let w = win(&p.events[0]);
        assert_eq!((w.channel.as_str(), w.event_id, w.level), ("", 1, Some(4)));
        assert_eq!(
            w.description.as_deref(),
            Some("Process Create:\nRuleName: \nUtcTime: 4/16/2020")
        );
        assert_eq!(rfc(&p.events[0]), "2020-04-16T15:47:36Z");
        assert_eq!(channel_from_file_name("MBX01_system.TSV"), "System");
        assert_eq!(
            channel_from_file_name("Forwarded Events.csv"),
            "ForwardedEvents"
        );
        assert_eq!(channel_from_file_name("export.csv"), "");
    }

    #[test]
    fn viewer_bad_rows_are_rejected_with_lines() {
        let text = "Level,Date and Time,Source,Event ID,Task Category\nError,1/1/2024 1:00:00 AM,X,abc,None,\"d\"\nshort,row\nWarning,garbage date,Y,7,None\nError,1/1/2024 1:00:00 AM,X,5,None,\"open\nquote";
        let p = parse_viewer(&FileCtx::new("Application.csv"), text);
        assert_eq!((p.parsed, p.rejected), (1, 3));
        assert_eq!(
            p.diagnostics.iter().map(|d| d.line).collect::<Vec<_>>(),
            vec![2, 3, 5]
        );
        assert_eq!(p.events[0].time, None);
        assert_eq!(win(&p.events[0]).task, None);
        let p = parse_viewer(
            &FileCtx::new("a.csv"),
            "Error,1/1/2024 1:00:00 AM,X,5,None\n",
        );
        assert_eq!((p.parsed, p.rejected, p.diagnostics.len()), (1, 0, 1));
        for t in [
            "",
            "\n\n",
            "\"",
            "\u{0}\u{1}\u{ff}\té\t\"",
            "Level,Date and Time,Source,Event ID,Task Category",
        ] {
            let p = parse_viewer(&FileCtx::new("a.csv"), t);
            assert_eq!(p.parsed, 0, "{t:?}");
        }
    }

    const WINEVENT: &str = "#TYPE System.Diagnostics.Eventing.Reader.EventLogRecord\r\n\"Message\",\"Id\",\"Version\",\"Qualifiers\",\"Level\",\"Task\",\"Opcode\",\"Keywords\",\"RecordId\",\"ProviderName\",\"ProviderId\",\"LogName\",\"ProcessId\",\"ThreadId\",\"MachineName\",\"UserId\",\"TimeCreated\",\"LevelDisplayName\",\"Properties\"\r\n\"Synthetic OWA IM text\r\nsecond line\",\"101\",,\"49152\",\"2\",\"9\",,\"36028797018963968\",\"5501\",\"MSExchange OWA\",,\"Application\",,,\"MBX01.contoso.local\",,\"3/5/2024 9:15:02 AM\",\"Error\",\"System.Collections.Generic.List`1[System.Diagnostics.Eventing.Reader.EventProperty]\"\r\n";

    #[test]
    fn winevent_csv_rows() {
        let p = parse_winevent(&FileCtx::new("b.zip!MBX01/app.csv"), WINEVENT);
        assert_eq!((p.parsed, p.rejected, p.diagnostics.len()), (1, 0, 0));
        let e = &p.events[0];
        let w = win(e);
        assert_eq!(
            (w.channel.as_str(), w.provider.as_str(), w.event_id),
            ("Application", "MSExchange OWA", 101)
        );
        assert_eq!(
            (w.qualifiers, w.level, w.level_text.as_deref()),
            (Some(49152), Some(2), Some("Error"))
        );
        assert_eq!((w.task.as_deref(), w.record_id), (Some("9"), Some(5501)));
        assert_eq!(
            w.description.as_deref(),
            Some("Synthetic OWA IM text\r\nsecond line")
        );
        assert!(w.data.is_empty());
        assert_eq!(
            (rfc(e).as_str(), e.ts_kind),
            ("2024-03-05T09:15:02Z", TsKind::Local)
        );
        assert_eq!(e.host.as_deref(), Some("MBX01.contoso.local"));
        assert_eq!((e.loc.line, e.loc.record), (3, 1));
        assert_eq!(
            e.loc.offset as usize,
            WINEVENT.find("\"Synthetic").unwrap_or(0)
        );
    }

    #[test]
    fn winevent_semicolon_geteventlog_and_rejects() {
        let text = "\"Index\";\"EntryType\";\"InstanceId\";\"Message\";\"Source\";\"TimeGenerated\";\"MachineName\"\n\"7\";\"Warning\";\"1073741930\";\"m\";\"MSExchange OWA\";\"05.03.2024 09:15:02\";\"MBX01\"\n\"8\";\"Error\";\"x\";\"m\";\"S\";;\n\"9\";\"Error\";\"5\";\"open";
        let p = parse_winevent(&FileCtx::new("el.csv"), text);
        assert_eq!((p.parsed, p.rejected), (1, 2));
        let e = &p.events[0];
        let w = win(e);
        assert_eq!(
            (w.event_id, w.qualifiers, w.level, w.record_id),
            (106, Some(16384), Some(3), Some(7))
        );
        assert_eq!(rfc(e), "2024-03-05T09:15:02Z");
        assert_eq!(
            p.diagnostics.iter().map(|d| d.line).collect::<Vec<_>>(),
            vec![3, 4]
        );
        let p = parse_winevent(&FileCtx::new("x.csv"), "\"A\",\"B\"\n1,2\n3,4\n");
        assert_eq!((p.parsed, p.rejected, p.diagnostics.len()), (0, 2, 3));
        for t in [
            "",
            "#TYPE x\n",
            "\"",
            "\u{0}\u{ff};\t,\"\"\"",
            "\"Id\"\n\"\n",
        ] {
            let p = parse_winevent(&FileCtx::new("a.csv"), t);
            assert_eq!(p.parsed, 0, "{t:?}");
        }
    }
}
