//! What the backend reads from a statement's SQL text, once per isolate: its [`Shape`] and its
//! parameter [`Marker`]s. The statements Sonic builds repeat from request to request (a `find`
//! sends the same text every time), so each text is tokenized once per isolate rather than
//! once per statement sent (#14 item 3).

use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use sonic_db_core::Statement;

use crate::params::{markers, Marker};
use crate::shape::Shape;

/// How many SQL texts are remembered per isolate (per thread natively). Past that the memo
/// starts over, so an application that sends ever-new SQL text pays one lookup more than
/// before, never unbounded memory.
const MEMO_CAPACITY: usize = 512;

thread_local! {
    /// The analyses of the SQL texts seen by this isolate.
    static MEMO: RefCell<HashMap<String, Analysis>> = RefCell::new(HashMap::new());
    /// The same for `'static` texts, by address and length: such a text never moves nor
    /// changes, so those two words name it, and finding it compares them instead of hashing
    /// and comparing the whole text (Sonic's own statements are `'static` texts, memoized by
    /// shape; hashing and comparing a 300-byte insert text took ≈ 0.3 µs per statement).
    /// Direct-mapped: a text whose slot holds another is looked up by text (and takes it).
    static BY_ADDRESS: RefCell<[Option<StaticEntry>; ADDRESS_SLOTS]> =
        const { RefCell::new([const { None }; ADDRESS_SLOTS]) };
}

/// Slots of the by-address memo; Sonic sends a few dozen distinct texts.
const ADDRESS_SLOTS: usize = 64;

/// A `'static` text's address and length, and its analysis.
type StaticEntry = ((usize, usize), Analysis);

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
    /// The column names its last result had.
    #[cfg(target_arch = "wasm32")]
    pub(crate) names: Rc<crate::names::KeptNames>,
}

impl Analysis {
    /// Tokenizes `sql`.
    fn of(sql: &str) -> Analysis {
        Analysis {
            shape: Shape::of(sql),
            markers: markers(sql).into(),
            #[cfg(target_arch = "wasm32")]
            sent: Rc::default(),
            #[cfg(target_arch = "wasm32")]
            names: Rc::default(),
        }
    }

    /// [`Analysis::of`] a statement's text, remembered per isolate: by address for a
    /// `'static` text, else by text.
    pub(crate) fn of_statement(statement: &Statement) -> Analysis {
        match &statement.sql {
            Cow::Borrowed(text) => Self::of_static(text),
            Cow::Owned(text) => Self::of_memoized(text),
        }
    }

    /// [`Analysis::of_memoized`] for a `'static` text, found by its address first. The by-text
    /// memo's answer is what is kept, so a text seen both ways shares its sent texts and names.
    fn of_static(sql: &'static str) -> Analysis {
        let address = (sql.as_ptr() as usize, sql.len());
        // A heap text's low three address bits are zero; the length keeps a text and its own
        // prefixes apart.
        let slot = (address.0 >> 3).wrapping_add(address.1) % ADDRESS_SLOTS;
        BY_ADDRESS.with(|memo| {
            if let Some(Some((kept, analysis))) = memo.borrow().get(slot) {
                if *kept == address {
                    return analysis.clone();
                }
            }
            let analysis = Self::of_memoized(sql);
            if let Some(entry) = memo.borrow_mut().get_mut(slot) {
                *entry = Some((address, analysis.clone()));
            }
            analysis
        })
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
    fn static_texts_found_by_address_are_their_own() {
        // A prefix of a text starts at its address: the length tells the two apart.
        const WHOLE: &str = "SELECT ? FROM t WHERE a = ? RETURNING id";
        let prefix: &'static str = &WHOLE[..8];
        for _ in 0..2 {
            for sql in [WHOLE, prefix, "UPDATE t SET a = '?' WHERE b = ?", ""] {
                let by_address = Analysis::of_statement(&Statement::new(sql, vec![]));
                let by_text = Analysis::of_statement(&Statement::new(sql.to_owned(), vec![]));
                assert_eq!(read(by_address), read(Analysis::of(sql)), "{sql}");
                assert_eq!(read(by_text), read(Analysis::of(sql)), "{sql}");
            }
        }
        let markers =
            |sql: &'static str| Analysis::of_statement(&Statement::new(sql, vec![])).markers;
        assert_eq!((markers(prefix).len(), markers(WHOLE).len()), (1, 2));
    }

    /// What an analysis says of its text.
    fn read(a: Analysis) -> (Shape, Rc<[Marker]>) {
        (a.shape, a.markers)
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
