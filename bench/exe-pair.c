/* exe-pair none|plain|ro BIN: the floor of mdk-run's re-exec (issue 13), for
 * bench/run.sh. none exits at once; plain execs BIN (`BIN check name x`,
 * which exits at once); ro execs it the way exe_reexec_protected does:
 * through a detached read-only bind mount (open_tree, mount_setattr,
 * execveat; the mount dissolves at the exec). ro - none is what a run pays.
 *
 * Compiled with: musl-gcc -static -Os -o exe-pair exe-pair.c */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

/* <linux/mount.h>, which musl-gcc does not see. */
struct mount_attr { unsigned long long attr_set, attr_clr, propagation, userns_fd; };
#define MOUNT_ATTR_RO_NOSUID_NODEV 0x7
#define OPEN_TREE_CLONE 1

int main(int argc, char **argv)
{
	struct mount_attr ma = { .attr_set = MOUNT_ATTR_RO_NOSUID_NODEV };
	char *av[] = { argc > 2 ? argv[2] : "", "check", "name", "x", NULL };
	int fd;

	if (argc != 3)
		return 2;
	if (!strcmp(argv[1], "none"))
		return 0;
	if (!strcmp(argv[1], "plain"))
		execv(argv[2], av);
	else if ((fd = (int)syscall(SYS_open_tree, AT_FDCWD, argv[2], OPEN_TREE_CLONE | O_CLOEXEC)) >= 0 &&
		 syscall(SYS_mount_setattr, fd, "", AT_EMPTY_PATH, &ma, sizeof(ma)) == 0)
		syscall(SYS_execveat, fd, "", av, environ, AT_EMPTY_PATH);
	perror("exe-pair");
	return 1;
}
