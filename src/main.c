/* The dispatcher: the applet comes from basename(argv[0]) ("mdk-unpack"), or
 * from the first argument ("mdk unpack", "mdk mdk-unpack"). */
#include <errno.h>
#include <fcntl.h>
#include <locale.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "mdk.h"

static const struct applet {
	const char *name;
	int (*main)(int, char **);
	const char *usage;
} applets[] = {
#define APPLET(fn, name) { name, fn##_main, fn##_usage },
#include "applets.h"
#undef APPLET
};

#define NAPPLETS (sizeof(applets) / sizeof(*applets))

static const struct applet *find_applet(const char *name)
{
	for (size_t i = 0; i < NAPPLETS; i++) {
		const char *a = applets[i].name;
		/* "unpack" is accepted for "mdk-unpack". */
		if (!strcmp(name, a) || !strcmp(name, a + 4))
			return &applets[i];
	}
	return NULL;
}

static void list_applets(FILE *f)
{
	for (size_t i = 0; i < NAPPLETS; i++)
		fprintf(f, "%s\n", applets[i].name);
}


int main(int argc, char **argv)
{
	const char *base = argc > 0 ? strrchr(argv[0], '/') : NULL;
	const struct applet *a;

	mdk_argv = argv;
	/* A closed 0, 1 or 2 would be taken by the next open() and written
	 * to as if it were stdout (busybox's bb_sanitize_stdio). */
	for (int fd = 0; fd < 3; fd++)
		if (fcntl(fd, F_GETFD) < 0 && errno == EBADF && open("/dev/null", O_RDWR) != fd)
			return 125;
	base = base ? base + 1 : (argc > 0 ? argv[0] : "mdk");
	/* libarchive is built without iconv: a UTF-8 C locale keeps non-ASCII
	 * names byte-exact and quiet. */
	setlocale(LC_CTYPE, "C.UTF-8");

	if (strcmp(base, "mdk") != 0 && strncmp(base, "mdk-", 4) == 0) {
		/* Called through a link: mdk-unpack ... */
	} else {
		if (argc < 2) {
			printf("usage: mdk APPLET [ARG]... | mdk-APPLET [ARG]... | mdk --list | mdk --version\n"
			       "applets:\n");
			list_applets(stdout);
			return 0;
		}
		if (!strcmp(argv[1], "--list")) {
			list_applets(stdout);
			return 0;
		}
		if (!strcmp(argv[1], "--version"))
			argv[1] = "version";
		if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
			printf("usage: mdk APPLET [ARG]...  (mdk APPLET --help for one applet)\napplets:\n");
			list_applets(stdout);
			return 0;
		}
		base = argv[1];
		argc--, argv++;
	}
	if (!(a = find_applet(base))) {
		fprintf(stderr, "mdk: applet not found: %s\n", base);
		return 127;
	}
	applet_name = a->name;
	err_front_end();
	if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		fputs(a->usage, stdout);
		return 0;
	}
	return a->main(argc, argv);
}
