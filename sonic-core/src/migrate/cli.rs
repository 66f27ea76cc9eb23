//! The command line an application's own binary hands its schema to, as SeaORM's migrator
//! does: Sonic cannot know the schema, which lives in the application's types.
//!
//! ```text
//! migrate [--dir DIR] generate NAME [--allow-drops] [--drop TABLE[.COLUMN]]...
//!                                                     write the next migration file
//! migrate [--dir DIR] apply DATABASE                  apply pending files to a SQLite file
//! migrate [--dir DIR] status DATABASE                 list files, applied or pending
//! migrate [--dir DIR] check DATABASE                  list how the database drifted from the schema
//! migrate [--dir DIR] adopt DATABASE                  the database's schema as the baseline snapshot
//! ```

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use super::{MigrateError, Migrations};
use crate::schema::Schema;
use crate::sqlite::SqliteBackend;

/// The usage text printed with a usage error.
pub const USAGE: &str =
    "usage: migrate [--dir DIR] generate NAME [--allow-drops] [--drop TABLE[.COLUMN]]...
       migrate [--dir DIR] apply DATABASE
       migrate [--dir DIR] status DATABASE
       migrate [--dir DIR] check DATABASE
       migrate [--dir DIR] adopt DATABASE";

/// Why a command did not run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CliError {
    /// The arguments do not form a command.
    #[error("{0}\n{USAGE}")]
    Usage(String),
    /// The command ran and failed.
    #[error(transparent)]
    Migrate(#[from] MigrateError),
    /// `check` found differences, one per line.
    #[error("the database differs from the schema:\n{0}")]
    Drift(String),
    /// The database file could not be opened.
    #[error("cannot open {path}: {source}")]
    Open {
        /// The database file.
        path: String,
        /// The error.
        source: Box<crate::Error>,
    },
}

/// Runs the command in `args` (without the program name) and returns what to print.
///
/// ```
/// # #[cfg(feature = "derive")] {
/// # #[derive(sonic_db_core::Table)]
/// # #[table(name = "notes")]
/// # struct Note { #[column(primary_key)] id: String }
/// # let root = std::env::temp_dir().join(format!("sonic-doc-cli-{}", std::process::id()));
/// # let _ = std::fs::remove_dir_all(&root);
/// use sonic_db_core::migrate::cli;
/// use sonic_db_core::Schema;
///
/// let schema = Schema::new().table::<Note>();
/// let (dir, database) = (root.join("migrations"), root.join("local.sqlite"));
/// let args = |line: &str| line.split(' ').map(String::from).collect::<Vec<_>>();
/// cli::run(&schema, &dir, args("generate init"))?;
/// let applied = cli::run(&schema, &dir, args(&format!("apply {}", database.display())))?;
/// assert!(applied.contains("0001_init.sql"));
/// let status = cli::run(&schema, &dir, args(&format!("status {}", database.display())))?;
/// assert!(status.starts_with("applied  0001_init.sql"));
/// let check = cli::run(&schema, &dir, args(&format!("check {}", database.display())))?;
/// assert!(check.ends_with("matches the schema"));
/// # std::fs::remove_dir_all(&root).ok();
/// # }
/// # Ok::<(), sonic_db_core::migrate::cli::CliError>(())
/// ```
pub fn run(
    schema: &Schema,
    default_dir: &Path,
    args: impl IntoIterator<Item = String>,
) -> Result<String, CliError> {
    let mut args = args.into_iter();
    let mut dir = default_dir.to_path_buf();
    let command = loop {
        match args.next().as_deref() {
            Some("--dir") => {
                let value = args
                    .next()
                    .ok_or_else(|| usage("--dir needs a directory"))?;
                dir = PathBuf::from(value);
            }
            Some(command) => break command.to_owned(),
            None => return Err(usage("no command")),
        }
    };
    let rest: Vec<String> = args.collect();
    let migrations = Migrations::new(&dir);
    match (command.as_str(), rest.as_slice()) {
        ("generate", [name, flags @ ..]) => {
            let mut migrations = migrations;
            let mut flags = flags.iter();
            while let Some(flag) = flags.next() {
                migrations = match flag.as_str() {
                    "--allow-drops" => migrations.allow_drops(true),
                    "--drop" => migrations.confirm_drop(
                        flags
                            .next()
                            .ok_or_else(|| usage("--drop needs TABLE or TABLE.COLUMN"))?,
                    ),
                    other => return Err(usage(&format!("unknown option {other}"))),
                };
            }
            generate(migrations, schema, name)
        }
        ("apply", [database]) => {
            let applied = migrations.apply(&open(database)?)?;
            Ok(if applied.is_empty() {
                format!("{database}: nothing to apply")
            } else {
                applied
                    .iter()
                    .map(|name| format!("applied {name}"))
                    .collect::<Vec<_>>()
                    .join("\n")
            })
        }
        ("check", [database]) => {
            let drift = super::check(&open(database)?, schema)?;
            if drift.is_empty() {
                Ok(format!("{database}: matches the schema"))
            } else {
                let lines: Vec<String> = drift.iter().map(|d| format!("drift  {d}")).collect();
                Err(CliError::Drift(lines.join("\n")))
            }
        }
        ("adopt", [database]) => {
            let path = migrations.adopt(&open(database)?)?;
            Ok(format!("wrote {} from {database}", path.display()))
        }
        ("status", [database]) => {
            let lines: Vec<String> = migrations
                .status(&open(database)?)?
                .into_iter()
                .map(|s| match s.applied_at {
                    Some(at) => format!("applied  {}  {at}", s.name),
                    None => format!("pending  {}", s.name),
                })
                .collect();
            Ok(if lines.is_empty() {
                format!("{}: no migration files", dir.display())
            } else {
                lines.join("\n")
            })
        }
        _ => Err(usage(&format!(
            "unknown command or arguments: {command} {}",
            rest.join(" ")
        ))),
    }
}

/// [`run`] on the process's arguments: prints the result (errors to stderr) and returns the
/// exit code (2 for a usage error). The whole `main` of an application's migrate binary:
///
/// ```no_run
/// # fn schema() -> sonic_db_core::Schema { sonic_db_core::Schema::new() }
/// fn main() -> std::process::ExitCode {
///     sonic_db_core::migrate::cli::main(&schema(), "migrations".as_ref())
/// }
/// ```
pub fn main(schema: &Schema, default_dir: &Path) -> ExitCode {
    match run(schema, default_dir, std::env::args().skip(1)) {
        Ok(text) => {
            println!("{text}");
            ExitCode::SUCCESS
        }
        Err(e @ CliError::Usage(_)) => {
            eprintln!("{e}");
            ExitCode::from(2)
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn generate(migrations: Migrations, schema: &Schema, name: &str) -> Result<String, CliError> {
    let dir = migrations.dir().display().to_string();
    Ok(match migrations.write_next(name, schema)? {
        Some(path) => format!("wrote {}", path.display()),
        None => format!("{dir}: up to date with the schema, nothing written"),
    })
}

fn open(database: &str) -> Result<SqliteBackend, CliError> {
    SqliteBackend::open(database).map_err(|source| CliError::Open {
        path: database.to_owned(),
        source: Box::new(source),
    })
}

fn usage(message: &str) -> CliError {
    CliError::Usage(message.to_owned())
}
