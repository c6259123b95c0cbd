//! The raw-text prefilter ("skim") behind `imtriage analyze` on large logs.
//!
//! Why this module exists: most records of a gigabyte SIPStack trace, Exchange log or event
//! export are healthy traffic that no cause of the catalog reads, and building an [`Event`] for
//! each of them cost ~95% of the analysis time. The skim finds record boundaries with the same
//! rules as the parsers (`memchr`/`memmem` jumps, no per-record allocation), looks for the
//! catalog's literals in the raw text with one case-insensitive Aho-Corasick automaton, and
//! hands only the *candidate* records, grouped into runs, to the format's own `parse_chunk`.
//!
//! Contract (checked by `tests/it/skim.rs` over every sample, fixture and the real data): the
//! caller (the classify stage, which knows the catalog) supplies per format literals such that
//! every record its `keep` predicate accepts contains one of them, or a header line in effect
//! for it does, or the record is not ASCII. Then the kept events are identical to those of a full
//! parse. Records outside the candidates are counted in [`Parsed::skipped`]: they are present
//! and numbered, but neither turned into events nor validated (`imtriage events` validates every
//! record). Record numbers, line numbers and offsets of parsed records are the full parse's.
//!
//! [`Event`]: crate::model::Event

use super::{eventxml, exlog, Chunk, FileCtx};
use crate::model::{Format, Parsed};
use aho_corasick::AhoCorasick;

/// The prefilter: one automaton per format it covers.
#[derive(Clone, Debug, Default)]
pub struct Skim {
    by_format: Vec<(Format, Finder)>,
}

/// Lowercase needles searched in lowercased text: case-insensitive for ASCII, and fast because
/// the case-sensitive SIMD searcher (Teddy, the one `rg -F` uses) applies; measured on a 67 MB
/// SIPStack trace: 2.0 GB/s against 0.49 GB/s for `ascii_case_insensitive` Aho-Corasick.
///
/// A needle with spaces is a group of words that must all be in the record: the longest is
/// searched, the others are confirmed in the records where it occurs.
#[derive(Clone, Debug)]
struct Finder {
    packed: Option<aho_corasick::packed::Searcher>,
    /// Fallback when Teddy is not available (no SSSE3, too many needles).
    ac: AhoCorasick,
    longest: usize,
    /// Per searched word: the other words of each group it was chosen for (lowercase); an
    /// empty alternative means the word alone is enough.
    others: Vec<Vec<Vec<memchr::memmem::Finder<'static>>>>,
}

/// A needle occurrence: `(start, end, pattern)`.
type Hit = (usize, usize, usize);

/// Bytes lowercased and searched at a time (stays in L2 cache).
const BLOCK: usize = 64 << 10;

impl Finder {
    fn new(needles: &[String]) -> Option<Finder> {
        // Each distinct word is searched once (fewer patterns keep Teddy fast).
        let mut searched: Vec<String> = Vec::new();
        let mut others: Vec<Vec<Vec<memchr::memmem::Finder<'static>>>> = Vec::new();
        for n in needles {
            let mut words: Vec<String> = n
                .split(' ')
                .filter(|w| !w.is_empty())
                .map(str::to_ascii_lowercase)
                .collect();
            let (i, _) = words.iter().enumerate().max_by_key(|(_, w)| w.len())?;
            let word = words.swap_remove(i);
            let rest: Vec<memchr::memmem::Finder<'static>> = words
                .iter()
                .map(|w| memchr::memmem::Finder::new(w.as_bytes()).into_owned())
                .collect();
            match searched.iter().position(|w| *w == word) {
                Some(k) => others.get_mut(k)?.push(rest),
                None => {
                    searched.push(word);
                    others.push(vec![rest]);
                }
            }
        }
        Some(Finder {
            packed: aho_corasick::packed::Searcher::new(searched.iter()),
            ac: AhoCorasick::new(&searched).ok()?,
            longest: searched.iter().map(String::len).max()?,
            others,
        })
    }

