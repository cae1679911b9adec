#!/bin/sh
# bench/run.sh: mdk against its peers, side by side, in one run (as root).
#
#   sudo bench/run.sh              (also what `./build.sh bench` dispatches to)
#
# It runs ./build.sh first, so the tree as it is gets measured. About eight
# minutes; the first run adds a debootstrap and an OCI image (a few minutes,
# cached).
#
# Everything it mounts lives under $TMPDIR (default /tmp): where other work
# watches the host's mount table, point TMPDIR at a directory that work
# ignores (the test suite ignores /tmp/mdk-tests.*):
#
#   sudo mkdir -p /tmp/mdk-tests.bench && sudo TMPDIR=/tmp/mdk-tests.bench bench/run.sh
#
# Installs what it needs from Debian (hyperfine crun runc podman bubblewrap
# libarchive-tools debootstrap time python3 musl-tools umoci skopeo), builds its fixtures
# in a private tmpfs, measures with hyperfine (--export-json, parsed by
# bench/report.py) and prints the machine, the tool versions and ONE markdown
# table (ratios are ours / peer), then the targets, met or missed. Progress
# and hyperfine's own output go to stderr.
#
# Fixtures: a busybox rootfs (build/images/busybox.tar unpacked by mdk), OCI
# bundles for crun and runc made with `crun spec` / `runc spec`, the image
# imported into a private podman store; a Debian minbase tar, built once with
# debootstrap from this machine's own Debian mirror (apt's configuration;
# $MDK_BENCH_MIRROR overrides), and the same tree as a 3-layer OCI archive
# with gzip layers (umoci, skopeo), both cached in build/bench
# ($MDK_BENCH_CACHE); the busybox rootfs as a 1-layer and a 5-layer OCI
# image, made each run.
#
# Everything it makes (the tmpfs and every mount under it, containers:
# runc's, crun's, mdk-oci's, podman's and m-docker's detached ones with their
# monitors, cgroups named mdkb-*, podman's store) is removed on exit, also on
# failure or Ctrl-C. MDK_BENCH_KEEP=DIR keeps the raw hyperfine JSON in DIR.
#
# MDK_BENCH_GROUPS="15 16" measures only those groups (the numbers of the
# comments below and of the report's sections); the fixtures are made all the
# same, and the report has those sections and their targets only.
#
# Hybrid cgroup hosts (cgroup2 at /sys/fs/cgroup/unified): crun 1.8 refuses
# them ("cgroups in hybrid mode not supported"), so crun (and podman, which
# runs crun) runs as `unshare -m sh -c 'umount .../unified; exec crun ...'`.
# That wrapper is measured alone too and its median subtracted: the "net"
# rows. mdk, runc, bwrap run unwrapped.
set -eu

PATH=$PATH:/usr/sbin:/sbin
export PATH
top=$(cd "$(dirname "$0")/.." && pwd)
here=$top/bench
MDK=$top/build/mdk
IMG=$top/build/images/busybox.tar
CACHE=${MDK_BENCH_CACHE:-$top/build/bench}
DEBTAR=$CACHE/debian.tar
OCITAR=$CACHE/debian3.oci.tar
UNIFIED=/sys/fs/cgroup/unified
W=
HYBRID=

log() { printf 'bench: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

[ "$(id -u)" -eq 0 ] || die "must run as root (it mounts, makes cgroups and containers, installs packages)"
case ${MDK_BENCH_GROUPS:-} in *[!0-9\ ]*) die "MDK_BENCH_GROUPS: group numbers, separated by spaces" ;; esac
# want N: group N is measured (every group without MDK_BENCH_GROUPS).
want() {
	[ -z "${MDK_BENCH_GROUPS:-}" ] && return 0
	case " $MDK_BENCH_GROUPS " in *" $1 "*) return 0 ;; esac
	return 1
}
# Paths end up inside command strings for hyperfine: keep them plain.
for p in "$top" "$CACHE" "${TMPDIR:-/tmp}"; do
	case $p in *[!A-Za-z0-9/._-]*) die "path '$p' has characters the bench does not quote" ;; esac
done

# --- packages ----------------------------------------------------------------
need_pkgs() {
	missing=
	for spec in hyperfine:hyperfine crun:crun runc:runc podman:podman bwrap:bubblewrap \
		bsdtar:libarchive-tools debootstrap:debootstrap /usr/bin/time:time python3:python3 \
		musl-gcc:musl-tools unshare:util-linux umoci:umoci skopeo:skopeo; do
		command -v "${spec%%:*}" >/dev/null 2>&1 || missing="$missing ${spec#*:}"
	done
	[ -z "$missing" ] && return 0
	log "installing:$missing"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	# shellcheck disable=SC2086
	apt-get install -y -qq --no-install-recommends $missing >/dev/null
}

# --- cleanup -----------------------------------------------------------------
# wrap CMD...: run CMD where crun works (see the header).
wrap() {
	if [ -n "$HYBRID" ]; then
		# shellcheck disable=SC2016 # $0 and $@ are the inner shell's
		unshare -m sh -c 'umount "$0" && exec "$@"' "$UNIFIED" "$@"
	else
		"$@"
	fi
}

