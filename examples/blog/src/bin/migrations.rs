//! The seed schema's migrations: generate the next file, apply the files to a local SQLite
//! database, list what is applied — Sonic's migrate command line, handed this schema.
//!
//! ```sh
//! cargo run -p sonic-example-blog --bin migrations -- generate NAME
//! cargo run -p sonic-example-blog --bin migrations -- apply local.sqlite
//! cargo run -p sonic-example-blog --bin migrations -- status local.sqlite
//! ```
//!
//! `--dir DIR` (before the command) names the migrations directory; the default is the example
//! Worker's `migrations/`. On D1, apply the files with `wrangler d1 migrations apply DB`: both
//! record them in the same `d1_migrations` table.

use std::path::Path;
use std::process::ExitCode;

use sonic_db_core::migrate::cli;
use sonic_example_blog::migrations::{schema, WORKER_MIGRATIONS};

fn main() -> ExitCode {
    // The workspace root is two levels above this package.
    let package = Path::new(env!("CARGO_MANIFEST_DIR"));
    let root = package.ancestors().nth(2).unwrap_or(package);
    cli::main(&schema(), &root.join(WORKER_MIGRATIONS))
}
