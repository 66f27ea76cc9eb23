//! [`One`], the field type of a `one` relation: not loaded, loaded with no match, or loaded.
//!
//! `Option<Box<T>>` cannot tell "not loaded" from "loaded, no related record", and both then
//! serialise the same way. Drizzle (and SonicJs) answer `"author": null` for the second and
//! leave the key out for the first; `One` keeps the three apart so that JSON can too.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The record of a `#[relation(one, ..)]` field: [`NotLoaded`](One::NotLoaded) until the
/// relation is loaded (`.with(Post::AUTHOR)`), then [`Found`](One::Found) or
/// [`NotFound`](One::NotFound).
///
/// In JSON, with `#[serde(skip_serializing_if = "One::is_not_loaded", default)]` on the field,
/// as Drizzle shapes it: not loaded → the key is absent; not found → `null`; found → the
/// record. Read back, an absent key is `NotLoaded` and `null` is `NotFound`.
///
/// ```
/// # #[cfg(all(feature = "derive", feature = "rusqlite"))] {
/// # pollster::block_on(async {
/// use serde::{Deserialize, Serialize};
/// use sonic_db_core::{sqlite::SqliteBackend, Db, One, Schema};
///
/// #[derive(Debug, Clone, Serialize, Deserialize, sonic_db_core::Table)]
/// #[table(name = "users")]
/// struct User {
///     #[column(primary_key)]
///     id: String,
/// }
///
/// #[derive(Debug, Clone, Serialize, Deserialize, sonic_db_core::Table)]
/// #[table(name = "posts")]
/// struct Post {
///     #[column(primary_key)]
///     id: String,
///     editor_id: Option<String>,
///     #[relation(one, local = editor_id)]
///     #[serde(skip_serializing_if = "One::is_not_loaded", default)]
///     editor: One<User>,
/// }
///
/// let db = Db::new(SqliteBackend::memory()?);
/// for statement in Schema::new().table::<User>().table::<Post>().statements() {
///     db.sql(statement).run().await?;
/// }
/// db.insert(&User { id: "u1".into() }).await?;
/// let post = |id: &str, editor: Option<&str>| Post {
///     id: id.into(),
///     editor_id: editor.map(Into::into),
///     editor: One::NotLoaded,
/// };
/// db.insert_many(&[post("p1", Some("u1")), post("p2", None)]).await?;
///
/// let plain = db.select::<Post>().filter(Post::ID.eq("p2")).one().await?;
/// assert_eq!(serde_json::to_string(&plain)?, r#"{"id":"p2","editor_id":null}"#);
/// let loaded = db.select::<Post>().with(Post::EDITOR).order_by(Post::ID.asc()).all().await?;
/// assert_eq!(loaded[0].editor.get().map(|u| u.id.as_str()), Some("u1"));
/// assert_eq!(
///     serde_json::to_string(&loaded[1])?,
///     r#"{"id":"p2","editor_id":null,"editor":null}"#
/// );
/// let back: Post = serde_json::from_str(r#"{"id":"p2","editor_id":null,"editor":null}"#)?;
/// assert!(matches!(back.editor, One::NotFound));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # }).unwrap();
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub enum One<T> {
    /// The relation was not loaded (absent from JSON).
    #[default]
    NotLoaded,
    /// The relation was loaded and no record matched (`null` in JSON).
    NotFound,
    /// The related record.
    Found(Box<T>),
}

impl<T> One<T> {
    /// The related record, if it was loaded and found.
    ///
    /// ```
    /// use sonic_db_core::One;
    ///
    /// assert_eq!(One::Found(Box::new(7)).get(), Some(&7));
    /// assert_eq!(One::<i32>::NotFound.get(), None);
    /// ```
    pub fn get(&self) -> Option<&T> {
        match self {
            One::Found(record) => Some(record),
            One::NotLoaded | One::NotFound => None,
        }
    }

    /// The related record, owned, if it was loaded and found.
    ///
    /// ```
    /// use sonic_db_core::One;
    ///
    /// assert_eq!(One::Found(Box::new("ada")).into_option(), Some("ada"));
    /// assert_eq!(One::<&str>::NotLoaded.into_option(), None);
    /// ```
    pub fn into_option(self) -> Option<T> {
        match self {
            One::Found(record) => Some(*record),
            One::NotLoaded | One::NotFound => None,
        }
    }

    /// Whether the relation was loaded (found or not).
    ///
    /// ```
    /// use sonic_db_core::One;
    ///
    /// assert!(One::<i32>::NotFound.is_loaded());
    /// assert!(!One::<i32>::NotLoaded.is_loaded());
    /// ```
    pub fn is_loaded(&self) -> bool {
        !self.is_not_loaded()
    }

    /// Whether the relation was not loaded: for
    /// `#[serde(skip_serializing_if = "One::is_not_loaded")]`.
    ///
    /// ```
    /// use sonic_db_core::One;
    ///
    /// assert!(One::<i32>::NotLoaded.is_not_loaded());
    /// assert!(!One::Found(Box::new(1)).is_not_loaded());
    /// ```
    pub fn is_not_loaded(&self) -> bool {
        matches!(self, One::NotLoaded)
    }
}

impl<T> From<Option<T>> for One<T> {
    /// A loaded relation: `Some` is found, `None` not found.
    ///
    /// ```
    /// use sonic_db_core::One;
    ///
    /// assert_eq!(One::from(Some(1)), One::Found(Box::new(1)));
    /// assert_eq!(One::<i32>::from(None), One::NotFound);
    /// ```
    fn from(record: Option<T>) -> Self {
        match record {
            Some(record) => One::Found(Box::new(record)),
            None => One::NotFound,
        }
    }
}

/// `null` unless found (skip the field when not loaded to leave its key out).
impl<T: Serialize> Serialize for One<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            One::Found(record) => serializer.serialize_some(record.as_ref()),
            One::NotLoaded | One::NotFound => serializer.serialize_none(),
        }
    }
}

/// `null` is [`One::NotFound`], a record [`One::Found`]; an absent key (with
/// `#[serde(default)]`) is [`One::NotLoaded`].
impl<'de, T: Deserialize<'de>> Deserialize<'de> for One<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Option::<T>::deserialize(deserializer).map(One::from)
    }
}
