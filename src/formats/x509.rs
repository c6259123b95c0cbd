//! X.509 certificates: PEM, DER and openssl `-text` style dumps (formats.md §8.6).
//!
//! Why this module exists: most Exchange ↔ IM and Presence calendar failures that are not
//! permissions are certificate failures (`Subject CN Mismatch`, `SAN Mismatch`, `Certificate
//! Missing From Chain`, stale certificate after a re-key). Bundles carry the certificates
//! themselves — the Exchange IIS certificate exported as `.cer`, the `cup-trust` chain as `.pem` —
//! and rules need their names, validity and SHA-1 thumbprint (the value Windows shows and
//! `IMCertificateThumbprint` holds) as plain props. DER is decoded with `x509-parser`; the
//! thumbprint is the SHA-1 of the DER, upper-case hex.
//!
//! One `Body::Object { command: "X509Certificate" }` per certificate. Grammar and status markers:
//! `grammars/x509.md`; rule names used there: [`parse_text`], [`parse_der`], [`pem_block`],
//! [`text_block`], [`der_props`].

use super::psobject::{self, DiagSink, Line};
use super::FileCtx;
use crate::model::{Body, DiagLevel, Diagnostic, Event, Format, Location, Parsed, Props, Value};
use chrono::{DateTime, NaiveDateTime, SecondsFormat, Utc};
use sha1::{Digest, Sha1};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use x509_parser::extensions::GeneralName;
use x509_parser::objects::{oid2abbrev, oid2sn, oid_registry};
use x509_parser::prelude::{parse_x509_certificate, X509Certificate, X509Name};

/// The `command` of every event of this parser.
pub const COMMAND: &str = "X509Certificate";

/// PEM labels that hold a certificate (RFC 7468 and openssl's `TRUSTED CERTIFICATE`).
const CERT_LABELS: [&str; 3] = ["CERTIFICATE", "X509 CERTIFICATE", "TRUSTED CERTIFICATE"];

/// Parses PEM text (any number of `BEGIN`/`END` blocks among other text) or openssl `-text`
/// dumps (`Certificate:` blocks): one event per certificate.
///
/// `parse_text := (pem_block | text_block | OTHER)*`. A `Certificate:` dump directly followed by
/// the PEM of the same certificate (what `openssl x509 -text` prints) is one record, read from the
/// PEM. A file holding no certificate gives one rejected record.
pub fn parse_text(ctx: &FileCtx, text: &str) -> Parsed {
    let mut out = Parsed::default();
    let mut sink = DiagSink::new(&ctx.path, Format::X509);
    let lines = psobject::lines(text);
    let mut i = 0;
    let mut record = 0u64;
    // A `Certificate:` dump waiting to see whether the PEM of the same certificate follows.
    let mut pending: Option<(Location, Props)> = None;
    let mut fingerprint: Option<String> = None;
    while let Some(line) = lines.get(i) {
        let t = line.text.trim();
        if let Some(label) = begin_label(t) {
            let (next, res) = pem_block(&lines, i, &label);
            i = next;
            if !CERT_LABELS.contains(&label.as_str()) {
                let what = if label.contains("PRIVATE KEY") {
                    format!("PEM {label} block ignored (contents not kept)")
                } else {
                    format!("PEM {label} block ignored (not a certificate)")
                };
                sink.warn(&mut out, diag(ctx, line, 0, DiagLevel::Warning, what));
                continue;
            }
            let dump = pending.take();
            if dump.is_none() {
                record += 1;
            }
            let loc = dump
                .as_ref()
                .map_or_else(|| loc_of(ctx, line, record), |(l, _)| l.clone());
            match res.and_then(|der| der_props(&der).map(|(p, _)| p)) {
                Ok(props) => {
                    let same = dump.as_ref().is_none_or(|(_, d)| {
                        d.text("SerialNumber")
                            .is_none_or(|s| Some(s) == props.text("SerialNumber"))
                    });
                    if !same {
                        // The dump was of another certificate: both are records.
                        if let Some((l, d)) = dump {
                            out.push(cert_event(l, d));
                        }
                        record += 1;
                        out.push(cert_event(loc_of(ctx, line, record), props));
                    } else {
                        out.push(cert_event(loc, props));
                    }
                }
                Err(why) => match dump {
                    Some((l, d)) => {
                        let msg = format!("PEM block after the certificate dump ignored: {why}");
                        sink.warn(&mut out, diag(ctx, line, 0, DiagLevel::Warning, msg));
                        out.push(cert_event(l, d));
                    }
                    None => {
                        let msg = format!("certificate PEM block rejected: {why}");
                        sink.reject(&mut out, diag(ctx, line, record, DiagLevel::Error, msg));
                    }
                },
            }
            continue;
        }
        if t == "Certificate:" {
            flush(&mut pending, &mut out);
            record += 1;
            let (next, props) = text_block(&lines, i, fingerprint.take());
            i = next;
            match props {
                Some(p) => pending = Some((loc_of(ctx, line, record), p)),
                None => sink.reject(
                    &mut out,
                    diag(
                        ctx,
                        line,
                        record,
                        DiagLevel::Error,
                        "certificate dump without Subject, Issuer or Serial Number".into(),
                    ),
                ),
            }
            continue;
        }
        if let Some(fp) = fingerprint_line(t) {
            fingerprint = Some(fp);
        }
        i += 1;
    }
    flush(&mut pending, &mut out);
    if out.parsed + out.rejected == 0 {
        let first = lines.iter().find(|l| !l.text.trim().is_empty());
        let line = first.map_or(1, |l| l.no);
        let offset = first.map_or(0, |l| l.offset);
        let loc = Location {
            path: ctx.path.clone(),
            line,
            record: 1,
            offset,
        };
        let d = Diagnostic::at(DiagLevel::Error, &loc, Format::X509, "no certificate found")
            .with_excerpt(first.map_or("", |l| l.text));
        sink.reject(&mut out, d);
    }
    sink.finish(&mut out);
    out
}

