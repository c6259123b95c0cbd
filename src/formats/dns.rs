//! `nslookup` and `Resolve-DnsName` captures (formats.md §9).
//!
//! Why this module exists: a Lync / Skype client finds EWS through `autodiscover.<domain>` and the
//! `_autodiscover._tcp.<domain>` SRV record, and OWA IM and federation depend on the pool and
//! `_sipfederationtls._tcp` names; a support bundle shows whether those resolved only as pasted
//! `nslookup` or `Resolve-DnsName` output. This parser turns both tools' output into one
//! `Body::Dns` record per looked-up name and type (answers grouped, CNAME chains as alias →
//! target records, failures normalised to `nxdomain`, `timeout`, `no-records`, `server-failure`,
//! `refused`), so rules can ask "did `autodiscover.contoso.com` resolve?".
//!
//! Grammar and status markers: `grammars/dns-capture.md`; everything there is INFERRED (no public
//! sample), so the parser anchors on structure (`Server:` / `Address:` positions, `***` lines,
//! `label = value` lines, table dash lines) rather than on localised words, and reports every line
//! it does not understand as a Warning. Rule names used there: [`parse`], [`echo`],
//! [`resolver_block`], [`label_block`], [`star_line`], [`equals_line`], [`ps_error`], [`table`].

use super::psobject::{self, DiagSink, Line};
use super::FileCtx;
use crate::model::{Body, DiagLevel, Diagnostic, DnsRecord, Event, Format, Location, Parsed};
use std::collections::HashMap;
use std::net::IpAddr;

const NSLOOKUP: &str = "nslookup";
const RESOLVE: &str = "Resolve-DnsName";

/// `query` form of a name: trimmed, lower case, no trailing dot, no quotes.
fn norm(name: &str) -> String {
    name.trim()
        .trim_matches(['"', '\''])
        .trim_end_matches('.')
        .to_lowercase()
}

/// A host name as typed at the nslookup prompt (not `exit`).
fn is_name(s: &str) -> bool {
    let ok = |c: char| c.is_alphanumeric() || ".-_".contains(c);
    !s.eq_ignore_ascii_case("exit") && s.chars().all(ok)
}

fn is_ip(s: &str) -> bool {
    let s = s.trim();
    let s = s.split_once('%').map_or(s, |(a, _)| a);
    s.parse::<IpAddr>().is_ok()
}

/// Failure kinds and the (English, lower-case, `|`-separated) words that name them; unknown
/// text is kept raw.
const KINDS: [(&str, &str); 5] = [
    (
        "nxdomain",
        "non-existent domain|name_error|dns name does not exist",
    ),
    (
        "timeout",
        "timed out|timed-out|timeout|no response from server",
    ),
    ("server-failure", "server failed|server_failure"),
    ("refused", "refused"),
    (
        "no-records",
        "no answer|no records|no_records|no data|no internal type",
    ),
];

/// Failure kind of an error text.
fn classify(text: &str) -> Option<&'static str> {
    let t = text.to_ascii_lowercase();
    KINDS
        .iter()
        .find(|(_, words)| words.split('|').any(|w| t.contains(w)))
        .map(|(k, _)| *k)
}

/// `Name: value` / `Name : value` (the key may not start with white space).
fn key_value(line: &str) -> Option<(&str, &str)> {
    if line.starts_with(char::is_whitespace) {
        return None;
    }
    let (k, v) = line.split_once(':')?;
    let k = k.trim();
    (!k.is_empty() && k.split_whitespace().count() <= 3).then_some((k, v.trim()))
}

fn is_dash_line(t: &str) -> bool {
    let t = t.trim();
    t.starts_with("--") && t.chars().all(|c| c == '-' || c == ' ')
}

/// Whether an option name sets the query type (`-type=srv`, `-q=mx`, `set querytype=a`).
fn is_type_opt(k: &str) -> bool {
    ["type", "q", "querytype"]
        .iter()
        .any(|x| k.eq_ignore_ascii_case(x))
}

