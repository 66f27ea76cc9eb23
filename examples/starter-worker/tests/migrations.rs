//! The committed `migrations/` are up to date with the schema: `cargo run --bin migrate` would
//! write nothing. When this fails after a schema change, run `cargo run -p
//! sonic-example-starter-worker --bin migrate -- <name>` and commit the new `.sql` file with
//! the updated `migrations/meta/sonic-snapshot.json`.

use sonic_db::migrate::Migrations;
use sonic_example_starter_worker::schema::schema;

#[test]
fn the_committed_migrations_are_up_to_date() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
    let next = Migrations::new(&dir)
        .plan(&schema())
        .expect("read the snapshot");
    assert_eq!(
        next,
        None,
        "the schema changed since {}/meta",
        dir.display()
    );
}
