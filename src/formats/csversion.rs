//! `Get-CsServerVersion` output (formats.md §4.7).
//!
//! Why this module exists: which Lync / Skype for Business Server version the pool runs decides
//! which Exchange integration steps and known issues apply (Lync 2010 vs 2013 vs SfB 2015/2019),
//! and `Get-CsServerVersion` is the one capture that states it directly, as a line such as
//! `Skype for Business Server 2015 (6.0.9319.0): Volume license key installed.`. Each such line
//! becomes a [`Body::Object`] with `Product`, `Version`, `Major` and `Licence`; any other
//! non-empty line is reported as a Warning (it is not a record).
//!
//! The line shape is INFERRED from product knowledge (no public capture seen), so the grammar is
//! tolerant: an optional `Microsoft ` prefix, any product suffix after `Server`, and an optional
//! licence text. Grammar: `grammars/cs-server-version.md`; rule names used there: [`parse`]
//! (file), [`version_line`] (one line).

use crate::formats::numbered_lines;
use crate::formats::FileCtx;
use crate::model::{Body, DiagLevel, Diagnostic, Event, Format, Location, Parsed, Props, Value};
use regex::Regex;
use std::sync::OnceLock;

/// Warnings kept per file; the rest are counted in one summary diagnostic.
const WARN_CAP: usize = 50;

/// The cmdlet recorded on every event.
const COMMAND: &str = "Get-CsServerVersion";

fn line_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        // product ( build ) [: licence]
        Regex::new(
            r"^\s*((?:Microsoft\s+)?(?:Lync|Skype\s+for\s+Business)\s+Server\b[^():]*?)\s*\(\s*(\d+(?:\.\d+){3})\s*\)\s*(?::\s*(.*?))?\s*$",
        )
        .unwrap_or_else(|e| unreachable!("static regex: {e}"))
    })
}

/// `version_line := PRODUCT " (" BUILD "):" [" " LICENCE]` where
/// `PRODUCT := ["Microsoft "] ("Lync" | "Skype for Business") " Server" [TEXT]` and
/// `BUILD := DIGITS "." DIGITS "." DIGITS "." DIGITS` → the object properties.
fn version_line(line: &str) -> Option<Props> {
    let caps = line_re().captures(line)?;
    let product = caps.get(1)?.as_str().trim();
    let build = caps.get(2)?.as_str();
    let major = build.split('.').next().unwrap_or(build);
    let licence = caps.get(3).map_or("", |m| m.as_str());
    let mut props = Props::default();
    props.push("Product", Value::Text(product.to_string()));
    props.push("Version", Value::Text(build.to_string()));
    props.push("Major", Value::Text(major.to_string()));
    props.push("Licence", Value::Text(licence.to_string()));
    Some(props)
}

