#!/bin/busybox sh
# /init of the cgroup v1 test VM (tests/qemu/vm.sh v1). busybox sh.
#
# After checks.sh's boot (the initramfs copied into a tmpfs, proc, sys,
# dev), it makes a pure cgroup v1 host, as systemd made them before its
# unified mode: a tmpfs on /sys/fs/cgroup, one v1 hierarchy per controller
# (cpu and cpuacct together, with a link for each), and no cgroup2
# anywhere. Then the checks, each reporting "MDK-V1: NAME ok|FAIL DETAIL"
# (checks.sh), then MDK-V1-DONE, and it powers off.
export PATH=/bin
export LC_ALL=C
V=v1
. /checks.sh

CG=/sys/fs/cgroup
mount -t tmpfs -o mode=0755 cgroup $CG
for c in memory pids cpu,cpuacct cpuset freezer devices blkio; do
	mkdir $CG/$c
	mount -t cgroup -o $c cgroup $CG/$c || echo "MDK-V1: boot FAIL mount v1 $c"
done
ln -s cpu,cpuacct $CG/cpu
ln -s cpu,cpuacct $CG/cpuacct

# Where a container's cgroups are: CONTROLLER/m-docker/ID (checks.sh).
HIER="memory pids cpu,cpuacct cpuset freezer devices blkio"
M=$CG/memory/m-docker
cgf() { echo "$CG/$2/m-docker/$1/$3"; }
dirs_of() { for _h in $HIER; do [ -e "$CG/$_h/m-docker/$1" ] && echo "$_h/m-docker/$1"; done; }
cpu_ns() { cat "$(cgf "$1" cpuacct cpuacct.usage)"; }
CG_PARENTS=$(for _h in $HIER; do echo "$CG/$_h/m-docker"; done)
FREEZER=freezer.state FROZEN=FROZEN THAWED=THAWED CGNAME=memory

# --- the host is pure v1 -------------------------------------------------------
fs=$(awk '$2 == "/sys/fs/cgroup" { print $3 }' /proc/mounts)
v1=$(awk '$3 == "cgroup" { printf "%s ", $2 }' /proc/mounts)
v2=$(awk '$3 == "cgroup2" { print $2 }' /proc/mounts)
out=$(mdk run --id v1mode $R sh -c 'echo in-container' 2>&1)
rc=$?
check mode "fs=$fs v1=[$v1] cgroup2=[$v2] rc=$rc out=$out left=[$(dirs_of v1mode)]" \
	eval '[ "$fs" = tmpfs ] && [ -z "$v2" ] && [ "$(echo $v1 | wc -w)" -eq 7 ] && [ $rc -eq 0 ] &&
		[ "$out" = in-container ] && [ -d $M ] && nothing_of v1mode'

# --- the limit files, as the host sees them -------------------------------------------
gate_start --id v1l -m 32m --pids-limit 20 --cpus 0.5 --cpuset-cpus 0 --cpu-shares 512 \
	$R sh -c 'cat /proc/self/cgroup; echo ready; read x; echo end'
if wait_for out_has '^ready'; then
	v=$(cat $M/v1l/memory.limit_in_bytes 2>&1)
	check limits-memory "memory.limit_in_bytes=$v" eq "$v" 33554432
	# No swap beyond the limit (docker's -m alone), where swap is accounted.
	if [ -e $M/v1l/memory.memsw.limit_in_bytes ]; then
		v=$(cat $M/v1l/memory.memsw.limit_in_bytes 2>&1)
		check limits-swap "memory.memsw.limit_in_bytes=$v" eq "$v" 33554432
	else
		ok limits-swap
	fi
	v=$(cat $CG/pids/m-docker/v1l/pids.max 2>&1)
	check limits-pids "pids.max=$v" eq "$v" 20
	v="$(cat $CG/cpu/m-docker/v1l/cpu.cfs_quota_us 2>&1) $(cat $CG/cpu/m-docker/v1l/cpu.cfs_period_us 2>&1)"
	check limits-cpu "cpu.cfs_quota_us cpu.cfs_period_us=$v" eq "$v" "50000 100000"
	v=$(cat $CG/cpu/m-docker/v1l/cpu.shares 2>&1)
	check limits-shares "cpu.shares=$v" eq "$v" 512
	v="$(cat $CG/cpuset/m-docker/v1l/cpuset.cpus 2>&1) $(cat $CG/cpuset/m-docker/v1l/cpuset.effective_cpus 2>&1)"
	check limits-cpuset "cpuset.cpus cpuset.effective_cpus=$v" eq "$v" "0 0"
	init=$(init_of $RUN)
	in_all=yes
	for h in memory pids cpu,cpuacct cpuset; do
		case " $(echo $(cat $CG/$h/m-docker/v1l/cgroup.procs 2>&1)) " in
		*" $init "*) ;;
		*) in_all="no: $h" ;;
		esac
		case " $(echo $(cat $CG/$h/m-docker/v1l/cgroup.procs 2>&1)) " in
		*" $RUN "*) in_all="mdk-run in $h" ;;
		esac
	done
	cgl=$(grep -E ':(memory|pids|cpu,cpuacct|cpuset):' /proc/$init/cgroup | sed 's/^[0-9]*://' | sort | tr '\n' ' ')
	check limits-procs "init=$init mdk-run=$RUN in each: $in_all; /proc/init/cgroup: $cgl" \
		eval '[ -n "$init" ] && [ "$in_all" = yes ] &&
			[ "$cgl" = "cpu,cpuacct:/m-docker/v1l cpuset:/m-docker/v1l memory:/m-docker/v1l pids:/m-docker/v1l " ]'
	gate_release
	out=$(cat /tmp/out /tmp/err)
	check limits-cleanup "rc=$RC out=$out left=[$(dirs_of v1l)]" \
		eval '[ $RC -eq 0 ] && [ "$(tail -n 2 /tmp/out | tr "\n" " ")" = "ready end " ] && nothing_of v1l'
	# In its own cgroup namespace the container sees itself at the root of
	# every hierarchy.
	own=$(grep -v '^ready$\|^end$' /tmp/out | grep -v ':/$')
	check limits-cgroupns "the container's /proc/self/cgroup: $(grep -v '^ready$\|^end$' /tmp/out | tr '\n' ' ')" \
		eval '[ -z "$own" ] && grep -q ":memory:/$" /tmp/out'
