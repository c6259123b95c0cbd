//! The `ms-diagnostics` header family, Result-Codes and HRESULTs (formats.md §6.4, §6.5), shared
//! by the SIPStack parser ([`crate::formats::sipstack`]) and the UccApi client-log parser.
//!
//! Why this module exists: the numeric diagnostic id of an `ms-diagnostics` header and the
//! HRESULT / Result-Code of a failure are the facts the cause catalog keys on, and they reach a
//! bundle through two unrelated log formats (server SIPStack traces, client UccApi logs) and in
//! several renderings (`0xc3e93d67 SIPPROXY_E_…`, `0xC3E93C5E(SIPPROXY_E_ROUTING)`,
//! `HRESULT="0x80090322(SEC_E_WRONG_PRINCIPAL)"`, a symbol alone, a decimal). This module parses
//! each rendering once and normalises codes to `0xXXXXXXXX` upper-case hex plus the symbol.
//!
//! Grammar (rule names are the functions below):
//!
//! ```text
//! parse_header := SP* CODE ["." SUB] SP* [";"] params
//! params       := [param] (SP* ";" SP* [param])*
//! param        := NAME SP* ["=" SP* value]
//! value        := QUOTE [^QUOTE]* QUOTE | [^;]*      ; QUOTE is " or “ or ”, padding trimmed
//! codes_in     := ( HEX8 [SYM_SUFFIX] | CONTEXT | KNOWN_SYMBOL | other )*
//! HEX8         := "0x" 8 hex digits, first digit 8–F (a failure HRESULT), word-bounded
//! CONTEXT      := ("Result-Code" | "HRESULT") SP* (":"|"=") SP* [QUOTE] ("0x" 1*8 hex | ["-"] 1*10 digit)
//! SYM_SUFFIX   := "(" SYMBOL ")" | SP+ SYMBOL          ; SYMBOL := [A-Z][A-Z0-9]*("_"[A-Z0-9]+)+
//! ```

use crate::model::{MsDiagnostic, Props, Value};
use regex::Regex;
use std::sync::OnceLock;

/// Result codes and HRESULTs whose symbol is known (formats.md §6.5, VERIFIED unless noted).
const KNOWN: &[(u32, &str)] = &[
    (0xC3E9_3C5E, "SIPPROXY_E_ROUTING"),
    (
        0xC3E9_3D6F,
        "SIPPROXY_E_EPROUTING_MSG_ALLOWED_DOMAIN_NO_SRV_MATCH",
    ),
    (0xC3E9_3D67, "SIPPROXY_E_ROUTING_MSG_CERT_MISMATCH"),
    (0xC3E9_3C2F, "SIPPROXY_E_UNKNOWN_USER_OR_EPID"),
    (0xC3E8_302D, "SIPPROXY_E_WORKER_PROCESS_SLOW_INITIALIZING"),
    (0xC3E9_3EE0, "SIP_E_CRYPT_REFERRER_DATE_SKEWED"),
    (0x8009_0322, "SEC_E_WRONG_PRINCIPAL"),
    (0x800B_0109, "CERT_E_UNTRUSTEDROOT"),
    // NOT KNOWN in SIPStack / ms-diagnostics text; the value is the standard winerror.h one.
    (0x8009_0325, "SEC_E_UNTRUSTED_ROOT"),
];

/// Symbols seen without a hex value (formats.md §6.5); reported as the bare symbol.
const SYMBOL_ONLY: &[&str] = &["SIPPROXY_E_EPROUTING_MSG_INVALID_EXT_SPLIT_DOMAIN"];

/// Most codes kept per [`Codes`] accumulator (a pathological text cannot grow it without bound).
pub const CODES_MAX: usize = 64;

/// The three header names of the family, any case: `ms-diagnostics`, `ms-diagnostics-public`,
/// `ms-client-diagnostics`.
pub fn is_diag_header(name: &str) -> bool {
    let n = name.trim();
    [
        "ms-diagnostics",
        "ms-diagnostics-public",
        "ms-client-diagnostics",
    ]
    .iter()
    .any(|h| n.eq_ignore_ascii_case(h))
}

