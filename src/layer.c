/* Archive images: ROOT/images/NAME.tar (or another of image_exts), unpacked
 * into ROOT/layers:
 *   NAME            symlink to NAME@KEY: the current layer of image NAME
 *   NAME@KEY/       a complete layer (only ever renamed into place whole);
 *                   KEY comes from the archive's size and mtime, so a changed
 *                   archive gets a new directory and containers still running
 *                   on the old one are not disturbed
 *   .tmp-NAME@PID/  an extraction in progress, or debris of a killed one (or
 *                   of a removal: @gcPID, @rmPID)
 *   .NAME.lock      flock(2)ed: exclusively while NAME is being extracted,
 *                   published or removed; shared by mdk-overlay-up -l from
 *                   resolving a layer until the container's state names it
 *                   (so a removal sees every container that uses a version,
 *                   and no container ever mounts a version being removed).
 *                   Never deleted: a process may be waiting on it.
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

const char *const image_exts[] = { ".tar", ".tar.gz", ".tgz", ".tar.xz", ".txz",
				   ".tar.zst", ".tzst", ".tar.bz2", ".tbz2", NULL };

/* Open the archive of image NAME: the first images/NAME.EXT that exists. *REL
 * gets its path in the data root (malloc'd), also on failure (NULL for
 * ENOENT: none exists). Never a glob: "ubuntu" does not take ubuntu.22.04.tar. */
int image_archive_open(int rootfd, const char *name, char **rel)
{
	for (size_t i = 0; image_exts[i]; i++) {
		char *r = xasprintf("images/%s%s", name, image_exts[i]);
		int fd = openat(rootfd, r, O_RDONLY | O_CLOEXEC);
		if (fd >= 0 || errno != ENOENT) {
			*rel = r;
			return fd;
		}
		free(r);
	}
	*rel = NULL;
	return errno = ENOENT, -1;
}

/* "dir/ubuntu.tar.gz" -> "ubuntu" */
char *archive_name(const char *path)
{
	const char *b = strrchr(path, '/');
	char *s = strdup(b ? b + 1 : path);
	size_t n;

	if (!s)
		die("out of memory");
	n = strlen(s);
	for (size_t i = 0; image_exts[i]; i++) {
		size_t e = strlen(image_exts[i]);
		if (n > e && !strcmp(s + n - e, image_exts[i])) {
			s[n - e] = 0;
			break;
		}
	}
	return s;
}

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

