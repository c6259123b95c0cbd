//! JSON lines: one object per line, for SIEMs and scripts.
//!
//! Why this module exists: the machine interface of imtriage. Its schema is stable:
//! - `{"type":"finding","id","title","severity","confidence","host","related_hosts","first_seen",
//!   "last_seen","evidence":[{"path","line","record","offset","format","time","excerpt","signal",
//!   "role"}],"notes","fix","source","absorbed","incidents":[{"start","end","events"}]}`, one per
//!   finding, sorted by host, severity, id (incidents: the timed evidence grouped by `--window`);
//! - `{"type":"diagnostic","level","path","line","record","offset","format","message","excerpt"}`,
//!   one per input problem, sorted by path and position;
//! - one `{"type":"summary",…}` last: files and records per format, rejected and filtered records,
//!   hosts, findings, and the evidence kinds absent from the bundle with the causes they affect.
//!
//! Times are UTC RFC 3339; positions that do not apply (a line in a binary file) are `null`.
//! No field holds wall-clock time of the analysing machine, so output is byte-identical across runs.

use super::{format_name, rfc3339, Report, Reporter};
use crate::classify::Evidence;
use crate::classify::{evidence, Finding};
use crate::model::{Diagnostic, Event};
use serde_json::{json, Value};
use std::io::{self, Write};

pub struct JsonLines;

fn pos(n: u64) -> Value {
    if n == 0 {
        Value::Null
    } else {
        json!(n)
    }
}

fn line(out: &mut dyn Write, v: &Value) -> io::Result<()> {
    serde_json::to_writer(&mut *out, v)?;
    out.write_all(b"\n")
}

/// The JSON object of a diagnostic.
pub fn diagnostic(d: &Diagnostic) -> Value {
    json!({
        "type": "diagnostic",
        "level": d.level,
        "path": &*d.path,
        "line": pos(d.line),
        "record": pos(d.record),
        "offset": if d.line == 0 && d.record == 0 && d.offset == 0 { Value::Null } else { json!(d.offset) },
        "format": format_name(d.format),
        "message": d.message,
        "excerpt": d.excerpt,
    })
}

/// The JSON object of a normalised event (`imtriage events`).
pub fn event(e: &Event, host_key: Option<&str>) -> Value {
    let mut body = serde_json::to_value(&e.body).unwrap_or(Value::Null);
    let kind = body.get("kind").cloned().unwrap_or(Value::Null);
    if let Some(o) = body.as_object_mut() {
        o.remove("kind");
    }
    json!({
        "type": "event",
        "time": e.time.as_ref().map(rfc3339),
        "ts_kind": e.ts_kind,
        "host": e.host,
        "host_key": host_key,
        "host_from": e.host_from,
        "format": e.format.as_str(),
        "path": &*e.loc.path,
        "line": pos(e.loc.line),
        "record": pos(e.loc.record),
        "offset": e.loc.offset,
        "kind": kind,
        "data": body,
        "excerpt": e.excerpt,
    })
}

/// The JSON object of one evidence line, as every machine format carries it, without the keys in
/// `leave_out` (ECS and OCSF leave out what their own envelope holds). Key order is kept.
pub fn evidence(e: &Evidence, leave_out: &[&str]) -> serde_json::Map<String, Value> {
    let v = json!({
        "path": &*e.path,
        "line": pos(e.line),
        "record": pos(e.record),
        "offset": if e.line == 0 && e.record == 0 { Value::Null } else { json!(e.offset) },
        "format": format_name(e.format),
        "time": e.time.as_ref().map(rfc3339),
        "excerpt": e.excerpt,
        "signal": e.signal,
        "role": e.role,
    });
    match v {
        Value::Object(m) => m
            .into_iter()
            .filter(|(k, _)| !leave_out.contains(&k.as_str()))
            .collect(),
        _ => serde_json::Map::new(),
    }
}

/// The JSON object of a finding (also the `event` of a Splunk HEC envelope).
pub fn finding(f: &Finding) -> Value {
    let evidence: Vec<Value> = f
        .evidence
        .iter()
        .map(|e| Value::Object(evidence(e, &[])))
        .collect();
    json!({
        "type": "finding",
        "id": f.id,
        "title": f.title,
        "severity": f.severity,
        "confidence": f.confidence,
        "host": f.host,
        "related_hosts": f.related_hosts,
        "first_seen": f.first_seen.as_ref().map(rfc3339),
        "last_seen": f.last_seen.as_ref().map(rfc3339),
        "evidence": evidence,
        "notes": f.notes,
        "fix": f.fix,
        "source": f.source,
        "absorbed": f.absorbed,
        "incidents": f.incidents.iter().map(|i| json!({
            "start": rfc3339(&i.start),
            "end": rfc3339(&i.end),
            "events": i.events,
        })).collect::<Vec<_>>(),
    })
}

impl Reporter for JsonLines {
    fn write(&mut self, r: &Report, out: &mut dyn Write) -> io::Result<()> {
        for f in &r.analysis.findings {
            line(out, &finding(f))?;
        }
        for d in &r.diagnostics {
            line(out, &diagnostic(d))?;
        }
        let s = &r.summary;
        let absent: Vec<Value> = r
            .analysis
            .absent
            .iter()
            .map(|(k, causes)| json!({"kind": k, "label": evidence::label(k), "causes": causes}))
            .collect();
        let hosts: Vec<Value> = r
            .analysis
            .hosts
            .iter()
            .map(|h| json!({"name": h.name, "aliases": h.aliases}))
            .collect();
        line(
            out,
            &json!({
                "type": "summary",
                "files": s.files,
                "files_skipped": s.files_skipped,
                "records": s.records,
                "records_rejected": s.records_rejected,
                "records_skipped": s.records_skipped,
                "records_filtered": s.records_filtered,
                "formats": s.formats,
                "hosts": hosts,
                "findings": s.findings,
                "diagnostics": s.diagnostics,
                "collection_time": s.collection_time.as_ref().map(rfc3339),
                "absent_evidence": absent,
                "sections_not_checked": r.analysis.sections_not_checked.iter().map(|(s, n)| json!({
                    "section": s,
                    "label": evidence::section_label(s),
                    "causes": n,
                })).collect::<Vec<_>>(),
            }),
        )
    }
}
