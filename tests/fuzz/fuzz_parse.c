/* libFuzzer target: the strict number, size and name parsers (src/parse.c),
 * each against a plain reference model of its rules. The first byte picks
 * the parser (and parse_uint's bounds); the rest is the string. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mdk.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Decimal digits to a value, or -1 on overflow of 64 bits. */
static int model_digits(const char *s, size_t n, unsigned __int128 *v)
{
	*v = 0;
	for (size_t i = 0; i < n; i++) {
		*v = *v * 10 + (unsigned)(s[i] - '0');
		if (*v > UINT64_MAX)
			return -1;
	}
	return 0;
}

static void check_uint(const char *s, uint64_t min, uint64_t max)
{
	size_t n = strspn(s, "0123456789");
	unsigned __int128 v;
	uint64_t out = 12345;
	int want_errno = 0, r;

	if (!n || s[n])
		want_errno = EINVAL;
	else if (model_digits(s, n, &v) < 0 || v < min || v > max)
		want_errno = ERANGE;
	errno = 0;
	r = parse_uint(s, min, max, &out);
	if (want_errno ? (r != -1 || errno != want_errno) : (r != 0 || out != (uint64_t)v))
		abort();
	if (want_errno && out != 12345)
		abort();	/* nothing written on failure */
}

static void check_size(const char *s)
{
	size_t n = strspn(s, "0123456789");
	const char *u = s + n, *units = "bkmgt", *at;
	unsigned __int128 v = 0;
	unsigned shift = 0;
	int want_errno = 0;
	uint64_t out = 12345;

	if (!n) {
		want_errno = EINVAL;
	} else if (*u) {
		/* one unit letter (either case), then an optional b after k/m/g/t */
		at = *u >= 'A' && *u <= 'Z' ? strchr(units, *u - 'A' + 'a') : strchr(units, *u);
		if (!at || !*at)
			want_errno = EINVAL;
		else {
			shift = 10 * (unsigned)(at - units);
			u++;
			if (shift && (*u == 'b' || *u == 'B'))
				u++;
			if (*u)
				want_errno = EINVAL;
		}
	}
	if (!want_errno && (model_digits(s, n, &v) < 0 || (v << shift) > UINT64_MAX))
		want_errno = ERANGE;
	errno = 0;
	int r = parse_size(s, &out);
	if (want_errno ? (r != -1 || errno != want_errno) : (r != 0 || out != (uint64_t)(v << shift)))
		abort();
}

static void check_name(const char *s)
{
	size_t n = strlen(s);
	bool want = n >= 1 && n <= MDK_NAME_MAX && ((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= '0' && s[0] <= '9'));

	for (size_t i = 0; want && i < n; i++)
		want = (s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '.' ||
		       s[i] == '_' || s[i] == '-';
	if (valid_name(s) != want)
		abort();
	/* What passes is safe as a path component and an overlay option. */
	if (want && (strchr(s, '/') || !strcmp(s, "..") || s[strcspn(s, ",:\\\n ")]))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint64_t bounds[][2] = {
		{ 0, UINT64_MAX }, { 1, 4194304 }, { 2, 262144 }, { 0, UINT32_MAX - 1 }, { 5, 5 },
	};
	char *s;

	if (size < 1)
		return 0;
	s = malloc(size);
	memcpy(s, data + 1, size - 1);
	s[size - 1] = 0;
	switch (data[0] % 3) {
	case 0: {
		const uint64_t *b = bounds[(data[0] / 3) % (sizeof(bounds) / sizeof(*bounds))];
		check_uint(s, b[0], b[1]);
		break;
	}
	case 1: check_size(s); break;
	case 2: check_name(s); break;
	}
	free(s);
	return 0;
}
