//! Text search that matches user input literally, `exists()`, and keyset pagination: the
//! same answers on every backend, `exists()` in one statement.

use sonic_db_core::{Db, Error, Filter, Order};

use crate::check::{all, ensure, expect_error, same, Outcome, Step};
use crate::counted::counted;
use crate::ctx::Ctx;
use crate::tables::{ConfPost, ConfUser};

/// Two users and posts whose titles hold LIKE's wildcards and escape character:
///
/// | id | title | views |
/// |---|---|---|
/// | 1 | 50% off | 10 |
/// | 2 | 500 off | 250 |
/// | 3 | C:\path_to | 10 |
/// | 4 | Cpath | 10 |
/// | 5 | _hidden | 99 |
/// | 6 | xhidden | 99 |
async fn seed(db: &Db) -> Outcome {
    let users = [
        ConfUser::new("s1", "bob_smith@x.test", Some("Bob"), 30),
        ConfUser::new("s2", "bobXsmith@x.test", None, 40),
    ];
    db.insert_many(&users).await.step("seeding users")?;
    let posts = [
        ConfPost::new(1, "s1", "50% off", 10),
        ConfPost::new(2, "s1", "500 off", 250),
        ConfPost::new(3, "s1", r"C:\path_to", 10),
        ConfPost::new(4, "s2", "Cpath", 10),
        ConfPost::new(5, "s2", "_hidden", 99),
        ConfPost::new(6, "s2", "xhidden", 99),
    ];
    db.insert_many(&posts).await.step("seeding posts")?;
    Ok(())
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

/// `contains`, `starts_with` and `ends_with` treat `%`, `_` and `\` as characters.
pub(crate) async fn text_search(ctx: &Ctx) -> Outcome {
    let db = &ctx.db;
    seed(db).await?;
    use ConfPost as P;
    let mut outcomes = vec![
        post_ids(
            db,
            "contains(\"0% off\")",
            P::TITLE.contains("0% off"),
            &[1],
        )
        .await,
        post_ids(db, "like(\"%0% off%\")", P::TITLE.like("%0% off%"), &[1, 2]).await,
        post_ids(db, "starts_with(\"_\")", P::TITLE.starts_with("_"), &[5]).await,
        post_ids(db, r"contains(\path)", P::TITLE.contains(r"\path"), &[3]).await,
        post_ids(
            db,
            r"ends_with(\path_to)",
            P::TITLE.ends_with(r"\path_to"),
            &[3],
        )
        .await,
        post_ids(db, "ends_with(path)", P::TITLE.ends_with("path"), &[4]).await,
        post_ids(
            db,
            "starts_with(c), any case",
            P::TITLE.starts_with("c"),
            &[3, 4],
        )
        .await,
        post_ids(
            db,
            "not contains(hidden) and views = 10",
            !P::TITLE.contains("hidden") & P::VIEWS.eq(10),
            &[1, 3, 4],
        )
        .await,
    ];
    let users = db
        .select::<ConfUser>()
        .filter(ConfUser::EMAIL.starts_with("bob_"))
        .all()
        .await
        .step("starts_with on users");
    outcomes.push(users.and_then(|users| {
        let ids: Vec<&str> = users.iter().map(|u| u.id.as_str()).collect();
        same("starts_with(\"bob_\") on emails", &vec!["s1"], &ids)
    }));
    let named = db
        .select::<ConfUser>()
        .filter(ConfUser::NAME.contains("o"))
        .count()
        .await
        .step("contains on a nullable column");
    outcomes.push(named.and_then(|n| same("contains on a nullable column", &1, &n)));
    all(outcomes)
}

/// `exists()`: true or false, limit and offset ignored, one statement in one round trip.
pub(crate) async fn exists_one_statement(ctx: &Ctx) -> Outcome {
    seed(&ctx.db).await?;
    let (db, sent) = counted(&ctx.db);
    use ConfPost as P;
    let cases = [
        ("views = 99", db.select::<P>().filter(P::VIEWS.eq(99)), true),
        (
            "views > 1000",
            db.select::<P>().filter(P::VIEWS.gt(1000)),
            false,
        ),
        (
            "limit 0 offset 100",
            db.select::<P>().limit(0).offset(100),
            true,
        ),
    ];
    let mut outcomes = Vec::new();
    for (what, select, expected) in cases {
        outcomes.push(match select.exists().await {
            Ok(got) => same(what, &expected, &got),
            Err(e) => Err(format!("{what}: unexpected error: {e}")),
        });
    }
    outcomes.push(same(
        "(statements, round trips) of 3 exists()",
        &(3, 3),
        &sent.get(),
    ));
    all(outcomes)
}

/// Walks every page of posts in `order` with `after`, `size` at a time.
async fn walk(db: &Db, size: u64, order: &[Order<ConfPost>]) -> Result<Vec<Vec<i64>>, String> {
    let mut pages = Vec::new();
    let mut last: Option<ConfPost> = None;
    while pages.len() < 10 {
        let mut select = db.select::<ConfPost>().limit(size);
        for term in order {
            select = select.order_by(*term);
        }
        if let Some(last) = &last {
            select = select.after(last);
        }
        let page = select.all().await.step("a page")?;
        if page.is_empty() {
            break;
        }
        pages.push(page.iter().map(|p| p.id).collect());
        last = page.last().cloned();
    }
    Ok(pages)
}

/// What a walk is called, its page size, its order, and the ids of each page.
type Walk = (&'static str, u64, Vec<Order<ConfPost>>, Vec<Vec<i64>>);

/// `after(&last)`: pages in the select's order, ties broken by the primary key, no row
/// skipped or repeated, even when a row is inserted before the cursor; a nullable order
/// column is refused by name.
pub(crate) async fn keyset_pages(ctx: &Ctx) -> Outcome {
    let db = &ctx.db;
    seed(db).await?;
    use ConfPost as P;
    let mut outcomes = Vec::new();
    let walks: [Walk; 3] = [
        (
            "views desc, by 2",
            2,
            vec![P::VIEWS.desc()],
            vec![vec![2, 5], vec![6, 1], vec![3, 4]],
        ),
        (
            "views asc, user_id desc, by 4",
            4,
            vec![P::VIEWS.asc(), P::USER_ID.desc()],
            vec![vec![4, 1, 3, 5], vec![6, 2]],
        ),
        (
            "no order, by 5",
            5,
            vec![],
            vec![vec![1, 2, 3, 4, 5], vec![6]],
        ),
    ];
    for (what, size, order, expected) in walks {
        outcomes.push(
            walk(db, size, &order)
                .await
                .and_then(|pages| same(what, &expected, &pages)),
        );
    }
    // The cursor keeps its place when a row sorting before it is inserted.
    let first = db
        .select::<P>()
        .order_by(P::VIEWS.asc())
        .limit(3)
        .all()
        .await
        .step("first page by views")?;
    if let Some(last) = first.last() {
        db.insert(&P::new(7, "s1", "new", 0))
            .await
            .step("insert before the cursor")?;
        let next = db
            .select::<P>()
            .order_by(P::VIEWS.asc())
            .after(last)
            .limit(2)
            .all()
            .await
            .step("page after the insert");
        outcomes.push(next.and_then(|next| {
            let ids: Vec<i64> = next.iter().map(|p| p.id).collect();
            same(
                "page after a row inserted before the cursor",
                &vec![5, 6],
                &ids,
            )
        }));
        let count = db
            .select::<P>()
            .order_by(P::VIEWS.asc())
            .after(last)
            .count()
            .await
            .step("count after the cursor");
        outcomes.push(count.and_then(|n| same("count after the cursor", &3, &n)));
        let nullable = db
            .select::<P>()
            .order_by(P::BODY.asc())
            .after(last)
            .all()
            .await;
        outcomes.push(expect_error(
            "after on a nullable order column",
            "Error::InvalidQuery naming `body`",
            nullable,
            |e| matches!(e, Error::InvalidQuery(m) if m.contains("`body`")),
        ));
    } else {
        outcomes.push(ensure(false, || "the first page is empty".to_string()));
    }
    all(outcomes)
}
