//! The grammar specs in `grammars/` cannot drift from the parsers: every ```example block of
//! `grammars/<format>.md` is sniffed as that format, parses with no rejected record, and its events
//! match the golden file `tests/it/golden/grammars/<format>-<n>.jsonl`.

use crate::util;
use imtriage::formats::{self, Chunk, FileCtx};
use imtriage::input::sniff;
use imtriage::model::Format;

/// The ```example blocks of a markdown file.
fn examples(md: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur: Option<String> = None;
    for line in md.lines() {
        match &mut cur {
            None if line.trim_start().starts_with("```example") => cur = Some(String::new()),
            Some(buf) if line.trim_start().starts_with("```") => {
                out.push(std::mem::take(buf));
                cur = None;
            }
            Some(buf) => {
                buf.push_str(line);
                buf.push('\n');
            }
            None => {}
        }
    }
    out
}

#[test]
fn grammar_examples_sniff_and_parse() {
    let mut checked = 0;
    for format in Format::ALL {
        if *format == Format::Evtx {
            continue;
        }
        let path = util::root()
            .join("grammars")
            .join(format!("{}.md", format.as_str()));
        let md = std::fs::read_to_string(&path)
            .unwrap_or_else(|_| panic!("no grammar spec {}", path.display()));
        let blocks = examples(&md);
        assert!(
            !blocks.is_empty(),
            "{} has no ```example block",
            path.display()
        );
        for (i, ex) in blocks.iter().enumerate() {
            // The RTMT manifest's element names are NOT KNOWN, so only its file name identifies it.
            let name = if *format == Format::RtmtManifest {
                "TraceCollectionResult_example.xml"
            } else {
                "example.txt"
            };
            let sniffed = sniff::sniff_text(ex, name);
            assert_eq!(
                sniffed,
                Some(*format),
                "{} example {} sniffs as {sniffed:?}",
                path.display(),
                i + 1
            );
            let ctx = FileCtx::new(&format!("grammars/{}.md#example{}", format.as_str(), i + 1));
            let p = formats::parse_text(*format, &ctx, &Chunk::whole(ex));
            assert_eq!(
                p.rejected,
                0,
                "{} example {}: {:?}",
                path.display(),
                i + 1,
                p.diagnostics
            );
            assert!(
                p.parsed >= 1 && !p.events.is_empty(),
                "{} example {} gave no event",
                path.display(),
                i + 1
            );
            let rendered: String = p
                .events
                .iter()
                .map(|e| format!("{}\n", imtriage::report::jsonl::event(e, None)))
                .collect();
            util::golden(
                &format!("grammars/{}-{}.jsonl", format.as_str(), i + 1),
                &rendered,
            );
            checked += 1;
        }
    }
    assert!(checked >= 12, "only {checked} examples checked");
}

#[test]
fn example_extraction() {
    let md = "text\n```example synthetic\na\nb\n```\n```\nnot this\n```\n```example\nc\n```\n";
    assert_eq!(examples(md), vec!["a\nb\n".to_string(), "c\n".to_string()]);
}
