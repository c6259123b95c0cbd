//! PowerShell `Format-List` text captures (formats.md §4.2).
//!
//! Why this module exists: most support bundles hold cmdlet output as `… | fl > file.txt` text
//! (`<SERVER>_ServerHealth_FL.TXT`, `Get-OwaVirtualDirectory | fl`), not CLIXML. This parser turns
//! each object of such a capture into the same `Body::Object` the CLIXML parser produces, so that
//! rules such as "OWA `InstantMessagingType` is not `Ocs`" work on either form.
//!
//! Grammar (rule names match the functions below): `fl_text` ([`parse`]) is blank-line separated
//! `object`s ([`split_objects`]; a `RunspaceId` line also starts a new object); an object is
//! `prop_line`s (`NAME PAD " : " VALUE`, found by the per-object colon column of [`colon_column`])
//! each followed by `continuation` lines joined with a space; a prompt `echo` line
//! (`PS C:\> Get-X | fl`) names the command of the objects after it.

use super::psobject::{self, DiagSink, Line};
use super::FileCtx;
use crate::model::{Body, DiagLevel, Diagnostic, Event, Format, Location, Parsed, Props};

/// Char column of the first `" : "` (or of a final `" :"`) of a line that starts with a name.
fn candidate_column(chars: &[char]) -> Option<usize> {
    if chars.first().is_none_or(|c| c.is_whitespace()) {
        return None;
    }
    (1..chars.len()).find(|&i| {
        chars[i] == ':' && chars[i - 1] == ' ' && chars.get(i + 1).is_none_or(|c| *c == ' ')
    })
}

/// The colon column of an object: the most common candidate column of its lines (§4.2), the
/// leftmost on a tie.
fn colon_column(block: &[Line<'_>]) -> Option<usize> {
    let mut counts: Vec<(usize, usize)> = Vec::new();
    for l in block {
        let chars: Vec<char> = l.text.chars().collect();
        if let Some(c) = candidate_column(&chars) {
            match counts.iter_mut().find(|(col, _)| *col == c) {
                Some((_, n)) => *n += 1,
                None => counts.push((c, 1)),
            }
        }
    }
    counts
        .into_iter()
        .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(&a.0)))
        .map(|(c, _)| c)
}

/// What one line of an object is.
enum LineKind {
    /// `NAME : VALUE`.
    Prop { name: String, value: String },
    /// An indented wrapped or multi-line value.
    Continuation(String),
    /// A line that is neither a property nor indented.
    Stray(String),
}

/// `prop_line` or `continuation` for a line, given the object's colon column.
fn prop_line(text: &str, col: Option<usize>) -> LineKind {
    let chars: Vec<char> = text.chars().collect();
    let at = |c: usize| {
        c >= 2
            && chars.get(c) == Some(&':')
            && chars.get(c - 1) == Some(&' ')
            && chars.get(c + 1).is_none_or(|x| *x == ' ')
            && chars.first().is_some_and(|x| !x.is_whitespace())
    };
    let split = col.filter(|c| at(*c)).or_else(|| candidate_column(&chars));
    match split {
        Some(c) => {
            let name: String = chars[..c].iter().collect::<String>().trim_end().to_string();
            let value: String = chars
                .get(c + 2..)
                .map(|v| v.iter().collect())
                .unwrap_or_default();
            LineKind::Prop {
                name,
                value: value.trim().to_string(),
            }
        }
        None if chars.first().is_some_and(|c| c.is_whitespace()) => {
            LineKind::Continuation(text.trim().to_string())
        }
        None => LineKind::Stray(text.trim().to_string()),
    }
}

/// One object being assembled: its first line and its properties as raw text.
struct Pending<'a> {
    first: Line<'a>,
    props: Vec<(String, String)>,
}

