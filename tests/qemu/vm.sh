#!/bin/sh
# Boot a pure cgroup v1 or v2 Linux under qemu and run mdk's cgroup checks
# there.
#
# usage: tests/qemu/vm.sh v1|v2 >SERIAL_LOG
#
# Prints the VM's serial console on stdout: the checks of
# tests/qemu/VERSION-init.sh (with checks.sh) report "MDK-V2: NAME ok" or
# "MDK-V2: NAME FAIL DETAIL" (or "MDK-V2-SKIP: NAME REASON" for one this VM
# cannot run), then "MDK-V2-DONE" (MDK-V1 for v1). Progress and problems go
# to stderr.
#
#   MDK, MDK_QEMU_CACHE   see tests/qemu/common.sh (the kernel, its cache,
#                         qemu and what else is needed)
#   MDK_QEMU_TIMEOUT=s    bound on the whole boot (default 240)
#
# Exit status: 0 the VM ran the checks to the end ("MDK-V2-DONE" seen; the
# checks themselves may have failed), 1 it did not (panic, hang, crash), 2
# usage, 77 it cannot run here (the reason on stderr, "vm.sh v2: SKIP: ...").
set -u

case ${1:-} in
v1 | v2) v=$1 ;;
*) echo "usage: vm.sh v1|v2 >SERIAL_LOG" >&2; exit 2 ;;
esac
mark=MDK-$(echo "$v" | tr v V)
here=$(cd "$(dirname "$0")" && pwd)
prog="vm.sh $v"
timeout_s=${MDK_QEMU_TIMEOUT:-240}
. "$here/common.sh"

work=
cleanup() { [ -n "$work" ] && rm -rf "$work"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

qemu_prepare

# --- the initramfs ---------------------------------------------------------------

work=$(mktemp -d "${TMPDIR:-/tmp}/mdk-$v.XXXXXX") || exit 1
stage_cgroup_vm "$work/stage" "$here/$v-init.sh" || exit 1
make_cpio "$work/stage" "$work/initrd" || exit 1

# --- the boot ----------------------------------------------------------------------

qemu_boot "$work/initrd" "$work" "$mark-DONE" || exit 1
exit 0
