//! The configuration picture of each host, built once from every capture in the bundle.
//!
//! Why this module exists: many causes are not one record but a relation between records: IM keys
//! in a web.config on a server whose `Get-ExchangeServer` says 15.1, a setting override that exists
//! but that no server applies, a configured thumbprint that no `Get-ExchangeCertificate` row has.
//! This module reads the typed records once into [`HostFacts`] and [`OrgFacts`]; `rules.rs` turns
//! them into the named facts that catalog signals reference.

use crate::correlate::hosts::host_key;
use crate::correlate::Correlated;
use crate::model::{Body, Event, Props, RegValue, Value, WinEvent};
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;

/// Channel of the Managed Availability monitoring events (causes.md "Matching").
pub const MA_CHANNEL: &str = "Microsoft-Exchange-ManagedAvailability/Monitoring";
/// The OWA IM provider's event source.
pub const OWA_PROVIDER: &str = "MSExchange OWA";

/// An Exchange version from `AdminDisplayVersion` (`Version 15.1 (Build 2375.7)`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct ExVersion {
    pub major: u32,
    pub minor: u32,
}

impl ExVersion {
    /// Parses `Version 15.1 (Build 2375.7)`, `15.1.2375.7`, `15.01.2375.007`.
    pub fn parse(s: &str) -> Option<ExVersion> {
        let s = s.trim();
        let s = s.strip_prefix("Version").unwrap_or(s).trim();
        let mut it = s
            .split(|c: char| !c.is_ascii_digit())
            .filter(|p| !p.is_empty());
        let major: u32 = it.next()?.parse().ok()?;
        let minor: u32 = it.next()?.parse().ok()?;
        (8..=16)
            .contains(&major)
            .then_some(ExVersion { major, minor })
    }

    /// The product generation: 2007, 2010, 2013, 2016, 2019 (2019 includes Subscription Edition).
    pub fn year(self) -> u32 {
        match (self.major, self.minor) {
            (8, _) => 2007,
            (14, _) => 2010,
            (15, 0) => 2013,
            (15, 1) => 2016,
            (15, _) => 2019,
            _ => 0,
        }
    }

    pub fn is_2016_plus(self) -> bool {
        self.major > 15 || (self.major == 15 && self.minor >= 1)
    }
}

/// An `OwaServer`/`IMSettings` setting override.
#[derive(Clone, Debug)]
pub struct Override {
    pub ev: usize,
    pub name: String,
    /// `Server` values; empty for an organisation-wide override.
    pub servers: Vec<String>,
    /// Parameters by lower-case key (`imservername`, `imcertificatethumbprint`).
    pub params: BTreeMap<String, String>,
    pub when: Option<DateTime<Utc>>,
}

impl Override {
    pub fn param(&self, key: &str) -> Option<&str> {
        self.params
            .get(&key.to_ascii_lowercase())
            .map(String::as_str)
            .filter(|v| !v.trim().is_empty())
    }

    /// True when the override applies to the host key (organisation-wide, or `Server` equal to the
    /// server's name; an FQDN matches no server, causes.md `owa-im-override-server-fqdn`).
    pub fn applies_to(&self, host: &str) -> bool {
        self.servers.is_empty()
            || self
                .servers
                .iter()
                .any(|s| !s.contains('.') && host_key(s).as_deref() == Some(host))
    }
}

/// One `Get-ExchangeCertificate` row.
#[derive(Clone, Debug)]
pub struct Cert {
    pub ev: usize,
    pub thumbprint: String,
    pub services: String,
    pub not_after: Option<DateTime<Utc>>,
    pub has_private_key: Option<bool>,
    pub subject: String,
    pub issuer: String,
    /// `CertificateDomains` (subject and SAN names), lower case.
    pub domains: Vec<String>,
}

impl Cert {
    /// The subject CN, lower case.
    pub fn cn(&self) -> Option<String> {
        subject_cn(&self.subject)
    }

    /// True when the certificate names `host` in its CN or its domains (wildcards cover one label).
    pub fn names(&self, host: &str) -> bool {
        let h = host.to_ascii_lowercase();
        self.cn()
            .into_iter()
            .chain(self.domains.iter().cloned())
            .any(|n| name_matches(&n, &h))
    }
}

