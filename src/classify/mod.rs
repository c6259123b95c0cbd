//! Stage 5: match the cause catalog against the correlated bundle and produce findings.
//!
//! Why this module exists: it is where causes.md's reading rules live once for every cause:
//! strong signals make a finding, supporting ones only add evidence, a later recovery on the same
//! host clears clearable failures, one root cause per host (a cause `yields_to` its deeper one and
//! hands over its evidence), and every finding carries its evidence lines and a fix with values from
//! the bundle filled in. The signals themselves come from the catalog (data), the cross-record facts
//! from `rules.rs`.

pub mod catalog;
pub mod cisco;
pub mod client;
pub mod evidence;
pub mod facts;
pub mod fix;
pub mod lync;
pub mod matchers;
pub mod rules;

use crate::correlate::Correlated;
use crate::model::{Body, Event, Format};
use catalog::{Catalog, Cause, Role, Severity};
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// How sure a finding is (causes.md "What every finding carries").
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Confidence {
    Confirmed,
    Likely,
    Possible,
}

impl Confidence {
    pub fn as_str(self) -> &'static str {
        match self {
            Confidence::Confirmed => "confirmed",
            Confidence::Likely => "likely",
            Confidence::Possible => "possible",
        }
    }
}

/// One line of proof for a finding.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Evidence {
    pub path: Arc<str>,
    pub line: u64,
    pub record: u64,
    pub offset: u64,
    pub format: Option<Format>,
    pub time: Option<DateTime<Utc>>,
    pub excerpt: String,
    /// The signal (or the yielding cause) this line proves.
    pub signal: String,
    pub role: Role,
}

/// A classified failure on one host.
#[derive(Clone, Debug, Serialize)]
pub struct Finding {
    pub id: String,
    pub title: String,
    pub severity: Severity,
    pub confidence: Confidence,
    /// Display name of the host that carries the finding.
    pub host: String,
    pub related_hosts: Vec<String>,
    pub first_seen: Option<DateTime<Utc>>,
    pub last_seen: Option<DateTime<Utc>>,
    pub evidence: Vec<Evidence>,
    /// What was compared or missing, in sentences.
    pub notes: Vec<String>,
    pub fix: Vec<String>,
    pub source: Vec<String>,
    /// Causes merged into this one (one root cause per host).
    pub absorbed: Vec<String>,
    /// The finding's timed evidence grouped by the correlation window (`--window`).
    pub incidents: Vec<crate::correlate::Incident>,
}

/// The classification of a bundle.
#[derive(Clone, Debug, Default)]
pub struct Analysis {
    /// Sorted by host, then severity, then id.
    pub findings: Vec<Finding>,
    /// Evidence kinds absent from the bundle, with the causes that read them.
    pub absent: Vec<(String, Vec<String>)>,
    /// Sections of causes.md for which the bundle holds none of the evidence kinds their causes
    /// read: (section letter, number of causes). The summary names them instead of listing every
    /// missing capture.
    pub sections_not_checked: Vec<(String, usize)>,
    /// The causes.md section of every cause of the catalog, by id.
    pub section_of: BTreeMap<String, String>,
    pub hosts: Vec<crate::correlate::hosts::HostInfo>,
}

/// The raw strings of a record that [`record_text`] joins (white space not yet collapsed).
pub fn record_parts(e: &Event) -> Vec<&str> {
    let mut parts: Vec<&str> = Vec::new();
    match &e.body {
        Body::WinEvent(w) => {
            parts.extend(w.data.iter().map(String::as_str));
            parts.extend(w.named.iter().map(|(_, v)| v.as_str()));
            parts.extend(w.description.as_deref());
        }
        Body::LogRow { fields, .. } => {
            parts.extend(fields.0.iter().filter_map(|(_, v)| v.as_text()))
        }
        Body::Object { props, .. } => {
            for (_, v) in &props.0 {
                parts.extend(v.items());
            }
        }
        Body::Sip(s) => {
            parts.push(&s.text);
            parts.extend(s.start_line.as_deref());
            parts.extend(s.fields.0.iter().filter_map(|(_, v)| v.as_text()));
            parts.extend(s.headers.0.iter().filter_map(|(_, v)| v.as_text()));
            parts.extend(s.codes.iter().map(String::as_str));
        }
        Body::Dns(d) => {
            parts.push(&d.query);
            parts.extend(d.answers.iter().map(String::as_str));
            parts.extend(d.error.as_deref());
        }
        Body::AppSettings { .. } | Body::RegistryKey { .. } => {}
    }
    parts
}

