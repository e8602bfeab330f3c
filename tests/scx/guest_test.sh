#!/usr/bin/env bash
# The sched_ext mechanism end to end in a guest: boots ../shared/kernel/bzImage under qemu
# (tools/qemu-test) with wave, wave-agent, the workload and the hostile agent, runs scenarios.sh (fifo
# against the default class in rounds; every other registered policy among shinjuku, rpc, pin;
# a killed agent; a hostile one) and judges the console with check.py. Prints WAVE_SKIP and
# passes when qemu or the kernel is absent (tools/qemu-test decides).
#
# Usage: guest_test.sh QEMU_TEST WAVE WORKLOAD HOSTILE SCENARIOS CHECK WAVE_AGENT (Bazel's
# rootpaths).
set -uo pipefail
abs() { case "$1" in /*) echo "$1" ;; *) echo "$PWD/$1" ;; esac; }
qemu_test=$(abs "$1")
wave=$(abs "$2")
workload=$(abs "$3")
hostile=$(abs "$4")
scenarios=$(abs "$5")
check=$(abs "$6")
agent=$(abs "$7")
tmp="${TEST_TMPDIR:-$(mktemp -d)}"
rounds=${WAVE_SCX_ROUNDS:-3}

# The policies registered in this build besides fifo (Shinjuku is written in parallel: run it
# when it is there, and say which ran).
policies=""
for p in shinjuku rpc pin; do
  if "$wave" sim --policy="$p" --duration=1ms >/dev/null 2>&1; then policies="$policies $p"; fi
done
echo "policies besides fifo:${policies:- none}"
case " $policies " in *" shinjuku "*) ;; *) echo "note: shinjuku is not registered in this build" ;; esac

{
  echo "POLICIES=\"${policies# }\""
  echo "ROUNDS=$rounds"
  cat "$scenarios"
} >"$tmp/scenario.sh"
log="${TEST_UNDECLARED_OUTPUTS_DIR:-$tmp}/console.log"
"$qemu_test" --timeout=900 --log="$log" --scenario="$tmp/scenario.sh" \
  "$wave" "$agent" "$workload" "$hostile" >"$tmp/out.txt" 2>&1
rc=$?
if grep -q '^WAVE_SKIP:' "$tmp/out.txt"; then
  grep '^WAVE_SKIP:' "$tmp/out.txt"
  exit 0
fi
grep -E '^WAVE_' "$tmp/out.txt"
if [ "$rc" -ne 0 ]; then
  echo "FAIL: the guest did not finish its scenarios (exit $rc); its console:"
  cat "$tmp/out.txt"
  exit 1
fi
python3 "$check" "$tmp/out.txt" "${policies# }"
