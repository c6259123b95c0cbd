//! STUB: replaced by the Cisco SDI / XCP / log4j trace parsers.
use crate::formats::{Chunk, FileCtx};
use crate::model::Parsed;

pub fn parse_sdi(_ctx: &FileCtx, _text: &str) -> Parsed {
    Parsed::default()
}

pub fn parse_xcp(_ctx: &FileCtx, _text: &str) -> Parsed {
    Parsed::default()
}

pub fn parse_log4j(_ctx: &FileCtx, _chunk: &Chunk<'_>) -> Parsed {
    Parsed::default()
}

pub fn split_log4j(text: &str, _target: usize) -> Vec<Chunk<'_>> {
    vec![Chunk::whole(text)]
}
