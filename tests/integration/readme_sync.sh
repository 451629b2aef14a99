#!/usr/bin/env bash
# labels: docs
# The README stays true: it shows the tested h5py reader verbatim, lists every command that
# `athlete --help` lists, every option of every command's --help, and the exit codes.
source "$(dirname "$0")/lib.sh"
readme="$ATHLETE_SRC/README.md"

/usr/bin/python3 - "$readme" "$ATHLETE_SRC/tests/integration/h5_reader.py" <<'PY' || fail "README's h5py reader differs from tests/integration/h5_reader.py"
import sys
readme, reader = open(sys.argv[1]).read(), open(sys.argv[2]).read().strip()
sys.exit(0 if reader in readme else 1)
PY

commands=$("$ATHLETE_BIN" --help | awk '/^commands:/ {on=1; next} on && NF {print $1} on && !NF {exit}')
[ -n "$commands" ] || fail "no commands in athlete --help"
for c in $commands; do
  grep -q "athlete $c" "$readme" || fail "README does not mention 'athlete $c'"
  for o in $("$ATHLETE_BIN" "$c" --help | grep -oE -- '--[a-z][a-z0-9-]+' | sort -u); do
    grep -q -- "$o" "$readme" || fail "README does not document $o (athlete $c --help)"
  done
done
for code in 0 1 2 3; do
  grep -qE "^\| $code \|" "$readme" || fail "README's exit-code table lacks $code"
done
pass
