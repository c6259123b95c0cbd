//! `imtriage batch`: a folder of three bundles (two folders and a zip, copied from `samples/`),
//! each analysed on its own, `"bundle"` on every JSON line, the fleet summary, the same bytes
//! for 1 and 2 threads, and the CLI's human summary and exit code.

use crate::util;
use std::io::Write;
use std::path::{Path, PathBuf};

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for e in std::fs::read_dir(from)
        .expect("read")
        .filter_map(Result::ok)
    {
        let p = e.path();
        if p.is_dir() {
            copy_dir(&p, &to.join(e.file_name()));
        } else {
            std::fs::copy(&p, to.join(e.file_name())).expect("copy");
        }
    }
}

fn zip_dir(from: &Path, to: &Path) {
    let mut w = zip::ZipWriter::new(std::fs::File::create(to).expect("zip"));
    let mut stack = vec![from.to_path_buf()];
    let mut files = Vec::new();
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("read").filter_map(Result::ok) {
            if e.path().is_dir() {
                stack.push(e.path());
            } else {
                files.push(e.path());
            }
        }
    }
    files.sort();
    for p in files {
        let name = p
            .strip_prefix(from)
            .expect("prefix")
            .to_string_lossy()
            .replace('\\', "/");
        w.start_file(name, zip::write::SimpleFileOptions::default())
            .expect("entry");
        w.write_all(&std::fs::read(&p).expect("read"))
            .expect("write");
    }
    w.finish().expect("finish");
}

fn fleet_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("imtriage-batch-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let s = util::root().join("samples");
    copy_dir(
        &s.join("trusted-app-fqdn-mismatch/positive"),
        &dir.join("fe-site"),
    );
    copy_dir(&s.join("healthy-exchange2016"), &dir.join("healthy"));
    zip_dir(
        &s.join("owa-im-thumbprint-empty/positive"),
        &dir.join("mbx.zip"),
    );
    std::fs::write(dir.join("notes.txt"), "not a bundle").expect("write");
    dir
}

fn render(dir: &Path, threads: usize) -> String {
    let (bundles, ignored) = imtriage::batch_bundles(&[dir.to_path_buf()]);
    assert_eq!(ignored, vec![dir.join("notes.txt")]);
    let mut cfg = imtriage::AnalyzeConfig::default();
    cfg.parse.threads = threads;
    let fleet = imtriage::batch(&bundles, &cfg, &util::catalog(), &|_| {});
    let mut out = Vec::new();
    fleet.write_jsonl(&mut out).expect("write");
    String::from_utf8(out).expect("utf-8")
}

#[test]
fn batch_analyses_each_bundle_and_sums_up_the_fleet() {
    let dir = fleet_dir();
    let one = render(&dir, 1);
    assert_eq!(
        one,
        render(&dir, 2),
        "batch output differs across thread counts"
    );
    let lines: Vec<serde_json::Value> = one
        .lines()
        .map(|l| serde_json::from_str(l).expect("json line"))
        .collect();
    let (last, per_bundle) = lines.split_last().expect("lines");
    assert_eq!(last["type"], "fleet_summary");
    assert_eq!(last["bundles"], 3);
    assert_eq!(last["bundles_with_findings"], 2);
    let name = |b: &str| dir.join(b).display().to_string();
    for l in per_bundle {
        assert!(l["bundle"].is_string(), "no bundle in {l}");
    }
    let findings: Vec<(String, String)> = per_bundle
        .iter()
        .filter(|l| l["type"] == "finding")
        .map(|l| {
            (
                l["bundle"].as_str().unwrap_or("").to_string(),
                l["id"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    assert_eq!(
        findings,
        vec![
            (name("fe-site"), "trusted-app-fqdn-mismatch".to_string()),
            (name("mbx.zip"), "owa-im-thumbprint-empty".to_string()),
        ]
    );
    let causes = last["causes"].as_array().expect("causes");
    assert_eq!(causes.len(), 2);
    assert_eq!(causes[0]["hosts"][0], format!("{}/MBX01", name("mbx.zip")));
    // One summary line per bundle.
    assert_eq!(
        per_bundle.iter().filter(|l| l["type"] == "summary").count(),
        3
    );

    let out = std::process::Command::new(env!("CARGO_BIN_EXE_imtriage"))
        .arg("batch")
        .arg(&dir)
        .output()
        .expect("run imtriage batch");
    assert_eq!(out.status.code(), Some(1));
    let human = String::from_utf8_lossy(&out.stdout);
    assert!(
        human.contains("Fleet summary: 3 bundles, 2 with findings"),
        "{human}"
    );
    assert!(human.contains("trusted-app-fqdn-mismatch"), "{human}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("notes.txt"));
    let _ = std::fs::remove_dir_all(&dir);
}
