#!/bin/busybox sh
# /init of the initramfs test VM (tests/qemu/initramfs.sh). busybox sh.
#
# The initramfs holds only busybox (/bin/busybox + applet links, so /bin/sh
# is busybox ash), mdk (/bin/mdk + applet links), scripts/m-docker and
# scripts/mkimage (in /bin, beside mdk) and overlay.ko: no image archive, no
# rootfs. m-docker must make its default busybox image from /bin/busybox.
#
# Stage 1 copies the initramfs into a tmpfs and switch_roots there, as a
# real initramfs hands over to its root (pivot_root does not work with the
# initial rootfs as root). With /.stage2 in the initramfs already
# (MDK_INITRAMFS_ROOT=rootfs) it stays on the rootfs.
# Stage 2 mounts proc, sysfs, devtmpfs, cgroup2 alone on /sys/fs/cgroup,
# loads overlay.ko, runs the m-docker flow with PATH=/bin:/sbin and prints
# one line per check:
#   MDK-INITRAMFS: NAME ok
#   MDK-INITRAMFS: NAME FAIL DETAIL
# each after a line "MDK-INITRAMFS-INFO: NAME DETAIL" with what was seen;
# then MDK-INITRAMFS-DONE, and it powers off.
export PATH=/bin:/sbin
export LC_ALL=C

