//! `#[derive(Table)]` on the seed schema (examples/blog/src/schema.rs, included as is): the
//! generated metadata, row encoding and decoding, `touch`, the serde shape, and the DDL run on
//! SQLite, compared with SQLite's own view of the tables.

// Test setup outside `#[test]` functions fails the test by panicking, as tests do.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

#[path = "../../examples/blog/src/schema.rs"]
mod schema;

use rusqlite::Connection;
use schema::{Comment, Post, Role, User};
use sonic_db_core::{
    Audit, AuditRole, ColumnDef, Error, One, RelationKind, Schema, SqlType, Table, TableDef, Value,
};

const AUDIT_DEFAULT: &str = "(CAST(unixepoch('subsec') * 1000 AS INTEGER))";

/// One column's metadata in comparable form:
/// (name, field, type, nullable, pk, unique, indexed, default, references, audit).
type ColumnShape = (
    &'static str,
    &'static str,
    SqlType,
    bool,
    bool,
    bool,
    bool,
    Option<&'static str>,
    Option<(&'static str, &'static str, Option<&'static str>)>,
    Option<AuditRole>,
);

fn shape(c: &ColumnDef) -> ColumnShape {
    (
        c.name,
        c.field,
        c.sql_type,
        c.nullable,
        c.primary_key,
        c.unique,
        c.indexed,
        c.default,
        c.references.map(|fk| {
            let (t, col) = (fk.target)();
            (t.name, col.name, fk.on_delete)
        }),
        c.audit,
    )
}

fn shapes(def: &TableDef) -> Vec<ColumnShape> {
    def.columns.iter().map(shape).collect()
}

fn plain(name: &'static str, ty: SqlType, nullable: bool) -> ColumnShape {
    (
        name, name, ty, nullable, false, false, false, None, None, None,
    )
}

fn audit_columns() -> [ColumnShape; 2] {
    let audit = |name, role| {
        (
            name,
            name,
            SqlType::Integer,
            false,
            false,
            false,
            false,
            Some(AUDIT_DEFAULT),
            None,
            Some(role),
        )
    };
    [
        audit("created_on", AuditRole::Created),
        audit("updated_on", AuditRole::Updated),
    ]
}

fn id() -> ColumnShape {
    (
        "id",
        "id",
        SqlType::Text,
        false,
        true,
        false,
        false,
        None,
        None,
        None,
    )
}

/// (name, kind, target, local column, remote column).
fn relations(def: &TableDef) -> Vec<(&str, RelationKind, &str, &str, &str)> {
    def.relations
        .iter()
        .map(|r| {
            let target = (r.target)();
            (
                r.name,
                r.kind,
                target.name,
                def.columns[r.local].name,
                target.columns[(r.remote)()].name,
            )
        })
        .collect()
}

#[test]
fn users_metadata() {
    let def = User::DEF;
    assert_eq!(
        (def.name, def.rust_name, def.primary_key),
        ("users", "User", &[0][..])
    );
    let mut expected = vec![
        id(),
        plain("name", SqlType::Text, true),
        {
            let mut c = plain("email", SqlType::Text, false);
            c.5 = true;
            c
        },
        plain("password", SqlType::Text, false),
        {
            let mut c = plain("role", SqlType::Text, false);
            c.7 = Some("'user'");
            c
        },
    ];
    expected.extend(audit_columns());
    assert_eq!(shapes(def), expected);
    assert_eq!(
        relations(def),
        [("posts", RelationKind::Many, "posts", "id", "user_id")]
    );
    assert_eq!(def.audit_column(AuditRole::Created), Some(5));
    assert_eq!(def.audit_column(AuditRole::Updated), Some(6));
}

#[test]
fn posts_and_comments_metadata() {
    let mut expected = vec![
        id(),
        plain("title", SqlType::Text, false),
        plain("body", SqlType::Text, true),
        {
            let mut c = plain("user_id", SqlType::Text, false);
            c.8 = Some(("users", "id", Some("CASCADE")));
            c
        },
    ];
    expected.extend(audit_columns());
    assert_eq!(shapes(Post::DEF), expected);
    assert_eq!(Post::DEF.name, "posts");
    assert_eq!(
        relations(Post::DEF),
        [
            ("author", RelationKind::One, "users", "user_id", "id"),
            ("comments", RelationKind::Many, "comments", "id", "post_id"),
        ]
    );

    let mut expected = vec![
        id(),
        {
            let mut c = plain("post_id", SqlType::Text, false);
            c.8 = Some(("posts", "id", Some("CASCADE")));
            c
        },
        plain("body", SqlType::Text, false),
    ];
    expected.extend(audit_columns());
    assert_eq!(shapes(Comment::DEF), expected);
    assert_eq!(
        relations(Comment::DEF),
        [("post", RelationKind::One, "posts", "post_id", "id")]
    );
}

#[test]
fn handles() {
    assert_eq!(User::ID.index(), 0);
    assert_eq!(User::EMAIL.name(), "email");
    assert_eq!(User::ROLE.def().sql_type, SqlType::Text);
    assert_eq!(User::CREATED_ON.name(), "created_on");
    assert_eq!(User::UPDATED_ON.index(), 6);
    assert_eq!(Post::USER_ID.index(), 3);
    assert_eq!(Comment::POST_ID.name(), "post_id");
    assert_eq!(User::POSTS.def().name, "posts");
    assert_eq!(Post::AUTHOR.def().kind, RelationKind::One);
    assert_eq!(Post::COMMENTS.def().name, "comments");
    assert_eq!(Comment::POST.def().local, 1);

    // The handles' operand types: a filter on `name` compares with a String, not an Option.
    let _: sonic_db_core::Column<User, String> = User::NAME;
    let _: sonic_db_core::Column<User, Role> = User::ROLE;
    let _: sonic_db_core::Column<User, i64> = User::CREATED_ON;
    let _: sonic_db_core::Relation<User, Post> = User::POSTS;
    let _: sonic_db_core::Relation<Post, User> = Post::AUTHOR;
}

fn ada() -> User {
    User {
        id: "u1".into(),
        name: Some("Ada".into()),
        email: "ada@example.com".into(),
        password: "hash".into(),
        role: Role::Admin,
        audit: Audit {
            created_on: 1_700_000_000_000,
            updated_on: 1_700_000_000_500,
        },
        posts: None,
    }
}

fn post(id: &str) -> Post {
    Post {
        id: id.into(),
        title: format!("Title {id}"),
        body: None,
        user_id: "u1".into(),
        audit: Audit {
            created_on: 10,
            updated_on: 20,
        },
        author: One::NotLoaded,
        comments: None,
    }
}

#[test]
fn encode_decode_round_trip() {
    let user = ada();
    let mut row = Vec::new();
    user.encode_into(&mut row).unwrap();
    assert_eq!(
        row,
        [
            Value::Text("u1".into()),
            Value::Text("Ada".into()),
            Value::Text("ada@example.com".into()),
            Value::Text("hash".into()),
            Value::Text("admin".into()),
            Value::Integer(1_700_000_000_000),
            Value::Integer(1_700_000_000_500),
        ]
    );
    for (i, value) in row.iter().enumerate() {
        assert_eq!(&user.column_value(i).unwrap(), value);
    }
    assert_eq!(user.primary_key_value().unwrap(), Value::Text("u1".into()));
    assert!(matches!(
        user.column_value(7),
        Err(Error::UnknownColumn { ref table, .. }) if table == "users"
    ));

    let decoded = User::decode(&mut row).unwrap();
    assert_eq!(decoded, user);
    assert!(row.iter().all(Value::is_null), "values are taken out");

    // NULL into an Option; extra trailing values are ignored.
    let p = post("p1");
    let mut row = Vec::new();
    p.encode_into(&mut row).unwrap();
    assert_eq!(row[2], Value::Null);
    row.push(Value::Integer(99));
    assert_eq!(Post::decode(&mut row).unwrap(), p);
}

#[test]
fn decoded_relations_start_unloaded() {
    let mut row = Vec::new();
    let mut user = ada();
    user.posts = Some(vec![post("p1")]);
    user.encode_into(&mut row).unwrap();
    assert_eq!(User::decode(&mut row).unwrap().posts, None);
}

#[test]
fn relation_handles_attach() {
    let mut user = ada();
    User::POSTS.attach(&mut user, vec![post("p1"), post("p2")]);
    assert_eq!(user.posts.as_ref().map(Vec::len), Some(2));
    User::POSTS.attach(&mut user, vec![]);
    assert_eq!(user.posts, Some(vec![]));

    let mut p = post("p1");
    Post::AUTHOR.attach(&mut p, vec![ada()]);
    assert_eq!(p.author.get(), Some(&ada()));
    Post::AUTHOR.attach(&mut p, vec![]);
    assert_eq!(p.author, One::NotFound); // loaded, no match: not the same as not loaded
}

fn user_row() -> Vec<Value> {
    let mut row = Vec::new();
    ada().encode_into(&mut row).unwrap();
    row
}

#[test]
fn decode_errors_name_table_and_column() {
    let mut row = user_row();
    row[4] = Value::Text("root".into());
    let e = User::decode(&mut row).unwrap_err();
    assert_eq!(
        e.to_string(),
        r#"cannot decode column `users`.`role` of the row with key TEXT "u1": expected one of "admin", "user" (Role), found TEXT "root""#
    );

    let mut row = user_row();
    row[2] = Value::Null;
    let e = User::decode(&mut row).unwrap_err();
    assert!(
        matches!(&e, Error::Decode { table, column, .. } if table == "users" && column == "email")
    );
    assert_eq!(
        e.to_string(),
        "cannot decode column `users`.`email` of the row with key TEXT \"u1\": expected TEXT, found NULL"
    );

    let mut row = user_row();
    row[5] = Value::Text("yesterday".into());
    let e = User::decode(&mut row).unwrap_err();
    assert_eq!(
        e.to_string(),
        r#"cannot decode column `users`.`created_on` of the row with key TEXT "u1": expected INTEGER, found TEXT "yesterday""#
    );

    let mut row = user_row();
    row[0] = Value::Integer(7);
    let e = User::decode(&mut row).unwrap_err();
    assert_eq!(
        e.to_string(),
        "cannot decode column `users`.`id`: expected TEXT, found INTEGER 7"
    );
}

#[test]
fn short_rows_are_errors_not_panics() {
    for len in 0..User::DEF.columns.len() {
        let mut row = user_row();
        row.truncate(len);
        let e = User::decode(&mut row).unwrap_err();
        let Error::Decode { table, column, .. } = &e else {
            panic!("{e:?}")
        };
        assert_eq!(table, "users");
        assert_eq!(column, User::DEF.columns[len].name);
        assert!(
            e.to_string().ends_with(&format!(
                "expected a row of 7 values, found a row of {len} values"
            )),
            "{e}"
        );
    }
}

#[test]
fn touch_sets_updated_always_and_created_on_insert() {
    let mut user = ada();
    user.touch(5_000, true);
    assert_eq!(
        user.audit,
        Audit {
            created_on: 5_000,
            updated_on: 5_000
        }
    );
    user.touch(9_000, false);
    assert_eq!(
        user.audit,
        Audit {
            created_on: 5_000,
            updated_on: 9_000
        }
    );
}

#[test]
fn serde_shape() {
    let mut user = ada();
    let json = serde_json::to_value(&user).unwrap();
    assert_eq!(
        json,
        serde_json::json!({
            "id": "u1",
            "name": "Ada",
            "email": "ada@example.com",
            "password": "hash",
            "role": "admin",
            "created_on": 1_700_000_000_000_i64,
            "updated_on": 1_700_000_000_500_i64,
        })
    );
    let back: User = serde_json::from_value(json).unwrap();
    assert_eq!(back, user);

    let mut p = post("p1");
    p.comments = Some(vec![]);
    user.posts = Some(vec![p]);
    let json = serde_json::to_value(&user).unwrap();
    assert_eq!(
        json["posts"],
        serde_json::json!([{
            "id": "p1",
            "title": "Title p1",
            "body": null,
            "user_id": "u1",
            "created_on": 10,
            "updated_on": 20,
            "comments": [],
        }])
    );
    // Field order: the audit columns where `#[audit]` stands, the relation last.
    let text = serde_json::to_string(&user).unwrap();
    assert!(
        text.starts_with(r#"{"id":"u1","name":"Ada","#)
            && text.contains(r#""role":"admin","created_on":1700000000000,"updated_on":1700000000500,"posts":[{"id":"p1","#),
        "{text}"
    );
    let back: User = serde_json::from_value(json).unwrap();
    assert_eq!(back, user);

    let mut p = post("p2");
    assert!(
        serde_json::to_value(&p).unwrap().get("author").is_none(),
        "not loaded: absent"
    );
    p.author = One::NotFound;
    let json = serde_json::to_value(&p).unwrap();
    assert_eq!(
        json.get("author"),
        Some(&serde_json::Value::Null),
        "no match: null"
    );
    assert_eq!(
        serde_json::from_value::<Post>(json).unwrap().author,
        One::NotFound
    );
    p.author = One::Found(Box::new(ada()));
    let json = serde_json::to_value(&p).unwrap();
    assert_eq!(json["author"]["email"], "ada@example.com");
    assert!(json.get("comments").is_none());
    p.comments = Some(vec![]);
    assert_eq!(
        serde_json::to_value(&p).unwrap()["comments"],
        serde_json::json!([])
    );
}

// ---------------------------------------------------------------- DDL on SQLite

fn seed_schema() -> Schema {
    // Added out of order on purpose: the DDL puts referenced tables first.
    Schema::new()
        .table::<Comment>()
        .table::<Post>()
        .table::<User>()
}

fn sqlite_with_seed() -> Connection {
    let conn = Connection::open_in_memory().unwrap();
    conn.execute_batch("PRAGMA foreign_keys = ON;").unwrap();
    conn.execute_batch(&seed_schema().to_sql()).unwrap();
    conn
}

#[test]
fn ddl_text() {
    let names: Vec<_> = seed_schema()
        .ordered_tables()
        .iter()
        .map(|t| t.name)
        .collect();
    assert_eq!(names, ["users", "posts", "comments"]);
    let sql = seed_schema().to_sql();
    let expected = r#"CREATE TABLE IF NOT EXISTS "users" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "name" TEXT,
    "email" TEXT NOT NULL UNIQUE,
    "password" TEXT NOT NULL,
    "role" TEXT NOT NULL DEFAULT 'user',
    "created_on" INTEGER NOT NULL DEFAULT (CAST(unixepoch('subsec') * 1000 AS INTEGER)),
    "updated_on" INTEGER NOT NULL DEFAULT (CAST(unixepoch('subsec') * 1000 AS INTEGER))
);

CREATE TABLE IF NOT EXISTS "posts" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "title" TEXT NOT NULL,
    "body" TEXT,
    "user_id" TEXT NOT NULL REFERENCES "users" ("id") ON DELETE CASCADE,
    "created_on" INTEGER NOT NULL DEFAULT (CAST(unixepoch('subsec') * 1000 AS INTEGER)),
    "updated_on" INTEGER NOT NULL DEFAULT (CAST(unixepoch('subsec') * 1000 AS INTEGER))
);

CREATE INDEX IF NOT EXISTS "posts_user_id_idx" ON "posts" ("user_id");

CREATE TABLE IF NOT EXISTS "comments" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "post_id" TEXT NOT NULL REFERENCES "posts" ("id") ON DELETE CASCADE,
    "body" TEXT NOT NULL,
    "created_on" INTEGER NOT NULL DEFAULT (CAST(unixepoch('subsec') * 1000 AS INTEGER)),
    "updated_on" INTEGER NOT NULL DEFAULT (CAST(unixepoch('subsec') * 1000 AS INTEGER))
);

CREATE INDEX IF NOT EXISTS "comments_post_id_idx" ON "comments" ("post_id");
"#;
    assert_eq!(sql, expected);
}

