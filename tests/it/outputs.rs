//! Every `--output` format of one sample bundle as a golden file, the timelines (all events,
//! order, CSV quoting), the HTML report's self-containment and escaping, and the people-facing
//! flags: `-o`, `--stamp`, `--fail-on`, `completions`, `man`.

use crate::siem::{hostile_report, render, t};
use crate::util;
use imtriage::formats::csv::CsvReader;
use imtriage::report::OutputFormat;
use std::process::{Command, Output};

const SAMPLE: &str = "samples/owa-im-webconfig-on-2016plus/positive";

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
fn every_format_of_one_sample_matches_its_golden_file() {
    for (format, golden) in [
        ("ecs", "webconfig-positive.ecs.jsonl"),
        ("ocsf", "webconfig-positive.ocsf.jsonl"),
        ("hec", "webconfig-positive.hec.jsonl"),
        ("cef", "webconfig-positive.cef"),
        ("timeline-csv", "webconfig-positive.timeline.csv"),
        ("timeline-jsonl", "webconfig-positive.timeline.jsonl"),
        ("html", "webconfig-positive.html"),
    ] {
        let o = run(&["analyze", "--quiet", "--output", format, SAMPLE]);
        assert_eq!(o.status.code(), Some(1), "{format}: a finding exits 1");
        let first = stdout(&o);
        let again = stdout(&run(&["analyze", "--output", format, SAMPLE]));
        assert_eq!(first, again, "{format} is deterministic");
        util::golden(golden, &first);
    }
}

