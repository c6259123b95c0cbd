//! STUB: replaced by the parser for this format.
use crate::formats::FileCtx;
use crate::model::Parsed;

pub fn parse_wevtutil(_ctx: &FileCtx, _text: &str) -> Parsed {
    Parsed::default()
}
pub fn parse_copy_text(_ctx: &FileCtx, _text: &str) -> Parsed {
    Parsed::default()
}
