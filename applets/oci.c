/* mdk-oci: an OCI runtime with runc's command line, for the engines that
 * drive runc (podman with conmon, containerd's runc shim, CRI-O).
 *
 * usage: mdk-oci [GLOBAL OPTIONS] COMMAND [OPTIONS] ID ...
 *
 * create sets a container up from a bundle (BUNDLE/config.json) and leaves
 * its process waiting, already in its namespaces, cgroup and root, with its
 * capabilities, user and seccomp filter; start lets it exec the command.
 * The process is the user's own (no init in front of it): its PID is the
 * one reported, and whoever reaps it (conmon, the shim: a subreaper) gets
 * its status. State lives in ROOT/ID (state.json, and exec.fifo while the
 * container is created but not started).
 *
 * Exit codes: 0 ok; 1 failed (one line on stderr, and in --log); 2 usage;
 * run and exec without -d: the command's status (128+N killed by signal N). */#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <jansson.h>
#include <limits.h>
#include <linux/capability.h>
#include <linux/magic.h>
#include <linux/mount.h>
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

const char oci_usage[] =
	"usage: mdk-oci [GLOBAL OPTIONS] COMMAND [OPTIONS] ID\n"
	"An OCI runtime with runc's command line: podman --runtime, containerd's\n"
	"runc shim (ctr run --runc-binary) and CRI-O can drive it.\n"
	"Global options (before COMMAND; each also as --flag=value):\n"
	"  --root DIR         state directory (default /run/mdk-oci)\n"
	"  --log FILE         errors and warnings go to FILE too\n"
	"  --log-format text|json  one JSON object a line in FILE: level, msg, time\n"
	"  --systemd-cgroup   cgroupsPath is slice:prefix:name, made a cgroupfs path\n"
	"                     (SLICE/PREFIX-NAME.scope: there is no systemd here)\n"
	"  --debug            accepted (nothing more to say)\n"
	"Commands:\n"
	"  create [-b BUNDLE] [--pid-file F] [--console-socket SOCK] [--no-pivot]\n"
	"         [--no-new-keyring] [--preserve-fds N] ID\n"
	"                     set the container up; its process waits for start\n"
	"  start ID           let it exec process.args (poststart hooks after)\n"
	"  run [-b BUNDLE] [-d] [--pid-file F] [--console-socket SOCK] ID\n"
	"                     create and start; without -d wait, delete, and exit\n"
	"                     with its status\n"
	"  state ID           the state as JSON (status: created, running, paused,\n"
	"                     stopped)\n"
	"  kill [--all] ID [SIGNAL]  send SIGNAL (default TERM; a number or a name)\n"
	"  delete [--force] ID  remove a stopped (or created) container; --force\n"
	"                     kills a running one first\n"
	"  exec [-p process.json | ARGS...] [-d] [-t] [--pid-file F]\n"
	"       [--console-socket SOCK] [--cwd DIR] [-e K=V] [-u UID[:GID]] ID\n"
	"                     run another process in the container\n"
	"  ps [--format table|json] ID   the container's processes\n"
	"  pause ID, resume ID  freeze and thaw its cgroup\n"
	"  update [--resources FILE|-] [--memory N] [--pids-limit N] [--cpu-quota N]\n"
	"         [--cpu-period N] [--cpu-shares N] [--cpuset-cpus L] ID\n"
	"  list [--format table|json] [-q]   the containers under ROOT\n"
	"  spec [-b BUNDLE]   write a default config.json (rootfs: BUNDLE/rootfs)\n"
	"  features           what this runtime supports, as JSON\n"
	"  --version          the versions\n"
	"Exit codes: 0 ok; 1 failed; 2 usage error; run and exec (without -d): the\n"
	"process's status, 128+N if it was killed by signal N.\n";

/* The options every command shares: globals, and create's. */
static const char *state_root = "/run/mdk-oci";
static const char *console_socket, *pid_file, *bundle_dir;
static bool no_pivot, detach;
static int preserve_fds;

/* --- state -------------------------------------------------------------------------- */

/* ROOT/ID/state.json: what create learned, for the other commands. */
struct state {
	json_t *json;
	const char *id, *bundle, *rootfs, *created, *cgpath;
	pid_t pid;
	unsigned long long start;	/* of PID: a recycled PID has another */
	char status[16];
	int dirfd;			/* ROOT/ID */
};