/// The text of a record that text signals search: event data and description, log fields,
/// property values; runs of white space collapsed.
pub fn record_text(e: &Event) -> String {
    let parts = record_parts(e);
    let mut out = String::with_capacity(parts.iter().map(|p| p.len() + 1).sum());
    for p in parts {
        // ASCII fast path: the same words as `split_whitespace` (which also splits at U+000B).
        let words: Box<dyn Iterator<Item = &str>> = if p.is_ascii() {
            Box::new(
                p.split(|c: char| c.is_ascii_whitespace() || c == '\u{b}')
                    .filter(|w| !w.is_empty()),
            )
        } else {
            Box::new(p.split_whitespace())
        };
        for w in words {
            if !out.is_empty() {
                out.push(' ');
            }
            out.push_str(w);
        }
    }
    out
}

/// A signal hit on one host.
#[derive(Clone, Debug)]
struct Hit {
    signal: usize,
    events: Vec<usize>,
    files: Vec<(String, String)>,
    confidence: Confidence,
    note: Option<String>,
    related: Vec<String>,
    values: Vec<(String, String)>,
}

/// Runs the whole catalog over a correlated bundle.
pub fn classify(c: &Correlated, catalog: &Catalog) -> Analysis {
    let facts = facts::build(c);
    let compiled = matchers::compile(catalog);
    // Each kept event's searchable text, built once rather than per signal and cause.
    let texts: Vec<String> = c.events.iter().map(record_text).collect();
    let mut candidates: Vec<(String, Finding)> = Vec::new();
    for (cause, signals) in catalog.causes.values().zip(compiled.iter()) {
        let mut per_host: BTreeMap<String, Vec<Hit>> = BTreeMap::new();
        for (si, spec) in cause.signals.iter().enumerate() {
            if let Some(name) = &spec.fact {
                for fh in rules::eval(name, &facts, c) {
                    per_host.entry(fh.host).or_default().push(Hit {
                        signal: si,
                        events: fh.events,
                        files: fh.files,
                        confidence: fh.confidence,
                        note: fh.note,
                        related: fh.related,
                        values: fh.values,
                    });
                }
                continue;
            }
            for (i, e) in c.events.iter().enumerate() {
                if signals.matches(si, e, &texts[i]) {
                    let host = c.host(i).unwrap_or("").to_string();
                    per_host.entry(host).or_default().push(Hit {
                        signal: si,
                        events: vec![i],
                        files: Vec::new(),
                        confidence: Confidence::Confirmed,
                        note: None,
                        related: Vec::new(),
                        values: Vec::new(),
                    });
                }
            }
        }
        for (host, hits) in per_host {
            if let Some(f) = evaluate(cause, &host, hits, c, &facts) {
                candidates.push((host, f));
            }
        }
    }
    let findings = resolve_precedence(candidates, catalog, c.window);
    let present = evidence::present(c);
    let mut absent: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for cause in catalog.causes.values() {
        for n in &cause.needs {
            if !present.contains(n.as_str()) {
                absent.entry(n.clone()).or_default().push(cause.id.clone());
            }
        }
    }
    let mut by_section: BTreeMap<&str, (usize, bool)> = BTreeMap::new();
    for cause in catalog.causes.values() {
        let e = by_section.entry(cause.section.as_str()).or_default();
        e.0 += 1;
        e.1 |= cause.needs.iter().any(|n| present.contains(n.as_str()));
    }
    let sections_not_checked = by_section
        .into_iter()
        .filter(|(_, (_, any))| !any)
        .map(|(s, (n, _))| (s.to_string(), n))
        .collect();
    Analysis {
        findings,
        absent: absent.into_iter().collect(),
        sections_not_checked,
        section_of: catalog
            .causes
            .values()
            .map(|c| (c.id.clone(), c.section.clone()))
            .collect(),
        hosts: c.hosts.keys().iter().map(|k| c.hosts.info(k)).collect(),
    }
}

