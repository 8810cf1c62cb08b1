#!/usr/bin/env bash
# Compares benchmark builds on a noisy machine: runs each BINARY=FILTER in turn, ROUNDS times,
# alternating (0.5 s per run), and prints the median, max and min of items per second (M/s).
# Alternating spreads the machine's slow minutes over every build alike.
# Usage: scripts/bench-ab.sh ROUNDS build-a/bench/x_bench='BM_A$' build-b/bench/x_bench='BM_B$'
set -euo pipefail
rounds=$1
shift
declare -A runs
for _ in $(seq "$rounds"); do
  for spec in "$@"; do
    "${spec%%=*}" --benchmark_filter="${spec#*=}" --benchmark_min_time=0.5 2>/dev/null |
      grep -o 'items_per_second=[0-9.]*[kM]' | head -1 | sed 's/items_per_second=//' >/tmp/ab.$$
    runs[$spec]="${runs[$spec]:-} $(awk '/k$/ {print $0 / 1000; next} {print $0 + 0}' /tmp/ab.$$)"
  done
done
rm -f /tmp/ab.$$
for spec in "$@"; do
  echo "$spec: $(echo ${runs[$spec]} | tr ' ' '\n' | sort -n | awk '{v[NR] = $1}
    END {printf "median %.2f  max %.2f  min %.2f M/s (%d runs)", v[int((NR + 1) / 2)], v[NR], v[1], NR}')"
done
