//! What the backend reads from a statement's SQL text, once per isolate: its [`Shape`] and its
//! parameter [`Marker`]s. The statements Sonic builds repeat from request to request (a `find`
//! sends the same text every time), so each text is tokenized once per isolate rather than
//! once per statement sent (#14 item 3).

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use crate::params::{markers, Marker};
use crate::shape::Shape;

/// How many SQL texts are remembered per isolate (per thread natively). Past that the memo
/// starts over, so an application that sends ever-new SQL text pays one lookup more than
/// before, never unbounded memory.
const MEMO_CAPACITY: usize = 512;

thread_local! {
    /// The analyses of the SQL texts seen by this isolate.
    static MEMO: RefCell<HashMap<String, Analysis>> = RefCell::new(HashMap::new());
}

/// A statement's text, analysed.
#[derive(Debug, Clone)]
pub(crate) struct Analysis {
    /// The kind of result it gives.
    pub(crate) shape: Shape,
    /// Its bound-parameter markers, in order.
    pub(crate) markers: Rc<[Marker]>,
    /// What was sent for it, kept with it (so looked up with it).
    #[cfg(target_arch = "wasm32")]
    pub(crate) sent: Rc<crate::sent::SentTexts>,
}

impl Analysis {
    /// Tokenizes `sql`.
    fn of(sql: &str) -> Analysis {
        Analysis {
            shape: Shape::of(sql),
            markers: markers(sql).into(),
            #[cfg(target_arch = "wasm32")]
            sent: Rc::default(),
        }
    }

    /// [`Analysis::of`], remembered per isolate by SQL text.
    pub(crate) fn of_memoized(sql: &str) -> Analysis {
        MEMO.with(|memo| {
            if let Some(analysis) = memo.borrow().get(sql) {
                return analysis.clone();
            }
            let analysis = Analysis::of(sql);
            let mut memo = memo.borrow_mut();
            if memo.len() >= MEMO_CAPACITY {
                memo.clear();
            }
            memo.insert(sql.to_owned(), analysis.clone());
            analysis
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembered_answers_are_the_fresh_ones() {
        let read = |a: Analysis| (a.shape, a.markers);
        for sql in [
            "SELECT ?, :a, ?5, :a",
            "INSERT INTO t (a) VALUES (?) RETURNING *",
            "UPDATE t SET a = '?' WHERE b = ?",
            "",
        ] {
            assert_eq!(
                read(Analysis::of_memoized(sql)),
                read(Analysis::of(sql)),
                "{sql}"
            );
            assert_eq!(
                read(Analysis::of_memoized(sql)),
                read(Analysis::of(sql)),
                "{sql}"
            );
        }
    }

    #[test]
    fn the_memo_forgets_everything_past_its_capacity_and_keeps_answering() {
        for i in 0..MEMO_CAPACITY + 3 {
            let sql = format!("INSERT INTO t VALUES ({i}) RETURNING id");
            assert_eq!(Analysis::of_memoized(&sql).shape, Shape::Returning);
        }
        MEMO.with(|memo| assert!(memo.borrow().len() <= MEMO_CAPACITY));
        assert_eq!(Analysis::of_memoized("SELECT 1").shape, Shape::Rows);
    }
}
