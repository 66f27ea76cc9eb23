//! The scenarios, one async function each, and the registry that names them.

use std::future::Future;
use std::pin::Pin;

use crate::check::Outcome;
use crate::ctx::Ctx;

mod bulk;
mod composite;
mod crud;
mod eager;
mod eager_levels;
mod errors;
mod int64;
mod keys;
mod kv;
mod many_to_many;
mod queries;
mod raw;
mod related;
mod schema;
mod search;
mod shapes;
mod transactions;
mod values;

/// A scenario's future (not `Send`: on wasm32 the backends' futures are not).
pub(crate) type ScenarioFuture<'a> = Pin<Box<dyn Future<Output = Outcome> + 'a>>;

/// A named scenario.
pub(crate) struct Scenario {
    /// The name reports and `Options::only` use.
    pub(crate) name: &'static str,
    /// Runs it.
    pub(crate) run: for<'a> fn(&'a Ctx) -> ScenarioFuture<'a>,
}

macro_rules! registry {
    ($($name:ident => $function:path,)*) => {
        /// Every scenario, in the order they run.
        pub(crate) const SCENARIOS: &[Scenario] = &[$(
            Scenario {
                name: stringify!($name),
                run: |ctx| Box::pin($function(ctx)),
            },
        )*];
    };
}

registry! {
    crud => crud::crud,
    filter_operators => queries::filter_operators,
    filter_by_name => queries::filter_by_name,
    order_limit_offset => queries::order_limit_offset,
    count_and_page => queries::count_and_page,
    text_search => search::text_search,
    exists_one_statement => search::exists_one_statement,
    keyset_pages => search::keyset_pages,
    raw_rows => raw::raw_rows,
    renamed_columns => raw::renamed_columns,
    relation_filters => related::relation_filters,
    aggregates => shapes::aggregates,
    joins => shapes::joins,
    eager_many => eager::eager_many,
    eager_one => eager::eager_one,
    eager_nested => eager::eager_nested,
    eager_values => eager::eager_values,
    relation_state => eager::relation_state,
    eager_level_options => eager_levels::eager_level_options,
    many_to_many => many_to_many::many_to_many,
    insert_many_1000 => bulk::insert_many_1000,
    insert_many_atomic => bulk::insert_many_atomic,
    values_round_trip => values::values_round_trip,
    integers => values::integers,
    integers_beyond_2_53 => values::integers_beyond_2_53,
    integers_64bit => int64::integers_64bit,
    bools => values::bools,
    text_unicode => values::text_unicode,
    text_nul => values::text_nul,
    empty_and_null => values::empty_and_null,
    blobs => values::blobs,
    floats => values::floats,
    json_columns => values::json_columns,
    unique_violation => errors::unique_violation,
    foreign_key_violation => errors::foreign_key_violation,
    not_found => errors::not_found,
    transactions => transactions::transactions,
    generated_keys => keys::generated_keys,
    table_constraints => keys::table_constraints,
    composite_keys => composite::composite_keys,
    insert_defaults => keys::insert_defaults,
    schema_inspection => schema::schema_inspection,
    kv_miss_then_hit => kv::kv_miss_then_hit,
    kv_insert_then_fill => kv::kv_insert_then_fill,
    kv_update => kv::kv_update,
    kv_delete => kv::kv_delete,
    kv_update_where => kv::kv_update_where,
    kv_delete_where => kv::kv_delete_where,
    kv_find_fresh => kv::kv_find_fresh,
    kv_awkward_keys => kv::kv_awkward_keys,
    kv_cascade_delete => kv::kv_cascade_delete,
    kv_integers_64bit => int64::kv_integers_64bit,
    kv_generated_key => keys::kv_generated_key,
    kv_composite_keys => composite::kv_composite_keys,
}

/// Whether a scenario needs the KV cache.
pub(crate) fn needs_kv(name: &str) -> bool {
    name.starts_with("kv_")
}