# Mount points at or below $1, deepest first.
mounts_under() {
	awk -v p="$1" '$5 == p || index($5, p "/") == 1 { print $5 }' /proc/self/mountinfo | sort -r
}

remove_cgroups() {
	find /sys/fs/cgroup -mindepth 1 -maxdepth 2 -type d -name 'mdkb-*' 2>/dev/null |
		while IFS= read -r top_cg; do
			find "$top_cg" -depth -type d | while IFS= read -r cg; do
				i=0
				while [ -d "$cg" ] && ! rmdir "$cg" 2>/dev/null; do
					# shellcheck disable=SC2046
					kill -KILL $(cat "$cg/cgroup.procs" 2>/dev/null) 2>/dev/null || :
					i=$((i + 1))
					[ $i -lt 50 ] || { log "cannot remove cgroup $cg"; break; }
					sleep 0.1
				done
			done
		done
}

cleanup() {
	rc=$?
	trap '' INT TERM HUP
	trap - EXIT
	log "cleaning up"
	for id in $(runc list -q 2>/dev/null | grep '^mdkb-' || :); do
		runc delete -f "$id" >/dev/null 2>&1 || log "runc delete -f $id failed"
	done
	for d in /run/crun/mdkb-*; do
		[ -e "$d" ] || continue
		wrap crun delete -f "${d##*/}" >/dev/null 2>&1 || log "crun delete -f ${d##*/} failed"
	done
	# Row 15's containers: each runtime's state root is on the tmpfs.
	if [ -n "$W" ] && [ -d "$W/oci-root" ]; then
		for d in "$W"/oci-root/*/mdkb-*; do
			[ -e "$d" ] || continue
			st=${d%/*}
			case ${st##*/} in
			mdk-oci) "$MDKOCI" --root "$st" delete -f "${d##*/}" ;;
			crun) wrap crun --root "$st" delete -f "${d##*/}" ;;
			runc) runc --root "$st" delete -f "${d##*/}" ;;
			esac >/dev/null 2>&1 || log "${st##*/} delete -f ${d##*/} failed"
		done
	fi
	# m-docker's containers (rows 10-12: detached ones, whose monitors hold
	# files on the tmpfs): every one in the bench's data root is ours.
	if [ -n "$MDOCKER" ] && [ -d "$MDK_ROOT/layers" ]; then
		ids=$("$MDOCKER" ps -a -q) || log "m-docker ps -a failed"
		# shellcheck disable=SC2086 # IDs, one word each
		[ -z "$ids" ] || "$MDOCKER" rm -f $ids >/dev/null || log "m-docker rm -f failed"
	fi
	if [ -n "$W" ] && [ -d "$W/podman" ]; then
		# shellcheck disable=SC2086 # a command line
		wrap $PODMAN rm -a -f -t 0 >/dev/null 2>&1 || :
		# shellcheck disable=SC2086
		$PODMAN rmi -a -f >/dev/null 2>&1 || :
	fi
	if [ -n "$W" ] && [ -d "$W" ]; then
		for m in $(mounts_under "$W"); do
			umount "$m" 2>/dev/null || umount -l "$m" || log "cannot unmount $m"
		done
	fi
	remove_cgroups
	[ -n "$W" ] && [ -d "$W" ] && { rmdir "$W" || log "$W not empty after unmount: left in place"; }
	rm -f "$DEBTAR.tmp" "$OCITAR.tmp"
	# What podman makes outside its --root/--runroot/--tmpdir, if it was not there before.
	[ -n "$had_cache" ] || rm -rf /var/lib/containers/cache
	[ -n "$had_containers" ] || rmdir /var/lib/containers 2>/dev/null || :
	# mdk-oci's default state root (podman's, row 16), left empty.
	[ -n "$had_mdkoci" ] || rmdir /run/mdk-oci 2>/dev/null || :
	exit "$rc"
}
had_cache=x had_containers=x had_mdkoci=x
[ -e /var/lib/containers/cache ] || had_cache=
[ -e /var/lib/containers ] || had_containers=
[ -e /run/mdk-oci ] || had_mdkoci=
PODMAN=: MDOCKER=
MDKOCI=
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# --- fixtures ----------------------------------------------------------------
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
need_pkgs
# Measure the tree as it is: build first (seconds when nothing changed).
"$top/build.sh" >&2
if [ "$(stat -f -c %T "$UNIFIED" 2>/dev/null || :)" = cgroup2fs ] &&
	[ "$(stat -f -c %T /sys/fs/cgroup)" = tmpfs ]; then
	HYBRID=1
fi
# Leftovers of a killed earlier run (ours by name) would skew or break it.
remove_cgroups

W=$(mktemp -d "${TMPDIR:-/tmp}/mdk-bench.XXXXXX")
mount -t tmpfs -o size=3g,mode=0700 mdk-bench "$W"
mkdir "$W/out" "$W/u" "$W/ovl" "$W/ld"
export MDK_ROOT="$W/mdk" MDK_CGROUP_PARENT=mdkb-mdk

