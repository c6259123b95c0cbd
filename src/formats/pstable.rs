//! PowerShell `Format-Table` text captures (formats.md §4.3, §4.6).
//!
//! Why this module exists: `Get-ServerHealth`, `Get-HealthReport` and many quick checks reach a
//! bundle as `… | ft` text, where each row is one object. This parser maps the header and the
//! dash line to column spans and turns every row into the same `Body::Object` the Format-List and
//! CLIXML parsers produce (`Server`, `Name`, `HealthSetName`, `AlertValue`, …).
//!
//! Grammar (rule names match the functions below): `ft_text` ([`parse`]) is a sequence of
//! `table`s ([`split_tables`]), each a `header_line`, a `dash_line` ([`is_dash_line`], one dash run
//! per column) and `row`s up to the next blank line, echo line or header. Column spans come from
//! the dash runs widened over the text actually present ([`column_starts`]); a collapsed dash
//! line (web-pasted text) falls back to whitespace splitting when the cell count matches
//! ([`collapsed_cells`]); a `-Wrap` continuation row (empty first cell) extends the previous row.

use super::pslist::text_object_event;
use super::psobject::{self, DiagSink, Line};
use super::FileCtx;
use crate::model::{DiagLevel, Diagnostic, Format, Location, Parsed, Props};
use std::sync::Arc;

/// One table of a capture.
struct Table<'a> {
    header: Line<'a>,
    dash: Line<'a>,
    rows: Vec<Line<'a>>,
    echo: Option<String>,
}

/// A line of dash runs separated by spaces (`------  ----  -----`).
fn is_dash_line(text: &str) -> bool {
    let t = text.trim();
    !t.is_empty() && t.contains('-') && t.chars().all(|c| c == '-' || c == ' ' || c == '\t')
}

/// Char spans `[start, end)` of the dash runs.
fn dash_runs(dash: &[char]) -> Vec<(usize, usize)> {
    let mut runs = Vec::new();
    let mut start = None;
    for (i, c) in dash.iter().enumerate() {
        match (c, start) {
            ('-', None) => start = Some(i),
            ('-', Some(_)) => {}
            (_, Some(s)) => {
                runs.push((s, i));
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        runs.push((s, dash.len()));
    }
    runs
}

/// Groups the lines into tables; lines outside any table are reported as warnings.
fn split_tables<'a>(
    lines: &[Line<'a>],
    path: &Arc<str>,
    sink: &mut DiagSink,
    out: &mut Parsed,
) -> Vec<Table<'a>> {
    let mut tables: Vec<Table<'a>> = Vec::new();
    let mut echo: Option<String> = None;
    let mut open = false;
    let mut i = 0;
    while i < lines.len() {
        let l = lines[i];
        if l.text.trim().is_empty() {
            open = false;
        } else if let Some(cmd) = psobject::echo_command(l.text) {
            echo = Some(cmd.to_string());
            open = false;
        } else if !is_dash_line(l.text) && lines.get(i + 1).is_some_and(|d| is_dash_line(d.text)) {
            tables.push(Table {
                header: l,
                dash: lines[i + 1],
                rows: Vec::new(),
                echo: echo.clone(),
            });
            open = true;
            i += 1;
        } else if let (true, Some(t)) = (open, tables.last_mut()) {
            t.rows.push(l);
        } else {
            let loc = Location {
                path: path.clone(),
                line: l.no,
                record: 0,
                offset: l.offset,
            };
            let d = Diagnostic::at(
                DiagLevel::Warning,
                &loc,
                Format::FormatTable,
                "text outside a table (no header and dash line above)",
            );
            sink.warn(out, d.with_excerpt(l.text));
        }
        i += 1;
    }
    tables
}

/// Whether every dash run underlines exactly one header label (real, fixed-width output).
fn aligned(header: &[char], runs: &[(usize, usize)]) -> bool {
    let blank = |i: usize| header.get(i).is_none_or(|c| c.is_whitespace());
    runs.iter()
        .all(|&(s, e)| !blank(s) && (s == 0 || blank(s - 1)) && !blank(e - 1) && blank(e))
}

/// Start column of every column. PowerShell underlines only the label, so a column is widened to
/// the left over text that touches its label run (right-aligned values wider than the label);
/// anything between two columns belongs to the left one (left-aligned values that overflow).
fn column_starts(lines: &[Vec<char>], runs: &[(usize, usize)]) -> Vec<usize> {
    let width = lines.iter().map(Vec::len).max().unwrap_or(0);
    let blank_col = |c: usize| {
        lines
            .iter()
            .all(|l| l.get(c).is_none_or(|x| x.is_whitespace()))
    };
    let mut starts = Vec::with_capacity(runs.len());
    for (k, &(s, _)) in runs.iter().enumerate() {
        if k == 0 {
            starts.push(0);
            continue;
        }
        let floor = runs[k - 1].1 + 1;
        let mut start = s;
        while start > floor && start <= width && !blank_col(start - 1) {
            start -= 1;
        }
        starts.push(start);
    }
    starts
}

/// The cells of a fixed-width row.
fn fixed_cells(row: &[char], starts: &[usize]) -> Vec<String> {
    (0..starts.len())
        .map(|k| {
            let from = starts[k].min(row.len());
            let to = starts
                .get(k + 1)
                .copied()
                .unwrap_or(row.len())
                .min(row.len())
                .max(from);
            row[from..to].iter().collect::<String>().trim().to_string()
        })
        .collect()
}

fn is_date(t: &str) -> bool {
    let parts: Vec<&str> = t.split(['/', '-', '.']).collect();
    parts.len() == 3
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
}

fn is_clock(t: &str) -> bool {
    t.contains(':')
        && t.bytes()
            .all(|b| b.is_ascii_digit() || b == b':' || b == b'.' || b == b',')
}

/// Whitespace-split cells of a row under a collapsed dash line; a `date time [AM|PM]` sequence
/// is kept as one cell. `None` when the count still differs from the header's.
fn collapsed_cells(row: &str, columns: usize) -> Option<Vec<String>> {
    let tokens: Vec<&str> = row.split_whitespace().collect();
    if tokens.len() == columns {
        return Some(tokens.into_iter().map(str::to_string).collect());
    }
    let mut cells: Vec<String> = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        let mut cell = tokens[i].to_string();
        if is_date(tokens[i]) && tokens.get(i + 1).is_some_and(|t| is_clock(t)) {
            cell.push(' ');
            cell.push_str(tokens[i + 1]);
            i += 1;
            if let Some(ampm) = tokens
                .get(i + 1)
                .filter(|t| t.eq_ignore_ascii_case("AM") || t.eq_ignore_ascii_case("PM"))
            {
                cell.push(' ');
                cell.push_str(ampm);
                i += 1;
            }
        }
        cells.push(cell);
        i += 1;
    }
    (cells.len() == columns).then_some(cells)
}

