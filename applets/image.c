/* mdk-image: list, tag, inspect and remove images: those mdk-load stored,
 * and (rm only) the archive images mdk-unpack unpacks.
 *
 * usage: mdk-image [-R ROOT] ls | tag SRC DST | rm IMAGE... | inspect IMAGE
 *                  | config IMAGE | prune | import FILE|- [NAME]
 *
 * IMAGE is NAME[:TAG] (":latest" implied) or an image ID (sha256:HEX, or a
 * prefix of 12 or more hex digits). ls prints REPOSITORY, TAG, IMAGE ID,
 * CREATED and SIZE, one row per tag (<none> for an image without), then a
 * total in which a layer that images share counts once. rm untags; when an
 * image has no tag left it is deleted, then every layer no image and no
 * container uses: all under the store's exclusive lock, so never while a
 * load publishes or a container is being set up; rm refuses to delete an
 * image a container was made from. An IMAGE that names no loaded image but
 * an archive image (ROOT/images/NAME.tar, or a layer unpacked from one) is
 * removed with its link and every version of its layer, under that image's
 * lock (src/layer.c), and refused the same way while a container uses it:
 * rm takes what m-docker run would take. config prints the run settings as
 * lines for m-docker: entrypoint=, cmd=, env= (shell-quoted words),
 * workdir=, user=, stopsignal=. prune removes unused layers and the debris
 * of killed loads. import copies a root filesystem tar (maybe compressed;
 * the content decides) to images/NAME.EXT under NAME's lock, refusing a
 * NAME that exists.
 *
 * Exit codes: 0 done, 1 failed (or: no such image), 2 usage, 3 rm refused:
 * an image is in use by a container (it is kept; 1 if anything else failed
 * too). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <archive.h>
#include <archive_entry.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "mdk.h"

const char image_usage[] =
	"usage: mdk-image [-R ROOT] ls [-q] | archives [-q] [DIR] | tag SRC DST\n"
	"                 | rm IMAGE... | inspect IMAGE | config IMAGE | prune\n"
	"                 | import FILE|- [NAME]\n"
	"Manage images. IMAGE: NAME[:TAG] or an image ID of a loaded image (mdk-load),\n"
	"or, for rm, an archive image NAME (ROOT/images/NAME.tar, mdk-unpack).\n"
	"  ls            REPOSITORY TAG IMAGE ID CREATED SIZE, then the total size\n"
	"                (shared layers counted once); -q: the IMAGE IDs alone\n"
	"  archives      the archive images: ROOT/images/, then the built-in ones\n"
	"                in DIR (NAME.tar, NAME.tar.gz): IMAGE SIZE UNPACKED; -q:\n"
	"                the names alone\n"
	"  tag SRC DST   name image SRC also DST\n"
	"  rm IMAGE...   untag; delete an image left without tags (refused while a\n"
	"                container uses it) and the layers nothing else uses\n"
	"  inspect IMAGE the image as JSON (config, tags, layers)\n"
	"  config IMAGE  run settings for m-docker, one KEY=VALUE a line\n"
	"  prune         remove unused layers and debris of killed loads\n"
	"  import FILE|- [NAME]  FILE (a root filesystem tar, maybe gzip, xz, zstd or\n"
	"                bzip2 compressed; - for stdin) becomes archive image NAME\n"
	"                (ROOT/images/NAME.tar...; default: FILE's name); prints NAME\n"
	"  -R ROOT       data root (default $MDK_ROOT, else " MDK_DEFAULT_ROOT ")\n"
	"Exit codes: 0 done, 1 failed, 2 usage error, 3 rm refused: image in use.\n";

static int rootfd;
static char *root;

static json_t *load_config(const char *id)
{
	size_t len;
	char *buf = blob_read(rootfd, id, &len);
	json_t *j;

	if (!buf && errno != ENOENT)
		die_errno("read '%s/blobs/sha256/%.64s'", root, id);
	if (!buf)
		return json_object();	/* a config-less image */
	j = json_loadb(buf, len, 0, NULL);
	free(buf);
	return j ? j : json_object();
}

