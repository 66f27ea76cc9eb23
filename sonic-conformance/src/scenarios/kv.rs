//! The KV cache over the backends under test: misses then hits, lazy fills after inserts,
//! invalidation by every other write, fresh reads, awkward keys.
//!
//! Each check looks from three places: the scenario's handle, the current KV entry (one
//! tagged with the current generations, see [`KvCache::peek`](sonic_db_core::cache::KvCache::peek)),
//! and a new handle that remembers nothing (what another request or isolate sees). A KV
//! backend that acknowledges writes it did not make is caught by the last two.

use sonic_db_core::{Db, Source};

use crate::check::{all, same, Outcome, Step};
use crate::ctx::Ctx;
use crate::scenarios::crud::audited;
use crate::tables::{ConfComment, ConfPost, ConfUser};

/// Checks that `id` reads as `expected` through `db`, from `source`.
async fn found_as(
    ctx: &Ctx,
    db: &Db,
    what: &str,
    id: &str,
    expected: Option<&ConfUser>,
    source: Source,
) -> Outcome {
    let found = db
        .find_with_source::<ConfUser>(id)
        .await
        .step(format!("{what}: find_with_source({id:?})"))?;
    let got = found.as_ref().map(|f| (&f.record, f.source));
    let want = expected.map(|e| (e, source));
    if got == want {
        Ok(())
    } else {
        Err(ctx.with_events(format!(
            "{what}: find_with_source({id:?}): expected {want:?}, got {got:?}"
        )))
    }
}

/// Checks the raw KV entry of user `id`.
async fn entry_is(ctx: &Ctx, what: &str, id: &str, expected: Option<&ConfUser>) -> Outcome {
    let entry = ctx.kv_entry::<ConfUser>(id).await?;
    if entry.as_ref() == expected {
        Ok(())
    } else {
        Err(ctx.with_events(format!(
            "{what}: raw KV entry of {id:?}: expected {expected:?}, got {entry:?}"
        )))
    }
}

/// Checks what a new handle reads for `id` (a hit when `expected` is cached, else SQL).
async fn elsewhere(ctx: &Ctx, what: &str, id: &str, expected: Option<&ConfUser>) -> Outcome {
    let other = ctx.new_handle()?;
    let found = other
        .find::<ConfUser>(id)
        .await
        .step(format!("{what}: find({id:?}) through a new handle"))?;
    if found.as_ref() == expected {
        Ok(())
    } else {
        Err(ctx.with_events(format!(
            "{what}: find({id:?}) through a new handle (another isolate): expected \
             {expected:?}, got {found:?}"
        )))
    }
}

fn user(id: &str, age: i64) -> ConfUser {
    let mut user = ConfUser::new(id, &format!("{id}@kv.test"), Some("Kay Vee"), age);
    user.score = age as f64 / 2.0;
    user
}

/// The first find is a miss (read from SQL, then cached), the second a hit with an identical
/// record; another handle hits too.
pub(crate) async fn kv_miss_then_hit(ctx: &Ctx) -> Outcome {
    ctx.require_kv()?;
    let now = ctx.now();
    let row = user("k-1", 30);
    // Written without the cache: KV knows nothing of it.
    ctx.plain
        .insert(&row)
        .await
        .step("insert without the cache")?;
    let stored = audited(row, now, now);
    entry_is(ctx, "before any find", "k-1", None).await?;
    found_as(ctx, &ctx.db, "first find", "k-1", Some(&stored), Source::D1).await?;
    entry_is(ctx, "after the first find (filled)", "k-1", Some(&stored)).await?;
    found_as(
        ctx,
        &ctx.db,
        "second find",
        "k-1",
        Some(&stored),
        Source::Kv,
    )
    .await?;
    let other = ctx.new_handle()?;
    found_as(
        ctx,
        &other,
        "find through a new handle",
        "k-1",
        Some(&stored),
        Source::Kv,
    )
    .await?;
    // A missing record is a miss every time and is not cached.
    found_as(
        ctx,
        &ctx.db,
        "find of a missing id",
        "k-none",
        None,
        Source::D1,
    )
    .await?;
    entry_is(ctx, "after finding a missing id", "k-none", None).await
}

