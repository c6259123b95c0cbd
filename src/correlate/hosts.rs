//! Host names: normalisation and attribution of every record to a host.
//!
//! Why this module exists: one server shows up as `MBX01`, `mbx01`, `mbx01.contoso.com`, a
//! `MBX01_ServerHealth_FL.TXT` file-name prefix and a `MBX01/` bundle folder. Rules compare hosts,
//! so they must compare one key. The priority of sources is formats.md §10.2: a record field, then
//! a file-name prefix, then a per-server folder; never content such as URLs.

use crate::model::{Event, HostFrom};
use crate::pipeline::FileInfo;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

/// Folder names that describe content, not a server, even when they look like computer names.
const STRUCTURAL: &[&str] = &[
    "im",
    "um",
    "certs",
    "cert",
    "certificates",
    "cup-trust",
    "tomcat-trust",
    "epas",
    "trace",
    "sdi",
    "cas",
    "fe",
    "edge",
    "client",
    "clients",
    "server",
    "servers",
    "tracing",
    "owa",
    "ews",
    "iis",
    "rps",
    "ecp",
    "eas",
    "mapi",
    "oab",
    "pop3",
    "imap4",
    "smtp",
    "logs",
    "log",
    "logging",
    "config",
    "data",
    "eventlogs",
    "events",
    "evtx",
    "xml",
    "txt",
    "csv",
    "reg",
    "tmp",
    "httpproxy",
    "instantmessaging",
    "owa_logs",
    "exchange_server_data",
    "health",
    "cu",
    "v15",
    "v14",
    "ucma",
    "lync",
    "sfb",
    "cisco",
    "exchange",
    "bundle",
    "samples",
    "sample",
    "e15",
    "e16",
    "e19",
];

/// The normalised key of a host name: the lower-case first label, or the whole address for an IP.
/// Returns `None` for values that cannot be host names (empty, `-`, contain spaces or slashes).
pub fn host_key(name: &str) -> Option<String> {
    let mut n = name.trim().trim_end_matches('.');
    // DOMAIN\HOST and HOST\instance forms: keep the host part.
    if let Some((a, b)) = n.split_once('\\') {
        n = if a.contains('.') || b.is_empty() {
            a
        } else {
            b
        };
    }
    if n.is_empty() || n == "-" || n.contains([' ', '/', '\t', '(', ')', '"', '<', '>']) {
        return None;
    }
    if n.parse::<std::net::IpAddr>().is_ok() {
        return Some(n.to_ascii_lowercase());
    }
    let first = n.split('.').next().unwrap_or(n);
    if first.is_empty()
        || !first
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return None;
    }
    Some(first.to_ascii_lowercase())
}

/// A NetBIOS-like computer name: 1–15 letters, digits and hyphens, with at least one digit or
/// hyphen, or all upper case (formats.md §10.2, project convention).
pub fn looks_like_computer_name(s: &str) -> bool {
    let n = s.len();
    if n == 0 || n > 15 || !s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        return false;
    }
    if s.starts_with('-') || s.ends_with('-') {
        return false;
    }
    let has_digit_or_hyphen = s.chars().any(|c| c.is_ascii_digit() || c == '-');
    let has_letter = s.chars().any(|c| c.is_ascii_alphabetic());
    let all_upper = has_letter && s.chars().all(|c| !c.is_ascii_lowercase());
    has_letter && (has_digit_or_hyphen || all_upper)
}

