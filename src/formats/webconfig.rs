//! OWA `web.config` `appSettings` (formats.md §3).
//!
//! Why this module exists: Exchange 2013 reads its OWA IM integration settings
//! (`IMServerName`, `IMCertificateThumbprint`, …) from the OWA back-end web.config, and on
//! Exchange 2016/2019 the same keys are ignored and raise an alert. Whether those keys are present,
//! and with which values, is evidence for several causes; a key inside an XML comment must not
//! count. A real XML reader (quick-xml) is used so that comments, entities (`&quot;`) and nesting
//! are handled by the XML rules rather than by text search.
//!
//! One event per `appSettings` element (`/configuration/appSettings`, also inside
//! `/configuration/location`), holding its `add[@key][@value]` pairs in document order. A file with
//! no `appSettings` still yields one event with empty settings, so later stages know a web.config
//! was seen. Grammar and status markers: `grammars/web-config.md`; rule names used there:
//! [`parse`] (document), [`app_settings`] (one element), [`add_entry`] (one `<add>`).

use crate::formats::FileCtx;
use crate::model::{Body, DiagLevel, Diagnostic, Event, Format, Location, Parsed, Props, Value};
use quick_xml::events::{BytesStart, Event as XmlEvent};
use quick_xml::Reader;

/// Warnings kept per file; the rest are counted in one summary diagnostic.
const WARN_CAP: usize = 50;

/// An `appSettings` element being read.
struct Open {
    loc: Location,
    settings: Props,
    depth: usize,
}

/// Turns byte offsets into 1-based line numbers, scanning forward only (CRLF, LF or lone CR).
struct LineCounter<'a> {
    bytes: &'a [u8],
    pos: usize,
    line: u64,
}

impl LineCounter<'_> {
    fn line_at(&mut self, offset: usize) -> u64 {
        let end = offset.min(self.bytes.len());
        if end < self.pos {
            // Only forward scans happen in practice; recount from the start otherwise.
            self.pos = 0;
            self.line = 1;
        }
        while self.pos < end {
            match self.bytes.get(self.pos) {
                Some(b'\n') => self.line += 1,
                Some(b'\r') if self.bytes.get(self.pos + 1) != Some(&b'\n') => self.line += 1,
                _ => {}
            }
            self.pos += 1;
        }
        self.line
    }
}

