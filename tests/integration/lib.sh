# Shared helpers for the integration tests (sourced, not run). CTest sets ATHLETE_BIN,
# ATHLETE_SRC and ATHLETE_BUILD; running a script by hand falls back to build/.
set -euo pipefail
ATHLETE_SRC=${ATHLETE_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
ATHLETE_BUILD=${ATHLETE_BUILD:-$ATHLETE_SRC/build}
ATHLETE_BIN=${ATHLETE_BIN:-$ATHLETE_BUILD/athlete}
export ATHLETE_SRC ATHLETE_BUILD ATHLETE_BIN
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$ATHLETE_SRC/tests/lsan.supp}
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
