//! [`Schema`]: the application's tables, the unit that DDL, migrations and the foreign-key
//! graph are built from.

use std::collections::HashSet;
use std::sync::{Arc, OnceLock};

use super::foreign_keys::ForeignKeys;
use super::{RelationKind, Table, TableDef};

/// An ordered set of tables: the unit that DDL and migrations are generated for.
///
/// ```
/// # #[cfg(all(feature = "derive", feature = "rusqlite"))] {
/// # #[derive(sonic_db_core::Table)]
/// # #[table(name = "users")]
/// # struct User { #[column(primary_key)] id: String }
/// # #[derive(sonic_db_core::Table)]
/// # #[table(name = "posts")]
/// # struct Post { #[column(primary_key)] id: String, #[column(references = User::ID)] user_id: String }
/// use sonic_db_core::{sqlite::SqliteBackend, CacheConfig, Db, MemoryKv, Schema};
///
/// // One value for the DDL, the migrations and the cache's foreign keys.
/// let schema = Schema::new().table::<User>().table::<Post>();
/// let sqlite = SqliteBackend::memory()?;
/// sqlite.exec(&schema.to_sql())?;
/// let db = Db::new(sqlite).with_schema(&schema).with_kv(MemoryKv::new(), CacheConfig::new())?;
/// # let _ = db;
/// # }
/// # Ok::<(), sonic_db_core::Error>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct Schema {
    tables: Vec<&'static TableDef>,
    /// `(table, former name)` pairs: [`Table::RENAMED_FROM`], for the migration generator.
    renamed_tables: Vec<(&'static str, &'static str)>,
    /// The foreign-key graph of `tables`, built once per schema: a Worker that keeps its
    /// schema per isolate and builds a [`Db`](crate::Db) per request does not rebuild it.
    foreign_keys: OnceLock<Arc<ForeignKeys>>,
}

impl Schema {
    /// An empty schema.
    ///
    /// ```
    /// use sonic_db_core::Schema;
    /// assert!(Schema::new().tables().is_empty());
    /// assert_eq!(Schema::new().to_sql(), "");
    /// ```
    pub fn new() -> Self {
        Schema::default()
    }

    /// Adds a table (a second table of the same name is ignored).
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
    /// let schema = Schema::new().table::<User>().table::<Post>().table::<User>();
    /// assert_eq!(schema.tables().len(), 2); // `users` once
    /// # }
    /// ```
    pub fn table<T: Table>(self) -> Self {
        let schema = self.table_def(T::DEF);
        match T::RENAMED_FROM {
            Some(old) => schema.table_renamed_from(T::DEF.name, old),
            None => schema,
        }
    }

    /// Records that table `table` was called `old` before: what `#[table(renamed_from =
    /// "old")]` declares, for definitions held as data. A migration generated while the
    /// snapshot still has `old` renames it (`ALTER TABLE … RENAME TO`), keeping its rows.
    ///
    /// ```
    /// # #[cfg(feature = "derive")] {
    /// # #[derive(sonic_db_core::Table)]
    /// # #[table(name = "articles")]
    /// # struct Article { #[column(primary_key)] id: String }
    /// use sonic_db_core::{Schema, Table};
    ///
    /// let schema = Schema::new().table_def(Article::DEF).table_renamed_from("articles", "posts");
    /// assert_eq!(schema.renamed_from("articles"), Some("posts"));
    /// # }
    /// ```
    pub fn table_renamed_from(mut self, table: &'static str, old: &'static str) -> Self {
        self.renamed_tables.retain(|(t, _)| *t != table);
        self.renamed_tables.push((table, old));
        self
    }

