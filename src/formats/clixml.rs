//! `Export-Clixml` captures (formats.md §4.4, §4.5).
//!
//! Why this module exists: support scripts (CSS-Exchange HealthChecker and others) save cmdlet
//! output such as `Get-OwaVirtualDirectory` or `Get-SettingOverride` as CLIXML, which keeps every
//! property — including the empty-string-versus-null distinction that Format-List hides. This
//! parser turns each top-level `<Obj>` into one `Body::Object`, flattening nested objects to their
//! `<ToString>` text (enums, versions, identities) or to a list (`<LST>` and friends), resolving
//! `<Ref>`s through a RefId map and type-name references through a separate TN map.

use super::diaginfo::{self, read_element, reader, XNode};
use super::psobject::{self, DiagSink, LineIndex};
use super::{time, FileCtx};
use crate::model::{
    Body, DiagLevel, Diagnostic, Event, Format, Location, Parsed, Props, TsKind, Value,
};
use quick_xml::events::Event as XEvent;
use std::collections::HashMap;

/// Extended members that carry no information about the object.
const SKIPPED: &[&str] = &["SerializationData", "RunspaceId", "PSShowComputerName"];

/// Decodes the `_xHHHH_` escapes of [MS-PSRP] §2.2.5.3.2 (UTF-16 code units; surrogate pairs are
/// joined, lone surrogates become U+FFFD).
pub fn decode_x(s: &str) -> String {
    if !s.contains("_x") {
        return s.to_string();
    }
    let b = s.as_bytes();
    let unit_at = |i: usize| -> Option<u16> {
        if b.get(i) == Some(&b'_') && b.get(i + 1) == Some(&b'x') && b.get(i + 6) == Some(&b'_') {
            let hex = s.get(i + 2..i + 6)?;
            u16::from_str_radix(hex, 16).ok()
        } else {
            None
        }
    };
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    let mut plain = 0;
    while i < b.len() {
        if let Some(u) = unit_at(i) {
            out.push_str(&s[plain..i]);
            i += 7;
            let c = if (0xD800..0xDC00).contains(&u) {
                match unit_at(i).filter(|l| (0xDC00..0xE000).contains(l)) {
                    Some(lo) => {
                        i += 7;
                        char::from_u32(
                            0x10000 + ((u32::from(u) - 0xD800) << 10) + (u32::from(lo) - 0xDC00),
                        )
                    }
                    None => None,
                }
            } else {
                char::from_u32(u32::from(u))
            };
            out.push(c.unwrap_or('\u{FFFD}'));
            plain = i;
        } else {
            i += 1;
        }
    }
    out.push_str(&s[plain..]);
    out
}

/// Per-file state: the two RefId maps of §4.4 (TN and Obj counters are separate).
#[derive(Default)]
struct Refs {
    types: HashMap<String, Vec<String>>,
    objs: HashMap<String, Value>,
}

fn is_collection(name: &str) -> bool {
    matches!(name, "LST" | "IE" | "STK" | "QUE")
}

/// Text of a primitive element by its kind.
fn primitive_text(n: &XNode) -> String {
    match n.name.as_str() {
        "B" => match n.text.trim() {
            t if t.eq_ignore_ascii_case("true") => "True".to_string(),
            t if t.eq_ignore_ascii_case("false") => "False".to_string(),
            t => t.to_string(),
        },
        "C" => n
            .text
            .trim()
            .parse::<u32>()
            .ok()
            .and_then(char::from_u32)
            .map(String::from)
            .unwrap_or_else(|| n.text.clone()),
        _ => decode_x(&n.text),
    }
}

