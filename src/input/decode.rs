//! Text decoding of input files (formats.md §0.4).
//!
//! Why this module exists: the same capture reaches us as UTF-8 with or without BOM, UTF-16LE
//! (Windows PowerShell 5.1 `>` / `Out-File`), UTF-16BE, or an ANSI code page. Parsers only ever see
//! `&str`; this module decides the encoding once, from the bytes, and never decodes twice (the
//! `MicrosoftÂ®` mojibake of §1.6 must reach the parser as it is). Valid UTF-8 is borrowed, not
//! copied, so multi-gigabyte logs cost no extra memory.

use encoding_rs::{UTF_16BE, UTF_16LE, WINDOWS_1252};
use std::borrow::Cow;

/// Decoded text of a file.
pub struct Decoded<'a> {
    /// The text, BOM removed.
    pub text: Cow<'a, str>,
    /// `utf-8`, `utf-8-bom`, `utf-16le`, `utf-16be`, `windows-1252`.
    pub encoding: &'static str,
    /// The encoding was guessed (invalid UTF-8 decoded as Windows-1252, or UTF-16 without BOM).
    pub guessed: bool,
    /// Some bytes could not be decoded in the chosen encoding and became U+FFFD (a UTF-8 BOM
    /// followed by invalid UTF-8, an unpaired UTF-16 surrogate, an odd trailing byte).
    pub lossy: bool,
}

/// How many leading bytes the UTF-16-without-BOM and binary heuristics look at.
const HEAD: usize = 512;

/// Decodes the bytes of a text file by the rules of formats.md §0.4.
pub fn decode(bytes: &[u8]) -> Decoded<'_> {
    decode_with(bytes, &|b| std::str::from_utf8(b).ok())
}

/// [`decode`], checking UTF-8 with `utf8` (for a large mapped file, a window-by-window check that
/// lets each window's memory go: [`super::Data::utf8`]) instead of `std::str::from_utf8`.
pub fn decode_with<'a>(bytes: &'a [u8], utf8: &dyn Fn(&'a [u8]) -> Option<&'a str>) -> Decoded<'a> {
    if let Some(rest) = bytes.strip_prefix(b"\xEF\xBB\xBF") {
        return match utf8(rest) {
            Some(s) => decoded(Cow::Borrowed(s), "utf-8-bom", false, false),
            // The BOM is strong evidence: keep UTF-8, mark the damage.
            None => decoded(String::from_utf8_lossy(rest), "utf-8-bom", false, true),
        };
    }
    if let Some(rest) = bytes.strip_prefix(b"\xFF\xFE") {
        let (text, lossy) = UTF_16LE.decode_without_bom_handling(rest);
        return decoded(text, "utf-16le", false, lossy);
    }
    if let Some(rest) = bytes.strip_prefix(b"\xFE\xFF") {
        let (text, lossy) = UTF_16BE.decode_without_bom_handling(rest);
        return decoded(text, "utf-16be", false, lossy);
    }
    match utf16_guess(bytes) {
        Some(Utf16::Le) => {
            let (text, lossy) = UTF_16LE.decode_without_bom_handling(bytes);
            return decoded(text, "utf-16le", true, lossy);
        }
        Some(Utf16::Be) => {
            let (text, lossy) = UTF_16BE.decode_without_bom_handling(bytes);
            return decoded(text, "utf-16be", true, lossy);
        }
        None => {}
    }
    match utf8(bytes) {
        Some(s) => decoded(Cow::Borrowed(s), "utf-8", false, false),
        None => {
            let (text, _) = WINDOWS_1252.decode_without_bom_handling(bytes);
            decoded(text, "windows-1252", true, false)
        }
    }
}

fn decoded<'a>(
    text: Cow<'a, str>,
    encoding: &'static str,
    guessed: bool,
    lossy: bool,
) -> Decoded<'a> {
    Decoded {
        text,
        encoding,
        guessed,
        lossy,
    }
}

#[derive(Debug, PartialEq, Eq)]
enum Utf16 {
    Le,
    Be,
}

/// UTF-16 without BOM: in most 2-byte units of the head one byte is NUL and the other is not
/// (mostly-ASCII text). Little-endian has the NUL in the odd byte.
fn utf16_guess(bytes: &[u8]) -> Option<Utf16> {
    let head = &bytes[..bytes.len().min(HEAD) & !1];
    let units = head.len() / 2;
    if units < 2 {
        return None;
    }
    let (mut le, mut be) = (0usize, 0usize);
    for pair in head.chunks_exact(2) {
        match (pair[0], pair[1]) {
            (a, 0) if a != 0 => le += 1,
            (0, b) if b != 0 => be += 1,
            _ => {}
        }
    }
    // "Most": at least 70 % of the units.
    if le * 10 >= units * 7 {
        Some(Utf16::Le)
    } else if be * 10 >= units * 7 {
        Some(Utf16::Be)
    } else {
        None
    }
}

