//! Checks across fields and attributes, after parsing: every problem is recorded, none stops
//! the others from being found.

use std::collections::HashMap;

use proc_macro2::Span;
use syn::ext::IdentExt;
use syn::Type;

use super::ast::{self, ColumnModel, Container, Source, TextEnum};
use super::attr::{RelationKind, Role};
use super::ctxt::Ctxt;

/// The last path segment of a type (`Option` for `std::option::Option<T>`), if it is a path.
fn last_segment(ty: &Type) -> Option<&syn::PathSegment> {
    match ty {
        Type::Path(p) if p.qself.is_none() => p.path.segments.last(),
        Type::Group(g) => last_segment(&g.elem),
        Type::Paren(p) => last_segment(&p.elem),
        _ => None,
    }
}

/// Where to point at for a column's name: the `rename` literal, or the field.
fn name_span(column: &ColumnModel) -> Span {
    match column.attrs().and_then(|a| a.rename.as_ref()) {
        Some(lit) => lit.span(),
        None => column.field.ident.span(),
    }
}

pub fn check_table(cx: &Ctxt, cont: &Container) {
    let columns = cont.columns();
    check_primary_key(cx, cont, &columns);
    check_audit(cx, cont, &columns);
    check_column_names(cx, &columns);
    check_renames(cx, cont, &columns);
    check_relations(cx, cont, &columns);
    check_constraints(cx, cont, &columns);
}

/// `unique(..)` and `index(..)` name two or more distinct columns of this struct; `check`
/// texts are one SQL expression each.
fn check_constraints(cx: &Ctxt, cont: &Container, columns: &[ColumnModel]) {
    let lists = (cont.constraints.unique.iter().map(|l| ("unique", l)))
        .chain(cont.constraints.index.iter().map(|l| ("index", l)));
    for (key, (path, fields)) in lists {
        if fields.len() < 2 {
            let single = if key == "unique" { "unique" } else { "index" };
            cx.error_spanned_by(
                path,
                format!(
                    "`{key}(..)` spans two or more fields; for one column write \
                     `#[column({single})]` on its field"
                ),
            );
        }
        let mut seen: Vec<String> = Vec::new();
        for field in fields {
            let name = field.to_string();
            if ast::find_local(columns, field).is_none() {
                cx.error_spanned_by(
                    field,
                    format!(
                        "`{}` has no column field `{name}` (`{key}(..)` names fields of this struct)",
                        cont.ident
                    ),
                );
            } else if seen.contains(&name) {
                cx.error_spanned_by(field, format!("`{name}` is named twice in `{key}(..)`"));
            }
            seen.push(name);
        }
    }
    for check in &cont.constraints.checks {
        if let Err(why) = sonic_db_sql_text::check_expression(&check.value()) {
            cx.error_spanned_by(
                check,
                format!("`check` takes one SQL expression, e.g. `check = \"price >= 0\"`: {why}"),
            );
        }
    }
}

/// `renamed_from`: a former name that is not the current one, not another column's current
/// name (the rename would be ambiguous), and claimed by one column only.
fn check_renames(cx: &Ctxt, cont: &Container, columns: &[ColumnModel]) {
    if let Some(old) = &cont.renamed_from {
        if old.value() == cont.table_name {
            cx.error_spanned_by(
                old,
                format!(
                    "`renamed_from` names the table's current name `{}`: give the name it had before, or remove `renamed_from`",
                    cont.table_name
                ),
            );
        }
    }
    let mut claimed: HashMap<String, &ColumnModel> = HashMap::new();
    for column in columns {
        let Some(old) = column.attrs().and_then(|a| a.renamed_from.as_ref()) else {
            continue;
        };
        let value = old.value();
        if value == column.name {
            cx.error_spanned_by(
                old,
                format!(
                    "`renamed_from` names the column's current name `{value}`: give the name it had before, or remove `renamed_from`"
                ),
            );
        } else if let Some(other) = columns.iter().find(|c| c.name == value) {
            cx.error_spanned_by(
                old,
                format!(
                    "`{}` cannot be renamed from `{value}`: field `{}` still has that column; rename or remove that field first",
                    column.name, other.field_name
                ),
            );
        } else if let Some(first) = claimed.get(&value) {
            cx.error_spanned_by(
                old,
                format!(
                    "`{value}` can be renamed to one column only: `{}` is already renamed from it",
                    first.name
                ),
            );
        } else {
            claimed.insert(value, column);
        }
    }
}

