//! The platform rules checked before a call reaches Workers KV, as plain functions (tested
//! natively). They match [`sonic_db_core::kv::MemoryKv`]'s, so code tested against the in-memory
//! store fails the same way here, with the same kind of message, and without a round trip.

use sonic_db_core::kv::{
    validate_key, KvKey, KvListOptions, KvListPage, KvPutOptions, MAX_BULK_GET, MAX_LIST_LIMIT,
    MAX_METADATA_BYTES, MAX_VALUE_BYTES, MIN_TTL_SECS,
};
use sonic_db_core::{Error, Result};

/// Checks the keys of a bulk get: at most [`MAX_BULK_GET`], each valid.
pub(crate) fn check_bulk_keys(keys: &[String]) -> Result<()> {
    if keys.len() > MAX_BULK_GET {
        return Err(Error::Kv(format!(
            "bulk get of {} keys: at most {MAX_BULK_GET} keys per call",
            keys.len()
        )));
    }
    keys.iter().try_for_each(|key| validate_key(key))
}

/// Checks a put against the platform's limits: key, value size, metadata size, and an expiry
/// at least [`MIN_TTL_SECS`] away (`now_secs`: Unix seconds).
pub(crate) fn check_put(
    key: &str,
    value_len: usize,
    options: &KvPutOptions,
    now_secs: u64,
) -> Result<()> {
    validate_key(key)?;
    if value_len > MAX_VALUE_BYTES {
        return Err(Error::Kv(format!(
            "value of {value_len} bytes for key `{key}` is larger than {MAX_VALUE_BYTES} bytes (25 MiB)"
        )));
    }
    if let Some(metadata) = &options.metadata {
        let len = serde_json::to_vec(metadata)?.len();
        if len > MAX_METADATA_BYTES {
            return Err(Error::Kv(format!(
                "metadata of {len} bytes for key `{key}` is larger than {MAX_METADATA_BYTES} bytes"
            )));
        }
    }
    if let Some(ttl) = options.expiration_ttl {
        if ttl < MIN_TTL_SECS {
            return Err(Error::Kv(format!(
                "expiration TTL of {ttl} s is below the minimum of {MIN_TTL_SECS} s"
            )));
        }
    }
    if let Some(at) = options.expiration {
        if at.saturating_sub(now_secs) < MIN_TTL_SECS {
            return Err(Error::Kv(format!(
                "expiration {at} is less than {MIN_TTL_SECS} s in the future (now {now_secs})"
            )));
        }
    }
    Ok(())
}

/// The page size of a list call: `1..=`[`MAX_LIST_LIMIT`], [`MAX_LIST_LIMIT`] by default.
pub(crate) fn list_limit(options: &KvListOptions) -> Result<usize> {
    let limit = options.limit.unwrap_or(MAX_LIST_LIMIT);
    if limit == 0 || limit > MAX_LIST_LIMIT {
        return Err(Error::Kv(format!(
            "list limit {limit} is outside 1..={MAX_LIST_LIMIT}"
        )));
    }
    Ok(limit)
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bulk_keys() {
        assert!(check_bulk_keys(&[]).is_ok());
        let hundred: Vec<String> = (0..100).map(|i| format!("k{i}")).collect();
        assert!(check_bulk_keys(&hundred).is_ok());
        let many: Vec<String> = (0..101).map(|i| format!("k{i}")).collect();
        assert!(matches!(check_bulk_keys(&many), Err(Error::Kv(m)) if m.contains("101")));
        let bad = vec!["ok".to_string(), "..".to_string()];
        assert!(matches!(check_bulk_keys(&bad), Err(Error::Kv(_))));
    }

    #[test]
    fn puts() {
        let now = 1_700_000_000;
        let ok = KvPutOptions::ttl(60);
        assert!(check_put("k", 3, &ok, now).is_ok());
        assert!(check_put("k", 3, &KvPutOptions::default(), now).is_ok());
        assert!(
            matches!(check_put("k", 3, &KvPutOptions::ttl(59), now), Err(Error::Kv(m)) if m.contains("59"))
        );
        // Keys are counted in bytes: 171 × "€" is 513 bytes.
        let euro = "€".repeat(171);
        assert!(matches!(check_put(&euro, 3, &ok, now), Err(Error::Kv(m)) if m.contains("513")));
        assert!(check_put(&"k".repeat(512), 3, &ok, now).is_ok());
        assert!(check_put("", 3, &ok, now).is_err());
        assert!(check_put(".", 3, &ok, now).is_err());
        assert!(matches!(
            check_put("k", MAX_VALUE_BYTES + 1, &ok, now),
            Err(Error::Kv(m)) if m.contains("25 MiB")
        ));
        assert!(check_put("k", MAX_VALUE_BYTES, &ok, now).is_ok());

        let at = |secs| KvPutOptions {
            expiration: Some(secs),
            ..KvPutOptions::default()
        };
        assert!(check_put("k", 1, &at(now + 60), now).is_ok());
        assert!(check_put("k", 1, &at(now + 59), now).is_err());
        assert!(check_put("k", 1, &at(now - 10), now).is_err());

        let meta = |len: usize| KvPutOptions {
            // `"…"`: the JSON string is len + 2 bytes.
            metadata: Some(serde_json::Value::String("m".repeat(len))),
            ..KvPutOptions::default()
        };
        assert!(check_put("k", 1, &meta(1022), now).is_ok());
        assert!(
            matches!(check_put("k", 1, &meta(1023), now), Err(Error::Kv(m)) if m.contains("1025"))
        );
    }

    #[test]
    fn limits() {
        assert_eq!(list_limit(&KvListOptions::default()).unwrap(), 1000);
        let with = |limit| KvListOptions {
            limit: Some(limit),
            ..KvListOptions::default()
        };
        assert_eq!(list_limit(&with(1)).unwrap(), 1);
        assert_eq!(list_limit(&with(1000)).unwrap(), 1000);
        assert!(list_limit(&with(0)).is_err());
        assert!(list_limit(&with(1001)).is_err());
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
