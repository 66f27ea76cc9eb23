//! Cloudflare Workers KV as a Sonic key-value store: [`WorkersKv`] implements
//! [`KvBackend`] on a Worker's KV namespace binding.
//!
//! ```no_run
//! use sonic_db_core::{CacheConfig, Db};
//! use sonic_db_d1::D1Backend;
//! use sonic_db_kv::WorkersKv;
//!
//! fn database(env: &worker::Env) -> sonic_db_core::Result<Db> {
//!     Db::new(D1Backend::from_env(env, "DB")?)
//!         .with_kv(WorkersKv::from_env(env, "KV")?, CacheConfig::new())
//! }
//! ```
//!
//! # What is checked before KV is called
//!
//! The platform's rules, exactly as [`sonic_db_core::kv::MemoryKv`] enforces them (so a native
//! test that passes does not fail on Cloudflare): keys not empty, not `.`/`..`, at most 512
//! bytes of UTF-8 ([`validate_key`], on every operation); values at most 25 MiB; metadata at
//! most 1024 bytes of JSON; an expiration TTL of at least 60 s, or an absolute expiration at
//! least 60 s in the future; at most 100 keys per bulk get; list pages of `1..=1000` keys. A
//! violation is an [`Error::Kv`] and no KV operation is spent (there are 1,000 per invocation).
//! Every failure reported by the runtime is an [`Error::Kv`] too, carrying its message and
//! naming the operation and key. Nothing here panics.
//!
//! # Bulk get
//!
//! The runtime's bulk get (`get([...keys])`, up to 100 keys, one operation) only returns
//! values as `"text"` or `"json"`: it rejects `"arrayBuffer"` ("Use \"json\" or \"text\"")
//! and decodes values as UTF-8 with replacement, so it cannot return arbitrary bytes intact.
//! [`KvBackend::get_bulk`] (bytes) therefore issues one get per key, all at once, so the
//! latency is one round trip; [`KvBackend::get_bulk_text`] (and the inherent
//! [`WorkersKv::get_bulk_text`]) use the real bulk get (chunks of 100, one operation each) for
//! values known to be UTF-8 text, such as JSON: the cache reads a record's envelope and its two
//! generations that way, in one operation.
//!
//! # Listing
//!
//! [`KvBackend::list`] maps `list({ prefix, cursor, limit })` to
//! [`KvListPage`]`{ keys, list_complete, cursor }`; the cursor is dropped on the last page.
//! Pages can be short, even empty, before the end: follow the cursor (or use
//! [`sonic_db_core::kv::list_all`]).

#[cfg(target_arch = "wasm32")]
mod namespace;
// `list_page` and `put_settings_json` are used on wasm32 only (and by the unit tests).
#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
mod rules;

use std::fmt;

#[cfg(target_arch = "wasm32")]
use sonic_db_core::kv::KvKey;
use sonic_db_core::kv::{
    check_bulk_keys, check_put, list_limit, validate_key, KvBackend, KvListOptions, KvListPage,
    KvPutOptions, MAX_BULK_GET,
};
use std::sync::Arc;

#[cfg(target_arch = "wasm32")]
use namespace::Namespace;
use sonic_db_core::cache::{Defer, Deferred};
use sonic_db_core::{Error, Result};
#[cfg(target_arch = "wasm32")]
use worker::wasm_bindgen::JsValue;
use worker::{Context, Env};

/// The `type` arguments of `get`, made JavaScript strings once per isolate.
#[cfg(target_arch = "wasm32")]
mod kind {
    use worker::wasm_bindgen::JsValue;

    thread_local! {
        pub(crate) static TEXT: JsValue = JsValue::from_str("text");
        pub(crate) static ARRAY_BUFFER: JsValue = JsValue::from_str("arrayBuffer");
    }
}

