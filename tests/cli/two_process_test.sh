#!/usr/bin/env bash
# Two processes: `wave sim --session=NAME` (the host, in real time) and `wave agent
# --session=NAME` (the agent) over a shared-memory session. Checks a clean run, a handshake
# mismatch reported on both sides, a killed agent (the host falls back to its own policy and
# every request still completes), and a restarted agent taking over again.
# Heartbeat timeouts are generous (1s) where a run must not fall back: this machine is shared.
#
# Usage: two_process_test.sh PATH_TO_WAVE. Every wait is bounded: the host by `timeout`, the
# agent by its own join timeout (10s) and heartbeat timeout, and by the kill in cleanup.
set -uo pipefail

wave="${1:-${TEST_SRCDIR:-}/libwave/cli/wave}"
case "$wave" in
  /*) ;;
  *) wave="$PWD/$wave" ;;
esac
[ -x "$wave" ] || { echo "two_process_test: no wave binary at $wave" >&2; exit 1; }

tmp="${TEST_TMPDIR:-$(mktemp -d)}"
failures=0
fail() {
  echo "FAIL: $*" >&2
  failures=$((failures + 1))
}
agent_pid=""
cleanup() { [ -n "$agent_pid" ] && kill -9 "$agent_pid" 2>/dev/null; }
trap cleanup EXIT

# wait_agent: waits up to 15s for the agent; sets $agent_rc (124 if it had to be killed).
wait_agent() {
  local i
  for i in $(seq 150); do
    kill -0 "$agent_pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$agent_pid" 2>/dev/null; then
    kill -9 "$agent_pid"
    wait "$agent_pid" 2>/dev/null
    agent_rc=124
  else
    wait "$agent_pid"
    agent_rc=$?
  fi
  agent_pid=""
}

# (a) A clean run: every request completes, nothing lost, both exit 0.
s="t$$a"
"$wave" agent --session="$s" --heartbeat-timeout=1s >"$tmp/a.out" 2>"$tmp/a.err" &
agent_pid=$!
timeout 30 "$wave" sim --session="$s" --duration=0.2 --load=20000 --format=json \
  --heartbeat-timeout=1s >"$tmp/h.out" 2>"$tmp/h.err"
rc=$?
wait_agent
[ "$rc" -eq 0 ] || fail "(a) host exit $rc: $(cat "$tmp/h.err")"
[ "$agent_rc" -eq 0 ] || fail "(a) agent exit $agent_rc: $(cat "$tmp/a.err")"
python3 - "$tmp/h.out" <<'PY' || fail "(a) bad result: $(head -c 600 "$tmp/h.out")"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["arrived"] > 0, d["arrived"]
assert d["completed"] == d["arrived"], (d["completed"], d["arrived"])
assert d["lost_tasks"] == 0, d["lost_tasks"]
assert d["invariant_violations"] == 0, d["invariant_violations"]
assert d["commits"]["ok"] > 0
PY
grep -q "closed by the host" "$tmp/a.out" || fail "(a) agent summary: $(cat "$tmp/a.out")"
[ ! -e "/dev/shm/wave-$s" ] || fail "(a) /dev/shm/wave-$s left behind"

# (b) Ring-size mismatch: both sides fail with the same sentence.
s="t$$b"
"$wave" agent --session="$s" --ring-capacity=1024 >"$tmp/a.out" 2>"$tmp/a.err" &
agent_pid=$!
timeout 30 "$wave" sim --session="$s" --duration=0.2 --load=20000 --format=json \
  >"$tmp/h.out" 2>"$tmp/h.err"
rc=$?
wait_agent
want="event ring size is 4096 on the host, 1024 on the agent"
[ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] || fail "(b) host exit $rc"
[ "$agent_rc" -ne 0 ] && [ "$agent_rc" -ne 124 ] || fail "(b) agent exit $agent_rc"
grep -q "^wave: sim failed: session mismatch: $want\$" "$tmp/h.err" ||
  fail "(b) host stderr: $(cat "$tmp/h.err")"
grep -q "^wave: agent: session mismatch: $want\$" "$tmp/a.err" ||
  fail "(b) agent stderr: $(cat "$tmp/a.err")"
[ "$(wc -l <"$tmp/h.err")" -eq 1 ] || fail "(b) host stderr is not one line"
[ "$(wc -l <"$tmp/a.err")" -eq 1 ] || fail "(b) agent stderr is not one line"

# (c) The agent is killed mid-run: the host takes over within its heartbeat timeout, every
# request completes, nothing is lost, and it exits 0.
s="t$$c"
"$wave" agent --session="$s" >"$tmp/a.out" 2>"$tmp/a.err" &
agent_pid=$!
timeout 30 "$wave" sim --session="$s" --duration=2 --load=20000 --format=json \
  --heartbeat-timeout=200ms >"$tmp/h.out" 2>"$tmp/h.err" &
host_pid=$!
sleep 0.5
kill -9 "$agent_pid"
wait "$agent_pid" 2>/dev/null
agent_pid=""
wait "$host_pid"
rc=$?
[ "$rc" -eq 0 ] || fail "(c) host exit $rc, want 0: $(cat "$tmp/h.err")"
python3 - "$tmp/h.out" <<'PY' || fail "(c) bad result: $(head -c 1500 "$tmp/h.out")"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["completed"] == d["arrived"] > 0, (d["completed"], d["arrived"])
assert d["lost_tasks"] == 0, d["lost_tasks"]
assert d["invariant_violations"] == 0, d["invariant_violations"]
assert d["failure"]["fallbacks"] >= 1, d["failure"]
assert "presumed dead" in d["failure"]["last_error"], d["failure"]
PY
[ ! -e "/dev/shm/wave-$s" ] || fail "(c) /dev/shm/wave-$s left behind"

# (d) Restart: the first agent is killed, a second one joins the same session, gets a replay
# of every task and schedules until the end.
s="t$$d"
"$wave" agent --session="$s" >"$tmp/a1.out" 2>"$tmp/a1.err" &
agent_pid=$!
timeout 30 "$wave" sim --session="$s" --duration=3 --load=20000 --format=json \
  --heartbeat-timeout=200ms >"$tmp/h.out" 2>"$tmp/h.err" &
host_pid=$!
sleep 0.5
kill -9 "$agent_pid"
wait "$agent_pid" 2>/dev/null
sleep 0.5
"$wave" agent --session="$s" --heartbeat-timeout=1s >"$tmp/a2.out" 2>"$tmp/a2.err" &
agent_pid=$!
wait "$host_pid"
rc=$?
wait_agent
[ "$rc" -eq 0 ] || fail "(d) host exit $rc, want 0: $(cat "$tmp/h.err")"
[ "$agent_rc" -eq 0 ] || fail "(d) second agent exit $agent_rc: $(cat "$tmp/a2.err")"
python3 - "$tmp/h.out" <<'PY' || fail "(d) bad result: $(head -c 1500 "$tmp/h.out")"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["completed"] == d["arrived"] > 0, (d["completed"], d["arrived"])
assert d["lost_tasks"] == 0, d["lost_tasks"]
assert d["failure"]["agent_restarts"] >= 1, d["failure"]
assert d["resyncs"] >= 1, d["resyncs"]
PY
# The second agent really scheduled: it sent commits after its replay.
grep -Eq "closed by the host; .* commits sent [1-9]" "$tmp/a2.out" ||
  fail "(d) second agent summary: $(cat "$tmp/a2.out")"

if [ "$failures" -ne 0 ]; then
  echo "$failures failure(s)" >&2
  exit 1
fi
echo "PASS"
