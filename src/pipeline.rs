//! The parallel driver: every file of the bundle through sniffing, decoding and its parser.
//!
//! Why this module exists: it is the only place that knows both the input layer and the parsers,
//! and the only place that decides what runs in parallel. Files are parsed on a rayon pool of the
//! configured size; large chunkable text files are split at record boundaries and their chunks
//! parsed in parallel, then merged back in input order with record numbers rebased. Results are
//! sorted by bundle path, so the output is identical for 1 and N threads and for mmap and read.
//!
//! Memory: a file's bytes are dropped as soon as it is parsed; the caller's `keep` predicate
//! decides which events stay in memory (the analysis keeps only what the catalog can use).

use crate::formats::skim::Skim;
use crate::formats::{self, Chunk, FileCtx};
use crate::input::{self, decode, sniff, InputConfig, InputFile, Kind};
use crate::model::{DiagLevel, Diagnostic, Event, Format, Parsed};
use chrono::{DateTime, Utc};
use rayon::prelude::*;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// Chunk size for parallel parsing of one large text file. 4 MiB keeps the chunk count low
/// enough that merge costs nothing measurable, and high enough to use both cores on a 20 MB log.
pub const DEFAULT_CHUNK_BYTES: usize = 4 << 20;

/// How to read and parse the inputs.
#[derive(Clone, Debug)]
pub struct ParseConfig {
    /// Worker threads; 0 means one per core.
    pub threads: usize,
    pub input: InputConfig,
    /// Target chunk size for splitting large text files.
    pub chunk_bytes: usize,
    /// Drop events before this time (events without a time are kept).
    pub since: Option<DateTime<Utc>>,
    /// Drop events after this time (events without a time are kept).
    pub until: Option<DateTime<Utc>>,
    /// The raw-text prefilter: records of the formats it covers are parsed only when they hold
    /// one of its literals (`analyze`); `None` parses every record (`events`, timelines).
    pub skim: Option<Arc<Skim>>,
}

impl Default for ParseConfig {
    fn default() -> Self {
        ParseConfig {
            threads: 0,
            input: InputConfig::default(),
            chunk_bytes: DEFAULT_CHUNK_BYTES,
            since: None,
            until: None,
            skim: None,
        }
    }
}

/// What the bundle held, file by file.
#[derive(Clone, Debug)]
pub struct FileInfo {
    pub path: Arc<str>,
    pub file_name: String,
    /// Folders between the bundle root and the file, outermost first.
    pub folders: Vec<String>,
    pub mtime: Option<DateTime<Utc>>,
    /// Recognised format, `None` when the file was skipped.
    pub format: Option<Format>,
    pub encoding: &'static str,
    pub bytes: u64,
    pub parsed: u64,
    pub rejected: u64,
    /// Records the prefilter counted but did not parse (no catalog literal in them).
    pub skipped: u64,
    /// Events outside `--since`/`--until`.
    pub filtered: u64,
}

/// Everything read from a bundle.
#[derive(Debug, Default)]
pub struct Bundle {
    /// Files sorted by path.
    pub files: Vec<FileInfo>,
    /// Kept events, in file order then record order.
    pub events: Vec<Event>,
    /// Input problems, sorted by path then position.
    pub diagnostics: Vec<Diagnostic>,
}

struct FileResult {
    info: FileInfo,
    events: Vec<Event>,
    diagnostics: Vec<Diagnostic>,
}

/// Called once per file after it is parsed (from worker threads, in no particular order), e.g. to
/// drive a progress bar. Never called per record, so it costs nothing measurable.
pub type Progress<'a> = &'a (dyn Fn(&FileInfo) + Sync);

/// Reads every input, parses it, and returns the kept events with per-file statistics.
pub fn load(
    paths: &[PathBuf],
    cfg: &ParseConfig,
    keep: &(dyn Fn(&Event) -> bool + Sync),
) -> Bundle {
    load_with_progress(paths, cfg, keep, &|_: &FileInfo| {})
}

