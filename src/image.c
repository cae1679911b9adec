/* The image store: content-addressed layers, image records and tags, under
 * the data root. The one owner of these rules (mdk-load, mdk-image and
 * mdk-overlay-up -i use them; scripts never touch these paths):
 *
 *   chains/HEX/         a layer unpacked once, named by its ChainID (HEX =
 *                       sha256 hex); only ever renamed into place whole, after
 *                       its DiffID was verified
 *   chains/.tmp-HEX@PID an unpack in progress or the debris of a killed one
 *   chains/.HEX.lock    flock(2)ed while HEX is unpacked
 *   chains/.HEX.size    bytes of the layer's tar stream (for image sizes)
 *   l/SHORT -> ../chains/HEX   short name (first 16 hex) for overlay lowerdir
 *   blobs/sha256/HEX    manifest and config blobs, verified
 *   image/HEX           image record (HEX = image ID = config digest):
 *                       "manifest=sha256:..|-" and "layers=CHAIN..." (bottom first)
 *   tags                "REF sha256:ID" lines, replaced whole under .tags.lock
 *   tmp/load-PID/       a load's staging area, flock(2)ed while it lives
 *   .store.lock         shared by loads and container setups, exclusive for
 *                       removal: nothing is removed while a load publishes or
 *                       a container is being made from it
 * A container made with mdk-overlay-up -i records "image=sha256:ID" and its
 * chains in layers/ID+rw/state: rmi refuses while one exists, and a chain is
 * removed only when no image record and no container names it. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <jansson.h>

#include "mdk.h"

int store_lock(int rootfd, int op)
{
	return lock_file(rootfd, ".store.lock", op);
}

bool valid_hex64(const char *s)
{
	size_t i;

	for (i = 0; i < 64; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return s[i] == 0;
}

bool valid_digest(const char *s)
{
	return s && !strncmp(s, "sha256:", 7) && valid_hex64(s + 7);
}

/* Open (making it if needed, 0700) directory PATH under ROOTFD: O_PATH. */
int store_dir(int rootfd, const char *path)
{
	char *p = xasprintf("%s", path);
	int fd;

	for (char *s = p;; s++) {
		if (*s == '/' || !*s) {
			char c = *s;
			*s = 0;
			if (mkdirat(rootfd, p, 0700) < 0 && errno != EEXIST) {
				free(p);
				return -1;
			}
			if (!(*s = c))
				break;
		}
	}
	free(p);
	fd = openat(rootfd, path, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	return fd;
}

/* Write LEN bytes to NAME in DIRFD atomically (temporary file, fsync, rename). */
int write_atomic(int dirfd, const char *name, const void *buf, size_t len)
{
	char tmp[300];
	int fd, e;

	snprintf(tmp, sizeof(tmp), ".%s.%ld.tmp", name, (long)getpid());
	fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	for (size_t off = 0; off < len;) {
		ssize_t w = write(fd, (const char *)buf + off, len - off);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			goto fail;
		}
		off += (size_t)w;
	}
	if (fsync(fd) < 0 || close(fd) < 0) {
		fd = -1;
		goto fail;
	}
	if (renameat(dirfd, tmp, dirfd, name) < 0) {
		fd = -1;
		goto fail;
	}
	return 0;
fail:
	e = errno;
	if (fd >= 0)
		close(fd);
	unlinkat(dirfd, tmp, 0);
	return errno = e, -1;
}

/* "busybox" -> "busybox:latest"; docker.io/library/, docker.io/ and podman's
 * localhost/ dropped. Repository [a-z0-9][a-z0-9._/-]*, tag
 * [A-Za-z0-9_][A-Za-z0-9_.-]*. -1 (EINVAL) for anything else. */
