//! Many-to-many relations through a join table: eager loads (one statement where the
//! backend's strategy is single-statement), level options, relation filters, idempotent
//! links and unlinks, checked against the join table read with plain selects.

use sonic_db_core::{Audit, Db, EagerStrategy};

use crate::check::{all, ensure, same, Outcome, Step};
use crate::counted::counted;
use crate::ctx::Ctx;
use crate::tables::{ConfPost, ConfPostTag, ConfTag, ConfUser};

fn link(id: usize, post: i64, tag: &str) -> ConfPostTag {
    ConfPostTag {
        id: format!("l{id}"),
        post_id: post,
        tag_id: tag.to_string(),
        audit: Audit::default(),
    }
}

/// Posts 1–6 by u1; tags `a`, `b`, `c`, `d` (none linked to `d`); post `p` carries tag `a`
/// when odd, `b` when divisible by 3, `c` for 2 and 5. Links are made out of key order.
async fn seed(db: &Db) -> Result<Vec<(i64, &'static str)>, String> {
    db.insert(&ConfUser::new("u1", "a@x.test", Some("Ada"), 36))
        .await
        .step("seeding a user")?;
    let posts: Vec<ConfPost> = (1..=6)
        .map(|id| ConfPost::new(id, "u1", "t", (id * 5) % 7))
        .collect();
    db.insert_many(&posts).await.step("seeding posts")?;
    let tags: Vec<ConfTag> = ["d", "c", "b", "a"]
        .iter()
        .map(|id| ConfTag {
            id: id.to_string(),
            label: format!("tag {id}"),
            posts: None,
        })
        .collect();
    db.insert_many(&tags).await.step("seeding tags")?;
    let mut pairs: Vec<(i64, &'static str)> = Vec::new();
    for post in (1..=6).rev() {
        if post % 2 == 1 {
            pairs.push((post, "a"));
        }
        if post % 3 == 0 {
            pairs.push((post, "b"));
        }
        if post == 2 || post == 5 {
            pairs.push((post, "c"));
        }
    }
    for (n, (post, tag)) in pairs.iter().enumerate() {
        let linked = db
            .link(ConfTag::POSTS, &link(n, *post, tag))
            .await
            .step("linking")?;
        ensure(linked, || {
            format!("post {post} and tag {tag} were new and not linked")
        })?;
    }
    Ok(pairs)
}

/// Each tag's post ids from `pairs`, tags in key order, posts in key order.
fn by_tag(pairs: &[(i64, &str)], tags: &[&str]) -> Vec<(String, Vec<i64>)> {
    tags.iter()
        .map(|tag| {
            let mut posts: Vec<i64> = pairs
                .iter()
                .filter(|(_, t)| t == tag)
                .map(|(p, _)| *p)
                .collect();
            posts.sort_unstable();
            (tag.to_string(), posts)
        })
        .collect()
}

fn loaded(tags: &[ConfTag]) -> Vec<(String, Vec<i64>)> {
    tags.iter()
        .map(|t| {
            let posts = t.posts.iter().flatten().map(|p| p.id).collect();
            (t.id.clone(), posts)
        })
        .collect()
}

/// Loads, options, filters, link and unlink of `conf_tags` → `conf_posts`.
pub(crate) async fn many_to_many(ctx: &Ctx) -> Outcome {
    let db = &ctx.db;
    let pairs = seed(db).await?;
    let tags = ["a", "b", "c", "d"];

    let (counted_db, sent) = counted(db);
    let got = counted_db
        .select::<ConfTag>()
        .with(ConfTag::POSTS)
        .order_by(ConfTag::ID.asc())
        .all()
        .await
        .step("tags with their posts")?;
    let load_sent = sent.get();
    // The posts read whole, as a plain select reads them.
    let plain = db
        .select::<ConfPost>()
        .order_by(ConfPost::ID.asc())
        .all()
        .await
        .step("posts")?;
    let whole: Vec<ConfPost> = got
        .iter()
        .find(|t| t.id == "a")
        .and_then(|t| t.posts.clone())
        .unwrap_or_default();
    let plain_a: Vec<ConfPost> = plain.into_iter().filter(|p| p.id % 2 == 1).collect();

    // Options: per tag the most viewed post but one.
    let paged = db
        .select::<ConfTag>()
        .with(
            ConfTag::POSTS
                .order_by(ConfPost::VIEWS.desc())
                .offset(1)
                .limit(1),
        )
        .order_by(ConfTag::ID.asc())
        .all()
        .await
        .step("tags with one post each")?;
    let mut expected_paged = Vec::new();
    for tag in tags {
        let posts = db
            .select::<ConfPost>()
            .filter(ConfPost::ID.in_list(pairs.iter().filter(|(_, t)| *t == tag).map(|(p, _)| *p)))
            .order_by(ConfPost::VIEWS.desc())
            .order_by(ConfPost::ID.asc())
            .offset(1)
            .limit(1)
            .all()
            .await
            .step("a tag's posts by views")?;
        expected_paged.push((tag.to_string(), posts.into_iter().map(|p| p.id).collect()));
    }

    // Relation filter: tags with a post of 3+ views.
    let viewed = db
        .select::<ConfTag>()
        .filter(ConfTag::POSTS.exists(ConfPost::VIEWS.gte(3)))
        .order_by(ConfTag::ID.asc())
        .all()
        .await
        .step("tags with a post of 3+ views")?;
    let viewed: Vec<String> = viewed.into_iter().map(|t| t.id).collect();
    let posts_viewed: Vec<i64> = (1..=6).filter(|id| (id * 5) % 7 >= 3).collect();
    let expected_viewed: Vec<String> = tags
        .iter()
        .filter(|tag| {
            pairs
                .iter()
                .any(|(p, t)| t == *tag && posts_viewed.contains(p))
        })
        .map(|t| t.to_string())
        .collect();

    // Linking again changes nothing; unlinking removes exactly the pair.
    let again = db
        .link(ConfTag::POSTS, &link(99, 1, "a"))
        .await
        .step("linking again")?;
    let links = db.select::<ConfPostTag>().count().await.step("links")?;
    let removed = db.unlink(ConfTag::POSTS, "a", 3).await.step("unlinking")?;
    let removed_again = db
        .unlink(ConfTag::POSTS, "a", 3)
        .await
        .step("unlinking again")?;
    let after = db
        .select::<ConfTag>()
        .with(ConfTag::POSTS)
        .order_by(ConfTag::ID.asc())
        .all()
        .await
        .step("tags after the unlink")?;
    let remaining: Vec<(i64, &str)> = pairs
        .iter()
        .copied()
        .filter(|pair| *pair != (3, "a"))
        .collect();

    let single = db.capabilities().eager == EagerStrategy::SingleStatement;
    all([
        same("each tag's posts", &by_tag(&pairs, &tags), &loaded(&got)),
        same("a tag's posts read whole", &plain_a, &whole),
        if single {
            same(
                "statements and round trips of the load",
                &(1, 1),
                &load_sent,
            )
        } else {
            Ok(())
        },
        same(
            "the second most viewed post per tag",
            &expected_paged,
            &loaded(&paged),
        ),
        same("tags with a post of 3+ views", &expected_viewed, &viewed),
        same("a link made twice", &false, &again),
        same("links after linking twice", &(pairs.len() as u64), &links),
        same(
            "rows unlinked, then again",
            &(1, 0),
            &(removed, removed_again),
        ),
        same(
            "each tag's posts after the unlink",
            &by_tag(&remaining, &tags),
            &loaded(&after),
        ),
    ])
}
