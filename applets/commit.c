/* mdk-commit: a container's rw layer as a new image on top of its image.
 *
 * usage: mdk-commit [-R ROOT] [-c CHANGE]... [-m MSG] [-a AUTHOR] [-p|-P] ID [REF]
 *
 * The container's upperdir becomes one more layer (mdk-pack --layer: overlay
 * whiteouts as .wh.NAME, opaque directories as .wh..wh..opq, overlay's xattrs
 * left out), read from inside a chroot of it, its DiffID computed as it is
 * written. The config is the image's with the CHANGEs (Dockerfile words:
 * ENV K=V, CMD, ENTRYPOINT, WORKDIR, USER, LABEL K=V, EXPOSE PORT[/PROTO],
 * VOLUME PATH; CMD and ENTRYPOINT as a JSON list or a shell line), the new
 * DiffID and a history entry. A container made from an archive image
 * (mdk-unpack) gets its layer packed first, under a config of its own. The
 * result is staged in ROOT/tmp/commit-PID/ as a docker-archive and loaded by
 * mdk-load, which verifies it and shares the layers the store has: nothing
 * is published half. A running container is frozen (cgroup_freeze: v2's
 * cgroup.freeze, v1's freezer) while its layer is read, unless -P; a guard
 * process thaws it whatever happens to this one. Prints the image ID.
 *
 * Exit codes: 0 committed, 1 failed (nothing left behind), 2 usage error. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <jansson.h>
#include <nettle/sha2.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "mdk.h"

const char commit_usage[] =
	"usage: mdk-commit [-R ROOT] [-c CHANGE]... [-m MSG] [-a AUTHOR] [-p|-P] ID [REF]\n"
	"Make container ID's changes (its rw layer) a new image on top of its image,\n"
	"tagged REF (NAME[:TAG]) if given; prints its ID.\n"
	"  -R ROOT    data root (default $MDK_ROOT, else " MDK_DEFAULT_ROOT ")\n"
	"  -c CHANGE  ENV K=V | CMD ... | ENTRYPOINT ... | WORKDIR DIR | USER U |\n"
	"             LABEL K=V | EXPOSE PORT[/PROTO] | VOLUME PATH (repeatable;\n"
	"             CMD/ENTRYPOINT: a JSON list, or a line for /bin/sh -c)\n"
	"  -m MSG     the history entry's comment\n"
	"  -a AUTHOR  the image's author\n"
	"  -p / -P    freeze a running container while its layer is read (default) / don't\n"
	"Exit codes: 0 committed, 1 failed (nothing left behind), 2 usage error.\n";

#define CHANGES_MAX 64

static int rootfd = -1, stagefd = -1, tmpfd = -1;
static char stage[64], *root;
static pid_t main_pid, child;
static volatile sig_atomic_t stop_sig;

static void on_signal(int sig) { stop_sig = sig; }

static const char *frozen;	/* the container, while it is */

static void cleanup(void)
{
	if (getpid() != main_pid)
		return;
	/* (The guard thaws it too: this is for a guard that cannot.) */
	if (frozen)
		cgroup_freeze(frozen, false);
	if (child > 0)
		kill(child, SIGKILL);
	if (stagefd >= 0 && rm_tree_nocross(tmpfd, stage) < 0)
		warn_errno("remove '%s/tmp/%s'", root, stage);
}

