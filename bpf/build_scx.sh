#!/usr/bin/env bash
# build_scx.sh SRC OUT: compiles bpf/scx_wave.bpf.c (CO-RE, clang-19) against the sched_ext
# kernel's types and writes its libbpf skeleton to OUT. Run by //bpf:scx_wave_skel_h.
#
# The types come from the guest kernel's BTF, ../shared/kernel/vmlinux.btf beside the repository
# (this machine's kernel has no sched_ext). Without it the skeleton is a stub that says why, and
# `wave scx` reports that instead of loading anything.
set -euo pipefail
src=$1
out=$2
root=$(cd "$(dirname "$(readlink -f "$src")")/.." && pwd)
btf="$root/../shared/kernel/vmlinux.btf"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if [ ! -r "$btf" ]; then
  printf '/* Built without a sched_ext kernel BTF. */\n#define WAVE_SCX_NO_SKELETON "built without %s"\n' \
    "../shared/kernel/vmlinux.btf" >"$out"
  exit 0
fi
bpftool btf dump file "$btf" format c >"$tmp/vmlinux.h"
clang-19 -target bpf -mcpu=v3 -O2 -g -Wall -Werror -D__TARGET_ARCH_x86 \
  -I. -I"$tmp" -c "$src" -o "$tmp/scx_wave.bpf.o"
# bpftool 7.5 writes skeletons for libbpf 1.5, whose struct bpf_map_skeleton has a `link` field
# that libbpf 1.4 lacks: drop that line (the loader attaches the struct_ops map itself).
bpftool gen skeleton "$tmp/scx_wave.bpf.o" name scx_wave_bpf | sed '/map->link = /d' >"$out"