/// Tool, query name and type named by a command (`nslookup -type=srv x`,
/// `Resolve-DnsName -Name x -Type SRV`, `Resolve-DnsName x SRV`), or `None` for other commands.
fn command(cmd: &str) -> Option<(&'static str, Option<String>, Option<String>)> {
    let mut words = cmd.split_whitespace().take_while(|w| *w != "|");
    let tool = words.find_map(|w| {
        let w = w.trim_end_matches(".exe");
        [NSLOOKUP, RESOLVE]
            .into_iter()
            .find(|t| w.eq_ignore_ascii_case(t))
    })?;
    let (mut positional, mut name, mut rtype) = (Vec::new(), None, None);
    while let Some(a) = words.next() {
        let unq = |v: &str| v.trim_matches(['"', '\'']).to_string();
        match a.to_ascii_lowercase().as_str() {
            "-name" => name = words.next().map(norm),
            "-type" => rtype = words.next().map(|v| unq(v).to_ascii_uppercase()),
            "-server" => drop(words.next()),
            o if o.starts_with('-') => {
                if let Some((k, v)) = o.get(1..).and_then(|o| o.split_once('=')) {
                    rtype = rtype.or(is_type_opt(k).then(|| v.to_ascii_uppercase()));
                }
            }
            _ => positional.push(unq(a)),
        }
    }
    let mut pos = positional.into_iter();
    let name = name.or_else(|| pos.next().map(|n| norm(&n)));
    if tool == RESOLVE {
        rtype = rtype.or_else(|| pos.next().map(|t| t.to_ascii_uppercase()));
    }
    Some((tool, name, rtype))
}

/// Parser state.
struct St<'a> {
    path: &'a FileCtx,
    out: Parsed,
    sink: DiagSink,
    record: u64,
    /// Records of the current answer block, emitted at its end, and their index by key.
    groups: Vec<(DnsRecord, Line<'a>)>,
    index: HashMap<(String, String, String), usize>,
    /// The name the last echo asked for, its type, and whether it got a result.
    query: Option<String>,
    qtype: Option<String>,
    answered: bool,
    /// A `DNS request timed out.` line not yet tied to a result.
    timeout: Option<Line<'a>>,
}

impl<'a> St<'a> {
    fn loc(&self, l: &Line<'_>, record: u64) -> Location {
        Location {
            path: self.path.path.clone(),
            line: l.no,
            record,
            offset: l.offset,
        }
    }

    fn emit(&mut self, rec: DnsRecord, l: Line<'_>) {
        self.record += 1;
        self.answered = true;
        let loc = self.loc(&l, self.record);
        self.out
            .push(Event::new(Format::DnsCapture, loc, Body::Dns(rec), l.text));
    }

    /// A rejected record (Error, counted) or a caveat (Warning, `record` 0).
    fn diag(&mut self, level: DiagLevel, l: Line<'_>, msg: &str) {
        let error = level == DiagLevel::Error;
        self.record += u64::from(error);
        let loc = self.loc(&l, if error { self.record } else { 0 });
        let d = Diagnostic::at(level, &loc, Format::DnsCapture, msg).with_excerpt(l.text);
        match error {
            true => self.sink.reject(&mut self.out, d),
            false => self.sink.warn(&mut self.out, d),
        }
    }

    fn warn(&mut self, l: Line<'_>, msg: &str) {
        self.diag(DiagLevel::Warning, l, msg);
    }

    /// Adds an answer to the open group of `(tool, query, rtype)` or opens one.
    fn answer(&mut self, tool: &str, query: &str, rtype: &str, ans: Option<String>, l: Line<'a>) {
        let key = (tool.to_string(), norm(query), rtype.to_ascii_uppercase());
        let next = self.groups.len();
        let at = *self.index.entry(key.clone()).or_insert(next);
        if at == next {
            let (tool, query, rtype) = key;
            let rec = DnsRecord {
                tool,
                query,
                rtype,
                ..DnsRecord::default()
            };
            self.groups.push((rec, l));
        }
        if let (Some((r, _)), Some(a)) = (self.groups.get_mut(at), ans.filter(|a| !a.is_empty())) {
            r.answers.push(a);
        }
    }

