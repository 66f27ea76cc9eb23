//! Value edges: every column kind, integers around ±2^53 and beyond, bools, Unicode, NUL,
//! empty versus `NULL`, every byte value, float edges, JSON documents and text enums.
//!
//! Each value is written and read back by every path: the rows `insert_many` and `update`
//! return, a select, a fresh find (SQL), a find through the cache (KV), the raw KV entry,
//! another handle's find, and a filter on the value itself; raw SQL checks what the database
//! actually stored (`typeof`, `length`, `hex`).

use serde_json::json;
use sonic_db_core::{Db, Error, Filter, Json, Source};

use crate::check::{all, ensure, kind, same, Outcome, Step};
use crate::ctx::Ctx;
use crate::tables::{CommentMeta, ConfComment, ConfPost, ConfUser, ConfValue, Doc, DocPart, Mood};

/// 2^53 − 1, the largest integer a JavaScript number holds exactly.
const MAX_SAFE: i64 = (1 << 53) - 1;

/// The columns in which two rows differ, each as "column: expected …, got …".
fn diff(expected: &ConfValue, got: &ConfValue) -> Vec<String> {
    let mut out = Vec::new();
    macro_rules! field {
        ($($name:ident),*) => {$(
            if expected.$name != got.$name {
                out.push(format!(
                    "{}: expected {:?}, got {:?}",
                    stringify!($name),
                    expected.$name,
                    got.$name
                ));
            }
        )*};
    }
    field!(
        id,
        int64,
        int32,
        uint32,
        flag,
        real,
        text,
        maybe_text,
        bytes,
        maybe_bytes,
        doc,
        any,
        mood
    );
    out
}

/// Fails with the differing columns unless `got` is `expected`.
fn same_row(what: &str, expected: &ConfValue, got: Option<&ConfValue>) -> Outcome {
    match got {
        None => Err(format!("{what}: row {} is missing", expected.id)),
        Some(got) => {
            let differences = diff(expected, got);
            ensure(differences.is_empty(), || {
                format!("{what}: row {}: {}", expected.id, differences.join(", "))
            })
        }
    }
}

fn same_rows(what: &str, expected: &[ConfValue], got: &[ConfValue]) -> Outcome {
    let ids = |rows: &[ConfValue]| rows.iter().map(|r| r.id).collect::<Vec<_>>();
    same(&format!("{what}: ids"), &ids(expected), &ids(got))?;
    all(expected
        .iter()
        .zip(got)
        .map(|(e, g)| same_row(what, e, Some(g))))
}

/// Writes `rows` and reads each back by every path (see the module docs).
async fn round_trip(ctx: &Ctx, rows: &[ConfValue]) -> Outcome {
    let db = &ctx.db;
    let inserted = db.insert_many(rows).await.step("insert_many")?;
    same_rows("insert_many returned", rows, &inserted)?;
    let mut by_id = rows.to_vec();
    by_id.sort_by_key(|r| r.id);
    let listed = db
        .select::<ConfValue>()
        .order_by(ConfValue::ID.asc())
        .all()
        .await
        .step("select all")?;
    same_rows("select all by id", &by_id, &listed)?;
    let other = if ctx.has_kv() {
        Some(ctx.new_handle()?)
    } else {
        None
    };
    for row in rows {
        let id = row.id;
        let fresh = db.find_fresh::<ConfValue>(id).await.step("find_fresh")?;
        same_row("find_fresh", row, fresh.as_ref())?;
        let found = db.find_with_source::<ConfValue>(id).await.step("find")?;
        same_row("find", row, found.as_ref().map(|f| &f.record))?;
        if let (Some(other), Some(_)) = (&other, &found) {
            // The first find filled KV; the second reads the row back from its envelope.
            let found = db.find_with_source::<ConfValue>(id).await.step("find")?;
            same_row("second find", row, found.as_ref().map(|f| &f.record))?;
            same(
                &format!("source of the second find of row {id} (filled by the first)"),
                &Some(Source::Kv),
                &found.map(|f| f.source),
            )?;
            let entry = ctx.kv_entry::<ConfValue>(id).await?;
            same_row("raw KV entry", row, entry.as_ref())?;
            let seen = other
                .find::<ConfValue>(id)
                .await
                .step("find through another handle")?;
            same_row("find through another handle", row, seen.as_ref())?;
        }
        // The UPDATE path binds the same values again.
        let updated = db.update(row).await.step("update with the same values")?;
        same_row("update returned", row, Some(&updated))?;
    }
    Ok(())
}

