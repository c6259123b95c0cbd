//! Catalog signals compiled into matchers that test one event at a time.
//!
//! Why this module exists: the catalog is data (strings and regexes); matching must not re-parse
//! it per event. Compiling once also fixes the matching conventions of causes.md in one place:
//! names compared case-insensitively with white space collapsed, event identity as (channel,
//! provider, EventID & 0xFFFF), never the description's prose for identity.

use super::catalog::{Catalog, PropCond, Role, SignalSpec, SipSource};
use super::record_text;
use crate::formats::skim::Skim;
use crate::model::{Body, Event, Format, Value, WinEvent};
use regex::Regex;

enum Compiled {
    Event {
        channel: Option<String>,
        provider: Option<String>,
        ids: Vec<u32>,
        text: Option<Regex>,
    },
    Sip {
        client: bool,
        codes: Vec<String>,
        diagnostics: Vec<u32>,
        text: Option<Regex>,
    },
    Monitor {
        re: Option<Regex>,
        ids: Vec<u32>,
    },
    Text(Option<Regex>),
    Object {
        commands: Vec<String>,
        conds: Vec<(String, Cond)>,
    },
    Fact,
}

enum Cond {
    Equals(String),
    Matches(Option<Regex>),
    Empty(bool),
}

/// The compiled signals of one cause, in catalog order.
pub struct CauseMatchers {
    signals: Vec<Compiled>,
    contradicting: Vec<usize>,
}

fn norm(s: &str) -> String {
    s.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_ascii_lowercase()
}

fn ci(re: &str) -> Option<Regex> {
    Regex::new(&format!("(?i){re}")).ok()
}

fn compile_signal(s: &SignalSpec) -> Compiled {
    if let Some(e) = &s.event {
        return Compiled::Event {
            channel: e.channel.as_deref().map(norm),
            provider: e.provider.as_deref().map(norm),
            ids: e.ids.clone(),
            text: e.text.as_deref().and_then(ci),
        };
    }
    if let Some(m) = &s.sip {
        return Compiled::Sip {
            client: m.source == SipSource::Client,
            codes: m
                .codes
                .iter()
                .map(|c| c.to_ascii_uppercase().replacen("0X", "0x", 1))
                .collect(),
            diagnostics: m.diagnostics.clone(),
            text: m.text.as_deref().and_then(ci),
        };
    }
    if let Some(m) = &s.monitor {
        return Compiled::Monitor {
            re: ci(&m.monitor),
            ids: m.ids.clone(),
        };
    }
    if let Some(t) = &s.text {
        return Compiled::Text(ci(t));
    }
    if let Some(o) = &s.object {
        let conds = o
            .conditions
            .iter()
            .map(|c: &PropCond| {
                let cond = if let Some(v) = &c.equals {
                    Cond::Equals(norm(v))
                } else if let Some(re) = &c.matches {
                    Cond::Matches(ci(re))
                } else {
                    Cond::Empty(c.empty.unwrap_or(true))
                };
                (c.property.clone(), cond)
            })
            .collect();
        return Compiled::Object {
            commands: o.commands.iter().map(|c| c.to_ascii_lowercase()).collect(),
            conds,
        };
    }
    Compiled::Fact
}

/// Compiles every cause of the catalog, in the catalog's (id) order.
pub fn compile(catalog: &Catalog) -> Vec<CauseMatchers> {
    catalog
        .causes
        .values()
        .map(|c| CauseMatchers {
            signals: c.signals.iter().map(compile_signal).collect(),
            contradicting: c
                .signals
                .iter()
                .enumerate()
                .filter(|(_, s)| s.role == Role::Contradicting)
                .map(|(i, _)| i)
                .collect(),
        })
        .collect()
}

/// Everything a SIP matcher's text regex searches: text, fields, headers, codes and the
/// attributes of the ms-diagnostics headers.
fn sip_text(s: &crate::model::SipRecord) -> String {
    let mut out = String::new();
    let mut push = |v: &str| {
        out.push_str(v);
        out.push(' ');
    };
    push(&s.text);
    for (_, v) in s.fields.0.iter().chain(s.headers.0.iter()) {
        if let Some(t) = v.as_text() {
            push(t);
        }
    }
    for c in &s.codes {
        push(c);
    }
    for d in &s.diagnostics {
        for (_, v) in &d.attrs {
            push(v);
        }
    }
    out
}

/// `SIP/2.0 4xx|5xx|6xx …`.
fn is_failure_response(start: &str) -> bool {
    start
        .strip_prefix("SIP/2.0 ")
        .and_then(|r| r.chars().next())
        .is_some_and(|c| matches!(c, '4' | '5' | '6'))
}

