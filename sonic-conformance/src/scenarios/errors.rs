//! Constraint violations surface as their own error variants and change nothing; missing
//! records are `None`, `false`, `0` or `Error::NotFound`, never a failure of another kind.

use sonic_db_core::Error;

use crate::check::{all, expect_error, same, Outcome, Step};
use crate::ctx::Ctx;
use crate::scenarios::crud::{audited, read_back};
use crate::tables::{ConfComment, ConfPost, ConfUser};

fn unique(e: &Error) -> bool {
    matches!(e, Error::UniqueViolation { .. })
}

fn foreign_key(e: &Error) -> bool {
    matches!(e, Error::ForeignKeyViolation { .. })
}

/// Duplicate keys and emails by every write: `Error::UniqueViolation`, nothing changed.
pub(crate) async fn unique_violation(ctx: &Ctx) -> Outcome {
    let db = &ctx.db;
    let now = ctx.now();
    let ada = ConfUser::new("uv-1", "same@unique.test", Some("Ada"), 36);
    let bob = ConfUser::new("uv-2", "other@unique.test", Some("Bob"), 40);
    db.insert(&ada).await.step("insert uv-1")?;
    db.insert(&bob).await.step("insert uv-2")?;
    let (ada, bob) = (audited(ada, now, now), audited(bob, now, now));
    ctx.tick();

    let mut dup_email = ConfUser::new("uv-3", "same@unique.test", None, 1);
    let mut stolen = bob.clone();
    stolen.email = ada.email.clone();
    let outcomes = vec![
        expect_error(
            "insert of a duplicate email",
            "Error::UniqueViolation",
            db.insert(&dup_email).await,
            unique,
        ),
        expect_error(
            "insert of a duplicate primary key",
            "Error::UniqueViolation",
            db.insert(&ConfUser::new("uv-1", "new@unique.test", None, 1))
                .await,
            unique,
        ),
        expect_error(
            "update to a duplicate email",
            "Error::UniqueViolation",
            db.update(&stolen).await,
            unique,
        ),
        expect_error(
            "upsert to a duplicate email",
            "Error::UniqueViolation",
            db.upsert(&stolen).await,
            unique,
        ),
        expect_error(
            "update_where to a duplicate email",
            "Error::UniqueViolation",
            db.update_where::<ConfUser>()
                .set(ConfUser::EMAIL, "same@unique.test")
                .filter(ConfUser::ID.eq("uv-2"))
                .run()
                .await,
            unique,
        ),
        {
            dup_email.email = "fresh@unique.test".to_string();
            let twin = ConfUser::new("uv-4", "fresh@unique.test", None, 2);
            expect_error(
                "insert_many of two rows with one email",
                "Error::UniqueViolation",
                db.insert_many(&[dup_email, twin]).await,
                unique,
            )
        },
    ];
    all(outcomes)?;
    // Nothing changed, wherever it is read.
    read_back(ctx, "uv-1 after the violations", Some(&ada)).await?;
    read_back(ctx, "uv-2 after the violations", Some(&bob)).await?;
    let count = db.select::<ConfUser>().count().await.step("count")?;
    same("users after the violations", &2, &count)
}

/// References to missing rows by every write: `Error::ForeignKeyViolation`, nothing changed;
/// and `ON DELETE CASCADE`.
pub(crate) async fn foreign_key_violation(ctx: &Ctx) -> Outcome {
    let db = &ctx.db;
    let now = ctx.now();
    expect_error(
        "insert of a post by a missing user",
        "Error::ForeignKeyViolation",
        db.insert(&ConfPost::new(1, "ghost", "orphan", 0)).await,
        foreign_key,
    )?;
    db.insert(&ConfUser::new("fk-1", "fk@fk.test", None, 1))
        .await
        .step("insert user fk-1")?;
    let post = ConfPost::new(1, "fk-1", "real", 5);
    db.insert(&post).await.step("insert post 1")?;
    let post = {
        let mut p = post;
        p.audit.created_on = now;
        p.audit.updated_on = now;
        p
    };
    let mut moved = post.clone();
    moved.user_id = "ghost".to_string();
    all([
        expect_error(
            "update of a post to a missing user",
            "Error::ForeignKeyViolation",
            db.update(&moved).await,
            foreign_key,
        ),
        expect_error(
            "upsert of a post by a missing user",
            "Error::ForeignKeyViolation",
            db.upsert(&ConfPost::new(2, "ghost", "orphan", 0)).await,
            foreign_key,
        ),
        expect_error(
            "update_where to a missing user",
            "Error::ForeignKeyViolation",
            db.update_where::<ConfPost>()
                .set(ConfPost::USER_ID, "ghost")
                .filter(ConfPost::ID.eq(1))
                .run()
                .await,
            foreign_key,
        ),
        expect_error(
            "insert_many of a valid and an orphan post",
            "Error::ForeignKeyViolation",
            db.insert_many(&[
                ConfPost::new(3, "fk-1", "valid", 0),
                ConfPost::new(4, "ghost", "orphan", 0),
            ])
            .await,
            foreign_key,
        ),
        expect_error(
            "insert of a comment on a missing post",
            "Error::ForeignKeyViolation",
            db.insert(&ConfComment::new(1, 99, "orphan")).await,
            foreign_key,
        ),
    ])?;
    let fresh = db
        .find_fresh::<ConfPost>(1)
        .await
        .step("find_fresh post 1")?;
    same("post 1 after the violations", &Some(&post), &fresh.as_ref())?;
    let posts = db
        .select::<ConfPost>()
        .order_by(ConfPost::ID.asc())
        .all()
        .await
        .step("select posts")?;
    same("posts after the violations", &vec![post], &posts)?;

    // Deleting the user deletes its posts (and their comments).
    db.insert(&ConfComment::new(1, 1, "on post 1"))
        .await
        .step("insert comment 1")?;
    let deleted = db
        .delete::<ConfUser>("fk-1")
        .await
        .step("delete user fk-1")?;
    same("delete of user fk-1", &true, &deleted)?;
    let posts = db.select::<ConfPost>().count().await.step("count posts")?;
    let comments = db
        .select::<ConfComment>()
        .count()
        .await
        .step("count comments")?;
    all([
        same("posts after deleting their user (cascade)", &0, &posts),
        same(
            "comments after deleting their post's user (cascade)",
            &0,
            &comments,
        ),
    ])
}

