//! Format recognition by content (formats.md §0.3; the table as implemented is
//! `grammars/sniffing.md`).
//!
//! Why this module exists: bundle file names say little (`.txt` holds Format-List captures,
//! wevtutil text and traces alike), so every file is recognised from its first bytes or its first
//! meaningful lines, in one fixed order of precedence. Binary containers are told apart from the raw
//! bytes ([`sniff_bytes`]); text formats from the decoded text ([`sniff_text`]), looking at no more
//! than the first 64 KiB (1 MiB for a substring inside an XML document). The file name is only ever
//! a tie-breaker.

use super::Kind;
use crate::model::Format;
use regex::Regex;
use std::sync::LazyLock;

/// How much of a text the line signatures look at.
const HEAD: usize = 64 * 1024;
/// How far into an XML document a marker element (`<appSettings`, `<IMSettings`) is searched.
const XML_SCAN: usize = 1 << 20;
/// How many lines of the head the line signatures look at.
const MAX_LINES: usize = 64;

/// `ustar` magic at offset 257 of a tar header (POSIX `ustar\0` and GNU `ustar  \0`).
pub fn is_tar_header(head: &[u8]) -> bool {
    head.get(257..262) == Some(b"ustar")
}

/// A DER X.509 certificate: `SEQUENCE` (long form length) holding a `SEQUENCE` (the TBS part) that
/// starts with the `[0]` version tag or an `INTEGER` serial (§8.6).
fn is_der_certificate(head: &[u8]) -> bool {
    match head {
        [0x30, 0x82, _, _, 0x30, 0x82, _, _, t, ..] => *t == 0xA0 || *t == 0x02,
        [0x30, 0x81, _, 0x30, 0x81, _, t, ..] => *t == 0xA0 || *t == 0x02,
        _ => false,
    }
}

/// Recognises binary containers and binary formats from the first bytes.
pub fn sniff_bytes(head: &[u8]) -> Kind {
    if head.starts_with(b"PK\x03\x04") || head.starts_with(b"PK\x05\x06") {
        Kind::Zip
    } else if head.starts_with(&[0x1F, 0x8B, 0x08]) {
        Kind::Gzip
    } else if head.starts_with(b"ElfFile\0") {
        Kind::Format(Format::Evtx)
    } else if is_der_certificate(head) {
        Kind::Format(Format::X509)
    } else if is_tar_header(head) {
        Kind::Tar
    } else {
        Kind::Unknown
    }
}

/// Recognises a text format from decoded text (BOM already removed); `file_name` is a hint only.
pub fn sniff_text(text: &str, file_name: &str) -> Option<Format> {
    let text = text.strip_prefix('\u{FEFF}').unwrap_or(text);
    let head = cut(text, HEAD);
    if head.trim_start().starts_with('<') {
        return sniff_xml(cut(text, XML_SCAN), file_name);
    }
    sniff_lines(head, file_name)
}

/// The command of a leading command-echo line (`PS C:\> Get-X | fl` → `Get-X | fl`), if the
/// capture starts with one (after blank lines).
pub fn command_echo(text: &str) -> Option<&str> {
    let text = text.strip_prefix('\u{FEFF}').unwrap_or(text);
    let first = lines(cut(text, HEAD)).find(|l| !l.trim().is_empty())?;
    echo_command(first)
}

/// Largest prefix of `s` of at most `n` bytes that ends on a char boundary.
fn cut(s: &str, n: usize) -> &str {
    if s.len() <= n {
        return s;
    }
    let mut end = n;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// Lines ending in CRLF, LF or a lone CR, without their line end.
fn lines(s: &str) -> impl Iterator<Item = &str> {
    let mut rest = s;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        match memchr::memchr2(b'\r', b'\n', rest.as_bytes()) {
            None => {
                let line = rest;
                rest = "";
                Some(line)
            }
            Some(i) => {
                let line = &rest[..i];
                let skip =
                    if rest.as_bytes()[i] == b'\r' && rest.as_bytes().get(i + 1) == Some(&b'\n') {
                        2
                    } else {
                        1
                    };
                rest = &rest[i + skip..];
                Some(line)
            }
        }
    })
}

