//! Windows registry `.reg` exports (formats.md §5).
//!
//! Why this module exists: several IM failures are decided by one registry value — the OWA
//! `InstantMessaging\ImplementationDLLPath` that must point to the UCWeb DLL, the MAPI
//! `DefaultProfile` the Lync client follows, `Lsa\MSV1_0\NTLMMinServerSec` that breaks Cisco's
//! NTLM to EWS. Support bundles carry these as `regedit` / `reg export` files, so this module turns
//! each key section into one [`Body::RegistryKey`] event with its values decoded to text.
//!
//! One record = one key section (`[KEY]` or `[-KEY]`). A malformed value line is a Warning on the
//! key (the key still counts as parsed); a malformed key line is a rejected record whose value
//! lines are skipped with it. Grammar and status markers: `grammars/registry.md`; rule names used
//! there: [`parse`] (file), [`header_line`], [`key_line`], [`value_line`], [`value_name`],
//! [`data`], [`hex_bytes`].

use crate::formats::{numbered_lines, FileCtx};
use crate::model::{Body, DiagLevel, Diagnostic, Event, Format, Location, Parsed, RegValue};

/// Detailed diagnostics kept per file for each level; the rest are counted in one summary.
const DETAIL_CAP: usize = 50;

/// `header_line := "Windows Registry Editor Version 5.00" | "REGEDIT4"`; returns whether the file
/// is a `REGEDIT4` (ANSI) export, or `None` when the line is not a header.
fn header_line(line: &str) -> Option<bool> {
    let l = line.trim();
    if l.eq_ignore_ascii_case("REGEDIT4") {
        Some(true)
    } else if l.eq_ignore_ascii_case("Windows Registry Editor Version 5.00") {
        Some(false)
    } else {
        None
    }
}

/// `key_line := "[" ["-"] KEY_PATH "]"` → `(key as written, deleted)`.
fn key_line(line: &str) -> Option<(String, bool)> {
    let inner = line.trim().strip_prefix('[')?.strip_suffix(']')?;
    let (deleted, key) = match inner.strip_prefix('-') {
        Some(k) => (true, k),
        None => (false, inner),
    };
    let key = key.trim();
    (!key.is_empty()).then(|| (key.to_string(), deleted))
}

/// `value_name := '"' (CHAR | "\\" | "\"")* '"' | "@"` → `(name, rest after the name)`.
/// `"@"` is read as the default value `@` too.
fn value_name(line: &str) -> Option<(String, &str)> {
    if let Some(rest) = line.strip_prefix('@') {
        return Some(("@".to_string(), rest));
    }
    let (name, rest) = quoted(line)?;
    Some((name, rest))
}

/// A `"…"` string with `\\` and `\"` escapes at the start of `s` → `(unescaped, rest)`.
fn quoted(s: &str) -> Option<(String, &str)> {
    let body = s.strip_prefix('"')?;
    let mut out = String::new();
    let mut chars = body.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some((_, n)) => out.push(n),
                None => return None,
            },
            '"' => return Some((out, body.get(i + 1..).unwrap_or(""))),
            _ => out.push(c),
        }
    }
    None
}

/// `value_line := value_name "=" data` → one [`RegValue`], or the reason it is malformed.
fn value_line(line: &str, ansi: bool) -> Result<RegValue, String> {
    let (name, rest) = value_name(line.trim_start()).ok_or("malformed value name")?;
    let rest = rest
        .trim_start()
        .strip_prefix('=')
        .ok_or("missing '=' after value name")?;
    let (kind, data) = data(rest.trim(), ansi)?;
    Ok(RegValue { name, kind, data })
}

