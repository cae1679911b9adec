/* libFuzzer target: extract_archive (src/archive.c), the whole extraction
 * of an image archive, for real, into a scratch directory.
 *
 * Confinement as in mdk-unpack: the extraction runs chrooted into the
 * scratch directory, so nothing the archive names can reach outside it. The
 * scratch directory is a tmpfs (64 MiB, nodev, nosuid) in a mount namespace
 * of the fuzzer's own, detached from every path before the first input:
 * only the fuzzer's fds reach it. Between inputs the fuzzer leaves the
 * chroot again through an fd on the real root (root may; that is why
 * mdk-unpack's extraction holds no such fd) and empties the scratch tree.
 * Each input is extracted three times: as mdk-unpack does, then as an image
 * layer (whiteouts, implied parents) twice, the second time over the first
 * as its layer below, as mdk-load does: its lookups in the layer below then
 * walk a tree the input made. Needs root (CAP_SYS_ADMIN, CAP_SYS_CHROOT). */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mdk.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int rootfd = -1, cwdfd = -1, scratchfd = -1, memfd = -1;

static _Noreturn void setup_fail(const char *what)
{
	fprintf(stderr, "fuzz_extract: %s: %s (needs root)\n", what, strerror(errno));
	exit(1);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char dir[] = "/tmp/mdk-fuzz-extract.XXXXXX";

	if (unshare(CLONE_NEWNS) < 0)
		setup_fail("unshare a mount namespace");
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		setup_fail("make / private");
	if (!mkdtemp(dir))
		setup_fail("mkdtemp");
	if (mount("mdk-fuzz", dir, "tmpfs", MS_NODEV | MS_NOSUID, "size=64m,mode=0755") < 0)
		setup_fail("mount a tmpfs");
	if ((scratchfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		setup_fail("open the tmpfs");
	/* Reachable through scratchfd only; the host keeps no directory. */
	if (umount2(dir, MNT_DETACH) < 0 || rmdir(dir) < 0)
		setup_fail("detach the tmpfs");
	if ((rootfd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 ||
	    (cwdfd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		setup_fail("open / and .");
	if ((memfd = memfd_create("archive", MFD_CLOEXEC)) < 0)
		setup_fail("memfd_create");
	applet_name = "fuzz_extract";
	return 0;
}

/* Extract the input (in memfd) into scratch directory DIR, chrooted there:
 * an image layer when LAYER, over the layer LOWER when >= 0. */
static int extract_into(const char *dir, bool layer, int lower, size_t size)
{
	struct extract x = { .label = "fuzz", .whiteouts = layer, .lowers = &lower,
			     .nlowers = lower >= 0 };

	if (lseek(memfd, 0, SEEK_SET) < 0)
		abort();
	x.fd = memfd;
	x.total = (int64_t)size;
	if (mkdirat(scratchfd, dir, 0755) < 0) {
		perror("mkdir layer");
		abort();
	}
	int fd = openat(scratchfd, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || fchdir(fd) < 0 || chroot(".") < 0)
		abort();
	close(fd);
	int r = extract_archive(&x);
	/* Back out: the real root, then the fuzzer's own directory. */
	if (fchdir(rootfd) < 0 || chroot(".") < 0 || fchdir(cwdfd) < 0)
		abort();
	if (r == 0 && !x.entries)
		abort();	/* success means at least one entry */
	if (r < 0 && !x.err[0])
		abort();	/* every failure says why */
	if (memchr(x.err, 0, sizeof(x.err)) == NULL)
		abort();
	return r;
}

static void remove_scratch(const char *dir)
{
	if (rm_tree_nocross(scratchfd, dir) < 0) {
		perror("remove the scratch layer");
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (ftruncate(memfd, 0) < 0 || (size && pwrite(memfd, data, size, 0) != (ssize_t)size))
		abort();
	extract_into("layer", false, -1, size);
	remove_scratch("layer");
	if (extract_into("lower", true, -1, size) == 0) {
		int lower = openat(scratchfd, "lower", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (lower < 0)
			abort();
		extract_into("upper", true, lower, size);
		close(lower);
		remove_scratch("upper");
	}
	remove_scratch("lower");
	return 0;
}
