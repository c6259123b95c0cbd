//! Binary `.evtx` event logs (formats.md §1.2), read with the `evtx` crate.
//!
//! Why this module exists: `Application.evtx`, `System.evtx` and the crimson channels exported by
//! `wevtutil epl` are the richest source of the MSExchange OWA and Managed Availability events. The
//! crate renders each record as XML; this module maps that XML with the same code as the wevtutil
//! XML parser ([`eventxml::win_event_from_xml`]) so every form yields the same [`WinEvent`], turns
//! the crate's errors (damaged chunks, bad records) into diagnostics, and never lets a damaged file
//! abort the run.

use crate::formats::eventxml::{self, event_from_record, finish_rejects, reject_capped};
use crate::formats::FileCtx;
use crate::model::{DiagLevel, Diagnostic, Event, Format, Location, Parsed, TsKind};
use chrono::DateTime;
use evtx::err::EvtxError;
use evtx::{EvtxParser, ParserSettings};
use std::io::Cursor;
use std::panic::{catch_unwind, AssertUnwindSafe};

/// Size of an EVTX chunk (fixed by the format).
const CHUNK_SIZE: u64 = 65_536;

/// Parses a whole `.evtx` file. Records come out in the crate's order (oldest chunk first), then
/// sorted by `EventRecordID` (stable, so duplicates keep file order). `Location::record` is the
/// 1-based ordinal of the item (record or error) in the crate's iteration order; `line` is 0 and
/// `offset` is the chunk's file offset when an error names the chunk, else 0.
pub fn parse(ctx: &FileCtx, bytes: &[u8]) -> Parsed {
    let mut out = Parsed::default();
    let mut events: Vec<Event> = Vec::new();
    let mut seen = 0u64;
    // The decoder is third-party code fed with untrusted bytes: a panic inside it must not abort
    // the run. What was read before the panic is kept.
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        read_records(ctx, bytes, &mut out, &mut events, &mut seen)
    }));
    if outcome.is_err() {
        let loc = loc(ctx, seen + 1, 0);
        reject_capped(
            &mut out,
            Diagnostic::at(
                DiagLevel::Error,
                &loc,
                Format::Evtx,
                format!("the evtx decoder failed unexpectedly after {seen} items; the rest of the file is lost"),
            ),
        );
    }
    events.sort_by_key(|e| match &e.body {
        crate::model::Body::WinEvent(w) => w.record_id.unwrap_or(u64::MAX),
        _ => u64::MAX,
    });
    for e in events {
        out.push(e);
    }
    finish_rejects(&mut out, &ctx.path, Format::Evtx);
    out
}

fn loc(ctx: &FileCtx, record: u64, offset: u64) -> Location {
    Location {
        path: ctx.path.clone(),
        line: 0,
        record,
        offset,
    }
}

