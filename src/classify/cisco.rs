//! Section D facts: Cisco IM and Presence calendar integration with Exchange over EWS.
//!
//! Why this module exists: section D findings live on the IM and Presence node, but their evidence
//! is spread over the Presence Gateway capture (statuses per gateway), certificates (the IIS
//! certificate or the cup-trust chain), Cisco traces (Presence Engine starts, changes), Exchange
//! EWS logs and SOAP traces (impersonation and authentication errors) and registry exports
//! (`NTLMMinServerSec`). This module reads them once and states one fact per documented cause,
//! with the gateway-level precedence of causes.md ("one root cause per gateway").

use super::facts::{name_matches, Facts};
use super::rules::FactHit;
use super::Confidence;
use crate::correlate::hosts::host_key;
use crate::correlate::Correlated;
use crate::model::{Body, Event, Props, Value};
use chrono::{DateTime, Duration, Utc};
use std::collections::{BTreeMap, BTreeSet};

/// Fact names this module answers.
pub const FACTS: &[&str] = &[
    "gw-unreachable",
    "gw-network-error",
    "gw-chain-missing",
    "gw-cn-mismatch",
    "gw-san-mismatch",
    "gw-bad-certificate",
    "gw-ssl-failed",
    "gw-wildcard-depth",
    "gw-o365",
    "gw-over-ten",
    "pe-restart-pending",
    "ews-impersonation-denied",
    "ews-ntlmv2-session-security",
    "ews-auth-failed",
    "ews-mailbox-moved",
    "ews-nonexistent-mailbox",
];

/// EWS response codes the section D rules read (formats.md §8.5).
const EWS_CODES: &[&str] = &[
    "ErrorImpersonateUserDenied",
    "ErrorImpersonationDenied",
    "ErrorMailboxMoveInProgress",
    "ErrorNonExistentMailbox",
];

const UNREACHABLE: &str = "Exchange Reachability (unreachable)";
const SSL_FAILED: &str = "SSL Connection/Certificate Verification Failed";
const CHAIN: &str =
    "SSL Connection/Certificate Verification Failed - Certificate Missing From Chain";
const CN: &str = "SSL Connection/Certificate Verification Failed - Subject CN Mismatch";
const SAN: &str = "SSL Connection/Certificate Verification Failed - SAN Mismatch";
const BAD: &str = "SSL Connection/Certificate Verification Failed - Bad Certificates";
const NETWORK: &str = "SSL Connection/Certificate Verification Failed - Network Error";

/// One Presence Gateway as the newest capture of it shows it.
#[derive(Clone, Debug)]
pub struct Gateway {
    pub ev: usize,
    /// Host key of the IM and Presence node the capture comes from.
    pub node: String,
    /// The gateway host (FQDN or IP), lower case.
    pub host: String,
    pub kind: String,
    pub account: Option<String>,
    pub statuses: Vec<String>,
}

impl Gateway {
    fn has(&self, s: &str) -> bool {
        self.statuses.iter().any(|x| x.eq_ignore_ascii_case(s))
    }

    fn is_ews(&self) -> bool {
        let k = self.kind.to_ascii_lowercase();
        k.contains("ews") || k.is_empty()
    }
}

/// A change that needs a Presence Engine restart: a trace line, or a certificate file uploaded to
/// cup-trust (its time stands for the upload).
#[derive(Clone, Debug)]
pub struct Change {
    pub ev: Option<usize>,
    pub node: String,
    pub time: DateTime<Utc>,
    pub what: String,
    /// The file that shows it when no record does.
    pub path: Option<String>,
}

/// One EWS request outcome (Exchange EWS log row or SOAP trace).
#[derive(Clone, Debug)]
pub struct EwsRow {
    pub ev: usize,
    pub user: Option<String>,
    pub impersonated: Option<String>,
    pub code: Option<String>,
    pub http: Option<u16>,
    pub time: Option<DateTime<Utc>>,
    /// Client IP address and user agent, lower case, when the log has them (the first leg of an
    /// NTLM/Negotiate handshake is logged without an account).
    pub client: Option<String>,
}