/// `PRAGMA table_info`: (name, type, notnull, default, pk).
fn table_info(conn: &Connection, table: &str) -> Vec<(String, String, bool, Option<String>, bool)> {
    let mut stmt = conn
        .prepare(&format!("PRAGMA table_info(\"{table}\")"))
        .unwrap();
    stmt.query_map([], |r| {
        Ok((
            r.get(1)?,
            r.get(2)?,
            r.get::<_, i64>(3)? != 0,
            r.get(4)?,
            r.get::<_, i64>(5)? != 0,
        ))
    })
    .unwrap()
    .map(Result::unwrap)
    .collect()
}

#[test]
fn sqlite_sees_the_metadata() {
    let conn = sqlite_with_seed();
    for def in [User::DEF, Post::DEF, Comment::DEF] {
        let info = table_info(&conn, def.name);
        let expected: Vec<_> = def
            .columns
            .iter()
            .map(|c| {
                (
                    c.name.to_string(),
                    c.sql_type.keyword().to_string(),
                    !c.nullable,
                    // SQLite reports a parenthesised default without its parentheses.
                    c.default.map(|d| {
                        d.strip_prefix('(')
                            .and_then(|d| d.strip_suffix(')'))
                            .unwrap_or(d)
                            .to_string()
                    }),
                    c.primary_key,
                )
            })
            .collect();
        assert_eq!(info, expected, "table_info({})", def.name);

        // Foreign keys: (from, table, to, on_delete).
        let mut stmt = conn
            .prepare(&format!("PRAGMA foreign_key_list(\"{}\")", def.name))
            .unwrap();
        let fks: Vec<(String, String, String, String)> = stmt
            .query_map([], |r| Ok((r.get(3)?, r.get(2)?, r.get(4)?, r.get(6)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        let expected: Vec<_> = def
            .columns
            .iter()
            .filter_map(|c| {
                let fk = c.references?;
                let (t, col) = (fk.target)();
                Some((
                    c.name.to_string(),
                    t.name.to_string(),
                    col.name.to_string(),
                    fk.on_delete.unwrap_or("NO ACTION").to_string(),
                ))
            })
            .collect();
        assert_eq!(fks, expected, "foreign_key_list({})", def.name);
    }
}

/// `PRAGMA index_list` + `index_info`: (index name, unique, origin, column).
fn indexes(conn: &Connection, table: &str) -> Vec<(String, bool, String, String)> {
    let mut stmt = conn
        .prepare(&format!("PRAGMA index_list(\"{table}\")"))
        .unwrap();
    let list: Vec<(String, bool, String)> = stmt
        .query_map([], |r| Ok((r.get(1)?, r.get::<_, i64>(2)? != 0, r.get(3)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let mut out: Vec<_> = list
        .into_iter()
        .map(|(name, unique, origin)| {
            let column: String = conn
                .query_row(&format!("PRAGMA index_info(\"{name}\")"), [], |r| r.get(2))
                .unwrap();
            (name, unique, origin, column)
        })
        .collect();
    out.sort();
    out
}

#[test]
fn sqlite_indexes() {
    let conn = sqlite_with_seed();
    let s = |a: &str, u, o: &str, c: &str| (a.to_string(), u, o.to_string(), c.to_string());
    assert_eq!(
        indexes(&conn, "users"),
        [
            s("sqlite_autoindex_users_1", true, "pk", "id"),
            s("sqlite_autoindex_users_2", true, "u", "email"),
        ]
    );
    assert_eq!(
        indexes(&conn, "posts"),
        [
            s("posts_user_id_idx", false, "c", "user_id"),
            s("sqlite_autoindex_posts_1", true, "pk", "id"),
        ]
    );
    assert_eq!(
        indexes(&conn, "comments"),
        [
            s("comments_post_id_idx", false, "c", "post_id"),
            s("sqlite_autoindex_comments_1", true, "pk", "id"),
        ]
    );
    // The eager-loading subquery uses the index rather than scanning the child table.
    let plan: String = conn
        .query_row(
            "EXPLAIN QUERY PLAN SELECT id FROM posts WHERE user_id = ?",
            ["u1"],
            |r| r.get(3),
        )
        .unwrap();
    assert!(plan.contains("posts_user_id_idx"), "{plan}");
}

#[test]
fn ddl_is_idempotent_and_enforces_constraints() {
    let conn = sqlite_with_seed();
    conn.execute_batch(&seed_schema().to_sql()).unwrap();

    // Rows inserted by raw SQL get the role and audit defaults, in milliseconds.
    conn.execute(
        "INSERT INTO users (id, email, password) VALUES ('u1', 'a@x', 'h')",
        [],
    )
    .unwrap();
    let (role, created, updated): (String, i64, i64) = conn
        .query_row("SELECT role, created_on, updated_on FROM users", [], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .unwrap();
    assert_eq!(role, "user");
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    assert!((now_ms - created).abs() < 60_000, "{created} vs {now_ms}");
    assert!(updated >= created);

    let e = conn
        .execute(
            "INSERT INTO users (id, email, password) VALUES ('u2', 'a@x', 'h')",
            [],
        )
        .unwrap_err();
    assert!(
        e.to_string()
            .contains("UNIQUE constraint failed: users.email"),
        "{e}"
    );
    let e = conn
        .execute(
            "INSERT INTO posts (id, title, user_id) VALUES ('p1', 't', 'nobody')",
            [],
        )
        .unwrap_err();
    assert!(
        e.to_string().contains("FOREIGN KEY constraint failed"),
        "{e}"
    );
    let e = conn
        .execute("INSERT INTO users (id, password) VALUES ('u3', 'h')", [])
        .unwrap_err();
    assert!(
        e.to_string()
            .contains("NOT NULL constraint failed: users.email"),
        "{e}"
    );

    // ON DELETE CASCADE through posts to comments.
    conn.execute_batch(
        "INSERT INTO posts (id, title, user_id) VALUES ('p1', 't', 'u1');
         INSERT INTO comments (id, post_id, body) VALUES ('c1', 'p1', 'hi');
         DELETE FROM users WHERE id = 'u1';",
    )
    .unwrap();
    let left: i64 = conn
        .query_row(
            "SELECT (SELECT count(*) FROM posts) + (SELECT count(*) FROM comments)",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(left, 0);
}

#[test]
fn records_round_trip_through_sqlite() {
    let conn = sqlite_with_seed();
    let user = ada();
    let mut values = Vec::new();
    user.encode_into(&mut values).unwrap();
    let names: Vec<_> = User::DEF.columns.iter().map(|c| c.name).collect();
    let sql = format!(
        "INSERT INTO users ({}) VALUES ({})",
        names.join(", "),
        vec!["?"; names.len()].join(", ")
    );
    let params: Vec<rusqlite::types::Value> = values.iter().map(to_sqlite).collect();
    conn.execute(&sql, rusqlite::params_from_iter(params))
        .unwrap();

    let mut row: Vec<Value> = conn
        .query_row(
            &format!("SELECT {} FROM users", names.join(", ")),
            [],
            |r| {
                (0..names.len())
                    .map(|i| r.get::<_, rusqlite::types::Value>(i).map(from_sqlite))
                    .collect()
            },
        )
        .unwrap();
    assert_eq!(User::decode(&mut row).unwrap(), user);
}

fn to_sqlite(v: &Value) -> rusqlite::types::Value {
    use rusqlite::types::Value as S;
    match v {
        Value::Null => S::Null,
        Value::Integer(i) => S::Integer(*i),
        Value::Real(r) => S::Real(*r),
        Value::Text(t) => S::Text(t.clone()),
        Value::Blob(b) => S::Blob(b.clone()),
    }
}

fn from_sqlite(v: rusqlite::types::Value) -> Value {
    use rusqlite::types::Value as S;
    match v {
        S::Null => Value::Null,
        S::Integer(i) => Value::Integer(i),
        S::Real(r) => Value::Real(r),
        S::Text(t) => Value::Text(t),
        S::Blob(b) => Value::Blob(b),
    }
}
