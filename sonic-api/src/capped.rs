//! Loaded `many` relations cut to their cap. The eager load asks the database for one record
//! more than the cap (so no more than that is ever read or sent); one more than the cap means
//! the relation had more, and the response names it in `truncated` rather than passing a
//! partial list off as complete.
//!
//! Truncating with a report rather than refusing: a Drizzle user's `with: { posts: { limit } }`
//! truncates, and a record must stay readable with its relations however many children it
//! gains (a refusal would turn a user's hundred-and-first post into an error on their
//! profile); the report says where to page instead.

use serde_json::{Map, Value as Json};
use sonic_db_core::{RelationKind, TableDef};

/// The relations asked for, by the name the client used, with the cap of each.
#[derive(Debug, Default)]
pub(crate) struct Caps {
    pub(crate) relations: Vec<(String, u64)>,
}

impl Caps {
    /// Cuts every capped relation of `record` (rendered JSON of `def`) to its cap, noting in
    /// `truncated` the paths (`posts`, `posts.comments`) that had more, with their cap. A JSON
    /// map rather than a map of numbers: the response's own map type, so no other map's code
    /// in a Worker's wasm (issue #14 item 5).
    pub(crate) fn apply(
        &self,
        record: &mut Json,
        def: &'static TableDef,
        truncated: &mut Map<String, Json>,
    ) {
        for (name, cap) in &self.relations {
            let steps: Vec<&str> = name.split('.').collect();
            cut(record, def, &steps, 0, *cap, truncated);
        }
    }
}

/// Cuts the relation at `steps[depth]` of `record` and what lies below it.
fn cut(
    record: &mut Json,
    def: &'static TableDef,
    steps: &[&str],
    depth: usize,
    cap: u64,
    truncated: &mut Map<String, Json>,
) {
    let (Some(step), Json::Object(map)) = (steps.get(depth), record) else {
        return;
    };
    let Some(relation) = def.relation(step) else {
        return;
    };
    let target = (relation.target)();
    match (relation.kind, map.get_mut(*step)) {
        (RelationKind::Many, Some(Json::Array(children))) => {
            let keep = usize::try_from(cap).unwrap_or(usize::MAX);
            if children.len() > keep {
                children.truncate(keep);
                let path = steps.get(..=depth).map(|s| s.join(".")).unwrap_or_default();
                truncated.insert(path, Json::from(cap));
            }
            for child in children.iter_mut() {
                cut(child, target, steps, depth + 1, cap, truncated);
            }
        }
        (RelationKind::One, Some(child)) => cut(child, target, steps, depth + 1, cap, truncated),
        _ => {}
    }
}

/// Adds `truncated` to a response body when some relation was cut.
pub(crate) fn report(body: &mut Map<String, Json>, truncated: Map<String, Json>) {
    if !truncated.is_empty() {
        body.insert("truncated".into(), Json::Object(truncated));
    }
}
