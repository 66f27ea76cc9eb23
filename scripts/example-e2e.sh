#!/usr/bin/env bash
# One example Worker end to end, from a clean machine:
#   1-3. the tools, as scripts/e2e.sh installs them (scripts/worker-tools.sh)
#   4.   worker-build --profile wasm-release in examples/NAME (with FEATURES, if given)
#   5.   node e2e/run.mjs on it: its D1 migrations applied to a fresh local state, then
#        e2e/TESTS/*.test.mjs against it on workerd (Miniflare) on 127.0.0.1; every process
#        stopped and the state deleted afterwards
# Exits non-zero on any failure. scripts/api-worker.sh and scripts/do-worker.sh call it.
#
# Usage: scripts/example-e2e.sh NAME TESTS [FEATURES]
# Env:   EXAMPLE_SKIP_BUILD=1  reuse examples/NAME/build as is
#        SONIC_E2E_DEBUG=1     Miniflare debug logs
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
NAME="${1:?usage: example-e2e.sh NAME TESTS [FEATURES]}"
TESTS="${2:?usage: example-e2e.sh NAME TESTS [FEATURES]}"
FEATURES="${3:-}"
EXAMPLE_DIR="$ROOT/examples/$NAME"
# shellcheck source=scripts/worker-tools.sh
source "$ROOT/scripts/worker-tools.sh"
started=$(date +%s.%N)

# The test runner gets its own process group (run.mjs kills the tests' group, workerd included).
worker_tools_stop_runner_on_exit

worker_tools_install

if [[ "${EXAMPLE_SKIP_BUILD:-}" == 1 ]]; then
  [[ -f "$EXAMPLE_DIR/build/index.js" ]] || die "EXAMPLE_SKIP_BUILD=1 but examples/$NAME/build is missing"
else
  step "worker-build --profile wasm-release (examples/$NAME${FEATURES:+, features $FEATURES})"
  if [[ -n "$FEATURES" ]]; then
    worker_build "$EXAMPLE_DIR" --profile wasm-release -- --features "$FEATURES"
  else
    worker_build "$EXAMPLE_DIR" --profile wasm-release
  fi
  done_step
fi
wasm="$(ls "$EXAMPLE_DIR"/build/*.wasm | head -1)"
printf '    %s: %d bytes, %d bytes gzip -9\n' "${wasm#"$ROOT"/}" "$(stat -c %s "$wasm")" "$(gzip -9c "$wasm" | wc -c)"

step "examples/$NAME tests (wrangler d1 migrations apply --local + node:test, e2e/$TESTS/)"
(cd "$E2E_DIR" && SONIC_E2E_WORKER_DIR="examples/$NAME" SONIC_E2E_TESTS_DIR="$TESTS" \
  exec node run.mjs) &
runner_pid=$!
set +e
wait "$runner_pid"
rc=$?
set -e
runner_pid=""
done_step
awk -v a="$started" -v b="$(date +%s.%N)" -v rc="$rc" -v name="$NAME" \
  'BEGIN { printf "\nexamples/%s: %s in %.1f s\n", name, rc == 0 ? "passed" : "FAILED", b - a }'
exit "$rc"
