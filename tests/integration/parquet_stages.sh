#!/usr/bin/env bash
# labels: mpi
# processors: 3
# A lake written with --formats parquet alone is carried through the stage commands by the
# project's Parquet reader (each rank its row range across the parts, whatever rank count
# wrote them): gold is byte-identical to `athlete run`'s, and `show` gives the same rows from
# Parquet-only tables as from HDF5 ones.
source "$(dirname "$0")/lib.sh"
P="$WORK/parquet" B="$WORK/both"
mpi 2 landing-to-bronze --source "$ATHLETE_SRC/data" --lake "$P" --formats parquet --quiet ||
  fail "landing-to-bronze"
ls "$P/bronze/athlete_bio/"*.h5 >/dev/null 2>&1 && fail "--formats parquet wrote an HDF5 file"
mpi 3 bronze-to-silver --lake "$P" --formats parquet --quiet || fail "bronze-to-silver over Parquet"
mpi 1 silver-to-gold --lake "$P" --formats parquet --quiet || fail "silver-to-gold over Parquet"
mpi 2 run --source "$ATHLETE_SRC/data" --lake "$B" --quiet || fail "run"
same_file "$P/gold/avg_stats/part-00000.parquet" "$B/gold/avg_stats/part-00000.parquet"
for t in bronze/athlete_event_results silver/athlete_bio silver/athlete_event_results gold/avg_stats; do
  "$ATHLETE_BIN" show --lake "$P" "$t" --limit 100000 >"$WORK/p.txt" || fail "show $t (Parquet)"
  "$ATHLETE_BIN" show --lake "$B" "$t" --limit 100000 >"$WORK/b.txt" || fail "show $t (HDF5)"
  same_file "$WORK/p.txt" "$WORK/b.txt"
done
rows=$(head -1 "$WORK/p.txt" | grep -oE '[0-9]+ rows')
[ -n "$rows" ] || fail "show printed no row count"
# The manifest of a table read from Parquet names the folder it was read from.
grep -q "\"path\": \"$P/bronze/athlete_bio\"" "$P/silver/athlete_bio/_manifest.json" ||
  fail "silver's manifest does not name the Parquet parts it read"
pass
