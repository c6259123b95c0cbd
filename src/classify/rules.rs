//! The named facts that catalog signals reference with `fact = "…"`.
//!
//! Why this module exists: some signals of causes.md relate several records (a configured value
//! and the certificate list, an override's time and a later alert). They are computed here, from
//! [`Facts`], and each returns the hosts it holds on with the records that prove it. The catalog
//! decides whether a fact is strong, supporting or contradicting for a cause; this module only
//! states facts. Every name in [`FACTS`] is checked by the catalog lint.

use super::facts::{norm_thumbprint, Facts, ImKey};
use super::Confidence;
use crate::correlate::hosts::host_key;
use crate::correlate::Correlated;
use crate::model::Body;
use chrono::{DateTime, Utc};

/// Whether a fact name is known to this module, `lync.rs` or `client.rs`.
pub fn is_fact(name: &str) -> bool {
    FACTS.contains(&name)
        || super::lync::FACTS.contains(&name)
        || super::client::FACTS.contains(&name)
        || super::cisco::FACTS.contains(&name)
}

/// Every section A fact name a catalog may use (see also `lync::FACTS`, `client::FACTS`).
pub const FACTS: &[&str] = &[
    "im-thumbprint-configured-nowhere",
    "im-servername-configured-nowhere",
    "webconfig-im-keys-on-2016plus",
    "override-not-applied",
    "override-server-fqdn",
    "im-thumbprint-not-iis",
    "im-cert-expired-or-no-key",
    "ucma-dll-path-bad",
    "vdir-im-not-ocs",
    "mailbox-policy-im-not-ocs",
    "owa-log-without-im-folder",
    "pool-older-than-2015",
];

/// A fact that holds on one host.
#[derive(Clone, Debug)]
pub struct FactHit {
    pub host: String,
    /// Records that prove it.
    pub events: Vec<usize>,
    /// Proof that is a file or folder rather than a record: (path, what it shows).
    pub files: Vec<(String, String)>,
    pub confidence: Confidence,
    /// A sentence for the report (what was compared, what was missing).
    pub note: Option<String>,
    pub related: Vec<String>,
    /// Values for the fix template that only this fact knows (`domain`, `subject_fqdn`, ...).
    pub values: Vec<(String, String)>,
}

impl FactHit {
    pub(crate) fn new(host: &str, events: Vec<usize>) -> FactHit {
        FactHit {
            host: host.to_string(),
            events,
            files: Vec::new(),
            confidence: Confidence::Confirmed,
            note: None,
            related: Vec::new(),
            values: Vec::new(),
        }
    }

    pub(crate) fn note(mut self, note: String) -> FactHit {
        self.note = Some(note);
        self
    }

    /// Adds a related host (ignored when empty).
    pub(crate) fn related(mut self, host: &str) -> FactHit {
        if !host.is_empty() {
            self.related.push(host.to_string());
        }
        self
    }

    pub(crate) fn confidence(mut self, c: Confidence) -> FactHit {
        self.confidence = c;
        self
    }
}

/// Evaluates a named fact over the bundle. Unknown names hold nowhere (the lint rejects them).
pub fn eval(name: &str, f: &Facts, c: &Correlated) -> Vec<FactHit> {
    match name {
        "im-thumbprint-configured-nowhere" => configured_nowhere(f, ImKey::Thumbprint),
        "im-servername-configured-nowhere" => configured_nowhere(f, ImKey::ServerName),
        "webconfig-im-keys-on-2016plus" => webconfig_on_2016plus(f, c),
        "override-not-applied" => override_not_applied(f, c),
        "override-server-fqdn" => override_server_fqdn(f),
        "im-thumbprint-not-iis" => thumbprint_not_iis(f),
        "im-cert-expired-or-no-key" => cert_expired_or_no_key(f, c),
        "ucma-dll-path-bad" => ucma_dll_path_bad(f),
        "vdir-im-not-ocs" => vdir_not_ocs(f),
        "mailbox-policy-im-not-ocs" => policy_not_ocs(f),
        "owa-log-without-im-folder" => owa_log_without_im(f),
        "pool-older-than-2015" => pool_too_old(f, c),
        n if super::lync::FACTS.contains(&n) => super::lync::eval(n, f, c),
        n if super::cisco::FACTS.contains(&n) => super::cisco::eval(n, f, c),
        n => super::client::eval(n, c),
    }
}

