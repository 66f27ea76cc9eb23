//! Link and unlink records of a many-to-many relation: a row of its join table per pair,
//! written so that linking twice and unlinking what is not linked change nothing.

use crate::db::Db;
use crate::error::{Error, Result};
use crate::query::cascade::DeleteWrite;
use crate::query::eager::Relation;
use crate::query::write::{encode, returned_keys_of, stamp};
use crate::schema::{Table, TableDef, ThroughDef};
use crate::sql::filter::{CmpOp, Expr};
use crate::sql::limits::check_row;
use crate::sql::write::{filtered_write, require_returning, write_delete_head};
use crate::sql::writer::{column_def, SqlWriter};
use crate::value::{Cell, ConvertError, IntoKey, Key, Value};

/// The join table of `relation`, or an error naming it when it has none.
fn through_of<P: Table, C: Table>(relation: &Relation<P, C>) -> Result<ThroughDef> {
    relation.def().through.ok_or_else(|| {
        Error::InvalidQuery(format!(
            "`{}`.`{}` is not a many-to-many relation (`#[relation(many, through = ..)]`): \
             link records by setting their foreign key",
            P::DEF.name,
            relation.def().name
        ))
    })
}

/// The one value of `key` for `column` of the join table: the related tables of a
/// many-to-many relation have single-column keys (the derive refuses a composite one).
fn key_value(table: &'static TableDef, column: usize, key: &impl Key) -> Result<Value> {
    let name = column_def(table, column)?.name;
    let mut parts = key
        .key_parts()
        .map_err(|e| Error::encode(table.name, name, e))?
        .into_vec();
    match (parts.pop(), parts.is_empty()) {
        (Some(Value::Null), _) => Err(Error::encode(
            table.name,
            name,
            ConvertError::new("a key value", "NULL"),
        )),
        (Some(value), true) => Ok(value),
        _ => Err(Error::Unsupported(format!(
            "`{}`.`{name}` references a single-column key; the key given has {} values",
            table.name,
            parts.len() + 1
        ))),
    }
}

impl Db {
    /// Links two records of a many-to-many relation by inserting `link`, a row of its join
    /// table, unless the pair it names is already linked: one statement
    /// (`INSERT … SELECT … WHERE NOT EXISTS`), so linking twice, or twice at once, leaves one
    /// row. Returns whether a row was inserted. `link` must be of the relation's join table.
    ///
    /// ```
    /// # #[cfg(all(feature = "derive", feature = "rusqlite"))] {
    /// # use sonic_db_core::{sqlite::SqliteBackend, Db, Error, Schema};
    /// # #[derive(Debug, Clone, PartialEq, sonic_db_core::Table)]
    /// # #[table(name = "posts")]
    /// # struct Post { #[column(primary_key)] id: String,
    /// #   #[relation(many, through = CategoryToPost, from = post_id, to = category_id)] categories: Option<Vec<Category>> }
    /// # #[derive(Debug, Clone, PartialEq, sonic_db_core::Table)]
    /// # #[table(name = "categories")]
    /// # struct Category { #[column(primary_key)] id: String, title: String }
    /// # #[derive(Debug, Clone, PartialEq, sonic_db_core::Table)]
    /// # #[table(name = "categories_to_posts")]
    /// # struct CategoryToPost { #[column(primary_key)] id: String,
    /// #   #[column(references = Post::ID)] post_id: String, #[column(references = Category::ID)] category_id: String }
    /// # pollster::block_on(async {
    /// # let db = Db::new(SqliteBackend::memory()?);
    /// # for s in Schema::new().table::<Post>().table::<Category>().table::<CategoryToPost>().statements() { db.sql(s).run().await?; }
    /// # db.insert(&Post { id: "p1".into(), categories: None }).await?;
    /// # db.insert(&Category { id: "rust".into(), title: "Rust".into() }).await?;
    /// let link = |id: &str| CategoryToPost { id: id.into(), post_id: "p1".into(), category_id: "rust".into() };
    /// assert!(db.link(Post::CATEGORIES, &link("l1")).await?);
    /// assert!(!db.link(Post::CATEGORIES, &link("l2")).await?); // already linked
    /// let post = db.select::<Post>().with(Post::CATEGORIES).one().await?;
    /// assert_eq!(post.categories.map(|c| c.len()), Some(1));
    /// # Ok::<(), sonic_db_core::Error>(())
    /// # }).unwrap();
    /// # }
    /// ```
    pub async fn link<P: Table, C: Table, J: Table>(
        &self,
        relation: Relation<P, C>,
        link: &J,
    ) -> Result<bool> {
        let through = through_of(&relation)?;
        let table = J::DEF;
        // By name: a `DEF` is a constant, not one address. Table names are unique in a schema.
        if (through.table)().name != table.name {
            return Err(Error::InvalidQuery(format!(
                "`{}`.`{}` links through `{}`, not `{}`",
                P::DEF.name,
                relation.def().name,
                (through.table)().name,
                table.name
            )));
        }
        let capabilities = self.capabilities();
        let mut row = Vec::with_capacity(table.columns.len());
        encode(link, &mut row)?;
        if !self.keeps_audit() {
            stamp(table, &mut row, self.now_ms(), true);
        }
        check_row(table, row.iter().map(Cell::from), capabilities)?;
        let (from, to) = ((through.from)(), (through.to)());
        let pair = [row.get(from).cloned(), row.get(to).cloned()];
        let [Some(from_value), Some(to_value)] = pair else {
            return Err(Error::InvalidQuery(format!(
                "the join table `{}` has no columns {from} and {to}",
                table.name
            )));
        };
        let mut w = SqlWriter::new();
        w.push("INSERT INTO ");
        w.ident(table.name);
        w.push(" (");
        for (i, column) in table.columns.iter().enumerate() {
            if i > 0 {
                w.push(", ");
            }
            w.ident(column.name);
        }
        w.push(") SELECT ");
        for (i, value) in row.into_iter().enumerate() {
            if i > 0 {
                w.push(", ");
            }
            w.param(value);
        }
        w.push(" WHERE NOT EXISTS (SELECT 1 FROM ");
        w.ident(table.name);
        w.push(" WHERE ");
        w.ident(column_def(table, from)?.name);
        w.push(" = ");
        w.param(from_value);
        w.push(" AND ");
        w.ident(column_def(table, to)?.name);
        w.push(" = ");
        w.param(to_value);
        w.push(")");
        let result = self
            .execute(&w.finish())
            .await
            .map_err(|e| e.in_table(table.name))?;
        Ok(result.changes > 0)
    }

