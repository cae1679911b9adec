/* mdk-version: print the version of mdk and of the libraries built in.
 *
 * usage: mdk-version   (also: mdk --version)
 *
 * Prints mdk's version, libarchive's version with its compression libraries,
 * and the archive formats and filters this binary reads.
 * Exit codes: 0 ok, 2 usage error. */
#include <archive.h>
#include <stdio.h>

#include "mdk.h"

const char version_usage[] =
	"usage: mdk-version\n"
	"Print mdk's version, libarchive's version and the formats/filters built in.\n"
	"Exit codes: 0 ok, 2 usage error.\n";

int version_main(int argc, char **argv)
{
	if (argc > 1)
		usage_die("unexpected argument '%s'", argv[1]);
	printf("mdk %s\n%s\nformats: tar (ustar, pax, gnu)\nfilters: none gzip bzip2 xz zstd\n",
	       MDK_VERSION, archive_version_details());
	return 0;
}