/// Parses a Format-Table capture: one event per row.
pub fn parse(ctx: &FileCtx, text: &str) -> Parsed {
    let mut out = Parsed::default();
    let mut sink = DiagSink::new(&ctx.path, Format::FormatTable);
    let lines = psobject::lines(text);
    let tables = split_tables(&lines, &ctx.path, &mut sink, &mut out);
    let mut record = 0u64;
    for t in &tables {
        let header: Vec<char> = t.header.text.chars().collect();
        let dash: Vec<char> = t.dash.text.chars().collect();
        let runs = dash_runs(&dash);
        let fixed = aligned(&header, &runs);
        let names: Vec<String> = if fixed {
            runs.iter()
                .map(|&(s, e)| header[s..e].iter().collect::<String>().trim().to_string())
                .collect()
        } else {
            t.header
                .text
                .split_whitespace()
                .map(str::to_string)
                .collect()
        };
        let rows: Vec<Vec<char>> = t.rows.iter().map(|r| r.text.chars().collect()).collect();
        let mut all = vec![header.clone(), dash.clone()];
        all.extend(rows.iter().cloned());
        let starts = column_starts(&all, &runs);
        // Rows with their cells; a -Wrap continuation row is merged into the previous one.
        let mut done: Vec<(Line<'_>, Vec<String>)> = Vec::new();
        for (line, chars) in t.rows.iter().zip(&rows) {
            let cells = if fixed {
                Some(fixed_cells(chars, &starts))
            } else if names.len() == runs.len() {
                collapsed_cells(line.text, names.len())
            } else {
                None
            };
            let Some(cells) = cells else {
                record += 1;
                let loc = Location {
                    path: ctx.path.clone(),
                    line: line.no,
                    record,
                    offset: line.offset,
                };
                let msg = format!(
                    "row cells do not match the {} columns of the collapsed header",
                    names.len()
                );
                sink.reject(
                    &mut out,
                    Diagnostic::at(DiagLevel::Error, &loc, Format::FormatTable, msg)
                        .with_excerpt(line.text),
                );
                continue;
            };
            let continuation =
                fixed && cells.first().is_some_and(String::is_empty) && cells.len() > 1;
            match done.last_mut() {
                Some((_, prev)) if continuation => {
                    for (p, c) in prev.iter_mut().zip(cells) {
                        if !c.is_empty() {
                            if !p.is_empty() {
                                p.push(' ');
                            }
                            p.push_str(&c);
                        }
                    }
                }
                _ => done.push((*line, cells)),
            }
        }
        for (line, cells) in done {
            record += 1;
            let mut props = Props::default();
            for (name, cell) in names.iter().zip(cells) {
                props.push(name.clone(), psobject::parse_text_value(&cell));
            }
            let loc = Location {
                path: ctx.path.clone(),
                line: line.no,
                record,
                offset: line.offset,
            };
            out.push(text_object_event(
                Format::FormatTable,
                ctx,
                loc,
                t.echo.as_deref(),
                props,
            ));
        }
    }
    if tables.is_empty() {
        sink.warn(
            &mut out,
            Diagnostic::file(
                DiagLevel::Warning,
                &ctx.path,
                "no header and dash line: not a format-table capture",
            ),
        );
    }
    sink.finish(&mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Body, TsKind, Value};

    fn props(p: &Parsed, i: usize) -> (&Option<String>, &Props) {
        match &p.events[i].body {
            Body::Object { command, props, .. } => (command, props),
            other => panic!("unexpected body {other:?}"),
        }
    }

    // Synthetic, column layout from formats.md §4.6; PowerShell underlines labels only.
    const HEALTH: &str = "\r\nServer State         Name                             TargetResource HealthSetName    AlertValue ServerComponent\r\n------ -----         ----                             -------------- -------------    ---------- ---------------\r\nMBX01  NotApplicable OwaIMInitializationFailedMonitor OWA            OWA.Protocol.Dep Unhealthy  None\r\nMBX01  NotApplicable OwaSelfTestMonitor                              OWA.Protocol     Healthy    None\r\n\r\n";

    #[test]
    fn server_health_fixed_width() {
        let p = parse(&FileCtx::new("b/MBX01_ServerHealth.txt"), HEALTH);
        assert_eq!((p.parsed, p.rejected), (2, 0));
        let (cmd, pr) = props(&p, 0);
        assert_eq!(cmd.as_deref(), Some("Get-ServerHealth"));
        assert_eq!(pr.text("Name"), Some("OwaIMInitializationFailedMonitor"));
        assert_eq!(pr.text("HealthSetName"), Some("OWA.Protocol.Dep"));
        assert_eq!(pr.text("AlertValue"), Some("Unhealthy"));
        assert_eq!(pr.text("ServerComponent"), Some("None"));
        assert_eq!(props(&p, 1).1.text("TargetResource"), Some(""));
        assert_eq!(p.events[0].host.as_deref(), Some("MBX01"));
        assert_eq!(
            (
                p.events[0].loc.line,
                p.events[0].loc.record,
                p.events[0].loc.offset
            ),
            (4, 1, 230)
        );
    }

    #[test]
    fn right_aligned_and_wrapped_cells() {
        let text = "PS C:\\> Get-HealthReport -Identity EX01 | ft -Wrap\n\nServer State         HealthSet AlertValue LastTransitionTime    MonitorCount\n------ -----         --------- ---------- ------------------    ------------\nEX01   NotApplicable OWA.Proto Unhealthy  5/26/2013 3:40:00 PM            12345\n                     col.Dep\nEX01   NotApplicable AD        Healthy    5/21/2013 12:23:00 PM              14\n";
        let p = parse(&FileCtx::new("x.txt"), text);
        assert_eq!((p.parsed, p.rejected), (2, 0));
        let (cmd, pr) = props(&p, 0);
        assert_eq!(cmd.as_deref(), Some("Get-HealthReport"));
        assert_eq!(pr.text("HealthSet"), Some("OWA.Proto col.Dep"));
        assert_eq!(pr.text("MonitorCount"), Some("12345"));
        assert_eq!(p.events[0].ts_kind, TsKind::Local);
        assert_eq!(props(&p, 1).1.text("MonitorCount"), Some("14"));
        assert_eq!(p.events[1].loc.record, 2);
    }

    #[test]
    fn collapsed_blog_table() {
        // The web-collapsed table quoted in formats.md §4.3.
        let text = "Server State HealthSet AlertValue LastTransitionTime MonitorCount\n------ ------ ------ ------ ------ ------\nServer1 NotApplicable AD Healthy 5/21/2013 12:23 14\nServer1 NotApplicable ECP Unhealthy 5/26/2013 15:40 2\nServer1 too few\n";
        let p = parse(&FileCtx::new("health.txt"), text);
        assert_eq!((p.parsed, p.rejected), (2, 1));
        let (cmd, pr) = props(&p, 1);
        assert_eq!(cmd.as_deref(), Some("Get-HealthReport"));
        assert_eq!(pr.text("AlertValue"), Some("Unhealthy"));
        assert_eq!(pr.text("LastTransitionTime"), Some("5/26/2013 15:40"));
        assert_eq!(p.diagnostics[0].line, 5);
    }

    #[test]
    fn new_header_restarts_and_lists() {
        let text = "Name Services\n---- --------\nA    {IIS, SMTP...}\n\nThumbprint Services NotAfter\n---------- -------- --------\nABCD       IMAP     1/1/2030 00:00:00\n";
        let p = parse(&FileCtx::new("x.txt"), text);
        assert_eq!((p.parsed, p.rejected), (2, 0));
        assert_eq!(
            props(&p, 0).1.get("Services"),
            Some(&Value::List {
                items: vec!["IIS".into(), "SMTP".into()],
                truncated: true
            })
        );
        let (cmd, pr) = props(&p, 1);
        assert_eq!(cmd.as_deref(), Some("Get-ExchangeCertificate"));
        assert_eq!(pr.text("NotAfter"), Some("1/1/2030 00:00:00"));
    }

    #[test]
    fn garbage_and_empty() {
        let p = parse(&FileCtx::new("x.txt"), "");
        assert_eq!((p.parsed, p.rejected, p.diagnostics.len()), (0, 0, 1));
        let p = parse(&FileCtx::new("x.txt"), "just text\nmore text\n");
        assert_eq!((p.parsed, p.rejected, p.diagnostics.len()), (0, 0, 3));
    }
}
