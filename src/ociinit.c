/* The container's process from create's fork to its exec: namespaces,
 * mounts, devices, the root switch, user, capabilities, seccomp; and the
 * hooks. Failures go to create as one line over the channel. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <jansson.h>
#include <limits.h>
#include <linux/capability.h>
#include <linux/magic.h>
#include <linux/mount.h>
#include <linux/openat2.h>
#include <poll.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "mdk.h"
#include "oci.h"

/* --- hooks -------------------------------------------------------------------------- */

/* Run HOOK with STATE on its stdin; its status, or -1 (and a line why). */
static int oci_hook_run(const struct hook *h, const char *state, const char *kind)
{
	char *const dflt[] = { (char *)h->path, NULL };
	int in[2], st;
	pid_t pid;

	if (pipe2(in, O_CLOEXEC) < 0)
		return -1;
	if ((pid = fork()) < 0) {
		close(in[0]);
		close(in[1]);
		return -1;
	}
	if (pid == 0) {
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		if (dup2(in[0], 0) < 0)
			_exit(127);
		/* A hook's output must not reach the container's stdout: conmon
		 * would log it as the container's. */
		dup2(2, 1);
		close_fds_except(-1);
		execve(h->path, h->argv ? h->argv : dflt, h->env ? h->env : (char *[]){ NULL });
		warn_errno("%s hook '%s'", kind, h->path);
		_exit(127);
	}
	close(in[0]);
	signal(SIGPIPE, SIG_IGN);
	/* A hook need not read its stdin: a short write is no error. */
	if (write(in[1], state, strlen(state)) < 0 && errno != EPIPE)
		warn_errno("%s hook '%s': write the state", kind, h->path);
	close(in[1]);
	for (int waited = 0;; waited++) {
		pid_t r = waitpid(pid, &st, h->timeout ? WNOHANG : 0);
		if (r == pid)
			break;
		if (r < 0 && errno != EINTR)
			return -1;
		if (h->timeout && waited >= h->timeout * 100) {
			kill(pid, SIGKILL);
			waitpid(pid, &st, 0);
			warn("%s hook '%s': timed out after %d s", kind, h->path, h->timeout);
			return -1;
		}
		if (h->timeout)
			usleep(10000);
	}
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
		return 0;
	if (WIFEXITED(st))
		warn("%s hook '%s' exited with status %d", kind, h->path, WEXITSTATUS(st));
	else
		warn("%s hook '%s' was killed by signal %d", kind, h->path, WTERMSIG(st));
	return -1;
}

int oci_hooks_run(const struct spec *s, int kind, const char *state)
{
	for (size_t i = 0; i < s->nhooks[kind]; i++)
		if (oci_hook_run(&s->hooks[kind][i], state, hook_names[kind]) < 0)
			return -1;
	return 0;
}

/* The state as the runtime spec says (state's output, the hooks' stdin). */
char *oci_state_json(const char *id, const char *status, pid_t pid, const char *bundle, const char *rootfs,
		     const char *created, json_t *annotations, unsigned flags)
{
	json_t *o = json_pack("{s:s, s:s, s:s, s:i, s:s, s:s, s:s, s:s}", "ociVersion", OCI_VERSION, "id", id,
			      "status", status, "pid", (int)pid, "bundle", bundle, "rootfs", rootfs, "created",
			      created, "owner", "");
	char *text;

	if (o && json_is_object(annotations))
		json_object_set(o, "annotations", annotations);
	if (!o || !(text = json_dumps(o, flags)))
		die("state of '%s': cannot build it", id);
	json_decref(o);
	return text;
}

char *oci_spec_state(const struct spec *s, const char *status, pid_t pid)
{
	return oci_state_json(s->id, status, pid, s->bundle, s->rootfs, s->created,
			      json_object_get(s->json, "annotations"), JSON_COMPACT);
}

/* --- in the container's process, before start ----------------------------------- */

_Noreturn void oci_child_fail(int sock, const char *fmt, ...)
{
	char buf[600];
	int e = errno;
	va_list ap;

	va_start(ap, fmt);
	int n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (e && n >= 0 && (size_t)n < sizeof(buf))
		snprintf(buf + n, sizeof(buf) - (size_t)n, ": %s", strerror(e));
	chan_report(sock, 1, "%s", buf);
	_exit(1);
}