/// Missing records: `None`, `false`, `0`, empty lists, or `Error::NotFound` naming the table.
pub(crate) async fn not_found(ctx: &Ctx) -> Outcome {
    let db = &ctx.db;
    db.insert(&ConfUser::new("nf-1", "nf@nf.test", None, 1))
        .await
        .step("insert nf-1")?;
    let missing = ConfUser::new("nf-missing", "missing@nf.test", None, 1);
    all([
        db.find::<ConfUser>("nf-missing")
            .await
            .step("find of a missing id")
            .and_then(|r| same("find of a missing id", &None, &r)),
        db.find_with_source::<ConfUser>("nf-missing")
            .await
            .step("find_with_source of a missing id")
            .and_then(|r| {
                same(
                    "find_with_source of a missing id",
                    &None,
                    &r.map(|f| f.record),
                )
            }),
        db.find::<ConfUser>("")
            .await
            .step("find of the empty id")
            .and_then(|r| same("find of the empty id", &None, &r)),
        db.find_fresh::<ConfPost>(i64::from(i32::MAX))
            .await
            .step("find_fresh of a missing integer id")
            .and_then(|r| same("find_fresh of a missing integer id", &None, &r)),
        db.select::<ConfUser>()
            .filter(ConfUser::ID.eq("nf-missing"))
            .first()
            .await
            .step("first of nothing")
            .and_then(|r| same("first of nothing", &None, &r)),
        expect_error(
            "one of nothing",
            "Error::NotFound { table: \"conf_users\" }",
            db.select::<ConfUser>()
                .filter(ConfUser::ID.eq("nf-missing"))
                .one()
                .await,
            |e| matches!(e, Error::NotFound { table } if table == "conf_users"),
        ),
        expect_error(
            "update of a missing record",
            "Error::NotFound { table: \"conf_users\" }",
            db.update(&missing).await,
            |e| matches!(e, Error::NotFound { table } if table == "conf_users"),
        ),
        db.delete::<ConfUser>("nf-missing")
            .await
            .step("delete of a missing record")
            .and_then(|r| same("delete of a missing record", &false, &r)),
        db.update_where::<ConfUser>()
            .set(ConfUser::AGE, 2)
            .filter(ConfUser::ID.eq("nf-missing"))
            .returning()
            .await
            .step("update_where matching nothing")
            .and_then(|r| same("update_where … returning matching nothing", &0, &r.len())),
        db.update_where::<ConfUser>()
            .set(ConfUser::AGE, 2)
            .filter(ConfUser::ID.eq("nf-missing"))
            .run()
            .await
            .step("update_where matching nothing")
            .and_then(|n| same("update_where … run matching nothing", &0, &n)),
        db.delete_where::<ConfUser>()
            .filter(ConfUser::ID.eq("nf-missing"))
            .run()
            .await
            .step("delete_where matching nothing")
            .and_then(|n| same("delete_where matching nothing", &0, &n)),
        db.select::<ConfUser>()
            .filter(ConfUser::ID.eq("nf-missing"))
            .page()
            .await
            .step("page of nothing")
            .and_then(|p| same("page of nothing", &(0, 0), &(p.items.len(), p.total))),
    ])?;
    // The missing record was not created by any of that.
    let count = db.select::<ConfUser>().count().await.step("count")?;
    same("users after the misses", &1, &count)
}
