/* Container cgroups on v1, v2 and hybrid hosts.
 *
 * Each container gets PARENT/ID (PARENT = "m-docker" unless
 * $MDK_CGROUP_PARENT says otherwise) in every hierarchy it needs: on v2 one
 * directory under /sys/fs/cgroup with the controllers enabled in PARENT's
 * (and the root's) cgroup.subtree_control, never in the leaf; on v1 (and on
 * hybrid hosts, whose controllers are all on v1) one in the memory and pids
 * hierarchies, and in cpu and cpuset when a limit needs them. Removal kills what is left and rmdirs
 * with a bounded retry: never rm -rf. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <time.h>
#include <unistd.h>

#include "mdk.h"

#define CG "/sys/fs/cgroup"

static const char *const v1_ctrl[] = { "memory", "cpu", "cpuset", "pids", "blkio" };
#define NV1 (sizeof(v1_ctrl) / sizeof(*v1_ctrl))
/* v2's names of the controllers the limits use. */
static const char *const v2_ctrl[] = { "memory", "cpu", "cpuset", "pids", "io" };
/* The v1 hierarchies a container joins: memory and pids always (accounting,
 * cleanup); cpu and cpuset only for a limit (each costs a few syscalls a
 * run); with CG_ALL every one runc joins (mdk-oci: pause, the device rules,
 * what an engine reads): systemd's named one and a hybrid host's v2 too. */
static const char *const v1_all[] = { "memory", "cpu", "cpuacct", "cpuset", "pids", "freezer", "devices", "blkio",
				     "systemd", "unified" };
_Static_assert(sizeof(v1_all) / sizeof(*v1_all) <= sizeof(((struct cgroup *)0)->dirs) / sizeof(char *),
	       "struct cgroup has room for a directory in each hierarchy");

enum cg_mode cgroup_mode(void)
{
	struct statfs s;

	if (statfs(CG, &s) < 0)
		return CG_NONE;
	if (s.f_type == CGROUP2_SUPER_MAGIC)
		return CG_V2;
	if (s.f_type != TMPFS_MAGIC)
		return CG_NONE;
	/* v1 controllers under a tmpfs; a cgroup2 at unified/ makes it hybrid,
	 * but its controllers stay on v1, where the limits must go. */
	if (statfs(CG "/unified", &s) == 0 && s.f_type == CGROUP2_SUPER_MAGIC)
		return CG_HYBRID;
	return CG_V1;
}

const char *cgroup_parent(void)
{
	const char *p = getenv("MDK_CGROUP_PARENT");
	return p && valid_name(p) ? p : "m-docker";
}

static int write_file(const char *dir, const char *file, const char *val)
{
	char path[512];
	int fd, e;
	ssize_t k;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	if ((fd = open(path, O_WRONLY | O_CLOEXEC)) < 0)
		return -1;
	k = write(fd, val, strlen(val));
	e = errno;
	close(fd);
	return k < 0 ? (errno = e, -1) : 0;
}

static int read_file(const char *dir, const char *file, char *buf, size_t n)
{
	char path[512];
	int fd;
	ssize_t k;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -1;
	k = read(fd, buf, n - 1);
	close(fd);
	if (k < 0)
		return -1;
	buf[k] = 0;
	buf[strcspn(buf, "\n")] = 0;
	return 0;
}

static bool is_cgroup_dir(const char *path, unsigned long magic)
{
	struct statfs s;
	return statfs(path, &s) == 0 && (unsigned long)s.f_type == magic;
}

static int cg_fail(char *err, size_t n, const char *fmt, const char *a, const char *b)
{
	int e = errno;
	int k = snprintf(err, n, fmt, a, b);
	if (e && k >= 0 && (size_t)k < n)
		snprintf(err + k, n - (size_t)k, ": %s", strerror(e));
	errno = e;
	return -1;
}

/* Is any swap in use on this host? Then a memory limit must cap swap too. */
static bool host_has_swap(void)
{
	char buf[256];
	int fd = open("/proc/swaps", O_RDONLY | O_CLOEXEC);
	ssize_t k = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);

	if (fd >= 0)
		close(fd);
	if (k <= 0)
		return false;
	buf[k] = 0;
	return strchr(buf, '\n') && strchr(buf, '\n')[1];	/* a line after the header */
}

/* v1: fill cpuset.cpus and .mems of DIR from its parent: no task may join
 * a cpuset that has none. */
