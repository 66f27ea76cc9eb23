//! Model-based test of the KV cache behind `Db`, with faults injected into KV and SQL.
//!
//! Random sequences of insert / insert many / update / upsert / update by filter / delete /
//! delete by filter / find / fresh find / list / clock jumps run against `Db` handles on
//! SQLite (wrapped in `FaultySql`) and `MemoryKv` (wrapped in `FaultyKv`, with lost
//! acknowledgements too), and against a plain `BTreeMap` holding every version of every
//! record. Every backend call also yields to the executor a random number of times, and some
//! steps run a write and a find *concurrently* (joined), so reads race writes — of the same
//! handle and of another one — in every order. Fills are deferred (each handle's
//! [`Defer`](sonic_db_core::cache::Defer) hook queues them) and run later, in random order:
//! a fill of a row read before a write can land after it. Each sequence draws its bucket
//! count (1, 4 or 64) and its budget of generation puts (1 to 4), so writes of several
//! records fall back to the table generation. Notes have tags (up to 24, a cached table whose
//! rows `ON DELETE CASCADE` with their note): deleting notes, by key or by filter, cascades to
//! many cached keys at once, which every handle must then stop reading.
//!
//! Checked after every step — the guarantee of `sonic-core/docs/coherence.md`:
//!
//! * an acknowledged write did what the model says (and returned the right rows / counts);
//! * a write that returned an error changed nothing (SQL equals the model);
//! * **no `find`, through any handle, returns a value older than the last write acknowledged
//!   before the find began**: a find with no write running alongside returns exactly the
//!   model's current value, and one racing a write returns the value before it or after it —
//!   except, for *other* handles, a record whose write KV refused to invalidate (every
//!   bucket and table generation put failed twice, reported as a table-wide `Suspect` event):
//!   other handles may read its older value until the TTL after that write (the stated
//!   window); the writing handle still reads its writes;
//! * `find_fresh` and lists always equal the model;
//! * at the end, with faults off, deferred fills run and the TTL passed, every handle reads
//!   the model, then hits KV.
//!
//! Two suites: one handle, and two handles sharing SQL and KV (two isolates in a location).
//! `SONIC_MODEL_SEQUENCES` sets the sequences per suite (default 5,000, so 10,000 in all,
//! about 10 s in a debug build), `SONIC_MODEL_SEED`
//! the first seed. A failure prints its seed, step and the steps so far; rerun it alone with
//! `SONIC_MODEL_SEED=<seed> SONIC_MODEL_SEQUENCES=1` (the two-handle suite xors its seeds
//! with `TWO_HANDLE_SALT`).

// Test setup outside `#[test]` functions fails the test by panicking, as tests do.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod cache_common;

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use cache_common::{block_on, Events, Note};
use sonic_db_core::cache::{CacheConfig, CacheEvent, Deferred, Found, KvCache, Source, TableCache};
use sonic_db_core::kv::{KvBackend, KvListOptions, KvListPage, KvPutOptions, MemoryKv};
use sonic_db_core::sqlite::SqliteBackend;
use sonic_db_core::testing::faulty_sql::{FaultySql, SqlFaultRates};
use sonic_db_core::testing::kv::{FaultyKv, KvFaultRates, SeededRng};
use sonic_db_core::testing::sql::CountingSql;
use sonic_db_core::{
    Capabilities, Clock, Column, ColumnDef, Db, Error, FixedClock, ForeignKey, QueryResult, Result,
    Schema, SqlBackend, SqlType, Statement, Table, TableDef, Value,
};

const ID: Column<Note, i64> = Column::new(0);
const TITLE: Column<Note, String> = Column::new(1);
const SCORE: Column<Note, f64> = Column::new(3);

// ---- tags: many small children of a note, deleted with it (`ON DELETE CASCADE`) ----

/// A tag of a note; deleting the note deletes its tags in SQL, which the cache follows.
#[derive(Debug, Clone, PartialEq)]
struct Tag {
    id: i64,
    note_id: i64,
}

static TAGS: TableDef = TableDef {
    name: "tags",
    rust_name: "Tag",
    columns: &[
        ColumnDef {
            primary_key: true,
            ..ColumnDef::new("id", "id", SqlType::Integer)
        },
        ColumnDef {
            references: Some(ForeignKey {
                target: || (&cache_common::NOTES, &cache_common::NOTES.columns[0]),
                on_delete: Some("CASCADE"),
            }),
            ..ColumnDef::new("note_id", "note_id", SqlType::Integer)
        },
    ],
    primary_key: &[0],
    relations: &[],
    constraints: sonic_db_core::schema::Constraints::NONE,
};

impl Table for Tag {
    const DEF: &'static TableDef = &TAGS;
    type PrimaryKey = i64;

    fn encode_into(&self, out: &mut Vec<Value>) -> Result<()> {
        out.push(Value::Integer(self.id));
        out.push(Value::Integer(self.note_id));
        Ok(())
    }