impl Refs {
    /// Type names of an `<Obj>` (registering a `<TN>` for later `<TNRef>`s).
    fn type_names(&mut self, obj: &XNode) -> Vec<String> {
        if let Some(tn) = obj.child("TN") {
            let names: Vec<String> = tn
                .children
                .iter()
                .filter(|t| t.name == "T")
                .map(|t| decode_x(&t.text))
                .collect();
            if let Some(id) = tn.attr("RefId") {
                self.types.insert(id.to_string(), names.clone());
            }
            return names;
        }
        obj.child("TNRef")
            .and_then(|r| r.attr("RefId"))
            .and_then(|id| self.types.get(id).cloned())
            .unwrap_or_default()
    }

    /// The value of one member element (primitive, `<Nil>`, `<Ref>` or nested `<Obj>`).
    fn member_value(&mut self, n: &XNode) -> Value {
        match n.name.as_str() {
            "Nil" => Value::Null,
            "Ref" => n
                .attr("RefId")
                .and_then(|id| self.objs.get(id).cloned())
                .unwrap_or(Value::Null),
            "Obj" => self.obj_value(n),
            _ => Value::Text(primitive_text(n)),
        }
    }

    /// A nested object flattened: a list when it holds a collection, else its `<ToString>`, else
    /// its unnamed primitive (enums without ToString), else null.
    fn obj_value(&mut self, obj: &XNode) -> Value {
        self.type_names(obj);
        let mut value = None;
        for c in &obj.children {
            if is_collection(&c.name) {
                let items = c.children.iter().map(|i| self.item_text(i)).collect();
                value = Some(Value::List {
                    items,
                    truncated: false,
                });
            } else if c.name == "DCT" {
                let items = c
                    .children
                    .iter()
                    .map(|en| {
                        let part =
                            |key: &str| en.children.iter().find(|m| m.attr("N") == Some(key));
                        let k = part("Key").map(|m| self.item_text(m)).unwrap_or_default();
                        let v = part("Value").map(|m| self.item_text(m)).unwrap_or_default();
                        format!("{k}={v}")
                    })
                    .collect();
                value = Some(Value::List {
                    items,
                    truncated: false,
                });
            } else if matches!(c.name.as_str(), "Props" | "MS") {
                // Register nested objects so that later <Ref>s resolve.
                for m in &c.children {
                    if m.name == "Obj" {
                        self.obj_value(m);
                    }
                }
            }
        }
        let value = value
            .or_else(|| {
                obj.child("ToString")
                    .map(|t| Value::Text(decode_x(&t.text)))
            })
            .or_else(|| {
                obj.children
                    .iter()
                    .find(|c| {
                        c.attr("N").is_none()
                            && !matches!(
                                c.name.as_str(),
                                "TN" | "TNRef" | "Props" | "MS" | "ToString" | "Obj"
                            )
                    })
                    .map(|c| Value::Text(primitive_text(c)))
            })
            .unwrap_or(Value::Null);
        if let Some(id) = obj.attr("RefId") {
            self.objs.insert(id.to_string(), value.clone());
        }
        value
    }

    fn item_text(&mut self, n: &XNode) -> String {
        match self.member_value(n) {
            Value::Null => String::new(),
            Value::Text(s) => s,
            Value::List { items, .. } => items.join(", "),
        }
    }

    /// A top-level object: its type names, `<ToString>` and property bag.
    fn top_object(&mut self, obj: &XNode) -> (Vec<String>, Option<String>, Props) {
        let types = self.type_names(obj);
        let to_string = obj.child("ToString").map(|t| decode_x(&t.text));
        let mut props = Props::default();
        let mut unnamed = None;
        for c in &obj.children {
            match c.name.as_str() {
                "TN" | "TNRef" | "ToString" => {}
                "Props" | "MS" => {
                    for m in &c.children {
                        let Some(name) = m.attr("N") else { continue };
                        if SKIPPED.iter().any(|s| s.eq_ignore_ascii_case(name)) {
                            continue;
                        }
                        let v = self.member_value(m);
                        props.push(name, v);
                    }
                }
                n if is_collection(n) || n == "DCT" => unnamed = Some(c),
                _ => match c.attr("N") {
                    Some(name) if !SKIPPED.iter().any(|s| s.eq_ignore_ascii_case(name)) => {
                        let v = self.member_value(c);
                        props.push(name, v);
                    }
                    Some(_) => {}
                    None => unnamed = Some(c),
                },
            }
        }
        if props.is_empty() {
            match unnamed {
                Some(c) if is_collection(&c.name) || c.name == "DCT" => {
                    let v = self.obj_value(obj);
                    props.push("Value", v);
                }
                Some(c) => props.push("Value", Value::Text(primitive_text(c))),
                None => {
                    if let Some(t) = &to_string {
                        props.push("ToString", Value::Text(t.clone()));
                    }
                }
            }
        }
        if let Some(id) = obj.attr("RefId") {
            let v = to_string.clone().map(Value::Text).unwrap_or(Value::Null);
            self.objs.insert(id.to_string(), v);
        }
        (types, to_string, props)
    }
}

