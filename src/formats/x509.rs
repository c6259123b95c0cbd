//! STUB: replaced by the X.509 certificate parser.
use crate::formats::FileCtx;
use crate::model::Parsed;

/// PEM (one or more `-----BEGIN CERTIFICATE-----` blocks) or `show cert`-style text.
pub fn parse_text(_ctx: &FileCtx, _text: &str) -> Parsed {
    Parsed::default()
}

/// A DER-encoded certificate.
pub fn parse_der(_ctx: &FileCtx, _bytes: &[u8]) -> Parsed {
    Parsed::default()
}
