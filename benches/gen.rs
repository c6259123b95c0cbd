//! Benchmark bundle generator and catalog needle extraction (issue 5, `benches/bench.sh`).
//!
//! `cargo run --release --example gen -- bundle OUT SIZE [EVTX_DIR]` writes a realistic bundle of
//! about SIZE bytes of text (`2G`, `500M`, `64K`) under `OUT/text/` — SIPStack traces of a Front
//! End (`POOL01/`), Exchange IM sync logs and Application event XML exports of a mailbox server
//! (`MBX01/`), and the configuration captures of `samples/healthy-exchange2016` — mostly healthy
//! records, with one Front End rejection of the Exchange server and one OWA event 101 planted.
//! When EVTX_DIR holds `.evtx` files, copies of them (about SIZE/20 bytes) go to `OUT/evtx/`:
//! real files are copied at generation time, never committed. The output is a pure function of
//! SIZE (fixed seed). `OUT/manifest.tsv` lists each input kind with its bytes and record count.
//!
//! `cargo run --example gen -- needles FILE` writes every literal string the catalog's signals
//! look for (one a line, for `rg -F -f FILE`): the literal alternatives of `text`, `event.text`,
//! `sip.text` and monitor regexes (regex-syntax's literal extractor), event providers, and
//! `sip.codes`. [`needles`] is tested (`cargo test --example gen`).

use imtriage::classify::catalog::Catalog;
use imtriage::classify::matchers;
use std::fmt::Write as _;
use std::fs;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

/// Target size of one generated file: logs rotate, and several files let the pipeline use
/// every core on file parallelism as well as chunk parallelism.
const FILE_BYTES: u64 = 64 << 20;

/// The literals of a catalog regex (the library's own extraction, shared with the prefilter).
fn regex_literals(re: &str) -> Vec<String> {
    matchers::regex_literals(re).unwrap_or_default()
}

/// Every literal string the catalog's signals look for, sorted and de-duplicated.
pub fn needles(catalog: &Catalog) -> Vec<String> {
    let mut out = Vec::new();
    for s in catalog.causes.values().flat_map(|c| &c.signals) {
        let mut regexes: Vec<&str> = Vec::new();
        if let Some(t) = &s.text {
            regexes.push(t);
        }
        if let Some(e) = &s.event {
            regexes.extend(e.text.as_deref());
            out.extend(e.provider.clone());
        }
        if let Some(m) = &s.monitor {
            regexes.push(&m.monitor);
        }
        if let Some(sip) = &s.sip {
            regexes.extend(sip.text.as_deref());
            out.extend(sip.codes.iter().cloned());
        }
        for r in regexes {
            out.extend(regex_literals(r));
        }
    }
    out.retain(|n| !n.trim().is_empty());
    out.sort();
    out.dedup();
    out
}

/// A small deterministic generator (xorshift64*), so bundles are a pure function of their size.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

/// Writes files of about [`FILE_BYTES`] named `prefix_NNN.ext` until `budget` bytes are written;
/// `header` starts every file, `record(i, out)` appends record `i`; `plant` is written once, in
/// the middle of the first file. Returns (bytes, records).
fn write_files(
    dir: &Path,
    name: &dyn Fn(usize) -> String,
    budget: u64,
    header: &str,
    plant: &str,
    record: &mut dyn FnMut(u64, &mut String),
) -> io::Result<(u64, u64)> {
    fs::create_dir_all(dir)?;
    let (mut total, mut records, mut file_no) = (0u64, 0u64, 0usize);
    let mut planted = plant.is_empty();
    while total < budget {
        let mut w = BufWriter::with_capacity(1 << 20, fs::File::create(dir.join(name(file_no)))?);
        w.write_all(header.as_bytes())?;
        let (mut bytes, mut buf) = (header.len() as u64, String::new());
        let limit = FILE_BYTES.min(budget - total);
        while bytes < limit {
            buf.clear();
            if !planted && bytes >= limit / 2 {
                buf.push_str(plant);
                planted = true;
                records += 1;
            }
            record(records, &mut buf);
            records += 1;
            w.write_all(buf.as_bytes())?;
            bytes += buf.len() as u64;
        }
        w.flush()?;
        total += bytes;
        file_no += 1;
    }
    Ok((total, records))
}