/// Supporting: the value is empty everywhere the host reads it.
fn configured_nowhere(f: &Facts, key: ImKey) -> Vec<FactHit> {
    let mut out = Vec::new();
    for (h, hf) in &f.hosts {
        if !f.configured(h, key).is_empty() {
            continue;
        }
        let v = f.version(h);
        let mut ev = Vec::new();
        if v.is_none_or(|v| v.year() == 2013) {
            ev.extend(hf.webconfig.iter().map(|w| w.0));
        }
        if v.is_none_or(|v| v.year() <= 2013) {
            ev.extend(
                hf.vdirs
                    .iter()
                    .filter(|d| {
                        d.im_type
                            .as_deref()
                            .is_some_and(|t| t.eq_ignore_ascii_case("ocs"))
                    })
                    .map(|d| d.ev),
            );
        }
        if v.is_none_or(|v| v.is_2016_plus()) && f.org.override_capture {
            ev.extend(f.org.overrides.iter().map(|o| o.ev));
        }
        if !ev.is_empty() {
            let note = format!(
                "{} is not set in any configuration the server reads",
                key.override_param()
            );
            out.push(FactHit::new(h, ev).note(note));
        }
    }
    out
}

fn webconfig_on_2016plus(f: &Facts, c: &Correlated) -> Vec<FactHit> {
    let mut out = Vec::new();
    for (h, hf) in &f.hosts {
        let keys: Vec<usize> = hf
            .webconfig
            .iter()
            .filter(|w| w.1.is_some() || w.2.is_some())
            .map(|w| w.0)
            .collect();
        if keys.is_empty() {
            continue;
        }
        if f.applicable_override(h).is_some() {
            continue;
        }
        let mut hit = match f.hosts.get(h).and_then(|x| x.version) {
            Some((v, vev)) if v.is_2016_plus() => {
                let mut ev = keys.clone();
                ev.push(vev);
                FactHit::new(h, ev).note(format!(
                    "Exchange {} reads IM settings from a setting override only; the web.config keys are ignored",
                    v.year()
                ))
            }
            Some(_) => continue,
            None => {
                // Version unknown: only with the alert that names web.config (causes.md: possible).
                let alert: Vec<usize> = hf
                    .im_failures
                    .iter()
                    .copied()
                    .filter(|i| {
                        super::record_text(&c.events[*i])
                            .to_ascii_lowercase()
                            .contains("on web.config")
                    })
                    .collect();
                if alert.is_empty() {
                    continue;
                }
                let mut ev = keys.clone();
                ev.extend(alert);
                FactHit::new(h, ev)
                    .confidence(Confidence::Possible)
                    .note("the Exchange version was not found in the bundle (no Get-ExchangeServer capture)".into())
            }
        };
        if !f.org.override_capture && hit.confidence == Confidence::Confirmed {
            let why = if f.org.override_capture_damaged {
                "the Get-SettingOverride capture could not be read completely"
            } else {
                "no Get-SettingOverride capture"
            };
            hit = hit.confidence(Confidence::Likely).note(format!(
                "{why}: an override may exist that the bundle does not show"
            ));
        }
        out.push(hit);
    }
    out
}

