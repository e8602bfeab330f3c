#!/usr/bin/env bash
# Builds one libFuzzer target with clang-19 (-fsanitize=fuzzer,address,undefined), for a genrule:
# the workspace's toolchain stays gcc, and only this action calls clang. Our own sources build
# with -Werror; the library sources under test with the same warnings but not -Werror, so a
# warning that only clang gives in code another package owns does not break the build.
#
#   build_fuzzer.sh OUT --ours SRC... --libs SRC... --ldflags FLAG...
#
# Without clang++-19 or libFuzzer's runtime (Debian: clang-19, libclang-rt-19-dev; tools/setup
# installs both), OUT is a stub script that prints "WAVE_SKIP: <why>" and exits 0, so the test
# that runs it counts as skipped instead of failing the whole build.
set -euo pipefail

out=$1
shift
ours=()
libs=()
ldflags=()
mode=""
for arg in "$@"; do
  case "$arg" in
    --ours | --libs | --ldflags) mode=$arg ;;
    *)
      case "$mode" in
        --ours) ours+=("$arg") ;;
        --libs) libs+=("$arg") ;;
        --ldflags) ldflags+=("$arg") ;;
        *) echo "build_fuzzer.sh: $arg before --ours" >&2 && exit 2 ;;
      esac
      ;;
  esac
done

cxx=clang++-19
runtime_name=libclang_rt.fuzzer-x86_64.a
why=""
if ! command -v "$cxx" >/dev/null 2>&1; then
  why="$cxx is not installed (Debian package clang-19; run tools/setup)"
else
  runtime=$("$cxx" -print-file-name="$runtime_name")
  if [ ! -f "$runtime" ]; then
    why="libFuzzer's runtime $runtime_name is not installed (Debian package libclang-rt-19-dev; run tools/setup)"
  fi
fi
if [ -n "$why" ]; then
  # The stub checks again when it runs: a stub left in Bazel's cache after the toolchain was
  # installed must not pass for a fuzz run.
  cat >"$out" <<STUB
#!/bin/sh
# wave-fuzzer-stub: built without a fuzzing toolchain.
if command -v $cxx >/dev/null 2>&1 && [ -f "\$($cxx -print-file-name=$runtime_name)" ]; then
  echo "this fuzzer was built as a stub ($why), but the toolchain is there now: run 'bazel clean' and test again" >&2
  exit 1
fi
echo "WAVE_SKIP: $why"
exit 0
STUB
  chmod +x "$out"
  exit 0
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/wave-fuzz-build.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# -ffile-prefix-map: reports name workspace paths, not the sandbox this action ran in.
cflags=(-std=c++20 -O1 -g -fno-omit-frame-pointer -I. "-ffile-prefix-map=$PWD=."
  "-fsanitize=fuzzer-no-link,address,undefined" -fno-sanitize-recover=all
  -Wall -Wextra)
objs=()
i=0
for src in "${ours[@]}" "${libs[@]}"; do
  extra=()
  for o in "${ours[@]}"; do [ "$o" = "$src" ] && extra=(-Werror); done
  obj="$tmp/$i.o"
  i=$((i + 1))
  "$cxx" "${cflags[@]}" "${extra[@]}" -c "$src" -o "$obj"
  objs+=("$obj")
done
"$cxx" "-fsanitize=fuzzer,address,undefined" "${objs[@]}" -o "$out" "${ldflags[@]}"
