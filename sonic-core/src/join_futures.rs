//! Joining a few futures: what `futures_util::future::join_all` does for Sonic's handful of
//! concurrent KV writes, without its `FuturesUnordered` machinery (used past 30 futures),
//! which a Worker's wasm would carry for every output type (issue #14 item 5).

use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::task::Poll;

/// Runs `futures` concurrently; their outputs, in order. Every wake-up polls the futures not
/// yet done, in order.
pub(crate) async fn join_all<F: Future>(futures: impl IntoIterator<Item = F>) -> Vec<F::Output> {
    let mut pending: Vec<Option<Pin<Box<F>>>> = futures
        .into_iter()
        .map(|future| Some(Box::pin(future)))
        .collect();
    let mut outputs: Vec<Option<F::Output>> = pending.iter().map(|_| None).collect();
    poll_fn(|cx| {
        let mut done = true;
        for (slot, output) in pending.iter_mut().zip(outputs.iter_mut()) {
            if let Some(future) = slot {
                match future.as_mut().poll(cx) {
                    Poll::Ready(value) => {
                        *output = Some(value);
                        *slot = None;
                    }
                    Poll::Pending => done = false,
                }
            }
        }
        if done {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    })
    .await;
    outputs.into_iter().flatten().collect()
}

#[cfg(test)]
mod tests {
    use super::join_all;
    use std::future::poll_fn;
    use std::task::Poll;

    #[test]
    fn outputs_come_in_order_whatever_finishes_first() {
        // Future i is ready after 3 - i polls: the last finishes first.
        let futures = (0..3).map(|i| {
            let mut polls = 0;
            poll_fn(move |cx| {
                polls += 1;
                if polls > 3 - i {
                    Poll::Ready(i)
                } else {
                    cx.waker().wake_by_ref();
                    Poll::Pending
                }
            })
        });
        assert_eq!(pollster::block_on(join_all(futures)), [0, 1, 2]);
        assert_eq!(
            pollster::block_on(join_all(Vec::<std::future::Ready<u8>>::new())),
            Vec::<u8>::new()
        );
    }
}
