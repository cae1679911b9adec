/* mdk-overlay-up: make a container's root: an overlay of image layers and a
 * fresh read-write layer, mounted where the host can see it.
 *
 * usage: mdk-overlay-up [-R ROOT] -l LAYER [-l LAYER]... ID
 *        mdk-overlay-up [-R ROOT] [-c] [-i IMAGE] [-a ARCHIVE [-n NAME]] ID
 *
 * Creates the rw layer ROOT/layers/ID+rw/ (fs/ = upperdir, work/ = workdir,
 * state = what was done, for mdk-overlay-down and garbage collectors) and the
 * mount point ROOT/rootfs/ID, and mounts overlay there (nodev: device nodes
 * an image carries cannot reach host devices) in the caller's mount
 * namespace. LAYERs are image names unpacked by mdk-unpack (or their
 * NAME@KEY directories), top first; or IMAGE, an image loaded by mdk-load
 * (NAME[:TAG] or ID): its layers, by their short names in ROOT/l/; an IMAGE
 * that names no loaded image may be an archive in ROOT/images. ARCHIVE (a
 * path, or a name in ROOT/images) is unpacked first unless its layer is
 * current, as mdk-unpack does (a run in one exec: each costs a millisecond);
 * with -i, it is the image to use when the data root has no IMAGE (m-docker's
 * built-in images). -c writes a loaded image's run settings (mdk-image
 * config's lines) to the rw layer's "config", for the caller. Either
 * way under a shared lock (the image's in layers/, or the store's) from
 * resolving the layers until the state is written: no rmi removes them
 * meanwhile, and every rmi after sees the container. The mount is made
 * from ROOT with relative paths, so 128 layers fit in the kernel's page of
 * options; redirect_dir and metacopy stay off (layers are untrusted). Any
 * failure undoes all of it.
 *
 * Exit codes: 0 mounted (prints the mount point), 1 failed, 2 usage error. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "mdk.h"

const char overlay_up_usage[] =
	"usage: mdk-overlay-up [-R ROOT] -l LAYER [-l LAYER]... ID\n"
	"       mdk-overlay-up [-R ROOT] [-c] [-i IMAGE] [-a ARCHIVE [-n NAME]] ID [-- OPTS]\n"
	"Mount container ID's root at ROOT/rootfs/ID: an overlay of the image layers\n"
	"(top first) and a new rw layer ROOT/layers/ID+rw/{fs,work}. Prints the mount\n"
	"point. Undo with mdk-overlay-down ID.\n"
	"  -R ROOT     data root (default $MDK_ROOT, else " MDK_DEFAULT_ROOT ")\n"
	"  -l LAYER    image layer: a name made by mdk-unpack, or its NAME@KEY directory\n"
	"  -i IMAGE    an image loaded by mdk-load (NAME[:TAG], or its ID): all its\n"
	"              layers; else an archive IMAGE in ROOT/images, as -a IMAGE\n"
	"  -a ARCHIVE  an image archive (a path, or a name in ROOT/images), unpacked\n"
	"              first as mdk-unpack does; with -i, used if there is no IMAGE\n"
	"  -n NAME     the layer name for -a (default: IMAGE, or the file name)\n"
	"  -c          write a loaded image's run settings (mdk-image config) to\n"
	"              ROOT/layers/ID+rw/config\n"
	"  ID -- OPTS  check mdk-run's OPTS first (as mdk-run --check): a run that\n"
	"              cannot start makes nothing (exit 125)\n"
	"Exit codes: 0 mounted, 1 failed (nothing left behind), 2 usage error.\n";

#define MAX_LAYERS MDK_IMAGE_LAYERS_MAX

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

static void resolve_layer_or_die(int layersfd, const char *root, const char *arg, char *out,
				 size_t n)
{
	const char *b = strrchr(arg, '/') ? strrchr(arg, '/') + 1 : arg;

	if (resolve_layer(layersfd, root, arg, out, n) == 0)
		return;
	if (errno == EXDEV)
		die("layer '%s' is not in this data root's %s/layers", arg, root);
	die("layer '%s' is not an unpacked image in %s/layers (run: mdk-unpack -R %s %.*s)", arg,
	    root, root, (int)strcspn(b, "@"), b);
}

/* mdk-run --check OPTS..., in this process: it exits (125) if one is bad. */
static void check_run_options(int n, char **opts)
{
	char **v = calloc((size_t)n + 3, sizeof(*v));
	int die_was = die_status, usage_was = usage_status;

	if (!v)
		die("out of memory");
	v[0] = "mdk-run";
	v[1] = "--check";
	memcpy(v + 2, opts, (size_t)n * sizeof(*v));
	optind = 0;	/* getopt starts afresh */
	run_main(n + 2, v);
	die_status = die_was;
	usage_status = usage_was;
	opterr = 0;
	free(v);
}

