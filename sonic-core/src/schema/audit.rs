//! The audit columns of `#[audit]`: `created_on` and `updated_on`, in Unix milliseconds.
//!
//! Two shapes, chosen by the field's type: [`Audit`] (two `i64`s, `NOT NULL` with a default,
//! Sonic's own tables) and [`NullableAudit`] (two `Option<i64>`s, plain nullable `INTEGER`s as
//! SonicJs's `auditSchema` declares them, so a Worker can run on a SonicJs database).
//!
//! The rule, the same in every write path: Sonic stamps the audit columns from the `Db`'s
//! clock (`created_on` at insert, `updated_on` at every write) and an explicit value for one
//! (`set`, `set_expr`, `set_by_name`, `set_json` of an update) is refused. A `Db` from
//! [`Db::keeping_audit`](crate::Db::keeping_audit) does the opposite for imports and tests:
//! it writes the values given (the record's fields, or the `set` ones) and stamps nothing.

use crate::value::ColumnType;

/// The role of an audit column (`#[audit]`).
///
/// ```
/// # #[cfg(feature = "derive")] {
/// use sonic_db_core::{Audit, AuditRole};
/// # #[derive(sonic_db_core::Table)]
/// # struct Note { #[column(primary_key)] id: i64, #[audit] audit: Audit }
///
/// assert_eq!(Note::CREATED_ON.def().audit, Some(AuditRole::Created));
/// # }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AuditRole {
    /// `created_on`: set once, at insert.
    Created,
    /// `updated_on`: set at every write.
    Updated,
}

/// What `#[audit]` needs of its field's type: the type of each of the two columns and how to
/// move them in and out. Implemented by [`Audit`] and [`NullableAudit`].
///
/// ```
/// use sonic_db_core::{Audit, AuditFields, NullableAudit};
///
/// let mut audit = NullableAudit::from_columns(Some(1), None); // as read from SonicJs's rows
/// audit.stamp(5, false); // an update
/// assert_eq!((*audit.created_on(), *audit.updated_on()), (Some(1), Some(5)));
/// assert_eq!(Audit::from_columns(1, 2), Audit { created_on: 1, updated_on: 2 });
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot hold the audit columns of `#[audit]`",
    label = "not an audit type",
    note = "an `#[audit]` field is a `sonic_db_core::Audit` (NOT NULL) or a \
            `sonic_db_core::NullableAudit` (nullable, as SonicJs declares them)"
)]
pub trait AuditFields: Sized {
    /// The Rust type of each column: `i64` or `Option<i64>`.
    type Column: ColumnType;
    /// The value from the two columns of a row.
    fn from_columns(created_on: Self::Column, updated_on: Self::Column) -> Self;
    /// The `created_on` column's value.
    fn created_on(&self) -> &Self::Column;
    /// The `updated_on` column's value.
    fn updated_on(&self) -> &Self::Column;
    /// Sets `updated_on` to `now_ms`, and `created_on` too when `inserting`.
    fn stamp(&mut self, now_ms: i64, inserting: bool);
}

/// The audit columns of `#[audit]`: Unix milliseconds, filled by Sonic on write, `NOT NULL`
/// (with a default of the insert's time for rows inserted by raw SQL).
///
/// Declare it as a field of any table (`#[audit] #[serde(flatten)] audit: Audit`), the way the
/// seed spreads `auditSchema` into each table. For tables whose audit columns may hold `NULL`
/// (SonicJs's), use [`NullableAudit`].
///
/// ```
/// # #[cfg(all(feature = "derive", feature = "rusqlite"))] {
/// # use sonic_db_core::{sqlite::SqliteBackend, Db, FixedClock, Schema};
/// use sonic_db_core::Audit;
///
/// #[derive(sonic_db_core::Table)]
/// struct Note {
///     #[column(primary_key)]
///     id: i64,
///     #[audit]
///     audit: Audit,
/// }
/// # pollster::block_on(async {
/// # let db = Db::new(SqliteBackend::memory()?).with_clock(FixedClock::new(42));
/// # for s in Schema::new().table::<Note>().statements() { db.sql(s).run().await?; }
/// let stored = db.insert(&Note { id: 1, audit: Audit::default() }).await?;
/// assert_eq!(stored.audit, Audit { created_on: 42, updated_on: 42 }); // the Db's clock
/// # Ok::<(), sonic_db_core::Error>(())
/// # }).unwrap();
/// # }
/// ```
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize,
)]
pub struct Audit {
    /// Set once, when the record is inserted.
    pub created_on: i64,
    /// Set at every write.
    pub updated_on: i64,
}

impl AuditFields for Audit {
    type Column = i64;
    fn from_columns(created_on: i64, updated_on: i64) -> Self {
        Audit {
            created_on,
            updated_on,
        }
    }
    fn created_on(&self) -> &i64 {
        &self.created_on
    }
    fn updated_on(&self) -> &i64 {
        &self.updated_on
    }
    fn stamp(&mut self, now_ms: i64, inserting: bool) {
        self.updated_on = now_ms;
        if inserting {
            self.created_on = now_ms;
        }
    }
}

/// The audit columns as SonicJs's `auditSchema` declares them: `created_on` and `updated_on`,
/// plain nullable `integer`s (Unix milliseconds) without a default.
///
/// Sonic stamps them on write as it does [`Audit`]; rows written by other tools may hold
/// `NULL`, which reads as `None`.
///
/// ```
/// # #[cfg(all(feature = "derive", feature = "rusqlite"))] {
/// # use sonic_db_core::{sqlite::SqliteBackend, Db, FixedClock, Schema};
/// use sonic_db_core::NullableAudit;
///
/// #[derive(sonic_db_core::Table)]
/// #[table(name = "users")]
/// struct User {
///     #[column(primary_key)]
///     id: String,
///     #[audit]
///     audit: NullableAudit,
/// }
/// # pollster::block_on(async {
/// # let db = Db::new(SqliteBackend::memory()?).with_clock(FixedClock::new(42));
/// let ddl = Schema::new().table::<User>().statements();
/// assert!(ddl[0].contains("\"created_on\" INTEGER,")); // nullable, no default
/// # for s in ddl { db.sql(s).run().await?; }
/// db.sql("INSERT INTO users (id) VALUES ('u1')").run().await?; // by another tool
/// let read = db.find::<User>("u1").await?.unwrap();
/// assert_eq!(read.audit, NullableAudit::default()); // both NULL
/// let stored = db.update(&read).await?;
/// assert_eq!((stored.audit.created_on, stored.audit.updated_on), (None, Some(42)));
/// # Ok::<(), sonic_db_core::Error>(())
/// # }).unwrap();
/// # }
/// ```
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize,
)]
pub struct NullableAudit {
    /// Set once, when the record is inserted; `None` in rows that were inserted without it.
    pub created_on: Option<i64>,
    /// Set at every write; `None` in rows that were written without it.
    pub updated_on: Option<i64>,
}

impl AuditFields for NullableAudit {
    type Column = Option<i64>;
    fn from_columns(created_on: Option<i64>, updated_on: Option<i64>) -> Self {
        NullableAudit {
            created_on,
            updated_on,
        }
    }
    fn created_on(&self) -> &Option<i64> {
        &self.created_on
    }
    fn updated_on(&self) -> &Option<i64> {
        &self.updated_on
    }
    fn stamp(&mut self, now_ms: i64, inserting: bool) {
        self.updated_on = Some(now_ms);
        if inserting {
            self.created_on = Some(now_ms);
        }
    }
}