void oci_wait_go(int sock)
{
	char c;

	if (read(sock, &c, 1) != 1 || c != 'g')
		_exit(1);
}

static int oci_setattr_tree(int tree, uint64_t set, uint64_t clr, unsigned prop, bool rec)
{
	struct mount_attr ma = { .attr_set = set, .attr_clr = clr, .propagation = prop };

	if (!set && !clr && !prop)
		return 0;
	return (int)syscall(SYS_mount_setattr, tree, "", AT_EMPTY_PATH | (rec ? AT_RECURSIVE : 0), &ma, sizeof(ma));
}

/* The container's v1 hierarchies, as /proc/self/cgroup said before the
 * cgroup namespace hid the paths: "memory:/a/b" lines. */
static char cg_lines[4096];

static void read_cgroups(void)
{
	int fd = open("/proc/self/cgroup", O_RDONLY | O_CLOEXEC);
	ssize_t k = fd < 0 ? -1 : read(fd, cg_lines, sizeof(cg_lines) - 1);

	if (fd >= 0)
		close(fd);
	cg_lines[k > 0 ? k : 0] = 0;
}

/* v1: each hierarchy's container directory (a detached copy) and its name
 * in the tmpfs of the cgroup mount, bound in once that tmpfs is attached:
 * Linux before 6.15 mounts nothing on a detached mount (EINVAL). */
static struct { int tree; char name[64]; } cg_binds[16];
static size_t ncg_binds;
static bool cg_binds_pending;

/* type "cgroup": on v2 a cgroup2 mount (the namespace's view); on v1 a
 * tmpfs with each hierarchy's container directory bound in, as runc does
 * (cgroup_bind, once it is attached). */
static int cgroup_mount(int sock, const struct mnt *m, const char *cgpath)
{
	if (cgroup_mode() == CG_V2 || (m->type && !strcmp(m->type, "cgroup2")))
		return mnt_new("cgroup2", "", (unsigned)m->set);
	int tmp = mnt_new("tmpfs", "mode=755", MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC);
	if (tmp < 0)
		FAIL("mount tmpfs for cgroups on '%s'", m->dst);
	ncg_binds = 0;
	cg_binds_pending = true;
	for (char *line = cg_lines, *next; *line; line = next) {
		char *ctl = strchr(line, ':'), *path;
		next = line + strcspn(line, "\n");
		if (*next)
			*next++ = 0;
		if (!ctl || !(path = strchr(++ctl, ':')) || path == ctl)
			continue;
		*path++ = 0;
		/* Only the container's own: not the host's tree of a hierarchy
		 * it never joined. */
		if (path[0] != '/' || strcmp(path + 1, cgpath))
			continue;
		const char *name = strncmp(ctl, "name=", 5) ? ctl : ctl + 5;
		char host[PATH_MAX];
		snprintf(host, sizeof(host), "/sys/fs/cgroup/%s%s", name, path);
		int tree = mnt_clone(AT_FDCWD, host, m->set | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC,
				     false);
		if (tree < 0)
			continue;	/* a hierarchy the host does not mount there */
		if (ncg_binds == sizeof(cg_binds) / sizeof(*cg_binds) || strlen(name) >= sizeof(cg_binds->name) ||
		    mkdirat(tmp, name, 0755) < 0)
			FAIL("mount cgroup hierarchy '%s' on '%s'", name, m->dst);
		cg_binds[ncg_binds].tree = tree;
		strcpy(cg_binds[ncg_binds++].name, name);
		/* cpu,cpuacct is also reached as cpu and cpuacct. */
		if (strchr(name, ','))
			for (char *c = ctl, *e; *c; c = e + (*e != 0)) {
				e = c + strcspn(c, ",");
				char one[64];
				snprintf(one, sizeof(one), "%.*s", (int)(e - c), c);
				symlinkat(name, tmp, one);
			}
	}
	return tmp;
}

