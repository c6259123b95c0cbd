//! Fix templates: the catalog's fix steps with values from the bundle filled in.
//!
//! Why this module exists: an engineer should be able to paste the commands. The catalog writes
//! `{pool|<Skype/Lync pool fqdn>}`; this module fills `pool` from the configuration the host reads
//! and leaves the documented placeholder where the bundle did not say, and it picks the steps for
//! the host's Exchange generation (all of them, labelled, when the version is unknown).

use super::catalog::Cause;
use super::facts::{norm_thumbprint, ExVersion, Facts, ImKey};
use crate::correlate::Correlated;
use std::collections::BTreeMap;

/// The values a fix may use for one host.
pub fn values(host: &str, c: &Correlated, f: &Facts) -> BTreeMap<String, String> {
    let mut v = BTreeMap::new();
    if host.is_empty() {
        return v;
    }
    let info = c.hosts.info(host);
    v.insert("server".into(), info.name.clone());
    let hf = f.hosts.get(host);
    let fqdn = hf.and_then(|h| h.fqdn.clone()).or_else(|| {
        info.aliases
            .iter()
            .find(|a| a.contains('.') && a.parse::<std::net::IpAddr>().is_err())
            .cloned()
    });
    if let Some(fqdn) = fqdn {
        if let Some((_, domain)) = fqdn.split_once('.') {
            v.insert("domain".into(), domain.to_ascii_lowercase());
        }
        v.insert("server_fqdn".into(), fqdn);
    }
    let pool = f
        .configured(host, ImKey::ServerName)
        .into_iter()
        .next()
        .map(|(p, _)| p)
        .or_else(|| {
            hf.and_then(|h| h.webconfig.iter().find_map(|w| w.2.clone()))
                .or_else(|| {
                    f.org
                        .overrides
                        .iter()
                        .find_map(|o| o.param("IMServerName").map(str::to_string))
                })
        });
    if let Some(p) = pool {
        v.insert("pool".into(), p);
    }
    let configured = f
        .configured(host, ImKey::Thumbprint)
        .into_iter()
        .next()
        .map(|(t, _)| t)
        .or_else(|| {
            hf.and_then(|h| h.webconfig.iter().find_map(|w| w.1.clone()))
                .or_else(|| {
                    f.org
                        .overrides
                        .iter()
                        .find_map(|o| o.param("IMCertificateThumbprint").map(str::to_string))
                })
        });
    if let Some(t) = configured {
        v.insert("configured_thumbprint".into(), norm_thumbprint(&t));
    }
    if let Some(cert) = hf.and_then(|h| h.certs.iter().find(|c| c.is_iis())) {
        v.insert("thumbprint".into(), cert.thumbprint.clone());
    }
    let ov = f.applicable_override(host).or_else(|| {
        f.org.overrides.iter().find(|o| {
            o.servers
                .iter()
                .any(|s| crate::correlate::hosts::host_key(s).as_deref() == Some(host))
        })
    });
    if let Some(o) = ov {
        if !o.name.is_empty() {
            v.insert("override".into(), o.name.clone());
        }
    }
    if let Some(dll) = hf.and_then(|h| h.registry.iter().find_map(|r| r.1.clone())) {
        v.insert("dll_path".into(), dll);
    }
    v
}

/// Fills `{name}` and `{name|default}` placeholders; unknown names keep their default, or
/// `<name>` without one.
pub fn fill(template: &str, values: &BTreeMap<String, String>) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        let Some(len) = rest[start..].find('}') else {
            break;
        };
        let inner = &rest[start + 1..start + len];
        let (name, default) = inner.split_once('|').unwrap_or((inner, ""));
        let valid = !name.is_empty() && name.chars().all(|c| c.is_ascii_lowercase() || c == '_');
        out.push_str(&rest[..start]);
        if valid {
            match values.get(name) {
                Some(v) => out.push_str(v),
                None if !default.is_empty() => out.push_str(default),
                None => {
                    out.push('<');
                    out.push_str(name);
                    out.push('>');
                }
            }
        } else {
            out.push_str(&rest[start..=start + len]);
        }
        rest = &rest[start + len + 1..];
    }
    out.push_str(rest);
    out
}

/// The fix steps of a cause for a host of the given Exchange version.
pub fn render(
    cause: &Cause,
    version: Option<ExVersion>,
    values: &BTreeMap<String, String>,
) -> Vec<String> {
    let gen = version.map(|v| match v.year() {
        2016 | 2019 => "2016+",
        2013 => "2013",
        2010 => "2010",
        _ => "",
    });
    cause
        .fix
        .iter()
        .filter_map(|step| {
            let text = fill(&step.text, values);
            match (&step.when, gen) {
                (None, _) => Some(text),
                (Some(w), Some(g)) => (w == g).then_some(text),
                (Some(w), None) => Some(format!("(Exchange {}) {text}", label(w))),
            }
        })
        .collect()
}

fn label(when: &str) -> &str {
    match when {
        "2016+" => "2016/2019",
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders() {
        let mut v = BTreeMap::new();
        v.insert("pool".to_string(), "pool01.contoso.com".to_string());
        assert_eq!(
            fill(
                "IMServerName={pool|<pool fqdn>} -Server {server|<ServerName>} {Env:X}",
                &v
            ),
            "IMServerName=pool01.contoso.com -Server <ServerName> {Env:X}"
        );
        assert_eq!(fill("{thumbprint}", &v), "<thumbprint>");
        assert_eq!(fill("unbalanced {", &v), "unbalanced {");
    }
}
