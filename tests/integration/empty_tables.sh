#!/usr/bin/env bash
# labels: mpi duckdb h5py
# processors: 3
# A table of zero rows still yields valid, empty bronze, silver and gold files (Parquet read by
# DuckDB, HDF5 by h5py), whatever the rank count; results without any bio row are not an error.
source "$(dirname "$0")/lib.sh"

mkdir -p "$WORK/empty" "$WORK/nobio"
printf 'athlete_id,name,sex,born,height,weight,country,country_noc,description,special_notes\r\n' \
  >"$WORK/empty/athlete_bio.csv"
printf '\xef\xbb\xbfedition,edition_id,country_noc,sport,event,result_id,athlete,athlete_id,pos,medal,isTeamSport\n' \
  >"$WORK/empty/athlete_event_results.csv"
cp "$WORK/empty/athlete_bio.csv" "$WORK/nobio/"
cp "$WORK/empty/athlete_event_results.csv" "$WORK/nobio/"
printf '1908 Summer Olympics,5,FRA,Athletics,"100 metres, Men",1,A,17,1,Gold,False\n' \
  >>"$WORK/nobio/athlete_event_results.csv"

for np in 1 3; do
  mpi "$np" run --source "$WORK/empty" --lake "$WORK/lake$np" --quiet || fail "run on empty tables, -np $np"
  for t in bronze/athlete_bio bronze/athlete_event_results silver/athlete_bio \
    silver/athlete_event_results gold/avg_stats; do
    d="$WORK/lake$np/$t"
    [ -f "$d/_SUCCESS" ] || fail "$t not committed"
    [ "$(duck "SELECT count(*) FROM read_parquet('$d/*.parquet')")" = 0 ] || fail "$t not empty"
    /usr/bin/python3 -c "
import sys; sys.path.insert(0, '$ATHLETE_SRC/tests/integration')
from h5_reader import read_table
cols = read_table('$d/${t#*/}.h5')
assert cols and all(len(v) == 0 for v in cols.values()), cols" || fail "$t: HDF5 not a valid empty table"
  done
done
cols=$(duck "SELECT count(*) FROM (DESCRIBE SELECT * FROM read_parquet('$WORK/lake3/gold/avg_stats/*.parquet'))")
[ "$cols" = 8 ] || fail "empty gold has $cols columns"

mpi 2 run --source "$WORK/nobio" --lake "$WORK/nobiolake" 2>"$WORK/nobio.err" || fail "results without bio"
expect_grep "1 result rows have no bio row" "$WORK/nobio.err"
[ "$(duck "SELECT count(*) FROM read_parquet('$WORK/nobiolake/gold/avg_stats/*.parquet')")" = 0 ] ||
  fail "gold should be empty when no result has a bio row"
pass
