#!/bin/sh
# Boot a pure cgroup v2 Linux under qemu and run mdk's cgroup checks there.
#
# usage: tests/qemu/v2.sh >SERIAL_LOG
#
# Prints the VM's serial console on stdout: the checks of tests/qemu/v2-init.sh
# report "MDK-V2: NAME ok" or "MDK-V2: NAME FAIL DETAIL", then "MDK-V2-DONE".
# Progress and problems go to stderr.
#
#   MDK=path              the binary under test (default: build/mdk)
#   MDK_QEMU_CACHE=dir    where the kernel and overlay.ko are kept between
#                         runs (default /var/cache/mdk-test/qemu; when not
#                         root and that is not filled, ~/.cache/mdk-test/qemu)
#   MDK_QEMU_TIMEOUT=s    bound on the whole boot (default 120)
#
# Needs qemu-system-x86_64 (installed from Debian's qemu-system-x86 when
# missing and run as root), a static /bin/busybox (busybox-static), and
# Debian's linux-image-6.1.0-*-cloud-amd64-unsigned, fetched once with
# "apt-get download" (never installed) and unpacked into the cache.
#
# Exit status: 0 the VM ran the checks to the end ("MDK-V2-DONE" seen; the
# checks themselves may have failed), 1 it did not (panic, hang, crash),
# 77 it cannot run here (the reason on stderr, "v2.sh: SKIP: ...").
set -u

here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$(dirname "$here")")
MDK=${MDK:-$top/build/mdk}
timeout_s=${MDK_QEMU_TIMEOUT:-120}
if [ -n "${MDK_QEMU_CACHE:-}" ]; then
	cache=$MDK_QEMU_CACHE
elif [ "$(id -u)" -eq 0 ] ||
	{ [ -r /var/cache/mdk-test/qemu/vmlinuz ] && [ -r /var/cache/mdk-test/qemu/overlay.ko ]; }; then
	cache=/var/cache/mdk-test/qemu
else
	cache=${XDG_CACHE_HOME:-$HOME/.cache}/mdk-test/qemu
fi

log() { echo "v2.sh: $*" >&2; }
skip() { log "SKIP: $*"; exit 77; }

