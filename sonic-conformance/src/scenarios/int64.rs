//! Full-range 64-bit integers (#12 item 3): every `i64` round-trips exactly through every
//! path — inserts, updates, finds and deletes by key, filters of every operator, order,
//! relations and eager loads, raw SQL parameters and the KV cache — on every backend,
//! including those whose numbers cross JavaScript as doubles (D1, Durable Objects), at the
//! edges of what a double holds: ±(2^53 − 1), ±2^53, ±(2^53 + 1), `i64::MIN`, `i64::MAX`.
//! A `u64` beyond `i64::MAX` does not fit SQLite's INTEGER and is refused, never wrapped.

use serde_json::json;
use sonic_db_core::{Filter, One, Source, ToValue};

use crate::check::{all, ensure, same, Outcome, Step};
use crate::ctx::Ctx;
use crate::tables::{ConfComment, ConfPost, ConfUser};

/// 2^53, the first integer beyond a double's exact range (itself exact, its neighbour not).
const P53: i64 = 1 << 53;

/// The edges, in ascending order.
const EDGES: [i64; 10] = [
    i64::MIN,
    -P53 - 1,
    -P53,
    -P53 + 1,
    -1,
    1,
    P53 - 1,
    P53,
    P53 + 1,
    i64::MAX,
];

/// `(id, views)` of posts.
type Pairs = Vec<(i64, i64)>;

/// A post's `(id, views)` and its comments' `(id, post_id, big, JSON weight)`.
type PostTree = (i64, i64, Vec<(i64, i64, i64, Option<i64>)>);

/// A post keyed and counted by `n`.
fn post(n: i64) -> ConfPost {
    ConfPost::new(n, "int64", &format!("post {n}"), n)
}

/// A comment keyed by `n` on post `n`, with `n` in its 64-bit column and JSON.
fn comment(n: i64) -> ConfComment {
    let mut comment = ConfComment::new(n, n, &format!("comment {n}"));
    comment.big = n;
    comment.meta.0.weight = Some(n);
    comment
}

/// Posts without their audit times and relations, to compare.
fn bare(mut posts: Vec<ConfPost>) -> Vec<(i64, i64)> {
    posts.sort_by_key(|p| p.id);
    posts.iter_mut().map(|p| (p.id, p.views)).collect()
}

/// The sorted `(id, views)` of the posts `filter` selects.
async fn selected(
    ctx: &Ctx,
    what: &str,
    filter: Filter<ConfPost>,
) -> Result<Vec<(i64, i64)>, String> {
    let rows = ctx
        .db
        .select::<ConfPost>()
        .filter(filter)
        .all()
        .await
        .step(what)?;
    Ok(bare(rows))
}

/// The edges that `keep` keeps, as `(id, views)` pairs of their posts.
fn edges_where(keep: impl Fn(i64) -> bool) -> Vec<(i64, i64)> {
    EDGES
        .iter()
        .copied()
        .filter(|&n| keep(n))
        .map(|n| (n, n))
        .collect()
}

