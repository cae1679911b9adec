/* Mount helpers: overlay options, the mount table, unmounting a tree. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mdk.h"

/* overlay's option parser splits on ',' (options) and ':' (lower layers) and
 * treats '\' as an escape; a newline would forge a line in mountinfo. Paths
 * with any of them are refused, not escaped: an image store does not need
 * them. The kernel takes one page of option data. */
int overlay_opts(char *buf, size_t n, const char *const *lower, size_t nlower,
		 const char *upper, const char *work)
{
	size_t len = 0, page = (size_t)sysconf(_SC_PAGESIZE);
	const char *p;

	if (n > page)
		n = page;
	for (size_t i = 0; i < nlower + 2; i++) {
		p = i < nlower ? lower[i] : i == nlower ? upper : work;
		if (!p || !*p || p[strcspn(p, ",:\\\n")])
			return errno = EINVAL, -1;
	}
	for (size_t i = 0; i < nlower; i++) {
		int k = snprintf(buf + len, n - len, "%s%s", i ? ":" : "lowerdir=", lower[i]);
		if (k < 0 || (size_t)k >= n - len)
			return errno = E2BIG, -1;
		len += (size_t)k;
	}
	/* Layers are untrusted: never follow a redirect or a metacopy they
	 * might carry, whatever the module's defaults. */
	int k = snprintf(buf + len, n - len, ",upperdir=%s,workdir=%s,redirect_dir=nofollow,metacopy=off",
			 upper, work);
	if (k < 0 || (size_t)k >= n - len)
		return errno = E2BIG, -1;
	return 0;
}

/* mountinfo escapes ' ', '\t', '\n' and '\' in paths as \ooo. */
static void unescape(char *s)
{
	char *d = s;

	for (; *s; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' &&
		    s[3] >= '0' && s[3] <= '7') {
			*d++ = (char)((s[1] - '0') << 6 | (s[2] - '0') << 3 | (s[3] - '0'));
			s += 3;
		} else {
			*d++ = *s;
		}
	}
	*d = 0;
}

/* id parent maj:min root MOUNTPOINT ...: the mount point, unescaped in
 * place, or NULL for a line without one. */
char *mountinfo_mountpoint(char *line)
{
	char *mp;

	if (!strtok(line, " ") || !strtok(NULL, " ") || !strtok(NULL, " ") ||
	    !strtok(NULL, " ") || !(mp = strtok(NULL, " ")))
		return NULL;
	unescape(mp);
	return mp;
}

/* The mount points at or below PATH, in mount order (parents before the
 * mounts on top of or below them); NULL-terminated, malloc'd. */
char **mounts_under(const char *path)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	size_t n = 0, cap = 8, plen = strlen(path);
	char **v, *line = NULL;
	size_t lcap = 0;

	if (!f)
		return NULL;
	v = xmalloc(cap * sizeof(*v));
	while (getline(&line, &lcap, f) > 0) {
		char *mp = mountinfo_mountpoint(line);
		if (!mp)
			continue;
		if (strncmp(mp, path, plen) || (mp[plen] && mp[plen] != '/'))
			continue;
		if (n + 1 >= cap)
			if (!(v = realloc(v, (cap *= 2) * sizeof(*v))))
				die("out of memory");
		v[n++] = xasprintf("%s", mp);
	}
	free(line);
	fclose(f);
	v[n] = NULL;
	return v;
}

void free_strv(char **v)
{
	for (char **p = v; p && *p; p++)
		free(*p);
	free(v);
}

/* Does the symlink at LINK (a /proc magic link) point at or below PATH? */
static bool link_under(const char *link, const char *path, size_t plen)
{
	char t[PATH_MAX];
	ssize_t k = readlink(link, t, sizeof(t) - 1);

	if (k <= 0)
		return false;
	t[k] = 0;
	return !strncmp(t, path, plen) && (!t[plen] || t[plen] == '/');
}

static bool fd_under(const char *pid, const char *path, size_t plen)
{
	char p[300], l[600];
	struct dirent *de;
	bool found = false;
	DIR *d;

	snprintf(p, sizeof(p), "/proc/%s/fd", pid);
	if (!(d = opendir(p)))
		return false;
	while (!found && (de = readdir(d))) {
		snprintf(l, sizeof(l), "%s/%s", p, de->d_name);
		found = link_under(l, path, plen);
	}
	closedir(d);
	return found;
}

/* Who keeps PATH busy: "pid 123 (sh) cwd" for the first process found with
 * its cwd, root or an open file at or below PATH. Best effort. */
void mount_holder(const char *path, char *out, size_t n)
{
	DIR *d = opendir("/proc");
	struct dirent *de;
	size_t plen = strlen(path);

	*out = 0;
	while (d && !*out && (de = readdir(d))) {
		const char *pid = de->d_name, *how = NULL;
		char p[300], comm[64] = "?";
		FILE *f;

		if (*pid < '1' || *pid > '9')
			continue;
		snprintf(p, sizeof(p), "/proc/%s/cwd", pid);
		if (link_under(p, path, plen))
			how = "cwd";
		snprintf(p, sizeof(p), "/proc/%s/root", pid);
		if (!how && link_under(p, path, plen))
			how = "root";
		if (!how && fd_under(pid, path, plen))
			how = "open file";
		if (!how)
			continue;
		snprintf(p, sizeof(p), "/proc/%s/comm", pid);
		if ((f = fopen(p, "re"))) {
			if (fgets(comm, sizeof(comm), f))
				comm[strcspn(comm, "\n")] = 0;
			fclose(f);
		}
		snprintf(out, n, "pid %s (%s) %s", pid, comm, how);
	}
	if (d)
		closedir(d);
}

/* The first process (other than us) whose root directory is on the
 * filesystem mounted at PATH -- a container running there -- or 0. */
pid_t root_user(const char *path)
{
	struct stat mp, st;
	DIR *d = opendir("/proc");
	struct dirent *de;
	pid_t found = 0;

	if (!d || stat(path, &mp) < 0) {
		if (d)
			closedir(d);
		return 0;
	}
	while (!found && (de = readdir(d))) {
		char p[300];
		if (de->d_name[0] < '1' || de->d_name[0] > '9')
			continue;
		snprintf(p, sizeof(p), "/proc/%s/root", de->d_name);
		if (stat(p, &st) == 0 && st.st_dev == mp.st_dev && atoi(de->d_name) != getpid())
			found = atoi(de->d_name);
	}
	closedir(d);
	return found;
}

/* Unmount everything at or below PATH, deepest (latest) first. Stops at the
 * first mount that will not go (EBUSY...) and returns -1 with *failed set
 * to it (malloc'd): the caller must then delete nothing. */
int umount_tree(const char *path, char **failed)
{
	char **v;

	*failed = NULL;
	/* Repeat: a mount point can hold a stack of mounts. */
	for (int round = 0; round < 64; round++) {
		size_t n = 0;
		if (!(v = mounts_under(path)))
			return -1;
		while (v[n])
			n++;
		if (!n) {
			free_strv(v);
			return 0;
		}
		for (size_t i = n; i-- > 0;) {
			if (umount2(v[i], UMOUNT_NOFOLLOW) < 0 && errno != EINVAL && errno != ENOENT) {
				int e = errno;
				*failed = xasprintf("%s", v[i]);
				free_strv(v);
				return errno = e, -1;
			}
		}
		free_strv(v);
	}
	return errno = EBUSY, -1;
}