#[test]
fn out_flag_writes_a_file_and_stamp_adds_the_clock() {
    let dir = std::env::temp_dir().join(format!("imtriage-out-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("mkdir");
    let file = dir.join("findings.ecs.jsonl");
    let path = file.to_str().expect("utf-8 path");
    let o = run(&["analyze", "--output", "ecs", "-o", path, "--stamp", SAMPLE]);
    assert_eq!(o.status.code(), Some(1));
    assert!(o.stdout.is_empty(), "nothing on stdout with -o");
    let text = std::fs::read_to_string(&file).expect("written");
    let doc: serde_json::Value =
        serde_json::from_str(text.lines().next().expect("a line")).expect("json");
    assert!(
        doc["event"]["created"].is_string(),
        "--stamp adds event.created"
    );
    let bad = run(&["analyze", "-o", "/nonexistent-dir/x", SAMPLE]);
    assert_eq!(bad.status.code(), Some(2));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn fail_on_sets_the_exit_code_by_severity() {
    // The sample's finding is an error.
    let code = |level: &str| {
        run(&["analyze", "--quiet", "--fail-on", level, SAMPLE])
            .status
            .code()
    };
    assert_eq!(code("critical"), Some(0));
    assert_eq!(code("error"), Some(1));
    assert_eq!(code("warning"), Some(1));
    assert_eq!(code("info"), Some(1));
    assert_eq!(code("none"), Some(0));
    assert_eq!(code("fatal"), Some(2), "unknown level is a usage error");
    // A bundle with nothing to find passes at every threshold.
    let empty = std::env::temp_dir().join(format!("imtriage-empty-{}", std::process::id()));
    std::fs::create_dir_all(&empty).expect("mkdir");
    let empty_path = empty.to_str().expect("utf-8 path");
    let code = run(&["analyze", "--fail-on", "info", empty_path])
        .status
        .code();
    let _ = std::fs::remove_dir_all(&empty);
    assert_eq!(code, Some(0));
}

#[test]
fn completions_and_man_page_come_from_the_cli_definition() {
    let bash = run(&["completions", "bash"]);
    assert_eq!(bash.status.code(), Some(0));
    let text = stdout(&bash);
    assert!(text.contains("_imtriage"));
    assert!(text.contains("timeline-csv") && text.contains("--fail-on"));
    for shell in ["zsh", "fish", "powershell", "elvish"] {
        let o = run(&["completions", shell]);
        assert_eq!(o.status.code(), Some(0), "{shell}");
        assert!(!o.stdout.is_empty(), "{shell}");
    }
    let man = run(&["man"]);
    assert_eq!(man.status.code(), Some(0));
    let page = stdout(&man);
    assert!(
        page.starts_with(".ie") || page.contains(".TH imtriage"),
        "roff"
    );
    assert!(page.contains("analyze"));
}

#[test]
fn progress_bar_stays_off_when_piped() {
    // stderr is a pipe here: no bar, no control sequences.
    let o = run(&["analyze", SAMPLE]);
    assert!(
        o.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

#[test]
fn timeline_holds_every_event_sorted_with_the_findings() {
    let paths = [util::root().join(SAMPLE)];
    let cfg = imtriage::AnalyzeConfig::default();
    let cat = util::catalog();
    let full = imtriage::timeline(&paths, &cfg, &cat, &|_| {});
    let lean = imtriage::analyze(&paths, &cfg, &cat);
    assert_eq!(
        util::jsonl(&full),
        util::jsonl(&lean),
        "keeping all events changes no finding"
    );
    assert!(lean.timeline.is_empty(), "analyze keeps its memory profile");
    assert_eq!(full.timeline.len() as u64, full.summary.records);

    let csv = render(&full, OutputFormat::TimelineCsv, None);
    let rows: Vec<Vec<String>> = CsvReader::new(&csv, b',')
        .map(|r| r.fields.iter().map(|f| f.to_string()).collect())
        .collect();
    assert_eq!(
        rows[0].join(","),
        "time,ts_kind,host,item,format,path,line,record,kind,id,level,text,findings"
    );
    assert!(rows.iter().all(|r| r.len() == 13), "fixed column count");
    let body = &rows[1..];
    assert_eq!(
        body.len(),
        full.timeline.len() + full.analysis.findings.len()
    );
    assert_eq!(
        body.iter().filter(|r| r[3] == "finding").count(),
        full.analysis.findings.len()
    );
    // Timed rows first, in time order; then untimed ones by path and line.
    let times: Vec<&str> = body.iter().map(|r| r[0].as_str()).collect();
    let timed = times.iter().take_while(|t| !t.is_empty()).count();
    assert!(times[timed..].iter().all(|t| t.is_empty()));
    assert!(times[..timed].windows(2).all(|w| w[0] <= w[1]));
    assert!(body.iter().any(|r| !r[12].is_empty()), "evidence marked");

    let jsonl = render(&full, OutputFormat::TimelineJsonl, None);
    assert_eq!(jsonl.lines().count(), body.len());
    for (line, row) in jsonl.lines().zip(body) {
        let v: serde_json::Value = serde_json::from_str(line).expect("json");
        assert_eq!(v["path"], row[5].as_str(), "same fields, same order");
        assert_eq!(v["item"], row[3].as_str());
    }
}

#[test]
fn html_is_self_contained_and_escapes_bundle_text() {
    let html = render(&hostile_report(), OutputFormat::Html, None);
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(!html.contains("<script>alert"), "excerpt markup is escaped");
    assert!(html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"));
    assert!(
        html.contains("alert&lt;b&gt;"),
        "signal names are escaped too"
    );
    // Exactly one script element: our own.
    assert_eq!(html.matches("<script").count(), 1);
    for external in ["http://", "https://", "src=\"", "<link", "@import", "url("] {
        let hits: Vec<&str> = html
            .lines()
            .filter(|l| l.contains(external))
            .filter(|l| !l.contains("example.test")) // the finding's escaped source reference
            .collect();
        assert!(hits.is_empty(), "{external}: {hits:?}");
    }
    assert!(html.contains("Content-Security-Policy"));
    assert!(html.contains("@media print"));
    assert!(html.contains("iisreset /noforce"), "fix shown");
    assert!(html.contains("bundle.zip!MBX01/Application.evtx (record 7)"));
    let stamped = render(
        &hostile_report(),
        OutputFormat::Html,
        Some(t("2030-01-01T00:00:00Z")),
    );
    assert!(stamped.contains("generated 2030-01-01T00:00:00Z"));
    assert!(!html.contains("generated 20"));
}

#[test]
fn html_of_a_sample_marks_evidence_in_the_host_timeline() {
    let paths = [util::root().join(SAMPLE)];
    let r = imtriage::timeline(
        &paths,
        &imtriage::AnalyzeConfig::default(),
        &util::catalog(),
        &|_| {},
    );
    let html = render(&r, OutputFormat::Html, None);
    assert!(html.contains("data-id=\"owa-im-webconfig-on-2016plus\""));
    assert!(html.contains("class=\"ev evidence\""));
    assert!(html.contains("class=\"fnd\""));
    assert!(html.contains("<section class=\"host\" id=\"host-0\" data-host=\"MBX01\">"));
}