/// The ids of the rows matching `filter`, by id.
async fn ids(db: &Db, what: &str, filter: Filter<ConfValue>) -> Result<Vec<i64>, String> {
    Ok(db
        .select::<ConfValue>()
        .filter(filter)
        .order_by(ConfValue::ID.asc())
        .all()
        .await
        .step(format!("select where {what}"))?
        .into_iter()
        .map(|r| r.id)
        .collect())
}

/// Checks that `filter` matches exactly `expected`.
async fn matches(db: &Db, what: &str, filter: Filter<ConfValue>, expected: &[i64]) -> Outcome {
    let got = ids(db, what, filter).await?;
    same(&format!("rows where {what}"), &expected.to_vec(), &got)
}

/// One value of raw SQL over a row: `SELECT <expr> AS v FROM conf_values WHERE id = ?`.
async fn raw(db: &Db, expr: &str, id: i64) -> Result<serde_json::Value, String> {
    let sql = format!("SELECT {expr} AS v FROM \"conf_values\" WHERE \"id\" = ?");
    let row = db
        .sql(sql.clone())
        .bind(id)
        .first_json()
        .await
        .step(format!("raw SQL `{sql}`"))?
        .ok_or_else(|| format!("raw SQL `{sql}` for row {id}: no row"))?;
    Ok(row.get("v").cloned().unwrap_or_default())
}

/// Checks a raw SQL expression over each row against an expected JSON value.
async fn raw_each(
    db: &Db,
    expr: &str,
    expected: impl IntoIterator<Item = (i64, serde_json::Value)>,
) -> Outcome {
    let mut outcomes = Vec::new();
    for (id, want) in expected {
        outcomes.push(match raw(db, expr, id).await {
            Ok(got) => same(&format!("`{expr}` of row {id}"), &want, &got),
            Err(e) => Err(e),
        });
    }
    all(outcomes)
}

fn upper_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}

/// A row with a value of every kind, and rows covering every text enum variant.
pub(crate) async fn values_round_trip(ctx: &Ctx) -> Outcome {
    let full = ConfValue {
        id: 1,
        int64: -42,
        int32: i32::MIN,
        uint32: u32::MAX,
        flag: true,
        real: -1.25,
        text: "text ü".to_string(),
        maybe_text: Some("maybe".to_string()),
        bytes: vec![1, 2, 3, 0, 255],
        maybe_bytes: Some(vec![9]),
        doc: Json(Doc {
            title: "doc".to_string(),
            count: 7,
            ratio: 0.75,
            flag: true,
            tags: vec!["a".to_string(), "b".to_string()],
            parts: vec![DocPart {
                label: "part".to_string(),
                note: None,
                children: Vec::new(),
            }],
            extra: None,
        }),
        any: json!({"k": [1, "two", null, true, {"x": 1.5}]}),
        mood: Mood::SoSo,
    };
    let mut rows = vec![full];
    for (id, mood) in [(2, Mood::Happy), (3, Mood::Grumpy)] {
        let mut row = ConfValue::plain(id);
        row.mood = mood;
        row.int32 = i32::MAX;
        rows.push(row);
    }
    round_trip(ctx, &rows).await?;
    let db = &ctx.db;
    all([
        matches(db, "mood = so-so", ConfValue::MOOD.eq(Mood::SoSo), &[1]).await,
        matches(
            db,
            "mood in (happy, grumpy)",
            ConfValue::MOOD.in_list([Mood::Happy, Mood::Grumpy]),
            &[2, 3],
        )
        .await,
        matches(
            db,
            "uint32 = u32::MAX",
            ConfValue::UINT32.eq(u32::MAX),
            &[1],
        )
        .await,
        matches(db, "int32 = i32::MIN", ConfValue::INT32.eq(i32::MIN), &[1]).await,
        raw_each(
            db,
            "\"mood\"",
            [
                (1, json!("so-so")),
                (2, json!("happy")),
                (3, json!("grumpy")),
            ],
        )
        .await,
        raw_each(
            db,
            "typeof(\"int64\") || ',' || typeof(\"real\") || ',' || typeof(\"text\") || ',' || \
             typeof(\"bytes\") || ',' || typeof(\"doc\") || ',' || typeof(\"maybe_text\")",
            [
                (1, json!("integer,real,text,blob,text,text")),
                (2, json!("integer,real,text,blob,text,null")),
            ],
        )
        .await,
    ])
}