/// Writes, reads, filters, relations and raw parameters at the edges.
pub(crate) async fn integers_64bit(ctx: &Ctx) -> Outcome {
    let db = &ctx.db;
    db.insert(&ConfUser::new("int64", "int64@values.test", None, i64::MAX))
        .await
        .step("insert user")?;
    let posts: Vec<ConfPost> = EDGES.iter().map(|&n| post(n)).collect();
    let inserted = db.insert_many(&posts).await.step("insert_many posts")?;
    let comments: Vec<ConfComment> = EDGES.iter().map(|&n| comment(n)).collect();
    let inserted_comments = db
        .insert_many(&comments)
        .await
        .step("insert_many comments")?;
    let mut outcomes = vec![
        same(
            "posts insert_many returned",
            &edges_where(|_| true),
            &bare(inserted),
        ),
        same(
            "comments insert_many returned (id, post_id, big, JSON weight)",
            &EDGES
                .iter()
                .map(|&n| (n, n, n, Some(n)))
                .collect::<Vec<_>>(),
            &inserted_comments
                .iter()
                .map(|c| (c.id, c.post_id, c.big, c.meta.0.weight))
                .collect::<Vec<_>>(),
        ),
    ];

    // By key, and by an equality filter on a 64-bit value.
    for n in EDGES {
        let found = db
            .find_fresh::<ConfPost>(n)
            .await
            .step(format!("find_fresh({n})"))?;
        outcomes.push(same(
            &format!("find_fresh({n}): (id, views)"),
            &Some((n, n)),
            &found.map(|p| (p.id, p.views)),
        ));
        outcomes.push(same(
            &format!("views = {n}"),
            &edges_where(|m| m == n),
            &selected(ctx, "select by views", ConfPost::VIEWS.eq(n)).await?,
        ));
    }

    // Every operator, with operands beyond 2^53.
    let long_list: Vec<i64> = (2..160).chain([P53 + 1, -P53 - 1, i64::MAX]).collect();
    let filters: Vec<(&str, Filter<ConfPost>, Pairs)> = vec![
        (
            "views > 2^53",
            ConfPost::VIEWS.gt(P53),
            edges_where(|n| n > P53),
        ),
        (
            "views >= 2^53",
            ConfPost::VIEWS.gte(P53),
            edges_where(|n| n >= P53),
        ),
        (
            "views < -2^53",
            ConfPost::VIEWS.lt(-P53),
            edges_where(|n| n < -P53),
        ),
        (
            "views <= -2^53",
            ConfPost::VIEWS.lte(-P53),
            edges_where(|n| n <= -P53),
        ),
        (
            "views != i64::MAX",
            ConfPost::VIEWS.ne(i64::MAX),
            edges_where(|n| n != i64::MAX),
        ),
        (
            "views between 2^53 - 1 and 2^53 + 1",
            ConfPost::VIEWS.between(P53 - 1, P53 + 1),
            edges_where(|n| (P53 - 1..=P53 + 1).contains(&n)),
        ),
        (
            "views in (2^53 + 1, i64::MIN, 0)",
            ConfPost::VIEWS.in_list([P53 + 1, i64::MIN, 0]),
            edges_where(|n| n == P53 + 1 || n == i64::MIN),
        ),
        (
            "views in a list of 161 (sent as JSON where parameters are few)",
            ConfPost::VIEWS.in_list(long_list.clone()),
            edges_where(|n| long_list.contains(&n)),
        ),
        (
            "views not in (i64::MAX, i64::MIN, 2^53)",
            ConfPost::VIEWS.not_in_list([i64::MAX, i64::MIN, P53]),
            edges_where(|n| ![i64::MAX, i64::MIN, P53].contains(&n)),
        ),
        (
            "id = 2^53 + 1 or id = -2^53 - 1",
            ConfPost::ID.eq(P53 + 1) | ConfPost::ID.eq(-P53 - 1),
            edges_where(|n| n == P53 + 1 || n == -P53 - 1),
        ),
    ];
    for (what, filter, expected) in filters {
        outcomes.push(same(what, &expected, &selected(ctx, what, filter).await?));
    }
    match Filter::<ConfPost>::parse("views", "$eq", "9007199254740993") {
        Ok(filter) => outcomes.push(same(
            "views $eq \"9007199254740993\" (by name)",
            &edges_where(|n| n == P53 + 1),
            &selected(ctx, "filter by name", filter).await?,
        )),
        Err(error) => outcomes.push(Err(format!("parsing views $eq 2^53 + 1: {error}"))),
    }
    let ordered: Vec<i64> = db
        .select::<ConfPost>()
        .order_by(ConfPost::VIEWS.desc())
        .all()
        .await
        .step("order by views desc")?
        .iter()
        .map(|p| p.views)
        .collect();
    let mut descending = EDGES.to_vec();
    descending.reverse();
    outcomes.push(same(
        "order by views desc (as integers)",
        &descending,
        &ordered,
    ));

    // Relations: the user's posts with their comments (two levels), and each comment's post.
    let users = db
        .select::<ConfUser>()
        .with(ConfUser::POSTS.with(ConfPost::COMMENTS))
        .all()
        .await
        .step("user with posts and comments")?;
    let nested: Vec<PostTree> = users
        .iter()
        .flat_map(|u| u.posts.iter().flatten())
        .map(|p| {
            let comments = p.comments.iter().flatten();
            let comments = comments.map(|c| (c.id, c.post_id, c.big, c.meta.0.weight));
            (p.id, p.views, comments.collect())
        })
        .collect();
    let expected: Vec<_> = EDGES
        .iter()
        .map(|&n| (n, n, vec![(n, n, n, Some(n))]))
        .collect();
    outcomes.push(same("user → posts → comments", &expected, &nested));
    let with_post = db
        .select::<ConfComment>()
        .with(ConfComment::POST)
        .filter(ConfComment::BIG.in_list([i64::MIN, P53 + 1]))
        .all()
        .await
        .step("comments with their post")?;
    let mut parents: Vec<(i64, Option<i64>)> = with_post
        .iter()
        .map(|c| match &c.post {
            One::Found(p) => (c.id, Some(p.id)),
            _ => (c.id, None),
        })
        .collect();
    parents.sort_unstable();
    outcomes.push(same(
        "comment → post",
        &vec![(i64::MIN, Some(i64::MIN)), (P53 + 1, Some(P53 + 1))],
        &parents,
    ));

    // Writes by a 64-bit key.
    let mut changed = post(i64::MAX);
    changed.views = i64::MIN;
    let updated = db.update(&changed).await.step("update post i64::MAX")?;
    outcomes.push(same(
        "update of post i64::MAX returned views",
        &i64::MIN,
        &updated.views,
    ));
    let by_filter = db
        .update_where::<ConfPost>()
        .set(ConfPost::VIEWS, P53 + 1)
        .filter(ConfPost::ID.eq(-P53 - 1))
        .returning()
        .await
        .step("update_where id = -2^53 - 1")?;
    outcomes.push(same(
        "update_where id = -2^53 - 1 returned",
        &vec![(-P53 - 1, P53 + 1)],
        &bare(by_filter),
    ));
    let upserted = db.upsert(&post(P53)).await.step("upsert post 2^53")?;
    outcomes.push(same(
        "upsert of post 2^53",
        &(P53, P53),
        &(upserted.id, upserted.views),
    ));
    db.delete::<ConfPost>(P53 + 1)
        .await
        .step("delete post 2^53 + 1")?;
    let gone = db
        .find_fresh::<ConfComment>(P53 + 1)
        .await
        .step("find_fresh comment 2^53 + 1")?;
    outcomes.push(ensure(gone.is_none(), || {
        "deleting post 2^53 + 1 left its comment (ON DELETE CASCADE by a 64-bit key)".to_string()
    }));
    let left = db
        .delete_where::<ConfPost>()
        .filter(ConfPost::ID.lt(-P53))
        .returning()
        .await
        .step("delete_where id < -2^53")?;
    outcomes.push(same(
        "delete_where id < -2^53 returned",
        &vec![(i64::MIN, i64::MIN), (-P53 - 1, P53 + 1)],
        &bare(left),
    ));
    let remaining: Vec<i64> = bare(db.select::<ConfPost>().all().await.step("select all")?)
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    outcomes.push(same(
        "posts left",
        &vec![-P53, -P53 + 1, -1, 1, P53 - 1, P53, i64::MAX],
        &remaining,
    ));

    // Raw SQL: every i64 parameter binds exactly; text shows what was stored.
    let raw = db
        .sql("SELECT CAST(\"views\" AS TEXT) AS v, CAST(? AS TEXT) AS p FROM \"conf_posts\" WHERE \"id\" = ?")
        .bind(i64::MIN)
        .bind(i64::MAX)
        .all_json()
        .await
        .step("raw select by i64::MAX")?;
    outcomes.push(same(
        "raw: stored views of post i64::MAX, and an i64::MIN parameter",
        &vec![(json!(i64::MIN.to_string()), json!(i64::MIN.to_string()))],
        &raw.iter()
            .map(|row| (row["v"].clone(), row["p"].clone()))
            .collect::<Vec<_>>(),
    ));

    // u64: up to i64::MAX stored exactly, beyond refused (SQLite's INTEGER is signed 64-bit).
    outcomes.push(same(
        "u64 i64::MAX as a value",
        &Some(sonic_db_core::Value::Integer(i64::MAX)),
        &(i64::MAX as u64).to_value().ok(),
    ));
    let refused = db.sql("SELECT ?").bind(u64::MAX).run().await;
    outcomes.push(ensure(
        refused
            .as_ref()
            .is_err_and(|e| e.to_string().contains("18446744073709551615")),
        || format!("binding u64::MAX: expected an error naming the value, got {refused:?}"),
    ));
    all(outcomes)
}

