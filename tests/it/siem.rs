//! The SIEM outputs against their specifications (formats.md §11): ECS 9.4 field names and
//! allowed values, the OCSF 1.5.0 Detection Finding's required attributes and value ranges, Splunk
//! HEC envelopes, CEF header and extension escaping. Reports are built by hand here so that every
//! awkward character reaches every writer.

use crate::util;
use chrono::{DateTime, Utc};
use imtriage::classify::catalog::{Role, Severity};
use imtriage::classify::{Analysis, Confidence, Evidence, Finding};
use imtriage::model::Format;
use imtriage::report::{self, OutputFormat, Report, Summary};
use serde_json::Value;
use std::collections::BTreeSet;
use std::sync::Arc;

/// The ECS 9.4 fields the ECS writer may emit (besides the custom `imtriage.` namespace).
/// Source: the `@elastic/ecs` 9.4.0 definitions (npm package `@elastic/ecs`, `EcsFlat` in
/// `generated/ecs_flat.ts`), which `.ci/run` also checks the golden output against in full
/// (`tests/browser/ecs-check.js`), with types and allowed values.
const ECS_FIELDS: &[&str] = &[
    "@timestamp",
    "ecs.version",
    "event.kind",
    "event.category",
    "event.type",
    "event.outcome",
    "event.severity",
    "event.code",
    "event.start",
    "event.end",
    "event.created",
    "rule.id",
    "rule.name",
    "rule.description",
    "rule.reference",
    "rule.ruleset",
    "host.name",
    "related.hosts",
    "log.file.path",
    "message",
];

/// `event.category` allowed values (ECS 9.4 `event.category` allowed_values).
const ECS_CATEGORIES: &[&str] = &[
    "api",
    "authentication",
    "configuration",
    "database",
    "driver",
    "email",
    "file",
    "host",
    "iam",
    "intrusion_detection",
    "library",
    "malware",
    "network",
    "package",
    "process",
    "registry",
    "session",
    "threat",
    "vulnerability",
    "web",
];

pub fn t(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s)
        .expect("valid time")
        .with_timezone(&Utc)
}

/// A report with one finding full of characters that each format must escape.
pub fn hostile_report() -> Report {
    let excerpt = "<script>alert('x')</script> a|b c=d back\\slash \"q\" & done";
    let finding = Finding {
        id: "owa-im-thumbprint-empty".into(),
        title: "Title with | pipe, \\ backslash and = equals".into(),
        severity: Severity::Error,
        confidence: Confidence::Likely,
        host: "MBX01".into(),
        related_hosts: vec!["pool01.contoso.com".into()],
        first_seen: Some(t("2024-05-01T10:31:00.250Z")),
        last_seen: Some(t("2024-05-01T10:45:00Z")),
        evidence: vec![
            Evidence {
                path: Arc::from("bundle.zip!MBX01/Application.evtx"),
                line: 0,
                record: 7,
                offset: 4096,
                format: Some(Format::Evtx),
                time: Some(t("2024-05-01T10:31:00.250Z")),
                excerpt: excerpt.into(),
                signal: "alert<b>".into(),
                role: Role::Strong,
            },
            Evidence {
                path: Arc::from("MBX01/web.config"),
                line: 12,
                record: 1,
                offset: 300,
                format: Some(Format::WebConfig),
                time: None,
                excerpt: "<add key=\"IMServerName\" value=\"\" />".into(),
                signal: "empty".into(),
                role: Role::Supporting,
            },
        ],
        notes: vec!["line one\nline two".into()],
        fix: vec![
            "Set-OwaVirtualDirectory -Identity \"MBX01\\owa (Default Web Site)\" -InstantMessagingType OCS".into(),
            "iisreset /noforce".into(),
        ],
        source: vec!["https://example.test/kb?a=1&b=2".into()],
        absorbed: vec![],
        incidents: vec![],
    };
    Report {
        analysis: Analysis {
            findings: vec![finding],
            ..Analysis::default()
        },
        diagnostics: vec![],
        summary: Summary {
            collection_time: Some(t("2024-05-01T12:00:00Z")),
            findings: 1,
            ..Summary::default()
        },
        timeline: vec![],
    }
}

pub fn render(r: &Report, format: OutputFormat, stamp: Option<DateTime<Utc>>) -> String {
    let mut out = Vec::new();
    report::reporter_with(
        format,
        &report::Options {
            color: false,
            stamp,
        },
    )
    .write(r, &mut out)
    .expect("write to memory");
    String::from_utf8(out).expect("utf-8 output")
}