/// Integers within ±(2^53 − 1), exactly, in every integer column.
pub(crate) async fn integers(ctx: &Ctx) -> Outcome {
    let int64s = [
        0,
        1,
        -1,
        MAX_SAFE,
        -MAX_SAFE,
        i64::from(i32::MAX) + 1,
        i64::from(i32::MIN) - 1,
        1 << 40,
        1_700_000_000_000,
    ];
    let rows: Vec<ConfValue> = int64s
        .iter()
        .enumerate()
        .map(|(i, &v)| {
            let mut row = ConfValue::plain(i as i64 + 1);
            row.int64 = v;
            (row.int32, row.uint32) = match i % 4 {
                0 => (i32::MIN, u32::MAX),
                1 => (i32::MAX, 0),
                2 => (0, 1),
                _ => (-1, 1 << 31),
            };
            row
        })
        .collect();
    round_trip(ctx, &rows).await?;
    let db = &ctx.db;
    use ConfValue as V;
    all([
        matches(db, "int64 = 2^53 - 1", V::INT64.eq(MAX_SAFE), &[4]).await,
        matches(db, "int64 = 2^53 - 2", V::INT64.eq(MAX_SAFE - 1), &[]).await,
        matches(db, "int64 > 2^53 - 2", V::INT64.gt(MAX_SAFE - 1), &[4]).await,
        matches(db, "int64 < -(2^53 - 2)", V::INT64.lt(-MAX_SAFE + 1), &[5]).await,
        matches(
            db,
            "int64 between -1 and 1",
            V::INT64.between(-1, 1),
            &[1, 2, 3],
        )
        .await,
        matches(
            db,
            "int64 > i32::MAX",
            V::INT64.gt(i64::from(i32::MAX)),
            &[4, 6, 8, 9],
        )
        .await,
        matches(db, "int32 = i32::MIN", V::INT32.eq(i32::MIN), &[1, 5, 9]).await,
        matches(db, "uint32 = u32::MAX", V::UINT32.eq(u32::MAX), &[1, 5, 9]).await,
        matches(db, "uint32 = 2^31", V::UINT32.eq(1u32 << 31), &[4, 8]).await,
        raw_each(
            db,
            "\"int64\"",
            int64s
                .iter()
                .enumerate()
                .map(|(i, &v)| (i as i64 + 1, json!(v))),
        )
        .await,
        raw_each(
            db,
            "typeof(\"int64\")",
            [(4, json!("integer")), (5, json!("integer"))],
        )
        .await,
    ])
}

