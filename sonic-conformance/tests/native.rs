//! The conformance suite on rusqlite + the in-memory KV: with SQLite's capabilities, with
//! D1's (100 parameters, single-statement eager loading), and on sabotaged backends, each of
//! which must make specific scenarios fail.

// Reason: test setup helpers outside `#[test]` functions fail the test by panicking.
#![allow(clippy::expect_used)]

use std::collections::BTreeSet;

use sonic_db_conformance::{
    run, scenario_names, Options, Report, Sabotage, SabotagedKv, SabotagedSql,
};
use sonic_db_core::sqlite::SqliteBackend;
use sonic_db_core::{CacheConfig, Capabilities, Db, MemoryKv};

/// Scenarios that fail because of known bugs in sonic-db-core (reported; remove an entry when
/// its bug is fixed — the test says so).
const KNOWN_CORE_BUGS: &[&str] = &[];

fn db(capabilities: Capabilities, sabotage: Option<Sabotage>) -> Db {
    let sqlite = SqliteBackend::memory()
        .expect("in-memory SQLite")
        .with_capabilities(capabilities);
    Db::new(SabotagedSql::new(sqlite, sabotage))
        .with_kv(
            SabotagedKv::new(MemoryKv::new(), sabotage),
            CacheConfig::new(),
        )
        .expect("cache config")
}

fn suite(capabilities: Capabilities, sabotage: Option<Sabotage>) -> Report {
    let label = format!(
        "sqlite (max_params {}) + memory KV, sabotage {}",
        capabilities.max_params,
        sabotage.map_or("none", Sabotage::name)
    );
    pollster::block_on(run(&db(capabilities, sabotage), &Options::new(label)))
}

fn failures(report: &Report) -> BTreeSet<&str> {
    report.failures().into_iter().collect()
}

fn assert_passes(report: &Report) {
    let known: BTreeSet<&str> = KNOWN_CORE_BUGS.iter().copied().collect();
    let failed = failures(report);
    assert_eq!(failed.difference(&known).count(), 0, "{}", report.summary());
    let fixed: Vec<&&str> = known.difference(&failed).collect();
    assert!(
        fixed.is_empty(),
        "{fixed:?} pass now: remove them from KNOWN_CORE_BUGS"
    );
    assert_eq!(report.scenarios.len(), scenario_names().len());
}

#[test]
fn passes_with_sqlite_capabilities() {
    assert_passes(&suite(Capabilities::SQLITE, None));
}

#[test]
fn passes_with_d1_capabilities() {
    assert_passes(&suite(Capabilities::D1, None));
}

/// Durable Object SQLite's mix: integers come as text (as on D1) while eager loads run per
/// level with transactions (as natively); no other capability set pairs the two.
#[test]
fn passes_with_durable_object_like_capabilities() {
    let capabilities = Capabilities {
        eager: sonic_db_core::EagerStrategy::PerLevel,
        transactions: true,
        ..Capabilities::D1
    };
    assert_passes(&suite(capabilities, None));
}

/// Each sabotage, with both capability sets: the scenarios it must break fail, and no
/// scenario fails that the sabotage cannot explain.
#[test]
fn every_sabotage_is_caught() {
    for sabotage in Sabotage::ALL {
        for capabilities in [Capabilities::SQLITE, Capabilities::D1] {
            let max_params = capabilities.max_params;
            let holds_transactions = capabilities.transactions;
            let single_statement =
                capabilities.eager == sonic_db_core::EagerStrategy::SingleStatement;
            let report = suite(capabilities, Some(sabotage));
            let failed = failures(&report);
            let expected: BTreeSet<&str> = expected_failures(sabotage)
                .iter()
                .chain(KNOWN_CORE_BUGS)
                .copied()
                // Per level, a many-to-many load reads its posts' audit timestamps through the
                // same broken results as the plain select it is compared with, so they agree;
                // with D1's strategy they come as JSON text, which the sabotage leaves intact.
                .filter(|name| {
                    !(sabotage == Sabotage::TruncateIntegers
                        && *name == "many_to_many"
                        && !single_statement)
                })
                // Without transactions (D1's capabilities) the scenario checks the refusal
                // only, which neither a non-atomic backend nor a lossy KV can change.
                .filter(|name| {
                    holds_transactions
                        || sabotage == Sabotage::DropLastRow
                        || *name != "transactions"
                })
                .collect();
            assert_eq!(
                failed,
                expected,
                "sabotage {sabotage} with max_params {max_params}:\n{}",
                report.summary()
            );
            for must in sabotage.must_fail() {
                assert!(failed.contains(must), "{sabotage}: {must} passed");
            }
        }
    }
}

