//! The schema model: what `#[derive(Table)]` knows about a struct, as plain static data.
//!
//! Everything else — the SQL compiler, DDL and migrations, the KV cache — reads these
//! definitions; none of it needs the Rust types themselves.

use std::marker::PhantomData;

use crate::error::Error;
use crate::value::{ConvertError, Key, Param, SqlType, Value, F64_EXACT};

mod audit;
mod constraints;
mod foreign_keys;
mod memo;
mod one;
mod set;
mod through;

pub use audit::{Audit, AuditFields, AuditRole, NullableAudit};
pub use constraints::{check_name, composite_name, Constraints};
pub(crate) use foreign_keys::{Edge, ForeignKeys, OnDelete};
pub(crate) use memo::{TableMemo, TextMemo};

#[cfg(test)]
pub(crate) mod fixtures;

/// A table without columns, for unit tests that need a definition and nothing of it.
#[cfg(test)]
pub(crate) static EMPTY_NOTES: TableDef = TableDef {
    name: "notes",
    rust_name: "Note",
    columns: &[],
    primary_key: &[0],
    relations: &[],
    constraints: Constraints::NONE,
};
pub use one::One;
pub use set::Schema;
pub use through::ThroughDef;

/// A table: one `#[derive(Table)]` struct.
///
/// The derive implements it; the methods are what the query layer calls to move records in and
/// out of rows. Columns are always addressed by their index in [`TableDef::columns`].
///
/// ```
/// # #[cfg(feature = "derive")] {
/// # use sonic_db_core::{Error, Value};
/// # #[derive(Debug, Clone, PartialEq, sonic_db_core::Table)]
/// # #[table(name = "posts")]
/// # struct Post { #[column(primary_key)] id: String, title: String, views: i64, body: Option<String> }
/// use sonic_db_core::Table;
///
/// // What the query layer does with a record: a row of values, and back.
/// let post = Post { id: "p1".into(), title: "Hello".into(), views: 3, body: None };
/// let mut row = Vec::new();
/// post.encode_into(&mut row)?;
/// assert_eq!(row.len(), Post::DEF.columns.len());
/// assert_eq!(Post::decode(&mut row)?, post);
/// # }
/// # Ok::<(), sonic_db_core::Error>(())
/// ```
pub trait Table: Sized + Send + Sync + 'static {
    /// The static description of the table.
    const DEF: &'static TableDef;
    /// The Rust type of the primary key: the key column's type, or for a composite key the
    /// tuple of its columns' types, in key order (what [`Db::find`](crate::Db::find) takes).
    type PrimaryKey: Key + Send + Sync;

    /// Appends the record's column values, in [`TableDef::columns`] order, to `out`.
    ///
    /// ```
    /// # #[cfg(feature = "derive")] {
    /// # use sonic_db_core::{Error, Value};
    /// # #[derive(Debug, Clone, PartialEq, sonic_db_core::Table)]
    /// # #[table(name = "posts")]
    /// # struct Post { #[column(primary_key)] id: String, title: String, views: i64, body: Option<String> }
    /// use sonic_db_core::Table;
    ///
    /// let mut row = Vec::new();
    /// Post { id: "p1".into(), title: "Hi".into(), views: 3, body: None }.encode_into(&mut row)?;
    /// let text = |s: &str| Value::Text(s.into());
    /// assert_eq!(row, [text("p1"), text("Hi"), Value::Integer(3), Value::Null]);
    /// # }
    /// # Ok::<(), sonic_db_core::Error>(())
    /// ```
    fn encode_into(&self, out: &mut Vec<Value>) -> Result<(), Error>;

    /// [`Table::encode_into`], borrowing each value from the record where its field holds it
    /// as bound ([`ToValue::to_param`](crate::ToValue::to_param)): what inserts bind, so that
    /// they do not copy their records' strings. `#[derive(Table)]` implements it; the default
    /// encodes owned values.
    ///
    /// ```
    /// # #[cfg(feature = "derive")] {
    /// # #[derive(Debug, Clone, PartialEq, sonic_db_core::Table)]
    /// # #[table(name = "posts")]
    /// # struct Post { #[column(primary_key)] id: String, title: String, views: i64, body: Option<String> }
    /// use sonic_db_core::value::{Cell, Param};
    /// use sonic_db_core::Table;
    ///
    /// let post = Post { id: "p1".into(), title: "Hi".into(), views: 3, body: None };
    /// let mut row = Vec::new();
    /// post.encode_params(&mut row)?;
    /// assert_eq!(row[1], Param::Borrowed(Cell::Text("Hi")));
    /// # }
    /// # Ok::<(), sonic_db_core::Error>(())
    /// ```
    fn encode_params<'a>(&'a self, out: &mut Vec<Param<'a>>) -> Result<(), Error> {
        let mut values = Vec::with_capacity(Self::DEF.columns.len());
        self.encode_into(&mut values)?;
        out.extend(values.into_iter().map(Param::Owned));
        Ok(())
    }

    /// The value of one column (index into [`TableDef::columns`]).
    ///
    /// ```
    /// # #[cfg(feature = "derive")] {
    /// # use sonic_db_core::{Error, Value};
    /// # #[derive(Debug, Clone, PartialEq, sonic_db_core::Table)]
    /// # #[table(name = "posts")]
    /// # struct Post { #[column(primary_key)] id: String, title: String, views: i64, body: Option<String> }
    /// use sonic_db_core::Table;
    ///
    /// let post = Post { id: "p1".into(), title: "Hi".into(), views: 3, body: None };
    /// assert_eq!(post.column_value(Post::VIEWS.index())?, Value::Integer(3));
    /// assert!(matches!(post.column_value(99), Err(Error::UnknownColumn { .. })));
    /// # }
    /// # Ok::<(), sonic_db_core::Error>(())
    /// ```
    fn column_value(&self, index: usize) -> Result<Value, Error>;

    /// Builds a record from one row whose values are in [`TableDef::columns`] order.
    ///
    /// Values are taken out of the slice (left as `Null`). Relations start unloaded. Where
    /// numbers cross JavaScript (D1, Durable Objects) an INTEGER column arrives as its decimal
    /// text (#12 item 3): a hand-written implementation reads each column with
    /// [`decode_column`](crate::value::decode_column), as the derived one does.
    ///
    /// ```
    /// # #[cfg(feature = "derive")] {
    /// # use sonic_db_core::{Error, Value};
    /// # #[derive(Debug, Clone, PartialEq, sonic_db_core::Table)]
    /// # #[table(name = "posts")]
    /// # struct Post { #[column(primary_key)] id: String, title: String, views: i64, body: Option<String> }
    /// use sonic_db_core::Table;
    ///
    /// let text = |s: &str| Value::Text(s.into());
    /// let mut row = vec![text("p1"), text("Hi"), Value::Integer(3), Value::Null];
    /// let post = Post::decode(&mut row)?;
    /// assert_eq!((post.views, row[2].clone()), (3, Value::Null)); // taken out
    /// let mut bad = vec![Value::Integer(1), Value::Null, Value::Integer(3), Value::Null];
    /// assert!(matches!(Post::decode(&mut bad), Err(Error::Decode { .. }))); // NULL title
    /// # }
    /// # Ok::<(), sonic_db_core::Error>(())
    /// ```
    fn decode(row: &mut [Value]) -> Result<Self, Error>;

    /// Builds a record from a row lent by the backend, reading its cells by position in
    /// [`TableDef::columns`] order: the read path of typed queries, with no [`Value`] per
    /// cell. `#[derive(Table)]` generates it; the provided implementation, for tables
    /// implemented by hand, copies the cells into values and calls [`Table::decode`].
    ///
    /// ```
    /// # #[cfg(feature = "derive")] {
    /// # use sonic_db_core::{Error, Value};
    /// # #[derive(Debug, Clone, PartialEq, sonic_db_core::Table)]
    /// # #[table(name = "posts")]
    /// # struct Post { #[column(primary_key)] id: String, title: String, views: i64, body: Option<String> }
    /// use sonic_db_core::Table;
    ///
    /// let text = |s: &str| Value::Text(s.into());
    /// let row = vec![text("p1"), text("Hi"), Value::Integer(3), Value::Null];
    /// let post = Post::decode_row(&row)?;
    /// assert_eq!((post.title.as_str(), post.views), ("Hi", 3));
    /// let bad = vec![text("p1"), Value::Null, Value::Integer(3), Value::Null];
    /// let err = Post::decode_row(&bad).unwrap_err(); // NULL title
    /// assert!(err.to_string().contains("`posts`.`title` of the row with key TEXT \"p1\""), "{err}");
    /// # }
    /// # Ok::<(), sonic_db_core::Error>(())
    /// ```
    fn decode_row<R: crate::row::Row + ?Sized>(row: &R) -> Result<Self, Error> {
        let mut values: Vec<Value> = (0..row.width())
            .map(|i| {
                row.cell(i)
                    .map_or(Value::Null, crate::value::Cell::to_value)
            })
            .collect();
        Self::decode(&mut values)
    }

    /// Fills the audit columns for a write at `now_ms` (Unix milliseconds): `updated_on`
    /// always, `created_on` only when `inserting`. A no-op for tables without `#[audit]`.
    ///
    /// ```
    /// # #[cfg(feature = "derive")] {
    /// use sonic_db_core::{Audit, Table};
    /// # #[derive(sonic_db_core::Table)]
    /// # struct Note { #[column(primary_key)] id: i64, #[audit] audit: Audit }
    ///
    /// let mut note = Note { id: 1, audit: Audit::default() };
    /// note.touch(1_000, true); // an insert
    /// note.touch(2_000, false); // a later update
    /// assert_eq!(note.audit, Audit { created_on: 1_000, updated_on: 2_000 });
    /// # }
    /// ```
    fn touch(&mut self, now_ms: i64, inserting: bool);

    /// The table's former name (`#[table(renamed_from = "old")]`): a migration generated
    /// while the snapshot still has `old` renames the table (`ALTER TABLE … RENAME TO`)
    /// instead of dropping it with its rows. [`Schema::table`] records it.
    ///
    /// ```
    /// # #[cfg(feature = "derive")] {
    /// use sonic_db_core::Table;
    ///
    /// #[derive(sonic_db_core::Table)]
    /// #[table(name = "articles", renamed_from = "posts")]
    /// struct Article { #[column(primary_key)] id: String }
    ///
    /// assert_eq!(Article::RENAMED_FROM, Some("posts"));
    /// # }
    /// ```
    const RENAMED_FROM: Option<&'static str> = None;

    /// The primary key value, ready to bind.
    ///
    /// ```
    /// # #[cfg(feature = "derive")] {
    /// # use sonic_db_core::{Error, Value};
    /// # #[derive(Debug, Clone, PartialEq, sonic_db_core::Table)]
    /// # #[table(name = "posts")]
    /// # struct Post { #[column(primary_key)] id: String, title: String, views: i64, body: Option<String> }
    /// use sonic_db_core::Table;
    ///
    /// let post = Post { id: "p1".into(), title: "Hi".into(), views: 3, body: None };
    /// assert_eq!(post.primary_key_value()?, Value::Text("p1".into()));
    /// # }
    /// # Ok::<(), sonic_db_core::Error>(())
    /// ```
    fn primary_key_value(&self) -> Result<Value, Error> {
        self.column_value(Self::DEF.single_key("`primary_key_value`")?)
    }

    /// The values of every primary key column, in key order: one for a single-column key,
    /// the tuple's parts for a composite key.
    ///
    /// ```
    /// # #[cfg(feature = "derive")] {
    /// use sonic_db_core::{Table, Value};
    /// #[derive(sonic_db_core::Table)]
    /// #[table(name = "post_tags", primary_key(post_id, tag))]
    /// struct PostTag { post_id: i64, tag: String }
    ///
    /// let row = PostTag { post_id: 7, tag: "rust".into() };
    /// assert_eq!(row.key_values()?, [Value::Integer(7), Value::Text("rust".into())]);
    /// # }
    /// # Ok::<(), sonic_db_core::Error>(())
    /// ```
    fn key_values(&self) -> Result<Vec<Value>, Error> {
        Self::DEF
            .primary_key
            .iter()
            .map(|i| self.column_value(*i))
            .collect()
    }

    /// The value that identifies this record in the KV cache and the transaction log
    /// ([`TableDef::record_id`]): its key, or for a composite key one text spelling every
    /// part unambiguously.
    ///
    /// ```
    /// # #[cfg(feature = "derive")] {
    /// use sonic_db_core::{Table, Value};
    /// #[derive(sonic_db_core::Table)]
    /// #[table(name = "post_tags", primary_key(post_id, tag))]
    /// struct PostTag { post_id: i64, tag: String }
    ///
    /// let link = PostTag { post_id: 7, tag: "rust".into() };
    /// assert_eq!(link.record_id()?, Value::Text("2:i75:trust".into()));
    /// # }
    /// # Ok::<(), sonic_db_core::Error>(())
    /// ```
    fn record_id(&self) -> Result<Value, Error> {
        match Self::DEF.primary_key {
            [one] => self.column_value(*one),
            _ => Ok(Self::DEF.record_id(self.key_values()?)),
        }
    }

    /// Checks that `value` can be stored in column `index` (into [`TableDef::columns`]) of a
    /// record of this table, and returns it as the record would encode it. For values that
    /// arrive untyped, written by column name
    /// (`UpdateWhere::set_by_name`).
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
    ///
    /// ```
    /// # #[cfg(feature = "derive")] {
    /// # use sonic_db_core::{Error, Value};
    /// # #[derive(Debug, Clone, PartialEq, sonic_db_core::Table)]
    /// # #[table(name = "posts")]
    /// # struct Post { #[column(primary_key)] id: String, title: String, views: i64, body: Option<String> }
    /// use sonic_db_core::Table;
    ///
    /// let views = Post::VIEWS.index();
    /// assert_eq!(Post::column_from_value(views, Value::Integer(7))?, Value::Integer(7));
    /// let text = Post::column_from_value(views, Value::Text("7".into()));
    /// assert!(matches!(text, Err(Error::Encode { .. })));
    /// let null = Post::column_from_value(Post::TITLE.index(), Value::Null);
    /// assert!(null.is_err()); // `title` is not an Option
    /// # }
    /// # Ok::<(), sonic_db_core::Error>(())
    /// ```
    fn column_from_value(index: usize, value: Value) -> Result<Value, Error> {
        let column = Self::DEF.column_at(index)?;
        column
            .check_value(value)
            .map_err(|e| Error::encode(Self::DEF.name, column.name, e))
    }

    /// The value to store in column `index` for JSON input (a field of a REST body): the
    /// column type's [`ColumnType::value_from_json`](crate::value::ColumnType::value_from_json) (serde's JSON form of the field's type;
    /// a `Json<T>` takes any JSON document), then [`Table::column_from_value`].
    ///
    /// The provided implementation, for tables implemented by hand, converts by the column's
    /// declared [`SqlType`] ([`Value::from_json`]); `#[derive(Table)]` by the field's type.
    ///
    /// ```
    /// # #[cfg(feature = "derive")] {
    /// # use sonic_db_core::{Error, Value};
    /// # #[derive(Debug, Clone, PartialEq, sonic_db_core::Table)]
    /// # #[table(name = "posts")]
    /// # struct Post { #[column(primary_key)] id: String, title: String, views: i64, body: Option<String> }
    /// use serde_json::json;
    /// use sonic_db_core::Table;
    ///
    /// let body = Post::BODY.index();
    /// assert_eq!(Post::column_from_json(body, &json!("Hi"))?, Value::Text("Hi".into()));
    /// assert_eq!(Post::column_from_json(body, &json!(null))?, Value::Null); // an Option
    /// assert!(Post::column_from_json(Post::VIEWS.index(), &json!("3")).is_err());
    /// # }
    /// # Ok::<(), sonic_db_core::Error>(())
    /// ```
    fn column_from_json(index: usize, json: &serde_json::Value) -> Result<Value, Error> {
        let column = Self::DEF.column_at(index)?;
        let value = Value::from_json(json, column.sql_type)
            .map_err(|e| Error::encode(Self::DEF.name, column.name, e))?;
        Self::column_from_value(index, value)
    }
}

