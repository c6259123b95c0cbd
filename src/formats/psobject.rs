//! STUB: replaced by the parser for this format.
