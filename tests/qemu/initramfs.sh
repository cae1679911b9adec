#!/bin/sh
# Boot a bare initramfs under qemu (pure cgroup v2 kernel) and run the whole
# m-docker flow there.
#
# usage: tests/qemu/initramfs.sh >SERIAL_LOG
#
# The initramfs holds ONLY:
#   /bin/busybox + a link per applet   (the host's busybox-static; /bin/sh is it)
#   /bin/mdk + a link per applet       (build/mdk)
#   /bin/m-docker, /bin/mkimage        (scripts/, beside mdk)
#   /overlay.ko, /init                 (tests/qemu/initramfs-init.sh)
#   empty /proc /sys /dev /tmp /sbin
# No image archive and no rootfs: m-docker makes its default busybox image
# from the VM's own /bin/busybox with mkimage.
#
# Prints the VM's serial console on stdout: the checks of
# tests/qemu/initramfs-init.sh report "MDK-INITRAMFS: NAME ok" or
# "MDK-INITRAMFS: NAME FAIL DETAIL", then "MDK-INITRAMFS-DONE". Progress and
# problems go to stderr.
#
#   MDK, MDK_QEMU_CACHE    see tests/qemu/common.sh (the kernel, its cache,
#                          qemu and what else is needed)
#   MDK_QEMU_TIMEOUT=s     bound on the whole boot (default 300)
#   MDK_INITRAMFS_ROOT=    tmpfs (default): /init first copies the initramfs
#                          into a tmpfs and switch_roots there, as a real
#                          initramfs hands over to its root; rootfs: the
#                          flow runs on the initial rootfs itself (no
#                          pivot_root there: mdk-run's MS_MOVE+chroot path)
#
# Exit status: 0 the VM ran the checks to the end ("MDK-INITRAMFS-DONE" seen;
# the checks themselves may have failed), 1 it did not (panic, hang, crash),
# 77 it cannot run here (the reason on stderr, "initramfs.sh: SKIP: ...").
set -u

here=$(cd "$(dirname "$0")" && pwd)
prog=initramfs.sh
timeout_s=${MDK_QEMU_TIMEOUT:-300}
. "$here/common.sh"

work=
cleanup() { [ -n "$work" ] && rm -rf "$work"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

for f in "$top/scripts/m-docker" "$top/scripts/mkimage" "$here/initramfs-init.sh"; do
	[ -r "$f" ] || skip "no $f"
done
qemu_prepare

work=$(mktemp -d "${TMPDIR:-/tmp}/mdk-initramfs.XXXXXX") || exit 1
s=$work/stage
mkdir -p "$s/proc" "$s/sys" "$s/dev" "$s/tmp" "$s/sbin" || exit 1
chmod 1777 "$s/tmp"
stage_busybox "$s" && stage_mdk "$s" || exit 1
cp "$top/scripts/m-docker" "$top/scripts/mkimage" "$s/bin/" || exit 1
chmod 755 "$s/bin/m-docker" "$s/bin/mkimage"
cp "$cache/overlay.ko" "$s/overlay.ko" || exit 1
cp "$here/initramfs-init.sh" "$s/init" && cp "$here/../wait.sh" "$s/wait.sh" || exit 1
case ${MDK_INITRAMFS_ROOT:-tmpfs} in
tmpfs) ;;
rootfs) : >"$s/.stage2" && : >"$s/.stage1-skipped" ;; # /init stays on the rootfs
*) log "MDK_INITRAMFS_ROOT: want tmpfs or rootfs"; exit 1 ;;
esac
chmod 755 "$s/init"
make_cpio "$s" "$work/initrd" || exit 1
log "initramfs: $(wc -c <"$work/initrd") bytes, $(find "$s" | wc -l) entries"

qemu_boot "$work/initrd" "$work" MDK-INITRAMFS-DONE || exit 1
exit 0
