//! Stage 1: find the files of a bundle, open archives in place, decode text, recognise formats.
//!
//! STUB API (to be implemented): see the helper brief.
use crate::model::{Diagnostic, Format};
use chrono::{DateTime, Utc};
use std::path::PathBuf;
use std::sync::Arc;

pub mod decode;
pub mod sniff;

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
    /// Largest compression ratio accepted for one member (zip-bomb guard).
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
    Owned(Vec<u8>),
}

impl std::ops::Deref for Data {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            Data::Owned(v) => v,
        }
    }
}

/// One file of the bundle, with its bytes.
pub struct InputFile {
    /// Display path inside the bundle (`bundle.zip!MBX01/Application.evtx`), `/` separated.
    pub path: Arc<str>,
    /// Leaf file name.
    pub file_name: String,
    /// Folder names between the bundle root and the file (inside archives too), outermost first.
    pub folders: Vec<String>,
    pub mtime: Option<DateTime<Utc>>,
    pub data: Data,
}

/// A top-level thing to read: a file or folder given on the command line.
pub struct Source {
    pub path: PathBuf,
}

/// Expands the paths given on the command line into sources (folders walked recursively, sorted).
pub fn discover(_paths: &[PathBuf], _diags: &mut Vec<Diagnostic>) -> Vec<Source> {
    Vec::new()
}

/// Opens a source and calls `f` for each file it holds (archive members included, recursively),
/// possibly from several threads. Returns the diagnostics for problems met while opening.
pub fn visit(
    _source: &Source,
    _cfg: &InputConfig,
    _f: &(dyn Fn(InputFile) + Sync),
) -> Vec<Diagnostic> {
    Vec::new()
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
