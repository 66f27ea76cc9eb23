//! The SQL texts this isolate has sent to D1 for one statement text, kept as JavaScript
//! strings: a statement Sonic sends again (the same find on every request) is neither cast
//! again nor copied into JavaScript again (issue #14 item 2).
//!
//! What is sent depends on the text and on which parameters are integers (their markers are
//! cast, see `crate::params`), so each text keeps a few variants by that mask.

use std::cell::RefCell;

use worker::js_sys::JsString;

/// Variants kept per statement text; a text bound with other integer positions beyond these
/// is cast and converted each time.
const VARIANTS: usize = 4;

/// The sent texts of one statement text: by integer mask, the text and its length in bytes.
#[derive(Debug, Default)]
pub(crate) struct SentTexts(RefCell<Vec<(u64, JsString, usize)>>);

impl SentTexts {
    /// The text sent for `mask` and its length, made by `make` the first time.
    pub(crate) fn get_or_make(
        &self,
        mask: u64,
        make: impl FnOnce() -> (JsString, usize),
    ) -> (JsString, usize) {
        if let Some((_, text, len)) = self.0.borrow().iter().find(|(m, ..)| *m == mask) {
            return (text.clone(), *len);
        }
        let (text, len) = make();
        let mut variants = self.0.borrow_mut();
        if variants.len() < VARIANTS {
            variants.push((mask, text.clone(), len));
        }
        (text, len)
    }
}
