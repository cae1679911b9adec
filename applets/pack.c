/* mdk-pack: write a directory tree as an image archive, the "docker export"
 * form (what mdk-unpack reads), or as an image layer; without GNU tar.
 *
 * usage: mdk-pack [--layer] DIR FILE
 *
 * Archives everything below DIR as ./-relative entries: numeric uid/gid (no
 * user names), modes, mtimes, symlinks, hard links, device nodes, fifos and
 * the extended attributes an image carries (pax format). Mounts below DIR are
 * not entered (a rootfs with /proc mounted packs as an empty /proc). As root
 * it reads DIR from inside (chroot): a symlink swapped in meanwhile cannot
 * lead out. --layer: DIR is an overlay layer (a container's upperdir), written
 * as an image layer (whiteouts as .wh.NAME, opaque directories with
 * .wh..wh..opq), and its DiffID printed. FILE ending in .gz or .tgz is
 * gzip-compressed, another compressed name refused; "-" writes to stdout.
 * FILE appears whole or not at all (an unnamed file until complete: not
 * even a kill -9 leaves a part).
 *
 * Exit codes: 0 written, 1 failed (nothing left behind), 2 usage error. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "mdk.h"

const char pack_usage[] =
	"usage: mdk-pack [--layer] DIR FILE\n"
	"Write the tree DIR as an image archive FILE (pax tar, numeric owners, xattrs,\n"
	"hard links, devices; not entering mounts below DIR). FILE.gz or .tgz is\n"
	"gzip-compressed; another compressed name (.xz, .zst, .bz2...) is refused:\n"
	"pipe '-' (stdout) through the compressor instead.\n"
	"  --layer  DIR is an overlay layer (a container's upperdir): write an image\n"
	"           layer (whiteouts as .wh.NAME, .wh..wh..opq for opaque directories)\n"
	"           and print its digest (sha256:HEX, the DiffID when not compressed)\n"
	"Exit codes: 0 written, 1 failed (no FILE left behind), 2 usage error.\n";

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);
	return n > k && !strcmp(s + n - k, suffix);
}

/* The compression FILE's name asks for: gzip, or none; never a plain tar
 * under another compressed name. (Only gzip is written: the xz, zstd and
 * bzip2 encoders would cost the binary 300 kB; a pipe does it.) */
static unsigned compression_of(const char *file)
{
	static const char *const other[] = { ".xz", ".txz", ".zst", ".tzst", ".bz2", ".tbz2", ".lz4",
					     ".lzma", ".lz", ".lzo", ".Z", ".zip", ".7z", ".br" };

	if (ends_with(file, ".gz") || ends_with(file, ".tgz"))
		return PACK_GZIP;
	for (size_t i = 0; i < sizeof(other) / sizeof(*other); i++)
		if (ends_with(file, other[i]))
			usage_die("'%s': mdk-pack compresses with gzip only (.gz, .tgz); for %s, pipe: "
				  "mdk-pack DIR - | COMPRESSOR >FILE", file, other[i]);
	return 0;
}

int pack_main(int argc, char **argv)
{
	static const struct option opts[] = { { "layer", no_argument, NULL, 'l' }, { NULL, 0, NULL, 0 } };
	const char *dir, *file;
	char err[600];
	struct out_file o = { .fd = -1 };
	struct pack_result res;
	unsigned flags = 0;
	int c, fd = STDOUT_FILENO;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
		if (c != 'l')
			usage_die("unknown option '%s'", argv[optind - 1]);
		flags |= PACK_LAYER;
	}
	if (argc - optind != 2)
		usage_die("expected DIR and FILE");
	dir = argv[optind];
	file = argv[optind + 1];
	flags |= compression_of(file);
	if (strcmp(file, "-")) {
		/* FILE's directory, held: a chroot comes before it is named. */
		const char *base = strrchr(file, '/');
		char *d = base ? xasprintf("%.*s", (int)(base - file) + (base == file), file) : ".";
		int od = open(d, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (od < 0 || (fd = out_create(&o, od, base ? base + 1 : file, 0644)) < 0)
			die_errno("create '%s'", file);
	}
	/* Entries are named relative to DIR: "./bin/sh". */
	if (chdir(dir) < 0) {
		warn_errno("chdir '%s'", dir);
		goto fail;
	}
	if (geteuid() == 0 && strcmp(dir, "/") && chroot(".") < 0) {
		warn_errno("chroot '%s'", dir);
		goto fail;
	}
	if (pack_tree(".", fd, flags, &res, err, sizeof(err)) < 0) {
		warn("%s", err);
		goto fail;
	}
	if (o.fd >= 0 && out_publish(&o) < 0) {
		warn_errno("write '%s'", file);
		goto fail;
	}
	if (flags & PACK_LAYER)
		fprintf(o.fd >= 0 ? stdout : stderr, "%s\n", res.digest);
	return 0;
fail:
	out_discard(&o);
	return 1;
}
