#!/bin/busybox sh
# /init of the cgroup v1 test VM (tests/qemu/v1.sh). busybox sh.
#
# After the first stage (checks.sh: the initramfs copied into a tmpfs), it
# makes a pure cgroup v1 host, as systemd made them before its unified mode:
# a tmpfs on /sys/fs/cgroup, one v1 hierarchy per controller (cpu and
# cpuacct together, with a link for each), and no cgroup2 anywhere. It loads
# overlay.ko, runs the checks and prints one line per check:
#   MDK-V1: NAME ok
#   MDK-V1: NAME FAIL DETAIL
# each after a line "MDK-V1-INFO: NAME DETAIL" with what was seen; then
# MDK-V1-DONE, and it powers off.
export PATH=/bin
export LC_ALL=C
MARK=MDK-V1
. /checks.sh

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
exec </dev/console >/dev/console 2>&1
mkdir -p /tmp
mount -t tmpfs tmpfs /tmp
CG=/sys/fs/cgroup
mount -t tmpfs -o mode=0755 cgroup $CG
for c in memory pids cpu,cpuacct cpuset freezer devices blkio; do
	mkdir $CG/$c
	mount -t cgroup -o $c cgroup $CG/$c || echo "MDK-V1: boot FAIL mount v1 $c"
done
ln -s cpu,cpuacct $CG/cpu
ln -s cpu,cpuacct $CG/cpuacct
# Kernel messages (OOM reports) must not cut through the marker lines.
echo 1 >/proc/sys/kernel/printk
hostname mdk-v1

R=/rootfs
export MDK_ROOT=/var/lib/m-docker
# Where a container's cgroups are: CONTROLLER/m-docker/ID.
M=$CG/memory/m-docker
HIER="memory pids cpu,cpuacct cpuset freezer devices blkio"

populated() { [ -n "$(cat "$M/$1/cgroup.procs" 2>/dev/null)" ]; }
empty_cg() { [ -d "$M/$1" ] && [ -z "$(cat "$M/$1/cgroup.procs" 2>/dev/null)" ]; }
# The directories container ID has in any hierarchy (none once it is gone).
dirs_of() { for _h in $HIER; do [ -e "$CG/$_h/m-docker/$1" ] && echo "$_h/m-docker/$1"; done; }
nothing_of() { [ -z "$(dirs_of "$1")" ]; }

# --- the host is pure v1 -------------------------------------------------------
fs=$(awk '$2 == "/sys/fs/cgroup" { print $3 }' /proc/mounts)
v1=$(awk '$3 == "cgroup" { printf "%s ", $2 }' /proc/mounts)
v2=$(awk '$3 == "cgroup2" { print $2 }' /proc/mounts)
out=$(mdk run --id v1mode $R sh -c 'echo in-container' 2>&1)
rc=$?
check mode "fs=$fs v1=[$v1] cgroup2=[$v2] rc=$rc out=$out left=[$(dirs_of v1mode)]" \
	eval '[ "$fs" = tmpfs ] && [ -z "$v2" ] && [ "$(echo $v1 | wc -w)" -eq 7 ] && [ $rc -eq 0 ] &&
		[ "$out" = in-container ] && [ -d $M ] && nothing_of v1mode'

# --- memory ------------------------------------------------------------------------
# stdout only: the shell may report a child the OOM killer took first.
out=$(mdk run --id v1a -m 16m $R sh -c "$HOG" 2>/tmp/err)
rc=$?
check oom "rc=$rc (want 137) out=$out left=[$(dirs_of v1a)]" \
	eval '[ $rc -eq 137 ] && [ -z "$out" ] && nothing_of v1a'
# Said, from v1's memory.oom_control.
check oom-said "stderr: $(cat /tmp/err)" \
	grep -q "container was killed: out of memory (limit 16m)" /tmp/err
out=$(mdk run --id v1b -m 256m $R sh -c "$HOG" 2>&1)
rc=$?
check oom-control "rc=$rc (want 0) out=$out" \
	eval '[ $rc -eq 0 ] && [ "$out" = "survived 64000000" ] && nothing_of v1b'

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

# --- cpuset: the container's affinity ----------------------------------------------------
a0=$(mdk run --id v1c0 --cpuset-cpus 0 $R sh -c 'grep Cpus_allowed_list /proc/self/status' 2>&1)
a1=$(mdk run --id v1c1 --cpuset-cpus 1 $R sh -c 'grep Cpus_allowed_list /proc/self/status' 2>&1)
check cpuset-affinity "cpu0: $a0 / cpu1: $a1" \
	eval '[ "$(echo $a0)" = "Cpus_allowed_list: 0" ] && [ "$(echo $a1)" = "Cpus_allowed_list: 1" ] && nothing_of v1c0 && nothing_of v1c1'

