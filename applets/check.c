/* mdk-check: validate names, numbers and sizes with mdk's own rules.
 *
 * usage: mdk-check name NAME...
 *        mdk-check size SIZE         (prints the size in bytes)
 *        mdk-check uint N [MIN MAX]  (prints N)
 *
 * For scripts (m-docker) that must check user input exactly as the applets do
 * before building a path from it. Names: [a-z0-9][a-z0-9._-]*, at most 64.
 * Sizes: digits with an optional b/k/m/g/t suffix (powers of 1024).
 * Exit codes: 0 valid, 1 invalid (with a one-line reason), 2 usage error. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "mdk.h"

const char check_usage[] =
	"usage: mdk-check name NAME...\n"
	"       mdk-check size SIZE         print SIZE (100, 64k, 64m, 1g) in bytes\n"
	"       mdk-check uint N [MIN MAX]  print N if it is a whole number in range\n"
	"Validate input by the rules the applets use: names are [a-z0-9][a-z0-9._-]*,\n"
	"at most 64 characters.\n"
	"Exit codes: 0 valid, 1 invalid, 2 usage error.\n";

int check_main(int argc, char **argv)
{
	uint64_t v, min = 0, max = UINT64_MAX;

	if (argc < 3)
		usage_die("expected a kind and a value");
	if (!strcmp(argv[1], "name")) {
		for (int i = 2; i < argc; i++) {
			if (!valid_name(argv[i]))
				die("invalid name '%s' (want [a-z0-9][a-z0-9._-]*, at most %d)",
				    argv[i], MDK_NAME_MAX);
		}
		return 0;
	}
	if (!strcmp(argv[1], "size")) {
		if (argc != 3)
			usage_die("expected one SIZE");
		if (parse_size(argv[2], &v) < 0)
			die("invalid size '%s' (%s)", argv[2], errno == ERANGE ? "too large" :
			    "want digits with an optional k, m, g or t suffix");
	} else if (!strcmp(argv[1], "uint")) {
		if (argc != 3 && argc != 5)
			usage_die("expected N or N MIN MAX");
		if (argc == 5 && (parse_uint(argv[3], 0, UINT64_MAX, &min) < 0 ||
				  parse_uint(argv[4], min, UINT64_MAX, &max) < 0))
			usage_die("invalid range '%s' '%s'", argv[3], argv[4]);
		if (parse_uint(argv[2], min, max, &v) < 0)
			die("invalid number '%s' (%s)", argv[2], errno == ERANGE ? "out of range" :
			    "want decimal digits only");
	} else {
		usage_die("unknown kind '%s'", argv[1]);
	}
	printf("%" PRIu64 "\n", v);
	return 0;
}
