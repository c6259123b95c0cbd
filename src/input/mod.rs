//! Stage 1: find the files of a bundle, open archives in place, decode text, recognise formats.
//!
//! Why this module exists: a support bundle is a folder, a zip, a `.tar.gz` or a mixture nested
//! several levels deep. Everything after this stage wants one thing: each leaf file's bytes with a
//! stable display path (`bundle.zip!MBX01/Logs/x.evtx`), the folders it sat in (for per-server
//! attribution, formats.md §10.2) and a time hint. This module hides how the bytes were obtained
//! (read, memory-mapped, inflated from a zip / gzip / tar member without ever extracting to disk)
//! and enforces the safety limits of §10.1 (path traversal, links, nesting depth, zip bombs): every
//! refusal or damage is a [`Diagnostic`], never an abort.
//!
//! - [`discover`] expands command-line paths into [`Source`]s (one per file on disk, folders walked
//!   in sorted order, symlinked folders not followed).
//! - [`visit`] opens one source and hands every leaf file to a callback, possibly from several
//!   threads (zip members are read in parallel).
//! - [`decode`] turns bytes into text (§0.4); [`sniff`] recognises formats (§0.3).

use crate::model::{DiagLevel, Diagnostic, Format};
use chrono::{DateTime, Utc};
use std::fs::{self, File};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub mod archive;
pub mod decode;
pub mod mmap;
pub mod sniff;

#[cfg(test)]
mod tests;

/// Limits and choices for reading inputs.
#[derive(Clone, Debug)]
pub struct InputConfig {
    /// Memory-map files on disk instead of reading them (falls back to read on failure).
    pub mmap: bool,
    /// Maximum nesting of archives inside archives (a zip in a zip is depth 2).
    pub max_depth: u32,
    /// Largest archive member inflated into memory, in bytes.
    pub max_member_bytes: u64,
    /// Largest total inflated size per top-level archive, in bytes.
    pub max_archive_bytes: u64,
    /// Largest compression ratio accepted for one member (zip-bomb guard), checked once a member
    /// has inflated past 1 MiB.
    pub max_ratio: u64,
}

impl Default for InputConfig {
    fn default() -> Self {
        InputConfig {
            mmap: true,
            max_depth: 4,
            max_member_bytes: 4 << 30,
            max_archive_bytes: 64 << 30,
            max_ratio: 200,
        }
    }
}

/// The bytes of one file: memory-mapped or owned.
pub enum Data {
    /// Read into memory, or inflated from an archive member.
    Owned(Vec<u8>),
    /// A file on disk mapped read-only (see [`mmap::map`]).
    Mapped(memmap2::Mmap),
}

impl Data {
    /// `part` (a slice of this data) as UTF-8 text, `None` when it is not valid UTF-8. A large
    /// mapped part is checked window by window, each window's pages released once checked
    /// ([`mmap::utf8`]), so the check does not hold a gigabyte file resident.
    pub fn utf8<'a>(&'a self, part: &'a [u8]) -> Option<&'a str> {
        const WINDOWED_FROM: usize = 32 << 20;
        if let Data::Mapped(m) = self {
            let offset = (part.as_ptr() as usize).checked_sub(m.as_ptr() as usize);
            if let Some(off) = offset.filter(|o| o.saturating_add(part.len()) <= m.len()) {
                if part.len() >= WINDOWED_FROM {
                    return mmap::utf8(m, off, part.len());
                }
            }
        }
        std::str::from_utf8(part).ok()
    }

    /// Lets the memory behind `offset..offset + len` go (mapped files only; see [`mmap::release`]).
    pub fn release(&self, offset: usize, len: usize) {
        if let Data::Mapped(m) = self {
            mmap::release(m, offset, len);
        }
    }
}

impl std::ops::Deref for Data {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            Data::Owned(v) => v,
            Data::Mapped(m) => m,
        }
    }
}

impl std::fmt::Debug for Data {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match self {
            Data::Owned(_) => "Owned",
            Data::Mapped(_) => "Mapped",
        };
        write!(f, "Data::{kind}({} bytes)", self.len())
    }
}