/// A Sonic key-value store on a Workers KV namespace binding. Cheap to clone.
///
/// It calls the namespace's JavaScript methods itself rather than through `worker::KvStore`,
/// whose construction reads five method objects off the binding: a `Db` is usually built
/// per request, and those reads were a measurable part of a cached read's CPU (issue #14
/// item 2). `worker`'s builders also cost wasm size that Sonic's cache never runs (item 5).
/// For the `worker` crate's own KV API, use `env.kv(binding)`.
#[derive(Clone)]
pub struct WorkersKv {
    /// The binding's JavaScript object.
    #[cfg(target_arch = "wasm32")]
    namespace: Namespace,
}

impl fmt::Debug for WorkersKv {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WorkersKv").finish_non_exhaustive()
    }
}

impl WorkersKv {
    /// A store on the KV namespace binding named `binding` in the Worker's environment; an
    /// [`Error::Kv`] when the environment has no such binding. (Natively, where there is no
    /// Workers KV, every call of the store fails.)
    pub fn from_env(env: &Env, binding: &str) -> Result<Self> {
        #[cfg(target_arch = "wasm32")]
        {
            let missing = |detail: &str| Error::Kv(format!("KV binding `{binding}`: {detail}"));
            let namespace = worker::js_sys::Reflect::get(env, &JsValue::from_str(binding))
                .map_err(|e| missing(&js_message(&e)))?;
            if !namespace.is_object() {
                return Err(missing("the environment has no such binding"));
            }
            Ok(WorkersKv {
                namespace: worker::wasm_bindgen::JsCast::unchecked_into(namespace),
            })
        }
        #[cfg(not(target_arch = "wasm32"))]
        {
            let _ = (env, binding);
            Ok(WorkersKv {})
        }
    }

    /// The values of any number of keys as UTF-8 text, in the order asked, with the runtime's
    /// bulk get: one KV operation per 100 keys.
    ///
    /// Only for values that are UTF-8 text (e.g. JSON): the runtime decodes each value as
    /// UTF-8, replacing invalid bytes with U+FFFD, and drops a leading byte-order mark. Use
    /// [`KvBackend::get_bulk`] for bytes.
    pub async fn get_bulk_text(&self, keys: &[String]) -> Result<Vec<Option<String>>> {
        keys.iter().try_for_each(|key| validate_key(key))?;
        let mut values = Vec::with_capacity(keys.len());
        for chunk in keys.chunks(MAX_BULK_GET) {
            self.bulk_text(chunk, &mut values).await?;
        }
        Ok(values)
    }

    /// One bulk get of at most 100 keys: `namespace.get(keys, "text")`, each value read from
    /// the returned `Map` by its key. (worker's bulk `text()` copies every key and value into
    /// a `HashMap` first, and the values were then cloned out of it: the warm cached read
    /// does this on every request.)
    #[cfg(target_arch = "wasm32")]
    async fn bulk_text(&self, chunk: &[String], values: &mut Vec<Option<String>>) -> Result<()> {
        use worker::js_sys::{Array, Map};
        use worker::wasm_bindgen::JsCast;

        let first = chunk.first().map_or("", |k| k);
        let fail = |e: JsValue| rules::kv_error("bulk get", first, &js_message(&e));
        let names: Array = chunk.iter().map(|key| JsValue::from_str(key)).collect();
        let found = settle(self.namespace.get(&names, &kind::TEXT.with(JsValue::clone)))
            .await
            .map_err(fail)?;
        let Some(found) = found.dyn_ref::<Map>() else {
            return Err(rules::kv_error(
                "bulk get",
                first,
                "the runtime did not return a Map",
            ));
        };
        // Looked up with the names already handed to JavaScript: no key crosses again.
        values.extend(names.iter().map(|name| found.get(&name).as_string()));
        Ok(())
    }

    /// Natively there is no Workers KV: the keys were checked, the call fails.
    #[cfg(not(target_arch = "wasm32"))]
    async fn bulk_text(&self, _chunk: &[String], _values: &mut Vec<Option<String>>) -> Result<()> {
        Err(not_in_a_worker())
    }
}

