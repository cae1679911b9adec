/* mdk-image: list, tag, inspect and remove images: those mdk-load stored,
 * and (ls -a, archives, rm) the archive images mdk-unpack unpacks.
 *
 * usage: mdk-image [-R ROOT] ls [-q] [--no-trunc] [--format F] [-a DIR]
 *                  | archives [-q] [DIR] | tag SRC DST | rm IMAGE...
 *                  | inspect IMAGE | config IMAGE | prune | import FILE|- [NAME]
 *
 * IMAGE is NAME[:TAG] (":latest" implied) or an image ID (sha256:HEX, or a
 * prefix of 12 or more hex digits). ls prints REPOSITORY, TAG, IMAGE ID,
 * CREATED and SIZE, one row per tag (<none> for an image without), then a
 * total in which a layer that images share counts once; --format takes
 * docker's templates for images (m-docker images --format). rm untags; when an
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
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "mdk.h"

const char image_usage[] =
	"usage: mdk-image [-R ROOT] ls [-q] [--no-trunc] [--format F] [-a DIR]\n"
	"                 | archives [-q] [DIR] | tag SRC DST\n"
	"                 | rm IMAGE... | inspect IMAGE | config IMAGE | prune\n"
	"                 | import FILE|- [NAME]\n"
	"Manage images. IMAGE: NAME[:TAG] or an image ID of a loaded image (mdk-load),\n"
	"or, for rm, an archive image NAME (ROOT/images/NAME.tar, mdk-unpack).\n"
	"  ls            REPOSITORY TAG IMAGE ID CREATED SIZE, then the total size\n"
	"                (shared layers counted once); -q: the IMAGE IDs alone;\n"
	"                --no-trunc: whole IDs; -a DIR: the archive images too\n"
	"                (below); --format F: a row per image as docker's template\n"
	"                F says: {{.ID}} {{.Repository}} {{.Tag}} {{.Digest}}\n"
	"                {{.CreatedAt}} {{.CreatedSince}} {{.Size}}, {{json .}};\n"
	"                \"table F\" with a header and aligned columns; \"json\"\n"
	"  archives      the archive images: ROOT/images/, then the built-in ones\n"
	"                in DIR (NAME.tar, NAME.tar.gz): IMAGE SIZE UNPACKED; -q:\n"
	"                the names alone (an archive's ID and REPOSITORY in ls)\n"
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

/* --- ls: the loaded images, and (-a DIR) the archive images -------------------- */

/* One row of a listing: a loaded image's tag (or <none>), or an archive. */
struct img_row {
	char *id;		/* hex; an archive: its name */
	char *repo, *tag;
	int64_t created;	/* seconds since 1970; -1: not known */
	uint64_t bytes;
	bool archive, unpacked, builtin;
};
struct rows {
	struct img_row *v;
	size_t n;
};

static struct img_row *row_add(struct rows *l)
{
	if (!(l->n % 16) && !(l->v = realloc(l->v, (l->n + 16) * sizeof(*l->v))))
		die("out of memory");
	return memset(&l->v[l->n++], 0, sizeof(*l->v));
}

struct loaded {
	struct rows *rows;
	struct img_row *imgs;	/* one per image, tag and repo unset */
	bool *tagged;
	size_t n;
};

static void ls_tag_fn(const char *ref, const char *id, void *arg)
{
	struct loaded *ld = arg;
	const char *colon = strrchr(ref, ':');

	for (size_t i = 0; i < ld->n; i++)
		if (!strcmp(ld->imgs[i].id, id)) {
			struct img_row *r = row_add(ld->rows);
			*r = ld->imgs[i];
			r->id = xasprintf("%s", r->id);
			r->repo = xasprintf("%.*s", (int)(colon ? colon - ref : (ptrdiff_t)strlen(ref)), ref);
			r->tag = xasprintf("%s", colon ? colon + 1 : "<none>");
			ld->tagged[i] = true;
		}
}

static int row_cmp(const void *a, const void *b)
{
	const struct img_row *x = a, *y = b;
	int c = strcmp(x->repo, y->repo);
	return c ? c : strcmp(x->tag, y->tag);
}

static int hex_cmp(const void *a, const void *b)
{
	return strcmp(a, b);
}

