use super::*;

const OWA_101: &str = r#"<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System><Provider Name='MSExchange OWA'/><EventID Qualifiers='49152'>101</EventID><Level>2</Level><Task>9</Task><Keywords>0x80000000000000</Keywords><TimeCreated SystemTime='2024-03-05T08:15:02.1234567Z'/><EventRecordID>5501</EventRecordID><Channel>Application</Channel><Computer>MBX01.contoso.local</Computer><Security/></System><EventData></EventData></Event>"#;

fn ctx() -> FileCtx {
    FileCtx::new("bundle.zip!MBX01/app.xml")
}

fn win(e: &Event) -> &WinEvent {
    match &e.body {
        Body::WinEvent(w) => w,
        _ => panic!("not a win event"),
    }
}

#[test]
fn maps_classic_event() {
    let p = parse(&ctx(), OWA_101);
    assert_eq!((p.parsed, p.rejected), (1, 0));
    let e = &p.events[0];
    let w = win(e);
    assert_eq!(w.channel, "Application");
    assert_eq!(w.provider, "MSExchange OWA");
    assert_eq!(
        (w.event_id, w.qualifiers, w.level),
        (101, Some(49152), Some(2))
    );
    assert_eq!(w.task.as_deref(), Some("9"));
    assert_eq!(w.record_id, Some(5501));
    assert!(w.data.is_empty());
    assert_eq!(
        e.time.map(|t| t.to_rfc3339()),
        Some("2024-03-05T08:15:02.123456700+00:00".into())
    );
    assert_eq!(e.ts_kind, TsKind::Utc);
    assert_eq!(e.host.as_deref(), Some("MBX01.contoso.local"));
    assert_eq!(e.excerpt, "Application MSExchange OWA 101 Error");
    assert_eq!((e.loc.line, e.loc.record, e.loc.offset), (1, 1, 0));
}

#[test]
fn stream_with_root_decl_userdata_rendering_and_multiline_data() {
    let text = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n<Events>\r\n{OWA_101}\r\n{}\r\n{}\r\n</Events>\r\n",
        r#"<Event xmlns="http://schemas.microsoft.com/win/2004/08/events/event"><System><Provider Name="Microsoft-Exchange-ManagedAvailability" Guid="{00000000-0000-0000-0000-000000000000}"/><EventID>4</EventID><Level>2</Level><Task>1</Task><TimeCreated SystemTime="2024-03-05T08:20:00.0000000Z"/><EventRecordID>77</EventRecordID><Channel>Microsoft-Exchange-ManagedAvailability/Monitoring</Channel><Computer>MBX01.contoso.local</Computer></System><UserData><EventXML xmlns="myNs"><Monitor>OwaIMInitializationFailedMonitor</Monitor><HealthSet>OWA.Protocol.Dep</HealthSet><Subject>OWA.Protocol.Dep health set unhealthy</Subject><Message>Error Message: {Instant Messaging Certificate Thumbprint is null or empty on web.config).</Message><Empty/></EventXML></UserData><RenderingInfo Culture="en-US"><Message>Rendered &amp; text</Message><Level>Error</Level></RenderingInfo></Event>"#,
        "<Event xmlns='x'><System><Provider Name='P'/><EventID>6</EventID><Channel>MSExchange Management</Channel></System><EventData><Data>line one\r\n   at line two</Data><Data Name='Who'>me</Data><Data/></EventData></Event>"
    );
    let p = parse(&ctx(), &text);
    assert_eq!((p.parsed, p.rejected), (3, 0), "{:?}", p.diagnostics);
    let ma = win(&p.events[1]);
    assert_eq!(ma.event_id, 4);
    assert_eq!(ma.qualifiers, None);
    assert_eq!(
        ma.named("monitor"),
        Some("OwaIMInitializationFailedMonitor")
    );
    assert_eq!(ma.named("HealthSet"), Some("OWA.Protocol.Dep"));
    assert_eq!(ma.named("Empty"), Some(""));
    assert_eq!(ma.description.as_deref(), Some("Rendered & text"));
    assert_eq!(ma.level_text.as_deref(), Some("Error"));
    assert_eq!(p.events[1].loc.line, 4);
    let third = win(&p.events[2]);
    assert_eq!(
        third.data,
        vec!["line one\r\n   at line two".to_string(), String::new()]
    );
    assert_eq!(third.named("who"), Some("me"));
    assert_eq!(p.events[2].loc.record, 3);
}

