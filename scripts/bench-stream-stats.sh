#!/usr/bin/env bash
# Benchmark of `stream-stats` (never part of the tests' pass/fail), in two parts:
#  1. Throughput: a backlog of a whole scale-K results topic (athlete produce), drained by
#     stream-stats (default batches: 100000 messages or 1 s) against kcat -C reading the same
#     topic to /dev/null in the same run, alternating, median of REPS. stream-stats' rate is over
#     its consuming time (first message to last commit, --metrics stream_stats.consume); its
#     restore (empty here) and --until-idle wait are outside it.
#  2. Latency: the same messages re-sent by kcat -P at a steady RATE messages/s (chunks every
#     0.1 s) while stream-stats runs (--batch-ms 1000, the default, and 100): the time from a
#     message's timestamp (set by kcat's producer) to the commit of the transaction that
#     published its group, p50 and p99 over every message (--metrics stream_stats.latency_*).
# Each run's last values on the output topic are checked against batch gold of the same CSV
# (tests/integration/stream_stats_check.py). Writes bench/results-stream-stats.md (or --out).
#
#   scripts/bench-stream-stats.sh [--scale 1] [--reps 3] [--rate 20000] [--out FILE]
#
# Needs build/, kcat and Debian's python3-h5py.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
scale=1
reps=3
rate=20000
out="$here/bench/results-stream-stats.md"
while [ $# -gt 0 ]; do
  case "$1" in
  --scale) scale=$2; shift 2 ;;
  --reps) reps=$2; shift 2 ;;
  --rate) rate=$2; shift 2 ;;
  --out) out=$2; shift 2 ;;
  *) echo "bench-stream-stats.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
bin="$here/build/athlete"
[ -x "$bin" ] || { echo "bench-stream-stats.sh: build first: scripts/build.sh build" >&2; exit 1; }
command -v kcat >/dev/null || { echo "bench-stream-stats.sh: kcat is needed (apt-get install kcat)" >&2; exit 1; }
work=$(mktemp -d /tmp/athlete-bench-stats.XXXXXX)
src="$here/bench/cache/scale$scale"
[ -f "$src/athlete_event_results.csv" ] || "$bin" gen --scale "$scale" --seed 42 --out "$src" --quiet
source "$here/scripts/kafka-bench-lib.sh"
mock_start
mpirun=("$here/scripts/mpirun.sh" --bind-to core)
idle=3
L=$work/lake
export SOURCE_DATE_EPOCH=1700000000
"${mpirun[@]}" -np 2 "$bin" run --source "$src" --lake "$L" --quiet
gold=$L/gold/avg_stats/avg_stats.h5

topic=$(new_topic)
"${mpirun[@]}" -np 2 "$bin" produce --topic "$topic" --source "$src" --quiet
kcat -b "$B" -C -t "$topic" -e -q -X isolation.level=read_committed -f '%k\t%s\n' >"$work/msgs.tsv"
rows=$(grep -c '' "$work/msgs.tsv")

metric() { # FILE NAME
  /usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["steps_max_rank_seconds"][sys.argv[2]])' "$1" "$2"
}
check() { # OUT-TOPIC: its last values against gold
  kcat -b "$B" -C -t "$1" -e -q -X isolation.level=read_committed -J >"$work/out.json"
  /usr/bin/python3 "$here/tests/integration/stream_stats_check.py" "$work/out.json" "$gold" >&2
}
run_kcat() {
  local t0
  t0=$(now)
  kcat -b "$B" -C -t "$topic" -e -o beginning -q -X isolation.level=read_committed >/dev/null
  echo "$(now) - $t0" | bc -l
}
run_stats() { # prints "consume-seconds peak-rss-MB updates"
  local o k=$RANDOM
  o=$(new_topic)
  "$bin" stream-stats --topic "$topic" --out-topic "$o" --group "b$(date +%s%N)" --lake "$L" \
    --until-idle "$idle" --metrics "$work/m$k.json" 2>"$work/s$k.err"
  check "$o"
  local rss upd
  rss=$(/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["peak_rss_bytes_max_rank"] / 2**20)' "$work/m$k.json")
  upd=$(grep -oE '\([0-9]+ group updates' "$work/s$k.err" | grep -oE '[0-9]+')
  echo "$(metric "$work/m$k.json" stream_stats.consume) $rss $upd"
}

