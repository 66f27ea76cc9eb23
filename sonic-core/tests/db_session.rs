//! `Db::session` / `Db::bookmark`: a read-replication session at the `Db` level, on a test
//! backend that has sessions (as D1 does): the bookmark goes in and comes back newer, the KV
//! cache serves and invalidates in the session but is never filled from it.

// Test setup outside `#[test]` functions fails the test by panicking, as tests do.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::sync::{Arc, Mutex};

use pollster::block_on;
use sonic_db_core::kv::MemoryKv;
use sonic_db_core::sqlite::SqliteBackend;
use sonic_db_core::{
    CacheConfig, Capabilities, Db, QueryResult, Result, Schema, Source, SqlBackend, Statement,
    Table, Value,
};

#[derive(Debug, Clone, PartialEq, Table)]
#[table(name = "notes")]
struct Note {
    #[column(primary_key)]
    id: String,
    text: String,
}

/// SQLite with sessions: a session's bookmark is `b{n}`, `n` counting the statements run since
/// the database began (every session shares the counter, as replicas share the primary's log).
struct WithSessions {
    sqlite: Arc<SqliteBackend>,
    log: Arc<Mutex<u64>>,
    /// `None` outside a session; else the bookmark the session started at, then its latest.
    session: Option<Mutex<String>>,
    started_at: Arc<Mutex<Vec<Option<String>>>>,
}

#[async_trait::async_trait]
impl SqlBackend for WithSessions {
    fn capabilities(&self) -> &Capabilities {
        self.sqlite.capabilities()
    }
    async fn execute(&self, statement: &Statement) -> Result<QueryResult> {
        let result = self.sqlite.execute(statement).await?;
        self.advance();
        Ok(result)
    }
    async fn batch(&self, statements: &[Statement]) -> Result<Vec<QueryResult>> {
        let results = self.sqlite.batch(statements).await?;
        self.advance();
        Ok(results)
    }
    fn session(&self, bookmark: Option<&str>) -> Result<Option<Arc<dyn SqlBackend + Send + Sync>>> {
        self.started_at
            .lock()
            .unwrap()
            .push(bookmark.map(str::to_owned));
        Ok(Some(Arc::new(WithSessions {
            sqlite: self.sqlite.clone(),
            log: self.log.clone(),
            session: Some(Mutex::new(bookmark.unwrap_or("b0").to_owned())),
            started_at: self.started_at.clone(),
        })))
    }
    fn bookmark(&self) -> Result<Option<String>> {
        Ok(self.session.as_ref().map(|b| b.lock().unwrap().clone()))
    }
}

impl WithSessions {
    fn advance(&self) {
        let mut n = self.log.lock().unwrap();
        *n += 1;
        if let Some(bookmark) = &self.session {
            *bookmark.lock().unwrap() = format!("b{n}");
        }
    }
}

fn setup() -> (Db, Arc<Mutex<Vec<Option<String>>>>) {
    let started_at = Arc::new(Mutex::new(Vec::new()));
    let backend = WithSessions {
        sqlite: Arc::new(SqliteBackend::memory().unwrap()),
        log: Arc::default(),
        session: None,
        started_at: started_at.clone(),
    };
    let db = Db::new(backend)
        .with_kv(MemoryKv::new(), CacheConfig::new())
        .unwrap();
    for s in Schema::new().table::<Note>().statements() {
        block_on(db.sql(s).run()).unwrap();
    }
    (db, started_at)
}

fn note(id: &str, text: &str) -> Note {
    Note {
        id: id.into(),
        text: text.into(),
    }
}

#[test]
fn a_session_starts_at_the_clients_bookmark_and_returns_a_newer_one() {
    let (db, started_at) = setup();
    assert_eq!(db.bookmark().unwrap(), None, "outside a session");

    let request = db.session(Some("b1")).unwrap();
    assert_eq!(started_at.lock().unwrap().clone(), [Some("b1".to_owned())]);
    assert_eq!(request.bookmark().unwrap().as_deref(), Some("b1"));
    block_on(request.insert(&note("n1", "mine"))).unwrap();
    let after_write = request.bookmark().unwrap().unwrap();
    assert_ne!(after_write, "b1", "a write moves the bookmark");

    // The next request starts from the bookmark the client got back, and reads its write.
    let next = db.session(Some(&after_write)).unwrap();
    assert_eq!(
        started_at.lock().unwrap().last().cloned().flatten(),
        Some(after_write)
    );
    let read = block_on(next.find::<Note>("n1")).unwrap();
    assert_eq!(read.map(|n| n.text).as_deref(), Some("mine"));

    // Without a bookmark the session starts anywhere.
    db.session(None).unwrap();
    assert_eq!(started_at.lock().unwrap().last().cloned(), Some(None));
}

#[test]
fn a_session_reads_and_invalidates_the_cache_but_never_fills_it() {
    let (db, _) = setup();
    block_on(db.insert(&note("n1", "v1"))).unwrap();
    let cache = db.cache().unwrap().clone();
    let n1 = Value::Text("n1".into());

    let session = db.session(Some("b1")).unwrap();
    let found = block_on(session.find_with_source::<Note>("n1"))
        .unwrap()
        .unwrap();
    assert_eq!(found.source, Source::D1);
    assert_eq!(
        block_on(cache.peek::<Note>(&n1)).unwrap(),
        None,
        "a session's miss fills nothing (its replica may be behind)"
    );

    // Filled outside the session, the entry serves the session.
    block_on(db.find::<Note>("n1")).unwrap();
    assert_eq!(
        block_on(cache.peek::<Note>(&n1)).unwrap(),
        Some(note("n1", "v1"))
    );
    let found = block_on(session.find_with_source::<Note>("n1"))
        .unwrap()
        .unwrap();
    assert_eq!(found.source, Source::Kv);

    // A write in the session invalidates it.
    block_on(session.update(&note("n1", "v2"))).unwrap();
    assert_eq!(block_on(cache.peek::<Note>(&n1)).unwrap(), None);
    let read = block_on(db.find::<Note>("n1")).unwrap();
    assert_eq!(read.map(|n| n.text).as_deref(), Some("v2"));
}

#[test]
fn a_backend_without_sessions_gives_the_same_database() {
    let db = Db::new(SqliteBackend::memory().unwrap());
    let session = db.session(Some("ignored")).unwrap();
    block_on(session.sql("CREATE TABLE t (x INTEGER)").run()).unwrap();
    assert_eq!(
        block_on(db.sql("INSERT INTO t VALUES (1)").run()).unwrap(),
        1
    );
    assert_eq!(session.bookmark().unwrap(), None);
}
