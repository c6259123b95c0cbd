//! Stage 4: attribute every event to a host and order each host's events in time.
//!
//! Why this module exists: rules speak of "the same host" and "within the window"; this stage turns
//! the flat event list of the pipeline into that shape once, so rules never normalise names or sort
//! by time themselves. It also fixes the bundle's collection time ("now" for configuration-only
//! bundles, causes.md conventions): the newest record, capture or archive-member time, never the
//! clock of the machine running the analysis.

pub mod hosts;

use crate::model::Event;
use crate::pipeline::{Bundle, FileInfo};
use chrono::{DateTime, Duration, Utc};
use hosts::HostTable;
use std::collections::BTreeMap;

/// How events are grouped in time.
#[derive(Clone, Debug)]
pub struct CorrelateConfig {
    /// Signals on one host closer than this belong to one incident.
    pub window: Duration,
    /// UTC offsets of hosts whose records carry local time (client logs), by host key:
    /// local = UTC + offset. Applied to records of kind `Local` only.
    pub tz: Vec<(String, Duration)>,
}

/// The bundle, with hosts resolved and per-host timelines.
pub struct Correlated {
    pub files: Vec<FileInfo>,
    pub events: Vec<Event>,
    /// Host key of each event (parallel to `events`).
    pub host_of: Vec<Option<String>>,
    pub hosts: HostTable,
    /// Event indices per host key, sorted by (time, file order); events without a time come last.
    pub by_host: BTreeMap<String, Vec<usize>>,
    /// Newest record or file time of the bundle.
    pub collection_time: Option<DateTime<Utc>>,
    pub window: Duration,
}

impl Correlated {
    /// Host key of an event.
    pub fn host(&self, idx: usize) -> Option<&str> {
        self.host_of.get(idx).and_then(|h| h.as_deref())
    }
}

/// A run of timed events on one host with no gap longer than the correlation window.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Incident {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub events: usize,
}

/// Groups times into incidents: a new incident starts when the gap to the previous time exceeds
/// `window`. The input need not be sorted.
pub fn incidents(times: &[DateTime<Utc>], window: Duration) -> Vec<Incident> {
    let mut sorted = times.to_vec();
    sorted.sort();
    let mut out: Vec<Incident> = Vec::new();
    for t in sorted {
        match out.last_mut() {
            Some(i) if t - i.end <= window => {
                i.end = t;
                i.events += 1;
            }
            _ => out.push(Incident {
                start: t,
                end: t,
                events: 1,
            }),
        }
    }
    out
}

/// "Now" for a bundle (causes.md conventions): the newest time at which something was logged or
/// captured. Record times (events, log lines, traces) and file times count; dates inside
/// configuration values (an override's `WhenChanged`, a certificate's `NotAfter`) do not, so
/// PowerShell object times are only a last resort. File times of archive members travel with the
/// bundle; those of loose files on disk usually do too (a copied or extracted collection), but a
/// repository checkout stamps them with the checkout time, so they are used only when the bundle
/// has no record or archive-member time.
pub fn collection_time(events: &[Event], files: &[FileInfo]) -> Option<DateTime<Utc>> {
    let is_value_time = |e: &&Event| matches!(e.body, crate::model::Body::Object { .. });
    let newest_record = events
        .iter()
        .filter(|e| !is_value_time(e))
        .filter_map(|e| e.time)
        .max();
    let newest_member = files
        .iter()
        .filter(|f| f.path.contains('!'))
        .filter_map(|f| f.mtime)
        .max();
    let newest_disk = files
        .iter()
        .filter(|f| !f.path.contains('!'))
        .filter_map(|f| f.mtime)
        .max();
    let newest_value = events
        .iter()
        .filter(is_value_time)
        .filter_map(|e| e.time)
        .max();
    newest_record
        .max(newest_member)
        .or(newest_disk)
        .or(newest_value)
}

