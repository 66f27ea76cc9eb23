//! DDL: `CREATE TABLE` and `CREATE INDEX` statements for a set of tables, in the SQLite syntax
//! that D1 accepts.
//!
//! A [`Schema`] is an ordered list of table definitions. Its DDL is rendered from a
//! [`SchemaSnapshot`], a plain, serialisable copy of the definitions; the migration generator
//! ([`crate::migrate`]) renders from the same model, so a table created by a migration is
//! created by exactly the same statement as in the full DDL.
//!
//! What the DDL contains:
//! - Identifiers are always double-quoted (`"` doubled inside).
//! - Non-`Option` columns are `NOT NULL`. An `INTEGER` primary key is SQLite's rowid alias.
//! - `UNIQUE`, `DEFAULT <expr>` (verbatim) and `REFERENCES "t"("c") ON DELETE …` as declared.
//! - One index, `"<table>_<column>_idx"`, per column that is marked `#[column(index)]` or that
//!   is a foreign key: a column with `references`, the `local` column of a `one` relation and
//!   the `remote` column of a `many` relation (when the related table is part of the schema).
//!   SQLite does not index foreign keys by itself, and without these indexes eager loading
//!   (one correlated subquery per parent row) scans the child table each time: ten times slower
//!   as measured on the Diesel benchmark workload. Primary-key and `UNIQUE` columns are indexed
//!   by SQLite already and get none.
//! - Tables come in dependency order where possible: a referenced table before the tables that
//!   refer to it (SQLite itself accepts any order; other tools and readers prefer this one).
//!
//! ```
//! use sonic_db_core::{ColumnDef, ForeignKey, Schema, SqlType, TableDef};
//!
//! static USERS: TableDef = TableDef {
//!     name: "users",
//!     rust_name: "User",
//!     columns: &[ColumnDef {
//!         primary_key: true,
//!         ..ColumnDef::new("id", "id", SqlType::Integer)
//!     }],
//!     primary_key: &[0],
//!     relations: &[],
//!     constraints: sonic_db_core::schema::Constraints::NONE,
//! };
//! static POSTS: TableDef = TableDef {
//!     name: "posts",
//!     rust_name: "Post",
//!     columns: &[
//!         ColumnDef {
//!             primary_key: true,
//!             ..ColumnDef::new("id", "id", SqlType::Integer)
//!         },
//!         ColumnDef {
//!             references: Some(ForeignKey {
//!                 target: || (&USERS, &USERS.columns[0]),
//!                 on_delete: Some("CASCADE"),
//!             }),
//!             ..ColumnDef::new("user_id", "user_id", SqlType::Integer)
//!         },
//!     ],
//!     primary_key: &[0],
//!     relations: &[],
//!     constraints: sonic_db_core::schema::Constraints::NONE,
//! };
//!
//! // With `#[derive(Table)]`: `Schema::new().table::<Post>().table::<User>()`.
//! let schema = Schema::new().table_def(&POSTS).table_def(&USERS);
//! assert_eq!(
//!     schema.statements(),
//!     [
//!         "CREATE TABLE IF NOT EXISTS \"users\" (\n    \"id\" INTEGER NOT NULL PRIMARY KEY\n)",
//!         "CREATE TABLE IF NOT EXISTS \"posts\" (\n    \"id\" INTEGER NOT NULL PRIMARY KEY,\n    \
//!          \"user_id\" INTEGER NOT NULL REFERENCES \"users\" (\"id\") ON DELETE CASCADE\n)",
//!         "CREATE INDEX IF NOT EXISTS \"posts_user_id_idx\" ON \"posts\" (\"user_id\")",
//!     ]
//! );
//! ```

use serde::{Deserialize, Serialize};
use sonic_db_sql_text::{check_expression, is_default_expression};

use crate::schema::{check_name, composite_name, AuditRole, RelationKind, Schema, TableDef};
use crate::sql::writer::quote_ident;

