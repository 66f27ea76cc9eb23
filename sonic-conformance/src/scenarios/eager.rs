//! Eager relations: `many` and `one`, two levels deep, compared with what was written and
//! with the same records queried one table at a time.

use sonic_db_core::{Audit, Db, Json};

use crate::check::{all, same, same_list, Outcome, Step};
use crate::ctx::Ctx;
use crate::tables::{CommentMeta, ConfComment, ConfPost, ConfUser};

/// The seeded records as stored (audit stamped), each list by id.
struct Seed {
    users: Vec<ConfUser>,
    posts: Vec<ConfPost>,
    comments: Vec<ConfComment>,
}

fn stamp(audit: &mut Audit, now: i64) {
    *audit = Audit {
        created_on: now,
        updated_on: now,
    };
}

/// Inserts users, posts and comments in an order that differs from key order and returns
/// them as stored, sorted by id.
async fn seed(
    ctx: &Ctx,
    mut users: Vec<ConfUser>,
    mut posts: Vec<ConfPost>,
    mut comments: Vec<ConfComment>,
) -> Result<Seed, String> {
    let db = &ctx.db;
    for (what, n, inserted) in [
        (
            "users",
            users.len(),
            db.insert_many(&users).await.map(|r| r.len()),
        ),
        (
            "posts",
            posts.len(),
            db.insert_many(&posts).await.map(|r| r.len()),
        ),
        (
            "comments",
            comments.len(),
            db.insert_many(&comments).await.map(|r| r.len()),
        ),
    ] {
        let inserted = inserted.step(format!("seeding {what}"))?;
        same(&format!("seeded {what}"), &n, &inserted)?;
    }
    let now = ctx.now();
    users.iter_mut().for_each(|u| stamp(&mut u.audit, now));
    posts.iter_mut().for_each(|p| stamp(&mut p.audit, now));
    comments.iter_mut().for_each(|c| stamp(&mut c.audit, now));
    users.sort_by(|a, b| a.id.cmp(&b.id));
    posts.sort_by_key(|p| p.id);
    comments.sort_by_key(|c| c.id);
    Ok(Seed {
        users,
        posts,
        comments,
    })
}

/// e1 writes posts 10, 11, 13; e2 writes 12; e3 writes nothing. Comments 100 and 102 are on
/// post 10, 101 on 12, 103 on 13; post 11 has none.
async fn seed_blog(ctx: &Ctx) -> Result<Seed, String> {
    let users = vec![
        ConfUser::new("e2", "bob@eager.test", Some("Bob"), 20),
        ConfUser::new("e3", "cy@eager.test", None, 30),
        ConfUser::new("e1", "ada@eager.test", Some("Ada"), 36),
    ];
    let posts = vec![
        ConfPost::new(13, "e1", "third", 3),
        ConfPost::new(10, "e1", "first", 1),
        ConfPost::new(12, "e2", "bob's", 12),
        ConfPost::new(11, "e1", "second", 2),
    ];
    let comment = |id: i64, post: i64, flag: bool| {
        let mut c = ConfComment::new(id, post, &format!("comment {id} on {post}"));
        c.flag = flag;
        c.big = id * 1_000_000_007;
        c.data = vec![id as u8, 0, 255];
        c.ratio = id as f64 / 4.0;
        c.meta = Json(CommentMeta {
            tags: vec![format!("t{id}")],
            weight: Some(id),
        });
        c
    };
    let comments = vec![
        comment(103, 13, true),
        comment(100, 10, false),
        comment(102, 10, true),
        comment(101, 12, false),
    ];
    seed(ctx, users, posts, comments).await
}

impl Seed {
    fn user(&self, id: &str) -> Option<ConfUser> {
        self.users.iter().find(|u| u.id == id).cloned()
    }

    fn post(&self, id: i64) -> Option<ConfPost> {
        self.posts.iter().find(|p| p.id == id).cloned()
    }

    fn comments_of(&self, post: i64) -> Vec<ConfComment> {
        self.comments
            .iter()
            .filter(|c| c.post_id == post)
            .cloned()
            .collect()
    }

