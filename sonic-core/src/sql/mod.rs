//! The SQL compiler: turns queries into [`Statement`](crate::backend::Statement)s. Identifiers
//! are quoted names from the schema, values are bound parameters, and every statement is
//! checked against the backend's [`Capabilities`](crate::backend::Capabilities) before it is
//! sent.

pub(crate) mod cascade;
pub(crate) mod eager;
pub(crate) mod exact_integers;
pub(crate) mod filter;
pub(crate) mod join;
pub(crate) mod limits;
pub(crate) mod order;
pub(crate) mod project;
pub(crate) mod select;
pub(crate) mod shape;
pub(crate) mod write;
pub(crate) mod writer;

pub use limits::{check_batch, check_statement};