int ref_normalize(const char *in, char *out, size_t n)
{
	static const char *const drop[] = { "docker.io/library/", "docker.io/", "localhost/" };
	const char *slash, *colon, *tag = "latest";
	size_t rl;

	for (size_t i = 0; i < sizeof(drop) / sizeof(*drop); i++)
		if (!strncmp(in, drop[i], strlen(drop[i]))) {
			in += strlen(drop[i]);
			break;
		}
	slash = strrchr(in, '/');
	colon = strrchr(in, ':');
	rl = strlen(in);
	if (colon && (!slash || colon > slash)) {
		tag = colon + 1;
		rl = (size_t)(colon - in);
	}
	if (!rl || rl > 200 || !*tag || strlen(tag) > 128)
		return errno = EINVAL, -1;
	if (!((in[0] >= 'a' && in[0] <= 'z') || (in[0] >= '0' && in[0] <= '9')))
		return errno = EINVAL, -1;
	for (size_t i = 0; i < rl; i++) {
		char c = in[i];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
		      c == '-' || c == '/'))
			return errno = EINVAL, -1;
		if (c == '/' && (in[i + 1] == '/' || i + 1 == rl))
			return errno = EINVAL, -1;
	}
	if (tag[0] == '.' || tag[0] == '-')
		return errno = EINVAL, -1;
	for (const char *c = tag; *c; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
		      *c == '.' || *c == '_' || *c == '-'))
			return errno = EINVAL, -1;
	if ((size_t)snprintf(out, n, "%.*s:%s", (int)rl, in, tag) >= n)
		return errno = EINVAL, -1;
	return 0;
}

/* --- tags ----------------------------------------------------------------- */
#define TAGS_MAX (4 << 20)

