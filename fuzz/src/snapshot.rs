//! Target `snapshot`: migration snapshot files (`migrations/meta/sonic-snapshot.json`), read by
//! `Migrations::read_snapshot` and planned against a schema.
//!
//! Mutated and hostile files are refused, or read exactly as serde reads them; an accepted
//! snapshot's DDL, run on SQLite, creates exactly the tables and columns it names (nothing
//! spliced into SQL), and planning from it never panics.

use std::time::Instant;

use proptest::prelude::*;
use sonic_db_core::migrate::{Migrations, SchemaSnapshot};
use sonic_db_core::sqlite::SqliteBackend;
use sonic_db_core::Schema;

use crate::{apply_mutations, mutate, run_property, Report};

/// The snapshot's schema: two tables with a reference between them.
#[derive(Debug, Clone, sonic_db_core::Table)]
#[table(name = "authors")]
pub struct Author {
    /// Key.
    #[column(primary_key)]
    pub id: String,
    /// Unique.
    #[column(unique)]
    pub email: String,
}

/// The child table.
#[derive(Debug, Clone, sonic_db_core::Table)]
#[table(name = "books")]
pub struct Book {
    /// Key.
    #[column(primary_key)]
    pub id: i64,
    /// Referenced.
    #[column(references = Author::ID, on_delete = "cascade")]
    pub author_id: String,
    /// With a default.
    #[column(default = "0")]
    pub pages: i64,
}

/// Hostile replacements for a snapshot's free-text fields.
fn hostile() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        Just("TEXT, \"injected\" INTEGER".to_string()),
        Just("INTEGER); CREATE TABLE \"evil\" (x".to_string()),
        Just("0, \"injected\" TEXT".to_string()),
        Just("x\"y".to_string()),
        Just("TEXT".to_string()),
        Just("cascade".to_string()),
    ]
}

/// Runs the target.
pub fn fuzz(cases: u64, deadline: Option<Instant>) -> Result<Report, String> {
    let schema = Schema::new().table::<Author>().table::<Book>();
    let snapshot = schema.snapshot();
    let text = serde_json::to_string_pretty(&snapshot).map_err(|e| e.to_string())?;
    let dir = std::env::temp_dir().join(format!("sonic-fuzz-snapshot-{}", std::process::id()));
    let migrations = Migrations::new(&dir);
    let path = migrations.snapshot_path();
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|e| e.to_string())?;
    }
    // A free-text field to replace: (table, column, which field).
    let strategy = (
        mutate(),
        proptest::option::of((0usize..2, 0usize..3, 0u8..4, hostile())),
    );
    let result = run_property(strategy, cases, deadline, |(edits, replace)| {
        let mut json: serde_json::Value =
            serde_json::from_str(&text).map_err(|e| TestCaseError::fail(e.to_string()))?;
        if let Some((t, c, field, value)) = replace {
            let key = match field {
                0 => "name",
                1 => "sql_type",
                2 => "default",
                _ => "on_delete",
            };
            if let Some(column) = json
                .get_mut("tables")
                .and_then(|ts| ts.get_mut(t))
                .and_then(|t| t.get_mut("columns"))
                .and_then(|cs| cs.get_mut(c))
                .and_then(serde_json::Value::as_object_mut)
            {
                if key == "on_delete" {
                    column.insert(
                        "references".into(),
                        serde_json::json!({"table": "authors", "column": "id", "on_delete": value}),
                    );
                } else {
                    column.insert(key.into(), value.into());
                }
            }
        }
        let bytes = apply_mutations(json.to_string().into_bytes(), &edits);
        std::fs::write(&path, &bytes).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let read = migrations.read_snapshot();
        let serde_reads = serde_json::from_slice::<SchemaSnapshot>(&bytes)
            .ok()
            .filter(|s| s.version == SchemaSnapshot::VERSION);
        let Ok(read) = read else {
            return Ok(());
        };
        prop_assert!(
            serde_reads.as_ref() == Some(&read),
            "read {read:?}, serde reads {serde_reads:?}"
        );
        // Planning from any accepted snapshot: statements or an error, no panic.
        let _ = migrations.plan(&schema);
        // Its DDL creates exactly what it names, or fails.
        let sqlite = SqliteBackend::memory().map_err(|e| TestCaseError::fail(e.to_string()))?;
        let script = read
            .statements()
            .iter()
            .map(|s| format!("{s};\n"))
            .collect::<String>();
        if sqlite.exec(&script).is_ok() {
            let db = sonic_db_core::Db::new(sqlite);
            for table in &read.tables {
                let columns = names(
                    &db,
                    "SELECT name FROM pragma_table_info(?) ORDER BY cid",
                    Some(&table.name),
                )?;
                let named: Vec<&str> = table.columns.iter().map(|c| c.name.as_str()).collect();
                prop_assert_eq!(
                    columns.iter().map(String::as_str).collect::<Vec<_>>(),
                    named,
                    "DDL of {:?}",
                    table
                );
            }
            let tables = names(
                &db,
                "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name",
                None,
            )?;
            let mut named: Vec<&str> = read.tables.iter().map(|t| t.name.as_str()).collect();
            named.sort_unstable();
            named.dedup();
            prop_assert_eq!(tables.iter().map(String::as_str).collect::<Vec<_>>(), named);
        }
        Ok(())
    });
    let _ = std::fs::remove_dir_all(&dir);
    result
}

/// The first column of a query's rows, as text.
fn names(
    db: &sonic_db_core::Db,
    sql: &str,
    arg: Option<&str>,
) -> Result<Vec<String>, TestCaseError> {
    let mut query = db.sql(sql);
    if let Some(arg) = arg {
        query = query.bind(arg.to_string());
    }
    let result =
        pollster::block_on(query.result()).map_err(|e| TestCaseError::fail(e.to_string()))?;
    Ok(result
        .values
        .into_iter()
        .map(|v| match v {
            sonic_db_core::Value::Text(s) => s,
            other => format!("{other:?}"),
        })
        .collect())
}
