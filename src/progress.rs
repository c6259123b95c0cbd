//! The progress bars of `imtriage analyze` and `imtriage batch` on a terminal.
//!
//! Why this module exists: a large bundle takes a while, and a silent terminal looks hung. The bar
//! is a spinner with the count of files and bytes parsed (the total is unknown up front: archives
//! are expanded while they are read). It draws on standard error only when that is a terminal and
//! `--quiet` is not given, so piped or redirected runs stay clean. The library only calls a
//! per-file callback; indicatif never reaches its hot path.

use imtriage::pipeline::FileInfo;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

pub struct Bar {
    bar: Option<ProgressBar>,
    files: AtomicU64,
    bytes: AtomicU64,
}

impl Bar {
    /// A bar on standard error, or nothing when quiet or not on a terminal.
    pub fn new(quiet: bool) -> Bar {
        let bar = (!quiet && std::io::stderr().is_terminal()).then(|| {
            let b = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
            b.set_style(
                ProgressStyle::with_template("{spinner} {elapsed} {msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            );
            b.set_message("reading the bundle");
            b.enable_steady_tick(Duration::from_millis(120));
            b
        });
        Bar {
            bar,
            files: AtomicU64::new(0),
            bytes: AtomicU64::new(0),
        }
    }

    /// One more file parsed.
    pub fn file(&self, f: &FileInfo) {
        let files = self.files.fetch_add(1, Ordering::Relaxed) + 1;
        let bytes = self.bytes.fetch_add(f.bytes, Ordering::Relaxed) + f.bytes;
        if let Some(b) = &self.bar {
            b.set_message(format!(
                "{files} files, {:.1} MB parsed — {}",
                bytes as f64 / 1e6,
                f.file_name
            ));
        }
    }

    /// Removes the bar before the report is written.
    pub fn finish(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}

/// The bar of `imtriage batch`: bundles done out of the total (known up front).
pub struct BundleBar {
    bar: Option<ProgressBar>,
}

impl BundleBar {
    /// A bar on standard error, or nothing when quiet or not on a terminal.
    pub fn new(quiet: bool, bundles: u64) -> BundleBar {
        let bar = (!quiet && std::io::stderr().is_terminal()).then(|| {
            let b = ProgressBar::with_draw_target(Some(bundles), ProgressDrawTarget::stderr());
            b.set_style(
                ProgressStyle::with_template("{bar:30} {pos}/{len} bundles {elapsed} {msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            b.enable_steady_tick(Duration::from_millis(120));
            b
        });
        BundleBar { bar }
    }

    /// One more bundle analysed.
    pub fn done(&self, name: &str) {
        if let Some(b) = &self.bar {
            b.inc(1);
            b.set_message(name.to_string());
        }
    }

    /// Removes the bar before the summary is written.
    pub fn finish(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}
