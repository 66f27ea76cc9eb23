//! Shared fixtures for the benchmarks: Diesel's benchmark workloads (`diesel_bench`) on
//! in-memory SQLite, each implemented three ways — [`sonic`] (Sonic's query API on its
//! rusqlite backend, with `#[derive(Table)]` tables), [`raw`] (rusqlite with
//! `prepare_cached` and columns read by index: the physical limit) and [`diesel`]
//! (Diesel 2.3's query builder) — plus the data they run on ([`fixture`]).
//!
//! Every implementation of a workload builds the same answer from the same rows; the tests at
//! the bottom check that, so the benches compare equal work. The timing lives in
//! `benches/*.rs` (criterion) only: nothing here asserts a duration.

// Reason: benchmark fixtures, not library code: a failed setup aborts the benchmark.
#![allow(clippy::expect_used)]
// Reason: the raw baseline indexes the slots it has just built, as hand-written rusqlite would.
#![allow(clippy::indexing_slicing)]

pub mod diesel;
pub mod raw;
pub mod sonic;

/// The tables and the rows each workload starts from.
///
/// The schema is Sonic's own DDL for [`sonic::User`], [`sonic::Post`] and
/// [`sonic::Comment`] (`users(id INTEGER PRIMARY KEY, name TEXT NOT NULL, hair_color TEXT)`,
/// `posts(id, user_id, title, body)`, `comments(id, post_id, text)`, with indexes on the two
/// foreign keys), run on every implementation's connection, so all three read identical
/// databases. Rows are seeded by one SQL script with literal values (no implementation's
/// insert path is involved).
pub mod fixture {
    use std::fmt::Write as _;

    use sonic_db_core::Schema;

    use crate::sonic::{Comment, Post, User};

    /// Users per eager-loading fixture (`diesel_bench` uses 9 on SQLite).
    pub const ASSOC_USERS: i64 = 9;
    /// Posts per user and comments per post in the eager-loading fixture.
    pub const ASSOC_FANOUT: i64 = 10;

    /// The DDL of the three tables, as Sonic generates it (with the foreign-key indexes).
    pub fn schema_sql() -> String {
        Schema::new()
            .table::<User>()
            .table::<Post>()
            .table::<Comment>()
            .to_sql()
    }

    /// The hair colour `diesel_bench` gives user number `i` (0-based) in the medium query and
    /// association fixtures: every other user has black hair.
    pub fn alternating_hair(i: i64) -> Option<&'static str> {
        Some(if i % 2 == 0 { "black" } else { "brown" })
    }

    /// What a workload starts from.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum Seed {
        /// `n` users named `User {i}` without hair colour (trivial query).
        Trivial(i64),
        /// `n` users, every other one with black hair, and no posts (medium query, exactly as
        /// `diesel_bench` seeds it: the LEFT JOIN finds no post).
        Medium(i64),
        /// 9 users × 10 posts × 10 comments (loading associations).
        Associations,
        /// No rows (inserts).
        Empty,
    }

    /// Rows per seeding `INSERT` (well below SQLite's limits).
    const ROWS_PER_INSERT: usize = 500;

    fn push_inserts(script: &mut String, head: &str, rows: &[String]) {
        for chunk in rows.chunks(ROWS_PER_INSERT) {
            script.push_str(head);
            script.push_str(&chunk.join(", "));
            script.push_str(";\n");
        }
    }

    fn sql_text(value: Option<&str>) -> String {
        value.map_or_else(
            || "NULL".to_string(),
            |v| format!("'{}'", v.replace('\'', "''")),
        )
    }

    impl Seed {
        /// The schema plus the rows, as one script for `execute_batch`-style calls.
        pub fn script(self) -> String {
            let mut script = schema_sql();
            script.push('\n');
            let (users, with_posts) = match self {
                Seed::Trivial(n) => ((0..n).map(|i| (i + 1, None)).collect::<Vec<_>>(), false),
                Seed::Medium(n) => (
                    (0..n).map(|i| (i + 1, alternating_hair(i))).collect(),
                    false,
                ),
                Seed::Associations => (
                    (0..ASSOC_USERS)
                        .map(|i| (i + 1, alternating_hair(i)))
                        .collect(),
                    true,
                ),
                Seed::Empty => (Vec::new(), false),
            };
            let rows: Vec<String> = users
                .iter()
                .map(|&(id, hair)| format!("({id}, 'User {}', {})", id - 1, sql_text(hair)))
                .collect();
            push_inserts(
                &mut script,
                "INSERT INTO users (id, name, hair_color) VALUES ",
                &rows,
            );
            if with_posts {
                let mut posts = Vec::new();
                let mut comments = Vec::new();
                let mut post_id = 0;
                let mut comment_id = 0;
                for &(user_id, _) in &users {
                    for i in 0..ASSOC_FANOUT {
                        post_id += 1;
                        posts.push(format!(
                            "({post_id}, {user_id}, 'Post {i} by user {user_id}', NULL)"
                        ));
                        for j in 0..ASSOC_FANOUT {
                            comment_id += 1;
                            let mut row = String::new();
                            let _ = write!(
                                row,
                                "({comment_id}, {post_id}, 'Comment {j} on post {post_id}')"
                            );
                            comments.push(row);
                        }
                    }
                }
                push_inserts(
                    &mut script,
                    "INSERT INTO posts (id, user_id, title, body) VALUES ",
                    &posts,
                );
                push_inserts(
                    &mut script,
                    "INSERT INTO comments (id, post_id, text) VALUES ",
                    &comments,
                );
            }
            script
        }
    }

    /// The users one insert call writes: `n` rows with ids `first_id..first_id + n`, named and
    /// coloured as `diesel_bench` does (`User {i}`, `"hair_color"`). Every implementation
    /// inserts explicit ids (Sonic's primary keys are never optional), so all three run the
    /// same `INSERT INTO users (id, name, hair_color) VALUES (?, ?, ?), …`.
    pub fn new_users(first_id: i64, n: usize) -> impl Iterator<Item = (i64, String)> {
        (0..n).map(move |i| (first_id + i as i64, format!("User {i}")))
    }

    /// The hair colour of every inserted user.
    pub const INSERT_HAIR: &str = "hair_color";
}