else
	gate_release
	for n in memory swap pids cpu shares cpuset procs cleanup cgroupns; do
		bad limits-$n "the container did not start: rc=$RC $(cat /tmp/out /tmp/err)"
	done
fi

# --- the checks both VMs run (checks.sh) ------------------------------------------
checks_both

# --- mdk-oci: a bundle's container in every v1 hierarchy, device rules by the devices cgroup --
# (CAP_MKNOD given: a node it makes is no way to a device its rules deny.)
oci_bundle '"memory": {"limit": 33554432}, "pids": {"limit": 20}' <<'EOF'
grep ':memory:' /proc/self/cgroup
if mknod /m c 1 1 2>/dev/null; then head -c 1 /m >/dev/null 2>&1 && echo opened || echo refused; else echo no-mknod; fi
echo "mnt $(cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>&1) $(ls /sys/fs/cgroup/cpu/cpu.shares 2>&1)"
echo ready
while :; do sleep 1; done
EOF
mdk oci --root $OR create -b $B --pid-file /tmp/oci.pid v1oci >/tmp/oci.out 2>/tmp/oci.err
crc=$?
mdk oci --root $OR start v1oci >>/tmp/oci.err 2>&1
src=$?
oci_ready() { grep -q ready /tmp/oci.out; }
wait_for oci_ready
cgin=$(head -n 1 /tmp/oci.out)
mknod=$(sed -n 2p /tmp/oci.out)
cgmnt=$(sed -n 3p /tmp/oci.out)
oinit=$(cat /tmp/oci.pid 2>/dev/null)
joined=$(for h in $HIER; do grep -q "^$oinit$" $CG/$h/m-docker/v1oci/cgroup.procs 2>/dev/null && printf '%s ' $h; done)
mem=$(cat $M/v1oci/memory.limit_in_bytes 2>&1)
pids=$(cat $CG/pids/m-docker/v1oci/pids.max 2>&1)
devs=$(cat $CG/devices/m-docker/v1oci/devices.list 2>&1 | tr '\n' ',')
mdk oci --root $OR pause v1oci >>/tmp/oci.err 2>&1
fz=$(cat $CG/freezer/m-docker/v1oci/freezer.state 2>&1)
mdk oci --root $OR resume v1oci >>/tmp/oci.err 2>&1
fz2=$(cat $CG/freezer/m-docker/v1oci/freezer.state 2>&1)
mdk oci --root $OR kill v1oci KILL >>/tmp/oci.err 2>&1
oci_stopped() { mdk oci --root $OR state v1oci 2>/dev/null | grep -q '"stopped"'; }
wait_for oci_stopped
mdk oci --root $OR delete v1oci >>/tmp/oci.err 2>&1
drc=$?
check oci-devices "/dev/mem made (mknod, as runc lets it) and opened: [$mknod] devices.list: [$devs]" \
	eval '[ "$mknod" = refused ] && case ",$devs" in *",a *:* rwm,"*) false ;; *",c 1:3 rwm,"*) true ;; *) false ;; esac'
check oci-lifecycle "create rc=$crc start rc=$src in the container: [$cgin] its cgroup mount: [$cgmnt] init $oinit joined: [$joined] memory=$mem pids=$pids freezer: $fz then $fz2 delete rc=$drc stderr=[$(cat /tmp/oci.err)] left=[$(dirs_of v1oci)] state=$(ls -d $OR/v1oci 2>&1)" \
	eval '[ $crc -eq 0 ] && [ $src -eq 0 ] && case "$cgin" in *:memory:/) true ;; *) false ;; esac &&
		[ "$cgmnt" = "mnt 33554432 /sys/fs/cgroup/cpu/cpu.shares" ] &&
		[ "$joined" = "memory pids cpu,cpuacct cpuset freezer devices blkio " ] &&
		[ "$mem" = 33554432 ] && [ "$pids" = 20 ] && [ "$fz" = FROZEN ] && [ "$fz2" = THAWED ] && [ $drc -eq 0 ] &&
		nothing_of v1oci && [ ! -e $OR/v1oci ]'

checks_no_leftovers
finish
