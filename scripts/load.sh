#!/usr/bin/env bash
# Load and fault run of the example Worker (examples/worker) under workerd (Miniflare), on
# 127.0.0.1 only; stops by itself after the given duration and stops everything it started.
# Builds the Worker as scripts/e2e.sh does (with the test routes, which the fault injection
# uses), then runs e2e/load/driver.mjs: N clients, mixed workload, KV corruption and hostile
# requests, and a final check of every acknowledged write via the API, D1 and KV.
#
# Usage: scripts/load.sh            (env SONIC_LOAD_CLIENTS=5 SONIC_LOAD_SECONDS=10,
#                                    SONIC_LOAD_FAULTS=1, E2E_SKIP_BUILD=1 to reuse the build)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/worker-tools.sh
source "$ROOT/scripts/worker-tools.sh"
worker_tools_stop_runner_on_exit
worker_tools_install

build_example_worker_with_test_routes

step "load: ${SONIC_LOAD_CLIENTS:-5} clients × ${SONIC_LOAD_SECONDS:-10} s (e2e/load/driver.mjs)"
seconds="${SONIC_LOAD_SECONDS:-10}"
# Bounded: the run, its final verification, and start-up, then a hard stop.
(cd "$E2E_DIR" && exec timeout --kill-after=10 "$((seconds + 300))" node load/driver.mjs) &
runner_pid=$!
set +e
wait "$runner_pid"
rc=$?
set -e
runner_pid=""
done_step
exit "$rc"
