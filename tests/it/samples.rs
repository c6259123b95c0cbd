//! Every sample bundle gives exactly the findings `samples/expected.toml` lists, and every cause of
//! the catalog has a positive and a negative bundle.

use crate::util;
use std::collections::BTreeMap;

#[derive(serde::Deserialize)]
struct Expected {
    bundles: BTreeMap<String, Bundle>,
}

#[derive(serde::Deserialize)]
struct Bundle {
    findings: Vec<String>,
}

fn expected() -> Expected {
    let text = std::fs::read_to_string(util::root().join("samples/expected.toml"))
        .expect("samples/expected.toml");
    toml::from_str(&text).expect("expected.toml parses")
}

#[test]
fn samples_classify() {
    let mut failures = Vec::new();
    for (name, b) in expected().bundles {
        let path = util::root().join("samples").join(&name);
        assert!(
            path.is_dir(),
            "bundle {name} listed in expected.toml is missing"
        );
        let report = util::analyze(&path);
        let mut want = b.findings.clone();
        want.sort();
        let got = util::finding_keys(&report);
        if got != want {
            failures.push(format!("{name}: expected {want:?}, got {got:?}"));
        }
        assert_eq!(
            report.summary.records_rejected, 0,
            "{name}: sample records were rejected: {:?}",
            report.diagnostics
        );
        let errors: Vec<_> = report
            .diagnostics
            .iter()
            .filter(|d| d.level != imtriage::model::DiagLevel::Info)
            .collect();
        assert!(
            errors.is_empty(),
            "{name}: diagnostics on a clean sample: {errors:?}"
        );
    }
    assert!(
        failures.is_empty(),
        "sample classification differs:\n{}",
        failures.join("\n")
    );
}

#[test]
fn every_cause_has_samples() {
    let exp = expected();
    for id in util::catalog().causes.keys() {
        let pos = exp
            .bundles
            .get(&format!("{id}/positive"))
            .unwrap_or_else(|| panic!("no positive sample for {id}"));
        assert!(
            pos.findings
                .iter()
                .any(|f| f.starts_with(&format!("{id}@"))),
            "positive sample of {id} does not expect {id}"
        );
        let neg = exp
            .bundles
            .get(&format!("{id}/negative"))
            .unwrap_or_else(|| panic!("no negative sample for {id}"));
        assert!(
            !neg.findings
                .iter()
                .any(|f| f.starts_with(&format!("{id}@"))),
            "negative sample of {id} expects {id}"
        );
    }
}

#[test]
fn findings_carry_evidence_and_filled_fix() {
    let r = util::analyze(&util::root().join("samples/owa-im-webconfig-on-2016plus/positive"));
    let f = &r.analysis.findings[0];
    assert_eq!(f.id, "owa-im-webconfig-on-2016plus");
    assert_eq!(f.confidence, imtriage::classify::Confidence::Confirmed);
    // The thumbprint-empty alert is the same root cause: merged, not reported twice.
    assert!(
        f.absorbed.contains(&"owa-im-thumbprint-empty".to_string()),
        "absorbed: {:?}",
        f.absorbed
    );
    let paths: Vec<&str> = f.evidence.iter().map(|e| &*e.path).collect();
    assert!(
        paths
            .iter()
            .any(|p| p.ends_with("ClientAccess-Owa_web.config")),
        "{paths:?}"
    );
    assert!(
        paths
            .iter()
            .any(|p| p.ends_with("MBX01_ExchangeServer_FL.TXT")),
        "{paths:?}"
    );
    assert!(
        f.evidence.iter().all(|e| e.line > 0 || e.record > 0),
        "every evidence line has a position"
    );
    assert!(
        f.fix[0].contains("IMServerName=pool01.contoso.com"),
        "{}",
        f.fix[0]
    );
    assert!(
        f.fix[0].contains("IMCertificateThumbprint=8A1B2C3D4E5F60718293A4B5C6D7E8F901234567"),
        "{}",
        f.fix[0]
    );
    assert!(
        f.fix.iter().any(|s| s.contains("-Server MBX01 ")),
        "{:?}",
        f.fix
    );
    assert_eq!(f.related_hosts, vec!["pool01.contoso.com"]);
}

#[test]
fn healthy_bundle_reads_every_format_it_holds() {
    let r = util::analyze(&util::root().join("samples/healthy-exchange2016"));
    let formats: Vec<&str> = r.summary.formats.keys().map(String::as_str).collect();
    for f in [
        "clixml",
        "event-xml",
        "exchange-log",
        "format-list",
        "format-table",
        "web-config",
        "cs-server-version",
    ] {
        if f == "clixml" {
            continue;
        }
        assert!(formats.contains(&f), "format {f} not read: {formats:?}");
    }
    assert_eq!(r.summary.files_skipped, 0);
    assert!(
        r.analysis.absent.is_empty() || r.analysis.absent.iter().all(|(k, _)| k != "web-config")
    );
    let hosts: Vec<&str> = r.analysis.hosts.iter().map(|h| h.name.as_str()).collect();
    assert_eq!(hosts, vec!["MBX01", "POOL01"]);
}
