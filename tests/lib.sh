# Sourced by every suite (tests/*.test). POSIX sh.
#
# Gives each test a private temporary directory $T with a data root
# $MDK_ROOT=$T/root, and in teardown FAILS the test if anything is left
# mounted under $T, if the host's mount table changed, or if a process still
# runs from $T -- then cleans up (unmounting first: never deleting through a
# mount). Suites that need their own setUp/tearDown call mdk_setup and
# mdk_teardown from them.
#
#   $MDK        the binary under test (default: build/mdk)
#   mdk ARGS    runs "$MDK" ARGS
#   skip "why"  marks the current test skipped (call then return 0)
#   need_root   skip unless root
#   need_static_mdk WHY  skip when $MDK is the sanitizer build (dynamic)
#   tool NAME   the path of the system's NAME, never a busybox applet (under
#               TEST_SH="busybox ash" applets win over $PATH)
#
# With $MDK_SAN_DIR set (tests/run.sh sets it), sanitizer reports go to files
# there, and teardown fails the test during which one appeared, printing it.

TESTS=$(cd "$(dirname "$0")" && pwd)
TOP=$(dirname "$TESTS")
MDK=${MDK:-$TOP/build/mdk}
SHUNIT2=${SHUNIT2:-/usr/bin/shunit2}
SHUNIT_COLOR=${SHUNIT_COLOR:-none}
export MDK
# The test processes must see what the user would: a C locale, a sane PATH.
LC_ALL=C
export LC_ALL

mdk() { "$MDK" "$@"; }

# build/asan/mdk (./build.sh asan) calls itself VERSION-asan.
case $("$MDK" --version 2>/dev/null | head -n 1) in
*-asan) MDK_SANITIZED=1 ;;
*) MDK_SANITIZED= ;;
esac

need_static_mdk() {
	[ -z "$MDK_SANITIZED" ] && return 0
	skip "\$MDK is the sanitizer build (dynamically linked against glibc): $*"
	return 1
}

# Sanitizer reports written since the last call: printed, then removed.
# Prints nothing when there are none.
san_reports() {
	[ -n "${MDK_SAN_DIR:-}" ] || return 0
	for _r in "$MDK_SAN_DIR"/report.*; do
		[ -f "$_r" ] || continue
		echo "--- sanitizer report $_r:"
		cat "$_r"
		rm -f "$_r"
	done
}

skip() {
	echo "SKIP: $_shunit_test_: $*"
	_skipped=1
	startSkipping
}

tool() {
	_ifs=$IFS
	IFS=:
	for _d in $PATH; do
		if [ -f "$_d/$1" ] && [ -x "$_d/$1" ]; then
			IFS=$_ifs
			echo "$_d/$1"
			return 0
		fi
	done
	IFS=$_ifs
	echo "$1"
}

need_root() {
	[ "$(id -u)" -eq 0 ] && return 0
	skip "needs root"
	return 1
}

# Mount points under a path, deepest first.
mounts_under() {
	awk -v p="$1" '$5 == p || index($5, p "/") == 1 { print length($5), $5 }' /proc/self/mountinfo |
		sort -rn | cut -d' ' -f2-
}

# The host's mount table, less what other programs do meanwhile under
# /tmp (other test runs on their own tmpfs, benches, image builders such as
# mmdebstrap): parallel work does not fail a test. What this test makes
# under its own directories still counts, and mounts_under "$T" sees it too.
mount_table() {
	awk -v own="${TMPDIR:-/nonexistent}" -v t="${T:-/nonexistent}" \
		'!(index($5, "/tmp/") == 1 && $5 != own && index($5, own "/") != 1 &&
		   $5 != t && index($5, t "/") != 1) { print $5, $9 }' \
		/proc/self/mountinfo | sort
}

# Processes whose cwd, root or command line is under $1.
procs_under() {
	for p in /proc/[0-9]*; do
		[ "${p#/proc/}" = "$$" ] && continue
		for l in cwd root; do
			case $(readlink "$p/$l" 2>/dev/null) in
			"$1"/* | "$1") echo "${p#/proc/}"; break ;;
			esac
		done
	done | sort -u
}

mdk_setup() {
	T=$(mktemp -d "${TMPDIR:-/tmp}/mdk-test.XXXXXX")
	MDK_ROOT=$T/root
	# Container cgroups under a parent of the test's own (suites may pick
	# another after this); teardown checks and removes it.
	MDK_CGROUP_PARENT=mdk-test-$$
	export MDK_ROOT T MDK_CGROUP_PARENT
	_skipped=
	_mounts_before=$(mount_table)
}

mdk_teardown() {
	# shunit2 calls tearDown once more at exit: nothing to do then.
	[ -n "${T:-}" ] || return 0
	_leak=
	_p=$(procs_under "$T")
	if [ -n "$_p" ]; then
		_leak="processes left running: $(echo $_p)"
		# shellcheck disable=SC2086
		kill -9 $_p 2>/dev/null
		sleep 0.2
	fi
	_m=$(mounts_under "$T")
	if [ -n "$_m" ]; then
		_leak="$_leak mounts left behind: $(echo $_m)"
		for _x in $_m; do umount -l "$_x" 2>/dev/null; done
	fi
	_now=$(mount_table)
	if [ "$_now" != "$_mounts_before" ]; then
		_d=$(printf '%s\n' "$_mounts_before" | grep -vxF "$_now" | sed 's/^/-/')
		_d="$_d $(printf '%s\n' "$_now" | grep -vxF "$_mounts_before" | sed 's/^/+/')"
		_leak="$_leak host mount table changed: $(echo $_d)"
	fi
	# Container cgroups left under the test's parent; then the parent itself.
	for _cg in /sys/fs/cgroup/"$MDK_CGROUP_PARENT" /sys/fs/cgroup/*/"$MDK_CGROUP_PARENT"; do
		[ -d "$_cg" ] || continue
		for _c in "$_cg"/*/; do
			[ -d "$_c" ] || continue
			_leak="$_leak cgroup left behind: $_c"
			_id=${_c%/}
			"$MDK" cgroup rm -f "${_id##*/}" >/dev/null 2>&1
		done
		rmdir "$_cg" 2>/dev/null
	done
	endSkipping
	[ -n "$_leak" ] && fail "teardown:$_leak"
	_san=$(san_reports)
	if [ -n "$_san" ]; then
		printf '%s\n' "$_san"
		fail "teardown: a sanitizer reported an error (above)"
	fi
	# Only with nothing mounted below it may the directory be deleted.
	if [ -z "$(mounts_under "$T")" ]; then
		rm -rf "$T"
	else
		fail "teardown: $T still has mounts; left in place"
	fi
	# A failure before a skip stays a failure.
	if [ "${__shunit_testSuccess:-0}" -ne 0 ]; then
		echo "#RESULT fail $_shunit_test_"
	elif [ -n "$_skipped" ]; then
		echo "#RESULT skip $_shunit_test_"
	else
		echo "#RESULT pass $_shunit_test_"
	fi
	T=
}