/// The CN of a subject (`CN=mail.contoso.com, OU=IT` → `mail.contoso.com`), lower case.
pub fn subject_cn(subject: &str) -> Option<String> {
    subject
        .split([',', '\n'])
        .map(str::trim)
        .find_map(|p| p.strip_prefix("CN=").or_else(|| p.strip_prefix("cn=")))
        .map(|v| v.trim().to_ascii_lowercase())
        .filter(|v| !v.is_empty())
}

/// RFC 6125 name match: exact, or a `*.` wildcard covering exactly one label.
pub fn name_matches(pattern: &str, host: &str) -> bool {
    let p = pattern.trim().trim_end_matches('.').to_ascii_lowercase();
    let h = host.trim().trim_end_matches('.').to_ascii_lowercase();
    match p.strip_prefix("*.") {
        Some(rest) => h
            .split_once('.')
            .is_some_and(|(label, tail)| !label.is_empty() && tail == rest),
        None => p == h,
    }
}

impl Cert {
    pub fn is_iis(&self) -> bool {
        self.services
            .split(|c: char| !c.is_ascii_alphanumeric())
            .any(|s| s.eq_ignore_ascii_case("iis"))
    }
}

/// One `Get-OwaVirtualDirectory` object's IM settings.
#[derive(Clone, Debug)]
pub struct Vdir {
    pub ev: usize,
    pub im_type: Option<String>,
    pub thumbprint: Option<String>,
    pub server_name: Option<String>,
    pub enabled: Option<bool>,
}

/// One `Get-OwaMailboxPolicy` object's IM settings.
#[derive(Clone, Debug)]
pub struct Policy {
    pub ev: usize,
    pub name: String,
    pub is_default: bool,
    pub enabled: Option<bool>,
    pub im_type: Option<String>,
}

/// A configured value and the record that holds it.
#[derive(Clone, Debug)]
pub struct Setting {
    pub ev: usize,
    pub value: Option<String>,
}

/// What the bundle says about one host.
#[derive(Clone, Debug, Default)]
pub struct HostFacts {
    pub version: Option<(ExVersion, usize)>,
    pub fqdn: Option<String>,
    /// web.config appSettings events and their IM keys (`None`: key absent or empty).
    pub webconfig: Vec<(usize, Option<String>, Option<String>)>,
    pub vdirs: Vec<Vdir>,
    pub certs: Vec<Cert>,
    /// `MSExchange OWA\InstantMessaging` registry keys: (event, ImplementationDLLPath).
    pub registry: Vec<(usize, Option<String>)>,
    /// `Get-ExchangeDiagnosticInfo` IMSettings: (event, server name, thumbprint).
    pub diag_im: Vec<(usize, Option<String>, Option<String>)>,
    /// IM initialisation failure signals (events 83-88, 100-105, MA event 4 of the IM monitor).
    pub im_failures: Vec<usize>,
    /// Success signals (event 112, MA event 1 of the IM monitor).
    pub im_successes: Vec<usize>,
    /// Unhealthy `OwaIMInitializationFailedMonitor` rows of Get-ServerHealth / Get-HealthReport.
    pub im_unhealthy: Vec<usize>,
    /// A `Logging\OWA` / `OWA_Logs` folder of this host in the bundle (first file path seen).
    pub owa_log_folder: Option<String>,
    /// An `InstantMessaging` folder under it.
    pub im_log_folder: bool,
}

/// Facts that belong to the organisation rather than one server.
#[derive(Clone, Debug, Default)]
pub struct OrgFacts {
    pub overrides: Vec<Override>,
    /// A `Get-SettingOverride` capture is in the bundle (objects or a file named after it) and was
    /// read without rejected records.
    pub override_capture: bool,
    /// A `Get-SettingOverride` capture is in the bundle but some of its records could not be read.
    pub override_capture_damaged: bool,
    pub policies: Vec<Policy>,
    /// Get-CsServerVersion rows: (event, host key, product major version).
    pub cs_versions: Vec<(usize, Option<String>, u32)>,
    /// SIP `Server: RTC/x.y` headers seen in traces and client logs: (event, major version).
    pub sip_servers: Vec<(usize, u32)>,
}

