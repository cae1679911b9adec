#!/usr/bin/env python3
"""report.py DIR: the one markdown table of bench/run.sh, and the targets.

DIR holds hyperfine's --export-json files gN.R.json (group N, round R;
commands named with -n; the rounds are merged), extra.txt: "KEY VALUE..."
lines (binary sizes in bytes, peak RSS samples and the monitor's VmHWM in
KiB), and exe-floor.txt, exe-mdk.txt, exe-crun.txt: bench/exe-pair's output
(one line per variant, microseconds). Ratios are ours / peer: below 1 means
mdk is faster/smaller. A section whose input is not in DIR (a run with
MDK_BENCH_GROUPS) is left out, with its targets.
"""
import json
import os
import statistics
import sys

d = sys.argv[1]
groups = {n.split(".")[0] for n in os.listdir(d) if n.startswith("g") and n.endswith(".json")}


def load(group):
    """The rounds GROUP.1.json, GROUP.2.json, ... merged per command."""
    res, cpu = {}, {}
    for name in sorted(os.listdir(d)):
        if not (name.startswith(group + ".") and name.endswith(".json")):
            continue
        with open(os.path.join(d, name)) as f:
            for r in json.load(f)["results"]:
                res.setdefault(r["command"], []).extend(r["times"])
                # hyperfine gives the mean user and system time of a round.
                cpu.setdefault(r["command"], []).append(r["user"] + r["system"])
    if not res:
        sys.exit(f"report.py: no {group}.*.json in {d}")
    return {c: {"median": statistics.median(v), "min": min(v), "max": max(v), "n": len(v),
                "cpu": statistics.median(cpu[c])}
            for c, v in res.items()}


extra = {}
if os.path.exists(os.path.join(d, "extra.txt")):
    with open(os.path.join(d, "extra.txt")) as f:
        for line in f:
            k, *v = line.split()
            extra[k] = v


def t(sec):
    ms = sec * 1000
    if abs(ms) < 10:
        return f"{ms:.2f} ms"
    if ms < 1000:
        return f"{ms:.1f} ms"
    return f"{sec:.3f} s"


def stat(r, minus=0.0):
    return {"med": r["median"] - minus, "min": r["min"] - minus, "max": r["max"] - minus}


rows = []  # (section, what, median str, range str, ratio str)
ratios = {}
targets = []  # (name, value, limit, unit)
runs = []  # "N. runs per command" of each section, for the line under the table


def add(sec, what, s, ours=None, fmt=t, key=None, ratio=None):
    rng = f"{fmt(s['min'])} – {fmt(s['max'])}" if s.get("min") is not None else "—"
    if ratio is not None:
        pass
    elif ours is None:
        ratio = "ours"
    else:
        ratio = f"{ours['med'] / s['med']:.2f}×" if s["med"] > 0 else "n/a"
        if key:
            ratios[key] = ours["med"] / s["med"]
    rows.append((sec, what, fmt(s["med"]), rng, ratio))


def nruns(group):
    return min(r["n"] for r in load(group).values())


def target(name, val, lim, unit):
    targets.append((name, val, lim, unit))


# Hybrid cgroups: crun (and podman) measured in a wrapper, and the wrapper alone.
wrapped = any("wrapper" in load(g) for g in sorted(groups))
net = " (net)" if wrapped else ""
nm = " net of wrapper" if wrapped else ""

