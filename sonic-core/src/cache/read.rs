//! The read path: a find by primary key reads the record and its generations from KV in one
//! round trip, serves the record if its tags match, else reads SQL and fills KV (deferred).

use std::future::Future;

use super::envelope::{self, Generations};
use super::event::{CacheEvent, KvOp};
use super::state::Suspicion;
use super::KvCache;
use crate::error::Result;
use crate::kv::KvPutOptions;
use crate::schema::{Table, TableDef};
use crate::value::Value;

/// Where a single record came from.
///
/// Serialises as `"kv"` / `"d1"`, the `source` field of SonicJs's REST responses.
///
/// ```
/// use sonic_db_core::cache::Source;
/// assert_eq!(serde_json::to_string(&Source::Kv).unwrap(), "\"kv\"");
/// assert_eq!(Source::D1.to_string(), "d1");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    /// The KV cache.
    Kv,
    /// The SQL database (D1, or SQLite natively).
    D1,
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Source::Kv => "kv",
            Source::D1 => "d1",
        })
    }
}

/// A record and where it came from. Serialises as `{"data": …, "source": "kv" | "d1"}`.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Found<T> {
    /// The record.
    #[serde(rename = "data")]
    pub record: T,
    /// Where it was read.
    pub source: Source,
}

impl KvCache {
    /// Reads record `id` of `T`: from KV if its envelope is there and tagged with the current
    /// generations, else with `load` (the SQL read by primary key), then fills KV with the
    /// row tagged with the generations read *before* `load`.
    ///
    /// Only `load`'s error is returned: KV failures and undecodable entries are reported to
    /// the hook and handled as misses.
    pub(crate) async fn find<T, F, Fut>(&self, id: &Value, load: F) -> Result<Option<Found<T>>>
    where
        T: Table,
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Option<T>>>,
    {
        let def = T::DEF;
        let Lookup::Cached {
            key,
            ttl_secs,
            read,
        } = self.lookup(def, id).await
        else {
            return Ok(load().await?.map(from_sql));
        };
        let gens = match read {
            Some((Some(text), gens)) => {
                match self.decode::<T>(def, &key, id, text.as_bytes()) {
                    Ok((record, tags)) if tags == gens => {
                        trace_hit(def.name, &key);
                        return Ok(Some(Found {
                            record,
                            source: Source::Kv,
                        }));
                    }
                    Ok(_) => trace_miss(def.name, &key, "stale generation"),
                    Err(reason) => self.undecodable(def.name, &key, reason),
                }
                Some(gens)
            }
            Some((None, gens)) => Some(gens),
            None => None,
        };

        let loaded = load().await?;
        // No fill without the generations read before the SQL read, nor of a missing record.
        if let (Some(record), Some(gens)) = (&loaded, gens) {
            self.fill_envelope(def.name, ttl_secs, key, Self::envelope(record, &gens))
                .await;
        }
        Ok(loaded.map(from_sql))
    }

    /// The half of [`find`](Self::find) that does not need the record type: whether record
    /// `id` of `def` is cached at all, and if so its KV entry and generations, read in one
    /// bulk get (a suspect key is repaired and read from SQL). Not generic, so that it is
    /// compiled once for every table.
    async fn lookup(&self, def: &'static TableDef, id: &Value) -> Lookup {
        let (Some(settings), Some(key)) = (self.settings(def), self.key(def, id)) else {
            return Lookup::Bypass;
        };
        let suspicion = self
            .state()
            .suspicion(def.name, &key, || self.clock.now_ms());
        if suspicion != Suspicion::None {
            trace_miss(def.name, &key, "suspect");
            self.repair(def, settings, &key, suspicion == Suspicion::Table)
                .await;
            return Lookup::Bypass;
        }

        let [table_gen, bucket_gen] = self.generation_keys(def, settings, &key);
        let asked = [key.clone(), table_gen, bucket_gen];
        let read = match self.kv.get_bulk_text(&asked).await {
            Ok(values) => {
                let mut values = values.into_iter();
                let (record, table, bucket) = (values.next(), values.next(), values.next());
                let gens = Generations {
                    table: table.flatten().unwrap_or_default(),
                    bucket: bucket.flatten().unwrap_or_default(),
                };
                let record = record.flatten();
                if record.is_none() {
                    trace_miss(def.name, &key, "absent");
                }
                Some((record, gens))
            }
            Err(error) => {
                self.kv_failed(def.name, &key, KvOp::Get, &error);
                trace_miss(def.name, &key, "kv error");
                None
            }
        };
        Lookup::Cached {
            key,
            ttl_secs: settings.ttl_secs,
            read,
        }
    }

    /// An entry that does not decode as its record: reported, and a miss.
    fn undecodable(&self, table: &'static str, key: &str, reason: String) {
        self.report(CacheEvent::Undecodable {
            table,
            key: key.to_string(),
            reason,
        });
        trace_miss(table, key, "undecodable");
    }

    /// Fills KV with a record's envelope, or reports why it could not be built.
    async fn fill_envelope(
        &self,
        table: &'static str,
        ttl_secs: u64,
        key: String,
        envelope: std::result::Result<Vec<u8>, String>,
    ) {
        match envelope {
            Ok(bytes) => self.fill(table, ttl_secs, key, bytes).await,
            Err(reason) => self.report(CacheEvent::Undecodable { table, key, reason }),
        }
    }

