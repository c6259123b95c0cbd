//! Shared helpers for the PowerShell capture parsers (CLIXML, Format-List, Format-Table) and the
//! `Get-ExchangeDiagnosticInfo` reader.
//!
//! Why this module exists: the three capture forms of the same cmdlet output must produce the same
//! `Body::Object` — the same canonical cmdlet name, the same host choice, the same value shapes and
//! the same excerpt — whichever form a bundle happens to hold. Those decisions live here once:
//! cmdlet detection ([`detect_command`]), host choice ([`host_of`]), text value parsing
//! ([`parse_text_value`]), prompt-echo recognition ([`echo_command`]), and two small utilities the
//! parsers share (a line splitter that keeps positions, a capped diagnostic sink).

use crate::model::{DiagLevel, Diagnostic, Format, Parsed, Props, Value};
use regex::Regex;
use std::sync::{Arc, OnceLock};

/// Canonical cmdlet names, in the exact spelling used by rules.
pub const GET_EXCHANGE_SERVER: &str = "Get-ExchangeServer";
pub const GET_OWA_VIRTUAL_DIRECTORY: &str = "Get-OwaVirtualDirectory";
pub const GET_OWA_MAILBOX_POLICY: &str = "Get-OwaMailboxPolicy";
pub const GET_SETTING_OVERRIDE: &str = "Get-SettingOverride";
pub const GET_EXCHANGE_CERTIFICATE: &str = "Get-ExchangeCertificate";
pub const GET_SERVER_HEALTH: &str = "Get-ServerHealth";
pub const GET_HEALTH_REPORT: &str = "Get-HealthReport";
pub const GET_CLIENT_ACCESS_SERVICE: &str = "Get-ClientAccessService";
pub const GET_EXCHANGE_DIAGNOSTIC_INFO: &str = "Get-ExchangeDiagnosticInfo";

/// Cmdlet names as they may appear in an echo line or a file name (lower case, letters only) and
/// the canonical name each maps to. More specific keys come first: file names are matched by
/// substring, so `serverhealth` must win over `exchangeserver` and `cstrustedapplicationpool` over
/// `cstrustedapplication`.
const NAME_KEYS: &[(&str, &str)] = &[
    ("owavirtualdirectory", GET_OWA_VIRTUAL_DIRECTORY),
    ("owamailboxpolicy", GET_OWA_MAILBOX_POLICY),
    ("settingoverride", GET_SETTING_OVERRIDE),
    ("exchangecertificate", GET_EXCHANGE_CERTIFICATE),
    ("exchangediagnosticinfo", GET_EXCHANGE_DIAGNOSTIC_INFO),
    ("clientaccessservice", GET_CLIENT_ACCESS_SERVICE),
    ("clientaccessserver", GET_CLIENT_ACCESS_SERVICE),
    ("serverhealth", GET_SERVER_HEALTH),
    ("healthreport", GET_HEALTH_REPORT),
    ("exchangeserver", GET_EXCHANGE_SERVER),
    ("cstrustedapplicationpool", "Get-CsTrustedApplicationPool"),
    ("cstrustedapplication", "Get-CsTrustedApplication"),
    ("csoauthconfiguration", "Get-CsOAuthConfiguration"),
    ("cscertificate", "Get-CsCertificate"),
    ("cspool", "Get-CsPool"),
    ("cssite", "Get-CsSite"),
    ("umdialplan", "Get-UMDialPlan"),
    ("umservice", "Get-UMService"),
    ("cssipdomain", "Get-CsSipDomain"),
    ("csuser", "Get-CsUser"),
    ("getmailbox", "Get-Mailbox"),
];