static char *tags_read(int rootfd)
{
	int fd = openat(rootfd, "tags", O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	char *buf;
	size_t len;

	if (fd < 0)
		return errno == ENOENT ? xasprintf("%s", "") : NULL;
	if (read_fd_max(fd, TAGS_MAX, &buf, &len) < 0) {
		int e = errno;
		close(fd);
		return errno = e, NULL;
	}
	close(fd);
	return buf;
}

/* Call FN for each "REF sha256:ID" line. */
int tags_each(int rootfd, void (*fn)(const char *ref, const char *id, void *arg), void *arg)
{
	char *buf = tags_read(rootfd), *save = NULL;

	if (!buf)
		return -1;
	for (char *l = strtok_r(buf, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		char *sp = strchr(l, ' ');
		if (sp && valid_digest(sp + 1)) {
			*sp = 0;
			fn(l, sp + 1 + 7, arg);
		}
	}
	free(buf);
	return 0;
}

/* Set REF to ID (hex) or, with ID NULL, remove it; under the tags lock. With
 * ALL_OF set instead, remove every tag of that image. *CHANGED: whether
 * anything was. */
int tags_update(int rootfd, const char *ref, const char *id, const char *all_of, bool *changed)
{
	int lock = openat(rootfd, ".tags.lock", O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	char *buf, *save = NULL, *out;
	size_t n = 0;
	int ret = -1;

	*changed = false;
	if (lock < 0)
		return -1;
	while (flock(lock, LOCK_EX) < 0)
		if (errno != EINTR)
			goto out_lock;
	if (!(buf = tags_read(rootfd)))
		goto out_lock;
	out = xmalloc(strlen(buf) + (ref ? strlen(ref) : 0) + 80);
	for (char *l = strtok_r(buf, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		char *sp = strchr(l, ' ');
		if (!sp || !valid_digest(sp + 1))
			continue;
		*sp = 0;
		if ((ref && !strcmp(l, ref)) || (all_of && !strcmp(sp + 1 + 7, all_of))) {
			*changed = true;
			continue;
		}
		n += (size_t)sprintf(out + n, "%s %s\n", l, sp + 1);
	}
	if (ref && id) {
		n += (size_t)sprintf(out + n, "%s sha256:%s\n", ref, id);
		*changed = true;
	}
	ret = *changed ? write_atomic(rootfd, "tags", out, n) : 0;
	free(out);
	free(buf);
out_lock:
	close(lock);
	return ret;
}

struct find_tag { const char *ref; char *id; bool found; };
static void find_tag_fn(const char *ref, const char *id, void *arg)
{
	struct find_tag *f = arg;
	if (!strcmp(ref, f->ref)) {
		memcpy(f->id, id, 65);
		f->found = true;
	}
}

/* ID (64 hex) of image SPEC: "sha256:HEX", a HEX prefix of 12 or more that
 * names one image, or a reference NAME[:TAG]. -1 with ENOENT or EINVAL. */
int image_resolve(int rootfd, const char *spec, char id[65])
{
	char ref[400];
	const char *hex = !strncmp(spec, "sha256:", 7) ? spec + 7 : spec;
	size_t hl = strspn(hex, "0123456789abcdef");
	struct stat st;

	if (hl == strlen(hex) && hl >= 12 && hl <= 64) {
		int dfd = openat(rootfd, "image", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		DIR *d = dfd < 0 ? NULL : fdopendir(dfd);
		struct dirent *de;
		int found = 0;
		while (d && (de = readdir(d)))
			if (valid_hex64(de->d_name) && !strncmp(de->d_name, hex, hl)) {
				memcpy(id, de->d_name, 65);
				found++;
			}
		if (d)
			closedir(d);
		else if (dfd >= 0)
			close(dfd);
		if (found == 1)
			return 0;
		if (found > 1)
			return errno = EINVAL, -1;
		if (hex != spec)
			return errno = ENOENT, -1;
	}
	if (ref_normalize(spec, ref, sizeof(ref)) < 0)
		return -1;
	struct find_tag f = { .ref = ref, .id = id };
	if (tags_each(rootfd, find_tag_fn, &f) < 0)
		return -1;
	if (!f.found)
		return errno = ENOENT, -1;
	char rec[80];
	snprintf(rec, sizeof(rec), "image/%s", id);
	if (fstatat(rootfd, rec, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno = ENOENT, -1;
	return 0;
}

/* --- image records --------------------------------------------------------- */
int image_write(int rootfd, const char *id, const char *manifest, char (*chains)[65], size_t n)
{
	int dfd = store_dir(rootfd, "image"), ret;
	char *buf = xmalloc(200 + n * 66);
	size_t len = (size_t)sprintf(buf, "manifest=%s\nlayers=", manifest ? manifest : "-");

	if (dfd < 0) {
		free(buf);
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		len += (size_t)sprintf(buf + len, "%s%s", i ? " " : "", chains[i]);
	buf[len++] = '\n';
	ret = write_atomic(dfd, id, buf, len);
	free(buf);
	close(dfd);
	return ret;
}

int image_read(int rootfd, const char *id, struct image *im)
{
	char path[80], *buf, *save = NULL;
	size_t len;
	int fd;

	memset(im, 0, sizeof(*im));
	if (!valid_hex64(id))
		return errno = EINVAL, -1;
	snprintf(path, sizeof(path), "image/%s", id);
	if ((fd = openat(rootfd, path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		return -1;
	if (read_fd_max(fd, 1 << 20, &buf, &len) < 0) {
		int e = errno;
		close(fd);
		return errno = e, -1;
	}
	close(fd);
	memcpy(im->id, id, 65);
	for (char *l = strtok_r(buf, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		if (!strncmp(l, "manifest=", 9) && valid_digest(l + 9)) {
			memcpy(im->manifest, l + 9, 72);
		} else if (!strncmp(l, "layers=", 7)) {
			char *s2 = NULL;
			for (char *t = strtok_r(l + 7, " ", &s2); t; t = strtok_r(NULL, " ", &s2)) {
				if (!valid_hex64(t) || im->nlayers == MDK_IMAGE_LAYERS_MAX) {
					free(buf);
					return errno = EINVAL, -1;
				}
				memcpy(im->layers[im->nlayers++], t, 65);
			}
		}
	}
	free(buf);
	return im->nlayers ? 0 : (errno = EINVAL, -1);
}

/* --- who uses what ----------------------------------------------------------- */
/* Call FN for each container state file's "image=" and "layers=" values. */
static int containers_each(int rootfd, bool (*fn)(const char *key, const char *val, void *arg),
			   void *arg)
{
	int lfd = openat(rootfd, "layers", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = lfd < 0 ? NULL : fdopendir(lfd);
	struct dirent *de;
	bool stop = false;

	if (!d)
		return lfd >= 0 ? (close(lfd), -1) : errno == ENOENT ? 0 : -1;
	while (!stop && (de = readdir(d))) {
		size_t n = strlen(de->d_name);
		char path[300], line[16384];
		if (n < 4 || strcmp(de->d_name + n - 3, "+rw"))
			continue;
		snprintf(path, sizeof(path), "%s/state", de->d_name);
		int sfd = openat(dirfd(d), path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		FILE *f = sfd < 0 ? NULL : fdopen(sfd, "r");
		if (!f) {
			if (sfd >= 0)
				close(sfd);
			/* Half made: it may use anything. */
			stop = fn("id", de->d_name, arg) || fn("image", "*", arg) || fn("layers", "*", arg);
			continue;
		}
		stop = fn("id", de->d_name, arg);
		while (!stop && fgets(line, sizeof(line), f)) {
			char *eq = strchr(line, '=');
			if (!eq)
				continue;
			*eq = 0;
			eq[strcspn(eq + 1, "\n") + 1] = 0;
			stop = fn(line, eq + 1, arg);
		}
		fclose(f);
	}
	closedir(d);
	return 0;
}

struct in_use { const char *id; char who[80]; bool used; };
static bool in_use_fn(const char *key, const char *val, void *arg)
{
	struct in_use *u = arg;
	if (!strcmp(key, "id") && strlen(val) < sizeof(u->who))
		snprintf(u->who, sizeof(u->who), "%.*s", (int)strlen(val) - 3, val);
	if (!strcmp(key, "image") && (!strcmp(val, "*") || (valid_digest(val) && !strcmp(val + 7, u->id))))
		u->used = true;
	return u->used;
}

/* Is image ID used by a container? WHO gets its ID. */
bool image_in_use(int rootfd, const char *id, char *who, size_t n)
{
	struct in_use u = { .id = id };
	if (containers_each(rootfd, in_use_fn, &u) < 0)
		return true;
	snprintf(who, n, "%s", u.who);
	return u.used;
}

uint64_t chain_size(int rootfd, const char *hex)
{
	char path[100], buf[32] = "";
	int fd;
	ssize_t n;

	snprintf(path, sizeof(path), "chains/.%.64s.size", hex);
	if ((fd = openat(rootfd, path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	buf[n > 0 ? n : 0] = 0;
	return strtoull(buf, NULL, 10);
}

/* --- garbage collection ----------------------------------------------------- */
struct refs { char (*hex)[65]; size_t n, cap; bool all; };

static void refs_add(struct refs *r, const char *hex)
{
	if (r->n == r->cap) {
		r->cap = r->cap ? r->cap * 2 : 256;
		if (!(r->hex = realloc(r->hex, r->cap * 65)))
			die("out of memory");
	}
	memcpy(r->hex[r->n++], hex, 65);
}

static bool refs_has(const struct refs *r, const char *hex)
{
	if (r->all)
		return true;
	for (size_t i = 0; i < r->n; i++)
		if (!strcmp(r->hex[i], hex))
			return true;
	return false;
}

static bool refs_container_fn(const char *key, const char *val, void *arg)
{
	struct refs *r = arg;
	if (!strcmp(key, "layers")) {
		char *v = xasprintf("%s", val), *save = NULL;
		for (char *t = strtok_r(v, " ", &save); t; t = strtok_r(NULL, " ", &save)) {
			if (!strcmp(t, "*"))
				r->all = true;
			else if (valid_hex64(t))
				refs_add(r, t);
		}
		free(v);
	}
	return false;
}

/* Remove the names in directory SUB of ROOTFD that are 64-hex and not in
 * KEEP (renamed to .tmp-HEX@gcPID first when a directory: a removal cut short
 * is never taken for a layer). */
static int gc_dir(int rootfd, const char *sub, const struct refs *keep, bool dirs, bool verbose)
{
	int fd = openat(rootfd, sub, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC), err = 0;
	DIR *d = fd < 0 ? NULL : fdopendir(fd);
	struct dirent *de;

	if (!d)
		return fd >= 0 ? (close(fd), -1) : errno == ENOENT ? 0 : -1;
	while ((de = readdir(d))) {
		char tmp[100];
		if (!valid_hex64(de->d_name) || refs_has(keep, de->d_name))
			continue;
		if (!dirs) {
			if (unlinkat(dirfd(d), de->d_name, 0) < 0 && !err)
				err = errno;
			continue;
		}
		snprintf(tmp, sizeof(tmp), ".tmp-%.64s@gc%ld", de->d_name, (long)getpid());
		if (renameat(dirfd(d), de->d_name, dirfd(d), tmp) < 0 ||
		    rm_tree_nocross(dirfd(d), tmp) < 0) {
			if (!err)
				err = errno;
		} else {
			snprintf(tmp, sizeof(tmp), ".%.64s.size", de->d_name);
			unlinkat(dirfd(d), tmp, 0);
			snprintf(tmp, sizeof(tmp), ".%.64s.lock", de->d_name);
			unlinkat(dirfd(d), tmp, 0);
			if (verbose)
				printf("Deleted: sha256:%s\n", de->d_name);
		}
	}
	closedir(d);
	return err ? (errno = err, -1) : 0;
}

/* Remove the short links whose chain is gone, and debris of killed loads
 * and unpacks. */
static void gc_debris(int rootfd)
{
	int fd = openat(rootfd, "l", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	DIR *d = fd < 0 ? NULL : fdopendir(fd);
	struct dirent *de;
	struct stat st;

	while (d && (de = readdir(d)))
		if (de->d_name[0] != '.' && fstatat(dirfd(d), de->d_name, &st, 0) < 0 && errno == ENOENT)
			unlinkat(dirfd(d), de->d_name, 0);
	if (d)
		closedir(d);
	else if (fd >= 0)
		close(fd);
	fd = openat(rootfd, "chains", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	d = fd < 0 ? NULL : fdopendir(fd);
	/* Under the exclusive store lock no unpack runs: all .tmp- are debris. */
	while (d && (de = readdir(d)))
		if (!strncmp(de->d_name, ".tmp-", 5))
			rm_tree_nocross(dirfd(d), de->d_name);
	if (d)
		closedir(d);
	else if (fd >= 0)
		close(fd);
	load_clean_debris(rootfd);
}

/* With the store lock held exclusively: remove every chain, short link and
 * blob that no image record and no container names. */
int store_gc(int rootfd, bool verbose)
{
	struct refs chains = { 0 }, blobs = { 0 };
	int fd = openat(rootfd, "image", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC), ret = 0;
	DIR *d = fd < 0 ? NULL : fdopendir(fd);
	struct dirent *de;

	if (!d && fd >= 0)
		close(fd);
	if (!d && errno != ENOENT)
		return -1;
	while (d && (de = readdir(d))) {
		struct image im;
		if (!valid_hex64(de->d_name))
			continue;
		if (image_read(rootfd, de->d_name, &im) < 0) {
			chains.all = true;	/* unreadable: keep everything */
			continue;
		}
		refs_add(&blobs, im.id);
		if (im.manifest[0])
			refs_add(&blobs, im.manifest + 7);
		for (size_t i = 0; i < im.nlayers; i++)
			refs_add(&chains, im.layers[i]);
	}
	if (d)
		closedir(d);
	if (containers_each(rootfd, refs_container_fn, &chains) < 0)
		chains.all = true;
	if (gc_dir(rootfd, "chains", &chains, true, verbose) < 0 ||
	    gc_dir(rootfd, "blobs/sha256", &blobs, false, false) < 0)
		ret = -1;
	gc_debris(rootfd);
	free(chains.hex);
	free(blobs.hex);
	return ret;
}

/* Staging directories of loads that died (their flock is gone). */
void load_clean_debris(int rootfd)
{
	int fd = openat(rootfd, "tmp", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	DIR *d = fd < 0 ? NULL : fdopendir(fd);
	struct dirent *de;

	while (d && (de = readdir(d))) {
		/* (A commit and a save stage images as a load does.) */
		if (strncmp(de->d_name, "load-", 5) && strncmp(de->d_name, "commit-", 7) &&
		    strncmp(de->d_name, "save-", 5))
			continue;
		int dfd = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (dfd < 0)
			continue;
		if (flock(dfd, LOCK_EX | LOCK_NB) == 0)
			rm_tree_nocross(dirfd(d), de->d_name);
		close(dfd);
	}
	if (d)
		closedir(d);
	else if (fd >= 0)
		close(fd);
}

/* This machine's architecture in the OCI's words (GOARCH). */
const char *image_arch(void)
{
	static struct utsname u;
	static const char *const map[][2] = {
		{ "x86_64", "amd64" }, { "aarch64", "arm64" }, { "i686", "386" }, { "i386", "386" },
		{ "armv7l", "arm" },   { "ppc64le", "ppc64le" }, { "s390x", "s390x" },
		{ "riscv64", "riscv64" },
	};
	uname(&u);
	for (size_t i = 0; i < sizeof(map) / sizeof(*map); i++)
		if (!strcmp(u.machine, map[i][0]))
			return map[i][1];
	return u.machine;
}

/* The bytes of blob blobs/sha256/HEX (a config or manifest: at most 4 MiB),
 * NUL-terminated. NULL with errno. */
char *blob_read(int rootfd, const char *hex, size_t *len)
{
	char path[100], *buf;
	int fd, e;

	snprintf(path, sizeof(path), "blobs/sha256/%.64s", hex);
	if ((fd = openat(rootfd, path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		return NULL;
	e = read_fd_max(fd, 4u << 20, &buf, len) < 0 ? errno : 0;
	close(fd);
	return e ? (errno = e, NULL) : buf;
}

/* $1 quoted for sh's eval: it's -> 'it'\''s'. -1 (EINVAL) for a newline:
 * the lines below are one KEY=VALUE each. */
static int put_quoted(FILE *f, const char *s)
{
	if (strchr(s, '\n'))
		return errno = EINVAL, -1;
	fputc('\'', f);
	for (; *s; s++) {
		if (*s == '\'')
			fputs("'\\''", f);
		else
			fputc(*s, f);
	}
	fputc('\'', f);
	return 0;
}

/* KEY= and the strings of ARR; with KV only those of the form K=V: an Env
 * entry "NAME" would be m-docker's -e NAME, which copies the caller's own
 * variable into the container (a hostile image could take any). */
static int put_words(FILE *f, const char *key, json_t *arr, bool kv)
{
	const char *sep = "";
	size_t i;
	json_t *v;

	fprintf(f, "%s=", key);
	json_array_foreach(arr, i, v) {
		const char *w = json_string_value(v);
		if (!w || (kv && (*w == '=' || !strchr(w, '='))))
			continue;
		fputs(sep, f);
		if (put_quoted(f, w) < 0)
			return -1;
		sep = " ";
	}
	fputc('\n', f);
	return 0;
}

static int put_line(FILE *f, const char *key, json_t *val)
{
	const char *s = json_string_value(val);

	if (s && strchr(s, '\n'))
		return errno = EINVAL, -1;
	fprintf(f, "%s=%s\n", key, s ? s : "");
	return 0;
}

/* The run settings of image ID (its config blob; none: all empty), as m-docker
 * reads them: id=, then entrypoint=, cmd= and env= as words quoted for eval,
 * then workdir=, user= and stopsignal=. -1 with errno (EINVAL: a newline in
 * a value, which no line can hold). */
int image_config_write(int rootfd, const char *id, FILE *f)
{
	size_t len;
	char *buf = blob_read(rootfd, id, &len);
	json_t *cfg, *cc;
	int ret;

	if (!buf && errno != ENOENT)
		return -1;
	cfg = buf ? json_loadb(buf, len, 0, NULL) : NULL;
	free(buf);
	cc = json_object_get(cfg, "config");
	fprintf(f, "id=sha256:%s\n", id);
	ret = put_words(f, "entrypoint", json_object_get(cc, "Entrypoint"), false) < 0 ||
	      put_words(f, "cmd", json_object_get(cc, "Cmd"), false) < 0 ||
	      put_words(f, "env", json_object_get(cc, "Env"), true) < 0 ||
	      put_line(f, "workdir", json_object_get(cc, "WorkingDir")) < 0 ||
	      put_line(f, "user", json_object_get(cc, "User")) < 0 ||
	      put_line(f, "stopsignal", json_object_get(cc, "StopSignal")) < 0 ? -1 : 0;
	json_decref(cfg);
	return ret;
}

/* A staging directory tmp/PREFIX-PID of the data root, locked while we live
 * (load_clean_debris removes the unlocked ones, as it does first). Its fd,
 * its name in NAME; -1 with errno. */
int stage_make(int rootfd, const char *prefix, char *name, size_t n)
{
	int tfd = store_dir(rootfd, "tmp"), fd = -1, e;

	if (tfd < 0)
		return -1;
	load_clean_debris(rootfd);
	snprintf(name, n, "%s-%ld", prefix, (long)getpid());
	/* Another stage_make's load_clean_debris can take ours for debris in
	 * the moment between mkdir and flock, and remove it: then it is gone,
	 * or no longer what the name holds, once we have the lock. Again. */
	for (int i = 0; i < 16; i++) {
		struct stat a, b;
		if (mkdirat(tfd, name, 0700) < 0)
			break;
		if ((fd = openat(tfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) >= 0 &&
		    flock(fd, LOCK_EX) == 0 && fstat(fd, &a) == 0 &&
		    fstatat(tfd, name, &b, AT_SYMLINK_NOFOLLOW) == 0) {
			if (a.st_dev == b.st_dev && a.st_ino == b.st_ino) {
				close(tfd);
				return fd;
			}
			errno = ENOENT;
		}
		if (errno != ENOENT)
			break;
		if (fd >= 0)
			close(fd);
		fd = -1;
	}
	e = errno;
	if (fd >= 0)
		close(fd);
	close(tfd);
	return errno = e, -1;
}
