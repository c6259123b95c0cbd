use super::*;
use crate::model::Event;

fn ctx() -> FileCtx {
    FileCtx::new("b/POOL01/trace.txt")
}

fn skim(format: Format, needles: &[&str]) -> Skim {
    Skim::new(&[(format, needles.iter().map(|s| s.to_string()).collect())])
}

/// Skims `text` as one chunk; returns the result and the full parse's events that hold `word`.
fn run(format: Format, text: &str, word: &str) -> (Parsed, Vec<Event>) {
    let full = super::super::parse_text(format, &ctx(), &Chunk::whole(text));
    let wanted: Vec<Event> = full
        .events
        .iter()
        .filter(|e| {
            let start = e.loc.offset as usize;
            let end = full
                .events
                .iter()
                .map(|o| o.loc.offset as usize)
                .filter(|&o| o > start)
                .min()
                .unwrap_or(text.len());
            text[start..end].to_ascii_lowercase().contains(word)
        })
        .cloned()
        .collect();
    let s = skim(format, &[word]).parse_chunk(format, &ctx(), &Chunk::whole(text));
    assert_eq!(
        s.parsed + s.rejected + s.skipped,
        full.parsed + full.rejected
    );
    (s, wanted)
}

const SIP_OK: &str = "TL_INFO(TF_PROTOCOL) [0]06E4.0EB4::05/01/2024-00:00:00.000.00000001 (SIPStack,SIPAdminLog::TraceProtocolRecord:SIPAdminLog.cpp(125))$$begin_record\r\nDirection: outgoing\r\nStart-Line: SIP/2.0 200 OK\r\nMessage-Body: -\r\n$$end_record\r\n";
const SIP_BAD: &str = "TL_ERROR(TF_PROTOCOL) [0]06E4.0EB4::05/01/2024-00:00:01.000.00000002 (SIPStack,SIPAdminLog::TraceProtocolRecord:SIPAdminLog.cpp(125))$$begin_record\r\nDirection: incoming\r\nStart-Line: SIP/2.0 403 Forbidden\r\nms-diagnostics: 1034;reason=\"x\"\r\nMessage-Body: -\r\n$$end_record\r\n";

#[test]
fn sipstack_parses_only_records_with_a_needle_at_their_true_position() {
    let text = [SIP_OK, SIP_OK, SIP_BAD, SIP_OK, SIP_BAD].concat();
    let (s, wanted) = run(Format::SipStack, &text, "diagnostics");
    assert_eq!((s.parsed, s.rejected, s.skipped), (2, 0, 3));
    assert_eq!(s.events, wanted);
    let pos: Vec<(u64, u64)> = s
        .events
        .iter()
        .map(|e| (e.loc.line, e.loc.record))
        .collect();
    assert_eq!(pos, vec![(11, 3), (22, 5)]);
}

#[test]
fn stray_lines_before_the_first_record_are_still_parsed() {
    let text = format!("junk line\r\n{SIP_OK}{SIP_BAD}");
    let s = skim(Format::SipStack, &["diagnostics"]).parse_chunk(
        Format::SipStack,
        &ctx(),
        &Chunk::whole(&text),
    );
    assert_eq!((s.parsed, s.skipped), (1, 1));
    assert!(s
        .diagnostics
        .iter()
        .any(|d| d.message.contains("lines before the first record")));
}

const EXLOG: &str = "#Software: Microsoft Exchange Server\r\n#Log-type: Sync Logs\r\n#Fields: date-time,level,context\r\n2024-05-01T00:00:00.000Z,5,\"DEBUG:fine, really\"\r\n2024-05-01T00:00:01.000Z,5,\"ERROR:provider failed\r\nsecond line\"\r\n#Fields: date-time,context\r\n2024-05-01T00:00:02.000Z,fine\r\n2024-05-01T00:00:03.000Z,failed again\r\n";

#[test]
fn exchange_log_hands_the_header_in_effect_to_each_run() {
    let (s, wanted) = run(Format::ExchangeLog, EXLOG, "failed");
    assert_eq!((s.parsed, s.skipped), (2, 2));
    assert_eq!(s.events, wanted);
    // The last row was read with the second #Fields line (no `level` column).
    let last = format!("{:?}", s.events[1].body);
    assert!(
        last.contains("failed again") && !last.contains("\"level\""),
        "{last}"
    );
    assert_eq!((s.events[0].loc.line, s.events[1].loc.line), (5, 9));
}

#[test]
fn a_header_line_with_a_needle_makes_every_record_under_it_a_candidate() {
    let s = skim(Format::ExchangeLog, &["sync logs"]).parse_chunk(
        Format::ExchangeLog,
        &ctx(),
        &Chunk::whole(EXLOG),
    );
    assert_eq!((s.parsed, s.skipped), (4, 0));
}

#[test]
fn bare_header_row_at_file_start_is_state_not_a_record() {
    let text = "date-time,context\n2024-05-01T00:00:00Z,ok\n2024-05-01T00:00:01Z,failed\n";
    let (s, wanted) = run(Format::ExchangeLog, text, "failed");
    assert_eq!((s.parsed, s.skipped), (1, 1));
    assert_eq!(s.events, wanted);
}

