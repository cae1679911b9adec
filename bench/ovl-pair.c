/* ovl-pair: the syscall floor of "mdk overlay-up" + "mdk overlay-down", for
 * bench/run.sh. Built static with musl-gcc by the bench.
 *
 * usage: ovl-pair LOWER DIR
 *
 * mkdir DIR, DIR/upper, DIR/work, DIR/target; mount overlay (nodev, like
 * mdk) lowerdir=LOWER,upperdir=DIR/upper,workdir=DIR/work on DIR/target;
 * umount it; rmdir DIR/work/work (made by overlayfs) and the rest. No state
 * file, no locking, no checks beyond the syscalls' own: a lower bound. */
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

static char *cat(char *buf, size_t n, const char *dir, const char *sub)
{
	snprintf(buf, n, "%s/%s", dir, sub);
	return buf;
}

int main(int argc, char **argv)
{
	char up[4096], wk[4096], wkwk[4096], tg[4096], opts[4096 * 3];
	const char *lower, *dir;

	if (argc != 3) {
		fprintf(stderr, "usage: ovl-pair LOWER DIR\n");
		return 2;
	}
	lower = argv[1];
	dir = argv[2];
	cat(up, sizeof(up), dir, "upper");
	cat(wk, sizeof(wk), dir, "work");
	cat(wkwk, sizeof(wkwk), dir, "work/work");
	cat(tg, sizeof(tg), dir, "target");
	snprintf(opts, sizeof(opts), "lowerdir=%s,upperdir=%s,workdir=%s", lower, up, wk);
	if (mkdir(dir, 0700) < 0 || mkdir(up, 0755) < 0 || mkdir(wk, 0700) < 0 || mkdir(tg, 0755) < 0) {
		perror("ovl-pair: mkdir");
		return 1;
	}
	if (mount("overlay", tg, "overlay", MS_NODEV, opts) < 0) {
		perror("ovl-pair: mount overlay");
		return 1;
	}
	if (umount2(tg, 0) < 0) {
		perror("ovl-pair: umount");
		return 1;
	}
	if (rmdir(wkwk) < 0 || rmdir(wk) < 0 || rmdir(up) < 0 || rmdir(tg) < 0 || rmdir(dir) < 0) {
		perror("ovl-pair: rmdir");
		return 1;
	}
	return 0;
}
