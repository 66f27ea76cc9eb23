//! Insert, find, update, upsert, delete: returned values and audit columns.

use sonic_db_core::{Audit, Error};

use crate::check::{expect_error, same, Outcome, Step};
use crate::ctx::Ctx;
use crate::tables::ConfUser;

/// `record` with the audit columns a write at these times stamps.
pub(crate) fn audited(mut user: ConfUser, created_on: i64, updated_on: i64) -> ConfUser {
    user.audit = Audit {
        created_on,
        updated_on,
    };
    user
}

/// The record read back through every path: cached find, fresh find, select by key.
pub(crate) async fn read_back(ctx: &Ctx, what: &str, expected: Option<&ConfUser>) -> Outcome {
    let id = expected.map_or("", |u| u.id.as_str());
    let found = ctx
        .db
        .find::<ConfUser>(id)
        .await
        .step(format!("{what}: find"))?;
    same(&format!("{what}: find"), &expected, &found.as_ref())?;
    let fresh = ctx
        .db
        .find_fresh::<ConfUser>(id)
        .await
        .step(format!("{what}: find_fresh"))?;
    same(&format!("{what}: find_fresh"), &expected, &fresh.as_ref())?;
    let selected = ctx
        .db
        .select::<ConfUser>()
        .filter(ConfUser::ID.eq(id))
        .all()
        .await
        .step(format!("{what}: select by id"))?;
    same(
        &format!("{what}: select by id"),
        &expected.into_iter().collect::<Vec<_>>(),
        &selected.iter().collect::<Vec<_>>(),
    )
}

/// Insert, find, update (created_on kept, updated_on advanced), upsert both ways, delete.
pub(crate) async fn crud(ctx: &Ctx) -> Outcome {
    let db = &ctx.db;
    let t0 = ctx.now();
    let mut ada = ConfUser::new("crud-1", "ada@conf.test", Some("Ada Lovelace"), 36);
    ada.score = 0.5;
    // The caller's audit values are ignored: Sonic stamps them.
    ada.audit = Audit {
        created_on: 1,
        updated_on: 2,
    };
    let inserted = db.insert(&ada).await.step("insert")?;
    let expected = audited(ada.clone(), t0, t0);
    same("insert returned", &expected, &inserted)?;
    read_back(ctx, "after insert", Some(&expected)).await?;

    // Update: every column but the key and created_on, updated_on stamped.
    let t1 = ctx.tick();
    let mut changed = inserted.clone();
    changed.name = None;
    changed.age = 37;
    changed.score = -2.25;
    changed.active = false;
    changed.email = "countess@conf.test".to_string();
    changed.audit = Audit::default();
    let updated = db.update(&changed).await.step("update")?;
    let expected = audited(changed.clone(), t0, t1);
    same("update returned", &expected, &updated)?;
    read_back(ctx, "after update", Some(&expected)).await?;

    // Upsert of an existing key updates it and keeps created_on.
    let t2 = ctx.tick();
    let mut again = updated.clone();
    again.name = Some("Ada".to_string());
    again.audit = Audit::default();
    let upserted = db.upsert(&again).await.step("upsert (existing key)")?;
    let expected = audited(again.clone(), t0, t2);
    same("upsert (existing key) returned", &expected, &upserted)?;
    read_back(ctx, "after upsert of an existing key", Some(&expected)).await?;

    // Upsert of a new key inserts it.
    let grace = ConfUser::new("crud-2", "grace@conf.test", None, 45);
    let upserted_new = db.upsert(&grace).await.step("upsert (new key)")?;
    let expected_grace = audited(grace.clone(), t2, t2);
    same("upsert (new key) returned", &expected_grace, &upserted_new)?;
    read_back(ctx, "after upsert of a new key", Some(&expected_grace)).await?;

    // A filtered update returns what it changed, with updated_on stamped.
    let t3 = ctx.tick();
    let renamed = db
        .update_where::<ConfUser>()
        .set(ConfUser::AGE, 46)
        .filter(ConfUser::ID.eq("crud-2"))
        .returning()
        .await
        .step("update_where … returning")?;
    let mut expected_grace = audited(grace, t2, t3);
    expected_grace.age = 46;
    same(
        "update_where … returning",
        &vec![expected_grace.clone()],
        &renamed,
    )?;
    read_back(ctx, "after update_where", Some(&expected_grace)).await?;
    let audit = expected_grace.audit;
    crate::check::ensure(audit.updated_on > audit.created_on, || {
        format!(
            "updated_on {} is not after created_on {}",
            audit.updated_on, audit.created_on
        )
    })?;

    // Delete: true once, then false; the record is gone everywhere.
    let deleted = db.delete::<ConfUser>("crud-1").await.step("delete")?;
    same("delete of an existing record returned", &true, &deleted)?;
    let again = db
        .delete::<ConfUser>("crud-1")
        .await
        .step("second delete")?;
    same("delete of a deleted record returned", &false, &again)?;
    let found = db
        .find::<ConfUser>("crud-1")
        .await
        .step("find after delete")?;
    same("find after delete", &None, &found)?;
    let fresh = db
        .find_fresh::<ConfUser>("crud-1")
        .await
        .step("find_fresh after delete")?;
    same("find_fresh after delete", &None, &fresh)?;
    let count = db.select::<ConfUser>().count().await.step("count")?;
    same("records left", &1, &count)?;
    expect_error(
        "update of a deleted record",
        "Error::NotFound",
        db.update(&expected).await,
        |e| matches!(e, Error::NotFound { table } if table == "conf_users"),
    )
}