/* v1: the hierarchies into the cgroup mount's tmpfs TMP, attached now. */
static void cgroup_bind(int sock, const struct mnt *m, int tmp)
{
	if (!cg_binds_pending)
		return;
	for (size_t i = 0; i < ncg_binds; i++) {
		int dir = open_beneath(tmp, cg_binds[i].name, O_DIRECTORY);
		if (dir < 0 || mnt_attach(cg_binds[i].tree, dir, "") < 0)
			FAIL("mount cgroup hierarchy '%s' on '%s'", cg_binds[i].name, m->dst);
		close(dir);
		close(cg_binds[i].tree);
	}
	if (m->set & MOUNT_ATTR_RDONLY)
		oci_setattr_tree(tmp, MOUNT_ATTR_RDONLY, 0, 0, false);
	ncg_binds = 0;
	cg_binds_pending = false;
}

/* The root of the mount config.json put on /dev (st_dev 0: none): where
 * make_devices makes the nodes, and nowhere else. */
static struct stat devfs;

/* One entry of config.json's mounts: made detached, its flags set, then
 * moved onto its destination, resolved once inside the root. */
static void do_mount(int sock, int rootfd, const struct mnt *m, const char *cgpath)
{
	struct stat st = { .st_mode = S_IFDIR }, rst;
	struct statfs sfs;
	int tree, target;

	if (m->bind) {
		if ((tree = mnt_clone(AT_FDCWD, m->src, 0, m->rec)) < 0)
			FAIL("mount on '%s': bind '%s'", m->dst, m->src);
		if (fstat(tree, &st) < 0 || oci_setattr_tree(tree, m->set, m->clr, 0, m->rec) < 0)
			FAIL("mount on '%s': set the flags of bind '%s'", m->dst, m->src);
	} else if (!strcmp(m->type, "cgroup") || !strcmp(m->type, "cgroup2")) {
		if ((tree = cgroup_mount(sock, m, cgpath)) < 0)
			FAIL("mount cgroup on '%s'", m->dst);
	} else {
		char *opts = m->src && !strchr(m->src, ',') && *m->src ?
				     xasprintf("source=%s%s%s", m->src, *m->data ? "," : "", m->data) : m->data;
		tree = mnt_new(m->type, opts, (unsigned)m->set);
		/* sysfs and mqueue without a network or IPC namespace of ours
		 * (in a user namespace): the host's, bound, as runc does. */
		if (tree < 0 && errno == EPERM && (!strcmp(m->type, "sysfs") || !strcmp(m->type, "mqueue")))
			tree = mnt_clone(AT_FDCWD, !strcmp(m->type, "sysfs") ? "/sys" : "/dev/mqueue",
					 m->set | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC, true);
		if (tree < 0)
			FAIL("mount %s on '%s' (options '%s')", m->type, m->dst, m->data);
		if (opts != m->data)
			free(opts);
	}
	if ((target = mkpath_in_root(rootfd, m->dst, !S_ISDIR(st.st_mode))) < 0)
		FAIL("mount on '%s': make its target in the container", m->dst);
	if (fstat(target, &st) < 0 || fstat(rootfd, &rst) < 0 || fstatfs(target, &sfs) < 0)
		FAIL("mount on '%s': stat its target", m->dst);
	errno = 0;
	if (st.st_dev == rst.st_dev && st.st_ino == rst.st_ino)
		FAIL("mount on '%s': refusing a target that is the container's root", m->dst);
	/* A mount on /proc/... would lift a mask or hide the kernel's files
	 * (runc's rule); /proc itself is a directory of the root's. */
	if (sfs.f_type == PROC_SUPER_MAGIC)
		FAIL("mount on '%s': refusing a target in procfs", m->dst);
	/* procfs and sysfs (new, or bound from the host) only where the path
	 * leads without a symlink: the masks and read-only paths are found
	 * again by path later, and an image's symlinks, through a directory a
	 * later mount covers, could lead that lookup elsewhere -- and leave
	 * the real procfs or sysfs unmasked. */
	if (fstatfs(tree, &sfs) < 0)
		FAIL("mount on '%s': statfs it", m->dst);
	if (sfs.f_type == PROC_SUPER_MAGIC || sfs.f_type == SYSFS_MAGIC) {
		struct open_how how = { .flags = O_PATH | O_CLOEXEC, .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS };
		struct stat again;
		int fd = (int)syscall(SYS_openat2, rootfd, m->dst, &how, sizeof(how));
		if (fd < 0 || fstat(fd, &again) < 0 || again.st_dev != st.st_dev || again.st_ino != st.st_ino)
			FAIL("mount %s on '%s': refusing a destination reached through a symlink",
			     m->bind ? m->src : m->type, m->dst);
		close(fd);
	}
	if (mnt_attach(tree, target, "") < 0)
		FAIL("mount %s on '%s'", m->bind ? m->src : m->type, m->dst);
	cgroup_bind(sock, m, tree);
	if (!strcmp(m->dst, "/dev") && fstat(tree, &devfs) < 0)
		FAIL("mount on '/dev': stat it");
	if (m->prop && oci_setattr_tree(tree, 0, 0, m->prop & ~(unsigned)MS_REC, m->prop & MS_REC) < 0)
		FAIL("mount on '%s': set its propagation", m->dst);
	close(target);
	close(tree);
}

