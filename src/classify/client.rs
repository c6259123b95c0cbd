//! Section C facts: what a Lync / Skype client machine shows about its way to Exchange.
//!
//! Why this module exists: client causes read client evidence only (causes.md "Which log says
//! it"): name-resolution captures of the autodiscover names and the client's registry (MAPI
//! profiles). Each fact is reported on the client machine the capture comes from.

use super::rules::FactHit;
use super::Confidence;
use crate::correlate::Correlated;
use crate::model::{Body, DnsRecord};
use std::collections::BTreeMap;

/// Fact names this module answers.
pub const FACTS: &[&str] = &[
    "client-autodiscover-names-unresolved",
    "client-default-profile-not-exchange",
];

/// Evaluates a fact of this module.
pub fn eval(name: &str, c: &Correlated) -> Vec<FactHit> {
    match name {
        "client-autodiscover-names-unresolved" => autodiscover_unresolved(c),
        "client-default-profile-not-exchange" => default_profile(c),
        _ => Vec::new(),
    }
}

/// The SMTP domain a discovery name belongs to, and which of the three names it is.
fn discovery_domain(query: &str) -> Option<(String, usize)> {
    let q = query.trim_end_matches('.').to_ascii_lowercase();
    if let Some(d) = q.strip_prefix("_autodiscover._tcp.") {
        return Some((d.to_string(), 2));
    }
    if let Some(d) = q.strip_prefix("autodiscover.") {
        return Some((d.to_string(), 1));
    }
    None
}

fn resolved(d: &DnsRecord) -> bool {
    d.error.is_none() && !d.answers.is_empty()
}

fn autodiscover_unresolved(c: &Correlated) -> Vec<FactHit> {
    // (host, domain) -> per name (domain, autodiscover., SRV): events that resolved / failed.
    type Seen = [(Vec<usize>, Vec<usize>); 3];
    let mut seen: BTreeMap<(String, String), Seen> = BTreeMap::new();
    let dns: Vec<(usize, &DnsRecord)> = c
        .events
        .iter()
        .enumerate()
        .filter_map(|(i, e)| match &e.body {
            Body::Dns(d) => Some((i, d)),
            _ => None,
        })
        .collect();
    for (i, d) in &dns {
        if let Some((domain, slot)) = discovery_domain(&d.query) {
            let host = c.host(*i).unwrap_or("").to_string();
            let entry = seen.entry((host, domain)).or_default();
            if resolved(d) {
                entry[slot].0.push(*i);
            } else {
                entry[slot].1.push(*i);
            }
        }
    }
    // The bare domain (https://<domain>/autodiscover/autodiscover.xml) is the first name tried.
    for (i, d) in &dns {
        let host = c.host(*i).unwrap_or("").to_string();
        let q = d.query.trim_end_matches('.').to_ascii_lowercase();
        if let Some(entry) = seen.get_mut(&(host, q)) {
            if resolved(d) {
                entry[0].0.push(*i);
            } else {
                entry[0].1.push(*i);
            }
        }
    }
    let mut out = Vec::new();
    for ((host, domain), names) in seen {
        if names.iter().any(|(ok, _)| !ok.is_empty()) {
            continue;
        }
        let failed: Vec<usize> = names
            .iter()
            .flat_map(|(_, bad)| bad.iter().copied())
            .collect();
        if failed.is_empty() {
            continue;
        }
        let labels = [
            domain.clone(),
            format!("autodiscover.{domain}"),
            format!("_autodiscover._tcp.{domain}"),
        ];
        let missing: Vec<&str> = names
            .iter()
            .zip(labels.iter())
            .filter(|((ok, bad), _)| ok.is_empty() && bad.is_empty())
            .map(|(_, l)| l.as_str())
            .collect();
        let mut hit = FactHit {
            host,
            events: failed,
            files: Vec::new(),
            confidence: Confidence::Confirmed,
            note: Some(format!(
                "none of the autodiscover names of {domain} resolves"
            )),
            related: Vec::new(),
            values: vec![("domain".to_string(), domain.clone())],
        };
        if !missing.is_empty() {
            hit.confidence = Confidence::Likely;
            hit.note = Some(format!(
                "the captured autodiscover names of {domain} do not resolve; not captured: {}",
                missing.join(", ")
            ));
        }
        out.push(hit);
    }
    out
}