/// All facts of a bundle.
#[derive(Clone, Debug, Default)]
pub struct Facts {
    pub hosts: BTreeMap<String, HostFacts>,
    pub org: OrgFacts,
    pub lync: super::lync::LyncFacts,
    pub cisco: super::cisco::CiscoFacts,
    /// Non-CA X.509 certificates found as files (cup-trust leaves, exported IIS certificates):
    /// (event, CN and SAN names, lower case).
    pub leaf_certs: Vec<(usize, Vec<String>)>,
}

fn text(p: &Props, name: &str) -> Option<String> {
    match p.get(name)? {
        Value::Text(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        Value::List { items, .. } if !items.is_empty() => Some(items.join(", ")),
        _ => None,
    }
}

fn boolean(p: &Props, name: &str) -> Option<bool> {
    match p.text(name)?.trim().to_ascii_lowercase().as_str() {
        "true" | "$true" | "1" => Some(true),
        "false" | "$false" | "0" => Some(false),
        _ => None,
    }
}

/// Normalises a thumbprint for comparison: hex digits only, upper case (strips spaces and
/// invisible characters such as U+200E, formats.md §3).
pub fn norm_thumbprint(s: &str) -> String {
    s.chars()
        .filter(char::is_ascii_hexdigit)
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

/// True for the Managed Availability IM monitor name, tolerating the documented misspelling.
pub fn is_im_monitor(name: &str) -> bool {
    let l = name.to_ascii_lowercase();
    l.contains("owaiminitializationfailedmonitor")
        || l.contains("owaiminitializationfialiedmonitor")
}

fn is_ma_monitoring(w: &WinEvent) -> bool {
    w.channel.eq_ignore_ascii_case(MA_CHANNEL)
        || w.provider.eq_ignore_ascii_case("ManagedAvailability")
}

/// Classifies an event as an IM initialisation failure (`Some(true)`) or success (`Some(false)`).
pub fn im_init_signal(w: &WinEvent) -> Option<bool> {
    if w.provider.eq_ignore_ascii_case(OWA_PROVIDER) {
        return match w.event_id {
            83..=88 | 100..=105 => Some(true),
            112 => Some(false),
            _ => None,
        };
    }
    if is_ma_monitoring(w) {
        let monitor = w.named("Monitor").unwrap_or("");
        let subject = w.named("Subject").unwrap_or("");
        let desc = w.description.as_deref().unwrap_or("");
        if is_im_monitor(monitor) || is_im_monitor(subject) || is_im_monitor(desc) {
            return match w.event_id {
                4 => Some(true),
                1 => Some(false),
                _ => None,
            };
        }
    }
    None
}

fn command(e: &Event) -> Option<(&str, &Props)> {
    match &e.body {
        Body::Object {
            command: Some(c),
            props,
            ..
        } => Some((c.as_str(), props)),
        _ => None,
    }
}

fn reg_value<'a>(values: &'a [RegValue], name: &str) -> Option<&'a RegValue> {
    values.iter().find(|v| v.name.eq_ignore_ascii_case(name))
}

fn host_entry<'a>(f: &'a mut Facts, host: &Option<String>) -> Option<&'a mut HostFacts> {
    host.as_ref().map(|h| f.hosts.entry(h.clone()).or_default())
}

