#!/usr/bin/env bash
# Builds everything and runs the whole test suite. Installs what it needs first (apt-get, as
# root). Safe to run again: the build directory is reused incrementally.
#   BUILD_DIR   build directory (default: build/test)
#   CTEST_ARGS  extra arguments for ctest (e.g. "-R Crash")
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/install-deps.sh

BUILD_DIR="${BUILD_DIR:-build/test}"
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMQ_WERROR=ON \
      -DMQ_BUILD_TESTS=ON -DMQ_BUILD_BENCHMARKS=ON
cmake --build "$BUILD_DIR" --parallel "$(nproc)"

# ctest prints the closing "N% tests passed, N tests failed out of N" summary.
# shellcheck disable=SC2086
ctest --test-dir "$BUILD_DIR" --output-on-failure --parallel "$(nproc)" --timeout 900 ${CTEST_ARGS:-}
