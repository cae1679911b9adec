/* mdk-unpack: unpack an image archive into a read-only layer, once.
 *
 * usage: mdk-unpack [-R ROOT] [-q] [-c] [-n NAME] IMAGE | mdk-unpack [-R ROOT] -g
 *
 * IMAGE is a name looked up in ROOT/images/ (NAME.tar, .tar.gz, .tgz, .tar.xz,
 * .tar.zst, .tar.bz2) or a path to an archive (anything with a '/'). The
 * layer is extracted beside its final place and renamed into place only when
 * complete; a complete layer is reused without reading the archive; a changed
 * archive (size or mtime) gets a fresh layer. Concurrent unpacks of one image
 * extract it once, under its lock; an archive removed (mdk-image rm) while
 * an unpack waited for the lock is not unpacked. The archive is untrusted:
 * extraction is confined to the layer, and names with "..", absolute names,
 * trees deeper than 256 levels and file flags are refused. Needs root
 * (chroot). Prints the layer directory.
 *
 * With -g, garbage-collect: remove the layer versions that are neither an
 * image's current layer nor used by a container (each under its image's
 * lock), printing each. With -c, only check: print the layer if it is unpacked and current, else
 * exit 1 silently; nothing is extracted.
 *
 * Exit codes: 0 layer ready, 1 failed (nothing left behind) or -c: not
 * unpacked, 2 usage error. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mdk.h"

const char unpack_usage[] =
	"usage: mdk-unpack [-R ROOT] [-q] [-c] [-n NAME] IMAGE | mdk-unpack [-R ROOT] -g\n"
	"Unpack image archive IMAGE into the read-only layer ROOT/layers/NAME, once,\n"
	"atomically and confined to the layer; print the layer directory.\n"
	"IMAGE: a name in ROOT/images/ (NAME.tar, .tar.gz, .tgz, .tar.xz, .tar.zst,\n"
	"       .tar.bz2), or a path to an archive (contains a '/').\n"
	"  -R ROOT  data root (default $MDK_ROOT, else " MDK_DEFAULT_ROOT ")\n"
	"  -n NAME  layer name for a path IMAGE (default: file name less extensions)\n"
	"  -q       no progress line\n"
	"  -c       check only: print the layer if unpacked and current, else exit 1\n"
	"  -g       remove old layer versions no image and no container uses; print them\n"
	"Exit codes: 0 layer ready, 1 failed (nothing left behind), 2 usage error.\n";

static volatile sig_atomic_t stop_sig;
static void on_signal(int sig) { stop_sig = sig; }

/* Open ROOT/images/NAME.{tar,...}: the first that exists. */
static int open_image(int rootfd, const char *root, const char *name, char **path)
{
	char *rel;
	int fd = image_archive_open(rootfd, name, &rel);

	if (rel) {
		*path = xasprintf("%s/%s", root, rel);
		free(rel);
		return fd;
	}
	die("%s: no image archive %s/images/%s.tar (or .tar.gz, .tgz, .tar.xz, .tar.zst, .tar.bz2)",
	    name, root, name);
}

/* The archive IMAGE (a path, or NAME in images/), checked to be a file. */
static int open_archive(int rootfd, const char *root, const char *image, const char *name,
			char **path, struct stat *st)
{
	int fd;

	if (strchr(image, '/')) {
		*path = (char *)image;
		fd = open(*path, O_RDONLY | O_CLOEXEC);
	} else {
		fd = open_image(rootfd, root, name, path);
	}
	if (fd < 0)
		die_errno("open '%s'", *path);
	if (fstat(fd, st) < 0)
		die_errno("stat '%s'", *path);
	if (!S_ISREG(st->st_mode))
		die("%s: '%s' is not a regular file", name, *path);
	return fd;
}

