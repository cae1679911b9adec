#!/bin/sh
# Mutation check: tests/mutants.sh [NAME...] (./build.sh mutants [NAME...]).
# Each mutant in tests/mutants.list is a deliberate bug: one sed expression
# on one file, and the tests that must catch it. One at a time, in a scratch
# copy of the tree (never this one): the mutant applied, mdk rebuilt (the
# dependencies shared with build/deps, read only), the named tests run. A
# mutant is caught when one of them fails. One that no longer applies (its
# sed changes nothing) or does not build is an error: fix the list.
# Prints a line per mutant, then exactly one summary line:
#   mutants: N caught, M survived
# Exit status: 0 when every mutant was caught, 1 otherwise.
#
# tests/mutants.list: stanzas of "key: value" lines, a blank line between:
#   name: no-setgroups               (a word)
#   file: applets/run.c              (relative to the top)
#   sed: s/setgroups(0, NULL)/0/     (one sed expression; must change FILE)
#   catch: run.test:test_user_groups [suite.test[:test,test]]...
#   why: what the safeguard is for   (for the reader)
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
list=$top/tests/mutants.list
B=${MDK_BUILD:-$top/build}
# The scratch copy builds into its own build/, and its suites test that mdk.
unset MDK_BUILD MDK
if [ ! -x "$B/mdk" ] || [ ! -d "$B/deps" ]; then
	echo "mutants: build first (./build.sh)" >&2
	exit 2
fi
[ "$(id -u)" -eq 0 ] || echo "mutants: not root: the suites skip what needs root, and mutants there survive" >&2

base=${TMPDIR:-/tmp}
S=$(mktemp -d "$base/mdk-mutants.XXXXXX") || exit 2
# Open to all, as /tmp is: a container's mapped root (oci.test's user
# namespaces) must reach the suites' bundles below it.
chmod 755 "$S" || exit 2
log=$S/log
# The suites' own directories on a tmpfs, as tests/run.sh does.
tmp=$S/tmp
mkdir "$tmp" || exit 2
if [ "$(id -u)" -eq 0 ]; then
	mount -t tmpfs -o size=4g,mode=0755 mdk-mutants "$tmp" || exit 2
	trap 'umount "$tmp"; rm -rf "$S"' EXIT
else
	trap 'rm -rf "$S"' EXIT
fi
trap 'exit 130' INT TERM

# The scratch tree: the sources (not .git, not build/), the built image,
# and the dependencies by a link (they are only read).
src=$S/src
mkdir "$src" "$src/build" || exit 2
for f in "$top"/* "$top"/.ci; do
	case ${f##*/} in build) continue ;; esac
	cp -a "$f" "$src/" || exit 2
done
ln -s "$B/deps" "$src/build/deps"
cp -a "$B/images" "$src/build/" || exit 2
(cd "$src" && ./build.sh) </dev/null >"$log" 2>&1 || {
	cat "$log"
	echo "mutants: the unmutated copy does not build" >&2
	exit 2
}

# run_catch SPEC: run suite[:test,...]; 0 when one of them failed.
run_catch() {
	_suite=${1%%:*} _tests=
	case $1 in *:*) _tests=$(echo "${1#*:}" | tr ',' ' ') ;; esac
	# shellcheck disable=SC2086
	(cd "$src" && TMPDIR=$tmp ${TEST_SH:-sh} "tests/$_suite" ${_tests:+-- $_tests}) </dev/null >"$log" 2>&1
	_rc=$?
	_f=$(grep -c '^#RESULT fail ' "$log")
	_p=$(grep -c '^#RESULT pass ' "$log")
	_s=$(grep -c '^#RESULT skip ' "$log")
	caught_by="$_suite ($_p passed, $_f failed, $_s skipped$(sed -n 's/^#RESULT fail / /p' "$log" |
		head -n 3 | tr -d '\n'))"
	# A named test that did not run (renamed?) must not pass as caught.
	for _t in $_tests; do
		grep -q "^#RESULT [a-z]* $_t\$" "$log" || {
			echo "mutants: $name: $_suite has no test $_t" >&2
			errors=$((errors + 1))
		}
	done
	[ "$_f" -gt 0 ] || [ "$_rc" -ne 0 ]
}

caught=0 survived=0 errors=0
want=" $* "
# One mutant: NAME FILE SED CATCH set by the parser below.
one() {
	[ $# -eq 0 ] || [ "${want#* "$name" }" != "$want" ] || return 0
	if [ -z "$name" ] || [ -z "$file" ] || [ -z "$sed" ] || [ -z "$catch" ]; then
		echo "mutants: incomplete stanza '$name' in $list" >&2
		errors=$((errors + 1))
		return 0
	fi
	f=$src/$file
	cp "$f" "$S/orig" || { errors=$((errors + 1)); return 0; }
	sed -e "$sed" "$S/orig" >"$f"
	if cmp -s "$S/orig" "$f"; then
		echo "mutant $name: ERROR: the sed changes nothing in $file (moved code? fix the list)"
		errors=$((errors + 1))
	elif ! (cd "$src" && ./build.sh) </dev/null >"$log" 2>&1; then
		echo "mutant $name: ERROR: does not build"
		tail -n 5 "$log" | sed 's/^/    /'
		errors=$((errors + 1))
	else
		hit=
		for c in $catch; do
			if run_catch "$c"; then
				hit=$caught_by
				break
			fi
		done
		if [ -n "$hit" ]; then
			echo "mutant $name: caught by $hit"
			caught=$((caught + 1))
		else
			echo "mutant $name: SURVIVED ($catch all passed)"
			survived=$((survived + 1))
		fi
	fi
	# Back as it was, newer than its object: the next build recompiles it.
	cp "$S/orig" "$f"
}

name='' file='' sed='' catch=''
while IFS= read -r line <&3 || [ -n "$line" ]; do
	case $line in
	'#'*) ;;
	'')
		[ -z "$name" ] || one "$@"
		name='' file='' sed='' catch=''
		;;
	name:*) name=${line#name: } ;;
	file:*) file=${line#file: } ;;
	sed:*) sed=${line#sed: } ;;
	catch:*) catch=${line#catch: } ;;
	why:*) ;;
	*) echo "mutants: unknown line in $list: $line" >&2; errors=$((errors + 1)) ;;
	esac
done 3<"$list"
[ -z "$name" ] || one "$@"
[ "$errors" -eq 0 ] || echo "mutants: $errors errors (see above)"
echo "mutants: $caught caught, $survived survived"
[ "$survived" -eq 0 ] && [ "$errors" -eq 0 ]
