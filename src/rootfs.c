/* Switching into a container root: the one implementation shared by
 * mdk-pivot and mdk-run. Runs in a mount namespace of its own; each step
 * that fails is named in R->err.
 *
 * Whoever can rename entries of the root directory while we work (a second
 * container holding it as a volume, a non-root owner of the rootfs) can
 * move a mount point -- and the mount on it -- even one of another mount
 * namespace. So nothing here looks a path of the root up twice: proc, sys
 * and dev are opened once, as directories inside the root; each filesystem
 * is made with fsopen/fsmount and moved onto that fd; what is masked or
 * read-only in it is found from the new mount's own fd (beneath it, never
 * through a symlink or into another mount); volumes come last, over all
 * of it; and after pivot_root no path is used at all. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <linux/mount.h>
#include <linux/openat2.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
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

/* A detached copy of the mount tree at PATH in DIRFD ("" for DIRFD itself),
 * with ATTR (MOUNT_ATTR_*) set on every mount in it before it is attached
 * anywhere: the flags go on the mount itself, never on a path looked up
 * again. */
int mnt_clone(int dirfd, const char *path, uint64_t attr, bool recursive)
{
	struct mount_attr ma = { .attr_set = attr };
	int fd = (int)syscall(SYS_open_tree, dirfd, path,
			      OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (recursive ? AT_RECURSIVE : 0) |
				      (*path ? 0 : AT_EMPTY_PATH));

	if (fd < 0 || !attr)
		return fd;
	if (syscall(SYS_mount_setattr, fd, "", AT_EMPTY_PATH | AT_RECURSIVE, &ma, sizeof(ma)) < 0) {
		int e = errno;
		close(fd);
		return errno = e, -1;
	}
	return fd;
}

int mnt_attach(int tree, int dirfd, const char *path)
{
	return (int)syscall(SYS_move_mount, tree, "", dirfd, path,
			    MOVE_MOUNT_F_EMPTY_PATH | (*path ? 0 : MOVE_MOUNT_T_EMPTY_PATH));
}

static const char *needs_new_api(void)
{
	return errno == ENOSYS ? " (needs Linux 5.12: open_tree, mount_setattr, move_mount)" : "";
}

/* A new instance of filesystem TYPE with OPTS ("key=value,flag,..."), as a
 * detached mount with ATTR (MOUNT_ATTR_*). */
int mnt_new(const char *type, const char *opts, unsigned attr)
{
	char buf[1024], *save, *key;
	int fs = (int)syscall(SYS_fsopen, type, FSOPEN_CLOEXEC), mnt = -1, e;

	if (fs < 0)
		return -1;
	if (strlen(opts) >= sizeof(buf)) {
		errno = E2BIG;
		goto out;
	}
	strcpy(buf, opts);
	for (key = strtok_r(buf, ",", &save); key; key = strtok_r(NULL, ",", &save)) {
		char *val = strchr(key, '=');
		if (val)
			*val++ = 0;
		if (syscall(SYS_fsconfig, fs, val ? FSCONFIG_SET_STRING : FSCONFIG_SET_FLAG, key, val, 0) < 0)
			goto out;
	}
	if (syscall(SYS_fsconfig, fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) == 0)
		mnt = (int)syscall(SYS_fsmount, fs, FSMOUNT_CLOEXEC, attr);
out:
	e = errno;
	close(fs);
	errno = e;
	return mnt;
}

/* fs_new, moved onto the directory (or file) TARGET: the new mount's fd. */
static int fs_mount_at(int target, const char *type, const char *opts, unsigned attr)
{
	int mnt = mnt_new(type, opts, attr);

	if (mnt >= 0 && mnt_attach(mnt, target, "") < 0) {
		int e = errno;
		close(mnt);
		return errno = e, -1;
	}
	return mnt;
}

/* PATH below the mount MNT, as an O_PATH fd: never above it, through a
 * symlink or into another mount. How the filesystems we have just mounted
 * (procfs, sysfs, the /dev tmpfs) are walked. */