/// Parses the value of an `ms-diagnostics` family header (the text after the colon).
///
/// `name` is kept as written in [`MsDiagnostic::header`] (it is not checked; see
/// [`is_diag_header`]). Returns `None` when the value does not start with a numeric code
/// (`1047`, `1010.2`). Attributes keep their order; straight and typographic quotes and the
/// padding inside them are removed; a `;` inside quotes does not split.
pub fn parse_header(name: &str, value: &str) -> Option<MsDiagnostic> {
    let v = value.trim_start();
    let digits = v.bytes().take_while(u8::is_ascii_digit).count();
    let code: u32 = v.get(..digits)?.parse().ok()?;
    let mut rest = v.get(digits..).unwrap_or("");
    let mut sub_code = None;
    if let Some(after_dot) = rest.strip_prefix('.') {
        let n = after_dot.bytes().take_while(u8::is_ascii_digit).count();
        if n > 0 {
            sub_code = after_dot.get(..n).and_then(|s| s.parse().ok());
            rest = after_dot.get(n..).unwrap_or("");
        }
    }
    // The code must end at a delimiter: `1047abc` is not a diagnostic.
    if rest
        .chars()
        .next()
        .is_some_and(|c| !(c == ';' || c.is_whitespace()))
    {
        return None;
    }
    Some(MsDiagnostic {
        header: name.trim().to_string(),
        code,
        sub_code,
        attrs: params(rest),
    })
}

fn is_quote(c: char) -> bool {
    matches!(c, '"' | '\u{201C}' | '\u{201D}')
}

/// Splits `name=value` pairs separated by `;` (`params` in the module grammar): spaces allowed
/// around `=` and `;`, values straight-quoted, typographic-quoted (`“…”`, `”…”`) or bare, padding
/// inside quotes trimmed, `;` inside quotes kept. A name without `=` gets an empty value; empty
/// names are skipped. Also used for SIPStack `Data:` values (`fqdn="x"; certName =" y "`).
pub fn params(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut rest = text;
    loop {
        rest = rest.trim_start_matches(|c: char| c == ';' || c.is_whitespace());
        if rest.is_empty() {
            return out;
        }
        let stop = rest.find(['=', ';']).unwrap_or(rest.len());
        let name = rest.get(..stop).unwrap_or("").trim();
        rest = rest.get(stop..).unwrap_or("");
        let value = if let Some(after_eq) = rest.strip_prefix('=') {
            let after_eq = after_eq.trim_start();
            let mut chars = after_eq.chars();
            match chars.next() {
                Some(q) if is_quote(q) => {
                    let inner = chars.as_str();
                    let end = inner.find(is_quote).unwrap_or(inner.len());
                    let value = inner.get(..end).unwrap_or("").trim();
                    let after = inner.get(end..).unwrap_or("");
                    let mut c = after.chars();
                    c.next(); // the closing quote, if any
                    let tail = c.as_str();
                    // Anything between the closing quote and the next `;` is dropped.
                    rest = tail
                        .get(tail.find(';').unwrap_or(tail.len())..)
                        .unwrap_or("");
                    value
                }
                _ => {
                    let end = after_eq.find(';').unwrap_or(after_eq.len());
                    rest = after_eq.get(end..).unwrap_or("");
                    after_eq.get(..end).unwrap_or("").trim()
                }
            }
        } else {
            ""
        };
        if !name.is_empty() {
            out.push((name.to_string(), value.to_string()));
        }
    }
}

/// The symbol of a known code.
pub fn symbol_of(code: u32) -> Option<&'static str> {
    KNOWN.iter().find(|(c, _)| *c == code).map(|(_, s)| *s)
}

/// The code of a known symbol (exact, upper case).
pub fn code_of(symbol: &str) -> Option<u32> {
    KNOWN.iter().find(|(_, s)| *s == symbol).map(|(c, _)| *c)
}