#[test]
fn event_xml_and_non_ascii_records() {
    let ev = |id: u32, data: &str| {
        format!("<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System><Provider Name='X'/><EventID>{id}</EventID><TimeCreated SystemTime='2024-05-01T00:00:00Z'/><Computer>MBX01</Computer></System><EventData><Data>{data}</Data></EventData></Event>\n")
    };
    let text = format!(
        "<?xml version=\"1.0\"?>\n<Events>\n{}{}{}{}</Events>\n",
        ev(1, "fine"),
        ev(2, "IM failed"),
        ev(3, "fine"),
        ev(4, "\u{e9}chec")
    );
    let s = skim(Format::EventXml, &["failed"]).parse_chunk(
        Format::EventXml,
        &ctx(),
        &Chunk::whole(&text),
    );
    assert_eq!(
        (s.parsed, s.skipped),
        (2, 2),
        "the failed and the non-ASCII event"
    );
    let at: Vec<(u64, u64)> = s
        .events
        .iter()
        .map(|e| (e.loc.line, e.loc.record))
        .collect();
    assert_eq!(at, vec![(4, 2), (6, 4)]);
    assert!(s.diagnostics.is_empty(), "{:?}", s.diagnostics);
}

#[test]
fn needles_are_found_across_block_ends_in_any_case() {
    let f = Finder::new(&["NeedleWord".to_string(), "0x".to_string()]).expect("finder");
    for at in [BLOCK - 5, BLOCK - 1, BLOCK, 2 * BLOCK - 3] {
        let mut text = vec![b'.'; 3 * BLOCK];
        text[at..at + 10].copy_from_slice(b"nEEDLEwORD");
        let mut hits = Vec::new();
        f.hits(&text, &mut hits);
        assert_eq!(hits, vec![(at, at + 10, 0)], "at {at}");
    }
    let mut hits = Vec::new();
    f.hits(b"a 0X b 0x", &mut hits);
    assert_eq!(hits, vec![(2, 4, 1), (7, 9, 1)]);
}

#[test]
fn a_group_needs_all_its_words_in_the_record() {
    let f = Finder::new(&["virtual directory object".to_string()]).expect("finder");
    assert!(f.confirm(0, b"on OWA Virtual Directory Object", ""));
    assert!(!f.confirm(0, b"Active Directory Provider", ""));
    assert!(f.confirm(0, b"Directory object", "#Version: virtual"));
    let text = [SIP_OK, SIP_BAD]
        .concat()
        .replace("reason=\"x\"", "reason=\"virtual directory x\"");
    let s = skim(Format::SipStack, &["virtual directory object"]).parse_chunk(
        Format::SipStack,
        &ctx(),
        &Chunk::whole(&text),
    );
    assert_eq!((s.parsed, s.skipped), (0, 2), "`object` is missing");
}

#[test]
fn uncovered_formats_parse_everything() {
    let s = skim(Format::EventXml, &["x"]);
    assert!(!s.covers(Format::SipStack));
    let text = [SIP_OK, SIP_OK].concat();
    let p = s.parse_chunk(Format::SipStack, &ctx(), &Chunk::whole(&text));
    assert_eq!((p.parsed, p.skipped), (2, 0));
}

#[test]
fn an_unterminated_first_row_is_a_record_not_a_header() {
    let text = "\"date-time,context\n2024-05-01T00:00:00Z,ok\n";
    let full = super::super::parse_text(Format::ExchangeLog, &ctx(), &Chunk::whole(text));
    let s = skim(Format::ExchangeLog, &["nothing"]).parse_chunk(
        Format::ExchangeLog,
        &ctx(),
        &Chunk::whole(text),
    );
    assert_eq!((full.parsed, full.rejected), (0, 1));
    assert_eq!((s.parsed, s.rejected, s.skipped), (0, 0, 1));
}

#[test]
fn sipstack_marks_are_the_header_like_lines() {
    let pieces = [
        "TL_INFO(x)",
        "TL_",
        "TL_E",
        "TL_e(",
        "xTL_INFO(",
        "TL_AB",
        "TL_AB c",
        "\n",
        "\r",
        "\r\n",
        "$$end_record",
        " ",
    ];
    let mut seed = 0xfeed_beef_u64;
    for _ in 0..5000 {
        let mut t = String::new();
        for _ in 0..(seed % 10) {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            t.push_str(pieces[(seed % pieces.len() as u64) as usize]);
        }
        let got: Vec<usize> = marks(Format::SipStack, &Chunk::whole(&t))
            .iter()
            .map(|m| m.pos)
            .collect();
        let want: Vec<usize> = super::super::numbered_lines(&t)
            .filter(|(_, _, line)| super::super::sipstack::header_like(line))
            .map(|(_, pos, _)| pos)
            .collect();
        assert_eq!(got, want, "{t:?}");
    }
}