# --- cpu quota, measured from the cgroup's usage counter ---------------------------------
# cpu_pct ID: a busy loop in container ID (more ARGS before the rootfs in
# CPUARGS); cpuacct.usage (ns) and /proc/uptime 2 s apart: PCT, and THR
# from cpu.stat.
cpu_pct() {
	PCT='' THR=''
	gate_start --id "$1" $CPUARGS $R sh -c 'sh -c "while :; do :; done" & echo ready; read x; kill $!'
	if wait_for out_has '^ready'; then
		sleep 0.5
		read -r u0 x </proc/uptime
		c0=$(cat $CG/cpuacct/m-docker/$1/cpuacct.usage)
		sleep 2
		read -r u1 x </proc/uptime
		c1=$(cat $CG/cpuacct/m-docker/$1/cpuacct.usage)
		THR=$(awk '$1 == "nr_throttled" { print $2 }' $CG/cpu/m-docker/$1/cpu.stat)
		PCT=$(awk -v c0="$c0" -v c1="$c1" -v u0="$u0" -v u1="$u1" \
			'BEGIN { if (c0 != "" && c1 != "" && u1 > u0) printf "%d", (c1 - c0) / 1e9 / (u1 - u0) * 100 }')
	fi
	gate_release
}
CPUARGS="--cpus 0.5"
cpu_pct v1q
check cpu-quota "--cpus 0.5: ${PCT}% of a CPU (want 25..75), nr_throttled=$THR rc=$RC $(cat /tmp/err)" \
	eval '[ -n "$PCT" ] && [ "$PCT" -ge 25 ] && [ "$PCT" -le 75 ] && [ "${THR:-0}" -gt 0 ] && nothing_of v1q'
# The same loop unlimited: a whole CPU (the band above can fail). (Its
# shares put it in the cpu hierarchy, where cpuacct.usage is.)
CPUARGS="--cpu-shares 1024"
cpu_pct v1u
check cpu-unlimited "no limit: ${PCT}% of a CPU (want > 75) rc=$RC $(cat /tmp/err)" \
	eval '[ -n "$PCT" ] && [ "$PCT" -gt 75 ] && nothing_of v1u'

# --- pids: a bounded fork bomb --------------------------------------------------------------
gate_start --id v1p --pids-limit 20 $R sh -c "$BOMB"
if wait_for out_has '^ready'; then
	cur=$(cat $CG/pids/m-docker/v1p/pids.current 2>&1)
	ev=$(cat $CG/pids/m-docker/v1p/pids.events 2>&1)
	host=$(sh -c 'echo host $(echo ok)')
else
	cur='' ev='' host=''
fi
gate_release
out=$(cat /tmp/out /tmp/err)
n=$(grep -c '^forked ' /tmp/out)
check pids-bomb "rc=$RC pids.current=$cur pids.events=$ev host=$host forked=$n out=$(tail -n 4 /tmp/out) $(cat /tmp/err)" \
	eval '[ $RC -eq 0 ] && [ -n "$cur" ] && [ "$cur" -le 20 ] && [ "$cur" -ge 18 ] &&
		case "$ev" in "max "[1-9]*) true ;; *) false ;; esac && [ "$host" = "host ok" ] &&
		case "$out" in *"can'\''t fork"*) true ;; *) false ;; esac &&
		case "$out" in *"bomb not contained"*) false ;; *) true ;; esac &&
		[ "$n" -ge 1 ] && [ "$n" -lt 20 ] && [ "$(tail -n 1 /tmp/out)" = end ] && nothing_of v1p'

# --- a value the kernel refuses ------------------------------------------------------------
out=$(mdk run --id v1k --cpuset-cpus 99 $R sh -c 'echo RAN' 2>/tmp/err)
rc=$?
err=$(cat /tmp/err)
check kernel-refused "rc=$rc out=$out err=$err left=[$(dirs_of v1k)]" \
	eval '[ $rc -eq 125 ] && [ -z "$out" ] && [ "$(wc -l </tmp/err)" -eq 1 ] &&
		case "$err" in "mdk-run: "*"cpuset '\''99'\''"*) true ;; *) false ;; esac && nothing_of v1k'