/// Parses `Get-CsServerVersion` output: `file := (version_line | OTHER | BLANK)*`. One event per
/// version line; other non-empty lines are Warnings.
pub fn parse(ctx: &FileCtx, text: &str) -> Parsed {
    let mut out = Parsed::default();
    let mut record = 0u64;
    let mut warned = 0usize;
    let mut more: Option<(Location, u64)> = None;
    for (no, off, line) in numbered_lines(text) {
        if line.trim().is_empty() {
            continue;
        }
        let mut loc = Location {
            path: ctx.path.clone(),
            line: no,
            record: 0,
            offset: off as u64,
        };
        match version_line(line) {
            Some(props) => {
                record += 1;
                loc.record = record;
                let body = Body::Object {
                    type_names: Vec::new(),
                    command: Some(COMMAND.to_string()),
                    props,
                };
                out.push(Event::new(Format::CsServerVersion, loc, body, line));
            }
            None if warned < WARN_CAP => {
                warned += 1;
                out.diagnostics.push(
                    Diagnostic::at(
                        DiagLevel::Warning,
                        &loc,
                        Format::CsServerVersion,
                        "line is not a Get-CsServerVersion result",
                    )
                    .with_excerpt(line),
                );
            }
            None => more.get_or_insert((loc, 0)).1 += 1,
        }
    }
    if let Some((loc, n)) = more {
        out.diagnostics.push(Diagnostic::at(
            DiagLevel::Warning,
            &loc,
            Format::CsServerVersion,
            format!("{n} more lines that are not Get-CsServerVersion results (details omitted)"),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(text: &str) -> Parsed {
        parse(&FileCtx::new("FE01/Get-CsServerVersion.txt"), text)
    }

    fn props(e: &Event) -> Vec<(&str, &str)> {
        match &e.body {
            Body::Object {
                command,
                props,
                type_names,
            } => {
                assert_eq!(command.as_deref(), Some(COMMAND));
                assert!(type_names.is_empty());
                props
                    .0
                    .iter()
                    .map(|(k, v)| (k.as_str(), v.as_text().unwrap_or("?")))
                    .collect()
            }
            other => panic!("not an object: {other:?}"),
        }
    }

    #[test]
    fn three_product_generations() {
        let t = "\r\nPS C:\\> Get-CsServerVersion\r\nSkype for Business Server 2015 (6.0.9319.0): Volume license key installed.\r\nLync Server 2013 (5.0.8308.0): Volume license key installed.\r\n\r\nMicrosoft Lync Server 2010 (4.0.7577.0): Evaluation version, 120 days left\r\n";
        let p = run(t);
        assert_eq!((p.parsed, p.rejected), (3, 0));
        assert_eq!(
            props(&p.events[0]),
            vec![
                ("Product", "Skype for Business Server 2015"),
                ("Version", "6.0.9319.0"),
                ("Major", "6"),
                ("Licence", "Volume license key installed."),
            ]
        );
        assert_eq!(
            props(&p.events[1])[..3],
            [
                ("Product", "Lync Server 2013"),
                ("Version", "5.0.8308.0"),
                ("Major", "5")
            ]
        );
        assert_eq!(
            props(&p.events[2])[0],
            ("Product", "Microsoft Lync Server 2010")
        );
        assert_eq!(
            props(&p.events[2])[3],
            ("Licence", "Evaluation version, 120 days left")
        );
        let locs: Vec<(u64, u64)> = p
            .events
            .iter()
            .map(|e| (e.loc.line, e.loc.record))
            .collect();
        assert_eq!(locs, vec![(3, 1), (4, 2), (6, 3)]);
        assert_eq!(
            p.events[1].loc.offset as usize,
            t.find("Lync Server 2013").unwrap()
        );
        assert!(p
            .events
            .iter()
            .all(|e| e.time.is_none() && e.host.is_none()));
        assert_eq!(p.diagnostics.len(), 1);
        assert_eq!(
            (p.diagnostics[0].level, p.diagnostics[0].line),
            (DiagLevel::Warning, 2)
        );
    }

    #[test]
    fn grammar_examples_parse_cleanly() {
        let md = include_str!("../../grammars/cs-server-version.md");
        let blocks = crate::formats::exlog::tests::grammar_examples(md);
        assert_eq!(blocks.len(), 3);
        let majors: Vec<String> = blocks
            .iter()
            .map(|b| {
                let p = run(b);
                assert_eq!(
                    (p.parsed, p.rejected, p.diagnostics.len()),
                    (1, 0, 0),
                    "{b}"
                );
                props(&p.events[0])[2].1.to_string()
            })
            .collect();
        assert_eq!(majors, vec!["6", "5", "4"]);
    }

    #[test]
    fn tolerant_shapes() {
        let p = run("Skype for Business Server 2019 (7.0.2046.0)\nSkype for Business Server Subscription Edition (7.0.2046.820): x\n");
        assert_eq!(p.parsed, 2);
        assert_eq!(props(&p.events[0])[3], ("Licence", ""));
        assert_eq!(props(&p.events[1])[2], ("Major", "7"));
    }

    #[test]
    fn random_texts_do_not_panic() {
        let tokens = [
            "Lync Server 2013",
            "Microsoft ",
            "Skype for Business Server 2015",
            " (",
            ")",
            "6.0.9319.0",
            "5.",
            ":",
            " licence",
            "\n",
            "\r",
            "é",
            "\u{0}",
            "(",
            " ",
        ];
        for t in crate::formats::exlog::tests::junk_texts(&tokens, 3000) {
            let p = run(&t);
            assert_eq!((p.parsed, p.rejected), (p.events.len() as u64, 0));
        }
    }

    #[test]
    fn garbage_is_warned_not_parsed() {
        for (t, warnings) in [
            ("", 0),
            ("\u{0}\u{1}\r\r\n\u{fffd}", 2),
            ("Lync Server 2013 (5.0): nope", 1),
            ("Exchange Server 2016 (15.1.2375.7): no", 1),
        ] {
            let p = run(t);
            assert_eq!(
                (p.parsed, p.rejected, p.diagnostics.len()),
                (0, 0, warnings),
                "{t:?}"
            );
        }
        let many = "x\n".repeat(60);
        let p = run(&many);
        assert_eq!(p.diagnostics.len(), WARN_CAP + 1);
        assert!(p.diagnostics[WARN_CAP].message.starts_with("10 more"));
    }
}