/// Reads every event of the bundle into facts.
pub fn build(c: &Correlated) -> Facts {
    let mut f = Facts {
        lync: super::lync::build(c),
        cisco: super::cisco::build(c),
        ..Facts::default()
    };
    for (i, e) in c.events.iter().enumerate() {
        let host = c.host(i).map(str::to_string);

        match &e.body {
            Body::WinEvent(w) => {
                if let (Some(sig), Some(h)) = (im_init_signal(w), host_entry(&mut f, &host)) {
                    if sig {
                        h.im_failures.push(i);
                    } else {
                        h.im_successes.push(i);
                    }
                }
            }
            Body::AppSettings { settings } => {
                if let Some(h) = host_entry(&mut f, &host) {
                    h.webconfig.push((
                        i,
                        text(settings, "IMCertificateThumbprint"),
                        text(settings, "IMServerName"),
                    ));
                }
            }
            Body::RegistryKey { key, values, .. } => {
                let k = key.to_ascii_lowercase().replace('/', "\\");
                if k.ends_with("services\\msexchange owa\\instantmessaging") {
                    let dll = reg_value(values, "ImplementationDLLPath")
                        .map(|v| v.data.trim().to_string())
                        .filter(|v| !v.is_empty());
                    if let Some(h) = host_entry(&mut f, &host) {
                        h.registry.push((i, dll));
                    }
                }
            }
            Body::Sip(s) => {
                let server = s.headers.text("Server").unwrap_or("");
                if let Some(v) = server.strip_prefix("RTC/") {
                    if let Some(major) = v.split('.').next().and_then(|m| m.parse().ok()) {
                        f.org.sip_servers.push((i, major));
                    }
                }
            }
            Body::Object { .. } | Body::LogRow { .. } | Body::Dns(_) => {}
        }
        let Some((cmd, p)) = command(e) else { continue };
        match cmd {
            "Get-ExchangeServer" | "Get-OwaVirtualDirectory" => {
                let v = text(p, "AdminDisplayVersion").and_then(|s| ExVersion::parse(&s));
                if let Some(h) = host_entry(&mut f, &host) {
                    if let Some(v) = v {
                        if h.version.is_none() || cmd == "Get-ExchangeServer" {
                            h.version = Some((v, i));
                        }
                    }
                    if cmd == "Get-ExchangeServer" {
                        h.fqdn = text(p, "Fqdn").or(h.fqdn.take());
                    } else {
                        h.vdirs.push(Vdir {
                            ev: i,
                            im_type: text(p, "InstantMessagingType"),
                            thumbprint: text(p, "InstantMessagingCertificateThumbprint"),
                            server_name: text(p, "InstantMessagingServerName"),
                            enabled: boolean(p, "InstantMessagingEnabled"),
                        });
                    }
                }
            }
            "Get-ExchangeCertificate" => {
                let cert = Cert {
                    subject: text(p, "Subject").unwrap_or_default(),
                    issuer: text(p, "Issuer").unwrap_or_default(),
                    domains: p
                        .get("CertificateDomains")
                        .map(|v| {
                            v.items()
                                .iter()
                                .map(|d| d.trim().to_ascii_lowercase())
                                .filter(|d| !d.is_empty())
                                .collect()
                        })
                        .unwrap_or_default(),
                    ev: i,
                    thumbprint: text(p, "Thumbprint")
                        .map(|t| norm_thumbprint(&t))
                        .unwrap_or_default(),
                    services: text(p, "Services").unwrap_or_default(),
                    not_after: text(p, "NotAfter")
                        .and_then(|s| crate::formats::time::any(&s))
                        .map(|(t, _)| t),
                    has_private_key: boolean(p, "HasPrivateKey"),
                };
                if let Some(h) = host_entry(&mut f, &host) {
                    h.certs.push(cert);
                }
            }
            "Get-ServerHealth" | "Get-HealthReport" => {
                let unhealthy =
                    text(p, "AlertValue").is_some_and(|v| v.eq_ignore_ascii_case("unhealthy"));
                let im =
                    p.0.iter()
                        .any(|(_, v)| v.items().iter().any(|s| is_im_monitor(s)));
                if unhealthy && im {
                    if let Some(h) = host_entry(&mut f, &host) {
                        h.im_unhealthy.push(i);
                    }
                }
            }
            "Get-ExchangeDiagnosticInfo"
                if p.get("IMServerName").is_some()
                    || p.get("IMCertificateThumbprint").is_some() =>
            {
                if let Some(h) = host_entry(&mut f, &host) {
                    h.diag_im.push((
                        i,
                        text(p, "IMServerName"),
                        text(p, "IMCertificateThumbprint"),
                    ));
                }
            }
            "Get-SettingOverride" => {
                let comp = text(p, "ComponentName")
                    .or_else(|| text(p, "Component"))
                    .unwrap_or_default();
                let sect = text(p, "SectionName")
                    .or_else(|| text(p, "Section"))
                    .unwrap_or_default();
                if comp.eq_ignore_ascii_case("OwaServer") && sect.eq_ignore_ascii_case("IMSettings")
                {
                    let params = p
                        .get("Parameters")
                        .map(|v| {
                            v.items()
                                .iter()
                                .filter_map(|s| s.split_once('='))
                                .map(|(k, v)| {
                                    (
                                        k.trim().to_ascii_lowercase(),
                                        v.trim().trim_matches('"').to_string(),
                                    )
                                })
                                .collect()
                        })
                        .unwrap_or_default();
                    let servers = p
                        .get("Server")
                        .map(|v| {
                            v.items()
                                .iter()
                                .map(|s| s.trim().to_string())
                                .filter(|s| !s.is_empty())
                                .collect()
                        })
                        .unwrap_or_default();
                    f.org.overrides.push(Override {
                        ev: i,
                        name: text(p, "Name").unwrap_or_default(),
                        servers,
                        params,
                        when: e.time,
                    });
                }
            }
            "Get-OwaMailboxPolicy" => {
                f.org.policies.push(Policy {
                    ev: i,
                    name: text(p, "Name")
                        .or_else(|| text(p, "Identity"))
                        .unwrap_or_default(),
                    is_default: boolean(p, "IsDefault").unwrap_or(false),
                    enabled: boolean(p, "InstantMessagingEnabled"),
                    im_type: text(p, "InstantMessagingType"),
                });
            }
            "X509Certificate"
                if text(p, "IsCA").is_none_or(|v| !v.eq_ignore_ascii_case("true")) =>
            {
                let mut names: Vec<String> = text(p, "CN")
                    .map(|n| n.to_ascii_lowercase())
                    .into_iter()
                    .collect();
                if let Some(v) = p.get("SAN") {
                    names.extend(v.items().iter().map(|s| s.to_ascii_lowercase()));
                }
                f.leaf_certs.push((i, names));
            }
            "Get-CsServerVersion" => {
                if let Some(m) = text(p, "Major").and_then(|m| m.parse().ok()) {
                    f.org.cs_versions.push((i, host.clone(), m));
                }
            }
            _ => {}
        }
    }
    // A capture counts only when it was read completely: a truncated Get-SettingOverride file cannot
    // prove that no override exists (causes.md "Absent capture is not absent configuration").
    let override_files: Vec<&crate::pipeline::FileInfo> = c
        .files
        .iter()
        .filter(|fi| {
            fi.file_name.to_ascii_lowercase().contains("settingoverride")
                || c.events.iter().any(|e| {
                    e.loc.path == fi.path
                        && matches!(&e.body, Body::Object { command: Some(cmd), .. } if cmd == "Get-SettingOverride")
                })
        })
        .collect();
    if !override_files.is_empty() {
        f.org.override_capture = override_files.iter().all(|fi| fi.rejected == 0);
        f.org.override_capture_damaged = override_files.iter().any(|fi| fi.rejected > 0);
    }
    // OWA log folders per host.
    for fi in &c.files {
        let Some(pos) = fi
            .folders
            .iter()
            .position(|d| super::evidence::is_owa_log_folder(d))
        else {
            continue;
        };
        let known = &c.hosts;
        let host = match crate::correlate::hosts::file_host(fi, known) {
            (Some(h), _) => host_key(&h),
            _ => {
                let ks = known.keys();
                if ks.len() == 1 {
                    ks.into_iter().next()
                } else {
                    None
                }
            }
        };
        if let Some(h) = host {
            let hf = f.hosts.entry(h).or_default();
            if hf.owa_log_folder.is_none() {
                hf.owa_log_folder = Some(fi.path.to_string());
            }
            if fi.folders[pos + 1..]
                .iter()
                .any(|d| d.eq_ignore_ascii_case("InstantMessaging"))
            {
                hf.im_log_folder = true;
            }
        }
    }
    f
}