    fn column_value(&self, index: usize) -> Result<Value> {
        match index {
            0 => Ok(Value::Integer(self.id)),
            1 => Ok(Value::Integer(self.note_id)),
            _ => Err(Error::InvalidQuery(format!("no column {index}"))),
        }
    }

    fn decode(row: &mut [Value]) -> Result<Self> {
        // INTEGER columns arrive as text under D1's capabilities (#12 item 3).
        for value in row.iter_mut() {
            if let Value::Text(text) = value {
                if let Some(i) = sonic_db_core::value::integer_from_text(text) {
                    *value = Value::Integer(i);
                }
            }
        }
        match row {
            [Value::Integer(id), Value::Integer(note_id)] => Ok(Tag {
                id: *id,
                note_id: *note_id,
            }),
            _ => Err(Error::Database {
                message: format!("bad tags row {row:?}"),
            }),
        }
    }

    fn touch(&mut self, _now_ms: i64, _inserting: bool) {}
}

/// Tag ids: many keys per note, so that a note's delete cascades to more buckets than the
/// budget.
const TAG_IDS: i64 = 24;

const TTL_SECS: u64 = 120;
const IDS: i64 = 6;
const T0: i64 = 1_700_000_000_000;
const TWO_HANDLE_SALT: u64 = 0x5eed_0000_0000;

// ---- interleaving: backends that yield before every call ----

/// Returns `Pending` `n` times (waking itself), then `Ready`.
struct YieldN(u64);

impl Future for YieldN {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.0 == 0 {
            Poll::Ready(())
        } else {
            self.0 -= 1;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    }
}

#[derive(Clone)]
struct Yielding<B> {
    inner: B,
    rng: Arc<Mutex<SeededRng>>,
}

impl<B> Yielding<B> {
    fn new(inner: B, seed: u64) -> Self {
        Yielding {
            inner,
            rng: Arc::new(Mutex::new(SeededRng::new(seed))),
        }
    }
    fn pause(&self) -> YieldN {
        YieldN(self.rng.lock().unwrap().below(5))
    }
}

#[async_trait::async_trait]
impl<B: SqlBackend + Send + Sync> SqlBackend for Yielding<B> {
    fn capabilities(&self) -> &Capabilities {
        self.inner.capabilities()
    }
    async fn execute(&self, statement: &Statement) -> Result<QueryResult> {
        self.pause().await;
        self.inner.execute(statement).await
    }
    async fn batch(&self, statements: &[Statement]) -> Result<Vec<QueryResult>> {
        self.pause().await;
        self.inner.batch(statements).await
    }
}

#[async_trait::async_trait]
impl<K: KvBackend> KvBackend for Yielding<K> {
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>> {
        self.pause().await;
        self.inner.get(key).await
    }
    async fn put(&self, key: &str, value: &[u8], options: &KvPutOptions) -> Result<()> {
        self.pause().await;
        self.inner.put(key, value, options).await
    }
    async fn delete(&self, key: &str) -> Result<()> {
        self.pause().await;
        self.inner.delete(key).await
    }
    async fn list(&self, options: &KvListOptions) -> Result<KvListPage> {
        self.pause().await;
        self.inner.list(options).await
    }
}

type Sql = FaultySql<CountingSql<SqliteBackend>>;
type Kv = FaultyKv<MemoryKv>;

// ---- the model ----

/// Every version a record went through (`None`: absent), oldest first.
#[derive(Debug, Default)]
struct Model {
    history: BTreeMap<i64, Vec<Option<Note>>>,
    /// When each record was last written (clock ms).
    written_at: BTreeMap<i64, i64>,
    /// Every version of every tag (`None`: absent), oldest first.
    tags: BTreeMap<i64, Vec<Option<Tag>>>,
}

impl Model {
    fn current(&self, id: i64) -> Option<&Note> {
        self.history
            .get(&id)
            .and_then(|h| h.last())
            .and_then(Option::as_ref)
    }
    fn version(&self, id: i64) -> usize {
        self.history.get(&id).map_or(0, Vec::len)
    }
    fn tag(&self, id: i64) -> Option<&Tag> {
        self.tags
            .get(&id)
            .and_then(|h| h.last())
            .and_then(Option::as_ref)
    }
    /// The tags a delete of these notes removes (`ON DELETE CASCADE`).
    fn tags_of(&self, notes: &[i64]) -> Vec<i64> {
        (1..=TAG_IDS)
            .filter(|&t| self.tag(t).is_some_and(|tag| notes.contains(&tag.note_id)))
            .collect()
    }
    fn rows(&self) -> Vec<Note> {
        (1..=IDS)
            .filter_map(|id| self.current(id).cloned())
            .collect()
    }
}