fn is_ma(w: &WinEvent) -> bool {
    w.channel
        .to_ascii_lowercase()
        .contains("managedavailability")
        || w.provider.eq_ignore_ascii_case("ManagedAvailability")
}

impl CauseMatchers {
    /// Whether signal `si` matches the event (facts never match single events). `text` is the
    /// event's [`record_text`], computed once per event by the caller.
    pub fn matches(&self, si: usize, e: &Event, text: &str) -> bool {
        let Some(sig) = self.signals.get(si) else {
            return false;
        };
        match sig {
            Compiled::Event {
                channel,
                provider,
                ids,
                text: re_text,
            } => match &e.body {
                Body::WinEvent(w) => {
                    ids.contains(&w.event_id)
                        && provider.as_ref().is_none_or(|p| norm(&w.provider) == *p)
                        && channel
                            .as_ref()
                            .is_none_or(|c| w.channel.is_empty() || norm(&w.channel) == *c)
                        && re_text.as_ref().is_none_or(|re| re.is_match(text))
                }
                _ => false,
            },
            Compiled::Sip {
                client,
                codes,
                diagnostics,
                text,
            } => match &e.body {
                Body::Sip(s) if (s.kind == "client") == *client => {
                    let code_hit = s.codes.iter().any(|rc| {
                        codes
                            .iter()
                            .any(|c| rc.get(..10).is_some_and(|p| p.eq_ignore_ascii_case(c)))
                    });
                    let diag_hit = s.diagnostics.iter().any(|d| diagnostics.contains(&d.code));
                    // Codes and ms-diagnostics ids are alternatives when both are given.
                    let id_ok = match (codes.is_empty(), diagnostics.is_empty()) {
                        (true, true) => true,
                        (false, true) => code_hit,
                        (true, false) => diag_hit,
                        (false, false) => code_hit || diag_hit,
                    };
                    id_ok && text.as_ref().is_none_or(|re| re.is_match(&sip_text(s)))
                }
                _ => false,
            },
            Compiled::Monitor { re, ids } => match (&e.body, re) {
                (Body::WinEvent(w), Some(re)) if is_ma(w) && ids.contains(&w.event_id) => {
                    let named = w.named("Monitor").or(w.named("Subject"));
                    named.is_some_and(|m| re.is_match(m))
                        || w.description.as_deref().is_some_and(|d| re.is_match(d))
                }
                _ => false,
            },
            Compiled::Text(Some(re)) => {
                // A record that is itself a recovery signal of this cause never counts as a failure.
                if self
                    .contradicting
                    .iter()
                    .any(|c| *c != si && self.matches(*c, e, text))
                {
                    return false;
                }
                !text.is_empty() && re.is_match(text)
            }
            Compiled::Object { commands, conds } => match &e.body {
                Body::Object {
                    command: Some(cmd),
                    props,
                    ..
                } if commands.contains(&cmd.to_ascii_lowercase()) => {
                    conds.iter().all(|(name, cond)| {
                        let v = props.get(name);
                        match cond {
                            Cond::Empty(want) => v.is_none_or(Value::is_empty) == *want,
                            Cond::Equals(want) => {
                                v.and_then(Value::as_text).is_some_and(|t| norm(t) == *want)
                            }
                            Cond::Matches(Some(re)) => {
                                v.is_some_and(|v| v.items().iter().any(|t| re.is_match(t)))
                            }
                            Cond::Matches(None) => false,
                        }
                    })
                }
                _ => false,
            },
            Compiled::Text(None) | Compiled::Fact => false,
        }
    }
}

/// Decides which parsed events the analysis keeps in memory: every configuration record, and the
/// events and log rows that some signal of the catalog could match. Everything else is counted by
/// the pipeline and dropped, which keeps memory flat on gigabyte logs.
pub struct Prefilter {
    providers: Vec<String>,
    /// Event ids of signals that name no provider (kept whatever the provider).
    bare_ids: Vec<u32>,
    /// Result codes (`0xXXXXXXXX`) and ms-diagnostics ids the catalog's SIP signals read.
    sip_codes: Vec<String>,
    sip_diagnostics: Vec<u32>,
    text: TextSet,
    /// The word groups behind `text`'s literal prefilter (`None`: some regex has none).
    groups: Option<Vec<Vec<String>>>,
}

/// The `text` regexes of the catalog as one set, behind a literal prefilter: words that every
/// match of some regex contains (ASCII, any case, aho-corasick), so a record text holding none of
/// them skips the regex set. No prefilter (`None`) when a regex has no such literal.
struct TextSet {
    set: regex::RegexSet,
    needles: Option<aho_corasick::AhoCorasick>,
}

