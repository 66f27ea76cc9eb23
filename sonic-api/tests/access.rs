//! Access rules and hooks against every operation, three principals (anonymous, user, admin):
//! each sees and changes exactly what its rules allow, and a refusal writes nothing.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    reason = "tests"
)]

mod common;

use std::cell::RefCell;
use std::rc::Rc;

use common::*;
use serde_json::{json, Value as Json};
use sonic_db_api::{Access, Api, ApiError, Operation, TableApi, WritePolicy};

fn user(id: &str) -> Who {
    Who::User(id.into())
}

#[test]
fn a_table_without_rules_answers_403_to_everything() {
    let api = Api::new("/v1").table(TableApi::<Post, Who>::new("posts"));
    let db = seeded();
    let before = state(&db);
    let answers = [
        get(&api, &db, Who::Admin, "/v1/posts"),
        get(&api, &db, Who::Admin, "/v1/posts/p1"),
        write(
            &api,
            &db,
            Who::Admin,
            "POST",
            "/v1/posts",
            json!({"title": "t", "user_id": "u1"}),
        ),
        write(
            &api,
            &db,
            Who::Admin,
            "PATCH",
            "/v1/posts/p1",
            json!({"title": "t"}),
        ),
        delete(&api, &db, Who::Admin, "/v1/posts/p1"),
    ];
    for answer in answers {
        assert_eq!(answer.status, 403, "{}", answer.text());
        assert!(answer.json["error"]
            .as_str()
            .unwrap()
            .contains("not allowed"));
    }
    assert_eq!(state(&db), before);
}

#[test]
fn read_filter_rules_scope_lists_and_records() {
    let (api, db) = (api(), seeded());
    let anonymous = get(&api, &db, Who::Anonymous, "/v1/posts");
    assert_eq!(ids(&anonymous.json), ["p1", "p3"]);
    assert_eq!(anonymous.json["total"], 2);
    // A filter the client adds cannot widen the rule's.
    let widened = get(
        &api,
        &db,
        Who::Anonymous,
        "/v1/posts?filters[published][$eq]=false",
    );
    assert_eq!(widened.json["total"], 0);
    assert_eq!(get(&api, &db, Who::Anonymous, "/v1/posts/p2").status, 404);
    assert_eq!(get(&api, &db, user("u2"), "/v1/posts/p2").status, 200);
    assert_eq!(
        ids(&get(&api, &db, Who::Admin, "/v1/posts").json),
        ["p1", "p2", "p3"]
    );
}

#[test]
fn write_filter_rules_scope_updates_and_deletes() {
    let (api, db) = (api(), seeded());
    let before = state(&db);
    // Bob (u2) may not touch Ada's posts: out of his scope, as if absent.
    let update = write(
        &api,
        &db,
        user("u2"),
        "PATCH",
        "/v1/posts/p1",
        json!({"title": "mine"}),
    );
    assert_eq!(update.status, 404, "{}", update.text());
    assert_eq!(delete(&api, &db, user("u2"), "/v1/posts/p1").status, 404);
    assert_eq!(
        write(
            &api,
            &db,
            Who::Anonymous,
            "PATCH",
            "/v1/posts/p1",
            json!({"title": "x"})
        )
        .status,
        403
    );
    assert_eq!(
        delete(&api, &db, Who::Anonymous, "/v1/posts/p1").status,
        403
    );
    assert_eq!(
        write(
            &api,
            &db,
            Who::Anonymous,
            "POST",
            "/v1/posts",
            json!({"title": "x"})
        )
        .status,
        403
    );
    assert_eq!(state(&db), before);
    // Ada may.
    let own = write(
        &api,
        &db,
        user("u1"),
        "PATCH",
        "/v1/posts/p1",
        json!({"title": "mine"}),
    );
    assert_eq!(own.status, 200, "{}", own.text());
}

