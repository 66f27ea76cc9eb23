//! Property-based fuzz targets for every decoder of untrusted input in Sonic.
//!
//! Each target is a [`proptest`] property run by [`run`]: it asserts no panic and no
//! accepted-but-wrong value (what a decoder accepts is exactly what was encoded, or what an
//! independent oracle reads from the same bytes; anything else is refused with an error).
//! `cargo test -p sonic-db-fuzz` runs a few hundred cases of each; `scripts/fuzz.sh` runs
//! `SONIC_FUZZ_CASES` (default 1,000,000) per target with the `fuzz` binary.

pub mod api;
pub mod d1_rows;
pub mod envelope;
pub mod snapshot;
pub mod sqlite_rows;

use std::time::{Duration, Instant};

use proptest::strategy::Strategy;
use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestRng, TestRunner};

/// Every target, by name.
pub const TARGETS: [&str; 5] = ["envelope", "d1_rows", "sqlite_rows", "api", "snapshot"];

/// What a run did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Report {
    /// Inputs tried.
    pub cases: u64,
}

/// Runs `property` on `cases` inputs of `strategy` (in chunks of seeded runners, stopping early
/// at `deadline`); the first failure, shrunk, is the error.
///
/// ```
/// use proptest::prelude::*;
/// let report = sonic_db_fuzz::run_property(any::<u8>(), 10, None, |_| Ok(())).unwrap();
/// assert_eq!(report.cases, 10);
/// ```
pub fn run_property<S: Strategy>(
    strategy: S,
    cases: u64,
    deadline: Option<Instant>,
    property: impl Fn(S::Value) -> Result<(), TestCaseError>,
) -> Result<Report, String>
where
    S::Value: std::fmt::Debug,
{
    const CHUNK: u64 = 5_000;
    let mut done = 0;
    let mut chunk = 0u64;
    while done < cases {
        if deadline.is_some_and(|d| Instant::now() >= d) {
            break;
        }
        let n = (cases - done).min(CHUNK);
        let mut seed = [0u8; 32];
        if let Some(head) = seed.get_mut(..8) {
            head.copy_from_slice(&chunk.to_le_bytes());
        }
        let config = Config {
            cases: u32::try_from(n).unwrap_or(u32::MAX),
            failure_persistence: None,
            max_shrink_iters: 2_000,
            ..Config::default()
        };
        let mut runner =
            TestRunner::new_with_rng(config, TestRng::from_seed(RngAlgorithm::ChaCha, &seed));
        runner
            .run(&strategy, &property)
            .map_err(|e| format!("after {done} cases, chunk seed {chunk}: {e}"))?;
        done += n;
        chunk += 1;
    }
    Ok(Report { cases: done })
}

/// Runs target `name` for `cases` inputs, or until `budget` has passed.
pub fn run(name: &str, cases: u64, budget: Option<Duration>) -> Result<Report, String> {
    let deadline = budget.map(|b| Instant::now() + b);
    match name {
        "envelope" => envelope::fuzz(cases, deadline),
        "d1_rows" => d1_rows::fuzz(cases, deadline),
        "sqlite_rows" => sqlite_rows::fuzz(cases, deadline),
        "api" => api::fuzz(cases, deadline),
        "snapshot" => snapshot::fuzz(cases, deadline),
        other => Err(format!(
            "no target `{other}` (targets: {})",
            TARGETS.join(", ")
        )),
    }
}

/// Random edits of a byte string: flips, insertions of JSON-significant bytes, deletions,
/// truncation. Used to turn valid encodings into near-valid hostile ones.
pub fn mutate() -> impl Strategy<Value = Vec<(u8, usize, u8)>> {
    proptest::collection::vec(
        (0u8..4, proptest::num::usize::ANY, proptest::num::u8::ANY),
        0..6,
    )
}

/// Applies [`mutate`]'s edits to `bytes`.
pub fn apply_mutations(mut bytes: Vec<u8>, edits: &[(u8, usize, u8)]) -> Vec<u8> {
    const SIGNIFICANT: &[u8] = b"{}[]\",:0123456789-.eE\\ntfu ab";
    for &(kind, at, byte) in edits {
        let len = bytes.len();
        let pos = if len == 0 { 0 } else { at % (len + 1) };
        match kind {
            0 if pos < len => {
                if let Some(b) = bytes.get_mut(pos) {
                    *b ^= byte | 1;
                }
            }
            1 => {
                let b = SIGNIFICANT
                    .get(usize::from(byte) % SIGNIFICANT.len())
                    .copied()
                    .unwrap_or(b'0');
                bytes.insert(pos, b);
            }
            2 if pos < len => {
                bytes.remove(pos);
            }
            _ => bytes.truncate(pos),
        }
    }
    bytes
}
