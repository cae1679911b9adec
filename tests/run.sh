#!/bin/sh
# Run the test suites: tests/run.sh [SUITE...] (default: every tests/*.test).
#   MDK=path       the binary under test (default build/mdk)
#   TEST_SH=shell  the shell that runs the suites (default sh; e.g. dash, "busybox ash")
# Prints each suite's output, then exactly one summary line:
#   N passed, N failed, N skipped
# Exit status: 0 when nothing failed.
set -u
tests=$(cd "$(dirname "$0")" && pwd)
sh=${TEST_SH:-sh}
[ $# -gt 0 ] || set -- "$tests"/*.test
pass=0 fail=0 skip=0
log=$(mktemp /tmp/mdk-run.XXXXXX)
trap 'rm -f "$log"' EXIT
# The tests' directories go on a tmpfs of their own: this machine's ext4 is
# very slow to create files after mass deletes, and the tests do both.
if [ -z "${TMPDIR:-}" ] && [ "$(id -u)" -eq 0 ]; then
	TMPDIR=$(mktemp -d /tmp/mdk-tests.XXXXXX)
	mount -t tmpfs -o size=8g,mode=0755 mdk-tests "$TMPDIR" || exit 1
	export TMPDIR
	trap 'umount "$TMPDIR" && rmdir "$TMPDIR"; rm -f "$log"' EXIT
	trap 'exit 130' INT TERM
fi
for suite in "$@"; do
	echo "=== $(basename "$suite")"
	# shellcheck disable=SC2086
	$sh "$suite" </dev/null >"$log" 2>&1
	rc=$?
	cat "$log"
	p=$(grep -c '^#RESULT pass ' "$log")
	f=$(grep -c '^#RESULT fail ' "$log")
	s=$(grep -c '^#RESULT skip ' "$log")
	# A suite that died, or failed outside any test, counts as one failure.
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "=== $(basename "$suite"): exit status $rc outside any test"
		f=1
	fi
	pass=$((pass + p)) fail=$((fail + f)) skip=$((skip + s))
done
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
