//! The cause catalog as data: one TOML file per cause in `grammars/causes/`, embedded in the binary.
//!
//! Why this module exists: causes.md is a contract that support engineers read and extend. Keeping
//! each cause's signals, precedence, fix template and sources in a TOML file (rather than in code)
//! lets `--catalog DIR` add or override causes without a rebuild, and lets `imtriage causes` /
//! `imtriage explain` print exactly what the engine runs. Code keeps only what data cannot say well:
//! the named cross-record facts (see `facts.rs`), referenced here by name and checked by [`lint`].

use regex::Regex;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

/// The built-in catalog, one file per cause.
const BUILTIN: &[(&str, &str)] = &[
    (
        "owa-im-thumbprint-empty",
        include_str!("../../grammars/causes/owa-im-thumbprint-empty.toml"),
    ),
    (
        "owa-im-servername-empty",
        include_str!("../../grammars/causes/owa-im-servername-empty.toml"),
    ),
    (
        "owa-im-user-not-enabled",
        include_str!("../../grammars/causes/owa-im-user-not-enabled.toml"),
    ),
    (
        "owa-im-webconfig-on-2016plus",
        include_str!("../../grammars/causes/owa-im-webconfig-on-2016plus.toml"),
    ),
    (
        "owa-im-override-not-applied",
        include_str!("../../grammars/causes/owa-im-override-not-applied.toml"),
    ),
    (
        "owa-im-override-server-fqdn",
        include_str!("../../grammars/causes/owa-im-override-server-fqdn.toml"),
    ),
    (
        "owa-im-thumbprint-stale",
        include_str!("../../grammars/causes/owa-im-thumbprint-stale.toml"),
    ),
    (
        "owa-im-cert-invalid",
        include_str!("../../grammars/causes/owa-im-cert-invalid.toml"),
    ),
    (
        "ucma-runtime-missing",
        include_str!("../../grammars/causes/ucma-runtime-missing.toml"),
    ),
    (
        "owa-im-type-not-ocs",
        include_str!("../../grammars/causes/owa-im-type-not-ocs.toml"),
    ),
    (
        "owa-im-not-initialized",
        include_str!("../../grammars/causes/owa-im-not-initialized.toml"),
    ),
    (
        "lync2013-exchange2016-unsupported",
        include_str!("../../grammars/causes/lync2013-exchange2016-unsupported.toml"),
    ),
    (
        "exchange-autodiscover-uri-missing",
        include_str!("../../grammars/causes/exchange-autodiscover-uri-missing.toml"),
    ),
    (
        "duplicate-trusted-pool",
        include_str!("../../grammars/causes/duplicate-trusted-pool.toml"),
    ),
    (
        "trusted-app-fqdn-mismatch",
        include_str!("../../grammars/causes/trusted-app-fqdn-mismatch.toml"),
    ),
    (
        "sip-tls-cert-mismatch",
        include_str!("../../grammars/causes/sip-tls-cert-mismatch.toml"),
    ),
    (
        "sip-tls-untrusted-root",
        include_str!("../../grammars/causes/sip-tls-untrusted-root.toml"),
    ),
    (
        "oauth-autodiscover-url",
        include_str!("../../grammars/causes/oauth-autodiscover-url.toml"),
    ),
    (
        "s2s-oauth-cert-invalid",
        include_str!("../../grammars/causes/s2s-oauth-cert-invalid.toml"),
    ),
    (
        "client-autodiscover-dns-missing",
        include_str!("../../grammars/causes/client-autodiscover-dns-missing.toml"),
    ),
    (
        "client-mapi-profile-mismatch",
        include_str!("../../grammars/causes/client-mapi-profile-mismatch.toml"),
    ),
    (
        "client-cert-untrusted",
        include_str!("../../grammars/causes/client-cert-untrusted.toml"),
    ),
    (
        "cup-ad-username-mismatch",
        include_str!("../../grammars/causes/cup-ad-username-mismatch.toml"),
    ),
    (
        "cup-ews-auth-failed",
        include_str!("../../grammars/causes/cup-ews-auth-failed.toml"),
    ),
    (
        "cup-ews-bad-certificate",
        include_str!("../../grammars/causes/cup-ews-bad-certificate.toml"),
    ),
    (
        "cup-ews-cert-chain-missing",
        include_str!("../../grammars/causes/cup-ews-cert-chain-missing.toml"),
    ),
    (
        "cup-ews-cn-mismatch",
        include_str!("../../grammars/causes/cup-ews-cn-mismatch.toml"),
    ),
    (
        "cup-ews-network-error",
        include_str!("../../grammars/causes/cup-ews-network-error.toml"),
    ),
    (
        "cup-ews-o365-retired",
        include_str!("../../grammars/causes/cup-ews-o365-retired.toml"),
    ),
    (
        "cup-ews-san-mismatch",
        include_str!("../../grammars/causes/cup-ews-san-mismatch.toml"),
    ),
    (
        "cup-ews-ssl-failed",
        include_str!("../../grammars/causes/cup-ews-ssl-failed.toml"),
    ),
    (
        "cup-ews-unreachable",
        include_str!("../../grammars/causes/cup-ews-unreachable.toml"),
    ),
    (
        "cup-impersonation-denied",
        include_str!("../../grammars/causes/cup-impersonation-denied.toml"),
    ),
    (
        "cup-ntlmv2-session-security",
        include_str!("../../grammars/causes/cup-ntlmv2-session-security.toml"),
    ),
    (
        "cup-pe-restart-pending",
        include_str!("../../grammars/causes/cup-pe-restart-pending.toml"),
    ),
    (
        "cup-troubleshooter-limit",
        include_str!("../../grammars/causes/cup-troubleshooter-limit.toml"),
    ),
    (
        "cup-user-moved",
        include_str!("../../grammars/causes/cup-user-moved.toml"),
    ),
    (
        "cup-wildcard-depth",
        include_str!("../../grammars/causes/cup-wildcard-depth.toml"),
    ),
];

