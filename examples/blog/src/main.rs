//! The seed's blog on Sonic, natively: in-memory SQLite for D1 and an in-memory KV.
//!
//! `cargo run -p sonic-example-blog` creates the schema, writes users, posts and comments,
//! reads them back the ways a blog does (latest posts with their authors, a user with posts
//! and comments, a page with its total, a record by id from KV), updates and deletes, and
//! prints each step. The clock is fixed so that the output is the same on every run.
//!
//! With `SONIC_LOG` set (an `EnvFilter` directive: `SONIC_LOG=debug`, or e.g.
//! `SONIC_LOG=sonic::sql=debug,sonic::cache=debug`), Sonic's `tracing` events go to stderr:
//! every statement and batch sent (SQL, parameter count, rows, changes, duration), the
//! eager-loading strategy of each select with relations, and every KV cache decision.

use serde::Serialize;
use sonic_db_core::query::or;
use sonic_db_core::sqlite::SqliteBackend;
use sonic_db_core::{Audit, CacheConfig, Db, FixedClock, MemoryKv, One, Schema};
use sonic_example_blog::schema::{Comment, Post, Role, User};

/// 2024-01-01T00:00:00Z, in Unix milliseconds.
const START: i64 = 1_704_067_200_000;

fn main() {
    trace_if_asked();
    if let Err(error) = pollster::block_on(run()) {
        eprintln!("error: {error}");
        std::process::exit(1);
    }
}

/// Prints Sonic's `tracing` events to stderr, filtered by `SONIC_LOG`, if it is set.
fn trace_if_asked() {
    let Some(directives) = std::env::var_os("SONIC_LOG") else {
        return;
    };
    match tracing_subscriber::EnvFilter::try_new(directives.to_string_lossy()) {
        Ok(filter) => tracing_subscriber::fmt()
            .with_env_filter(filter)
            .without_time()
            .with_writer(std::io::stderr)
            .init(),
        Err(error) => eprintln!("SONIC_LOG is not a valid filter ({error}); not tracing"),
    }
}

fn user(id: &str, name: &str, email: &str, role: Role) -> User {
    User {
        id: id.into(),
        name: Some(name.into()),
        email: email.into(),
        password: format!("hash-of-{id}"),
        role,
        audit: Audit::default(),
        posts: None,
    }
}

fn post(id: &str, user_id: &str, title: &str) -> Post {
    Post {
        id: id.into(),
        title: title.into(),
        body: Some(format!("The body of “{title}”.")),
        user_id: user_id.into(),
        audit: Audit::default(),
        author: One::NotLoaded,
        comments: None,
    }
}

fn comment(id: &str, post_id: &str, body: &str) -> Comment {
    Comment {
        id: id.into(),
        post_id: post_id.into(),
        body: body.into(),
        audit: Audit::default(),
        post: One::NotLoaded,
    }
}

fn show(title: &str, value: &impl Serialize) -> sonic_db_core::Result<()> {
    println!("{title}:\n{}\n", serde_json::to_string_pretty(value)?);
    Ok(())
}

