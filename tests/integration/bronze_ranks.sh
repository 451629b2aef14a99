#!/usr/bin/env bash
# labels: mpi duckdb h5py
# processors: 4
# Bronze is the same set of rows for -np 1, 2, 3, 4 and for more ranks than records; it equals
# DuckDB's read_csv of the same generated files (every quirk of SPEC §3); the HDF5 file holds the
# same rows as the Parquet parts.
source "$(dirname "$0")/lib.sh"

"$ATHLETE_BIN" gen --scale 0.02 --seed 7 --out "$WORK/src" --quiet
for t in athlete_bio athlete_event_results; do
  export_csv_source "$WORK/src/$t.csv" "$WORK/duck_$t.csv"
done

for np in 1 2 3 4; do
  mpi "$np" landing-to-bronze --source "$WORK/src" --lake "$WORK/lake$np" --quiet ||
    fail "landing-to-bronze -np $np"
  for t in athlete_bio athlete_event_results; do
    d="$WORK/lake$np/bronze/$t"
    [ -f "$d/_SUCCESS" ] || fail "no _SUCCESS in $d"
    export_parquet "$d/*.parquet" "$WORK/np${np}_$t.csv"
    rows h5 "$d/$t.h5" "$WORK/np${np}_$t.csv" || fail "-np $np $t: HDF5 and Parquet differ"
    if [ "$np" = 1 ]; then
      rows csv "$WORK/np1_$t.csv" "$WORK/duck_$t.csv" || fail "$t: bronze differs from DuckDB read_csv"
    else
      rows csv "$WORK/np${np}_$t.csv" "$WORK/np1_$t.csv" || fail "$t: -np $np differs from -np 1"
    fi
  done
  n=$(ls "$WORK/lake$np/bronze/athlete_bio/"part-*.parquet | wc -l)
  [ "$n" = "$np" ] || fail "-np $np wrote $n Parquet parts"
done

# More ranks than records: 2 records per file on 4 ranks.
mkdir -p "$WORK/tiny"
head -n 3 "$WORK/src/athlete_event_results.csv" >"$WORK/tiny/athlete_event_results.csv"
printf 'athlete_id,name,sex,born,height,weight,country,country_noc,description,special_notes\r\n1,A,Male,1900,180,80, France,FRA,,\r\n2,B,Female,,,,Chad,CHA,"x\r\ny",\r\n' \
  >"$WORK/tiny/athlete_bio.csv"
mpi 4 landing-to-bronze --source "$WORK/tiny" --lake "$WORK/tinylake" --quiet || fail "tiny -np 4"
mpi 1 landing-to-bronze --source "$WORK/tiny" --lake "$WORK/tinylake1" --quiet || fail "tiny -np 1"
for t in athlete_bio athlete_event_results; do
  export_parquet "$WORK/tinylake/bronze/$t/*.parquet" "$WORK/t4.csv"
  export_parquet "$WORK/tinylake1/bronze/$t/*.parquet" "$WORK/t1.csv"
  rows csv "$WORK/t4.csv" "$WORK/t1.csv" || fail "tiny $t: -np 4 differs from -np 1"
  [ "$(rows count "$WORK/t4.csv")" = 2 ] || fail "tiny $t: expected 2 rows"
  rows h5 "$WORK/tinylake/bronze/$t/$t.h5" "$WORK/t4.csv" || fail "tiny $t: HDF5 differs"
done
pass
