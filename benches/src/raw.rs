//! Raw rusqlite: `prepare_cached` statements, columns read by index, plain structs. The
//! physical limit the other two are measured against.

use std::collections::HashMap;
use std::fmt::Write as _;

use rusqlite::Connection;

use crate::fixture::{self, Seed};
use crate::{Canonical, CanonicalPost};

/// A row of `users`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// Primary key.
    pub id: i64,
    /// Name.
    pub name: String,
    /// Hair colour, if any.
    pub hair_color: Option<String>,
}

/// A row of `posts`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Post {
    /// Primary key.
    pub id: i64,
    /// Author (`users.id`).
    pub user_id: i64,
    /// Title.
    pub title: String,
    /// Body, if any.
    pub body: Option<String>,
}

/// A row of `comments`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Comment {
    /// Primary key.
    pub id: i64,
    /// The post (`posts.id`).
    pub post_id: i64,
    /// Text.
    pub text: String,
}

/// Users with their posts with their comments: `diesel_bench`'s association answer.
pub type Nested = Vec<(User, Vec<(Post, Vec<Comment>)>)>;

const SELECT_USERS: &str = "SELECT id, name, hair_color FROM users";
const FIND_USER: &str = "SELECT id, name, hair_color FROM users WHERE id = ?";
const MEDIUM: &str = "SELECT u.id, u.name, u.hair_color, p.id, p.user_id, p.title, p.body \
                      FROM users AS u LEFT JOIN posts AS p ON u.id = p.user_id \
                      WHERE u.hair_color = ?";

const AGGREGATE: &str = "SELECT post_id, COUNT(*), MAX(id) FROM comments GROUP BY post_id";

fn user(row: &rusqlite::Row<'_>) -> rusqlite::Result<User> {
    Ok(User {
        id: row.get(0)?,
        name: row.get(1)?,
        hair_color: row.get(2)?,
    })
}

/// `?, ?, …` for `n` values.
fn placeholders(sql: &mut String, n: usize) {
    for i in 0..n {
        sql.push_str(if i == 0 { "?" } else { ", ?" });
    }
}

/// One connection with a seeded database.
pub struct Bench {
    conn: Connection,
    next_id: i64,
    /// `INSERT` texts by row count (built once: the physical limit does not rebuild them).
    insert_sql: HashMap<(usize, bool), String>,
}

impl Bench {
    /// A fresh in-memory database with `seed`'s rows.
    pub fn new(seed: Seed) -> Self {
        let conn = Connection::open_in_memory().expect("open");
        conn.pragma_update(None, "foreign_keys", true)
            .expect("foreign keys");
        conn.set_prepared_statement_cache_capacity(64);
        conn.execute_batch(&seed.script()).expect("seed");
        Bench {
            conn,
            next_id: 1_000_001,
            insert_sql: HashMap::new(),
        }
    }

    /// The connection, for checks.
    pub fn connection(&self) -> &Connection {
        &self.conn
    }

    /// Trivial query: every user.
    pub fn trivial(&self) -> Vec<User> {
        let mut stmt = self.conn.prepare_cached(SELECT_USERS).expect("prepare");
        let rows = stmt.query_map([], user).expect("query");
        rows.collect::<rusqlite::Result<_>>().expect("rows")
    }

    /// Aggregate: comments per post with the newest comment's id
    /// (`SELECT post_id, COUNT(*), MAX(id) FROM comments GROUP BY post_id`).
    pub fn aggregate(&self) -> Vec<(i64, u64, Option<i64>)> {
        let mut stmt = self.conn.prepare_cached(AGGREGATE).expect("prepare");
        let rows = stmt
            .query_map([], |row| {
                let count = u64::try_from(row.get::<_, i64>(1)?).expect("a count");
                Ok((row.get(0)?, count, row.get(2)?))
            })
            .expect("query");
        rows.collect::<rusqlite::Result<_>>().expect("rows")
    }

    /// Medium query: black-haired users LEFT JOIN their posts.
    pub fn medium(&self) -> Vec<(User, Option<Post>)> {
        let mut stmt = self.conn.prepare_cached(MEDIUM).expect("prepare");
        let rows = stmt
            .query_map(["black"], |row| {
                let post = match row.get::<_, Option<i64>>(3)? {
                    None => None,
                    Some(id) => Some(Post {
                        id,
                        user_id: row.get(4)?,
                        title: row.get(5)?,
                        body: row.get(6)?,
                    }),
                };
                Ok((user(row)?, post))
            })
            .expect("query");
        rows.collect::<rusqlite::Result<_>>().expect("rows")
    }

