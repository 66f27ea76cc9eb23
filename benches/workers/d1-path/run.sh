#!/usr/bin/env bash
# Builds benches/workers/d1-path for wasm32 with the Workers' wasm-release profile and the
# local wasm-bindgen (scripts/worker-tools.sh installs it when missing), then times Sonic's
# D1 paths against the same by hand in Node (bench.mjs; arguments are passed on).
#
# Usage: benches/workers/d1-path/run.sh [--rounds 25] [--n 2000]
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../../.." && pwd)"
# shellcheck source=../../../scripts/worker-tools.sh
source "$ROOT/scripts/worker-tools.sh"

worker_tools_install >/dev/null
step "cargo build -p sonic-bench-d1-path (wasm32, wasm-release)"
# Symbols kept (the code is the same): wasm-bindgen reads the target-features section, and a
# profile (`node --cpu-prof`) names functions.
(cd "$ROOT" && CARGO_PROFILE_WASM_RELEASE_STRIP=none cargo build -q --lib \
  -p sonic-bench-d1-path --target wasm32-unknown-unknown --profile wasm-release)
wasm-bindgen --target nodejs --out-dir "$ROOT/target/d1-path" \
  "$ROOT/target/wasm32-unknown-unknown/wasm-release/sonic_bench_d1_path.wasm"
done_step
step "node benches/workers/d1-path/bench.mjs $*"
node "$HERE/bench.mjs" "$@"