/// Exactly which scenarios each sabotage breaks natively, with SQLite's and D1's capabilities
/// alike. Known core bugs come on top.
fn expected_failures(sabotage: Sabotage) -> &'static [&'static str] {
    match sabotage {
        // Seeding with insert_many loses a row, and so does every list.
        Sabotage::DropLastRow => &[
            "filter_operators",
            "filter_by_name",
            "order_limit_offset",
            "count_and_page",
            "text_search",
            "exists_one_statement",
            "keyset_pages",
            "raw_rows",
            "relation_filters",
            "aggregates",
            "joins",
            "eager_many",
            "eager_one",
            "eager_nested",
            "eager_values",
            "relation_state",
            "eager_level_options",
            "many_to_many",
            "insert_many_1000",
            "transactions",
            "values_round_trip",
            "integers",
            "integers_beyond_2_53",
            "integers_64bit",
            "bools",
            "text_unicode",
            "text_nul",
            "empty_and_null",
            "blobs",
            "floats",
            "json_columns",
            "kv_insert_then_fill",
            "kv_update_where",
            "kv_delete_where",
            "kv_awkward_keys",
            "generated_keys",
            "table_constraints",
            // The inspection's last row (conf_items' STRICT flag, or a table's last index).
            "schema_inspection",
            "insert_defaults",
            "composite_keys",
            "kv_composite_keys",
        ],
        // Audit timestamps (Unix ms) and 64-bit values change; scenarios that only compare
        // ids and small integers cannot see it.
        Sabotage::TruncateIntegers => &[
            "crud",
            "count_and_page",
            "eager_many",
            "eager_one",
            "eager_nested",
            "eager_values",
            "many_to_many",
            "insert_many_1000",
            "values_round_trip",
            "integers",
            "integers_beyond_2_53",
            "integers_64bit",
            "unique_violation",
            "foreign_key_violation",
            "kv_miss_then_hit",
            "kv_insert_then_fill",
            "kv_update",
            "kv_delete",
            "kv_update_where",
            "kv_delete_where",
            "kv_find_fresh",
            "kv_awkward_keys",
            "kv_integers_64bit",
            "generated_keys",
            "insert_defaults",
            "composite_keys",
            "kv_composite_keys",
        ],
        Sabotage::BatchNotAtomic => &["insert_many_atomic", "transactions"],
        // A second write to a bucket cannot replace its generation, and a refill cannot
        // replace an entry: an old row is served (crud's update_where, kv_delete's delete), or
        // the refill never becomes current.
        Sabotage::KvStale => &["crud", "kv_update", "kv_delete", "kv_update_where"],
        // Nothing filled is ever a hit.
        Sabotage::KvLostPut => &[
            "values_round_trip",
            "integers",
            "integers_beyond_2_53",
            "bools",
            "text_unicode",
            "text_nul",
            "empty_and_null",
            "blobs",
            "floats",
            "json_columns",
            "kv_miss_then_hit",
            "kv_insert_then_fill",
            "kv_update",
            "kv_delete",
            "kv_update_where",
            "kv_delete_where",
            "kv_find_fresh",
            "kv_awkward_keys",
            "kv_cascade_delete",
            "kv_integers_64bit",
            "transactions",
            "kv_generated_key",
            "kv_composite_keys",
        ],
    }
}