impl Schema {
    /// The index of column `column` of `table` (if it is not already the primary key, the
    /// first column of a composite one, or unique), as part of this schema.
    fn want_index(&self, wanted: &mut Vec<(&'static str, usize)>, table: &TableDef, column: usize) {
        if self.get(table.name).is_none() {
            return;
        }
        let Some(def) = table.columns.get(column) else {
            return;
        };
        // The key's index covers its first column only: a later part of a composite key that
        // a foreign key or relation goes by still needs its own.
        let indexed_by_key = def.primary_key && table.primary_key.first() == Some(&column);
        if indexed_by_key || def.unique {
            return;
        }
        if !wanted.contains(&(table.name, column)) {
            wanted.push((table.name, column));
        }
    }

    /// A serialisable copy of the schema: tables in creation order, each with its indexes.
    ///
    /// What [`Migrations`](crate::migrate::Migrations) stores and diffs.
    ///
    /// ```
    /// # #[cfg(feature = "derive")] {
    /// # use sonic_db_core::{Schema, Table, TableDef};
    /// # #[derive(sonic_db_core::Table)]
    /// # #[table(name = "users")]
    /// # struct User { #[column(primary_key)] id: String }
    /// # #[derive(sonic_db_core::Table)]
    /// # #[table(name = "posts")]
    /// # struct Post { #[column(primary_key)] id: String, #[column(references = User::ID)] user_id: String }
    /// let snapshot = Schema::new().table::<Post>().table::<User>().snapshot();
    /// assert_eq!(snapshot.tables[0].name, "users"); // creation order
    /// let posts = snapshot.table("posts").unwrap();
    /// assert_eq!(posts.indexes[0].name, "posts_user_id_idx"); // a foreign key is indexed
    /// # }
    /// ```
    pub fn snapshot(&self) -> SchemaSnapshot {
        // (table, column index) pairs that need an index.
        let mut wanted: Vec<(&'static str, usize)> = Vec::new();
        for table in self.tables() {
            for (i, column) in table.columns.iter().enumerate() {
                if column.indexed || column.references.is_some() {
                    self.want_index(&mut wanted, table, i);
                }
            }
            for rel in table.relations {
                match rel.kind {
                    RelationKind::One => self.want_index(&mut wanted, table, rel.local),
                    RelationKind::Many => match &rel.through {
                        None => self.want_index(&mut wanted, (rel.target)(), (rel.remote)()),
                        // Both columns of a join table: loads go by `from`, the other
                        // direction and the join on `to`.
                        Some(through) => {
                            self.want_index(&mut wanted, (through.table)(), (through.from)());
                            self.want_index(&mut wanted, (through.table)(), (through.to)());
                        }
                    },
                }
            }
        }
        let tables = self
            .ordered_tables()
            .into_iter()
            .map(|table| {
                let composite = table.primary_key.len() > 1;
                let columns = table
                    .columns
                    .iter()
                    .map(|c| ColumnSnapshot::of(c, composite))
                    .collect();
                let names = |list: &[usize]| -> Vec<String> {
                    list.iter()
                        .filter_map(|&i| table.columns.get(i))
                        .map(|c| c.name.to_string())
                        .collect()
                };
                let mut indexes: Vec<IndexSnapshot> = table
                    .columns
                    .iter()
                    .enumerate()
                    .filter(|&(i, _)| wanted.contains(&(table.name, i)))
                    .map(|(_, column)| IndexSnapshot::on(table.name, column.name))
                    .collect();
                let constraints = &table.constraints;
                indexes.extend(
                    constraints
                        .indexes
                        .iter()
                        .map(|list| IndexSnapshot::on_columns(table.name, &names(list))),
                );
                TableSnapshot {
                    name: table.name.to_string(),
                    columns,
                    indexes,
                    renamed_from: self.renamed_from(table.name).map(str::to_string),
                    primary_key: if composite {
                        names(table.primary_key)
                    } else {
                        Vec::new()
                    },
                    unique: constraints.unique.iter().map(|list| names(list)).collect(),
                    checks: constraints.checks.iter().map(|c| c.to_string()).collect(),
                    strict: constraints.strict,
                }
            })
            .collect();
        SchemaSnapshot {
            version: SchemaSnapshot::VERSION,
            tables,
        }
    }

    /// Every statement, without trailing `;`: per table, its `CREATE TABLE` then its
    /// `CREATE INDEX`es.
    ///
    /// ```
    /// # #[cfg(all(feature = "derive", feature = "rusqlite"))] {
    /// # #[derive(sonic_db_core::Table)]
    /// # #[table(name = "users")]
    /// # struct User { #[column(primary_key)] id: String }
    /// # #[derive(sonic_db_core::Table)]
    /// # #[table(name = "posts")]
    /// # struct Post { #[column(primary_key)] id: String, #[column(references = User::ID)] user_id: String }
    /// # pollster::block_on(async {
    /// use sonic_db_core::{sqlite::SqliteBackend, Db, Schema};
    ///
    /// let db = Db::new(SqliteBackend::memory()?);
    /// let statements = Schema::new().table::<User>().table::<Post>().statements();
    /// assert_eq!(statements.len(), 3); // two tables, and the index of `posts.user_id`
    /// for statement in statements {
    ///     db.sql(statement).run().await?;
    /// }
    /// # Ok::<(), sonic_db_core::Error>(())
    /// # }).unwrap();
    /// # }
    /// ```
    pub fn statements(&self) -> Vec<String> {
        self.snapshot().statements()
    }

    /// The whole DDL as one script, each statement ended by `;`.
    ///
    /// E.g. for `wrangler d1 execute --file`, or SQLite's own multi-statement `exec`.
    ///
    /// ```
    /// # #[cfg(all(feature = "derive", feature = "rusqlite"))] {
    /// # #[derive(sonic_db_core::Table)]
    /// # #[table(name = "users")]
    /// # struct User { #[column(primary_key)] id: String }
    /// use sonic_db_core::{sqlite::SqliteBackend, Schema};
    ///
    /// let script = Schema::new().table::<User>().to_sql();
    /// assert_eq!(
    ///     script,
    ///     "CREATE TABLE IF NOT EXISTS \"users\" (\n    \"id\" TEXT NOT NULL PRIMARY KEY\n);\n"
    /// );
    /// SqliteBackend::memory()?.exec(&script)?;
    /// # }
    /// # Ok::<(), sonic_db_core::Error>(())
    /// ```
    pub fn to_sql(&self) -> String {
        script(&self.statements())
    }
}

/// Joins statements into a script: each ends with `;` and a blank line separates them.
pub(crate) fn script(statements: &[String]) -> String {
    let mut out = String::new();
    for (i, s) in statements.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        out.push_str(s);
        out.push_str(";\n");
    }
    out
}

/// A serialisable copy of a [`Schema`]: what the migration generator stores in
/// `migrations/meta/sonic-snapshot.json` and compares against.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SchemaSnapshot {
    /// Format version of the snapshot ([`SchemaSnapshot::VERSION`]).
    pub version: u32,
    /// Tables in creation order.
    pub tables: Vec<TableSnapshot>,
}