    /// A post with the relations asked for.
    fn post_with(&self, post: &ConfPost, author: bool, comments: bool) -> ConfPost {
        let mut post = post.clone();
        if author {
            post.author = self.user(&post.user_id).into();
        }
        if comments {
            post.comments = Some(self.comments_of(post.id));
        }
        post
    }

    /// Every user with posts (and their comments / authors when asked).
    fn users_with_posts(&self, comments: bool, author: bool) -> Vec<ConfUser> {
        self.users
            .iter()
            .map(|u| {
                let mut user = u.clone();
                user.posts = Some(
                    self.posts
                        .iter()
                        .filter(|p| p.user_id == u.id)
                        .map(|p| self.post_with(p, author, comments))
                        .collect(),
                );
                user
            })
            .collect()
    }

    fn posts_with(&self, author: bool, comments: bool) -> Vec<ConfPost> {
        self.posts
            .iter()
            .map(|p| self.post_with(p, author, comments))
            .collect()
    }

    fn comments_with_post(&self, author: bool) -> Vec<ConfComment> {
        self.comments
            .iter()
            .map(|c| {
                let mut comment = c.clone();
                comment.post = self
                    .post(c.post_id)
                    .map(|p| self.post_with(&p, author, false))
                    .into();
                comment
            })
            .collect()
    }
}

/// The users with their posts, queried one table at a time (the reference the eager loads
/// are compared with, besides what was written).
async fn queried_users_with_posts(db: &Db, comments: bool) -> Result<Vec<ConfUser>, String> {
    let mut users = db
        .select::<ConfUser>()
        .order_by(ConfUser::ID.asc())
        .all()
        .await
        .step("reference: users")?;
    for user in &mut users {
        let mut posts = db
            .select::<ConfPost>()
            .filter(ConfPost::USER_ID.eq(&user.id))
            .order_by(ConfPost::ID.asc())
            .all()
            .await
            .step("reference: posts of a user")?;
        if comments {
            for post in &mut posts {
                post.comments = Some(
                    db.select::<ConfComment>()
                        .filter(ConfComment::POST_ID.eq(post.id))
                        .order_by(ConfComment::ID.asc())
                        .all()
                        .await
                        .step("reference: comments of a post")?,
                );
            }
        }
        user.posts = Some(posts);
    }
    Ok(users)
}

/// Users → posts → comments as ids.
type Tree = Vec<(String, Vec<(i64, Vec<i64>)>)>;

/// The shape of users → posts → comments as ids, for short messages.
fn tree(users: &[ConfUser]) -> Tree {
    users
        .iter()
        .map(|u| {
            let posts = u
                .posts
                .iter()
                .flatten()
                .map(|p| (p.id, p.comments.iter().flatten().map(|c| c.id).collect()))
                .collect();
            (u.id.clone(), posts)
        })
        .collect()
}

/// `many`: users with their posts (a user without posts gets an empty list).
pub(crate) async fn eager_many(ctx: &Ctx) -> Outcome {
    let db = &ctx.db;
    let seed = seed_blog(ctx).await?;
    let expected = seed.users_with_posts(false, false);
    let loaded = db
        .select::<ConfUser>()
        .with(ConfUser::POSTS)
        .order_by(ConfUser::ID.asc())
        .all()
        .await
        .step("users with posts")?;
    let shape = vec![
        (
            "e1".to_string(),
            vec![(10, vec![]), (11, vec![]), (13, vec![])],
        ),
        ("e2".to_string(), vec![(12, vec![])]),
        ("e3".to_string(), vec![]),
    ];
    same("users with posts: ids", &shape, &tree(&loaded))?;
    same_list("users with posts", &expected, &loaded)?;
    let queried = queried_users_with_posts(db, false).await?;
    same_list(
        "users with posts queried table by table",
        &expected,
        &queried,
    )?;

    let first = db
        .select::<ConfUser>()
        .with(ConfUser::POSTS)
        .filter(ConfUser::ID.eq("e1"))
        .first()
        .await
        .step("first user with posts")?;
    let page = db
        .select::<ConfUser>()
        .with(ConfUser::POSTS)
        .order_by(ConfUser::ID.desc())
        .limit(2)
        .page()
        .await
        .step("page of users with posts")?;
    let mut newest_first = expected.clone();
    newest_first.reverse();
    newest_first.truncate(2);
    all([
        same(
            "first user e1 with posts",
            &expected.first(),
            &first.as_ref(),
        ),
        same_list(
            "page of users with posts: items",
            &newest_first,
            &page.items,
        ),
        same("page of users with posts: total", &3, &page.total),
    ])
}