/// Parses a DER-encoded certificate (`.cer`, `.der`): one event, or one rejected record.
pub fn parse_der(ctx: &FileCtx, bytes: &[u8]) -> Parsed {
    let mut out = Parsed::default();
    let loc = Location {
        path: ctx.path.clone(),
        line: 0,
        record: 1,
        offset: 0,
    };
    match der_props(bytes) {
        Ok((props, rest)) => {
            if rest > 0 {
                out.diagnostics.push(Diagnostic::at(
                    DiagLevel::Warning,
                    &loc,
                    Format::X509,
                    format!("{rest} bytes after the certificate ignored"),
                ));
            }
            out.push(cert_event(loc, props));
        }
        Err(why) => out.reject(Diagnostic::at(
            DiagLevel::Error,
            &loc,
            Format::X509,
            format!("DER certificate rejected: {why}"),
        )),
    }
    out
}

fn flush(pending: &mut Option<(Location, Props)>, out: &mut Parsed) {
    if let Some((l, p)) = pending.take() {
        out.push(cert_event(l, p));
    }
}

fn loc_of(ctx: &FileCtx, line: &Line<'_>, record: u64) -> Location {
    Location {
        path: ctx.path.clone(),
        line: line.no,
        record,
        offset: line.offset,
    }
}

fn diag(ctx: &FileCtx, line: &Line<'_>, record: u64, level: DiagLevel, msg: String) -> Diagnostic {
    Diagnostic::at(level, &loc_of(ctx, line, record), Format::X509, msg).with_excerpt(line.text)
}

/// `-----BEGIN <LABEL>-----` → the label.
fn begin_label(t: &str) -> Option<String> {
    let label = t.strip_prefix("-----BEGIN ")?.strip_suffix("-----")?;
    Some(label.trim().to_string())
}

