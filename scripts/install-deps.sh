#!/usr/bin/env bash
# Installs everything the build, the tests and the benchmarks need from Debian's packages.
# Safe to run again: it skips apt-get entirely when every package is already installed.
set -euo pipefail

PACKAGES=(
  build-essential cmake ninja-build pkg-config git
  clang libclang-rt-14-dev            # sanitizer and fuzzer builds
  libisal-dev                         # PCLMUL-accelerated CRC32 (RocketMQ's body CRC)
  liblmdb-dev lmdb-utils libxxhash-dev libzstd-dev zlib1g-dev
  libcli11-dev libgtest-dev libgmock-dev libbenchmark-dev
  nlohmann-json3-dev libasio-dev libssl-dev
  libgoogle-perftools-dev             # tcmalloc for the servers and load tools (ADR 0021)
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: need root to install: ${missing[*]}" >&2
  exit 1
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