static void resolve(const char *spec, char id[65])
{
	if (image_resolve(rootfd, spec, id) < 0)
		die(errno == ENOENT ? "no such image '%s'" : "'%s' is not a valid image name or ID",
		    spec);
}

struct ls_img {
	char id[65], when[20], size[16];
	bool tagged;
};
struct ls_row {
	char *repo, *tag;
	const struct ls_img *img;
};
struct ls {
	struct ls_img *imgs;
	size_t nimgs;
	struct ls_row *rows;
	size_t nrows;
};

static void ls_add(struct ls *l, const char *ref, const struct ls_img *img)
{
	const char *colon = ref ? strrchr(ref, ':') : NULL;
	struct ls_row *r;

	if (!(l->nrows % 16) && !(l->rows = realloc(l->rows, (l->nrows + 16) * sizeof(*l->rows))))
		die("out of memory");
	r = &l->rows[l->nrows++];
	r->repo = colon ? xasprintf("%.*s", (int)(colon - ref), ref) : xasprintf("<none>");
	r->tag = xasprintf("%s", colon ? colon + 1 : "<none>");
	r->img = img;
}

static void ls_tag_fn(const char *ref, const char *id, void *arg)
{
	struct ls *l = arg;

	for (size_t i = 0; i < l->nimgs; i++)
		if (!strcmp(l->imgs[i].id, id)) {
			l->imgs[i].tagged = true;
			ls_add(l, ref, &l->imgs[i]);
		}
}

static int ls_row_cmp(const void *a, const void *b)
{
	const struct ls_row *x = a, *y = b;
	int c = strcmp(x->repo, y->repo);
	return c ? c : strcmp(x->tag, y->tag);
}

static int hex_cmp(const void *a, const void *b)
{
	return strcmp(a, b);
}

/* One row per tag (an image without one: <none>), sorted; then the total,
 * each layer counted once however many images share it. */
