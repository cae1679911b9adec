# Sourced by tests/lib.sh and by the test VMs' /init (tests/qemu/checks.sh,
# initramfs-init.sh). POSIX sh, busybox ash included.
#
# wait_for CMD...: until CMD succeeds, at most $WAIT (default 20) seconds by
# the clock: a bound against hangs, not a timing (what is waited for must
# come; under tcg or a sanitizer one command can take long).
wait_for() {
	_end=$(($(date +%s) + ${WAIT:-20}))
	while :; do
		"$@" && return 0
		[ "$(date +%s)" -lt "$_end" ] || return 1
		sleep 0.05
	done
}
