# Sourced (busybox sh) by the /init of the cgroup test VMs (v2-init.sh,
# v1-init.sh): the first stage of the boot, the marker lines the suites
# read, and the helpers of the checks. Before sourcing, set MARK (MDK-V2,
# MDK-V1): a check NAME reports "$MARK: NAME ok" or "$MARK: NAME FAIL
# DETAIL", after "$MARK-INFO: NAME DETAIL" with what was seen; "$MARK-SKIP:
# NAME WHY" is a check this VM cannot run.

# Stage 1 copies the initramfs into a tmpfs and switch_roots there:
# pivot_root (mdk-run) does not work with the initial rootfs as root.
if [ ! -e /.stage2 ]; then
	mkdir -p /new
	mount -t tmpfs -o mode=0755 newroot /new || { echo "$MARK: boot FAIL tmpfs"; poweroff -f; }
	for e in /*; do
		case $e in /new | /proc | /sys | /dev) ;; *) cp -a "$e" /new/ ;; esac
	done
	mkdir -p /new/proc /new/sys /new/dev
	: >/new/.stage2
	exec switch_root /new /init
	echo "$MARK: boot FAIL switch_root"
	poweroff -f
fi

ok() { echo "$MARK: $1 ok"; }
bad() {
	_n=$1
	shift
	echo "$MARK: $_n FAIL $(echo "$*" | tr '\n' ' ' | cut -c1-600)"
}
# check NAME DETAIL CONDITION...: ok if CONDITION succeeds. The detail is
# logged either way ("$MARK-INFO: NAME ...").
check() {
	_n=$1 _d=$2
	shift 2
	echo "$MARK-INFO: $_n $(echo "$_d" | tr '\n' ' ' | cut -c1-600)"
	if "$@"; then ok "$_n"; else bad "$_n" "$_d"; fi
}
eq() { [ "$1" = "$2" ]; }
contains_1() { case " $1 " in *" 1 "*) return 0 ;; esac; return 1; }

wait_for() {
	_w=0
	while [ $_w -lt 400 ]; do
		"$@" && return 0
		sleep 0.05
		_w=$((_w + 1))
	done
	return 1
}
gone() { ! kill -0 "$1" 2>/dev/null; }
out_has() { grep -q "$1" /tmp/out 2>/dev/null; }
init_of() { cat "/proc/$1/task/$1/children" 2>/dev/null | awk '{ print $1 }'; }

# gate_start ARGS...: mdk run -i ARGS in the background, stdin from a fifo we
# hold open, stdout /tmp/out, stderr /tmp/err; RUN is mdk-run's pid.
gate_start() {
	rm -f /tmp/gate /tmp/out /tmp/err
	mkfifo /tmp/gate
	mdk run -i "$@" </tmp/gate >/tmp/out 2>/tmp/err &
	RUN=$!
	exec 7>/tmp/gate
}
gate_release() {
	(echo go >&7) 2>/dev/null
	exec 7>&-
	wait "$RUN"
	RC=$?
}

HOG='x=$(head -c 64000000 /dev/zero | tr "\0" a); echo survived ${#x}'
# A bounded fork bomb: at most 100 background sleeps; ash gives up at the
# first fork that fails. The container's shell then waits for the test.
BOMB='sh -c '\''i=0; while [ $i -lt 100 ]; do i=$((i+1)); sleep 30 & echo "forked $i"; done; echo "bomb not contained"'\''
echo "bomb exit $?"; echo ready; read x; echo end'