static int v1_cpuset_inherit(const char *dir, const char *parent)
{
	char buf[1024];

	for (int i = 0; i < 2; i++) {
		const char *f = i ? "cpuset.mems" : "cpuset.cpus";
		char cur[8];
		if (read_file(dir, f, cur, sizeof(cur)) == 0 && cur[0])
			continue;
		if (read_file(parent, f, buf, sizeof(buf)) < 0 || write_file(dir, f, buf) < 0)
			return -1;
	}
	return 0;
}

static int apply_v1(const char *ctrl, const char *dir, const struct limits *l, char *err, size_t n)
{
	char v[64];

	if (!strcmp(ctrl, "memory") && l->memory) {
		snprintf(v, sizeof(v), "%llu", (unsigned long long)l->memory);
		/* memsw = memory: no swap on top of the limit. The kernel keeps
		 * memory <= memsw at each write: a raise (mdk-oci update) goes
		 * memsw first, a cut memory first. */
		int first = write_file(dir, "memory.limit_in_bytes", v);
		bool raise = first < 0 && errno == EINVAL;
		if (first < 0 && !raise)
			return cg_fail(err, n, "memory limit %s: %s/memory.limit_in_bytes", v, dir);
		if (write_file(dir, "memory.memsw.limit_in_bytes", v) < 0 &&
		    (errno != ENOENT || host_has_swap()))
			return cg_fail(err, n, "swap limit %s: %s/memory.memsw.limit_in_bytes (swap accounting off?)", v, dir);
		if (raise && write_file(dir, "memory.limit_in_bytes", v) < 0)
			return cg_fail(err, n, "memory limit %s: %s/memory.limit_in_bytes", v, dir);
	}
	if (!strcmp(ctrl, "cpu") && l->cpu_quota) {
		snprintf(v, sizeof(v), "%llu", (unsigned long long)l->cpu_period);
		if (write_file(dir, "cpu.cfs_period_us", v) < 0)
			return cg_fail(err, n, "cpu period %s: %s/cpu.cfs_period_us", v, dir);
		snprintf(v, sizeof(v), "%llu", (unsigned long long)l->cpu_quota);
		if (write_file(dir, "cpu.cfs_quota_us", v) < 0)
			return cg_fail(err, n, "cpu quota %s: %s/cpu.cfs_quota_us", v, dir);
	}
	if (!strcmp(ctrl, "cpu") && l->cpu_shares) {
		snprintf(v, sizeof(v), "%llu", (unsigned long long)l->cpu_shares);
		if (write_file(dir, "cpu.shares", v) < 0)
			return cg_fail(err, n, "cpu shares %s: %s/cpu.shares", v, dir);
	}
	if (!strcmp(ctrl, "cpuset") && l->cpuset && write_file(dir, "cpuset.cpus", l->cpuset) < 0)
		return cg_fail(err, n, "cpuset '%s': %s/cpuset.cpus", l->cpuset, dir);
	if (!strcmp(ctrl, "pids") && l->pids) {
		snprintf(v, sizeof(v), "%llu", (unsigned long long)l->pids);
		if (write_file(dir, "pids.max", v) < 0)
			return cg_fail(err, n, "pids limit %s: %s/pids.max", v, dir);
	}
	for (size_t i = 0; !strcmp(ctrl, "blkio") && i < l->nblkio; i++) {
		const char *f = l->blkio[2 * i], *val = l->blkio[2 * i + 1];
		/* Weights are BFQ's where the CFQ files are gone (Linux 5.0). */
		if (write_file(dir, f, val) < 0 && (errno != ENOENT || strncmp(f, "blkio.weight", 12) ||
						    write_file(dir, xasprintf("blkio.bfq.%s", f + 6), val) < 0))
			return cg_fail(err, n, "block I/O limit '%s': %s", val, f);
	}
	return 0;
}