// ---------------------------------------------------------------------------------------------
// XML documents
// ---------------------------------------------------------------------------------------------

const PS_NAMESPACE: &str = "schemas.microsoft.com/powershell/2004/04";

fn sniff_xml(scan: &str, file_name: &str) -> Option<Format> {
    let rest = skip_prolog(scan)?;
    let (root, root_tag, after_root) = start_tag(rest)?;
    let local = root.rsplit(':').next().unwrap_or(root);
    // 1. CLIXML wins over everything it may contain (an IMSettings override included).
    if local == "Objs" && root_tag.contains(PS_NAMESPACE) {
        return Some(Format::Clixml);
    }
    // 2. wevtutil XML: `<Event xmlns=…>` as root, an `<Events>` root, or any `/e:` root whose
    //    first child is `<Event xmlns=…>`.
    if (local == "Event" && root_tag.contains("xmlns")) || local == "Events" {
        return Some(Format::EventXml);
    }
    if let Some(child) = skip_prolog(after_root) {
        if let Some(("Event", tag, _)) = start_tag(child) {
            if tag.contains("xmlns") {
                return Some(Format::EventXml);
            }
        }
    }
    // 3. web.config: `<configuration>` holding `<appSettings>` (the name breaks the tie when the
    //    element lies beyond the scanned part).
    if local == "configuration"
        && (memchr::memmem::find(scan.as_bytes(), b"<appSettings").is_some()
            || ends_with_ci(file_name, ".config"))
    {
        return Some(Format::WebConfig);
    }
    // 4. Any other XML document holding `<IMSettings` (Get-ExchangeDiagnosticInfo; shape NOT KNOWN).
    if memchr::memmem::find(scan.as_bytes(), b"<IMSettings").is_some() {
        return Some(Format::DiagnosticInfoXml);
    }
    // 5. RTMT trace collection manifest: its element names are NOT KNOWN (§8.1), so the file name
    //    `TraceCollectionResult*.xml` breaks the tie for an XML document.
    if starts_with_ci(file_name, "TraceCollectionResult") {
        return Some(Format::RtmtManifest);
    }
    // 6. EWS SOAP responses and faults, EWS Managed API traces (§8.5).
    let b = scan.as_bytes();
    if local == "Trace" && root_tag.contains("Tag=\"Ews")
        || (memchr::memmem::find(b, b"schemas.microsoft.com/exchange/services/2006").is_some()
            && (local == "Envelope" || local == "Trace" || local == "Traces"))
    {
        return Some(Format::EwsTrace);
    }
    None
}

fn starts_with_ci(s: &str, prefix: &str) -> bool {
    s.get(..prefix.len())
        .is_some_and(|p| p.eq_ignore_ascii_case(prefix))
}

/// Skips white space, `<?…?>`, comments and `<!DOCTYPE …>`; `None` if the text ends first.
fn skip_prolog(mut s: &str) -> Option<&str> {
    loop {
        s = s.trim_start();
        let end = if s.starts_with("<?") {
            s.find("?>").map(|i| i + 2)
        } else if s.starts_with("<!--") {
            s.find("-->").map(|i| i + 3)
        } else if s.starts_with("<!") {
            s.find('>').map(|i| i + 1)
        } else {
            return if s.is_empty() { None } else { Some(s) };
        };
        s = &s[end?..];
    }
}

/// Parses `<name …>` at the start of `s`: (name, whole tag, text after the tag).
fn start_tag(s: &str) -> Option<(&str, &str, &str)> {
    let body = s.strip_prefix('<')?;
    let name_end = body
        .find(|c: char| c.is_whitespace() || c == '>' || c == '/')
        .unwrap_or(body.len());
    let name = &body[..name_end];
    if name.is_empty() {
        return None;
    }
    let tag_end = s.find('>').map(|i| i + 1).unwrap_or(s.len());
    Some((name, &s[..tag_end], &s[tag_end..]))
}

