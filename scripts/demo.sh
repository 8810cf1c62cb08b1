#!/usr/bin/env bash
# Builds courier (Release) and runs the tour: every example in examples/, in order.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
jobs=$(nproc)
cmake -S . -B build/release -DCMAKE_BUILD_TYPE=Release -DCOURIER_BUILD_TESTS=OFF >/dev/null
cmake --build build/release -j"$jobs" >/dev/null
for example in build/release/examples/example_*; do
  name=${example##*/example_}
  printf '\n=== %s ===\n' "$name"
  "$example"
done
printf '\nAll examples ran and their assertions held.\n'
