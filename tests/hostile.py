#!/usr/bin/env python3
"""Write crafted (hostile) tar archives for tests/unpack_hostile.test.

    hostile.py CASE OUT.tar OUTSIDE

OUTSIDE is the absolute path of the test's sentinel directory ($T/outside).
Relative escapes are calibrated for a layer extracted in
$T/root/layers/.tmp-NAME@PID: from an entry at the top of the layer,
"../../../outside" is $T/outside on the host. Inside the chroot mdk-unpack
makes, the same names resolve inside the layer. Test fixtures only: the
standard library's tarfile, nothing else.
"""
import io
import struct
import sys
import tarfile

MTIME = 1000000000  # 2001-09-09: any change by extraction shows
UP = "../../../outside"  # $T/outside, seen from the top of the layer


def entry(name, kind=tarfile.REGTYPE, mode=0o644, link="", pax=None, **kw):
    t = tarfile.TarInfo(name)
    t.type = kind
    t.mode = mode
    t.mtime = MTIME
    t.uid = t.gid = 0
    t.linkname = link
    if pax:
        t.pax_headers = dict(pax)
    for k, v in kw.items():
        setattr(t, k, v)
    return t


def f(name, data=b"evil\n", **kw):
    return (entry(name, **kw), data)


def d(name, mode=0o755, **kw):
    return (entry(name, tarfile.DIRTYPE, mode, **kw), None)


def sym(name, target):
    return (entry(name, tarfile.SYMTYPE, 0o777, target), None)


def hard(name, target):
    return (entry(name, tarfile.LNKTYPE, 0o644, target), None)


def dev(name, kind, major, minor):
    return (entry(name, kind, 0o600, devmajor=major, devminor=minor), None)


# A valid VFS_CAP_REVISION_2 security.capability value (the kernel refuses
# malformed ones): cap_net_bind_service (10), effective.
CAP = struct.pack("<IIIII", 0x02000001, 1 << 10, 0, 0, 0)


