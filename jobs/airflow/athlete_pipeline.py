"""Airflow 2.x (2.4+) DAG: the athlete pipeline on a Slurm cluster, one SSH task per stage.

ingest >> landing_to_bronze >> bronze_to_silver >> silver_to_gold, each an SSHOperator that
runs `sbatch --wait --parsable jobs/stage.sbatch STAGE ...` on the cluster's login node. The
ingest task is the streaming path and optional: with the param topic empty (the default) it
only says it is skipped; with a topic it lands the topic in the stream table
bronze/athlete_event_results (athlete ingest --until-idle, consumer group `group`, brokers
`brokers` or $ATHLETE_BROKERS from env), and landing_to_bronze then lands athlete_bio alone.

* a failed job fails its task (sbatch --wait exits with the job's exit code; the job's output
  file is printed into the task log either way);
* a task that Airflow kills or times out cancels its Slurm job: the operator asks for a
  pseudo-terminal (get_pty=True), so closing the SSH session hangs up the remote shell, whose
  trap runs `scancel` on the id that `sbatch --parsable` printed;
* retries: 2, five minutes apart (a stage rewrites its table atomically, so a retry is safe).

Params (Trigger DAG w/ config): repo (the repository checkout on the cluster, holding jobs/ and
build/athlete unless ATHLETE_BIN is set in env), source, lake, ntasks, log_dir (job output
files; default REPO/slurm-logs), sbatch_args (a list such as ["--partition=cpu",
"--account=x"]), topic, group, brokers and until_idle (the ingest task, above) and env
(variables exported before sbatch, e.g. {"ATHLETE_BIN": "/opt/bin/
athlete"}; the job inherits them). ssh_conn_id is shown as a param too but SSHOperator does not
template it: it is read when the DAG file is parsed, from the environment variable
ATHLETE_SSH_CONN_ID (default "athlete_slurm").

This file must also load WITHOUT Airflow (`python3 -m py_compile`, and the tests import it to
get the exact commands): everything Airflow-only sits behind the guarded import at the bottom,
and the commands come from the plain function stage_command(stage, params), which the DAG
calls at run time through a user-defined Jinja macro, so the test and Airflow run the same text.
"""

from __future__ import annotations

import os
import shlex
from datetime import datetime, timedelta

# (task id, athlete stage) in the seed's order.
TASKS = (
    ("ingest", "ingest"),
    ("landing_to_bronze", "landing-to-bronze"),
    ("bronze_to_silver", "bronze-to-silver"),
    ("silver_to_gold", "silver-to-gold"),
)

DEFAULT_PARAMS = {
    "ssh_conn_id": os.environ.get("ATHLETE_SSH_CONN_ID", "athlete_slurm"),
    "repo": "/opt/athlete",
    "source": "/data/olympics",
    "lake": "/scratch/athlete/lake",
    "ntasks": 4,
    "log_dir": "",
    "sbatch_args": [],
    "env": {},
    "topic": "",
    "group": "athlete-lake",
    "brokers": "",
    "until_idle": 60,
}

# The remote script, run by `sh -c`. The sbatch child ignores HUP/INT/TERM so that it lives
# long enough to print the job id; the shell's trap waits for that id, cancels the job and
# lets sbatch --wait see the cancellation. Exit status: sbatch's (the job's), 129..143 when
# the task was killed.
_SCRIPT = "; ".join(
    [
        "set -u",
        'cd "$ATHLETE_REPO" || exit 1',
        'mkdir -p "$ATHLETE_LOGS" || exit 1',
        'idf=$(mktemp "${TMPDIR:-/tmp}/athlete-sbatch.XXXXXX") || exit 1',
        "pid=",
        "cancel() { i=0"
        + '; while [ ! -s "$idf" ] && [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null'
        + " && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done"
        + "; id=$(cut -d';' -f1 \"$idf\")"
        + '; [ -n "$id" ] && scancel "$id" 2>/dev/null'
        + '; [ -n "$pid" ] && wait "$pid"'
        + '; rm -f "$idf"; exit "$1"; }',
        "trap 'cancel 129' HUP",
        "trap 'cancel 130' INT",
        "trap 'cancel 143' TERM",
        '(trap "" HUP INT TERM; exec sbatch --wait --parsable "$@" >"$idf") & pid=$!',
        'wait "$pid"',
        "rc=$?",
        "id=$(cut -d';' -f1 \"$idf\")",
        'rm -f "$idf"',
        '[ -n "$id" ] && cat "$ATHLETE_LOGS/athlete-$ATHLETE_STAGE-$id.out" 2>/dev/null',
        'echo "athlete: stage $ATHLETE_STAGE, Slurm job ${id:-none}, exit $rc"',
        "exit $rc",
    ]
)