/// `data := '"' STRING '"' | "dword:" HEX8 | "hex" ["(" HEXTYPE ")"] ":" hex_bytes | "-"` →
/// `(kind, decoded text)` as documented on [`RegValue`].
fn data(s: &str, ansi: bool) -> Result<(String, String), String> {
    if s == "-" {
        return Ok(("delete".into(), String::new()));
    }
    if s.starts_with('"') {
        let (text, rest) = quoted(s).ok_or("unterminated string")?;
        if !rest.trim().is_empty() {
            return Err("text after the closing quote".into());
        }
        return Ok(("REG_SZ".into(), text));
    }
    let lower = s.to_ascii_lowercase();
    if let Some(h) = lower.strip_prefix("dword:") {
        let h = h.trim();
        if h.is_empty() || h.len() > 8 {
            return Err("dword needs 1 to 8 hex digits".into());
        }
        let v = u32::from_str_radix(h, 16).map_err(|_| "dword is not hexadecimal")?;
        return Ok(("REG_DWORD".into(), format!("0x{v:08x}")));
    }
    let Some(after_hex) = lower.strip_prefix("hex") else {
        return Err("unknown data type".into());
    };
    let (ty, bytes_text) = match after_hex.strip_prefix(':') {
        Some(b) => (None, b),
        None => {
            let inner = after_hex.strip_prefix('(').ok_or("unknown data type")?;
            let (ty, b) = inner.split_once("):").ok_or("malformed hex(n): type")?;
            let n = u32::from_str_radix(ty.trim(), 16).map_err(|_| "malformed hex(n): type")?;
            (Some(n), b)
        }
    };
    let bytes = hex_bytes(bytes_text)?;
    Ok(match ty {
        None | Some(3) => ("REG_BINARY".into(), join_hex(&bytes)),
        Some(2) => ("REG_EXPAND_SZ".into(), strings(&bytes, ansi).join("")),
        Some(7) => ("REG_MULTI_SZ".into(), strings(&bytes, ansi).join("\n")),
        Some(0xb) => {
            let arr: [u8; 8] = bytes
                .as_slice()
                .try_into()
                .map_err(|_| "qword needs 8 bytes")?;
            (
                "REG_QWORD".into(),
                format!("0x{:016x}", u64::from_le_bytes(arr)),
            )
        }
        Some(n) => (format!("hex({n:x})"), join_hex(&bytes)),
    })
}

/// `hex_bytes := [HH ("," HH)* [","]]` (continuations already joined).
fn hex_bytes(s: &str) -> Result<Vec<u8>, String> {
    let s = s.trim();
    if s.is_empty() {
        return Ok(Vec::new());
    }
    s.trim_end_matches(',')
        .split(',')
        .map(|b| {
            let b = b.trim();
            if b.is_empty() || b.len() > 2 {
                return Err(format!("malformed hex byte {b:?}"));
            }
            u8::from_str_radix(b, 16).map_err(|_| format!("malformed hex byte {b:?}"))
        })
        .collect()
}

fn join_hex(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(",")
}

