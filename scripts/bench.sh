#!/usr/bin/env bash
# Benchmark (never part of the tests' pass/fail): athlete run vs DuckDB doing the same pipeline
# (tests/reference/pipeline.sql: read both CSVs, write bronze, silver and gold as zstd Parquet with
# the same typing, cleaning, dedupe, join and aggregation) on the same files, same core count,
# alternating, median of REPS runs. Prints a Markdown table and writes it to bench/results.md.
#
#   scripts/bench.sh [--scales "1 10"] [--ranks "1 2"] [--reps 3] [--formats parquet,hdf5]
#                    [--out FILE] [--workdir DIR]
# --workdir puts both outputs (athlete's lake, DuckDB's Parquet files) under DIR (default a new
# folder in /tmp), e.g. /dev/shm to take the disk out of the comparison.
#
# Generated data is cached in bench/cache/scale<K>/. athlete is measured as a user builds it:
# `cmake -DCMAKE_BUILD_TYPE=Release` (-O3), into build-release/ (configured and built here when
# needed).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
scales="1 10"
ranks=$(seq 1 "$(nproc)" | tr '\n' ' ')
reps=3
formats=parquet,hdf5
out="$here/bench/results.md"
workroot=/tmp
while [ $# -gt 0 ]; do
  case "$1" in
  --scales) scales=$2; shift 2 ;;
  --ranks) ranks=$2; shift 2 ;;
  --reps) reps=$2; shift 2 ;;
  --formats) formats=$2; shift 2 ;;
  --out) out=$2; shift 2 ;;
  --workdir) workroot=$2; shift 2 ;;
  *) echo "bench.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