impl Default for SchemaSnapshot {
    fn default() -> Self {
        SchemaSnapshot {
            version: Self::VERSION,
            tables: Vec::new(),
        }
    }
}

impl SchemaSnapshot {
    /// The current format version.
    pub const VERSION: u32 = 1;

    /// The table with this name.
    pub fn table(&self, name: &str) -> Option<&TableSnapshot> {
        self.tables.iter().find(|t| t.name == name)
    }

    /// Checks every value that [`Self::statements`] writes into SQL unquoted: SQL types are
    /// `INTEGER`/`REAL`/`TEXT`/`BLOB`, `ON DELETE` actions SQLite's five, audit roles
    /// `created`/`updated`, defaults one expression of SQLite's `DEFAULT` grammar (a signed
    /// number, a literal, or a parenthesised expression). A snapshot read from a file is checked
    /// so that an edited or corrupted file cannot put other SQL into a migration.
    ///
    /// ```
    /// use sonic_db_core::migrate::SchemaSnapshot;
    /// let mut snapshot: SchemaSnapshot = serde_json::from_str(
    ///     r#"{"version":1,"tables":[{"name":"t","columns":[{"name":"id","sql_type":"TEXT","nullable":false}],"indexes":[]}]}"#,
    /// ).unwrap();
    /// assert!(snapshot.check().is_ok());
    /// snapshot.tables[0].columns[0].sql_type = r#"TEXT, "x" INTEGER"#.into();
    /// assert!(snapshot.check().unwrap_err().contains("`t`.`id`"));
    /// ```
    pub fn check(&self) -> Result<(), String> {
        for table in &self.tables {
            for (n, check) in table.checks.iter().enumerate() {
                if let Err(why) = check_expression(check) {
                    return Err(format!(
                        "`{}`: CHECK {} {check:?} is not one SQL expression: {why}",
                        table.name,
                        n + 1
                    ));
                }
            }
            let lists = table
                .unique
                .iter()
                .chain(std::iter::once(&table.primary_key))
                .chain(table.indexes.iter().map(|i| &i.more_columns));
            for list in lists {
                if let Some(missing) = list.iter().find(|c| table.column(c).is_none()) {
                    return Err(format!(
                        "`{}`: a constraint or index names `{missing}`, which is not a column",
                        table.name
                    ));
                }
            }
            for column in &table.columns {
                let at = || format!("`{}`.`{}`", table.name, column.name);
                if !matches!(
                    column.sql_type.as_str(),
                    "INTEGER" | "REAL" | "TEXT" | "BLOB"
                ) {
                    return Err(format!(
                        "{}: SQL type {:?} is not INTEGER, REAL, TEXT or BLOB",
                        at(),
                        column.sql_type
                    ));
                }
                if let Some(default) = &column.default {
                    if !is_default_expression(default) {
                        return Err(format!(
                            "{}: default {default:?} is not one SQLite DEFAULT expression",
                            at()
                        ));
                    }
                }
                if let Some(action) = column
                    .references
                    .as_ref()
                    .and_then(|r| r.on_delete.as_deref())
                {
                    if !matches!(
                        action,
                        "CASCADE" | "SET NULL" | "SET DEFAULT" | "RESTRICT" | "NO ACTION"
                    ) {
                        return Err(format!(
                            "{}: ON DELETE action {action:?} is not one of SQLite's",
                            at()
                        ));
                    }
                }
                if let Some(role) = &column.audit {
                    if !matches!(role.as_str(), "created" | "updated") {
                        return Err(format!(
                            "{}: audit role {role:?} is not created or updated",
                            at()
                        ));
                    }
                }
            }
        }
        Ok(())
    }

