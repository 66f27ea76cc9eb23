//! Table rebuilds: the changes `ALTER TABLE` cannot make (a column's type, nullability,
//! default, key, `UNIQUE` or reference; adding or dropping a key, `UNIQUE` or foreign-key
//! column), made by SQLite's procedure for them
//! (<https://www.sqlite.org/lang_altertable.html#otheralter>) as D1 allows it.
//!
//! # Why not exactly SQLite's twelve steps
//!
//! SQLite's procedure turns foreign keys off, creates `new_X`, copies the rows, drops `X` and
//! renames `new_X` to `X`. D1 enforces foreign keys in every migration and cannot turn them
//! off; it offers `PRAGMA defer_foreign_keys = ON` instead (checks at commit). With foreign
//! keys on, `DROP TABLE X` first deletes its rows: every row of another table that refers to
//! them counts as a violation (or, with `ON DELETE CASCADE` / `SET NULL`, is deleted or
//! changed), and renaming `new_X` later clears none of it, so the twelve steps fail at commit
//! ("FOREIGN KEY constraint failed") or lose the referring rows.
//!
//! So Sonic keeps the rows in a copy, drops `X`, creates `X` again with its new definition and
//! inserts the rows back: inserting a parent row clears the deferred violations of the rows
//! that refer to it, so other tables' rows are kept untouched. Tables whose rows an
//! `ON DELETE` action would change (directly or through others) are copied too and restored
//! after. No rename is involved, so no reference, index or trigger text is rewritten.
//! Foreign keys are checked at commit as D1 does for every migration (natively:
//! [`Migrations::apply`](super::Migrations::apply) does the same): a row left without its
//! parent fails the whole file, which then changes nothing. SQLite's step 10,
//! `PRAGMA foreign_key_check`, only lists violations and would not stop the migration, so it
//! is left out.

use super::{MigrateError, SchemaSnapshot, TableSnapshot};
use crate::sql::writer::quote_ident;

/// The statements that give table `new_table.name` (today `old_table`) its new definition,
/// keeping its rows and the rows of the tables that refer to it.
///
/// `db` is the schema as the database is when the rebuild runs (renames applied), `new` the
/// schema after the migration.
pub(super) fn rebuild(
    old_table: &TableSnapshot,
    new_table: &TableSnapshot,
    db: &SchemaSnapshot,
    new: &SchemaSnapshot,
    reasons: &[String],
) -> Result<Vec<String>, MigrateError> {
    let name = &new_table.name;
    let table = quote_ident(name);
    let keep = |t: &str| quote_ident(&format!("__sonic_keep_{t}"));

    let mut targets = Vec::new();
    let mut values = Vec::new();
    for column in &new_table.columns {
        match old_table.column(&column.name) {
            Some(before) => {
                targets.push(quote_ident(&column.name));
                let quoted = quote_ident(&column.name);
                values.push(
                    match (&column.default, before.nullable && !column.nullable) {
                        (Some(default), true) => format!("COALESCE({quoted}, {default})"),
                        _ => quoted,
                    },
                );
            }
            None if !column.nullable && column.default.is_none() => {
                return Err(MigrateError::NotNullWithoutDefault {
                    table: name.clone(),
                    column: column.name.clone(),
                })
            }
            None => {} // filled by its default (or NULL)
        }
    }

    let dependents = action_dependents(name, db, new);
    let mut out = vec![format!(
        "-- Rebuild {table} ({}): SQLite cannot ALTER this. Its rows are copied, the table is\n\
         -- created again and the rows put back{}; foreign keys are checked at commit.\n\
         PRAGMA defer_foreign_keys = ON",
        reasons.join("; "),
        if dependents.is_empty() {
            String::new()
        } else {
            format!(
                ", with the rows of {} (which ON DELETE actions would change)",
                dependents
                    .iter()
                    .map(|d| quote_ident(d))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        }
    )];
    for d in &dependents {
        out.push(format!(
            "CREATE TABLE {} AS SELECT * FROM {}",
            keep(d),
            quote_ident(d)
        ));
    }
    out.push(format!(
        "CREATE TABLE {} AS SELECT * FROM {table}",
        keep(name)
    ));
    out.push(format!("DROP TABLE {table}"));
    out.push(new_table.create_sql());
    if !targets.is_empty() {
        out.push(format!(
            "INSERT INTO {table} ({}) SELECT {} FROM {}",
            targets.join(", "),
            values.join(", "),
            keep(name)
        ));
    }
    out.push(format!("DROP TABLE {}", keep(name)));
    out.extend(new_table.indexes.iter().map(|i| i.create_sql(name)));
    // Every dependent emptied first, then refilled: a DELETE's own ON DELETE actions then only
    // touch rows that are put back afterwards.
    for d in &dependents {
        out.push(format!("DELETE FROM {}", quote_ident(d)));
    }
    for d in &dependents {
        out.push(format!(
            "INSERT INTO {} SELECT * FROM {}",
            quote_ident(d),
            keep(d)
        ));
        out.push(format!("DROP TABLE {}", keep(d)));
    }
    Ok(out)
}

/// Whether this `ON DELETE` action changes the referring rows (`CASCADE`, `SET NULL`,
/// `SET DEFAULT`); `RESTRICT` and `NO ACTION` only check.
fn changes_rows(on_delete: Option<&str>) -> bool {
    on_delete.is_some_and(|a| {
        let a = a.trim();
        a.eq_ignore_ascii_case("CASCADE")
            || a.eq_ignore_ascii_case("SET NULL")
            || a.eq_ignore_ascii_case("SET DEFAULT")
    })
}

/// The tables (other than `table`) whose rows dropping `table` changes through `ON DELETE`
/// actions, directly or through each other, in schema order. The references of both `db` and
/// `new` count (a table rebuilt earlier in the same migration may have changed them); only
/// tables that exist when the rebuild runs (those of `new`) are listed.
fn action_dependents(table: &str, db: &SchemaSnapshot, new: &SchemaSnapshot) -> Vec<String> {
    let refers_with_action = |from: &str, to: &str| {
        [db.table(from), new.table(from)]
            .into_iter()
            .flatten()
            .flat_map(|t| &t.columns)
            .any(|c| {
                c.references
                    .as_ref()
                    .is_some_and(|r| r.table == to && changes_rows(r.on_delete.as_deref()))
            })
    };
    let mut found: Vec<String> = Vec::new();
    let mut frontier = vec![table.to_string()];
    while let Some(parent) = frontier.pop() {
        for t in &new.tables {
            if t.name != table && !found.contains(&t.name) && refers_with_action(&t.name, &parent) {
                found.push(t.name.clone());
                frontier.push(t.name.clone());
            }
        }
    }
    new.tables
        .iter()
        .filter(|t| found.contains(&t.name))
        .map(|t| t.name.clone())
        .collect()
}
