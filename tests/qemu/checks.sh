# Sourced (busybox sh) by the /init of the cgroup test VMs (v1-init.sh,
# v2-init.sh), with V set (v1, v2): the boot's first stage and its mounts,
# the marker lines the suites read, and the checks both VMs run. A check
# NAME reports "$MARK: NAME ok" or "$MARK: NAME FAIL DETAIL" (MARK is
# MDK-V1, MDK-V2), after "$MARK-INFO: NAME DETAIL" with what was seen;
# "$MARK-SKIP: NAME WHY" is a check this VM cannot run; "$MARK-DONE" ends.
#
# The init says where a container's cgroups are, before the checks run:
#   cgf ID CONTROLLER FILE  the path of FILE in container ID's cgroup of
#                           CONTROLLER's hierarchy (v2: the one cgroup)
#   dirs_of ID              its cgroup directories (none once it is gone)
#   cpu_ns ID               the CPU time its cgroup used, in ns
#   CG_PARENTS              the m-docker directories, one per hierarchy
#   FREEZER FROZEN THAWED   the freezer's file and its two values
#   CGNAME                  the memory hierarchy's name in /proc/PID/cgroup
#                           (v2: empty)
MARK=MDK-$(echo "$V" | tr v V)

# Stage 1 copies the initramfs into a tmpfs and switch_roots there:
# pivot_root (mdk-run) does not work with the initial rootfs as root.
if [ ! -e /.stage2 ]; then
	mkdir -p /new
	mount -t tmpfs -o mode=0755 newroot /new || { echo "$MARK: boot FAIL tmpfs"; poweroff -f; }
	for e in /*; do
		case $e in /new | /proc | /sys | /dev) ;; *) cp -a "$e" /new/ ;; esac
	done
	mkdir -p /new/proc /new/sys /new/dev
	: >/new/.stage2
	exec switch_root /new /init
	echo "$MARK: boot FAIL switch_root"
	poweroff -f
fi

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
exec </dev/console >/dev/console 2>&1
mkdir -p /tmp
mount -t tmpfs tmpfs /tmp
# Kernel messages (OOM reports) must not cut through the marker lines.
echo 1 >/proc/sys/kernel/printk
hostname "mdk-$V"
R=/rootfs
export MDK_ROOT=/var/lib/m-docker

ok() { echo "$MARK: $1 ok"; }
bad() {
	_n=$1
	shift
	echo "$MARK: $_n FAIL $(echo "$*" | tr '\n' ' ' | cut -c1-600)"
}
# check NAME DETAIL CONDITION...: ok if CONDITION succeeds. The detail is
# logged either way ("$MARK-INFO: NAME ...").
check() {
	_n=$1 _d=$2
	shift 2
	echo "$MARK-INFO: $_n $(echo "$_d" | tr '\n' ' ' | cut -c1-600)"
	if "$@"; then ok "$_n"; else bad "$_n" "$_d"; fi
}
eq() { [ "$1" = "$2" ]; }
finish() {
	echo "$MARK-DONE"
	sync
	poweroff -f
}

. /wait.sh
gone() { ! kill -0 "$1" 2>/dev/null; }
out_has() { grep -q "$1" /tmp/out 2>/dev/null; }
init_of() { cat "/proc/$1/task/$1/children" 2>/dev/null | awk '{ print $1 }'; }
populated() { [ -n "$(cat "$(cgf "$1" memory cgroup.procs)" 2>/dev/null)" ]; }
empty_cg() { [ -d "$(dirname "$(cgf "$1" memory cgroup.procs)")" ] && ! populated "$1"; }
nothing_of() { [ -z "$(dirs_of "$1")" ]; }

# gate_start ARGS...: mdk run -i ARGS in the background, stdin from a fifo we
# hold open, stdout /tmp/out, stderr /tmp/err; RUN is mdk-run's pid.
gate_start() {
	rm -f /tmp/gate /tmp/out /tmp/err
	mkfifo /tmp/gate
	mdk run -i "$@" </tmp/gate >/tmp/out 2>/tmp/err &
	RUN=$!
	exec 7>/tmp/gate
}
gate_release() {
	(echo go >&7) 2>/dev/null
	exec 7>&-
	wait "$RUN"
	RC=$?
}

HOG='x=$(head -c 64000000 /dev/zero | tr "\0" a); echo survived ${#x}'
# A bounded fork bomb: at most 100 background sleeps; ash gives up at the
# first fork that fails. The container's shell then waits for the test.
BOMB='sh -c '\''i=0; while [ $i -lt 100 ]; do i=$((i+1)); sleep 30 & echo "forked $i"; done; echo "bomb not contained"'\''
echo "bomb exit $?"; echo ready; read x; echo end'

# --- the checks both VMs run --------------------------------------------------------

# A 64 MB hog under -m 16m: killed (137), said, nothing left; under -m
# 256m it lives.
checks_oom() {
	# stdout only: the shell may report a child the OOM killer took first.
	out=$(mdk run --id "${V}a" -m 16m $R sh -c "$HOG" 2>/tmp/err)
	rc=$?
	check oom "rc=$rc (want 137) out=$out left=[$(dirs_of "${V}a")]" \
		eval '[ $rc -eq 137 ] && [ -z "$out" ] && nothing_of "${V}a"'
	check oom-said "stderr: $(cat /tmp/err)" \
		grep -q "container was killed: out of memory (limit 16m)" /tmp/err
	out=$(mdk run --id "${V}b" -m 256m $R sh -c "$HOG" 2>&1)
	rc=$?
	check oom-control "rc=$rc (want 0) out=$out" \
		eval '[ $rc -eq 0 ] && [ "$out" = "survived 64000000" ] && nothing_of "${V}b"'
}

# The container's own /etc files (bound from the /dev tmpfs: open_tree of a
# detached mount fails on this 6.1 kernel).
checks_etc_files() {
	out=$(mdk run --id "${V}etc" --etc-files $R sh -c 'cat /etc/hostname; grep -c localhost /etc/hosts' 2>&1)
	rc=$?
	check etc-files "rc=$rc out=$out" eval '[ $rc -eq 0 ] && [ "$out" = "${V}etc
2" ]'
}

checks_cpuset_affinity() {
	a0=$(mdk run --id "${V}c0" --cpuset-cpus 0 $R sh -c 'grep Cpus_allowed_list /proc/self/status' 2>&1)
	a1=$(mdk run --id "${V}c1" --cpuset-cpus 1 $R sh -c 'grep Cpus_allowed_list /proc/self/status' 2>&1)
	check cpuset-affinity "cpu0: $a0 / cpu1: $a1" \
		eval '[ "$(echo $a0)" = "Cpus_allowed_list: 0" ] && [ "$(echo $a1)" = "Cpus_allowed_list: 1" ] &&
			nothing_of "${V}c0" && nothing_of "${V}c1"'
}

# cpu_pct ID: a busy loop in container ID (more ARGS before the rootfs in
# CPUARGS); the cgroup's CPU time and /proc/uptime 2 s apart: PCT, and THR
# from cpu.stat.
cpu_pct() {
	PCT='' THR=''
	gate_start --id "$1" $CPUARGS $R sh -c 'sh -c "while :; do :; done" & echo ready; read x; kill $!'
	if wait_for out_has '^ready'; then
		sleep 0.5
		read -r u0 x </proc/uptime
		c0=$(cpu_ns "$1")
		sleep 2
		read -r u1 x </proc/uptime
		c1=$(cpu_ns "$1")
		THR=$(awk '$1 == "nr_throttled" { print $2 }' "$(cgf "$1" cpu cpu.stat)")
		PCT=$(awk -v c0="$c0" -v c1="$c1" -v u0="$u0" -v u1="$u1" \
			'BEGIN { if (c0 != "" && c1 != "" && u1 > u0) printf "%d", (c1 - c0) / 1e9 / (u1 - u0) * 100 }')
	fi
	gate_release
}
# --cpus 0.5: half a CPU, throttled; the same loop unlimited: a whole CPU
# (the band above can fail). (Its shares put it in v1's cpu hierarchy,
# where cpuacct.usage is.)
checks_cpu() {
	CPUARGS="--cpus 0.5"
	cpu_pct "${V}q"
	check cpu-quota "--cpus 0.5: ${PCT}% of a CPU (want 25..75), nr_throttled=$THR rc=$RC $(cat /tmp/err)" \
		eval '[ -n "$PCT" ] && [ "$PCT" -ge 25 ] && [ "$PCT" -le 75 ] && [ "${THR:-0}" -gt 0 ] && nothing_of "${V}q"'
	CPUARGS="--cpu-shares 1024"
	cpu_pct "${V}u"
	check cpu-unlimited "no limit: ${PCT}% of a CPU (want > 75) rc=$RC $(cat /tmp/err)" \
		eval '[ -n "$PCT" ] && [ "$PCT" -gt 75 ] && nothing_of "${V}u"'
}

# A bounded fork bomb under --pids-limit 20: contained, the host unharmed.
checks_pids_bomb() {
	gate_start --id "${V}p" --pids-limit 20 $R sh -c "$BOMB"
	if wait_for out_has '^ready'; then
		cur=$(cat "$(cgf "${V}p" pids pids.current)" 2>&1)
		ev=$(cat "$(cgf "${V}p" pids pids.events)" 2>&1)
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
			[ "$n" -ge 1 ] && [ "$n" -lt 20 ] && [ "$(tail -n 1 /tmp/out)" = end ] && nothing_of "${V}p"'
}

# A value the kernel refuses: one line, 125, nothing run, nothing left.
checks_kernel_refused() {
	out=$(mdk run --id "${V}k" --cpuset-cpus 99 $R sh -c 'echo RAN' 2>/tmp/err)
	rc=$?
	err=$(cat /tmp/err)
	check kernel-refused "rc=$rc out=$out err=$err left=[$(dirs_of "${V}k")]" \
		eval '[ $rc -eq 125 ] && [ -z "$out" ] && [ "$(wc -l </tmp/err)" -eq 1 ] &&
			case "$err" in "mdk-run: "*"cpuset '\''99'\''"*) true ;; *) false ;; esac && nothing_of "${V}k"'
}

# A second container with the same id leaves the first alone.
checks_dup_id() {
	gate_start --id "${V}d" $R sh -c 'echo ready; read x; echo end'
	if wait_for out_has '^ready'; then
		out=$(mdk run --id "${V}d" $R sh -c 'echo RAN' 2>&1)
		rc=$?
		still=$(cat "$(cgf "${V}d" memory cgroup.procs)" 2>/dev/null | wc -l)
	else
		out="first did not start" rc='' still=''
	fi
	gate_release
	check dup-id "second: rc=$rc out=$out; first: procs=$still rc=$RC out=$(cat /tmp/out /tmp/err)" \
		eval '[ "$rc" = 125 ] && case "$out" in "mdk-run: "*) true ;; *) false ;; esac && [ "$still" = 2 ] &&
			[ $RC -eq 0 ] && [ "$(tail -n 1 /tmp/out)" = end ] && nothing_of "${V}d"'
}

# mdk-cgroup after a kill -9'd mdk-run: ls, prune (a running container's
# cgroups survive), rm.
checks_prune_rm() {
	mdk run --id "${V}x" $R sleep 30 >/dev/null 2>&1 &
	X=$!
	wait_for populated "${V}x"
	xinit=$(init_of $X)
	kill -9 $X
	wait $X 2>/dev/null
	wait_for empty_cg "${V}x"
	wait_for gone "$xinit"
	ls1=$(mdk cgroup ls 2>&1)
	check prune-leftover "ls=[$ls1] left=[$(dirs_of "${V}x")] init $xinit gone: $(gone "$xinit" && echo yes)" \
		eval '[ "$ls1" = "${V}x empty" ] && gone "$xinit"'
	mdk run --id "${V}y" $R sleep 30 >/dev/null 2>&1 &
	Y=$!
	wait_for populated "${V}y"
	ls2=$(mdk cgroup ls 2>&1 | sort)
	pout=$(mdk cgroup prune 2>&1)
	prc=$?
	check prune-removes "prune rc=$prc out=$pout ls before=[$ls2] ${V}x: [$(dirs_of "${V}x")]" \
		eval '[ $prc -eq 0 ] && [ "$pout" = "${V}x" ] && [ "$ls2" = "$(printf "${V}x empty\n${V}y running")" ] &&
			nothing_of "${V}x"'
	ls3=$(mdk cgroup ls 2>&1)
	check prune-keeps-running "ls after prune=[$ls3] mdk-run alive: $(kill -0 $Y && echo yes)" \
		eval '[ "$ls3" = "${V}y running" ] && kill -0 $Y && populated "${V}y"'
	nout=$(mdk cgroup rm "${V}y" 2>&1)
	nrc=$?
	check rm-refuses-live "rm rc=$nrc out=$nout" \
		eval '[ $nrc -eq 3 ] && populated "${V}y"'
	rout=$(mdk cgroup rm -f "${V}y" 2>&1)
	rrc=$?
	wait $Y
	yrc=$?
	ls4=$(mdk cgroup ls 2>&1)
	check rm "rm rc=$rrc out=$rout; mdk-run of ${V}y rc=$yrc (want 137); ls=[$ls4] left=[$(dirs_of "${V}y")]" \
		eval '[ $rrc -eq 0 ] && [ -z "$rout" ] && [ $yrc -eq 137 ] && [ -z "$ls4" ] && nothing_of "${V}y"'
}

# overlay.ko loaded; mdk unpack + overlay-up + run -m + overlay-down.
checks_overlay() {
	ins=$(insmod /overlay.ko 2>&1)
	check overlay-module "insmod: $ins; filesystems: $(grep overlay /proc/filesystems)" \
		eval 'grep -q "	overlay$" /proc/filesystems'
	layer=$(mdk unpack -q -n bb /images/bb.tar 2>&1)
	urc=$?
	root=$(mdk overlay-up -l bb "${V}o" 2>&1)
	orc=$?
	out=$(mdk run --id "${V}o" -m 32m --pids-limit 50 "$root" \
		sh -c 'echo data >/written; cat /written; awk '\''$2 == "/" { print $3 }'\'' /proc/mounts' 2>&1)
	rrc=$?
	upper=$(cat "$MDK_ROOT/layers/${V}o+rw/fs/written" 2>&1)
	down=$(mdk overlay-down "${V}o" 2>&1)
	drc=$?
	mnts=$(grep -c " $MDK_ROOT/rootfs/" /proc/mounts)
	check overlay-run "unpack rc=$urc ($layer) up rc=$orc ($root) run rc=$rrc out=[$out] upper=[$upper] down rc=$drc ($down) mounts left=$mnts left=[$(dirs_of "${V}o")]" \
		eval '[ $urc -eq 0 ] && [ $orc -eq 0 ] && [ $rrc -eq 0 ] && [ "$(echo $out)" = "data overlay" ] &&
			[ "$upper" = data ] && [ $drc -eq 0 ] && [ "$mnts" -eq 0 ] && nothing_of "${V}o"'
}

# A detached container (after checks_overlay: its image layer): mdk-exec
# joins the cgroups of its PID 1; mdk-commit freezes it while its layer is
# read (its 20 MB file takes the packer a while here, under tcg: a sampler
# of the freezer sees it frozen meanwhile), and thaws it after.
checks_detached() {
	f=${V}f
	root=$(mdk overlay-up -l bb "$f" 2>&1)
	mdk run -d --id "$f" -m 64m --log "/tmp/$f.log" --pid-file "/tmp/$f.pid" "$root" \
		sh -c 'head -c 20000000 /dev/zero >/big; echo x >/x; : >/ready; while :; do sleep 1; done' >/dev/null 2>&1
	ready() { [ -e "$MDK_ROOT/layers/$f+rw/fs/ready" ]; }
	wait_for ready
	MON=$(sed -n 's/^pid=//p' "/tmp/$f.pid")
	FI=$(sed -n 's/^init=//p' "/tmp/$f.pid")

	# exec: in every cgroup PID 1 is in; inside, at the root of each.
	mdk exec "/tmp/$f.pid" sh -c 'cat /proc/self/cgroup >/exec-cg; sleep 3' >/dev/null 2>&1 &
	XE=$!
	xp=
	exec_runs() {
		for _p in $(cat "$(cgf "$f" memory cgroup.procs)"); do
			[ "$(tr '\0' ' ' </proc/$_p/cmdline 2>/dev/null)" = "sleep 3 " ] && xp=$_p && return 0
		done
		return 1
	}
	wait_for exec_runs
	xcg=$(sed 's/^[0-9]*://' "/proc/$xp/cgroup" 2>&1 | sort | tr '\n' ' ')
	icg=$(sed 's/^[0-9]*://' "/proc/$FI/cgroup" 2>&1 | sort | tr '\n' ' ')
	wait $XE
	xrc=$?
	inside=$(grep -v ':/$' "$MDK_ROOT/layers/$f+rw/fs/exec-cg" 2>&1)
	check exec-cgroups "exec rc=$xrc; exec'd sleep $xp: [$xcg] PID 1 $FI: [$icg]; inside, not at a root: [$inside]" \
		eval '[ $xrc -eq 0 ] && [ -n "$xp" ] && [ "$xcg" = "$icg" ] &&
			case " $xcg" in *" $CGNAME:/m-docker/$f "*) true ;; *) false ;; esac && [ -z "$inside" ]'

	rm -f /tmp/cdone
	(while [ ! -e /tmp/cdone ]; do cat "$(cgf "$f" freezer "$FREEZER")"; done) >/tmp/samples 2>&1 &
	S=$!
	cout=$(mdk commit "$f" snap:1 2>/tmp/cerr)
	crc=$?
	: >/tmp/cdone
	wait $S
	fz=$(cat "$(cgf "$f" freezer "$FREEZER")" 2>&1)
	# v2 also says so in cgroup.events.
	ev=$(grep frozen "$(cgf "$f" freezer cgroup.events)" 2>/dev/null)
	# (v1's freezer cgroup is made by the commit.)
	seen=$(grep -v 'No such file' /tmp/samples | sort -u | tr '\n' ' ')
	groot=$(mdk overlay-up -i snap:1 "${V}g" 2>&1)
	gout=$(mdk run --id "${V}g" "$groot" sh -c 'cat /x; wc -c </big' 2>&1 | tr '\n' ' ')
	mdk overlay-down "${V}g" >/dev/null 2>&1
	alive=$(gone "$MON" || echo yes)
	kill "$MON" 2>/dev/null
	wait_for gone "$MON"
	mdk overlay-down "$f" >/dev/null 2>&1
	mdk image rm snap:1 >/dev/null 2>&1
	check commit-frozen "rc=$crc out=$cout stderr=[$(cat /tmp/cerr)] $FREEZER seen: [$seen] after: $fz ($ev); monitor alive after: $alive; the image: [$gout] left=[$(dirs_of "$f")]" \
		eval '[ $crc -eq 0 ] && [ -z "$(cat /tmp/cerr)" ] && case " $seen " in *" $FROZEN "*) true ;; *) false ;; esac &&
			[ "$fz" = "$THAWED" ] && { [ $V = v1 ] || [ "$ev" = "frozen 0" ]; } && [ "$alive" = yes ] &&
			[ "$gout" = "x 20000000 " ] && nothing_of "$f"'
}

# Each of the above, in order (the overlay's layer is the detached one's).
checks_both() {
	checks_oom
	checks_etc_files
	checks_cpuset_affinity
	checks_cpu
	checks_pids_bomb
	checks_kernel_refused
	checks_dup_id
	checks_prune_rm
	checks_overlay
	checks_detached
}

# oci_bundle RESOURCES <SCRIPT: B=/tmp/ob, a bundle of mdk-oci spec on $R
# that runs SCRIPT (as /oci.sh) without a terminal, its root writable,
# CAP_MKNOD given and RESOURCES (JSON members) in linux.resources; OR, the
# state root for it.
oci_bundle() {
	B=/tmp/ob OR=/run/oci
	mkdir -p $B
	ln -s $R $B/rootfs
	(cd $B && mdk oci spec)
	cat >$R/oci.sh
	sed -i -e 's/"terminal": true/"terminal": false/' -e 's/"readonly": true/"readonly": false/' \
		-e 's|^\( *\)"sh"$|\1"sh", "/oci.sh"|' \
		-e 's|"CAP_KILL",|"CAP_KILL", "CAP_MKNOD",|' \
		-e "s|\"resources\": {|\"resources\": {$1,|" $B/config.json
}

checks_no_leftovers() {
	left=$(for _d in $CG_PARENTS; do [ ! -d "$_d" ] || find "$_d" -mindepth 1 -type d; done 2>&1)
	check no-leftovers "left under m-docker: $left" eval '[ -z "$left" ]'
}
