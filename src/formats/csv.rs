//! A small RFC 4180 record reader that keeps positions.
//!
//! Why this module exists: Exchange `#Fields` logs, Event Viewer CSV/TSV and `Get-WinEvent` CSV all
//! quote fields the same way (doubled quotes, CR/LF inside quotes), and every rejected row must be
//! reported with its line and byte offset. The `csv` crate would hide those positions behind its own
//! record type and is not in our dependency list, so this reader returns borrowed slices and
//! positions, and never fails: an unterminated quote is reported as a flag on the record.

use std::borrow::Cow;

/// One physical record (a line, or several lines when a quoted field spans them).
#[derive(Debug, Clone, PartialEq)]
pub struct CsvRecord<'a> {
    /// The fields, unquoted (`""` folded to `"`).
    pub fields: Vec<Cow<'a, str>>,
    /// The raw text of the record without its line end.
    pub raw: &'a str,
    /// 1-based line of the first line of the record, relative to the text given to the reader.
    pub line: u64,
    /// Byte offset of the record in the text given to the reader.
    pub offset: u64,
    /// A quoted field was still open at the end of the text.
    pub unterminated: bool,
}

/// Iterates over the records of `text`, splitting fields at `sep`.
///
/// Empty lines are skipped (they are not records in any of our formats). Line ends may be CRLF, LF
/// or a lone CR.
pub struct CsvReader<'a> {
    text: &'a str,
    pos: usize,
    line: u64,
    sep: u8,
}

impl<'a> CsvReader<'a> {
    pub fn new(text: &'a str, sep: u8) -> Self {
        CsvReader {
            text,
            pos: 0,
            line: 1,
            sep,
        }
    }

    /// Byte position of the next record.
    pub fn position(&self) -> usize {
        self.pos
    }

    /// Line number of the next record.
    pub fn line(&self) -> u64 {
        self.line
    }

    /// Reads the next line as raw text (no CSV parsing), for metadata lines such as `#Fields:`.
    /// Returns `(line_text, line_number, offset)`.
    pub fn peek_line(&self) -> Option<&'a str> {
        let rest = &self.text[self.pos..];
        if rest.is_empty() {
            return None;
        }
        let end = rest.find(['\n', '\r']).unwrap_or(rest.len());
        Some(&rest[..end])
    }

    /// Skips one physical line.
    pub fn skip_line(&mut self) {
        let bytes = self.text.as_bytes();
        while self.pos < bytes.len() && bytes[self.pos] != b'\n' && bytes[self.pos] != b'\r' {
            self.pos += 1;
        }
        self.eat_eol();
    }

    fn eat_eol(&mut self) {
        let bytes = self.text.as_bytes();
        if self.pos < bytes.len() && bytes[self.pos] == b'\r' {
            self.pos += 1;
            if self.pos < bytes.len() && bytes[self.pos] == b'\n' {
                self.pos += 1;
            }
            self.line += 1;
        } else if self.pos < bytes.len() && bytes[self.pos] == b'\n' {
            self.pos += 1;
            self.line += 1;
        }
    }

    fn skip_blank_lines(&mut self) {
        let bytes = self.text.as_bytes();
        while self.pos < bytes.len() && (bytes[self.pos] == b'\n' || bytes[self.pos] == b'\r') {
            self.eat_eol();
        }
    }
}

impl<'a> Iterator for CsvReader<'a> {
    type Item = CsvRecord<'a>;

    fn next(&mut self) -> Option<CsvRecord<'a>> {
        self.skip_blank_lines();
        let bytes = self.text.as_bytes();
        if self.pos >= bytes.len() {
            return None;
        }
        let start = self.pos;
        let start_line = self.line;
        let mut fields = Vec::new();
        let mut unterminated = false;
        let mut i = self.pos;
        loop {
            // One field starting at i.
            if i < bytes.len() && bytes[i] == b'"' {
                let mut j = i + 1;
                let mut has_escape = false;
                let mut closed = false;
                while j < bytes.len() {
                    match bytes[j] {
                        b'"' if j + 1 < bytes.len() && bytes[j + 1] == b'"' => {
                            has_escape = true;
                            j += 2;
                        }
                        b'"' => {
                            closed = true;
                            break;
                        }
                        b'\n' => {
                            self.line += 1;
                            j += 1;
                        }
                        b'\r' => {
                            if !(j + 1 < bytes.len() && bytes[j + 1] == b'\n') {
                                self.line += 1;
                            }
                            j += 1;
                        }
                        _ => j += 1,
                    }
                }
                let inner = &self.text[i + 1..j.min(bytes.len())];
                fields.push(if has_escape {
                    Cow::Owned(inner.replace("\"\"", "\""))
                } else {
                    Cow::Borrowed(inner)
                });
                if !closed {
                    unterminated = true;
                    i = bytes.len();
                    break;
                }
                i = j + 1;
                // Garbage between the closing quote and the separator is appended raw.
                let mut k = i;
                while k < bytes.len()
                    && bytes[k] != self.sep
                    && bytes[k] != b'\n'
                    && bytes[k] != b'\r'
                {
                    k += 1;
                }
                if k > i {
                    if let Some(last) = fields.last_mut() {
                        last.to_mut().push_str(&self.text[i..k]);
                    }
                }
                i = k;
            } else {
                let mut k = i;
                while k < bytes.len()
                    && bytes[k] != self.sep
                    && bytes[k] != b'\n'
                    && bytes[k] != b'\r'
                {
                    k += 1;
                }
                fields.push(Cow::Borrowed(&self.text[i..k]));
                i = k;
            }
            if i < bytes.len() && bytes[i] == self.sep {
                i += 1;
                continue;
            }
            break;
        }
        let raw_end = i.min(bytes.len());
        self.pos = raw_end;
        self.eat_eol();
        Some(CsvRecord {
            fields,
            raw: &self.text[start..raw_end],
            line: start_line,
            offset: start as u64,
            unterminated,
        })
    }
}

/// Splits one line into fields (no multi-line quotes), for header lines.
pub fn split_line(line: &str, sep: u8) -> Vec<String> {
    CsvReader::new(line, sep)
        .next()
        .map(|r| r.fields.into_iter().map(Cow::into_owned).collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_fields_with_newlines_and_escapes() {
        let text = "a,\"b \"\"x\"\"\",c\r\n\"multi\r\nline\",2,\r\nlast";
        let recs: Vec<_> = CsvReader::new(text, b',').collect();
        assert_eq!(recs.len(), 3);
        assert_eq!(recs[0].fields, vec!["a", "b \"x\"", "c"]);
        assert_eq!(recs[1].fields, vec!["multi\r\nline", "2", ""]);
        assert_eq!(recs[1].line, 2);
        assert_eq!(recs[2].line, 4);
        assert_eq!(recs[2].fields, vec!["last"]);
        assert_eq!(recs[2].offset as usize, text.find("last").unwrap());
    }

    #[test]
    fn unterminated_quote_is_flagged() {
        let recs: Vec<_> = CsvReader::new("x,\"open\nmore", b',').collect();
        assert_eq!(recs.len(), 1);
        assert!(recs[0].unterminated);
    }

    #[test]
    fn tabs_and_blank_lines() {
        let recs: Vec<_> = CsvReader::new("a\tb\n\n\nc\td\n", b'\t').collect();
        assert_eq!(recs.len(), 2);
        assert_eq!(recs[1].line, 4);
    }
}