    /// Every statement: per table, its `CREATE TABLE` then its `CREATE INDEX`es.
    pub fn statements(&self) -> Vec<String> {
        let mut out = Vec::new();
        for table in &self.tables {
            out.push(table.create_sql());
            out.extend(table.indexes.iter().map(|i| i.create_sql(&table.name)));
        }
        out
    }
}

/// A table in a [`SchemaSnapshot`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableSnapshot {
    /// SQL name.
    pub name: String,
    /// Columns in declaration order.
    pub columns: Vec<ColumnSnapshot>,
    /// Indexes (one column each).
    pub indexes: Vec<IndexSnapshot>,
    /// The table's former name ([`Table::RENAMED_FROM`](crate::Table::RENAMED_FROM)): the
    /// migration generator renames a table of that name instead of dropping it. Not part of
    /// the table's shape (never compared).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub renamed_from: Option<String>,
    /// The columns of a composite primary key, in key order (`#[table(primary_key(a, b))]`),
    /// written as the table constraint `PRIMARY KEY ("a", "b")`; empty for a single-column
    /// key, which its column carries ([`ColumnSnapshot::primary_key`]). Changing it rebuilds
    /// the table.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub primary_key: Vec<String>,
    /// Composite `UNIQUE` constraints (`#[table(unique(a, b))]`), column names each, named
    /// `<table>_<a>_<b>_key`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unique: Vec<Vec<String>>,
    /// `CHECK` expressions (`#[table(check = "…")]`), in order, named `<table>_check_<n>`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub checks: Vec<String>,
    /// A `STRICT` table (`#[table(strict)]`).
    #[serde(default, skip_serializing_if = "is_false")]
    pub strict: bool,
}