/// [`load`], reporting each parsed file to `progress`.
pub fn load_with_progress(
    paths: &[PathBuf],
    cfg: &ParseConfig,
    keep: &(dyn Fn(&Event) -> bool + Sync),
    progress: Progress<'_>,
) -> Bundle {
    let run = || load_inner(paths, cfg, keep, progress);
    // Called from a rayon worker (`imtriage batch`: bundles in parallel on one pool of
    // `--threads`), the files share that pool instead of starting one pool per bundle.
    if rayon::current_thread_index().is_some() {
        return run();
    }
    match rayon::ThreadPoolBuilder::new()
        .num_threads(cfg.threads)
        .build()
    {
        Ok(pool) => pool.install(run),
        Err(_) => run(),
    }
}

fn load_inner(
    paths: &[PathBuf],
    cfg: &ParseConfig,
    keep: &(dyn Fn(&Event) -> bool + Sync),
    progress: Progress<'_>,
) -> Bundle {
    let mut diagnostics = Vec::new();
    let sources = input::discover(paths, &mut diagnostics);
    let results: Mutex<Vec<FileResult>> = Mutex::new(Vec::new());
    let source_diags: Vec<Vec<Diagnostic>> = sources
        .par_iter()
        .map(|source| {
            let sink = |file: InputFile| {
                let r = process_file(file, cfg, keep);
                progress(&r.info);
                if let Ok(mut v) = results.lock() {
                    v.push(r);
                }
            };
            input::visit(source, &cfg.input, &sink)
        })
        .collect();
    diagnostics.extend(source_diags.into_iter().flatten());
    let mut results = results.into_inner().unwrap_or_default();
    results.sort_by(|a, b| a.info.path.cmp(&b.info.path));
    let mut bundle = Bundle::default();
    for r in results {
        bundle.events.extend(r.events);
        diagnostics.extend(r.diagnostics);
        bundle.files.push(r.info);
    }
    diagnostics.sort_by(|a, b| {
        (&a.path, a.line, a.record, a.offset, &a.message)
            .cmp(&(&b.path, b.line, b.record, b.offset, &b.message))
    });
    bundle.diagnostics = diagnostics;
    bundle
}

/// Sniffs, decodes and parses one file.
fn process_file(
    file: InputFile,
    cfg: &ParseConfig,
    keep: &(dyn Fn(&Event) -> bool + Sync),
) -> FileResult {
    let ctx = FileCtx {
        path: file.path.clone(),
        file_name: file.file_name.clone(),
        mtime: file.mtime,
    };
    let mut info = FileInfo {
        path: file.path.clone(),
        file_name: file.file_name.clone(),
        folders: file.folders.clone(),
        mtime: file.mtime,
        format: None,
        encoding: "binary",
        bytes: file.data.len() as u64,
        parsed: 0,
        rejected: 0,
        skipped: 0,
        filtered: 0,
    };
    let bytes: &[u8] = &file.data;
    let mut diagnostics = Vec::new();
    let filtered = AtomicU64::new(0);
    let head = &bytes[..bytes.len().min(4096)];
    let parsed = match sniff::sniff_bytes(head) {
        Kind::Format(f) if matches!(f, Format::Evtx | Format::X509) => {
            info.format = Some(f);
            retain(formats::parse_binary(f, &ctx, bytes), cfg, keep, &filtered)
        }
        _ if decode::is_probably_binary(bytes) => {
            diagnostics.push(Diagnostic::file(
                DiagLevel::Warning,
                &ctx.path,
                "binary content that is not a supported format: file skipped",
            ));
            Parsed::default()
        }
        _ => {
            let decoded = decode::decode_with(bytes, &|b| file.data.utf8(b));
            info.encoding = decoded.encoding;
            if decoded.guessed {
                diagnostics.push(Diagnostic::file(
                    DiagLevel::Warning,
                    &ctx.path,
                    format!("text encoding guessed as {}", decoded.encoding),
                ));
            }
            let text: &str = &decoded.text;
            match sniff::sniff_text(text, &ctx.file_name) {
                Some(format) => {
                    info.format = Some(format);
                    // Filtered chunk by chunk: a large log never holds all its events at once.
                    let filter = |p: Parsed| retain(p, cfg, keep, &filtered);
                    // When the text is the mapped file itself (UTF-8), each parsed window of
                    // chunks gives its pages back, so a gigabyte trace is not held resident.
                    let base = (text.as_ptr() as usize)
                        .checked_sub(bytes.as_ptr() as usize)
                        .filter(|b| b.saturating_add(text.len()) <= bytes.len());
                    let release = |off: usize, len: usize| {
                        if let Some(b) = base {
                            file.data.release(b + off, len);
                        }
                    };
                    let skim = cfg.skim.as_deref();
                    let parse = |c: &Chunk<'_>| match skim {
                        Some(s) => filter(s.parse_chunk(format, &ctx, c)),
                        None => filter(formats::parse_text(format, &ctx, c)),
                    };
                    parse_chunks_windowed(format, text, cfg.chunk_bytes, &parse, &release)
                }
                None => {
                    if !text.trim().is_empty() {
                        diagnostics.push(Diagnostic::file(
                            DiagLevel::Info,
                            &ctx.path,
                            "not a recognised format: file skipped",
                        ));
                    }
                    Parsed::default()
                }
            }
        }
    };
    info.parsed = parsed.parsed;
    info.rejected = parsed.rejected;
    info.skipped = parsed.skipped;
    info.filtered = filtered.into_inner();
    diagnostics.extend(parsed.diagnostics);
    FileResult {
        info,
        events: parsed.events,
        diagnostics,
    }
}

