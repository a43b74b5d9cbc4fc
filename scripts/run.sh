#!/usr/bin/env bash
# The main job. Until the broker lands (issue 5) this runs the embedded demo: it opens the
# store in STORE_DIR (default: ./store), appends messages with SYNC_FLUSH, reads them back
# through their queue, verifies every record's checksums, closes the store, and then runs
# `mqdump verify` and `mqdump stats` on it. Run it again and it appends more to the same store.
#   STORE_DIR  store directory (default: ./store)
#   COUNT      messages to append (default: 100000)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/install-deps.sh

BUILD_DIR="${BUILD_DIR:-build/release}"
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release -DMQ_BUILD_TESTS=OFF \
      -DMQ_BUILD_BENCHMARKS=OFF >/dev/null
cmake --build "$BUILD_DIR" --parallel "$(nproc)"

STORE_DIR="${STORE_DIR:-./store}"
"$BUILD_DIR/examples/mqstore_demo" "$STORE_DIR" "${COUNT:-100000}"
if [ -x "$BUILD_DIR/tools/mqdump/mqdump" ]; then
  "$BUILD_DIR/tools/mqdump/mqdump" verify "$STORE_DIR"
  "$BUILD_DIR/tools/mqdump/mqdump" stats "$STORE_DIR"
fi
