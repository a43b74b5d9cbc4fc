#!/usr/bin/env bash
# Builds everything and runs the whole test suite, then the same tests built with clang's
# AddressSanitizer + UndefinedBehaviorSanitizer, then every libFuzzer target. Installs what
# it needs first (apt-get, as root). Safe to run again: build directories are reused.
#   BUILD_DIR          main build directory (default: build/test)
#   SANITIZE_BUILD_DIR sanitizer + fuzzer build directory (default: build/sanitize)
#   CTEST_ARGS         extra arguments for both ctest runs (e.g. "-R Crash")
#   MQ_SANITIZERS=0    skip the sanitizer build and tests
#   MQ_FUZZ_SECONDS    seconds per fuzz target (default 45; 0 skips fuzzing)
#   MQ_CRASH_SEEDS     seeds per randomized crash test (default 1000 here, 100 under ASan)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/install-deps.sh

BUILD_DIR="${BUILD_DIR:-build/test}"
SANITIZE_BUILD_DIR="${SANITIZE_BUILD_DIR:-build/sanitize}"
# The real-client tests (tests/interop) run the npm package ali-ons against the servers.
BUILD_DIR="$BUILD_DIR" bash scripts/install-interop-deps.sh
FUZZ_SECONDS="${MQ_FUZZ_SECONDS:-45}"
status=0
summary=()
# Names and last lines of output of the tests that failed in a ctest run, for the summary:
# CI shows only the end of the log, and the summary is what it ends with.
failed_tests_report() {
  local build_dir="$1" stage="$2"
  local names
  names=$(sed -n '/The following tests FAILED:/,/^$/p' "$build_dir/ctest.log" | grep -E '^[[:space:]]+[0-9]+ - ' || true)
  [ -n "$names" ] || return 0
  failures+=("---- $stage: failed tests ----" "$names")
  local name
  while read -r name; do
    failures+=("---- $stage: last lines of $name ----")
    failures+=("$(awk -v t="$name" '
        $0 ~ /^[0-9]+\/[0-9]+ Testing: / { keep = ($3 == t); if (keep) n = 0 }
        keep { buf[n++ % 40] = $0 }
        END { for (i = (n > 40 ? n - 40 : 0); i < n; i++) print buf[i % 40] }' \
        "$build_dir/Testing/Temporary/LastTest.log")")
  done < <(printf '%s\n' "$names" | sed -E 's/^[[:space:]]+[0-9]+ - ([^ ]+).*/\1/' | head -5)
}
failures=()

# ---- 1. The main build (gcc, warnings as errors) and every test. ----
# No debug info: it is a large part of compile and link time, and failures here are read
# from test output (the sanitizer stage keeps line tables for its stack traces). The test
# files themselves at -O1 (the code under test at -O2): GoogleTest's macros make them the
# slowest files to optimize, and their speed does not matter.
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMQ_WERROR=ON \
      -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O2 -DNDEBUG" -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O2 -DNDEBUG" \
      -DMQ_TEST_OPTIMIZE=-O1 -DMQ_BUILD_TESTS=ON -DMQ_BUILD_BENCHMARKS=ON
cmake --build "$BUILD_DIR" --parallel "$(nproc)"
# 2 x 1000 randomized crash seeds (CrashRecoveryTest) plus the schedule crash seeds.
# shellcheck disable=SC2086
if MQ_CRASH_SEEDS="${MQ_CRASH_SEEDS:-1000}" ctest --test-dir "$BUILD_DIR" --output-on-failure \
     --parallel "$(nproc)" --timeout 900 ${CTEST_ARGS:-} | tee "$BUILD_DIR/ctest.log"; then
  :
else
  status=1
fi
summary+=("tests:            $(grep -E 'tests passed|tests failed' "$BUILD_DIR/ctest.log" | tail -1)")
failed_tests_report "$BUILD_DIR" "gcc"

# ---- 2. ASan + UBSan (clang): the same tests, then the fuzz targets. ----
if [ "${MQ_SANITIZERS:-1}" != "0" ]; then
  CC=clang CXX=clang++ cmake -S . -B "$SANITIZE_BUILD_DIR" -G Ninja \
        -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMQ_WERROR=ON -DMQ_SANITIZE=address,undefined \
        -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O2 -gline-tables-only -DNDEBUG" \
        -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O2 -gline-tables-only -DNDEBUG" \
        -DMQ_TEST_OPTIMIZE= -DMQ_BUILD_FUZZERS=ON -DMQ_BUILD_TESTS=ON -DMQ_BUILD_BENCHMARKS=ON \
        -DMQ_INTEROP_NODE_MODULES="$PWD/$BUILD_DIR/interop/node_modules"
  cmake --build "$SANITIZE_BUILD_DIR" --parallel "$(nproc)"
  export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:strict_string_checks=1"
  export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
  # Fewer crash seeds: the sanitizers look for memory errors, not rarer crash points.
  # shellcheck disable=SC2086
  if MQ_CRASH_SEEDS="${MQ_SANITIZE_CRASH_SEEDS:-100}" ctest --test-dir "$SANITIZE_BUILD_DIR" \
       --output-on-failure --parallel "$(nproc)" --timeout 1800 ${CTEST_ARGS:-} \
       | tee "$SANITIZE_BUILD_DIR/ctest.log"; then
    :
  else
    status=1
  fi
  summary+=("ASan+UBSan tests: $(grep -E 'tests passed|tests failed' "$SANITIZE_BUILD_DIR/ctest.log" | tail -1)")
  failed_tests_report "$SANITIZE_BUILD_DIR" "ASan+UBSan"
  if [ "$FUZZ_SECONDS" != "0" ]; then
    if BUILD_DIR="$SANITIZE_BUILD_DIR" bash scripts/fuzz.sh "$FUZZ_SECONDS" \
         | tee "$SANITIZE_BUILD_DIR/fuzz.log"; then
      :
    else
      status=1
    fi
    summary+=("fuzzing:          $(grep -E 'fuzzers passed' "$SANITIZE_BUILD_DIR/fuzz.log" | tail -1)")
  fi
fi

echo
if [ "${#failures[@]}" -gt 0 ]; then
  printf '%s\n' "${failures[@]}"
  echo
fi
echo "==== summary ===="
printf '%s\n' "${summary[@]}"
exit "$status"
