#!/usr/bin/env bash
# Configures and builds athlete into BUILD_DIR (default build/). Extra arguments go to cmake's
# configure step, e.g. scripts/build.sh build-asan -DATHLETE_SANITIZE=ON. Warnings are errors here
# (ATHLETE_WERROR=ON), as in CI; a plain cmake configure leaves them warnings.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
dir=${1:-build}
shift || true
case "$dir" in /*) ;; *) dir="$here/$dir" ;; esac
cmake -S "$here" -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DATHLETE_WERROR=ON "$@" >/dev/null
cmake --build "$dir" -j "$(nproc)"
