#!/usr/bin/env bash
# Install capexsim's build and test dependencies from Debian 12's packages.
set -euo pipefail
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends \
  g++ cmake ninja-build make pkg-config python3 clang-format strace \
  libeigen3-dev libboost-dev libtbb-dev librandom123-dev libtomlplusplus-dev \
  doctest-dev libbenchmark-dev libcli11-dev nlohmann-json3-dev pybind11-dev \
  python3-dev python3-numpy python3-pandas python3-matplotlib python3-pytest python3-tqdm \
  python3-tomli-w python3-nbclient python3-nbformat python3-ipykernel \
  python3-scipy python3-distributed python3-openpyxl chromium \
  >/dev/null
echo "capexsim: dependencies installed"
