#!/usr/bin/env bash
# labels: mpi
# processors: 2
# Every committed table's _manifest.json lists its input files (path, size, mtime: checked
# against the files themselves) and the command's step timings so far (SPEC §7), for `run` and
# for the stage commands (whose inputs are the previous layer's files).
source "$(dirname "$0")/lib.sh"
cp -r "$ATHLETE_SRC/data" "$WORK/src"
mpi 2 run --source "$WORK/src" --lake "$WORK/lake" --quiet || fail "run"
mpi 2 bronze-to-silver --lake "$WORK/lake" --quiet || fail "bronze-to-silver"
mpi 2 silver-to-gold --lake "$WORK/lake" --quiet || fail "silver-to-gold"
/usr/bin/python3 - "$WORK" <<'PY' || fail "manifests"
import json, os, sys
w = sys.argv[1]
def check(table, want):
    m = json.load(open(f"{w}/lake/{table}/_manifest.json"))
    got = [i["path"] for i in m["inputs"]]
    assert got == want, (table, got, want)
    for i in m["inputs"]:
        st = os.stat(i["path"])
        assert (i["size"], i["mtime"]) == (st.st_size, int(st.st_mtime)), (table, i)
    assert m["timings_s"] and all(v >= 0 for v in m["timings_s"].values()), (table, m["timings_s"])
    return m
src = f"{w}/src"
check("bronze/athlete_bio", [f"{src}/athlete_bio.csv"])
check("bronze/athlete_event_results", [f"{src}/athlete_event_results.csv"])
check("rejects/athlete_bio", [f"{src}/athlete_bio.csv"])
b = f"{w}/lake/bronze"
check("silver/athlete_bio", [f"{b}/athlete_bio/athlete_bio.h5"])
check("rejects/silver_athlete_event_results", [f"{b}/athlete_event_results/athlete_event_results.h5"])
s = f"{w}/lake/silver"
m = check("gold/avg_stats", [f"{s}/athlete_bio/athlete_bio.h5", f"{s}/athlete_event_results/athlete_event_results.h5"])
assert "gold.compute" in m["timings_s"] and "silver.read.athlete_bio" in m["timings_s"], m["timings_s"]
PY
pass
