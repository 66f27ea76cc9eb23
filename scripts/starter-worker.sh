#!/usr/bin/env bash
# The README's "Embedding in a Worker", end to end, on the starter Worker
# (examples/starter-worker), from a clean machine:
#   1-3. the tools, as scripts/e2e.sh installs them (scripts/worker-tools.sh): wasm32 target,
#        wasm-bindgen-cli at Cargo.lock's version, worker-build 0.8.7, wrangler + wasm-opt +
#        esbuild from e2e/package-lock.json; nothing is downloaded from GitHub
#   4.   worker-build --profile wasm-release in examples/starter-worker, as the README says
#   5.   node e2e/run.mjs on it: `wrangler d1 migrations apply DB --local` of its migrations/
#        into a fresh state dir, then e2e/starter/*.test.mjs against the Worker on workerd
#        (Miniflare) on 127.0.0.1; every process stopped and the state deleted afterwards
# Exits non-zero on any failure. Idempotent; the second run skips the installs.
#
# Usage: scripts/starter-worker.sh
# Env:   STARTER_SKIP_BUILD=1  reuse examples/starter-worker/build as is
#        SONIC_E2E_DEBUG=1     Miniflare debug logs
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
STARTER_DIR="$ROOT/examples/starter-worker"
# shellcheck source=scripts/worker-tools.sh
source "$ROOT/scripts/worker-tools.sh"
started=$(date +%s.%N)

# The test runner gets its own process group (run.mjs kills the tests' group, workerd included).
worker_tools_stop_runner_on_exit

worker_tools_install

if [[ "${STARTER_SKIP_BUILD:-}" == 1 ]]; then
  [[ -f "$STARTER_DIR/build/index.js" ]] || die "STARTER_SKIP_BUILD=1 but examples/starter-worker/build is missing"
else
  step "worker-build --profile wasm-release (examples/starter-worker)"
  worker_build "$STARTER_DIR" --profile wasm-release
  done_step
fi
wasm="$(ls "$STARTER_DIR"/build/*.wasm | head -1)"
printf '    %s: %d bytes, %d bytes gzip -9\n' "${wasm#"$ROOT"/}" "$(stat -c %s "$wasm")" "$(gzip -9c "$wasm" | wc -c)"

step "starter tests (wrangler d1 migrations apply --local + node:test, e2e/starter/)"
(cd "$E2E_DIR" && SONIC_E2E_WORKER_DIR=examples/starter-worker SONIC_E2E_TESTS_DIR=starter \
  exec node run.mjs) &
runner_pid=$!
set +e
wait "$runner_pid"
rc=$?
set -e
runner_pid=""
done_step
awk -v a="$started" -v b="$(date +%s.%N)" -v rc="$rc" \
  'BEGIN { printf "\nstarter Worker: %s in %.1f s\n", rc == 0 ? "passed" : "FAILED", b - a }'
exit "$rc"
