#!/usr/bin/env bash
# MQ_EMBED_CMD for /work/shared/peers/embedded/embedded.sh: runs `mqbench embedded` with the
# peer arguments <dir> <n> <value_size> <batch> <sync 0|1> <max_secs>.
# The build copies this script next to the mqbench binary (<build>/bench/mqbench/); set
# MQBENCH to use another binary.
set -euo pipefail
MQBENCH="${MQBENCH:-$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/mqbench}"
exec "$MQBENCH" embedded "$@"
