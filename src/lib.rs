//! imtriage: triage of instant-messaging and presence failures between Microsoft Exchange,
//! Lync / Skype for Business Server and Cisco Unified CM IM and Presence, from log bundles.
//!
//! The library is a pipeline of stages, each in its own module, each importing only earlier
//! stages and the shared [`model`]:
//! [`input`] (find and decode files) → [`formats`] (parse each format into [`model::Event`]s) →
//! [`pipeline`] (parallel, ordered driver) → [`correlate`] (hosts and time) → [`classify`] (the
//! cause catalog) → [`report`] (human text, JSON lines, SIEM schemas, timelines, HTML). See ARCHITECTURE.md.
//!
//! ```no_run
//! use imtriage::{analyze, AnalyzeConfig, classify::catalog::Catalog};
//! let catalog = Catalog::builtin().expect("the embedded catalog is valid");
//! let report = analyze(&["bundle.zip".into()], &AnalyzeConfig::default(), &catalog);
//! for f in &report.analysis.findings {
//!     println!("{} on {}", f.id, f.host);
//! }
//! ```
#![deny(unsafe_code)]

pub mod classify;
pub mod correlate;
pub mod formats;
pub mod input;
pub mod model;
pub mod pipeline;
pub mod report;

use classify::catalog::Catalog;
use classify::matchers::Prefilter;
use correlate::{CorrelateConfig, Correlated};
use model::Event;
use pipeline::ParseConfig;
use report::{Report, Summary};
use std::path::PathBuf;

/// Everything `analyze` needs besides the inputs and the catalog.
#[derive(Clone, Debug)]
pub struct AnalyzeConfig {
    pub parse: ParseConfig,
    pub correlate: CorrelateConfig,
    /// Parse only the records of large logs that hold a catalog literal (the skim of
    /// [`formats::skim`]); `false` parses and validates every record (`--full-parse`).
    pub skim: bool,
}

impl Default for AnalyzeConfig {
    /// Default parsing, and the documented 15-minute correlation window.
    fn default() -> Self {
        AnalyzeConfig {
            parse: ParseConfig::default(),
            correlate: CorrelateConfig {
                window: chrono::Duration::minutes(15),
                tz: Vec::new(),
            },
            skim: true,
        }
    }
}

/// Reads a bundle, classifies it against the catalog and returns the full report.
pub fn analyze(paths: &[PathBuf], cfg: &AnalyzeConfig, catalog: &Catalog) -> Report {
    run(paths, cfg, catalog, false, &|_: &pipeline::FileInfo| {})
}

/// [`analyze`], reporting each parsed file to `progress` (the binary's progress bar).
pub fn analyze_with_progress(
    paths: &[PathBuf],
    cfg: &AnalyzeConfig,
    catalog: &Catalog,
    progress: pipeline::Progress<'_>,
) -> Report {
    run(paths, cfg, catalog, false, progress)
}

/// [`analyze`], keeping every event of the bundle: the report's `timeline` holds one row per
/// normalised event (for the timeline and HTML outputs). Uses memory for all events, which
/// `analyze` avoids; the findings are the same.
pub fn timeline(
    paths: &[PathBuf],
    cfg: &AnalyzeConfig,
    catalog: &Catalog,
    progress: pipeline::Progress<'_>,
) -> Report {
    run(paths, cfg, catalog, true, progress)
}

