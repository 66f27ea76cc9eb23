//! The query string of a list: `limit`, `offset`, `sort`, `filters[field][$op]`, `with`.
//!
//! Every name is checked against the schema before a statement is built, and every value is
//! bound, never spliced into SQL: Sonic's [`Filter::parse`] and [`Order::parse`] only accept
//! columns of the table and convert each value to the column's type.
//!
//! Unknown parameters are refused rather than ignored, so that a typo (`limt=5`) is a 400
//! instead of a silently different result.

use sonic_db_core::query::{and, or, Include, Op};
use sonic_db_core::{Capabilities, Filter, Order, MAX_SAFE_INTEGER};

use super::error::ApiError;
use super::resource::Resource;

/// Records per page when the client does not say.
pub const DEFAULT_LIMIT: u64 = 100;
/// The largest page a client may ask for.
pub const MAX_LIMIT: u64 = 1_000;
/// The largest offset: integers D1 binds exactly (2^53 − 1, [`MAX_SAFE_INTEGER`]).
pub const MAX_OFFSET: u64 = MAX_SAFE_INTEGER.unsigned_abs();
/// D1 refuses `LIKE` patterns longer than this (50 bytes, [`Capabilities::D1`]'s
/// `max_like_pattern_bytes`) with a database error; checking it here makes it the client's 400
/// it is.
pub const MAX_LIKE_PATTERN_BYTES: usize = Capabilities::D1.max_like_pattern_bytes;

/// The operators of `filters[field][$op]`, for messages: Sonic's own list.
fn operators() -> String {
    let names: Vec<String> = Op::NAMES
        .iter()
        .map(|(name, _)| format!("${name}"))
        .collect();
    names.join(" ")
}

/// A list request, checked against the schema of `T`.
pub struct ListParams<T> {
    /// All conditions, or `None` without filters.
    pub filter: Option<Filter<T>>,
    /// `ORDER BY` terms, the primary key last.
    pub order: Vec<Order<T>>,
    /// Page size.
    pub limit: u64,
    /// Records to skip.
    pub offset: u64,
    /// Relations to load.
    pub includes: Vec<Include<T>>,
}

/// One condition group: every `filters[field][$op]` with the same field and operator.
struct Group<T> {
    field: String,
    op: Op,
    filters: Vec<Filter<T>>,
}

impl<T: Resource> ListParams<T> {
    /// Parses decoded query pairs (`url::form_urlencoded`), in order.
    ///
    /// Filters: conditions with the same field and operator are alternatives (`OR`), as
    /// SonicJs reads a repeated `filters[title][$eq]`; all other conditions must hold together
    /// (`AND`), so that `filters[views][$gte]=1&filters[views][$lte]=9` is a range.
    pub fn parse(pairs: &[(String, String)]) -> Result<Self, ApiError> {
        let mut limit = None;
        let mut offset = None;
        let mut sorts = Vec::new();
        let mut relations: Vec<String> = Vec::new();
        let mut groups: Vec<Group<T>> = Vec::new();
        for (key, value) in pairs {
            match key.as_str() {
                "limit" => set_once(&mut limit, key, parse_count(key, value, MAX_LIMIT)?)?,
                "offset" => set_once(&mut offset, key, parse_count(key, value, MAX_OFFSET)?)?,
                "sort" => sorts.extend(split_list(key, value)?),
                "with" => {
                    for name in split_list(key, value)? {
                        if !relations.contains(&name) {
                            relations.push(name);
                        }
                    }
                }
                _ if key.starts_with("filters") => {
                    let (field, op_text) = parse_filter_key(key)?;
                    let (op, filter) = parse_condition::<T>(field, op_text, value)?;
                    match groups.iter_mut().find(|g| g.field == field && g.op == op) {
                        Some(group) => group.filters.push(filter),
                        None => groups.push(Group {
                            field: field.to_string(),
                            op,
                            filters: vec![filter],
                        }),
                    }
                }
                _ => {
                    return Err(ApiError::bad_request(format!(
                        "unknown query parameter `{key}` (a list takes limit, offset, sort, \
                         filters[field][$op], with)"
                    )))
                }
            }
        }

        let mut order = Vec::with_capacity(sorts.len() + 1);
        for spec in &sorts {
            order.push(Order::<T>::parse(spec)?);
        }
        // The primary key breaks ties, so that pages neither repeat nor skip records when
        // the sort values tie (SQLite's order of tied rows is unspecified).
        let key = T::DEF.primary_key_column()?.name;
        if !sorts.iter().any(|spec| spec.split(':').next() == Some(key)) {
            order.push(Order::<T>::parse(key)?);
        }

        let includes = includes::<T>(&relations)?;

        let filter = (!groups.is_empty()).then(|| and(groups.into_iter().map(|g| or(g.filters))));
        Ok(ListParams {
            filter,
            order,
            limit: limit.unwrap_or(DEFAULT_LIMIT),
            offset: offset.unwrap_or(0),
            includes,
        })
    }
}

