#!/usr/bin/env bash
# labels: kafka mpi duckdb
# processors: 2
# SPEC §10 stream-stats against batch gold of the same CSVs (generated, with every quirk:
# duplicate rows, bad athlete_ids, rows without bio). produce → stream-stats until idle (many
# small batches): the last value per key on the output topic, read by kcat (read_committed),
# equals gold row for row, averages bit for bit, n_rows exact (stream_stats_check.py); the
# stream's counts equal batch silver's (rows, rejects, duplicates). A restart in the same group
# restores its state from the checkpoints, SIGTERM commits the open batch, and a second produce of the whole file changes
# nothing (every row a duplicate). A fresh group under injected broker faults (aborted and
# retried transactions, a broker down and up mid-run) ends at the same gold. Nasty messages:
# rejects with topic, partition, offset and reason (DuckDB reads them), duplicates counted
# once. Usage errors: no --out-topic, the same topic twice, more than one rank; missing silver
# bio, missing topics and checkpoints that do not match the group are clear failures.
ATHLETE_LEAK_CHECK=1
source "$(dirname "$0")/lib.sh"

R=athlete_event_results
"$ATHLETE_BIN" gen --scale 0.03 --seed 11 --out "$WORK/src" --quiet
mpi 2 run --source "$WORK/src" --lake "$WORK/lake" --quiet --metrics "$WORK/run.json" ||
  fail "batch run"
GOLD=$WORK/lake/gold/avg_stats/avg_stats.h5
silver() { # silver KEY: a count of batch silver's results line
  /usr/bin/python3 -c "import json,sys; m=json.load(open('$WORK/run.json'))
print([s for s in m['stages'] if s['stage']=='silver' and s['table']=='$R'][0]['$1'])"
}
kafka_mock --brokers 3 --topic results:3 --topic stats:2 --topic stats2:2 --topic stats3:1 --topic bad:1 \
  --topic badstats:1
expect_status 0 mpi 2 produce --topic results --source "$WORK/src"
msgs=$(grep -oE '[0-9]+ delivered' "$WORK/last.err" | grep -oE '[0-9]+')
[ "$msgs" -gt 1000 ] || fail "produce delivered $msgs messages"

check_out() { # check_out TOPIC [ARGS]: the topic's last values against gold
  consume "$1" "$WORK/$1.json"
  /usr/bin/python3 "$ATHLETE_SRC/tests/integration/stream_stats_check.py" "$WORK/$1.json" "$GOLD" \
    "${@:2}" >"$WORK/check.out" || { cat "$WORK/check.out" >&2; fail "$1 is not gold"; }
}

# 1. The whole topic, in batches of at most 700 messages.
ss() { "$ATHLETE_BIN" stream-stats --lake "$WORK/lake" "$@"; }
expect_status 0 ss --topic results --out-topic stats --group g1 --batch-rows 700 --until-idle 3 \
  --metrics "$WORK/ss.json"
expect_grep "no committed offsets: from the start" "$WORK/last.err"
rows=$(silver rows_out) rejects=$(silver rejects) dupes=$(silver duplicates)
expect_grep "^stream-stats +$R +$msgs +$rows +$rejects +$dupes " "$WORK/last.err"
batches=$(grep -oE '[0-9]+ batches committed to stats' "$WORK/last.err" | grep -oE '^[0-9]+')
[ "$batches" -ge $((msgs / 700)) ] || fail "$batches batches for $msgs messages"
check_out stats --monotonic
/usr/bin/python3 -c "import json; m=json.load(open('$WORK/ss.json'))['steps_max_rank_seconds']
assert m['stream_stats.latency_p99'] >= m['stream_stats.latency_p50'] > 0, m" ||
  fail "latency percentiles in --metrics"
