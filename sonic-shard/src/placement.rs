//! Rendezvous (highest-random-weight) hashing: a key goes to the shard whose name scores
//! highest with it. Adding a shard moves exactly the keys it now wins — about 1/(n+1) of them,
//! all to the new shard — and removing one moves only its own keys; nothing depends on the
//! order shards are listed in.

use xxhash_rust::xxh3::xxh3_64;

/// The score of `key` on the shard `name`: xxh3-64 of the name, a 0xFF separator (a byte no
/// UTF-8 text holds, so `("ab", "c")` and `("a", "bc")` differ) and the key.
pub(crate) fn score(name: &str, key: &str) -> u64 {
    let mut bytes = Vec::with_capacity(name.len() + 1 + key.len());
    bytes.extend_from_slice(name.as_bytes());
    bytes.push(0xFF);
    bytes.extend_from_slice(key.as_bytes());
    xxh3_64(&bytes)
}

/// The index, in `names`, of the shard that holds `key`; `None` when there is no shard.
/// Ties (never seen with 64-bit scores, but possible) go to the smaller name.
pub(crate) fn place<'a>(names: impl IntoIterator<Item = &'a str>, key: &str) -> Option<usize> {
    names
        .into_iter()
        .enumerate()
        .max_by(|(_, a), (_, b)| score(a, key).cmp(&score(b, key)).then_with(|| b.cmp(a)))
        .map(|(i, _)| i)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placement_ignores_the_order_of_the_list() {
        let names = ["a", "b", "c", "d"];
        let reversed = ["d", "c", "b", "a"];
        for i in 0..1_000 {
            let key = format!("tenant-{i}");
            let first = place(names, &key).map(|i| names[i]);
            let second = place(reversed, &key).map(|i| reversed[i]);
            assert_eq!(first, second, "{key}");
        }
    }

    #[test]
    fn the_separator_keeps_name_and_key_apart() {
        assert_ne!(score("ab", "c"), score("a", "bc"));
        assert_eq!(place(std::iter::empty(), "k"), None);
    }
}
