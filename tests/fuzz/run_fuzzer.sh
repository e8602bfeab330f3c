#!/usr/bin/env bash
# Runs one libFuzzer target for a bounded time, from its checked-in seed corpus, and fails on any
# crash, sanitizer report, failed invariant, leak, timeout or out-of-memory.
#
#   run_fuzzer.sh FUZZER SEED_DIR MAX_LEN
#
# Bounds (environment, e.g. bazel test --test_env=WAVE_FUZZ_SECONDS=600): WAVE_FUZZ_SECONDS
# (default 20) and WAVE_FUZZ_RUNS (default 2000000), whichever comes first. The inputs found go
# to a scratch corpus; a crashing input is saved under the test's undeclared outputs
# (bazel-testlogs/tests/fuzz/NAME/test.outputs/outputs.zip) and can be replayed with
# `FUZZER INPUT`. The fuzzer's full output is saved there too (fuzz.log).
set -uo pipefail

fuzzer=$1
seeds=$2
max_len=$3
case "$fuzzer" in /*) ;; *) fuzzer="$PWD/$fuzzer" ;; esac
name=$(basename "$fuzzer")

# Built without a toolchain: the stub says why (WAVE_SKIP) or that it is stale.
if head -c 200 "$fuzzer" | grep -q 'wave-fuzzer-stub'; then
  exec "$fuzzer"
fi

seconds=${WAVE_FUZZ_SECONDS:-20}
runs=${WAVE_FUZZ_RUNS:-2000000}
scratch="${TEST_TMPDIR:-$(mktemp -d)}/$name"
outputs="${TEST_UNDECLARED_OUTPUTS_DIR:-$scratch}"
mkdir -p "$scratch/corpus" "$outputs"
log="$outputs/fuzz.log"

for s in /usr/lib/llvm-19/bin/llvm-symbolizer /usr/bin/llvm-symbolizer; do
  if [ -x "$s" ]; then
    export ASAN_SYMBOLIZER_PATH="$s"
    break
  fi
done

echo "$name: up to ${seconds}s or ${runs} runs, seeds from $seeds ($(find -L "$seeds" -type f | wc -l) files)"
"$fuzzer" -max_total_time="$seconds" -runs="$runs" -max_len="$max_len" -timeout=10 \
  -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$outputs/" \
  "$scratch/corpus" "$seeds" >"$log" 2>&1
rc=$?

# The log without libFuzzer's per-input progress lines, which run into the thousands.
grep -v -E '^#[0-9]+|^	NEW_FUNC|Uses: [0-9]+' "$log"
last=$(grep -E '^#[0-9]+.*cov: ' "$log" | tail -n 1)
[ -n "$last" ] && echo "last progress line: $last"

if [ "$rc" -ne 0 ]; then
  echo "FAIL: $name exited $rc; the input that failed is in $outputs (crash-*, leak-*, timeout-*, oom-*)" >&2
  exit 1
fi
if ! grep -qE '^Done [0-9]+ runs in [0-9]+ second' "$log"; then
  echo "FAIL: $name did not report a finished run" >&2
  exit 1
fi
echo "PASS: $name"