/// The static description of a table.
///
/// ```
/// # #[cfg(feature = "derive")] {
/// # use sonic_db_core::{Error, Value};
/// # #[derive(Debug, Clone, PartialEq, sonic_db_core::Table)]
/// # #[table(name = "posts")]
/// # struct Post { #[column(primary_key)] id: String, title: String, views: i64, body: Option<String> }
/// use sonic_db_core::Table;
///
/// let def = Post::DEF; // generated by `#[derive(Table)]`
/// assert_eq!((def.name, def.rust_name), ("posts", "Post"));
/// let names: Vec<&str> = def.columns.iter().map(|c| c.name).collect();
/// assert_eq!(names, ["id", "title", "views", "body"]);
/// # }
/// # Ok::<(), sonic_db_core::Error>(())
/// ```
#[derive(Debug)]
pub struct TableDef {
    /// SQL name of the table.
    pub name: &'static str,
    /// Name of the Rust type, for messages.
    pub rust_name: &'static str,
    /// Stored columns, in declaration order (audit columns where `#[audit]` stands).
    pub columns: &'static [ColumnDef],
    /// Indexes in `columns` of the primary key: one for a single-column key (`&[0]`), two or
    /// more, in key order, for a composite key (`#[table(primary_key(a, b))]`). A slice, so
    /// that no code can read a composite key by its first column only.
    pub primary_key: &'static [usize],
    /// Relations declared with `#[relation(...)]`.
    pub relations: &'static [RelationDef],
    /// Table-level keys and constraints ([`Constraints::NONE`] for none).
    pub constraints: Constraints,
}

