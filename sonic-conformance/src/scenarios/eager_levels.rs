//! Options per level of eager loading: filter, order, limit and offset on nested relations,
//! checked against the same records read with plain selects (whatever the backend's
//! strategy: one statement on D1, per level natively).

use sonic_db_core::query::Include;
use sonic_db_core::Db;

use crate::check::{all, same, Outcome, Step};
use crate::counted::counted;
use crate::ctx::Ctx;
use crate::tables::{ConfComment, ConfPost, ConfUser};

/// Users u1–u3; u1 has posts 1–5 and u2 posts 6–7 (views repeat, so ties need the primary
/// key); each post `p` has comments `10p`–`10p+3`, every other one flagged.
async fn seed(db: &Db) -> Outcome {
    db.insert_many(&[
        ConfUser::new("u1", "a@x.test", Some("Ada"), 36),
        ConfUser::new("u2", "b@x.test", Some("Bob"), 50),
        ConfUser::new("u3", "c@x.test", None, 17),
    ])
    .await
    .step("seeding users")?;
    let posts: Vec<ConfPost> = (1..=7)
        .map(|id| ConfPost {
            body: Some(format!("body {id}")),
            ..ConfPost::new(id, if id <= 5 { "u1" } else { "u2" }, "t", (id * 7) % 4)
        })
        .collect();
    db.insert_many(&posts).await.step("seeding posts")?;
    let comments: Vec<ConfComment> = (1..=7)
        .flat_map(|post| (0..4).map(move |i| (post, 10 * post + i)))
        .map(|(post, id)| ConfComment {
            flag: id % 2 == 0,
            ..ConfComment::new(id, post, "c")
        })
        .collect();
    db.insert_many(&comments).await.step("seeding comments")?;
    Ok(())
}

/// Per user: posts with 1+ views, most read first, two of them after skipping one; per post
/// the two newest flagged comments.
fn tree() -> Include<ConfUser> {
    ConfUser::POSTS
        .filter(ConfPost::VIEWS.gte(1))
        .order_by(ConfPost::VIEWS.desc())
        .offset(1)
        .limit(2)
        .with(
            ConfPost::COMMENTS
                .filter(ConfComment::FLAG.eq(true))
                .order_by(ConfComment::ID.desc())
                .limit(2),
        )
        .into()
}

/// The same tree, read with plain selects.
async fn expected(db: &Db) -> Result<Vec<ConfUser>, String> {
    let mut users = db
        .select::<ConfUser>()
        .order_by(ConfUser::ID.asc())
        .all()
        .await
        .step("users")?;
    for user in &mut users {
        let mut posts = db
            .select::<ConfPost>()
            .filter(ConfPost::USER_ID.eq(&user.id) & ConfPost::VIEWS.gte(1))
            .order_by(ConfPost::VIEWS.desc())
            .order_by(ConfPost::ID.asc())
            .offset(1)
            .limit(2)
            .all()
            .await
            .step("posts")?;
        for post in &mut posts {
            post.comments = Some(
                db.select::<ConfComment>()
                    .filter(ConfComment::POST_ID.eq(post.id) & ConfComment::FLAG.eq(true))
                    .order_by(ConfComment::ID.desc())
                    .limit(2)
                    .all()
                    .await
                    .step("comments")?,
            );
        }
        user.posts = Some(posts);
    }
    Ok(users)
}

/// Nested levels with every option, a filtered `one` relation that matches nothing, and a
/// level that reads only some columns.
pub(crate) async fn eager_level_options(ctx: &Ctx) -> Outcome {
    let db = &ctx.db;
    seed(db).await?;
    let got = db
        .select::<ConfUser>()
        .with(tree())
        .order_by(ConfUser::ID.asc())
        .all()
        .await
        .step("users with options per level")?;
    let want = expected(db).await?;
    let authors = db
        .select::<ConfPost>()
        .with(ConfPost::AUTHOR.filter(ConfUser::AGE.gt(40)))
        .order_by(ConfPost::ID.asc())
        .all()
        .await
        .step("posts with authors over 40")?;
    let authors: Vec<Option<String>> = authors
        .into_iter()
        .map(|p| p.author.into_option().map(|a| a.id))
        .collect();
    // Columns per level: the body (an Option) is left out and reads as None. Options never
    // cost the single-statement strategy its one round trip (posts hold no REAL, which D1's
    // `json_array` would round: a level with one is loaded on its own).
    let (counted_db, sent) = counted(db);
    let slim = counted_db
        .select::<ConfUser>()
        .with(ConfUser::POSTS.columns((
            ConfPost::TITLE,
            ConfPost::VIEWS,
            ConfPost::CREATED_ON,
            ConfPost::UPDATED_ON,
        )))
        .filter(ConfUser::ID.eq("u1"))
        .one()
        .await
        .step("posts without their bodies")?;
    let slim_sent = sent.get();
    let slim: Vec<(i64, Option<String>)> = slim
        .posts
        .unwrap_or_default()
        .into_iter()
        .map(|p| (p.id, p.body))
        .collect();
    let mut expected_authors = vec![None; 5];
    expected_authors.extend([Some("u2".to_string()), Some("u2".to_string())]);
    let single = db.capabilities().eager == sonic_db_core::EagerStrategy::SingleStatement;
    all([
        same("users with options per level", &want, &got),
        if single {
            same("statements of posts with options", &(1, 1), &slim_sent)
        } else {
            Ok(())
        },
        same("posts with authors over 40", &expected_authors, &authors),
        same(
            "posts without their bodies",
            &(1..=5).map(|id| (id, None)).collect::<Vec<_>>(),
            &slim,
        ),
    ])
}
