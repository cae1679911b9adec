/* mdk-save: images of the store as one archive that docker, podman and
 * skopeo load, or as an OCI layout directory.
 *
 * usage: mdk-save [-R ROOT] [-o FILE] [--format docker-archive|oci-archive|oci-dir] IMAGE...
 *
 * The archive is what docker 25 writes: an OCI image layout (oci-layout,
 * index.json, blobs/sha256/...) and docker's manifest.json over the same
 * blobs, so it is a docker-archive and an oci-archive at once. Layers are
 * written uncompressed, packed from the store's layers (mdk-pack --layer,
 * from inside a chroot of each), once however many saved images share them.
 * A layer mdk made (a commit) packs to the very bytes it had: the image keeps
 * its config and ID. One that came from elsewhere packs to an equivalent
 * layer with another DiffID: the saved config then carries the new DiffIDs
 * (and so another ID). Tags named on the command line go with their image
 * (RepoTags; index.json's io.containerd.image.name and
 * org.opencontainers.image.ref.name, as docker writes them); an image named
 * by its ID has none. FILE appears whole or not at all, even after a kill -9
 * (an unnamed file until complete; "-" or none: stdout); an oci-dir is made
 * beside DIR and renamed to it, which must not exist.
 *
 * Exit codes: 0 saved, 1 failed (nothing left behind), 2 usage error. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <jansson.h>
#include <linux/fs.h>
#include <nettle/sha2.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "mdk.h"

const char save_usage[] =
	"usage: mdk-save [-R ROOT] [-o FILE] [--format docker-archive|oci-archive|oci-dir] IMAGE...\n"
	"Write loaded images (NAME[:TAG] or ID) as one archive that docker, podman and\n"
	"skopeo load (docker-archive and oci-archive at once), or as an OCI layout\n"
	"directory; shared layers written once.\n"
	"  -R ROOT      data root (default $MDK_ROOT, else " MDK_DEFAULT_ROOT ")\n"
	"  -o FILE      the archive (default: stdout), or the directory for oci-dir\n"
	"  --format F   docker-archive or oci-archive (the same archive), or oci-dir\n"
	"Exit codes: 0 saved, 1 failed (nothing left behind), 2 usage error.\n";

#define IMAGES_MAX 64

static int rootfd = -1, stagefd = -1, stagedir = -1;
static char *root, *stage;
static struct out_file outf = { .fd = -1 };
static pid_t main_pid;
static volatile sig_atomic_t stop_sig;

static void on_signal(int sig) { stop_sig = sig; }

static void cleanup(void)
{
	if (getpid() != main_pid)
		return;
	if (stagefd >= 0 && rm_tree_nocross(stagedir, stage) < 0)
		warn_errno("remove '%s'", stage);
	out_discard(&outf);
}

static void hex_of(const uint8_t *d, char out[65])
{
	for (size_t i = 0; i < SHA256_DIGEST_SIZE; i++)
		snprintf(out + 2 * i, 3, "%02x", d[i]);
}

/* TEXT as blob blobs/sha256/HEX of the staging directory; its descriptor. */
static json_t *put_blob(int blobs, const char *mediatype, const char *text)
{
	struct sha256_ctx c;
	uint8_t d[SHA256_DIGEST_SIZE];
	char hex[65], digest[72];
	size_t n = strlen(text);

	sha256_init(&c);
	sha256_update(&c, n, (const uint8_t *)text);
	sha256_digest(&c, sizeof(d), d);
	hex_of(d, hex);
	if (write_atomic(blobs, hex, text, n) < 0)
		die_errno("write '%s/blobs/sha256/%s'", stage, hex);
	snprintf(digest, sizeof(digest), "sha256:%s", hex);
	return json_pack("{s:s, s:s, s:I}", "mediaType", mediatype, "digest", digest, "size", (json_int_t)n);
}

/* The layers packed so far: each chain once. */
struct packed {
	char chain[65];
	char digest[72];
	uint64_t size;
};