/// Finding severity, most severe first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Critical,
    Error,
    Warning,
    Info,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Critical => "critical",
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "info",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a signal does to a finding (causes.md "How to read a rule").
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Enough for a finding alone.
    Strong,
    /// Raises confidence and is listed as evidence; never creates a finding alone.
    Supporting,
    /// A later hit on the same host clears the clearable strong signals (recovery).
    Contradicting,
}

/// A Windows event identity (causes.md "Matching": channel, provider, EventID & 0xFFFF).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventMatch {
    #[serde(default)]
    pub channel: Option<String>,
    #[serde(default)]
    pub provider: Option<String>,
    pub ids: Vec<u32>,
    /// Regex over the event's text (insertion strings and description), when the identity alone is
    /// not specific enough (LS Protocol Stack 14428 names several failures).
    #[serde(default)]
    pub text: Option<String>,
}

/// Which side logged a SIP record (causes.md "Which log says it").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum SipSource {
    /// Server traces (SIPStack) only.
    #[default]
    Server,
    /// Client logs (UccApi) only.
    Client,
}

/// A SIPStack or UccApi record: every given condition must hold; a list holds when any of its
/// items is present.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SipMatch {
    #[serde(default)]
    pub source: SipSource,
    /// Result codes / HRESULTs as `0xXXXXXXXX` (compared case-insensitively with the record's codes).
    #[serde(default)]
    pub codes: Vec<String>,
    /// `ms-diagnostics` error ids.
    #[serde(default)]
    pub diagnostics: Vec<u32>,
    /// Regex over the record's text (text, fields, headers, codes, diagnostic attributes).
    #[serde(default)]
    pub text: Option<String>,
}

/// A Managed Availability event for a monitor (EventXML `Monitor`, `HealthSet`).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MonitorMatch {
    /// Regex over the `Monitor` value (case-insensitive).
    pub monitor: String,
    pub ids: Vec<u32>,
}

/// One condition on a property of a PowerShell object.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PropCond {
    pub property: String,
    /// Case-insensitive equality with the scalar text.
    #[serde(default)]
    pub equals: Option<String>,
    /// Case-insensitive regex over the scalar text (or any list item).
    #[serde(default)]
    pub matches: Option<String>,
    /// `true`: the property is null, empty or absent; `false`: it has a value.
    #[serde(default)]
    pub empty: Option<bool>,
}

