//! How a live database differs from the schema: [`Drift`], computed from the snapshot
//! [`inspect`](super::inspect_db) reads and the one the schema gives.

use std::fmt;

#[cfg(all(feature = "rusqlite", not(target_arch = "wasm32")))]
use super::inspect::inspect;
use super::inspect::inspect_db;
use super::{column_changes, MigrateError, SchemaSnapshot};
use crate::db::Db;
use crate::schema::Schema;
#[cfg(all(feature = "rusqlite", not(target_arch = "wasm32")))]
use crate::sqlite::SqliteBackend;

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
