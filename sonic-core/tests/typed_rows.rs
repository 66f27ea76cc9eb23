//! The typed read path: records decoded straight from the rows SQLite lends
//! (`SqlBackend::execute_rows`, read through `RowSink::sqlite_row`) are the records the
//! `Value` path decodes, and so are those of a backend lending rows through `&dyn Row`, errors
//! included; a backend that does not lend rows gets the `Value` path; `insert_many_count`
//! inserts without `RETURNING`.

// Test setup outside `#[test]` functions fails the test by panicking, as tests do.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]
#![cfg(all(feature = "rusqlite", feature = "derive"))]

mod query_support;

use query_support::*;
use sonic_db_core::backend::{Params, RowSink, RowsRead};
use sonic_db_core::row::Row;
use sonic_db_core::sqlite::SqliteBackend;
use sonic_db_core::{
    Capabilities, Db, Error, FixedClock, QueryResult, Result, SqlBackend, Statement,
};

/// SQLite behind a backend of its own, which either hands back whole results only (as D1
/// does: the `Value` path) or lends rows one by one as vectors of values through
/// `RowSink::row` (the path of a backend other than rusqlite that lends rows).
struct Wrapped {
    sqlite: SqliteBackend,
    lends: bool,
}

#[async_trait::async_trait]
impl SqlBackend for Wrapped {
    fn capabilities(&self) -> &Capabilities {
        self.sqlite.capabilities()
    }
    async fn execute(&self, statement: &Statement) -> Result<QueryResult> {
        self.sqlite.execute(statement).await
    }
    async fn batch(&self, statements: &[Statement]) -> Result<Vec<QueryResult>> {
        self.sqlite.batch(statements).await
    }
    async fn execute_rows(
        &self,
        sql: &str,
        params: Params<'_>,
        sink: &mut dyn RowSink,
    ) -> Result<RowsRead> {
        let result = self.sqlite.execute(&params.statement(sql)).await?;
        if !self.lends {
            return Ok(RowsRead::Returned(result));
        }
        let width = result.columns.len().max(1);
        for row in result.values.chunks(width) {
            sink.row(&row.to_vec())?;
        }
        Ok(RowsRead::Streamed {
            changes: result.changes,
        })
    }
}

fn sqlite() -> SqliteBackend {
    let sqlite = SqliteBackend::memory().unwrap();
    sqlite.exec(&schema().to_sql()).unwrap();
    sqlite
}

/// The same database contents behind every path: rusqlite's rows, rows lent as `&dyn Row`,
/// whole results.
fn all_paths() -> [Db; 3] {
    let clock = FixedClock::new(NOW);
    [
        Db::new(sqlite()).with_clock(clock.clone()),
        Db::new(Wrapped {
            sqlite: sqlite(),
            lends: true,
        })
        .with_clock(clock.clone()),
        Db::new(Wrapped {
            sqlite: sqlite(),
            lends: false,
        })
        .with_clock(clock),
    ]
}

fn comment(id: i64, post_id: &str) -> Comment {
    Comment::new(id, post_id, &format!("body {id}"))
}

