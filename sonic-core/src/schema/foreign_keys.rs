//! The foreign keys that change rows when the rows they reference are deleted (`ON DELETE
//! CASCADE`, `SET NULL`, `SET DEFAULT`): what a delete must follow to keep the KV cache
//! coherent.

use std::collections::HashMap;

use super::{ColumnDef, RelationKind, Schema, TableDef};

/// What deleting a referenced row does to the rows referencing it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OnDelete {
    /// They are deleted too.
    Cascade,
    /// Their column is set to `NULL`.
    SetNull,
    /// Their column is set to its default.
    SetDefault,
}

impl OnDelete {
    /// The action of an `ON DELETE` clause, if it changes rows (`RESTRICT` and `NO ACTION`
    /// make the delete fail instead).
    fn parse(action: &str) -> Option<OnDelete> {
        let mut words = action.split_whitespace();
        let word = |expected: &str, word: Option<&str>| {
            word.is_some_and(|w| w.eq_ignore_ascii_case(expected))
        };
        let (first, second, rest) = (words.next(), words.next(), words.next());
        if rest.is_some() {
            return None;
        }
        match second {
            None if word("CASCADE", first) => Some(OnDelete::Cascade),
            Some(_) if word("SET", first) && word("NULL", second) => Some(OnDelete::SetNull),
            Some(_) if word("SET", first) && word("DEFAULT", second) => Some(OnDelete::SetDefault),
            _ => None,
        }
    }
}

/// A foreign key whose rows change when the rows it references are deleted.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Edge {
    /// The referencing table.
    pub(crate) child: &'static TableDef,
    /// The referencing column (index into `child`).
    pub(crate) column: usize,
    /// The referenced column of the parent.
    pub(crate) referenced: &'static ColumnDef,
    pub(crate) action: OnDelete,
}

impl Edge {
    fn same(&self, other: &Edge) -> bool {
        self.child.name == other.child.name && self.column == other.column
    }
}

/// The foreign keys of `child` that change its rows on a delete, with the table each one
/// references.
fn foreign_keys_of(child: &'static TableDef) -> impl Iterator<Item = (&'static str, Edge)> {
    child
        .columns
        .iter()
        .enumerate()
        .filter_map(move |(column, def)| {
            let fk = def.references.as_ref()?;
            let action = OnDelete::parse(fk.on_delete?)?;
            let (parent, referenced) = (fk.target)();
            Some((
                parent.name,
                Edge {
                    child,
                    column,
                    referenced,
                    action,
                },
            ))
        })
}

/// The foreign-key graph a [`Db`] knows: by referenced table, the foreign keys that change
/// rows when rows of it are deleted.
#[derive(Debug, Default)]
pub(crate) struct ForeignKeys {
    by_parent: HashMap<&'static str, Vec<Edge>>,
}

impl ForeignKeys {
    /// The foreign keys between the tables of `schema`.
    pub(crate) fn of(schema: &Schema) -> ForeignKeys {
        let mut by_parent: HashMap<&'static str, Vec<Edge>> = HashMap::new();
        for &table in schema.tables() {
            for (parent, edge) in foreign_keys_of(table) {
                by_parent.entry(parent).or_default().push(edge);
            }
        }
        ForeignKeys { by_parent }
    }

    /// The foreign keys referencing `parent` that change rows on a delete: the schema's,
    /// and those of the tables of `parent`'s own `many` relations.
    pub(crate) fn referencing(&self, parent: &'static TableDef) -> Vec<Edge> {
        let mut edges = self.by_parent.get(parent.name).cloned().unwrap_or_default();
        for relation in parent.relations {
            if relation.kind != RelationKind::Many {
                continue;
            }
            for (target, edge) in foreign_keys_of((relation.target)()) {
                if target == parent.name && !edges.iter().any(|e| e.same(&edge)) {
                    edges.push(edge);
                }
            }
        }
        edges
    }
}

#[cfg(test)]
mod tests {
    use super::OnDelete;

    #[test]
    fn on_delete_actions_are_read_as_sqlite_reads_them() {
        let cases = [
            ("CASCADE", Some(OnDelete::Cascade)),
            ("cascade", Some(OnDelete::Cascade)),
            ("SET NULL", Some(OnDelete::SetNull)),
            ("set\tnull", Some(OnDelete::SetNull)),
            ("  Set   Default ", Some(OnDelete::SetDefault)),
            ("RESTRICT", None),
            ("NO ACTION", None),
            ("SET", None),
            ("NULL", None),
            ("CASCADE NULL", None),
            ("SET NULL NULL", None),
            ("", None),
        ];
        for (action, expected) in cases {
            assert_eq!(OnDelete::parse(action), expected, "{action:?}");
        }
    }
}