    fn flush(&mut self) {
        self.index.clear();
        for (rec, l) in std::mem::take(&mut self.groups) {
            self.emit(rec, l);
        }
    }

    /// A failure record for `name`, or for the echoed query when the line names none. The echoed
    /// type applies when the name is the echoed one.
    fn error(
        &mut self,
        tool: &str,
        name: Option<String>,
        ty: Option<String>,
        kind: &str,
        l: Line<'_>,
    ) {
        let echoed = name.is_none() || name == self.query;
        let query = name.or_else(|| self.query.clone()).unwrap_or_default();
        if query.is_empty() {
            self.warn(
                l,
                "failure for a query whose name the capture does not show",
            );
        }
        let qtype = self.qtype.clone().filter(|_| echoed);
        let rec = DnsRecord {
            tool: tool.into(),
            query,
            rtype: ty.or(qtype).unwrap_or_default(),
            answers: Vec::new(),
            error: Some(kind.to_string()),
        };
        self.timeout = None;
        self.emit(rec, l);
    }

    /// Ends the current query: a pending timeout without any result becomes a `timeout` record.
    fn end_query(&mut self) {
        self.flush();
        if let Some(l) = self.timeout.take() {
            if !self.answered {
                self.error(NSLOOKUP, None, None, "timeout", l);
            }
        }
    }

    fn new_query(&mut self, name: Option<String>) {
        self.end_query();
        self.query = name;
        self.answered = false;
    }
}

