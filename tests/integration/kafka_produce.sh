#!/usr/bin/env bash
# labels: kafka mpi duckdb
# processors: 4
# `produce` at -np 1, 2, 3, 4 against a real broker process (athlete kafka-mock), read back by
# kcat: every bronze row of the generated CSV (every quirk of SPEC §3) is one message, exactly
# once, with the JSON value, key, headers and murmur2 partition SPEC §10 fixes (kafka_check.py),
# and the values equal the bronze Parquet rows of the same file (DuckDB). Broken records go to
# rejects (the same as bronze's) and are never sent. Then the bio table, the progress/summary
# output, --metrics, and the mock's clean exit on SIGTERM.
source "$(dirname "$0")/lib.sh"

"$ATHLETE_BIN" gen --scale 0.02 --seed 11 --out "$WORK/src" --quiet
mpi 2 landing-to-bronze --source "$WORK/src" --lake "$WORK/ref" --formats parquet --quiet ||
  fail "landing-to-bronze"
kafka_mock --brokers 3 --topic bio:3
R=athlete_event_results
bronze_rows=$(duck "SELECT count(*) FROM read_parquet('$WORK/ref/bronze/$R/*.parquet')")
rejects=$(duck "SELECT count(*) FROM read_parquet('$WORK/ref/rejects/$R/*.parquet')")
[ "$rejects" -gt 0 ] || fail "the generated results file has no broken records to reject"

for np in 1 2 3 4; do
  mock_cmd "topic r$np:4"
  expect_status 0 mpi "$np" produce --topic "r$np" --source "$WORK/src" --lake "$WORK/lake$np" \
    --metrics "$WORK/m$np.json"
  expect_grep "produce: $((bronze_rows + rejects)) rows -> topic 'r$np': $bronze_rows delivered, $rejects rejected" "$WORK/last.err"
  expect_grep "^produce +$R +$((bronze_rows + rejects)) +$bronze_rows +$rejects " "$WORK/last.err"
  expect_grep "done on $np rank" "$WORK/last.err"
  consume "r$np" "$WORK/r$np.json"
  check_messages "$WORK/r$np.json" "$WORK/src/$R.csv" 4 "$WORK/ref/bronze/$R/*.parquet"
  # Rejects: the same records as bronze's (line, offset, reason), committed to the lake.
  [ -f "$WORK/lake$np/rejects/$R/_SUCCESS" ] || fail "-np $np: rejects not committed"
  q="SELECT line, byte_offset, reason FROM read_parquet"
  d=$(duck "SELECT count(*) FROM (($q('$WORK/lake$np/rejects/$R/*.parquet') EXCEPT ALL $q('$WORK/ref/rejects/$R/*.parquet')) UNION ALL ($q('$WORK/ref/rejects/$R/*.parquet') EXCEPT ALL $q('$WORK/lake$np/rejects/$R/*.parquet')))")
  [ "$d" = 0 ] || fail "-np $np: produce's rejects differ from bronze's ($d rows)"
  grep -q '"stage": "produce", "table": "athlete_event_results"' "$WORK/m$np.json" ||
    fail "-np $np: --metrics lacks the produce stage"
  grep -q '"produce.read_send"' "$WORK/m$np.json" || fail "-np $np: --metrics lacks produce steps"
done
# Partitions follow the key alone: any rank count puts every keyed message in the same one.
keyed_partitions() {
  /usr/bin/python3 -c 'import json, sys
for l in open(sys.argv[1]):
    m = json.loads(l)
    if m.get("key") is not None:
        print(m["headers"][3], m["partition"])' "$1" | sort
}
keyed_partitions "$WORK/r1.json" >"$WORK/p1"
for np in 2 3 4; do
  keyed_partitions "$WORK/r$np.json" >"$WORK/p$np"
  same_file "$WORK/p1" "$WORK/p$np"
done

# The bio table, without --lake: rejects are counted and the first ones printed, never sent.
bio_rows=$(duck "SELECT count(*) FROM read_parquet('$WORK/ref/bronze/athlete_bio/*.parquet')")
expect_status 0 mpi 2 produce --topic bio --table athlete_bio --source "$WORK/src"
expect_grep "$bio_rows delivered" "$WORK/last.err"
[ ! -e "$WORK/lake" ] && [ ! -e lake ] || fail "produce without --lake wrote a lake"
bio_rejects=$(duck "SELECT count(*) FROM read_parquet('$WORK/ref/rejects/athlete_bio/*.parquet')")
if [ "$bio_rejects" -gt 0 ]; then
  expect_grep "produce: rejected: \[rank [01]\] line [0-9]+ \(byte [0-9]+\): " "$WORK/last.err"
fi
consume bio "$WORK/bio.json"
check_messages "$WORK/bio.json" "$WORK/src/athlete_bio.csv" 3 "$WORK/ref/bronze/athlete_bio/*.parquet"

# The README's laptop path: data/ with 2 ranks into a topic the mock creates on first use.
expect_status 0 mpi 2 produce --topic sample --source "$ATHLETE_SRC/data" --quiet
consume sample "$WORK/sample.json"
/usr/bin/python3 "$ATHLETE_SRC/tests/integration/kafka_check.py" "$WORK/sample.json" \
  "$ATHLETE_SRC/data/$R.csv" 4 || fail "data/ sample messages"

mock_stop
pass