# This machine's own Debian mirror for bookworm: the URI of apt's deb entry.
debian_mirror() {
	# shellcheck disable=SC2016 # apt-get's own $(...) fields
	apt-get indextargets --format '$(REPO_URI) $(RELEASE) $(TARGET_OF)' 2>/dev/null |
		awk '$2 == "bookworm" && $3 == "deb" { print $1; exit }'
}
mkdir -p "$CACHE"
if [ ! -f "$DEBTAR" ]; then
	mirror=${MDK_BENCH_MIRROR:-$(debian_mirror)}
	[ -n "$mirror" ] || die "no Debian bookworm mirror in apt's configuration: set MDK_BENCH_MIRROR"
	log "making $DEBTAR: debootstrap --variant=minbase bookworm from $mirror (a few minutes, once)"
	# On the tmpfs: debootstrap's own mounts (proc, sys) stay under $TMPDIR.
	debootstrap --variant=minbase bookworm "$W/deb" "$mirror" >&2
	tar --numeric-owner -C "$W/deb" -cpf "$DEBTAR.tmp" .
	mv "$DEBTAR.tmp" "$DEBTAR"
	rm -rf "$W/deb"
fi
# oci_image LAYOUT TAG DIR TAR...: an OCI layout with the layer tars TAR...
# (gzip, as umoci writes them), DIR's tree cut into them.
oci_image() {
	lay=$1 tag=$2
	umoci init --layout "$lay"
	umoci new --image "$lay:$tag"
	shift 2
	for l in "$@"; do
		umoci raw add-layer --image "$lay:$tag" "$l"
	done
	umoci config --image "$lay:$tag" --config.cmd /bin/sh
	umoci gc --layout "$lay"
}
if [ ! -f "$OCITAR" ]; then
	log "making $OCITAR: the Debian tar as 3 gzip layers (umoci, skopeo; once)"
	o=$W/mkoci
	mkdir -p "$o/root"
	tar -C "$o/root" -xpf "$DEBTAR"
	# Bottom to top: the system without /var and /etc; /var (apt's lists
	# and caches); /etc.
	tar --numeric-owner -C "$o/root" -cpf "$o/1.tar" --exclude=./var --exclude=./etc .
	tar --numeric-owner -C "$o/root" -cpf "$o/2.tar" ./var
	tar --numeric-owner -C "$o/root" -cpf "$o/3.tar" ./etc
	rm -rf "$o/root"
	oci_image "$o/img" debian "$o/1.tar" "$o/2.tar" "$o/3.tar" >&2
	skopeo --insecure-policy copy -q "oci:$o/img:debian" "oci-archive:$OCITAR.tmp:debian" >&2
	mv "$OCITAR.tmp" "$OCITAR"
	rm -rf "$o"
fi

log "fixtures in $W (tmpfs)"
# A snapshot of what is measured (binary, scripts, image): a rebuild of the
# tree while the bench runs cannot change it under us.
mkdir "$W/bin" "$W/scripts" "$W/images"
cp "$MDK" "$W/bin/mdk"
ln -s mdk "$W/bin/mdk-oci"
cp "$top/scripts/m-docker" "$top/scripts/mkimage" "$W/scripts/"
cp "$IMG" "$W/images/"
MDK=$W/bin/mdk
IMG=$W/images/busybox.tar
MDOCKER=$W/scripts/m-docker
MDKOCI=$W/bin/mdk-oci
export MDK MDK_IMAGES="$W/images"
# The busybox layer (also m-docker's image), and a copy of it as the plain
# rootfs that row 1's runtimes all share.
LAYER=$("$MDK" unpack -q -R "$MDK_ROOT" "$IMG")
ROOTFS=$W/rootfs
cp -a "$LAYER" "$ROOTFS"
# OCI bundles from each runtime's own `spec`: no terminal, /bin/true, the
# rootfs read-write like mdk's, and mdk's namespaces (pid, mount, uts, ipc,
# network, plus cgroup).
# `crun spec` has no seccomp filter; crun-sc's bundle (row 7) gets podman's
# default profile, docker's policy (from containers-common, which podman
# brings), in OCI form: the rules for this architecture and for
# capabilities the bundle does not have left out.
for rt in crun runc crun-sc; do
	mkdir "$W/$rt"
	(cd "$W/$rt" && "${rt%-sc}" spec)
	python3 - "$W/$rt/config.json" "$ROOTFS" "$rt" <<'EOF'
import json, sys
path, rootfs, rt = sys.argv[1], sys.argv[2], sys.argv[3]
c = json.load(open(path))
if rt == "crun-sc":
    p = json.load(open("/usr/share/containers/seccomp.json"))
    rules = []
    for r in p["syscalls"]:
        inc = r.get("includes", {})
        if inc.get("caps") or ("arches" in inc and "amd64" not in inc["arches"]):
            continue
        rules.append({k: r[k] for k in ("names", "action", "args", "errnoRet") if k in r})
    c["linux"]["seccomp"] = {"defaultAction": p["defaultAction"], "defaultErrnoRet": p.get("defaultErrnoRet", 1),
                             "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
                             "syscalls": rules}