#[derive(Debug, Clone)]
enum Op {
    Insert(Note),
    InsertMany(Vec<Note>),
    Update(Note),
    Upsert(Note),
    UpdateWhere {
        below: f64,
        title: String,
        returning: bool,
    },
    Delete(i64),
    DeleteWhere(Vec<i64>),
    InsertTags(Vec<Tag>),
}

/// The records a write changes and their new values (`None`: deleted).
type Changes = Vec<(i64, Option<Note>)>;

/// What a write returned, reduced to what the model checks.
#[derive(Debug)]
enum Outcome {
    Rows(Vec<Note>),
    Count(u64),
    Deleted(bool),
}

async fn execute(db: &Db, op: &Op) -> Result<Outcome> {
    Ok(match op {
        Op::Insert(note) => Outcome::Rows(vec![db.insert(note).await?]),
        Op::InsertMany(notes) => Outcome::Rows(db.insert_many(notes).await?),
        Op::Update(note) => Outcome::Rows(vec![db.update(note).await?]),
        Op::Upsert(note) => Outcome::Rows(vec![db.upsert(note).await?]),
        Op::UpdateWhere {
            below,
            title,
            returning,
        } => {
            let update = db
                .update_where::<Note>()
                .set(TITLE, title.clone())
                .filter(SCORE.lt(*below));
            if *returning {
                let mut rows = update.returning().await?;
                rows.sort_by_key(|n| n.id);
                Outcome::Rows(rows)
            } else {
                Outcome::Count(update.run().await?)
            }
        }
        Op::Delete(id) => Outcome::Deleted(db.delete::<Note>(*id).await?),
        Op::DeleteWhere(ids) => Outcome::Count(
            db.delete_where::<Note>()
                .filter(ID.in_list(ids.clone()))
                .run()
                .await?,
        ),
        Op::InsertTags(tags) => Outcome::Count(db.insert_many(tags).await?.len() as u64),
    })
}

struct Handle {
    db: Db,
    /// What the handle's cache reported (a table-wide `Suspect`: KV refused an invalidation).
    events: Events,
}

#[derive(Debug, Default, Clone, Copy)]
struct Stats {
    steps: u64,
    finds_of_present: u64,
    kv_hits: u64,
    concurrent: u64,
    failed_writes: u64,
    /// Finds of another handle's write that KV refused to invalidate (the stated window).
    exempt_reads: u64,
    /// Tags a delete of their note removed (`ON DELETE CASCADE`).
    cascaded_tags: u64,
}

struct World {
    seed: u64,
    rng: SeededRng,
    sql: Sql,
    kv: Kv,
    clock: FixedClock,
    handles: Vec<Handle>,
    model: Model,
    step: usize,
    log: Vec<String>,
    stats: Stats,
    /// Fills the handles deferred, not run yet.
    deferred: Arc<Mutex<Vec<Deferred>>>,
    /// `(handle, id)` → until when (clock ms) that handle may read an older value of the
    /// record: another handle's write of it was acknowledged but KV refused its invalidation.
    exempt: BTreeMap<(usize, &'static str, i64), i64>,
}

fn is_injected(error: &Error) -> bool {
    matches!(error, Error::Database { message } if message.starts_with("injected fault"))
}

impl World {
    /// A world on `database` (emptied first: one connection per suite keeps its prepared
    /// statements, which makes the suite several times faster than a database per sequence).
    fn new(seed: u64, handles: usize, database: &CountingSql<SqliteBackend>) -> World {
        database.inner().exec("DELETE FROM tags").unwrap();
        database.inner().exec("DELETE FROM notes").unwrap();
        let mut rng = SeededRng::new(seed);
        // Each sequence draws its own fault rates: some calm, some stormy.
        let kv_rate = [0.0, 0.05, 0.2, 0.5][rng.below(4) as usize];
        let sql_rate = [0.0, 0.05, 0.2][rng.below(3) as usize];
        let sql = FaultySql::new(
            database.clone(),
            rng.next_u64(),
            SqlFaultRates::uniform(sql_rate),
        );
        let clock = FixedClock::new(T0);
        let kv = FaultyKv::new(
            MemoryKv::with_clock(clock.clone()),
            rng.next_u64(),
            KvFaultRates {
                lost_ack: kv_rate / 2.0,
                ..KvFaultRates::uniform(kv_rate)
            },
        );
        let buckets = [1, 4, 64][rng.below(3) as usize];
        let config = CacheConfig::new()
            .default_table(TableCache::new().ttl(TTL_SECS).buckets(buckets))
            .max_kv_writes_per_write(1 + rng.below(4) as usize);
        let deferred: Arc<Mutex<Vec<Deferred>>> = Arc::default();
        let handles = (0..handles)
            .map(|_| {
                let events = Events::default();
                let cache = KvCache::new(Yielding::new(kv.clone(), rng.next_u64()), config.clone())
                    .unwrap()
                    .with_hook(events.hook());
                let queue = deferred.clone();
                Handle {
                    db: Db::new(Yielding::new(sql.clone(), rng.next_u64()))
                        .with_schema(&Schema::new().table::<Note>().table::<Tag>())
                        .with_clock(clock.clone())
                        .with_defer(move |work: Deferred| queue.lock().unwrap().push(work))
                        .with_cache(cache),
                    events,
                }
            })
            .collect();
        World {
            seed,
            rng,
            sql,
            kv,
            clock,
            handles,
            model: Model::default(),
            step: 0,
            log: Vec::new(),
            stats: Stats::default(),
            deferred,
            exempt: BTreeMap::new(),
        }
    }

