#!/usr/bin/env bash
# Configures and builds HeadScope into build/ (or $HEADSCOPE_BUILD_DIR). Extra arguments go to cmake.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${HEADSCOPE_BUILD_DIR:-$root/build}
jobs=${HEADSCOPE_JOBS:-$(nproc)}
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
cmake --build "$build" -j "$jobs"