const SYM: &str = r"[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+";

fn hex_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        let p = format!(
            r"\b0[xX]([89a-fA-F][0-9a-fA-F]{{7}})\b(?:\s*\(\s*({SYM})\s*\)|[ \t]+({SYM})\b)?"
        );
        Regex::new(&p).unwrap_or_else(|e| panic!("static regex: {e}"))
    })
}

fn context_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        let p = format!(
            r#"(?i)\b(?:result-code|hresult)\s*[:=]\s*["“”]?\s*(?:0x([0-9a-f]{{1,8}})|(-?[0-9]{{1,10}}))\b(?-i:(?:\s*\(\s*({SYM})\s*\)|[ \t]+({SYM})\b)?)"#
        );
        Regex::new(&p).unwrap_or_else(|e| panic!("static regex: {e}"))
    })
}

fn symbol_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        let alts: Vec<&str> = KNOWN
            .iter()
            .map(|(_, s)| *s)
            .chain(SYMBOL_ONLY.iter().copied())
            .collect();
        Regex::new(&format!(r"\b(?:{})\b", alts.join("|")))
            .unwrap_or_else(|e| panic!("static regex: {e}"))
    })
}

/// An ordered, de-duplicated set of normalised codes, filled from several texts (the lines of one
/// record). Keyed on the hex value when there is one, else on the symbol; a code first seen
/// without a symbol takes the symbol of a later rendering.
#[derive(Debug, Default, Clone)]
pub struct Codes {
    items: Vec<(Option<u32>, Option<String>)>,
}

impl Codes {
    pub fn new() -> Codes {
        Codes::default()
    }

    fn note(&mut self, code: Option<u32>, symbol: Option<&str>) {
        let canonical = code.and_then(symbol_of);
        let code = code.or_else(|| symbol.and_then(code_of));
        let symbol = canonical.or(symbol).map(str::to_string);
        if code.is_none() && symbol.is_none() {
            return;
        }
        let found = self.items.iter_mut().find(|(c, s)| match code {
            Some(_) => *c == code,
            None => s.is_some() && *s == symbol,
        });
        if let Some((_, s)) = found {
            if s.is_none() {
                *s = symbol;
            }
        } else if self.items.len() < CODES_MAX {
            self.items.push((code, symbol));
        }
    }

    /// Adds the codes found in `text`, in order of appearance (grammar `codes_in`).
    pub fn add(&mut self, text: &str) {
        // Cheap pre-checks: most trace lines hold none of the three shapes.
        let hex = text.contains("0x") || text.contains("0X");
        let context = text.contains("esult") || text.contains("ESULT");
        let symbol = text.contains("_E_");
        if !(hex || context || symbol) {
            return;
        }
        // (position, code, symbol) from the three scanners, then merged in text order.
        let mut found: Vec<(usize, Option<u32>, Option<&str>)> = Vec::new();
        let mut spans: Vec<(usize, usize)> = Vec::new();
        for c in hex_re().captures_iter(if hex { text } else { "" }) {
            let (Some(all), Some(h)) = (c.get(0), c.get(1)) else {
                continue;
            };
            let sym = c.get(2).or_else(|| c.get(3)).map(|m| m.as_str());
            found.push((all.start(), u32::from_str_radix(h.as_str(), 16).ok(), sym));
            spans.push((all.start(), all.end()));
        }
        for c in context_re().captures_iter(if context { text } else { "" }) {
            let Some(all) = c.get(0) else { continue };
            let code = if let Some(h) = c.get(1) {
                u32::from_str_radix(h.as_str(), 16).ok()
            } else {
                c.get(2).and_then(|d| decimal_code(d.as_str()))
            };
            if code.is_some_and(|v| v != 0) {
                let sym = c.get(3).or_else(|| c.get(4)).map(|m| m.as_str());
                found.push((all.start(), code, sym));
                spans.push((all.start(), all.end()));
            }
        }
        for m in symbol_re().find_iter(if symbol { text } else { "" }) {
            if !spans.iter().any(|&(s, e)| m.start() >= s && m.end() <= e) {
                found.push((m.start(), None, Some(m.as_str())));
            }
        }
        found.sort_by_key(|f| f.0);
        for (_, code, sym) in found {
            self.note(code, sym);
        }
    }

