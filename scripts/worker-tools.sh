# shellcheck shell=bash
# The tools that build and test a Worker, shared by scripts/e2e.sh and scripts/starter-worker.sh
# (source it; it only defines things). From a clean machine, each only when missing or at
# another version:
#   worker_tools_install  1. rustup target add wasm32-unknown-unknown
#                         2. cargo install wasm-bindgen-cli (exact version from Cargo.lock) and
#                            worker-build 0.8.7
#                         3. npm ci in e2e/ (wrangler 4.86.0 + binaryen 132.0.0), skipped when
#                            the lock is unchanged
#   worker_tools_env      exports WASM_BINDGEN_BIN / WASM_OPT_BIN / ESBUILD_BIN: worker-build
#                         downloads these from GitHub unless told where they are, and an
#                         unresolvable *_BIN silently falls back to the download, so each must
#                         exist
#   worker_build DIR ARGS worker-build ARGS in DIR, failing if it did not use all three
# Defines ROOT, E2E_DIR, CARGO_BIN, WORKER_BUILD_VERSION, and step / done_step / die unless the
# sourcing script has its own. Needs `set -euo pipefail` in the caller.

ROOT="${ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"
E2E_DIR="$ROOT/e2e"
CARGO_BIN="${CARGO_HOME:-$HOME/.cargo}/bin"
WORKER_BUILD_VERSION=0.8.7

export WRANGLER_SEND_METRICS=false
export CLOUDFLARE_CF_FETCH_ENABLED=false
export PATH="$CARGO_BIN:$PATH"

declare -F step >/dev/null || {
  step_start=0
  step() { step_start=$(date +%s.%N); printf '\n==> %s\n' "$*"; }
}
declare -F done_step >/dev/null ||
  done_step() { awk -v a="$step_start" -v b="$(date +%s.%N)" 'BEGIN { printf "    (%.1f s)\n", b - a }'; }
declare -F die >/dev/null || die() { printf '%s: %s\n' "$(basename "$0")" "$*" >&2; exit 1; }

# The two tools run for about a second per build, but building them is the longest step of a
# clean CI run (≈ 8 of 17 minutes on 2 busy cores): build them with opt-level 1, no LTO and
# parallel codegen (measured: wasm-bindgen-cli 3 min 12 s → 2 min 23 s).
install_tool() {
  CARGO_PROFILE_RELEASE_OPT_LEVEL=1 CARGO_PROFILE_RELEASE_LTO=false \
    CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 CARGO_PROFILE_RELEASE_DEBUG=0 \
    cargo install "$@"
}

worker_tools_install() {
  command -v node >/dev/null || die "node not found"
  command -v cargo >/dev/null || die "cargo not found"

  # 1. wasm target -------------------------------------------------------------------------
  step "rustup target add wasm32-unknown-unknown"
  if rustup target list --installed | grep -qx wasm32-unknown-unknown; then
    echo "    already installed"
  else
    rustup target add wasm32-unknown-unknown
  fi
  done_step

  # 2. cargo tools -------------------------------------------------------------------------
  step "cargo tools (wasm-bindgen-cli, worker-build)"
  # Resolve (and, if needed, create) the lock entry for wasm-bindgen; cargo pkgid reads Cargo.lock.
  local wb_version
  wb_version="$(cd "$ROOT" && cargo pkgid -p wasm-bindgen 2>/dev/null | sed -n 's/.*[#@]\([0-9][0-9.]*\)$/\1/p')"
  [[ -n "$wb_version" ]] || die "could not read the wasm-bindgen version from Cargo.lock"
  echo "    wasm-bindgen in Cargo.lock: $wb_version"
  if [[ "$("$CARGO_BIN/wasm-bindgen" --version 2>/dev/null || true)" == "wasm-bindgen $wb_version" ]]; then
    echo "    wasm-bindgen-cli $wb_version already installed"
  else
    # No --locked: wasm-bindgen-cli's own lock file pins a crate version this registry lacks.
    install_tool wasm-bindgen-cli --version "$wb_version" --force
  fi
  # `worker-build --version` prints just the number, e.g. "0.8.7".
  if [[ "$("$CARGO_BIN/worker-build" --version 2>/dev/null | awk '{ print $NF }')" == "$WORKER_BUILD_VERSION" ]]; then
    echo "    worker-build $WORKER_BUILD_VERSION already installed"
  else
    install_tool worker-build --version "$WORKER_BUILD_VERSION" --locked --force
  fi
  done_step

  # 3. npm ---------------------------------------------------------------------------------
  step "npm ci (e2e/)"
  local lock_hash stamp
  lock_hash="$(sha256sum "$E2E_DIR/package-lock.json" | cut -d' ' -f1)"
  stamp="$E2E_DIR/node_modules/.sonic-lock-sha256"
  if [[ -f "$stamp" && "$(cat "$stamp")" == "$lock_hash" && -x "$E2E_DIR/node_modules/.bin/wrangler" ]]; then
    echo "    node_modules matches package-lock.json"
  else
    (cd "$E2E_DIR" && npm ci --no-audit --no-fund)
    echo "$lock_hash" > "$stamp"
  fi
  done_step
}