# --- mdk-cgroup after a kill -9'd mdk-run -------------------------------------------------------
mdk run --id v1x $R sleep 30 >/dev/null 2>&1 &
X=$!
wait_for populated v1x
xinit=$(init_of $X)
kill -9 $X
wait $X 2>/dev/null
wait_for empty_cg v1x
wait_for gone "$xinit"
ls1=$(mdk cgroup ls 2>&1)
check prune-leftover "ls=[$ls1] left=[$(dirs_of v1x)] init $xinit gone: $(gone "$xinit" && echo yes)" \
	eval '[ "$ls1" = "v1x empty" ] && gone "$xinit"'
mdk run --id v1y $R sleep 30 >/dev/null 2>&1 &
Y=$!
wait_for populated v1y
ls2=$(mdk cgroup ls 2>&1 | sort)
pout=$(mdk cgroup prune 2>&1)
prc=$?
check prune-removes "prune rc=$prc out=$pout ls before=[$ls2] v1x: [$(dirs_of v1x)]" \
	eval '[ $prc -eq 0 ] && [ "$pout" = v1x ] && [ "$ls2" = "$(printf "v1x empty\nv1y running")" ] && nothing_of v1x'
ls3=$(mdk cgroup ls 2>&1)
check prune-keeps-running "ls after prune=[$ls3] mdk-run alive: $(kill -0 $Y && echo yes)" \
	eval '[ "$ls3" = "v1y running" ] && kill -0 $Y && populated v1y'
nout=$(mdk cgroup rm v1y 2>&1)
nrc=$?
check rm-refuses-live "rm rc=$nrc out=$nout" \
	eval '[ $nrc -eq 3 ] && populated v1y'
rout=$(mdk cgroup rm -f v1y 2>&1)
rrc=$?
wait $Y
yrc=$?
ls4=$(mdk cgroup ls 2>&1)
check rm "rm rc=$rrc out=$rout; mdk-run of v1y rc=$yrc (want 137); ls=[$ls4] left=[$(dirs_of v1y)]" \
	eval '[ $rrc -eq 0 ] && [ -z "$rout" ] && [ $yrc -eq 137 ] && [ -z "$ls4" ] && nothing_of v1y'

# --- an overlay-backed container --------------------------------------------------------------
ins=$(insmod /overlay.ko 2>&1)
check overlay-module "insmod: $ins; filesystems: $(grep overlay /proc/filesystems)" \
	eval 'grep -q "	overlay$" /proc/filesystems'
layer=$(mdk unpack -q -n bb /images/bb.tar 2>&1)
urc=$?
root=$(mdk overlay-up -l bb v1o 2>&1)
orc=$?
out=$(mdk run --id v1o -m 32m --pids-limit 50 "$root" sh -c 'echo data >/written; cat /written' 2>&1)
rrc=$?
down=$(mdk overlay-down v1o 2>&1)
drc=$?
check overlay-run "unpack rc=$urc ($layer) up rc=$orc ($root) run rc=$rrc out=[$out] down rc=$drc ($down) left=[$(dirs_of v1o)]" \
	eval '[ $urc -eq 0 ] && [ $orc -eq 0 ] && [ $rrc -eq 0 ] && [ "$out" = data ] && [ $drc -eq 0 ] && nothing_of v1o'

# --- a detached container: exec joins its cgroups; commit freezes it ---------------------------
# Its 20 MB file takes the packer a while here (tcg): a sampler of
# freezer.state sees it frozen meanwhile.
root=$(mdk overlay-up -l bb v1f 2>&1)
mdk run -d --id v1f -m 64m --log /tmp/v1f.log --pid-file /tmp/v1f.pid "$root" \
	sh -c 'head -c 20000000 /dev/zero >/big; echo x >/x; : >/ready; while :; do sleep 1; done' >/dev/null 2>&1
