//! The parsed input: a struct's fields with their roles, an enum's variants with their text.

use proc_macro2::Span;
use syn::ext::IdentExt;
use syn::{Data, DeriveInput, Fields, Ident, Type};

use super::attr::{self, Role};
use super::case;
use super::ctxt::Ctxt;

/// A `#[derive(Table)]` struct.
pub struct Container<'a> {
    pub ident: &'a Ident,
    /// The SQL table name (from `#[table(name)]` or the default convention).
    pub table_name: String,
    /// `#[table(renamed_from = "...")]`.
    pub renamed_from: Option<syn::LitStr>,
    /// `#[table(unique(..), index(..), check = "..", strict)]`.
    pub constraints: TableConstraints,
    pub fields: Vec<Field<'a>>,
}

/// The table-level constraints of `#[table(...)]`, as written.
pub struct TableConstraints {
    /// `primary_key(a, b)` (a composite key); more than one is an error reported by checks.
    pub primary_key: Vec<(syn::Path, Vec<Ident>)>,
    pub unique: Vec<(syn::Path, Vec<Ident>)>,
    pub index: Vec<(syn::Path, Vec<Ident>)>,
    pub checks: Vec<syn::LitStr>,
    pub strict: bool,
}

/// One named field.
pub struct Field<'a> {
    pub ident: &'a Ident,
    /// The field name without `r#`.
    pub name: String,
    pub ty: &'a Type,
    pub role: Role,
}

/// Where a column's value lives in the struct.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// The field itself.
    Field,
    /// `field.created_on` of an `#[audit]` field.
    AuditCreated,
    /// `field.updated_on` of an `#[audit]` field.
    AuditUpdated,
}

/// One stored column, in `TableDef::columns` order.
pub struct ColumnModel<'f, 'a> {
    pub index: usize,
    /// SQL name.
    pub name: String,
    /// Rust field name (`created_on` / `updated_on` for audit columns).
    pub field_name: String,
    pub field: &'f Field<'a>,
    pub source: Source,
    /// The handle constant's name.
    pub handle: Ident,
}

impl ColumnModel<'_, '_> {
    /// The column's `#[column]` attributes (none for audit columns).
    pub fn attrs(&self) -> Option<&attr::Column> {
        match (&self.field.role, self.source) {
            (Role::Column(c), Source::Field) => Some(c),
            _ => None,
        }
    }
}

impl<'a> Container<'a> {
    /// Reads the input; `None` if it is not a struct with named fields (after recording why).
    pub fn from_ast(cx: &Ctxt, input: &'a DeriveInput) -> Option<Self> {
        let attrs = attr::Container::from_ast(cx, &input.attrs);
        if !input.generics.params.is_empty() || input.generics.where_clause.is_some() {
            cx.error_spanned_by(
                &input.generics,
                "`#[derive(Table)]` does not support generic structs: a table is one concrete type",
            );
        }
        let named = match &input.data {
            Data::Struct(s) => match &s.fields {
                Fields::Named(named) => named,
                Fields::Unnamed(_) | Fields::Unit => {
                    cx.error_spanned_by(
                        input.ident.clone(),
                        "`#[derive(Table)]` needs a struct with named fields (`struct User { id: String, .. }`)",
                    );
                    return None;
                }
            },
            Data::Enum(e) => {
                cx.error_at(
                    e.enum_token.span,
                    "`#[derive(Table)]` supports only structs with named fields, not enums \
                     (for an enum stored as TEXT, use `#[derive(TextEnum)]`)",
                );
                return None;
            }
            Data::Union(u) => {
                cx.error_at(
                    u.union_token.span,
                    "`#[derive(Table)]` supports only structs with named fields, not unions",
                );
                return None;
            }
        };
        let fields = named
            .named
            .iter()
            .filter_map(|f| {
                // Named fields have names; `syn` keeps the `Option` for tuple fields.
                let Some(ident) = f.ident.as_ref() else {
                    cx.error_spanned_by(f, "a field without a name");
                    return None;
                };
                Some(Field {
                    ident,
                    name: ident.unraw().to_string(),
                    ty: &f.ty,
                    role: attr::field_role(cx, &f.attrs),
                })
            })
            .collect();
        let table_name = match &attrs.name {
            Some(lit) => lit.value(),
            None => case::default_table_name(&input.ident.unraw().to_string()),
        };
        Some(Container {
            ident: &input.ident,
            table_name,
            renamed_from: attrs.renamed_from,
            constraints: TableConstraints {
                primary_key: attrs.primary_key,
                unique: attrs.unique,
                index: attrs.index,
                checks: attrs.checks,
                strict: attrs.strict,
            },
            fields,
        })
    }

    /// The stored columns, in order: one per column field, two per `#[audit]` field.
    pub fn columns(&self) -> Vec<ColumnModel<'_, 'a>> {
        let mut out = Vec::new();
        for field in &self.fields {
            let span = field.ident.span();
            match &field.role {
                Role::Column(c) => out.push(ColumnModel {
                    index: out.len(),
                    name: c
                        .rename
                        .as_ref()
                        .map_or_else(|| field.name.clone(), |l| l.value()),
                    field_name: field.name.clone(),
                    field,
                    source: Source::Field,
                    handle: Ident::new(&case::upper_snake(&field.name), span),
                }),
                Role::Audit => {
                    for (name, source) in [
                        ("created_on", Source::AuditCreated),
                        ("updated_on", Source::AuditUpdated),
                    ] {
                        out.push(ColumnModel {
                            index: out.len(),
                            name: name.to_string(),
                            field_name: name.to_string(),
                            field,
                            source,
                            handle: Ident::new(&case::upper_snake(name), span),
                        });
                    }
                }
                Role::Relation(_) => {}
            }
        }
        out
    }

