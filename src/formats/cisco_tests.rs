//! Tests of the Cisco SDI / XCP / log4j parsers (`cisco.rs`).
//!
//! Real lines are those quoted in formats.md §8.2 (rendering damage kept); everything else,
//! including every Presence Engine line and every stack-trace line, is synthetic.

use super::*;
use crate::model::Event;
use chrono::{DateTime, TimeZone, Utc};

fn ctx_at(path: &str, mtime: Option<DateTime<Utc>>) -> FileCtx {
    let mut c = FileCtx::new(path);
    c.mtime = mtime;
    c
}

fn f<'a>(e: &'a Event, name: &str) -> Option<&'a str> {
    match &e.body {
        Body::LogRow { fields, .. } => fields.text(name),
        other => panic!("not a log row: {other:?}"),
    }
}

fn field_names(e: &Event) -> Vec<&str> {
    match &e.body {
        Body::LogRow { fields, .. } => fields.0.iter().map(|(k, _)| k.as_str()).collect(),
        other => panic!("not a log row: {other:?}"),
    }
}

fn log_type(e: &Event) -> &str {
    match &e.body {
        Body::LogRow { log_type, .. } => log_type,
        other => panic!("not a log row: {other:?}"),
    }
}

fn t(e: &Event) -> Option<String> {
    e.time
        .map(|t| t.format("%Y-%m-%dT%H:%M:%S%.3f").to_string())
}

/// The three SDI lines of §8.2 as published (lost leading digit, `ID(`, missing `[`, leading
/// space, CR rendered as `^M`), with a synthetic SIP header line continuing the first record.
const SDI_REAL: &str = "2:26:18.719 |PID(25333) sip_protocol.c(5964) Received 536 bytes TCP packet from 10.53.56.17:34282SUBSCRIBE sip:ysam@implync.net SIP/2.0^M
Via: SIP/2.0/TCP 10.53.56.17:34282
22:26:18.719 |ID(25333) sip_sm.c(4977) SIPGW Partitioned Fed UA Header found in this request
 22:26:18.719 |Mon Mar 07 22:26:18 2011] PID(25333) mod_sip_routing.c(1435) Routing: dipping for cuplcs.net
";

#[test]
fn sdi_real_lines() {
    let ctx = ctx_at("node1/epas/trace/esp/sdi/esp000123.txt", None);
    let p = parse_sdi(&ctx, SDI_REAL);
    assert_eq!((p.parsed, p.rejected, p.diagnostics.len()), (3, 0, 0));
    let e = &p.events;
    assert!(e
        .iter()
        .all(|e| log_type(e) == "cisco-sdi" && e.format == Format::CiscoSdi));
    assert_eq!(
        field_names(&e[0]),
        ["pid", "src", "srcline", "msg", "time_of_day", "date_source"]
    );
    assert_eq!(f(&e[0], "pid"), Some("25333"));
    assert_eq!(f(&e[0], "src"), Some("sip_protocol.c"));
    assert_eq!(f(&e[0], "srcline"), Some("5964"));
    assert_eq!(
        f(&e[0], "msg"),
        Some("Received 536 bytes TCP packet from 10.53.56.17:34282SUBSCRIBE sip:ysam@implync.net SIP/2.0^M\nVia: SIP/2.0/TCP 10.53.56.17:34282")
    );
    assert_eq!(f(&e[0], "time_of_day"), Some("2:26:18.719"));
    assert_eq!(
        (f(&e[1], "src"), f(&e[1], "srcline")),
        (Some("sip_sm.c"), Some("4977"))
    );
    assert_eq!(f(&e[2], "src"), Some("mod_sip_routing.c"));
    assert_eq!(f(&e[2], "msg"), Some("Routing: dipping for cuplcs.net"));
    assert_eq!(f(&e[2], "time_of_day"), Some("22:26:18.719"));
    // The ctime of the third line dates the whole file (records before it projected back).
    assert!(e.iter().all(|e| f(e, "date_source") == Some("ctime")));
    assert!(e
        .iter()
        .all(|e| e.ts_kind == TsKind::TimeOnly && e.host.is_none()));
    assert_eq!(t(&e[0]).as_deref(), Some("2011-03-07T02:26:18.719"));
    assert_eq!(t(&e[1]).as_deref(), Some("2011-03-07T22:26:18.719"));
    assert_eq!(t(&e[2]).as_deref(), Some("2011-03-07T22:26:18.719"));
    let locs: Vec<_> = e
        .iter()
        .map(|e| (e.loc.line, e.loc.record, e.loc.offset))
        .collect();
    assert_eq!(locs, [(1, 1, 0), (3, 2, 173), (4, 3, 266)]);
    assert!(e[0]
        .excerpt
        .starts_with("2:26:18.719 |PID(25333) sip_protocol.c(5964)"));
    assert!(!e[0].excerpt.contains("Via:"));
}