#[test]
fn the_streamed_path_decodes_what_the_value_path_decodes() {
    let sink_used = |db: &Db| {
        struct Count(usize);
        impl RowSink for Count {
            fn row(&mut self, _: &dyn Row) -> Result<()> {
                self.0 += 1;
                Ok(())
            }
        }
        let mut count = Count(0);
        let read = block_on(
            db.backend()
                .execute_rows("SELECT 1", Params::Values(&[]), &mut count),
        )
        .unwrap();
        matches!(read, RowsRead::Streamed { changes: 0 }) && count.0 == 1
    };
    let [streamed, lent, whole] = all_paths();
    assert!(sink_used(&streamed));
    assert!(sink_used(&lent));
    assert!(!sink_used(&whole));

    let mut outcomes = Vec::new();
    let mut joins = Vec::new();
    for db in [&streamed, &lent, &whole] {
        let user = User::new("u1", "ada@example.com");
        let inserted = block_on(db.insert(&user)).unwrap();
        let post = Post::new("p1", "u1", "Hello", 3);
        block_on(db.insert(&post)).unwrap();
        let comments: Vec<Comment> = (1..=6).map(|i| comment(i, "p1")).collect();
        let stored = block_on(db.insert_many(&comments)).unwrap();
        let selected = block_on(db.select::<Comment>().all()).unwrap();
        let found = block_on(db.find::<Comment>(3)).unwrap();
        let missing = block_on(db.find::<Comment>(99)).unwrap();
        let mut changed = stored[1].clone();
        changed.body = "changed".into();
        let updated = block_on(db.update(&changed)).unwrap();
        let upserted = block_on(db.upsert(&comment(7, "p1"))).unwrap();
        outcomes.push((
            inserted, stored, selected, found, missing, updated, upserted,
        ));
        // A post without comments too: the joined eager load and the left join see NULLs.
        block_on(db.insert(&Post::new("p2", "u1", "Quiet", 0))).unwrap();
        let with_comments = block_on(db.select::<Post>().with(Post::COMMENTS).all()).unwrap();
        let first = block_on(db.select::<Post>().with(Post::COMMENTS).first()).unwrap();
        let pairs = block_on(db.select::<Post>().left_join(Post::COMMENTS).all()).unwrap();
        let inner = block_on(db.select::<Comment>().join(Comment::POST).all()).unwrap();
        joins.push((with_comments, first, pairs, inner));
    }
    assert_eq!(outcomes[0], outcomes[1]);
    assert_eq!(outcomes[0], outcomes[2]);
    assert_eq!(joins[0], joins[1]);
    assert_eq!(joins[0], joins[2]);
    let (with_comments, first, pairs, inner) = &joins[0];
    let counts: Vec<_> = with_comments
        .iter()
        .map(|p| (p.id.as_str(), p.comments.as_ref().map(Vec::len)))
        .collect();
    assert_eq!(counts, [("p1", Some(7)), ("p2", Some(0))]);
    assert_eq!(first.as_ref().map(|p| p.id.as_str()), Some("p1"));
    assert_eq!(pairs.len(), 8); // seven comments of p1, and p2 once without one
    assert_eq!(
        pairs.last().map(|(p, c)| (p.id.as_str(), c.is_none())),
        Some(("p2", true))
    );
    assert_eq!(inner.len(), 7);
    assert!(inner.iter().all(|(c, p)| c.post_id == p.id && p.id == "p1"));
    let (_, stored, selected, found, missing, updated, upserted) = &outcomes[0];
    assert_eq!(
        stored,
        &(1..=6).map(|i| comment(i, "p1")).collect::<Vec<_>>()
    );
    assert_eq!(selected, stored);
    assert_eq!(found.as_ref(), Some(&stored[2]));
    assert_eq!(*missing, None);
    assert_eq!(updated.body, "changed");
    assert_eq!(upserted, &comment(7, "p1"));
}

#[test]
fn a_bad_cell_names_table_column_and_key_on_both_paths() {
    let messages: Vec<String> = all_paths()
        .iter()
        .map(|db| {
            block_on(db.insert(&User::new("u1", "ada@example.com"))).unwrap();
            block_on(db.insert(&Post::new("p1", "u1", "Hello", 3))).unwrap();
            block_on(db.sql("UPDATE posts SET views = 'many'").run()).unwrap();
            let error = block_on(db.select::<Post>().all()).unwrap_err();
            assert!(matches!(error, Error::Decode { .. }), "{error}");
            error.to_string()
        })
        .collect();
    assert_eq!(messages[0], messages[1]);
    assert_eq!(messages[0], messages[2]);
    assert!(
        messages[0].contains("`posts`.`views` of the row with key TEXT \"p1\""),
        "{}",
        messages[0]
    );
}

#[test]
fn insert_many_count_inserts_without_returning() {
    let (db, sql, _) = setup_with(Capabilities::D1);
    let users: Vec<User> = (0..40)
        .map(|i| User::new(&format!("u{i}"), &format!("u{i}@example.com")))
        .collect();
    assert_eq!(block_on(db.insert_many_count(&users)).unwrap(), 40);
    // D1 binds 100 values: 40 users of 6 columns take 3 statements, in one batch.
    assert_eq!((sql.round_trips(), sql.statement_count()), (1, 3));
    assert!(sql
        .statements()
        .iter()
        .all(|s| !s.sql.contains("RETURNING")));
    let stored = block_on(db.select::<User>().all()).unwrap();
    assert_eq!(stored.len(), 40);
    assert!(stored.iter().all(|u| u.audit.created_on == NOW)); // stamped as by insert_many
    assert_eq!(block_on(db.insert_many_count::<User>(&[])).unwrap(), 0);

    // All or nothing: the clash in the last statement undoes the first two.
    let clash: Vec<User> = (40..80)
        .map(|i| User::new(&format!("u{i}"), &format!("u{}@example.com", i % 79)))
        .collect();
    let error = block_on(db.insert_many_count(&clash)).unwrap_err();
    assert!(matches!(error, Error::UniqueViolation { .. }), "{error}");
    assert_eq!(block_on(db.select::<User>().count()).unwrap(), 40);
}
