//! Filters (every operator and combinator, typed and by name), ordering, limit/offset, count
//! and pages, each checked against exact expected ids.

use sonic_db_core::query::{and, not, or, Direction};
use sonic_db_core::{Db, Filter, Order};

use crate::check::{all, same, Outcome, Step};
use crate::ctx::Ctx;
use crate::tables::ConfUser;

/// The users the filter scenarios query:
///
/// | id | email | name | age | score | active |
/// |---|---|---|---|---|---|
/// | u1 | a@x.test | Ada | 36 | 0.5 | true |
/// | u2 | b@x.test | NULL | 17 | -1.0 | false |
/// | u3 | c@y.test | Bob | 50 | 2.5 | true |
/// | u4 | d@y.test | "" | 17 | 0.0 | true |
/// | u5 | e@x.test | Ælfrida | 99 | 10.0 | false |
/// | u6 | f@z.test | NULL | 0 | -0.5 | true |
async fn seed_filter_users(db: &Db) -> Outcome {
    let rows = [
        ("u1", "a@x.test", Some("Ada"), 36, 0.5, true),
        ("u2", "b@x.test", None, 17, -1.0, false),
        ("u3", "c@y.test", Some("Bob"), 50, 2.5, true),
        ("u4", "d@y.test", Some(""), 17, 0.0, true),
        ("u5", "e@x.test", Some("Ælfrida"), 99, 10.0, false),
        ("u6", "f@z.test", None, 0, -0.5, true),
    ];
    let users: Vec<ConfUser> = rows
        .iter()
        .map(|&(id, email, name, age, score, active)| {
            let mut user = ConfUser::new(id, email, name, age);
            user.score = score;
            user.active = active;
            user
        })
        .collect();
    let inserted = db.insert_many(&users).await.step("seeding users")?;
    same("seeded users", &users.len(), &inserted.len())
}

/// The ids of the users matching `filter`, by id.
async fn ids(db: &Db, filter: Filter<ConfUser>) -> Result<Vec<String>, String> {
    let users = db
        .select::<ConfUser>()
        .filter(filter)
        .order_by(ConfUser::ID.asc())
        .all()
        .await
        .step("select")?;
    Ok(users.into_iter().map(|u| u.id).collect())
}

/// Checks that `filter` matches exactly `expected` (and that `count` agrees).
async fn matches(db: &Db, what: &str, filter: Filter<ConfUser>, expected: &[&str]) -> Outcome {
    let got = ids(db, filter.clone())
        .await
        .map_err(|e| format!("{what}: {e}"))?;
    same(
        &format!("{what}: ids"),
        &expected.to_vec(),
        &got.iter().map(String::as_str).collect(),
    )?;
    let count = db
        .select::<ConfUser>()
        .filter(filter)
        .count()
        .await
        .step(format!("{what}: count"))?;
    same(&format!("{what}: count"), &(expected.len() as u64), &count)
}

