//! Every misuse of `#[derive(Table)]` / `#[derive(TextEnum)]` is a compile error pointing at
//! the offending attribute, field or type (tests/ui/*.rs, expected output in *.stderr).
//!
//! Regenerate the expected output with `TRYBUILD=overwrite cargo test -p sonic-db-core
//! --features derive --test derive_ui`, then read each `.stderr`.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*.rs");
}
