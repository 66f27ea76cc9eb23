//! Query strings: a list's `limit`, `offset`, `sort`, `filters[field][$op]`, `with`, and a
//! record's `with`. Names are the JSON fields of the table; a field hidden from the principal
//! is answered like an unknown one, so that filters and sorts are no oracle on it. Every value
//! is bound by Sonic (`Filter::parse`, `Order::by_name`, by the table), never spliced into SQL.

use sonic_db_core::query::{Direction, Op};
use sonic_db_core::{ColumnDef, TableDef, MAX_SAFE_INTEGER};

use crate::error::ApiError;

/// A list request, checked against the table and what the principal may see. Not generic
/// over the record type (compiled once for every table): its filters go to the table's
/// [`AddFilter`] as they are read, its sorts are column names.
pub(crate) struct ListParams {
    pub(crate) order: Vec<(&'static str, Direction)>,
    pub(crate) limit: Option<u64>,
    pub(crate) offset: u64,
    pub(crate) relations: Vec<String>,
}

/// Takes one filter of the query: the index of its group (conditions with the same field and
/// operator are alternatives, `OR`; groups are `AND`-ed), its column, operator and text.
pub(crate) type AddFilter<'a> =
    &'a mut dyn FnMut(usize, &'static str, &str, &str) -> Result<(), ApiError>;

/// The column of a JSON field, unless it is hidden (then: unknown, as for a typo).
pub(crate) fn visible_column(
    def: &'static TableDef,
    field: &str,
    hidden: &[&str],
) -> Result<&'static ColumnDef, ApiError> {
    def.columns
        .iter()
        .find(|c| c.field == field && !hidden.contains(&c.field))
        .ok_or_else(|| {
            let known: Vec<&str> = def
                .columns
                .iter()
                .map(|c| c.field)
                .filter(|f| !hidden.contains(f))
                .collect();
            ApiError::bad_request(format!(
                "unknown field `{field}` of `{}` (fields: {})",
                def.name,
                known.join(", ")
            ))
        })
}

impl ListParams {
    pub(crate) fn parse(
        def: &'static TableDef,
        pairs: &[(String, String)],
        hidden: &[&str],
        max_like_bytes: usize,
        add_filter: AddFilter<'_>,
    ) -> Result<Self, ApiError> {
        let mut limit = None;
        let mut offset = None;
        let mut sorts = Vec::new();
        let mut relations = Vec::new();
        let mut groups: Vec<(&str, Op)> = Vec::new();
        for (key, value) in pairs {
            match key.as_str() {
                "limit" => set_once(&mut limit, key, parse_count(key, value)?)?,
                "offset" => set_once(&mut offset, key, parse_count(key, value)?)?,
                "sort" => sorts.extend(split_list(key, value)?),
                "with" => add_relations(&mut relations, key, value)?,
                _ if key.starts_with("filters") => {
                    let (field, op_text) = parse_filter_key(key)?;
                    let op = Op::parse(op_text).ok_or_else(|| {
                        ApiError::bad_request(format!(
                            "unknown filter operator `{op_text}` on `{field}` (operators: {})",
                            Op::listed()
                        ))
                    })?;
                    if let Some(bytes) = like_pattern_bytes(op, value) {
                        if bytes > max_like_bytes {
                            return Err(ApiError::bad_request(format!(
                                "the `{op_text}` pattern on `{field}` is {bytes} bytes; at most \
                                 {max_like_bytes}"
                            )));
                        }
                    }
                    let column = visible_column(def, field, hidden)?;
                    let group = groups
                        .iter()
                        .position(|g| *g == (field, op))
                        .unwrap_or(groups.len());
                    if group == groups.len() {
                        groups.push((field, op));
                    }
                    add_filter(group, column.name, op_text, value)?;
                }
                _ => {
                    return Err(ApiError::bad_request(format!(
                        "unknown query parameter `{key}` (a list takes limit, offset, sort, \
                         filters[field][$op], with)"
                    )))
                }
            }
        }
        let keys = def.key_columns()?;
        let mut order = Vec::with_capacity(sorts.len() + keys.len());
        let mut sorted: Vec<&str> = Vec::with_capacity(sorts.len());
        for spec in &sorts {
            let (field, direction) = match spec.split_once(':') {
                None => (spec.as_str(), Direction::Asc),
                Some((field, "asc")) => (field, Direction::Asc),
                Some((field, "desc")) => (field, Direction::Desc),
                Some((_, other)) => {
                    return Err(ApiError::bad_request(format!(
                        "unknown sort direction `{other}` in `{spec}` (asc, desc)"
                    )))
                }
            };
            let column = visible_column(def, field, hidden)?;
            sorted.push(column.name);
            order.push((column.name, direction));
        }
        // The key (every column of a composite one) breaks ties, so that pages neither repeat
        // nor skip records.
        for key in keys {
            if !sorted.contains(&key.name) {
                order.push((key.name, Direction::Asc));
            }
        }
        Ok(ListParams {
            order,
            limit,
            offset: offset.unwrap_or(0),
            relations,
        })
    }
}

