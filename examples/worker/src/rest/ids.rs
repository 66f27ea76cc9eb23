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

/// A new random id, natively (tests): a v4 UUID from the standard library's randomly seeded
/// hasher, which is random enough for ids and needs no dependency.
#[cfg(not(target_arch = "wasm32"))]
pub fn new_id() -> Result<String, ApiError> {
    use std::collections::hash_map::RandomState;
    use std::hash::{BuildHasher, Hasher};

    let half = || RandomState::new().build_hasher().finish();
    let bits = (u128::from(half()) << 64) | u128::from(half());
    // Version 4, variant 10xx.
    let bits = (bits & !(0xf << 76) & !(0x3 << 62)) | (0x4 << 76) | (0x2 << 62);
    let hex = format!("{bits:032x}");
    Ok(format!(
        "{}-{}-{}-{}-{}",
        hex.get(0..8).unwrap_or_default(),
        hex.get(8..12).unwrap_or_default(),
        hex.get(12..16).unwrap_or_default(),
        hex.get(16..20).unwrap_or_default(),
        hex.get(20..32).unwrap_or_default()
    ))
}
