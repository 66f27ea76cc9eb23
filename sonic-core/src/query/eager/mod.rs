//! Eager relations: `.with(User::POSTS.with(Post::COMMENTS))`.
//!
//! Two strategies, chosen by the backend's [`EagerStrategy`](crate::EagerStrategy):
//!
//! - **Single statement** (D1, where a round trip costs milliseconds): every relation is a
//!   correlated subquery in the parent's select list, aggregated with
//!   `json_group_array(json_array(col, …))`, nested relations being nested subqueries inside
//!   the `json_array`, as Drizzle does. Positional arrays rather than `json_object`: cheaper to
//!   build and to read. BLOBs have no JSON form and travel as `hex()`.
//! - **Per level** (in-process SQLite, where JSON costs CPU and round trips are free): the
//!   parents, then one `WHERE fk IN (…keys…) ORDER BY fk, pk` statement per relation and level
//!   (chunked under the parameter limit, chunks batched into one round trip), grouped and
//!   attached in Rust. When a select without order, limit or offset loads a single `many`
//!   relation to a table with an INTEGER primary key, that first level rides in the parents'
//!   statement instead, as a `LEFT JOIN` (one statement and one index probe per parent, where
//!   the `IN` list costs a second statement and a temporary B-tree of the keys); the rows are
//!   grouped back by the parent's key, and deeper levels load per level as above.
//!
//! In a single statement, a `one` relation to its table's primary key with nothing nested
//! and no level options is not a subquery but a `LEFT JOIN`, its record's columns plain cells
//! of the parent's row (`crate::sql::eager::joins_one`); a select whose relations are all
//! such loads that way on every backend when it reads at most 100 records.
//!
//! The SQL of each is in `crate::sql::eager`; this module runs it and attaches the records:
//! `embedded` (single statement), `per_level`, `joined`; natively `joined_stream` and
//! `ones_stream` read the joined selects from the rows SQLite lends.
//!
//! Either way, children are ordered by their primary key and every value is decoded by the
//! same [`FromValue`](crate::FromValue) conversions as a top-level column: JSON only carries
//! the storage class, the column's declared type says how to read it back, so a bool, a
//! `Json<T>`, a BLOB or an `i64::MIN` come out of a nested relation exactly as they went in.

mod cap;
mod embedded;
mod joined;
#[cfg(not(target_arch = "wasm32"))]
mod joined_stream;
mod json;
mod key;
#[cfg(not(target_arch = "wasm32"))]
mod ones_stream;
mod options;
mod per_level;
mod relation;
mod through;

use std::any::Any;
use std::borrow::Cow;
use std::fmt;

use crate::db::Db;
use crate::error::{Error, Result};
#[cfg(not(target_arch = "wasm32"))]
use crate::row::Row;
use crate::schema::{RelationDef, Table, TableDef};
use crate::sql::eager::{EagerSql, LevelSql};
use crate::value::{ConvertError, Value};

pub(crate) use embedded::{decode_embedded, PayloadSink};
#[cfg(target_arch = "wasm32")]
pub(crate) use joined::load_joined;
pub(crate) use joined::JoinedRows;
#[cfg(not(target_arch = "wasm32"))]
pub(crate) use joined::{group_joined, Grouped};
#[cfg(not(target_arch = "wasm32"))]
pub(crate) use joined_stream::{load_joined_now, load_joined_streamed};
#[cfg(not(target_arch = "wasm32"))]
pub(crate) use ones_stream::load_joined_ones_now;
pub use relation::Relation;

/// A relation of `P` to load along with it, with whatever is nested below it.
///
/// Built from a relation handle (`User::POSTS`) or an [`Eager`]
/// (`User::POSTS.with(Post::COMMENTS)`); [`Select::with`](crate::query::Select::with) takes
/// either.
pub struct Include<P: 'static> {
    /// The static of a relation alone (see [`Relation::shared`]), or a loader of its own once
    /// it nests or has options.
    loader: Cow<'static, dyn Loader<P>>,
}

/// A loader of its own, copied from a shared one (see [`Include`]).
impl<P> ToOwned for dyn Loader<P> {
    type Owned = Box<dyn Loader<P>>;