#[test]
fn runs_a_subset_by_name_and_reports_unknown_names() {
    let db = db(Capabilities::SQLITE, None);
    let options = Options::new("subset").only(["not_found", "crud", "no_such_scenario"]);
    let report = pollster::block_on(run(&db, &options));
    let names: Vec<&str> = report.scenarios.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["crud", "not_found", "no_such_scenario"]);
    assert_eq!((report.passed, report.failed), (2, 1));
    let unknown = report.scenario("no_such_scenario").unwrap();
    assert!(unknown
        .message
        .as_deref()
        .unwrap()
        .contains("no scenario is named"));

    // The report is JSON for the end-to-end runner, and reads back.
    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(json["backend"], "subset");
    assert_eq!(json["scenarios"][0]["name"], "crud");
    assert_eq!(json["scenarios"][0]["passed"], true);
    assert!(json["scenarios"][0].get("message").is_none());
    let back: Report = serde_json::from_value(json).unwrap();
    assert_eq!(back, report);
}

#[test]
fn runs_twice_on_the_same_database_and_leaves_no_tables() {
    let db = db(Capabilities::SQLITE, None);
    let options = Options::new("twice").only(["kv_miss_then_hit", "crud", "eager_nested"]);
    for _ in 0..2 {
        let report = pollster::block_on(run(&db, &options));
        assert!(report.ok(), "{}", report.summary());
    }
    let tables = pollster::block_on(
        db.sql("SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'conf_%'")
            .all_json(),
    )
    .unwrap();
    assert!(tables.is_empty(), "{tables:?}");
}

#[test]
fn kv_scenarios_fail_clearly_without_a_cache() {
    let db = Db::new(SqliteBackend::memory().unwrap());
    let report = pollster::block_on(run(&db, &Options::new("no kv").only(["crud", "kv_delete"])));
    assert!(
        report.scenario("crud").unwrap().passed,
        "{}",
        report.summary()
    );
    let kv = report.scenario("kv_delete").unwrap();
    assert!(!kv.passed);
    assert!(kv.message.as_deref().unwrap().contains("no KV cache"));
}

#[test]
fn sabotage_names_parse() {
    for sabotage in Sabotage::ALL {
        assert_eq!(Sabotage::parse(sabotage.name()), Ok(Some(sabotage)));
        assert_eq!(sabotage.name().parse::<Sabotage>(), Ok(sabotage));
        assert_eq!(
            serde_json::to_value(sabotage).unwrap(),
            serde_json::Value::from(sabotage.name())
        );
    }
    assert_eq!(Sabotage::parse(""), Ok(None));
    assert!(Sabotage::parse("drop_all_rows")
        .unwrap_err()
        .contains("drop_last_row"));
}

/// A full run must fit one Worker invocation: Workers allow 1,000 KV operations per
/// invocation (D1 allows 1,000 queries on the paid plan; the free plan's 50 need subsets).
#[test]
fn a_full_run_fits_the_kv_budget_of_one_worker_invocation() {
    use sonic_db_core::testing::kv::CountingKv;
    use sonic_db_core::testing::sql::CountingSql;
    let sql = CountingSql::new(
        SqliteBackend::memory()
            .unwrap()
            .with_capabilities(Capabilities::D1),
    );
    let kv = CountingKv::new(MemoryKv::new());
    let db = Db::new(sql.clone())
        .with_kv(kv.clone(), CacheConfig::new())
        .unwrap();
    let report = pollster::block_on(run(&db, &Options::new("counted")));
    assert_passes(&report);
    let counts = kv.counts();
    println!(
        "KV operations: {counts:?} ({} in all); SQL: {} round trips, {} statements",
        counts.total(),
        sql.round_trips(),
        sql.statement_count()
    );
    assert!(counts.total() < 1_000, "{counts:?}");
}
