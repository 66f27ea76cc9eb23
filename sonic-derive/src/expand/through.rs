//! The `through` of a many-to-many relation's `RelationDef`: the join table and the indexes
//! of its two columns, taken from the join table's column handles so that a misspelt field
//! is a compile error at its name, and `from` must hold the same type of value as this
//! table's key.

use proc_macro2::{Ident, TokenStream};
use quote::{quote, quote_spanned};
use syn::ext::IdentExt;

use crate::internals::attr::Relation;
use crate::internals::case;

/// `Some(ThroughDef { .. })` for a relation `through` a join table, else `None`.
/// `local` is the operand type of this table's column the join table references.
pub fn through_def(rel: &Relation, local: TokenStream) -> TokenStream {
    let Some(through) = &rel.through else {
        return quote!(::core::option::Option::None);
    };
    let (Some(table), Some(from), Some(to)) = (&through.table, &through.from, &through.to) else {
        return quote!(::core::option::Option::None);
    };
    let handle =
        |field: &Ident| Ident::new(&case::upper_snake(&field.unraw().to_string()), field.span());
    let from_handle = handle(from);
    let to_handle = handle(to);
    let from = quote_spanned! {from.span()=>
        || {
            let column: __sonic::Column<#table, #local> = <#table>::#from_handle;
            column.index()
        }
    };
    let to = quote_spanned! {to.span()=>
        || <#table>::#to_handle.index()
    };
    quote! {
        ::core::option::Option::Some(__sonic::ThroughDef {
            table: || <#table as __sonic::Table>::DEF,
            from: #from,
            to: #to,
        })
    }
}
