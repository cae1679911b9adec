/* mdk-load: load an image (docker-archive or OCI) into the store, verified.
 *
 * usage: mdk-load [-R ROOT] [-q] [-t REF] [--platform OS/ARCH[/VARIANT]]
 *                 [--max-layer-size SIZE] [--max-size SIZE] [FILE|DIR|-]
 *
 * Reads docker save / podman save / skopeo output (docker-archive, every
 * shape) or an OCI image layout (directory, or a tar of one), from FILE, DIR,
 * or stdin; the format is told by content, any compression of the whole file
 * is undone. Every blob is checked against its descriptor (size, sha256),
 * every layer's DiffID against the config's rootfs.diff_ids, before it is
 * trusted. Layers go to ROOT/chains/CHAINID, each unpacked once (confined,
 * whiteouts turned into overlay's), shared by every image that has them.
 * From a multi-platform index the host's linux/ARCH is picked. Prints
 * "Loaded image: REF" per tag (else the ID). Any failure leaves nothing.
 * When stderr is a terminal (and without -q), each layer has a line there:
 * "layer 2/3 sha256:CHAIN: 12.3MB of 45.6MB", rewritten in place while its
 * blob is read, then its sizes (or "already unpacked").
 *
 * Exit codes: 0 loaded, 1 failed (nothing left behind), 2 usage error. */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <jansson.h>
#include <linux/openat2.h>
#include <pthread.h>
#include <nettle/sha2.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "mdk.h"

const char load_usage[] =
	"usage: mdk-load [-R ROOT] [-q] [-t REF] [--platform OS/ARCH[/VARIANT]] [FILE|DIR|-]\n"
	"Load a docker-archive or OCI image (layout directory or tar, any compression)\n"
	"from FILE, DIR or stdin into the store: blobs and DiffIDs verified, each layer\n"
	"unpacked once under ROOT/chains/CHAINID and shared between images.\n"
	"  -R ROOT                data root (default $MDK_ROOT, else " MDK_DEFAULT_ROOT ")\n"
	"  -t REF                 also tag the image REF (NAME[:TAG]; one image only)\n"
	"  -q                     no progress lines\n"
	"  --platform P           os/arch[/variant] to pick from an index (default linux/host)\n"
	"  --max-layer-size SIZE  cap on a layer's uncompressed size (default 64g)\n"
	"  --max-size SIZE        cap on the whole input, uncompressed (default 256g)\n"
	"Exit codes: 0 loaded, 1 failed (nothing left behind), 2 usage error.\n";

#define JSON_MAX (4u << 20)	/* manifest, index, config */
#define ENTRIES_MAX 100000	/* files in an image archive */
#define IMAGES_MAX 64
#define DEPTH_MAX 4		/* nested indexes */

enum { OPT_PLATFORM = 256, OPT_MAX_LAYER, OPT_MAX_SIZE };

/* Where blobs are read from: an OCI layout directory, or the staging
 * directory holding an archive's files as 0, 1, 2... with a name table. */
struct entry {
	char *name;	/* normalized */
	char *link;	/* symlink target (as written) or hard link name, or NULL */
	bool hard;
	size_t idx;
};
struct src {
	int dirfd;
	bool archive;
	struct entry *e;
	size_t n;
};

struct layer {
	char *path;		/* in the source */
	char digest[72];	/* "sha256:..." when a descriptor gives it, else "" */
	int64_t size;		/* -1: unknown */
	char diffid[72];
	char chain[65];
};
struct img {
	char id[65];
	char *config, *manifest;
	size_t config_len, manifest_len;
	char mdigest[72];	/* manifest digest, "" for docker-archive */
	struct layer l[MDK_IMAGE_LAYERS_MAX];
	size_t n;
	char *tags[32];
	size_t ntags;
	const char *where;	/* for messages */
};

static int rootfd = -1, stagefd = -1, store_lockfd = -1;
static pid_t main_pid;
static char *root;
static char stage_name[64];
static bool loaded, quiet, progress;
static uint64_t max_layer = 64ull << 30, max_size = 256ull << 30;
static const char *want_os = "linux", *want_arch, *want_variant;
static volatile sig_atomic_t stop_sig;
static pid_t child;

static void on_signal(int sig)
{
	stop_sig = sig;
	if (child > 0)
		kill(child, SIGTERM);
}

/* The one way out of a failed load: the staging area goes, and what this
 * load published without an image naming it is collected (under the
 * exclusive store lock: after every other load's record is written). */
