#!/usr/bin/env bash
# The README's first command: installs the dependencies, builds athlete, and runs the whole
# pipeline on data/ with 2 MPI ranks into ./lake, then writes the HTML report ./report.html.
# Extra arguments go to `athlete run`.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
"$here/scripts/install-deps.sh"
"$here/scripts/build.sh" build
cd "$here"
"$here/scripts/mpirun.sh" -np 2 "$here/build/athlete" run --source data --lake lake "$@"
exec "$here/build/athlete" report --lake lake --out report.html