#[test]
fn xcp_real_lines() {
    let text = "21:48:44.277 |SIPGWDir.cpp:463: [FROM XMPP] <presence from='fbear@implync.net' to='ysam@implync.net' type='probe'/>...
12:29:24.762 |debug ConnectionPool.cpp:166 connection pool checkout: ccm2/dbuser (success)
";
    let ctx = ctx_at("n/epas/trace/xcp/log/sip-cm-3_000123.log", None);
    let p = parse_xcp(&ctx, text);
    assert_eq!((p.parsed, p.rejected), (2, 0));
    let e = &p.events;
    assert_eq!(log_type(&e[0]), "cisco-xcp");
    assert_eq!(
        field_names(&e[0]),
        [
            "src",
            "srcline",
            "msg",
            "time_of_day",
            "date_source",
            "date_unknown"
        ]
    );
    assert_eq!(f(&e[0], "level"), None);
    assert_eq!(
        (f(&e[0], "src"), f(&e[0], "srcline")),
        (Some("SIPGWDir.cpp"), Some("463"))
    );
    assert_eq!(
        f(&e[0], "msg"),
        Some("[FROM XMPP] <presence from='fbear@implync.net' to='ysam@implync.net' type='probe'/>...")
    );
    assert_eq!(f(&e[1], "level"), Some("debug"));
    assert_eq!(
        (f(&e[1], "src"), f(&e[1], "srcline")),
        (Some("ConnectionPool.cpp"), Some("166"))
    );
    assert_eq!(
        f(&e[1], "msg"),
        Some("connection pool checkout: ccm2/dbuser (success)")
    );
    // No date anywhere: kept, flagged, one file-level warning.
    assert!(e
        .iter()
        .all(|e| e.time.is_none() && e.ts_kind == TsKind::TimeOnly));
    assert!(e
        .iter()
        .all(|e| f(e, "date_unknown") == Some("true") && f(e, "date_source") == Some("unknown")));
    assert_eq!(p.diagnostics.len(), 1);
    let d = &p.diagnostics[0];
    assert_eq!(
        (d.level, d.line, d.record, d.format),
        (DiagLevel::Warning, 0, 0, Some(Format::CiscoXcp))
    );
    assert_eq!(
        d.message,
        "the date of this trace could not be determined (no ctime prefix, no date in the file name, no file time): 2 records kept without a date"
    );
}

