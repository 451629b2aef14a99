#!/usr/bin/env bash
# Benchmark of `produce` (never part of the tests' pass/fail): mpirun -np P athlete produce
# against kcat -P -K (librdkafka's own command-line producer, the anchor) sending the same JSON
# messages (same keys, values and two headers of the same size) to the same local broker
# (athlete kafka-mock) in the same run, alternating, median of REPS runs. Both use the same
# producer settings: idempotence on, acks=all, murmur2_random, linger.ms=20, batch.size=1000000.
# athlete is measured both with its default transactions (a commit per rank per second) and
# with --transaction-ms 0 (the idempotent producer alone, as kcat). Writes
# bench/results-kafka.md (or --out).
#
#   scripts/bench-kafka.sh [--scale 1] [--ranks "1 2"] [--reps 3] [--out FILE]
#
# Every run writes a fresh topic of 64 partitions (the mock keeps the last 5 MiB of each
# partition: 64 hold a whole scale-1 results table). Generated data is cached in
# bench/cache/scale<K>/. Needs build/ (scripts/build.sh build) and kcat.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
scale=1
ranks="1 2"
reps=3
out="$here/bench/results-kafka.md"
while [ $# -gt 0 ]; do
  case "$1" in
  --scale) scale=$2; shift 2 ;;
  --ranks) ranks=$2; shift 2 ;;
  --reps) reps=$2; shift 2 ;;
  --out) out=$2; shift 2 ;;
  *) echo "bench-kafka.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
bin="$here/build/athlete"
[ -x "$bin" ] || { echo "bench-kafka.sh: build first: scripts/build.sh build" >&2; exit 1; }
command -v kcat >/dev/null || { echo "bench-kafka.sh: kcat is needed (apt-get install kcat)" >&2; exit 1; }
work=$(mktemp -d /tmp/athlete-bench-kafka.XXXXXX)
src="$here/bench/cache/scale$scale"
[ -f "$src/athlete_event_results.csv" ] || "$bin" gen --scale "$scale" --seed 42 --out "$src" --quiet

source "$here/scripts/kafka-bench-lib.sh"
mock_start

# The same messages for kcat: key:value lines, taken from a topic athlete filled.
t=$(new_topic)
"$bin" produce --topic "$t" --source "$src" --quiet
kcat -b "$B" -C -t "$t" -e -q -X isolation.level=read_committed -f '%k:%s\n' >"$work/lines"
rows=$(grep -c '' "$work/lines")
csv_mb=$(du -b "$src/athlete_event_results.csv" | awk '{printf "%.1f", $1 / 1e6}')
json_mb=$(du -b "$work/lines" | awk '{printf "%.1f", $1 / 1e6}')
settings=(-X enable.idempotence=true -X acks=all -X partitioner=murmur2_random -X linger.ms=20
  -X batch.size=1000000 -X queue.buffering.max.messages=200000)

run_kcat() {
  local t0 topic
  topic=$(new_topic)
  t0=$(now)
  kcat -P -b "$B" -t "$topic" -K: "${settings[@]}" -H athlete.source=athlete_event_results.csv \
    -H athlete.offset=123456789 -l "$work/lines"
  echo "$(now) - $t0" | bc -l
}
run_athlete() { # NP TRANSACTION_MS
  local t0 topic
  topic=$(new_topic)
  t0=$(now)
  "$here/scripts/mpirun.sh" -np "$1" --bind-to core "$bin" produce --topic "$topic" \
    --source "$src" --transaction-ms "$2" --quiet
  echo "$(now) - $t0" | bc -l
}

{
  echo "# Benchmark: athlete produce vs kcat -P, same messages, same broker"
  echo
  machine_lines
  echo "- data: scale $scale athlete_event_results.csv, $csv_mb MB of CSV, $rows messages, $json_mb MB of key:JSON lines"
  echo "- seconds are wall time, median of $reps runs, alternating; athlete's time includes mpirun start-up, reading and parsing the CSV and encoding JSON; kcat's reading a file of ready messages"
  echo "- command: scripts/bench-kafka.sh --scale $scale --ranks \"$ranks\" --reps $reps"
  echo
  echo "| producer | processes | seconds | messages/s | messages/s per process | MB/s of JSON | per process vs kcat |"
  echo "| --- | --- | --- | --- | --- | --- | --- |"
} >"$work/table.md"

: >"$work/k"
for _ in $(seq 1 "$reps"); do run_kcat >>"$work/k"; done
kt=$(median <"$work/k")
krate=$(echo "$rows / $kt" | bc -l)
printf '| kcat -P -K: (idempotent) | 1 | %.2f | %.0f | %.0f | %.1f | 1.00 |\n' "$kt" "$krate" "$krate" \
  "$(echo "$json_mb / $kt" | bc -l)" >>"$work/table.md"
for p in $ranks; do
  for txn in 0 1000; do
    : >"$work/a"
    for _ in $(seq 1 "$reps"); do
      run_athlete "$p" "$txn" >>"$work/a"
      run_kcat >>"$work/k2"
    done
    at=$(median <"$work/a")
    rate=$(echo "$rows / $at" | bc -l)
    label="athlete produce --transaction-ms $txn"
    [ "$txn" = 0 ] && label="$label (idempotent)"
    printf '| %s | %s | %.2f | %.0f | %.0f | %.1f | %.2f |\n' "$label" "$p" "$at" "$rate" \
      "$(echo "$rate / $p" | bc -l)" "$(echo "$json_mb / $at" | bc -l)" \
      "$(echo "$rate / $p / $krate" | bc -l)" >>"$work/table.md"
    tail -n 1 "$work/table.md" >&2
  done
done
k2=$(median <"$work/k2")
{
  cat "$work/table.md"
  echo
  echo "kcat's median over the runs interleaved with athlete's: $(printf '%.2f' "$k2") s (the first row: $(printf '%.2f' "$kt") s)."
} >"$out"
cat "$out"