/// A PowerShell object of one of `commands` whose properties meet every condition.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ObjectMatch {
    pub commands: Vec<String>,
    #[serde(rename = "where")]
    pub conditions: Vec<PropCond>,
}

/// One signal of a cause: exactly one of `event`, `monitor`, `text`, `object`, `fact`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignalSpec {
    pub name: String,
    pub role: Role,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub event: Option<EventMatch>,
    #[serde(default)]
    pub monitor: Option<MonitorMatch>,
    /// Regex over a record's text (event data and description, log fields, property values), with
    /// runs of white space collapsed; matched case-insensitively.
    #[serde(default)]
    pub text: Option<String>,
    #[serde(default)]
    pub object: Option<ObjectMatch>,
    #[serde(default)]
    pub sip: Option<SipMatch>,
    /// Name of a built-in cross-record fact (facts.rs).
    #[serde(default)]
    pub fact: Option<String>,
    /// Severity of a finding made of this signal alone (e.g. a warning about the future).
    #[serde(default)]
    pub severity: Option<Severity>,
    /// Whether a later recovery signal clears this one (default true; false for warnings about the
    /// future and per-connection failures, causes.md "Recovery suppresses").
    #[serde(default = "yes")]
    pub clearable: bool,
}

fn yes() -> bool {
    true
}

/// One fix step; `when` restricts it to an Exchange generation (`2013`, `2016+`).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FixStep {
    #[serde(default)]
    pub when: Option<String>,
    /// Text with `{name|default}` placeholders filled from the bundle.
    pub text: String,
}

/// One cause of the catalog.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Cause {
    pub id: String,
    pub title: String,
    /// causes.md section letter.
    pub section: String,
    pub severity: Severity,
    #[serde(default)]
    pub applies_to: Vec<String>,
    /// Which host carries the finding, in words (causes.md conventions).
    pub host: String,
    /// What the cause means, for `explain`.
    pub summary: String,
    /// Causes that are the deeper root cause when both hold on one host: this finding is then
    /// merged into theirs as evidence. `*` means any other cause on the host.
    #[serde(default)]
    pub yields_to: Vec<String>,
    /// Evidence kinds this cause reads (summary names the absent ones).
    #[serde(default)]
    pub needs: Vec<String>,
    pub signals: Vec<SignalSpec>,
    pub fix: Vec<FixStep>,
    pub sources: Vec<String>,
}

/// A problem with a catalog file.
#[derive(Debug, Clone, PartialEq)]
pub struct CatalogError {
    pub file: String,
    pub message: String,
}

impl fmt::Display for CatalogError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.file, self.message)
    }
}

impl std::error::Error for CatalogError {}

/// The loaded catalog, ordered by id.
#[derive(Clone, Debug, Default)]
pub struct Catalog {
    pub causes: BTreeMap<String, Cause>,
}

impl Catalog {
    /// The embedded catalog.
    pub fn builtin() -> Result<Catalog, CatalogError> {
        let mut c = Catalog::default();
        for (name, text) in BUILTIN {
            c.add_text(&format!("grammars/causes/{name}.toml"), text)?;
        }
        Ok(c)
    }

    /// The embedded catalog extended (or overridden, by id) with every `*.toml` in `dir`.
    pub fn with_dir(mut self, dir: &Path) -> Result<Catalog, CatalogError> {
        let rd = std::fs::read_dir(dir).map_err(|e| CatalogError {
            file: dir.display().to_string(),
            message: format!("cannot read catalog folder: {e}"),
        })?;
        let mut files: Vec<_> = rd
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "toml"))
            .collect();
        files.sort();
        for p in files {
            let text = std::fs::read_to_string(&p).map_err(|e| CatalogError {
                file: p.display().to_string(),
                message: format!("cannot read: {e}"),
            })?;
            self.add_text(&p.display().to_string(), &text)?;
        }
        Ok(self)
    }

    /// Parses one cause file and adds it (replacing a cause of the same id).
    pub fn add_text(&mut self, file: &str, text: &str) -> Result<(), CatalogError> {
        let cause: Cause = toml::from_str(text).map_err(|e| CatalogError {
            file: file.to_string(),
            message: e.to_string().trim().to_string(),
        })?;
        let problems = lint_cause(&cause);
        if let Some(p) = problems.first() {
            return Err(CatalogError {
                file: file.to_string(),
                message: p.clone(),
            });
        }
        self.causes.insert(cause.id.clone(), cause);
        Ok(())
    }

    pub fn get(&self, id: &str) -> Option<&Cause> {
        self.causes.get(id)
    }
}

