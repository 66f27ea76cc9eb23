//! wrangler's record of applied migrations (`d1_migrations`), shared by the native
//! [`Migrations::apply`](super::Migrations::apply) and
//! [`apply_embedded`](super::apply_embedded), so a database migrated by any of them (or by
//! wrangler) is read the same way by the others.

/// The table wrangler records applied migrations in (its default `migrations_table`).
pub const MIGRATIONS_TABLE: &str = "d1_migrations";

/// wrangler's definition of [`MIGRATIONS_TABLE`].
pub(crate) const CREATE_MIGRATIONS_TABLE: &str = "CREATE TABLE IF NOT EXISTS d1_migrations(
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    name       TEXT UNIQUE,
    applied_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP NOT NULL
)";

/// Whether the record table exists; bound to [`MIGRATIONS_TABLE`].
pub(crate) const RECORD_EXISTS: &str =
    "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1)";

/// When one file was applied; bound to its name.
#[cfg(all(feature = "rusqlite", not(target_arch = "wasm32")))]
pub(crate) const APPLIED_AT: &str =
    "SELECT CAST(applied_at AS TEXT) FROM d1_migrations WHERE name = ?1";

/// Every applied file's name.
pub(crate) const APPLIED_NAMES: &str = "SELECT name FROM d1_migrations ORDER BY id";

/// Records one applied file; bound to its name.
pub(crate) const RECORD_APPLIED: &str = "INSERT INTO d1_migrations (name) VALUES (?1)";

/// Run before a file, in its transaction: foreign keys are checked at commit, as D1
/// recommends for migrations (a rebuilt table is briefly missing).
pub(crate) const DEFER_FOREIGN_KEYS: &str = "PRAGMA defer_foreign_keys = ON";