/// A folder named by a host's FQDN (`imp01.contoso.com`, RTMT per-node folders): two or more labels,
/// an alphabetic last label, a computer-name-like first label.
pub fn looks_like_fqdn_host(s: &str) -> bool {
    let labels: Vec<&str> = s.split('.').collect();
    if labels.len() < 2 || s.len() > 253 {
        return false;
    }
    let valid = labels
        .iter()
        .all(|l| !l.is_empty() && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'));
    let tld = labels
        .last()
        .is_some_and(|t| (2..=10).contains(&t.len()) && t.chars().all(|c| c.is_ascii_alphabetic()));
    let first = labels[0];
    let first_ok = first.len() <= 15
        && first.chars().any(|c| c.is_ascii_alphabetic())
        && (labels.len() >= 3 || first.chars().any(|c| c.is_ascii_digit() || c == '-'));
    valid && tld && first_ok
}

fn host_like(d: &str, known: &HostTable) -> bool {
    !is_structural(d)
        && (looks_like_computer_name(d)
            || looks_like_fqdn_host(d)
            || host_key(d).is_some_and(|k| known.contains(&k)))
}

fn is_structural(s: &str) -> bool {
    let l = s.to_ascii_lowercase();
    STRUCTURAL.contains(&l.as_str())
        || (l.starts_with("w3svc") && l[5..].chars().all(|c| c.is_ascii_digit()))
}

/// One host of the bundle.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct HostInfo {
    /// The short name shown in reports.
    pub name: String,
    /// Every other spelling seen (FQDNs, other cases), sorted.
    pub aliases: Vec<String>,
}

/// All hosts of a bundle, by key.
#[derive(Clone, Debug, Default)]
pub struct HostTable {
    spellings: BTreeMap<String, BTreeMap<String, u32>>,
    /// Folder paths (`a/b`, relative to the bundle root) that hold other host-like folders: a case
    /// folder wrapping per-server folders, never a server itself.
    wrappers: std::collections::HashSet<String>,
}

impl HostTable {
    /// Records a spelling of a host; returns its key.
    pub fn note(&mut self, name: &str) -> Option<String> {
        let key = host_key(name)?;
        let name = name.trim().trim_end_matches('.');
        let name = match name.split_once('\\') {
            Some((a, b)) if !a.contains('.') && !b.is_empty() => b,
            Some((a, _)) => a,
            None => name,
        };
        *self
            .spellings
            .entry(key.clone())
            .or_default()
            .entry(name.to_string())
            .or_insert(0) += 1;
        Some(key)
    }

    pub fn contains(&self, key: &str) -> bool {
        self.spellings.contains_key(key)
    }

    /// The display form and aliases of a host key.
    pub fn info(&self, key: &str) -> HostInfo {
        let Some(sp) = self.spellings.get(key) else {
            return HostInfo {
                name: key.to_ascii_uppercase(),
                aliases: vec![],
            };
        };
        // The display name is a short name: a dot-free spelling when one was seen, else the first
        // label of an FQDN. Prefer spellings with capitals (Windows writes computer names in upper
        // case: `MBX01` over `mbx01` from a lower-case `Computer` or `ServerName` field), then ones
        // that were short as written, then the most frequent, then the smallest for determinism.
        let shortened = |n: &str| -> String {
            if n.contains('.') && n.parse::<std::net::IpAddr>().is_err() {
                n.split('.').next().unwrap_or(n).to_string()
            } else {
                n.to_string()
            }
        };
        let name = sp
            .iter()
            .max_by(|(a, ca), (b, cb)| {
                let key = |n: &str, c: u32| {
                    let short = shortened(n);
                    (
                        short.chars().any(|ch| ch.is_ascii_uppercase()),
                        !n.contains('.'),
                        c,
                        std::cmp::Reverse(short),
                    )
                };
                key(a, **ca).cmp(&key(b, **cb))
            })
            .map(|(n, _)| shortened(n))
            .unwrap_or_else(|| key.to_string());
        let aliases: BTreeSet<String> = sp.keys().filter(|s| **s != name).cloned().collect();
        HostInfo {
            name,
            aliases: aliases.into_iter().collect(),
        }
    }

    /// The display name of a host key.
    pub fn display(&self, key: &str) -> String {
        self.info(key).name
    }

    /// Every host key, sorted.
    pub fn keys(&self) -> Vec<String> {
        self.spellings.keys().cloned().collect()
    }
}

