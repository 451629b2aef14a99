#!/usr/bin/env bash
# labels: kafka mpi duckdb nosan
# processors: 2
# SPEC §10: a crash at any moment loses nothing and duplicates nothing.
#  1. kill -9 of `ingest` at random moments, INGEST_KILLS times (default 10; small batches, so
#     the kills land before renames, between a rename and its log entry, between the entry and
#     the group commit, and mid-batch); each restart uses a new consumer group, since the log,
#     not the group, holds the offsets.
#  2. A half-written last log entry (its files become orphans), an orphan batch file no entry
#     lists and a dead writer's temporary file: the next ingest repairs them.
#  3. Rebalance and a zombie, with slow fetches (broker rtt), Fetch and coordinator errors and
#     a broker down and up: member A runs, member B joins (rebalance), A is frozen (SIGSTOP)
#     past its session timeout so that B takes its partitions, then thawed (A is a zombie: its
#     next commit must be abandoned), then stopped with SIGTERM (commits, exits 0); B drains.
# After each part, the table holds every produced row exactly once (stream_check.py against
# kcat's offsets; DuckDB against bronze of the same CSV).
# (Not under the sanitizers: kafka_ingest and kafka_ingest_bad run the same code there, and
# this test is mostly waiting.)
source "$(dirname "$0")/lib.sh"

R=athlete_event_results
G=(-X session.timeout.ms=6000 -X heartbeat.interval.ms=500)
"$ATHLETE_BIN" gen --scale 0.02 --seed 13 --out "$WORK/src" --quiet
mpi 2 landing-to-bronze --source "$WORK/src" --lake "$WORK/ref" --formats parquet --quiet ||
  fail "landing-to-bronze"
bronze_rows=$(duck "SELECT count(*) FROM read_parquet('$WORK/ref/bronze/$R/*.parquet')")
kafka_mock --brokers 3 --topic k:4
expect_status 0 mpi 2 produce --topic k --source "$WORK/src" --quiet
consume k "$WORK/k.json"

check_table() { # LAKE WHAT: exactly once, against kcat and against bronze
  check_stream_log "$1/bronze/$R" "$WORK/k.json" k "$2"
  check_stream_rows "$1/bronze/$R" "$WORK/ref/bronze/$R/*.parquet" "$bronze_rows" "$2"
}

# 1. kill -9 at random moments.
L=$WORK/lake
kills=${INGEST_KILLS:-10}
for i in $(seq 1 "$kills"); do
  "$ATHLETE_BIN" ingest --topic k --group "kill$i" --lake "$L" --batch-rows 300 --batch-ms 50 \
    "${G[@]}" --quiet >"$WORK/kill$i.log" 2>&1 &
  pid=$!
  # The group join takes about 3 s; then the topic drains in about a second.
  sleep "$(/usr/bin/python3 -c 'import random; print(round(random.uniform(3.0, 4.5), 2))')"
  kill -9 "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
done
entries=$(find "$L/bronze/$R/_log" -name '*.json' | wc -l)
echo "after $kills kills: $entries log entries"
expect_status 0 "$ATHLETE_BIN" ingest --topic k --group final1 --lake "$L" --until-idle 3 "${G[@]}"
check_table "$L" "after $kills kills"

# 2. A half-written last entry, an orphan, a dead writer's temporary file.
last=$(ls "$L/bronze/$R/_log" | sort | tail -n 1)
size=$(stat -c %s "$L/bronze/$R/_log/$last")
truncate -s $((size / 2)) "$L/bronze/$R/_log/$last"
some=$(cd "$L/bronze/$R" && ls k+0+*.parquet | head -n 1)
cp "$L/bronze/$R/$some" "$L/bronze/$R/k+0+999990+999999.parquet"
cp "$L/bronze/$R/$some" "$L/bronze/$R/.k+1+5+6.parquet.tmp-$(hostname | tr -- '-./' '___')-999999999"
expect_status 0 "$ATHLETE_BIN" ingest --topic k --group final2 --lake "$L" --until-idle 3 "${G[@]}"
expect_grep "removed a damaged last commit log entry" "$WORK/last.err"
expect_grep "orphan files removed" "$WORK/last.err"
[ ! -e "$L/bronze/$R/k+0+999990+999999.parquet" ] || fail "orphan batch file left"
! compgen -G "$L/bronze/$R/.k+1+5+6.parquet.tmp-*" >/dev/null || fail "dead writer's temporary file left"
check_table "$L" "after a damaged entry and orphans"

# 3. Rebalance, zombie, faults.
L2=$WORK/lake2
SLOW=(-X fetch.max.bytes=20000 -X message.max.bytes=20000 -X max.partition.fetch.bytes=4000 --batch-rows 200 --batch-ms 300)
for b in 1 2 3; do mock_cmd "broker rtt $b 100"; done
mock_cmd "errors Fetch 5 NOT_LEADER_FOR_PARTITION"
mock_cmd "errors OffsetCommit 3 COORDINATOR_NOT_AVAILABLE"
"$ATHLETE_BIN" ingest --topic k --group z --lake "$L2" "${G[@]}" "${SLOW[@]}" >"$WORK/a.log" 2>&1 &
a=$!
sleep 5
"$ATHLETE_BIN" ingest --topic k --group z --lake "$L2" --until-idle 10 "${G[@]}" "${SLOW[@]}" \
  >"$WORK/b.log" 2>&1 &
b=$!
sleep 5
mock_cmd "broker down 2"
sleep 1
mock_cmd "broker up 2"
kill -STOP "$a" || { cat "$WORK/a.log" >&2; fail "member A ended early"; }
sleep 9
kill -CONT "$a"
sleep 3
kill -TERM "$a"
rc=0
wait "$a" || rc=$?
[ "$rc" = 0 ] || { cat "$WORK/a.log" >&2; fail "member A exited $rc after SIGTERM"; }
rc=0
wait "$b" || rc=$?
[ "$rc" = 0 ] || { cat "$WORK/b.log" >&2; fail "member B exited $rc"; }
grep -q "assigned k" "$WORK/b.log" || { grep -v " messages (" "$WORK/a.log" "$WORK/b.log" >&2; fail "member B never got a partition"; }
echo "member A: $(grep -c 'batch not committed' "$WORK/a.log" || true) batches not committed as a zombie"
for b in 1 2 3; do mock_cmd "broker rtt $b 0"; done
expect_status 0 "$ATHLETE_BIN" ingest --topic k --group z2 --lake "$L2" --until-idle 3 "${G[@]}"
check_table "$L2" "after a rebalance, a zombie and faults"
mock_stop
pass
