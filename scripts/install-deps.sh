#!/usr/bin/env bash
# Installs everything the build, the tests and the benchmark need on Debian 12: idempotent,
# quiet when everything is already there. Run as root (or with sudo available).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)

packages=(
  build-essential cmake pkg-config clang-format
  libopenmpi-dev openmpi-bin                 # MPI
  libhdf5-openmpi-dev hdf5-tools             # parallel HDF5, h5dump
  libcsv-dev librdkafka-dev kcat              # CSV tokenising, Kafka
  libzstd-dev libsnappy-dev libcurl4-openssl-dev
  python3 python3-h5py python3-numpy         # test-only: an independent HDF5 reader
  python3-pil                                # test-only: reads the report test's screenshot
  slurm-wlm munge openssh-server openssh-client curl  # Slurm tests, Airflow-over-ssh tests
  time bc                                    # scripts/bench.sh
  valgrind clang libclang-rt-14-dev          # memcheck test, libFuzzer (scripts/fuzz.sh)
  chromium                                   # the report test renders the HTML page
)
sudo_cmd=()
[ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Node.js for DuckDB from npm: take Debian's only where no node/npm is installed already.
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)
if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}" >&2
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >/dev/null
fi

# DuckDB (and hyparquet) for the tests and the benchmark, pinned in tests/package.json.
if [ ! -d "$here/tests/node_modules/@duckdb/node-api" ] ||
  [ ! -d "$here/tests/node_modules/hyparquet-compressors" ]; then
  echo "install-deps: npm install in tests/" >&2
  (cd "$here/tests" && npm install --no-audit --no-fund --loglevel=error >/dev/null)
fi
