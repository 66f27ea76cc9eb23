//! Migrations: the next numbered `.sql` file for `wrangler d1 migrations apply`, generated from
//! the schema.
//!
//! # Layout
//!
//! ```text
//! migrations/
//!   0001_init.sql                 CREATE TABLE … / CREATE INDEX …
//!   0002_comments.sql             only what changed since 0001
//!   meta/sonic-snapshot.json      the schema as of the last generated migration
//! ```
//!
//! The `NNNN_name.sql` files are what `wrangler d1 migrations apply` reads (it records the
//! applied ones in its own `d1_migrations` table); the `meta` directory is ignored by it.
//!
//! # Why a snapshot file
//!
//! The next migration is the difference between the schema in the code and the schema that the
//! existing migrations produce. Sonic keeps the latter as a JSON snapshot
//! ([`SchemaSnapshot`]) written next to the migrations every time one is generated (as
//! Drizzle Kit does), rather than reading a live database: generating a migration then needs
//! no database, no network and no Cloudflare credentials; it is deterministic, so it can run
//! in CI and in tests; and the snapshot is reviewed and committed together with the SQL, so
//! the history of the schema is in version control. The price: a migration written by hand
//! must be followed by [`Migrations::record_snapshot`] so that the snapshot matches again.
//!
//! # What is generated
//!
//! - A new table: `CREATE TABLE` and its indexes, exactly as in the full DDL
//!   ([`crate::schema::Schema::to_sql`]); so the first migration is the full DDL.
//! - A new column: `ALTER TABLE … ADD COLUMN …` (SQLite appends it, whatever its position in
//!   the struct). SQLite refuses some columns there, and Sonic reports them instead of
//!   writing a migration that fails: a `NOT NULL` column without a default
//!   ([`MigrateError::NotNullWithoutDefault`]), a primary key or `UNIQUE` column, a foreign key
//!   that is `NOT NULL` or has a non-null default, a non-constant default
//!   ([`MigrateError::CannotAddColumn`]). The audit columns are the exception: their default
//!   (the insert time) is not constant, so they are added with `DEFAULT 0` and a comment says
//!   so; Sonic sets both on every write anyway.
//! - A new or removed index: `CREATE INDEX` / `DROP INDEX` (no data is lost).
//! - A renamed table or column, declared with `#[table(renamed_from = "old")]` /
//!   `#[column(renamed_from = "old")]`: `ALTER TABLE … RENAME TO` / `RENAME COLUMN`, first,
//!   keeping the data (once applied, the attribute may stay: it is ignored).
//! - A removed table or column: an error ([`MigrateError::DropsNotAllowed`]) unless the caller
//!   opts in with `allow_drops` or confirms that drop ([`DiffOptions::confirmed_drops`]); then
//!   `DROP TABLE` / `ALTER TABLE … DROP COLUMN`. A table that loses columns and gains others
//!   in one diff (or a schema that loses tables and gains others) may be an undeclared
//!   rename: even with `allow_drops` it is refused ([`MigrateError::PossibleRename`], naming
//!   `renamed_from` and the confirmation) — never a silent loss of data.
//! - What `ALTER TABLE` cannot do — a changed column (type, nullability, key, `UNIQUE`,
//!   default, reference), a new key, `UNIQUE`, non-constant-default or `NOT NULL` foreign-key
//!   column, a dropped key, `UNIQUE` or foreign-key column: the table is rebuilt in the same
//!   file, keeping its rows, indexes and the rows that refer to it (SQLite's procedure, as D1
//!   allows it: see the `rebuild` module's notes). A column that becomes `NOT NULL` takes its
//!   default where it was `NULL` (without a default, such rows fail the migration, which
//!   then changes nothing); values keep their storage unless the new type's affinity converts
//!   them losslessly (`'4.5'` becomes `4.5` in a `REAL` column).
//!
//! Nothing changed: no file is written.
//!
//! ```
//! use sonic_db_core::migrate::{ColumnSnapshot, SchemaSnapshot, TableSnapshot};
//! use sonic_db_core::migrate::{diff_sql, DiffOptions};
//!
//! let column = |name: &str, nullable| ColumnSnapshot {
//!     name: name.into(),
//!     sql_type: "TEXT".into(),
//!     nullable,
//!     primary_key: name == "id",
//!     unique: false,
//!     default: None,
//!     references: None,
//!     audit: None,
//!     renamed_from: None,
//! };
//! let v1 = SchemaSnapshot {
//!     tables: vec![TableSnapshot {
//!         name: "users".into(),
//!         columns: vec![column("id", false)],
//!         indexes: vec![],
//!         ..TableSnapshot::default()
//!     }],
//!     ..SchemaSnapshot::default()
//! };
//! let mut v2 = v1.clone();
//! v2.tables[0].columns.push(column("bio", true));
//!
//! let sql = diff_sql(&v1, &v2, &DiffOptions::default()).unwrap().unwrap();
//! assert_eq!(sql, "ALTER TABLE \"users\" ADD COLUMN \"bio\" TEXT;\n");
//! assert_eq!(diff_sql(&v2, &v2, &DiffOptions::default()).unwrap(), None);
//! ```

use std::collections::HashSet;

#[cfg(all(feature = "rusqlite", not(target_arch = "wasm32")))]
mod apply;
#[cfg(all(feature = "rusqlite", not(target_arch = "wasm32")))]
pub mod cli;
mod ddl;
mod drift;
mod embedded;
mod inspect;
mod rebuild;
mod record;
mod rename;

#[cfg(all(feature = "rusqlite", not(target_arch = "wasm32")))]
pub use apply::MigrationStatus;
pub use ddl::{ColumnSnapshot, IndexSnapshot, ReferenceSnapshot, SchemaSnapshot, TableSnapshot};
#[cfg(all(feature = "rusqlite", not(target_arch = "wasm32")))]
pub use drift::check;
pub use drift::{check_db, drift, Drift};
pub use embedded::{apply_embedded, MigrationFile};
#[cfg(all(feature = "rusqlite", not(target_arch = "wasm32")))]
pub use inspect::inspect;
pub use inspect::inspect_db;
pub use record::MIGRATIONS_TABLE;

use crate::sql::writer::quote_ident;
use ddl::script;

