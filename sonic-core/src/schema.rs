//! The schema model: what `#[derive(Table)]` knows about a struct, as plain static data.
//!
//! Everything else — the SQL compiler, DDL and migrations, the KV cache — reads these
//! definitions; none of it needs the Rust types themselves.

use std::marker::PhantomData;

use crate::convert::ColumnType;
use crate::error::Error;
use crate::value::{SqlType, Value};

/// A table: one `#[derive(Table)]` struct.
///
/// The derive implements it; the methods are what the query layer calls to move records in and
/// out of rows. Columns are always addressed by their index in [`TableDef::columns`].
pub trait Table: Sized + Send + Sync + 'static {
    /// The static description of the table.
    const DEF: &'static TableDef;
    /// The Rust type of the primary key column.
    type PrimaryKey: ColumnType + Send + Sync;

    /// Appends the record's column values, in [`TableDef::columns`] order, to `out`.
    fn encode_into(&self, out: &mut Vec<Value>) -> Result<(), Error>;

    /// The value of one column (index into [`TableDef::columns`]).
    fn column_value(&self, index: usize) -> Result<Value, Error>;

    /// Builds a record from one row whose values are in [`TableDef::columns`] order.
    ///
    /// Values are taken out of the slice (left as `Null`). Relations start unloaded.
    fn decode(row: &mut [Value]) -> Result<Self, Error>;

    /// Fills the audit columns for a write at `now_ms` (Unix milliseconds): `updated_on`
    /// always, `created_on` only when `inserting`. A no-op for tables without `#[audit]`.
    fn touch(&mut self, now_ms: i64, inserting: bool);

    /// The primary key value, ready to bind.
    fn primary_key_value(&self) -> Result<Value, Error> {
        self.column_value(Self::DEF.primary_key)
    }
}

/// The static description of a table.
#[derive(Debug)]
pub struct TableDef {
    /// SQL name of the table.
    pub name: &'static str,
    /// Name of the Rust type, for messages.
    pub rust_name: &'static str,
    /// Stored columns, in declaration order (audit columns where `#[audit]` stands).
    pub columns: &'static [ColumnDef],
    /// Index of the primary key in `columns`.
    pub primary_key: usize,
    /// Relations declared with `#[relation(...)]`.
    pub relations: &'static [RelationDef],
}

impl TableDef {
    /// The index of the column with this SQL name.
    pub fn column_index(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c.name == name)
    }

    /// The column with this SQL name.
    pub fn column(&self, name: &str) -> Option<&'static ColumnDef> {
        self.columns.iter().find(|c| c.name == name)
    }

    /// The column with this SQL name, or [`Error::UnknownColumn`] naming the table.
    pub fn require_column(&self, name: &str) -> Result<usize, Error> {
        self.column_index(name).ok_or_else(|| Error::UnknownColumn {
            table: self.name.to_string(),
            column: name.to_string(),
        })
    }

    /// The primary key column.
    pub fn primary_key_column(&self) -> &'static ColumnDef {
        &self.columns[self.primary_key]
    }

    /// The relation with this (field) name.
    pub fn relation(&self, name: &str) -> Option<&'static RelationDef> {
        self.relations.iter().find(|r| r.name == name)
    }

    /// The index of the column playing this audit role, if the table has `#[audit]`.
    pub fn audit_column(&self, role: AuditRole) -> Option<usize> {
        self.columns.iter().position(|c| c.audit == Some(role))
    }
}

/// The static description of one column.
#[derive(Debug)]
pub struct ColumnDef {
    /// SQL name.
    pub name: &'static str,
    /// Name of the Rust field (for audit columns: `created_on` / `updated_on`).
    pub field: &'static str,
    /// Declared type.
    pub sql_type: SqlType,
    /// `false` adds `NOT NULL`.
    pub nullable: bool,
    /// Whether this is the primary key.
    pub primary_key: bool,
    /// `UNIQUE`.
    pub unique: bool,
    /// A `CREATE INDEX` is generated for it (also implied by relations that use it as a
    /// foreign key).
    pub indexed: bool,
    /// SQL default expression, written verbatim into the DDL (`DEFAULT <expr>`).
    pub default: Option<&'static str>,
    /// `REFERENCES` clause.
    pub references: Option<ForeignKey>,
    /// Which audit column this is, if any.
    pub audit: Option<AuditRole>,
}

impl ColumnDef {
    /// A column with every flag off, for building definitions by hand.
    ///
    /// ```
    /// use sonic_core::{ColumnDef, SqlType};
    /// const TITLE: ColumnDef = ColumnDef::new("title", "title", SqlType::Text);
    /// assert!(!TITLE.nullable && !TITLE.unique);
    /// ```
    pub const fn new(name: &'static str, field: &'static str, sql_type: SqlType) -> Self {
        ColumnDef {
            name,
            field,
            sql_type,
            nullable: false,
            primary_key: false,
            unique: false,
            indexed: false,
            default: None,
            references: None,
            audit: None,
        }
    }
}

/// The role of an audit column (`#[audit]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AuditRole {
    /// `created_on`: set once, at insert.
    Created,
    /// `updated_on`: set at every write.
    Updated,
}

