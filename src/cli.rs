//! Command-line definition (clap derive) and its translation into library configuration.
//!
//! Why this module exists: clap types stop here. `Args` is what the user typed, with the help text
//! as doc comments; `into_*` functions validate flag values and build the plain library structs
//! (`AnalyzeConfig`, the catalog), so the library is used and tested without clap.

use chrono::{DateTime, Duration, Utc};
use clap::{Parser, Subcommand, ValueEnum};
use imtriage::classify::catalog::{Catalog, Severity};
use imtriage::pipeline::ParseConfig;
use imtriage::report::OutputFormat;
use imtriage::AnalyzeConfig;
use std::path::PathBuf;

/// Triage of instant-messaging and presence failures between Exchange, Lync / Skype for Business
/// and Cisco IM and Presence, from log bundles (folders, .zip, .tar.gz).
#[derive(Parser, Debug)]
#[command(name = "imtriage", version, about, long_about = None)]
pub struct Args {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Analyse bundles: per host, the documented causes with evidence and fixes.
    /// Exit status: 0 no finding (or none at or above --fail-on), 1 findings, 2 usage or I/O error.
    Analyze {
        /// Files, folders, .zip, .tar.gz/.tgz or .gz files.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// Output format: human text, our JSON lines, a SIEM schema (ecs, ocsf, hec, cef), every
        /// event plus the findings (timeline-csv, timeline-jsonl), or one HTML file.
        #[arg(long, value_enum, default_value_t = Output::Human)]
        output: Output,
        /// Write the output to FILE instead of standard output.
        #[arg(short = 'o', long = "out", value_name = "FILE")]
        out: Option<PathBuf>,
        /// Add the wall-clock time of the run to machine output (ECS event.created, OCSF
        /// metadata.processed_time, HEC generated_at, CEF deviceCustomDate1, HTML header).
        /// Without it the output is byte-identical across runs.
        #[arg(long)]
        stamp: bool,
        /// Exit with 1 only when a finding at or above this severity exists (default: any finding).
        #[arg(long, value_enum, value_name = "SEVERITY")]
        fail_on: Option<FailOn>,
        /// No progress bar on standard error (it is drawn only on a terminal anyway).
        #[arg(long, short = 'q')]
        quiet: bool,
        /// Correlation window: signals on one host closer than this belong together (e.g. 15m, 1h, 90s).
        #[arg(long, default_value = "15m", value_parser = parse_window)]
        window: Duration,
        #[command(flatten)]
        common: Common,
        #[command(flatten)]
        catalog: CatalogArgs,
        /// Colour in the human report.
        #[arg(long, value_enum, default_value_t = Color::Auto)]
        color: Color,
    },
    /// Analyse many bundles, each on its own: every archive given, and in each folder given every
    /// immediate subfolder and archive (.zip, .tar, .tar.gz, .tgz, .gz). Bundles run in parallel.
    /// Ends with the fleet summary: causes by count and the hosts behind each. Exit status as
    /// `analyze` (1 when any bundle has a finding at or above --fail-on).
    Batch {
        /// Folders of bundles, or archives.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// Output: a human fleet summary, or JSON lines (every `analyze --output jsonl` line
        /// with "bundle" added, then one "fleet_summary" line).
        #[arg(long, value_enum, default_value_t = BatchOutput::Human)]
        output: BatchOutput,
        /// Exit with 1 only when a finding at or above this severity exists (default: any finding).
        #[arg(long, value_enum, value_name = "SEVERITY")]
        fail_on: Option<FailOn>,
        /// No progress bar on standard error (it is drawn only on a terminal anyway).
        #[arg(long, short = 'q')]
        quiet: bool,
        /// Correlation window (e.g. 15m, 1h, 90s).
        #[arg(long, default_value = "15m", value_parser = parse_window)]
        window: Duration,
        #[command(flatten)]
        common: Common,
        #[command(flatten)]
        catalog: CatalogArgs,
    },
    /// Print every normalised event as JSON lines, in time order (the timeline).
    Events {
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        #[command(flatten)]
        common: Common,
    },
    /// List the cause catalog.
    Causes {
        #[command(flatten)]
        catalog: CatalogArgs,
    },
    /// Print one cause with its signals and fix.
    Explain {
        /// Cause id, e.g. owa-im-thumbprint-empty.
        id: String,
        #[command(flatten)]
        catalog: CatalogArgs,
    },
    /// Check the catalog (built-in plus --catalog) for errors.
    LintCatalog {
        #[command(flatten)]
        catalog: CatalogArgs,
    },
    /// Print a shell completion script (e.g. `imtriage completions bash > /etc/bash_completion.d/imtriage`).
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff), e.g. `imtriage man > imtriage.1`.
    Man,
}

