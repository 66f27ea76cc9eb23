//! Derive macros of Sonic: `#[derive(Table)]` and `#[derive(TextEnum)]`.
//!
//! Use them through `sonic-db` (or `sonic-db-core` with feature `derive`), which re-export
//! both: the generated code names the one of the two that the using crate depends on.
//!
//! The crate is laid out like `serde_derive`: `internals` reads the input once into a model
//! (`ast`, `attr`), checks it across fields (`check`) and collects *every* error with its span
//! (`ctxt`) before anything is generated; `expand` turns the checked model into code, one module
//! per artifact (the `Table` impl, the column and relation handles, the `TextEnum` impls).

use proc_macro::TokenStream;
use syn::{parse_macro_input, DeriveInput};

mod expand;
mod internals;

/// Derives `sonic_db_core::Table` for a struct with named fields, plus one typed handle per
/// column and per relation.
///
/// # Attributes
///
/// On the struct:
/// - `#[table(name = "users")]`: the SQL table name. By default, Diesel's convention: the
///   struct name in `snake_case` plus `s` (`Post` → `posts`, `BlogPost` → `blog_posts`,
///   `Category` → `categorys`: no English plural rules, so name irregular tables explicitly).
///
/// On a field (every field is a column unless it has `#[audit]` or `#[relation]`), any subset of:
/// - `#[column(primary_key)]`: exactly one field, not an `Option`.
/// - `#[column(unique)]`, `#[column(index)]`: a `UNIQUE` constraint, a `CREATE INDEX`.
/// - `#[column(rename = "user_id")]`: the SQL name (default: the field name).
/// - `#[column(default = "<SQL expression>")]`: written verbatim after `DEFAULT`.
/// - `#[column(references = User::ID)]`: a foreign key to another table's column handle (a
///   misspelt handle, or one whose values have another type, is a compile error), optionally
///   with `on_delete = "cascade" | "set null" | "set default" | "restrict" | "no action"`.
///
/// `#[audit]` on a field of type `sonic_db_core::Audit` stores two `INTEGER NOT NULL` columns,
/// `created_on` and `updated_on` (Unix milliseconds, defaulting to the insert time for raw SQL
/// inserts), with handles `CREATED_ON` / `UPDATED_ON`; `Table::touch` fills them.
///
/// Relations are fields that are not columns; they start unloaded (`None`,
/// `One::NotLoaded`):
/// - `#[relation(many, remote = user_id)]` on `Option<Vec<Post>>`: the related table's
///   `user_id` refers to this table's `local` column (default: the primary key).
/// - `#[relation(one, local = user_id)]` on `sonic_db_core::One<User>`: this table's `user_id`
///   refers to the related table's `remote` column (default: its primary key). Once loaded it
///   is `One::Found` or `One::NotFound` (`null` in JSON, where not loaded can be absent).
///
/// `local` names a field of this struct, `remote` a field of the related one.
///
/// # Generated items
///
/// - `impl sonic_db_core::Table` (the static `TableDef`, `encode_into`, `column_value`, `decode`,
///   `touch`, and `column_from_value` / `column_from_json`, which check untyped input against
///   each field's Rust type).
/// - `pub const FIELD: Column<Self, Operand>` per column (`User::EMAIL`) and
///   `pub const RELATION: Relation<Self, Target>` per relation (`User::POSTS`).
///
/// # Example
///
/// ```
/// use sonic_db_core::{Audit, One, Table};
///
/// #[derive(sonic_db_core::Table)]
/// pub struct User {
///     #[column(primary_key)]
///     pub id: String,
///     #[column(unique)]
///     pub email: String,
///     #[audit]
///     pub audit: Audit,
///     #[relation(many, remote = user_id)]
///     pub posts: Option<Vec<Post>>,
/// }
///
/// #[derive(sonic_db_core::Table)]
/// pub struct Post {
///     #[column(primary_key)]
///     pub id: String,
///     #[column(references = User::ID, on_delete = "cascade")]
///     pub user_id: String,
///     #[relation(one, local = user_id)]
///     pub author: One<User>,
/// }
///
/// assert_eq!(User::DEF.name, "users");
/// assert_eq!(User::EMAIL.name(), "email");
/// assert_eq!(User::UPDATED_ON.name(), "updated_on");
/// assert_eq!((Post::AUTHOR.def().remote)(), User::ID.index());
/// ```
#[proc_macro_derive(Table, attributes(table, column, relation, audit))]
pub fn derive_table(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    expand::derive_table(&input)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

/// Derives `ToValue`, `FromValue` and `ColumnType` for a fieldless enum stored as `TEXT`.
///
/// Each variant is stored as the `snake_case` of its name, or as `#[text(rename = "...")]`.
/// Unknown text decodes to an error listing the accepted texts.
///
/// ```
/// use sonic_db_core::{FromValue, ToValue, Value};
///
/// #[derive(Debug, PartialEq, sonic_db_core::TextEnum)]
/// pub enum Role {
///     Admin,
///     #[text(rename = "member")]
///     User,
/// }
///
/// assert_eq!(Role::Admin.to_value().unwrap(), Value::Text("admin".into()));
/// assert_eq!(Role::from_value(Value::Text("member".into())).unwrap(), Role::User);
/// let err = Role::from_value(Value::Text("root".into())).unwrap_err();
/// assert_eq!(
///     err.to_string(),
///     r#"expected one of "admin", "member" (Role), found TEXT "root""#
/// );
/// ```
#[proc_macro_derive(TextEnum, attributes(text))]
pub fn derive_text_enum(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    expand::derive_text_enum(&input)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}
