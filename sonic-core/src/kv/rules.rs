//! Workers KV's platform rules, checked before a call is made: the one copy that the in-memory
//! store and the Workers KV backend (`sonic-db-kv`) both enforce, so code tested natively fails
//! on Cloudflare in the same way, with the same message.

use crate::error::{Error, Result};

use super::{KvListOptions, KvPutOptions};

/// Longest key Workers KV accepts, in bytes of UTF-8.
pub const MAX_KEY_BYTES: usize = 512;
/// Largest value Workers KV accepts: 25 MiB.
pub const MAX_VALUE_BYTES: usize = 25 * 1024 * 1024;
/// Largest metadata Workers KV accepts, in bytes of serialised JSON.
pub const MAX_METADATA_BYTES: usize = 1024;
/// Shortest expiration TTL Workers KV accepts, in seconds.
pub const MIN_TTL_SECS: u64 = 60;
/// Most keys one bulk get may ask for.
pub const MAX_BULK_GET: usize = 100;
/// Most keys one list page may return (and the default page size).
pub const MAX_LIST_LIMIT: usize = 1000;

/// Checks a key: not empty, not `.` or `..`, at most [`MAX_KEY_BYTES`] bytes.
///
/// ```
/// use sonic_db_core::kv::validate_key;
/// assert!(validate_key("sonic:users:1").is_ok());
/// assert!(validate_key("..").is_err());
/// assert!(validate_key(&"k".repeat(513)).is_err());
/// ```
pub fn validate_key(key: &str) -> Result<()> {
    if key.is_empty() {
        return Err(Error::Kv("key is empty".to_string()));
    }
    if key == "." || key == ".." {
        return Err(Error::Kv(format!("key `{key}` is not allowed")));
    }
    if key.len() > MAX_KEY_BYTES {
        return Err(Error::Kv(format!(
            "key of {} bytes is longer than {MAX_KEY_BYTES} bytes",
            key.len()
        )));
    }
    Ok(())
}

/// Checks a bulk get's size against [`MAX_BULK_GET`].
///
/// ```
/// use sonic_db_core::kv::{check_bulk_len, MAX_BULK_GET};
/// assert!(check_bulk_len(MAX_BULK_GET).is_ok());
/// assert!(check_bulk_len(MAX_BULK_GET + 1).is_err());
/// ```
pub fn check_bulk_len(len: usize) -> Result<()> {
    if len > MAX_BULK_GET {
        Err(Error::Kv(format!(
            "bulk get of {len} keys: at most {MAX_BULK_GET} keys per call"
        )))
    } else {
        Ok(())
    }
}

/// Checks the keys of a bulk get: at most [`MAX_BULK_GET`], each valid.
///
/// ```
/// use sonic_db_core::kv::check_bulk_keys;
/// assert!(check_bulk_keys(&["a".to_string(), "b".to_string()]).is_ok());
/// assert!(check_bulk_keys(&["".to_string()]).is_err());
/// ```
pub fn check_bulk_keys(keys: &[String]) -> Result<()> {
    check_bulk_len(keys.len())?;
    keys.iter().try_for_each(|key| validate_key(key))
}

/// Checks a put: the key, the value's size, the metadata's size, and an expiry at least
/// [`MIN_TTL_SECS`] away (`now_secs`: Unix seconds).
///
/// ```
/// use sonic_db_core::kv::{check_put, KvPutOptions};
/// assert!(check_put("k", 3, &KvPutOptions::ttl(60), 0).is_ok());
/// assert!(check_put("k", 3, &KvPutOptions::ttl(59), 0).is_err());
/// ```
pub fn check_put(key: &str, value_len: usize, options: &KvPutOptions, now_secs: u64) -> Result<()> {
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
///
/// ```
/// use sonic_db_core::kv::{list_limit, KvListOptions, MAX_LIST_LIMIT};
/// assert_eq!(list_limit(&KvListOptions::default())?, MAX_LIST_LIMIT);
/// assert!(list_limit(&KvListOptions { limit: Some(0), ..KvListOptions::default() }).is_err());
/// # Ok::<(), sonic_db_core::Error>(())
/// ```
pub fn list_limit(options: &KvListOptions) -> Result<usize> {
    let limit = options.limit.unwrap_or(MAX_LIST_LIMIT);
    if limit == 0 || limit > MAX_LIST_LIMIT {
        return Err(Error::Kv(format!(
            "list limit {limit} is outside 1..={MAX_LIST_LIMIT}"
        )));
    }
    Ok(limit)
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
}