/// Inserts, batch inserts and upserts of new records write nothing to KV (a new key has
/// nothing stale); the first find reads SQL and fills, and other handles then hit.
pub(crate) async fn kv_insert_then_fill(ctx: &Ctx) -> Outcome {
    ctx.require_kv()?;
    let db = &ctx.db;
    let now = ctx.now();
    let one = user("w-1", 1);
    db.insert(&one).await.step("insert")?;
    let many = vec![user("w-2", 2), user("w-3", 3), user("w-4", 4)];
    db.insert_many(&many).await.step("insert_many")?;
    let upserted = user("w-5", 5);
    db.upsert(&upserted).await.step("upsert (new)")?;
    let mut outcomes = Vec::new();
    for row in std::iter::once(one).chain(many).chain([upserted]) {
        let stored = audited(row, now, now);
        let what = format!("after writing {}", stored.id);
        outcomes.push(entry_is(ctx, &what, &stored.id, None).await);
        outcomes.push(found_as(ctx, db, &what, &stored.id, Some(&stored), Source::D1).await);
        outcomes.push(entry_is(ctx, &what, &stored.id, Some(&stored)).await);
        outcomes.push(elsewhere(ctx, &what, &stored.id, Some(&stored)).await);
        outcomes.push(found_as(ctx, db, &what, &stored.id, Some(&stored), Source::Kv).await);
    }
    all(outcomes)
}

/// After a find cached a record, an update (and an upsert) invalidates it: another handle
/// reads the new row (from SQL, filling KV), then this one hits it.
pub(crate) async fn kv_update(ctx: &Ctx) -> Outcome {
    ctx.require_kv()?;
    let db = &ctx.db;
    let t0 = ctx.now();
    let row = user("u-1", 10);
    ctx.plain
        .insert(&row)
        .await
        .step("insert without the cache")?;
    let stored = audited(row, t0, t0);
    found_as(ctx, db, "first find", "u-1", Some(&stored), Source::D1).await?;
    found_as(ctx, db, "second find", "u-1", Some(&stored), Source::Kv).await?;

    let t1 = ctx.tick();
    let mut changed = stored.clone();
    changed.name = Some("Changed".to_string());
    changed.age = 11;
    let returned = db.update(&changed).await.step("update")?;
    let expected = audited(changed, t0, t1);
    same("update returned", &expected, &returned)?;
    entry_is(ctx, "after the update (invalidated)", "u-1", None).await?;
    elsewhere(ctx, "after the update", "u-1", Some(&expected)).await?;
    entry_is(ctx, "after the update and a find", "u-1", Some(&expected)).await?;
    found_as(
        ctx,
        db,
        "find after the update",
        "u-1",
        Some(&expected),
        Source::Kv,
    )
    .await?;

    let t2 = ctx.tick();
    let mut again = expected.clone();
    again.active = false;
    db.upsert(&again).await.step("upsert (existing)")?;
    let expected = audited(again, t0, t2);
    found_as(
        ctx,
        db,
        "find after the upsert",
        "u-1",
        Some(&expected),
        Source::D1,
    )
    .await?;
    entry_is(ctx, "after the upsert", "u-1", Some(&expected)).await?;
    elsewhere(ctx, "after the upsert", "u-1", Some(&expected)).await
}

/// After an update and then a delete of a cached record, find is `None` here and elsewhere,
/// and KV holds no current entry.
pub(crate) async fn kv_delete(ctx: &Ctx) -> Outcome {
    ctx.require_kv()?;
    let db = &ctx.db;
    let t0 = ctx.now();
    let row = user("d-1", 1);
    db.insert(&row).await.step("insert")?;
    let stored = audited(row, t0, t0);
    found_as(ctx, db, "first find", "d-1", Some(&stored), Source::D1).await?;
    // An update first, so that the delete's generation put replaces an existing one.
    let t1 = ctx.tick();
    let mut changed = stored.clone();
    changed.age = 2;
    db.update(&changed).await.step("update")?;
    let changed = audited(changed, t0, t1);
    found_as(
        ctx,
        db,
        "find after the update",
        "d-1",
        Some(&changed),
        Source::D1,
    )
    .await?;
    found_as(
        ctx,
        db,
        "find before the delete",
        "d-1",
        Some(&changed),
        Source::Kv,
    )
    .await?;
    let deleted = db.delete::<ConfUser>("d-1").await.step("delete")?;
    same("delete returned", &true, &deleted)?;
    all([
        found_as(ctx, db, "find after the delete", "d-1", None, Source::D1).await,
        entry_is(ctx, "after the delete", "d-1", None).await,
        elsewhere(ctx, "after the delete", "d-1", None).await,
    ])
}