/// `pem_block := "-----BEGIN " LABEL "-----" EOL (HEADER ":" TEXT EOL)* (BASE64 EOL)*
/// "-----END " LABEL "-----"` — returns the index after the block and the decoded DER, or why it
/// could not be read (no END line, bad base64). A `BEGIN` before the `END` ends the block there.
pub fn pem_block(
    lines: &[Line<'_>],
    start: usize,
    label: &str,
) -> (usize, Result<Vec<u8>, String>) {
    let mut b64 = String::new();
    let mut i = start + 1;
    while let Some(line) = lines.get(i) {
        let t = line.text.trim();
        if t.starts_with("-----END ") {
            let end = t
                .trim_start_matches("-----END ")
                .trim_end_matches('-')
                .trim();
            if end != label {
                return (
                    i + 1,
                    Err(format!("END {end} does not close BEGIN {label}")),
                );
            }
            return match base64_decode(&b64) {
                Some(der) if !der.is_empty() => (i + 1, Ok(der)),
                Some(_) => (i + 1, Err("empty PEM block".into())),
                None => (i + 1, Err("invalid base64".into())),
            };
        }
        if begin_label(t).is_some() {
            return (i, Err("no END line before the next BEGIN".into()));
        }
        if !t.contains(':') {
            b64.push_str(t);
        }
        i += 1;
    }
    (i, Err("no END line (truncated block)".into()))
}

/// Standard base64 (RFC 4648), white space ignored, `=` padding optional. `None` on any other
/// character or a dangling 6-bit group.
pub(crate) fn base64_decode(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let mut acc: u32 = 0;
    let mut bits = 0u32;
    let mut padded = false;
    for c in s.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            b'=' => {
                padded = true;
                continue;
            }
            b' ' | b'\t' | b'\r' | b'\n' => continue,
            _ => return None,
        };
        if padded {
            return None;
        }
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push(((acc >> bits) & 0xFF) as u8);
        }
    }
    (bits < 6).then_some(out)
}

/// `der_props := Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm, signature }` —
/// the props of one DER certificate and the number of bytes left after it.
pub fn der_props(der: &[u8]) -> Result<(Props, usize), String> {
    let (rest, cert) =
        parse_x509_certificate(der).map_err(|e| format!("not a certificate: {e}"))?;
    let used = der.len() - rest.len();
    let mut p = Props::default();
    let subject = name_string(cert.subject());
    let issuer = name_string(cert.issuer());
    p.push("Subject", Value::Text(subject.clone()));
    if let Some(cn) = last_cn(cert.subject()) {
        p.push("CN", Value::Text(cn.to_lowercase()));
    }
    p.push("SAN", list(san_of(&cert)));
    p.push("Issuer", Value::Text(issuer.clone()));
    if let Some(cn) = last_cn(cert.issuer()) {
        p.push("IssuerCN", Value::Text(cn.to_string()));
    }
    for (name, t) in [
        ("NotBefore", cert.validity().not_before.timestamp()),
        ("NotAfter", cert.validity().not_after.timestamp()),
    ] {
        if let Some(d) = DateTime::<Utc>::from_timestamp(t, 0) {
            p.push(
                name,
                Value::Text(d.to_rfc3339_opts(SecondsFormat::Secs, true)),
            );
        }
    }
    let digest = Sha1::digest(der.get(..used).unwrap_or(der));
    p.push("Thumbprint", Value::Text(hex_upper(&digest)));
    p.push("SerialNumber", Value::Text(hex_upper(cert.raw_serial())));
    let ca = matches!(cert.basic_constraints(), Ok(Some(bc)) if bc.value.ca);
    p.push("IsCA", Value::Text(bool_text(ca)));
    let self_signed = subject.eq_ignore_ascii_case(&issuer);
    p.push("SelfSigned", Value::Text(bool_text(self_signed)));
    if let Ok(key) = cert.public_key().parsed() {
        let bits = key.key_size();
        if bits > 0 {
            p.push("KeySize", Value::Text(bits.to_string()));
        }
    }
    let alg = &cert.signature_algorithm.algorithm;
    let alg_name = oid2sn(alg, oid_registry()).map_or_else(|_| alg.to_id_string(), str::to_string);
    p.push("SignatureAlgorithm", Value::Text(alg_name));
    Ok((p, rest.len()))
}

