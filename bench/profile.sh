#!/bin/sh
# bench/profile.sh: where the time of `mdk run` and `m-docker run` goes (as
# root, after ./build.sh; about two minutes). Not part of bench/run.sh: this
# is what bench/RESULTS.md's profile section was made with.
#
#  1. ablations with hyperfine: mdk run with the steps its own flags can
#     skip (--net host, --privileged, --no-init), against the
#     unshare+chroot floor with and without a network namespace, and the
#     cost of a bare exec of mdk and of /bin/true;
#  2. m-docker run taken apart: each process it starts, timed alone, and
#     the count of fork/exec (strace -f);
#  3. in-kernel syscall time per `mdk run`, by process, with bpftrace
#     (installed from Debian if missing; needs a cgroup2 hierarchy to tell
#     our processes from everyone else's, which a hybrid host has).
#
# Everything runs in a private tmpfs; cgroups are named mdkb-prof*. All of
# it is removed on exit.
set -eu

PATH=$PATH:/usr/sbin:/sbin
export PATH
top=$(cd "$(dirname "$0")/.." && pwd)
MDK=$top/build/mdk
IMG=$top/build/images/busybox.tar
W=
CG2=

log() { printf 'profile: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

[ "$(id -u)" -eq 0 ] || die "must run as root"
if [ ! -x "$MDK" ] || [ ! -f "$IMG" ]; then die "build first: ./build.sh"; fi
case $top in *[!A-Za-z0-9/._-]*) die "path '$top' has characters the profile does not quote" ;; esac
for c in hyperfine strace python3 unshare; do
	command -v "$c" >/dev/null 2>&1 || die "missing $c (bench/run.sh installs it)"
done

