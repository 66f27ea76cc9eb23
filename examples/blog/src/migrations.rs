//! The seed schema as one [`Schema`], the unit that DDL and migrations are generated for.
//!
//! The example Worker's `migrations/` directory is generated from it by the `migrations`
//! binary (`cargo run -p sonic-example-blog --bin migrations -- generate NAME`),
//! and `tests/worker_migrations.rs` fails when the committed migrations fall behind it. Keeping
//! the list here, in the library, means the binary, that test and the native example all
//! describe the same tables.

use sonic_db_core::Schema;

use crate::schema::{Comment, Post, User};

/// The example Worker's migrations directory, relative to the workspace root.
pub const WORKER_MIGRATIONS: &str = "examples/worker/migrations";

/// Every table of the seed: users, posts, comments (created in that order: each after the
/// tables it refers to).
///
/// ```
/// let schema = sonic_example_blog::migrations::schema();
/// let names: Vec<&str> = schema.tables().iter().map(|t| t.name).collect();
/// assert_eq!(names, ["users", "posts", "comments"]);
/// ```
pub fn schema() -> Schema {
    Schema::new()
        .table::<User>()
        .table::<Post>()
        .table::<Comment>()
}
