//! One conformance suite for every Sonic backend.
//!
//! The same scenarios run natively (rusqlite + [`MemoryKv`](sonic_db_core::MemoryKv)) and inside
//! workerd (D1 + Workers KV): this crate is the one source of them. Its entry point, [`run`],
//! takes a [`Db`] — configured with a KV cache — and returns a serialisable [`Report`]; the
//! native tests call it directly, and the example Worker calls it from `POST /_conformance`
//! and returns the report as JSON to the end-to-end runner.
//!
//! ```
//! use sonic_db_conformance::{run, Options};
//! use sonic_db_core::{sqlite::SqliteBackend, CacheConfig, Db, MemoryKv};
//!
//! let db = Db::new(SqliteBackend::memory()?).with_kv(MemoryKv::new(), CacheConfig::new())?;
//! let options = Options::new("sqlite + memory KV").only(["crud", "kv_update"]);
//! let report = pollster::block_on(run(&db, &options));
//! assert!(report.ok(), "{}", report.summary());
//! assert_eq!(serde_json::to_value(&report)?["passed"], 2);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! In the Worker (`sonic-db-d1`, `sonic-db-kv`), with the sabotage of the query string if any:
//!
//! ```ignore
//! let sabotage = Sabotage::parse(&sabotage_param)?;
//! let db = Db::new(SabotagedSql::new(D1Backend::from_env(&env, "DB")?, sabotage))
//!     .with_kv(SabotagedKv::new(WorkersKv::from_env(&env, "KV")?, sabotage), CacheConfig::new())?;
//! let options: Options = req.json().await.unwrap_or_default();
//! Response::from_json(&sonic_db_conformance::run(&db, &options).await)
//! ```
//!
//! # What it checks
//!
//! CRUD with audit columns, every filter operator, ordering, limit/offset, count and pages,
//! eager relations one and two levels deep, chunked and atomic inserts of 1,000+ rows, value
//! edges (integers at and beyond ±2^53, bools, Unicode, NUL, empty versus `NULL`, every byte,
//! float edges, JSON, text enums), constraint errors, missing records, and the KV cache
//! (misses, hits, lazy fills after inserts, invalidation by every other write, fresh reads). See
//! [`scenario_names`].
//!
//! # Isolation
//!
//! The suite works on its own tables (`conf_users`, `conf_posts`, `conf_comments`,
//! `conf_values`; see [`tables`]), which it drops and recreates at the start of a run (DDL from
//! [`sonic_db_core::Schema`], so no migration is needed) and empties before each scenario. Its KV
//! keys carry a prefix unique to the run and scenario (`conformance-…`), with the platform's
//! minimum TTL of 60 s, so they never meet an application's keys and vanish soon. It opens its
//! own handles on the given database's backends, with a [`FixedClock`] it advances itself,
//! so audit timestamps are exact; the given `Db`'s own cache configuration is not used.
//!
//! # Rules of the scenarios
//!
//! Each scenario is an async function returning `Result<(), String>`; the message says what
//! was done, what was expected and what came back. Nothing in a scenario panics (a panic on
//! wasm32 would kill the Worker and the report with it). A value that cannot travel exactly
//! (an integer beyond 2^53 on D1) must be refused with an error and nothing written: *exact or
//! error, never a changed value*.
//!
//! # Limits on Workers
//!
//! A full run sends a few hundred D1 statements and a few hundred KV operations. Workers on
//! the free plan allow 50 D1 queries per invocation; run subsets there
//! ([`Options::only`]), one request each.

mod check;
mod counted;
mod ctx;
pub mod sabotage;
mod scenarios;
pub mod tables;

use std::sync::atomic::{AtomicU64, Ordering};

use serde::{Deserialize, Serialize};
use sonic_db_core::{Db, FixedClock, Statement};

pub use sabotage::{Sabotage, SabotagedKv, SabotagedSql};

use crate::check::Step;
use crate::ctx::Ctx;
use crate::scenarios::SCENARIOS;

