/* mdk-overlay-up: make a container's root: an overlay of image layers and a
 * fresh read-write layer, mounted where the host can see it.
 *
 * usage: mdk-overlay-up [-R ROOT] -l LAYER [-l LAYER]... ID
 *
 * Creates the rw layer ROOT/layers/ID+rw/ (fs/ = upperdir, work/ = workdir,
 * state = what was done, for mdk-overlay-down and garbage collectors) and the
 * mount point ROOT/rootfs/ID, and mounts overlay there (nodev: device nodes
 * an image carries cannot reach host devices) in the caller's mount
 * namespace. LAYERs are image names unpacked by mdk-unpack (or their
 * NAME@KEY directories), top first. Any failure undoes all of it.
 *
 * Exit codes: 0 mounted (prints the mount point), 1 failed, 2 usage error. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "mdk.h"

const char overlay_up_usage[] =
	"usage: mdk-overlay-up [-R ROOT] -l LAYER [-l LAYER]... ID\n"
	"Mount container ID's root at ROOT/rootfs/ID: an overlay of the image layers\n"
	"(top first) and a new rw layer ROOT/layers/ID+rw/{fs,work}. Prints the mount\n"
	"point. Undo with mdk-overlay-down ID.\n"
	"  -R ROOT   data root (default $MDK_ROOT, else " MDK_DEFAULT_ROOT ")\n"
	"  -l LAYER  image layer: a name made by mdk-unpack, or its NAME@KEY directory\n"
	"Exit codes: 0 mounted, 1 failed (nothing left behind), 2 usage error.\n";

#define MAX_LAYERS 64

/* "busybox", "busybox@1a2b..." or ".../layers/busybox@1a2b..." -> the
 * complete layer directory NAME@KEY in layers/. */