/// `one`: posts with their author (shared between posts), comments with their post.
pub(crate) async fn eager_one(ctx: &Ctx) -> Outcome {
    let db = &ctx.db;
    let seed = seed_blog(ctx).await?;
    let posts = db
        .select::<ConfPost>()
        .with(ConfPost::AUTHOR)
        .order_by(ConfPost::ID.asc())
        .all()
        .await
        .step("posts with author");
    let comments = db
        .select::<ConfComment>()
        .with(ConfComment::POST)
        .order_by(ConfComment::ID.asc())
        .all()
        .await
        .step("comments with post");
    let filtered = db
        .select::<ConfPost>()
        .with(ConfPost::AUTHOR)
        .filter(ConfPost::VIEWS.gte(3))
        .order_by(ConfPost::VIEWS.desc())
        .all()
        .await
        .step("popular posts with author");
    let expected_posts = seed.posts_with(true, false);
    let expected_filtered: Vec<ConfPost> = [12, 13]
        .iter()
        .filter_map(|&id| expected_posts.iter().find(|p| p.id == id).cloned())
        .collect();
    all([
        posts.and_then(|posts| same_list("posts with author", &expected_posts, &posts)),
        comments.and_then(|comments| {
            same_list(
                "comments with post",
                &seed.comments_with_post(false),
                &comments,
            )
        }),
        filtered.and_then(|posts| {
            same_list(
                "posts with views >= 3 with author",
                &expected_filtered,
                &posts,
            )
        }),
    ])
}

/// Two levels: users → posts → comments, posts → (author, comments), comments → post →
/// author, and a `many` with a `one` nested back up.
pub(crate) async fn eager_nested(ctx: &Ctx) -> Outcome {
    let db = &ctx.db;
    let seed = seed_blog(ctx).await?;
    let expected = seed.users_with_posts(true, false);
    let loaded = db
        .select::<ConfUser>()
        .with(ConfUser::POSTS.with(ConfPost::COMMENTS))
        .order_by(ConfUser::ID.asc())
        .all()
        .await
        .step("users with posts with comments")?;
    let shape = vec![
        (
            "e1".to_string(),
            vec![(10, vec![100, 102]), (11, vec![]), (13, vec![103])],
        ),
        ("e2".to_string(), vec![(12, vec![101])]),
        ("e3".to_string(), vec![]),
    ];
    same(
        "users with posts with comments: ids",
        &shape,
        &tree(&loaded),
    )?;
    same_list("users with posts with comments", &expected, &loaded)?;
    let queried = queried_users_with_posts(db, true).await?;
    same_list(
        "users with posts with comments queried table by table",
        &expected,
        &queried,
    )?;

    let posts = db
        .select::<ConfPost>()
        .with(ConfPost::AUTHOR)
        .with(ConfPost::COMMENTS)
        .order_by(ConfPost::ID.asc())
        .all()
        .await
        .step("posts with author and comments");
    let comments = db
        .select::<ConfComment>()
        .with(ConfComment::POST.with(ConfPost::AUTHOR))
        .order_by(ConfComment::ID.asc())
        .all()
        .await
        .step("comments with post with author");
    let round_trip = db
        .select::<ConfUser>()
        .with(
            ConfUser::POSTS
                .with(ConfPost::COMMENTS)
                .with(ConfPost::AUTHOR),
        )
        .filter(ConfUser::ID.eq("e1"))
        .first()
        .await
        .step("user e1 with posts with comments and author");
    let expected_e1 = seed
        .users_with_posts(true, true)
        .into_iter()
        .find(|u| u.id == "e1");
    all([
        posts.and_then(|posts| {
            same_list(
                "posts with author and comments",
                &seed.posts_with(true, true),
                &posts,
            )
        }),
        comments.and_then(|comments| {
            same_list(
                "comments with post with author",
                &seed.comments_with_post(true),
                &comments,
            )
        }),
        round_trip.and_then(|user| {
            same(
                "user e1 with posts with comments and author",
                &expected_e1,
                &user,
            )
        }),
    ])
}

