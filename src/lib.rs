//! imtriage: triage of instant-messaging and presence failures between Microsoft Exchange,
//! Lync / Skype for Business Server and Cisco Unified CM IM and Presence, from log bundles.
//!
//! The library is a pipeline of stages, each in its own module, each importing only earlier
//! stages and the shared [`model`]:
//! `input` (find and decode files) → `formats` (parse each format into [`model::Event`]s) →
//! `pipeline` (parallel, ordered driver) → `correlate` (hosts and time) → `classify` (the cause
//! catalog) → `report` (human text and JSON lines). See ARCHITECTURE.md.
#![deny(unsafe_code)]

pub mod formats;
pub mod input;
pub mod model;
