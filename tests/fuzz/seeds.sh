#!/bin/sh
# tests/fuzz/seeds.sh TARGET DIR: write TARGET's generated seeds into DIR.
# The archive targets start from small tar archives made here (fixtures are
# generated, not committed as blobs): ordinary entries of every type, pax
# xattrs, long names, compressed forms, and the hostile names and links the
# policy refuses. The other targets' seeds are the text files committed in
# tests/fuzz/corpus/TARGET/.
set -eu
target=$1 dir=$2
case $target in
fuzz_archive_policy | fuzz_extract) ;;
*) exit 0 ;;
esac
mkdir -p "$dir"
python3 - "$dir" <<'PY'
import gzip, io, lzma, bz2, os, sys, tarfile

out = sys.argv[1]

def tar(name, entries, fmt=tarfile.PAX_FORMAT, compress=None):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=fmt) as t:
        for e in entries:
            ti = tarfile.TarInfo(e["name"])
            ti.type = e.get("type", tarfile.REGTYPE)
            ti.mode = e.get("mode", 0o644)
            ti.mtime = 1700000000
            ti.linkname = e.get("link", "")
            ti.pax_headers = e.get("pax", {})
            ti.devmajor, ti.devminor = e.get("dev", (0, 0))
            data = e.get("data", b"")
            ti.size = len(data)
            t.addfile(ti, io.BytesIO(data) if data else None)
    raw = buf.getvalue()
    # Without the zero padding to a 10 KiB record: small inputs fuzz faster.
    raw = raw.rstrip(b"\0")
    raw += b"\0" * (-len(raw) % 512)
    if compress:
        raw = compress(raw)
    with open(os.path.join(out, name), "wb") as f:
        f.write(raw)

D, L, S, C, B, F = tarfile.DIRTYPE, tarfile.LNKTYPE, tarfile.SYMTYPE, tarfile.CHRTYPE, tarfile.BLKTYPE, tarfile.FIFOTYPE
plain = [
    {"name": "bin", "type": D, "mode": 0o755},
    {"name": "bin/sh", "data": b"#!/bin/sh\necho hi\n", "mode": 0o755},
    {"name": "bin/ash", "type": L, "link": "bin/sh"},
    {"name": "bin/busybox", "type": S, "link": "sh"},
    {"name": "etc/passwd", "data": b"root:x:0:0:root:/root:/bin/sh\n"},
    {"name": "dev/null", "type": C, "dev": (1, 3), "mode": 0o666},
    {"name": "dev/sda", "type": B, "dev": (8, 0), "mode": 0o600},
    {"name": "run/fifo", "type": F},
    {"name": "tmp", "type": D, "mode": 0o1777},
]
tar("plain.tar", plain)
tar("gnu.tar", plain, fmt=tarfile.GNU_FORMAT)
tar("ustar.tar", plain[:5], fmt=tarfile.USTAR_FORMAT)
tar("plain.tar.gz", plain, compress=lambda b: gzip.compress(b, mtime=0))
tar("plain.tar.xz", plain[:3], compress=lzma.compress)
tar("plain.tar.bz2", plain[:3], compress=bz2.compress)
tar("xattrs.tar", [
    {"name": "f", "data": b"x", "pax": {
        "SCHILY.xattr.user.mime": "text/plain",
        "SCHILY.xattr.security.capability": "\x01\x00\x00\x02\x00\x20\x00\x00",
        "SCHILY.xattr.trusted.overlay.opaque": "y",
        "SCHILY.xattr.security.selinux": "system_u:object_r:bin_t:s0"}},
    {"name": "d", "type": D, "pax": {"SCHILY.xattr.trusted.overlay.redirect": "/etc"}},
])
tar("longname.tar", [{"name": "a/" * 60 + "f", "data": b"x"},
                     {"name": "l", "type": S, "link": "b/" * 60 + "t"}], fmt=tarfile.GNU_FORMAT)
tar("dotdot.tar", [{"name": "../escape", "data": b"x"}])
tar("absolute.tar", [{"name": "etc", "type": S, "link": "/etc"}, {"name": "etc/x", "data": b"x"}])
tar("hardlink-out.tar", [{"name": "h", "type": L, "link": "../../etc/passwd"}])
tar("deep.tar", [{"name": "d/" * 300 + "f", "data": b"x"}])
tar("overwrite.tar", [{"name": "f", "data": b"1"}, {"name": "f", "type": D},
                      {"name": "f", "type": S, "link": "f"}, {"name": "f/x", "data": b"2"}])
# Image layers (fuzz_extract extracts each input also as a layer over
# itself): whiteouts, opaque markers, parents only implied, a symlink below.
tar("layer.tar", [
    {"name": "a/b/f", "data": b"x"}, {"name": "a/b/.wh.g"}, {"name": ".wh.c"},
    {"name": "c/.wh.d"}, {"name": "o/.wh..wh..opq"}, {"name": "o/k/f", "data": b"y"},
    {"name": ".wh..wh..opq"}, {"name": "d", "type": D, "mode": 0o700},
    {"name": "l", "type": S, "link": "a"}, {"name": "l/m/.wh.n"}, {"name": ".wh.s"},
    {"name": "s/t", "data": b"z"}, {"name": ".wh..wh.plnk/1"}])
PY
