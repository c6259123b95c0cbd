//! The one event model every parser produces and every later stage consumes.
//!
//! Why this module exists: imtriage reads a dozen unrelated formats (binary event logs, CSV logs,
//! PowerShell captures, XML configuration, registry exports, ...). Correlation and classification must
//! not care which one a fact came from, so every parser turns its input into [`Event`]s that share one
//! location type, one time type and one of a small set of [`Body`] shapes. Input problems are
//! [`Diagnostic`]s, which are data too: a bad record never aborts a run.
//!
//! This module depends on nothing else in the crate; every stage may import it.

use chrono::{DateTime, Utc};
use serde::Serialize;
use std::fmt;
use std::sync::Arc;

/// Upper bound for excerpts kept on events and diagnostics (bytes, cut at a char boundary).
pub const EXCERPT_MAX: usize = 240;

/// Every input format imtriage recognises. The string forms are part of the JSON output.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Format {
    /// Binary `.evtx` (formats.md §1.2).
    Evtx,
    /// `wevtutil qe /f:xml` fragment stream, also a single exported event XML (§1.3).
    EventXml,
    /// `wevtutil qe /f:text` blocks (§1.4).
    EventText,
    /// Event Viewer "Copy details as text" (§1.5).
    EventCopyText,
    /// Event Viewer "Save All Events As" CSV or TSV (§1.6).
    EventViewerCsv,
    /// `Get-WinEvent | Export-Csv` (§1.7).
    WinEventCsv,
    /// Exchange `#Fields` CSV logs: OWA InstantMessaging Sync Logs, EWS, HttpProxy, ... (§2).
    ExchangeLog,
    /// OWA `web.config` (§3).
    WebConfig,
    /// PowerShell `Format-List` text (§4.2).
    FormatList,
    /// PowerShell `Format-Table` text (§4.3).
    FormatTable,
    /// PowerShell `Export-Clixml` (§4.4).
    Clixml,
    /// Windows registry `.reg` export (§5).
    Registry,
    /// `Get-CsServerVersion` one-line output (§4.7).
    CsServerVersion,
    /// `Get-ExchangeDiagnosticInfo ... VariantConfiguration` XML holding `IMSettings` (§4.5; shape NOT KNOWN).
    DiagnosticInfoXml,
    /// Lync / Skype for Business Server SIPStack text traces (OCSLogger, Snooper, CLS) (§6).
    SipStack,
    /// Lync / Skype for Business client UccApi logs (§7).
    UccApi,
    /// `nslookup` and `Resolve-DnsName` output (§9).
    DnsCapture,
    /// Cisco IM and Presence SDI traces: SIP Proxy `esp`, Presence Engine `epe` (§8.2).
    CiscoSdi,
    /// Cisco IM and Presence XCP traces (§8.2).
    CiscoXcp,
    /// Cisco IM and Presence log4j service logs (§8.2).
    CiscoLog4j,
    /// RTMT `TraceCollectionResult*.xml` manifest (§8.1; element names NOT KNOWN).
    RtmtManifest,
    /// Presence Gateway page text with the "Exchange Server Status" lines (§8.3).
    CiscoGateway,
    /// X.509 certificates: PEM, DER, or `show cert`-style text (§8.6).
    X509,
    /// EWS SOAP responses and faults, EWS Managed API traces (§8.5).
    EwsTrace,
}