# The rejects are silver's (athlete_id that does not type), with their Kafka coordinates.
CK=$WORK/lake/_checkpoints/stream-stats/g1
n=$(duck "SELECT count(*) FROM read_parquet('$CK/_rejects/*.parquet') WHERE topic = 'results'
          AND \"partition\" BETWEEN 0 AND 2 AND \"offset\" >= 0 AND reason LIKE '%athlete_id%'")
[ "$n" = "$rejects" ] || fail "$n rejects files rows, want $rejects"

# SIGTERM commits the open batch and exits 0 (a batch that would otherwise wait a minute).
"$ATHLETE_BIN" stream-stats --lake "$WORK/lake" --topic results --out-topic stats3 --group term \
  --batch-ms 60000 --batch-rows 100000000 >"$WORK/term.out" 2>"$WORK/term.err" &
pid=$!
for _ in $(seq 100); do grep -q "messages (" "$WORK/term.err" && break; sleep 0.1; done
sleep 1
kill -TERM "$pid"
rc=0
wait "$pid" || rc=$?
[ "$rc" = 0 ] || { cat "$WORK/term.err" >&2; fail "stream-stats exited $rc after SIGTERM"; }
expect_grep "^1 batches committed|: 1 batches committed" "$WORK/term.err"
ls "$WORK/lake/_checkpoints/stream-stats/term/00000000000000000001.delta" >/dev/null ||
  fail "SIGTERM left no checkpoint"

# 2. A restart restores the state; a second copy of the topic is all duplicates.
expect_status 0 ss --topic results --out-topic stats --group g1 --until-idle 2
expect_grep "restored from the checkpoints; state: [0-9]+ groups, $rows distinct rows, $msgs messages" \
  "$WORK/last.err"
expect_grep "0 batches committed" "$WORK/last.err"
expect_status 0 mpi 2 produce --topic results --source "$WORK/src"
expect_status 0 ss --topic results --out-topic stats --group g1 --until-idle 3
expect_grep "^stream-stats +$R +$msgs +$rows +$((2 * rejects)) +$((dupes + msgs - rejects)) " \
  "$WORK/last.err"
expect_grep "\(0 group updates" "$WORK/last.err"
check_out stats --monotonic

# 3. A fresh group under faults: transactions that must be aborted (sent again whole), a
# retriable commit, produce errors, and a broker down and back up mid-run.
for b in 1 2 3; do mock_cmd "broker rtt $b 20"; done
mock_cmd "errors AddPartitionsToTxn 2 TOPIC_AUTHORIZATION_FAILED"
mock_cmd "errors EndTxn 2 COORDINATOR_NOT_AVAILABLE"
mock_cmd "errors Produce 4 NOT_LEADER_FOR_PARTITION"
"$ATHLETE_BIN" stream-stats --lake "$WORK/lake" --topic results --out-topic stats2 --group g2 \
  --batch-rows 500 --batch-ms 100 --until-idle 4 >"$WORK/f.out" 2>"$WORK/f.err" &
pid=$!
sleep 1.5
mock_cmd "broker down 2"
sleep 1
kill -0 "$pid" 2>/dev/null || fail "stream-stats ended before broker 2 came back"
mock_cmd "broker up 2"
rc=0
wait "$pid" || rc=$?
[ "$rc" = 0 ] || { cat "$WORK/f.err" >&2; fail "stream-stats under faults exited $rc"; }
expect_grep "transaction aborted .*sending it again" "$WORK/f.err"
for b in 1 2 3; do mock_cmd "broker rtt $b 0"; done
check_out stats2

