//! STUB
use super::Kind;
use crate::model::Format;

/// Recognises binary containers and binary formats from the first bytes.
pub fn sniff_bytes(_head: &[u8]) -> Kind {
    Kind::Unknown
}

/// Recognises a text format from decoded text (BOM already removed); `file_name` is a hint only.
pub fn sniff_text(_text: &str, _file_name: &str) -> Option<Format> {
    None
}