/// The operations behind the [`KvBackend`] implementation (wasm32 only: natively their futures
/// would not be `Send`, and there is no KV to call).
#[cfg(target_arch = "wasm32")]
impl WorkersKv {
    /// `namespace.get(key, "arrayBuffer")`: the value's bytes, or `None` for `null`.
    async fn get_bytes(&self, key: &str) -> Result<Option<Vec<u8>>> {
        use worker::js_sys::{ArrayBuffer, Uint8Array};
        use worker::wasm_bindgen::JsCast;

        validate_key(key)?;
        let fail = |e: JsValue| rules::kv_error("get", key, &js_message(&e));
        let kind = kind::ARRAY_BUFFER.with(JsValue::clone);
        let found = settle(self.namespace.get(&JsValue::from_str(key), &kind))
            .await
            .map_err(fail)?;
        if found.is_null() || found.is_undefined() {
            return Ok(None);
        }
        match found.dyn_ref::<ArrayBuffer>() {
            Some(buffer) => Ok(Some(Uint8Array::new(buffer).to_vec())),
            None => Err(rules::kv_error(
                "get",
                key,
                "the runtime did not return an ArrayBuffer",
            )),
        }
    }

    async fn get_many(&self, keys: &[String]) -> Result<Vec<Option<Vec<u8>>>> {
        check_bulk_keys(keys)?;
        try_join_all(keys.iter().map(|key| self.get_bytes(key))).await
    }

    /// `namespace.put(key, bytes, { expirationTtl, expiration, metadata })`, the options handed
    /// over as one JSON text read by the runtime's `JSON.parse` (one call into JavaScript
    /// instead of one per field), none when there are none.
    async fn put_bytes(&self, key: &str, value: &[u8], options: &KvPutOptions) -> Result<()> {
        use worker::js_sys::{Uint8Array, JSON};

        check_put(key, value.len(), options, now_secs())?;
        let fail = |e: JsValue| rules::kv_error("put", key, &js_message(&e));
        let settings = match rules::put_settings_json(options) {
            Some(json) => JSON::parse(&json).map_err(fail)?,
            None => JsValue::UNDEFINED,
        };
        let bytes = Uint8Array::from(value);
        settle(self.namespace.put(key, &bytes, &settings))
            .await
            .map_err(fail)?;
        Ok(())
    }

    /// `namespace.delete(key)`.
    async fn delete_key(&self, key: &str) -> Result<()> {
        validate_key(key)?;
        let fail = |e: JsValue| rules::kv_error("delete", key, &js_message(&e));
        settle(self.namespace.delete(key)).await.map_err(fail)?;
        Ok(())
    }

    /// `namespace.list({ limit, prefix, cursor })`, its answer read field by field.
    async fn list_page(&self, options: &KvListOptions) -> Result<KvListPage> {
        use worker::js_sys::{Array, Object, Reflect};
        use worker::wasm_bindgen::JsCast;

        let limit = list_limit(options)?;
        let prefix = options.prefix.as_deref().unwrap_or("");
        let fail = |e: JsValue| rules::kv_error("list prefix", prefix, &js_message(&e));
        let field = |object: &JsValue, name: &str| Reflect::get(object, &JsValue::from_str(name));
        let arguments = Object::new();
        let set = |name: &str, value: JsValue| {
            Reflect::set(&arguments, &JsValue::from_str(name), &value).map(|_| ())
        };
        set("limit", JsValue::from_f64(limit as f64)).map_err(fail)?;
        if !prefix.is_empty() {
            set("prefix", JsValue::from_str(prefix)).map_err(fail)?;
        }
        if let Some(cursor) = &options.cursor {
            set("cursor", JsValue::from_str(cursor)).map_err(fail)?;
        }
        let answer = settle(self.namespace.list(&arguments))
            .await
            .map_err(fail)?;
        let listed = field(&answer, "keys").map_err(fail)?;
        let Some(listed) = listed.dyn_ref::<Array>() else {
            return Err(rules::kv_error(
                "list prefix",
                prefix,
                "the runtime returned no keys",
            ));
        };
        let mut keys = Vec::with_capacity(listed.length() as usize);
        for key in listed.iter() {
            let name = field(&key, "name")
                .map_err(fail)?
                .as_string()
                .ok_or_else(|| {
                    rules::kv_error(
                        "list prefix",
                        prefix,
                        "the runtime returned a key without a name",
                    )
                })?;
            let expiration = field(&key, "expiration").map_err(fail)?.as_f64();
            let metadata = field(&key, "metadata").map_err(fail)?;
            keys.push(KvKey {
                name,
                expiration: expiration.map(|seconds| seconds as u64),
                metadata: json_of(&metadata)
                    .map_err(|e| rules::kv_error("list prefix", prefix, &e))?,
            });
        }
        let list_complete = field(&answer, "list_complete").map_err(fail)?.is_truthy();
        let cursor = field(&answer, "cursor").map_err(fail)?.as_string();
        Ok(rules::list_page(keys, list_complete, cursor))
    }
}