/// Resolves the host of every event: record field first, then file-name prefix, then folder.
/// Returns the host table and, per event, its host key (`None` when nothing names one).
pub fn attribute(events: &mut [Event], files: &[FileInfo]) -> (HostTable, Vec<Option<String>>) {
    let mut table = HostTable::default();
    for e in events.iter() {
        if let Some(h) = &e.host {
            table.note(h);
        }
    }
    let record_hosts = table.keys();
    table.wrappers = wrappers(files, &table);
    // Folder and file-name hosts are derived once per file.
    let by_path: HashMap<&Arc<str>, &FileInfo> = files.iter().map(|f| (&f.path, f)).collect();
    let mut per_file: HashMap<Arc<str>, (Option<String>, HostFrom)> = HashMap::new();
    for f in files {
        per_file.insert(f.path.clone(), file_host(f, &table));
    }
    let mut keys = Vec::with_capacity(events.len());
    for e in events.iter_mut() {
        if e.host_from == HostFrom::Record {
            if let Some(h) = &e.host {
                keys.push(host_key(h));
                continue;
            }
        }
        let fallback = per_file
            .get(&e.loc.path)
            .cloned()
            .or_else(|| by_path.get(&e.loc.path).map(|f| file_host(f, &table)));
        match fallback {
            Some((Some(h), from)) => {
                let k = table.note(&h);
                e.host = Some(h);
                e.host_from = from;
                keys.push(k);
            }
            _ => keys.push(None),
        }
    }
    // A bundle about exactly one host, named by its records: records that name none belong to it.
    // (A host known only from a file name or folder does not make a bundle single-host.)
    let all = table.keys();
    if let ([only], [from_records]) = (all.as_slice(), record_hosts.as_slice()) {
        if only != from_records {
            return (table, keys);
        }
        let display = table.display(only);
        for (e, k) in events.iter_mut().zip(keys.iter_mut()) {
            if k.is_none() {
                *k = Some(only.clone());
                e.host = Some(display.clone());
                e.host_from = HostFrom::Bundle;
            }
        }
    }
    (table, keys)
}

/// Folder paths that hold other host-like folders below them.
fn wrappers(files: &[FileInfo], known: &HostTable) -> std::collections::HashSet<String> {
    let mut out = std::collections::HashSet::new();
    for f in files {
        let like: Vec<usize> = (0..f.folders.len())
            .filter(|i| host_like(&f.folders[*i], known))
            .collect();
        for (n, i) in like.iter().enumerate() {
            if n + 1 < like.len() {
                out.insert(f.folders[..=*i].join("/"));
            }
        }
    }
    out
}

/// The host a file's records belong to when they name none: a file-name prefix or folder that is a
/// host known from record fields first, then a prefix, then a folder that merely looks like a
/// computer name (so `MBX01/Logging/OWA/InstantMessaging/IM_2024050109-1.LOG` belongs to MBX01,
/// not to a host "IM").
pub fn file_host(f: &FileInfo, known: &HostTable) -> (Option<String>, HostFrom) {
    let prefix = f
        .file_name
        .split_once('_')
        .map(|(p, _)| p)
        .filter(|p| !is_structural(p));
    let is_known = |s: &str| host_key(s).is_some_and(|k| known.contains(&k));
    let not_wrapper = |i: usize| !known.wrappers.contains(&f.folders[..=i].join("/"));
    // The innermost known-host folder, then a known-host prefix: a certificate named after the
    // Exchange server (`ex01_contoso_com.pem`) in an IM and Presence node's `cup-trust` folder
    // belongs to the node.
    let known_folder = (0..f.folders.len())
        .rev()
        .find(|i| is_known(&f.folders[*i]) && !is_structural(&f.folders[*i]) && not_wrapper(*i));
    if let Some(i) = known_folder {
        return (Some(f.folders[i].clone()), HostFrom::Folder);
    }
    if let Some(p) = prefix.filter(|p| is_known(p)) {
        return (Some(p.to_string()), HostFrom::FileName);
    }
    let folder = (0..f.folders.len())
        .rev()
        .find(|i| host_like(&f.folders[*i], known) && not_wrapper(*i));
    if let Some(i) = folder {
        return (Some(f.folders[i].clone()), HostFrom::Folder);
    }
    if let Some(p) = prefix.filter(|p| looks_like_computer_name(p)) {
        return (Some(p.to_string()), HostFrom::FileName);
    }
    (None, HostFrom::Unknown)
}

