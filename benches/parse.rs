//! Parser throughput, one case per format, plus the end-to-end analysis of the sample bundles.
//!
//! A plain harness (no criterion): each case is warmed up, run `RUNS` times, and the median MB/s is
//! printed with the input size. Run with `cargo bench --bench parse`. The real .evtx samples are
//! read from `../shared/data/evtx` when present. Targets for gigabyte bundles and the comparison with
//! `rg` and `evtx_dump` belong to the scale benchmark (issue "Speed, scale and hardening").

use imtriage::formats::{self, Chunk, FileCtx};
use imtriage::model::Format;
use std::hint::black_box;
use std::path::PathBuf;
use std::time::Instant;

const RUNS: usize = 7;

fn median_secs(mut f: impl FnMut() -> u64) -> (f64, u64) {
    let records = f();
    let mut times: Vec<f64> = (0..RUNS)
        .map(|_| {
            let t = Instant::now();
            black_box(f());
            t.elapsed().as_secs_f64()
        })
        .collect();
    times.sort_by(|a, b| a.total_cmp(b));
    (times[RUNS / 2], records)
}

fn report(name: &str, bytes: usize, (secs, records): (f64, u64)) {
    let mb = bytes as f64 / 1e6;
    println!(
        "{name:<28} {mb:>9.2} MB {records:>9} records {:>9.1} MB/s {:>12.0} records/s",
        mb / secs,
        records as f64 / secs
    );
}

fn sync_log(rows: usize) -> String {
    let mut s = String::from("#Software: Microsoft Exchange Server\r\n#Version: 15.01.2507.006\r\n#Log-type: Sync Logs\r\n#Date: 2024-05-01T09:00:00.000Z\r\n#Fields: date-time,thread-id,level,user,subscription-guid,subscription-type,logentry-id,context,property-bag\r\n");
    for i in 0..rows {
        s.push_str(&format!(
            "2024-05-01T09:{:02}:{:02}.{:03}Z,{},5,,,,0,\"DEBUG:InstantMessageOCSProvider.ChangeUserPresenceAfterInactivity. Context: user{i}@contoso.com, Sip address=sip:user{i}@contoso.com, Lyncserver=pool01.contoso.com\",\r\n",
            (i / 60) % 60,
            i % 60,
            i % 1000,
            i % 97
        ));
    }
    s
}

fn event_xml(n: usize) -> String {
    let mut s = String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n");
    for i in 0..n {
        s.push_str(&format!("<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System><Provider Name='MSExchange OWA'/><EventID Qualifiers='49152'>{}</EventID><Level>2</Level><Task>9</Task><Keywords>0x80000000000000</Keywords><TimeCreated SystemTime='2024-05-01T10:{:02}:{:02}.0000000Z'/><EventRecordID>{i}</EventRecordID><Channel>Application</Channel><Computer>MBX01.contoso.com</Computer><Security/></System><EventData><Data>C:\\Program Files\\Microsoft UCMA 4.0\\Runtime\\SSP\\Microsoft.Rtc.Internal.Ucweb.dll</Data></EventData></Event>\n", 100 + i % 7, (i / 60) % 60, i % 60));
    }
    s
}

fn main() {
    println!(
        "imtriage parse benchmark: median of {RUNS} runs, {} threads available",
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    );
    let log = sync_log(200_000);
    let ctx = FileCtx::new("bench/IM.LOG");
    report(
        "exchange-log (1 chunk)",
        log.len(),
        median_secs(|| formats::parse_text(Format::ExchangeLog, &ctx, &Chunk::whole(&log)).parsed),
    );
    report(
        "exchange-log (4 MiB chunks)",
        log.len(),
        median_secs(|| {
            imtriage::pipeline::parse_text_file(Format::ExchangeLog, &ctx, &log, 4 << 20).parsed
        }),
    );
    let xml = event_xml(50_000);
    report(
        "event-xml",
        xml.len(),
        median_secs(|| formats::parse_text(Format::EventXml, &ctx, &Chunk::whole(&xml)).parsed),
    );
    let evtx_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/data/evtx");
    for name in ["security.evtx", "system.evtx"] {
        if let Ok(bytes) = std::fs::read(evtx_dir.join(name)) {
            let ctx = FileCtx::new(name);
            report(
                &format!("evtx {name}"),
                bytes.len(),
                median_secs(|| formats::parse_binary(Format::Evtx, &ctx, &bytes).parsed),
            );
        }
    }
    let samples = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("samples");
    let catalog = imtriage::classify::catalog::Catalog::builtin().expect("catalog");
    let cfg = imtriage::AnalyzeConfig::default();
    let (secs, findings) = median_secs(|| {
        imtriage::analyze(&[samples.join("healthy-exchange2016")], &cfg, &catalog)
            .analysis
            .findings
            .len() as u64
    });
    println!(
        "analyze samples/healthy-exchange2016: {:.2} ms ({findings} findings)",
        secs * 1e3
    );
}
