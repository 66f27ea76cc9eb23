//! Chunked inserts: 1,000 rows in and out, and all-or-nothing when a row fails.

use sonic_db_core::{Db, Error, Table};

use crate::check::{all, expect_error, same, same_list, Outcome, Step};
use crate::ctx::Ctx;
use crate::scenarios::crud::audited;
use crate::tables::ConfUser;

/// `n` distinct users `b0000`, `b0001`, … with varied values.
fn users(n: usize, tag: &str) -> Vec<ConfUser> {
    (0..n)
        .map(|i| {
            let id = format!("{tag}{i:05}");
            let mut user = ConfUser::new(
                &id,
                &format!("{id}@bulk.test"),
                (i % 3 != 0).then_some("name ü 😀"),
                i as i64 - 500,
            );
            user.score = i as f64 / 8.0;
            user.active = i % 2 == 0;
            user
        })
        .collect()
}

/// Rows per `INSERT` statement that the backend's parameter limit allows for users.
fn rows_per_statement(db: &Db) -> usize {
    db.capabilities().max_params / ConfUser::DEF.columns.len().max(1)
}

/// 1,000 rows: all returned in order as stored, all counted, all listed, paged, then a
/// filtered update and delete of half of them.
pub(crate) async fn insert_many_1000(ctx: &Ctx) -> Outcome {
    // Without a cache: 1,000 KV writes would exceed a Worker's budget of KV operations.
    let db = &ctx.plain;
    let now = ctx.now();
    let rows = users(1_000, "b");
    let expected: Vec<ConfUser> = rows.iter().map(|u| audited(u.clone(), now, now)).collect();
    let inserted = db
        .insert_many(&rows)
        .await
        .step("insert_many of 1,000 rows")?;
    same_list("insert_many of 1,000 rows returned", &expected, &inserted)?;
    let count = db.select::<ConfUser>().count().await.step("count")?;
    same("count after inserting 1,000 rows", &1_000, &count)?;
    let listed = db
        .select::<ConfUser>()
        .order_by(ConfUser::ID.asc())
        .all()
        .await
        .step("select all")?;
    same_list("all 1,000 rows by id", &expected, &listed)?;
    let page = db
        .select::<ConfUser>()
        .order_by(ConfUser::ID.asc())
        .limit(10)
        .offset(990)
        .page()
        .await
        .step("last page")?;
    same_list(
        "last page of 10",
        expected.get(990..).unwrap_or(&[]),
        &page.items,
    )?;
    same("total of the last page", &1_000, &page.total)?;

    let t1 = ctx.tick();
    let updated = db
        .update_where::<ConfUser>()
        .set(ConfUser::ACTIVE, true)
        .filter(ConfUser::AGE.lt(0))
        .run()
        .await
        .step("update_where age < 0")?;
    let deleted = db
        .delete_where::<ConfUser>()
        .filter(ConfUser::AGE.gte(250))
        .run()
        .await
        .step("delete_where age >= 250")?;
    let active = db
        .select::<ConfUser>()
        .filter(ConfUser::ACTIVE.eq(true))
        .count()
        .await
        .step("count of active")?;
    let touched = db
        .select::<ConfUser>()
        .filter(ConfUser::UPDATED_ON.eq(t1))
        .count()
        .await
        .step("count of updated_on = now")?;
    let left = db
        .select::<ConfUser>()
        .count()
        .await
        .step("count after delete")?;
    all([
        same("update_where age < 0 changed", &500, &updated),
        same("delete_where age >= 250 deleted", &250, &deleted),
        // The 500 negative ages, plus the even rows among ages 0..250.
        same("active rows", &625, &active),
        same("rows stamped by the update", &500, &touched),
        same("rows left", &750, &left),
    ])
}

/// A 1,000-row insert whose last row breaks a unique constraint leaves no row; so does one
/// that needs several statements under this backend's parameter limit (all in one batch).
pub(crate) async fn insert_many_atomic(ctx: &Ctx) -> Outcome {
    let db = &ctx.db;
    let mut rows = users(1_000, "a");
    if let (Some(first), Some(last)) = (rows.first().cloned(), rows.last_mut()) {
        last.email = first.email;
    }
    expect_error(
        "insert_many of 1,000 rows whose last repeats the first email",
        "Error::UniqueViolation",
        db.insert_many(&rows).await.map(|r| r.len()),
        |e| matches!(e, Error::UniqueViolation { .. }),
    )?;
    let count = db.select::<ConfUser>().count().await.step("count")?;
    same("rows left by the failed 1,000-row insert", &0, &count)?;
    let first = db
        .find::<ConfUser>("a00000")
        .await
        .step("find the first row")?;
    same("find of the first row of the failed insert", &None, &first)?;

    // Where 1,000 rows fit one statement, the atomicity of batches is not exercised yet:
    // insert just enough rows to need two statements.
    let per_statement = rows_per_statement(db);
    if !(1_000..20_000).contains(&per_statement) {
        return Ok(());
    }
    let mut rows = users(per_statement + 1, "m");
    if let (Some(first), Some(last)) = (rows.first().cloned(), rows.last_mut()) {
        last.email = first.email;
    }
    let n = rows.len();
    expect_error(
        &format!("insert_many of {n} rows (two statements) whose last repeats the first email"),
        "Error::UniqueViolation",
        db.insert_many(&rows).await.map(|r| r.len()),
        |e| matches!(e, Error::UniqueViolation { .. }),
    )?;
    let count = db.select::<ConfUser>().count().await.step("count")?;
    same(
        &format!("rows left by the failed {n}-row insert"),
        &0,
        &count,
    )
}
