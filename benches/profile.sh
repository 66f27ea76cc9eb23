#!/usr/bin/env bash
# Instructions per iteration of one benchmark workload under callgrind (deterministic: the
# same binary and arguments give the same count on any machine load), and the functions
# that spend them.
#
# Usage: benches/profile.sh <workload> <implementation> [size] [iterations] [top]
#   e.g. benches/profile.sh trivial sonic 100 200
# Builds examples/profile.rs in release with line tables into target/profiling (once), runs it
# under valgrind --tool=callgrind counting only the measured loop, prints Ir/iteration and the
# `top` (default 25) functions by inclusive and by self cost. The callgrind file stays in
# target/profiling/callgrind.<workload>.<implementation>.<size> for callgrind_annotate or
# kcachegrind.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
workload=${1:?workload}; impl=${2:?implementation}; size=${3:-100}; iters=${4:-200}; top=${5:-25}
export CARGO_TARGET_DIR="$ROOT/target/profiling"
CARGO_PROFILE_RELEASE_DEBUG=line-tables-only \
  cargo build --quiet --release -p sonic-benches --example profile
out="$CARGO_TARGET_DIR/callgrind.$workload.$impl.$size"
collected=$(valgrind --tool=callgrind --toggle-collect='*measured*' --callgrind-out-file="$out" \
  "$CARGO_TARGET_DIR/release/examples/profile" "$workload" "$impl" "$size" "$iters" 2>&1 \
  | sed -n 's/.*Collected : \([0-9]*\).*/\1/p')
awk -v c="$collected" -v n="$iters" -v w="$workload" -v i="$impl" -v s="$size" \
  'BEGIN { printf "%s %s %s: %.0f instructions per iteration\n", w, i, s, c / n }'
if [[ "$top" -gt 0 ]]; then
  echo "--- inclusive"
  callgrind_annotate --inclusive=yes "$out" 2>/dev/null | sed -n '/^Ir/,$p' | head -$((top + 2))
  echo "--- self"
  callgrind_annotate "$out" 2>/dev/null | sed -n '/^Ir/,$p' | head -$((top + 2))
fi
