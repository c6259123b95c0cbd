//! RTMT `TraceCollectionResult*.xml` manifests (formats.md §8.1).
//!
//! Why this module exists: RTMT's "Collect Files" writes one such file per server next to the
//! per-node folders, stating which trace files were downloaded. It is the only record of what a
//! Cisco IM and Presence bundle *should* hold, so the coverage rules compare it with the files
//! actually present (a file that was overwritten before collection is lost, and its absence must
//! be reported, not mistaken for silence).
//!
//! The element names are NOT KNOWN. The reader therefore keeps no schema: it loads the XML tree
//! (the quick-xml tree reader of [`super::diaginfo`]), collects every attribute value or text that
//! looks like a file path, attributes each to a node when one is discernible (attributes or child
//! elements named like `node`/`server`/`host`, `name` on such an element, else the first segment
//! of a relative path that looks like a host name), marks a file failed when its element or an
//! enclosing one says so, and emits one `Body::Object` per node with `command` =
//! `TraceCollectionResult` and props `Node`, `Files`, `Failed`.
//!
//! Grammar and status markers: `grammars/rtmt-manifest.md`. Rule names used there: [`parse`],
//! [`is_path_like`], [`is_node_key`], [`host_like`], [`name_status`], [`attr_status`],
//! [`host_of_relative`].

use super::diaginfo::{read_element, reader, XNode};
use super::psobject::LineIndex;
use super::FileCtx;
use crate::model::{Body, DiagLevel, Diagnostic, Event, Format, Location, Parsed, Props, Value};
use quick_xml::events::Event as XEvent;

/// The `command` of every manifest object.
pub const COMMAND: &str = "TraceCollectionResult";

/// Attribute or element names (lower case, `_`/`-` removed) that name a node.
const NODE_KEYS: &[&str] = &[
    "node",
    "nodename",
    "nodeip",
    "server",
    "servername",
    "serverip",
    "host",
    "hostname",
    "hostip",
    "computername",
    "machinename",
];

/// Common directory names that are never taken for a host in a relative path (INFERRED).
const NOT_HOSTS: &[&str] = &[
    "var", "log", "logs", "active", "inactive", "epas", "trace", "tomcat", "cm", "common",
    "platform", "tmp", "opt", "usr", "home", "install", "syslog", "core", "cuc", "xcp", "sdi",
    "sdl", "log4j", "esp", "epe",
];

fn norm(name: &str) -> String {
    name.chars()
        .filter(|c| *c != '_' && *c != '-')
        .flat_map(char::to_lowercase)
        .collect()
}

/// `is_node_key`: an element or attribute name that names a node.
pub fn is_node_key(name: &str) -> bool {
    NODE_KEYS.contains(&norm(name).as_str())
}

/// `host_like := LABEL ("." LABEL)*`, letters, digits and hyphens, with a letter somewhere or four
/// numeric labels (an IPv4 address).
pub fn host_like(s: &str) -> bool {
    let labels: Vec<&str> = s.split('.').collect();
    let label_ok = |l: &&str| {
        !l.is_empty()
            && l.len() <= 63
            && l.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-')
            && !l.starts_with('-')
            && !l.ends_with('-')
    };
    s.len() <= 253
        && labels.iter().all(label_ok)
        && (s.bytes().any(|c| c.is_ascii_alphabetic())
            || (labels.len() == 4 && labels.iter().all(|l| l.parse::<u8>().is_ok())))
}

/// `is_path_like`: ends in `.gz` / `.txt` / `.log` / `.xml`, or contains `/` or `\` and ends in a
/// file-name-like segment (`name.ext` with a 1–8 character alphanumeric extension, or — with at
/// least two separators — a segment holding a letter). URLs, multi-line text and control
/// characters are never paths.
pub fn is_path_like(s: &str) -> bool {
    let s = s.trim();
    if s.len() < 3 || s.len() > 4096 || s.contains("://") || s.chars().any(char::is_control) {
        return false;
    }
    let lower = s.to_ascii_lowercase();
    if [".gz", ".txt", ".log", ".xml"]
        .iter()
        .any(|e| lower.ends_with(e))
    {
        return true;
    }
    let seps = s.matches(['/', '\\']).count();
    if seps == 0 {
        return false;
    }
    let last = s.rsplit(['/', '\\']).next().unwrap_or("");
    if last.is_empty() || last.contains(' ') {
        return false;
    }
    let has_ext = last.rsplit_once('.').is_some_and(|(stem, ext)| {
        !stem.is_empty()
            && (1..=8).contains(&ext.len())
            && ext.bytes().all(|c| c.is_ascii_alphanumeric())
    });
    has_ext || (seps >= 2 && last.bytes().any(|c| c.is_ascii_alphabetic()))
}

