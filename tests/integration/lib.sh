# Shared helpers for the integration tests (sourced, not run). CTest sets ATHLETE_BIN,
# ATHLETE_SRC and ATHLETE_BUILD; running a script by hand falls back to build/.
set -euo pipefail
ATHLETE_SRC=${ATHLETE_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
ATHLETE_BUILD=${ATHLETE_BUILD:-$ATHLETE_SRC/build}
ATHLETE_BIN=${ATHLETE_BIN:-$ATHLETE_BUILD/athlete}
export ATHLETE_SRC ATHLETE_BUILD ATHLETE_BIN
# Sanitizer builds: every test checks memory errors. Leak checking needs full unwinding (the
# fast unwinder stops short of Open MPI's frames, so tests/lsan.supp would never match its
# process-lifetime allocations), which makes each MPI start several times slower; so the tests
# that cover the whole pipeline and its error paths (ATHLETE_LEAK_CHECK=1 before sourcing this
# file) check leaks, the others only memory errors. Unit tests always check leaks.
if [ "${ATHLETE_LEAK_CHECK:-0}" = 1 ]; then
  export LSAN_OPTIONS="suppressions=$ATHLETE_SRC/tests/lsan.supp:fast_unwind_on_malloc=0:print_suppressions=0"
  # intercept_tls_get_addr=0: stale dynamic-TLS ranges of unloaded MPI/HDF5 plugins otherwise
  # crash LeakSanitizer's tracer at exit.
  export ASAN_OPTIONS="fast_unwind_on_malloc=0:intercept_tls_get_addr=0"
else
  export LSAN_OPTIONS="suppressions=$ATHLETE_SRC/tests/lsan.supp:print_suppressions=0"
  export ASAN_OPTIONS="detect_leaks=0"
fi
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-1700000000}

WORK=$(mktemp -d /tmp/athlete-test.XXXXXX)
trap 'rm -rf "$WORK"' EXIT

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

# mpi NP ARGS...: runs the athlete binary on NP ranks.
mpi() {
  local np=$1
  shift
  "$ATHLETE_SRC/scripts/mpirun.sh" -np "$np" "$ATHLETE_BIN" "$@"
}

# duck SQL: runs SQL through DuckDB (tests/duck.mjs) and prints tab-separated rows.
duck() {
  node "$ATHLETE_SRC/tests/duck.mjs" "$@"
}

# expect_status CODE CMD...: runs CMD, fails unless it exits with CODE; its stderr is kept in
# $WORK/last.err for later greps.
expect_status() {
  local want=$1
  shift
  local got=0
  "$@" >"$WORK/last.out" 2>"$WORK/last.err" || got=$?
  if [ "$got" != "$want" ]; then
    cat "$WORK/last.err" >&2
    fail "expected exit $want, got $got: $*"
  fi
}

# expect_grep PATTERN FILE: fails unless FILE contains PATTERN (grep -E).
expect_grep() {
  grep -Eq -- "$1" "$2" || {
    cat "$2" >&2
    fail "expected /$1/ in $2"
  }
}

# same_file A B: fails unless A and B hold the same bytes.
same_file() {
  cmp -s "$1" "$2" || fail "$1 and $2 differ"
}

pass() {
  echo "1 passed, 0 failed"
}

# export_parquet GLOB OUT.csv [SELECT-LIST]: DuckDB writes the rows of the Parquet files as CSV
# (every field quoted, NULL as \N) for rows.py.
export_parquet() {
  local cols=${3:-*}
  duck "COPY (SELECT $cols FROM read_parquet('$1')) TO '$2' (HEADER, FORCE_QUOTE *, NULLSTR '\\N')" >/dev/null
}

# export_csv_source FILE OUT.csv: DuckDB's own reading of a landing CSV (all VARCHAR, its sniffer
# off), exported the same way: the independent reference for bronze.
export_csv_source() {
  local header
  IFS= read -r header <"$1" || true
  header=${header%$'\r'}
  header=${header#$'\xEF\xBB\xBF'}
  local cols="" c
  IFS=',' read -ra names <<<"$header"
  for c in "${names[@]}"; do cols="$cols${cols:+, }'$c': 'VARCHAR'"; done
  duck "COPY (SELECT * FROM read_csv('$1', header=true, auto_detect=false, columns={$cols},
        delim=',', quote='\"', escape='\"', strict_mode=true, ignore_errors=true,
        null_padding=false)) TO '$2' (HEADER, FORCE_QUOTE *, NULLSTR '\\N')" >/dev/null
}

# rows CMD ARGS...: tests/integration/rows.py through Debian's python (h5py lives there).
rows() {
  /usr/bin/python3 "$ATHLETE_SRC/tests/integration/rows.py" "$@"
}