impl TextSet {
    /// Same answer as `set.is_match(&record_text(e))`, without building the collapsed text when no
    /// raw part of the record holds a needle (a word has no white space, so it is in the
    /// collapsed text exactly when it is in a part).
    fn is_match_event(&self, e: &Event) -> bool {
        // Non-ASCII text always runs the set: Unicode case folding could match an ASCII word with
        // a non-ASCII letter (`K` / KELVIN SIGN).
        if let Some(ac) = &self.needles {
            let parts = super::record_parts(e);
            if parts.iter().all(|p| p.is_ascii() && !ac.is_match(*p)) {
                return false;
            }
        }
        self.set.is_match(&record_text(e))
    }
}

/// The literals every match of `re` starts (or ends) with, from regex-syntax's extractor.
pub fn regex_literals(re: &str) -> Option<Vec<String>> {
    use regex_syntax::hir::literal::{ExtractKind, Extractor};
    let hir = regex_syntax::ParserBuilder::new().build().parse(re).ok()?;
    [ExtractKind::Prefix, ExtractKind::Suffix]
        .into_iter()
        .find_map(|kind| {
            let seq = Extractor::new().kind(kind).limit_total(250).extract(&hir);
            let v: Vec<String> = seq
                .literals()?
                .iter()
                .map(|l| String::from_utf8_lossy(l.as_bytes()).into_owned())
                .collect();
            (!v.is_empty() && v.iter().all(|s| s.trim().len() >= 3)).then_some(v)
        })
}

/// One white-space-free ASCII word of each literal of each regex (the longest), or `None` when a
/// regex has no usable literal. A match of the regex in [`record_text`] (white space collapsed)
/// contains the word, so a record text that contains no word cannot match.
fn needle_words(patterns: &[&str]) -> Option<Vec<String>> {
    let mut words: Vec<String> = needle_groups(patterns)?
        .into_iter()
        .filter_map(|g| g.into_iter().max_by_key(String::len))
        .collect();
    words.sort();
    words.dedup();
    Some(words)
}

/// The white-space-free words of each literal of each regex (ASCII), or `None` when a regex has
/// no usable literal. A match of the regex in [`record_text`] holds every word of one group.
fn needle_groups(patterns: &[&str]) -> Option<Vec<Vec<String>>> {
    let mut groups = Vec::new();
    for p in patterns {
        for lit in regex_literals(p)? {
            let g: Vec<String> = lit.split_whitespace().map(str::to_string).collect();
            if g.is_empty() || !g.iter().all(|w| w.is_ascii()) {
                return None;
            }
            groups.push(g);
        }
    }
    groups.sort();
    groups.dedup();
    Some(groups)
}

impl Prefilter {
    pub fn new(catalog: &Catalog) -> Prefilter {
        let mut providers = Vec::new();
        let mut bare_ids = Vec::new();
        let mut patterns = Vec::new();
        let mut raw: Vec<&str> = Vec::new();
        for s in catalog.causes.values().flat_map(|c| c.signals.iter()) {
            if let Some(e) = &s.event {
                match e.provider.as_deref() {
                    Some(p) => providers.push(norm(p)),
                    None => bare_ids.extend(e.ids.iter().copied()),
                }
            }
            if let Some(t) = &s.text {
                patterns.push(format!("(?i){t}"));
                raw.push(t);
            }
        }
        let groups = needle_groups(&raw);
        let needles = needle_words(&raw).and_then(|w| {
            aho_corasick::AhoCorasick::builder()
                .ascii_case_insensitive(true)
                .build(w)
                .ok()
        });
        // Events that facts read rather than signals (the known-server table of lync.rs).
        bare_ids.extend(super::lync::FACT_EVENT_IDS);
        providers.sort();
        providers.dedup();
        bare_ids.sort_unstable();
        bare_ids.dedup();
        let text = regex::RegexSet::new(&patterns).unwrap_or_else(|_| regex::RegexSet::empty());
        let sips = catalog
            .causes
            .values()
            .flat_map(|c| c.signals.iter())
            .filter_map(|s| s.sip.as_ref());
        let mut sip_codes: Vec<String> = Vec::new();
        let mut sip_diagnostics: Vec<u32> = Vec::new();
        for m in sips {
            sip_codes.extend(
                m.codes
                    .iter()
                    .map(|c| c.to_ascii_uppercase().replacen("0X", "0x", 1)),
            );
            sip_diagnostics.extend(m.diagnostics.iter().copied());
        }
        sip_codes.sort();
        sip_codes.dedup();
        sip_diagnostics.sort_unstable();
        sip_diagnostics.dedup();
        Prefilter {
            providers,
            bare_ids,
            sip_codes,
            sip_diagnostics,
            text: TextSet { set: text, needles },
            groups,
        }
    }

