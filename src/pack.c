/* The one tar writer: a directory tree as a pax stream (mdk-pack, commit,
 * save, export). Numeric owners, modes, times, symlinks, hard links,
 * devices, fifos and the extended attributes an image may carry
 * (entry_filter_xattrs: overlay's private ones never leave). Mounts below the
 * tree are not entered. Holes are written as zeros.
 *
 * PACK_LAYER reads the tree as an overlay layer (a container's upperdir, a
 * chains/ layer) and writes an image layer: a whiteout (character device
 * 0/0) becomes an empty file .wh.NAME, an opaque directory
 * (trusted.overlay.opaque=y) is followed by its .wh..wh..opq.
 *
 * The tree is read from inside: the caller chroots to it first when it is
 * hostile (a container's), so that no symlink swapped in while it is read
 * leads out of it. */
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/mount.h>
#include <nettle/sha2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "mdk.h"

struct out {
	int fd;
	bool hash;	/* (only when asked: a whole archive needs no digest) */
	struct sha256_ctx h;
	uint64_t size;
};

static la_ssize_t out_write(struct archive *a, void *arg, const void *buf, size_t n)
{
	struct out *o = arg;
	size_t off = 0;

	while (off < n) {
		ssize_t w = write(o->fd, (const char *)buf + off, n - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			archive_set_error(a, errno, "write: %s", strerror(errno));
			return -1;
		}
		off += (size_t)w;
	}
	if (o->hash)
		sha256_update(&o->h, n, buf);
	o->size += n;
	return (la_ssize_t)n;
}

/* SIZE bytes of the file on FD: what a file that shrank meanwhile lacks is
 * zeros, what it grew by is left out (the header said SIZE). Holes read as
 * zeros. */
static int copy_file(struct archive *out, int fd, int64_t size)
{
	static char buf[128 * 1024];
	int64_t pos = 0;

	while (pos < size) {
		size_t want = size - pos > (int64_t)sizeof(buf) ? sizeof(buf) : (size_t)(size - pos);
		ssize_t n = read(fd, buf, want);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0) {
			memset(buf, 0, want);
			n = (ssize_t)want;
		}
		if (archive_write_data(out, buf, (size_t)n) < 0)
			return -1;
		pos += n;
	}
	return 0;
}

/* Is E overlay's mark of an opaque directory? (Looked at before the
 * xattrs are filtered.) */
static bool opaque_dir(struct archive_entry *e)
{
	const char *name;
	const void *v;
	size_t n;

	if (archive_entry_filetype(e) != AE_IFDIR || archive_entry_xattr_reset(e) == 0)
		return false;
	while (archive_entry_xattr_next(e, &name, &v, &n) == ARCHIVE_OK)
		if (!strcmp(name, "trusted.overlay.opaque") && n == 1 && *(const char *)v == 'y')
			return true;
	return false;
}

/* E, a whiteout, as the empty file DIR/.wh.NAME. */
static void to_whiteout(struct archive_entry *e)
{
	const char *p = archive_entry_pathname(e), *base = strrchr(p, '/');
	char *w = base ? xasprintf("%.*s/.wh.%s", (int)(base - p), p, base + 1) : xasprintf(".wh.%s", p);

	archive_entry_set_pathname(e, w);
	free(w);
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, 0644);
	archive_entry_set_rdev(e, 0);
	archive_entry_set_size(e, 0);
	archive_entry_xattr_clear(e);
	/* Overlay links its whiteouts to one inode: each stands alone here. */
	archive_entry_set_nlink(e, 1);
}

