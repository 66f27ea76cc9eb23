//! The attributes, each parsed once into plain values.
//!
//! `#[table(...)]` on the struct, `#[column(...)]`, `#[relation(...)]` and `#[audit]` on fields,
//! `#[text(...)]` on the variants of a `TextEnum`. Every problem is recorded in the [`Ctxt`]
//! with the span of the offending key or value, and parsing goes on so that one compile shows
//! them all.

use syn::meta::ParseNestedMeta;
use syn::{Attribute, Expr, ExprLit, Ident, Lit, LitStr, Path, Token};

use super::ctxt::Ctxt;

/// One key of an attribute, remembering whether it was already given.
struct Slot<T> {
    attr: &'static str,
    key: &'static str,
    value: Option<T>,
}

impl<T> Slot<T> {
    fn new(attr: &'static str, key: &'static str) -> Self {
        Slot {
            attr,
            key,
            value: None,
        }
    }

    /// Stores the value; a second occurrence is an error at the repeated key.
    fn set(&mut self, cx: &Ctxt, key: &Path, value: T) {
        if self.value.is_some() {
            cx.error_spanned_by(
                key,
                format!("duplicate key `{}` in `#[{}(...)]`", self.key, self.attr),
            );
        } else {
            self.value = Some(value);
        }
    }

    fn get(self) -> Option<T> {
        self.value
    }
}

/// Consumes whatever follows an unknown key (`= expr` or `(...)`), so that parsing goes on.
fn skip_value(meta: &ParseNestedMeta) -> syn::Result<()> {
    if meta.input.peek(Token![=]) {
        let _: Expr = meta.value()?.parse()?;
    } else if meta.input.peek(syn::token::Paren) {
        let _: proc_macro2::TokenTree = meta.input.parse()?;
    }
    Ok(())
}