/// One file of the bundle, with its bytes.
#[derive(Debug)]
pub struct InputFile {
    /// Display path inside the bundle (`bundle.zip!MBX01/Application.evtx`), `/` separated.
    pub path: Arc<str>,
    /// Leaf file name.
    pub file_name: String,
    /// Folder names between the bundle root and the file (inside archives too), outermost first;
    /// archive file names are not folders.
    pub folders: Vec<String>,
    /// Disk mtime; zip DOS time (local wall clock stored as UTC); tar mtime (UTC); a gzip member
    /// inherits its `.gz` file's time.
    pub mtime: Option<DateTime<Utc>>,
    pub data: Data,
}

/// A top-level thing to read: one file on disk, given on the command line or found in a folder
/// given on the command line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Source {
    /// Where the file is on disk.
    pub path: PathBuf,
    /// Display path: the file name for a file argument (`bundle.zip`), the folder argument's own
    /// name followed by the path inside it for a file found in a folder (`b1/MBX01/x.evtx`).
    pub display: String,
    /// Folders between the folder argument and the file (`["MBX01"]`), outermost first.
    pub folders: Vec<String>,
    /// Size on disk when discovered (for scheduling the largest first).
    pub size: u64,
}

impl Source {
    /// A source for one file given directly (display = its file name, no folders).
    pub fn new(path: impl Into<PathBuf>) -> Source {
        let path = path.into();
        let display = leaf_name(&path);
        let size = fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
        Source {
            path,
            display,
            folders: Vec::new(),
            size,
        }
    }
}

/// The last component of a path, lossily as UTF-8 (`.` and `..` resolved through the file system).
fn leaf_name(path: &Path) -> String {
    if let Some(name) = path.file_name() {
        return name.to_string_lossy().into_owned();
    }
    fs::canonicalize(path)
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_default()
}

fn path_diag(level: DiagLevel, path: &str, message: String) -> Diagnostic {
    Diagnostic::file(level, &Arc::from(path), message)
}

/// Expands the paths given on the command line into sources (folders walked recursively, sorted).
///
/// Symbolic links given on the command line are followed; inside folders, symlinked files are
/// read but symlinked folders are not entered (no loops). Unreadable paths become `Error`
/// diagnostics and the rest goes on.
pub fn discover(paths: &[PathBuf], diags: &mut Vec<Diagnostic>) -> Vec<Source> {
    let mut out = Vec::new();
    for path in paths {
        let shown = path.to_string_lossy();
        match fs::metadata(path) {
            Err(e) => diags.push(path_diag(
                DiagLevel::Error,
                &shown,
                format!("cannot read input: {e}"),
            )),
            Ok(m) if m.is_dir() => {
                let root = leaf_name(path);
                walk(path, &root, &[], &mut out, diags);
            }
            Ok(m) if m.is_file() => out.push(Source {
                path: path.clone(),
                display: leaf_name(path),
                folders: Vec::new(),
                size: m.len(),
            }),
            Ok(_) => diags.push(path_diag(
                DiagLevel::Warning,
                &shown,
                "not a regular file or folder; skipped".into(),
            )),
        }
    }
    out
}

