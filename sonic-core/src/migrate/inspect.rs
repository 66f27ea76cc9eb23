//! A live database read back as a [`SchemaSnapshot`] (`PRAGMA table_info`, `index_list`,
//! `index_info`, `foreign_key_list`, `table_list`), through any backend (D1 included) or a
//! native SQLite file: what `check` compares with the schema, and what `adopt` makes the
//! baseline snapshot of an existing database (e.g. a SonicJs one).

#[cfg(all(feature = "rusqlite", not(target_arch = "wasm32")))]
use std::path::PathBuf;

#[cfg(all(feature = "rusqlite", not(target_arch = "wasm32")))]
use super::Migrations;
use super::{
    ColumnSnapshot, IndexSnapshot, MigrateError, ReferenceSnapshot, SchemaSnapshot, TableSnapshot,
    MIGRATIONS_TABLE,
};
use sonic_db_sql_text::is_default_expression;

use crate::backend::{QueryResult, Statement};
use crate::db::Db;
#[cfg(all(feature = "rusqlite", not(target_arch = "wasm32")))]
use crate::sqlite::SqliteBackend;
use crate::value::Value;

/// A database's shape read in three rounds of statements, each round one batch where the
/// backend's batch limit allows (one round trip on D1), each pragma called with its table or
/// index bound: D1 refuses a pragma function whose
/// argument is a column (`JOIN pragma_table_info(m.name)`). The rounds: the tables and their
/// `STRICT` flags; per table its columns, foreign keys and indexes; per index its columns.
struct Inspection {
    tables: Vec<TableSnapshot>,
    /// Per index of round two: its table's position, name, `UNIQUE`, origin (`c`/`u`/`pk`).
    indexes: Vec<(usize, String, bool, String)>,
    round: u8,
}

impl Inspection {
    /// The inspection and its first round.
    fn start() -> (Inspection, Vec<Statement>) {
        let tables = Statement::new(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' \
             AND name NOT LIKE '_cf_%' AND name <> ? ORDER BY rowid",
            vec![Value::Text(MIGRATIONS_TABLE.to_string())],
        );
        let strict = Statement::new(
            "SELECT name, strict FROM pragma_table_list WHERE schema = 'main'",
            Vec::new(),
        );
        let inspection = Inspection {
            tables: Vec::new(),
            indexes: Vec::new(),
            round: 1,
        };
        (inspection, vec![tables, strict])
    }

    /// Takes the answers to the last round; the next round, or `None` when done.
    fn step(&mut self, results: &[QueryResult]) -> Result<Option<Vec<Statement>>, crate::Error> {
        let round = self.round;
        self.round += 1;
        let next = match round {
            1 => self.tables(results)?,
            2 => self.columns_and_indexes(results)?,
            _ => {
                self.index_columns(results)?;
                Vec::new()
            }
        };
        Ok((!next.is_empty()).then_some(next))
    }