    /// Runs deferred fills: `all`, or a random few, in random order.
    async fn run_deferred(&mut self, all: bool) {
        let mut work: Vec<Deferred> = std::mem::take(&mut *self.deferred.lock().unwrap());
        let mut kept = Vec::new();
        while !work.is_empty() {
            let i = self.rng.below(work.len() as u64) as usize;
            let fill = work.swap_remove(i);
            if all || self.rng.chance(0.5) {
                fill.await;
            } else {
                kept.push(fill);
            }
        }
        self.log
            .push(format!("   (ran deferred fills, {} kept)", kept.len()));
        self.deferred.lock().unwrap().extend(kept);
    }

    /// After writes through handle `h` changed `ids`: if KV refused an invalidation of that
    /// handle, the other handles may read older values of them until the TTL.
    fn note_refusals(&mut self, h: usize, ids: &[i64], tags: &[i64]) {
        let refused = self.handles[h]
            .events
            .take()
            .iter()
            .any(|e| matches!(e, CacheEvent::Suspect { key: None, .. }));
        if !refused {
            return;
        }
        let until = self.clock.now_ms() + TTL_SECS as i64 * 1000;
        self.log
            .push(format!("   (h{h}: KV refused an invalidation of {ids:?})"));
        for other in 0..self.handles.len() {
            if other != h {
                for &id in ids {
                    self.exempt.insert((other, "notes", id), until);
                }
                for &id in tags {
                    self.exempt.insert((other, "tags", id), until);
                }
            }
        }
    }

    fn fail(&self, what: String) -> ! {
        panic!(
            "seed {} step {}: {what}\nsteps:\n  {}",
            self.seed,
            self.step,
            self.log.join("\n  ")
        );
    }

    fn id(&mut self) -> i64 {
        1 + self.rng.below(IDS as u64) as i64
    }

    fn note(&mut self) -> Note {
        let id = self.id();
        Note {
            id,
            title: ["a", "b", "c", "d"][self.rng.below(4) as usize].to_string(),
            body: match self.rng.below(3) {
                0 => None,
                1 => Some(Vec::new()),
                _ => Some(vec![0, 255, self.rng.below(256) as u8]),
            },
            score: self.rng.below(8) as f64 * 0.5 - 1.0,
        }
    }

    /// Sometimes, tags for notes that exist (never raced by a delete: sequential steps only).
    fn tags_op(&mut self) -> Option<Op> {
        let notes: Vec<i64> = (1..=IDS)
            .filter(|&id| self.model.current(id).is_some())
            .collect();
        if notes.is_empty() || !self.rng.chance(0.4) {
            return None;
        }
        let free: Vec<i64> = (1..=TAG_IDS)
            .filter(|&t| self.model.tag(t).is_none())
            .collect();
        let count = (1 + self.rng.below(12) as usize).min(free.len());
        let tags: Vec<Tag> = free
            .into_iter()
            .take(count)
            .map(|id| Tag {
                id,
                note_id: notes[self.rng.below(notes.len() as u64) as usize],
            })
            .collect();
        (!tags.is_empty()).then_some(Op::InsertTags(tags))
    }

    /// Checks a `find` of tag `id` through handle `h`, with no write alongside.
    /// Counts a read, and whether it falls in a window the guarantee exempts (then it is not
    /// checked).
    fn tally_read(
        &mut self,
        h: usize,
        table: &'static str,
        id: i64,
        present: bool,
        source: Option<Source>,
    ) -> bool {
        if present {
            self.stats.finds_of_present += 1;
            self.stats.kv_hits += u64::from(source == Some(Source::Kv));
        }
        let now = self.clock.now_ms();
        let exempt = self
            .exempt
            .get(&(h, table, id))
            .is_some_and(|&until| now < until);
        self.stats.exempt_reads += u64::from(exempt);
        exempt
    }

