//! The human report: per host, each finding with its evidence and fix, then the input problems
//! and a summary.
//!
//! Why this module exists: the default output, written for a support engineer on a call. It shows
//! evidence as `path:line` so that an editor can jump to it, and fixes as commands to paste.
//! Colour is optional and only decorates; the text is the same without it.

use super::{rfc3339, Report, Reporter};
use crate::classify::{catalog::Severity, evidence, Finding};
use crate::model::DiagLevel;
use std::io::{self, Write};

/// How many diagnostics the human report lists before pointing to `--output jsonl`.
const DIAG_SHOWN: usize = 20;

pub struct Human {
    pub color: bool,
}

impl Human {
    /// The causes.md section of a cause id, from the report's own summary data.
    fn section_of<'a>(&self, r: &'a Report, id: &str) -> &'a str {
        r.analysis
            .section_of
            .get(id)
            .map(String::as_str)
            .unwrap_or("")
    }

    fn paint(&self, code: &str, s: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    }

    fn severity(&self, s: Severity) -> String {
        let code = match s {
            Severity::Critical | Severity::Error => "1;31",
            Severity::Warning => "1;33",
            Severity::Info => "1;36",
        };
        self.paint(code, &s.as_str().to_ascii_uppercase())
    }

    fn finding(&self, f: &Finding, out: &mut dyn Write) -> io::Result<()> {
        writeln!(
            out,
            "  [{}] {} — {} (confidence: {})",
            self.severity(f.severity),
            self.paint("1", &f.id),
            f.title,
            f.confidence.as_str()
        )?;
        if !f.related_hosts.is_empty() {
            writeln!(out, "    related hosts: {}", f.related_hosts.join(", "))?;
        }
        if !f.incidents.is_empty() {
            let runs: Vec<String> = f
                .incidents
                .iter()
                .map(|i| {
                    if i.start == i.end {
                        format!(
                            "{} ({} event{})",
                            rfc3339(&i.start),
                            i.events,
                            if i.events == 1 { "" } else { "s" }
                        )
                    } else {
                        format!(
                            "{} .. {} ({} events)",
                            rfc3339(&i.start),
                            rfc3339(&i.end),
                            i.events
                        )
                    }
                })
                .collect();
            writeln!(out, "    timeline: {}", runs.join("; "))?;
        }
        for n in &f.notes {
            writeln!(out, "    note: {n}")?;
        }
        writeln!(out, "    evidence:")?;
        for e in &f.evidence {
            let place = match (e.line, e.record) {
                (0, 0) => e.path.to_string(),
                (0, r) => format!("{} (record {r})", e.path),
                (l, _) => format!("{}:{l}", e.path),
            };
            let time = e.time.as_ref().map(rfc3339).unwrap_or_else(|| "-".into());
            writeln!(out, "      {place}  {time}  [{}]", e.signal)?;
            writeln!(out, "        {}", e.excerpt)?;
        }
        if !f.absorbed.is_empty() {
            writeln!(out, "    also explains: {}", f.absorbed.join(", "))?;
        }
        writeln!(out, "    fix:")?;
        for (i, step) in f.fix.iter().enumerate() {
            writeln!(out, "      {}. {step}", i + 1)?;
        }
        writeln!(out, "    source: {}", f.source.join("; "))?;
        writeln!(out)
    }
}

