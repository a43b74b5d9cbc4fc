#!/usr/bin/env bash
# Runs every libFuzzer target (fuzz/*_fuzzer.cc) for SECONDS each, two at a time, and says
# which ones found a crash. Builds the fuzzers first when needed (clang, ASan + UBSan).
#   scripts/fuzz.sh [SECONDS]     default 60
#   BUILD_DIR   build directory (default: build/fuzz); reused when configured
# Each target runs on a fresh temporary corpus plus its read-only seeds in fuzz/corpus/<what>/
# (new inputs go to the temporary one, never into the repository). A crash, leak, timeout or
# out-of-memory input is kept in the temporary directory and printed with the command that
# reproduces it. Exits 1 when any target failed.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

SECONDS_PER_TARGET="${1:-60}"
BUILD_DIR="${BUILD_DIR:-build/fuzz}"
PARALLEL=2  # the CI machine has 2 cores

if [[ ! "$SECONDS_PER_TARGET" =~ ^[0-9]+$ ]] || (( SECONDS_PER_TARGET == 0 )); then
  echo "usage: $0 [SECONDS]   (a positive number of seconds per target)" >&2
  exit 2
fi

mapfile -t TARGETS < <(find fuzz -maxdepth 1 -name '*_fuzzer.cc' -printf '%f\n' | sed 's/\.cc$//' | sort)
if (( ${#TARGETS[@]} == 0 )); then
  echo "no fuzzers in fuzz/" >&2
  exit 2
fi

if [[ ! -f "$BUILD_DIR/build.ninja" ]]; then
  CC=clang CXX=clang++ cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DMQ_SANITIZE=address,undefined -DMQ_BUILD_FUZZERS=ON -DMQ_BUILD_TESTS=OFF \
    -DMQ_BUILD_BENCHMARKS=OFF
fi
cmake --build "$BUILD_DIR" --parallel "$PARALLEL" --target "${TARGETS[@]}"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/mqstore-fuzz.XXXXXX")"
echo "fuzzing ${#TARGETS[@]} targets for ${SECONDS_PER_TARGET}s each, $PARALLEL at a time; work dir $WORK"

run_target() {
  local name="$1" what="${1%_fuzzer}"
  local dir="$WORK/$what"
  mkdir -p "$dir/corpus" "$dir/artifacts"
  local corpora=("$dir/corpus")
  [[ -d "fuzz/corpus/$what" ]] && corpora+=("fuzz/corpus/$what")
  local status=0
  "$BUILD_DIR/fuzz/$name" -max_total_time="$SECONDS_PER_TARGET" -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="$dir/artifacts/" "${corpora[@]}" \
    >"$dir/log" 2>&1 || status=$?
  echo "$status" >"$dir/status"
}

for name in "${TARGETS[@]}"; do
  while (( $(jobs -rp | wc -l) >= PARALLEL )); do wait -n || true; done
  run_target "$name" &
done
wait

passed=0
failed=0
for name in "${TARGETS[@]}"; do
  what="${name%_fuzzer}"
  dir="$WORK/$what"
  status="$(cat "$dir/status" 2>/dev/null || echo 1)"
  execs="$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$dir/log" | grep -o '[0-9]*$' | tail -1)"
  mapfile -t artifacts < <(find "$dir/artifacts" -type f | sort)
  if [[ "$status" == 0 && ${#artifacts[@]} -eq 0 ]]; then
    printf '%-24s PASS  %12s executions  exit 0\n' "$name" "${execs:-?}"
    passed=$((passed + 1))
  else
    printf '%-24s FAIL  %12s executions  exit %s  log %s\n' "$name" "${execs:-?}" "$status" \
      "$dir/log"
    grep -m1 -E 'ERROR: (AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer|libFuzzer)|runtime error|\*\*\* fuzz check' \
      "$dir/log" | sed 's/^/    /' || true
    for a in "${artifacts[@]}"; do
      echo "    input: $a"
      echo "    reproduce: $BUILD_DIR/fuzz/$name $a"
    done
    failed=$((failed + 1))
  fi
done
if (( failed == 0 )); then rm -rf "$WORK"; fi
echo "$passed fuzzers passed, $failed failed"
(( failed == 0 ))