impl TableSnapshot {
    /// The column with this name.
    pub fn column(&self, name: &str) -> Option<&ColumnSnapshot> {
        self.columns.iter().find(|c| c.name == name)
    }

    /// `CREATE TABLE IF NOT EXISTS "name" (...)`, without the `;`: the columns, then the
    /// table's named `UNIQUE` and `CHECK` constraints, and `STRICT`.
    pub fn create_sql(&self) -> String {
        let mut lines: Vec<String> = self
            .columns
            .iter()
            .map(|c| format!("    {}", c.definition_sql()))
            .collect();
        if !self.primary_key.is_empty() {
            let quoted: Vec<String> = self.primary_key.iter().map(|c| quote_ident(c)).collect();
            lines.push(format!("    PRIMARY KEY ({})", quoted.join(", ")));
        }
        for columns in &self.unique {
            let names: Vec<&str> = columns.iter().map(String::as_str).collect();
            let quoted: Vec<String> = names.iter().map(|c| quote_ident(c)).collect();
            lines.push(format!(
                "    CONSTRAINT {} UNIQUE ({})",
                quote_ident(&composite_name(&self.name, &names, "key")),
                quoted.join(", ")
            ));
        }
        for (n, check) in self.checks.iter().enumerate() {
            lines.push(format!(
                "    CONSTRAINT {} CHECK ({check})",
                quote_ident(&check_name(&self.name, n + 1))
            ));
        }
        format!(
            "CREATE TABLE IF NOT EXISTS {} (\n{}\n){}",
            quote_ident(&self.name),
            lines.join(",\n"),
            if self.strict { " STRICT" } else { "" }
        )
    }

    /// What differs in the table-level constraints (`UNIQUE`, `CHECK`, `STRICT`) of two
    /// definitions, or `None`: SQLite changes none of them by `ALTER TABLE`.
    pub(crate) fn constraint_changes(&self, new: &TableSnapshot) -> Option<String> {
        let mut changes = Vec::new();
        if self.primary_key != new.primary_key {
            let show = |key: &[String]| {
                if key.is_empty() {
                    "a single column".to_string()
                } else {
                    format!("({})", key.join(", "))
                }
            };
            changes.push(format!(
                "PRIMARY KEY {} → {}",
                show(&self.primary_key),
                show(&new.primary_key)
            ));
        }
        for list in new.unique.iter().filter(|l| !self.unique.contains(l)) {
            changes.push(format!("new UNIQUE ({})", list.join(", ")));
        }
        for list in self.unique.iter().filter(|l| !new.unique.contains(l)) {
            changes.push(format!("UNIQUE ({}) removed", list.join(", ")));
        }
        if self.checks != new.checks {
            changes.push(format!(
                "CHECK constraints [{}] → [{}]",
                self.checks.join("; "),
                new.checks.join("; ")
            ));
        }
        if self.strict != new.strict {
            changes.push(
                if new.strict {
                    "now STRICT"
                } else {
                    "no longer STRICT"
                }
                .to_string(),
            );
        }
        (!changes.is_empty()).then(|| changes.join(", "))
    }
}