    fn check_tag(&mut self, h: usize, id: i64, result: Result<Option<Found<Tag>>>) {
        let found = match result {
            Ok(found) => found,
            Err(e) if is_injected(&e) => return,
            Err(e) => self.fail(format!("find tag {id} failed: {e}")),
        };
        let source = found.as_ref().map(|f| f.source);
        let found = found.map(|f| f.record);
        self.log.push(format!(
            "   -> h{h} find tag {id} = {found:?} from {source:?}"
        ));
        if self.tally_read(h, "tags", id, found.is_some(), source) {
            return;
        }
        if found.as_ref() != self.model.tag(id) {
            self.fail(format!(
                "handle {h} find tag {id} = {found:?} from {source:?}, current is {:?}",
                self.model.tag(id)
            ));
        }
    }

    fn write_op(&mut self) -> Op {
        match self.rng.below(54) {
            0..=11 => Op::Insert(self.note()),
            12..=15 => {
                let mut notes: Vec<Note> = Vec::new();
                for _ in 0..1 + self.rng.below(3) {
                    let note = self.note();
                    if !notes.iter().any(|n| n.id == note.id) {
                        notes.push(note);
                    }
                }
                Op::InsertMany(notes)
            }
            16..=27 => Op::Update(self.note()),
            28..=33 => Op::Upsert(self.note()),
            34..=41 => Op::UpdateWhere {
                below: self.rng.below(8) as f64 * 0.5 - 1.0,
                title: ["x", "y"][self.rng.below(2) as usize].to_string(),
                returning: self.rng.chance(0.5),
            },
            42..=49 => Op::Delete(self.id()),
            _ => Op::DeleteWhere((0..self.rng.below(3)).map(|_| self.id()).collect()),
        }
    }

    /// What `op` should do to the model: the changes, and the outcome it must return; or
    /// `None` when it must fail (with the error it may fail with).
    fn expect(&self, op: &Op) -> std::result::Result<(Changes, Outcome), &'static str> {
        let exists = |id: i64| self.model.current(id).is_some();
        Ok(match op {
            Op::Insert(note) if exists(note.id) => return Err("unique"),
            Op::Insert(note) => (
                vec![(note.id, Some(note.clone()))],
                Outcome::Rows(vec![note.clone()]),
            ),
            Op::InsertMany(notes) if notes.iter().any(|n| exists(n.id)) => return Err("unique"),
            Op::InsertMany(notes) => (
                notes.iter().map(|n| (n.id, Some(n.clone()))).collect(),
                Outcome::Rows(notes.clone()),
            ),
            Op::Update(note) if !exists(note.id) => return Err("not found"),
            Op::Update(note) | Op::Upsert(note) => (
                vec![(note.id, Some(note.clone()))],
                Outcome::Rows(vec![note.clone()]),
            ),
            Op::UpdateWhere {
                below,
                title,
                returning,
            } => {
                let rows: Vec<Note> = self
                    .model
                    .rows()
                    .into_iter()
                    .filter(|n| n.score < *below)
                    .map(|n| Note {
                        title: title.clone(),
                        ..n
                    })
                    .collect();
                let outcome = if *returning {
                    Outcome::Rows(rows.clone())
                } else {
                    Outcome::Count(rows.len() as u64)
                };
                (rows.into_iter().map(|n| (n.id, Some(n))).collect(), outcome)
            }
            Op::Delete(id) => (
                if exists(*id) {
                    vec![(*id, None)]
                } else {
                    vec![]
                },
                Outcome::Deleted(exists(*id)),
            ),
            Op::InsertTags(tags) => (vec![], Outcome::Count(tags.len() as u64)),
            Op::DeleteWhere(ids) => {
                let gone: BTreeSet<i64> = ids.iter().copied().filter(|id| exists(*id)).collect();
                let n = gone.len() as u64;
                (
                    gone.into_iter().map(|id| (id, None)).collect(),
                    Outcome::Count(n),
                )
            }
        })
    }

    /// Checks a write's result against the model and applies it.
    async fn settle_write(&mut self, h: usize, op: &Op, result: Result<Outcome>) {
        let expected = self.expect(op);
        match (result, expected) {
            (Ok(outcome), Ok((changes, want))) => {
                let same = match (&outcome, &want) {
                    (Outcome::Rows(a), Outcome::Rows(b)) => a == b,
                    (Outcome::Count(a), Outcome::Count(b)) => a == b,
                    (Outcome::Deleted(a), Outcome::Deleted(b)) => a == b,
                    _ => false,
                };
                if !same {
                    self.fail(format!("{op:?} returned {outcome:?}, expected {want:?}"));
                }
                let now = self.clock.now_ms();
                let ids: Vec<i64> = changes.iter().map(|(id, _)| *id).collect();
                let deleted: Vec<i64> = changes
                    .iter()
                    .filter(|(_, note)| note.is_none())
                    .map(|(id, _)| *id)
                    .collect();
                let cascaded = self.model.tags_of(&deleted);
                self.stats.cascaded_tags += cascaded.len() as u64;
                for &tag in &cascaded {
                    self.model.tags.entry(tag).or_default().push(None);
                }
                if let Op::InsertTags(tags) = op {
                    for tag in tags {
                        self.model
                            .tags
                            .entry(tag.id)
                            .or_default()
                            .push(Some(tag.clone()));
                    }
                }
                for (id, note) in changes {
                    self.model.history.entry(id).or_default().push(note);
                    self.model.written_at.insert(id, now);
                }
                self.note_refusals(h, &ids, &cascaded);
            }
            (Ok(outcome), Err(why)) => {
                self.fail(format!("{op:?} returned {outcome:?}, expected {why}"))
            }
            (Err(error), expected) => {
                self.stats.failed_writes += 1;
                let why = expected.err();
                let fine = is_injected(&error)
                    || matches!(
                        (&error, why),
                        (Error::UniqueViolation { .. }, Some("unique"))
                    )
                    || matches!((&error, why), (Error::NotFound { .. }, Some("not found")));
                if !fine {
                    self.fail(format!("{op:?} failed unexpectedly: {error}"));
                }
                self.handles[h].events.take();
                self.check_sql().await;
            }
        }
    }