impl Format {
    /// Every format, in a stable order (used for summaries).
    pub const ALL: &'static [Format] = &[
        Format::Evtx,
        Format::EventXml,
        Format::EventText,
        Format::EventCopyText,
        Format::EventViewerCsv,
        Format::WinEventCsv,
        Format::ExchangeLog,
        Format::WebConfig,
        Format::FormatList,
        Format::FormatTable,
        Format::Clixml,
        Format::Registry,
        Format::CsServerVersion,
        Format::DiagnosticInfoXml,
        Format::SipStack,
        Format::UccApi,
        Format::DnsCapture,
        Format::CiscoSdi,
        Format::CiscoXcp,
        Format::CiscoLog4j,
        Format::RtmtManifest,
        Format::CiscoGateway,
        Format::X509,
        Format::EwsTrace,
    ];

    /// The stable name used in JSON output and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Evtx => "evtx",
            Format::EventXml => "event-xml",
            Format::EventText => "event-text",
            Format::EventCopyText => "event-copy-text",
            Format::EventViewerCsv => "event-viewer-csv",
            Format::WinEventCsv => "win-event-csv",
            Format::ExchangeLog => "exchange-log",
            Format::WebConfig => "web-config",
            Format::FormatList => "format-list",
            Format::FormatTable => "format-table",
            Format::Clixml => "clixml",
            Format::Registry => "registry",
            Format::CsServerVersion => "cs-server-version",
            Format::DiagnosticInfoXml => "diagnostic-info-xml",
            Format::SipStack => "sipstack",
            Format::UccApi => "uccapi",
            Format::DnsCapture => "dns-capture",
            Format::CiscoSdi => "cisco-sdi",
            Format::CiscoXcp => "cisco-xcp",
            Format::CiscoLog4j => "cisco-log4j",
            Format::RtmtManifest => "rtmt-manifest",
            Format::CiscoGateway => "cisco-gateway",
            Format::X509 => "x509",
            Format::EwsTrace => "ews-trace",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How much a record's time can be trusted (formats.md §0.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum TsKind {
    /// The format states UTC (a `Z` or an explicit offset that was applied).
    Utc,
    /// Documented or strongly inferred UTC without a marker.
    AssumedUtc,
    /// Local time of an unknown zone; the wall-clock value is stored as if it were UTC.
    Local,
    /// Only a time of day was present; the date came from elsewhere.
    TimeOnly,
    /// No time at all.
    #[default]
    None,
}

/// Where a record sits in the bundle. `path` is the path inside the bundle, archive members
/// included (`bundle.zip!MBX01/Application.evtx`). Numbers are 1-based; 0 means "not applicable".
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Location {
    pub path: Arc<str>,
    /// 1-based line of the first line of the record in the decoded text (0: binary format).
    pub line: u64,
    /// 1-based record number within the file (event record, object, row).
    pub record: u64,
    /// Byte offset of the record's start in the decoded text, or in the file for binary formats.
    pub offset: u64,
}

/// Where the host of an event came from (formats.md §10.2), in priority order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum HostFrom {
    /// A field of the record (`Computer`, `MachineName`, `ServerName`, `Server`, `Fqdn`, `PSComputerName`).
    Record,
    /// A `<HOST>_` prefix of the file name.
    FileName,
    /// A per-server folder of the bundle.
    Folder,
    /// Nothing in the record, its name or its folder named a host, but the bundle holds exactly one.
    Bundle,
    /// Nothing named a host.
    #[default]
    Unknown,
}

/// A Windows event in any of its five export forms, reduced to what identity and rules need.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct WinEvent {
    /// `Channel` / `Log Name` / `LogName`; may be empty (Event Viewer CSV has none).
    pub channel: String,
    /// `Provider/@Name` / `Source` / `ProviderName`.
    pub provider: String,
    /// Event ID already masked with `& 0xFFFF`.
    pub event_id: u32,
    pub qualifiers: Option<u32>,
    /// Numeric level when the form carries it (1 Critical, 2 Error, 3 Warning, 4 Information).
    pub level: Option<u8>,
    /// Level as printed by text forms (`Error`, `Warning`, ...), kept raw.
    pub level_text: Option<String>,
    pub task: Option<String>,
    pub record_id: Option<u64>,
    /// Unnamed insertion strings (`<Data>` without Name), in order.
    pub data: Vec<String>,
    /// Named data: `<Data Name="x">` and the children of `UserData/<Root>` (Managed Availability
    /// EventXML: `Monitor`, `HealthSet`, `Subject`, `Message`).
    pub named: Vec<(String, String)>,
    /// Rendered description when the form has one (text and CSV forms, RenderedXml).
    pub description: Option<String>,
}

