/* mdk-image: list, tag, inspect and remove the images mdk-load stored.
 *
 * usage: mdk-image [-R ROOT] ls | tag SRC DST | rm IMAGE... | inspect IMAGE
 *                  | config IMAGE | prune
 *
 * IMAGE is NAME[:TAG] (":latest" implied) or an image ID (sha256:HEX, or a
 * prefix of 12 or more hex digits). rm untags; when an image has no tag
 * left it is deleted, then every layer no image and no container uses: all
 * under the store's exclusive lock, so never while a load publishes or a
 * container is being set up; rm refuses to delete an image a container was
 * made from. config prints the run settings as lines for m-docker:
 * entrypoint=, cmd=, env= (shell-quoted words), workdir=, user=, stopsignal=.
 * prune removes unused layers and the debris of killed loads.
 *
 * Exit codes: 0 done, 1 failed (or: no such image, image in use), 2 usage. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "mdk.h"

const char image_usage[] =
	"usage: mdk-image [-R ROOT] ls | tag SRC DST | rm IMAGE... | inspect IMAGE\n"
	"                 | config IMAGE | prune\n"
	"Manage the images loaded by mdk-load. IMAGE: NAME[:TAG] or an image ID.\n"
	"  ls            REPOSITORY TAG IMAGE ID CREATED SIZE\n"
	"  tag SRC DST   name image SRC also DST\n"
	"  rm IMAGE...   untag; delete an image left without tags (refused while a\n"
	"                container uses it) and the layers nothing else uses\n"
	"  inspect IMAGE the image as JSON (config, tags, layers)\n"
	"  config IMAGE  run settings for m-docker, one KEY=VALUE a line\n"
	"  prune         remove unused layers and debris of killed loads\n"
	"  -R ROOT       data root (default $MDK_ROOT, else " MDK_DEFAULT_ROOT ")\n"
	"Exit codes: 0 done, 1 failed, 2 usage error.\n";

static int rootfd;
static char *root;

static json_t *load_config(const char *id)
{
	char path[100], *buf;
	size_t len;
	int fd;
	json_t *j;

	snprintf(path, sizeof(path), "blobs/sha256/%.64s", id);
	if ((fd = openat(rootfd, path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		return json_object();	/* a config-less image */
	if (read_fd_max(fd, 4u << 20, &buf, &len) < 0)
		die_errno("read '%s/%s'", root, path);
	close(fd);
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

struct ls { bool header; };
static void ls_fn(const char *ref, const char *id, void *arg)
{
	struct image im;
	json_t *c;
	const char *created, *colon = strrchr(ref, ':');
	uint64_t size = 0;
	char when[20] = "";

	(void)arg;
	if (image_read(rootfd, id, &im) < 0)
		return;
	for (size_t i = 0; i < im.nlayers; i++)
		size += chain_size(rootfd, im.layers[i]);
	c = load_config(id);
	if ((created = json_string_value(json_object_get(c, "created"))))
		snprintf(when, sizeof(when), "%.10s %.5s", created, strlen(created) > 11 ? created + 11 : "");
	printf("%-32.*s %-12s %-12.12s %-17s %.1fMB\n", (int)(colon - ref), ref, colon + 1, id,
	       *when ? when : "-", (double)size / 1e6);
	json_decref(c);
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

static int cmd_rm(int argc, char **argv)
{
	int lock, ret = 0;
	char id[65], ref[400], who[80];
	bool changed;

	if (argc < 1)
		usage_die("rm: no IMAGE");
	if ((lock = store_lock(rootfd, LOCK_EX)) < 0)
		die_errno("lock '%s/.store.lock'", root);
	for (int i = 0; i < argc; i++) {
		bool by_tag;
		if (image_resolve(rootfd, argv[i], id) < 0) {
			warn("no such image '%s'", argv[i]);
			ret = 1;
			continue;
		}
		by_tag = ref_normalize(argv[i], ref, sizeof(ref)) == 0 && strncmp(argv[i], "sha256:", 7) &&
			 strncmp(id, argv[i], strlen(argv[i]));
		bool deletes = !by_tag || tag_count(id) <= 1;
		if (deletes && image_in_use(rootfd, id, who, sizeof(who))) {
			warn("image '%s' is in use by container %s; nothing removed", argv[i],
			     *who ? who : "(being set up)");
			ret = 1;
			continue;
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
	}
	if (store_gc(rootfd, true) < 0) {
		warn_errno("remove unused layers in '%s'", root);
		ret = 1;
	}
	close(lock);
	return ret;
}

/* 'it'\''s' */
static void put_quoted(FILE *f, const char *s)
{
	if (strchr(s, '\n'))
		die("a config value holds a newline: not supported");
	fputc('\'', f);
	for (; *s; s++) {
		if (*s == '\'')
			fputs("'\\''", f);
		else
			fputc(*s, f);
	}
	fputc('\'', f);
}

static void put_words(const char *key, json_t *arr)
{
	size_t i;
	json_t *v;

	printf("%s=", key);
	json_array_foreach(arr, i, v) {
		if (json_is_string(v)) {
			if (i)
				putchar(' ');
			put_quoted(stdout, json_string_value(v));
		}
	}
	putchar('\n');
}

static void put_line(const char *key, const char *val)
{
	if (val && strchr(val, '\n'))
		die("config %s holds a newline: not supported", key);
	printf("%s=%s\n", key, val ? val : "");
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
		usage_die("no command (ls, tag, rm, inspect, config, prune)");
	cmd = argv[optind++];
	argc -= optind;
	argv += optind;
	if ((rootfd = store_open(store_root(rootflag), &root)) < 0)
		die_errno("data root '%s'", store_root(rootflag));

	if (!strcmp(cmd, "ls")) {
		if (argc)
			usage_die("ls takes no arguments");
		printf("%-32s %-12s %-12s %-17s %s\n", "REPOSITORY", "TAG", "IMAGE ID", "CREATED",
		       "SIZE");
		if (tags_each(rootfd, ls_fn, NULL) < 0)
			die_errno("read '%s/tags'", root);
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
		cfg = load_config(id);
		cc = json_object_get(cfg, "config");
		if (!strcmp(cmd, "config")) {
			printf("id=sha256:%s\n", id);
			put_words("entrypoint", json_object_get(cc, "Entrypoint"));
			put_words("cmd", json_object_get(cc, "Cmd"));
			put_words("env", json_object_get(cc, "Env"));
			put_line("workdir", json_string_value(json_object_get(cc, "WorkingDir")));
			put_line("user", json_string_value(json_object_get(cc, "User")));
			put_line("stopsignal", json_string_value(json_object_get(cc, "StopSignal")));
			return 0;
		}
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
