//! Two related tables for unit tests: `parents` (a TEXT key, a quoted name, an indexed column
//! with a default) and `children` (joined by `parents`' `many` relation, and referencing
//! `parents` with `ON DELETE SET NULL`).

use super::{ColumnDef, Constraints, ForeignKey, RelationDef, RelationKind, TableDef};
use crate::value::SqlType;

pub(crate) static PARENTS: TableDef = TableDef {
    name: "parents",
    rust_name: "Parent",
    columns: &[
        ColumnDef {
            primary_key: true,
            ..ColumnDef::new("id", "id", SqlType::Text)
        },
        ColumnDef {
            unique: true,
            nullable: true,
            ..ColumnDef::new("we\"ird", "weird", SqlType::Text)
        },
        ColumnDef {
            indexed: true,
            default: Some("0"),
            ..ColumnDef::new("rank", "rank", SqlType::Integer)
        },
    ],
    primary_key: &[0],
    relations: &[RelationDef {
        name: "children",
        kind: RelationKind::Many,
        target: || &CHILDREN,
        local: 0,
        remote: || 1,
        through: None,
    }],
    constraints: Constraints::NONE,
};

pub(crate) static CHILDREN: TableDef = TableDef {
    name: "children",
    rust_name: "Child",
    columns: &[
        ColumnDef {
            primary_key: true,
            ..ColumnDef::new("id", "id", SqlType::Integer)
        },
        // Joined by the `many` relation of `parents`, without `references`.
        ColumnDef::new("parent_id", "parent_id", SqlType::Text),
        ColumnDef {
            nullable: true,
            references: Some(ForeignKey {
                target: || (&PARENTS, &PARENTS.columns[0]),
                on_delete: Some("SET NULL"),
            }),
            ..ColumnDef::new("other_id", "other_id", SqlType::Text)
        },
    ],
    primary_key: &[0],
    relations: &[],
    constraints: Constraints::NONE,
};