impl TableDef {
    /// The index of the column with this SQL name.
    ///
    /// ```
    /// # #[cfg(feature = "derive")] {
    /// # use sonic_db_core::{Error, Value};
    /// # #[derive(Debug, Clone, PartialEq, sonic_db_core::Table)]
    /// # #[table(name = "posts")]
    /// # struct Post { #[column(primary_key)] id: String, title: String, views: i64, body: Option<String> }
    /// use sonic_db_core::Table;
    ///
    /// assert_eq!(Post::DEF.column_index("views"), Some(Post::VIEWS.index()));
    /// assert_eq!(Post::DEF.column_index("nope"), None);
    /// # }
    /// # Ok::<(), sonic_db_core::Error>(())
    /// ```
    pub fn column_index(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c.name == name)
    }

    /// The column with this SQL name.
    ///
    /// ```
    /// # #[cfg(feature = "derive")] {
    /// # use sonic_db_core::{Error, Value};
    /// # #[derive(Debug, Clone, PartialEq, sonic_db_core::Table)]
    /// # #[table(name = "posts")]
    /// # struct Post { #[column(primary_key)] id: String, title: String, views: i64, body: Option<String> }
    /// use sonic_db_core::{SqlType, Table};
    ///
    /// let body = Post::DEF.column("body").unwrap();
    /// assert_eq!((body.sql_type, body.nullable), (SqlType::Text, true));
    /// # }
    /// # Ok::<(), sonic_db_core::Error>(())
    /// ```
    pub fn column(&self, name: &str) -> Option<&'static ColumnDef> {
        self.columns.iter().find(|c| c.name == name)
    }

    /// The column with this SQL name, or [`Error::UnknownColumn`] naming the table.
    ///
    /// ```
    /// # #[cfg(feature = "derive")] {
    /// # use sonic_db_core::{Error, Value};
    /// # #[derive(Debug, Clone, PartialEq, sonic_db_core::Table)]
    /// # #[table(name = "posts")]
    /// # struct Post { #[column(primary_key)] id: String, title: String, views: i64, body: Option<String> }
    /// use sonic_db_core::Table;
    ///
    /// assert_eq!(Post::DEF.require_column("title")?, 1);
    /// let err = Post::DEF.require_column("password").unwrap_err();
    /// assert_eq!(err.to_string(), "table `posts` has no column `password`");
    /// # }
    /// # Ok::<(), sonic_db_core::Error>(())
    /// ```
    pub fn require_column(&self, name: &str) -> Result<usize, Error> {
        self.column_index(name).ok_or_else(|| Error::UnknownColumn {
            table: self.name.to_string(),
            column: name.to_string(),
        })
    }

    /// The column at `index`, or [`Error::UnknownColumn`] naming the table.
    ///
    /// ```
    /// # #[cfg(feature = "derive")] {
    /// # use sonic_db_core::{Error, Value};
    /// # #[derive(Debug, Clone, PartialEq, sonic_db_core::Table)]
    /// # #[table(name = "posts")]
    /// # struct Post { #[column(primary_key)] id: String, title: String, views: i64, body: Option<String> }
    /// use sonic_db_core::Table;
    ///
    /// assert_eq!(Post::DEF.column_at(2)?.name, "views");
    /// assert!(matches!(Post::DEF.column_at(9), Err(Error::UnknownColumn { .. })));
    /// # }
    /// # Ok::<(), sonic_db_core::Error>(())
    /// ```
    #[inline]
    pub fn column_at(&self, index: usize) -> Result<&'static ColumnDef, Error> {
        match self.columns.get(index) {
            Some(column) => Ok(column),
            None => Err(self.no_column_at(index)),
        }
    }

    #[cold]
    fn no_column_at(&self, index: usize) -> Error {
        Error::UnknownColumn {
            table: self.name.to_string(),
            column: format!("#{index} (the table has {} columns)", self.columns.len()),
        }
    }

    /// The primary key column, or [`Error::UnknownColumn`] when a hand-built definition's
    /// `primary_key` is out of range.
    ///
    /// ```
    /// # #[cfg(feature = "derive")] {
    /// # use sonic_db_core::{Error, Value};
    /// # #[derive(Debug, Clone, PartialEq, sonic_db_core::Table)]
    /// # #[table(name = "posts")]
    /// # struct Post { #[column(primary_key)] id: String, title: String, views: i64, body: Option<String> }
    /// use sonic_db_core::Table;
    ///
    /// let key = Post::DEF.primary_key_column()?;
    /// assert!(key.primary_key && key.name == "id");
    /// # }
    /// # Ok::<(), sonic_db_core::Error>(())
    /// ```
    pub fn primary_key_column(&self) -> Result<&'static ColumnDef, Error> {
        self.column_at(self.single_key("one primary key column")?)
    }

    /// Whether the primary key spans two or more columns (`#[table(primary_key(a, b))]`).
    ///
    /// ```
    /// # #[cfg(feature = "derive")] {
    /// use sonic_db_core::Table;
    /// #[derive(sonic_db_core::Table)]
    /// #[table(name = "post_tags", primary_key(post_id, tag))]
    /// struct PostTag { post_id: i64, tag: String }
    ///
    /// assert!(PostTag::DEF.has_composite_key());
    /// assert_eq!(PostTag::DEF.primary_key, [0, 1]);
    /// # }
    /// ```
    pub fn has_composite_key(&self) -> bool {
        self.primary_key.len() > 1
    }

    /// The index of the one primary key column, for the operations that address a record by
    /// one key value; for a composite key, [`Error::Unsupported`] naming the table, its key
    /// columns and `operation`, so that no code reads a composite key by its first column.
    ///
    /// ```
    /// # #[cfg(feature = "derive")] {
    /// use sonic_db_core::{Error, Table};
    /// #[derive(sonic_db_core::Table)]
    /// #[table(name = "post_tags", primary_key(post_id, tag))]
    /// struct PostTag { post_id: i64, tag: String }
    ///
    /// let err = PostTag::DEF.single_key("this operation").unwrap_err();
    /// assert!(matches!(err, Error::Unsupported(_)));
    /// assert!(err.to_string().contains("(`post_id`, `tag`)"), "{err}");
    /// # }
    /// ```
    #[inline]
    pub fn single_key(&self, operation: &str) -> Result<usize, Error> {
        match self.primary_key {
            [one] => Ok(*one),
            columns => Err(self.not_single_key(columns, operation)),
        }
    }

    #[cold]
    fn not_single_key(&self, columns: &[usize], operation: &str) -> Error {
        if columns.is_empty() {
            return Error::InvalidQuery(format!("`{}` has no primary key column", self.name));
        }
        Error::Unsupported(format!(
            "`{}` has a composite primary key ({}): {operation} needs a single-column key",
            self.name,
            self.key_names(columns)
        ))
    }

    /// `` `a`, `b` `` for key columns `columns`.
    fn key_names(&self, columns: &[usize]) -> String {
        let mut names = String::new();
        for (n, i) in columns.iter().enumerate() {
            if n > 0 {
                names.push_str(", ");
            }
            names.push('`');
            names.push_str(self.columns.get(*i).map_or("?", |c| c.name));
            names.push('`');
        }
        names
    }

    /// The primary key's columns, in key order, or [`Error::UnknownColumn`] when a
    /// hand-built definition names a column out of range.
    ///
    /// ```
    /// # #[cfg(feature = "derive")] {
    /// use sonic_db_core::Table;
    /// #[derive(sonic_db_core::Table)]
    /// #[table(name = "post_tags", primary_key(post_id, tag))]
    /// struct PostTag { post_id: i64, tag: String }
    ///
    /// let names: Vec<_> = PostTag::DEF.key_columns()?.iter().map(|c| c.name).collect();
    /// assert_eq!(names, ["post_id", "tag"]);
    /// # }
    /// # Ok::<(), sonic_db_core::Error>(())
    /// ```
    pub fn key_columns(&self) -> Result<Vec<&'static ColumnDef>, Error> {
        self.primary_key
            .iter()
            .map(|i| self.column_at(*i))
            .collect()
    }

    /// Whether column `index` is part of the primary key.
    pub fn is_key_column(&self, index: usize) -> bool {
        self.primary_key.contains(&index)
    }

    /// The key parts of `row` (values in column order), in key order.
    pub(crate) fn key_of_row(&self, row: &[Value]) -> Vec<Value> {
        self.primary_key
            .iter()
            .map(|i| row.get(*i).cloned().unwrap_or(Value::Null))
            .collect()
    }

    /// The one value that identifies a record by its key parts (in key order), as the KV
    /// cache ([`KvCache::key_of`](crate::KvCache::key_of), `peek`, `invalidate`) and the
    /// transaction log name records: the key itself for a single-column key; for a composite
    /// key a text spelling every part with its storage class and its length (`("a:b", "c")`
    /// is `4:ta:b2:tc`, `("a", "b:c")` is `2:ta4:tb:c`), so that two different tuples never
    /// share it. `NULL` when a part is `NULL` (no record has one). Only compared within one
    /// table, whose ids are all of one form. [`Table::record_id`] gives a record's.
    ///
    /// ```
    /// # #[cfg(feature = "derive")] {
    /// use sonic_db_core::{Table, Value};
    /// #[derive(sonic_db_core::Table)]
    /// #[table(name = "post_tags", primary_key(post_id, tag))]
    /// struct PostTag { post_id: i64, tag: String }
    ///
    /// let id = PostTag::DEF.record_id(vec![Value::Integer(7), Value::Text("a:b".into())]);
    /// assert_eq!(id, Value::Text("2:i74:ta:b".into()));
    /// # }
    /// ```
    pub fn record_id(&self, mut parts: Vec<Value>) -> Value {
        if parts.len() == 1 && self.primary_key.len() == 1 {
            return parts.pop().unwrap_or(Value::Null);
        }
        let mut id = String::new();
        for part in &parts {
            let tagged = match part {
                Value::Null => return Value::Null,
                Value::Integer(i) => format!("i{i}"),
                Value::Real(r) => format!("r{r:?}"),
                Value::Text(t) => format!("t{t}"),
                Value::Blob(b) => format!("x{}", hex::encode(b)),
            };
            id.push_str(&tagged.len().to_string());
            id.push(':');
            id.push_str(&tagged);
        }
        Value::Text(id)
    }

    /// The record ids of the rows of a query of this table's key columns (`values` row after
    /// row, one value per key column in key order): an INTEGER part read as its decimal text
    /// where integers cross JavaScript becomes the INTEGER again, and for a composite key
    /// each row's parts become its [`record_id`](TableDef::record_id).
    pub(crate) fn ids_of_key_rows(&self, mut values: Vec<Value>) -> Vec<Value> {
        match self.primary_key {
            [one] => {
                if let Some(key) = self.columns.get(*one) {
                    crate::value::integers_from_text(key.sql_type, &mut values);
                }
                values
            }
            keys => {
                let width = keys.len().max(1);
                let mut ids = Vec::with_capacity(values.len() / width);
                let mut parts = Vec::with_capacity(width);
                for (i, value) in values.into_iter().enumerate() {
                    let mut one = vec![value];
                    if let Some(column) = keys.get(i % width).and_then(|c| self.columns.get(*c)) {
                        crate::value::integers_from_text(column.sql_type, &mut one);
                    }
                    parts.extend(one);
                    if parts.len() == width {
                        ids.push(self.record_id(std::mem::take(&mut parts)));
                    }
                }
                ids
            }
        }
    }

    /// Refuses a key of `parts` values that is not one per key column.
    pub(crate) fn check_key_parts(&self, parts: usize) -> Result<(), Error> {
        if parts == 0 || parts != self.primary_key.len() {
            return Err(Error::InvalidQuery(format!(
                "`{}` has a primary key of {} columns; the key given has {parts} values",
                self.name,
                self.primary_key.len()
            )));
        }
        Ok(())
    }

    /// Whether `row` (values in column order) is the record of id `id`.
    pub(crate) fn row_has_id(&self, row: &[Value], id: &Value) -> bool {
        match self.primary_key {
            [one] => row.get(*one) == Some(id),
            _ => self.record_id(self.key_of_row(row)) == *id,
        }
    }

    /// Whether `id` can be a record id of this table ([`TableDef::record_id`]): any value for
    /// a single-column key; for a composite key, a text spelling exactly one part per key
    /// column, so that a bare part is never taken for a whole key.
    pub(crate) fn is_record_id(&self, id: &Value) -> bool {
        if self.primary_key.len() <= 1 {
            return true;
        }
        let Value::Text(mut rest) = id.clone() else {
            return false;
        };
        let mut parts = 0;
        while !rest.is_empty() {
            let Some((len, tail)) = rest.split_once(':') else {
                return false;
            };
            let Ok(len) = len.parse::<usize>() else {
                return false;
            };
            let (Some(part), Some(after)) = (tail.get(..len), tail.get(len..)) else {
                return false;
            };
            if !matches!(part.chars().next(), Some('i' | 'r' | 't' | 'x')) {
                return false;
            }
            parts += 1;
            rest = after.to_string();
        }
        parts == self.primary_key.len()
    }

    /// The relation with this (field) name.
    ///
    /// ```
    /// # #[cfg(feature = "derive")] {
    /// # #[derive(Clone, sonic_db_core::Table)]
    /// # struct User { #[column(primary_key)] id: String, #[relation(many, remote = user_id)] posts: Option<Vec<Post>> }
    /// # #[derive(Clone, sonic_db_core::Table)]
    /// # struct Post { #[column(primary_key)] id: String, #[column(references = User::ID)] user_id: String }
    /// use sonic_db_core::{RelationKind, Table};
    ///
    /// let posts = User::DEF.relation("posts").unwrap();
    /// assert_eq!(((posts.target)().name, posts.kind), ("posts", RelationKind::Many));
    /// assert!(User::DEF.relation("comments").is_none());
    /// # }
    /// ```
    pub fn relation(&self, name: &str) -> Option<&'static RelationDef> {
        self.relations.iter().find(|r| r.name == name)
    }

    /// The index of the column playing this audit role, if the table has `#[audit]`.
    ///
    /// ```
    /// # #[cfg(feature = "derive")] {
    /// use sonic_db_core::{Audit, AuditRole, Table};
    /// # #[derive(sonic_db_core::Table)]
    /// # struct Note { #[column(primary_key)] id: i64, #[audit] audit: Audit }
    ///
    /// let updated = Note::DEF.audit_column(AuditRole::Updated);
    /// assert_eq!(updated, Some(Note::UPDATED_ON.index()));
    /// # }
    /// ```
    pub fn audit_column(&self, role: AuditRole) -> Option<usize> {
        self.columns.iter().position(|c| c.audit == Some(role))
    }
}

