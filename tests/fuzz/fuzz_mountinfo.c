/* libFuzzer target: the mount point field of /proc/self/mountinfo lines
 * (src/mount.c mountinfo_mountpoint, with its \ooo unescaping). First byte
 * even: the input is mountinfo text, parsed line by line as mounts_under
 * does. Odd: the input is a path, escaped as the kernel escapes it (' ',
 * '\t', '\n', '\\' as \ooo) into a line that must parse back to it. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mdk.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void parse_lines(const uint8_t *data, size_t size)
{
	char *buf = malloc(size + 1);

	memcpy(buf, data, size);
	buf[size] = 0;
	for (char *line = buf, *next; line && line < buf + size; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = 0;
		size_t len = strlen(line);
		char *copy = strdup(line);
		char *mp = mountinfo_mountpoint(copy);
		/* Within the line, and never longer than the field it came from. */
		if (mp && (mp < copy || mp + strlen(mp) > copy + len))
			abort();
		free(copy);
	}
	free(buf);
}

static void round_trip(const uint8_t *data, size_t size)
{
	char *path = strndup((const char *)data, size);	/* up to a NUL */

	if (!*path) {
		free(path);
		return;	/* the kernel never shows an empty mount point */
	}
	char *line = malloc(strlen(path) * 4 + 128), *p;

	p = line + sprintf(line, "36 35 98:0 /mnt1 ");
	for (const char *c = path; *c; c++) {
		if (*c == ' ' || *c == '\t' || *c == '\n' || *c == '\\')
			p += sprintf(p, "\\%03o", (unsigned char)*c);
		else
			*p++ = *c;
	}
	strcpy(p, " rw,noatime master:1 - ext3 /dev/root rw,errors=continue\n");
	char *mp = mountinfo_mountpoint(line);
	if (!mp || strcmp(mp, path))
		abort();
	free(line);
	free(path);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	if (data[0] & 1)
		round_trip(data + 1, size - 1);
	else
		parse_lines(data + 1, size - 1);
	return 0;
}
