//! Writes the next D1 migration of the seed schema.
//!
//! ```sh
//! cargo run -p sonic-example-blog --bin migrations -- [DIR] [NAME]
//! ```
//!
//! `DIR` defaults to the example Worker's `migrations/` directory. `NAME` names the file
//! (`NNNN_<name>.sql`); it may be left out for the first migration (`init`). Nothing is written
//! when the schema has not changed since `DIR/meta/sonic-snapshot.json`. Apply the result with
//! `wrangler d1 migrations apply DB`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use sonic_db_core::migrate::{MigrateError, Migrations};
use sonic_example_blog::migrations::{schema, WORKER_MIGRATIONS};

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let dir = args.next().map(PathBuf::from).unwrap_or_else(|| {
        // The workspace root is two levels above this package.
        let package = Path::new(env!("CARGO_MANIFEST_DIR"));
        package
            .ancestors()
            .nth(2)
            .unwrap_or(package)
            .join(WORKER_MIGRATIONS)
    });
    match run(Migrations::new(&dir), args.next()) {
        Ok(Some(message)) => {
            println!("{message}");
            ExitCode::SUCCESS
        }
        Ok(None) => {
            eprintln!("usage: migrations [DIR] [NAME]: the schema changed, name the migration");
            ExitCode::from(2)
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// What was done, or `None` when a name is needed and missing.
fn run(migrations: Migrations, name: Option<String>) -> Result<Option<String>, MigrateError> {
    let schema = schema();
    let dir = migrations.dir().display().to_string();
    if migrations.plan(&schema)?.is_none() {
        return Ok(Some(format!("{dir}: up to date with the schema")));
    }
    let name = match name {
        Some(name) => name,
        None if migrations.next_number()? == 1 => "init".to_string(),
        None => return Ok(None),
    };
    Ok(migrations
        .write_next(&name, &schema)?
        .map(|path| format!("wrote {}", path.display())))
}