/// Integers beyond ±2^53: exact on every backend, whether written, compared or nested in a
/// relation's row — also where numbers cross JavaScript as doubles (D1: bound as text under a
/// cast, selected as numbers up to ±(2^53 − 1) and as text beyond, #12 item 3; the first two
/// candidates are the last on the numbers' side). A failure is reported, and what it left
/// checked (an error must write nothing, never a changed value).
pub(crate) async fn integers_beyond_2_53(ctx: &Ctx) -> Outcome {
    let db = &ctx.db;
    let candidates: [i64; 7] = [
        (1 << 53) - 1,
        -(1 << 53) + 1,
        1 << 53,
        (1 << 53) + 1,
        -(1 << 53) - 1,
        i64::MAX,
        i64::MIN,
    ];
    let mut stored: Vec<(i64, i64)> = Vec::new();
    let mut outcomes = Vec::new();
    for (i, v) in candidates.into_iter().enumerate() {
        let id = 10 + i as i64;
        let mut row = ConfValue::plain(id);
        row.int64 = v;
        let result = db.insert(&row).await;
        outcomes.push(succeeded(&format!("insert of int64 {v}"), v, &result));
        outcomes.push(match result {
            Ok(returned) => {
                stored.push((id, v));
                exact_everywhere(ctx, &row, &returned).await
            }
            Err(error) => nothing_written(db, id, v, &error).await,
        });
    }

    // A primary key beyond 2^53.
    let big_key = (1 << 53) + 1;
    let mut key_row = ConfValue::plain(big_key);
    key_row.int64 = 0;
    let inserted = db.insert(&key_row).await;
    outcomes.push(succeeded(
        "insert of primary key 2^53 + 1",
        big_key,
        &inserted,
    ));
    outcomes.push(match inserted {
        Ok(returned) => {
            stored.push((big_key, 0));
            exact_everywhere(ctx, &key_row, &returned).await
        }
        Err(_) => db
            .select::<ConfValue>()
            .count()
            .await
            .step("count")
            .and_then(|n| {
                same(
                    "rows after the failed insert of key 2^53 + 1",
                    &(stored.len() as u64),
                    &n,
                )
            }),
    });

    // An update to i64::MAX: exact, or an error that leaves the row as it was.
    let base = ConfValue::plain(1);
    db.insert(&base).await.step("insert row 1")?;
    let updated = db
        .update_where::<ConfValue>()
        .set(ConfValue::INT64, i64::MAX)
        .filter(ConfValue::ID.eq(1))
        .returning()
        .await;
    outcomes.push(succeeded("update_where to i64::MAX", i64::MAX, &updated));
    let row1 = match updated {
        Ok(rows) => {
            let mut expected = base.clone();
            expected.int64 = i64::MAX;
            outcomes.push(same_row(
                "update_where to i64::MAX returned",
                &expected,
                rows.first(),
            ));
            expected
        }
        Err(_) => base.clone(),
    };
    let fresh = db
        .find_fresh::<ConfValue>(1)
        .await
        .step("find_fresh row 1")?;
    outcomes.push(same_row(
        "row 1 after an update to i64::MAX (exact, or unchanged after an error)",
        &row1,
        fresh.as_ref(),
    ));

    // A filter operand beyond 2^53: the exact rows, or an error.
    let mut below_max: Vec<i64> = stored
        .iter()
        .filter(|(_, v)| *v < i64::MAX)
        .map(|(id, _)| *id)
        .collect();
    if row1.int64 < i64::MAX {
        below_max.push(1);
    }
    below_max.sort_unstable();
    let filtered = db
        .select::<ConfValue>()
        .filter(ConfValue::INT64.lt(i64::MAX))
        .order_by(ConfValue::ID.asc())
        .all()
        .await;
    outcomes.push(succeeded("a filter int64 < i64::MAX", i64::MAX, &filtered));
    if let Ok(rows) = filtered {
        let got: Vec<i64> = rows.iter().map(|r| r.id).collect();
        outcomes.push(same("rows where int64 < i64::MAX", &below_max, &got));
    }

    // Inside a relation.
    db.insert(&ConfUser::new("big", "big@values.test", None, 0))
        .await
        .step("insert user")?;
    db.insert(&ConfPost::new(1, "big", "big", 0))
        .await
        .step("insert post")?;
    let mut comment = ConfComment::new(1, 1, "i64::MIN");
    comment.big = i64::MIN;
    comment.meta = Json(CommentMeta {
        tags: Vec::new(),
        weight: Some(i64::MAX),
    });
    let inserted = db.insert(&comment).await;
    outcomes.push(succeeded(
        "insert of a comment with i64::MIN",
        i64::MIN,
        &inserted,
    ));
    if inserted.is_ok() {
        let posts = db
            .select::<ConfPost>()
            .with(ConfPost::COMMENTS)
            .all()
            .await
            .step("post with its i64::MIN comment")?;
        let big = posts
            .first()
            .and_then(|p| p.comments.as_ref())
            .and_then(|c| c.first())
            .map(|c| (c.big, c.meta.0.weight));
        outcomes.push(same(
            "i64::MIN (and i64::MAX in JSON) inside a relation",
            &Some((i64::MIN, Some(i64::MAX))),
            &big,
        ));
    } else {
        let n = db
            .select::<ConfComment>()
            .count()
            .await
            .step("count comments")?;
        outcomes.push(same("comments after the failed insert of i64::MIN", &0, &n));
    }
    all(outcomes)
}