/// Last segment of a CLIXML type name (generic arguments cut) → canonical cmdlet. Verified type
/// names: `ADOwaVirtualDirectory`, `Management.ExchangeServer`, `ExchangeCertificate`,
/// `SettingOverride`, `ExchangeDiagnosticInfoResult` (CSS-Exchange HealthChecker test data).
/// The others are INFERRED from the cmdlets' documented output types.
const TYPE_KEYS: &[(&str, &str)] = &[
    ("ADOwaVirtualDirectory", GET_OWA_VIRTUAL_DIRECTORY),
    ("OwaVirtualDirectory", GET_OWA_VIRTUAL_DIRECTORY),
    ("OwaMailboxPolicy", GET_OWA_MAILBOX_POLICY),
    ("SettingOverride", GET_SETTING_OVERRIDE),
    ("ExchangeCertificate", GET_EXCHANGE_CERTIFICATE),
    ("ExchangeServer", GET_EXCHANGE_SERVER),
    ("ClientAccessServer", GET_CLIENT_ACCESS_SERVICE),
    ("ClientAccessService", GET_CLIENT_ACCESS_SERVICE),
    ("MonitorHealthEntry", GET_SERVER_HEALTH),
    ("ConsolidatedHealth", GET_HEALTH_REPORT),
    ("ExchangeDiagnosticInfoResult", GET_EXCHANGE_DIAGNOSTIC_INFO),
];

/// The canonical cmdlet an object came from: (1) CLIXML type names, (2) the prompt echo line,
/// (3) the file name, (4) the property set. `None` when nothing says.
pub fn detect_command(
    type_names: &[String],
    echo: Option<&str>,
    file_name: &str,
    props: &Props,
) -> Option<&'static str> {
    from_types(type_names)
        .or_else(|| echo.and_then(from_echo))
        .or_else(|| from_file_name(file_name))
        .or_else(|| from_props(props))
}

fn from_types(type_names: &[String]) -> Option<&'static str> {
    type_names.iter().find_map(|t| {
        let base = t.split('`').next().unwrap_or(t);
        let last = base.rsplit(['.', '+']).next().unwrap_or(base);
        TYPE_KEYS
            .iter()
            .find(|(k, _)| last.eq_ignore_ascii_case(k))
            .map(|(_, c)| *c)
    })
}

/// Canonical name for a cmdlet written in an echo line (`Get-OwaVirtualDirectory | fl`) or given
/// bare. Only whole cmdlet names count here, not substrings.
fn from_echo(echo: &str) -> Option<&'static str> {
    let cmd = echo_cmdlet_token(echo)?;
    let key: String = cmd
        .chars()
        .filter(char::is_ascii_alphabetic)
        .collect::<String>()
        .to_ascii_lowercase();
    let key = key.strip_prefix("get")?;
    NAME_KEYS.iter().find(|(k, _)| *k == key).map(|(_, c)| *c)
}

fn from_file_name(file_name: &str) -> Option<&'static str> {
    let norm: String = file_name
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect::<String>()
        .to_ascii_lowercase();
    NAME_KEYS
        .iter()
        .find(|(k, _)| norm.contains(k))
        .map(|(_, c)| *c)
}

fn from_props(p: &Props) -> Option<&'static str> {
    let has = |n: &str| p.get(n).is_some();
    if has("InstantMessagingType") && has("InternalUrl") {
        Some(GET_OWA_VIRTUAL_DIRECTORY)
    } else if has("InstantMessagingType")
        && has("IsDefault")
        && !has("InternalUrl")
        && !has("ExternalUrl")
    {
        Some(GET_OWA_MAILBOX_POLICY)
    } else if has("Thumbprint") && has("Services") && has("NotAfter") {
        Some(GET_EXCHANGE_CERTIFICATE)
    } else if (has("ComponentName") || has("SectionName")) && has("Parameters") {
        Some(GET_SETTING_OVERRIDE)
    } else if has("AdminDisplayVersion") && has("ServerRole") {
        Some(GET_EXCHANGE_SERVER)
    } else if has("HealthSetName") && has("AlertValue") {
        Some(GET_SERVER_HEALTH)
    } else if has("HealthSet") && has("AlertValue") && has("MonitorCount") {
        Some(GET_HEALTH_REPORT)
    } else if has("AutoDiscoverServiceInternalUri") {
        Some(GET_CLIENT_ACCESS_SERVICE)
    } else if p
        .text("Result")
        .is_some_and(|r| r.trim_start().starts_with("<Diagnostics"))
    {
        Some(GET_EXCHANGE_DIAGNOSTIC_INFO)
    } else {
        from_skype_props(p)
    }
}

