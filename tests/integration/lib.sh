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

# ---- Kafka -----------------------------------------------------------------------------------

# kafka_mock [ARGS...]: starts `athlete kafka-mock` (a real broker process, the Kafka protocol
# over TCP) in the background with a control FIFO; exports ATHLETE_BROKERS, sets MOCK_PID,
# MOCK_CTL and MOCK_OUT (its stdout: the bootstrap line, then one answer per command). It is
# stopped (SIGTERM, exit 0 checked by mock_stop) when the test exits.
kafka_mock() {
  MOCK_CTL=$WORK/mock.ctl
  MOCK_OUT=$WORK/mock.out
  "$ATHLETE_BIN" kafka-mock --bootstrap-file "$WORK/bootstrap" --control "$MOCK_CTL" "$@" \
    >"$MOCK_OUT" 2>"$WORK/mock.err" </dev/null &
  MOCK_PID=$!
  trap 'kill "$MOCK_PID" 2>/dev/null || true; wait "$MOCK_PID" 2>/dev/null || true; rm -rf "$WORK"' EXIT
  for _ in $(seq 200); do
    [ -s "$WORK/bootstrap" ] && break
    kill -0 "$MOCK_PID" 2>/dev/null || fail "kafka-mock exited: $(cat "$WORK/mock.err")"
    sleep 0.05
  done
  [ -s "$WORK/bootstrap" ] || fail "kafka-mock wrote no bootstrap file"
  ATHLETE_BROKERS=$(cat "$WORK/bootstrap")
  export ATHLETE_BROKERS
}

# mock_cmd LINE: sends a control command to the mock and waits for its answer; fails unless
# the answer is "ok: ...".
mock_cmd() {
  local before line
  before=$(grep -c '' "$MOCK_OUT" || true)
  printf '%s\n' "$1" >"$MOCK_CTL"
  for _ in $(seq 200); do
    line=$(tail -n +"$((before + 1))" "$MOCK_OUT" | grep -m1 -E '^(ok|error): ' || true)
    if [ -n "$line" ]; then
      case $line in ok:*) return 0 ;; *) fail "mock: '$1': $line" ;; esac
    fi
    sleep 0.05
  done
  fail "mock: no answer to '$1'"
}

# mock_stop: SIGTERM; the mock must exit 0 and remove its bootstrap file.
mock_stop() {
  kill -TERM "$MOCK_PID"
  local rc=0
  wait "$MOCK_PID" || rc=$?
  [ "$rc" = 0 ] || fail "kafka-mock exited $rc after SIGTERM"
  [ ! -e "$WORK/bootstrap" ] || fail "kafka-mock left its bootstrap file"
}

# expect_reject GLOB TOPIC OFFSET REASON-REGEX: the reject of TOPIC partition 0 at OFFSET in
# the Parquet files GLOB (read by DuckDB) has a reason matching REASON-REGEX.
expect_reject() {
  local line
  line=$(duck "SELECT topic || ' ' || \"partition\" || ' ' || \"offset\" || ': ' || reason FROM read_parquet('$1') WHERE \"offset\" = $3")
  printf '%s\n' "$line" | grep -Eq "^$2 0 $3: $4" || fail "reject at offset $3: '$line', want /$4/"
}

# consume TOPIC OUT: every committed message of TOPIC, read by kcat (the independent client)
# as JSON lines (key, payload, partition, offset, headers).
consume() {
  kcat -b "$ATHLETE_BROKERS" -X isolation.level=read_committed -C -t "$1" -J -e -q >"$2" ||
    fail "kcat -C $1 failed"
}

# check_messages KCAT.json CSV PARTITIONS [BRONZE_GLOB]: the messages of one produce run are
# the CSV's bronze rows, exactly once (tests/integration/kafka_check.py: headers, keys,
# murmur2 partitions, the record at each athlete.offset; then DuckDB: the values equal the
# bronze Parquet rows as multisets).
check_messages() {
  /usr/bin/python3 "$ATHLETE_SRC/tests/integration/kafka_check.py" "$1" "$2" "$3" ||
    fail "messages in $1 do not match $2"
  [ -n "${4:-}" ] || return 0
  local cols
  cols=$(duck "SELECT string_agg(column_name, ',') FROM (DESCRIBE SELECT * FROM read_parquet('$4'))" |
    tr ',' ' ')
  local sel="" c
  for c in $cols; do sel="$sel${sel:+, }payload::JSON->>'$c' AS \"$c\""; done
  local qm="SELECT $sel FROM read_json('$1', columns={payload: 'VARCHAR'}, format='newline_delimited')"
  local qb="SELECT ${cols// /, } FROM read_parquet('$4')"
  local diff
  diff=$(duck "SELECT (SELECT count(*) FROM ($qm EXCEPT ALL $qb)), (SELECT count(*) FROM ($qb EXCEPT ALL $qm)), (SELECT count(*) FROM ($qm)), (SELECT count(*) FROM ($qb))")
  set -- $diff
  [ "$1" = 0 ] && [ "$2" = 0 ] && [ "$3" = "$4" ] ||
    fail "messages vs bronze: $1 only in messages, $2 only in bronze, $3 messages, $4 bronze rows"
}

# check_stream_log TABLE_DIR KCAT.json TOPIC WHAT: the stream table's commit log and files agree
# with the offsets kcat read from TOPIC (tests/integration/stream_check.py).
check_stream_log() {
  /usr/bin/python3 "$ATHLETE_SRC/tests/integration/stream_check.py" "$1" "$2" "$3" ||
    fail "$4: stream table vs topic $3"
}

# check_stream_rows TABLE_DIR REF_GLOB ROWS WHAT: the stream table's bronze columns equal the
# reference bronze Parquet rows (as multisets, DuckDB), it has ROWS rows, and every row
# identity (_source, _source_offset) is there once.
check_stream_rows() {
  local cols q1 q2 d
  cols=$(duck "SELECT string_agg('\"' || column_name || '\"', ',') FROM (DESCRIBE SELECT * FROM read_parquet('$2'))")
  q1="SELECT $cols FROM read_parquet('$1/*.parquet')"
  q2="SELECT $cols FROM read_parquet('$2')"
  d=$(duck "SELECT (SELECT count(*) FROM ($q1 EXCEPT ALL $q2)), (SELECT count(*) FROM ($q2 EXCEPT ALL $q1)), (SELECT count(*) FROM read_parquet('$1/*.parquet')), (SELECT count(DISTINCT (_source, _source_offset)) FROM read_parquet('$1/*.parquet'))")
  [ "$d" = "0	0	$3	$3" ] ||
    fail "$4: stream vs bronze (only stream, only bronze, rows, identities): $d"
}
