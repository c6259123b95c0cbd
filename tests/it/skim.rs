//! The raw-text prefilter of `analyze` (`formats::skim`) keeps exactly the events a full parse
//! keeps: over every sample bundle, the independent fixtures, the real data and a generated
//! trace, whole-file and in tiny chunks, and whatever the thread count.

use crate::util::{catalog, root, shared};
use imtriage::classify::matchers::Prefilter;
use imtriage::model::Event;
use imtriage::pipeline::{self, Bundle, ParseConfig};
use std::path::PathBuf;
use std::sync::Arc;

/// Every bundle the tests know: each sample and fixture folder, and the shared real data.
fn bundles() -> Vec<PathBuf> {
    let mut out = Vec::new();
    for dir in [
        root().join("samples"),
        root().join("tests/fixtures/independent"),
    ] {
        let mut v: Vec<PathBuf> = std::fs::read_dir(&dir)
            .expect("bundle folder")
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.is_dir() || p.extension().is_some_and(|x| x == "gz"))
            .collect();
        v.sort();
        out.extend(v);
    }
    out.extend(shared("exchange"));
    out.extend(shared("evtx"));
    out
}

fn load(paths: &[PathBuf], pre: &Prefilter, skim: bool, chunk: usize, threads: usize) -> Bundle {
    let cfg = ParseConfig {
        threads,
        chunk_bytes: chunk,
        skim: skim.then(|| Arc::new(pre.skim())),
        ..ParseConfig::default()
    };
    pipeline::load(paths, &cfg, &|e: &Event| pre.keep(e))
}

/// Per file: (path, parsed + rejected + skipped).
fn present(b: &Bundle) -> Vec<(String, u64)> {
    b.files
        .iter()
        .map(|f| (f.path.to_string(), f.parsed + f.rejected + f.skipped))
        .collect()
}

fn check(paths: &[PathBuf], chunk: usize, threads: usize) -> u64 {
    let pre = Prefilter::new(&catalog());
    let full = load(paths, &pre, false, chunk, threads);
    let skim = load(paths, &pre, true, chunk, threads);
    let what = format!("{paths:?} chunk {chunk} threads {threads}");
    assert_eq!(full.events, skim.events, "kept events differ: {what}");
    assert_eq!(
        present(&full),
        present(&skim),
        "record counts differ: {what}"
    );
    assert!(full.files.iter().all(|f| f.skipped == 0));
    skim.files.iter().map(|f| f.skipped).sum()
}

#[test]
fn skim_keeps_what_a_full_parse_keeps() {
    let mut skipped = 0;
    let mut bundles_with_skips = 0;
    for b in bundles() {
        let n = check(std::slice::from_ref(&b), pipeline::DEFAULT_CHUNK_BYTES, 1);
        // Tiny chunks: every chunk boundary and header hand-over is exercised.
        assert_eq!(check(std::slice::from_ref(&b), 300, 2), n, "{b:?}");
        skipped += n;
        bundles_with_skips += u64::from(n > 0);
    }
    // Not vacuous: the healthy records of the sample traces and logs are skipped.
    eprintln!("{skipped} records skipped in {bundles_with_skips} bundles");
    assert!(skipped >= 20, "only {skipped} records skipped");
    assert!(bundles_with_skips >= 10, "{bundles_with_skips} bundles");
}

/// A generated trace with planted failures, with CRLF, LF and mixed line ends.
#[test]
fn skim_on_generated_sipstack_keeps_planted_records() {
    let healthy = |i: usize| {
        format!(
            "TL_INFO(TF_PROTOCOL) [0]06E4.0EB4::05/01/2024-00:00:{:02}.000.{i:08X} (SIPStack,SIPAdminLog::TraceProtocolRecord:SIPAdminLog.cpp(125))$$begin_record\n\
             Trace-Correlation-Id: {i}\nDirection: outgoing\nPeer: mbx01.contoso.com:5199\n\
             Start-Line: SIP/2.0 200 OK\nCSEQ: 1 SUBSCRIBE\nMessage-Body: -\n$$end_record\n",
            i % 60
        )
    };
    let planted = "TL_ERROR(TF_PROTOCOL) [0]06E4.0EB4::05/01/2024-00:01:00.000.00000FFF (SIPStack,SIPAdminLog::TraceProtocolRecord:SIPAdminLog.cpp(125))$$begin_record\n\
        Direction: incoming\nPeer: mbx01.contoso.com:5199\nStart-Line: SIP/2.0 403 Forbidden\n\
        ms-diagnostics: 1034;reason=\"Previous hop federated peer did not report diagnostic information\"\n\
        Message-Body: -\n$$end_record\n";
    let mut text = String::new();
    for i in 0..3000 {
        text.push_str(&healthy(i));
        if i % 1000 == 500 {
            text.push_str(planted);
        }
    }
    let dir = std::env::temp_dir().join(format!("imtriage-skim-{}", std::process::id()));
    let pool = dir.join("POOL01");
    std::fs::create_dir_all(&pool).expect("temp dir");
    for (name, t) in [
        ("crlf.txt", text.replace('\n', "\r\n")),
        ("lf.txt", text.clone()),
        ("mixed.txt", text.replacen('\n', "\r\n", 4000)),
    ] {
        std::fs::write(pool.join(name), t).expect("write trace");
    }
    let n = check(std::slice::from_ref(&dir), 8192, 2);
    assert_eq!(
        n,
        3 * 3000,
        "the healthy records are skipped, the planted ones parsed"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