/// Skype/Lync and Exchange UM cmdlets by their property sets (INFERRED from the cmdlets'
/// documented output; formats.md has no capture of them).
fn from_skype_props(p: &Props) -> Option<&'static str> {
    let has = |n: &str| p.get(n).is_some();
    let identity = p.text("Identity").unwrap_or("");
    if has("SipAddress") && (has("RegistrarPool") || has("EnterpriseVoiceEnabled")) {
        Some("Get-CsUser")
    } else if has("EmailAddresses")
        && (has("ServerName") || has("Database"))
        && has("PrimarySmtpAddress")
    {
        Some("Get-Mailbox")
    } else if has("TrustedApplicationPoolFqdn") && has("ApplicationId") {
        Some("Get-CsTrustedApplication")
    } else if identity
        .get(..23)
        .is_some_and(|h| h.eq_ignore_ascii_case("TrustedApplicationPool:"))
    {
        Some("Get-CsTrustedApplicationPool")
    } else if has("ExchangeAutodiscoverUrl") {
        Some("Get-CsOAuthConfiguration")
    } else if has("URIType") {
        Some("Get-UMDialPlan")
    } else if has("UMStartupMode") || (has("DialPlans") && has("Status") && !has("URIType")) {
        Some("Get-UMService")
    } else if has("Use") && has("Thumbprint") && (has("AlternativeNames") || has("EffectiveDate")) {
        Some("Get-CsCertificate")
    } else {
        None
    }
}

fn echo_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        // `PS C:\> cmd`, `PS /home/u> cmd`, `PS> cmd`, `[PS] C:\Windows\system32>cmd`.
        Regex::new(r"^\s*(?:\[PS\]\s*(?:[A-Za-z]:\\[^>]*)?>|PS(?:\s+[^>]*)?>)\s*(\S.*)$")
            .expect("constant regex")
    })
}

fn cmdlet_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| Regex::new(r"[A-Za-z]+-[A-Za-z][A-Za-z0-9]*").expect("constant regex"))
}

/// The command text of a prompt echo line (`PS C:\> Get-OwaVirtualDirectory | fl` →
/// `Get-OwaVirtualDirectory | fl`), or `None` when the line is not an echo.
pub fn echo_command(line: &str) -> Option<&str> {
    echo_re()
        .captures(line)
        .and_then(|c| c.get(1))
        .map(|m| m.as_str().trim_end())
}

/// The first cmdlet-shaped token (`Verb-Noun`) of a command text.
pub fn echo_cmdlet_token(command: &str) -> Option<&str> {
    cmdlet_re().find(command).map(|m| m.as_str())
}

/// Host named by the object itself (formats.md §10.2). `Get-SettingOverride`'s `Server` is the
/// override's target, so only `PSComputerName` counts there; `Get-ExchangeServer` and
/// `Get-ClientAccessService` describe a server, so its `Fqdn` (else `Name`) is the host.
pub fn host_of(command: Option<&str>, props: &Props) -> Option<String> {
    let pick = |names: &[&str]| {
        names
            .iter()
            .find_map(|n| {
                props
                    .text(n)
                    .map(str::trim)
                    .filter(|s| !s.is_empty() && *s != "-")
            })
            .map(str::to_string)
    };
    const GENERAL: &[&str] = &[
        "ServerName",
        "Server",
        "Fqdn",
        "MachineName",
        "Computer",
        "PSComputerName",
    ];
    match command {
        Some(GET_SETTING_OVERRIDE) => pick(&["PSComputerName"]),
        Some(GET_EXCHANGE_SERVER) | Some(GET_CLIENT_ACCESS_SERVICE) => {
            pick(&["Fqdn", "Name"]).or_else(|| pick(GENERAL))
        }
        _ => pick(GENERAL),
    }
}