ready() { [ -e "$MDK_ROOT/layers/v1f+rw/fs/ready" ]; }
wait_for ready
MON=$(sed -n 's/^pid=//p' /tmp/v1f.pid)
FI=$(sed -n 's/^init=//p' /tmp/v1f.pid)
# exec: in every hierarchy PID 1 is in; inside, at the root of each.
mdk exec /tmp/v1f.pid sh -c 'cat /proc/self/cgroup >/exec-cg; sleep 3' >/dev/null 2>&1 &
XE=$!
xp=
exec_runs() {
	for _p in $(cat $M/v1f/cgroup.procs); do
		[ "$(tr '\0' ' ' </proc/$_p/cmdline 2>/dev/null)" = "sleep 3 " ] && xp=$_p && return 0
	done
	return 1
}
wait_for exec_runs
xcg=$(grep -E ':(memory|pids|cpu,cpuacct|cpuset|freezer|devices|blkio):' /proc/$xp/cgroup 2>&1 | sed 's/^[0-9]*://' | sort | tr '\n' ' ')
icg=$(grep -E ':(memory|pids|cpu,cpuacct|cpuset|freezer|devices|blkio):' /proc/$FI/cgroup 2>&1 | sed 's/^[0-9]*://' | sort | tr '\n' ' ')
wait $XE
xrc=$?
inside=$(grep -v ':/$' "$MDK_ROOT/layers/v1f+rw/fs/exec-cg" 2>&1)
check exec-cgroups "exec rc=$xrc; exec'd sleep $xp: [$xcg] PID 1 $FI: [$icg]; inside, not at a root: [$inside]" \
	eval '[ $xrc -eq 0 ] && [ -n "$xp" ] && [ "$xcg" = "$icg" ] &&
		case "$xcg" in *"memory:/m-docker/v1f "*) true ;; *) false ;; esac && [ -z "$inside" ]'
rm -f /tmp/cdone
(while [ ! -e /tmp/cdone ]; do cat "$CG/freezer/m-docker/v1f/freezer.state"; done) >/tmp/samples 2>&1 &
S=$!
cout=$(mdk commit v1f snap:1 2>/tmp/cerr)
crc=$?
: >/tmp/cdone
wait $S
fz=$(cat "$CG/freezer/m-docker/v1f/freezer.state" 2>&1)
seen=$(grep -v 'No such file' /tmp/samples | sort -u | tr '\n' ' ')
groot=$(mdk overlay-up -i snap:1 v1g 2>&1)
gout=$(mdk run --id v1g "$groot" sh -c 'cat /x; wc -c </big' 2>&1 | tr '\n' ' ')
mdk overlay-down v1g >/dev/null 2>&1
alive=$(gone "$MON" || echo yes)
kill "$MON" 2>/dev/null
wait_for gone "$MON"
mdk overlay-down v1f >/dev/null 2>&1
mdk image rm snap:1 >/dev/null 2>&1
check commit-frozen "rc=$crc out=$cout stderr=[$(cat /tmp/cerr)] freezer.state seen: [$seen] after: $fz; monitor alive after: $alive; the image: [$gout] left=[$(dirs_of v1f)]" \
	eval '[ $crc -eq 0 ] && [ -z "$(cat /tmp/cerr)" ] && case " $seen " in *" FROZEN "*) true ;; *) false ;; esac &&
		[ "$fz" = THAWED ] && [ "$alive" = yes ] && [ "$gout" = "x 20000000 " ] && nothing_of v1f'

# --- mdk-oci: a bundle's container in every v1 hierarchy, device rules by the devices cgroup --
# (CAP_MKNOD given: a node it makes is no way to a device its rules deny.)
B=/tmp/ob
OR=/run/oci
mkdir -p $B
ln -s $R $B/rootfs
(cd $B && mdk oci spec)
cat >$R/oci.sh <<'EOF'
grep ':memory:' /proc/self/cgroup
if mknod /m c 1 1 2>/dev/null; then head -c 1 /m >/dev/null 2>&1 && echo opened || echo refused; else echo no-mknod; fi
echo "mnt $(cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>&1) $(ls /sys/fs/cgroup/cpu/cpu.shares 2>&1)"
echo ready
while :; do sleep 1; done
EOF
sed -i -e 's/"terminal": true/"terminal": false/' -e 's/"readonly": true/"readonly": false/' \
	-e 's|^\( *\)"sh"$|\1"sh", "/oci.sh"|' \
	-e 's|"CAP_KILL",|"CAP_KILL", "CAP_MKNOD",|' \
	-e 's|"resources": {|"resources": {"memory": {"limit": 33554432}, "pids": {"limit": 20},|' $B/config.json
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

# --- nothing left -----------------------------------------------------------------------------
left=$(for h in $HIER; do [ -d $CG/$h/m-docker ] && find $CG/$h/m-docker -mindepth 1 -type d; done 2>&1)
check no-leftovers "left under m-docker: $left" eval '[ -z "$left" ]'

echo MDK-V1-DONE
sync
poweroff -f