/// After a successful write of `row`: every read gives the exact value.
async fn exact_everywhere(ctx: &Ctx, row: &ConfValue, returned: &ConfValue) -> Outcome {
    let db = &ctx.db;
    let what = format!("int64 {} / id {}", row.int64, row.id);
    same_row(&format!("{what}: insert returned"), row, Some(returned))?;
    let fresh = db
        .find_fresh::<ConfValue>(row.id)
        .await
        .step(format!("{what}: find_fresh"))?;
    same_row(&format!("{what}: find_fresh"), row, fresh.as_ref())?;
    let found = db
        .find::<ConfValue>(row.id)
        .await
        .step(format!("{what}: find"))?;
    same_row(&format!("{what}: find"), row, found.as_ref())?;
    if ctx.has_kv() {
        let entry = ctx.kv_entry::<ConfValue>(row.id).await?;
        same_row(&format!("{what}: raw KV entry"), row, entry.as_ref())?;
    }
    match ids(db, &what, ConfValue::INT64.eq(row.int64)).await {
        Ok(got) => same(
            &format!("rows where int64 = {}", row.int64),
            &vec![row.id],
            &got,
        ),
        // The operand may be refused; the value itself came back exactly.
        Err(_) => Ok(()),
    }
}

/// The operation `what` on `value` must have succeeded: every backend stores and reads every
/// `i64` exactly (#12 item 3), those whose numbers cross JavaScript as doubles too.
fn succeeded<T>(what: &str, value: i64, result: &sonic_db_core::Result<T>) -> Outcome {
    match result {
        Ok(_) => Ok(()),
        Err(error) => Err(format!(
            "{what}: expected {value} to be stored exactly, got {error} ({})",
            kind(error)
        )),
    }
}

/// After a failed write of `value` into row `id`: no such row.
async fn nothing_written(db: &Db, id: i64, value: i64, error: &Error) -> Outcome {
    let fresh = db.find_fresh::<ConfValue>(id).await.step(format!(
        "find_fresh of row {id} after a refused int64 {value}"
    ))?;
    ensure(fresh.is_none(), || {
        format!(
            "int64 {value}: the insert failed ({error}) but row {id} exists with int64 {:?}",
            fresh.as_ref().map(|r| r.int64)
        )
    })
}

/// `true` / `false`: stored as 1 / 0, filtered both ways.
pub(crate) async fn bools(ctx: &Ctx) -> Outcome {
    let rows: Vec<ConfValue> = [true, false, true]
        .into_iter()
        .enumerate()
        .map(|(i, flag)| {
            let mut row = ConfValue::plain(i as i64 + 1);
            row.flag = flag;
            row
        })
        .collect();
    round_trip(ctx, &rows).await?;
    let db = &ctx.db;
    use ConfValue as V;
    let by_name = match Filter::<ConfValue>::parse("flag", "$eq", "true") {
        Ok(filter) => matches(db, "flag $eq \"true\"", filter, &[1, 3]).await,
        Err(e) => Err(format!("Filter::parse(flag, $eq, true): {e}")),
    };
    all([
        matches(db, "flag = true", V::FLAG.eq(true), &[1, 3]).await,
        matches(db, "flag = false", V::FLAG.eq(false), &[2]).await,
        matches(db, "flag <> true", V::FLAG.ne(true), &[2]).await,
        by_name,
        raw_each(
            db,
            "\"flag\"",
            [(1, json!(1)), (2, json!(0)), (3, json!(1))],
        )
        .await,
        raw_each(db, "typeof(\"flag\")", [(1, json!("integer"))]).await,
    ])?;
    let flipped = db
        .update_where::<ConfValue>()
        .set(V::FLAG, false)
        .filter(V::ID.eq(1))
        .run()
        .await
        .step("update_where flag = false")?;
    same("update_where flag = false changed", &1, &flipped)?;
    let after = db
        .find::<ConfValue>(1)
        .await
        .step("find after the update")?;
    same(
        "flag after the update",
        &Some(false),
        &after.map(|r| r.flag),
    )
}

