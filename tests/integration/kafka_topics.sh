#!/usr/bin/env bash
# labels: kafka
# processors: 1
# `topics` against a real broker process: list and describe come from the cluster's metadata
# (checked against kcat -L, the independent client) in kafka-topics.sh's layout and as JSON;
# create and delete fail within seconds against a cluster without the Admin API (the mock),
# naming CreateTopics/DeleteTopics and the remedy; --if-not-exists / --if-exists make existing /
# missing topics no error; unknown topics and actions are errors with the documented codes.
# Also kafka-mock itself: its topics, its control commands and its clean stop.
source "$(dirname "$0")/lib.sh"

kafka_mock --brokers 3 --topic results:3 --topic bio --topic _private:2 --topic __internal

# list: sorted names, as kcat -L sees them.
expect_status 0 "$ATHLETE_BIN" topics list
printf '__internal\n_private\nbio\nresults\n' >"$WORK/want"
sort "$WORK/last.out" | cmp -s - "$WORK/want" || fail "topics list: $(cat "$WORK/last.out")"
kcat -b "$ATHLETE_BROKERS" -L -J >"$WORK/kcat.json"
/usr/bin/python3 - "$WORK/kcat.json" "$WORK/last.out" <<'PY' || fail "topics list differs from kcat -L"
import json, sys
md = json.load(open(sys.argv[1]))
kc = sorted(t["topic"] for t in md["topics"])
ours = open(sys.argv[2]).read().split()
sys.exit(0 if kc == ours else 1)
PY
expect_status 0 "$ATHLETE_BIN" topics list --json
[ "$(cat "$WORK/last.out")" = '["__internal", "_private", "bio", "results"]' ] || fail "list --json: $(cat "$WORK/last.out")"

# describe: Kafka's layout, one line per topic and per partition; the same facts as kcat -L.
expect_status 0 "$ATHLETE_BIN" topics describe --topic results --topic bio
expect_grep $'^Topic: results\tPartitionCount: 3\tReplicationFactor: 3\tConfigs: $' "$WORK/last.out"
expect_grep $'^Topic: bio\tPartitionCount: 1\tReplicationFactor: 3\tConfigs: $' "$WORK/last.out"
[ "$(grep -c $'^\tTopic: results\tPartition: [0-2]\tLeader: [1-3]\tReplicas: [1-3],[1-3],[1-3]\tIsr: [1-3],[1-3],[1-3]$' "$WORK/last.out")" = 3 ] ||
  fail "describe: expected 3 partition lines of results: $(cat "$WORK/last.out")"
[ "$(head -1 "$WORK/last.out" | cut -f1)" = "Topic: results" ] || fail "describe: not in the order given"
expect_status 0 "$ATHLETE_BIN" topics describe --json
/usr/bin/python3 - "$WORK/kcat.json" "$WORK/last.out" <<'PY' || fail "describe --json differs from kcat -L"
import json, sys
kc = json.load(open(sys.argv[1]))
ours = json.load(open(sys.argv[2]))
want = {t["topic"]: {p["partition"]: (p["leader"], sorted(r["id"] for r in p["replicas"]))
                     for p in t["partitions"]} for t in kc["topics"]}
got = {t["name"]: {p["partition"]: (p["leader"], sorted(p["replicas"])) for p in t["partitions"]}
       for t in ours["topics"]}
assert got == want, (got, want)
assert sorted(b["id"] for b in ours["brokers"]) == sorted(b["id"] for b in kc["brokers"])
assert [t["name"] for t in ours["topics"]] == ["__internal", "_private", "bio", "results"]
assert all(t["partition_count"] == len(t["partitions"]) for t in ours["topics"])
PY
# Internal topics are those whose name starts with __ (a single _ is an ordinary name).
expect_status 0 "$ATHLETE_BIN" topics describe --exclude-internal
grep -q __internal "$WORK/last.out" && fail "describe --exclude-internal kept __internal"
expect_grep "^Topic: _private" "$WORK/last.out"
expect_status 0 "$ATHLETE_BIN" topics list --exclude-internal
[ "$(tr '\n' ' ' <"$WORK/last.out")" = "_private bio results " ] ||
  fail "list --exclude-internal: $(cat "$WORK/last.out")"
