//! Result shapes other than whole records: projections and aggregates (`columns`,
//! `group_by`, `having`, `distinct`), and joins into typed pairs.

use sonic_db_core::query::count;
use sonic_db_core::{Db, Error};

use crate::check::{all, expect_error, same, Outcome, Step};
use crate::counted::counted;
use crate::ctx::Ctx;
use crate::tables::{ConfPost, ConfUser};

/// Users u1 (Ada), u2 (Bob), u3 (no name, no post); posts 1 "a" (10 views), 2 "b" (20) and
/// 3 "b" (5) by u1, 4 "c" (7) by u2. Returns them as stored.
async fn seed(db: &Db) -> Result<(Vec<ConfUser>, Vec<ConfPost>), String> {
    let users = db
        .insert_many(&[
            ConfUser::new("u1", "a@x.test", Some("Ada"), 36),
            ConfUser::new("u2", "b@x.test", Some("Bob"), 50),
            ConfUser::new("u3", "c@x.test", None, 17),
        ])
        .await
        .step("seeding users")?;
    let posts = db
        .insert_many(&[
            ConfPost::new(1, "u1", "a", 10),
            ConfPost::new(2, "u1", "b", 20),
            ConfPost::new(3, "u1", "b", 5),
            ConfPost::new(4, "u2", "c", 7),
        ])
        .await
        .step("seeding posts")?;
    Ok((users, posts))
}

/// A user's row of per-author statistics: id, posts, sum, avg and min of views, last title,
/// distinct titles.
type AuthorStats = (
    String,
    u64,
    Option<i64>,
    Option<f64>,
    Option<i64>,
    Option<String>,
    u64,
);

/// Aggregates per group and of no rows, `having`, `distinct`, order by an aggregate, a
/// nullable column as an `Option`, a filter past D1's parameter limit, and the refusal of an
/// ungrouped column.
pub(crate) async fn aggregates(ctx: &Ctx) -> Outcome {
    let db = &ctx.db;
    seed(db).await?;
    use ConfPost as P;
    // Every projection is one statement, in one round trip, on every backend.
    let (counted_db, sent) = counted(db);
    let stats: Vec<AuthorStats> = counted_db
        .select::<ConfPost>()
        .columns((
            P::USER_ID,
            count(),
            P::VIEWS.sum(),
            P::VIEWS.avg(),
            P::VIEWS.min(),
            P::TITLE.max(),
            P::TITLE.count_distinct(),
        ))
        .group_by(P::USER_ID)
        .order_by(P::USER_ID.asc())
        .all()
        .await
        .step("stats per author")?;
    let stats_sent = sent.get();
    let expected_stats: Vec<AuthorStats> = vec![
        (
            "u1".into(),
            3,
            Some(35),
            Some(35.0 / 3.0),
            Some(5),
            Some("b".into()),
            2,
        ),
        (
            "u2".into(),
            1,
            Some(7),
            Some(7.0),
            Some(7),
            Some("c".into()),
            1,
        ),
    ];
    let busy: Vec<String> = db
        .select::<ConfPost>()
        .columns(P::USER_ID)
        .group_by(P::USER_ID)
        .having(count().gt(1))
        .all()
        .await
        .step("having count > 1")?;
    let most_read = db
        .select::<ConfPost>()
        .columns((P::USER_ID, P::VIEWS.sum()))
        .group_by(P::USER_ID)
        .order_by(P::VIEWS.sum().desc())
        .first()
        .await
        .step("order by sum desc")?;
    let nothing = db
        .select::<ConfPost>()
        .columns((count(), P::VIEWS.sum(), P::VIEWS.min(), P::VIEWS.avg()))
        .filter(P::VIEWS.gt(1_000))
        .one()
        .await
        .step("aggregates of no rows")?;
    let titles: Vec<String> = db
        .select::<ConfPost>()
        .columns(P::TITLE)
        .distinct()
        .order_by(P::TITLE.asc())
        .all()
        .await
        .step("distinct titles")?;
    let names: Vec<Option<String>> = db
        .select::<ConfUser>()
        .columns(ConfUser::NAME.optional())
        .order_by(ConfUser::ID.asc())
        .all()
        .await
        .step("nullable names")?;
    // 150 values: more than D1 binds in one statement; the list travels as one JSON value.
    let ids: Vec<i64> = (1..=150).collect();
    let listed = db
        .select::<ConfPost>()
        .columns(count())
        .filter(P::ID.in_list(ids))
        .one()
        .await
        .step("count of a long IN list")?;
    let ungrouped = db
        .select::<ConfPost>()
        .columns((P::TITLE, count()))
        .all()
        .await;
    all([
        same("stats per author", &expected_stats, &stats),
        same(
            "statements and round trips of the stats",
            &(1, 1),
            &stats_sent,
        ),
        same("having count > 1", &vec!["u1".to_string()], &busy),
        same(
            "order by sum desc",
            &Some(("u1".to_string(), Some(35))),
            &most_read,
        ),
        same("aggregates of no rows", &(0, None, None, None), &nothing),
        same(
            "distinct titles",
            &vec!["a".to_string(), "b".into(), "c".into()],
            &titles,
        ),
        same(
            "nullable names",
            &vec![Some("Ada".to_string()), Some("Bob".into()), None],
            &names,
        ),
        same("count of a long IN list", &4, &listed),
        expect_error(
            "an ungrouped column",
            "Error::InvalidQuery",
            ungrouped,
            |e| matches!(e, Error::InvalidQuery(m) if m.contains("title")),
        ),
    ])
}