impl WinEvent {
    /// Value of a named data item (case-insensitive name).
    pub fn named(&self, name: &str) -> Option<&str> {
        self.named
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// One value of a PowerShell object property or a log field.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Value {
    /// `$null` / `<Nil>`.
    Null,
    /// A scalar, as text (numbers, booleans and enums by their string form).
    Text(String),
    /// A collection (`<LST>`, `{a, b, c}`); `truncated` when the capture cut it (`...}`).
    List { items: Vec<String>, truncated: bool },
}

impl Value {
    /// Scalar text, or `None` for null and lists.
    pub fn as_text(&self) -> Option<&str> {
        match self {
            Value::Text(s) => Some(s),
            _ => None,
        }
    }

    /// True for null, an empty or all-white-space string, and an empty list.
    pub fn is_empty(&self) -> bool {
        match self {
            Value::Null => true,
            Value::Text(s) => s.trim().is_empty(),
            Value::List { items, .. } => items.is_empty(),
        }
    }

    /// The items of a list, or the scalar as a one-item list.
    pub fn items(&self) -> Vec<&str> {
        match self {
            Value::Null => vec![],
            Value::Text(s) => vec![s.as_str()],
            Value::List { items, .. } => items.iter().map(String::as_str).collect(),
        }
    }
}

/// An ordered property bag (names keep their original case; lookups ignore case).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Props(pub Vec<(String, Value)>);

impl Props {
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.0
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    }

    /// Scalar text of a property.
    pub fn text(&self, name: &str) -> Option<&str> {
        self.get(name).and_then(Value::as_text)
    }

    pub fn push(&mut self, name: impl Into<String>, value: Value) {
        self.0.push((name.into(), value));
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// One registry value of a `.reg` export.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RegValue {
    /// Value name; `@` for the default value.
    pub name: String,
    /// `REG_SZ`, `REG_DWORD`, `REG_BINARY`, `REG_EXPAND_SZ`, `REG_MULTI_SZ`, `REG_QWORD`, `hex(n)`, `delete`.
    pub kind: String,
    /// Decoded data as text: strings as is, DWORD/QWORD as `0x` hex, multi-strings joined by `\n`,
    /// binary as comma-separated hex bytes.
    pub data: String,
}

/// One `ms-diagnostics`, `ms-diagnostics-public` or `ms-client-diagnostics` header (formats.md §6.4).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MsDiagnostic {
    /// The header name as written (`ms-diagnostics`, `Ms-diagnostics-public`, ...).
    pub header: String,
    /// The numeric error id (1010, 1047, 15030, ...).
    pub code: u32,
    pub sub_code: Option<u32>,
    /// `name=value` attributes in order, quotes (straight or typographic) and padding removed.
    pub attrs: Vec<(String, String)>,
}

impl MsDiagnostic {
    /// Value of an attribute (case-insensitive name).
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// A SIPStack record (§6) or a UccApi client log record (§7), with the SIP message it carries.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct SipRecord {
    /// `protocol`, `connection`, `diagnostic`, `component`, `security`, `trace_text` (SIPStack) or
    /// `client` (UccApi). Serialised as `record_kind`: `kind` names the body variant.
    #[serde(rename = "record_kind")]
    pub kind: String,
    /// `TL_INFO`, `TL_WARN`, `TL_ERROR` (SIPStack) or `INFO`, ... (UccApi), as printed.
    pub level: String,
    /// `TF_PROTOCOL`, `TF_CONNECTION`, ... (SIPStack); empty for UccApi.
    pub flag: String,
    /// The record's `Key: value` body lines (SIPStack) in order; SIP headers are in `headers`.
    pub fields: Props,
    /// The SIP start line (`INVITE sip:… SIP/2.0`, `SIP/2.0 504 Server time-out`).
    pub start_line: Option<String>,
    /// SIP headers of the carried message, wire case kept.
    pub headers: Props,
    /// Parsed `ms-diagnostics` family headers.
    pub diagnostics: Vec<MsDiagnostic>,
    /// Result codes and HRESULTs found in the record, normalised to `0xXXXXXXXX` with the symbol
    /// when known (`0xC3E93D67 SIPPROXY_E_ROUTING_MSG_CERT_MISMATCH`, `0x80090322 SEC_E_WRONG_PRINCIPAL`).
    pub codes: Vec<String>,
    /// Free text of the record (`Text:` value, trace text, client log text).
    pub text: String,
}