int overlay_up_main(int argc, char **argv)
{
	const char *rootflag = NULL, *larg[MAX_LAYERS], *lower[MAX_LAYERS], *id, *image = NULL;
	const char *archive = NULL, *aname = NULL;
	bool want_config = false;
	char *root, *rw, *upper, *work, *target, *mnt, opts[4096], ver[MAX_LAYERS][MDK_NAME_MAX + 16];
	size_t nl = 0;
	int c, rootfd, layersfd, rwfd = -1;
	bool made_target = false;
	struct stat st;
	FILE *f;

	opterr = 0;
	static struct image im;
	char imgid[65];

	while ((c = getopt(argc, argv, "+R:l:i:a:n:c")) != -1) {
		switch (c) {
		case 'R': rootflag = optarg; break;
		case 'i': image = optarg; break;
		case 'a': archive = optarg; break;
		case 'n': aname = optarg; break;
		case 'c': want_config = true; break;
		case 'l':
			if (nl == MAX_LAYERS)
				usage_die("at most %d layers", MAX_LAYERS);
			larg[nl++] = optarg;
			break;
		default: usage_die("unknown option '-%c'", optopt);
		}
	}
	/* After ID, "--" and the options mdk-run will get: checked first, so a
	 * run that cannot start makes nothing, not even its image's unpack
	 * (m-docker's way: no exec of its own for the check). */
	if (argc - optind > 1 && !strcmp(argv[optind + 1], "--")) {
		int idx = optind;
		check_run_options(argc - idx - 2, argv + idx + 2);
		optind = idx;
		argc = idx + 1;
	}
	if (argc - optind != 1)
		usage_die("expected one ID, got %d arguments", argc - optind);
	id = argv[optind];
	if (!valid_name(id))
		usage_die("invalid container ID '%s' (want [a-z0-9][a-z0-9._-]*, at most %d)",
			  id, MDK_NAME_MAX);
	if (!nl == !(image || archive))
		usage_die(nl ? "-i IMAGE or -a ARCHIVE and -l LAYER exclude each other" :
			       "no image layer: give -i IMAGE, -a ARCHIVE or at least one -l LAYER");
	if (aname && !archive)
		usage_die("-n NAME is the layer name for -a ARCHIVE");
	if (archive && !strchr(archive, '/') && aname)
		usage_die("-n is for a path ARCHIVE; '%s' is already a name", archive);
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
	if (image) {
		/* Held until we exit: the image's layers stay while we mount them.
		 * (A data root that never loaded an image has no store to lock.) */
		bool store = fstatat(rootfd, "image", &st, AT_SYMLINK_NOFOLLOW) == 0;
		int lk = store ? store_lock(rootfd, LOCK_SH) : -1;
		if (store && lk < 0)
			die_errno("lock '%s/.store.lock'", root);
		if (!store || image_resolve(rootfd, image, imgid) < 0) {
			int e = store ? errno : ENOENT, fd;
			char *rel;
			if (e != ENOENT && !archive)
				die("'%s' is not a valid image reference or ID", image);
			/* No loaded IMAGE: an archive by that name, else ARCHIVE. */
			fd = valid_name(image) ? image_archive_open(rootfd, image, &rel) : -1;
			if (fd >= 0) {
				close(fd);
				free(rel);
				archive = image;
				aname = NULL;
			} else if (!archive) {
				die("no image '%s' in %s: none loaded, and no archive %s/images/%s.tar "
				    "(or .tar.gz, ...)", image, root, root, image);
			} else if (strchr(archive, '/') && access(archive, F_OK) < 0) {
				die("no image '%s': none loaded by that name, and no archive file '%s'",
				    image, archive);
			}
			if (!aname && strchr(archive, '/'))
				aname = image;
			/* An archive's layer is held by its own lock (below). */
			if (lk >= 0)
				close(lk);
			image = NULL;
		} else {
			archive = NULL;
		}
	}
	if (archive) {
		/* The layer's name: -n, else a name ARCHIVE, else IMAGE (above) or
		 * the file name less extensions. */
		if (!aname)
			aname = strchr(archive, '/') ? archive_name(archive) : archive;
		if (!valid_name(aname))
			usage_die("invalid image name '%s' (want [a-z0-9][a-z0-9._-]*, at most %d)",
				  aname, MDK_NAME_MAX);
		unpack_once(root, rootfd, archive, aname);
		larg[nl++] = aname;
	}
	if (image) {
		if (image_read(rootfd, imgid, &im) < 0)
			die_errno("read '%s/image/%s'", root, imgid);
		nl = im.nlayers;
		for (size_t i = 0; i < nl; i++) {
			const char *hex = im.layers[nl - 1 - i];
			char link[40], have[80], want[80];
			ssize_t k;
			snprintf(link, sizeof(link), "l/%.16s", hex);
			snprintf(want, sizeof(want), "../chains/%s", hex);
			k = readlinkat(rootfd, link, have, sizeof(have) - 1);
			if (k < 0 || ((have[k] = 0), strcmp(have, want)) ||
			    fstatat(rootfd, link, &st, 0) < 0 || !S_ISDIR(st.st_mode))
				die("image '%s': layer sha256:%s is missing from %s/chains (load it again)",
				    image, hex, root);
			snprintf(ver[i], sizeof(ver[i]), "%s", hex);
			lower[i] = xasprintf("%s", link);
		}
	}
	for (size_t i = 0; i < nl && !image; i++) {
		char name[MDK_NAME_MAX + 1];
		const char *b = strrchr(larg[i], '/') ? strrchr(larg[i], '/') + 1 : larg[i];
		snprintf(name, sizeof(name), "%.*s", (int)strcspn(b, "@"), b);
		/* Resolved once unlocked (no lock file for what is no layer), then
		 * again under the image's shared lock, held until we exit: past
		 * writing the state, so an rmi or -g (exclusive) either sees this
		 * container using the version or has removed it before we look. */
		resolve_layer_or_die(layersfd, root, larg[i], ver[i], sizeof(ver[i]));
		if (layer_lock(layersfd, name, LOCK_SH) < 0)
			die_errno("lock '%s/layers/.%s.lock'", root, name);
		resolve_layer_or_die(layersfd, root, larg[i], ver[i], sizeof(ver[i]));
		lower[i] = xasprintf("layers/%s", ver[i]);
	}
	rw = xasprintf("%s+rw", id);
	/* Relative to ROOT, where the mount is made from. */
	upper = xasprintf("layers/%s/fs", rw);
	work = xasprintf("layers/%s/work", rw);
	target = xasprintf("%s/rootfs/%s", root, id);
	mnt = xasprintf("rootfs/%s", id);
	/* The options hold paths relative to ROOT, but mountinfo and the
	 * tools that read it still see ROOT: keep refusing what they cannot
	 * tell apart. */
	if (root[strcspn(root, ",:\\\n")])
		die("overlay options for '%s': a path contains ',', ':', '\\' or a newline", target);
	if (overlay_opts(opts, sizeof(opts), lower, nl, upper, work) < 0)
		die("overlay options for '%s': %s", target, errno == E2BIG ?
		    "longer than a page (too many layers)" :
		    "a path contains ',', ':', '\\' or a newline");

	/* From here on, every failure undoes what this call made. mkdir of the
	 * rw layer is the claim on ID: it fails if ID exists in any state. */
	if (mkdirat(layersfd, rw, 0700) < 0) {
		if (errno == EEXIST)
			die("container '%s' already exists (%s/layers/%s); to free the name, remove "
			    "it: m-docker rm %s (rm -f if it still runs)", id, root, rw, id);
		die_errno("mkdir '%s/layers/%s'", root, rw);
	}
	if ((rwfd = openat(layersfd, rw, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
		warn_errno("open '%s/layers/%s'", root, rw);
		goto fail;
	}
	/* The merged root takes its attributes from the upper dir: those of
	 * the image's root. */
	if (fstatat(rootfd, lower[0], &st, 0) < 0 || mkdirat(rwfd, "fs", st.st_mode & 07777) < 0 ||
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
	fprintf(f, "id=%s\nmount=%s\nupper=%s/%s\n", id, target, root, upper);
	if (image)
		fprintf(f, "image=sha256:%s\n", imgid);
	fprintf(f, "layers=");
	for (size_t i = 0; i < nl; i++)
		fprintf(f, "%s%s", i ? " " : "", ver[i]);
	fprintf(f, "\ncreated=%lld\n", (long long)time(NULL));
	if (fclose(f) != 0) {
		warn_errno("write '%s/layers/%s/state'", root, rw);
		goto fail;
	}
	if (want_config && image) {
		int cfd = openat(rwfd, "config", O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (cfd < 0 || !(f = fdopen(cfd, "w"))) {
			warn_errno("create '%s/layers/%s/config'", root, rw);
			goto fail;
		}
		if (image_config_write(rootfd, imgid, f) < 0) {
			if (errno == EINVAL)
				warn("image '%s': a config value holds a newline: not supported", image);
			else
				warn_errno("write '%s/layers/%s/config'", root, rw);
			fclose(f);
			goto fail;
		}
		if (fclose(f) != 0) {
			warn_errno("write '%s/layers/%s/config'", root, rw);
			goto fail;
		}
	}
	if (mkdirat(rootfd, mnt, 0755) < 0) {
		warn_errno(errno == EEXIST ? "mount point '%s' exists already" : "mkdir '%s'", target);
		goto fail;
	}
	made_target = true;
	/* The options' paths are relative to ROOT (short: 128 layers fit). */
	if (fchdir(rootfd) < 0) {
		warn_errno("chdir '%s'", root);
		goto fail;
	}
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
