#!/usr/bin/env bash
# labels: mpi duckdb
# processors: 2
# Issue 4: `athlete run` on generated data with every quirk gives the gold of an independent
# reference computed by DuckDB SQL straight from the CSVs (tests/reference/pipeline.sql, SPEC §4):
# same groups in the same order, same n_rows and nulls, averages equal to a relative 1e-12
# (DuckDB sums doubles in floating point, athlete exactly); silver row counts match; `60-64`
# never becomes 6064.
source "$(dirname "$0")/lib.sh"

"$ATHLETE_BIN" gen --scale 0.05 --seed 5 --out "$WORK/src" --quiet
mpi 2 run --source "$WORK/src" --lake "$WORK/lake" --quiet || fail "athlete run"
mkdir -p "$WORK/ref"
sed -e "s#@BIO@#$WORK/src/athlete_bio.csv#; s#@RESULTS@#$WORK/src/athlete_event_results.csv#" \
  -e "s#@OUT@#$WORK/ref#g; s#@TS_US@#${SOURCE_DATE_EPOCH}000000#" \
  "$ATHLETE_SRC/tests/reference/pipeline.sql" >"$WORK/pipeline.sql"
duck -f "$WORK/pipeline.sql" >/dev/null || fail "DuckDB reference pipeline"

for t in athlete_bio athlete_event_results; do
  want=$(duck "SELECT count(*) FROM '$WORK/ref/silver_$t.parquet'")
  got=$(duck "SELECT count(*) FROM read_parquet('$WORK/lake/silver/$t/*.parquet')")
  [ "$want" = "$got" ] || fail "silver $t: DuckDB has $want rows, athlete $got"
  # The same rows, as a set, once averages are out of the picture.
  export_parquet "$WORK/ref/silver_$t.parquet" "$WORK/ref_$t.csv"
  export_parquet "$WORK/lake/silver/$t/*.parquet" "$WORK/our_$t.csv"
  rows csv "$WORK/ref_$t.csv" "$WORK/our_$t.csv" || fail "silver $t rows differ from DuckDB"
done

# 60-64 and "72, 74" weights are null in silver, never 6064 or 7274.
n=$(duck "SELECT count(*) FROM read_parquet('$WORK/lake/silver/athlete_bio/*.parquet') WHERE weight IN (6064, 7274) OR height IN (6064, 7274)")
[ "$n" = 0 ] || fail "a range weight became a number"
grep -q ',60-64,' "$WORK/src/athlete_bio.csv" || fail "generated data lacks a 60-64 weight"

q="SELECT sport, medal, sex, country_noc, avg_height, avg_weight, n_rows, epoch_us(timestamp) FROM read_parquet('%s') ORDER BY ALL"
duck "$(printf "$q" "$WORK/lake/gold/avg_stats/*.parquet")" >"$WORK/ours.tsv"
duck "$(printf "$q" "$WORK/ref/gold_avg_stats.parquet")" >"$WORK/ref.tsv"
/usr/bin/python3 "$ATHLETE_SRC/tests/integration/gold_compare.py" "$WORK/ours.tsv" "$WORK/ref.tsv" ||
  fail "gold differs from DuckDB"
# The file's own order is the SPEC's: by the four keys, byte order, nulls first.
duck "SELECT sport, medal, sex, country_noc FROM read_parquet('$WORK/lake/gold/avg_stats/*.parquet')" >"$WORK/order.tsv"
duck "SELECT sport, medal, sex, country_noc FROM read_parquet('$WORK/ref/gold_avg_stats.parquet')" >"$WORK/reforder.tsv"
cmp -s "$WORK/order.tsv" "$WORK/reforder.tsv" || fail "gold rows are not in SPEC order"
pass