/// A registry key path split into the profile root and the profile name it belongs to.
fn profile_of(key: &str) -> Option<(String, String)> {
    let lower = key.to_ascii_lowercase().replace('/', "\\");
    let idx = lower.find("\\profiles\\")?;
    let root = &lower[..idx];
    let rest = &key[idx + "\\profiles\\".len()..];
    let name = rest.split('\\').next()?.to_string();
    (!name.is_empty()).then(|| (root.to_string(), name))
}

fn default_profile(c: &Correlated) -> Vec<FactHit> {
    // Per host and profile root: profiles (name -> (events, is exchange)), default profile.
    #[derive(Default)]
    struct Root {
        profiles: BTreeMap<String, (Vec<usize>, bool)>,
        default: Option<(usize, String)>,
    }
    let mut roots: BTreeMap<(String, String), Root> = BTreeMap::new();
    for (i, e) in c.events.iter().enumerate() {
        let Body::RegistryKey { key, values, .. } = &e.body else {
            continue;
        };
        let host = c.host(i).unwrap_or("").to_string();
        let lower = key.to_ascii_lowercase();
        for v in values
            .iter()
            .filter(|v| v.name.eq_ignore_ascii_case("DefaultProfile"))
        {
            let root = if lower.ends_with("\\profiles") {
                lower.trim_end_matches("\\profiles").to_string()
            } else {
                lower.clone()
            };
            // Outlook 2013+: HKCU\Software\Microsoft\Office\<ver>\Outlook \ DefaultProfile;
            // Outlook 97-2010: ...\Windows Messaging Subsystem\Profiles \ DefaultProfile.
            roots.entry((host.clone(), root)).or_default().default = Some((i, v.data.clone()));
        }
        if let Some((root, name)) = profile_of(key) {
            let r = roots.entry((host.clone(), root)).or_default();
            let p = r.profiles.entry(name).or_default();
            p.0.push(i);
            if values.iter().any(|v| {
                v.name.eq_ignore_ascii_case("001e6603") || v.name.eq_ignore_ascii_case("001f6603")
            }) {
                p.1 = true;
            }
        }
    }
    let mut out = Vec::new();
    for ((host, _), r) in roots {
        let Some((dev, default)) = r.default else {
            continue;
        };
        if r.profiles.len() < 2 {
            continue;
        }
        let exchange: Vec<&String> = r
            .profiles
            .iter()
            .filter(|(_, p)| p.1)
            .map(|(n, _)| n)
            .collect();
        let default_is_exchange = r
            .profiles
            .iter()
            .any(|(n, p)| n.eq_ignore_ascii_case(&default) && p.1);
        if exchange.is_empty() || default_is_exchange {
            continue;
        }
        let mut ev = vec![dev];
        for (_, (evs, _)) in r.profiles.iter() {
            ev.extend(evs.iter().take(2));
        }
        out.push(FactHit {
            host,
            events: ev,
            files: Vec::new(),
            confidence: Confidence::Confirmed,
            note: Some(format!(
                "DefaultProfile is {default:?}, but the Exchange account (001e6603) is in profile {}",
                exchange.iter().map(|s| format!("{s:?}")).collect::<Vec<_>>().join(", ")
            )),
            related: Vec::new(),
            values: Vec::new(),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn discovery_names() {
        assert_eq!(
            discovery_domain("autodiscover.contoso.com"),
            Some(("contoso.com".into(), 1))
        );
        assert_eq!(
            discovery_domain("_autodiscover._tcp.Contoso.com."),
            Some(("contoso.com".into(), 2))
        );
        assert_eq!(discovery_domain("mail.contoso.com"), None);
    }

    #[test]
    fn profile_paths() {
        let k = "HKEY_CURRENT_USER\\Software\\Microsoft\\Office\\16.0\\Outlook\\Profiles\\Outlook\\9375CFF0413111d3B88A00104B2A6676\\00000002";
        assert_eq!(
            profile_of(k),
            Some((
                "hkey_current_user\\software\\microsoft\\office\\16.0\\outlook".into(),
                "Outlook".into()
            ))
        );
        assert_eq!(
            profile_of("HKEY_CURRENT_USER\\Software\\Microsoft\\Office\\16.0\\Outlook"),
            None
        );
    }
}
