#!/usr/bin/env bash
# Builds and runs every test three times: Release with -Werror, AddressSanitizer+UBSan, and
# ThreadSanitizer (each in its own build folder), after a format check.
# Usage: scripts/test.sh [release|asan|tsan|format]...   (default: all of them)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
jobs=$(nproc)
steps=("$@")
[ ${#steps[@]} -eq 0 ] && steps=(format release asan tsan)

# ccache, when present, makes a rebuild of an unchanged file free; paths are taken relative to
# the checkout so that clones in other folders share the cache.
launcher=()
if command -v ccache >/dev/null; then
  launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
  export CCACHE_BASEDIR=$PWD CCACHE_NOHASHDIR=1
fi
# Sanitizer builds: -O1 keeps them fast to build and run; asserts stay on.
sanitized=(-DCMAKE_BUILD_TYPE=RelWithDebInfo "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -g1")

run_build() {  # name, cmake args...
  local name=$1; shift
  echo "--- courier: $name build"
  # Tests on explicitly: scripts/demo.sh configures build/release without them.
  cmake -S . -B "build/$name" -DCOURIER_WERROR=ON -DCOURIER_BUILD_TESTS=ON "${launcher[@]}" "$@" \
    >/dev/null
  cmake --build "build/$name" -j"$jobs"
  (cd "build/$name" && ctest --output-on-failure -j"$jobs" --timeout 900)
}

for step in "${steps[@]}"; do
  case "$step" in
    format)
      echo "--- courier: format check"
      git ls-files -- '*.h' '*.cc' '*.cpp' | xargs clang-format --dry-run --Werror
      ;;
    release) run_build release -DCMAKE_BUILD_TYPE=Release -DCOURIER_BUILD_BENCHMARKS=ON ;;
    asan) ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
            run_build asan "${sanitized[@]}" -DCOURIER_SANITIZE=address,undefined ;;
    tsan) TSAN_OPTIONS=halt_on_error=1 \
            run_build tsan "${sanitized[@]}" -DCOURIER_SANITIZE=thread ;;
    *) echo "unknown step $step" >&2; exit 2 ;;
  esac
done
echo "courier: all test steps passed (${steps[*]})"
