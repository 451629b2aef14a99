#!/usr/bin/env bash
# Benchmark of the DuckDB baseline itself (never part of the tests' pass/fail): every formulation
# of the SPEC §4 pipeline in bench/duckdb/*.sql (the same five zstd Parquet files and the same
# printed gold, written differently: tables vs COPY chains, insertion order, macros, ...) on the
# same generated files, alternating formulations within each repetition, median of REPS runs and
# peak RSS. Each formulation's first run at each scale and thread count is checked against the
# first formulation's: printed gold (keys, n_rows, nulls exact; averages to a relative 1e-12,
# tests/integration/gold_compare.py) and the row counts of the four bronze and silver files.
# Prints a Markdown table and writes it to bench/results-duckdb.md.
#
#   scripts/bench-duckdb.sh [--scales "1 10"] [--threads "1 2"] [--reps 3]
#                           [--formulations "A B C"] [--out FILE] [--workdir DIR]
# --formulations picks files by the start of their name (default: all, in name order; the first
# one is the reference of the check, so keep A first). --workdir puts DuckDB's outputs under DIR
# (default a new folder in /tmp). Generated data is cached in bench/cache/scale<K>/ (as
# scripts/bench.sh does, with build/athlete gen; scripts/build.sh build makes it).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
scales="1 10"
threads=$(seq 1 "$(nproc)" | tr '\n' ' ')
reps=3
picks=""
out="$here/bench/results-duckdb.md"
workroot=/tmp
cmdline="scripts/bench-duckdb.sh"
for a in "$@"; do
  case "$a" in *\ *) cmdline="$cmdline \"$a\"" ;; *) cmdline="$cmdline $a" ;; esac
done
while [ $# -gt 0 ]; do
  case "$1" in
  --scales) scales=$2; shift 2 ;;
  --threads) threads=$2; shift 2 ;;
  --reps) reps=$2; shift 2 ;;
  --formulations) picks=$2; shift 2 ;;
  --out) out=$2; shift 2 ;;
  --workdir) workroot=$2; shift 2 ;;
  *) echo "bench-duckdb.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done

