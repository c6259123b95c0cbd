//! Tests of discovery and archive reading, on fixtures built in memory or in a temp folder.

use super::archive::{gz_member_name, member_components};
use super::*;
use crate::model::DiagLevel;
use flate2::write::GzEncoder;
use flate2::Compression;
use std::io::{Cursor, Write};
use std::sync::Mutex;
use zip::write::SimpleFileOptions;
use zip::CompressionMethod;

#[derive(Debug)]
struct Got {
    path: String,
    folders: Vec<String>,
    file_name: String,
    mtime: Option<DateTime<Utc>>,
    data: Vec<u8>,
    mapped: bool,
}

fn run(
    f: impl FnOnce(&(dyn Fn(InputFile) + Sync)) -> Vec<Diagnostic>,
) -> (Vec<Got>, Vec<Diagnostic>) {
    let got = Mutex::new(Vec::new());
    let cb = |file: InputFile| {
        got.lock().unwrap().push(Got {
            path: file.path.to_string(),
            folders: file.folders,
            file_name: file.file_name,
            mtime: file.mtime,
            mapped: matches!(file.data, Data::Mapped(_)),
            data: file.data.to_vec(),
        })
    };
    let diags = f(&cb);
    let mut got = got.into_inner().unwrap();
    got.sort_by(|a, b| a.path.cmp(&b.path));
    (got, diags)
}

fn mem(name: &str, bytes: Vec<u8>, cfg: &InputConfig) -> (Vec<Got>, Vec<Diagnostic>) {
    run(|f| visit_data(name, Data::Owned(bytes), cfg, f))
}

fn paths(got: &[Got]) -> Vec<&str> {
    got.iter().map(|g| g.path.as_str()).collect()
}

fn has_diag(diags: &[Diagnostic], level: DiagLevel, needle: &str) -> bool {
    diags
        .iter()
        .any(|d| d.level == level && d.message.contains(needle))
}

/// Pseudo-random, incompressible bytes.
fn noise(n: usize) -> Vec<u8> {
    let mut x: u32 = 0x1234_5678;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect()
}

fn zip_of(entries: &[(&str, &[u8])], method: CompressionMethod) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let t = zip::DateTime::from_date_and_time(2024, 3, 5, 10, 20, 30).unwrap();
    for (name, data) in entries {
        let opts = SimpleFileOptions::default()
            .compression_method(method)
            .last_modified_time(t);
        w.start_file(*name, opts).unwrap();
        w.write_all(data).unwrap();
    }
    w.finish().unwrap().into_inner()
}