/* DIR/.wh..wh..opq for the opaque directory E. */
static int write_opaque(struct archive *out, struct archive_entry *dir)
{
	struct archive_entry *m = archive_entry_new();
	const char *d = archive_entry_pathname(dir);
	size_t n = strlen(d);
	char *p;
	int r;

	while (n > 1 && d[n - 1] == '/')	/* (the writer may add one) */
		n--;
	p = xasprintf("%.*s/.wh..wh..opq", (int)n, d);
	if (!m)
		die("out of memory");
	archive_entry_set_pathname(m, p);
	archive_entry_set_filetype(m, AE_IFREG);
	archive_entry_set_perm(m, 0644);
	archive_entry_set_mtime(m, archive_entry_mtime(dir), 0);
	r = archive_write_header(out, m);
	archive_entry_free(m);
	free(p);
	return r < ARCHIVE_WARN ? -1 : 0;
}

struct walk {
	struct archive *disk, *out;
	struct archive_entry_linkresolver *links;
	dev_t dev;
	unsigned flags;
	const char *what;	/* the entry being written, for messages */
	char *err;
	size_t errlen;
};

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int lib_fail(struct walk *w, const char *path)
{
	const char *m = archive_error_string(w->out) ? archive_error_string(w->out) :
			archive_error_string(w->disk);
	snprintf(w->err, w->errlen, "%s: %s", path, m ? m : strerror(errno));
	return -1;
}

/* Write the entry PATH (NAME in DIRFD; ST its lstat), data included. */
static int emit(struct walk *w, int dirfd, const char *name, const char *path, const struct stat *st)
{
	struct archive_entry *e = archive_entry_new(), *x, *spare = NULL;
	struct stat now;
	int fd = -1, ret = -1;
	bool opaque = false;

	if (!e)
		die("out of memory");
	/* Through an fd where one can be had without side effects; libarchive
	 * takes the rest (symlinks, devices, fifos) by PATH, from the cwd. The
	 * name may have been swapped since ST was read (a running container):
	 * O_NONBLOCK so a fifo swapped in cannot hang us, and what was opened
	 * must be what was stat'ed, else its data would go out under ST's
	 * header. (A device swapped in is not opened at all where the tree is
	 * mounted nodev, as pack_confined's is.) */
	if (S_ISREG(st->st_mode) || S_ISDIR(st->st_mode)) {
		if ((fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK | O_CLOEXEC)) < 0 ||
		    fstat(fd, &now) < 0) {
			snprintf(w->err, w->errlen, "%s: %s", path, strerror(errno));
			goto out;
		}
		if ((now.st_mode & S_IFMT) != (st->st_mode & S_IFMT) || now.st_ino != st->st_ino ||
		    now.st_dev != st->st_dev) {
			snprintf(w->err, w->errlen, "%s: replaced while it was read", path);
			goto out;
		}
		st = &now;
	}
	archive_entry_copy_pathname(e, path);
	if (archive_read_disk_entry_from_file(w->disk, e, fd, st) < ARCHIVE_WARN) {
		lib_fail(w, path);
		goto out;
	}
	/* Only what a layer means: no access or change times, no names. */
	archive_entry_unset_atime(e);
	archive_entry_unset_ctime(e);
	archive_entry_unset_birthtime(e);
	archive_entry_set_uname(e, NULL);
	archive_entry_set_gname(e, NULL);
	if (w->flags & PACK_LAYER) {
		opaque = opaque_dir(e);
		if (S_ISCHR(st->st_mode) && st->st_rdev == makedev(0, 0))
			to_whiteout(e);
	}
	entry_filter_xattrs(e);
	x = e;
	archive_entry_linkify(w->links, &x, &spare);
	if (x) {
		if (archive_write_header(w->out, x) < ARCHIVE_WARN ||
		    (archive_entry_size(x) > 0 && !archive_entry_hardlink(x) &&
		     copy_file(w->out, fd, archive_entry_size(x)) < 0) ||
		    (opaque && write_opaque(w->out, x) < 0)) {
			lib_fail(w, path);
			goto out;
		}
	}
	ret = 0;
out:
	if (fd >= 0)
		close(fd);
	archive_entry_free(e);
	return ret;
}

/* The entries below directory DIRFD (PATH), by name: the same tree gives
 * the same stream. Directories on another filesystem (mounts) are written
 * but not entered. */