int unpack_main(int argc, char **argv)
{
	const char *rootflag = NULL, *name = NULL, *image;
	char *root, *path = NULL, version[MDK_NAME_MAX + 16], cur[sizeof(version)];
	char tmp[MDK_NAME_MAX + 32];
	bool quiet = false, check = false, gc = false;
	struct stat st;
	int c, fd, rootfd, layersfd, lockfd, tmpfd;

	opterr = 0;
	while ((c = getopt(argc, argv, "+R:n:qcg")) != -1) {
		switch (c) {
		case 'c': check = true; break;
		case 'g': gc = true; break;
		case 'R': rootflag = optarg; break;
		case 'n': name = optarg; break;
		case 'q': quiet = true; break;
		default: usage_die("unknown option '-%c'", optopt);
		}
	}
	if (gc) {
		if (argc != optind)
			usage_die("-g takes no IMAGE");
		if ((rootfd = store_open(store_root(rootflag), &root)) < 0)
			die_errno("data root '%s'", store_root(rootflag));
		if ((layersfd = openat(rootfd, "layers", O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0 ||
		    layer_gc(layersfd) < 0)
			die_errno("remove old layers in '%s/layers'", root);
		return 0;
	}
	if (argc - optind != 1)
		usage_die("expected one IMAGE, got %d arguments", argc - optind);
	image = argv[optind];
	if (!strchr(image, '/')) {
		if (name)
			usage_die("-n is for a path IMAGE; '%s' is already a name", image);
		name = image;
	} else if (!name) {
		name = archive_name(image);
	}
	if (!valid_name(name))
		usage_die("invalid image name '%s' (want [a-z0-9][a-z0-9._-]*, at most %d)",
			  name, MDK_NAME_MAX);

	if ((rootfd = store_open(store_root(rootflag), &root)) < 0)
		die_errno("data root '%s'", store_root(rootflag));
	fd = open_archive(rootfd, root, image, name, &path, &st);
	if ((layersfd = openat(rootfd, "layers", O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)
		die_errno("open '%s/layers'", root);
	layer_version(name, &st, version, sizeof(version));

	/* The common case, a layer made before: a few syscalls, no lock. */
	if (layer_current(layersfd, name, cur, sizeof(cur)) == 0 && !strcmp(cur, version))
		goto done;
	if (check)
		return 1;

	/* Another run unpacking it: a user at a terminal is told why we wait. */
	if ((lockfd = layer_lock(layersfd, name, LOCK_EX | LOCK_NB)) < 0 && errno == EWOULDBLOCK) {
		if (isatty(STDERR_FILENO))
			warn("waiting for another unpack of image '%s' to finish", name);
		lockfd = layer_lock(layersfd, name, LOCK_EX);
	}
	if (lockfd < 0)
		die_errno("lock '%s/layers/.%s.lock'", root, name);
	/* An rmi may have removed or replaced the archive while we waited:
	 * never publish a layer of an image that is gone. */
	if (!strchr(image, '/')) {
		close(fd);
		fd = open_archive(rootfd, root, image, name, &path, &st);
		layer_version(name, &st, version, sizeof(version));
	}
	/* Another mdk-unpack may have made it while we waited. */
	struct stat vst;
	if (fstatat(layersfd, version, &vst, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(vst.st_mode))
		goto publish;
	if (layer_clean_debris(layersfd, name) < 0)
		die_errno("%s: remove debris of an earlier unpack in '%s/layers'", name, root);

	/* Interrupted: stop at the next entry and remove the partial layer. */
	catch_stop_signals(on_signal);

	snprintf(tmp, sizeof(tmp), ".tmp-%s@%ld", name, (long)getpid());
	if (mkdirat(layersfd, tmp, 0755) < 0)
		die_errno("mkdir '%s/layers/%s'", root, tmp);
	if ((tmpfd = openat(layersfd, tmp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0 ||
	    fchdir(tmpfd) < 0) {
		warn_errno("open '%s/layers/%s'", root, tmp);
		goto fail;
	}

	struct extract x = {
		.fd = fd, .label = name, .total = st.st_size,
		.progress = !quiet && isatty(STDERR_FILENO), .stop = &stop_sig,
	};
	/* Confine every path the archive names to the layer. libarchive's own
	 * checks alone are not enough (a hard link to a planted symlink is
	 * chmod'ed through it), so without chroot there is no unpack. */
	if (chroot(".") < 0) {
		warn_errno("%s: confine the extraction: chroot '%s/layers/%s' (run as root)",
			   name, root, tmp);
		goto fail;
	}
	if (extract_archive(&x) < 0) {
		warn("%s: %s", name, x.err);
		goto fail;
	}
	if (renameat(layersfd, tmp, layersfd, version) < 0) {
		warn_errno("rename '%s/layers/%s' to '%s'", root, tmp, version);
		goto fail;
	}
publish:
	if (layer_publish(layersfd, name, version) < 0)
		die_errno("%s: link '%s/layers/%s' to '%s'%s", name, root, name, version,
			  errno == EEXIST ? " (not a layer made by mdk-unpack: remove it)" : "");
done:
	printf("%s/layers/%s\n", root, version);
	return 0;
fail:
	if (rm_tree_nocross(layersfd, tmp) < 0)
		warn_errno("remove '%s/layers/%s'", root, tmp);
	if (stop_sig) {
		signal(stop_sig, SIG_DFL);
		raise(stop_sig);
	}
	return 1;
}

/* For mdk-overlay-up -a: ARCHIVE (a path, or a name in ROOT/images) made
 * layer NAME, unless its current layer is there already (the common case:
 * no fork). An extraction runs this applet in a child, as if exec'd: it
 * chroots, and dies on its own. Dies (exit 1) when that fails. */
void unpack_once(const char *root, int rootfd, const char *archive, const char *name)
{
	char *path, version[MDK_NAME_MAX + 16], cur[sizeof(version)];
	char *av[] = { "mdk-unpack", "-R", (char *)root, "-n", (char *)name, (char *)archive, NULL };
	struct stat st;
	int fd = open_archive(rootfd, root, archive, name, &path, &st), layersfd, status;
	bool current;
	pid_t pid;

	if ((layersfd = openat(rootfd, "layers", O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)
		die_errno("open '%s/layers'", root);
	layer_version(name, &st, version, sizeof(version));
	current = layer_current(layersfd, name, cur, sizeof(cur)) == 0 && !strcmp(cur, version);
	close(layersfd);
	close(fd);
	if (current)
		return;
	fflush(NULL);
	if ((pid = fork()) < 0)
		die_errno("fork");
	if (pid == 0) {
		/* As if exec'd: none of mdk-overlay-up's fds (the data root, its
		 * layers) goes into the chroot; its output (the layer) is not ours;
		 * a name IMAGE takes no -n. */
		close_fds_except(-1);
		if ((fd = open("/dev/null", O_WRONLY | O_CLOEXEC)) < 0 || dup2(fd, 1) < 0)
			die_errno("open '/dev/null'");
		if (!strchr(archive, '/'))
			av[3] = (char *)archive, av[4] = NULL;
		optind = 0;
		exit(unpack_main(strchr(archive, '/') ? 6 : 4, av));
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			die_errno("wait for the unpack");
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		exit(1);
}