/// What the bundle says about IM and Presence and its EWS partner.
#[derive(Clone, Debug, Default)]
pub struct CiscoFacts {
    pub gateways: Vec<Gateway>,
    /// Host keys of IM and Presence nodes (Cisco traces, gateway captures, RTMT manifests).
    pub nodes: BTreeSet<String>,
    pub ews: Vec<EwsRow>,
    /// Presence Engine starts: (event, node, time).
    pub pe_starts: Vec<(usize, String, DateTime<Utc>)>,
    /// Changes that need a Presence Engine restart.
    pub changes: Vec<Change>,
    /// `NTLMMinServerSec` with "Require NTLMv2 session security": (event, host key).
    pub ntlm_policy: Vec<(usize, String)>,
}

fn text(p: &Props, name: &str) -> Option<String> {
    match p.get(name)? {
        Value::Text(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        _ => None,
    }
}

fn lower(s: &str) -> String {
    s.to_ascii_lowercase()
}

/// `CONTOSO\svc-cup`, `svc-cup@contoso.com`, `svc-cup` → `svc-cup`.
fn account_key(s: &str) -> String {
    let s = s.trim();
    let s = s.rsplit('\\').next().unwrap_or(s);
    lower(s.split('@').next().unwrap_or(s))
}

fn is_pe_start(msg: &str) -> bool {
    let m = lower(msg);
    (m.contains("presence engine") || m.contains("presenceengine"))
        && (m.contains("started")
            || m.contains("starting")
            || m.contains("start up")
            || m.contains("initialized"))
        && !m.contains("stopp")
}

fn change_of(msg: &str) -> Option<&'static str> {
    let m = lower(msg);
    let changed = [
        "added", "updated", "deleted", "modified", "changed", "uploaded",
    ]
    .iter()
    .any(|w| m.contains(w));
    if !changed {
        return None;
    }
    if m.contains("presence gateway") || m.contains("ews server") || m.contains("calendar gateway")
    {
        Some("an EWS Presence Gateway was changed")
    } else if m.contains("cup-trust") || m.contains("trust certificate") {
        Some("an Exchange trust certificate was uploaded")
    } else if m.contains("service parameter") && (m.contains("calendar") || m.contains("exchange"))
    {
        Some("a calendaring service parameter was changed")
    } else {
        None
    }
}

/// The newest capture of a gateway so far: (file time, path, the gateway).
type Newest = (Option<DateTime<Utc>>, String, Gateway);