#[test]
fn log4j_real_lines_out_of_order_with_stack_trace() {
    // The two lines of §8.2 (not in time order); the stack-trace lines are synthetic.
    let text = "2024-12-11 14:20:52,650 FATAL [XCPConfigMgr] security.Log4jEncLogger - javax.crypto.BadPaddingException: Error finalising cipher data: pad block corrupted\r
\tat org.example.Cipher.doFinal(Cipher.java:1)\r
\tat org.example.Log4jEncLogger.decryptPassword(Log4jEncLogger.java:2)\r
2024-12-11 14:20:52,195 INFO  [XCPConfigMgr] security.Log4jEncLogger - Entering decryptPassword\r
";
    let ctx = FileCtx::new("n/epas/trace/xcpconfigmgr/log4j/xcpconfigmgr.log");
    let p = parse_log4j(&ctx, &Chunk::whole(text));
    assert_eq!((p.parsed, p.rejected, p.diagnostics.len()), (2, 0, 0));
    let e = &p.events;
    assert_eq!(log_type(&e[0]), "cisco-log4j");
    assert_eq!(field_names(&e[0]), ["level", "thread", "logger", "msg"]);
    assert_eq!(f(&e[0], "level"), Some("FATAL"));
    assert_eq!(f(&e[0], "thread"), Some("XCPConfigMgr"));
    assert_eq!(f(&e[0], "logger"), Some("security.Log4jEncLogger"));
    assert_eq!(
        f(&e[0], "msg"),
        Some("javax.crypto.BadPaddingException: Error finalising cipher data: pad block corrupted\n\tat org.example.Cipher.doFinal(Cipher.java:1)\n\tat org.example.Log4jEncLogger.decryptPassword(Log4jEncLogger.java:2)")
    );
    assert_eq!(f(&e[1], "level"), Some("INFO"));
    assert_eq!(f(&e[1], "msg"), Some("Entering decryptPassword"));
    assert_eq!(t(&e[0]).as_deref(), Some("2024-12-11T14:20:52.650"));
    assert_eq!(t(&e[1]).as_deref(), Some("2024-12-11T14:20:52.195"));
    assert!(e[1].time < e[0].time, "file order kept, not time order");
    assert!(e.iter().all(|e| e.ts_kind == TsKind::Local));
    assert_eq!(
        (e[1].loc.line, e[1].loc.record, e[1].loc.offset),
        (4, 2, 274)
    );
}

#[test]
fn log4j_generic_reject_and_preamble() {
    let text = "junk before\n\n2024-12-11 14:20:52,650 WARN  no thread here\n2024-13-45 14:20:52,650 ERROR [t] a.B - x\nlost\n2024-12-11 14:20:53,000 ERROR [t] a.B - y\n";
    let p = parse_log4j(&FileCtx::new("x.log"), &Chunk::whole(text));
    assert_eq!((p.parsed, p.rejected), (2, 1));
    assert_eq!(field_names(&p.events[0]), ["level", "msg"]);
    assert_eq!(f(&p.events[0], "msg"), Some("no thread here"));
    assert_eq!(p.events[1].loc.record, 3);
    let msgs: Vec<_> = p
        .diagnostics
        .iter()
        .map(|d| (d.level, d.line, d.message.as_str()))
        .collect();
    assert_eq!(
        msgs,
        [
            (
                DiagLevel::Warning,
                1,
                "1 non-blank lines before the first log4j line were not read"
            ),
            (
                DiagLevel::Error,
                4,
                "impossible date or time in time stamp 2024-13-45 14:20:52.650"
            ),
        ]
    );
}