/// Parses a web.config: one [`Body::AppSettings`] event per `appSettings` element.
///
/// `document := <configuration> ( app_settings | <location> app_settings </location> | other )*
/// </configuration>`. Malformed XML gives one rejected record with the line of the error; the
/// settings read before the error are kept as an event.
pub fn parse(ctx: &FileCtx, text: &str) -> Parsed {
    let mut out = Parsed::default();
    let mut reader = Reader::from_str(text);
    let cfg = reader.config_mut();
    cfg.trim_text(false);
    cfg.check_end_names = true;
    let mut lines = LineCounter {
        bytes: text.as_bytes(),
        pos: 0,
        line: 1,
    };
    let mut stack: Vec<String> = Vec::new();
    let mut open: Option<Open> = None;
    let mut record: u64 = 0;
    let mut saw_root = false;
    let mut seen_settings = false;
    let mut warnings: Vec<(Location, String)> = Vec::new();
    let loc_at = |lines: &mut LineCounter<'_>, offset: usize, record: u64| Location {
        path: ctx.path.clone(),
        line: lines.line_at(offset),
        record,
        offset: offset as u64,
    };
    let failure: Option<(usize, String)> = loop {
        let before = usize::try_from(reader.buffer_position()).unwrap_or(usize::MAX);
        let ev = match reader.read_event() {
            Ok(ev) => ev,
            Err(e) => {
                let at = usize::try_from(reader.error_position()).unwrap_or(before);
                break Some((at, format!("malformed XML: {e}")));
            }
        };
        // `before` is the end of the previous event; with untrimmed text that is this tag's `<`.
        let start = text
            .get(before..)
            .and_then(|r| r.find('<'))
            .map_or(before, |k| before + k);
        match ev {
            XmlEvent::Start(ref e) | XmlEvent::Empty(ref e) => {
                let is_empty = matches!(ev, XmlEvent::Empty(_));
                let name = local_name(e);
                if stack.is_empty() {
                    if saw_root {
                        break Some((start, format!("second root element <{name}>")));
                    }
                    saw_root = true;
                    if !name.eq_ignore_ascii_case("configuration") {
                        break Some((
                            start,
                            format!("root element is <{name}>, not <configuration>"),
                        ));
                    }
                }
                let parent = stack.last().map(String::as_str).unwrap_or("");
                if let Some(o) = open.as_mut() {
                    if stack.len() == o.depth + 1 && name.eq_ignore_ascii_case("add") {
                        let loc = loc_at(&mut lines, start, 0);
                        add_entry(e, &mut o.settings, &loc, &mut warnings);
                    }
                } else if name.eq_ignore_ascii_case("appSettings")
                    && (parent.eq_ignore_ascii_case("configuration")
                        || parent.eq_ignore_ascii_case("location"))
                {
                    record += 1;
                    seen_settings = true;
                    open = Some(Open {
                        loc: loc_at(&mut lines, start, record),
                        settings: Props::default(),
                        depth: stack.len(),
                    });
                }
                if is_empty {
                    close_if_done(&mut open, stack.len(), text, &mut out);
                } else {
                    stack.push(name);
                }
            }
            XmlEvent::End(_) => {
                stack.pop();
                close_if_done(&mut open, stack.len(), text, &mut out);
            }
            XmlEvent::Eof => {
                break stack.last().map(|n| {
                    (
                        text.len(),
                        format!("unexpected end of document inside <{n}>"),
                    )
                });
            }
            // Comments, text, CDATA, declarations and processing instructions carry no settings.
            _ => {}
        }
    };
    if let Some((at, reason)) = failure {
        if let Some(o) = open.take() {
            emit(o, text, &mut out);
        }
        let loc = loc_at(&mut lines, at, record + 1);
        let excerpt = line_text(text, at);
        out.reject(
            Diagnostic::at(DiagLevel::Error, &loc, Format::WebConfig, reason).with_excerpt(excerpt),
        );
    } else if !saw_root {
        let loc = loc_at(&mut lines, 0, 1);
        out.reject(
            Diagnostic::at(
                DiagLevel::Error,
                &loc,
                Format::WebConfig,
                "no XML element found",
            )
            .with_excerpt(text),
        );
    } else if !seen_settings {
        let start = text.find("<configuration").unwrap_or(0);
        let loc = loc_at(&mut lines, start, 1);
        let body = Body::AppSettings {
            settings: Props::default(),
        };
        out.push(Event::new(
            Format::WebConfig,
            loc,
            body,
            line_text(text, start),
        ));
    }
    let extra = warnings.len().saturating_sub(WARN_CAP);
    let first_extra = warnings.get(WARN_CAP).map(|(l, _)| l.clone());
    for (loc, msg) in warnings.into_iter().take(WARN_CAP) {
        out.diagnostics.push(Diagnostic::at(
            DiagLevel::Warning,
            &loc,
            Format::WebConfig,
            msg,
        ));
    }
    if let Some(loc) = first_extra {
        out.diagnostics.push(Diagnostic::at(
            DiagLevel::Warning,
            &loc,
            Format::WebConfig,
            format!("{extra} more warnings (details omitted)"),
        ));
    }
    out
}

/// The element name without namespace prefix, as text.
fn local_name(e: &BytesStart<'_>) -> String {
    String::from_utf8_lossy(e.local_name().as_ref()).into_owned()
}

/// Emits the open `appSettings` event when its element has just closed at `depth`.
fn close_if_done(open: &mut Option<Open>, depth: usize, text: &str, out: &mut Parsed) {
    if open.as_ref().is_some_and(|o| o.depth == depth) {
        if let Some(o) = open.take() {
            emit(o, text, out);
        }
    }
}

/// `app_settings := <appSettings> add_entry* </appSettings>` — one event.
fn app_settings(o: Open, text: &str) -> Event {
    let excerpt = settings_excerpt(line_text(text, o.loc.offset as usize), &o.settings);
    let body = Body::AppSettings {
        settings: o.settings,
    };
    Event::new(Format::WebConfig, o.loc, body, &excerpt)
}

/// `<appSettings> (N keys; IM keys: IMServerName=…, IMCertificateThumbprint=…)`: the keys that
/// rules read are the evidence an engineer wants to see.
fn settings_excerpt(line: &str, settings: &Props) -> String {
    let im: Vec<String> = settings
        .0
        .iter()
        .filter(|(k, _)| k.len() > 2 && k[..2].eq_ignore_ascii_case("im"))
        .map(|(k, v)| format!("{k}={}", v.as_text().unwrap_or("")))
        .collect();
    let keys = settings.len();
    if im.is_empty() {
        format!("{line} ({keys} keys; no IM keys)")
    } else {
        format!("{line} ({keys} keys; IM keys: {})", im.join(", "))
    }
}

fn emit(o: Open, text: &str, out: &mut Parsed) {
    out.push(app_settings(o, text));
}

