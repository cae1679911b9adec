/* The one list of applets, sorted by name: APPLET(c_name, "applet-name").
 * Each is implemented by applets/<c_name>.c as <c_name>_main() and described
 * by <c_name>_usage[]. Adding an applet = one file + one line here. */
APPLET(cgroup, "mdk-cgroup")
APPLET(check, "mdk-check")
APPLET(commit, "mdk-commit")
APPLET(ctr, "mdk-ctr")
APPLET(exec, "mdk-exec")
APPLET(image, "mdk-image")
APPLET(load, "mdk-load")
APPLET(logs, "mdk-logs")
APPLET(overlay_down, "mdk-overlay-down")
APPLET(overlay_up, "mdk-overlay-up")
APPLET(pack, "mdk-pack")
APPLET(pivot, "mdk-pivot")
APPLET(rm, "mdk-rm")
APPLET(run, "mdk-run")
APPLET(unpack, "mdk-unpack")
APPLET(version, "mdk-version")