fn walk(
    dir: &Path,
    display: &str,
    folders: &[String],
    out: &mut Vec<Source>,
    diags: &mut Vec<Diagnostic>,
) {
    let entries = match fs::read_dir(dir) {
        Ok(rd) => rd,
        Err(e) => {
            diags.push(path_diag(
                DiagLevel::Error,
                display,
                format!("cannot read folder: {e}"),
            ));
            return;
        }
    };
    let mut entries: Vec<fs::DirEntry> = entries
        .filter_map(|e| match e {
            Ok(e) => Some(e),
            Err(e) => {
                diags.push(path_diag(
                    DiagLevel::Error,
                    display,
                    format!("cannot list folder: {e}"),
                ));
                None
            }
        })
        .collect();
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let name = entry.file_name().to_string_lossy().into_owned();
        let shown = if display.is_empty() {
            name.clone()
        } else {
            format!("{display}/{name}")
        };
        let path = entry.path();
        let file_type = match entry.file_type() {
            Ok(t) => t,
            Err(e) => {
                diags.push(path_diag(
                    DiagLevel::Error,
                    &shown,
                    format!("cannot read: {e}"),
                ));
                continue;
            }
        };
        // `DirEntry::file_type` does not follow links; `fs::metadata` does.
        let (is_dir, is_file, size) = if file_type.is_symlink() {
            match fs::metadata(&path) {
                Ok(m) if m.is_dir() => {
                    diags.push(path_diag(
                        DiagLevel::Info,
                        &shown,
                        "symbolic link to a folder not followed".into(),
                    ));
                    continue;
                }
                Ok(m) => (false, m.is_file(), m.len()),
                Err(e) => {
                    diags.push(path_diag(
                        DiagLevel::Error,
                        &shown,
                        format!("broken symbolic link: {e}"),
                    ));
                    continue;
                }
            }
        } else {
            let size = if file_type.is_file() {
                entry.metadata().map(|m| m.len()).unwrap_or(0)
            } else {
                0
            };
            (file_type.is_dir(), file_type.is_file(), size)
        };
        if is_dir {
            let mut sub = folders.to_vec();
            sub.push(name);
            walk(&path, &shown, &sub, out, diags);
        } else if is_file {
            out.push(Source {
                path,
                display: shown,
                folders: folders.to_vec(),
                size,
            });
        }
        // Sockets, fifos and devices are not bundle content: skipped silently.
    }
}

/// Opens a source and calls `f` for each file it holds (archive members included, recursively),
/// possibly from several threads. Returns the diagnostics for problems met while opening, sorted
/// by path (deterministic whatever the thread schedule).
pub fn visit(
    source: &Source,
    cfg: &InputConfig,
    f: &(dyn Fn(InputFile) + Sync),
) -> Vec<Diagnostic> {
    let ctx = archive::Ctx::new(cfg, f, &source.display);
    let place = archive::Place {
        display: source.display.clone(),
        folders: source.folders.clone(),
        file_name: leaf_name(&source.path),
        mtime: None,
    };
    let mut file = match File::open(&source.path) {
        Ok(file) => file,
        Err(e) => {
            ctx.diag(
                DiagLevel::Error,
                &place.display,
                format!("cannot open file: {e}"),
            );
            return ctx.finish();
        }
    };
    let meta = file.metadata().ok();
    let place = archive::Place {
        mtime: meta
            .as_ref()
            .and_then(|m| m.modified().ok())
            .map(DateTime::<Utc>::from),
        ..place
    };
    let len = meta.map(|m| m.len()).unwrap_or(0);
    let mapped = if cfg.mmap && len > 0 {
        mmap::map(&file).ok()
    } else {
        None
    };
    let data = match mapped {
        Some(m) => Data::Mapped(m),
        None => {
            let mut buf = Vec::with_capacity(usize::try_from(len).unwrap_or(0).min(1 << 30));
            if let Err(e) = file.read_to_end(&mut buf) {
                ctx.diag(
                    DiagLevel::Error,
                    &place.display,
                    format!("cannot read file: {e}"),
                );
                return ctx.finish();
            }
            Data::Owned(buf)
        }
    };
    archive::dispatch(&ctx, place, data, 0);
    ctx.finish()
}

/// Like [`visit`] for bytes already in memory (stdin, tests): `name` is the display path and file
/// name of the top-level file.
pub fn visit_data(
    name: &str,
    data: Data,
    cfg: &InputConfig,
    f: &(dyn Fn(InputFile) + Sync),
) -> Vec<Diagnostic> {
    let ctx = archive::Ctx::new(cfg, f, name);
    let place = archive::Place {
        display: name.to_string(),
        folders: Vec::new(),
        file_name: name.rsplit(['/', '\\']).next().unwrap_or(name).to_string(),
        mtime: None,
    };
    archive::dispatch(&ctx, place, data, 0);
    ctx.finish()
}

/// What kind of content a file holds, judged from its bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Format(Format),
    Zip,
    Gzip,
    Tar,
    Unknown,
}