    /// The relation fields with their attributes, in declaration order.
    pub fn relations(&self) -> impl Iterator<Item = (&Field<'a>, &attr::Relation)> {
        self.fields.iter().filter_map(|f| match &f.role {
            Role::Relation(r) => Some((f, r)),
            _ => None,
        })
    }

    /// The primary key column, if exactly one field is marked.
    pub fn primary_key<'s>(
        &self,
        columns: &'s [ColumnModel<'_, 'a>],
    ) -> Option<&'s ColumnModel<'s, 'a>> {
        columns
            .iter()
            .find(|c| c.attrs().is_some_and(|a| a.primary_key.is_some()))
    }

    /// The primary key's columns, in key order: those of `#[table(primary_key(a, b))]`, else
    /// the one `#[column(primary_key)]` column (checks make sure there is one or the other).
    pub fn key_columns<'s>(
        &self,
        columns: &'s [ColumnModel<'_, 'a>],
    ) -> Vec<&'s ColumnModel<'s, 'a>> {
        match self.constraints.primary_key.first() {
            Some((_, fields)) => fields
                .iter()
                .filter_map(|f| find_local(columns, f))
                .collect(),
            None => self.primary_key(columns).into_iter().collect(),
        }
    }

    /// Whether `column` is (part of) the primary key.
    pub fn is_key(&self, column: &ColumnModel) -> bool {
        match self.constraints.primary_key.first() {
            Some((_, fields)) => fields.iter().any(|f| f.unraw() == column.field_name),
            None => column.attrs().is_some_and(|a| a.primary_key.is_some()),
        }
    }
}

/// Finds the column a relation's `local = name` designates: by Rust field name (or the
/// `created_on` / `updated_on` of an audit field).
pub fn find_local<'s, 'f, 'a>(
    columns: &'s [ColumnModel<'f, 'a>],
    name: &Ident,
) -> Option<&'s ColumnModel<'f, 'a>> {
    let name = name.unraw().to_string();
    columns.iter().find(|c| c.field_name == name)
}

/// The `i64` of an `Option<i64>` primary key: a key the database generates.
pub fn generated_key(ty: &Type) -> Option<&Type> {
    let Type::Path(p) = ty else { return None };
    let option = p.path.segments.last().filter(|s| s.ident == "Option")?;
    let syn::PathArguments::AngleBracketed(args) = &option.arguments else {
        return None;
    };
    match args.args.first() {
        Some(syn::GenericArgument::Type(inner @ Type::Path(ip)))
            if args.args.len() == 1 && ip.qself.is_none() && ip.path.is_ident("i64") =>
        {
            Some(inner)
        }
        _ => None,
    }
}

/// A `#[derive(TextEnum)]` enum.
pub struct TextEnum<'a> {
    pub ident: &'a Ident,
    pub variants: Vec<Variant<'a>>,
}

/// A unit variant and its stored text.
pub struct Variant<'a> {
    pub ident: &'a Ident,
    pub text: String,
    /// Where to point at when the text is a duplicate.
    pub span: Span,
}

impl<'a> TextEnum<'a> {
    pub fn from_ast(cx: &Ctxt, input: &'a DeriveInput) -> Option<Self> {
        for attr in input.attrs.iter().filter(|a| a.path().is_ident("text")) {
            cx.error_spanned_by(
                attr,
                "`#[text(...)]` goes on the variants of a `TextEnum`, not on the enum",
            );
        }
        if !input.generics.params.is_empty() || input.generics.where_clause.is_some() {
            cx.error_spanned_by(
                &input.generics,
                "`#[derive(TextEnum)]` does not support generic enums",
            );
        }
        let data = match &input.data {
            Data::Enum(e) => e,
            Data::Struct(s) => {
                cx.error_at(
                    s.struct_token.span,
                    "`#[derive(TextEnum)]` supports only enums whose variants have no fields",
                );
                return None;
            }
            Data::Union(u) => {
                cx.error_at(
                    u.union_token.span,
                    "`#[derive(TextEnum)]` supports only enums whose variants have no fields",
                );
                return None;
            }
        };
        if data.variants.is_empty() {
            cx.error_spanned_by(
                &input.ident,
                "`#[derive(TextEnum)]` needs at least one variant",
            );
        }
        let variants = data
            .variants
            .iter()
            .map(|v| {
                if !matches!(v.fields, Fields::Unit) {
                    cx.error_spanned_by(
                        &v.fields,
                        format!(
                            "`#[derive(TextEnum)]` variants cannot have fields: `{}` is stored as \
                             its text alone",
                            v.ident
                        ),
                    );
                }
                let attrs = attr::Variant::from_ast(cx, &v.attrs);
                let (text, span) = match &attrs.rename {
                    Some(lit) => (lit.value(), lit.span()),
                    None => (
                        case::snake_case(&v.ident.unraw().to_string()),
                        v.ident.span(),
                    ),
                };
                Variant {
                    ident: &v.ident,
                    text,
                    span,
                }
            })
            .collect();
        Some(TextEnum {
            ident: &input.ident,
            variants,
        })
    }
}