fn ends_with_ci(s: &str, suffix: &str) -> bool {
    s.len() >= suffix.len()
        && s.is_char_boundary(s.len() - suffix.len())
        && s[s.len() - suffix.len()..].eq_ignore_ascii_case(suffix)
}

// ---------------------------------------------------------------------------------------------
// Line formats
// ---------------------------------------------------------------------------------------------

/// `Get-CsServerVersion` output (§4.7).
static CS_VERSION: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(Microsoft )?(Lync|Skype for Business) Server \d{4}.*\(\d+\.\d+\.\d+\.\d+\)")
        .unwrap_or_else(|_| unreachable!("literal regex"))
});

/// Lync / Skype for Business SIPStack header line (§6.1).
static SIPSTACK: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^TL_[A-Z]+\(TF_[A-Z_]+\) \[").unwrap_or_else(|_| unreachable!("literal regex"))
});

/// Lync / Skype for Business client UccApi line (§7).
static UCCAPI: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^\d\d/\d\d/\d{4}\|\d\d:\d\d:\d\d\.\d{3}")
        .unwrap_or_else(|_| unreachable!("literal regex"))
});

/// `Resolve-DnsName` table header (§9): `Name  Type  TTL  Section`, runs of spaces vary.
static DNS_TABLE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^Name\s+Type\s+TTL\s+Section\b").unwrap_or_else(|_| unreachable!("literal regex"))
});

/// Cisco SDI line (§8.2): time of day, `|`, an optional ctime prefix, then `PID(` (the published
/// rendering also shows `ID(`).
static CISCO_SDI: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^\s?\d{1,2}:\d\d:\d\d\.\d{3}\s*\|\[?(?:[A-Z][a-z]{2} [A-Z][a-z]{2} \d{2} \d{2}:\d{2}:\d{2} \d{4}\]\s)?P?ID\(")
        .unwrap_or_else(|_| unreachable!("literal regex"))
});

/// Any Cisco time-of-day line (`hh:mm:ss.mmm |…`): XCP, or SDI / Presence Engine by file name.
static CISCO_TIME_LINE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^\s?\d{1,2}:\d\d:\d\d\.\d{3}\s*\|")
        .unwrap_or_else(|_| unreachable!("literal regex"))
});

/// Cisco log4j line (§8.2).
static CISCO_LOG4J: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} (?:TRACE|DEBUG|INFO|WARN|ERROR|FATAL)\s")
        .unwrap_or_else(|_| unreachable!("literal regex"))
});

/// The Avaya Contact Center look-alike, which must never be taken for Lync SIPStack (§6.7) nor
/// for anything else.
static TRACE_LINE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^\d\d/\d\d/\d{4}-\d\d:\d\d:\d\d\.\d{3} \[0x")
        .unwrap_or_else(|_| unreachable!("literal regex"))
});

/// nslookup output (a `Server:` line then an `Address:` line, possibly after an echoed
/// `> set type=…`), a `Resolve-DnsName` table, or `Resolve-DnsName` error records (§9).
fn is_dns_capture(lines: &[&str]) -> bool {
    let meaningful: Vec<&str> = lines
        .iter()
        .map(|l| l.trim())
        .filter(|l| !l.is_empty() && !l.starts_with('>'))
        .take(12)
        .collect();
    meaningful.windows(2).any(|w| {
        (w[0].starts_with("Server:") || w[0].starts_with("Default Server:"))
            && w[1].starts_with("Address:")
    }) || meaningful.iter().any(|l| {
        DNS_TABLE.is_match(l)
            || l.starts_with("Resolve-DnsName : ")
            || l.contains("FullyQualifiedErrorId : DNS_ERROR_")
    })
}

