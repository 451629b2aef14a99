#!/usr/bin/env bash
# The Airflow DAG (jobs/airflow/athlete_pipeline.py) without Airflow: it compiles and imports
# with /usr/bin/python3; each SSHOperator's command, taken from the DAG module for this run's
# params, runs over a real ssh connection (a private sshd on a loopback port, keys made here)
# against the local Slurm in the DAG's order and gives the same gold bytes as mpirun, for the
# batch path and for the streaming one (ingest of a produced topic via kafka-mock); a task
# killed while its Slurm job runs (SIGTERM to the ssh client) leaves no job behind.
# labels: slurm mpi duckdb
# processors: 2
source "$(dirname "$0")/lib.sh"
source "$ATHLETE_SRC/tests/slurm/lib.sh"
source "$ATHLETE_SRC/tests/slurm/sshd.sh"

DAG=$ATHLETE_SRC/jobs/airflow/athlete_pipeline.py
PY=/usr/bin/python3

# 1. The DAG file compiles and imports where Airflow is not installed.
$PY -c 'import py_compile, sys; py_compile.compile(sys.argv[1], cfile=sys.argv[2], doraise=True)' \
  "$DAG" "$WORK/dag.pyc" || fail "the DAG does not compile with $PY"
if $PY -c 'import airflow' 2>/dev/null; then
  echo "note: Airflow is installed; the DAG is also loaded by Airflow below" >&2
else
  echo "note: Airflow is not installed (as expected here); the DAG module is imported without it" >&2
fi

# dag_py CODE: runs CODE with the DAG module imported as `dag_module`.
dag_py() {
  $PY -B - "$DAG" <<EOF
import importlib.util, json, sys
spec = importlib.util.spec_from_file_location("dag_module", sys.argv[1])
dag_module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(dag_module)
$(cat)
EOF
}

order=$(echo 'print(" ".join(t for t, _ in dag_module.TASKS))' | dag_py) || fail "DAG import failed"
[ "$order" = "ingest landing_to_bronze bronze_to_silver silver_to_gold" ] || fail "task order: $order"
if $PY -c 'import airflow' 2>/dev/null; then
  chain=$(echo 'd = dag_module.dag; print(" ".join(t.task_id for t in d.topological_sort()))' |
    dag_py) || fail "Airflow could not load the DAG"
  [ "$chain" = "$order" ] || fail "Airflow task order: $chain"
fi

[ -x "$ATHLETE_BIN" ] || fail "no athlete binary at $ATHLETE_BIN"
slurm_up
sshd_up
test_input "$WORK/src"
mpi 2 run --source "$WORK/src" --lake "$WORK/lake-mpirun" --quiet ||
  fail "mpirun -np 2 athlete run failed"

# commands BIN LAKE SOURCE [TOPIC]: writes the DAG's task commands for these params to
# $WORK/cmd.<task id> (with TOPIC, the ingest task lands it from $ATHLETE_BROKERS).
commands() {
  ATHLETE_TEST_BIN=$1 ATHLETE_TEST_LAKE=$2 ATHLETE_TEST_SOURCE=$3 ATHLETE_TEST_TOPIC=${4:-} dag_py <<'EOF'
import os
env = {"ATHLETE_BIN": os.environ["ATHLETE_TEST_BIN"], "SLURM_CONF": os.environ["SLURM_CONF"]}
for name in ("SOURCE_DATE_EPOCH", "LSAN_OPTIONS", "ASAN_OPTIONS", "UBSAN_OPTIONS"):
    if os.environ.get(name):
        env[name] = os.environ[name]
params = {
    "repo": os.environ["ATHLETE_SRC"],
    "source": os.environ["ATHLETE_TEST_SOURCE"],
    "lake": os.environ["ATHLETE_TEST_LAKE"],
    "ntasks": 2,
    "log_dir": os.environ["WORK"] + "/logs",
    "env": env,
    "topic": os.environ["ATHLETE_TEST_TOPIC"],
    "brokers": os.environ.get("ATHLETE_BROKERS", ""),
    "until_idle": 3,
}
for task_id, command in dag_module.task_commands(params):
    with open(os.environ["WORK"] + "/cmd." + task_id, "w") as f:
        f.write(command)
EOF
}
export WORK