impl Reporter for Human {
    fn write(&mut self, r: &Report, out: &mut dyn Write) -> io::Result<()> {
        let findings = &r.analysis.findings;
        if findings.is_empty() {
            writeln!(out, "No documented cause found.")?;
            writeln!(out)?;
        }
        let mut current: Option<&str> = None;
        for f in findings {
            if current != Some(f.host.as_str()) {
                current = Some(f.host.as_str());
                let aliases = r
                    .analysis
                    .hosts
                    .iter()
                    .find(|h| h.name == f.host)
                    .map(|h| h.aliases.clone())
                    .unwrap_or_default();
                if aliases.is_empty() {
                    writeln!(out, "{}", self.paint("1;4", &format!("Host {}", f.host)))?;
                } else {
                    writeln!(
                        out,
                        "{} ({})",
                        self.paint("1;4", &format!("Host {}", f.host)),
                        aliases.join(", ")
                    )?;
                }
            }
            self.finding(f, out)?;
        }
        let problems: Vec<_> = r
            .diagnostics
            .iter()
            .filter(|d| d.level != DiagLevel::Info)
            .collect();
        if !problems.is_empty() {
            writeln!(
                out,
                "{}",
                self.paint("1", &format!("Input problems ({})", problems.len()))
            )?;
            for d in problems.iter().take(DIAG_SHOWN) {
                let place = match (d.line, d.record) {
                    (0, 0) => d.path.to_string(),
                    (0, rec) => format!("{} (record {rec})", d.path),
                    (l, _) => format!("{}:{l}", d.path),
                };
                let level = match d.level {
                    DiagLevel::Error => "error",
                    DiagLevel::Warning => "warning",
                    DiagLevel::Info => "info",
                };
                writeln!(out, "  {level}: {place}: {}", d.message)?;
            }
            if problems.len() > DIAG_SHOWN {
                writeln!(
                    out,
                    "  … {} more (all are in --output jsonl)",
                    problems.len() - DIAG_SHOWN
                )?;
            }
            writeln!(out)?;
        }
        let s = &r.summary;
        writeln!(out, "{}", self.paint("1", "Summary"))?;
        writeln!(
            out,
            "  files: {} read, {} not recognised; records: {} parsed, {} rejected{}{}",
            s.files,
            s.files_skipped,
            s.records,
            s.records_rejected,
            if s.records_skipped > 0 {
                format!(
                    ", {} without a catalog literal not parsed (--full-parse parses them)",
                    s.records_skipped
                )
            } else {
                String::new()
            },
            if s.records_filtered > 0 {
                format!(", {} outside --since/--until", s.records_filtered)
            } else {
                String::new()
            }
        )?;
        for (fmt, c) in &s.formats {
            let skipped = if c.skipped > 0 {
                format!(", {} not parsed", c.skipped)
            } else {
                String::new()
            };
            writeln!(
                out,
                "    {fmt}: {} files, {} records, {} rejected{skipped}",
                c.files, c.records, c.rejected
            )?;
        }
        let hosts: Vec<&str> = r.analysis.hosts.iter().map(|h| h.name.as_str()).collect();
        writeln!(
            out,
            "  hosts: {}",
            if hosts.is_empty() {
                "none identified".to_string()
            } else {
                hosts.join(", ")
            }
        )?;
        if let Some(t) = s.collection_time {
            writeln!(
                out,
                "  collection time (newest record or archive member): {}",
                rfc3339(&t)
            )?;
        }
        writeln!(out, "  findings: {}", s.findings)?;
        for (section, n) in &r.analysis.sections_not_checked {
            writeln!(
                out,
                "  no {} evidence in the bundle: section {section} ({n} causes) not checked",
                evidence::section_label(section)
            )?;
        }
        // Missing captures of the sections the bundle does cover.
        let skipped: std::collections::BTreeSet<&str> = r
            .analysis
            .sections_not_checked
            .iter()
            .map(|(s, _)| s.as_str())
            .collect();
        let partial: Vec<(&String, Vec<&String>)> = r
            .analysis
            .absent
            .iter()
            .map(|(kind, causes)| {
                let kept = causes
                    .iter()
                    .filter(|c| !skipped.contains(self.section_of(r, c)))
                    .collect::<Vec<_>>();
                (kind, kept)
            })
            .filter(|(_, causes)| !causes.is_empty())
            .collect();
        if !partial.is_empty() {
            writeln!(
                out,
                "  not in the bundle (these causes could not be fully checked):"
            )?;
            for (kind, causes) in partial {
                let names: Vec<&str> = causes.iter().map(|c| c.as_str()).collect();
                writeln!(out, "    - {}: {}", evidence::label(kind), names.join(", "))?;
            }
        }
        Ok(())
    }
}
