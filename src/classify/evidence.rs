//! Evidence kinds: which sorts of capture a bundle holds, so the summary can say what it lacked.
//!
//! Why this module exists: "absent capture is not absent configuration" (causes.md). A cause whose
//! evidence kind is missing cannot be ruled out, and the engineer must be told which capture to ask
//! the customer for. Causes name the kinds they read in their TOML `needs` list.

use crate::correlate::Correlated;
use crate::model::{Body, Event, Format};
use std::collections::BTreeSet;

/// One kind of evidence a bundle may hold.
pub struct EvidenceKind {
    pub id: &'static str,
    /// What to collect, in the words shown to the engineer.
    pub label: &'static str,
}

/// Every evidence kind the catalog may name.
pub const KINDS: &[EvidenceKind] = &[
    EvidenceKind {
        id: "exchange-events",
        label: "Exchange Application event log (MSExchange OWA events 83-112)",
    },
    EvidenceKind {
        id: "managed-availability",
        label: "Managed Availability Monitoring events or Get-ServerHealth (OWA.Protocol.Dep)",
    },
    EvidenceKind {
        id: "web-config",
        label: "OWA web.config (ClientAccess\\Owa and ExchangeBackEnd OWA)",
    },
    EvidenceKind {
        id: "setting-override",
        label: "Get-SettingOverride capture",
    },
    EvidenceKind {
        id: "owa-vdir",
        label: "Get-OwaVirtualDirectory capture",
    },
    EvidenceKind {
        id: "mailbox-policy",
        label: "Get-OwaMailboxPolicy capture",
    },
    EvidenceKind {
        id: "exchange-server",
        label: "Get-ExchangeServer capture (AdminDisplayVersion)",
    },
    EvidenceKind {
        id: "exchange-certificate",
        label: "Get-ExchangeCertificate capture",
    },
    EvidenceKind {
        id: "registry",
        label: "registry export of HKLM\\SYSTEM\\CurrentControlSet\\Services\\MSExchange OWA\\InstantMessaging",
    },
    EvidenceKind {
        id: "client-registry",
        label: "client registry export of the Outlook / MAPI profiles (HKCU)",
    },
    EvidenceKind {
        id: "ntlm-policy",
        label: "registry export of HKLM\\SYSTEM\\CurrentControlSet\\Control\\Lsa\\MSV1_0 (NTLMMinServerSec) from the Exchange servers and domain controllers",
    },
    EvidenceKind {
        id: "owa-logs",
        label: "Exchange OWA logs (Logging\\OWA, with its InstantMessaging folder)",
    },
    EvidenceKind {
        id: "client-access",
        label: "Get-ClientAccessService / Get-ClientAccessServer capture",
    },
    EvidenceKind {
        id: "trusted-pools",
        label: "Get-CsTrustedApplicationPool / Get-CsTrustedApplication captures",
    },
    EvidenceKind {
        id: "um-routing",
        label: "Exchange UM routing (Get-UMDialPlan, Get-UMService, LS 14492/14493/44024 events)",
    },
    EvidenceKind {
        id: "cs-oauth",
        label: "Get-CsOAuthConfiguration capture",
    },
    EvidenceKind {
        id: "cs-certificate",
        label: "Get-CsCertificate capture",
    },
    EvidenceKind {
        id: "cs-sipdomain",
        label: "Get-CsSipDomain capture (the OAuth certificate's SIP-domain check is skipped without it)",
    },
    EvidenceKind {
        id: "sipstack",
        label: "Skype/Lync Front End SIPStack traces (decoded with Snooper or Search-CsClsLogging)",
    },
    EvidenceKind {
        id: "client-logs",
        label: "Lync/Skype client UccApi logs (Tracing\\*UccApi*.uccapilog)",
    },
    EvidenceKind {
        id: "dns",
        label: "nslookup / Resolve-DnsName output for the autodiscover names",
    },
    EvidenceKind {
        id: "user-captures",
        label: "Get-CsUser / Get-Mailbox captures of the affected users",
    },
    EvidenceKind {
        id: "cisco-gateway",
        label: "Cisco IM and Presence Presence Gateway page (Exchange Server Status)",
    },
    EvidenceKind {
        id: "cisco-traces",
        label: "Cisco IM and Presence traces (Presence Engine / SIP Proxy SDI, XCP, log4j) from RTMT",
    },
    EvidenceKind {
        id: "ews-logs",
        label: "Exchange EWS logs (V15\\Logging\\Ews) or EWS SOAP traces",
    },
    EvidenceKind {
        id: "certificates",
        label: "certificate files (the Exchange IIS certificate, the cup-trust chain)",
    },
    EvidenceKind {
        id: "cs-version",
        label: "Skype/Lync pool version (Get-CsServerVersion)",
    },
];