fn gz_of(data: &[u8]) -> Vec<u8> {
    let mut e = GzEncoder::new(Vec::new(), Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

fn tar_header(name: &[u8], size: u64, kind: tar::EntryType) -> tar::Header {
    let mut h = tar::Header::new_ustar();
    h.as_old_mut().name[..name.len()].copy_from_slice(name);
    h.set_size(size);
    h.set_mode(0o644);
    h.set_mtime(1_700_000_000);
    h.set_entry_type(kind);
    h.set_cksum();
    h
}

fn tar_of(entries: &[(&[u8], &[u8])]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (name, data) in entries {
        let h = tar_header(name, data.len() as u64, tar::EntryType::Regular);
        b.append(&h, *data).unwrap();
    }
    b.into_inner().unwrap()
}

/// A temp folder removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!("imtriage-input-{tag}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

#[test]
fn folder_with_nested_zip() {
    let tmp = TempDir::new("folder");
    let root = tmp.0.join("b1");
    fs::create_dir_all(root.join("MBX01")).unwrap();
    fs::create_dir_all(root.join("CAS02")).unwrap();
    fs::write(root.join("top.txt"), b"top").unwrap();
    fs::write(root.join("CAS02/a.log"), b"cas").unwrap();
    let zip = zip_of(
        &[
            ("OWA_Logs\\InstantMessaging\\x.log", b"im log"),
            ("readme.txt", b"hello"),
        ],
        CompressionMethod::Deflated,
    );
    fs::write(root.join("MBX01/logs.zip"), zip).unwrap();

    let mut diags = Vec::new();
    let sources = discover(std::slice::from_ref(&root), &mut diags);
    assert!(diags.is_empty(), "{diags:?}");
    let shown: Vec<&str> = sources.iter().map(|s| s.display.as_str()).collect();
    assert_eq!(shown, ["b1/CAS02/a.log", "b1/MBX01/logs.zip", "b1/top.txt"]);
    assert_eq!(sources[1].folders, ["MBX01"]);

    let cfg = InputConfig::default();
    let mut all = Vec::new();
    for s in &sources {
        let (got, d) = run(|f| visit(s, &cfg, f));
        assert!(d.is_empty(), "{d:?}");
        all.extend(got);
    }
    assert_eq!(
        paths(&all),
        [
            "b1/CAS02/a.log",
            "b1/MBX01/logs.zip!OWA_Logs/InstantMessaging/x.log",
            "b1/MBX01/logs.zip!readme.txt",
            "b1/top.txt"
        ]
    );
    let im = &all[1];
    assert_eq!(im.folders, ["MBX01", "OWA_Logs", "InstantMessaging"]);
    assert_eq!(im.file_name, "x.log");
    assert_eq!(im.data, b"im log");
    assert_eq!(im.mtime.unwrap().to_rfc3339(), "2024-03-05T10:20:30+00:00");
    assert_eq!(all[0].folders, ["CAS02"]);
    assert!(all[0].mtime.is_some());
    assert!(all[3].folders.is_empty());
}

#[test]
fn zip_in_zip_and_depth_limit() {
    let inner = zip_of(&[("dir/x.txt", b"deep")], CompressionMethod::Deflated);
    let outer = zip_of(
        &[("inner.zip", &inner), ("a.txt", b"a")],
        CompressionMethod::Stored,
    );
    let (got, diags) = mem("outer.zip", outer.clone(), &InputConfig::default());
    assert!(diags.is_empty(), "{diags:?}");
    assert_eq!(
        paths(&got),
        ["outer.zip!a.txt", "outer.zip!inner.zip!dir/x.txt"]
    );
    assert_eq!(got[1].folders, ["dir"]);
    assert_eq!(got[1].data, b"deep");

    let cfg = InputConfig {
        max_depth: 1,
        ..InputConfig::default()
    };
    let (got, diags) = mem("outer.zip", outer, &cfg);
    assert_eq!(paths(&got), ["outer.zip!a.txt"]);
    assert!(has_diag(
        &diags,
        DiagLevel::Error,
        "exceeds the maximum depth 1"
    ));
    assert_eq!(&*diags[0].path, "outer.zip!inner.zip");
}

#[test]
fn tar_gz_with_nested_gz() {
    let epe = gz_of(b"22:26:18.719 |trace line\n");
    let tar = tar_of(&[(b"node1/log.txt", b"log"), (b"node1/epe1.txt.gz", &epe)]);
    let (got, diags) = mem("bundle.tar.gz", gz_of(&tar), &InputConfig::default());
    assert!(diags.is_empty(), "{diags:?}");
    assert_eq!(
        paths(&got),
        [
            "bundle.tar.gz!node1/epe1.txt.gz!epe1.txt",
            "bundle.tar.gz!node1/log.txt"
        ]
    );
    assert_eq!(got[0].folders, ["node1"]);
    assert_eq!(got[0].file_name, "epe1.txt");
    assert_eq!(got[0].data, b"22:26:18.719 |trace line\n");
    assert_eq!(got[1].mtime.unwrap().timestamp(), 1_700_000_000);

    // Plain tar too.
    let (got, diags) = mem("b.tar", tar, &InputConfig::default());
    assert!(diags.is_empty(), "{diags:?}");
    assert_eq!(got.len(), 2);
}

#[test]
fn single_gz() {
    let (got, diags) = mem("xcp.log.gz", gz_of(b"hello\n"), &InputConfig::default());
    assert!(diags.is_empty(), "{diags:?}");
    assert_eq!(paths(&got), ["xcp.log.gz!xcp.log"]);
    assert_eq!(got[0].file_name, "xcp.log");
    assert_eq!(got[0].data, b"hello\n");
    assert_eq!(gz_member_name("a.TGZ"), "a.tar");
    assert_eq!(gz_member_name("x.gz"), "x");
    assert_eq!(gz_member_name("noext"), "noext");
    assert_eq!(gz_member_name(".gz"), ".gz");
}

#[test]
fn unsafe_zip_members_refused_rest_read() {
    let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let opts = SimpleFileOptions::default();
    for name in ["../evil", "/abs", "C:\\abs.txt", "ok/../../x", "ok.txt"] {
        w.start_file(name, opts).unwrap();
        w.write_all(b"data").unwrap();
    }
    w.add_symlink("link", "ok.txt", opts).unwrap();
    w.add_directory("emptydir/", opts).unwrap();
    let bytes = w.finish().unwrap().into_inner();
    let (got, diags) = mem("bad.zip", bytes, &InputConfig::default());
    assert_eq!(paths(&got), ["bad.zip!ok.txt"]);
    let refused = diags.iter().filter(|d| d.level == DiagLevel::Error).count();
    assert_eq!(refused, 4, "{diags:?}");
    assert!(has_diag(
        &diags,
        DiagLevel::Error,
        "`../evil` refused: `..`"
    ));
    assert!(has_diag(
        &diags,
        DiagLevel::Error,
        "`/abs` refused: absolute"
    ));
    assert!(has_diag(&diags, DiagLevel::Error, "drive letter"));
    assert!(has_diag(
        &diags,
        DiagLevel::Info,
        "`link` is a symbolic link"
    ));
    assert!(diags.iter().all(|d| &*d.path == "bad.zip"));
}

#[test]
fn unsafe_tar_members_refused_rest_read() {
    let mut b = tar::Builder::new(Vec::new());
    b.append(
        &tar_header(b"../evil", 4, tar::EntryType::Regular),
        &b"evil"[..],
    )
    .unwrap();
    b.append(
        &tar_header(b"/etc/passwd", 4, tar::EntryType::Regular),
        &b"root"[..],
    )
    .unwrap();
    let mut link = tar_header(b"lnk", 0, tar::EntryType::Symlink);
    link.set_link_name("ok.txt").unwrap();
    link.set_cksum();
    b.append(&link, std::io::empty()).unwrap();
    b.append(
        &tar_header(b"ok.txt", 2, tar::EntryType::Regular),
        &b"ok"[..],
    )
    .unwrap();
    let bytes = b.into_inner().unwrap();
    let (got, diags) = mem("t.tar", bytes, &InputConfig::default());
    assert_eq!(paths(&got), ["t.tar!ok.txt"]);
    assert!(has_diag(&diags, DiagLevel::Error, "`../evil` refused"));
    assert!(has_diag(&diags, DiagLevel::Error, "`/etc/passwd` refused"));
    assert!(has_diag(&diags, DiagLevel::Info, "`lnk` is a link"));
}

#[test]
fn zip_bomb_refused_by_ratio() {
    let zeros = vec![0u8; 50 << 20];
    let bytes = zip_of(
        &[("bomb.bin", &zeros), ("fine.txt", b"fine")],
        CompressionMethod::Deflated,
    );
    assert!(bytes.len() < 1 << 20);
    let (got, diags) = mem("bomb.zip", bytes, &InputConfig::default());
    assert_eq!(paths(&got), ["bomb.zip!fine.txt"]);
    assert!(
        has_diag(&diags, DiagLevel::Error, "possible zip bomb"),
        "{diags:?}"
    );
    assert_eq!(&*diags[0].path, "bomb.zip!bomb.bin");
}

#[test]
fn gzip_bomb_in_tar_refused_while_inflating() {
    // The tar header declares an honest 50 MB: only the inflating reader can see the ratio.
    let zeros = vec![0u8; 50 << 20];
    let tar = tar_of(&[(b"a.txt", b"first"), (b"zeros.bin", &zeros)]);
    let (got, diags) = mem("bomb.tgz", gz_of(&tar), &InputConfig::default());
    assert_eq!(paths(&got), ["bomb.tgz!a.txt"]);
    assert!(
        has_diag(&diags, DiagLevel::Error, "compression ratio"),
        "{diags:?}"
    );
}

#[test]
fn member_and_archive_limits() {
    let cfg = InputConfig {
        max_member_bytes: 1000,
        ..InputConfig::default()
    };
    let big = noise(5000);
    let bytes = zip_of(
        &[("big.bin", &big), ("small.txt", b"s")],
        CompressionMethod::Deflated,
    );
    let (got, diags) = mem("m.zip", bytes, &cfg);
    assert_eq!(paths(&got), ["m.zip!small.txt"]);
    assert!(has_diag(
        &diags,
        DiagLevel::Error,
        "exceeds the member limit"
    ));

    // A single .gz has no declared size: the limit is enforced while inflating.
    let (got, diags) = mem("big.gz", gz_of(&big), &cfg);
    assert!(got.is_empty());
    assert!(
        has_diag(&diags, DiagLevel::Error, "beyond the member limit"),
        "{diags:?}"
    );

    let cfg = InputConfig {
        max_archive_bytes: 6000,
        ..InputConfig::default()
    };
    let tar = tar_of(&[(b"1", &big), (b"2", &big), (b"3", &big)]);
    let (got, diags) = mem("a.tar", tar, &cfg);
    assert!(got.len() < 3);
    assert!(
        has_diag(&diags, DiagLevel::Error, "per-archive limit"),
        "{diags:?}"
    );
    assert_eq!(
        diags
            .iter()
            .filter(|d| d.message.contains("per-archive"))
            .count(),
        1
    );
}

#[test]
fn truncated_zip_keeps_what_was_read() {
    let first = noise(3000);
    let second = noise(20_000);
    let bytes = zip_of(
        &[("a.bin", &first), ("b.bin", &second)],
        CompressionMethod::Deflated,
    );
    let cut = bytes.len() - 10_000 - 200;
    let (got, diags) = mem("t.zip", bytes[..cut].to_vec(), &InputConfig::default());
    assert_eq!(paths(&got), ["t.zip!a.bin", "t.zip!b.bin"], "{diags:?}");
    assert_eq!(got[0].data, first);
    assert!(!got[1].data.is_empty() && got[1].data.len() < second.len());
    assert!(second.starts_with(&got[1].data));
    assert!(
        has_diag(&diags, DiagLevel::Error, "truncated content passed on"),
        "{diags:?}"
    );
    assert!(
        has_diag(&diags, DiagLevel::Error, "recovered from local headers"),
        "{diags:?}"
    );

    // Stored members too.
    let bytes = zip_of(
        &[("a.bin", &first), ("b.bin", &second)],
        CompressionMethod::Stored,
    );
    let (got, diags) = mem(
        "s.zip",
        bytes[..bytes.len() - 15_000].to_vec(),
        &InputConfig::default(),
    );
    assert_eq!(got.len(), 2, "{diags:?}");
    assert!(has_diag(
        &diags,
        DiagLevel::Error,
        "truncated content passed on"
    ));
}

#[test]
fn truncated_gz_keeps_what_was_read() {
    let text = noise(100_000);
    let gz = gz_of(&text);
    let (got, diags) = mem(
        "x.log.gz",
        gz[..gz.len() / 2].to_vec(),
        &InputConfig::default(),
    );
    assert_eq!(paths(&got), ["x.log.gz!x.log"]);
    assert!(!got[0].data.is_empty() && text.starts_with(&got[0].data));
    assert!(
        has_diag(&diags, DiagLevel::Error, "truncated content passed on"),
        "{diags:?}"
    );

    // A truncated .tar.gz: the complete first member survives.
    let tar = tar_of(&[(b"a.txt", b"first"), (b"b.bin", &text)]);
    let gz = gz_of(&tar);
    let (got, diags) = mem(
        "x.tgz",
        gz[..gz.len() - 30_000].to_vec(),
        &InputConfig::default(),
    );
    assert_eq!(got[0].path, "x.tgz!a.txt");
    assert!(!diags.is_empty());
}

#[test]
fn corrupt_and_empty_inputs_never_panic() {
    let cfg = InputConfig::default();
    let zip = zip_of(
        &[("a.txt", b"aaaa"), ("d/b.txt", b"bbbb")],
        CompressionMethod::Deflated,
    );
    let tgz = gz_of(&tar_of(&[(b"a.txt", b"aaaa"), (b"b.txt", b"bbbb")]));
    for bytes in [&zip, &tgz] {
        for cut in 0..bytes.len() {
            let _ = mem("x", bytes[..cut].to_vec(), &cfg);
            let mut flipped = bytes.clone();
            flipped[cut] ^= 0x5A;
            let _ = mem("x", flipped, &cfg);
        }
    }
    let (got, diags) = mem("e.zip", b"PK\x05\x06".to_vec(), &cfg);
    assert!(got.is_empty());
    assert!(!diags.is_empty());
    let (got, diags) = mem("empty.zip", zip_of(&[], CompressionMethod::Stored), &cfg);
    assert!(got.is_empty() && diags.is_empty(), "{diags:?}");
    let (got, _) = mem("g.gz", vec![0x1F, 0x8B, 0x08], &cfg);
    assert!(got.is_empty());
    let (got, diags) = mem("empty.txt", Vec::new(), &cfg);
    assert_eq!(got.len(), 1);
    assert!(diags.is_empty());
}

#[test]
fn mmap_and_read_give_the_same_bytes() {
    let tmp = TempDir::new("mmap");
    let path = tmp.0.join("x.log");
    let bytes = noise(70_000);
    fs::write(&path, &bytes).unwrap();
    let empty = tmp.0.join("empty.log");
    fs::write(&empty, b"").unwrap();
    let source = Source::new(&path);
    assert_eq!(source.display, "x.log");
    let on = InputConfig::default();
    let off = InputConfig {
        mmap: false,
        ..InputConfig::default()
    };
    let (a, _) = run(|f| visit(&source, &on, f));
    let (b, _) = run(|f| visit(&source, &off, f));
    assert!(a[0].mapped && !b[0].mapped);
    assert_eq!(a[0].data, bytes);
    assert_eq!(a[0].data, b[0].data);
    let (e, d) = run(|f| visit(&Source::new(&empty), &on, f));
    assert!(d.is_empty() && e.len() == 1 && e[0].data.is_empty());
}

#[test]
fn discover_reports_missing_and_skips_symlinked_folders() {
    let tmp = TempDir::new("discover");
    let root = tmp.0.join("bundle");
    fs::create_dir_all(root.join("b")).unwrap();
    fs::create_dir_all(root.join("a")).unwrap();
    fs::write(root.join("b/2.txt"), b"2").unwrap();
    fs::write(root.join("a/1.txt"), b"1").unwrap();
    fs::write(root.join("z.txt"), b"z").unwrap();
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink(&root, root.join("loop")).unwrap();
        std::os::unix::fs::symlink(root.join("z.txt"), root.join("zlink.txt")).unwrap();
    }
    let mut diags = Vec::new();
    let missing = tmp.0.join("missing");
    let sources = discover(&[missing, root.clone(), root.join("z.txt")], &mut diags);
    let shown: Vec<&str> = sources.iter().map(|s| s.display.as_str()).collect();
    #[cfg(unix)]
    assert_eq!(
        shown,
        [
            "bundle/a/1.txt",
            "bundle/b/2.txt",
            "bundle/z.txt",
            "bundle/zlink.txt",
            "z.txt"
        ]
    );
    #[cfg(unix)]
    assert!(has_diag(&diags, DiagLevel::Info, "not followed"));
    assert!(has_diag(&diags, DiagLevel::Error, "cannot read input"));
    assert!(sources.iter().all(|s| !s.display.contains('\\')));

    // A source that disappeared between discover and visit.
    let gone = Source::new(tmp.0.join("gone.txt"));
    let (got, d) = run(|f| visit(&gone, &InputConfig::default(), f));
    assert!(got.is_empty());
    assert!(has_diag(&d, DiagLevel::Error, "cannot open file"));
}

#[test]
fn member_names() {
    assert_eq!(member_components("a\\b/./c").unwrap(), ["a", "b", "c"]);
    assert_eq!(member_components("a//b").unwrap(), ["a", "b"]);
    assert!(member_components("../x").is_err());
    assert!(member_components("a/../../x").is_err());
    assert!(member_components("\\\\server\\share").is_err());
    assert!(member_components("c:x").is_err());
    assert!(member_components("/").is_err());
    assert!(member_components("./").is_err());
    assert_eq!(member_components("ü/é.txt").unwrap(), ["ü", "é.txt"]);
}

#[test]
fn zip_names_without_utf8_flag_are_cp437() {
    let mut bytes = zip_of(&[("dir/xu.txt", b"x")], CompressionMethod::Stored);
    // Patch the name in the local and central headers: 0x81 is `ü` in CP437 (invalid UTF-8).
    let mut patched = 0;
    for i in 0..bytes.len().saturating_sub(6) {
        if &bytes[i..i + 6] == b"xu.txt" {
            bytes[i + 1] = 0x81;
            patched += 1;
        }
    }
    assert_eq!(patched, 2);
    let (got, diags) = mem("n.zip", bytes, &InputConfig::default());
    assert!(diags.is_empty(), "{diags:?}");
    assert_eq!(paths(&got), ["n.zip!dir/xü.txt"]);
    assert_eq!(got[0].file_name, "xü.txt");
}

#[test]
fn real_evtx_samples_pass_through() {
    // `../shared/data` next to the repository (as the integration tests read it).
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/data/evtx");
    if !dir.is_dir() {
        eprintln!("skipped: {} absent", dir.display());
        return;
    }
    let mut diags = Vec::new();
    let sources = discover(std::slice::from_ref(&dir), &mut diags);
    assert!(diags.is_empty());
    for s in &sources {
        let (got, d) = run(|f| visit(s, &InputConfig::default(), f));
        assert!(d.is_empty());
        assert_eq!(got.len(), 1);
        assert_eq!(sniff::sniff_bytes(&got[0].data), Kind::Format(Format::Evtx));
        assert!(got[0].path.starts_with("evtx/"));
    }
}