/// Coverage gaps of RTMT collections (formats.md §8.1): every file a `TraceCollectionResult`
/// manifest lists (or marks as failed) that the bundle does not hold becomes a diagnostic, so the
/// engineer knows which traces are lost rather than absent by chance.
pub fn coverage_gaps(c: &Correlated) -> Vec<crate::model::Diagnostic> {
    use crate::model::{Body, DiagLevel, Diagnostic, Value};
    let leaf = |p: &str| {
        p.rsplit(['/', '\\', '!'])
            .next()
            .unwrap_or(p)
            .to_ascii_lowercase()
    };
    let have: std::collections::BTreeSet<String> = c
        .files
        .iter()
        .flat_map(|f| {
            let name = f.file_name.to_ascii_lowercase();
            let plain = name.strip_suffix(".gz").map(str::to_string);
            std::iter::once(name).chain(plain)
        })
        .collect();
    let mut out = Vec::new();
    for e in &c.events {
        let Body::Object {
            command: Some(cmd),
            props,
            ..
        } = &e.body
        else {
            continue;
        };
        if cmd != "TraceCollectionResult" {
            continue;
        }
        let node = props.text("Node").unwrap_or("(node not named)");
        let list = |name: &str| match props.get(name) {
            Some(Value::List { items, .. }) => items.clone(),
            Some(Value::Text(t)) => vec![t.clone()],
            _ => Vec::new(),
        };
        for f in list("Files") {
            let l = leaf(&f);
            if !l.is_empty() && !have.contains(&l) && !have.contains(l.trim_end_matches(".gz")) {
                out.push(
                    Diagnostic::at(DiagLevel::Warning, &e.loc, e.format, format!("coverage gap: the manifest lists {f} for node {node}, but the bundle does not hold it"))
                );
            }
        }
        for f in list("Failed") {
            out.push(Diagnostic::at(
                DiagLevel::Warning,
                &e.loc,
                e.format,
                format!("coverage gap: RTMT could not collect {f} for node {node}"),
            ));
        }
    }
    out
}

/// Converts the local times of hosts with a known offset to UTC (`--tz HOST=OFFSET`).
fn apply_offsets(events: &mut [Event], host_of: &[Option<String>], tz: &[(String, Duration)]) {
    if tz.is_empty() {
        return;
    }
    for (e, h) in events.iter_mut().zip(host_of) {
        let Some(h) = h else { continue };
        if e.ts_kind != crate::model::TsKind::Local {
            continue;
        }
        if let Some((_, off)) = tz.iter().find(|(k, _)| k == h) {
            e.time = e.time.map(|t| t - *off);
            e.ts_kind = crate::model::TsKind::Utc;
        }
    }
}

/// Resolves hosts and builds the per-host timelines.
pub fn correlate(
    bundle: Bundle,
    cfg: &CorrelateConfig,
) -> (Correlated, Vec<crate::model::Diagnostic>) {
    let Bundle {
        files,
        mut events,
        diagnostics,
    } = bundle;
    let (hosts, host_of) = hosts::attribute(&mut events, &files);
    apply_offsets(&mut events, &host_of, &cfg.tz);
    let mut by_host: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (i, h) in host_of.iter().enumerate() {
        if let Some(h) = h {
            by_host.entry(h.clone()).or_default().push(i);
        }
    }
    for idx in by_host.values_mut() {
        idx.sort_by(|a, b| {
            let ta = events[*a].time;
            let tb = events[*b].time;
            (ta.is_none(), ta, *a).cmp(&(tb.is_none(), tb, *b))
        });
    }
    let collection_time = collection_time(&events, &files);
    (
        Correlated {
            files,
            events,
            host_of,
            hosts,
            by_host,
            collection_time,
            window: cfg.window,
        },
        diagnostics,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn incidents_split_on_gaps_longer_than_the_window() {
        let t = |m: i64| {
            DateTime::<Utc>::from_timestamp(1_700_000_000 + m * 60, 0).expect("valid time")
        };
        let got = incidents(&[t(45), t(0), t(10), t(25), t(26)], Duration::minutes(15));
        assert_eq!(
            got,
            vec![
                Incident {
                    start: t(0),
                    end: t(26),
                    events: 4
                },
                Incident {
                    start: t(45),
                    end: t(45),
                    events: 1
                },
            ]
        );
        assert_eq!(incidents(&[t(0), t(10)], Duration::minutes(5)).len(), 2);
        assert!(incidents(&[], Duration::minutes(5)).is_empty());
    }
}
