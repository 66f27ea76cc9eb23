//! The methods of a KV namespace binding that [`crate::WorkersKv`] calls, bound directly.
//!
//! Looking a method up by name (`Reflect.get`) and applying it to an argument array cost
//! three calls into JavaScript per operation on top of the call itself; a bound method is one
//! (issue #14 item 2). Each returns what the runtime returned, for `Promise.resolve`.

use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen::JsValue;
use worker::js_sys::Uint8Array;

#[wasm_bindgen]
extern "C" {
    /// A `KVNamespace` binding.
    #[derive(Clone)]
    pub(crate) type Namespace;

    /// `get(key, type)`, or the bulk `get(keys, type)`.
    #[wasm_bindgen(method, catch)]
    pub(crate) fn get(this: &Namespace, keys: &JsValue, kind: &JsValue)
        -> Result<JsValue, JsValue>;

    /// `put(key, value, options)`.
    #[wasm_bindgen(method, catch)]
    pub(crate) fn put(
        this: &Namespace,
        key: &str,
        value: &Uint8Array,
        options: &JsValue,
    ) -> Result<JsValue, JsValue>;

    /// `delete(key)`.
    #[wasm_bindgen(method, catch)]
    pub(crate) fn delete(this: &Namespace, key: &str) -> Result<JsValue, JsValue>;

    /// `list(options)`.
    #[wasm_bindgen(method, catch)]
    pub(crate) fn list(this: &Namespace, options: &JsValue) -> Result<JsValue, JsValue>;
}