/// Every operator of the typed API and every combinator.
pub(crate) async fn filter_operators(ctx: &Ctx) -> Outcome {
    let db = &ctx.db;
    seed_filter_users(db).await?;
    use ConfUser as U;
    let everyone = ["u1", "u2", "u3", "u4", "u5", "u6"];
    // 150 ids that match nothing, and u3: more values than D1 binds in one statement.
    let long_list: Vec<String> = (0..150)
        .map(|i| format!("ghost-{i}"))
        .chain(["u3".to_string()])
        .collect();
    let checks: Vec<(&str, Filter<ConfUser>, Vec<&str>)> = vec![
        ("age = 17", U::AGE.eq(17), vec!["u2", "u4"]),
        ("age <> 17", U::AGE.ne(17), vec!["u1", "u3", "u5", "u6"]),
        ("age < 36", U::AGE.lt(36), vec!["u2", "u4", "u6"]),
        ("age <= 36", U::AGE.lte(36), vec!["u1", "u2", "u4", "u6"]),
        ("age > 36", U::AGE.gt(36), vec!["u3", "u5"]),
        ("age >= 50", U::AGE.gte(50), vec!["u3", "u5"]),
        (
            "age between 17 and 36",
            U::AGE.between(17, 36),
            vec!["u1", "u2", "u4"],
        ),
        ("score < 0.0", U::SCORE.lt(0.0), vec!["u2", "u6"]),
        ("score >= 0.5", U::SCORE.gte(0.5), vec!["u1", "u3", "u5"]),
        (
            "score between -0.5 and 0.5",
            U::SCORE.between(-0.5, 0.5),
            vec!["u1", "u4", "u6"],
        ),
        ("active = false", U::ACTIVE.eq(false), vec!["u2", "u5"]),
        ("active <> true", U::ACTIVE.ne(true), vec!["u2", "u5"]),
        (
            "email like %@x.test",
            U::EMAIL.like("%@x.test"),
            vec!["u1", "u2", "u5"],
        ),
        (
            "email like A@X% (ASCII case-insensitive)",
            U::EMAIL.like("A@X%"),
            vec!["u1"],
        ),
        ("name like _ob", U::NAME.like("_ob"), vec!["u3"]),
        ("name like Æ%", U::NAME.like("Æ%"), vec!["u5"]),
        (
            "name like æ% (non-ASCII is case-sensitive)",
            U::NAME.like("æ%"),
            vec![],
        ),
        (
            "email not like %@x.test",
            U::EMAIL.not_like("%@x.test"),
            vec!["u3", "u4", "u6"],
        ),
        (
            "name not like A% (NULL names match neither)",
            U::NAME.not_like("A%"),
            vec!["u3", "u4", "u5"],
        ),
        (
            "id in (u5, u1, nope)",
            U::ID.in_list(["u5", "u1", "nope"]),
            vec!["u1", "u5"],
        ),
        (
            "id not in (u1, u2)",
            U::ID.not_in_list(["u1", "u2"]),
            vec!["u3", "u4", "u5", "u6"],
        ),
        ("age in ()", U::AGE.in_list(Vec::<i64>::new()), vec![]),
        (
            "age not in ()",
            U::AGE.not_in_list(Vec::<i64>::new()),
            everyone.to_vec(),
        ),
        (
            "id in (151 values)",
            U::ID.in_list(long_list.clone()),
            vec!["u3"],
        ),
        (
            "id not in (151 values)",
            U::ID.not_in_list(long_list),
            vec!["u1", "u2", "u4", "u5", "u6"],
        ),
        ("name is null", U::NAME.is_null(), vec!["u2", "u6"]),
        (
            "name is not null",
            U::NAME.is_not_null(),
            vec!["u1", "u3", "u4", "u5"],
        ),
        ("name = '' (empty is not NULL)", U::NAME.eq(""), vec!["u4"]),
        (
            "active and age < 40",
            and([U::ACTIVE.eq(true), U::AGE.lt(40)]),
            vec!["u1", "u4", "u6"],
        ),
        (
            "age = 99 or name is null",
            or([U::AGE.eq(99), U::NAME.is_null()]),
            vec!["u2", "u5", "u6"],
        ),
        ("not active", not(U::ACTIVE.eq(true)), vec!["u2", "u5"]),
        (
            "not (name = Ada) (NULL names match neither)",
            not(U::NAME.eq("Ada")),
            vec!["u3", "u4", "u5"],
        ),
        (
            "(email like %@y.test or age > 90) and not name = ''",
            and([
                or([U::EMAIL.like("%@y.test"), U::AGE.gt(90)]),
                not(U::NAME.eq("")),
            ]),
            vec!["u3", "u5"],
        ),
        (
            "(age = 17 | age = 0) & !(active = false)",
            (U::AGE.eq(17) | U::AGE.eq(0)) & !U::ACTIVE.eq(false),
            vec!["u4", "u6"],
        ),
        (
            "and() of nothing",
            and(Vec::<Filter<ConfUser>>::new()),
            everyone.to_vec(),
        ),
        (
            "or() of nothing",
            or(Vec::<Filter<ConfUser>>::new()),
            vec![],
        ),
    ];
    let mut outcomes = Vec::with_capacity(checks.len() + 1);
    for (what, filter, expected) in checks {
        outcomes.push(matches(db, what, filter, &expected).await);
    }
    // Two `filter` calls must both match.
    let chained = db
        .select::<ConfUser>()
        .filter(U::AGE.gte(17))
        .filter(U::ACTIVE.eq(true))
        .order_by(U::ID.asc())
        .all()
        .await
        .step("two filter calls");
    outcomes.push(chained.and_then(|users| {
        let got: Vec<String> = users.into_iter().map(|u| u.id).collect();
        same(
            "two filter calls (age >= 17, active)",
            &vec!["u1", "u3", "u4"],
            &got.iter().map(String::as_str).collect(),
        )
    }));
    all(outcomes)
}