/// One answer shape for every implementation, to check that they agree: users in id order,
/// each with its posts in id order, each with its comments in id order.
pub type Canonical = Vec<CanonicalUser>;

/// A user with its posts.
pub type CanonicalUser = ((i64, String, Option<String>), Vec<CanonicalPost>);
/// A post with its comments.
pub type CanonicalPost = ((i64, i64, String, Option<String>), Vec<(i64, i64, String)>);

/// Sorts a canonical answer (implementations may return rows in another, equally valid order).
pub fn sorted(mut answer: Canonical) -> Canonical {
    answer.sort_by_key(|(user, _)| user.0);
    for (_, posts) in &mut answer {
        posts.sort_by_key(|(post, _)| post.0);
        for (_, comments) in posts {
            comments.sort_by_key(|c| c.0);
        }
    }
    answer
}

#[cfg(test)]
mod tests {
    //! The three implementations of each workload return the same answer.

    use super::fixture::Seed;
    use super::*;

    fn trivial(n: i64) -> [Canonical; 3] {
        let seed = Seed::Trivial(n);
        let s = sonic::Bench::new(seed, sonic::Strategy::Default);
        let r = raw::Bench::new(seed);
        let mut d = diesel::Bench::new(seed);
        [
            sonic::canonical_users(s.trivial()),
            raw::canonical_users(r.trivial()),
            diesel::canonical_users(d.trivial()),
        ]
    }

    #[test]
    fn trivial_query_agrees() {
        for n in [0, 1, 100] {
            let [s, r, d] = trivial(n);
            assert_eq!(s.len(), n as usize);
            assert_eq!(s, r);
            assert_eq!(s, d);
        }
    }

    #[test]
    fn medium_query_agrees() {
        for n in [1, 100] {
            let seed = Seed::Medium(n);
            let s = sonic::Bench::new(seed, sonic::Strategy::Default);
            let single = sonic::Bench::new(seed, sonic::Strategy::SingleStatement);
            let r = raw::Bench::new(seed);
            let mut d = diesel::Bench::new(seed);
            let expected = sorted(raw::canonical_joined(r.medium()));
            assert_eq!(expected.len(), (n as usize).div_ceil(2));
            assert!(expected.iter().all(|(_, posts)| posts.is_empty()));
            assert_eq!(sorted(sonic::canonical_users(s.medium())), expected);
            assert_eq!(sorted(sonic::canonical_users(single.medium())), expected);
            assert_eq!(sorted(diesel::canonical_joined(d.medium())), expected);
        }
    }

    #[test]
    fn associations_agree() {
        let seed = Seed::Associations;
        let r = raw::Bench::new(seed);
        let expected = sorted(raw::canonical_nested(r.associations()));
        assert_eq!(expected.len(), 9);
        assert!(expected
            .iter()
            .all(|(_, posts)| posts.len() == 10 && posts.iter().all(|(_, c)| c.len() == 10)));
        for strategy in [
            sonic::Strategy::Default,
            sonic::Strategy::SingleStatement,
            sonic::Strategy::NPlusOne,
        ] {
            let s = sonic::Bench::new(seed, strategy);
            assert_eq!(
                sorted(sonic::canonical_users(s.associations())),
                expected,
                "{strategy:?}"
            );
        }
        let mut d = diesel::Bench::new(seed);
        assert_eq!(sorted(diesel::canonical_nested(d.associations())), expected);
    }

