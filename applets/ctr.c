/* mdk-ctr: the containers of a data root -- list them, wait for them,
 * signal, stop and remove them. The one owner of the rules that say whether
 * a container runs, whose it is, and when it may go: m-docker's ps, rm,
 * prune, kill, stop and wait compose it.
 *
 * usage: mdk-ctr [-R ROOT] ls [-a] [-q] | rm [-f] ID... | prune | wait ID...
 *                | kill [-s SIG] ID... | stop [-t SECS] ID... | inspect ID
 *
 * A container is ROOT/layers/ID+rw (mdk-overlay-up made it: the claim on
 * the ID, a name or 12 hex digits) and its mount point ROOT/rootfs/ID. In
 * layers/ID+rw:
 *   state      mdk-overlay-up's record (what it mounted, created=)
 *   run        m-docker's record, written by one write ending in "end=1":
 *              name=, image=, cmd=, stopsignal=, detached=1 (run -d), pid=
 *              and start= of a foreground run's mdk-run, owner= and
 *              owner_start= of the m-docker that started it
 *   pid        mdk-run --pid-file (run -d): pid=, start=, init=; the
 *              monitor, when the record names no mdk-run
 *   exit       mdk-run --exit-file: its status, once it has ended
 *   log, log.1 a detached container's output (mdk-run --log)
 * A process is named by its PID and start time: a recycled PID, a zombie
 * or a reboot never looks alive. A container runs while its mdk-run lives.
 * It is owned while it runs, while the m-docker that started it lives (it
 * is being set up or removed), or, without a complete record, for its first
 * minute; nobody else removes an owned container. ID may be a unique prefix.
 *
 * Exit codes: 0 ok, 1 failed (or no such container, or not running for
 * kill), 2 usage error, 3 rm refused: the container runs (rm -f removes it). */
#include <dirent.h>
#include <getopt.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "mdk.h"

const char ctr_usage[] =
	"usage: mdk-ctr [-R ROOT] ls [-a] [-q] | rm [-f] ID... | prune | wait ID...\n"
	"               | kill [-s SIG] ID... | stop [-t SECS] ID... | inspect ID\n"
	"The containers of a data root (m-docker's); ID may be a unique prefix.\n"
	"  ls [-a] [-q]  running containers (-a: all) as docker ps shows them;\n"
	"                -q: IDs only\n"
	"  rm [-f] ID... remove (refused while it runs; -f: kill it first)\n"
	"  prune         remove every container nobody owns: exited, or orphaned\n"
	"  wait ID...    wait until each has ended; print its exit status\n"
	"  kill [-s SIG] ID...  send SIG (default KILL; a name or number)\n"
	"  stop [-t SECS] ID... send the image's stop signal (default TERM), then\n"
	"                after SECS (default 10) SIGKILL\n"
	"  claim ID      (for start) make an exited container the caller's, under\n"
	"                its lock; 1 when it runs or another has it\n"
	"  inspect ID    KEY=VALUE lines: id, name, image, cmd, stopsignal, status\n"
	"                (running, exited, created, removing, dead), exit, pid (the\n"
	"                monitor), mounted (0|1), dir (its rw layer's directory)\n"
	"  -R ROOT       data root (default $MDK_ROOT, else " MDK_DEFAULT_ROOT ")\n"
	"Exit codes: 0 ok, 1 failed (no such container; kill: not running),\n"
	"2 usage error, 3 rm refused: the container runs.\n";

static int rootfd, layersfd = -1;
static char *root;

struct proc { pid_t pid; unsigned long long start; };

struct ctr {
	char id[MDK_NAME_MAX + 1];
	bool complete;			/* the run record has its end=1 */
	struct proc mon, owner;		/* mdk-run; the m-docker that started it */
	char name[MDK_NAME_MAX + 1], image[256], cmd[512], stopsignal[32];
	time_t created;
	bool exited;			/* an exit file */
	int status;			/* ... and what it says */
	time_t exited_at;
	time_t started;			/* the pid file's time: when it last started */
};

/* --- records ------------------------------------------------------------------- */
static bool alive(const struct proc *p)
{
	unsigned long long s;
	return p->pid > 0 && proc_starttime(p->pid, &s) == 0 && s == p->start;
}