static int resolve_layer(int layersfd, const char *root, const char *arg, char *out, size_t n)
{
	const char *base = strrchr(arg, '/') ? strrchr(arg, '/') + 1 : arg;
	const char *at = strchr(base, '@');
	struct stat st;

	/* A path must be this data root's layers/: never another store's. */
	if (base != arg && ((size_t)(base - arg) != strlen(root) + 8 || strncmp(arg, root, strlen(root)) ||
			    strncmp(arg + strlen(root), "/layers/", 8)))
		return errno = EXDEV, -1;

	if (!at)
		return layer_current(layersfd, base, out, n);
	snprintf(out, n, "%s", base);
	if (fstatat(layersfd, out, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return -1;
	return S_ISDIR(st.st_mode) ? 0 : (errno = ENOTDIR, -1);
}

int overlay_up_main(int argc, char **argv)
{
	const char *rootflag = NULL, *larg[MAX_LAYERS], *lower[MAX_LAYERS], *id;
	char *root, *rw, *upper, *work, *target, *mnt, opts[4096], ver[MAX_LAYERS][MDK_NAME_MAX + 16];
	size_t nl = 0;
	int c, rootfd, layersfd, rwfd = -1;
	bool made_target = false;
	struct stat st;
	FILE *f;

	opterr = 0;
	while ((c = getopt(argc, argv, "+R:l:")) != -1) {
		switch (c) {
		case 'R': rootflag = optarg; break;
		case 'l':
			if (nl == MAX_LAYERS)
				usage_die("at most %d layers", MAX_LAYERS);
			larg[nl++] = optarg;
			break;
		default: usage_die("unknown option '-%c'", optopt);
		}
	}
	if (argc - optind != 1)
		usage_die("expected one ID, got %d arguments", argc - optind);
	id = argv[optind];
	if (!valid_name(id))
		usage_die("invalid container ID '%s' (want [a-z0-9][a-z0-9._-]*, at most %d)",
			  id, MDK_NAME_MAX);
	if (!nl)
		usage_die("no image layer: give at least one -l LAYER");
	for (size_t i = 0; i < nl; i++) {
		const char *b = strrchr(larg[i], '/') ? strrchr(larg[i], '/') + 1 : larg[i];
		char name[MDK_NAME_MAX + 1];
		snprintf(name, sizeof(name), "%.*s", (int)strcspn(b, "@"), b);
		if (!valid_name(name))
			usage_die("invalid layer '%s'", larg[i]);
	}

	if ((rootfd = store_open(store_root(rootflag), &root)) < 0)
		die_errno("data root '%s'", store_root(rootflag));
	if ((layersfd = openat(rootfd, "layers", O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)
		die_errno("open '%s/layers'", root);
	for (size_t i = 0; i < nl; i++) {
		if (resolve_layer(layersfd, root, larg[i], ver[i], sizeof(ver[i])) < 0) {
			const char *b = strrchr(larg[i], '/') ? strrchr(larg[i], '/') + 1 : larg[i];
			if (errno == EXDEV)
				die("layer '%s' is not in this data root's %s/layers", larg[i], root);
			die("layer '%s' is not an unpacked image in %s/layers (run: mdk-unpack -R %s %.*s)",
			    larg[i], root, root, (int)strcspn(b, "@"), b);
		}
		lower[i] = xasprintf("%s/layers/%s", root, ver[i]);
	}
	rw = xasprintf("%s+rw", id);
	upper = xasprintf("%s/layers/%s/fs", root, rw);
	work = xasprintf("%s/layers/%s/work", root, rw);
	target = xasprintf("%s/rootfs/%s", root, id);
	mnt = xasprintf("rootfs/%s", id);
	if (overlay_opts(opts, sizeof(opts), lower, nl, upper, work) < 0)
		die("overlay options for '%s': %s", target, errno == E2BIG ?
		    "longer than a page (too many layers or too long a data root)" :
		    "a path contains ',', ':', '\\' or a newline");

	/* From here on, every failure undoes what this call made. mkdir of the
	 * rw layer is the claim on ID: it fails if ID exists in any state. */
	if (mkdirat(layersfd, rw, 0700) < 0) {
		if (errno == EEXIST)
			die("container '%s' already exists (%s/layers/%s)", id, root, rw);
		die_errno("mkdir '%s/layers/%s'", root, rw);
	}
	if ((rwfd = openat(layersfd, rw, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
		warn_errno("open '%s/layers/%s'", root, rw);
		goto fail;
	}
	/* The merged root takes its attributes from the upper dir: those of
	 * the image's root. */
	if (fstatat(layersfd, ver[0], &st, 0) < 0 || mkdirat(rwfd, "fs", st.st_mode & 07777) < 0 ||
	    fchownat(rwfd, "fs", st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW) < 0 ||
	    fchmodat(rwfd, "fs", st.st_mode & 07777, 0) < 0 || mkdirat(rwfd, "work", 0700) < 0) {
		warn_errno("make '%s/layers/%s/{fs,work}'", root, rw);
		goto fail;
	}
	/* Written before the mount: a caller killed after it leaves a record. */
	int sfd = openat(rwfd, "state", O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (sfd < 0 || !(f = fdopen(sfd, "w"))) {
		warn_errno("create '%s/layers/%s/state'", root, rw);
		goto fail;
	}
	fprintf(f, "id=%s\nmount=%s\nupper=%s\nlayers=", id, target, upper);
	for (size_t i = 0; i < nl; i++)
		fprintf(f, "%s%s", i ? " " : "", ver[i]);
	fprintf(f, "\ncreated=%lld\n", (long long)time(NULL));
	if (fclose(f) != 0) {
		warn_errno("write '%s/layers/%s/state'", root, rw);
		goto fail;
	}
	if (mkdirat(rootfd, mnt, 0755) < 0) {
		warn_errno(errno == EEXIST ? "mount point '%s' exists already" : "mkdir '%s'", target);
		goto fail;
	}
	made_target = true;
	if (mount("overlay", target, "overlay", MS_NODEV, opts) < 0) {
		warn_errno("mount source 'overlay' on '%s', type overlay, flags nodev, options '%s'",
			   target, opts);
		goto fail;
	}
	printf("%s\n", target);
	return 0;
fail:
	/* Nothing was mounted (the mount is the last step); remove what we made. */
	if (made_target && unlinkat(rootfd, mnt, AT_REMOVEDIR) < 0)
		warn_errno("rollback: rmdir '%s'", target);
	if (rm_tree_nocross(layersfd, rw) < 0)
		warn_errno("rollback: remove '%s/layers/%s'", root, rw);
	return 1;
}
