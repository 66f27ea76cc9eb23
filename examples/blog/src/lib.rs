//! The seed's blog (users, posts, comments) on Sonic.
//!
//! The library holds the schema so that both the native binary and a Worker can use it.

pub mod migrations;
pub mod schema;