/// Unicode and SQL-looking text, byte for byte.
pub(crate) async fn text_unicode(ctx: &Ctx) -> Outcome {
    let long: String = "ab😀é\u{301}ß".repeat(2_000);
    let texts: Vec<String> = [
        "plain",
        "😀👩‍👩‍👧‍👦🏳️‍🌈",
        "مرحبا بالعالم",
        "שלום עולם",
        "e\u{301} vs \u{e9}",
        "\u{202e}override\u{202c}",
        "O'Reilly \"double\" `back`",
        "-- not a comment",
        "'; DROP TABLE \"conf_values\"; --",
        "back\\slash \\n \\u0041",
        "tab\tnewline\ncr\r\n",
        "%_ [like] *glob?",
        "\u{feff}bom",
        "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 \u{10ffff} \u{fffd}",
        "null",
        "NULL",
    ]
    .into_iter()
    .map(str::to_string)
    .chain([long])
    .collect();
    let rows: Vec<ConfValue> = texts
        .iter()
        .enumerate()
        .map(|(i, text)| {
            let mut row = ConfValue::plain(i as i64 + 1);
            row.text = text.clone();
            row.maybe_text = Some(text.chars().rev().collect());
            row
        })
        .collect();
    round_trip(ctx, &rows).await?;
    let db = &ctx.db;
    let mut outcomes = Vec::new();
    for row in &rows {
        let short: String = row.text.chars().take(12).collect();
        outcomes.push(
            matches(
                db,
                &format!("text = {short:?}…"),
                ConfValue::TEXT.eq(&row.text),
                &[row.id],
            )
            .await,
        );
    }
    outcomes.push(
        raw_each(
            db,
            "length(\"text\")",
            rows.iter().map(|r| (r.id, json!(r.text.chars().count()))),
        )
        .await,
    );
    outcomes.push(
        raw_each(
            db,
            "hex(\"text\")",
            rows.iter()
                .map(|r| (r.id, json!(upper_hex(r.text.as_bytes())))),
        )
        .await,
    );
    // Text keys and the KV keys made of them.
    let mut users = Vec::new();
    for (i, id) in ["ключ-😀", "a:b/c?d#e", "שלום", "e\u{301}"]
        .into_iter()
        .enumerate()
    {
        users.push(ConfUser::new(
            id,
            &format!("{i}@unicode.test"),
            Some(id),
            i as i64,
        ));
    }
    db.insert_many(&users)
        .await
        .step("insert users with Unicode keys")?;
    for user in &users {
        let found = db
            .find::<ConfUser>(user.id.as_str())
            .await
            .step("find by a Unicode key");
        outcomes.push(found.and_then(|f| {
            same(
                &format!("user {:?} found by key", user.id),
                &Some(user.id.clone()),
                &f.map(|u| u.id),
            )
        }));
    }
    all(outcomes)
}

/// Text with NUL characters (C-string APIs cut them).
pub(crate) async fn text_nul(ctx: &Ctx) -> Outcome {
    let rows: Vec<ConfValue> = ["a\0b", "\0", "trailing\0", "\0\0x\0"]
        .into_iter()
        .enumerate()
        .map(|(i, text)| {
            let mut row = ConfValue::plain(i as i64 + 1);
            row.text = text.to_string();
            row.maybe_text = Some(text.to_string());
            row
        })
        .collect();
    round_trip(ctx, &rows).await?;
    raw_each(
        &ctx.db,
        "hex(\"text\")",
        rows.iter()
            .map(|r| (r.id, json!(upper_hex(r.text.as_bytes())))),
    )
    .await
}

