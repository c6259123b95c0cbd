//! Cisco IM and Presence "Presence Gateway" capture with its Exchange Server Status lines
//! (formats.md §8.3).
//!
//! Why this module exists: the IM and Presence calendar integration fails most visibly on the
//! Presence Gateway page, whose troubleshooter prints one status line per check (`Exchange
//! Reachability (unreachable)`, `SSL Connection/Certificate Verification Failed - SAN Mismatch`,
//! …). Those strings are VERIFIED, but the page's layout as text is NOT KNOWN, so bundles carry it
//! under a project convention (INFERRED): the page's text copied from a browser, one gateway per
//! block, blocks separated by a blank line or a line of dashes, `Label<sep>Value` lines. This parser
//! turns each gateway block into one `Body::Object { command: "PresenceGateway" }` whose `Status`
//! list holds the canonical status strings, whatever spacing the capture used, so that rules can
//! compare exact strings.
//!
//! Grammar and status markers: `grammars/cisco-gateway.md`; rule names used there: [`parse`],
//! [`block`], [`status_line`], [`label_line`].

use super::psobject::{self, DiagSink, Line};
use super::FileCtx;
use crate::model::{Body, DiagLevel, Diagnostic, Event, Format, Location, Parsed, Props, Value};

/// The `command` of every event of this parser.
pub const COMMAND: &str = "PresenceGateway";

/// The canonical Exchange Server Status strings (formats.md §8.3), as the lead's rules expect
/// them. The published spellings (`Failed- Subject CN Mismatch`, `SSL Connection / Certificate
/// … - Network Error`) normalise to these.
pub const STATUSES: [&str; 10] = [
    "Exchange Reachability (pingable)",
    "Exchange Reachability (unreachable)",
    "SSL Connection/Certificate Verification - Verified",
    "Exchange SSL Connection/Certification Verification",
    "SSL Connection/Certificate Verification Failed - Certificate Missing From Chain",
    "SSL Connection/Certificate Verification Failed - Subject CN Mismatch",
    "SSL Connection/Certificate Verification Failed - SAN Mismatch",
    "SSL Connection/Certificate Verification Failed - Bad Certificates",
    "SSL Connection/Certificate Verification Failed - Network Error",
    "SSL Connection/Certificate Verification Failed",
];

/// Labels with a fixed property name; any other label keeps its own name.
const LABELS: [(&str, &str); 5] = [
    ("presence gateway type", "Type"),
    ("description", "Description"),
    ("presence gateway", "Host"),
    ("account name", "AccountName"),
    ("port", "Port"),
];

/// §8.3 normalisation: collapse white space, `\s*/\s*` → `/`, `\s*-+\s*` → ` - `, lower case.
pub fn normalise(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.trim().chars().peekable();
    while let Some(c) = chars.next() {
        if c.is_whitespace() || c == '/' || c == '-' {
            // Gather the whole run of white space, slashes and dashes.
            let mut run = String::from(c);
            while let Some(&n) = chars.peek() {
                if n.is_whitespace() || n == '/' || n == '-' {
                    run.push(n);
                    chars.next();
                } else {
                    break;
                }
            }
            out.push_str(&normalise_run(&run));
        } else {
            out.extend(c.to_lowercase());
        }
    }
    out.trim().to_string()
}

/// One run of white space, `/` and `-`: slashes eat the space around them, each dash run becomes
/// ` - `, plain white space one space.
fn normalise_run(run: &str) -> String {
    let mut out = String::new();
    let mut prev_dash = false;
    for c in run.chars() {
        match c {
            '/' => {
                out.push('/');
                prev_dash = false;
            }
            '-' if !prev_dash => {
                out.push_str(" - ");
                prev_dash = true;
            }
            '-' => {}
            _ => prev_dash = false,
        }
    }
    if out.is_empty() {
        out.push(' ');
    }
    out
}

/// `status_line := TEXT? STATUS (TEXT? STATUS)* TEXT?` — every canonical status found in the
/// line after normalisation, leftmost first, the longest status winning at each position.
pub fn status_line(line: &str) -> Vec<&'static str> {
    let norm = normalise(line);
    let mut keys: Vec<(String, &'static str)> =
        STATUSES.iter().map(|s| (normalise(s), *s)).collect();
    keys.sort_by_key(|(k, _)| std::cmp::Reverse(k.len()));
    let mut found = Vec::new();
    let mut i = 0;
    while i < norm.len() {
        let rest = norm.get(i..).unwrap_or("");
        match keys.iter().find(|(k, _)| rest.starts_with(k.as_str())) {
            Some((k, canonical)) => {
                found.push(*canonical);
                i += k.len();
            }
            None => i += rest.chars().next().map_or(1, char::len_utf8),
        }
    }
    found
}

