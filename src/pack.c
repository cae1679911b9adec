/* The one tar writer: a directory tree as a pax stream (mdk-pack, commit,
 * save, export). Numeric owners, modes, times, symlinks, hard links,
 * devices, fifos and the extended attributes an image may carry
 * (entry_filter_xattrs: overlay's private ones never leave). Mounts below the
 * tree are not entered. Holes are written as zeros.
 *
 * PACK_LAYER reads the tree as an overlay layer (a container's upperdir, a
 * chains/ layer) and writes an image layer: a whiteout (character device
 * 0/0) becomes an empty file .wh.NAME, an opaque directory
 * (trusted.overlay.opaque=y) is followed by its .wh..wh..opq.
 *
 * The tree is read from inside: the caller chroots to it first when it is
 * hostile (a container's), so that no symlink swapped in while it is read
 * leads out of it. */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <nettle/sha2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "mdk.h"

struct out {
	int fd;
	struct sha256_ctx h;
	uint64_t size;
};

static la_ssize_t out_write(struct archive *a, void *arg, const void *buf, size_t n)
{
	struct out *o = arg;
	size_t off = 0;

	while (off < n) {
		ssize_t w = write(o->fd, (const char *)buf + off, n - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			archive_set_error(a, errno, "write: %s", strerror(errno));
			return -1;
		}
		off += (size_t)w;
	}
	sha256_update(&o->h, n, buf);
	o->size += n;
	return (la_ssize_t)n;
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
		while (pos < upto) {
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

/* Is E overlay's mark of an opaque directory? (Looked at before the
 * xattrs are filtered.) */
static bool opaque_dir(struct archive_entry *e)
{
	const char *name;
	const void *v;
	size_t n;

	if (archive_entry_filetype(e) != AE_IFDIR || archive_entry_xattr_reset(e) == 0)
		return false;
	while (archive_entry_xattr_next(e, &name, &v, &n) == ARCHIVE_OK)
		if (!strcmp(name, "trusted.overlay.opaque") && n == 1 && *(const char *)v == 'y')
			return true;
	return false;
}

/* E, a whiteout, as the empty file DIR/.wh.NAME. */
static void to_whiteout(struct archive_entry *e)
{
	const char *p = archive_entry_pathname(e), *base = strrchr(p, '/');
	char *w = base ? xasprintf("%.*s/.wh.%s", (int)(base - p), p, base + 1) : xasprintf(".wh.%s", p);

	archive_entry_set_pathname(e, w);
	free(w);
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, 0644);
	archive_entry_set_rdev(e, 0);
	archive_entry_set_size(e, 0);
	archive_entry_xattr_clear(e);
}

/* DIR/.wh..wh..opq for the opaque directory E. */
static int write_opaque(struct archive *out, struct archive_entry *dir)
{
	struct archive_entry *m = archive_entry_new();
	const char *d = archive_entry_pathname(dir);
	size_t n = strlen(d);
	char *p;
	int r;

	while (n > 1 && d[n - 1] == '/')	/* (the writer may add one) */
		n--;
	p = xasprintf("%.*s/.wh..wh..opq", (int)n, d);
	if (!m)
		die("out of memory");
	archive_entry_set_pathname(m, p);
	archive_entry_set_filetype(m, AE_IFREG);
	archive_entry_set_perm(m, 0644);
	archive_entry_set_mtime(m, archive_entry_mtime(dir), 0);
	r = archive_write_header(out, m);
	archive_entry_free(m);
	free(p);
	return r < ARCHIVE_WARN ? -1 : 0;
}

int pack_tree(const char *dir, int fd, unsigned flags, struct pack_result *res, char *err, size_t errlen)
{
	struct out o = { .fd = fd };
	struct archive *disk = archive_read_disk_new(), *out = archive_write_new();
	struct archive_entry_linkresolver *links = archive_entry_linkresolver_new();
	struct archive_entry *e = archive_entry_new();
	const char *what = dir;
	int r, ret = -1;

	if (!disk || !out || !links || !e)
		die("out of memory");
	sha256_init(&o.h);
	archive_write_set_format_pax_restricted(out);
	if (flags & PACK_GZIP)
		archive_write_add_filter_gzip(out);
	/* Whole blocks, and no padding past the end: the stream's hash is the
	 * file's. */
	archive_write_set_bytes_in_last_block(out, 1);
	/* No uname/gname lookup: numeric ids only, as docker export. */
	archive_read_disk_set_symlink_physical(disk);
	archive_read_disk_set_behavior(disk, ARCHIVE_READDISK_NO_TRAVERSE_MOUNTS);
	if (archive_write_open(out, &o, NULL, out_write, NULL) != ARCHIVE_OK) {
		snprintf(err, errlen, "%s", archive_error_string(out));
		goto done;
	}
	if (archive_read_disk_open(disk, dir) != ARCHIVE_OK) {
		snprintf(err, errlen, "%s: %s", dir, archive_error_string(disk));
		goto done;
	}
	/* Hard links: the first name carries the data, the others link to it. */
	archive_entry_linkresolver_set_strategy(links, archive_format(out));
	while ((r = archive_read_next_header2(disk, e)) != ARCHIVE_EOF) {
		struct archive_entry *w = e, *spare = NULL;
		bool opaque = false;

		if (r < ARCHIVE_WARN) {
			snprintf(err, errlen, "%s: %s", dir, archive_error_string(disk));
			goto done;
		}
		archive_read_disk_descend(disk);
		archive_entry_set_uname(e, NULL);
		archive_entry_set_gname(e, NULL);
		if (flags & PACK_LAYER) {
			opaque = opaque_dir(e);
			if (archive_entry_filetype(e) == AE_IFCHR && archive_entry_rdev(e) == makedev(0, 0))
				to_whiteout(e);
		}
		entry_filter_xattrs(e);
		archive_entry_linkify(links, &w, &spare);
		if (!w)
			continue;
		what = archive_entry_pathname(w);
		if (archive_write_header(out, w) < ARCHIVE_WARN)
			goto lib_error;
		if (archive_entry_size(w) > 0 && !archive_entry_hardlink(w) &&
		    copy_file(disk, out, archive_entry_size(w)) < 0)
			goto lib_error;
		if (opaque && write_opaque(out, w) < 0)
			goto lib_error;
	}
	if (archive_write_close(out) != ARCHIVE_OK)
		goto lib_error;
	if (res) {
		uint8_t d[SHA256_DIGEST_SIZE];
		sha256_digest(&o.h, sizeof(d), d);
		memcpy(res->digest, "sha256:", 7);
		for (size_t i = 0; i < sizeof(d); i++)
			snprintf(res->digest + 7 + 2 * i, 3, "%02x", d[i]);
		res->size = o.size;
	}
	ret = 0;
	goto done;
lib_error:
	snprintf(err, errlen, "%s: %s", what,
		 archive_error_string(out) ? archive_error_string(out) :
		 archive_error_string(disk) ? archive_error_string(disk) : "failed");
done:
	archive_entry_free(e);
	archive_entry_linkresolver_free(links);
	archive_read_free(disk);
	archive_write_free(out);
	return ret;
}