/// The per-server folder among `folders`: the innermost known host, else the innermost folder that
/// looks like a computer name or an FQDN and is not a structural name (no wrapper knowledge: use
/// [`file_host`] inside a bundle).
pub fn folder_host(folders: &[String], known: &HostTable) -> Option<String> {
    let is_known = |s: &str| host_key(s).is_some_and(|k| known.contains(&k));
    folders
        .iter()
        .rev()
        .find(|f| is_known(f) && !is_structural(f))
        .or_else(|| folders.iter().rev().find(|f| host_like(f, known)))
        .cloned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_fold_case_and_domain() {
        assert_eq!(host_key("MBX01").as_deref(), Some("mbx01"));
        assert_eq!(host_key("mbx01.contoso.com").as_deref(), Some("mbx01"));
        assert_eq!(
            host_key("Solo-E16A.Solo.local").as_deref(),
            Some("solo-e16a")
        );
        assert_eq!(host_key("CONTOSO\\MBX01").as_deref(), Some("mbx01"));
        assert_eq!(host_key("10.0.0.5").as_deref(), Some("10.0.0.5"));
        assert_eq!(host_key("-"), None);
        assert_eq!(host_key("two words"), None);
    }

    #[test]
    fn display_prefers_short_spelling() {
        let mut t = HostTable::default();
        t.note("solo-e16a.solo.local");
        t.note("SOLO-E16A");
        t.note("Solo-E16A.Solo.local");
        let info = t.info("solo-e16a");
        assert_eq!(info.name, "SOLO-E16A");
        assert_eq!(
            info.aliases,
            vec!["Solo-E16A.Solo.local", "solo-e16a.solo.local"]
        );
        let mut t = HostTable::default();
        t.note("mbx01.contoso.com");
        assert_eq!(t.display("mbx01"), "mbx01");
    }

    #[test]
    fn computer_names() {
        assert!(looks_like_computer_name("MBX01"));
        assert!(looks_like_computer_name("ex-01"));
        assert!(looks_like_computer_name("EXCH"));
        assert!(!looks_like_computer_name("Logging"));
        assert!(!looks_like_computer_name("OWA_Logs"));
        assert!(!looks_like_computer_name("averyveryverylongname1"));
        assert!(is_structural("W3SVC1"));
        assert!(is_structural("OWA"));
    }

    #[test]
    fn fqdn_folders_are_hosts() {
        assert!(looks_like_fqdn_host("imp01.contoso.com"));
        assert!(looks_like_fqdn_host("cup.corp.contoso.local"));
        assert!(!looks_like_fqdn_host("v15.0"));
        assert!(!looks_like_fqdn_host("logs.old"));
        assert!(!looks_like_fqdn_host("web.config"));
        let folders = vec![
            "imp01.contoso.com".to_string(),
            "certs".into(),
            "cup-trust".into(),
        ];
        assert_eq!(
            folder_host(&folders, &HostTable::default()).as_deref(),
            Some("imp01.contoso.com")
        );
    }

    #[test]
    fn folder_rule_prefers_known_hosts() {
        let mut known = HostTable::default();
        known.note("mbx02.contoso.com");
        let folders = vec![
            "CASE-42".to_string(),
            "MBX02".to_string(),
            "Logging".to_string(),
        ];
        assert_eq!(folder_host(&folders, &known).as_deref(), Some("MBX02"));
        // Without known hosts the innermost host-like folder wins: a case folder wraps servers.
        let known = HostTable::default();
        assert_eq!(folder_host(&folders, &known).as_deref(), Some("MBX02"));
        let folders = vec!["Logging".to_string(), "OWA".to_string()];
        assert_eq!(folder_host(&folders, &known), None);
    }
}