/// The index of `def`'s one primary key column, for the relations `#[derive(Table)]` joins
/// on a related table's key (a composite key is refused at compile time where the relation
/// is declared; here it gives an index no column has, so a lookup fails with
/// [`Error::UnknownColumn`] rather than use a part of the key). Not a public API.
#[doc(hidden)]
pub const fn single_key_index(def: &TableDef) -> usize {
    match def.primary_key {
        [one] => *one,
        _ => usize::MAX,
    }
}

/// The static description of one column.
///
/// ```
/// # #[cfg(feature = "derive")] {
/// # use sonic_db_core::{Error, Value};
/// # #[derive(Debug, Clone, PartialEq, sonic_db_core::Table)]
/// # #[table(name = "posts")]
/// # struct Post { #[column(primary_key)] id: String, title: String, views: i64, body: Option<String> }
/// use sonic_db_core::{SqlType, Table};
///
/// let views = Post::VIEWS.def();
/// assert_eq!((views.sql_type, views.nullable, views.unique), (SqlType::Integer, false, false));
/// # }
/// # Ok::<(), sonic_db_core::Error>(())
/// ```
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
    /// Whether this is the primary key, or a part of a composite one
    /// ([`TableDef::primary_key`] says which).
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
    /// Write-only (`#[column(secret)]`, e.g. a password hash): stored and written as any
    /// column, but never shown by APIs built on the schema (sonic-db-api leaves it out of every
    /// response and refuses filters and sorts on it).
    pub secret: bool,
    /// The column's former name (`#[column(renamed_from = "old")]`): a migration generated
    /// while the snapshot still has `old` renames it instead of dropping it with its data.
    pub renamed_from: Option<&'static str>,
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
            secret: false,
            renamed_from: None,
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

