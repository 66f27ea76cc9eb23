//! Backend wrappers for tests: counting statements and round trips, injecting faults.
//!
//! Public so that applications can assert their own routing and failure handling too.

mod faults;
pub mod faulty_sql;
pub mod kv;
pub mod sql;