/// `""` is not `NULL`, and an empty BLOB is not `NULL` either.
pub(crate) async fn empty_and_null(ctx: &Ctx) -> Outcome {
    let row = |id: i64,
               text: &str,
               maybe_text: Option<&str>,
               bytes: &[u8],
               maybe_bytes: Option<&[u8]>| {
        let mut row = ConfValue::plain(id);
        row.text = text.to_string();
        row.maybe_text = maybe_text.map(str::to_string);
        row.bytes = bytes.to_vec();
        row.maybe_bytes = maybe_bytes.map(<[u8]>::to_vec);
        row
    };
    let rows = vec![
        row(1, "", None, &[], None),
        row(2, "", Some(""), &[], Some(&[])),
        row(3, "x", Some("x"), &[0], Some(&[0])),
    ];
    round_trip(ctx, &rows).await?;
    let db = &ctx.db;
    use ConfValue as V;
    all([
        matches(db, "maybe_text is null", V::MAYBE_TEXT.is_null(), &[1]).await,
        matches(db, "maybe_text = ''", V::MAYBE_TEXT.eq(""), &[2]).await,
        matches(
            db,
            "maybe_text is not null",
            V::MAYBE_TEXT.is_not_null(),
            &[2, 3],
        )
        .await,
        matches(db, "text = ''", V::TEXT.eq(""), &[1, 2]).await,
        matches(db, "maybe_bytes is null", V::MAYBE_BYTES.is_null(), &[1]).await,
        matches(
            db,
            "maybe_bytes is not null",
            V::MAYBE_BYTES.is_not_null(),
            &[2, 3],
        )
        .await,
        matches(db, "bytes = x''", V::BYTES.eq(Vec::new()), &[1, 2]).await,
        raw_each(
            db,
            "typeof(\"maybe_text\") || ',' || typeof(\"maybe_bytes\") || ',' || typeof(\"bytes\")",
            [
                (1, json!("null,null,blob")),
                (2, json!("text,blob,blob")),
                (3, json!("text,blob,blob")),
            ],
        )
        .await,
        raw_each(
            db,
            "length(\"maybe_bytes\")",
            [(2, json!(0)), (3, json!(1))],
        )
        .await,
    ])
}

/// Every byte value, empty and one-byte BLOBs, a 4 KiB pattern.
pub(crate) async fn blobs(ctx: &Ctx) -> Outcome {
    let every: Vec<u8> = (0..=255).collect();
    let mut reversed = every.clone();
    reversed.reverse();
    let pattern: Vec<u8> = (0..4096u32).map(|i| ((i * 31 + 7) % 256) as u8).collect();
    let blobs: Vec<Vec<u8>> = vec![
        every.clone(),
        reversed,
        Vec::new(),
        vec![0],
        vec![0, 0, 0],
        vec![0xff],
        b"not utf-8: \xc3\x28 \xff".to_vec(),
        pattern,
    ];
    let rows: Vec<ConfValue> = blobs
        .iter()
        .enumerate()
        .map(|(i, bytes)| {
            let mut row = ConfValue::plain(i as i64 + 1);
            row.bytes = bytes.clone();
            row.maybe_bytes = Some(bytes.iter().rev().copied().collect());
            row
        })
        .collect();
    round_trip(ctx, &rows).await?;
    let db = &ctx.db;
    use ConfValue as V;
    all([
        matches(db, "bytes = every byte", V::BYTES.eq(every.clone()), &[1]).await,
        matches(db, "bytes = x'00'", V::BYTES.eq(vec![0]), &[4]).await,
        matches(
            db,
            "bytes in (x'00', x'ff')",
            V::BYTES.in_list([vec![0u8], vec![0xff]]),
            &[4, 6],
        )
        .await,
        raw_each(
            db,
            "hex(\"bytes\")",
            rows.iter().map(|r| (r.id, json!(upper_hex(&r.bytes)))),
        )
        .await,
        raw_each(
            db,
            "length(\"bytes\")",
            rows.iter().map(|r| (r.id, json!(r.bytes.len()))),
        )
        .await,
        raw_each(
            db,
            "typeof(\"bytes\")",
            [(1, json!("blob")), (7, json!("blob"))],
        )
        .await,
    ])
}

