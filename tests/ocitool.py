#!/usr/bin/env python3
"""Make and break OCI image layouts for tests/image.test.

  ocitool.py build DIR TAG LAYER.tar...     an OCI layout, gzip layers, config
  ocitool.py tar OUT.tar SPEC...            a layer tar; SPEC: f:NAME[:DATA],
                                            d:NAME, l:NAME:TARGET (symlink),
                                            h:NAME:TARGET (hard link),
                                            x:NAME:XATTR=VALUE (file + xattr)
  ocitool.py mk DIR TAG [-b HOW] [-n N] LAYER [, LAYER]...
                                            build in one go: each LAYER a tar
                                            file or SPECs (as for tar); -n N
                                            adds layers f2..fN; -b breaks it
  ocitool.py break DIR HOW                  one defect, every other digest
                                            fixed up so only it is wrong:
      layer-size       a layer descriptor's size off by one
      layer-byte       a byte of a layer blob flipped (descriptor kept)
      config-byte      a byte of the config flipped (descriptor kept)
      diffids          one diff_id fewer than layers
      digest-path      index.json names digest sha256:../../x
      bomb             layer 0: gzip of 100 MiB of zeros
      huge-config      a 5 MiB config
"""
import gzip
import hashlib
import io
import json
import os
import sys
import tarfile


def sha(b):
    return hashlib.sha256(b).hexdigest()


def put_blob(d, b):
    h = sha(b)
    os.makedirs(os.path.join(d, "blobs", "sha256"), exist_ok=True)
    with open(os.path.join(d, "blobs", "sha256", h), "wb") as f:
        f.write(b)
    return "sha256:" + h


def get_blob(d, digest):
    with open(os.path.join(d, "blobs", "sha256", digest[7:]), "rb") as f:
        return f.read()


def write_image(d, tag, layers, config):
    """layers: list of (compressed bytes, diffid); returns nothing."""
    config.setdefault("rootfs", {"type": "layers", "diff_ids": [l[1] for l in layers]})
    cb = json.dumps(config).encode()
    man = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                   "digest": put_blob(d, cb), "size": len(cb)},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                    "digest": put_blob(d, c), "size": len(c)} for c, _ in layers],
    }
    mb = json.dumps(man).encode()
    idx = {"schemaVersion": 2, "manifests": [{
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "digest": put_blob(d, mb), "size": len(mb),
        "annotations": {"org.opencontainers.image.ref.name": tag}}]}
    with open(os.path.join(d, "index.json"), "w") as f:
        json.dump(idx, f)
    with open(os.path.join(d, "oci-layout"), "w") as f:
        f.write('{"imageLayoutVersion": "1.0.0"}')


def read_image(d):
    with open(os.path.join(d, "index.json")) as f:
        idx = json.load(f)
    man = json.loads(get_blob(d, idx["manifests"][0]["digest"]))
    cfg = json.loads(get_blob(d, man["config"]["digest"]))
    tag = idx["manifests"][0].get("annotations", {}).get("org.opencontainers.image.ref.name", "x")
    layers = [(get_blob(d, l["digest"]), cfg["rootfs"]["diff_ids"][i] if i < len(cfg["rootfs"]["diff_ids"]) else None)
              for i, l in enumerate(man["layers"])]
    return idx, man, cfg, tag, layers


def cmd_build(d, tag, tars):
    layers = []
    for t in tars:
        raw = open(t, "rb").read()
        layers.append((gzip.compress(raw, 1), "sha256:" + sha(raw)))
    write_image(d, tag, layers, {"architecture": "amd64", "os": "linux",
                                 "config": {"Cmd": ["/bin/sh"]}})


def cmd_tar(out, specs):
    with tarfile.open(out, "w", format=tarfile.PAX_FORMAT) as t:
        add_specs(t, specs)


def tar_bytes(specs):
    bio = io.BytesIO()
    with tarfile.open(fileobj=bio, mode="w", format=tarfile.PAX_FORMAT) as t:
        add_specs(t, specs)
    return bio.getvalue()