c["process"]["terminal"] = False
c["process"]["args"] = ["/bin/true"]
c["root"] = {"path": rootfs, "readonly": False}
want = ["pid", "mount", "uts", "ipc", "network", "cgroup"]
c["linux"]["namespaces"] = [{"type": t} for t in want]
json.dump(c, open(path, "w"), indent=1)
EOF
done
# Row 11's runc container: runc's bundle with `sleep 1000`, to exec into.
mkdir "$W/runc-d"
python3 -c 'import json, sys
c = json.load(open(sys.argv[1]))
c["process"]["args"] = ["/bin/sleep", "1000"]
json.dump(c, open(sys.argv[2], "w"), indent=1)' "$W/runc/config.json" "$W/runc-d/config.json"
# The static C floors of overlay up + down, and of mdk-run's re-exec.
musl-gcc -static -Os -o "$W/ovl-pair" "$here/ovl-pair.c"
musl-gcc -static -O2 -o "$W/exe-pair" "$here/exe-pair.c" -lm
# podman: a private store, the image imported from the same tar.
mkdir -p "$W/podman/tmp"
PODMAN="podman --root $W/podman/root --runroot $W/podman/run --tmpdir $W/podman/tmp --cgroup-manager cgroupfs --events-backend none --storage-driver overlay"
$PODMAN import -q "$IMG" mdkb-busybox >/dev/null
# The cached unpack's data root, and m-docker's image unpacked once.
"$MDK" unpack -q -R "$W/u/c" -n debian "$DEBTAR" >/dev/null
"$MDOCKER" run busybox /bin/true
# Row 8: the OCI archive's layout as a directory, for umoci (which reads
# no archive).
mkdir "$W/ld/layout"
tar -C "$W/ld/layout" -xf "$OCITAR"
# Row 9: the busybox rootfs as a 1-layer and as a 5-layer image, the same
# tree: its entries in pre-order (a directory before what it holds), cut
# into 5 runs; loaded into m-docker's store as mdkb-l1 and mdkb-l5.
b=$W/bb
mkdir -p "$b/root"
tar -C "$b/root" -xpf "$IMG"
(cd "$b/root" && find . | LC_ALL=C sort) >"$b/list"
n=$(wc -l <"$b/list")
tar --numeric-owner --no-recursion -C "$b/root" -cpf "$b/all.tar" -T "$b/list"
for i in 1 2 3 4 5; do
	awk -v i=$i -v n="$n" 'NR > (i - 1) * n / 5 && NR <= i * n / 5' "$b/list" >"$b/list$i"
	tar --numeric-owner --no-recursion -C "$b/root" -cpf "$b/$i.tar" -T "$b/list$i"
done
oci_image "$b/l1" l1 "$b/all.tar" >&2
oci_image "$b/l5" l5 "$b/1.tar" "$b/2.tar" "$b/3.tar" "$b/4.tar" "$b/5.tar" >&2
"$MDK" load -q -R "$MDK_ROOT" -t mdkb-l1 "$b/l1" >/dev/null
"$MDK" load -q -R "$MDK_ROOT" -t mdkb-l5 "$b/l5" >/dev/null
rm -rf "$b"
"$MDOCKER" run mdkb-l1 /bin/true
"$MDOCKER" run mdkb-l5 /bin/true

# The commands. crunw CMD: CMD as a string for hyperfine, wrapped if needed.
if [ -n "$HYBRID" ]; then
	crunw() { printf "unshare -m sh -c 'umount %s; exec %s'" "$UNIFIED" "$1"; }
	# $$ of the wrapper's shell: a unique container id per run.
	CRUN=$(crunw "crun run -b $W/crun mdkb-c\$\$")
	CRUN_SC=$(crunw "crun run -b $W/crun-sc mdkb-s\$\$")
	WRAPPER=$(crunw true)
else
	crunw() { printf '%s' "$1"; }
	CRUN="crun run -b $W/crun mdkb-crun"
	CRUN_SC="crun run -b $W/crun-sc mdkb-crun-sc"
	WRAPPER=
fi
RUN_TRUE="run --rm --network none --cgroup-parent /mdkb-podman --ulimit nofile=1024:1024 --ulimit nproc=4096:4096 mdkb-busybox /bin/true"
PODMAN_RUN=$(crunw "$PODMAN $RUN_TRUE")

# hf GROUP ROUNDS RUNS WARMUP ARGS...: hyperfine (no shell) ROUNDS times with
# RUNS runs of each command per round, so that load drifting while the bench
# runs (other work on the machine) hits all commands alike; report.py merges
# the rounds. At nice -10: other work on the machine disturbs less.
hf() {
	g=$1 rounds=$2 runs=$3 warm=$4
	shift 4
	want "${g#g}" || return 0
	i=0
	while [ "$i" -lt "$rounds" ]; do
		i=$((i + 1))
		log "measuring: $g, round $i/$rounds"
		nice -n -10 hyperfine -N --style basic -w "$warm" -r "$runs" \
			--export-json "$W/out/$g.$i.json" "$@" >&2
	done
}

# 1. start to exit of /bin/true. runc deletes its container on exit, and
# hyperfine runs one at a time: one id serves (a leftover would fail the run).
set -- -n mdk-run "$MDK run $ROOTFS /bin/true" -n crun "$CRUN"
[ -z "$WRAPPER" ] || set -- "$@" -n wrapper "$WRAPPER"
hf g1 8 25 5 "$@" \
	-n runc "runc run -b $W/runc mdkb-runc" \
	-n bwrap "bwrap --unshare-all --bind $ROOTFS / --proc /proc --dev /dev /bin/true" \
	-n chroot "unshare -m -p -u -i -n --fork chroot $ROOTFS /bin/true"