/// Applies the reading rules of causes.md to one cause's hits on one host.
fn evaluate(
    cause: &Cause,
    host: &str,
    hits: Vec<Hit>,
    c: &Correlated,
    facts: &facts::Facts,
) -> Option<Finding> {
    let time_of = |h: &Hit| h.events.iter().filter_map(|i| c.events[*i].time).max();
    let role = |h: &Hit| cause.signals[h.signal].role;
    let last_recovery = hits
        .iter()
        .filter(|h| role(h) == Role::Contradicting)
        .filter_map(time_of)
        .max();
    let last_clearable = hits
        .iter()
        .filter(|h| role(h) == Role::Strong && cause.signals[h.signal].clearable)
        .filter_map(time_of)
        .max();
    let recovered = matches!((last_recovery, last_clearable), (Some(r), Some(f)) if r > f);
    let strong: Vec<&Hit> = hits
        .iter()
        .filter(|h| role(h) == Role::Strong)
        .filter(|h| !(recovered && cause.signals[h.signal].clearable && time_of(h).is_some()))
        .collect();
    if strong.is_empty() {
        return None;
    }
    let confidence = strong
        .iter()
        .map(|h| h.confidence)
        .min()
        .unwrap_or(Confidence::Possible);
    let severity = if strong
        .iter()
        .all(|h| cause.signals[h.signal].severity.is_some())
    {
        strong
            .iter()
            .filter_map(|h| cause.signals[h.signal].severity)
            .min()
            .unwrap_or(cause.severity)
    } else {
        cause.severity
    };
    let mut evidence = Vec::new();
    let mut notes = BTreeSet::new();
    let mut related = BTreeSet::new();
    for h in hits.iter().filter(|h| role(h) != Role::Contradicting) {
        let spec = &cause.signals[h.signal];
        for i in &h.events {
            evidence.push(evidence_of(&c.events[*i], &spec.name, spec.role));
        }
        for (path, what) in &h.files {
            evidence.push(Evidence {
                path: Arc::from(path.as_str()),
                line: 0,
                record: 0,
                offset: 0,
                format: None,
                time: None,
                excerpt: what.clone(),
                signal: spec.name.clone(),
                role: spec.role,
            });
        }
        notes.extend(h.note.clone());
        related.extend(h.related.iter().cloned());
    }
    let mut values = fix::values(host, c, facts);
    // The IM pool is a related host of the Exchange servers that use it, not of clients or pools.
    if lync::exchange_hosts(facts).contains(host) {
        if let Some(pool) = values.get("pool") {
            related.insert(pool.clone());
        }
    }
    for h in &hits {
        values.extend(h.values.iter().cloned());
    }
    let display = if host.is_empty() {
        "unknown".to_string()
    } else {
        c.hosts.display(host)
    };
    // One entry per related host: `POOL01` and `pool01.contoso.com` are the same one.
    let mut seen_keys = BTreeSet::new();
    let related_hosts = related
        .into_iter()
        .filter(|r| {
            let k = crate::correlate::hosts::host_key(r);
            k.as_deref() != Some(host) && seen_keys.insert(k.unwrap_or_else(|| r.clone()))
        })
        .collect();
    let mut f = Finding {
        id: cause.id.clone(),
        title: cause.title.clone(),
        severity,
        confidence,
        host: display,
        related_hosts,
        first_seen: None,
        last_seen: None,
        evidence,
        notes: notes.into_iter().collect(),
        fix: fix::render(cause, facts.version(host), &values),
        source: cause.sources.clone(),
        absorbed: Vec::new(),
        incidents: Vec::new(),
    };
    finish(&mut f, c.window);
    Some(f)
}