fn override_not_applied(f: &Facts, c: &Correlated) -> Vec<FactHit> {
    let mut out = Vec::new();
    for (h, hf) in &f.hosts {
        if f.version(h).is_some_and(|v| !v.is_2016_plus()) {
            continue;
        }
        let Some(o) = f.applicable_override(h) else {
            continue;
        };
        let (Some(sn), Some(tp)) = (o.param("IMServerName"), o.param("IMCertificateThumbprint"))
        else {
            continue;
        };
        // The running configuration lacks the override's values.
        for (ev, dsn, dtp) in &hf.diag_im {
            let same_sn = dsn.as_deref().is_some_and(|d| d.eq_ignore_ascii_case(sn));
            let same_tp = dtp
                .as_deref()
                .is_some_and(|d| norm_thumbprint(d) == norm_thumbprint(tp));
            if !(same_sn && same_tp) {
                out.push(FactHit::new(h, vec![o.ev, *ev]).note(format!(
                    "override {:?} sets IMServerName={sn} and IMCertificateThumbprint={tp}, but the running VariantConfiguration shows IMServerName={} IMCertificateThumbprint={}",
                    o.name,
                    dsn.as_deref().unwrap_or("(empty)"),
                    dtp.as_deref().unwrap_or("(empty)")
                )));
            }
        }
        // An IM alert after the override was made, with no success after it.
        let Some(when) = o.when else { continue };
        let time = |i: &usize| c.events[*i].time;
        // Only the configuration-check failures count: the OWA.Protocol.Dep alert (Managed
        // Availability event 4) and events 100/101. A certificate or UCMA failure (83-88, 102-105)
        // is a more specific cause of its own.
        let late: Vec<usize> = hf
            .im_failures
            .iter()
            .copied()
            .filter(|i| is_config_check_failure(&c.events[*i]))
            .filter(|i| time(i).is_some_and(|t| t > when))
            .collect();
        let Some(last) = late.iter().filter_map(time).max() else {
            continue;
        };
        let recovered = hf
            .im_successes
            .iter()
            .any(|i| time(i).is_some_and(|t| t > last));
        if !recovered && !out.iter().any(|x: &FactHit| x.host == *h) {
            let mut ev = vec![o.ev];
            ev.extend(late);
            out.push(FactHit::new(h, ev).note(format!(
                "override {:?} (changed {}) is complete, yet IM failed to initialise after it",
                o.name,
                when.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
            )));
        }
    }
    out
}

/// The OWA.Protocol.Dep alert or the configuration-check events 100/101.
fn is_config_check_failure(e: &crate::model::Event) -> bool {
    match &e.body {
        Body::WinEvent(w) if w.provider.eq_ignore_ascii_case(super::facts::OWA_PROVIDER) => {
            matches!(w.event_id, 100 | 101)
        }
        Body::WinEvent(w) => w.event_id == 4,
        _ => false,
    }
}

fn override_server_fqdn(f: &Facts) -> Vec<FactHit> {
    let mut out = Vec::new();
    for o in &f.org.overrides {
        for s in o.servers.iter().filter(|s| s.contains('.')) {
            if let Some(h) = host_key(s) {
                out.push(FactHit::new(&h, vec![o.ev]).note(format!(
                    "override {:?} targets {s:?}, an FQDN; -Server takes the server name, so it applies to no server",
                    o.name
                )));
            }
        }
    }
    out
}

fn thumbprint_not_iis(f: &Facts) -> Vec<FactHit> {
    let mut out = Vec::new();
    for (h, hf) in &f.hosts {
        if hf.certs.is_empty() {
            continue;
        }
        if let Some((tp, ev)) = f.configured(h, ImKey::Thumbprint).into_iter().next() {
            let n = norm_thumbprint(&tp);
            let iis: Vec<_> = hf.certs.iter().filter(|c| c.is_iis()).collect();
            let found = hf.certs.iter().find(|c| c.thumbprint == n);
            let mut evs = vec![ev];
            evs.extend(iis.iter().map(|c| c.ev));
            let current = iis
                .first()
                .map(|c| c.thumbprint.clone())
                .unwrap_or_else(|| "(none bound to IIS)".into());
            match found {
                None => out.push(FactHit::new(h, evs).note(format!(
                    "configured IM thumbprint {n} is not a certificate of this server; the IIS certificate is {current}"
                ))),
                Some(c) if !c.is_iis() && !iis.is_empty() => out.push(FactHit::new(h, evs).note(format!(
                    "configured IM thumbprint {n} is not the certificate bound to IIS ({current})"
                ))),
                _ => {}
            }
        }
    }
    out
}

