#!/bin/sh
# batch.sh: N containers running /bin/true, back to back (seq) or all at once
# (par), for the throughput rows of bench/run.sh. Fails if any run fails.
#
#   batch.sh seq|par N mdk MDK ROOTFS     mdk run --id mdkb-bI ROOTFS /bin/true
#   batch.sh seq|par N crun BUNDLE        crun run -b BUNDLE mdkb-cI
#   batch.sh seq|par N runc BUNDLE        runc run -b BUNDLE mdkb-rI
#
# Container I gets a unique id (I = 1..N), so the runs of a "par" batch never
# collide; each run deletes its container when it exits.
set -eu

[ $# -ge 4 ] || { echo "usage: batch.sh seq|par N mdk MDK ROOTFS | crun|runc BUNDLE" >&2; exit 2; }
mode=$1 n=$2 rt=$3
shift 3
case $rt in
mdk) mdk=$1 rootfs=$2 ;;
crun | runc) bundle=$1 ;;
*) echo "batch.sh: unknown runtime '$rt'" >&2; exit 2 ;;
esac

one() {
	case $rt in
	mdk) "$mdk" run --id "mdkb-b$1" "$rootfs" /bin/true ;;
	crun) crun run -b "$bundle" "mdkb-c$1" ;;
	runc) runc run -b "$bundle" "mdkb-r$1" ;;
	esac
}

i=0
pids=
while [ "$i" -lt "$n" ]; do
	i=$((i + 1))
	if [ "$mode" = par ]; then
		one "$i" &
		pids="$pids $!"
	else
		one "$i"
	fi
done
rc=0
for p in $pids; do
	wait "$p" || rc=1
done
exit "$rc"