/// `add_entry := <add key="K" value="V" />` — appends one setting; attribute values are
/// unescaped (`&quot;` → `"`). An `<add>` without `key` is skipped with a warning; one without
/// `value` is kept with an empty value and a warning.
fn add_entry(
    e: &BytesStart<'_>,
    settings: &mut Props,
    loc: &Location,
    warnings: &mut Vec<(Location, String)>,
) {
    let (mut key, mut value) = (None, None);
    for attr in e.attributes() {
        let attr = match attr {
            Ok(a) => a,
            Err(err) => {
                warnings.push((loc.clone(), format!("malformed attribute in <add>: {err}")));
                continue;
            }
        };
        let name = attr.key.local_name();
        let slot = if name.as_ref().eq_ignore_ascii_case(b"key") {
            &mut key
        } else if name.as_ref().eq_ignore_ascii_case(b"value") {
            &mut value
        } else {
            continue;
        };
        let text = match attr.unescape_value() {
            Ok(v) => v.into_owned(),
            Err(err) => {
                warnings.push((loc.clone(), format!("attribute value kept raw: {err}")));
                String::from_utf8_lossy(&attr.value).into_owned()
            }
        };
        *slot = Some(text);
    }
    match (key, value) {
        (Some(k), Some(v)) => settings.push(k, Value::Text(v)),
        (Some(k), None) => {
            warnings.push((
                loc.clone(),
                format!("<add key={k:?}> has no value attribute"),
            ));
            settings.push(k, Value::Text(String::new()));
        }
        (None, _) => warnings.push((loc.clone(), "<add> without key attribute ignored".into())),
    }
}

