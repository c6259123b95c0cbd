//! Helpers shared by the integration tests.

use imtriage::classify::catalog::Catalog;
use imtriage::report::{self, OutputFormat, Report};
use imtriage::AnalyzeConfig;
use std::path::{Path, PathBuf};

/// The crate root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `../shared/data/<rel>` next to the repository (the test is skipped with a message when absent).
pub fn shared(rel: &str) -> Option<PathBuf> {
    let p = root().join("../shared/data").join(rel);
    if p.exists() {
        Some(p)
    } else {
        eprintln!("skipping: {} is not present", p.display());
        None
    }
}

pub fn catalog() -> Catalog {
    Catalog::builtin().expect("built-in catalog loads")
}

/// Analyses paths with a given thread count and mmap choice.
pub fn analyze_with(paths: &[PathBuf], threads: usize, mmap: bool) -> Report {
    let mut cfg = AnalyzeConfig::default();
    cfg.parse.threads = threads;
    cfg.parse.input.mmap = mmap;
    imtriage::analyze(paths, &cfg, &catalog())
}

pub fn analyze(path: &Path) -> Report {
    analyze_with(&[path.to_path_buf()], 0, true)
}

/// The JSON-lines rendering of a report.
pub fn jsonl(r: &Report) -> String {
    let mut out = Vec::new();
    report::reporter(OutputFormat::Jsonl, false)
        .write(r, &mut out)
        .expect("write to memory");
    String::from_utf8(out).expect("utf-8 output")
}

/// `id@HOST` for every finding, sorted.
pub fn finding_keys(r: &Report) -> Vec<String> {
    let mut v: Vec<String> = r
        .analysis
        .findings
        .iter()
        .map(|f| format!("{}@{}", f.id, f.host))
        .collect();
    v.sort();
    v
}

/// Compares `actual` with the golden file, or rewrites it when `BLESS=1`.
pub fn golden(name: &str, actual: &str) {
    let path = root().join("tests/it/golden").join(name);
    if std::env::var_os("BLESS").is_some() {
        std::fs::write(&path, actual).expect("write golden file");
        return;
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|_| panic!("missing golden file {}; run with BLESS=1", path.display()));
    if expected != actual {
        let diff: Vec<String> = expected
            .lines()
            .zip(actual.lines())
            .enumerate()
            .filter(|(_, (a, b))| a != b)
            .take(5)
            .map(|(i, (a, b))| format!("line {}:\n  expected: {a}\n  actual:   {b}", i + 1))
            .collect();
        panic!(
            "{name} differs from its golden file ({} vs {} lines); rerun with BLESS=1 after review\n{}",
            expected.lines().count(),
            actual.lines().count(),
            diff.join("\n")
        );
    }
}
