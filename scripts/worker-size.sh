#!/usr/bin/env bash
# Prints the final wasm size (raw and gzip -9) of the example Worker next to a minimal D1 + KV
# Worker (benches/minimal-worker, `worker` only), both built the same way: worker-build
# --profile wasm-release (the workspace's size-optimised profile), local wasm-bindgen /
# wasm-opt / esbuild (nothing downloaded), as scripts/e2e.sh builds examples/worker. The
# example is built without its test routes (--no-default-features: the Worker as deployed)
# into target/worker-size/, so examples/worker/build keeps the e2e build.
#
# Installs what is missing exactly as scripts/e2e.sh does (wasm32 target, wasm-bindgen-cli at
# the Cargo.lock version, worker-build 0.8.7, npm ci in e2e/ for binaryen + esbuild).
# Usage: scripts/worker-size.sh            build both, print the table
#        WORKER_SIZE_SKIP_BUILD=1 ...      measure the builds in target/worker-size/ as they are
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
E2E_DIR="$ROOT/e2e"
CARGO_BIN="${CARGO_HOME:-$HOME/.cargo}/bin"
WORKER_BUILD_VERSION=0.8.7
WORKERS=("examples/worker" "benches/minimal-worker")
export PATH="$CARGO_BIN:$PATH"

die() { printf 'worker-size: %s\n' "$*" >&2; exit 1; }
# Where worker-build writes a Worker's build (an absolute --out-dir works).
out_dir() { printf '%s/target/worker-size/%s' "$ROOT" "${1//\//_}"; }
command -v cargo >/dev/null || die "cargo not found"

if [[ "${WORKER_SIZE_SKIP_BUILD:-}" != 1 ]]; then
  # Tools, as scripts/e2e.sh installs them (each step skipped when already in place).
  rustup target list --installed | grep -qx wasm32-unknown-unknown \
    || rustup target add wasm32-unknown-unknown
  WB_VERSION="$(cd "$ROOT" && cargo pkgid -p wasm-bindgen 2>/dev/null | sed -n 's/.*[#@]\([0-9][0-9.]*\)$/\1/p')"
  [[ -n "$WB_VERSION" ]] || die "could not read the wasm-bindgen version from Cargo.lock"
  if [[ "$("$CARGO_BIN/wasm-bindgen" --version 2>/dev/null || true)" != "wasm-bindgen $WB_VERSION" ]]; then
    cargo install wasm-bindgen-cli --version "$WB_VERSION" --force
  fi
  if [[ "$("$CARGO_BIN/worker-build" --version 2>/dev/null | awk '{ print $NF }')" != "$WORKER_BUILD_VERSION" ]]; then
    cargo install worker-build --version "$WORKER_BUILD_VERSION" --locked --force
  fi
  if [[ ! -x "$E2E_DIR/node_modules/.bin/wasm-opt" || ! -x "$E2E_DIR/node_modules/.bin/esbuild" ]]; then
    command -v npm >/dev/null || die "npm not found"
    (cd "$E2E_DIR" && npm ci --no-audit --no-fund)
  fi
  # worker-build downloads these unless told where they are.
  export WASM_BINDGEN_BIN="$CARGO_BIN/wasm-bindgen"
  export WASM_OPT_BIN="$E2E_DIR/node_modules/.bin/wasm-opt"
  export ESBUILD_BIN="$E2E_DIR/node_modules/.bin/esbuild"
  for b in "$WASM_BINDGEN_BIN" "$WASM_OPT_BIN" "$ESBUILD_BIN"; do [[ -x "$b" ]] || die "missing $b"; done

  mkdir -p "$ROOT/target/worker-size"
  for w in "${WORKERS[@]}"; do
    printf '==> worker-build --profile wasm-release (%s)\n' "$w"
    start=$SECONDS
    (cd "$ROOT/$w" && worker-build --profile wasm-release --out-dir "$(out_dir "$w")" \
      --no-default-features) >"$ROOT/target/worker-size-${w//\//_}.log" 2>&1 \
      || { tail -30 "$ROOT/target/worker-size-${w//\//_}.log" >&2; die "building $w failed"; }
    printf '    %d s\n' $((SECONDS - start))
  done
fi

printf '\n| Worker | wasm raw | wasm gzip -9 | JS glue raw |\n|---|---|---|---|\n'
declare -A raw_of gz_of
for w in "${WORKERS[@]}"; do
  dir="$(out_dir "$w")"
  wasm="$(ls "$dir"/*.wasm 2>/dev/null | head -1 || true)"
  [[ -n "$wasm" ]] || die "$dir has no .wasm (build it first)"
  raw=$(stat -c %s "$wasm")
  gz=$(gzip -9c "$wasm" | wc -c)
  js=$(cat "$dir"/*.js | wc -c)
  raw_of[$w]=$raw
  gz_of[$w]=$gz
  awk -v w="$w" -v r="$raw" -v g="$gz" -v j="$js" 'BEGIN {
    printf "| %s | %d B (%.1f KiB) | %d B (%.1f KiB) | %d B |\n", w, r, r / 1024, g, g / 1024, j }'
done
awk -v r="${raw_of[examples/worker]}" -v mr="${raw_of[benches/minimal-worker]}" \
    -v g="${gz_of[examples/worker]}" -v mg="${gz_of[benches/minimal-worker]}" 'BEGIN {
  printf "| difference | %+.1f KiB | %+.1f KiB | |\n", (r - mr) / 1024, (g - mg) / 1024 }'
