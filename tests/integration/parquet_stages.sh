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
  for f in csv json; do
    "$ATHLETE_BIN" show --lake "$P" "$t" --limit 100000 --format $f >"$WORK/p.$f" || fail "show --format $f"
    "$ATHLETE_BIN" show --lake "$B" "$t" --limit 100000 --format $f >"$WORK/b.$f" || fail "show --format $f"
    same_file "$WORK/p.$f" "$WORK/b.$f"
  done
done
# --format json and csv hold gold's rows exactly: every value against the HDF5 file (h5py),
# doubles bit for bit; csv parses to the same fields (null as an empty field).
/usr/bin/python3 -c '
import csv, datetime, json, sys
sys.path.insert(0, sys.argv[4])
from h5_reader import read_table
rows = json.load(open(sys.argv[1]))
g = read_table(sys.argv[3])
names = list(g)
assert [list(r) for r in rows] == [names] * len(rows), "column order"
assert len(rows) == len(g[names[0]]) > 0, "row count"
for i, r in enumerate(rows):
    for c in names:
        want = g[c][i]
        if c == "timestamp":
            want = datetime.datetime.fromtimestamp(want / 1e6, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        got = r[c]
        if isinstance(want, float):  # a JSON number: 60 is the double 60.0
            got = float(got) if isinstance(got, (int, float)) and not isinstance(got, bool) else got
        assert got == want and type(got) == type(want), (i, c, r[c], want)
with open(sys.argv[2], newline="") as f:
    lines = list(csv.reader(f))
assert lines[0] == names, lines[0]
for r, line in zip(rows, lines[1:]):
    for v, x in zip(r.values(), line):
        assert (v is None and x == "") or (isinstance(v, float) and float(x) == v) or str(v) == x, (v, x)
assert len(lines) == len(rows) + 1
print("ok: show --format json and csv hold", len(rows), "gold rows exactly")
' "$WORK/p.json" "$WORK/p.csv" "$B/gold/avg_stats/avg_stats.h5" "$ATHLETE_SRC/tests/integration" ||
  fail "show --format json/csv against the HDF5 file"
rows=$(head -1 "$WORK/p.txt" | grep -oE '[0-9]+ rows')
[ -n "$rows" ] || fail "show printed no row count"
# The manifest of a table read from Parquet names the folder it was read from.
grep -q "\"path\": \"$P/bronze/athlete_bio\"" "$P/silver/athlete_bio/_manifest.json" ||
  fail "silver's manifest does not name the Parquet parts it read"
pass
