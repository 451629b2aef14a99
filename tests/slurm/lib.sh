# shellcheck shell=bash
# Helpers for the Slurm and Airflow integration tests (sourced after tests/integration/lib.sh).
#
# slurm_up        serialises the Slurm tests (a lock held until the test exits), starts the local
#                 Slurm (scripts/slurm-local.sh) when it is not running and stops it again at exit
#                 if this test started it; cancels every job the test submitted at exit.
# submit ARGS...  sbatch --wait --parsable ARGS, remembering the job id; returns sbatch's status.
# test_input DIR  fills DIR with the two landing CSVs: data/ when it has them, else `athlete gen`.
# gold_same A B   fails unless lakes A and B hold byte-identical, non-empty gold (Parquet + HDF5).
# no_jobs_left    fails unless none of the test's jobs is still queued or running.

SLURM_LOCK=${ATHLETE_SLURM_LOCK:-/tmp/athlete-slurm-tests.lock}
SLURM_STARTED=0
JOB_IDS=$WORK/job-ids
: >"$JOB_IDS"

slurm_cleanup() {
  local ids
  ids=$(cut -d';' -f1 "$JOB_IDS" 2>/dev/null | tr '\n' ' ')
  [ -n "${ids// /}" ] && scancel $ids 2>/dev/null
  [ "$SLURM_STARTED" = 1 ] && "$ATHLETE_SRC/scripts/slurm-local.sh" stop 2>/dev/null
  return 0
}

# Runs the cleanup functions registered by the test (newest first), then removes $WORK.
CLEANUPS=(slurm_cleanup)
run_cleanups() {
  local i
  for ((i = ${#CLEANUPS[@]} - 1; i >= 0; i--)); do "${CLEANUPS[$i]}" || true; done
  rm -rf "$WORK"
}
trap run_cleanups EXIT
trap 'exit 143' TERM
trap 'exit 130' INT

slurm_up() {
  exec 8>"$SLURM_LOCK"
  flock -w 1800 8 || fail "could not lock $SLURM_LOCK (another Slurm test is stuck?)"
  eval "$("$ATHLETE_SRC/scripts/slurm-local.sh" env)"
  if ! "$ATHLETE_SRC/scripts/slurm-local.sh" status >/dev/null 2>&1; then
    SLURM_STARTED=1
    "$ATHLETE_SRC/scripts/slurm-local.sh" start || fail "local Slurm did not start"
  fi
  sinfo -h >/dev/null || fail "sinfo cannot reach the local Slurm"
}

submit() {
  local out=$WORK/submit.out rc=0
  sbatch --wait --parsable "$@" >"$out" || rc=$?
  cat "$out" >>"$JOB_IDS"
  [ -s "$out" ] || fail "sbatch printed no job id: sbatch $*"
  return $rc
}

test_input() {
  mkdir -p "$1"
  if [ -s "$ATHLETE_SRC/data/athlete_bio.csv" ] && [ -s "$ATHLETE_SRC/data/athlete_event_results.csv" ]; then
    cp "$ATHLETE_SRC/data/athlete_bio.csv" "$ATHLETE_SRC/data/athlete_event_results.csv" "$1/"
  else
    echo "note: data/ has no sample CSVs; generating input with athlete gen" >&2
    "$ATHLETE_BIN" gen --scale "${ATHLETE_SLURM_TEST_SCALE:-0.01}" --seed 7 --out "$1" ||
      fail "athlete gen failed"
  fi
}

gold_same() {
  local g=gold/avg_stats f rows
  for f in part-00000.parquet avg_stats.h5; do
    [ -s "$1/$g/$f" ] || fail "missing gold file $1/$g/$f"
    [ -s "$2/$g/$f" ] || fail "missing gold file $2/$g/$f"
    same_file "$1/$g/$f" "$2/$g/$f"
  done
  rows=$(duck "SELECT count(*) FROM read_parquet('$1/$g/part-00000.parquet')")
  [ "${rows%.*}" -gt 0 ] 2>/dev/null || fail "gold in $1 is empty or unreadable by DuckDB ($rows)"
}

no_jobs_left() {
  local id left
  for id in $(cut -d';' -f1 "$JOB_IDS"); do
    left=$(squeue -h -j "$id" -t PD,R,S,CG,CF 2>/dev/null || true)
    [ -z "$left" ] || fail "job $id still queued or running: $left"
  done
}

# slurm_kafka_mock ARGS...: kafka_mock (tests/integration/lib.sh) with the mock's stop as one of
# this test's cleanups (kafka_mock's own EXIT trap would replace run_cleanups).
mock_cleanup() {
  kill "$MOCK_PID" 2>/dev/null
  wait "$MOCK_PID" 2>/dev/null
  return 0
}
slurm_kafka_mock() {
  kafka_mock "$@"
  CLEANUPS+=(mock_cleanup)
  trap run_cleanups EXIT
}
