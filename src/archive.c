/* Extracting an untrusted image archive into a directory with libarchive.
 *
 * Containment: the caller chroots into the target directory first, so every path the archive names -- through "..", absolute
 * names, symlinks or hard links it planted earlier, or libarchive's deferred
 * chmod/utimes of directories -- resolves inside the layer. That is the
 * kernel's own guarantee, and costs nothing per entry, unlike libarchive's
 * SECURE_SYMLINKS lstat of every path component (about half of bsdtar's
 * time). On top, a policy rejects what a real image never holds. */
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include "mdk.h"

#define MAX_DEPTH 256	/* path components; rm_tree_nocross holds an fd per level */

/* Record why entry NAME (may be NULL) failed; a hostile name can be 4 KiB
 * long, so it is cut to keep the reason on the line. */
static int fail(struct extract *x, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int fail(struct extract *x, const char *name, const char *fmt, ...)
{
	size_t n = 0;
	va_list ap;

	if (name)
		n = (size_t)snprintf(x->err, sizeof(x->err), "%.120s%s: ", name,
				     strlen(name) > 120 ? "..." : "");
	va_start(ap, fmt);
	vsnprintf(x->err + n, sizeof(x->err) - n, fmt, ap);
	va_end(ap);
	return -1;
}

/* What a real image never holds: a name that climbs out, an absolute name or
 * link target, a tree deeper than we are willing to walk when deleting. */
const char *entry_bad_path(const char *p)
{
	int depth = 0;

	if (!p || !*p)
		return "empty name";
	if (*p == '/')
		return "absolute name";
	if (strlen(p) >= 4096)
		return "name too long";
	for (const char *c = p; *c;) {
		size_t n = strcspn(c, "/");
		if (n == 2 && c[0] == '.' && c[1] == '.')
			return "name contains '..'";
		if (n && ++depth > MAX_DEPTH)
			return "too deep";
		c += n;
		c += *c == '/';
	}
	return NULL;
}

/* Keep only the extended attributes a container image should carry: file
 * capabilities and user.*. Others (trusted.overlay.* redirects and opaque
 * markers, security labels of the builder's host) are dropped, and so is
 * user.overlay.*: overlayfs reads it as its own in userxattr mode. */
static bool keep_xattr(const char *name)
{
	return (strncmp(name, "user.", 5) == 0 && strncmp(name, "user.overlay.", 13) != 0) ||
	       strcmp(name, "security.capability") == 0;
}

void entry_filter_xattrs(struct archive_entry *e)
{
	struct xattr { char *name; void *v; size_t n; } keep[32];
	const char *name;
	const void *v;
	size_t n, k = 0;
	bool drop = false;

	if (archive_entry_xattr_reset(e) == 0)
		return;
	while (archive_entry_xattr_next(e, &name, &v, &n) == ARCHIVE_OK)
		drop |= !keep_xattr(name);
	if (!drop)
		return;
	/* archive_entry_xattr_clear frees the names: copy what we keep first. */
	archive_entry_xattr_reset(e);
	while (archive_entry_xattr_next(e, &name, &v, &n) == ARCHIVE_OK) {
		if (keep_xattr(name) && k < sizeof(keep) / sizeof(*keep)) {
			keep[k].name = xasprintf("%s", name);
			keep[k].v = xmalloc(n);
			keep[k].n = n;
			memcpy(keep[k++].v, v, n);
		}
	}
	archive_entry_xattr_clear(e);
	for (size_t i = 0; i < k; i++) {
		archive_entry_xattr_add_entry(e, keep[i].name, keep[i].v, keep[i].n);
		free(keep[i].name);
		free(keep[i].v);
	}
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void progress(struct extract *x, struct archive *in, uint64_t entries, bool last)
{
	static double next;
	double t = now();
	int64_t done = archive_filter_bytes(in, -1);
	char line[160];
	int n;

	if (!last && t < next)
		return;
	next = t + 0.1;
	if (last) {
		n = snprintf(line, sizeof(line), "\r\033[K");
	} else {
		n = snprintf(line, sizeof(line), "\r\033[K%s: %s: %3d%%  %llu entries  %.1f MB",
			     applet_name, x->label,
			     x->total > 0 ? (int)(done * 100 / x->total) : 0,
			     (unsigned long long)entries, (double)done / 1e6);
	}
	if (write(STDERR_FILENO, line, (size_t)n) < 0)
		x->progress = false;
}

/* libarchive's message, with the errno it saved when it did not say it
 * ("Write failed" -> "Write failed: No space left on device"). */
static const char *lib_error(struct archive *a, char *buf, size_t n)
{
	const char *msg = archive_error_string(a);
	int e = archive_errno(a);

	if (!msg)
		msg = "unknown libarchive error";
	if (e <= 0 || e >= 4096 || strstr(msg, strerror(e)))
		return msg;
	snprintf(buf, n, "%s: %s", msg, strerror(e));
	return buf;
}

/* Copy the entry's data (holes recorded in the archive stay holes). */
static int copy_data(struct archive *in, struct archive *out)
{
	const void *buf;
	size_t size;
	int64_t off;
	int r;

	while ((r = archive_read_data_block(in, &buf, &size, &off)) == ARCHIVE_OK) {
		if (archive_write_data_block(out, buf, size, off) < ARCHIVE_OK)
			return -2;
	}
	return r == ARCHIVE_EOF ? 0 : -1;
}

/* What an image may be: tar, uncompressed or through gzip, bzip2, xz, zstd. */
int image_reader_setup(struct archive *in)
{
	if (archive_read_support_format_tar(in) != ARCHIVE_OK ||
	    archive_read_support_filter_gzip(in) != ARCHIVE_OK ||
	    archive_read_support_filter_bzip2(in) != ARCHIVE_OK ||
	    archive_read_support_filter_xz(in) != ARCHIVE_OK ||
	    archive_read_support_filter_zstd(in) != ARCHIVE_OK)
		return -1;
	return 0;
}

/* --- a layer's paths, and what the layers below it hold there -------------- */
/* NAME as libarchive writes it: "./a//b/" -> "a/b" ("" for the root). */
static char *layer_path(const char *name)
{
	char *out = xmalloc(strlen(name) + 1);
	size_t n = 0;

	for (const char *c = name; *c;) {
		size_t k = strcspn(c, "/");
		if (k && !(k == 1 && *c == '.')) {
			if (n)
				out[n++] = '/';
			memcpy(out + n, c, k);
			n += k;
		}
		c += k;
		c += *c == '/';
	}
	out[n] = 0;
	return out;
}

static void strv_push(char ***v, size_t *n, char *s)
{
	if (*n >= 16 ? !(*n & (*n - 1)) : !*n) {
		*v = realloc(*v, (*n >= 16 ? *n * 2 : 16) * sizeof(**v));
		if (!*v)
			die("out of memory");
	}
	(*v)[(*n)++] = s;
}

static void strv_free(char ***v, size_t *n)
{
	for (size_t i = 0; i < *n; i++)
		free((*v)[i]);
	free(*v);
	*v = NULL;
	*n = 0;
}

static bool is_opaque(int fd)
{
	char v[2];
	return fgetxattr(fd, "trusted.overlay.opaque", v, sizeof(v)) == 1 && v[0] == 'y';
}

enum seen { SEEN_NOTHING, SEEN_DIR, SEEN_SYMLINK };

/* What a container sees at PATH (a layer path, not "") through this layer
 * (the current root) and the layers below it: overlay's lookup, walked by
 * hand, never following a symlink. Per component, the nearest layer that
 * has it decides its type; a directory merges with the directories at the
 * same place below it, down to an opaque one or a non-directory. With
 * BELOW, the last component is this layer's own directory and only the
 * layers below it count there: its own opaque mark hides their contents,
 * not their directory. SEEN_DIR gives *FD, the nearest directory at PATH,
 * for the caller to close; -1 with X->err. */
static int layers_lookup(struct extract *x, const char *path, bool below, int *fd)
{
	size_t n = 0, skip, cap = x->nlowers + 1;
	int *set = xmalloc(cap * sizeof(int)), *next = xmalloc(cap * sizeof(int));
	int ret = SEEN_NOTHING;
	char *p = xasprintf("%s", path), *rest;
	bool self = true, borrowed = true;	/* set[1..]: x->lowers, not ours to close */

	if ((set[n++] = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		ret = fail(x, path, "open the layer: %s", strerror(errno));
		n = 0;
		goto out;
	}
	for (size_t i = 0; i < x->nlowers; i++)
		set[n++] = x->lowers[i];
	for (char *c = p; c; c = rest) {
		bool last = !(rest = strchr(c, '/')), self_next = false, symlink = false;
		size_t m = 0;
		struct stat st;

		if (rest)
			*rest++ = 0;
		for (size_t i = 0; i < n; i++) {
			int d = openat(set[i], c, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
						  O_NONBLOCK | O_CLOEXEC);
			if (d >= 0) {
				bool own_last = self && !i && below && last;
				self_next |= self && !i;
				next[m++] = d;
				if (!own_last && is_opaque(d))
					break;
				continue;
			}
			if (errno == ENOENT)
				continue;
			/* Not a directory: the nearest decides; below one it ends the merge. */
			skip = below && last && self_next;
			symlink = m == skip && fstatat(set[i], c, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
				  S_ISLNK(st.st_mode);
			break;
		}
		for (size_t i = 0; i < (borrowed ? 1 : n); i++)
			close(set[i]);
		int *t = set;
		set = next;
		next = t;
		n = m;
		self = self_next;
		borrowed = false;
		if (symlink) {
			ret = SEEN_SYMLINK;
			goto out;
		}
	}
	skip = below && self;
	if (n > skip) {
		*fd = set[skip];
		set[skip] = -1;
		ret = SEEN_DIR;
	}
out:
	for (size_t i = 0; i < (borrowed ? (n > 0) : n); i++)
		if (set[i] >= 0)
			close(set[i]);
	free(set);
	free(next);
	free(p);
	return ret;
}

/* --- implied parent directories ----------------------------------------------
 * A layer may hold a/b/f without a/ or a/b/. Made with some default, such a
 * directory of an upper layer would hide the mode, owner and xattrs of a/ and
 * a/b/ below it. So the extractor makes them itself (0755 root, whatever the
 * umask) before libarchive sees the entry, and after the last entry and the
 * whiteouts each takes the mode, owner, user xattrs and times of the
 * directory a container saw there through the layers below; 0755 root stays
 * where it saw none, and where the layer deleted it (".wh.a" then "a/f"). A
 * directory the layer names itself keeps its own metadata. Below a symlink
 * of a lower layer the layer's entries would land elsewhere than where the
 * image's builder put them (and runtimes disagree on where): an error. */

/* Make the missing directories of PATH, noting each. A component that is not
 * a directory is left to libarchive (the layer's own entries decide). */
static int implied_mkdirs(struct extract *x, char *path)
{
	struct stat st;
	int e;

	for (char *s = path;; s++) {
		if (*s && *s != '/')
			continue;
		char c = *s;
		*s = 0;
		if (fstatat(AT_FDCWD, path, &st, AT_SYMLINK_NOFOLLOW) == 0) {
			if (!S_ISDIR(st.st_mode)) {
				*s = c;
				return 0;
			}
		} else if (errno != ENOENT) {
			*s = c;
			return 0;
		} else if (mkdir(path, 0700) < 0 || lchown(path, 0, 0) < 0 ||
			   chmod(path, 0755) < 0) {
			e = errno;
			fail(x, path, "make directory: %s", strerror(e));
			*s = c;
			return -1;
		} else {
			strv_push(&x->implied, &x->nimplied, xasprintf("%s", path));
		}
		if (!(*s = c))
			return 0;
	}
}

/* Before entry NAME is written: its parent directories. */
static int make_parents(struct extract *x, const char *name)
{
	char *p = layer_path(name), *slash = strrchr(p, '/');
	struct stat st;

	if (!slash) {
		free(p);
		return 0;
	}
	*slash = 0;
	/* One stat per change of directory: a layer's entries come grouped. */
	if (!(x->last_parent && !strcmp(p, x->last_parent)) && stat(p, &st) < 0 &&
	    errno == ENOENT && implied_mkdirs(x, p) < 0) {
		free(p);
		return -1;
	}
	free(x->last_parent);
	x->last_parent = p;
	return 0;
}

/* Copy the xattrs a layer may carry (user.*, security.capability). */
static int copy_xattrs(int from, int to)
{
	char *names = NULL, *v = xmalloc(65536);
	ssize_t n = flistxattr(from, NULL, 0), k;
	int ret = -1;

	if (n <= 0) {
		ret = n == 0 || errno == ENOTSUP ? 0 : -1;
		goto out;
	}
	names = xmalloc((size_t)n);
	if ((n = flistxattr(from, names, (size_t)n)) < 0)
		goto out;
	for (char *s = names; s < names + n; s += strlen(s) + 1) {
		if (!keep_xattr(s))
			continue;
		if ((k = fgetxattr(from, s, v, 65536)) < 0 || fsetxattr(to, s, v, (size_t)k, 0) < 0)
			goto out;
	}
	ret = 0;
out:
	free(names);
	free(v);
	return ret;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int implied_settle(struct extract *x)
{
	struct open_how how = { .flags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC,
				.resolve = RESOLVE_NO_SYMLINKS | RESOLVE_BENEATH |
					   RESOLVE_NO_MAGICLINKS };

	if (x->nexplicit)
		qsort(x->explicit, x->nexplicit, sizeof(*x->explicit), cmp_str);
	for (size_t i = 0; i < x->nimplied; i++) {
		const char *p = x->implied[i];
		struct stat st;
		int fd, src = -1, r, e;

		if (x->nexplicit &&
		    bsearch(&p, x->explicit, x->nexplicit, sizeof(*x->explicit), cmp_str))
			continue;
		/* Gone: an entry of the layer replaced it. */
		if ((fd = (int)syscall(SYS_openat2, AT_FDCWD, p, &how, sizeof(how))) < 0)
			continue;
		r = layers_lookup(x, p, true, &src);
		if (r == SEEN_DIR) {
			if (fstat(src, &st) < 0 || fchown(fd, st.st_uid, st.st_gid) < 0 ||
			    fchmod(fd, st.st_mode & 07777) < 0 || copy_xattrs(src, fd) < 0 ||
			    futimens(fd, (struct timespec[]){ st.st_atim, st.st_mtim }) < 0) {
				e = errno;
				r = fail(x, p, "copy the metadata of the layer below: %s",
					 strerror(e));
			}
			close(src);
		} else if (r == SEEN_SYMLINK) {
			r = fail(x, p,
				 "a symlink in a lower layer, and this layer has entries below it");
		}
		close(fd);
		if (r < 0)
			return -1;
	}
	return 0;
}

/* --- OCI whiteouts -----------------------------------------------------------
 * A layer's ".wh.NAME" deletes NAME of the layers below, ".wh..wh..opq" hides
 * everything below in its directory. Neither is written as a file: both are
 * collected while extracting and applied after the last entry, so that an
 * entry of the same layer survives its whiteout in either order (a NAME of
 * this layer that is a directory becomes opaque instead: ".wh.a" then "a/b"
 * leaves only b), and an opaque marker applies wherever it came. Overlayfs
 * takes a character device 0/0 for a whiteout and trusted.overlay.opaque=y
 * for an opaque directory. They are applied shallowest first: "a/.wh.b"
 * below a deleted a ("/.wh.a" too) then has nothing to hide, as below a
 * file, or where the layers below have no a; such a whiteout is dropped
 * rather than making a visible (empty) a. */
struct wh {
	char *dir;	/* "" for the layer's root */
	char *name;	/* NULL: the directory is opaque */
	size_t depth;	/* components of dir */
	struct timespec mtime;	/* the marker's: the whiteout gets it */
};

static const char *const aufs_meta[] = { ".wh..wh.plnk", ".wh..wh.aufs", ".wh..wh.orph" };

static bool is_aufs_meta(const char *c, size_t n)
{
	for (size_t i = 0; i < sizeof(aufs_meta) / sizeof(*aufs_meta); i++)
		if (n == strlen(aufs_meta[i]) && !memcmp(c, aufs_meta[i], n))
			return true;
	return false;
}

/* 0: an ordinary entry; 1: a marker taken (or aufs metadata to skip); -1:
 * a malformed one (X->err set). */
static int take_whiteout(struct extract *x, const char *name, struct archive_entry *e)
{
	char *p = layer_path(name), *base, *dir;
	size_t depth = 0;
	int ret = 0;

	base = strrchr(p, '/') ? strrchr(p, '/') + 1 : p;
	/* A marker in a directory part: only aufs's own trees are allowed. */
	for (const char *c = p; c < base;) {
		size_t k = strcspn(c, "/");
		if (k >= 4 && !strncmp(c, ".wh.", 4)) {
			ret = is_aufs_meta(c, k) ? 1 : fail(x, name, "whiteout used as a directory");
			goto out;
		}
		c += k + 1;
		depth++;
	}
	if (strncmp(base, ".wh.", 4))
		goto out;
	ret = 1;
	if (is_aufs_meta(base, strlen(base)))
		goto out;
	dir = p;
	if (base == p)
		dir = "";
	else
		base[-1] = 0;
	if (!strcmp(base, ".wh..wh..opq")) {
		base = NULL;
	} else if (!strncmp(base, ".wh..wh.", 8)) {
		ret = fail(x, name, "unknown whiteout metadata");
		goto out;
	} else {
		base += 4;
		if (!*base || !strcmp(base, ".") || !strcmp(base, "..")) {
			ret = fail(x, name, "invalid whiteout (names no file)");
			goto out;
		}
	}
	if (x->nwh % 64 == 0) {
		x->wh = realloc(x->wh, (x->nwh + 64) * sizeof(struct wh));
		if (!x->wh)
			die("out of memory");
	}
	x->wh[x->nwh].dir = xasprintf("%s", dir);
	x->wh[x->nwh].depth = depth;
	x->wh[x->nwh].mtime = (struct timespec){ archive_entry_mtime(e), archive_entry_mtime_nsec(e) };
	x->wh[x->nwh++].name = base ? xasprintf("%s", base) : NULL;
out:
	free(p);
	return ret;
}

/* Open directory DIR of the layer (the current root) for a whiteout in it,
 * never through a symlink, making what is missing of it (as implied
 * parents). 0: the layers below have no directory there, nothing to hide. */
static int open_wh_dir(struct extract *x, const char *dir, int *fd)
{
	struct open_how how = { .flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC,
				.resolve = RESOLVE_NO_SYMLINKS | RESOLVE_BENEATH |
					   RESOLVE_NO_MAGICLINKS };
	const char *shown = *dir ? dir : ".";
	int src = -1, r;

	if ((*fd = (int)syscall(SYS_openat2, AT_FDCWD, shown, &how, sizeof(how))) >= 0)
		return 1;
	if (errno != ENOENT && errno != ENOTDIR && errno != ELOOP && errno != EXDEV)
		return fail(x, shown, "whiteout: %s", strerror(errno));
	if ((r = layers_lookup(x, dir, false, &src)) == SEEN_SYMLINK)
		return fail(x, shown, "whiteout through a symlink");
	if (r != SEEN_DIR)
		return r;
	close(src);
	char *p = xasprintf("%s", dir);
	r = implied_mkdirs(x, p);
	free(p);
	if (r < 0)
		return -1;
	if ((*fd = (int)syscall(SYS_openat2, AT_FDCWD, shown, &how, sizeof(how))) < 0)
		return fail(x, shown, "whiteout: %s", strerror(errno));
	return 1;
}

/* Overlay ignores the opaque mark on a layer's root: the top-level names of
 * the layers below are hidden one by one instead (a whiteout, or opaque for
 * a directory of this layer). */
static int opaque_root(struct extract *x)
{
	for (size_t i = 0; i < x->nlowers; i++) {
		int dfd = openat(x->lowers[i], ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC), fd;
		DIR *d = dfd < 0 ? NULL : fdopendir(dfd);
		struct dirent *de;
		struct stat st;

		if (!d) {
			if (dfd >= 0)
				close(dfd);
			return fail(x, ".", "opaque: read the layer below: %s", strerror(errno));
		}
		while ((de = readdir(d))) {
			const char *n = de->d_name;
			if (!strcmp(n, ".") || !strcmp(n, ".."))
				continue;
			if (fstatat(AT_FDCWD, n, &st, AT_SYMLINK_NOFOLLOW) < 0) {
				if (errno == ENOENT &&
				    mknodat(AT_FDCWD, n, S_IFCHR | 0, makedev(0, 0)) == 0)
					continue;
			} else if (!S_ISDIR(st.st_mode)) {
				continue;
			} else if ((fd = openat(AT_FDCWD, n, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
							     O_CLOEXEC)) >= 0) {
				int r = fsetxattr(fd, "trusted.overlay.opaque", "y", 1, 0);
				close(fd);
				if (r == 0)
					continue;
			}
			int e = errno;
			closedir(d);
			return fail(x, n, "opaque root: %s", strerror(e));
		}
		closedir(d);
	}
	return 0;
}

static int wh_shallower(const void *a, const void *b)
{
	const struct wh *x = a, *y = b;
	return x->depth < y->depth ? -1 : x->depth > y->depth;
}

static int apply_whiteouts(struct extract *x)
{
	struct stat st;

	if (x->nwh)
		qsort(x->wh, x->nwh, sizeof(*x->wh), wh_shallower);
	for (size_t i = 0; i < x->nwh; i++) {
		const struct wh *w = &x->wh[i];
		const char *shown = *w->dir ? w->dir : ".";
		int dfd, fd, r;

		if ((r = open_wh_dir(x, w->dir, &dfd)) <= 0) {
			if (r < 0)
				return -1;
			continue;
		}
		if (!w->name) {
			if (!*w->dir && opaque_root(x) < 0) {
				close(dfd);
				return -1;
			}
			fd = dfd;
		} else if (fstatat(dfd, w->name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			/* Not in this layer: hide the lower layers' NAME. */
			/* (With the marker's time: a layer packed again from
			 * here is the same layer.) */
			struct timespec t[2] = { w->mtime, w->mtime };
			if (errno != ENOENT || mknodat(dfd, w->name, S_IFCHR | 0, makedev(0, 0)) < 0 ||
			    utimensat(dfd, w->name, t, AT_SYMLINK_NOFOLLOW) < 0) {
				close(dfd);
				return fail(x, w->name, "whiteout in '%s': %s", shown, strerror(errno));
			}
			fd = -1;
		} else if (S_ISDIR(st.st_mode)) {
			fd = openat(dfd, w->name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (fd < 0) {
				close(dfd);
				return fail(x, w->name, "open: %s", strerror(errno));
			}
			/* Deleted and made anew: nothing of the layers below, metadata included. */
			if (x->nimplied)
				strv_push(&x->explicit, &x->nexplicit,
					  *w->dir ? xasprintf("%s/%s", w->dir, w->name) :
						    xasprintf("%s", w->name));
		} else {
			fd = -1;	/* a file of this layer hides the lower NAME by itself */
		}
		if (fd >= 0 && fsetxattr(fd, "trusted.overlay.opaque", "y", 1, 0) < 0) {
			int e = errno;
			if (fd != dfd)
				close(fd);
			close(dfd);
			return fail(x, shown, "make opaque: %s", strerror(e));
		}
		if (fd >= 0 && fd != dfd)
			close(fd);
		close(dfd);
	}
	return 0;
}

static void free_layer_state(struct extract *x)
{
	for (size_t i = 0; i < x->nwh; i++) {
		free(x->wh[i].dir);
		free(x->wh[i].name);
	}
	free(x->wh);
	x->wh = NULL;
	x->nwh = 0;
	strv_free(&x->implied, &x->nimplied);
	strv_free(&x->explicit, &x->nexplicit);
	free(x->last_parent);
	x->last_parent = NULL;
}

int extract_archive(struct extract *x)
{
	struct archive *in = archive_read_new(), *out = archive_write_disk_new();
	struct archive_entry *e;
	uint64_t entries = 0;
	char ebuf[256];
	struct timespec root_t[2];
	bool root_t_set = false;
	/* OWNER: numeric uid/gid (extracting needs chroot, hence privilege). */
	int flags = ARCHIVE_EXTRACT_OWNER | ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_TIME |
		    ARCHIVE_EXTRACT_XATTR | ARCHIVE_EXTRACT_SECURE_NODOTDOT |
		    ARCHIVE_EXTRACT_SECURE_NOABSOLUTEPATHS;
	int r, ret = -1;

	if (!in || !out)
		die("out of memory");
	/* Never ARCHIVE_EXTRACT_FFLAGS: an immutable or append-only flag would
	 * make the layer impossible to delete. No ARCHIVE_EXTRACT_SPARSE: it
	 * scans all data for zeros in 4 KiB writes (10% slower, like tar -S);
	 * holes the archive itself records (GNU/pax sparse) are kept anyway. */
	archive_write_disk_set_options(out, flags);
	/* No user/group lookup: numeric ids, never the host's /etc/passwd. */
	if (image_reader_setup(in) < 0) {
		fail(x, NULL, "libarchive: %s", lib_error(in, ebuf, sizeof(ebuf)));
		goto out;
	}
	if (archive_read_open_fd(in, x->fd, 128 * 1024) != ARCHIVE_OK) {
		fail(x, NULL, "%s", lib_error(in, ebuf, sizeof(ebuf)));
		goto out;
	}
	for (;;) {
		const char *why, *name, *link;

		if (x->stop && *x->stop) {
			fail(x, NULL, "interrupted by signal %d", (int)*x->stop);
			goto out;
		}
		r = archive_read_next_header(in, &e);
		if (r == ARCHIVE_EOF)
			break;
		if (r != ARCHIVE_OK) {
			fail(x, NULL, "%s", lib_error(in, ebuf, sizeof(ebuf)));
			goto out;
		}
		entries++;
		name = archive_entry_pathname(e);
		if ((why = entry_bad_path(name))) {
			fail(x, name ? name : "", "%s", why);
			goto out;
		}
		if (x->whiteouts && (r = take_whiteout(x, name, e)) != 0) {
			if (r < 0)
				goto out;
			continue;
		}
		if (x->whiteouts && make_parents(x, name) < 0)
			goto out;
		if (x->nimplied && archive_entry_filetype(e) == AE_IFDIR)
			strv_push(&x->explicit, &x->nexplicit, layer_path(name));
		/* libarchive leaves the times of "." (there already) alone:
		 * set at the end, so that the layer packs as it came. */
		if (archive_entry_filetype(e) == AE_IFDIR && archive_entry_mtime_is_set(e)) {
			char *lp = layer_path(name);
			if (!*lp) {
				root_t[0] = root_t[1] = (struct timespec){ archive_entry_mtime(e),
									   archive_entry_mtime_nsec(e) };
				root_t_set = true;
			}
			free(lp);
		}
		link = archive_entry_hardlink(e);
		if (link && (why = entry_bad_path(link))) {
			fail(x, name, "hard link to '%.120s': %s", link, why);
			goto out;
		}
		struct stat lst;
		/* In an image layer, the usual cause: a file of a lower layer. */
		if (link && x->whiteouts && lstat(link, &lst) < 0 && errno == ENOENT) {
			fail(x, name, "hard link to '%.120s', which is not in this layer (a file of a lower layer?)",
			     link);
			goto out;
		}
		entry_filter_xattrs(e);
		if (archive_write_header(out, e) != ARCHIVE_OK) {
			fail(x, name, "%s", lib_error(out, ebuf, sizeof(ebuf)));
			goto out;
		}
		if (archive_entry_size(e) > 0 && (r = copy_data(in, out)) < 0) {
			fail(x, name, "%s", lib_error(r == -1 ? in : out, ebuf, sizeof(ebuf)));
			goto out;
		}
		if (archive_write_finish_entry(out) != ARCHIVE_OK) {
			fail(x, name, "%s", lib_error(out, ebuf, sizeof(ebuf)));
			goto out;
		}
		if (x->progress && (entries & 63) == 0)
			progress(x, in, entries, false);
	}
	if (!entries) {
		fail(x, NULL, "empty archive");
		goto out;
	}
	/* Before the deferred directory times: whiteouts and implied parents
	 * change directories. */
	if (x->whiteouts && (apply_whiteouts(x) < 0 || implied_settle(x) < 0))
		goto out;
	/* Applies the deferred directory permissions and times. */
	if (archive_write_close(out) != ARCHIVE_OK) {
		fail(x, NULL, "%s", lib_error(out, ebuf, sizeof(ebuf)));
		goto out;
	}
	if (root_t_set && utimensat(AT_FDCWD, ".", root_t, 0) < 0) {
		fail(x, ".", "set its times: %s", strerror(errno));
		goto out;
	}
	x->entries = entries;
	ret = 0;
out:
	if (x->progress)
		progress(x, in, entries, true);
	free_layer_state(x);
	archive_read_free(in);
	archive_write_free(out);
	return ret;
}