#[test]
fn epe_unknown_lines_fall_back_to_generic_records() {
    // Synthetic: no Presence Engine line has ever been published (formats.md §8.2).
    let text = "10:00:00.000 |PID(4242) pe_calendar.c(10) synthetic EWS request sent
10:00:00.100 |synthetic PE line of unknown shape: HTTP 401
  continuation of the unknown line
10:00:00.200 |[Mon Mar 07 10:00:00 2011] synthetic unknown shape with a ctime
10:00:00.300|
";
    let ctx = ctx_at("bundle/node1/epas/trace/epe/sdi/epe000001.txt", None);
    let p = parse_sdi(&ctx, text);
    assert_eq!((p.parsed, p.rejected, p.diagnostics.len()), (4, 0, 0));
    let e = &p.events;
    assert_eq!(f(&e[0], "pid"), Some("4242"));
    assert_eq!(field_names(&e[1]), ["msg", "time_of_day", "date_source"]);
    assert_eq!(
        f(&e[1], "msg"),
        Some("synthetic PE line of unknown shape: HTTP 401\n  continuation of the unknown line")
    );
    assert_eq!(
        f(&e[2], "msg"),
        Some("[Mon Mar 07 10:00:00 2011] synthetic unknown shape with a ctime")
    );
    assert_eq!(
        (f(&e[3], "msg"), f(&e[3], "time_of_day")),
        (Some(""), Some("10:00:00.300"))
    );
    assert!(e
        .iter()
        .all(|e| log_type(e) == "cisco-sdi" && f(e, "date_source") == Some("ctime")));
    assert_eq!(t(&e[0]).as_deref(), Some("2011-03-07T10:00:00.000"));
}

#[test]
fn date_from_bundle_name_with_midnight_rollover() {
    let text = "23:50:00.000 |PID(1) a.c(1) before midnight
00:10:00.000 |PID(1) a.c(1) after midnight
09:40:00.000 |PID(1) a.c(1) collection
";
    let ctx = ctx_at(
        "log_cisco_presence_engine__2016-09-30-09h41m37s.tar.gz!epas/trace/esp/sdi/esp000001.txt",
        Some(Utc.with_ymd_and_hms(2001, 1, 1, 0, 0, 0).unwrap()),
    );
    let p = parse_sdi(&ctx, text);
    let times: Vec<_> = p.events.iter().map(|e| t(e).unwrap_or_default()).collect();
    assert_eq!(
        times,
        [
            "2016-09-29T23:50:00.000",
            "2016-09-30T00:10:00.000",
            "2016-09-30T09:40:00.000"
        ]
    );
    assert!(p
        .events
        .iter()
        .all(|e| f(e, "date_source") == Some("file_name")));
    assert!(p.diagnostics.is_empty());

    // A start date in the leaf name; the time going back by less than 12 h is no roll-over.
    let text = "22:00:00.000 |info a.cpp:1 x\n21:00:00.000 |info a.cpp:2 y\n01:00:00.000 |info a.cpp:3 z\n";
    for name in ["xcp_20110307.log", "xcp-2011-03-07.log"] {
        let p = parse_xcp(&ctx_at(&format!("n/{name}"), None), text);
        let times: Vec<_> = p.events.iter().map(|e| t(e).unwrap_or_default()).collect();
        assert_eq!(
            times,
            [
                "2011-03-07T22:00:00.000",
                "2011-03-07T21:00:00.000",
                "2011-03-08T01:00:00.000"
            ],
            "{name}"
        );
    }
}

#[test]
fn date_from_mtime_is_the_end_of_the_file() {
    let text = "23:00:00.000 |PID(1) a.c(1) x\n23:59:00.000 |PID(1) a.c(1) y\n";
    let ctx = ctx_at(
        "n/esp000001.txt",
        Some(Utc.with_ymd_and_hms(2011, 3, 8, 0, 30, 0).unwrap()),
    );
    let p = parse_sdi(&ctx, text);
    let times: Vec<_> = p.events.iter().map(|e| t(e).unwrap_or_default()).collect();
    assert_eq!(
        times,
        ["2011-03-07T23:00:00.000", "2011-03-07T23:59:00.000"]
    );
    assert!(p
        .events
        .iter()
        .all(|e| f(e, "date_source") == Some("mtime")));
}

