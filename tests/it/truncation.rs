//! Property: a file cut at any byte never makes a parser panic, and the records that ended
//! before the cut are still read. Every sample file (`samples/**`) and every grammar example is
//! cut at every offset (files up to 2 KiB) or at ~200 evenly spaced offsets (larger files).
//!
//! "Ended before the cut" is conservative: record *i* of the full parse counts when the first
//! line of the next record is complete before the cut (so all of *i*'s lines are present, and
//! the line after them is recognisably a new record, not a fragment that could continue *i*).
//! Such a record must be in the truncated parse with the same line, offset and excerpt.

use crate::util;
use imtriage::formats::{self, Chunk, FileCtx};
use imtriage::model::{Event, Format};
use rayon::prelude::*;
use std::path::PathBuf;

/// (name, text, format) of every sample file and grammar example the sniffer recognises.
fn inputs() -> Vec<(String, String, Format)> {
    let mut out = Vec::new();
    let mut stack = vec![util::root().join("samples")];
    let mut files: Vec<PathBuf> = Vec::new();
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d)
            .into_iter()
            .flatten()
            .filter_map(Result::ok)
        {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                files.push(p);
            }
        }
    }
    files.sort();
    for p in files {
        let Ok(bytes) = std::fs::read(&p) else {
            continue;
        };
        let text = imtriage::input::decode::decode(&bytes).text.to_string();
        let name = p
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if let Some(f) = imtriage::input::sniff::sniff_text(&text, &name) {
            out.push((p.display().to_string(), text, f));
        }
    }
    let mut grammars: Vec<PathBuf> = std::fs::read_dir(util::root().join("grammars"))
        .expect("grammars")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "md"))
        .collect();
    grammars.sort();
    for g in grammars {
        let md = std::fs::read_to_string(&g).expect("grammar");
        for (i, block) in md.split("```example").skip(1).enumerate() {
            let body = block.split_once('\n').map_or("", |(_, b)| b);
            let text = body.split("\n```").next().unwrap_or("").to_string() + "\n";
            if let Some(f) = imtriage::input::sniff::sniff_text(&text, "example.txt") {
                out.push((format!("{}#{i}", g.display()), text, f));
            }
        }
    }
    out
}

fn cuts(len: usize) -> Vec<usize> {
    if len <= 2048 {
        (0..len).collect()
    } else {
        (0..200).map(|k| k * len / 200).collect()
    }
}

fn key(e: &Event) -> (u64, u64, &str) {
    (e.loc.line, e.loc.offset, e.excerpt.as_str())
}

/// Formats whose records are not independent of what follows them: a whole-document format
/// (one object per file, CLIXML, web.config, registry, diagnostic info XML) may legitimately
/// read nothing from a cut document. They are still checked for panics.
fn whole_document(f: Format) -> bool {
    matches!(
        f,
        Format::Clixml
            | Format::WebConfig
            | Format::Registry
            | Format::DiagnosticInfoXml
            | Format::FormatTable
            | Format::FormatList
            | Format::CsServerVersion
            | Format::RtmtManifest
            | Format::X509
            | Format::EventViewerCsv
            | Format::WinEventCsv
    )
}

#[test]
fn truncated_samples_keep_the_records_before_the_cut() {
    let inputs = inputs();
    assert!(inputs.len() > 50, "only {} inputs found", inputs.len());
    let failures: Vec<String> = inputs
        .par_iter()
        .flat_map_iter(|(name, text, format)| {
            let ctx = FileCtx::new("cut/input.txt");
            let full = formats::parse_text(*format, &ctx, &Chunk::whole(text));
            let mut fails = Vec::new();
            for cut in cuts(text.len()) {
                if !text.is_char_boundary(cut) {
                    continue;
                }
                let part = &text[..cut];
                let got = std::panic::catch_unwind(|| {
                    formats::parse_text(*format, &ctx, &Chunk::whole(part))
                });
                let Ok(got) = got else {
                    fails.push(format!("{name}: {format} panicked when cut at {cut}"));
                    continue;
                };
                if whole_document(*format) {
                    continue;
                }
                let have: std::collections::HashSet<_> = got.events.iter().map(key).collect();
                for w in full.events.windows(2) {
                    let (e, next) = (&w[0], &w[1]);
                    let start = next.loc.offset as usize;
                    let next_line_end = text
                        .get(start..)
                        .and_then(|t| t.find('\n'))
                        .map_or(usize::MAX, |n| start + n + 1);
                    if next.loc.offset > e.loc.offset
                        && next_line_end <= cut
                        && !have.contains(&key(e))
                    {
                        fails.push(format!(
                            "{name}: {format} cut at {cut} lost the record at line {} ({})",
                            e.loc.line, e.excerpt
                        ));
                        break;
                    }
                }
            }
            fails.into_iter().take(3)
        })
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