fn set_once(slot: &mut Option<u64>, key: &str, value: u64) -> Result<(), ApiError> {
    if slot.replace(value).is_some() {
        return Err(ApiError::bad_request(format!("`{key}` is given twice")));
    }
    Ok(())
}

fn parse_count(key: &str, value: &str, max: u64) -> Result<u64, ApiError> {
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

/// A comma-separated list (`sort=title:asc,id:desc`); empty items are refused.
fn split_list(key: &str, value: &str) -> Result<Vec<String>, ApiError> {
    value
        .split(',')
        .map(|item| {
            let item = item.trim();
            if item.is_empty() {
                Err(ApiError::bad_request(format!(
                    "`{key}` has an empty item: `{value}`"
                )))
            } else {
                Ok(item.to_string())
            }
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

fn parse_condition<T: Resource>(
    field: &str,
    op_text: &str,
    value: &str,
) -> Result<(Op, Filter<T>), ApiError> {
    let op = Op::parse(op_text).ok_or_else(|| {
        ApiError::bad_request(format!(
            "unknown filter operator `{op_text}` on `{field}` (operators: {})",
            operators()
        ))
    })?;
    if matches!(op, Op::Like | Op::NotLike) && value.len() > MAX_LIKE_PATTERN_BYTES {
        return Err(ApiError::bad_request(format!(
            "the pattern of `{field}` `{op_text}` is {} bytes; D1 allows {MAX_LIKE_PATTERN_BYTES}",
            value.len()
        )));
    }
    Ok((op, Filter::<T>::parse(field, op_text, value)?))
}

/// The query string of a single-record `GET`: only `with` (relations to load).
pub fn item_includes<T: Resource>(pairs: &[(String, String)]) -> Result<Vec<Include<T>>, ApiError> {
    let mut names: Vec<String> = Vec::new();
    for (key, value) in pairs {
        if key != "with" {
            return Err(ApiError::bad_request(format!(
                "unknown query parameter `{key}` (a record takes with)"
            )));
        }
        for name in split_list(key, value)? {
            if !names.contains(&name) {
                names.push(name);
            }
        }
    }
    includes::<T>(&names)
}

/// The relations named by `with`, each loaded once: two names that fill the same field
/// (`posts` and `posts.comments`) are refused, as the field can only hold one of them (and
/// two result columns of one name would collide in a D1 batch).
fn includes<T: Resource>(names: &[String]) -> Result<Vec<Include<T>>, ApiError> {
    let mut fields: Vec<(&str, &str)> = Vec::with_capacity(names.len());
    let mut includes = Vec::with_capacity(names.len());
    for name in names {
        let include = T::include(name).ok_or_else(|| {
            ApiError::bad_request(format!(
                "`{}` has no relation `{name}` to load (with: {})",
                T::DEF.name,
                T::relation_names()
            ))
        })?;
        let field = name.split('.').next().unwrap_or(name);
        if let Some((_, other)) = fields.iter().find(|(f, _)| *f == field) {
            return Err(ApiError::bad_request(format!(
                "`with` names `{other}` and `{name}`, which both load `{field}`: ask for one"
            )));
        }
        fields.push((field, name));
        includes.push(include);
    }
    Ok(includes)
}

/// Writes take no query parameters.
pub fn expect_no_query(pairs: &[(String, String)]) -> Result<(), ApiError> {
    match pairs.first() {
        None => Ok(()),
        Some((key, _)) => Err(ApiError::bad_request(format!(
            "unknown query parameter `{key}` (writes take none)"
        ))),
    }
}
