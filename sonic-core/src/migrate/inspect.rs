//! A live database read back as a [`SchemaSnapshot`] (`PRAGMA table_info`, `index_list`,
//! `index_info`, `foreign_key_list`): `check` lists how it drifted from the schema, `adopt`
//! makes it the baseline snapshot of an existing database (e.g. a SonicJs one).

use std::fmt;
use std::path::PathBuf;

use rusqlite::Connection;

use super::{
    column_changes, ColumnSnapshot, IndexSnapshot, MigrateError, Migrations, ReferenceSnapshot,
    SchemaSnapshot, TableSnapshot, MIGRATIONS_TABLE,
};
use crate::schema::Schema;
use crate::sqlite::{map_err as sqlite_error, SqliteBackend};

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
    /// The table's composite primary key (`#[table(primary_key(a, b))]`) is another in the
    /// database: other columns, or the same in another order.
    PrimaryKeyDiffers {
        /// Table name.
        table: String,
        /// The key columns in the database, in key order (empty: not a composite key).
        database: Vec<String>,
        /// The key columns in the schema, in key order (empty: not a composite key).
        schema: Vec<String>,
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
            Drift::PrimaryKeyDiffers {
                table,
                database,
                schema,
            } => {
                let show = |key: &[String]| {
                    if key.is_empty() {
                        "a single column".to_string()
                    } else {
                        format!("({})", key.join(", "))
                    }
                };
                write!(
                    f,
                    "primary key of `{table}` differs (database → schema): {} → {}",
                    show(database),
                    show(schema)
                )
            }
        }
    }
}

/// The tables of a live database as a snapshot, in creation order; wrangler's
/// [`MIGRATIONS_TABLE`], SQLite's and D1's internal tables left out. Columns keep their
/// declared types upper-cased; only single-column indexes created by `CREATE INDEX` are
/// listed (those a snapshot holds).
///
/// ```
/// use sonic_db_core::migrate::inspect;
/// use sonic_db_core::sqlite::SqliteBackend;
///
/// let sqlite = SqliteBackend::memory()?;
/// sqlite.exec("CREATE TABLE users (id text PRIMARY KEY NOT NULL, email text UNIQUE, created_on integer)")?;
/// let snapshot = inspect(&sqlite)?;
/// let users = snapshot.table("users").unwrap();
/// assert_eq!(users.column("id").unwrap().sql_type, "TEXT");
/// assert!(users.column("email").unwrap().unique && users.column("created_on").unwrap().nullable);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn inspect(sqlite: &SqliteBackend) -> Result<SchemaSnapshot, MigrateError> {
    sqlite
        .with_connection(|conn| read(conn))
        .map_err(|e| MigrateError::Inspect(Box::new(sqlite_error(e))))
}

fn read(conn: &Connection) -> rusqlite::Result<SchemaSnapshot> {
    let mut stmt = conn.prepare(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' \
         AND name NOT LIKE '_cf_%' AND name <> ?1 ORDER BY rowid",
    )?;
    let names: Vec<String> = stmt
        .query_map([MIGRATIONS_TABLE], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    let mut tables = Vec::new();
    for name in names {
        tables.push(read_table(conn, &name)?);
    }
    Ok(SchemaSnapshot {
        tables,
        ..SchemaSnapshot::default()
    })
}

fn read_table(conn: &Connection, table: &str) -> rusqlite::Result<TableSnapshot> {
    let mut columns: Vec<ColumnSnapshot> = conn
        .prepare("SELECT name, type, \"notnull\", dflt_value, pk FROM pragma_table_info(?1)")?
        .query_map([table], |r| {
            let sql_type: String = r.get(1)?;
            Ok(ColumnSnapshot {
                name: r.get(0)?,
                sql_type: sql_type.to_ascii_uppercase(),
                nullable: r.get::<_, i64>(2)? == 0,
                default: r.get(3)?,
                primary_key: r.get::<_, i64>(4)? > 0,
                ..ColumnSnapshot::default()
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    // A composite key: the table's constraint, in key order (`pk` numbers the parts).
    let key_parts: Vec<(i64, String)> = conn
        .prepare("SELECT pk, name FROM pragma_table_info(?1) WHERE pk > 0 ORDER BY pk")?
        .query_map([table], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    let composite_key: Vec<String> = if key_parts.len() > 1 {
        for column in &mut columns {
            column.primary_key = false;
        }
        key_parts.into_iter().map(|(_, name)| name).collect()
    } else {
        Vec::new()
    };
    // foreign keys: id, seq, table, from, to, on_update, on_delete, match
    let fks: Vec<(String, String, Option<String>, String)> = conn
        .prepare("SELECT \"table\", \"from\", \"to\", on_delete FROM pragma_foreign_key_list(?1)")?
        .query_map([table], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })?
        .collect::<rusqlite::Result<_>>()?;
    for (parent, from, to, on_delete) in fks {
        let to = match to {
            Some(to) => to,
            None => conn.query_row(
                "SELECT name FROM pragma_table_info(?1) WHERE pk = 1",
                [&parent],
                |r| r.get(0),
            )?,
        };
        if let Some(c) = columns.iter_mut().find(|c| c.name == from) {
            c.references = Some(ReferenceSnapshot {
                table: parent,
                column: to,
                on_delete: (!on_delete.eq_ignore_ascii_case("NO ACTION")).then_some(on_delete),
            });
        }
    }
    let mut indexes = Vec::new();
    let mut table_unique = Vec::new();
    let list: Vec<(String, bool, String)> = conn
        .prepare("SELECT name, \"unique\", origin FROM pragma_index_list(?1) ORDER BY seq DESC")?
        .query_map([table], |r| {
            Ok((r.get(0)?, r.get::<_, i64>(1)? == 1, r.get(2)?))
        })?
        .collect::<rusqlite::Result<_>>()?;
    for (name, unique, origin) in list {
        let cols: Vec<String> = conn
            .prepare("SELECT name FROM pragma_index_info(?1) ORDER BY seqno")?
            .query_map([&name], |r| r.get::<_, Option<String>>(0))?
            .filter_map(|c| c.transpose())
            .collect::<rusqlite::Result<_>>()?;
        let Some((column, more_columns)) = cols.split_first() else {
            continue; // an expression index: not in a snapshot
        };
        match origin.as_str() {
            "u" if unique && more_columns.is_empty() => {
                if let Some(c) = columns.iter_mut().find(|c| &c.name == column) {
                    c.unique = true;
                }
            }
            "u" if unique => table_unique.push(cols.clone()),
            "c" if !unique => indexes.push(IndexSnapshot {
                name,
                column: column.clone(),
                more_columns: more_columns.to_vec(),
            }),
            _ => {}
        }
    }
    // `CHECK` texts are not read back (SQLite keeps them only in the table's SQL text): a
    // snapshot adopted from a database has none, and the next migration adds the schema's.
    let strict = conn
        .query_row(
            "SELECT strict FROM pragma_table_list WHERE schema = 'main' AND name = ?1",
            [table],
            |r| r.get::<_, i64>(0),
        )
        .unwrap_or(0)
        == 1;
    table_unique.reverse(); // the list runs from the last declared
    Ok(TableSnapshot {
        name: table.to_string(),
        columns,
        indexes,
        primary_key: composite_key,
        unique: table_unique,
        strict,
        ..TableSnapshot::default()
    })
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
        if have.primary_key != want.primary_key {
            out.push(Drift::PrimaryKeyDiffers {
                table: table(),
                database: have.primary_key.clone(),
                schema: want.primary_key.clone(),
            });
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