/// One name-resolution result from `nslookup` or `Resolve-DnsName` (§9).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct DnsRecord {
    /// `nslookup` or `Resolve-DnsName`.
    pub tool: String,
    /// The name that was looked up, lower case, without a trailing dot.
    pub query: String,
    /// `A`, `AAAA`, `CNAME`, `SRV`, ... (empty when the capture does not say).
    pub rtype: String,
    /// Answers: addresses, alias targets, `priority weight port target` for SRV.
    pub answers: Vec<String>,
    /// The failure, normalised: `nxdomain`, `timeout`, `no-records`, `server-failure`, `refused` or the raw text.
    pub error: Option<String>,
}

/// The shape-specific content of an event.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Body {
    /// A Windows event (all five forms).
    WinEvent(WinEvent),
    /// One row of an Exchange `#Fields` log; `log_type` is the `#Log-type` value.
    LogRow { log_type: String, fields: Props },
    /// One PowerShell object (Format-List, Format-Table row, CLIXML object, Get-CsServerVersion line).
    /// `type_names` holds CLIXML `<T>` names (most derived first) when known; `command` the cmdlet
    /// the capture came from when the file or content says so (`Get-OwaVirtualDirectory`).
    Object {
        type_names: Vec<String>,
        command: Option<String>,
        props: Props,
    },
    /// The `appSettings` of a web.config: `key`/`value` pairs, commented-out entries excluded.
    AppSettings { settings: Props },
    /// One key section of a registry export.
    RegistryKey {
        key: String,
        deleted: bool,
        values: Vec<RegValue>,
    },
    /// A SIPStack or UccApi record.
    Sip(SipRecord),
    /// A name-resolution result.
    Dns(DnsRecord),
}

/// One normalised record of the bundle.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Event {
    pub format: Format,
    pub loc: Location,
    /// UTC time, or the local wall-clock time stored as UTC when `ts_kind` is `Local`.
    pub time: Option<DateTime<Utc>>,
    pub ts_kind: TsKind,
    /// Host as named by the record itself (raw, not normalised); attribution fills the rest later.
    pub host: Option<String>,
    pub host_from: HostFrom,
    pub body: Body,
    /// A short excerpt of the raw record for evidence (at most [`EXCERPT_MAX`] bytes).
    pub excerpt: String,
}

impl Event {
    /// A new event with no time and no host.
    pub fn new(format: Format, loc: Location, body: Body, excerpt: &str) -> Event {
        Event {
            format,
            loc,
            time: None,
            ts_kind: TsKind::None,
            host: None,
            host_from: HostFrom::Unknown,
            body,
            excerpt: excerpt_of(excerpt),
        }
    }

    /// Sets the time and its kind.
    pub fn with_time(mut self, time: Option<DateTime<Utc>>, kind: TsKind) -> Event {
        self.ts_kind = if time.is_some() { kind } else { TsKind::None };
        self.time = time;
        self
    }

    /// Sets the host named by the record (ignored when empty or a placeholder such as `-`).
    pub fn with_host(mut self, host: Option<&str>) -> Event {
        if let Some(h) = host.map(str::trim).filter(|h| !h.is_empty() && *h != "-") {
            self.host = Some(h.to_string());
            self.host_from = HostFrom::Record;
        }
        self
    }
}

/// How bad an input problem is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DiagLevel {
    /// A record or file could not be read; something is missing from the analysis.
    Error,
    /// Read, but with a caveat (guessed encoding, unknown field, truncated collection).
    Warning,
    /// Worth knowing (skipped a file that is not a supported format).
    Info,
}

/// An input problem: unreadable file, rejected record, unsupported content.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Diagnostic {
    pub level: DiagLevel,
    pub path: Arc<str>,
    /// 1-based line (0: not applicable).
    pub line: u64,
    /// 1-based record number (0: not applicable).
    pub record: u64,
    /// Byte offset (0 also when unknown).
    pub offset: u64,
    pub format: Option<Format>,
    /// Lower-case sentence without a trailing period: what went wrong.
    pub message: String,
    pub excerpt: Option<String>,
}