/// Float edges, bit for bit (−0.0 may come back as +0.0: SQLite stores it so).
pub(crate) async fn floats(ctx: &Ctx) -> Outcome {
    let values = [
        0.1,
        -0.0,
        1e300,
        -1e300,
        f64::MIN_POSITIVE,
        5e-324,
        f64::MAX,
        f64::MIN,
        f64::EPSILON,
        1.0 / 3.0,
        3.0,
        9_007_199_254_740_992.0,
        -1.5,
        123_456.789,
        0.30000000000000004,
    ];
    let rows: Vec<ConfValue> = values
        .iter()
        .enumerate()
        .map(|(i, &v)| {
            let mut row = ConfValue::plain(i as i64 + 1);
            row.real = v;
            row
        })
        .collect();
    round_trip(ctx, &rows).await?;
    let db = &ctx.db;
    let mut outcomes = Vec::new();
    let stored = db
        .select::<ConfValue>()
        .order_by(ConfValue::ID.asc())
        .all()
        .await
        .step("select all")?;
    for (row, got) in rows.iter().zip(&stored) {
        let (want, have) = (row.real, got.real);
        let exact = want.to_bits() == have.to_bits() || (want == 0.0 && have == 0.0);
        outcomes.push(ensure(exact, || {
            format!(
                "row {}: REAL {want:e} came back as {have:e} (bits {:#018x} vs {:#018x})",
                row.id,
                want.to_bits(),
                have.to_bits()
            )
        }));
    }
    use ConfValue as V;
    outcomes.extend([
        matches(db, "real = 0.1", V::REAL.eq(0.1), &[1]).await,
        matches(db, "real = 1/3", V::REAL.eq(1.0 / 3.0), &[10]).await,
        matches(db, "real > 1e299", V::REAL.gt(1e299), &[3, 7]).await,
        matches(db, "real < -1e299", V::REAL.lt(-1e299), &[4, 8]).await,
        matches(db, "real = 0 (matches -0.0)", V::REAL.eq(0.0), &[2]).await,
        matches(
            db,
            "real between 0 and 1e-300",
            V::REAL.between(0.0, 1e-300),
            &[2, 5, 6],
        )
        .await,
        raw_each(
            db,
            "typeof(\"real\")",
            [(1, json!("real")), (11, json!("real")), (12, json!("real"))],
        )
        .await,
    ]);
    all(outcomes)
}

/// `Json<T>` of a nested struct and `serde_json::Value` documents.
pub(crate) async fn json_columns(ctx: &Ctx) -> Outcome {
    let leaf = |label: &str| DocPart {
        label: label.to_string(),
        note: Some(format!("note of {label} \"q\" \\ \u{1F600}")),
        children: Vec::new(),
    };
    let doc = Doc {
        title: "nested ü 😀 \"quoted\" \\ \n".to_string(),
        count: i64::MIN,
        ratio: 0.5,
        flag: true,
        tags: vec![String::new(), "[]".to_string(), "{}".to_string()],
        parts: vec![
            DocPart {
                label: "root".to_string(),
                note: None,
                children: vec![
                    leaf("a"),
                    DocPart {
                        label: "b".to_string(),
                        note: None,
                        children: vec![leaf("b1")],
                    },
                ],
            },
            leaf("c"),
        ],
        extra: Some(Box::new(Doc {
            title: "inner".to_string(),
            count: i64::MAX,
            ..Doc::default()
        })),
    };
    let documents = [
        json!({
            "big": 9_007_199_254_740_993_i64,
            "min": i64::MIN,
            "umax": u64::MAX,
            "float": 0.25,
            "list": [1, "two", null, true, [], {}],
            "nested": {"deeper": {"deepest": ["😀", "\u{0}", "\"\\"]}},
        }),
        json!([1, 2, 3]),
        json!("just a string"),
        json!(-17),
        json!(false),
        serde_json::Value::Null,
        json!({}),
    ];
    let rows: Vec<ConfValue> = documents
        .iter()
        .enumerate()
        .map(|(i, any)| {
            let mut row = ConfValue::plain(i as i64 + 1);
            row.any = any.clone();
            if i == 0 {
                row.doc = Json(doc.clone());
            }
            row
        })
        .collect();
    round_trip(ctx, &rows).await?;
    let db = &ctx.db;
    let mut outcomes = Vec::new();
    for row in &rows {
        outcomes.push(
            matches(
                db,
                &format!("any = {}", row.any),
                ConfValue::ANY.eq(row.any.clone()),
                &[row.id],
            )
            .await,
        );
    }
    outcomes.push(
        raw_each(
            db,
            "json_extract(\"doc\", '$.parts[0].children[1].children[0].label')",
            [(1, json!("b1"))],
        )
        .await,
    );
    outcomes.push(
        raw_each(
            db,
            "json_extract(\"doc\", '$.title')",
            [(1, json!(doc.title))],
        )
        .await,
    );
    outcomes.push(
        raw_each(
            db,
            "json_valid(\"any\")",
            rows.iter().map(|r| (r.id, json!(1))),
        )
        .await,
    );
    outcomes.push(raw_each(db, "\"any\"", [(6, json!("null")), (7, json!("{}"))]).await);
    all(outcomes)
}
