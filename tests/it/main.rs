//! The single integration-test binary (see ARCHITECTURE.md "Testing").
