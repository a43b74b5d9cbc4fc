#!/usr/bin/env bash
# Starts mqbroker with an embedded name server for a benchmark run, in the foreground (exec,
# so the caller's PID is the broker's and it can be stopped by PID).
#
#   mq_broker.sh PORT DIR MODE [KEY=VALUE ...]
#     PORT  the embedded name server's port (the broker listens on an ephemeral port)
#     DIR   a fresh store directory (the config file is written next to the store)
#     MODE  async | sync  -> flushDiskType ASYNC_FLUSH | SYNC_FLUSH
#     KEY=VALUE  extra broker.conf lines, e.g. sendMessageThreadPoolNums=2
#
# The form ../shared/peers/mq.sh templates (see bench/README.md):
#   MQ_BROKER_CMD='bench/broker/mq_broker.sh {port} {dir} {mode}'
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
[[ $# -ge 3 ]] || { echo "usage: mq_broker.sh PORT DIR async|sync [KEY=VALUE ...]" >&2; exit 2; }
port="$1" dir="$2" mode="$3"; shift 3
case "$mode" in
  async) flush=ASYNC_FLUSH ;;
  sync) flush=SYNC_FLUSH ;;
  *) echo "mq_broker.sh: mode must be async or sync, not '$mode'" >&2; exit 2 ;;
esac
broker="${MQBROKER:-$here/../../build/broker-shell/mqbroker}"
[[ -x "$broker" ]] || { echo "mq_broker.sh: no mqbroker at $broker (set MQBROKER)" >&2; exit 2; }
mkdir -p "$dir"
conf="$dir.broker.conf"
{
  echo "brokerClusterName=BenchCluster"
  echo "brokerName=bench-broker"
  echo "brokerIP1=127.0.0.1"
  echo "bindAddress=127.0.0.1"
  echo "listenPort=0"
  echo "haListenPort=0"
  echo "storePathRootDir=$dir"
  echo "flushDiskType=$flush"
  for kv in "$@"; do echo "$kv"; done
} > "$conf"
exec "$broker" -c "$conf" --embedded-namesrv-port "$port"