/// A Format-List / Format-Table cell as a [`Value`]: `{a, b, c}` is a list, `{a, b...}` / `{a, b…}`
/// a truncated list (`$FormatEnumerationLimit`), anything else text (trimmed).
pub fn parse_text_value(raw: &str) -> Value {
    let s = raw.trim();
    let Some(inner) = s.strip_prefix('{').and_then(|r| r.strip_suffix('}')) else {
        return Value::Text(s.to_string());
    };
    let (inner, truncated) = if let Some(i) = inner.strip_suffix("...") {
        (i, true)
    } else if let Some(i) = inner.strip_suffix('…') {
        (i, true)
    } else {
        (inner, false)
    };
    let items = inner
        .split(',')
        .map(str::trim)
        .filter(|i| !i.is_empty())
        .map(str::to_string)
        .collect();
    Value::List { items, truncated }
}

/// A value as PowerShell would print it in a summary.
pub fn display(v: &Value) -> String {
    match v {
        Value::Null => "$null".to_string(),
        Value::Text(s) => s.split_whitespace().collect::<Vec<_>>().join(" "),
        Value::List { items, truncated } => format!(
            "{{{}{}}}",
            items.join(", "),
            if *truncated { "..." } else { "" }
        ),
    }
}

/// Properties worth showing in the excerpt of each command's objects.
fn key_props(command: Option<&str>) -> &'static [&'static str] {
    match command {
        Some(GET_OWA_VIRTUAL_DIRECTORY) => &[
            "InstantMessagingType",
            "InstantMessagingEnabled",
            "InstantMessagingServerName",
            "InstantMessagingCertificateThumbprint",
        ],
        Some(GET_OWA_MAILBOX_POLICY) => &["InstantMessagingType", "InstantMessagingEnabled"],
        Some(GET_SETTING_OVERRIDE) => &[
            "ComponentName",
            "SectionName",
            "Parameters",
            "Server",
            "Status",
        ],
        Some(GET_EXCHANGE_SERVER) => &["AdminDisplayVersion", "ServerRole"],
        Some(GET_EXCHANGE_CERTIFICATE) => &["Thumbprint", "Services", "NotAfter"],
        Some(GET_SERVER_HEALTH) => &["Name", "HealthSetName", "AlertValue"],
        Some(GET_HEALTH_REPORT) => &["HealthSet", "AlertValue", "MonitorCount"],
        Some(GET_CLIENT_ACCESS_SERVICE) => &["AutoDiscoverServiceInternalUri"],
        Some(GET_EXCHANGE_DIAGNOSTIC_INFO) => &["IMServerName", "IMCertificateThumbprint"],
        _ => &[],
    }
}

/// One-line summary of an object: `<command> <identity>: K=V, K=V`.
pub fn summary(command: Option<&str>, identity: Option<&str>, props: &Props) -> String {
    let mut out = String::new();
    if let Some(c) = command {
        out.push_str(c);
    }
    let ident = identity
        .map(str::to_string)
        .filter(|s| !s.trim().is_empty() && !s.contains(['\r', '\n']))
        .or_else(|| {
            ["Identity", "Name", "Subject", "Server"]
                .iter()
                .find_map(|n| {
                    props
                        .text(n)
                        .filter(|s| !s.trim().is_empty())
                        .map(str::to_string)
                })
        });
    if let Some(i) = ident {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(i.trim());
    }
    let keys = key_props(command);
    let pairs: Vec<String> = if keys.is_empty() {
        props
            .0
            .iter()
            .take(3)
            .map(|(k, v)| format!("{k}={}", display(v)))
            .collect()
    } else {
        keys.iter()
            .filter_map(|k| props.get(k).map(|v| format!("{k}={}", display(v))))
            .collect()
    };
    if !pairs.is_empty() {
        if !out.is_empty() {
            out.push_str(": ");
        }
        out.push_str(&pairs.join(", "));
    }
    out
}

