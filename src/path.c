/* The data root and small allocation helpers. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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