/// Failure words of a status value (lower case).
fn value_status(v: &str) -> Option<bool> {
    let v = v.trim().to_lowercase();
    let failed = [
        "fail",
        "error",
        "not collected",
        "notcollected",
        "not downloaded",
        "missing",
        "unsuccess",
        "lost",
        "overwritten",
    ];
    if failed.iter().any(|w| v.contains(w)) {
        Some(true)
    } else if [
        "success",
        "ok",
        "collected",
        "downloaded",
        "done",
        "complete",
    ]
    .contains(&v.as_str())
    {
        Some(false)
    } else {
        None
    }
}

fn boolean(v: &str) -> Option<bool> {
    match v.trim().to_lowercase().as_str() {
        "true" | "yes" | "1" => Some(true),
        "false" | "no" | "0" => Some(false),
        _ => None,
    }
}

/// `name_status`: what an element's name says about the files under it (`Some(true)` failed).
pub fn name_status(name: &str) -> Option<bool> {
    let n = norm(name);
    if [
        "fail",
        "error",
        "notcollected",
        "notdownloaded",
        "missing",
        "unsuccess",
        "lost",
    ]
    .iter()
    .any(|w| n.contains(w))
    {
        Some(true)
    } else if ["success", "collected", "downloaded"]
        .iter()
        .any(|w| n.contains(w))
    {
        Some(false)
    } else {
        None
    }
}

/// `attr_status`: what a `key="value"` attribute (or a `<key>value</key>` child) says.
/// `failed`/`error` keys: a boolean, or any other non-empty value than `none` → failed;
/// `success`/`collected`/`downloaded` keys: a boolean, inverted; `status`/`result`/`state` keys:
/// the failure or success words of the value.
pub fn attr_status(key: &str, value: &str) -> Option<bool> {
    let k = norm(key);
    if k.contains("fail") || k.contains("error") {
        return boolean(value).or_else(|| {
            let v = value.trim();
            (!v.is_empty() && !v.eq_ignore_ascii_case("none")).then_some(true)
        });
    }
    if k.contains("success") || k.contains("collect") || k.contains("download") {
        return boolean(value).map(|b| !b).or_else(|| value_status(value));
    }
    if k.contains("status") || k.contains("result") || k.contains("state") {
        return value_status(value);
    }
    None
}

/// `host_of_relative`: the first segment of a relative path with at least one more directory,
/// when it looks like a host and is not a common directory name.
pub fn host_of_relative(path: &str) -> Option<&str> {
    let p = path.trim();
    let drive = p.as_bytes().get(1) == Some(&b':');
    if p.starts_with(['/', '\\', '.']) || drive {
        return None;
    }
    let mut segs = p.split(['/', '\\']);
    let first = segs.next()?;
    (segs.count() >= 2
        && host_like(first)
        && !NOT_HOSTS.contains(&first.to_ascii_lowercase().as_str()))
    .then_some(first)
}

/// Files gathered for one node (or for no discernible node).
struct NodeAcc {
    name: Option<String>,
    pos: usize,
    files: Vec<String>,
    failed: Vec<String>,
}

#[derive(Default)]
struct Acc {
    nodes: Vec<NodeAcc>,
}

impl Acc {
    fn node(&mut self, name: Option<&str>, pos: usize) -> &mut NodeAcc {
        let i =
            match self.nodes.iter().position(|n| {
                n.name.as_deref().map(str::to_lowercase) == name.map(str::to_lowercase)
            }) {
                Some(i) => i,
                None => {
                    self.nodes.push(NodeAcc {
                        name: name.map(str::to_string),
                        pos,
                        files: Vec::new(),
                        failed: Vec::new(),
                    });
                    self.nodes.len() - 1
                }
            };
        &mut self.nodes[i]
    }

    fn file(&mut self, node: Option<&str>, path: &str, failed: bool, pos: usize) {
        let path = path.trim();
        let node = node.or_else(|| host_of_relative(path));
        let acc = self.node(node, pos);
        if failed {
            acc.files.retain(|f| f != path);
            if !acc.failed.iter().any(|f| f == path) {
                acc.failed.push(path.to_string());
            }
        } else if !acc.files.iter().any(|f| f == path) && !acc.failed.iter().any(|f| f == path) {
            acc.files.push(path.to_string());
        }
    }
}

/// A child that only carries a value (no children of its own, text that is not a path).
fn carrier(c: &XNode) -> Option<&str> {
    let t = c.text.trim();
    (c.children.is_empty() && !t.is_empty() && !is_path_like(t)).then_some(t)
}