    /// The former name of `table`, if one was declared.
    ///
    /// ```
    /// # #[cfg(feature = "derive")] {
    /// #[derive(sonic_db_core::Table)]
    /// #[table(name = "articles", renamed_from = "posts")]
    /// struct Article { #[column(primary_key)] id: String }
    ///
    /// let schema = sonic_db_core::Schema::new().table::<Article>();
    /// assert_eq!(schema.renamed_from("articles"), Some("posts"));
    /// assert_eq!(schema.renamed_from("users"), None);
    /// # }
    /// ```
    pub fn renamed_from(&self, table: &str) -> Option<&'static str> {
        self.renamed_tables
            .iter()
            .find(|(t, _)| *t == table)
            .map(|(_, old)| *old)
    }

    /// Adds a table by its definition (a second table of the same name is ignored).
    ///
    /// For definitions held as data: built by hand, or listed by a module of the application.
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
    /// let all: [&'static TableDef; 2] = [User::DEF, Post::DEF];
    /// let schema = all.into_iter().fold(Schema::new(), Schema::table_def);
    /// assert!(schema.get("posts").is_some());
    /// # }
    /// ```
    pub fn table_def(mut self, def: &'static TableDef) -> Self {
        if !self.tables.iter().any(|t| t.name == def.name) {
            self.tables.push(def);
            self.foreign_keys = OnceLock::new();
        }
        self
    }

    /// The foreign keys between the tables, shared by every handle given this schema.
    pub(crate) fn foreign_keys(&self) -> Arc<ForeignKeys> {
        self.foreign_keys
            .get_or_init(|| Arc::new(ForeignKeys::of(self)))
            .clone()
    }

    /// The tables in the order they were added.
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
    /// let schema = Schema::new().table::<Post>().table::<User>();
    /// let names: Vec<&str> = schema.tables().iter().map(|t| t.name).collect();
    /// assert_eq!(names, ["posts", "users"]);
    /// # }
    /// ```
    pub fn tables(&self) -> &[&'static TableDef] {
        &self.tables
    }

    /// The table with this SQL name.
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
    /// let schema = Schema::new().table::<User>().table::<Post>();
    /// assert_eq!(schema.get("posts").map(|t| t.rust_name), Some("Post"));
    /// assert!(schema.get("comments").is_none());
    /// # }
    /// ```
    pub fn get(&self, name: &str) -> Option<&'static TableDef> {
        self.tables.iter().copied().find(|t| t.name == name)
    }

    /// The tables in creation order: each after the tables it refers to, where that is
    /// possible (tables in a reference cycle keep the order they were added in).
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
    /// let schema = Schema::new().table::<Post>().table::<User>(); // posts reference users
    /// let names: Vec<&str> = schema.ordered_tables().iter().map(|t| t.name).collect();
    /// assert_eq!(names, ["users", "posts"]);
    /// # }
    /// ```
    pub fn ordered_tables(&self) -> Vec<&'static TableDef> {
        let deps: Vec<HashSet<&'static str>> =
            self.tables.iter().map(|t| self.dependencies(t)).collect();
        let mut done: HashSet<&'static str> = HashSet::new();
        let mut out = Vec::with_capacity(self.tables.len());
        let mut remaining: Vec<usize> = (0..self.tables.len()).collect();
        while !remaining.is_empty() {
            let pick = remaining
                .iter()
                .position(|&i| {
                    deps.get(i)
                        .is_none_or(|d| d.iter().all(|d| done.contains(d)))
                })
                .unwrap_or(0);
            let i = remaining.remove(pick);
            if let Some(&table) = self.tables.get(i) {
                done.insert(table.name);
                out.push(table);
            }
        }
        out
    }

    /// The tables of this schema that `table` refers to (itself excluded).
    fn dependencies(&self, table: &TableDef) -> HashSet<&'static str> {
        let mut deps = HashSet::new();
        for column in table.columns {
            if let Some(fk) = &column.references {
                deps.insert((fk.target)().0.name);
            }
        }
        for rel in table.relations {
            if rel.kind == RelationKind::One {
                deps.insert((rel.target)().name);
            }
        }
        // A `many` relation elsewhere whose remote column lives in this table.
        for other in &self.tables {
            for rel in other.relations {
                if rel.kind == RelationKind::Many && (rel.target)().name == table.name {
                    deps.insert(other.name);
                }
            }
        }
        deps.remove(table.name);
        deps.retain(|d| self.get(d).is_some());
        deps
    }
}