    /// The codes as `0xXXXXXXXX`, `0xXXXXXXXX SYMBOL` or a bare `SYMBOL`, first seen first.
    pub fn into_vec(self) -> Vec<String> {
        self.items
            .into_iter()
            .map(|(c, s)| match (c, s) {
                (Some(c), Some(s)) => format!("0x{c:08X} {s}"),
                (Some(c), None) => format!("0x{c:08X}"),
                (None, Some(s)) => s,
                (None, None) => String::new(),
            })
            .collect()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
}

/// A decimal HRESULT (`-2146893022` or `2148074274`) as its 32-bit value.
fn decimal_code(d: &str) -> Option<u32> {
    let v: i64 = d.parse().ok()?;
    if (i64::from(i32::MIN)..0).contains(&v) {
        u32::try_from(v + (1i64 << 32)).ok()
    } else {
        u32::try_from(v).ok()
    }
}

/// Finds result codes and HRESULTs in a text, normalised to `0xXXXXXXXX` plus the symbol when
/// known, de-duplicated, first seen first (module grammar `codes_in`). Recognised: `0x` + 8 hex
/// digits with the failure bit set (with or without `(NAME)` / ` NAME`), any hex or decimal value
/// after `Result-Code:` or `HRESULT=` (any case of `result`), and the known symbols of formats.md §6.5 written alone.
pub fn codes_in(text: &str) -> Vec<String> {
    let mut c = Codes::new();
    c.add(text);
    c.into_vec()
}

/// A SIP message split into its parts (see [`sip_message`]).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SipMessage {
    /// `INVITE sip:… SIP/2.0` or `SIP/2.0 504 Server time-out`, when the first line is one.
    pub start_line: Option<String>,
    /// Header lines in order, wire case kept; folded continuation lines joined with a space.
    pub headers: Props,
    /// The parsed `ms-diagnostics` family headers.
    pub diagnostics: Vec<MsDiagnostic>,
    /// The body after the first blank line, lines joined by `\n`, cut at [`BODY_MAX`] bytes.
    pub body: String,
}

/// Most body bytes kept by [`sip_message`].
pub const BODY_MAX: usize = 16 * 1024;

/// Whether a line is a SIP start line: a status line `SIP/2.0 NNN …` or a request line
/// `METHOD uri SIP/2.0`.
pub fn is_start_line(line: &str) -> bool {
    let l = line.trim();
    if let Some(rest) = l.strip_prefix("SIP/2.0 ") {
        return rest.len() >= 3 && rest.bytes().take(3).all(|b| b.is_ascii_digit());
    }
    let mut parts = l.split(' ');
    let method = parts.next().unwrap_or("");
    !method.is_empty()
        && method.bytes().all(|b| b.is_ascii_uppercase() || b == b'-')
        && l.ends_with(" SIP/2.0")
}

