//! Compile-time behaviour of `#[shardio::main]` / `#[shardio::test]`: each
//! bad argument or signature gives one clear error pointing at the offending
//! tokens (`tests/ui/fail_*.rs` with their `.stderr`), and the accepted forms
//! build and run (`tests/ui/pass_*.rs`).
//!
//! Regenerate the snapshots with
//! `TRYBUILD=overwrite cargo test --test compile_fail`, then review them.

#[test]
fn ui() {
    let cases = trybuild::TestCases::new();
    cases.pass("tests/ui/pass_*.rs");
    cases.compile_fail("tests/ui/fail_*.rs");
}