fn cert_expired_or_no_key(f: &Facts, c: &Correlated) -> Vec<FactHit> {
    let mut out = Vec::new();
    for (h, hf) in &f.hosts {
        let failure_time: Option<DateTime<Utc>> = hf
            .im_failures
            .iter()
            .filter_map(|i| c.events[*i].time)
            .max();
        let now = failure_time.or(c.collection_time);
        for (tp, ev) in f.configured(h, ImKey::Thumbprint).into_iter().take(1) {
            let n = norm_thumbprint(&tp);
            let Some(cert) = hf.certs.iter().find(|c| c.thumbprint == n) else {
                continue;
            };
            if let (Some(na), Some(now)) = (cert.not_after, now) {
                if na < now {
                    out.push(FactHit::new(h, vec![ev, cert.ev]).note(format!(
                        "IM certificate {n} expired on {}",
                        na.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
                    )));
                    continue;
                }
            }
            if cert.has_private_key == Some(false) {
                out.push(
                    FactHit::new(h, vec![ev, cert.ev])
                        .note(format!("IM certificate {n} has no private key")),
                );
            }
        }
    }
    out
}

fn ucma_dll_path_bad(f: &Facts) -> Vec<FactHit> {
    let mut out = Vec::new();
    for (h, hf) in &f.hosts {
        for (ev, dll) in &hf.registry {
            let bad = match dll {
                None => Some("ImplementationDLLPath is missing".to_string()),
                Some(p) if !p.to_ascii_lowercase().ends_with("microsoft.rtc.internal.ucweb.dll") => {
                    Some(format!("ImplementationDLLPath {p:?} does not name Microsoft.Rtc.Internal.Ucweb.dll"))
                }
                _ => None,
            };
            if let Some(note) = bad {
                out.push(FactHit::new(h, vec![*ev]).note(note));
            }
        }
    }
    out
}

fn vdir_not_ocs(f: &Facts) -> Vec<FactHit> {
    let mut out = Vec::new();
    for (h, hf) in &f.hosts {
        let v = f.version(h);
        if v.is_some_and(|v| v.is_2016_plus()) {
            continue;
        }
        let elsewhere = f.applicable_override(h).is_some_and(|o| {
            o.param("IMServerName").is_some() || o.param("IMCertificateThumbprint").is_some()
        }) || hf.webconfig.iter().any(|w| w.1.is_some() || w.2.is_some());
        if !elsewhere {
            continue;
        }
        for d in &hf.vdirs {
            let (ev, ty, enabled) = (&d.ev, &d.im_type, &d.enabled);
            let none = ty
                .as_deref()
                .is_some_and(|t| !t.eq_ignore_ascii_case("ocs"));
            if none || *enabled == Some(false) {
                let mut hit = FactHit::new(h, vec![*ev]).note(format!(
                    "OWA virtual directory has InstantMessagingType={} InstantMessagingEnabled={} while IM is configured in web.config or an override",
                    ty.as_deref().unwrap_or("(empty)"),
                    enabled.map_or("(empty)".to_string(), |b| b.to_string())
                ));
                if v.is_none() {
                    hit = hit.confidence(Confidence::Possible);
                }
                out.push(hit);
            }
        }
    }
    out
}