/// One physical line of a text capture with its position.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Line<'a> {
    /// The text without its line end.
    pub text: &'a str,
    /// 1-based line number.
    pub no: u64,
    /// Byte offset of the line start.
    pub offset: u64,
}

/// Splits text into lines (CRLF, LF or a lone CR end a line), keeping positions. A leading
/// U+FEFF is skipped.
pub fn lines(text: &str) -> Vec<Line<'_>> {
    let start = super::bom_len(text);
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut pos = start;
    let mut line_start = start;
    let mut no = 1u64;
    while pos < bytes.len() {
        match bytes[pos] {
            b'\n' | b'\r' => {
                out.push(Line {
                    text: &text[line_start..pos],
                    no,
                    offset: line_start as u64,
                });
                if bytes[pos] == b'\r' && bytes.get(pos + 1) == Some(&b'\n') {
                    pos += 1;
                }
                pos += 1;
                line_start = pos;
                no += 1;
            }
            _ => pos += 1,
        }
    }
    if line_start < bytes.len() {
        out.push(Line {
            text: &text[line_start..],
            no,
            offset: line_start as u64,
        });
    }
    out
}

/// 1-based line number of a byte offset (line starts precomputed once per file).
pub struct LineIndex(Vec<usize>);

impl LineIndex {
    pub fn new(text: &str) -> LineIndex {
        let b = text.as_bytes();
        let mut starts = vec![0];
        for (i, c) in b.iter().enumerate() {
            if *c == b'\n' || (*c == b'\r' && b.get(i + 1) != Some(&b'\n')) {
                starts.push(i + 1);
            }
        }
        LineIndex(starts)
    }

    pub fn line(&self, offset: usize) -> u64 {
        let idx = self.0.partition_point(|s| *s <= offset);
        idx.max(1) as u64
    }
}

/// Maximum number of detailed diagnostics of one level per file (formats.md project convention).
pub const DIAG_CAP: u64 = 50;

/// Collects diagnostics for one file, keeping at most [`DIAG_CAP`] detailed rejects and warnings
/// and one summary diagnostic for each level that overflowed. Rejected records are always counted.
pub struct DiagSink {
    path: Arc<str>,
    format: Format,
    errors: u64,
    warnings: u64,
}

impl DiagSink {
    pub fn new(path: &Arc<str>, format: Format) -> DiagSink {
        DiagSink {
            path: path.clone(),
            format,
            errors: 0,
            warnings: 0,
        }
    }

    /// Rejects a record: counted always, detailed while under the cap.
    pub fn reject(&mut self, out: &mut Parsed, diag: Diagnostic) {
        self.errors += 1;
        if self.errors <= DIAG_CAP {
            out.reject(diag);
        } else {
            out.rejected += 1;
        }
    }

    /// Reports a caveat that does not lose a record.
    pub fn warn(&mut self, out: &mut Parsed, diag: Diagnostic) {
        self.warnings += 1;
        if self.warnings <= DIAG_CAP {
            out.diagnostics.push(diag);
        }
    }

    /// Adds the "N more" summaries.
    pub fn finish(self, out: &mut Parsed) {
        for (level, n, what) in [
            (DiagLevel::Error, self.errors, "rejected records"),
            (DiagLevel::Warning, self.warnings, "warnings"),
        ] {
            if n > DIAG_CAP {
                let mut d = Diagnostic::file(
                    level,
                    &self.path,
                    format!("{} more {what} not detailed", n - DIAG_CAP),
                );
                d.format = Some(self.format);
                out.diagnostics.push(d);
            }
        }
    }
}