/// Splits a blank-line separated block into objects (a `RunspaceId` line starts a new one).
fn split_objects<'a>(
    block: &[Line<'a>],
    path: &std::sync::Arc<str>,
    sink: &mut DiagSink,
    out: &mut Parsed,
) -> Vec<Pending<'a>> {
    let col = colon_column(block);
    let kinds: Vec<LineKind> = block.iter().map(|l| prop_line(l.text, col)).collect();
    if !kinds.iter().any(|k| matches!(k, LineKind::Prop { .. })) {
        return Vec::new();
    }
    let mut objects: Vec<Pending<'a>> = Vec::new();
    for (l, kind) in block.iter().zip(kinds) {
        match kind {
            LineKind::Prop { name, value } => {
                let new_object = match objects.last() {
                    None => true,
                    Some(o) => name.eq_ignore_ascii_case("RunspaceId") && !o.props.is_empty(),
                };
                if new_object {
                    objects.push(Pending {
                        first: *l,
                        props: Vec::new(),
                    });
                }
                if let Some(o) = objects.last_mut() {
                    o.props.push((name, value));
                }
            }
            LineKind::Continuation(t) | LineKind::Stray(t) => {
                let stray = !l.text.starts_with(char::is_whitespace);
                match objects.last_mut().and_then(|o| o.props.last_mut()) {
                    Some((name, value)) => {
                        if stray {
                            let loc = line_loc(path, l, 0);
                            let msg =
                                format!("line without \" : \" kept as a continuation of {name}");
                            sink.warn(
                                out,
                                Diagnostic::at(DiagLevel::Warning, &loc, Format::FormatList, msg)
                                    .with_excerpt(l.text),
                            );
                        }
                        if !value.is_empty() {
                            value.push(' ');
                        }
                        value.push_str(&t);
                    }
                    None => {
                        let loc = line_loc(path, l, 0);
                        let msg = "text before the first \"Name : Value\" line of an object";
                        sink.warn(
                            out,
                            Diagnostic::at(DiagLevel::Warning, &loc, Format::FormatList, msg)
                                .with_excerpt(l.text),
                        );
                    }
                }
            }
        }
    }
    objects
}

fn line_loc(path: &std::sync::Arc<str>, l: &Line<'_>, record: u64) -> Location {
    Location {
        path: path.clone(),
        line: l.no,
        record,
        offset: l.offset,
    }
}

/// The command of the objects that follow an echo line, when it names one.
fn command_for(echo: Option<&str>, file_name: &str, props: &Props) -> Option<String> {
    psobject::detect_command(&[], echo, file_name, props)
        .map(str::to_string)
        .or_else(|| {
            echo.and_then(psobject::echo_cmdlet_token)
                .map(str::to_string)
        })
}

/// Turns one text object (Format-List or a Format-Table row) into an event.
pub(crate) fn text_object_event(
    format: Format,
    ctx: &FileCtx,
    loc: Location,
    echo: Option<&str>,
    props: Props,
) -> Event {
    let command = command_for(echo, &ctx.file_name, &props);
    let host = psobject::host_of(command.as_deref(), &props);
    let (time, kind) = psobject::text_time(&props)
        .map(|(t, k)| (Some(t), k))
        .unwrap_or_default();
    let excerpt = psobject::summary(command.as_deref(), None, &props);
    let body = Body::Object {
        type_names: Vec::new(),
        command,
        props,
    };
    Event::new(format, loc, body, &excerpt)
        .with_time(time, kind)
        .with_host(host.as_deref())
}