# 4. Nasty messages: every one a reject naming its coordinates, or a duplicate.
send() { printf '%s' "$1" | kcat -b "$ATHLETE_BROKERS" -P -t bad -p 0 || fail "kcat -P"; }
id=$(duck "SELECT athlete_id FROM read_parquet('$WORK/lake/silver/athlete_bio/*.parquet')
           WHERE height IS NOT NULL AND weight IS NOT NULL ORDER BY athlete_id LIMIT 1")
row="{\"edition\":\"1900 Summer Olympics\",\"edition_id\":\"1\",\"country_noc\":\"FRA\",\"sport\":\"Nasty\",\"event\":\"e\",\"result_id\":\"1\",\"athlete\":\"a\",\"athlete_id\":\"$id\",\"pos\":\"1\",\"medal\":\"Gold\",\"isTeamSport\":\"False\"}"
send "$row"                                           # 0: aggregated
send "${row/\"pos\":\"1\"/\"pos\":\" 1\"}"            # 1: another row (pos is text)
send "${row/\"athlete_id\":\"$id\"/\"athlete_id\":\" $id \"}" # 2: types like 0: duplicate
send "$row"                                           # 3: duplicate
send 'not json'                                       # 4
send $'{"athlete_id": "\xff"}'                        # 5
send '{"athlete_id": "12x", "sport": "Nasty"}'        # 6: silver rejects the id
send '{"sport": "Nasty"}'                             # 7: missing athlete_id
send "{\"event\": \"$(head -c 3000 /dev/zero | tr '\0' 'a')\"}" # 8: too large
expect_status 0 ss --topic bad --out-topic badstats --group nasty --until-idle 3 \
  --max-message-bytes 2000
expect_grep "^stream-stats +$R +9 +2 +5 +2 " "$WORK/last.err"
CK=$WORK/lake/_checkpoints/stream-stats/nasty
expect_reject "$CK/_rejects/*.parquet" bad 4 "not a JSON object"
expect_reject "$CK/_rejects/*.parquet" bad 5 "not UTF-8"
expect_reject "$CK/_rejects/*.parquet" bad 6 "invalid athlete_id '12x'"
expect_reject "$CK/_rejects/*.parquet" bad 7 "missing athlete_id"
expect_reject "$CK/_rejects/*.parquet" bad 8 "message of 3013 bytes is larger than --max-message-bytes 2000"
consume badstats "$WORK/badstats.json"
[ "$(wc -l <"$WORK/badstats.json")" = 1 ] || fail "one group update expected from the nasty topic"
grep -q '"n_rows\\":2' "$WORK/badstats.json" || fail "the Nasty group counts its 2 distinct rows"

# 5. Clear failures.
expect_status 2 "$ATHLETE_BIN" stream-stats --topic results --group g --lake "$WORK/lake"
expect_grep "name the output topic: --out-topic NAME" "$WORK/last.err"
expect_status 2 "$ATHLETE_BIN" stream-stats --topic results --out-topic results --group g
expect_grep "must differ" "$WORK/last.err"
expect_status 2 "$ATHLETE_BIN" stream-stats --out-topic stats stray --topic results --group g
expect_grep "unexpected argument 'stray'" "$WORK/last.err"
expect_status 2 mpi 2 stream-stats --topic results --out-topic stats --group g --lake "$WORK/lake"
expect_grep "runs as one process" "$WORK/last.err"
# (The mock creates a topic on first use; a topic error stands in for a missing topic.)
mock_cmd "topic-error nosuch UNKNOWN_TOPIC_OR_PART"
expect_status 1 ss --topic nosuch --out-topic stats --group g3 --until-idle 1
expect_grep "topic nosuch: .*create it first" "$WORK/last.err"
expect_status 1 ss --topic results --out-topic nosuch --group g3 --until-idle 1
expect_grep "output topic nosuch: .*create it first" "$WORK/last.err"
expect_status 1 "$ATHLETE_BIN" stream-stats --lake "$WORK/empty" --topic results --out-topic stats \
  --group g3 --until-idle 1
expect_grep "run bronze-to-silver first" "$WORK/last.err"
rm -rf "$WORK/lake/_checkpoints/stream-stats/g1"
expect_status 1 ss --topic results --out-topic stats --group g1 --until-idle 1
expect_grep "no checkpoint in .* matches them" "$WORK/last.err"
mock_stop
pass