int open_beneath(int mnt, const char *path, int flags)
{
	struct open_how how = { .flags = (uint64_t)(O_PATH | O_CLOEXEC | flags),
				.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_XDEV };
	int fd;

	do
		fd = (int)syscall(SYS_openat2, mnt, path, &how, sizeof(how));
	while (fd < 0 && errno == EAGAIN);
	return fd;
}

static const char *kernel_fs_name(int fd)
{
	struct statfs sfs;

	if (fstatfs(fd, &sfs) < 0)
		return NULL;
	return sfs.f_type == PROC_SUPER_MAGIC ? "procfs (/proc)" : sfs.f_type == SYSFS_MAGIC ? "sysfs (/sys)" : NULL;
}

/* The kernel filesystem (procfs, sysfs) that PATH in the root or one of
 * its ancestors, as resolved there, is on: so a target below a mask over
 * one of their entries counts too. NULL when none is. */
static const char *kernel_fs_of(int rootfd, const char *path)
{
	char buf[PATH_MAX];
	size_t len = strlen(path);

	if (len >= sizeof(buf))
		return NULL;
	memcpy(buf, path, len + 1);
	for (size_t i = 1; i <= len; i++) {
		if (buf[i] && buf[i] != '/')
			continue;
		char c = buf[i];
		buf[i] = 0;
		int fd = open_in_root(rootfd, buf, O_PATH);
		buf[i] = c;
		if (fd < 0)
			return NULL;	/* made below here, if at all */
		const char *name = kernel_fs_name(fd);
		close(fd);
		if (name)
			return name;
	}
	return NULL;
}

/* Attach the detached mount TREE (its flags set) onto DST inside the new
 * root, over the /dev, /proc and /sys made there: the target is resolved
 * once, inside the root. Targets on procfs or sysfs are refused: a volume
 * would lift a mask there, or could not be made (sysfs is read-only).
 * Closes TREE. */