    /// Whether the group of `pattern` is complete in `span` (plus `extra`, the lowercased header text in
    /// effect, whose values an Exchange log row carries).
    fn confirm(&self, pattern: usize, span: &[u8], extra: &str) -> bool {
        let Some(groups) = self.others.get(pattern) else {
            return false;
        };
        if groups.iter().any(Vec::is_empty) {
            return true;
        }
        let lower = span.to_ascii_lowercase();
        groups.iter().any(|g| {
            g.iter()
                .all(|w| w.find(&lower).is_some() || w.find(extra.as_bytes()).is_some())
        })
    }

    /// `(start, end)` of needle occurrences in `bytes`, in order, any case. Overlapping
    /// occurrences may be reported once: every byte range that holds a needle overlaps a
    /// reported one (enough to tell which records hold one).
    fn hits(&self, bytes: &[u8], out: &mut Vec<Hit>) {
        let overlap = self.longest.saturating_sub(1);
        let mut buf: Vec<u8> = Vec::with_capacity(BLOCK + overlap);
        let mut start = 0usize;
        while start < bytes.len() {
            let end = start.saturating_add(BLOCK + overlap).min(bytes.len());
            // Sized first, then a plain loop: the compiler vectorises it (`extend` does not).
            let src = bytes.get(start..end).unwrap_or_default();
            buf.resize(src.len(), 0);
            for (d, &c) in buf.iter_mut().zip(src) {
                *d = c | (u8::from(c.is_ascii_uppercase()) << 5);
            }
            let mut push = |s: usize, e: usize, p: usize| {
                // A match starting in the overlap is found again by the next block.
                let keep = s < BLOCK || end == bytes.len();
                if keep {
                    out.push((start + s, start + e, p));
                }
                keep
            };
            match &self.packed {
                Some(p) => {
                    for m in p.find_iter(&buf) {
                        if !push(m.start(), m.end(), m.pattern().as_usize()) {
                            break;
                        }
                    }
                }
                None => {
                    for m in self.ac.find_iter(&buf) {
                        if !push(m.start(), m.end(), m.pattern().as_usize()) {
                            break;
                        }
                    }
                }
            }
            start += BLOCK;
        }
    }

    fn is_match(&self, text: &str) -> bool {
        let lower = text.to_ascii_lowercase();
        self.ac
            .find_overlapping_iter(&lower)
            .any(|m| self.confirm(m.pattern().as_usize(), lower.as_bytes(), ""))
    }
}

/// A place where a record (or an Exchange log `#` line) starts in a chunk's text.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Mark {
    pub pos: usize,
    /// A `#` header line (Exchange logs) or the bare header row at file position 0: not a
    /// record, but it changes the state the records after it are parsed with.
    pub meta: bool,
}

/// The formats whose record boundaries the skim knows.
pub const SKIMMABLE: [Format; 3] = [Format::SipStack, Format::ExchangeLog, Format::EventXml];

impl Skim {
    /// `needles`: per format, ASCII literals matched case-insensitively. Formats not listed (or
    /// not in [`SKIMMABLE`], or with no needle) are always parsed whole.
    pub fn new(needles: &[(Format, Vec<String>)]) -> Skim {
        let by_format = needles
            .iter()
            .filter(|(f, n)| SKIMMABLE.contains(f) && !n.is_empty())
            .filter_map(|(f, n)| Some((*f, Finder::new(n)?)))
            .collect();
        Skim { by_format }
    }

    /// Whether records of `format` are skimmed.
    pub fn covers(&self, format: Format) -> bool {
        self.by_format.iter().any(|(f, _)| *f == format)
    }

