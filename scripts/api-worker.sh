#!/usr/bin/env bash
# The sonic-db-api example Worker (examples/api-worker) end to end, from a clean machine:
#   1-3. the tools, as scripts/e2e.sh installs them (scripts/worker-tools.sh)
#   4.   worker-build --profile wasm-release in examples/api-worker
#   5.   node e2e/run.mjs on it: its migrations applied to a fresh local D1, then
#        e2e/api/*.test.mjs against it on workerd (Miniflare) on 127.0.0.1, with three
#        principals (anonymous, a user, the admin; tokens passed as the Worker's secrets);
#        every process stopped and the state deleted afterwards
# Exits non-zero on any failure.
#
# Usage: scripts/api-worker.sh
# Env:   API_SKIP_BUILD=1  reuse examples/api-worker/build as is
#        SONIC_E2E_DEBUG=1 Miniflare debug logs
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
API_DIR="$ROOT/examples/api-worker"
# shellcheck source=scripts/worker-tools.sh
source "$ROOT/scripts/worker-tools.sh"
started=$(date +%s.%N)

# The test runner gets its own process group (run.mjs kills the tests' group, workerd included).
worker_tools_stop_runner_on_exit

worker_tools_install

if [[ "${API_SKIP_BUILD:-}" == 1 ]]; then
  [[ -f "$API_DIR/build/index.js" ]] || die "API_SKIP_BUILD=1 but examples/api-worker/build is missing"
else
  step "worker-build --profile wasm-release (examples/api-worker)"
  worker_build "$API_DIR" --profile wasm-release
  done_step
fi
wasm="$(ls "$API_DIR"/build/*.wasm | head -1)"
printf '    %s: %d bytes, %d bytes gzip -9\n' "${wasm#"$ROOT"/}" "$(stat -c %s "$wasm")" "$(gzip -9c "$wasm" | wc -c)"

step "API Worker tests (wrangler d1 migrations apply --local + node:test, e2e/api/)"
(cd "$E2E_DIR" && SONIC_E2E_WORKER_DIR=examples/api-worker SONIC_E2E_TESTS_DIR=api \
  exec node run.mjs) &
runner_pid=$!
set +e
wait "$runner_pid"
rc=$?
set -e
runner_pid=""
done_step
awk -v a="$started" -v b="$(date +%s.%N)" -v rc="$rc" \
  'BEGIN { printf "\nAPI Worker: %s in %.1f s\n", rc == 0 ? "passed" : "FAILED", b - a }'
exit "$rc"