/// Splits the raw lines of one SIP message as a client or a proxy logs it (UccApi logs, raw
/// captures): an optional start line (see [`is_start_line`]), then `Name: value` header lines up
/// to the first blank line, then the body. A line starting with white space continues the
/// previous header; a non-blank line that is not `Name: value` inside the header block is kept as
/// a header with an empty name so nothing is lost. `ms-diagnostics` family headers are parsed
/// into [`SipMessage::diagnostics`]. Linear in the input; the body is bounded by [`BODY_MAX`].
pub fn sip_message<'a, I>(lines: I) -> SipMessage
where
    I: IntoIterator<Item = &'a str>,
{
    let mut msg = SipMessage::default();
    let mut in_body = false;
    let mut first = true;
    for raw in lines {
        let line = raw.trim_end_matches(['\r', '\n']);
        if in_body {
            if msg.body.len() < BODY_MAX {
                if !msg.body.is_empty() {
                    msg.body.push('\n');
                }
                push_bounded(&mut msg.body, line, BODY_MAX);
            }
            continue;
        }
        if first {
            if line.trim().is_empty() {
                continue;
            }
            first = false;
            if is_start_line(line) {
                msg.start_line = Some(line.trim().to_string());
                continue;
            }
        }
        if line.trim().is_empty() {
            in_body = true;
            continue;
        }
        if line.starts_with([' ', '\t']) {
            if let Some((_, Value::Text(v))) = msg.headers.0.last_mut() {
                v.push(' ');
                push_bounded(v, line.trim(), BODY_MAX);
                continue;
            }
        }
        match line.split_once(':') {
            Some((n, v)) if !n.is_empty() && !n.contains(char::is_whitespace) => {
                msg.headers.push(n, Value::Text(v.trim().to_string()));
            }
            _ => msg.headers.push("", Value::Text(line.trim().to_string())),
        }
    }
    msg.diagnostics = diagnostics_in(&msg.headers);
    msg
}

/// The parsed `ms-diagnostics` family headers among `headers`, in order.
pub fn diagnostics_in(headers: &Props) -> Vec<MsDiagnostic> {
    headers
        .0
        .iter()
        .filter(|(n, _)| is_diag_header(n))
        .filter_map(|(n, v)| parse_header(n, v.as_text()?))
        .collect()
}

/// Appends `s` to `out` without letting `out` exceed `max` bytes (cut at a char boundary, `…`
/// marks the cut).
pub fn push_bounded(out: &mut String, s: &str, max: usize) {
    if out.len() >= max {
        return;
    }
    let room = max - out.len();
    if s.len() <= room {
        out.push_str(s);
        return;
    }
    let mut end = room;
    while end > 0 && !s.is_char_boundary(end) {
        end -= 1;
    }
    out.push_str(s.get(..end).unwrap_or(""));
    out.push('…');
}

#[cfg(test)]
mod tests {
    use super::*;

    const D1010: &str = r#"1010; reason ="Certificate trust with another server could not be established";ErrorType="The peer certificate does not contain a matching FQDN"; tls-target =" vcse.cms.steven.lab "; PeerServer =" vcse.steven.lab ";HRESULT="0x80090322(SEC_E_WRONG_PRINCIPAL)";source="sip.skype.lab""#;
    const D1047: &str = "1047;reason=”Failed to complete TLS negotiation with a federated peer server”;WinsockFailureCode=”10054(WSAECONNRESET)”;WinsockFailureDescription=”The peer forced closure of the connection”";
    const D15030: &str = "15030;reason=”Failed to route to Exchange Server”;source=”SRV-LYNCFE01.domain.COM”;dialplan=…;appName=”ExumRouting”";

    fn pairs(d: &MsDiagnostic) -> Vec<(&str, &str)> {
        d.attrs
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect()
    }

    #[test]
    fn real_1010_with_stray_spaces_and_hresult() {
        let d = parse_header("ms-diagnostics", D1010).unwrap();
        assert_eq!(
            (d.header.as_str(), d.code, d.sub_code),
            ("ms-diagnostics", 1010, None)
        );
        assert_eq!(
            pairs(&d),
            vec![
                (
                    "reason",
                    "Certificate trust with another server could not be established"
                ),
                (
                    "ErrorType",
                    "The peer certificate does not contain a matching FQDN"
                ),
                ("tls-target", "vcse.cms.steven.lab"),
                ("PeerServer", "vcse.steven.lab"),
                ("HRESULT", "0x80090322(SEC_E_WRONG_PRINCIPAL)"),
                ("source", "sip.skype.lab"),
            ]
        );
        assert_eq!(d.attr("hresult"), Some("0x80090322(SEC_E_WRONG_PRINCIPAL)"));
        assert_eq!(codes_in(D1010), vec!["0x80090322 SEC_E_WRONG_PRINCIPAL"]);
    }