async fn run() -> sonic_db_core::Result<()> {
    // The tables: their DDL (the same that `sonic` writes into the first D1 migration), and
    // the foreign keys the KV cache follows when a delete cascades.
    let schema = Schema::new()
        .table::<User>()
        .table::<Post>()
        .table::<Comment>();
    let clock = FixedClock::new(START);
    let db = Db::new(SqliteBackend::memory()?)
        .with_clock(clock.clone())
        .with_schema(&schema)
        .with_kv(MemoryKv::new(), CacheConfig::new())?;

    for statement in schema.statements() {
        db.sql(statement).run().await?;
    }
    let tables: Vec<&str> = schema.tables().iter().map(|t| t.name).collect();
    println!("created tables {}\n", tables.join(", "));

    let users = db
        .insert_many(&[
            user("u1", "Ada", "ada@example.com", Role::Admin),
            user("u2", "Grace", "grace@example.com", Role::User),
            user("u3", "Linus", "linus@example.com", Role::User),
        ])
        .await?;
    println!("inserted {} users", users.len());

    // One post per minute, so that "latest" means something.
    let titles = [
        ("u1", "Hello, Sonic"),
        ("u2", "Rust on Workers"),
        ("u1", "D1 has a 100-parameter limit"),
        ("u3", "Caching single records in KV"),
        ("u2", "Eager loading in one round trip"),
        ("u1", "Audit columns for free"),
        ("u3", "Typed filters"),
        ("u2", "Raw SQL when you need it"),
        ("u1", "Pages and totals"),
        ("u3", "Upserts"),
        ("u2", "Testing without Cloudflare"),
        ("u1", "Goodbye, string interpolation"),
    ];
    for (i, (author, title)) in titles.iter().enumerate() {
        clock.advance(60_000);
        db.insert(&post(&format!("p{:02}", i + 1), author, title))
            .await?;
    }
    println!("inserted {} posts", titles.len());
    let comments = db
        .insert_many(&[
            comment("c1", "p01", "First!"),
            comment("c2", "p01", "Welcome."),
            comment("c3", "p03", "Chunked inserts saved my day."),
        ])
        .await?;
    println!("inserted {} comments\n", comments.len());

    #[derive(Serialize)]
    struct Listing {
        title: String,
        author: Option<String>,
        created_on: i64,
    }
    let latest = db
        .select::<Post>()
        .with(Post::AUTHOR)
        .order_by(Post::CREATED_ON.desc())
        .order_by(Post::ID.desc())
        .limit(10)
        .all()
        .await?;
    let listing: Vec<Listing> = latest
        .into_iter()
        .map(|p| Listing {
            title: p.title,
            author: p.author.into_option().and_then(|a| a.name),
            created_on: p.audit.created_on,
        })
        .collect();
    show("the latest 10 posts with their author", &listing)?;

    let ada = db
        .select::<User>()
        .with(User::POSTS.with(Post::COMMENTS))
        .filter(User::EMAIL.eq("ada@example.com"))
        .one()
        .await?;
    show("Ada with her posts and their comments", &ada)?;

    let page = db
        .select::<Post>()
        .filter(or([
            Post::TITLE.like("%SQL%"),
            Post::TITLE.like("%KV%"),
            Post::TITLE.like("%Workers%"),
        ]))
        .order_by(Post::TITLE.asc())
        .limit(2)
        .page()
        .await?;
    let titles: Vec<&str> = page.items.iter().map(|p| p.title.as_str()).collect();
    println!(
        "posts about SQL, KV or Workers: page {titles:?} of {} in total\n",
        page.total
    );

    // Writes go through to KV, so a record read by id right after its insert comes from KV.
    if let Some(found) = db.find_with_source::<User>("u2").await? {
        println!(
            "found {} by id, served from {:?}\n",
            found.record.email, found.source
        );
    }

    clock.advance(60_000);
    let mut grace = db
        .find::<User>("u2")
        .await?
        .ok_or(sonic_db_core::Error::NotFound {
            table: "users".into(),
        })?;
    grace.name = Some("Grace Hopper".into());
    let grace = db.update(&grace).await?;
    println!(
        "updated u2: name {}, created_on {} kept, updated_on {}",
        grace.name.as_deref().unwrap_or_default(),
        grace.audit.created_on,
        grace.audit.updated_on
    );
    let edited = db
        .update_where::<Post>()
        .set(Post::BODY, "Edited.")
        .filter(Post::USER_ID.eq("u3"))
        .returning()
        .await?;
    println!("updated the body of {} posts by u3", edited.len());
    let upserted = db.upsert(&post("p13", "u3", "Written by upsert")).await?;
    println!("upserted {:?}\n", upserted.title);

    let deleted = db.delete::<Post>("p03").await?;
    println!("deleted p03: {deleted}");
    let removed = db
        .delete_where::<User>()
        .filter(User::ROLE.eq(Role::User) & User::ID.ne("u2"))
        .returning()
        .await?;
    let removed: Vec<&str> = removed.iter().map(|u| u.id.as_str()).collect();
    println!(
        "deleted users {removed:?} (their posts and comments went with them, in SQL and in KV: \
         ON DELETE CASCADE)"
    );
    println!(
        "now {} users, {} posts, {} comments\n",
        db.select::<User>().count().await?,
        db.select::<Post>().count().await?,
        db.select::<Comment>().count().await?
    );

    let roles = db
        .sql("SELECT role, COUNT(*) AS users FROM users GROUP BY role ORDER BY role")
        .all_json()
        .await?;
    show("users per role (raw SQL)", &roles)?;
    Ok(())
}