impl Diagnostic {
    /// A diagnostic at a location.
    pub fn at(
        level: DiagLevel,
        loc: &Location,
        format: Format,
        message: impl Into<String>,
    ) -> Self {
        Diagnostic {
            level,
            path: loc.path.clone(),
            line: loc.line,
            record: loc.record,
            offset: loc.offset,
            format: Some(format),
            message: message.into(),
            excerpt: None,
        }
    }

    /// A diagnostic about a whole file.
    pub fn file(level: DiagLevel, path: &Arc<str>, message: impl Into<String>) -> Self {
        Diagnostic {
            level,
            path: path.clone(),
            line: 0,
            record: 0,
            offset: 0,
            format: None,
            message: message.into(),
            excerpt: None,
        }
    }

    pub fn with_excerpt(mut self, raw: &str) -> Self {
        self.excerpt = Some(excerpt_of(raw));
        self
    }
}

/// What parsing one file (or one chunk of it) produced.
///
/// Invariant checked by tests: `parsed + rejected` equals the number of records present, every
/// rejected record has an `Error` diagnostic (parsers may cap the detailed ones per file and add one
/// diagnostic that states how many more were rejected).
#[derive(Debug, Default)]
pub struct Parsed {
    pub events: Vec<Event>,
    pub diagnostics: Vec<Diagnostic>,
    /// Records turned into events.
    pub parsed: u64,
    /// Records that could not be parsed (each reported).
    pub rejected: u64,
    /// Records counted but not parsed: `analyze`'s prefilter found no catalog literal in them
    /// ([`crate::formats::skim`]). Always 0 for `imtriage events`.
    pub skipped: u64,
}

impl Parsed {
    /// Appends another chunk's output (chunks are merged in input order).
    pub fn append(&mut self, mut other: Parsed) {
        self.events.append(&mut other.events);
        self.diagnostics.append(&mut other.diagnostics);
        self.parsed += other.parsed;
        self.rejected += other.rejected;
        self.skipped += other.skipped;
    }

    /// Adds `base` to the record numbers of the events and positioned diagnostics (a piece of a
    /// file parsed on its own numbers its records from 1).
    pub fn renumber(&mut self, base: u64) {
        for e in &mut self.events {
            e.loc.record += base;
        }
        for d in &mut self.diagnostics {
            if d.record > 0 {
                d.record += base;
            }
        }
    }

    /// Records an accepted event.
    pub fn push(&mut self, event: Event) {
        self.parsed += 1;
        self.events.push(event);
    }

    /// Records a rejected record with its diagnostic.
    pub fn reject(&mut self, diag: Diagnostic) {
        self.rejected += 1;
        self.diagnostics.push(diag);
    }
}

/// Cuts `raw` to at most [`EXCERPT_MAX`] bytes at a char boundary, trimming line ends and
/// replacing control characters (other than tab) by spaces so that an excerpt is one line.
pub fn excerpt_of(raw: &str) -> String {
    let mut end = raw.len().min(EXCERPT_MAX);
    while !raw.is_char_boundary(end) {
        end -= 1;
    }
    let cut = &raw[..end];
    let mut out: String = cut
        .trim_end()
        .chars()
        .map(|c| if c.is_control() && c != '\t' { ' ' } else { c })
        .collect();
    if end < raw.len() {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn excerpt_is_bounded_and_one_line() {
        let long = "é".repeat(400);
        let e = excerpt_of(&long);
        assert!(e.len() <= EXCERPT_MAX + '…'.len_utf8());
        assert!(e.ends_with('…'));
        assert_eq!(excerpt_of("a\r\nb\n"), "a  b");
    }

    #[test]
    fn props_lookup_ignores_case() {
        let mut p = Props::default();
        p.push("InstantMessagingType", Value::Text("OCS".into()));
        assert_eq!(p.text("instantmessagingtype"), Some("OCS"));
        assert!(p.get("missing").is_none());
    }
}
