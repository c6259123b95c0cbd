//! Bundles written by an independent tester from causes.md and formats.md alone
//! (`tests/fixtures/independent/README.md`) give exactly the findings of their `expected.toml`.

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

#[test]
fn independent_bundles_classify() {
    let dir = util::root().join("tests/fixtures/independent");
    let text = std::fs::read_to_string(dir.join("expected.toml")).expect("expected.toml");
    let exp: Expected = toml::from_str(&text).expect("expected.toml parses");
    assert!(exp.bundles.len() >= 45, "the independent set is complete");
    let mut failures = Vec::new();
    for (name, b) in exp.bundles {
        let path = dir.join(&name);
        assert!(path.exists(), "bundle {name} is missing");
        let report = util::analyze(&path);
        let mut want = b.findings.clone();
        want.sort();
        let got = util::finding_keys(&report);
        if got != want {
            failures.push(format!("{name}: expected {want:?}, got {got:?}"));
        }
    }
    assert!(
        failures.is_empty(),
        "independent bundles differ:\n{}",
        failures.join("\n")
    );
}