fn command_of(e: &Event) -> Option<&str> {
    match &e.body {
        Body::Object { command, .. } => command.as_deref(),
        _ => None,
    }
}

/// The evidence kinds present in a bundle.
pub fn present(c: &Correlated) -> BTreeSet<&'static str> {
    let mut out = BTreeSet::new();
    for e in &c.events {
        match &e.body {
            Body::WinEvent(w) => {
                if matches!(w.event_id, 14492 | 14493 | 44024)
                    && w.provider.to_ascii_lowercase().contains("protocol stack")
                    || w.provider
                        .to_ascii_lowercase()
                        .contains("unified messaging routing")
                {
                    out.insert("um-routing");
                }
                if w.provider.to_ascii_lowercase().starts_with("msexchange")
                    || w.channel.eq_ignore_ascii_case("application")
                {
                    out.insert("exchange-events");
                }
                if w.channel
                    .to_ascii_lowercase()
                    .contains("managedavailability")
                {
                    out.insert("managed-availability");
                }
            }
            Body::AppSettings { .. } => {
                out.insert("web-config");
            }
            Body::RegistryKey { key, .. } => {
                let k = key.to_ascii_lowercase();
                if k.ends_with("\\control\\lsa\\msv1_0") {
                    out.insert("ntlm-policy");
                }
                if k.contains("msexchange owa") {
                    out.insert("registry");
                }
                if k.contains("\\outlook") || k.contains("windows messaging subsystem") {
                    out.insert("client-registry");
                }
            }
            Body::LogRow { log_type, fields } => {
                let t = log_type.to_ascii_lowercase();
                if t.starts_with("cisco-") {
                    out.insert("cisco-traces");
                } else if t == "ews-trace"
                    || t.contains("ews")
                    || fields.get("SoapAction").is_some()
                {
                    out.insert("ews-logs");
                } else {
                    out.insert("owa-logs");
                }
            }
            Body::Sip(s) if s.kind == "client" => {
                out.insert("client-logs");
            }
            Body::Sip(_) => {
                out.insert("sipstack");
            }
            Body::Dns(_) => {
                out.insert("dns");
            }
            Body::Object { .. } => {
                let kind = match command_of(e).unwrap_or("") {
                    "Get-SettingOverride" => "setting-override",
                    "Get-OwaVirtualDirectory" => "owa-vdir",
                    "Get-OwaMailboxPolicy" => "mailbox-policy",
                    "Get-ExchangeServer" => "exchange-server",
                    "Get-ExchangeCertificate" => "exchange-certificate",
                    "Get-ServerHealth" | "Get-HealthReport" => "managed-availability",
                    "Get-ClientAccessService" | "Get-ClientAccessServer" => "client-access",
                    "Get-CsServerVersion" => "cs-version",
                    "Get-CsTrustedApplicationPool" | "Get-CsTrustedApplication" => "trusted-pools",
                    "Get-UMDialPlan" | "Get-UMService" => "um-routing",
                    "Get-CsOAuthConfiguration" => "cs-oauth",
                    "Get-CsCertificate" => "cs-certificate",
                    "Get-CsSipDomain" => "cs-sipdomain",
                    "PresenceGateway" => "cisco-gateway",
                    "Get-CsUser" | "Get-Mailbox" => "user-captures",
                    "X509Certificate" => "certificates",
                    "TraceCollectionResult" => "cisco-traces",
                    _ => continue,
                };
                out.insert(kind);
            }
        }
    }
    for f in &c.files {
        if f.format == Some(Format::WebConfig) {
            out.insert("web-config");
        }
        if f.folders.iter().any(|d| is_owa_log_folder(d)) {
            out.insert("owa-logs");
        }
    }
    out
}

/// `Logging\OWA` as Exchange writes it, or `OWA_Logs` as ExchangeLogCollector names it.
pub fn is_owa_log_folder(name: &str) -> bool {
    name.eq_ignore_ascii_case("owa") || name.eq_ignore_ascii_case("owa_logs")
}

/// What a causes.md section is about, for the summary.
pub fn section_label(section: &str) -> &'static str {
    match section {
        "A" => "Exchange / Outlook on the web",
        "B" => "Lync / Skype for Business Server",
        "C" => "Lync / Skype client",
        "D" => "Cisco IM and Presence",
        _ => "other",
    }
}

/// The label of an evidence kind.
pub fn label(id: &str) -> &'static str {
    KINDS
        .iter()
        .find(|k| k.id == id)
        .map(|k| k.label)
        .unwrap_or("unknown evidence kind")
}
