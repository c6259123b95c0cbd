//! `Get-ExchangeDiagnosticInfo … -Component VariantConfiguration -Argument "Config,Component=OwaServer"`
//! XML, reduced to its `IMSettings` (formats.md §4.5).
//!
//! Why this module exists: the documented way to check which IM server and certificate OWA really
//! uses after a `New-SettingOverride -Component OwaServer -Section IMSettings` is to read the
//! effective VariantConfiguration of the running topology service. Engineers save that output as
//! XML (or it arrives as the `Result` string of a CLIXML `ExchangeDiagnosticInfoResult`). The
//! envelope is VERIFIED (`<Diagnostics>` … `<Components><VariantConfiguration>`, CSS-Exchange
//! HealthChecker test data), but the shape of the `IMSettings` element is NOT KNOWN, so this
//! reader looks for `IMSettings` elements anywhere and accepts the two values as attributes, child
//! elements, `Name=/Value=` pairs or `Name=value` text.
//!
//! It also holds the small quick-xml tree reader ([`XNode`], [`read_element`]) that the CLIXML
//! parser shares.

use super::clixml;
use super::psobject::{self, DiagSink, LineIndex};
use super::FileCtx;
use crate::model::{Body, DiagLevel, Diagnostic, Event, Format, Location, Parsed, Props, Value};
use quick_xml::events::{BytesStart, Event as XEvent};
use quick_xml::Reader;

/// Deepest element nesting accepted (real captures stay under 20).
const MAX_DEPTH: usize = 512;

/// An XML element: local name, attributes, children and the concatenated text content.
#[derive(Debug, Default)]
pub(crate) struct XNode {
    pub name: String,
    pub attrs: Vec<(String, String)>,
    pub children: Vec<XNode>,
    pub text: String,
    /// Byte offset of `<` in the text given to the reader.
    pub pos: usize,
}

impl XNode {
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn child(&self, name: &str) -> Option<&XNode> {
        self.children.iter().find(|c| c.name == name)
    }
}

/// An XML syntax problem at a byte offset.
#[derive(Debug)]
pub(crate) struct XmlError {
    pub pos: usize,
    pub message: String,
}

fn node_from(e: &BytesStart<'_>, pos: usize) -> Result<XNode, XmlError> {
    let name = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
    let mut attrs = Vec::new();
    for a in e.attributes() {
        let a = a.map_err(|err| XmlError {
            pos,
            message: format!("bad attribute in <{name}>: {err}"),
        })?;
        let key = String::from_utf8_lossy(a.key.local_name().as_ref()).into_owned();
        let value = a.unescape_value().map_err(|err| XmlError {
            pos,
            message: format!("bad attribute value in <{name}>: {err}"),
        })?;
        attrs.push((key, value.into_owned()));
    }
    Ok(XNode {
        name,
        attrs,
        pos,
        ..XNode::default()
    })
}

/// Reads the element whose start tag was just read (`empty` for `<x/>`) up to its end tag.
pub(crate) fn read_element(
    r: &mut Reader<&[u8]>,
    start: &BytesStart<'_>,
    pos: usize,
    empty: bool,
) -> Result<XNode, XmlError> {
    let root = node_from(start, pos)?;
    if empty {
        return Ok(root);
    }
    let mut stack = vec![root];
    loop {
        let pos = r.buffer_position() as usize;
        let ev = r.read_event().map_err(|e| XmlError {
            pos: r.error_position() as usize,
            message: e.to_string(),
        })?;
        match ev {
            XEvent::Start(e) => {
                if stack.len() >= MAX_DEPTH {
                    return Err(XmlError {
                        pos,
                        message: "elements nested too deeply".into(),
                    });
                }
                stack.push(node_from(&e, pos)?);
            }
            XEvent::Empty(e) => {
                let n = node_from(&e, pos)?;
                if let Some(top) = stack.last_mut() {
                    top.children.push(n);
                }
            }
            XEvent::End(_) => {
                let Some(done) = stack.pop() else {
                    return Err(XmlError {
                        pos,
                        message: "unbalanced end tag".into(),
                    });
                };
                match stack.last_mut() {
                    Some(parent) => parent.children.push(done),
                    None => return Ok(done),
                }
            }
            XEvent::Text(t) => {
                let s = t.unescape().map_err(|e| XmlError {
                    pos,
                    message: e.to_string(),
                })?;
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(&s);
                }
            }
            XEvent::CData(c) => {
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(&String::from_utf8_lossy(&c));
                }
            }
            XEvent::Eof => {
                let open = stack.last().map(|n| n.name.clone()).unwrap_or_default();
                return Err(XmlError {
                    pos,
                    message: format!("unexpected end of file inside <{open}>"),
                });
            }
            _ => {}
        }
    }
}

/// A reader over `text` configured for exact text (no trimming) and checked end names.
pub(crate) fn reader(text: &str) -> Reader<&[u8]> {
    let mut r = Reader::from_str(text);
    let cfg = r.config_mut();
    cfg.trim_text(false);
    cfg.check_end_names = true;
    cfg.expand_empty_elements = false;
    r
}

