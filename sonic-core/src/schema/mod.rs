//! The schema model: what `#[derive(Table)]` knows about a struct, as plain static data.
//!
//! Everything else — the SQL compiler, DDL and migrations, the KV cache — reads these
//! definitions; none of it needs the Rust types themselves.

use std::marker::PhantomData;

use crate::error::Error;
use crate::value::{ColumnType, ConvertError, SqlType, Value, F64_EXACT};

mod foreign_keys;
mod memo;
mod set;

pub(crate) use foreign_keys::{Edge, ForeignKeys, OnDelete};
pub(crate) use memo::TableMemo;
pub use set::Schema;

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

    /// Checks that `value` can be stored in column `index` (into [`TableDef::columns`]) of a
    /// record of this table, and returns it as the record would encode it. For values that
    /// arrive untyped, written by column name
    /// ([`UpdateWhere::set_by_name`](crate::query::UpdateWhere::set_by_name)).
    ///
    /// `#[derive(Table)]` reads the value into the field's Rust type and encodes it back, so
    /// whatever a record could not hold is refused (`7` for a `bool`, a text that is not a
    /// variant of a `#[derive(TextEnum)]`, a text that is not JSON for a `Json<T>`, `NULL`
    /// for a field that is not an `Option`), and what is accepted comes back in the field's
    /// storage class (an INTEGER for an `f64` column becomes a REAL). The provided
    /// implementation, for tables implemented by hand, checks the column's declared
    /// [`SqlType`] and nullability ([`ColumnDef::check_value`]).
    ///
    /// A refusal is [`Error::Encode`] naming the table and column; an index out of range
    /// [`Error::UnknownColumn`].
    fn column_from_value(index: usize, value: Value) -> Result<Value, Error> {
        let column = Self::DEF.column_at(index)?;
        column
            .check_value(value)
            .map_err(|e| Error::encode(Self::DEF.name, column.name, e))
    }

    /// The value to store in column `index` for JSON input (a field of a REST body): the
    /// column type's [`ColumnType::value_from_json`] (serde's JSON form of the field's type;
    /// a `Json<T>` takes any JSON document), then [`Table::column_from_value`].
    ///
    /// The provided implementation, for tables implemented by hand, converts by the column's
    /// declared [`SqlType`] ([`Value::from_json`]); `#[derive(Table)]` by the field's type.
    fn column_from_json(index: usize, json: &serde_json::Value) -> Result<Value, Error> {
        let column = Self::DEF.column_at(index)?;
        let value = Value::from_json(json, column.sql_type)
            .map_err(|e| Error::encode(Self::DEF.name, column.name, e))?;
        Self::column_from_value(index, value)
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

    /// The column at `index`, or [`Error::UnknownColumn`] naming the table.
    pub fn column_at(&self, index: usize) -> Result<&'static ColumnDef, Error> {
        self.columns.get(index).ok_or_else(|| Error::UnknownColumn {
            table: self.name.to_string(),
            column: format!("#{index} (the table has {} columns)", self.columns.len()),
        })
    }

    /// The primary key column, or [`Error::UnknownColumn`] when a hand-built definition's
    /// `primary_key` is out of range.
    pub fn primary_key_column(&self) -> Result<&'static ColumnDef, Error> {
        self.column_at(self.primary_key)
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
    /// use sonic_db_core::{ColumnDef, SqlType};
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

