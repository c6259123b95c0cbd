//! Memory-mapping of input files.
//!
//! Why this module exists: bundles hold multi-gigabyte logs and archives; mapping them lets the
//! parsers and the zip reader work on the bytes in place without copying them into the heap. It is
//! the only place in the crate allowed `unsafe`, so the reasoning about it is kept in one spot.

use memmap2::Mmap;
use std::fs::File;
use std::io;

/// Maps a whole file read-only. Fails for empty files (they cannot be mapped) and wherever the
/// platform refuses; callers fall back to reading the file.
#[allow(unsafe_code)]
pub fn map(file: &File) -> io::Result<Mmap> {
    if file.metadata()?.len() == 0 {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "empty files cannot be mapped",
        ));
    }
    // Safety: `Mmap::map` is unsafe because the mapped file may be changed or truncated by another
    // process while we hold the mapping, which could change bytes under a `&[u8]` or raise SIGBUS on
    // access past a new end. We only ever read through the mapping (it is read-only), we never hand
    // out mutable access, and the files are log bundles the user has collected and is not writing to.
    // Like ripgrep, we accept this as best effort: a file modified during the run may yield garbled
    // records (reported as parse diagnostics), which is the same outcome as reading it mid-write.
    unsafe { Mmap::map(file) }
}

/// Tells the kernel that the mapped pages of `offset..offset + len` (rounded inwards to whole
/// pages) will not be needed soon, so they stop counting towards resident memory. The mapping stays
/// valid: reading those bytes again simply loads them from the file. The pipeline calls this after
/// parsing each window of a large file, which keeps peak memory flat on gigabyte traces.
#[allow(unsafe_code)]
pub fn release(map: &Mmap, offset: usize, len: usize) {
    const PAGE: usize = 4096;
    let start = offset.div_ceil(PAGE) * PAGE;
    let end = (offset.saturating_add(len) / PAGE) * PAGE;
    if end <= start || end > map.len() {
        return;
    }
    // Safety: `MADV_DONTNEED` is "unchecked" in memmap2 because on a *writable private* mapping it
    // discards modifications, which would change what later reads see. This mapping is read-only
    // and file-backed (`Mmap::map`), so there is nothing to discard: the kernel drops the page-cache
    // references and a later access faults the same file bytes back in. No reference into the
    // mapping is invalidated. An error (e.g. an unsupported platform) only means memory is not
    // released early, so it is ignored.
    #[cfg(unix)]
    unsafe {
        let _ = map.unchecked_advise_range(memmap2::UncheckedAdvice::DontNeed, start, end - start);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};

    #[test]
    fn mmap_and_read_give_identical_bytes() {
        let dir = std::env::temp_dir().join(format!("imtriage-mmap-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("x.bin");
        let bytes: Vec<u8> = (0..100_000u32).map(|i| (i * 7 % 251) as u8).collect();
        std::fs::File::create(&path)
            .unwrap()
            .write_all(&bytes)
            .unwrap();
        let f = File::open(&path).unwrap();
        let m = map(&f).unwrap();
        let mut read = Vec::new();
        File::open(&path).unwrap().read_to_end(&mut read).unwrap();
        assert_eq!(&m[..], &read[..]);
        assert_eq!(&m[..], &bytes[..]);
        // Released pages read back unchanged.
        release(&m, 0, m.len());
        release(&m, 5000, 10_000);
        assert_eq!(&m[..], &bytes[..]);

        let empty = dir.join("empty.bin");
        std::fs::File::create(&empty).unwrap();
        assert!(map(&File::open(&empty).unwrap()).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