# 2. the whole flow
set -- -n m-docker "$MDOCKER run busybox /bin/true" -n podman "$PODMAN_RUN" -n crun "$CRUN"
[ -z "$WRAPPER" ] || set -- "$@" -n wrapper "$WRAPPER"
hf g2 8 5 1 "$@"

# 3. unpack, each run into a fresh directory on the tmpfs
hf g3 5 2 1 \
	--prepare "sh -c 'rm -rf $W/u/m'" -n mdk-unpack "$MDK unpack -q -R $W/u/m -n debian $DEBTAR" \
	--prepare "sh -c 'rm -rf $W/u/g && mkdir $W/u/g'" -n gnu-tar "tar -C $W/u/g -xpf $DEBTAR" \
	--prepare "sh -c 'rm -rf $W/u/b && mkdir $W/u/b'" -n bsdtar "bsdtar -C $W/u/b -xpf $DEBTAR" \
	--prepare true -n mdk-cached "$MDK unpack -q -R $W/u/c -n debian $DEBTAR"
rm -rf "$W/u"

# 4. overlay up + down
s=$W/ovl/s
hf g4 8 25 5 \
	-n mdk-ovl "sh -c '$MDK overlay-up -R $MDK_ROOT -l busybox mdkb-ovl >/dev/null && $MDK overlay-down -R $MDK_ROOT mdkb-ovl'" \
	-n c-ovl "$W/ovl-pair $LAYER $W/ovl/c" \
	-n sh-ovl "sh -c 'mkdir -p $s/upper $s/work $s/target && mount -t overlay -o nodev,lowerdir=$LAYER,upperdir=$s/upper,workdir=$s/work overlay $s/target && umount $s/target && rm -rf $s'"

# 5. throughput
b=$here/batch.sh
hf g5 5 2 1 \
	-n mdk-seq "sh $b seq 64 mdk $MDK $ROOTFS" \
	-n crun-seq "$(crunw "sh $b seq 64 crun $W/crun")" \
	-n mdk-par "sh $b par 16 mdk $MDK $ROOTFS" \
	-n crun-par "$(crunw "sh $b par 16 crun $W/crun")"

# 7. what the protections cost (issue 13): seccomp, as mdk's default
# against --no-seccomp and crun's bundle with docker's policy against
# crun's own (none).
set -- -n mdk-run "$MDK run $ROOTFS /bin/true" -n mdk-noseccomp "$MDK run --no-seccomp $ROOTFS /bin/true" \
	-n crun-seccomp "$CRUN_SC" -n crun "$CRUN"
[ -z "$WRAPPER" ] || set -- "$@" -n wrapper "$WRAPPER"
hf g7 8 25 5 "$@"
# The runtime's binary out of the container's reach (CVE-2019-5736): no
# run-time switch turns it off in mdk or crun, so bench/exe-pair.c measures
# it in one process, thousands of fork..wait runs interleaved: the
# mechanisms alone on mdk's binary (floor), then each runtime as it is
# against the same runtime started already protected, which skips its own
# re-exec (mdk: from a read-only mount with its marker; crun: the same
# with runc's _LIBCONTAINER_CLONED_BINARY, as its cloned_binary.c allows).
if want 7; then
	log "measuring: re-exec protections (exe-pair)"
	u=
	[ -z "$HYBRID" ] || u="-u $UNIFIED"
	nice -n -10 "$W/exe-pair" floor 2000 "$MDK" >"$W/out/exe-floor.txt"
	nice -n -10 "$W/exe-pair" runtime 600 mdk "$MDK" run "$ROOTFS" /bin/true >"$W/out/exe-mdk.txt"
	# shellcheck disable=SC2086 # $u: an option and its argument, or nothing
	nice -n -10 "$W/exe-pair" runtime $u 600 crun "$(command -v crun)" run -b "$W/crun" mdkb-pair >"$W/out/exe-crun.txt"
fi

# 8. load + unpack of a 3-layer Debian OCI archive (gzip layers), each run
# into a fresh data root, directory or store on the tmpfs (the removal is
# hyperfine's --prepare, not timed). podman's temporary files (the archive
# extracted) go to the tmpfs too.
P="podman --root $W/ld/p/root --runroot $W/ld/p/run --tmpdir $W/ld/p/tmp --cgroup-manager cgroupfs --events-backend none --storage-driver overlay"
hf g8 4 2 0 \
	--prepare "rm -rf $W/ld/m" -n mdk-load "$MDK load -q -R $W/ld/m $OCITAR" \
	--prepare "rm -rf $W/ld/d" -n mdk-load-dir "$MDK load -q -R $W/ld/d $W/ld/layout" \
	--prepare "rm -rf $W/ld/u" -n umoci "umoci unpack --image $W/ld/layout:debian $W/ld/u" \
	--prepare "rm -rf $W/ld/r" -n umoci-raw "umoci raw unpack --image $W/ld/layout:debian $W/ld/r" \
	--prepare "sh -c 'rm -rf $W/ld/p $W/ld/pt && mkdir $W/ld/pt'" -n podman-load "env TMPDIR=$W/ld/pt $P load -q -i $OCITAR"
