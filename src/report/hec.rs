//! Splunk HTTP Event Collector envelopes, one finding per line (`--output hec`).
//!
//! Why this module exists: the output can be posted as is to `/services/collector/event` (several
//! envelopes may follow each other in one request body). Each envelope is
//! `{"time": epoch seconds (milliseconds as a fraction), "host", "source": "imtriage",
//! "sourcetype": "imtriage:finding", "event": <the JSON-lines finding object>}` (formats.md §11);
//! `time` is the finding's first evidence time, else the bundle's collection time. With `--stamp`
//! the event carries `generated_at` (the wall clock of the run); without it the output is
//! byte-identical across runs.

use super::siem;
use super::{jsonl, rfc3339, Report, Reporter};
use chrono::{DateTime, Utc};
use serde_json::{json, Map, Value};
use std::io::{self, Write};

pub const SOURCE: &str = "imtriage";
pub const SOURCETYPE: &str = "imtriage:finding";

pub struct Hec {
    pub stamp: Option<DateTime<Utc>>,
}

impl Reporter for Hec {
    fn write(&mut self, r: &Report, out: &mut dyn Write) -> io::Result<()> {
        for f in &r.analysis.findings {
            let (t, _) = siem::finding_time(f, r, self.stamp);
            // The JSON-lines finding without its `type` tag, key order kept.
            let mut event: Map<String, Value> = match jsonl::finding(f) {
                Value::Object(o) => o.into_iter().filter(|(k, _)| k != "type").collect(),
                _ => Map::new(),
            };
            event.insert("finding_uid".into(), json!(siem::finding_uid(f)));
            if let Some(s) = &self.stamp {
                event.insert("generated_at".into(), json!(rfc3339(s)));
            }
            let envelope: Value = json!({
                "time": siem::epoch_seconds(&t),
                "host": f.host,
                "source": SOURCE,
                "sourcetype": SOURCETYPE,
                "event": event,
            });
            serde_json::to_writer(&mut *out, &envelope)?;
            out.write_all(b"\n")?;
        }
        Ok(())
    }
}