    /// With faults off: SQL holds exactly the model.
    async fn check_sql(&mut self) {
        self.sql.set_enabled(false);
        let rows = self.handles[0].db.select::<Note>().all().await;
        self.sql.set_enabled(true);
        let mut rows = rows.unwrap_or_else(|e| self.fail(format!("list with faults off: {e}")));
        rows.sort_by_key(|n| n.id);
        if rows != self.model.rows() {
            self.fail(format!("SQL {rows:?} != model {:?}", self.model.rows()));
        }
        self.sql.set_enabled(false);
        let tags = self.handles[0].db.select::<Tag>().all().await;
        self.sql.set_enabled(true);
        let mut tags = tags.unwrap_or_else(|e| self.fail(format!("tags with faults off: {e}")));
        tags.sort_by_key(|t| t.id);
        let model: Vec<Tag> = (1..=TAG_IDS)
            .filter_map(|t| self.model.tag(t).cloned())
            .collect();
        if tags != model {
            self.fail(format!("SQL tags {tags:?} != model {model:?}"));
        }
    }

    /// Checks what `find` returned through handle `h`. `floor` is the model version when the
    /// find began (every write acknowledged before it is in); `concurrent` when a write ran
    /// alongside it.
    fn check_found(
        &mut self,
        h: usize,
        id: i64,
        floor: usize,
        concurrent: bool,
        result: Result<Option<Found<Note>>>,
    ) {
        let found = match result {
            Ok(found) => found,
            Err(e) if is_injected(&e) => return,
            Err(e) => self.fail(format!("find({id}) failed: {e}")),
        };
        let source = found.as_ref().map(|f| f.source);
        let found = found.map(|f| f.record);
        self.log
            .push(format!("   -> h{h} find({id}) = {found:?} from {source:?}"));
        if self.tally_read(h, "notes", id, found.is_some(), source) {
            return;
        }
        let history = self
            .model
            .history
            .get(&id)
            .map(Vec::as_slice)
            .unwrap_or(&[]);
        // Version v is history[v - 1]; version 0 ("never written") is absent. Without a write
        // alongside, only the current version; with one, it or any later one.
        let allowed = if concurrent {
            (floor == 0 && found.is_none())
                || history
                    .iter()
                    .skip(floor.saturating_sub(1))
                    .any(|v| v.as_ref() == found.as_ref())
        } else {
            found.as_ref() == self.model.current(id)
        };
        if !allowed {
            self.fail(format!(
                "handle {h} find({id}) = {found:?} from {source:?} is older than the last \
                 acknowledged write (version {floor} of {history:?})"
            ));
        }
    }

    fn handle(&mut self) -> usize {
        if self.handles.len() > 1 && self.rng.chance(0.4) {
            1
        } else {
            0
        }
    }

