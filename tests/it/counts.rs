//! Nothing lost, always the same (issue 5): for every format with countable records, records
//! parsed + records rejected = records present, where "present" is counted independently of the
//! parser (record-start lines by a simple pattern, or the generator's own count); and the
//! generated benchmark bundle gives byte-identical output across runs, thread counts, mmap and
//! read, chunked and whole parsing.

#[path = "../../benches/gen.rs"]
#[allow(dead_code)]
mod gen;

use crate::util;
use imtriage::formats::{self, Chunk, FileCtx};
use imtriage::model::Format;
use std::path::{Path, PathBuf};

/// Records present, counted without the parser: SIPStack `TL_…` header-like lines, Exchange log
/// data rows (non-blank lines not starting with `#`, minus a bare header row), `<Event` elements.
fn present(format: Format, text: &str) -> Option<u64> {
    let lines = || text.lines();
    Some(match format {
        Format::SipStack => lines()
            .filter(|l| {
                let r = l.strip_prefix("TL_").unwrap_or("");
                let n = r.bytes().take_while(u8::is_ascii_uppercase).count();
                n > 0 && matches!(r.as_bytes().get(n), None | Some(b'('))
            })
            .count() as u64,
        Format::ExchangeLog => {
            let fields = lines()
                .find_map(|l| l.strip_prefix("#Fields: "))
                .map(str::trim)
                .unwrap_or("\u{0}");
            lines()
                .filter(|l| !l.trim().is_empty() && !l.starts_with('#') && l.trim() != fields)
                .count() as u64
        }
        Format::EventXml => {
            text.matches("<Event ").count() as u64 + text.matches("<Event>").count() as u64
        }
        // `MM/DD/YYYY|hh:mm:ss.mmm` starts a UccApi record (formats.md §7).
        Format::UccApi => lines()
            .filter(|l| {
                let b = l.as_bytes();
                b.len() >= 23
                    && b[2] == b'/'
                    && b[5] == b'/'
                    && b[10] == b'|'
                    && b[13] == b':'
                    && b[19] == b'.'
                    && [0, 1, 3, 4, 6, 7, 8, 9, 11, 12, 14, 15, 17, 18, 20, 21, 22]
                        .iter()
                        .all(|i| b[*i].is_ascii_digit())
            })
            .count() as u64,
        // `hh:mm:ss.mmm |` starts a SDI or XCP record (a leading space and a one-digit hour occur).
        Format::CiscoSdi | Format::CiscoXcp => lines()
            .filter(|l| {
                let t = l.strip_prefix(' ').unwrap_or(l);
                let colon = t.find(':').unwrap_or(0);
                let rest = t.get(colon..).unwrap_or("");
                (1..=2).contains(&colon)
                    && t[..colon].bytes().all(|c| c.is_ascii_digit())
                    && rest.len() >= 10
                    && rest.as_bytes()[3] == b':'
                    && rest.as_bytes()[6] == b'.'
                    && rest[10..].trim_start().starts_with('|')
            })
            .count() as u64,
        // `YYYY-MM-DD hh:mm:ss,mmm LEVEL` starts a log4j record.
        Format::CiscoLog4j => lines()
            .filter(|l| {
                let b = l.as_bytes();
                b.len() > 24
                    && b[4] == b'-'
                    && b[10] == b' '
                    && b[19] == b','
                    && ["TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"]
                        .iter()
                        .any(|lv| l.get(24..).is_some_and(|r| r.starts_with(lv)))
            })
            .count() as u64,
        _ => return None,
    })
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d)
            .into_iter()
            .flatten()
            .filter_map(Result::ok)
        {
            if e.path().is_dir() {
                stack.push(e.path());
            } else {
                out.push(e.path());
            }
        }
    }
    out.sort();
    out
}