/// A key's metadata as JSON (`None` when it has none), through the runtime's own
/// `JSON.stringify` and serde_json, which the Worker links anyway.
#[cfg(target_arch = "wasm32")]
fn json_of(value: &JsValue) -> std::result::Result<Option<serde_json::Value>, String> {
    if value.is_undefined() || value.is_null() {
        return Ok(None);
    }
    let text = worker::js_sys::JSON::stringify(value)
        .map_err(|e| js_message(&e))?
        .as_string()
        .unwrap_or_default();
    serde_json::from_str(&text)
        .map(Some)
        .map_err(|e| format!("metadata that is not JSON: {e}"))
}

/// Runs the cache's fills after the response: a [`Defer`] hook on the request's
/// `Context::wait_until`, for [`Db::with_defer`](sonic_db_core::Db::with_defer). Clones share
/// the context.
///
/// ```no_run
/// use sonic_db_core::{CacheConfig, Db};
/// use sonic_db_d1::D1Backend;
/// use sonic_db_kv::{WaitUntil, WorkersKv};
///
/// fn database(env: &worker::Env, ctx: worker::Context) -> sonic_db_core::Result<Db> {
///     Ok(Db::new(D1Backend::from_env(env, "DB")?)
///         .with_kv(WorkersKv::from_env(env, "KV")?, CacheConfig::new())?
///         .with_defer(WaitUntil::new(ctx)))
/// }
/// ```
#[derive(Clone)]
pub struct WaitUntil(Arc<Context>);

impl WaitUntil {
    /// The hook of the request whose context this is.
    pub fn new(ctx: Context) -> Self {
        WaitUntil(Arc::new(ctx))
    }
}

impl fmt::Debug for WaitUntil {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WaitUntil").finish_non_exhaustive()
    }
}

impl Defer for WaitUntil {
    fn defer(&self, work: Deferred) {
        self.0.wait_until(work);
    }
}

/// What a namespace method returned, awaited: through `Promise.resolve`, so that no answer
/// reaches `JsFuture` unchecked.
#[cfg(target_arch = "wasm32")]
async fn settle(
    returned: std::result::Result<JsValue, JsValue>,
) -> std::result::Result<JsValue, JsValue> {
    use worker::js_sys::Promise;
    use worker::wasm_bindgen_futures::JsFuture;

    JsFuture::from(Promise::resolve(&returned?)).await
}

/// The current time, Unix seconds (for the absolute-expiration check).
#[cfg(target_arch = "wasm32")]
fn now_secs() -> u64 {
    let ms = worker::js_sys::Date::now();
    if ms.is_finite() && ms > 0.0 {
        (ms / 1000.0) as u64
    } else {
        0
    }
}