    #[test]
    fn real_1047_typographic_quotes() {
        let d = parse_header("Ms-diagnostics", D1047).unwrap();
        assert_eq!((d.header.as_str(), d.code), ("Ms-diagnostics", 1047));
        assert_eq!(
            pairs(&d),
            vec![
                (
                    "reason",
                    "Failed to complete TLS negotiation with a federated peer server"
                ),
                ("WinsockFailureCode", "10054(WSAECONNRESET)"),
                (
                    "WinsockFailureDescription",
                    "The peer forced closure of the connection"
                ),
            ]
        );
        assert!(codes_in(D1047).is_empty());
    }

    #[test]
    fn real_15030_bare_ellipsis_value() {
        let d = parse_header("ms-diagnostics", D15030).unwrap();
        assert_eq!(d.code, 15030);
        assert_eq!(
            pairs(&d),
            vec![
                ("reason", "Failed to route to Exchange Server"),
                ("source", "SRV-LYNCFE01.domain.COM"),
                ("dialplan", "…"),
                ("appName", "ExumRouting"),
            ]
        );
    }

    #[test]
    fn sub_codes_unquoted_values_and_quoted_semicolons() {
        let d = parse_header(
            "ms-client-diagnostics",
            r#" 5001.3 ; Component="x;y" ; Reason = "a ; b";Source= applicationserver.contoso.com ;flag"#,
        )
        .unwrap();
        assert_eq!((d.code, d.sub_code), (5001, Some(3)));
        assert_eq!(
            pairs(&d),
            vec![
                ("Component", "x;y"),
                ("Reason", "a ; b"),
                ("Source", "applicationserver.contoso.com"),
                ("flag", ""),
            ]
        );
        let bare = parse_header("ms-diagnostics-public", "1034").unwrap();
        assert_eq!((bare.code, bare.attrs.len()), (1034, 0));
        let unterminated = parse_header("ms-diagnostics", "1008;reason=\"open").unwrap();
        assert_eq!(unterminated.attr("reason"), Some("open"));
    }

    #[test]
    fn no_numeric_code_is_none() {
        for v in [
            "",
            "  ",
            "reason=\"x\"",
            "abc;1",
            "1047abc",
            "99999999999999;x",
            ";1",
        ] {
            assert_eq!(parse_header("ms-diagnostics", v), None, "{v:?}");
        }
        assert!(is_diag_header("MS-DIAGNOSTICS-PUBLIC"));
        assert!(is_diag_header(" ms-client-diagnostics "));
        assert!(!is_diag_header("ms-diagnostic"));
    }

    #[test]
    fn codes_every_rendering_normalised() {
        assert_eq!(
            codes_in("Result-Code: 0xc3e93d67 SIPPROXY_E_ROUTING_MSG_CERT_MISMATCH"),
            vec!["0xC3E93D67 SIPPROXY_E_ROUTING_MSG_CERT_MISMATCH"]
        );
        assert_eq!(
            codes_in(
                "Exit - route headers from untrusted source. Result 0xC3E93C5E(SIPPROXY_E_ROUTING)"
            ),
            vec!["0xC3E93C5E SIPPROXY_E_ROUTING"]
        );
        // Symbol alone, then its hex: one code. Unknown hex keeps the text's symbol.
        assert_eq!(
            codes_in("CERT_E_UNTRUSTEDROOT then 0x800b0109 and 0x80072EE2 ( WININET_E_TIMEOUT )"),
            vec![
                "0x800B0109 CERT_E_UNTRUSTEDROOT",
                "0x80072EE2 WININET_E_TIMEOUT"
            ]
        );
        // Decimal HRESULT and short hex after a context keyword; zero ignored.
        assert_eq!(
            codes_in("HRESULT=\"-2146893022\" Result-Code: 0x5 HRESULT=0"),
            vec!["0x80090322 SEC_E_WRONG_PRINCIPAL", "0x00000005"]
        );
        // A later rendering gives the symbol to a code first seen without one.
        assert_eq!(
            codes_in("0x80091234 and again 0x80091234 FOO_E_BAR"),
            vec!["0x80091234 FOO_E_BAR"]
        );
        assert_eq!(
            codes_in("SIPPROXY_E_EPROUTING_MSG_INVALID_EXT_SPLIT_DOMAIN; SEC_E_UNTRUSTED_ROOT"),
            vec![
                "SIPPROXY_E_EPROUTING_MSG_INVALID_EXT_SPLIT_DOMAIN",
                "0x80090325 SEC_E_UNTRUSTED_ROOT"
            ]
        );
        // Not HRESULT-looking: success codes, too long, embedded, pointer values, prefixes of symbols.
        assert!(codes_in(
            "0x00000001 0x800903221 x0x80090322 ( 00000000028FDD70 ) SIPPROXY_E_ROUTINGX ASIPPROXY_E_ROUTING"
        )
        .is_empty());
        assert_eq!(
            codes_in("SIPPROXY_E_ROUTING_MSG_CERT_MISMATCH"),
            vec!["0xC3E93D67 SIPPROXY_E_ROUTING_MSG_CERT_MISMATCH"]
        );
    }