/// A column in a [`TableSnapshot`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ColumnSnapshot {
    /// SQL name.
    pub name: String,
    /// Declared type keyword (`INTEGER`, `REAL`, `TEXT`, `BLOB`).
    pub sql_type: String,
    /// Whether `NULL` is allowed.
    pub nullable: bool,
    /// `PRIMARY KEY`.
    #[serde(default, skip_serializing_if = "is_false")]
    pub primary_key: bool,
    /// `UNIQUE`.
    #[serde(default, skip_serializing_if = "is_false")]
    pub unique: bool,
    /// `DEFAULT` expression.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
    /// `REFERENCES` clause.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub references: Option<ReferenceSnapshot>,
    /// `"created"` / `"updated"` for the columns of `#[audit]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audit: Option<String>,
    /// The column's former name ([`ColumnDef::renamed_from`](crate::ColumnDef::renamed_from)):
    /// the migration generator renames a column of that name instead of dropping it. Not part
    /// of the column's shape (never compared).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub renamed_from: Option<String>,
}

fn is_false(b: &bool) -> bool {
    !*b
}

impl ColumnSnapshot {
    /// The snapshot of `def`; a part of a `composite` key is no `PRIMARY KEY` of its own
    /// (the table's [`TableSnapshot::primary_key`] lists it).
    fn of(def: &crate::schema::ColumnDef, composite: bool) -> Self {
        ColumnSnapshot {
            name: def.name.to_string(),
            sql_type: def.sql_type.keyword().to_string(),
            nullable: def.nullable,
            primary_key: def.primary_key && !composite,
            unique: def.unique,
            default: def.default.map(str::to_string),
            references: def.references.as_ref().map(|fk| {
                let (table, column) = (fk.target)();
                ReferenceSnapshot {
                    table: table.name.to_string(),
                    column: column.name.to_string(),
                    on_delete: fk.on_delete.map(str::to_string),
                }
            }),
            audit: def.audit.map(|role| {
                match role {
                    AuditRole::Created => "created",
                    AuditRole::Updated => "updated",
                }
                .to_string()
            }),
            renamed_from: def.renamed_from.map(str::to_string),
        }
    }

    /// The column definition as in `CREATE TABLE`: `"email" TEXT NOT NULL UNIQUE`.
    pub fn definition_sql(&self) -> String {
        self.definition_sql_with_default(self.default.as_deref())
    }

    /// The definition with another `DEFAULT` (or none): for `ALTER TABLE … ADD COLUMN`, which
    /// accepts constant defaults only.
    pub(crate) fn definition_sql_with_default(&self, default: Option<&str>) -> String {
        let mut sql = format!("{} {}", quote_ident(&self.name), self.sql_type);
        if !self.nullable {
            sql.push_str(" NOT NULL");
        }
        if self.primary_key {
            sql.push_str(" PRIMARY KEY");
        }
        if self.unique && !self.primary_key {
            sql.push_str(" UNIQUE");
        }
        if let Some(default) = default {
            sql.push_str(" DEFAULT ");
            sql.push_str(default);
        }
        if let Some(r) = &self.references {
            sql.push_str(&format!(
                " REFERENCES {} ({})",
                quote_ident(&r.table),
                quote_ident(&r.column)
            ));
            if let Some(action) = &r.on_delete {
                sql.push_str(" ON DELETE ");
                sql.push_str(action);
            }
        }
        sql
    }
}

/// A `REFERENCES` clause in a [`ColumnSnapshot`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReferenceSnapshot {
    /// Referenced table.
    pub table: String,
    /// Referenced column.
    pub column: String,
    /// `ON DELETE` action.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_delete: Option<String>,
}

/// An index in a [`TableSnapshot`]: on one column, or on several (`#[table(index(a, b))]`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndexSnapshot {
    /// Index name, `<table>_<column>_idx` (`<table>_<a>_<b>_idx` for several columns).
    pub name: String,
    /// The (first) indexed column.
    pub column: String,
    /// The further columns of a multi-column index, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub more_columns: Vec<String>,
}

impl IndexSnapshot {
    /// The index Sonic creates on `table`.`column`.
    pub fn on(table: &str, column: &str) -> Self {
        IndexSnapshot {
            name: format!("{table}_{column}_idx"),
            column: column.to_string(),
            more_columns: Vec::new(),
        }
    }

