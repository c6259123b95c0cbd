//! Skype for Business / Lync topology facts and the section B facts built on them.
//!
//! Why this module exists: section B causes relate the Skype side to the Exchange side: a trusted
//! application pool for an Exchange server that Exchange UM routing already made known, a Front End
//! that rejects the name an Exchange server presents, an OAuth certificate whose names are not SIP
//! domains. The captures involved (Get-CsTrustedApplicationPool, Get-UMService, Get-CsCertificate,
//! SIPStack connection records, LS Protocol Stack events) are read here once; the Exchange side
//! comes from [`Facts`]. Property names of the Skype cmdlets are INFERRED (formats.md has no
//! capture of them), so every lookup tolerates the usual alternatives.

use super::facts::{name_matches, subject_cn, Facts, HostFacts};
use super::rules::FactHit;
use super::Confidence;
use crate::correlate::hosts::host_key;
use crate::correlate::Correlated;
use crate::model::{Body, Event, Props, Value};
use std::collections::{BTreeMap, BTreeSet};

/// Fact names this module answers.
pub const FACTS: &[&str] = &[
    "trusted-pool-also-um-routed",
    "fe-rejects-exchange-peer",
    "s2s-oauth-cert-unsuitable",
    "exchange-auth-cert-missing",
    "exchange-lync-issuers-differ",
    "users-not-enabled-for-im",
];

/// Event ids the facts of this module read: LS Protocol Stack 14492/14493 (known-server table),
/// LS Exchange UM Routing 44024. The analysis prefilter keeps them.
pub const FACT_EVENT_IDS: &[u32] = &[14492, 14493, 44024];

/// The text the Front End logs when a peer's name is not a configured server (formats.md §6.3 E3).
pub(crate) const NOT_CONFIGURED: &str = "not a configured server on this network interface";

/// What the bundle says about the Skype / Lync side.
#[derive(Clone, Debug, Default)]
pub struct LyncFacts {
    /// Trusted application pools: (event, FQDN lower case).
    pub pools: Vec<(usize, String)>,
    /// Trusted applications: (event, pool FQDN lower case, application id).
    pub apps: Vec<(usize, String, String)>,
    /// Exchange UM dial plans: (event, name, URI type).
    pub dial_plans: Vec<(usize, String, String)>,
    /// Exchange UM services: (event, server, dial plan names).
    pub um_services: Vec<(usize, String, Vec<String>)>,
    /// LS Protocol Stack 14492/14493 and LS Exchange UM Routing 44024 events.
    pub known_server_events: Vec<usize>,
    /// Get-CsCertificate rows: (event, host key, uses, CN and SANs, thumbprint, key size).
    pub certs: Vec<CsCert>,
    /// SIP domains from Get-CsSipDomain (lower case).
    pub sip_domains: Vec<String>,
    /// Front End rejections of a peer name: (event, rejected name lower case).
    pub rejections: Vec<(usize, String)>,
    /// Any Skype/Lync capture or trace is in the bundle.
    pub present: bool,
}

/// One `Get-CsCertificate` row.
#[derive(Clone, Debug)]
pub struct CsCert {
    pub ev: usize,
    pub host: Option<String>,
    pub uses: String,
    pub names: Vec<String>,
    pub thumbprint: String,
    pub key_size: Option<u32>,
    pub issuer: String,
}

