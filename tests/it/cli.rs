//! The binary: exit codes, golden human and JSON-lines output, the catalog commands.

use crate::util;
use std::process::{Command, Output};

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_imtriage"))
        .args(args)
        .current_dir(util::root())
        .env("NO_COLOR", "1")
        .output()
        .expect("run imtriage")
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).expect("utf-8 stdout")
}

#[test]
fn exit_codes() {
    assert_eq!(
        run(&["analyze", "samples/owa-im-cert-invalid/positive"])
            .status
            .code(),
        Some(1)
    );
    assert_eq!(
        run(&["analyze", "samples/owa-im-cert-invalid/negative"])
            .status
            .code(),
        Some(0)
    );
    assert_eq!(
        run(&["analyze", "samples/does-not-exist"]).status.code(),
        Some(2)
    );
    assert_eq!(run(&["analyze"]).status.code(), Some(2), "usage error");
    assert_eq!(
        run(&["analyze", "--window", "soon", "samples"])
            .status
            .code(),
        Some(2)
    );
}

#[test]
fn human_report_golden() {
    let o = run(&[
        "analyze",
        "--color",
        "never",
        "samples/owa-im-webconfig-on-2016plus/positive",
    ]);
    util::golden("webconfig-positive.txt", &stdout(&o));
}

#[test]
fn jsonl_report_golden() {
    let o = run(&[
        "analyze",
        "--output",
        "jsonl",
        "samples/owa-im-override-not-applied/positive",
    ]);
    let out = stdout(&o);
    for line in out.lines() {
        let v: serde_json::Value = serde_json::from_str(line).expect("each line is JSON");
        assert!(v.get("type").is_some());
    }
    let last: serde_json::Value =
        serde_json::from_str(out.lines().last().expect("a line")).expect("json");
    assert_eq!(last["type"], "summary");
    util::golden("override-not-applied-positive.jsonl", &out);
    let healthy = run(&[
        "analyze",
        "--output",
        "jsonl",
        "samples/healthy-exchange2016",
    ]);
    assert_eq!(healthy.status.code(), Some(0));
    util::golden("healthy.jsonl", &stdout(&healthy));
}

#[test]
fn full_parse_reads_every_record_with_the_same_findings() {
    let summary = |extra: &[&str]| -> (serde_json::Value, Vec<String>) {
        let mut args = vec!["analyze", "--output", "jsonl"];
        args.extend_from_slice(extra);
        args.push("samples/mixed-exchange-pool-client");
        let out = stdout(&run(&args));
        let mut findings = Vec::new();
        let mut summary = serde_json::Value::Null;
        for line in out.lines() {
            let v: serde_json::Value = serde_json::from_str(line).expect("json line");
            match v["type"].as_str() {
                Some("finding") => findings.push(line.to_string()),
                Some("summary") => summary = v,
                _ => {}
            }
        }
        (summary, findings)
    };
    let (skim, f1) = summary(&[]);
    let (full, f2) = summary(&["--full-parse"]);
    assert_eq!(f1, f2);
    assert_eq!(f1.len(), 2);
    assert_eq!(full["records_skipped"], 0);
    let n = |v: &serde_json::Value, k: &str| v[k].as_u64().expect("count");
    assert!(n(&skim, "records_skipped") > 0);
    assert_eq!(
        n(&skim, "records") + n(&skim, "records_rejected") + n(&skim, "records_skipped"),
        n(&full, "records") + n(&full, "records_rejected")
    );
}

#[test]
fn events_command_prints_a_timeline() {
    let o = run(&["events", "samples/owa-im-thumbprint-empty/negative"]);
    assert_eq!(o.status.code(), Some(0));
    let lines: Vec<serde_json::Value> = stdout(&o)
        .lines()
        .map(|l| serde_json::from_str(l).expect("json"))
        .collect();
    let times: Vec<&str> = lines
        .iter()
        .filter(|v| v["type"] == "event")
        .filter_map(|v| v["time"].as_str())
        .collect();
    let mut sorted = times.clone();
    sorted.sort();
    assert_eq!(times, sorted, "events in time order");
    assert_eq!(
        lines.last().map(|v| v["type"].clone()),
        Some("summary".into())
    );
    let since = run(&[
        "events",
        "--since",
        "2024-05-01T11:00:00Z",
        "samples/owa-im-thumbprint-empty/negative",
    ]);
    let n_since = stdout(&since)
        .lines()
        .filter(|l| l.contains("\"type\":\"event\"") && l.contains("\"time\":\""))
        .count();
    assert_eq!(n_since, 1, "only event 112 at 11:02 is after --since");
}

#[test]
fn catalog_commands() {
    let causes = stdout(&run(&["causes"]));
    assert_eq!(causes.lines().count(), 38);
    assert!(causes.contains("owa-im-webconfig-on-2016plus"));
    let explain = run(&["explain", "owa-im-thumbprint-stale"]);
    assert_eq!(explain.status.code(), Some(0));
    assert!(stdout(&explain).contains("fact im-thumbprint-not-iis"));
    assert_eq!(run(&["explain", "no-such-cause"]).status.code(), Some(2));
    let lint = run(&["lint-catalog"]);
    assert_eq!(lint.status.code(), Some(0), "{}", stdout(&lint));
}

#[test]
fn extra_catalog_adds_and_rejects() {
    let dir = std::env::temp_dir().join(format!("imtriage-cat-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("mkdir");
    std::fs::write(
        dir.join("owa-event-88.toml"),
        r#"id = "owa-im-endpoint-create-failed"
title = "Creating the user's IM endpoint failed"
section = "A"
severity = "warning"
host = "the Exchange server"
summary = "MSExchange OWA event 88."
sources = ["formats.md 1.9"]
[[signals]]
name = "owa-event-88"
role = "strong"
event = { provider = "MSExchange OWA", ids = [88] }
[[fix]]
text = "Check the user's SIP address on {server|<ServerName>}"
"#,
    )
    .expect("write");
    let d = dir.to_string_lossy().to_string();
    let causes = stdout(&run(&["causes", "--catalog", &d]));
    assert!(causes.contains("owa-im-endpoint-create-failed"));
    assert_eq!(causes.lines().count(), 39);
    std::fs::write(dir.join("broken.toml"), "id = \"Bad Id\"\n").expect("write");
    let o = run(&["causes", "--catalog", &d]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("broken.toml"));
    let _ = std::fs::remove_dir_all(&dir);
}
