/* mdk-pivot: switch root into NEWROOT and exec CMD -- busybox switch_root
 * for scripts and rescue shells, but in a mount namespace of its own.
 *
 * usage: mdk-pivot NEWROOT CMD [ARG]...
 *
 * In a new mount namespace (so the host's root is never pivoted): mounts
 * made private, NEWROOT bound on itself, a new /dev (tmpfs: null zero full
 * random urandom tty, pts, shm, fd links; never NEWROOT's device nodes), a
 * fresh /proc and /sys read-only, each moved onto NEWROOT's directory opened
 * once, then pivot_root and the old root detached; exec CMD with the
 * environment as it is. NEWROOT's proc, sys and dev must be directories
 * (missing ones are made); a symlink is refused.
 *
 * Exit codes: 125 setup failed (the step is named), 126 CMD not executable,
 * 127 CMD not found; otherwise CMD replaces mdk-pivot. */
#include <errno.h>
#include <sched.h>
#include <string.h>
#include <unistd.h>

#include "mdk.h"

const char pivot_usage[] =
	"usage: mdk-pivot NEWROOT CMD [ARG]...\n"
	"In a new mount namespace, pivot_root into NEWROOT, mount a fresh /proc, /dev\n"
	"(tmpfs with null, zero, full, random, urandom, tty, pts, shm) and read-only\n"
	"/sys, then exec CMD. NEWROOT's proc, sys and dev must not be symlinks.\n"
	"Exit codes: 125 setup failed, 126 CMD not executable, 127 CMD not found.\n";

int pivot_main(int argc, char **argv)
{
	struct rootfs r = { 0 };

	die_status = usage_status = 125;
	if (argc > 1 && argv[1][0] == '-' && strcmp(argv[1], "--"))
		usage_die("unknown option '%s'", argv[1]);
	if (argc > 1 && !strcmp(argv[1], "--"))
		argc--, argv++;
	if (argc < 3)
		usage_die("expected NEWROOT and CMD");
	r.root = argv[1];
	if (unshare(CLONE_NEWNS) < 0)
		die_errno("unshare mount namespace");
	if (rootfs_enter(&r) < 0)
		die("%s", r.err);
	close_fds_except(-1);
	execvp(argv[2], argv + 2);
	int e = errno;
	errno = e;
	die_status = exec_status(e);
	die_errno("exec '%s'", argv[2]);
}