/// Why a migration could not be generated (or written).
///
/// ```
/// # #[cfg(feature = "derive")] {
/// # use sonic_db_core::Schema;
/// # mod v1 {
/// #     #[derive(sonic_db_core::Table)]
/// #     #[table(name = "users")]
/// #     pub struct User { #[column(primary_key)] pub id: String }
/// # }
/// # mod v2 {
/// #     #[derive(sonic_db_core::Table)]
/// #     #[table(name = "users")]
/// #     pub struct User { #[column(primary_key)] pub id: String, pub age: i64 }
/// # }
/// use sonic_db_core::migrate::{diff, DiffOptions, MigrateError};
///
/// // v2 adds `age: i64`, NOT NULL without a default: SQLite cannot add it.
/// let v1 = Schema::new().table::<v1::User>().snapshot();
/// let v2 = Schema::new().table::<v2::User>().snapshot();
/// let err = diff(&v1, &v2, &DiffOptions::default()).unwrap_err();
/// assert!(matches!(&err, MigrateError::NotNullWithoutDefault { column, .. } if column == "age"));
/// assert!(err.to_string().contains("make the field an `Option`"));
/// # }
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MigrateError {
    /// SQLite cannot add a `NOT NULL` column without a default to an existing table.
    #[error(
        "cannot add column `{table}`.`{column}`: it is NOT NULL without a default, and SQLite \
         cannot add such a column to an existing table; make the field an `Option`, or give it \
         `#[column(default = \"...\")]`"
    )]
    NotNullWithoutDefault {
        /// Table name.
        table: String,
        /// Column name.
        column: String,
    },
    /// SQLite's `ALTER TABLE … ADD COLUMN` refuses this column.
    #[error("cannot add column `{table}`.`{column}` to an existing table: {reason}")]
    CannotAddColumn {
        /// Table name.
        table: String,
        /// Column name.
        column: String,
        /// What SQLite refuses.
        reason: String,
    },
    /// A column's definition changed, which SQLite cannot alter in place.
    #[error(
        "column `{table}`.`{column}` changed ({changes}); SQLite cannot alter a column: write \
         this migration by hand (rebuild the table), then call `Migrations::record_snapshot`"
    )]
    ColumnChanged {
        /// Table name.
        table: String,
        /// Column name.
        column: String,
        /// What changed, e.g. `type TEXT → INTEGER`.
        changes: String,
    },
    /// Tables or columns were removed and `allow_drops` is off.
    #[error(
        "the schema no longer has {}; dropping deletes data, so Sonic does not generate it \
         unless asked: if it was renamed, declare `renamed_from = \"<old name>\"` on the \
         table or column; if it is to go, use `allow_drops` (or write the migration by hand)",
        describe_drops(.tables, .columns)
    )]
    DropsNotAllowed {
        /// Removed tables.
        tables: Vec<String>,
        /// Removed columns, as `(table, column)`.
        columns: Vec<(String, String)>,
    },
    /// With drops allowed, columns (or tables) are dropped and others added in one diff: it
    /// may be a rename that was not declared, and dropping would lose the data.
    #[error("{}", describe_lookalike(.table.as_deref(), .dropped, .added))]
    PossibleRename {
        /// The table that loses and gains columns; `None` when tables are lost and gained.
        table: Option<String>,
        /// The columns (or tables) that would be dropped.
        dropped: Vec<String>,
        /// The columns (or tables) that would be added.
        added: Vec<String>,
    },
    /// A rename whose former name is still in the schema.
    #[error(
        "`{to}` is declared `renamed_from = \"{from}\"`, but the schema still has `{from}`: \
         remove or rename that one, or remove `renamed_from`"
    )]
    RenameClash {
        /// The former name (`table` or `table.column`).
        from: String,
        /// The new name.
        to: String,
    },
    /// SQLite's `ALTER TABLE … DROP COLUMN` refuses this column.
    #[error("cannot drop column `{table}`.`{column}`: {reason}")]
    CannotDropColumn {
        /// Table name.
        table: String,
        /// Column name.
        column: String,
        /// What SQLite refuses.
        reason: String,
    },
    /// The migration name has no letter or digit.
    #[error("invalid migration name {0:?}: use letters, digits and underscores")]
    InvalidName(String),
    /// The snapshot was written by another version of Sonic.
    #[error("snapshot {path} has format version {found}, this Sonic reads version {expected}")]
    SnapshotVersion {
        /// Snapshot file.
        path: String,
        /// Version in the file.
        found: u32,
        /// Version this code reads.
        expected: u32,
    },
    /// The snapshot file holds a value that is not what Sonic writes there (a SQL type, an
    /// `ON DELETE` action, an audit role or a default that is not one SQLite expression), which
    /// would otherwise be spliced into generated SQL.
    #[error("snapshot {path} is not valid: {reason}")]
    SnapshotInvalid {
        /// Snapshot file.
        path: String,
        /// What is wrong, naming table and column.
        reason: String,
    },
    /// The snapshot file is not valid JSON of a schema.
    #[error("cannot read snapshot {path}: {source}")]
    Snapshot {
        /// Snapshot file.
        path: String,
        /// The JSON error.
        source: serde_json::Error,
    },
    /// A migration file failed to apply: nothing of it was kept, nor recorded.
    #[error("migration {name} failed, nothing of it was applied: {source}")]
    Apply {
        /// The file name.
        name: String,
        /// The database's error.
        source: Box<crate::Error>,
    },
    /// The live database's schema could not be read.
    #[error("cannot read the database's schema: {0}")]
    Inspect(Box<crate::Error>),
    /// The record of applied migrations (`d1_migrations`) could not be read or written.
    #[error("cannot read the applied migrations (d1_migrations): {0}")]
    Record(Box<crate::Error>),
    /// A file or directory could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
}

