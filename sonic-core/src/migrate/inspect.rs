//! A live database read back as a [`SchemaSnapshot`] (`PRAGMA table_info`, `index_list`,
//! `index_info`, `foreign_key_list`, `table_list`), through any backend (D1 included) or a
//! native SQLite file: `check` lists how it drifted from the schema, `adopt` makes it the
//! baseline snapshot of an existing database (e.g. a SonicJs one).

use std::fmt;
#[cfg(all(feature = "rusqlite", not(target_arch = "wasm32")))]
use std::path::PathBuf;

#[cfg(all(feature = "rusqlite", not(target_arch = "wasm32")))]
use super::Migrations;
use super::{
    column_changes, ColumnSnapshot, IndexSnapshot, MigrateError, ReferenceSnapshot, SchemaSnapshot,
    TableSnapshot, MIGRATIONS_TABLE,
};
use sonic_db_sql_text::is_default_expression;

use crate::backend::{QueryResult, Statement};
use crate::db::Db;
use crate::schema::Schema;
#[cfg(all(feature = "rusqlite", not(target_arch = "wasm32")))]
use crate::sqlite::SqliteBackend;
use crate::value::Value;

/// One difference between a live database and the schema.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Drift {
    /// The schema has a table the database lacks.
    MissingTable(String),
    /// The database has a table the schema lacks.
    ExtraTable(String),
    /// The schema has a column the table lacks.
    MissingColumn {
        /// Table name.
        table: String,
        /// Column name.
        column: String,
    },
    /// The table has a column the schema lacks.
    ExtraColumn {
        /// Table name.
        table: String,
        /// Column name.
        column: String,
    },
    /// The column is defined otherwise in the database.
    ColumnDiffers {
        /// Table name.
        table: String,
        /// Column name.
        column: String,
        /// What differs, database → schema, e.g. `type TEXT → INTEGER`.
        changes: String,
    },
    /// The schema has an index the database lacks.
    MissingIndex {
        /// Table name.
        table: String,
        /// Index name.
        index: String,
    },
    /// The database has an index the schema lacks.
    ExtraIndex {
        /// Table name.
        table: String,
        /// Index name.
        index: String,
    },
}

impl fmt::Display for Drift {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Drift::MissingTable(t) => write!(f, "table `{t}`: in the schema, not in the database"),
            Drift::ExtraTable(t) => write!(f, "table `{t}`: in the database, not in the schema"),
            Drift::MissingColumn { table, column } => write!(
                f,
                "column `{table}`.`{column}`: in the schema, not in the database"
            ),
            Drift::ExtraColumn { table, column } => write!(
                f,
                "column `{table}`.`{column}`: in the database, not in the schema"
            ),
            Drift::ColumnDiffers {
                table,
                column,
                changes,
            } => write!(
                f,
                "column `{table}`.`{column}` differs (database → schema): {changes}"
            ),
            Drift::MissingIndex { table, index } => write!(
                f,
                "index `{index}` on `{table}`: in the schema, not in the database"
            ),
            Drift::ExtraIndex { table, index } => write!(
                f,
                "index `{index}` on `{table}`: in the database, not in the schema"
            ),
        }
    }
}

/// What the shape queries select from every user table (`m`): SQLite's and D1's internal
/// tables and wrangler's [`MIGRATIONS_TABLE`] left out.
const USER_TABLES: &str = "FROM sqlite_master AS m JOIN {pragma} WHERE m.type = 'table' \
     AND m.name NOT LIKE 'sqlite_%' AND m.name NOT LIKE '_cf_%' AND m.name <> ?";

