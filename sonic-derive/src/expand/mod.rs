//! Code generation, one module per generated artifact.

pub mod decode_row;
pub mod handles;
pub mod table;
pub mod text_enum;
pub mod through;

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned, ToTokens};
use syn::spanned::Spanned;
use syn::DeriveInput;

use crate::internals::ast::{self, Container, TextEnum};
use crate::internals::attr::Role;
use crate::internals::check;
use crate::internals::ctxt::Ctxt;

/// `#[derive(Table)]`: parse, check, then generate the `Table` impl and the handles.
pub fn derive_table(input: &DeriveInput) -> syn::Result<TokenStream> {
    let cx = Ctxt::new();
    let cont = Container::from_ast(&cx, input);
    if let Some(cont) = &cont {
        check::check_table(&cx, cont);
    }
    cx.check()?;
    let Some(cont) = cont else {
        return Err(internal(
            input,
            "the input was not read, yet no error was reported",
        ));
    };
    let handles = handles::expand(&cont);
    table::expand(&cont, &crate_path(), &handles)
}

/// `#[derive(TextEnum)]`.
pub fn derive_text_enum(input: &DeriveInput) -> syn::Result<TokenStream> {
    let cx = Ctxt::new();
    let parsed = TextEnum::from_ast(&cx, input);
    if let Some(parsed) = &parsed {
        check::check_text_enum(&cx, parsed);
    }
    cx.check()?;
    match parsed {
        Some(parsed) => Ok(text_enum::expand(&parsed, &crate_path())),
        None => Err(internal(
            input,
            "the input was not read, yet no error was reported",
        )),
    }
}

/// The path of Sonic's core in the crate that uses the derive, which the generated code names
/// as `__sonic`: the `sonic-db` facade when the crate depends on it, else `sonic-db-core`
/// (`::sonic_db_core` also inside sonic-db-core itself, which names itself so).
fn crate_path() -> TokenStream {
    use proc_macro_crate::{crate_name, FoundCrate};
    let found = |package: &str, own: &str| match crate_name(package) {
        Ok(FoundCrate::Name(name)) => Some(name),
        Ok(FoundCrate::Itself) => Some(own.to_string()),
        Err(_) => None,
    };
    let name = found("sonic-db", "sonic_db")
        .or_else(|| found("sonic-db-core", "sonic_db_core"))
        .unwrap_or_else(|| "sonic_db_core".to_string());
    let ident = proc_macro2::Ident::new(&name, proc_macro2::Span::call_site());
    quote!(::#ident)
}

/// An error for input that the checks (`internals::check`) should have refused: a bug of this
/// crate, reported at `tokens` as a compile error rather than a panic.
fn internal(tokens: impl ToTokens, what: &str) -> syn::Error {
    syn::Error::new_spanned(
        tokens,
        format!("sonic-db-derive bug: {what}; please report it"),
    )
}

/// A field's value from the values of its columns, each written by `column(c, type)`: the
/// field's own type for a column, `AuditFields::Column` for each of the audit pair, and
/// `Default` for a relation (loaded later). Both decoders (`decode` and `decode_row`) compose
/// fields this way.
fn field_from_columns(
    columns: &[ast::ColumnModel],
    field: &ast::Field<'_>,
    column: impl Fn(&ast::ColumnModel, TokenStream) -> TokenStream,
) -> syn::Result<TokenStream> {
    let ty = field.ty;
    let mut of_field = columns.iter().filter(|c| std::ptr::eq(c.field, field));
    let mut next_column = || {
        of_field
            .next()
            .ok_or_else(|| internal(field.ident, "a field without its column"))
    };
    Ok(match &field.role {
        Role::Column(_) => column(next_column()?, quote_spanned!(ty.span()=> #ty)),
        Role::Audit => {
            let audit = quote_spanned!(ty.span()=> <#ty as __sonic::AuditFields>::Column);
            let created = column(next_column()?, audit.clone());
            let updated = column(next_column()?, audit);
            quote_spanned! {ty.span()=>
                <#ty as __sonic::AuditFields>::from_columns(#created, #updated)
            }
        }
        Role::Relation(_) => quote!(::core::default::Default::default()),
    })
}

/// The `where` clause of the generated impls: every column type is a `ColumnType`.
///
/// The bounds hold trivially for correct input. For a field of an unsupported type, the
/// unsatisfied bound is reported once per impl, at the field's type, and the code inside the
/// impls, which assumes the bound, reports nothing more.
fn bounds(cont: &Container) -> TokenStream {
    let mut seen = std::collections::HashSet::new();
    let predicates = cont.fields.iter().filter_map(|f| {
        let ty = f.ty;
        let key = quote!(#ty).to_string();
        // Spanned at the type's last token, so that the predicate spans the whole type.
        let end = ty
            .to_token_stream()
            .into_iter()
            .last()
            .map_or_else(|| ty.span(), |t| t.span());
        let predicate = match f.role {
            Role::Column(_) => quote_spanned!(end=> #ty: __sonic::ColumnType),
            Role::Audit => quote_spanned!(end=> #ty: __sonic::AuditFields),
            // Not `RelationSlot`: its impls require `Target: Table`, and tables that relate to
            // each other would make these bounds a cycle.
            Role::Relation(_) => return None,
        };
        seen.insert(key).then_some(predicate)
    });
    quote!(where #(#predicates,)*)
}
