//! Shapes of filtered statements: everything a statement's text depends on and none of the
//! values it binds, so that every statement of one shape shares one text, written once.
//!
//! A select with a filter is otherwise written anew at every call (its quoting, its `WHERE`,
//! its `ORDER BY`), which costs more than SQLite's lookup of the prepared statement; a shape
//! is a few words compared and hashed instead.

use std::collections::HashMap;
use std::sync::RwLock;

use crate::schema::TableDef;
use crate::sql::filter::Expr;
use crate::sql::order::Direction;

/// Words of a shape. A statement whose shape needs more (a filter of many terms) is written
/// every time, as before.
const WORDS: usize = 16;

/// How many texts are kept: every length of an `IN` list is a shape of its own, so the memo
/// is bounded; statements of shapes beyond it are written every time.
const MAX_SHAPES: usize = 1024;

/// What a statement's text depends on, as words: the kind of statement, the table, its head,
/// the filter's tree (operators, columns, list lengths), the order and the paging literals.
/// Compared by the words in use; hashed as they are added, so the memo's lookup hashes one
/// word.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Shape {
    len: usize,
    words: [u64; WORDS],
    hash: u64,
}

impl Shape {
    fn used(&self) -> &[u64] {
        self.words.get(..self.len).unwrap_or(&self.words)
    }
}

impl PartialEq for Shape {
    fn eq(&self, other: &Shape) -> bool {
        self.hash == other.hash && self.used() == other.used()
    }
}

impl Eq for Shape {}

impl std::hash::Hash for Shape {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        state.write_u64(self.hash);
    }
}

/// `hash` with `word` added (FxHash's step: the memo's hasher spreads the result).
fn mix(hash: u64, word: u64) -> u64 {
    (hash.rotate_left(5) ^ word).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95)
}

/// The kinds of statement that carry a filter, each written by its own function.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Kind {
    Select,
    Count,
    Exists,
    Joined,
}

impl Shape {
    /// The start of a shape: the statement's kind, its table, its head when it has one of
    /// its own (a memoized text, by address: one address, one text) and whether integers are
    /// read as text (which changes the select list).
    pub(crate) fn new(
        kind: Kind,
        table: &'static TableDef,
        head: Option<&'static str>,
        integers_as_text: bool,
    ) -> Shape {
        let mut shape = Shape {
            len: 0,
            words: [0; WORDS],
            hash: 0,
        };
        for word in [
            kind as u64 | u64::from(integers_as_text) << 8,
            std::ptr::from_ref(table) as usize as u64,
            head.map_or(0, |h| h.as_ptr() as usize as u64),
        ] {
            // Three of `WORDS` words: always room.
            let _ = shape.push(word);
        }
        shape
    }

    fn push(&mut self, word: u64) -> Option<()> {
        *self.words.get_mut(self.len)? = word;
        self.len += 1;
        self.hash = mix(self.hash, word);
        Some(())
    }

    /// A node of the tree: its tag, flags, and a column, relation or count.
    fn node(&mut self, tag: u64, flags: u64, index: usize) -> Option<()> {
        self.push(tag | flags << 8 | (index as u64) << 16)
    }

    /// Adds a filter; `None` if it does not fit (or holds an operand that failed to
    /// convert, which is reported when written). In place: a shape is 144 bytes.
    pub(crate) fn filter(&mut self, filter: Option<&Expr>) -> Option<()> {
        match filter {
            None => self.push(0),
            Some(expr) => self.expr(expr),
        }
    }

    fn expr(&mut self, expr: &Expr) -> Option<()> {
        match expr {
            Expr::Compare { column, op, .. } => self.node(1, *op as u64, *column),
            Expr::Like {
                column,
                negated,
                escaped,
                ..
            } => self.node(2, u64::from(*negated) | u64::from(*escaped) << 1, *column),
            Expr::In {
                column,
                values,
                negated,
            } => {
                self.node(3, u64::from(*negated), *column)?;
                self.push(values.len() as u64)
            }
            Expr::Null { column, negated } => self.node(4, u64::from(*negated), *column),
            Expr::Between { column, .. } => self.node(5, 0, *column),
            Expr::And(parts) | Expr::Or(parts) => {
                let and = matches!(expr, Expr::And(_));
                self.node(6, u64::from(and), parts.len())?;
                parts.iter().try_for_each(|part| self.expr(part))
            }
            Expr::Not(inner) => {
                self.node(7, 0, 0)?;
                self.expr(inner)
            }
            Expr::Related {
                relation,
                filter,
                negated,
            } => {
                self.node(8, u64::from(*negated), *relation)?;
                self.expr(filter)
            }
            Expr::Invalid { .. } => None,
        }
    }

    /// Adds an order, a limit and an offset (written as literals).
    pub(crate) fn paging(
        &mut self,
        order: &[(usize, Direction)],
        limit: Option<u64>,
        offset: Option<u64>,
    ) -> Option<()> {
        for (column, direction) in order {
            self.node(9, u64::from(*direction == Direction::Desc), *column)?;
        }
        for (tag, count) in [(10, limit), (11, offset)] {
            if let Some(n) = count {
                self.node(tag, 0, 0)?;
                self.push(n)?;
            }
        }
        Some(())
    }
}

/// The texts written so far, by shape.
static TEXTS: RwLock<HashMap<Shape, &'static str, foldhash::fast::FixedState>> = RwLock::new(
    HashMap::with_hasher(foldhash::fast::FixedState::with_seed(0)),
);