/// The four statements that read a database's shape, each over every table at once, so that
/// D1 answers them in one round trip: columns, foreign keys, index columns, `STRICT` flags.
fn shape_statements() -> Vec<Statement> {
    let over = |select: &str, pragma: &str, order: &str| {
        Statement::new(
            format!(
                "{select} {} ORDER BY {order}",
                USER_TABLES.replace("{pragma}", pragma)
            ),
            vec![Value::Text(MIGRATIONS_TABLE.to_string())],
        )
    };
    vec![
        over(
            "SELECT m.name, p.name, p.type, p.\"notnull\", p.dflt_value, p.pk",
            "pragma_table_info(m.name) AS p",
            "m.rowid, p.cid",
        ),
        over(
            "SELECT m.name, f.\"table\", f.\"from\", f.\"to\", f.on_delete",
            "pragma_foreign_key_list(m.name) AS f",
            "m.rowid, f.id, f.seq",
        ),
        over(
            "SELECT m.name, l.name, l.\"unique\", l.origin, i.name",
            "pragma_index_list(m.name) AS l JOIN pragma_index_info(l.name) AS i",
            "m.rowid, l.seq DESC, i.seqno",
        ),
        Statement::new(
            "SELECT name, strict FROM pragma_table_list WHERE schema = 'main'",
            Vec::new(),
        ),
    ]
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

/// The snapshot the answers to [`shape_statements`] describe.
fn snapshot_of(results: &[QueryResult]) -> Result<SchemaSnapshot, crate::Error> {
    let [columns, foreign_keys, indexes, strict] = results else {
        return Err(crate::Error::Database {
            message: format!("{} results for the 4 shape queries", results.len()),
        });
    };
    let mut tables: Vec<TableSnapshot> = Vec::new();
    for row in rows(columns, 6) {
        let table = text(row.first()).unwrap_or_default();
        if tables.last().is_none_or(|t| t.name != table) {
            tables.push(TableSnapshot {
                name: table,
                ..TableSnapshot::default()
            });
        }
        if let Some(t) = tables.last_mut() {
            t.columns.push(ColumnSnapshot {
                name: text(row.get(1)).unwrap_or_default(),
                sql_type: text(row.get(2)).unwrap_or_default().to_ascii_uppercase(),
                nullable: int(row.get(3)) == 0,
                default: text(row.get(4)).map(parenthesised),
                primary_key: int(row.get(5)) > 0,
                ..ColumnSnapshot::default()
            });
        }
    }
    for row in rows(foreign_keys, 5) {
        let (table, parent, from) = (text(row.first()), text(row.get(1)), text(row.get(2)));
        let (Some(table), Some(parent), Some(from)) = (table, parent, from) else {
            continue;
        };
        // A reference without a column names the parent's primary key.
        let to = match text(row.get(3)) {
            Some(to) => to,
            None => tables
                .iter()
                .find(|t| t.name == parent)
                .and_then(|t| t.columns.iter().find(|c| c.primary_key))
                .map(|c| c.name.clone())
                .ok_or_else(|| crate::Error::Database {
                    message: format!(
                        "`{table}`.`{from}` references `{parent}`, which has no primary key"
                    ),
                })?,
        };
        let on_delete = text(row.get(4)).unwrap_or_default();
        let column = tables
            .iter_mut()
            .find(|t| t.name == table)
            .and_then(|t| t.columns.iter_mut().find(|c| c.name == from));
        if let Some(column) = column {
            column.references = Some(ReferenceSnapshot {
                table: parent,
                column: to,
                on_delete: (!on_delete.eq_ignore_ascii_case("NO ACTION")).then_some(on_delete),
            });
        }
    }
    // One index's rows are consecutive: group them, then file the index by its origin.
    let mut index_rows = rows(indexes, 5).peekable();
    while let Some(first) = index_rows.next() {
        let (table, name) = (text(first.first()), text(first.get(1)));
        let mut cols: Vec<String> = text(first.get(4)).into_iter().collect();
        while let Some(next) =
            index_rows.next_if(|r| text(r.first()) == table && text(r.get(1)) == name)
        {
            cols.extend(text(next.get(4)));
        }
        let (Some(table), Some(name)) = (table, name) else {
            continue;
        };
        let Some(t) = tables.iter_mut().find(|t| t.name == table) else {
            continue;
        };
        let Some((column, more_columns)) = cols.split_first() else {
            continue; // an expression index: not in a snapshot
        };
        let unique = int(first.get(2)) == 1;
        match text(first.get(3)).as_deref() {
            Some("u") if unique && more_columns.is_empty() => {
                if let Some(c) = t.columns.iter_mut().find(|c| &c.name == column) {
                    c.unique = true;
                }
            }
            Some("u") if unique => t.unique.push(cols.clone()),
            Some("c") if !unique => t.indexes.push(IndexSnapshot {
                name,
                column: column.clone(),
                more_columns: more_columns.to_vec(),
            }),
            _ => {}
        }
    }
    for t in &mut tables {
        t.unique.reverse(); // the list runs from the last declared
    }
    // `CHECK` texts are not read back (SQLite keeps them only in the table's SQL text): a
    // snapshot adopted from a database has none, and the next migration adds the schema's.
    for row in rows(strict, 2) {
        if let Some(t) = tables
            .iter_mut()
            .find(|t| Some(&t.name) == text(row.first()).as_ref())
        {
            t.strict = int(row.get(1)) == 1;
        }
    }
    Ok(SchemaSnapshot {
        tables,
        ..SchemaSnapshot::default()
    })
}

/// The tables of a live database as a snapshot, in creation order, read through any backend
/// (on D1, one round trip); wrangler's [`MIGRATIONS_TABLE`], SQLite's and D1's internal tables
/// left out. Columns keep their declared types upper-cased; indexes created by `CREATE INDEX`
/// and `UNIQUE` constraints are listed (those a snapshot holds), `CHECK`s are not.
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
    let results = db
        .run_all(&shape_statements())
        .await
        .map_err(inspect_error)?;
    snapshot_of(&results).map_err(inspect_error)
}

