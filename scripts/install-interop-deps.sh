#!/usr/bin/env bash
# Installs what the interop tests (tests/interop) need: Node.js and npm from Debian's packages
# when `node` or `npm` is missing (needs root), then the pinned npm packages of
# tests/interop/package.json into ${BUILD_DIR:-build}/interop/node_modules, outside the
# committed files. Safe to run again: it skips npm when the pinned versions are installed.
#   BUILD_DIR  build directory whose interop/ folder receives node_modules (default: build)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

BUILD_DIR="${BUILD_DIR:-build}"
PACKAGE_JSON="tests/interop/package.json"
PREFIX="$BUILD_DIR/interop"

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "install-interop-deps: need root to install nodejs and npm" >&2
    exit 1
  fi
  echo "install-interop-deps: installing nodejs npm"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends nodejs npm
fi

# Every pinned dependency already installed at its exact version? Then there is nothing to do.
pinned_installed() {
  node - "$PACKAGE_JSON" "$PREFIX/node_modules" <<'JS'
const fs = require('fs');
const path = require('path');
const [pkgFile, modules] = process.argv.slice(2);
const deps = JSON.parse(fs.readFileSync(pkgFile, 'utf8')).dependencies || {};
for (const [name, version] of Object.entries(deps)) {
  try {
    const installed = JSON.parse(
        fs.readFileSync(path.join(modules, name, 'package.json'), 'utf8')).version;
    if (installed !== version) process.exit(1);
  } catch (e) {
    process.exit(1);
  }
}
JS
}

mkdir -p "$PREFIX"
if cmp -s "$PACKAGE_JSON" "$PREFIX/package.json" && pinned_installed; then
  exit 0
fi
cp "$PACKAGE_JSON" "$PREFIX/package.json"
echo "install-interop-deps: npm install into $PREFIX/node_modules"
npm install --prefix "$PREFIX" --no-audit --no-fund --no-save --loglevel=error
if ! pinned_installed; then
  echo "install-interop-deps: pinned packages of $PACKAGE_JSON not installed in $PREFIX" >&2
  exit 1
fi