/* The loaded images into L: one row per tag (an image without one:
 * <none>), sorted; returns the bytes of their layers, each layer counted
 * once however many images share it, and in *NIMGS how many images. */
static uint64_t loaded_rows(struct rows *l, size_t *nimgs)
{
	struct loaded ld = { .rows = l };
	int fd = openat(rootfd, "image", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd < 0 ? NULL : fdopendir(fd);
	struct dirent *de;
	static struct image im;
	char (*chains)[65] = NULL;
	size_t nchains = 0, first = l->n;
	uint64_t bytes = 0;

	if (!d && fd >= 0)
		close(fd);
	if (!d && errno != ENOENT)
		die_errno("open '%s/image'", root);
	while (d && (de = readdir(d))) {
		const char *created;
		struct img_row *img;
		json_t *c;
		long ns;

		if (!valid_hex64(de->d_name) || image_read(rootfd, de->d_name, &im) < 0)
			continue;
		if (!(ld.n % 16) && (!(ld.imgs = realloc(ld.imgs, (ld.n + 16) * sizeof(*ld.imgs))) ||
				     !(ld.tagged = realloc(ld.tagged, ld.n + 16))))
			die("out of memory");
		ld.tagged[ld.n] = false;
		img = memset(&ld.imgs[ld.n++], 0, sizeof(*img));
		img->id = xasprintf("%s", im.id);
		img->created = -1;
		c = load_config(im.id);
		if ((created = json_string_value(json_object_get(c, "created"))) &&
		    log_parse_time(created, strlen(created), &img->created, &ns) < 0)
			img->created = -1;
		json_decref(c);
		if (!(chains = realloc(chains, (nchains + im.nlayers) * 65)))
			die("out of memory");
		for (size_t k = 0; k < im.nlayers; k++) {
			img->bytes += chain_size(rootfd, im.layers[k]);
			memcpy(chains[nchains++], im.layers[k], 65);
		}
	}
	if (d)
		closedir(d);
	if (tags_each(rootfd, ls_tag_fn, &ld) < 0)
		die_errno("read '%s/tags'", root);
	for (size_t i = 0; i < ld.n; i++)
		if (!ld.tagged[i]) {
			struct img_row *r = row_add(l);
			*r = ld.imgs[i];
			r->id = xasprintf("%s", r->id);
			r->repo = xasprintf("<none>");
			r->tag = xasprintf("<none>");
		}
	if (nchains)
		qsort(chains, nchains, 65, hex_cmp);
	for (size_t k = 0; k < nchains; k++)
		if (!k || strcmp(chains[k], chains[k - 1]))
			bytes += chain_size(rootfd, chains[k]);
	if (l->n > first)
		qsort(l->v + first, l->n - first, sizeof(*l->v), row_cmp);
	free(chains);
	for (size_t i = 0; i < ld.n; i++)
		free(ld.imgs[i].id);
	free(ld.imgs);
	free(ld.tagged);
	*nimgs = ld.n;
	return bytes;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The archives of DIRFD (ROOT/images/, or a built-in DIR: only .tar and
 * .tar.gz there) into L, sorted; LAYERSFD tells which are unpacked. */
static void archive_rows(struct rows *l, int dirfd, int layersfd, bool builtin)
{
	DIR *d = dirfd < 0 ? NULL : fdopendir(dirfd);
	struct dirent *de;
	char **v = NULL;
	size_t n = 0;

	if (!d && dirfd >= 0)
		close(dirfd);
	while (d && (de = readdir(d))) {
		char *name = archive_name(de->d_name);
		const char *ext = de->d_name + strlen(name);
		if (de->d_name[0] == '.' || !*ext || !valid_name(name) ||
		    (builtin && strcmp(ext, ".tar") && strcmp(ext, ".tar.gz"))) {
			free(name);
			continue;
		}
		if (!(n % 16) && !(v = realloc(v, (n + 16) * sizeof(*v))))
			die("out of memory");
		v[n++] = xasprintf("%s", de->d_name);
		free(name);
	}
	if (n)
		qsort(v, n, sizeof(*v), name_cmp);
	for (size_t i = 0; i < n; i++) {
		char cur[128], ver[128];
		struct stat st;
		if (fstatat(dirfd, v[i], &st, 0) == 0 && S_ISREG(st.st_mode)) {
			struct img_row *r = row_add(l);
			r->id = archive_name(v[i]);
			r->repo = xasprintf("%s", r->id);
			r->tag = xasprintf("<none>");
			r->created = st.st_mtime;
			r->bytes = (uint64_t)st.st_size;
			r->archive = true;
			r->builtin = builtin;
			layer_version(r->id, &st, ver, sizeof(ver));
			r->unpacked = layersfd >= 0 &&
				      layer_current(layersfd, r->id, cur, sizeof(cur)) == 0 &&
				      !strcmp(cur, ver);
		}
		free(v[i]);
	}
	free(v);
	if (d)
		closedir(d);
}

/* --- --format, as docker images reads it ---------------------------------------- */
/* {{.Field}}, {{json .}} (the row as an object), {{json .Field}}; "table"
 * first: a header, and columns aligned as docker's tabwriter does (each
 * cell padded to its column's widest plus 3, at least 10); "json" alone is
 * {{json .}}; the two characters \t and \n as a tab and a newline. */
enum { F_ID, F_REPO, F_TAG, F_DIGEST, F_CREATED_AT, F_CREATED_SINCE, F_SIZE, NFIELD };
static const char *const field_name[NFIELD] = { "ID", "Repository", "Tag", "Digest",
						"CreatedAt", "CreatedSince", "Size" };
static const char *const field_head[NFIELD] = { "IMAGE ID", "REPOSITORY", "TAG", "DIGEST",
						"CREATED AT", "CREATED", "SIZE" };

struct fmt {
	bool trunc;	/* IDs of 12 digits (not --no-trunc) */
	time_t now;
};

/* Field F of row R (NULL: the header's word for it), allocated. */
static char *field(const struct fmt *f, const struct img_row *r, int k)
{
	char b[64];
	struct tm tm;
	time_t t;

	if (!r)
		return xasprintf("%s", field_head[k]);
	switch (k) {
	case F_ID:
		return r->archive ? xasprintf("%s", r->id) :
		       f->trunc ? xasprintf("%.12s", r->id) : xasprintf("sha256:%s", r->id);
	case F_REPO: return xasprintf("%s", r->repo);
	case F_TAG: return xasprintf("%s", r->tag);
	case F_DIGEST: return xasprintf("<none>");
	case F_CREATED_AT:
		if (r->created < 0)
			return xasprintf("N/A");
		t = (time_t)r->created;
		gmtime_r(&t, &tm);
		strftime(b, sizeof(b), "%Y-%m-%d %H:%M:%S +0000 UTC", &tm);
		return xasprintf("%s", b);
	case F_CREATED_SINCE:
		if (r->created < 0)
			return xasprintf("N/A");
		human_duration(f->now - (time_t)r->created, b, sizeof(b));
		return xasprintf("%s ago", b);
	default:
		human_size(r->bytes, b, sizeof(b));
		return xasprintf("%s", b);
	}
}

/* The JSON of a row's fields (K < 0: all, as an object). */
static void put_json(FILE *out, const struct fmt *f, const struct img_row *r, int k)
{
	json_t *j = k >= 0 ? NULL : json_object();
	char *s;

	for (int i = 0; i < NFIELD; i++) {
		if (k >= 0 && i != k)
			continue;
		s = field(f, r, i);
		if (j)
			json_object_set_new(j, field_name[i], json_string(s));
		else
			j = json_string(s);
		free(s);
	}
	s = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
	fputs(s ? s : "", out);
	free(s);
	json_decref(j);
}

/* TEMPLATE expanded for row R (NULL: the header) onto OUT; a template we do
 * not understand is a usage error, found at the header (expanded first). */
static void expand(FILE *out, const char *t, const struct fmt *f, const struct img_row *r)
{
	while (*t) {
		const char *end;
		if (t[0] == '\\' && (t[1] == 't' || t[1] == 'n')) {
			fputc(t[1] == 't' ? '\t' : '\n', out);
			t += 2;
			continue;
		}
		if (strncmp(t, "{{", 2) || !(end = strstr(t + 2, "}}"))) {
			fputc(*t++, out);
			continue;
		}
		const char *a = t + 2, *b = end;
		while (a < b && *a == ' ')
			a++;
		while (b > a && b[-1] == ' ')
			b--;
		bool json = b - a >= 5 && !strncmp(a, "json ", 5);
		if (json)
			for (a += 5; a < b && *a == ' '; a++)
				;
		int k = -1;
		for (int i = 0; i < NFIELD && !(json && b - a == 1 && *a == '.'); i++)
			if (b - a == (ptrdiff_t)strlen(field_name[i]) + 1 && *a == '.' &&
			    !strncmp(a + 1, field_name[i], strlen(field_name[i])))
				k = i;
		if (k < 0 && !(json && b - a == 1 && *a == '.'))
			usage_die("--format: '%.*s' is not a field we know (.ID, .Repository, .Tag, "
				  ".Digest, .CreatedAt, .CreatedSince, .Size; json .)",
				  (int)(end + 2 - t), t);
		if (json && r)
			put_json(out, f, r, k);
		else if (json)
			fputs(k < 0 ? "JSON" : field_head[k], out);
		else {
			char *s = field(f, r, k);
			fputs(s, out);
			free(s);
		}
		t = end + 2;
	}
}

/* Lines split at tabs into cells, each but the last of its line padded as
 * docker's tabwriter pads them (minwidth 10, padding 3). */
static void tabwrite(const char *text)
{
	size_t w[32] = { 0 };

	for (int pass = 0; pass < 2; pass++)
		for (const char *l = text; *l;) {
			const char *nl = strchrnul(l, '\n'), *tab;
			for (size_t c = 0; (tab = memchr(l, '\t', (size_t)(nl - l))); l = tab + 1, c++) {
				size_t len = (size_t)(tab - l), want = len + 3 < 10 ? 10 : len + 3;
				if (!pass && c < 32 && want > w[c])
					w[c] = want;
				if (pass)
					printf("%-*.*s", (int)(c < 32 ? w[c] : want), (int)len, l);
			}
			if (pass)
				printf("%.*s\n", (int)(nl - l), l);
			l = *nl ? nl + 1 : nl;
		}
}

static void print_format(const char *t, const struct rows *l, bool trunc)
{
	struct fmt f = { .trunc = trunc, .now = time(NULL) };
	bool table = !strncmp(t, "table", 5) && (!t[5] || t[5] == ' ');
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);

	if (!out)
		die_errno("open_memstream");
	if (table)
		t += 5 + (t[5] == ' ');
	if (!strcmp(t, "json"))
		t = "{{json .}}";
	else if (table && !*t)
		t = "{{.Repository}}\\t{{.Tag}}\\t{{.ID}}\\t{{.CreatedSince}}\\t{{.Size}}";
	/* The header first: it checks the template before any row is out. */
	expand(out, t, &f, NULL);
	fputc('\n', out);
	fflush(out);
	size_t head = table ? 0 : len;
	for (size_t i = 0; i < l->n; i++) {
		expand(out, t, &f, &l->v[i]);
		fputc('\n', out);
	}
	if (fclose(out) != 0)
		die_errno("write");
	if (table)
		tabwrite(text);
	else
		fwrite(text + head, 1, len - head, stdout);
	free(text);
}

/* The default tables: the loaded images (REPOSITORY TAG IMAGE ID CREATED
 * SIZE, then the total), the archive images (IMAGE SIZE UNPACKED). */
static void print_loaded(const struct rows *l, size_t nimgs, uint64_t bytes)
{
	size_t w[3] = { 10, 3, 7 };
	char (*when)[20] = calloc(l->n + 1, sizeof(*when)), size[16];

	if (!when)
		die("out of memory");
	for (size_t i = 0; i < l->n; i++) {
		const struct img_row *r = &l->v[i];
		time_t t = (time_t)r->created;
		struct tm tm;
		if (r->created < 0 || !gmtime_r(&t, &tm) || !strftime(when[i], 20, "%Y-%m-%d %H:%M", &tm))
			snprintf(when[i], 20, "-");
		if (strlen(r->repo) > w[0])
			w[0] = strlen(r->repo);
		if (strlen(r->tag) > w[1])
			w[1] = strlen(r->tag);
		if (strlen(when[i]) > w[2])
			w[2] = strlen(when[i]);
	}
	printf("%-*s   %-*s   %-12s   %-*s   %s\n", (int)w[0], "REPOSITORY", (int)w[1], "TAG",
	       "IMAGE ID", (int)w[2], "CREATED", "SIZE");
	for (size_t i = 0; i < l->n; i++) {
		human_size(l->v[i].bytes, size, sizeof(size));
		printf("%-*s   %-*s   %-12.12s   %-*s   %s\n", (int)w[0], l->v[i].repo, (int)w[1],
		       l->v[i].tag, l->v[i].id, (int)w[2], when[i], size);
	}
	human_size(bytes, size, sizeof(size));
	printf("total: %zu image%s, %s (shared layers counted once)\n", nimgs, nimgs == 1 ? "" : "s",
	       size);
	free(when);
}

static void print_archives(const struct rows *l, size_t from)
{
	char size[16];

	printf("%-24s %10s   %s\n", "IMAGE", "SIZE", "UNPACKED");
	for (size_t i = from; i < l->n; i++) {
		human_size(l->v[i].bytes, size, sizeof(size));
		printf("%-24s %10s   %s%s\n", l->v[i].id, size, l->v[i].unpacked ? "yes" : "no",
		       l->v[i].builtin ? " (built-in)" : "");
	}
}

static void rows_free(struct rows *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i].id);
		free(l->v[i].repo);
		free(l->v[i].tag);
	}
	free(l->v);
}