/// Options shared by the commands that read bundles.
#[derive(clap::Args, Debug)]
pub struct Common {
    /// Worker threads (0: one per core).
    #[arg(long, short = 'j', default_value_t = 0)]
    pub threads: usize,
    /// Read files instead of memory-mapping them.
    #[arg(long)]
    pub no_mmap: bool,
    /// Ignore records before this time (RFC 3339, e.g. 2024-05-01T00:00:00Z).
    #[arg(long, value_parser = parse_time)]
    pub since: Option<DateTime<Utc>>,
    /// Ignore records after this time (RFC 3339).
    #[arg(long, value_parser = parse_time)]
    pub until: Option<DateTime<Utc>>,
    /// Time zone of a host whose logs are in local time (client UccApi logs), e.g.
    /// `--tz CLIENT01=+01:00`; repeatable. Without it, such times are kept as written and marked local.
    #[arg(long, value_name = "HOST=OFFSET", value_parser = parse_tz)]
    pub tz: Vec<(String, Duration)>,
    /// Parse and validate every record of large logs. By default `analyze` and `batch` parse only
    /// the SIPStack, Exchange log and event XML records that hold a literal of the catalog (same
    /// findings; the others are counted as skipped); `events` always parses every record.
    #[arg(long)]
    pub full_parse: bool,
}

#[derive(clap::Args, Debug)]
pub struct CatalogArgs {
    /// Folder of extra cause files (*.toml) that add to or override the built-in catalog by id.
    #[arg(long, value_name = "DIR")]
    pub catalog: Option<PathBuf>,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Output {
    Human,
    Jsonl,
    Ecs,
    Ocsf,
    Hec,
    Cef,
    TimelineCsv,
    TimelineJsonl,
    Html,
}

/// Output of `imtriage batch`.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum BatchOutput {
    Human,
    Jsonl,
}

/// The `--fail-on` threshold.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum FailOn {
    Critical,
    Error,
    Warning,
    Info,
    /// Never exit with 1 for findings.
    None,
}

impl FailOn {
    /// Whether a finding of this severity makes the run fail.
    pub fn fails(self, s: Severity) -> bool {
        let limit = match self {
            FailOn::Critical => Severity::Critical,
            FailOn::Error => Severity::Error,
            FailOn::Warning => Severity::Warning,
            FailOn::Info => Severity::Info,
            FailOn::None => return false,
        };
        // Severity orders most severe first.
        s <= limit
    }
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Color {
    Auto,
    Always,
    Never,
}

impl Output {
    pub fn format(self) -> OutputFormat {
        match self {
            Output::Human => OutputFormat::Human,
            Output::Jsonl => OutputFormat::Jsonl,
            Output::Ecs => OutputFormat::Ecs,
            Output::Ocsf => OutputFormat::Ocsf,
            Output::Hec => OutputFormat::Hec,
            Output::Cef => OutputFormat::Cef,
            Output::TimelineCsv => OutputFormat::TimelineCsv,
            Output::TimelineJsonl => OutputFormat::TimelineJsonl,
            Output::Html => OutputFormat::Html,
        }
    }
}

impl Color {
    /// Whether to colour, honouring NO_COLOR and whether stdout is a terminal.
    pub fn enabled(self) -> bool {
        use std::io::IsTerminal;
        self.enabled_for(std::io::stdout().is_terminal())
    }