. "$TESTS/wait.sh"

setUp() { mdk_setup; }
tearDown() { mdk_teardown; }

# --- fixtures -----------------------------------------------------------------

# A minimal busybox rootfs in directory $1, from Debian's busybox-static.
make_rootfs() {
	_r=$1
	mkdir -p "$_r/bin" "$_r/sbin" "$_r/etc" "$_r/tmp" "$_r/root" "$_r/proc" "$_r/sys" \
		"$_r/dev" "$_r/usr/bin" "$_r/var"
	cp /bin/busybox "$_r/bin/busybox"
	for _a in $(/bin/busybox --list); do
		[ "$_a" = busybox ] || ln -s busybox "$_r/bin/$_a"
	done
	printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$_r/etc/passwd"
	printf 'root:x:0:\nnogroup:x:65534:\n' >"$_r/etc/group"
	chmod 1777 "$_r/tmp"
	chmod 700 "$_r/root"
}

# This machine's Debian mirror for release $1: the URI of the deb entry its
# apt configuration has for it (README says to find it so).
apt_mirror() {
	# shellcheck disable=SC2016 # apt's $(FIELD)s
	apt-get indextargets --format '$(REPO_URI) $(RELEASE)' 2>/dev/null | sort -u |
		awk -v r="$1" '$2 == r { print $1; exit }'
}

# readme_debootstrap DIR: DIR (not there yet) filled with README.md's
# debootstrap tree -- its one "sudo debootstrap ... /tmp/deb MIRROR" line,
# with DIR for /tmp/deb and this machine's mirror -- made once per build
# directory and cached as build/cache/readme-deb.tar, as the qemu kernel is
# (readme.test and dockerfile.test share it). Returns 0; 2 when it cannot be
# made here (why in $DEB_SKIP); 1 when it failed (why in $DEB_FAIL).
# shellcheck disable=SC2034 # DEB_SKIP, DEB_FAIL: for the caller
readme_debootstrap() {
	DEB_SKIP='' DEB_FAIL=''
	_cache=$TOP/build/cache/readme-deb.tar
	if [ -f "$_cache" ]; then
		mkdir "$1" && "$(tool tar)" -C "$1" -xpf "$_cache" && return 0
		DEB_FAIL="extract $_cache into $1 failed"
		return 1
	fi
	command -v debootstrap >/dev/null 2>&1 || { DEB_SKIP="no debootstrap (apt-get install debootstrap)"; return 2; }
	_line=$(sed -n '/^    sudo debootstrap /{s/^    sudo //; s/ *#.*//; s/ *$//; p;}' "$TOP/README.md")
	case $_line in
	*"
"*) _line= ;;
	*" /tmp/deb MIRROR") ;;
	*) _line= ;;
	esac
	[ -n "$_line" ] || { DEB_FAIL="README.md has not one 'sudo debootstrap ... /tmp/deb MIRROR' line"; return 1; }
	_m=$(apt_mirror bookworm)
	[ -n "$_m" ] || { DEB_SKIP="no bookworm mirror in apt's configuration"; return 2; }
	_line=${_line% /tmp/deb MIRROR}
	eval "$_line \"\$1\" \"\$_m\"" >"$1.debootstrap.log" 2>&1 ||
		{ DEB_FAIL="$_line $1 $_m: $(tail -n 5 "$1.debootstrap.log")"; return 1; }
	mkdir -p "${_cache%/*}"
	if ! "$(tool tar)" --numeric-owner -C "$1" -cpf "$_cache.$$" . || ! mv "$_cache.$$" "$_cache"; then
		DEB_FAIL="cache $1 as $_cache failed"
		rm -f "$_cache.$$"
		return 1
	fi
}

# make_image DIR TARFILE [tar compression flag]: "docker export" form.
make_image() {
	tar --numeric-owner -C "$1" -cp $3 -f "$2" .
}