/// The text of the line holding `offset`, from `offset` on (for excerpts).
fn line_text(text: &str, offset: usize) -> &str {
    let rest = text.get(offset..).unwrap_or("");
    let end = rest.find(['\n', '\r']).unwrap_or(rest.len());
    rest.get(..end).unwrap_or(rest)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn real_web_config() -> String {
        let primary = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../shared/data/exchange/E16_Exchange_IIS_ExchangeBackEnd-OWA_web.config"
        );
        let fallback = "/work/shared/data/exchange/E16_Exchange_IIS_ExchangeBackEnd-OWA_web.config";
        let bytes = std::fs::read(primary)
            .or_else(|_| std::fs::read(fallback))
            .expect("real E16 OWA web.config in shared data");
        let text = String::from_utf8(bytes).expect("utf-8");
        text.strip_prefix('\u{feff}').unwrap_or(&text).to_string()
    }

    fn settings(e: &Event) -> &Props {
        match &e.body {
            Body::AppSettings { settings } => settings,
            other => panic!("not app settings: {other:?}"),
        }
    }

    fn run(text: &str) -> Parsed {
        parse(
            &FileCtx::new("MBX01/IIS/ExchangeBackEnd-OWA_web.config"),
            text,
        )
    }

    #[test]
    fn golden_real_e16_backend_web_config() {
        let p = run(&real_web_config());
        assert_eq!((p.parsed, p.rejected), (1, 0));
        assert!(p.diagnostics.is_empty(), "{:?}", p.diagnostics);
        let e = &p.events[0];
        let pairs: Vec<(&str, &str)> = settings(e)
            .0
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_text().unwrap_or("?")))
            .collect();
        assert_eq!(
            pairs,
            vec![
                ("OAuthHttpModule.RunningAtBackend", "true"),
                ("PSDirectInvokeEnabledModules", "Logging,LatencyTracker"),
                ("RoutingUpdateModule.ProtocolType", "OWA"),
                ("owin:AutomaticAppStartup", "true"),
            ]
        );
        assert_eq!((e.loc.line, e.loc.record), (202, 1));
        assert_eq!(e.excerpt, "<appSettings> (4 keys; no IM keys)");
        assert_eq!(e.host, None);
    }

    const SYNTH: &str = "<?xml version=\"1.0\"?>\r\n<configuration>\r\n  <!-- <appSettings><add key=\"X\" value=\"1\"/></appSettings> -->\r\n  <location path=\"owa\">\r\n    <appSettings>\r\n      <add key=\"IMServerName\" value=\"pool01.contoso.com\" />\r\n      <!-- <add key=\"IMCertificateThumbprint\" value=\"OLD\" /> -->\r\n      <add key=\"IMCertificateThumbprint\" value=\"AB CD&#x200E;\"></add>\r\n      <add key=\"IMCertificateIssuer\" value=\"CN=&quot;Contoso CA&quot;, DC=contoso\" />\r\n      <add value=\"orphan\" />\r\n      <add key=\"NoValue\" />\r\n    </appSettings>\r\n  </location>\r\n  <appSettings/>\r\n</configuration>\r\n";

    #[test]
    fn location_comments_entities_and_empty_element() {
        let p = run(SYNTH);
        assert_eq!((p.parsed, p.rejected), (2, 0));
        let s = settings(&p.events[0]);
        assert_eq!(s.len(), 4);
        assert_eq!(s.text("imservername"), Some("pool01.contoso.com"));
        assert_eq!(s.text("IMCertificateThumbprint"), Some("AB CD\u{200e}"));
        assert_eq!(
            s.text("IMCertificateIssuer"),
            Some("CN=\"Contoso CA\", DC=contoso")
        );
        assert_eq!(s.text("NoValue"), Some(""));
        assert_eq!(s.get("X"), None);
        assert_eq!((p.events[0].loc.line, p.events[0].loc.record), (5, 1));
        assert_eq!(
            p.events[0].loc.offset as usize,
            SYNTH.find("<appSettings>\r\n      <add").unwrap()
        );
        assert!(settings(&p.events[1]).is_empty());
        assert_eq!((p.events[1].loc.line, p.events[1].loc.record), (14, 2));
        let warn: Vec<u64> = p.diagnostics.iter().map(|d| d.line).collect();
        assert_eq!(warn, vec![10, 11]);
    }

    #[test]
    fn grammar_example_parses_cleanly() {
        let md = include_str!("../../grammars/web-config.md");
        let blocks = crate::formats::exlog::tests::grammar_examples(md);
        assert_eq!(blocks.len(), 1);
        let p = run(&blocks[0]);
        assert_eq!((p.parsed, p.rejected), (1, 0));
        assert!(p.diagnostics.is_empty(), "{:?}", p.diagnostics);
        let s = settings(&p.events[0]);
        assert_eq!(s.text("IMServerName"), Some("lyncpool01.contoso.com"));
        assert_eq!(
            s.text("IMCertificateThumbprint"),
            Some("0123456789ABCDEF0123456789ABCDEF01234567")
        );
        assert_eq!(
            s.text("IMCertificateIssuer"),
            Some("CN=\"Contoso Issuing CA\", DC=contoso, DC=com")
        );
        assert_eq!(s.len(), 4);
    }

    #[test]
    fn no_app_settings_gives_one_empty_event() {
        let p = run("<configuration>\n  <system.web />\n</configuration>\n");
        assert_eq!((p.parsed, p.rejected), (1, 0));
        assert!(settings(&p.events[0]).is_empty());
        assert_eq!(p.events[0].loc.line, 1);
    }

    #[test]
    fn malformed_xml_keeps_settings_read_before_the_error() {
        let t = "<configuration>\n<appSettings>\n<add key=\"IMServerName\" value=\"a\"/>\n<add key=\"b\" value=\"c\">\n</appSettings>\n</configuration>\n";
        let p = run(t);
        assert_eq!((p.parsed, p.rejected), (1, 1));
        assert_eq!(settings(&p.events[0]).text("IMServerName"), Some("a"));
        let d = p
            .diagnostics
            .iter()
            .find(|d| d.level == DiagLevel::Error)
            .unwrap();
        assert_eq!(d.line, 5, "{d:?}");
        // Truncated document: the open appSettings is kept, the truncation rejected.
        let p = run("<configuration>\r\n<appSettings>\r\n<add key=\"k\" value=\"v\"/>\r\n");
        assert_eq!((p.parsed, p.rejected), (1, 1));
        assert_eq!(p.diagnostics[0].line, 4);
    }

    #[test]
    fn random_texts_do_not_panic() {
        let tokens = [
            "<configuration>",
            "</configuration>",
            "<appSettings>",
            "</appSettings>",
            "<appSettings/>",
            "<location>",
            "</location>",
            "<add key=\"k\" value=\"v\"/>",
            "<add key='a'",
            " value=\"&quot;\"",
            "/>",
            ">",
            "<",
            "<!--",
            "-->",
            "&",
            "\n",
            "\r",
            "é",
            "\u{0}",
            "<?xml version=\"1.0\"?>",
            "<![CDATA[x]]>",
        ];
        for t in crate::formats::exlog::tests::junk_texts(&tokens, 3000) {
            let p = run(&t);
            assert_eq!(p.parsed, p.events.len() as u64);
            assert!(p.rejected <= 1);
            assert!(p.parsed + p.rejected >= 1, "{t:?}");
        }
    }

    #[test]
    fn garbage_inputs_do_not_panic() {
        let cases: [(&str, u64, u64); 7] = [
            ("", 0, 1),
            ("just text", 0, 1),
            ("\u{0}\u{1}<<<>>>\u{fffd}", 0, 1),
            ("<configuration><appSettings><add key=\"a\" value=\"&bogus;\"/></appSettings></configuration>", 1, 0),
            ("<foo/>", 0, 1),
            ("<configuration/><configuration/>", 0, 1),
            ("<configuration><appSettings><add key='a' value='1' key='b'/></appSettings></configuration>", 1, 0),
        ];
        for (t, parsed, rejected) in cases {
            let p = run(t);
            assert_eq!(
                (p.parsed, p.rejected),
                (parsed, rejected),
                "{t:?}: {:?}",
                p.diagnostics
            );
        }
    }
}