fn read_records(
    ctx: &FileCtx,
    bytes: &[u8],
    out: &mut Parsed,
    events: &mut Vec<Event>,
    seen: &mut u64,
) {
    let parser = match EvtxParser::from_read_seek(Cursor::new(bytes)) {
        Ok(p) => p,
        Err(e) => {
            let mut d = Diagnostic::file(
                DiagLevel::Error,
                &ctx.path,
                format!("not a readable evtx file: {}", error_chain(&e)),
            );
            d.format = Some(Format::Evtx);
            out.diagnostics.push(d);
            return;
        }
    };
    let header_size = u64::from(parser.header().header_block_size);
    // One thread: files are already parsed in parallel by the pipeline, and the crate's own
    // pipeline would block rayon workers while waiting for its chunks.
    let mut parser = parser.with_configuration(ParserSettings::new().num_threads(1));
    for item in parser.records() {
        *seen += 1;
        let ordinal = *seen;
        match item {
            Ok(rec) => {
                let l = loc(ctx, ordinal, 0);
                let header_time = DateTime::from_timestamp(
                    rec.timestamp.as_second(),
                    u32::try_from(rec.timestamp.subsec_nanosecond()).unwrap_or(0),
                );
                let mapped = eventxml::win_event_from_xml(&rec.data).map(|mut x| {
                    if x.time.is_none() {
                        x.time = header_time.map(|t| (t, TsKind::Utc));
                    }
                    if x.win.record_id.is_none() {
                        x.win.record_id = Some(rec.event_record_id);
                    }
                    x
                });
                match mapped.and_then(|x| event_from_record(Format::Evtx, l.clone(), x)) {
                    Ok(ev) => events.push(ev),
                    Err(msg) => reject_capped(
                        out,
                        Diagnostic::at(
                            DiagLevel::Error,
                            &l,
                            Format::Evtx,
                            format!("record {} could not be mapped: {msg}", rec.event_record_id),
                        )
                        .with_excerpt(&rec.data),
                    ),
                }
            }
            Err(e) => {
                let offset = match &e {
                    EvtxError::FailedToParseChunk { chunk_id, .. } => {
                        header_size.saturating_add(chunk_id.saturating_mul(CHUNK_SIZE))
                    }
                    EvtxError::FailedToReadRecordAt {
                        chunk: Some(c),
                        offset,
                        ..
                    } => header_size
                        .saturating_add(c.saturating_mul(CHUNK_SIZE))
                        .saturating_add(*offset),
                    _ => 0,
                };
                let l = loc(ctx, ordinal, offset);
                reject_capped(
                    out,
                    Diagnostic::at(
                        DiagLevel::Error,
                        &l,
                        Format::Evtx,
                        format!("damaged evtx data skipped: {}", error_chain(&e)),
                    ),
                );
            }
        }
    }
}