fn check_primary_key(cx: &Ctxt, cont: &Container, columns: &[ColumnModel]) {
    if let Some((first_path, fields)) = cont.constraints.primary_key.first() {
        check_composite_key(cx, cont, columns, first_path, fields);
        return;
    }
    let mut first: Option<&ColumnModel> = None;
    for column in columns {
        let Some(attrs) = column.attrs() else {
            continue;
        };
        if attrs.primary_key.is_none() {
            continue;
        }
        match first {
            Some(first) => cx.error_spanned_by(
                column.field.ident,
                format!(
                    "duplicate primary key: `{}` is already the primary key of `{}`; for a \
                     composite primary key remove `#[column(primary_key)]` from both fields and \
                     declare `#[table(primary_key({}, {}))]`",
                    first.field_name, cont.table_name, first.field_name, column.field_name
                ),
            ),
            None => first = Some(column),
        }
        let is_option = last_segment(column.field.ty).is_some_and(|s| s.ident == "Option");
        if is_option && ast::generated_key(column.field.ty).is_none() {
            cx.error_spanned_by(
                column.field.ty,
                "a primary key cannot be an `Option` of this type: the only optional key is \
                 `Option<i64>`, an INTEGER PRIMARY KEY that the database generates when the \
                 record's key is `None`; other keys are NOT NULL",
            );
        }
    }
    if first.is_none() {
        cx.error_spanned_by(
            cont.ident,
            format!(
                "`{}` has no primary key: mark one field with `#[column(primary_key)]`, or \
                 declare a composite key `#[table(primary_key(a, b))]`",
                cont.ident
            ),
        );
    }
}

/// `#[table(primary_key(a, b))]`: declared once, two to four distinct column fields (the
/// key types are tuples of up to four), none `Option`, and no `#[column(primary_key)]`.
fn check_composite_key(
    cx: &Ctxt,
    cont: &Container,
    columns: &[ColumnModel],
    path: &syn::Path,
    fields: &[syn::Ident],
) {
    for (again, _) in cont.constraints.primary_key.iter().skip(1) {
        cx.error_spanned_by(
            again,
            "`primary_key(..)` is declared twice: list every key column in one \
             `#[table(primary_key(a, b))]`",
        );
    }
    let list = fields
        .iter()
        .map(|f| f.to_string())
        .collect::<Vec<_>>()
        .join(", ");
    for column in columns {
        if let Some(marked) = column.attrs().and_then(|a| a.primary_key.as_ref()) {
            cx.error_spanned_by(
                marked,
                format!(
                    "`{}` is marked `#[column(primary_key)]` but `{}` declares the composite key \
                     `#[table(primary_key({list}))]`: remove `#[column(primary_key)]` and list \
                     every key column in `primary_key(..)`",
                    column.field_name, cont.ident
                ),
            );
        }
    }
    if fields.len() < 2 {
        cx.error_spanned_by(
            path,
            "`primary_key(..)` spans two or more fields; for one column write \
             `#[column(primary_key)]` on its field",
        );
    } else if fields.len() > 4 {
        cx.error_spanned_by(
            path,
            "a composite primary key spans at most four fields (its Rust key is a tuple of \
             their types): use fewer fields, or a single `#[column(primary_key)]` with \
             `#[table(unique(..))]` on the others",
        );
    }
    let mut seen: Vec<String> = Vec::new();
    for field in fields {
        let name = field.unraw().to_string();
        match ast::find_local(columns, field) {
            None => cx.error_spanned_by(
                field,
                format!(
                    "`{}` has no column field `{name}` (`primary_key(..)` names fields of this \
                     struct)",
                    cont.ident
                ),
            ),
            Some(_) if seen.contains(&name) => cx.error_spanned_by(
                field,
                format!("`{name}` is named twice in `primary_key(..)`: name each key column once"),
            ),
            Some(column) => {
                let is_option = last_segment(column.field.ty).is_some_and(|s| s.ident == "Option");
                if column.attrs().is_some_and(|a| a.secret) {
                    cx.error_spanned_by(
                        field,
                        format!(
                            "`{name}` cannot be part of a primary key and `secret`: a key is in \
                             every record's cache key; remove `secret` or key by other columns"
                        ),
                    );
                }
                if is_option || column.source != Source::Field {
                    cx.error_spanned_by(
                        field,
                        format!(
                            "`{name}` cannot be part of a primary key: key columns are NOT NULL \
                             fields of their own (not an `Option`, not an audit column)"
                        ),
                    );
                }
            }
        }
        seen.push(name);
    }
}