#[test]
fn ctime_resets_the_date_and_rollover_runs_across_the_file() {
    let text = "23:59:59.900 |Mon Mar 07 23:59:59 2011] PID(1) a.c(1) x
00:00:00.100 |PID(1) a.c(1) y
00:00:01.000 |Wed Mar 09 00:00:01 2011] PID(1) a.c(1) z (trace stopped for a day)
23:59:00.000 |Tue Mar 08 00:00:00 2011] PID(1) a.c(1) ctime just after the time of day
";
    let p = parse_sdi(&FileCtx::new("esp000.txt"), text);
    let times: Vec<_> = p.events.iter().map(|e| t(e).unwrap_or_default()).collect();
    assert_eq!(
        times,
        [
            "2011-03-07T23:59:59.900",
            "2011-03-08T00:00:00.100",
            "2011-03-09T00:00:01.000",
            "2011-03-07T23:59:00.000"
        ]
    );
}

#[test]
fn anchors_in_names() {
    let a = |n: &str| anchor_in(n);
    let d = |y, m, dd| NaiveDate::from_ymd_opt(y, m, dd).unwrap();
    assert_eq!(a("esp000123.txt"), None);
    assert_eq!(a("epe00000123.txt"), None);
    assert_eq!(a("x_123456789.txt"), None);
    assert_eq!(
        a("x_20111332_20110308.txt"),
        Some(Anchor::Start(d(2011, 3, 8)))
    );
    assert_eq!(a("2011-03-07"), Some(Anchor::Start(d(2011, 3, 7))));
    assert_eq!(
        a("log_x__2016-09-30-09h41m37s.tar.gz"),
        Some(Anchor::End(d(2016, 9, 30).and_hms_opt(9, 41, 37).unwrap()))
    );
    assert_eq!(a("é20110307é"), Some(Anchor::Start(d(2011, 3, 7))));
    // The leaf name wins over the enclosing path.
    let ctx = FileCtx::new("b_2010-01-01.zip!d/esp_20110307.txt");
    assert_eq!(name_anchor(&ctx), Some(Anchor::Start(d(2011, 3, 7))));
    let ctx = FileCtx::new("b_2010-01-01.zip!d/esp.txt");
    assert_eq!(name_anchor(&ctx), Some(Anchor::Start(d(2010, 1, 1))));
}

#[test]
fn continuation_truncation_and_line_ends() {
    let lf = "09:00:00.000 |PID(1) a.c(1) first\nSIP/2.0 200 OK\n\nContent-Length: 0\n09:00:01.000 |PID(1) a.c(2) cut here\n09:00:0";
    let crlf = lf.replace('\n', "\r\n");
    let cr = lf.replace('\n', "\r");
    let ctx = FileCtx::new("n/2011-03-07/esp000.txt");
    let a = parse_sdi(&ctx, lf);
    assert_eq!((a.parsed, a.rejected, a.diagnostics.len()), (2, 0, 0));
    assert_eq!(
        f(&a.events[0], "msg"),
        Some("first\nSIP/2.0 200 OK\nContent-Length: 0")
    );
    assert_eq!(f(&a.events[1], "msg"), Some("cut here\n09:00:0"));
    assert_eq!(a.events[1].loc.line, 5);
    for other in [&crlf, &cr] {
        let b = parse_sdi(&ctx, other);
        assert_eq!(b.events.len(), 2);
        for (x, y) in a.events.iter().zip(&b.events) {
            assert_eq!((&x.body, x.time, x.loc.line), (&y.body, y.time, y.loc.line));
        }
    }
    assert_eq!(parse_sdi(&ctx, &crlf).events[1].loc.offset, 72);
    // A record cut inside its head is a generic record.
    let p = parse_sdi(&ctx, "09:00:00.000 |PID(1");
    assert_eq!((p.parsed, f(&p.events[0], "msg")), (1, Some("PID(1")));
}

