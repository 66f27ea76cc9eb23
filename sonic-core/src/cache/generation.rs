//! Generation keys: per cached table, one *table* generation and `buckets` *bucket*
//! generations, each a random token that a write replaces to invalidate cached records.
//!
//! Keys: `{prefix}:{table}:#g` and `{prefix}:{table}:#b{n}`. `#g` and `#b` are markers that no
//! record key produces (a literal id starting with `#` is written `##…`, see `key`).

use crate::error::{Error, Result};

/// The key of a table's generation. (Concatenated rather than `format!`ted: every cached
/// find builds it, and formatting cost more than the rest of the key's work.)
pub(super) fn table_key(prefix: &str, table: &str) -> String {
    [prefix, ":", table, ":#g"].concat()
}

/// The key of bucket `bucket`'s generation.
pub(super) fn bucket_key(prefix: &str, table: &str, bucket: u32) -> String {
    [
        prefix,
        ":",
        table,
        ":#b",
        itoa::Buffer::new().format(bucket),
    ]
    .concat()
}

/// The bucket of a record key: FNV-1a (64 bit) of the key, modulo `buckets`. Stable across
/// builds and platforms, which every isolate of a deployment must agree on.
pub(super) fn bucket_of(record_key: &str, buckets: u32) -> u32 {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    let hash = record_key
        .bytes()
        .fold(OFFSET, |h, b| (h ^ u64::from(b)).wrapping_mul(PRIME));
    u32::try_from(hash % u64::from(buckets.max(1))).unwrap_or(0)
}

/// A fresh generation token: 128 random bits in hex. Tokens are never reused, so putting one
/// can only make the envelopes tagged with earlier values stale, in whatever order puts land.
pub(super) fn fresh_token() -> Result<String> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes)
        .map_err(|e| Error::Kv(format!("no randomness for a cache generation: {e}")))?;
    Ok(hex::encode(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_buckets_and_tokens() {
        assert_eq!(table_key("sonic", "posts"), "sonic:posts:#g");
        assert_eq!(bucket_key("sonic", "posts", 7), "sonic:posts:#b7");
        // Pinned values: a change would make isolates of two builds disagree.
        assert_eq!(
            bucket_of("sonic:posts:p1", 64),
            bucket_of("sonic:posts:p1", 64)
        );
        assert_eq!(bucket_of("", 64), (0xcbf2_9ce4_8422_2325u64 % 64) as u32);
        assert_eq!(bucket_of("anything", 1), 0);
        let spread: std::collections::HashSet<u32> = (0..1000)
            .map(|i| bucket_of(&format!("sonic:posts:{i}"), 64))
            .collect();
        assert_eq!(spread.len(), 64);
        let (a, b) = (fresh_token().unwrap(), fresh_token().unwrap());
        assert_eq!(a.len(), 32);
        assert_ne!(a, b);
    }
}
