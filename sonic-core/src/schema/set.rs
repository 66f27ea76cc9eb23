//! [`Schema`]: the application's tables, the unit that DDL, migrations and the foreign-key
//! graph are built from.

use std::collections::HashSet;

use super::{RelationKind, Table, TableDef};

/// An ordered set of tables: the unit that DDL and migrations are generated for.
#[derive(Debug, Clone, Default)]
pub struct Schema {
    tables: Vec<&'static TableDef>,
}

impl Schema {
    /// An empty schema.
    pub fn new() -> Self {
        Schema::default()
    }

    /// Adds a table (a second table of the same name is ignored).
    pub fn table<T: Table>(self) -> Self {
        self.table_def(T::DEF)
    }

    /// Adds a table by its definition (a second table of the same name is ignored).
    pub fn table_def(mut self, def: &'static TableDef) -> Self {
        if !self.tables.iter().any(|t| t.name == def.name) {
            self.tables.push(def);
        }
        self
    }

    /// The tables in the order they were added.
    pub fn tables(&self) -> &[&'static TableDef] {
        &self.tables
    }

    /// The table with this SQL name.
    pub fn get(&self, name: &str) -> Option<&'static TableDef> {
        self.tables.iter().copied().find(|t| t.name == name)
    }

    /// The tables in creation order: each after the tables it refers to, where that is
    /// possible (tables in a reference cycle keep the order they were added in).
    pub fn ordered_tables(&self) -> Vec<&'static TableDef> {
        let deps: Vec<HashSet<&'static str>> =
            self.tables.iter().map(|t| self.dependencies(t)).collect();
        let mut done: HashSet<&'static str> = HashSet::new();
        let mut out = Vec::with_capacity(self.tables.len());
        let mut remaining: Vec<usize> = (0..self.tables.len()).collect();
        while !remaining.is_empty() {
            let pick = remaining
                .iter()
                .position(|&i| {
                    deps.get(i)
                        .is_none_or(|d| d.iter().all(|d| done.contains(d)))
                })
                .unwrap_or(0);
            let i = remaining.remove(pick);
            if let Some(&table) = self.tables.get(i) {
                done.insert(table.name);
                out.push(table);
            }
        }
        out
    }

    /// The tables of this schema that `table` refers to (itself excluded).
    fn dependencies(&self, table: &TableDef) -> HashSet<&'static str> {
        let mut deps = HashSet::new();
        for column in table.columns {
            if let Some(fk) = &column.references {
                deps.insert((fk.target)().0.name);
            }
        }
        for rel in table.relations {
            if rel.kind == RelationKind::One {
                deps.insert((rel.target)().name);
            }
        }
        // A `many` relation elsewhere whose remote column lives in this table.
        for other in &self.tables {
            for rel in other.relations {
                if rel.kind == RelationKind::Many && (rel.target)().name == table.name {
                    deps.insert(other.name);
                }
            }
        }
        deps.remove(table.name);
        deps.retain(|d| self.get(d).is_some());
        deps
    }
}