/* ls [-q] [--no-trunc] [--format F] [-a DIR]: the loaded images; with -a
 * the archive images after them (ROOT/images/, then the built-in ones in
 * DIR, "" for none); archives [-q] [DIR]: those alone. */
static void cmd_ls(int argc, char **argv, bool archives_only)
{
	static const struct option lo[] = {
		{ "quiet", no_argument, NULL, 'q' }, { "no-trunc", no_argument, NULL, 'T' },
		{ "format", required_argument, NULL, 'f' }, { "archives", required_argument, NULL, 'a' },
		{ 0 }
	};
	const char *format = NULL, *dir = NULL;
	bool quiet = false, trunc = true, with_loaded = !archives_only;
	struct rows l = { 0 };
	size_t nimgs = 0, from;
	uint64_t bytes = 0;
	int c;

	optind = 0;
	opterr = 0;
	argc++, argv--;	/* getopt starts at argv[1] */
	while ((c = archives_only ? getopt(argc, argv, "+q") :
				    getopt_long(argc, argv, "+qa:", lo, NULL)) != -1) {
		switch (c) {
		case 'q': quiet = true; break;
		case 'T': trunc = false; break;
		case 'f': format = optarg; break;
		case 'a': dir = optarg; break;
		default: usage_die("%s: unknown option '%s'", archives_only ? "archives" : "ls",
				   argv[optind - 1]);
		}
	}
	if (archives_only ? argc - optind > 1 : argc != optind)
		usage_die(archives_only ? "archives: want [-q] [DIR]" :
			  "ls: want [-q] [--no-trunc] [--format F] [-a DIR]");
	if (archives_only)
		dir = optind < argc ? argv[optind] : "";
	/* With the archives, the loaded table only once there is a store. */
	if (dir && !archives_only && !quiet && !format && faccessat(rootfd, "image", F_OK, 0) < 0)
		with_loaded = false;
	if (with_loaded)
		bytes = loaded_rows(&l, &nimgs);
	from = l.n;
	if (dir) {
		int layersfd = openat(rootfd, "layers", O_PATH | O_DIRECTORY | O_CLOEXEC);
		archive_rows(&l, openat(rootfd, "images", O_RDONLY | O_DIRECTORY | O_CLOEXEC),
			     layersfd, false);
		if (*dir)
			archive_rows(&l, open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), layersfd, true);
		if (layersfd >= 0)
			close(layersfd);
	}
	if (format)
		print_format(format, &l, trunc);
	else if (quiet)
		for (size_t i = 0; i < l.n; i++)
			printf(l.v[i].archive ? "%s\n" : trunc ? "%.12s\n" : "sha256:%s\n", l.v[i].id);
	else {
		if (with_loaded) {
			struct rows loaded = { l.v, from };
			print_loaded(&loaded, nimgs, bytes);
		}
		if (with_loaded && dir)
			putchar('\n');
		if (dir)
			print_archives(&l, from);
	}
	rows_free(&l);
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

	if (!strcmp(cmd, "ls") || !strcmp(cmd, "archives")) {
		cmd_ls(argc, argv, !strcmp(cmd, "archives"));
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
