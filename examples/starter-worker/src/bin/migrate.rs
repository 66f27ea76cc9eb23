//! src/bin/migrate.rs: `cargo run --bin migrate -- <name>` writes `migrations/NNNN_<name>.sql`
use sonic_db::migrate::Migrations;
use sonic_example_starter_worker::schema::schema; // your crate's name here

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let name = std::env::args().nth(1).unwrap_or_else(|| "init".into());
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
    match Migrations::new(dir).write_next(&name, &schema())? {
        Some(file) => println!("wrote {}", file.display()), // + migrations/meta/sonic-snapshot.json
        None => println!("the schema has not changed"),
    }
    Ok(())
}
