//! Sonic: `#[derive(Table)]` tables and the query API a Sonic user would write, on the
//! rusqlite backend, driven by [`block_on`] (Sonic's API is async; raw rusqlite and Diesel are
//! not, so the executor should add nothing to a measurement).

use sonic_db_core::query::count;
use sonic_db_core::sqlite::SqliteBackend;
use sonic_db_core::{CacheConfig, Capabilities, Db, EagerStrategy, MemoryKv};

use crate::fixture::{self, Seed};
use crate::Canonical;

/// A user (`users`).
#[derive(Debug, Clone, PartialEq, sonic_db_core::Table)]
#[table(name = "users")]
pub struct User {
    /// Primary key.
    #[column(primary_key)]
    pub id: i64,
    /// Name.
    pub name: String,
    /// Hair colour, if any.
    pub hair_color: Option<String>,
    /// The user's posts, when loaded.
    #[relation(many, remote = user_id)]
    pub posts: Option<Vec<Post>>,
}

/// A post (`posts`).
#[derive(Debug, Clone, PartialEq, sonic_db_core::Table)]
#[table(name = "posts")]
pub struct Post {
    /// Primary key.
    #[column(primary_key)]
    pub id: i64,
    /// Author.
    #[column(references = User::ID)]
    pub user_id: i64,
    /// Title.
    pub title: String,
    /// Body, if any.
    pub body: Option<String>,
    /// The post's comments, when loaded.
    #[relation(many, remote = post_id)]
    pub comments: Option<Vec<Comment>>,
}

/// A comment (`comments`).
#[derive(Debug, Clone, PartialEq, sonic_db_core::Table)]
#[table(name = "comments")]
pub struct Comment {
    /// Primary key.
    #[column(primary_key)]
    pub id: i64,
    /// The post.
    #[column(references = Post::ID)]
    pub post_id: i64,
    /// Text.
    pub text: String,
}

/// Runs a future to completion: one poll with a no-op waker, which is all a future of the
/// SQLite backend ever needs (it never waits), and `pollster` only if that poll was not
/// enough. `pollster::block_on` alone allocates a reference-counted signal per call (≈ 300
/// instructions, 4 % of a one-row select), a cost of the executor that raw rusqlite and
/// Diesel, being synchronous, never pay.
pub fn block_on<F: std::future::Future>(future: F) -> F::Output {
    let mut future = std::pin::pin!(future);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    match future.as_mut().poll(&mut cx) {
        std::task::Poll::Ready(output) => output,
        std::task::Poll::Pending => pollster::block_on(future),
    }
}

/// How eager relations are loaded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strategy {
    /// The backend's default: [`EagerStrategy::PerLevel`] on SQLite (one `IN (…)` statement
    /// per level, the first level joined to the parents' statement when the select has no
    /// order or limit and loads one `many` relation to INTEGER keys).
    Default,
    /// [`EagerStrategy::SingleStatement`] (D1's default) declared through the backend's
    /// capabilities: one statement, JSON subqueries.
    SingleStatement,
    /// No eager loading: one select per user and per post, as code without `.with` would
    /// load them (the N+1 way).
    NPlusOne,
}

/// The SQLite capabilities with single-statement eager loading.
pub fn single_statement_capabilities() -> Capabilities {
    Capabilities {
        eager: EagerStrategy::SingleStatement,
        ..Capabilities::SQLITE
    }
}

/// A seeded in-memory backend declaring `strategy`'s capabilities.
pub fn backend(seed: Seed, strategy: Strategy) -> SqliteBackend {
    let backend = SqliteBackend::memory().expect("open");
    backend.exec(&seed.script()).expect("seed");
    match strategy {
        Strategy::SingleStatement => backend.with_capabilities(single_statement_capabilities()),
        Strategy::Default | Strategy::NPlusOne => backend,
    }
}

/// Users with their posts with their comments, the N+1 way.
pub async fn n_plus_one(db: &Db) -> sonic_db_core::Result<Vec<User>> {
    let mut users = db.select::<User>().all().await?;
    for user in &mut users {
        let mut posts = db
            .select::<Post>()
            .filter(Post::USER_ID.eq(user.id))
            .all()
            .await?;
        for post in &mut posts {
            post.comments = Some(
                db.select::<Comment>()
                    .filter(Comment::POST_ID.eq(post.id))
                    .all()
                    .await?,
            );
        }
        user.posts = Some(posts);
    }
    Ok(users)
}

/// A [`Db`] on a seeded database.
pub struct Bench {
    db: Db,
    strategy: Strategy,
    next_id: i64,
}

impl Bench {
    /// A fresh in-memory database with `seed`'s rows, loading relations the `strategy` way.
    pub fn new(seed: Seed, strategy: Strategy) -> Self {
        Bench {
            db: Db::new(backend(seed, strategy)),
            strategy,
            next_id: 1_000_001,
        }
    }