fn json_lines(s: &str) -> Vec<Value> {
    s.lines()
        .map(|l| serde_json::from_str(l).expect("each line is one JSON object"))
        .collect()
}

/// Every leaf key path of a JSON object (arrays of scalars are leaves; objects in arrays are
/// walked with the array's path).
fn key_paths(v: &Value, prefix: &str, out: &mut BTreeSet<String>) {
    match v {
        Value::Object(o) => {
            for (k, v) in o {
                let p = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                key_paths(v, &p, out);
            }
        }
        Value::Array(a) if a.iter().any(Value::is_object) => {
            for x in a {
                key_paths(x, prefix, out);
            }
        }
        _ => {
            out.insert(prefix.to_string());
        }
    }
}

fn ecs_docs() -> Vec<Value> {
    let mut docs = json_lines(&render(&hostile_report(), OutputFormat::Ecs, None));
    let stamped = render(
        &hostile_report(),
        OutputFormat::Ecs,
        Some(t("2030-01-01T00:00:00Z")),
    );
    docs.extend(json_lines(&stamped));
    let sample = util::analyze(&util::root().join("samples/owa-im-webconfig-on-2016plus/positive"));
    docs.extend(json_lines(&render(&sample, OutputFormat::Ecs, None)));
    docs
}

#[test]
fn ecs_uses_only_ecs_fields_and_the_custom_namespace() {
    for doc in ecs_docs() {
        let mut paths = BTreeSet::new();
        key_paths(&doc, "", &mut paths);
        for p in &paths {
            assert!(
                ECS_FIELDS.contains(&p.as_str()) || p.starts_with("imtriage."),
                "{p} is neither an ECS 9.4 field nor under imtriage."
            );
        }
        assert_eq!(doc["ecs"]["version"], "9.4.0");
        assert_eq!(doc["event"]["kind"], "alert");
        assert_eq!(doc["event"]["outcome"], "failure");
        for c in doc["event"]["category"].as_array().expect("category array") {
            assert!(ECS_CATEGORIES.contains(&c.as_str().unwrap_or("")), "{c}");
        }
        assert_eq!(doc["event"]["type"], serde_json::json!(["info"]));
        assert!(doc["event"]["severity"].is_u64());
        assert!(doc["@timestamp"].as_str().is_some_and(|s| s.ends_with('Z')));
        assert!(doc["imtriage"]["evidence"]
            .as_array()
            .is_some_and(|a| !a.is_empty()));
        assert!(doc["imtriage"]["fix"]
            .as_array()
            .is_some_and(|a| !a.is_empty()));
    }
}

#[test]
fn ecs_timestamp_is_first_seen_and_clock_only_with_stamp() {
    let r = hostile_report();
    let doc = &json_lines(&render(&r, OutputFormat::Ecs, None))[0];
    assert_eq!(doc["@timestamp"], "2024-05-01T10:31:00.250Z");
    assert_eq!(doc["event"]["start"], "2024-05-01T10:31:00.250Z");
    assert!(doc["event"].get("created").is_none());
    let mut untimed = r.clone();
    untimed.analysis.findings[0].first_seen = None;
    let doc = &json_lines(&render(&untimed, OutputFormat::Ecs, None))[0];
    assert_eq!(doc["@timestamp"], "2024-05-01T12:00:00Z", "collection time");
    assert_eq!(doc["imtriage"]["timestamp_source"], "collection_time");
    let stamped = &json_lines(&render(
        &r,
        OutputFormat::Ecs,
        Some(t("2030-01-01T00:00:00Z")),
    ))[0];
    assert_eq!(stamped["event"]["created"], "2030-01-01T00:00:00Z");
    assert_eq!(stamped["@timestamp"], "2024-05-01T10:31:00.250Z");
}

