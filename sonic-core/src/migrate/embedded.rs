//! Migration files compiled into the binary and applied through any backend that holds
//! transactions: a Durable Object's SQLite when the object starts (each object has its own
//! database, so each records its own migrations), SQLite natively in tests.
//!
//! The files are the ones [`Migrations`](super::Migrations) generates for `wrangler d1
//! migrations apply`, and the record is the same `d1_migrations` table, so a database holds
//! the same state whichever tool migrated it.

use std::collections::HashSet;

use super::record::{
    CREATE_MIGRATIONS_TABLE, DEFER_FOREIGN_KEYS, MIGRATIONS_TABLE, RECORD_APPLIED, RECORD_EXISTS,
};
use super::MigrateError;
use crate::db::Db;
use crate::error::Error;
use crate::value::Value;

/// One migration file compiled into the binary, named as on disk (`0001_init.sql`).
/// [`embed_migrations!`](crate::embed_migrations) builds the list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MigrationFile {
    /// The file name, which orders the files and is what `d1_migrations` records.
    pub name: &'static str,
    /// The file's SQL, run as one script.
    pub sql: &'static str,
}

/// The migration files of a directory (relative to the crate's `Cargo.toml`), compiled in with
/// `include_str!`, as a `&'static [MigrationFile]` for [`apply_embedded`]. Name each file, in
/// any order: a file missing on disk fails the build.
///
/// ```
/// use sonic_db_core::migrate::MigrationFile;
///
/// const MIGRATIONS: &[MigrationFile] = sonic_db_core::embed_migrations!(
///     "tests/fixtures/embedded_migrations": "0001_init.sql", "0002_stars.sql"
/// );
/// assert_eq!(MIGRATIONS[1].name, "0002_stars.sql");
/// assert!(MIGRATIONS[0].sql.contains("CREATE TABLE IF NOT EXISTS \"notes\""));
/// ```
#[macro_export]
macro_rules! embed_migrations {
    ($dir:literal: $($file:literal),+ $(,)?) => {
        &[$($crate::migrate::MigrationFile {
            name: $file,
            sql: ::core::include_str!(::core::concat!(
                ::core::env!("CARGO_MANIFEST_DIR"), "/", $dir, "/", $file
            )),
        }),+]
    };
}

/// Applies the files `db` has not applied yet, in the order of their names, each in one
/// transaction with its record in `d1_migrations` (foreign keys checked at its commit);
/// returns the names it applied. Applied files are skipped, so calling it at every start of a
/// Durable Object costs one read once the object is up to date.
///
/// The backend must hold interactive transactions ([`Capabilities::transactions`]: a Durable
/// Object's SQLite, SQLite natively) and run scripts
/// ([`SqlBackend::execute_script`](crate::SqlBackend::execute_script)); D1's files are
/// applied by wrangler. A file that fails leaves nothing of itself, is not recorded, and
/// stops the run: [`MigrateError::Apply`] names it; the files before it stay applied.
///
/// ```
/// # #[cfg(feature = "rusqlite")] pollster::block_on(async {
/// use sonic_db_core::migrate::{apply_embedded, MigrationFile};
/// use sonic_db_core::{sqlite::SqliteBackend, Db};
///
/// const MIGRATIONS: &[MigrationFile] = &[MigrationFile {
///     name: "0001_init.sql",
///     sql: "CREATE TABLE notes (id TEXT PRIMARY KEY, text TEXT NOT NULL);",
/// }];
/// let db = Db::new(SqliteBackend::memory()?);
/// assert_eq!(apply_embedded(&db, MIGRATIONS).await?, ["0001_init.sql"]);
/// assert!(apply_embedded(&db, MIGRATIONS).await?.is_empty()); // recorded: not again
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # }).unwrap();
/// ```
///
/// [`Capabilities::transactions`]: crate::Capabilities::transactions
pub async fn apply_embedded(db: &Db, files: &[MigrationFile]) -> Result<Vec<String>, MigrateError> {
    let mut pending: Vec<MigrationFile> = files.to_vec();
    pending.sort_by_key(|file| file.name);
    if let Some(twice) = pending.windows(2).find_map(|pair| match pair {
        [a, b] if a.name == b.name => Some(a.name),
        _ => None,
    }) {
        return Err(MigrateError::Apply {
            name: twice.to_owned(),
            source: Box::new(Error::InvalidQuery(format!(
                "migration {twice} is listed twice; nothing was applied"
            ))),
        });
    }
    let done = applied(db)
        .await
        .map_err(|e| MigrateError::Record(Box::new(e)))?;
    pending.retain(|file| !done.contains(file.name));
    let mut applied_now = Vec::with_capacity(pending.len());
    for file in pending {
        db.transaction(|tx| async move {
            tx.backend().execute_script(CREATE_MIGRATIONS_TABLE).await?;
            tx.sql(DEFER_FOREIGN_KEYS).run().await?;
            tx.backend().execute_script(file.sql).await?;
            tx.sql(RECORD_APPLIED).bind(file.name).run().await?;
            Ok(())
        })
        .await
        .map_err(|source| MigrateError::Apply {
            name: file.name.to_owned(),
            source: Box::new(source),
        })?;
        applied_now.push(file.name.to_owned());
    }
    Ok(applied_now)
}

/// The names `d1_migrations` records (none when the table does not exist yet).
async fn applied(db: &Db) -> crate::Result<HashSet<String>> {
    let exists = db
        .sql(RECORD_EXISTS)
        .bind(MIGRATIONS_TABLE)
        .result()
        .await?;
    if !matches!(exists.values.first(), Some(Value::Integer(1))) {
        return Ok(HashSet::new());
    }
    let names = db.sql(super::record::APPLIED_NAMES).result().await?;
    names
        .values
        .into_iter()
        .map(|value| match value {
            Value::Text(name) => Ok(name),
            other => Err(Error::Database {
                message: format!("{MIGRATIONS_TABLE}.name holds {other:?}, not a file name"),
            }),
        })
        .collect()
}
