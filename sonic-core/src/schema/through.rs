//! Many-to-many relations: a post's categories through `categories_to_posts`, SonicJs's
//! `categoriesToPosts` shape (a join table with one column referencing each side).

use super::TableDef;

/// The join table of a many-to-many relation, declared with
/// `#[relation(many, through = CategoryToPost, from = post_id, to = category_id)]`: `from`
/// holds this table's key (the relation's `local` column), `to` the related table's primary
/// key. Eager loads, relation filters and link/unlink go through it; the join table's two
/// columns get indexes in generated migrations.
///
/// ```
/// # #[cfg(feature = "derive")] {
/// # #[derive(Debug, Clone, sonic_db_core::Table)]
/// # #[table(name = "posts")]
/// # struct Post { #[column(primary_key)] id: String,
/// #   #[relation(many, through = CategoryToPost, from = post_id, to = category_id)] categories: Option<Vec<Category>> }
/// # #[derive(Debug, Clone, sonic_db_core::Table)]
/// # #[table(name = "categories")]
/// # struct Category { #[column(primary_key)] id: String, title: String }
/// # #[derive(Debug, Clone, sonic_db_core::Table)]
/// # #[table(name = "categories_to_posts")]
/// # struct CategoryToPost { #[column(primary_key)] id: String,
/// #   #[column(references = Post::ID)] post_id: String, #[column(references = Category::ID)] category_id: String }
/// let through = Post::CATEGORIES.def().through.expect("a many-to-many relation");
/// assert_eq!((through.table)().name, "categories_to_posts");
/// assert_eq!((through.from)(), CategoryToPost::POST_ID.index());
/// assert_eq!((through.to)(), CategoryToPost::CATEGORY_ID.index());
/// # }
/// ```
#[derive(Debug, Clone, Copy)]
pub struct ThroughDef {
    /// The join table.
    pub table: fn() -> &'static TableDef,
    /// Index of the join table's column that holds this table's key.
    pub from: fn() -> usize,
    /// Index of the join table's column that holds the related table's primary key.
    pub to: fn() -> usize,
}