/* The devices every container has (runc's list), then linux.devices, in
 * the container's /dev: made there, or in a user namespace (no mknod) the
 * host's node bound onto a file. */
static void make_devices(int sock, int rootfd, const struct spec *s)
{
	static const struct dev dflt[] = {
		{ "/dev/null", S_IFCHR | 0666, 0x103, 0, 0 },  { "/dev/zero", S_IFCHR | 0666, 0x105, 0, 0 },
		{ "/dev/full", S_IFCHR | 0666, 0x107, 0, 0 },  { "/dev/random", S_IFCHR | 0666, 0x108, 0, 0 },
		{ "/dev/urandom", S_IFCHR | 0666, 0x109, 0, 0 }, { "/dev/tty", S_IFCHR | 0666, 0x500, 0, 0 },
	};
	static const char *const links[][2] = {
		{ "fd", "/proc/self/fd" }, { "stdin", "/proc/self/fd/0" }, { "stdout", "/proc/self/fd/1" },
		{ "stderr", "/proc/self/fd/2" }, { "ptmx", "pts/ptmx" },
	};
	size_t n = sizeof(dflt) / sizeof(*dflt);
	mode_t old = umask(0);
	int dev = mkpath_in_root(rootfd, "/dev", false);
	struct stat st;

	if (dev < 0)
		FAIL("make /dev in the container");
	/* A later mount routed over /dev by the image's symlinks (a volume)
	 * would get the nodes, on the host: /dev must still be the mount made
	 * there, or else a directory of the root's own filesystem. */
	if (fstat(dev, &st) < 0 || (devfs.st_dev ? st.st_dev != devfs.st_dev || st.st_ino != devfs.st_ino :
						  fstat(rootfd, &devfs) < 0 || st.st_dev != devfs.st_dev)) {
		errno = 0;
		FAIL("'/dev' is not where config.json put it (a mount over it?)");
	}
	for (size_t i = 0; i < n + s->ndevs; i++) {
		const struct dev *d = i < n ? &dflt[i] : &s->devs[i - n];
		bool again = false;
		for (size_t j = 0; i < n && j < s->ndevs; j++)
			again |= !strcmp(s->devs[j].path, d->path);
		if (again)
			continue;	/* linux.devices says how */
		const char *name = strrchr(d->path, '/') + 1;
		char *dir = strndup(d->path, (size_t)(name - d->path));
		int dfd = mkpath_in_root(rootfd, dir, false), fd;
		free(dir);
		if (dfd < 0)
			FAIL("make the directory of '%s'", d->path);
		if (fstat(dfd, &st) < 0 || st.st_dev != devfs.st_dev) {
			errno = 0;
			FAIL("the directory of '%s' is not in the container's /dev", d->path);
		}
		/* One the root already has must be this very node: an image's
		 * /dev/null may be a file, or a symlink, that masks would bind. */
		if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    ((st.st_mode ^ d->mode) & S_IFMT || st.st_rdev != d->rdev) && unlinkat(dfd, name, 0) < 0)
			FAIL("replace '%s'", d->path);
		if (mknodat(dfd, name, d->mode, d->rdev) < 0 && errno != EEXIST) {
			int tree;
			if (errno != EPERM || (fd = openat(dfd, name, O_CREAT | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0)) < 0)
				FAIL("mknod '%s'", d->path);
			close(fd);
			if ((tree = mnt_clone(AT_FDCWD, d->path, 0, false)) < 0 || (fd = open_beneath(dfd, name, 0)) < 0 ||
			    mnt_attach(tree, fd, "") < 0)
				FAIL("bind the host's '%s'", d->path);
			close(fd);
			close(tree);
		} else if (fchownat(dfd, name, d->uid, d->gid, AT_SYMLINK_NOFOLLOW) < 0 && errno != EPERM &&
			   errno != EINVAL) {
			FAIL("chown '%s'", d->path);
		}
		close(dfd);
	}
	for (size_t i = 0; i < sizeof(links) / sizeof(*links); i++)
		if (symlinkat(links[i][1], dev, links[i][0]) < 0 && errno != EEXIST)
			FAIL("symlink /dev/%s", links[i][0]);
	umask(old);
	close(dev);
}

