//! Relation filters: conditions on a record's related records, compiled to correlated
//! `EXISTS` subqueries, so they combine with any other filter and work wherever a filter does
//! (selects, counts, pages, `update_where`, `delete_where`, and selects that load relations).

use crate::query::eager::Relation;
use crate::query::filter::Filter;
use crate::schema::Table;
use crate::sql::filter::Expr;

/// The examples run on users `u1` (an admin) and `u2`, and posts `p1` "Hello Rust" and `p2`
/// "Notes" by `u1`; `u2` has written nothing. Their setup lines are hidden.
impl<P: Table, C: Table> Relation<P, C> {
    /// Some related record matches `filter`: along a `many` relation, "users with a post
    /// whose title contains …"; through a `one` relation, a comparison on the related record
    /// ("posts whose author is an admin"). `and([])` matches any related record.
    ///
    /// A `one` relation whose key is `NULL` or names no record has nothing to match.
    ///
    /// ```
    /// # #[cfg(all(feature = "derive", feature = "rusqlite"))] {
    /// # use sonic_db_core::{sqlite::SqliteBackend, Db, One, Schema};
    /// # #[derive(Debug, Clone, sonic_db_core::Table)]
    /// # #[table(name = "users")]
    /// # struct User { #[column(primary_key)] id: String, admin: bool, #[relation(many, remote = user_id)] posts: Option<Vec<Post>> }
    /// # #[derive(Debug, Clone, sonic_db_core::Table)]
    /// # #[table(name = "posts")]
    /// # struct Post { #[column(primary_key)] id: String, #[column(references = User::ID)] user_id: String, title: String, #[relation(one, local = user_id)] author: One<User> }
    /// # pollster::block_on(async {
    /// # let db = Db::new(SqliteBackend::memory()?);
    /// # for s in Schema::new().table::<User>().table::<Post>().statements() { db.sql(s).run().await?; }
    /// # db.insert_many(&[User { id: "u1".into(), admin: true, posts: None }, User { id: "u2".into(), admin: false, posts: None }]).await?;
    /// # let post = |id: &str, title: &str| Post { id: id.into(), user_id: "u1".into(), title: title.into(), author: One::NotLoaded };
    /// # db.insert_many(&[post("p1", "Hello Rust"), post("p2", "Notes")]).await?;
    /// use sonic_db_core::query::and;
    ///
    /// let rustaceans = db
    ///     .select::<User>()
    ///     .filter(User::POSTS.exists(Post::TITLE.contains("rust")))
    ///     .all()
    ///     .await?;
    /// assert_eq!(rustaceans.len(), 1);
    /// let by_admins = Post::AUTHOR.exists(User::ADMIN.eq(true));
    /// assert_eq!(db.select::<Post>().filter(by_admins).count().await?, 2);
    /// let writers = db.select::<User>().filter(User::POSTS.exists(and([]))).count().await?;
    /// assert_eq!(writers, 1);
    /// # Ok::<(), sonic_db_core::Error>(())
    /// # }).unwrap();
    /// # }
    /// ```
    pub fn exists(self, filter: Filter<C>) -> Filter<P> {
        self.related(filter, false)
    }

    /// No related record matches `filter` (`NOT EXISTS`): "users without a post about …";
    /// with `and([])`, records without any related record.
    ///
    /// ```
    /// # #[cfg(all(feature = "derive", feature = "rusqlite"))] {
    /// # use sonic_db_core::{sqlite::SqliteBackend, Db, One, Schema};
    /// # #[derive(Debug, Clone, sonic_db_core::Table)]
    /// # #[table(name = "users")]
    /// # struct User { #[column(primary_key)] id: String, admin: bool, #[relation(many, remote = user_id)] posts: Option<Vec<Post>> }
    /// # #[derive(Debug, Clone, sonic_db_core::Table)]
    /// # #[table(name = "posts")]
    /// # struct Post { #[column(primary_key)] id: String, #[column(references = User::ID)] user_id: String, title: String, #[relation(one, local = user_id)] author: One<User> }
    /// # pollster::block_on(async {
    /// # let db = Db::new(SqliteBackend::memory()?);
    /// # for s in Schema::new().table::<User>().table::<Post>().statements() { db.sql(s).run().await?; }
    /// # db.insert_many(&[User { id: "u1".into(), admin: true, posts: None }, User { id: "u2".into(), admin: false, posts: None }]).await?;
    /// # let post = |id: &str, title: &str| Post { id: id.into(), user_id: "u1".into(), title: title.into(), author: One::NotLoaded };
    /// # db.insert_many(&[post("p1", "Hello Rust"), post("p2", "Notes")]).await?;
    /// use sonic_db_core::query::and;
    ///
    /// // Deletes u2, who has written nothing; in one statement.
    /// let silent = db.delete_where::<User>().filter(User::POSTS.not_exists(and([])));
    /// assert_eq!(silent.run().await?, 1);
    /// assert_eq!(db.select::<User>().count().await?, 1);
    /// # Ok::<(), sonic_db_core::Error>(())
    /// # }).unwrap();
    /// # }
    /// ```
    pub fn not_exists(self, filter: Filter<C>) -> Filter<P> {
        self.related(filter, true)
    }

    fn related(self, filter: Filter<C>, negated: bool) -> Filter<P> {
        Filter::from_expr(Expr::Related {
            relation: self.index(),
            filter: Box::new(filter.expr),
            negated,
        })
    }
}