    /// The record `id` of `T` as [`find`](crate::Db::find) would serve it from KV right now
    /// — its entry, if it is tagged with the current generations — reading KV only (one bulk
    /// get). `None` when the entry is absent, stale or undecodable. For tests and
    /// diagnostics: an old entry can stay in KV after a write, never served.
    ///
    /// ```
    /// # #[cfg(all(feature = "derive", feature = "rusqlite"))] {
    /// # use sonic_db_core::{sqlite::SqliteBackend, CacheConfig, Db, MemoryKv, Schema, Value};
    /// # #[derive(Debug, Clone, PartialEq, sonic_db_core::Table)]
    /// # struct Post { #[column(primary_key)] id: String, title: String }
    /// # pollster::block_on(async {
    /// let db = Db::new(SqliteBackend::memory()?).with_kv(MemoryKv::new(), CacheConfig::new())?;
    /// # for s in Schema::new().table::<Post>().statements() { db.sql(s).run().await?; }
    /// let cache = db.cache().unwrap().clone();
    /// let p1 = Value::Text("p1".into());
    /// db.insert(&Post { id: "p1".into(), title: "v1".into() }).await?;
    /// assert_eq!(cache.peek::<Post>(&p1).await?, None); // an insert fills nothing
    /// db.find::<Post>("p1").await?;
    /// assert_eq!(cache.peek::<Post>(&p1).await?.unwrap().title, "v1");
    /// db.update(&Post { id: "p1".into(), title: "v2".into() }).await?;
    /// assert_eq!(cache.peek::<Post>(&p1).await?, None); // still in KV, but stale
    /// # Ok::<(), sonic_db_core::Error>(())
    /// # }).unwrap();
    /// # }
    /// ```
    pub async fn peek<T: Table>(&self, id: &Value) -> Result<Option<T>> {
        let def = T::DEF;
        let (Some(settings), Some(key)) = (self.settings(def), self.key(def, id)) else {
            return Ok(None);
        };
        let [table_gen, bucket_gen] = self.generation_keys(def, settings, &key);
        let mut values = self
            .kv
            .get_bulk_text(&[key.clone(), table_gen, bucket_gen])
            .await?
            .into_iter();
        let (Some(Some(text)), table, bucket) = (values.next(), values.next(), values.next())
        else {
            return Ok(None);
        };
        let gens = Generations {
            table: table.flatten().unwrap_or_default(),
            bucket: bucket.flatten().unwrap_or_default(),
        };
        Ok(match self.decode::<T>(def, &key, id, text.as_bytes()) {
            Ok((record, tags)) if tags == gens => Some(record),
            _ => None,
        })
    }

    /// Puts a filled envelope, through the [`Defer`](super::Defer) hook if there is one.
    async fn fill(&self, table: &'static str, ttl_secs: u64, key: String, bytes: Vec<u8>) {
        if !self.fills {
            return;
        }
        let cache = self.clone();
        let work = async move {
            match cache
                .kv
                .put(&key, &bytes, &KvPutOptions::ttl(ttl_secs))
                .await
            {
                Ok(()) => tracing::debug!(
                    target: "sonic::cache",
                    table = %table,
                    key = %key,
                    "fill"
                ),
                Err(error) => cache.kv_failed(table, &key, KvOp::Put, &error),
            }
        };
        match &self.defer {
            Some(defer) => defer.defer(Box::pin(work)),
            None => work.await,
        }
    }

    /// Decodes a cached entry of record `id`, checking that it is that record; returns it
    /// with the generations it is tagged with.
    fn decode<T: Table>(
        &self,
        def: &'static TableDef,
        key: &str,
        id: &Value,
        bytes: &[u8],
    ) -> std::result::Result<(T, Generations), String> {
        let (mut row, gens) = envelope::decode_tagged(def, envelope::fingerprint_of(def), bytes)?;
        if !def.row_has_id(&row, id) {
            return Err(format!("entry under `{key}` holds another record"));
        }
        T::decode(&mut row)
            .map(|record| (record, gens))
            .map_err(|e| e.to_string())
    }

    /// The envelope of a record tagged with `gens`, or why it cannot be built.
    pub(super) fn envelope<T: Table>(
        record: &T,
        gens: &Generations,
    ) -> std::result::Result<Vec<u8>, String> {
        let def = T::DEF;
        let mut row = Vec::with_capacity(def.columns.len());
        record
            .encode_into(&mut row)
            .map(|()| envelope::encode(def, envelope::fingerprint_of(def), gens, &row))
            .map_err(|error| format!("the record does not encode: {error}"))
    }
}

/// A record read from SQL.
fn from_sql<T>(record: T) -> Found<T> {
    Found {
        record,
        source: Source::D1,
    }
}

/// What KV holds for a record, as far as it can be told without the record type.
enum Lookup {
    /// Not cached (caching is off for the table, or `id` is not a record's key) or suspect:
    /// read SQL, fill nothing.
    Bypass,
    /// Cached under `key`; `read` is the entry (if any) and the generations, `None` when KV
    /// failed (then nothing is filled).
    Cached {
        key: String,
        ttl_secs: u64,
        read: Option<(Option<String>, Generations)>,
    },
}

/// The `hit` event.
fn trace_hit(table: &str, key: &str) {
    tracing::debug!(
        target: "sonic::cache",
        table = %table,
        key = %key,
        "hit"
    );
}

/// The `miss` event: the record is read from SQL, for `reason`.
fn trace_miss(table: &str, key: &str, reason: &'static str) {
    tracing::debug!(
        target: "sonic::cache",
        table = %table,
        key = %key,
        reason,
        "miss"
    );
}