    /// Unlinks two records of a many-to-many relation: deletes the join table's rows for the
    /// pair (`from` the key of the record of `P`, `to` the related record's primary key), and
    /// their KV entries when cached. Returns how many rows went (0 when the pair was not
    /// linked).
    ///
    /// ```
    /// # #[cfg(all(feature = "derive", feature = "rusqlite"))] {
    /// # use sonic_db_core::{sqlite::SqliteBackend, Db, Error, Schema};
    /// # #[derive(Debug, Clone, PartialEq, sonic_db_core::Table)]
    /// # #[table(name = "posts")]
    /// # struct Post { #[column(primary_key)] id: String,
    /// #   #[relation(many, through = CategoryToPost, from = post_id, to = category_id)] categories: Option<Vec<Category>> }
    /// # #[derive(Debug, Clone, PartialEq, sonic_db_core::Table)]
    /// # #[table(name = "categories")]
    /// # struct Category { #[column(primary_key)] id: String, title: String }
    /// # #[derive(Debug, Clone, PartialEq, sonic_db_core::Table)]
    /// # #[table(name = "categories_to_posts")]
    /// # struct CategoryToPost { #[column(primary_key)] id: String,
    /// #   #[column(references = Post::ID)] post_id: String, #[column(references = Category::ID)] category_id: String }
    /// # pollster::block_on(async {
    /// # let db = Db::new(SqliteBackend::memory()?);
    /// # for s in Schema::new().table::<Post>().table::<Category>().table::<CategoryToPost>().statements() { db.sql(s).run().await?; }
    /// # db.insert(&Post { id: "p1".into(), categories: None }).await?;
    /// # db.insert(&Category { id: "rust".into(), title: "Rust".into() }).await?;
    /// # db.link(Post::CATEGORIES, &CategoryToPost { id: "l1".into(), post_id: "p1".into(), category_id: "rust".into() }).await?;
    /// assert_eq!(db.unlink(Post::CATEGORIES, "p1", "rust").await?, 1);
    /// assert_eq!(db.unlink(Post::CATEGORIES, "p1", "rust").await?, 0); // nothing left
    /// # Ok::<(), sonic_db_core::Error>(())
    /// # }).unwrap();
    /// # }
    /// ```
    pub async fn unlink<P: Table, C: Table>(
        &self,
        relation: Relation<P, C>,
        from: impl IntoKey<P::PrimaryKey>,
        to: impl IntoKey<C::PrimaryKey>,
    ) -> Result<u64> {
        let through = through_of(&relation)?;
        let table = (through.table)();
        let (from_column, to_column) = ((through.from)(), (through.to)());
        let from = key_value(table, from_column, &from.into_key())?;
        let to = key_value(table, to_column, &to.into_key())?;
        let filter = Expr::And(vec![
            Expr::Compare {
                column: from_column,
                op: CmpOp::Eq,
                value: from,
            },
            Expr::Compare {
                column: to_column,
                op: CmpOp::Eq,
                value: to,
            },
        ]);
        let capabilities = self.capabilities();
        require_returning(capabilities)?;
        let statement = filtered_write(table, Some(&filter), capabilities, false, |w| {
            write_delete_head(w, table);
            Ok(())
        })?;
        let mut write = DeleteWrite::begin(self, table, None, Some(&filter));
        let result = self
            .execute_after(write.take_selects(), statement)
            .await
            .map(|(deleted, selected)| (returned_keys_of(table, deleted), selected))
            .map_err(|e| e.in_table(table.name));
        match &result {
            Ok((deleted, selected)) => write.finish(Ok(&deleted.values), Ok(selected)).await,
            Err(error) => write.finish(Err(error), Err(error)).await,
        }
        let (deleted, _) = result?;
        // One id per deleted row (`returned_keys_of`).
        Ok(deleted.values.len() as u64)
    }
}
