//! OCSF 1.5.0 Detection Finding events (class_uid 2004), one finding per line (`--output ocsf`).
//!
//! Why this module exists: OCSF-based data lakes (Amazon Security Lake and others) accept findings
//! only in the shape of an OCSF class. A finding is a Detection Finding (category 2, Findings) with
//! activity 1 (Create). Required attributes: `class_uid`, `category_uid`, `activity_id`,
//! `type_uid` (= class_uid·100 + activity_id), `severity_id`, `time` (epoch ms), `metadata.product`,
//! `metadata.version` (the OCSF version), `finding_info.uid`, `finding_info.title`. We add the
//! recommended `message`, `status_id`, `confidence_id`, `resources` (the host, then related ones),
//! `evidences` (one per evidence line, each with a `file` and `data` object) and the optional
//! `remediation` (the fix), `start_time`/`end_time`, `count`, and `unmapped.imtriage` for what OCSF
//! has no attribute for. `metadata.processed_time` (the wall clock) only with `--stamp`.

use super::siem;
use super::{Report, Reporter};
use crate::classify::Finding;
use chrono::{DateTime, Utc};
use serde_json::{json, Map, Value};
use std::io::{self, Write};

/// The OCSF schema version the events follow.
pub const OCSF_VERSION: &str = "1.5.0";
pub const CLASS_UID: u32 = 2004;
pub const CATEGORY_UID: u32 = 2;
pub const ACTIVITY_CREATE: u32 = 1;

pub struct Ocsf {
    pub stamp: Option<DateTime<Utc>>,
}

/// The file name part of a bundle path (`bundle.zip!MBX01/web.config` → `web.config`).
fn file_name(path: &str) -> &str {
    path.rsplit(['/', '\\', '!']).next().unwrap_or(path)
}

/// The OCSF Detection Finding of one finding.
pub fn finding(f: &Finding, r: &Report, stamp: Option<DateTime<Utc>>) -> Value {
    let (ts, source) = siem::finding_time(f, r, stamp);
    let evidences: Vec<Value> = f
        .evidence
        .iter()
        .map(|e| {
            // The path is in `file`; OCSF has no place for a byte offset.
            let data = super::jsonl::evidence(e, &["path", "offset"]);
            json!({
                "file": {
                    "name": file_name(&e.path),
                    "path": &*e.path,
                    "type_id": 1,
                    "type": "Regular File",
                },
                "data": Value::Object(data),
            })
        })
        .collect();
    let mut info = Map::new();
    info.insert("uid".into(), json!(siem::finding_uid(f)));
    info.insert("title".into(), json!(f.title));
    info.insert("desc".into(), json!(siem::message(f)));
    info.insert("types".into(), json!([f.id]));
    info.insert(
        "analytic".into(),
        json!({ "uid": f.id, "name": f.id, "type_id": 1, "type": "Rule" }),
    );
    if let Some(t) = &f.first_seen {
        info.insert("first_seen_time".into(), json!(siem::epoch_ms(t)));
    }
    if let Some(t) = &f.last_seen {
        info.insert("last_seen_time".into(), json!(siem::epoch_ms(t)));
    }
    let mut metadata = Map::new();
    metadata.insert(
        "product".into(),
        json!({ "name": siem::PRODUCT, "vendor_name": siem::VENDOR, "version": siem::VERSION }),
    );
    metadata.insert("version".into(), json!(OCSF_VERSION));
    if let Some(t) = &stamp {
        metadata.insert("processed_time".into(), json!(siem::epoch_ms(t)));
    }
    let mut resources = vec![json!({ "name": f.host, "type": "host" })];
    for h in &f.related_hosts {
        resources.push(json!({ "name": h, "type": "host" }));
    }
    let mut doc = Map::new();
    doc.insert("class_uid".into(), json!(CLASS_UID));
    doc.insert("class_name".into(), json!("Detection Finding"));
    doc.insert("category_uid".into(), json!(CATEGORY_UID));
    doc.insert("category_name".into(), json!("Findings"));
    doc.insert("activity_id".into(), json!(ACTIVITY_CREATE));
    doc.insert("activity_name".into(), json!("Create"));
    doc.insert("type_uid".into(), json!(CLASS_UID * 100 + ACTIVITY_CREATE));
    doc.insert("type_name".into(), json!("Detection Finding: Create"));
    doc.insert("severity_id".into(), json!(siem::severity_id(f.severity)));
    doc.insert("severity".into(), json!(siem::severity_caption(f.severity)));
    doc.insert("time".into(), json!(siem::epoch_ms(&ts)));
    if let Some(t) = &f.first_seen {
        doc.insert("start_time".into(), json!(siem::epoch_ms(t)));
    }
    if let Some(t) = &f.last_seen {
        doc.insert("end_time".into(), json!(siem::epoch_ms(t)));
    }
    doc.insert("count".into(), json!(f.evidence.len()));
    doc.insert("message".into(), json!(siem::message(f)));
    doc.insert("status_id".into(), json!(1));
    doc.insert("status".into(), json!("New"));
    doc.insert(
        "confidence_id".into(),
        json!(siem::confidence_id(f.confidence)),
    );
    doc.insert(
        "confidence".into(),
        json!(siem::confidence_caption(f.confidence)),
    );
    doc.insert("metadata".into(), Value::Object(metadata));
    doc.insert("finding_info".into(), Value::Object(info));
    doc.insert("resources".into(), json!(resources));
    doc.insert("evidences".into(), json!(evidences));
    doc.insert(
        "remediation".into(),
        json!({ "desc": f.fix.join("\n"), "references": f.source }),
    );
    doc.insert(
        "unmapped".into(),
        json!({ "imtriage": {
            "cause_id": f.id,
            "severity": f.severity,
            "confidence": f.confidence,
            "time_source": source.as_str(),
            "fix": f.fix,
            "notes": f.notes,
            "absorbed": f.absorbed,
        }}),
    );
    Value::Object(doc)
}

impl Reporter for Ocsf {
    fn write(&mut self, r: &Report, out: &mut dyn Write) -> io::Result<()> {
        for f in &r.analysis.findings {
            serde_json::to_writer(&mut *out, &finding(f, r, self.stamp))?;
            out.write_all(b"\n")?;
        }
        Ok(())
    }
}
