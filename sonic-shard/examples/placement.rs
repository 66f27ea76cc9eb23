//! The placement simulation of docs/scaling.md: how evenly 1,000,000 keys spread over n
//! shards, and what share moves when one shard is added. Bounded (a few seconds).
//!
//! ```sh
//! cargo run --release -p sonic-db-shard --example placement
//! ```

use std::collections::HashMap;

use sonic_db_core::sqlite::SqliteBackend;
use sonic_db_core::Db;
use sonic_db_shard::Shards;

fn shards(n: usize) -> Result<Shards, sonic_db_core::Error> {
    (1..=n).try_fold(Shards::new(), |shards, i| {
        shards.add(&format!("shard-{i}"), Db::new(SqliteBackend::memory()?))
    })
}

fn main() -> Result<(), sonic_db_core::Error> {
    let keys: Vec<String> = (0..1_000_000).map(|i| format!("tenant-{i}")).collect();
    println!("| shards | fullest ÷ mean | emptiest ÷ mean | moved when one is added |");
    println!("|---|---|---|---|");
    for n in [2, 4, 8, 16, 64] {
        let (now, next) = (shards(n)?, shards(n + 1)?);
        let mut load: HashMap<&str, usize> = HashMap::new();
        let mut moved = 0usize;
        for key in &keys {
            let home = now.name_for(key)?;
            *load.entry(home).or_default() += 1;
            if next.name_for(key)? != home {
                moved += 1;
            }
        }
        let mean = keys.len() as f64 / n as f64;
        let max = load.values().copied().max().unwrap_or(0) as f64 / mean;
        let min = load.values().copied().min().unwrap_or(0) as f64 / mean;
        let share = moved as f64 / keys.len() as f64;
        println!(
            "| {n} | {max:.3} | {min:.3} | {:.2} % (ideal {:.2} %) |",
            share * 100.0,
            100.0 / (n + 1) as f64
        );
    }
    Ok(())
}