/// RFC 4514 order (most specific RDN first), `TYPE=value`, `, ` between RDNs, `+` inside one;
/// `,`, `+`, `"`, `\`, `<`, `>`, `;` escaped with `\`. Types by their usual abbreviation (`CN`,
/// `OU`, `O`, `L`, `ST`, `C`, `DC`, `Email`), else the OID.
fn name_string(name: &X509Name<'_>) -> String {
    let mut rdns: Vec<String> = name
        .iter_rdn()
        .map(|rdn| {
            rdn.iter()
                .map(|a| {
                    let t = oid2abbrev(a.attr_type(), oid_registry())
                        .map_or_else(|_| a.attr_type().to_id_string(), str::to_string);
                    let v = a
                        .as_str()
                        .map_or_else(|_| format!("#{}", hex_upper(a.as_slice())), escape);
                    format!("{t}={v}")
                })
                .collect::<Vec<_>>()
                .join("+")
        })
        .collect();
    rdns.reverse();
    rdns.join(", ")
}

fn escape(v: &str) -> String {
    let mut s = String::with_capacity(v.len());
    for c in v.chars() {
        if matches!(c, ',' | '+' | '"' | '\\' | '<' | '>' | ';') {
            s.push('\\');
        }
        s.push(c);
    }
    s
}

/// The most specific (last) common name.
fn last_cn<'a>(name: &'a X509Name<'_>) -> Option<&'a str> {
    name.iter_common_name()
        .filter_map(|a| a.as_str().ok())
        .last()
}

/// dNSName and iPAddress entries of the subjectAltName extension, lower case, in order.
fn san_of(cert: &X509Certificate<'_>) -> Vec<String> {
    let Ok(Some(san)) = cert.subject_alternative_name() else {
        return Vec::new();
    };
    san.value
        .general_names
        .iter()
        .filter_map(|g| match g {
            GeneralName::DNSName(d) => Some(d.to_lowercase()),
            GeneralName::IPAddress(b) => ip_from_bytes(b),
            _ => None,
        })
        .collect()
}

fn ip_from_bytes(b: &[u8]) -> Option<String> {
    if let Ok(v4) = <[u8; 4]>::try_from(b) {
        return Some(Ipv4Addr::from(v4).to_string());
    }
    <[u8; 16]>::try_from(b)
        .ok()
        .map(|v6| Ipv6Addr::from(v6).to_string())
}

fn hex_upper(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02X}")).collect()
}

fn bool_text(b: bool) -> String {
    if b { "True" } else { "False" }.to_string()
}

fn list(items: Vec<String>) -> Value {
    Value::List {
        items,
        truncated: false,
    }
}

/// `SHA1 Fingerprint=AA:BB:…` (openssl 1.x) or `sha1 Fingerprint=…` (openssl 3) → upper hex.
fn fingerprint_line(t: &str) -> Option<String> {
    let (k, v) = t.split_once('=')?;
    let k = k.trim();
    if !(k.eq_ignore_ascii_case("SHA1 Fingerprint") || k.eq_ignore_ascii_case("SHA-1 Fingerprint"))
    {
        return None;
    }
    let hex: String = v.chars().filter(|c| c.is_ascii_hexdigit()).collect();
    (hex.len() == 40).then(|| hex.to_uppercase())
}