/// Drops the events outside `--since`/`--until` (counted in `filtered`) and those `keep` refuses.
fn retain(
    mut p: Parsed,
    cfg: &ParseConfig,
    keep: &(dyn Fn(&Event) -> bool + Sync),
    count: &AtomicU64,
) -> Parsed {
    let mut filtered = 0;
    p.events.retain(|e| {
        let out_of_range = match e.time {
            Some(t) => cfg.since.is_some_and(|s| t < s) || cfg.until.is_some_and(|u| t > u),
            None => false,
        };
        filtered += u64::from(out_of_range);
        !out_of_range && keep(e)
    });
    count.fetch_add(filtered, Ordering::Relaxed);
    p
}

/// Parses a text file whole, or in parallel chunks when it is large and its format allows it.
pub fn parse_text_file(format: Format, ctx: &FileCtx, text: &str, chunk_bytes: usize) -> Parsed {
    let parse = |c: &Chunk<'_>| formats::parse_text(format, ctx, c);
    parse_chunks_windowed(format, text, chunk_bytes, &parse, &|_, _| {})
}

/// Splits `text` (when large and chunkable) and runs `parse` on each chunk, a window of chunks at
/// a time, releasing each parsed window; merges the results in order.
fn parse_chunks_windowed(
    format: Format,
    text: &str,
    chunk_bytes: usize,
    parse: &(dyn Fn(&Chunk<'_>) -> Parsed + Sync),
    release: &(dyn Fn(usize, usize) + Sync),
) -> Parsed {
    if !formats::is_chunkable(format) || text.len() <= chunk_bytes.saturating_mul(2) {
        return parse(&Chunk::whole(text));
    }
    // Finding the record boundaries reads the text: each chunk is let go once it is cut.
    let chunks = formats::split_releasing(format, text, chunk_bytes, release);
    let window = 2 * rayon::current_num_threads().max(1);
    let mut parts: Vec<Parsed> = Vec::with_capacity(chunks.len());
    for w in chunks.chunks(window) {
        let done: Vec<Parsed> = w.par_iter().map(parse).collect();
        parts.extend(done);
        if let (Some(first), Some(last)) = (w.first(), w.last()) {
            let start = first.offset as usize;
            let end = last.offset as usize + last.text.len();
            release(start, end.saturating_sub(start));
        }
    }
    merge_chunks(parts)
}

/// Merges chunk results in order, rebasing record numbers so they count from the file start.
pub fn merge_chunks(parts: Vec<Parsed>) -> Parsed {
    let mut out = Parsed::default();
    let mut base = 0u64;
    for mut p in parts {
        p.renumber(base);
        base += p.parsed + p.rejected + p.skipped;
        out.append(p);
    }
    out
}
