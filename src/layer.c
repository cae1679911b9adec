/* Image layers in ROOT/layers:
 *   NAME            symlink to NAME@KEY: the current layer of image NAME
 *   NAME@KEY/       a complete layer (only ever renamed into place whole);
 *                   KEY comes from the archive's size and mtime, so a changed
 *                   archive gets a new directory and containers still running
 *                   on the old one are not disturbed
 *   .tmp-NAME@PID/  an extraction in progress, or debris of a killed one
 *   .NAME.lock      flock(2)ed while NAME is being extracted or published
 * '@' is not allowed in names, so none of these can collide with another
 * image's or a container's entries. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mdk.h"

void layer_version(const char *name, const struct stat *st, char *out, size_t n)
{
	/* FNV-1a over size and mtime: short, and any change gives a new key. */
	uint64_t h = 0xcbf29ce484222325ULL;
	uint64_t v[3] = { (uint64_t)st->st_size, (uint64_t)st->st_mtim.tv_sec,
			  (uint64_t)st->st_mtim.tv_nsec };
	const unsigned char *p = (const unsigned char *)v;

	for (size_t i = 0; i < sizeof(v); i++)
		h = (h ^ p[i]) * 0x100000001b3ULL;
	snprintf(out, n, "%s@%012llx", name, (unsigned long long)(h & 0xffffffffffffULL));
}

/* NAME@KEY, if NAME is a link made by us to a directory. */
int layer_current(int layersfd, const char *name, char *out, size_t n)
{
	struct stat st;
	ssize_t len;
	size_t nl = strlen(name);

	len = readlinkat(layersfd, name, out, n - 1);
	if (len < 0)
		return errno == EINVAL ? (errno = ENOTDIR, -1) : -1;
	out[len] = 0;
	if ((size_t)len <= nl + 1 || strncmp(out, name, nl) || out[nl] != '@' ||
	    strchr(out, '/'))
		return errno = EINVAL, -1;
	if (fstatat(layersfd, out, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return -1;
	if (!S_ISDIR(st.st_mode))
		return errno = ENOTDIR, -1;
	return 0;
}

/* An flock'ed fd on DIRFD/NAME (made 0600 if missing), waited for. */
int lock_file(int dirfd, const char *name, int op)
{
	int fd = openat(dirfd, name, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);

	if (fd < 0)
		return -1;
	while (flock(fd, op) < 0) {
		if (errno != EINTR) {
			int e = errno;
			close(fd);
			return errno = e, -1;
		}
	}
	return fd;
}

int layer_lock(int layersfd, const char *name)
{
	char lock[MDK_NAME_MAX + 8];

	snprintf(lock, sizeof(lock), ".%s.lock", name);
	return lock_file(layersfd, lock, LOCK_EX);
}

/* Point NAME at VERSION, atomically: readers see the old or the new link. */
int layer_publish(int layersfd, const char *name, const char *version)
{
	char tmp[MDK_NAME_MAX + 8];
	struct stat st;

	if (fstatat(layersfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && !S_ISLNK(st.st_mode))
		return errno = EEXIST, -1;	/* not ours: never replace it */
	snprintf(tmp, sizeof(tmp), ".%s@link", name);
	if (unlinkat(layersfd, tmp, 0) < 0 && errno != ENOENT)
		return -1;
	if (symlinkat(version, layersfd, tmp) < 0)
		return -1;
	return renameat(layersfd, tmp, layersfd, name);
}

/* A directory stream on layers/ (LAYERSFD may be O_PATH). */
static DIR *layers_dir(int layersfd)
{
	int fd = openat(layersfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd < 0 ? NULL : fdopendir(fd);

	if (!d && fd >= 0)
		close(fd);
	return d;
}

/* Remove what killed extractions of NAME left. Call with NAME's lock held:
 * then no extraction of NAME is running. */
int layer_clean_debris(int layersfd, const char *name)
{
	char prefix[MDK_NAME_MAX + 8];
	int err = 0;
	size_t n;
	DIR *d;
	struct dirent *de;

	n = (size_t)snprintf(prefix, sizeof(prefix), ".tmp-%s@", name);
	if (!(d = layers_dir(layersfd)))
		return -1;
	while ((de = readdir(d))) {
		if (strncmp(de->d_name, prefix, n) == 0 &&
		    rm_tree_nocross(layersfd, de->d_name) < 0 && !err)
			err = errno;
	}
	closedir(d);
	return err ? (errno = err, -1) : 0;
}

/* Does the state file F (written by mdk-overlay-up) name VERSION in its
 * "layers=" line? */
bool state_uses_layer(FILE *f, const char *version)
{
	char *line = NULL;
	size_t cap = 0;
	bool used = false;

	/* Whole lines: with a fixed buffer, the tail of a long line (a long
	 * data root in mount=) could pass for a layers= line. */
	while (!used && getline(&line, &cap, f) > 0) {
		if (strncmp(line, "layers=", 7))
			continue;
		for (char *t = strtok(line + 7, " \n"); t && !used; t = strtok(NULL, " \n"))
			used = !strcmp(t, version);
	}
	free(line);
	return used;
}

/* Is VERSION named in the "layers=" line of any container's state file? */
static bool version_in_use(int layersfd, const char *version)
{
	DIR *d = layers_dir(layersfd);
	struct dirent *de;
	bool used = false;

	if (!d)
		return true;	/* cannot tell: keep it */
	while (!used && (de = readdir(d))) {
		size_t n = strlen(de->d_name);
		char path[300];
		if (n < 4 || strcmp(de->d_name + n - 3, "+rw"))
			continue;
		snprintf(path, sizeof(path), "%s/state", de->d_name);
		int sfd = openat(layersfd, path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		FILE *f = sfd < 0 ? NULL : fdopen(sfd, "r");
		if (!f) {
			if (sfd >= 0)
				close(sfd);
			used = true;	/* a container half made: keep everything */
			continue;
		}
		used = state_uses_layer(f, version);
		fclose(f);
	}
	closedir(d);
	return used;
}

/* Remove the versions of image layers that are neither an image's current
 * layer nor used by a container: each under its image's lock, so never one
 * that an unpack is publishing. Renamed to debris first, so a removal cut
 * short is never taken for a layer. Prints each removed version. */
int layer_gc(int layersfd)
{
	DIR *d = layers_dir(layersfd);
	struct dirent *de;
	int err = 0;

	if (!d)
		return -1;
	while ((de = readdir(d))) {
		char name[MDK_NAME_MAX + 1], cur[MDK_NAME_MAX + 16], tmp[MDK_NAME_MAX + 32];
		const char *at = strchr(de->d_name, '@');
		int lock;

		if (de->d_name[0] == '.' || !at || (size_t)(at - de->d_name) > MDK_NAME_MAX)
			continue;
		snprintf(name, sizeof(name), "%.*s", (int)(at - de->d_name), de->d_name);
		if (!valid_name(name) || (lock = layer_lock(layersfd, name)) < 0)
			continue;
		if ((layer_current(layersfd, name, cur, sizeof(cur)) < 0 || strcmp(cur, de->d_name)) &&
		    !version_in_use(layersfd, de->d_name)) {
			snprintf(tmp, sizeof(tmp), ".tmp-%s@gc%ld", name, (long)getpid());
			if (renameat(layersfd, de->d_name, layersfd, tmp) < 0 ||
			    rm_tree_nocross(layersfd, tmp) < 0) {
				if (!err)
					err = errno;
			} else {
				printf("%s\n", de->d_name);
			}
		}
		close(lock);
	}
	closedir(d);
	return err ? (errno = err, -1) : 0;
}