work=
cleanup() { [ -n "$work" ] && rm -rf "$work"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- what is needed --------------------------------------------------------------

[ -x "$MDK" ] || skip "no mdk binary at $MDK (run ./build.sh)"
file -L /bin/busybox 2>/dev/null | grep -q 'statically linked' ||
	skip "/bin/busybox is not a static busybox (apt-get install busybox-static)"

if ! command -v qemu-system-x86_64 >/dev/null 2>&1; then
	[ "$(id -u)" -eq 0 ] || skip "qemu-system-x86_64 missing and not root to install qemu-system-x86"
	log "installing qemu-system-x86"
	export DEBIAN_FRONTEND=noninteractive
	apt-get install -y -qq --no-install-recommends qemu-system-x86 >/dev/null 2>&1 ||
		{ apt-get update -qq >/dev/null 2>&1 &&
			apt-get install -y -qq --no-install-recommends qemu-system-x86 >/dev/null 2>&1; } ||
		skip "cannot install qemu-system-x86 with apt-get"
	command -v qemu-system-x86_64 >/dev/null 2>&1 || skip "qemu-system-x86_64 still missing"
fi

# The kernel and overlay.ko, from the newest 6.1 cloud kernel package apt
# knows (small: the cloud flavour), unpacked without installing it.
fetch_kernel() {
	command -v apt-get >/dev/null && command -v dpkg-deb >/dev/null ||
		skip "no apt-get/dpkg-deb to fetch a kernel"
	pkg=$(apt-cache search --names-only '^linux-image-6\.1\.0-[0-9]+-cloud-amd64-unsigned$' 2>/dev/null |
		awk '{ print $1 }' | sort -V | tail -n 1)
	[ -n "$pkg" ] || skip "apt knows no linux-image-6.1.0-*-cloud-amd64-unsigned (apt-get update?)"
	mkdir -p "$cache" || skip "cannot make the cache $cache"
	dl=$(mktemp -d "$cache/.dl.XXXXXX") || skip "cannot write to the cache $cache"
	log "downloading $pkg (once; cached in $cache)"
	if ! (cd "$dl" && apt-get download -qq "$pkg" >/dev/null 2>&1); then
		rm -rf "$dl"
		skip "cannot download $pkg"
	fi
	(cd "$dl" && dpkg-deb --fsys-tarfile ./*.deb |
		tar -x --wildcards './boot/vmlinuz-*' './lib/modules/*/kernel/fs/overlayfs/overlay.ko*') 2>/dev/null
	vmlinuz=$(ls "$dl"/boot/vmlinuz-* 2>/dev/null | head -n 1)
	ko=$(ls "$dl"/lib/modules/*/kernel/fs/overlayfs/overlay.ko* 2>/dev/null | head -n 1)
	if [ -z "$vmlinuz" ] || [ -z "$ko" ]; then
		rm -rf "$dl"
		skip "no vmlinuz or overlay.ko in $pkg"
	fi
	# busybox insmod wants the plain module.
	case $ko in
	*.ko.xz) xz -dc "$ko" >"$dl/overlay.ko" ;;
	*.ko.zst) zstd -qdc "$ko" >"$dl/overlay.ko" ;;
	*.ko.gz) gzip -dc "$ko" >"$dl/overlay.ko" ;;
	*) cp "$ko" "$dl/overlay.ko" ;;
	esac || { rm -rf "$dl"; skip "cannot decompress $ko"; }
	cp "$vmlinuz" "$dl/vmlinuz"
	echo "$pkg" >"$dl/package"
	# Publish: the kernel last, so a half-filled cache is never used.
	mv -f "$dl/overlay.ko" "$cache/overlay.ko" && mv -f "$dl/package" "$cache/package" &&
		mv -f "$dl/vmlinuz" "$cache/vmlinuz"
	rm -rf "$dl"
}
if [ ! -s "$cache/vmlinuz" ] || [ ! -s "$cache/overlay.ko" ]; then
	fetch_kernel
fi
[ -s "$cache/vmlinuz" ] && [ -s "$cache/overlay.ko" ] || skip "no kernel in $cache"
log "kernel: $(cat "$cache/package" 2>/dev/null || echo "$cache/vmlinuz")"

# --- the initramfs ---------------------------------------------------------------

work=$(mktemp -d "${TMPDIR:-/tmp}/mdk-v2.XXXXXX") || exit 1
s=$work/stage
mkdir -p "$s/bin" "$s/proc" "$s/sys" "$s/dev" "$s/tmp" "$s/images"
cp /bin/busybox "$s/bin/busybox"
for a in $(/bin/busybox --list); do
	[ "$a" = busybox ] || ln -s busybox "$s/bin/$a"
done
cp "$MDK" "$s/bin/mdk"
for a in $("$MDK" --list); do ln -s mdk "$s/bin/$a"; done
cp "$cache/overlay.ko" "$s/overlay.ko"
cp "$here/v2-init.sh" "$s/init"
chmod 755 "$s/init"

# The container's root: a busybox rootfs, as tests/lib.sh's make_rootfs.
r=$s/rootfs
mkdir -p "$r/bin" "$r/etc" "$r/tmp" "$r/root" "$r/proc" "$r/sys" "$r/dev"
cp /bin/busybox "$r/bin/busybox"
for a in $(/bin/busybox --list); do
	[ "$a" = busybox ] || ln -s busybox "$r/bin/$a"
done
printf 'root:x:0:0:root:/root:/bin/sh\n' >"$r/etc/passwd"
printf 'root:x:0:\n' >"$r/etc/group"
chmod 1777 "$r/tmp"
chmod 700 "$r/root"
# And the same as an image archive, for mdk-unpack + the overlay.
tar --numeric-owner -C "$r" -cpf "$s/images/bb.tar" . || exit 1

(cd "$s" && find . | /bin/busybox cpio -o -H newc -R 0:0 2>/dev/null) >"$work/initrd" || exit 1

# --- the boot ----------------------------------------------------------------------

# -accel tcg always: /dev/kvm may exist and hang. qemu exits 0 even after a
# kernel panic (panic=-1 + -no-reboot): the markers tell what happened.
log "booting (tcg, timeout ${timeout_s}s)"
timeout "$timeout_s" qemu-system-x86_64 -accel tcg -m 512 -smp 2 -nodefaults \
	-serial stdio -display none -no-reboot \
	-kernel "$cache/vmlinuz" -initrd "$work/initrd" \
	-append 'console=ttyS0 quiet panic=-1' </dev/null >"$work/serial" 2>"$work/qemu.err"
rc=$?
tr -d '\r' <"$work/serial"
if [ -s "$work/qemu.err" ]; then
	log "qemu said: $(head -c 2000 "$work/qemu.err")"
fi
if grep -q '^MDK-V2-DONE' "$work/serial"; then
	exit 0
fi
[ $rc -eq 124 ] && log "the VM did not finish within ${timeout_s}s"
log "the VM did not run the checks to the end (qemu exit $rc)"
exit 1