    fn tables(&mut self, results: &[QueryResult]) -> Result<Vec<Statement>, crate::Error> {
        let [names, strict] = results else {
            return Err(answers(results, 2));
        };
        for row in rows(names, 1) {
            let name = text(row.first()).unwrap_or_default();
            let strict = rows(strict, 2)
                .any(|r| text(r.first()).as_ref() == Some(&name) && int(r.get(1)) == 1);
            self.tables.push(TableSnapshot {
                name,
                strict,
                ..TableSnapshot::default()
            });
        }
        let per_table = |sql: &'static str, table: &TableSnapshot| {
            Statement::new(sql, vec![Value::Text(table.name.clone())])
        };
        Ok(self
            .tables
            .iter()
            .flat_map(|t| {
                [
                    per_table(
                        "SELECT name, type, \"notnull\", dflt_value, pk FROM pragma_table_info(?) \
                         ORDER BY cid",
                        t,
                    ),
                    per_table(
                        "SELECT \"table\", \"from\", \"to\", on_delete FROM pragma_foreign_key_list(?) \
                         ORDER BY id, seq",
                        t,
                    ),
                    per_table(
                        "SELECT name, \"unique\", origin FROM pragma_index_list(?) ORDER BY seq DESC",
                        t,
                    ),
                ]
            })
            .collect())
    }

    fn columns_and_indexes(
        &mut self,
        results: &[QueryResult],
    ) -> Result<Vec<Statement>, crate::Error> {
        if results.len() != 3 * self.tables.len() {
            return Err(answers(results, 3 * self.tables.len()));
        }
        for (t, table) in self.tables.iter_mut().enumerate() {
            let Some([columns, _, indexes]) = results.get(3 * t..3 * t + 3) else {
                continue;
            };
            table.columns = rows(columns, 5)
                .map(|row| ColumnSnapshot {
                    name: text(row.first()).unwrap_or_default(),
                    sql_type: text(row.get(1)).unwrap_or_default().to_ascii_uppercase(),
                    nullable: int(row.get(2)) == 0,
                    default: text(row.get(3)).map(parenthesised),
                    primary_key: int(row.get(4)) > 0,
                    ..ColumnSnapshot::default()
                })
                .collect();
            // A composite key is the table's constraint, in key order (`pk` numbers the parts).
            let mut key_parts: Vec<(i64, String)> = rows(columns, 5)
                .filter(|row| int(row.get(4)) > 0)
                .map(|row| (int(row.get(4)), text(row.first()).unwrap_or_default()))
                .collect();
            if key_parts.len() > 1 {
                key_parts.sort();
                for column in &mut table.columns {
                    column.primary_key = false;
                }
                table.primary_key = key_parts.into_iter().map(|(_, name)| name).collect();
            }
            for row in rows(indexes, 3) {
                if let Some(name) = text(row.first()) {
                    let origin = text(row.get(2)).unwrap_or_default();
                    self.indexes.push((t, name, int(row.get(1)) == 1, origin));
                }
            }
        }
        // References last: one without a column names its parent's key, read above.
        for t in 0..self.tables.len() {
            let Some(foreign_keys) = results.get(3 * t + 1) else {
                continue;
            };
            for row in rows(foreign_keys, 4) {
                self.reference(t, row)?;
            }
        }
        Ok(self
            .indexes
            .iter()
            .map(|(_, name, _, _)| {
                Statement::new(
                    "SELECT name FROM pragma_index_info(?) ORDER BY seqno",
                    vec![Value::Text(name.clone())],
                )
            })
            .collect())
    }

    /// Files one `pragma_foreign_key_list` row of table `t` on its column.
    fn reference(&mut self, t: usize, row: &[Value]) -> Result<(), crate::Error> {
        let (Some(parent), Some(from)) = (text(row.first()), text(row.get(1))) else {
            return Ok(());
        };
        let to = match text(row.get(2)) {
            Some(to) => to,
            None => self
                .tables
                .iter()
                .find(|p| p.name == parent)
                .and_then(|p| p.columns.iter().find(|c| c.primary_key))
                .map(|c| c.name.clone())
                .ok_or_else(|| crate::Error::Database {
                    message: format!(
                        "`{}`.`{from}` references `{parent}`, which has no primary key",
                        self.tables.get(t).map_or("", |t| t.name.as_str())
                    ),
                })?,
        };
        let on_delete = text(row.get(3)).unwrap_or_default();
        let column = self
            .tables
            .get_mut(t)
            .and_then(|t| t.columns.iter_mut().find(|c| c.name == from));
        if let Some(column) = column {
            column.references = Some(ReferenceSnapshot {
                table: parent,
                column: to,
                on_delete: (!on_delete.eq_ignore_ascii_case("NO ACTION")).then_some(on_delete),
            });
        }
        Ok(())
    }

    fn index_columns(&mut self, results: &[QueryResult]) -> Result<(), crate::Error> {
        if results.len() != self.indexes.len() {
            return Err(answers(results, self.indexes.len()));
        }
        for ((t, name, unique, origin), result) in self.indexes.drain(..).zip(results) {
            // An expression's column has no name: such an index is not in a snapshot.
            let Some(columns) = rows(result, 1)
                .map(|row| text(row.first()))
                .collect::<Option<Vec<String>>>()
            else {
                continue;
            };
            let (Some(table), Some((column, more_columns))) =
                (self.tables.get_mut(t), columns.split_first())
            else {
                continue;
            };
            match origin.as_str() {
                "u" if unique && more_columns.is_empty() => {
                    if let Some(c) = table.columns.iter_mut().find(|c| &c.name == column) {
                        c.unique = true;
                    }
                }
                "u" if unique => table.unique.push(columns.clone()),
                "c" if !unique => table.indexes.push(IndexSnapshot {
                    name,
                    column: column.clone(),
                    more_columns: more_columns.to_vec(),
                }),
                _ => {}
            }
        }
        for table in &mut self.tables {
            table.unique.reverse(); // the list runs from the last declared
        }
        Ok(())
    }

    /// The snapshot read. `CHECK` texts are not read back (SQLite keeps them only in the
    /// table's SQL text): a snapshot adopted from a database has none, and the next migration
    /// adds the schema's.
    fn finish(self) -> SchemaSnapshot {
        SchemaSnapshot {
            tables: self.tables,
            ..SchemaSnapshot::default()
        }
    }
}

/// A round answered with the wrong number of results (a misbehaving backend).
fn answers(results: &[QueryResult], expected: usize) -> crate::Error {
    crate::Error::Database {
        message: format!(
            "{} results to {expected} statements reading the schema",
            results.len()
        ),
    }
}

/// The rows of a result, each a slice of its values (`width` known from the SELECT list).
fn rows(result: &QueryResult, width: usize) -> impl Iterator<Item = &[Value]> {
    result.values.chunks_exact(width)
}

fn text(value: Option<&Value>) -> Option<String> {
    match value {
        Some(Value::Text(t)) => Some(t.clone()),
        _ => None,
    }
}

/// A live default as the schema writes it: SQLite reports `DEFAULT (expr)` as `expr`, so an
/// expression that is not a default on its own gets its parentheses back.
fn parenthesised(default: String) -> String {
    if is_default_expression(&default) {
        default
    } else {
        format!("({default})")
    }
}

