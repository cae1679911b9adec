#!/bin/busybox sh
# /init of the cgroup v2 test VM (tests/qemu/v2.sh). busybox sh.
#
# After the first stage (checks.sh: the initramfs copied into a tmpfs), it
# mounts cgroup2 alone on /sys/fs/cgroup (no v1 hierarchy at all), loads
# overlay.ko, runs the checks and prints one line per check:
#   MDK-V2: NAME ok
#   MDK-V2: NAME FAIL DETAIL
# each after a line "MDK-V2-INFO: NAME DETAIL" with what was seen; then
# MDK-V2-DONE, and it powers off.
export PATH=/bin
export LC_ALL=C
MARK=MDK-V2
. /checks.sh

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
exec </dev/console >/dev/console 2>&1
mkdir -p /tmp
mount -t tmpfs tmpfs /tmp
mount -t cgroup2 cgroup2 /sys/fs/cgroup
# Kernel messages (OOM reports) must not cut through the marker lines.
echo 1 >/proc/sys/kernel/printk
hostname mdk-v2

CG=/sys/fs/cgroup
P=$CG/m-docker
R=/rootfs
export MDK_ROOT=/var/lib/m-docker

populated() { [ -n "$(cat "$P/$1/cgroup.procs" 2>/dev/null)" ]; }
empty_cg() { [ -d "$P/$1" ] && [ -z "$(cat "$P/$1/cgroup.procs" 2>/dev/null)" ]; }

# --- the host is pure v2 -------------------------------------------------------
fs=$(awk '$2 == "/sys/fs/cgroup" { print $3 }' /proc/mounts)
v1=$(awk '$3 == "cgroup" { print $2 }' /proc/mounts)
out=$(mdk run --id v2mode $R sh -c 'echo in-container' 2>&1)
rc=$?
check mode "fs=$fs v1=[$v1] rc=$rc out=$out dir=$(ls -d $P/v2mode 2>&1)" \
	eval '[ "$fs" = cgroup2 ] && [ -z "$v1" ] && [ $rc -eq 0 ] && [ "$out" = in-container ] && [ -d $P ] && [ ! -e $P/v2mode ]'

# --- memory ------------------------------------------------------------------------
# stdout only: the shell may report a child the OOM killer took first.
out=$(mdk run --id v2a -m 16m $R sh -c "$HOG" 2>/tmp/err)
rc=$?
check oom "rc=$rc (want 137) out=$out dir=$(ls -d $P/v2a 2>&1)" \
	eval '[ $rc -eq 137 ] && [ -z "$out" ] && [ ! -e $P/v2a ]'
# The container's own /etc files (bound from the /dev tmpfs: open_tree of a
# detached mount fails on this 6.1 kernel).
out=$(mdk run --id v2etc --etc-files $R sh -c 'cat /etc/hostname; grep -c localhost /etc/hosts' 2>&1)
rc=$?
check etc-files "rc=$rc out=$out" eval '[ $rc -eq 0 ] && [ "$out" = "v2etc
2" ]'
# Said, from v2's memory.events.
check oom-said "stderr: $(cat /tmp/err)" \
	grep -q "container was killed: out of memory (limit 16m)" /tmp/err
out=$(mdk run --id v2b -m 256m $R sh -c "$HOG" 2>&1)
rc=$?
check oom-control "rc=$rc (want 0) out=$out" \
	eval '[ $rc -eq 0 ] && [ "$out" = "survived 64000000" ] && [ ! -e $P/v2b ]'

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

# --- cpuset: the container's affinity ----------------------------------------------------
a0=$(mdk run --id v2c0 --cpuset-cpus 0 $R sh -c 'grep Cpus_allowed_list /proc/self/status' 2>&1)
a1=$(mdk run --id v2c1 --cpuset-cpus 1 $R sh -c 'grep Cpus_allowed_list /proc/self/status' 2>&1)
check cpuset-affinity "cpu0: $a0 / cpu1: $a1" \
	eval '[ "$(echo $a0)" = "Cpus_allowed_list: 0" ] && [ "$(echo $a1)" = "Cpus_allowed_list: 1" ] && [ ! -e $P/v2c0 ] && [ ! -e $P/v2c1 ]'

