#!/usr/bin/env bash
# The main job: builds mqbroker and runs it in the foreground with an embedded name server,
# on a store in ./data, the way a RocketMQ user starts a single broker:
#   clients connect to the name server at 127.0.0.1:9876; the broker listens on 10911.
# Ctrl-C (SIGINT) or SIGTERM stop it gracefully (in-flight requests finish, consumer offsets
# are persisted, the store is flushed and closed cleanly). Run it again and it reopens the
# same store. Extra arguments go to mqbroker (see `mqbroker --help`), e.g.
#   bash scripts/run.sh -c broker.conf        RocketMQ broker.conf keys
#   bash scripts/run.sh -n host:9876          register with external name servers instead
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/install-deps.sh

BUILD_DIR="${BUILD_DIR:-build/release}"
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release -DMQ_BUILD_TESTS=OFF \
      -DMQ_BUILD_BENCHMARKS=OFF >/dev/null
cmake --build "$BUILD_DIR" --parallel "$(nproc)" --target mqbroker mqnamesrv mqdump

exec "$BUILD_DIR/broker-shell/mqbroker" "$@"