/// How the database behind `db` differs from `schema` (see [`drift`]); empty when they agree.
/// What `check` of the command line does natively, for a Worker's own D1.
///
/// ```
/// # #[cfg(all(feature = "derive", feature = "rusqlite"))] {
/// # #[derive(sonic_db_core::Table)]
/// # #[table(name = "users")]
/// # struct User { #[column(primary_key)] id: String, bio: Option<String> }
/// # pollster::block_on(async {
/// use sonic_db_core::migrate::check_db;
/// use sonic_db_core::{sqlite::SqliteBackend, Db, Schema};
///
/// let schema = Schema::new().table::<User>();
/// let db = Db::new(SqliteBackend::memory()?);
/// for statement in schema.statements() {
///     db.sql(statement).run().await?;
/// }
/// assert!(check_db(&db, &schema).await?.is_empty());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # }).unwrap();
/// # }
/// ```
pub async fn check_db(db: &Db, schema: &Schema) -> Result<Vec<Drift>, MigrateError> {
    Ok(drift(&inspect_db(db).await?, &schema.snapshot()))
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
    let results = shape_statements()
        .iter()
        .map(|statement| sqlite.query(statement))
        .collect::<Result<Vec<_>, _>>()
        .map_err(inspect_error)?;
    snapshot_of(&results).map_err(inspect_error)
}

/// How the live database differs from `schema`; empty when they agree. Compared: tables,
/// columns (type, nullability, key, `UNIQUE`, default, reference) and indexes.
///
/// ```
/// # #[cfg(feature = "derive")] {
/// # #[derive(sonic_db_core::Table)]
/// # #[table(name = "users")]
/// # struct User { #[column(primary_key)] id: String, bio: Option<String> }
/// use sonic_db_core::migrate::{check, Drift};
/// use sonic_db_core::{sqlite::SqliteBackend, Schema};
///
/// let sqlite = SqliteBackend::memory()?;
/// sqlite.exec("CREATE TABLE users (id TEXT NOT NULL PRIMARY KEY, nick TEXT)")?;
/// let drift = check(&sqlite, &Schema::new().table::<User>())?;
/// assert_eq!(drift[0].to_string(), "column `users`.`bio`: in the schema, not in the database");
/// assert!(matches!(&drift[1], Drift::ExtraColumn { column, .. } if column == "nick"));
/// # }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[cfg(all(feature = "rusqlite", not(target_arch = "wasm32")))]
pub fn check(sqlite: &SqliteBackend, schema: &Schema) -> Result<Vec<Drift>, MigrateError> {
    Ok(drift(&inspect(sqlite)?, &schema.snapshot()))
}

/// The differences from `live` to `wanted`.
pub fn drift(live: &SchemaSnapshot, wanted: &SchemaSnapshot) -> Vec<Drift> {
    let mut out = Vec::new();
    for want in &wanted.tables {
        let Some(have) = live.table(&want.name) else {
            out.push(Drift::MissingTable(want.name.clone()));
            continue;
        };
        let table = || want.name.clone();
        for c in &want.columns {
            match have.column(&c.name) {
                None => out.push(Drift::MissingColumn {
                    table: table(),
                    column: c.name.clone(),
                }),
                Some(h) => {
                    if let Some(changes) = column_changes(h, c) {
                        out.push(Drift::ColumnDiffers {
                            table: table(),
                            column: c.name.clone(),
                            changes,
                        });
                    }
                }
            }
        }
        for h in &have.columns {
            if want.column(&h.name).is_none() {
                out.push(Drift::ExtraColumn {
                    table: table(),
                    column: h.name.clone(),
                });
            }
        }
        for i in &want.indexes {
            if !have.indexes.contains(i) {
                out.push(Drift::MissingIndex {
                    table: table(),
                    index: i.name.clone(),
                });
            }
        }
        for i in &have.indexes {
            if !want.indexes.contains(i) {
                out.push(Drift::ExtraIndex {
                    table: table(),
                    index: i.name.clone(),
                });
            }
        }
    }
    for have in &live.tables {
        if wanted.table(&have.name).is_none() {
            out.push(Drift::ExtraTable(have.name.clone()));
        }
    }
    out
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