static int apply_v2(const char *dir, const struct limits *l, char *err, size_t n)
{
	char v[64];

	if (l->memory) {
		snprintf(v, sizeof(v), "%llu", (unsigned long long)l->memory);
		if (write_file(dir, "memory.max", v) < 0)
			return cg_fail(err, n, "memory limit %s: %s/memory.max", v, dir);
		if (write_file(dir, "memory.swap.max", "0") < 0 && (errno != ENOENT || host_has_swap()))
			return cg_fail(err, n, "swap limit %s: %s/memory.swap.max", "0", dir);
	}
	if (l->cpu_quota) {
		snprintf(v, sizeof(v), "%llu %llu", (unsigned long long)l->cpu_quota,
			 (unsigned long long)l->cpu_period);
		if (write_file(dir, "cpu.max", v) < 0)
			return cg_fail(err, n, "cpu limit '%s': %s/cpu.max", v, dir);
	}
	if (l->cpu_shares) {
		/* runc's mapping of shares [2, 262144] to weight [1, 10000]. */
		snprintf(v, sizeof(v), "%llu", 1 + ((unsigned long long)l->cpu_shares - 2) * 9999 / 262142);
		if (write_file(dir, "cpu.weight", v) < 0)
			return cg_fail(err, n, "cpu weight %s: %s/cpu.weight", v, dir);
	}
	if (l->cpuset && write_file(dir, "cpuset.cpus", l->cpuset) < 0)
		return cg_fail(err, n, "cpuset '%s': %s/cpuset.cpus", l->cpuset, dir);
	if (l->pids) {
		snprintf(v, sizeof(v), "%llu", (unsigned long long)l->pids);
		if (write_file(dir, "pids.max", v) < 0)
			return cg_fail(err, n, "pids limit %s: %s/pids.max", v, dir);
	}
	for (size_t i = 0; i < l->nblkio; i++) {
		/* v1's files, as v2 says them (runc's mapping). */
		const char *f = l->blkio[2 * i], *val = l->blkio[2 * i + 1], *key = NULL;
		char line[96];
		unsigned maj, min;
		unsigned long long x;
		if (!strcmp(f, "blkio.weight") && sscanf(val, "%llu", &x) == 1) {
			snprintf(line, sizeof(line), "default %llu", 1 + (x - 10) * 9999 / 990);
			f = "io.weight";
		} else if (!strcmp(f, "blkio.weight_device") && sscanf(val, "%u:%u %llu", &maj, &min, &x) == 3) {
			snprintf(line, sizeof(line), "%u:%u %llu", maj, min, 1 + (x - 10) * 9999 / 990);
			f = "io.weight";
		} else {
			key = strstr(f, "read_bps") ? "rbps" : strstr(f, "write_bps") ? "wbps" :
			      strstr(f, "read_iops") ? "riops" : "wiops";
			if (sscanf(val, "%u:%u %llu", &maj, &min, &x) != 3)
				continue;
			snprintf(line, sizeof(line), "%u:%u %s=%llu", maj, min, key, x);
			f = "io.max";
		}
		if (write_file(dir, f, line) < 0)
			return cg_fail(err, n, "block I/O limit '%s': %s", line, f);
	}
	for (size_t i = 0; i < l->nunified; i++)
		if (write_file(dir, l->unified[2 * i], l->unified[2 * i + 1]) < 0)
			return cg_fail(err, n, "unified setting '%s' in %s", l->unified[2 * i], dir);
	return 0;
}

/* Enable CTRL in DIR's subtree_control unless it already is. */
static int v2_enable(const char *dir, const char *ctrl, char *err, size_t n)
{
	char have[512], want[32];

	if (read_file(dir, "cgroup.subtree_control", have, sizeof(have)) == 0) {
		for (char *t = strtok(have, " "); t; t = strtok(NULL, " "))
			if (!strcmp(t, ctrl))
				return 0;
	}
	if (read_file(dir, "cgroup.controllers", have, sizeof(have)) < 0)
		return cg_fail(err, n, "read %s/cgroup.controllers%s", dir, "");
	bool avail = false;
	for (char *t = strtok(have, " "); t; t = strtok(NULL, " "))
		avail |= !strcmp(t, ctrl);
	if (!avail) {
		errno = 0;
		return cg_fail(err, n, "cgroup v2 controller '%s' is not available in %s", ctrl, dir);
	}
	snprintf(want, sizeof(want), "+%s", ctrl);
	if (write_file(dir, "cgroup.subtree_control", want) < 0)
		return cg_fail(err, n, "enable controller '%s' in %s/cgroup.subtree_control", ctrl, dir);
	return 0;
}

