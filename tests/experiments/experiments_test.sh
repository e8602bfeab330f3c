#!/usr/bin/env bash
# Every experiment runs end to end in a quick configuration and writes its table, CSV and SVG.
# Usage: experiments_test.sh BINARY...
set -uo pipefail
out="${TEST_TMPDIR:-$(mktemp -d)}/experiments"
failures=0
for bin in "$@"; do
  name=$(basename "$bin")
  if ! "$bin" --quick --seconds=0.2 --out="$out" >"$out.$name.txt" 2>"$out.$name.err"; then
    echo "FAIL: $name exited non-zero: $(tail -n 3 "$out.$name.err")" >&2
    failures=$((failures + 1))
    continue
  fi
  grep -q '^|---' "$out.$name.txt" || { echo "FAIL: $name printed no table" >&2; failures=$((failures + 1)); }
  for f in "$out/$name.csv" "$out/$name.svg"; do
    [ -s "$f" ] || { echo "FAIL: $name did not write $f" >&2; failures=$((failures + 1)); }
  done
  grep -q '</svg>' "$out/$name.svg" 2>/dev/null || { echo "FAIL: $name.svg is not a whole SVG" >&2; failures=$((failures + 1)); }
  # Nothing may be lost in any run of any experiment.
  python3 - "$out/$name.csv" <<'PY' || { echo "FAIL: $name lost tasks" >&2; failures=$((failures + 1)); }
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
assert rows, "no rows"
assert all(r.get("lost", "0") == "0" for r in rows), [r for r in rows if r.get("lost") != "0"][:3]
PY
  # Bad arguments are one clear line and exit 2.
  "$bin" --bogus >/dev/null 2>"$out.bad"
  rc=$?
  [ "$rc" -eq 2 ] && grep -q "unknown argument" "$out.bad" || { echo "FAIL: $name --bogus: rc $rc" >&2; failures=$((failures + 1)); }
done
[ "$failures" -eq 0 ] && echo PASS || { echo "$failures failure(s)" >&2; exit 1; }