const USERS: u64 = 5000;

fn sip_record(rng: &mut Rng, i: u64, out: &mut String) {
    let (pid, tid) = (0x06E4, 0x0EB4 + (i % 16));
    let secs = i / 40;
    let ts = format!(
        "05/01/2024-{:02}:{:02}:{:02}.{:03}",
        (secs / 3600) % 24,
        (secs / 60) % 60,
        secs % 60,
        i % 1000
    );
    let (u1, u2) = (rng.below(USERS), rng.below(USERS));
    match rng.below(20) {
        0 => {
            let _ = write!(
                out,
                "TL_INFO(TF_CONNECTION) [0]{pid:04X}.{tid:04X}::{ts}.{i:08x} (SIPStack,SIPAdminLog::TraceConnectionRecord:SIPAdminLog.cpp(160))$$begin_record\r\nLogType: connection\r\nSeverity: information\r\nText: TLS negotiation succeeded\r\nLocal-IP: 10.0.0.10:5061\r\nPeer-IP: 10.0.1.{}:{}\r\nPeer-FQDN: mbx01.contoso.com\r\nConnection-ID: 0x{:04X}\r\nTransport: TLS\r\n$$end_record\r\n",
                u1 % 250,
                49152 + u2 % 16000,
                i % 0xFFFF
            );
        }
        _ => {
            let method = ["MESSAGE", "SUBSCRIBE", "NOTIFY", "BENOTIFY"][rng.below(4) as usize];
            // Half requests, half responses; one record in ten carries the pool's Server header.
            let (mtype, start) = if rng.below(2) == 0 {
                (
                    "request",
                    format!("{method} sip:user{u2}@contoso.com SIP/2.0"),
                )
            } else {
                ("response", "SIP/2.0 200 OK".to_string())
            };
            let agent = if rng.below(10) == 0 {
                "SERVER: RTC/5.0"
            } else {
                "USER-AGENT: UCCAPI/15.0.4971.1000 OC/15.0.4971.1000 (Skype for Business)"
            };
            let _ = write!(
                out,
                "TL_INFO(TF_PROTOCOL) [0]{pid:04X}.{tid:04X}::{ts}.{i:08x} (SIPStack,SIPAdminLog::TraceProtocolRecord:SIPAdminLog.cpp(125))$$begin_record\r\nTrace-Correlation-Id: {}\r\nInstance-Id: {:08X}\r\nDirection: outgoing;source=\"local\";destination=\"peer\"\r\nPeer: mbx01.contoso.com:5199\r\nMessage-Type: {mtype}\r\nStart-Line: {start}\r\nFROM: <sip:user{u1}@contoso.com>;tag={:08x}\r\nTO: <sip:user{u2}@contoso.com>;tag={:08x};epid={:010x}\r\nCALL-ID: {:032x}\r\nCSEQ: {} {method}\r\nVIA: SIP/2.0/TLS 10.0.0.20:{};branch=z9hG4bK{:08x};ms-received-port={};ms-received-cid=1F00\r\nCONTENT-LENGTH: 0\r\n{agent}\r\nMessage-Body: -\r\n$$end_record\r\n",
                2_000_000_000 + i,
                i,
                rng.next() as u32,
                rng.next() as u32,
                rng.next() & 0xFF_FFFF_FFFF,
                rng.next() as u128 * 3,
                1 + i % 50,
                49152 + u1 % 16000,
                rng.next() as u32,
                49152 + u1 % 16000,
            );
        }
    }
}

const FE_REJECTION: &str = "TL_ERROR(TF_CONNECTION) [0]0AC0.1278::05/01/2024-10:45:01.704.000003ca (SIPStack,SIPAdminLog::TraceConnectionRecord:SIPAdminLog.cpp(160))$$begin_record\r\nLogType: connection\r\nSeverity: error\r\nText: The peer is not a configured server on this network interface\r\nTransport: TLS\r\nData: fqdn=\"mail.contoso.com\"\r\n$$end_record\r\n";

const EXLOG_HEADER: &str = "#Software: Microsoft Exchange Server\r\n#Version: 15.01.2507.006\r\n#Log-type: Sync Logs\r\n#Date: 2024-05-01T09:00:00.000Z\r\n#Fields: date-time,thread-id,level,user,subscription-guid,subscription-type,logentry-id,context,property-bag\r\n";