/// Parses a Format-List capture: one event per object.
pub fn parse(ctx: &FileCtx, text: &str) -> Parsed {
    let mut out = Parsed::default();
    let mut sink = DiagSink::new(&ctx.path, Format::FormatList);
    let mut echo: Option<String> = None;
    let mut record = 0u64;
    let mut block: Vec<Line<'_>> = Vec::new();
    let all = psobject::lines(text);
    let mut flush =
        |block: &mut Vec<Line<'_>>, echo: Option<&str>, out: &mut Parsed, sink: &mut DiagSink| {
            if block.is_empty() {
                return;
            }
            let objects = split_objects(block, &ctx.path, sink, out);
            if objects.is_empty() {
                record += 1;
                let loc = line_loc(&ctx.path, &block[0], record);
                let d = Diagnostic::at(
                    DiagLevel::Error,
                    &loc,
                    Format::FormatList,
                    "no \"Name : Value\" line in this block",
                );
                sink.reject(out, d.with_excerpt(block[0].text));
            }
            for o in objects {
                record += 1;
                let mut props = Props::default();
                for (name, value) in o.props {
                    props.push(name, psobject::parse_text_value(&value));
                }
                let loc = line_loc(&ctx.path, &o.first, record);
                out.push(text_object_event(Format::FormatList, ctx, loc, echo, props));
            }
            block.clear();
        };
    for l in all {
        if l.text.trim().is_empty() {
            flush(&mut block, echo.as_deref(), &mut out, &mut sink);
        } else if let Some(cmd) = psobject::echo_command(l.text) {
            flush(&mut block, echo.as_deref(), &mut out, &mut sink);
            echo = Some(cmd.to_string());
        } else {
            block.push(l);
        }
    }
    flush(&mut block, echo.as_deref(), &mut out, &mut sink);
    if out.parsed + out.rejected == 0 {
        sink.warn(
            &mut out,
            Diagnostic::file(
                DiagLevel::Warning,
                &ctx.path,
                "no objects in format-list capture",
            ),
        );
    }
    sink.finish(&mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{TsKind, Value};

    fn obj(p: &Parsed, i: usize) -> (&Option<String>, &Props) {
        match &p.events[i].body {
            Body::Object { command, props, .. } => (command, props),
            other => panic!("unexpected body {other:?}"),
        }
    }

    // Synthetic capture modelled on the real E16 CLIXML values (formats.md §4.5).
    const OWA: &str = "PS C:\\> Get-OwaVirtualDirectory | fl\r\n\r\n\r\nRunspaceId                            : 46a1b05b-0ed2-4449-a6bb-64ae4f9c1a94\r\nServerName                            : EX01\r\nInstantMessagingType                  : Ocs\r\nInstantMessagingEnabled               : True\r\nInstantMessagingServerName            : pool01.contoso.com\r\nInstantMessagingCertificateThumbprint :\r\nInternalUrl                           : https://ex01.contoso.com/owa\r\nWebReadyFileTypes                     : {.xlsx, .pptx, .docx, .xls...}\r\nIdentity                              : EX01\\owa (Default Web Site)\r\nDescription                           : a long value that the formatter wrapped\r\n                                        onto a second line\r\n\r\nRunspaceId                            : 46a1b05b-0ed2-4449-a6bb-64ae4f9c1a94\r\nServerName                            : EX02\r\nInstantMessagingType                  : None\r\nInternalUrl                           : https://ex02.contoso.com/owa\r\n";

    #[test]
    fn owa_vdir_with_echo() {
        let p = parse(&FileCtx::new("bundle/owa.txt"), OWA);
        assert_eq!((p.parsed, p.rejected), (2, 0));
        let (cmd, props) = obj(&p, 0);
        assert_eq!(cmd.as_deref(), Some("Get-OwaVirtualDirectory"));
        assert_eq!(props.text("InstantMessagingType"), Some("Ocs"));
        assert_eq!(
            props.text("InstantMessagingCertificateThumbprint"),
            Some("")
        );
        assert_eq!(
            props.text("Description"),
            Some("a long value that the formatter wrapped onto a second line")
        );
        assert_eq!(
            props.get("WebReadyFileTypes"),
            Some(&Value::List {
                items: vec![
                    ".xlsx".into(),
                    ".pptx".into(),
                    ".docx".into(),
                    ".xls".into()
                ],
                truncated: true
            })
        );
        assert_eq!(p.events[0].host.as_deref(), Some("EX01"));
        assert_eq!((p.events[0].loc.line, p.events[0].loc.record), (4, 1));
        assert_eq!(p.events[0].excerpt, "Get-OwaVirtualDirectory EX01\\owa (Default Web Site): InstantMessagingType=Ocs, InstantMessagingEnabled=True, InstantMessagingServerName=pool01.contoso.com, InstantMessagingCertificateThumbprint=");
        assert_eq!((p.events[1].loc.line, p.events[1].loc.record), (16, 2));
        assert_eq!(p.events[1].host.as_deref(), Some("EX02"));
    }

    #[test]
    fn runspace_id_starts_records_without_blank_lines() {
        let text = "RunspaceId : 1\nServer     : MBX01\nName       : OwaIMInitializationFailedMonitor\nHealthSetName : OWA.Protocol.Dep\nAlertValue : Unhealthy\nLastTransitionTime : 4/16/2020 3:47:36 PM\nRunspaceId : 2\nServer     : MBX01\nName       : Other\nHealthSetName : OWA.Protocol\nAlertValue : Healthy\n";
        let p = parse(&FileCtx::new("x/MBX01_ServerHealth_FL.TXT"), text);
        assert_eq!((p.parsed, p.rejected), (2, 0));
        let (cmd, props) = obj(&p, 0);
        assert_eq!(cmd.as_deref(), Some("Get-ServerHealth"));
        assert_eq!(props.text("AlertValue"), Some("Unhealthy"));
        assert_eq!(p.events[0].ts_kind, TsKind::Local);
        assert_eq!(
            p.events[0].time.map(|t| t.to_rfc3339()),
            Some("2020-04-16T15:47:36+00:00".into())
        );
        assert_eq!(p.events[1].loc.line, 7);
    }

    #[test]
    fn exchange_server_prompt_and_stray_lines() {
        let text = "[PS] C:\\Windows\\system32>Get-ExchangeServer | Format-List\n\nName                : EX01\nFqdn                : ex01.contoso.com\nAdminDisplayVersion : Version 15.1 (Build 2375.7)\nnot indented and no colon\n\nWARNING: something the shell printed\n";
        let p = parse(&FileCtx::new("capture.txt"), text);
        assert_eq!((p.parsed, p.rejected), (1, 1));
        let (cmd, props) = obj(&p, 0);
        assert_eq!(cmd.as_deref(), Some("Get-ExchangeServer"));
        assert_eq!(
            props.text("AdminDisplayVersion"),
            Some("Version 15.1 (Build 2375.7) not indented and no colon")
        );
        assert_eq!(p.events[0].host.as_deref(), Some("ex01.contoso.com"));
        let levels: Vec<_> = p.diagnostics.iter().map(|d| (d.level, d.line)).collect();
        assert_eq!(levels, vec![(DiagLevel::Warning, 6), (DiagLevel::Error, 8)]);
    }

    #[test]
    fn unknown_echo_command_and_empty_input() {
        let p = parse(&FileCtx::new("a.txt"), "PS> Get-Mailbox | fl\nName : x\n");
        assert_eq!(obj(&p, 0).0.as_deref(), Some("Get-Mailbox"));
        let p = parse(&FileCtx::new("a.txt"), "");
        assert_eq!((p.parsed, p.rejected, p.diagnostics.len()), (0, 0, 1));
        let p = parse(&FileCtx::new("a.txt"), "\u{feff}\u{0}\u{1}garbage\n\n");
        assert_eq!((p.parsed, p.rejected), (0, 1));
    }

    #[test]
    fn reject_diagnostics_are_capped() {
        let text = "junk\n\n".repeat(60);
        let p = parse(&FileCtx::new("a.txt"), &text);
        assert_eq!((p.parsed, p.rejected), (0, 60));
        assert_eq!(p.diagnostics.len(), 51);
        assert!(p.diagnostics[50].message.starts_with("10 more"));
    }
}