# --- cpu quota, measured from the cgroup's usage counter ---------------------------------
# cpu_pct ID: run a busy loop in container ID (more ARGS before the rootfs in
# CPUARGS), read cpu.stat usage_usec and /proc/uptime 2 s apart: PCT, THR.
cpu_pct() {
	PCT='' THR=''
	gate_start --id "$1" $CPUARGS $R sh -c 'sh -c "while :; do :; done" & echo ready; read x; kill $!'
	if wait_for out_has '^ready'; then
		sleep 0.5
		read -r u0 x </proc/uptime
		c0=$(awk '$1 == "usage_usec" { print $2 }' $P/$1/cpu.stat)
		sleep 2
		read -r u1 x </proc/uptime
		c1=$(awk '$1 == "usage_usec" { print $2 }' $P/$1/cpu.stat)
		THR=$(awk '$1 == "nr_throttled" { print $2 }' $P/$1/cpu.stat)
		PCT=$(awk -v c0="$c0" -v c1="$c1" -v u0="$u0" -v u1="$u1" \
			'BEGIN { if (c0 != "" && c1 != "" && u1 > u0) printf "%d", (c1 - c0) / 1e6 / (u1 - u0) * 100 }')
	fi
	gate_release
}
CPUARGS="--cpus 0.5"
cpu_pct v2q
check cpu-quota "--cpus 0.5: ${PCT}% of a CPU (want 25..75), nr_throttled=$THR rc=$RC $(cat /tmp/err)" \
	eval '[ -n "$PCT" ] && [ "$PCT" -ge 25 ] && [ "$PCT" -le 75 ] && [ "${THR:-0}" -gt 0 ] && [ ! -e $P/v2q ]'
# The same loop unlimited: a whole CPU (the band above can fail).
CPUARGS=
cpu_pct v2u
check cpu-unlimited "no limit: ${PCT}% of a CPU (want > 75) rc=$RC $(cat /tmp/err)" \
	eval '[ -n "$PCT" ] && [ "$PCT" -gt 75 ] && [ ! -e $P/v2u ]'

# --- pids: a bounded fork bomb --------------------------------------------------------------
gate_start --id v2p --pids-limit 20 $R sh -c "$BOMB"
if wait_for out_has '^ready'; then
	cur=$(cat $P/v2p/pids.current 2>&1)
	ev=$(cat $P/v2p/pids.events 2>&1)
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
		[ "$n" -ge 1 ] && [ "$n" -lt 20 ] && [ "$(tail -n 1 /tmp/out)" = end ] && [ ! -e $P/v2p ]'

# --- a value the kernel refuses ------------------------------------------------------------
out=$(mdk run --id v2k --cpuset-cpus 99 $R sh -c 'echo RAN' 2>/tmp/err)
rc=$?
err=$(cat /tmp/err)
check kernel-refused "rc=$rc out=$out err=$err dir=$(ls -d $P/v2k 2>&1)" \
	eval '[ $rc -eq 125 ] && [ -z "$out" ] && [ "$(wc -l </tmp/err)" -eq 1 ] &&
		case "$err" in "mdk-run: "*"cpuset '\''99'\''"*) true ;; *) false ;; esac && [ ! -e $P/v2k ]'

# --- a second container with the same id leaves the first alone ----------------------------
gate_start --id v2d $R sh -c 'echo ready; read x; echo end'
if wait_for out_has '^ready'; then
	out=$(mdk run --id v2d $R sh -c 'echo RAN' 2>&1)
	rc=$?
	still=$(cat $P/v2d/cgroup.procs 2>/dev/null | wc -l)
else
	out="first did not start" rc='' still=''
