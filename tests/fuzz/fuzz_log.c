/* libFuzzer target: the container log writer (src/log.c), fed what a
 * container writes, against a model. The input is cut into chunks (each
 * chunk's first byte: its length and its stream), written as mdk-run
 * writes them, each stream ended at the end. Then every record must have
 * the CRI form, and joining each stream's records (P: a part, F: a line's
 * end) must give back what was written, plus the newline that ends a
 * last line left open. A small size cap makes the log rotate: FILE.1 and
 * FILE together are read, and nothing may be lost before FILE.1's start. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mdk.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char *slurp(const char *path, size_t *n)
{
	FILE *f = fopen(path, "r");
	char *b = NULL;

	*n = 0;
	if (!f)
		return calloc(1, 1);
	size_t cap = 0;
	for (;;) {
		if (*n + 65536 + 1 > cap && !(b = realloc(b, cap = (*n + 65536 + 1) * 2)))
			abort();
		size_t k = fread(b + *n, 1, 65536, f);
		*n += k;
		if (k == 0)
			break;
	}
	fclose(f);
	b[*n] = 0;
	return b;
}

/* Check every record, rebuild the stream STREAM ("stdout"/"stderr"). */
static char *rebuild(const char *log, size_t n, const char *stream, size_t *out)
{
	char *r = malloc(n + 1);
	const char *end = log + n;

	*out = 0;
	for (const char *l = log; l < end;) {
		const char *nl = memchr(l, '\n', (size_t)(end - l));
		if (!nl)
			abort();	/* a record without its newline */
		/* 2026-11-30T05:21:54.943603461Z stdout F msg */
		if (nl - l < 40 || l[4] != '-' || l[10] != 'T' || l[19] != '.' || l[29] != 'Z' || l[30] != ' ')
			abort();
		const char *s = l + 31;
		if (strncmp(s, "stdout ", 7) && strncmp(s, "stderr ", 7))
			abort();
		if ((s[7] != 'F' && s[7] != 'P') || s[8] != ' ')
			abort();
		if (!strncmp(s, stream, 6)) {
			memcpy(r + *out, s + 9, (size_t)(nl - s - 9));
			*out += (size_t)(nl - s - 9);
			if (s[7] == 'F')
				r[(*out)++] = '\n';
		}
		l = nl + 1;
	}
	return r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char path[64];
	struct ctr_log l;
	char *want[2];
	size_t wn[2] = { 0, 0 };

	if (!*path)
		snprintf(path, sizeof(path), "/tmp/fuzz_log.%d", (int)getpid());
	unlink(path);
	char old[80];
	snprintf(old, sizeof(old), "%s.1", path);
	unlink(old);
	/* A cap of 4 KiB rotates often; the model then checks a tail. */
	bool small = size > 0 && data[0] & 1;
	if (log_open(&l, path, small ? 4096 : 1LL << 40) < 0)
		abort();
	want[0] = malloc(size + 2);
	want[1] = malloc(size + 2);
	for (size_t i = small ? 1 : 0; i < size;) {
		size_t k = data[i] >> 1, s = data[i] & 1;
		i++;
		k = k * 257 % LOG_READ + 1;	/* up to a whole read */
		if (k > size - i)
			k = size - i;
		log_write(&l, (int)s, (const char *)data + i, k);
		memcpy(want[s] + wn[s], data + i, k);
		wn[s] += k;
		i += k;
	}
	for (int s = 0; s < 2; s++) {
		log_write(&l, s, "", 0);
		if (wn[s] && want[s][wn[s] - 1] != '\n')
			want[s][wn[s]++] = '\n';
	}
	log_close(&l);

	size_t n1, n2;
	char *a = slurp(old, &n1), *b = slurp(path, &n2), *all = malloc(n1 + n2 + 1);
	memcpy(all, a, n1);
	memcpy(all + n1, b, n2);
	if (small && n2 > 4096 + LOG_READ + 128)
		abort();	/* past the cap by more than one record */
	for (int s = 0; s < 2; s++) {
		size_t got;
		char *r = rebuild(all, n1 + n2, s ? "stderr" : "stdout", &got);
		/* Rotated away: what is left is the stream's tail. */
		if (got > wn[s] || memcmp(r, want[s] + wn[s] - got, got))
			abort();
		if (!small && got != wn[s])
			abort();
		free(r);
	}
	free(a), free(b), free(all), free(want[0]), free(want[1]);
	unlink(path);
	unlink(old);
	return 0;
}