    fn to_owned(&self) -> Box<dyn Loader<P>> {
        self.boxed()
    }
}

impl<P: 'static> fmt::Debug for Include<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Include").field(&self.name()).finish()
    }
}

/// A relation of `P` to `C` with relations of `C` nested below it.
///
/// Related records are cloned when several parents share them (a `one` relation such as a
/// post's author), hence `C: Clone`.
pub struct Eager<P: 'static, C: 'static> {
    relation: Relation<P, C>,
    nested: Includes<C>,
    /// Filter, order, limit and offset of this level (see `options`).
    level: LevelSql,
}

impl<P: 'static, C: 'static> fmt::Debug for Eager<P, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Eager")
            .field("relation", &self.relation)
            .field("nested", &self.nested)
            .field("level", &self.level)
            .finish()
    }
}

impl<P: Table, C: Table + Clone> Relation<P, C> {
    /// Loads this relation and, below it, `nested` (a relation of the related table).
    pub fn with(self, nested: impl Into<Include<C>>) -> Eager<P, C> {
        Eager {
            relation: self,
            nested: Includes::from_iter([nested.into()]),
            level: LevelSql::default(),
        }
    }
}

impl<P: Table, C: Table> Eager<P, C> {
    /// `relation` with nothing nested and no options, as a constant: what the derive keeps in
    /// a static for [`Relation::shared`].
    ///
    /// ```
    /// # #[cfg(feature = "derive")] {
    /// # #[derive(Clone, sonic_db_core::Table)]
    /// # struct User { #[column(primary_key)] id: String, #[relation(many, remote = user_id)] posts: Option<Vec<Post>> }
    /// # #[derive(Clone, sonic_db_core::Table)]
    /// # struct Post { #[column(primary_key)] id: String, user_id: String }
    /// use sonic_db_core::{query::Eager, Relation};
    /// static ALONE: Eager<User, Post> = Eager::alone(User::POSTS);
    /// assert_eq!(Relation::shared(&ALONE).def().name, "posts");
    /// # }
    /// ```
    pub const fn alone(relation: Relation<P, C>) -> Eager<P, C> {
        Eager {
            relation,
            nested: no_includes(),
            level: LevelSql::NONE,
        }
    }
}

#[cfg(not(target_arch = "wasm32"))]
const fn no_includes<P: 'static>() -> Includes<P> {
    Includes::new_const()
}

#[cfg(target_arch = "wasm32")]
const fn no_includes<P: 'static>() -> Includes<P> {
    Vec::new()
}

impl<P: Table, C: Table + Clone> Eager<P, C> {
    /// Also loads `nested` below this relation. As in
    /// [`Select::with`](crate::query::Select::with), includes of the same relation merge.
    pub fn with(mut self, nested: impl Into<Include<C>>) -> Eager<P, C> {
        merge_include(&mut self.nested, nested.into());
        self
    }
}

/// The relations loaded with a select, or below a relation: most loads name one, kept inline
/// rather than in a heap vector of its own.
#[cfg(not(target_arch = "wasm32"))]
pub(crate) type Includes<P> = smallvec::SmallVec<[Include<P>; 1]>;

/// On wasm32 a plain vector: an allocation costs little next to a round trip, and a
/// `SmallVec` per table type costs the Worker's size.
#[cfg(target_arch = "wasm32")]
pub(crate) type Includes<P> = Vec<Include<P>>;

/// Adds `include` to `includes`, merging it into an include of the same relation (the same
/// field of `P`) if there is one: a relation field is filled once, with everything asked for
/// below it.
pub(crate) fn merge_include<P: 'static>(includes: &mut Includes<P>, include: Include<P>) {
    if includes.is_empty() {
        includes.push(include);
        return;
    }
    let name = include.name();
    match includes.iter_mut().find(|i| i.name() == name) {
        None => includes.push(include),
        Some(existing) => {
            if let Err(other) = existing.loader_mut().merge(include.into_owned()) {
                // Not the same relation type (only possible with hand-built definitions that
                // give two relations one name): the later one replaces the earlier.
                existing.loader = Cow::Owned(other);
            }
        }
    }
}

