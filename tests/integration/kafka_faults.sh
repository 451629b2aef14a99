#!/usr/bin/env bash
# labels: kafka mpi
# processors: 2
# Transient broker faults during `produce` end with every row delivered exactly once: Produce
# requests failing with NOT_LEADER_FOR_PARTITION and REQUEST_TIMED_OUT (injected through
# kafka-mock's control FIFO), then a broker taken down in the middle of the run and brought
# back up. kcat reads the topic back; kafka_check.py checks that every message is the record at
# its offset, no offset twice, and the count equals the bronze rows. (The mock keeps only the
# last 5 MiB of each partition, so the topic has enough partitions to hold the whole file.)
source "$(dirname "$0")/lib.sh"

"$ATHLETE_BIN" gen --scale 0.05 --seed 5 --out "$WORK/src" --quiet
R=athlete_event_results
mpi 2 landing-to-bronze --source "$WORK/src" --lake "$WORK/ref" --formats parquet --quiet ||
  fail "landing-to-bronze"
bronze_rows=$(duck "SELECT count(*) FROM read_parquet('$WORK/ref/bronze/$R/*.parquet')")
kafka_mock --brokers 3 --topic faults:8 --topic restart:8

# 1. Injected errors on Produce requests, on every broker.
mock_cmd "errors Produce 25 NOT_LEADER_FOR_PARTITION"
mock_cmd "errors Produce 10 REQUEST_TIMED_OUT"
mock_cmd "broker-errors 2 Produce 5 LEADER_NOT_AVAILABLE"
expect_status 0 mpi 2 produce --topic faults --source "$WORK/src"
expect_grep "$bronze_rows delivered" "$WORK/last.err"
consume faults "$WORK/faults.json"
check_messages "$WORK/faults.json" "$WORK/src/$R.csv" 8 "$WORK/ref/bronze/$R/*.parquet"

# 2. A broker down from the start of the run and back up while it runs, then another one
# down and up mid-run: the partitions they lead wait, nothing is lost or sent twice. Response
# delays (rtt) make the run last long enough for both restarts to land inside it, which the
# test checks (the producer must still be running when the last broker comes back).
for b in 1 2 3; do mock_cmd "broker rtt $b 150"; done
mock_cmd "broker down 3"
mpi 2 produce --topic restart --source "$WORK/src" >"$WORK/restart.out" 2>"$WORK/restart.err" &
pid=$!
sleep 1
mock_cmd "broker up 3"
sleep 0.5
mock_cmd "broker down 2"
sleep 1
kill -0 "$pid" 2>/dev/null || fail "produce ended before broker 2 came back: the restart was not mid-run"
mock_cmd "broker up 2"
rc=0
wait "$pid" || rc=$?
[ "$rc" = 0 ] || { cat "$WORK/restart.err" >&2; fail "produce across broker restarts exited $rc"; }
expect_grep "$bronze_rows delivered" "$WORK/restart.err"
expect_grep "warning: .*Connect to .* failed" "$WORK/restart.err"
for b in 1 2 3; do mock_cmd "broker rtt $b 0"; done
consume restart "$WORK/restart.json"
check_messages "$WORK/restart.json" "$WORK/src/$R.csv" 8 "$WORK/ref/bronze/$R/*.parquet"
mock_stop
pass