fn check_audit(cx: &Ctxt, cont: &Container, columns: &[ColumnModel]) {
    let mut first: Option<&ast::Field> = None;
    for field in &cont.fields {
        if !matches!(field.role, Role::Audit) {
            continue;
        }
        if let Some(first) = first {
            cx.error_spanned_by(
                field.ident,
                format!(
                    "only one `#[audit]` field per table: `{}` already holds the audit columns",
                    first.name
                ),
            );
        } else {
            first = Some(field);
        }
        let is_audit = last_segment(field.ty).is_some_and(|s| {
            (s.ident == "Audit" || s.ident == "NullableAudit") && s.arguments.is_none()
        });
        if !is_audit {
            cx.error_spanned_by(
                field.ty,
                "`#[audit]` expects a field of type `sonic_db_core::Audit` (`created_on` and \
                 `updated_on`, Unix milliseconds, NOT NULL) or `sonic_db_core::NullableAudit` \
                 (nullable, as SonicJs's `auditSchema` declares them)",
            );
        }
    }
    if first.is_some() {
        for column in columns.iter().filter(|c| c.source == Source::Field) {
            if column.name == "created_on" || column.name == "updated_on" {
                cx.error_at(
                    name_span(column),
                    format!(
                        "column `{}` clashes with the `{}` column that `#[audit]` adds",
                        column.name, column.name
                    ),
                );
            }
        }
    }
}

fn check_column_names(cx: &Ctxt, columns: &[ColumnModel]) {
    let mut seen: HashMap<&str, &ColumnModel> = HashMap::new();
    for column in columns {
        match seen.get(column.name.as_str()) {
            Some(first) => {
                // A clash with an audit column is reported by `check_audit`.
                if first.source == Source::Field && column.source == Source::Field {
                    cx.error_at(
                        name_span(column),
                        format!(
                            "duplicate column name `{}` (also the column of field `{}`)",
                            column.name, first.field_name
                        ),
                    );
                }
            }
            None => {
                seen.insert(&column.name, column);
            }
        }
    }
}

fn check_relations(cx: &Ctxt, cont: &Container, columns: &[ColumnModel]) {
    for (field, rel) in cont.relations() {
        match (slot_kind(field.ty), &rel.kind) {
            (Err(message), _) => cx.error_spanned_by(field.ty, message),
            (Ok(Some(RelationKind::One)), Some((RelationKind::Many, kw))) => cx.error_spanned_by(
                kw,
                "`#[relation(many)]` needs a field of type `Option<Vec<T>>`, not `One<T>`",
            ),
            (Ok(Some(RelationKind::Many)), Some((RelationKind::One, kw))) => cx.error_spanned_by(
                kw,
                "`#[relation(one)]` needs a field of type `One<T>`, not `Option<Vec<T>>`",
            ),
            _ => {}
        }
        if let Some(local) = &rel.local {
            if ast::find_local(columns, local).is_none() {
                cx.error_spanned_by(
                    local,
                    format!(
                        "`{}` has no column field `{}` (`local` names a field of this struct)",
                        cont.ident, local
                    ),
                );
            }
        }
        if let (Some((RelationKind::Many, kw)), None, false) = (
            &rel.kind,
            &rel.local,
            cont.constraints.primary_key.is_empty(),
        ) {
            cx.error_spanned_by(
                kw,
                format!(
                    "`{}` has a composite primary key, and a `many` relation joins on one column \
                     of it: add `local = <a UNIQUE field of this table that the related rows \
                     reference>`",
                    cont.ident
                ),
            );
        }
        match &rel.kind {
            None => cx.error_spanned_by(
                &rel.path,
                format!(
                    "`#[relation]` on `{}` needs its kind: `#[relation(one, local = ..)]` or \
                     `#[relation(many, remote = ..)]`",
                    field.name
                ),
            ),
            Some((kind, kw)) if rel.through.is_some() => check_through(cx, field, rel, *kind, kw),
            Some((RelationKind::Many, kw)) if rel.remote.is_none() => cx.error_spanned_by(
                kw,
                format!(
                    "`#[relation(many)]` on `{}` needs `remote = <field of the related table \
                     that references this one>`, e.g. `#[relation(many, remote = user_id)]`",
                    field.name
                ),
            ),
            Some((RelationKind::One, kw)) if rel.local.is_none() => cx.error_spanned_by(
                kw,
                format!(
                    "`#[relation(one)]` on `{}` needs `local = <field of this table that \
                     references the related one>`, e.g. `#[relation(one, local = user_id)]`",
                    field.name
                ),
            ),
            Some(_) => {}
        }
    }
}