/// The KV cache keeps 64-bit keys and values exactly: a miss then a hit for a post keyed
/// beyond 2^53, its raw entry, an update and a delete by that key invalidating it.
pub(crate) async fn kv_integers_64bit(ctx: &Ctx) -> Outcome {
    ctx.require_kv()?;
    let db = &ctx.db;
    db.insert(&ConfUser::new("int64", "int64@kv.test", None, 0))
        .await
        .step("insert user")?;
    let mut outcomes = Vec::new();
    for n in [P53 + 1, i64::MIN, i64::MAX] {
        let mut row = post(n);
        row.views = n;
        db.insert(&row).await.step(format!("insert post {n}"))?;
        let first = db
            .find_with_source::<ConfPost>(n)
            .await
            .step(format!("find post {n}"))?;
        let second = db
            .find_with_source::<ConfPost>(n)
            .await
            .step(format!("find post {n} again"))?;
        outcomes.push(same(
            &format!("post {n}: two finds (id, views, source)"),
            &vec![(n, n, Source::D1), (n, n, Source::Kv)],
            &[first, second]
                .iter()
                .flatten()
                .map(|f| (f.record.id, f.record.views, f.source))
                .collect::<Vec<_>>(),
        ));
        let entry = ctx.kv_entry::<ConfPost>(n).await?;
        outcomes.push(same(
            &format!("post {n}: raw KV entry (id, views)"),
            &Some((n, n)),
            &entry.map(|p| (p.id, p.views)),
        ));
    }
    // An update by filter and a delete by key reach the entries of 64-bit keys.
    db.update_where::<ConfPost>()
        .set(ConfPost::VIEWS, 7)
        .filter(ConfPost::ID.eq(i64::MAX))
        .run()
        .await
        .step("update_where id = i64::MAX")?;
    let other = ctx.new_handle()?;
    let after_update = other
        .find::<ConfPost>(i64::MAX)
        .await
        .step("find i64::MAX after update_where")?;
    outcomes.push(same(
        "post i64::MAX after update_where, through a new handle",
        &Some(7),
        &after_update.map(|p| p.views),
    ));
    db.delete::<ConfPost>(P53 + 1)
        .await
        .step("delete post 2^53 + 1")?;
    let after_delete = other
        .find::<ConfPost>(P53 + 1)
        .await
        .step("find 2^53 + 1 after delete")?;
    outcomes.push(ensure(after_delete.is_none(), || {
        format!("post 2^53 + 1 after its delete, through a new handle: {after_delete:?}")
    }));
    db.delete_where::<ConfPost>()
        .filter(ConfPost::VIEWS.eq(i64::MIN))
        .run()
        .await
        .step("delete_where views = i64::MIN")?;
    let after_delete_where = other
        .find::<ConfPost>(i64::MIN)
        .await
        .step("find i64::MIN after delete_where")?;
    outcomes.push(ensure(after_delete_where.is_none(), || {
        format!("post i64::MIN after delete_where, through a new handle: {after_delete_where:?}")
    }));
    all(outcomes)
}
