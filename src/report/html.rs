//! The HTML report: one self-contained file to open in a browser (`--output html -o report.html`).
//!
//! Why this module exists: an engineer on a call wants one file that shows, per server, what went
//! wrong, the proof and the fix, and what happened when across every source of the bundle. The
//! file has inline CSS and JavaScript only (a Content-Security-Policy forbids any network access),
//! works without JavaScript (filters are the only scripted part), and prints cleanly.
//!
//! Layout: a header with counts and filters (host, minimum severity, source format, evidence
//! only); an overview table of hosts; per host its findings (severity, confidence, notes, evidence
//! with bundle path and line, the fix with values filled in, the source documents) and its
//! timeline of events from every source, where evidence rows are marked and findings appear at
//! their first evidence time. Input problems last.
//!
//! Security: every bundle-derived string goes through [`esc`]; the script reads only `data-`
//! attributes and never inserts markup, so log content cannot inject HTML or script.

use super::timeline::{self, Row};
use super::{rfc3339, siem, Report, Reporter};
use crate::classify::catalog::Severity;
use crate::classify::Finding;
use crate::model::DiagLevel;
use chrono::{DateTime, Utc};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::io::{self, Write};

/// Event rows shown per host besides evidence and findings; the rest are counted, and the full
/// timeline is one `--output timeline-csv` away. Keeps the page fast on large bundles.
pub const MAX_ROWS_PER_HOST: usize = 2000;

/// Label of the section for events that no record, file name or folder attributed to a host.
const NO_HOST: &str = "(no host)";

pub struct Html {
    pub stamp: Option<DateTime<Utc>>,
}

/// HTML-escapes text for element content and quoted attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn rank(s: Severity) -> u8 {
    match s {
        Severity::Critical => 0,
        Severity::Error => 1,
        Severity::Warning => 2,
        Severity::Info => 3,
    }
}

/// The rank of a severity written by name (a finding row's `level`).
fn rank_of_name(s: &str) -> u8 {
    [
        Severity::Critical,
        Severity::Error,
        Severity::Warning,
        Severity::Info,
    ]
    .into_iter()
    .find(|x| x.as_str() == s)
    .map_or(3, rank)
}

