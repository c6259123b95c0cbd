//! STUB: replaced by the parser for this format.
use crate::formats::FileCtx;
use crate::model::Parsed;

pub fn parse(_ctx: &FileCtx, _text: &str) -> Parsed {
    Parsed::default()
}
