//! Ids for records posted without one: random UUIDs (v4), as SonicJs generates them.

use super::error::ApiError;

/// A new random id: `crypto.randomUUID()` of the Workers runtime.
#[cfg(target_arch = "wasm32")]
pub fn new_id() -> Result<String, ApiError> {
    use worker::js_sys::{global, Function, Reflect};
    use worker::wasm_bindgen::{JsCast, JsValue};

    // Every step is fallible in JavaScript terms; none may panic.
    let crypto = Reflect::get(&global(), &JsValue::from_str("crypto")).ok();
    let uuid = crypto.and_then(|crypto| {
        let random_uuid = Reflect::get(&crypto, &JsValue::from_str("randomUUID"))
            .ok()?
            .dyn_into::<Function>()
            .ok()?;
        random_uuid.call0(&crypto).ok()?.as_string()
    });
    uuid.ok_or_else(|| ApiError::internal("crypto.randomUUID() is not available"))
}

/// A new random id, natively (tests): a v4 UUID.
#[cfg(not(target_arch = "wasm32"))]
pub fn new_id() -> Result<String, ApiError> {
    Ok(uuid::Uuid::new_v4().to_string())
}
