//! The inherent associated constants: one typed [`Column`] handle per column and one
//! [`Relation`] handle per relation (`User::EMAIL`, `User::POSTS`).
//!
//! [`Column`]: https://docs.rs/sonic-db-core/latest/sonic_db_core/struct.Column.html
//! [`Relation`]: https://docs.rs/sonic-db-core/latest/sonic_db_core/struct.Relation.html

use proc_macro2::{Ident, TokenStream};
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;

use crate::internals::ast::{Container, Source};
use crate::internals::attr::RelationKind;
use crate::internals::case;

pub fn expand(cont: &Container) -> TokenStream {
    let ident = cont.ident;
    let table = &cont.table_name;

    let columns = cont.columns().into_iter().map(|c| {
        let handle = &c.handle;
        let index = c.index;
        let mut doc = format!(" Column `{}`.`{}`", table, c.name);
        if let Some(a) = c.attrs() {
            let mut flags = Vec::new();
            if cont.is_key(&c) {
                flags.push(if cont.constraints.primary_key.is_empty() {
                    "primary key".to_string()
                } else {
                    "part of the primary key".to_string()
                });
            }
            if a.unique {
                flags.push("unique".to_string());
            }
            if let Some(r) = &a.references {
                let path = &r.path;
                flags.push(format!(
                    "references `{}`",
                    quote!(#path).to_string().replace(' ', "")
                ));
            }
            if !flags.is_empty() {
                doc.push_str(&format!(" ({})", flags.join(", ")));
            }
        }
        doc.push('.');
        let operand = match c.source {
            Source::Field => {
                let ty = c.field.ty;
                quote_spanned!(ty.span()=> <#ty as __sonic::ColumnType>::Operand)
            }
            Source::AuditCreated | Source::AuditUpdated => {
                let ty = c.field.ty;
                quote_spanned!(ty.span()=> <<#ty as __sonic::AuditFields>::Column as __sonic::ColumnType>::Operand)
            }
        };
        quote! {
            #[doc = #doc]
            pub const #handle: __sonic::Column<#ident, #operand> =
                __sonic::Column::new(#index);
        }
    });

    let relations = cont.relations().enumerate().map(|(index, (field, rel))| {
        let ty = field.ty;
        let member = field.ident;
        let handle = Ident::new(&case::upper_snake(&field.name), field.ident.span());
        let kind = match rel.kind {
            Some((RelationKind::Many, _)) => "many",
            _ => "one",
        };
        let doc = format!(
            " Relation `{}`.`{}` ({kind}): loads the related records into `{}`.",
            table, field.name, field.name
        );
        let target = quote_spanned!(ty.span()=> <#ty as __sonic::RelationSlot>::Target);
        // The relation's include alone is a static: `.with(User::POSTS)` borrows it.
        quote! {
            #[doc = #doc]
            pub const #handle: __sonic::Relation<#ident, #target> = {
                static ALONE: __sonic::query::Eager<#ident, #target> =
                    __sonic::query::Eager::alone(__sonic::Relation::new(
                        #index,
                        |parent, records| {
                            __sonic::RelationSlot::set_loaded(&mut parent.#member, records)
                        },
                    ));
                __sonic::Relation::shared(&ALONE)
            };
        }
    });

    let bounds = super::bounds(cont);
    quote! {
        #[automatically_derived]
        impl #ident #bounds {
            #(#columns)*
            #(#relations)*
        }
    }
}