static bool limits_need(const struct limits *l, const char *ctrl)
{
	if (!strcmp(ctrl, "memory"))
		return l->memory;
	if (!strcmp(ctrl, "cpu"))
		return l->cpu_quota || l->cpu_shares;
	if (!strcmp(ctrl, "cpuset"))
		return l->cpuset;
	if (!strcmp(ctrl, "devices"))
		return l->ndevices;
	if (!strcmp(ctrl, "blkio") || !strcmp(ctrl, "io"))
		return l->nblkio;
	return !strcmp(ctrl, "pids") && l->pids;
}

/* Undo a failed cgroup_create: rmdir only the directories it made (no task
 * is in them yet). Never cgroup_destroy(): the id may be another
 * container's, and that would kill it. */
static int undo(struct cgroup *cg)
{
	int e = errno;
	while (cg->ndirs > 0)
		rmdir(cg->dirs[--cg->ndirs]);
	if (cg->lockfd >= 0)
		close(cg->lockfd);
	cg->lockfd = -1;
	errno = e;
	return -1;
}

/* The hierarchy whose PARENT/ID directories carry the locks: v2's, or the
 * first v1 controller mounted. */
static char *lock_parent(enum cg_mode m)
{
	if (m == CG_V2)
		return xasprintf(CG "/%s", cgroup_parent());
	for (size_t i = 0; i < NV1; i++) {
		char *h = xasprintf(CG "/%s", v1_ctrl[i]);
		bool ok = is_cgroup_dir(h, CGROUP_SUPER_MAGIC);
		free(h);
		if (ok)
			return xasprintf(CG "/%s/%s", v1_ctrl[i], cgroup_parent());
	}
	return NULL;
}

/* mkdir DIR in PARENTDIR and hold an flock on it for the container's life.
 * A garbage collector takes PARENTDIR's lock exclusively and skips locked
 * children: it can never remove a cgroup between its mkdir and the first
 * task joining it, nor one in use. */