rm -rf "$W/ld"

# 9. the whole run of an image of 5 layers against one of 1, the same tree,
# and the part that differs (overlay up + down), each pair back to back in
# one process (exe-pair cmp): a difference of a fraction of a millisecond
# shows in paired differences, not in two medians of noisy runs.
ovl() { printf '%s overlay-up -R %s -i %s mdkb-lo >/dev/null && %s overlay-down -R %s mdkb-lo' \
	"$MDK" "$MDK_ROOT" "$1" "$MDK" "$MDK_ROOT"; }
if want 9; then
	log "measuring: 5 layers against 1 (exe-pair)"
	nice -n -10 "$W/exe-pair" cmp 400 "$MDOCKER" run mdkb-l1 /bin/true -- "$MDOCKER" run mdkb-l5 /bin/true \
		>"$W/out/exe-layers.txt"
	nice -n -10 "$W/exe-pair" cmp 1000 /bin/sh -c "$(ovl mdkb-l1)" -- /bin/sh -c "$(ovl mdkb-l5)" \
		>"$W/out/exe-layers-ovl.txt"
fi

# 6. binary size, peak RSS
# Binary plus the shared libraries it loads.
full_size() {
	{
		echo "$1"
		ldd "$1" 2>/dev/null | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }'
	} | while IFS= read -r f; do readlink -f "$f"; done | sort -u | xargs stat -L -c %s |
		awk '{ s += $1 } END { print s }'
}
x=$W/out/extra.txt
r=$W/out/rss
if want 6; then
	log "measuring: sizes, peak RSS"
	for rt in mdk crun runc; do
		if [ "$rt" = mdk ]; then bin=$MDK; else bin=$(command -v "$rt"); fi
		bin=$(readlink -f "$bin")
		echo "path_$rt $bin"
		echo "size_$rt $(stat -c %s "$bin")"
		echo "full_$rt $(full_size "$bin")"
	done >"$x"
	for rt in mdk crun runc; do
		printf 'rss_%s' "$rt"
		i=0
		while [ $i -lt 15 ]; do
			i=$((i + 1))
			case $rt in
			mdk) /usr/bin/time -f %M -o "$r" "$MDK" run "$ROOTFS" /bin/true ;;
			crun) wrap /usr/bin/time -f %M -o "$r" crun run -b "$W/crun" "mdkb-rss$i" ;;
			runc) /usr/bin/time -f %M -o "$r" runc run -b "$W/runc" "mdkb-rss$i" ;;
			esac
			printf ' %s' "$(tail -n 1 "$r")"
		done
		echo
	done >>"$x"
fi

# 10. run -d, from the call until the command runs (mdk-run -d returns once
# CMD runs; podman once its runtime started it), `sleep 1000` under one name
# per runtime. No removal is timed: hyperfine's --prepare removes the
# container of the run before (one is made here for the first), and the
# last one goes after the group.
PODMAN_D="$PODMAN run -d --network none --cgroup-parent /mdkb-podman --ulimit nofile=1024:1024 --ulimit nproc=4096:4096"
"$MDOCKER" run -d --name mdkb-d busybox sleep 1000 >/dev/null
# shellcheck disable=SC2086 # a command line
wrap $PODMAN_D --name mdkb-pd mdkb-busybox sleep 1000 >/dev/null
set -- --prepare "$MDOCKER rm -f mdkb-d" -n m-docker "$MDOCKER run -d --name mdkb-d busybox sleep 1000" \
	--prepare "$(crunw "$PODMAN rm -f -t 0 mdkb-pd")" -n podman "$(crunw "$PODMAN_D --name mdkb-pd mdkb-busybox sleep 1000")"
[ -z "$WRAPPER" ] || set -- "$@" --prepare true -n wrapper "$WRAPPER"
hf g10 8 5 1 "$@"
"$MDOCKER" rm -f mdkb-d >/dev/null
# shellcheck disable=SC2086
wrap $PODMAN rm -f -t 0 mdkb-pd >/dev/null

# 11. exec of `true` into a running container (`sleep 1000`), started once
# before the timing and removed after.
"$MDOCKER" run -d --name mdkb-x busybox sleep 1000 >/dev/null
runc run -d -b "$W/runc-d" mdkb-rx </dev/null >/dev/null 2>"$W/runc-d/err" ||
	{ cat "$W/runc-d/err" >&2; die "runc run -d failed"; }
# shellcheck disable=SC2086
wrap $PODMAN_D --name mdkb-px mdkb-busybox sleep 1000 >/dev/null
set -- -n m-docker "$MDOCKER exec mdkb-x true" -n runc "runc exec mdkb-rx true" \
	-n podman "$(crunw "$PODMAN exec mdkb-px true")"
[ -z "$WRAPPER" ] || set -- "$@" -n wrapper "$WRAPPER"
hf g11 8 10 2 "$@"
"$MDOCKER" rm -f mdkb-x >/dev/null
runc delete -f mdkb-rx
# shellcheck disable=SC2086
wrap $PODMAN rm -f -t 0 mdkb-px >/dev/null