/// The message of a thrown JavaScript value, read with `Reflect` so that no value can make
/// this fail.
#[cfg(target_arch = "wasm32")]
fn js_message(value: &JsValue) -> String {
    if let Some(text) = value.as_string() {
        return text;
    }
    if value.is_object() {
        if let Some(message) = worker::js_sys::Reflect::get(value, &JsValue::from_str("message"))
            .ok()
            .and_then(|m| m.as_string())
        {
            return message;
        }
    }
    let kind = value.js_typeof().as_string().unwrap_or_default();
    format!("the runtime threw a JavaScript {kind}")
}

#[cfg(target_arch = "wasm32")]
#[async_trait::async_trait(?Send)]
impl KvBackend for WorkersKv {
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>> {
        self.get_bytes(key).await
    }

    async fn get_bulk(&self, keys: &[String]) -> Result<Vec<Option<Vec<u8>>>> {
        self.get_many(keys).await
    }

    async fn get_bulk_text(&self, keys: &[String]) -> Result<Vec<Option<String>>> {
        check_bulk_keys(keys)?;
        WorkersKv::get_bulk_text(self, keys).await
    }

    async fn put(&self, key: &str, value: &[u8], options: &KvPutOptions) -> Result<()> {
        self.put_bytes(key, value, options).await
    }

    async fn delete(&self, key: &str) -> Result<()> {
        self.delete_key(key).await
    }

    async fn list(&self, options: &KvListOptions) -> Result<KvListPage> {
        self.list_page(options).await
    }
}

/// Natively there is no Workers KV: arguments are checked as on wasm32, then calls fail.
#[cfg(not(target_arch = "wasm32"))]
#[async_trait::async_trait]
impl KvBackend for WorkersKv {
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>> {
        validate_key(key)?;
        Err(not_in_a_worker())
    }

    async fn get_bulk(&self, keys: &[String]) -> Result<Vec<Option<Vec<u8>>>> {
        check_bulk_keys(keys)?;
        Err(not_in_a_worker())
    }

    async fn put(&self, key: &str, value: &[u8], options: &KvPutOptions) -> Result<()> {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        check_put(key, value.len(), options, now)?;
        Err(not_in_a_worker())
    }

    async fn delete(&self, key: &str) -> Result<()> {
        validate_key(key)?;
        Err(not_in_a_worker())
    }

    async fn list(&self, options: &KvListOptions) -> Result<KvListPage> {
        list_limit(options)?;
        Err(not_in_a_worker())
    }
}

#[cfg(not(target_arch = "wasm32"))]
fn not_in_a_worker() -> Error {
    Error::Kv(
        "Workers KV is only available inside a Cloudflare Worker (wasm32); use \
         sonic_db_core::MemoryKv natively"
            .to_string(),
    )
}

/// Runs `futures` concurrently: their values in order, or the first error seen (the others
/// are dropped). Every wake-up polls the futures not yet done, in order. What
/// `futures_util::future::try_join_all` does for up to 30 futures (a bulk get has at most
/// 100), without its `FuturesUnordered` machinery for more, which a Worker's wasm would carry
/// (issue #14 item 5).
#[cfg(target_arch = "wasm32")]
async fn try_join_all<T, F>(futures: impl IntoIterator<Item = F>) -> Result<Vec<T>>
where
    F: std::future::Future<Output = Result<T>>,
{
    use std::task::Poll;
    let mut pending: Vec<Option<std::pin::Pin<Box<F>>>> = futures
        .into_iter()
        .map(|future| Some(Box::pin(future)))
        .collect();
    let mut values: Vec<Option<T>> = pending.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut done = true;
        for (slot, value) in pending.iter_mut().zip(values.iter_mut()) {
            if let Some(future) = slot {
                match future.as_mut().poll(cx) {
                    Poll::Ready(Ok(ready)) => {
                        *value = Some(ready);
                        *slot = None;
                    }
                    Poll::Ready(Err(error)) => return Poll::Ready(Err(error)),
                    Poll::Pending => done = false,
                }
            }
        }
        if done {
            Poll::Ready(Ok(()))
        } else {
            Poll::Pending
        }
    })
    .await?;
    Ok(values.into_iter().flatten().collect())
}
