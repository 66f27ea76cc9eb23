//! Keys and constraints (#12 item 1) on `conf_items`: keys the database generates (one
//! insert, bulk inserts across statements, KV entries under the generated key), table-level
//! `UNIQUE`, `CHECK` and `STRICT` refusing bad rows, and declared defaults for `None`s.

use sonic_db_core::{Error, Source};

use crate::check::{all, ensure, expect_error, same, Outcome, Step};
use crate::ctx::Ctx;
use crate::tables::ConfItem;

/// Beyond 32 bits, so that a backend that truncates integers is caught.
const BIG_PRICE: i64 = 5_000_000_000;

/// One insert without a key returns the key SQLite chose; 40 more (three statements under
/// D1's 100 parameters) return theirs, distinct, ascending, in the order given; each reads
/// back by its key; update and delete go by it.
pub(crate) async fn generated_keys(ctx: &Ctx) -> Outcome {
    let db = &ctx.db;
    let first = db
        .insert(&ConfItem::new("gk", "first", BIG_PRICE))
        .await
        .step("insert without a key")?;
    let Some(first_id) = first.id else {
        return Err(format!("the insert returned no key: {first:?}"));
    };
    let mut expected_first = ConfItem::new("gk", "first", BIG_PRICE);
    expected_first.id = Some(first_id);
    expected_first.state = Some("draft".to_string());
    expected_first.stock = Some(7);
    same("insert returned", &expected_first, &first)?;

    let items: Vec<ConfItem> = (0..40)
        .map(|i| ConfItem::new("gk", &format!("sku-{i:02}"), i))
        .collect();
    let stored = db
        .insert_many(&items)
        .await
        .step("insert_many without keys")?;
    let skus: Vec<&str> = stored.iter().map(|i| i.sku.as_str()).collect();
    let want: Vec<String> = (0..40).map(|i| format!("sku-{i:02}")).collect();
    same(
        "insert_many returned the records in order",
        &want.iter().map(String::as_str).collect::<Vec<_>>(),
        &skus,
    )?;
    let ids: Vec<i64> = stored.iter().filter_map(|i| i.id).collect();
    ensure(
        ids.len() == 40 && ids.is_sorted_by(|a, b| a < b) && !ids.contains(&first_id),
        || format!("generated keys not distinct and ascending: {ids:?} (first {first_id})"),
    )?;
    let all_rows = db
        .select::<ConfItem>()
        .order_by(ConfItem::ID.asc())
        .all()
        .await
        .step("select every item")?;
    let mut expected_rows = vec![expected_first.clone()];
    expected_rows.extend(stored.iter().cloned());
    same("the stored items", &expected_rows, &all_rows)?;
    for item in stored.iter().step_by(13) {
        let found = db
            .find_fresh::<ConfItem>(item.id.unwrap_or_default())
            .await
            .step("find_fresh by the generated key")?;
        same(
            "find_fresh by the generated key",
            &Some(item),
            &found.as_ref(),
        )?;
    }

    let mut changed = expected_first.clone();
    changed.price = 1;
    let updated = db
        .update(&changed)
        .await
        .step("update by the generated key")?;
    same("update returned", &changed, &updated)?;
    let deleted = db
        .delete::<ConfItem>(first_id)
        .await
        .step("delete by the generated key")?;
    same("delete returned", &true, &deleted)?;
    expect_error(
        "update of a record never stored",
        "Error::InvalidQuery",
        db.update(&ConfItem::new("gk", "never", 1)).await,
        |e| matches!(e, Error::InvalidQuery(m) if m.contains("conf_items")),
    )
}

/// With the KV cache, a record inserted without a key is cached under the key SQLite
/// generated: a miss then a hit, the KV entry, and another handle agree.
pub(crate) async fn kv_generated_key(ctx: &Ctx) -> Outcome {
    ctx.require_kv()?;
    let db = &ctx.db;
    let stored = db
        .insert(&ConfItem::new("kvgk", "a", BIG_PRICE))
        .await
        .step("insert without a key")?;
    let Some(id) = stored.id else {
        return Err(format!("the insert returned no key: {stored:?}"));
    };
    let mut outcomes = Vec::new();
    for (what, source) in [("first find", Source::D1), ("second find", Source::Kv)] {
        let found = db
            .find_with_source::<ConfItem>(id)
            .await
            .step(format!("{what}: find_with_source({id})"))?;
        let got = found.as_ref().map(|f| (&f.record, f.source));
        outcomes.push(same(
            &ctx.with_events(format!("{what}: find_with_source({id})")),
            &Some((&stored, source)),
            &got,
        ));
    }
    let entry = ctx.kv_entry::<ConfItem>(id).await?;
    outcomes.push(same("the KV entry", &Some(&stored), &entry.as_ref()));
    let other = ctx.new_handle()?;
    let elsewhere = other
        .find::<ConfItem>(id)
        .await
        .step("find through a new handle")?;
    outcomes.push(same(
        "find through a new handle",
        &Some(&stored),
        &elsewhere.as_ref(),
    ));
    all(outcomes)
}

