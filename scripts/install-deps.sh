#!/usr/bin/env bash
# Installs every Debian package HeadScope needs to build, test and run; idempotent and non-interactive.
# Usage: scripts/install-deps.sh            (run as root, or with sudo available)
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config
  libhdf5-dev hdf5-tools zlib1g-dev nlohmann-json3-dev libcli11-dev libfmt-dev
  libgtest-dev libgmock-dev
  libtorch-dev libopenblas0-openmp libtcmalloc-minimal4 libsentencepiece-dev libprotobuf-dev libpcre2-dev libutf8proc-dev
  libimgui-dev libglfw3-dev libgl-dev libcairo2-dev libfreetype-dev libstb-dev fonts-dejavu-core
  xvfb xauth libgl1-mesa-dri time
  python3-h5py python3-numpy python3-torch python3-xarray python3-h5netcdf
  libopenmpi-dev openmpi-bin slurm-wlm munge
)

. "$(dirname "$0")/apt-install.sh"
install_missing install-deps "${packages[@]}"