#[test]
fn item_rules_see_the_stored_record() {
    let (api, db) = (api(), seeded());
    let before = state(&db);
    // p3 is Bob's but locked: the item rule refuses Bob, whatever the body.
    let update = write(
        &api,
        &db,
        user("u2"),
        "PATCH",
        "/v1/posts/p3",
        json!({"title": "x"}),
    );
    assert_eq!(update.status, 403, "{}", update.text());
    assert_eq!(delete(&api, &db, user("u2"), "/v1/posts/p3").status, 403);
    assert_eq!(state(&db), before);
    // Admins pass the item rule.
    let admin = write(
        &api,
        &db,
        Who::Admin,
        "PATCH",
        "/v1/posts/p3",
        json!({"locked": false}),
    );
    assert_eq!(admin.status, 200, "{}", admin.text());
    assert_eq!(
        write(
            &api,
            &db,
            user("u2"),
            "PATCH",
            "/v1/posts/p3",
            json!({"title": "x"})
        )
        .status,
        200
    );
}

#[test]
fn item_rules_on_read_and_create() {
    let api = Api::new("/v1").table(
        TableApi::<Post, Who>::new("posts")
            .read(Access::allow())
            .create(Access::allow())
            .item(Operation::Read, |_ctx, post| async move { post.published })
            .item(Operation::Create, |_ctx, post| async move {
                post.title != "bad"
            }),
    );
    let db = seeded();
    assert_eq!(get(&api, &db, Who::Anonymous, "/v1/posts/p1").status, 200);
    assert_eq!(get(&api, &db, Who::Anonymous, "/v1/posts/p2").status, 403);
    let before = state(&db);
    let bulk = json!([{"title": "good", "user_id": "u1"}, {"title": "bad", "user_id": "u1"}]);
    let answer = write(&api, &db, Who::Admin, "POST", "/v1/posts", bulk);
    assert_eq!(answer.status, 403, "{}", answer.text());
    assert!(answer.json["error"]
        .as_str()
        .unwrap()
        .starts_with("record 1"));
    assert_eq!(state(&db), before);
}

#[test]
fn hidden_fields_are_absent_everywhere_and_no_oracle() {
    let (api, db) = (api(), seeded());
    let everywhere = |who: Who| {
        let mut texts = vec![
            get(&api, &db, who.clone(), "/v1/users").text(),
            get(&api, &db, who.clone(), "/v1/users/u1").text(),
            get(&api, &db, who.clone(), "/v1/posts?with=author").text(),
            get(&api, &db, who.clone(), "/v1/posts/p1?with=author").text(),
        ];
        if who == Who::Admin {
            texts.push(get(&api, &db, who.clone(), "/v1/users?with=posts.comments").text());
        }
        texts
    };
    for text in everywhere(Who::Anonymous) {
        assert!(!text.contains("hash-of"), "{text}");
        assert!(!text.contains("password"), "{text}");
        assert!(!text.contains("example.com"), "{text}");
        assert!(text.contains("Ada") || text.contains("Bob"), "{text}");
    }
    for text in everywhere(Who::Admin) {
        assert!(!text.contains("hash-of"), "{text}");
        assert!(text.contains("example.com"), "{text}");
    }
    for query in [
        "filters[password][$like]=hash%25",
        "sort=password",
        "filters[password][$null]=",
    ] {
        let answer = get(&api, &db, Who::Admin, &format!("/v1/users?{query}"));
        assert_eq!(answer.status, 400, "{query}: {}", answer.text());
        // Answered exactly as a field that does not exist: no oracle on its existence.
        let typo = get(
            &api,
            &db,
            Who::Admin,
            &format!("/v1/users?{}", query.replace("password", "passwort")),
        );
        assert_eq!(
            answer.json["error"]
                .as_str()
                .unwrap()
                .replace("password", "passwort"),
            typo.json["error"]
        );
    }
    assert_eq!(
        get(
            &api,
            &db,
            Who::Anonymous,
            "/v1/users?filters[email][$like]=ada%25"
        )
        .status,
        400
    );
    assert_eq!(
        get(&api, &db, Who::Anonymous, "/v1/users?sort=email").status,
        400
    );
    assert_eq!(
        get(
            &api,
            &db,
            user("u2"),
            "/v1/users?filters[email][$like]=ada%25"
        )
        .json["total"],
        1
    );
}