/// A `REFERENCES` clause.
///
/// ```
/// # #[cfg(feature = "derive")] {
/// # #[derive(sonic_db_core::Table)]
/// # struct User { #[column(primary_key)] id: String }
/// # #[derive(sonic_db_core::Table)]
/// # struct Post { #[column(primary_key)] id: String, #[column(references = User::ID, on_delete = "cascade")] user_id: String }
/// // `#[column(references = User::ID, on_delete = "cascade")] user_id: String`
/// let fk = Post::USER_ID.def().references.unwrap();
/// let (table, column) = (fk.target)();
/// assert_eq!((table.name, column.name, fk.on_delete), ("users", "id", Some("CASCADE")));
/// # }
/// ```
#[derive(Debug, Clone, Copy)]
pub struct ForeignKey {
    /// The referenced table and column. A function, so that tables can refer to each other.
    pub target: fn() -> (&'static TableDef, &'static ColumnDef),
    /// `ON DELETE` action (`CASCADE`, `SET NULL`, `RESTRICT`, …), if any.
    pub on_delete: Option<&'static str>,
}

/// Whether a relation loads one record or many.
///
/// ```
/// # #[cfg(feature = "derive")] {
/// # #[derive(Clone, sonic_db_core::Table)]
/// # struct User { #[column(primary_key)] id: String }
/// # #[derive(Clone, sonic_db_core::Table)]
/// # struct Post { #[column(primary_key)] id: String, user_id: String, #[relation(one, local = user_id)] author: sonic_db_core::One<User> }
/// use sonic_db_core::RelationKind;
///
/// // `#[relation(one, local = user_id)] author: One<User>`
/// assert_eq!(Post::AUTHOR.def().kind, RelationKind::One);
/// # }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RelationKind {
    /// A post has one author: `local` (here) references `remote` (there).
    One,
    /// A user has many posts: `remote` (there) references `local` (here).
    Many,
}