/// The text of `shape`, if one was written.
pub(crate) fn text(shape: &Shape) -> Option<&'static str> {
    #[cfg(not(target_arch = "wasm32"))]
    if let Some(text) = recent::find(shape) {
        return Some(text);
    }
    // Entries are only ever added whole, so a poisoned lock is still consistent.
    let found = TEXTS
        .read()
        .unwrap_or_else(|e| e.into_inner())
        .get(shape)
        .copied();
    #[cfg(not(target_arch = "wasm32"))]
    if let Some(text) = found {
        recent::keep(shape, text);
    }
    found
}

/// Texts this thread found in [`TEXTS`], by their shape's hash: found again without the lock
/// and the map's probe, a third of a filtered select's building natively. Not on wasm32, where
/// a request waits milliseconds for its database and the code would grow the Worker.
#[cfg(not(target_arch = "wasm32"))]
mod recent {
    use std::cell::RefCell;

    use super::Shape;

    /// Slots (a power of two).
    const SLOTS: usize = 8;

    thread_local! {
        static RECENT: RefCell<[Option<(Shape, &'static str)>; SLOTS]> =
            const { RefCell::new([None; SLOTS]) };
    }

    /// The hash's top bits: its last step is a multiplication, which mixes upwards.
    fn slot(shape: &Shape) -> usize {
        (shape.hash >> 61) as usize % SLOTS
    }

    pub(super) fn find(shape: &Shape) -> Option<&'static str> {
        RECENT.with(|recent| match recent.borrow().get(slot(shape)) {
            Some(Some((known, text))) if known == shape => Some(*text),
            _ => None,
        })
    }

    pub(super) fn keep(shape: &Shape, text: &'static str) {
        RECENT.with(|recent| {
            if let Some(entry) = recent.borrow_mut().get_mut(slot(shape)) {
                *entry = Some((*shape, text));
            }
        });
    }
}

/// Keeps `sql` as the text of `shape` (leaked once; at most [`MAX_SHAPES`] of them).
pub(crate) fn remember(shape: Shape, sql: &str) {
    let mut texts = TEXTS.write().unwrap_or_else(|e| e.into_inner());
    if texts.len() < MAX_SHAPES && !texts.contains_key(&shape) {
        texts.insert(shape, Box::leak(sql.into()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::EMPTY_NOTES as NOTES;
    use crate::sql::filter::CmpOp;
    use crate::value::Value;

    fn compare(column: usize, op: CmpOp, value: i64) -> Expr {
        Expr::Compare {
            column,
            op,
            value: Value::Integer(value),
        }
    }

    fn shape(filter: &Expr) -> Option<Shape> {
        let mut shape = Shape::new(Kind::Select, &NOTES, None, false);
        shape.filter(Some(filter)).map(|()| shape)
    }

    fn paged(
        order: &[(usize, Direction)],
        limit: Option<u64>,
        offset: Option<u64>,
    ) -> Option<Shape> {
        let mut shape = Shape::new(Kind::Select, &NOTES, None, false);
        shape.paging(order, limit, offset).map(|()| shape)
    }

    #[test]
    fn values_are_not_part_of_a_shape() {
        assert_eq!(
            shape(&compare(1, CmpOp::Eq, 1)),
            shape(&compare(1, CmpOp::Eq, 2))
        );
    }

    #[test]
    fn what_the_text_depends_on_is() {
        let base = shape(&compare(1, CmpOp::Eq, 1));
        assert_ne!(base, shape(&compare(2, CmpOp::Eq, 1)));
        assert_ne!(base, shape(&compare(1, CmpOp::Lt, 1)));
        let list = |n: i64| Expr::In {
            column: 1,
            values: (0..n).map(Value::Integer).collect(),
            negated: false,
        };
        assert_ne!(shape(&list(2)), shape(&list(3)));
        let and = shape(&Expr::And(vec![compare(1, CmpOp::Eq, 1)]));
        let or = shape(&Expr::Or(vec![compare(1, CmpOp::Eq, 1)]));
        assert_ne!(and, or);
        let plain = Shape::new(Kind::Select, &NOTES, None, false);
        assert_ne!(paged(&[], Some(1), None), paged(&[], None, Some(1)));
        assert_ne!(paged(&[], Some(20), None), paged(&[], Some(21), None));
        assert_ne!(
            paged(&[(1, Direction::Asc)], None, None),
            paged(&[(1, Direction::Desc)], None, None)
        );
        assert_ne!(plain, Shape::new(Kind::Count, &NOTES, None, false));
        assert_ne!(plain, Shape::new(Kind::Select, &NOTES, None, true));
    }

    #[test]
    fn texts_found_again_are_their_own_shapes_texts() {
        static TABLE: TableDef = TableDef {
            name: "recent",
            ..NOTES
        };
        let shapes: Vec<(Shape, String)> = (0..32)
            .map(|column| {
                let mut shape = Shape::new(Kind::Count, &TABLE, None, false);
                shape.filter(Some(&compare(column, CmpOp::Eq, 0))).unwrap();
                (shape, format!("text {column}"))
            })
            .collect();
        for (shape, sql) in &shapes {
            assert_eq!(text(shape), None);
            remember(*shape, sql);
        }
        // Every shape twice, in turns: more shapes than a thread keeps, so slots are taken
        // over.
        for _ in 0..2 {
            for (shape, sql) in &shapes {
                assert_eq!(text(shape), Some(sql.as_str()));
            }
        }
    }

    #[test]
    fn a_tree_too_big_has_no_shape() {
        let many = Expr::And(
            (0..WORDS as i64)
                .map(|n| compare(1, CmpOp::Eq, n))
                .collect(),
        );
        assert_eq!(shape(&many), None);
        let invalid = Expr::Invalid {
            column: 1,
            error: crate::value::ConvertError::new("an INTEGER", "NaN"),
        };
        assert_eq!(shape(&invalid), None);
    }
}
