#!/usr/bin/env bash
# End-to-end pipeline for the example Worker (examples/worker), from a clean machine:
#   1. rustup target add wasm32-unknown-unknown
#   2. cargo install wasm-bindgen-cli (exact version from Cargo.lock) and worker-build 0.8.7,
#      only when missing or at another version
#   3. npm ci in e2e/ (wrangler 4.86.0 + binaryen 132.0.0), skipped when the lock is unchanged
#   4. worker-build --profile wasm-release (the workspace's size-optimised release profile; with
#      the test routes, which the tests need), with local wasm-bindgen / wasm-opt / esbuild
#      (nothing downloaded)
#   5. node e2e/run.mjs: wrangler d1 migrations apply into a fresh state dir, node:test suite
#      against the Worker on 127.0.0.1, every process stopped and the state deleted afterwards
# Steps 1-3 and the local tools of step 4 are scripts/worker-tools.sh, shared with
# scripts/starter-worker.sh. Exits non-zero on any failure. Idempotent; the second run skips
# the installs.
#
# Usage: scripts/e2e.sh [test-file-filter ...]
# Env:   E2E_SKIP_BUILD=1  reuse examples/worker/build as is
#        SONIC_E2E_DEBUG=1 Miniflare debug logs
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
WORKER_DIR="$ROOT/examples/worker"

step_start=0
step() { step_start=$(date +%s.%N); printf '\n==> %s\n' "$*"; }
done_step() { awk -v a="$step_start" -v b="$(date +%s.%N)" 'BEGIN { printf "    (%.1f s)\n", b - a }'; }
die() { printf 'e2e: %s\n' "$*" >&2; exit 1; }

# E2E_DIR, CARGO_BIN, PATH, the offline wrangler variables; worker_tools_install, worker_build.
# shellcheck source=scripts/worker-tools.sh
source "$ROOT/scripts/worker-tools.sh"

# The test runner gets its own process group, so an interrupted or killed script can take
# down everything it started (workerd included).
worker_tools_stop_runner_on_exit

# 1-3. wasm target, cargo tools, npm ------------------------------------------------------
worker_tools_install

# 4. build ---------------------------------------------------------------------------------
# With the local wasm-bindgen / wasm-opt / esbuild (fails if worker-build would download one);
# the test routes are opt-in (feature `test-routes`, off by default): on for this build only.
build_example_worker_with_test_routes
wasm="$(ls "$WORKER_DIR"/build/*.wasm | head -1)"
raw=$(stat -c %s "$wasm")
gz=$(gzip -9c "$wasm" | wc -c)
js=$(cat "$WORKER_DIR"/build/*.js | wc -c)
awk -v f="${wasm#"$ROOT"/}" -v r="$raw" -v g="$gz" -v j="$js" 'BEGIN {
  printf "    %s: %d bytes raw (%.0f KiB), %d bytes gzip -9 (%.0f KiB); JS glue %d bytes\n", f, r, r / 1024, g, g / 1024, j
  printf "    (with the test routes; scripts/worker-size.sh measures the Worker without them)\n" }'

# 5. migrations + tests --------------------------------------------------------------------
step "e2e tests (wrangler d1 migrations apply + node:test)"
(cd "$E2E_DIR" && exec node run.mjs "$@") &
runner_pid=$!
set +e
wait "$runner_pid"
rc=$?
set -e
runner_pid=""
done_step
exit "$rc"
