#!/usr/bin/env bash
# labels: kafka mpi
# processors: 2
# `produce` faced with bad options, bad rows and a hostile cluster, against a real broker
# process: unreachable brokers end within --timeout naming the addresses; invalid -X / -F
# properties are usage errors naming the property; secrets (-X sasl.password, a properties
# file's ssl.key.password) appear in no output, log line or --metrics file; a row larger than
# message.max.bytes is rejected with the reason while the rest is delivered; a topic the
# cluster does not have is an error naming it; a second producer of the same topic and table
# fences the first, which ends with librdkafka's reason.
source "$(dirname "$0")/lib.sh"
R=athlete_event_results

# Unreachable brokers: exit 1 within the timeout, naming the bootstrap list.
t0=$(date +%s)
expect_status 1 mpi 2 produce --topic t --source "$ATHLETE_SRC/data" --brokers 127.0.0.1:9,127.0.0.1:7 \
  --timeout 3
[ $(($(date +%s) - t0)) -le 10 ] || fail "unreachable brokers: took more than --timeout allows"
expect_grep "cannot reach the Kafka cluster at 127.0.0.1:9,127.0.0.1:7 within 3 s" "$WORK/last.err"

# Invalid properties: usage errors (exit 2) naming the property, before anything starts.
expect_status 2 "$ATHLETE_BIN" produce --topic t --source "$ATHLETE_SRC/data" -X no.such.property=1
expect_grep '-X no.such.property: No such configuration property' "$WORK/last.err"
expect_status 2 "$ATHLETE_BIN" produce --topic t --source "$ATHLETE_SRC/data" -Xlinger.ms=soon
expect_grep '-X linger.ms: Invalid value' "$WORK/last.err"
expect_status 2 "$ATHLETE_BIN" topics list -X novalue
expect_grep '-X novalue: expected key=value' "$WORK/last.err"
printf 'client.id = ok\nthis line is wrong\n' >"$WORK/bad.props"
expect_status 2 "$ATHLETE_BIN" topics list -F "$WORK/bad.props"
expect_grep "bad.props:2: expected key=value" "$WORK/last.err"
expect_status 1 "$ATHLETE_BIN" topics list -F "$WORK/missing.props"
expect_grep "missing.props: cannot open" "$WORK/last.err"
expect_status 0 "$ATHLETE_BIN" topics list -X list
expect_grep "^linger.ms" "$WORK/last.out"

kafka_mock --brokers 3 --topic t:4 --topic big:2 --topic fence:8

# Secrets never printed: not in errors, progress, librdkafka's logs (debug on) or --metrics.
S1=Pa55-From-The-Command-Line
S2=Key-Pa55-From-A-File
printf '# test properties\nssl.key.password = %s\nclient.id=secret-test\n' "$S2" >"$WORK/secret.props"
mpi 2 produce --topic t --source "$ATHLETE_SRC/data" -X sasl.username=me -X "sasl.password=$S1" \
  -F "$WORK/secret.props" -X debug=conf,security,generic --metrics "$WORK/secret.json" \
  >"$WORK/secret.out" 2>"$WORK/secret.err" || fail "produce with secrets set failed"
grep -q "sasl.password" "$WORK/secret.err" || fail "debug=conf printed no configuration to check"
# ... and when the connection fails because of them (SASL against a plaintext broker).
mpi 1 produce --topic t --source "$ATHLETE_SRC/data" -X security.protocol=sasl_plaintext \
  -X sasl.mechanisms=PLAIN -X sasl.username=me -X "sasl.password=$S1" -F "$WORK/secret.props" \
  --timeout 2 --metrics "$WORK/secret2.json" >>"$WORK/secret.out" 2>>"$WORK/secret.err" &&
  fail "SASL against a plaintext broker succeeded"
# ... and in an invalid value's message.
"$ATHLETE_BIN" topics list -X "ssl.key.password=$S1" -X "sasl.kerberos.min.time.before.relogin=$S2" \
  >>"$WORK/secret.out" 2>>"$WORK/secret.err" && fail "an invalid value was accepted"
for s in "$S1" "$S2"; do
  if grep -l -- "$s" "$WORK/secret.out" "$WORK/secret.err" "$WORK/secret.json" "$WORK/secret2.json"; then
    fail "a secret was printed"
  fi
done

# A row larger than the client's message.max.bytes: rejected (with the reason), the rest sent.
expect_status 0 mpi 2 produce --topic big --table athlete_bio --source "$ATHLETE_SRC/data" \
  -X message.max.bytes=1000 --lake "$WORK/lake" --max-reject-fraction 1
consume big "$WORK/big.json"
/usr/bin/python3 - "$WORK/big.json" <<'PY' || fail "a delivered message is larger than message.max.bytes"
import json, sys
msgs = [json.loads(l) for l in open(sys.argv[1])]
sys.exit(0 if msgs and all(len(m["payload"].encode()) < 1000 for m in msgs) else 1)
PY
big=$(duck "SELECT count(*) FROM read_parquet('$WORK/lake/rejects/athlete_bio/*.parquet') WHERE reason LIKE 'message too large: JSON value of % bytes (above the client''s message.max.bytes)' AND length(raw) > 800")
[ "$big" -gt 0 ] || fail "no row was rejected as too large"
total=$(duck "SELECT count(*) FROM read_parquet('$WORK/lake/rejects/athlete_bio/*.parquet')")
sent=$(grep -c '' "$WORK/big.json")
mpi 1 landing-to-bronze --source "$ATHLETE_SRC/data" --lake "$WORK/ref" --formats parquet --quiet
rows=$(duck "SELECT (SELECT count(*) FROM read_parquet('$WORK/ref/bronze/athlete_bio/*.parquet')) + (SELECT count(*) FROM read_parquet('$WORK/ref/rejects/athlete_bio/*.parquet'))")
expect_grep "produce +athlete_bio +$rows +$sent +$total " "$WORK/last.err"
[ $((sent + total)) = "$rows" ] || fail "oversized: $sent sent + $total rejected != $rows records"

# A topic the cluster does not have (the mock creates topics on a producer's first request
# unless the client asks it not to).
expect_status 1 "$ATHLETE_BIN" produce --topic absent --source "$ATHLETE_SRC/data" \
  -X allow.auto.create.topics=false
expect_grep "topic 'absent' does not exist on .*athlete topics create" "$WORK/last.err"

# Fatal producer errors end the run with librdkafka's reason: a producer fenced (the broker
# answers a Produce request with INVALID_PRODUCER_EPOCH, as it does when a newer producer with
# the same transactional id started; the mock does not fence by itself), and a cluster that
# refuses transactions (then --transaction-ms 0 still works).
mock_cmd "errors Produce 1 INVALID_PRODUCER_EPOCH"
t0=$(date +%s)
expect_status 1 mpi 1 produce --topic fence --source "$ATHLETE_SRC/data"
[ $(($(date +%s) - t0)) -lt 20 ] || fail "a fenced producer waited out its message timeout"
expect_grep "error: .*old epoch.*fenced by newer producer instance" "$WORK/last.err"
mock_cmd "errors InitProducerId 1 TRANSACTIONAL_ID_AUTHORIZATION_FAILED"
expect_status 1 mpi 1 produce --topic fence --source "$ATHLETE_SRC/data"
expect_grep "error: init transactions .*--transaction-ms 0.*Transactional Id authorization failed" "$WORK/last.err"
expect_status 0 mpi 2 produce --topic fence --source "$ATHLETE_SRC/data" --transaction-ms 0
mock_stop
pass