/* Wait for our child; its status as an exit code (128+N when killed). */
static int wait_child(void)
{
	int st;

	while (waitpid(child, &st, 0) < 0)
		if (errno != EINTR)
			die_errno("wait");
	child = 0;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* --- the config ------------------------------------------------------------------- */

/* CMD/ENTRYPOINT's value: a JSON list of strings as it is, else a shell line. */
static json_t *command(const char *v, const char *change)
{
	json_t *j = NULL;

	if (*v == '[') {
		j = json_loads(v, 0, NULL);
		bool ok = json_is_array(j);
		for (size_t i = 0; ok && i < json_array_size(j); i++)
			ok = json_is_string(json_array_get(j, i));
		if (!ok)
			usage_die("-c '%s': not a JSON list of strings", change);
		return j;
	}
	return json_pack("[sss]", "/bin/sh", "-c", v);
}

/* K=V into OBJ[KEY] (an object) or, for an Env list, replacing K's entry. */
static void set_kv(json_t *cfg, const char *key, const char *kv, const char *change)
{
	const char *eq = strchr(kv, '=');
	json_t *o = json_object_get(cfg, key);

	if (!eq || eq == kv)
		usage_die("-c '%s': want KEY=VALUE", change);
	if (!strcmp(key, "Env")) {
		if (!json_is_array(o))
			json_object_set_new(cfg, key, o = json_array());
		for (size_t i = 0; i < json_array_size(o); i++) {
			const char *e = json_string_value(json_array_get(o, i));
			if (e && !strncmp(e, kv, (size_t)(eq - kv) + 1)) {
				json_array_set_new(o, i, json_string(kv));
				return;
			}
		}
		json_array_append_new(o, json_string(kv));
		return;
	}
	if (!json_is_object(o))
		json_object_set_new(cfg, key, o = json_object());
	char *k = xasprintf("%.*s", (int)(eq - kv), kv);
	json_object_set_new(o, k, json_string(eq + 1));
	free(k);
}

/* Apply CHANGE ("WORD value") to the image config's "config" object. */
static void apply_change(json_t *cfg, const char *change)
{
	size_t w = strcspn(change, " \t");
	const char *v = change + w + strspn(change + w, " \t");
	char word[16];

	if (w >= sizeof(word) || !*v)
		usage_die("-c '%s': want INSTRUCTION VALUE", change);
	for (size_t i = 0; i < w; i++)
		word[i] = (char)(change[i] >= 'a' && change[i] <= 'z' ? change[i] - 32 : change[i]);
	word[w] = 0;
	if (!strcmp(word, "ENV"))
		set_kv(cfg, "Env", v, change);
	else if (!strcmp(word, "LABEL"))
		set_kv(cfg, "Labels", v, change);
	else if (!strcmp(word, "CMD"))
		json_object_set_new(cfg, "Cmd", command(v, change));
	else if (!strcmp(word, "ENTRYPOINT"))
		json_object_set_new(cfg, "Entrypoint", command(v, change));
	else if (!strcmp(word, "WORKDIR")) {
		if (*v != '/')
			usage_die("-c '%s': WORKDIR must be absolute", change);
		json_object_set_new(cfg, "WorkingDir", json_string(v));
	} else if (!strcmp(word, "USER"))
		json_object_set_new(cfg, "User", json_string(v));
	else if (!strcmp(word, "EXPOSE") || !strcmp(word, "VOLUME")) {
		bool port = word[0] == 'E';
		const char *key = port ? "ExposedPorts" : "Volumes";
		json_t *o = json_object_get(cfg, key);
		char *k = port && !strchr(v, '/') ? xasprintf("%s/tcp", v) : xasprintf("%s", v);
		uint64_t n;
		char num[16];
		snprintf(num, sizeof(num), "%.*s", (int)strcspn(v, "/"), v);
		if (port ? parse_uint(num, 1, 65535, &n) < 0 || (strchr(v, '/') &&
			   strcmp(strchr(v, '/'), "/tcp") && strcmp(strchr(v, '/'), "/udp") &&
			   strcmp(strchr(v, '/'), "/sctp")) : *v != '/')
			usage_die("-c '%s': want %s", change, port ? "PORT[/tcp|udp|sctp]" : "an absolute PATH");
		if (!json_is_object(o))
			json_object_set_new(cfg, key, o = json_object());
		json_object_set_new(o, k, json_object());
		free(k);
	} else {
		usage_die("-c '%s': %s is not one of ENV, CMD, ENTRYPOINT, WORKDIR, USER, LABEL, "
			  "EXPOSE, VOLUME", change, word);
	}
}

static void now_rfc3339(char *out, size_t n)
{
	struct timespec ts;
	struct tm tm;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	size_t k = strftime(out, n, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out + k, n - k, ".%09ldZ", ts.tv_nsec);
}

/* --- layers ----------------------------------------------------------------------- */

/* Pack layer directory DIR (under ROOT) into the staged file NAME, confined;
 * its DiffID into DIFFID. */
static void pack_layer(const char *dir, const char *name, char diffid[72])
{
	struct pack_result r;
	char err[600];
	int dfd, out;

	if ((dfd = openat(rootfd, dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		die_errno("open '%s/%s'", root, dir);
	if ((out = openat(stagefd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) < 0)
		die_errno("create '%s/tmp/%s/%s'", root, stage, name);
	if (pack_confined(dfd, out, PACK_LAYER, &r, err, sizeof(err)) < 0)
		die("pack '%s/%s': %s", root, dir, stop_sig ? "interrupted" : err);
	close(out);
	close(dfd);
	memcpy(diffid, r.digest, sizeof(r.digest));
}

/* Freeze container ID while its layer is read. A guard process does it and
 * thaws it when our end of a pipe closes: when we are done, or killed. The
 * returned fd is that end; -1 when the container has no freezer. */
static int freeze(const char *id)
{
	int p[2], ok[2];
	char c = 0;
	pid_t g;

	if (pipe2(p, O_CLOEXEC) < 0 || pipe2(ok, O_CLOEXEC) < 0)
		die_errno("pipe");
	fflush(NULL);
	if ((g = fork()) < 0)
		die_errno("fork");
	if (!g) {
		/* Its own session: a ^C to the terminal's group still thaws. */
		setsid();
		signal(SIGINT, SIG_IGN);
		signal(SIGTERM, SIG_IGN);
		signal(SIGHUP, SIG_IGN);
		close(p[1]);
		close(ok[0]);
		c = cgroup_freeze(id, true) == 0 ? 1 : errno == ENOENT ? 2 : 3;
		if (write(ok[1], &c, 1) != 1 || c != 1)
			_exit(0);
		close(ok[1]);
		while (read(p[0], &c, 1) > 0 || errno == EINTR)
			;
		_exit(cgroup_freeze(id, false) == 0 ? 0 : 1);
	}
	close(p[0]);
	close(ok[1]);
	if (read(ok[0], &c, 1) != 1)
		c = 3;
	close(ok[0]);
	if (c == 1) {
		frozen = id;
		return p[1];
	}
	close(p[1]);
	waitpid(g, NULL, 0);
	if (c == 2)
		warn("no cgroup freezer here for container %s: it runs on while its layer is read", id);
	else
		die("freeze container %s: failed", id);
	return -1;
}

static void thaw(int guard)
{
	if (guard < 0)
		return;
	close(guard);
	while (wait(NULL) > 0 || errno == EINTR)
		;
	frozen = NULL;
}

/* The container's state file: image= and layers= (top first). */
struct state {
	char image[72];
	char *layers[MDK_IMAGE_LAYERS_MAX];
	size_t n;
};

static void read_state(const char *id, struct state *s)
{
	char *path = xasprintf("layers/%s+rw/state", id), *buf, *l, *save = NULL, *save2 = NULL;
	size_t len;
	int fd = openat(rootfd, path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0)
		die(errno == ENOENT ? "no such container '%s'" : "read the state of container %s: %s",
		    id, strerror(errno));
	if (read_fd_max(fd, 1 << 20, &buf, &len) < 0)
		die_errno("read '%s/%s'", root, path);
	close(fd);
	memset(s, 0, sizeof(*s));
	for (l = strtok_r(buf, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		if (!strncmp(l, "image=", 6))
			snprintf(s->image, sizeof(s->image), "%s", l + 6);
		if (!strncmp(l, "layers=", 7))
			for (char *t = strtok_r(l + 7, " ", &save2); t && s->n < MDK_IMAGE_LAYERS_MAX;
			     t = strtok_r(NULL, " ", &save2))
				s->layers[s->n++] = xasprintf("%s", t);
	}
	if (!s->n || (s->image[0] && !valid_digest(s->image)))
		die("container %s: its state names no image", id);
	free(path);
}

/* The config of image DIGEST (the parent), parsed. */
static json_t *parent_config(const char *digest)
{
	size_t len;
	char *buf = blob_read(rootfd, digest + 7, &len);
	json_t *j;

	if (!buf)
		die_errno("image %s: read its config '%s/blobs/sha256/%s'", digest, root, digest + 7);
	if (!(j = json_loadb(buf, len, 0, NULL)) || !json_is_object(j))
		die("image %s: its config is not JSON", digest);
	free(buf);
	return j;
}

static void stage_write(const char *name, const char *text)
{
	if (write_atomic(stagefd, name, text, strlen(text)) < 0)
		die_errno("write '%s/tmp/%s/%s'", root, stage, name);
}

int commit_main(int argc, char **argv)
{
	const char *rootflag = NULL, *msg = NULL, *author = NULL, *changes[CHANGES_MAX];
	size_t nchanges = 0;
	bool pause = true;
	char ref[400] = "";
	int c;

	opterr = 0;
	while ((c = getopt(argc, argv, "+:R:c:m:a:pP")) != -1) {
		switch (c) {
		case 'R': rootflag = optarg; break;
		case 'c':
			if (nchanges == CHANGES_MAX)
				usage_die("more than %d changes", CHANGES_MAX);
			changes[nchanges++] = optarg;
			break;
		case 'm': msg = optarg; break;
		case 'a': author = optarg; break;
		case 'p': pause = true; break;
		case 'P': pause = false; break;
		case ':': usage_die("option '-%c' needs a value", optopt);
		default: usage_die("unknown option '%s'", argv[optind - 1]);
		}
	}
	if (argc - optind < 1 || argc - optind > 2)
		usage_die("expected ID [REF]");
	const char *id = argv[optind];
	if (!valid_name(id))
		usage_die("invalid container ID '%s'", id);
	if (argc - optind == 2 && ref_normalize(argv[optind + 1], ref, sizeof(ref)) < 0)
		usage_die("invalid reference '%s' (want NAME[:TAG])", argv[optind + 1]);
	/* Every change is checked before any work. */
	json_t *probe = json_object();
	for (size_t i = 0; i < nchanges; i++)
		apply_change(probe, changes[i]);
	json_decref(probe);

	if ((rootfd = store_open(store_root(rootflag), &root)) < 0)
		die_errno("data root '%s'", store_root(rootflag));
	main_pid = getpid();
	atexit(cleanup);
	catch_stop_signals(on_signal);

	/* The container's lock (as rm and prune take it): it stays while read. */
	char *rw = xasprintf("layers/%s+rw", id);
	int lock = openat(rootfd, rw, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (lock < 0)
		die(errno == ENOENT ? "no such container '%s'" : "container %s: %s", id, strerror(errno));
	while (flock(lock, LOCK_EX) < 0)
		if (errno != EINTR || stop_sig)
			die_errno("lock '%s/%s'", root, rw);
	struct state s;
	read_state(id, &s);

	if ((stagefd = stage_make(rootfd, "commit", stage, sizeof(stage))) < 0 ||
	    (tmpfd = openat(rootfd, "tmp", O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)
		die_errno("make '%s/tmp/commit-%ld'", root, (long)getpid());

	/* The parent: a loaded image's config and layers, or a config of our
	 * own over the archive image's layers (packed here, bottom first). */
	json_t *cfg, *layers = json_array(), *diffids, *history;
	char when[64], diffid[72];
	now_rfc3339(when, sizeof(when));
	if (s.image[0]) {
		cfg = parent_config(s.image);
		json_t *rootfs = json_object_get(cfg, "rootfs");
		diffids = json_object_get(rootfs, "diff_ids");
		if (!json_is_array(diffids) || json_array_size(diffids) != s.n)
			die("image %s: its config's rootfs.diff_ids does not match its %zu layers",
			    s.image, s.n);
		/* Already in the store: mdk-load opens no file for them. */
		for (size_t i = 0; i < s.n; i++) {
			char *p = xasprintf("parent-%zu.tar", i);
			json_array_append_new(layers, json_string(p));
			free(p);
		}
	} else {
		cfg = json_pack("{s:s, s:s, s:{s:[s], s:[s]}, s:{s:s, s:[]}, s:[]}", "architecture",
				image_arch(), "os", "linux", "config", "Env",
				"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "Cmd",
				"/bin/sh", "rootfs", "type", "layers", "diff_ids", "history");
		diffids = json_object_get(json_object_get(cfg, "rootfs"), "diff_ids");
		for (size_t i = s.n; i-- > 0;) {
			char *dir = xasprintf("layers/%s", s.layers[i]), *p = xasprintf("base-%zu.tar", i);
			pack_layer(dir, p, diffid);
			json_array_append_new(layers, json_string(p));
			json_array_append_new(diffids, json_string(diffid));
			json_array_append_new(json_object_get(cfg, "history"),
					      json_pack("{s:s, s:s}", "created", when, "created_by",
							s.layers[i]));
			free(dir);
			free(p);
		}
	}
	if (!cfg)
		die("out of memory");

	/* The container's layer, frozen while it is read. */
	int guard = pause && cgroup_locked(id) ? freeze(id) : -1;
	char *upper = xasprintf("%s/fs", rw);
	pack_layer(upper, "layer.tar", diffid);
	thaw(guard);
	if (stop_sig)
		die("interrupted by signal %d", (int)stop_sig);

	json_t *config = json_object_get(cfg, "config");
	if (!json_is_object(config))
		json_object_set_new(cfg, "config", config = json_object());
	for (size_t i = 0; i < nchanges; i++)
		apply_change(config, changes[i]);
	json_object_set_new(cfg, "created", json_string(when));
	if (author)
		json_object_set_new(cfg, "author", json_string(author));
	json_array_append_new(diffids, json_string(diffid));
	json_array_append_new(layers, json_string("layer.tar"));
	if (!json_is_array(history = json_object_get(cfg, "history")))
		json_object_set_new(cfg, "history", history = json_array());
	json_t *h = json_pack("{s:s, s:s}", "created", when, "created_by", "mdk commit");
	if (author)
		json_object_set_new(h, "author", json_string(author));
	if (msg)
		json_object_set_new(h, "comment", json_string(msg));
	json_array_append_new(history, h);

	char *text = json_dumps(cfg, JSON_COMPACT), idhex[65];
	uint8_t d[SHA256_DIGEST_SIZE];
	struct sha256_ctx hc;
	if (!text)
		die("out of memory");
	sha256_init(&hc);
	sha256_update(&hc, strlen(text), (const uint8_t *)text);
	sha256_digest(&hc, sizeof(d), d);
	for (size_t i = 0; i < sizeof(d); i++)
		snprintf(idhex + 2 * i, 3, "%02x", d[i]);
	stage_write("config.json", text);
	json_t *m = json_pack("[{s:s, s:[], s:O}]", "Config", "config.json", "RepoTags", "Layers", layers);
	if (ref[0])
		json_array_append_new(json_object_get(json_array_get(m, 0), "RepoTags"), json_string(ref));
	char *mtext = json_dumps(m, JSON_COMPACT);
	if (!mtext)
		die("out of memory");
	stage_write("manifest.json", mtext);

	/* mdk-load does the rest: verified, layers shared, published whole. */
	char *sdir = xasprintf("%s/tmp/%s", root, stage);
	fflush(NULL);
	if ((child = fork()) < 0)
		die_errno("fork");
	if (!child) {
		int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
		if (null < 0 || dup2(null, STDOUT_FILENO) < 0)
			_exit(1);
		char *args[] = { "mdk-load", "-R", root, "-q", sdir, NULL };
		applet_name = "mdk-commit";
		optind = 0;
		exit(load_main(5, args));
	}
	if (wait_child() != 0)
		die("the new image was not stored");
	printf("sha256:%s\n", idhex);
	return 0;
}