/// The two settings read from each `IMSettings` element.
pub const IM_KEYS: [&str; 2] = ["IMServerName", "IMCertificateThumbprint"];

/// One `IMSettings` element found in a document.
#[derive(Debug)]
pub(crate) struct ImSettings {
    /// Byte offset of the element in the text given to [`im_settings`].
    pub pos: usize,
    /// `IMServerName` and `IMCertificateThumbprint` (empty or absent → null).
    pub props: Props,
}

/// All top-level elements of an XML text (normally one root).
fn read_roots(xml: &str) -> Result<Vec<XNode>, XmlError> {
    let mut r = reader(xml);
    let mut roots = Vec::new();
    loop {
        let pos = r.buffer_position() as usize;
        let ev = r.read_event().map_err(|e| XmlError {
            pos: r.error_position() as usize,
            message: e.to_string(),
        })?;
        match ev {
            XEvent::Start(e) => roots.push(read_element(&mut r, &e, pos, false)?),
            XEvent::Empty(e) => roots.push(read_element(&mut r, &e, pos, true)?),
            XEvent::Text(t) if !t.iter().all(u8::is_ascii_whitespace) && roots.is_empty() => {
                return Err(XmlError {
                    pos,
                    message: "text before the root element".into(),
                });
            }
            XEvent::Eof => return Ok(roots),
            _ => {}
        }
    }
}

/// Every element of the forest, in document order.
fn walk<'a>(roots: &'a [XNode], out: &mut Vec<&'a XNode>) {
    let mut stack: Vec<&XNode> = roots.iter().rev().collect();
    while let Some(n) = stack.pop() {
        out.push(n);
        stack.extend(n.children.iter().rev());
    }
}

/// `key=value` in free text (one per line or `;`/`,` separated).
fn from_text(text: &str, key: &str) -> Option<String> {
    text.split(['\n', '\r', ';', ','])
        .filter_map(|part| part.trim().split_once('='))
        .find(|(k, _)| k.trim().eq_ignore_ascii_case(key))
        .map(|(_, v)| v.trim().to_string())
}

/// One setting of an `IMSettings` element, by the shapes accepted (see the module doc).
fn setting(im: &XNode, key: &str) -> Option<String> {
    if let Some(v) = im.attr(key) {
        return Some(v.to_string());
    }
    let mut all = Vec::new();
    walk(std::slice::from_ref(im), &mut all);
    let descendants = &all[1..];
    if let Some(c) = descendants
        .iter()
        .find(|n| n.name.eq_ignore_ascii_case(key))
    {
        return Some(
            c.attr("Value")
                .map(str::to_string)
                .unwrap_or_else(|| c.text.trim().to_string()),
        );
    }
    let named = descendants.iter().find(|n| {
        ["Name", "Key"]
            .iter()
            .any(|a| n.attr(a).is_some_and(|v| v.eq_ignore_ascii_case(key)))
    });
    if let Some(n) = named {
        return Some(
            n.attr("Value")
                .map(str::to_string)
                .unwrap_or_else(|| n.text.trim().to_string()),
        );
    }
    all.iter().find_map(|n| {
        from_text(&n.text, key).or_else(|| n.attrs.iter().find_map(|(_, v)| from_text(v, key)))
    })
}

/// Finds every `IMSettings` element of an XML document and reads its two settings.
pub(crate) fn im_settings(xml: &str) -> Result<Vec<ImSettings>, XmlError> {
    read_roots(xml).map(|roots| im_settings_in(&roots))
}

fn im_settings_in(roots: &[XNode]) -> Vec<ImSettings> {
    let mut all = Vec::new();
    walk(roots, &mut all);
    all.into_iter()
        .filter(|n| n.name.eq_ignore_ascii_case("IMSettings"))
        .map(|im| {
            let mut props = Props::default();
            for key in IM_KEYS {
                let v = setting(im, key)
                    .filter(|s| !s.trim().is_empty())
                    .map(Value::Text)
                    .unwrap_or(Value::Null);
                props.push(key, v);
            }
            ImSettings { pos: im.pos, props }
        })
        .collect()
}

/// The `serverName` of the `ProcessInfo` block (VERIFIED in other `Get-ExchangeDiagnosticInfo`
/// output; whether this query carries it is INFERRED).
fn server_name(roots: &[XNode]) -> Option<String> {
    let mut all = Vec::new();
    walk(roots, &mut all);
    all.into_iter()
        .find(|n| n.name.eq_ignore_ascii_case("serverName") && !n.text.trim().is_empty())
        .map(|n| n.text.trim().to_string())
}

