#!/bin/busybox sh
# /init of the cgroup v2 test VM (tests/qemu/vm.sh v2). busybox sh.
#
# After checks.sh's boot (the initramfs copied into a tmpfs, proc, sys,
# dev), it mounts cgroup2 alone on /sys/fs/cgroup (no v1 hierarchy at all).
# Then the checks, each reporting "MDK-V2: NAME ok|FAIL DETAIL" (checks.sh),
# then MDK-V2-DONE, and it powers off.
export PATH=/bin
export LC_ALL=C
V=v2
. /checks.sh

CG=/sys/fs/cgroup
mount -t cgroup2 cgroup2 $CG

# Where a container's cgroup is: m-docker/ID (checks.sh).
P=$CG/m-docker
cgf() { echo "$P/$1/$3"; }
dirs_of() { [ ! -e "$P/$1" ] || echo "$P/$1"; }
cpu_ns() { awk '$1 == "usage_usec" { print $2 "000" }' "$P/$1/cpu.stat"; }
CG_PARENTS=$P
FREEZER=cgroup.freeze FROZEN=1 THAWED=0 CGNAME=

# --- the host is pure v2 -------------------------------------------------------
fs=$(awk '$2 == "/sys/fs/cgroup" { print $3 }' /proc/mounts)
v1=$(awk '$3 == "cgroup" { print $2 }' /proc/mounts)
out=$(mdk run --id v2mode $R sh -c 'echo in-container' 2>&1)
rc=$?
check mode "fs=$fs v1=[$v1] rc=$rc out=$out dir=$(ls -d $P/v2mode 2>&1)" \
	eval '[ "$fs" = cgroup2 ] && [ -z "$v1" ] && [ $rc -eq 0 ] && [ "$out" = in-container ] && [ -d $P ] && [ ! -e $P/v2mode ]'

# --- the limit files, as the host sees them -------------------------------------------
gate_start --id v2l -m 32m --pids-limit 20 --cpus 0.5 --cpuset-cpus 0 --cpu-shares 1024 \
	$R sh -c 'cat /proc/self/cgroup; echo ready; read x; echo end'
if wait_for out_has '^ready'; then
	L=$P/v2l
	v=$(cat $L/memory.max 2>&1)
	check limits-memory "memory.max=$v" eq "$v" 33554432
	if [ -e $L/memory.swap.max ]; then
		v=$(cat $L/memory.swap.max 2>&1)
		check limits-swap "memory.swap.max=$v" eq "$v" 0
	else
		ok limits-swap
	fi
	v=$(cat $L/pids.max 2>&1)
	check limits-pids "pids.max=$v" eq "$v" 20
	v=$(cat $L/cpu.max 2>&1)
	check limits-cpu "cpu.max=$v" eq "$v" "50000 100000"
	v="$(cat $L/cpuset.cpus 2>&1) $(cat $L/cpuset.cpus.effective 2>&1)"
	check limits-cpuset "cpuset.cpus cpuset.cpus.effective=$v" eq "$v" "0 0"
	# runc's mapping: shares 1024 -> weight 39.
	v=$(cat $L/cpu.weight 2>&1)
	check limits-weight "cpu.weight=$v" eq "$v" 39
	init=$(init_of $RUN)
	procs=" $(echo $(cat $L/cgroup.procs 2>&1)) "
	cgline=$(cat /proc/$init/cgroup 2>&1)
	check limits-procs "init=$init mdk-run=$RUN cgroup.procs=[$procs] /proc/init/cgroup=$cgline" \
		eval '[ -n "$init" ] && case "$procs" in *" $init "*) true ;; *) false ;; esac &&
			case "$procs" in *" $RUN "*) false ;; *) true ;; esac &&
			[ "$cgline" = "0::/m-docker/v2l" ]'
	root_sc=" $(cat $CG/cgroup.subtree_control) "
	par_sc=" $(cat $P/cgroup.subtree_control) "
	leaf_sc=$(cat $L/cgroup.subtree_control 2>&1)
	has_all() { for c in cpu cpuset memory pids; do case $1 in *" $c "*) ;; *) return 1 ;; esac; done; }
	check limits-subtree "root=[$root_sc] m-docker=[$par_sc] leaf=[$leaf_sc]" \
		eval 'has_all "$root_sc" && has_all "$par_sc" && [ -z "$leaf_sc" ]'
	gate_release
	out=$(cat /tmp/out /tmp/err)
	check limits-cleanup "rc=$RC out=$out dir=$(ls -d $L 2>&1)" \
		eval '[ $RC -eq 0 ] && [ "$(tail -n 2 /tmp/out | tr "\n" " ")" = "ready end " ] && [ ! -e $L ]'
	# In its own cgroup namespace the container sees itself at the root.
	check limits-cgroupns "the container's /proc/self/cgroup: $(head -n 1 /tmp/out)" \
		eq "$(head -n 1 /tmp/out)" "0::/"