/// `text_block := "Certificate:" EOL (INDENT FIELD EOL)*` — an openssl `x509 -text` dump, up to
/// the next `Certificate:` line or PEM `BEGIN` line. Returns the index after the block and the
/// props, or `None` when no Subject, Issuer or Serial Number was found. The props have the same
/// names as [`der_props`]; `Thumbprint` only from a `SHA1 Fingerprint=` line (in the block, or
/// just before it: `fp`).
pub fn text_block(lines: &[Line<'_>], start: usize, fp: Option<String>) -> (usize, Option<Props>) {
    let mut f = TextFields {
        thumbprint: fp,
        ..TextFields::default()
    };
    let mut i = start + 1;
    while let Some(line) = lines.get(i) {
        let t = line.text.trim();
        if t == "Certificate:" || begin_label(t).is_some() {
            break;
        }
        let next = lines.get(i + 1).map_or("", |l| l.text.trim());
        let (key, value) = t
            .split_once(':')
            .map_or((t, ""), |(k, v)| (k.trim(), v.trim()));
        let key_l = key.to_ascii_lowercase();
        match key_l.as_str() {
            "serial number" => f.serial = serial_text(if value.is_empty() { next } else { value }),
            "signature algorithm" if f.sig.is_none() => f.sig = Some(value.to_string()),
            "subject" if f.subject.is_none() => f.subject = Some(openssl_name(value)),
            "issuer" if f.issuer.is_none() => f.issuer = Some(openssl_name(value)),
            "not before" => f.not_before = Some(openssl_date(value)),
            "not after" => f.not_after = Some(openssl_date(value)),
            "public-key" | "rsa public-key" | "ec public-key" => {
                f.key_size = value
                    .trim_start_matches('(')
                    .split_whitespace()
                    .next()
                    .and_then(|n| n.parse::<u32>().ok());
            }
            "x509v3 subject alternative name" => f.san = san_text(next),
            "x509v3 basic constraints" => {
                f.is_ca = Some(next.to_ascii_uppercase().contains("CA:TRUE"));
            }
            _ => {
                if let Some(fp) = fingerprint_line(t) {
                    f.thumbprint = Some(fp);
                }
            }
        }
        i += 1;
    }
    (i, f.into_props())
}

#[derive(Default)]
struct TextFields {
    subject: Option<String>,
    issuer: Option<String>,
    not_before: Option<String>,
    not_after: Option<String>,
    san: Vec<String>,
    serial: Option<String>,
    sig: Option<String>,
    key_size: Option<u32>,
    is_ca: Option<bool>,
    thumbprint: Option<String>,
}

impl TextFields {
    fn into_props(self) -> Option<Props> {
        if self.subject.is_none() && self.issuer.is_none() && self.serial.is_none() {
            return None;
        }
        let mut p = Props::default();
        let cn_of = |n: &str| rdn_value(n, "CN");
        if let Some(s) = &self.subject {
            p.push("Subject", Value::Text(s.clone()));
            if let Some(cn) = cn_of(s) {
                p.push("CN", Value::Text(cn.to_lowercase()));
            }
        }
        p.push("SAN", list(self.san));
        if let Some(s) = &self.issuer {
            p.push("Issuer", Value::Text(s.clone()));
            if let Some(cn) = cn_of(s) {
                p.push("IssuerCN", Value::Text(cn));
            }
        }
        for (k, v) in [("NotBefore", self.not_before), ("NotAfter", self.not_after)] {
            if let Some(v) = v {
                p.push(k, Value::Text(v));
            }
        }
        if let Some(t) = self.thumbprint {
            p.push("Thumbprint", Value::Text(t));
        }
        if let Some(s) = self.serial {
            p.push("SerialNumber", Value::Text(s));
        }
        p.push("IsCA", Value::Text(bool_text(self.is_ca.unwrap_or(false))));
        if let (Some(s), Some(i)) = (&self.subject, &self.issuer) {
            p.push(
                "SelfSigned",
                Value::Text(bool_text(s.eq_ignore_ascii_case(i))),
            );
        }
        if let Some(k) = self.key_size {
            p.push("KeySize", Value::Text(k.to_string()));
        }
        if let Some(s) = self.sig {
            p.push("SignatureAlgorithm", Value::Text(s));
        }
        Some(p)
    }
}

/// The first value of an attribute in an RFC 4514 string made by [`openssl_name`] (the most
/// specific comes first).
fn rdn_value(name: &str, attr: &str) -> Option<String> {
    split_rdns(name, ',').into_iter().find_map(|r| {
        let (k, v) = r.split_once('=')?;
        k.trim()
            .eq_ignore_ascii_case(attr)
            .then(|| v.trim().replace('\\', ""))
    })
}

/// Splits at `sep` outside backslash escapes and quotes.
fn split_rdns(s: &str, sep: char) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let (mut esc, mut quoted) = (false, false);
    for c in s.chars() {
        if esc {
            cur.push(c);
            esc = false;
        } else if c == '\\' {
            cur.push(c);
            esc = true;
        } else if c == '"' {
            quoted = !quoted;
            cur.push(c);
        } else if c == sep && !quoted {
            out.push(std::mem::take(&mut cur));
        } else {
            cur.push(c);
        }
    }
    out.push(cur);
    out
}