fn describe_lookalike(table: Option<&str>, dropped: &[String], added: &[String]) -> String {
    let list = |names: &[String]| {
        names
            .iter()
            .map(|n| format!("`{n}`"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let (what, confirm) = match table {
        Some(t) => (
            format!("table `{t}` loses column(s) {}", list(dropped)),
            dropped
                .iter()
                .map(|c| format!("{t}.{c}"))
                .collect::<Vec<_>>(),
        ),
        None => (
            format!("the schema loses table(s) {}", list(dropped)),
            dropped.to_vec(),
        ),
    };
    let kind = if table.is_some() { "column" } else { "table" };
    format!(
        "{what} and gains {} in the same migration: if one was renamed, declare \
         `#[{kind}(renamed_from = \"<old name>\")]` on its new definition (its data is kept); \
         if {} really to be dropped with its data, confirm it: `generate <name> --allow-drops \
         {}` (`DiffOptions::confirmed_drops` / `Migrations::confirm_drop`)",
        list(added),
        if dropped.len() == 1 {
            "it is"
        } else {
            "they are"
        },
        confirm
            .iter()
            .map(|c| format!("--drop {c}"))
            .collect::<Vec<_>>()
            .join(" ")
    )
}

fn describe_drops(tables: &[String], columns: &[(String, String)]) -> String {
    let mut parts = Vec::new();
    if !tables.is_empty() {
        let list: Vec<String> = tables.iter().map(|t| format!("`{t}`")).collect();
        parts.push(format!("table(s) {}", list.join(", ")));
    }
    if !columns.is_empty() {
        let list: Vec<String> = columns
            .iter()
            .map(|(t, c)| format!("`{t}`.`{c}`"))
            .collect();
        parts.push(format!("column(s) {}", list.join(", ")));
    }
    parts.join(" and ")
}

/// Options of the diff.
///
/// ```
/// # #[cfg(feature = "derive")] {
/// # use sonic_db_core::Schema;
/// # mod v1 {
/// #     #[derive(sonic_db_core::Table)]
/// #     #[table(name = "users")]
/// #     pub struct User { #[column(primary_key)] pub id: String }
/// # }
/// # mod v2 {
/// #     #[derive(sonic_db_core::Table)]
/// #     #[table(name = "users")]
/// #     pub struct User { #[column(primary_key)] pub id: String, pub bio: Option<String> }
/// # }
/// # let v1 = Schema::new().table::<v1::User>().snapshot();
/// # let v2 = Schema::new().table::<v2::User>().snapshot();
/// use sonic_db_core::migrate::{diff, DiffOptions, MigrateError};
///
/// // Going back from v2 to v1 drops `bio`, and its data with it: only when asked.
/// let refused = diff(&v2, &v1, &DiffOptions::default());
/// assert!(matches!(refused, Err(MigrateError::DropsNotAllowed { .. })));
/// let allowed = diff(&v2, &v1, &DiffOptions { allow_drops: true, ..DiffOptions::default() })?;
/// assert_eq!(allowed, [r#"ALTER TABLE "users" DROP COLUMN "bio""#]);
/// # }
/// # Ok::<(), sonic_db_core::migrate::MigrateError>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct DiffOptions {
    /// Generate `DROP TABLE` / `DROP COLUMN` for removed tables and columns instead of
    /// returning [`MigrateError::DropsNotAllowed`]. A table that loses columns and gains
    /// others (or a schema that loses tables and gains others) is still refused
    /// ([`MigrateError::PossibleRename`]) unless each drop is in `confirmed_drops`.
    pub allow_drops: bool,
    /// Drops confirmed one by one, as `"table"` or `"table.column"`: each is generated even
    /// when it looks like a rename, or when `allow_drops` is off.
    pub confirmed_drops: Vec<String>,
}

/// Whether SQLite's `ALTER TABLE ADD COLUMN` accepts this default: not an expression in
/// parentheses nor `CURRENT_TIME` / `CURRENT_DATE` / `CURRENT_TIMESTAMP`.
fn is_constant_default(default: &str) -> bool {
    let d = default.trim();
    !(d.starts_with('(')
        || d.eq_ignore_ascii_case("CURRENT_TIME")
        || d.eq_ignore_ascii_case("CURRENT_DATE")
        || d.eq_ignore_ascii_case("CURRENT_TIMESTAMP"))
}

/// `ALTER TABLE … ADD COLUMN …` for a column new in an existing table, or why SQLite refuses it.
fn add_column(table: &str, column: &ColumnSnapshot) -> Result<String, MigrateError> {
    let refuse = |reason: &str| MigrateError::CannotAddColumn {
        table: table.to_string(),
        column: column.name.clone(),
        reason: reason.to_string(),
    };
    if column.primary_key {
        return Err(refuse("SQLite cannot add a PRIMARY KEY column"));
    }
    if column.unique {
        return Err(refuse("SQLite cannot add a UNIQUE column"));
    }
    let mut comment = None;
    let default = match column.default.as_deref() {
        Some(d) if !is_constant_default(d) => {
            if column.audit.is_some() {
                comment = Some(format!(
                    "-- `{}` is an audit column: its default {d} is not constant, which ALTER \
                     TABLE ADD COLUMN does not accept,\n-- so existing rows get 0 (and so do \
                     rows inserted by raw SQL); Sonic sets it on every write.\n",
                    column.name
                ));
                Some("0")
            } else {
                return Err(refuse(&format!(
                    "its default {d} is not constant, and ALTER TABLE ADD COLUMN accepts only \
                     constant defaults"
                )));
            }
        }
        other => other,
    };
    if column.references.is_some()
        && (!column.nullable || default.is_some_and(|d| !d.trim().eq_ignore_ascii_case("NULL")))
    {
        return Err(refuse(
            "with foreign keys enforced (as on D1), SQLite adds a REFERENCES column only if it \
             is nullable with a NULL default",
        ));
    }
    if !column.nullable && default.is_none() {
        return Err(MigrateError::NotNullWithoutDefault {
            table: table.to_string(),
            column: column.name.clone(),
        });
    }
    Ok(format!(
        "{}ALTER TABLE {} ADD COLUMN {}",
        comment.unwrap_or_default(),
        quote_ident(table),
        column.definition_sql_with_default(default)
    ))
}

/// What differs between two definitions of a column, or `None`.
fn column_changes(old: &ColumnSnapshot, new: &ColumnSnapshot) -> Option<String> {
    let mut changes = Vec::new();
    if old.sql_type != new.sql_type {
        changes.push(format!("type {} → {}", old.sql_type, new.sql_type));
    }
    if old.nullable != new.nullable {
        changes.push(if new.nullable {
            "now nullable".to_string()
        } else {
            "now NOT NULL".to_string()
        });
    }
    if old.primary_key != new.primary_key {
        changes.push("primary key".to_string());
    }
    if old.unique != new.unique {
        changes.push(
            if new.unique {
                "now UNIQUE"
            } else {
                "no longer UNIQUE"
            }
            .to_string(),
        );
    }
    if old.default != new.default {
        changes.push(format!(
            "default {} → {}",
            old.default.as_deref().unwrap_or("none"),
            new.default.as_deref().unwrap_or("none")
        ));
    }
    if old.references != new.references {
        let show = |c: &ColumnSnapshot| {
            c.references
                .as_ref()
                .map_or("none".to_string(), |r| format!("{}.{}", r.table, r.column))
        };
        changes.push(format!("references {} → {}", show(old), show(new)));
    }
    (!changes.is_empty()).then(|| changes.join(", "))
}

/// The statements that take a database from schema `old` to schema `new`, without `;`.
///
/// Order: index drops, column drops, table drops, then new tables (with their indexes), new
/// columns and new indexes. Empty when nothing changed.
///
/// ```
/// # #[cfg(feature = "derive")] {
/// # use sonic_db_core::Schema;
/// # mod v1 {
/// #     #[derive(sonic_db_core::Table)]
/// #     #[table(name = "users")]
/// #     pub struct User { #[column(primary_key)] pub id: String }
/// # }
/// # mod v2 {
/// #     #[derive(sonic_db_core::Table)]
/// #     #[table(name = "users")]
/// #     pub struct User { #[column(primary_key)] pub id: String, pub bio: Option<String> }
/// # }
/// # let v1 = Schema::new().table::<v1::User>().snapshot();
/// # let v2 = Schema::new().table::<v2::User>().snapshot();
/// use sonic_db_core::migrate::{diff, DiffOptions};
///
/// // v2 adds `bio: Option<String>` to `users`.
/// let statements = diff(&v1, &v2, &DiffOptions::default())?;
/// assert_eq!(statements, [r#"ALTER TABLE "users" ADD COLUMN "bio" TEXT"#]);
/// assert!(diff(&v2, &v2, &DiffOptions::default())?.is_empty());
/// # }
/// # Ok::<(), sonic_db_core::migrate::MigrateError>(())
/// ```
pub fn diff(
    old: &SchemaSnapshot,
    new: &SchemaSnapshot,
    options: &DiffOptions,
) -> Result<Vec<String>, MigrateError> {
    let (renames, db) = rename::apply_renames(old, new)?;
    let old = &db;
    if options.allow_drops {
        rename::refuse_lookalike_renames(old, new, &options.confirmed_drops)?;
    }

    let mut drop_indexes = Vec::new();
    let mut drop_columns = Vec::new();
    let mut add_columns = Vec::new();
    let mut create_indexes = Vec::new();
    let mut removed_columns = Vec::new();
    let mut rebuilds = Vec::new();

    for new_table in &new.tables {
        let Some(old_table) = old.table(&new_table.name) else {
            continue;
        };
        let table = new_table.name.as_str();
        // Why the table must be rebuilt; empty when ALTER TABLE can make every change.
        let mut reasons = Vec::new();
        let mut adds = Vec::new();
        for column in &new_table.columns {
            match old_table.column(&column.name) {
                None => match add_column(table, column) {
                    Ok(sql) => adds.push(sql),
                    Err(MigrateError::CannotAddColumn { reason, .. }) => {
                        reasons.push(format!("new column `{}`: {reason}", column.name));
                    }
                    Err(e) => return Err(e),
                },
                Some(before) => {
                    if let Some(changes) = column_changes(before, column) {
                        reasons.push(format!("`{}` {changes}", column.name));
                    }
                }
            }
        }
        if let Some(changes) = old_table.constraint_changes(new_table) {
            reasons.push(changes);
        }
        let mut drops = Vec::new();
        for column in &old_table.columns {
            if new_table.column(&column.name).is_none() {
                removed_columns.push((table.to_string(), column.name.clone()));
                match drop_column(table, column, old)? {
                    Ok(sql) => drops.push(sql),
                    Err(reason) => reasons.push(format!("dropped `{}`: {reason}", column.name)),
                }
            }
        }
        if !reasons.is_empty() {
            // The rebuild creates the table and its indexes as the schema has them.
            rebuilds.push((old_table, new_table, reasons));
            continue;
        }
        add_columns.extend(adds);
        drop_columns.extend(drops);
        for index in &old_table.indexes {
            if !new_table.indexes.contains(index) {
                drop_indexes.push(format!("DROP INDEX IF EXISTS {}", quote_ident(&index.name)));
            }
        }
        for index in &new_table.indexes {
            if !old_table.indexes.contains(index) {
                create_indexes.push(index.create_sql(table));
            }
        }
    }

    let new_names: HashSet<&str> = new.tables.iter().map(|t| t.name.as_str()).collect();
    let removed_tables: Vec<&TableSnapshot> = old
        .tables
        .iter()
        .rev()
        .filter(|t| !new_names.contains(t.name.as_str()))
        .collect();

    let confirmed = |name: &str| options.confirmed_drops.iter().any(|c| c == name);
    let refused_tables: Vec<String> = removed_tables
        .iter()
        .rev()
        .filter(|t| !confirmed(&t.name))
        .map(|t| t.name.clone())
        .collect();
    let refused_columns: Vec<(String, String)> = removed_columns
        .iter()
        .filter(|(t, c)| !confirmed(&format!("{t}.{c}")))
        .cloned()
        .collect();
    if !options.allow_drops && (!refused_tables.is_empty() || !refused_columns.is_empty()) {
        return Err(MigrateError::DropsNotAllowed {
            tables: refused_tables,
            columns: refused_columns,
        });
    }

    let mut out = renames;
    out.extend(drop_indexes);
    out.extend(drop_columns);
    out.extend(
        removed_tables
            .iter()
            .map(|t| format!("DROP TABLE IF EXISTS {}", quote_ident(&t.name))),
    );
    for table in new.tables.iter().filter(|t| old.table(&t.name).is_none()) {
        out.push(table.create_sql());
        out.extend(table.indexes.iter().map(|i| i.create_sql(&table.name)));
    }
    for (old_table, new_table, reasons) in rebuilds {
        out.extend(rebuild::rebuild(old_table, new_table, old, new, &reasons)?);
    }
    out.extend(add_columns);
    out.extend(create_indexes);
    Ok(out)
}

/// `ALTER TABLE … DROP COLUMN …`; `Ok(Err(reason))` when SQLite refuses it but a rebuild of
/// the table drops it; an error when nothing can (another table refers to the column).
fn drop_column(
    table: &str,
    column: &ColumnSnapshot,
    old: &SchemaSnapshot,
) -> Result<Result<String, String>, MigrateError> {
    let referenced = old.tables.iter().any(|t| {
        t.columns.iter().any(|c| {
            c.references
                .as_ref()
                .is_some_and(|r| r.table == table && r.column == column.name)
        })
    });
    if referenced {
        return Err(MigrateError::CannotDropColumn {
            table: table.to_string(),
            column: column.name.clone(),
            reason: "another table's foreign key references it".to_string(),
        });
    }
    if column.primary_key {
        return Ok(Err("it is the primary key".to_string()));
    }
    if column.unique {
        return Ok(Err("SQLite cannot drop a UNIQUE column".to_string()));
    }
    if column.references.is_some() {
        return Ok(Err(
            "SQLite cannot drop a column with a foreign key".to_string()
        ));
    }
    Ok(Ok(format!(
        "ALTER TABLE {} DROP COLUMN {}",
        quote_ident(table),
        quote_ident(&column.name)
    )))
}

/// The SQL script of [`diff`] (each statement ended by `;`), or `None` when nothing changed.
///
/// ```
/// # #[cfg(feature = "derive")] {
/// # #[derive(sonic_db_core::Table)]
/// # #[table(name = "users")]
/// # struct User { #[column(primary_key)] id: String }
/// use sonic_db_core::migrate::{diff_sql, DiffOptions, SchemaSnapshot};
/// use sonic_db_core::Schema;
///
/// let empty = SchemaSnapshot::default(); // before the first migration
/// let now = Schema::new().table::<User>().snapshot();
/// let sql = diff_sql(&empty, &now, &DiffOptions::default())?.expect("a new table");
/// assert!(sql.starts_with(r#"CREATE TABLE IF NOT EXISTS "users""#) && sql.ends_with(");\n"));
/// assert_eq!(diff_sql(&now, &now, &DiffOptions::default())?, None);
/// # }
/// # Ok::<(), sonic_db_core::migrate::MigrateError>(())
/// ```
pub fn diff_sql(
    old: &SchemaSnapshot,
    new: &SchemaSnapshot,
    options: &DiffOptions,
) -> Result<Option<String>, MigrateError> {
    let statements = diff(old, new, options)?;
    Ok((!statements.is_empty()).then(|| script(&statements)))
}

/// Turns a free-form migration name into the `name` of `NNNN_name.sql`: lower-case ASCII
/// letters, digits and single underscores.
///
/// ```
/// assert_eq!(sonic_db_core::migrate::file_stem(7, "Add comments!").unwrap(), "0007_add_comments");
/// ```
pub fn file_stem(number: u32, name: &str) -> Result<String, MigrateError> {
    let mut clean = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            clean.push(c.to_ascii_lowercase());
        } else if !clean.is_empty() && !clean.ends_with('_') {
            clean.push('_');
        }
    }
    let clean = clean.trim_end_matches('_');
    if clean.is_empty() {
        return Err(MigrateError::InvalidName(name.to_string()));
    }
    Ok(format!("{number:04}_{clean}"))
}

