/* libFuzzer target: an image's /etc/passwd or /etc/group as mdk-run -u
 * reads it (src/proc.c db_find), against a reference model: the first
 * line whose name (field 0) or id (field 2) is the key, fields split at
 * ':', a line ending at '\n', the text at its first NUL.
 * The key is the input's first line; the rest is the file. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mdk.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The model: the text ends at its first NUL (the file is read as a C
 * string); lines end at '\n'; fields split at ':', 7 of them, missing ones
 * empty. */
static bool model(const char *text, const char *key, char *fields[7])
{
	for (const char *line = text; *line;) {
		const char *le = line + strcspn(line, "\n"), *p = line;
		for (int i = 0; i < 7; i++) {
			size_t n = strcspn(p, ":\n");
			if (p + n > le)
				n = (size_t)(le - p);
			fields[i] = strndup(p, n);
			p += n + (p + n < le && p[n] == ':');
		}
		if (!strcmp(fields[0], key) || !strcmp(fields[2], key))
			return true;
		for (int i = 0; i < 7; i++)
			free(fields[i]);
		if (!*le)
			break;
		line = le + 1;
	}
	return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nl = memchr(data, '\n', size);
	char key[256], *db, *want[7];
	const char *got[7];

	if (!nl || memchr(data, 0, (size_t)(nl - data)))
		return 0;
	snprintf(key, sizeof(key), "%.*s", (int)(nl - data), (const char *)data);
	size_t n = size - (size_t)(nl - data) - 1;
	db = malloc(n + 1);
	memcpy(db, nl + 1, n);
	db[n] = 0;
	bool w = model(db, key, want), g = db_find(db, key, got);
	if (g != w)
		abort();
	for (int i = 0; w && i < 7; i++) {
		if (strcmp(got[i], want[i]))
			abort();
		free(want[i]);
	}
	free(db);
	return 0;
}
