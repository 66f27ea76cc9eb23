//! Diesel 2.3 (`sqlite` feature), written as `diesel_bench` writes it: `load`,
//! `left_outer_join`, `insert_into(..).values(&vec)`, `belonging_to` + `grouped_by`.

use diesel::connection::SimpleConnection;
use diesel::prelude::*;

use crate::fixture::{self, Seed};
use crate::{Canonical, CanonicalPost};

/// The tables (the DDL is Sonic's; see [`crate::fixture::schema_sql`]).
// Reason: `diesel::table!` generates modules and structs without documentation.
#[allow(missing_docs)]
pub mod schema {
    diesel::table! {
        users {
            id -> BigInt,
            name -> Text,
            hair_color -> Nullable<Text>,
        }
    }

    diesel::table! {
        posts {
            id -> BigInt,
            user_id -> BigInt,
            title -> Text,
            body -> Nullable<Text>,
        }
    }

    diesel::table! {
        comments {
            id -> BigInt,
            post_id -> BigInt,
            text -> Text,
        }
    }

    diesel::joinable!(comments -> posts (post_id));
    diesel::joinable!(posts -> users (user_id));
    diesel::allow_tables_to_appear_in_same_query!(users, posts, comments);
}

use schema::{comments, posts, users};

/// A row of `users`.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Identifiable)]
#[diesel(table_name = users)]
pub struct User {
    /// Primary key.
    pub id: i64,
    /// Name.
    pub name: String,
    /// Hair colour, if any.
    pub hair_color: Option<String>,
}

/// A new row of `users`.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = users)]
pub struct NewUser {
    /// Primary key (explicit, as Sonic's are).
    pub id: i64,
    /// Name.
    pub name: String,
    /// Hair colour, if any.
    pub hair_color: Option<String>,
}

/// A row of `posts`.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Identifiable, Associations)]
#[diesel(table_name = posts, belongs_to(User))]
pub struct Post {
    /// Primary key.
    pub id: i64,
    /// Author.
    pub user_id: i64,
    /// Title.
    pub title: String,
    /// Body, if any.
    pub body: Option<String>,
}

/// A row of `comments`.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Identifiable, Associations)]
#[diesel(table_name = comments, belongs_to(Post))]
pub struct Comment {
    /// Primary key.
    pub id: i64,
    /// The post.
    pub post_id: i64,
    /// Text.
    pub text: String,
}

/// Users with their posts with their comments.
pub type Nested = Vec<(User, Vec<(Post, Vec<Comment>)>)>;

/// One Diesel connection with a seeded database.
pub struct Bench {
    conn: SqliteConnection,
    next_id: i64,
}

impl Bench {
    /// A fresh in-memory database with `seed`'s rows.
    pub fn new(seed: Seed) -> Self {
        let mut conn = SqliteConnection::establish(":memory:").expect("open");
        conn.batch_execute("PRAGMA foreign_keys = ON;")
            .expect("foreign keys");
        conn.batch_execute(&seed.script()).expect("seed");
        Bench {
            conn,
            next_id: 1_000_001,
        }
    }

    /// Trivial query: `users::table.load::<User>(..)`.
    pub fn trivial(&mut self) -> Vec<User> {
        users::table.load::<User>(&mut self.conn).expect("load")
    }

    /// Medium query: `users.left_outer_join(posts).filter(hair_color.eq("black"))`.
    pub fn medium(&mut self) -> Vec<(User, Option<Post>)> {
        users::table
            .left_outer_join(posts::table)
            .filter(users::hair_color.eq("black"))
            .load::<(User, Option<Post>)>(&mut self.conn)
            .expect("load")
    }

    /// Aggregate: comments per post with the newest comment's id.
    pub fn aggregate(&mut self) -> Vec<(i64, i64, Option<i64>)> {
        use diesel::dsl::{count_star, max};
        comments::table
            .group_by(comments::post_id)
            .select((comments::post_id, count_star(), max(comments::id)))
            .load::<(i64, i64, Option<i64>)>(&mut self.conn)
            .expect("load")
    }

    /// Loading associations: `belonging_to` + `grouped_by`, exactly as `diesel_bench`.
    pub fn associations(&mut self) -> Nested {
        let conn = &mut self.conn;
        let users = users::table.load::<User>(conn).expect("users");
        let posts = Post::belonging_to(&users)
            .load::<Post>(conn)
            .expect("posts");
        let comments = Comment::belonging_to(&posts)
            .load::<Comment>(conn)
            .expect("comments")
            .grouped_by(&posts);
        let posts_and_comments = posts.into_iter().zip(comments).grouped_by(&users);
        users.into_iter().zip(posts_and_comments).collect()
    }

    /// Inserts `n` new users: `insert_into(users).values(&vec).execute(..)`.
    pub fn insert(&mut self, n: usize) {
        let rows: Vec<NewUser> = fixture::new_users(self.next_id, n)
            .map(|(id, name)| NewUser {
                id,
                name,
                hair_color: Some(fixture::INSERT_HAIR.to_string()),
            })
            .collect();
        self.next_id += n as i64;
        let changed = diesel::insert_into(users::table)
            .values(&rows)
            .execute(&mut self.conn)
            .expect("insert");
        debug_assert_eq!(changed, n);
    }

    /// One user by primary key: `users::table.find(id).first(..)`.
    pub fn find(&mut self, id: i64) -> User {
        users::table
            .find(id)
            .first::<User>(&mut self.conn)
            .expect("find")
    }
}

/// Users without posts, in canonical form.
pub fn canonical_users(users: Vec<User>) -> Canonical {
    users
        .into_iter()
        .map(|u| ((u.id, u.name, u.hair_color), Vec::new()))
        .collect()
}

/// Joined rows grouped by user.
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