/// A pragma's small integer (a flag or a position), however the backend typed it.
fn int(value: Option<&Value>) -> i64 {
    match value {
        Some(Value::Integer(i)) => *i,
        Some(Value::Real(r)) => *r as i64,
        Some(Value::Text(t)) => t.parse().unwrap_or(0),
        _ => 0,
    }
}

/// The tables of a live database as a snapshot, in creation order, read through any backend;
/// wrangler's [`MIGRATIONS_TABLE`], SQLite's and D1's internal tables left out. Columns keep
/// their declared types upper-cased; indexes created by `CREATE INDEX` and `UNIQUE`
/// constraints are listed (those a snapshot holds), `CHECK`s are not. On D1 it takes three
/// round trips (more where a round exceeds a batch) of 2 statements, 3 per table and 1 per
/// index, each one of the Worker invocation's D1 queries.
///
/// ```
/// # #[cfg(feature = "rusqlite")] {
/// # pollster::block_on(async {
/// use sonic_db_core::migrate::inspect_db;
/// use sonic_db_core::{sqlite::SqliteBackend, Db};
///
/// let db = Db::new(SqliteBackend::memory()?);
/// db.sql("CREATE TABLE users (id text PRIMARY KEY NOT NULL, email text UNIQUE, created_on integer)").run().await?;
/// let snapshot = inspect_db(&db).await?;
/// let users = snapshot.table("users").unwrap();
/// assert_eq!(users.column("id").unwrap().sql_type, "TEXT");
/// assert!(users.column("email").unwrap().unique && users.column("created_on").unwrap().nullable);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # }).unwrap();
/// # }
/// ```
pub async fn inspect_db(db: &Db) -> Result<SchemaSnapshot, MigrateError> {
    let inspect_error = |e| MigrateError::Inspect(Box::new(e));
    let (mut inspection, mut round) = Inspection::start();
    // Reads need no atomicity: a round too long for one batch goes in several.
    let most = db.capabilities().max_batch_statements.max(1);
    loop {
        let mut results = Vec::with_capacity(round.len());
        for chunk in round.chunks(most) {
            results.extend(db.run_all(chunk).await.map_err(inspect_error)?);
        }
        match inspection.step(&results).map_err(inspect_error)? {
            Some(next) => round = next,
            None => return Ok(inspection.finish()),
        }
    }
}

/// [`inspect_db`] on a SQLite database held natively, synchronously (the command line's).
///
/// ```
/// use sonic_db_core::migrate::inspect;
/// use sonic_db_core::sqlite::SqliteBackend;
///
/// let sqlite = SqliteBackend::memory()?;
/// sqlite.exec("CREATE TABLE users (id text PRIMARY KEY NOT NULL, email text UNIQUE)")?;
/// assert!(inspect(&sqlite)?.table("users").unwrap().column("email").unwrap().unique);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[cfg(all(feature = "rusqlite", not(target_arch = "wasm32")))]
pub fn inspect(sqlite: &SqliteBackend) -> Result<SchemaSnapshot, MigrateError> {
    let inspect_error = |e| MigrateError::Inspect(Box::new(e));
    let (mut inspection, mut round) = Inspection::start();
    loop {
        let results = round
            .iter()
            .map(|statement| sqlite.query(statement))
            .collect::<Result<Vec<_>, _>>()
            .map_err(inspect_error)?;
        match inspection.step(&results).map_err(inspect_error)? {
            Some(next) => round = next,
            None => return Ok(inspection.finish()),
        }
    }
}

#[cfg(all(feature = "rusqlite", not(target_arch = "wasm32")))]
impl Migrations {
    /// Writes the live database's schema as the snapshot, without a migration: the baseline
    /// of a database that Sonic did not create (e.g. a SonicJs one). The next generated
    /// migration takes it from there to the schema in the code.
    ///
    /// ```
    /// # #[cfg(feature = "derive")] {
    /// # #[derive(sonic_db_core::Table)]
    /// # #[table(name = "users")]
    /// # struct User { #[column(primary_key)] id: String, bio: Option<String> }
    /// # let dir = std::env::temp_dir().join(format!("sonic-doc-adopt-{}", std::process::id()));
    /// # let _ = std::fs::remove_dir_all(&dir);
    /// use sonic_db_core::migrate::Migrations;
    /// use sonic_db_core::{sqlite::SqliteBackend, Schema};
    ///
    /// let sqlite = SqliteBackend::memory()?;
    /// sqlite.exec("CREATE TABLE users (id TEXT NOT NULL PRIMARY KEY)")?;
    /// let migrations = Migrations::new(&dir);
    /// migrations.adopt(&sqlite)?;
    /// let sql = migrations.plan(&Schema::new().table::<User>())?.unwrap();
    /// assert_eq!(sql, "ALTER TABLE \"users\" ADD COLUMN \"bio\" TEXT;\n");
    /// # std::fs::remove_dir_all(&dir).ok();
    /// # }
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn adopt(&self, sqlite: &SqliteBackend) -> Result<PathBuf, MigrateError> {
        self.write_snapshot(&inspect(sqlite)?)
    }
}
