//! `#[derive(TextEnum)]`: a fieldless enum stored as one of its texts in a `TEXT` column.

use proc_macro2::TokenStream;
use quote::quote;
use syn::ext::IdentExt;

use crate::internals::ast::TextEnum;

pub fn expand(input: &TextEnum) -> TokenStream {
    let ident = input.ident;
    let idents: Vec<_> = input.variants.iter().map(|v| v.ident).collect();
    let texts: Vec<&str> = input.variants.iter().map(|v| v.text.as_str()).collect();
    let expected = format!(
        "one of {} ({})",
        texts
            .iter()
            .map(|t| format!("{t:?}"))
            .collect::<Vec<_>>()
            .join(", "),
        ident.unraw()
    );
    quote! {
        #[doc(hidden)]
        #[allow(unused_qualifications, clippy::all)]
        const _: () = {
            #[automatically_derived]
            impl ::sonic_db_core::ToValue for #ident {
                fn to_value(
                    &self,
                ) -> ::core::result::Result<::sonic_db_core::Value, ::sonic_db_core::ConvertError> {
                    let text: &'static str = match self {
                        #(#ident::#idents => #texts,)*
                    };
                    ::core::result::Result::Ok(::sonic_db_core::Value::Text(
                        ::std::string::String::from(text),
                    ))
                }
            }

            #[automatically_derived]
            impl ::sonic_db_core::FromValue for #ident {
                fn from_value(
                    value: ::sonic_db_core::Value,
                ) -> ::core::result::Result<Self, ::sonic_db_core::ConvertError> {
                    if let ::sonic_db_core::Value::Text(text) = &value {
                        match text.as_str() {
                            #(#texts => return ::core::result::Result::Ok(#ident::#idents),)*
                            _ => {}
                        }
                    }
                    ::core::result::Result::Err(::sonic_db_core::ConvertError::new(
                        #expected,
                        value.describe(),
                    ))
                }
            }

            #[automatically_derived]
            impl ::sonic_db_core::ColumnType for #ident {
                const SQL_TYPE: ::sonic_db_core::SqlType = ::sonic_db_core::SqlType::Text;
                type Operand = Self;
            }
        };
    }
}