/// Five cached users, then the three oldest updated by filter (`run` and `returning`):
/// every affected record reads new everywhere, the others stay cached as they were.
pub(crate) async fn kv_update_where(ctx: &Ctx) -> Outcome {
    ctx.require_kv()?;
    let db = &ctx.db;
    let t0 = ctx.now();
    let rows: Vec<ConfUser> = (1..=5).map(|i| user(&format!("uw-{i}"), i * 10)).collect();
    db.insert_many(&rows).await.step("insert_many")?;
    let mut expected: Vec<ConfUser> = rows.into_iter().map(|r| audited(r, t0, t0)).collect();
    for row in &expected {
        found_as(ctx, db, "fill", &row.id, Some(row), Source::D1).await?;
        found_as(
            ctx,
            db,
            "find before the update",
            &row.id,
            Some(row),
            Source::Kv,
        )
        .await?;
    }
    let t1 = ctx.tick();
    let changed = db
        .update_where::<ConfUser>()
        .set(ConfUser::ACTIVE, false)
        .set(ConfUser::NAME, "renamed")
        .filter(ConfUser::AGE.gte(30))
        .run()
        .await
        .step("update_where … run")?;
    same("update_where … run changed", &3, &changed)?;
    for row in expected.iter_mut().filter(|r| r.age >= 30) {
        row.active = false;
        row.name = Some("renamed".to_string());
        row.audit.updated_on = t1;
    }
    let t2 = ctx.tick();
    let returned = db
        .update_where::<ConfUser>()
        .set_null(ConfUser::NAME)
        .filter(ConfUser::ID.in_list(["uw-1", "uw-5"]))
        .returning()
        .await
        .step("update_where … returning")?;
    for row in expected
        .iter_mut()
        .filter(|r| r.id == "uw-1" || r.id == "uw-5")
    {
        row.name = None;
        row.audit.updated_on = t2;
    }
    let mut returned_ids: Vec<&str> = returned.iter().map(|r| r.id.as_str()).collect();
    returned_ids.sort_unstable();
    same(
        "update_where … returning ids",
        &vec!["uw-1", "uw-5"],
        &returned_ids,
    )?;
    // Another handle reads every record as it is now (the changed ones from SQL, refilling
    // KV); then this handle hits them all.
    let mut outcomes = Vec::new();
    for row in &expected {
        let what = format!("{} after the filtered updates", row.id);
        outcomes.push(elsewhere(ctx, &what, &row.id, Some(row)).await);
        outcomes.push(entry_is(ctx, &what, &row.id, Some(row)).await);
        outcomes.push(found_as(ctx, db, &what, &row.id, Some(row), Source::Kv).await);
    }
    all(outcomes)
}

/// Five cached users, then three deleted by filter (`run` and `returning`): gone
/// everywhere; the other two stay cached.
pub(crate) async fn kv_delete_where(ctx: &Ctx) -> Outcome {
    ctx.require_kv()?;
    let db = &ctx.db;
    let now = ctx.now();
    let rows: Vec<ConfUser> = (1..=5).map(|i| user(&format!("dw-{i}"), i * 10)).collect();
    db.insert_many(&rows).await.step("insert_many")?;
    let expected: Vec<ConfUser> = rows.into_iter().map(|r| audited(r, now, now)).collect();
    for row in &expected {
        found_as(ctx, db, "fill", &row.id, Some(row), Source::D1).await?;
        found_as(
            ctx,
            db,
            "find before the delete",
            &row.id,
            Some(row),
            Source::Kv,
        )
        .await?;
    }
    let deleted = db
        .delete_where::<ConfUser>()
        .filter(ConfUser::AGE.gte(40))
        .run()
        .await
        .step("delete_where … run")?;
    same("delete_where … run deleted", &2, &deleted)?;
    let gone = db
        .delete_where::<ConfUser>()
        .filter(ConfUser::ID.eq("dw-1"))
        .returning()
        .await
        .step("delete_where … returning")?;
    same(
        "delete_where … returning",
        &expected.first().cloned().into_iter().collect::<Vec<_>>(),
        &gone,
    )?;
    // Gone everywhere; the kept ones read as they were (from KV, or from SQL once when they
    // share a bucket with a deleted one), then hit here.
    let mut outcomes = Vec::new();
    for row in &expected {
        let what = format!("{} after the filtered deletes", row.id);
        let kept = (row.age < 40 && row.id != "dw-1").then_some(row);
        outcomes.push(elsewhere(ctx, &what, &row.id, kept).await);
        outcomes.push(entry_is(ctx, &what, &row.id, kept).await);
        let source = if kept.is_some() {
            Source::Kv
        } else {
            Source::D1
        };
        outcomes.push(found_as(ctx, db, &what, &row.id, kept, source).await);
    }
    all(outcomes)
}