fn key_name(path: &Path) -> String {
    quote::quote!(#path).to_string().replace(' ', "")
}

fn unknown_key(cx: &Ctxt, attr: &str, meta: &ParseNestedMeta, expected: &str) -> syn::Result<()> {
    cx.error_spanned_by(
        &meta.path,
        format!(
            "unknown key `{}` in `#[{attr}(...)]`; expected one of: {expected}",
            key_name(&meta.path)
        ),
    );
    skip_value(meta)
}

/// A flag key (`unique`): a value after it is an error.
fn flag(cx: &Ctxt, attr: &str, meta: &ParseNestedMeta) -> syn::Result<()> {
    if meta.input.peek(Token![=]) || meta.input.peek(syn::token::Paren) {
        let name = key_name(&meta.path);
        cx.error_spanned_by(
            &meta.path,
            format!("`{name}` takes no value: write `#[{attr}({name})]`"),
        );
        skip_value(meta)?;
    }
    Ok(())
}

fn ungroup(mut expr: &Expr) -> &Expr {
    while let Expr::Group(g) = expr {
        expr = &g.expr;
    }
    expr
}

/// `key = "string"`; anything else is an error at the value.
fn lit_str(cx: &Ctxt, attr: &str, meta: &ParseNestedMeta) -> syn::Result<Option<LitStr>> {
    let expr: Expr = meta.value()?.parse()?;
    if let Expr::Lit(ExprLit {
        lit: Lit::Str(s), ..
    }) = ungroup(&expr)
    {
        return Ok(Some(s.clone()));
    }
    let key = key_name(&meta.path);
    cx.error_spanned_by(
        &expr,
        format!("expected a string literal: `#[{attr}({key} = \"...\")]`"),
    );
    Ok(None)
}

/// `key = name`: a plain identifier (a field name).
fn ident_value(cx: &Ctxt, attr: &str, meta: &ParseNestedMeta) -> syn::Result<Option<Ident>> {
    let expr: Expr = meta.value()?.parse()?;
    if let Expr::Path(p) = ungroup(&expr) {
        if p.qself.is_none() && p.attrs.is_empty() {
            if let Some(ident) = p.path.get_ident() {
                return Ok(Some(ident.clone()));
            }
        }
    }
    let key = key_name(&meta.path);
    cx.error_spanned_by(
        &expr,
        format!("expected a field name: `#[{attr}({key} = field_name)]`"),
    );
    Ok(None)
}

fn non_empty(cx: &Ctxt, lit: Option<LitStr>, what: &str) -> Option<LitStr> {
    let lit = lit?;
    if lit.value().is_empty() {
        cx.error_spanned_by(&lit, format!("{what} must not be empty"));
        return None;
    }
    Some(lit)
}

// ---------------------------------------------------------------- #[table(...)]

/// `#[table(name = "users", renamed_from = "people", unique(a, b), index(a, b),
/// check = "...", strict)]` on the struct.
pub struct Container {
    /// The table name, if given.
    pub name: Option<LitStr>,
    /// The table's former name, for migrations.
    pub renamed_from: Option<LitStr>,
    /// `primary_key(a, b)`, a composite primary key: the key (for spans) and its field
    /// names, in key order. More than one is kept to be reported.
    pub primary_key: Vec<(Path, Vec<Ident>)>,
    /// `unique(a, b)`, each with its key (for spans) and its field names.
    pub unique: Vec<(Path, Vec<Ident>)>,
    /// `index(a, b)`, each with its key (for spans) and its field names.
    pub index: Vec<(Path, Vec<Ident>)>,
    /// `check = "expression"`, in order.
    pub checks: Vec<LitStr>,
    /// `strict`.
    pub strict: bool,
}

const TABLE_KEYS: &str =
    "name, renamed_from, primary_key(..), unique(..), index(..), check, strict";

/// `key(a, b)`: a parenthesised list of field names.
fn field_list(cx: &Ctxt, meta: &ParseNestedMeta) -> syn::Result<Option<Vec<Ident>>> {
    let key = key_name(&meta.path);
    if !meta.input.peek(syn::token::Paren) {
        cx.error_spanned_by(
            &meta.path,
            format!("`{key}` takes the fields it spans: `#[table({key}(field_a, field_b))]`"),
        );
        skip_value(meta)?;
        return Ok(None);
    }
    let mut fields = Vec::new();
    meta.parse_nested_meta(|inner| {
        match inner.path.get_ident() {
            Some(ident) if !inner.input.peek(Token![=]) && !inner.input.peek(syn::token::Paren) => {
                fields.push(ident.clone())
            }
            _ => {
                cx.error_spanned_by(
                    &inner.path,
                    format!("expected a field name: `#[table({key}(field_a, field_b))]`"),
                );
                skip_value(&inner)?;
            }
        }
        Ok(())
    })?;
    Ok(Some(fields))
}

impl Container {
    pub fn from_ast(cx: &Ctxt, attrs: &[Attribute]) -> Self {
        let mut name = Slot::new("table", "name");
        let mut renamed_from = Slot::new("table", "renamed_from");
        let mut strict = Slot::new("table", "strict");
        let mut primary_key = Vec::new();
        let mut unique = Vec::new();
        let mut index = Vec::new();
        let mut checks = Vec::new();
        for attr in attrs.iter().filter(|a| a.path().is_ident("table")) {
            let res = attr.parse_nested_meta(|meta| {
                if meta.path.is_ident("name") {
                    if let Some(lit) = lit_str(cx, "table", &meta)? {
                        name.set(cx, &meta.path, lit);
                    }
                    Ok(())
                } else if meta.path.is_ident("renamed_from") {
                    if let Some(lit) = lit_str(cx, "table", &meta)? {
                        renamed_from.set(cx, &meta.path, lit);
                    }
                    Ok(())
                } else if meta.path.is_ident("unique") {
                    if let Some(fields) = field_list(cx, &meta)? {
                        unique.push((meta.path.clone(), fields));
                    }
                    Ok(())
                } else if meta.path.is_ident("index") {
                    if let Some(fields) = field_list(cx, &meta)? {
                        index.push((meta.path.clone(), fields));
                    }
                    Ok(())
                } else if meta.path.is_ident("check") {
                    if let Some(lit) = lit_str(cx, "table", &meta)? {
                        checks.push(lit);
                    }
                    Ok(())
                } else if meta.path.is_ident("primary_key") {
                    if let Some(fields) = field_list(cx, &meta)? {
                        primary_key.push((meta.path.clone(), fields));
                    }
                    Ok(())
                } else if meta.path.is_ident("strict") {
                    flag(cx, "table", &meta)?;
                    strict.set(cx, &meta.path, ());
                    Ok(())
                } else {
                    unknown_key(cx, "table", &meta, TABLE_KEYS)
                }
            });
            if let Err(e) = res {
                cx.syn_error(e);
            }
        }
        Container {
            name: non_empty(cx, name.get(), "the table name"),
            renamed_from: non_empty(cx, renamed_from.get(), "a former table name"),
            primary_key,
            unique,
            index,
            checks: checks
                .into_iter()
                .filter_map(|c| non_empty(cx, Some(c), "a CHECK expression"))
                .collect(),
            strict: strict.get().is_some(),
        }
    }
}

// ---------------------------------------------------------------- field roles

/// What a field is: a column (the default), the audit pair, or a relation.
pub enum Role {
    Column(Column),
    Audit,
    Relation(Relation),
}

/// `#[column(...)]` (or no attribute at all).
#[derive(Default)]
pub struct Column {
    /// The `primary_key` key, for spans.
    pub primary_key: Option<Path>,
    pub unique: bool,
    pub index: bool,
    /// `secret`: write-only, never shown by APIs.
    pub secret: bool,
    pub rename: Option<LitStr>,
    pub default: Option<LitStr>,
    pub references: Option<References>,
    /// The SQL action (`CASCADE`, …) and the literal, for spans.
    pub on_delete: Option<(&'static str, LitStr)>,
    /// The column's former name, for migrations.
    pub renamed_from: Option<LitStr>,
}

/// `references = User::ID`: another table's column handle.
pub struct References {
    /// The handle's path, `User::ID`.
    pub path: Path,
}

/// `#[relation(many, remote = user_id)]` / `#[relation(one, local = user_id)]`.
pub struct Relation {
    /// The attribute path `relation`, for spans.
    pub path: Path,
    /// `one` / `many` and the keyword (for spans).
    pub kind: Option<(RelationKind, Ident)>,
    /// A field of this table.
    pub local: Option<Ident>,
    /// A field of the related table (its handle is `REMOTE` in upper case).
    pub remote: Option<Ident>,
    /// `through = CategoryToPost, from = post_id, to = category_id`: a many-to-many relation.
    pub through: Option<Through>,
}

/// The join table of a many-to-many relation and its two columns, as written.
#[derive(Default)]
pub struct Through {
    /// `through = <path>`: the join table's type.
    pub table: Option<Path>,
    /// `from = <field>`: its column that references this table.
    pub from: Option<Ident>,
    /// `to = <field>`: its column that references the related table.
    pub to: Option<Ident>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum RelationKind {
    One,
    Many,
}

const COLUMN_KEYS: &str =
    "primary_key, unique, index, rename, default, references, on_delete, secret, renamed_from";

/// Reads the role of a field from its attributes.
pub fn field_role(cx: &Ctxt, attrs: &[Attribute]) -> Role {
    let ours: Vec<&Attribute> = attrs
        .iter()
        .filter(|a| {
            let p = a.path();
            p.is_ident("column") || p.is_ident("relation") || p.is_ident("audit")
        })
        .collect();

    // `#[column]` may repeat; mixing roles is an error at the first attribute of another role.
    let first = ours.first().map(|a| a.path().clone());
    for attr in ours.iter().skip(1) {
        if let Some(first) = &first {
            let (a, b) = (key_name(first), key_name(attr.path()));
            if a != b || a != "column" {
                if a == b {
                    cx.error_spanned_by(attr, format!("duplicate `#[{b}]` attribute"));
                } else {
                    cx.error_spanned_by(
                        attr,
                        format!("a field can have `#[{a}]` or `#[{b}]`, not both"),
                    );
                }
            }
        }
    }

    match ours.first() {
        Some(attr) if attr.path().is_ident("audit") => {
            if !matches!(attr.meta, syn::Meta::Path(_)) {
                cx.error_spanned_by(&attr.meta, "`#[audit]` takes no arguments");
            }
            Role::Audit
        }
        Some(attr) if attr.path().is_ident("relation") => Role::Relation(relation(cx, attr)),
        _ => Role::Column(column(
            cx,
            ours.iter().copied().filter(|a| a.path().is_ident("column")),
        )),
    }
}

fn on_delete_action(text: &str) -> Option<&'static str> {
    let normalized = text
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_ascii_lowercase();
    Some(match normalized.as_str() {
        "cascade" => "CASCADE",
        "set null" => "SET NULL",
        "set default" => "SET DEFAULT",
        "restrict" => "RESTRICT",
        "no action" => "NO ACTION",
        _ => return None,
    })
}

fn column<'a>(cx: &Ctxt, attrs: impl Iterator<Item = &'a Attribute>) -> Column {
    let mut primary_key = Slot::new("column", "primary_key");
    let mut unique = Slot::new("column", "unique");
    let mut index = Slot::new("column", "index");
    let mut secret = Slot::new("column", "secret");
    let mut rename = Slot::new("column", "rename");
    let mut default = Slot::new("column", "default");
    let mut references = Slot::new("column", "references");
    let mut on_delete = Slot::new("column", "on_delete");
    let mut renamed_from = Slot::new("column", "renamed_from");

    for attr in attrs {
        let res = attr.parse_nested_meta(|meta| {
            let p = &meta.path;
            if p.is_ident("primary_key") {
                flag(cx, "column", &meta)?;
                primary_key.set(cx, p, p.clone());
            } else if p.is_ident("unique") {
                flag(cx, "column", &meta)?;
                unique.set(cx, p, ());
            } else if p.is_ident("index") {
                flag(cx, "column", &meta)?;
                index.set(cx, p, ());
            } else if p.is_ident("secret") {
                flag(cx, "column", &meta)?;
                secret.set(cx, p, p.clone());
            } else if p.is_ident("rename") {
                if let Some(lit) = lit_str(cx, "column", &meta)? {
                    rename.set(cx, p, lit);
                }
            } else if p.is_ident("default") {
                if let Some(lit) = lit_str(cx, "column", &meta)? {
                    default.set(cx, p, lit);
                }
            } else if p.is_ident("renamed_from") {
                if let Some(lit) = lit_str(cx, "column", &meta)? {
                    renamed_from.set(cx, p, lit);
                }
            } else if p.is_ident("on_delete") {
                if let Some(lit) = lit_str(cx, "column", &meta)? {
                    match on_delete_action(&lit.value()) {
                        Some(action) => on_delete.set(cx, p, (action, lit)),
                        None => cx.error_spanned_by(
                            &lit,
                            format!(
                                "unknown `on_delete` action {:?}; expected one of: \"cascade\", \
                                 \"set null\", \"set default\", \"restrict\", \"no action\"",
                                lit.value()
                            ),
                        ),
                    }
                }
            } else if p.is_ident("references") {
                let expr: Expr = meta.value()?.parse()?;
                match ungroup(&expr) {
                    Expr::Path(ep)
                        if ep.qself.is_none()
                            && ep.path.segments.len() >= 2
                            && ep
                                .path
                                .segments
                                .last()
                                .is_some_and(|s| s.arguments.is_none()) =>
                    {
                        references.set(
                            cx,
                            p,
                            References {
                                path: ep.path.clone(),
                            },
                        );
                    }
                    _ => cx.error_spanned_by(
                        &expr,
                        "expected the column handle of another table: `references = User::ID`",
                    ),
                }
            } else {
                unknown_key(cx, "column", &meta, COLUMN_KEYS)?;
            }
            Ok(())
        });
        if let Err(e) = res {
            cx.syn_error(e);
        }
    }

    let secret = secret.get();
    let primary_key = primary_key.get();
    if let (Some(path), Some(_)) = (&secret, &primary_key) {
        cx.error_spanned_by(
            path,
            "a primary key cannot be `secret`: it is in every record's URL and cache key",
        );
    }
    let column = Column {
        primary_key,
        unique: unique.get().is_some(),
        index: index.get().is_some(),
        secret: secret.is_some(),
        rename: non_empty(cx, rename.get(), "a column name"),
        default: non_empty(cx, default.get(), "a default expression"),
        references: references.get(),
        on_delete: on_delete.get(),
        renamed_from: non_empty(cx, renamed_from.get(), "a former column name"),
    };
    if let (Some((_, lit)), None) = (&column.on_delete, &column.references) {
        cx.error_spanned_by(
            lit,
            "`on_delete` needs `references = Table::COLUMN` on the same column",
        );
    }
    column
}

fn relation(cx: &Ctxt, attr: &Attribute) -> Relation {
    let mut kind = Slot::new("relation", "one/many");
    let mut local = Slot::new("relation", "local");
    let mut remote = Slot::new("relation", "remote");
    let mut through = ThroughSlots::default();
    let res = attr.parse_nested_meta(|meta| {
        let p = &meta.path;
        if let Some(ident) = p.get_ident().filter(|i| *i == "one" || *i == "many") {
            flag(cx, "relation", &meta)?;
            let k = if ident == "one" {
                RelationKind::One
            } else {
                RelationKind::Many
            };
            kind.set(cx, p, (k, ident.clone()));
        } else if p.is_ident("local") {
            if let Some(ident) = ident_value(cx, "relation", &meta)? {
                local.set(cx, p, ident);
            }
        } else if p.is_ident("remote") {
            if let Some(ident) = ident_value(cx, "relation", &meta)? {
                remote.set(cx, p, ident);
            }
        } else if !through_key(cx, &meta, &mut through)? {
            unknown_key(
                cx,
                "relation",
                &meta,
                "one, many, local, remote, through, from, to",
            )?;
        }
        Ok(())
    });
    if let Err(e) = res {
        cx.syn_error(e);
    }
    Relation {
        path: attr.path().clone(),
        kind: kind.get(),
        local: local.get(),
        remote: remote.get(),
        through: through.get(),
    }
}

/// The slots of `through`, `from` and `to`.
struct ThroughSlots {
    table: Slot<Path>,
    from: Slot<Ident>,
    to: Slot<Ident>,
}

impl Default for ThroughSlots {
    fn default() -> Self {
        ThroughSlots {
            table: Slot::new("relation", "through"),
            from: Slot::new("relation", "from"),
            to: Slot::new("relation", "to"),
        }
    }
}

impl ThroughSlots {
    /// `None` unless one of the three keys was given.
    fn get(self) -> Option<Through> {
        let through = Through {
            table: self.table.get(),
            from: self.from.get(),
            to: self.to.get(),
        };
        (through.table.is_some() || through.from.is_some() || through.to.is_some())
            .then_some(through)
    }
}

/// Reads `through = Type`, `from = field` or `to = field`; `false` for any other key.
fn through_key(cx: &Ctxt, meta: &ParseNestedMeta, slots: &mut ThroughSlots) -> syn::Result<bool> {
    let p = &meta.path;
    if p.is_ident("through") {
        let expr: Expr = meta.value()?.parse()?;
        match ungroup(&expr) {
            Expr::Path(ep) if ep.qself.is_none() => slots.table.set(cx, p, ep.path.clone()),
            _ => cx.error_spanned_by(
                &expr,
                "expected the join table's type: `through = CategoryToPost`",
            ),
        }
    } else if p.is_ident("from") {
        if let Some(ident) = ident_value(cx, "relation", meta)? {
            slots.from.set(cx, p, ident);
        }
    } else if p.is_ident("to") {
        if let Some(ident) = ident_value(cx, "relation", meta)? {
            slots.to.set(cx, p, ident);
        }
    } else {
        return Ok(false);
    }
    Ok(true)
}

// ---------------------------------------------------------------- #[text(...)]

/// `#[text(rename = "admin")]` on a variant of a `TextEnum`.
pub struct Variant {
    pub rename: Option<LitStr>,
}

impl Variant {
    pub fn from_ast(cx: &Ctxt, attrs: &[Attribute]) -> Self {
        let mut rename = Slot::new("text", "rename");
        for attr in attrs.iter().filter(|a| a.path().is_ident("text")) {
            let res = attr.parse_nested_meta(|meta| {
                if meta.path.is_ident("rename") {
                    if let Some(lit) = lit_str(cx, "text", &meta)? {
                        rename.set(cx, &meta.path, lit);
                    }
                    Ok(())
                } else {
                    unknown_key(cx, "text", &meta, "rename")
                }
            });
            if let Err(e) = res {
                cx.syn_error(e);
            }
        }
        Variant {
            rename: non_empty(cx, rename.get(), "the stored text"),
        }
    }
}