#[test]
fn secret_fields_are_written_but_never_returned() {
    let (api, db) = (api(), seeded());
    let created = write(
        &api,
        &db,
        Who::Admin,
        "POST",
        "/v1/users",
        json!({"email": "cy@example.com", "password": "hash-of-cy", "role": "admin"}),
    );
    assert_eq!(created.status, 201, "{}", created.text());
    assert!(!created.text().contains("hash-of-cy"));
    assert_eq!(created.json["data"]["role"], "admin");
    let id = created.json["data"]["id"].as_str().unwrap().to_string();
    let stored = pollster::block_on(db.find::<User>(id)).unwrap().unwrap();
    assert_eq!(stored.password, "hash-of-cy");
}

#[test]
fn secret_by_schema_and_by_api_are_both_hidden() {
    let db = seeded();
    // `password` is `#[column(secret)]` in the schema; `name` is secret in this API only.
    let extra = Api::new("/v1").table(users().secret(User::NAME));
    let one = get(&extra, &db, Who::Admin, "/v1/users/u1");
    assert_eq!(one.status, 200, "{}", one.text());
    let fields: Vec<&str> = one.json["data"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert!(
        !fields.contains(&"password") && !fields.contains(&"name"),
        "{fields:?}"
    );
    assert!(fields.contains(&"email"), "{fields:?}");
    for query in [
        "filters[password][$like]=h%25",
        "sort=password",
        "filters[name][$eq]=Ada",
        "sort=name:desc",
    ] {
        let answer = get(&extra, &db, Who::Admin, &format!("/v1/users?{query}"));
        assert_eq!(answer.status, 400, "{query}: {}", answer.text());
    }
    // Without the API's extra, `name` is an ordinary field again; `password` stays secret.
    let plain = get(&api(), &db, Who::Admin, "/v1/users/u1");
    assert_eq!(plain.json["data"]["name"], "Ada");
    assert!(plain.json["data"].get("password").is_none());
}

#[test]
fn relations_follow_the_related_tables_rules() {
    let (api, db) = (api(), seeded());
    // Anonymous readers see posts only through a filter, which a loaded relation cannot
    // carry: refused rather than leaking drafts.
    let answer = get(&api, &db, Who::Anonymous, "/v1/users/u1?with=posts");
    assert_eq!(answer.status, 403, "{}", answer.text());
    let answer = get(&api, &db, user("u2"), "/v1/users/u1?with=posts");
    assert_eq!(answer.status, 200, "{}", answer.text());
    // A relation to a table the API does not serve is refused.
    let only_posts = Api::new("/v1").table(posts());
    let answer = get(&only_posts, &db, Who::Admin, "/v1/posts?with=author");
    assert_eq!(answer.status, 403, "{}", answer.text());
}

#[test]
fn unwritable_fields_are_dropped_or_refused() {
    let (api, db) = (api(), seeded());
    let answer = write(
        &api,
        &db,
        user("u1"),
        "PATCH",
        "/v1/users/u1",
        json!({"name": "Ada L.", "role": "admin"}),
    );
    assert_eq!(answer.status, 200, "{}", answer.text());
    assert_eq!(
        (
            answer.json["data"]["name"].as_str(),
            answer.json["data"]["role"].as_str()
        ),
        (Some("Ada L."), Some("user"))
    );
    // Users update only themselves.
    assert_eq!(
        write(
            &api,
            &db,
            user("u1"),
            "PATCH",
            "/v1/users/u2",
            json!({"name": "x"})
        )
        .status,
        404
    );
    // A body of nothing but unwritable fields changes nothing.
    assert_eq!(
        write(
            &api,
            &db,
            user("u1"),
            "PATCH",
            "/v1/users/u1",
            json!({"role": "admin"})
        )
        .status,
        400
    );
    // Posts' `locked`, created by a user, is dropped.
    let created = write(
        &api,
        &db,
        user("u2"),
        "POST",
        "/v1/posts",
        json!({"title": "t", "locked": true}),
    );
    assert_eq!(created.json["data"]["locked"], false);

    let strict = Api::new("/v1").table(users().on_unwritable(WritePolicy::Refuse));
    let before = state(&db);
    let answer = write(
        &strict,
        &db,
        user("u1"),
        "PATCH",
        "/v1/users/u1",
        json!({"name": "x", "role": "admin"}),
    );
    assert_eq!(answer.status, 403, "{}", answer.text());
    assert!(answer.json["error"].as_str().unwrap().contains("role"));
    assert_eq!(state(&db), before);
    // Ids are server-managed unless the table takes client ids.
    let answer = write(
        &strict,
        &db,
        Who::Admin,
        "POST",
        "/v1/users",
        json!({"id": "mine", "email": "z@z"}),
    );
    assert_eq!(answer.status, 403, "{}", answer.text());
}

#[test]
fn hooks_resolve_input_before_and_after() {
    let seen: Rc<RefCell<Vec<(Operation, Json)>>> = Rc::default();
    let log = Rc::clone(&seen);
    let api = Api::new("/v1").table(
        posts()
            .resolve_input(|ctx, mut input| async move {
                if input.get("title") == Some(&json!("")) {
                    return Err(ApiError::new(422, "the title is empty"));
                }
                if ctx.operation == Operation::Create {
                    input.insert(
                        "user_id".into(),
                        json!(ctx.principal.id().unwrap_or_default()),
                    );
                }
                input.insert("body".into(), json!("resolved"));
                Ok(input)
            })
            .before_operation(|ctx| async move {
                match (ctx.operation, ctx.id.as_deref()) {
                    (Operation::Delete, Some("p2")) => Err(ApiError::new(409, "p2 is archived")),
                    (Operation::Read, Some("p9")) => Err(ApiError::forbidden("not today")),
                    _ => Ok(()),
                }
            })
            .after_operation(move |ctx, data| {
                let log = Rc::clone(&log);
                async move {
                    log.borrow_mut().push((ctx.operation, data));
                    Ok(())
                }
            }),
    );
    let db = seeded();
    let before = state(&db);
    assert_eq!(
        write(
            &api,
            &db,
            user("u1"),
            "POST",
            "/v1/posts",
            json!({"title": ""})
        )
        .status,
        422
    );
    assert_eq!(
        write(
            &api,
            &db,
            user("u1"),
            "PATCH",
            "/v1/posts/p1",
            json!({"title": ""})
        )
        .status,
        422
    );
    assert_eq!(delete(&api, &db, user("u1"), "/v1/posts/p2").status, 409);
    assert_eq!(get(&api, &db, user("u1"), "/v1/posts/p9").status, 403);
    assert_eq!(state(&db), before);
    assert!(seen.borrow().is_empty(), "no operation ran");

    let created = write(
        &api,
        &db,
        user("u1"),
        "POST",
        "/v1/posts",
        json!({"title": "t"}),
    );
    assert_eq!(created.json["data"]["body"], "resolved");
    assert_eq!(created.json["data"]["user_id"], "u1");
    let updated = write(
        &api,
        &db,
        user("u1"),
        "PATCH",
        "/v1/posts/p1",
        json!({"title": "u"}),
    );
    assert_eq!(updated.json["data"]["body"], "resolved");
    get(&api, &db, user("u1"), "/v1/posts?limit=1");
    delete(&api, &db, user("u1"), "/v1/posts/p1");
    let seen = seen.borrow();
    let ops: Vec<Operation> = seen.iter().map(|(op, _)| *op).collect();
    assert_eq!(
        ops,
        [
            Operation::Create,
            Operation::Update,
            Operation::Read,
            Operation::Delete
        ]
    );
    assert_eq!(seen[0].1["title"], "t");
    assert_eq!(seen[2].1.as_array().unwrap().len(), 1);
    assert_eq!(seen[3].1, Json::Null);
}