/// Visits one element with the node and failure state inherited from its ancestors.
fn visit(n: &XNode, node: Option<&str>, failed: Option<bool>, acc: &mut Acc) {
    let node_like = is_node_key(&n.name);
    let own_node = n
        .attrs
        .iter()
        .find(|(k, v)| {
            (is_node_key(k) || (node_like && k.eq_ignore_ascii_case("name"))) && host_like(v.trim())
        })
        .map(|(_, v)| v.trim())
        .or_else(|| {
            n.children.iter().find_map(|c| {
                let named =
                    is_node_key(&c.name) || (node_like && c.name.eq_ignore_ascii_case("name"));
                carrier(c).filter(|t| named && host_like(t))
            })
        });
    let node = own_node.or(node);
    if own_node.is_some() {
        acc.node(node, n.pos);
    }
    let own_failed = n
        .attrs
        .iter()
        .filter(|(_, v)| !is_path_like(v))
        .find_map(|(k, v)| attr_status(k, v))
        .or_else(|| {
            n.children
                .iter()
                .find_map(|c| carrier(c).and_then(|t| attr_status(&c.name, t)))
        })
        .or_else(|| name_status(&n.name));
    let failed = own_failed.or(failed);
    let is_failed = failed == Some(true);
    for (_, v) in &n.attrs {
        if is_path_like(v) {
            acc.file(node, v, is_failed, n.pos);
        }
    }
    for piece in n.text.split(['\n', '\r', ';']) {
        if is_path_like(piece) {
            acc.file(node, piece, is_failed, n.pos);
        }
    }
    for c in &n.children {
        visit(c, node, failed, acc);
    }
}

/// Parses a manifest: `manifest := XML document`; see the module documentation. Malformed XML
/// (or text that holds no element) is one rejected record with an Error diagnostic at its line;
/// a well-formed manifest without any path gives one Warning and no event.
pub fn parse(ctx: &FileCtx, text: &str) -> Parsed {
    let format = Format::RtmtManifest;
    let mut out = Parsed::default();
    let index = LineIndex::new(text);
    let mut r = reader(text);
    let mut roots: Vec<XNode> = Vec::new();
    let mut error: Option<(usize, String)> = None;
    loop {
        let pos = usize::try_from(r.buffer_position()).unwrap_or(0);
        match r.read_event() {
            Ok(XEvent::Start(e)) => match read_element(&mut r, &e, pos, false) {
                Ok(n) => roots.push(n),
                Err(x) => error = Some((x.pos, x.message)),
            },
            Ok(XEvent::Empty(e)) => match read_element(&mut r, &e, pos, true) {
                Ok(n) => roots.push(n),
                Err(x) => error = Some((x.pos, x.message)),
            },
            Ok(XEvent::Text(t)) if roots.is_empty() && !t.iter().all(u8::is_ascii_whitespace) => {
                error = Some((pos, "text where the root element should be".into()));
            }
            Ok(XEvent::Eof) => break,
            Ok(_) => {}
            Err(e) => {
                error = Some((
                    usize::try_from(r.error_position()).unwrap_or(0),
                    e.to_string(),
                ))
            }
        }
        if error.is_some() {
            break;
        }
    }
    if let Some((pos, message)) = error {
        let pos = pos.min(text.len());
        let line_start = text
            .get(..pos)
            .and_then(|s| s.rfind(['\n', '\r']))
            .map_or(0, |i| i + 1);
        let excerpt = text
            .get(line_start..)
            .unwrap_or("")
            .lines()
            .next()
            .unwrap_or("");
        let loc = Location {
            path: ctx.path.clone(),
            line: index.line(pos),
            record: 1,
            offset: pos as u64,
        };
        let msg = format!("malformed manifest XML: {message}");
        out.reject(Diagnostic::at(DiagLevel::Error, &loc, format, msg).with_excerpt(excerpt));
        return out;
    }
    let mut acc = Acc::default();
    for root in &roots {
        visit(root, None, None, &mut acc);
    }
    if acc
        .nodes
        .iter()
        .all(|n| n.files.is_empty() && n.failed.is_empty())
        && !roots.is_empty()
    {
        let mut d = Diagnostic::file(
            DiagLevel::Warning,
            &ctx.path,
            "no file path found in the manifest",
        );
        d.format = Some(format);
        out.diagnostics.push(d);
    }
    for (i, n) in acc.nodes.into_iter().enumerate() {
        let loc = Location {
            path: ctx.path.clone(),
            line: index.line(n.pos),
            record: i as u64 + 1,
            offset: n.pos as u64,
        };
        let excerpt = text.get(n.pos..).unwrap_or("").lines().next().unwrap_or("");
        let mut props = Props::default();
        props.push("Node", n.name.map_or(Value::Null, Value::Text));
        props.push(
            "Files",
            Value::List {
                items: n.files,
                truncated: false,
            },
        );
        props.push(
            "Failed",
            Value::List {
                items: n.failed,
                truncated: false,
            },
        );
        let body = Body::Object {
            type_names: Vec::new(),
            command: Some(COMMAND.into()),
            props,
        };
        out.push(Event::new(format, loc, body, excerpt));
    }
    out
}

#[cfg(test)]
#[path = "rtmt_tests.rs"]
mod tests;