/* PATH in the container's root; one below /proc must be in procfs (the one
 * do_mount made where no symlink leads): a path that leads anywhere else
 * was re-routed, and its mask would miss. ENOENT is left to the caller. */
static int open_kernel_path(int sock, int root, const char *path, int flags)
{
	struct statfs sfs;
	int fd = open_in_root(root, path, flags);

	if (fd >= 0 && !strncmp(path, "/proc/", 6) && (fstatfs(fd, &sfs) < 0 || sfs.f_type != PROC_SUPER_MAGIC)) {
		errno = 0;
		FAIL("'%s' is not in the container's procfs", path);
	}
	return fd;
}

/* After the switch: sysctls, read-only and masked paths, all looked up in
 * the container's own root (a symlink there leads nowhere else). */
static void finish_paths(int sock, const struct spec *s)
{
	int root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC), fd, m, null = -1;
	struct stat st;

	if (root < 0)
		FAIL("open /");
	for (size_t i = 0; i < s->nsysctl; i += 2) {
		char path[512];
		snprintf(path, sizeof(path), "/proc/sys/%s", s->sysctl[i]);
		for (char *c = path + 10; *c; c++)
			*c = *c == '.' ? '/' : *c;
		if ((fd = open_kernel_path(sock, root, path, O_WRONLY)) < 0 ||
		    write(fd, s->sysctl[i + 1], strlen(s->sysctl[i + 1])) < 0)
			FAIL("sysctl %s=%s", s->sysctl[i], s->sysctl[i + 1]);
		close(fd);
	}
	for (size_t i = 0; i < s->nro; i++) {
		if ((fd = open_kernel_path(sock, root, s->ro[i], O_PATH | O_NOFOLLOW)) < 0) {
			if (errno == ENOENT)
				continue;
			FAIL("read-only path '%s'", s->ro[i]);
		}
		if ((m = mnt_clone(fd, "", MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC,
				   true)) < 0 || mnt_attach(m, fd, "") < 0)
			FAIL("make '%s' read-only", s->ro[i]);
		close(m);
		close(fd);
	}
	for (size_t i = 0; i < s->nmasked; i++) {
		if ((fd = open_kernel_path(sock, root, s->masked[i], O_PATH | O_NOFOLLOW)) < 0) {
			if (errno == ENOENT)
				continue;
			FAIL("mask '%s'", s->masked[i]);
		}
		if (fstat(fd, &st) < 0)
			FAIL("mask '%s'", s->masked[i]);
		if (S_ISDIR(st.st_mode))
			m = mnt_new("tmpfs", "size=0,mode=0555", MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC);
		else if (null >= 0 || ((null = open_in_root(root, "/dev/null", O_PATH | O_NOFOLLOW)) >= 0 &&
				       fstat(null, &st) == 0 && S_ISCHR(st.st_mode) && st.st_rdev == makedev(1, 3)))
			m = mnt_clone(null, "", MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC, false);
		else
			FAIL("mask '%s': the container's /dev/null is not the null device", s->masked[i]);
		if (m < 0 || mnt_attach(m, fd, "") < 0)
			FAIL("mask '%s'", s->masked[i]);
		close(m);
		close(fd);
	}
	if (null >= 0)
		close(null);
	close(root);
}

/* process.args[0] as execvp would find it in the container (its PATH): a
 * command that is not there fails create, not start (runc's way). */
