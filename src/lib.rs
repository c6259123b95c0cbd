//! imtriage: triage of instant-messaging and presence failures between Microsoft Exchange,
//! Lync / Skype for Business Server and Cisco Unified CM IM and Presence, from log bundles.
//!
//! The library is a pipeline of stages, each in its own module, each importing only earlier
//! stages and the shared [`model`]:
//! [`input`] (find and decode files) → [`formats`] (parse each format into [`model::Event`]s) →
//! [`pipeline`] (parallel, ordered driver) → [`correlate`] (hosts and time) → [`classify`] (the
//! cause catalog) → [`report`] (human text and JSON lines). See ARCHITECTURE.md.
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
}

impl Default for AnalyzeConfig {
    /// Default parsing, and the documented 15-minute correlation window.
    fn default() -> Self {
        AnalyzeConfig {
            parse: ParseConfig::default(),
            correlate: CorrelateConfig {
                window: chrono::Duration::minutes(15),
            },
        }
    }
}

/// Reads a bundle, classifies it against the catalog and returns the full report.
pub fn analyze(paths: &[PathBuf], cfg: &AnalyzeConfig, catalog: &Catalog) -> Report {
    let pre = Prefilter::new(catalog);
    let bundle = pipeline::load(paths, &cfg.parse, &|e: &Event| pre.keep(e));
    let (correlated, diagnostics) = correlate::correlate(bundle, &cfg.correlate);
    let analysis = classify::classify(&correlated, catalog);
    let mut summary = Summary::from_files(&correlated.files, &diagnostics);
    summary.findings = analysis.findings.len() as u64;
    summary.hosts = analysis.hosts.iter().map(|h| h.name.clone()).collect();
    summary.collection_time = correlated.collection_time;
    Report {
        analysis,
        diagnostics,
        summary,
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
