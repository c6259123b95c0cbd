//! Elastic Common Schema 9.4 documents, one finding per line (`--output ecs`).
//!
//! Why this module exists: Elastic (and every tool that speaks ECS) indexes findings without a
//! custom mapping when they use ECS field names. A finding is an alert raised by a rule outside the
//! Elastic Stack, so `event.kind` is `alert` (formats.md §11). Only these ECS fields are written:
//! `@timestamp`, `ecs.version`, `event.{kind,category,type,outcome,severity,code,start,end,created}`,
//! `rule.{id,name,description,reference,ruleset}`, `host.name`, `related.hosts`, `log.file.path`,
//! `message`; everything else lives under the custom `imtriage.` namespace. `event.created` (the
//! wall clock) is written only with `--stamp`. The test `tests/it/siem.rs` checks every key path
//! against the `@elastic/ecs` 9.4.0 field names.

use super::siem::{self, TimeSource};
use super::{rfc3339, Report, Reporter};
use crate::classify::Finding;
use chrono::{DateTime, Utc};
use serde_json::{json, Map, Value};
use std::io::{self, Write};

/// The ECS version the documents follow.
pub const ECS_VERSION: &str = "9.4.0";

pub struct Ecs {
    pub stamp: Option<DateTime<Utc>>,
}

/// The ECS document of one finding.
pub fn document(f: &Finding, r: &Report, stamp: Option<DateTime<Utc>>) -> Value {
    let (ts, source) = siem::finding_time(f, r, stamp);
    let mut event = Map::new();
    event.insert("kind".into(), json!("alert"));
    event.insert("category".into(), json!(siem::ecs_categories(&f.id)));
    event.insert("type".into(), json!(["info"]));
    event.insert("outcome".into(), json!("failure"));
    event.insert("severity".into(), json!(siem::severity_id(f.severity)));
    event.insert("code".into(), json!(f.id));
    if let Some(t) = &f.first_seen {
        event.insert("start".into(), json!(rfc3339(t)));
    }
    if let Some(t) = &f.last_seen {
        event.insert("end".into(), json!(rfc3339(t)));
    }
    if let Some(t) = &stamp {
        event.insert("created".into(), json!(rfc3339(t)));
    }
    let mut related: Vec<&str> = vec![f.host.as_str()];
    for h in &f.related_hosts {
        if !related.iter().any(|r| r.eq_ignore_ascii_case(h)) {
            related.push(h);
        }
    }
    let evidence: Vec<Value> = f
        .evidence
        .iter()
        .map(|e| Value::Object(super::jsonl::evidence(e, &["offset"])))
        .collect();
    let mut doc = Map::new();
    doc.insert("@timestamp".into(), json!(rfc3339(&ts)));
    doc.insert("ecs".into(), json!({ "version": ECS_VERSION }));
    doc.insert("event".into(), Value::Object(event));
    doc.insert(
        "rule".into(),
        json!({
            "id": f.id,
            "name": f.title,
            "description": f.title,
            "reference": f.source.join("; "),
            "ruleset": "imtriage cause catalog",
        }),
    );
    doc.insert("host".into(), json!({ "name": f.host }));
    doc.insert("related".into(), json!({ "hosts": related }));
    if let Some(e) = f.evidence.first() {
        doc.insert("log".into(), json!({ "file": { "path": &*e.path } }));
    }
    doc.insert("message".into(), json!(siem::message(f)));
    doc.insert(
        "imtriage".into(),
        json!({
            "finding_uid": siem::finding_uid(f),
            "severity": f.severity,
            "confidence": f.confidence,
            "timestamp_source": source.as_str(),
            "evidence": evidence,
            "fix": f.fix,
            "notes": f.notes,
            "sources": f.source,
            "absorbed": f.absorbed,
            "incidents": f.incidents.iter().map(|i| json!({
                "start": rfc3339(&i.start),
                "end": rfc3339(&i.end),
                "events": i.events,
            })).collect::<Vec<_>>(),
        }),
    );
    debug_assert!(source != TimeSource::Stamp || stamp.is_some());
    Value::Object(doc)
}

impl Reporter for Ecs {
    fn write(&mut self, r: &Report, out: &mut dyn Write) -> io::Result<()> {
        for f in &r.analysis.findings {
            serde_json::to_writer(&mut *out, &document(f, r, self.stamp))?;
            out.write_all(b"\n")?;
        }
        Ok(())
    }
}
