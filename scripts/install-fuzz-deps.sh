#!/usr/bin/env bash
# Installs what the libFuzzer targets in fuzz/ need beyond scripts/install-deps.sh: clang, its runtime
# libraries (libFuzzer, ASan, UBSan: libclang-rt-14-dev) and llvm-symbolizer for readable reports.
# Usage: scripts/install-fuzz-deps.sh        (run as root, or with sudo available)
set -euo pipefail

packages=(clang libclang-rt-14-dev llvm)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-fuzz-deps: all ${#packages[@]} packages present"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "install-fuzz-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
