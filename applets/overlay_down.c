/* mdk-overlay-down: unmount a container's root and delete its rw layer,
 * without ever deleting through a mount.
 *
 * usage: mdk-overlay-down [-R ROOT] ID
 *
 * Unmounts everything at or below ROOT/rootfs/ID (volumes, /proc, the
 * overlay), deepest first, then deletes ROOT/layers/ID+rw and the mount
 * point. If a mount will not go (busy), says which and who holds it, deletes
 * nothing and fails; a later call finishes the job. The deletion never
 * follows a symlink or enters another mount. The image layers stay.
 * Idempotent: works on a half-made or half-removed container.
 *
 * Exit codes: 0 gone, 1 failed (busy, or no such container), 2 usage error. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mdk.h"

const char overlay_down_usage[] =
	"usage: mdk-overlay-down [-R ROOT] ID\n"
	"Unmount container ID's root ROOT/rootfs/ID and everything below it, deepest\n"
	"first, then delete its rw layer ROOT/layers/ID+rw and the mount point. A busy\n"
	"mount stops it before anything is deleted. Image layers are kept.\n"
	"  -R ROOT  data root (default $MDK_ROOT, else " MDK_DEFAULT_ROOT ")\n"
	"Exit codes: 0 removed, 1 failed (busy mount, unknown ID), 2 usage error.\n";

int overlay_down_main(int argc, char **argv)
{
	const char *rootflag = NULL, *id;
	char *root, *rw, *target, *busy, holder[256];
	int c, rootfd, layersfd, rootfsfd, ret = 0;
	struct stat st;

	opterr = 0;
	while ((c = getopt(argc, argv, "+R:")) != -1) {
		switch (c) {
		case 'R': rootflag = optarg; break;
		default: usage_die("unknown option '-%c'", optopt);
		}
	}
	if (argc - optind != 1)
		usage_die("expected one ID, got %d arguments", argc - optind);
	id = argv[optind];
	if (!valid_name(id))
		usage_die("invalid container ID '%s'", id);

	if ((rootfd = store_open(store_root(rootflag), &root)) < 0)
		die_errno("data root '%s'", store_root(rootflag));
	if ((layersfd = openat(rootfd, "layers", O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0 ||
	    (rootfsfd = openat(rootfd, "rootfs", O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)
		die_errno("open '%s'", root);
	rw = xasprintf("%s+rw", id);
	target = xasprintf("%s/rootfs/%s", root, id);

	char **m = mounts_under(target);
	if (!m)
		die_errno("read /proc/self/mountinfo");
	bool mounted = m[0] != NULL;
	free_strv(m);
	if (!mounted && fstatat(rootfsfd, id, &st, AT_SYMLINK_NOFOLLOW) < 0 && errno == ENOENT &&
	    fstatat(layersfd, rw, &st, AT_SYMLINK_NOFOLLOW) < 0 && errno == ENOENT)
		die("no such container '%s' in %s", id, root);

	/* A container still running on this root has its own mount namespace's
	 * copy of the overlay: unmounting ours would not be "busy", and the rw
	 * layer would vanish under it. Any process whose root is on it stops us. */
	if (mounted) {
		pid_t pid = root_user(target);
		if (pid > 0)
			die("container '%s' still runs (pid %d has its root on %s); nothing deleted", id,
			    (int)pid, target);
	}
	if (umount_tree(target, &busy) < 0) {
		if (!busy)
			die_errno("unmount '%s'", target);
		int e = errno;
		mount_holder(busy, holder, sizeof(holder));
		die("umount '%s': %s%s%s; nothing deleted", busy, strerror(e),
		    *holder ? ", held by " : "", holder);
	}
	/* Unmounted: what is left are plain directories on the store's own
	 * filesystem. rm_tree_nocross still refuses to enter any mount, and a
	 * mount point that would not go keeps the rw layer (its upper dir). */
	if (rm_tree_nocross(rootfsfd, id) < 0)
		die_errno("remove '%s'; rw layer kept", target);
	if (rm_tree_nocross(layersfd, rw) < 0) {
		warn_errno("remove '%s/layers/%s'", root, rw);
		ret = 1;
	}
	return ret;
}