# 1. start-to-exit of /bin/true
if "g1" in groups:
    g = load("g1")
    sec = "1. start→exit `/bin/true`"
    ours = stat(g["mdk-run"])
    add(sec, "`mdk run ROOTFS /bin/true`", ours)
    if wrapped:
        w = g["wrapper"]["median"]
        add(sec, "`crun run` net: wrapped time − wrapper median", stat(g["crun"], w), ours, key="run_crun")
        add(sec, "`crun run` raw, in `unshare -m sh -c 'umount …unified; exec crun …'`", stat(g["crun"]), ours)
        add(sec, "wrapper alone: `unshare -m sh -c 'umount …unified; exec true'`", stat(g["wrapper"]),
            ratio="(baseline)")
    else:
        add(sec, "`crun run`", stat(g["crun"]), ours, key="run_crun")
    add(sec, "`runc run`", stat(g["runc"]), ours)
    add(sec, "`bwrap --unshare-all --bind ROOTFS / --proc /proc --dev /dev`", stat(g["bwrap"]), ours)
    add(sec, "`unshare -m -p -u -i -n --fork chroot ROOTFS` (floor)", stat(g["chroot"]), ours)
    runs.append(f"1. {nruns('g1')}")
    target("`mdk run` ≤ 0.35× `crun run`" + net, ratios["run_crun"], 0.35, "×")

# 2. the whole flow
if "g2" in groups:
    g = load("g2")
    sec = "2. whole `run` flow"
    ours = stat(g["m-docker"])
    add(sec, "`m-docker run busybox /bin/true` (unpacked; overlay up/down, cgroup)", ours)
    w = g["wrapper"]["median"] if wrapped else 0.0
    add(sec, f"`podman run --rm --network none` (crun){nm}", stat(g["podman"], w), ours, key="flow_podman")
    add(sec, f"`crun run` of the bundle{nm}", stat(g["crun"], w), ours, key="flow_crun")
    if wrapped:
        add(sec, "`crun run` of the bundle, raw (wrapper included)", stat(g["crun"]), ours, key="flow_crun_raw")
    runs.append(f"2. {nruns('g2')}")
    target("whole `m-docker run` flow ≤ 1.0× `crun run`" + net, ratios["flow_crun"], 1.0, "×")

# 3. unpack
if "g3" in groups:
    g = load("g3")
    sec = "3. unpack Debian minbase tar (tmpfs)"
    ours = stat(g["mdk-unpack"])
    add(sec, "`mdk unpack` into a fresh data root", ours)
    add(sec, "GNU `tar -xpf` into a fresh dir", stat(g["gnu-tar"]), ours, key="unpack_tar")
    add(sec, "`bsdtar -xpf` into a fresh dir", stat(g["bsdtar"]), ours)
    add(sec, "`mdk unpack`, already unpacked (cached)", stat(g["mdk-cached"]), ratio="ours")
    runs.append(f"3. {nruns('g3')}")
    target("`mdk unpack` ≤ 1.0× GNU tar", ratios["unpack_tar"], 1.0, "×")

# 4. overlay
if "g4" in groups:
    g = load("g4")
    sec = "4. overlay up + down"
    ours = stat(g["mdk-ovl"])
    add(sec, "`sh -c 'mdk overlay-up … && mdk overlay-down …'`", ours)
    add(sec, "static C helper: mkdir×4, mount(2), umount(2), rmdir×5", stat(g["c-ovl"]), ours)
    add(sec, "`sh -c 'mkdir -p …; mount -t overlay …; umount …; rm -rf …'`", stat(g["sh-ovl"]), ours)
    runs.append(f"4. {nruns('g4')}")

# 5. throughput
if "g5" in groups:
    g = load("g5")
    sec = "5. throughput (batch wall time)"
    o = stat(g["mdk-seq"])
    add(sec, "64 back to back: `mdk run`", o)
    add(sec, "64 back to back: `crun run`" + (" (one wrapper per batch)" if wrapped else ""), stat(g["crun-seq"]), o,
        key="seq_crun")
    o = stat(g["mdk-par"])
    add(sec, "16 at once: `mdk run`", o)
    add(sec, "16 at once: `crun run`" + (" (one wrapper per batch)" if wrapped else ""), stat(g["crun-par"]), o,
        key="par_crun")
    runs.append(f"5. {nruns('g5')}")


def b(n):
    return f"{n / 1e6:.2f} MB" if n >= 1e6 else f"{n / 1e3:.0f} kB"