/// Parses a saved diagnostic-info XML document: one event per `IMSettings` element.
pub fn parse(ctx: &FileCtx, text: &str) -> Parsed {
    let mut out = Parsed::default();
    let mut sink = DiagSink::new(&ctx.path, Format::DiagnosticInfoXml);
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
            Diagnostic::file(DiagLevel::Warning, &ctx.path, "empty diagnostic info file"),
        );
        sink.finish(&mut out);
        return out;
    }
    let roots = match read_roots(body) {
        Ok(r) => r,
        Err(e) => {
            let msg = format!(
                "malformed xml at line {}: {}; document not parsed",
                index.line(base + e.pos),
                e.message
            );
            let d = Diagnostic::at(DiagLevel::Error, &loc(0, 1), Format::DiagnosticInfoXml, msg);
            sink.reject(&mut out, d.with_excerpt(body));
            sink.finish(&mut out);
            return out;
        }
    };
    if roots.first().is_some_and(|r| r.name == "Objs") {
        // A CLIXML capture handed to this reader: the CLIXML parser attaches the settings.
        return clixml::parse(ctx, text);
    }
    let host = server_name(&roots);
    let found = im_settings_in(&roots);
    if found.is_empty() {
        let d = Diagnostic::at(
            DiagLevel::Warning,
            &loc(0, 0),
            Format::DiagnosticInfoXml,
            "no IMSettings element found",
        );
        sink.warn(&mut out, d);
    }
    for (i, im) in found.into_iter().enumerate() {
        let command = Some(psobject::GET_EXCHANGE_DIAGNOSTIC_INFO);
        let excerpt = psobject::summary(command, Some("IMSettings"), &im.props);
        let body = Body::Object {
            type_names: Vec::new(),
            command: command.map(str::to_string),
            props: im.props,
        };
        let ev = Event::new(
            Format::DiagnosticInfoXml,
            loc(im.pos, i as u64 + 1),
            body,
            &excerpt,
        )
        .with_host(host.as_deref());
        out.push(ev);
    }
    sink.finish(&mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(text: &str) -> Parsed {
        parse(
            &FileCtx::new("bundle/EX01_ExchangeDiagnosticInfo_OwaServer.xml"),
            text,
        )
    }

    fn im(p: &Parsed, i: usize) -> (Option<String>, Option<String>) {
        match &p.events[i].body {
            Body::Object { props, command, .. } => {
                assert_eq!(command.as_deref(), Some("Get-ExchangeDiagnosticInfo"));
                (
                    props.text("IMServerName").map(str::to_string),
                    props.text("IMCertificateThumbprint").map(str::to_string),
                )
            }
            other => panic!("unexpected body {other:?}"),
        }
    }

    // Synthetic: the IMSettings shape is NOT KNOWN (formats.md §4.5).
    #[test]
    fn attribute_shape_with_envelope() {
        let xml = "<Diagnostics>\r\n  <ProcessInfo>\r\n    <serverName>EX01</serverName>\r\n  </ProcessInfo>\r\n  <Components>\r\n    <VariantConfiguration>\r\n      <Configuration>\r\n        <OwaServer>\r\n          <IMSettings IMServerName=\"pool01.contoso.com\" IMCertificateThumbprint=\"0123ABCD\" />\r\n        </OwaServer>\r\n      </Configuration>\r\n    </VariantConfiguration>\r\n  </Components>\r\n</Diagnostics>\r\n";
        let p = run(xml);
        assert_eq!((p.parsed, p.rejected, p.events.len()), (1, 0, 1));
        assert_eq!(
            im(&p, 0),
            (Some("pool01.contoso.com".into()), Some("0123ABCD".into()))
        );
        assert_eq!(p.events[0].loc.line, 9);
        assert_eq!(p.events[0].host.as_deref(), Some("EX01"));
    }

    #[test]
    fn child_named_and_text_shapes() {
        let xml = r#"<Root>
  <IMSettings><IMServerName>pool02.contoso.com</IMServerName><IMCertificateThumbprint></IMCertificateThumbprint></IMSettings>
  <IMSettings><Parameter Name="IMServerName" Value="pool03.contoso.com"/><Setting key="IMCertificateThumbprint">AB12</Setting></IMSettings>
  <IMSettings><Parameters>IMServerName=pool04.contoso.com;IMCertificateThumbprint=CD34</Parameters></IMSettings>
  <IMSettings/>
</Root>"#;
        let p = run(xml);
        assert_eq!((p.parsed, p.rejected), (4, 0));
        assert_eq!(im(&p, 0), (Some("pool02.contoso.com".into()), None));
        assert_eq!(
            im(&p, 1),
            (Some("pool03.contoso.com".into()), Some("AB12".into()))
        );
        assert_eq!(
            im(&p, 2),
            (Some("pool04.contoso.com".into()), Some("CD34".into()))
        );
        assert_eq!(im(&p, 3), (None, None));
        assert_eq!(p.events[3].loc.record, 4);
    }

    #[test]
    fn malformed_empty_and_missing() {
        let p = run("<Diagnostics><IMSettings IMServerName=\"x\">");
        assert_eq!((p.parsed, p.rejected), (0, 1));
        assert_eq!(p.diagnostics[0].level, DiagLevel::Error);
        let p = run("garbage, not xml");
        assert_eq!((p.parsed, p.rejected), (0, 1));
        let p = run("");
        assert_eq!((p.parsed, p.rejected), (0, 0));
        let p = run("<Diagnostics><Components/></Diagnostics>");
        assert_eq!((p.parsed, p.rejected, p.diagnostics.len()), (0, 0, 1));
    }
}