fi
gate_release
check dup-id "second: rc=$rc out=$out; first: procs=$still rc=$RC out=$(cat /tmp/out /tmp/err)" \
	eval '[ "$rc" = 125 ] && case "$out" in "mdk-run: "*) true ;; *) false ;; esac && [ "$still" = 2 ] &&
		[ $RC -eq 0 ] && [ "$(tail -n 1 /tmp/out)" = end ] && [ ! -e $P/v2d ]'

# --- mdk-cgroup after a kill -9'd mdk-run -------------------------------------------------------
mdk run --id v2x $R sleep 30 >/dev/null 2>&1 &
X=$!
wait_for populated v2x
xinit=$(init_of $X)
kill -9 $X
wait $X 2>/dev/null
wait_for empty_cg v2x
wait_for gone "$xinit"
ls1=$(mdk cgroup ls 2>&1)
check prune-leftover "ls=[$ls1] dir=$(ls -d $P/v2x 2>&1) init $xinit gone: $(gone "$xinit" && echo yes)" \
	eval '[ "$ls1" = "v2x empty" ] && gone "$xinit"'
mdk run --id v2y $R sleep 30 >/dev/null 2>&1 &
Y=$!
wait_for populated v2y
ls2=$(mdk cgroup ls 2>&1 | sort)
pout=$(mdk cgroup prune 2>&1)
prc=$?
check prune-removes "prune rc=$prc out=$pout ls before=[$ls2] v2x: $(ls -d $P/v2x 2>&1)" \
	eval '[ $prc -eq 0 ] && [ "$pout" = v2x ] && [ "$ls2" = "$(printf "v2x empty\nv2y running")" ] && [ ! -e $P/v2x ]'
ls3=$(mdk cgroup ls 2>&1)
check prune-keeps-running "ls after prune=[$ls3] mdk-run alive: $(kill -0 $Y && echo yes)" \
	eval '[ "$ls3" = "v2y running" ] && kill -0 $Y && populated v2y'
nout=$(mdk cgroup rm v2y 2>&1)
nrc=$?
check rm-refuses-live "rm rc=$nrc out=$nout" \
	eval '[ $nrc -eq 3 ] && populated v2y'
rout=$(mdk cgroup rm -f v2y 2>&1)
rrc=$?
wait $Y
yrc=$?
ls4=$(mdk cgroup ls 2>&1)
check rm "rm rc=$rrc out=$rout; mdk-run of v2y rc=$yrc (want 137); ls=[$ls4]" \
	eval '[ $rrc -eq 0 ] && [ -z "$rout" ] && [ $yrc -eq 137 ] && [ -z "$ls4" ] && [ ! -e $P/v2y ]'

# --- an overlay-backed container --------------------------------------------------------------
ins=$(insmod /overlay.ko 2>&1)
check overlay-module "insmod: $ins; filesystems: $(grep overlay /proc/filesystems)" \
	eval 'grep -q "	overlay$" /proc/filesystems'
