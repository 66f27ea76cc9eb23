//! Ids of records created without one: random v4 UUIDs, as SonicJs makes them.

use crate::error::ApiError;

/// A new id: `crypto.randomUUID()` of the Workers runtime.
#[cfg(target_arch = "wasm32")]
pub(crate) fn new_id() -> Result<String, ApiError> {
    #[cfg(feature = "workers")]
    {
        use worker::js_sys::{global, Function, Reflect};
        use worker::wasm_bindgen::{JsCast, JsValue};
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
    #[cfg(not(feature = "workers"))]
    {
        Err(ApiError::internal(
            "ids are generated on wasm32 with the `workers` feature only",
        ))
    }
}

/// A new id, natively: a v4 UUID.
#[cfg(not(target_arch = "wasm32"))]
pub(crate) fn new_id() -> Result<String, ApiError> {
    Ok(uuid::Uuid::new_v4().to_string())
}
