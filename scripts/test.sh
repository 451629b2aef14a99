#!/usr/bin/env bash
# The README's test command: installs dependencies, builds athlete twice (optimised, and with
# AddressSanitizer + UndefinedBehaviorSanitizer), runs every test through CTest in both, then
# each libFuzzer target for 15 s (scripts/fuzz.sh). The executable is also built as a user's
# plain `cmake -DCMAKE_BUILD_TYPE=Release` would (-O3), with warnings as errors, so that -O3's
# extra warnings are caught here rather than by a user.
# Extra arguments go to ctest (e.g. scripts/test.sh -L unit, scripts/test.sh -R bronze).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
"$here/scripts/install-deps.sh"
"$here/scripts/build.sh" build
"$here/scripts/build.sh" build-asan -DATHLETE_SANITIZE=ON
status=0
echo "== tests (optimised build) ==" >&2
(cd "$here/build" && ctest --output-on-failure -j "$(nproc)" "$@") || status=1
echo "== tests (ASan + UBSan build) ==" >&2
(cd "$here/build-asan" && ctest --output-on-failure -j "$(nproc)" -LE nosan "$@") || status=1
if [ $# -eq 0 ]; then # the whole suite: also the -O3 build and a short run of every fuzz target
  echo "== Release build (-O3, warnings as errors) ==" >&2
  { cmake -S "$here" -B "$here/build-release" -DCMAKE_BUILD_TYPE=Release -DATHLETE_WERROR=ON >/dev/null &&
    cmake --build "$here/build-release" -j "$(nproc)" --target athlete; } || status=1
  echo "== fuzzing (15 s per target) ==" >&2
  "$here/scripts/fuzz.sh" --seconds 15 || status=1
fi
exit $status
