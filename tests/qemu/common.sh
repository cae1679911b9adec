# Sourced (POSIX sh) by the scripts that boot a test VM under qemu:
# tests/qemu/vm.sh and initramfs.sh. It fetches and caches the
# kernel, stages busybox and mdk into an initramfs, and boots it.
#
# Before sourcing, set:
#   prog   the name on log lines ("vm.sh v2: ...", "vm.sh v2: SKIP: ...")
#   here   the directory of tests/qemu
# It sets top (the checkout) and MDK (default build/mdk) when unset.
#
#   MDK=path              the binary under test (default: build/mdk)
#   MDK_QEMU_CACHE=dir    where the kernel and overlay.ko are kept between
#                         runs (default /var/cache/mdk-test/qemu; when not
#                         root and that is not filled, ~/.cache/mdk-test/qemu)
#
# Needs qemu-system-x86_64 (installed from Debian's qemu-system-x86 when
# missing and run as root), a static /bin/busybox (busybox-static), and
# Debian's linux-image-6.1.0-*-cloud-amd64-unsigned, fetched once with
# "apt-get download" (never installed) and unpacked into the cache.

top=$(dirname "$(dirname "$here")")
MDK=${MDK:-$top/build/mdk}
if [ -n "${MDK_QEMU_CACHE:-}" ]; then
	cache=$MDK_QEMU_CACHE
elif [ "$(id -u)" -eq 0 ] ||
	{ [ -r /var/cache/mdk-test/qemu/vmlinuz ] && [ -r /var/cache/mdk-test/qemu/overlay.ko ]; }; then
	cache=/var/cache/mdk-test/qemu
else
	cache=${XDG_CACHE_HOME:-$HOME/.cache}/mdk-test/qemu
fi

log() { echo "$prog: $*" >&2; }
skip() { log "SKIP: $*"; exit 77; }

# The kernel and overlay.ko, from the newest 6.1 cloud kernel package apt
# knows (small: the cloud flavour), unpacked without installing it.
qemu_fetch_kernel() {
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

# What is needed, or exit 77: mdk, a static busybox, qemu, the kernel.
qemu_prepare() {
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
	command -v timeout >/dev/null 2>&1 || skip "no timeout(1) to bound the boot"

	if [ ! -s "$cache/vmlinuz" ] || [ ! -s "$cache/overlay.ko" ]; then
		qemu_fetch_kernel
	fi
	[ -s "$cache/vmlinuz" ] && [ -s "$cache/overlay.ko" ] || skip "no kernel in $cache"
	log "kernel: $(cat "$cache/package" 2>/dev/null || echo "$cache/vmlinuz")"
}

# stage_busybox DIR: DIR/bin/busybox (the host's static one) and a link in
# DIR/bin for each of its applets.
stage_busybox() {
	mkdir -p "$1/bin" || return 1
	cp /bin/busybox "$1/bin/busybox" || return 1
	chmod 755 "$1/bin/busybox"
	for _a in $(/bin/busybox --list); do
		[ "$_a" = busybox ] || ln -s busybox "$1/bin/$_a" || return 1
	done
}

# stage_mdk DIR: DIR/bin/mdk ($MDK) and its applet links (mdk-run, ...).
# A dynamically linked $MDK (the sanitizer build) brings the loader and the
# libraries it needs, at their host paths.
stage_mdk() {
	mkdir -p "$1/bin" || return 1
	cp "$MDK" "$1/bin/mdk" || return 1
	for _a in $("$MDK" --list); do
		ln -s mdk "$1/bin/$_a" || return 1
	done
	for _l in $(ldd "$MDK" 2>/dev/null | sed -n 's|.*[[:space:]]\(/[^[:space:]]*\) (0x.*|\1|p'); do
		mkdir -p "$1$(dirname "$_l")" && cp -L "$_l" "$1$_l" || return 1
	done
}

# stage_cgroup_vm STAGE INIT: the initramfs of a cgroup test VM (vm.sh) in
# STAGE: busybox, mdk, overlay.ko, INIT as /init with checks.sh and
# tests/wait.sh beside it, and /rootfs, a busybox root for the containers (as
# tests/lib.sh's make_rootfs) with the probe (tests/probe.c), also packed as
# /images/bb.tar for mdk-unpack and the overlay.
stage_cgroup_vm() {
	mkdir -p "$1/bin" "$1/proc" "$1/sys" "$1/dev" "$1/tmp" "$1/images" || return 1
	stage_busybox "$1" && stage_mdk "$1" || return 1
	cp "$cache/overlay.ko" "$1/overlay.ko" && cp "$2" "$1/init" && cp "$here/checks.sh" "$1/checks.sh" &&
		cp "$here/../wait.sh" "$1/wait.sh" ||
		return 1
	chmod 755 "$1/init"
	_r=$1/rootfs
	mkdir -p "$_r/bin" "$_r/etc" "$_r/tmp" "$_r/root" "$_r/proc" "$_r/sys" "$_r/dev" || return 1
	stage_busybox "$_r" || return 1
	printf 'root:x:0:0:root:/root:/bin/sh\n' >"$_r/etc/passwd"
	printf 'root:x:0:\n' >"$_r/etc/group"
	chmod 1777 "$_r/tmp"
	chmod 700 "$_r/root"
	# The probe, for the seccomp checks of i386 and x32 code.
	if command -v musl-gcc >/dev/null 2>&1; then
		musl-gcc -static -Os -o "$_r/bin/probe" "$top/tests/probe.c" || log "cannot build tests/probe.c"
	else
		log "no musl-gcc: no probe, no seccomp checks of i386 and x32"
	fi
	tar --numeric-owner -C "$_r" -cpf "$1/images/bb.tar" .
}

# make_cpio STAGE OUT: STAGE as a newc initramfs, everything owned by root.
make_cpio() {
	(cd "$1" && find . | /bin/busybox cpio -o -H newc -R 0:0 2>/dev/null) >"$2"
}

# qemu_boot INITRD WORK DONE_MARKER: boot the kernel with INITRD, bounded by
# $timeout_s seconds; the serial console goes to WORK/serial and is printed
# on stdout (without CRs). Returns 0 when a line starting with DONE_MARKER
# was seen (the checks may have failed), 1 when not (panic, hang, crash).
qemu_boot() {
	# -accel tcg always: /dev/kvm may exist and hang. qemu exits 0 even after
	# a kernel panic (panic=-1 + -no-reboot): the markers tell what happened.
	log "booting (tcg, timeout ${timeout_s}s)"
	timeout "$timeout_s" qemu-system-x86_64 -accel tcg -m "${qemu_mem:-512}" -smp 2 -nodefaults \
		-serial stdio -display none -no-reboot \
		-kernel "$cache/vmlinuz" -initrd "$1" \
		-append 'console=ttyS0 quiet panic=-1' </dev/null >"$2/serial" 2>"$2/qemu.err"
	_rc=$?
	tr -d '\r' <"$2/serial"
	if [ -s "$2/qemu.err" ]; then
		log "qemu said: $(head -c 2000 "$2/qemu.err")"
	fi
	if grep -q "^$3" "$2/serial"; then
		return 0
	fi
	[ $_rc -eq 124 ] && log "the VM did not finish within ${timeout_s}s"
	log "the VM did not run the checks to the end (qemu exit $_rc)"
	return 1
}
