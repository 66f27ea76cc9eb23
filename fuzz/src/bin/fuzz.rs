//! `fuzz TARGET [CASES] [SECONDS]`: runs one target (or `all`) and prints the count tried.

use std::process::ExitCode;
use std::time::{Duration, Instant};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let target = args.first().map_or("all", String::as_str);
    let cases = args
        .get(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(1_000_000u64);
    let budget = args
        .get(2)
        .and_then(|s| s.parse().ok())
        .map(Duration::from_secs);
    let targets: Vec<&str> = if target == "all" {
        sonic_db_fuzz::TARGETS.to_vec()
    } else {
        vec![target]
    };
    let mut failed = false;
    for name in targets {
        let started = Instant::now();
        match sonic_db_fuzz::run(name, cases, budget) {
            Ok(report) => println!(
                "{name}: {} inputs, 0 failures, {:.1} s",
                report.cases,
                started.elapsed().as_secs_f64()
            ),
            Err(e) => {
                println!("{name}: FAILED: {e}");
                failed = true;
            }
        }
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
