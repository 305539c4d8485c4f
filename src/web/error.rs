//! The errors the JS API throws: a JS `Error` with the crate's message and a stable `code`
//! (`error.code`, one of `crate::error::ERROR_CODES`), so a program can tell them apart
//! without reading the text.

use wasm_bindgen::prelude::*;

use crate::error::VaeError;

/// A JS `Error` carrying a `code`; what every exported function rejects or throws with.
#[derive(Debug)]
pub struct ApiError(JsValue);

impl ApiError {
    pub fn new(code: &'static str, message: &str) -> Self {
        let e = js_sys::Error::new(message);
        // Setting a property on a fresh Error cannot fail; the message stands alone if it did.
        let _ = js_sys::Reflect::set(&e, &JsValue::from_str("code"), &JsValue::from_str(code));
        ApiError(e.into())
    }

    /// The error's message.
    pub fn message(&self) -> String {
        js_sys::Reflect::get(&self.0, &JsValue::from_str("message"))
            .ok()
            .and_then(|m| m.as_string())
            .unwrap_or_default()
    }

    /// A call argument out of range or of the wrong kind.
    pub fn bad_argument(message: &str) -> Self {
        Self::new("bad-argument", message)
    }

    /// A field of the config object.
    pub fn bad_config(message: &str) -> Self {
        Self::new("bad-config", message)
    }
}

impl From<VaeError> for ApiError {
    fn from(e: VaeError) -> Self {
        ApiError::new(e.code(), &e.to_string())
    }
}

impl From<ApiError> for JsValue {
    fn from(e: ApiError) -> JsValue {
        e.0
    }
}

/// Every code a rejection may carry, for `errorCodes()` (and the TypeScript union).
#[wasm_bindgen(js_name = errorCodes)]
pub fn error_codes() -> Vec<String> {
    crate::error::ERROR_CODES
        .iter()
        .map(|c| c.to_string())
        .collect()
}
