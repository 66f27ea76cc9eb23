//! Helpers of the Workers KV backend, as plain functions (tested natively). The platform rules
//! checked before a call reaches Workers KV are sonic-db-core's ([`sonic_db_core::kv`]'s
//! `validate_key`, `check_bulk_keys`, `check_put`, `list_limit`), the ones
//! [`sonic_db_core::kv::MemoryKv`] enforces, so code tested against the in-memory store fails
//! the same way here, with the same message, and without a round trip.

use sonic_db_core::kv::{KvKey, KvListPage, KvPutOptions};
use sonic_db_core::Error;

/// A list page in the trait's terms. The cursor is kept only while the list is incomplete
/// (the runtime may send an empty string or omit it on the last page).
pub(crate) fn list_page(
    keys: Vec<KvKey>,
    list_complete: bool,
    cursor: Option<String>,
) -> KvListPage {
    KvListPage {
        keys,
        list_complete,
        cursor: cursor.filter(|c| !list_complete && !c.is_empty()),
    }
}

/// An [`Error::Kv`] naming the operation and key.
pub(crate) fn kv_error(operation: &str, key: &str, detail: &str) -> Error {
    Error::Kv(format!("{operation} `{key}`: {detail}"))
}

/// The options object of a `put`, in the runtime's names; absent options are left out.
#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct PutSettings<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    expiration_ttl: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    expiration: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    metadata: Option<&'a serde_json::Value>,
}

/// The options object of a `put` as JSON text (`expirationTtl`, `expiration`, `metadata`, as
/// given), or `None` when there are none.
pub(crate) fn put_settings_json(options: &KvPutOptions) -> Option<String> {
    let settings = PutSettings {
        expiration_ttl: options.expiration_ttl,
        expiration: options.expiration,
        metadata: options.metadata.as_ref(),
    };
    // Numbers and a JSON value always serialise (an empty text would fail `JSON.parse`).
    let json = serde_json::to_string(&settings).unwrap_or_default();
    (json != "{}").then_some(json)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn put_settings_carry_each_option_given_and_nothing_else() {
        assert_eq!(put_settings_json(&KvPutOptions::default()), None);
        let all = KvPutOptions {
            expiration_ttl: Some(120),
            expiration: Some(1_900_000_000),
            metadata: Some(serde_json::json!({ "v": 2, "tag": "a\"b" })),
        };
        let json: serde_json::Value =
            serde_json::from_str(&put_settings_json(&all).unwrap()).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "expirationTtl": 120,
                "expiration": 1_900_000_000,
                "metadata": { "v": 2, "tag": "a\"b" },
            })
        );
        let ttl_only = KvPutOptions {
            expiration_ttl: Some(60),
            ..KvPutOptions::default()
        };
        assert_eq!(
            put_settings_json(&ttl_only).as_deref(),
            Some(r#"{"expirationTtl":60}"#)
        );
    }

    #[test]
    fn pages() {
        let page = list_page(Vec::new(), false, Some("c1".into()));
        assert_eq!(page.cursor.as_deref(), Some("c1"));
        assert!(!page.list_complete);
        assert_eq!(list_page(Vec::new(), true, Some("c1".into())).cursor, None);
        assert_eq!(
            list_page(Vec::new(), true, Some(String::new())).cursor,
            None
        );
        assert_eq!(
            list_page(Vec::new(), false, Some(String::new())).cursor,
            None
        );
    }

    #[test]
    fn errors_name_the_operation() {
        let e = kv_error("put", "k1", "boom");
        assert_eq!(e.to_string(), "KV error: put `k1`: boom");
    }
}
