//! The `Table` impl: the static `TableDef`, row encoding and decoding, `touch`.

use proc_macro2::{Ident, TokenStream};
use quote::{quote, quote_spanned};
use syn::ext::IdentExt;
use syn::spanned::Spanned;

use crate::internals::ast::{self, ColumnModel, Container, Source};
use crate::internals::attr::{RelationKind, Role};
use crate::internals::case;

use super::internal;

/// The default of the audit columns: the time of the insert, in Unix milliseconds, so that
/// rows inserted by raw SQL are filled too. (Sonic itself always binds the values.)
const AUDIT_DEFAULT: &str = "(CAST(unixepoch('subsec') * 1000 AS INTEGER))";

/// The `Table` impl, in one anonymous `const` block with `handles` and the name `__sonic` for
/// `krate` (Sonic's path in the using crate).
pub fn expand(
    cont: &Container,
    krate: &TokenStream,
    handles: &TokenStream,
) -> syn::Result<TokenStream> {
    let ident = cont.ident;
    let table = cont.table_name.as_str();
    let rust_name = ident.unraw().to_string();
    let columns = cont.columns();
    let count = columns.len();
    let pk = cont
        .primary_key(&columns)
        .ok_or_else(|| internal(ident, "no primary key column"))?;
    let pk_index = pk.index;
    let pk_ty = pk.field.ty;
    let table_renamed_from = str_option(cont.renamed_from.as_ref().map(|l| l.value()));

    let column_defs = columns
        .iter()
        .map(column_def)
        .collect::<syn::Result<Vec<_>>>()?;
    let relation_defs = cont
        .relations()
        .map(|(field, rel)| relation_def(&columns, field, rel))
        .collect::<syn::Result<Vec<_>>>()?;
    let kind_asserts = cont.relations().map(|(field, rel)| kind_assert(field, rel));

    let values: Vec<TokenStream> = columns.iter().map(|c| encode(table, c)).collect();
    let indexes = columns.iter().map(|c| c.index);
    let names = columns.iter().map(|c| c.name.as_str());

    // The primary key's field is decoded last, so that its raw value is still in the row to
    // name in the error of any other field.
    let mut decoded = cont
        .fields
        .iter()
        .map(|f| decode_field(table, &columns, f, pk_index))
        .collect::<syn::Result<Vec<_>>>()?;
    decoded.sort_by_key(|(field, _)| std::ptr::eq(*field, pk.field));
    let decode_lets = decoded.iter().enumerate().map(|(i, (_, value))| {
        let local = quote::format_ident!("__sonic_field_{}", i);
        quote!(let #local = #value;)
    });
    let field_inits = decoded.iter().enumerate().map(|(i, (field, _))| {
        let member = field.ident;
        let local = quote::format_ident!("__sonic_field_{}", i);
        quote!(#member: #local)
    });
    let checks: Vec<TokenStream> = columns.iter().map(|c| check(table, c, false)).collect();
    let json_checks: Vec<TokenStream> = columns.iter().map(|c| check(table, c, true)).collect();
    let check_indexes: Vec<usize> = columns.iter().map(|c| c.index).collect();
    let touch = touch(cont);
    let decode_row = super::decode_row::expand(cont, &columns, pk_index)?;
    let bounds = super::bounds(cont);

    Ok(quote! {
        #[doc(hidden)]
        #[allow(non_upper_case_globals, unused_qualifications, dead_code, clippy::all)]
        const _: () = {
            use #krate as __sonic;

            #handles

            #[inline]
            fn __sonic_encode<T: __sonic::ColumnType>(
                value: &T,
            ) -> ::core::result::Result<__sonic::Value, __sonic::ConvertError> {
                __sonic::ToValue::to_value(value)
            }

            #[inline]
            fn __sonic_decode<T: __sonic::ColumnType>(
                value: __sonic::Value,
            ) -> ::core::result::Result<T, __sonic::ConvertError> {
                __sonic::FromValue::from_value(value)
            }

            /// The value as a field of type `T` would store it, if such a field can hold it.
            #[inline]
            fn __sonic_check<T: __sonic::ColumnType>(
                value: __sonic::Value,
            ) -> ::core::result::Result<__sonic::Value, __sonic::ConvertError> {
                let typed: T = __sonic::FromValue::from_value(value)?;
                __sonic::ToValue::to_value(&typed)
            }

            #[inline]
            fn __sonic_check_json<T: __sonic::ColumnType>(
                json: &__sonic::__private::serde_json::Value,
            ) -> ::core::result::Result<__sonic::Value, __sonic::ConvertError> {
                __sonic_check::<T>(<T as __sonic::ColumnType>::value_from_json(json)?)
            }

            fn __sonic_foreign_key<T: __sonic::Table, V>(
                column: __sonic::Column<T, V>,
            ) -> (&'static __sonic::TableDef, &'static __sonic::ColumnDef) {
                (T::DEF, column.def())
            }

            #(#kind_asserts)*

            #[automatically_derived]
            impl __sonic::Table for #ident #bounds {
                const DEF: &'static __sonic::TableDef = &__sonic::TableDef {
                    name: #table,
                    rust_name: #rust_name,
                    columns: &[#(#column_defs),*],
                    primary_key: #pk_index,
                    relations: &[#(#relation_defs),*],
                };

                type PrimaryKey = #pk_ty;

                const RENAMED_FROM: ::core::option::Option<&'static str> = #table_renamed_from;

                fn encode_into(
                    &self,
                    out: &mut ::std::vec::Vec<__sonic::Value>,
                ) -> ::core::result::Result<(), __sonic::Error> {
                    out.reserve(#count);
                    #(out.push(#values?);)*
                    ::core::result::Result::Ok(())
                }

                fn column_value(
                    &self,
                    index: usize,
                ) -> ::core::result::Result<__sonic::Value, __sonic::Error> {
                    match index {
                        #(#indexes => #values,)*
                        _ => ::core::result::Result::Err(__sonic::Error::UnknownColumn {
                            table: ::std::string::String::from(#table),
                            column: ::std::format!("#{} (the table has {} columns)", index, #count),
                        }),
                    }
                }

                fn decode(
                    row: &mut [__sonic::Value],
                ) -> ::core::result::Result<Self, __sonic::Error> {
                    const COLUMNS: [&str; #count] = [#(#names),*];
                    if row.len() < #count {
                        return ::core::result::Result::Err(__sonic::Error::decode(
                            #table,
                            COLUMNS[row.len()],
                            __sonic::ConvertError::new(
                                ::std::format!("a row of {} values", #count),
                                ::std::format!("a row of {} values", row.len()),
                            ),
                        ));
                    }
                    #(#decode_lets)*
                    ::core::result::Result::Ok(#ident {
                        #(#field_inits,)*
                    })
                }

                fn column_from_value(
                    index: usize,
                    value: __sonic::Value,
                ) -> ::core::result::Result<__sonic::Value, __sonic::Error> {
                    match index {
                        #(#check_indexes => #checks,)*
                        _ => ::core::result::Result::Err(__sonic::Error::UnknownColumn {
                            table: ::std::string::String::from(#table),
                            column: ::std::format!("#{} (the table has {} columns)", index, #count),
                        }),
                    }
                }

                fn column_from_json(
                    index: usize,
                    json: &__sonic::__private::serde_json::Value,
                ) -> ::core::result::Result<__sonic::Value, __sonic::Error> {
                    match index {
                        #(#check_indexes => #json_checks,)*
                        _ => ::core::result::Result::Err(__sonic::Error::UnknownColumn {
                            table: ::std::string::String::from(#table),
                            column: ::std::format!("#{} (the table has {} columns)", index, #count),
                        }),
                    }
                }

                #touch

                #decode_row
            }
        };
    })
}

fn str_option(value: Option<String>) -> TokenStream {
    match value {
        Some(s) => quote!(::core::option::Option::Some(#s)),
        None => quote!(::core::option::Option::None),
    }
}

fn column_def(c: &ColumnModel) -> syn::Result<TokenStream> {
    let name = &c.name;
    let field = &c.field_name;
    Ok(match c.source {
        Source::Field => {
            let a = c
                .attrs()
                .ok_or_else(|| internal(c.field.ident, "a column without column attributes"))?;
            let ty = c.field.ty;
            let sql_type = quote_spanned!(ty.span()=> <#ty as __sonic::ColumnType>::SQL_TYPE);
            let nullable = quote_spanned!(ty.span()=> <#ty as __sonic::ColumnType>::NULLABLE);
            let primary_key = a.primary_key.is_some();
            let unique = a.unique;
            let indexed = a.index;
            let secret = a.secret;
            let default = str_option(a.default.as_ref().map(|l| l.value()));
            let renamed_from = str_option(a.renamed_from.as_ref().map(|l| l.value()));
            let references = match &a.references {
                None => quote!(::core::option::Option::None),
                Some(r) => {
                    let path = &r.path;
                    let on_delete = str_option(a.on_delete.as_ref().map(|(s, _)| s.to_string()));
                    // The annotated binding makes a misspelt handle, or one whose values are of
                    // another type than this column's, a compile error at `references = ..`.
                    let target_fn = quote_spanned! {path.span()=>
                        || {
                            let column: __sonic::Column<
                                _,
                                <#ty as __sonic::ColumnType>::Operand,
                            > = #path;
                            __sonic_foreign_key(column)
                        }
                    };
                    quote! {
                        ::core::option::Option::Some(__sonic::ForeignKey {
                            target: #target_fn,
                            on_delete: #on_delete,
                        })
                    }
                }
            };
            quote! {
                __sonic::ColumnDef {
                    name: #name,
                    field: #field,
                    sql_type: #sql_type,
                    nullable: #nullable,
                    primary_key: #primary_key,
                    unique: #unique,
                    indexed: #indexed,
                    default: #default,
                    references: #references,
                    audit: ::core::option::Option::None,
                    secret: #secret,
                    renamed_from: #renamed_from,
                }
            }
        }
        Source::AuditCreated | Source::AuditUpdated => {
            let role = if c.source == Source::AuditCreated {
                quote!(Created)
            } else {
                quote!(Updated)
            };
            let column = audit_column(c);
            quote! {
                __sonic::ColumnDef {
                    name: #name,
                    field: #field,
                    sql_type: __sonic::SqlType::Integer,
                    nullable: <#column as __sonic::ColumnType>::NULLABLE,
                    primary_key: false,
                    unique: false,
                    indexed: false,
                    // Nullable audit columns are SonicJs's: plain `integer`s without a default.
                    default: if <#column as __sonic::ColumnType>::NULLABLE {
                        ::core::option::Option::None
                    } else {
                        ::core::option::Option::Some(#AUDIT_DEFAULT)
                    },
                    references: ::core::option::Option::None,
                    audit: ::core::option::Option::Some(__sonic::AuditRole::#role),
                    secret: false,
                    renamed_from: ::core::option::Option::None,
                }
            }
        }
    })
}

/// The Rust type of one column of an `#[audit]` field (`i64`, `Option<i64>`).
pub(super) fn audit_column(c: &ColumnModel) -> TokenStream {
    let ty = c.field.ty;
    quote_spanned!(ty.span()=> <#ty as __sonic::AuditFields>::Column)
}

/// The Rust type of a column's operand, for relation type checks.
fn operand(c: &ColumnModel) -> TokenStream {
    let ty = match c.source {
        Source::Field => {
            let ty = c.field.ty;
            quote!(#ty)
        }
        _ => audit_column(c),
    };
    quote!(<#ty as __sonic::ColumnType>::Operand)
}

fn relation_def(
    columns: &[ColumnModel],
    field: &ast::Field,
    rel: &crate::internals::attr::Relation,
) -> syn::Result<TokenStream> {
    let name = &field.name;
    let ty = field.ty;
    let target = quote_spanned!(ty.span()=> <#ty as __sonic::RelationSlot>::Target);
    let (kind, many) = match rel.kind {
        Some((RelationKind::Many, _)) => (quote!(Many), true),
        _ => (quote!(One), false),
    };
    let local = match &rel.local {
        Some(l) => ast::find_local(columns, l)
            .ok_or_else(|| internal(l, "the `local` column of a relation does not exist"))?,
        None if many => columns
            .iter()
            .find(|c| c.attrs().is_some_and(|a| a.primary_key.is_some()))
            .ok_or_else(|| internal(field.ident, "no primary key column"))?,
        None => {
            return Err(internal(
                field.ident,
                "a `one` relation without its `local` column",
            ))
        }
    };
    let local_index = local.index;
    let remote = match &rel.remote {
        Some(remote) => {
            let handle = Ident::new(
                &case::upper_snake(&remote.unraw().to_string()),
                remote.span(),
            );
            let operand = operand(local);
            // The annotated binding checks that both ends hold the same type of value.
            quote_spanned! {remote.span()=>
                || {
                    let column: __sonic::Column<#target, #operand> = <#target>::#handle;
                    column.index()
                }
            }
        }
        None => quote!(|| <#target as __sonic::Table>::DEF.primary_key),
    };
    Ok(quote! {
        __sonic::RelationDef {
            name: #name,
            kind: __sonic::RelationKind::#kind,
            target: || <#target as __sonic::Table>::DEF,
            local: #local_index,
            remote: #remote,
        }
    })
}

/// A compile-time check that the field's type matches the relation's kind, reported at the
/// `one` / `many` keyword.
fn kind_assert(field: &ast::Field, rel: &crate::internals::attr::Relation) -> TokenStream {
    let ty = field.ty;
    let Some((kind, kw)) = &rel.kind else {
        return TokenStream::new();
    };
    let (cond, msg) = match kind {
        RelationKind::Many => (
            quote_spanned!(kw.span()=> <#ty as __sonic::RelationSlot>::MANY),
            "`#[relation(many)]` needs a field of type `Option<Vec<T>>`",
        ),
        RelationKind::One => (
            quote_spanned!(kw.span()=> !<#ty as __sonic::RelationSlot>::MANY),
            "`#[relation(one)]` needs a field of type `One<T>`",
        ),
    };
    quote_spanned! {kw.span()=>
        const _: () = ::core::assert!(#cond, #msg);
    }
}

/// The value of one column as `Result<Value, Error>`.
fn encode(table: &str, c: &ColumnModel) -> TokenStream {
    let member = c.field.ident;
    let name = &c.name;
    match c.source {
        Source::Field => {
            let ty = c.field.ty;
            let call = quote_spanned!(ty.span()=> __sonic_encode::<#ty>(&self.#member));
            quote! {
                #call.map_err(|e| __sonic::Error::encode(#table, #name, e))
            }
        }
        Source::AuditCreated | Source::AuditUpdated => {
            let column = audit_column(c);
            let getter = if c.source == Source::AuditCreated {
                quote!(created_on)
            } else {
                quote!(updated_on)
            };
            quote! {
                __sonic_encode::<#column>(__sonic::AuditFields::#getter(&self.#member))
                    .map_err(|e| __sonic::Error::encode(#table, #name, e))
            }
        }
    }
}

/// A column's arm of `column_from_value` (`value`) or `column_from_json` (`json`): the value
/// as the field's type stores it, or `Error::Encode`.
fn check(table: &str, c: &ColumnModel, json: bool) -> TokenStream {
    let name = &c.name;
    let ty = match c.source {
        Source::Field => {
            let ty = c.field.ty;
            quote_spanned!(ty.span()=> #ty)
        }
        Source::AuditCreated | Source::AuditUpdated => audit_column(c),
    };
    let call = if json {
        quote!(__sonic_check_json::<#ty>(json))
    } else {
        quote!(__sonic_check::<#ty>(value))
    };
    quote! {
        #call.map_err(|e| __sonic::Error::encode(#table, #name, e))
    }
}

/// The field and the expression of its decoded value in `decode`. A column's error names
/// the row's primary key (column `pk`), unless it is that column.
fn decode_field<'a>(
    table: &str,
    columns: &[ColumnModel],
    field: &'a ast::Field<'a>,
    pk: usize,
) -> syn::Result<(&'a ast::Field<'a>, TokenStream)> {
    let member = field.ident;
    let ty = field.ty;
    let take = |c: &ColumnModel, ty: TokenStream| {
        let index = c.index;
        let name = &c.name;
        let key = if index == pk {
            quote!(::core::option::Option::None)
        } else {
            quote!(row.get(#pk))
        };
        quote! {
            __sonic_decode::<#ty>(::core::mem::take(&mut row[#index]))
                .map_err(|e| __sonic::Error::decode_row(#table, #name, #key, e))?
        }
    };
    let mut of_field = columns.iter().filter(|c| std::ptr::eq(c.field, field));
    let mut next_column = || {
        of_field
            .next()
            .ok_or_else(|| internal(member, "a field without its column"))
    };
    Ok((
        field,
        match &field.role {
            Role::Column(_) => take(next_column()?, quote_spanned!(ty.span()=> #ty)),
            Role::Audit => {
                let column = quote_spanned!(ty.span()=> <#ty as __sonic::AuditFields>::Column);
                let created = take(next_column()?, column.clone());
                let updated = take(next_column()?, column);
                quote_spanned! {ty.span()=>
                    <#ty as __sonic::AuditFields>::from_columns(#created, #updated)
                }
            }
            Role::Relation(_) => quote!(::core::default::Default::default()),
        },
    ))
}

fn touch(cont: &Container) -> TokenStream {
    let audit = cont.fields.iter().find(|f| matches!(f.role, Role::Audit));
    match audit {
        Some(f) => {
            let member = f.ident;
            quote! {
                fn touch(&mut self, now_ms: i64, inserting: bool) {
                    __sonic::AuditFields::stamp(&mut self.#member, now_ms, inserting)
                }
            }
        }
        None => quote! {
            fn touch(&mut self, now_ms: i64, inserting: bool) {
                let _ = (now_ms, inserting);
            }
        },
    }
}