else
	gate_release
	for n in memory swap pids cpu cpuset weight procs subtree cleanup cgroupns; do
		bad limits-$n "the container did not start: rc=$RC $(cat /tmp/out /tmp/err)"
	done
fi

# --- the checks both VMs run (checks.sh) ------------------------------------------
checks_both

# --- mdk-oci: a bundle's container in its cgroup (limits, freezer, namespace) -----------------
oci_bundle '"memory": {"limit": 33554432}, "pids": {"limit": 20}, "blockIO": {"weight": 500}' <<'EOF'
head -n 1 /proc/self/cgroup
mknod /m b 1 3 2>/dev/null && echo made || echo no-mknod
awk '$2 == "/" { print $4 }' /proc/mounts
ls /sys/fs/cgroup/memory.max && echo ready
while :; do sleep 1; done
EOF
mdk oci --root $OR create -b $B --pid-file /tmp/oci.pid v2oci >/tmp/oci.out 2>/tmp/oci.err
crc=$?
st1=$(mdk oci --root $OR state v2oci 2>&1 | grep '"status"' | tr -d ' ,')
mdk oci --root $OR start v2oci >>/tmp/oci.err 2>&1
src=$?
oci_ready() { grep -q ready /tmp/oci.out; }
wait_for oci_ready
cgin=$(head -n 1 /tmp/oci.out)
# No devices controller on v2: no mknod, and the root is nodev.
mknod=$(sed -n 2p /tmp/oci.out)
rootopts=$(sed -n 3p /tmp/oci.out)
mem=$(cat $P/v2oci/memory.max 2>&1)
pids=$(cat $P/v2oci/pids.max 2>&1)
# blockIO's weight 500 (of 10..1000) is io.weight 4950 (of 1..10000).
iow=$(cat $P/v2oci/io.weight 2>&1)
mdk oci --root $OR pause v2oci >>/tmp/oci.err 2>&1
fz=$(cat $P/v2oci/cgroup.freeze 2>&1)
st2=$(mdk oci --root $OR state v2oci 2>&1 | grep '"status"' | tr -d ' ,')
mdk oci --root $OR resume v2oci >>/tmp/oci.err 2>&1
st3=$(mdk oci --root $OR state v2oci 2>&1 | grep '"status"' | tr -d ' ,')
mdk oci --root $OR kill v2oci KILL >>/tmp/oci.err 2>&1
oci_stopped() { mdk oci --root $OR state v2oci 2>/dev/null | grep -q '"stopped"'; }
wait_for oci_stopped
mdk oci --root $OR delete v2oci >>/tmp/oci.err 2>&1
drc=$?
check oci-devices "mknod: [$mknod] root: [$rootopts] (want nodev)" \
	eval 'case "$mknod" in *no-mknod) ;; *) false ;; esac && case ",$rootopts," in *,nodev,*) ;; *) false ;; esac'
