//! The D1 methods [`crate::D1Backend`] calls beyond `worker-sys`'s bindings, bound directly.
//!
//! `prepare` takes its SQL as a JavaScript string the isolate keeps (`crate::sent`), so a text
//! sent again crosses into JavaScript no more; `raw` takes its options argument, which
//! `worker-sys` 0.8.7 leaves out (a `Reflect.get` of the method and a fresh options object per
//! statement before, issue #14 item 2).

use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen::JsValue;
use worker::js_sys::JsString;
use worker_sys::types::D1PreparedStatement;

#[wasm_bindgen]
extern "C" {
    /// A `D1Database` or a `D1DatabaseSession`: both prepare statements.
    pub(crate) type Preparer;

    /// `prepare(query)`.
    #[wasm_bindgen(method, catch)]
    pub(crate) fn prepare(
        this: &Preparer,
        query: &JsString,
    ) -> Result<D1PreparedStatement, JsValue>;

    /// A `D1PreparedStatement`, for the methods `worker-sys` binds otherwise.
    pub(crate) type Statement;

    /// `raw(options)`.
    #[wasm_bindgen(method, catch)]
    pub(crate) fn raw(this: &Statement, options: &JsValue) -> Result<JsValue, JsValue>;
}