/// The query of a single record: only `with`.
pub(crate) fn record_relations(pairs: &[(String, String)]) -> Result<Vec<String>, ApiError> {
    let mut relations = Vec::new();
    for (key, value) in pairs {
        if key != "with" {
            return Err(ApiError::bad_request(format!(
                "unknown query parameter `{key}` (a record takes with)"
            )));
        }
        add_relations(&mut relations, key, value)?;
    }
    Ok(relations)
}

/// Writes take no query parameters.
pub(crate) fn expect_no_query(pairs: &[(String, String)]) -> Result<(), ApiError> {
    match pairs.first() {
        None => Ok(()),
        Some((key, _)) => Err(ApiError::bad_request(format!(
            "unknown query parameter `{key}` (writes take none)"
        ))),
    }
}

fn add_relations(relations: &mut Vec<String>, key: &str, value: &str) -> Result<(), ApiError> {
    for name in split_list(key, value)? {
        if !relations.contains(&name) {
            relations.push(name);
        }
    }
    Ok(())
}

/// The bytes of the `LIKE` pattern an operator sends (D1 refuses long ones): the text of
/// `$like`/`$nlike`; for `$contains`, `$startsWith`, `$endsWith` the text with `%`, `_` and
/// `\` escaped and the wildcards added, as Sonic builds it.
fn like_pattern_bytes(op: Op, text: &str) -> Option<usize> {
    let escaped = || text.len() + text.matches(['%', '_', '\\']).count();
    match op {
        Op::Like | Op::NotLike => Some(text.len()),
        Op::Contains => Some(escaped() + 2),
        Op::StartsWith | Op::EndsWith => Some(escaped() + 1),
        _ => None,
    }
}

fn set_once(slot: &mut Option<u64>, key: &str, value: u64) -> Result<(), ApiError> {
    if slot.replace(value).is_some() {
        return Err(ApiError::bad_request(format!("`{key}` is given twice")));
    }
    Ok(())
}

fn parse_count(key: &str, value: &str) -> Result<u64, ApiError> {
    let max = MAX_SAFE_INTEGER.unsigned_abs();
    value
        .parse::<u64>()
        .ok()
        .filter(|n| *n <= max)
        .ok_or_else(|| {
            ApiError::bad_request(format!(
                "`{key}` must be an integer from 0 to {max}, not `{value}`"
            ))
        })
}

fn split_list(key: &str, value: &str) -> Result<Vec<String>, ApiError> {
    value
        .split(',')
        .map(|item| match item.trim() {
            "" => Err(ApiError::bad_request(format!(
                "`{key}` has an empty item: `{value}`"
            ))),
            item => Ok(item.to_string()),
        })
        .collect()
}

/// `filters[field][$op]` → `(field, "$op")`; `filters[field]` → `(field, "$eq")`.
fn parse_filter_key(key: &str) -> Result<(&str, &str), ApiError> {
    let malformed = || {
        ApiError::bad_request(format!(
            "malformed filter `{key}`: write filters[field][$op]=value"
        ))
    };
    let rest = key.strip_prefix("filters[").ok_or_else(malformed)?;
    let (field, rest) = rest.split_once(']').ok_or_else(malformed)?;
    let op = match rest {
        "" => "$eq",
        _ => rest
            .strip_prefix('[')
            .and_then(|r| r.strip_suffix(']'))
            .ok_or_else(malformed)?,
    };
    if field.is_empty() || op.is_empty() || field.contains('[') || op.contains(['[', ']']) {
        return Err(malformed());
    }
    Ok((field, op))
}