/// The by-name form REST input uses: `Filter::parse(column, "$op", text)`.
pub(crate) async fn filter_by_name(ctx: &Ctx) -> Outcome {
    let db = &ctx.db;
    seed_filter_users(db).await?;
    let checks: [(&str, &str, &str, &[&str]); 16] = [
        ("age", "$eq", "17", &["u2", "u4"]),
        ("age", "$ne", "17", &["u1", "u3", "u5", "u6"]),
        ("age", "$lt", "17", &["u6"]),
        ("age", "$lte", "17", &["u2", "u4", "u6"]),
        ("age", "$gt", "50", &["u5"]),
        ("age", "$gte", "50", &["u3", "u5"]),
        ("score", "$eq", "-0.5", &["u6"]),
        ("score", "$between", "0,1", &["u1", "u4"]),
        ("active", "$eq", "false", &["u2", "u5"]),
        ("name", "$like", "b%", &["u3"]),
        ("email", "$nlike", "%x.test", &["u3", "u4", "u6"]),
        ("id", "$in", "u1,u2", &["u1", "u2"]),
        ("id", "$nin", "u1,u2,u3", &["u4", "u5", "u6"]),
        ("name", "$null", "", &["u2", "u6"]),
        ("name", "$notnull", "", &["u1", "u3", "u4", "u5"]),
        ("email", "$eq", "c@y.test", &["u3"]),
    ];
    let mut outcomes = Vec::with_capacity(checks.len() + 1);
    for (column, op, text, expected) in checks {
        let what = format!("{column} {op} {text:?}");
        let outcome = match Filter::<ConfUser>::parse(column, op, text) {
            Ok(filter) => matches(db, &what, filter, expected).await,
            Err(e) => Err(format!("{what}: Filter::parse failed: {e}")),
        };
        outcomes.push(outcome);
    }
    outcomes.push(match Filter::<ConfUser>::parse("nope", "$eq", "1") {
        Err(sonic_db_core::Error::UnknownColumn { .. }) => Ok(()),
        other => Err(format!(
            "Filter::parse on an unknown column: expected Error::UnknownColumn, got {other:?}"
        )),
    });
    all(outcomes)
}

/// The users the ordering scenarios sort: ties on age and name, `NULL` and non-ASCII names.
///
/// | id | name | age | score |
/// |---|---|---|---|
/// | o1 | b | 30 | 1 |
/// | o2 | a | 30 | 2 |
/// | o3 | NULL | 30 | 3 |
/// | o4 | a | 20 | 4 |
/// | o5 | c | 40 | 5 |
/// | o6 | B | 20 | 6 |
/// | o7 | a | 30 | 7 |
/// | o8 | é | 40 | 8 |
async fn seed_order_users(ctx: &Ctx) -> Result<Vec<ConfUser>, String> {
    let rows = [
        ("o1", Some("b"), 30),
        ("o2", Some("a"), 30),
        ("o3", None, 30),
        ("o4", Some("a"), 20),
        ("o5", Some("c"), 40),
        ("o6", Some("B"), 20),
        ("o7", Some("a"), 30),
        ("o8", Some("é"), 40),
    ];
    let mut users = Vec::with_capacity(rows.len());
    for (i, (id, name, age)) in rows.into_iter().enumerate() {
        let mut user = ConfUser::new(id, &format!("{id}@order.test"), name, age);
        user.score = (i + 1) as f64;
        users.push(user);
    }
    // Inserted in reverse, so that insertion order and every ordering differ.
    let mut reversed = users.clone();
    reversed.reverse();
    let inserted = ctx.db.insert_many(&reversed).await.step("seeding users")?;
    same("seeded users", &users.len(), &inserted.len())?;
    let now = ctx.now();
    Ok(users
        .into_iter()
        .map(|u| crate::scenarios::crud::audited(u, now, now))
        .collect())
}

fn id_list(users: &[ConfUser]) -> Vec<&str> {
    users.iter().map(|u| u.id.as_str()).collect()
}