    /// Whether to colour output going to a terminal (`tty`) or not; `NO_COLOR` (set and not
    /// empty, per no-color.org) turns `auto` off.
    pub fn enabled_for(self, tty: bool) -> bool {
        match self {
            Color::Always => true,
            Color::Never => false,
            Color::Auto => std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) && tty,
        }
    }
}

/// Parses `15m`, `1h`, `90s`, `2d` or a plain number of seconds.
pub fn parse_window(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let (num, unit) = match s.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => (&s[..i], &s[i..]),
        None => (s, "s"),
    };
    let n: i64 = num
        .parse()
        .map_err(|_| format!("invalid window {s:?}: expected e.g. 15m, 1h, 90s"))?;
    let d = match unit {
        "s" => Duration::seconds(n),
        "m" => Duration::minutes(n),
        "h" => Duration::hours(n),
        "d" => Duration::days(n),
        _ => return Err(format!("invalid window unit {unit:?}: use s, m, h or d")),
    };
    if n <= 0 {
        return Err("the window must be positive".into());
    }
    Ok(d)
}

/// Parses `HOST=+HH:MM` (or `-HH:MM`, `+HH`, `Z`) into a host key and an offset.
pub fn parse_tz(s: &str) -> Result<(String, Duration), String> {
    let (host, off) = s
        .split_once('=')
        .ok_or_else(|| format!("invalid --tz {s:?}: expected HOST=+HH:MM"))?;
    let key = imtriage::correlate::hosts::host_key(host)
        .ok_or_else(|| format!("invalid host name in --tz {s:?}"))?;
    let off = off.trim();
    if off.eq_ignore_ascii_case("z") || off == "0" {
        return Ok((key, Duration::zero()));
    }
    let (sign, rest) = match off.as_bytes().first() {
        Some(b'+') => (1, &off[1..]),
        Some(b'-') => (-1, &off[1..]),
        _ => {
            return Err(format!(
                "invalid offset in --tz {s:?}: expected +HH:MM or -HH:MM"
            ))
        }
    };
    let (h, m) = rest.split_once(':').unwrap_or((rest, "0"));
    let h: i64 = h
        .parse()
        .map_err(|_| format!("invalid offset hours in --tz {s:?}"))?;
    let m: i64 = m
        .parse()
        .map_err(|_| format!("invalid offset minutes in --tz {s:?}"))?;
    if h > 14 || m > 59 {
        return Err(format!("offset out of range in --tz {s:?}"));
    }
    Ok((key, Duration::minutes(sign * (h * 60 + m))))
}

/// Parses an RFC 3339 time (a date alone means its midnight UTC).
pub fn parse_time(s: &str) -> Result<DateTime<Utc>, String> {
    if let Some((t, _)) = imtriage::formats::time::iso(s) {
        return Ok(t);
    }
    chrono::NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|d| d.and_utc())
        .ok_or_else(|| format!("invalid time {s:?}: expected RFC 3339, e.g. 2024-05-01T12:00:00Z"))
}

impl Common {
    pub fn into_config(self, window: Duration) -> AnalyzeConfig {
        let mut parse = ParseConfig {
            threads: self.threads,
            since: self.since,
            until: self.until,
            ..ParseConfig::default()
        };
        parse.input.mmap = !self.no_mmap;
        AnalyzeConfig {
            parse,
            correlate: imtriage::correlate::CorrelateConfig {
                window,
                tz: self.tz,
            },
            skim: !self.full_parse,
        }
    }
}

impl CatalogArgs {
    pub fn load(&self) -> Result<Catalog, String> {
        let c = Catalog::builtin().map_err(|e| format!("built-in catalog: {e}"))?;
        match &self.catalog {
            Some(dir) => c.with_dir(dir).map_err(|e| e.to_string()),
            None => Ok(c),
        }
    }
}