#[test]
fn msg_is_bounded() {
    let mut text = String::from("09:00:00.000 |PID(1) a.c(1) start\n");
    text.push_str(&"continuation line of some length é\n".repeat(20_000));
    let p = parse_sdi(&FileCtx::new("esp.txt"), &text);
    let msg = f(&p.events[0], "msg").unwrap_or("");
    assert!(msg.len() <= MSG_MAX + '…'.len_utf8() && msg.ends_with('…'));
    let mut text = String::from("2024-12-11 14:20:52,650 ERROR [t] a.B - x\n");
    text.push_str(&"\tat a.b.C(D.java:1)\n".repeat(20_000));
    let p = parse_log4j(&FileCtx::new("x.log"), &Chunk::whole(&text));
    assert!(f(&p.events[0], "msg").is_some_and(|m| m.len() <= MSG_MAX + 3));
}

#[test]
fn garbage_binary_empty_and_mojibake() {
    let ctx = FileCtx::new("esp000.txt");
    for text in ["", "\n\r\n  \n"] {
        for p in [
            parse_sdi(&ctx, text),
            parse_xcp(&ctx, text),
            parse_log4j(&ctx, &Chunk::whole(text)),
        ] {
            assert_eq!((p.parsed, p.rejected, p.diagnostics.len()), (0, 0, 0));
        }
    }
    let bin = "\u{0}\u{1}\u{2}PK\u{3}\u{4}\u{fffd}\u{fffd}\nELF\u{7f}\r\n|:|12:\n";
    for p in [
        parse_sdi(&ctx, bin),
        parse_xcp(&ctx, bin),
        parse_log4j(&ctx, &Chunk::whole(bin)),
    ] {
        assert_eq!((p.parsed, p.rejected, p.diagnostics.len()), (0, 0, 1));
        assert_eq!(p.diagnostics[0].level, DiagLevel::Warning);
        assert_eq!((p.diagnostics[0].line, p.diagnostics[0].offset), (1, 0));
    }
    assert_eq!(
        parse_sdi(&ctx, bin).diagnostics[0].message,
        "3 non-blank lines before the first time-stamped line were not read"
    );
    let moji = "\u{feff}09:00:00.000 |PID(1) a.c(1) MicrosoftÂ® WindowsÂ® Ã©\nÃ© continuation\n";
    let p = parse_sdi(&FileCtx::new("esp_20110307.txt"), moji);
    assert_eq!((p.parsed, p.rejected, p.diagnostics.len()), (1, 0, 0));
    assert_eq!(
        f(&p.events[0], "msg"),
        Some("MicrosoftÂ® WindowsÂ® Ã©\nÃ© continuation")
    );
    assert_eq!(p.events[0].loc.offset, 3);
}

#[test]
fn impossible_times_are_rejected_and_capped() {
    let text = "99:99:99.999 |PID(1) a.c(1) x\n".repeat(70);
    let p = parse_sdi(&FileCtx::new("esp000.txt"), &text);
    assert_eq!((p.parsed, p.rejected), (0, 70));
    assert_eq!(p.diagnostics.len(), 51);
    assert_eq!(
        p.diagnostics[0].message,
        "impossible time of day 99:99:99.999"
    );
    assert_eq!((p.diagnostics[1].line, p.diagnostics[1].record), (2, 2));
    assert_eq!(
        p.diagnostics[50].message,
        "20 more rejected records not detailed"
    );
    let text = "2024-02-30 00:00:00,000 INFO [t] a - x\n".repeat(55);
    let p = parse_log4j(&FileCtx::new("x.log"), &Chunk::whole(&text));
    assert_eq!((p.parsed, p.rejected, p.diagnostics.len()), (0, 55, 51));
    // A bad ctime is ignored, not fatal; a rejected record does not break date resolution.
    let text = "09:00:00.000 |Mon Feb 30 09:00:00 2011] PID(1) a.c(1) x\n25:00:00.000 |y\n10:00:00.000 |z\n";
    let p = parse_sdi(&FileCtx::new("esp_20110307.txt"), text);
    assert_eq!((p.parsed, p.rejected), (2, 1));
    assert_eq!(t(&p.events[1]).as_deref(), Some("2011-03-07T10:00:00.000"));
    assert_eq!(p.events[1].loc.record, 3);
}

