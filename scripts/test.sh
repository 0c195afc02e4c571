#!/usr/bin/env bash
# The README's test command: installs what is missing, builds, and runs the whole suite.
# Pass ctest arguments to pick, e.g. `scripts/test.sh -L unit`.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/install-deps.sh"
"$root/scripts/build.sh"
cd "${HEADSCOPE_BUILD_DIR:-$root/build}"
ctest --output-on-failure --timeout 1200 "$@"