#[cfg(not(target_arch = "wasm32"))]
pub use fs::Migrations;

#[cfg(not(target_arch = "wasm32"))]
mod fs {
    use std::path::{Path, PathBuf};

    use super::SchemaSnapshot;
    use super::{diff_sql, file_stem, DiffOptions, MigrateError};
    use crate::schema::Schema;

    /// A `migrations` directory: writes the next migration from the schema.
    ///
    /// The examples of its methods use a fresh temporary directory `dir` and two versions of
    /// a schema: `v1`, a table `users (id)`, and `v2`, the same with a nullable column `bio`;
    /// their setup lines are hidden.
    ///
    /// ```no_run
    /// # fn schema() -> sonic_db_core::Schema { sonic_db_core::Schema::new() }
    /// use sonic_db_core::migrate::Migrations;
    ///
    /// // e.g. in a small `cargo run --bin migrate` of the application:
    /// match Migrations::new("migrations").write_next("init", &schema())? {
    ///     Some(path) => println!("wrote {}", path.display()),
    ///     None => println!("the schema has not changed"),
    /// }
    /// # Ok::<(), sonic_db_core::migrate::MigrateError>(())
    /// ```
    #[derive(Debug, Clone)]
    pub struct Migrations {
        dir: PathBuf,
        options: DiffOptions,
    }

