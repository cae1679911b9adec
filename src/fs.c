/* Deleting trees without ever crossing into a mount: the seed's "umount,
 * ignore the error, rm -rf" deleted whatever was still mounted below. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <linux/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "mdk.h"

/* The id of the mount FD lives on. st_dev is not enough: a bind mount of a
 * directory of the same filesystem has the same st_dev. statx (Linux 5.8+)
 * answers in one syscall; /proc/self/fdinfo is the fallback. */
static int mount_id(int fd, uint64_t *id)
{
	struct statx stx;
	char path[64], buf[512];
	ssize_t n;
	int pfd;

	if (syscall(SYS_statx, fd, "", AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW,
		    STATX_MNT_ID, &stx) == 0 && (stx.stx_mask & STATX_MNT_ID)) {
		*id = stx.stx_mnt_id;
		return 0;
	}
	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	if ((pfd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -1;
	n = read(pfd, buf, sizeof(buf) - 1);
	close(pfd);
	if (n <= 0)
		return errno = EIO, -1;
	buf[n] = 0;
	char *m = strstr(buf, "mnt_id:");
	if (!m)
		return errno = ENOSYS, -1;
	*id = strtoull(m + 7, NULL, 10);
	return 0;
}

/* Subtrees deeper than this are moved up to the top of the tree being
 * deleted (rename within one mount), so the walk never holds more than this
 * many fds, however deep a hostile archive (symlinks into symlinks) made it. */
#define RM_MAX_DEPTH 64

struct rm { int topfd; uint64_t mnt; unsigned moved; };

/* Empty the directory FD (closed here); DEPTH levels below the top. */
static int rm_children(struct rm *rm, int fd, int depth)
{
	int err = 0;
	DIR *d = fdopendir(fd);

	if (!d) {
		err = errno;
		close(fd);
		return errno = err, -1;
	}
	for (bool again = true; again && !err;) {
		struct dirent *de;

		again = false;
		rewinddir(d);
		while ((de = readdir(d))) {
			const char *n = de->d_name;
			uint64_t id = rm->mnt;
			int cfd;

			if (n[0] == '.' && (!n[1] || (n[1] == '.' && !n[2])))
				continue;
			if (de->d_type != DT_DIR && de->d_type != DT_UNKNOWN) {
				if (unlinkat(fd, n, 0) < 0 && errno != ENOENT && !err)
					err = errno;
				continue;
			}
			cfd = openat(fd, n, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (cfd < 0) {
				/* Not a directory after all (DT_UNKNOWN), or a symlink. */
				if ((errno == ENOTDIR || errno == ELOOP) && unlinkat(fd, n, 0) == 0)
					continue;
				if (errno != ENOENT && !err)
					err = errno;
				continue;
			}
			if (mount_id(cfd, &id) < 0 || id != rm->mnt) {
				/* A mount point: leave it, and all below it, alone. */
				if (!err)
					err = id != rm->mnt ? EBUSY : errno;
				close(cfd);
				continue;
			}
			if (depth >= RM_MAX_DEPTH) {
				char up[32];
				long r;
				close(cfd);
				do {
					snprintf(up, sizeof(up), ".mdk-deep-%u", rm->moved++);
					r = syscall(SYS_renameat2, fd, n, rm->topfd, up, RENAME_NOREPLACE);
				} while (r < 0 && errno == EEXIST);
				if (r < 0 && !err)
					err = errno;
				continue;
			}
			if (rm_children(rm, cfd, depth + 1) < 0) {
				if (!err)
					err = errno;
				continue;
			}
			if (unlinkat(fd, n, AT_REMOVEDIR) < 0 && errno != ENOENT && !err)
				err = errno;
		}
		/* Moved-up subtrees, or entries readdir skipped while we deleted. */
		if (depth == 0 && rm->moved)
			again = true, rm->moved = 0;
	}
	closedir(d);
	return err ? (errno = err, -1) : 0;
}

int rm_tree_nocross(int dirfd, const char *name)
{
	uint64_t top = 0, id = 0;
	int fd;

	fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		if (errno == ENOTDIR || errno == ELOOP)
			return unlinkat(dirfd, name, 0) < 0 && errno != ENOENT ? -1 : 0;
		return -1;
	}
	if (mount_id(dirfd, &top) < 0 || mount_id(fd, &id) < 0 || id != top) {
		int e = errno;
		close(fd);
		return errno = id != top ? EBUSY : e, -1;
	}
	struct rm rm = { .topfd = fd, .mnt = top };
	if (rm_children(&rm, fd, 0) < 0)
		return -1;
	if (unlinkat(dirfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
		return -1;
	return 0;
}

int read_fd_max(int fd, size_t max, char **buf, size_t *len)
{
	struct stat st;
	size_t n = 0, cap = 4096;
	char *b;

	if (fstat(fd, &st) < 0)
		return -1;
	if (!S_ISREG(st.st_mode) && !S_ISFIFO(st.st_mode)) {
		errno = S_ISDIR(st.st_mode) ? EISDIR : EINVAL;
		return -1;
	}
	/* A pipe opened O_NONBLOCK is read blocking: wait for its writer. */
	if (S_ISFIFO(st.st_mode))
		fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	if (!(b = malloc(cap + 1)))
		return -1;
	for (;;) {
		ssize_t r;
		if (n == cap) {
			char *nb;
			if (cap > max) {
				free(b);
				errno = EFBIG;
				return -1;
			}
			cap *= 2;
			if (!(nb = realloc(b, cap + 1))) {
				free(b);
				return -1;
			}
			b = nb;
		}
		r = read(fd, b + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int e = errno;
			free(b);
			errno = e;
			return -1;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	if (n > max) {
		free(b);
		errno = EFBIG;
		return -1;
	}
	b[n] = 0;
	*buf = b;
	*len = n;
	return 0;
}

/* Replace PATH with TEXT whole: written beside it, then renamed over it, so
 * that a reader sees the old file or the new one, never a part. */
int write_file_atomic(const char *path, const char *text)
{
	char tmp[4096];
	size_t n = strlen(text), off = 0;
	int fd, e;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp%d", path, (int)getpid()) >= (int)sizeof(tmp)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600)) < 0)
		return -1;
	while (off < n) {
		ssize_t k = write(fd, text + off, n - off);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			goto fail;
		off += (size_t)k;
	}
	if (close(fd) < 0) {
		fd = -1;
		goto fail;
	}
	if (rename(tmp, path) == 0)
		return 0;
	fd = -1;
fail:
	e = errno ? errno : EIO;
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	errno = e;
	return -1;
}

/* An output file NAME in DIRFD that appears whole or not at all: unnamed
 * (O_TMPFILE) until out_publish names it, so that even a kill -9 leaves
 * nothing; where the filesystem has no O_TMPFILE, ".NAME.tmp-PID" beside
 * it, removed by out_discard. A NAME that exists and is no regular file (a
 * device, a fifo) is written directly. */
int out_create(struct out_file *o, int dirfd, const char *name, mode_t mode)
{
	struct stat st;

	o->dirfd = dirfd;
	o->name = name;
	o->tmp[0] = 0;
	o->direct = false;
	/* Not a file (/dev/null, a tape, a fifo): written as it is, never
	 * replaced by one. */
	if (fstatat(dirfd, name, &st, 0) == 0 && !S_ISREG(st.st_mode)) {
		o->direct = true;
		return o->fd = openat(dirfd, name, O_WRONLY | O_NOCTTY | O_CLOEXEC);
	}
	if ((o->fd = openat(dirfd, ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, mode)) >= 0)
		return o->fd;
	if (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL)
		return -1;
	snprintf(o->tmp, sizeof(o->tmp), ".%.200s.tmp-%ld", name, (long)getpid());
	return o->fd = openat(dirfd, o->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
}

/* Synced and named NAME, replacing what had that name. */
int out_publish(struct out_file *o)
{
	char proc[40];

	if (o->direct)
		return 0;
	if (fsync(o->fd) < 0)
		return -1;
	if (!o->tmp[0]) {
		/* A name of its own first (linkat never replaces), then renamed. */
		snprintf(o->tmp, sizeof(o->tmp), ".%.200s.tmp-%ld", o->name, (long)getpid());
		snprintf(proc, sizeof(proc), "/proc/self/fd/%d", o->fd);
		if (linkat(o->fd, "", o->dirfd, o->tmp, AT_EMPTY_PATH) < 0 &&
		    linkat(AT_FDCWD, proc, o->dirfd, o->tmp, AT_SYMLINK_FOLLOW) < 0) {
			o->tmp[0] = 0;
			return -1;
		}
	}
	if (renameat(o->dirfd, o->tmp, o->dirfd, o->name) < 0)
		return -1;
	o->tmp[0] = 0;
	return 0;
}

void out_discard(struct out_file *o)
{
	if (o->tmp[0])
		unlinkat(o->dirfd, o->tmp, 0);
	o->tmp[0] = 0;
}