/// openssl's name forms (`C = US, O = Contoso, CN = x`, `C=US, O=Contoso, CN=x`,
/// `/C=US/O=Contoso/CN=x`) → the RFC 4514 string [`der_props`] makes (order reversed, no spaces
/// around `=`, `emailAddress` → `Email`). A comma inside a value (openssl prints it with `\,` or
/// inside quotes) is kept; a piece without `=` continues the previous value.
fn openssl_name(v: &str) -> String {
    let v = v.trim();
    let pieces = if v.starts_with('/') {
        split_rdns(v.trim_start_matches('/'), '/')
    } else {
        split_rdns(v, ',')
    };
    let mut rdns: Vec<String> = Vec::new();
    for piece in pieces {
        match piece.split_once('=') {
            Some((k, val)) if is_attr_type(k.trim()) => {
                let k = match k.trim() {
                    "emailAddress" => "Email",
                    other => other,
                };
                let val = val.trim().trim_matches('"');
                rdns.push(format!("{k}={val}"));
            }
            _ => match rdns.last_mut() {
                Some(last) => {
                    last.push_str("\\,");
                    last.push_str(&piece);
                }
                None => rdns.push(piece.trim().to_string()),
            },
        }
    }
    rdns.reverse();
    rdns.join(", ")
}

/// An attribute type as openssl prints it: `CN`, `emailAddress`, `1.2.3.4`.
fn is_attr_type(k: &str) -> bool {
    !k.is_empty() && k.len() <= 40 && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '.')
}

/// `Nov 22 08:32:38 2026 GMT` → `2026-11-22T08:32:38Z`; another shape is kept as written.
fn openssl_date(v: &str) -> String {
    let norm = v.split_whitespace().collect::<Vec<_>>().join(" ");
    let bare = norm.trim_end_matches(" GMT").trim_end_matches(" UTC");
    NaiveDateTime::parse_from_str(bare, "%b %d %H:%M:%S %Y")
        .map(|d| d.and_utc().to_rfc3339_opts(SecondsFormat::Secs, true))
        .unwrap_or(norm)
}

/// `28772997619311 (0x1a2b3c4d5e6f)` or `17:0b:1d:…` → upper-case hex without separators.
fn serial_text(v: &str) -> Option<String> {
    let v = v.trim();
    let hex = match v.find("(0x") {
        Some(at) => v.get(at + 3..)?.trim_end_matches(')').to_string(),
        None => v.replace(':', ""),
    };
    if hex.is_empty() || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
        return None;
    }
    let hex = hex.to_uppercase();
    Some(if hex.len() % 2 == 1 {
        format!("0{hex}")
    } else {
        hex
    })
}

/// `DNS:a, DNS:*.b, IP Address:10.0.0.1, email:x` → dNSName and IP entries, lower case.
fn san_text(v: &str) -> Vec<String> {
    v.split(',')
        .filter_map(|e| {
            let (k, val) = e.trim().split_once(':')?;
            match k.trim().to_ascii_uppercase().as_str() {
                "DNS" => Some(val.trim().to_lowercase()),
                "IP ADDRESS" | "IP" => Some(
                    val.trim()
                        .parse::<IpAddr>()
                        .map_or_else(|_| val.trim().to_lowercase(), |ip| ip.to_string()),
                ),
                _ => None,
            }
        })
        .collect()
}

/// The event of one certificate: no time (certificate dates are values), no host.
fn cert_event(loc: Location, props: Props) -> Event {
    let mut excerpt = format!("{COMMAND} {}", props.text("Subject").unwrap_or("?"));
    for k in ["IssuerCN", "NotAfter", "Thumbprint"] {
        if let Some(v) = props.text(k) {
            excerpt.push_str(&format!(" {k}={v}"));
        }
    }
    let body = Body::Object {
        type_names: Vec::new(),
        command: Some(COMMAND.to_string()),
        props,
    };
    Event::new(Format::X509, loc, body, &excerpt)
}

#[cfg(test)]
#[path = "x509_tests.rs"]
mod tests;