/// How to run the suite.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Options {
    /// A label for the report (`"d1+workers-kv"`); when empty, the report describes the
    /// backend's capabilities.
    pub backend: String,
    /// Only these scenarios (by name, in the suite's order); all when empty. An unknown name
    /// is reported as a failed scenario.
    pub only: Vec<String>,
    /// Keep the suite's tables and rows after the run (for inspection); by default they are
    /// dropped.
    pub keep_tables: bool,
}

impl Options {
    /// Every scenario, with this label.
    pub fn new(backend: impl Into<String>) -> Options {
        Options {
            backend: backend.into(),
            ..Options::default()
        }
    }

    /// Only the scenarios with these names.
    pub fn only<S: Into<String>>(mut self, names: impl IntoIterator<Item = S>) -> Options {
        self.only = names.into_iter().map(Into::into).collect();
        self
    }
}

/// The outcome of one scenario.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScenarioResult {
    /// The scenario's name.
    pub name: String,
    /// Whether everything it checked held.
    pub passed: bool,
    /// What differed (expected versus got), when it failed.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub message: Option<String>,
    /// How long it took by the given database's clock (0 with a fixed clock; on Workers the
    /// clock only moves across I/O).
    pub millis: u64,
}

/// The outcome of a run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    /// What ran: [`Options::backend`], or the backend's capabilities.
    pub backend: String,
    /// One result per scenario, in the order they ran.
    pub scenarios: Vec<ScenarioResult>,
    /// Scenarios that passed.
    pub passed: usize,
    /// Scenarios that failed.
    pub failed: usize,
}

impl Report {
    /// Whether every scenario passed (and at least one ran).
    pub fn ok(&self) -> bool {
        self.failed == 0 && self.passed > 0
    }

    /// The names of the failed scenarios.
    pub fn failures(&self) -> Vec<&str> {
        self.scenarios
            .iter()
            .filter(|s| !s.passed)
            .map(|s| s.name.as_str())
            .collect()
    }

    /// The result of the scenario with this name.
    pub fn scenario(&self, name: &str) -> Option<&ScenarioResult> {
        self.scenarios.iter().find(|s| s.name == name)
    }

    /// A human-readable summary: the counts, then one line per failure with its message.
    pub fn summary(&self) -> String {
        let mut out = format!(
            "{}: {} passed, {} failed",
            self.backend, self.passed, self.failed
        );
        for s in self.scenarios.iter().filter(|s| !s.passed) {
            out.push_str(&format!(
                "\n  FAIL {}: {}",
                s.name,
                s.message.as_deref().unwrap_or("")
            ));
        }
        out
    }
}

/// The names of every scenario, in the order they run.
pub fn scenario_names() -> Vec<&'static str> {
    SCENARIOS.iter().map(|s| s.name).collect()
}

/// Runs in one isolate get distinct KV prefixes even on a fixed clock.
static RUNS: AtomicU64 = AtomicU64::new(0);

