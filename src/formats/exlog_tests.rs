use super::*;
use crate::model::Body;

fn record_end_reference(bytes: &[u8], start: usize) -> (usize, u64) {
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

#[test]
fn record_end_equals_the_byte_by_byte_reference() {
    let tokens: [&[u8]; 9] = [
        b"a", b",", b"\"", b"\"\"", b"\n", b"\r", b"\r\n", b" ", b"x,\"y\"",
    ];
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    for _ in 0..20_000 {
        let mut text = Vec::new();
        for _ in 0..(seed % 24) {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            text.extend_from_slice(tokens[(seed % tokens.len() as u64) as usize]);
        }
        for start in 0..text.len() {
            assert_eq!(
                record_end(&text, start),
                record_end_reference(&text, start),
                "{:?} from {start}",
                String::from_utf8_lossy(&text)
            );
        }
    }
}

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
    big.push_str(
        "2021-01-01T00:00:00Z,1,5,,,,0,\"quoted\n2020 looks like a row start\n#and a header\",\n",
    );
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
