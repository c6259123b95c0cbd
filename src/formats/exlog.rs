//! STUB: replaced by the parser for this format.
use crate::formats::{Chunk, FileCtx};
use crate::model::Parsed;

pub fn parse_chunk(_ctx: &FileCtx, _chunk: &Chunk<'_>) -> Parsed {
    Parsed::default()
}
pub fn split(text: &str, _target: usize) -> Vec<Chunk<'_>> {
    vec![Chunk::whole(text)]
}
