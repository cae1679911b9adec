/* mdk-rm: remove trees without ever crossing into a mount or following a
 * symlink -- rm -rf made safe for container stores.
 *
 * usage: mdk-rm PATH...
 *
 * Deletes each PATH and everything below it with an openat/unlinkat walk
 * that never follows a symlink and never enters another mount (a bind mount
 * of a host directory, a volume, /proc): it stops there, deletes nothing
 * under it, and fails. A missing PATH is not an error. PATH itself must not
 * be a mount point.
 *
 * Exit codes: 0 all removed, 1 something could not be (a mount below, an
 * error), 2 usage error. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mdk.h"

const char rm_usage[] =
	"usage: mdk-rm PATH...\n"
	"Remove each PATH and all below it; never follow a symlink, never enter a\n"
	"mount point below PATH (stop there and fail: nothing under it is touched).\n"
	"A missing PATH is fine.\n"
	"Exit codes: 0 removed, 1 failed (mount below, error), 2 usage error.\n";

int rm_main(int argc, char **argv)
{
	int ret = 0;

	if (argc < 2)
		usage_die("expected a PATH");
	for (int i = 1; i < argc; i++) {
		char *dup = xasprintf("%s", argv[i]), *slash;
		size_t n = strlen(dup);
		int dfd;

		while (n > 1 && dup[n - 1] == '/')
			dup[--n] = 0;
		slash = strrchr(dup, '/');
		const char *base = slash ? slash + 1 : dup;
		if (!*base || !strcmp(base, ".") || !strcmp(base, ".."))
			usage_die("refusing to remove '%s'", argv[i]);
		if (slash == dup)
			dfd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
		else if (slash) {
			*slash = 0;
			dfd = open(dup, O_PATH | O_DIRECTORY | O_CLOEXEC);
		} else
			dfd = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (dfd < 0) {
			if (errno == ENOENT)
				continue;
			warn_errno("open the directory of '%s'", argv[i]);
			ret = 1;
		} else if (rm_tree_nocross(dfd, base) < 0) {
			warn_errno("remove '%s'%s", argv[i], errno == EBUSY ? " (a mount point is in the way)" : "");
			ret = 1;
		}
		if (dfd >= 0)
			close(dfd);
		free(dup);
	}
	return ret;
}