# run_tasks: the tasks over ssh, in the DAG's order (without a topic the ingest task only says
# it is skipped).
run_tasks() {
  local task rc
  for task in $order; do
    rc=0
    remote "$(cat "$WORK/cmd.$task")" >"$WORK/$task.log" 2>&1 || rc=$?
    cat "$WORK/$task.log"
    [ "$rc" -eq 0 ] || fail "task $task exited $rc over ssh"
    if [ "$task" = ingest ] && [ -z "${1:-}" ]; then
      expect_grep "stage ingest skipped" "$WORK/$task.log"
      continue
    fi
    expect_grep "Slurm job [0-9]+, exit 0" "$WORK/$task.log"
    grep -Eo "Slurm job [0-9]+" "$WORK/$task.log" | grep -Eo "[0-9]+" >>"$JOB_IDS"
  done
}

# 2. The batch path, then the same gold as mpirun.
commands "$ATHLETE_BIN" "$WORK/lake-airflow" "$WORK/src" || fail "could not build the task commands"
run_tasks
gold_same "$WORK/lake-mpirun" "$WORK/lake-airflow"

# 2b. The streaming path: the ingest task lands a produced topic, landing_to_bronze lands
# athlete_bio alone; the same gold again, so the ingest job's two members drained the whole
# topic (see slurm_pipeline.sh).
slurm_kafka_mock --brokers 1 --topic results:2
mpi 2 produce --topic results --source "$WORK/src" --quiet || fail "produce"
commands "$ATHLETE_BIN" "$WORK/lake-stream" "$WORK/src" results || fail "no task commands"
grep -q -- "--tables athlete_bio" "$WORK/cmd.landing_to_bronze" || fail "landing_to_bronze lands both tables beside a topic"
run_tasks results
expect_grep "athlete ingest: done on 2 ranks" "$WORK/ingest.log"
gold_same "$WORK/lake-mpirun" "$WORK/lake-stream"

# 3. A failed job fails its task: a missing source makes the first task exit non-zero.
commands "$ATHLETE_BIN" "$WORK/lake-fail" "$WORK/no-such-source" || fail "no task commands"
rc=0
remote "$(cat "$WORK/cmd.landing_to_bronze")" >"$WORK/fail.log" 2>&1 || rc=$?
[ "$rc" -ne 0 ] || fail "a failing stage job gave exit 0 over ssh"
expect_grep "no-such-source" "$WORK/fail.log"
grep -Eo "Slurm job [0-9]+" "$WORK/fail.log" | grep -Eo "[0-9]+" >>"$JOB_IDS" || true

# 4. A killed task cancels its job. The job runs a stand-in binary that records its pid, says it
# has started and then blocks, so the kill always lands while the job is running.
cat >"$WORK/blocking-athlete" <<EOF
#!/bin/sh
echo \$\$ >>"$WORK/blocking.pids"
exec sleep 3600
EOF
chmod +x "$WORK/blocking-athlete"
: >"$WORK/blocking.pids"
commands "$WORK/blocking-athlete" "$WORK/lake-killed" "$WORK/src" || fail "could not build the task commands"
remote_bg "$(cat "$WORK/cmd.landing_to_bronze")" >"$WORK/killed.log" 2>&1
ssh_pid=$REMOTE_PID
for ((i = 0; i < 600; i++)); do
  [ "$(wc -l <"$WORK/blocking.pids")" -ge 2 ] && break
  kill -0 "$ssh_pid" 2>/dev/null || break
  sleep 0.2
done
[ "$(wc -l <"$WORK/blocking.pids")" -ge 2 ] || {
  cat "$WORK/killed.log" >&2
  fail "the job of the task to be killed never started its 2 tasks"
}
job=$(squeue -h -n athlete-landing-to-bronze -t R -o %i | head -n1)
[ -n "$job" ] || fail "no running athlete-landing-to-bronze job in squeue"
echo "$job" >>"$JOB_IDS"
kill -TERM "$ssh_pid"
wait "$ssh_pid" 2>/dev/null || true
for ((i = 0; i < 600; i++)); do
  [ -z "$(squeue -h -j "$job" -t PD,R,S,CG,CF 2>/dev/null)" ] && break
  sleep 0.2
done
no_jobs_left
state=$(scontrol show job "$job" 2>/dev/null | grep -Eo "JobState=[A-Z_]+" || true)
[ "$state" = "JobState=CANCELLED" ] || fail "job $job after the kill: ${state:-no record} (want CANCELLED)"
while read -r pid; do
  ! kill -0 "$pid" 2>/dev/null || fail "task process $pid of cancelled job $job still runs"
done <"$WORK/blocking.pids"
pass