/// The tag-by-tag scan `find_event_start` replaced.
fn find_event_start_reference(text: &str, from: usize) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut i = from;
    while let Some(rel) = bytes.get(i..).and_then(|b| memchr::memchr(b'<', b)) {
        let lt = i + rel;
        let name_len = bytes.get(lt + 1..).map_or(0, |b| {
            b.iter()
                .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'.' | b':'))
                .count()
        });
        let j = lt + 1 + name_len;
        let name = text.get(lt + 1..j).unwrap_or("");
        let local = name.rsplit(':').next().unwrap_or(name);
        let follows_ok = bytes
            .get(j)
            .is_none_or(|c| c.is_ascii_whitespace() || *c == b'>' || *c == b'/');
        if local == "Event" && follows_ok {
            return Some(lt);
        }
        i = lt + 1;
    }
    None
}

#[test]
fn find_event_start_equals_the_tag_scan() {
    let tokens = [
        "<",
        "Event",
        ":",
        "e",
        "Events",
        " ",
        ">",
        "/",
        "x<Event",
        "<a:b:Event",
        "EventData",
        "\n",
        "<<",
    ];
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    for _ in 0..20_000 {
        let mut text = String::new();
        for _ in 0..(seed % 12) {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            text.push_str(tokens[(seed % tokens.len() as u64) as usize]);
        }
        for from in 0..=text.len() {
            assert_eq!(
                find_event_start(&text, from),
                find_event_start_reference(&text, from),
                "{text:?} from {from}"
            );
        }
    }
}

#[test]
fn split_then_parse_equals_whole_parse() {
    let good = format!(
        "<?xml version=\"1.0\"?>\r\n<Events>\r\n{OWA_101}\r\n{OWA_101}\r{OWA_101}\n</Events>"
    );
    let bad = format!("<Event xmlns='a'><System><EventID>1</EventID></Oops></Event>\n{OWA_101}\n<Event><System><EventID>x</EventID></System></Event>\n<Event><System>");
    for text in [good.as_str(), bad.as_str(), "", "<Events/>"] {
        let whole = parse(&ctx(), text);
        for target in [1, 40, 300, 1 << 20] {
            let chunks = split(text, target);
            assert_eq!(chunks.iter().map(|c| c.text).collect::<String>(), text);
            let parts = chunks.iter().map(|c| parse_chunk(&ctx(), c)).collect();
            let merged = crate::pipeline::merge_chunks(parts);
            assert_eq!(
                (merged.parsed, merged.rejected),
                (whole.parsed, whole.rejected)
            );
            assert_eq!(merged.events, whole.events, "target {target}");
            if target == 1 && text == good {
                assert_eq!(chunks.len(), 4, "the declaration, then one chunk per event");
            }
        }
    }
}

#[test]
fn malformed_events_are_rejected_and_parsing_resumes() {
    let text = format!(
        "<Event xmlns='a'><System><EventID>1</EventID></Oops></Event>\n{OWA_101}\n<Event><System><EventID>x</EventID></System></Event>\n<Event><System><EventID>2</EventID>\n{OWA_101}\n<Event><System>"
    );
    let p = parse(&ctx(), &text);
    assert_eq!((p.parsed, p.rejected), (2, 4));
    let lines: Vec<u64> = p.diagnostics.iter().map(|d| d.line).collect();
    assert_eq!(lines, vec![1, 3, 4, 6]);
    assert!(p
        .diagnostics
        .iter()
        .all(|d| d.level == DiagLevel::Error && d.excerpt.is_some()));
    assert_eq!(p.events[1].loc.line, 5);
}

