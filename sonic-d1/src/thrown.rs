//! Exceptions thrown by the D1 binding (or by `crate::pack`) as Sonic errors.

use sonic_db_core::Error;
use worker::js_sys::Reflect;
use worker::wasm_bindgen::JsValue;

use crate::rules::error_from_message;

/// An exception thrown by the D1 binding as an [`Error`], classified by SQLite's message.
pub(crate) fn js_error(error: JsValue) -> Error {
    error_from_message(&js_message(&error))
}

/// The message of a thrown JavaScript value. D1 throws
/// `Error("D1_ERROR: <msg>", { cause: Error("<msg>") })`; the outer message is used, its
/// cause's when the outer one is empty. Properties are read with `Reflect`, so an odd thrown
/// value (a string, an object with a throwing getter) cannot make this fail.
fn js_message(error: &JsValue) -> String {
    if let Some(text) = error.as_string() {
        return text;
    }
    let message_of = |value: &JsValue| {
        Reflect::get(value, &JsValue::from_str("message"))
            .ok()
            .and_then(|m| m.as_string())
    };
    if error.is_object() {
        if let Some(message) = message_of(error).filter(|m| !m.trim().is_empty()) {
            return message;
        }
        if let Some(message) = Reflect::get(error, &JsValue::from_str("cause"))
            .ok()
            .filter(JsValue::is_object)
            .and_then(|cause| message_of(&cause))
        {
            return message;
        }
    }
    let kind = error.js_typeof().as_string().unwrap_or_default();
    format!("D1 failed with a JavaScript {kind} and no message")
}