impl Facts {
    /// The override that applies to a host: a server-specific one first, then an org-wide one.
    pub fn applicable_override(&self, host: &str) -> Option<&Override> {
        let ov = &self.org.overrides;
        ov.iter()
            .find(|o| !o.servers.is_empty() && o.applies_to(host))
            .or_else(|| ov.iter().find(|o| o.servers.is_empty()))
    }

    pub fn version(&self, host: &str) -> Option<ExVersion> {
        self.hosts.get(host).and_then(|h| h.version.map(|(v, _)| v))
    }

    /// The IM thumbprint and pool the host is configured with, as the server reads them:
    /// the override on 2016+, web.config on 2013, the virtual directory on 2010; every place
    /// when the version is unknown. Returns (value, event) pairs, most authoritative first.
    pub fn configured(&self, host: &str, key: ImKey) -> Vec<(String, usize)> {
        let v = self.version(host);
        let mut out = Vec::new();
        let hf = self.hosts.get(host);
        let want_override = v.is_none_or(|v| v.is_2016_plus());
        let want_webconfig = v.is_none_or(|v| v.year() == 2013);
        let want_vdir = v.is_none_or(|v| v.year() <= 2013);
        if want_override {
            if let Some(o) = self.applicable_override(host) {
                if let Some(val) = o.param(key.override_param()) {
                    out.push((val.to_string(), o.ev));
                }
            }
        }
        if let Some(hf) = hf {
            if want_webconfig {
                for (ev, tp, sn) in &hf.webconfig {
                    if let Some(val) = match key {
                        ImKey::Thumbprint => tp,
                        ImKey::ServerName => sn,
                    } {
                        out.push((val.clone(), *ev));
                    }
                }
            }
            if want_vdir {
                for d in &hf.vdirs {
                    if let Some(val) = match key {
                        ImKey::Thumbprint => &d.thumbprint,
                        ImKey::ServerName => &d.server_name,
                    } {
                        out.push((val.clone(), d.ev));
                    }
                }
            }
        }
        out
    }

