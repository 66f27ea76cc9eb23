#!/usr/bin/env bash
# Property-based fuzzing of every decoder of untrusted input (crate fuzz/, sonic-db-fuzz):
# envelope (KV cache entries), d1_rows (D1 results into values and records), sqlite_rows
# (SQLite rows into records), api (sonic-db-api's REST entry point: paths, query strings,
# JSON bodies), snapshot (migration snapshot files). Not part of the test command, which runs
# a few hundred inputs of each (cargo test -p sonic-db-fuzz).
#
# Usage: scripts/fuzz.sh [TARGET|all]
# Env:   SONIC_FUZZ_CASES   inputs per target (default 1000000)
#        SONIC_FUZZ_SECONDS time budget per target (default 3600); a target stops early at it
#                           and reports how many inputs it tried
set -euo pipefail
cd "$(dirname "$0")/.."
target="${1:-all}"
cases="${SONIC_FUZZ_CASES:-1000000}"
seconds="${SONIC_FUZZ_SECONDS:-3600}"
cargo build -q --release -p sonic-db-fuzz --bin fuzz
exec target/release/fuzz "$target" "$cases" "$seconds"