forms=()
if [ -z "$picks" ]; then
  for f in "$here"/bench/duckdb/*.sql; do forms+=("$(basename "$f" .sql)"); done
else
  for p in $picks; do
    found=0
    for f in "$here"/bench/duckdb/"$p"*.sql; do
      [ -f "$f" ] || continue
      forms+=("$(basename "$f" .sql)")
      found=1
    done
    [ $found = 1 ] || { echo "bench-duckdb.sh: no bench/duckdb/$p*.sql" >&2; exit 2; }
  done
fi
[ ${#forms[@]} -gt 0 ] || { echo "bench-duckdb.sh: no formulations in bench/duckdb/" >&2; exit 2; }
ref=${forms[0]}

work=$(mktemp -d "$workroot/athlete-bench-duckdb.XXXXXX")
trap 'rm -rf "$work"' EXIT
export SOURCE_DATE_EPOCH=1700000000
duck() { node "$here/tests/duck.mjs" "$@"; }

median() { sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }

# run_form FORM THREADS SRC: runs one formulation; prints "wall_s peak_rss_bytes"; leaves its
# printed gold in $work/gold.tsv and its five files in $work/duck/.
run_form() {
  local form=$1 th=$2 src=$3 dout="$work/duck"
  rm -rf "$dout" && mkdir -p "$dout"
  sed -e "s|@BIO@|$src/athlete_bio.csv|g" -e "s|@RESULTS@|$src/athlete_event_results.csv|g" \
    -e "s|@OUT@|$dout|g" -e "s|@TS_US@|${SOURCE_DATE_EPOCH}000000|g" \
    "$here/bench/duckdb/$form.sql" >"$work/p.sql"
  local t0 t1
  t0=$(date +%s.%N)
  /usr/bin/time -f "%M" -o "$work/duck.rss" node "$here/tests/duck.mjs" --threads "$th" \
    -f "$work/p.sql" >"$work/gold.tsv"
  t1=$(date +%s.%N)
  echo "$(echo "$t1 - $t0" | bc -l) $(($(cat "$work/duck.rss") * 1024))"
}

# counts: the row counts of the four bronze and silver files just written, one line.
counts() {
  local t c=""
  for t in bronze_athlete_bio bronze_athlete_event_results silver_athlete_bio \
    silver_athlete_event_results; do
    c="$c $(duck "SELECT count(*) FROM read_parquet('$work/duck/$t.parquet')")"
  done
  echo "${c# }"
}

# check FORM KEY: compares the run just made with the reference's run for KEY (scale_threads);
# prints "yes" or what differs.
check() {
  local form=$1 key=$2 c msg
  c=$(counts)
  if [ "$form" = "$ref" ]; then
    cp "$work/gold.tsv" "$work/ref-$key.tsv"
    echo "$c" >"$work/ref-$key.counts"
    echo "reference"
    return
  fi
  if ! msg=$(/usr/bin/python3 "$here/tests/integration/gold_compare.py" "$work/gold.tsv" \
    "$work/ref-$key.tsv" 1 2>&1); then
    echo "NO: gold: $msg"
    return
  fi
  [ "$c" = "$(cat "$work/ref-$key.counts")" ] || { echo "NO: counts $c"; return; }
  if cmp -s "$work/gold.tsv" "$work/ref-$key.tsv"; then echo "yes (gold bit for bit)"; else echo "yes"; fi
}

ver=$(node -p "require('$here/tests/node_modules/@duckdb/node-api/package.json').version" 2>/dev/null || echo '?')
load0=$(cut -d' ' -f1-3 /proc/loadavg)
: >"$work/rows"
for k in $scales; do
  src="$here/bench/cache/scale$k"
  if [ ! -f "$src/athlete_event_results.csv" ]; then
    bin="$here/build/athlete"
    [ -x "$bin" ] || { echo "bench-duckdb.sh: $bin missing (scripts/build.sh build)" >&2; exit 1; }
    "$bin" gen --scale "$k" --seed 42 --out "$src" --quiet
  fi
  mb=$(du -cb "$src"/*.csv | tail -n 1 | awk '{printf "%.1f", $1 / 1e6}')
  for th in $threads; do
    key="${k}_$th"
    for f in "${forms[@]}"; do : >"$work/t-$f"; done
    n=${#forms[@]}
    for r in $(seq 1 "$reps"); do
      # Alternate: every repetition runs each formulation once, starting one further along.
      for i in $(seq 0 $((n - 1))); do
        # (repetition 1 starts with the reference, so the others can be checked against it)
        f=${forms[$(((i + r - 1) % n))]}
        run_form "$f" "$th" "$src" >>"$work/t-$f"
        if [ "$r" = 1 ]; then
          check "$f" "$key" >"$work/ok-$f"
          echo "scale $k, $th threads, $f: $(tail -n 1 "$work/t-$f" | cut -d' ' -f1) s, $(cat "$work/ok-$f")" >&2
          [ "$f" != "$ref" ] || counts_ref=$(cat "$work/ref-$key.counts")
        fi
      done
    done
    for f in "${forms[@]}"; do
      med=$(cut -d' ' -f1 "$work/t-$f" | median)
      lo=$(cut -d' ' -f1 "$work/t-$f" | sort -g | head -n 1)
      hi=$(cut -d' ' -f1 "$work/t-$f" | sort -g | tail -n 1)
      rss=$(cut -d' ' -f2 "$work/t-$f" | sort -g | tail -n 1)
      echo "$k|$mb|$th|$f|$med|$lo|$hi|$rss|$(cat "$work/ok-$f")" >>"$work/rows"
    done
    echo "scale $k, $th threads: bronze bio, bronze results, silver bio, silver results rows: $counts_ref" >>"$work/counts"
  done
done
load1=$(cut -d' ' -f1-3 /proc/loadavg)

{
  echo "# Benchmark: formulations of the DuckDB baseline (bench/duckdb/*.sql)"
  echo
  echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC'); machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(free -g | awk '/Mem:/ {print $2}') GiB"
  echo "- DuckDB $ver via tests/duck.mjs --threads T (node startup included, as in scripts/bench.sh); commit $(git -C "$here" rev-parse --short HEAD 2>/dev/null || echo '?')"
  echo "- wall seconds: median of $reps runs, formulations alternating within each repetition; RSS: the largest peak resident set of the DuckDB process over the runs"
  echo "- outputs written under $workroot ($(df --output=fstype "$workroot" | tail -n 1)); load average (1, 5, 15 min) before $load0, after $load1"
  echo "- equal to ${ref%%-*}: the first run's printed gold matches ${ref}'s (keys, n_rows, nulls exact, averages to a relative 1e-12) and so do the bronze and silver row counts"
  echo "- command: $cmdline"
  echo
  echo "Median seconds:"
  echo
  printf '| formulation |'
  for k in $scales; do for th in $threads; do printf ' scale %s, %s thr |' "$k" "$th"; done; done
  echo
  printf '| --- |'
  for k in $scales; do for th in $threads; do printf ' --- |'; done; done
  echo
  for f in "${forms[@]}"; do
    printf '| %s |' "$f"
    for k in $scales; do
      for th in $threads; do
        printf ' %.2f |' "$(awk -F'|' -v k="$k" -v t="$th" -v f="$f" '$1 == k && $3 == t && $4 == f {print $5}' "$work/rows")"
      done
    done
    echo
  done
  echo
  echo "All runs:"
  echo
  echo "| scale | input MB | threads | formulation | median s | min s | max s | vs ${ref%%-*} | peak RSS MB | equal to ${ref%%-*} |"
  echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
  while IFS='|' read -r k mb th f med lo hi rss ok; do
    base=$(awk -F'|' -v k="$k" -v t="$th" -v f="$ref" '$1 == k && $3 == t && $4 == f {print $5}' "$work/rows")
    printf '| %s | %s | %s | %s | %.2f | %.2f | %.2f | %.2f | %.0f | %s |\n' "$k" "$mb" "$th" "$f" \
      "$med" "$lo" "$hi" "$(echo "$med / $base" | bc -l)" "$(echo "$rss / 1000000" | bc -l)" "$ok"
  done <"$work/rows"
  echo
  sed 's/^/- /' "$work/counts"
  echo
  echo "Formulations (the first line of each file's header):"
  echo
  for f in "${forms[@]}"; do
    echo "- $(head -n 1 "$here/bench/duckdb/$f.sql" | sed 's/^-- //')"
  done
} >"$out"
cat "$out"