/// Left and inner joins along declared relations and explicit columns: whole records on
/// both sides (same-named columns kept apart), `None` where a left join found nothing,
/// filters and order on either side, `count_rows`.
pub(crate) async fn joins(ctx: &Ctx) -> Outcome {
    let db = &ctx.db;
    let (users, posts) = seed(db).await?;
    let user = |i: usize| users.get(i).cloned();
    let post = |i: usize| posts.get(i).cloned();
    // A join is one statement, in one round trip, on every backend.
    let (counted_db, sent) = counted(db);
    let left: Vec<(ConfUser, Option<ConfPost>)> = counted_db
        .select::<ConfUser>()
        .left_join(ConfUser::POSTS)
        .order_by(ConfUser::ID.asc())
        .order_by_joined(ConfPost::ID.asc())
        .all()
        .await
        .step("users left join posts")?;
    let left_sent = sent.get();
    let expected_left: Vec<(Option<ConfUser>, Option<ConfPost>)> = vec![
        (user(0), post(0)),
        (user(0), post(1)),
        (user(0), post(2)),
        (user(1), post(3)),
        (user(2), None),
    ];
    let left: Vec<(Option<ConfUser>, Option<ConfPost>)> =
        left.into_iter().map(|(u, p)| (Some(u), p)).collect();
    let inner: Vec<(ConfPost, ConfUser)> = db
        .select::<ConfPost>()
        .join(ConfPost::AUTHOR)
        .filter_joined(ConfUser::NAME.eq("Ada"))
        .filter(ConfPost::VIEWS.gte(10))
        .order_by(ConfPost::VIEWS.desc())
        .all()
        .await
        .step("posts join authors named Ada")?;
    let inner_ids: Vec<(i64, String)> = inner.iter().map(|(p, u)| (p.id, u.id.clone())).collect();
    let on_columns = db
        .select::<ConfPost>()
        .join_on(ConfPost::USER_ID, ConfUser::ID)
        .filter_joined(ConfUser::AGE.gt(40))
        .count_rows()
        .await
        .step("join on explicit columns")?;
    let ids: Vec<String> = (0..150).map(|i| format!("u{i}")).collect();
    let long_list = db
        .select::<ConfUser>()
        .filter(ConfUser::ID.in_list(ids))
        .left_join(ConfUser::POSTS)
        .count_rows()
        .await
        .step("left join with a long IN list")?;
    all([
        same("users left join posts", &expected_left, &left),
        same(
            "statements and round trips of the left join",
            &(1, 1),
            &left_sent,
        ),
        same(
            "posts join authors named Ada",
            &vec![(2, "u1".to_string()), (1, "u1".to_string())],
            &inner_ids,
        ),
        same("join on explicit columns", &1, &on_columns),
        same("left join with a long IN list", &5, &long_list),
    ])
}
