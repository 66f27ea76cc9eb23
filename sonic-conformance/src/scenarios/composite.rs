//! Composite primary keys (#12 item 1) on `conf_rankings`, keyed by `(tag, post)`: reads and
//! writes by the tuple match every key column, keyset pages break ties on both parts, and the
//! KV cache names each record by the whole tuple.

use sonic_db_core::{Source, Table};

use crate::check::{all, same, Outcome, Step};
use crate::ctx::Ctx;
use crate::tables::ConfRanking;

/// Beyond 2^53: a key part read back as a float would be another key.
const BIG: i64 = 9_007_199_254_740_993;

fn ranks(rows: &[ConfRanking]) -> Vec<(String, i64, i64)> {
    rows.iter()
        .map(|r| (r.tag.clone(), r.post, r.rank))
        .collect()
}

/// Find, update, upsert and delete by `(tag, post)` touch that row only; keyset pages after a
/// cursor come in `(tag, post)` order when the ordered column ties.
pub(crate) async fn composite_keys(ctx: &Ctx) -> Outcome {
    let db = &ctx.db;
    let rows = [
        ConfRanking::new("ck-b", 1, 5),
        ConfRanking::new("ck-a", BIG, 5),
        ConfRanking::new("ck-a", 1, 5),
        ConfRanking::new("ck-b", BIG, 5),
    ];
    db.insert_many(&rows).await.step("insert_many")?;
    let mut outcomes = Vec::new();
    let found = db
        .find::<ConfRanking>(("ck-a", BIG))
        .await
        .step("find (ck-a, BIG)")?;
    outcomes.push(same(
        "find (ck-a, BIG)",
        &Some(&ConfRanking::new("ck-a", BIG, 5)),
        &found.as_ref(),
    ));
    let none = db
        .find::<ConfRanking>(("ck-a", BIG - 1))
        .await
        .step("find (ck-a, BIG - 1)")?;
    outcomes.push(same("find of another post", &None, &none));

    let updated = db
        .update(&ConfRanking::new("ck-a", 1, 50))
        .await
        .step("update (ck-a, 1)")?;
    outcomes.push(same("update's row", &50, &updated.rank));
    db.upsert(&ConfRanking::new("ck-b", BIG, 60))
        .await
        .step("upsert (ck-b, BIG)")?;
    let deleted = db
        .delete::<ConfRanking>(("ck-b", 1_i64))
        .await
        .step("delete (ck-b, 1)")?;
    outcomes.push(same("delete found the row", &true, &deleted));
    let left = db
        .select::<ConfRanking>()
        .filter(ConfRanking::TAG.like("ck-%"))
        .order_by(ConfRanking::TAG.asc())
        .order_by(ConfRanking::POST.asc())
        .all()
        .await
        .step("select every ranking")?;
    outcomes.push(same(
        "the rankings after the writes",
        &vec![
            ("ck-a".to_string(), 1, 50),
            ("ck-a".to_string(), BIG, 5),
            ("ck-b".to_string(), BIG, 60),
        ],
        &ranks(&left),
    ));
    all(outcomes)?;

    // All rank 7: the pages after (kp-a, 1) are the key order.
    let ties = [
        ConfRanking::new("kp-b", 2, 7),
        ConfRanking::new("kp-a", BIG, 7),
        ConfRanking::new("kp-b", 1, 7),
        ConfRanking::new("kp-a", 2, 7),
    ];
    db.insert_many(&ties).await.step("insert ties")?;
    let mut last = ConfRanking::new("kp-a", 1, 7);
    let mut seen = Vec::new();
    for _ in 0..5 {
        let page = db
            .select::<ConfRanking>()
            .filter(ConfRanking::TAG.like("kp-%"))
            .order_by(ConfRanking::RANK.desc())
            .after(&last)
            .limit(2)
            .all()
            .await
            .step("a keyset page")?;
        let Some(end) = page.last() else { break };
        last = end.clone();
        seen.extend(ranks(&page));
    }
    same(
        "keyset pages after (kp-a, 1)",
        &vec![
            ("kp-a".to_string(), 2, 7),
            ("kp-a".to_string(), BIG, 7),
            ("kp-b".to_string(), 1, 7),
            ("kp-b".to_string(), 2, 7),
        ],
        &seen,
    )
}

/// A find by the tuple misses, then hits; the entry is the record's, under its whole tuple
/// (`("kv:1", 2)` and `("kv", 12)`-like neighbours apart); an update and a delete by the
/// tuple are seen by the next read, here and through another handle.
pub(crate) async fn kv_composite_keys(ctx: &Ctx) -> Outcome {
    ctx.require_kv()?;
    let db = &ctx.db;
    let rows = [
        ConfRanking::new("kc:1", BIG, 1),
        ConfRanking::new("kc", BIG, 2),
    ];
    db.insert_many(&rows).await.step("insert_many")?;
    let mut outcomes = Vec::new();
    for row in &rows {
        let key = (row.tag.as_str(), row.post);
        for source in [Source::D1, Source::Kv] {
            let found = db
                .find_with_source::<ConfRanking>(key)
                .await
                .step(format!("find_with_source({key:?})"))?;
            let got = found.as_ref().map(|f| (&f.record, f.source));
            outcomes.push(same(
                &ctx.with_events(format!("find_with_source({key:?})")),
                &Some((row, source)),
                &got,
            ));
        }
        let id = row.record_id().step("record id")?;
        let entry = ctx.kv_entry::<ConfRanking>(id).await?;
        outcomes.push(same("the KV entry", &Some(row), &entry.as_ref()));
    }
    all(outcomes)?;

    let changed = ConfRanking::new("kc:1", BIG, 10);
    db.update(&changed).await.step("update (kc:1, BIG)")?;
    let after = db
        .find_with_source::<ConfRanking>(("kc:1", BIG))
        .await
        .step("find after the update")?;
    let got = after.as_ref().map(|f| (&f.record, f.source));
    same(
        &ctx.with_events("find after the update"),
        &Some((&changed, Source::D1)),
        &got,
    )?;
    db.delete::<ConfRanking>(("kc", BIG))
        .await
        .step("delete (kc, BIG)")?;
    let other = ctx.new_handle()?;
    let gone = other
        .find::<ConfRanking>(("kc", BIG))
        .await
        .step("find through a new handle after the delete")?;
    let kept = other
        .find::<ConfRanking>(("kc:1", BIG))
        .await
        .step("find the other record through a new handle")?;
    all([
        same("the deleted record elsewhere", &None, &gone),
        same(
            "the updated record elsewhere",
            &Some(&changed),
            &kept.as_ref(),
        ),
    ])
}