# 12. the monitor's peak RSS (VmHWM; its PID is the pid file's pid=) once
# its container has written 100000 lines of log and sleeps, 5 containers
# one after the other.
if want 12; then
	log "measuring: the monitor's peak RSS"
	d=$MDK_ROOT/layers/mdkb-mon+rw
	i=0
	printf 'mon_hwm' >>"$x"
	while [ $i -lt 5 ]; do
		i=$((i + 1))
		"$MDOCKER" run -d --name mdkb-mon busybox sh -c 'seq 100000; echo mdkb-done; exec sleep 1000' >/dev/null
		n=0
		until grep -q ' mdkb-done$' "$d/log"; do
			n=$((n + 1))
			[ $n -lt 300 ] || die "the monitor's log has no end after 30 s"
			sleep 0.1
		done
		pid=$(sed -n 's/^pid=//p' "$d/pid")
		case $pid in '' | *[!0-9]*) die "no monitor's pid in $d/pid" ;; esac
		hwm=$(awk '$1 == "VmHWM:" { print $2 }' "/proc/$pid/status")
		[ -n "$hwm" ] || die "no VmHWM for the monitor (pid $pid)"
		printf ' %s' "$hwm" >>"$x"
		"$MDOCKER" rm -f mdkb-mon >/dev/null
	done
	echo >>"$x"
fi

# 13. commit of a container that wrote 100 MB in 1,000 files (random, so
# nothing compresses it away), against podman commit of the same change
# (its default: not paused). The image of the run before is removed by
# hyperfine's --prepare, untimed.
want 13 && log "measuring: commit"
# shellcheck disable=SC2016 # for the container's shell
WRITE='mkdir /data; i=0; while [ $i -lt 1000 ]; do head -c 102400 /dev/urandom >/data/f$i; i=$((i + 1)); done; : >/data/done; exec sleep 1000'
"$MDOCKER" run -d --name mdkb-c busybox sh -c "$WRITE" >/dev/null
# shellcheck disable=SC2086
wrap $PODMAN_D --name mdkb-pc mdkb-busybox sh -c "$WRITE" >/dev/null
n=0
# shellcheck disable=SC2086
until [ -e "$MDK_ROOT/layers/mdkb-c+rw/fs/data/done" ] &&
	wrap $PODMAN exec mdkb-pc test -e /data/done 2>/dev/null; do
	n=$((n + 1))
	[ $n -lt 600 ] || die "the commit containers did not write their 100 MB in 60 s"
	sleep 0.1
done
# (podman commit runs no runtime: unwrapped.)
hf g13 3 3 1 --prepare "sh -c '$MDOCKER rmi mdkb-snap:1 >/dev/null 2>&1 || :'" -n m-docker "$MDOCKER commit mdkb-c mdkb-snap:1" \
	--prepare "sh -c '$PODMAN rmi -f mdkb-psnap >/dev/null 2>&1 || :'" -n podman "$PODMAN commit -q mdkb-pc mdkb-psnap"
"$MDOCKER" rm -f mdkb-c >/dev/null
"$MDOCKER" rmi mdkb-snap:1 >/dev/null 2>&1 || :
# shellcheck disable=SC2086
wrap $PODMAN rm -f -t 0 mdkb-pc >/dev/null

# 14. save of the Debian minbase image (the 3-layer OCI archive, loaded
# untimed into each store) to a file on the tmpfs, removed by --prepare.
# podman save needs no runtime: unwrapped.
want 14 && log "measuring: save"
"$MDK" load -q -R "$MDK_ROOT" -t mdkb-deb:1 "$OCITAR" >/dev/null
pid_deb=$($PODMAN load -q -i "$OCITAR" | sed -n 's/^Loaded image[^:]*: *//p' | tail -n 1)
[ -n "$pid_deb" ] || die "podman load of $OCITAR printed no image"
$PODMAN tag "$pid_deb" mdkb-deb:1
hf g14 4 3 1 --prepare "rm -f $W/save-m.tar" -n m-docker "$MDOCKER save -o $W/save-m.tar mdkb-deb:1" \
	--prepare "rm -f $W/save-p.tar" -n podman "$PODMAN save -q -o $W/save-p.tar mdkb-deb:1"
rm -f "$W/save-m.tar" "$W/save-p.tar"

# 15. an OCI runtime's create + start + delete -f of a ready bundle, the
# three calls an engine makes (podman, containerd's shim), in one `sh -c`:
# mdk-oci (the link to the bench's copy of mdk), crun and runc, all on
# crun's bundle (/bin/true; `runc spec` differs only in the hostname and
# ociVersion), each with a state root on the tmpfs and one fixed id (the
# sequence removes it; a leftover would fail the next run, and is deleted
# on exit). mdk-oci puts a container without linux.cgroupsPath into
# $MDK_CGROUP_PARENT/ID (mdkb-mdk/mdkb-om: removed on exit with the other
# mdkb-* cgroups), crun and runc into ID. crun refuses hybrid cgroups in
# `create` only (`start` and `delete` work, and delete removes its v1
# cgroups), so only create is wrapped: ONE wrapper per sequence, and the net
# row subtracts one wrapper median (report.py: OCI_WRAPS).
O=$W/oci-root
mkdir "$O" "$O/mdk-oci" "$O/crun" "$O/runc"
# oci3 RT ID: RT (a runtime and its --root) creates ID from crun's bundle,
# starts it and deletes it, as one command for hyperfine.
oci3() {
	c="$1 create -b $W/crun $2"
	case $1 in crun\ *) c=$(crunw "$c") ;; esac
	printf 'sh -c "%s >/dev/null && %s start %s && %s delete -f %s"' "$c" "$1" "$2" "$1" "$2"
}
if want 15; then
	# Once, untimed: what fails says why here (hyperfine would not).
	m="$MDKOCI --root $O/mdk-oci"
	# shellcheck disable=SC2086 # a command and its option
	if ! { $m create -b "$W/crun" mdkb-om >/dev/null && $m start mdkb-om && $m delete -f mdkb-om; }; then
		die "mdk-oci create/start/delete of crun's bundle $W/crun failed"
	fi
