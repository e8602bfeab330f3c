#!/usr/bin/env bash
# End-to-end tests of `wave run` and `wave stats` on this machine's kernel: usage errors, the
# missing-privilege message, live stats, and that every thread wave pinned gets its original
# affinity and slice back however wave ends: SIGTERM (wave restores), SIGKILL of wave (its
# guardian restores), the command killed (wave restores), and SIGKILL of wave and its guardian
# together (`wave restore`, or the next `wave run`, restores from the journal they left). Each
# case pins the threads of a process that outlives wave's child (workload tree), then checks them. Needs root (or CAP_BPF
# + CAP_PERFMON) and BTF; otherwise it prints WAVE_SKIP: and passes.
#
# Usage: run_test.sh PATH_TO_WAVE PATH_TO_WORKLOAD (Bazel passes their rootpaths).
set -uo pipefail

abs() { case "$1" in /*) echo "$1" ;; *) echo "$PWD/$1" ;; esac; }
wave=$(abs "${1:?wave}")
workload=$(abs "${2:?workload}")
tmp="${TEST_TMPDIR:-$(mktemp -d)}"
failures=0
fail() {
  echo "FAIL: $*" >&2
  failures=$((failures + 1))
}

# Usage errors need no privilege: exit 2, one line on stderr.
for args in "run" "run --" "run true" "run --cpus=x -- true" "run --cpus=64 -- true" \
  "run --batch=2s -- true" "run --policy=nope -- true" "stats --pid=x" "stats stray" \
  "restore stray" "restore --all"; do
  # shellcheck disable=SC2086
  "$wave" $args >"$tmp/out" 2>"$tmp/err"
  rc=$?
  [ "$rc" -eq 2 ] || fail "wave $args: exit $rc, want 2"
  [ "$(wc -l <"$tmp/err")" -eq 1 ] || fail "wave $args: stderr not one line: $(cat "$tmp/err")"
  grep -q '^wave: ' "$tmp/err" || fail "wave $args: stderr: $(cat "$tmp/err")"
done
for help in "run --help" "help run" "stats -h" "help stats"; do
  # shellcheck disable=SC2086
  "$wave" $help >"$tmp/out" 2>&1 || fail "wave $help: exit $?"
  grep -q -- '--cpus\|--pid' "$tmp/out" || fail "wave $help: no flags in the help"
done
for help in "restore --help" "help restore"; do
  # shellcheck disable=SC2086
  "$wave" $help >"$tmp/out" 2>&1 || fail "wave $help: exit $?"
  grep -q 'wave-journal' "$tmp/out" || fail "wave $help: $(cat "$tmp/out")"
done
"$wave" --help >"$tmp/out" 2>&1
grep -q '^  restore ' "$tmp/out" || fail "wave --help: no restore command"

# Without CAP_BPF and CAP_PERFMON (and CAP_SYS_ADMIN, which implies them) wave names them.
if command -v setpriv >/dev/null && [ "$(id -u)" -eq 0 ]; then
  setpriv --bounding-set=-bpf,-perfmon,-sys_admin --inh-caps=-all "$wave" run -- true \
    >"$tmp/out" 2>"$tmp/err"
  rc=$?
  [ "$rc" -eq 1 ] || fail "without caps: exit $rc, want 1"
  grep -q 'missing: CAP_BPF, CAP_PERFMON' "$tmp/err" || fail "without caps: $(cat "$tmp/err")"
  [ "$(wc -l <"$tmp/err")" -eq 1 ] || fail "without caps: stderr not one line"
fi

# From here on the kernel is needed.
"$wave" run -- true >"$tmp/out" 2>"$tmp/err"
rc=$?
if [ "$rc" -ne 0 ] && grep -q 'needs root\|no BTF' "$tmp/err"; then
  echo "WAVE_SKIP: $(head -n 1 "$tmp/err")"
  [ "$failures" -eq 0 ] || exit 1
  exit 0
fi
[ "$rc" -eq 0 ] || fail "wave run -- true: exit $rc: $(cat "$tmp/err")"
grep -q 'dropped 0' "$tmp/err" || fail "wave run -- true: no 'dropped 0' in $(cat "$tmp/err")"
grep -q 'TASK_DEAD 1' "$tmp/err" || fail "wave run -- true: no 'TASK_DEAD 1' in $(cat "$tmp/err")"

original=$("$workload" show $$ | sed 's/ nice.*//; s/policy [0-9]* //')  # "mask 0,1 ..."
original_slice=$("$workload" show $$ | sed 's/.*slice //')

workers() { awk '/^worker/ {print $2}' "$1" 2>/dev/null; }

# wait_for CONDITION-FUNCTION ARGS: polls for at most 30 s (a deadline, not a timing assertion).
wait_for() {
  local i
  for i in $(seq 1 3000); do
    if "$@"; then return 0; fi
    sleep 0.01
  done
  return 1
}

all_pinned() {
  local t n=0
  for t in $(workers "$1"); do
    "$workload" show "$t" | grep -q '^mask [0-9]* ' || return 1
    n=$((n + 1))
  done
  [ "$n" -eq 3 ]
}

all_restored() {
  local t s
  for t in $(workers "$1"); do
    s=$("$workload" show "$t") || return 1
    [ "$(echo "$s" | sed 's/ nice.*//; s/policy [0-9]* //')" = "$original" ] || return 1
    [ "${s##*slice }" = "$original_slice" ] || return 1
  done
}

# Whatever happens (a failed case, a timeout's SIGTERM), nothing is left behind: every workload
# is told to stop, a wave still running is ended, and journals left by killed ones are restored.
stops=()
wave_pid=""
cleanup() {
  local s
  for s in "${stops[@]}"; do touch "$s"; done
  if [ -n "$wave_pid" ] && kill -0 "$wave_pid" 2>/dev/null; then
    kill -TERM "$wave_pid"
    wait "$wave_pid" 2>/dev/null
  fi
  "$wave" restore >/dev/null 2>&1
}
trap cleanup EXIT
trap 'exit 143' TERM INT  # so that the EXIT trap runs on a timeout too

# start NAME: wave runs the pin policy on a `workload tree` whose spinners outlive wave's child.
start() {
  out="$tmp/$1.out"
  stop="$tmp/$1.stop"
  rm -f "$out" "$stop"
  stops+=("$stop")
  "$wave" run --policy=pin -- "$workload" tree 3 "$stop" "$out" wait 2>"$tmp/$1.err" &
  wave_pid=$!
  wait_for all_pinned "$out" || fail "$1: threads never pinned: $(cat "$tmp/$1.err")"
}

finish() {
  touch "$stop"
  wait_for test ! -e "/proc/$(workers "$out" | head -n 1)" || fail "$1: workload did not stop"
}

# Live counters while it runs; gone after.
start stats
"$wave" stats --pid="$wave_pid" >"$tmp/stats" 2>&1 || fail "wave stats: exit $?"
grep -q "wave run $wave_pid" "$tmp/stats" || fail "wave stats: $(cat "$tmp/stats")"
grep -q 'TASK_ON_CPU' "$tmp/stats" || fail "wave stats: no events: $(cat "$tmp/stats")"
"$wave" stats --format=json --pid="$wave_pid" | python3 -c 'import json,sys; json.load(sys.stdin)' ||
  fail "wave stats --format=json: not JSON"
kill -TERM "$wave_pid"
wait "$wave_pid"
rc=$?
[ "$rc" -eq 143 ] || fail "SIGTERM: wave exited $rc, want 143 (the child's death by SIGTERM)"
all_restored "$out" || fail "SIGTERM: threads not restored"
[ ! -e "/dev/shm/wave-journal.$wave_pid" ] || fail "SIGTERM: journal left behind"
"$wave" stats --pid="$wave_pid" >/dev/null 2>&1 && fail "wave stats after exit: still listed"
grep -q 'threads restored [1-9]' "$tmp/stats.err" || fail "SIGTERM: $(cat "$tmp/stats.err")"
finish stats

# SIGKILL: wave cannot restore; its guardian does, as soon as wave is gone.
start kill
kill -KILL "$wave_pid"
wait "$wave_pid" 2>/dev/null
wait_for all_restored "$out" || fail "SIGKILL of wave: threads not restored by the guardian"
wait_for test ! -e "/dev/shm/wave-run.$wave_pid" || fail "SIGKILL: stats file left behind"
wait_for test ! -e "/dev/shm/wave-journal.$wave_pid" || fail "SIGKILL: journal left behind"
finish kill

# The command killed: wave sees its child die, restores, exits with 128 + 9.
start child
# wave's children are the command and the guardian: `wave stats` names the command.
child=$("$wave" stats --format=json --pid="$wave_pid" |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["child"])')
kill -KILL "$child"
wait "$wave_pid"
rc=$?
[ "$rc" -eq 137 ] || fail "child killed: wave exited $rc, want 137"
all_restored "$out" || fail "child killed: threads not restored"
[ ! -e "/dev/shm/wave-journal.$wave_pid" ] || fail "child killed: journal left behind"
finish child

# SIGKILL of wave and its guardian: nobody restores, the journal stays in /dev/shm.
kill_both() {
  local child guardian="" c kids
  # wave's children are the command (which `wave stats` names) and the guardian.
  child=$("$wave" stats --format=json --pid="$wave_pid" |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["child"])')
  read -ra kids <"/proc/$wave_pid/task/$wave_pid/children"
  for c in "${kids[@]}"; do
    [ "$c" = "$child" ] || guardian=$c
  done
  journal="/dev/shm/wave-journal.$wave_pid"
  [ -e "$journal" ] || fail "$1: no $journal"
  # The guardian first: killed before wave's pipe closes, it never restores.
  if [ -n "$guardian" ]; then kill -KILL "$guardian"; else fail "$1: no guardian found"; fi
  kill -KILL "$wave_pid"
  wait "$wave_pid" 2>/dev/null
  all_pinned "$out" || fail "$1: threads restored although wave and its guardian were killed"
  [ -e "$journal" ] || fail "$1: journal gone with wave and its guardian"
}

# ... then `wave restore` restores from it, and removes it and the stats file.
start orphan
kill_both orphan
"$wave" restore >"$tmp/restore.out" 2>"$tmp/restore.err" || fail "wave restore: exit $?"
[ ! -s "$tmp/restore.err" ] || fail "wave restore: stderr: $(cat "$tmp/restore.err")"
grep -qx "restored [1-9][0-9]* threads* from $journal" "$tmp/restore.out" ||
  fail "wave restore: $(cat "$tmp/restore.out")"
all_restored "$out" || fail "orphan: threads not restored by wave restore"
[ ! -e "$journal" ] || fail "orphan: wave restore left the journal"
[ ! -e "/dev/shm/wave-run.$wave_pid" ] || fail "orphan: wave restore left the stats file"
"$wave" restore >"$tmp/restore.out" 2>&1 || fail "wave restore (again): exit $?"
! grep -q "$journal" "$tmp/restore.out" || fail "wave restore (again): $(cat "$tmp/restore.out")"
finish orphan

# ... or the next `wave run` does, first, and says so.
start orphan-run
kill_both orphan-run
"$wave" run -- true >/dev/null 2>"$tmp/next.err" || fail "next wave run: exit $?"
grep -q "^wave run: restored [1-9][0-9]* threads* from $journal" "$tmp/next.err" ||
  fail "next wave run: $(cat "$tmp/next.err")"
all_restored "$out" || fail "orphan-run: threads not restored by the next wave run"
[ ! -e "$journal" ] || fail "orphan-run: the next wave run left the journal"
finish orphan-run

if [ "$failures" -ne 0 ]; then
  echo "run_test: $failures failure(s)" >&2
  exit 1
fi
echo "run_test: all passed"