static int attach_volume(struct rootfs *r, int rootfd, int tree, const char *dst)
{
	struct stat st, rst;
	const char *kfs;
	int target = -1;

	if (fstat(tree, &st) < 0 || fstat(rootfd, &rst) < 0) {
		step_fail(r, "volume '%s': stat it", dst);
		goto fail;
	}
	if ((kfs = kernel_fs_of(rootfd, dst))) {
		errno = 0;
		step_fail(r, "volume '%s': refusing a target on %s", dst, kfs);
		goto fail;
	}
	if ((target = mkpath_in_root(rootfd, dst, !S_ISDIR(st.st_mode))) < 0) {
		step_fail(r, "volume '%s': make its target in the container", dst);
		goto fail;
	}
	/* Over "/" (say, through a symlink to it) it would hide the root. */
	if (fstat(target, &st) < 0) {
		step_fail(r, "volume '%s': stat its target", dst);
		goto fail;
	}
	if (st.st_dev == rst.st_dev && st.st_ino == rst.st_ino) {
		errno = 0;
		step_fail(r, "volume '%s': refusing a target that is the container's root", dst);
		goto fail;
	}
	/* Again on what was resolved: the check above named a path. */
	if ((kfs = kernel_fs_name(target))) {
		errno = 0;
		step_fail(r, "volume '%s': refusing a target on %s", dst, kfs);
		goto fail;
	}
	if (mnt_attach(tree, target, "") < 0) {
		step_fail(r, "volume: mount on '%s'", dst);
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

/* A volume: the host path SRC bound (its copy made nodev, and read-only,
 * before it is moved there), or a new tmpfs. */
static int mount_volume(struct rootfs *r, int rootfd, const struct volume *v)
{
	uint64_t attr = (r->privileged ? 0 : MOUNT_ATTR_NODEV) | (v->ro ? MOUNT_ATTR_RDONLY : 0);
	int tree = v->src ? mnt_clone(AT_FDCWD, v->src, attr, true) : mnt_new("tmpfs", v->opts, v->attr);

	if (tree < 0 && v->src)
		return step_fail(r, "volume '%s': bind '%s'%s", v->dst, v->src, needs_new_api());
	if (tree < 0)
		return step_fail(r, "tmpfs '%s' (options '%s')", v->dst, v->opts);
	return attach_volume(r, rootfd, tree, v->dst);
}

/* The files docker gives every container, their own copies (the image's
 * stay as they are): /etc/hostname, /etc/hosts, /etc/resolv.conf -- the
 * host's with its network, else none (loopback only). They are written on
 * a small tmpfs, each bound onto its path in the root; a missing target is
 * made there, and a root that cannot take it (read-only) goes without that
 * file. Before Linux 6.15 open_tree cannot copy from a detached mount: the
 * tmpfs is attached on /dev/.mdk-etc (DEV, the container's /dev tmpfs)
 * meanwhile. The volumes come after: one of the user's on these paths wins. */
static int etc_files(struct rootfs *r, int rootfd, int dev)
{
	static const char *const names[] = { "hostname", "hosts", "resolv.conf" };
	char *text[3], resolv[16384] = "# mdk: no network but loopback (--net host for the host's)\n";
	bool other = r->etc_name && strcmp(r->etc_name, r->etc_host), attached = false;
	int tmp = mnt_new("tmpfs", "mode=755,size=256k", MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC);
	int ret = -1, at;

	if (tmp < 0)
		return step_fail(r, "mount a tmpfs for /etc/hosts");
	if (r->hostnet) {
		/* Still the host's root here. */
		int fd = open("/etc/resolv.conf", O_RDONLY | O_CLOEXEC);
		ssize_t n = fd < 0 ? 0 : read(fd, resolv, sizeof(resolv) - 1);
		resolv[n > 0 ? n : 0] = 0;
		if (fd >= 0)
			close(fd);
	}
	text[0] = xasprintf("%s\n", r->etc_host);
	text[1] = xasprintf("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"
			    "fe00::0\tip6-localnet\nff00::0\tip6-mcastprefix\nff02::1\tip6-allnodes\n"
			    "ff02::2\tip6-allrouters\n127.0.1.1\t%s%s%s\n",
			    r->etc_host, other ? " " : "", other ? r->etc_name : "");
	text[2] = resolv;
	if (mkdirat(dev, ".mdk-etc", 0700) < 0 || (at = open_beneath(dev, ".mdk-etc", O_DIRECTORY)) < 0) {
		step_fail(r, "mkdir /dev/.mdk-etc");
		goto out;
	}
	attached = mnt_attach(tmp, at, "") == 0;
	close(at);
	if (!attached) {
		step_fail(r, "mount a tmpfs on /dev/.mdk-etc");
		goto out;
	}
	for (size_t i = 0; i < 3; i++) {
		char path[32];
		int fd = openat(tmp, names[i], O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644), tree = -1;
		ssize_t len = (ssize_t)strlen(text[i]);
		bool ok = fd >= 0 && write(fd, text[i], (size_t)len) == len;
		snprintf(path, sizeof(path), "/etc/%s", names[i]);
		if (fd >= 0)
			close(fd);
		if (!ok || (tree = mnt_clone(tmp, names[i], MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC,
					     false)) < 0) {
			step_fail(r, "make %s", path);
			goto out;
		}
		if (attach_volume(r, rootfd, tree, path) < 0) {
			if (errno != EROFS)
				goto out;
			r->err[0] = 0;
		}
	}
	ret = 0;
out:
	/* The helper mount goes (its files stay, bound): from inside it, as
	 * no path of ours reaches it. */
	if (attached && (fchdir(tmp) < 0 || umount2(".", MNT_DETACH) < 0 ||
			 unlinkat(dev, ".mdk-etc", AT_REMOVEDIR) < 0) && ret == 0)
		ret = step_fail(r, "remove /dev/.mdk-etc");
	close(tmp);
	free(text[0]);
	free(text[1]);
	return ret;
}

/* NAME (proc, sys or dev) of the root, opened once as a directory inside
 * it: what is mounted there is moved onto this fd. A symlink would aim our
 * mounts at the host: refused. A missing one is created. */
static int open_mount_dir(struct rootfs *r, int rootfd, const char *name)
{
	struct open_how how = { .flags = O_PATH | O_DIRECTORY | O_CLOEXEC,
				.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS };
	struct stat st;

	for (int made = 0;; made = 1) {
		int fd = (int)syscall(SYS_openat2, rootfd, name, &how, sizeof(how));
		if (fd >= 0)
			return fd;
		if (errno == ENOENT && !made && (mkdirat(rootfd, name, 0755) == 0 || errno == EEXIST))
			continue;
		if ((errno == ELOOP || errno == ENOTDIR) && fstatat(rootfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    !S_ISDIR(st.st_mode)) {
			errno = 0;
			return step_fail(r, "refusing rootfs '%s': '%s' is %s", r->root, name,
					 S_ISLNK(st.st_mode) ? "a symlink, not a directory" : "not a directory");
		}
		return step_fail(r, "check '%s/%s'", r->root, name);
	}
}

struct node { const char *name; mode_t mode; unsigned maj, min; };

/* A fresh tmpfs on DIR (never the image's own device nodes), with the
 * standard nodes, links, pts, shm and mqueue: the new mount's fd. */
static int setup_dev(struct rootfs *r, int dir)
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
	static const struct { const char *dir; mode_t mode; const char *type, *opts; unsigned attr; } subs[] = {
		{ "pts", 0755, "devpts", "newinstance,ptmxmode=0666,mode=0620,gid=5", MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC },
		{ "shm", 01777, "tmpfs", "mode=1777,size=65536k", MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC },
		{ "mqueue", 0755, "mqueue", "", MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC },
	};
	int dev = fs_mount_at(dir, "tmpfs", "mode=755,size=65536k", MOUNT_ATTR_NOSUID | MOUNT_ATTR_STRICTATIME);
	mode_t old;

	if (dev < 0)
		return step_fail(r, "mount tmpfs on /dev");
	old = umask(0);
	for (size_t i = 0; i < sizeof(nodes) / sizeof(*nodes); i++) {
		if (mknodat(dev, nodes[i].name, nodes[i].mode, makedev(nodes[i].maj, nodes[i].min)) < 0) {
			umask(old);
			step_fail(r, "mknod /dev/%s", nodes[i].name);
			goto fail;
		}
	}
	umask(old);
	for (size_t i = 0; i < sizeof(links) / sizeof(*links); i++) {
		if (!r->privileged && !strcmp(links[i][0], "core"))
			continue;
		if (symlinkat(links[i][1], dev, links[i][0]) < 0) {
			step_fail(r, "symlink /dev/%s", links[i][0]);
			goto fail;
		}
	}
	for (size_t i = 0; i < sizeof(subs) / sizeof(*subs); i++) {
		int sub, mnt = -1;
		if (mkdirat(dev, subs[i].dir, subs[i].mode) < 0) {
			step_fail(r, "mkdir /dev/%s", subs[i].dir);
			goto fail;
		}
		if (!strcmp(subs[i].type, "mqueue") && !r->new_ipc)
			continue;
		if ((sub = open_beneath(dev, subs[i].dir, O_DIRECTORY)) >= 0) {
			mnt = fs_mount_at(sub, subs[i].type, subs[i].opts, subs[i].attr);
			int e = errno;
			close(sub);
			errno = e;
		}
		if (mnt < 0) {
			step_fail(r, "mount %s on /dev/%s", subs[i].type, subs[i].dir);
			goto fail;
		}
		close(mnt);
	}
	return dev;
fail:
	close(dev);
	return -1;
}

/* runc's defaults: what a container must not see (masked) or change
 * (read-only) in /proc and /sys. Looked up in a procfs or sysfs we have
 * just made, so only the kernel decides what is there: an entry missing is
 * an error unless OPTIONAL, the ones a kernel has only when built (or
 * loaded) with what makes them. */
struct kernel_path { const char *path; bool optional; };

static const struct kernel_path proc_masked[] = {
	{ "acpi", true },		/* CONFIG_ACPI */
	{ "asound", true },		/* ALSA loaded */
	{ "interrupts", false },
	{ "kcore", true },		/* CONFIG_PROC_KCORE */
	{ "keys", true },		/* CONFIG_KEYS */
	{ "latency_stats", true },	/* CONFIG_LATENCYTOP */
	{ "timer_list", true },		/* CONFIG_GENERIC_CLOCKEVENTS */
	{ "timer_stats", true },	/* gone in 4.11 */
	{ "sched_debug", true },	/* in debugfs since 5.13 */
	{ "scsi", true },		/* CONFIG_SCSI_PROC_FS */
};
static const struct kernel_path proc_readonly[] = {
	{ "bus", false }, { "fs", false }, { "irq", false }, { "sys", false },
	{ "sysrq-trigger", true },	/* CONFIG_MAGIC_SYSRQ */
};
static const struct kernel_path sys_masked[] = {
	{ "firmware", false },
	{ "devices/virtual/powercap", true },	/* a powercap driver */
};

/* Mask K below the mount MNT (the filesystem at FS): an empty read-only
 * tmpfs over a directory, the /dev/null of the mount DEV over a file. */
static int mask_path(struct rootfs *r, int mnt, const char *fs, const struct kernel_path *k, int dev)
{
	struct stat st;
	int target = open_beneath(mnt, k->path, 0), m = -1;

	if (target < 0) {
		if (errno == ENOENT && k->optional)
			return 0;
		return step_fail(r, "mask %s/%s", fs, k->path);
	}
	if (fstat(target, &st) == 0) {
		if (S_ISDIR(st.st_mode))
			m = fs_mount_at(target, "tmpfs", "ro,mode=0555",
					MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC);
		else if ((m = mnt_clone(dev, "null", MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC, true)) >= 0 &&
			 mnt_attach(m, target, "") < 0) {
			int e = errno;
			close(m);
			m = -1;
			errno = e;
		}
	}
	if (m < 0)
		step_fail(r, "mask %s/%s", fs, k->path);
	else
		close(m);
	close(target);
	return m < 0 ? -1 : 0;
}

/* Make K below the mount MNT read-only: a read-only copy of it on itself. */
static int readonly_path(struct rootfs *r, int mnt, const char *fs, const struct kernel_path *k)
{
	int target = open_beneath(mnt, k->path, 0), m;

	if (target < 0) {
		if (errno == ENOENT && k->optional)
			return 0;
		return step_fail(r, "make %s/%s read-only", fs, k->path);
	}
	m = mnt_clone(target, "", MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC, true);
	int ret = m < 0 || mnt_attach(m, target, "") < 0 ? step_fail(r, "make %s/%s read-only", fs, k->path) : 0;
	if (m >= 0)
		close(m);
	close(target);
	return ret;
}

/* A new procfs on DIR, then (unless privileged) its masks and read-only
 * paths; DEV is the new /dev, for its null. */
static int setup_proc(struct rootfs *r, int dir, int dev)
{
	int proc = fs_mount_at(dir, "proc", "", MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC), ret = 0;

	if (proc < 0)
		return step_fail(r, "mount proc on /proc");
	for (size_t i = 0; !r->privileged && !ret && i < sizeof(proc_masked) / sizeof(*proc_masked); i++)
		ret = mask_path(r, proc, "/proc", &proc_masked[i], dev);
	for (size_t i = 0; !r->privileged && !ret && i < sizeof(proc_readonly) / sizeof(*proc_readonly); i++)
		ret = readonly_path(r, proc, "/proc", &proc_readonly[i]);
	close(proc);
	return ret;
}

static int setup_sys(struct rootfs *r, int dir, int dev)
{
	int sys = fs_mount_at(dir, "sysfs", "",
			      MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC), ret = 0;

	if (sys < 0)
		return step_fail(r, "mount sysfs on /sys (read-only)");
	for (size_t i = 0; !r->privileged && !ret && i < sizeof(sys_masked) / sizeof(*sys_masked); i++)
		ret = mask_path(r, sys, "/sys", &sys_masked[i], dev);
	close(sys);
	return ret;
}

int rootfs_enter(struct rootfs *r)
{
	static const char *const names[] = { "proc", "sys", "dev" };
	int rootdir = -1, rootfd = -1, dirs[3] = { -1, -1, -1 }, dev = -1, ret = -1;

	r->err[0] = 0;
	/* First, so nothing below can propagate to the host (a shared "/" on
	 * systemd hosts would also make pivot_root fail). */
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return step_fail(r, "make / private (mount --make-rprivate /%s)",
				 errno == EINVAL ? "; in a chroot, / must be a mount point: "
				 "before chroot DIR, mount --bind DIR DIR" : "");
	/* pivot_root needs a mount point: a copy of the root's mount tree,
	 * nodev before it is attached (device nodes in the root, a plain
	 * directory, must not open the host's devices: only our /dev has
	 * working nodes), moved onto the root itself -- the directory opened
	 * once, for both. */
	if ((rootdir = open(r->root, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0) {
		step_fail(r, "open rootfs '%s'", r->root);
		goto out;
	}
	if ((rootfd = mnt_clone(rootdir, "", r->privileged ? 0 : MOUNT_ATTR_NODEV, true)) < 0) {
		step_fail(r, "open rootfs '%s'%s", r->root, needs_new_api());
		goto out;
	}
	for (size_t i = 0; i < 3; i++)
		if ((dirs[i] = open_mount_dir(r, rootfd, names[i])) < 0)
			goto out;
	if (mnt_attach(rootfd, rootdir, "") < 0) {
		step_fail(r, "bind mount rootfs '%s' on itself", r->root);
		goto out;
	}
	/* /dev first: its null masks files of /proc and /sys. */
	if ((dev = setup_dev(r, dirs[2])) < 0 || setup_proc(r, dirs[0], dev) < 0 || setup_sys(r, dirs[1], dev) < 0)
		goto out;
	if (r->etc_host && etc_files(r, rootfd, dev) < 0)
		goto out;
	for (size_t i = 0; i < r->nvolumes; i++)
		if (mount_volume(r, rootfd, &r->volumes[i]) < 0)
			goto out;
	/* The root mount alone: the volumes, /dev, /proc keep their flags.
	 * The working directory is made first, as it would be without. */
	int wd = r->readonly && r->workdir ? mkpath_in_root(rootfd, r->workdir, false) : -1;
	if (wd >= 0)
		close(wd);
	if (r->readonly && syscall(SYS_mount_setattr, rootfd, "", AT_EMPTY_PATH,
				   &(struct mount_attr){ .attr_set = MOUNT_ATTR_RDONLY }, sizeof(struct mount_attr)) < 0) {
		step_fail(r, "make the root read-only");
		goto out;
	}
	/* The canonical sequence (crun, runc): pivot to "." and detach the old
	 * root stacked beneath the new one, without a put_old directory. */
	if (fchdir(rootfd) < 0) {
		step_fail(r, "chdir into '%s'", r->root);
		goto out;
	}
	if (syscall(SYS_pivot_root, ".", ".") == 0) {
		if (umount2(".", MNT_DETACH) < 0) {
			step_fail(r, "detach the old root");
			goto out;
		}
	} else if (errno == EINVAL) {
		/* The initramfs cannot be pivoted away from (EINVAL): move the
		 * new root over "/" and chroot, as switch_root does. The old root
		 * stays beneath, unreachable by path; the caller drops
		 * CAP_SYS_CHROOT so a chroot escape cannot reach it either. */
		if (mount(".", "/", NULL, MS_MOVE, NULL) < 0 || chroot(".") < 0) {
			step_fail(r, "pivot_root failed; move '%s' onto / and chroot", r->root);
			goto out;
		}
		r->chrooted = true;
	} else {
		step_fail(r, "pivot_root into '%s'", r->root);
		goto out;
	}
	if (chdir("/") < 0) {
		step_fail(r, "chdir to the new /");
		goto out;
	}
	ret = 0;
out:
	for (size_t i = 0; i < 3; i++)
		if (dirs[i] >= 0)
			close(dirs[i]);
	if (dev >= 0)
		close(dev);
	if (rootfd >= 0)
		close(rootfd);
	if (rootdir >= 0)
		close(rootdir);
	return ret;
}
