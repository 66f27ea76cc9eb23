//! Entity tags of stored records: a digest of the row, so that any change of any column
//! (Sonic stamps `updated_on` on every write too) gives another tag.

use sha2::{Digest, Sha256};
use sonic_db_core::{Table, Value};

use crate::error::ApiError;
use crate::route::header_text;

/// The strong `ETag` of a record: `"` + 32 hex digits of SHA-256 over its row + `"`.
pub(crate) fn etag<T: Table>(record: &T) -> Result<String, ApiError> {
    let mut row = Vec::with_capacity(T::DEF.columns.len());
    record.encode_into(&mut row)?;
    Ok(row_tag(&row))
}

/// The tag of an encoded row; not generic, so compiled once for every table.
fn row_tag(row: &[Value]) -> String {
    let mut hash = Sha256::new();
    for value in row {
        match value {
            Value::Null => hash.update([0]),
            Value::Integer(i) => {
                hash.update([1]);
                hash.update(i.to_le_bytes());
            }
            Value::Real(r) => {
                hash.update([2]);
                hash.update(r.to_bits().to_le_bytes());
            }
            Value::Text(s) => {
                hash.update([3]);
                hash.update((s.len() as u64).to_le_bytes());
                hash.update(s.as_bytes());
            }
            Value::Blob(b) => {
                hash.update([4]);
                hash.update((b.len() as u64).to_le_bytes());
                hash.update(b);
            }
        }
    }
    let digest = hash.finalize();
    let short = digest.get(..16).unwrap_or_default();
    format!("\"{}\"", hex::encode(short))
}

/// The tags of the request's `If-Match` values, if it has one (`*` is kept as is).
pub(crate) fn if_match(values: &[&[u8]]) -> Result<Option<Vec<String>>, ApiError> {
    let mut tags = Vec::new();
    for value in values {
        let text =
            header_text(value).ok_or_else(|| ApiError::bad_request("`If-Match` is not ASCII"))?;
        for tag in text.split(',') {
            let tag = tag.trim();
            let tag = tag.strip_prefix("W/").unwrap_or(tag);
            if !tag.is_empty() {
                tags.push(tag.to_string());
            }
        }
    }
    Ok((!values.is_empty()).then_some(tags))
}

/// Whether the stored record's tag is one of `tags` (`*`: any stored record).
pub(crate) fn matches(tags: &[String], current: &str) -> bool {
    tags.iter().any(|tag| tag == "*" || tag == current)
}