static void cmd_ls(bool quiet)
{
	struct ls l = { 0 };
	int fd = openat(rootfd, "image", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd < 0 ? NULL : fdopendir(fd);
	struct dirent *de;
	static struct image im;
	char (*chains)[65] = NULL, total[16];
	size_t nchains = 0, w[3] = { 10, 3, 7 };
	uint64_t bytes = 0;

	if (!d && fd >= 0)
		close(fd);
	if (!d && errno != ENOENT)
		die_errno("open '%s/image'", root);
	while (d && (de = readdir(d))) {
		struct ls_img *img;
		const char *created;
		uint64_t sz = 0;
		json_t *c;

		if (!valid_hex64(de->d_name) || image_read(rootfd, de->d_name, &im) < 0)
			continue;
		if (!(l.nimgs % 16) && !(l.imgs = realloc(l.imgs, (l.nimgs + 16) * sizeof(*l.imgs))))
			die("out of memory");
		img = memset(&l.imgs[l.nimgs++], 0, sizeof(*img));
		memcpy(img->id, im.id, 65);
		c = load_config(im.id);
		if ((created = json_string_value(json_object_get(c, "created"))))
			snprintf(img->when, sizeof(img->when), "%.10s %.5s", created,
				 strlen(created) > 11 ? created + 11 : "");
		else
			snprintf(img->when, sizeof(img->when), "-");
		json_decref(c);
		if (!(chains = realloc(chains, (nchains + im.nlayers) * 65)))
			die("out of memory");
		for (size_t k = 0; k < im.nlayers; k++) {
			sz += chain_size(rootfd, im.layers[k]);
			memcpy(chains[nchains++], im.layers[k], 65);
		}
		human_size(sz, img->size, sizeof(img->size));
	}
	if (d)
		closedir(d);
	if (tags_each(rootfd, ls_tag_fn, &l) < 0)
		die_errno("read '%s/tags'", root);
	for (size_t i = 0; i < l.nimgs; i++)
		if (!l.imgs[i].tagged)
			ls_add(&l, NULL, &l.imgs[i]);
	if (nchains)
		qsort(chains, nchains, 65, hex_cmp);
	for (size_t k = 0; k < nchains; k++)
		if (!k || strcmp(chains[k], chains[k - 1]))
			bytes += chain_size(rootfd, chains[k]);
	human_size(bytes, total, sizeof(total));
	if (l.nrows)
		qsort(l.rows, l.nrows, sizeof(*l.rows), ls_row_cmp);
	for (size_t r = 0; r < l.nrows; r++) {
		if (strlen(l.rows[r].repo) > w[0])
			w[0] = strlen(l.rows[r].repo);
		if (strlen(l.rows[r].tag) > w[1])
			w[1] = strlen(l.rows[r].tag);
		if (strlen(l.rows[r].img->when) > w[2])
			w[2] = strlen(l.rows[r].img->when);
	}
	if (quiet) {
		for (size_t r = 0; r < l.nrows; r++)
			printf("%.12s\n", l.rows[r].img->id);
		if (fflush(stdout) != 0)
			die_errno("write");
		return;
	}
	printf("%-*s   %-*s   %-12s   %-*s   %s\n", (int)w[0], "REPOSITORY", (int)w[1], "TAG",
	       "IMAGE ID", (int)w[2], "CREATED", "SIZE");
	for (size_t r = 0; r < l.nrows; r++) {
		const struct ls_img *img = l.rows[r].img;
		printf("%-*s   %-*s   %-12.12s   %-*s   %s\n", (int)w[0], l.rows[r].repo, (int)w[1],
		       l.rows[r].tag, img->id, (int)w[2], img->when, img->size);
	}
	printf("total: %zu image%s, %s (shared layers counted once)\n", l.nimgs,
	       l.nimgs == 1 ? "" : "s", total);
	if (fflush(stdout) != 0)
		die_errno("write");
}

/* One archive image's row: DIRFD/FILE, "(built-in)" when WHERE says so. */
static void archive_row(int dirfd, const char *file, const char *where, bool quiet)
{
	char *name = archive_name(file), cur[128], ver[128], size[16];
	struct stat st;
	int layersfd = openat(rootfd, "layers", O_PATH | O_DIRECTORY | O_CLOEXEC);

	if (fstatat(dirfd, file, &st, 0) == 0 && S_ISREG(st.st_mode)) {
		layer_version(name, &st, ver, sizeof(ver));
		bool unpacked = layersfd >= 0 && layer_current(layersfd, name, cur, sizeof(cur)) == 0 &&
				!strcmp(cur, ver);
		human_size((uint64_t)st.st_size, size, sizeof(size));
		if (quiet)
			printf("%s\n", name);
		else
			printf("%-24s %10s   %s%s\n", name, size, unpacked ? "yes" : "no", where);
	}
	if (layersfd >= 0)
		close(layersfd);
	free(name);
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The archives of DIRFD ("images/" of the root, or a built-in DIR; only
 * .tar and .tar.gz there), sorted. */
static void archive_rows(int dirfd, bool builtin, bool quiet)
{
	DIR *d = dirfd < 0 ? NULL : fdopendir(dirfd);
	struct dirent *de;
	char **v = NULL;

	if (!d && dirfd >= 0)
		close(dirfd);
	size_t n = 0;

	while (d && (de = readdir(d))) {
		char *name = archive_name(de->d_name);
		bool ok = de->d_name[0] != '.' && strcmp(name, de->d_name) && valid_name(name) &&
			  (!builtin || !strcmp(de->d_name + strlen(name), ".tar") ||
			   !strcmp(de->d_name + strlen(name), ".tar.gz"));
		free(name);
		if (!ok)
			continue;
		if (!(n % 16) && !(v = realloc(v, (n + 16) * sizeof(*v))))
			die("out of memory");
		v[n++] = xasprintf("%s", de->d_name);
	}
	if (n)
		qsort(v, n, sizeof(*v), name_cmp);
	for (size_t i = 0; i < n; i++) {
		archive_row(dirfd, v[i], builtin ? " (built-in)" : "", quiet);
		free(v[i]);
	}
	free(v);
	if (d)
		closedir(d);
}

static void cmd_archives(int argc, char **argv)
{
	bool quiet = argc && !strcmp(argv[0], "-q");

	if (quiet)
		argc--, argv++;
	if (argc > 1)
		usage_die("archives: want [-q] [DIR]");
	if (!quiet)
		printf("%-24s %10s   %s\n", "IMAGE", "SIZE", "UNPACKED");
	archive_rows(openat(rootfd, "images", O_RDONLY | O_DIRECTORY | O_CLOEXEC), false, quiet);
	if (argc)
		archive_rows(open(argv[0], O_RDONLY | O_DIRECTORY | O_CLOEXEC), true, quiet);
	if (fflush(stdout) != 0)
		die_errno("write");
}

struct tagsof { const char *id; json_t *arr; int n; };
static void tagsof_fn(const char *ref, const char *id, void *arg)
{
	struct tagsof *t = arg;
	if (!strcmp(id, t->id)) {
		t->n++;
		if (t->arr)
			json_array_append_new(t->arr, json_string(ref));
	}
}

static int tag_count(const char *id)
{
	struct tagsof t = { .id = id };
	if (tags_each(rootfd, tagsof_fn, &t) < 0)
		die_errno("read '%s/tags'", root);
	return t.n;
}

/* Remove loaded image SPEC (resolved as ID): 0, or 1 / 3 after saying why. */
static int rm_loaded(const char *spec, const char *id)
{
	char ref[400], who[80];
	bool changed, by_tag;

	by_tag = ref_normalize(spec, ref, sizeof(ref)) == 0 && strncmp(spec, "sha256:", 7) &&
		 strncmp(id, spec, strlen(spec));
	bool deletes = !by_tag || tag_count(id) <= 1;
	if (deletes && image_in_use(rootfd, id, who, sizeof(who))) {
		warn("image '%s' is in use by container %s; nothing removed", spec,
		     *who ? who : "(being set up)");
		return 3;
	}
	if (tags_update(rootfd, by_tag ? ref : NULL, NULL, by_tag ? NULL : id, &changed) < 0)
		die_errno("write '%s/tags'", root);
	if (by_tag)
		printf("Untagged: %s\n", ref);
	if (deletes) {
		char path[100];
		snprintf(path, sizeof(path), "image/%s", id);
		if (unlinkat(rootfd, path, 0) < 0 && errno != ENOENT)
			die_errno("remove '%s/%s'", root, path);
		printf("Deleted: sha256:%s\n", id);
	}
	return 0;
}

/* Remove archive image NAME (images/NAME.tar and its layers): the rules are
 * layer.c's, under the image's own lock. */
static int rm_archive(const char *name)
{
	char where[300];

	if (layer_remove(rootfd, name, where, sizeof(where)) == 0) {
		printf("Deleted: %s\n", name);
		return 0;
	}
	if (errno == ENOENT) {
		warn("no such image '%s'", name);
		return 1;
	}
	if (errno == EBUSY) {
		warn("image '%s' is in use by container %s; nothing removed", name, where);
		return 3;
	}
	warn_errno("%s: remove '%s/%s'", name, root, where);
	return 1;
}

/* Each IMAGE is what m-docker run would take: a loaded image, else an
 * archive image. Loaded ones under the store's exclusive lock (taken only
 * for them: an archive's removal need not wait for a load), then the
 * layers nothing uses any more are collected. */
static int cmd_rm(int argc, char **argv)
{
	int lock = -1, ret = 0, r;
	char id[65];

	if (argc < 1)
		usage_die("rm: no IMAGE");
	for (int i = 0; i < argc; i++) {
		if (image_resolve(rootfd, argv[i], id) < 0 && errno == ENOENT && valid_name(argv[i])) {
			r = rm_archive(argv[i]);
		} else {
			if (lock < 0 && (lock = store_lock(rootfd, LOCK_EX)) < 0)
				die_errno("lock '%s/.store.lock'", root);
			if (image_resolve(rootfd, argv[i], id) < 0) {
				warn("no such image '%s'", argv[i]);
				r = 1;
			} else {
				r = rm_loaded(argv[i], id);
			}
		}
		/* 3 (in use) only when nothing failed otherwise. */
		if (r && ret != 1)
			ret = r;
	}
	if (lock >= 0 && store_gc(rootfd, true) < 0) {
		warn_errno("remove unused layers in '%s'", root);
		ret = 1;
	}
	return ret;
}

/* --- import ------------------------------------------------------------------ */
static char *import_tmp;	/* images/.NAME.import-PID while it is written */
static volatile sig_atomic_t import_stop;

static void import_signal(int sig) { import_stop = sig; }

static void import_cleanup(void)
{
	if (import_tmp)
		unlinkat(rootfd, import_tmp, 0);
}

/* Is the tar being read a root filesystem, or an image archive (docker
 * save, OCI layout) that load takes? Its entries are read until the first
 * top-level directory a root filesystem has (or the end): an image
 * archive's names (manifest.json, index.json, oci-layout, repositories)
 * are all at the top, and no root filesystem has them. */
static void import_is_rootfs(struct archive *a, struct archive_entry *e, const char *label)
{
	static const char *const image[] = { "manifest.json", "index.json", "oci-layout", "repositories" };
	static const char *const rootfs[] = { "bin", "etc", "lib", "sbin", "usr", "var" };
	int r = ARCHIVE_OK;

	for (; r == ARCHIVE_OK; r = archive_read_next_header(a, &e)) {
		const char *n = archive_entry_pathname(e);
		while (n && (*n == '/' || (n[0] == '.' && n[1] == '/')))
			n += *n == '/' ? 1 : 2;
		if (!n)
			continue;
		size_t top = strcspn(n, "/");
		for (size_t i = 0; i < sizeof(image) / sizeof(*image); i++)
			if (!strcmp(n, image[i]))
				die("import: '%s' is an image archive (docker save, OCI), not a root "
				    "filesystem: load it (m-docker load -i FILE)", label);
		for (size_t i = 0; i < sizeof(rootfs) / sizeof(*rootfs); i++)
			if (top == strlen(rootfs[i]) && !strncmp(n, rootfs[i], top))
				return;
	}
	if (r != ARCHIVE_EOF)
		die("import: '%s': %s", label, archive_error_string(a));
}

/* The extension mdk-unpack knows FD's content by: a tar, maybe compressed
 * (decided by content, never by a file name), of a root filesystem. */
static const char *import_ext(int fd, const char *label)
{
	struct archive *a = archive_read_new();
	struct archive_entry *e;
	const char *ext = NULL;

	if (!a || archive_read_support_filter_all(a) != ARCHIVE_OK ||
	    archive_read_support_format_tar(a) != ARCHIVE_OK ||
	    archive_read_open_fd(a, fd, 65536) != ARCHIVE_OK ||
	    archive_read_next_header(a, &e) != ARCHIVE_OK)
		die("import: '%s' is not an archive (a tar of a root filesystem, maybe compressed: %s)",
		    label, a ? archive_error_string(a) : "out of memory");
	switch (archive_filter_code(a, 0)) {
	case ARCHIVE_FILTER_NONE: ext = ".tar"; break;
	case ARCHIVE_FILTER_GZIP: ext = ".tar.gz"; break;
	case ARCHIVE_FILTER_XZ: ext = ".tar.xz"; break;
	case ARCHIVE_FILTER_ZSTD: ext = ".tar.zst"; break;
	case ARCHIVE_FILTER_BZIP2: ext = ".tar.bz2"; break;
	default:
		die("import: '%s': a tar compressed with %s, which mdk-unpack does not take "
		    "(gzip, xz, zstd, bzip2 or none)", label, archive_filter_name(a, 0));
	}
	import_is_rootfs(a, e, label);
	archive_read_free(a);
	return ext;
}

/* import FILE|- [NAME]: FILE becomes archive image NAME (default: FILE's
 * name less a known extension), as images/NAME.EXT. It is copied first
 * (a file may change, stdin cannot be read twice), its content checked,
 * then linked into place under the image's lock: one image per NAME,
 * never replaced, never half there. */
static int cmd_import(int argc, char **argv)
{
	const char *file, *ext;
	char *name, *final, *rel;
	int in, out, layersfd, lock;
	static char buf[128 * 1024];
	ssize_t n;

	if (argc < 1 || argc > 2)
		usage_die("import: want FILE [NAME]");
	file = argv[0];
	if (argc == 2) {
		name = argv[1];
	} else {
		const char *b = strrchr(file, '/') ? strrchr(file, '/') + 1 : file;
		size_t len = strlen(b);
		for (size_t i = 0; image_exts[i]; i++) {
			size_t el = strlen(image_exts[i]);
			if (len > el && !strcmp(b + len - el, image_exts[i])) {
				len -= el;
				break;
			}
		}
		name = xasprintf("%.*s", (int)len, b);
	}
	if (!valid_name(name))
		die("import: invalid image name '%s' (give one: import FILE NAME)", name);
	if (!strcmp(file, "-"))
		in = STDIN_FILENO;
	else if ((in = open(file, O_RDONLY | O_CLOEXEC)) < 0)
		die_errno("import: open '%s'", file);

	if (mkdirat(rootfd, "images", 0700) < 0 && errno != EEXIST)
		die_errno("mkdir '%s/images'", root);
	import_tmp = xasprintf("images/.%s.import-%ld", name, (long)getpid());
	atexit(import_cleanup);
	/* No SA_RESTART: a read of stdin that waits is interrupted too. */
	catch_stop_signals(import_signal);
	if ((out = openat(rootfd, import_tmp, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
			  0600)) < 0)
		die_errno("create '%s/%s'", root, import_tmp);
	while ((n = read(in, buf, sizeof(buf))) != 0) {
		if (import_stop)
			die("import: interrupted by signal %d", (int)import_stop);
		if (n < 0 && errno == EINTR)
			continue;	/* the signal's flag is looked at above */
		if (n < 0)
			die_errno("import: read '%s'", file);
		for (ssize_t off = 0; off < n;) {
			ssize_t w = write(out, buf + off, (size_t)(n - off));
			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0)
				die_errno("write '%s/%s'", root, import_tmp);
			off += w;
		}
	}
	if (fsync(out) < 0 || lseek(out, 0, SEEK_SET) < 0)
		die_errno("write '%s/%s'", root, import_tmp);
	ext = import_ext(out, file);
	close(out);
	if (import_stop)
		die("import: interrupted by signal %d", (int)import_stop);

	if (mkdirat(rootfd, "layers", 0700) < 0 && errno != EEXIST)
		die_errno("mkdir '%s/layers'", root);
	if ((layersfd = openat(rootfd, "layers", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0 ||
	    (lock = layer_lock(layersfd, name, LOCK_EX)) < 0)
		die_errno("lock '%s/layers/.%s.lock'", root, name);
	if ((in = image_archive_open(rootfd, name, &rel)) >= 0 || errno != ENOENT)
		die("import: image '%s' exists (%s/%s); remove it first (rmi %s)", name, root, rel,
		    name);
	final = xasprintf("images/%s%s", name, ext);
	if (import_stop)
		die("import: interrupted by signal %d", (int)import_stop);
	if (linkat(rootfd, import_tmp, rootfd, final, 0) < 0)
		die_errno("import: link '%s/%s'", root, final);
	close(lock);
	puts(name);
	return 0;
}

int image_main(int argc, char **argv)
{
	const char *rootflag = NULL, *cmd;
	char id[65];
	int c;

	opterr = 0;
	while ((c = getopt(argc, argv, "+R:")) != -1) {
		switch (c) {
		case 'R': rootflag = optarg; break;
		default: usage_die("unknown option '-%c'", optopt);
		}
	}
	if (optind >= argc)
		usage_die("no command (ls, archives, tag, rm, inspect, config, prune, import)");
	cmd = argv[optind++];
	argc -= optind;
	argv += optind;
	if ((rootfd = store_open(store_root(rootflag), &root)) < 0)
		die_errno("data root '%s'", store_root(rootflag));

	if (!strcmp(cmd, "ls")) {
		if (argc > 1 || (argc && strcmp(argv[0], "-q")))
			usage_die("ls: want [-q]");
		cmd_ls(argc == 1);
		return 0;
	}
	if (!strcmp(cmd, "archives")) {
		cmd_archives(argc, argv);
		return 0;
	}
	if (!strcmp(cmd, "tag")) {
		char ref[400];
		bool changed;
		int lock;
		if (argc != 2)
			usage_die("tag: want SRC DST");
		if (ref_normalize(argv[1], ref, sizeof(ref)) < 0)
			usage_die("tag: invalid name '%s' (want NAME[:TAG])", argv[1]);
		if ((lock = store_lock(rootfd, LOCK_SH)) < 0)
			die_errno("lock '%s/.store.lock'", root);
		resolve(argv[0], id);
		if (tags_update(rootfd, ref, id, NULL, &changed) < 0)
			die_errno("write '%s/tags'", root);
		close(lock);
		return 0;
	}
	if (!strcmp(cmd, "rm"))
		return cmd_rm(argc, argv);
	if (!strcmp(cmd, "import"))
		return cmd_import(argc, argv);
	if (!strcmp(cmd, "prune")) {
		int lock;
		if (argc)
			usage_die("prune takes no arguments");
		if ((lock = store_lock(rootfd, LOCK_EX)) < 0)
			die_errno("lock '%s/.store.lock'", root);
		if (store_gc(rootfd, true) < 0)
			die_errno("remove unused layers in '%s'", root);
		return 0;
	}
	if (!strcmp(cmd, "inspect") || !strcmp(cmd, "config")) {
		struct image im;
		json_t *cfg, *cc;
		if (argc != 1)
			usage_die("%s: want one IMAGE", cmd);
		resolve(argv[0], id);
		if (image_read(rootfd, id, &im) < 0)
			die_errno("read '%s/image/%s'", root, id);
		if (!strcmp(cmd, "config")) {
			if (image_config_write(rootfd, id, stdout) < 0) {
				if (errno == EINVAL)
					die("a config value holds a newline: not supported");
				die_errno("read '%s/blobs/sha256/%s'", root, id);
			}
			return 0;
		}
		cfg = load_config(id);
		cc = json_object_get(cfg, "config");
		struct tagsof t = { .id = id, .arr = json_array() };
		json_t *out = json_object(), *layers = json_array();
		if (tags_each(rootfd, tagsof_fn, &t) < 0)
			die_errno("read '%s/tags'", root);
		for (size_t i = 0; i < im.nlayers; i++)
			json_array_append_new(layers, json_sprintf("sha256:%s", im.layers[i]));
		json_object_set_new(out, "Id", json_sprintf("sha256:%s", id));
		json_object_set_new(out, "RepoTags", t.arr);
		if (im.manifest[0])
			json_object_set_new(out, "ManifestDigest", json_string(im.manifest));
		json_object_set(out, "Created", json_object_get(cfg, "created"));
		json_object_set(out, "Os", json_object_get(cfg, "os"));
		json_object_set(out, "Architecture", json_object_get(cfg, "architecture"));
		json_object_set(out, "Config", cc ? cc : json_null());
		json_object_set(out, "RootFS", json_object_get(cfg, "rootfs"));
		json_object_set_new(out, "ChainIDs", layers);
		json_t *arr = json_array();
		json_array_append_new(arr, out);
		if (json_dumpf(arr, stdout, JSON_INDENT(4)) < 0)
			die_errno("write");
		putchar('\n');
		return 0;
	}
	usage_die("unknown command '%s'", cmd);
}