static int walk(struct walk *w, int dirfd, const char *path)
{
	int dfd = dup(dirfd), ret = -1;
	DIR *d = dfd < 0 ? NULL : fdopendir(dfd);
	struct dirent *de;
	char **names = NULL;
	size_t n = 0, cap = 0;

	if (!d) {
		snprintf(w->err, w->errlen, "%s: %s", path, strerror(errno));
		if (dfd >= 0)
			close(dfd);
		return -1;
	}
	errno = 0;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (n == cap && !(names = realloc(names, (cap = cap ? 2 * cap : 64) * sizeof(*names))))
			die("out of memory");
		names[n++] = xasprintf("%s", de->d_name);
	}
	if (errno) {
		snprintf(w->err, w->errlen, "%s: %s", path, strerror(errno));
		goto out;
	}
	if (n)	/* (qsort of no array: names is NULL) */
		qsort(names, n, sizeof(*names), name_cmp);
	for (size_t i = 0; i < n; i++) {
		struct stat st;
		char *p = *path ? xasprintf("%s/%s", path, names[i]) : xasprintf("%s", names[i]);
		int r = fstatat(dirfd, names[i], &st, AT_SYMLINK_NOFOLLOW) < 0 ? -1 : 0;

		if (r < 0)
			snprintf(w->err, w->errlen, "%s: %s", p, strerror(errno));
		else
			r = emit(w, dirfd, names[i], p, &st);
		if (r == 0 && S_ISDIR(st.st_mode) && st.st_dev == w->dev) {
			int sub = openat(dirfd, names[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (sub < 0) {
				snprintf(w->err, w->errlen, "%s: %s", p, strerror(errno));
				r = -1;
			} else {
				r = walk(w, sub, p);
				close(sub);
			}
		}
		free(p);
		if (r < 0)
			goto out;
	}
	ret = 0;
out:
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	closedir(d);
	return ret;
}

int pack_tree(const char *dir, int fd, unsigned flags, struct pack_result *res, char *err, size_t errlen)
{
	struct out o = { .fd = fd, .hash = res != NULL };
	struct walk w = { .disk = archive_read_disk_new(), .out = archive_write_new(),
			  .links = archive_entry_linkresolver_new(), .flags = flags, .err = err,
			  .errlen = errlen };
	struct stat st;
	int top = -1, ret = -1;

	if (!w.disk || !w.out || !w.links)
		die("out of memory");
	sha256_init(&o.h);
	archive_write_set_format_pax_restricted(w.out);
	if (flags & PACK_GZIP)
		archive_write_add_filter_gzip(w.out);
	/* No padding past the end: the stream's hash is the file's. */
	archive_write_set_bytes_in_last_block(w.out, 1);
	/* Hard links: the first name carries the data, the others link to it. */
	archive_entry_linkresolver_set_strategy(w.links, ARCHIVE_FORMAT_TAR_PAX_RESTRICTED);
	if (archive_write_open(w.out, &o, NULL, out_write, NULL) != ARCHIVE_OK) {
		snprintf(err, errlen, "%s", archive_error_string(w.out));
		goto done;
	}
	if ((top = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 || fstat(top, &st) < 0) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		goto done;
	}
	w.dev = st.st_dev;
	/* Entries are named "./NAME", or NAME (paths from the cwd, which DIR is). */
	if (flags & PACK_BARE ? walk(&w, top, "") < 0 :
	    emit(&w, AT_FDCWD, dir, ".", &st) < 0 || walk(&w, top, ".") < 0)
		goto done;
	if (archive_write_close(w.out) != ARCHIVE_OK) {
		lib_fail(&w, dir);
		goto done;
	}
	if (res) {
		uint8_t d[SHA256_DIGEST_SIZE];
		sha256_digest(&o.h, sizeof(d), d);
		memcpy(res->digest, "sha256:", 7);
		for (size_t i = 0; i < sizeof(d); i++)
			snprintf(res->digest + 7 + 2 * i, 3, "%02x", d[i]);
		res->size = o.size;
	}
	ret = 0;
done:
	if (top >= 0)
		close(top);
	archive_entry_linkresolver_free(w.links);
	archive_read_free(w.disk);
	archive_write_free(w.out);
	return ret;
}

/* pack_tree of directory DIRFD from inside a chroot of it, in a child that
 * keeps no fd but OUT and its report's, and can gain no privilege: for the
 * trees a container or an image wrote. OUT is synced when it is a file. */
int pack_confined(int dirfd, int out, unsigned flags, struct pack_result *res, char *err, size_t errlen)
{
	struct pack_result r = { 0 };
	char msg[600] = "";
	int p[2], st;
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) < 0) {
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		return -1;
	}
	fflush(NULL);
	if ((pid = fork()) < 0) {
		snprintf(err, errlen, "fork: %s", strerror(errno));
		close(p[0]);
		close(p[1]);
		return -1;
	}
	if (!pid) {
		/* The caller's stop handlers would only set its flag here: a ^C
		 * to the group ends the packer. */
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		signal(SIGHUP, SIG_DFL);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
		/* The tree through a detached bind mount of it that is nodev (a
		 * device node swapped in for a file the walk saw cannot be
		 * opened: no host disk read into the layer, no driver's open
		 * run), nosuid, noexec and read-only; its root is our root. */
		struct mount_attr ma = { .attr_set = MOUNT_ATTR_NODEV | MOUNT_ATTR_NOSUID |
						     MOUNT_ATTR_NOEXEC | MOUNT_ATTR_RDONLY };
		int tree = (int)syscall(SYS_open_tree, dirfd, "",
					OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH);
		/* Without the mount API (before Linux 5.12) the tree itself:
		 * emit's check still keeps a swapped-in device's data out. */
		if (tree < 0 && errno == ENOSYS)
			tree = dirfd;
		else if (tree >= 0 && syscall(SYS_mount_setattr, tree, "", AT_EMPTY_PATH, &ma, sizeof(ma)) < 0)
			tree = -1;
		int null = open("/dev/null", O_RDWR | O_CLOEXEC);
		if (tree < 0) {
			snprintf(msg, sizeof(msg), "mount the tree nodev: %s", strerror(errno));
		} else if (fchdir(tree) < 0 || chroot(".") < 0) {
			snprintf(msg, sizeof(msg), "confine the reader: %s", strerror(errno));
		} else {
			/* Not even the caller's terminal stays: /dev/null on 0-2. */
			for (int i = 0; i < 3 && null >= 0 && out > 2 && p[1] > 2; i++)
				dup2(null, i);
			close_fds_but(out, p[1], -1);
			if (pack_tree(".", out, flags, &r, msg, sizeof(msg)) == 0 && fsync(out) < 0 &&
			    errno != EINVAL)
				snprintf(msg, sizeof(msg), "write: %s", strerror(errno));
		}
		if (write(p[1], &r, sizeof(r)) != sizeof(r) || write(p[1], msg, strlen(msg)) < 0)
			_exit(1);
		_exit(msg[0] ? 1 : 0);
	}
	close(p[1]);
	/* Interrupted (the caller caught a stop signal): the packer is ended
	 * then, not waited for to the end of a tree that may never end. */
	ssize_t got, m;
	while ((got = read(p[0], &r, sizeof(r))) < 0 && errno == EINTR)
		kill(pid, SIGKILL);
	while ((m = read(p[0], msg, sizeof(msg) - 1)) < 0 && errno == EINTR)
		kill(pid, SIGKILL);
	close(p[0]);
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR) {
			snprintf(err, errlen, "wait: %s", strerror(errno));
			return -1;
		}
	if (got == (ssize_t)sizeof(r) && m <= 0 && WIFEXITED(st) && !WEXITSTATUS(st)) {
		if (res)
			*res = r;
		return 0;
	}
	msg[m > 0 ? m : 0] = 0;
	snprintf(err, errlen, "%s", msg[0] ? msg : WIFSIGNALED(st) ? "killed" : "failed");
	return -1;
}