fn sniff_lines(head: &str, file_name: &str) -> Option<Format> {
    let all: Vec<&str> = lines(head).take(MAX_LINES).collect();
    let blank = |l: &&str| l.trim().is_empty();
    let mut start = all.iter().position(|l| !blank(l))?;
    if echo_command(all[start]).is_some() {
        start += 1 + all[start + 1..].iter().position(|l| !blank(l))?;
    }
    let first = all[start];
    let next = all.get(start + 1).copied().unwrap_or("");

    // Whole-file headers first: they are unambiguous.
    let t = first.trim_end();
    if t == "Windows Registry Editor Version 5.00" || t == "REGEDIT4" {
        return Some(Format::Registry);
    }
    if is_exchange_software(first) || (!first.starts_with('#') && is_exchange_software(next)) {
        return Some(Format::ExchangeLog);
    }
    if SIPSTACK.is_match(first) {
        return Some(Format::SipStack);
    }
    if UCCAPI.is_match(first) {
        return Some(Format::UccApi);
    }
    if CISCO_LOG4J.is_match(first) {
        return Some(Format::CiscoLog4j);
    }
    if CISCO_SDI.is_match(first) {
        return Some(Format::CiscoSdi);
    }
    if CISCO_TIME_LINE.is_match(first) {
        // The Presence Engine line is NOT KNOWN (§8.2): `epe`/`esp` files are SDI traces whatever
        // their first line; every other `time |` file is XCP.
        let n = file_name.to_ascii_lowercase();
        return Some(if n.starts_with("epe") || n.starts_with("esp") {
            Format::CiscoSdi
        } else {
            Format::CiscoXcp
        });
    }
    if first.trim() == "-----BEGIN CERTIFICATE-----" || first.trim() == "Certificate:" {
        return Some(Format::X509);
    }
    if all[start..]
        .iter()
        .take(12)
        .any(|l| l.trim_start().starts_with("Presence Gateway Type"))
    {
        return Some(Format::CiscoGateway);
    }
    if TRACE_LINE.is_match(first) {
        return None;
    }
    if is_dns_capture(&all[start..]) {
        return Some(Format::DnsCapture);
    }
    if first.starts_with("#TYPE ") {
        let header = all[start + 1..]
            .iter()
            .find(|l| !blank(l))
            .copied()
            .unwrap_or("");
        return is_winevent_header(header, true).then_some(Format::WinEventCsv);
    }
    if is_winevent_header(first, false) {
        return Some(Format::WinEventCsv);
    }
    if is_event_viewer_header(first) {
        return Some(Format::EventViewerCsv);
    }
    if is_event_text_start(first) {
        return Some(Format::EventText);
    }
    let meaningful: Vec<&str> = all[start..]
        .iter()
        .filter(|l| !blank(l))
        .take(3)
        .copied()
        .collect();
    if let [a, b, c] = meaningful[..] {
        if a.trim_start().starts_with("Log Name:")
            && b.trim_start().starts_with("Source:")
            && c.trim_start().starts_with("Date:")
        {
            return Some(Format::EventCopyText);
        }
    }
    if CS_VERSION.is_match(first.trim()) {
        return Some(Format::CsServerVersion);
    }
    // Format-Table before Format-List: a table row may hold " : " but a list never has a dash line.
    if is_format_table(first, next) {
        return Some(Format::FormatTable);
    }
    if is_format_list(&all[start..]) {
        return Some(Format::FormatList);
    }
    None
}

/// `PS C:\> cmd`, `PS> cmd`, `[PS] C:\Windows\system32>cmd`: returns `cmd`.
fn echo_command(line: &str) -> Option<&str> {
    let l = line.trim_start();
    let rest = if let Some(r) = l.strip_prefix("[PS]") {
        r
    } else if let Some(r) = l.strip_prefix("PS") {
        if !(r.starts_with(' ') || r.starts_with('>')) {
            return None;
        }
        r
    } else {
        return None;
    };
    let gt = rest.find('>')?;
    // The prompt is a path: no spaces-separated words with colons other than the drive.
    let prompt = rest[..gt].trim();
    if prompt.len() > 260 {
        return None;
    }
    Some(rest[gt + 1..].trim())
}

