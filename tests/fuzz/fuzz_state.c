/* libFuzzer target: a container's state file as layer_gc reads it
 * (src/layer.c state_uses_layer: is a layer version named on the
 * "layers=" line?), against a reference model: a version is in use when a
 * line starts with "layers=" and one of its space-separated words is it
 * (or, for "NAME@", begins with it: any version of NAME).
 * The version asked for is the input's first line (or a fixed one). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mdk.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool model(const char *text, size_t size, const char *version)
{
	const char *end = text + size;
	size_t vl = strlen(version);
	bool any = vl && version[vl - 1] == '@';

	for (const char *line = text; line < end;) {
		const char *nl = memchr(line, '\n', (size_t)(end - line));
		const char *le = nl ? nl : end;
		if ((size_t)(le - line) >= 7 && !memcmp(line, "layers=", 7)) {
			for (const char *w = line + 7; w < le;) {
				size_t n = 0;
				while (w + n < le && w[n] != ' ')
					n++;
				if (n && (any ? n >= vl : n == vl) && !memcmp(w, version, vl))
					return true;
				w += n + 1;
			}
		}
		line = le + 1;
	}
	return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nl = memchr(data, '\n', size);
	char version[128] = "busybox@0123456789ab";
	const char *text = (const char *)data;

	/* A NUL inside a line is not in a state file mdk-overlay-up writes,
	 * and fgets cannot see past it: not modelled. */
	if (memchr(data, 0, size))
		return 0;
	if (nl && (size_t)(nl - data) < sizeof(version) && nl > data && !memchr(data, ' ', (size_t)(nl - data))) {
		memcpy(version, data, (size_t)(nl - data));
		version[nl - data] = 0;
		text = (const char *)nl + 1;
		size -= (size_t)(nl - data) + 1;
	}
	FILE *f = fmemopen((void *)text, size ? size : 1, "r");
	if (!f)
		return 0;
	if (!size)
		fgetc(f);	/* an empty file: fmemopen wants at least one byte */
	bool got = state_uses_layer(f, version), want = model(text, size, version);
	fclose(f);
	if (got != want) {
		fprintf(stderr, "state_uses_layer('%s') = %d, want %d\n", version, got, want);
		abort();
	}
	return 0;
}