/// Parses `text` whole and as chunks; events and diagnostics must match after rebasing.
fn check_split(text: &str, target: usize) -> usize {
    let ctx = FileCtx::new("n/xcpconfigmgr.log");
    let reference = parse_log4j(&ctx, &Chunk::whole(text));
    let chunks = split_log4j(text, target);
    assert_eq!(chunks.iter().map(|c| c.text).collect::<String>(), text);
    let parts = chunks.iter().map(|c| parse_log4j(&ctx, c)).collect();
    let merged = crate::pipeline::merge_chunks(parts);
    assert_eq!(
        (merged.parsed, merged.rejected),
        (reference.parsed, reference.rejected)
    );
    assert_eq!(merged.events, reference.events);
    if reference.rejected <= 50 {
        assert_eq!(merged.diagnostics, reference.diagnostics);
    }
    chunks.len()
}

#[test]
fn log4j_split_equals_whole_on_a_multi_megabyte_file() {
    let mut text = String::from("\u{feff}preamble line\r\n");
    let levels = ["TRACE", "DEBUG", "INFO ", "WARN ", "ERROR", "FATAL"];
    let mut i = 0u32;
    while text.len() < 3 << 20 {
        let (s, ms) = ((i / 7) % 60, (i * 37) % 1000);
        let lvl = levels.get((i % 6) as usize).copied().unwrap_or("INFO");
        let eol = if i % 3 == 0 { "\r\n" } else { "\n" };
        if i % 500 == 7 {
            text.push_str(&format!(
                "2024-12-11 14:20:{s:02},{ms:03} {lvl} no thread{eol}"
            ));
        } else if i % 997 == 5 {
            text.push_str(&format!(
                "2024-12-32 14:20:{s:02},{ms:03} {lvl} [t] a.B - bad{eol}"
            ));
        } else {
            text.push_str(&format!(
                "2024-12-11 14:20:{s:02},{ms:03} {lvl} [Thread-{i}] com.cisco.Foo - message {i} é{eol}"
            ));
        }
        if i % 11 == 0 {
            text.push_str(&format!(
                "java.lang.Exception: {i}{eol}\tat a.b.C(D.java:{i}){eol}{eol}"
            ));
        }
        i += 1;
    }
    for target in [64 << 10, 1 << 20] {
        assert!(check_split(&text, target) > 2);
    }
    let p = parse_log4j(&FileCtx::new("x"), &Chunk::whole(&text));
    assert_eq!(p.parsed + p.rejected, u64::from(i));
}

#[test]
fn log4j_split_small_and_random_texts() {
    for t in [
        "",
        "junk\r\n",
        "2024-12-11 14:20:52,650 INFO a\r2024-12-11 14:20:52,650 INFO b\r\n\n",
    ] {
        for target in [1, 3, 50] {
            check_split(t, target);
        }
    }
    let tokens = [
        "\n",
        "\r\n",
        "\r",
        "2024-12-11 14:20:52,650 ",
        "2024-13-11 14:20:52,650 ",
        "INFO ",
        "FATAL",
        " [t] ",
        "a.B - ",
        "\tat x",
        "é",
        "\u{0}",
        " ",
        "09:00:00.000 |",
        "PID(1) a.c(1) ",
        "Mon Mar 07 22:26:18 2011] ",
        "[",
    ];
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    for _ in 0..1500 {
        let mut t = String::new();
        for _ in 0..(next() % 30) {
            t.push_str(
                tokens
                    .get((next() % tokens.len() as u64) as usize)
                    .copied()
                    .unwrap_or(""),
            );
        }
        for target in [1, 7] {
            check_split(&t, target);
        }
        for p in [
            parse_sdi(&FileCtx::new("esp.txt"), &t),
            parse_xcp(&FileCtx::new("x.log"), &t),
        ] {
            assert_eq!(p.parsed, p.events.len() as u64);
        }
    }
}
