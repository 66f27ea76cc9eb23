//! `Table::decode_row`: a record read straight from a row the backend lends, each field from
//! its cell by column position (no `Value` per cell, no column names).

use proc_macro2::TokenStream;
use quote::quote;

use crate::internals::ast::{self, ColumnModel, Container};

use super::field_from_columns;

/// The `fn decode_row` of the `Table` impl. A field's error names the row's primary key
/// (column `pk`) unless it is that column. Always inlined: once two of Sonic's row sinks called
/// it with the same row type, the compiler stopped inlining it into either, and the joined
/// pairs' read of 50 rows took 5,198 instructions more (`benches/ir-table.sh`, join).
pub fn expand(cont: &Container, columns: &[ColumnModel], pk: usize) -> syn::Result<TokenStream> {
    let table = cont.table_name.as_str();
    let ident = cont.ident;
    let inits = cont
        .fields
        .iter()
        .map(|field| {
            let member = field.ident;
            let value = field_value(table, columns, field, pk)?;
            Ok(quote!(#member: #value))
        })
        .collect::<syn::Result<Vec<_>>>()?;
    Ok(quote! {
        #[inline(always)]
        fn decode_row<__SonicRow: __sonic::row::Row + ?::core::marker::Sized>(
            row: &__SonicRow,
        ) -> ::core::result::Result<Self, __sonic::Error> {
            ::core::result::Result::Ok(#ident {
                #(#inits,)*
            })
        }
    })
}

/// The expression of one field's value.
fn field_value(
    table: &str,
    columns: &[ColumnModel],
    field: &ast::Field<'_>,
    pk: usize,
) -> syn::Result<TokenStream> {
    let cell = |c: &ColumnModel, ty: TokenStream| {
        let index = c.index;
        let name = &c.name;
        let key = if index == pk {
            quote!(::core::option::Option::None)
        } else {
            quote!(__sonic::row::Row::cell(row, #pk))
        };
        // `decode_cell` spelt out, so that the conversion inlines and only the errors call out;
        // an INTEGER column may arrive as its decimal text (D1, see `decode_column_cell`).
        quote! {
            match __sonic::row::Row::cell(row, #index) {
                ::core::option::Option::Some(cell) => {
                    match __sonic::value::decode_column_cell::<#ty>(cell) {
                        ::core::result::Result::Ok(value) => value,
                        ::core::result::Result::Err(e) => {
                            return ::core::result::Result::Err(
                                __sonic::row::cell_error(#key, #table, #name, e),
                            )
                        }
                    }
                }
                ::core::option::Option::None => {
                    return ::core::result::Result::Err(
                        __sonic::row::missing_cell(__sonic::row::Row::width(row), #table, #name),
                    )
                }
            }
        }
    };
    field_from_columns(columns, field, cell)
}