def kb(n):
    return f"{n / 1024:.2f} MiB"


def rss(k):
    v = [int(x) for x in extra["rss_" + k]]
    return {"med": statistics.median(v), "min": min(v), "max": max(v)}


# 6. size and RSS
if "size_mdk" in extra:
    sec = "6. size, peak RSS"
    size = {k: int(extra["size_" + k][0]) for k in ("mdk", "crun", "runc")}
    full = {k: int(extra["full_" + k][0]) for k in ("mdk", "crun", "runc")}
    o = {"med": size["mdk"]}
    add(sec, "binary: `build/mdk` (static)", o, fmt=b)
    add(sec, f"binary: `{extra['path_crun'][0]}`", {"med": size["crun"]}, o, fmt=b)
    add(sec, f"binary: `{extra['path_runc'][0]}`", {"med": size["runc"]}, o, fmt=b)
    o = {"med": full["mdk"]}
    add(sec, "binary + shared libraries (ldd): mdk", o, fmt=b)
    add(sec, "binary + shared libraries (ldd): crun", {"med": full["crun"]}, o, fmt=b)
    add(sec, "binary + shared libraries (ldd): runc", {"med": full["runc"]}, o, fmt=b)
    o = rss("mdk")
    add(sec, f"peak RSS (`/usr/bin/time -f %M`, {len(extra['rss_mdk'])} runs): `mdk run ROOTFS /bin/true`", o,
        fmt=kb)
    add(sec, "peak RSS: `crun run`", rss("crun"), o, fmt=kb, key="rss_crun")
    add(sec, "peak RSS: `runc run`", rss("runc"), o, fmt=kb)
    runs.append(f"6. {len(extra['rss_mdk'])} runs for RSS")
    target("binary ≤ 1 MB", size["mdk"] / 1e6, 1.0, " MB")
    target("peak RSS of `mdk run` ≤ 1.5 MB", rss("mdk")["med"] * 1024 / 1e6, 1.5, " MB")


def exe_pair(name):
    """bench/exe-pair's lines: {variant: {key: float}}."""
    out = {}
    with open(os.path.join(d, name)) as f:
        for line in f:
            v, *kv = line.split()
            out[v] = {k: float(x) for k, x in (p.split("=") for p in kv)}
    return out


def us(x):
    if abs(x) >= 1000:
        return f"{x / 1000:.2f} ms"
    return f"{x:.0f} µs" if abs(x) >= 10 else f"{x:.1f} µs"


def paired(r):
    """The median of paired differences, with its 95 % confidence interval as the range."""
    return {"med": r["d_med"], "min": r["d_lo"], "max": r["d_hi"]}


def cpu(r):
    return f"; CPU {us(r['dc_med'])}"