{
  echo "# Benchmark: athlete stream-stats"
  echo
  machine_lines
  echo "- data: scale $scale athlete_event_results.csv produced by athlete produce: $rows messages; silver athlete_bio and gold from athlete run of the same CSVs"
  echo "- every run's last value per key on its output topic equals batch gold, averages bit for bit (stream_stats_check.py)"
  echo "- command: scripts/bench-stream-stats.sh --scale $scale --reps $reps --rate $rate"
  echo
  echo "## Throughput: a backlog of the whole topic (median of $reps runs, alternating)"
  echo
  echo "stream-stats decodes, types, cleans, dedupes (against every row seen), joins and aggregates each message, writes a checkpoint (fsynced) and commits a Kafka transaction per batch; kcat -C -e reads the topic to /dev/null, the floor of any consumer."
  echo
  echo "| consumer | consuming s | messages/s | vs kcat | peak RSS MB | group updates |"
  echo "| --- | --- | --- | --- | --- | --- |"
} >"$work/table.md"
: >"$work/k"
: >"$work/c"
: >"$work/r"
for _ in $(seq 1 "$reps"); do
  run_kcat >>"$work/k"
  read -r c r u < <(run_stats)
  echo "$c" >>"$work/c"
  echo "$r" >>"$work/r"
done
kt=$(median <"$work/k")
ct=$(median <"$work/c")
krate=$(echo "$rows / $kt" | bc -l)
crate=$(echo "$rows / $ct" | bc -l)
printf '| kcat -C -e (no group) | %.2f | %.0f | 1.00 | - | - |\n' "$kt" "$krate" >>"$work/table.md"
printf '| athlete stream-stats | %.2f | %.0f | %.2f | %.0f | %s |\n' "$ct" "$crate" \
  "$(echo "$crate / $krate" | bc -l)" "$(median <"$work/r")" "$u" >>"$work/table.md"

# Latency: re-send the messages at a steady rate while stream-stats runs.
paced() { # TOPIC: kcat -P of msgs.tsv in chunks of rate/10 lines every 0.1 s
  local chunk=$((rate / 10)) t0 i=0 n pids=()
  split -l "$chunk" -d -a 5 "$work/msgs.tsv" "$work/chunk."
  t0=$(now)
  for f in "$work"/chunk.*; do
    kcat -b "$B" -P -t "$1" -K $'\t' -z lz4 <"$f" &
    pids+=($!)
    i=$((i + 1))
    n=$(echo "$t0 + $i * 0.1 - $(now)" | bc -l)
    case $n in -*) ;; *) sleep "$n" ;; esac
  done
  wait "${pids[@]}" # (not the broker, which runs in the background too)
  rm -f "$work"/chunk.*
}
{
  echo
  echo "## Latency: messages re-sent by kcat -P at $rate messages/s while stream-stats runs"
  echo
  echo "From each message's timestamp (kcat's producer sets it) to the commit of the transaction that published its group's new value; over every message of the run."
  echo
  echo "| --batch-ms | messages | p50 s | p99 s | batches |"
  echo "| --- | --- | --- | --- | --- |"
} >>"$work/table.md"
for ms in 1000 100; do
  in=$(new_topic)
  o=$(new_topic)
  "$bin" stream-stats --topic "$in" --out-topic "$o" --group "lat$ms" --lake "$L" \
    --batch-ms "$ms" --until-idle "$idle" --metrics "$work/lat$ms.json" 2>"$work/lat$ms.err" &
  pid=$!
  sleep 1
  paced "$in"
  wait "$pid"
  check "$o"
  b=$(grep -oE '[0-9]+ batches committed' "$work/lat$ms.err" | grep -oE '^[0-9]+')
  printf '| %s | %s | %.3f | %.3f | %s |\n' "$ms" "$rows" "$(metric "$work/lat$ms.json" stream_stats.latency_p50)" \
    "$(metric "$work/lat$ms.json" stream_stats.latency_p99)" "$b" >>"$work/table.md"
done
cp "$work/table.md" "$out"
cat "$out"