/* Read layers/ID+rw/NAME (small) into BUF; "" when missing. */
static void read_small(const char *id, const char *name, char *buf, size_t n)
{
	char path[MDK_NAME_MAX + 16];
	ssize_t k = -1;
	int fd;

	snprintf(path, sizeof(path), "%s+rw/%s", id, name);
	if ((fd = openat(layersfd, path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) >= 0) {
		k = read(fd, buf, n - 1);
		close(fd);
	}
	buf[k > 0 ? k : 0] = 0;
}

/* The value of KEY= in the lines of BUF (the first one), into OUT. */
static bool val(const char *buf, const char *key, char *out, size_t n)
{
	size_t kl = strlen(key);

	for (const char *l = buf; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
		if (!strncmp(l, key, kl) && l[kl] == '=') {
			snprintf(out, n, "%.*s", (int)strcspn(l + kl + 1, "\n"), l + kl + 1);
			return true;
		}
	}
	if (n)
		*out = 0;
	return false;
}

static void proc_val(const char *buf, const char *pkey, const char *skey, struct proc *p)
{
	char a[32], b[32];
	uint64_t pid = 0, start = 0;

	if (val(buf, pkey, a, sizeof(a)) && val(buf, skey, b, sizeof(b)) &&
	    parse_uint(a, 1, INT32_MAX, &pid) == 0 && parse_uint(b, 0, UINT64_MAX, &start) == 0)
		*p = (struct proc){ (pid_t)pid, start };
}

static void ctr_read(const char *arg, struct ctr *c)
{
	char buf[4096], v[32], id[MDK_NAME_MAX + 1], path[MDK_NAME_MAX + 16], *rec = NULL;
	uint64_t u;
	struct stat st;
	size_t len = 0;
	int fd;

	snprintf(id, sizeof(id), "%s", arg);	/* ARG may be c->id */
	memset(c, 0, sizeof(*c));
	snprintf(c->id, sizeof(c->id), "%s", id);
	/* Whole: its cmd= line is as long as the command line (an image's
	 * Cmd may be kilobytes), and end=1 comes after it. */
	snprintf(path, sizeof(path), "%s+rw/run", id);
	if ((fd = openat(layersfd, path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) >= 0) {
		if (read_fd_max(fd, 8 << 20, &rec, &len) < 0)
			rec = NULL;
		close(fd);
	}
	/* One write ends in end=1: without it, the record is not there yet. */
	c->complete = rec && strstr(rec, "\nend=1\n") != NULL;
	if (c->complete) {
		proc_val(rec, "pid", "start", &c->mon);
		proc_val(rec, "owner", "owner_start", &c->owner);
		val(rec, "image", c->image, sizeof(c->image));
		val(rec, "cmd", c->cmd, sizeof(c->cmd));
		val(rec, "stopsignal", c->stopsignal, sizeof(c->stopsignal));
	}
	/* A detached one: its monitor's own pid file names it. */
	if (c->complete && !c->mon.pid) {
		char pbuf[256];
		read_small(id, "pid", pbuf, sizeof(pbuf));
		proc_val(pbuf, "pid", "start", &c->mon);
	}
	if (!c->complete || !val(rec, "name", c->name, sizeof(c->name)) || !*c->name)
		snprintf(c->name, sizeof(c->name), "%s", id);
	free(rec);
	read_small(id, "state", buf, sizeof(buf));
	if (val(buf, "created", v, sizeof(v)) && parse_uint(v, 0, INT64_MAX, &u) == 0)
		c->created = (time_t)u;
	snprintf(path, sizeof(path), "%s+rw/pid", id);
	c->started = fstatat(layersfd, path, &st, AT_SYMLINK_NOFOLLOW) == 0 ? st.st_mtime : c->created;
	snprintf(path, sizeof(path), "%s+rw/exit", id);
	if (fstatat(layersfd, path, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		read_small(id, "exit", buf, sizeof(buf));
		buf[strcspn(buf, "\n")] = 0;
		c->exited = parse_uint(buf, 0, 255, &u) == 0;
		c->status = (int)u;
		c->exited_at = st.st_mtime;
	}
}

/* (Its mdk-run alive after the exit file: it runs the exit command, e.g.
 * the removal of a --rm container; no signal may reach that.) */
static bool running(const struct ctr *c) { return alive(&c->mon) && !c->exited; }

/* Made less than a minute ago: the rw layer's directory (not the mount
 * point: that is the container's own "/", whose time it sets). */
static bool young(const char *id)
{
	char rw[MDK_NAME_MAX + 8];
	struct stat st;
	time_t age;

	snprintf(rw, sizeof(rw), "%s+rw", id);
	if (fstatat(layersfd, rw, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return false;
	age = time(NULL) - st.st_mtime;
	return age >= 0 && age < 60;
}

static bool ctr_exists(const char *id)
{
	char rw[MDK_NAME_MAX + 8];
	struct stat st;

	snprintf(rw, sizeof(rw), "%s+rw", id);
	if (fstatat(layersfd, rw, &st, AT_SYMLINK_NOFOLLOW) == 0)
		return true;
	snprintf(rw, sizeof(rw), "rootfs/%s", id);
	return fstatat(rootfd, rw, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

/* flock(2) on the container's rw layer directory: taken by whatever
 * decides from its record and then acts (rm, prune, claim), so a start
 * and a removal never act on one record at once. -1 when it is gone. */
static int ctr_lock(const char *id)
{
	char rw[MDK_NAME_MAX + 8];
	int fd;

	snprintf(rw, sizeof(rw), "%s+rw", id);
	if ((fd = openat(layersfd, rw, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		return -1;
	while (flock(fd, LOCK_EX) < 0)
		if (errno != EINTR) {
			close(fd);
			return -1;
		}
	return fd;
}

static bool owned(const struct ctr *c)
{
	if (alive(&c->mon) || alive(&c->owner))
		return true;
	return !c->complete && young(c->id);
}

/* --- the list of containers ---------------------------------------------------- */
static int id_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every container ID in the store (rw layers and mount points), sorted. */
static char **all_ids(size_t *n)
{
	static const char *const dirs[] = { "layers", "rootfs" };
	char **v = NULL;
	size_t cap = 0;

	*n = 0;
	for (size_t i = 0; i < 2; i++) {
		int fd = openat(rootfd, dirs[i], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		DIR *d = fd < 0 ? NULL : fdopendir(fd);
		struct dirent *de;

		if (!d) {
			if (errno != ENOENT)
				die_errno("open '%s/%s'", root, dirs[i]);
			continue;
		}
		while ((de = readdir(d))) {
			char id[MDK_NAME_MAX + 1];
			size_t l = strlen(de->d_name);
			if (i == 0 && (l < 4 || strcmp(de->d_name + l - 3, "+rw")))
				continue;
			snprintf(id, sizeof(id), "%.*s", (int)(i == 0 ? l - 3 : l), de->d_name);
			if (!valid_name(id))
				continue;
			if (*n == cap && !(v = realloc(v, (cap = cap ? 2 * cap : 16) * sizeof(*v))))
				die("out of memory");
			v[(*n)++] = xasprintf("%s", id);
		}
		closedir(d);
	}
	if (*n)
		qsort(v, *n, sizeof(*v), id_cmp);
	size_t k = 0;
	for (size_t i = 0; i < *n; i++) {
		if (k && !strcmp(v[k - 1], v[i]))
			free(v[i]);
		else
			v[k++] = v[i];
	}
	*n = k;
	return v;
}

static bool hex_id(const char *s)
{
	return strlen(s) == 12 && strspn(s, "0123456789abcdef") == 12;
}

/* ARG as a container: its name or ID; a prefix only of a generated ID (12
 * hex digits), as docker: "db" never names "db-prod". */
static bool find(const char *arg, struct ctr *c)
{
	size_t n, hits = 0, al = strlen(arg);
	char **ids = all_ids(&n);
	const char *hit = NULL;
	bool hex = al && strspn(arg, "0123456789abcdef") == al;

	for (size_t i = 0; i < n; i++) {
		if (!strcmp(ids[i], arg)) {
			hit = ids[i], hits = 1;
			break;
		}
		if (hex && hex_id(ids[i]) && !strncmp(ids[i], arg, al))
			hit = ids[i], hits++;
	}
	if (hits == 1 && valid_name(arg))
		ctr_read(hit, c);
	else if (hits > 1)
		warn("'%s' names %zu containers; give more of the ID", arg, hits);
	else
		warn("no such container '%s'", arg);
	for (size_t i = 0; i < n; i++)
		free(ids[i]);
	free(ids);
	return hits == 1 && valid_name(arg);
}

/* running, exited, created, removing or dead */
static const char *state_of(const struct ctr *c)
{
	if (running(c))
		return "running";
	if (c->exited)
		return "exited";
	if (owned(c))
		return alive(&c->owner) && c->mon.pid ? "removing" : "created";
	return "dead";
}

/* docker's words for the state: Up 3 minutes, Exited (0) 2 seconds ago. */
static void status_of(const struct ctr *c, char *out, size_t n)
{
	const char *st = state_of(c);
	char d[40];
	time_t now = time(NULL);

	if (!strcmp(st, "running")) {
		human_duration(now - c->started, d, sizeof(d));
		snprintf(out, n, "Up %s", d);
	} else if (!strcmp(st, "exited")) {
		human_duration(now - c->exited_at, d, sizeof(d));
		snprintf(out, n, "Exited (%d) %s ago", c->status, d);
	} else {
		snprintf(out, n, "%s", !strcmp(st, "removing") ? "Removal In Progress" :
				       !strcmp(st, "created") ? "Created" : "Dead");
	}
}

/* docker ps's table: columns as wide as their widest cell, 3 spaces apart. */
#define NCOL 6
static void cmd_ls(bool all, bool quiet)
{
	size_t n, rows = 0;
	char **ids = all_ids(&n);
	char *(*cell)[NCOL] = calloc(n + 1, sizeof(*cell));
	size_t w[NCOL] = { 0 };
	static const char *const head[NCOL] = { "CONTAINER ID", "IMAGE", "COMMAND", "CREATED",
						 "STATUS", "NAMES" };

	if (!cell)
		die("out of memory");
	for (int k = 0; k < NCOL; k++)
		cell[rows][k] = xasprintf("%s", head[k]);
	rows++;
	for (size_t i = 0; i < n; i++) {
		struct ctr c;
		char st[64], cr[48];

		ctr_read(ids[i], &c);
		free(ids[i]);
		if (!all && !running(&c))
			continue;
		if (quiet) {
			printf("%s\n", c.id);
			continue;
		}
		status_of(&c, st, sizeof(st));
		human_duration(time(NULL) - c.created, cr, sizeof(cr));
		cell[rows][0] = xasprintf("%s", c.id);
		cell[rows][1] = xasprintf("%s", *c.image ? c.image : "-");
		/* "sleep 30" quoted, cut to fit as docker does. */
		cell[rows][2] = strlen(c.cmd) > 20 ? xasprintf("\"%.19s…\"", c.cmd) :
						     xasprintf("\"%s\"", c.cmd);
		cell[rows][3] = xasprintf("%s ago", cr);
		cell[rows][4] = xasprintf("%s", st);
		cell[rows][5] = xasprintf("%s", c.name);
		rows++;
	}
	free(ids);
	for (size_t r = 0; !quiet && r < rows; r++)
		for (int k = 0; k < NCOL; k++)
			if (strlen(cell[r][k]) > w[k])
				w[k] = strlen(cell[r][k]);
	for (size_t r = 0; !quiet && r < rows; r++)
		for (int k = 0; k < NCOL; k++)
			printf(k < NCOL - 1 ? "%-*s   " : "%-*s\n", k < NCOL - 1 ? (int)w[k] : 0,
			       cell[r][k]);
	for (size_t r = 0; r < rows; r++)
		for (int k = 0; k < NCOL; k++)
			free(cell[r][k]);
	free(cell);
}

/* --- signals, waiting, removal ------------------------------------------------- */
/* A pidfd on P, or -1 when P is gone (checked after opening: from then on
 * the fd cannot name another process). */
static int proc_open(const struct proc *p)
{
	int fd = (int)syscall(SYS_pidfd_open, p->pid, 0);
	if (fd >= 0 && !alive(p)) {
		close(fd);
		return errno = ESRCH, -1;
	}
	return fd;
}

/* Wait for P to end, at most TIMEOUT ms (-1: for ever); true when it has. */
static bool proc_wait(const struct proc *p, int timeout)
{
	int fd = proc_open(p);
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	int r;

	if (fd < 0)
		return errno == ESRCH ? true : !alive(p);
	while ((r = poll(&pfd, 1, timeout)) < 0 && errno == EINTR)
		;
	close(fd);
	return r > 0;
}

/* The first child of process P (0: none). */
static pid_t first_child(pid_t p)
{
	char path[64], buf[32];
	ssize_t k = -1;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/children", (int)p, (int)p);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) >= 0) {
		k = read(fd, buf, sizeof(buf) - 1);
		close(fd);
	}
	buf[k > 0 ? k : 0] = 0;
	return (pid_t)atoi(buf);
}

/* SIG to the container of C. mdk-run forwards the usual ones to the
 * command; SIGKILL goes to the container's PID 1 (its PID namespace dies
 * with it, and mdk-run records the status and cleans up as after any end);
 * any other goes to the command itself (PID 1's child, or PID 1 with
 * --no-init), as docker kill sends it to the container's process. */
static int ctr_signal(const struct ctr *c, int sig)
{
	struct proc target = c->mon;
	bool fwd = false;
	int fd, r;

	for (const int *s = forwarded_signals; *s; s++)
		fwd = fwd || *s == sig;
	if (!fwd) {
		pid_t init = first_child(c->mon.pid), cmd = init > 0 ? first_child(init) : 0;
		target.pid = sig == SIGKILL || cmd <= 0 ? init : cmd;
		if (target.pid <= 0 || proc_starttime(target.pid, &target.start) < 0)
			return errno = ESRCH, -1;
	}
	if ((fd = proc_open(&target)) < 0)
		return -1;
	/* Opened: that PID cannot be recycled any more. Still the container's
	 * (its monitor alive, the same child of it)? */
	if (!fwd) {
		pid_t init = first_child(c->mon.pid);
		if (init != target.pid && (init <= 0 || first_child(init) != target.pid)) {
			close(fd);
			return errno = ESRCH, -1;
		}
	}
	if (!alive(&c->mon)) {
		close(fd);
		return errno = ESRCH, -1;
	}
	r = (int)syscall(SYS_pidfd_send_signal, fd, sig, NULL, 0);
	close(fd);
	return r;
}

/* An applet's main in a child: its die() ends the child, not us. */
static int run_applet(int (*fn)(int, char **), char **argv)
{
	int argc = 0, ws;
	pid_t pid;

	while (argv[argc])
		argc++;
	fflush(NULL);
	if ((pid = fork()) < 0)
		return -1;
	if (pid == 0) {
		optind = 1;
		exit(fn(argc, argv));
	}
	while (waitpid(pid, &ws, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(ws) ? WEXITSTATUS(ws) : 1;
}

int overlay_down_main(int argc, char **argv);

/* Remove a container that does not run: its cgroup (while the rw layer
 * still claims the ID), then its mounts and directories. */
static int ctr_remove(const struct ctr *c)
{
	if (cgroup_locked(c->id))
		return errno = EBUSY, -1;	/* its mdk-run lives after all */
	if (cgroup_destroy(c->id) < 0) {
		warn_errno("remove cgroup %s/%s", cgroup_parent(), c->id);
		return -1;
	}
	char *argv[] = { "mdk-overlay-down", "-R", root, (char *)c->id, NULL };
	if (run_applet(overlay_down_main, argv) == 0)
		return 0;
	/* Removed meanwhile by another (its own m-docker, a prune): done. */
	return errno = ctr_exists(c->id) ? EIO : ENOENT, -1;
}

static int cmd_rm(bool force, int argc, char **argv)
{
	int ret = 0;

	for (int i = 0; i < argc; i++) {
		struct ctr c;

		if (!find(argv[i], &c)) {
			ret = 1;
			continue;
		}
		if (running(&c) || (owned(&c) && !force)) {
			if (!force) {
				warn("container %s is %s; stop it first, or rm -f", c.id,
				     running(&c) ? "running" : "being set up or removed");
				ret = ret ? ret : 3;
				continue;
			}
			if (ctr_signal(&c, SIGKILL) < 0 && errno != ESRCH)
				warn_errno("kill container %s", c.id);
			proc_wait(&c.mon, -1);
		}
		/* A foreground one's m-docker removes it itself once its mdk-run
		 * has ended, and a --rm one's monitor: let them (two removals at
		 * once would trip each other). */
		if (alive(&c.mon))
			proc_wait(&c.mon, -1);
		if (alive(&c.owner))
			proc_wait(&c.owner, 30000);
		int lock = ctr_lock(c.id);
		if (lock >= 0) {
			ctr_read(c.id, &c);	/* under the lock: a start may have claimed it */
			if (owned(&c)) {
				warn("container %s is being started or removed by another", c.id);
				close(lock);
				ret = 1;
				continue;
			}
		}
		if (ctr_exists(c.id) && ctr_remove(&c) < 0 && errno != ENOENT) {
			if (errno != EIO)
				warn_errno("remove container %s", c.id);
			ret = 1;
		} else {
			printf("%s\n", argv[i]);
		}
		if (lock >= 0)
			close(lock);
	}
	return ret;
}

static int cmd_prune(void)
{
	size_t n;
	char **ids = all_ids(&n);
	int ret = 0;

	for (size_t i = 0; i < n; i++) {
		struct ctr c;

		ctr_read(ids[i], &c);
		free(ids[i]);
		if (owned(&c) || !ctr_exists(c.id))
			continue;
		/* Decided; now again under the container's lock (a start may
		 * have claimed it meanwhile), and removed while it is held. */
		int lock = ctr_lock(c.id);
		if (lock < 0)
			continue;	/* gone meanwhile */
		ctr_read(c.id, &c);
		if (!owned(&c)) {
			if (ctr_remove(&c) == 0)
				printf("%s\n", c.id);
			else if (errno != EBUSY && errno != ENOENT)
				ret = 1;
		}
		close(lock);
	}
	free(ids);
	return ret;
}

/* Wait for C to end; its status, -1 when unknown. A --rm container's
 * monitor removes it right after writing the exit file: the file is read
 * when it appears (inotify), not after the monitor is gone. */
static int ctr_wait(struct ctr *c)
{
	char dir[MDK_NAME_MAX + 8], buf[4096];
	int in = inotify_init1(IN_CLOEXEC | IN_NONBLOCK), pfd = proc_open(&c->mon);
	struct pollfd p[2] = { { .fd = pfd, .events = POLLIN }, { .fd = in, .events = POLLIN } };

	snprintf(dir, sizeof(dir), "%s+rw", c->id);
	if (in >= 0) {
		char path[MDK_NAME_MAX + 300];
		snprintf(path, sizeof(path), "%s/layers/%s", root, dir);
		inotify_add_watch(in, path, IN_MOVED_TO | IN_CLOSE_WRITE | IN_ONLYDIR);
	}
	for (;;) {
		ctr_read(c->id, c);
		if (c->exited || pfd < 0 || !alive(&c->mon))
			break;
		if (poll(p, in >= 0 ? 2 : 1, -1) < 0 && errno != EINTR)
			break;
		while (in >= 0 && read(in, buf, sizeof(buf)) > 0)
			;
	}
	if (!c->exited)
		ctr_read(c->id, c);	/* it may have come last */
	if (pfd >= 0)
		close(pfd);
	if (in >= 0)
		close(in);
	return c->exited ? c->status : -1;
}

static int cmd_wait(int argc, char **argv)
{
	int ret = 0;

	for (int i = 0; i < argc; i++) {
		struct ctr c;
		int st;

		if (!find(argv[i], &c)) {
			ret = 1;
		} else if ((st = ctr_wait(&c)) < 0) {
			warn("container %s ended without an exit status (its mdk-run was killed)", c.id);
			ret = 1;
		} else {
			printf("%d\n", st);
		}
	}
	return ret;
}

/* claim ID: for m-docker start: an exited (or dead) container becomes its
 * caller's (the record names our parent as its owner, its old monitor
 * gone), under the container's lock, so that no prune or rm takes it while
 * it starts; the old exit status and a dead monitor's cgroup go. Exit 0
 * claimed, 1 not (running, or another's), as said on stderr. */
static int cmd_claim(const char *arg)
{
	struct ctr c;
	struct proc me = { getppid(), 0 };
	char rw[MDK_NAME_MAX + 16], *old = NULL, *rec;
	size_t len = 0;
	int lock, fd;

	if (!find(arg, &c))
		return 1;
	if ((lock = ctr_lock(c.id)) < 0) {
		warn("no such container '%s'", arg);
		return 1;
	}
	/* (A removal that held the lock before us has taken it.) */
	if (!ctr_exists(c.id)) {
		warn("no such container '%s'", arg);
		return 1;
	}
	ctr_read(c.id, &c);
	if (running(&c) || owned(&c)) {
		warn("container %s is %s", c.id, running(&c) ? "running" : "being started or removed");
		return 1;
	}
	snprintf(rw, sizeof(rw), "%s+rw/args", c.id);
	if (faccessat(layersfd, rw, F_OK, 0) < 0) {
		warn("container %s was not started with run -d", c.id);
		return 1;
	}
	char target[PATH_MAX], **m;
	snprintf(target, sizeof(target), "%s/rootfs/%s", root, c.id);
	if (!(m = mounts_under(target)))
		die_errno("read /proc/self/mountinfo");
	if (!m[0]) {
		warn("the root of container %s is no longer mounted (a reboot?); remove it", c.id);
		return 1;
	}
	free_strv(m);
	if (proc_starttime(me.pid, &me.start) < 0)
		die_errno("read the start time of our caller");
	if (cgroup_locked(c.id) || cgroup_destroy(c.id) < 0)
		die_errno("remove the old cgroup of container %s", c.id);
	snprintf(rw, sizeof(rw), "%s+rw/run", c.id);
	if ((fd = openat(layersfd, rw, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) >= 0) {
		if (read_fd_max(fd, 1 << 20, &old, &len) < 0)
			die_errno("read '%s/layers/%s'", root, rw);
		close(fd);
	}
	/* The new owner first (the first of each key counts), then the rest
	 * of the old record but its end. */
	rec = xasprintf("pid=\nstart=\nowner=%d\nowner_start=%llu\n", (int)me.pid, me.start);
	for (char *l = old; l && l < old + len;) {
		char *e = memchr(l, '\n', (size_t)(old + len - l));
		size_t n = e ? (size_t)(e - l) + 1 : (size_t)(old + len - l);
		if (strncmp(l, "end=", 4)) {
			char *r = xasprintf("%s%.*s", rec, (int)n, l);
			free(rec);
			rec = r;
		}
		l += n;
	}
	char *r = xasprintf("%s%send=1\n", rec, len && old[len - 1] != '\n' ? "\n" : "");
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/layers/%s", root, rw);
	if (write_file_atomic(path, r) < 0)
		die_errno("write '%s'", path);
	snprintf(rw, sizeof(rw), "%s+rw/exit", c.id);
	if (unlinkat(layersfd, rw, 0) < 0 && errno != ENOENT)
		die_errno("remove '%s/layers/%s'", root, rw);
	close(lock);
	return 0;
}

/* inspect ID: what scripts need of one container, KEY=VALUE lines. */
static int cmd_inspect(const char *arg)
{
	struct ctr c;
	char target[PATH_MAX];
	char **m;

	if (!find(arg, &c))
		return 1;
	snprintf(target, sizeof(target), "%s/rootfs/%s", root, c.id);
	if (!(m = mounts_under(target)))
		die_errno("read /proc/self/mountinfo");
	printf("id=%s\nname=%s\nimage=%s\ncmd=%s\nstopsignal=%s\nstatus=%s\n", c.id, c.name,
	       c.image, c.cmd, c.stopsignal, state_of(&c));
	if (c.exited)
		printf("exit=%d\n", c.status);
	if (running(&c))
		printf("pid=%d\n", (int)c.mon.pid);
	printf("mounted=%d\ndir=%s/layers/%s+rw\n", m[0] != NULL, root, c.id);
	free_strv(m);
	return 0;
}

static int cmd_kill(int sig, int argc, char **argv)
{
	int ret = 0;

	for (int i = 0; i < argc; i++) {
		struct ctr c;

		if (!find(argv[i], &c)) {
			ret = 1;
		} else if (!running(&c)) {
			warn("container %s is not running", c.id);
			ret = 1;
		} else if (ctr_signal(&c, sig) < 0) {
			warn_errno(errno == ESRCH ? "container %s is not running" : "signal container %s", c.id);
			ret = 1;
		} else {
			printf("%s\n", argv[i]);
		}
	}
	return ret;
}

static int cmd_stop(uint64_t secs, int argc, char **argv)
{
	int ret = 0;

	for (int i = 0; i < argc; i++) {
		struct ctr c;
		int sig = SIGTERM;

		if (!find(argv[i], &c)) {
			ret = 1;
			continue;
		}
		/* Docker: stopping a stopped container is no error. */
		if (running(&c)) {
			if (*c.stopsignal && (sig = parse_signal(c.stopsignal)) < 0)
				sig = SIGTERM;
			if (ctr_signal(&c, sig) < 0 && errno != ESRCH)
				warn_errno("signal container %s", c.id);
			if (!proc_wait(&c.mon, (int)(secs * 1000))) {
				if (ctr_signal(&c, SIGKILL) < 0 && errno != ESRCH)
					warn_errno("kill container %s", c.id);
				proc_wait(&c.mon, -1);
			}
		}
		printf("%s\n", argv[i]);
	}
	return ret;
}

int ctr_main(int argc, char **argv)
{
	/* Each command and the options it takes. */
	static const char *const cmds[][2] = {
		{ "ls", "aq" }, { "rm", "f" }, { "prune", "" }, { "wait", "" }, { "kill", "s" },
		{ "stop", "t" }, { "inspect", "" }, { "claim", "" },
	};
	const char *rootflag = NULL, *cmd, *opts = NULL;
	bool all = false, quiet = false, force = false;
	uint64_t secs = 10;
	int c, sig = SIGKILL;

	opterr = 0;
	while ((c = getopt(argc, argv, "+R:")) != -1) {
		switch (c) {
		case 'R': rootflag = optarg; break;
		default: usage_die("unknown option '-%c'", optopt);
		}
	}
	if (optind >= argc)
		usage_die("no command (ls, rm, prune, wait, kill, stop, inspect)");
	cmd = argv[optind++];
	for (size_t i = 0; i < sizeof(cmds) / sizeof(*cmds); i++)
		if (!strcmp(cmd, cmds[i][0]))
			opts = cmds[i][1];
	if (!opts)
		usage_die("unknown command '%s'", cmd);
	while ((c = getopt(argc, argv, "+aqfs:t:")) != -1) {
		if (c == '?' || !strchr(opts, c))
			usage_die("%s: unknown option '-%c'", cmd, c == '?' ? optopt : c);
		switch (c) {
		case 'a': all = true; break;
		case 'q': quiet = true; break;
		case 'f': force = true; break;
		case 's':
			if ((sig = parse_signal(optarg)) < 0)
				usage_die("kill: invalid signal '%s'", optarg);
			break;
		case 't':
			if (parse_uint(optarg, 0, 86400, &secs) < 0)
				usage_die("stop: invalid -t '%s' (want seconds, 0 to 86400)", optarg);
			break;
		}
	}
	argc -= optind;
	argv += optind;
	bool listing = !strcmp(cmd, "ls") || !strcmp(cmd, "prune");
	if (listing && argc)
		usage_die("%s takes no container", cmd);
	if (!listing && !argc)
		usage_die("%s: no container given", cmd);
	if ((rootfd = store_open(store_root(rootflag), &root)) < 0)
		die_errno("data root '%s'", store_root(rootflag));
	if ((layersfd = openat(rootfd, "layers", O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0 &&
	    errno != ENOENT)
		die_errno("open '%s/layers'", root);

	if (!strcmp(cmd, "ls")) {
		cmd_ls(all, quiet);
		return 0;
	}
	if (!strcmp(cmd, "prune"))
		return cmd_prune();
	if (!strcmp(cmd, "rm"))
		return cmd_rm(force, argc, argv);
	if (!strcmp(cmd, "wait"))
		return cmd_wait(argc, argv);
	if (!strcmp(cmd, "inspect") || !strcmp(cmd, "claim")) {
		if (argc != 1)
			usage_die("%s: want one container", cmd);
		return cmd[0] == 'i' ? cmd_inspect(argv[0]) : cmd_claim(argv[0]);
	}
	if (!strcmp(cmd, "kill"))
		return cmd_kill(sig, argc, argv);
	return cmd_stop(secs, argc, argv);
}