static void cleanup(void)
{
	if (loaded || rootfd < 0 || getpid() != main_pid)
		return;
	if (stagefd >= 0) {
		int tfd = openat(rootfd, "tmp", O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (tfd >= 0 && rm_tree_nocross(tfd, stage_name) < 0)
			warn_errno("remove '%s/tmp/%s'", root, stage_name);
	}
	/* flock: our own shared lock would block the exclusive one. */
	close(store_lockfd);
	int lock = store_lock(rootfd, LOCK_EX);
	if (lock >= 0 && store_gc(rootfd, false) < 0)
		warn_errno("remove unused layers in '%s'", root);
}

/* --- paths inside an image ---------------------------------------------------- */
/* "./a//b/../c" -> "a/c"; -1 when it climbs out or is empty. */
static int normalize(const char *in, char *out, size_t n)
{
	size_t len = 0;

	for (const char *c = in; *c;) {
		size_t k = strcspn(c, "/");
		if (k == 2 && c[0] == '.' && c[1] == '.') {
			if (!len)
				return -1;
			while (len && out[len - 1] != '/')
				len--;
			if (len)
				len--;
		} else if (k && !(k == 1 && c[0] == '.')) {
			if (len + k + 2 > n)
				return -1;
			if (len)
				out[len++] = '/';
			memcpy(out + len, c, k);
			len += k;
		}
		c += k;
		c += *c == '/';
	}
	out[len] = 0;
	return len ? 0 : -1;
}

/* Open file NAME of the image, following symlinks only inside it. */
static int src_open(const struct src *s, const char *name)
{
	char norm[4096], next[8300];

	if (normalize(name, norm, sizeof(norm)) < 0)
		die("'%.200s': path outside the image", name);
	if (!s->archive) {
		struct open_how how = { .flags = O_RDONLY | O_NONBLOCK | O_CLOEXEC,
					.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS };
		struct stat st;
		int fd = (int)syscall(SYS_openat2, s->dirfd, norm, &how, sizeof(how));
		if (fd < 0)
			return -1;
		if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
			close(fd);
			return errno = EINVAL, -1;
		}
		return fd;
	}
	for (int hops = 0; hops < 16; hops++) {
		const struct entry *e = NULL;
		for (size_t i = 0; i < s->n && !e; i++)
			if (!strcmp(s->e[i].name, norm))
				e = &s->e[i];
		if (!e)
			return errno = ENOENT, -1;
		if (!e->link) {
			char idx[32];
			snprintf(idx, sizeof(idx), "%zu", e->idx);
			return openat(s->dirfd, idx, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		}
		if (e->hard || e->link[0] == '/' || !strchr(norm, '/'))
			snprintf(next, sizeof(next), "%s", e->link);
		else
			snprintf(next, sizeof(next), "%.*s/%s", (int)(strrchr(norm, '/') - norm), norm,
				 e->link);
		if (normalize(next, norm, sizeof(norm)) < 0)
			die("'%.200s': symlink to '%.200s' points outside the image", name, e->link);
	}
	return errno = ELOOP, -1;
}

static bool src_has(const struct src *s, const char *name)
{
	int fd = src_open(s, name);
	if (fd < 0)
		return false;
	close(fd);
	return true;
}

/* Copy the archive's regular files into the staging directory. */
static void stage_archive(struct src *s, int fd, const char *label)
{
	struct archive *a = archive_read_new();
	struct archive_entry *e;
	uint64_t total = 0;
	char buf[65536];
	size_t cap = 0;
	int r;

	if (!a || archive_read_support_format_tar(a) != ARCHIVE_OK ||
	    archive_read_support_filter_all(a) != ARCHIVE_OK ||
	    archive_read_open_fd(a, fd, 128 * 1024) != ARCHIVE_OK)
		die("%s: %s", label, archive_error_string(a));
	s->dirfd = stagefd;
	s->archive = true;
	while ((r = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
		const char *name = archive_entry_pathname(e), *link;
		char norm[4096];
		mode_t type = archive_entry_filetype(e);

		if (stop_sig)
			die("interrupted by signal %d", (int)stop_sig);
		if (!name || normalize(name, norm, sizeof(norm)) < 0)
			continue;	/* never named by a valid image: never read */
		link = archive_entry_hardlink(e);
		if (!link && type == AE_IFLNK)
			link = archive_entry_symlink(e);
		else if (!link && type != AE_IFREG)
			continue;
		if (s->n == ENTRIES_MAX)
			die("%s: more than %d files: not an image", label, ENTRIES_MAX);
		if (s->n == cap) {
			cap = cap ? cap * 2 : 64;
			if (!(s->e = realloc(s->e, cap * sizeof(*s->e))))
				die("out of memory");
		}
		struct entry *en = &s->e[s->n];
		en->name = xasprintf("%s", norm);
		en->link = link ? xasprintf("%s", link) : NULL;
		en->hard = link && archive_entry_hardlink(e);
		en->idx = s->n++;
		if (link)
			continue;
		char idx[32];
		snprintf(idx, sizeof(idx), "%zu", en->idx);
		int out = openat(stagefd, idx, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (out < 0)
			die_errno("create '%s/tmp/%s/%s'", root, stage_name, idx);
		ssize_t got;
		while ((got = archive_read_data(a, buf, sizeof(buf))) > 0) {
			if ((total += (uint64_t)got) > max_size)
				die("%s: larger than %llu bytes uncompressed (--max-size)", label,
				    (unsigned long long)max_size);
			for (ssize_t off = 0; off < got;) {
				ssize_t w = write(out, buf + off, (size_t)(got - off));
				if (w < 0)
					die_errno("write '%s/tmp/%s/%s'", root, stage_name, idx);
				off += w;
			}
		}
		if (got < 0)
			die("%s: %s", label, archive_error_string(a));
		close(out);
	}
	if (r != ARCHIVE_EOF)
		die("%s: %s", label, archive_error_string(a));
	archive_read_free(a);
}

/* --- blobs and JSON --------------------------------------------------------------- */
/* sha256 from nettle: its fat build picks the CPU's SHA instructions at run
 * time, about 7x libmd's portable C on this project's machines, and a load
 * hashes every byte twice (the blob and its uncompressed stream). */
static void sha256_end(struct sha256_ctx *c, char out[65])
{
	uint8_t d[SHA256_DIGEST_SIZE];

	sha256_digest(c, sizeof(d), d);
	for (size_t i = 0; i < sizeof(d); i++)
		snprintf(out + 2 * i, 3, "%02x", d[i]);
}

static void sha256_hex(const void *buf, size_t n, char out[65])
{
	struct sha256_ctx c;

	sha256_init(&c);
	sha256_update(&c, n, buf);
	sha256_end(&c, out);
}

/* Read blob PATH, checking its size and digest when given. */
static char *read_blob(const struct src *s, const char *path, const char *digest, int64_t size,
		       size_t *len, const char *what)
{
	int fd = src_open(s, path);
	struct stat st;
	char *buf, hex[65];

	if (fd < 0)
		die_errno("%s '%.200s'", what, path);
	if (fstat(fd, &st) < 0)
		die_errno("stat %s '%.200s'", what, path);
	if (size >= 0 && st.st_size != size)
		die("%s '%.200s': %lld bytes, its descriptor says %lld", what, path,
		    (long long)st.st_size, (long long)size);
	if ((uint64_t)st.st_size > JSON_MAX)
		die("%s '%.200s': %lld bytes, more than the cap of %u", what, path,
		    (long long)st.st_size, JSON_MAX);
	if (read_fd_max(fd, JSON_MAX, &buf, len) < 0)
		die_errno("read %s '%.200s'", what, path);
	close(fd);
	sha256_hex(buf, *len, hex);
	if (digest && strcmp(digest + 7, hex))
		die("%s '%.200s': sha256 is %s, its descriptor says %s", what, path, hex, digest + 7);
	return buf;
}

static json_t *parse_json(const char *buf, size_t len, const char *what)
{
	json_error_t err;
	json_t *j = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &err);

	if (!j)
		die("%s: invalid JSON: %s (line %d)", what, err.text, err.line);
	return j;
}

static const char *jstr(json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

/* A descriptor's digest (grammar checked before any path is built from it),
 * size, and the blob path. */
static void descriptor(json_t *d, const char *what, char digest[72], int64_t *size, char **path)
{
	const char *dg = jstr(d, "digest");
	json_t *sz = json_object_get(d, "size");

	if (!json_is_object(d))
		die("%s: descriptor is not an object", what);
	if (!valid_digest(dg))
		die("%s: digest '%.100s' is not sha256:<64 hex>", what, dg ? dg : "(none)");
	if (!json_is_integer(sz) || json_integer_value(sz) < 0)
		die("%s: descriptor of %s has no valid size", what, dg);
	snprintf(digest, 72, "%s", dg);
	*size = json_integer_value(sz);
	*path = xasprintf("blobs/sha256/%s", dg + 7);
}

/* "blobs/sha256/HEX" (docker >= 25) or "HEX.json" (docker <= 24 config):
 * the name is the digest, checked too. */
static void digest_from_name(const char *path, char digest[72])
{
	char norm[4096];
	const char *b;

	digest[0] = 0;
	if (normalize(path, norm, sizeof(norm)) < 0)
		return;
	b = strrchr(norm, '/') ? strrchr(norm, '/') + 1 : norm;
	if (!strncmp(norm, "blobs/sha256/", 13) && b == norm + 13 && valid_hex64(b))
		snprintf(digest, 72, "sha256:%.64s", b);
	else if (b == norm && strlen(b) == 69 && !strcmp(b + 64, ".json")) {
		char hex[65];
		memcpy(hex, b, 64);
		hex[64] = 0;
		if (valid_hex64(hex))
			snprintf(digest, 72, "sha256:%s", hex);
	}
}

/* Config: diff_ids (count equal to the layers), ChainIDs, the image ID. */
static void read_config(struct img *im)
{
	json_t *c = parse_json(im->config, im->config_len, "config"), *rootfs, *ids;
	char prev[72] = "";

	sha256_hex(im->config, im->config_len, im->id);
	rootfs = json_object_get(c, "rootfs");
	ids = json_object_get(rootfs, "diff_ids");
	if (!json_is_object(rootfs) || !json_is_array(ids) || !jstr(rootfs, "type") ||
	    strcmp(jstr(rootfs, "type"), "layers"))
		die("%s: config has no rootfs of type layers with diff_ids", im->where);
	if (json_array_size(ids) != im->n)
		die("%s: config lists %zu diff_ids for %zu layers", im->where, json_array_size(ids),
		    im->n);
	for (size_t i = 0; i < im->n; i++) {
		const char *d = json_string_value(json_array_get(ids, i));
		if (!valid_digest(d))
			die("%s: diff_id %zu '%.100s' is not sha256:<64 hex>", im->where, i,
			    d ? d : "(not a string)");
		snprintf(im->l[i].diffid, 72, "%s", d);
		if (!i) {
			snprintf(im->l[i].chain, 65, "%s", d + 7);
		} else {
			char *s = xasprintf("%s %s", prev, d);
			sha256_hex(s, strlen(s), im->l[i].chain);
			free(s);
		}
		snprintf(prev, sizeof(prev), "sha256:%s", im->l[i].chain);
	}
	if (want_arch && jstr(c, "architecture") && jstr(c, "os") &&
	    (strcmp(jstr(c, "os"), want_os) || strcmp(jstr(c, "architecture"), want_arch)))
		die("%s: image is for %s/%s, not %s/%s", im->where, jstr(c, "os"),
		    jstr(c, "architecture"), want_os, want_arch);
	json_decref(c);
}

static void add_tag(struct img *im, const char *ref)
{
	char norm[400];

	if (ref_normalize(ref, norm, sizeof(norm)) < 0)
		die("%s: invalid tag '%.200s'", im->where, ref);
	if (im->ntags < sizeof(im->tags) / sizeof(*im->tags))
		im->tags[im->ntags++] = xasprintf("%s", norm);
}

/* --- docker-archive ----------------------------------------------------------------- */
static size_t read_docker(const struct src *s, struct img *ims)
{
	size_t len, n;
	char *buf = read_blob(s, "manifest.json", NULL, -1, &len, "manifest.json");
	json_t *m = parse_json(buf, len, "manifest.json"), *it;

	if (!json_is_array(m) || !json_array_size(m))
		die("manifest.json: not a list of images");
	if ((n = json_array_size(m)) > IMAGES_MAX)
		die("manifest.json: more than %d images", IMAGES_MAX);
	for (size_t i = 0; i < n; i++) {
		struct img *im = &ims[i];
		json_t *layers, *tags;
		const char *cfg;
		char dg[72];

		it = json_array_get(m, i);
		cfg = jstr(it, "Config");
		layers = json_object_get(it, "Layers");
		im->where = "manifest.json";
		if (!cfg || !json_is_array(layers))
			die("manifest.json: image %zu has no Config or Layers", i);
		if (!(im->n = json_array_size(layers)) || im->n > MDK_IMAGE_LAYERS_MAX)
			die("manifest.json: image %zu has %zu layers (1 to %d allowed)", i, im->n,
			    MDK_IMAGE_LAYERS_MAX);
		digest_from_name(cfg, dg);
		im->config = read_blob(s, cfg, dg[0] ? dg : NULL, -1, &im->config_len, "config");
		for (size_t k = 0; k < im->n; k++) {
			const char *p = json_string_value(json_array_get(layers, k));
			if (!p)
				die("manifest.json: layer %zu of image %zu is not a path", k, i);
			im->l[k].path = xasprintf("%s", p);
			im->l[k].size = -1;
			digest_from_name(p, im->l[k].digest);
		}
		read_config(im);
		tags = json_object_get(it, "RepoTags");
		for (size_t k = 0; k < json_array_size(tags); k++) {
			const char *t = json_string_value(json_array_get(tags, k));
			if (t)
				add_tag(im, t);
		}
	}
	json_decref(m);
	free(buf);
	return n;
}

/* --- OCI layout ------------------------------------------------------------------------ */
#define MT_OCI_INDEX "application/vnd.oci.image.index.v1+json"
#define MT_DOCKER_LIST "application/vnd.docker.distribution.manifest.list.v2+json"
#define MT_OCI_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define MT_DOCKER_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"

static const char *const layer_types[] = {
	"application/vnd.oci.image.layer.v1.tar",
	"application/vnd.oci.image.layer.v1.tar+gzip",
	"application/vnd.oci.image.layer.v1.tar+zstd",
	"application/vnd.oci.image.layer.nondistributable.v1.tar",
	"application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
	"application/vnd.oci.image.layer.nondistributable.v1.tar+zstd",
	"application/vnd.docker.image.rootfs.diff.tar.gzip",
	"application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
};

static bool platform_ok(json_t *p, char *seen, size_t n)
{
	const char *os = jstr(p, "os"), *arch = jstr(p, "architecture"), *var = jstr(p, "variant");
	size_t l = strlen(seen);

	if (!os || !arch)
		return false;
	if (l < n - 40)
		snprintf(seen + l, n - l, "%s%.16s/%.16s%s%.8s", l ? ", " : "", os, arch,
			 var ? "/" : "", var ? var : "");
	return !strcmp(os, want_os) && !strcmp(arch, want_arch) &&
	       (!want_variant || (var && !strcmp(var, want_variant)));
}

/* Follow descriptor D down to an image manifest for the wanted platform. */
static bool oci_pick(const struct src *s, json_t *d, int depth, struct img *im, char *seen,
		     size_t seen_n)
{
	char digest[72], *path, *buf;
	int64_t size;
	size_t len;
	const char *mt = jstr(d, "mediaType");
	json_t *j;

	if (depth > DEPTH_MAX)
		die("index.json: indexes nested deeper than %d", DEPTH_MAX);
	descriptor(d, "index", digest, &size, &path);
	buf = read_blob(s, path, digest, size, &len, "manifest");
	j = parse_json(buf, len, path);
	if (!mt)
		mt = jstr(j, "mediaType");
	if ((mt && (!strcmp(mt, MT_OCI_INDEX) || !strcmp(mt, MT_DOCKER_LIST))) ||
	    (!mt && json_is_array(json_object_get(j, "manifests")))) {
		json_t *ms = json_object_get(j, "manifests"), *c;
		size_t i;
		if (!json_is_array(ms))
			die("%s: index without manifests", path);
		json_array_foreach(ms, i, c) {
			json_t *p = json_object_get(c, "platform");
			const char *cmt = jstr(c, "mediaType");
			bool nested = cmt && (!strcmp(cmt, MT_OCI_INDEX) || !strcmp(cmt, MT_DOCKER_LIST));
			if (!nested && (!p || !platform_ok(p, seen, seen_n)))
				continue;
			if (oci_pick(s, c, depth + 1, im, seen, seen_n)) {
				json_decref(j);
				free(buf);
				free(path);
				return true;
			}
		}
		json_decref(j);
		free(buf);
		free(path);
		return false;
	}
	if (mt && strcmp(mt, MT_OCI_MANIFEST) && strcmp(mt, MT_DOCKER_MANIFEST))
		die("%s: unsupported media type '%.100s'", path, mt);
	/* An image manifest. */
	json_t *cfg = json_object_get(j, "config"), *layers = json_object_get(j, "layers"), *l;
	char cdigest[72], *cpath;
	int64_t csize;
	size_t i;

	im->where = im->tags[0] ? im->tags[0] : "index.json";
	im->manifest = buf;
	im->manifest_len = len;
	snprintf(im->mdigest, sizeof(im->mdigest), "%s", digest);
	descriptor(cfg, "manifest config", cdigest, &csize, &cpath);
	if (!json_is_array(layers) || !(im->n = json_array_size(layers)) ||
	    im->n > MDK_IMAGE_LAYERS_MAX)
		die("%s: %zu layers (1 to %d allowed)", path, json_array_size(layers),
		    MDK_IMAGE_LAYERS_MAX);
	json_array_foreach(layers, i, l) {
		const char *lmt = jstr(l, "mediaType");
		bool ok = false;
		for (size_t k = 0; lmt && k < sizeof(layer_types) / sizeof(*layer_types); k++)
			ok |= !strcmp(lmt, layer_types[k]);
		if (!ok)
			die("%s: layer %zu: unsupported media type '%.100s'", path, i,
			    lmt ? lmt : "(none)");
		descriptor(l, "layer", im->l[i].digest, &im->l[i].size, &im->l[i].path);
	}
	im->config = read_blob(s, cpath, cdigest, csize, &im->config_len, "config");
	free(cpath);
	free(path);
	json_decref(j);
	read_config(im);
	return true;
}

static size_t read_oci(const struct src *s, struct img *ims)
{
	size_t len, n = 0, i;
	char *buf = read_blob(s, "index.json", NULL, -1, &len, "index.json");
	json_t *idx = parse_json(buf, len, "index.json"), *ms = json_object_get(idx, "manifests"), *d;

	if (!src_has(s, "oci-layout"))
		die("index.json without oci-layout: not an OCI image layout");
	if (!json_is_array(ms) || !json_array_size(ms))
		die("index.json: no manifests");
	if (json_array_size(ms) > IMAGES_MAX)
		die("index.json: more than %d images", IMAGES_MAX);
	json_array_foreach(ms, i, d) {
		struct img *im = &ims[n];
		json_t *ann = json_object_get(d, "annotations"), *p = json_object_get(d, "platform");
		const char *ref = jstr(ann, "org.opencontainers.image.ref.name");
		const char *mt = jstr(d, "mediaType");
		char seen[512] = "";
		bool nested = mt && (!strcmp(mt, MT_OCI_INDEX) || !strcmp(mt, MT_DOCKER_LIST));

		/* A bare tag ("v2", as umoci and skopeo write) names no repository. */
		if (ref && (strchr(ref, '/') || strchr(ref, ':')))
			add_tag(im, ref);
		if (!nested && p && !platform_ok(p, seen, sizeof(seen))) {
			im->ntags = 0;
			continue;
		}
		if (!oci_pick(s, d, 0, im, seen, sizeof(seen)))
			die("index.json: no image for %s/%s%s%s (has: %s)", want_os, want_arch,
			    want_variant ? "/" : "", want_variant ? want_variant : "",
			    *seen ? seen : "none");
		n++;
	}
	if (!n)
		die("index.json: no image for %s/%s", want_os, want_arch);
	json_decref(idx);
	free(buf);
	return n;
}

/* --- layers ------------------------------------------------------------------------------ */
/* A layer goes through three threads: one reads the blob, hashes it and
 * inflates it; one hashes the inflated stream (the DiffID) and writes it
 * into a pipe; the extractor reads the pipe. Inflating is the critical
 * path, so the second hash and the pipe's copy are kept off it. The two
 * first threads share RING chunks. */
#define RING 4
#define CHUNK (128 * 1024)

struct feed {
	int in, out;
	struct sha256_ctx c, u;
	uint64_t csize, usize;
	char err[256];		/* reading or inflating failed */
	char uerr[256];		/* the inflated stream was refused */
	const char *line;	/* progress: "layer 2/3 sha256:abcd12345678" */
	uint64_t total;		/* the blob's size */
	double next;		/* when to update the line next */
	pthread_mutex_t m;
	pthread_cond_t cv;
	unsigned head, tail;	/* chunks filled, chunks taken */
	bool done, failed;	/* no more chunks; the taker stopped */
	size_t len[RING];
	char (*buf)[CHUNK];
};

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The layer's line on the terminal, rewritten in place (at most 10 a second). */
static void feed_progress(struct feed *f)
{
	char buf[200], done[16], total[16];
	double t = now();
	int n;

	if (t < f->next)
		return;
	f->next = t + 0.1;
	human_size(f->csize, done, sizeof(done));
	human_size(f->total, total, sizeof(total));
	n = snprintf(buf, sizeof(buf), "\r\033[K%s: %s: %s of %s", applet_name, f->line, done, total);
	if (write(STDERR_FILENO, buf, (size_t)n) < 0)
		f->line = NULL;
}

static ssize_t feed_read(struct archive *a, void *arg, const void **buf)
{
	static char b[128 * 1024];
	struct feed *f = arg;
	ssize_t n;

	(void)a;
	while ((n = read(f->in, b, sizeof(b))) < 0 && errno == EINTR)
		;
	if (n > 0) {
		sha256_update(&f->c, (size_t)n, (const uint8_t *)b);
		f->csize += (uint64_t)n;
		if (f->line)
			feed_progress(f);
	}
	*buf = b;
	return n;
}

/* Reads and inflates into the ring. */
static void *feed_thread(void *arg)
{
	struct feed *f = arg;
	struct archive *a = archive_read_new();
	struct archive_entry *e;
	ssize_t n = 0;

	if (!a || archive_read_support_filter_all(a) != ARCHIVE_OK ||
	    archive_read_support_format_raw(a) != ARCHIVE_OK ||
	    archive_read_open(a, f, NULL, feed_read, NULL) != ARCHIVE_OK ||
	    archive_read_next_header(a, &e) != ARCHIVE_OK) {
		snprintf(f->err, sizeof(f->err), "%s", a ? archive_error_string(a) : "out of memory");
		goto out;
	}
	for (;;) {
		bool failed;

		pthread_mutex_lock(&f->m);
		while (f->head - f->tail == RING && !f->failed)
			pthread_cond_wait(&f->cv, &f->m);
		failed = f->failed;
		pthread_mutex_unlock(&f->m);
		if (failed)
			break;
		/* The slot at head is this thread's until head moves on. */
		n = archive_read_data(a, f->buf[f->head % RING], CHUNK);
		if (n <= 0)
			break;
		f->len[f->head % RING] = (size_t)n;
		pthread_mutex_lock(&f->m);
		f->head++;
		pthread_cond_broadcast(&f->cv);
		pthread_mutex_unlock(&f->m);
	}
	if (n < 0)
		snprintf(f->err, sizeof(f->err), "%s", archive_error_string(a));
out:
	pthread_mutex_lock(&f->m);
	f->done = true;
	pthread_cond_broadcast(&f->cv);
	pthread_mutex_unlock(&f->m);
	/* Whatever follows the compressed stream is part of the blob, and a
	 * blob that failed to decompress is hashed whole too: a wrong digest
	 * is the clearer report. */
	const void *rest;
	while (feed_read(a, f, &rest) > 0)
		;
	archive_read_free(a);
	return NULL;
}

/* Takes the ring's chunks: hashes them and writes them to the extractor. */
static void *pump_thread(void *arg)
{
	struct feed *f = arg;
	bool writing = true;

	for (;;) {
		pthread_mutex_lock(&f->m);
		while (f->head == f->tail && !f->done)
			pthread_cond_wait(&f->cv, &f->m);
		bool empty = f->head == f->tail;
		pthread_mutex_unlock(&f->m);
		if (empty)
			break;
		const char *b = f->buf[f->tail % RING];
		size_t n = f->len[f->tail % RING];
		bool over = (f->usize += n) > max_layer;

		sha256_update(&f->u, n, (const uint8_t *)b);
		for (size_t off = 0; writing && !over && off < n;) {
			ssize_t w = write(f->out, b + off, n - off);
			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0) {
				writing = false;	/* the extractor gave up; hash on */
				break;
			}
			off += (size_t)w;
		}
		if (over)
			snprintf(f->uerr, sizeof(f->uerr),
				 "larger than %llu bytes uncompressed (--max-layer-size)",
				 (unsigned long long)max_layer);
		pthread_mutex_lock(&f->m);
		f->tail++;
		f->failed = over;
		pthread_cond_broadcast(&f->cv);
		pthread_mutex_unlock(&f->m);
		if (over)
			break;
	}
	close(f->out);
	return NULL;
}

struct result {
	int ok;
	char err[600];
	char chex[65], uhex[65];
	uint64_t csize, usize;
};

/* In a child: chroot into the new layer I of IM, extract the blob on BLOBFD
 * there (LINE: the progress line's text, NULL for none; TOTAL the blob's
 * size). The layers below (their directories, opened first) are where its
 * implied parent directories take their metadata from. */
static _Noreturn void extract_child(int blobfd, int tmpfd, int resfd, const char *label,
				    const struct img *im, size_t i, int chainsfd, const char *line,
				    uint64_t total)
{
	struct result r = { 0 };
	struct feed f = { .in = blobfd, .line = line, .total = total };
	int lowers[MDK_IMAGE_LAYERS_MAX];
	struct extract x = { .label = label, .stop = &stop_sig, .whiteouts = true, .lowers = lowers };
	int p[2];
	pthread_t t[2];
	char drain[65536];

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	signal(SIGPIPE, SIG_IGN);
	if (getppid() == 1)
		_exit(1);
	for (size_t k = i; k-- > 0; x.nlowers++) {
		lowers[x.nlowers] = openat(chainsfd, im->l[k].chain,
					   O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (lowers[x.nlowers] < 0) {
			snprintf(r.err, sizeof(r.err), "open the layer below, '%s/chains/%s': %s", root,
				 im->l[k].chain, strerror(errno));
			goto out;
		}
	}
	if (pipe2(p, O_CLOEXEC) < 0 || fchdir(tmpfd) < 0 || chroot(".") < 0) {
		snprintf(r.err, sizeof(r.err), "confine the extraction: %s", strerror(errno));
		goto out;
	}
	f.out = p[1];
	sha256_init(&f.c);
	sha256_init(&f.u);
	if (!(f.buf = malloc(RING * sizeof(*f.buf))) || pthread_mutex_init(&f.m, NULL) ||
	    pthread_cond_init(&f.cv, NULL) || pthread_create(&t[0], NULL, feed_thread, &f)) {
		snprintf(r.err, sizeof(r.err), "start a thread: %s", strerror(errno));
		goto out;
	}
	if (pthread_create(&t[1], NULL, pump_thread, &f)) {
		snprintf(r.err, sizeof(r.err), "start a thread: %s", strerror(errno));
		goto out;	/* exits: the feed thread goes with the process */
	}
	x.fd = p[0];
	r.ok = extract_archive(&x) == 0;
	if (r.ok)
		while (read(p[0], drain, sizeof(drain)) > 0)
			;
	close(p[0]);
	pthread_join(t[1], NULL);
	pthread_join(t[0], NULL);
	if (f.err[0] || f.uerr[0]) {
		r.ok = 0;
		snprintf(r.err, sizeof(r.err), "%s", f.err[0] ? f.err : f.uerr);
	} else if (!r.ok) {
		snprintf(r.err, sizeof(r.err), "%s", x.err);
	}
	sha256_end(&f.c, r.chex);
	sha256_end(&f.u, r.uhex);
	r.csize = f.csize;
	r.usize = f.usize;
out:
	if (write(resfd, &r, sizeof(r)) != sizeof(r))
		_exit(1);
	_exit(0);
}

/* Hash a blob: for a layer already unpacked, its descriptor is still checked. */
static void verify_blob(const struct src *s, const struct layer *l, const char *where)
{
	int fd = src_open(s, l->path);
	struct sha256_ctx c;
	static char buf[128 * 1024];
	char hex[65];
	ssize_t n;
	int64_t total = 0;

	if (fd < 0)
		die_errno("%s: layer '%.200s'", where, l->path);
	sha256_init(&c);
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		sha256_update(&c, (size_t)n, (const uint8_t *)buf);
		total += n;
	}
	if (n < 0)
		die_errno("%s: read layer '%.200s'", where, l->path);
	close(fd);
	sha256_end(&c, hex);
	if (l->size >= 0 && total != l->size)
		die("%s: layer '%.200s': %lld bytes, its descriptor says %lld", where, l->path,
		    (long long)total, (long long)l->size);
	if (strcmp(hex, l->digest + 7))
		die("%s: layer '%.200s': sha256 is %s, its descriptor says %s", where, l->path, hex,
		    l->digest + 7);
}

/* A layer's last line on the terminal: "mdk-load: layer 2/3 sha256:...: TEXT". */
static void layer_line(const char *line, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void layer_line(const char *line, const char *fmt, ...)
{
	char buf[300];
	va_list ap;
	int n = snprintf(buf, sizeof(buf), "\r\033[K%s: %s: ", applet_name, line);

	va_start(ap, fmt);
	n += vsnprintf(buf + n, sizeof(buf) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	if (n > (int)sizeof(buf) - 2)
		n = (int)sizeof(buf) - 2;
	buf[n++] = '\n';
	if (write(STDERR_FILENO, buf, (size_t)n) < 0)
		progress = false;
}

/* l/SHORT -> ../chains/HEX, the name overlay-up mounts it by. */
static void link_chain(int lfd, const char *hex)
{
	char shortname[17], target[80], have[80];
	ssize_t n;

	snprintf(shortname, sizeof(shortname), "%.16s", hex);
	snprintf(target, sizeof(target), "../chains/%s", hex);
	if (symlinkat(target, lfd, shortname) == 0)
		return;
	if (errno != EEXIST)
		die_errno("link '%s/l/%s'", root, shortname);
	n = readlinkat(lfd, shortname, have, sizeof(have) - 1);
	if (n < 0 || ((have[n] = 0), strcmp(have, target)))
		die("layer sha256:%s: its short name %s/l/%s is taken by another layer", hex, root,
		    shortname);
}

static void ensure_layer(const struct src *s, struct img *im, size_t i, int chainsfd, int lfd)
{
	struct layer *l = &im->l[i];
	struct stat st;
	char tmp[100], label[40], line[80];
	struct result r;
	int lock, tmpfd, blobfd, res[2], status;

	snprintf(label, sizeof(label), "layer %zu/%zu", i + 1, im->n);
	snprintf(line, sizeof(line), "%s sha256:%.12s", label, l->chain);
	if (fstatat(chainsfd, l->chain, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode)) {
		if (l->digest[0])
			verify_blob(s, l, im->where);
		link_chain(lfd, l->chain);
		if (progress)
			layer_line(line, "already unpacked");
		return;
	}
	if ((lock = layer_lock(chainsfd, l->chain, LOCK_EX)) < 0)
		die_errno("lock '%s/chains/.%s.lock'", root, l->chain);
	if (fstatat(chainsfd, l->chain, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode)) {
		close(lock);
		return ensure_layer(s, im, i, chainsfd, lfd);
	}
	if (layer_clean_debris(chainsfd, l->chain) < 0)
		die_errno("remove debris in '%s/chains'", root);
	if ((blobfd = src_open(s, l->path)) < 0)
		die_errno("%s: layer '%.200s'", im->where, l->path);
	if (fstat(blobfd, &st) < 0)
		die_errno("%s: stat layer '%.200s'", im->where, l->path);
	if (l->size >= 0 && st.st_size != l->size)
		die("%s: layer '%.200s': %lld bytes, its descriptor says %lld", im->where, l->path,
		    (long long)st.st_size, (long long)l->size);
	snprintf(tmp, sizeof(tmp), ".tmp-%s@%ld", l->chain, (long)getpid());
	if (mkdirat(chainsfd, tmp, 0755) < 0)
		die_errno("mkdir '%s/chains/%s'", root, tmp);
	if ((tmpfd = openat(chainsfd, tmp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0 ||
	    pipe2(res, O_CLOEXEC) < 0)
		die_errno("open '%s/chains/%s'", root, tmp);
	fflush(NULL);
	if ((child = fork()) < 0)
		die_errno("fork");
	if (!child)
		extract_child(blobfd, tmpfd, res[1], label, im, i, chainsfd, progress ? line : NULL,
			      (uint64_t)st.st_size);
	close(res[1]);
	memset(&r, 0, sizeof(r));
	ssize_t got = read(res[0], &r, sizeof(r));
	while (waitpid(child, &status, 0) < 0 && errno == EINTR)
		;
	child = 0;
	/* The progress line goes: a message, or the layer's last line, follows. */
	if (progress && write(STDERR_FILENO, "\r\033[K", 4) < 0)
		progress = false;
	close(res[0]);
	close(blobfd);
	close(tmpfd);
	const char *why = NULL;
	char msg[900];
	if (got != (ssize_t)sizeof(r))
		why = stop_sig ? "interrupted" : "extraction died";
	else if (l->size >= 0 && (int64_t)r.csize != l->size)
		why = "size differs from its descriptor";
	else if (l->digest[0] && strcmp(r.chex, l->digest + 7)) {
		snprintf(msg, sizeof(msg), "sha256 is %s, its descriptor says %s", r.chex, l->digest + 7);
		why = msg;
	} else if (!r.ok) {
		why = r.err;
	} else if (strcmp(r.uhex, l->diffid + 7)) {
		snprintf(msg, sizeof(msg), "DiffID is sha256:%s, the config says %s", r.uhex, l->diffid);
		why = msg;
	}
	if (why || stop_sig) {
		if (rm_tree_nocross(chainsfd, tmp) < 0)
			warn_errno("remove '%s/chains/%s'", root, tmp);
		die("%s: %s '%.200s': %s", im->where, label, l->path, why ? why : "interrupted");
	}
	char sizef[80], sizev[32];
	snprintf(sizef, sizeof(sizef), ".%s.size", l->chain);
	snprintf(sizev, sizeof(sizev), "%llu\n", (unsigned long long)r.usize);
	if (write_atomic(chainsfd, sizef, sizev, strlen(sizev)) < 0)
		die_errno("write '%s/chains/%s'", root, sizef);
	if (renameat(chainsfd, tmp, chainsfd, l->chain) < 0)
		die_errno("rename '%s/chains/%s'", root, tmp);
	close(lock);
	link_chain(lfd, l->chain);
	if (progress) {
		char csize[16], usize[16];
		human_size(r.csize, csize, sizeof(csize));
		human_size(r.usize, usize, sizeof(usize));
		layer_line(line, "%s, %s unpacked", csize, usize);
	}
}

static void store_image(struct img *im)
{
	int bfd = store_dir(rootfd, "blobs/sha256");
	char (*chains)[65] = xmalloc(im->n * 65);
	bool changed;

	if (bfd < 0)
		die_errno("mkdir '%s/blobs/sha256'", root);
	if (write_atomic(bfd, im->id, im->config, im->config_len) < 0 ||
	    (im->mdigest[0] && write_atomic(bfd, im->mdigest + 7, im->manifest, im->manifest_len) < 0))
		die_errno("write '%s/blobs/sha256'", root);
	for (size_t i = 0; i < im->n; i++)
		memcpy(chains[i], im->l[i].chain, 65);
	if (image_write(rootfd, im->id, im->mdigest[0] ? im->mdigest : NULL, chains, im->n) < 0)
		die_errno("write '%s/image/%s'", root, im->id);
	free(chains);
	close(bfd);
	for (size_t t = 0; t < im->ntags; t++)
		if (tags_update(rootfd, im->tags[t], im->id, NULL, &changed) < 0)
			die_errno("write '%s/tags'", root);
}

int load_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "platform", required_argument, NULL, OPT_PLATFORM },
		{ "max-layer-size", required_argument, NULL, OPT_MAX_LAYER },
		{ "max-size", required_argument, NULL, OPT_MAX_SIZE },
		{ NULL, 0, NULL, 0 },
	};
	const char *rootflag = NULL, *input = "-", *extra_tag = NULL;
	static struct img ims[IMAGES_MAX];
	struct src s = { .dirfd = -1 };
	struct stat st;
	size_t n;
	int c, in;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "+:R:qt:", opts, NULL)) != -1) {
		switch (c) {
		case 'R': rootflag = optarg; break;
		case 'q': quiet = true; break;
		case 't': extra_tag = optarg; break;
		case OPT_PLATFORM: {
			char *p = xasprintf("%s", optarg), *a = strchr(p, '/'), *v;
			if (!a || !a[1] || a == p)
				usage_die("--platform wants OS/ARCH[/VARIANT], not '%s'", optarg);
			*a++ = 0;
			if ((v = strchr(a, '/')))
				*v++ = 0;
			want_os = p;
			want_arch = a;
			want_variant = v;
			break;
		}
		case OPT_MAX_LAYER:
		case OPT_MAX_SIZE:
			if (parse_size(optarg, c == OPT_MAX_LAYER ? &max_layer : &max_size) < 0)
				usage_die("invalid size '%s'", optarg);
			break;
		case ':': usage_die("option '%s' needs a value", argv[optind - 1]);
		default: usage_die("unknown option '%s'", argv[optind - 1]);
		}
	}
	if (argc - optind > 1)
		usage_die("expected at most one FILE, got %d arguments", argc - optind);
	if (argc > optind)
		input = argv[optind];
	char tagnorm[400];
	if (extra_tag && ref_normalize(extra_tag, tagnorm, sizeof(tagnorm)) < 0)
		usage_die("invalid reference '%s' (want NAME[:TAG])", extra_tag);
	if (!want_arch)
		want_arch = image_arch();
	progress = !quiet && isatty(STDERR_FILENO);

	if ((rootfd = store_open(store_root(rootflag), &root)) < 0)
		die_errno("data root '%s'", store_root(rootflag));
	if ((store_lockfd = store_lock(rootfd, LOCK_SH)) < 0)
		die_errno("lock '%s/.store.lock'", root);
	main_pid = getpid();
	atexit(cleanup);
	catch_stop_signals(on_signal);

	if ((stagefd = stage_make(rootfd, "load", stage_name, sizeof(stage_name))) < 0)
		die_errno("make '%s/tmp/load-%ld'", root, (long)getpid());
	int tfd = openat(rootfd, "tmp", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (tfd < 0)
		die_errno("open '%s/tmp'", root);

	in = strcmp(input, "-") ? open(input, O_RDONLY | O_CLOEXEC) : STDIN_FILENO;
	if (in < 0 || fstat(in, &st) < 0)
		die_errno("open '%s'", input);
	if (S_ISDIR(st.st_mode)) {
		s.dirfd = in;
	} else if (S_ISREG(st.st_mode) || S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode) ||
		   S_ISCHR(st.st_mode)) {
		stage_archive(&s, in, strcmp(input, "-") ? input : "stdin");
	} else {
		die("'%s': not a file or a directory", input);
	}

	if (src_has(&s, "manifest.json"))
		n = read_docker(&s, ims);
	else if (src_has(&s, "index.json"))
		n = read_oci(&s, ims);
	else
		die("'%s': not an image (no manifest.json, no index.json)", input);
	if (extra_tag) {
		if (n != 1)
			die("-t: '%s' holds %zu images", input, n);
		add_tag(&ims[0], tagnorm);
	}

	int chainsfd = store_dir(rootfd, "chains"), lfd = store_dir(rootfd, "l");
	if (chainsfd < 0 || lfd < 0)
		die_errno("mkdir '%s/chains'", root);
	for (size_t i = 0; i < n; i++)
		for (size_t k = 0; k < ims[i].n; k++) {
			if (stop_sig)
				die("interrupted by signal %d", (int)stop_sig);
			ensure_layer(&s, &ims[i], k, chainsfd, lfd);
		}
	for (size_t i = 0; i < n; i++)
		store_image(&ims[i]);
	loaded = true;
	if (rm_tree_nocross(tfd, stage_name) < 0)
		warn_errno("remove '%s/tmp/%s'", root, stage_name);
	for (size_t i = 0; i < n; i++) {
		if (!ims[i].ntags)
			printf("Loaded image ID: sha256:%s\n", ims[i].id);
		for (size_t t = 0; t < ims[i].ntags; t++)
			printf("Loaded image: %s\n", ims[i].tags[t]);
	}
	return 0;
}
