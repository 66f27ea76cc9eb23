#!/usr/bin/env bash
# Runs every check and test of the project, from a clean machine:
#   formatting, each crate's rust-version against its dependencies' (scripts/msrv-check.py),
#   no module cycle (scripts/module-cycles.py),
#   clippy, the native test suites (unit, integration, trybuild UI, doctests, model-based and
#   property tests, the conformance suite on rusqlite + in-memory KV), packaging every
#   publishable crate and building it from its .crate (scripts/package-check.sh),
#   a smoke run of every benchmark, and the end-to-end tests of the example Worker on
#   workerd (Miniflare) over HTTP on 127.0.0.1, including the conformance suite on D1 + KV.
# It installs what it needs itself (wasm32 target, wasm-bindgen-cli, worker-build, npm packages
# from the committed lock file) and stops every process it started.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }
started=$SECONDS

step "cargo fmt --check"
cargo fmt --all -- --check

step "MSRV: each crate's rust-version covers its dependencies' (scripts/msrv-check.py)"
python3 scripts/msrv-check.py

step "no module cycle in any crate (scripts/module-cycles.py)"
python3 scripts/module-cycles.py

step "cargo clippy (all targets, all features, warnings are errors)"
cargo clippy --workspace --all-targets --all-features -- -D warnings

step "native tests (unit, integration, UI, doctests)"
# sonic-db-api's openapi.json is checked by a maintained validator (PyPI's openapi-spec-validator).
python3 -c 'import openapi_spec_validator' 2>/dev/null ||
    python3 -m pip install --quiet 'openapi-spec-validator==0.9.0'
cargo test --workspace --all-features

step "packaging: every publishable crate packaged and built from its .crate (scripts/package-check.sh)"
scripts/package-check.sh

step "README command #1: the native blog example runs"
cargo run -q -p sonic-example-blog > /dev/null

step "benchmarks build and run once each (criterion test mode, no timing)"
cargo test --workspace --all-features --benches

step "end-to-end: example Worker on workerd (Miniflare), D1 + KV over HTTP"
scripts/e2e.sh

step "load and faults: 5 clients × 10 s on the example Worker, every acknowledged write verified (scripts/load.sh)"
E2E_SKIP_BUILD=1 SONIC_LOAD_CLIENTS=5 SONIC_LOAD_SECONDS=10 scripts/load.sh

step "starter Worker (the README's tutorial): built as the README says, tested on workerd (Miniflare)"
scripts/starter-worker.sh

step "API Worker (sonic-db-api): three principals against its access rules, on workerd (Miniflare)"
scripts/api-worker.sh

step "Durable Object Worker (sonic-db-do): conformance suite and transactions inside objects, on workerd (Miniflare)"
scripts/do-worker.sh

printf '\nall checks passed in %ss\n' "$((SECONDS - started))"
