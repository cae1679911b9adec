# Shared by the m-docker suites (m-docker.test, m-docker-ux.test): the
# image fixture, a cgroup parent per test, the leak-checking teardown, and
# helpers to run the script. Sourced after lib.sh.
# shellcheck shell=sh disable=SC2046,SC2086,SC2012
CG=/sys/fs/cgroup

# The shell that runs the script follows TEST_SH.
MD() { ${TEST_SH:-sh} "$TOP/scripts/m-docker" "$@"; }

# An image of our own (busybox and /file), packed once per suite.
oneTimeSetUp() {
	FIX=$(mktemp -d "${TMPDIR:-/tmp}/mdk-fix.XXXXXX")
	make_rootfs "$FIX/img"
	echo "from the image" >"$FIX/img/file"
	"$MDK" pack "$FIX/img" "$FIX/img.tar" >/dev/null ||
		echo "m-docker.test: mdk pack $FIX/img failed" >&2
	_cgn=0
}
oneTimeTearDown() { rm -rf "$FIX"; }

setUp() {
	mdk_setup
	_cgn=$((_cgn + 1))
	CGP=mdk-t-$$-$_cgn
	MDK_CGROUP_PARENT=$CGP
	export MDK_CGROUP_PARENT
	BG=
	for _h in "$CG"/*/; do
		[ -e "$_h$CGP" ] && fail "setUp: $_h$CGP exists already"
	done
	return 0
}

# Container cgroup directories below this test's parent, in any hierarchy
# (the v1 ones and unified/).
cg_left() {
	for _h in "$CG"/*/; do
		[ -d "$_h$CGP" ] && find "$_h$CGP" -mindepth 1 -depth -type d
	done
}

# Kill what runs in cgroup directory $1 and rmdir it (bounded retry).
cg_remove() {
	_i=0
	while [ -d "$1" ] && [ $_i -lt 100 ]; do
		kill -9 $(cat "$1/cgroup.procs" 2>/dev/null) 2>/dev/null
		rmdir "$1" 2>/dev/null && return 0
		sleep 0.05
		_i=$((_i + 1))
	done
	[ ! -d "$1" ]
}

# m-docker scripts and mdk processes of this test (by $MDK_CGROUP_PARENT in
# their environment).
md_procs() {
	for _p in /proc/[0-9]*; do
		_n=${_p#/proc/}
		[ "$_n" = "$$" ] && continue
		case $({ tr '\0' ' ' <"$_p/cmdline"; } 2>/dev/null) in
		*/scripts/m-docker\ * | *mdk\ run\ * | *mdk-run\ *) ;;
		*) continue ;;
		esac
		{ tr '\0' '\n' <"$_p/environ"; } 2>/dev/null | grep -qxF "MDK_CGROUP_PARENT=$CGP" && echo "$_n"
	done
}