layer=$(mdk unpack -q -n bb /images/bb.tar 2>&1)
urc=$?
root=$(mdk overlay-up -l bb v2o 2>&1)
orc=$?
out=$(mdk run --id v2o -m 32m --pids-limit 50 "$root" sh -c 'echo data >/written; cat /written; awk '\''$2 == "/" { print $3 }'\'' /proc/mounts' 2>&1)
rrc=$?
upper=$(cat $MDK_ROOT/layers/v2o+rw/fs/written 2>&1)
down=$(mdk overlay-down v2o 2>&1)
drc=$?
mnts=$(grep -c " $MDK_ROOT/rootfs/" /proc/mounts)
check overlay-run "unpack rc=$urc ($layer) up rc=$orc ($root) run rc=$rrc out=[$out] upper=[$upper] down rc=$drc ($down) mounts left=$mnts dir=$(ls -d $P/v2o 2>&1)" \
	eval '[ $urc -eq 0 ] && [ $orc -eq 0 ] && [ $rrc -eq 0 ] && [ "$(echo $out)" = "data overlay" ] &&
		[ "$upper" = data ] && [ $drc -eq 0 ] && [ "$mnts" -eq 0 ] && [ ! -e $P/v2o ]'

# --- commit of a running container: frozen while its layer is read, thawed after -------------
# Its 20 MB file takes the packer a while here (tcg): a sampler of
# cgroup.freeze sees it frozen meanwhile.
root=$(mdk overlay-up -l bb v2f 2>&1)
mdk run -d --id v2f --log /tmp/v2f.log --pid-file /tmp/v2f.pid "$root" \
	sh -c 'head -c 20000000 /dev/zero >/big; echo x >/x; : >/ready; while :; do sleep 1; done' >/dev/null 2>&1
ready() { [ -e "$MDK_ROOT/layers/v2f+rw/fs/ready" ]; }
wait_for ready
MON=$(sed -n 's/^pid=//p' /tmp/v2f.pid)
rm -f /tmp/cdone
(while [ ! -e /tmp/cdone ]; do cat "$P/v2f/cgroup.freeze"; done) >/tmp/samples 2>&1 &
S=$!
cout=$(mdk commit v2f snap:1 2>/tmp/cerr)
crc=$?
: >/tmp/cdone
wait $S
fz=$(cat "$P/v2f/cgroup.freeze" 2>&1)
ev=$(grep frozen "$P/v2f/cgroup.events" 2>&1)
seen=$(sort -u /tmp/samples | tr '\n' ' ')
groot=$(mdk overlay-up -i snap:1 v2g 2>&1)
gout=$(mdk run --id v2g "$groot" sh -c 'cat /x; wc -c </big' 2>&1 | tr '\n' ' ')
mdk overlay-down v2g >/dev/null 2>&1
alive=$(gone "$MON" || echo yes)
kill "$MON" 2>/dev/null
wait_for gone "$MON"
mdk overlay-down v2f >/dev/null 2>&1
mdk image rm snap:1 >/dev/null 2>&1
check commit-frozen "rc=$crc out=$cout stderr=[$(cat /tmp/cerr)] cgroup.freeze seen: [$seen] after: $fz, $ev; monitor alive after: $alive; the image: [$gout] dir=$(ls -d $P/v2f 2>&1)" \
	eval '[ $crc -eq 0 ] && [ -z "$(cat /tmp/cerr)" ] && contains_1 "$seen" && [ "$fz" = 0 ] &&
		[ "$ev" = "frozen 0" ] && [ "$alive" = yes ] && [ "$gout" = "x 20000000 " ] && [ ! -e $P/v2f ]'

# --- mdk-oci: a bundle's container in its cgroup (limits, freezer, namespace) -----------------
B=/tmp/ob
OR=/run/oci
mkdir -p $B
ln -s $R $B/rootfs
(cd $B && mdk oci spec)
cat >$R/oci.sh <<'EOF'
head -n 1 /proc/self/cgroup
mknod /m b 1 3 2>/dev/null && echo made || echo no-mknod
awk '$2 == "/" { print $4 }' /proc/mounts
ls /sys/fs/cgroup/memory.max && echo ready
while :; do sleep 1; done
EOF
sed -i -e 's/"terminal": true/"terminal": false/' -e 's/"readonly": true/"readonly": false/' \
	-e 's|^\( *\)"sh"$|\1"sh", "/oci.sh"|' \
	-e 's|"CAP_KILL",|"CAP_KILL", "CAP_MKNOD",|' \
	-e 's|"resources": {|"resources": {"memory": {"limit": 33554432}, "pids": {"limit": 20}, "blockIO": {"weight": 500},|' $B/config.json
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

# --- nothing left -----------------------------------------------------------------------------
left=$(find $P -mindepth 1 -type d 2>&1)
check no-leftovers "left under m-docker: $left" eval '[ -z "$left" ]'

echo MDK-V2-DONE
sync
poweroff -f