/// The first time-like property of a text capture row, read as culture-formatted local time.
pub fn text_time(props: &Props) -> Option<(chrono::DateTime<chrono::Utc>, crate::model::TsKind)> {
    [
        "LastTransitionTime",
        "WhenChangedUTC",
        "WhenChanged",
        "TimeCreated",
    ]
    .iter()
    .find_map(|n| props.text(n).and_then(super::time::local))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn props(names: &[&str]) -> Props {
        let mut p = Props::default();
        for n in names {
            p.push(*n, Value::Text("x".into()));
        }
        p
    }

    #[test]
    fn detects_by_type_echo_file_and_props() {
        let t = vec![
            "Microsoft.Exchange.Data.Directory.SystemConfiguration.ADOwaVirtualDirectory"
                .to_string(),
        ];
        let none = Props::default();
        assert_eq!(
            detect_command(&t, None, "x.xml", &none),
            Some(GET_OWA_VIRTUAL_DIRECTORY)
        );
        let t = vec!["Microsoft.Exchange.Data.Directory.Management.ExchangeServer".to_string()];
        assert_eq!(
            detect_command(&t, None, "", &none),
            Some(GET_EXCHANGE_SERVER)
        );
        let t = vec!["X.ConfigurationSettings.SettingOverrideStatus".to_string()];
        assert_eq!(detect_command(&t, None, "", &none), None);
        assert_eq!(
            detect_command(&[], Some("Get-ClientAccessServer | fl"), "", &none),
            Some(GET_CLIENT_ACCESS_SERVICE)
        );
        assert_eq!(
            detect_command(&[], Some("get-owamailboxpolicy"), "", &none),
            Some(GET_OWA_MAILBOX_POLICY)
        );
        assert_eq!(detect_command(&[], Some("Get-Mailbox"), "", &none), None);
        for (f, c) in [
            (
                "E16_Exchange_GetOwaVirtualDirectory.xml",
                GET_OWA_VIRTUAL_DIRECTORY,
            ),
            ("MBX01_ServerHealth_FL.TXT", GET_SERVER_HEALTH),
            ("MBX01_ExchangeServer_FL.TXT", GET_EXCHANGE_SERVER),
            ("Get-OwaMailboxPolicy.txt", GET_OWA_MAILBOX_POLICY),
            ("healthreport.txt", GET_HEALTH_REPORT),
            ("ClientAccessServer.txt", GET_CLIENT_ACCESS_SERVICE),
            ("ExchangeDiagnosticInfo.xml", GET_EXCHANGE_DIAGNOSTIC_INFO),
            (
                "Get-CsTrustedApplicationPool.txt",
                "Get-CsTrustedApplicationPool",
            ),
            ("CsTrustedApplication.txt", "Get-CsTrustedApplication"),
            ("Get-UMDialPlan.txt", "Get-UMDialPlan"),
        ] {
            assert_eq!(detect_command(&[], None, f, &none), Some(c), "{f}");
        }
        assert_eq!(
            detect_command(
                &[],
                None,
                "notes.txt",
                &props(&["InstantMessagingType", "InternalUrl"])
            ),
            Some(GET_OWA_VIRTUAL_DIRECTORY)
        );
        assert_eq!(
            detect_command(
                &[],
                None,
                "",
                &props(&["InstantMessagingType", "IsDefault"])
            ),
            Some(GET_OWA_MAILBOX_POLICY)
        );
        assert_eq!(
            detect_command(
                &[],
                None,
                "",
                &props(&["Thumbprint", "Services", "NotAfter"])
            ),
            Some(GET_EXCHANGE_CERTIFICATE)
        );
        assert_eq!(
            detect_command(&[], None, "", &props(&["SectionName", "Parameters"])),
            Some(GET_SETTING_OVERRIDE)
        );
        assert_eq!(
            detect_command(
                &[],
                None,
                "",
                &props(&["AdminDisplayVersion", "ServerRole"])
            ),
            Some(GET_EXCHANGE_SERVER)
        );
        assert_eq!(
            detect_command(&[], None, "", &props(&["HealthSetName", "AlertValue"])),
            Some(GET_SERVER_HEALTH)
        );
        assert_eq!(
            detect_command(
                &[],
                None,
                "",
                &props(&["HealthSet", "AlertValue", "MonitorCount"])
            ),
            Some(GET_HEALTH_REPORT)
        );
        assert_eq!(
            detect_command(&[], None, "", &props(&["AutoDiscoverServiceInternalUri"])),
            Some(GET_CLIENT_ACCESS_SERVICE)
        );
        assert_eq!(detect_command(&[], None, "", &props(&["Foo"])), None);
    }

    #[test]
    fn echo_lines() {
        assert_eq!(
            echo_command(r"PS C:\> Get-OwaVirtualDirectory | fl"),
            Some("Get-OwaVirtualDirectory | fl")
        );
        assert_eq!(
            echo_command(r"[PS] C:\Windows\system32>Get-ExchangeServer | Format-List"),
            Some("Get-ExchangeServer | Format-List")
        );
        assert_eq!(
            echo_command("PS> Get-ServerHealth"),
            Some("Get-ServerHealth")
        );
        assert_eq!(echo_command("PSComputerName : x"), None);
        assert_eq!(echo_command("Name : PS C:\\> x"), None);
        assert_eq!(
            echo_cmdlet_token("Get-ServerHealth -Identity x | ft"),
            Some("Get-ServerHealth")
        );
    }

    #[test]
    fn host_choice() {
        let mut p = Props::default();
        p.push("Server", Value::Text("TARGET01".into()));
        p.push("PSComputerName", Value::Text("ex01.contoso.com".into()));
        assert_eq!(
            host_of(Some(GET_SETTING_OVERRIDE), &p).as_deref(),
            Some("ex01.contoso.com")
        );
        assert_eq!(
            host_of(Some(GET_OWA_VIRTUAL_DIRECTORY), &p).as_deref(),
            Some("TARGET01")
        );
        let mut p = Props::default();
        p.push("Name", Value::Text("EX01".into()));
        p.push("Fqdn", Value::Text("".into()));
        assert_eq!(
            host_of(Some(GET_EXCHANGE_SERVER), &p).as_deref(),
            Some("EX01")
        );
        p.push("ServerName", Value::Null);
        assert_eq!(host_of(None, &p), None);
    }

    #[test]
    fn text_values() {
        assert_eq!(parse_text_value(" None "), Value::Text("None".into()));
        assert_eq!(
            parse_text_value("{a, b, c}"),
            Value::List {
                items: vec!["a".into(), "b".into(), "c".into()],
                truncated: false
            }
        );
        assert_eq!(
            parse_text_value("{a, b...}"),
            Value::List {
                items: vec!["a".into(), "b".into()],
                truncated: true
            }
        );
        assert_eq!(
            parse_text_value("{a…}"),
            Value::List {
                items: vec!["a".into()],
                truncated: true
            }
        );
        assert_eq!(
            parse_text_value("{}"),
            Value::List {
                items: vec![],
                truncated: false
            }
        );
    }

    #[test]
    fn lines_and_index() {
        let l = lines("a\r\nb\rc\nd");
        assert_eq!(
            l.iter()
                .map(|l| (l.text, l.no, l.offset))
                .collect::<Vec<_>>(),
            vec![("a", 1, 0), ("b", 2, 3), ("c", 3, 5), ("d", 4, 7)]
        );
        let ix = LineIndex::new("a\nb\r\nc");
        assert_eq!((ix.line(0), ix.line(2), ix.line(5)), (1, 2, 3));
    }
}