    #[test]
    fn codes_are_bounded() {
        let text: String = (0..200u32)
            .map(|i| format!("0x{:08X} ", 0x8000_0000 + i))
            .collect();
        assert_eq!(codes_in(&text).len(), CODES_MAX);
    }

    #[test]
    fn params_for_data_values() {
        let p = params(
            r#"expected-fqdn =" vcse.acano.steven.lab "; certName =" vcse.steven.lab ";info="The peer certificate does not contain a matching FQDN""#,
        );
        assert_eq!(
            p,
            vec![
                ("expected-fqdn".into(), "vcse.acano.steven.lab".into()),
                ("certName".into(), "vcse.steven.lab".into()),
                (
                    "info".into(),
                    "The peer certificate does not contain a matching FQDN".into()
                ),
            ]
        );
        assert_eq!(
            params("fqdn=“deitterick.com”"),
            vec![("fqdn".into(), "deitterick.com".into())]
        );
        assert!(params(" ; ;= x;").is_empty());
    }

    #[test]
    fn sip_message_splits_start_line_headers_body() {
        let lines = [
            "",
            "SIP/2.0 504 Server time-out",
            "Server: RTC/6.0.0.0",
            "USER-AGENT: RTCC/5.0.0.0 OWA",
            "ms-diagnostics: 1047;reason=\"Failed\";source=\"fe.contoso.com\"",
            "Via: SIP/2.0/TLS 10.0.0.1:5061",
            "  ;received=10.0.0.2",
            "",
            "<xml/>",
            "second",
        ];
        let m = sip_message(lines);
        assert_eq!(m.start_line.as_deref(), Some("SIP/2.0 504 Server time-out"));
        assert_eq!(m.headers.text("user-agent"), Some("RTCC/5.0.0.0 OWA"));
        assert_eq!(
            m.headers.text("Via"),
            Some("SIP/2.0/TLS 10.0.0.1:5061 ;received=10.0.0.2")
        );
        assert_eq!(m.diagnostics.len(), 1);
        assert_eq!(m.diagnostics[0].code, 1047);
        assert_eq!(m.body, "<xml/>\nsecond");
        assert!(is_start_line("INVITE sip:a@b.com SIP/2.0"));
        assert!(!is_start_line("Via: SIP/2.0"));
        let no_start = sip_message(["CSeq: 1 OPTIONS", "garbage line"]);
        assert_eq!(no_start.start_line, None);
        assert_eq!(no_start.headers.len(), 2);
    }

    #[test]
    fn push_bounded_cuts_at_char_boundary() {
        let mut s = String::new();
        push_bounded(&mut s, &"é".repeat(10), 5);
        assert_eq!(s, "éé…");
        push_bounded(&mut s, "more", 5);
        assert_eq!(s, "éé…");
    }
}
