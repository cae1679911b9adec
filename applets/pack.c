/* mdk-pack: write a directory tree as an image archive, the "docker export"
 * form (what mdk-unpack reads), without GNU tar.
 *
 * usage: mdk-pack DIR FILE
 *
 * Archives everything below DIR as ./-relative entries: numeric uid/gid (no
 * user names), modes, mtimes, symlinks, hard links, device nodes, fifos and
 * extended attributes (pax format). Mounts below DIR are not entered (a
 * rootfs with /proc mounted packs as an empty /proc). FILE ending in .gz or
 * .tgz is gzip-compressed; "-" writes to stdout. FILE is written beside its
 * final name and renamed into place when complete.
 *
 * Exit codes: 0 written, 1 failed (nothing left behind), 2 usage error. */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "mdk.h"

const char pack_usage[] =
	"usage: mdk-pack DIR FILE\n"
	"Write the tree DIR as an image archive FILE (pax tar, numeric owners, xattrs,\n"
	"hard links, devices; not entering mounts below DIR). FILE.gz or .tgz is\n"
	"gzip-compressed; '-' is stdout.\n"
	"Exit codes: 0 written, 1 failed (no FILE left behind), 2 usage error.\n";

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);
	return n > k && !strcmp(s + n - k, suffix);
}

/* The file's data, holes written as zeros (the reader gives blocks with
 * offsets; data after a hole would otherwise move up). */
static int copy_file(struct archive *disk, struct archive *out, int64_t size)
{
	static const char zeros[65536];
	const void *buf;
	size_t n;
	int64_t off, pos = 0;
	int r;

	while ((r = archive_read_data_block(disk, &buf, &n, &off)) == ARCHIVE_OK || r == ARCHIVE_EOF) {
		int64_t upto = r == ARCHIVE_EOF ? size : off;
		for (; pos < upto; ) {
			size_t k = upto - pos > (int64_t)sizeof(zeros) ? sizeof(zeros) : (size_t)(upto - pos);
			if (archive_write_data(out, zeros, k) < 0)
				return -1;
			pos += (int64_t)k;
		}
		if (r == ARCHIVE_EOF)
			return 0;
		if (n && archive_write_data(out, buf, n) < 0)
			return -1;
		pos = off + (int64_t)n;
	}
	return -1;
}

int pack_main(int argc, char **argv)
{
	struct archive *disk, *out;
	struct archive_entry *e;
	const char *dir, *file;
	char *tmp = NULL;
	int r, fd = STDOUT_FILENO, cwd;

	if (argc != 3)
		usage_die("expected DIR and FILE");
	dir = argv[1];
	file = argv[2];
	if ((cwd = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)
		die_errno("open '.'");
	if (strcmp(file, "-")) {
		tmp = xasprintf("%s.tmp-%ld", file, (long)getpid());
		if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644)) < 0)
			die_errno("create '%s'", tmp);
	}
	/* Entries are named relative to DIR: "./bin/sh". */
	if (chdir(dir) < 0) {
		warn_errno("chdir '%s'", dir);
		goto fail;
	}
	out = archive_write_new();
	disk = archive_read_disk_new();
	if (!out || !disk)
		die("out of memory");
	archive_write_set_format_pax_restricted(out);
	if (ends_with(file, ".gz") || ends_with(file, ".tgz"))
		archive_write_add_filter_gzip(out);
	/* No uname/gname lookup: numeric ids only, as docker export. */
	archive_read_disk_set_symlink_physical(disk);
	archive_read_disk_set_behavior(disk, ARCHIVE_READDISK_NO_TRAVERSE_MOUNTS);
	if (archive_write_open_fd(out, fd) != ARCHIVE_OK || archive_read_disk_open(disk, ".") != ARCHIVE_OK) {
		warn("%s: %s", file, archive_error_string(archive_errno(out) ? out : disk));
		goto fail;
	}
	/* Hard links: the first name carries the data, the others link to it. */
	struct archive_entry_linkresolver *links = archive_entry_linkresolver_new();
	if (!links)
		die("out of memory");
	archive_entry_linkresolver_set_strategy(links, archive_format(out));
	e = archive_entry_new();
	while ((r = archive_read_next_header2(disk, e)) != ARCHIVE_EOF) {
		struct archive_entry *w = e, *spare = NULL;
		if (r < ARCHIVE_WARN) {
			warn("%s: %s", dir, archive_error_string(disk));
			goto fail;
		}
		archive_read_disk_descend(disk);
		archive_entry_set_uname(e, NULL);
		archive_entry_set_gname(e, NULL);
		archive_entry_linkify(links, &w, &spare);
		if (!w)
			continue;
		if (archive_write_header(out, w) < ARCHIVE_WARN) {
			warn("%s: %s", archive_entry_pathname(w), archive_error_string(out));
			goto fail;
		}
		if (archive_entry_size(w) > 0 && !archive_entry_hardlink(w) &&
		    copy_file(disk, out, archive_entry_size(w)) < 0) {
			warn("%s: %s", archive_entry_pathname(w), archive_error_string(out) ?
			     archive_error_string(out) : archive_error_string(disk));
			goto fail;
		}
	}
	if (archive_write_close(out) != ARCHIVE_OK) {
		warn("%s: %s", file, archive_error_string(out));
		goto fail;
	}
	if (tmp && (fsync(fd) < 0 || renameat(cwd, tmp, cwd, file) < 0)) {
		warn_errno("rename '%s' to '%s'", tmp, file);
		goto fail;
	}
	return 0;
fail:
	if (tmp)
		unlinkat(cwd, tmp, 0);
	return 1;
}