    async fn step(&mut self) {
        self.step += 1;
        self.stats.steps += 1;
        let h = self.handle();
        let db = self.handles[h].db.clone();
        match self.rng.below(100) {
            0..=34 => {
                let op = match self.tags_op() {
                    Some(op) => op,
                    None => self.write_op(),
                };
                self.log.push(format!("h{h} {op:?}"));
                let result = execute(&db, &op).await;
                self.settle_write(h, &op, result).await;
            }
            35..=39 => {
                // Two upserts of one record, interleaved (through one handle or two).
                self.stats.concurrent += 1;
                let first = self.note();
                let second = Note {
                    id: first.id,
                    ..self.note()
                };
                let g = self.handle();
                self.log
                    .push(format!("h{h} upsert {first:?} || h{g} upsert {second:?}"));
                let other = self.handles[g].db.clone();
                let (a, b) =
                    futures_util::future::join(db.upsert(&first), other.upsert(&second)).await;
                for (result, note) in [(&a, &first), (&b, &second)] {
                    match result {
                        Ok(row) if row == note => {}
                        Ok(row) => self.fail(format!("upsert returned {row:?}, wrote {note:?}")),
                        Err(e) if is_injected(e) => self.stats.failed_writes += 1,
                        Err(e) => self.fail(format!("upsert failed: {e}")),
                    }
                }
                // SQL tells which landed last; the model takes the other one first.
                self.sql.set_enabled(false);
                let stored = self.handles[0].db.find_fresh::<Note>(first.id).await;
                self.sql.set_enabled(true);
                let stored = stored.unwrap_or_else(|e| self.fail(format!("fresh read: {e}")));
                let mut order = Vec::new();
                if a.is_ok() {
                    order.push((h, first.clone()));
                }
                if b.is_ok() {
                    order.push((g, second.clone()));
                }
                if order.len() == 2 && stored.as_ref() == Some(&first) && first != second {
                    order.reverse();
                }
                let now = self.clock.now_ms();
                let id = first.id;
                for (_, note) in order {
                    self.model.history.entry(id).or_default().push(Some(note));
                    self.model.written_at.insert(id, now);
                }
                self.note_refusals(h, &[id], &[]);
                if g != h {
                    self.note_refusals(g, &[id], &[]);
                }
                self.check_sql().await;
            }
            40..=54 => {
                // A write and a find, interleaved.
                self.stats.concurrent += 1;
                let op = self.write_op();
                let f = self.handle();
                // Mostly a record the write touches, so that the two race on one key.
                let id = match &op {
                    Op::Insert(n) | Op::Update(n) | Op::Upsert(n) if self.rng.chance(0.8) => n.id,
                    Op::Delete(id) if self.rng.chance(0.8) => *id,
                    _ => self.id(),
                };
                let floor = self.model.version(id);
                self.log.push(format!("h{h} {op:?} || h{f} find({id})"));
                let finder = self.handles[f].db.clone();
                let (written, found) = futures_util::future::join(
                    execute(&db, &op),
                    finder.find_with_source::<Note>(id),
                )
                .await;
                self.settle_write(h, &op, written).await;
                self.check_found(f, id, floor, true, found);
                if self.rng.chance(0.5) {
                    // The racing find's fill lands, and the record is read again: a fill
                    // tagged with generations read after the write would be served here.
                    self.run_deferred(true).await;
                    let r = self.handle();
                    self.log.push(format!("h{r} find({id})"));
                    let floor = self.model.version(id);
                    let found = self.handles[r].db.find_with_source::<Note>(id).await;
                    self.check_found(r, id, floor, false, found);
                    self.handles[r].events.take();
                }
            }
            55..=56 => {
                // An entry vanishes from KV, as when its TTL ends: the next find misses.
                let id = self.id();
                self.log.push(format!("kv evicts {id}"));
                self.kv.inner().evict(&format!("sonic:notes:{id}"));
            }
            57..=59 => {
                self.log.push("deferred fills run".to_string());
                self.run_deferred(false).await;
            }
            60..=69 => {
                // Mostly a tag that exists or existed.
                let known: Vec<i64> = self.model.tags.keys().copied().collect();
                let id = if !known.is_empty() && self.rng.chance(0.8) {
                    known[self.rng.below(known.len() as u64) as usize]
                } else {
                    1 + self.rng.below(TAG_IDS as u64) as i64
                };
                self.log.push(format!("h{h} find tag {id}"));
                let found = db.find_with_source::<Tag>(id).await;
                self.check_tag(h, id, found);
                self.handles[h].events.take();
            }
            70..=79 => {
                let id = self.id();
                self.log.push(format!("h{h} find({id})"));
                let floor = self.model.version(id);
                let found = db.find_with_source::<Note>(id).await;
                self.check_found(h, id, floor, false, found);
                // A repair KV refused is not a write's refusal.
                self.handles[h].events.take();
            }
            80..=84 => {
                let id = self.id();
                self.log.push(format!("h{h} find_fresh({id})"));
                match db.find_fresh::<Note>(id).await {
                    Ok(found) if found.as_ref() == self.model.current(id) => {}
                    Ok(found) => self.fail(format!(
                        "find_fresh({id}) = {found:?}, model {:?}",
                        self.model.current(id)
                    )),
                    Err(e) if is_injected(&e) => {}
                    Err(e) => self.fail(format!("find_fresh failed: {e}")),
                }
            }
            85..=94 => {
                self.log.push(format!("h{h} list"));
                match db.select::<Note>().all().await {
                    Ok(mut rows) => {
                        rows.sort_by_key(|n| n.id);
                        if rows != self.model.rows() {
                            self.fail(format!("list {rows:?} != model {:?}", self.model.rows()));
                        }
                    }
                    Err(e) if is_injected(&e) => {}
                    Err(e) => self.fail(format!("list failed: {e}")),
                }
            }
            _ => {
                // Fills run before time moves on (`wait_until` ends with the request).
                self.run_deferred(true).await;
                let ms = [1_000, 30_000, 61_000, 130_000][self.rng.below(4) as usize];
                self.log.push(format!("clock +{ms} ms"));
                self.clock.advance(ms);
            }
        }
    }