fn evidence_of(e: &Event, signal: &str, role: Role) -> Evidence {
    Evidence {
        path: e.loc.path.clone(),
        line: e.loc.line,
        record: e.loc.record,
        offset: e.loc.offset,
        format: Some(e.format),
        time: e.time,
        excerpt: e.excerpt.clone(),
        signal: signal.to_string(),
        role,
    }
}

/// Sorts and de-duplicates evidence (strong first, then by time and place) and sets the time span.
fn finish(f: &mut Finding, window: chrono::Duration) {
    f.evidence.sort_by(|a, b| {
        (
            a.role,
            a.time.is_none(),
            a.time,
            &a.path,
            a.line,
            a.record,
            &a.signal,
        )
            .cmp(&(
                b.role,
                b.time.is_none(),
                b.time,
                &b.path,
                b.line,
                b.record,
                &b.signal,
            ))
    });
    let mut seen = BTreeSet::new();
    f.evidence
        .retain(|e| seen.insert((e.path.clone(), e.line, e.record, e.excerpt.clone())));
    f.first_seen = f.evidence.iter().filter_map(|e| e.time).min();
    f.last_seen = f.evidence.iter().filter_map(|e| e.time).max();
    let times: Vec<DateTime<Utc>> = f.evidence.iter().filter_map(|e| e.time).collect();
    f.incidents = crate::correlate::incidents(&times, window);
}

/// One root cause per host: a finding whose cause yields to another finding's cause on the same
/// host is merged into it.
fn resolve_precedence(
    candidates: Vec<(String, Finding)>,
    catalog: &Catalog,
    window: chrono::Duration,
) -> Vec<Finding> {
    let mut by_host: BTreeMap<String, Vec<Finding>> = BTreeMap::new();
    for (h, f) in candidates {
        by_host.entry(h).or_default().push(f);
    }
    let mut out = Vec::new();
    for (_, mut fs) in by_host {
        loop {
            let ids: Vec<String> = fs.iter().map(|f| f.id.clone()).collect();
            let yielding = fs.iter().position(|f| {
                let y = catalog
                    .get(&f.id)
                    .map(|c| c.yields_to.clone())
                    .unwrap_or_default();
                ids.iter().any(|other| {
                    *other != f.id
                        && (y.contains(other)
                            || (y.iter().any(|s| s == "*") && !yields_all(catalog, other)))
                })
            });
            let Some(pos) = yielding else { break };
            let weak = fs.remove(pos);
            let y = catalog
                .get(&weak.id)
                .map(|c| c.yields_to.clone())
                .unwrap_or_default();
            let star = y.iter().any(|s| s == "*");
            let idx = fs.iter().position(|f| y.contains(&f.id)).or_else(|| {
                if star {
                    fs.iter().position(|f| !yields_all(catalog, &f.id))
                } else {
                    None
                }
            });
            if let Some(i) = idx {
                let strong = &mut fs[i];
                for mut e in weak.evidence {
                    e.role = Role::Supporting;
                    e.signal = format!("{}:{}", weak.id, e.signal);
                    strong.evidence.push(e);
                }
                strong.notes.extend(weak.notes);
                strong.absorbed.push(weak.id);
                finish(strong, window);
            }
        }
        out.extend(fs);
    }
    out.sort_by(|a, b| (&a.host, a.severity, &a.id).cmp(&(&b.host, b.severity, &b.id)));
    out
}

fn yields_all(catalog: &Catalog, id: &str) -> bool {
    catalog
        .get(id)
        .is_some_and(|c| c.yields_to.iter().any(|s| s == "*"))
}