check oci-lifecycle "create rc=$crc start rc=$src states [$st1 $st2 $st3] in the container: [$cgin] memory.max=$mem pids.max=$pids io.weight=$iow frozen=$fz delete rc=$drc stderr=[$(cat /tmp/oci.err)] out=[$(cat /tmp/oci.out)] dir=$(ls -d $P/v2oci $OR/v2oci 2>&1)" \
	eval '[ $crc -eq 0 ] && [ $src -eq 0 ] && [ "$st1 $st2 $st3" = "\"status\":\"created\" \"status\":\"paused\" \"status\":\"running\"" ] &&
		[ "$cgin" = "0::/" ] && [ "$mem" = 33554432 ] && [ "$pids" = 20 ] && [ "$iow" = "default 4950" ] &&
		[ "$fz" = 1 ] && [ $drc -eq 0 ] &&
		[ ! -e $P/v2oci ] && [ ! -e $OR/v2oci ]'

# --- seccomp: i386 and x32 code, the same refusals --------------------------------------------
# The probe makes the 32-bit calls (int 0x80, i386's numbers) and the x32
# ones (bit 30) from a 64-bit binary, as such programs would; run on the VM
# itself first, to see whether this kernel runs them at all.
# seccomp_runs ARCH CALL...: each "CALL=RESULT" filtered, then "CALL=RESULT"
# unfiltered (--privileged: no filter, every capability).
seccomp_runs() {
	_a=$1
	shift
	_f='' _u=''
	for _c in "$@"; do
		_f="$_f $_c=$(mdk run --id v2s $R probe sys "$_a-$_c" 2>&1 | tr ' ' _)"
		_u="$_u $_c=$(mdk run --id v2s --privileged $R probe sys "$_a-$_c" 2>&1 | tr ' ' _)"
	done
	F=${_f# } U=${_u# }
}
if [ -x $R/bin/probe ]; then
	own=$($R/bin/probe sys i386-getpid 2>&1)
	echo "MDK-V2-INFO: seccomp-kernel the VM itself: i386-getpid=$own"
	if [ "$own" = ok ]; then
		seccomp_runs i386 getpid unshare-none unshare-user clone-newns keyctl inet bind socketcall-bind semget vsock socketcall-vsock
		check seccomp-i386 "filtered: [$F] unfiltered: [$U] dir=$(ls -d $P/v2s 2>&1)" \
			eval '[ "$F" = "getpid=ok unshare-none=ok unshare-user=Operation_not_permitted clone-newns=Operation_not_permitted keyctl=Operation_not_permitted inet=ok bind=Bad_file_descriptor socketcall-bind=Bad_file_descriptor semget=ok vsock=Operation_not_permitted socketcall-vsock=Operation_not_permitted" ] &&
				case "$U" in "getpid=ok unshare-none=ok unshare-user=ok clone-newns=ok keyctl=ok inet=ok bind=Bad_file_descriptor socketcall-bind=Bad_file_descriptor semget=ok "*) true ;; *) false ;; esac &&
				case "$U" in *socketcall-vsock=Operation_not_permitted*) false ;; *) true ;; esac && [ ! -e $P/v2s ]'
	else
		echo "MDK-V2-SKIP: seccomp-i386 this kernel runs no 32-bit x86 code (i386 getpid: $own)"
	fi
	own=$($R/bin/probe sys x32-getpid 2>&1)
	echo "MDK-V2-INFO: seccomp-kernel the VM itself: x32-getpid=$own"
	if [ "$own" = ok ]; then
		seccomp_runs x32 getpid unshare-user clone-newns keyctl
		check seccomp-x32 "filtered: [$F] unfiltered: [$U] dir=$(ls -d $P/v2s 2>&1)" \
			eval '[ "$F" = "getpid=ok unshare-user=Operation_not_permitted clone-newns=Operation_not_permitted keyctl=Operation_not_permitted" ] &&
				[ "$U" = "getpid=ok unshare-user=ok clone-newns=ok keyctl=ok" ] && [ ! -e $P/v2s ]'
	else
		echo "MDK-V2-SKIP: seccomp-x32 this kernel runs no x32 code (x32 getpid: $own)"
	fi
else
	echo "MDK-V2-SKIP: seccomp-i386 no probe in the VM (tests/probe.c needs musl-gcc)"
	echo "MDK-V2-SKIP: seccomp-x32 no probe in the VM (tests/probe.c needs musl-gcc)"
fi

checks_no_leftovers
finish
