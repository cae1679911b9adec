/* Switching into a container root: the one implementation shared by
 * mdk-pivot and mdk-run. Runs in a mount namespace of its own; each step
 * that fails is named in R->err. */
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
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

/* Open PATH inside the tree at ROOTFD as if ROOTFD were "/": symlinks and
 * ".." cannot leave it (openat2 RESOLVE_IN_ROOT, Linux 5.6). */
static int open_in_root(int rootfd, const char *path, int flags)
{
	struct open_how how = { .flags = (uint64_t)(flags | O_CLOEXEC),
				.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS };
	return (int)syscall(SYS_openat2, rootfd, path, &how, sizeof(how));
}

/* Make PATH (inside ROOTFD) exist as a directory, or as a file when FILE,
 * creating missing components; return an O_PATH fd on it. */
static int mkpath_in_root(int rootfd, const char *path, bool file)
{
	char comp[256];
	int fd = open_in_root(rootfd, path, O_PATH);

	if (fd >= 0 || errno != ENOENT)
		return fd;
	if ((fd = dup(rootfd)) < 0)
		return -1;
	for (const char *p = path; *p;) {
		size_t n;
		int next;

		p += strspn(p, "/");
		n = strcspn(p, "/");
		if (!n)
			break;
		if (n >= sizeof(comp)) {
			close(fd);
			return errno = ENAMETOOLONG, -1;
		}
		memcpy(comp, p, n);
		comp[n] = 0;
		p += n;
		bool last = !p[strspn(p, "/")];
		next = open_in_root(fd, comp, O_PATH);
		if (next < 0 && errno == ENOENT) {
			int r = last && file ? openat(fd, comp, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0644)
					     : mkdirat(fd, comp, 0755);
			if (r < 0 && errno != EEXIST) {
				close(fd);
				return -1;
			}
			if (last && file && r >= 0)
				close(r);
			next = open_in_root(fd, comp, O_PATH);
		}
		close(fd);
		if (next < 0)
			return -1;
		fd = next;
	}
	return fd;
}

static const char *fdpath(int fd, char buf[32])
{
	snprintf(buf, 32, "/proc/self/fd/%d", fd);
	return buf;
}

/* Remount the bind mount at FD with EXTRA flags added to those it has
 * (statvfs: a bind remount must repeat nosuid, noexec... or it fails). */
static int remount_bind(int fd, unsigned long extra)
{
	char p[32];
	struct statvfs sv;

	if (fstatvfs(fd, &sv) < 0)
		return -1;
	unsigned long fl = MS_BIND | MS_REMOUNT | extra | (sv.f_flag & ST_RDONLY ? MS_RDONLY : 0) |
			   (sv.f_flag & ST_NOSUID ? MS_NOSUID : 0) | (sv.f_flag & ST_NODEV ? MS_NODEV : 0) |
			   (sv.f_flag & ST_NOEXEC ? MS_NOEXEC : 0);
	return mount(NULL, fdpath(fd, p), NULL, fl, NULL);
}

/* Bind-mount the host path SRC onto DST inside the new root. */
static int bind_volume(struct rootfs *r, int rootfd, const struct volume *v)
{
	char p[32];
	struct stat st;
	int fd;

	if (stat(v->src, &st) < 0)
		return step_fail(r, "volume '%s': stat '%s'", v->dst, v->src);
	if ((fd = mkpath_in_root(rootfd, v->dst, !S_ISDIR(st.st_mode))) < 0)
		return step_fail(r, "volume '%s': make its target in the container", v->dst);
	if (mount(v->src, fdpath(fd, p), NULL, MS_BIND | MS_REC, NULL) < 0) {
		close(fd);
		return step_fail(r, "volume: bind mount '%s' on '%s'", v->src, v->dst);
	}
	close(fd);
	/* The new mount (reopened: the old fd is the one beneath it): nodev,
	 * and read-only if asked, keeping the flags the source had. */
	if ((fd = open_in_root(rootfd, v->dst, O_PATH)) < 0)
		return step_fail(r, "volume '%s': reopen", v->dst);
	if (remount_bind(fd, (r->privileged ? 0 : MS_NODEV) | (v->ro ? MS_RDONLY : 0)) < 0) {
		close(fd);
		return step_fail(r, "volume: remount '%s'%s", v->dst, v->ro ? " read-only" : " nodev");
	}
	close(fd);
	return 0;
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
	if ((rootfd = open(r->root, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)
		return step_fail(r, "open rootfs '%s'", r->root);
	if (check_mount_dirs(r, rootfd) < 0)
		goto fail;
	/* pivot_root needs a mount point: bind the root onto itself. */
	if (mount(r->root, r->root, NULL, MS_BIND | MS_REC, NULL) < 0) {
		step_fail(r, "bind mount rootfs '%s' on itself", r->root);
		goto fail;
	}
	close(rootfd);
	if ((rootfd = open(r->root, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)
		return step_fail(r, "reopen rootfs '%s'", r->root);
	/* Device nodes in the root itself (a plain directory) must not open
	 * the host's devices: only our /dev has working nodes. */
	if (!r->privileged && remount_bind(rootfd, MS_NODEV) < 0) {
		step_fail(r, "remount rootfs '%s' nodev", r->root);
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
