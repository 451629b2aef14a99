#!/usr/bin/env bash
# A Kafka-protocol broker on this machine for laptops and the tests: `athlete kafka-mock`
# (librdkafka's mock cluster, the real protocol over TCP on 127.0.0.1) in the background.
#
#   scripts/kafka-local.sh start [kafka-mock options]   start (idempotent), e.g.
#                                   --topic athlete_event_results:4 --brokers 3
#   scripts/kafka-local.sh stop     stop it (SIGTERM; the cluster and its data go away)
#   scripts/kafka-local.sh status   pid, bootstrap list, topics; exit 0 only when it runs
#   scripts/kafka-local.sh env      print "export ATHLETE_BROKERS=..." for eval
#   scripts/kafka-local.sh control "COMMAND"   a fault command (broker down 1, errors Produce
#                                   5 NOT_LEADER_FOR_PARTITION, topic NAME:P, help, ...); prints
#                                   the broker's answer, exit 1 when it is an error
#
# The mock listens on random ports, so clients find it through ATHLETE_BROKERS (which every
# athlete Kafka command reads): eval "$(scripts/kafka-local.sh env)". Everything lives under
# $ATHLETE_KAFKA_DIR (default /tmp/athlete-kafka): pid, bootstrap, control (a FIFO), log.
# The binary: $ATHLETE_BIN, else build/athlete of this checkout, else athlete on PATH.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
dir=${ATHLETE_KAFKA_DIR:-/tmp/athlete-kafka}
bin=${ATHLETE_BIN:-}
if [ -z "$bin" ]; then
  if [ -x "$here/build/athlete" ]; then bin=$here/build/athlete; else bin=$(command -v athlete || true); fi
fi

die() {
  echo "kafka-local: $*" >&2
  exit 1
}

running() {
  [ -s "$dir/pid" ] && kill -0 "$(cat "$dir/pid")" 2>/dev/null
}

start() {
  if running; then
    echo "kafka-local: already running (pid $(cat "$dir/pid")) at $(cat "$dir/bootstrap")" >&2
    return 0
  fi
  [ -n "$bin" ] && [ -x "$bin" ] || die "no athlete binary (build it with scripts/build.sh, or set ATHLETE_BIN)"
  mkdir -p "$dir"
  rm -f "$dir/bootstrap" "$dir/pid"
  # A new session, no terminal, no inherited descriptors above 2: the broker outlives the
  # shell that started it and holds none of its pipes.
  (
    for fd in /proc/self/fd/*; do
      fd=${fd##*/}
      [ "$fd" -gt 2 ] 2>/dev/null && eval "exec $fd>&-" 2>/dev/null
    done
    exec setsid "$bin" kafka-mock --bootstrap-file "$dir/bootstrap" --control "$dir/control" "$@" \
      </dev/null >>"$dir/log" 2>&1
  ) &
  echo $! >"$dir/pid"
  for _ in $(seq 100); do
    [ -s "$dir/bootstrap" ] && break
    running || die "kafka-mock exited at start; see $dir/log: $(tail -3 "$dir/log")"
    sleep 0.1
  done
  [ -s "$dir/bootstrap" ] || die "kafka-mock did not write $dir/bootstrap within 10 s"
  echo "kafka-local: running (pid $(cat "$dir/pid")) at $(cat "$dir/bootstrap")" >&2
}

stop() {
  if ! running; then
    rm -f "$dir/pid"
    echo "kafka-local: not running" >&2
    return 0
  fi
  local pid
  pid=$(cat "$dir/pid")
  kill -TERM "$pid"
  for _ in $(seq 100); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -0 "$pid" 2>/dev/null && die "pid $pid did not stop within 10 s"
  rm -f "$dir/pid"
  echo "kafka-local: stopped" >&2
}

status() {
  running || {
    echo "kafka-local: not running" >&2
    return 1
  }
  echo "pid $(cat "$dir/pid"), brokers $(cat "$dir/bootstrap")"
  "$bin" topics list --brokers "$(cat "$dir/bootstrap")" --timeout 5 | sed 's/^/topic /'
}

control() {
  running || die "not running"
  local before
  before=$(grep -c '' "$dir/log" || true)
  printf '%s\n' "$*" >"$dir/control"
  for _ in $(seq 100); do
    local line
    line=$(tail -n +"$((before + 1))" "$dir/log" | grep -m1 -E '^(ok|error): ' || true)
    if [ -n "$line" ]; then
      echo "$line"
      case $line in ok:*) return 0 ;; *) return 1 ;; esac
    fi
    sleep 0.05
  done
  die "no answer to '$*' within 5 s"
}

cmd=${1:-}
shift || true
case $cmd in
start) start "$@" ;;
stop) stop ;;
status) status ;;
env)
  running || die "not running (scripts/kafka-local.sh start)"
  echo "export ATHLETE_BROKERS=$(cat "$dir/bootstrap")"
  ;;
control) control "$@" ;;
*)
  echo "usage: scripts/kafka-local.sh start [kafka-mock options] | stop | status | env | control COMMAND" >&2
  exit 2
  ;;
esac
