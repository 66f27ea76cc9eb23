//! Relation handles (`User::POSTS`), and the include of a relation alone that the derive makes
//! once, so that `.with(User::POSTS)` allocates nothing.

use super::Eager;
use crate::schema::{RelationDef, Table};

/// A typed handle to a relation of `P` that loads `C` records.
///
/// The derive generates one associated constant per `#[relation]` field (`User::POSTS`); the
/// query layer's `.with(...)` takes it.
///
/// ```
/// # #[cfg(feature = "derive")] {
/// # #[derive(Clone, sonic_db_core::Table)]
/// # struct User { #[column(primary_key)] id: String, #[relation(many, remote = user_id)] posts: Option<Vec<Post>> }
/// # #[derive(Clone, sonic_db_core::Table)]
/// # struct Post { #[column(primary_key)] id: String, user_id: String }
/// let mut user = User { id: "u1".into(), posts: None };
/// User::POSTS.attach(&mut user, vec![Post { id: "p1".into(), user_id: "u1".into() }]);
/// assert_eq!(user.posts.map(|p| p.len()), Some(1));
/// # }
/// ```
pub struct Relation<P: 'static, C: 'static> {
    index: usize,
    attach: fn(&mut P, Vec<C>),
    /// This relation's include with nothing nested and no options, in a static (see
    /// [`Relation::shared`]).
    alone: Option<&'static Eager<P, C>>,
}

impl<P: 'static, C: 'static> Clone for Relation<P, C> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<P: 'static, C: 'static> Copy for Relation<P, C> {}

impl<P: Table, C: Table> Relation<P, C> {
    /// A handle to relation `index` of `P` whose records are stored by `attach`.
    ///
    /// ```
    /// # #[cfg(feature = "derive")] {
    /// # #[derive(Clone, sonic_db_core::Table)]
    /// # struct User { #[column(primary_key)] id: String, #[relation(many, remote = user_id)] posts: Option<Vec<Post>> }
    /// # #[derive(Clone, sonic_db_core::Table)]
    /// # struct Post { #[column(primary_key)] id: String, user_id: String }
    /// use sonic_db_core::Relation;
    /// let posts: Relation<User, Post> = Relation::new(0, |user, posts| user.posts = Some(posts));
    /// assert_eq!(posts.def().name, "posts");
    /// # }
    /// ```
    pub const fn new(index: usize, attach: fn(&mut P, Vec<C>)) -> Self {
        Relation {
            index,
            attach,
            alone: None,
        }
    }

    /// The relation of `alone`, which it is the include of whenever it is included with
    /// nothing nested and no options: a static the derive makes once per relation, so that
    /// such an include is borrowed rather than built on the heap for every select.
    ///
    /// ```
    /// # #[cfg(feature = "derive")] {
    /// # #[derive(Clone, sonic_db_core::Table)]
    /// # struct User { #[column(primary_key)] id: String, #[relation(many, remote = user_id)] posts: Option<Vec<Post>> }
    /// # #[derive(Clone, sonic_db_core::Table)]
    /// # struct Post { #[column(primary_key)] id: String, user_id: String }
    /// use sonic_db_core::{query::Eager, Relation};
    /// static ALONE: Eager<User, Post> =
    ///     Eager::alone(Relation::new(0, |user, posts| user.posts = Some(posts)));
    /// const POSTS: Relation<User, Post> = Relation::shared(&ALONE);
    /// assert_eq!(POSTS.def().name, "posts");
    /// # }
    /// ```
    pub const fn shared(alone: &'static Eager<P, C>) -> Self {
        let relation = alone.relation;
        Relation {
            index: relation.index,
            attach: relation.attach,
            alone: Some(alone),
        }
    }

    /// The relation's definition.
    ///
    /// ```
    /// # #[cfg(feature = "derive")] {
    /// # #[derive(Clone, sonic_db_core::Table)]
    /// # struct User { #[column(primary_key)] id: String, #[relation(many, remote = user_id)] posts: Option<Vec<Post>> }
    /// # #[derive(Clone, sonic_db_core::Table)]
    /// # struct Post { #[column(primary_key)] id: String, user_id: String }
    /// assert_eq!(User::POSTS.def().name, "posts");
    /// # }
    /// ```
    #[allow(clippy::indexing_slicing)] // handles come from `#[derive(Table)]`, whose indexes are checked at compile time
    pub fn def(&self) -> &'static RelationDef {
        &P::DEF.relations[self.index]
    }

    /// The index of the relation in `P`'s [`TableDef::relations`](crate::TableDef::relations).
    pub(crate) fn index(&self) -> usize {
        self.index
    }

    /// The include of this relation alone, if one was made (see [`Relation::shared`]).
    pub(crate) fn alone(&self) -> Option<&'static Eager<P, C>> {
        self.alone
    }

    /// Stores loaded records into the parent's relation field.
    pub fn attach(&self, parent: &mut P, records: Vec<C>) {
        (self.attach)(parent, records)
    }
}

impl<P: 'static, C: 'static> std::fmt::Debug for Relation<P, C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Relation")
            .field("parent", &std::any::type_name::<P>())
            .field("child", &std::any::type_name::<C>())
            .field("index", &self.index)
            .finish()
    }
}

#[cfg(all(test, feature = "derive"))]
mod tests {
    use std::borrow::Cow;

    use crate::query::Include;

    #[derive(Clone, crate::Table)]
    #[table(name = "authors")]
    struct Author {
        #[column(primary_key)]
        id: i64,
        #[relation(many, remote = author_id)]
        books: Option<Vec<Book>>,
    }

    #[derive(Clone, crate::Table)]
    #[table(name = "books")]
    struct Book {
        #[column(primary_key)]
        id: i64,
        author_id: i64,
    }

    fn is_shared(include: &Include<Author>) -> bool {
        matches!(include.loader, Cow::Borrowed(_))
    }

    #[test]
    fn a_derived_relation_alone_is_included_by_reference_until_changed() {
        let alone = Include::from(Author::BOOKS);
        assert!(is_shared(&alone));
        assert!(is_shared(&alone.clone()));
        let capped = alone.limit_each(2);
        assert!(!is_shared(&capped));
        assert_eq!(capped.sql().level().limit, Some(2));
        // The static is as it was.
        assert_eq!(Include::from(Author::BOOKS).sql().level().limit, None);
        let built = super::Relation::<Author, Book>::new(0, |author, books| {
            author.books = Some(books);
        });
        assert!(!is_shared(&Include::from(built)));
    }
}
