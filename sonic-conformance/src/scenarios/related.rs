//! Relation filters: `exists` / `not_exists` along `many` relations and through `one`
//! relations, nested, in selects that load relations, counts, `update_where` and
//! `delete_where`; a filtered select stays one statement.

use sonic_db_core::query::and;
use sonic_db_core::{Db, Filter};

use crate::check::{all, same, Outcome, Step};
use crate::counted::counted;
use crate::ctx::Ctx;
use crate::tables::{ConfComment, ConfPost, ConfUser};

/// f1 (active) wrote posts 1 "Hello Rust" (comment 1 "great") and 2 "Notes"; f2 (inactive)
/// wrote post 3 "Rust again"; f3 (active) wrote nothing.
async fn seed(db: &Db) -> Outcome {
    let mut f2 = ConfUser::new("f2", "f2@x.test", None, 20);
    f2.active = false;
    let users = [
        ConfUser::new("f1", "f1@x.test", Some("Fay"), 30),
        f2,
        ConfUser::new("f3", "f3@x.test", None, 40),
    ];
    db.insert_many(&users).await.step("seeding users")?;
    let posts = [
        ConfPost::new(1, "f1", "Hello Rust", 10),
        ConfPost::new(2, "f1", "Notes", 5),
        ConfPost::new(3, "f2", "Rust again", 7),
    ];
    db.insert_many(&posts).await.step("seeding posts")?;
    db.insert(&ConfComment::new(1, 1, "great"))
        .await
        .step("seeding a comment")?;
    Ok(())
}

async fn user_ids(db: &Db, what: &str, filter: Filter<ConfUser>, expected: &[&str]) -> Outcome {
    let users = db
        .select::<ConfUser>()
        .filter(filter)
        .order_by(ConfUser::ID.asc())
        .all()
        .await
        .step(what)?;
    let ids: Vec<&str> = users.iter().map(|u| u.id.as_str()).collect();
    same(what, &expected.to_vec(), &ids)
}

async fn post_ids(db: &Db, what: &str, filter: Filter<ConfPost>, expected: &[i64]) -> Outcome {
    let posts = db
        .select::<ConfPost>()
        .filter(filter)
        .order_by(ConfPost::ID.asc())
        .all()
        .await
        .step(what)?;
    let ids: Vec<i64> = posts.iter().map(|p| p.id).collect();
    same(what, &expected.to_vec(), &ids)
}

/// Every form of relation filter, with the same answers on every backend.
pub(crate) async fn relation_filters(ctx: &Ctx) -> Outcome {
    let db = &ctx.db;
    seed(db).await?;
    use ConfPost as P;
    use ConfUser as U;
    let rusty = U::POSTS.exists(P::TITLE.contains("rust"));
    let mut outcomes = vec![
        user_ids(
            db,
            "users with a post about rust",
            rusty.clone(),
            &["f1", "f2"],
        )
        .await,
        user_ids(
            db,
            "users without posts",
            U::POSTS.not_exists(and([])),
            &["f3"],
        )
        .await,
        user_ids(
            db,
            "users with a commented post",
            U::POSTS.exists(P::COMMENTS.exists(ConfComment::BODY.eq("great"))),
            &["f1"],
        )
        .await,
        post_ids(
            db,
            "posts whose author is inactive",
            P::AUTHOR.exists(U::ACTIVE.eq(false)),
            &[3],
        )
        .await,
        post_ids(
            db,
            "posts whose author is not inactive",
            P::AUTHOR.not_exists(U::ACTIVE.eq(false)),
            &[1, 2],
        )
        .await,
    ];

    // Loading relations of the filtered records: still one statement where the backend loads
    // relations in one (D1), and the same records everywhere.
    let (counted_db, sent) = counted(db);
    let loaded = counted_db
        .select::<U>()
        .filter(rusty.clone())
        .with(U::POSTS)
        .order_by(U::ID.asc())
        .all()
        .await
        .step("filtered users with posts");
    outcomes.push(loaded.and_then(|users| {
        let shape: Vec<(&str, usize)> = users
            .iter()
            .map(|u| (u.id.as_str(), u.posts.as_ref().map_or(0, Vec::len)))
            .collect();
        same(
            "filtered users with posts",
            &vec![("f1", 2), ("f2", 1)],
            &shape,
        )
    }));
    if db.capabilities().eager == sonic_db_core::EagerStrategy::SingleStatement {
        outcomes.push(same(
            "statements of a filtered select with posts",
            &(1, 1),
            &sent.get(),
        ));
    }
    let count = db.select::<U>().filter(rusty).count().await.step("count");
    outcomes.push(count.and_then(|n| same("count of users with a post about rust", &2, &n)));

    let bumped = db
        .update_where::<P>()
        .set_expr(P::VIEWS, P::VIEWS + 100)
        .filter(P::AUTHOR.exists(U::ACTIVE.eq(false)))
        .returning()
        .await
        .step("update_where through the author");
    outcomes.push(bumped.and_then(|posts| {
        let got: Vec<(i64, i64)> = posts.iter().map(|p| (p.id, p.views)).collect();
        same("update_where through the author", &vec![(3, 107)], &got)
    }));
    let deleted = db
        .delete_where::<U>()
        .filter(U::POSTS.not_exists(and([])))
        .run()
        .await
        .step("delete_where users without posts");
    outcomes.push(deleted.and_then(|n| same("users without posts deleted", &1, &n)));
    outcomes.push(user_ids(db, "users left", and([]), &["f1", "f2"]).await);
    all(outcomes)
}