# 7. the cost of the protections: differences of medians, measured side by
# side (min – max of a difference would mean nothing: "—").
if "g7" in groups:
    g = load("g7")
    sec = "7. cost of protections (issue 13)"

    def delta(a, b):
        return {"med": g[a]["median"] - g[b]["median"], "min": None}

    o = delta("mdk-run", "mdk-noseccomp")
    add(sec, "seccomp: `mdk run` − `mdk run --no-seccomp`", o)
    add(sec, "seccomp: `crun run` with docker's policy (podman's profile) − without",
        delta("crun-seccomp", "crun"), o, key="seccomp_crun")

    ef, em, ec = exe_pair("exe-floor.txt"), exe_pair("exe-mdk.txt"), exe_pair("exe-crun.txt")
    o = paired(em["as-is"])
    add(sec, f"re-exec protection, whole run: `mdk run` − the same started protected already "
        f"({int(em['as-is']['n'])} pairs, median of the differences, range: its 95 % CI{cpu(em['as-is'])})", o,
        fmt=us)
    c = paired(ec["as-is"])
    add(sec, "re-exec protection, whole run: `crun run` − the same started protected already "
        f"(crun 1.8: ro bind mount + re-exec of its dynamic binary{cpu(ec['as-is'])})", c, o, fmt=us,
        key="reexec_crun")
    exe_rows = [
        ("ro", "mechanism alone: read-only detached bind mount + execveat (mdk's)"),
        ("plain", "… of which the exec of mdk itself: execve"),
        ("small", "… an exec of a static binary a tenth of mdk's size instead"),
        ("held", "… exec through a read-only mount made before (the exec without the mount)"),
        ("bindfd", "mechanism alone: bind mount on a temp file, remount ro, O_PATH, umount, execveat (crun 1.8's)"),
        ("memfd", "mechanism alone: sealed memfd copy + execveat (mdk's fallback; runc < 1.2)"),
    ]
    for v, what in exe_rows:
        add(sec, f"{what} − fork+exit (`exe-pair floor`, {int(ef[v]['n'])} pairs{cpu(ef[v])})", paired(ef[v]),
            fmt=us, ratio="(floor)")
    runs.append(f"7. {nruns('g7')} (seccomp), {int(ef['none']['n'])} (exe-pair floor), "
                f"{int(em['as-is']['n'])} (exe-pair runtime)")
    target("re-exec protection ≤ 0.2 ms per run (`mdk run` − started protected)", em["as-is"]["d_med"] / 1000,
           0.2, " ms")

# 8. load + unpack of a 3-layer OCI archive
if "g8" in groups:
    g = load("g8")
    sec = "8. load 3-layer Debian OCI archive (gzip; tmpfs)"
    ours = stat(g["mdk-load"])

    def c8(k):
        """The CPU time (user + system, median of the rounds' means) and its ratio."""
        return f"; CPU {t(g[k]['cpu'])}, ours ÷ this {g['mdk-load']['cpu'] / g[k]['cpu']:.2f}×"

    add(sec, f"`mdk load` of the archive into a fresh data root (CPU {t(g['mdk-load']['cpu'])})", ours)
    add(sec, f"`mdk load` of its layout directory (what umoci reads; CPU {t(g['mdk-load-dir']['cpu'])})",
        stat(g["mdk-load-dir"]), ratio="ours")
    add(sec, f"`umoci unpack` of the layout directory into a fresh dir{c8('umoci')}", stat(g["umoci"]), ours,
        key="load_umoci")
    add(sec, f"`umoci raw unpack` (no mtree, no config) into a fresh dir{c8('umoci-raw')}", stat(g["umoci-raw"]),
        ours)
    add(sec, f"`podman load -i` of the archive into a fresh private store{c8('podman-load')}",
        stat(g["podman-load"]), ours, key="load_podman")
    runs.append(f"8. {nruns('g8')}")
    target("`mdk load` ≤ 0.5× `umoci unpack`", ratios["load_umoci"], 0.5, "×")
    target("`mdk load` ≤ 0.3× `podman load`", ratios["load_podman"], 0.3, "×")

# 9. layers: exe-pair cmp, a = 1 layer, b = 5 layers
if os.path.exists(os.path.join(d, "exe-layers.txt")):
    el, eo = exe_pair("exe-layers.txt"), exe_pair("exe-layers-ovl.txt")
    sec = "9. 5 layers vs 1 (busybox tree, loaded)"
    o = {"med": el["a"]["med"] / 1e6, "min": el["a"]["p25"] / 1e6, "max": el["a"]["p75"] / 1e6}
    add(sec, "`m-docker run mdkb-l1 /bin/true`: 1 layer (range: p25 – p75)", o)
    add(sec, "`m-docker run mdkb-l5 /bin/true`: 5 layers of the same tree",
        {"med": el["b"]["med"] / 1e6, "min": el["b"]["p25"] / 1e6, "max": el["b"]["p75"] / 1e6}, o)
    layers_diff = el["b"]["d_med"] / 1e6
    add(sec, f"5 layers − 1: `m-docker run` ({int(el['b']['n'])} pairs, median of the differences, range: its "
        f"95 % CI{cpu(el['b'])})", paired(el["b"]), fmt=us, ratio="(cost)")
    add(sec, f"5 layers − 1: `mdk overlay-up -i IMG` + `overlay-down` ({int(eo['b']['n'])} pairs{cpu(eo['b'])})",
        paired(eo["b"]), fmt=us, ratio="(cost)")
    runs.append(f"9. {int(el['b']['n'])} and {int(eo['b']['n'])} pairs")
    target("5-layer run ≤ 0.3 ms more than 1-layer", layers_diff * 1000, 0.3, " ms")