expect_status 1 "$ATHLETE_BIN" topics describe --topic nope
expect_grep "topic 'nope' does not exist" "$WORK/last.err"

# create / delete against the mock: fail fast, naming the API and the remedy.
# within_5s CMD...: CMD ends (with any status) in under 5 seconds.
within_5s() {
  local t0 el
  t0=$(date +%s.%N)
  "$@" >/dev/null 2>&1 || true
  el=$(echo "$(date +%s.%N) - $t0" | bc)
  [ "$(echo "$el < 5" | bc)" = 1 ] || fail "$* took $el s (--timeout 30)"
}
within_5s "$ATHLETE_BIN" topics create --topic fresh --partitions 2 --timeout 30
within_5s "$ATHLETE_BIN" topics delete --topic results --timeout 30
expect_status 1 "$ATHLETE_BIN" topics create --topic fresh --partitions 2
expect_grep "CreateTopics is not available: the cluster at .* names controller 0, which is none of its brokers \(1, 2, 3\)" "$WORK/last.err"
expect_status 1 "$ATHLETE_BIN" topics delete --topic results
expect_grep "DeleteTopics is not available" "$WORK/last.err"
expect_status 1 "$ATHLETE_BIN" topics delete --topic fresh
expect_grep "topic 'fresh' does not exist \(--if-exists ignores that\)" "$WORK/last.err"
expect_status 0 "$ATHLETE_BIN" topics delete --topic fresh --if-exists
expect_status 0 "$ATHLETE_BIN" topics create --topic results --partitions 3 --if-not-exists
expect_grep "Topic results already exists \(ignored\)" "$WORK/last.out"
expect_status 1 "$ATHLETE_BIN" topics create --topic results
expect_grep "already exists" "$WORK/last.err"
# Metadata requests never create topics (the mock would, on a producer's request).
expect_status 0 "$ATHLETE_BIN" topics list
grep -qx fresh "$WORK/last.out" && fail "topics created 'fresh' by asking for it"

# Usage errors: exit 2.
expect_status 2 "$ATHLETE_BIN" topics
expect_status 2 "$ATHLETE_BIN" topics frobnicate
expect_status 2 "$ATHLETE_BIN" topics create
expect_status 2 "$ATHLETE_BIN" topics list --partitions x

# kafka-mock's control commands (answers on its stdout), and topics made at run time.
mock_cmd "topic later:5"
expect_status 0 "$ATHLETE_BIN" topics describe --topic later
expect_grep $'PartitionCount: 5\tReplicationFactor: 3' "$WORK/last.out"
mock_cmd "leader later 0 2"
expect_status 0 "$ATHLETE_BIN" topics describe --topic later --json
/usr/bin/python3 -c "import json,sys; d=json.load(open(sys.argv[1])); assert d['topics'][0]['partitions'][0]['leader']==2" "$WORK/last.out" ||
  fail "leader command did not move partition 0"
mock_cmd "help"
printf 'no-such-command\n' >"$MOCK_CTL"
for _ in $(seq 100); do grep -q "^error: unknown command 'no-such-command'" "$MOCK_OUT" && break; sleep 0.05; done
expect_grep "^error: unknown command 'no-such-command'" "$MOCK_OUT"
printf 'broker down 9\n' >"$MOCK_CTL"
for _ in $(seq 100); do grep -q "^error: broker down: a broker id" "$MOCK_OUT" && break; sleep 0.05; done
expect_grep "^error: broker down: a broker id from 1 to 3" "$MOCK_OUT"
expect_status 2 "$ATHLETE_BIN" kafka-mock --topic 'bad name'
expect_status 2 "$ATHLETE_BIN" kafka-mock --topic x:0
expect_status 2 "$ATHLETE_BIN" kafka-mock --topic x:2:3
mock_stop
pass
