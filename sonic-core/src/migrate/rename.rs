//! Renames declared in the schema (`renamed_from` on tables and columns), turned into
//! `ALTER TABLE … RENAME TO` / `RENAME COLUMN` before anything else is compared, and the
//! drops-with-adds that look like undeclared renames, refused.

use super::{MigrateError, SchemaSnapshot};
use crate::sql::writer::quote_ident;

/// The renames from `old` to `new`, and `old` as the database will be after them: every
/// later comparison then sees the renamed table or column as kept.
///
/// Like SQLite's `RENAME`, the copy also follows the rename in other tables' references and in
/// the table's indexes (an index keeps its name; if the schema names it otherwise, the diff
/// drops and re-creates it, which loses no data).
pub(super) fn apply_renames(
    old: &SchemaSnapshot,
    new: &SchemaSnapshot,
) -> Result<(Vec<String>, SchemaSnapshot), MigrateError> {
    let mut out = Vec::new();
    let mut db = old.clone();
    for table in &new.tables {
        let Some(from) = table.renamed_from.as_deref() else {
            continue;
        };
        if db.table(&table.name).is_some() || db.table(from).is_none() {
            continue; // already renamed by an earlier migration, or never existed
        }
        if new.table(from).is_some() {
            return Err(MigrateError::RenameClash {
                from: from.to_string(),
                to: table.name.clone(),
            });
        }
        out.push(format!(
            "ALTER TABLE {} RENAME TO {}",
            quote_ident(from),
            quote_ident(&table.name)
        ));
        for t in &mut db.tables {
            if t.name == from {
                t.name.clone_from(&table.name);
            }
            for c in &mut t.columns {
                if let Some(r) = c.references.as_mut().filter(|r| r.table == from) {
                    r.table.clone_from(&table.name);
                }
            }
        }
    }
    for table in &new.tables {
        for column in &table.columns {
            let Some(from) = column.renamed_from.as_deref() else {
                continue;
            };
            let Some(current) = db.table(&table.name) else {
                continue; // a new table: created with the column's new name
            };
            if current.column(&column.name).is_some() || current.column(from).is_none() {
                continue;
            }
            if table.column(from).is_some() {
                return Err(MigrateError::RenameClash {
                    from: format!("{}.{from}", table.name),
                    to: format!("{}.{}", table.name, column.name),
                });
            }
            out.push(format!(
                "ALTER TABLE {} RENAME COLUMN {} TO {}",
                quote_ident(&table.name),
                quote_ident(from),
                quote_ident(&column.name)
            ));
            for t in &mut db.tables {
                let own = t.name == table.name;
                for c in &mut t.columns {
                    if own && c.name == from {
                        c.name.clone_from(&column.name);
                    }
                    if let Some(r) = c
                        .references
                        .as_mut()
                        .filter(|r| r.table == table.name && r.column == from)
                    {
                        r.column.clone_from(&column.name);
                    }
                }
                if own {
                    // SQLite renames the column in indexes and constraints too.
                    let columns = t.indexes.iter_mut().flat_map(|i| {
                        std::iter::once(&mut i.column).chain(i.more_columns.iter_mut())
                    });
                    for c in columns.chain(t.unique.iter_mut().flatten()) {
                        if c == from {
                            c.clone_from(&column.name);
                        }
                    }
                }
            }
        }
    }
    Ok((out, db))
}

/// With drops allowed, a table that loses columns and gains others in one diff (or a schema
/// that loses tables and gains others) may be an undeclared rename: dropping would lose the
/// data. Refused unless every drop is confirmed (`"table"` or `"table.column"` in
/// `confirmed`).
pub(super) fn refuse_lookalike_renames(
    db: &SchemaSnapshot,
    new: &SchemaSnapshot,
    confirmed: &[String],
) -> Result<(), MigrateError> {
    let is_confirmed = |name: &str| confirmed.iter().any(|c| c == name);
    let dropped_tables: Vec<String> = db
        .tables
        .iter()
        .filter(|t| new.table(&t.name).is_none() && !is_confirmed(&t.name))
        .map(|t| t.name.clone())
        .collect();
    let added_tables: Vec<String> = new
        .tables
        .iter()
        .filter(|t| db.table(&t.name).is_none())
        .map(|t| t.name.clone())
        .collect();
    if !dropped_tables.is_empty() && !added_tables.is_empty() {
        return Err(MigrateError::PossibleRename {
            table: None,
            dropped: dropped_tables,
            added: added_tables,
        });
    }
    for table in &new.tables {
        let Some(before) = db.table(&table.name) else {
            continue;
        };
        let dropped: Vec<String> = before
            .columns
            .iter()
            .filter(|c| {
                table.column(&c.name).is_none()
                    && !is_confirmed(&format!("{}.{}", table.name, c.name))
            })
            .map(|c| c.name.clone())
            .collect();
        let added: Vec<String> = table
            .columns
            .iter()
            .filter(|c| before.column(&c.name).is_none())
            .map(|c| c.name.clone())
            .collect();
        if !dropped.is_empty() && !added.is_empty() {
            return Err(MigrateError::PossibleRename {
                table: Some(table.name.clone()),
                dropped,
                added,
            });
        }
    }
    Ok(())
}
