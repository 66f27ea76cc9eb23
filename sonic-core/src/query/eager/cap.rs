//! A cap on how many records every `many` level of an include loads per parent, for callers
//! (an API) that load relations a client names and must keep one answer within the
//! platform's result size whatever the data holds.

use super::{Eager, Include};
use crate::schema::{RelationKind, Table};

impl<P: 'static> Include<P> {
    /// Loads at most `n` records per parent in this relation and in every relation nested
    /// below it that is `many` (a lower limit already set on a level stays). The cap is part of
    /// the SQL (each level's `LIMIT`), so no more than that is read or sent; children are the
    /// first ones in the level's order (by default their primary key). Load `n + 1` to tell a
    /// capped list from one that happens to hold `n` records.
    ///
    /// ```
    /// # #[cfg(all(feature = "derive", feature = "rusqlite"))] {
    /// # use sonic_db_core::{sqlite::SqliteBackend, Db, Error, Schema};
    /// # use sonic_db_core::query::Include;
    /// # #[derive(Debug, Clone, PartialEq, sonic_db_core::Table)]
    /// # #[table(name = "users")]
    /// # struct User { #[column(primary_key)] id: String, #[relation(many, remote = user_id)] posts: Option<Vec<Post>> }
    /// # #[derive(Debug, Clone, PartialEq, sonic_db_core::Table)]
    /// # #[table(name = "posts")]
    /// # struct Post { #[column(primary_key)] id: String, #[column(references = User::ID)] user_id: String, #[relation(many, remote = post_id)] comments: Option<Vec<Comment>> }
    /// # #[derive(Debug, Clone, PartialEq, sonic_db_core::Table)]
    /// # #[table(name = "comments")]
    /// # struct Comment { #[column(primary_key)] id: String, #[column(references = Post::ID)] post_id: String }
    /// # pollster::block_on(async {
    /// # let db = Db::new(SqliteBackend::memory()?);
    /// # for s in Schema::new().table::<User>().table::<Post>().table::<Comment>().statements() { db.sql(s).run().await?; }
    /// # db.insert(&User { id: "u1".into(), posts: None }).await?;
    /// # for p in ["p1", "p2", "p3"] { db.insert(&Post { id: p.into(), user_id: "u1".into(), comments: None }).await?; }
    /// # for (c, p) in [("c1", "p1"), ("c2", "p1"), ("c3", "p1")] { db.insert(&Comment { id: c.into(), post_id: p.into() }).await?; }
    /// let include: Include<User> = User::POSTS.with(Post::COMMENTS).into();
    /// let user = db.select::<User>().with(include.limit_each(2)).one().await?;
    /// let posts = user.posts.unwrap_or_default();
    /// assert_eq!(posts.len(), 2); // p1, p2
    /// assert_eq!(posts[0].comments.as_ref().map(Vec::len), Some(2)); // c1, c2
    /// # Ok::<(), sonic_db_core::Error>(())
    /// # }).unwrap();
    /// # }
    /// ```
    pub fn limit_each(mut self, n: u64) -> Include<P> {
        self.loader_mut().cap_each(n);
        self
    }
}

impl<P: Table, C: Table + Clone> Eager<P, C> {
    /// See [`Include::limit_each`].
    pub(super) fn cap_levels(&mut self, n: u64) {
        if self.relation.def().kind == RelationKind::Many {
            self.level.limit = Some(self.level.limit.map_or(n, |limit| limit.min(n)));
        }
        for nested in &mut self.nested {
            nested.loader_mut().cap_each(n);
        }
    }
}