fn text(p: &Props, name: &str) -> Option<String> {
    match p.get(name)? {
        Value::Text(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        Value::List { items, .. } if !items.is_empty() => Some(items.join(", ")),
        _ => None,
    }
}

fn items(p: &Props, name: &str) -> Vec<String> {
    p.get(name)
        .map(|v| {
            v.items()
                .iter()
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect()
        })
        .unwrap_or_default()
}

/// `TrustedApplicationPool:exch01.contoso.com` → `exch01.contoso.com`.
fn after_colon(s: &str) -> String {
    s.rsplit(':')
        .next()
        .unwrap_or(s)
        .trim()
        .to_ascii_lowercase()
}

fn is_protocol_stack(e: &Event, ids: &[u32]) -> bool {
    match &e.body {
        Body::WinEvent(w) => {
            let p = w.provider.to_ascii_lowercase();
            ids.contains(&w.event_id)
                && (p.contains("protocol stack")
                    || p.contains("unified messaging routing")
                    || p.starts_with("ls "))
        }
        _ => false,
    }
}

/// Reads the Skype / Lync side of the bundle.
pub fn build(c: &Correlated) -> LyncFacts {
    let mut l = LyncFacts::default();
    for (i, e) in c.events.iter().enumerate() {
        match &e.body {
            Body::Object {
                command: Some(cmd),
                props,
                ..
            } => {
                let p = props;
                match cmd.as_str() {
                    "Get-CsTrustedApplicationPool" => {
                        let fqdn = text(p, "PoolFqdn")
                            .or_else(|| text(p, "Identity").map(|s| after_colon(&s)))
                            .or_else(|| text(p, "Fqdn"));
                        if let Some(f) = fqdn {
                            l.pools.push((i, f.to_ascii_lowercase()));
                        }
                    }
                    "Get-CsTrustedApplication" => {
                        let pool = text(p, "TrustedApplicationPoolFqdn").or_else(|| {
                            text(p, "Identity")
                                .and_then(|s| s.split('/').next().map(str::to_string))
                        });
                        let app = text(p, "ApplicationId").unwrap_or_default();
                        if let Some(pool) = pool {
                            l.apps.push((i, pool.to_ascii_lowercase(), app));
                        }
                    }
                    "Get-UMDialPlan" => l.dial_plans.push((
                        i,
                        text(p, "Name")
                            .or_else(|| text(p, "Identity"))
                            .unwrap_or_default(),
                        text(p, "URIType").unwrap_or_default(),
                    )),
                    "Get-UMService" => l.um_services.push((
                        i,
                        text(p, "Name")
                            .or_else(|| text(p, "ServerName"))
                            .or_else(|| text(p, "Identity"))
                            .unwrap_or_default(),
                        items(p, "DialPlans"),
                    )),
                    "Get-CsCertificate" => {
                        let mut names: Vec<String> =
                            subject_cn(&text(p, "Subject").unwrap_or_default())
                                .into_iter()
                                .collect();
                        names.extend(
                            items(p, "AlternativeNames")
                                .into_iter()
                                .map(|n| n.to_ascii_lowercase()),
                        );
                        l.certs.push(CsCert {
                            ev: i,
                            host: c.host(i).map(str::to_string),
                            uses: text(p, "Use").unwrap_or_default(),
                            names,
                            thumbprint: text(p, "Thumbprint")
                                .map(|t| super::facts::norm_thumbprint(&t))
                                .unwrap_or_default(),
                            key_size: text(p, "KeySize")
                                .or_else(|| text(p, "PublicKeySize"))
                                .and_then(|k| k.parse().ok()),
                            issuer: text(p, "Issuer").unwrap_or_default(),
                        });
                    }
                    "Get-CsSipDomain" => {
                        if let Some(n) = text(p, "Name").or_else(|| text(p, "Identity")) {
                            l.sip_domains.push(n.to_ascii_lowercase());
                        }
                    }
                    _ => {}
                }
                if cmd.starts_with("Get-Cs") {
                    l.present = true;
                }
            }
            Body::Sip(s) if s.kind != "client" => {
                l.present = true;
                if s.text.to_ascii_lowercase().contains(NOT_CONFIGURED) {
                    let name = s
                        .fields
                        .text("Data.fqdn")
                        .map(str::to_string)
                        .or_else(|| {
                            s.fields
                                .text("Peer")
                                .map(|p| p.split(':').next().unwrap_or(p).to_string())
                        })
                        .unwrap_or_default()
                        .to_ascii_lowercase();
                    l.rejections.push((i, name));
                }
            }
            Body::WinEvent(_) if is_protocol_stack(e, FACT_EVENT_IDS) => {
                l.present = true;
                l.known_server_events.push(i);
            }
            _ => {}
        }
    }
    l
}

/// SIP records the facts of this module read: Front End rejections of a peer name.
pub fn is_relevant_sip(s: &crate::model::SipRecord) -> bool {
    s.kind != "client" && s.text.to_ascii_lowercase().contains(NOT_CONFIGURED)
}

/// Hosts that look like Exchange servers in the bundle.
pub fn exchange_hosts(f: &Facts) -> BTreeSet<String> {
    let is_exchange = |h: &HostFacts| {
        h.version.is_some()
            || !h.webconfig.is_empty()
            || !h.vdirs.is_empty()
            || !h.certs.is_empty()
            || !h.im_failures.is_empty()
            || !h.im_successes.is_empty()
            || !h.registry.is_empty()
            || h.owa_log_folder.is_some()
    };
    f.hosts
        .iter()
        .filter(|(_, h)| is_exchange(h))
        .map(|(k, _)| k.clone())
        .collect()
}

/// Evaluates a fact of this module.
pub fn eval(name: &str, f: &Facts, c: &Correlated) -> Vec<FactHit> {
    match name {
        "trusted-pool-also-um-routed" => duplicate_pool(f, c),
        "fe-rejects-exchange-peer" => fe_rejects(f, c),
        "s2s-oauth-cert-unsuitable" => oauth_cert(f),
        "exchange-auth-cert-missing" => auth_cert_missing(f),
        "exchange-lync-issuers-differ" => issuers_differ(f),
        "users-not-enabled-for-im" => users_not_enabled(f, c),
        _ => Vec::new(),
    }
}

fn duplicate_pool(f: &Facts, c: &Correlated) -> Vec<FactHit> {
    let l = &f.lync;
    let mut out = Vec::new();
    for (pev, fqdn) in &l.pools {
        let Some(host) = host_key(fqdn) else { continue };
        let apps: Vec<usize> = l
            .apps
            .iter()
            .filter(|a| a.1 == *fqdn)
            .map(|a| a.0)
            .collect();
        if !l.apps.is_empty() && apps.is_empty() {
            continue;
        }
        let mut ev = vec![*pev];
        ev.extend(&apps);
        let mut routed = Vec::new();
        // Exchange UM routing: a SipName dial plan served by this server.
        for (sev, server, plans) in &l.um_services {
            if host_key(server).as_deref() != Some(host.as_str()) {
                continue;
            }
            for (dev, name, uri) in &l.dial_plans {
                if uri.eq_ignore_ascii_case("SipName")
                    && plans.iter().any(|p| p.eq_ignore_ascii_case(name))
                {
                    routed.push(*sev);
                    routed.push(*dev);
                }
            }
        }
        // Known-server events that list the FQDN.
        for k in &l.known_server_events {
            if super::record_text(&c.events[*k])
                .to_ascii_lowercase()
                .contains(fqdn.as_str())
            {
                routed.push(*k);
            }
        }
        if routed.is_empty() {
            continue;
        }
        ev.extend(routed);
        let mut hit = FactHit::new(&host, ev).note(format!(
            "{fqdn} is both a trusted application pool and a server Exchange UM routing adds to the known-server table (at version 0)"
        ));
        if l.apps.is_empty() {
            hit = hit.confidence(Confidence::Likely);
        }
        out.push(hit);
    }
    out
}

fn fe_rejects(f: &Facts, c: &Correlated) -> Vec<FactHit> {
    let l = &f.lync;
    let exchange = exchange_hosts(f);
    let pools: BTreeSet<&str> = l.pools.iter().map(|p| p.1.as_str()).collect();
    let mut per_host: BTreeMap<String, FactHit> = BTreeMap::new();
    for (ev, name) in &l.rejections {
        if pools.contains(name.as_str()) {
            continue;
        }
        let fe = c.host(*ev).unwrap_or("").to_string();
        let when = c.events[*ev].time;
        let mut events = vec![*ev];
        // Which Exchange server presented this name? By its own name, by its certificate, or by an
        // OWA IM failure within the window of the rejection.
        let mut target = host_key(name).filter(|k| exchange.contains(k) && name.contains('.'));
        let mut how = "the rejected name is the Exchange server's own";
        if target.is_none() {
            for (h, hf) in &f.hosts {
                if let Some(cert) = hf.certs.iter().find(|ct| ct.names(name)) {
                    target = Some(h.clone());
                    events.push(cert.ev);
                    how = "the rejected name is on the Exchange server's certificate";
                    break;
                }
            }
        }
        let mut correlated = Vec::new();
        if let Some(t) = when {
            for h in &exchange {
                let near: Vec<usize> = f.hosts[h]
                    .im_failures
                    .iter()
                    .copied()
                    .filter(|i| {
                        c.events[*i]
                            .time
                            .is_some_and(|ft| (ft - t).abs() <= c.window)
                    })
                    .collect();
                if !near.is_empty() && target.as_ref().is_none_or(|x| x == h) {
                    if target.is_none() {
                        how = "an OWA IM failure on the Exchange server falls within the correlation window";
                    }
                    target = Some(h.clone());
                    correlated = near;
                    break;
                }
            }
        }
        events.extend(correlated);
        let host = target.clone().unwrap_or_else(|| fe.clone());
        let entry = per_host.entry(host.clone()).or_insert_with(|| {
            let mut h = FactHit::new(&host, Vec::new());
            if l.pools.is_empty() {
                h = h.confidence(Confidence::Likely).note(
                    "no Get-CsTrustedApplicationPool capture: the trusted pool FQDNs could not be compared".into(),
                );
            }
            h
        });
        entry.events.extend(events);
        if !entry.values.iter().any(|(k, _)| k == "subject_fqdn") {
            entry.values.push(("subject_fqdn".into(), name.clone()));
        }
        entry.events.extend(l.pools.iter().map(|p| p.0));
        let pool_list = if pools.is_empty() {
            "(none captured)".to_string()
        } else {
            pools.iter().copied().collect::<Vec<_>>().join(", ")
        };
        let note = if target.is_some() {
            format!("the Front End rejected {name:?} (the name from the Exchange certificate's subject), which is not a trusted application pool FQDN ({pool_list}); {how}")
        } else {
            format!("the Front End rejected {name:?}, which is not a trusted application pool FQDN ({pool_list}); the bundle does not show which Exchange server presented it")
        };
        entry.note.get_or_insert(note);
        if target.is_some() && !fe.is_empty() {
            entry.related.push(c.hosts.display(&fe));
        }
    }
    per_host.into_values().collect()
}

fn oauth_cert(f: &Facts) -> Vec<FactHit> {
    let l = &f.lync;
    let oauth: Vec<&CsCert> = l
        .certs
        .iter()
        .filter(|c| c.uses.to_ascii_lowercase().contains("oauthtokenissuer"))
        .collect();
    let mut out = Vec::new();
    for cert in &oauth {
        let host = cert.host.clone().unwrap_or_default();
        let mut problems = Vec::new();
        if !l.sip_domains.is_empty() {
            let ok = cert.names.iter().any(|n| {
                l.sip_domains
                    .iter()
                    .any(|d| n == d || n.ends_with(&format!(".{d}")) || name_matches(n, d))
            });
            if !ok {
                problems.push(format!(
                    "its names ({}) are not SIP domains ({}) nor names under them",
                    cert.names.join(", "),
                    l.sip_domains.join(", ")
                ));
            }
        }
        if let Some(k) = cert.key_size.filter(|k| *k < 2048) {
            problems.push(format!("its key is {k} bits (2048 required)"));
        }
        if oauth.iter().any(|o| {
            o.host != cert.host && o.thumbprint != cert.thumbprint && !o.thumbprint.is_empty()
        }) {
            problems.push("its thumbprint differs between Front End servers".into());
        }
        if !problems.is_empty() {
            out.push(FactHit::new(&host, vec![cert.ev]).note(format!(
                "the OAuthTokenIssuer certificate is unsuitable: {}",
                problems.join("; ")
            )));
        }
    }
    out
}

fn auth_cert_missing(f: &Facts) -> Vec<FactHit> {
    if !f.lync.present {
        return Vec::new();
    }
    let mut out = Vec::new();
    for (h, hf) in &f.hosts {
        if hf.certs.is_empty() {
            continue;
        }
        let has = hf.certs.iter().any(|c| {
            c.subject
                .to_ascii_lowercase()
                .contains("microsoft exchange server auth certificate")
        });
        if !has {
            out.push(
                FactHit::new(h, hf.certs.iter().map(|c| c.ev).collect())
                    .note("Get-ExchangeCertificate shows no Microsoft Exchange Server Auth Certificate (server-to-server OAuth with Skype/Lync)".into()),
            );
        }
    }
    out
}

fn issuers_differ(f: &Facts) -> Vec<FactHit> {
    let lync: BTreeSet<String> = f
        .lync
        .certs
        .iter()
        .map(|c| c.issuer.to_ascii_lowercase())
        .filter(|i| !i.is_empty())
        .collect();
    if lync.is_empty() {
        return Vec::new();
    }
    let mut out = Vec::new();
    for (h, hf) in &f.hosts {
        let iis: Vec<_> = hf
            .certs
            .iter()
            .filter(|c| c.is_iis() && !c.issuer.is_empty())
            .collect();
        if let Some(c) = iis
            .iter()
            .find(|c| !lync.contains(&c.issuer.to_ascii_lowercase()))
        {
            let mut ev = vec![c.ev];
            ev.extend(f.lync.certs.iter().map(|x| x.ev));
            out.push(FactHit::new(h, ev).note(format!(
                "the Exchange IIS certificate is issued by {:?}, the Skype/Lync certificates by {}",
                c.issuer,
                lync.iter().cloned().collect::<Vec<_>>().join("; ")
            )));
        }
    }
    out
}

/// The identities of a user object, lower case, with `sip:` and `SMTP:` prefixes removed.
fn identities(p: &Props) -> Vec<String> {
    [
        "UserPrincipalName",
        "PrimarySmtpAddress",
        "SipAddress",
        "WindowsEmailAddress",
        "Alias",
        "Name",
        "Identity",
    ]
    .iter()
    .filter_map(|n| text(p, n))
    .map(|v| {
        let l = v.to_ascii_lowercase();
        let l = l
            .strip_prefix("sip:")
            .or_else(|| l.strip_prefix("smtp:"))
            .unwrap_or(&l)
            .to_string();
        l.rsplit(['/', '\\']).next().unwrap_or(&l).to_string()
    })
    .filter(|v| !v.is_empty())
    .collect()
}

/// Users of an IM-enabled Exchange server who cannot use IM in OWA (causes.md
/// `owa-im-user-not-enabled`): `Get-CsUser` disabled or without SIP address, or `Get-Mailbox`
/// without a `sip:` proxy address. One hit per Exchange server listing the users.
fn users_not_enabled(f: &Facts, c: &Correlated) -> Vec<FactHit> {
    let mut mailboxes: Vec<(usize, Option<String>, Vec<String>)> = Vec::new();
    let mut problems: Vec<(usize, Vec<String>, String)> = Vec::new();
    for (i, e) in c.events.iter().enumerate() {
        let Body::Object {
            command: Some(cmd),
            props,
            ..
        } = &e.body
        else {
            continue;
        };
        match cmd.as_str() {
            "Get-Mailbox" => {
                let ids = identities(props);
                let has_sip = props.get("EmailAddresses").is_some_and(|v| {
                    v.items()
                        .iter()
                        .any(|a| a.trim().to_ascii_lowercase().starts_with("sip:"))
                });
                if !has_sip {
                    let who = ids
                        .first()
                        .cloned()
                        .unwrap_or_else(|| "(unnamed mailbox)".into());
                    problems.push((
                        i,
                        ids.clone(),
                        format!("{who}: no sip: proxy address in EmailAddresses"),
                    ));
                }
                mailboxes.push((i, c.host(i).map(str::to_string), ids));
            }
            "Get-CsUser" => {
                let ids = identities(props);
                let who = ids
                    .first()
                    .cloned()
                    .unwrap_or_else(|| "(unnamed user)".into());
                let disabled =
                    text(props, "Enabled").is_some_and(|v| v.eq_ignore_ascii_case("false"));
                let no_sip = text(props, "SipAddress").is_none();
                if disabled {
                    problems.push((
                        i,
                        ids,
                        format!("{who}: not enabled for Lync/Skype (Get-CsUser Enabled False)"),
                    ));
                } else if no_sip {
                    problems.push((i, ids, format!("{who}: no SipAddress (Get-CsUser)")));
                }
            }
            _ => {}
        }
    }
    let im_hosts: Vec<String> = f
        .hosts
        .keys()
        .filter(|h| f.im_configured(h))
        .cloned()
        .collect();
    let mut per: BTreeMap<String, FactHit> = BTreeMap::new();
    for (ev, ids, what) in problems {
        // The Exchange server that hosts the mailbox: the matching Get-Mailbox's server, else the
        // only IM-enabled Exchange server of the bundle.
        let from_mailbox = mailboxes
            .iter()
            .find(|(_, _, mids)| mids.iter().any(|m| ids.contains(m)))
            .and_then(|(mev, host, _)| host.clone().map(|h| (h, *mev)));
        let (host, extra) = match from_mailbox {
            Some((h, mev)) => (h, Some(mev)),
            None if im_hosts.len() == 1 => (im_hosts[0].clone(), None),
            None => continue,
        };
        if !f.im_configured(&host) {
            continue;
        }
        let hit = per
            .entry(host.clone())
            .or_insert_with(|| FactHit::new(&host, Vec::new()));
        hit.events.push(ev);
        hit.events.extend(extra);
        let note = hit
            .note
            .get_or_insert_with(|| "users who cannot use IM in OWA: ".to_string());
        if !note.ends_with(": ") {
            note.push_str("; ");
        }
        note.push_str(&what);
    }
    per.into_values().collect()
}
