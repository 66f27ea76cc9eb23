//! INTEGER columns read exactly where result numbers cross JavaScript as doubles (#12 item 3).
//!
//! D1 and a Durable Object's SQLite hand every result number to JavaScript as a double, so an
//! INTEGER beyond ±(2^53 − 1) would arrive rounded. Where the backend says so
//! ([`Capabilities::max_exact_integer`] is `Some`), the compiler selects each INTEGER column of
//! a record as itself when a double holds it and as `CAST(col AS TEXT)` — SQLite's exact
//! decimal text — beyond ([`write_exact`]); the decoder takes the number as it is and turns
//! the text back into the integer by the column's declared type
//! ([`crate::value::decode_column`]). Every INTEGER column is read this way (the schema types
//! `i64`, `u64`, narrower integers, `bool` and timestamps alike as SQLite's 64-bit INTEGER),
//! which keeps the rule one rule. Where integers are exact (`None`: SQLite in-process) the SQL
//! is unchanged.
//!
//! Parameters need nothing here: the backends bind an integer beyond ±(2^53 − 1) as its
//! decimal text under `CAST(? AS INTEGER)` (D1) or into an INTEGER column's affinity (Durable
//! Objects), which SQLite stores as the exact INTEGER.

use std::convert::Infallible;

use crate::backend::Capabilities;
use crate::schema::{ColumnDef, TableDef};
use crate::sql::writer::SqlWriter;
use crate::value::SqlType;

/// Whether records are selected with their INTEGER columns beyond ±(2^53 − 1) as text on this
/// backend ([`write_exact`]).
pub(crate) fn integers_as_text(capabilities: &Capabilities) -> bool {
    capabilities.max_exact_integer.is_some()
}

/// Of a pair of memos of SQL text (`[integers as numbers, integers as text]`), the one for
/// this backend: memoized SQL that holds a select list depends on [`integers_as_text`].
pub(crate) fn memo<'a, V>(memos: &'a [V; 2], capabilities: &Capabilities) -> &'a V {
    let [numbers, text] = memos;
    if integers_as_text(capabilities) {
        text
    } else {
        numbers
    }
}

/// `expr` (written by `write`) as JavaScript's doubles carry it exactly: the INTEGER itself
/// within ±(2^53 − 1) ([`MAX_SAFE_INTEGER`](crate::backend::MAX_SAFE_INTEGER)), else
/// `CAST(expr AS TEXT)`. Most integers are small, and a number makes D1's answer smaller and
/// needs no string in JavaScript nor in Sonic. A REAL in that range reads as that number (as
/// in-process SQLite reads it); text, a BLOB or a REAL beyond it as its text; `NULL` as `NULL`.
pub(crate) fn write_exact<'a>(w: &mut SqlWriter<'a>, mut write: impl FnMut(&mut SqlWriter<'a>)) {
    let Ok(()) = try_write_exact::<Infallible>(w, |w| {
        write(w);
        Ok(())
    });
}

/// [`write_exact`] of an expression whose writing can fail.
pub(crate) fn try_write_exact<'a, E>(
    w: &mut SqlWriter<'a>,
    mut write: impl FnMut(&mut SqlWriter<'a>) -> Result<(), E>,
) -> Result<(), E> {
    w.push("CASE WHEN ");
    write(w)?;
    w.push(EXACT_RANGE);
    write(w)?;
    w.push(" ELSE CAST(");
    write(w)?;
    w.push(" AS TEXT) END");
    Ok(())
}

/// The test and the branch of [`write_exact`] between its expression's first two copies.
const EXACT_RANGE: &str = " BETWEEN -9007199254740991 AND 9007199254740991 THEN ";

/// One column of a select list: `q."c"`, or [`write_exact`] of it for an INTEGER column when
/// `as_text`. Not aliased `AS "c"`: an `ORDER BY "c"` would then sort by the alias.
/// Records decode by position, so the result column's name does not matter.
pub(crate) fn select_column(
    w: &mut SqlWriter,
    qualifier: Option<&str>,
    column: &ColumnDef,
    as_text: bool,
) {
    if as_text && column.sql_type == SqlType::Integer {
        write_exact(w, |w| w.column(qualifier, column.name));
    } else {
        w.column(qualifier, column.name);
    }
}

/// Every column of `def` in definition order (what [`crate::Table::decode`] expects), each
/// written by [`select_column`].
pub(crate) fn select_list(
    w: &mut SqlWriter,
    def: &TableDef,
    qualifier: Option<&str>,
    as_text: bool,
) {
    if !as_text {
        w.column_list(def, qualifier);
        return;
    }
    for (i, column) in def.columns.iter().enumerate() {
        if i > 0 {
            w.push(", ");
        }
        select_column(w, qualifier, column, true);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const COLUMNS: &[ColumnDef] = &[
        ColumnDef::new("id", "id", SqlType::Integer),
        ColumnDef::new("title", "title", SqlType::Text),
    ];
    const TABLE: TableDef = TableDef {
        name: "notes",
        rust_name: "Note",
        columns: COLUMNS,
        primary_key: &[0],
        relations: &[],
        constraints: crate::schema::Constraints::NONE,
    };

    fn list(qualifier: Option<&str>, as_text: bool) -> String {
        let mut w = SqlWriter::new();
        select_list(&mut w, &TABLE, qualifier, as_text);
        w.finish().sql.into_owned()
    }

    #[test]
    fn integer_columns_are_cast_only_when_asked() {
        assert_eq!(list(None, false), r#""id", "title""#);
        assert_eq!(
            list(None, true),
            r#"CASE WHEN "id" BETWEEN -9007199254740991 AND 9007199254740991 THEN "id" ELSE CAST("id" AS TEXT) END, "title""#
        );
        assert_eq!(
            list(Some("@0"), true),
            r#"CASE WHEN "@0"."id" BETWEEN -9007199254740991 AND 9007199254740991 THEN "@0"."id" ELSE CAST("@0"."id" AS TEXT) END, "@0"."title""#
        );
    }

    #[test]
    fn the_range_is_javascripts_safe_integers() {
        let bound = crate::backend::MAX_SAFE_INTEGER.to_string();
        assert_eq!(EXACT_RANGE, format!(" BETWEEN -{bound} AND {bound} THEN "));
    }

    #[test]
    fn the_mode_follows_the_capabilities() {
        assert!(integers_as_text(&Capabilities::D1));
        assert!(!integers_as_text(&Capabilities::SQLITE));
        assert_eq!(*memo(&[0, 1], &Capabilities::D1), 1);
        assert_eq!(*memo(&[0, 1], &Capabilities::SQLITE), 0);
    }
}
