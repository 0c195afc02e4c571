#!/usr/bin/env bash
# Installs what the libFuzzer targets in fuzz/ need beyond scripts/install-deps.sh: clang, its runtime
# libraries (libFuzzer, ASan, UBSan: libclang-rt-14-dev) and llvm-symbolizer for readable reports.
# Usage: scripts/install-fuzz-deps.sh        (run as root, or with sudo available)
set -euo pipefail

packages=(clang libclang-rt-14-dev llvm)

. "$(dirname "$0")/apt-install.sh"
install_missing install-fuzz-deps "${packages[@]}"