    /// Caches single records in an in-memory KV ([`MemoryKv`], default [`CacheConfig`]).
    pub fn with_kv(mut self) -> Self {
        self.db = self
            .db
            .clone()
            .with_kv(MemoryKv::new(), CacheConfig::new())
            .expect("cache config");
        self
    }

    /// The database handle.
    pub fn db(&self) -> &Db {
        &self.db
    }

    /// Trivial query: `db.select::<User>().all()`.
    pub fn trivial(&self) -> Vec<User> {
        block_on(self.db.select::<User>().all()).expect("select")
    }

    /// Medium query: black-haired users with their posts,
    /// `db.select::<User>().filter(User::HAIR_COLOR.eq("black")).with(User::POSTS).all()`.
    pub fn medium(&self) -> Vec<User> {
        block_on(
            self.db
                .select::<User>()
                .filter(User::HAIR_COLOR.eq("black"))
                .with(User::POSTS)
                .all(),
        )
        .expect("select")
    }

    /// Loading associations: `db.select::<User>().with(User::POSTS.with(Post::COMMENTS))`
    /// (or the N+1 loop).
    pub fn associations(&self) -> Vec<User> {
        block_on(async {
            match self.strategy {
                Strategy::NPlusOne => n_plus_one(&self.db).await,
                Strategy::Default | Strategy::SingleStatement => {
                    self.db
                        .select::<User>()
                        .with(User::POSTS.with(Post::COMMENTS))
                        .all()
                        .await
                }
            }
        })
        .expect("select")
    }

    /// Inserts `n` new users with one `db.insert_many(&users)` (which returns them as
    /// stored: `RETURNING`).
    pub fn insert(&mut self, n: usize) -> Vec<User> {
        let users = self.new_users(n);
        block_on(self.db.insert_many(&users)).expect("insert")
    }

    /// The users of [`Bench::insert`], inserted with `db.insert_many_count(&users)`: no
    /// `RETURNING`, the number of rows back (what raw rusqlite's plain multi-row INSERT and
    /// Diesel's `execute` do).
    pub fn insert_count(&mut self, n: usize) -> u64 {
        let users = self.new_users(n);
        block_on(self.db.insert_many_count(&users)).expect("insert")
    }

    /// The next `n` users of the insert workloads, not yet stored.
    fn new_users(&mut self, n: usize) -> Vec<User> {
        let users = fixture::new_users(self.next_id, n)
            .map(|(id, name)| User {
                id,
                name,
                hair_color: Some(fixture::INSERT_HAIR.to_string()),
                posts: None,
            })
            .collect();
        self.next_id += n as i64;
        users
    }

    /// Aggregate (Sonic's own): comments per post with the newest comment's id,
    /// `db.select::<Comment>().columns((Comment::POST_ID, count(), Comment::ID.max()))
    /// .group_by(Comment::POST_ID)`.
    pub fn aggregate(&self) -> Vec<(i64, u64, Option<i64>)> {
        block_on(
            self.db
                .select::<Comment>()
                .columns((Comment::POST_ID, count(), Comment::ID.max()))
                .group_by(Comment::POST_ID)
                .all(),
        )
        .expect("aggregate")
    }

    /// Join (Sonic's own): black-haired users LEFT JOIN their posts as typed pairs,
    /// `db.select::<User>().filter(User::HAIR_COLOR.eq("black")).left_join(User::POSTS)`.
    pub fn join(&self) -> Vec<(User, Option<Post>)> {
        block_on(
            self.db
                .select::<User>()
                .filter(User::HAIR_COLOR.eq("black"))
                .left_join(User::POSTS)
                .all(),
        )
        .expect("join")
    }

    /// `db.find::<User>(id)` (from KV when cached there).
    pub fn find(&self, id: i64) -> User {
        block_on(self.db.find::<User>(id))
            .expect("find")
            .expect("exists")
    }
}

/// Sonic's joined pairs in canonical form.
pub fn canonical_joined(rows: Vec<(User, Option<Post>)>) -> Canonical {
    let mut users: Canonical = Vec::new();
    for (u, p) in rows {
        if users.last().map(|(user, _)| user.0) != Some(u.id) {
            users.push(((u.id, u.name, u.hair_color), Vec::new()));
        }
        if let (Some(p), Some((_, posts))) = (p, users.last_mut()) {
            posts.push(((p.id, p.user_id, p.title, p.body), Vec::new()));
        }
    }
    users
}

/// Sonic's users (with whatever relations were loaded) in canonical form.
pub fn canonical_users(users: Vec<User>) -> Canonical {
    users
        .into_iter()
        .map(|u| {
            let posts = u
                .posts
                .unwrap_or_default()
                .into_iter()
                .map(|p| {
                    let comments = p
                        .comments
                        .unwrap_or_default()
                        .into_iter()
                        .map(|c| (c.id, c.post_id, c.text))
                        .collect();
                    ((p.id, p.user_id, p.title, p.body), comments)
                })
                .collect();
            ((u.id, u.name, u.hair_color), posts)
        })
        .collect()
}