cleanup() {
	rc=$?
	trap '' INT TERM HUP
	trap - EXIT
	if [ -n "$W" ] && [ -d "$W" ]; then
		awk -v p="$W" '$5 == p || index($5, p "/") == 1 { print $5 }' /proc/self/mountinfo | sort -r |
			while IFS= read -r m; do umount "$m" 2>/dev/null || umount -l "$m"; done
		rmdir "$W" || log "$W not empty: left in place"
	fi
	find /sys/fs/cgroup -mindepth 1 -maxdepth 2 -type d -name 'mdkb-prof*' 2>/dev/null |
		while IFS= read -r d; do find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null || log "cannot remove $d"; done
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

W=$(mktemp -d "${TMPDIR:-/tmp}/mdk-prof.XXXXXX")
mount -t tmpfs -o size=256m,mode=0700 mdk-prof "$W"
export MDK_ROOT="$W/root" MDK_CGROUP_PARENT=mdkb-prof
LAYER=$("$MDK" unpack -q -R "$MDK_ROOT" "$IMG")
R=$W/rootfs
cp -a "$LAYER" "$R"
"$top/scripts/m-docker" run busybox /bin/true

# med JSON: "name  median  (min)" per command of a hyperfine export.
med() {
	python3 - "$1" <<'EOF'
import json, sys
for r in json.load(open(sys.argv[1]))["results"]:
    print(f"  {r['command']:<34} median {r['median'] * 1000:7.2f} ms   min {r['min'] * 1000:7.2f} ms")
EOF
}

echo "## 1. mdk run ablations (hyperfine -N, 300 runs each; load: $(cut -d' ' -f1-3 /proc/loadavg))"
hyperfine -N -w 10 -r 300 --style none --export-json "$W/abl.json" \
	-n "mdk run" "$MDK run $R /bin/true" \
	-n "mdk run --net host" "$MDK run --net host $R /bin/true" \
	-n "mdk run --privileged" "$MDK run --privileged $R /bin/true" \
	-n "mdk run --no-init" "$MDK run --no-init $R /bin/true" \
	-n "mdk run (all three)" "$MDK run --net host --privileged --no-init $R /bin/true" \
	-n "unshare -mpuin --fork chroot" "unshare -m -p -u -i -n --fork chroot $R /bin/true" \
	-n "unshare -mpui --fork chroot" "unshare -m -p -u -i --fork chroot $R /bin/true" \
	-n "mdk check name x (bare exec)" "$MDK check name x" \
	-n "/bin/true (bare exec)" "/bin/true" >/dev/null
med "$W/abl.json"

echo
echo "## 2. m-docker run, taken apart (hyperfine -N, 100 runs each)"
"$MDK" overlay-up -R "$MDK_ROOT" -l busybox mdkb-keep >/dev/null
# -i: the `ls` probe fails in m-docker too (no image in ROOT/images: the
# built-in one is used).
hyperfine -N -i -w 5 -r 100 --style none --export-json "$W/md.json" \
	-n "m-docker run busybox /bin/true" "$top/scripts/m-docker run busybox /bin/true" \
	-n "sh -c : (a shell)" "sh -c :" \
	-n "sh: \$(cd \$(dirname ..) && pwd)" "sh -c 'x=\$(cd \"\$(dirname $top/scripts/m-docker)\" && pwd)'" \
	-n "sh: od | tr (new_id)" "sh -c 'od -An -N6 -tx1 /dev/urandom | tr -d \" \\n\" >/dev/null'" \
	-n "mdk check name" "$MDK check name abcdef" \
	-n "ls ROOT/images/busybox.*" "ls $MDK_ROOT/images/busybox.tar" \
	-n "mdk unpack (cached)" "$MDK unpack -R $MDK_ROOT -n busybox $IMG" \
	-n "sh: overlay-up && overlay-down" "sh -c '$MDK overlay-up -R $MDK_ROOT -l busybox mdkb-o >/dev/null && $MDK overlay-down -R $MDK_ROOT mdkb-o'" \
	-n "mdk run on the overlay" "$MDK run --die-with-parent --id mdkb-r $MDK_ROOT/rootfs/mdkb-keep /bin/true" \
	-n "cat /proc/PID/stat" "cat /proc/self/stat" \
	-n "date +%s" "date +%s" \
	-n "mv (run record)" "mv $W/nonexistent $W/x" >/dev/null
"$MDK" overlay-down -R "$MDK_ROOT" mdkb-keep
med "$W/md.json"
strace -f -qq -z -e trace=execve,fork,vfork,clone,clone3 -e signal=none -o "$W/st" \
	"$top/scripts/m-docker" run busybox /bin/true
printf '  strace -f: %s execve (%s of them dynamic host tools), %s fork/clone\n' \
	"$(grep -c "execve(" "$W/st")" \
	"$(grep -cE 'execve\("/usr/bin/' "$W/st")" \
	"$(grep -cE '(fork|clone3?)\(' "$W/st")"
grep 'execve(' "$W/st" | grep -v ENOENT | sed -n 's/.*execve("\([^"]*\)".*/    \1/p'

echo
echo "## 3. in-kernel syscall time per mdk run (bpftrace, 300 runs)"
for d in /sys/fs/cgroup/unified /sys/fs/cgroup; do
	if [ "$(stat -f -c %T "$d" 2>/dev/null || :)" = cgroup2fs ]; then CG2=$d; break; fi
done
if [ "$CG2" != /sys/fs/cgroup/unified ]; then
	# On a pure v2 host mdk moves the container out of our cgroup.
	echo "  skipped: needs a hybrid host (cgroup2 at /sys/fs/cgroup/unified) to single out our processes"
	exit 0
fi
if ! command -v bpftrace >/dev/null 2>&1; then
	log "installing bpftrace"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends bpftrace >/dev/null
fi
mkdir "$CG2/mdkb-prof-loop"
# Role of each process: 0 mdk-run, 1 its child (PID 1 of the container),
# 2 the command (/bin/true); the loop's shell forks mdk-run (its own
# syscalls are not counted).
cat >"$W/agg.bt" <<EOF
tracepoint:sched:sched_process_fork
/cgroup == cgroupid("$CG2/mdkb-prof-loop")/
{
	@mine[args->child_pid] = 1;
	if (comm != "sh") {
		@role[args->child_pid] = @role[args->parent_pid] + 1;
	}
}
tracepoint:raw_syscalls:sys_enter
/@mine[pid]/
{
	@start[tid] = nsecs;
	@id[tid] = args->id;
}
tracepoint:raw_syscalls:sys_exit
/@start[tid]/
{
	@us[@role[pid], @id[tid]] = sum((nsecs - @start[tid]) / 1000);
	@n[@role[pid], @id[tid]] = count();
	delete(@start[tid]);
	delete(@id[tid]);
}
tracepoint:sched:sched_process_exit
/@mine[pid]/
{
	delete(@role[pid]);
	delete(@mine[pid]);
}
EOF
cat >"$W/loop.sh" <<EOF
echo \$\$ >$CG2/mdkb-prof-loop/cgroup.procs
i=0
while [ \$i -lt 300 ]; do i=\$((i + 1)); $MDK run $R /bin/true; done
EOF
bpftrace "$W/agg.bt" -c "/bin/sh $W/loop.sh" >"$W/agg.txt" 2>"$W/agg.err" ||
	{ cat "$W/agg.err" >&2; die "bpftrace failed"; }
python3 - "$W/agg.txt" <<'EOF'
import re, sys
names = {}
for hdr in ("/usr/include/x86_64-linux-gnu/asm/unistd_64.h", "/usr/include/asm/unistd_64.h"):
    try:
        for l in open(hdr):
            m = re.match(r"#define __NR_(\w+) (\d+)", l)
            if m:
                names[int(m.group(2))] = m.group(1)
        break
    except OSError:
        pass
us, n = {}, {}
for l in open(sys.argv[1]):
    m = re.match(r"@(us|n)\[(\d+), (\d+)\]: (\d+)", l)
    if m:
        key = (int(m.group(2)), names.get(int(m.group(3)), m.group(3)))
        (us if m.group(1) == "us" else n)[key] = int(m.group(4))
role = {0: "mdk-run (from the fork: exec, re-exec)", 1: "container PID 1 (setup, then mdk-init)", 2: "the command (/bin/true)"}
# Blocking on the other process, not work: mdk-run waits for setup (recvmsg)
# and the exit (poll); PID 1 waits for "go" (its read) and for the command
# (rt_sigtimedwait).
waits = {(0, "recvmsg"), (0, "poll"), (0, "wait4"), (1, "rt_sigtimedwait"), (1, "wait4"), (1, "read")}
N = 300
print("  per run, microseconds in the kernel; (wait) = blocked on the other process")
tot = 0
for (r, s), v in sorted(us.items(), key=lambda kv: -kv[1]):
    if r not in role or v / N < 5:
        continue
    w = (r, s) in waits
    if not w:
        tot += v / N
    print(f"  {v / N:8.1f} us  {n[(r, s)] / N:5.1f}x  {s:<16} {role[r]}{'  (wait)' if w else ''}")
print(f"  {tot:8.1f} us  total, waits excluded")
EOF
