//! Stage 6: everything the engineer or a SIEM reads, behind one interface.
//!
//! Why this module exists: the same analysis goes out as human text, JSON lines, four SIEM
//! schemas (ECS, OCSF, Splunk HEC, CEF), timelines and one HTML file. [`Report`] is the complete, already sorted result of a run; each output
//! format is one [`Reporter`] in its own file that only formats it. Nothing in the library prints
//! to stdout directly: reporters write to the `Write` they are given.

pub mod cef;
pub mod ecs;
pub mod fleet;
pub mod hec;
pub mod html;
pub mod human;
pub mod jsonl;
pub mod ocsf;
pub mod siem;
pub mod timeline;

use crate::classify::Analysis;
use crate::model::{DiagLevel, Diagnostic, Format};
use crate::pipeline::FileInfo;
use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;
use std::collections::BTreeMap;
use std::io::{self, Write};

/// Per-format counts for the summary.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct FormatCount {
    pub files: u64,
    pub records: u64,
    pub rejected: u64,
    /// Counted by the prefilter, not parsed (no catalog literal).
    pub skipped: u64,
}

/// Counts of a run.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct Summary {
    pub files: u64,
    /// Files whose format was not recognised (each has a diagnostic).
    pub files_skipped: u64,
    pub records: u64,
    pub records_rejected: u64,
    /// Records the prefilter counted without parsing them (no catalog literal).
    pub records_skipped: u64,
    /// Records outside `--since`/`--until`.
    pub records_filtered: u64,
    pub formats: BTreeMap<String, FormatCount>,
    pub hosts: Vec<String>,
    pub findings: u64,
    pub diagnostics: u64,
    pub collection_time: Option<DateTime<Utc>>,
}

impl Summary {
    /// Counts files and records from the pipeline's file list.
    pub fn from_files(files: &[FileInfo], diagnostics: &[Diagnostic]) -> Summary {
        let mut s = Summary {
            diagnostics: diagnostics.len() as u64,
            ..Summary::default()
        };
        for f in files {
            s.files += 1;
            s.records += f.parsed;
            s.records_rejected += f.rejected;
            s.records_skipped += f.skipped;
            s.records_filtered += f.filtered;
            match f.format {
                Some(fmt) => {
                    let c = s.formats.entry(fmt.as_str().to_string()).or_default();
                    c.files += 1;
                    c.records += f.parsed;
                    c.rejected += f.rejected;
                    c.skipped += f.skipped;
                }
                None => s.files_skipped += 1,
            }
        }
        s
    }
}

/// The complete result of `imtriage analyze`.
#[derive(Clone, Debug)]
pub struct Report {
    pub analysis: Analysis,
    pub diagnostics: Vec<Diagnostic>,
    pub summary: Summary,
    /// Every normalised event of the bundle as timeline rows, sorted by time then source. Filled
    /// only by [`crate::timeline`] (the timeline and HTML outputs); empty from [`crate::analyze`],
    /// which keeps only the events the catalog can use.
    pub timeline: Vec<timeline::Row>,
}

impl Report {
    /// Count of diagnostics per level.
    pub fn diag_count(&self, level: DiagLevel) -> usize {
        self.diagnostics.iter().filter(|d| d.level == level).count()
    }
}

/// One output format.
pub trait Reporter {
    fn write(&mut self, report: &Report, out: &mut dyn Write) -> io::Result<()>;
}

/// The output formats of `analyze`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutputFormat {
    Human,
    Jsonl,
    /// Elastic Common Schema 9.4 documents, one per line.
    Ecs,
    /// OCSF 1.5.0 Detection Findings, one per line.
    Ocsf,
    /// Splunk HTTP Event Collector envelopes, one per line.
    Hec,
    /// ArcSight CEF lines.
    Cef,
    /// Every event plus the findings, as CSV.
    TimelineCsv,
    /// Every event plus the findings, as JSON lines.
    TimelineJsonl,
    /// One self-contained HTML file.
    Html,
}

impl OutputFormat {
    /// Whether the format shows every event of the bundle (run [`crate::timeline`], not
    /// [`crate::analyze`]).
    pub fn needs_events(self) -> bool {
        matches!(
            self,
            OutputFormat::TimelineCsv | OutputFormat::TimelineJsonl | OutputFormat::Html
        )
    }
}

/// How to write a report, besides its format.
#[derive(Clone, Copy, Debug, Default)]
pub struct Options {
    /// Colour in the human report.
    pub color: bool,
    /// The wall-clock time of the run, written only when the user asked for it (`--stamp`);
    /// without it, machine output is byte-identical across runs.
    pub stamp: Option<DateTime<Utc>>,
}

/// A reporter for a format.
pub fn reporter(format: OutputFormat, color: bool) -> Box<dyn Reporter> {
    reporter_with(
        format,
        &Options {
            color,
            ..Options::default()
        },
    )
}

/// A reporter for a format, with options.
pub fn reporter_with(format: OutputFormat, o: &Options) -> Box<dyn Reporter> {
    match format {
        OutputFormat::Human => Box::new(human::Human { color: o.color }),
        OutputFormat::Jsonl => Box::new(jsonl::JsonLines),
        OutputFormat::Ecs => Box::new(ecs::Ecs { stamp: o.stamp }),
        OutputFormat::Ocsf => Box::new(ocsf::Ocsf { stamp: o.stamp }),
        OutputFormat::Hec => Box::new(hec::Hec { stamp: o.stamp }),
        OutputFormat::Cef => Box::new(cef::Cef { stamp: o.stamp }),
        OutputFormat::TimelineCsv => Box::new(timeline::Csv),
        OutputFormat::TimelineJsonl => Box::new(timeline::JsonLines),
        OutputFormat::Html => Box::new(html::Html { stamp: o.stamp }),
    }
}

/// UTC RFC 3339 with the precision the value has (machine output convention).
pub fn rfc3339(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

/// The format name of a diagnostic or evidence line.
pub fn format_name(f: Option<Format>) -> Option<&'static str> {
    f.map(Format::as_str)
}
