#!/usr/bin/env bash
# The Durable Object example Worker (examples/do-worker, sonic-db-do) end to end on workerd:
# the conformance suite inside an object, batches as transactions, objects isolated
# (e2e/do/*.test.mjs). Its routes are test routes: built with the feature `test-routes`.
# Usage: scripts/do-worker.sh   (Env: EXAMPLE_SKIP_BUILD=1, SONIC_E2E_DEBUG=1)
exec "$(dirname "${BASH_SOURCE[0]}")/example-e2e.sh" do-worker do test-routes
