/* Switching into a container root: the one implementation shared by
 * mdk-pivot and mdk-run. Runs in a mount namespace of its own; each step
 * that fails is named in R->err. */
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <linux/mount.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "mdk.h"

static int step_fail(struct rootfs *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int step_fail(struct rootfs *r, const char *fmt, ...)
{
	int e = errno;
	size_t n;
	va_list ap;

	va_start(ap, fmt);
	n = (size_t)vsnprintf(r->err, sizeof(r->err), fmt, ap);
	va_end(ap);
	if (e && n < sizeof(r->err))
		snprintf(r->err + n, sizeof(r->err) - n, ": %s", strerror(e));
	errno = e;
	return -1;
}

/* A detached copy of the mount tree at the host path SRC, with ATTR
 * (MOUNT_ATTR_*) set on every mount in it before it is attached anywhere:
 * the flags go on the mount itself, never on a path looked up again. */
static int clone_tree(const char *src, uint64_t attr)
{
	struct mount_attr ma = { .attr_set = attr };
	int fd = (int)syscall(SYS_open_tree, AT_FDCWD, src, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE);

	if (fd < 0 || !attr)
		return fd;
	if (syscall(SYS_mount_setattr, fd, "", AT_EMPTY_PATH | AT_RECURSIVE, &ma, sizeof(ma)) < 0) {
		int e = errno;
		close(fd);
		return errno = e, -1;
	}
	return fd;
}

static int attach_tree(int tree, int dirfd, const char *path)
{
	return (int)syscall(SYS_move_mount, tree, "", dirfd, path,
			    MOVE_MOUNT_F_EMPTY_PATH | (*path ? 0 : MOVE_MOUNT_T_EMPTY_PATH));
}

static const char *needs_new_api(void)
{
	return errno == ENOSYS ? " (needs Linux 5.12: open_tree, mount_setattr, move_mount)" : "";
}

/* Bind-mount the host path SRC onto DST inside the new root: the target is
 * resolved once, inside the root, and the copy of SRC carries its flags
 * (nodev, read-only) before it is moved there. */
static int bind_volume(struct rootfs *r, int rootfd, const struct volume *v)
{
	uint64_t attr = (r->privileged ? 0 : MOUNT_ATTR_NODEV) | (v->ro ? MOUNT_ATTR_RDONLY : 0);
	struct stat st, rst;
	int tree, target = -1;

	if ((tree = clone_tree(v->src, attr)) < 0)
		return step_fail(r, "volume '%s': bind '%s'%s", v->dst, v->src, needs_new_api());
	if (fstat(tree, &st) < 0 || fstat(rootfd, &rst) < 0) {
		step_fail(r, "volume '%s': stat '%s'", v->dst, v->src);
		goto fail;
	}
	if ((target = mkpath_in_root(rootfd, v->dst, !S_ISDIR(st.st_mode))) < 0) {
		step_fail(r, "volume '%s': make its target in the container", v->dst);
		goto fail;
	}
	/* Over "/" (say, through a symlink to it) it would hide the root. */
	if (fstat(target, &st) < 0) {
		step_fail(r, "volume '%s': stat its target", v->dst);
		goto fail;
	}
	if (st.st_dev == rst.st_dev && st.st_ino == rst.st_ino) {
		errno = 0;
		step_fail(r, "volume '%s': refusing a target that is the container's root", v->dst);
		goto fail;
	}
	if (attach_tree(tree, target, "") < 0) {
		step_fail(r, "volume: bind mount '%s' on '%s'", v->src, v->dst);
		goto fail;
	}
	close(target);
	close(tree);
	return 0;
fail:
	if (target >= 0)
		close(target);
	close(tree);
	return -1;
}

/* proc, sys and dev must be real directories of the image: a symlink there
 * would aim our mounts at the host. Missing ones are created. */
static int check_mount_dirs(struct rootfs *r, int rootfd)
{
	static const char *const dirs[] = { "proc", "sys", "dev" };
	struct stat st;

	for (size_t i = 0; i < 3; i++) {
		if (fstatat(rootfd, dirs[i], &st, AT_SYMLINK_NOFOLLOW) < 0) {
			if (errno != ENOENT || mkdirat(rootfd, dirs[i], 0755) < 0)
				return step_fail(r, "check '%s/%s'", r->root, dirs[i]);
			continue;
		}
		if (!S_ISDIR(st.st_mode)) {
			errno = 0;
			return step_fail(r, "refusing rootfs '%s': '%s' is %s", r->root, dirs[i],
					 S_ISLNK(st.st_mode) ? "a symlink, not a directory" : "not a directory");
		}
	}
	return 0;
}

struct node { const char *name; mode_t mode; unsigned maj, min; };

static int setup_dev(struct rootfs *r)
{
	static const struct node nodes[] = {
		{ "null", S_IFCHR | 0666, 1, 3 }, { "zero", S_IFCHR | 0666, 1, 5 },
		{ "full", S_IFCHR | 0666, 1, 7 }, { "random", S_IFCHR | 0666, 1, 8 },
		{ "urandom", S_IFCHR | 0666, 1, 9 }, { "tty", S_IFCHR | 0666, 5, 0 },
	};
	static const char *const links[][2] = {
		{ "fd", "/proc/self/fd" }, { "stdin", "/proc/self/fd/0" },
		{ "stdout", "/proc/self/fd/1" }, { "stderr", "/proc/self/fd/2" },
		{ "ptmx", "pts/ptmx" }, { "core", "/proc/kcore" },
	};

	/* A fresh tmpfs: never the image's own device nodes. */
	if (mount("tmpfs", "/dev", "tmpfs", MS_NOSUID | MS_STRICTATIME, "mode=755,size=65536k") < 0)
		return step_fail(r, "mount tmpfs on /dev");
	mode_t old = umask(0);
	for (size_t i = 0; i < sizeof(nodes) / sizeof(*nodes); i++) {
		char p[32];
		snprintf(p, sizeof(p), "/dev/%s", nodes[i].name);
		if (mknod(p, nodes[i].mode, makedev(nodes[i].maj, nodes[i].min)) < 0) {
			umask(old);
			return step_fail(r, "mknod %s", p);
		}
	}
	umask(old);
	for (size_t i = 0; i < sizeof(links) / sizeof(*links); i++) {
		char p[32];
		snprintf(p, sizeof(p), "/dev/%s", links[i][0]);
		if (!r->privileged && !strcmp(links[i][0], "core"))
			continue;
		if (symlink(links[i][1], p) < 0)
			return step_fail(r, "symlink %s", p);
	}
	if (mkdir("/dev/pts", 0755) < 0 || mkdir("/dev/shm", 01777) < 0 || mkdir("/dev/mqueue", 0755) < 0)
		return step_fail(r, "mkdir in /dev");
	if (mount("devpts", "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC,
		  "newinstance,ptmxmode=0666,mode=0620,gid=5") < 0)
		return step_fail(r, "mount devpts on /dev/pts");
	if (mount("shm", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=1777,size=65536k") < 0)
		return step_fail(r, "mount tmpfs on /dev/shm");
	if (r->new_ipc && mount("mqueue", "/dev/mqueue", "mqueue", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
		return step_fail(r, "mount mqueue on /dev/mqueue");
	return 0;
}

/* runc's defaults: what a container must not see or change in /proc, /sys. */
static int mask_paths(struct rootfs *r)
{
	static const char *const masked[] = {
		"/proc/acpi", "/proc/asound", "/proc/interrupts", "/proc/kcore", "/proc/keys",
		"/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats",
		"/proc/sched_debug", "/proc/scsi", "/sys/firmware", "/sys/devices/virtual/powercap",
	};
	static const char *const readonly[] = {
		"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger",
	};
	struct stat st;

	for (size_t i = 0; i < sizeof(masked) / sizeof(*masked); i++) {
		const char *p = masked[i];
		if (lstat(p, &st) < 0)
			continue;	/* not on this kernel */
		if (S_ISDIR(st.st_mode) ? mount("tmpfs", p, "tmpfs", MS_RDONLY, "size=0") < 0
					: mount("/dev/null", p, NULL, MS_BIND, NULL) < 0)
			return step_fail(r, "mask %s", p);
	}
	for (size_t i = 0; i < sizeof(readonly) / sizeof(*readonly); i++) {
		const char *p = readonly[i];
		if (lstat(p, &st) < 0)
			continue;
		if (mount(p, p, NULL, MS_BIND | MS_REC, NULL) < 0 ||
		    mount(NULL, p, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
			  NULL) < 0)
			return step_fail(r, "make %s read-only", p);
	}
	return 0;
}

int rootfs_enter(struct rootfs *r)
{
	struct statfs sfs;
	int rootfd;

	r->err[0] = 0;
	/* First, so nothing below can propagate to the host (a shared "/" on
	 * systemd hosts would also make pivot_root fail). */
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return step_fail(r, "make / private (mount --make-rprivate /%s)",
				 errno == EINVAL ? "; in a chroot, / must be a mount point" : "");
	/* pivot_root needs a mount point: a copy of the root's mount tree,
	 * nodev before it is attached (device nodes in the root, a plain
	 * directory, must not open the host's devices: only our /dev has
	 * working nodes), moved onto the root itself. */
	if ((rootfd = clone_tree(r->root, r->privileged ? 0 : MOUNT_ATTR_NODEV)) < 0)
		return step_fail(r, "open rootfs '%s'%s", r->root, needs_new_api());
	if (check_mount_dirs(r, rootfd) < 0)
		goto fail;
	if (attach_tree(rootfd, AT_FDCWD, r->root) < 0) {
		step_fail(r, "bind mount rootfs '%s' on itself", r->root);
		goto fail;
	}
	for (size_t i = 0; i < r->nvolumes; i++)
		if (bind_volume(r, rootfd, &r->volumes[i]) < 0)
			goto fail;
	/* The canonical sequence (crun, runc): pivot to "." and detach the old
	 * root stacked beneath the new one, without a put_old directory. */
	if (fchdir(rootfd) < 0) {
		step_fail(r, "chdir into '%s'", r->root);
		goto fail;
	}
	if (syscall(SYS_pivot_root, ".", ".") == 0) {
		if (umount2(".", MNT_DETACH) < 0) {
			step_fail(r, "detach the old root");
			goto fail;
		}
	} else if (errno == EINVAL) {
		/* The initramfs cannot be pivoted away from (EINVAL): move the
		 * new root over "/" and chroot, as switch_root does. The old root
		 * stays beneath, unreachable by path; the caller drops
		 * CAP_SYS_CHROOT so a chroot escape cannot reach it either. */
		if (mount(".", "/", NULL, MS_MOVE, NULL) < 0 || chroot(".") < 0) {
			step_fail(r, "pivot_root failed; move '%s' onto / and chroot", r->root);
			goto fail;
		}
		r->chrooted = true;
	} else {
		step_fail(r, "pivot_root into '%s'", r->root);
		goto fail;
	}
	close(rootfd);
	if (chdir("/") < 0)
		return step_fail(r, "chdir to the new /");

	if (mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
		return step_fail(r, "mount proc on /proc");
	/* Before anything reads or writes through /proc: is it procfs? */
	if (statfs("/proc", &sfs) < 0 || sfs.f_type != PROC_SUPER_MAGIC) {
		errno = 0;
		return step_fail(r, "/proc is not procfs after mounting it");
	}
	if (setup_dev(r) < 0)
		return -1;
	if (mount("sysfs", "/sys", "sysfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
		return step_fail(r, "mount sysfs on /sys (read-only)");
	if (!r->privileged && mask_paths(r) < 0)
		return -1;
	return 0;
fail:
	close(rootfd);
	return -1;
}