static int claim(struct cgroup *cg, const char *parentdir, const char *dir)
{
	int pfd = open(parentdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), e;

	if (pfd < 0 || flock(pfd, LOCK_SH) < 0 || mkdir(dir, 0755) < 0 ||
	    (cg->lockfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 ||
	    flock(cg->lockfd, LOCK_EX) < 0) {
		e = errno;
		if (pfd >= 0)
			close(pfd);
		return errno = e, -1;
	}
	close(pfd);
	return 0;
}

/* mkdir -p BASE/REL below a hierarchy's root BASE, one level at a time:
 * on v2 (ENABLE) with each level's controllers enabled for the next, on v1
 * cpuset levels filled from their parents. Not the leaf: REL is a parent. */
static int make_parents(const char *base, const char *rel, const struct limits *l, bool v2, bool cpuset,
			char *err, size_t n)
{
	char *dir = xasprintf("%s/%s", base, rel), *up;
	size_t at = strlen(base);
	int r = 0;

	for (;;) {
		char *slash = strchr(dir + at + 1, '/'), c = 0;
		if (slash)
			c = *slash, *slash = 0;
		up = xasprintf("%s", dir);
		*strrchr(up, '/') = 0;
		if (mkdir(dir, 0755) < 0 && errno != EEXIST)
			r = cg_fail(err, n, "mkdir %s%s", dir, "");
		else if (cpuset && v1_cpuset_inherit(dir, up) < 0)
			r = cg_fail(err, n, "fill cpuset of %s%s", dir, "");
		for (size_t i = 0; v2 && !r && i < sizeof(v2_ctrl) / sizeof(*v2_ctrl); i++) {
			const char *ctl = v2_ctrl[i];
			/* memory and pids are always on: accounting and cleanup. */
			bool want = limits_need(l, ctl) || !strcmp(ctl, "memory") || !strcmp(ctl, "pids");
			if (want && (v2_enable(up, ctl, err, n) < 0 || v2_enable(dir, ctl, err, n) < 0) &&
			    limits_need(l, ctl))
				r = -1;	/* a limit needs it; else fine without */
		}
		free(up);
		if (r < 0 || !slash)
			break;
		*slash = c;
		at = (size_t)(slash - dir);
	}
	free(dir);
	return r;
}

static bool v1_wanted(const char *c, const struct limits *l, unsigned flags)
{
	if (flags & CG_ALL)
		return true;
	return limits_need(l, c) || !strcmp(c, "memory") || !strcmp(c, "pids");
}

static int apply_devices(const char *dir, const struct limits *l, char *err, size_t n)
{
	for (size_t i = 0; i < l->ndevices; i++) {
		const char *rule = l->devices[i];
		if (write_file(dir, rule[0] == '+' ? "devices.allow" : "devices.deny", rule + 1) < 0)
			return cg_fail(err, n, "device rule '%s': %s", rule + 1, dir);
	}
	return 0;
}

int cgroup_create_at(struct cgroup *cg, const char *path, const struct limits *l, unsigned flags, char *err,
		     size_t n)
{
	const char *slash = strrchr(path, '/');
	char *parent = slash ? strndup(path, (size_t)(slash - path)) : NULL;

	memset(cg, 0, sizeof(*cg));
	cg->lockfd = -1;
	cg->mode = cgroup_mode();
	snprintf(cg->path, sizeof(cg->path), "%s", path);
	if (cg->mode == CG_NONE) {
		bool any = l->memory || l->cpu_quota || l->cpu_shares || l->cpuset || l->pids;
		free(parent);
		errno = 0;
		return any ? cg_fail(err, n, "no cgroup filesystem at %s%s: cannot apply limits", CG, "") : 0;
	}
	if (cg->mode != CG_V2 && l->nunified) {
		free(parent);
		errno = 0;
		return cg_fail(err, n, "unified cgroup settings need cgroup v2%s%s", "", "");
	}
	if (cg->mode == CG_V2) {
		int r = parent ? make_parents(CG, parent, l, true, false, err, n) : 0;
		char *p = parent ? xasprintf(CG "/%s", parent) : xasprintf(CG);
		if (!r) {
			cg->dirs[0] = xasprintf(CG "/%s", path);
			if (claim(cg, p, cg->dirs[0]) < 0)
				r = cg_fail(err, n, "mkdir %s%s", cg->dirs[0],
					    errno == EEXIST ? " (a container with this id runs?)" : "");
		}
		free(p);
		free(parent);
		if (r < 0)
			return -1;
		cg->ndirs = 1;
		if (apply_v2(cg->dirs[0], l, err, n) < 0)
			return undo(cg);
		return 0;
	}
	dev_t made[sizeof(v1_all) / sizeof(*v1_all)];
	size_t nmade = 0;
	for (size_t i = 0; i < sizeof(v1_all) / sizeof(*v1_all); i++) {
		const char *c = v1_all[i];
		struct stat st;
		bool again = false;
		if (!v1_wanted(c, l, flags))
			continue;
		char *h = xasprintf(CG "/%s", c), *p;
		if (!is_cgroup_dir(h, strcmp(c, "unified") ? CGROUP_SUPER_MAGIC : CGROUP2_SUPER_MAGIC)) {
			free(h);
			if (!limits_need(l, c))
				continue;
			errno = 0;
			cg_fail(err, n, "cgroup v1 controller '%s' is not mounted at %s/%s", c, CG "");
			free(parent);
			return undo(cg);
		}
		/* Controllers mounted together are one hierarchy under two names
		 * (systemd's cpu,cpuacct with a link for each): one directory. */
		if (stat(h, &st) == 0) {
			for (size_t j = 0; j < nmade; j++)
				again |= made[j] == st.st_dev;
			if (!again)
				made[nmade++] = st.st_dev;
		}
		if (again) {
			free(h);
			continue;
		}
		p = parent ? xasprintf("%s/%s", h, parent) : xasprintf("%s", h);
		int r = 0;
		if (parent && make_parents(h, parent, l, false, !strcmp(c, "cpuset"), err, n) < 0) {
			r = -1;
		} else {
			cg->dirs[cg->ndirs] = xasprintf("%s/%s", h, path);
			if (cg->ndirs == 0 ? claim(cg, p, cg->dirs[0]) < 0 : mkdir(cg->dirs[cg->ndirs], 0755) < 0) {
				r = cg_fail(err, n, "mkdir %s%s", cg->dirs[cg->ndirs], errno == EEXIST ? " (a container with this id runs?)" : "");
				/* Not ours: undo must not remove it. */
				free(cg->dirs[cg->ndirs]);
				cg->dirs[cg->ndirs] = NULL;
			} else {
				cg->ndirs++;
				const char *d = cg->dirs[cg->ndirs - 1];
				if ((!strcmp(c, "cpuset") && v1_cpuset_inherit(d, p) < 0 &&
				     cg_fail(err, n, "fill cpuset of %s%s", d, "") < 0) ||
				    apply_v1(c, d, l, err, n) < 0 ||
				    (!strcmp(c, "devices") && apply_devices(d, l, err, n) < 0))
					r = -1;
			}
		}
		free(h);
		free(p);
		if (r < 0) {
			free(parent);
			return undo(cg);
		}
	}
	free(parent);
	return 0;
}

/* New limits for the cgroup at PATH, made by cgroup_create_at. */
int cgroup_update_at(const char *path, const struct limits *l, char *err, size_t n)
{
	enum cg_mode m = cgroup_mode();
	int r = 0;

	if (m == CG_V2) {
		char *d = xasprintf(CG "/%s", path);
		r = apply_v2(d, l, err, n);
		free(d);
		return r;
	}
	for (size_t i = 0; i < NV1 && !r; i++) {
		char *d = xasprintf(CG "/%s/%s", v1_ctrl[i], path);
		if (limits_need(l, v1_ctrl[i]))
			r = apply_v1(v1_ctrl[i], d, l, err, n);
		free(d);
	}
	return r;
}

int cgroup_create(struct cgroup *cg, const char *id, const struct limits *l, char *err, size_t n)
{
	char path[2 * MDK_NAME_MAX + 2];

	snprintf(path, sizeof(path), "%s/%s", cgroup_parent(), id);
	return cgroup_create_at(cg, path, l, 0, err, n);
}

int cgroup_attach(const struct cgroup *cg, pid_t pid, char *err, size_t n)
{
	char v[24];

	snprintf(v, sizeof(v), "%d", (int)pid);
	for (size_t i = 0; i < cg->ndirs; i++)
		if (write_file(cg->dirs[i], "cgroup.procs", v) < 0)
			return cg_fail(err, n, "join cgroup %s%s", cg->dirs[i], "");
	return 0;
}

/* FN on each cgroup below DIR (its subdirectories: a container with a
 * writable cgroup mount makes its own). */
static void each_child(const char *dir, void (*fn)(const char *child, void *arg), void *arg)
{
	DIR *d = opendir(dir);
	struct dirent *de;

	while (d && (de = readdir(d))) {
		if (de->d_type != DT_DIR || !strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		char *c = xasprintf("%s/%s", dir, de->d_name);
		fn(c, arg);
		free(c);
	}
	if (d)
		closedir(d);
}

/* Thaw DIR and every cgroup below it: a frozen task cannot die (v1), and
 * a child frozen on its own stays frozen when its parent thaws. */
static void thaw_tree(const char *dir, void *v2 /* non-NULL: v2 */)
{
	write_file(dir, v2 ? "cgroup.freeze" : "freezer.state", v2 ? "0" : "THAWED");
	each_child(dir, thaw_tree, v2);
}

static int destroy_dir(const char *dir);

static void destroy_child(const char *dir, void *arg)
{
	(void)arg;
	destroy_dir(dir);
}

/* Kill everything in DIR, then rmdir it, retrying while the kernel still
 * tears the last tasks down (EBUSY): at most about two seconds. The
 * cgroups below it go first, the same way. */
static int destroy_dir(const char *dir)
{
	struct timespec ts = { 0, 2 * 1000 * 1000 };

	for (int i = 0; i < 1000; i++) {
		if (rmdir(dir) == 0 || errno == ENOENT)
			return 0;
		if (errno != EBUSY)
			return -1;
		each_child(dir, destroy_child, NULL);
		if (write_file(dir, "cgroup.kill", "1") < 0) {
			/* v1, or v2 before Linux 5.14: one by one. */
			char path[512];
			snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
			FILE *f = fopen(path, "re");
			int pid;
			while (f && fscanf(f, "%d", &pid) == 1)
				kill(pid, SIGKILL);
			if (f)
				fclose(f);
		}
		nanosleep(&ts, NULL);
	}
	return errno = EBUSY, -1;
}

void cgroup_thaw_all_at(const char *path)
{
	bool v2 = cgroup_mode() == CG_V2;
	char *d = v2 ? xasprintf(CG "/%s", path) : xasprintf(CG "/freezer/%s", path);

	thaw_tree(d, v2 ? (void *)"v2" : NULL);
	free(d);
}

/* Frozen containers (mdk-oci pause, a commit's v1_freeze, a cgroup the
 * container froze itself) are thawed first, or their tasks could not die. */
int cgroup_destroy_at(const char *path)
{
	int err = 0;
	char *d;
	enum cg_mode mode = cgroup_mode();

	if (mode == CG_NONE)
		return 0;
	cgroup_thaw_all_at(path);
	switch (mode) {
	case CG_V2:
		d = xasprintf(CG "/%s", path);
		if (destroy_dir(d) < 0)
			err = errno;
		free(d);
		break;
	default:
		for (size_t i = 0; i < sizeof(v1_all) / sizeof(*v1_all); i++) {
			d = xasprintf(CG "/%s/%s", v1_all[i], path);
			if (destroy_dir(d) < 0 && !err)
				err = errno;
			free(d);
		}
	}
	return err ? (errno = err, -1) : 0;
}

/* How many of container ID's processes the OOM killer took: the
 * "oom_kill N" line of memory.events (v2) or memory.oom_control (v1). */
long cgroup_oom_kills(const char *id)
{
	bool v2 = cgroup_mode() == CG_V2;
	char *path = v2 ? xasprintf(CG "/%s/%s/memory.events", cgroup_parent(), id) :
			  xasprintf(CG "/memory/%s/%s/memory.oom_control", cgroup_parent(), id);
	char buf[1024], *l;	/* never the first line */
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);

	if (fd >= 0)
		close(fd);
	free(path);
	if (n <= 0)
		return 0;
	buf[n] = 0;
	return (l = strstr(buf, "\noom_kill ")) ? atol(l + 10) : 0;
}

int cgroup_destroy(const char *id)
{
	char path[2 * MDK_NAME_MAX + 2];

	snprintf(path, sizeof(path), "%s/%s", cgroup_parent(), id);
	return cgroup_destroy_at(path);
}

/* Is container cgroup NAME (in the lock hierarchy's PARENT, open as
 * BASEFD) in use: its lock held (mdk-run alive) or a task in it? */
static bool in_use(int basefd, const char *base, const char *name)
{
	char buf[64], *dir = xasprintf("%s/%s", base, name);
	int fd = openat(basefd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	bool used = fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) < 0;

	if (fd >= 0)
		close(fd);
	used |= read_file(dir, "cgroup.procs", buf, sizeof(buf)) == 0 && buf[0];
	free(dir);
	return used;
}

/* Does a live mdk-run hold container ID's cgroup lock? */
bool cgroup_locked(const char *id)
{
	char *base = lock_parent(cgroup_mode()), *dir;
	int fd;
	bool locked;

	if (!base)
		return false;
	dir = xasprintf("%s/%s", base, id);
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	locked = fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) < 0 && errno == EWOULDBLOCK;
	if (fd >= 0)
		close(fd);
	free(dir);
	free(base);
	return locked;
}