/// Every byte value, 64-bit integers at ±(2^53 − 1), bools, floats and JSON, inside `many`
/// and `one` relations, with both strategies' encodings (JSON subqueries or plain rows).
pub(crate) async fn eager_values(ctx: &Ctx) -> Outcome {
    let db = &ctx.db;
    const MAX_SAFE: i64 = (1 << 53) - 1;
    let every_byte: Vec<u8> = (0..=255).collect();
    let mut descending = every_byte.clone();
    descending.reverse();
    /// flag, big, data, extra, ratio.
    type Edge = (bool, i64, Vec<u8>, Option<Vec<u8>>, f64);
    let values: Vec<Edge> = vec![
        (true, MAX_SAFE, every_byte.clone(), None, 0.1),
        (false, -MAX_SAFE, Vec::new(), Some(Vec::new()), 1.0 / 3.0),
        (true, 0, vec![0], Some(every_byte.clone()), 1e300),
        (false, -1, descending, Some(vec![0, 0]), f64::MIN_POSITIVE),
        (
            true,
            i64::from(i32::MAX) + 1,
            b"\"[]{},".to_vec(),
            Some(vec![255]),
            -2.5,
        ),
        (
            false,
            1_700_000_000_000,
            vec![0x5c, 0x22, 0x27],
            None,
            123_456.789,
        ),
    ];
    let comments: Vec<ConfComment> = values
        .into_iter()
        .enumerate()
        .map(|(i, (flag, big, data, extra, ratio))| {
            let id = 200 + i as i64;
            let mut c = ConfComment::new(id, 20, &format!("edge \"{i}\" 'é' 😀 \\ --;"));
            c.flag = flag;
            c.big = big;
            c.data = data;
            c.extra = extra;
            c.ratio = ratio;
            c.meta = Json(CommentMeta {
                tags: vec!["[\"x\"]".to_string(), String::new(), "ü\u{301}".to_string()],
                weight: (i % 2 == 0).then_some(-MAX_SAFE),
            });
            c
        })
        .collect();
    let users = vec![ConfUser::new("v1", "v1@values.test", None, 1)];
    let posts = vec![
        ConfPost::new(20, "v1", "values", 0),
        ConfPost::new(21, "v1", "empty", 0),
    ];
    let seed = seed(ctx, users, posts, comments).await?;

    let posts = db
        .select::<ConfPost>()
        .with(ConfPost::COMMENTS)
        .order_by(ConfPost::ID.asc())
        .all()
        .await
        .step("posts with comments");
    let comments = db
        .select::<ConfComment>()
        .with(ConfComment::POST)
        .order_by(ConfComment::ID.asc())
        .all()
        .await
        .step("comments with post");
    let users = db
        .select::<ConfUser>()
        .with(ConfUser::POSTS.with(ConfPost::COMMENTS))
        .all()
        .await
        .step("users with posts with comments");
    let float_bits = |loaded: &[ConfPost]| -> Outcome {
        for (expected, got) in seed
            .comments
            .iter()
            .zip(loaded.iter().flat_map(|p| p.comments.iter().flatten()))
        {
            if expected.ratio.to_bits() != got.ratio.to_bits() {
                return Err(format!(
                    "comment {}: ratio {:e} came back as {:e} (bits {:#x} vs {:#x})",
                    expected.id,
                    expected.ratio,
                    got.ratio,
                    expected.ratio.to_bits(),
                    got.ratio.to_bits()
                ));
            }
        }
        Ok(())
    };
    all([
        posts.and_then(|posts| {
            all([
                same_list("posts with comments", &seed.posts_with(false, true), &posts),
                float_bits(&posts),
            ])
        }),
        comments.and_then(|comments| {
            same_list(
                "comments with post",
                &seed.comments_with_post(false),
                &comments,
            )
        }),
        users.and_then(|users| {
            same_list(
                "users with posts with comments",
                &seed.users_with_posts(true, false),
                &users,
            )
        }),
    ])
}