#[test]
fn parsed_plus_rejected_equals_present_in_samples() {
    let mut checked = 0;
    let mut kinds = std::collections::BTreeSet::new();
    let mut files = files_under(&util::root().join("samples"));
    files.extend(files_under(
        &util::root().join("tests/fixtures/independent"),
    ));
    for p in files {
        let mut bytes = std::fs::read(&p).expect("read");
        let mut name = p
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        // RTMT traces arrive as `.txt.gz`; a truncated one yields what inflated before the damage.
        if let Some(inner) = name.strip_suffix(".gz").map(str::to_string) {
            let mut out = Vec::new();
            let _ =
                std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&bytes[..]), &mut out);
            bytes = out;
            name = inner;
        }
        let text = imtriage::input::decode::decode(&bytes).text.to_string();
        let Some(f) = imtriage::input::sniff::sniff_text(&text, &name) else {
            continue;
        };
        let Some(want) = present(f, &text) else {
            continue;
        };
        let got = formats::parse_text(f, &FileCtx::new(&name), &Chunk::whole(&text));
        assert_eq!(got.parsed + got.rejected, want, "{}: {f}", p.display());
        checked += 1;
        kinds.insert(f);
    }
    assert!(checked >= 10, "only {checked} files checked");
    for f in [
        Format::SipStack,
        Format::ExchangeLog,
        Format::EventXml,
        Format::UccApi,
        Format::CiscoLog4j,
        Format::CiscoSdi,
    ] {
        assert!(
            kinds.contains(&f),
            "no {f} file among the samples and fixtures"
        );
    }
}

#[test]
fn generated_bundle_counts_and_is_deterministic() {
    let dir = std::env::temp_dir().join(format!("imtriage-gen-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let manifest = gen::bundle(&dir, 3 << 20, None)
        .expect("generate")
        .join("\n");
    // The generator's own record count = parsed + rejected, per kind, with small chunks so the
    // parallel chunk path is exercised too.
    for line in manifest.lines() {
        let cols: Vec<&str> = line.split('\t').collect();
        let (kind, rel, want) = (cols[0], cols[1], cols[3].parse::<u64>().expect("count"));
        let mut got = 0;
        for p in files_under(&dir.join(rel)) {
            let bytes = std::fs::read(&p).expect("read");
            let text = std::str::from_utf8(&bytes).expect("utf-8");
            let f = imtriage::input::sniff::sniff_text(text, "x").expect("sniffed");
            assert_eq!(f.as_str(), kind);
            let whole = formats::parse_text(f, &FileCtx::new("g"), &Chunk::whole(text));
            let chunked =
                imtriage::pipeline::parse_text_file(f, &FileCtx::new("g"), text, 64 << 10);
            assert_eq!(
                (whole.parsed, whole.rejected),
                (chunked.parsed, chunked.rejected)
            );
            assert_eq!(
                present(f, text),
                Some(whole.parsed + whole.rejected),
                "{}",
                p.display()
            );
            got += whole.parsed + whole.rejected;
        }
        assert_eq!(got, want, "{kind}");
    }
    let text = vec![dir.join("text")];
    let base = util::jsonl(&util::analyze_with(&text, 1, true));
    assert!(
        base.contains("trusted-app-fqdn-mismatch"),
        "planted rejection not found"
    );
    for (threads, mmap) in [(2, true), (2, false), (1, true)] {
        assert_eq!(base, util::jsonl(&util::analyze_with(&text, threads, mmap)));
    }
    let events = |threads: usize| {
        let mut cfg = imtriage::AnalyzeConfig::default();
        cfg.parse.threads = threads;
        cfg.parse.chunk_bytes = 256 << 10;
        let (c, d, order) = imtriage::events(&text, &cfg);
        let mut s = String::new();
        for i in order {
            s += &imtriage::report::jsonl::event(&c.events[i], c.host(i)).to_string();
            s.push('\n');
        }
        s + &format!("{}", d.len())
    };
    assert_eq!(events(1), events(2));
    let _ = std::fs::remove_dir_all(&dir);
}