int layer_lock(int layersfd, const char *name, int op)
{
	char lock[MDK_NAME_MAX + 8];

	snprintf(lock, sizeof(lock), ".%s.lock", name);
	return lock_file(layersfd, lock, op);
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
 * "layers=" line? VERSION "NAME@" (no key) asks for any version of NAME. */
bool state_uses_layer(FILE *f, const char *version)
{
	char *line = NULL;
	size_t cap = 0, vl = strlen(version);
	bool used = false, any = vl && version[vl - 1] == '@';

	/* Whole lines: with a fixed buffer, the tail of a long line (a long
	 * data root in mount=) could pass for a layers= line. */
	while (!used && getline(&line, &cap, f) > 0) {
		if (strncmp(line, "layers=", 7))
			continue;
		for (char *t = strtok(line + 7, " \n"); t && !used; t = strtok(NULL, " \n"))
			used = any ? !strncmp(t, version, vl) : !strcmp(t, version);
	}
	free(line);
	return used;
}

/* Is VERSION (or, as "NAME@", any version of NAME) named in the "layers="
 * line of a container's state file? WHO gets the container's ID. A rw layer
 * without a state file counts as a user when STATELESS_USES (a container
 * half made may use anything). */
static bool layer_user(int layersfd, const char *version, bool stateless_uses, char *who,
		       size_t n)
{
	DIR *d = layers_dir(layersfd);
	struct dirent *de;
	bool used = false;

	if (!d)
		return true;	/* cannot tell: keep it */
	while (!used && (de = readdir(d))) {
		size_t len = strlen(de->d_name);
		char path[300];
		if (len < 4 || strcmp(de->d_name + len - 3, "+rw"))
			continue;
		snprintf(path, sizeof(path), "%s/state", de->d_name);
		int sfd = openat(layersfd, path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		FILE *f = sfd < 0 ? NULL : fdopen(sfd, "r");
		if (!f) {
			if (sfd >= 0)
				close(sfd);
			used = stateless_uses;
		} else {
			used = state_uses_layer(f, version);
			fclose(f);
		}
		if (used && who)
			snprintf(who, n, "%.*s", (int)(len - 3), de->d_name);
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
		if (!valid_name(name) || (lock = layer_lock(layersfd, name, LOCK_EX)) < 0)
			continue;
		if ((layer_current(layersfd, name, cur, sizeof(cur)) < 0 || strcmp(cur, de->d_name)) &&
		    !layer_user(layersfd, de->d_name, true, NULL, 0)) {
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

/* Is anything of image NAME there: an archive, its link or a layer version? */
static bool image_exists(int rootfd, int layersfd, const char *name)
{
	char *rel;
	int fd = image_archive_open(rootfd, name, &rel);
	size_t nl = strlen(name);
	struct stat st;
	struct dirent *de;
	DIR *d;
	bool found = fd >= 0 || errno != ENOENT;

	if (fd >= 0)
		close(fd);
	free(rel);
	if (!found && fstatat(layersfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode))
		found = true;
	if (!found && (d = layers_dir(layersfd))) {
		while (!found && (de = readdir(d)))
			found = !strncmp(de->d_name, name, nl) && de->d_name[nl] == '@' &&
				fstatat(layersfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
				S_ISDIR(st.st_mode);
		closedir(d);
	}
	return found;
}

/* Remove archive image NAME: its link, every version of its layer, the
 * debris of its unpacks, then its archives in images/ -- all under NAME's
 * lock, and only when no container's state names a version of it. Versions
 * are renamed to debris before they are deleted, and the archives go last: a
 * removal cut short leaves complete layers or debris, and the image whole or
 * still unpackable; never a layer that is half deleted under its own name.
 * A rw layer without a state is no user here: mdk-overlay-up -l holds NAME's
 * lock until its state is written, so one without is no container of NAME
 * (and one that is being removed has been unmounted already).
 * -1 with errno: ENOENT nothing of NAME exists, EBUSY a container uses it
 * (WHERE gets its ID; nothing removed), else WHERE gets the path (in the
 * data root) that could not be removed. */
int layer_remove(int rootfd, const char *name, char *where, size_t n)
{
	int layersfd = openat(rootfd, "layers", O_PATH | O_DIRECTORY | O_CLOEXEC), lock = -1, e;
	char tmp[MDK_NAME_MAX + 32];
	size_t nl = strlen(name);
	struct stat st;
	struct dirent *de;
	DIR *d;

	snprintf(where, n, "layers");
	if (layersfd < 0)
		return -1;
	/* Checked first without the lock: no lock file for a name never used. */
	if (!image_exists(rootfd, layersfd, name)) {
		close(layersfd);
		return errno = ENOENT, -1;
	}
	snprintf(where, n, "layers/.%s.lock", name);
	if ((lock = layer_lock(layersfd, name, LOCK_EX)) < 0)
		goto fail;
	if (!image_exists(rootfd, layersfd, name)) {	/* another removal was first */
		errno = ENOENT;
		goto fail;
	}
	snprintf(tmp, sizeof(tmp), "%s@", name);
	if (layer_user(layersfd, tmp, false, where, n)) {
		errno = EBUSY;
		goto fail;
	}
	/* The link first: no unpack takes the layer as made from here on. */
	snprintf(where, n, "layers/%s", name);
	if (fstatat(layersfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode) &&
	    unlinkat(layersfd, name, 0) < 0)
		goto fail;
	snprintf(where, n, "layers/.tmp-%s@*", name);
	if (layer_clean_debris(layersfd, name) < 0)
		goto fail;
	snprintf(where, n, "layers");
	if (!(d = layers_dir(layersfd)))
		goto fail;
	snprintf(tmp, sizeof(tmp), ".tmp-%s@rm%ld", name, (long)getpid());
	while ((de = readdir(d))) {
		if (strncmp(de->d_name, name, nl) || de->d_name[nl] != '@' ||
		    fstatat(layersfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(st.st_mode))
			continue;
		snprintf(where, n, "layers/%s", de->d_name);
		if (renameat(layersfd, de->d_name, layersfd, tmp) < 0 ||
		    rm_tree_nocross(layersfd, tmp) < 0) {
			e = errno;
			closedir(d);
			errno = e;
			goto fail;
		}
	}
	closedir(d);
	snprintf(tmp, sizeof(tmp), ".%s@link", name);
	unlinkat(layersfd, tmp, 0);	/* layer_publish's, if one was killed */
	for (size_t i = 0; image_exts[i]; i++) {
		snprintf(where, n, "images/%s%s", name, image_exts[i]);
		if (unlinkat(rootfd, where, 0) < 0 && errno != ENOENT)
			goto fail;
	}
	close(lock);
	close(layersfd);
	return 0;
fail:
	e = errno;
	if (lock >= 0)
		close(lock);
	close(layersfd);
	return errno = e, -1;
}