fn policy_not_ocs(f: &Facts) -> Vec<FactHit> {
    let pol = &f.org.policies;
    let in_use: Vec<_> = if pol.iter().any(|p| p.is_default) {
        pol.iter().filter(|p| p.is_default).collect()
    } else {
        pol.iter().collect()
    };
    let bad: Vec<_> = in_use
        .iter()
        .filter(|p| {
            p.enabled == Some(false)
                || p.im_type
                    .as_deref()
                    .is_some_and(|t| !t.eq_ignore_ascii_case("ocs"))
        })
        .collect();
    if bad.is_empty() {
        return Vec::new();
    }
    let mut out = Vec::new();
    for h in f.hosts.keys() {
        let v = f.version(h);
        if v.is_some_and(|v| v.is_2016_plus()) || !f.im_configured(h) {
            continue;
        }
        let names: Vec<&str> = bad.iter().map(|p| p.name.as_str()).collect();
        let mut hit = FactHit::new(h, bad.iter().map(|p| p.ev).collect()).note(format!(
            "OWA mailbox policy {} does not enable IM of type OCS",
            names.join(", ")
        ));
        if v.is_none() {
            hit = hit.confidence(Confidence::Possible);
        }
        out.push(hit);
    }
    out
}

fn owa_log_without_im(f: &Facts) -> Vec<FactHit> {
    let mut out = Vec::new();
    for (h, hf) in &f.hosts {
        if let (Some(path), false) = (&hf.owa_log_folder, hf.im_log_folder) {
            if f.im_configured(h) {
                let mut hit = FactHit::new(h, Vec::new());
                hit.files.push((
                    path.clone(),
                    "OWA log folder collected without an InstantMessaging subfolder".into(),
                ));
                out.push(hit);
            }
        }
    }
    out
}

fn pool_too_old(f: &Facts, c: &Correlated) -> Vec<FactHit> {
    let mut out = Vec::new();
    // The pool's own side: Get-CsServerVersion (confirmed when it is the configured pool's), else
    // `Server: RTC/x.y` headers of responses in traces and client logs (likely). A `User-Agent`
    // names the sender and is never read here (causes.md).
    let versions: Vec<(usize, Option<String>, u32)> = if f.org.cs_versions.is_empty() {
        f.org
            .sip_servers
            .iter()
            .map(|(e, m)| (*e, None, *m))
            .collect()
    } else {
        f.org.cs_versions.clone()
    };
    if versions.is_empty() {
        return out;
    }
    for h in f.hosts.keys() {
        if !f.version(h).is_some_and(|v| v.is_2016_plus()) || !f.im_configured(h) {
            continue;
        }
        let pool = f
            .configured(h, ImKey::ServerName)
            .into_iter()
            .next()
            .map(|(p, _)| p);
        let pool_key = pool.as_deref().and_then(host_key);
        let of_pool: Vec<_> = versions
            .iter()
            .filter(|v| v.1.is_some() && v.1 == pool_key)
            .collect();
        let (rows, confidence, why) = if of_pool.is_empty() {
            let why = if f.org.cs_versions.is_empty() {
                "read from SIP Server headers, not from Get-CsServerVersion"
            } else {
                "Get-CsServerVersion was not run on a server named like the configured pool"
            };
            (
                versions.iter().collect::<Vec<_>>(),
                Confidence::Likely,
                Some(why),
            )
        } else {
            (of_pool, Confidence::Confirmed, None)
        };
        if rows.iter().all(|r| r.2 <= 5) {
            let mut ev: Vec<usize> = rows.iter().map(|r| r.0).take(20).collect();
            if let Some((_, vev)) = f.hosts.get(h).and_then(|x| x.version) {
                ev.push(vev);
            }
            let product = rows
                .first()
                .and_then(|r| match &c.events[r.0].body {
                    Body::Object { props, .. } => props.text("Product").map(str::to_string),
                    _ => None,
                })
                .unwrap_or_else(|| "Lync Server 2013 or older".into());
            let mut note = format!(
                "the IM pool {} runs {product}; Exchange 2016 or later needs Skype for Business Server 2015 or later",
                pool.as_deref().unwrap_or("(name not in the bundle)")
            );
            if let Some(why) = why {
                note.push_str(&format!(" (pool version {why})"));
            }
            let mut hit = FactHit::new(h, ev).confidence(confidence).note(note);
            hit.related.extend(pool);
            out.push(hit);
        }
    }
    out
}
