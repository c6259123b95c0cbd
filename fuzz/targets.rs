//! The fuzz target bodies, shared by `cargo fuzz` (`fuzz_targets/*.rs`) and the stable-Rust
//! regression driver `tests/it/regression_corpus.rs`, so the corpus replays the exact code the
//! fuzzer ran. Each function must never panic on any input; it also checks cheap invariants
//! (chunked parsing counts the same records as whole parsing, counts are consistent).

use imtriage::formats::{self, Chunk, FileCtx};
use imtriage::input::{self, Data, InputConfig};
use imtriage::model::Format;

/// The text formats, in the order the first input byte selects them.
pub fn text_formats() -> Vec<Format> {
    Format::ALL
        .iter()
        .copied()
        .filter(|f| !matches!(f, Format::Evtx))
        .collect()
}

/// `parse_text` for the format the first byte selects, whole and (chunkable formats) in small
/// chunks: both never panic, and both count the same records.
pub fn parse_text(data: &[u8]) {
    let Some((sel, rest)) = data.split_first() else {
        return;
    };
    let fmts = text_formats();
    let format = fmts[*sel as usize % fmts.len()];
    parse_text_as(format, rest);
}

/// [`parse_text`] for a given format.
pub fn parse_text_as(format: Format, bytes: &[u8]) {
    let text = String::from_utf8_lossy(bytes);
    let ctx = FileCtx::new("fuzz/input.txt");
    let whole = formats::parse_text(format, &ctx, &Chunk::whole(&text));
    assert!(
        whole.events.len() as u64 <= whole.parsed,
        "{format}: more events than parsed"
    );
    if formats::is_chunkable(format) {
        let chunked = imtriage::pipeline::parse_text_file(format, &ctx, &text, 64);
        assert_eq!(
            (whole.parsed, whole.rejected),
            (chunked.parsed, chunked.rejected),
            "{format}: chunked parsing counts differ from whole parsing"
        );
    }
    // The skim of `analyze` counts every record it does not parse: parsed + rejected + skipped
    // is what a full parse counts, whole and in small chunks.
    if formats::skim::SKIMMABLE.contains(&format) {
        let needles = [
            "0x",
            "failed",
            "ews",
            "virtual directory object",
            "diagnostics",
        ];
        let skim =
            formats::skim::Skim::new(&[(format, needles.iter().map(|n| n.to_string()).collect())]);
        for chunk in [text.len().max(1), 64] {
            let parts: Vec<_> = formats::split(format, &text, chunk)
                .iter()
                .map(|c| skim.parse_chunk(format, &ctx, c))
                .collect();
            let s = imtriage::pipeline::merge_chunks(parts);
            assert_eq!(
                s.parsed + s.rejected + s.skipped,
                whole.parsed + whole.rejected,
                "{format}: the skim lost or invented records (chunk {chunk})"
            );
            assert!(s.events.len() as u64 <= s.parsed);
        }
    }
    // The sniffer sees the same text the pipeline would.
    let _ = imtriage::input::sniff::sniff_text(&text, "input.txt");
}

/// `parse_binary` for `.evtx`.
pub fn parse_evtx(data: &[u8]) {
    let ctx = FileCtx::new("fuzz/input.evtx");
    let p = formats::parse_binary(Format::Evtx, &ctx, data);
    assert!(p.events.len() as u64 <= p.parsed);
}

/// `parse_binary` and `parse_text` for X.509 (DER and PEM).
pub fn parse_x509(data: &[u8]) {
    let ctx = FileCtx::new("fuzz/input.cer");
    let _ = formats::parse_binary(Format::X509, &ctx, data);
    let _ = formats::parse_text(
        Format::X509,
        &ctx,
        &Chunk::whole(&String::from_utf8_lossy(data)),
    );
}

/// The archive reader (`input::visit_data`): zip, tar, gzip, nested, with small limits so the
/// limit paths are reached quickly.
pub fn archive(data: &[u8]) {
    let cfg = InputConfig {
        max_member_bytes: 1 << 20,
        ..InputConfig::default()
    };
    for name in ["fuzz.zip", "fuzz.tar.gz", "fuzz.tar", "fuzz.gz"] {
        let _ = input::visit_data(name, Data::Owned(data.to_vec()), &cfg, &|f| {
            assert!(f.data.len() as u64 <= cfg.max_member_bytes);
        });
    }
}

/// The catalog loader: `Catalog::add_text`, then the prefilter and matchers built from it.
pub fn catalog(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let mut c = imtriage::classify::catalog::Catalog::default();
    if c.add_text("fuzz.toml", &text).is_ok() {
        let _ = imtriage::classify::matchers::Prefilter::new(&c);
        let _ = imtriage::classify::catalog::lint(&c);
    }
}
