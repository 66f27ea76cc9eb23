//! A driver for profilers: sets up one workload of one implementation, then runs it a fixed
//! number of times inside `measured`, so that callgrind can count that part alone
//! (`--toggle-collect='*measured*'`) and divide by the iterations. BENCHMARKS.md has the
//! command lines.
//!
//! ```text
//! profile <workload> <implementation> [size] [iterations]
//!   workload:       trivial | medium | insert | associations | find | aggregate | join
//!   implementation: sonic | sonic_single | sonic_n1 | sonic_kv | sonic_count | rusqlite | rusqlite_returning | diesel
//! ```

use std::hint::black_box;
use std::process::ExitCode;

use sonic_benches::fixture::Seed;
use sonic_benches::{diesel, raw, sonic};

#[inline(never)]
fn measured<R>(iterations: usize, mut run: impl FnMut() -> R) {
    for _ in 0..iterations {
        black_box(run());
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |i: usize| args.get(i).map(String::as_str);
    let (Some(workload), Some(implementation)) = (arg(0), arg(1)) else {
        eprintln!("usage: profile <workload> <implementation> [size] [iterations]");
        return ExitCode::FAILURE;
    };
    let size: usize = arg(2).and_then(|s| s.parse().ok()).unwrap_or(100);
    let iterations: usize = arg(3).and_then(|s| s.parse().ok()).unwrap_or(1_000);
    let strategy = match implementation {
        "sonic_single" => sonic::Strategy::SingleStatement,
        "sonic_n1" => sonic::Strategy::NPlusOne,
        _ => sonic::Strategy::Default,
    };
    let is_sonic = implementation.starts_with("sonic");
    let seed = match workload {
        "trivial" => Seed::Trivial(size as i64),
        "medium" => Seed::Medium(size as i64),
        "associations" | "aggregate" | "join" => Seed::Associations,
        "find" => Seed::Trivial(100),
        "insert" => Seed::Empty,
        _ => {
            eprintln!("unknown workload {workload}");
            return ExitCode::FAILURE;
        }
    };
    match (workload, implementation) {
        (_, "rusqlite" | "rusqlite_returning") => {
            let mut r = raw::Bench::new(seed);
            match workload {
                "trivial" => measured(iterations, || r.trivial()),
                "medium" | "join" => measured(iterations, || r.medium()),
                "aggregate" => measured(iterations, || r.aggregate()),
                "associations" => measured(iterations, || r.associations()),
                "find" => measured(iterations, || r.find(42)),
                _ if implementation == "rusqlite_returning" => {
                    measured(iterations, || r.insert_returning(size))
                }
                _ => measured(iterations, || r.insert(size)),
            }
        }
        (_, "diesel") => {
            let mut d = diesel::Bench::new(seed);
            match workload {
                "trivial" => measured(iterations, || d.trivial()),
                "medium" | "join" => measured(iterations, || d.medium()),
                "aggregate" => measured(iterations, || d.aggregate()),
                "associations" => measured(iterations, || d.associations()),
                "find" => measured(iterations, || d.find(42)),
                _ => measured(iterations, || d.insert(size)),
            }
        }
        _ if is_sonic => {
            let mut s = sonic::Bench::new(seed, strategy);
            if implementation == "sonic_kv" {
                s = s.with_kv();
                s.find(42);
            }
            match workload {
                "trivial" => measured(iterations, || s.trivial()),
                "medium" => measured(iterations, || s.medium()),
                "join" => measured(iterations, || s.join()),
                "aggregate" => measured(iterations, || s.aggregate()),
                "associations" => measured(iterations, || s.associations()),
                "find" => measured(iterations, || s.find(42)),
                _ if implementation == "sonic_count" => {
                    measured(iterations, || s.insert_count(size))
                }
                _ => measured(iterations, || s.insert(size)),
            }
        }
        _ => {
            eprintln!("unknown implementation {implementation}");
            return ExitCode::FAILURE;
        }
    }
    ExitCode::SUCCESS
}
