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
# Exits non-zero on any failure. Idempotent; the second run skips the installs.
#
# Usage: scripts/e2e.sh [test-file-filter ...]
# Env:   E2E_SKIP_BUILD=1  reuse examples/worker/build as is
#        SONIC_E2E_DEBUG=1 Miniflare debug logs
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
WORKER_DIR="$ROOT/examples/worker"
E2E_DIR="$ROOT/e2e"
CARGO_BIN="${CARGO_HOME:-$HOME/.cargo}/bin"
WORKER_BUILD_VERSION=0.8.7

export WRANGLER_SEND_METRICS=false
export CLOUDFLARE_CF_FETCH_ENABLED=false
export PATH="$CARGO_BIN:$PATH"

step_start=0
step() { step_start=$(date +%s.%N); printf '\n==> %s\n' "$*"; }
done_step() { awk -v a="$step_start" -v b="$(date +%s.%N)" 'BEGIN { printf "    (%.1f s)\n", b - a }'; }
die() { printf 'e2e: %s\n' "$*" >&2; exit 1; }

# The test runner gets its own process group, so an interrupted or killed script can take
# down everything it started (workerd included).
runner_pid=""
cleanup() {
  local rc=$?
  if [[ -n "$runner_pid" ]] && kill -0 "$runner_pid" 2>/dev/null; then
    kill -TERM "$runner_pid" 2>/dev/null || true  # run.mjs kills its test process group
    for _ in $(seq 50); do kill -0 "$runner_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$runner_pid" 2>/dev/null || true
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

command -v node >/dev/null || die "node not found"
command -v cargo >/dev/null || die "cargo not found"

# 1. wasm target ---------------------------------------------------------------------------
step "rustup target add wasm32-unknown-unknown"
if rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  echo "    already installed"
else
  rustup target add wasm32-unknown-unknown
fi
done_step

# The two tools run for about a second per build, but building them is the longest step of a
# clean CI run (≈ 8 of 17 minutes on 2 busy cores): build them with opt-level 1, no LTO and
# parallel codegen (measured: wasm-bindgen-cli 3 min 12 s → 2 min 23 s).
install_tool() {
  CARGO_PROFILE_RELEASE_OPT_LEVEL=1 CARGO_PROFILE_RELEASE_LTO=false \
    CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 CARGO_PROFILE_RELEASE_DEBUG=0 \
    cargo install "$@"
}

# 2. cargo tools ---------------------------------------------------------------------------
step "cargo tools (wasm-bindgen-cli, worker-build)"
# Resolve (and, if needed, create) the lock entry for wasm-bindgen; cargo pkgid reads Cargo.lock.
WB_VERSION="$(cd "$WORKER_DIR" && cargo pkgid -p wasm-bindgen 2>/dev/null | sed -n 's/.*[#@]\([0-9][0-9.]*\)$/\1/p')"
[[ -n "$WB_VERSION" ]] || die "could not read the wasm-bindgen version from Cargo.lock"
echo "    wasm-bindgen in Cargo.lock: $WB_VERSION"
if [[ "$("$CARGO_BIN/wasm-bindgen" --version 2>/dev/null || true)" == "wasm-bindgen $WB_VERSION" ]]; then
  echo "    wasm-bindgen-cli $WB_VERSION already installed"
else
  # No --locked: wasm-bindgen-cli's own lock file pins a crate version this registry lacks.
  install_tool wasm-bindgen-cli --version "$WB_VERSION" --force
fi
# `worker-build --version` prints just the number, e.g. "0.8.7".
if [[ "$("$CARGO_BIN/worker-build" --version 2>/dev/null | awk '{ print $NF }')" == "$WORKER_BUILD_VERSION" ]]; then
  echo "    worker-build $WORKER_BUILD_VERSION already installed"
else
  install_tool worker-build --version "$WORKER_BUILD_VERSION" --locked --force
fi
done_step

# 3. npm -----------------------------------------------------------------------------------
step "npm ci (e2e/)"
lock_hash="$(sha256sum "$E2E_DIR/package-lock.json" | cut -d' ' -f1)"
stamp="$E2E_DIR/node_modules/.sonic-lock-sha256"
if [[ -f "$stamp" && "$(cat "$stamp")" == "$lock_hash" && -x "$E2E_DIR/node_modules/.bin/wrangler" ]]; then
  echo "    node_modules matches package-lock.json"
else
  (cd "$E2E_DIR" && npm ci --no-audit --no-fund)
  echo "$lock_hash" > "$stamp"
fi
done_step

# 4. build ---------------------------------------------------------------------------------
if [[ "${E2E_SKIP_BUILD:-}" == 1 ]]; then
  [[ -f "$WORKER_DIR/build/index.js" ]] || die "E2E_SKIP_BUILD=1 but examples/worker/build is missing"
else
  step "worker-build --profile wasm-release (examples/worker)"
  # worker-build downloads these from GitHub unless told where they are; make sure they exist,
  # because an unresolvable *_BIN silently falls back to the download.
  export WASM_BINDGEN_BIN="$CARGO_BIN/wasm-bindgen"
  export WASM_OPT_BIN="$E2E_DIR/node_modules/.bin/wasm-opt"
  export ESBUILD_BIN="$E2E_DIR/node_modules/.bin/esbuild"
  for b in "$WASM_BINDGEN_BIN" "$WASM_OPT_BIN" "$ESBUILD_BIN"; do [[ -x "$b" ]] || die "missing $b"; done
  (cd "$WORKER_DIR" && worker-build --profile wasm-release)
  done_step
fi
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
