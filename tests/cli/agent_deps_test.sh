#!/usr/bin/env bash
# wave-agent is the agent's program: runtime, lib/, policies, transport. Checks that it links no
# libbpf or libelf (the NEEDED entries of its ELF), that its Bazel build graph (a genquery of
# deps(//cli:wave-agent)) holds no host mechanism (//host/...), BPF program (//bpf/...) or
# libbpf (//third_party:bpf), and that it runs on its own: `wave-agent --help`, and `wave agent
# --help` through wave.
#
# Usage: agent_deps_test.sh PATH_TO_WAVE_AGENT PATH_TO_DEPS_QUERY PATH_TO_WAVE
set -uo pipefail
agent=$1
deps=$2
wave=$3
failures=0
fail() {
  echo "FAIL: $*" >&2
  failures=$((failures + 1))
}

command -v readelf >/dev/null || { echo "agent_deps_test: readelf (binutils) is needed" >&2; exit 1; }
needed=$(readelf -d "$agent" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
[ -n "$needed" ] || fail "readelf found no NEEDED entries in $agent"
echo "wave-agent NEEDED: $(echo $needed)"
for lib in $needed; do
  case "$lib" in
    libbpf*|libelf*) fail "wave-agent links $lib" ;;
  esac
done
# The same check on wave proves the check can fail: wave links libbpf.
readelf -d "$wave" | grep -q 'NEEDED.*libbpf' || fail "wave does not link libbpf: the check is blind"

[ -s "$deps" ] || fail "empty dependency query $deps"
echo "wave-agent depends on $(wc -l <"$deps") targets"
bad=$(grep -E '^//(host|bpf)(/|:)|^//third_party:bpf$|^//cli:flags$' "$deps" || true)
[ -z "$bad" ] || fail "wave-agent depends on: $(echo $bad)"
grep -qx '//lib:runtime' "$deps" || fail "wave-agent's deps lack //lib:runtime: the query is wrong"

out=$("$agent" --help) || fail "wave-agent --help failed"
echo "$out" | grep -q -- '--session=NAME' || fail "wave-agent --help: no --session"
out=$("$wave" agent --help) || fail "wave agent --help failed"
echo "$out" | grep -q 'usage: wave-agent' || fail "wave agent --help did not run wave-agent"
"$agent" --bogus 2>/dev/null
[ $? -eq 2 ] || fail "wave-agent --bogus: want exit status 2"

if [ "$failures" -ne 0 ]; then
  echo "agent_deps_test: $failures failure(s)" >&2
  exit 1
fi
echo "agent_deps_test: ok"