    /// IM integration is configured for the host somewhere in the bundle, or failed on it.
    pub fn im_configured(&self, host: &str) -> bool {
        let Some(hf) = self.hosts.get(host) else {
            return false;
        };
        let any_override = self.applicable_override(host).is_some_and(|o| {
            o.param("IMServerName").is_some() || o.param("IMCertificateThumbprint").is_some()
        });
        any_override
            || hf
                .webconfig
                .iter()
                .any(|(_, t, s)| t.is_some() || s.is_some())
            || hf
                .vdirs
                .iter()
                .any(|d| d.thumbprint.is_some() || d.server_name.is_some())
            || !hf.im_failures.is_empty()
            || !hf.im_successes.is_empty()
            || !hf.im_unhealthy.is_empty()
    }
}

/// The two IM settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ImKey {
    Thumbprint,
    ServerName,
}

impl ImKey {
    pub fn override_param(self) -> &'static str {
        match self {
            ImKey::Thumbprint => "IMCertificateThumbprint",
            ImKey::ServerName => "IMServerName",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions() {
        let v = ExVersion::parse("Version 15.1 (Build 2375.7)").unwrap();
        assert_eq!((v.major, v.minor, v.year()), (15, 1, 2016));
        assert_eq!(
            ExVersion::parse("15.02.1118.007").map(ExVersion::year),
            Some(2019)
        );
        assert_eq!(
            ExVersion::parse("Version 15.0 (Build 1497.2)").map(ExVersion::year),
            Some(2013)
        );
        assert_eq!(
            ExVersion::parse("Version 14.3 (Build 123.4)").map(ExVersion::year),
            Some(2010)
        );
        assert_eq!(ExVersion::parse("0.1 (8.0.535.0)"), None);
    }

    #[test]
    fn thumbprints_normalise() {
        assert_eq!(norm_thumbprint("\u{200e}cd f3 4a"), "CDF34A");
    }

    #[test]
    fn override_applicability() {
        let o = Override {
            ev: 0,
            name: "x".into(),
            servers: vec!["MBX01".into()],
            params: BTreeMap::new(),
            when: None,
        };
        assert!(o.applies_to("mbx01"));
        assert!(!o.applies_to("mbx02"));
        let fqdn = Override {
            servers: vec!["mbx01.contoso.com".into()],
            ..o.clone()
        };
        assert!(!fqdn.applies_to("mbx01"));
        let org = Override {
            servers: vec![],
            ..o
        };
        assert!(org.applies_to("anything"));
    }
}
