#!/usr/bin/env bash
# Benchmark of `ingest` (never part of the tests' pass/fail): athlete ingest at 1 and 2 members
# landing a topic into committed Parquet batch files (fsync included) against kcat -C -e -o
# beginning reading the same topic to /dev/null, in the same run, alternating, median of REPS.
# Then the end-to-end streaming path at the same scale: produce -> ingest -> landing-to-bronze
# --tables athlete_bio -> bronze-to-silver -> silver-to-gold, each step's time, and a check that
# its gold equals `athlete run`'s. Writes bench/results-ingest.md (or --out).
#
#   scripts/bench-ingest.sh [--scale 1] [--members "1 2"] [--reps 3] [--out FILE]
#
# ingest's rate is over its consuming time (first assignment to last commit, from --metrics:
# ingest.consume); the group join (ingest.join) and the --until-idle wait are shown apart, and
# the wall time too. kcat's simple consumer joins no group. Needs build/ and kcat.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
scale=1
members="1 2"
reps=3
out="$here/bench/results-ingest.md"
while [ $# -gt 0 ]; do
  case "$1" in
  --scale) scale=$2; shift 2 ;;
  --members) members=$2; shift 2 ;;
  --reps) reps=$2; shift 2 ;;
  --out) out=$2; shift 2 ;;
  *) echo "bench-ingest.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
bin="$here/build/athlete"
[ -x "$bin" ] || { echo "bench-ingest.sh: build first: scripts/build.sh build" >&2; exit 1; }
command -v kcat >/dev/null || { echo "bench-ingest.sh: kcat is needed (apt-get install kcat)" >&2; exit 1; }
work=$(mktemp -d /tmp/athlete-bench-ingest.XXXXXX)
src="$here/bench/cache/scale$scale"
[ -f "$src/athlete_event_results.csv" ] || "$bin" gen --scale "$scale" --seed 42 --out "$src" --quiet
source "$here/scripts/kafka-bench-lib.sh"
mock_start
mpirun=("$here/scripts/mpirun.sh" --bind-to core)
idle=3

topic=$(new_topic)
"${mpirun[@]}" -np 2 "$bin" produce --topic "$topic" --source "$src" --quiet
rows=$(kcat -b "$B" -C -t "$topic" -e -q -X isolation.level=read_committed -f '\n' | grep -c '')

run_kcat() {
  local t0
  t0=$(now)
  kcat -b "$B" -C -t "$topic" -e -o beginning -q -X isolation.level=read_committed >/dev/null
  echo "$(now) - $t0" | bc -l
}
metric() { # FILE NAME
  /usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["steps_max_rank_seconds"][sys.argv[2]])' "$1" "$2"
}
run_ingest() { # MEMBERS: prints "consume join wall"
  local t0 wall k=$RANDOM
  rm -rf "$work/lake$k"
  t0=$(now)
  # A fresh group each run (from the clock: this runs in a subshell): a group the last run just
  # left would hold the join back until the mock times its member out.
  "${mpirun[@]}" -np "$1" "$bin" ingest --topic "$topic" --group "bench$(date +%s%N)" --lake "$work/lake$k" \
    --until-idle "$idle" --quiet --metrics "$work/m$k.json"
  wall=$(echo "$(now) - $t0" | bc -l)
  echo "$(metric "$work/m$k.json" ingest.consume) $(metric "$work/m$k.json" ingest.join) $wall"
  rm -rf "$work/lake$k"
}

{
  echo "# Benchmark: athlete ingest vs kcat -C, same topic, same broker"
  echo
  machine_lines
  echo "- data: scale $scale athlete_event_results.csv produced by athlete produce: $rows messages"
  echo "- ingest writes zstd Parquet batch files (--batch-rows 100000, the default) and fsyncs each file and log entry; kcat -C -e -o beginning reads to /dev/null"
  echo "- seconds: median of $reps runs, alternating; rate = messages / consuming seconds (first assignment to last commit, the slowest member); join and wall time (which includes --until-idle $idle) shown apart"
  echo "- command: scripts/bench-ingest.sh --scale $scale --members \"$members\" --reps $reps"
  echo
  echo "| consumer | members | consuming s | messages/s | vs kcat | group join s | wall s |"
  echo "| --- | --- | --- | --- | --- | --- | --- |"
} >"$work/table.md"
: >"$work/k"
for _ in $(seq 1 "$reps"); do run_kcat >>"$work/k"; done
kt=$(median <"$work/k")
krate=$(echo "$rows / $kt" | bc -l)
printf '| kcat -C -e (no group) | 1 | %.2f | %.0f | 1.00 | - | %.2f |\n' "$kt" "$krate" "$kt" >>"$work/table.md"
for m in $members; do
  : >"$work/c"
  : >"$work/j"
  : >"$work/w"
  for _ in $(seq 1 "$reps"); do
    read -r c j w < <(run_ingest "$m")
    echo "$c" >>"$work/c"
    echo "$j" >>"$work/j"
    echo "$w" >>"$work/w"
    run_kcat >>"$work/k2"
  done
  c=$(median <"$work/c")
  rate=$(echo "$rows / $c" | bc -l)
  printf '| athlete ingest | %s | %.2f | %.0f | %.2f | %.2f | %.2f |\n' "$m" "$c" "$rate" \
    "$(echo "$rate / $krate" | bc -l)" "$(median <"$work/j")" "$(median <"$work/w")" >>"$work/table.md"
  tail -n 1 "$work/table.md" >&2
done
k2=$(median <"$work/k2")

# End to end, each step timed, gold compared with `athlete run`.
step() { # NAME CMD...
  local name=$1 t0
  shift
  t0=$(now)
  "$@" --quiet
  printf '| %s | %.2f |\n' "$name" "$(echo "$(now) - $t0" | bc -l)" >>"$work/e2e.md"
}
e2e=$(new_topic)
L=$work/e2e-lake
export SOURCE_DATE_EPOCH=1700000000
: >"$work/e2e.md"
step produce "${mpirun[@]}" -np 2 "$bin" produce --topic "$e2e" --source "$src"
step ingest "${mpirun[@]}" -np 2 "$bin" ingest --topic "$e2e" --group e2e --lake "$L" --until-idle "$idle"
step landing-to-bronze "${mpirun[@]}" -np 2 "$bin" landing-to-bronze --source "$src" --lake "$L" --tables athlete_bio
step bronze-to-silver "${mpirun[@]}" -np 2 "$bin" bronze-to-silver --lake "$L"
step silver-to-gold "${mpirun[@]}" -np 2 "$bin" silver-to-gold --lake "$L"
step "athlete run (the batch pipeline, for comparison)" "${mpirun[@]}" -np 2 "$bin" run --source "$src" --lake "$work/run-lake"
same=no
cmp -s "$L/gold/avg_stats/part-00000.parquet" "$work/run-lake/gold/avg_stats/part-00000.parquet" &&
  cmp -s "$L/gold/avg_stats/avg_stats.h5" "$work/run-lake/gold/avg_stats/avg_stats.h5" && same=yes
{
  cat "$work/table.md"
  echo
  echo "kcat's median over the runs interleaved with ingest's: $(printf '%.2f' "$k2") s (the first row: $(printf '%.2f' "$kt") s)."
  echo
  echo "## End to end at scale $scale, 2 ranks each (ingest: 2 members; its time includes the group join and --until-idle $idle)"
  echo
  echo "| step | seconds |"
  echo "| --- | --- |"
  cat "$work/e2e.md"
  echo
  echo "Gold of the streaming path byte-identical (Parquet and HDF5) to athlete run's: $same."
} >"$out"
cat "$out"
