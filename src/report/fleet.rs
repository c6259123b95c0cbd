//! The fleet view of `imtriage batch`: many bundles analysed one by one, then summed up.
//!
//! Why this module exists: after an outage the question is "which causes, on how many servers".
//! [`Fleet`] holds each bundle's [`Report`] in a stable order (by bundle name) and derives the
//! fleet summary: every cause with the number of findings and the `bundle/host` pairs behind it.
//! JSON lines carry `"bundle"` as the first key of every line of each bundle's `jsonl` output, so
//! one file can be filtered per bundle; the human form prints one line per bundle, then the
//! summary. Both are byte-identical across runs and thread counts.

use super::{jsonl::JsonLines, Report, Reporter};
use serde::Serialize;
use std::collections::BTreeMap;
use std::io::{self, Write};

/// The reports of a batch, sorted by bundle name.
pub struct Fleet {
    pub bundles: Vec<(String, Report)>,
}

/// One cause across the fleet.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct FleetCause {
    pub id: String,
    pub title: String,
    pub severity: String,
    /// Findings of this cause (one per host per bundle).
    pub count: u64,
    /// `bundle/host` of each finding, sorted.
    pub hosts: Vec<String>,
}

impl Fleet {
    /// Sorts the bundles by name (the order the user sees, whatever finished first).
    pub fn new(mut bundles: Vec<(String, Report)>) -> Fleet {
        bundles.sort_by(|a, b| a.0.cmp(&b.0));
        Fleet { bundles }
    }

    /// Causes by finding count (most first, then id), each with its hosts.
    pub fn causes(&self) -> Vec<FleetCause> {
        let mut by_id: BTreeMap<&str, FleetCause> = BTreeMap::new();
        for (bundle, report) in &self.bundles {
            for f in &report.analysis.findings {
                let c = by_id.entry(&f.id).or_insert_with(|| FleetCause {
                    id: f.id.clone(),
                    title: f.title.clone(),
                    severity: f.severity.as_str().to_string(),
                    count: 0,
                    hosts: Vec::new(),
                });
                c.count += 1;
                c.hosts.push(format!("{bundle}/{}", f.host));
            }
        }
        let mut v: Vec<FleetCause> = by_id.into_values().collect();
        for c in &mut v {
            c.hosts.sort();
        }
        v.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.id.cmp(&b.id)));
        v
    }

    /// Whether any bundle has a finding.
    pub fn has_findings(&self) -> bool {
        self.bundles
            .iter()
            .any(|(_, r)| !r.analysis.findings.is_empty())
    }

    /// Every bundle's JSON lines with `"bundle"` added first, then one `fleet_summary` line.
    pub fn write_jsonl(&self, out: &mut dyn Write) -> io::Result<()> {
        for (name, report) in &self.bundles {
            let mut buf = Vec::new();
            JsonLines.write(report, &mut buf)?;
            let key = serde_json::to_string(&serde_json::json!({ "bundle": name }))?;
            let prefix = key.strip_suffix('}').unwrap_or(&key);
            for line in buf.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
                match line.strip_prefix(b"{") {
                    Some(b"}") => out.write_all(key.as_bytes())?,
                    Some(rest) => {
                        out.write_all(prefix.as_bytes())?;
                        out.write_all(b",")?;
                        out.write_all(rest)?;
                    }
                    None => out.write_all(line)?,
                }
                out.write_all(b"\n")?;
            }
        }
        let summary = serde_json::json!({
            "type": "fleet_summary",
            "bundles": self.bundles.len(),
            "bundles_with_findings": self.bundles.iter().filter(|(_, r)| !r.analysis.findings.is_empty()).count(),
            "causes": self.causes(),
        });
        serde_json::to_writer(&mut *out, &summary)?;
        out.write_all(b"\n")
    }

    /// One line per bundle, then the causes by count with the hosts behind each.
    pub fn write_human(&self, out: &mut dyn Write) -> io::Result<()> {
        for (name, report) in &self.bundles {
            let s = &report.summary;
            let ids: Vec<String> = report
                .analysis
                .findings
                .iter()
                .map(|f| format!("{} on {}", f.id, f.host))
                .collect();
            writeln!(
                out,
                "{name}: {} files, {} records ({} rejected), {} findings{}{}",
                s.files,
                s.records,
                s.records_rejected,
                ids.len(),
                if ids.is_empty() { "" } else { ": " },
                ids.join(", ")
            )?;
        }
        writeln!(out)?;
        let with = self
            .bundles
            .iter()
            .filter(|(_, r)| !r.analysis.findings.is_empty())
            .count();
        writeln!(
            out,
            "Fleet summary: {} bundles, {with} with findings",
            self.bundles.len()
        )?;
        let causes = self.causes();
        if causes.is_empty() {
            writeln!(out, "  no findings")?;
        }
        for c in causes {
            writeln!(
                out,
                "  {:>4}  {:<36} {:<8} {}",
                c.count, c.id, c.severity, c.title
            )?;
            writeln!(out, "        hosts: {}", c.hosts.join(", "))?;
        }
        Ok(())
    }
}
