#!/usr/bin/env bash
# labels: valgrind nosan
# processors: 1
# valgrind memcheck is clean on the whole pipeline over data/ at -np 1 (a singleton MPI
# process; the HDF5 files' creator children are checked too): no invalid read or write, no use
# of uninitialised memory, no bad free. A new error fails the test (--error-exitcode). Leaks
# are LeakSanitizer's job (the ASan build), so memcheck's leak check is off. The sanitizer
# build cannot run under valgrind: label nosan.
source "$(dirname "$0")/lib.sh"
command -v valgrind >/dev/null || fail "valgrind is not installed (scripts/install-deps.sh)"
rc=0
valgrind --error-exitcode=99 --leak-check=no --trace-children=no \
  --suppressions="$ATHLETE_SRC/tests/valgrind.supp" "$ATHLETE_BIN" run --source "$ATHLETE_SRC/data" \
  --lake "$WORK/lake" --quiet >"$WORK/vg.out" 2>"$WORK/vg.err" || rc=$?
if [ "$rc" != 0 ]; then
  grep -E '^==' "$WORK/vg.err" | head -60 >&2
  fail "memcheck found errors (exit $rc)"
fi
[ -f "$WORK/lake/gold/avg_stats/_SUCCESS" ] || fail "the run under valgrind did not commit gold"
pass
