//! The live database read back through the backend (#12 item 6, `check` on D1): the suite's
//! tables, as the backend reports them through SQLite's table-valued `PRAGMA` functions, are
//! exactly the schema that created them.

use sonic_db_core::migrate::{drift, inspect_db, MigrateError, SchemaSnapshot};

use crate::check::{all, ensure, same, Outcome};
use crate::ctx::Ctx;
use crate::tables::{schema, table_names};

/// No drift between the suite's tables and its schema; and the parts a snapshot reads back
/// that the other scenarios do not observe: the composite `UNIQUE`, the `STRICT` flag, the
/// foreign key and its `ON DELETE`.
pub(crate) async fn schema_inspection(ctx: &Ctx) -> Outcome {
    let live = inspect_db(&ctx.db)
        .await
        .map_err(|e: MigrateError| format!("inspect_db: unexpected error: {e}"))?;
    // The database holds the application's tables too: compare the suite's only.
    let names = table_names();
    let ours = SchemaSnapshot {
        tables: live
            .tables
            .iter()
            .filter(|t| names.contains(&t.name.as_str()))
            .cloned()
            .collect(),
        ..SchemaSnapshot::default()
    };
    let differences: Vec<String> = drift(&ours, &schema().snapshot())
        .iter()
        .map(ToString::to_string)
        .collect();
    let items = ours.table("conf_items");
    let posts = ours.table("conf_posts");
    let reference = posts
        .and_then(|p| p.column("user_id"))
        .and_then(|c| c.references.as_ref())
        .map(|r| (r.table.as_str(), r.column.as_str(), r.on_delete.as_deref()));
    all([
        same("drift from the schema", &Vec::<String>::new(), &differences),
        same(
            "conf_items' composite UNIQUE",
            &Some(vec![vec!["shop".to_string(), "sku".to_string()]]),
            &items.map(|t| t.unique.clone()),
        ),
        ensure(items.is_some_and(|t| t.strict), || {
            format!("conf_items is not read back as STRICT: {items:?}")
        }),
        same(
            "conf_posts.user_id's reference",
            &Some(("conf_users", "id", Some("CASCADE"))),
            &reference,
        ),
    ])
}