/// Runs the suite (or [`Options::only`] part of it) on `db`'s SQL backend and, for the KV
/// scenarios, its KV cache's backend. Never panics: every problem is a failed scenario.
///
/// The returned future is not `Send` (on wasm32 no backend future is); drive it with the
/// Worker's executor or, natively, `pollster::block_on`.
pub async fn run(db: &Db, options: &Options) -> Report {
    let start_ms = db.now_ms();
    let run_number = RUNS.fetch_add(1, Ordering::Relaxed);
    let backend = if options.backend.is_empty() {
        let caps = db.capabilities();
        format!(
            "max_params={} eager={:?} kv={}",
            caps.max_params,
            caps.eager,
            if db.cache().is_some() { "yes" } else { "no" }
        )
    } else {
        options.backend.clone()
    };

    let mut selected: Vec<(usize, Option<&scenarios::Scenario>, String)> = Vec::new();
    if options.only.is_empty() {
        selected.extend(
            SCENARIOS
                .iter()
                .enumerate()
                .map(|(i, s)| (i, Some(s), s.name.to_string())),
        );
    } else {
        for (i, scenario) in SCENARIOS.iter().enumerate() {
            if options.only.iter().any(|n| n == scenario.name) {
                selected.push((i, Some(scenario), scenario.name.to_string()));
            }
        }
        for name in &options.only {
            if !SCENARIOS.iter().any(|s| s.name == name) {
                selected.push((usize::MAX, None, name.clone()));
            }
        }
    }

    let admin = Db::from_shared(db.backend().clone()).with_clock(FixedClock::new(start_ms));
    let setup = create_tables(&admin).await;
    let mut results = Vec::with_capacity(selected.len());
    for (index, scenario, name) in selected {
        let began = db.now_ms();
        let outcome = match (scenario, &setup) {
            (None, _) => Err(format!(
                "no scenario is named `{name}`; known: {}",
                scenario_names().join(", ")
            )),
            (Some(_), Err(e)) => Err(format!("setting up the suite's tables failed: {e}")),
            (Some(scenario), Ok(())) => {
                let prefix = format!("conformance-{}-{run_number}-{index}", base36(start_ms));
                run_one(db, &admin, scenario, start_ms, prefix).await
            }
        };
        let millis = u64::try_from(db.now_ms().saturating_sub(began)).unwrap_or(0);
        results.push(ScenarioResult {
            name,
            passed: outcome.is_ok(),
            message: outcome.err(),
            millis,
        });
    }
    if setup.is_ok() && !options.keep_tables {
        // Best effort: a failure here leaves tables the next run drops anyway.
        let _ = drop_tables(&admin).await;
    }
    let passed = results.iter().filter(|r| r.passed).count();
    Report {
        backend,
        failed: results.len() - passed,
        passed,
        scenarios: results,
    }
}

/// Runs one scenario from a clean state, then checks what the cache reported.
async fn run_one(
    db: &Db,
    admin: &Db,
    scenario: &scenarios::Scenario,
    start_ms: i64,
    prefix: String,
) -> Result<(), String> {
    let ctx = Ctx::new(db, start_ms, prefix)?;
    if scenarios::needs_kv(scenario.name) {
        ctx.require_kv()?;
    }
    empty_tables(admin)
        .await
        .map_err(|e| format!("emptying the suite's tables failed: {e}"))?;
    ctx.clear_kv().await?;
    (scenario.run)(&ctx).await?;
    let problems = ctx.kv_problems();
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "every check held, but the KV cache reported problems: {}",
            problems.join(" | ")
        ))
    }
}

/// Drops leftovers of earlier runs, then creates the suite's tables.
async fn create_tables(db: &Db) -> Result<(), String> {
    drop_tables(db).await?;
    for statement in tables::schema().statements() {
        db.sql(statement.clone())
            .run()
            .await
            .step(format!("`{statement}`"))?;
    }
    Ok(())
}

async fn drop_tables(db: &Db) -> Result<(), String> {
    for name in tables::table_names() {
        let sql = format!("DROP TABLE IF EXISTS {}", quoted(name));
        db.sql(sql.clone()).run().await.step(format!("`{sql}`"))?;
    }
    Ok(())
}

/// Empties the suite's tables, children first, in one round trip.
async fn empty_tables(db: &Db) -> Result<(), String> {
    let statements: Vec<Statement> = tables::table_names()
        .into_iter()
        .map(|name| Statement::new(format!("DELETE FROM {}", quoted(name)), Vec::new()))
        .collect();
    db.backend()
        .batch(&statements)
        .await
        .step("emptying the suite's tables")
        .map(|_| ())
}

/// `n` in base 36 (a short, key-safe run tag).
fn base36(n: i64) -> String {
    const DIGITS: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut n = n.unsigned_abs();
    let mut out = Vec::new();
    loop {
        out.push(DIGITS.get((n % 36) as usize).copied().unwrap_or(b'0'));
        n /= 36;
        if n == 0 {
            break;
        }
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

/// A table name of the suite's own schema as a quoted identifier (its names hold no `"`).
fn quoted(name: &str) -> String {
    format!("\"{name}\"")
}