rel="$here/build-release"
cmake -S "$here" -B "$rel" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$rel" -j "$(nproc)" --target athlete pq_bench >/dev/null
bin="$rel/athlete"
work=$(mktemp -d "$workroot/athlete-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT
export SOURCE_DATE_EPOCH=1700000000

median() { sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }

# run_athlete NP SRC: prints "wall_s peak_rss_bytes_max_rank metrics.json"
run_athlete() {
  local np=$1 src=$2 lake="$work/lake" m="$work/m.json"
  rm -rf "$lake"
  local t0 t1
  t0=$(date +%s.%N)
  "$here/scripts/mpirun.sh" -np "$np" --bind-to core "$bin" run --source "$src" --lake "$lake" \
    --formats "$formats" --quiet --metrics "$m" >/dev/null
  t1=$(date +%s.%N)
  local rss
  rss=$(sed -n 's/.*"peak_rss_bytes_max_rank": \([0-9]*\).*/\1/p' "$m")
  echo "$(echo "$t1 - $t0" | bc -l) $rss"
}

# run_duckdb THREADS SRC: prints "wall_s peak_rss_bytes"
run_duckdb() {
  local threads=$1 src=$2 dout="$work/duck"
  rm -rf "$dout" && mkdir -p "$dout"
  sed -e "s|@BIO@|$src/athlete_bio.csv|g" -e "s|@RESULTS@|$src/athlete_event_results.csv|g" \
    -e "s|@OUT@|$dout|g" -e "s|@TS_US@|${SOURCE_DATE_EPOCH}000000|g" "$here/tests/reference/pipeline.sql" >"$work/p.sql"
  local t0 t1
  t0=$(date +%s.%N)
  /usr/bin/time -f "%M" -o "$work/duck.rss" node "$here/tests/duck.mjs" --threads "$threads" \
    -f "$work/p.sql" >/dev/null
  t1=$(date +%s.%N)
  echo "$(echo "$t1 - $t0" | bc -l) $(($(cat "$work/duck.rss") * 1024))"
}

{
  echo "# Benchmark: athlete run vs DuckDB, same pipeline, same files"
  echo
  echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC'); machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(free -g | awk '/Mem:/ {print $2}') GiB"
  commit=$(git -C "$here" rev-parse --short HEAD 2>/dev/null || echo '?')
  git -C "$here" diff --quiet HEAD -- src 2>/dev/null || commit="$commit + uncommitted changes in src/"
  echo "- athlete $("$bin" --version | cut -d' ' -f2) (commit $commit, CMAKE_BUILD_TYPE=Release), formats $formats, zstd level 1; DuckDB $(node -p "require('$here/tests/node_modules/@duckdb/node-api/package.json').version" 2>/dev/null || echo '?') via tests/duck.mjs with SET threads = ranks"
  echo "- wall seconds are the median of $reps runs, alternating athlete and DuckDB; RSS is the peak resident set of athlete's largest rank and of the DuckDB process"
  echo "- outputs written under $workroot ($(df --output=fstype "$workroot" | tail -n 1))"
  echo "- command: scripts/bench.sh --scales \"$scales\" --ranks \"$ranks\" --reps $reps --formats $formats --workdir $workroot"
  echo
  echo "| scale | input MB | ranks/threads | athlete s | DuckDB s | ratio athlete/DuckDB | athlete MB/s | athlete peak RSS/rank MB | DuckDB peak RSS MB |"
  echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"
} >"$work/table.md"

stages=""
for k in $scales; do
  src="$here/bench/cache/scale$k"
  if [ ! -f "$src/athlete_event_results.csv" ]; then
    "$bin" gen --scale "$k" --seed 42 --out "$src" --quiet
  fi
  mb=$(du -cb "$src"/*.csv | tail -n 1 | awk '{printf "%.1f", $1 / 1e6}')
  for p in $ranks; do
    : >"$work/a" && : >"$work/d"
    for _ in $(seq 1 "$reps"); do
      run_athlete "$p" "$src" >>"$work/a"
      run_duckdb "$p" "$src" >>"$work/d"
    done
    at=$(cut -d' ' -f1 "$work/a" | median)
    dt=$(cut -d' ' -f1 "$work/d" | median)
    ar=$(cut -d' ' -f2 "$work/a" | sort -g | tail -n 1)
    dr=$(cut -d' ' -f2 "$work/d" | sort -g | tail -n 1)
    printf '| %s | %s | %s | %.2f | %.2f | %.2f | %.0f | %.0f | %.0f |\n' "$k" "$mb" "$p" "$at" "$dt" \
      "$(echo "$at / $dt" | bc -l)" "$(echo "$mb / $at" | bc -l)" "$(echo "$ar / 1000000" | bc -l)" \
      "$(echo "$dr / 1000000" | bc -l)" >>"$work/table.md"
    tail -n 1 "$work/table.md" >&2
    stages="$stages\n\n### per-step seconds (max over ranks), scale $k, $p ranks (last run)\n\n$(tr -d '\n' <"$work/m.json" | sed 's/.*"steps_max_rank_seconds": {//; s/}.*//; s/, */\n/g; s/^ *//' | sed 's/^\("[^"]*"\): \(.*\)$/- \1: \2/')"
  done
done

# The streaming benchmarks have their own scripts (they need a broker); their last results are
# carried into this file, each under its own heading, as they stand in bench/.
streaming_section() {
  local f
  for f in results-kafka.md results-ingest.md results-stream-stats.md; do
    [ -f "$here/bench/$f" ] || continue
    echo
    echo "## Streaming: bench/$f (scripts/bench-${f#results-}; not re-run by this script)" | sed 's/\.md;/.sh;/'
    echo
    sed '1d; s/^## /### /' "$here/bench/$f"
  done
}

{
  cat "$work/table.md"
  printf '%b\n' "$stages"
  echo
  echo "### Parquet encode throughput, one core (build-release/tests/pq_bench)"
  echo
  if [ -x "$rel/tests/pq_bench" ]; then "$rel/tests/pq_bench"; else echo "(pq_bench not built)"; fi
  streaming_section
} >"$out"
cat "$out"
