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

/// `map[offset..offset + len]` as UTF-8 text, or `None` when it is not valid UTF-8. Checked in
/// windows of 16 MiB, each [`release`]d once checked: the pages come back one parse window at a
/// time later, so peak memory does not grow with the file.
#[allow(unsafe_code)]
pub fn utf8(map: &Mmap, offset: usize, len: usize) -> Option<&str> {
    const WINDOW: usize = 16 << 20;
    let bytes = map.get(offset..offset.checked_add(len)?)?;
    let mut pos = 0usize;
    while pos < bytes.len() {
        let end = pos.saturating_add(WINDOW).min(bytes.len());
        let checked = match std::str::from_utf8(bytes.get(pos..end)?) {
            Ok(_) => end,
            // A character cut by the window end: checked again, whole, with the next window.
            Err(e) if e.error_len().is_none() && end < bytes.len() && e.valid_up_to() > 0 => {
                pos + e.valid_up_to()
            }
            Err(_) => return None,
        };
        release(map, offset + pos, checked - pos);
        pos = checked;
    }
    // Safety: `from_utf8_unchecked` requires valid UTF-8. Every byte of `bytes` was checked above
    // by `std::str::from_utf8`, in consecutive windows that each end on a character boundary (a
    // window that ends inside a character is shortened to `valid_up_to`, which is a boundary, and
    // the character is checked whole in the next window), and a concatenation of valid UTF-8
    // strings is valid UTF-8. The mapping is read-only; the concurrent-modification caveat of
    // [`map`] applies to this text exactly as to a `from_utf8` result over the same mapping.
    Some(unsafe { std::str::from_utf8_unchecked(bytes) })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};

    #[test]
    fn windowed_utf8_check_agrees_with_from_utf8() {
        let dir = std::env::temp_dir().join(format!("imtriage-utf8-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        // 40 MiB of text whose 3- and 4-byte characters straddle every 16 MiB window end.
        let unit = "ab\u{20AC}\u{1F600}cd\n";
        let text = unit.repeat((40 << 20) / unit.len());
        let good = dir.join("good.txt");
        std::fs::write(&good, &text).unwrap();
        let m = map(&File::open(&good).unwrap()).unwrap();
        assert_eq!(utf8(&m, 0, m.len()), Some(text.as_str()));
        assert_eq!(utf8(&m, 3, 100), std::str::from_utf8(&m[3..103]).ok());
        assert_eq!(utf8(&m, 2, 100), None, "starts inside a character");
        let mut bad = text.into_bytes();
        let at = (16 << 20) + 5;
        bad[at] = 0xFF;
        let badp = dir.join("bad.txt");
        std::fs::write(&badp, &bad).unwrap();
        let m = map(&File::open(&badp).unwrap()).unwrap();
        assert_eq!(utf8(&m, 0, m.len()), None);
        std::fs::remove_dir_all(&dir).unwrap();
    }

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
        assert!(utf8(&m, 0, m.len()).is_none(), "binary bytes are not UTF-8");

        let empty = dir.join("empty.bin");
        std::fs::File::create(&empty).unwrap();
        assert!(map(&File::open(&empty).unwrap()).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
