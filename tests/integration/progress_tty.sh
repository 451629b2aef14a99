#!/usr/bin/env bash
# labels: mpi
# processors: 2
# --progress: under a pseudo-terminal (script(1)) rank 0 redraws a live bar in place (carriage
# returns and erase-to-end-of-line, not new lines), on one rank and under mpirun, and the run
# ends with the summary; without a terminal (stderr to a file) and with --progress always the
# output is one line per step and holds no carriage return; never prints the summary alone.
source "$(dirname "$0")/lib.sh"
command -v script >/dev/null || fail "script(1) not installed (util-linux)"
D="$ATHLETE_SRC/data"
# tty FILE CMD: runs CMD under a pseudo-terminal 100 columns wide, its output into FILE.
tty() {
  local out=$1
  shift
  script -qec "stty cols 100 2>/dev/null; $*" /dev/null >"$out" </dev/null || fail "under a terminal: $*"
}
/usr/bin/python3 - >/dev/null <<'PY' || fail "python3"
PY
inplace() { # FILE: redraws (a CR not followed by LF), erase-to-end-of-line, the summary
  /usr/bin/python3 - "$1" <<'PY'
import re, sys
t = open(sys.argv[1], 'rb').read().decode('utf-8', 'replace')
redraws = re.findall(r'\r(?!\n)athlete ([a-z-]+): ', t)
ok = len(redraws) >= 10 and '\x1b[K' in t and 'bronze' in redraws and 'gold' in redraws
ok = ok and re.search(r'athlete run: done on \d ranks? in', t) and 'first rows of gold/avg_stats' in t
# The step lines are still there, above the bar.
ok = ok and 'silver: athlete_bio: 2335 rows in' in t
# The summary starts on a clean line: the bar was erased before it.
ok = ok and re.search(r'\x1b\[K\r?\n?\r?\nathlete run: done|\r\x1b\[K\r?\n?athlete run: done', t)
if not ok:
    print(repr(t[:3000]), file=sys.stderr)
    sys.exit(1)
PY
}
tty "$WORK/one.tty" "$ATHLETE_BIN" run --source "$D" --lake "$WORK/l1"
inplace "$WORK/one.tty" || fail "no live bar on one rank under a terminal"
tty "$WORK/two.tty" "$ATHLETE_SRC/scripts/mpirun.sh" -np 2 "$ATHLETE_BIN" run --source "$D" --lake "$WORK/l2"
inplace "$WORK/two.tty" || fail "no live bar under mpirun in a terminal"
tty "$WORK/bar.tty" "$ATHLETE_BIN" run --source "$D" --lake "$WORK/l3" --progress bar
inplace "$WORK/bar.tty" || fail "--progress bar draws no bar"

lines() { # FILE: one line per step, no carriage return at all, the summary
  /usr/bin/python3 - "$1" <<'PY'
import re, sys
t = open(sys.argv[1], 'rb').read().decode('utf-8', 'replace').replace('\r\n', '\n')
steps = re.findall(r'^athlete \[ *[0-9.]+s\] (bronze|silver|gold): ', t, re.M)
ok = '\r' not in t and '\x1b' not in t and len(steps) == 7 and 'athlete run: done' in t
if not ok:
    print(repr(t[:3000]), file=sys.stderr)
    sys.exit(1)
PY
}
mpi 2 run --source "$D" --lake "$WORK/l4" >/dev/null 2>"$WORK/pipe.err" || fail "run"
lines "$WORK/pipe.err" || fail "without a terminal the output is not line by line"
tty "$WORK/always.tty" "$ATHLETE_BIN" run --source "$D" --lake "$WORK/l5" --progress always
lines "$WORK/always.tty" || fail "--progress always under a terminal is not line by line"
mpi 1 run --source "$D" --lake "$WORK/l6" --progress never >/dev/null 2>"$WORK/never.err" || fail "run"
grep -q "^athlete \[" "$WORK/never.err" && fail "--progress never printed progress lines"
expect_grep "athlete run: done" "$WORK/never.err"
tty "$WORK/quiet.tty" "$ATHLETE_BIN" run --source "$D" --lake "$WORK/l7" --quiet
[ ! -s "$WORK/quiet.tty" ] || fail "--quiet printed: $(cat -v "$WORK/quiet.tty" | head -3)"
expect_status 2 "$ATHLETE_BIN" run --source "$D" --lake "$WORK/l8" --progress sometimes
expect_grep "not auto, bar, always or never" "$WORK/last.err"
pass
