# Sourced (after tests/lib.sh) by the suites of the cgroup test VMs,
# cgroup_v1.test and cgroup_v2.test, with V set (v1, v2): one boot of
# tests/qemu/vm.sh V for the whole suite, in oneTimeSetUp; each test asserts
# its checks' markers ("MDK-V2: NAME ok").
MARK=MDK-$(echo "$V" | tr v V)

oneTimeSetUp() {
	FIX=$(mktemp -d /tmp/mdk-fix.XXXXXX)
	VM_SKIP=
	sh "$TESTS/qemu/vm.sh" "$V" >"$FIX/serial" 2>"$FIX/log"
	VM_RC=$?
	cat "$FIX/log"
	if [ $VM_RC -eq 77 ]; then
		VM_SKIP=$(sed -n "s/^vm.sh $V: SKIP: //p" "$FIX/log" | head -n 1)
		VM_SKIP=${VM_SKIP:-tests/qemu/vm.sh $V cannot run here}
	fi
	# The VM's own account, for whoever reads a failure.
	grep -E "^$MARK|Kernel panic|BUG:|Oops" "$FIX/serial"
	return 0
}
oneTimeTearDown() { rm -rf "$FIX"; }

need_vm() {
	[ -z "$VM_SKIP" ] && return 0
	skip "$VM_SKIP"
	return 1
}

# vm_skipped NAME: the VM said it could not run check NAME (its reason
# becomes the test's skip).
vm_skipped() {
	_why=$(sed -n "s/^$MARK-SKIP: $1 //p" "$FIX/serial" | head -n 1)
	[ -n "$_why" ] || return 1
	skip "$_why"
}

# expect NAME...: each check's marker is "$MARK: NAME ok".
expect() {
	for _n in "$@"; do
		_line=$(grep -E "^$MARK: $_n (ok|FAIL)" "$FIX/serial" | head -n 1)
		_info=$(sed -n "s/^$MARK-INFO: $_n //p" "$FIX/serial" | head -n 1)
		if [ -z "$_line" ]; then
			fail "$_n: no result from the VM (vm.sh $V exit $VM_RC); last lines: $(tail -n 5 "$FIX/serial" | tr '\n' '|')"
		else
			assertEquals "$_n: $_info" "$MARK: $_n ok" "$_line"
		fi
	done
}

# The boot ran every check to the end, without a panic, an oops or a
# failed check (the boot's own "$MARK: boot FAIL ..." included).
vm_ran_to_the_end() {
	need_vm || return 0
	assertEquals "vm.sh $V exit status" 0 "$VM_RC"
	assertTrue "$MARK-DONE on the serial console" "grep -q '^$MARK-DONE' '$FIX/serial'"
	assertFalse "no kernel panic" "grep -q 'Kernel panic' '$FIX/serial'"
	assertFalse "no kernel BUG/Oops" "grep -q -E 'BUG:|Oops' '$FIX/serial'"
	assertEquals "no check failed: $(grep FAIL "$FIX/serial")" 0 "$(grep -c "^$MARK: .* FAIL" "$FIX/serial")"
}
