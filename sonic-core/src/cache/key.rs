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
//! | composite `("a:b", 7)` | `4:ta:b2:i7`: per part its length, `:`, a class letter and its value ([`TableDef::record_id`](crate::TableDef::record_id)) |
//! | any id whose key would exceed 512 bytes | `#h` + hex SHA-256 of the id part above |
//!
//! Literal text ids starting with `#` are escaped with a second `#`, so `#x`, `#r` and `#h`
//! are markers no literal id produces. A table uses one primary-key type, so an integer id and
//! a text id never meet under one table; the ids of a composite-key table are all spellings of
//! tuples, length-prefixed so that `("a:b", "c")` and `("a", "b:c")` differ. `NULL` has no key (no record has a `NULL` key).

use sha2::{Digest, Sha256};

use crate::kv::MAX_KEY_BYTES;
use crate::value::Value;

/// Appends the id part of a key, before any hashing, to `out`; `false` for `NULL`.
fn push_id_part(out: &mut String, id: &Value) -> bool {
    use std::fmt::Write as _;
    match id {
        Value::Null => return false,
        Value::Integer(i) => out.push_str(itoa::Buffer::new().format(*i)),
        Value::Text(s) => {
            if s.starts_with('#') {
                out.push('#');
            }
            out.push_str(s);
        }
        Value::Blob(b) => {
            out.push_str("#x");
            out.push_str(&hex::encode(b));
        }
        Value::Real(r) => {
            let _ = write!(out, "#r{r:?}");
        }
    }
    true
}

/// The key prefix of a table: `{prefix}:{table}:`. Every record key of the table starts with
/// it, so listing it finds them all.
pub(crate) fn table_prefix(prefix: &str, table: &str) -> String {
    [prefix, ":", table, ":"].concat()
}

/// The KV key of one record, or `None` when the id is `NULL` or even the hashed form would be
/// too long (a table prefix of more than 446 bytes).
///
/// ```
/// use sonic_db_core::cache::record_key;
/// use sonic_db_core::Value;
/// assert_eq!(record_key("sonic", "users", &Value::Integer(7)).unwrap(), "sonic:users:7");
/// assert_eq!(record_key("sonic", "users", &Value::Text("#1".into())).unwrap(), "sonic:users:##1");
/// let long = record_key("sonic", "users", &Value::Text("x".repeat(600))).unwrap();
/// assert!(long.starts_with("sonic:users:#h") && long.len() == 12 + 2 + 64);
/// ```
pub fn record_key(prefix: &str, table: &str, id: &Value) -> Option<String> {
    let head = prefix.len() + table.len() + 2;
    let mut key = String::with_capacity(head + 24);
    key.push_str(prefix);
    key.push(':');
    key.push_str(table);
    key.push(':');
    if !push_id_part(&mut key, id) {
        return None;
    }
    if key.len() <= MAX_KEY_BYTES {
        return Some(key);
    }
    let digest = Sha256::digest(key.as_bytes().get(head..).unwrap_or_default());
    key.truncate(head);
    key.push_str("#h");
    key.push_str(&hex::encode(digest));
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
        assert_eq!(k(Value::Integer(0)), "p:t:0");
        assert_eq!(k(Value::Integer(i64::MIN)), "p:t:-9223372036854775808");
        assert_eq!(k(Value::Integer(i64::MAX)), "p:t:9223372036854775807");
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