    /// The index Sonic creates on `columns` of `table` (`#[table(index(a, b))]`).
    ///
    /// ```
    /// use sonic_db_core::migrate::IndexSnapshot;
    /// let index = IndexSnapshot::on_columns("stock", &["shop".into(), "price".into()]);
    /// assert_eq!(
    ///     index.create_sql("stock"),
    ///     r#"CREATE INDEX IF NOT EXISTS "stock_shop_price_idx" ON "stock" ("shop", "price")"#
    /// );
    /// ```
    pub fn on_columns(table: &str, columns: &[String]) -> Self {
        let names: Vec<&str> = columns.iter().map(String::as_str).collect();
        IndexSnapshot {
            name: composite_name(table, &names, "idx"),
            column: columns.first().cloned().unwrap_or_default(),
            more_columns: columns.iter().skip(1).cloned().collect(),
        }
    }

    /// The indexed columns, in order.
    pub fn columns(&self) -> impl Iterator<Item = &String> {
        std::iter::once(&self.column).chain(&self.more_columns)
    }

    /// `CREATE INDEX IF NOT EXISTS "name" ON "table" ("column", …)`, without the `;`.
    pub fn create_sql(&self, table: &str) -> String {
        let columns: Vec<String> = self.columns().map(|c| quote_ident(c)).collect();
        format!(
            "CREATE INDEX IF NOT EXISTS {} ON {} ({})",
            quote_ident(&self.name),
            quote_ident(table),
            columns.join(", ")
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::fixtures::{CHILDREN, PARENTS};

    #[test]
    fn quoting() {
        assert_eq!(quote_ident("users"), "\"users\"");
        assert_eq!(quote_ident("a\"b"), "\"a\"\"b\"");
    }

    #[test]
    fn ddl_and_order() {
        let schema = Schema::new()
            .table_def(&CHILDREN)
            .table_def(&PARENTS)
            .table_def(&CHILDREN);
        assert_eq!(schema.tables().len(), 2);
        let names: Vec<_> = schema.ordered_tables().iter().map(|t| t.name).collect();
        assert_eq!(names, ["parents", "children"]);
        assert_eq!(
            schema.statements(),
            [
                "CREATE TABLE IF NOT EXISTS \"parents\" (\n    \"id\" TEXT NOT NULL PRIMARY KEY,\n    \
                 \"we\"\"ird\" TEXT UNIQUE,\n    \"rank\" INTEGER NOT NULL DEFAULT 0\n)",
                "CREATE INDEX IF NOT EXISTS \"parents_rank_idx\" ON \"parents\" (\"rank\")",
                "CREATE TABLE IF NOT EXISTS \"children\" (\n    \"id\" INTEGER NOT NULL PRIMARY KEY,\n    \
                 \"parent_id\" TEXT NOT NULL,\n    \"other_id\" TEXT REFERENCES \"parents\" (\"id\") \
                 ON DELETE SET NULL\n)",
                "CREATE INDEX IF NOT EXISTS \"children_parent_id_idx\" ON \"children\" (\"parent_id\")",
                "CREATE INDEX IF NOT EXISTS \"children_other_id_idx\" ON \"children\" (\"other_id\")",
            ]
        );
        assert!(schema.to_sql().ends_with("(\"other_id\");\n"));
    }

    #[test]
    fn many_relation_index_needs_the_target_in_the_schema() {
        let schema = Schema::new().table_def(&PARENTS);
        let snapshot = schema.snapshot();
        assert_eq!(snapshot.tables.len(), 1);
        assert_eq!(
            snapshot.tables[0].indexes,
            [IndexSnapshot::on("parents", "rank")]
        );
    }

    #[test]
    fn snapshot_round_trips_through_json() {
        let snapshot = Schema::new()
            .table_def(&PARENTS)
            .table_def(&CHILDREN)
            .snapshot();
        let json = serde_json::to_string_pretty(&snapshot).unwrap();
        let back: SchemaSnapshot = serde_json::from_str(&json).unwrap();
        assert_eq!(back, snapshot);
    }
}
