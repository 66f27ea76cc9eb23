//! JavaScript values of a D1 result read one by one, as [`JsCell`]s: what `crate::pack` does
//! not pack, and results of another shape (what they mean is `crate::decode`'s business).

use sonic_db_core::Result;
use worker::js_sys::{Array, ArrayBuffer, BigInt, Float64Array, Uint8Array};
use worker::wasm_bindgen::{JsCast, JsValue};

use crate::decode::{column_names, JsCell, RawItem};

/// An element of `raw()`'s output: an array (of column names, or of a row's cells) with its
/// elements classified, or not an array.
pub(crate) fn raw_item(item: &JsValue) -> RawItem {
    if Array::is_array(item) {
        RawItem::Array(
            item.unchecked_ref::<Array>()
                .iter()
                .map(|cell| classify(&cell))
                .collect(),
        )
    } else {
        RawItem::NotAnArray
    }
}

/// The column names in `header`, `raw()`'s first element.
pub(crate) fn column_names_of(header: &JsValue) -> Result<Vec<String>> {
    column_names(raw_item(header))
}

/// A JavaScript value of a result as a [`JsCell`] (what it means is
/// [`cell_to_value`](crate::decode::cell_to_value)'s business). D1 sends `null`, numbers,
/// strings and BLOBs as arrays of numbers; booleans, `BigInt`s, `ArrayBuffer`s and typed arrays
/// are classified too in case a runtime sends them.
///
/// Each test is a call into JavaScript, so the likeliest comes first: text (names, titles,
/// relations' JSON, and INTEGERs beyond ±(2^53 − 1)), then numbers. A text cell costs one
/// call, a number two, a `NULL` three.
pub(crate) fn classify(cell: &JsValue) -> JsCell {
    if let Some(s) = cell.as_string() {
        return JsCell::String(s);
    }
    if let Some(n) = cell.as_f64() {
        return JsCell::Number(n);
    }
    if cell.is_null_or_undefined() {
        return JsCell::Null;
    }
    if let Some(b) = cell.as_bool() {
        return JsCell::Bool(b);
    }
    if cell.is_bigint() {
        return JsCell::BigInt(
            cell.unchecked_ref::<BigInt>()
                .to_string(10)
                .ok()
                .and_then(|s| s.as_string()),
        );
    }
    if Array::is_array(cell) {
        // One copy into wasm memory; non-numbers become NaN and are refused as bytes.
        return JsCell::Numbers(Float64Array::new(cell).to_vec());
    }
    if let Some(bytes) = cell.dyn_ref::<Uint8Array>() {
        return JsCell::Bytes(bytes.to_vec());
    }
    if let Some(buffer) = cell.dyn_ref::<ArrayBuffer>() {
        return JsCell::Bytes(Uint8Array::new(buffer).to_vec());
    }
    JsCell::Other(cell.js_typeof().as_string().unwrap_or_default())
}