/// `ORDER BY` several columns (`NULL`s first ascending, text by bytes), limit, offset.
pub(crate) async fn order_limit_offset(ctx: &Ctx) -> Outcome {
    let db = &ctx.db;
    seed_order_users(ctx).await?;
    use ConfUser as U;
    let sorted = || {
        db.select::<ConfUser>()
            .order_by(U::AGE.desc())
            .order_by(U::NAME.asc())
            .order_by(U::ID.desc())
    };
    let full = ["o5", "o8", "o3", "o7", "o2", "o1", "o6", "o4"];
    let mut outcomes = Vec::new();
    let cases: Vec<(&str, sonic_db_core::query::Select<'_, ConfUser>, Vec<&str>)> = vec![
        ("age desc, name asc, id desc", sorted(), full.to_vec()),
        ("… limit 3", sorted().limit(3), vec!["o5", "o8", "o3"]),
        (
            "… limit 3 offset 2",
            sorted().limit(3).offset(2),
            vec!["o3", "o7", "o2"],
        ),
        (
            "… offset 6 (no limit)",
            sorted().offset(6),
            vec!["o6", "o4"],
        ),
        ("… limit 0", sorted().limit(0), vec![]),
        ("… offset 100", sorted().offset(100), vec![]),
        (
            "score desc",
            db.select::<ConfUser>().order_by(U::SCORE.desc()),
            vec!["o8", "o7", "o6", "o5", "o4", "o3", "o2", "o1"],
        ),
        (
            "name desc, id asc (NULL last)",
            db.select::<ConfUser>()
                .order_by(U::NAME.desc())
                .order_by(U::ID.asc()),
            vec!["o8", "o5", "o1", "o2", "o4", "o7", "o6", "o3"],
        ),
        (
            "age < 40, name asc, id asc, limit 4 offset 1",
            db.select::<ConfUser>()
                .filter(U::AGE.lt(40))
                .order_by(U::NAME.asc())
                .order_by(U::ID.asc())
                .limit(4)
                .offset(1),
            vec!["o6", "o2", "o4", "o7"],
        ),
    ];
    for (what, select, expected) in cases {
        outcomes.push(match select.all().await {
            Ok(users) => same(what, &expected, &id_list(&users)),
            Err(e) => Err(format!("{what}: unexpected error: {e}")),
        });
    }
    // The REST forms: `sort=age:desc` and a column by name.
    let by_name = match (
        Order::<ConfUser>::parse("age:desc"),
        Order::<ConfUser>::by_name("id", Direction::Asc),
    ) {
        (Ok(age), Ok(id)) => db
            .select::<ConfUser>()
            .order_by(age)
            .order_by(id)
            .all()
            .await
            .step("order by parsed names")
            .and_then(|users| {
                same(
                    "Order::parse(\"age:desc\"), Order::by_name(\"id\")",
                    &vec!["o5", "o8", "o1", "o2", "o3", "o7", "o4", "o6"],
                    &id_list(&users),
                )
            }),
        (age, id) => Err(format!("Order::parse / by_name failed: {age:?} {id:?}")),
    };
    outcomes.push(by_name);
    all(outcomes)
}

/// `count` (limit and offset do not apply) and `page` (items and the total of all pages).
pub(crate) async fn count_and_page(ctx: &Ctx) -> Outcome {
    let db = &ctx.db;
    let users = seed_order_users(ctx).await?;
    use ConfUser as U;
    let mut outcomes = Vec::new();
    let counts: Vec<(&str, sonic_db_core::query::Select<'_, ConfUser>, u64)> = vec![
        ("count of all", db.select::<ConfUser>(), 8),
        (
            "count of age = 30",
            db.select::<ConfUser>().filter(U::AGE.eq(30)),
            4,
        ),
        (
            "count ignores limit and offset",
            db.select::<ConfUser>()
                .filter(U::AGE.eq(30))
                .limit(1)
                .offset(2),
            4,
        ),
        (
            "count of nothing",
            db.select::<ConfUser>().filter(U::AGE.gt(1000)),
            0,
        ),
    ];
    for (what, select, expected) in counts {
        outcomes.push(match select.count().await {
            Ok(n) => same(what, &expected, &n),
            Err(e) => Err(format!("{what}: unexpected error: {e}")),
        });
    }
    let by_id = |ids: &[&str]| -> Vec<ConfUser> {
        ids.iter()
            .filter_map(|id| users.iter().find(|u| u.id == *id).cloned())
            .collect()
    };
    let pages: Vec<(
        &str,
        sonic_db_core::query::Select<'_, ConfUser>,
        Vec<ConfUser>,
        u64,
    )> = vec![
        (
            "page of age = 30 by id, limit 2 offset 1",
            db.select::<ConfUser>()
                .filter(U::AGE.eq(30))
                .order_by(U::ID.asc())
                .limit(2)
                .offset(1),
            by_id(&["o2", "o3"]),
            4,
        ),
        (
            "page past the end",
            db.select::<ConfUser>()
                .filter(U::AGE.eq(30))
                .order_by(U::ID.asc())
                .limit(2)
                .offset(10),
            Vec::new(),
            4,
        ),
        (
            "first page of all by score desc, limit 3",
            db.select::<ConfUser>().order_by(U::SCORE.desc()).limit(3),
            by_id(&["o8", "o7", "o6"]),
            8,
        ),
        (
            "page without limit",
            db.select::<ConfUser>().order_by(U::ID.asc()).offset(6),
            by_id(&["o7", "o8"]),
            8,
        ),
    ];
    for (what, select, items, total) in pages {
        outcomes.push(match select.page().await {
            Ok(page) => all([
                same(&format!("{what}: items"), &items, &page.items),
                same(&format!("{what}: total"), &total, &page.total),
            ]),
            Err(e) => Err(format!("{what}: unexpected error: {e}")),
        });
    }
    all(outcomes)
}