static void valid_id(const char *id)
{
	if (!*id || strlen(id) > 1024 || id[0] == '.' || id[strspn(id, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-+@:")])
		die("invalid container id '%s' (want letters, digits and ._-+@:)", id);
}

static int root_open(bool make)
{
	int fd;

	if (make && mkdir_p(state_root, 0700) < 0)
		die_errno("state directory '%s'", state_root);
	if ((fd = open(state_root, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0 && (make || errno != ENOENT))
		die_errno("state directory '%s'", state_root);
	return fd;
}

/* Frozen by pause? v2 says it in cgroup.events, v1 in freezer.state. */
static bool frozen(const char *cgpath)
{
	char *f = cgroup_mode() == CG_V2 ? xasprintf("/sys/fs/cgroup/%s/cgroup.events", cgpath) :
					   xasprintf("/sys/fs/cgroup/freezer/%s/freezer.state", cgpath);
	char buf[256] = "";
	int fd = open(f, O_RDONLY | O_CLOEXEC);
	ssize_t k = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);

	if (fd >= 0)
		close(fd);
	free(f);
	if (k > 0)
		buf[k] = 0;
	return strstr(buf, "frozen 1") || !strncmp(buf, "FROZEN", 6);
}

static void state_status(struct state *st)
{
	unsigned long long t;
	struct stat sb;

	if (st->pid <= 0 || proc_starttime(st->pid, &t) < 0 || t != st->start)
		snprintf(st->status, sizeof(st->status), "stopped");
	else if (fstatat(st->dirfd, "exec.fifo", &sb, 0) == 0)
		snprintf(st->status, sizeof(st->status), "created");
	else if (frozen(st->cgpath))
		snprintf(st->status, sizeof(st->status), "paused");
	else
		snprintf(st->status, sizeof(st->status), "running");
}

/* Container ID's state; dies if there is none (exit 1, runc's words). */
static int state_load(const char *id, struct state *st)
{
	json_error_t je;
	char *text;
	size_t len;
	int rootfd, fd;

	valid_id(id);
	memset(st, 0, sizeof(*st));
	if ((rootfd = root_open(false)) < 0 || (st->dirfd = openat(rootfd, id, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0) {
		if (errno == ENOENT)
			die("container '%s' does not exist", id);
		die_errno("open state of '%s'", id);
	}
	close(rootfd);
	if ((fd = openat(st->dirfd, "state.json", O_RDONLY | O_CLOEXEC)) < 0) {
		if (errno == ENOENT)
			die("container '%s' does not exist (still being created, or half removed)", id);
		die_errno("open state of '%s'", id);
	}
	if (read_fd_max(fd, 4 << 20, &text, &len) < 0)
		die_errno("read state of '%s'", id);
	close(fd);
	if (!(st->json = json_loadb(text, len, 0, &je)) || !json_is_object(st->json))
		die("state of '%s': %s", id, st->json ? "not an object" : je.text);
	free(text);
	st->id = id;
	st->bundle = json_string_value(json_object_get(st->json, "bundle"));
	st->rootfs = json_string_value(json_object_get(st->json, "rootfs"));
	st->created = json_string_value(json_object_get(st->json, "created"));
	st->cgpath = json_string_value(json_object_get(st->json, "cgroupsPath"));
	st->pid = (pid_t)json_integer_value(json_object_get(st->json, "pid"));
	st->start = (unsigned long long)json_integer_value(json_object_get(st->json, "start"));
	if (!st->bundle || !st->rootfs || !st->created || !st->cgpath)
		die("state of '%s': not one mdk-oci wrote", id);
	state_status(st);
	return 0;
}

/* The state as the runtime spec says (for state, and hooks' stdin). */
static char *state_json(const struct state *st, unsigned flags)
{
	return oci_state_json(st->id, st->status, strcmp(st->status, "stopped") ? st->pid : 0, st->bundle,
			      st->rootfs, st->created, json_object_get(st->json, "annotations"), flags);
}


/* --- create -------------------------------------------------------------------------- */

/* Hand the pty master to the console socket, as runc does (SCM_RIGHTS). */
static int console_send(const char *path, int fd)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int s, r;

	if (strlen(path) >= sizeof(a.sun_path))
		return errno = ENAMETOOLONG, -1;
	strcpy(a.sun_path, path);
	if ((s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return -1;
	r = connect(s, (struct sockaddr *)&a, sizeof(a)) < 0 ? -1 : chan_send_fd(s, fd);
	int e = errno;
	close(s);
	errno = e;
	return r;
}

static int write_id_map(pid_t pid, const char *file, const char *map)
{
	char path[64];
	int fd, r;

	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, file);
	if ((fd = open(path, O_WRONLY | O_CLOEXEC)) < 0)
		return -1;
	r = write(fd, map, strlen(map)) == (ssize_t)strlen(map) ? 0 : -1;
	int e = errno;
	close(fd);
	errno = e;
	return r;
}

/* Close every fd from LO up but those in KEEP. */
static void close_from(int lo, const int *keep, size_t n)
{
	int hi = lo - 1;

	for (size_t i = 0; i < n; i++)
		hi = keep[i] > hi ? keep[i] : hi;
	for (int fd = lo; fd <= hi; fd++) {
		bool k = false;
		for (size_t i = 0; i < n; i++)
			k |= keep[i] == fd;
		if (!k)
			close(fd);
	}
	syscall(SYS_close_range, (unsigned)hi + 1, ~0U, 0U);
}

struct made {
	struct spec s;
	pid_t pid;		/* the container's process */
	pid_t child;		/* our child: the same, or (user namespace) its parent */
	int dirfd;		/* ROOT/ID */
	int lockfd;		/* ROOT/ID, flock'ed while it is made */
	char *state;		/* its state.json */
};

static void undo_create(struct made *c, const char *id)
{
	int rootfd = root_open(false);

	if (c->pid > 0)
		kill(c->pid, SIGKILL);
	if (c->child > 0)
		waitpid(c->child, NULL, 0);
	if (c->s.cgpath[0] && cgroup_destroy_at(c->s.cgpath) < 0)
		warn_errno("remove cgroup '%s'", c->s.cgpath);
	if (rootfd >= 0 && rm_tree_nocross(rootfd, id) < 0)
		warn_errno("remove '%s/%s'", state_root, id);
}

/* create's work: the container set up, its process waiting on the exec
 * fifo; its state written. Dies (having undone it all) on failure. */
static void create(const char *id, struct made *c)
{
	struct spec *s = &c->s;
	struct cgroup cg;
	char err[600], msg[640];
	int nsfd[NNS], sv[2], fifo, rootfd, st, fd;

	memset(c, 0, sizeof(*c));
	valid_id(id);
	oci_parse_spec(s, bundle_dir ? bundle_dir : ".", id, -1);
	s->no_pivot = no_pivot;
	s->preserve_fds = preserve_fds;
	time_rfc3339(s->created, sizeof(s->created));
	if (s->p.terminal && !console_socket)
		die("process.terminal needs --console-socket (oci_where the pty master goes)");
	if (s->seccomp && seccomp_compile(s->seccomp, strlen(s->seccomp), s->p.caps[0], &s->filter, err,
					  sizeof(err)) < 0)
		die("%s: linux.seccomp: %s", oci_where, err);
	for (size_t k = 0; k < NNS; k++)
		if ((nsfd[k] = s->nspath[k] ? open(s->nspath[k], O_RDONLY | O_CLOEXEC) : -1) < 0 && s->nspath[k])
			die_errno("%s namespace '%s'", ns_types[k].name, s->nspath[k]);
	rootfd = root_open(true);
	if (mkdirat(rootfd, id, 0700) < 0)
		die(errno == EEXIST ? "container '%s' already exists" : "make '%s/%s': %s", id, state_root,
		    strerror(errno));
	s->cgpath[sizeof(s->cgpath) - 1] = 0;
	char cgpath[sizeof(s->cgpath)];
	strcpy(cgpath, s->cgpath);
	s->cgpath[0] = 0;	/* not ours until made */
	/* Held until the state is written: delete --force tells a create
	 * under way from one that died half done. */
	if ((c->lockfd = openat(rootfd, id, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 || flock(c->lockfd, LOCK_EX) < 0 ||
	    (c->dirfd = openat(rootfd, id, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0 ||
	    mkfifoat(c->dirfd, "exec.fifo", 0600) < 0 ||
	    /* (writable by a user namespace's root: it reopens it) */
	    fchmodat(c->dirfd, "exec.fifo", 0622, 0) < 0 ||
	    (fifo = openat(c->dirfd, "exec.fifo", O_PATH | O_CLOEXEC)) < 0) {
		snprintf(msg, sizeof(msg), "make '%s/%s/exec.fifo': %s", state_root, id, strerror(errno));
		goto fail;
	}
	close(rootfd);
	if (cgroup_create_at(&cg, cgpath, &s->lim, CG_ALL, err, sizeof(err)) < 0) {
		snprintf(msg, sizeof(msg), "cgroup: %s", err);
		goto fail;
	}
	strcpy(s->cgpath, cgpath);
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		snprintf(msg, sizeof(msg), "socketpair: %s", strerror(errno));
		goto fail;
	}
	/* The next child is PID 1 of the container's PID namespace (or one
	 * of the namespace joined); ours go back to ours after it: the hooks
	 * run in the host's. */
	int own = open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC);
	if (own < 0 || (nsfd[NS_PID] >= 0 && setns(nsfd[NS_PID], CLONE_NEWPID) < 0) ||
	    ((s->newns & CLONE_NEWPID) && !(s->newns & CLONE_NEWUSER) && unshare(CLONE_NEWPID) < 0)) {
		snprintf(msg, sizeof(msg), "PID namespace: %s", strerror(errno));
		goto fail;
	}
	c->child = c->pid = fork();
	if (c->pid != 0 && setns(own, CLONE_NEWPID) < 0) {
		snprintf(msg, sizeof(msg), "back to our PID namespace: %s", strerror(errno));
		goto fail;
	}
	if (c->pid < 0) {
		snprintf(msg, sizeof(msg), "fork: %s", strerror(errno));
		goto fail;
	}
	if (c->pid == 0) {
		int keep[NNS + 1];
		size_t nk = 0;
		keep[nk++] = sv[1];
		for (size_t k = 0; k < NNS; k++)
			if (nsfd[k] >= 0)
				keep[nk++] = nsfd[k];
		close_from(3 + preserve_fds, keep, nk);
		oci_container_main(s, sv[1], nsfd);
	}
	close(sv[1]);
	close(own);
	for (size_t k = 0; k < NNS; k++)
		if (nsfd[k] >= 0)
			close(nsfd[k]);
	if (cgroup_attach(&cg, c->pid, err, sizeof(err)) < 0) {
		snprintf(msg, sizeof(msg), "%s", err);
		goto fail;
	}
	if (cg.lockfd >= 0)
		close(cg.lockfd);
	if (s->p.oom_given) {
		char path[64], v[16];
		snprintf(path, sizeof(path), "/proc/%d/oom_score_adj", (int)c->pid);
		snprintf(v, sizeof(v), "%d", s->p.oom);
		if ((fd = open(path, O_WRONLY | O_CLOEXEC)) < 0 || write(fd, v, strlen(v)) < 0) {
			snprintf(msg, sizeof(msg), "oomScoreAdj %d: %s", s->p.oom, strerror(errno));
			goto fail;
		}
		close(fd);
	}
	for (char go = 'g';;) {
		if (go && write(sv[0], &go, 1) != 1) {
			snprintf(msg, sizeof(msg), "start the container's process: %s", strerror(errno));
			goto fail;
		}
		go = 0;
		ssize_t k = chan_recv(sv[0], &st, msg, sizeof(msg), &fd);
		if (k <= 0) {
			snprintf(msg, sizeof(msg), "the container's process ended during setup%s%s", k < 0 ? ": " : "",
				 k < 0 ? strerror(errno) : "");
			goto fail;
		}
		if (fd >= 0) {
			if (console_send(console_socket, fd) < 0) {
				snprintf(msg, sizeof(msg), "console socket '%s': %s", console_socket, strerror(errno));
				close(fd);
				goto fail;
			}
			close(fd);
		} else if (st) {
			goto fail;	/* MSG says why */
		} else if (!strcmp(msg, "user")) {
			if (write_id_map(c->pid, "uid_map", s->uidmap) < 0 || write_id_map(c->pid, "gid_map", s->gidmap) < 0) {
				snprintf(msg, sizeof(msg), "write the user namespace's id maps: %s", strerror(errno));
				goto fail;
			}
			go = 'g';
		} else if (!strncmp(msg, "pid ", 4)) {
			waitpid(c->child, NULL, 0);
			c->child = 0;
			c->pid = atoi(msg + 4);
		} else if (!strcmp(msg, "hooks")) {
			char *state = oci_spec_state(s, "creating", c->pid);
			int k = oci_hooks_run(s, H_PRESTART, state) < 0 ? H_PRESTART :
				oci_hooks_run(s, H_CREATE_RUNTIME, state) < 0 ? H_CREATE_RUNTIME : -1;
			if (k >= 0) {
				snprintf(msg, sizeof(msg), "a %s hook failed", hook_names[k]);
				free(state);
				goto fail;
			}
			free(state);
			go = 'g';
		} else if (!strcmp(msg, "ready")) {
			break;
		}
	}
	unsigned long long start;
	if (proc_starttime(c->pid, &start) < 0) {
		snprintf(msg, sizeof(msg), "the container's process is gone");
		goto fail;
	}
	json_t *ann = json_object_get(s->json, "annotations");
	json_t *o = json_pack("{s:s, s:s, s:i, s:I, s:s, s:s, s:s, s:s, s:O?}", "ociVersion", OCI_VERSION, "id", id,
			      "pid", (int)c->pid, "start", (json_int_t)start, "bundle", s->bundle, "rootfs",
			      s->rootfs, "created", s->created, "cgroupsPath", s->cgpath, "annotations",
			      json_is_object(ann) ? ann : NULL);
	c->state = o ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	/* The config as create read it: start, exec and delete go by this
	 * copy, whatever becomes of the bundle's. State last: it says done. */
	char *config = json_dumps(s->json, JSON_COMPACT);
	if (!config || write_atomic(c->dirfd, "config.json", config, strlen(config)) < 0) {
		snprintf(msg, sizeof(msg), "write '%s/%s/config.json': %s", state_root, id, strerror(errno));
		goto fail;
	}
	free(config);
	if (!c->state || write_atomic(c->dirfd, "state.json", c->state, strlen(c->state)) < 0) {
		snprintf(msg, sizeof(msg), "write '%s/%s/state.json': %s", state_root, id, strerror(errno));
		goto fail;
	}
	if (pid_file) {
		char v[16];
		snprintf(v, sizeof(v), "%d", (int)c->pid);
		if (write_file_atomic(pid_file, v) < 0) {
			snprintf(msg, sizeof(msg), "pid file '%s': %s", pid_file, strerror(errno));
			goto fail;
		}
	}
	/* The fifo; then the EOF that says the process no longer dies with us. */
	if (chan_send_fd(sv[0], fifo) < 0 || chan_recv(sv[0], &st, err, sizeof(err), &fd) != 0) {
		snprintf(msg, sizeof(msg), "hand over the exec fifo: %s", strerror(errno));
		goto fail;
	}
	close(fifo);
	close(sv[0]);
	close(c->lockfd);
	return;
fail:
	undo_create(c, id);
	die("%s", msg);
}

/* --- the other commands ------------------------------------------------------------------ */

static int pidfd_of(const struct state *st)
{
	unsigned long long t;
	int fd = (int)syscall(SYS_pidfd_open, st->pid, 0);

	/* The PID is the container's only while its start time matches. */
	if (fd >= 0 && (proc_starttime(st->pid, &t) < 0 || t != st->start)) {
		close(fd);
		return errno = ESRCH, -1;
	}
	return fd;
}

/* Wait (up to MS milliseconds) for the process behind PIDFD to end. */
static bool wait_gone(int pidfd, int ms)
{
	struct pollfd p = { pidfd, POLLIN, 0 };
	return poll(&p, 1, ms) == 1;
}

/* The container's config, as create read it (its copy in the state). */
static struct spec *spec_of(const struct state *st)
{
	static struct spec s;

	oci_parse_spec(&s, st->bundle, st->id, st->dirfd);
	return &s;
}

static int cmd_start(const char *id)
{
	struct state st;
	char buf[16];
	int fifo, pidfd;

	state_load(id, &st);
	if (strcmp(st.status, "created"))
		die("container '%s' is %s, not created: cannot start it", id, st.status);
	/* Non-blocking: a process already dead must not hang us. Its open
	 * for writing returns once we are there. */
	if ((fifo = openat(st.dirfd, "exec.fifo", O_RDONLY | O_NONBLOCK | O_CLOEXEC)) < 0)
		die_errno("open the exec fifo of '%s'", id);
	if ((pidfd = pidfd_of(&st)) < 0)
		die("container '%s' is not running", id);
	if (unlinkat(st.dirfd, "exec.fifo", 0) < 0)
		die_errno("remove the exec fifo of '%s'", id);
	/* Its byte (it is going), then EOF (it exec'd, or died). */
	for (bool got = false;;) {
		struct pollfd p[2] = { { fifo, POLLIN, 0 }, { pidfd, POLLIN, 0 } };
		if (poll(p, 2, -1) < 0)
			continue;
		ssize_t k = p[0].revents ? read(fifo, buf, sizeof(buf)) : 0;
		if (k > 0) {
			got = true;
			continue;
		}
		if (p[0].revents & POLLHUP && got)
			break;
		if (p[1].revents) {
			if (!got)
				die("container '%s': its process ended before it started", id);
			break;
		}
	}
	close(fifo);
	struct spec *s = spec_of(&st);
	if (s->nhooks[H_POSTSTART]) {
		state_status(&st);
		char *state = state_json(&st, JSON_COMPACT);
		if (oci_hooks_run(s, H_POSTSTART, state) < 0) {
			kill(st.pid, SIGKILL);
			die("container '%s': a poststart hook failed: the container is killed", id);
		}
		free(state);
	}
	return 0;
}

static int cmd_state(const char *id)
{
	struct state st;

	state_load(id, &st);
	char *s = state_json(&st, JSON_INDENT(2));
	printf("%s\n", s);
	free(s);
	return fflush(stdout) == 0 ? 0 : 1;
}

static int cmd_kill(const char *id, const char *sigs, bool all)
{
	struct state st;
	int sig = sigs ? parse_signal(sigs) : SIGTERM, pidfd;

	if (sig <= 0)
		usage_die("invalid signal '%s'", sigs);
	state_load(id, &st);
	if (!strcmp(st.status, "stopped"))
		die("container '%s' is not running", id);
	if (all) {
		int pids[4096];
		size_t n = cgroup_pids_at(st.cgpath, pids, 4096);
		for (size_t i = 0; i < n; i++)
			kill(pids[i], sig);
		return 0;
	}
	if ((pidfd = pidfd_of(&st)) < 0 || syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0) < 0) {
		if (errno == ESRCH)
			die("container '%s' is not running", id);
		die_errno("kill container '%s'", id);
	}
	return 0;
}

static int cmd_delete(const char *id, bool force)
{
	struct state st;
	int rootfd, pidfd;

	if (force) {
		/* --force on what is not there: nothing to do (runc's way). */
		valid_id(id);
		int fd = root_open(false);
		struct stat sb;
		if (fd < 0 || fstatat(fd, id, &sb, 0) < 0)
			return 0;
		/* No state: a create under way (its lock held), or one that died
		 * half done, whose directory goes. */
		char *f = xasprintf("%s/state.json", id);
		int lock = fstatat(fd, f, &sb, 0) < 0 ? openat(fd, id, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
		free(f);
		if (lock >= 0) {
			if (flock(lock, LOCK_EX | LOCK_NB) < 0)
				die("container '%s' is being created", id);
			if (rm_tree_nocross(fd, id) < 0)
				die_errno("remove '%s/%s'", state_root, id);
			return 0;
		}
		close(fd);
	}
	state_load(id, &st);
	if (!strcmp(st.status, "running") || !strcmp(st.status, "paused")) {
		if (!force)
			die("container '%s' is %s: stop it first, or delete --force", id, st.status);
	}
	if (strcmp(st.status, "stopped") && (pidfd = pidfd_of(&st)) >= 0) {
		/* Paused, or a cgroup below it frozen: a frozen task cannot
		 * die, nor PID 1 of a namespace before the rest of it. */
		cgroup_thaw_all_at(st.cgpath);
		syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
		if (!wait_gone(pidfd, 10000))
			die("container '%s': its process did not die in 10 s", id);
		close(pidfd);
	}
	/* Whatever is left in the cgroup (no PID namespace of its own) dies
	 * with it. */
	if (cgroup_destroy_at(st.cgpath) < 0)
		die_errno("remove cgroup '%s' of '%s'", st.cgpath, id);
	struct spec *s = spec_of(&st);
	if (s->nhooks[H_POSTSTOP]) {
		snprintf(st.status, sizeof(st.status), "stopped");
		char *state = state_json(&st, JSON_COMPACT);
		if (oci_hooks_run(s, H_POSTSTOP, state) < 0)
			warn("container '%s': a poststop hook failed", id);
		free(state);
	}
	if ((rootfd = root_open(false)) < 0 || rm_tree_nocross(rootfd, id) < 0)
		die_errno("remove '%s/%s'", state_root, id);
	return 0;
}

static int cmd_pause(const char *id, bool pause)
{
	struct state st;

	state_load(id, &st);
	if (pause ? strcmp(st.status, "running") : strcmp(st.status, "paused"))
		die("container '%s' is %s, not %s", id, st.status, pause ? "running" : "paused");
	if (cgroup_freeze_at(st.cgpath, pause) < 0)
		die_errno("%s container '%s'", pause ? "freeze" : "thaw", id);
	return 0;
}

static int cmd_ps(const char *id, bool json)
{
	struct state st;
	static int pids[65536];

	state_load(id, &st);
	size_t n = cgroup_pids_at(st.cgpath, pids, 65536);
	if (json) {
		json_t *a = json_array();
		for (size_t i = 0; i < n; i++)
			json_array_append_new(a, json_integer(pids[i]));
		char *s = json_dumps(a, JSON_COMPACT);
		printf("%s\n", s);
		free(s);
		json_decref(a);
		return fflush(stdout) == 0 ? 0 : 1;
	}
	printf("%-8s %s\n", "PID", "CMD");
	for (size_t i = 0; i < n; i++) {
		char path[64], buf[4096];
		snprintf(path, sizeof(path), "/proc/%d/cmdline", pids[i]);
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		ssize_t k = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);
		if (fd >= 0)
			close(fd);
		k = k < 0 ? 0 : k;
		buf[k] = 0;
		for (ssize_t j = 0; j + 1 < k; j++)
			if (!buf[j])
				buf[j] = ' ';
		printf("%-8d %s\n", pids[i], buf);
	}
	return fflush(stdout) == 0 ? 0 : 1;
}

static int cmd_update(const char *id, const char *resources, struct limits *lim)
{
	struct state st;
	char err[600];

	state_load(id, &st);
	if (!strcmp(st.status, "stopped"))
		die("container '%s' is not running", id);
	if (resources) {
		static struct spec s;
		json_error_t je;
		char *text;
		size_t len;
		int fd = strcmp(resources, "-") ? open(resources, O_RDONLY | O_CLOEXEC) : 0;
		if (fd < 0 || read_fd_max(fd, 1 << 20, &text, &len) < 0)
			die_errno("resources '%s'", resources);
		json_t *r = json_loadb(text, len, 0, &je);
		if (!json_is_object(r))
			die("resources '%s': %s", resources, r ? "not a JSON object" : je.text);
		oci_where = resources;
		oci_parse_resources(&s, r);
		*lim = s.lim;
	}
	if (cgroup_update_at(st.cgpath, lim, err, sizeof(err)) < 0)
		die("update '%s': %s", id, err);
	return 0;
}

static int cmd_list(bool json, bool quiet)
{
	int rootfd = root_open(false);
	json_t *a = json_array();
	DIR *d = rootfd < 0 ? NULL : fdopendir(openat(rootfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
	struct dirent *de;

	if (!json && !quiet)
		printf("%-20s %-8s %-10s %-40s %s\n", "ID", "PID", "STATUS", "BUNDLE", "CREATED");
	while (d && (de = readdir(d))) {
		struct state st;
		if (de->d_name[0] == '.' || de->d_type != DT_DIR || faccessat(rootfd, de->d_name, F_OK, 0) < 0)
			continue;
		char *f = xasprintf("%s/state.json", de->d_name);
		bool ok = faccessat(rootfd, f, F_OK, 0) == 0;
		free(f);
		if (!ok)
			continue;
		state_load(de->d_name, &st);
		pid_t pid = strcmp(st.status, "stopped") ? st.pid : 0;
		if (quiet)
			printf("%s\n", st.id);
		else if (json)
			json_array_append_new(a, json_pack("{s:s, s:i, s:s, s:s, s:s, s:s}", "id", st.id, "pid", pid,
							   "status", st.status, "bundle", st.bundle, "created",
							   st.created, "owner", "root"));
		else
			printf("%-20s %-8d %-10s %-40s %s\n", st.id, pid, st.status, st.bundle, st.created);
		close(st.dirfd);
		json_decref(st.json);
	}
	if (json) {
		char *s = json_dumps(a, JSON_COMPACT);
		printf("%s\n", s);
		free(s);
	}
	json_decref(a);
	return fflush(stdout) == 0 ? 0 : 1;
}

/* --- exec ------------------------------------------------------------------------------ */

struct exec_opts {
	const char *process, *cwd, *user;
	char **args;
	const char *env[256];
	size_t nenv;
	uint64_t caps;		/* --cap: added to every set */
	bool tty, nnp;
};

/* The process: process.json whole, or the container's own with ARGS and
 * the options over it (runc's way). */
static void exec_process(struct exec_opts *o, struct spec *s, struct proc *p)
{
	if (o->process) {
		json_error_t je;
		char *text;
		size_t len;
		int fd = open(o->process, O_RDONLY | O_CLOEXEC);
		if (fd < 0 || read_fd_max(fd, 4 << 20, &text, &len) < 0)
			die_errno("process '%s'", o->process);
		close(fd);
		json_t *j = json_loadb(text, len, 0, &je);
		if (!json_is_object(j))
			die("process '%s': %s", o->process, j ? "not a JSON object" : je.text);
		oci_where = o->process;
		oci_parse_process(j, p);
		oci_fence_devices(s, p);
		return;
	}
	*p = s->p;
	if (!o->args || !o->args[0])
		usage_die("exec: want the command (ARGS, or -p process.json)");
	p->args = o->args;
	p->terminal = o->tty;
	if (o->cwd)
		p->cwd = o->cwd;
	if (o->nnp)
		p->nnp = true;
	if (o->user) {
		unsigned long long u, g = 0;
		char *end;
		u = strtoull(o->user, &end, 10);
		if (end == o->user || (*end && (*end != ':' || !*(end + 1))) ||
		    (*end == ':' && ((g = strtoull(end + 1, &end, 10)), *end)) || u >= UINT32_MAX || g >= UINT32_MAX)
			usage_die("exec: --user '%s': want UID[:GID], numbers", o->user);
		p->uid = (uid_t)u;
		p->gid = (gid_t)g;
	}
	if (o->caps && s->nodev)
		o->caps &= ~(1ULL << CAP_MKNOD);
	for (int i = 0; i < NCAPSETS; i++)
		p->caps[i] |= o->caps;
	if (o->nenv) {
		size_t n = 0;
		for (char **e = p->env; e && *e; e++)
			n++;
		char **env = xmalloc((n + o->nenv + 1) * sizeof(*env));
		memcpy(env, p->env, n * sizeof(*env));
		memcpy(env + n, o->env, o->nenv * sizeof(*env));
		env[n + o->nenv] = NULL;
		p->env = env;
	}
}

/* run: a container created that could not be started is deleted on the
 * way out (once: delete may fail too). */
static const char *run_id;
static void run_cleanup(void)
{
	const char *id = run_id;

	run_id = NULL;
	if (id)
		cmd_delete(id, true);
}

static pid_t waited;
static void forward(int sig)
{
	if (waited > 0)
		kill(waited, sig);
}

/* Wait for PID, our child (or an orphan we are the subreaper of), passing
 * the signals a terminal sends on to it; its status as an exit code. */
static int wait_forwarding(pid_t pid)
{
	waited = pid;
	for (const int *sg = forwarded_signals; *sg; sg++)
		signal(*sg, forward);
	for (;;) {
		int w;
		pid_t r = waitpid(-1, &w, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			die_errno("wait");
		if (r == pid)
			return WIFEXITED(w) ? WEXITSTATUS(w) : 128 + WTERMSIG(w);
	}
}

static int cmd_exec(const char *id, struct exec_opts *o)
{
	struct state st;
	struct proc p;
	char msg[640], why[640] = "", path[PATH_MAX];
	int sv[2], pidfd, rootfd, stt, fd;
	pid_t helper, cmd = -1;

	state_load(id, &st);
	if (strcmp(st.status, "running") && strcmp(st.status, "created"))
		die("container '%s' is %s: cannot exec in it", id, st.status);
	struct spec *s = spec_of(&st);
	exec_process(o, s, &p);
	if (p.terminal && !console_socket)
		die("exec -t needs --console-socket (oci_where the pty master goes)");
	if (s->seccomp && seccomp_compile(s->seccomp, strlen(s->seccomp), p.caps[0], &s->filter, msg, sizeof(msg)) < 0)
		die("linux.seccomp: %s", msg);
	if ((pidfd = pidfd_of(&st)) < 0)
		die("container '%s' is not running", id);
	snprintf(path, sizeof(path), "/proc/%d/root", (int)st.pid);
	if ((rootfd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)
		die_errno("open the root of container '%s'", id);
	int nsflags = ns_differ(st.pid);
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		die_errno("socketpair");
	/* The command is the helper's child: it becomes ours when the helper
	 * ends (without -d, we wait for it). */
	if (!detach && prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
		die_errno("prctl(PR_SET_CHILD_SUBREAPER)");
	if ((helper = fork()) < 0)
		die_errno("fork");
	if (helper == 0) {
		int sock = sv[1];
		int keep[3] = { sock, pidfd, rootfd };
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		oci_wait_go(sock);
		/* Nothing in the container may ptrace us or open our /proc/PID
		 * files (CVE-2016-9962, CVE-2019-5736) until the exec. */
		prctl(PR_SET_DUMPABLE, 0);
		close_from(3 + preserve_fds, keep, 3);
		if (syscall(SYS_setns, pidfd, nsflags) < 0)
			FAIL("join the namespaces of container '%s'", id);
		if (fchdir(rootfd) < 0 || chroot(".") < 0 || chdir("/") < 0)
			FAIL("enter the root of container '%s'", id);
		close(pidfd);
		close(rootfd);
		pid_t c = fork();
		if (c < 0)
			FAIL("fork");
		if (c > 0) {
			chan_report(sock, 0, "pid %d", (int)c);
			_exit(0);
		}
		bool late;
		if (setsid() < 0)
			FAIL("setsid");
		if (p.terminal)
			oci_console_setup(sock, &p, false);
		char *path = oci_find_command(sock, &p);
		int wd = oci_cwd_open(sock, p.cwd);
		oci_confine(sock, &p, s->filter, &late);
		if (fchdir(wd) < 0)
			FAIL("chdir to '%s'", p.cwd);
		close(wd);
		if (late && seccomp_install(s->filter) < 0)
			FAIL("install the seccomp filter");
		sigset_t none;
		sigemptyset(&none);
		for (int sig = 1; sig < NSIG; sig++)
			signal(sig, SIG_DFL);
		sigprocmask(SIG_SETMASK, &none, NULL);
		execve(path, p.args, p.env ? p.env : (char *[]){ NULL });
		int e = errno;
		chan_report(sock, exec_status(e), "exec '%s': %s", p.args[0], strerror(e));
		_exit(exec_status(e));
	}
	close(sv[1]);
	close(rootfd);
	/* The helper joins the container's cgroups (each hierarchy's, as PID
	 * 1's /proc/PID/cgroup says) before it runs anything there. */
	snprintf(path, sizeof(path), "/proc/%d/cgroup", (int)st.pid);
	char cgl[4096];
	fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t k = fd < 0 ? -1 : read(fd, cgl, sizeof(cgl) - 1);
	if (fd >= 0)
		close(fd);
	if (k < 0)
		die_errno("read '%s'", path);
	cgl[k] = 0;
	for (char *line = cgl, *next; *line; line = next) {
		char *ctl = strchr(line, ':'), *cp, file[PATH_MAX], v[16];
		next = line + strcspn(line, "\n");
		if (*next)
			*next++ = 0;
		if (!ctl || !(cp = strchr(++ctl, ':')))
			continue;
		*cp++ = 0;
		if (!*ctl && cgroup_mode() != CG_V2)
			continue;	/* hybrid: no controller on v2 */
		snprintf(file, sizeof(file), "/sys/fs/cgroup/%s%s/cgroup.procs", strncmp(ctl, "name=", 5) ? ctl : ctl + 5, cp);
		snprintf(v, sizeof(v), "%d", (int)helper);
		int cfd = open(file, O_WRONLY | O_CLOEXEC);
		if (cfd >= 0 && write(cfd, v, strlen(v)) < 0 && errno != ENOENT) {
			kill(helper, SIGKILL);
			die_errno("join cgroup '%s'", file);
		}
		if (cfd >= 0)
			close(cfd);
	}
	if (write(sv[0], "g", 1) != 1)
		die_errno("start the exec helper");
	int status = 0;
	for (;;) {
		ssize_t n = chan_recv(sv[0], &stt, msg, sizeof(msg), &fd);
		if (n == 0)
			break;
		if (n < 0)
			die_errno("read from the exec helper");
		if (fd >= 0) {
			if (console_send(console_socket, fd) < 0)
				warn_errno("console socket '%s'", console_socket);
			close(fd);
		} else if (stt) {
			snprintf(why, sizeof(why), "%s", msg);
			status = stt;
		} else if (!strncmp(msg, "pid ", 4)) {
			cmd = atoi(msg + 4);
		}
	}
	waitpid(helper, NULL, 0);
	if (status || cmd <= 0) {
		if (cmd > 0)
			waitpid(cmd, NULL, 0);
		/* An error, as the runc shim reads --log: it gives the caller
		 * this line. */
		die("%s", *why ? why : "the exec helper ended before the command ran");
	}
	if (pid_file) {
		char v[16];
		snprintf(v, sizeof(v), "%d", (int)cmd);
		if (write_file_atomic(pid_file, v) < 0)
			die_errno("pid file '%s'", pid_file);
	}
	return detach ? 0 : wait_forwarding(cmd);
}

/* --- spec, features, the command line ---------------------------------------------------- */

/* runc spec's default: the data, parsed and written out by jansson. */
static const char default_spec[] =
	"{\"ociVersion\":\"1.0.2\",\"process\":{\"terminal\":true,\"user\":{\"uid\":0,\"gid\":0},"
	"\"args\":[\"sh\"],\"env\":[\"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\","
	"\"TERM=xterm\"],\"cwd\":\"/\",\"capabilities\":{"
	"\"bounding\":[\"CAP_AUDIT_WRITE\",\"CAP_KILL\",\"CAP_NET_BIND_SERVICE\"],"
	"\"effective\":[\"CAP_AUDIT_WRITE\",\"CAP_KILL\",\"CAP_NET_BIND_SERVICE\"],"
	"\"permitted\":[\"CAP_AUDIT_WRITE\",\"CAP_KILL\",\"CAP_NET_BIND_SERVICE\"],"
	"\"ambient\":[\"CAP_AUDIT_WRITE\",\"CAP_KILL\",\"CAP_NET_BIND_SERVICE\"]},"
	"\"rlimits\":[{\"type\":\"RLIMIT_NOFILE\",\"hard\":1024,\"soft\":1024}],\"noNewPrivileges\":true},"
	"\"root\":{\"path\":\"rootfs\",\"readonly\":true},\"hostname\":\"mdk\",\"mounts\":["
	"{\"destination\":\"/proc\",\"type\":\"proc\",\"source\":\"proc\"},"
	"{\"destination\":\"/dev\",\"type\":\"tmpfs\",\"source\":\"tmpfs\",\"options\":[\"nosuid\",\"strictatime\",\"mode=755\",\"size=65536k\"]},"
	"{\"destination\":\"/dev/pts\",\"type\":\"devpts\",\"source\":\"devpts\",\"options\":[\"nosuid\",\"noexec\",\"newinstance\",\"ptmxmode=0666\",\"mode=0620\",\"gid=5\"]},"
	"{\"destination\":\"/dev/shm\",\"type\":\"tmpfs\",\"source\":\"shm\",\"options\":[\"nosuid\",\"noexec\",\"nodev\",\"mode=1777\",\"size=65536k\"]},"
	"{\"destination\":\"/dev/mqueue\",\"type\":\"mqueue\",\"source\":\"mqueue\",\"options\":[\"nosuid\",\"noexec\",\"nodev\"]},"
	"{\"destination\":\"/sys\",\"type\":\"sysfs\",\"source\":\"sysfs\",\"options\":[\"nosuid\",\"noexec\",\"nodev\",\"ro\"]},"
	"{\"destination\":\"/sys/fs/cgroup\",\"type\":\"cgroup\",\"source\":\"cgroup\",\"options\":[\"nosuid\",\"noexec\",\"nodev\",\"relatime\",\"ro\"]}],"
	"\"linux\":{\"resources\":{\"devices\":[{\"allow\":false,\"access\":\"rwm\"}]},"
	"\"namespaces\":[{\"type\":\"pid\"},{\"type\":\"network\"},{\"type\":\"ipc\"},{\"type\":\"uts\"},"
	"{\"type\":\"mount\"},{\"type\":\"cgroup\"}],"
	"\"maskedPaths\":[\"/proc/acpi\",\"/proc/asound\",\"/proc/kcore\",\"/proc/keys\",\"/proc/latency_stats\","
	"\"/proc/timer_list\",\"/proc/timer_stats\",\"/proc/sched_debug\",\"/sys/firmware\",\"/proc/scsi\"],"
	"\"readonlyPaths\":[\"/proc/bus\",\"/proc/fs\",\"/proc/irq\",\"/proc/sys\",\"/proc/sysrq-trigger\"]}}";

static int dump_json(json_t *o, FILE *f)
{
	if (!o || json_dumpf(o, f, JSON_INDENT(2) | JSON_PRESERVE_ORDER) < 0 || fputc('\n', f) == EOF)
		return -1;
	return 0;
}

static int cmd_spec(void)
{
	char *path = xasprintf("%s/config.json", bundle_dir ? bundle_dir : ".");
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	FILE *f;

	if (fd < 0)
		die(errno == EEXIST ? "'%s' exists already" : "create '%s': %s", path, strerror(errno));
	if (!(f = fdopen(fd, "w")) || dump_json(json_loads(default_spec, JSON_REJECT_DUPLICATES, NULL), f) < 0 ||
	    fclose(f) == EOF)
		die_errno("write '%s'", path);
	return 0;
}

static int cmd_features(void)
{
	json_t *o = json_pack(
		"{s:s, s:s, s:[s,s,s,s,s,s], s:[], s:{s:[s,s,s,s,s,s,s,s], s:[], s:{s:b, s:b, s:b, s:b}, "
		"s:{s:b, s:[s,s,s,s,s,s,s,s], s:[s,s,s,s,s,s,s], s:[s,s]}, s:{s:b}, s:{s:b}}, s:{s:s}}",
		"ociVersionMin", "1.0.0", "ociVersionMax", OCI_VERSION, "hooks", "prestart", "createRuntime",
		"createContainer", "startContainer", "poststart", "poststop", "mountOptions", "linux", "namespaces",
		"cgroup", "ipc", "mount", "network", "pid", "user", "uts", "time", "capabilities", "cgroup", "v1",
		1, "v2", 1, "systemd", 0, "systemdUser", 0, "seccomp", "enabled", 1, "actions", "SCMP_ACT_ALLOW",
		"SCMP_ACT_ERRNO", "SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD", "SCMP_ACT_LOG",
		"SCMP_ACT_TRAP", "SCMP_ACT_TRACE", "operators", "SCMP_CMP_EQ", "SCMP_CMP_GE", "SCMP_CMP_GT",
		"SCMP_CMP_LE", "SCMP_CMP_LT", "SCMP_CMP_MASKED_EQ", "SCMP_CMP_NE", "archs", "SCMP_ARCH_X86_64",
		"SCMP_ARCH_X86", "apparmor", "enabled", 0, "selinux", "enabled", 0, "annotations",
		"org.opencontainers.runc.version", "mdk");
	json_t *opts = json_object_get(o, "mountOptions"), *caps = json_object_get(json_object_get(o, "linux"), "capabilities");
	oci_mount_option_names(opts);
	for (int c = 0; c <= CAP_LAST_CAP; c++) {
		static const char *const names[] = {
			"CHOWN", "DAC_OVERRIDE", "DAC_READ_SEARCH", "FOWNER", "FSETID", "KILL", "SETGID", "SETUID",
			"SETPCAP", "LINUX_IMMUTABLE", "NET_BIND_SERVICE", "NET_BROADCAST", "NET_ADMIN", "NET_RAW",
			"IPC_LOCK", "IPC_OWNER", "SYS_MODULE", "SYS_RAWIO", "SYS_CHROOT", "SYS_PTRACE", "SYS_PACCT",
			"SYS_ADMIN", "SYS_BOOT", "SYS_NICE", "SYS_RESOURCE", "SYS_TIME", "SYS_TTY_CONFIG", "MKNOD",
			"LEASE", "AUDIT_WRITE", "AUDIT_CONTROL", "SETFCAP", "MAC_OVERRIDE", "MAC_ADMIN", "SYSLOG",
			"WAKE_ALARM", "BLOCK_SUSPEND", "AUDIT_READ", "PERFMON", "BPF", "CHECKPOINT_RESTORE",
		};
		if ((size_t)c < sizeof(names) / sizeof(*names))
			json_array_append_new(caps, json_sprintf("CAP_%s", names[c]));
	}
	if (dump_json(o, stdout) < 0 || fflush(stdout) == EOF)
		die("features: cannot write them");
	return 0;
}

/* The commands' options; each command takes the ones runc's does and
 * refuses the rest. Long-only ones get values from 256 up. */
enum { O_BUNDLE = 'b', O_DETACH = 'd', O_TTY = 't', O_PROCESS = 'p', O_ENV = 'e', O_USER = 'u', O_ALL = 'a',
       O_FORCE = 'f', O_QUIET = 'q',
       O_PIDFILE = 256, O_CONSOLE, O_NOPIVOT, O_NOKEYRING, O_PRESERVE, O_FORMAT, O_CWD, O_RESOURCES, O_MEMORY,
       O_PIDS, O_QUOTA, O_PERIOD, O_SHARES, O_CPUSET, O_NNP, O_CAP, O_IGNORED_ARG, O_IGNORED };

int oci_main(int argc, char **argv)
{
	static const struct option globals[] = {
		{ "root", required_argument, NULL, 'r' },      { "log", required_argument, NULL, 'l' },
		{ "log-format", required_argument, NULL, 'F' }, { "systemd-cgroup", no_argument, NULL, 's' },
		{ "debug", no_argument, NULL, 'D' },	       { "version", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },	       { "rootless", required_argument, NULL, 'R' },
		{ "criu", required_argument, NULL, 'R' },      { NULL, 0, NULL, 0 },
	};
	static const struct option opts[] = {
		{ "bundle", required_argument, NULL, O_BUNDLE }, { "pid-file", required_argument, NULL, O_PIDFILE },
		{ "console-socket", required_argument, NULL, O_CONSOLE }, { "no-pivot", no_argument, NULL, O_NOPIVOT },
		{ "no-new-keyring", no_argument, NULL, O_NOKEYRING },
		{ "preserve-fds", required_argument, NULL, O_PRESERVE }, { "detach", no_argument, NULL, O_DETACH },
		{ "tty", no_argument, NULL, O_TTY },		  { "process", required_argument, NULL, O_PROCESS },
		{ "env", required_argument, NULL, O_ENV },	  { "user", required_argument, NULL, O_USER },
		{ "cwd", required_argument, NULL, O_CWD },	  { "all", no_argument, NULL, O_ALL },
		{ "force", no_argument, NULL, O_FORCE },	  { "format", required_argument, NULL, O_FORMAT },
		{ "quiet", no_argument, NULL, O_QUIET },	  { "resources", required_argument, NULL, O_RESOURCES },
		{ "memory", required_argument, NULL, O_MEMORY },  { "pids-limit", required_argument, NULL, O_PIDS },
		{ "cpu-quota", required_argument, NULL, O_QUOTA }, { "cpu-period", required_argument, NULL, O_PERIOD },
		{ "cpu-shares", required_argument, NULL, O_SHARES }, { "cpuset-cpus", required_argument, NULL, O_CPUSET },
		{ "no-new-privs", no_argument, NULL, O_NNP },	  { "cap", required_argument, NULL, O_CAP },
		{ "no-subreaper", no_argument, NULL, O_IGNORED }, { "keep", no_argument, NULL, O_IGNORED },
		{ "apparmor", required_argument, NULL, O_IGNORED_ARG }, { "label", required_argument, NULL, O_IGNORED_ARG },
		{ "process-label", required_argument, NULL, O_IGNORED_ARG },
		{ NULL, 0, NULL, 0 },
	};
	struct exec_opts xo = { 0 };
	struct limits lim = { 0 };
	const char *log = NULL, *resources = NULL;
	bool json = false, all = false, force = false, quiet = false;
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "+vh", globals, NULL)) != -1) {
		switch (c) {
		case 'r': state_root = optarg; break;
		case 'l': log = optarg; break;
		case 'F':
			if (strcmp(optarg, "text") && strcmp(optarg, "json"))
				usage_die("--log-format '%s': want text or json", optarg);
			err_log_json = !strcmp(optarg, "json");
			break;
		case 's': oci_systemd_cgroup = true; break;
		case 'D': case 'R': break;
		case 'v':
			printf("mdk-oci version %s\nspec: %s\n", MDK_VERSION, OCI_VERSION);
			return 0;
		case 'h':
			fputs(oci_usage, stdout);
			return 0;
		default:
			usage_die("unknown global option '%s'", argv[optind - 1]);
		}
	}
	if (log && (err_log_fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600)) < 0)
		die_errno("log '%s'", log);
	if (optind >= argc)
		usage_die("expected a command");
	const char *cmd = argv[optind];
	argc -= optind;
	argv += optind;
	optind = 1;
	if (!strcmp(cmd, "features"))
		return cmd_features();
	/* CVE-2019-5736: the commands whose processes enter the container run
	 * from a copy of mdk no one can write through /proc/PID/exe (a
	 * "#!/proc/self/exe" command would run us in there). argv is whole
	 * still: getopt's '+' moved nothing. */
	if (!strcmp(cmd, "create") || !strcmp(cmd, "run") || !strcmp(cmd, "exec"))
		exe_reexec_protected();
	while ((c = getopt_long(argc, argv, "+b:dtp:e:u:afq", opts, NULL)) != -1) {
		switch (c) {
		case O_BUNDLE: bundle_dir = optarg; break;
		case O_PIDFILE: pid_file = optarg; break;
		case O_CONSOLE: console_socket = optarg; break;
		case O_NOPIVOT: no_pivot = true; break;
		case O_NOKEYRING: case O_IGNORED: case O_IGNORED_ARG: break;
		case O_PRESERVE: {
			uint64_t n;
			if (parse_uint(optarg, 0, 1000, &n) < 0)
				usage_die("--preserve-fds '%s': want 0 to 1000", optarg);
			preserve_fds = (int)n;
			break;
		}
		case O_DETACH: detach = true; break;
		case O_TTY: xo.tty = true; break;
		case O_PROCESS: xo.process = optarg; break;
		case O_ENV:
			if (!strchr(optarg, '=') || *optarg == '=' || xo.nenv == 256)
				usage_die("--env '%s': want KEY=VALUE (at most 256)", optarg);
			xo.env[xo.nenv++] = optarg;
			break;
		case O_USER: xo.user = optarg; break;
		case O_CWD:
			if (optarg[0] != '/')
				usage_die("--cwd '%s': want an absolute path", optarg);
			xo.cwd = optarg;
			break;
		case O_NNP: xo.nnp = true; break;
		case O_CAP:
			if (cap_from_name(optarg) < 0)
				usage_die("--cap '%s': unknown capability", optarg);
			xo.caps |= 1ULL << cap_from_name(optarg);
			break;
		case O_ALL: all = true; break;
		case O_FORCE: force = true; break;
		case O_QUIET: quiet = true; break;
		case O_FORMAT:
			if (strcmp(optarg, "table") && strcmp(optarg, "json"))
				usage_die("--format '%s': want table or json", optarg);
			json = !strcmp(optarg, "json");
			break;
		case O_RESOURCES: resources = optarg; break;
		case O_MEMORY:
			if (parse_size(optarg, &lim.memory) < 0)
				usage_die("--memory '%s': want a size", optarg);
			break;
		case O_PIDS:
			if (parse_uint(optarg, 1, INT32_MAX, &lim.pids) < 0)
				usage_die("--pids-limit '%s': want a number", optarg);
			break;
		case O_QUOTA:
			if (parse_uint(optarg, 1000, UINT32_MAX, &lim.cpu_quota) < 0)
				usage_die("--cpu-quota '%s': want microseconds", optarg);
			break;
		case O_PERIOD:
			if (parse_uint(optarg, 1000, 1000000, &lim.cpu_period) < 0)
				usage_die("--cpu-period '%s': want microseconds", optarg);
			break;
		case O_SHARES:
			if (parse_uint(optarg, 2, 262144, &lim.cpu_shares) < 0)
				usage_die("--cpu-shares '%s': want 2 to 262144", optarg);
			break;
		case O_CPUSET: lim.cpuset = optarg; break;
		default:
			if (optopt && optopt < 256)
				usage_die("%s: unknown option '-%c'", cmd, optopt);
			usage_die("%s: unknown option '%s'", cmd, argv[optind - 1]);
		}
	}
	if (lim.cpu_quota && !lim.cpu_period)
		lim.cpu_period = 100000;
	if (!strcmp(cmd, "spec"))
		return cmd_spec();
	if (!strcmp(cmd, "list"))
		return cmd_list(json, quiet);
	if (optind >= argc)
		usage_die("%s: expected a container id", cmd);
	const char *id = argv[optind++];
	int extra = argc - optind;
	if (!strcmp(cmd, "exec")) {
		xo.args = argv + optind;
		return cmd_exec(id, &xo);
	}
	if (!strcmp(cmd, "kill")) {
		if (extra > 1)
			usage_die("kill: expected ID [SIGNAL]");
		return cmd_kill(id, extra ? argv[optind] : NULL, all);
	}
	if (extra)
		usage_die("%s: unexpected argument '%s'", cmd, argv[optind]);
	if (!strcmp(cmd, "create")) {
		struct made m;
		create(id, &m);
		return 0;
	}
	if (!strcmp(cmd, "run")) {
		struct made m;
		run_id = id;
		atexit(run_cleanup);
		/* With a user namespace the process is our grandchild. */
		if (!detach && prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
			die_errno("prctl(PR_SET_CHILD_SUBREAPER)");
		create(id, &m);
		if (cmd_start(id) != 0)
			return 1;
		if (detach) {
			run_id = NULL;
			return 0;
		}
		int status = wait_forwarding(m.pid);
		run_id = NULL;
		cmd_delete(id, true);
		return status;
	}
	if (!strcmp(cmd, "start"))
		return cmd_start(id);
	if (!strcmp(cmd, "state"))
		return cmd_state(id);
	if (!strcmp(cmd, "delete"))
		return cmd_delete(id, force);
	if (!strcmp(cmd, "pause") || !strcmp(cmd, "resume"))
		return cmd_pause(id, cmd[0] == 'p');
	if (!strcmp(cmd, "ps"))
		return cmd_ps(id, json);
	if (!strcmp(cmd, "update"))
		return cmd_update(id, resources, &lim);
	usage_die("unknown command '%s'", cmd);
}
