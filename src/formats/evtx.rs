//! STUB: replaced by the parser for this format.
use crate::formats::FileCtx;
use crate::model::Parsed;

pub fn parse(_ctx: &FileCtx, _bytes: &[u8]) -> Parsed {
    Parsed::default()
}
