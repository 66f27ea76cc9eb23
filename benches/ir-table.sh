#!/usr/bin/env bash
# Instructions per iteration (callgrind) of every workload and implementation, with the ratio
# to raw rusqlite: the deterministic companion of the criterion medians in BENCHMARKS.md
# (instruction counts do not move with machine load; wall time does). Takes ~5 minutes.
# Usage: benches/ir-table.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
rows=(
  "trivial 1 2000" "trivial 100 500" "trivial 10000 10"
  "medium 1 2000" "medium 100 500" "medium 1000 50"
  "insert 1 2000" "insert 10 1000" "insert 100 200"
  "associations 0 20" "find 0 2000" "aggregate 0 200" "join 0 500"
)
impls_for() {
  case $1 in
    trivial) echo "sonic rusqlite diesel" ;;
    medium) echo "sonic sonic_single rusqlite diesel" ;;
    insert) echo "sonic sonic_count rusqlite rusqlite_returning diesel" ;;
    associations) echo "sonic sonic_single sonic_n1 rusqlite diesel" ;;
    find) echo "sonic_kv sonic rusqlite diesel" ;;
    aggregate | join) echo "sonic rusqlite diesel" ;;
  esac
}
printf '| workload | implementation | instructions / iteration | ÷ rusqlite |\n|---|---|---|---|\n'
for row in "${rows[@]}"; do
  read -r workload size iters <<<"$row"
  declare -A ir=()
  for impl in $(impls_for "$workload"); do
    ir[$impl]=$(benches/profile.sh "$workload" "$impl" "$size" "$iters" 0 | awk '{ print $(NF-3) }')
  done
  label=$workload; [[ $size != 0 ]] && label="$workload $size"
  for impl in $(impls_for "$workload"); do
    awk -v w="$label" -v i="$impl" -v v="${ir[$impl]}" -v b="${ir[rusqlite]}" \
      'BEGIN { printf "| %s | %s | %d | %.2f |\n", w, i, v, v / b }'
  done
  unset ir
done
