#!/bin/sh
# Boot a pure cgroup v1 Linux under qemu and run mdk's cgroup checks there.
#
# usage: tests/qemu/v1.sh >SERIAL_LOG
#
# Prints the VM's serial console on stdout: the checks of tests/qemu/v1-init.sh
# report "MDK-V1: NAME ok" or "MDK-V1: NAME FAIL DETAIL" (or "MDK-V1-SKIP:
# NAME REASON" for one this VM cannot run), then "MDK-V1-DONE".
# Progress and problems go to stderr.
#
#   MDK, MDK_QEMU_CACHE   see tests/qemu/common.sh (the kernel, its cache,
#                         qemu and what else is needed)
#   MDK_QEMU_TIMEOUT=s    bound on the whole boot (default 180)
#
# Exit status: 0 the VM ran the checks to the end ("MDK-V1-DONE" seen; the
# checks themselves may have failed), 1 it did not (panic, hang, crash),
# 77 it cannot run here (the reason on stderr, "v1.sh: SKIP: ...").
set -u

here=$(cd "$(dirname "$0")" && pwd)
prog=v1.sh
timeout_s=${MDK_QEMU_TIMEOUT:-180}
. "$here/common.sh"

work=
cleanup() { [ -n "$work" ] && rm -rf "$work"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

qemu_prepare

# --- the initramfs ---------------------------------------------------------------

work=$(mktemp -d "${TMPDIR:-/tmp}/mdk-v1.XXXXXX") || exit 1
stage_cgroup_vm "$work/stage" "$here/v1-init.sh" || exit 1
make_cpio "$work/stage" "$work/initrd" || exit 1

# --- the boot ----------------------------------------------------------------------

qemu_boot "$work/initrd" "$work" MDK-V1-DONE || exit 1
exit 0