#[test]
fn ocsf_detection_finding_has_required_attributes_in_range() {
    let r = hostile_report();
    let docs = json_lines(&render(&r, OutputFormat::Ocsf, None));
    assert_eq!(docs.len(), 1);
    let d = &docs[0];
    assert_eq!(d["class_uid"], 2004);
    assert_eq!(d["category_uid"], 2);
    assert!([1, 2, 3].contains(&d["activity_id"].as_u64().expect("activity_id")));
    assert_eq!(
        d["type_uid"].as_u64(),
        Some(2004 * 100 + d["activity_id"].as_u64().unwrap_or(0))
    );
    let sev = d["severity_id"].as_u64().expect("severity_id");
    assert!(sev <= 6 || sev == 99, "severity_id {sev}");
    assert_eq!(sev, 4, "error maps to High");
    assert_eq!(d["time"], 1_714_559_460_250i64, "epoch milliseconds");
    assert_eq!(d["metadata"]["version"], "1.5.0");
    for k in ["name", "vendor_name", "version"] {
        assert!(
            d["metadata"]["product"][k].is_string(),
            "metadata.product.{k}"
        );
    }
    assert!(d["metadata"].get("processed_time").is_none());
    let uid = d["finding_info"]["uid"].as_str().expect("uid");
    assert_eq!(uid.len(), 32);
    assert!(d["finding_info"]["title"].is_string());
    let conf = d["confidence_id"].as_u64().expect("confidence_id");
    assert!(conf <= 3 || conf == 99);
    assert_eq!(conf, 2, "likely maps to Medium");
    let status = d["status_id"].as_u64().expect("status_id");
    assert!(status <= 6 || status == 99);
    assert!(d["message"].is_string());
    // Each evidence needs at least one of the allowed objects; ours carry `file` and `data`.
    let ev = d["evidences"].as_array().expect("evidences");
    assert_eq!(ev.len(), 2);
    for e in ev {
        assert!(e["file"]["name"].is_string() && e["file"]["path"].is_string());
        assert!(e["file"]["type_id"].is_u64(), "file.type_id is required");
        assert!(e["data"].is_object());
    }
    assert_eq!(ev[0]["file"]["name"], "Application.evtx");
    assert_eq!(ev[0]["data"]["record"], 7);
    assert_eq!(d["resources"][0]["name"], "MBX01");
    assert!(d["remediation"]["desc"]
        .as_str()
        .is_some_and(|s| s.contains("iisreset")));
    assert!(d["remediation"]["references"].is_array());
}

#[test]
fn finding_uid_is_stable_and_bundle_independent() {
    let a = hostile_report();
    let mut b = hostile_report();
    // Other times, notes and fix text do not change the identity of the finding.
    b.analysis.findings[0].first_seen = Some(t("2025-01-01T00:00:00Z"));
    b.analysis.findings[0].notes.clear();
    b.summary.collection_time = None;
    let uid = |r: &Report| {
        json_lines(&render(r, OutputFormat::Ocsf, None))[0]["finding_info"]["uid"].clone()
    };
    assert_eq!(uid(&a), uid(&b));
    b.analysis.findings[0].host = "MBX02".into();
    assert_ne!(uid(&a), uid(&b));
}

#[test]
fn hec_envelopes_are_ready_for_the_event_endpoint() {
    let out = render(&hostile_report(), OutputFormat::Hec, None);
    let docs = json_lines(&out);
    assert_eq!(docs.len(), 1);
    let d = &docs[0];
    let keys: BTreeSet<&str> = d
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        ["event", "host", "source", "sourcetype", "time"]
            .into_iter()
            .collect()
    );
    assert_eq!(
        d["time"].as_f64(),
        Some(1_714_559_460.25),
        "epoch seconds with ms"
    );
    assert!(out.contains("\"time\":1714559460.25,"));
    assert_eq!(d["host"], "MBX01");
    assert_eq!(d["source"], "imtriage");
    assert_eq!(d["sourcetype"], "imtriage:finding");
    assert_eq!(d["event"]["id"], "owa-im-thumbprint-empty");
    assert_eq!(d["event"]["evidence"][0]["record"], 7);
    assert!(d["event"]["fix"].as_array().is_some_and(|a| a.len() == 2));
    assert!(d["event"].get("generated_at").is_none());
}

/// Splits a CEF line into its 7 header fields and the extension, honouring `\|` escapes.
fn cef_split(line: &str) -> (Vec<String>, String) {
    let mut fields = Vec::new();
    let mut cur = String::new();
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if fields.len() == 7 {
            cur.push(c);
            continue;
        }
        match c {
            '\\' => {
                cur.push(c);
                if let Some(n) = chars.next() {
                    cur.push(n);
                }
            }
            '|' => fields.push(std::mem::take(&mut cur)),
            c => cur.push(c),
        }
    }
    (fields, cur)
}

