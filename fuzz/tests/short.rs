//! A short run of every fuzz target (a few hundred inputs each) in `cargo test`.

fn short(target: &str) {
    let cases = std::env::var("SONIC_FUZZ_SHORT_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(300);
    let report = sonic_db_fuzz::run(target, cases, None);
    assert!(report.is_ok(), "{target}: {report:?}");
    assert_eq!(report.map(|r| r.cases), Ok(cases));
}

#[test]
fn envelope() {
    short("envelope")
}
#[test]
fn d1_rows() {
    short("d1_rows")
}
#[test]
fn sqlite_rows() {
    short("sqlite_rows")
}
#[test]
fn api() {
    short("api")
}
#[test]
fn snapshot() {
    short("snapshot")
}