def _merged(params):
    """Returns DEFAULT_PARAMS overlaid with params (a dict or Airflow's ParamsDict)."""
    merged = dict(DEFAULT_PARAMS)
    for key in DEFAULT_PARAMS:
        if key in params and params[key] is not None:
            merged[key] = params[key]
    return merged


def stage_command(stage, params):
    """Returns the shell command (one line, any POSIX login shell) that submits STAGE.

    stage is an athlete stage name (see TASKS); params as in DEFAULT_PARAMS, missing keys take
    the defaults. Every value is shell-quoted, so paths with spaces or quotes are safe.
    """
    if stage not in dict((s, t) for t, s in TASKS):
        raise ValueError("unknown stage %r" % (stage,))
    p = _merged(params)
    topic = str(p["topic"])
    if stage == "ingest" and not topic:
        return "echo 'athlete: stage ingest skipped (no topic param)'"
    repo = str(p["repo"])
    logs = str(p["log_dir"]) or repo.rstrip("/") + "/slurm-logs"
    env = dict(p["env"])
    env.update(ATHLETE_REPO=repo, ATHLETE_LOGS=logs, ATHLETE_STAGE=stage)
    sbatch = [
        "--job-name=athlete-" + stage,
        "--ntasks=%d" % int(p["ntasks"]),
        "--output=" + logs.rstrip("/") + "/%x-%j.out",
    ]
    sbatch += [str(a) for a in p["sbatch_args"]]
    stage_args = ["--lake", str(p["lake"])]
    if stage == "landing-to-bronze":
        stage_args = ["--source", str(p["source"])] + stage_args
        if topic:  # athlete_event_results comes from the topic
            stage_args += ["--tables", "athlete_bio"]
    if stage == "ingest":
        stage_args += ["--topic", topic, "--group", str(p["group"])]
        stage_args += ["--until-idle", str(p["until_idle"])]
        if p["brokers"]:
            stage_args += ["--brokers", str(p["brokers"])]
    argv = sbatch + ["jobs/stage.sbatch", stage] + stage_args
    exports = " ".join("%s=%s" % (k, shlex.quote(str(v))) for k, v in sorted(env.items()))
    return "env %s sh -c %s athlete-%s %s" % (
        exports,
        shlex.quote(_SCRIPT),
        stage,
        " ".join(shlex.quote(a) for a in argv),
    )


def task_commands(params):
    """Returns [(task_id, command)] in the DAG's order, as the DAG renders them for params."""
    return [(task_id, stage_command(stage, params)) for task_id, stage in TASKS]


try:  # Airflow-only from here on; without Airflow the module still loads (see the docstring).
    from airflow import DAG
    from airflow.models.param import Param
    from airflow.providers.ssh.operators.ssh import SSHOperator
except ImportError:
    DAG = None

if DAG is not None:
    with DAG(
        dag_id="athlete_pipeline",
        description="athlete medallion pipeline: one Slurm job per stage, submitted over SSH",
        start_date=datetime(2024, 1, 1),
        schedule=None,
        catchup=False,
        max_active_runs=1,
        default_args={"retries": 2, "retry_delay": timedelta(minutes=5)},
        params={
            "ssh_conn_id": Param(DEFAULT_PARAMS["ssh_conn_id"], type="string"),
            "repo": Param(DEFAULT_PARAMS["repo"], type="string"),
            "source": Param(DEFAULT_PARAMS["source"], type="string"),
            "lake": Param(DEFAULT_PARAMS["lake"], type="string"),
            "ntasks": Param(DEFAULT_PARAMS["ntasks"], type="integer", minimum=1),
            "log_dir": Param(DEFAULT_PARAMS["log_dir"], type="string"),
            "sbatch_args": Param(DEFAULT_PARAMS["sbatch_args"], type="array"),
            "env": Param(DEFAULT_PARAMS["env"], type="object"),
            "topic": Param(DEFAULT_PARAMS["topic"], type="string"),
            "group": Param(DEFAULT_PARAMS["group"], type="string"),
            "brokers": Param(DEFAULT_PARAMS["brokers"], type="string"),
            "until_idle": Param(DEFAULT_PARAMS["until_idle"], type="number", minimum=1),
        },
        user_defined_macros={"athlete_stage_command": stage_command},
        tags=["athlete", "slurm"],
    ) as dag:
        previous = None
        for task_id, stage in TASKS:
            task = SSHOperator(
                task_id=task_id,
                ssh_conn_id=DEFAULT_PARAMS["ssh_conn_id"],
                command="{{ athlete_stage_command(%r, params) }}" % stage,
                get_pty=True,
                cmd_timeout=None,
                execution_timeout=timedelta(hours=12),
                do_xcom_push=False,
            )
            if previous is not None:
                previous >> task
            previous = task
