#!/usr/bin/env bash
# labels: kafka mpi nosan
# processors: 2
# SPEC §10 stream-stats: a crash never counts a row twice or loses one. kill -9 at random
# moments, STATS_KILLS times (default 10), with tiny batches so that kills land between a
# checkpoint and its transaction, inside a transaction, between the transaction and the offset
# commit, and mid-batch; each restart rebuilds the state from the checkpoints (compacted to a
# full checkpoint along the way) in the same group. Then a damaged newest checkpoint (a crash
# can leave one of a batch that never committed) and a final run until idle: its totals equal
# batch silver's exactly (distinct rows, duplicates, rejects) and the last value per key on the
# output topic equals gold. (Not under the sanitizers: kafka_stream_stats runs the same code
# there, and this test is mostly restarts.)
source "$(dirname "$0")/lib.sh"

R=athlete_event_results
"$ATHLETE_BIN" gen --scale 0.03 --seed 13 --out "$WORK/src" --quiet
mpi 2 run --source "$WORK/src" --lake "$WORK/lake" --quiet --metrics "$WORK/run.json" ||
  fail "batch run"
silver() {
  /usr/bin/python3 -c "import json; m=json.load(open('$WORK/run.json'))
print([s for s in m['stages'] if s['stage']=='silver' and s['table']=='$R'][0]['$1'])"
}
kafka_mock --brokers 3 --topic results:3 --topic stats:2
expect_status 0 mpi 2 produce --topic results --source "$WORK/src"
msgs=$(grep -oE '[0-9]+ delivered' "$WORK/last.err" | grep -oE '[0-9]+')
CK=$WORK/lake/_checkpoints/stream-stats/g
# Slow requests (each transaction makes several), so that the topic takes some seconds.
for b in 1 2 3; do mock_cmd "broker rtt $b 5"; done
state() { # state LOG: the messages of the state a run restored (empty: killed before that)
  grep -oE 'state: [0-9]+ groups, [0-9]+ distinct rows, [0-9]+ messages' "$1" |
    grep -oE '[0-9]+ messages' | grep -oE '[0-9]+' || true
}

top() { # the sequence number of the newest checkpoint (0: none)
  local t
  t=$(ls "$CK" 2>/dev/null | grep -E '^[0-9]{20}\.(delta|full)$' | sort | tail -n 1 || true)
  t=${t%%.*}
  echo $((10#${t:-0}))
}
# Each run dies a random 0-50 ms after its 8th to 15th new checkpoint: wherever a batch stands
# then. Counting checkpoints rather than seconds keeps the kills landing mid-stream on a loaded
# machine, and 10 runs of at least 8 batches each (one uncommitted batch per kill at most) pass
# the 64 deltas after which a full checkpoint is written.
kills=${STATS_KILLS:-10} early=0 restored=0 before=0
for i in $(seq 1 "$kills"); do
  from=$(top) want=$(/usr/bin/python3 -c 'import random; print(random.randint(8, 15))')
  "$ATHLETE_BIN" stream-stats --topic results --out-topic stats --group g --lake "$WORK/lake" \
    --batch-rows 40 --batch-ms 20 >"$WORK/kill$i.log" 2>&1 &
  pid=$!
  for _ in $(seq 1 1500); do # at most 30 s
    [ $(($(top) - from)) -ge "$want" ] && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.02
  done
  sleep "$(/usr/bin/python3 -c 'import random; print(round(random.uniform(0, 0.05), 3))')"
  kill -9 "$pid" 2>/dev/null || { cat "$WORK/kill$i.log" >&2; fail "run $i ended by itself"; }
  wait "$pid" 2>/dev/null || true
  if grep -q "error:" "$WORK/kill$i.log"; then cat "$WORK/kill$i.log" >&2; fail "run $i failed"; fi
  now=$(state "$WORK/kill$i.log")
  [ -n "$now" ] || continue # killed while starting
  [ "$now" -ge "$before" ] || fail "run $i restored $now messages, fewer than the $before before"
  [ "$now" -gt 0 ] && restored=$((restored + 1))
  [ "$i" -gt 1 ] && [ "$now" -lt "$msgs" ] && early=$((early + 1)) # run i-1 died undrained
  before=$now
done
echo "$kills kills: $early landed before the topic was drained, $restored runs restored a state"
[ "$early" -ge $((kills / 2)) ] || fail "only $early of $kills kills landed before the end"
[ "$restored" -ge $((kills / 2)) ] || fail "only $restored of $kills runs restored a state"
ls "$CK" | grep -q '\.full$' || fail "no full checkpoint was written (compaction)"
for b in 1 2 3; do mock_cmd "broker rtt $b 0"; done

# A damaged checkpoint newer than the committed one: a batch that never committed.
last=$(ls "$CK" | grep -E '^[0-9]{20}\.(delta|full)$' | sort | tail -n 1)
seq=${last%%.*}
printf 'garbage' >"$CK/$(printf '%020d' $((10#$seq + 1))).delta"

expect_status 0 "$ATHLETE_BIN" stream-stats --topic results --out-topic stats --group g \
  --lake "$WORK/lake" --until-idle 3
expect_grep "restored from the checkpoints" "$WORK/last.err"
[ ! -e "$CK/$(printf '%020d' $((10#$seq + 1))).delta" ] ||
  [ "$(cat "$CK/$(printf '%020d' $((10#$seq + 1))).delta")" != garbage ] ||
  fail "the damaged uncommitted checkpoint was kept"
rows=$(silver rows_out) rejects=$(silver rejects) dupes=$(silver duplicates)
expect_grep "^stream-stats +$R +[0-9]+ +$rows +$rejects +$dupes " "$WORK/last.err"
consume stats "$WORK/stats.json"
/usr/bin/python3 "$ATHLETE_SRC/tests/integration/stream_stats_check.py" "$WORK/stats.json" \
  "$WORK/lake/gold/avg_stats/avg_stats.h5" || fail "after $kills kills the output is not gold"
mock_stop
pass
