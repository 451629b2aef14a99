#!/usr/bin/env bash
# labels: kafka duckdb
# processors: 1
# SPEC §10 ingest decoding, message by message, with kcat as the producer: not JSON, not an
# object, not UTF-8, over --max-message-bytes, an object or array where a string belongs, a key
# twice, data after the object (all rejects: topic, partition, offset, reason, raw or raw_hex,
# size, read back by DuckDB); unknown keys (ignored and counted), unicode escapes and a
# surrogate pair, numbers and booleans as their literal text, null and missing keys as null,
# and messages without lineage headers (all landed, exactly as decoded). Nothing is lost: every
# offset is a row or a reject.
source "$(dirname "$0")/lib.sh"

T=$WORK/lake/bronze/athlete_event_results
kafka_mock --brokers 1 --topic bad:1
send() { # send VALUE [OFFSET]: one message with lineage headers (offset given) or without
  if [ -n "${2:-}" ]; then
    printf '%s' "$1" | kcat -b "$ATHLETE_BROKERS" -P -t bad -p 0 -H athlete.source=x.csv \
      -H "athlete.offset=$2" || fail "kcat -P"
  else
    printf '%s' "$1" | kcat -b "$ATHLETE_BROKERS" -P -t bad -p 0 || fail "kcat -P"
  fi
}
send '{"athlete_id": "1", "sport": "Caf\u00e9 \ud83d\ude00", "edition": "x\"y\\z\n"}' 10
send '{"athlete_id": 7, "isTeamSport": true, "medal": null, "pos": -1.5e3, "extra": {"a": [1]}}' 20
send '{"athlete_id": "3", "colour": "red", "size": 4}'
send 'not json' 30
send '[1, 2]' 40
send $'{"athlete_id": "\xff"}' 50
send '{"athlete_id": {"nested": 1}}' 60
send '{"athlete_id": ["a"]}' 70
send '{"athlete_id": "1", "athlete_id": "2"}' 80
send '{"athlete_id": "1"} trailing' 90
send '{"sport": "\ud83d"}' 100
send "{\"event\": \"$(head -c 3000 /dev/zero | tr '\0' 'a')\"}" 110
send '{"athlete_id": "9"}' 10 # same identity as the first: a duplicate

expect_status 0 "$ATHLETE_BIN" ingest --topic bad --group g --lake "$WORK/lake" --until-idle 3 \
  --max-message-bytes 2000
expect_grep "^ingest +athlete_event_results +13 +3 +9 +1 " "$WORK/last.err"
expect_grep "3 unknown keys ignored" "$WORK/last.err"

q() { duck "$1"; }
got=$(q "SELECT athlete_id, sport, edition, isTeamSport, medal, pos, _source, _source_offset, _kafka_offset FROM read_parquet('$T/*.parquet') ORDER BY _kafka_offset")
want=$(printf '%s\n' \
  "1	Café 😀	x\"y\\z
	\\N	\\N	\\N	x.csv	10	0" \
  "7	\\N	\\N	true	\\N	-1.5e3	x.csv	20	1" \
  "3	\\N	\\N	\\N	\\N	\\N	\\N	\\N	2")
[ "$got" = "$want" ] || fail "landed rows: got
$got
want
$want"
expect_reject "$T/_rejects/*.parquet" bad 3 "not a JSON object"
expect_reject "$T/_rejects/*.parquet" bad 4 "not a JSON object"
expect_reject "$T/_rejects/*.parquet" bad 5 "not UTF-8"
expect_reject "$T/_rejects/*.parquet" bad 6 "column athlete_id: an object where a string belongs"
expect_reject "$T/_rejects/*.parquet" bad 7 "column athlete_id: an array where a string belongs"
expect_reject "$T/_rejects/*.parquet" bad 8 'key "athlete_id" given twice'
expect_reject "$T/_rejects/*.parquet" bad 9 "data after the JSON object"
expect_reject "$T/_rejects/*.parquet" bad 10 "a lone high surrogate"
expect_reject "$T/_rejects/*.parquet" bad 11 "message of [0-9]+ bytes is larger than --max-message-bytes 2000"
[ "$(q "SELECT raw_hex, raw IS NULL FROM read_parquet('$T/_rejects/*.parquet') WHERE \"offset\" = 5")" = "7b226174686c6574655f6964223a2022ff227d	true" ] ||
  fail "the raw bytes of the non-UTF-8 message"
[ "$(q "SELECT raw FROM read_parquet('$T/_rejects/*.parquet') WHERE \"offset\" = 3")" = "not json" ] ||
  fail "the raw text of a reject"
[ "$(q "SELECT size, length(raw) FROM read_parquet('$T/_rejects/*.parquet') WHERE \"offset\" = 11")" = "3013	3013" ] ||
  fail "an oversized reject keeps its size and raw (up to 4 KiB)"
consume bad "$WORK/bad.json"
check_stream_log "$T" "$WORK/bad.json" bad "bad messages"
mock_stop
pass