/// Adds the fields of an X.509 `ToString(true)` text (`[Thumbprint]\r\n  92E1…`) that the
/// property bag lacks: the E16 certificate capture serialises only `RawData` (VERIFIED, §4.5).
fn certificate_fields(to_string: &str, props: &mut Props) {
    let mut section: Option<String> = None;
    let mut found: Vec<(String, String)> = Vec::new();
    for line in to_string.lines() {
        let t = line.trim();
        if let Some(name) = t.strip_prefix('[').and_then(|r| r.strip_suffix(']')) {
            section = Some(name.split_whitespace().collect());
        } else if let (Some(s), false) = (&section, t.is_empty()) {
            match found.iter_mut().find(|(k, _)| k == s) {
                Some((_, v)) => {
                    v.push(' ');
                    v.push_str(t);
                }
                None => found.push((s.clone(), t.to_string())),
            }
        }
    }
    for (k, v) in found {
        if props.get(&k).is_none() {
            props.push(k, Value::Text(v));
        }
    }
}

fn to_event(
    ctx: &FileCtx,
    loc: Location,
    types: Vec<String>,
    to_string: Option<&str>,
    mut props: Props,
    sink: &mut DiagSink,
    out: &mut Parsed,
) -> Event {
    let command = psobject::detect_command(&types, None, &ctx.file_name, &props);
    if let Some(t) = to_string {
        let is_cert = command == Some(psobject::GET_EXCHANGE_CERTIFICATE)
            || types.iter().any(|t| t.contains("X509Certificate"));
        if is_cert && t.contains("[Thumbprint]") {
            certificate_fields(t, &mut props);
        }
    }
    if command == Some(psobject::GET_EXCHANGE_DIAGNOSTIC_INFO) {
        attach_im_settings(&loc, &mut props, sink, out);
    }
    let time = ["WhenChangedUTC", "WhenChanged"]
        .iter()
        .find_map(|n| props.text(n).and_then(time::iso))
        .map(|(t, k)| (Some(t), k))
        .unwrap_or((None, TsKind::None));
    let host = psobject::host_of(command, &props);
    let excerpt = psobject::summary(command, to_string, &props);
    let body = Body::Object {
        type_names: types,
        command: command.map(str::to_string),
        props,
    };
    Event::new(Format::Clixml, loc, body, &excerpt)
        .with_time(time.0, time.1)
        .with_host(host.as_deref())
}

/// Copies `IMServerName` / `IMCertificateThumbprint` out of an embedded `<IMSettings` XML string.
fn attach_im_settings(loc: &Location, props: &mut Props, sink: &mut DiagSink, out: &mut Parsed) {
    let Some(xml) = props.0.iter().find_map(|(_, v)| {
        v.as_text()
            .filter(|s| s.contains("<IMSettings"))
            .map(str::to_string)
    }) else {
        return;
    };
    match diaginfo::im_settings(&xml) {
        Ok(found) => {
            if let Some(first) = found.into_iter().next() {
                for (k, v) in first.props.0 {
                    props.push(k, v);
                }
            }
        }
        Err(e) => sink.warn(
            out,
            Diagnostic::at(
                DiagLevel::Warning,
                loc,
                Format::Clixml,
                format!("embedded IMSettings xml not readable: {}", e.message),
            ),
        ),
    }
}