    /// Loading associations: users, their posts (`IN` list), their comments (`IN` list),
    /// grouped in Rust. Three statements.
    pub fn associations(&self) -> Nested {
        let users = self.trivial();
        let mut sql = String::from("SELECT id, user_id, title, body FROM posts WHERE user_id IN (");
        placeholders(&mut sql, users.len());
        sql.push(')');
        let posts: Vec<Post> = {
            let mut stmt = self.conn.prepare_cached(&sql).expect("prepare");
            for (i, u) in users.iter().enumerate() {
                stmt.raw_bind_parameter(i + 1, u.id).expect("bind");
            }
            let mut rows = stmt.raw_query();
            let mut posts = Vec::new();
            while let Some(row) = rows.next().expect("row") {
                posts.push(Post {
                    id: row.get(0).expect("id"),
                    user_id: row.get(1).expect("user_id"),
                    title: row.get(2).expect("title"),
                    body: row.get(3).expect("body"),
                });
            }
            posts
        };
        sql.clear();
        sql.push_str("SELECT id, post_id, text FROM comments WHERE post_id IN (");
        placeholders(&mut sql, posts.len());
        sql.push(')');
        let mut stmt = self.conn.prepare_cached(&sql).expect("prepare");
        for (i, p) in posts.iter().enumerate() {
            stmt.raw_bind_parameter(i + 1, p.id).expect("bind");
        }
        let post_slot: HashMap<i64, usize> =
            posts.iter().enumerate().map(|(i, p)| (p.id, i)).collect();
        let mut posts: Vec<(Post, Vec<Comment>)> =
            posts.into_iter().map(|p| (p, Vec::new())).collect();
        let mut rows = stmt.raw_query();
        while let Some(row) = rows.next().expect("row") {
            let comment = Comment {
                id: row.get(0).expect("id"),
                post_id: row.get(1).expect("post_id"),
                text: row.get(2).expect("text"),
            };
            if let Some(&slot) = post_slot.get(&comment.post_id) {
                posts[slot].1.push(comment);
            }
        }
        let user_slot: HashMap<i64, usize> =
            users.iter().enumerate().map(|(i, u)| (u.id, i)).collect();
        let mut out: Nested = users.into_iter().map(|u| (u, Vec::new())).collect();
        for post in posts {
            if let Some(&slot) = user_slot.get(&post.0.user_id) {
                out[slot].1.push(post);
            }
        }
        out
    }

    fn insert_sql(cache: &mut HashMap<(usize, bool), String>, n: usize, returning: bool) -> &str {
        cache.entry((n, returning)).or_insert_with(|| {
            let mut sql = String::from("INSERT INTO users (id, name, hair_color) VALUES ");
            for i in 0..n {
                sql.push_str(if i == 0 { "(?, ?, ?)" } else { ", (?, ?, ?)" });
            }
            if returning {
                let _ = write!(sql, " RETURNING id, name, hair_color");
            }
            sql
        })
    }

    fn new_users(&mut self, n: usize) -> Vec<User> {
        let users = fixture::new_users(self.next_id, n)
            .map(|(id, name)| User {
                id,
                name,
                hair_color: Some(fixture::INSERT_HAIR.to_string()),
            })
            .collect();
        self.next_id += n as i64;
        users
    }

    fn bind_users(stmt: &mut rusqlite::CachedStatement<'_>, users: &[User]) {
        for (i, u) in users.iter().enumerate() {
            stmt.raw_bind_parameter(3 * i + 1, u.id).expect("bind");
            stmt.raw_bind_parameter(3 * i + 2, &u.name).expect("bind");
            stmt.raw_bind_parameter(3 * i + 3, &u.hair_color)
                .expect("bind");
        }
    }

    /// Inserts `n` new users in one statement (no rows read back, as in `diesel_bench`).
    pub fn insert(&mut self, n: usize) {
        let users = self.new_users(n);
        let sql = Self::insert_sql(&mut self.insert_sql, n, false);
        let mut stmt = self.conn.prepare_cached(sql).expect("prepare");
        Self::bind_users(&mut stmt, &users);
        let changed = stmt.raw_execute().expect("insert");
        debug_assert_eq!(changed, n);
    }

    /// Inserts `n` new users in one statement with `RETURNING` and reads them back: the
    /// physical limit of what Sonic's `insert_many` does.
    pub fn insert_returning(&mut self, n: usize) -> Vec<User> {
        let users = self.new_users(n);
        let sql = Self::insert_sql(&mut self.insert_sql, n, true);
        let mut stmt = self.conn.prepare_cached(sql).expect("prepare");
        Self::bind_users(&mut stmt, &users);
        let mut rows = stmt.raw_query();
        let mut out = Vec::with_capacity(n);
        while let Some(row) = rows.next().expect("row") {
            out.push(user(row).expect("user"));
        }
        out
    }

    /// One user by primary key.
    pub fn find(&self, id: i64) -> User {
        let mut stmt = self.conn.prepare_cached(FIND_USER).expect("prepare");
        stmt.query_row([id], user).expect("find")
    }
}

/// Users without posts, in canonical form.
pub fn canonical_users(users: Vec<User>) -> Canonical {
    users
        .into_iter()
        .map(|u| ((u.id, u.name, u.hair_color), Vec::new()))
        .collect()
}

/// Joined rows (a user per row, with its post if any), grouped by user.
pub fn canonical_joined(rows: Vec<(User, Option<Post>)>) -> Canonical {
    let mut by_user: std::collections::BTreeMap<i64, crate::CanonicalUser> = Default::default();
    for (u, post) in rows {
        let entry = by_user
            .entry(u.id)
            .or_insert_with(|| ((u.id, u.name, u.hair_color), Vec::new()));
        if let Some(p) = post {
            entry
                .1
                .push(((p.id, p.user_id, p.title, p.body), Vec::new()));
        }
    }
    by_user.into_values().collect()
}

/// The association answer in canonical form.
pub fn canonical_nested(users: Nested) -> Canonical {
    users
        .into_iter()
        .map(|(u, posts)| {
            let posts = posts
                .into_iter()
                .map(|(p, comments)| -> CanonicalPost {
                    (
                        (p.id, p.user_id, p.title, p.body),
                        comments
                            .into_iter()
                            .map(|c| (c.id, c.post_id, c.text))
                            .collect(),
                    )
                })
                .collect();
            ((u.id, u.name, u.hair_color), posts)
        })
        .collect()
}
