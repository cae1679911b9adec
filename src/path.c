/* The data root, small allocation helpers, and the one resolver for paths
 * inside a container root. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "mdk.h"

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		die("out of memory");
	return p;
}

char *xasprintf(const char *fmt, ...)
{
	char *s;
	va_list ap;
	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		die("out of memory");
	va_end(ap);
	return s;
}

const char *store_root(const char *flag)
{
	const char *env = getenv("MDK_ROOT");

	if (flag && *flag)
		return flag;
	return env && *env ? env : MDK_DEFAULT_ROOT;
}

/* A root-only directory NAME in DIRFD: made, or an existing one (not a
 * symlink to one) closed to group and others. */
static int mkdir_private(int dirfd, const char *name)
{
	struct stat st;

	if (mkdirat(dirfd, name, 0700) == 0)
		return 0;
	if (errno != EEXIST)
		return -1;
	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return -1;
	if (!S_ISDIR(st.st_mode))
		return errno = ENOTDIR, -1;
	if ((st.st_mode & 077) && fchmodat(dirfd, name, st.st_mode & 07700, 0) < 0)
		return -1;
	return 0;
}

int mkdir_p(const char *path, mode_t mode)
{
	char buf[PATH_MAX];
	size_t len = strlen(path);

	if (len >= sizeof(buf))
		return errno = ENAMETOOLONG, -1;
	memcpy(buf, path, len + 1);
	for (char *p = buf + 1;; p++) {
		if (*p && *p != '/')
			continue;
		char c = *p;
		*p = 0;
		if (mkdir(buf, mode) < 0 && errno != EEXIST)
			return -1;
		if (!(*p = c))
			break;
	}
	return 0;
}

int store_open(const char *root, char **abs)
{
	static const char *const sub[] = { "images", "layers", "rootfs" };
	int fd, e;

	/* The store holds setuid binaries and container roots: root-only, like
	 * docker's. Missing parents are created 0755, as mkdir -p would. */
	if (mkdir(root, 0700) < 0 && errno == ENOENT &&
	    (mkdir_p(root, 0755) < 0 || chmod(root, 0700) < 0))
		return -1;
	fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	for (size_t i = 0; i < sizeof(sub) / sizeof(*sub); i++) {
		if (mkdir_private(fd, sub[i]) < 0)
			goto fail;
	}
	if (abs) {
		/* Canonical (what mountinfo shows: no symlink, "..", "//"), for
		 * messages, overlay options and finding our mounts again. From the
		 * kernel when /proc is there; else made absolute by hand. */
		char link[64], real[PATH_MAX];
		ssize_t k;
		snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
		if ((k = readlink(link, real, sizeof(real) - 1)) > 0 && real[0] == '/') {
			real[k] = 0;
			*abs = xasprintf("%s", real);
		} else if (root[0] == '/') {
			*abs = strdup(root);
		} else {
			char cwd[PATH_MAX];
			if (!getcwd(cwd, sizeof(cwd)))
				goto fail;
			*abs = xasprintf("%s/%s", strcmp(cwd, "/") ? cwd : "", root);
		}
		if (!*abs)
			die("out of memory");
		/* "/var/lib/m-docker/" -> "/var/lib/m-docker" */
		for (size_t n = strlen(*abs); n > 1 && (*abs)[n - 1] == '/'; n--)
			(*abs)[n - 1] = 0;
	}
	return fd;
fail:
	e = errno;
	close(fd);
	return errno = e, -1;
}

/* --- paths an image has a say in ----------------------------------------------
 * Everything below resolves a path of the image (volume targets, the working
 * directory, /etc/passwd) the way the container will: inside ROOTFD, where
 * symlinks and ".." cannot climb out, and never through a /proc magic link
 * (a /proc/self/fd/N of ours would lead to whatever that fd is: the host). */

int open_in_root(int rootfd, const char *path, int flags)
{
	/* (openat2 refuses O_NOCTTY beside O_PATH, which needs none.) */
	struct open_how how = { .flags = (uint64_t)(flags | O_CLOEXEC | (flags & O_PATH ? 0 : O_NOCTTY)),
				.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS };
	int fd;

	/* EAGAIN: a rename elsewhere raced with a ".." (the kernel's check). */
	do
		fd = (int)syscall(SYS_openat2, rootfd, path, &how, sizeof(how));
	while (fd < 0 && errno == EAGAIN);
	return fd;
}

static int mkpath_depth(int rootfd, const char *path, bool file, int depth)
{
	char buf[PATH_MAX];
	int fd = open_in_root(rootfd, path, O_PATH);

	if (fd >= 0 || errno != ENOENT)
		return fd;
	if (strlen(path) >= sizeof(buf))
		return errno = ENAMETOOLONG, -1;
	strcpy(buf, path);
	/* Each missing component is made in its parent as resolved from the
	 * root, then the prefix is opened again from the root: the same walk
	 * as the final open, so what is made is what is opened. (A walk that
	 * took each directory as the root of the next step would not be.) */
	for (char *comp = buf + strspn(buf, "/"); *comp;) {
		char *end = comp + strcspn(comp, "/"), save = *end;
		bool last = !end[strspn(end, "/")];

		*end = 0;
		if ((fd = open_in_root(rootfd, buf, O_PATH)) < 0 && errno == ENOENT) {
			char c = *comp;
			*comp = 0;
			int dir = open_in_root(rootfd, *buf ? buf : ".", O_PATH | O_DIRECTORY), made;
			*comp = c;
			if (dir < 0)
				return -1;
			/* No O_CREAT through a symlink, no mkdir on one: EEXIST. */
			made = last && file ? openat(dir, comp, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0644)
					    : mkdirat(dir, comp, 0755);
			int e = errno;
			/* A symlink whose target is missing: the target is made,
			 * resolved in the root as the link would be (runc's way).
			 * Not a procfs magic link (/proc/self/fd/N): those name
			 * what no path in the root may reach. */
			char link[PATH_MAX];
			struct statfs sfs;
			ssize_t n = made < 0 && e == EEXIST && fstatfs(dir, &sfs) == 0 && sfs.f_type != PROC_SUPER_MAGIC ?
					    readlinkat(dir, comp, link, sizeof(link) - 1) : -1;
			close(dir);
			if (n > 0) {
				link[n] = 0;
				if (depth >= 40)
					return errno = ELOOP, -1;
				char *next = xasprintf("%.*s%s%s", link[0] == '/' ? 0 : (int)(comp - buf), buf, link,
						       path + (end - buf));
				fd = mkpath_depth(rootfd, next, file, depth + 1);
				free(next);
				return fd;
			}
			if (made < 0 && e != EEXIST)
				return errno = e, -1;
			if (last && file && made >= 0)
				close(made);
			fd = open_in_root(rootfd, buf, O_PATH);
		}
		if (fd < 0 || last)
			return fd;
		close(fd);
		*end = save;
		comp = end + strspn(end, "/");
	}
	return open_in_root(rootfd, path, O_PATH);
}

int mkpath_in_root(int rootfd, const char *path, bool file)
{
	return mkpath_depth(rootfd, path, file, 0);
}