def cases(out):
    """Each case: the entries, in archive order."""
    return {
        # A clean image: what a retry after a rejected archive unpacks.
        "clean": [d("etc"), f("etc/hello", b"hello\n")],
        # Names that climb out of the layer.
        "dotdot": [f(UP + "/evil")],
        "dotdot_mid": [d("a"), f("a/../../../../outside/evil")],
        "dotdot_short": [d("a"), f("a/../../x")],
        "absolute": [f(out + "/evil")],
        # A symlink planted to a host directory, then a file through it.
        "symlink_abs": [sym("l", out), f("l/evil")],
        "symlink_rel": [sym("l", "../../.."), f("l/x")],
        # A symlink, then a regular file of the same name: the file must
        # replace the link, not be written through it.
        "symlink_replace": [
            f("t", b"orig\n"),
            sym("f", "t"),
            sym("g", out + "/file"),
            sym("h", UP + "/file"),
            f("f", b"new\n"),
            f("g", b"new\n"),
            f("h", b"new\n"),
        ],
        # Hard links to a host file.
        "hardlink_dotdot": [hard("h", UP + "/file")],
        "hardlink_abs": [hard("h", out + "/file")],
        "hardlink_abs_etc": [hard("h", "/etc/passwd")],
        # Hard links through a planted symlink to the host's root.
        "hardlink_via_symlink_etc": [sym("l", "/"), hard("h", "l/etc/passwd")],
        "hardlink_via_symlink_out": [sym("l", "/"), hard("h", "l" + out + "/file")],
        # A hard link to a planted symlink, carrying data (pax size): the
        # link is made to the symlink itself; applying the entry's mode to it
        # must not follow it to the host file.
        "hardlink_symlink_data": [
            sym("l", UP + "/file"),
            f("h", link="l", kind=tarfile.LNKTYPE, mode=0o666, pax={"size": "5"}),
            sym("m", out + "/file"),
            f("i", link="m", kind=tarfile.LNKTYPE, mode=0o666, pax={"size": "5"}),
        ],
        # A directory (mode and mtime fixed up at the end by libarchive), then
        # a symlink of the same name to a host directory.
        "dir_then_symlink": [
            d("d", 0o700),
            sym("d", out + "/dir"),
            d("e", 0o700),
            sym("e", UP + "/dir"),
        ],
        # A symlink to a host directory, then a directory of that name.
        "symlink_then_dir": [
            sym("d", out + "/dir"),
            d("d", 0o777),
            sym("e", UP + "/dir"),
            d("e", 0o777),
        ],
        "setuid": [
            d("bin"),
            f("bin/su", b"#!/bin/sh\n", mode=0o4755),
            f("bin/sg", b"#!/bin/sh\n", mode=0o2755),
            d("tmp", 0o1777),
        ],
        # BSD file flags (pax SCHILY.fflags); libarchive maps schg/sappnd to
        # Linux immutable/append-only.
        "fflags": [
            f("f1", pax={"SCHILY.fflags": "sappnd,schg"}),
            f("f2", pax={"SCHILY.fflags": "uappnd,uchg"}),
            f("f3", pax={"SCHILY.fflags": "simmutable,nodump"}),
            d("d", pax={"SCHILY.fflags": "schg"}),
            f("d/g", pax={"SCHILY.fflags": "sappnd"}),
        ],
        "xattr": [
            f("f", pax={
                "hdrcharset": "BINARY",
                "SCHILY.xattr.trusted.overlay.redirect": "/etc",
                "SCHILY.xattr.trusted.overlay.opaque": "y",
                "SCHILY.xattr.security.capability":
                    CAP.decode("utf-8", "surrogateescape"),
                "SCHILY.xattr.user.x": "1",
            }),
            d("d", pax={
                "SCHILY.xattr.trusted.overlay.opaque": "y",
                "SCHILY.xattr.user.y": "2",
            }),
        ],
        "deep300": [f("a/" * 300 + "f")],
        "longname": [f(("x" * 99 + "/") * 49 + "y" * 100)],
        "devices": [
            d("dev"),
            dev("dev/null", tarfile.CHRTYPE, 1, 3),
            dev("dev/sda", tarfile.BLKTYPE, 8, 0),
        ],
        # "." is the layer's root: a symlink there would send every later
        # entry to the host.
        "dot_symlink_abs": [sym(".", out), f("evil")],
        "dot_symlink_rel": [sym(".", UP), f("evil")],
        "dotslash_symlink": [sym("./", out), f("./evil")],
        # The 256-level limit counts a name's components; symlinks planted
        # earlier let a short name reach deeper: five hops of 250 levels make
        # a real tree 1250 deep, then a bad entry makes the unpack fail, so
        # mdk-unpack has to delete that tree.
        "deep_symlinks": deep_symlinks(5, 250) + [f(UP + "/evil")],
        # A read-only directory (mode applied by libarchive's fixups, which
        # run even when extraction fails), then a bad entry.
        "ro_dir_then_bad": [d("ro", 0o555), f("ro/x"), d("ro/sub", 0o555),
                            f(UP + "/evil")],
    }


def deep_symlinks(hops, levels):
    ents, prev = [], ""
    for i in range(hops):
        base = prev + "/" if prev else ""
        chain = "/".join(["d%d" % i] * levels)
        ents.append(f(base + chain + "/f"))
        ents.append(sym("s%d" % i, base + chain))
        prev = "s%d" % i
    return ents


def main():
    case, path, out = sys.argv[1:4]
    with tarfile.open(path, "w", format=tarfile.PAX_FORMAT) as tar:
        for t, data in cases(out)[case]:
            if data is not None:
                t.size = len(data)
                tar.addfile(t, io.BytesIO(data))
            else:
                tar.addfile(t)


if __name__ == "__main__":
    main()
