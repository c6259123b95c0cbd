//! STUB
use std::borrow::Cow;

/// Decoded text of a file.
pub struct Decoded<'a> {
    pub text: Cow<'a, str>,
    /// `utf-8`, `utf-8-bom`, `utf-16le`, `utf-16be`, `windows-1252`.
    pub encoding: &'static str,
    /// The encoding was guessed (invalid UTF-8 decoded as Windows-1252, or UTF-16 without BOM).
    pub guessed: bool,
}

pub fn decode(bytes: &[u8]) -> Decoded<'_> {
    Decoded {
        text: String::from_utf8_lossy(bytes),
        encoding: "utf-8",
        guessed: false,
    }
}

/// STUB: true when the bytes look like binary data.
pub fn is_probably_binary(bytes: &[u8]) -> bool {
    bytes.iter().take(512).any(|b| *b == 0)
}
