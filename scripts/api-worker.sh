#!/usr/bin/env bash
# The sonic-db-api example Worker (examples/api-worker) end to end on workerd: e2e/api/*.test.mjs
# with three principals (anonymous, a user, the admin; tokens passed as the Worker's secrets).
# Usage: scripts/api-worker.sh   (Env: API_SKIP_BUILD=1 reuses the build; SONIC_E2E_DEBUG=1)
EXAMPLE_SKIP_BUILD="${API_SKIP_BUILD:-${EXAMPLE_SKIP_BUILD:-}}" \
  exec "$(dirname "${BASH_SOURCE[0]}")/example-e2e.sh" api-worker api