/// Parses an `Export-Clixml` file: one event per top-level `<Obj>` (or top-level primitive).
pub fn parse(ctx: &FileCtx, text: &str) -> Parsed {
    let mut out = Parsed::default();
    let mut sink = DiagSink::new(&ctx.path, Format::Clixml);
    let base = super::bom_len(text);
    let body = &text[base..];
    let index = LineIndex::new(text);
    let loc = |pos: usize, record: u64| Location {
        path: ctx.path.clone(),
        line: index.line(base + pos),
        record,
        offset: (base + pos) as u64,
    };
    if body.trim().is_empty() {
        sink.warn(
            &mut out,
            Diagnostic::file(
                DiagLevel::Warning,
                &ctx.path,
                "empty clixml file: no objects",
            ),
        );
        sink.finish(&mut out);
        return out;
    }
    let mut r = reader(body);
    let mut refs = Refs::default();
    let mut record = 0u64;
    let mut in_root = false;
    loop {
        let pos = r.buffer_position() as usize;
        let ev = match r.read_event() {
            Ok(ev) => ev,
            Err(e) => {
                let at = r.error_position() as usize;
                record += 1;
                let d = Diagnostic::at(
                    DiagLevel::Error,
                    &loc(pos, record),
                    Format::Clixml,
                    format!(
                        "malformed xml at line {}: {e}; rest of file not parsed",
                        index.line(base + at)
                    ),
                );
                sink.reject(&mut out, d.with_excerpt(body.get(pos..).unwrap_or("")));
                break;
            }
        };
        let (start, empty) = match ev {
            XEvent::Start(e) => (e, false),
            XEvent::Empty(e) => (e, true),
            XEvent::End(_) => break,
            XEvent::Text(t) => {
                if !in_root && !t.iter().all(u8::is_ascii_whitespace) {
                    record += 1;
                    let d = Diagnostic::at(
                        DiagLevel::Error,
                        &loc(pos, record),
                        Format::Clixml,
                        "not clixml: text before the root element",
                    );
                    sink.reject(&mut out, d.with_excerpt(body.get(pos..).unwrap_or("")));
                    break;
                }
                continue;
            }
            XEvent::Eof => {
                if in_root {
                    let d = Diagnostic::at(
                        DiagLevel::Warning,
                        &loc(pos, 0),
                        Format::Clixml,
                        "file ends without </Objs>: capture may be truncated",
                    );
                    sink.warn(&mut out, d);
                } else if record == 0 {
                    sink.warn(
                        &mut out,
                        Diagnostic::file(DiagLevel::Warning, &ctx.path, "no <Objs> element found"),
                    );
                }
                break;
            }
            _ => continue,
        };
        if !in_root {
            if start.local_name().as_ref() != b"Objs" {
                record += 1;
                let d = Diagnostic::at(
                    DiagLevel::Error,
                    &loc(pos, record),
                    Format::Clixml,
                    "not clixml: the root element is not <Objs>",
                );
                sink.reject(&mut out, d.with_excerpt(body.get(pos..).unwrap_or("")));
                break;
            }
            // `<Objs/>` holds no objects; a start tag opens the object list.
            if empty {
                break;
            }
            in_root = true;
            continue;
        }
        record += 1;
        match read_element(&mut r, &start, pos, empty) {
            Ok(node) => {
                let (types, to_string, props) = if node.name == "Obj" {
                    refs.top_object(&node)
                } else {
                    let mut p = Props::default();
                    p.push("Value", refs.member_value(&node));
                    (Vec::new(), None, p)
                };
                let ev = to_event(
                    ctx,
                    loc(pos, record),
                    types,
                    to_string.as_deref(),
                    props,
                    &mut sink,
                    &mut out,
                );
                out.push(ev);
            }
            Err(err) => {
                let msg = format!(
                    "malformed xml in object {record} at line {}: {}; rest of file not parsed",
                    index.line(base + err.pos),
                    err.message
                );
                let d = Diagnostic::at(DiagLevel::Error, &loc(pos, record), Format::Clixml, msg);
                sink.reject(&mut out, d.with_excerpt(body.get(pos..).unwrap_or("")));
                break;
            }
        }
    }
    sink.finish(&mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A real capture from `shared/data/exchange/` (read in place, never copied).
    fn real(name: &str) -> String {
        let primary = format!(
            "{}/../shared/data/exchange/{name}",
            env!("CARGO_MANIFEST_DIR")
        );
        std::fs::read_to_string(&primary)
            .or_else(|_| std::fs::read_to_string(format!("/work/shared/data/exchange/{name}")))
            .unwrap_or_else(|e| panic!("{name}: {e}"))
    }

    fn run(name: &str, text: &str) -> Parsed {
        parse(&FileCtx::new(&format!("bundle.zip!E16/{name}")), text)
    }

    fn obj(p: &Parsed, i: usize) -> (&Vec<String>, Option<&str>, &Props) {
        match &p.events[i].body {
            Body::Object {
                type_names,
                command,
                props,
            } => (type_names, command.as_deref(), props),
            other => panic!("unexpected body {other:?}"),
        }
    }

    fn text(s: &str) -> Value {
        Value::Text(s.to_string())
    }

    #[test]
    fn real_e16_owa_virtual_directory() {
        let name = "E16_Exchange_GetOwaVirtualDirectory.xml";
        let p = run(name, &real(name));
        assert_eq!((p.parsed, p.rejected, p.events.len()), (1, 0, 1));
        let (types, cmd, props) = obj(&p, 0);
        assert_eq!(
            types[0],
            "Microsoft.Exchange.Data.Directory.SystemConfiguration.ADOwaVirtualDirectory"
        );
        assert_eq!(cmd, Some("Get-OwaVirtualDirectory"));
        assert_eq!(props.get("InstantMessagingType"), Some(&text("None")));
        assert_eq!(
            props.get("InstantMessagingCertificateThumbprint"),
            Some(&text(""))
        );
        assert_eq!(props.get("InstantMessagingServerName"), Some(&text("")));
        assert_eq!(props.get("InstantMessagingEnabled"), Some(&text("True")));
        assert_eq!(
            props.get("AdminDisplayVersion"),
            Some(&text("Version 15.1 (Build 2375.7)"))
        );
        assert_eq!(
            props.get("InternalUrl"),
            Some(&text("https://solo-e16a.solo.local/owa"))
        );
        assert_eq!(props.get("ExternalUrl"), Some(&Value::Null));
        assert_eq!(props.get("Server"), Some(&text("SOLO-E16A")));
        // <Ref N="Id" RefId="37" /> resolves to the Identity object.
        assert_eq!(
            props.get("Id"),
            Some(&text("SOLO-E16A\\owa (Default Web Site)"))
        );
        assert_eq!(
            props.get("PSComputerName"),
            Some(&text("solo-e16a.solo.local"))
        );
        assert!(props.get("RunspaceId").is_none() && props.get("SerializationData").is_none());
        match props.get("WebReadyFileTypes") {
            Some(Value::List {
                items,
                truncated: false,
            }) => assert_eq!(items.len(), 10),
            other => panic!("{other:?}"),
        }
        let e = &p.events[0];
        assert_eq!(e.host.as_deref(), Some("SOLO-E16A"));
        assert_eq!((e.loc.line, e.loc.record, e.loc.offset), (2, 1, 86));
        assert_eq!(
            e.time.map(|t| t.to_rfc3339()),
            Some("2020-06-30T21:07:20+00:00".to_string())
        );
        assert_eq!(e.ts_kind, TsKind::Utc);
        assert!(e.excerpt.starts_with("Get-OwaVirtualDirectory SOLO-E16A\\owa (Default Web Site): InstantMessagingType=None"), "{}", e.excerpt);
    }

    #[test]
    fn real_e16_exchange_server() {
        let name = "E16_Exchange_GetExchangeServer.xml";
        let p = run(name, &real(name));
        assert_eq!((p.parsed, p.rejected), (1, 0));
        let (_, cmd, props) = obj(&p, 0);
        assert_eq!(cmd, Some("Get-ExchangeServer"));
        assert_eq!(props.get("Fqdn"), Some(&text("Solo-E16A.Solo.local")));
        assert_eq!(props.get("ServerRole"), Some(&text("Mailbox")));
        assert_eq!(
            props.get("AdminDisplayVersion"),
            Some(&text("Version 15.1 (Build 2375.7)"))
        );
        match props.get("NetworkAddress") {
            Some(Value::List { items, .. }) => {
                assert_eq!(items[4], "ncacn_ip_tcp:Solo-E16A.Solo.local")
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(p.events[0].host.as_deref(), Some("Solo-E16A.Solo.local"));
    }

    #[test]
    fn real_e16_exchange_certificates() {
        let name = "E16_Exchange_GetExchangeCertificate.xml";
        let p = run(name, &real(name));
        assert_eq!((p.parsed, p.rejected), (3, 0));
        let expect = [
            (
                "92E196F3C8D3D753FCFC5B7690C3173AA1C0ABE3",
                "10/28/2023 19:34:03",
                "CN=Microsoft Exchange Server Auth Certificate",
            ),
            (
                "823884A32609DCDC8C4B5462952586C30D814073",
                "11/23/2023 18:32:37",
                "CN=Solo-E16A",
            ),
            (
                "A60C6E62FF85D208DF668D597A1B077E1534147F",
                "11/20/2028 17:22:56",
                "CN=WMSvc-WIN-9UC94ETVM30",
            ),
        ];
        for (i, (thumb, not_after, subject)) in expect.iter().enumerate() {
            let (types, cmd, props) = obj(&p, i);
            assert_eq!(cmd, Some("Get-ExchangeCertificate"));
            // The second and third objects use <TNRef RefId="0" />.
            assert_eq!(
                types[0],
                "Microsoft.Exchange.Management.SystemConfigurationTasks.ExchangeCertificate"
            );
            assert_eq!(props.text("Thumbprint"), Some(*thumb));
            assert_eq!(props.text("NotAfter"), Some(*not_after));
            assert_eq!(props.text("Subject"), Some(*subject));
            assert!(props.text("RawData").is_some_and(|r| r.starts_with("MII")));
            // Not serialised by this capture (only RawData is): absent, never invented.
            assert!(props.get("Services").is_none() && props.get("HasPrivateKey").is_none());
            assert_eq!(p.events[i].host.as_deref(), Some("solo-e16a.solo.local"));
            assert_eq!(p.events[i].loc.record, i as u64 + 1);
        }
        assert_eq!(
            obj(&p, 0).2.text("SerialNumber"),
            Some("133250C427C654A74B7E13809B9E672F")
        );
        assert_eq!(obj(&p, 0).2.text("NotBefore"), Some("11/23/2018 18:34:03"));
    }

    #[test]
    fn real_e19_setting_override() {
        let name = "E19_Exchange_GetSettingOverride.xml";
        let p = run(name, &real(name));
        assert_eq!((p.parsed, p.rejected), (1, 0));
        let (_, cmd, props) = obj(&p, 0);
        assert_eq!(cmd, Some("Get-SettingOverride"));
        assert_eq!(props.get("ComponentName"), Some(&text("Cafe")));
        assert_eq!(
            props.get("SectionName"),
            Some(&text("HttpRequestFiltering"))
        );
        assert_eq!(
            props.get("Parameters"),
            Some(&Value::List {
                items: vec!["Enabled=True".into()],
                truncated: false
            })
        );
        assert_eq!(props.get("Server"), Some(&Value::Null));
        assert_eq!(props.get("FlightName"), Some(&Value::Null));
        assert_eq!(props.get("AdminDisplayName"), Some(&text("")));
        assert_eq!(props.get("Status"), Some(&text("Accepted")));
        assert_eq!(props.get("ExchangeVersion"), Some(&text("0.1 (8.0.535.0)")));
        assert_eq!(props.get("Id"), Some(&text("DisablingAMSIScan")));
        assert_eq!(props.get("OrganizationId"), Some(&text("")));
        assert!(props
            .text("XmlRaw")
            .is_some_and(|x| x.starts_with("<S CN=\"Cafe\" SN=\"HttpRequestFiltering\"")));
        let e = &p.events[0];
        assert_eq!(e.host.as_deref(), Some("win-ctd3l0rgen4.exlab.dom"));
        assert_eq!(
            e.time.map(|t| t.to_rfc3339()),
            Some("2021-11-17T18:31:45+00:00".to_string())
        );
    }

    const HEAD: &str =
        "<Objs Version=\"1.1.0.1\" xmlns=\"http://schemas.microsoft.com/powershell/2004/04\">\n";

    // Synthetic IMSettings override modelled on the real E19 structure (formats.md §4.5).
    fn im_override(refid: u32) -> String {
        format!(
            "  <Obj RefId=\"{r0}\">\n    <TN RefId=\"{r0}\"><T>Microsoft.Exchange.Data.Directory.SystemConfiguration.ConfigurationSettings.SettingOverride</T><T>System.Object</T></TN>\n    <ToString>IM Override</ToString>\n    <Props>\n      <S N=\"ComponentName\">OwaServer</S>\n      <S N=\"SectionName\">IMSettings</S>\n      <Nil N=\"Server\" />\n      <Obj N=\"Parameters\" RefId=\"{r1}\"><TN RefId=\"{r1}\"><T>Microsoft.Exchange.Data.MultiValuedProperty`1[[System.String]]</T></TN><LST><S>IMServerName=pool01.contoso.com</S><S>IMCertificateThumbprint=0123456789ABCDEF</S></LST></Obj>\n      <Obj N=\"Status\" RefId=\"{r2}\"><TN RefId=\"{r2}\"><T>X.SettingOverrideStatus</T><T>System.Enum</T></TN><ToString>Accepted</ToString><I32>3</I32></Obj>\n      <S N=\"Reason\">line_x000D__x000A_two _x005F_x _xD83D__xDE00_</S>\n    </Props>\n    <MS><S N=\"PSComputerName\">ex01.contoso.com</S><G N=\"RunspaceId\">1</G></MS>\n  </Obj>\n",
            r0 = refid,
            r1 = refid + 1,
            r2 = refid + 2
        )
    }

    #[test]
    fn synthetic_im_override_and_escapes() {
        let doc = format!("{HEAD}{}</Objs>\n", im_override(0));
        let p = parse(&FileCtx::new("x/overrides.xml"), &doc);
        assert_eq!((p.parsed, p.rejected), (1, 0));
        let (_, cmd, props) = obj(&p, 0);
        assert_eq!(cmd, Some("Get-SettingOverride"));
        assert_eq!(props.text("Reason"), Some("line\r\ntwo _x \u{1F600}"));
        assert_eq!(
            props.get("Parameters").map(Value::items),
            Some(vec![
                "IMServerName=pool01.contoso.com",
                "IMCertificateThumbprint=0123456789ABCDEF"
            ])
        );
        assert_eq!(p.events[0].host.as_deref(), Some("ex01.contoso.com"));
        assert_eq!(decode_x("_x0041__xZZZZ_ _x00"), "A_xZZZZ_ _x00");
        assert_eq!(decode_x("_xD800_x"), "\u{FFFD}x");
    }

    #[test]
    fn truncated_garbage_and_empty() {
        // Second object cut mid-way: one parsed, one rejected, line named.
        let doc = format!("{HEAD}{}{}", im_override(0), &im_override(3)[..200]);
        let p = parse(&FileCtx::new("x/t.xml"), &doc);
        assert_eq!((p.parsed, p.rejected), (1, 1));
        let d = &p.diagnostics[0];
        assert_eq!((d.level, d.line, d.record), (DiagLevel::Error, 15, 2));
        assert!(
            d.message.contains("malformed xml in object 2"),
            "{}",
            d.message
        );
        // Mismatched end tag.
        let doc =
            format!("{HEAD}  <Obj RefId=\"0\"><Props><S N=\"a\">x</B></Props></Obj>\n</Objs>");
        let p = parse(&FileCtx::new("x/t.xml"), &doc);
        assert_eq!((p.parsed, p.rejected), (0, 1));
        let p = parse(&FileCtx::new("x/t.xml"), "this is not xml at all");
        assert_eq!((p.parsed, p.rejected), (0, 1));
        let p = parse(&FileCtx::new("x/t.xml"), "<root><a/></root>");
        assert_eq!((p.parsed, p.rejected), (0, 1));
        let p = parse(&FileCtx::new("x/t.xml"), "\u{feff}");
        assert_eq!((p.parsed, p.rejected, p.diagnostics.len()), (0, 0, 1));
        let p = parse(&FileCtx::new("x/t.xml"), &format!("\u{feff}{HEAD}</Objs>"));
        assert_eq!((p.parsed, p.rejected, p.diagnostics.len()), (0, 0, 0));
        // Missing </Objs> after complete objects: nothing lost, a warning.
        let p = parse(
            &FileCtx::new("x/t.xml"),
            &format!("{HEAD}{}", im_override(0)),
        );
        assert_eq!((p.parsed, p.rejected, p.diagnostics.len()), (1, 0, 1));
    }

    #[test]
    fn diagnostic_info_result_with_im_settings() {
        // Synthetic: envelope as in CSS-Exchange's real GetExchangeDiagnosticInfo.xml, IMSettings
        // shape NOT KNOWN.
        let result = "&lt;Diagnostics&gt;_x000D__x000A_  &lt;Components&gt;&lt;VariantConfiguration&gt;&lt;Configuration&gt;&lt;OwaServer&gt;&lt;IMSettings IMServerName=\"pool01.contoso.com\" IMCertificateThumbprint=\"\" /&gt;&lt;/OwaServer&gt;&lt;/Configuration&gt;&lt;/VariantConfiguration&gt;&lt;/Components&gt;_x000D__x000A_&lt;/Diagnostics&gt;";
        let doc = format!(
            "{HEAD}  <Obj RefId=\"0\">\n    <TN RefId=\"0\"><T>Microsoft.Exchange.Management.Powershell.Support.ExchangeDiagnosticInfoResult</T><T>System.Object</T></TN>\n    <Props><S N=\"Result\">{result}</S><Nil N=\"Identity\" /></Props>\n    <MS><S N=\"PSComputerName\">ex01.contoso.com</S></MS>\n  </Obj>\n  <S>a bare string</S>\n</Objs>"
        );
        let p = parse(&FileCtx::new("x/diag.xml"), &doc);
        assert_eq!((p.parsed, p.rejected), (2, 0));
        let (_, cmd, props) = obj(&p, 0);
        assert_eq!(cmd, Some("Get-ExchangeDiagnosticInfo"));
        assert_eq!(props.get("IMServerName"), Some(&text("pool01.contoso.com")));
        assert_eq!(props.get("IMCertificateThumbprint"), Some(&Value::Null));
        assert_eq!(p.events[0].host.as_deref(), Some("ex01.contoso.com"));
        assert_eq!(obj(&p, 1).2.get("Value"), Some(&text("a bare string")));
        assert_eq!(p.events[1].loc.line, 7);
    }
}
