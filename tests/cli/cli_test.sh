#!/usr/bin/env bash
# End-to-end tests of the `wave` binary: exit codes, one-line errors on stderr, help, and a short
# deterministic simulation with JSON output.
#
# Usage: cli_test.sh PATH_TO_WAVE (Bazel passes $(rootpath //cli:wave), relative to the runfiles
# directory it starts the test in).
set -uo pipefail

wave="${1:-${TEST_SRCDIR:-}/libwave/cli/wave}"
case "$wave" in
  /*) ;;
  *) wave="$PWD/$wave" ;;
esac
if [ ! -x "$wave" ]; then
  echo "cli_test: no wave binary at $wave" >&2
  exit 1
fi

tmp="${TEST_TMPDIR:-$(mktemp -d)}"
failures=0
fail() {
  echo "FAIL: $*" >&2
  failures=$((failures + 1))
}

# run ARGS...: runs wave; sets $rc, and $out/$err to files with its stdout/stderr.
out="$tmp/out"
err="$tmp/err"
run() {
  "$wave" "$@" >"$out" 2>"$err"
  rc=$?
}

# expect_usage_error ARGS...: exit code 2, nothing on stdout, exactly one line on stderr
# starting with "wave: ".
expect_usage_error() {
  run "$@"
  local desc="wave $*"
  [ "$rc" -eq 2 ] || fail "$desc: exit code $rc, want 2"
  [ ! -s "$out" ] || fail "$desc: wrote to stdout: $(head -c 200 "$out")"
  local lines
  lines=$(wc -l <"$err")
  [ "$lines" -eq 1 ] || fail "$desc: $lines lines on stderr, want 1: $(cat "$err")"
  grep -q '^wave: ' "$err" || fail "$desc: stderr does not start with 'wave: ': $(cat "$err")"
}

# Bad flags, values and commands.
expect_usage_error
expect_usage_error frobnicate
expect_usage_error --cpus=4
expect_usage_error sim --cpus=abc
expect_usage_error sim --cpus=0
expect_usage_error sim --cpus=8193
expect_usage_error sim --cpus
expect_usage_error sim --cpus --load=5
expect_usage_error sim --load=0
expect_usage_error sim --load=-3
expect_usage_error sim --load=lots
expect_usage_error sim --duration=0
expect_usage_error sim --duration=2x
expect_usage_error sim --link-latency=-1
expect_usage_error sim --link-latency=5s
expect_usage_error sim --seed=-1
expect_usage_error sim --threads=0
expect_usage_error sim --workload=redis
expect_usage_error sim --placement=nic
expect_usage_error sim --format=xml
expect_usage_error sim --policy=no-such-policy
expect_usage_error sim --no-such-flag=1
expect_usage_error sim stray
# Passes the parser, fails ValidateSimConfig: the agent needs a cpu of its own on the host.
expect_usage_error sim --placement=host --cpus=1

run sim --cpus=abc
want="wave: --cpus: expected an integer in [1, 8192], got 'abc'"
[ "$(cat "$err")" = "$want" ] || fail "wave sim --cpus=abc: stderr '$(cat "$err")', want '$want'"
run frobnicate
grep -q "unknown command 'frobnicate'" "$err" || fail "unknown command: stderr '$(cat "$err")'"

# Help: exit 0, on stdout, every flag mentioned.
for help in "--help" "-h" "help" "sim --help" "sim -h" "help sim"; do
  # shellcheck disable=SC2086
  run $help
  [ "$rc" -eq 0 ] || fail "wave $help: exit code $rc, want 0"
  [ ! -s "$err" ] || fail "wave $help: wrote to stderr: $(cat "$err")"
  for flag in --policy --workload --cpus --load --duration --placement --link-latency --seed \
    --threads --format --help; do
    grep -q -- "$flag" "$out" || fail "wave $help: does not mention $flag"
  done
  grep -q 'default' "$out" || fail "wave $help: shows no defaults"
done

# A short simulation, as JSON: exit 0, one object, nothing lost.
sim_args=(sim --duration=0.05 --format=json --seed=7)
run "${sim_args[@]}"
if [ "$rc" -ne 0 ]; then
  fail "wave ${sim_args[*]}: exit code $rc: $(cat "$err")"
else
  cp "$out" "$tmp/first.json"
  grep -q '"lost_tasks": 0' "$out" || fail "wave ${sim_args[*]}: no '\"lost_tasks\": 0' in output"
  python3 -c '
import json, sys
d = json.load(sys.stdin)
assert isinstance(d, dict), "not an object"
for k in ("completed", "arrived", "throughput_rps", "latency_us", "workload_cpus", "placement",
          "policy", "workload", "cpus", "load_rps", "duration_s", "link_latency_us", "seed",
          "commits", "lost_tasks", "incomplete_requests", "invariant_violations", "events_sent",
          "agent_busy_fraction", "cpu_utilization", "idle_with_work_fraction", "agent"):
    assert k in d, "missing key " + k
for k in ("p50", "p99", "p999", "mean", "max"):
    assert k in d["latency_us"], "missing latency_us." + k
for k in ("ok", "stale", "rejected"):
    assert k in d["commits"], "missing commits." + k
for k in ("events", "malformed", "unknown_task", "stale_events", "commits_sent"):
    assert k in d["agent"], "missing agent." + k
assert d["lost_tasks"] == 0 and d["invariant_violations"] == 0, "lost or broken"
assert d["completed"] > 0 and d["completed"] <= d["arrived"], "nothing completed"
assert d["seed"] == 7 and d["duration_s"] == 0.05 and d["policy"] == "fifo"
assert d["agent"]["malformed"] == 0
' <"$out" || fail "wave ${sim_args[*]}: bad JSON: $(head -c 300 "$out")"

  # Same seed, same bytes.
  run "${sim_args[@]}"
  cmp -s "$out" "$tmp/first.json" || fail "two runs with the same seed differ"
fi

# The table, on the host placement.
run sim --duration=0.02 --placement=host --cpus=4 --link-latency=250ns
[ "$rc" -eq 0 ] || fail "wave sim (table, host): exit code $rc: $(cat "$err")"
for word in rocksdb fifo host throughput p99.9 "lost tasks" "invariant violations"; do
  grep -q -- "$word" "$out" || fail "wave sim table: does not mention '$word'"
done

# Both value syntaxes give the same run.
run sim --duration 0.02 --format json --seed 3 --cpus 4
cp "$out" "$tmp/spaced.json"
run sim --duration=0.02 --format=json --seed=3 --cpus=4
cmp -s "$out" "$tmp/spaced.json" || fail "--flag value and --flag=value runs differ"

# Every policy runs by name.
for policy in fifo fifo-percpu shinjuku fair; do
  run sim --duration=0.02 --format=json --policy="$policy"
  [ "$rc" -eq 0 ] || fail "wave sim --policy=$policy: exit code $rc: $(cat "$err")"
  grep -q "\"policy\": \"$policy\"" "$out" || fail "wave sim --policy=$policy: not named in the output"
  grep -q '"lost_tasks": 0' "$out" || fail "wave sim --policy=$policy: lost tasks"
done

# Cpu-bound workers with nice values: the output has their cpu time by nice value.
run sim --duration=0.1 --workload=cpubound --threads=16 --nice=0,5 --policy=fair --format=json
if [ "$rc" -ne 0 ]; then
  fail "wave sim --workload=cpubound --nice=0,5: exit code $rc: $(cat "$err")"
else
  python3 -c '
import json, sys
d = json.load(sys.stdin)
b = d["by_nice"]
assert sorted(b) == ["0", "5"], b
assert b["0"]["tasks"] == 8 and b["0"]["weight"] == 1024 and b["5"]["weight"] == 335, b
ratio = b["0"]["cpu_ms_mean"] / b["5"]["cpu_ms_mean"]
assert abs(ratio / (1024 / 335) - 1) < 0.1, ratio
' <"$out" || fail "wave sim --workload=cpubound --nice=0,5: bad by_nice: $(head -c 300 "$out")"
fi
run sim --duration=0.02
grep -q "by nice" "$out" && fail "wave sim: a 'by nice' group with no nice values"

# wave scx on a kernel without sched_ext (this machine's): one line naming what is missing, exit 1.
# (The guest test, tests/scx, runs it on a kernel that has it.)
if [ ! -e /sys/kernel/sched_ext/state ]; then
  run scx --duration=1
  [ "$rc" -eq 1 ] || fail "wave scx without sched_ext: exit code $rc, want 1"
  [ "$(wc -l <"$err")" -eq 1 ] && grep -q "sched_ext" "$err" ||
    fail "wave scx without sched_ext: $(cat "$err")"
fi
run scx --prestage=3
[ "$rc" -eq 2 ] || fail "wave scx --prestage=3: exit code $rc, want 2"

if [ "$failures" -ne 0 ]; then
  echo "cli_test: $failures failure(s)" >&2
  exit 1
fi
echo "cli_test: all passed"
