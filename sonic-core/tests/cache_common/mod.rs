//! Shared by the `cache_*` tests (and the cache's own unit tests): a hand-written table, a fake
//! SQL store, and a hook that records events.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use sonic_db_core::cache::CacheEvent;
use sonic_db_core::value::decode_column;
use sonic_db_core::{
    ColumnDef, ColumnType, Error, Result, SqlType, Table, TableDef, ToValue, Value,
};

/// The time the tests start at, Unix milliseconds.
pub const T0: i64 = 1_700_000_000_000;

/// A note, with a column of every storage class.
#[derive(Debug, Clone, PartialEq)]
pub struct Note {
    pub id: i64,
    pub title: String,
    pub body: Option<Vec<u8>>,
    pub score: f64,
}

static COLUMNS: [ColumnDef; 4] = [
    ColumnDef {
        primary_key: true,
        ..ColumnDef::new("id", "id", SqlType::Integer)
    },
    ColumnDef::new("title", "title", SqlType::Text),
    ColumnDef {
        nullable: true,
        ..ColumnDef::new("body", "body", SqlType::Blob)
    },
    ColumnDef::new("score", "score", SqlType::Real),
];

pub static NOTES: TableDef = TableDef {
    name: "notes",
    rust_name: "Note",
    columns: &COLUMNS,
    primary_key: &[0],
    relations: &[],
    constraints: sonic_db_core::schema::Constraints::NONE,
};

fn take<V: ColumnType>(row: &mut [Value], index: usize) -> Result<V> {
    let value = row
        .get_mut(index)
        .map(std::mem::take)
        .ok_or_else(|| Error::Database {
            message: format!("row of {} values", index),
        })?;
    // An INTEGER column arrives as text under D1's capabilities (#12 item 3).
    decode_column::<V>(value).map_err(|e| Error::decode("notes", COLUMNS[index].name, e))
}

impl Table for Note {
    const DEF: &'static TableDef = &NOTES;
    type PrimaryKey = i64;

    fn encode_into(&self, out: &mut Vec<Value>) -> Result<()> {
        for i in 0..COLUMNS.len() {
            out.push(self.column_value(i)?);
        }
        Ok(())
    }

    fn column_value(&self, index: usize) -> Result<Value> {
        let value = match index {
            0 => self.id.to_value(),
            1 => self.title.to_value(),
            2 => self.body.to_value(),
            3 => self.score.to_value(),
            _ => return Err(Error::InvalidQuery(format!("no column {index}"))),
        };
        value.map_err(|e| Error::encode("notes", COLUMNS[index.min(3)].name, e))
    }

    fn decode(row: &mut [Value]) -> Result<Self> {
        if row.len() != COLUMNS.len() {
            return Err(Error::Database {
                message: format!("row of {} values", row.len()),
            });
        }
        Ok(Note {
            id: take(row, 0)?,
            title: take(row, 1)?,
            body: take(row, 2)?,
            score: take(row, 3)?,
        })
    }

    fn touch(&mut self, _now_ms: i64, _inserting: bool) {}
}

pub fn note(id: i64, title: &str) -> Note {
    Note {
        id,
        title: title.to_string(),
        body: Some(vec![0, 1, 2, 255]),
        score: 1.5,
    }
}

/// The source of truth of these tests: a map, counting reads.
#[derive(Debug, Default, Clone)]
pub struct Store {
    rows: Arc<Mutex<BTreeMap<i64, Note>>>,
    loads: Arc<AtomicU64>,
}

impl Store {
    pub fn load(&self, id: i64) -> Option<Note> {
        self.loads.fetch_add(1, Ordering::SeqCst);
        self.rows.lock().unwrap().get(&id).cloned()
    }
    pub fn loads(&self) -> u64 {
        self.loads.load(Ordering::SeqCst)
    }
    pub fn set(&self, note: Note) {
        self.rows.lock().unwrap().insert(note.id, note);
    }
    pub fn remove(&self, id: i64) {
        self.rows.lock().unwrap().remove(&id);
    }
}

/// Records every event the cache reports.
#[derive(Debug, Default, Clone)]
pub struct Events(Arc<Mutex<Vec<CacheEvent>>>);

impl Events {
    pub fn take(&self) -> Vec<CacheEvent> {
        std::mem::take(&mut *self.0.lock().unwrap())
    }
    pub fn hook(&self) -> impl Fn(&CacheEvent) + Send + Sync + 'static {
        let events = self.0.clone();
        move |e: &CacheEvent| events.lock().unwrap().push(e.clone())
    }
}

/// Drives a [`KvCache`] the way `Db` does, over a [`Store`].
pub fn block_on<F: std::future::Future>(f: F) -> F::Output {
    pollster::block_on(f)
}
