#!/bin/sh
# Run the test suites: tests/run.sh [SUITE...] (default: every tests/*.test).
#   MDK=path       the binary under test (default build/mdk)
#   TEST_SH=shell  the shell that runs the suites (default sh; e.g. dash, "busybox ash")
# Prints each suite's output, then exactly one summary line:
#   N passed, N failed, N skipped
# Exit status: 0 when nothing failed.
#
# For a sanitizer build (./build.sh asan), reports go to files in a directory
# per suite ($MDK_SAN_DIR, through log_path): a test during which one appears
# fails (tests/lib.sh), and one left at the suite's end counts as a failure.
set -u
tests=$(cd "$(dirname "$0")" && pwd)
sh=${TEST_SH:-sh}
[ $# -gt 0 ] || set -- "$tests"/*.test
pass=0 fail=0 skip=0
log=$(mktemp /tmp/mdk-run.XXXXXX)
san=$(mktemp -d /tmp/mdk-san.XXXXXX)
trap 'rm -rf "$log" "$san"' EXIT
# The tests' directories go on a tmpfs of their own: this machine's ext4 is
# very slow to create files after mass deletes, and the tests do both.
if [ -z "${TMPDIR:-}" ] && [ "$(id -u)" -eq 0 ]; then
	TMPDIR=$(mktemp -d /tmp/mdk-tests.XXXXXX)
	mount -t tmpfs -o size=8g,mode=0755 mdk-tests "$TMPDIR" || exit 1
	export TMPDIR
	trap 'umount "$TMPDIR" && rmdir "$TMPDIR"; rm -rf "$log" "$san"' EXIT
	trap 'exit 130' INT TERM
fi
asan_opts=${ASAN_OPTIONS:-} ubsan_opts=${UBSAN_OPTIONS:-}
for suite in "$@"; do
	echo "=== $(basename "$suite")"
	MDK_SAN_DIR=$san/$(basename "$suite")
	mkdir -p "$MDK_SAN_DIR"
	ASAN_OPTIONS="log_path=$MDK_SAN_DIR/report${asan_opts:+:$asan_opts}"
	UBSAN_OPTIONS="log_path=$MDK_SAN_DIR/report${ubsan_opts:+:$ubsan_opts}"
	export MDK_SAN_DIR ASAN_OPTIONS UBSAN_OPTIONS
	# shellcheck disable=SC2086
	$sh "$suite" </dev/null >"$log" 2>&1
	rc=$?
	cat "$log"
	for r in "$MDK_SAN_DIR"/report.*; do
		[ -f "$r" ] || continue
		echo "=== $(basename "$suite"): sanitizer report outside any test, $r:"
		cat "$r"
		rc=1
	done
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
