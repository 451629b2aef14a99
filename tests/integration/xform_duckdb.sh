#!/usr/bin/env bash
# Silver and gold against the independent DuckDB reference (tests/reference/pipeline.sql, the
# whole pipeline in SQL straight from the CSVs): tests/tools/xform_check writes its generated
# dataset (every quirk; see xform_ranks.sh) as the two CSV exports, runs silver + gold on 2
# ranks, and DuckDB runs the reference on the CSVs. Gold must have the same groups, in the same
# order, with the same n_rows and null pattern, and averages equal to a relative 1e-12 (DuckDB
# sums in floating point, athlete exactly); silver row counts must be equal.
# labels: mpi duckdb
# processors: 2
source "$(dirname "$0")/lib.sh"
export LSAN_OPTIONS="$LSAN_OPTIONS:fast_unwind_on_malloc=0"

TOOL=$ATHLETE_BUILD/tests/xform_check
[ -x "$TOOL" ] || fail "$TOOL not built"
mkdir -p "$WORK/csv" "$WORK/ours" "$WORK/ref"
"$ATHLETE_SRC/scripts/mpirun.sh" -np 2 "$TOOL" --rows 6000 --seed 13 --split 5 \
  --out "$WORK/ours" --csv "$WORK/csv" >"$WORK/tool.log" 2>&1 || {
  cat "$WORK/tool.log" >&2
  fail "xform_check"
}
sed -e "s#@BIO@#$WORK/csv/athlete_bio.csv#; s#@RESULTS@#$WORK/csv/athlete_event_results.csv#" \
  -e "s#@OUT@#$WORK/ref#g; s#@TS_US@#1700000000000000#" \
  "$ATHLETE_SRC/tests/reference/pipeline.sql" >"$WORK/pipeline.sql"
duck -f "$WORK/pipeline.sql" >"$WORK/ref/gold.tsv" || fail "DuckDB reference pipeline"

for t in athlete_bio athlete_event_results; do
  want=$(duck "SELECT count(*) FROM '$WORK/ref/silver_$t.parquet'")
  got=$(wc -l <"$WORK/ours/silver_$t.txt")
  [ "$want" = "$got" ] || fail "silver $t: DuckDB has $want rows, athlete $got"
  bronze=$(duck "SELECT count(*) FROM '$WORK/ref/bronze_$t.parquet'")
  [ "$bronze" -gt "$got" ] || fail "bronze $t has $bronze rows: CSV not read whole?"
done

# The tool's gold has no timestamp column: compare the first seven.
cut -f1-7 "$WORK/ref/gold.tsv" >"$WORK/ref/gold7.tsv"
/usr/bin/python3 "$ATHLETE_SRC/tests/integration/gold_compare.py" "$WORK/ours/gold.tsv" \
  "$WORK/ref/gold7.tsv" || fail "gold differs from DuckDB"
pass