/// `find_fresh` reads SQL and leaves KV alone: it sees a change made behind the cache's back
/// (which `find` does not, until the entry is invalidated), and it does not fill KV.
pub(crate) async fn kv_find_fresh(ctx: &Ctx) -> Outcome {
    ctx.require_kv()?;
    let db = &ctx.db;
    let now = ctx.now();
    let row = user("f-1", 1);
    db.insert(&row).await.step("insert")?;
    let stored = audited(row, now, now);
    found_as(ctx, db, "fill", "f-1", Some(&stored), Source::D1).await?;
    // A change behind the cache's back.
    let changed = ctx
        .plain
        .sql("UPDATE \"conf_users\" SET \"age\" = 2 WHERE \"id\" = ?")
        .bind("f-1")
        .run()
        .await
        .step("raw UPDATE")?;
    same("raw UPDATE changed", &1, &changed)?;
    let mut behind = stored.clone();
    behind.age = 2;
    found_as(
        ctx,
        db,
        "find after a raw UPDATE (the cached row)",
        "f-1",
        Some(&stored),
        Source::Kv,
    )
    .await?;
    let fresh = db.find_fresh::<ConfUser>("f-1").await.step("find_fresh")?;
    same(
        "find_fresh after a raw UPDATE",
        &Some(&behind),
        &fresh.as_ref(),
    )?;
    entry_is(ctx, "after find_fresh (untouched)", "f-1", Some(&stored)).await?;
    if let Some(cache) = db.cache() {
        cache
            .invalidate::<ConfUser>(&sonic_db_core::Value::Text("f-1".to_string()))
            .await
            .step("invalidate")?;
    }
    found_as(
        ctx,
        db,
        "find after invalidate",
        "f-1",
        Some(&behind),
        Source::D1,
    )
    .await?;

    // A fresh read of an uncached record does not fill KV.
    let other = user("f-2", 3);
    ctx.plain
        .insert(&other)
        .await
        .step("insert without the cache")?;
    let other = audited(other, now, now);
    let fresh = db
        .find_fresh::<ConfUser>("f-2")
        .await
        .step("find_fresh f-2")?;
    same(
        "find_fresh of an uncached record",
        &Some(&other),
        &fresh.as_ref(),
    )?;
    entry_is(ctx, "after find_fresh of an uncached record", "f-2", None).await?;
    found_as(
        ctx,
        db,
        "find after find_fresh",
        "f-2",
        Some(&other),
        Source::D1,
    )
    .await
}

/// Keys that need escaping or hashing in KV: separators, `#`, Unicode, empty, very long.
pub(crate) async fn kv_awkward_keys(ctx: &Ctx) -> Outcome {
    ctx.require_kv()?;
    let db = &ctx.db;
    let now = ctx.now();
    let long = "ü".repeat(400);
    let ids = [
        "a:b:c",
        "#x00",
        "##",
        "/slash/",
        "white space ",
        "",
        "😀",
        "..",
        long.as_str(),
    ];
    let rows: Vec<ConfUser> = ids
        .iter()
        .enumerate()
        .map(|(i, id)| {
            let mut u = ConfUser::new(id, &format!("awkward-{i}@kv.test"), Some(id), i as i64);
            u.score = 0.0;
            u
        })
        .collect();
    db.insert_many(&rows).await.step("insert_many")?;
    let mut outcomes = Vec::new();
    for row in rows {
        let stored = audited(row, now, now);
        let what = format!("key {:?}", stored.id.chars().take(12).collect::<String>());
        outcomes.push(found_as(ctx, db, &what, &stored.id, Some(&stored), Source::D1).await);
        outcomes.push(found_as(ctx, db, &what, &stored.id, Some(&stored), Source::Kv).await);
        outcomes.push(elsewhere(ctx, &what, &stored.id, Some(&stored)).await);
    }
    all(outcomes)?;
    let deleted = db
        .delete_where::<ConfUser>()
        .all_rows()
        .run()
        .await
        .step("delete_where all rows")?;
    same("deleted", &(ids.len() as u64), &deleted)?;
    let mut outcomes = Vec::new();
    for id in ids {
        outcomes.push(elsewhere(ctx, "after deleting every row", id, None).await);
    }
    all(outcomes)
}