def cmd_mk(d, tag, args):
    how, n, groups, cur = None, 0, [], []
    while args:
        a = args.pop(0)
        if a == "-b":
            how = args.pop(0)
        elif a == "-n":
            n = int(args.pop(0))
        elif a == ",":
            groups.append(cur)
            cur = []
        else:
            cur.append(a)
    if cur:
        groups.append(cur)
    raws = []
    for g in groups:
        if len(g) == 1 and os.path.isfile(g[0]):
            raws.append(open(g[0], "rb").read())
        else:
            raws.append(tar_bytes(g))
    for i in range(2, n + 1):
        raws.append(tar_bytes(["f:f%d:%d" % (i, i)]))
    layers = [(gzip.compress(r, 1), "sha256:" + sha(r)) for r in raws]
    write_image(d, tag, layers, {"architecture": "amd64", "os": "linux",
                                 "config": {"Cmd": ["/bin/sh"]}})
    if how:
        cmd_break(d, how)


def add_specs(t, specs):
    if True:
        for s in specs:
            kind, rest = s.split(":", 1)
            name, _, arg = rest.partition(":")
            ti = tarfile.TarInfo(name)
            ti.mtime = 1700000000
            data = b""
            if kind == "f":
                data = arg.encode()
                ti.size = len(data)
                ti.mode = 0o644
            elif kind == "d":
                ti.type = tarfile.DIRTYPE
                ti.mode = 0o755
            elif kind == "l":
                ti.type = tarfile.SYMTYPE
                ti.linkname = arg
            elif kind == "h":
                ti.type = tarfile.LNKTYPE
                ti.linkname = arg
            elif kind == "x":
                k, _, v = arg.partition("=")
                ti.pax_headers = {"SCHILY.xattr." + k: v}
                ti.mode = 0o644
            t.addfile(ti, io.BytesIO(data) if data else None)


def cmd_break(d, how):
    idx, man, cfg, tag, layers = read_image(d)
    if how == "layer-size":
        write_image(d, tag, layers, cfg)
        idx, man, _, _, _ = read_image(d)
        man["layers"][0]["size"] += 1
        mb = json.dumps(man).encode()
        idx["manifests"][0]["digest"] = put_blob(d, mb)
        idx["manifests"][0]["size"] = len(mb)
        with open(os.path.join(d, "index.json"), "w") as f:
            json.dump(idx, f)
    elif how == "layer-byte":
        p = os.path.join(d, "blobs", "sha256", man["layers"][-1]["digest"][7:])
        b = bytearray(open(p, "rb").read())
        b[len(b) // 2] ^= 0x20
        open(p, "wb").write(b)
    elif how == "config-byte":
        p = os.path.join(d, "blobs", "sha256", man["config"]["digest"][7:])
        b = bytearray(open(p, "rb").read())
        b[2] ^= 0x01
        open(p, "wb").write(b)
    elif how == "diffids":
        cfg["rootfs"]["diff_ids"] = cfg["rootfs"]["diff_ids"][:-1]
        write_image(d, tag, layers, cfg)
    elif how == "digest-path":
        idx["manifests"][0]["digest"] = "sha256:../../x"
        with open(os.path.join(d, "index.json"), "w") as f:
            json.dump(idx, f)
    elif how == "bomb":
        bio = io.BytesIO()
        with tarfile.open(fileobj=bio, mode="w") as t:
            ti = tarfile.TarInfo("zeros")
            ti.size = 100 << 20
            t.addfile(ti, io.BytesIO(bytes(ti.size)))
        raw = bio.getvalue()
        layers[0] = (gzip.compress(raw, 9), "sha256:" + sha(raw))
        cfg["rootfs"]["diff_ids"][0] = layers[0][1]
        write_image(d, tag, layers, cfg)
    elif how == "huge-config":
        cfg["junk"] = "x" * (5 << 20)
        write_image(d, tag, layers, cfg)
    else:
        sys.exit("unknown defect " + how)


if __name__ == "__main__":
    a = sys.argv[1:]
    if a[0] == "build":
        cmd_build(a[1], a[2], a[3:])
    elif a[0] == "tar":
        cmd_tar(a[1], a[2:])
    elif a[0] == "mk":
        cmd_mk(a[1], a[2], a[3:])
    elif a[0] == "break":
        cmd_break(a[1], a[2])
    else:
        sys.exit(__doc__)