/// A duplicate `(shop, sku)` is `Error::UniqueViolation` naming the table's columns; a
/// negative price `Error::ConstraintViolation` naming `conf_items_check_1`; a text price is
/// refused by `STRICT`; none of them changes a row.
pub(crate) async fn table_constraints(ctx: &Ctx) -> Outcome {
    let db = &ctx.db;
    let stored = db
        .insert_many(&[ConfItem::new("tc", "a", 1), ConfItem::new("tc", "b", 2)])
        .await
        .step("insert two items")?;
    let other_shop = db
        .insert(&ConfItem::new("tc-2", "a", 3))
        .await
        .step("the same sku in another shop")?;
    let outcomes = vec![
        expect_error(
            "insert of a duplicate (shop, sku)",
            "Error::UniqueViolation naming conf_items.shop, conf_items.sku",
            db.insert(&ConfItem::new("tc", "a", 9)).await,
            |e| {
                matches!(e, Error::UniqueViolation { message }
                    if message.contains("conf_items.shop") && message.contains("conf_items.sku"))
            },
        ),
        expect_error(
            "update to a duplicate (shop, sku)",
            "Error::UniqueViolation",
            db.update(&ConfItem {
                sku: "a".to_string(),
                ..stored.get(1).cloned().unwrap_or_else(|| other_shop.clone())
            })
            .await,
            |e| matches!(e, Error::UniqueViolation { .. }),
        ),
        expect_error(
            "insert of a negative price",
            "Error::ConstraintViolation naming conf_items_check_1",
            db.insert(&ConfItem::new("tc", "c", -1)).await,
            |e| matches!(e, Error::ConstraintViolation { message } if message.contains("conf_items_check_1")),
        ),
        expect_error(
            "raw insert of a text price into the STRICT table",
            "an error",
            db.sql("INSERT INTO conf_items (shop, sku, price) VALUES ('tc', 'd', 'twelve')")
                .run()
                .await,
            |_| true,
        ),
    ];
    all(outcomes)?;
    let rows = db
        .select::<ConfItem>()
        .order_by(ConfItem::ID.asc())
        .all()
        .await
        .step("select every item")?;
    let mut expected = stored;
    expected.push(other_shop);
    same("the items after the refused writes", &expected, &rows)
}

/// A `None` in a column with a declared default stores the default, by insert, insert_many
/// and upsert alike; a value given is stored as given; an update writes the `None`.
pub(crate) async fn insert_defaults(ctx: &Ctx) -> Outcome {
    let db = &ctx.db;
    let defaulted =
        |item: &ConfItem| item.state.as_deref() == Some("draft") && item.stock == Some(7);
    let one = db
        .insert(&ConfItem::new("df", "a", BIG_PRICE))
        .await
        .step("insert")?;
    let many = db
        .insert_many(&[ConfItem::new("df", "b", 1), ConfItem::new("df", "c", 2)])
        .await
        .step("insert_many")?;
    let upserted = db
        .upsert(&ConfItem::new("df", "d", 3))
        .await
        .step("upsert")?;
    let mut given = ConfItem::new("df", "e", 4);
    given.state = Some("live".to_string());
    given.stock = Some(0);
    let given_stored = db.insert(&given).await.step("insert with values")?;
    ensure(
        one.price == BIG_PRICE
            && defaulted(&one)
            && many.iter().all(defaulted)
            && defaulted(&upserted),
        || format!("defaults not applied: {one:?} {many:?} {upserted:?}"),
    )?;
    same(
        "values given",
        &(Some("live"), Some(0)),
        &(given_stored.state.as_deref(), given_stored.stock),
    )?;
    let mut cleared = given_stored;
    cleared.state = None;
    let updated = db.update(&cleared).await.step("update to None")?;
    same("update wrote the None", &None, &updated.state)
}