/// NUL-separated strings: UTF-16LE in version 5 files, Windows-1252 in `REGEDIT4` files. Empty
/// items (the terminators) are dropped.
fn strings(bytes: &[u8], ansi: bool) -> Vec<String> {
    let text = if ansi {
        encoding_rs::WINDOWS_1252
            .decode_without_bom_handling(bytes)
            .0
            .into_owned()
    } else {
        let units: Vec<u16> = bytes
            .chunks(2)
            .map(|c| {
                u16::from_le_bytes([
                    c.first().copied().unwrap_or(0),
                    c.get(1).copied().unwrap_or(0),
                ])
            })
            .collect();
        String::from_utf16_lossy(&units)
    };
    text.split('\0')
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// One key section being read.
struct Section {
    loc: Location,
    key: String,
    deleted: bool,
    values: Vec<RegValue>,
    end: usize,
}

/// Diagnostics with a per-level cap.
struct Diags {
    kept_warn: usize,
    kept_err: usize,
    more_warn: Option<(Location, u64)>,
    more_err: Option<(Location, u64)>,
}

impl Diags {
    fn warn(&mut self, out: &mut Parsed, loc: &Location, msg: String, raw: &str) {
        if self.kept_warn < DETAIL_CAP {
            self.kept_warn += 1;
            out.diagnostics.push(
                Diagnostic::at(DiagLevel::Warning, loc, Format::Registry, msg).with_excerpt(raw),
            );
        } else {
            self.more_warn.get_or_insert_with(|| (loc.clone(), 0)).1 += 1;
        }
    }

    fn reject(&mut self, out: &mut Parsed, loc: &Location, msg: String, raw: &str) {
        if self.kept_err < DETAIL_CAP {
            self.kept_err += 1;
            out.reject(
                Diagnostic::at(DiagLevel::Error, loc, Format::Registry, msg).with_excerpt(raw),
            );
        } else {
            out.rejected += 1;
            self.more_err.get_or_insert_with(|| (loc.clone(), 0)).1 += 1;
        }
    }

    fn finish(self, out: &mut Parsed) {
        for (level, more, what) in [
            (DiagLevel::Error, self.more_err, "key sections rejected"),
            (DiagLevel::Warning, self.more_warn, "warnings"),
        ] {
            if let Some((loc, n)) = more {
                let msg = format!("{n} more {what} (details omitted)");
                out.diagnostics
                    .push(Diagnostic::at(level, &loc, Format::Registry, msg));
            }
        }
    }
}

/// Parses a `.reg` export: `reg_file := header_line (key_line value_line*)*`, blank lines and
/// `;` comments ignored, `\` at a line end continues the value on the next line.
pub fn parse(ctx: &FileCtx, text: &str) -> Parsed {
    let mut out = Parsed::default();
    let mut diags = Diags {
        kept_warn: 0,
        kept_err: 0,
        more_warn: None,
        more_err: None,
    };
    let mut ansi = false;
    let mut seen_content = false;
    let mut record = 0u64;
    let mut cur: Option<Section> = None;
    // True while skipping the values of a rejected key line.
    let mut skipping = false;
    let mut lines = numbered_lines(text);
    while let Some((no, off, first)) = lines.next() {
        let loc = Location {
            path: ctx.path.clone(),
            line: no,
            record,
            offset: off as u64,
        };
        let trimmed = first.trim();
        if trimmed.is_empty() || trimmed.starts_with(';') {
            continue;
        }
        if !seen_content {
            seen_content = true;
            if let Some(a) = header_line(trimmed) {
                ansi = a;
                continue;
            }
            diags.warn(&mut out, &loc, "missing .reg header line".into(), first);
        } else if header_line(trimmed).is_some() {
            // A second header: concatenated exports; stay tolerant.
            continue;
        }
        if trimmed.starts_with('[') {
            if let Some(s) = cur.take() {
                emit(s, text, &mut out);
            }
            record += 1;
            let loc = Location { record, ..loc };
            match key_line(trimmed) {
                Some((key, deleted)) => {
                    skipping = false;
                    cur = Some(Section {
                        loc,
                        key,
                        deleted,
                        values: Vec::new(),
                        end: off + first.len(),
                    });
                }
                None => {
                    skipping = true;
                    diags.reject(&mut out, &loc, "malformed key line".into(), first);
                }
            }
            continue;
        }
        // A value line, possibly continued with a trailing backslash (hex data only).
        let mut logical = first.to_string();
        let mut end = off + first.len();
        let is_string = value_name(trimmed)
            .and_then(|(_, r)| {
                r.trim_start()
                    .strip_prefix('=')
                    .map(|d| d.trim_start().starts_with('"'))
            })
            .unwrap_or(false);
        while !is_string && logical.trim_end().ends_with('\\') {
            let Some((_, coff, cont)) = lines.next() else {
                break;
            };
            let keep = logical.trim_end().len().saturating_sub(1);
            logical.truncate(keep);
            logical.push_str(cont.trim_start());
            end = coff + cont.len();
        }
        if skipping {
            continue;
        }
        let Some(sec) = cur.as_mut() else {
            diags.warn(
                &mut out,
                &loc,
                "line outside any key section".into(),
                &logical,
            );
            continue;
        };
        sec.end = end;
        match value_line(&logical, ansi) {
            Ok(v) => sec.values.push(v),
            Err(reason) => {
                let loc = Location {
                    record: sec.loc.record,
                    ..loc
                };
                diags.warn(&mut out, &loc, format!("value skipped: {reason}"), &logical);
            }
        }
    }
    if let Some(s) = cur.take() {
        emit(s, text, &mut out);
    }
    diags.finish(&mut out);
    out
}

fn emit(s: Section, text: &str, out: &mut Parsed) {
    let start = usize::try_from(s.loc.offset).unwrap_or(0);
    let raw = text.get(start..s.end.max(start)).unwrap_or("");
    let body = Body::RegistryKey {
        key: s.key,
        deleted: s.deleted,
        values: s.values,
    };
    out.push(Event::new(Format::Registry, s.loc, body, raw));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(text: &str) -> Parsed {
        parse(&FileCtx::new("MBX01/registry/owa.reg"), text)
    }

    fn key(e: &Event) -> (&str, bool, &[RegValue]) {
        match &e.body {
            Body::RegistryKey {
                key,
                deleted,
                values,
            } => (key, *deleted, values),
            other => panic!("not a key: {other:?}"),
        }
    }

    fn val<'a>(values: &'a [RegValue], name: &str) -> (&'a str, &'a str) {
        let v = values.iter().find(|v| v.name == name).expect(name);
        (v.kind.as_str(), v.data.as_str())
    }

    const DLL: &str =
        r"C:\Program Files\Microsoft UCMA 4.0\Runtime\SSP\Microsoft.Rtc.Internal.Ucweb.dll";

    /// `DLL` as `hex(2):` UTF-16LE bytes with a NUL terminator, wrapped like regedit does.
    fn dll_hex2() -> String {
        let bytes: Vec<String> = DLL
            .encode_utf16()
            .chain([0])
            .flat_map(|u| u.to_le_bytes())
            .map(|b| format!("{b:02x}"))
            .collect();
        let lines: Vec<String> = bytes.chunks(25).map(|c| c.join(",")).collect();
        format!("hex(2):{}", lines.join(",\\\r\n  "))
    }

    #[test]
    fn owa_instant_messaging_key_as_string_and_hex2() {
        let t = format!(
            "\u{feff}Windows Registry Editor Version 5.00\r\n\r\n[HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services\\MSExchange OWA\\InstantMessaging]\r\n\"ImplementationDLLPath\"=\"{}\"\r\n\r\n[HKLM\\SYSTEM\\CurrentControlSet\\Services\\MSExchange OWA\\InstantMessaging]\r\n\"ImplementationDLLPath\"={}\r\n@=\"default\"\r\n",
            DLL.replace('\\', "\\\\"),
            dll_hex2()
        );
        let t = t.trim_start_matches('\u{feff}');
        let p = run(t);
        assert_eq!((p.parsed, p.rejected), (2, 0));
        assert!(p.diagnostics.is_empty(), "{:?}", p.diagnostics);
        let (k, del, vals) = key(&p.events[0]);
        assert_eq!(
            k,
            r"HKEY_LOCAL_MACHINE\SYSTEM\CurrentControlSet\Services\MSExchange OWA\InstantMessaging"
        );
        assert!(!del);
        assert_eq!(val(vals, "ImplementationDLLPath"), ("REG_SZ", DLL));
        assert_eq!((p.events[0].loc.line, p.events[0].loc.record), (3, 1));
        let (k2, _, vals2) = key(&p.events[1]);
        assert!(k2.starts_with("HKLM\\"));
        assert_eq!(val(vals2, "ImplementationDLLPath"), ("REG_EXPAND_SZ", DLL));
        assert_eq!(val(vals2, "@"), ("REG_SZ", "default"));
        assert_eq!((p.events[1].loc.line, p.events[1].loc.record), (6, 2));
        assert_eq!(p.events[1].loc.offset as usize, t.find("[HKLM").unwrap());
    }

    #[test]
    fn profiles_dword_qword_multi_sz_binary_delete() {
        let t = "REGEDIT4\n\n[HKEY_CURRENT_USER\\Software\\Microsoft\\Windows NT\\CurrentVersion\\Windows Messaging Subsystem\\Profiles]\n\"DefaultProfile\"=\"Outlook \\\"Main\\\"\"\n\n[HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Control\\Lsa\\MSV1_0]\n\"NTLMMinServerSec\"=dword:20080000\n\"Q\"=hex(b):01,00,00,00,00,00,00,80\n\"M\"=hex(7):61,00,62,00,00,63,00,00,00\n\"B\"=hex:DE,ad,\\\n  01\n\"N\"=hex(0):\n\"Gone\"=-\n\"@\"=\"d\"\n[-HKEY_CURRENT_USER\\Software\\Old]\n";
        let p = run(t);
        assert_eq!((p.parsed, p.rejected), (3, 0));
        assert!(p.diagnostics.is_empty(), "{:?}", p.diagnostics);
        let (_, _, v) = key(&p.events[0]);
        assert_eq!(val(v, "DefaultProfile"), ("REG_SZ", "Outlook \"Main\""));
        let (_, _, v) = key(&p.events[1]);
        assert_eq!(val(v, "NTLMMinServerSec"), ("REG_DWORD", "0x20080000"));
        assert_eq!(val(v, "Q"), ("REG_QWORD", "0x8000000000000001"));
        // REGEDIT4: multi-strings are single-byte ANSI.
        assert_eq!(val(v, "M"), ("REG_MULTI_SZ", "a\nb\nc"));
        assert_eq!(val(v, "B"), ("REG_BINARY", "de,ad,01"));
        assert_eq!(val(v, "N"), ("hex(0)", ""));
        assert_eq!(val(v, "Gone"), ("delete", ""));
        assert_eq!(val(v, "@"), ("REG_SZ", "d"));
        let (k, del, v) = key(&p.events[2]);
        assert_eq!(
            (k, del, v.len()),
            (r"HKEY_CURRENT_USER\Software\Old", true, 0)
        );
        assert_eq!(p.events[2].loc.line, 15);
    }

    #[test]
    fn grammar_examples_parse_cleanly() {
        let md = include_str!("../../grammars/registry.md");
        let blocks = crate::formats::exlog::tests::grammar_examples(md);
        assert_eq!(blocks.len(), 2);
        let p = run(&blocks[0]);
        assert_eq!((p.parsed, p.rejected, p.diagnostics.len()), (3, 0, 0));
        assert_eq!(
            val(key(&p.events[0]).2, "ImplementationDLLPath"),
            ("REG_SZ", DLL)
        );
        assert_eq!(
            val(key(&p.events[1]).2, "DefaultProfile"),
            ("REG_SZ", "Outlook")
        );
        assert_eq!(
            val(key(&p.events[2]).2, "NTLMMinServerSec"),
            ("REG_DWORD", "0x20080000")
        );
        let p = run(&blocks[1]);
        assert_eq!((p.parsed, p.rejected, p.diagnostics.len()), (1, 0, 0));
        assert_eq!(
            val(key(&p.events[0]).2, "ImplementationDLLPath"),
            ("REG_EXPAND_SZ", DLL)
        );
    }

    #[test]
    fn multi_sz_utf16_in_version5() {
        let p = run("Windows Registry Editor Version 5.00\n[K]\n\"M\"=hex(7):61,00,00,00,62,00,00,00,00,00\n");
        assert_eq!(val(key(&p.events[0]).2, "M"), ("REG_MULTI_SZ", "a\nb"));
    }

    #[test]
    fn malformed_lines_are_warnings_and_bad_keys_rejected() {
        let t = "\"orphan\"=\"x\"\n[Good]\n\"a\"=dword:xyz\n\"b\"=\"unterminated\n\"c\"=hex:1,zz\nnonsense\n\"ok\"=\"1\"\n[Broken\n\"skipped\"=\"y\"\n[Next]\n";
        let p = run(t);
        assert_eq!((p.parsed, p.rejected), (2, 1));
        let (_, _, v) = key(&p.events[0]);
        assert_eq!(v.len(), 1);
        let lines: Vec<(DiagLevel, u64)> =
            p.diagnostics.iter().map(|d| (d.level, d.line)).collect();
        use DiagLevel::*;
        assert_eq!(
            lines,
            vec![
                (Warning, 1),
                (Warning, 1),
                (Warning, 3),
                (Warning, 4),
                (Warning, 5),
                (Warning, 6),
                (Error, 8)
            ]
        );
        assert_eq!(p.diagnostics[2].record, 1);
        assert_eq!(p.diagnostics[6].record, 2);
    }

    #[test]
    fn random_texts_do_not_panic() {
        let tokens = [
            "\n",
            "\r\n",
            "\r",
            "[",
            "]",
            "[-",
            "\"",
            "\\",
            "=",
            "@",
            "dword:",
            "hex:",
            "hex(2):",
            "hex(7):",
            "hex(b):",
            "hex(zz):",
            "00",
            "4",
            ",",
            ",\\\n  ",
            "-",
            ";",
            "é",
            "\u{0}",
            "REGEDIT4\n",
            " ",
        ];
        for t in crate::formats::exlog::tests::junk_texts(&tokens, 3000) {
            let p = run(&t);
            assert_eq!(p.parsed, p.events.len() as u64);
            let errors = p
                .diagnostics
                .iter()
                .filter(|d| d.level == DiagLevel::Error)
                .count() as u64;
            assert_eq!(errors, p.rejected);
        }
    }

    #[test]
    fn garbage_does_not_panic() {
        for (t, parsed, rejected) in [
            ("", 0, 0),
            ("REGEDIT4", 0, 0),
            ("\u{0}\u{1}[\u{fffd}]\n\"\\", 0, 0),
            ("[]\n[-]\n[x\\\n", 0, 3),
            ("Windows Registry Editor Version 5.00\r[A]\r\"v\"=hex(b):01\r\"w\"=hex(zz):00\r\"x\"=hex(2):41,\\", 1, 0),
        ] {
            let p = run(t);
            assert_eq!((p.parsed, p.rejected), (parsed, rejected), "{t:?}: {:?}", p.diagnostics);
        }
    }
}