/// Lines of a block: from `i` while lines are non-blank and `more` holds.
fn block_end(lines: &[Line<'_>], i: usize, more: impl Fn(&str) -> bool) -> usize {
    let mut j = i + 1;
    while lines
        .get(j)
        .is_some_and(|l| !l.text.trim().is_empty() && more(l.text))
    {
        j += 1;
    }
    j
}

/// One grammar rule: consumes lines from `i` and returns the next index, or `None` if the line
/// is not its start.
type Rule = for<'a> fn(&mut St<'a>, &[Line<'a>], usize) -> Option<usize>;

/// Parses a capture: one record per looked-up name and type.
///
/// `parse := (BLANK | echo | resolver_block | label_block | star_line | equals_line | ps_error |
/// table | section_label | other)*`; `other` lines are Warnings.
pub fn parse(ctx: &FileCtx, text: &str) -> Parsed {
    let lines = psobject::lines(text);
    let mut st = St {
        path: ctx,
        out: Parsed::default(),
        sink: DiagSink::new(&ctx.path, Format::DnsCapture),
        record: 0,
        groups: Vec::new(),
        index: HashMap::new(),
        query: None,
        qtype: None,
        answered: false,
        timeout: None,
    };
    let rules: [Rule; 7] = [
        echo,
        resolver_block,
        table,
        ps_error,
        label_block,
        star_line,
        equals_line,
    ];
    let mut i = 0;
    while let Some(&l) = lines.get(i) {
        let t = l.text.trim();
        if t.is_empty() {
            i += 1;
            continue;
        }
        i = match rules.iter().find_map(|rule| rule(&mut st, &lines, i)) {
            Some(next) => next.max(i + 1),
            None => {
                // `section_label := TEXT ":"` (`Non-authoritative answer:`, localised): skipped.
                if !(t.ends_with(':') && t.matches(':').count() == 1) {
                    st.flush();
                    st.warn(l, "line not read as nslookup or Resolve-DnsName output");
                }
                i + 1
            }
        };
    }
    st.end_query();
    st.sink.finish(&mut st.out);
    st.out
}

/// `echo := PS_PROMPT command | ">" (set_type | NAME | other)` — a PowerShell prompt echo of
/// `nslookup …` / `Resolve-DnsName …`, or an interactive nslookup echo. The echoed name is the
/// query of the following failure lines; `set type=X` (`q=`, `querytype=`) sets the type.
fn echo<'a>(st: &mut St<'a>, lines: &[Line<'a>], i: usize) -> Option<usize> {
    let l = lines.get(i)?;
    if let Some(cmd) = psobject::echo_command(l.text) {
        if let Some((_, name, rtype)) = command(cmd) {
            st.new_query(name);
            st.qtype = rtype;
        } else {
            st.end_query();
        }
        return Some(i + 1);
    }
    let cmd = l.text.trim_start().strip_prefix('>')?.trim();
    let mut w = cmd.split_whitespace();
    match (w.next(), w.next()) {
        (None, _) => {}
        (Some(set), Some(arg)) if set.eq_ignore_ascii_case("set") => {
            if let Some((k, v)) = arg.split_once('=') {
                if is_type_opt(k) {
                    st.qtype = Some(v.trim().to_ascii_uppercase());
                }
            }
        }
        (Some(name), None) if is_name(name) => st.new_query(Some(norm(name))),
        _ => {}
    }
    Some(i + 1)
}

/// `resolver_block := ("Server:" | "Default Server:") NAME EOL ("Address" "es"? ":" ADDR EOL
/// (INDENT ADDR EOL)*)?` — the resolver used. A `DNS request timed out.` before it belonged to
/// the reverse lookup of the server and is dropped.
fn resolver_block<'a>(st: &mut St<'a>, lines: &[Line<'a>], i: usize) -> Option<usize> {
    let l = lines.get(i)?;
    let (k, _) = key_value(l.text)?;
    if !(k == "Server" || k == "Default Server") {
        return None;
    }
    st.flush();
    st.timeout = None;
    Some(block_end(lines, i, |t| {
        t.starts_with(char::is_whitespace) || t.starts_with("Address")
    }))
}

/// `label_block := "Name" ":" NAME EOL (LABEL ":" VALUE EOL | INDENT VALUE EOL)*` — an nslookup
/// answer (`Name:`, `Address:` / `Addresses:`, `Aliases:`) or a Resolve-DnsName Format-List
/// object (`Name : …`, `Type`/`QueryType`, `TTL`, `Section`, `IPAddress` / `NameHost` / …). The
/// nslookup labels are read by what their values are (addresses or names), not by their words.
fn label_block<'a>(st: &mut St<'a>, lines: &[Line<'a>], i: usize) -> Option<usize> {
    let l = *lines.get(i)?;
    let (k, _) = key_value(l.text)?;
    if !k.eq_ignore_ascii_case("Name") {
        return None;
    }
    let end = block_end(lines, i, |t| {
        t.starts_with(char::is_whitespace) || key_value(t).is_some()
    });
    let mut pairs: Vec<(String, String)> = Vec::new();
    for bl in lines.get(i..end).unwrap_or(&[]) {
        match key_value(bl.text) {
            Some((k, v)) => pairs.push((k.to_string(), v.to_string())),
            None => {
                if let Some((_, v)) = pairs.last_mut() {
                    v.push('\n');
                    v.push_str(bl.text.trim());
                }
            }
        }
    }
    let get = |name: &str| {
        pairs
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    };
    let name = get("Name").unwrap_or("").to_string();
    if let Some(rtype) = get("Type").or_else(|| get("QueryType")) {
        // Resolve-DnsName Format-List object: same grouping as table rows.
        st.answer(RESOLVE, &name, rtype, row_answer(&get), l);
        return Some(end);
    }
    st.flush();
    let values = pairs.iter().skip(1).flat_map(|(_, v)| v.split('\n'));
    let (addrs, aliases): (Vec<&str>, Vec<&str>) = values
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .partition(|v| is_ip(v));
    if addrs.is_empty() && aliases.is_empty() {
        st.diag(DiagLevel::Error, l, "nslookup answer without any value");
        return Some(end);
    }
    let mut chain: Vec<&str> = aliases;
    chain.push(&name);
    for w in chain.windows(2) {
        if let [a, b] = w {
            st.answer(NSLOOKUP, a, "CNAME", Some(norm(b)), l);
        }
    }
    if !addrs.is_empty() {
        let rtype = st.qtype.clone().unwrap_or_default();
        for a in addrs {
            st.answer(NSLOOKUP, &name, &rtype, Some(a.to_string()), l);
        }
    }
    st.flush();
    Some(end)
}

/// `star_line := "***" TEXT` — an nslookup failure. `*** S can't find NAME: REASON` gives the
/// name (the last word before the last `:`) and the reason; `*** Request to S timed-out` and
/// other lines without a name apply to the echoed query. A name that is an IP address is the
/// reverse lookup of the resolver itself (`*** Can't find server name for address …`): Warning.
fn star_line<'a>(st: &mut St<'a>, lines: &[Line<'a>], i: usize) -> Option<usize> {
    let l = *lines.get(i)?;
    let t = l.text.trim();
    let Some(body) = t.strip_prefix("***") else {
        // Bare lines: `DNS request timed out.` (retried; counts only if no result follows), its
        // `timeout was N seconds.` detail, and short failure lines such as `No response from server`.
        if t.starts_with("DNS request timed out") {
            st.flush();
            st.timeout.get_or_insert(l);
        } else if !t.starts_with("timeout was") {
            let kind = classify(t).filter(|_| !t.contains([':', '=']) && t.len() < 40)?;
            st.flush();
            st.error(NSLOOKUP, None, None, kind, l);
        }
        return Some(i + 1);
    };
    let body = body.trim();
    st.flush();
    let kind = classify(body);
    if body.contains("timed-out") || body.contains("timed out") {
        st.error(NSLOOKUP, None, None, "timeout", l);
        return Some(i + 1);
    }
    let (name, reason) = match body.rsplit_once(':') {
        Some((before, reason)) => (before.split_whitespace().last(), reason.trim()),
        None => (None, body),
    };
    match (name, kind) {
        (Some(n), _) if is_ip(n) => st.warn(l, "the resolver's own name could not be looked up"),
        (None, None) => st.warn(l, "nslookup message without a looked-up name"),
        _ => {
            st.error(NSLOOKUP, name.map(norm), None, kind.unwrap_or(reason), l);
        }
    }
    Some(i + 1)
}

/// `equals_line := NAME SP+ LABEL "=" VALUE | NAME SP+ "SRV service location:" | NAME EOL
/// (INDENT KEY "=" VALUE EOL)+` — nslookup answers for `set type=…` queries: `internet address`
/// (A), `AAAA IPv6 address`, `canonical name` (CNAME), `nameserver` (NS), `MX preference`,
/// `text` (TXT), `name` (PTR); an SRV entry with its indented `priority` / `weight` / `port` /
/// `svr hostname` lines; a bare zone name with indented SOA lines (`primary name server = …`),
/// which nslookup prints when the queried type has no records: `no-records` for the query.
fn equals_line<'a>(st: &mut St<'a>, lines: &[Line<'a>], i: usize) -> Option<usize> {
    let l = *lines.get(i)?;
    if l.text.starts_with(char::is_whitespace) {
        return None;
    }
    let t = l.text.trim();
    let (name, rest) = t.split_once(char::is_whitespace).unwrap_or((t, ""));
    let rest = rest.trim();
    let end = block_end(lines, i, |t| {
        t.starts_with(char::is_whitespace) && t.contains('=')
    });
    let sub = |key: &str| {
        lines.get(i + 1..end).unwrap_or(&[]).iter().find_map(|s| {
            let (k, v) = s.text.split_once('=')?;
            k.trim().eq_ignore_ascii_case(key).then(|| v.trim())
        })
    };
    if rest.is_empty() || rest.to_ascii_lowercase().contains("primary name server") {
        if end == i + 1 && rest.is_empty() {
            return None;
        }
        st.flush();
        match st.query.clone().filter(|_| !st.answered) {
            Some(q) => st.error(NSLOOKUP, Some(q), None, "no-records", l),
            None => {
                let primary = sub("primary name server").map(norm);
                st.answer(NSLOOKUP, name, "SOA", primary, l);
                st.flush();
            }
        }
        return Some(end);
    }
    if rest.ends_with(':') && rest.split_whitespace().any(|w| w == "SRV") {
        let v = |k: &str| sub(k).unwrap_or("-").to_string();
        let target = sub("svr hostname").map_or_else(|| "-".into(), norm);
        let answer = format!("{} {} {} {}", v("priority"), v("weight"), v("port"), target);
        st.answer(NSLOOKUP, name, "SRV", Some(answer), l);
        return Some(end);
    }
    let (label, value) = rest.split_once('=')?;
    let (label, value) = (label.trim().to_ascii_lowercase(), value.trim());
    let (rtype, answer) = match label.as_str() {
        "internet address" => ("A", value.to_string()),
        "aaaa ipv6 address" | "ipv6 address" => ("AAAA", value.to_string()),
        "canonical name" => ("CNAME", norm(value)),
        "nameserver" => ("NS", norm(value)),
        "name" => ("PTR", norm(value)),
        "text" => ("TXT", value.trim_matches('"').to_string()),
        "mx preference" => {
            let (pref, exch) = value.split_once(',').unwrap_or((value, ""));
            let exch = exch.split_once('=').map_or(exch, |(_, e)| e);
            ("MX", format!("{} {}", pref.trim(), norm(exch)))
        }
        _ => (st.qtype.as_deref().unwrap_or(""), value.to_string()),
    };
    let rtype = rtype.to_string();
    st.answer(NSLOOKUP, name, &rtype, Some(answer), l);
    Some(i + 1)
}

/// `ps_error := "Resolve-DnsName" SP* ":" [NAME " : "] MESSAGE EOL (INDENT? ("At" | "+" | "~")
/// TEXT EOL)*` — a PowerShell error record. The kind comes from `FullyQualifiedErrorId`
/// (`DNS_ERROR_RCODE_NAME_ERROR` → `nxdomain`, …), else from the message, else the raw id or
/// message; `+ Resolve-DnsName … -Type X` inside the record gives the type.
fn ps_error<'a>(st: &mut St<'a>, lines: &[Line<'a>], i: usize) -> Option<usize> {
    let l = *lines.get(i)?;
    let rest = l
        .text
        .trim_start()
        .strip_prefix(RESOLVE)?
        .trim_start()
        .strip_prefix(':')?;
    st.flush();
    let (name, message) = match rest.split_once(" : ") {
        Some((n, m)) => (Some(norm(n)), m.trim()),
        None => (None, rest.trim()),
    };
    let end = block_end(lines, i, |t| {
        let t = t.trim_start();
        !t.starts_with(RESOLVE)
            && psobject::echo_command(t).is_none()
            && !(t.starts_with("Name") && t.contains("Type"))
    });
    let (mut fqid, mut rtype) = (None, None);
    for bl in lines.get(i + 1..end).unwrap_or(&[]) {
        let t = bl.text.trim().trim_start_matches('+').trim();
        if let Some(v) = t.strip_prefix("FullyQualifiedErrorId") {
            let v = v.trim_start().trim_start_matches(':').trim();
            fqid = Some(v.split(',').next().unwrap_or(v).trim().to_string());
        } else if let Some((_, _, ty)) = command(t) {
            rtype = rtype.or(ty);
        }
    }
    let kind = match fqid.as_deref() {
        Some("DNS_ERROR_RCODE_SERVER_FAILURE") => "server-failure",
        Some("DNS_ERROR_RCODE_REFUSED") => "refused",
        Some(id) => classify(id).or_else(|| classify(message)).unwrap_or(id),
        None => classify(message).unwrap_or(message),
    };
    st.error(RESOLVE, name, rtype, kind, l);
    Some(end)
}

/// The answer of a Resolve-DnsName row or list object: `priority weight port target` for SRV,
/// `preference exchange` for MX, else the first of `IPAddress`, `IP4Address`, `IP6Address`,
/// `NameHost`, `NameTarget`, `NameExchange`, `Strings`, `PrimaryServer`.
fn row_answer<'v>(get: &dyn Fn(&str) -> Option<&'v str>) -> Option<String> {
    if let Some(target) = get("NameTarget") {
        let n = |k: &str| get(k).unwrap_or("-").to_string();
        let (p, w, port) = (n("Priority"), n("Weight"), n("Port"));
        return Some(format!("{p} {w} {port} {}", norm(target)));
    }
    if let (Some(ex), Some(pref)) = (get("NameExchange"), get("Preference")) {
        return Some(format!("{pref} {}", norm(ex)));
    }
    ["IPAddress", "IP4Address", "IP6Address"]
        .iter()
        .find_map(|k| get(k))
        .map(str::to_string)
        .or_else(|| {
            ["NameHost", "NameExchange", "Strings", "PrimaryServer"]
                .iter()
                .find_map(|k| get(k))
                .map(norm)
        })
}

/// `table := header_line EOL dash_line EOL (row EOL)*` (Format-Table, formats.md §4.3) with a
/// `Name` and a `Type` column. Cells are split on white space when the count matches the header,
/// else cut by the dash-run positions. Rows of the same name and type are one record.
fn table<'a>(st: &mut St<'a>, lines: &[Line<'a>], i: usize) -> Option<usize> {
    let h = lines.get(i)?;
    let dash = lines.get(i + 1)?;
    let names: Vec<&str> = h.text.split_whitespace().collect();
    let has = |c: &str| names.iter().any(|n| n.eq_ignore_ascii_case(c));
    if !is_dash_line(dash.text) || !has("Name") || !has("Type") {
        return None;
    }
    st.flush();
    let d: Vec<char> = dash.text.chars().collect();
    let run_start = |k: &usize| d.get(*k) == Some(&'-') && (*k == 0 || d.get(k - 1) == Some(&' '));
    let starts: Vec<usize> = (0..d.len()).filter(run_start).collect();
    let end = block_end(lines, i + 1, |t| !is_dash_line(t));
    for row in lines.get(i + 2..end).unwrap_or(&[]) {
        let mut cells: Vec<String> = row.text.split_whitespace().map(str::to_string).collect();
        if cells.len() != names.len() && starts.len() == names.len() {
            let chars: Vec<char> = row.text.chars().collect();
            let at = |k: usize| starts.get(k).map_or(chars.len(), |&s| s.min(chars.len()));
            let cell = |k: usize| chars.get(at(k)..at(k + 1).max(at(k))).unwrap_or(&[]).iter();
            cells = (0..starts.len())
                .map(|k| cell(k).collect::<String>().trim().to_string())
                .collect();
        }
        let get = |name: &str| {
            names
                .iter()
                .position(|n| n.eq_ignore_ascii_case(name))
                .and_then(|k| cells.get(k))
                .map(String::as_str)
                .filter(|v| !v.is_empty())
        };
        let (Some(name), Some(rtype)) = (get("Name"), get("Type")) else {
            st.diag(DiagLevel::Error, *row, "table row without name or type");
            continue;
        };
        if name.ends_with("...") || name.ends_with('…') {
            st.warn(*row, "name cut by Format-Table; the query is incomplete");
        }
        st.answer(RESOLVE, name, rtype, row_answer(&get), *row);
    }
    st.flush();
    Some(end)
}

#[cfg(test)]
#[path = "dns_tests.rs"]
mod tests;
