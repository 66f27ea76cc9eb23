#!/usr/bin/env bash
# The Workers benchmark: builds the three Workers of benches/workers (Sonic and hand-written Rust
# with worker-build --profile wasm-release and the local wasm-bindgen / wasm-opt / esbuild of
# scripts/worker-tools.sh, nothing from GitHub; Drizzle bundled with the same esbuild, its
# drizzle-orm from the npm registry through its own package-lock.json), then runs bench.mjs:
# the three under workerd on 127.0.0.1, answers compared, CPU / latency / D1 round trips / KV
# operations per request per route, the ratio table (BENCHMARKS.md, "Workers CPU").
#
# Usage: benches/workers/run.sh [--n 300] [--reps 3] [--warmup 1] [--profile] [--json FILE]
#        benches/workers/run.sh --check-only       build, then only compare the answers
#        BENCH_SKIP_BUILD=1 benches/workers/run.sh  reuse the builds in benches/workers/*/build
#        BENCH_KEEP_NAMES=1 benches/workers/run.sh --profile --top 12   the busiest functions
#        benches/workers/run.sh --replay 1000 --reps 7 --interval 50   isolate CPU per route
#          without I/O: one request recorded, replayed 1000 times in the isolate under V8's
#          profiler, then 1000 times more unprofiled, timed by the process's CPU (bench.mjs)
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
# shellcheck source=../../scripts/worker-tools.sh
source "$ROOT/scripts/worker-tools.sh"

if [[ "${BENCH_SKIP_BUILD:-}" != 1 ]]; then
  worker_tools_install
  if [[ "${BENCH_KEEP_NAMES:-}" == 1 ]]; then
    # Function names in the wasm for `bench.mjs --profile --top N`: no `strip`, and wasm-opt
    # keeps the `name` section (-g). The code is the same; only the Workers' sizes differ.
    export CARGO_PROFILE_WASM_RELEASE_STRIP=none WASM_OPT_KEEP_NAMES=1
  fi
  for w in sonic hand; do
    step "worker-build --profile wasm-release (benches/workers/$w)"
    worker_build "$HERE/$w" --profile wasm-release >"$ROOT/target/bench-worker-$w.log" 2>&1 \
      || { tail -30 "$ROOT/target/bench-worker-$w.log" >&2; die "building benches/workers/$w failed"; }
    done_step
  done
  step "esbuild (benches/workers/drizzle)"
  if [[ ! -d "$HERE/drizzle/node_modules/drizzle-orm" ]]; then
    (cd "$HERE/drizzle" && npm ci --no-audit --no-fund --ignore-scripts)
  fi
  "$E2E_DIR/node_modules/.bin/esbuild" "$HERE/drizzle/src/index.mjs" --bundle --format=esm \
    --platform=neutral --main-fields=module,main --minify --outfile="$HERE/drizzle/build/index.js" \
    --log-level=warning
  done_step
fi

step "node benches/workers/bench.mjs $*"
node "$HERE/bench.mjs" "$@"
