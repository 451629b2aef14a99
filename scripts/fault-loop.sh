#!/usr/bin/env bash
# The long I/O-fault campaign: tests/integration/io_faults.sh over every I/O call of the run
# (not a sample), at -np 1 and 2, each rank alone and all ranks. Takes about 20 minutes on 2
# cores. Needs the test build (scripts/build.sh build); BUILD=build-asan uses the sanitizer one.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD:-build}
export ATHLETE_BUILD="$here/$build" ATHLETE_BIN="$here/$build/athlete" IOFAULT_SAMPLES=all
exec bash "$here/tests/integration/io_faults.sh"
