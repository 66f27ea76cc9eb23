//! Interactive transactions: all-or-nothing where the backend holds them, with the cache told
//! after the commit; refused before anything is sent where it does not (D1).

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use sonic_db_core::{Error, Source};

use crate::check::{ensure, expect_error, same, Outcome, Step};
use crate::ctx::Ctx;
use crate::tables::{ConfComment, ConfPost, ConfUser};

/// A future that is not ready the first time it is polled: something other than the
/// database (a fetch, a timer) that a transaction's body must not wait on.
struct Elsewhere(bool);

impl Future for Elsewhere {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.0 {
            Poll::Ready(())
        } else {
            self.0 = true;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    }
}

fn abort() -> Error {
    Error::InvalidQuery("the body gave up".to_string())
}

/// The ages of t1 and t2 and the number of users, read without any cache.
async fn state(ctx: &Ctx) -> std::result::Result<(Option<i64>, Option<i64>, u64), String> {
    let age = |id: &'static str| async move {
        ctx.plain
            .find::<ConfUser>(id)
            .await
            .map(|u| u.map(|u| u.age))
            .step(format!("read {id}"))
    };
    let count = ctx
        .plain
        .select::<ConfUser>()
        .count()
        .await
        .step("count users")?;
    Ok((age("t1").await?, age("t2").await?, count))
}

/// Read, decide, write in one transaction; a failing body (by its own error, a failing
/// statement, or waiting on something else) leaves nothing; cached records of the committed
/// writes (and of a delete's cascade) are not served afterwards, by this handle or another.
pub(crate) async fn transactions(ctx: &Ctx) -> Outcome {
    let db = &ctx.db;
    let seed = [
        ConfUser::new("t1", "t1@tx.test", None, 10),
        ConfUser::new("t2", "t2@tx.test", None, 20),
    ];
    ctx.plain.insert_many(&seed).await.step("seed users")?;
    ctx.plain
        .insert(&ConfPost::new(31, "t2", "in a transaction", 0))
        .await
        .step("seed post")?;
    ctx.plain
        .insert(&ConfComment::new(310, 31, "cascaded"))
        .await
        .step("seed comment")?;

    if !db.capabilities().transactions {
        let refused = db
            .transaction(|tx| async move { tx.delete::<ConfUser>("t1").await })
            .await;
        expect_error(
            "a transaction on a backend that holds none",
            "Error::Unsupported",
            refused,
            |e| matches!(e, Error::Unsupported(_)),
        )?;
        return same(
            "users after the refused transaction",
            &(Some(10), Some(20), 2),
            &state(ctx).await?,
        );
    }

    // Cached before the transaction, when there is a cache.
    if ctx.has_kv() {
        for id in ["t1", "t2"] {
            db.find::<ConfUser>(id).await.step("fill user")?;
        }
        db.find::<ConfPost>(31).await.step("fill post")?;
        db.find::<ConfComment>(310).await.step("fill comment")?;
        let cached = db
            .find_with_source::<ConfUser>("t1")
            .await
            .step("find t1")?;
        same(
            "t1 before the transaction comes from",
            &Some(Source::Kv),
            &cached.map(|f| f.source),
        )?;
    }

    let total = db
        .transaction(|tx| async move {
            let mut from = tx.find::<ConfUser>("t1").await?.ok_or_else(abort)?;
            let mut to = tx.find::<ConfUser>("t2").await?.ok_or_else(abort)?;
            from.age -= 5;
            to.age += 5;
            tx.update(&from).await?;
            tx.update(&to).await?;
            // Its own writes are visible inside.
            let again = tx.find::<ConfUser>("t1").await?.ok_or_else(abort)?;
            Ok(again.age + to.age)
        })
        .await
        .step("a transaction moving 5 from t1 to t2")?;
    same("the body's result", &30, &total)?;
    same(
        "users after the committed transaction",
        &(Some(5), Some(25), 2),
        &state(ctx).await?,
    )?;

    let given_up = db
        .transaction(|tx| async move {
            tx.update(&ConfUser::new("t1", "t1@tx.test", None, 99))
                .await?;
            tx.insert(&ConfUser::new("t3", "t3@tx.test", None, 30))
                .await?;
            tx.delete::<ConfUser>("t2").await?;
            Err::<(), _>(abort())
        })
        .await;
    expect_error(
        "a body that gives up",
        "its own error",
        given_up,
        |e| matches!(e, Error::InvalidQuery(m) if m == "the body gave up"),
    )?;
    same(
        "users after a body gave up (update, insert, cascading delete undone)",
        &(Some(5), Some(25), 2),
        &state(ctx).await?,
    )?;

    let failed = db
        .transaction(|tx| async move {
            tx.update(&ConfUser::new("t1", "t1@tx.test", None, 98))
                .await?;
            tx.insert_many(&[
                ConfUser::new("t4", "t4@tx.test", None, 40),
                ConfUser::new("t5", "t2@tx.test", None, 50), // t2's email: refused
            ])
            .await?;
            Ok(())
        })
        .await;
    expect_error(
        "a statement that fails inside",
        "Error::UniqueViolation",
        failed,
        |e| matches!(e, Error::UniqueViolation { .. }),
    )?;
    same(
        "users after a statement failed inside",
        &(Some(5), Some(25), 2),
        &state(ctx).await?,
    )?;

    let waited = db
        .transaction(|tx| async move {
            tx.update(&ConfUser::new("t1", "t1@tx.test", None, 97))
                .await?;
            Elsewhere(false).await;
            Ok(())
        })
        .await;
    expect_error(
        "a body that waits on something else",
        "Error::InvalidQuery",
        waited,
        |e| matches!(e, Error::InvalidQuery(_)),
    )?;
    same(
        "users after a body waited on something else",
        &(Some(5), Some(25), 2),
        &state(ctx).await?,
    )?;

    let nested = db
        .transaction(|tx| async move {
            let inner = tx.transaction(|_| async { Ok(()) }).await;
            ensure(inner.is_err(), || {
                "a nested transaction was accepted".to_string()
            })
            .map_err(Error::InvalidQuery)?;
            Ok(())
        })
        .await;
    nested.step("a transaction refusing a nested one")?;

    db.transaction(|tx| async move { tx.delete::<ConfUser>("t2").await })
        .await
        .step("a transaction deleting t2 (its post and comment cascade)")?;
    same(
        "users after deleting t2",
        &(Some(5), None, 1),
        &state(ctx).await?,
    )?;

    // Whatever KV held before, no handle is served the old records now.
    let mut handles = vec![db.clone()];
    if ctx.has_kv() {
        handles.push(ctx.new_handle()?);
    }
    for (i, handle) in handles.iter().enumerate() {
        let t1 = handle.find::<ConfUser>("t1").await.step("find t1")?;
        same(
            &format!("t1's age, handle {i}"),
            &Some(5),
            &t1.map(|u| u.age),
        )?;
        let t2 = handle.find::<ConfUser>("t2").await.step("find t2")?;
        same(&format!("t2, handle {i}"), &None, &t2.map(|u| u.age))?;
        let post = handle.find::<ConfPost>(31).await.step("find post")?;
        same(
            &format!("cascaded post, handle {i}"),
            &None,
            &post.map(|p| p.id),
        )?;
        let comment = handle.find::<ConfComment>(310).await.step("find comment")?;
        same(
            &format!("cascaded comment, handle {i}"),
            &None,
            &comment.map(|c| c.id),
        )?;
    }
    Ok(())
}