/// The relations of a select with what is nested below them, `posts(comments), author`, for
/// the `sonic::eager` event: written only when the event is.
pub(crate) struct IncludeNames<'a, P: 'static>(pub(crate) &'a [Include<P>]);

impl<P: 'static> fmt::Display for IncludeNames<'_, P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fn write(f: &mut fmt::Formatter<'_>, include: &dyn EagerSql) -> fmt::Result {
            f.write_str(include.relation().name)?;
            if include.nested_len() > 0 {
                f.write_str("(")?;
                for (i, nested) in (0..include.nested_len())
                    .filter_map(|i| include.nested(i))
                    .enumerate()
                {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write(f, nested)?;
                }
                f.write_str(")")?;
            }
            Ok(())
        }
        for (i, include) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write(f, include.sql())?;
        }
        Ok(())
    }
}

impl<P: 'static> Include<P> {
    /// The relation's field name.
    pub(crate) fn name(&self) -> &'static str {
        self.loader().sql().relation().name
    }

    /// The include as the SQL compiler sees it.
    pub(crate) fn sql(&self) -> &dyn EagerSql {
        self.loader().sql()
    }

    pub(crate) fn loader(&self) -> &dyn Loader<P> {
        &*self.loader
    }

    /// The loader, made this include's own first if it is shared.
    pub(crate) fn loader_mut(&mut self) -> &mut dyn Loader<P> {
        self.loader.to_mut().as_mut()
    }

    fn into_owned(self) -> Box<dyn Loader<P>> {
        self.loader.into_owned()
    }
}

impl<P: Table, C: Table + Clone> From<Relation<P, C>> for Include<P> {
    fn from(relation: Relation<P, C>) -> Include<P> {
        match relation.alone() {
            Some(alone) => Include {
                loader: Cow::Borrowed(alone),
            },
            None => Eager::alone(relation).into(),
        }
    }
}

impl<P: Table, C: Table + Clone> From<Eager<P, C>> for Include<P> {
    fn from(eager: Eager<P, C>) -> Include<P> {
        Include {
            loader: Cow::Owned(Box::new(eager) as Box<dyn Loader<P>>),
        }
    }
}

impl<P: 'static> Clone for Include<P> {
    fn clone(&self) -> Self {
        Include {
            loader: self.loader.clone(),
        }
    }
}

/// What a select needs from one relation to load it, with the child type erased. Its SQL is
/// written from its [`EagerSql`] description.
#[cfg_attr(not(target_arch = "wasm32"), async_trait::async_trait)]
#[cfg_attr(target_arch = "wasm32", async_trait::async_trait(?Send))]
pub(crate) trait Loader<P>: Send + Sync {
    /// The relation and what is nested below it, for the SQL compiler.
    fn sql(&self) -> &dyn EagerSql;

    /// Merges `other`, an include of the same relation, into this one (the union of their
    /// nested includes); gives it back if it is not of this relation's type.
    fn merge(&mut self, other: Box<dyn Loader<P>>) -> Result<(), Box<dyn Loader<P>>>;

    /// A copy of this loader of its own (to change a shared one, or clone an include).
    fn boxed(&self) -> Box<dyn Loader<P>>;

    /// For [`Loader::merge`]: the loader as `Any`, to find its concrete type.
    fn as_any(&self) -> &dyn Any;

    /// For [`Loader::merge`]: the loader as `Any`, to take its concrete type.
    fn into_any(self: Box<Self>) -> Box<dyn Any>;

    /// Caps every `many` level (this one and those nested) at `n` records per parent; see
    /// [`Include::limit_each`].
    fn cap_each(&mut self, n: u64);

    /// Where this relation's JSON payloads (single statement) are read into, nested
    /// relations included, for their parents.
    fn payload_sink(&self) -> Box<dyn PayloadSink<P> + '_>;

    /// Decodes this `one` relation's record from its columns in a single-statement select's
    /// row (`crate::sql::eager::joins_one`) and stores it into `parent`; none when its
    /// primary key is `NULL` (no match).
    fn attach_columns(&self, parent: &mut P, cells: &mut [Value]) -> Result<()>;

    /// [`Loader::attach_columns`] from the cells of a row the backend lends.
    #[cfg(not(target_arch = "wasm32"))]
    fn attach_lent(&self, parent: &mut P, cells: &dyn Row) -> Result<()>;

