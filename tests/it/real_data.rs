//! Real public files from `../shared/data` (see its README): the undamaged .evtx samples are read
//! completely, the damaged one is reported and the rest still read; the real Exchange captures parse
//! and, IM not being configured there, give no finding.

use crate::util;
use imtriage::model::{DiagLevel, Format};
use imtriage::AnalyzeConfig;

/// Records the `evtx` crate itself reads from a file (the reference count).
fn evtx_crate_count(path: &std::path::Path) -> (u64, u64) {
    let mut parser = evtx::EvtxParser::from_path(path).expect("open evtx");
    let (mut ok, mut err) = (0, 0);
    for r in parser.records() {
        match r {
            Ok(_) => ok += 1,
            Err(_) => err += 1,
        }
    }
    (ok, err)
}

#[test]
fn evtx_samples_match_the_evtx_crate() {
    let Some(dir) = util::shared("evtx") else {
        return;
    };
    let (c, diags, _) = imtriage::events(std::slice::from_ref(&dir), &AnalyzeConfig::default());
    let mut names: Vec<_> = std::fs::read_dir(&dir)
        .expect("read dir")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .collect();
    names.sort();
    assert!(names.len() >= 7, "expected the 7 public samples");
    for p in names {
        let name = p
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_string();
        let info = c
            .files
            .iter()
            .find(|f| f.path.ends_with(&name))
            .unwrap_or_else(|| panic!("{name} not read"));
        assert_eq!(info.format, Some(Format::Evtx), "{name}");
        let (ok, err) = evtx_crate_count(&p);
        assert_eq!(
            info.parsed, ok,
            "{name}: events read vs the evtx crate's own count"
        );
        if err > 0 {
            assert!(info.rejected > 0, "{name}: the damage must be counted");
            assert!(
                diags
                    .iter()
                    .any(|d| d.path.ends_with(&name) && d.level == DiagLevel::Error),
                "{name}: damage reported"
            );
        }
    }
    let damaged = c
        .files
        .iter()
        .find(|f| f.path.ends_with("sample_with_a_bad_chunk_magic.evtx"))
        .expect("damaged sample");
    assert!(
        damaged.parsed > 0,
        "records around the bad chunk are still read"
    );
}

#[test]
fn exchange_captures_parse_and_are_healthy() {
    let Some(dir) = util::shared("exchange") else {
        return;
    };
    let r = util::analyze(&dir);
    assert_eq!(
        util::finding_keys(&r),
        Vec::<String>::new(),
        "IM is not configured there: no finding"
    );
    assert_eq!(r.summary.records_rejected, 0, "{:?}", r.diagnostics);
    assert_eq!(r.summary.files, 5);
    assert_eq!(r.summary.files_skipped, 0, "{:?}", r.diagnostics);
    assert_eq!(r.summary.formats.get("clixml").map(|c| c.files), Some(4));
    assert_eq!(
        r.summary.formats.get("web-config").map(|c| c.files),
        Some(1)
    );
    let hosts: Vec<&str> = r.analysis.hosts.iter().map(|h| h.name.as_str()).collect();
    assert!(hosts.contains(&"SOLO-E16A"), "{hosts:?}");
    let solo = r
        .analysis
        .hosts
        .iter()
        .find(|h| h.name == "SOLO-E16A")
        .expect("host");
    assert!(
        solo.aliases.iter().any(|a| a == "Solo-E16A.Solo.local"),
        "{:?}",
        solo.aliases
    );
}