# 10. run -d until the command runs
if "g10" in groups:
    g = load("g10")
    sec = "10. `run -d` until the command runs"
    ours = stat(g["m-docker"])
    add(sec, "`m-docker run -d --name mdkb-d busybox sleep 1000` (the run before removed by `--prepare`, untimed)",
        ours)
    w = g["wrapper"]["median"] if wrapped else 0.0
    add(sec, f"`podman run -d --network none … --name mdkb-pd` (crun){nm}", stat(g["podman"], w), ours,
        key="rund_podman")
    if wrapped:
        add(sec, "`podman run -d`, raw (wrapper included)", stat(g["podman"]), ours)
        add(sec, "wrapper alone", stat(g["wrapper"]), ratio="(baseline)")
    runs.append(f"10. {nruns('g10')}")
    target("`m-docker run -d` ≤ 0.1× `podman run -d`" + net, ratios["rund_podman"], 0.1, "×")

# 11. exec into a running container
if "g11" in groups:
    g = load("g11")
    sec = "11. `exec ID true` into a running container"
    ours = stat(g["m-docker"])
    add(sec, "`m-docker exec mdkb-x true` (run -d `sleep 1000`)", ours)
    add(sec, "`runc exec mdkb-rx true` (`runc run -d` of the bundle, `sleep 1000`)", stat(g["runc"]), ours,
        key="exec_runc")
    w = g["wrapper"]["median"] if wrapped else 0.0
    add(sec, f"`podman exec mdkb-px true` (crun; `podman run -d`, `sleep 1000`){nm}", stat(g["podman"], w), ours,
        key="exec_podman")
    if wrapped:
        add(sec, "`podman exec`, raw (wrapper included)", stat(g["podman"]), ours)
        add(sec, "wrapper alone", stat(g["wrapper"]), ratio="(baseline)")
    runs.append(f"11. {nruns('g11')}")
    target("`m-docker exec` ≤ 0.5× `runc exec`", ratios["exec_runc"], 0.5, "×")
    target("`m-docker exec` ≤ 0.1× `podman exec`" + net, ratios["exec_podman"], 0.1, "×")

# 12. the monitor's peak RSS
if "mon_hwm" in extra:
    sec = "12. monitor's peak RSS"
    mon = [int(x) for x in extra["mon_hwm"]]
    mon_hwm = {"med": statistics.median(mon), "min": min(mon), "max": max(mon)}
    add(sec, f"`VmHWM` of a detached container's monitor (`mdk run -d`) after 100000 lines of log "
        f"({len(mon)} containers)", mon_hwm, fmt=kb)
    runs.append(f"12. {len(mon)} containers")
    target("the monitor's peak RSS ≤ 1 MiB", mon_hwm["med"] / 1024, 1.0, " MiB")

# 13. commit of 100 MB in 1,000 files
if "g13" in groups:
    g = load("g13")
    sec = "13. commit of 100 MB in 1,000 files"
    ours = stat(g["m-docker"])
    add(sec, "`m-docker commit mdkb-c mdkb-snap:1` (the image before removed by `--prepare`, untimed)", ours)
    add(sec, "`podman commit -q mdkb-pc mdkb-psnap` (not paused: its default)", stat(g["podman"]), ours,
        key="commit_podman")
    runs.append(f"13. {nruns('g13')}")
    target("`m-docker commit` of 100 MB in 1,000 files ≤ 0.5× `podman commit`", ratios["commit_podman"], 0.5, "×")