tearDown() {
	if [ -n "${T:-}" ] && [ -n "${CGP:-}" ]; then
		_p=$(md_procs)
		if [ -n "$_p" ]; then
			kill -9 $_p 2>/dev/null
			sleep 0.2
			fail "teardown: m-docker/mdk processes left running: $(echo $_p)"
		fi
		_left=$(cg_left)
		if [ -n "$_left" ]; then
			fail "teardown: cgroups left behind: $(echo $_left)"
			for _c in $_left; do
				cg_remove "$_c" || echo "teardown: cannot remove $_c" >&2
			done
		fi
		for _h in "$CG"/*/; do
			[ -d "$_h$CGP" ] || continue
			rmdir "$_h$CGP" || fail "teardown: cannot rmdir $_h$CGP"
		done
		CGP=
	fi
	mdk_teardown
}

# --- helpers --------------------------------------------------------------------

# run_md ARGS...: m-docker ARGS; stdout in $out, stderr in $err, status in $rc.
run_md() {
	out=$(MD "$@" 2>"$T/err")
	rc=$?
	err=$(cat "$T/err")
}

# md_bg ARGS...: m-docker ARGS in the background, output in $T/bg.out and
# $T/bg.err; BG is the pid of the shell that runs the script.
md_bg() {
	${TEST_SH:-sh} "$TOP/scripts/m-docker" "$@" >"$T/bg.out" 2>"$T/bg.err" &
	BG=$!
}

# bg_wait [SECONDS]: wait (default at most 30 s) until $BG has ended; its
# status in $bgrc. Past the time it is killed and the test fails.
bg_wait() {
	_i=0 _max=$((${1:-30} * 20))
	while [ $_i -lt $_max ]; do
		_s=$(cat "/proc/$BG/stat" 2>/dev/null) || break
		_s=${_s##*) }
		[ "${_s%% *}" = Z ] && break
		sleep 0.05
		_i=$((_i + 1))
	done
	if [ $_i -ge $_max ]; then
		fail "m-docker (pid $BG) still runs after ${1:-30} s"
		kill -9 "$BG" 2>/dev/null
	fi
	wait "$BG"
	bgrc=$?
	BG=
}


# Pids in container ID's cgroup (v1 pids hierarchy, or v2).
cg_procs() { cat "$CG/pids/$CGP/$1/cgroup.procs" "$CG/$CGP/$1/cgroup.procs" 2>/dev/null; }

# ctr_runs ID COMM: a process called COMM runs in container ID; CPID its pid.
ctr_runs() {
	for _p in $(cg_procs "$1"); do
		[ "$(cat "/proc/$_p/comm" 2>/dev/null)" = "$2" ] && { CPID=$_p; return 0; }
	done
	return 1
}

# The run record of container ID, and its mdk-run pid.
has_record() { [ -s "$MDK_ROOT/layers/$1+rw/run" ]; }
rec_pid() { sed -n 's/^pid=//p' "$MDK_ROOT/layers/$1+rw/run" 2>/dev/null; }

gone() { [ ! -d "/proc/$1" ]; }
is_mounted() { [ -n "$(mounts_under "$1")" ]; }

# The line of `m-docker ps [-a]` for container $1 ("" if none).
ps_line() { printf '%s\n' "$2" | awk -v id="$1" '$1 == id'; }

# assert_clean [IMAGE...] (default busybox): no container is left -- rootfs/
# empty, in layers/ only IMAGE, IMAGE@KEY (exactly one) and .IMAGE.lock, no
# mount in the data root, no cgroup.
assert_clean() {
	[ $# -gt 0 ] || set -- busybox
	assertEquals "rootfs/ empty" "" "$(ls -A "$MDK_ROOT/rootfs" 2>&1)"
	_bad=$(ls -A "$MDK_ROOT/layers" | while IFS= read -r _e; do
		_ok=
		for _i in "$@"; do
			case $_e in ".$_i.lock" | "$_i" | "$_i"@*) _ok=1 ;; esac
		done
		[ -n "$_ok" ] || echo "$_e"
	done)
	assertEquals "layers/ holds only the image layers" "" "$(echo $_bad)"
	for _i in "$@"; do
		assertEquals "exactly one layers/$_i@*: $(echo $(ls -A "$MDK_ROOT/layers"))" 1 \
			"$(ls -d "$MDK_ROOT/layers/$_i"@* 2>/dev/null | wc -l)"
		assertTrue "layers/$_i links to its layer" "[ -d '$MDK_ROOT/layers/$_i/' ] && [ -L '$MDK_ROOT/layers/$_i' ]"
	done
	assertEquals "no mounts in the data root" "" "$(mounts_under "$MDK_ROOT")"
	assertEquals "no container cgroups" "" "$(cg_left)"
}

# forge_dead ID: a container whose script and mdk-run were killed -9 (as by
# the OOM killer or a crash): its rw layer, mount and run record stay; its
# processes are gone (and reaped: see test_ps_zombie_mdk_run_is_not_running).
forge_dead() {
	md_bg run --name "$1" busybox sleep 30
	wait_for ctr_runs "$1" sleep || fail "forge $1: sleep did not start: $(cat "$T/bg.err")"
	_c=$CPID
	wait_for has_record "$1" || fail "forge $1: no run record"
	_r=$(rec_pid "$1")
	assertNotEquals "forge $1: mdk-run pid" "" "$_r"
	kill -9 "$BG" ${_r:-} 2>/dev/null
	bg_wait
	assertEquals "forge $1: the script died of SIGKILL" 137 "$bgrc"
	wait_for gone "$_c" || fail "forge $1: the container's sleep survived"
	wait_for gone "${_r:-0}" || fail "forge $1: mdk-run $_r still there: $(cat /proc/${_r:-0}/status 2>/dev/null | grep State)"
	assertTrue "forge $1: rw layer left" "[ -d '$MDK_ROOT/layers/$1+rw' ]"
	assertTrue "forge $1: mount left" "is_mounted '$MDK_ROOT/rootfs/$1'"
}