/// Reads the Cisco side of the bundle.
pub fn build(c: &Correlated) -> CiscoFacts {
    let mut f = CiscoFacts::default();
    // Gateways: the newest capture of each (node, gateway host) wins (files sorted by mtime, then path).
    let mtime_of: BTreeMap<&str, Option<DateTime<Utc>>> =
        c.files.iter().map(|fi| (&*fi.path, fi.mtime)).collect();
    let mut gw: BTreeMap<(String, String), Newest> = BTreeMap::new();
    for (i, e) in c.events.iter().enumerate() {
        let node = c.host(i).unwrap_or("").to_string();
        match &e.body {
            Body::Object {
                command: Some(cmd),
                props,
                ..
            } if cmd == "PresenceGateway" => {
                let host = text(props, "Host").map(|h| lower(&h)).unwrap_or_default();
                let g = Gateway {
                    ev: i,
                    node: node.clone(),
                    host: host.clone(),
                    kind: text(props, "Type").unwrap_or_default(),
                    account: text(props, "AccountName"),
                    statuses: props
                        .get("Status")
                        .map(|v| v.items().iter().map(|s| s.to_string()).collect())
                        .unwrap_or_default(),
                };
                let when = mtime_of.get(&*e.loc.path).copied().flatten();
                let key = (node.clone(), host);
                let newer = gw
                    .get(&key)
                    .is_none_or(|(t, p, _)| (when, e.loc.path.to_string()) >= (*t, p.clone()));
                if newer {
                    gw.insert(key, (when, e.loc.path.to_string(), g));
                }
                if !node.is_empty() {
                    f.nodes.insert(node);
                }
            }
            Body::Object {
                command: Some(cmd),
                props,
                ..
            } if cmd == "TraceCollectionResult" => {
                if let Some(n) = text(props, "Node").and_then(|n| host_key(&n)) {
                    f.nodes.insert(n);
                }
            }
            Body::LogRow { log_type, fields } if log_type.starts_with("cisco-") => {
                if !node.is_empty() {
                    f.nodes.insert(node.clone());
                }
                let msg = fields.text("msg").unwrap_or("");
                // A trace line naming an EWS error code is an EWS outcome seen from the node.
                if let Some(code) = EWS_CODES.iter().find(|c| msg.contains(*c)) {
                    f.ews.push(EwsRow {
                        ev: i,
                        user: None,
                        impersonated: None,
                        code: Some(code.to_string()),
                        http: None,
                        time: e.time,
                        client: None,
                    });
                }
                if let Some(t) = e.time {
                    if is_pe_start(msg) {
                        f.pe_starts.push((i, node.clone(), t));
                    } else if let Some(what) = change_of(msg) {
                        f.changes.push(Change {
                            ev: Some(i),
                            node: node.clone(),
                            time: t,
                            what: what.to_string(),
                            path: None,
                        });
                    }
                }
            }
            Body::LogRow { log_type, fields } => {
                let is_ews = log_type == "ews-trace"
                    || log_type.to_ascii_lowercase().contains("ews")
                    || (fields.get("SoapAction").is_some() && fields.get("ErrorCode").is_some());
                if is_ews {
                    let code = text(fields, "ErrorCode")
                        .or_else(|| text(fields, "ResponseCode"))
                        .or_else(|| text(fields, "faultcode"))
                        .filter(|c| !c.eq_ignore_ascii_case("NoError"));
                    f.ews.push(EwsRow {
                        ev: i,
                        user: text(fields, "AuthenticatedUser"),
                        impersonated: text(fields, "ImpersonatedUser"),
                        code,
                        http: text(fields, "HttpStatus").and_then(|h| h.parse().ok()),
                        time: e.time,
                        client: text(fields, "ClientIpAddress").map(|ip| {
                            format!(
                                "{} {}",
                                lower(&ip),
                                lower(&text(fields, "UserAgent").unwrap_or_default())
                            )
                        }),
                    });
                }
            }
            Body::RegistryKey { key, values, .. }
                if lower(key).ends_with("\\control\\lsa\\msv1_0") =>
            {
                for v in values
                    .iter()
                    .filter(|v| v.name.eq_ignore_ascii_case("NTLMMinServerSec"))
                {
                    let n = v
                        .data
                        .trim()
                        .trim_start_matches("0x")
                        .trim_start_matches("0X");
                    if u32::from_str_radix(n, 16).is_ok_and(|x| x & 0x0008_0000 != 0) {
                        f.ntlm_policy.push((i, node.clone()));
                    }
                }
            }
            _ => {}
        }
    }
    f.gateways = gw.into_values().map(|(_, _, g)| g).collect();
    // An Exchange trust certificate uploaded to cup-trust: the certificate file's time stands for
    // the upload (INFERRED: the bundle has no upload log). Extracting an archive keeps member times,
    // so loose files count too; a repository checkout does not, which is why the test fixtures
    // that depend on it are stored as archives.
    for fi in &c.files {
        let in_trust = fi.folders.iter().any(|d| lower(d).contains("cup-trust"));
        if let (true, Some(t)) = (in_trust, fi.mtime) {
            let node = crate::correlate::hosts::file_host(fi, &c.hosts)
                .0
                .and_then(|h| host_key(&h))
                .unwrap_or_default();
            f.changes.push(Change {
                ev: None,
                node,
                time: t,
                what: format!("trust certificate {} was uploaded", fi.file_name),
                path: Some(fi.path.to_string()),
            });
        }
    }
    f
}