/// `label_line := LABEL "*"? SEP VALUE` with `SEP := ":" | TAB | SP SP+`; the earliest separator
/// wins. Returns the label (`*` and white space removed) and the trimmed value.
pub fn label_line(line: &str) -> Option<(String, String)> {
    let t = line.trim();
    let candidates = [t.find(':'), t.find('\t'), t.find("  ")];
    let at = candidates.into_iter().flatten().min()?;
    let label = t.get(..at)?.trim().trim_end_matches('*').trim();
    let rest = t.get(at..)?;
    let value = rest.trim_start_matches([':', '\t', ' ']).trim();
    if label.is_empty() || label.len() > 60 {
        return None;
    }
    let label = label.split_whitespace().collect::<Vec<_>>().join(" ");
    Some((label, value.to_string()))
}

/// A line of dashes (or `=`/`_`) that separates blocks.
fn is_separator(line: &str) -> bool {
    let t = line.trim();
    t.len() >= 3 && t.chars().all(|c| matches!(c, '-' | '=' | '_'))
}

/// The `Exchange Server Status` heading (and its variants) carries no value.
fn is_status_heading(line: &str) -> bool {
    let n = normalise(line.trim_end_matches(':'));
    n == "exchange server status" || n == "status"
}

/// One gateway being read.
struct Gateway {
    loc: Location,
    props: Props,
    statuses: Vec<String>,
    raw: Vec<String>,
    has_type: bool,
    notes: Vec<String>,
}

impl Gateway {
    fn new(path: &std::sync::Arc<str>, line: &Line<'_>) -> Gateway {
        Gateway {
            loc: Location {
                path: path.clone(),
                line: line.no,
                record: 0,
                offset: line.offset,
            },
            props: Props::default(),
            statuses: Vec::new(),
            raw: Vec::new(),
            has_type: false,
            notes: Vec::new(),
        }
    }
}

/// A status line not inside any gateway block.
struct Orphan {
    line: u64,
    offset: u64,
    raw: String,
    statuses: Vec<&'static str>,
}

/// Parses a Presence Gateway capture: one event per gateway block.
///
/// `parse := (block (BLANK | SEPARATOR)+)* block?`. A block holding a `Presence Gateway Type` or
/// `Presence Gateway` label is a gateway; status lines in other blocks are "outside any block":
/// attached to the only gateway of the file, or reported as a Warning when there are several. A
/// file with no gateway block gives one rejected record.
pub fn parse(ctx: &FileCtx, text: &str) -> Parsed {
    let mut out = Parsed::default();
    let mut sink = DiagSink::new(&ctx.path, Format::CiscoGateway);
    let all = psobject::lines(text);
    let mut gateways: Vec<Gateway> = Vec::new();
    let mut orphans: Vec<Orphan> = Vec::new();
    for blk in all
        .split(|l| l.text.trim().is_empty() || is_separator(l.text))
        .filter(|b| !b.is_empty())
    {
        block(ctx, blk, &mut gateways, &mut orphans, &mut sink, &mut out);
    }
    if gateways.is_empty() {
        let (line, offset, excerpt) = all
            .iter()
            .find(|l| !l.text.trim().is_empty())
            .map_or((1, 0, ""), |l| (l.no, l.offset, l.text));
        let loc = Location {
            path: ctx.path.clone(),
            line,
            record: 1,
            offset,
        };
        let msg = if orphans.is_empty() {
            "no Presence Gateway block found".to_string()
        } else {
            format!(
                "no Presence Gateway block found ({} status lines not attached)",
                orphans.len()
            )
        };
        sink.reject(
            &mut out,
            Diagnostic::at(DiagLevel::Error, &loc, Format::CiscoGateway, msg).with_excerpt(excerpt),
        );
        sink.finish(&mut out);
        return out;
    }
    if gateways.len() == 1 {
        if let Some(g) = gateways.first_mut() {
            for o in orphans.drain(..) {
                g.statuses.extend(o.statuses.iter().map(|s| s.to_string()));
                g.raw.push(o.raw);
            }
        }
    }
    for o in &orphans {
        let loc = Location {
            path: ctx.path.clone(),
            line: o.line,
            record: 0,
            offset: o.offset,
        };
        let msg = format!(
            "status line outside any gateway block and {} gateways in the capture: not attached",
            gateways.len()
        );
        sink.warn(
            &mut out,
            Diagnostic::at(DiagLevel::Warning, &loc, Format::CiscoGateway, msg)
                .with_excerpt(&o.raw),
        );
    }
    for (i, g) in gateways.into_iter().enumerate() {
        out.push(gateway_event(g, i + 1));
    }
    sink.finish(&mut out);
    out
}

