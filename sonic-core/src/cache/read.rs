//! The read path: a find by primary key asks KV first, falls back to SQL and fills KV.

use std::future::Future;

use super::envelope;
use super::event::{CacheEvent, KvOp};
use super::state::{digest, Expect, Plan};
use super::write::{action_op, op_name, Action};
use super::{KvCache, TableCache, MAX_FILL_LAG_MS};
use crate::error::Result;
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
    /// Reads record `id` of `T`: from KV if it is there and trustworthy, else with `load`
    /// (the SQL read by primary key), filling KV afterwards.
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
        let (Some(settings), Some(key)) = (self.settings(def), self.key(def, id)) else {
            return Ok(load().await?.map(|record| Found {
                record,
                source: Source::D1,
            }));
        };
        let started = self.clock.now_ms();
        let (plan, generation, writing) = {
            let mut state = self.state();
            let seq_state = state.keys.get(&key).copied();
            let table = state.table(def.name);
            let (generation, writing) = (table.generation, table.in_flight > 0);
            let table_suspect = table.suspect.filter(|&(until, _)| until > started);
            let key_state = seq_state.filter(|k| k.until_ms > started);
            let plan = match (key_state, table_suspect) {
                (Some(k), Some((_, since))) if k.seq < since => Plan::Bypass,
                (None, Some(_)) => Plan::Bypass,
                (Some(k), _) => match k.expect {
                    Expect::Suspect => Plan::Bypass,
                    Expect::Absent => Plan::Verify(None),
                    Expect::Bytes(d) => Plan::Verify(Some(d)),
                },
                (None, None) => Plan::Trust,
            };
            (plan, generation, writing)
        };

        // Whether KV holds something that must be replaced even if SQL has no record.
        let mut kv_dirty = plan == Plan::Bypass;
        if plan == Plan::Bypass {
            trace_miss(def.name, &key, "suspect");
        } else {
            match self.kv.get(&key).await {
                Ok(Some(bytes)) => match self.decode::<T>(def, &key, id, &bytes) {
                    Ok(record) => {
                        let trusted = match plan {
                            Plan::Trust => true,
                            Plan::Verify(expected) => expected == Some(digest(&bytes)),
                            Plan::Bypass => false,
                        };
                        if trusted {
                            tracing::debug!(
                                target: "sonic::cache",
                                table = %def.name,
                                key = %key,
                                "hit"
                            );
                            return Ok(Some(Found {
                                record,
                                source: Source::Kv,
                            }));
                        }
                        trace_miss(def.name, &key, "unverified");
                        kv_dirty = true;
                    }
                    Err(reason) => {
                        self.report(CacheEvent::Undecodable {
                            table: def.name,
                            key: key.clone(),
                            reason,
                        });
                        trace_miss(def.name, &key, "undecodable");
                        kv_dirty = true;
                    }
                },
                Ok(None) => trace_miss(def.name, &key, "absent"),
                Err(error) => {
                    self.kv_failed(def.name, &key, KvOp::Get, &error);
                    trace_miss(def.name, &key, "kv error");
                }
            }
        }

        let loaded = load().await?;

        let action = match &loaded {
            Some(record) => match Self::envelope(record) {
                Ok(bytes) => Some(Action::Put(bytes)),
                Err(reason) => {
                    self.report(CacheEvent::Undecodable {
                        table: def.name,
                        key: key.clone(),
                        reason,
                    });
                    kv_dirty.then_some(Action::Delete)
                }
            },
            None if kv_dirty => Some(Action::Delete),
            None => None,
        };
        let lag = self.clock.now_ms().saturating_sub(started);
        if let Some(action) = action {
            let skip = if writing {
                Some("a write of this handle is in flight")
            } else if lag > MAX_FILL_LAG_MS {
                Some("the SQL read took too long")
            } else if self.generation(def.name) != generation {
                Some("a write of this handle began during the read")
            } else {
                None
            };
            match skip {
                None => {
                    self.fill(def.name, settings, &key, action, plan, generation)
                        .await;
                }
                Some(reason) => tracing::debug!(
                    target: "sonic::cache",
                    table = %def.name,
                    key = %key,
                    reason,
                    "fill skipped"
                ),
            }
        }
        Ok(loaded.map(|record| Found {
            record,
            source: Source::D1,
        }))
    }

    /// Runs the fill / repair after a find and records what it means.
    async fn fill(
        &self,
        table: &'static str,
        settings: &TableCache,
        key: &str,
        action: Action,
        plan: Plan,
        generation: u64,
    ) {
        let (result, expect) = self.apply(settings, key, &action).await;
        match &result {
            Ok(()) => tracing::debug!(
                target: "sonic::cache",
                table = %table,
                key = %key,
                op = op_name(&action),
                "fill"
            ),
            Err(error) => self.kv_failed(table, key, action_op(&action), error),
        }
        let now = self.clock.now_ms();
        let raced = {
            let mut state = self.state();
            state.prune(now);
            let raced = state.table(table).generation != generation;
            if raced {
                // A write of this handle began while the put was in flight: the put may have
                // landed after the write's own KV operation, with an older row.
                state.set_key(key, Expect::Suspect, now + settings.window_ms());
            } else if result.is_ok() && plan != Plan::Trust {
                // A repair (or a verified replacement) worked: trust this key again.
                state.set_key(key, expect, now + settings.window_ms());
            }
            raced
        };
        if raced {
            self.report(CacheEvent::Suspect {
                table,
                key: Some(key.to_string()),
                reason: "a write began while a fill was in flight".to_string(),
            });
        }
    }

    /// Decodes a cached entry of record `id`, checking that it is that record.
    fn decode<T: Table>(
        &self,
        def: &'static TableDef,
        key: &str,
        id: &Value,
        bytes: &[u8],
    ) -> std::result::Result<T, String> {
        let mut row = envelope::decode(def, envelope::fingerprint_of(def), bytes)?;
        if row.get(def.primary_key) != Some(id) {
            return Err(format!("entry under `{key}` holds another record"));
        }
        T::decode(&mut row).map_err(|e| e.to_string())
    }

    /// The envelope of a record, or why it cannot be built.
    pub(super) fn envelope<T: Table>(record: &T) -> std::result::Result<Vec<u8>, String> {
        let def = T::DEF;
        let mut row = Vec::with_capacity(def.columns.len());
        record
            .encode_into(&mut row)
            .map(|()| envelope::encode(def, envelope::fingerprint_of(def), &row))
            .map_err(|error| format!("the record does not encode: {error}"))
    }
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