/// The IM and Presence node that made an EWS request: the node whose gateway uses the account,
/// else the only node, else none.
fn node_for(f: &CiscoFacts, user: Option<&str>) -> Option<String> {
    if let Some(u) = user.map(account_key) {
        if let Some(g) = f
            .gateways
            .iter()
            .find(|g| g.account.as_deref().map(account_key).as_deref() == Some(u.as_str()))
        {
            return Some(g.node.clone());
        }
    }
    (f.nodes.len() == 1)
        .then(|| f.nodes.iter().next().cloned())
        .flatten()
}

/// Evaluates a fact of this module.
pub fn eval(name: &str, facts: &Facts, c: &Correlated) -> Vec<FactHit> {
    let f = &facts.cisco;
    match name {
        "gw-unreachable" => per_gateway(f, |g| g.has(UNREACHABLE), "reports Exchange Reachability (unreachable)"),
        "gw-network-error" => per_gateway(f, |g| g.has(NETWORK) && !g.has(UNREACHABLE), "reports an SSL verification Network Error"),
        "gw-chain-missing" => per_gateway(f, |g| g.has(CHAIN), "reports Certificate Missing From Chain"),
        "gw-cn-mismatch" => per_gateway(f, |g| g.has(CN) && wildcard_depth(facts, g).is_none(), "reports Subject CN Mismatch"),
        "gw-san-mismatch" => per_gateway(f, |g| g.has(SAN) && wildcard_depth(facts, g).is_none(), "reports SAN Mismatch"),
        "gw-bad-certificate" => per_gateway(f, |g| g.has(BAD), "reports Bad Certificates"),
        "gw-ssl-failed" => per_gateway(
            f,
            |g| g.has(SSL_FAILED) && ![CHAIN, CN, SAN, BAD, NETWORK].iter().any(|s| g.has(s)),
            "reports SSL Connection/Certificate Verification Failed without detail",
        ),
        "gw-wildcard-depth" => f
            .gateways
            .iter()
            .filter_map(|g| {
                let (ev, pattern) = wildcard_depth(facts, g)?;
                Some(
                    FactHit::new(&g.node, vec![g.ev, ev])
                        .note(format!(
                            "gateway {} is covered only by the wildcard {pattern}, which matches exactly one label (RFC 6125)",
                            g.host
                        ))
                        .related(&g.host),
                )
            })
            .collect(),
        "gw-o365" => per_gateway(
            f,
            |g| g.is_ews() && (g.host.ends_with("office365.com") || g.host == "outlook.office.com"),
            "is an Exchange - EWS Server gateway to Exchange Online, blocked for non-Microsoft applications from 2026-10-01",
        ),
        "gw-over-ten" => {
            let mut per_node: BTreeMap<&str, Vec<&Gateway>> = BTreeMap::new();
            for g in f.gateways.iter().filter(|g| g.is_ews()) {
                per_node.entry(&g.node).or_default().push(g);
            }
            per_node
                .into_iter()
                .filter(|(_, gs)| gs.len() > 10)
                .map(|(n, gs)| {
                    FactHit::new(n, gs.iter().map(|g| g.ev).collect())
                        .note(format!("{} EWS servers are configured; the gateway status checks only the first 10", gs.len()))
                })
                .collect()
        }
        "pe-restart-pending" => restart_pending(f),
        "ews-impersonation-denied" => ews_code(f, c, &["ErrorImpersonateUserDenied", "ErrorImpersonationDenied"], "EWS denied impersonation to the account"),
        "ews-mailbox-moved" => ews_code(f, c, &["ErrorMailboxMoveInProgress"], "a mailbox move was in progress for the user"),
        "ews-nonexistent-mailbox" => ews_code(
            f,
            c,
            &["ErrorNonExistentMailbox"],
            "EWS found no mailbox for the user name IM and Presence asked for (INFERRED sign that Active Directory and Unified CM user names differ)",
        ),
        "ews-ntlmv2-session-security" => ntlmv2(f, c),
        "ews-auth-failed" => auth_failed(f, c),
        _ => Vec::new(),
    }
}