    fn io(path: &Path) -> impl FnOnce(std::io::Error) -> MigrateError + '_ {
        move |source| MigrateError::Io {
            path: path.display().to_string(),
            source,
        }
    }

    impl Migrations {
        /// The file name of the snapshot, in `<dir>/meta/`.
        pub const SNAPSHOT_FILE: &'static str = "sonic-snapshot.json";

        /// The migrations in `dir` (created when the first migration is written).
        ///
        /// ```
        /// # #[cfg(feature = "derive")] {
        /// # use sonic_db_core::Schema;
        /// # mod v1 {
        /// #     #[derive(sonic_db_core::Table)]
        /// #     #[table(name = "users")]
        /// #     pub struct User { #[column(primary_key)] pub id: String }
        /// # }
        /// # mod v2 {
        /// #     #[derive(sonic_db_core::Table)]
        /// #     #[table(name = "users")]
        /// #     pub struct User { #[column(primary_key)] pub id: String, pub bio: Option<String> }
        /// # }
        /// # let dir = std::env::temp_dir().join(format!("sonic-doc-migrations-{}", std::process::id()));
        /// # let _ = std::fs::remove_dir_all(&dir);
        /// # let (v1, v2) = (Schema::new().table::<v1::User>(), Schema::new().table::<v2::User>());
        /// use sonic_db_core::migrate::Migrations;
        ///
        /// let migrations = Migrations::new(&dir);
        /// assert!(!dir.exists()); // nothing written yet
        /// migrations.write_next("init", &v1)?;
        /// assert!(dir.join("0001_init.sql").exists());
        /// # std::fs::remove_dir_all(&dir).ok();
        /// # }
        /// # Ok::<(), sonic_db_core::migrate::MigrateError>(())
        /// ```
        pub fn new(dir: impl Into<PathBuf>) -> Self {
            Migrations {
                dir: dir.into(),
                options: DiffOptions::default(),
            }
        }

        /// Whether removed tables and columns are dropped (default: refused with an error).
        ///
        /// ```
        /// # #[cfg(feature = "derive")] {
        /// # use sonic_db_core::Schema;
        /// # mod v1 {
        /// #     #[derive(sonic_db_core::Table)]
        /// #     #[table(name = "users")]
        /// #     pub struct User { #[column(primary_key)] pub id: String }
        /// # }
        /// # mod v2 {
        /// #     #[derive(sonic_db_core::Table)]
        /// #     #[table(name = "users")]
        /// #     pub struct User { #[column(primary_key)] pub id: String, pub bio: Option<String> }
        /// # }
        /// # let dir = std::env::temp_dir().join(format!("sonic-doc-migrations-{}", std::process::id()));
        /// # let _ = std::fs::remove_dir_all(&dir);
        /// # let (v1, v2) = (Schema::new().table::<v1::User>(), Schema::new().table::<v2::User>());
        /// use sonic_db_core::migrate::{MigrateError, Migrations};
        ///
        /// Migrations::new(&dir).write_next("init", &v2)?; // v2 has a `bio` column
        /// let refused = Migrations::new(&dir).plan(&v1); // v1 has not
        /// assert!(matches!(refused, Err(MigrateError::DropsNotAllowed { .. })));
        /// let sql = Migrations::new(&dir).allow_drops(true).plan(&v1)?.unwrap();
        /// assert!(sql.contains("DROP COLUMN \"bio\""));
        /// # std::fs::remove_dir_all(&dir).ok();
        /// # }
        /// # Ok::<(), sonic_db_core::migrate::MigrateError>(())
        /// ```
        pub fn allow_drops(mut self, allow: bool) -> Self {
            self.options.allow_drops = allow;
            self
        }

        /// Confirms one drop, `"table"` or `"table.column"`: generated even when
        /// `allow_drops` is off, or when the table also gains a column (which would otherwise
        /// be refused as a possible rename, [`MigrateError::PossibleRename`]).
        ///
        /// ```
        /// # #[cfg(feature = "derive")] {
        /// # use sonic_db_core::Schema;
        /// # mod v1 {
        /// #     #[derive(sonic_db_core::Table)]
        /// #     #[table(name = "users")]
        /// #     pub struct User { #[column(primary_key)] pub id: String, pub nick: Option<String> }
        /// # }
        /// # mod v2 {
        /// #     #[derive(sonic_db_core::Table)]
        /// #     #[table(name = "users")]
        /// #     pub struct User { #[column(primary_key)] pub id: String, pub bio: Option<String> }
        /// # }
        /// # let dir = std::env::temp_dir().join(format!("sonic-doc-confirm-{}", std::process::id()));
        /// # let _ = std::fs::remove_dir_all(&dir);
        /// # let (v1, v2) = (Schema::new().table::<v1::User>(), Schema::new().table::<v2::User>());
        /// use sonic_db_core::migrate::{MigrateError, Migrations};
        ///
        /// Migrations::new(&dir).write_next("init", &v1)?; // `nick`; v2 has `bio` instead
        /// let lookalike = Migrations::new(&dir).allow_drops(true).plan(&v2);
        /// assert!(matches!(lookalike, Err(MigrateError::PossibleRename { .. })));
        /// let sql = Migrations::new(&dir).confirm_drop("users.nick").plan(&v2)?.unwrap();
        /// assert!(sql.contains("DROP COLUMN \"nick\"") && sql.contains("ADD COLUMN \"bio\""));
        /// # std::fs::remove_dir_all(&dir).ok();
        /// # }
        /// # Ok::<(), sonic_db_core::migrate::MigrateError>(())
        /// ```
        pub fn confirm_drop(mut self, name: impl Into<String>) -> Self {
            self.options.confirmed_drops.push(name.into());
            self
        }

        /// The directory.
        ///
        /// ```
        /// use std::path::Path;
        /// use sonic_db_core::migrate::Migrations;
        /// assert_eq!(Migrations::new("db/migrations").dir(), Path::new("db/migrations"));
        /// ```
        pub fn dir(&self) -> &Path {
            &self.dir
        }

        /// `<dir>/meta/sonic-snapshot.json`.
        ///
        /// Commit it together with the migrations: it is what the next one is generated from.
        ///
        /// ```
        /// use std::path::Path;
        /// use sonic_db_core::migrate::Migrations;
        /// let path = Migrations::new("migrations").snapshot_path();
        /// assert_eq!(path, Path::new("migrations/meta/sonic-snapshot.json"));
        /// ```
        pub fn snapshot_path(&self) -> PathBuf {
            self.dir.join("meta").join(Self::SNAPSHOT_FILE)
        }

        /// The stored snapshot; an empty schema if there is none yet.
        ///
        /// ```
        /// # #[cfg(feature = "derive")] {
        /// # use sonic_db_core::Schema;
        /// # mod v1 {
        /// #     #[derive(sonic_db_core::Table)]
        /// #     #[table(name = "users")]
        /// #     pub struct User { #[column(primary_key)] pub id: String }
        /// # }
        /// # mod v2 {
        /// #     #[derive(sonic_db_core::Table)]
        /// #     #[table(name = "users")]
        /// #     pub struct User { #[column(primary_key)] pub id: String, pub bio: Option<String> }
        /// # }
        /// # let dir = std::env::temp_dir().join(format!("sonic-doc-migrations-{}", std::process::id()));
        /// # let _ = std::fs::remove_dir_all(&dir);
        /// # let (v1, v2) = (Schema::new().table::<v1::User>(), Schema::new().table::<v2::User>());
        /// use sonic_db_core::migrate::Migrations;
        ///
        /// let migrations = Migrations::new(&dir);
        /// assert!(migrations.read_snapshot()?.tables.is_empty());
        /// migrations.write_next("init", &v2)?;
        /// let stored = migrations.read_snapshot()?;
        /// assert!(stored.table("users").and_then(|t| t.column("bio")).is_some());
        /// # std::fs::remove_dir_all(&dir).ok();
        /// # }
        /// # Ok::<(), sonic_db_core::migrate::MigrateError>(())
        /// ```
        pub fn read_snapshot(&self) -> Result<SchemaSnapshot, MigrateError> {
            let path = self.snapshot_path();
            let text = match std::fs::read_to_string(&path) {
                Ok(text) => text,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    return Ok(SchemaSnapshot::default())
                }
                Err(e) => return Err(io(&path)(e)),
            };
            let snapshot: SchemaSnapshot =
                serde_json::from_str(&text).map_err(|source| MigrateError::Snapshot {
                    path: path.display().to_string(),
                    source,
                })?;
            if snapshot.version != SchemaSnapshot::VERSION {
                return Err(MigrateError::SnapshotVersion {
                    path: path.display().to_string(),
                    found: snapshot.version,
                    expected: SchemaSnapshot::VERSION,
                });
            }
            snapshot
                .check()
                .map_err(|reason| MigrateError::SnapshotInvalid {
                    path: path.display().to_string(),
                    reason,
                })?;
            Ok(snapshot)
        }

        /// The number of the next migration: one more than the highest `NNNN_*.sql`.
        ///
        /// ```
        /// # #[cfg(feature = "derive")] {
        /// # use sonic_db_core::Schema;
        /// # mod v1 {
        /// #     #[derive(sonic_db_core::Table)]
        /// #     #[table(name = "users")]
        /// #     pub struct User { #[column(primary_key)] pub id: String }
        /// # }
        /// # mod v2 {
        /// #     #[derive(sonic_db_core::Table)]
        /// #     #[table(name = "users")]
        /// #     pub struct User { #[column(primary_key)] pub id: String, pub bio: Option<String> }
        /// # }
        /// # let dir = std::env::temp_dir().join(format!("sonic-doc-migrations-{}", std::process::id()));
        /// # let _ = std::fs::remove_dir_all(&dir);
        /// # let (v1, v2) = (Schema::new().table::<v1::User>(), Schema::new().table::<v2::User>());
        /// use sonic_db_core::migrate::Migrations;
        ///
        /// let migrations = Migrations::new(&dir);
        /// assert_eq!(migrations.next_number()?, 1);
        /// std::fs::create_dir_all(&dir).unwrap();
        /// std::fs::write(dir.join("0007_by_hand.sql"), "-- written by hand").unwrap();
        /// assert_eq!(migrations.next_number()?, 8);
        /// # std::fs::remove_dir_all(&dir).ok();
        /// # }
        /// # Ok::<(), sonic_db_core::migrate::MigrateError>(())
        /// ```
        pub fn next_number(&self) -> Result<u32, MigrateError> {
            let entries = match std::fs::read_dir(&self.dir) {
                Ok(entries) => entries,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(1),
                Err(e) => return Err(io(&self.dir)(e)),
            };
            let mut highest = 0;
            for entry in entries {
                let name = entry.map_err(io(&self.dir))?.file_name();
                let name = name.to_string_lossy();
                if !name.ends_with(".sql") {
                    continue;
                }
                let digits: String = name.chars().take_while(char::is_ascii_digit).collect();
                if let Ok(n) = digits.parse::<u32>() {
                    highest = highest.max(n);
                }
            }
            Ok(highest + 1)
        }

        /// The SQL of the next migration, without writing anything; `None` if nothing changed.
        ///
        /// E.g. in CI, to fail when the schema changed without a migration.
        ///
        /// ```
        /// # #[cfg(feature = "derive")] {
        /// # use sonic_db_core::Schema;
        /// # mod v1 {
        /// #     #[derive(sonic_db_core::Table)]
        /// #     #[table(name = "users")]
        /// #     pub struct User { #[column(primary_key)] pub id: String }
        /// # }
        /// # mod v2 {
        /// #     #[derive(sonic_db_core::Table)]
        /// #     #[table(name = "users")]
        /// #     pub struct User { #[column(primary_key)] pub id: String, pub bio: Option<String> }
        /// # }
        /// # let dir = std::env::temp_dir().join(format!("sonic-doc-migrations-{}", std::process::id()));
        /// # let _ = std::fs::remove_dir_all(&dir);
        /// # let (v1, v2) = (Schema::new().table::<v1::User>(), Schema::new().table::<v2::User>());
        /// use sonic_db_core::migrate::Migrations;
        ///
        /// let migrations = Migrations::new(&dir);
        /// migrations.write_next("init", &v1)?;
        /// assert_eq!(migrations.plan(&v1)?, None); // up to date
        /// let pending = migrations.plan(&v2)?.expect("v2 adds a column");
        /// assert_eq!(pending, "ALTER TABLE \"users\" ADD COLUMN \"bio\" TEXT;\n");
        /// assert_eq!(migrations.next_number()?, 2); // nothing was written
        /// # std::fs::remove_dir_all(&dir).ok();
        /// # }
        /// # Ok::<(), sonic_db_core::migrate::MigrateError>(())
        /// ```
        pub fn plan(&self, schema: &Schema) -> Result<Option<String>, MigrateError> {
            diff_sql(&self.read_snapshot()?, &schema.snapshot(), &self.options)
        }

        /// Writes `<dir>/NNNN_<name>.sql` with the changes since the snapshot, then updates
        /// the snapshot. Returns the file written, or `None` if the schema has not changed.
        ///
        /// ```
        /// # #[cfg(feature = "derive")] {
        /// # use sonic_db_core::Schema;
        /// # mod v1 {
        /// #     #[derive(sonic_db_core::Table)]
        /// #     #[table(name = "users")]
        /// #     pub struct User { #[column(primary_key)] pub id: String }
        /// # }
        /// # mod v2 {
        /// #     #[derive(sonic_db_core::Table)]
        /// #     #[table(name = "users")]
        /// #     pub struct User { #[column(primary_key)] pub id: String, pub bio: Option<String> }
        /// # }
        /// # let dir = std::env::temp_dir().join(format!("sonic-doc-migrations-{}", std::process::id()));
        /// # let _ = std::fs::remove_dir_all(&dir);
        /// # let (v1, v2) = (Schema::new().table::<v1::User>(), Schema::new().table::<v2::User>());
        /// use sonic_db_core::migrate::Migrations;
        ///
        /// let migrations = Migrations::new(&dir);
        /// let first = migrations.write_next("init", &v1)?.unwrap();
        /// let second = migrations.write_next("Add bio!", &v2)?.unwrap();
        /// assert!(second.ends_with("0002_add_bio.sql"), "{}", second.display());
        /// assert!(std::fs::read_to_string(&first).unwrap().contains("CREATE TABLE"));
        /// assert_eq!(migrations.write_next("again", &v2)?, None); // nothing changed
        /// # std::fs::remove_dir_all(&dir).ok();
        /// # }
        /// # Ok::<(), sonic_db_core::migrate::MigrateError>(())
        /// ```
        pub fn write_next(
            &self,
            name: &str,
            schema: &Schema,
        ) -> Result<Option<PathBuf>, MigrateError> {
            let Some(sql) = self.plan(schema)? else {
                return Ok(None);
            };
            let stem = file_stem(self.next_number()?, name)?;
            std::fs::create_dir_all(&self.dir).map_err(io(&self.dir))?;
            let path = self.dir.join(format!("{stem}.sql"));
            let text = format!(
                "-- Migration {stem}: generated by Sonic from the schema (sonic_db_core::migrate),\n\
                 -- against meta/{}. Apply with `wrangler d1 migrations apply`.\n\n{sql}",
                Self::SNAPSHOT_FILE
            );
            std::fs::write(&path, text).map_err(io(&path))?;
            self.record_snapshot(schema)?;
            Ok(Some(path))
        }

        /// Stores `schema` as the snapshot without writing a migration: after a migration
        /// written by hand, so that the next generated one starts from there.
        ///
        /// ```
        /// # #[cfg(feature = "derive")] {
        /// # use sonic_db_core::Schema;
        /// # mod v1 {
        /// #     #[derive(sonic_db_core::Table)]
        /// #     #[table(name = "users")]
        /// #     pub struct User { #[column(primary_key)] pub id: String }
        /// # }
        /// # mod v2 {
        /// #     #[derive(sonic_db_core::Table)]
        /// #     #[table(name = "users")]
        /// #     pub struct User { #[column(primary_key)] pub id: String, pub bio: Option<String> }
        /// # }
        /// # let dir = std::env::temp_dir().join(format!("sonic-doc-migrations-{}", std::process::id()));
        /// # let _ = std::fs::remove_dir_all(&dir);
        /// # let (v1, v2) = (Schema::new().table::<v1::User>(), Schema::new().table::<v2::User>());
        /// use sonic_db_core::migrate::Migrations;
        ///
        /// let migrations = Migrations::new(&dir);
        /// migrations.write_next("init", &v1)?;
        /// // The change to v2, written by hand (e.g. with a backfill):
        /// let sql = "ALTER TABLE users ADD COLUMN bio TEXT;\nUPDATE users SET bio = '';\n";
        /// std::fs::write(dir.join("0002_bio.sql"), sql).unwrap();
        /// migrations.record_snapshot(&v2)?;
        /// assert_eq!(migrations.plan(&v2)?, None);
        /// # std::fs::remove_dir_all(&dir).ok();
        /// # }
        /// # Ok::<(), sonic_db_core::migrate::MigrateError>(())
        /// ```
        pub fn record_snapshot(&self, schema: &Schema) -> Result<PathBuf, MigrateError> {
            self.write_snapshot(&schema.snapshot())
        }

        /// Stores `snapshot` as the snapshot file (atomically: written aside, then renamed).
        pub(super) fn write_snapshot(
            &self,
            snapshot: &SchemaSnapshot,
        ) -> Result<PathBuf, MigrateError> {
            let path = self.snapshot_path();
            let meta = self.dir.join("meta");
            std::fs::create_dir_all(&meta).map_err(io(&meta))?;
            let mut json = serde_json::to_string_pretty(snapshot).map_err(|source| {
                MigrateError::Snapshot {
                    path: path.display().to_string(),
                    source,
                }
            })?;
            json.push('\n');
            let tmp = path.with_extension("json.tmp");
            std::fs::write(&tmp, json).map_err(io(&tmp))?;
            std::fs::rename(&tmp, &path).map_err(io(&path))?;
            Ok(path)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn col(name: &str, sql_type: &str, nullable: bool) -> ColumnSnapshot {
        ColumnSnapshot {
            name: name.into(),
            sql_type: sql_type.into(),
            nullable,
            primary_key: false,
            unique: false,
            default: None,
            references: None,
            audit: None,
            renamed_from: None,
        }
    }

    fn table(name: &str, columns: Vec<ColumnSnapshot>) -> TableSnapshot {
        let mut id = col("id", "TEXT", false);
        id.primary_key = true;
        let mut all = vec![id];
        all.extend(columns);
        TableSnapshot {
            name: name.into(),
            columns: all,
            indexes: vec![],
            ..TableSnapshot::default()
        }
    }

    fn schema(tables: Vec<TableSnapshot>) -> SchemaSnapshot {
        SchemaSnapshot {
            tables,
            ..SchemaSnapshot::default()
        }
    }

    fn run(old: &SchemaSnapshot, new: &SchemaSnapshot) -> Result<Vec<String>, MigrateError> {
        diff(old, new, &DiffOptions::default())
    }

    #[test]
    fn no_change_is_nothing() {
        let s = schema(vec![table("a", vec![col("x", "TEXT", true)])]);
        assert!(run(&s, &s).unwrap().is_empty());
        assert_eq!(diff_sql(&s, &s, &DiffOptions::default()).unwrap(), None);
    }

    #[test]
    fn from_empty_is_the_full_ddl() {
        let mut t = table("a", vec![col("x", "TEXT", true)]);
        t.indexes.push(IndexSnapshot::on("a", "x"));
        let s = schema(vec![t]);
        assert_eq!(run(&SchemaSnapshot::default(), &s).unwrap(), s.statements());
    }

    #[test]
    fn added_columns() {
        let old = schema(vec![table("a", vec![])]);
        let mut with_default = col("n", "INTEGER", false);
        with_default.default = Some("7".into());
        let new = schema(vec![table("a", vec![col("x", "TEXT", true), with_default])]);
        assert_eq!(
            run(&old, &new).unwrap(),
            [
                "ALTER TABLE \"a\" ADD COLUMN \"x\" TEXT",
                "ALTER TABLE \"a\" ADD COLUMN \"n\" INTEGER NOT NULL DEFAULT 7",
            ]
        );
    }

    #[test]
    fn columns_alter_cannot_add_rebuild_the_table() {
        let old = schema(vec![table("a", vec![])]);
        let add = |c: ColumnSnapshot| run(&old, &schema(vec![table("a", vec![c])]));

        let e = add(col("x", "TEXT", false)).unwrap_err();
        assert!(
            matches!(&e, MigrateError::NotNullWithoutDefault { table, column }
            if table == "a" && column == "x")
        );
        assert!(e.to_string().contains("`a`.`x`"), "{e}");

        let mut unique = col("u", "TEXT", true);
        unique.unique = true;
        let mut now = col("t", "INTEGER", true);
        now.default = Some("(unixepoch())".into());
        let mut fk = col("b_id", "TEXT", false);
        fk.default = Some("''".into());
        fk.references = Some(ReferenceSnapshot {
            table: "b".into(),
            column: "id".into(),
            on_delete: None,
        });
        for (column, why) in [
            (unique, "UNIQUE"),
            (now, "not constant"),
            (fk.clone(), "REFERENCES"),
        ] {
            let out = add(column.clone()).unwrap();
            assert!(out[0].starts_with("-- Rebuild \"a\""), "{out:?}");
            assert!(out[0].contains(why), "{out:?}");
            assert!(out.contains(&format!("CREATE TABLE IF NOT EXISTS \"a\" (\n    \"id\" TEXT NOT NULL PRIMARY KEY,\n    {}\n)", column.definition_sql())), "{out:?}");
            assert!(
                out.contains(
                    &"INSERT INTO \"a\" (\"id\") SELECT \"id\" FROM \"__sonic_keep_a\"".to_string()
                ),
                "{out:?}"
            );
        }
        fk.nullable = true;
        fk.default = None;
        assert_eq!(
            run(&old, &schema(vec![table("a", vec![fk])])).unwrap(),
            ["ALTER TABLE \"a\" ADD COLUMN \"b_id\" TEXT REFERENCES \"b\" (\"id\")"]
        );
    }

    #[test]
    fn audit_columns_get_a_constant_default() {
        let old = schema(vec![table("a", vec![])]);
        let mut created = col("created_on", "INTEGER", false);
        created.default = Some("(CAST(unixepoch('subsec') * 1000 AS INTEGER))".into());
        created.audit = Some("created".into());
        let out = run(&old, &schema(vec![table("a", vec![created])])).unwrap();
        assert_eq!(out.len(), 1);
        assert!(
            out[0].starts_with("-- `created_on` is an audit column"),
            "{}",
            out[0]
        );
        assert!(out[0]
            .ends_with("\nALTER TABLE \"a\" ADD COLUMN \"created_on\" INTEGER NOT NULL DEFAULT 0"));
    }

    #[test]
    fn drops_need_consent() {
        let old = schema(vec![
            table("a", vec![col("x", "TEXT", true)]),
            table("b", vec![]),
        ]);
        let new = schema(vec![table("a", vec![])]);
        let e = run(&old, &new).unwrap_err();
        assert_eq!(
            e.to_string(),
            "the schema no longer has table(s) `b` and column(s) `a`.`x`; dropping deletes data, \
             so Sonic does not generate it unless asked: if it was renamed, declare \
             `renamed_from = \"<old name>\"` on the table or column; if it is to go, use \
             `allow_drops` (or write the migration by hand)"
        );
        let options = DiffOptions {
            allow_drops: true,
            ..DiffOptions::default()
        };
        let allowed = diff(&old, &new, &options).unwrap();
        assert_eq!(
            allowed,
            [
                "ALTER TABLE \"a\" DROP COLUMN \"x\"",
                "DROP TABLE IF EXISTS \"b\"",
            ]
        );
    }

    #[test]
    fn changed_column_rebuilds_the_table_keeping_cascading_children() {
        let mut parent = table("a", vec![col("x", "TEXT", true)]);
        let mut child_fk = col("a_id", "TEXT", true);
        child_fk.references = Some(ReferenceSnapshot {
            table: "a".into(),
            column: "id".into(),
            on_delete: Some("CASCADE".into()),
        });
        let child = table("c", vec![child_fk]);
        let old = schema(vec![parent.clone(), child.clone()]);
        parent.columns[1] = col("x", "INTEGER", false);
        parent.columns[1].default = Some("0".into());
        let new = schema(vec![parent, child]);
        let out = run(&old, &new).unwrap();
        assert!(
            out[0].starts_with(
                "-- Rebuild \"a\" (`x` type TEXT → INTEGER, now NOT NULL, default none → 0)"
            ),
            "{out:?}"
        );
        let rest: Vec<&str> = out[1..].iter().map(String::as_str).collect();
        assert_eq!(
            rest,
            [
                "CREATE TABLE \"__sonic_keep_c\" AS SELECT * FROM \"c\"",
                "CREATE TABLE \"__sonic_keep_a\" AS SELECT * FROM \"a\"",
                "DROP TABLE \"a\"",
                "CREATE TABLE IF NOT EXISTS \"a\" (\n    \"id\" TEXT NOT NULL PRIMARY KEY,\n    \"x\" INTEGER NOT NULL DEFAULT 0\n)",
                "INSERT INTO \"a\" (\"id\", \"x\") SELECT \"id\", COALESCE(\"x\", 0) FROM \"__sonic_keep_a\"",
                "DROP TABLE \"__sonic_keep_a\"",
                "DELETE FROM \"c\"",
                "INSERT INTO \"c\" SELECT * FROM \"__sonic_keep_c\"",
                "DROP TABLE \"__sonic_keep_c\"",
            ]
        );
    }

    #[test]
    fn renames_come_first_and_follow_references() {
        let mut a = table("a", vec![col("x", "TEXT", true)]);
        a.indexes.push(IndexSnapshot::on("a", "x"));
        let old = schema(vec![a.clone()]);
        a.name = "b".into();
        a.renamed_from = Some("a".into());
        a.columns[1].name = "y".into();
        a.columns[1].renamed_from = Some("x".into());
        a.indexes = vec![IndexSnapshot::on("b", "y")];
        let new = schema(vec![a]);
        assert_eq!(
            run(&old, &new).unwrap(),
            [
                "ALTER TABLE \"a\" RENAME TO \"b\"",
                "ALTER TABLE \"b\" RENAME COLUMN \"x\" TO \"y\"",
                "DROP INDEX IF EXISTS \"a_x_idx\"",
                "CREATE INDEX IF NOT EXISTS \"b_y_idx\" ON \"b\" (\"y\")",
            ]
        );
        // Already applied: nothing more.
        assert!(run(&new, &new).unwrap().is_empty());
    }

    #[test]
    fn indexes() {
        let old = schema(vec![table("a", vec![col("x", "TEXT", true)])]);
        let mut new = old.clone();
        new.tables[0].indexes.push(IndexSnapshot::on("a", "x"));
        assert_eq!(
            run(&old, &new).unwrap(),
            ["CREATE INDEX IF NOT EXISTS \"a_x_idx\" ON \"a\" (\"x\")"]
        );
        assert_eq!(
            run(&new, &old).unwrap(),
            ["DROP INDEX IF EXISTS \"a_x_idx\""]
        );
    }

    #[test]
    fn names() {
        assert_eq!(file_stem(1, "init").unwrap(), "0001_init");
        assert_eq!(
            file_stem(12, " Add  Users-Table ").unwrap(),
            "0012_add_users_table"
        );
        assert!(matches!(
            file_stem(1, "--"),
            Err(MigrateError::InvalidName(_))
        ));
    }
}
