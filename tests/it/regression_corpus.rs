//! The fuzz targets (`fuzz/targets.rs`) on stable Rust: every file of the regression corpus
//! `tests/corpus/<target>/` (inputs that once crashed, or that reach deep paths), then a bounded,
//! fixed-seed mutation loop over seeds from `samples/` and the corpus (bit flips, byte
//! insertions and deletions, splices, truncations). `cargo fuzz run <target>` explores further
//! on nightly; this keeps what it found fixed in `cargo test`. `FUZZ_ITERS` sets the loop length.

#[path = "../../fuzz/targets.rs"]
#[allow(dead_code)]
mod targets;

use crate::util;
use std::path::{Path, PathBuf};

type Target = fn(&[u8]);

fn targets() -> Vec<(&'static str, Target)> {
    vec![
        ("parse_text", targets::parse_text as Target),
        ("parse_evtx", targets::parse_evtx),
        ("parse_x509", targets::parse_x509),
        ("archive", targets::archive),
        ("catalog", targets::catalog),
    ]
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d)
            .into_iter()
            .flatten()
            .filter_map(Result::ok)
        {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// Runs `f` on `data`, turning a panic into a failure that names the input and keeps it.
fn check(name: &str, f: Target, data: &[u8], what: &str) {
    let r = std::panic::catch_unwind(|| f(data));
    if r.is_err() {
        let dir = std::env::temp_dir().join("imtriage-fuzz-crashes");
        let _ = std::fs::create_dir_all(&dir);
        let path = dir.join(format!("{name}-{:016x}", fnv(data)));
        let _ = std::fs::write(&path, data);
        panic!(
            "{name} panicked on {what}; input saved as {} (copy it to tests/corpus/{name}/)",
            path.display()
        );
    }
}

fn fnv(data: &[u8]) -> u64 {
    data.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

#[test]
fn regression_corpus_replays() {
    // `FUZZ_CORPUS=DIR` also replays a fuzzer's working corpus (`DIR/<target>/`), e.g. after a
    // code change, on stable and without the fuzzer.
    let extra = std::env::var_os("FUZZ_CORPUS").map(PathBuf::from);
    for (name, f) in targets() {
        let mut files = files_under(&util::root().join("tests/corpus").join(name));
        if let Some(dir) = &extra {
            files.extend(files_under(&dir.join(name)));
        }
        for p in files {
            let data = std::fs::read(&p).expect("corpus file");
            check(name, f, &data, &p.display().to_string());
        }
    }
}

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// One random edit of `data` (libFuzzer-style mutations, a few at a time).
fn mutate(rng: &mut Rng, data: &mut Vec<u8>, other: &[u8]) {
    const DICT: &[&[u8]] = &[
        b"TL_ERROR(TF_DIAG) [0]0AC0.1278::",
        b"$$begin_record",
        b"$$end_record",
        b"\r\n",
        b"#Fields: ",
        b"<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'>",
        b"</Event>",
        b"\"",
        b",",
        b"ms-diagnostics: ",
        b"0x80090325",
        b"\xff\xfe",
        b"\0",
        b"[[signals]]\n",
    ];
    for _ in 0..1 + rng.below(4) {
        let len = data.len();
        match rng.below(7) {
            0 if len > 0 => {
                let i = rng.below(len);
                data[i] ^= 1 << rng.below(8);
            }
            1 => {
                let i = rng.below(len + 1);
                data.insert(i, rng.next() as u8);
            }
            2 if len > 0 => {
                let i = rng.below(len);
                let n = rng.below(len - i).min(64);
                data.drain(i..i + n);
            }
            3 => {
                let i = rng.below(len + 1);
                let d = DICT[rng.below(DICT.len())];
                data.splice(i..i, d.iter().copied());
            }
            4 if !other.is_empty() => {
                let (a, b) = (rng.below(other.len()), rng.below(other.len()));
                let (a, b) = (a.min(b), a.max(b).min(a.min(b) + 4096));
                let i = rng.below(len + 1);
                data.splice(i..i, other[a..b].iter().copied());
            }
            5 if len > 0 => data.truncate(rng.below(len)),
            _ if len > 1 => {
                let (i, j) = (rng.below(len), rng.below(len));
                data.swap(i, j);
            }
            _ => data.push(rng.next() as u8),
        }
    }
}

fn seeds(name: &str) -> Vec<Vec<u8>> {
    let mut dirs = vec![util::root().join("tests/corpus").join(name)];
    match name {
        "parse_text" | "archive" => dirs.push(util::root().join("samples")),
        "catalog" => dirs.push(util::root().join("grammars/causes")),
        _ => {}
    }
    let mut out: Vec<Vec<u8>> = dirs
        .iter()
        .flat_map(|d| files_under(d))
        .filter_map(|p| std::fs::read(p).ok())
        .filter(|d| d.len() <= 64 << 10)
        .collect();
    if name == "parse_evtx" {
        if let Some(dir) = util::shared("evtx") {
            // The first chunk of a real file: header and records, small enough to mutate fast.
            for p in files_under(&dir).into_iter().take(3) {
                if let Ok(d) = std::fs::read(p) {
                    out.push(d[..d.len().min(128 << 10)].to_vec());
                }
            }
        }
    }
    if out.is_empty() {
        out.push(Vec::new());
    }
    out
}

#[test]
fn bounded_mutation_loop() {
    let iters: usize = std::env::var("FUZZ_ITERS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(300);
    for (t, (name, f)) in targets().into_iter().enumerate() {
        let seeds = seeds(name);
        let mut rng = Rng(0x5EED_0000 + t as u64);
        for i in 0..iters {
            let base = &seeds[rng.below(seeds.len())];
            let other = &seeds[rng.below(seeds.len())];
            let mut data = base.clone();
            mutate(&mut rng, &mut data, other);
            if name == "parse_text" {
                // The first byte selects the format: cycle through all of them.
                data.insert(0, i as u8);
            }
            check(name, f, &data, &format!("mutation {i}"));
        }
    }
}

/// A zip member that inflates to more than its declared size (both headers lie): never more
/// than the declared bytes reach a parser unnoticed, nothing panics, and the honest member next
/// to it is still read.
#[test]
fn zip_member_larger_than_declared() {
    use std::io::Write;
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    w.start_file("big.txt", opts).expect("entry");
    w.write_all(&vec![b'A'; 100_000]).expect("write");
    w.start_file("ok.txt", opts).expect("entry");
    w.write_all(b"fine").expect("write");
    let mut bytes = w.finish().expect("zip").into_inner();
    // Declare 10 bytes for big.txt: local header (offset 22) and central directory (offset 24).
    let lie = 10u32.to_le_bytes();
    bytes[22..26].copy_from_slice(&lie);
    let cd = bytes
        .windows(4)
        .position(|w| w == b"PK\x01\x02")
        .expect("central directory");
    bytes[cd + 24..cd + 28].copy_from_slice(&lie);
    let got = std::sync::Mutex::new(Vec::new());
    let diags = imtriage::input::visit_data(
        "lie.zip",
        imtriage::input::Data::Owned(bytes),
        &imtriage::input::InputConfig::default(),
        &|f| {
            if let Ok(mut g) = got.lock() {
                g.push((f.path.to_string(), f.data.len()));
            }
        },
    );
    let got = got.into_inner().expect("lock");
    assert!(got.iter().any(|(p, _)| p == "lie.zip!ok.txt"), "{got:?}");
    for (p, n) in &got {
        if p == "lie.zip!big.txt" {
            assert!(*n <= 10 || !diags.is_empty(), "{n} bytes read unnoticed");
        }
    }
}
