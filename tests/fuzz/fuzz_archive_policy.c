/* libFuzzer target: an image archive through libarchive's reader as
 * mdk-unpack sets it up (tar; gzip, bzip2, xz, zstd), and the entry policy
 * of src/archive.c on every entry: names, hard and symbolic link targets
 * (entry_bad_path, checked against a reference model) and extended
 * attributes (entry_filter_xattrs: afterwards only user.* and
 * security.capability remain, values intact). Each entry's data is read. */
#include <archive.h>
#include <archive_entry.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mdk.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The rules, written the obvious way: relative, no ".." component, under
 * 4096 bytes, at most 256 non-empty components. */
static bool model_ok(const char *p)
{
	int depth = 0;

	if (!p || !*p || *p == '/' || strlen(p) >= 4096)
		return false;
	char *copy = strdup(p), *save = NULL;
	bool ok = true;
	for (char *c = strtok_r(copy, "/", &save); c && ok; c = strtok_r(NULL, "/", &save))
		ok = strcmp(c, "..") && ++depth <= 256;
	free(copy);
	return ok;
}

static void check_path(const char *p)
{
	if ((entry_bad_path(p) == NULL) != model_ok(p))
		abort();
}

static bool kept(const char *name)
{
	return (!strncmp(name, "user.", 5) && strncmp(name, "user.overlay.", 13)) ||
	       !strcmp(name, "security.capability");
}

static void check_xattrs(struct archive_entry *e)
{
	struct { char *name; void *v; size_t n; } want[64];
	size_t nwant = 0, before = 0, after = 0;
	const char *name;
	const void *v;
	size_t n;

	archive_entry_xattr_reset(e);
	while (archive_entry_xattr_next(e, &name, &v, &n) == ARCHIVE_OK) {
		before++;
		if (kept(name) && nwant < 64) {
			want[nwant].name = strdup(name);
			want[nwant].v = malloc(n ? n : 1);
			memcpy(want[nwant].v, v, n);
			want[nwant++].n = n;
		}
	}
	entry_filter_xattrs(e);
	/* Only allowed names, each with a value it came with (in any order:
	 * libarchive adds at the front). */
	bool used[64] = { false };
	archive_entry_xattr_reset(e);
	while (archive_entry_xattr_next(e, &name, &v, &n) == ARCHIVE_OK) {
		size_t i = 0;
		while (i < nwant && (used[i] || strcmp(name, want[i].name) || n != want[i].n ||
				     (n && memcmp(v, want[i].v, n))))
			i++;
		if (!kept(name) || i == nwant)
			abort();
		used[i] = true;
		after++;
	}
	/* Up to 32 kept attributes: all of them (none dropped silently). */
	if (after != nwant && nwant <= 32)
		abort();
	for (size_t i = 0; i < nwant; i++) {
		free(want[i].name);
		free(want[i].v);
	}
	(void)before;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct archive *in = archive_read_new();
	struct archive_entry *e;
	const void *buf;
	size_t n;
	int64_t off;

	if (!in || image_reader_setup(in) < 0)
		abort();
	if (archive_read_open_memory(in, data, size) == ARCHIVE_OK) {
		for (int i = 0; i < 1000 && archive_read_next_header(in, &e) == ARCHIVE_OK; i++) {
			check_path(archive_entry_pathname(e));
			if (archive_entry_hardlink(e))
				check_path(archive_entry_hardlink(e));
			if (archive_entry_symlink(e))
				check_path(archive_entry_symlink(e));
			check_xattrs(e);
			while (archive_read_data_block(in, &buf, &n, &off) == ARCHIVE_OK)
				;
		}
	}
	archive_read_free(in);
	return 0;
}