/// Checks one cause: id shape, exactly one matcher per signal, regexes compile, known facts and
/// evidence kinds, at least one strong signal, a fix and a source.
pub fn lint_cause(c: &Cause) -> Vec<String> {
    let mut out = Vec::new();
    if c.id.is_empty()
        || !c
            .id
            .chars()
            .all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '-')
    {
        out.push(format!("id {:?} is not kebab-case", c.id));
    }
    if !c.signals.iter().any(|s| s.role == Role::Strong) {
        out.push("no strong signal: the cause could never be reported".into());
    }
    let mut names = std::collections::BTreeSet::new();
    for s in &c.signals {
        if !names.insert(&s.name) {
            out.push(format!("signal {:?} defined twice", s.name));
        }
        let kinds = [
            s.sip.is_some(),
            s.event.is_some(),
            s.monitor.is_some(),
            s.text.is_some(),
            s.object.is_some(),
            s.fact.is_some(),
        ]
        .iter()
        .filter(|b| **b)
        .count();
        if kinds != 1 {
            out.push(format!(
                "signal {:?} needs exactly one of event, monitor, text, object, sip, fact",
                s.name
            ));
        }
        for re in [
            s.text.as_deref(),
            s.monitor.as_ref().map(|m| m.monitor.as_str()),
            s.event.as_ref().and_then(|e| e.text.as_deref()),
            s.sip.as_ref().and_then(|m| m.text.as_deref()),
        ]
        .into_iter()
        .flatten()
        {
            if let Err(e) = Regex::new(re) {
                out.push(format!("signal {:?}: bad regex: {e}", s.name));
            }
        }
        if let Some(m) = &s.sip {
            if m.codes.is_empty() && m.diagnostics.is_empty() && m.text.is_none() {
                out.push(format!("signal {:?}: sip matcher tests nothing", s.name));
            }
            for code in &m.codes {
                let hex = code
                    .strip_prefix("0x")
                    .or_else(|| code.strip_prefix("0X"))
                    .unwrap_or("");
                if hex.len() != 8 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
                    out.push(format!(
                        "signal {:?}: code {code:?} is not 0xXXXXXXXX",
                        s.name
                    ));
                }
            }
        }
        if let Some(o) = &s.object {
            for cond in &o.conditions {
                if let Some(re) = &cond.matches {
                    if let Err(e) = Regex::new(re) {
                        out.push(format!("signal {:?}: bad regex: {e}", s.name));
                    }
                }
                if cond.equals.is_none() && cond.matches.is_none() && cond.empty.is_none() {
                    out.push(format!(
                        "signal {:?}: condition on {:?} tests nothing",
                        s.name, cond.property
                    ));
                }
            }
        }
        if let Some(f) = &s.fact {
            if !super::rules::is_fact(f) {
                out.push(format!("signal {:?}: unknown fact {f:?}", s.name));
            }
        }
    }
    for n in &c.needs {
        if !super::evidence::KINDS.iter().any(|k| k.id == n) {
            out.push(format!("unknown evidence kind {n:?}"));
        }
    }
    if c.fix.is_empty() {
        out.push("no fix steps".into());
    }
    if c.sources.is_empty() {
        out.push("no sources".into());
    }
    for w in c.fix.iter().filter_map(|f| f.when.as_deref()) {
        if !matches!(w, "2010" | "2013" | "2016+") {
            out.push(format!(
                "fix step condition {w:?} is not one of 2010, 2013, 2016+"
            ));
        }
    }
    out
}

/// Lints a whole catalog: every cause plus references between causes.
pub fn lint(c: &Catalog) -> Vec<String> {
    let mut out = Vec::new();
    for (id, cause) in &c.causes {
        for p in lint_cause(cause) {
            out.push(format!("{id}: {p}"));
        }
        for y in &cause.yields_to {
            if y != "*" && !c.causes.contains_key(y) {
                out.push(format!("{id}: yields_to names unknown cause {y:?}"));
            }
        }
    }
    out
}