/// The bundles of `imtriage batch`: a file argument (an archive) is one bundle; a folder
/// argument holds one bundle per immediate subfolder and per archive file (`.zip`, `.tar`,
/// `.tar.gz`, `.tgz`, `.gz`) directly in it, other files there are listed in the second result.
/// Each bundle is named by its path as given; the list is sorted by name.
pub fn batch_bundles(args: &[PathBuf]) -> (Vec<(String, PathBuf)>, Vec<PathBuf>) {
    let is_archive = |p: &std::path::Path| {
        let n = p
            .file_name()
            .map(|n| n.to_string_lossy().to_ascii_lowercase())
            .unwrap_or_default();
        [".zip", ".tar", ".tar.gz", ".tgz", ".gz"]
            .iter()
            .any(|x| n.ends_with(x))
    };
    let (mut bundles, mut ignored) = (Vec::new(), Vec::new());
    for arg in args {
        if !arg.is_dir() {
            bundles.push((arg.display().to_string(), arg.clone()));
            continue;
        }
        let mut entries: Vec<PathBuf> = std::fs::read_dir(arg)
            .map(|rd| rd.filter_map(Result::ok).map(|e| e.path()).collect())
            .unwrap_or_default();
        entries.sort();
        for p in entries {
            if p.is_dir() || is_archive(&p) {
                bundles.push((p.display().to_string(), p));
            } else {
                ignored.push(p);
            }
        }
    }
    bundles.sort();
    bundles.dedup();
    (bundles, ignored)
}

/// `imtriage batch`: analyses each bundle on its own, bundles in parallel and files in parallel
/// within them, on one pool of `cfg.parse.threads`; `done` is called with each bundle's name as
/// it finishes. The fleet is sorted by bundle name, so output does not depend on timing.
pub fn batch(
    bundles: &[(String, PathBuf)],
    cfg: &AnalyzeConfig,
    catalog: &Catalog,
    done: &(dyn Fn(&str) + Sync),
) -> report::fleet::Fleet {
    use rayon::prelude::*;
    let work = || {
        bundles
            .par_iter()
            .map(|(name, path)| {
                // On this pool: `load_with_progress` uses the current pool when called from it.
                let r = run(
                    std::slice::from_ref(path),
                    cfg,
                    catalog,
                    false,
                    &|_: &pipeline::FileInfo| {},
                );
                done(name);
                (name.clone(), r)
            })
            .collect::<Vec<_>>()
    };
    let reports = match rayon::ThreadPoolBuilder::new()
        .num_threads(cfg.parse.threads)
        .build()
    {
        Ok(pool) => pool.install(work),
        Err(_) => work(),
    };
    report::fleet::Fleet::new(reports)
}

fn run(
    paths: &[PathBuf],
    cfg: &AnalyzeConfig,
    catalog: &Catalog,
    keep_all: bool,
    progress: pipeline::Progress<'_>,
) -> Report {
    let pre = Prefilter::new(catalog);
    let keep = |e: &Event| keep_all || pre.keep(e);
    let mut parse = cfg.parse.clone();
    if !keep_all && cfg.skim {
        parse.skim = Some(std::sync::Arc::new(pre.skim()));
    }
    let bundle = pipeline::load_with_progress(paths, &parse, &keep, progress);
    let (correlated, mut diagnostics) = correlate::correlate(bundle, &cfg.correlate);
    diagnostics.extend(correlate::coverage_gaps(&correlated));
    let analysis = classify::classify(&correlated, catalog);
    let mut summary = Summary::from_files(&correlated.files, &diagnostics);
    summary.findings = analysis.findings.len() as u64;
    summary.hosts = analysis.hosts.iter().map(|h| h.name.clone()).collect();
    summary.collection_time = correlated.collection_time;
    let timeline = if keep_all {
        report::timeline::rows(&correlated)
    } else {
        Vec::new()
    };
    Report {
        analysis,
        diagnostics,
        summary,
        timeline,
    }
}

/// Reads a bundle and returns every normalised event with hosts resolved, in time order (events
/// without a time last, then file order), plus the diagnostics and per-file counts.
pub fn events(
    paths: &[PathBuf],
    cfg: &AnalyzeConfig,
) -> (Correlated, Vec<model::Diagnostic>, Vec<usize>) {
    let bundle = pipeline::load(paths, &cfg.parse, &|_: &Event| true);
    let (c, diags) = correlate::correlate(bundle, &cfg.correlate);
    let mut order: Vec<usize> = (0..c.events.len()).collect();
    order.sort_by(|a, b| {
        let (ta, tb) = (c.events[*a].time, c.events[*b].time);
        (ta.is_none(), ta, *a).cmp(&(tb.is_none(), tb, *b))
    });
    (c, diags, order)
}