#[test]
fn garbage_empty_and_binary_never_panic() {
    let p = parse(&ctx(), "");
    assert_eq!((p.parsed, p.rejected, p.diagnostics.len()), (0, 0, 0));
    let p = parse(&ctx(), "hello world\n");
    assert_eq!((p.parsed, p.rejected, p.diagnostics.len()), (0, 0, 1));
    let junk: String = (0u8..=255).map(char::from).cycle().take(5000).collect();
    let p = parse(&ctx(), &format!("{junk}<Event {junk}<Event>é<"));
    assert_eq!((p.parsed, p.rejected), (0, 2));
    let p = parse(&ctx(), "<Event");
    assert_eq!((p.parsed, p.rejected), (0, 1));
}

#[test]
fn reject_diagnostics_are_capped() {
    let text = "<Event><System></Event>\n".repeat(60);
    let p = parse(&ctx(), &text);
    assert_eq!((p.parsed, p.rejected), (0, 60));
    assert_eq!(p.diagnostics.len(), 51);
    assert!(p.diagnostics[50].message.starts_with("10 more records"));
}

#[test]
fn event_id_and_levels() {
    assert_eq!(parse_event_id("3221225573"), Some((101, Some(49152))));
    assert_eq!(parse_event_id(" 112 "), Some((112, None)));
    assert_eq!(parse_event_id("-1"), None);
    assert_eq!(level_from_word("Warnung"), Some(3));
    assert_eq!(level_from_word("Odd"), None);
    assert_eq!(iso_utc("2021-11-19T16:52:3é"), None);
    let li = LineIndex::new("a\r\nb\rc\nd");
    assert_eq!(
        (li.line_of(0), li.line_of(3), li.line_of(5), li.line_of(7)),
        (1, 2, 3, 4)
    );
}

/// The ```example blocks of the grammar specs parse with ≥1 event and 0 rejected.
#[test]
fn grammar_examples_parse_cleanly() {
    use crate::formats::{eventcsv, eventtext};
    type ParseFn = fn(&FileCtx, &str) -> Parsed;
    let cases: [(&str, ParseFn, u64); 5] = [
        ("event-xml.md", parse, 3),
        ("event-text.md", eventtext::parse_wevtutil, 2),
        ("event-copy-text.md", eventtext::parse_copy_text, 2),
        ("event-viewer-csv.md", eventcsv::parse_viewer, 3),
        ("win-event-csv.md", eventcsv::parse_winevent, 2),
    ];
    for (file, f, expected) in cases {
        let path = format!("{}/grammars/{file}", env!("CARGO_MANIFEST_DIR"));
        let spec = std::fs::read_to_string(&path).unwrap_or_default();
        let mut blocks = 0;
        for part in spec.split("```example").skip(1) {
            let body = part.split_once('\n').map(|(_, b)| b).unwrap_or("");
            let body = body.split("\n```").next().unwrap_or("");
            let p = f(&FileCtx::new(file), body);
            assert_eq!(
                (p.parsed, p.rejected),
                (expected, 0),
                "{file}: {:?}",
                p.diagnostics
            );
            assert!(p.diagnostics.is_empty(), "{file}: {:?}", p.diagnostics);
            let w = win(&p.events[0]);
            assert_eq!(
                (w.provider.as_str(), w.event_id),
                ("MSExchange OWA", 101),
                "{file}"
            );
            assert!(p
                .events
                .iter()
                .all(|e| e.time.is_some() && e.host.is_some() == (file != "event-viewer-csv.md")));
            if file == "event-xml.md" {
                let ma = win(&p.events[2]);
                assert_eq!(
                    ma.named("Monitor"),
                    Some("OwaIMInitializationFailedMonitor")
                );
                assert_eq!(ma.named("HealthSet"), Some("OWA.Protocol.Dep"));
            }
            blocks += 1;
        }
        assert_eq!(blocks, 1, "{file}");
    }
}