/// True when the bytes look like binary data rather than text in any encoding [`decode`] knows:
/// after ruling out BOMs and UTF-16, a NUL byte or more than 10 % control characters in the head.
/// The pipeline uses it to report "binary junk" instead of feeding it to a text parser.
pub fn is_probably_binary(bytes: &[u8]) -> bool {
    if bytes.starts_with(b"\xEF\xBB\xBF")
        || bytes.starts_with(b"\xFF\xFE")
        || bytes.starts_with(b"\xFE\xFF")
        || utf16_guess(bytes).is_some()
    {
        return false;
    }
    let head = &bytes[..bytes.len().min(8 * HEAD)];
    if head.is_empty() {
        return false;
    }
    if memchr::memchr(0, head).is_some() {
        return true;
    }
    let controls = head
        .iter()
        .filter(|&&b| (b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r' | 0x0C | 0x1B)) || b == 0x7F)
        .count();
    controls * 10 > head.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utf16le(s: &str, bom: bool) -> Vec<u8> {
        let mut v = if bom { vec![0xFF, 0xFE] } else { vec![] };
        v.extend(s.encode_utf16().flat_map(|u| u.to_le_bytes()));
        v
    }

    #[test]
    fn plain_utf8_is_borrowed() {
        let d = decode("Level,Date and Time\r\nÉté\n".as_bytes());
        assert!(matches!(d.text, Cow::Borrowed(_)));
        assert_eq!(d.encoding, "utf-8");
        assert!(!d.guessed && !d.lossy);
        assert_eq!(d.text, "Level,Date and Time\r\nÉté\n");
    }

    #[test]
    fn utf8_bom_is_stripped_and_borrowed() {
        let d = decode(b"\xEF\xBB\xBF#Software: Microsoft Exchange Server\r\n");
        assert!(matches!(d.text, Cow::Borrowed(_)));
        assert_eq!(d.encoding, "utf-8-bom");
        assert_eq!(d.text, "#Software: Microsoft Exchange Server\r\n");
    }

    #[test]
    fn utf16le_bom_format_list_capture() {
        // What Windows PowerShell 5.1 `Get-OwaVirtualDirectory | fl > x.txt` writes.
        let text = "\r\n\r\nInstantMessagingType : Ocs\r\nServer               : MBX01\r\n";
        let bytes = utf16le(text, true);
        let d = decode(&bytes);
        assert_eq!(d.encoding, "utf-16le");
        assert!(!d.guessed);
        assert_eq!(d.text, text);
    }

    #[test]
    fn utf16be_bom() {
        let mut v = vec![0xFE, 0xFF];
        v.extend("REGEDIT4\r\n".encode_utf16().flat_map(|u| u.to_be_bytes()));
        let d = decode(&v);
        assert_eq!(d.encoding, "utf-16be");
        assert_eq!(d.text, "REGEDIT4\r\n");
    }

    #[test]
    fn utf16le_without_bom_is_guessed() {
        let text = "Name   : MBX01\r\nState  : Online\r\n";
        let bytes = utf16le(text, false);
        let d = decode(&bytes);
        assert_eq!(d.encoding, "utf-16le");
        assert!(d.guessed);
        assert_eq!(d.text, text);
        assert!(!is_probably_binary(&utf16le(text, false)));
    }

    #[test]
    fn invalid_utf8_falls_back_to_1252() {
        // "Microsoft® Windows®" with the ® as a single 1252 byte is not valid UTF-8.
        let d = decode(b"Microsoft\xAE Windows\xAE");
        assert_eq!(d.encoding, "windows-1252");
        assert!(d.guessed);
        assert_eq!(d.text, "Microsoft® Windows®");
    }

    #[test]
    fn mojibake_is_not_decoded_twice() {
        // `MicrosoftÂ®` stored as valid UTF-8 stays exactly as it is.
        let d = decode("MicrosoftÂ® WindowsÂ®".as_bytes());
        assert_eq!(d.encoding, "utf-8");
        assert_eq!(d.text, "MicrosoftÂ® WindowsÂ®");
    }

    #[test]
    fn utf8_bom_with_invalid_bytes_is_lossy() {
        let d = decode(b"\xEF\xBB\xBFab\xFFc");
        assert_eq!(d.encoding, "utf-8-bom");
        assert!(d.lossy);
        assert_eq!(d.text, "ab\u{FFFD}c");
    }

    #[test]
    fn odd_utf16_tail_does_not_panic() {
        let d = decode(b"\xFF\xFEA\x00B");
        assert_eq!(d.text, "A\u{FFFD}");
        assert!(d.lossy);
        let _ = decode(b"\xFF");
        let _ = decode(b"");
    }

    #[test]
    fn binary_detection() {
        assert!(is_probably_binary(b"ElfFile\0\0\0\x01\x02\x03"));
        assert!(is_probably_binary(&[0x01, 0x02, 0x03, 0x04, 0x05, b'a']));
        assert!(is_probably_binary(&[0u8; 64]));
        assert!(!is_probably_binary(b"plain text\r\n\twith tabs\n"));
        assert!(!is_probably_binary("Été\n".as_bytes()));
        assert!(!is_probably_binary(b""));
        assert!(!is_probably_binary(b"\xFF\xFEA\x00"));
    }
}
