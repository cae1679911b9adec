/* libFuzzer target: an image's /etc/passwd or /etc/group as mdk-run -u
 * reads it (src/proc.c db_find_in), against a reference model: the first
 * line whose name (field 0) or id (field 2) is the key, fields split at
 * ':', each cut at 255 bytes, a line ending at '\n' (its content at a NUL).
 * The key is the input's first line; the rest is the file. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mdk.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool model(const char *text, size_t size, const char *key, char fields[7][256])
{
	const char *end = text + size;

	for (const char *line = text; line < end;) {
		const char *nl = memchr(line, '\n', (size_t)(end - line));
		const char *le = nl ? nl : end;
		const char *nul = memchr(line, 0, (size_t)(le - line));
		const char *p = line, *ce = nul ? nul : le;
		for (int i = 0; i < 7; i++) {
			const char *c = memchr(p, ':', (size_t)(ce - p));
			size_t n = (size_t)((c ? c : ce) - p);
			snprintf(fields[i], 256, "%.*s", (int)n, p);
			p += n + (c != NULL);
		}
		if (!strcmp(fields[0], key) || !strcmp(fields[2], key))
			return true;
		line = le + 1;
	}
	return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nl = memchr(data, '\n', size);
	char key[256], got[7][256], want[7][256];

	if (!nl || memchr(data, 0, (size_t)(nl - data)))
		return 0;
	snprintf(key, sizeof(key), "%.*s", (int)(nl - data), (const char *)data);
	const char *text = (const char *)nl + 1;
	size_t n = size - (size_t)(nl - data) - 1;
	FILE *f = fmemopen((void *)text, n ? n : 1, "r");
	if (!f)
		return 0;
	if (!n)
		fgetc(f);	/* an empty file: fmemopen wants at least one byte */
	bool g = db_find_in(f, key, got), w = model(text, n, key, want);
	fclose(f);
	if (g != w)
		abort();
	for (int i = 0; g && i < 7; i++)
		if (strcmp(got[i], want[i]))
			abort();
	return 0;
}
