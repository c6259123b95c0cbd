//! Every code path gives the same output (ripgrep's tester idea): mmap or read, 1 or 2 threads,
//! a large log parsed whole or in parallel chunks.

use crate::util;
use imtriage::formats::{self, Chunk, FileCtx};
use imtriage::model::Format;
use imtriage::pipeline;
use std::path::PathBuf;

fn all_bundles() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = Vec::new();
    for e in std::fs::read_dir(util::root().join("samples"))
        .expect("samples")
        .filter_map(Result::ok)
    {
        let p = e.path();
        if !p.is_dir() {
            continue;
        }
        for k in ["positive", "negative"] {
            if p.join(k).is_dir() {
                v.push(p.join(k));
            }
        }
        if !p.join("positive").is_dir() {
            v.push(p);
        }
    }
    v.extend(util::shared("exchange"));
    v.extend(util::shared("evtx"));
    v.sort();
    v
}

#[test]
fn mmap_read_and_thread_counts_agree() {
    for b in all_bundles() {
        let paths = vec![b.clone()];
        let base = util::jsonl(&util::analyze_with(&paths, 1, false));
        for (threads, mmap) in [(1, true), (2, false), (2, true)] {
            let other = util::jsonl(&util::analyze_with(&paths, threads, mmap));
            assert_eq!(
                base,
                other,
                "{}: output differs with threads={threads} mmap={mmap}",
                b.display()
            );
        }
    }
}

#[test]
fn events_are_identical_across_thread_counts() {
    let Some(evtx) = util::shared("evtx") else {
        return;
    };
    let render = |threads: usize| {
        let mut cfg = imtriage::AnalyzeConfig::default();
        cfg.parse.threads = threads;
        let (c, d, order) = imtriage::events(std::slice::from_ref(&evtx), &cfg);
        let mut s = String::new();
        for i in order {
            s.push_str(&imtriage::report::jsonl::event(&c.events[i], c.host(i)).to_string());
            s.push('\n');
        }
        (s, d.len())
    };
    assert_eq!(render(1), render(2));
}

/// A synthetic OWA IM Sync Log of about `rows` rows, with a second `#Fields` block half way.
fn big_log(rows: usize) -> String {
    let mut s = String::from(
        "#Software: Microsoft Exchange Server\r\n#Version: 15.01.2507.006\r\n#Log-type: Sync Logs\r\n#Date: 2024-05-01T09:00:00.000Z\r\n#Fields: date-time,thread-id,level,user,subscription-guid,subscription-type,logentry-id,context,property-bag\r\n",
    );
    for i in 0..rows {
        if i == rows / 2 {
            s.push_str("#Software: Microsoft Exchange Server\r\n#Version: 15.01.2507.006\r\n#Log-type: Sync Logs\r\n#Date: 2024-05-01T10:00:00.000Z\r\n#Fields: date-time,thread-id,level,user,context\r\n");
        }
        let sec = i % 60;
        if i >= rows / 2 {
            s.push_str(&format!("2024-05-01T10:{:02}:{sec:02}.000Z,{i},5,user{i}@contoso.com,\"DEBUG:line, with comma {i}\"\r\n", (i / 60) % 60));
        } else {
            s.push_str(&format!("2024-05-01T09:{:02}:{sec:02}.000Z,{i},5,,,,0,\"DEBUG:Queuing IM payload item {i}\",\r\n", (i / 60) % 60));
        }
    }
    s
}

#[test]
fn chunked_parse_equals_whole_parse() {
    let text = big_log(20_000);
    let ctx = FileCtx::new("big/IM.LOG");
    let whole = formats::parse_text(Format::ExchangeLog, &ctx, &Chunk::whole(&text));
    assert_eq!(whole.parsed, 20_000);
    assert_eq!(whole.rejected, 0);
    for target in [4096, 65_536, 300_000] {
        let chunked = pipeline::parse_text_file(Format::ExchangeLog, &ctx, &text, target);
        assert_eq!(chunked.parsed, whole.parsed, "target {target}");
        assert_eq!(chunked.rejected, whole.rejected, "target {target}");
        assert_eq!(
            chunked.events, whole.events,
            "target {target}: events differ"
        );
    }
}