const STYLE: &str = r#"
:root{--fg:#1d2430;--muted:#5b6678;--line:#d8dde6;--bg:#f6f7f9;--card:#fff;--crit:#8b0000;--err:#c62828;--warn:#b26a00;--info:#1565c0;--mark:#fff4c2}
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;color:var(--fg);background:var(--bg)}
header{background:#22303f;color:#fff;padding:12px 20px;position:sticky;top:0;z-index:2}
header h1{margin:0 0 4px;font-size:20px}
header .meta{margin:0 0 8px;color:#c9d3df;font-size:13px}
#filters{display:flex;flex-wrap:wrap;gap:14px;align-items:center;font-size:13px}
#filters select{font:inherit;padding:2px 4px}
main{max-width:1400px;margin:0 auto;padding:12px 20px 40px}
h2{font-size:18px;margin:26px 0 8px;border-bottom:2px solid var(--line);padding-bottom:4px}
h3{font-size:15px;margin:16px 0 6px;color:var(--muted)}
.aliases{font-weight:normal;color:var(--muted);font-size:13px}
table{border-collapse:collapse;width:100%;background:var(--card)}
th,td{border:1px solid var(--line);padding:3px 6px;text-align:left;vertical-align:top}
th{background:#eef1f5;font-weight:600}
.finding{background:var(--card);border:1px solid var(--line);border-left:6px solid var(--info);border-radius:4px;padding:8px 12px;margin:8px 0}
.finding.sev-critical{border-left-color:var(--crit)}.finding.sev-error{border-left-color:var(--err)}.finding.sev-warning{border-left-color:var(--warn)}
.finding h4{margin:0 0 6px;font-size:15px}
.badge{display:inline-block;padding:0 6px;border-radius:3px;color:#fff;font-size:12px;font-weight:700;background:var(--info)}
.badge.sev-critical{background:var(--crit)}.badge.sev-error{background:var(--err)}.badge.sev-warning{background:var(--warn)}
.conf{color:var(--muted);font-weight:normal;font-size:13px}
.place,code,.fix li{font-family:ui-monospace,SFMono-Regular,Consolas,monospace;font-size:12.5px}
.excerpt{font-family:ui-monospace,SFMono-Regular,Consolas,monospace;font-size:12px;word-break:break-word}
.fix{margin:4px 0;padding-left:22px}.fix li{margin:2px 0;white-space:pre-wrap;word-break:break-word}
.label{font-weight:600;margin:6px 0 2px}
.timeline td.time{white-space:nowrap}
tr.evidence td{background:var(--mark)}
tr.fnd td{background:#fde8e8;font-weight:600}
.mark{font-size:11px;color:#7a5200;font-weight:700}
.note{color:var(--muted)}
.none{color:var(--muted);font-style:italic}
[hidden]{display:none!important}
@media print{
 header{position:static;background:#fff;color:#000;border-bottom:2px solid #000}
 header .meta{color:#000}
 #filters,.no-print{display:none}
 body{background:#fff;font-size:11px}
 main{max-width:none;padding:0}
 .finding{break-inside:avoid;border-color:#999}
 tr{break-inside:avoid}
 tr.evidence td{background:#eee}
 a{color:#000;text-decoration:none}
}
"#;

const SCRIPT: &str = r#"
(function(){
  var host=document.getElementById('f-host'),sev=document.getElementById('f-sev'),
      src=document.getElementById('f-src'),ev=document.getElementById('f-evidence');
  function apply(){
    var h=host.value,s=sev.value===''?9:parseInt(sev.value,10),f=src.value,only=ev.checked;
    document.querySelectorAll('section.host').forEach(function(el){
      el.hidden=(h!==''&&el.getAttribute('data-host')!==h);});
    document.querySelectorAll('tr.host-row').forEach(function(el){
      el.hidden=(h!==''&&el.getAttribute('data-host')!==h);});
    document.querySelectorAll('.finding').forEach(function(el){
      var srcs=(el.getAttribute('data-sources')||'').split(' ');
      el.hidden=parseInt(el.getAttribute('data-rank'),10)>s||(f!==''&&srcs.indexOf(f)<0);});
    document.querySelectorAll('tr.fnd').forEach(function(el){
      el.hidden=parseInt(el.getAttribute('data-rank'),10)>s;});
    document.querySelectorAll('tr.ev').forEach(function(el){
      el.hidden=(f!==''&&el.getAttribute('data-source')!==f)||(only&&!el.classList.contains('evidence'));});
    document.querySelectorAll('tr.evrow').forEach(function(el){
      el.hidden=(f!==''&&el.getAttribute('data-source')!==f);});
    var shown=document.querySelectorAll('tr.ev:not([hidden])').length;
    document.getElementById('shown').textContent=shown+' event rows shown';
  }
  [host,sev,src,ev].forEach(function(el){el.addEventListener('change',apply);});
  apply();
})();
"#;

fn place(path: &str, line: u64, record: u64) -> String {
    esc(&siem::place(path, line, record))
}

fn time(t: &Option<DateTime<Utc>>) -> String {
    t.as_ref().map(rfc3339).unwrap_or_else(|| "–".into())
}

fn finding_html(f: &Finding, out: &mut String) {
    let sev = f.severity.as_str();
    let sources: BTreeSet<&str> = f
        .evidence
        .iter()
        .filter_map(|e| e.format.map(|x| x.as_str()))
        .collect();
    let _ = write!(
        out,
        "<article class=\"finding sev-{sev}\" data-severity=\"{sev}\" data-rank=\"{}\" data-sources=\"{}\" data-id=\"{}\">\n<h4><span class=\"badge sev-{sev}\">{}</span> <code>{}</code> — {} <span class=\"conf\">(confidence: {})</span></h4>\n",
        rank(f.severity),
        esc(&sources.into_iter().collect::<Vec<_>>().join(" ")),
        esc(&f.id),
        sev.to_ascii_uppercase(),
        esc(&f.id),
        esc(&f.title),
        f.confidence.as_str()
    );
    let _ = writeln!(
        out,
        "<div class=\"note\">first seen {} · last seen {}{}</div>",
        time(&f.first_seen),
        time(&f.last_seen),
        if f.related_hosts.is_empty() {
            String::new()
        } else {
            format!(" · related hosts: {}", esc(&f.related_hosts.join(", ")))
        }
    );
    if !f.notes.is_empty() {
        out.push_str("<ul class=\"notes\">");
        for n in &f.notes {
            let _ = write!(out, "<li>{}</li>", esc(n));
        }
        out.push_str("</ul>\n");
    }
    out.push_str("<div class=\"label\">Evidence</div>\n<table class=\"evidence\"><thead><tr><th>place</th><th>time</th><th>source</th><th>signal</th><th>excerpt</th></tr></thead><tbody>\n");
    for e in &f.evidence {
        let src = e.format.map(|x| x.as_str()).unwrap_or("");
        let _ = writeln!(
            out,
            "<tr class=\"evrow\" data-source=\"{src}\"><td class=\"place\">{}</td><td class=\"time\">{}</td><td>{src}</td><td>{} <span class=\"note\">({:?})</span></td><td class=\"excerpt\">{}</td></tr>",
            place(&e.path, e.line, e.record),
            time(&e.time),
            esc(&e.signal),
            e.role,
            esc(&e.excerpt)
        );
    }
    out.push_str("</tbody></table>\n");
    if !f.absorbed.is_empty() {
        let _ = writeln!(
            out,
            "<div class=\"note\">also explains: {}</div>",
            esc(&f.absorbed.join(", "))
        );
    }
    out.push_str("<div class=\"label\">Fix</div>\n<ol class=\"fix\">");
    for step in &f.fix {
        let _ = write!(out, "<li>{}</li>", esc(step));
    }
    out.push_str("</ol>\n");
    let _ = writeln!(
        out,
        "<div class=\"note\">sources: {}</div>\n</article>",
        esc(&f.source.join("; "))
    );
}

fn timeline_html(rows: &[&Row], out: &mut String) {
    let shown_events = rows
        .iter()
        .filter(|r| r.item == "event" && r.findings.is_empty())
        .count();
    let hidden = shown_events.saturating_sub(MAX_ROWS_PER_HOST);
    let mut plain = 0usize;
    out.push_str("<table class=\"timeline\"><thead><tr><th>time</th><th>source</th><th>place</th><th>id</th><th>level</th><th>text</th></tr></thead><tbody>\n");
    for r in rows {
        if r.item == "finding" {
            let rk = rank_of_name(&r.level);
            let _ = writeln!(
                out,
                "<tr class=\"fnd\" data-rank=\"{rk}\" data-source=\"finding\"><td class=\"time\">{}</td><td>finding</td><td class=\"place\">{}</td><td><code>{}</code></td><td>{}</td><td>{}</td></tr>",
                time(&r.time),
                place(&r.path, r.line, r.record),
                esc(&r.id),
                esc(&r.level),
                esc(&r.text)
            );
            continue;
        }
        let evidence = !r.findings.is_empty();
        if !evidence {
            plain += 1;
            if plain > MAX_ROWS_PER_HOST {
                continue;
            }
        }
        let src = r.format.unwrap_or("");
        let mark = if evidence {
            format!(
                "<span class=\"mark\">EVIDENCE: {}</span> ",
                esc(&r.findings.join(", "))
            )
        } else {
            String::new()
        };
        let _ = writeln!(
            out,
            "<tr class=\"ev{}\" data-source=\"{}\"><td class=\"time\">{}</td><td>{}</td><td class=\"place\">{}</td><td>{}</td><td>{}</td><td class=\"excerpt\">{mark}{}</td></tr>",
            if evidence { " evidence" } else { "" },
            esc(src),
            time(&r.time),
            esc(src),
            place(&r.path, r.line, r.record),
            esc(&r.id),
            esc(&r.level),
            esc(&r.text)
        );
    }
    out.push_str("</tbody></table>\n");
    if hidden > 0 {
        let _ = writeln!(
            out,
            "<p class=\"note\">{hidden} more events of this host are not shown; <code>--output timeline-csv</code> lists all.</p>"
        );
    }
}

/// The whole document.
pub fn render(r: &Report, stamp: Option<DateTime<Utc>>) -> String {
    let rows = timeline::merged(r);
    let findings = &r.analysis.findings;
    // Hosts: those with findings first (as sorted by the analysis), then the rest by name.
    let mut hosts: Vec<String> = Vec::new();
    for f in findings {
        if !hosts.contains(&f.host) {
            hosts.push(f.host.clone());
        }
    }
    let mut rest: BTreeSet<String> = r.analysis.hosts.iter().map(|h| h.name.clone()).collect();
    for row in &rows {
        rest.insert(if row.host.is_empty() {
            NO_HOST.to_string()
        } else {
            row.host.clone()
        });
    }
    hosts.extend(
        rest.into_iter()
            .filter(|h| !findings.iter().any(|f| &f.host == h)),
    );
    let mut by_host: BTreeMap<&str, Vec<&Row>> = BTreeMap::new();
    for row in &rows {
        let h = if row.host.is_empty() {
            NO_HOST
        } else {
            row.host.as_str()
        };
        by_host.entry(h).or_default().push(row);
    }
    let sources: BTreeSet<&str> = rows
        .iter()
        .filter_map(|r| r.format)
        .chain(findings.iter().flat_map(|f| {
            f.evidence
                .iter()
                .filter_map(|e| e.format.map(|x| x.as_str()))
        }))
        .collect();

    let mut out = String::with_capacity(64 * 1024);
    out.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    out.push_str("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\">\n");
    out.push_str(
        "<meta name=\"generator\" content=\"imtriage\">\n<title>imtriage report</title>\n<style>",
    );
    out.push_str(STYLE);
    out.push_str("</style>\n</head>\n<body>\n<header>\n<h1>imtriage report</h1>\n");
    let s = &r.summary;
    let _ = writeln!(
        out,
        "<p class=\"meta\">{} finding{} on {} host{} · {} files, {} records, {} events in the timeline · collection time {}{}</p>",
        findings.len(),
        if findings.len() == 1 { "" } else { "s" },
        hosts.len(),
        if hosts.len() == 1 { "" } else { "s" },
        s.files,
        s.records,
        r.timeline.len(),
        time(&s.collection_time),
        stamp
            .map(|t| format!(" · generated {}", rfc3339(&t)))
            .unwrap_or_default()
    );
    out.push_str("<form id=\"filters\" class=\"no-print\" onsubmit=\"return false\">\n<label>Host <select id=\"f-host\"><option value=\"\">all hosts</option>");
    for h in &hosts {
        let _ = write!(out, "<option value=\"{0}\">{0}</option>", esc(h));
    }
    out.push_str("</select></label>\n<label>Severity <select id=\"f-sev\"><option value=\"\">all</option><option value=\"0\">critical</option><option value=\"1\">error and above</option><option value=\"2\">warning and above</option><option value=\"3\">info and above</option></select></label>\n<label>Source <select id=\"f-src\"><option value=\"\">all sources</option>");
    for src in &sources {
        let _ = write!(out, "<option value=\"{0}\">{0}</option>", esc(src));
    }
    out.push_str("</select></label>\n<label><input type=\"checkbox\" id=\"f-evidence\"> evidence only</label>\n<span id=\"shown\"></span>\n</form>\n</header>\n<main>\n");

    out.push_str("<h2>Hosts</h2>\n<table class=\"overview\"><thead><tr><th>host</th><th>findings</th><th>events</th></tr></thead><tbody>\n");
    for (i, h) in hosts.iter().enumerate() {
        let ids: Vec<String> = findings
            .iter()
            .filter(|f| &f.host == h)
            .map(|f| format!("{} ({})", f.id, f.severity.as_str()))
            .collect();
        let _ = writeln!(
            out,
            "<tr class=\"host-row\" data-host=\"{0}\"><td><a href=\"#host-{i}\">{0}</a></td><td>{1}</td><td>{2}</td></tr>",
            esc(h),
            if ids.is_empty() {
                "<span class=\"none\">none</span>".to_string()
            } else {
                esc(&ids.join(", "))
            },
            by_host
                .get(h.as_str())
                .map_or(0, |v| v.iter().filter(|r| r.item == "event").count())
        );
    }
    out.push_str("</tbody></table>\n");
    if findings.is_empty() {
        out.push_str("<p class=\"none\">No documented cause found.</p>\n");
    }

    for (i, h) in hosts.iter().enumerate() {
        let aliases = r
            .analysis
            .hosts
            .iter()
            .find(|x| &x.name == h)
            .map(|x| x.aliases.join(", "))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "<section class=\"host\" id=\"host-{i}\" data-host=\"{0}\">\n<h2>Host {0} <span class=\"aliases\">{1}</span></h2>",
            esc(h),
            esc(&aliases)
        );
        let mine: Vec<&Finding> = findings.iter().filter(|f| &f.host == h).collect();
        let _ = writeln!(out, "<h3>Findings ({})</h3>", mine.len());
        if mine.is_empty() {
            out.push_str("<p class=\"none\">No documented cause on this host.</p>\n");
        }
        for f in mine {
            finding_html(f, &mut out);
        }
        let host_rows = by_host.get(h.as_str()).cloned().unwrap_or_default();
        let _ = writeln!(
            out,
            "<h3>Timeline ({} events)</h3>",
            host_rows.iter().filter(|r| r.item == "event").count()
        );
        if r.timeline.is_empty() {
            out.push_str("<p class=\"none\">No events loaded.</p>\n");
        } else {
            timeline_html(&host_rows, &mut out);
        }
        out.push_str("</section>\n");
    }

    let problems: Vec<_> = r
        .diagnostics
        .iter()
        .filter(|d| d.level != DiagLevel::Info)
        .collect();
    if !problems.is_empty() {
        let _ = writeln!(
            out,
            "<h2>Input problems ({})</h2>\n<table class=\"diagnostics\"><thead><tr><th>level</th><th>place</th><th>message</th></tr></thead><tbody>",
            problems.len()
        );
        for d in problems {
            let _ = writeln!(
                out,
                "<tr><td>{:?}</td><td class=\"place\">{}</td><td>{}</td></tr>",
                d.level,
                place(&d.path, d.line, d.record),
                esc(&d.message)
            );
        }
        out.push_str("</tbody></table>\n");
    }
    out.push_str("</main>\n<script>");
    out.push_str(SCRIPT);
    out.push_str("</script>\n</body>\n</html>\n");
    out
}

impl Reporter for Html {
    fn write(&mut self, r: &Report, out: &mut dyn Write) -> io::Result<()> {
        out.write_all(render(r, self.stamp).as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_quotes() {
        assert_eq!(
            esc("<script>alert('x')</script> & \"q\""),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;"
        );
    }
}
