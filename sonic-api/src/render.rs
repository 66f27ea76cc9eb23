//! Records → response JSON, without the fields the principal may not see: at the top and
//! inside every loaded relation, by each related table's own field rules.

use serde::Serialize;
use serde_json::Value as Json;
use sonic_db_core::TableDef;

use crate::error::ApiError;

/// The hidden fields of each table a response may contain, by SQL table name.
#[derive(Debug, Default)]
pub(crate) struct Views {
    pub(crate) hidden: Vec<(&'static str, Vec<&'static str>)>,
}

impl Views {
    pub(crate) fn add(&mut self, table: &'static str, hidden: Vec<&'static str>) {
        if !self.hidden.iter().any(|(t, _)| *t == table) {
            self.hidden.push((table, hidden));
        }
    }

    fn of(&self, table: &str) -> Option<&[&'static str]> {
        self.hidden
            .iter()
            .find(|(t, _)| *t == table)
            .map(|(_, h)| h.as_slice())
    }
}

/// One record as JSON, not yet stripped (the only part that needs the record type).
pub(crate) fn to_json<T: Serialize>(record: &T, def: &'static TableDef) -> Result<Json, ApiError> {
    serde_json::to_value(record).map_err(|e| not_serialised(def, &e))
}

fn not_serialised(def: &'static TableDef, e: &serde_json::Error) -> ApiError {
    ApiError::internal(format!("a `{}` record does not serialise: {e}", def.name))
}

/// A JSON value's compact text, as its `Display` writes it. Through `serde_json::to_string`
/// rather than `Display`, whose code also holds a pretty printer (`{:#}`): a few KB of a
/// Worker's wasm that nothing here uses. Serialising a `Value` cannot fail.
pub(crate) fn text(json: &Json) -> String {
    serde_json::to_string(json).unwrap_or_default()
}

/// Removes from a record's JSON what the views hide.
pub(crate) fn strip(json: &mut Json, def: &'static TableDef, views: &Views) {
    match json {
        Json::Array(items) => {
            for item in items {
                strip(item, def, views);
            }
        }
        Json::Object(map) => {
            // A table with no view was not checked: show none of its columns' values.
            let hidden: Vec<&str> = match views.of(def.name) {
                Some(hidden) => hidden.to_vec(),
                None => def.columns.iter().map(|c| c.field).collect(),
            };
            for field in hidden {
                map.remove(field);
            }
            for relation in def.relations {
                match map.get_mut(relation.name) {
                    Some(Json::Null) | None => {}
                    Some(value) if views.of((relation.target)().name).is_some() => {
                        strip(value, (relation.target)(), views);
                    }
                    Some(_) => {
                        map.remove(relation.name);
                    }
                }
            }
        }
        _ => {}
    }
}
