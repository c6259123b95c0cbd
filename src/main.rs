//! The `imtriage` binary: parse arguments, run one command, map the outcome to an exit code.
//!
//! Exit codes: 0 no finding (none at or above `--fail-on`), 1 findings, 2 usage or I/O error. A
//! closed pipe is not an error.

mod cli;
mod progress;

use clap::{CommandFactory, Parser};
use cli::{Args, Command};
use imtriage::classify::catalog;
use imtriage::report::{self, jsonl};
use std::io::{self, BufWriter, Write};
use std::process::ExitCode;

fn main() -> ExitCode {
    let args = Args::parse();
    match run(args) {
        Ok(code) => code,
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("imtriage: {e}");
            ExitCode::from(2)
        }
    }
}

fn fail(msg: String) -> io::Error {
    io::Error::other(msg)
}

fn missing_inputs(paths: &[std::path::PathBuf]) -> Vec<String> {
    paths
        .iter()
        .filter(|p| !p.exists())
        .map(|p| p.display().to_string())
        .collect()
}

fn run(args: Args) -> io::Result<ExitCode> {
    let stdout = io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    match args.command {
        Command::Analyze {
            paths,
            output,
            out: out_file,
            stamp,
            fail_on,
            quiet,
            window,
            common,
            catalog,
            color,
        } => {
            let catalog = catalog.load().map_err(fail)?;
            let missing = missing_inputs(&paths);
            let cfg = common.into_config(window);
            let format = output.format();
            let report = {
                let bar = progress::Bar::new(quiet);
                let report = if format.needs_events() {
                    imtriage::timeline(&paths, &cfg, &catalog, &|f| bar.file(f))
                } else {
                    imtriage::analyze_with_progress(&paths, &cfg, &catalog, &|f| bar.file(f))
                };
                bar.finish();
                report
            };
            let options = report::Options {
                color: match &out_file {
                    Some(_) => color.enabled_for(false),
                    None => color.enabled(),
                },
                stamp: stamp.then(chrono::Utc::now),
            };
            let mut reporter = report::reporter_with(format, &options);
            match &out_file {
                Some(path) => {
                    let file = std::fs::File::create(path)
                        .map_err(|e| fail(format!("cannot write {}: {e}", path.display())))?;
                    let mut w = BufWriter::new(file);
                    reporter.write(&report, &mut w)?;
                    w.flush()?;
                }
                None => {
                    reporter.write(&report, &mut out)?;
                    out.flush()?;
                }
            }
            if !missing.is_empty() {
                eprintln!("imtriage: cannot read {}", missing.join(", "));
                return Ok(ExitCode::from(2));
            }
            let threshold = fail_on.unwrap_or(cli::FailOn::Info);
            let failed = report
                .analysis
                .findings
                .iter()
                .any(|f| threshold.fails(f.severity));
            Ok(if failed {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            })
        }
        Command::Batch {
            paths,
            output,
            fail_on,
            quiet,
            window,
            common,
            catalog,
        } => {
            let catalog = catalog.load().map_err(fail)?;
            let missing = missing_inputs(&paths);
            let cfg = common.into_config(window);
            let (bundles, ignored) = imtriage::batch_bundles(&paths);
            for p in &ignored {
                eprintln!(
                    "imtriage: {} is not a folder or an archive: skipped",
                    p.display()
                );
            }
            let fleet = {
                let bar = progress::BundleBar::new(quiet, bundles.len() as u64);
                let fleet = imtriage::batch(&bundles, &cfg, &catalog, &|name| bar.done(name));
                bar.finish();
                fleet
            };
            match output {
                cli::BatchOutput::Jsonl => fleet.write_jsonl(&mut out)?,
                cli::BatchOutput::Human => fleet.write_human(&mut out)?,
            }
            out.flush()?;
            if !missing.is_empty() {
                eprintln!("imtriage: cannot read {}", missing.join(", "));
                return Ok(ExitCode::from(2));
            }
            let threshold = fail_on.unwrap_or(cli::FailOn::Info);
            let failed = fleet
                .bundles
                .iter()
                .flat_map(|(_, r)| &r.analysis.findings)
                .any(|f| threshold.fails(f.severity));
            Ok(if failed {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            })
        }
        Command::Events { paths, common } => {
            let missing = missing_inputs(&paths);
            let cfg = common.into_config(chrono::Duration::minutes(15));
            let (c, diags, order) = imtriage::events(&paths, &cfg);
            // Serialised on the worker threads a window at a time, written in order: the same
            // bytes as a serial loop, with memory bounded by the window.
            let render = |ids: &[usize]| -> io::Result<Vec<u8>> {
                let mut buf = Vec::with_capacity(ids.len() * 512);
                for &i in ids {
                    serde_json::to_writer(&mut buf, &jsonl::event(&c.events[i], c.host(i)))?;
                    buf.push(b'\n');
                }
                Ok(buf)
            };
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(cfg.parse.threads)
                .build()
                .map_err(io::Error::other)?;
            for window in order.chunks(64 * 1024) {
                let parts: Vec<io::Result<Vec<u8>>> = pool.install(|| {
                    use rayon::prelude::*;
                    window.par_chunks(2048).map(render).collect()
                });
                for part in parts {
                    out.write_all(&part?)?;
                }
            }
            for d in &diags {
                serde_json::to_writer(&mut out, &jsonl::diagnostic(d))?;
                out.write_all(b"\n")?;
            }
            let mut summary = report::Summary::from_files(&c.files, &diags);
            summary.hosts = c.hosts.keys().iter().map(|k| c.hosts.display(k)).collect();
            summary.collection_time = c.collection_time;
            let mut s = serde_json::to_value(&summary).map_err(io::Error::other)?;
            if let Some(o) = s.as_object_mut() {
                o.insert("type".into(), "summary".into());
                o.insert("events".into(), c.events.len().into());
            }
            serde_json::to_writer(&mut out, &s)?;
            out.write_all(b"\n")?;
            out.flush()?;
            Ok(if missing.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(2)
            })
        }
        Command::Causes { catalog } => {
            let catalog = catalog.load().map_err(fail)?;
            for c in catalog.causes.values() {
                writeln!(
                    out,
                    "{:<36} {} {:<8} {}",
                    c.id,
                    c.section,
                    c.severity.as_str(),
                    c.title
                )?;
            }
            out.flush()?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Explain { id, catalog } => {
            let catalog = catalog.load().map_err(fail)?;
            let Some(c) = catalog.get(&id) else {
                eprintln!("imtriage: no cause {id:?}; `imtriage causes` lists them");
                return Ok(ExitCode::from(2));
            };
            explain(c, &mut out)?;
            out.flush()?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Completions { shell } => {
            let mut cmd = Args::command();
            clap_complete::generate(shell, &mut cmd, "imtriage", &mut out);
            out.flush()?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Man => {
            clap_mangen::Man::new(Args::command()).render(&mut out)?;
            out.flush()?;
            Ok(ExitCode::SUCCESS)
        }
        Command::LintCatalog { catalog } => {
            let catalog = catalog.load().map_err(fail)?;
            let problems = catalog::lint(&catalog);
            for p in &problems {
                writeln!(out, "{p}")?;
            }
            writeln!(
                out,
                "{} causes, {} problems",
                catalog.causes.len(),
                problems.len()
            )?;
            out.flush()?;
            Ok(if problems.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(2)
            })
        }
    }
}

fn explain(c: &catalog::Cause, out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "{} — {}", c.id, c.title)?;
    writeln!(
        out,
        "section {}, severity {}, applies to: {}",
        c.section,
        c.severity,
        c.applies_to.join(", ")
    )?;
    writeln!(out, "host: {}", c.host)?;
    writeln!(out)?;
    writeln!(out, "{}", c.summary.trim())?;
    writeln!(out)?;
    writeln!(out, "signals:")?;
    for s in &c.signals {
        let how = if let Some(e) = &s.event {
            format!(
                "event {} {:?}{}",
                e.provider.as_deref().unwrap_or("*"),
                e.ids,
                e.channel
                    .as_deref()
                    .map(|ch| format!(" in {ch}"))
                    .unwrap_or_default()
            )
        } else if let Some(m) = &s.monitor {
            format!(
                "Managed Availability event {:?} for monitor /{}/",
                m.ids, m.monitor
            )
        } else if let Some(t) = &s.text {
            format!("text /{t}/")
        } else if let Some(o) = &s.object {
            format!(
                "{} where {}",
                o.commands.join("|"),
                o.conditions
                    .iter()
                    .map(|c| c.property.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        } else {
            format!("fact {}", s.fact.as_deref().unwrap_or("?"))
        };
        writeln!(
            out,
            "  {:<13} {:<28} {}",
            format!("{:?}", s.role).to_lowercase(),
            s.name,
            how
        )?;
        if !s.description.is_empty() {
            writeln!(out, "  {:<13} {:<28} {}", "", "", s.description)?;
        }
    }
    if !c.yields_to.is_empty() {
        writeln!(out, "yields to: {}", c.yields_to.join(", "))?;
    }
    writeln!(out, "fix:")?;
    for (i, f) in c.fix.iter().enumerate() {
        match &f.when {
            Some(w) => writeln!(out, "  {}. (Exchange {w}) {}", i + 1, f.text)?,
            None => writeln!(out, "  {}. {}", i + 1, f.text)?,
        }
    }
    writeln!(out, "sources: {}", c.sources.join("; "))
}
