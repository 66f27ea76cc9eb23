//! The column names D1 last returned for one statement text, kept both as the JavaScript
//! array it returned and as Sonic's list. The next result of that text whose names are the
//! same strings (`===`, compared by `src/pack.js`, or here one call per name) gets the kept
//! list: no name is copied into wasm again, and the result shares one list with the others
//! (measured in Node with this crate's release settings, compared here: 0.24 against 0.76 µs
//! for four names, 0.42 against 1.44 µs for eight).
//!
//! Names are compared, never assumed, so a schema change that renames a result column
//! (`SELECT *` after a migration) reads the new names.

use std::cell::RefCell;
use std::sync::Arc;

use sonic_db_core::Result;
use worker::js_sys::Array;
use worker::wasm_bindgen::{JsCast, JsValue};

use crate::cells::column_names_of;

/// The names last read for one statement text, if any.
#[derive(Debug, Default)]
pub(crate) struct KeptNames(RefCell<Option<Kept>>);

/// Names as JavaScript returned them, and as Sonic hands them out.
#[derive(Debug)]
struct Kept {
    header: Array,
    names: Arc<[String]>,
}

impl KeptNames {
    /// The array of names last read, for `src/pack.js` to compare; `undefined` before any.
    pub(crate) fn header(&self) -> JsValue {
        match &*self.0.borrow() {
            Some(kept) => kept.header.clone().into(),
            None => JsValue::UNDEFINED,
        }
    }

    /// The names last read, if any.
    pub(crate) fn kept(&self) -> Option<Arc<[String]>> {
        self.0.borrow().as_ref().map(|kept| kept.names.clone())
    }

    /// The names in `header` (`raw()`'s first element): the kept list when `header` holds
    /// exactly the kept strings, else read from it, then kept.
    pub(crate) fn get_or_read(&self, header: &JsValue) -> Result<Arc<[String]>> {
        match self.kept_if_same(header) {
            Some(names) => Ok(names),
            None => self.read(header),
        }
    }

    /// The names in `header`, read from it (they are not the kept ones), then kept.
    pub(crate) fn read(&self, header: &JsValue) -> Result<Arc<[String]>> {
        let names: Arc<[String]> = column_names_of(header)?.into();
        if Array::is_array(header) {
            // A copy: the names are compared with what D1 returned then, even if it reused
            // and changed its array.
            *self.0.borrow_mut() = Some(Kept {
                header: Array::from(header),
                names: names.clone(),
            });
        }
        Ok(names)
    }

    /// The kept list, if `header` is an array of the kept strings in order.
    fn kept_if_same(&self, header: &JsValue) -> Option<Arc<[String]>> {
        let kept = self.0.borrow();
        let Kept {
            header: kept,
            names,
        } = kept.as_ref()?;
        if !Array::is_array(header) {
            return None;
        }
        let header: &Array = header.unchecked_ref();
        let length = header.length();
        if length != kept.length() {
            return None;
        }
        let same = (0..length).all(|i| header.get(i) == kept.get(i));
        same.then(|| names.clone())
    }
}
