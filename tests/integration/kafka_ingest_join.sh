#!/usr/bin/env bash
# labels: kafka mpi duckdb
# processors: 2
# SPEC §10 ingest --until-idle drains the topic, whatever the group does:
#  1. Re-join. The broker answers a member's first JoinGroup 100 s late (kafka-mock's
#     `broker-errors ... JoinGroup 1 NO_ERROR 100000`: the way kafka-mock has been seen to leave
#     one of two members stuck): after its join wait (session timeout + 20 s) without an
#     assignment the member re-joins as a new member and lands the whole topic. (Before, it
#     left at that point, exit 0, nothing landed.)
#  2. Drain wait. Member B holds two of the four partitions and is frozen (SIGSTOP) before the
#     data is produced; member A (--until-idle 3) lands its two, is idle, sees in the table's log
#     that B's partitions are not drained (data messages below the high watermark), and waits
#     instead of leaving, until B's session times out and the group gives A everything. (Before,
#     A left 3 s after its last message, half the topic unlanded.)
#  3. The bound. Every Fetch fails: idle, the member waits at most its session timeout + 20 s
#     for partitions it cannot read, then leaves, exit 0, with a warning naming the partitions,
#     the log's offsets and the high watermarks; the log is truthful, so the next ingest (Fetch
#     working again) lands them.
# After each part the table holds every produced row exactly once (stream_check.py against
# kcat's offsets; DuckDB against bronze of the same CSV).
source "$(dirname "$0")/lib.sh"

R=athlete_event_results
"$ATHLETE_BIN" gen --scale 0.02 --seed 17 --out "$WORK/src" --quiet
mpi 2 landing-to-bronze --source "$WORK/src" --lake "$WORK/ref" --formats parquet --quiet ||
  fail "landing-to-bronze"
bronze_rows=$(duck "SELECT count(*) FROM read_parquet('$WORK/ref/bronze/$R/*.parquet')")

check_table() { # LAKE TOPIC WHAT: exactly once, against kcat and against bronze
  consume "$2" "$WORK/$2.json"
  check_stream_log "$1/bronze/$R" "$WORK/$2.json" "$2" "$3"
  check_stream_rows "$1/bronze/$R" "$WORK/ref/bronze/$R/*.parquet" "$bronze_rows" "$3"
}
# wait_for FILE PATTERN N WHAT: waits (60 s at most) until FILE has N lines matching PATTERN.
wait_for() {
  for _ in $(seq 600); do
    [ "$(grep -c -E -- "$2" "$1" || true)" -ge "$3" ] && return 0
    sleep 0.1
  done
  cat "$1" >&2
  fail "$4"
}
# member LOG ARGS...: starts an ingest member in the background (its output in LOG); sets PID.
member() {
  local log=$1
  shift
  "$ATHLETE_BIN" ingest "$@" >"$log" 2>&1 &
  PID=$!
}

kafka_mock --brokers 1 --topic j:2 --topic d:4 --topic w:4
expect_status 0 mpi 2 produce --topic j --source "$WORK/src" --quiet

# 1. The first JoinGroup answered 100 s late: the member re-joins after 6 + 20 s.
G=(-X session.timeout.ms=6000 -X heartbeat.interval.ms=500)
mock_cmd "broker-errors 1 JoinGroup 1 NO_ERROR 100000"
expect_status 0 "$ATHLETE_BIN" ingest --topic j --group j1 --lake "$WORK/lake1" --until-idle 3 "${G[@]}"
expect_grep "no assignment from group j1 for 2[0-9] s: re-joining as a new member \(1 of 3\)" "$WORK/last.err"
expect_grep "^ingest +$R +$bronze_rows +$bronze_rows +0 +0 " "$WORK/last.err"
check_table "$WORK/lake1" j "a first JoinGroup never answered in time"

# 2. Member B takes all of d, member A (--until-idle 3) joins and the group gives each two
# partitions; B is frozen, then d gets its data. The group's session timeout is 10 s: A lands
# its two, waits, and takes B's over when B's session times out.
S=(-X session.timeout.ms=10000 -X heartbeat.interval.ms=500)
member "$WORK/b-d.log" --topic d --group d1 --lake "$WORK/lake2" "${S[@]}"
b=$PID
wait_for "$WORK/b-d.log" "assigned d " 4 "member B was not assigned the 4 partitions of d"
member "$WORK/a-d.log" --topic d --group d1 --lake "$WORK/lake2" --until-idle 3 "${S[@]}"
a=$PID
wait_for "$WORK/a-d.log" "assigned d " 2 "member A was not assigned 2 partitions of d"
wait_for "$WORK/b-d.log" "assigned d " 6 "member B was not assigned 2 partitions of d again"
kill -STOP "$b"
expect_status 0 mpi 2 produce --topic d --source "$WORK/src" --quiet
rc=0
wait "$a" || rc=$?
kill -9 "$b"
wait "$b" 2>/dev/null || true
[ "$rc" = 0 ] || { cat "$WORK/a-d.log" >&2; fail "member A exited $rc"; }
expect_grep "idle, but topic d partition [0-3] is not drained: the table's log is at offset 0, the high watermark is [1-9][0-9]* \(another member's" "$WORK/a-d.log"
expect_grep "^ingest +$R +$bronze_rows +$bronze_rows +0 +0 " "$WORK/a-d.log"
! grep -q "warning" "$WORK/a-d.log" || { cat "$WORK/a-d.log" >&2; fail "member A warned"; }
check_table "$WORK/lake2" d "a member frozen with its partitions"

# 3. Every Fetch fails (NOT_LEADER_FOR_PARTITION, over and over): the member holds every
# partition of w and can read none; idle, it waits its bound (session timeout + 20 s = 26 s)
# and leaves with a warning, exit 0, nothing landed; once Fetch works again the next ingest
# lands it all.
expect_status 0 mpi 2 produce --topic w --source "$WORK/src" --quiet
mock_cmd "errors Fetch 1000000 NOT_LEADER_FOR_PARTITION"
expect_status 0 "$ATHLETE_BIN" ingest --topic w --group w1 --lake "$WORK/lake3" --until-idle 3 "${G[@]}"
expect_grep "warning: leaving, but topic w partition [0-3] is not drained: the table's log is at offset 0, the high watermark is [1-9][0-9]* \(this member's; could not read it to check\)" "$WORK/last.err"
expect_grep "warning: waited (2[6-9]|3[0-9]) s past idleness for w to be drained; the table's log is truthful" "$WORK/last.err"
expect_grep "^ingest +$R +0 +0 +0 +0 " "$WORK/last.err"
mock_cmd "clear Fetch"
expect_status 0 "$ATHLETE_BIN" ingest --topic w --group w2 --lake "$WORK/lake3" --until-idle 3 "${G[@]}"
check_table "$WORK/lake3" w "after a member left at its bound"
mock_stop
pass
