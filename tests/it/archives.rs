//! Bundles read from archives in place give the same findings as the folder they were made from,
//! with archive members named `archive.zip!inner/path`.

use crate::util;
use std::io::Write;
use std::path::{Path, PathBuf};

fn temp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("imtriage-it-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("temp dir");
    d
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d)
            .expect("read dir")
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

fn zip_of(dir: &Path, out: &Path) {
    let f = std::fs::File::create(out).expect("create zip");
    let mut z = zip::ZipWriter::new(f);
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for p in files_under(dir) {
        let rel = p
            .strip_prefix(dir)
            .expect("prefix")
            .to_string_lossy()
            .replace('\\', "/");
        z.start_file(rel, opts).expect("start file");
        z.write_all(&std::fs::read(&p).expect("read"))
            .expect("write");
    }
    z.finish().expect("finish zip");
}

fn targz_of(dir: &Path, out: &Path) {
    let f = std::fs::File::create(out).expect("create tgz");
    let gz = flate2::write::GzEncoder::new(f, flate2::Compression::default());
    let mut t = tar::Builder::new(gz);
    for p in files_under(dir) {
        let rel = p.strip_prefix(dir).expect("prefix");
        t.append_path_with_name(&p, rel).expect("append");
    }
    t.into_inner().expect("tar").finish().expect("gz");
}

#[test]
fn zip_and_targz_bundles_match_the_folder() {
    let src = util::root().join("samples/owa-im-thumbprint-stale/positive");
    let want = util::finding_keys(&util::analyze(&src));
    assert_eq!(want, vec!["owa-im-thumbprint-stale@MBX01"]);
    let tmp = temp_dir("archives");
    let zip = tmp.join("case-1234.zip");
    zip_of(&src, &zip);
    let r = util::analyze(&zip);
    assert_eq!(util::finding_keys(&r), want, "zip: {:?}", r.diagnostics);
    assert!(
        r.analysis.findings[0]
            .evidence
            .iter()
            .any(|e| e.path.contains("case-1234.zip!")),
        "archive paths shown"
    );
    let tgz = tmp.join("case-1234.tar.gz");
    targz_of(&src, &tgz);
    assert_eq!(util::finding_keys(&util::analyze(&tgz)), want, "tar.gz");
    // A zip nested in a folder of another bundle, next to loose files.
    let outer = tmp.join("outer");
    std::fs::create_dir_all(outer.join("uploads")).expect("mkdir");
    std::fs::copy(&zip, outer.join("uploads/inner.zip")).expect("copy");
    assert_eq!(
        util::finding_keys(&util::analyze(&outer)),
        want,
        "nested zip"
    );
    let outer_zip = tmp.join("outer.zip");
    zip_of(&outer, &outer_zip);
    assert_eq!(
        util::finding_keys(&util::analyze(&outer_zip)),
        want,
        "zip in zip"
    );
    let _ = std::fs::remove_dir_all(&tmp);
}