    /// Loads this relation (and what is nested below) for all `parents` with one statement
    /// per level.
    async fn load_level(&self, db: &Db, parents: &mut [P]) -> Result<()>;

    /// Decodes the children in the rows of a joined select, loads what is nested below them
    /// level by level, and attaches them (an empty list to parents without any).
    async fn attach_joined(&self, db: &Db, parents: &mut [P], rows: JoinedRows<'_>) -> Result<()>;

    /// [`Loader::attach_joined`] without a future, when nothing is nested below this relation;
    /// `None` otherwise (those levels need the database).
    #[cfg(not(target_arch = "wasm32"))]
    fn attach_joined_now(&self, parents: &mut [P], rows: JoinedRows<'_>) -> Option<Result<()>>;
}

impl<P: Table, C: Table + Clone> EagerSql for Eager<P, C> {
    fn parent(&self) -> &'static TableDef {
        P::DEF
    }

    fn relation(&self) -> &'static RelationDef {
        self.relation.def()
    }

    fn relation_index(&self) -> usize {
        self.relation.index()
    }

    fn nested_len(&self) -> usize {
        self.nested.len()
    }

    fn nested(&self, index: usize) -> Option<&dyn EagerSql> {
        self.nested.get(index).map(Include::sql)
    }

    fn level(&self) -> &LevelSql {
        &self.level
    }
}

#[cfg_attr(not(target_arch = "wasm32"), async_trait::async_trait)]
#[cfg_attr(target_arch = "wasm32", async_trait::async_trait(?Send))]
impl<P: Table, C: Table + Clone> Loader<P> for Eager<P, C> {
    fn sql(&self) -> &dyn EagerSql {
        self
    }

    fn merge(&mut self, other: Box<dyn Loader<P>>) -> Result<(), Box<dyn Loader<P>>> {
        if !other.as_any().is::<Self>() {
            return Err(other);
        }
        if let Ok(other) = other.into_any().downcast::<Self>() {
            if !other.level.is_plain() {
                self.level = other.level;
            }
            for nested in other.nested {
                merge_include(&mut self.nested, nested);
            }
        }
        Ok(())
    }

    fn boxed(&self) -> Box<dyn Loader<P>> {
        Box::new(Eager {
            relation: self.relation,
            nested: self.nested.clone(),
            level: self.level.clone(),
        })
    }

    fn as_any(&self) -> &dyn Any {
        self
    }

    fn into_any(self: Box<Self>) -> Box<dyn Any> {
        self
    }

    fn cap_each(&mut self, n: u64) {
        self.cap_levels(n);
    }

    fn payload_sink(&self) -> Box<dyn PayloadSink<P> + '_> {
        Box::new(self.related())
    }

    fn attach_columns(&self, parent: &mut P, cells: &mut [Value]) -> Result<()> {
        self.attach_joined_one(parent, cells)
    }

    #[cfg(not(target_arch = "wasm32"))]
    fn attach_lent(&self, parent: &mut P, cells: &dyn Row) -> Result<()> {
        self.attach_lent_one(parent, cells)
    }

    async fn load_level(&self, db: &Db, parents: &mut [P]) -> Result<()> {
        if self.relation.def().through.is_some() {
            return self.load_through(db, parents).await;
        }
        self.load_per_level(db, parents).await
    }

    async fn attach_joined(&self, db: &Db, parents: &mut [P], rows: JoinedRows<'_>) -> Result<()> {
        self.attach_joined_rows(db, parents, rows).await
    }

    #[cfg(not(target_arch = "wasm32"))]
    fn attach_joined_now(&self, parents: &mut [P], rows: JoinedRows<'_>) -> Option<Result<()>> {
        self.attach_joined_rows_now(parents, rows)
    }
}

impl<P: Table, C: Table + Clone> Eager<P, C> {
    /// A decode error of this relation's payload, naming the parent table and the relation.
    pub(super) fn shape_error(&self, expected: &'static str, found: impl Into<String>) -> Error {
        Error::decode(
            P::DEF.name,
            self.relation.def().name,
            ConvertError::new(expected, found),
        )
    }
}
