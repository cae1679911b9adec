/* libFuzzer target: the container log reader's record parser (src/log.c,
 * log_parse and log_parse_time, what mdk-logs reads every line with), fed
 * any text cut into lines. A line taken as a record must point inside
 * itself (the message is the line's rest), have a stream and a time in
 * range, and its fields written back in mdk-run's canonical form must
 * parse to the same record. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mdk.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const char *line, size_t n)
{
	struct log_rec r, again;
	char *buf;
	struct tm tm;

	if (log_parse(line, n, &r) < 0)
		return;
	if (r.msg < line || r.msg + r.len != line + n || r.stream < 0 || r.stream > 1 || r.nsec < 0 ||
	    r.nsec >= 1000000000 || r.ts != line || r.tslen == 0 || r.tslen >= n)
		abort();
	/* Back in the canonical form (years 1000 to 9999: %Y does not pad). */
	time_t t = (time_t)r.sec;
	if (!gmtime_r(&t, &tm) || tm.tm_year + 1900 < 1000 || tm.tm_year + 1900 > 9999)
		return;
	buf = malloc(r.len + 64);
	size_t h = strftime(buf, 64, "%Y-%m-%dT%H:%M:%S", &tm);
	h += (size_t)snprintf(buf + h, 64 - h, ".%09ldZ %s %c ", r.nsec, r.stream ? "stderr" : "stdout",
			      r.partial ? 'P' : 'F');
	memcpy(buf + h, r.msg, r.len);
	if (log_parse(buf, h + r.len, &again) < 0 || again.sec != r.sec || again.nsec != r.nsec ||
	    again.stream != r.stream || again.partial != r.partial || again.len != r.len ||
	    memcmp(again.msg, r.msg, r.len) || again.tslen != 30)
		abort();
	free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *end = p + size;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		/* (A copy of its own: a read past the line is ASan's to see.) */
		char *line = malloc(n ? n : 1);
		memcpy(line, p, n);
		check(line, n);
		free(line);
		p += n + 1;
	}
	return 0;
}
