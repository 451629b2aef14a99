#!/usr/bin/env bash
# labels: duckdb
# Random tables written by tests/tools/pq_roundtrip are read back by DuckDB and by hyparquet
# (tests/integration/parquet_check.mjs): every value compared exactly, plus the schema
# (physical, logical and converted types, repetition), each chunk's codec, encodings and
# statistics. Cases cover every codec, 0/1 rows, row counts around page and row-group
# boundaries, dictionary and PLAIN paths, all-null columns and multi-megabyte strings.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
TOOL=$ATHLETE_BUILD/tests/pq_roundtrip
[ -x "$TOOL" ] || fail "$TOOL not built"

n=0
# case NAME CODEC TOOL-ARGS...: writes, then checks with both readers.
case_() {
  local name=$1 codec=$2 keep=0
  shift 2
  if [ "${*: -1}" = --keep ]; then
    keep=1
    set -- "${@:1:$#-1}"
  fi
  local f=$WORK/$name
  "$TOOL" --codec "$codec" --out "$f.parquet" --expect "$f.tsv" --meta "$f.meta" "$@" ||
    fail "$name: pq_roundtrip failed"
  [ ! -e "$f.parquet.tmp" ] || fail "$name: temporary file left behind"
  local want
  case $codec in zstd) want=ZSTD ;; snappy) want=SNAPPY ;; none) want=UNCOMPRESSED ;; esac
  node "$ATHLETE_SRC/tests/integration/parquet_check.mjs" "$f.parquet" "$f.tsv" "$f.meta" "$want" \
    >"$WORK/check.out" 2>&1 || {
    cat "$WORK/check.out" >&2
    fail "$name ($codec $*)"
  }
  n=$((n + 1))
  [ $keep = 1 ] || rm -f "$f".*
}

seed=1
for codec in zstd snappy none; do
  case_ "empty-$codec" $codec --seed $((seed++)) --rows 0
  case_ "one-$codec" $codec --seed $((seed++)) --rows 1
  case_ "whole-$codec" $codec --seed $((seed++)) --rows 3000 --batch-rows 0
  case_ "stream-$codec" $codec --seed $((seed++)) --rows 5000 --rg-rows 1000 --page-bytes 1500 \
    --batch-rows 700
  case_ "whole-rg-$codec" $codec --seed $((seed++)) --rows 3000 --rg-rows 700 --batch-rows 0
  case_ "fallback-$codec" $codec --seed $((seed++)) --rows 2000 --rg-rows 700 --dict-max 16
done
# Row counts around row-group (100 rows) and page (~32 values of 8 bytes) boundaries.
for rows in 7 8 9 31 32 33 99 100 101 199 200 201; do
  case_ "edge-$rows" zstd --seed $((seed++)) --rows $rows --rg-rows 100 --page-bytes 256 \
    --batch-rows 13
done
# Batches larger than a row group: row groups written straight from the batch.
case_ big-batches zstd --seed $((seed++)) --rows 5000 --rg-rows 300 --batch-rows 2000
# One value per page (pages smaller than any value) and batches of single rows.
case_ tiny-pages snappy --seed $((seed++)) --rows 300 --rg-rows 64 --page-bytes 1 --batch-rows 1
# Multi-megabyte strings, larger than a page.
case_ big-strings zstd --seed $((seed++)) --rows 40 --big 3 --batch-rows 0
case_ big-strings-plain none --seed $((seed++)) --rows 40 --big 2 --rg-rows 16 --batch-rows 5
# Row groups bounded by bytes (about 40 KiB): several, each within the bound plus one row.
case_ rg-bytes zstd --seed $((seed++)) --rows 3000 --rg-bytes 40000 --batch-rows 500 --keep
groups=$(duck "SELECT count(*), max(row_group_bytes) FROM (SELECT DISTINCT row_group_id,
  row_group_bytes FROM parquet_metadata('$WORK/rg-bytes.parquet'))")
read -r ngroups maxbytes <<<"$groups"
[ "$ngroups" -ge 5 ] || fail "rg-bytes: $ngroups row groups, expected at least 5"
rm -f "$WORK"/rg-bytes.*
# A larger table with default pages and several row groups.
case_ large zstd --seed $((seed++)) --rows 60000 --rg-rows 25000 --batch-rows 9000

# The project's reader (pq_reader) read every case back inside pq_roundtrip. Here it reads
# files DuckDB wrote from the same table, with each codec and small row groups (DuckDB's
# dictionaries, PLAIN pages and page sizes), and corrupt files.
"$TOOL" --codec zstd --seed 77 --rows 5000 --rg-rows 1000 --out "$WORK/src.parquet" \
  --expect "$WORK/src.tsv" --meta "$WORK/src.meta" || fail "duck source"
for dc in zstd snappy uncompressed; do
  duck "COPY (SELECT * FROM read_parquet('$WORK/src.parquet')) TO '$WORK/duck-$dc.parquet'
        (FORMAT parquet, COMPRESSION $dc, ROW_GROUP_SIZE 2048)" >/dev/null
  "$TOOL" --seed 77 --rows 5000 --check "$WORK/duck-$dc.parquet" ||
    fail "the reader differs from DuckDB's $dc file"
  n=$((n + 1))
done
size=$(stat -c %s "$WORK/src.parquet")
for cut in 0 3 11 100 $((size / 2)) $((size - 9)) $((size - 1)); do
  head -c "$cut" "$WORK/src.parquet" >"$WORK/cut.parquet"
  rc=0
  "$TOOL" --seed 77 --rows 5000 --check "$WORK/cut.parquet" 2>"$WORK/cut.err" || rc=$?
  [ "$rc" = 1 ] || fail "a file cut at $cut bytes: exit $rc (1 expected, with a message)"
  expect_grep "cut.parquet: " "$WORK/cut.err"
done
# Bytes flipped in the pages and in the footer: an error or the same rows, never a crash.
for off in 100 2000 $((size / 3)) $((size - 40)) $((size - 200)); do
  cp "$WORK/src.parquet" "$WORK/flip.parquet"
  printf '\xff\x00\x7f' | dd of="$WORK/flip.parquet" bs=1 seek="$off" conv=notrunc 2>/dev/null
  rc=0
  "$TOOL" --seed 77 --rows 5000 --check "$WORK/flip.parquet" 2>"$WORK/flip.err" || rc=$?
  [ "$rc" = 0 ] || [ "$rc" = 1 ] || fail "bytes flipped at $off: exit $rc"
done

echo "$n cases checked by DuckDB and hyparquet (and the project's reader)"
pass