/// Parses a CEF extension into (key, unescaped value) pairs: a key is the word before an
/// unescaped `=`, its value runs to the next ` key=`.
fn cef_extension(ext: &str) -> Vec<(String, String)> {
    let re = regex::Regex::new(r"(?:^| )([A-Za-z0-9_]+)=").expect("regex");
    let mut starts: Vec<(usize, usize, String)> = Vec::new();
    for c in re.captures_iter(ext) {
        let m = c.get(0).expect("match");
        let before = &ext[..m.start() + usize::from(m.as_str().starts_with(' '))];
        let backslashes = before.chars().rev().take_while(|c| *c == '\\').count();
        if backslashes % 2 == 0 {
            starts.push((m.start(), m.end(), c[1].to_string()));
        }
    }
    let mut out = Vec::new();
    for (i, (_, vstart, key)) in starts.iter().enumerate() {
        let end = starts.get(i + 1).map_or(ext.len(), |s| s.0);
        let raw = &ext[*vstart..end];
        let mut v = String::new();
        let mut it = raw.chars();
        while let Some(c) = it.next() {
            if c == '\\' {
                match it.next() {
                    Some('n') => v.push('\n'),
                    Some('r') => v.push('\r'),
                    Some(o) => v.push(o),
                    None => {}
                }
            } else {
                v.push(c);
            }
        }
        out.push((key.clone(), v));
    }
    out
}

#[test]
fn cef_escapes_header_and_extension() {
    let out = render(&hostile_report(), OutputFormat::Cef, None);
    assert_eq!(
        out.lines().count(),
        1,
        "one finding, one line: newlines escaped"
    );
    let line = out.lines().next().expect("a line");
    assert!(line.starts_with("CEF:0|imtriage|imtriage|"));
    let (header, ext) = cef_split(line);
    assert_eq!(header.len(), 7, "{line}");
    assert_eq!(header[4], "owa-im-thumbprint-empty");
    assert_eq!(header[5], r"Title with \| pipe, \\ backslash and = equals");
    let sev: u8 = header[6].parse().expect("numeric severity");
    assert!(sev <= 10);
    let kv = cef_extension(&ext);
    let get = |k: &str| {
        kv.iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_else(|| panic!("no {k} in {ext}"))
    };
    assert_eq!(get("rt"), "1714559460250");
    assert_eq!(get("dhost"), "MBX01");
    assert_eq!(get("filePath"), "bundle.zip!MBX01/Application.evtx");
    assert_eq!(get("cs1Label"), "confidence");
    assert_eq!(get("cs1"), "likely");
    assert!(
        get("msg").contains("line one\nline two"),
        "newline survives as \\n"
    );
    let evidence = get("cs2");
    assert!(evidence.contains("a|b c=d back\\slash"), "{evidence}");
    assert!(get("cs3").contains("\"MBX01\\owa (Default Web Site)\""));
    assert!(
        ext.contains(r"c\=d back\\slash"),
        "= and \\ escaped in the raw line"
    );
    assert!(!ext.contains('\n'));
    let keys: Vec<&str> = kv.iter().map(|(k, _)| k.as_str()).collect();
    for k in &keys {
        assert!(
            [
                "rt",
                "start",
                "end",
                "dhost",
                "externalId",
                "cat",
                "filePath",
                "cnt",
                "msg",
                "cs1",
                "cs1Label",
                "cs2",
                "cs2Label",
                "cs3",
                "cs3Label",
                "cs4",
                "cs4Label",
                "cs5",
                "cs5Label",
                "cs6",
                "cs6Label",
                "deviceCustomDate1",
                "deviceCustomDate1Label"
            ]
            .contains(k),
            "{k} is not a CEF dictionary key"
        );
    }
}

#[test]
fn machine_formats_have_no_clock_without_stamp() {
    let r = hostile_report();
    for f in [
        OutputFormat::Ecs,
        OutputFormat::Ocsf,
        OutputFormat::Hec,
        OutputFormat::Cef,
    ] {
        let plain = render(&r, f, None);
        assert!(!plain.contains("2030"), "{f:?}");
        let stamped = render(&r, f, Some(t("2030-01-01T00:00:00Z")));
        assert!(
            stamped.contains("2030-01-01T00:00:00Z") || stamped.contains("1893456000000"),
            "{f:?} writes the stamp"
        );
    }
}