if [ ! -e /.stage2 ]; then
	mkdir -p /new
	mount -t tmpfs -o mode=0755 newroot /new || { echo "MDK-INITRAMFS: boot FAIL tmpfs"; poweroff -f; }
	for e in /*; do
		case $e in /new | /proc | /sys | /dev) ;; *) cp -a "$e" /new/ ;; esac
	done
	mkdir -p /new/proc /new/sys /new/dev
	: >/new/.stage2
	exec switch_root /new /init
	echo "MDK-INITRAMFS: boot FAIL switch_root"
	poweroff -f
fi

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
exec </dev/console >/dev/console 2>&1
mount -t cgroup2 cgroup2 /sys/fs/cgroup
# Kernel messages (OOM reports) must not cut through the marker lines.
echo 1 >/proc/sys/kernel/printk
hostname mdk-initramfs
ins=$(insmod /overlay.ko 2>&1)

# m-docker's defaults: nothing of ours in the environment.
unset MDK MDK_ROOT MDK_IMAGES MDK_DEFAULT_IMAGE MDK_CGROUP_PARENT TMPDIR
D=/var/lib/m-docker
CG=/sys/fs/cgroup
P=$CG/m-docker

ok() { echo "MDK-INITRAMFS: $1 ok"; }
bad() {
	_n=$1
	shift
	echo "MDK-INITRAMFS: $_n FAIL $(echo "$*" | tr '\n' ' ' | cut -c1-900)"
}
# check NAME DETAIL CONDITION...: ok if CONDITION succeeds. The detail is
# logged either way ("MDK-INITRAMFS-INFO: NAME ...").
check() {
	_n=$1 _d=$2
	shift 2
	echo "MDK-INITRAMFS-INFO: $_n $(echo "$_d" | tr '\n' ' ' | cut -c1-900)"
	if "$@"; then ok "$_n"; else bad "$_n" "$_d"; fi
}

# wait_for CMD...: at most $WAIT seconds (30 here: under tcg a command can
# take long).
WAIT=30
. /wait.sh
# A process is gone when /proc has no entry for it: dead AND reaped (this
# shell, PID 1, reaps the orphans while it waits for its own commands).
gone() { [ -n "$1" ] && [ ! -e "/proc/$1" ]; }
all_gone() { for _p in "$@"; do gone "$_p" || return 1; done; }
# ps_line [-a] NAME STATUS: NAME's line in "m-docker ps [-a]".
ps_line() {
	_a=
	[ "$1" = -a ] && { _a=-a; shift; }
	case $2 in running) _s='Up ' ;; *) _s='(Exited|Dead)' ;; esac
	m-docker ps $_a 2>/dev/null | grep -E "^$1 +busybox +\"sleep 30\" +.*$_s.* +$1\$"
}
rec() { sed -n "s/^$1=//p" "$D/layers/keep+rw/run" 2>/dev/null; }
procs_of() { cat "$P/$1/cgroup.procs" 2>/dev/null; }
# Mount points under the data root (mountinfo field 5).
mounts_under() { awk -v p="$1" '$5 == p || index($5, p "/") == 1 { print $5 }' /proc/self/mountinfo; }
exe() { readlink "/proc/$1/exe" 2>/dev/null; }

# --- the host: a bare initramfs, pure cgroup v2, busybox ash only ---------------------
fs=$(awk '$2 == "/sys/fs/cgroup" { print $3 }' /proc/mounts)
v1=$(awk '$3 == "cgroup" { print $2 }' /proc/mounts)
rootfs=$(awk '$2 == "/" { print $3 }' /proc/mounts)
tars=$(find / -xdev \( -name '*.tar' -o -name '*.tar.*' -o -name '*.tgz' \) 2>/dev/null)
# Every shell there is is busybox. (Debian's busybox runs its applets
# before PATH, so "command -v sh" says "sh": look at the files.)
shells=$(for s in sh ash bash dash zsh ksh mksh hush; do
	for p in /bin/$s /sbin/$s /usr/bin/$s; do
		[ -e $p ] && [ "$(readlink -f $p)" != /bin/busybox ] && echo "$p"
	done
done)
sh=$(readlink /bin/sh)
md=$(command -v m-docker)
mi=$(command -v mkimage)
mk=$(command -v mdk)
want_root=tmpfs
[ -e /.stage1-skipped ] && want_root=rootfs
check env "root=$rootfs (want $want_root) fs=$fs v1=[$v1] overlay: insmod [$ins] $(grep -c '	overlay$' /proc/filesystems) /bin/sh -> $sh other shells=[$shells] m-docker=$md mkimage=$mi mdk=$mk archives=[$tars] /build: $(ls -d /build 2>&1) data root: $(ls -d $D 2>&1) PATH=$PATH" \
	eval '[ "$rootfs" = "$want_root" ] && [ "$fs" = cgroup2 ] && [ -z "$v1" ] &&
		grep -q "	overlay$" /proc/filesystems && [ "$sh" = busybox ] && [ -z "$shells" ] &&
		[ "$md" = /bin/m-docker ] && [ "$mi" = /bin/mkimage ] && [ "$mk" = /bin/mdk ] &&
		[ -z "$tars" ] && [ ! -e /build ] && [ ! -e $D ]'

# --- a first run: the default image is made from /bin/busybox ---------------------------
t0=$(date +%s)
out=$(timeout 240 m-docker run busybox sh -c 'echo ok' 2>/tmp/err)
rc=$?
t1=$(date +%s)
check run-ok "rc=$rc (want 0) out=[$out] (want ok) stderr=[$(cat /tmp/err)] $((t1 - t0))s" \
	eval '[ $rc -eq 0 ] && [ "$out" = ok ]'

img=$(ls -A $D/images 2>&1)
lay=$(ls -A $D/layers 2>&1)
same=$(cmp $D/layers/busybox/bin/busybox /bin/busybox 2>&1 && echo same)
n=$(ls $D/layers/busybox/bin 2>/dev/null | wc -l)
check default-image "images/=[$img] layers/=[$lay] layer's /bin/busybox vs ours: $same; $n entries in its /bin" \
	eval '[ "$img" = busybox.tar ] && [ "$same" = same ] && [ "$n" -gt 100 ] &&
		[ -f $D/images/busybox.tar ] && [ -z "$(ls -d $D/layers/*+rw 2>/dev/null)" ]'

# --- a memory hog under -m 16m is OOM-killed --------------------------------------------
HOG='x=$(head -c 64000000 /dev/zero | tr "\0" a); echo survived ${#x}'
oomk() { awk '$1 == "oom_kill" { print $2 }' /proc/vmstat; }
k0=$(oomk)
out=$(timeout 240 m-docker run -m 16m busybox sh -c "$HOG" 2>/tmp/err)
rc=$?
k1=$(oomk)
check oom "rc=$rc (want 137) out=[$out] stderr=[$(cat /tmp/err)] oom kills: $k0 -> $k1" \
	eval '[ $rc -eq 137 ] && [ -z "$out" ] && [ "$k1" -gt "$k0" ]'

# --- a named container, listed by ps ------------------------------------------------------
m-docker run --name keep busybox sleep 30 >/tmp/keep.out 2>/tmp/keep.err &
K=$!
# The container is up when its cgroup holds "sleep 30" (the run record, and
# so ps, may come first).
sleeping() {
	for _p in $(procs_of "$1"); do
		[ "$(tr '\0' ' ' <"/proc/$_p/cmdline" 2>/dev/null)" = "sleep 30 " ] && return 0
	done
	return 1
}
wait_for sleeping keep
wait_for ps_line keep running >/dev/null
line=$(ps_line keep running)
R=$(rec pid)
C=$(procs_of keep)
check ps "m-docker ps: [$line]; ps -a: [$(m-docker ps -a 2>&1)] script $K, mdk-run $R, in the cgroup: [$(echo $C)] sleep 30 there: $(sleeping keep && echo yes) stderr=[$(cat /tmp/keep.err)]" \
	eval '[ -n "$line" ] && [ -n "$R" ] && [ -n "$C" ] && sleeping keep'
# The script runs under busybox ash (the only shell there is).
check ash "m-docker script $K: exe=$(exe $K) cmdline=[$(tr '\0' ' ' </proc/$K/cmdline 2>&1)]" \
	eval '[ "$(exe $K)" = /bin/busybox ]'

# --- kill -9 of the script: mdk-run (--die-with-parent) and the container die ------------
kill -9 $K
wait $K
krc=$?
# Within 10 s: well before "sleep 30" would end by itself.
g0=$(date +%s)
WAIT=10 wait_for all_gone $R $C
g1=$(date +%s)
alive=
for p in $R $C; do gone $p || alive="$alive $p:$(tr '\0' ' ' </proc/$p/cmdline 2>/dev/null)/$(awk '{ print $3 }' /proc/$p/stat 2>/dev/null)"; done
left_m=$(mounts_under $D)
left_c=$(ls -d $P/keep 2>&1)
left_l=$(ls -d $D/layers/keep+rw 2>&1)
psl=$(ps_line keep running)
psa=$(ps_line -a keep exited)
check kill9 "script rc=$krc (want 137) still alive after $((g1 - g0))s:[$alive] left: mounts=[$left_m] cgroup=[$left_c] rw=[$left_l] m-docker ps: [$psl] m-docker ps -a: [$psa] stdout=[$(cat /tmp/keep.out)] stderr=[$(cat /tmp/keep.err)]" \
	eval '[ $krc -eq 137 ] && [ -z "$alive" ] && [ -n "$left_m" ] && [ -d $P/keep ] &&
		[ -d $D/layers/keep+rw ] && [ -z "$psl" ] && [ -n "$psa" ]'

# --- prune removes the leftovers and names the container ----------------------------------
out=$(timeout 120 m-docker prune 2>/tmp/err)
rc=$?
check prune "rc=$rc (want 0) out=[$out] (want keep) stderr=[$(cat /tmp/err)]" \
	eval '[ $rc -eq 0 ] && [ "$out" = keep ]'

# --- detached containers: run -d, logs, exec, stop, wait, start, rm -f ---------------------
# ps_of NAME [-a]: NAME's line in "m-docker ps [-a]" (its ID and name).
ps_of() {
	_n=$1
	shift
	m-docker ps "$@" 2>/dev/null | awk -v n="$_n" '$1 == n && $NF == n'
}
contains() { case $1 in *"$2"*) return 0 ;; esac; return 1; }
# logged NAME STREAM TEXT: container NAME's log has TEXT as a whole STREAM line.
logged() { grep -q " $2 F $3\$" "$D/layers/$1+rw/log" 2>/dev/null; }
# The monitor (mdk-run -d) of container $1, and its PID 1, from its pid file.
monitor() { sed -n 's/^pid=//p' "$D/layers/$1+rw/pid" 2>/dev/null; }
init_of() { sed -n 's/^init=//p' "$D/layers/$1+rw/pid" 2>/dev/null; }
cmdline() { tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null; }
# pid_in NAME CMDLINE: the host PID of the process of NAME's cgroup that
# runs CMDLINE.
pid_in() {
	for _p in $(procs_of "$1"); do
		[ "$(cmdline "$_p")" = "$2 " ] && { echo "$_p"; return 0; }
	done
	return 1
}
# Every process that runs CMDLINE, with its cgroup: PID:0::/PATH.
find_cmd() {
	for _d in /proc/[0-9]*; do
		[ "$(cmdline "${_d#/proc/}")" = "$1 " ] && printf ' %s:%s' "${_d#/proc/}" "$(cat "$_d/cgroup" 2>/dev/null)"
	done
}
# alive "PIDS": those of PIDS that are not gone, with their command lines;
# dead "PIDS": none is left.
alive() { for _p in $1; do gone "$_p" || printf ' %s:%s' "$_p" "$(cmdline "$_p")"; done; }
dead() { [ -z "$(alive "$1")" ]; }
# Which of these paths exist.
left() { for _f; do [ -e "$_f" ] && printf ' %s' "$_f"; done; }
# Nothing of container $1 is left: rw layer, mount point, cgroup.
removed() { [ -n "$1" ] && [ ! -e "$D/layers/$1+rw" ] && [ ! -e "$D/rootfs/$1" ] && [ ! -e "$P/$1" ]; }

# svc counts its runs in /runs (its rw layer: start keeps it), writes a
# line to each stream, and exits 3 on SIGTERM; it sleeps in the background
# so that the trap runs at once.
SVC='trap "echo got-term; exit 3" TERM; echo run >>/runs; echo "out $(wc -l </runs)"; echo err >&2; while :; do sleep 1 & wait $!; done'
t0=$(date +%s)
out=$(timeout 120 m-docker run -d --name svc busybox sh -c "$SVC" 2>/tmp/err)
rc=$?
t1=$(date +%s)
# Right away, no wait: run -d returns once the command runs.
C=$(procs_of svc)
M=$(monitor svc)
I=$(init_of svc)
mcmd=$(cmdline "$M")
line=$(ps_of svc)
check run-d "rc=$rc (want 0) out=[$out] (want svc) stderr=[$(cat /tmp/err)] $((t1 - t0))s; then: monitor $M [$mcmd] alive: $(gone "$M" || echo yes), init $I, in the cgroup: [$(echo "$C" | tr '\n' ' ')] m-docker ps: [$line]" \
	eval '[ $rc -eq 0 ] && [ "$out" = svc ] && [ -n "$M" ] && ! gone "$M" && contains "$mcmd" " run -d " &&
		[ -n "$I" ] && echo "$C" | grep -qx "$I" && contains "$line" "   Up "'

WAIT=30 wait_for logged svc stdout 'out 1'
WAIT=30 wait_for logged svc stderr err
lo=$(timeout 60 m-docker logs svc 2>/tmp/err)
rc=$?
le=$(cat /tmp/err)
check logs "rc=$rc (want 0) stdout=[$lo] (want out 1) stderr=[$le] (want err) log: [$(cat $D/layers/svc+rw/log 2>&1)]" \
	eval '[ $rc -eq 0 ] && [ "$lo" = "out 1" ] && [ "$le" = err ]'

# exec: the exec'd process (here "sleep 20" in the end) is in svc's cgroup
# and PID namespace, as the host sees it; inside, PID 1 is mdk-init and ps
# shows svc's command. It also writes /from-exec, for start below.
EX='echo "pid $$ ppid $PPID"; echo kept >/from-exec; ps -o pid,args; echo "init $(cat /proc/1/comm)"; exec sleep 20'
timeout -s KILL 90 m-docker exec svc sh -c "$EX" >/tmp/ex.out 2>/tmp/ex.err &
X=$!
WAIT=30 wait_for pid_in svc 'sleep 20' >/dev/null
XP=$(pid_in svc 'sleep 20')
# (Its output is relayed: "init" is the last line before the sleep.)
WAIT=10 wait_for grep -q '^init ' /tmp/ex.out
xcg=$(cat "/proc/$XP/cgroup" 2>&1)
xns=$(readlink "/proc/$XP/ns/pid" 2>&1)
ins=$(readlink "/proc/$I/ns/pid" 2>&1)
hns=$(readlink /proc/self/ns/pid)
xnspid=$(awk '$1 == "NSpid:" { print $NF }' "/proc/$XP/status" 2>&1)
xout=$(cat /tmp/ex.out)
xin=$(sed -n 's/^pid \([0-9]*\) ppid \([0-9]*\)$/\1 \2/p' /tmp/ex.out)
xall=$(find_cmd 'sleep 20')
kill "$XP"
wait $X
xrc=$?
check exec "exec'd sleep 20: host PID $XP (every sleep 20 there is: [$xall]), cgroup [$xcg] (want 0::/m-docker/svc), pid ns $xns (init's $ins, ours $hns), NSpid $xnspid; inside: pid, ppid [$xin], output: [$xout] stderr=[$(cat /tmp/ex.err)]; killed: rc=$xrc (want 143)" \
	eval '[ -n "$XP" ] && [ "$xcg" = 0::/m-docker/svc ] && [ "$xns" = "$ins" ] && [ "$xns" != "$hns" ] &&
		[ "$xin" = "$xnspid 0" ] && [ "$xnspid" != "$XP" ] && contains "$xout" "init mdk-init" &&
		echo "$xout" | grep -Eq "^ +1 " && contains "$xout" "sh -c trap \"echo got-term; exit 3\" TERM" &&
		[ "$(cat $D/layers/svc+rw/fs/from-exec 2>&1)" = kept ] && [ $xrc -eq 143 ]'

# stop: TERM, which svc handles (exit 3) well within -t 2.
C=$(procs_of svc)
t0=$(date +%s)
out=$(timeout 60 m-docker stop -t 2 svc 2>/tmp/err)
rc=$?
t1=$(date +%s)
st=$(timeout 60 m-docker wait svc 2>&1)
WAIT=10 wait_for dead "$M $C"
al=$(alive "$M $C")
psa=$(ps_of svc -a)
check stop "rc=$rc (want 0) out=[$out] (want svc) stderr=[$(cat /tmp/err)] $((t1 - t0))s; wait: [$st] (want 3); ps -a: [$psa]; still alive: [$al]; cgroup left: [$(left $P/svc)]; log: [$(cat $D/layers/svc+rw/log 2>&1)]" \
	eval '[ $rc -eq 0 ] && [ "$out" = svc ] && [ "$st" = 3 ] && contains "$psa" "   Exited (3) " &&
		logged svc stdout got-term && [ -z "$al" ] && [ ! -e $P/svc ] && [ -d $D/layers/svc+rw ]'

# stop of one that ignores TERM: SIGKILL after -t 1 (137), within seconds.
out=$(timeout 120 m-docker run -d --name stub busybox sh -c 'trap "" TERM; echo ready; while :; do sleep 1; done' 2>/tmp/err)
rc=$?
WAIT=30 wait_for logged stub stdout ready
M2=$(monitor stub)
C=$(procs_of stub)
t0=$(date +%s)
so=$(timeout 60 m-docker stop -t 1 stub 2>/tmp/err)
src=$?
t1=$(date +%s)
se=$(cat /tmp/err)
st=$(timeout 60 m-docker wait stub 2>&1)
WAIT=10 wait_for dead "$M2 $C"
al=$(alive "$M2 $C")
psa=$(ps_of stub -a)
ro=$(timeout 60 m-docker rm stub 2>&1)
rrc=$?
check stop-kill "run -d rc=$rc out=[$out]; stop -t 1: rc=$src out=[$so] stderr=[$se] $((t1 - t0))s (want 1..10); wait: [$st] (want 137); ps -a: [$psa]; still alive: [$al]; rm: rc=$rrc [$ro]" \
	eval '[ $rc -eq 0 ] && [ "$out" = stub ] && [ $src -eq 0 ] && [ "$so" = stub ] &&
		[ $((t1 - t0)) -ge 1 ] && [ $((t1 - t0)) -le 10 ] && [ "$st" = 137 ] &&
		contains "$psa" "   Exited (137) " && [ -z "$al" ] && [ $rrc -eq 0 ] && removed stub'

# start: svc again, on its rw layer (/runs counts 2, /from-exec is there).
out=$(timeout 120 m-docker start svc 2>/tmp/err)
rc=$?
WAIT=30 wait_for logged svc stdout 'out 2'
M3=$(monitor svc)
line=$(ps_of svc)
kept=$(timeout 60 m-docker exec svc cat /from-exec 2>&1)
check start "rc=$rc (want 0) out=[$out] (want svc) stderr=[$(cat /tmp/err)]; monitor $M -> $M3; m-docker ps: [$line]; exec cat /from-exec: [$kept]; log: [$(cat $D/layers/svc+rw/log 2>&1)]" \
	eval '[ $rc -eq 0 ] && [ "$out" = svc ] && logged svc stdout "out 2" && [ -n "$M3" ] &&
		[ "$M3" != "$M" ] && ! gone "$M3" && contains "$line" "   Up " && [ "$kept" = kept ]'

C=$(procs_of svc)
out=$(timeout 60 m-docker rm -f svc 2>/tmp/err)
rc=$?
WAIT=10 wait_for dead "$M3 $C"
al=$(alive "$M3 $C")
psa=$(ps_of svc -a)
check rm-f "rc=$rc (want 0) out=[$out] (want svc) stderr=[$(cat /tmp/err)]; still alive: [$al]; left: [$(left $D/layers/svc+rw $D/rootfs/svc $P/svc)] ps -a: [$psa]" \
	eval '[ $rc -eq 0 ] && [ "$out" = svc ] && [ -z "$al" ] && removed svc && [ -z "$psa" ]'

# run -d --rm: gone by itself once its command has ended.
t0=$(date +%s)
id=$(timeout 120 m-docker run -d --rm busybox true 2>/tmp/err)
rc=$?
WAIT=30 wait_for removed "$id"
t1=$(date +%s)
psa=$(m-docker ps -a 2>&1)
check run-d-rm "rc=$rc (want 0) out=[$id] (want 12 hex digits) stderr=[$(cat /tmp/err)]; after $((t1 - t0))s left: [$(left "$D/layers/$id+rw" "$D/rootfs/$id" "$P/$id")] ps -a: [$psa]" \
	eval '[ $rc -eq 0 ] && [ ${#id} -eq 12 ] && [ -z "$(echo "$id" | tr -d 0-9a-f)" ] && removed "$id" &&
		! contains "$psa" "$id"'

# kill -9 of a detached container's monitor: the container dies with it
# (its PID 1 and command are gone within 10 s), ps -a says Dead, and prune
# removes it.
out=$(timeout 120 m-docker run -d --name orphan busybox sleep 30 2>/tmp/err)
rc=$?
wait_for sleeping orphan
M=$(monitor orphan)
mcmd=$(cmdline "$M")
C=$(procs_of orphan)
kill -9 "$M"
g0=$(date +%s)
WAIT=10 wait_for dead "$M $C"
g1=$(date +%s)
al=$(alive "$M $C")
psa=$(ps_line -a orphan exited)
check kill9-monitor "run -d rc=$rc out=[$out]; monitor $M [$mcmd], in the cgroup: [$(echo "$C" | tr '\n' ' ')]; still alive after $((g1 - g0))s: [$al]; ps -a: [$psa]" \
	eval '[ $rc -eq 0 ] && [ "$out" = orphan ] && contains "$mcmd" " run -d " && [ -n "$C" ] &&
		[ -z "$al" ] && contains "$psa" "   Dead "'
out=$(timeout 120 m-docker prune 2>/tmp/err)
rc=$?
check prune-monitor "rc=$rc (want 0) out=[$out] (want orphan) stderr=[$(cat /tmp/err)]; left: [$(left $D/layers/orphan+rw $D/rootfs/orphan $P/orphan)]" \
	eval '[ $rc -eq 0 ] && [ "$out" = orphan ] && removed orphan'

# --- nothing left -------------------------------------------------------------------------
m=$(mounts_under $D)
check no-mounts "mounts under $D: [$m]" eval '[ -z "$m" ]'
c=$(find $P -mindepth 1 -type d 2>&1)
check no-cgroups "$P: $(ls -d $P 2>&1); below it: [$c]" eval '[ -d $P ] && [ -z "$c" ]'
r=$(ls -A $D/rootfs 2>&1)
check rootfs-empty "$D/rootfs: $(ls -d $D/rootfs 2>&1); in it: [$r]" eval '[ -d $D/rootfs ] && [ -z "$r" ]'
l=$(ls -d $D/layers/*+rw 2>/dev/null)
check no-rw-layers "layers/: [$(ls -A $D/layers 2>&1)]; +rw: [$l]" eval '[ -d $D/layers ] && [ -z "$l" ]'
ps2=$(m-docker ps -a 2>&1)
check ps-empty "m-docker ps -a: [$ps2]" eval '[ "$(echo "$ps2" | wc -l)" -eq 1 ]'

echo MDK-INITRAMFS-DONE
sync
poweroff -f