    #[test]
    fn aggregates_and_joins_agree() {
        let seed = Seed::Associations;
        let s = sonic::Bench::new(seed, sonic::Strategy::Default);
        let r = raw::Bench::new(seed);
        let mut d = diesel::Bench::new(seed);
        let mut expected = r.aggregate();
        expected.sort();
        assert_eq!(expected.len(), 90);
        assert!(expected.iter().all(|(_, n, max)| *n == 10 && max.is_some()));
        let mut got = s.aggregate();
        got.sort();
        assert_eq!(got, expected);
        let mut diesel: Vec<(i64, u64, Option<i64>)> = d
            .aggregate()
            .into_iter()
            .map(|(post, n, max)| (post, n as u64, max))
            .collect();
        diesel.sort();
        assert_eq!(diesel, expected);

        let expected = sorted(raw::canonical_joined(r.medium()));
        assert_eq!(expected.len(), 5);
        assert!(expected.iter().all(|(_, posts)| posts.len() == 10));
        assert_eq!(sorted(sonic::canonical_joined(s.join())), expected);
    }

    #[test]
    fn inserts_agree() {
        let mut s = sonic::Bench::new(Seed::Empty, sonic::Strategy::Default);
        let mut counted = sonic::Bench::new(Seed::Empty, sonic::Strategy::Default);
        let mut r = raw::Bench::new(Seed::Empty);
        let mut d = diesel::Bench::new(Seed::Empty);
        for n in [1, 10, 100] {
            assert_eq!(s.insert(n).len(), n);
            assert_eq!(counted.insert_count(n), n as u64);
            r.insert(n);
            assert_eq!(r.insert_returning(n).len(), n);
            d.insert(n);
        }
        // Each inserted 111 rows (raw twice over: plain and RETURNING), with fresh ids.
        let [s, r, d] = [
            sonic::canonical_users(s.trivial()),
            raw::canonical_users(r.trivial()),
            diesel::canonical_users(d.trivial()),
        ];
        assert_eq!(s.len(), 111);
        assert_eq!(r.len(), 222);
        assert_eq!(s, d);
        assert_eq!(s.first(), r.first());
        assert_eq!(sonic::canonical_users(counted.trivial()), s);
    }

    #[test]
    fn find_agrees() {
        let seed = Seed::Trivial(100);
        let s = sonic::Bench::new(seed, sonic::Strategy::Default);
        let cached = sonic::Bench::new(seed, sonic::Strategy::Default).with_kv();
        let r = raw::Bench::new(seed);
        let mut d = diesel::Bench::new(seed);
        for id in [1, 42, 100] {
            let expected = raw::canonical_users(vec![r.find(id)]);
            assert_eq!(sonic::canonical_users(vec![s.find(id)]), expected);
            assert_eq!(sonic::canonical_users(vec![cached.find(id)]), expected);
            // The second read is the KV hit.
            assert_eq!(sonic::canonical_users(vec![cached.find(id)]), expected);
            assert_eq!(diesel::canonical_users(vec![d.find(id)]), expected);
        }
    }

    #[test]
    fn the_schema_is_the_diesel_bench_one_with_foreign_key_indexes() {
        let r = raw::Bench::new(Seed::Empty);
        let conn = r.connection();
        let columns = |table: &str| -> Vec<(String, String, bool)> {
            let mut stmt = conn
                .prepare("SELECT name, type, \"notnull\" FROM pragma_table_info(?) ORDER BY cid")
                .unwrap();
            stmt.query_map([table], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))
                .unwrap()
                .collect::<rusqlite::Result<_>>()
                .unwrap()
        };
        let col = |name: &str, ty: &str, not_null| (name.to_string(), ty.to_string(), not_null);
        assert_eq!(
            columns("users"),
            [
                col("id", "INTEGER", true),
                col("name", "TEXT", true),
                col("hair_color", "TEXT", false)
            ]
        );
        assert_eq!(
            columns("posts"),
            [
                col("id", "INTEGER", true),
                col("user_id", "INTEGER", true),
                col("title", "TEXT", true),
                col("body", "TEXT", false)
            ]
        );
        assert_eq!(
            columns("comments"),
            [
                col("id", "INTEGER", true),
                col("post_id", "INTEGER", true),
                col("text", "TEXT", true)
            ]
        );
        for query in [
            "SELECT * FROM posts WHERE user_id = 1",
            "SELECT * FROM comments WHERE post_id = 1",
        ] {
            let plan: String = conn
                .query_row(&format!("EXPLAIN QUERY PLAN {query}"), [], |row| row.get(3))
                .unwrap();
            assert!(plan.contains("USING INDEX"), "{query}: {plan}");
        }
    }
}
