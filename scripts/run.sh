#!/usr/bin/env bash
# The README's first command: installs what is missing, builds, and opens the workbench on the bundled
# sample model. Arguments go to `headscope` (e.g. `scripts/run.sh view run.h5`).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/install-deps.sh"
"$root/scripts/build.sh"
exec "${HEADSCOPE_BUILD_DIR:-$root/build}/headscope" "$@"
