//! Cache keys: `{prefix}:{table}:{id}`, hashed when too long for KV.
//!
//! The id part is written so that different ids never share a key:
//!
//! | primary key | id part |
//! |---|---|
//! | `INTEGER 42` | `42` |
//! | `TEXT "ada"` | `ada` |
//! | `TEXT "#x"` (starts with `#`) | `##x` (one `#` more) |
//! | `BLOB` | `#x` + hex |
//! | `REAL` | `#r` + its shortest round-trip form |
//! | any id whose key would exceed 512 bytes | `#h` + hex SHA-256 of the id part above |
//!
//! Literal text ids starting with `#` are escaped with a second `#`, so `#x`, `#r` and `#h`
//! are markers no literal id produces. A table uses one primary-key type, so an integer id and
//! a text id never meet under one table. `NULL` has no key (no record has a `NULL` key).

use sha2::{Digest, Sha256};

use crate::kv::MAX_KEY_BYTES;
use crate::value::Value;

/// The id part of a key, before any hashing; `None` for `NULL`.
fn id_part(id: &Value) -> Option<String> {
    match id {
        Value::Null => None,
        Value::Integer(i) => Some(i.to_string()),
        Value::Text(s) if s.starts_with('#') => Some(format!("#{s}")),
        Value::Text(s) => Some(s.clone()),
        Value::Blob(b) => Some(format!("#x{}", hex::encode(b))),
        Value::Real(r) => Some(format!("#r{r:?}")),
    }
}

/// The key prefix of a table: `{prefix}:{table}:`. Every record key of the table starts with
/// it, so listing it finds them all.
pub fn table_prefix(prefix: &str, table: &str) -> String {
    format!("{prefix}:{table}:")
}

/// The KV key of one record, or `None` when the id is `NULL` or even the hashed form would be
/// too long (a table prefix of more than 446 bytes).
///
/// ```
/// use sonic_core::cache::record_key;
/// use sonic_core::Value;
/// assert_eq!(record_key("sonic", "users", &Value::Integer(7)).unwrap(), "sonic:users:7");
/// assert_eq!(record_key("sonic", "users", &Value::Text("#1".into())).unwrap(), "sonic:users:##1");
/// let long = record_key("sonic", "users", &Value::Text("x".repeat(600))).unwrap();
/// assert!(long.starts_with("sonic:users:#h") && long.len() == 12 + 2 + 64);
/// ```
pub fn record_key(prefix: &str, table: &str, id: &Value) -> Option<String> {
    let id = id_part(id)?;
    let key = format!("{}{id}", table_prefix(prefix, table));
    if key.len() <= MAX_KEY_BYTES {
        return Some(key);
    }
    let digest = Sha256::digest(id.as_bytes());
    let key = format!("{}#h{}", table_prefix(prefix, table), hex::encode(digest));
    (key.len() <= MAX_KEY_BYTES).then_some(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_map_to_distinct_keys() {
        let k = |id: Value| record_key("p", "t", &id).unwrap();
        let t = |s: &str| Value::Text(s.to_string());
        assert_eq!(k(Value::Integer(-3)), "p:t:-3");
        assert_eq!(k(t("a:b")), "p:t:a:b");
        assert_eq!(k(Value::Blob(vec![0xab, 1])), "p:t:#xab01");
        assert_eq!(k(t("#xab01")), "p:t:##xab01");
        assert_eq!(k(Value::Real(1.5)), "p:t:#r1.5");
        assert_eq!(record_key("p", "t", &Value::Null), None);

        // The longest literal key, and one byte more.
        let max = "y".repeat(MAX_KEY_BYTES - 4);
        assert_eq!(k(t(&max)).len(), MAX_KEY_BYTES);
        let hashed = k(t(&format!("{max}y")));
        assert!(hashed.starts_with("p:t:#h"));
        assert_eq!(hashed.len(), 4 + 2 + 64);
        // A literal id that spells a hashed key is escaped, so it cannot collide.
        assert_ne!(k(t(&hashed["p:t:".len()..])), hashed);
        // Hashing is deterministic and distinguishes ids.
        assert_eq!(hashed, k(t(&format!("{max}y"))));
        assert_ne!(hashed, k(t(&format!("{max}z"))));

        assert_eq!(
            record_key(&"p".repeat(500), "t", &t(&"x".repeat(600))),
            None
        );
    }
}