fn exlog_row(rng: &mut Rng, i: u64, out: &mut String) {
    let secs = i / 50;
    let u = rng.below(USERS);
    let ts = format!(
        "2024-05-01T{:02}:{:02}:{:02}.{:03}Z",
        (secs / 3600) % 24,
        (secs / 60) % 60,
        secs % 60,
        i % 1000
    );
    let tid = 10 + rng.below(90);
    let _ = match rng.below(3) {
        0 => write!(out, "{ts},{tid},5,,,,0,DEBUG:Queuing IM payload item UpdateUserPresence for user sip:user{u}@contoso.com,\r\n"),
        1 => write!(out, "{ts},{tid},5,,,,0,\"DEBUG:InstantMessageOCSProvider.ChangeUserPresenceAfterInactivity. Context: user{u}@contoso.com, Sip address=sip:user{u}@contoso.com, Lyncserver=pool01.contoso.com\",\r\n"),
        _ => write!(out, "{ts},{tid},5,,,,0,\"DEBUG:InstantMessageOCSProvider.SendMessage. Context: user{u}@contoso.com, Conversation=0x{:08X}, Lyncserver=pool01.contoso.com\",\r\n", rng.next() as u32),
    };
}

const XML_HEADER: &str = "<?xml version=\"1.0\" encoding=\"utf-8\"?>\r\n<Events>\r\n";

fn xml_event(provider: &str, id: u32, level: u8, rec: u64, data: &str, out: &mut String) {
    let secs = rec / 5;
    let _ = write!(
        out,
        "<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System><Provider Name='{provider}'/><EventID Qualifiers='16384'>{id}</EventID><Level>{level}</Level><Task>0</Task><Keywords>0x80000000000000</Keywords><TimeCreated SystemTime='2024-05-01T{:02}:{:02}:{:02}.{:03}0000Z'/><EventRecordID>{rec}</EventRecordID><Channel>Application</Channel><Computer>MBX01.contoso.com</Computer><Security/></System><EventData><Data>{data}</Data></EventData></Event>\r\n",
        (secs / 3600) % 24,
        (secs / 60) % 60,
        secs % 60,
        rec % 1000
    );
}

fn xml_record(rng: &mut Rng, i: u64, out: &mut String) {
    match rng.below(4) {
        0 => xml_event("MSExchange ADAccess", 2080, 4, i, "Process MSExchangeHMWorker.exe (PID=4520). Exchange Active Directory Provider has discovered the following servers with the following characteristics: DC01.contoso.com CDG 1 7 7 1 0 1 1 7 1", out),
        1 => xml_event("Service Control Manager", 7036, 4, i, "The Microsoft Exchange Search Host Controller service entered the running state.", out),
        2 => xml_event("MSExchangeFastSearch", 1009, 4, i, "The indexing of mailbox database DB01 has completed.", out),
        _ => xml_event("ESENT", 326, 4, i, "Information Store - DB01 (12764,D,50) DB01: The database engine attached a database.", out),
    }
}

fn parse_size(s: &str) -> Option<u64> {
    let s = s.trim();
    let (num, mul) = match s.char_indices().last()? {
        (i, 'K' | 'k') => (&s[..i], 1u64 << 10),
        (i, 'M' | 'm') => (&s[..i], 1 << 20),
        (i, 'G' | 'g') => (&s[..i], 1 << 30),
        _ => (s, 1),
    };
    num.parse::<f64>().ok().map(|n| (n * mul as f64) as u64)
}

fn copy_tree(from: &Path, to: &Path) -> io::Result<()> {
    fs::create_dir_all(to)?;
    let mut entries: Vec<_> = fs::read_dir(from)?.filter_map(Result::ok).collect();
    entries.sort_by_key(|e| e.path());
    for e in entries {
        let p = e.path();
        if p.is_dir() {
            copy_tree(&p, &to.join(e.file_name()))?;
        } else {
            fs::copy(&p, to.join(e.file_name()))?;
        }
    }
    Ok(())
}