/// A relation declared with `#[relation(...)]`.
///
/// ```
/// # #[cfg(feature = "derive")] {
/// # #[derive(Clone, sonic_db_core::Table)]
/// # struct User { #[column(primary_key)] id: String, #[relation(many, remote = user_id)] posts: Option<Vec<Post>> }
/// # #[derive(Clone, sonic_db_core::Table)]
/// # struct Post { #[column(primary_key)] id: String, user_id: String }
/// // `#[relation(many, remote = user_id)] posts: Option<Vec<Post>>` on `User`
/// let posts = User::POSTS.def();
/// assert_eq!(posts.local, User::ID.index()); // users.id = posts.user_id
/// assert_eq!((posts.remote)(), Post::USER_ID.index());
/// # }
/// ```
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
    /// Index of the joining column in the related table (for a many-to-many relation, its
    /// primary key).
    pub remote: fn() -> usize,
    /// The join table of a many-to-many relation (`#[relation(many, through = ..)]`), else
    /// `None`.
    pub through: Option<ThroughDef>,
}

/// A typed handle to a column of `T` whose values compare with `V`.
///
/// The derive generates one associated constant per column (`User::EMAIL`), so a misspelt
/// column is a compile error. Filters and orderings are built from these handles.
///
/// The examples of its operators run on a table `posts` (`id`, `title`, `views`, a nullable
/// `body`) holding `p1` "Hello" (3 views, body "First!"), `p2` "Again" (40 views) and `p3`
/// "Bye" (7 views); their setup lines are hidden.
///
/// ```
/// # #[cfg(feature = "derive")] {
/// # use sonic_db_core::{Error, Value};
/// # #[derive(Debug, Clone, PartialEq, sonic_db_core::Table)]
/// # #[table(name = "posts")]
/// # struct Post { #[column(primary_key)] id: String, title: String, views: i64, body: Option<String> }
/// let filter = Post::VIEWS.gt(5) & Post::BODY.is_not_null(); // a Filter<Post>
/// assert_eq!(filter, Post::VIEWS.gt(5).and(Post::BODY.is_not_null()));
/// assert_eq!(Post::TITLE.asc(), sonic_db_core::Order::parse("title:asc")?); // an Order<Post>
/// # }
/// # Ok::<(), sonic_db_core::Error>(())
/// ```
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
    ///
    /// ```
    /// # #[cfg(feature = "derive")] {
    /// # use sonic_db_core::{Error, Value};
    /// # #[derive(Debug, Clone, PartialEq, sonic_db_core::Table)]
    /// # #[table(name = "posts")]
    /// # struct Post { #[column(primary_key)] id: String, title: String, views: i64, body: Option<String> }
    /// use sonic_db_core::Table;
    ///
    /// assert_eq!(Post::DEF.columns[Post::TITLE.index()].name, "title");
    /// # }
    /// # Ok::<(), sonic_db_core::Error>(())
    /// ```
    pub const fn index(&self) -> usize {
        self.index
    }

    /// The column's definition.
    ///
    /// ```
    /// # #[cfg(feature = "derive")] {
    /// # use sonic_db_core::{Error, Value};
    /// # #[derive(Debug, Clone, PartialEq, sonic_db_core::Table)]
    /// # #[table(name = "posts")]
    /// # struct Post { #[column(primary_key)] id: String, title: String, views: i64, body: Option<String> }
    /// assert!(Post::BODY.def().nullable); // an `Option<String>`
    /// assert!(Post::ID.def().primary_key);
    /// # }
    /// # Ok::<(), sonic_db_core::Error>(())
    /// ```
    #[allow(clippy::indexing_slicing)] // handles come from `#[derive(Table)]`, whose indexes are checked at compile time
    pub fn def(&self) -> &'static ColumnDef {
        &T::DEF.columns[self.index]
    }

    /// The column's SQL name.
    ///
    /// ```
    /// # #[cfg(feature = "derive")] {
    /// # #[derive(sonic_db_core::Table)]
    /// # struct User { #[column(primary_key)] id: String, #[column(rename = "mail")] email: String }
    /// // `#[column(rename = "mail")] email: String`
    /// assert_eq!(User::EMAIL.name(), "mail");
    /// # }
    /// ```
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
/// `Option<Vec<C>>` for a many relation, [`One<C>`] for a one relation. Not loaded (`None`,
/// [`One::NotLoaded`]) serialises as an absent field with `#[serde(skip_serializing_if = …)]`;
/// loaded with no match as `[]` (many) or `null` (one).
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot hold a Sonic relation",
    label = "not a relation field type",
    note = "a `#[relation(many, ..)]` field is an `Option<Vec<T>>`, a `#[relation(one, ..)]` \
            field a `One<T>`, where `T` is a `#[derive(Table)]` struct"
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

impl<C: Table> RelationSlot for One<C> {
    type Target = C;
    const MANY: bool = false;
    fn set_loaded(&mut self, records: Vec<C>) {
        *self = One::from(records.into_iter().next());
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
            primary_key: &[0],
            relations: &[],
            constraints: crate::schema::Constraints::NONE,
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