    /// Parses the candidate records of `chunk` (all of it when the format is not covered).
    pub fn parse_chunk(&self, format: Format, ctx: &FileCtx, chunk: &Chunk<'_>) -> Parsed {
        let Some((_, ac)) = self.by_format.iter().find(|(f, _)| *f == format) else {
            return super::parse_text(format, ctx, chunk);
        };
        let text = chunk.text;
        let bytes = text.as_bytes();
        let marks = marks(format, chunk);
        let all_ascii = text.is_ascii();
        let mut hits: Vec<Hit> = Vec::new();
        ac.hits(bytes, &mut hits);
        let mut h = 0usize; // first hit that may still touch the current record
                            // An Exchange log header line in effect that holds a needle (`#Log-type: EWS Logs`, a
                            // `SoapAction` column) makes every record under it a candidate.
        let mut header = exlog::HeaderTracker::new(&chunk.header);
        let mut header_text = header.render();
        let mut header_lower = header_text.to_ascii_lowercase();
        let mut all = ac.is_match(&chunk.header);

        let mut out = Parsed::default();
        let mut run: Option<(usize, u64, String)> = None; // (start, record base, header)
        let mut records = 0u64; // records before the current position in this chunk
        let mut line = chunk.line; // line of `counted`
        let mut counted = 0usize;
        let mut line_at = |pos: usize| {
            line += super::count_line_ends(bytes.get(counted..pos).unwrap_or_default());
            counted = pos;
            line
        };
        let mut flush = |run: &mut Option<(usize, u64, String)>, end: usize, out: &mut Parsed| {
            if let Some((start, base, header)) = run.take() {
                let sub = Chunk {
                    text: text.get(start..end).unwrap_or(""),
                    line: line_at(start),
                    offset: chunk.offset + start as u64,
                    header,
                };
                let mut p = super::parse_text(format, ctx, &sub);
                p.renumber(base);
                out.append(p);
            }
        };
        // Text before the first mark (stray lines of a trace): parsed for its diagnostics. An
        // event export's XML declaration holds nothing, unless the text has no event at all.
        let first = marks.first().map_or(text.len(), |m| m.pos);
        if first > 0 && (format != Format::EventXml || marks.is_empty()) {
            run = Some((0, 0, chunk.header.clone()));
        }
        for (i, m) in marks.iter().enumerate() {
            let end = marks.get(i + 1).map_or(text.len(), |n| n.pos);
            // Hits that end before this span cannot matter any more.
            while hits.get(h).is_some_and(|&(_, e, _)| e <= m.pos) {
                h += 1;
            }
            let span = bytes.get(m.pos..end).unwrap_or_default();
            let mut touching = hits.iter().skip(h).take_while(|&&(s, _, _)| s < end);
            let hit = touching.any(|&(_, e, p)| e > m.pos && ac.confirm(p, span, &header_lower));
            if m.meta {
                // A header line stays inside an open run (the parser reads it there); the
                // tracker gives later runs the state it leaves.
                header.note(text.get(m.pos..end).unwrap_or(""));
                header_text = header.render();
                header_lower = header_text.to_ascii_lowercase();
                all |= hit;
                continue;
            }
            if all || hit || (!all_ascii && !span.is_ascii()) {
                if run.is_none() {
                    run = Some((m.pos, records, header_text.clone()));
                }
            } else {
                flush(&mut run, m.pos, &mut out);
                out.skipped += 1;
            }
            records += 1;
        }
        flush(&mut run, text.len(), &mut out);
        out
    }
}

/// Record (and header line) starts of a chunk, by the parser's own rules.
pub(crate) fn marks(format: Format, chunk: &Chunk<'_>) -> Vec<Mark> {
    let text = chunk.text;
    let mut out = Vec::new();
    match format {
        Format::SipStack => {
            // `header_like` lines: every line the parser starts a record at.
            let bytes = text.as_bytes();
            for p in memchr::memmem::find_iter(bytes, b"TL_") {
                let at_line_start = p == 0 || matches!(bytes.get(p - 1), Some(b'\n' | b'\r'));
                if !at_line_start {
                    continue;
                }
                // `sipstack::header_like` on the bytes: no need to find the line's end first.
                let rest = bytes.get(p + 3..).unwrap_or_default();
                let n = rest.iter().take_while(|c| c.is_ascii_uppercase()).count();
                if n > 0 && matches!(rest.get(n), None | Some(b'(' | b'\n' | b'\r')) {
                    out.push(Mark {
                        pos: p,
                        meta: false,
                    });
                }
            }
        }
        Format::EventXml => {
            let mut pos = 0;
            while let Some(s) = eventxml::find_event_start(text, pos) {
                out.push(Mark {
                    pos: s,
                    meta: false,
                });
                pos = s + 1;
            }
        }
        Format::ExchangeLog => exlog::marks(chunk, &mut out),
        _ => {}
    }
    out
}

#[cfg(test)]
#[path = "skim_tests.rs"]
mod tests;
