//! `#[derive(TextEnum)]`: a fieldless enum stored as one of its texts in a `TEXT` column.

use proc_macro2::TokenStream;
use quote::quote;
use syn::ext::IdentExt;

use crate::internals::ast::TextEnum;

pub fn expand(input: &TextEnum, krate: &TokenStream) -> TokenStream {
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
            use #krate as __sonic;
            #[automatically_derived]
            impl __sonic::ToValue for #ident {
                fn to_value(
                    &self,
                ) -> ::core::result::Result<__sonic::Value, __sonic::ConvertError> {
                    let text: &'static str = match self {
                        #(#ident::#idents => #texts,)*
                    };
                    ::core::result::Result::Ok(__sonic::Value::Text(
                        ::std::string::String::from(text),
                    ))
                }
            }

            #[automatically_derived]
            impl __sonic::FromValue for #ident {
                fn from_value(
                    value: __sonic::Value,
                ) -> ::core::result::Result<Self, __sonic::ConvertError> {
                    if let __sonic::Value::Text(text) = &value {
                        match text.as_str() {
                            #(#texts => return ::core::result::Result::Ok(#ident::#idents),)*
                            _ => {}
                        }
                    }
                    ::core::result::Result::Err(__sonic::ConvertError::new(
                        #expected,
                        value.describe(),
                    ))
                }
            }

            #[automatically_derived]
            impl __sonic::ColumnType for #ident {
                const SQL_TYPE: __sonic::SqlType = __sonic::SqlType::Text;
                type Operand = Self;
            }
        };
    }
}
