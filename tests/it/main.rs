//! The single integration-test binary (ARCHITECTURE.md "Testing"): one module per concern.
//!
//! Paths are relative to the crate root; real public data is read from `../shared/data` and never
//! copied into the repository. Set `BLESS=1` to rewrite golden files after a reviewed change.

mod archives;
mod cli;
mod codepaths;
mod grammars;
mod hostile;
mod independent;
mod outputs;
mod real_data;
mod samples;
mod siem;
mod skim;
mod util;
// Issue 5: batch mode, nothing lost, fuzz corpus replay, truncation property.
mod batch;
mod counts;
mod regression_corpus;
mod truncation;