    /// Faults off, the TTL (and the handles' memory) passed: every handle reads the model,
    /// twice (a miss and a fill, then a hit).
    async fn finish(&mut self) {
        self.sql.set_enabled(false);
        self.kv.set_enabled(false);
        self.run_deferred(true).await;
        self.clock.advance((TTL_SECS as i64 + 61) * 1000);
        self.step += 1;
        self.log.push("finish".to_string());
        for h in 0..self.handles.len() {
            for id in 1..=IDS {
                for round in 0..2 {
                    let found = self.handles[h].db.find_with_source::<Note>(id).await;
                    self.run_deferred(true).await;
                    let found =
                        found.unwrap_or_else(|e| self.fail(format!("find with faults off: {e}")));
                    let current = self.model.current(id);
                    if found.as_ref().map(|f| &f.record) != current {
                        self.fail(format!(
                            "finally handle {h} round {round} find({id}) = {found:?}, model {current:?}"
                        ));
                    }
                    if round == 1
                        && current.is_some()
                        && found.map(|f| f.source) != Some(Source::Kv)
                    {
                        self.fail(format!(
                            "finally handle {h} find({id}) is not a KV hit after a fill"
                        ));
                    }
                }
            }
        }
        for h in 0..self.handles.len() {
            for id in 1..=TAG_IDS {
                let found = self.handles[h].db.find_with_source::<Tag>(id).await;
                self.run_deferred(true).await;
                let found =
                    found.unwrap_or_else(|e| self.fail(format!("tag with faults off: {e}")));
                if found.as_ref().map(|f| &f.record) != self.model.tag(id) {
                    self.fail(format!(
                        "finally handle {h} find tag {id} = {found:?}, model {:?}",
                        self.model.tag(id)
                    ));
                }
            }
        }
        self.check_sql().await;
    }
}

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn run_suite(handles: usize, salt: u64) -> Stats {
    let sequences = env_u64("SONIC_MODEL_SEQUENCES", 5_000);
    let first = env_u64("SONIC_MODEL_SEED", 0);
    let sqlite = SqliteBackend::memory().unwrap();
    sqlite
        .exec(
            "CREATE TABLE notes (id INTEGER PRIMARY KEY, title TEXT NOT NULL, body BLOB, \
             score REAL NOT NULL)",
        )
        .unwrap();
    sqlite
        .exec(
            "CREATE TABLE tags (id INTEGER PRIMARY KEY, note_id INTEGER NOT NULL \
             REFERENCES notes(id) ON DELETE CASCADE)",
        )
        .unwrap();
    let database = CountingSql::new(sqlite);
    let mut total = Stats::default();
    for i in 0..sequences {
        let seed = first.wrapping_add(i) ^ salt;
        block_on(async {
            let mut world = World::new(seed, handles, &database);
            let steps = 1 + world.rng.below(30);
            for _ in 0..steps {
                world.step().await;
                // Most fills run right after their request; the rest land later.
                if world.rng.chance(0.75) {
                    world.run_deferred(false).await;
                }
            }
            world.finish().await;
            total.steps += world.stats.steps;
            total.finds_of_present += world.stats.finds_of_present;
            total.kv_hits += world.stats.kv_hits;
            total.concurrent += world.stats.concurrent;
            total.failed_writes += world.stats.failed_writes;
            total.exempt_reads += world.stats.exempt_reads;
            total.cascaded_tags += world.stats.cascaded_tags;
        });
    }
    eprintln!("{handles} handle(s), {sequences} sequences: {total:?}");
    total
}

#[test]
fn one_handle_never_reads_older_than_the_last_acknowledged_write() {
    let stats = run_suite(1, 0);
    // The cache really served reads (a write makes the next read of its bucket a miss, and
    // KV fails up to half of its operations here; `finish` checks hits after fills), and
    // failures and races really happened.
    assert!(stats.kv_hits * 25 > stats.finds_of_present, "{stats:?}");
    assert!(stats.failed_writes > 0 && stats.concurrent > 0, "{stats:?}");
    assert!(stats.cascaded_tags > 0, "{stats:?}");
}

#[test]
fn two_handles_never_read_older_than_the_last_acknowledged_write() {
    let stats = run_suite(2, TWO_HANDLE_SALT);
    assert!(stats.kv_hits * 25 > stats.finds_of_present, "{stats:?}");
    // The window is the exception, not the rule.
    assert!(
        stats.exempt_reads * 20 < stats.finds_of_present,
        "{stats:?}"
    );
}