fn is_exchange_software(line: &str) -> bool {
    line.starts_with("#Software: Microsoft Exchange Server")
}

/// Splits a CSV header line on its separator (`,`, `;` or TAB, sniffed) and removes quotes.
fn header_fields(line: &str) -> Vec<&str> {
    let line = line.trim_end();
    let sep = if let Some(rest) = line.strip_prefix('"') {
        rest.find('"')
            .and_then(|i| rest[i + 1..].chars().next())
            .unwrap_or(',')
    } else {
        line.chars()
            .find(|c| matches!(c, ',' | ';' | '\t'))
            .unwrap_or(',')
    };
    line.split(sep)
        .map(|f| f.trim().trim_matches('"'))
        .collect()
}

/// `Get-WinEvent | Export-Csv` header: `"Message","Id","Version",…`; after a `#TYPE` line also a
/// header starting `"Message","Id"` or naming `Id` with `ProviderName` or `LogName`.
fn is_winevent_header(line: &str, typed: bool) -> bool {
    let f = header_fields(line);
    let eq = |i: usize, name: &str| f.get(i).is_some_and(|x| x.eq_ignore_ascii_case(name));
    let has = |name: &str| f.iter().any(|x| x.eq_ignore_ascii_case(name));
    if eq(0, "Message") && eq(1, "Id") && eq(2, "Version") {
        return true;
    }
    typed
        && ((eq(0, "Message") && eq(1, "Id"))
            || (has("Id") && (has("ProviderName") || has("LogName"))))
}

/// Event Viewer "Save All Events As" header, comma or TAB separated.
fn is_event_viewer_header(line: &str) -> bool {
    const NAMES: [&str; 5] = [
        "Level",
        "Date and Time",
        "Source",
        "Event ID",
        "Task Category",
    ];
    [',', '\t'].iter().any(|&sep| {
        let f: Vec<&str> = line
            .trim_end()
            .split(sep)
            .map(|x| x.trim().trim_matches('"'))
            .collect();
        f.len() >= 5 && f.iter().zip(NAMES).all(|(a, b)| *a == b)
    })
}