/// Deleting a user deletes its posts and their comments in SQL (`ON DELETE CASCADE`, two
/// levels); a post or comment that was cached must not be served from KV afterwards, here or
/// elsewhere, and KV holds no current entry of it.
pub(crate) async fn kv_cascade_delete(ctx: &Ctx) -> Outcome {
    ctx.require_kv()?;
    let db = &ctx.db;
    db.insert(&user("c-1", 1)).await.step("insert user")?;
    db.insert(&user("c-2", 2))
        .await
        .step("insert another user")?;
    let post = db
        .insert(&ConfPost::new(7, "c-1", "cached", 0))
        .await
        .step("insert post")?;
    let comment = db
        .insert(&ConfComment::new(70, 7, "cached"))
        .await
        .step("insert comment")?;
    let kept = db
        .insert(&ConfPost::new(8, "c-2", "kept", 0))
        .await
        .step("insert a post of the other user")?;
    db.find::<ConfPost>(7).await.step("fill post")?;
    db.find::<ConfComment>(70).await.step("fill comment")?;
    db.find::<ConfPost>(8).await.step("fill the other post")?;
    let found = db
        .find_with_source::<ConfPost>(7)
        .await
        .step("find post before the delete")?;
    same(
        "post before the delete",
        &Some((post, Source::Kv)),
        &found.map(|f| (f.record, f.source)),
    )?;
    let found = db
        .find_with_source::<ConfComment>(70)
        .await
        .step("find comment before the delete")?;
    same(
        "comment before the delete",
        &Some((comment, Source::Kv)),
        &found.map(|f| (f.record, f.source)),
    )?;
    db.delete::<ConfUser>("c-1").await.step("delete user")?;
    let fresh = db.find_fresh::<ConfPost>(7).await.step("find_fresh post")?;
    same("post in SQL after deleting its user", &None, &fresh)?;
    let fresh = db
        .find_fresh::<ConfComment>(70)
        .await
        .step("find_fresh comment")?;
    same(
        "comment in SQL after deleting its post's user",
        &None,
        &fresh,
    )?;
    let post_entry = ctx.kv_entry::<ConfPost>(7).await?;
    let comment_entry = ctx.kv_entry::<ConfComment>(70).await?;
    let found = db.find::<ConfPost>(7).await.step("find post")?;
    let found_comment = db.find::<ConfComment>(70).await.step("find comment")?;
    let other = ctx.new_handle()?;
    let elsewhere = other
        .find::<ConfPost>(7)
        .await
        .step("find post elsewhere")?;
    let elsewhere_comment = other
        .find::<ConfComment>(70)
        .await
        .step("find comment elsewhere")?;
    let untouched = other
        .find::<ConfPost>(8)
        .await
        .step("find the other user's post elsewhere")?;
    all([
        same("raw KV entry of the cascaded post", &None, &post_entry),
        same(
            "raw KV entry of the cascaded comment",
            &None,
            &comment_entry,
        ),
        same(
            "find of a post whose user was deleted (ON DELETE CASCADE)",
            &None,
            &found,
        ),
        same(
            "find of a comment whose post's user was deleted",
            &None,
            &found_comment,
        ),
        same(
            "find through a new handle of a post whose user was deleted",
            &None,
            &elsewhere,
        ),
        same(
            "find through a new handle of a comment whose post's user was deleted",
            &None,
            &elsewhere_comment,
        ),
        same(
            "the other user's post, through a new handle",
            &Some(kept),
            &untouched,
        ),
    ])
    .map_err(|e| ctx.with_events(e))
}