fn per_gateway(f: &CiscoFacts, pred: impl Fn(&Gateway) -> bool, what: &str) -> Vec<FactHit> {
    f.gateways
        .iter()
        .filter(|g| pred(g))
        .map(|g| {
            FactHit::new(&g.node, vec![g.ev])
                .note(format!(
                    "Presence Gateway {} {what}",
                    if g.host.is_empty() {
                        "(host not captured)"
                    } else {
                        &g.host
                    }
                ))
                .related(&g.host)
        })
        .collect()
}

/// The certificate that counts for a gateway (§8.6: the IIS certificate of the Exchange server,
/// else the cup-trust leaf) covers the host only through a wildcard one label too high.
fn wildcard_depth(facts: &Facts, g: &Gateway) -> Option<(usize, String)> {
    if g.host.is_empty() || g.host.parse::<std::net::IpAddr>().is_ok() {
        return None;
    }
    let mut candidates: Vec<(usize, Vec<String>)> = Vec::new();
    if let Some(hf) = host_key(&g.host).and_then(|k| facts.hosts.get(&k)) {
        for cert in hf.certs.iter().filter(|c| c.is_iis()) {
            candidates.push((
                cert.ev,
                cert.cn()
                    .into_iter()
                    .chain(cert.domains.iter().cloned())
                    .collect(),
            ));
        }
    }
    if candidates.is_empty() {
        candidates = facts.leaf_certs.clone();
    }
    for (ev, names) in candidates {
        if names.iter().any(|n| name_matches(n, &g.host)) {
            return None;
        }
        let deeper = names.iter().find(|n| {
            n.strip_prefix("*.").is_some_and(|base| {
                g.host.ends_with(&format!(".{base}"))
                    && g.host.matches('.').count() > base.matches('.').count() + 1
            })
        });
        if let Some(p) = deeper {
            return Some((ev, p.clone()));
        }
    }
    None
}

fn restart_pending(f: &CiscoFacts) -> Vec<FactHit> {
    let mut out = Vec::new();
    for node in &f.nodes {
        let last_start = f
            .pe_starts
            .iter()
            .filter(|s| &s.1 == node)
            .map(|s| s.2)
            .max();
        let Some(start) = last_start else { continue };
        let late: Vec<&Change> = f
            .changes
            .iter()
            .filter(|ch| (&ch.node == node || ch.node.is_empty()) && ch.time > start)
            .collect();
        if late.is_empty() {
            continue;
        }
        let mut ev: Vec<usize> = late.iter().filter_map(|ch| ch.ev).collect();
        ev.extend(
            f.pe_starts
                .iter()
                .filter(|s| &s.1 == node && s.2 == start)
                .map(|s| s.0),
        );
        let whats: BTreeSet<&str> = late.iter().map(|ch| ch.what.as_str()).collect();
        let mut hit = FactHit::new(node, ev).note(format!(
            "{} after the last Cisco Presence Engine start ({})",
            whats.into_iter().collect::<Vec<_>>().join("; "),
            start.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        ));
        for ch in &late {
            if let Some(p) = &ch.path {
                hit.files.push((p.clone(), ch.what.clone()));
            }
        }
        out.push(hit);
    }
    out
}

fn is_code(row: &EwsRow, codes: &[&str]) -> bool {
    row.code.as_deref().is_some_and(|c| {
        codes
            .iter()
            .any(|x| c.rsplit(':').next().unwrap_or(c).eq_ignore_ascii_case(x))
    })
}

fn ews_host(f: &CiscoFacts, c: &Correlated, row: &EwsRow) -> (String, Vec<String>) {
    if let Some(own) = c.host(row.ev).filter(|h| f.nodes.contains(*h)) {
        return (own.to_string(), Vec::new());
    }
    let exchange = c.host(row.ev).map(|h| c.hosts.display(h));
    match node_for(f, row.user.as_deref()) {
        Some(n) => (n, exchange.into_iter().collect()),
        None => (c.host(row.ev).unwrap_or("").to_string(), Vec::new()),
    }
}

