//! Helpers of the Workers KV backend, as plain functions (tested natively). The platform rules
//! checked before a call reaches Workers KV are sonic-db-core's ([`sonic_db_core::kv`]'s
//! `validate_key`, `check_bulk_keys`, `check_put`, `list_limit`), the ones
//! [`sonic_db_core::kv::MemoryKv`] enforces, so code tested against the in-memory store fails
//! the same way here, with the same message, and without a round trip.

use sonic_db_core::kv::{KvKey, KvListPage};
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

#[cfg(test)]
mod tests {
    use super::*;

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