static const struct packed *layer(int blobs, const char *chain, struct packed *done, size_t *n)
{
	for (size_t i = 0; i < *n; i++)
		if (!strcmp(done[i].chain, chain))
			return &done[i];
	struct packed *p = &done[(*n)++];
	struct pack_result r;
	char path[80], err[600];
	int dfd, out;

	snprintf(path, sizeof(path), "chains/%s", chain);
	if ((dfd = openat(rootfd, path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		die_errno("open the layer '%s/%s'", root, path);
	if ((out = openat(blobs, ".layer", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) < 0)
		die_errno("create '%s/blobs/sha256/.layer'", stage);
	if (pack_confined(dfd, out, PACK_LAYER, &r, err, sizeof(err)) < 0)
		die("pack '%s/%s': %s", root, path, stop_sig ? "interrupted" : err);
	close(out);
	close(dfd);
	/* (Two layers may pack to one blob: the same content.) */
	if (renameat(blobs, ".layer", blobs, r.digest + 7) < 0)
		die_errno("rename '%s/blobs/sha256/.layer'", stage);
	snprintf(p->chain, sizeof(p->chain), "%s", chain);
	memcpy(p->digest, r.digest, sizeof(p->digest));
	p->size = r.size;
	return p;
}

/* docker's long name of REF (what io.containerd.image.name holds). */
static char *full_name(const char *ref)
{
	const char *slash = strchr(ref, '/');
	size_t first = slash ? (size_t)(slash - ref) : 0;

	if (!slash)
		return xasprintf("docker.io/library/%s", ref);
	if (memchr(ref, '.', first) || memchr(ref, ':', first) || !strncmp(ref, "localhost/", 10))
		return xasprintf("%s", ref);
	return xasprintf("docker.io/%s", ref);
}

/* Image ID's config: its bytes in *RAW, parsed. */
static json_t *read_config(const char *id, char **raw, size_t *len)
{
	json_t *j;

	if (!(*raw = blob_read(rootfd, id, len)))
		die_errno("image sha256:%s: read its config '%s/blobs/sha256/%s'", id, root, id);
	if (!(j = json_loadb(*raw, *len, 0, NULL)) || !json_is_object(j))
		die("image sha256:%s: its config is not JSON", id);
	return j;
}

int save_main(int argc, char **argv)
{
	static const struct option opts[] = { { "format", required_argument, NULL, 'f' },
					       { "output", required_argument, NULL, 'o' },
					       { NULL, 0, NULL, 0 } };
	const char *rootflag = NULL, *output = "-", *format = "docker-archive";
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "+:R:o:", opts, NULL)) != -1) {
		switch (c) {
		case 'R': rootflag = optarg; break;
		case 'o': output = optarg; break;
		case 'f': format = optarg; break;
		case ':': usage_die("option '%s' needs a value", argv[optind - 1]);
		default: usage_die("unknown option '%s'", argv[optind - 1]);
		}
	}
	bool dir = !strcmp(format, "oci-dir");
	if (!dir && strcmp(format, "docker-archive") && strcmp(format, "oci-archive"))
		usage_die("unknown format '%s' (docker-archive, oci-archive or oci-dir)", format);
	if (dir && !strcmp(output, "-"))
		usage_die("--format oci-dir needs -o DIR");
	if (optind == argc)
		usage_die("expected IMAGE...");
	if (argc - optind > IMAGES_MAX)
		usage_die("more than %d images", IMAGES_MAX);

	if ((rootfd = store_open(store_root(rootflag), &root)) < 0)
		die_errno("data root '%s'", store_root(rootflag));
	/* Shared: no rmi takes an image or layer while we read it. */
	if (store_lock(rootfd, LOCK_SH) < 0)
		die_errno("lock '%s/.store.lock'", root);
	main_pid = getpid();
	atexit(cleanup);
	catch_stop_signals(on_signal);

	/* Every name first: a wrong one fails before any work. */
	char ids[IMAGES_MAX][65], refs[IMAGES_MAX][400];
	int n = argc - optind;
	for (int i = 0; i < n; i++) {
		const char *spec = argv[optind + i];
		if (image_resolve(rootfd, spec, ids[i]) < 0)
			die(errno == ENOENT ? "no image '%s' in %s" : "'%s' is not a valid image reference or ID",
			    spec, root);
		/* A name given is kept with it; an ID (a prefix of one) is not a name. */
		size_t k = strlen(spec);
		bool by_id = (!strncmp(spec, "sha256:", 7) && valid_hex64(spec + 7)) ||
			     (k >= 12 && k <= 64 && strspn(spec, "0123456789abcdef") == k &&
			      !strncmp(ids[i], spec, k));
		refs[i][0] = 0;
		if (!by_id && ref_normalize(spec, refs[i], sizeof(refs[i])) < 0)
			refs[i][0] = 0;
	}

	/* The staging directory: in the data root for an archive, beside DIR
	 * for an oci-dir (renamed to it at the end). */
	char *base = NULL;
	if (dir) {
		const char *b = strrchr(output, '/');
		char *d = b ? xasprintf("%.*s", (int)(b - output) + (b == output), output) : xasprintf(".");
		base = xasprintf("%s", b ? b + 1 : output);
		if (!*base || !strcmp(base, ".") || !strcmp(base, ".."))
			usage_die("-o '%s': not a directory name", output);
		if ((stagedir = open(d, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
			die_errno("open '%s'", d);
		struct stat st;
		if (fstatat(stagedir, base, &st, AT_SYMLINK_NOFOLLOW) == 0 || errno != ENOENT)
			die("-o '%s': exists already", output);
		stage = xasprintf(".%s.tmp-%ld", base, (long)getpid());
	} else {
		char name[64];
		if ((stagefd = stage_make(rootfd, "save", name, sizeof(name))) < 0 ||
		    (stagedir = openat(rootfd, "tmp", O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)
			die_errno("make '%s/tmp/save-%ld'", root, (long)getpid());
		stage = xasprintf("%s", name);
	}
	if (dir && (mkdirat(stagedir, stage, 0755) < 0 ||
		    (stagefd = openat(stagedir, stage, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0))
		die_errno("make '%s'", stage);
	int blobs = store_dir(stagefd, "blobs/sha256");
	if (blobs < 0)
		die_errno("mkdir '%s/blobs/sha256'", stage);

	json_t *index = json_pack("{s:i, s:s, s:[]}", "schemaVersion", 2, "mediaType",
				  "application/vnd.oci.image.index.v1+json", "manifests");
	json_t *docker = json_array();
	struct packed *done = xmalloc(IMAGES_MAX * MDK_IMAGE_LAYERS_MAX * sizeof(*done));
	size_t ndone = 0;
	for (int i = 0; i < n; i++) {
		struct image im;
		if (image_read(rootfd, ids[i], &im) < 0)
			die_errno("read '%s/image/%s'", root, ids[i]);
		char *obuf;
		size_t olen;
		json_t *cfg = read_config(ids[i], &obuf, &olen), *was = json_deep_copy(cfg);
		json_t *diffids = json_object_get(json_object_get(cfg, "rootfs"), "diff_ids");
		if (!json_is_array(diffids) || json_array_size(diffids) != im.nlayers)
			die("image sha256:%s: its config's rootfs.diff_ids does not match its %zu layers",
			    ids[i], im.nlayers);
		json_t *mlayers = json_array(), *dlayers = json_array();
		for (size_t k = 0; k < im.nlayers; k++) {
			if (stop_sig)
				die("interrupted by signal %d", (int)stop_sig);
			const struct packed *p = layer(blobs, im.layers[k], done, &ndone);
			char *path = xasprintf("blobs/sha256/%s", p->digest + 7);
			json_array_append_new(mlayers, json_pack("{s:s, s:s, s:I}", "mediaType",
					      "application/vnd.oci.image.layer.v1.tar", "digest", p->digest,
					      "size", (json_int_t)p->size));
			json_array_append_new(dlayers, json_string(path));
			free(path);
			/* Packed from elsewhere's layer: the config says what it is now. */
			const char *was = json_string_value(json_array_get(diffids, k));
			if (!was || strcmp(was, p->digest))
				json_array_set_new(diffids, k, json_string(p->digest));
		}
		char *text = json_dumps(cfg, JSON_COMPACT);
		if (!text)
			die("out of memory");
		/* The store's own bytes when nothing changed: the same ID. */
		if (json_equal(was, cfg)) {
			free(text);
			text = obuf;
		} else {
			free(obuf);
		}
		json_decref(was);
		json_t *cdesc = put_blob(blobs, "application/vnd.oci.image.config.v1+json", text);
		free(text);
		json_t *m = json_pack("{s:i, s:s, s:O, s:o}", "schemaVersion", 2, "mediaType",
				      "application/vnd.oci.image.manifest.v1+json", "config", cdesc,
				      "layers", mlayers);
		char *mtext = json_dumps(m, JSON_COMPACT);
		if (!mtext)
			die("out of memory");
		json_t *mdesc = put_blob(blobs, "application/vnd.oci.image.manifest.v1+json", mtext);
		free(mtext);
		json_t *tags = json_array();
		if (refs[i][0]) {
			char *full = full_name(refs[i]);
			json_object_set_new(mdesc, "annotations",
					    json_pack("{s:s, s:s}", "io.containerd.image.name", full,
						      "org.opencontainers.image.ref.name",
						      strrchr(refs[i], ':') + 1));
			free(full);
			json_array_append_new(tags, json_string(refs[i]));
		}
		json_array_append_new(json_object_get(index, "manifests"), mdesc);
		char *cpath = xasprintf("blobs/sha256/%s", json_string_value(json_object_get(cdesc, "digest")) + 7);
		json_array_append_new(docker, json_pack("{s:s, s:o, s:o}", "Config", cpath, "RepoTags", tags,
							"Layers", dlayers));
		free(cpath);
		json_decref(cdesc);
		json_decref(m);
		json_decref(cfg);
	}
	char *itext = json_dumps(index, JSON_COMPACT), *dtext = json_dumps(docker, JSON_COMPACT);
	const char *layout = "{\"imageLayoutVersion\":\"1.0.0\"}";
	if (!itext || !dtext)
		die("out of memory");
	if (write_atomic(stagefd, "index.json", itext, strlen(itext)) < 0 ||
	    write_atomic(stagefd, "manifest.json", dtext, strlen(dtext)) < 0 ||
	    write_atomic(stagefd, "oci-layout", layout, strlen(layout)) < 0)
		die_errno("write '%s'", stage);
	if (stop_sig)
		die("interrupted by signal %d", (int)stop_sig);

	if (dir) {
		/* (Never over what appeared there meanwhile.) */
		if (syscall(SYS_renameat2, stagedir, stage, stagedir, base, RENAME_NOREPLACE) < 0)
			die_errno("rename '%s' to '%s'", stage, output);
		stagefd = -1;	/* (it is the output now) */
		return 0;
	}
	/* The archive, by the one tar writer: the staged layout, names bare. */
	int out = STDOUT_FILENO;
	if (strcmp(output, "-")) {
		const char *b = strrchr(output, '/');
		char *d = b ? xasprintf("%.*s", (int)(b - output) + (b == output), output) : xasprintf(".");
		int od = open(d, O_PATH | O_DIRECTORY | O_CLOEXEC);
		base = xasprintf("%s", b ? b + 1 : output);
		if (od < 0 || (out = out_create(&outf, od, base, 0644)) < 0)
			die_errno("create '%s'", output);
	}
	char err[600];
	int here = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (here < 0 || fchdir(stagefd) < 0)
		die_errno("chdir '%s'", stage);
	if (pack_tree(".", out, PACK_BARE, NULL, err, sizeof(err)) < 0)
		die("write '%s': %s", output, err);
	if (fchdir(here) < 0)
		die_errno("chdir back");
	if (outf.fd >= 0 && out_publish(&outf) < 0)
		die_errno("write '%s'", output);
	return 0;
}