fi
set -- -n mdk-oci "$(oci3 "$MDKOCI --root $O/mdk-oci" mdkb-om)" -n crun "$(oci3 "crun --root $O/crun" mdkb-oc)"
[ -z "$WRAPPER" ] || set -- "$@" -n wrapper "$WRAPPER"
hf g15 8 20 3 "$@" -n runc "$(oci3 "runc --root $O/runc" mdkb-or)"

# 16. row 2's `podman run --rm … /bin/true` with mdk-oci as podman's runtime
# (--runtime: the link above) against podman with crun (its default;
# wrapped, and net of the wrapper measured here): podman's own work is most
# of it, the runtime's calls the part that differs. mdk-oci runs unwrapped
# and keeps its state in its default root, /run/mdk-oci (podman passes no
# --root; crun's is /run/crun); its containers' cgroups are podman's
# cgroupsPath, /mdkb-podman/libpod-ID.
PODMAN_OCI="$PODMAN --runtime $MDKOCI $RUN_TRUE"
if want 16; then
	# shellcheck disable=SC2086 # a command line
	$PODMAN_OCI || die "podman --runtime $MDKOCI run failed"
fi
set -- -n podman-mdk-oci "$PODMAN_OCI" -n podman "$PODMAN_RUN"
[ -z "$WRAPPER" ] || set -- "$@" -n wrapper "$WRAPPER"
hf g16 8 8 1 "$@"

# --- report ------------------------------------------------------------------
ver() { "$@" 2>&1 | head -n 1; }
echo "## mdk benchmark, $(date -u '+%Y-%m-%d %H:%M UTC')"
echo
echo "- machine: $(nproc) CPUs ($(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)), $(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo) RAM, kernel $(uname -r), $(sed -n 's/^PRETTY_NAME="\{0,1\}\([^"]*\)"\{0,1\}$/\1/p' /etc/os-release)"
echo "- load average (1/5/15 min) at start: $LOAD0; at end: $(cut -d' ' -f1-3 /proc/loadavg) (other work on the machine skews the numbers)"
[ -z "${MDK_BENCH_GROUPS:-}" ] || echo "- groups measured: $MDK_BENCH_GROUPS only (MDK_BENCH_GROUPS)"
echo "- cgroups: $(if [ -n "$HYBRID" ]; then echo "hybrid (v1 controllers, cgroup2 at $UNIFIED): crun and podman wrapped, see the net rows"; else stat -f -c %T /sys/fs/cgroup; fi)"
rev=$(git -C "$top" rev-parse --short HEAD 2>/dev/null || echo unknown)
[ -z "$(git -C "$top" status --porcelain --untracked-files=no 2>/dev/null)" ] || rev="$rev + uncommitted changes"
echo "- mdk $("$MDK" --version 2>&1 | head -n 1 | sed 's/^mdk //') (git $rev), $(wc -c <"$MDK") bytes; $(ver crun --version); $(ver runc --version); $(ver podman --version); $(ver bwrap --version); $(ver hyperfine --version); $(ver tar --version); $(ver bsdtar --version); $(ver unshare --version); musl-gcc $(musl-gcc -dumpversion); $(python3 --version)"
echo "- fixtures: busybox rootfs from build/images/busybox.tar ($(wc -c <"$IMG") bytes); Debian minbase tar $DEBTAR ($(wc -c <"$DEBTAR") bytes, $(tar -tf "$DEBTAR" | wc -l) entries); the same as a 3-layer OCI archive $OCITAR ($(wc -c <"$OCITAR") bytes, gzip layers of $(python3 -c 'import json, sys, tarfile
t = tarfile.open(sys.argv[1])
ix = json.load(t.extractfile("index.json"))
m = json.load(t.extractfile("blobs/" + ix["manifests"][0]["digest"].replace(":", "/")))
print(", ".join(str(l["size"]) for l in m["layers"]))' "$OCITAR") bytes); all work dirs on a tmpfs"
echo
# (Kept first: a report that fails leaves its input.)
if [ -n "${MDK_BENCH_KEEP:-}" ]; then
	mkdir -p "$MDK_BENCH_KEEP"
	for f in "$W"/out/*.json "$W"/out/*.txt; do
		[ -e "$f" ] || continue
		cp "$f" "$MDK_BENCH_KEEP/"
	done
fi
python3 "$here/report.py" "$W/out"
