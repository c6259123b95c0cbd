//! Conventions shared by the SIEM writers (ECS, OCSF, Splunk HEC, CEF).
//!
//! Why this module exists: the four SIEM shapes must agree on the same facts — which time stands
//! for a finding, how our four severities map onto each numeric scale, the product name and
//! version, and the stable identifier of a finding — so that one finding looks like one finding in
//! every tool. Each writer keeps only its own field names; the mapping decisions live here once.

use super::Report;
use crate::classify::catalog::Severity;
use crate::classify::{Confidence, Finding};
use chrono::{DateTime, Utc};

/// Product name in every SIEM header and metadata block.
pub const PRODUCT: &str = "imtriage";
/// The vendor name (the project ships its own analyses).
pub const VENDOR: &str = "imtriage";
/// The crate version, as the product version.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Where a finding's timestamp came from, most trustworthy first.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimeSource {
    /// The earliest timed evidence line.
    FirstSeen,
    /// The bundle's collection time (newest record or member time).
    Collection,
    /// The wall clock of the analysing machine (only with `--stamp`).
    Stamp,
    /// Nothing was timed: the Unix epoch stands in, so that output stays deterministic.
    None,
}

impl TimeSource {
    pub fn as_str(self) -> &'static str {
        match self {
            TimeSource::FirstSeen => "first_seen",
            TimeSource::Collection => "collection_time",
            TimeSource::Stamp => "stamp",
            TimeSource::None => "none",
        }
    }
}

/// The time that stands for a finding: first seen, else the bundle's collection time, else the
/// `--stamp` time, else the Unix epoch. Never the clock unless `stamp` is given.
pub fn finding_time(
    f: &Finding,
    r: &Report,
    stamp: Option<DateTime<Utc>>,
) -> (DateTime<Utc>, TimeSource) {
    if let Some(t) = f.first_seen {
        (t, TimeSource::FirstSeen)
    } else if let Some(t) = r.summary.collection_time {
        (t, TimeSource::Collection)
    } else if let Some(t) = stamp {
        (t, TimeSource::Stamp)
    } else {
        (DateTime::<Utc>::UNIX_EPOCH, TimeSource::None)
    }
}

/// OCSF `severity_id` (1 Informational, 3 Medium, 4 High, 5 Critical); also ECS `event.severity`.
pub fn severity_id(s: Severity) -> u8 {
    match s {
        Severity::Info => 1,
        Severity::Warning => 3,
        Severity::Error => 4,
        Severity::Critical => 5,
    }
}

/// The OCSF caption of [`severity_id`].
pub fn severity_caption(s: Severity) -> &'static str {
    match s {
        Severity::Info => "Informational",
        Severity::Warning => "Medium",
        Severity::Error => "High",
        Severity::Critical => "Critical",
    }
}

/// CEF severity on its 0–10 scale (0–3 low, 4–6 medium, 7–8 high, 9–10 very high).
pub fn cef_severity(s: Severity) -> u8 {
    match s {
        Severity::Info => 3,
        Severity::Warning => 5,
        Severity::Error => 8,
        Severity::Critical => 10,
    }
}

/// OCSF `confidence_id` (1 Low, 2 Medium, 3 High).
pub fn confidence_id(c: Confidence) -> u8 {
    match c {
        Confidence::Confirmed => 3,
        Confidence::Likely => 2,
        Confidence::Possible => 1,
    }
}

/// The OCSF caption of [`confidence_id`].
pub fn confidence_caption(c: Confidence) -> &'static str {
    match c {
        Confidence::Confirmed => "High",
        Confidence::Likely => "Medium",
        Confidence::Possible => "Low",
    }
}

/// FNV-1a, 64 bits: small, dependency-free and stable across platforms and releases.
fn fnv1a(bytes: &[u8], seed: u64) -> u64 {
    let mut h = seed;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// A stable identifier of a finding from fields that do not depend on where or when the bundle
/// was analysed: cause id, host, and the first evidence line's bundle path and position. The same
/// finding in a re-run (or on another machine) gets the same id, so SIEMs can de-duplicate.
pub fn finding_uid(f: &Finding) -> String {
    let mut key = format!("{}\u{1f}{}", f.id, f.host.to_ascii_lowercase());
    if let Some(e) = f.evidence.first() {
        key.push_str(&format!(
            "\u{1f}{}\u{1f}{}\u{1f}{}",
            e.path, e.line, e.record
        ));
    }
    // Two differently seeded passes make a 128-bit id, so collisions are not a practical concern.
    let a = fnv1a(key.as_bytes(), 0xcbf2_9ce4_8422_2325);
    let b = fnv1a(key.as_bytes(), 0x6c62_272e_07bb_0142);
    format!("{a:016x}{b:016x}")
}

/// Milliseconds since the Unix epoch.
pub fn epoch_ms(t: &DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

/// Seconds since the Unix epoch as a JSON number: an integer when whole, else with milliseconds.
pub fn epoch_seconds(t: &DateTime<Utc>) -> serde_json::Value {
    let ms = t.timestamp_millis();
    if ms % 1000 == 0 {
        serde_json::json!(ms / 1000)
    } else {
        // Exact to the millisecond: a decimal string parsed back into a JSON number.
        let text = format!("{}.{:03}", ms.div_euclid(1000), ms.rem_euclid(1000));
        serde_json::from_str(&text).unwrap_or_else(|_| serde_json::json!(ms / 1000))
    }
}

/// `path:line`, `path (record n)` or `path`, as the human report writes a place.
pub fn place(path: &str, line: u64, record: u64) -> String {
    match (line, record) {
        (0, 0) => path.to_string(),
        (0, r) => format!("{path} (record {r})"),
        (l, _) => format!("{path}:{l}"),
    }
}

/// One sentence that says what was found where: the `message` of every SIEM shape.
pub fn message(f: &Finding) -> String {
    let mut m = format!(
        "{} on {} ({}, {})",
        f.title,
        f.host,
        f.severity.as_str(),
        f.confidence.as_str()
    );
    for n in &f.notes {
        m.push_str("; ");
        m.push_str(n);
    }
    m
}

/// ECS categorisation of a cause: `event.category` values (the `event.type` is `info`, which
/// every category used here allows).
pub fn ecs_categories(id: &str) -> Vec<&'static str> {
    if id.contains("ucma") || id.contains("runtime") {
        vec!["package", "host"]
    } else if id.contains("cert") || id.contains("thumbprint") {
        vec!["configuration", "authentication"]
    } else if id.contains("unsupported") {
        vec!["configuration", "package"]
    } else {
        vec!["configuration", "web"]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epoch_seconds_keeps_milliseconds_exactly() {
        let t = DateTime::parse_from_rfc3339("2024-05-01T10:31:00.250Z")
            .expect("valid")
            .with_timezone(&Utc);
        assert_eq!(epoch_seconds(&t).to_string(), "1714559460.25");
        let whole = DateTime::parse_from_rfc3339("2024-05-01T10:31:00Z")
            .expect("valid")
            .with_timezone(&Utc);
        assert_eq!(epoch_seconds(&whole).to_string(), "1714559460");
        assert_eq!(epoch_ms(&whole), 1_714_559_460_000);
    }

    #[test]
    fn fnv_is_the_published_function() {
        // FNV-1a 64 test vector: "a" -> 0xaf63dc4c8601ec8c.
        assert_eq!(fnv1a(b"a", 0xcbf2_9ce4_8422_2325), 0xaf63_dc4c_8601_ec8c);
    }
}