fn ews_code(f: &CiscoFacts, c: &Correlated, codes: &[&str], what: &str) -> Vec<FactHit> {
    let mut per: BTreeMap<String, FactHit> = BTreeMap::new();
    for row in f.ews.iter().filter(|r| is_code(r, codes)) {
        let (host, related) = ews_host(f, c, row);
        let hit = per
            .entry(host.clone())
            .or_insert_with(|| FactHit::new(&host, Vec::new()));
        hit.events.push(row.ev);
        hit.related.extend(related);
        let users: Vec<&str> = row
            .impersonated
            .as_deref()
            .into_iter()
            .chain(row.user.as_deref())
            .collect();
        let code = row.code.clone().unwrap_or_default();
        hit.note.get_or_insert_with(|| {
            format!(
                "{what} ({code}{})",
                if users.is_empty() {
                    String::new()
                } else {
                    format!(", {}", users.join(" as "))
                }
            )
        });
    }
    per.into_values().collect()
}

/// Whether a success can be the second leg of the handshake a 401 started: the same account, or
/// the same client when the 401 names no account (the anonymous first leg), or any success when
/// the 401 carries neither.
fn same_requester(failed: &EwsRow, ok: &EwsRow) -> bool {
    let user = |r: &EwsRow| r.user.as_deref().map(account_key).filter(|u| !u.is_empty());
    match (user(failed), &failed.client) {
        (Some(u), client) => {
            user(ok).as_deref() == Some(u.as_str()) || (client.is_some() && ok.client == *client)
        }
        (None, Some(client)) => ok.client.as_deref() == Some(client.as_str()),
        (None, None) => true,
    }
}

/// EWS 401 rows not followed within a minute by a success of the same requester.
fn unanswered_401(f: &CiscoFacts) -> Vec<&EwsRow> {
    f.ews
        .iter()
        .filter(|r| r.http == Some(401))
        .filter(|r| {
            !f.ews.iter().any(|s| {
                s.http == Some(200)
                    && same_requester(r, s)
                    && match (r.time, s.time) {
                        (Some(a), Some(b)) => b >= a && b - a <= Duration::minutes(1),
                        _ => false,
                    }
            })
        })
        .collect()
}

fn ntlmv2(f: &CiscoFacts, c: &Correlated) -> Vec<FactHit> {
    if f.ntlm_policy.is_empty() {
        return Vec::new();
    }
    let fails = unanswered_401(f);
    if fails.is_empty() {
        return Vec::new();
    }
    let mut per: BTreeMap<String, FactHit> = BTreeMap::new();
    for row in fails {
        let (host, related) = ews_host(f, c, row);
        let hit = per.entry(host.clone()).or_insert_with(|| {
            let mut h = FactHit::new(&host, f.ntlm_policy.iter().map(|p| p.0).collect())
                .note("\"Require NTLMv2 session security\" (NTLMMinServerSec 0x00080000) is set while EWS calls from IM and Presence get HTTP 401; IM and Presence does not support NTLMv2 session security".into());
            h.related.extend(f.ntlm_policy.iter().filter(|p| !p.1.is_empty()).map(|p| c.hosts.display(&p.1)));
            h
        });
        hit.events.push(row.ev);
        hit.related.extend(related);
    }
    per.into_values().collect()
}

fn auth_failed(f: &CiscoFacts, c: &Correlated) -> Vec<FactHit> {
    if !f.ntlm_policy.is_empty() {
        return Vec::new();
    }
    let mut per: BTreeMap<String, FactHit> = BTreeMap::new();
    for row in unanswered_401(f) {
        let (host, related) = ews_host(f, c, row);
        let hit = per
            .entry(host.clone())
            .or_insert_with(|| FactHit::new(&host, Vec::new()).confidence(Confidence::Likely));
        hit.events.push(row.ev);
        hit.related.extend(related);
        let user = row
            .user
            .clone()
            .unwrap_or_else(|| "(account not logged)".into());
        hit.note.get_or_insert_with(|| {
            format!("EWS answered HTTP 401 to {user} with no successful request within a minute")
        });
    }
    per.into_values().collect()
}

/// True for events a section D signal may read (kept by the analysis prefilter).
pub fn is_relevant(e: &Event) -> bool {
    match &e.body {
        Body::LogRow { log_type, .. } => log_type.starts_with("cisco-") || log_type == "ews-trace",
        _ => false,
    }
}