/// A `REFERENCES` clause.
#[derive(Debug, Clone, Copy)]
pub struct ForeignKey {
    /// The referenced table and column. A function, so that tables can refer to each other.
    pub target: fn() -> (&'static TableDef, &'static ColumnDef),
    /// `ON DELETE` action (`CASCADE`, `SET NULL`, `RESTRICT`, …), if any.
    pub on_delete: Option<&'static str>,
}

/// Whether a relation loads one record or many.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RelationKind {
    /// A post has one author: `local` (here) references `remote` (there).
    One,
    /// A user has many posts: `remote` (there) references `local` (here).
    Many,
}

/// A relation declared with `#[relation(...)]`.
#[derive(Debug, Clone, Copy)]
pub struct RelationDef {
    /// Name of the Rust field that holds the loaded records.
    pub name: &'static str,
    /// One or many.
    pub kind: RelationKind,
    /// The related table.
    pub target: fn() -> &'static TableDef,
    /// Index of the joining column in this table.
    pub local: usize,
    /// Index of the joining column in the related table.
    pub remote: fn() -> usize,
}

/// A typed handle to a column of `T` whose values compare with `V`.
///
/// The derive generates one associated constant per column (`User::EMAIL`), so a misspelt
/// column is a compile error. Filters and orderings are built from these handles.
pub struct Column<T, V> {
    index: usize,
    _marker: PhantomData<fn() -> (T, V)>,
}

impl<T, V> Clone for Column<T, V> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T, V> Copy for Column<T, V> {}

impl<T: Table, V> Column<T, V> {
    /// A handle to column `index` of `T` (used by the derive).
    pub const fn new(index: usize) -> Self {
        Column {
            index,
            _marker: PhantomData,
        }
    }

    /// Index of the column in [`TableDef::columns`].
    pub const fn index(&self) -> usize {
        self.index
    }

    /// The column's definition.
    pub fn def(&self) -> &'static ColumnDef {
        &T::DEF.columns[self.index]
    }

    /// The column's SQL name.
    pub fn name(&self) -> &'static str {
        self.def().name
    }
}

impl<T, V> std::fmt::Debug for Column<T, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Column")
            .field("table", &std::any::type_name::<T>())
            .field("index", &self.index)
            .finish()
    }
}

/// The place in a record where a relation's loaded records go.
///
/// `Option<Vec<C>>` for a many relation, `Option<Box<C>>` for a one relation;
/// `None` means "not loaded", which serialises as an absent field with
/// `#[serde(skip_serializing_if = "Option::is_none")]`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot hold a Sonic relation",
    label = "not a relation field type",
    note = "a `#[relation(many, ..)]` field is an `Option<Vec<T>>`, a `#[relation(one, ..)]` \
            field an `Option<Box<T>>`, where `T` is a `#[derive(Table)]` struct"
)]
pub trait RelationSlot {
    /// The related table.
    type Target: Table;
    /// Whether the slot holds many records.
    const MANY: bool;
    /// Stores the loaded records (for a one relation, the first of them, if any).
    fn set_loaded(&mut self, records: Vec<Self::Target>);
}

impl<C: Table> RelationSlot for Option<Vec<C>> {
    type Target = C;
    const MANY: bool = true;
    fn set_loaded(&mut self, records: Vec<C>) {
        *self = Some(records);
    }
}

impl<C: Table> RelationSlot for Option<Box<C>> {
    type Target = C;
    const MANY: bool = false;
    fn set_loaded(&mut self, records: Vec<C>) {
        *self = records.into_iter().next().map(Box::new);
    }
}

/// The audit columns of `#[audit]`: Unix milliseconds, filled by Sonic on write.
///
/// Declare it as a field of any table (`#[audit] #[serde(flatten)] audit: Audit`), the way the
/// seed spreads `auditSchema` into each table.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize,
)]
pub struct Audit {
    /// Set once, when the record is inserted.
    pub created_on: i64,
    /// Set at every write.
    pub updated_on: i64,
}

/// A typed handle to a relation of `P` that loads `C` records.
///
/// The derive generates one associated constant per `#[relation]` field (`User::POSTS`); the
/// query layer's `.with(...)` takes it.
pub struct Relation<P, C> {
    index: usize,
    attach: fn(&mut P, Vec<C>),
}

impl<P, C> Clone for Relation<P, C> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<P, C> Copy for Relation<P, C> {}

impl<P: Table, C: Table> Relation<P, C> {
    /// A handle to relation `index` of `P` whose records are stored by `attach` (used by the
    /// derive).
    pub const fn new(index: usize, attach: fn(&mut P, Vec<C>)) -> Self {
        Relation { index, attach }
    }

    /// The relation's definition.
    pub fn def(&self) -> &'static RelationDef {
        &P::DEF.relations[self.index]
    }

    /// Stores loaded records into the parent's relation field.
    pub fn attach(&self, parent: &mut P, records: Vec<C>) {
        (self.attach)(parent, records)
    }
}

impl<P, C> std::fmt::Debug for Relation<P, C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Relation")
            .field("parent", &std::any::type_name::<P>())
            .field("child", &std::any::type_name::<C>())
            .field("index", &self.index)
            .finish()
    }
}
