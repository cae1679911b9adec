/* mdk-version: print the version of mdk and of the libraries built in.
 *
 * usage: mdk-version   (also: mdk --version)
 *
 * Prints mdk's version, libarchive's version with its compression libraries,
 * the archive formats and filters this binary reads, and the Debian source
 * version of every library built in (to tell whether a security fix is in).
 * Exit codes: 0 ok, 2 usage error. */
#include <archive.h>
#include <stdio.h>

#include "deps.h"
#include "mdk.h"

const char version_usage[] =
	"usage: mdk-version\n"
	"Print mdk's version, libarchive's version, the formats/filters built in\n"
	"and the Debian source version of every library in the binary.\n"
	"Exit codes: 0 ok, 2 usage error.\n";

int version_main(int argc, char **argv)
{
	if (argc > 1)
		usage_die("unexpected argument '%s'", argv[1]);
	printf("mdk %s\n%s\nformats: tar (ustar, pax, gnu)\nfilters: none gzip bzip2 xz zstd\n"
	       "built from Debian sources:\n%s",
	       MDK_VERSION, archive_version_details(), MDK_DEPS);
	return 0;
}