# 14. save of the Debian minbase image
if "g14" in groups:
    g = load("g14")
    sec = "14. save of the Debian minbase image (3 layers)"
    ours = stat(g["m-docker"])
    add(sec, "`m-docker save -o FILE mdkb-deb:1` (loaded from the OCI archive; one archive for docker and OCI "
        "readers)", ours)
    add(sec, "`podman save -q -o FILE mdkb-deb:1` (docker-archive)", stat(g["podman"]), ours, key="save_podman")
    runs.append(f"14. {nruns('g14')}")
    target("`m-docker save` of a Debian minbase image ≤ 0.5× `podman save`", ratios["save_podman"], 0.5, "×")

# 15. an OCI runtime's create + start + delete -f of crun's bundle. On hybrid
# cgroups run.sh wraps crun's `create` only (start and delete work
# unwrapped): OCI_WRAPS wrapper medians come off crun's time.
OCI_WRAPS = 1
if "g15" in groups:
    g = load("g15")
    sec = "15. OCI runtime: create + start + delete"
    ours = stat(g["mdk-oci"])
    add(sec, "`sh -c 'mdk-oci --root R create -b BUNDLE ID >/dev/null && mdk-oci … start ID && mdk-oci … "
        "delete -f ID'` (crun's bundle, `/bin/true`; state root on the tmpfs)", ours)
    if wrapped:
        w = OCI_WRAPS * g["wrapper"]["median"]
        add(sec, f"the same with `crun` net: wrapped time − {OCI_WRAPS}× wrapper median (only `create` wrapped)",
            stat(g["crun"], w), ours, key="oci_crun")
        add(sec, "the same with `crun`, raw (`create` in the wrapper)", stat(g["crun"]), ours)
        add(sec, "wrapper alone", stat(g["wrapper"]), ratio="(baseline)")
    else:
        add(sec, "the same with `crun`", stat(g["crun"]), ours, key="oci_crun")
    add(sec, "the same with `runc`", stat(g["runc"]), ours, key="oci_runc")
    runs.append(f"15. {nruns('g15')}")
    target("`mdk-oci` create + start + delete ≤ 0.5× crun's" + net, ratios["oci_crun"], 0.5, "×")

# 16. podman run --rm with mdk-oci as its runtime
if "g16" in groups:
    g = load("g16")
    sec = "16. `podman run --rm` with `--runtime mdk-oci`"
    ours = stat(g["podman-mdk-oci"])
    add(sec, "`podman --runtime …/mdk-oci run --rm --network none … mdkb-busybox /bin/true`"
        + (" (unwrapped)" if wrapped else ""), ours)
    w = g["wrapper"]["median"] if wrapped else 0.0
    add(sec, f"the same with podman's crun{nm}", stat(g["podman"], w), ours, key="podman_oci")
    if wrapped:
        add(sec, "the same with crun, raw (wrapper included)", stat(g["podman"]), ours)
        add(sec, "wrapper alone", stat(g["wrapper"]), ratio="(baseline)")
    runs.append(f"16. {nruns('g16')}")
    target("`podman --runtime mdk-oci run --rm` ≤ 0.95× with crun" + net, ratios["podman_oci"], 0.95, "×")

print("| measured | command | median | min – max | ours ÷ this |")
print("|---|---|---:|---:|---:|")
last = None
for sec, what, med, rng, ratio in rows:
    print(f"| {sec if sec != last else ''} | {what} | {med} | {rng} | {ratio} |")
    last = sec

print()
print(f"Runs per command (merged over interleaved rounds): {'; '.join(runs)}.")
print()
print("Targets:")
print()
for name, val, lim, unit in targets:
    print(f"- {name}: {val:.2f}{unit} — **{'met' if val <= lim else 'missed'}**")