worker_tools_env() {
  export WASM_BINDGEN_BIN="$CARGO_BIN/wasm-bindgen"
  export WASM_OPT_BIN="$E2E_DIR/node_modules/.bin/wasm-opt"
  if [[ "${WASM_OPT_KEEP_NAMES:-}" == 1 ]]; then
    # wasm-opt drops the `name` section unless given -g: a wrapper adds it (profiling builds).
    local wrapper="$ROOT/target/wasm-opt-keep-names"
    mkdir -p "$ROOT/target"
    printf '#!/bin/sh\nexec %q "$@" -g\n' "$WASM_OPT_BIN" >"$wrapper"
    chmod +x "$wrapper"
    export WASM_OPT_BIN="$wrapper"
  fi
  export ESBUILD_BIN="$E2E_DIR/node_modules/.bin/esbuild"
  local b
  for b in "$WASM_BINDGEN_BIN" "$WASM_OPT_BIN" "$ESBUILD_BIN"; do [[ -x "$b" ]] || die "missing $b"; done
}

# worker_build DIR [worker-build args...]: builds the Worker in DIR with the tools of
# worker_tools_env, and fails unless worker-build reported using each of them ("Using custom
# … from WASM_…_BIN") rather than a download.
worker_build() {
  local dir="$1" log rc=0
  shift
  worker_tools_env
  log="$(mktemp)"
  (cd "$dir" && worker-build "$@") 2>&1 | tee "$log" || rc=$?
  if [[ $rc -eq 0 ]]; then
    local var
    for var in WASM_BINDGEN_BIN WASM_OPT_BIN ESBUILD_BIN; do
      grep -q "from $var" "$log" || { rc=1; echo "worker-build did not use \$$var (${!var})" >&2; }
    done
  fi
  rm -f "$log"
  return "$rc"
}

# Stops the test runner started as `runner_pid` (run.mjs kills its own test process group) when
# the calling script exits or is interrupted: TERM, then KILL after 5 s.
worker_tools_stop_runner_on_exit() {
  runner_pid=""
  _stop_runner() {
    local rc=$?
    if [[ -n "$runner_pid" ]] && kill -0 "$runner_pid" 2>/dev/null; then
      kill -TERM "$runner_pid" 2>/dev/null || true
      for _ in $(seq 50); do kill -0 "$runner_pid" 2>/dev/null || break; sleep 0.1; done
      kill -KILL "$runner_pid" 2>/dev/null || true
    fi
    exit "$rc"
  }
  trap _stop_runner EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
}

# The example Worker (examples/worker) with its opt-in test routes, as the e2e and load runs use
# it; with E2E_SKIP_BUILD=1 the existing build is reused (and must exist).
build_example_worker_with_test_routes() {
  local dir="$ROOT/examples/worker"
  if [[ "${E2E_SKIP_BUILD:-}" == 1 ]]; then
    [[ -f "$dir/build/index.js" ]] || die "E2E_SKIP_BUILD=1 but examples/worker/build is missing"
    return 0
  fi
  step "worker-build --profile wasm-release (examples/worker, with the test routes)"
  worker_build "$dir" --profile wasm-release -- --features test-routes
  done_step
}
