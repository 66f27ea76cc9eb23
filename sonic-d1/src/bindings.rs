//! The D1 bindings this isolate has already found and checked, by name and environment.
//!
//! A Worker usually builds its `Db` per request, and `Env::d1` reads the binding and then its
//! constructor's name (four calls into JavaScript and a string copied into wasm) every time.
//! When a request's environment is the very object an earlier request had (one identity
//! check, `Object.is`), a binding found in it once is handed out again. Another environment,
//! or another name, is looked up and checked afresh, so the memo can only skip work.

use std::cell::RefCell;

use worker::js_sys::Object;
use worker::wasm_bindgen::{JsCast, JsValue};
use worker::{D1Database, Env};

/// How many bindings are remembered; past that the oldest is forgotten.
const CAPACITY: usize = 8;

/// A binding found by name in an environment.
struct Found {
    env: JsValue,
    name: String,
    binding: JsValue,
}

thread_local! {
    static FOUND: RefCell<Vec<Found>> = const { RefCell::new(Vec::new()) };
}

/// The binding `name` of `env` if this isolate has found it in that very object before.
pub(crate) fn remembered(env: &Env, name: &str) -> Option<D1Database> {
    FOUND.with(|found| {
        found
            .borrow()
            .iter()
            .find(|f| f.name == name && Object::is(&f.env, env))
            .map(|f| f.binding.clone().unchecked_into())
    })
}

/// Remembers that `binding` is the D1 binding `name` of `env` (as `Env::d1` checked it).
pub(crate) fn remember(env: &Env, name: &str, binding: &D1Database) {
    FOUND.with(|found| {
        let mut found = found.borrow_mut();
        if found.len() >= CAPACITY {
            found.remove(0);
        }
        found.push(Found {
            env: JsValue::from(env.clone()),
            name: name.to_owned(),
            binding: binding.as_ref().clone(),
        });
    });
}