impl ColumnDef {
    /// Checks `value` against the column's declared type and nullability, as SQLite would
    /// store it without converting it: `NULL` only if the column is nullable; an INTEGER for
    /// `INTEGER`; a finite REAL for `REAL`, or an INTEGER within ±2^53 (returned as the REAL
    /// it converts to exactly); a TEXT for `TEXT`; a BLOB for `BLOB`.
    ///
    /// This is what a column's [`SqlType`] says; a record's field may accept less (see
    /// [`Table::column_from_value`]).
    ///
    /// ```
    /// use sonic_db_core::{ColumnDef, SqlType, Value};
    /// const VIEWS: ColumnDef = ColumnDef::new("views", "views", SqlType::Integer);
    /// assert_eq!(VIEWS.check_value(Value::Integer(3)), Ok(Value::Integer(3)));
    /// let err = VIEWS.check_value(Value::Text("3".into())).unwrap_err();
    /// assert_eq!(err.to_string(), "expected INTEGER, found TEXT \"3\"");
    /// assert!(VIEWS.check_value(Value::Null).is_err(), "NOT NULL");
    /// ```
    pub fn check_value(&self, value: Value) -> Result<Value, ConvertError> {
        let keyword = self.sql_type.keyword();
        match (self.sql_type, value) {
            (_, Value::Null) if self.nullable => Ok(Value::Null),
            (_, Value::Null) => Err(ConvertError::new(
                format!("{keyword} (the column is NOT NULL)"),
                "NULL",
            )),
            (SqlType::Integer, value @ Value::Integer(_)) => Ok(value),
            (SqlType::Real, Value::Real(r)) if r.is_finite() => Ok(Value::Real(r)),
            (SqlType::Real, Value::Integer(i)) if (-F64_EXACT..=F64_EXACT).contains(&i) => {
                Ok(Value::Real(i as f64))
            }
            (SqlType::Real, value) => Err(ConvertError::new(
                "a finite REAL (or an INTEGER within ±2^53)",
                value.describe(),
            )),
            (SqlType::Text, value @ Value::Text(_)) => Ok(value),
            (SqlType::Blob, value @ Value::Blob(_)) => Ok(value),
            (_, value) => Err(ConvertError::new(keyword, value.describe())),
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
    #[allow(clippy::indexing_slicing)] // handles come from `#[derive(Table)]`, whose indexes are checked at compile time
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
    #[allow(clippy::indexing_slicing)] // handles come from `#[derive(Table)]`, whose indexes are checked at compile time
    pub fn def(&self) -> &'static RelationDef {
        &P::DEF.relations[self.index]
    }

    /// The index of the relation in `P`'s [`TableDef::relations`].
    pub(crate) fn index(&self) -> usize {
        self.index
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A table implemented by hand: the provided conversions go by the declared types.
    struct Note;

    impl Table for Note {
        const DEF: &'static TableDef = &TableDef {
            name: "notes",
            rust_name: "Note",
            columns: &[
                ColumnDef::new("id", "id", SqlType::Integer),
                ColumnDef {
                    nullable: true,
                    ..ColumnDef::new("body", "body", SqlType::Text)
                },
                ColumnDef::new("score", "score", SqlType::Real),
                ColumnDef::new("data", "data", SqlType::Blob),
            ],
            primary_key: 0,
            relations: &[],
        };
        type PrimaryKey = i64;
        fn encode_into(&self, _: &mut Vec<Value>) -> Result<(), Error> {
            Ok(())
        }
        fn column_value(&self, _: usize) -> Result<Value, Error> {
            Ok(Value::Null)
        }
        fn decode(_: &mut [Value]) -> Result<Self, Error> {
            Ok(Note)
        }
        fn touch(&mut self, _: i64, _: bool) {}
    }

    #[test]
    fn hand_written_tables_check_values_by_declared_type() {
        assert_eq!(
            Note::column_from_value(0, Value::Integer(1)).unwrap(),
            Value::Integer(1)
        );
        assert_eq!(
            Note::column_from_value(1, Value::Null).unwrap(),
            Value::Null
        );
        assert_eq!(
            Note::column_from_value(2, Value::Integer(2)).unwrap(),
            Value::Real(2.0)
        );
        for (index, value) in [
            (0, Value::Text("1".into())),
            (0, Value::Null),
            (2, Value::Integer((1 << 53) + 1)),
            (2, Value::Real(f64::NAN)),
            (3, Value::Text("x".into())),
        ] {
            let err = Note::column_from_value(index, value).unwrap_err();
            let column = Note::DEF.columns[index].name;
            assert!(
                matches!(&err, Error::Encode { table, column: c, .. } if table == "notes" && c == column),
                "{err}"
            );
        }
        assert!(matches!(
            Note::column_from_value(9, Value::Null),
            Err(Error::UnknownColumn { .. })
        ));

        let json = serde_json::json!({ "body": "hi", "score": 1.5, "data": [1, 2] });
        assert_eq!(
            Note::column_from_json(1, &json["body"]).unwrap(),
            Value::Text("hi".into())
        );
        assert_eq!(
            Note::column_from_json(2, &json["score"]).unwrap(),
            Value::Real(1.5)
        );
        assert_eq!(
            Note::column_from_json(3, &json["data"]).unwrap(),
            Value::Blob(vec![1, 2])
        );
        assert!(Note::column_from_json(0, &json["body"]).is_err());
        assert!(
            Note::column_from_json(3, &serde_json::Value::Null).is_err(),
            "NOT NULL"
        );
    }
}
