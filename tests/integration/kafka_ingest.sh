#!/usr/bin/env bash
# labels: kafka mpi duckdb
# processors: 2
# SPEC §10 ingest, end to end against a real broker process (athlete kafka-mock): `produce`
# sends the generated results CSV (every quirk of SPEC §3) at -np 2; `ingest` at -np 2 (two
# members of one consumer group) lands it in a stream table until idle. Then, read by
# independent readers: stream_check.py (the commit log, files, ranges against the offsets
# kcat reads) and DuckDB (the rows equal bronze of the same CSV, each row identity once).
# `produce` run a second time does not double the table. The batch stages turn the stream
# table plus a batch athlete_bio (landing-to-bronze --tables) into gold byte-identical, Parquet
# and HDF5, to `athlete run` over the CSVs; a batch stage refuses to replace the stream table.
source "$(dirname "$0")/lib.sh"

export SOURCE_DATE_EPOCH=1700000000
R=athlete_event_results
T=$WORK/lake/bronze/$R
G=(-X session.timeout.ms=6000 -X heartbeat.interval.ms=500)
"$ATHLETE_BIN" gen --scale 0.02 --seed 11 --out "$WORK/src" --quiet
mpi 2 run --source "$WORK/src" --lake "$WORK/ref" --quiet || fail "run (the reference)"
bronze_rows=$(duck "SELECT count(*) FROM read_parquet('$WORK/ref/bronze/$R/*.parquet')")
kafka_mock --brokers 3 --topic res:4

expect_status 0 mpi 2 produce --topic res --source "$WORK/src" --quiet
expect_status 0 mpi 2 ingest --topic res --group g1 --lake "$WORK/lake" --until-idle 5 \
  --batch-rows 1500 "${G[@]}" --metrics "$WORK/ingest.json"
expect_grep "^ingest +$R +$bronze_rows +$bronze_rows +0 +0 " "$WORK/last.err"
expect_grep "done on 2 ranks" "$WORK/last.err"
expect_grep 'assigned res \[[0-3]\], from the beginning' "$WORK/last.err"
grep -q '"stage": "ingest"' "$WORK/ingest.json" || fail "--metrics lacks the ingest stage"
[ -f "$T/_SUCCESS" ] && [ -f "$T/_manifest.json" ] || fail "stream table not committed"
/usr/bin/python3 -c 'import json,sys; m=json.load(open(sys.argv[1])); assert m["rows"]==int(sys.argv[2]), m' \
  "$T/_manifest.json" "$bronze_rows" || fail "manifest rows"

consume res "$WORK/res.json"
check_stream_log "$T" "$WORK/res.json" res "first ingest"
check_rows() { check_stream_rows "$T" "$WORK/ref/bronze/$R/*.parquet" "$bronze_rows" "$1"; }
check_rows "first ingest"

# produce again: every message arrives a second time and is dropped as a duplicate.
expect_status 0 mpi 2 produce --topic res --source "$WORK/src" --quiet
expect_status 0 "$ATHLETE_BIN" ingest --topic res --group g1 --lake "$WORK/lake" --until-idle 4 "${G[@]}"
expect_grep "^ingest +$R +$bronze_rows +0 +0 +$bronze_rows " "$WORK/last.err"
expect_grep 'assigned res \[0\], from offset [1-9]' "$WORK/last.err"
check_rows "after a second produce"
# Both copies into a fresh table by two members at once: rows without a key land in random
# partitions, so a row's two copies can reach different members; each row lands once (a
# batch some of whose rows the other member landed first is committed without them).
T2=$WORK/lake2/bronze/$R
expect_status 0 mpi 2 ingest --topic res --group g2 --lake "$WORK/lake2" --until-idle 4 "${G[@]}"
expect_grep "^ingest +$R +$((2 * bronze_rows)) +$bronze_rows +0 +$bronze_rows " "$WORK/last.err"
check_stream_rows "$T2" "$WORK/ref/bronze/$R/*.parquet" "$bronze_rows" "two copies, two members"

# The batch stages over the stream table give run's gold, byte for byte.
expect_status 0 mpi 2 landing-to-bronze --source "$WORK/src" --lake "$WORK/lake" --tables athlete_bio
expect_status 0 mpi 2 bronze-to-silver --lake "$WORK/lake"
expect_status 0 mpi 2 silver-to-gold --lake "$WORK/lake"
same_file "$WORK/lake/gold/avg_stats/part-00000.parquet" "$WORK/ref/gold/avg_stats/part-00000.parquet"
same_file "$WORK/lake/gold/avg_stats/avg_stats.h5" "$WORK/ref/gold/avg_stats/avg_stats.h5"
expect_status 0 "$ATHLETE_BIN" show --lake "$WORK/lake" "bronze/$R" --limit 2
expect_grep "^bronze/$R: $bronze_rows rows" "$WORK/last.out"

# A batch stage never replaces a stream table.
expect_status 1 mpi 2 landing-to-bronze --source "$WORK/src" --lake "$WORK/lake"
expect_grep "is a stream table \(written by ingest\)" "$WORK/last.err"
check_rows "after a refused landing-to-bronze"
expect_status 2 "$ATHLETE_BIN" ingest --topic res --lake "$WORK/lake"
expect_grep "consumer group" "$WORK/last.err"
expect_status 2 mpi 1 landing-to-bronze --source "$WORK/src" --tables nope
mock_stop
pass