/// `block := (status_line | label_line | HEADING | OTHER)+` — reads one block: a new gateway
/// starts at its first `Presence Gateway Type` / `Presence Gateway` label, and again when a second
/// `Presence Gateway Type` label appears in the same block.
fn block(
    ctx: &FileCtx,
    blk: &[Line<'_>],
    gateways: &mut Vec<Gateway>,
    orphans: &mut Vec<Orphan>,
    sink: &mut DiagSink,
    out: &mut Parsed,
) {
    let mut cur: Option<Gateway> = None;
    let mut pending_status: Vec<(&Line<'_>, Vec<&'static str>)> = Vec::new();
    let mut ignored: Vec<&Line<'_>> = Vec::new();
    for line in blk {
        let found = status_line(line.text);
        if !found.is_empty() {
            match cur.as_mut() {
                Some(g) => {
                    g.statuses.extend(found.iter().map(|s| s.to_string()));
                    g.raw.push(line.text.trim().to_string());
                }
                None => pending_status.push((line, found)),
            }
            continue;
        }
        if is_status_heading(line.text) {
            continue;
        }
        let Some((label, value)) = label_line(line.text) else {
            match cur.as_mut() {
                Some(g) => g.notes.push(line.text.trim().to_string()),
                None => ignored.push(line),
            }
            continue;
        };
        let key = label.to_ascii_lowercase();
        let name = LABELS
            .iter()
            .find(|(l, _)| *l == key)
            .map_or(label.as_str(), |(_, n)| *n);
        let starts = name == "Type" || name == "Host";
        let split = name == "Type" && cur.as_ref().is_some_and(|g| g.has_type);
        if (starts && cur.is_none()) || split {
            if let Some(g) = cur.take() {
                gateways.push(g);
            }
            let mut g = Gateway::new(&ctx.path, line);
            // Status lines and labels read before the gateway label belong to the same block.
            for (l, found) in pending_status.drain(..) {
                g.statuses.extend(found.iter().map(|s| s.to_string()));
                g.raw.push(l.text.trim().to_string());
            }
            for l in ignored.drain(..) {
                if let Some((lab, val)) = label_line(l.text) {
                    push_prop(&mut g.props, &lab, val);
                } else {
                    g.notes.push(l.text.trim().to_string());
                }
            }
            cur = Some(g);
        }
        match cur.as_mut() {
            Some(g) => {
                g.has_type |= name == "Type";
                push_prop(&mut g.props, name, value);
            }
            None => ignored.push(line),
        }
    }
    if let Some(g) = cur {
        gateways.push(g);
    }
    for (l, found) in pending_status {
        orphans.push(Orphan {
            line: l.no,
            offset: l.offset,
            raw: l.text.trim().to_string(),
            statuses: found,
        });
    }
    if let Some(first) = ignored.first() {
        let loc = Location {
            path: ctx.path.clone(),
            line: first.no,
            record: 0,
            offset: first.offset,
        };
        let msg = format!(
            "{} line(s) outside any gateway block ignored",
            ignored.len()
        );
        sink.warn(
            out,
            Diagnostic::at(DiagLevel::Warning, &loc, Format::CiscoGateway, msg)
                .with_excerpt(first.text),
        );
    }
}

/// Adds a label's value; a password value is never kept.
fn push_prop(props: &mut Props, name: &str, value: String) {
    let value = if name.to_ascii_lowercase().contains("password") && !value.is_empty() {
        "(redacted)".to_string()
    } else {
        value
    };
    props.push(name, Value::Text(value));
}

/// The event of one gateway; `index` is its 1-based order in the capture (the troubleshooter
/// checks only the first 10 EWS servers, §8.3).
fn gateway_event(g: Gateway, index: usize) -> Event {
    let mut props = g.props;
    props.push("Index", Value::Text(index.to_string()));
    if !g.notes.is_empty() {
        props.push(
            "Notes",
            Value::List {
                items: g.notes,
                truncated: false,
            },
        );
    }
    let host = props.text("Host").unwrap_or("?").to_string();
    let gtype = props.text("Type").unwrap_or("?").to_string();
    let shown = if g.statuses.is_empty() {
        "(no status)".to_string()
    } else {
        g.statuses.join("; ")
    };
    props.push(
        "Status",
        Value::List {
            items: g.statuses,
            truncated: false,
        },
    );
    props.push(
        "StatusRaw",
        Value::List {
            items: g.raw,
            truncated: false,
        },
    );
    let excerpt = format!("{COMMAND} {host} {gtype}: {shown}");
    let mut loc = g.loc;
    loc.record = index as u64;
    let body = Body::Object {
        type_names: Vec::new(),
        command: Some(COMMAND.to_string()),
        props,
    };
    Event::new(Format::CiscoGateway, loc, body, &excerpt)
}

#[cfg(test)]
#[path = "cisco_gateway_tests.rs"]
mod tests;