char *oci_find_command(int sock, const struct proc *p)
{
	const char *path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
	const char *cmd = p->args[0];
	struct stat st;

	for (char **e = p->env; e && *e; e++)
		if (!strncmp(*e, "PATH=", 5))
			path = *e + 5;
	if (strchr(cmd, '/')) {
		if (stat(cmd, &st) < 0)
			FAIL("exec '%s'", cmd);
		return (char *)cmd;
	}
	for (const char *d = path; *d || d == path;) {
		size_t len = strcspn(d, ":");
		char *full = xasprintf("%.*s%s%s", (int)len, d, len ? "/" : "", cmd);
		if (stat(full, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 0111))
			return full;
		free(full);
		d += len;
		if (!*d)
			break;
		d++;
	}
	errno = 0;
	FAIL("exec '%s': executable file not found in $PATH", cmd);
}

/* User, groups, capabilities, no-new-privileges, rlimits, umask: the
 * process becomes what P says. FILTER (seccomp) goes in first unless NNP
 * lets it wait until just before the exec (*LATE). */
void oci_confine(int sock, const struct proc *p, void *filter, bool *late)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2] = { 0 };
	const uint64_t *c = p->caps;

	for (size_t i = 0; i < p->nrl; i++)
		if (setrlimit(p->rl[i].res, &p->rl[i].lim) < 0)
			FAIL("set rlimit %d", p->rl[i].res);
	if (p->umask >= 0)
		umask((mode_t)p->umask);
	*late = filter && p->nnp;
	if (filter && !p->nnp && seccomp_install(filter) < 0)
		FAIL("install the seccomp filter");
	for (int cap = 0; cap < 64; cap++)
		if (!(c[0] & 1ULL << cap) && prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL)
			FAIL("drop capability %d from the bounding set", cap);
	if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0 || setgroups(p->ngids, p->gids) < 0 ||
	    setresgid(p->gid, p->gid, p->gid) < 0 || setresuid(p->uid, p->uid, p->uid) < 0)
		FAIL("switch to uid %u gid %u", (unsigned)p->uid, (unsigned)p->gid);
	d[0].effective = (uint32_t)c[1], d[1].effective = (uint32_t)(c[1] >> 32);
	d[0].inheritable = (uint32_t)c[2], d[1].inheritable = (uint32_t)(c[2] >> 32);
	d[0].permitted = (uint32_t)c[3], d[1].permitted = (uint32_t)(c[3] >> 32);
	if (syscall(SYS_capset, &h, d) < 0 || prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
		FAIL("set capabilities");
	/* The kernel's rule: ambient only what is permitted and inheritable
	 * (runc's default spec lists more; they are skipped, as runc does). */
	for (int cap = 0; cap < 64; cap++)
		if ((c[4] & c[3] & c[2] & 1ULL << cap) && prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) < 0)
			FAIL("raise ambient capability %d", cap);
	if (p->nnp && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		FAIL("no-new-privileges");
}

/* The working directory, made if missing (as root, as runc does), then
 * entered as the process's user. */
int oci_cwd_open(int sock, const char *cwd)
{
	int root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC), fd;

	if (root < 0 || (fd = mkpath_in_root(root, cwd, false)) < 0)
		FAIL("working directory '%s'", cwd);
	close(root);
	return fd;
}

/* A pty from the container's devpts: the master to the caller (through
 * our parent, to the console socket), the slave our controlling terminal
 * and /dev/console. Run as the leader of a new session. */
void oci_console_setup(int sock, const struct proc *p, bool console)
{
	struct winsize ws = { .ws_row = p->rows, .ws_col = p->cols };
	int master, slave, root, con, tree;

	if ((master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC)) < 0 || unlockpt(master) < 0 ||
	    (slave = open(ptsname(master), O_RDWR | O_NOCTTY | O_CLOEXEC)) < 0)
		FAIL("allocate a pseudo-terminal");
	if ((ws.ws_row && ioctl(master, TIOCSWINSZ, &ws) < 0) || chan_send_fd(sock, master) < 0)
		FAIL("pass on the pseudo-terminal");
	close(master);
	if (console && (root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC)) >= 0 &&
	    (con = mkpath_in_root(root, "/dev/console", true)) >= 0) {
		if ((tree = mnt_clone(slave, "", 0, false)) < 0 || mnt_attach(tree, con, "") < 0)
			FAIL("bind the terminal on /dev/console");
		close(tree);
		close(con);
		close(root);
	}
	if (ioctl(slave, TIOCSCTTY, 0) < 0 || dup2(slave, 0) < 0 || dup2(slave, 1) < 0 || dup2(slave, 2) < 0)
		FAIL("make the pseudo-terminal the controlling terminal");
	if (slave > 2)
		close(slave);
}