/// A many-to-many relation: `many`, the join table and both of its columns, and no `remote`
/// (the related table's primary key is the other end).
fn check_through(
    cx: &Ctxt,
    field: &ast::Field,
    rel: &super::attr::Relation,
    kind: RelationKind,
    kw: &syn::Ident,
) {
    let Some(through) = &rel.through else {
        return;
    };
    let example =
        "e.g. `#[relation(many, through = CategoryToPost, from = post_id, to = category_id)]`";
    if kind == RelationKind::One {
        cx.error_spanned_by(
            kw,
            format!(
                "`through` makes `{}` a many-to-many relation: write `#[relation(many, through = ..)]` on an `Option<Vec<T>>` field",
                field.name
            ),
        );
    }
    if let Some(remote) = &rel.remote {
        cx.error_spanned_by(
            remote,
            format!(
                "a relation `through` a join table joins on the related table's primary key: remove `remote` and name the join table's columns with `from` and `to` ({example})"
            ),
        );
    }
    match (&through.table, &through.from, &through.to) {
        (None, _, _) => cx.error_spanned_by(
            &rel.path,
            format!("`from` and `to` name the columns of a join table: add `through = <its type>` ({example})"),
        ),
        (Some(table), None, _) => cx.error_spanned_by(
            table,
            format!(
                "`through` needs `from = <field of the join table that references this table>` ({example})"
            ),
        ),
        (Some(table), _, None) => cx.error_spanned_by(
            table,
            format!(
                "`through` needs `to = <field of the join table that references the related table>` ({example})"
            ),
        ),
        _ => {}
    }
}

/// The generic argument of a one-argument path type (`T` of `Option<T>`).
fn single_arg(segment: &syn::PathSegment) -> Option<&Type> {
    match &segment.arguments {
        syn::PathArguments::AngleBracketed(a) if a.args.len() == 1 => match a.args.first() {
            Some(syn::GenericArgument::Type(t)) => Some(t),
            _ => None,
        },
        _ => None,
    }
}

/// What a relation field of another type is told.
const NOT_A_SLOT: &str = "a relation field is an `Option<Vec<T>>` (`#[relation(many, ..)]`) or a \
     `One<T>` (`#[relation(one, ..)]`), where `T` is a `#[derive(Table)]` struct; `None` and \
     `One::NotLoaded` mean not loaded";

/// The relation kind a field type spells out: `Option<Vec<_>>` is many, `One<_>` one.
/// `Ok(None)` for a type that may be an alias (checked by the compiler instead), `Err` with
/// the message for one that cannot hold a relation.
fn slot_kind(ty: &Type) -> Result<Option<RelationKind>, &'static str> {
    let Some(outer) = last_segment(ty) else {
        return Err(NOT_A_SLOT);
    };
    let inner = match (outer.ident.to_string().as_str(), single_arg(outer)) {
        ("One", Some(_)) => return Ok(Some(RelationKind::One)),
        ("Option", Some(inner)) => inner,
        ("Option" | "Vec" | "Box" | "One", _) => return Err(NOT_A_SLOT),
        _ => return Ok(None),
    };
    match last_segment(inner) {
        Some(s) if s.ident == "Vec" && single_arg(s).is_some() => Ok(Some(RelationKind::Many)),
        Some(s) if s.ident == "Box" && single_arg(s).is_some() => Err(
            "a `#[relation(one, ..)]` field is a `One<T>`: `Option<Box<T>>` cannot tell a \
             relation that was not loaded from one loaded with no match (JSON: absent vs `null`)",
        ),
        _ => Err(NOT_A_SLOT),
    }
}

pub fn check_text_enum(cx: &Ctxt, input: &TextEnum) {
    let mut seen: HashMap<&str, &syn::Ident> = HashMap::new();
    for v in &input.variants {
        match seen.get(v.text.as_str()) {
            Some(first) => cx.error_at(
                v.span,
                format!(
                    "duplicate text {:?}: variant `{}` is already stored as {:?}",
                    v.text, first, v.text
                ),
            ),
            None => {
                seen.insert(&v.text, v.ident);
            }
        }
    }
}