/// `Event[0]` or `Event[12]:` alone on its line.
fn is_event_text_start(line: &str) -> bool {
    let t = line.trim();
    let t = t.strip_suffix(':').unwrap_or(t);
    t.strip_prefix("Event[")
        .and_then(|r| r.strip_suffix(']'))
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

/// A line of dash runs separated by spaces: `----  -----`. Returns the number of runs.
fn dash_runs(line: &str) -> Option<usize> {
    let t = line.trim();
    if t.is_empty() || !t.bytes().all(|b| b == b'-' || b == b' ') {
        return None;
    }
    Some(t.split(' ').filter(|r| !r.is_empty()).count())
}

fn is_format_table(header: &str, dashes: &str) -> bool {
    let h = header.trim();
    if h.is_empty() || dash_runs(header).is_some() {
        return false;
    }
    match dash_runs(dashes) {
        Some(1) => {
            // One column: the run underlines the header exactly (PowerShell does), which keeps a
            // stray `----` under a sentence from counting.
            dashes.trim().chars().count() == h.chars().count() && h.chars().count() >= 2
        }
        Some(_) => true,
        None => false,
    }
}

/// A Format-List property line `Name<pad> : value` (or `Name :` with an empty value); returns the
/// column of the colon. Names are never indented and never hold a colon; the padding puts at least
/// one space before the colon, which tells it from `key: value` text (YAML, mail headers, SIP).
fn fl_property(line: &str) -> Option<usize> {
    let first = line.chars().next()?;
    if !(first.is_alphanumeric() || first == '_') {
        return None;
    }
    let bytes = line.as_bytes();
    let idx = memchr::memmem::find_iter(bytes, b" :")
        .find(|&i| matches!(bytes.get(i + 2), None | Some(b' ')))?;
    let name = line[..idx].trim_end();
    if name.is_empty() || name.contains(':') || name.len() > 128 {
        return None;
    }
    Some(line[..=idx].chars().count())
}

/// At least two property lines among the first lines, the first meaningful line being one, and the
/// colons of the first object aligned (continuation lines are indented).
fn is_format_list(lines: &[&str]) -> bool {
    let Some(column) = lines.first().and_then(|l| fl_property(l)) else {
        return false;
    };
    let mut props = 1;
    let mut first_object = true;
    for line in lines.iter().skip(1).take(40) {
        if line.trim().is_empty() {
            first_object = false;
            continue;
        }
        match fl_property(line) {
            Some(c) => {
                if first_object && c != column {
                    return false;
                }
                props += 1;
            }
            None if line.starts_with([' ', '\t']) => {}
            None if first_object => return false,
            None => {}
        }
    }
    props >= 2
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(text: &str) -> Option<Format> {
        sniff_text(text, "capture.txt")
    }

    #[test]
    fn bytes() {
        assert_eq!(sniff_bytes(b"PK\x03\x04rest"), Kind::Zip);
        assert_eq!(sniff_bytes(b"PK\x05\x06\0\0"), Kind::Zip);
        assert_eq!(sniff_bytes(&[0x1F, 0x8B, 0x08, 0]), Kind::Gzip);
        assert_eq!(sniff_bytes(b"ElfFile\0\0\0"), Kind::Format(Format::Evtx));
        let mut tar = vec![0u8; 512];
        tar[257..263].copy_from_slice(b"ustar\0");
        assert_eq!(sniff_bytes(&tar), Kind::Tar);
        assert_eq!(sniff_bytes(b"hello"), Kind::Unknown);
        assert_eq!(sniff_bytes(b""), Kind::Unknown);
        assert_eq!(sniff_bytes(b"ElfFile"), Kind::Unknown);
    }

    #[test]
    fn event_xml() {
        let ev = "<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System/></Event>";
        assert_eq!(s(ev), Some(Format::EventXml));
        assert_eq!(
            s(&format!("<?xml version=\"1.0\"?>\r\n{ev}")),
            Some(Format::EventXml)
        );
        assert_eq!(
            s(&format!("<root>\r\n  {ev}</root>")),
            Some(Format::EventXml)
        );
        assert_eq!(
            s("<Events>\n<Event xmlns=\"x\"></Event></Events>"),
            Some(Format::EventXml)
        );
    }

    #[test]
    fn event_text_and_copy_text() {
        assert_eq!(
            s("Event[0]\r\n  Log Name: Security\r\n"),
            Some(Format::EventText)
        );
        assert_eq!(
            s("\r\nEvent[0]:\r\n  Log Name: Security\r\n"),
            Some(Format::EventText)
        );
        let copy = "Log Name:      Application\r\nSource:        MSExchange ADAccess\r\nDate:          23-9-2010 17:06:55\r\nEvent ID:      2937\r\n";
        assert_eq!(s(copy), Some(Format::EventCopyText));
    }

    #[test]
    fn event_csvs() {
        assert_eq!(
            s("Level,Date and Time,Source,Event ID,Task Category\r\nInformation,10/7/2016 06:38:24 PM,X,4658,File System,\"d\"\r\n"),
            Some(Format::EventViewerCsv)
        );
        assert_eq!(
            s("Level\tDate and Time\tSource\tEvent ID\tTask Category\r\n"),
            Some(Format::EventViewerCsv)
        );
        assert_eq!(
            s("\"Message\",\"Id\",\"Version\",\"Qualifiers\",\"Level\"\r\n\"x\",\"5\"\r\n"),
            Some(Format::WinEventCsv)
        );
        assert_eq!(
            s("#TYPE System.Diagnostics.Eventing.Reader.EventLogRecord\r\n\"Id\";\"ProviderName\";\"Message\"\r\n"),
            Some(Format::WinEventCsv)
        );
        // Another Export-Csv: not an event export.
        assert_eq!(s("#TYPE Selected.Foo\r\n\"Name\",\"Value\"\r\n"), None);
    }

    #[test]
    fn exchange_log() {
        let log = "#Software: Microsoft Exchange Server\r\n#Version: 15.02.1118.007\r\n#Log-type: Sync Logs\r\n#Fields: date-time,a\r\n";
        assert_eq!(s(log), Some(Format::ExchangeLog));
        let bare = format!("DateTime,RequestId,Id,ProviderName\r\n{log}");
        assert_eq!(s(&bare), Some(Format::ExchangeLog));
    }

    #[test]
    fn xml_documents() {
        let cfg = "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<configuration>\n <system.web/>\n <appSettings>\n <add key=\"IMServerName\" value=\"pool\"/>\n </appSettings>\n</configuration>\n";
        assert_eq!(s(cfg), Some(Format::WebConfig));
        assert_eq!(
            sniff_text("<configuration><runtime/></configuration>", "web.config"),
            Some(Format::WebConfig)
        );
        assert_eq!(s("<configuration><runtime/></configuration>"), None);
        let clixml = "<Objs Version=\"1.1.0.1\" xmlns=\"http://schemas.microsoft.com/powershell/2004/04\">\n<Obj RefId=\"0\"><S N=\"x\">&lt;IMSettings&gt;</S><IMSettings/></Obj></Objs>";
        assert_eq!(s(clixml), Some(Format::Clixml));
        let diag = "<?xml version=\"1.0\"?>\n<Diagnostics><Components><VariantConfiguration><Configuration><OwaServer><IMSettings Enabled=\"true\"/></OwaServer></Configuration></VariantConfiguration></Components></Diagnostics>";
        assert_eq!(s(diag), Some(Format::DiagnosticInfoXml));
        assert_eq!(
            s("<Objects><Object Type=\"System.String\"/></Objects>"),
            None
        );
        assert_eq!(s("<"), None);
        assert_eq!(s("<?xml"), None);
    }

    #[test]
    fn registry_and_version() {
        assert_eq!(
            s("Windows Registry Editor Version 5.00\r\n\r\n[HKEY_LOCAL_MACHINE\\X]\r\n"),
            Some(Format::Registry)
        );
        assert_eq!(
            s("REGEDIT4\n\n[HKEY_CURRENT_USER\\X]\n"),
            Some(Format::Registry)
        );
        assert_eq!(
            s("Skype for Business Server 2015 (6.0.9319.0): Volume license key installed.\r\n"),
            Some(Format::CsServerVersion)
        );
        assert_eq!(
            s("PS C:\\> Get-CsServerVersion\r\n\r\nMicrosoft Lync Server 2013 (5.0.8308.0): Volume license key installed.\r\n"),
            Some(Format::CsServerVersion)
        );
    }

    #[test]
    fn format_table() {
        let ft = "\r\nServer  State         HealthSet AlertValue\r\n------  -----         --------- ----------\r\nServer1 NotApplicable AD        Healthy\r\n";
        assert_eq!(s(ft), Some(Format::FormatTable));
        let echo = format!("[PS] C:\\Windows\\system32>Get-HealthReport | ft\r\n{ft}");
        assert_eq!(s(&echo), Some(Format::FormatTable));
        assert_eq!(s("Name\r\n----\r\nMBX01\r\n"), Some(Format::FormatTable));
        // A row holding " : " stays a table.
        assert_eq!(
            s("Key  Value\r\n---  -----\r\nA    x : y\r\n"),
            Some(Format::FormatTable)
        );
        // A sentence with a rule under it is not a table.
        assert_eq!(s("Some title here\r\n---\r\n"), None);
    }

    #[test]
    fn format_list() {
        let fl = "\r\n\r\nName                 : owa (Default Web Site)\r\nInstantMessagingType : Ocs\r\nServer               : MBX01\r\n\r\nName : second\r\n";
        assert_eq!(s(fl), Some(Format::FormatList));
        let echo = format!("PS C:\\> Get-OwaVirtualDirectory | fl\r\n{fl}");
        assert_eq!(s(&echo), Some(Format::FormatList));
        assert_eq!(command_echo(&echo), Some("Get-OwaVirtualDirectory | fl"));
        let wrapped = "IsSingleByte      : True\r\nEndpointStatus    : a long value\r\n                    continued here\r\nBodyName          :\r\n";
        assert_eq!(s(wrapped), Some(Format::FormatList));
        // Misaligned colons, YAML and mail headers are not Format-List.
        assert_eq!(s("Name : a\r\nState   : b\r\n"), None);
        assert_eq!(s("name: a\nstate: b\n"), None);
        assert_eq!(s("From: a@b\r\nTo: c@d\r\n"), None);
        assert_eq!(s("Name : only one\r\n"), None);
    }

    #[test]
    fn look_alikes_and_junk() {
        assert_eq!(
            s("01/08/2022-11:36:14.354 [0x000021ac] - --> Message to Send (Dest Address IP:  10.50.14.2:4165):$$begin_record\r\nDirection : outgoing\r\nStart-Line : x\r\n"),
            None
        );
        assert_eq!(s("TL_INFO(TF_PROTOCOL) [0]0F28.0C74::01/18/2012-05:00:43.101.0000ab01 (SIPStack,SIPAdminLog::TraceProtocolRecord:1224.idx(196))$$begin_record\r\n"), Some(Format::SipStack));
        assert_eq!(
            s("01/15/2012|11:30:10.163 1A2C:1B3D INFO  :: Sending Packet - x\r\n"),
            Some(Format::UccApi)
        );
        assert_eq!(
            s("Server:  dc01.contoso.local\r\nAddress:  10.0.0.10\r\n\r\nNon-authoritative answer:\r\nName:    mail.contoso.com\r\nAddress:  10.0.0.20\r\n"),
            Some(Format::DnsCapture)
        );
        assert_eq!(
            s("\r\nName                           Type   TTL   Section    IPAddress\r\n----                           ----   ---   -------    ---------\r\nmail.contoso.com               A      3600  Answer     10.0.0.20\r\n"),
            Some(Format::DnsCapture)
        );
        assert_eq!(
            s("Resolve-DnsName : autodiscover.contoso.com : DNS name does not exist\r\nAt line:1 char:1\r\n    + FullyQualifiedErrorId : DNS_ERROR_RCODE_NAME_ERROR,Microsoft.DnsClient.Commands.ResolveDnsName\r\n"),
            Some(Format::DnsCapture)
        );
        assert_eq!(
            s("The quick brown fox\r\njumps over the lazy dog.\r\n"),
            None
        );
        assert_eq!(s(""), None);
        assert_eq!(s("\r\n\r\n  \r\n"), None);
        assert_eq!(s("PS C:\\>"), None);
        assert_eq!(s("\u{1}\u{2}\u{3}binary\0junk"), None);
        assert_eq!(s("\u{FEFF}REGEDIT4\r\n"), Some(Format::Registry));
    }

    #[test]
    fn lone_cr_lines() {
        assert_eq!(
            s("Event[0]\r  Log Name: Security\r"),
            Some(Format::EventText)
        );
        assert_eq!(
            lines("a\r\nb\rc\nd").collect::<Vec<_>>(),
            ["a", "b", "c", "d"]
        );
    }

    #[test]
    fn cut_respects_char_boundaries() {
        let t = "é".repeat(HEAD);
        assert!(cut(&t, HEAD).len() <= HEAD);
        let _ = sniff_text(&t, "x");
    }
}