/// Relation state in JSON, as Drizzle shapes it: not loaded → absent; a `one` loaded without
/// a match (no key, or a key naming nobody) → `null`; a `many` loaded without a match → `[]`.
pub(crate) async fn relation_state(ctx: &Ctx) -> Outcome {
    let db = &ctx.db;
    let users = [
        ConfUser::new("r1", "r1@x.test", Some("Rita"), 40),
        ConfUser::new("r2", "r2@x.test", None, 20),
    ];
    db.insert_many(&users).await.step("seeding users")?;
    let reviewed = |id: i64, reviewer: Option<&str>| ConfPost {
        reviewer_id: reviewer.map(str::to_string),
        ..ConfPost::new(id, "r1", "t", 0)
    };
    let posts = [
        reviewed(1, Some("r1")),
        reviewed(2, None),
        reviewed(3, Some("nobody")),
    ];
    db.insert_many(&posts).await.step("seeding posts")?;
    let mut outcomes = Vec::new();

    let with_reviewer = db
        .select::<ConfPost>()
        .with(ConfPost::REVIEWER)
        .order_by(ConfPost::ID.asc())
        .all()
        .await
        .step("posts with reviewer")?;
    let json = serde_json::to_value(&with_reviewer).map_err(|e| format!("posts as JSON: {e}"))?;
    let at = |path: String| json.pointer(&path).cloned();
    let reviewers: Vec<Option<serde_json::Value>> = (0..3)
        .map(|i| at(format!("/{i}/reviewer/id")).or_else(|| at(format!("/{i}/reviewer"))))
        .collect();
    outcomes.push(same(
        "reviewer ids in JSON (found, none, a key naming nobody)",
        &vec![
            Some(serde_json::json!("r1")),
            Some(serde_json::Value::Null),
            Some(serde_json::Value::Null),
        ],
        &reviewers,
    ));
    let present: Vec<bool> = (0..3)
        .map(|i| at(format!("/{i}/reviewer")).is_some() && at(format!("/{i}/author")).is_none())
        .collect();
    outcomes.push(same(
        "reviewer present (loaded), author absent (not loaded)",
        &vec![true, true, true],
        &present,
    ));
    let states: Vec<bool> = with_reviewer
        .iter()
        .map(|p| p.reviewer.is_loaded())
        .collect();
    outcomes.push(same(
        "every reviewer loaded",
        &vec![true, true, true],
        &states,
    ));

    // Two `one` relations to the same table, in one select (on D1 both joined).
    let with_both = db
        .select::<ConfPost>()
        .with(ConfPost::AUTHOR)
        .with(ConfPost::REVIEWER)
        .order_by(ConfPost::ID.desc())
        .all()
        .await
        .step("posts with author and reviewer")?;
    let pairs: Vec<(i64, Option<&str>, Option<&str>)> = with_both
        .iter()
        .map(|p| {
            let reviewer = p.reviewer.get().map(|u| u.id.as_str());
            (p.id, p.author.get().map(|u| u.id.as_str()), reviewer)
        })
        .collect();
    outcomes.push(same(
        "author and reviewer of each post, newest first",
        &vec![
            (3, Some("r1"), None),
            (2, Some("r1"), None),
            (1, Some("r1"), Some("r1")),
        ],
        &pairs,
    ));

    let with_posts = db
        .select::<ConfUser>()
        .with(ConfUser::POSTS.with(ConfPost::COMMENTS))
        .order_by(ConfUser::ID.asc())
        .all()
        .await
        .step("users with posts and comments")?;
    let json = serde_json::to_value(&with_posts).map_err(|e| format!("users as JSON: {e}"))?;
    outcomes.push(same(
        "a user without posts: []",
        &Some(serde_json::json!([])),
        &json.pointer("/1/posts").cloned(),
    ));
    outcomes.push(same(
        "a post without comments: []",
        &Some(serde_json::json!([])),
        &json.pointer("/0/posts/0/comments").cloned(),
    ));
    all(outcomes)
}