    /// The raw-text prefilter of `analyze` ([`crate::formats::skim`]): per skimmable format, the
    /// literals of which every record [`Prefilter::keep`] accepts holds one (or a header line in
    /// effect for it does, or it is not ASCII). Derived arm by arm from `keep`; checked by
    /// `tests/it/skim.rs` (kept events equal with and without it). Empty when a `text` regex has
    /// no literal: then nothing is skimmed.
    pub fn skim(&self) -> Skim {
        let Some(groups) = &self.groups else {
            return Skim::default();
        };
        // A needle with spaces is a group: every word of it must be in the record.
        let with = |extra: &[&str]| -> Vec<String> {
            let mut v: Vec<String> = groups.iter().map(|g| g.join(" ")).collect();
            v.extend(extra.iter().map(|s| s.to_string()));
            v
        };
        let words = || groups.iter().flatten();
        let mut per_format = Vec::new();
        // Body::Sip: a result code comes only from `0x` + its 8 hex digits as written, from a
        // value after `result` / `HRESULT`, or from a `*_E_*` symbol (msdiag `Codes::add`), so a
        // record holding a catalog code holds the code itself, `esult` or `_e_`; ms-diagnostics
        // ids and failure responses need a `*diagnostics` header; `lync::is_relevant_sip` reads
        // the Front End's "not a configured server" text.
        let mut sip = with(&["esult", "_e_", "diagnostics", super::lync::NOT_CONFIGURED]);
        sip.extend(
            self.sip_codes
                .iter()
                .map(|c| c.get(..10).unwrap_or(c).to_string()),
        );
        per_format.push((Format::SipStack, sip));
        // Body::LogRow: cisco log types do not come from Exchange logs, but the `#Log-type:`
        // (EWS) and `#Fields:` (SoapAction) header lines decide for whole files.
        if words().all(|w| !w.contains('"')) {
            per_format.push((Format::ExchangeLog, with(&["ews", "soapaction", "cisco-"])));
        }
        // Body::WinEvent: providers (each word of the name), bare ids as the EventID element's
        // digits, Managed Availability by channel or provider; `&#` for character references
        // that could spell a word.
        if words().all(|w| !w.contains(['&', '<', '>', '"', '\''])) {
            let mut v = with(&["managedavailability", "&#"]);
            v.extend(self.providers.iter().cloned());
            v.extend(self.bare_ids.iter().map(u32::to_string));
            per_format.push((Format::EventXml, v));
        }
        Skim::new(&per_format)
    }

    /// Whether some `text` signal can match the record: `text.is_match(&record_text(e))`, faster
    /// (measured 5.1 s → 3.7 s for `analyze` on the 200 MB benchmark bundle). The `keep` arms
    /// should call this instead of building the text.
    pub fn text_may_match(&self, e: &Event) -> bool {
        self.text.is_match_event(e)
    }

    pub fn keep(&self, e: &Event) -> bool {
        match &e.body {
            Body::WinEvent(w) => {
                is_ma(w)
                    || self.providers.contains(&norm(&w.provider))
                    || self.bare_ids.binary_search(&w.event_id).is_ok()
                    || self.text_may_match(e)
            }
            // Cisco traces and EWS outcomes feed section D facts (Presence Engine starts, changes,
            // 401/200 sequences), so they are kept whole; other logs only when a signal can match.
            Body::LogRow { log_type, fields } => {
                super::cisco::is_relevant(e)
                    || log_type.to_ascii_lowercase().contains("ews")
                    || fields.get("SoapAction").is_some()
                    || self.text_may_match(e)
            }
            // Traces are large: keep the records that can carry a failure or a version, not every
            // successful SIP exchange.
            // A successful SIP exchange is dropped even when its `Server: RTC/x.y` header names the
            // pool's version: keeping them all held most of a gigabyte trace in memory. The pool
            // version comes from Get-CsServerVersion, or from the failure responses kept here.
            Body::Sip(s) => {
                s.codes.iter().any(|c| {
                    c.get(..10)
                        .is_some_and(|h| self.sip_codes.iter().any(|k| k.eq_ignore_ascii_case(h)))
                }) || s
                    .diagnostics
                    .iter()
                    .any(|d| self.sip_diagnostics.contains(&d.code))
                    || (s.start_line.as_deref().is_some_and(is_failure_response)
                        && !s.diagnostics.is_empty())
                    || super::lync::is_relevant_sip(s)
                    || self.text_may_match(e)
            }
            Body::Object { .. }
            | Body::AppSettings { .. }
            | Body::RegistryKey { .. }
            | Body::Dns(_) => true,
        }
    }
}
