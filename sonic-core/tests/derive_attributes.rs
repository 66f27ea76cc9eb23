//! `#[derive(Table)]` and `#[derive(TextEnum)]` attributes beyond the seed schema: default
//! names, renames, indexes, defaults, explicit relation columns, every column type.

use sonic_db_core::{
    ColumnType, ConvertError, Error, FromValue, Json, RelationKind, SqlType, Table, TextEnum,
    ToValue, Value,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq, TextEnum)]
enum Status {
    Draft,
    InReview,
    #[text(rename = "live")]
    Published,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
struct Meta {
    tags: Vec<String>,
}

/// Default table name, an INTEGER primary key, renames, raw identifiers, every column type.
#[derive(Debug, Clone, PartialEq, Table)]
struct BlogPost {
    #[column(primary_key)]
    id: i64,
    #[column(rename = "headline", index)]
    title: String,
    #[column(unique, default = "'draft'")]
    r#type: Status,
    flag: bool,
    score: f64,
    ratio: Option<f32>,
    small: u8,
    wide: u64,
    raw: Vec<u8>,
    meta: Json<Meta>,
    doc: Option<serde_json::Value>,
    #[column(rename = "author_ref")]
    author_id: Option<i64>,
    #[relation(one, local = author_id, remote = key)]
    author: sonic_db_core::One<Author>,
}

#[derive(Debug, Clone, PartialEq, Table)]
#[table(name = "people")]
struct Author {
    #[column(primary_key)]
    uuid: String,
    #[column(unique)]
    key: i64,
    #[relation(many, local = key, remote = author_id)]
    posts: Option<Vec<BlogPost>>,
}

#[test]
fn default_table_name_is_snake_case_plural() {
    assert_eq!(BlogPost::DEF.name, "blog_posts");
    assert_eq!(BlogPost::DEF.rust_name, "BlogPost");
    assert_eq!(Author::DEF.name, "people");
}

#[test]
fn column_metadata() {
    let def = BlogPost::DEF;
    let names: Vec<_> = def.columns.iter().map(|c| (c.name, c.field)).collect();
    assert_eq!(
        names,
        [
            ("id", "id"),
            ("headline", "title"),
            ("type", "type"),
            ("flag", "flag"),
            ("score", "score"),
            ("ratio", "ratio"),
            ("small", "small"),
            ("wide", "wide"),
            ("raw", "raw"),
            ("meta", "meta"),
            ("doc", "doc"),
            ("author_ref", "author_id"),
        ]
    );
    let types: Vec<_> = def
        .columns
        .iter()
        .map(|c| (c.sql_type, c.nullable))
        .collect();
    use SqlType::*;
    assert_eq!(
        types,
        [
            (Integer, false),
            (Text, false),
            (Text, false),
            (Integer, false),
            (Real, false),
            (Real, true),
            (Integer, false),
            (Integer, false),
            (Blob, false),
            (Text, false),
            (Text, true),
            (Integer, true),
        ]
    );
    let title = def.column("headline").unwrap();
    assert!(title.indexed && !title.unique);
    let ty = def.column("type").unwrap();
    assert!(ty.unique && !ty.indexed);
    assert_eq!(ty.default, Some("'draft'"));
    assert!(def.columns.iter().all(|c| c.audit.is_none()));
    assert_eq!(def.primary_key_column().unwrap().name, "id");

    // Handles are named after the fields (raw identifiers without `r#`).
    assert_eq!(BlogPost::TITLE.name(), "headline");
    assert_eq!(BlogPost::TYPE.name(), "type");
    assert_eq!(BlogPost::AUTHOR_ID.name(), "author_ref");
    let _: sonic_db_core::Column<BlogPost, Status> = BlogPost::TYPE;
    let _: sonic_db_core::Column<BlogPost, f32> = BlogPost::RATIO;
    let _: sonic_db_core::Column<BlogPost, Json<Meta>> = BlogPost::META;
}

#[test]
fn explicit_relation_columns() {
    let rel = BlogPost::AUTHOR.def();
    assert_eq!(rel.kind, RelationKind::One);
    assert_eq!(BlogPost::DEF.columns[rel.local].name, "author_ref");
    assert_eq!((rel.target)().name, "people");
    assert_eq!((rel.remote)(), Author::KEY.index());

    let rel = Author::POSTS.def();
    assert_eq!(rel.kind, RelationKind::Many);
    assert_eq!(Author::DEF.columns[rel.local].name, "key");
    assert_eq!((rel.target)().name, "blog_posts");
    assert_eq!((rel.remote)(), BlogPost::AUTHOR_ID.index());
}

fn sample() -> BlogPost {
    BlogPost {
        id: i64::MAX,
        title: String::new(),
        r#type: Status::InReview,
        flag: true,
        score: -0.5,
        ratio: None,
        small: 255,
        wide: i64::MAX as u64,
        raw: vec![0, 159, 146, 150],
        meta: Json(Meta {
            tags: vec!["a".into()],
        }),
        doc: Some(serde_json::json!({"k": [1, 2]})),
        author_id: Some(-1),
        author: sonic_db_core::One::NotLoaded,
    }
}

#[test]
fn every_type_round_trips() {
    let post = sample();
    let mut row = Vec::new();
    post.encode_into(&mut row).unwrap();
    assert_eq!(row.len(), 12);
    assert_eq!(row[2], Value::Text("in_review".into()));
    assert_eq!(row[3], Value::Integer(1));
    assert_eq!(row[9], Value::Text(r#"{"tags":["a"]}"#.into()));
    assert_eq!(row[5], Value::Null);
    assert_eq!(BlogPost::decode(&mut row).unwrap(), post);
}

#[test]
fn encode_errors_name_table_and_column() {
    let mut post = sample();
    post.wide = u64::MAX;
    let mut row = Vec::new();
    let e = post.encode_into(&mut row).unwrap_err();
    assert!(matches!(&e, Error::Encode { table, column, .. }
        if table == "blog_posts" && column == "wide"));

    let mut post = sample();
    post.score = f64::NAN;
    let e = post.column_value(4).unwrap_err();
    assert_eq!(
        e.to_string(),
        "cannot encode column `blog_posts`.`score`: expected a finite REAL, found NaN"
    );
}

#[test]
fn decode_errors_use_sql_names() {
    let mut row = Vec::new();
    sample().encode_into(&mut row).unwrap();
    row[11] = Value::Text("x".into());
    let e = BlogPost::decode(&mut row).unwrap_err();
    assert!(
        e.to_string()
            .starts_with("cannot decode column `blog_posts`.`author_ref`"),
        "{e}"
    );

    let mut row = Vec::new();
    sample().encode_into(&mut row).unwrap();
    row[6] = Value::Integer(256);
    let e = BlogPost::decode(&mut row).unwrap_err();
    assert_eq!(
        e.to_string(),
        "cannot decode column `blog_posts`.`small` of the row with key INTEGER 9223372036854775807: expected INTEGER in the range of u8, found INTEGER 256"
    );
}

#[test]
fn touch_without_audit_is_a_no_op() {
    let mut post = sample();
    post.touch(123, true);
    assert_eq!(post, sample());
}

#[test]
fn text_enum() {
    assert_eq!(Status::SQL_TYPE, SqlType::Text);
    const { assert!(!Status::NULLABLE) };
    for (status, text) in [
        (Status::Draft, "draft"),
        (Status::InReview, "in_review"),
        (Status::Published, "live"),
    ] {
        assert_eq!(status.to_value().unwrap(), Value::Text(text.into()));
        assert_eq!(
            Status::from_value(Value::Text(text.into())).unwrap(),
            status
        );
    }
    let expected = r#"one of "draft", "in_review", "live" (Status)"#;
    assert_eq!(
        Status::from_value(Value::Text("Published".into())).unwrap_err(),
        ConvertError::new(expected, r#"TEXT "Published""#)
    );
    assert_eq!(
        Status::from_value(Value::Integer(1)).unwrap_err(),
        ConvertError::new(expected, "INTEGER 1")
    );
    assert_eq!(Option::<Status>::from_value(Value::Null).unwrap(), None);
}

/// `#[column(secret)]`: a flag of the column's metadata for APIs; the table, its SQL and its
/// records are those of an ordinary column.
#[derive(Debug, Clone, PartialEq, Table)]
#[table(name = "accounts")]
struct Account {
    #[column(primary_key)]
    id: String,
    #[column(secret, rename = "pw_hash")]
    password: String,
    #[column(unique, secret)]
    api_key: Option<String>,
    email: String,
}

#[derive(Debug, Clone, PartialEq, Table)]
#[table(name = "accounts")]
struct PlainAccount {
    #[column(primary_key)]
    id: String,
    #[column(rename = "pw_hash")]
    password: String,
    #[column(unique)]
    api_key: Option<String>,
    email: String,
}

#[test]
fn secret_columns_are_flagged_and_stored_as_any_other() {
    let flags: Vec<_> = Account::DEF
        .columns
        .iter()
        .map(|c| (c.field, c.secret))
        .collect();
    assert_eq!(
        flags,
        [
            ("id", false),
            ("password", true),
            ("api_key", true),
            ("email", false)
        ]
    );
    assert!(Account::PASSWORD.def().secret && !Account::EMAIL.def().secret);
    let api_key = Account::API_KEY.def();
    assert!(api_key.unique && api_key.nullable && api_key.name == "api_key");
    assert!(BlogPost::DEF.columns.iter().all(|c| !c.secret));
    // The same DDL as without the flag: `secret` is about APIs, not storage.
    assert_eq!(
        sonic_db_core::Schema::new().table::<Account>().statements(),
        sonic_db_core::Schema::new()
            .table::<PlainAccount>()
            .statements()
    );
    let account = Account {
        id: "a1".into(),
        password: "hash".into(),
        api_key: None,
        email: "a@example.com".into(),
    };
    let mut row = Vec::new();
    account.encode_into(&mut row).unwrap();
    assert_eq!(row[1], Value::Text("hash".into()));
}

/// A user type named like a generic parameter: the code the derive generates for a table must
/// not shadow it (its row decoder is generic over the row type).
#[derive(Debug, Clone, Copy, PartialEq, Eq, TextEnum)]
enum R {
    North,
    South,
}

#[derive(Debug, Clone, PartialEq, Table)]
struct Region {
    #[column(primary_key)]
    id: i64,
    r: R,
}

#[test]
fn a_field_type_named_like_a_generic_parameter_decodes() {
    let row = vec![Value::Integer(1), Value::Text("south".into())];
    assert_eq!(
        Region::decode_row(&row).unwrap(),
        Region { id: 1, r: R::South }
    );
    let bad = vec![Value::Integer(2), Value::Text("east".into())];
    assert!(matches!(
        Region::decode_row(&bad),
        Err(Error::Decode { .. })
    ));
    assert_ne!(R::North.to_value().unwrap(), R::South.to_value().unwrap());
}
