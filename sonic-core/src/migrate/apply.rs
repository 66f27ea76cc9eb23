//! Applying the migration files natively, as `wrangler d1 migrations apply` does on D1: so
//! tests and local tools run the exact files production runs, and both agree on what is
//! applied.
//!
//! The record is wrangler's: a table [`MIGRATIONS_TABLE`] with one row per applied file,
//! named by its file name (`0001_init.sql`). Files are applied in the order of their names.
//! Each file and its record are one transaction (D1 runs a file as one batch), with foreign
//! keys checked at commit (`PRAGMA defer_foreign_keys`, as D1 recommends for migrations), so
//! a failing file leaves the database as it was and is not recorded.

use std::path::Path;

use rusqlite::{Connection, OptionalExtension};

use super::record::{
    APPLIED_AT, CREATE_MIGRATIONS_TABLE, DEFER_FOREIGN_KEYS, MIGRATIONS_TABLE, RECORD_APPLIED,
    RECORD_EXISTS,
};
use super::{MigrateError, Migrations};
use crate::sqlite::{map_err as sqlite_error, SqliteBackend};

/// One migration file and whether the database has applied it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrationStatus {
    /// The file name, e.g. `0001_init.sql`.
    pub name: String,
    /// When it was applied (SQLite's `CURRENT_TIMESTAMP`, UTC), or `None` if pending.
    pub applied_at: Option<String>,
}

impl Migrations {
    /// The migration files (`*.sql` in the directory), in the order they apply.
    ///
    /// ```
    /// # let dir = std::env::temp_dir().join(format!("sonic-doc-files-{}", std::process::id()));
    /// # let _ = std::fs::remove_dir_all(&dir);
    /// # std::fs::create_dir_all(&dir)?;
    /// use sonic_db_core::migrate::Migrations;
    ///
    /// std::fs::write(dir.join("0002_posts.sql"), "CREATE TABLE posts (id TEXT);")?;
    /// std::fs::write(dir.join("0001_init.sql"), "CREATE TABLE users (id TEXT);")?;
    /// std::fs::write(dir.join("notes.txt"), "not a migration")?;
    /// assert_eq!(Migrations::new(&dir).files()?, ["0001_init.sql", "0002_posts.sql"]);
    /// # std::fs::remove_dir_all(&dir).ok();
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn files(&self) -> Result<Vec<String>, MigrateError> {
        let dir = self.dir();
        let entries = match std::fs::read_dir(dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(source) => return Err(io_error(dir, source)),
        };
        let mut names = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|source| io_error(dir, source))?;
            let is_file = entry.file_type().map_err(|s| io_error(dir, s))?.is_file();
            if let (true, Some(name)) = (is_file, entry.file_name().to_str()) {
                if name.ends_with(".sql") {
                    names.push(name.to_owned());
                }
            }
        }
        names.sort();
        Ok(names)
    }

    /// Every migration file with the time the database applied it, or `None`.
    ///
    /// ```
    /// # let dir = std::env::temp_dir().join(format!("sonic-doc-status-{}", std::process::id()));
    /// # let _ = std::fs::remove_dir_all(&dir);
    /// # std::fs::create_dir_all(&dir)?;
    /// use sonic_db_core::migrate::Migrations;
    /// use sonic_db_core::sqlite::SqliteBackend;
    ///
    /// std::fs::write(dir.join("0001_init.sql"), "CREATE TABLE users (id TEXT);")?;
    /// let (migrations, sqlite) = (Migrations::new(&dir), SqliteBackend::memory()?);
    /// assert_eq!(migrations.status(&sqlite)?[0].applied_at, None);
    /// migrations.apply(&sqlite)?;
    /// assert!(migrations.status(&sqlite)?[0].applied_at.is_some());
    /// # std::fs::remove_dir_all(&dir).ok();
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn status(&self, sqlite: &SqliteBackend) -> Result<Vec<MigrationStatus>, MigrateError> {
        let files = self.files()?;
        sqlite.with_connection(|conn| {
            let recorded = |name: &str| applied_at(conn, name);
            files
                .into_iter()
                .map(|name| {
                    let applied_at = recorded(&name)?;
                    Ok(MigrationStatus { name, applied_at })
                })
                .collect()
        })
    }

    /// Applies the files the database has not applied yet, in order, each in one transaction
    /// with its record; returns their names. Stops at the first file that fails, which is
    /// reported as [`MigrateError::Apply`] and leaves no trace.
    ///
    /// ```
    /// # let dir = std::env::temp_dir().join(format!("sonic-doc-apply-{}", std::process::id()));
    /// # let _ = std::fs::remove_dir_all(&dir);
    /// # std::fs::create_dir_all(&dir)?;
    /// use sonic_db_core::migrate::Migrations;
    /// use sonic_db_core::sqlite::SqliteBackend;
    ///
    /// std::fs::write(dir.join("0001_init.sql"), "CREATE TABLE users (id TEXT);")?;
    /// let (migrations, sqlite) = (Migrations::new(&dir), SqliteBackend::memory()?);
    /// assert_eq!(migrations.apply(&sqlite)?, ["0001_init.sql"]);
    /// assert!(migrations.apply(&sqlite)?.is_empty()); // nothing left to apply
    /// # std::fs::remove_dir_all(&dir).ok();
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn apply(&self, sqlite: &SqliteBackend) -> Result<Vec<String>, MigrateError> {
        let files = self.files()?;
        sqlite.with_connection(|conn| {
            let mut applied = Vec::new();
            for name in files {
                if applied_at(conn, &name)?.is_some() {
                    continue;
                }
                let path = self.dir().join(&name);
                let sql = std::fs::read_to_string(&path).map_err(|s| io_error(&path, s))?;
                apply_one(conn, &name, &sql).map_err(|source| MigrateError::Apply {
                    name: name.clone(),
                    source: Box::new(source),
                })?;
                applied.push(name);
            }
            Ok(applied)
        })
    }
}

/// When `name` was applied, if it was (no record table: nothing applied).
fn applied_at(conn: &Connection, name: &str) -> Result<Option<String>, MigrateError> {
    let exists: bool = conn
        .query_row(RECORD_EXISTS, [MIGRATIONS_TABLE], |row| row.get(0))
        .map_err(|e| MigrateError::Record(Box::new(sqlite_error(e))))?;
    if !exists {
        return Ok(None);
    }
    conn.query_row(APPLIED_AT, [name], |row| row.get(0))
        .optional()
        .map_err(|e| MigrateError::Record(Box::new(sqlite_error(e))))
}

fn apply_one(conn: &Connection, name: &str, sql: &str) -> crate::Result<()> {
    conn.execute_batch(CREATE_MIGRATIONS_TABLE)
        .map_err(sqlite_error)?;
    // Outside any transaction: `with_connection` is not called inside one.
    let tx = conn.unchecked_transaction().map_err(sqlite_error)?;
    tx.execute_batch(DEFER_FOREIGN_KEYS).map_err(sqlite_error)?;
    tx.execute_batch(sql).map_err(sqlite_error)?;
    tx.execute(RECORD_APPLIED, [name]).map_err(sqlite_error)?;
    tx.commit().map_err(sqlite_error)
}

fn io_error(path: &Path, source: std::io::Error) -> MigrateError {
    MigrateError::Io {
        path: path.display().to_string(),
        source,
    }
}