/// `Display` of an error and of its sources, joined by `: `.
fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut s = e.to_string();
    let mut src = e.source();
    let mut depth = 0;
    while let Some(inner) = src {
        s.push_str(": ");
        s.push_str(&inner.to_string());
        src = inner.source();
        depth += 1;
        if depth > 8 {
            break;
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Body, WinEvent};
    use std::path::PathBuf;

    fn sample(name: &str) -> Option<Vec<u8>> {
        let rel =
            PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/data/evtx")).join(name);
        let path = if rel.exists() {
            rel
        } else {
            PathBuf::from("/work/shared/data/evtx").join(name)
        };
        std::fs::read(path).ok()
    }

    /// Ok and Err items as the crate itself yields them (the independent count).
    fn crate_counts(bytes: &[u8]) -> (u64, u64) {
        let mut p = EvtxParser::from_read_seek(Cursor::new(bytes))
            .map(|p| p.with_configuration(ParserSettings::new().num_threads(1)))
            .unwrap();
        let (mut ok, mut err) = (0, 0);
        for r in p.records() {
            if r.is_ok() {
                ok += 1
            } else {
                err += 1
            }
        }
        (ok, err)
    }

    fn win(e: &Event) -> &WinEvent {
        match &e.body {
            Body::WinEvent(w) => w,
            _ => panic!("not a win event"),
        }
    }

    /// (file, parsed, rejected) measured on the shared samples with evtx 0.15.1 (single thread).
    /// `sample-with-zero-data-size-event.evtx` holds one record the crate reports as an error.
    const COUNTS: &[(&str, u64, u64)] = &[
        ("MSExchange_Management_wec.evtx", 1, 0),
        ("system.evtx", 1881, 0),
        ("security.evtx", 2261, 0),
        ("2-vss_7-System.evtx", 1160, 0),
        ("Application_no_crc32.evtx", 17, 0),
        ("sample-with-zero-data-size-event.evtx", 449, 1),
        ("sample_with_a_bad_chunk_magic.evtx", 301, 3),
    ];

    #[test]
    fn counts_match_the_crate_on_the_samples() {
        for (name, parsed, rejected) in COUNTS {
            let Some(bytes) = sample(name) else {
                eprintln!("sample {name} missing; skipped");
                continue;
            };
            let p = parse(&FileCtx::new(name), &bytes);
            assert_eq!((p.parsed, p.rejected), crate_counts(&bytes), "{name}");
            assert_eq!((p.parsed, p.rejected), (*parsed, *rejected), "{name}");
            assert_eq!(p.events.len() as u64, p.parsed);
            assert_eq!(p.diagnostics.len() as u64, p.rejected);
            let ids: Vec<u64> = p.events.iter().filter_map(|e| win(e).record_id).collect();
            assert_eq!(ids.len() as u64, p.parsed);
            assert!(ids.windows(2).all(|w| w[0] <= w[1]), "{name} not sorted");
            assert!(p
                .events
                .iter()
                .all(|e| e.time.is_some() && e.ts_kind == TsKind::Utc));
            // The damaged sample holds one record (id 46741) that renders with no System values.
            let blank = p
                .events
                .iter()
                .filter(|e| win(e).provider.is_empty() || win(e).channel.is_empty())
                .count();
            assert_eq!(blank, usize::from(name.contains("bad_chunk")), "{name}");
        }
    }

    #[test]
    fn msexchange_wec_record() {
        let Some(bytes) = sample("MSExchange_Management_wec.evtx") else {
            return;
        };
        let p = parse(
            &FileCtx::new("b.zip!MSExchange_Management_wec.evtx"),
            &bytes,
        );
        assert_eq!((p.parsed, p.rejected), (1, 0));
        let e = &p.events[0];
        let w = win(e);
        assert_eq!(w.channel, "MSExchange Management");
        assert_eq!(w.provider, "MSExchange CmdletLogs");
        assert_eq!(
            (w.event_id, w.qualifiers, w.level),
            (1, Some(16384), Some(4))
        );
        assert_eq!(w.record_id, Some(3229));
        assert_eq!(w.data.first().map(String::as_str), Some("Set-Mailbox"));
        assert_eq!(
            e.time
                .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Nanos, true)),
            Some("2021-11-19T16:52:33.833733500Z".to_string())
        );
        assert_eq!(e.ts_kind, TsKind::Utc);
        assert_eq!(e.host.as_deref(), Some("WEC.ave.local"));
        assert_eq!(e.format, Format::Evtx);
        assert!(e
            .excerpt
            .starts_with("MSExchange Management MSExchange CmdletLogs 1 Information: Set-Mailbox"));
    }

    #[test]
    fn bad_chunk_is_reported_and_good_records_kept() {
        let Some(bytes) = sample("sample_with_a_bad_chunk_magic.evtx") else {
            return;
        };
        let (ok, err) = crate_counts(&bytes);
        let p = parse(&FileCtx::new("sample_with_a_bad_chunk_magic.evtx"), &bytes);
        assert!(err >= 1);
        assert_eq!((p.parsed, p.rejected), (ok, err));
        assert!(p.parsed > 0);
        assert!(p.diagnostics.iter().any(|d| d.level == DiagLevel::Error
            && d.message.contains("chunk")
            && d.offset > 0
            && &*d.path == "sample_with_a_bad_chunk_magic.evtx"));
    }

    #[test]
    fn junk_and_truncation_never_panic() {
        let ctx = FileCtx::new("x.evtx");
        let p = parse(&ctx, b"");
        assert_eq!((p.parsed, p.rejected, p.diagnostics.len()), (0, 0, 1));
        let p = parse(&ctx, b"not an evtx file at all");
        assert_eq!((p.parsed, p.rejected), (0, 0));
        assert_eq!(p.diagnostics.len(), 1);
        if let Some(bytes) = sample("MSExchange_Management_wec.evtx") {
            for cut in [8usize, 128, 4096, 4096 + 600, 20_000] {
                let p = parse(&ctx, &bytes[..cut.min(bytes.len())]);
                assert!(p.parsed <= 1);
            }
            let mut flipped = bytes.clone();
            for b in flipped.iter_mut().skip(4096 + 512).step_by(97) {
                *b ^= 0x5A;
            }
            let p = parse(&ctx, &flipped);
            assert!(p.parsed + p.rejected <= 2);
        }
    }
}
