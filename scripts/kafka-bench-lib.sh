# Shared by scripts/bench-kafka.sh and scripts/bench-ingest.sh (sourced, not run): a broker
# for the run, fresh topics, and the arithmetic. Expects $bin (build/athlete) and $work (a
# scratch folder, removed at exit).

# mock_start: athlete kafka-mock with 3 brokers in the background; exports ATHLETE_BROKERS and
# sets B to the bootstrap list.
mock_start() {
  "$bin" kafka-mock --brokers 3 --bootstrap-file "$work/bootstrap" --control "$work/ctl" \
    >"$work/mock.out" 2>"$work/mock.err" </dev/null &
  mock=$!
  trap 'kill $mock 2>/dev/null || true; wait $mock 2>/dev/null || true; rm -rf "$work"' EXIT
  for _ in $(seq 100); do [ -s "$work/bootstrap" ] && break; sleep 0.1; done
  B=$(cat "$work/bootstrap")
  export ATHLETE_BROKERS=$B
}

# new_topic: creates a fresh topic of 64 partitions through the mock's control FIFO and prints
# its name (the mock keeps the last 5 MiB of each partition: 64 hold a whole scale-1 results
# table). Callers take the name with $(new_topic), a subshell, so the name comes from the clock
# rather than from a counter the subshell could not keep.
new_topic() {
  local name before
  name=bench$(date +%s%N)
  before=$(grep -c '' "$work/mock.out" || true)
  echo "topic $name:64" >"$work/ctl"
  for _ in $(seq 100); do
    [ "$(grep -c '' "$work/mock.out")" -gt "$before" ] && break
    sleep 0.05
  done
  echo "$name"
}

median() { sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
now() { date +%s.%N; }

# machine_lines: the benchmark's date, machine and versions, as Markdown list items.
machine_lines() {
  echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC'); machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
  local commit
  commit=$(git -C "$here" rev-parse --short HEAD 2>/dev/null || echo '?')
  git -C "$here" diff --quiet HEAD -- src 2>/dev/null || commit="$commit + uncommitted changes in src/"
  echo "- athlete $("$bin" --version | cut -d' ' -f2) (commit $commit); $(kcat -V 2>&1 | sed -n 's/^Version \([^ ]*\) .*librdkafka \([^ ]*\).*/kcat \1 with librdkafka \2/p' | head -1)"
  echo "- broker: athlete kafka-mock (librdkafka's mock cluster, 3 brokers, one process) on this machine; topics of 64 partitions"
}