/* The container's process, from the fork in create to the exec at start.
 * NSFD: the namespaces to join (opened by create; -1 for none). */
_Noreturn void oci_container_main(struct spec *s, int sock, int nsfd[NNS])
{
	struct proc *p = &s->p;
	bool late;
	int rootdir, rootfd, fifo, wd, st;
	char *cmd;

	/* Until create is done: its death is ours (it could not undo us).
	 * Not dumpable until the exec: a process of a PID namespace we join
	 * must not ptrace us or open our /proc files meanwhile. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	prctl(PR_SET_DUMPABLE, 0);
	oci_wait_go(sock);
	read_cgroups();
	for (size_t k = 0; k < NNS; k++) {
		if (nsfd[k] < 0 || ns_types[k].flag == CLONE_NEWPID)
			continue;
		if (setns(nsfd[k], ns_types[k].flag) < 0)
			FAIL("join %s namespace '%s'", ns_types[k].name, s->nspath[k]);
		close(nsfd[k]);
	}
	if (s->newns & CLONE_NEWUSER) {
		if (unshare(CLONE_NEWUSER) < 0)
			FAIL("unshare the user namespace");
		chan_report(sock, 0, "user");
		oci_wait_go(sock);
		if (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0)
			FAIL("become root in the user namespace (is 0 mapped?)");
	}
	if (unshare(s->newns & ~(CLONE_NEWUSER | CLONE_NEWPID)) < 0)
		FAIL("unshare namespaces");
	/* With a user namespace of its own, the PID namespace must be its:
	 * else its /proc could not be mounted. One more fork: its child is
	 * the container's process. */
	if ((s->newns & CLONE_NEWUSER) && (s->newns & CLONE_NEWPID)) {
		pid_t pid;
		if (unshare(CLONE_NEWPID) < 0 || (pid = fork()) < 0)
			FAIL("make the PID namespace");
		if (pid > 0) {
			chan_report(sock, 0, "pid %d", (int)pid);
			_exit(0);
		}
		/* (No death signal: its parent is gone next. create's death
		 * reaches it as the channel's EOF.) */
	}
	/* Our PID on the host, for the hooks' state: the host's /proc says it
	 * until the root switch. */
	char pidl[32] = "";
	readlink("/proc/self", pidl, sizeof(pidl) - 1);
	pid_t host_pid = atoi(pidl);
	if ((s->newns & CLONE_NEWUTS) && s->hostname && sethostname(s->hostname, strlen(s->hostname)) < 0)
		FAIL("sethostname '%s'", s->hostname);
	if ((s->newns & CLONE_NEWUTS) && s->domainname && setdomainname(s->domainname, strlen(s->domainname)) < 0)
		FAIL("setdomainname '%s'", s->domainname);
	if ((s->newns & CLONE_NEWNET) && loopback_up() < 0)
		FAIL("bring up the loopback interface");

	/* The root: nothing propagates to the host; a copy of the rootfs
	 * bound on itself (pivot_root wants a mount), the mounts in it. */
	unsigned prop = s->rootprop == MS_SHARED ? MS_SHARED : MS_SLAVE;
	if (mount(NULL, "/", NULL, MS_REC | (s->rootprop == MS_PRIVATE ? MS_PRIVATE : prop), NULL) < 0)
		FAIL("set the propagation of /");
	if ((rootdir = open(s->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0 ||
	    (rootfd = mnt_clone(rootdir, "", s->nodev ? MOUNT_ATTR_NODEV : 0, true)) < 0 ||
	    mnt_attach(rootfd, rootdir, "") < 0)
		FAIL("bind the rootfs '%s' on itself", s->rootfs);
	for (size_t i = 0; i < s->nmnts; i++)
		do_mount(sock, rootfd, &s->mnts[i], s->cgpath);
	make_devices(sock, rootfd, s);
	/* prestart and createRuntime hooks run in create, in the host's
	 * namespaces; createContainer ones here, before the switch. */
	if (s->nhooks[H_PRESTART] || s->nhooks[H_CREATE_RUNTIME]) {
		chan_report(sock, 0, "hooks");
		oci_wait_go(sock);
	}
	if (s->nhooks[H_CREATE_CONTAINER]) {
		char *state = oci_spec_state(s, "creating", host_pid);
		if (oci_hooks_run(s, H_CREATE_CONTAINER, state) < 0)
			FAIL("createContainer hook failed");
		free(state);
	}
	if (fchdir(rootfd) < 0)
		FAIL("chdir into '%s'", s->rootfs);
	if (s->no_pivot) {
		if (mount(".", "/", NULL, MS_MOVE, NULL) < 0 || chroot(".") < 0)
			FAIL("move '%s' onto / and chroot (--no-pivot)", s->rootfs);
	} else if (syscall(SYS_pivot_root, ".", ".") < 0 || umount2(".", MNT_DETACH) < 0) {
		FAIL("pivot_root into '%s'", s->rootfs);
	}
	if (chdir("/") < 0)
		FAIL("chdir to the new /");
	close(rootfd);
	close(rootdir);
	finish_paths(sock, s);
	/* The working directory is made if missing: before the root is
	 * read-only. */
	wd = oci_cwd_open(sock, p->cwd);
	if (s->readonly && ((rootfd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0 ||
			    oci_setattr_tree(rootfd, MOUNT_ATTR_RDONLY, 0, 0, false) < 0))
		FAIL("make the root read-only");
	if (s->rootprop && s->rootprop != MS_SLAVE && mount(NULL, "/", NULL, MS_REC | s->rootprop, NULL) < 0)
		FAIL("set the propagation of the root");
	if (setsid() < 0)
		FAIL("setsid");
	if (p->terminal)
		oci_console_setup(sock, p, true);
	cmd = oci_find_command(sock, p);
	/* A procfs instance of our PID namespace's, detached, made while we
	 * may (before the capabilities go): how the exec fifo is reopened. */
	int procfd = mnt_new("proc", "", MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC);
	if (procfd < 0)
		FAIL("make a procfs for the exec fifo");
	oci_confine(sock, p, s->filter, &late);
	if (fchdir(wd) < 0)
		FAIL("chdir to '%s'", p->cwd);
	close(wd);
	/* Ready: create hands over the exec fifo (the one host fd we get,
	 * now that no path of the host's can be reached) and ends. */
	chan_report(sock, 0, "ready");
	if (chan_recv(sock, &st, (char[8]){ 0 }, 8, &fifo) <= 0 || fifo < 0)
		_exit(1);
	prctl(PR_SET_PDEATHSIG, 0);
	close(sock);
	/* start opens the fifo to read: then we go. Its reader sees EOF at
	 * our exec (O_CLOEXEC), or at our death. It is reopened through a
	 * procfs of our own (PROCFD), never a path of the image's. */
	char self[64];
	snprintf(self, sizeof(self), "self/fd/%d", fifo);
	int w = openat(procfd, self, O_WRONLY | O_CLOEXEC);
	if (w < 0 || write(w, "0", 1) != 1) {
		warn_errno("open the exec fifo");
		_exit(1);
	}
	close(fifo);
	close(procfd);
	if (s->nhooks[H_START_CONTAINER]) {
		char *state = oci_spec_state(s, "running", host_pid);
		if (oci_hooks_run(s, H_START_CONTAINER, state) < 0)
			_exit(1);
		free(state);
	}
	/* preserve-fds: 3..3+N-1 stay; the fifo closes at the exec. */
	unsigned lo = 3 + (unsigned)s->preserve_fds, fw = (unsigned)w;
	if ((fw > lo && syscall(SYS_close_range, lo, fw - 1, 0U) < 0) ||
	    syscall(SYS_close_range, fw >= lo ? fw + 1 : lo, ~0U, 0U) < 0) {
		warn_errno("close fds");
		_exit(1);
	}
	if (late && seccomp_install(s->filter) < 0) {
		warn_errno("install the seccomp filter");
		_exit(1);
	}
	sigset_t none;
	sigemptyset(&none);
	for (int sig = 1; sig < NSIG; sig++)
		signal(sig, SIG_DFL);
	sigprocmask(SIG_SETMASK, &none, NULL);
	execve(cmd, p->args, p->env ? p->env : (char *[]){ NULL });
	int e = errno;
	warn("exec '%s': %s", p->args[0], strerror(e));
	_exit(exec_status(e));
}