/* For each container cgroup under PARENT: FN(id, in use). With PRUNE, the
 * ones not in use are removed (FN is told after), under PARENT's exclusive
 * lock, so that no container being set up can be taken for a dead one. */
int cgroup_list(bool prune, void (*fn)(const char *id, bool used, void *arg), void *arg)
{
	char *base = lock_parent(cgroup_mode());
	int fd, err = 0;
	DIR *d;
	struct dirent *de;

	if (!base)
		return 0;
	if ((fd = open(base, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		free(base);
		return errno == ENOENT ? 0 : -1;
	}
	if (prune && flock(fd, LOCK_EX) < 0) {
		err = errno;
		goto out;
	}
	if (!(d = fdopendir(dup(fd)))) {
		err = errno;
		goto out;
	}
	while ((de = readdir(d))) {
		if (de->d_type != DT_DIR || !valid_name(de->d_name))
			continue;
		bool used = in_use(fd, base, de->d_name);
		if (prune && !used && cgroup_destroy(de->d_name) < 0 && !err)
			err = errno;
		fn(de->d_name, used, arg);
	}
	closedir(d);
out:
	close(fd);
	free(base);
	return err ? (errno = err, -1) : 0;
}

/* PIDs listed in DIR/cgroup.procs, into V (at most N); their count. */
static size_t procs(const char *dir, int *v, size_t n)
{
	char path[512];
	size_t k = 0;
	int pid;

	snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
	FILE *f = fopen(path, "re");
	while (f && k < n && fscanf(f, "%d", &pid) == 1)
		v[k++] = pid;
	if (f)
		fclose(f);
	return k;
}

/* v1: containers have no freezer cgroup (one more per run would cost every
 * run). To freeze one, its processes are moved (by its lock hierarchy's
 * list) into freezer/PARENT/ID, made FROZEN first so that each stops as it
 * joins, until none is left outside; cgroup_destroy removes it. */
static int v1_freeze(const char *id, const char *d)
{
	char *parent = xasprintf(CG "/freezer/%s", cgroup_parent()), *lp = lock_parent(CG_V1);
	char *src = lp ? xasprintf("%s/%s", lp, id) : NULL, pid[24];
	static int in[4096], out[4096];
	int ret = -1;

	if (!src || !is_cgroup_dir(CG "/freezer", CGROUP_SUPER_MAGIC)) {
		errno = ENOENT;
		goto out;
	}
	if ((mkdir(parent, 0755) < 0 && errno != EEXIST) || (mkdir(d, 0755) < 0 && errno != EEXIST) ||
	    write_file(d, "freezer.state", "FROZEN") < 0)
		goto out;
	for (int round = 0; round < 1000; round++) {
		size_t ni = procs(src, in, 4096), no = procs(d, out, 4096), moved = 0;
		for (size_t i = 0; i < ni; i++) {
			bool there = false;
			for (size_t j = 0; j < no && !there; j++)
				there = in[i] == out[j];
			if (there)
				continue;
			snprintf(pid, sizeof(pid), "%d", in[i]);
			if (write_file(d, "cgroup.procs", pid) < 0 && errno != ESRCH)
				goto out;
			moved++;
		}
		if (!moved) {
			ret = 0;
			break;
		}
	}
	if (ret < 0)
		errno = EAGAIN;
out:
	free(parent);
	free(lp);
	free(src);
	return ret;
}

/* Freeze (or thaw) the cgroup at PATH: cgroup.freeze on v2, the v1
 * freezer's state (where FIRST, if not NULL, moves the tasks in first);
 * waits (up to 10 s) until they are. -1 with ENOENT: no freezer for it. */
static int freeze_at(const char *path, bool frozen, const char *first)
{
	struct timespec ts = { 0, 1000000 };
	bool v2 = cgroup_mode() == CG_V2;
	char *d = v2 ? xasprintf(CG "/%s", path) : xasprintf(CG "/freezer/%s", path);
	/* v2 says it in cgroup.events; v1 reads FREEZING until it is. */
	const char *file = v2 ? "cgroup.freeze" : "freezer.state";
	const char *val = v2 ? (frozen ? "1" : "0") : (frozen ? "FROZEN" : "THAWED");
	const char *want = v2 ? (frozen ? "frozen 1" : "frozen 0") : val;
	char buf[4096];
	int ret = -1;

	if (!v2 && frozen && first ? v1_freeze(first, d) < 0 : write_file(d, file, val) < 0)
		goto out;
	char *state = xasprintf("%s/%s", d, v2 ? "cgroup.events" : file);
	for (int i = 0; i < 10000 && ret < 0; i++) {
		int fd = open(state, O_RDONLY | O_CLOEXEC);
		ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);
		if (fd >= 0)
			close(fd);
		if (n >= 0 && ((buf[n] = 0), strstr(buf, want)))
			ret = 0;
		else
			nanosleep(&ts, NULL);
	}
	free(state);
	if (ret < 0)
		errno = ETIMEDOUT;
out:
	free(d);
	return ret;
}

int cgroup_freeze(const char *id, bool frozen)
{
	char path[2 * MDK_NAME_MAX + 2];

	snprintf(path, sizeof(path), "%s/%s", cgroup_parent(), id);
	return freeze_at(path, frozen, id);
}

int cgroup_freeze_at(const char *path, bool frozen)
{
	return freeze_at(path, frozen, NULL);
}

struct pidv {
	int *v;
	size_t n, k;
};

static void procs_tree(const char *dir, void *arg)
{
	struct pidv *p = arg;

	p->k += procs(dir, p->v + p->k, p->n - p->k);
	each_child(dir, procs_tree, p);
}

/* PIDs in the cgroup at PATH and the cgroups below it (the first
 * hierarchy's on v1), into V (at most N): their count. */
size_t cgroup_pids_at(const char *path, int *v, size_t n)
{
	char *d = cgroup_mode() == CG_V2 ? xasprintf(CG "/%s", path) : xasprintf(CG "/memory/%s", path);
	struct pidv p = { v, n, 0 };

	procs_tree(d, &p);
	free(d);
	return p.k;
}
