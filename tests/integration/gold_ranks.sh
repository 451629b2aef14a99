#!/usr/bin/env bash
# labels: mpi duckdb
# processors: 4
# SPEC §4 determinism: the gold files — Parquet and HDF5 — are byte-identical for -np 1, 2, 3, 4
# (timestamp fixed by SOURCE_DATE_EPOCH); `run` and the three separate commands, each with a
# different rank count, give identical gold; every layer holds the same set of rows whatever the
# rank count.
ATHLETE_LEAK_CHECK=1 # the whole pipeline (and its error paths) under LeakSanitizer
source "$(dirname "$0")/lib.sh"

"$ATHLETE_BIN" gen --scale 0.03 --seed 11 --out "$WORK/src" --quiet
for np in 1 2 3 4; do
  mpi "$np" run --source "$WORK/src" --lake "$WORK/run$np" --quiet ||
    fail "run -np $np"
done
g=gold/avg_stats
for np in 2 3 4; do
  same_file "$WORK/run1/$g/part-00000.parquet" "$WORK/run$np/$g/part-00000.parquet"
  same_file "$WORK/run1/$g/avg_stats.h5" "$WORK/run$np/$g/avg_stats.h5"
  for t in athlete_bio athlete_event_results; do
    export_parquet "$WORK/run1/silver/$t/*.parquet" "$WORK/a.csv"
    export_parquet "$WORK/run$np/silver/$t/*.parquet" "$WORK/b.csv"
    rows csv "$WORK/a.csv" "$WORK/b.csv" || fail "silver $t: -np $np differs from -np 1"
  done
done
[ "$(ls "$WORK/run4/$g/"*.parquet | wc -l)" = 1 ] || fail "gold must be one Parquet part"

# The separate stage commands, each with another rank count, write the same gold.
mpi 3 landing-to-bronze --source "$WORK/src" --lake "$WORK/stages" --quiet || fail "l2b"
mpi 1 bronze-to-silver --lake "$WORK/stages" --quiet || fail "b2s"
mpi 4 silver-to-gold --lake "$WORK/stages" --quiet || fail "s2g"
same_file "$WORK/run1/$g/part-00000.parquet" "$WORK/stages/$g/part-00000.parquet"
same_file "$WORK/run1/$g/avg_stats.h5" "$WORK/stages/$g/avg_stats.h5"

# Gold is not empty and has the SPEC's schema and order.
n=$(duck "SELECT count(*) FROM read_parquet('$WORK/run1/$g/*.parquet')")
[ "$n" -gt 10 ] || fail "gold has only $n rows"
cols=$(duck "SELECT string_agg(column_name || ':' || column_type, ',') FROM (DESCRIBE SELECT * FROM read_parquet('$WORK/run1/$g/*.parquet'))")
[ "$cols" = "sport:VARCHAR,medal:VARCHAR,sex:VARCHAR,country_noc:VARCHAR,avg_height:DOUBLE,avg_weight:DOUBLE,n_rows:BIGINT,timestamp:TIMESTAMP WITH TIME ZONE" ] ||
  fail "gold schema: $cols"
ts=$(duck "SELECT DISTINCT epoch(timestamp)::BIGINT FROM read_parquet('$WORK/run1/$g/*.parquet')")
[ "$ts" = "$SOURCE_DATE_EPOCH" ] || fail "timestamp $ts is not SOURCE_DATE_EPOCH"
pass