/// Writes the bundle; returns the manifest lines `kind\tpaths\tbytes\trecords`.
pub fn bundle(out: &Path, size: u64, evtx_dir: Option<&Path>) -> io::Result<Vec<String>> {
    let text = out.join("text");
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut manifest = Vec::new();
    let (b, r) = write_files(
        &text.join("POOL01"),
        &|n| format!("SIPStack_FE_{n:03}.txt"),
        size / 2,
        "",
        FE_REJECTION,
        &mut |i, s| sip_record(&mut rng, i, s),
    )?;
    manifest.push(format!("sipstack\ttext/POOL01\t{b}\t{r}"));
    let (b, r) = write_files(
        &text.join("MBX01/Logging/OWA/InstantMessaging"),
        &|n| format!("IM_20240501{n:02}-1.LOG"),
        size * 3 / 10,
        EXLOG_HEADER,
        "",
        &mut |i, s| exlog_row(&mut rng, i, s),
    )?;
    manifest.push(format!(
        "exchange-log\ttext/MBX01/Logging/OWA/InstantMessaging\t{b}\t{r}"
    ));
    let mut plant = String::new();
    xml_event("MSExchange OWA", 101, 2, 999_999, "Owa InstantMessaging provider failed to initialize due to incorrect IM configuration on the server", &mut plant);
    let (b, r) = write_files(
        &text.join("MBX01/EventLogs"),
        &|n| format!("Application_{n:03}.xml"),
        size / 5,
        XML_HEADER,
        &plant,
        &mut |i, s| xml_record(&mut rng, i, s),
    )?;
    manifest.push(format!("event-xml\ttext/MBX01/EventLogs\t{b}\t{r}"));
    let samples = Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/healthy-exchange2016");
    copy_tree(&samples, &text.join("config"))?;
    if let Some(dir) = evtx_dir {
        let mut srcs: Vec<PathBuf> = fs::read_dir(dir)?
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "evtx"))
            .collect();
        srcs.sort();
        let dest = out.join("evtx");
        fs::create_dir_all(&dest)?;
        let (mut bytes, mut n) = (0u64, 0usize);
        while !srcs.is_empty() && bytes < size / 20 {
            let src = &srcs[n % srcs.len()];
            let name = src
                .file_name()
                .map_or_else(String::new, |f| f.to_string_lossy().into_owned());
            bytes += fs::copy(src, dest.join(format!("{:04}_{name}", n)))?;
            n += 1;
        }
        manifest.push(format!("evtx\tevtx\t{bytes}\t-"));
    }
    Ok(manifest)
}

fn main() -> io::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["needles", file] => {
            let catalog = Catalog::builtin().map_err(|e| io::Error::other(e.to_string()))?;
            let mut s = needles(&catalog).join("\n");
            s.push('\n');
            fs::write(file, s)
        }
        ["bundle", out, size, rest @ ..] => {
            let size = parse_size(size).ok_or_else(|| io::Error::other("bad SIZE"))?;
            let out = PathBuf::from(out);
            let manifest = bundle(&out, size, rest.first().map(Path::new))?;
            let mut s = manifest.join("\n");
            s.push('\n');
            fs::write(out.join("manifest.tsv"), &s)?;
            print!("{s}");
            Ok(())
        }
        _ => Err(io::Error::other(
            "usage: gen bundle OUT SIZE [EVTX_DIR] | gen needles FILE",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_of_alternations_and_classes() {
        assert_eq!(
            regex_literals(r"IM Certificate with thumbprint \S+ could not be found"),
            vec!["IM Certificate with thumbprint "]
        );
        let v = regex_literals("Owa InstantMessaging provider failed to (initialize|intialize)");
        assert_eq!(
            v,
            vec![
                "Owa InstantMessaging provider failed to initialize",
                "Owa InstantMessaging provider failed to intialize"
            ]
        );
        assert!(regex_literals(r"\d+").is_empty());
    }

    #[test]
    fn needles_cover_the_catalog() {
        let n = needles(&Catalog::builtin().expect("catalog"));
        for want in [
            "MSExchange OWA",
            "Schannel",
            "0x800B0109",
            "MAPI unavailable",
        ] {
            assert!(n.iter().any(|x| x == want), "{want} missing from {n:?}");
        }
        assert!(n.iter().all(|x| x.trim().len() >= 3));
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size("2G"), Some(2 << 30));
        assert_eq!(parse_size("64K"), Some(64 << 10));
        assert_eq!(parse_size("100"), Some(100));
    }
}
