/* mdk-exec: run a command in a running container (docker exec, runc exec).
 *
 * usage: mdk-exec [-i] [-t] [-d] [-e K=V]... [-w DIR] [-u USER[:GROUP]] PIDFILE CMD [ARG]...
 *
 * PIDFILE is what mdk-run --pid-file wrote: the container's monitor (checked
 * alive by PID and start time), its PID 1, and how its command was confined.
 * A helper joins PID 1's cgroups (before it runs anything), then, not
 * dumpable, every namespace of PID 1 (setns on a pidfd) and its root; it
 * forks the command, the first process in the container's PID namespace,
 * which is confined as mdk-run confines the container's command (seccomp
 * filter, capabilities, user, no-new-privileges) and execs CMD; the helper
 * exits, and the command is our child (a child subreaper): we relay its
 * streams, pass signals on and return its status. No fd, cwd or binary of
 * the host reaches it (CVE-2016-9962, CVE-2019-5736).
 *
 * Exit codes: the command's; 128+N killed by signal N; 125 mdk-exec failed
 * (bad option, no such container, not running); 126 not executable; 127
 * not found. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <limits.h>
#include <linux/magic.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "mdk.h"

#ifndef TIOCGPTPEER
#define TIOCGPTPEER _IO('T', 0x41)
#endif
#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

const char exec_usage[] =
	"usage: mdk-exec [OPTIONS] PIDFILE CMD [ARG]...\n"
	"Run CMD in the running container whose mdk-run wrote PIDFILE (--pid-file):\n"
	"in every namespace and cgroup of its PID 1, confined as its command is\n"
	"(capabilities, seccomp filter, no-new-privileges), with its user, working\n"
	"directory and environment unless told otherwise.\n"
	"  -i                 keep stdin open (else the command reads /dev/null)\n"
	"  -t                 a pseudo-terminal from the container's own devpts (without\n"
	"                     -t, a terminal or file of ours is relayed through a pipe)\n"
	"  -d, --detach       return (0) once CMD runs; its stdin, stdout, stderr are\n"
	"                     /dev/null (no -i, -t)\n"
	"  -e K=V             set an environment variable (repeatable); -e K copies K\n"
	"  -w DIR             working directory inside the container (must exist)\n"
	"  -u UID[:GID]       user, numeric or a name from the container's /etc/passwd\n"
	"The environment is the container's (PATH, HOSTNAME, its -e), HOME of the\n"
	"user, TERM with -t, and -e. Signals sent to mdk-exec go to CMD.\n"
	"Exit codes: the command's status; 128+N killed by signal N; 125 mdk-exec\n"
	"failed (no such container, not running, bad option); 126 command not\n"
	"executable; 127 command not found.\n";

#define MAX_ENV 512

struct exec {
	const char *pidfile, *user, *workdir;
	char **argv;
	char *env[MAX_ENV + 2];
	size_t nenv;
	bool in, tty, detach;
	struct pidfile pf;
	bool chrooted;		/* the container's root is a chroot (initramfs) */
	void *filter;		/* compiled before the fork; NULL: none */
	int child_std[3], relay[3];	/* as mdk-run's: see needs_relay */
	struct winsize ws;
};

static void env_set(struct exec *x, const char *kv)
{
	size_t klen = strcspn(kv, "=");

	for (size_t i = 0; i < x->nenv; i++) {
		if (!strncmp(x->env[i], kv, klen) && x->env[i][klen] == '=') {
			x->env[i] = (char *)kv;
			return;
		}
	}
	if (x->nenv == MAX_ENV)
		usage_die("too many environment variables");
	x->env[x->nenv++] = (char *)kv;
}

static bool env_has(struct exec *x, const char *key)
{
	size_t klen = strlen(key);

	for (size_t i = 0; i < x->nenv; i++)
		if (!strncmp(x->env[i], key, klen) && x->env[i][klen] == '=')
			return true;
	return false;
}

/* --- the container: found, checked alive ------------------------------------------ */

_Noreturn static void not_running(struct exec *x, const char *why)
{
	die("container is not running (pid file '%s': %s)", x->pidfile, why);
}

/* Is the monitor of the pid file still the process that wrote it? */
static void check_monitor(struct exec *x)
{
	unsigned long long start;
	char why[64];

	if (proc_starttime(x->pf.pid, &start) < 0 || start != x->pf.start) {
		snprintf(why, sizeof(why), "process %d gone", (int)x->pf.pid);
		not_running(x, why);
	}
}

static void read_pidfile(struct exec *x)
{
	int fd = open(x->pidfile, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	char *text;
	size_t len;

	if (fd < 0 && errno == ENOENT)
		die("no such container (pid file '%s': %s)", x->pidfile, strerror(errno));
	if (fd < 0)
		die_errno("open pid file '%s'", x->pidfile);
	if (read_fd_max(fd, 4 << 20, &text, &len) < 0)
		die_errno("read pid file '%s'", x->pidfile);
	close(fd);
	if (strlen(text) != len || pidfile_parse(text, &x->pf) < 0)
		die("pid file '%s': not one mdk-run wrote", x->pidfile);
	check_monitor(x);
	if (!x->pf.exec)
		die("pid file '%s' says nothing of how the container is confined (started by an older mdk-run?)",
		    x->pidfile);
}

/* Is our "/" the root mount of our mount namespace? Then pivot_root fails
 * here (an initramfs) and mdk-run chrooted its containers, dropping
 * CAP_SYS_CHROOT from them: an exec must drop it too, or a chroot escape
 * would lead to the host's files beneath. (In mountinfo, the namespace's
 * root mount is its own parent.) */
static bool root_is_ns_root(void)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char line[4096];
	bool yes = false;

	while (f && fgets(line, sizeof(line), f)) {
		int id, parent;
		char mp[8];
		if (sscanf(line, "%d %d %*s %*s %7s", &id, &parent, mp) == 3 && !strcmp(mp, "/"))
			yes = id == parent;
	}
	if (f)
		fclose(f);
	return yes;
}

/* Put PID in every cgroup PID 1 is in (CG, /proc/INIT/cgroup's text): each
 * v1 hierarchy and the unified one, as mounted under /sys/fs/cgroup. One
 * mounted elsewhere holds none of mdk-run's cgroups: nothing to join. */
static int cgroups_join(char *cg, pid_t pid, char *err, size_t n)
{
	bool v2 = false;
	struct statfs sf;
	char v[24];

	if (statfs("/sys/fs/cgroup", &sf) == 0 && sf.f_type == CGROUP2_SUPER_MAGIC)
		v2 = true;
	snprintf(v, sizeof(v), "%d", (int)pid);
	for (char *line = cg, *next; line && *line; line = next) {
		char *ctrl, *path, dir[PATH_MAX + 64];
		if ((next = strchr(line, '\n')))
			*next++ = 0;
		if (!(ctrl = strchr(line, ':')) || !(path = strchr(++ctrl, ':')))
			continue;
		*path++ = 0;
		if (*path != '/' || strstr(path, "/.."))
			return snprintf(err, n, "PID 1's cgroup '%s' is not a cgroup path", path), -1;
		if (!*ctrl)	/* the unified hierarchy */
			snprintf(dir, sizeof(dir), "/sys/fs/cgroup%s%s", v2 ? "" : "/unified", path);
		else		/* "cpu,cpuacct", "name=systemd" */
			snprintf(dir, sizeof(dir), "/sys/fs/cgroup/%s%s",
				 strncmp(ctrl, "name=", 5) ? ctrl : ctrl + 5, path);
		if (!*ctrl && !v2 && (statfs("/sys/fs/cgroup/unified", &sf) < 0 || sf.f_type != CGROUP2_SUPER_MAGIC))
			continue;
		if (*ctrl && (statfs(dir, &sf) < 0 || sf.f_type != CGROUP_SUPER_MAGIC)) {
			/* "cpu,cpuacct" may be mounted as "cpu" alone (a link). */
			char *comma = strchr(ctrl, ',');
			if (comma) {
				*comma = 0;
				snprintf(dir, sizeof(dir), "/sys/fs/cgroup/%s%s", ctrl, path);
			}
			if (statfs(dir, &sf) < 0 || sf.f_type != CGROUP_SUPER_MAGIC)
				continue;
		}
		strncat(dir, "/cgroup.procs", sizeof(dir) - strlen(dir) - 1);
		int fd = open(dir, O_WRONLY | O_CLOEXEC);
		if (fd < 0 || write(fd, v, strlen(v)) < 0) {
			snprintf(err, n, "join cgroup %.400s: %s", dir, strerror(errno));
			if (fd >= 0)
				close(fd);
			return -1;
		}
		close(fd);
	}
	return 0;
}

/* --- in the container ---------------------------------------------------------------- */

/* -t: a pty of the container's own devpts instance (/dev/pts of the root we
 * are in): the master goes to mdk-exec, the peer becomes the command's
 * controlling terminal. The container has had its say on what /dev/pts is:
 * the master must be a devpts pty master, and the peer is opened from it,
 * never by a path. */
static int pty_open(struct exec *x, int sock)
{
	int root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC), m, s, n;
	struct statfs sf;

	if (root < 0)
		return -1;
	m = open_in_root(root, "/dev/pts/ptmx", O_RDWR | O_NOCTTY | O_NONBLOCK);
	close(root);
	if (m < 0)
		return -1;
	if (fstatfs(m, &sf) < 0 || sf.f_type != DEVPTS_SUPER_MAGIC || ioctl(m, TIOCGPTN, &n) < 0 ||
	    unlockpt(m) < 0 || (s = ioctl(m, TIOCGPTPEER, O_RDWR | O_NOCTTY)) < 0) {
		int e = errno == ENOTTY ? EINVAL : errno;
		close(m);
		return errno = e, -1;
	}
	fcntl(m, F_SETFL, fcntl(m, F_GETFL) & ~O_NONBLOCK);
	if ((x->ws.ws_row && ioctl(m, TIOCSWINSZ, &x->ws) < 0) || chan_send_fd(sock, m) < 0) {
		int e = errno;
		close(m);
		close(s);
		return errno = e, -1;
	}
	close(m);
	return s;
}

/* Setup failed: one line to mdk-exec over the channel (SOCK, in scope),
 * and out with ST. */
#define FAIL(st, ...) \
	do { \
		chan_report(sock, st, __VA_ARGS__); \
		_exit(st); \
	} while (0)

/* The command: in the container's namespaces, cgroups and root already;
 * confined here as mdk-run's exec_command confines the container's. */
_Noreturn static void exec_command(struct exec *x, int sock)
{
	char home[PATH_MAX], err[PATH_MAX + 300];
	uid_t uid = 0;
	gid_t gid = 0;
	sigset_t none;
	int rootfd, wd = -1;

	sigemptyset(&none);
	for (int s = 1; s < NSIG; s++)
		signal(s, SIG_DFL);
	sigprocmask(SIG_SETMASK, &none, NULL);
	/* Never in the caller's session: no terminal of ours can become the
	 * command's (TIOCSTI, job control). */
	if (setsid() < 0)
		FAIL(125, "setsid: %s", strerror(errno));
	if (x->tty) {
		int tty = pty_open(x, sock);
		if (tty < 0)
			FAIL(125, "allocate a pseudo-terminal: %s", strerror(errno));
		if (ioctl(tty, TIOCSCTTY, 0) < 0 || dup2(tty, 0) < 0 || dup2(tty, 1) < 0 || dup2(tty, 2) < 0)
			FAIL(125, "set up the terminal: %s", strerror(errno));
		if (tty > 2)
			close(tty);
	}
	if ((rootfd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)
		FAIL(125, "open /: %s", strerror(errno));
	snprintf(home, sizeof(home), "/root");
	if (x->user && user_resolve(rootfd, x->user, &uid, &gid, home, sizeof(home), err, sizeof(err)) < 0)
		FAIL(125, "user '%s': %s", x->user, err);
	if (!env_has(x, "HOME"))
		env_set(x, xasprintf("HOME=%s", home));
	x->env[x->nenv] = NULL;
	/* Resolved inside the root: a link in the image cannot lead out. */
	if (x->workdir) {
		struct stat st;
		if ((wd = open_in_root(rootfd, x->workdir, O_PATH | O_DIRECTORY)) < 0 || fstat(wd, &st) < 0)
			FAIL(125, "working directory '%s': %s", x->workdir, strerror(errno));
	}
	close(rootfd);
	if (x->filter && seccomp_install(x->filter) < 0)
		FAIL(125, "install the seccomp filter: %s", strerror(errno));
	if (!x->pf.privileged && caps_bound_default(x->chrooted) < 0)
		FAIL(125, "drop capabilities: %s", strerror(errno));
	/* No supplementary group of ours (the caller's) goes in. */
	if (setgroups(0, NULL) < 0 || (x->user && (setgid(gid) < 0 || setuid(uid) < 0)))
		FAIL(125, "switch to uid %u gid %u: %s", (unsigned)uid, (unsigned)gid, strerror(errno));
	if (!x->pf.privileged && caps_set(uid == 0 ? caps_default() : 0) < 0)
		FAIL(125, "set capabilities: %s", strerror(errno));
	/* A change of uid may have made us dumpable again (suid_dumpable). */
	prctl(PR_SET_DUMPABLE, 0);
	if (x->pf.nnp && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		FAIL(125, "no-new-privileges: %s", strerror(errno));
	/* As the command's user: its permissions decide, as docker's do. */
	if (wd >= 0 && fchdir(wd) < 0)
		FAIL(125, "chdir to working directory '%s': %s", x->workdir, strerror(errno));
	close_fds_except(sock);
	char cwd[PATH_MAX];
	if (!getcwd(cwd, sizeof(cwd)) || cwd[0] != '/')
		FAIL(125, "working directory '%s' is outside the container", x->workdir ? x->workdir : "/");
	environ = x->env;
	execvp(x->argv[0], x->argv);
	int e = errno, st = exec_status(e);
	FAIL(st, "exec '%s': %s", x->argv[0], strerror(e));
}

/* What the container could read in our /proc/PID/cmdline while the command
 * is set up (it is not protected by non-dumpability): "mdk-exec", not the
 * host's paths and the -e values. Our strings are copied first. */
static void hide_argv(struct exec *x)
{
	char *start = mdk_argv[0], *end = start;

	/* x->argv is a part of mdk_argv: its end first. */
	for (char **a = mdk_argv; *a; a++)
		end = *a + strlen(*a);
	for (size_t i = 0; x->argv[i]; i++)
		x->argv[i] = xasprintf("%s", x->argv[i]);
	for (size_t i = 0; i < x->nenv; i++)
		x->env[i] = xasprintf("%s", x->env[i]);
	if (x->user)
		x->user = xasprintf("%s", x->user);
	if (x->workdir)
		x->workdir = xasprintf("%s", x->workdir);
	x->pidfile = xasprintf("%s", x->pidfile);
	memset(start, 0, (size_t)(end - start));
	strncpy(start, "mdk-exec", (size_t)(end - start));
}

/* The helper, in mdk-exec's PID namespace (never seen from the container):
 * once mdk-exec put it in the container's cgroups, it enters the
 * container and forks the command. It tells mdk-exec the command's PID
 * (status 0) and exits: the command is then mdk-exec's child. */
_Noreturn static void helper(struct exec *x, int sock, int pidfd, int rootfd, int nsflags)
{
	struct { char go; struct winsize ws; } go;
	pid_t cmd;

	/* The go read closes the race with our parent's death (EOF). */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (read(sock, &go, sizeof(go)) != sizeof(go))
		_exit(125);
	x->ws = go.ws;
	/* First: nothing in the container may ptrace us or open our
	 * /proc/PID/{exe,fd,cwd,root,mem} (CVE-2016-9962, CVE-2019-5736);
	 * the command inherits it up to its exec. */
	if (prctl(PR_SET_DUMPABLE, 0) < 0)
		FAIL(125, "prctl(PR_SET_DUMPABLE): %s", strerror(errno));
	for (int i = 0; i < 3; i++)
		if (x->child_std[i] >= 0 && dup2(x->child_std[i], i) < 0)
			FAIL(125, "set up stdin, stdout, stderr: %s", strerror(errno));
	/* Of the caller's fds only 0, 1, 2 go on (no terminal among them:
	 * relayed or /dev/null), of ours the channel, the pidfd and PID 1's
	 * root: no host directory or file is open when we enter. */
	close_fds_but(sock, pidfd, rootfd);
	hide_argv(x);
	if (syscall(SYS_setns, pidfd, nsflags) < 0) {
		if (errno == ESRCH)
			FAIL(125, "container is not running (pid file '%s': its PID 1 is gone)", x->pidfile);
		FAIL(125, "join the container's namespaces: %s", strerror(errno));
	}
	close(pidfd);
	/* setns put our root and cwd at the mount namespace's root; PID 1's
	 * own is the container's root: that, exactly, and no cwd of the
	 * host's. */
	if (fchdir(rootfd) < 0 || chroot(".") < 0 || chdir("/") < 0)
		FAIL(125, "enter the container's root: %s", strerror(errno));
	close(rootfd);
	/* The first process in the container's PID namespace. */
	if ((cmd = fork()) < 0) {
		if (errno == ENOMEM)	/* PID 1 is gone: no new PID in there */
			FAIL(125, "container is not running (pid file '%s': its PID 1 is gone)", x->pidfile);
		FAIL(125, "fork: %s", strerror(errno));
	}
	if (cmd == 0)
		exec_command(x, sock);
	chan_report(sock, 0, "%d", (int)cmd);
	_exit(0);
}

/* --- mdk-exec itself ---------------------------------------------------------------- */

/* The child's standard fds, as mdk-run's: a pipe for each of ours that must
 * not reach the container (needs_relay), /dev/null for stdin without -i
 * and for all three with -t (the pty replaces them) or -d. */
static void stdio_plan(struct exec *x, int null)
{
	for (int i = 0; i < 3; i++) {
		int pp[2];
		if (x->detach || x->tty || (i == 0 && !x->in)) {
			x->child_std[i] = null;
			continue;
		}
		if (!needs_relay(i))
			continue;
		if (pipe2(pp, O_CLOEXEC) < 0)
			die_errno("pipe");
		x->child_std[i] = pp[i == 0 ? 0 : 1];
		x->relay[i] = pp[i == 0 ? 1 : 0];
	}
}

/* Start the command: the helper in the cgroups, then "go"; until the
 * channel's EOF (the command's exec), its PID, a pty master, or why it
 * failed. Returns the command's PID; *master the pty's. A signal
 * meanwhile is passed on to the command once there is one to kill. */
static pid_t start(struct exec *x, char *cg, int pidfd, int rootfd, int nsflags, int sfd, int *master, int *status)
{
	struct { char go; struct winsize ws; } go = { 'g', { 0 } };
	char msg[640], err[600];
	int sv[2], st, fd, stop = 0;
	pid_t h, cmd = -1;

	*master = -1;
	*status = 125;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		die_errno("socketpair");
	if ((h = fork()) < 0)
		die_errno("fork");
	if (h == 0) {
		close(sv[0]);
		helper(x, sv[1], pidfd, rootfd, nsflags);
	}
	close(sv[1]);
	/* The child's ends (/dev/null may stand for several). */
	for (int i = 0; i < 3; i++)
		if (x->child_std[i] >= 0 && (i == 0 || x->child_std[i] != x->child_std[i - 1]) &&
		    (i < 2 || x->child_std[2] != x->child_std[0]))
			close(x->child_std[i]);
	/* In the container's cgroups before it runs anything there. */
	if (cgroups_join(cg, h, err, sizeof(err)) < 0) {
		warn("%s", err);
		goto fail;
	}
	if (x->tty)
		tty_getsize(&go.ws);
	if (write(sv[0], &go, sizeof(go)) != sizeof(go)) {
		warn_errno("start the helper");
		goto fail;
	}
	for (;;) {
		struct pollfd p[2] = { { sv[0], POLLIN, 0 }, { sfd, POLLIN, 0 } };
		struct signalfd_siginfo si;
		ssize_t k;
		if (poll(p, 2, -1) < 0)
			continue;
		/* A signal while starting: the command is killed as soon as
		 * there is one (never left to run unseen). */
		if (p[1].revents & POLLIN && read(sfd, &si, sizeof(si)) == sizeof(si) &&
		    si.ssi_signo != SIGCHLD && si.ssi_signo != SIGWINCH && !stop) {
			stop = (int)si.ssi_signo;
			if (cmd > 0)
				kill(cmd, SIGKILL);
		}
		if (!(p[0].revents & (POLLIN | POLLHUP | POLLERR)))
			continue;
		if ((k = chan_recv(sv[0], &st, msg, sizeof(msg), &fd)) == 0)
			break;
		if (k < 0) {
			warn_errno("read from the helper");
			goto fail;
		}
		if (fd >= 0) {
			if (*master >= 0)
				close(*master);
			*master = fd;
		} else if (st == 0 && cmd < 0) {
			uint64_t v;
			if (parse_uint(msg, 1, INT32_MAX, &v) < 0) {
				warn("the helper said '%s'", msg);
				goto fail;
			}
			cmd = (pid_t)v;
			if (stop)
				kill(cmd, SIGKILL);
		} else {
			warn("%s", msg);
			*status = st ? st : 125;
			goto fail;
		}
	}
	close(sv[0]);
	/* The helper is gone (its end of the channel closed at its exit). */
	wait_status(h, 0);
	if (cmd < 0) {
		warn("the helper ended before the command started");
		return -1;
	}
	if (stop) {
		warn("stopped by signal %d while starting", stop);
		*status = 128 + stop;
		wait_status(cmd, 0);
		return -1;
	}
	return cmd;
fail:
	close(sv[0]);
	kill(h, SIGKILL);
	wait_status(h, 0);
	if (cmd > 0) {
		/* Our child now (the helper is gone): reaped here. */
		kill(cmd, SIGKILL);
		wait_status(cmd, 0);
	}
	if (*master >= 0)
		close(*master);
	return -1;
}

int exec_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "detach", no_argument, NULL, 'd' },
		{ NULL, 0, NULL, 0 },
	};
	struct exec x = { .child_std = { -1, -1, -1 }, .relay = { -1, -1, -1 } };
	const char *e[MAX_ENV];
	size_t ne = 0;
	int c;

	die_status = usage_status = 125;
	/* CVE-2019-5736: the command runs from this process until its exec,
	 * inside the container: from a copy no one can write through
	 * /proc/PID/exe (first: option parsing edits argv). */
	exe_reexec_protected();
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+:idte:w:u:", opts, NULL)) != -1) {
		switch (c) {
		case 'i': x.in = true; break;
		case 't': x.tty = true; break;
		case 'd': x.detach = true; break;
		case 'e':
			if (!*optarg || *optarg == '=')
				usage_die("invalid environment variable '%s'", optarg);
			if (ne == MAX_ENV)
				usage_die("too many environment variables");
			if (strchr(optarg, '='))
				e[ne++] = optarg;
			else if (getenv(optarg))
				e[ne++] = xasprintf("%s=%s", optarg, getenv(optarg));
			break;
		case 'w':
			if (optarg[0] != '/')
				usage_die("working directory '%s' is not an absolute path", optarg);
			x.workdir = optarg;
			break;
		case 'u': x.user = optarg; break;
		case ':': usage_die("option '%s' needs an argument", argv[optind - 1]);
		default:
			if (optopt)
				usage_die("unknown option '-%c'", optopt);
			usage_die("unknown option '%s'", argv[optind - 1]);
		}
	}
	if (argc - optind < 2)
		usage_die("expected PIDFILE and CMD");
	if (x.detach && (x.in || x.tty))
		usage_die("-d with -i or -t: nothing stays attached");
	x.pidfile = argv[optind];
	x.argv = argv + optind + 1;
	if (!*x.argv[0])
		usage_die("empty command");

	read_pidfile(&x);
	/* The container's: its user and working directory unless given. */
	if (!x.user)
		x.user = x.pf.user;
	if (!x.workdir)
		x.workdir = x.pf.workdir;
	for (size_t i = 0; i < x.pf.nenv; i++)
		env_set(&x, x.pf.env[i]);
	for (size_t i = 0; i < ne; i++)
		env_set(&x, e[i]);
	if (x.tty && !env_has(&x, "TERM"))
		env_set(&x, "TERM=xterm");
	if (x.pf.has_caps)
		caps_keep(x.pf.caps);
	if (x.pf.seccomp && !x.pf.privileged) {
		char err[512];
		if (seccomp_compile(x.pf.profile, x.pf.profile_len, caps_default(), &x.filter, err, sizeof(err)) < 0)
			die("seccomp filter of the container: %s", err);
	}
	x.chrooted = root_is_ns_root();

	/* PID 1, held by a pidfd; what we learn of it through /proc/PID is
	 * PID 1's if it still lives after (a PID is not reused before). */
	char path[64], why[64], *cg;
	size_t cglen;
	int pidfd = (int)syscall(SYS_pidfd_open, x.pf.init, 0), rootfd, fd;
	if (pidfd < 0 && errno == ESRCH) {
		snprintf(why, sizeof(why), "its PID 1, %d, is gone", (int)x.pf.init);
		not_running(&x, why);
	}
	if (pidfd < 0)
		die_errno("pidfd_open %d", (int)x.pf.init);
	pid_t ppid;
	if (proc_stat(x.pf.init, &ppid, NULL) < 0 || ppid != x.pf.pid) {
		snprintf(why, sizeof(why), "its PID 1, %d, is gone", (int)x.pf.init);
		not_running(&x, why);
	}
	snprintf(path, sizeof(path), "/proc/%d/root", (int)x.pf.init);
	if ((rootfd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)
		die_errno("open the container's root (%s)", path);
	snprintf(path, sizeof(path), "/proc/%d/cgroup", (int)x.pf.init);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0 || read_fd_max(fd, 1 << 16, &cg, &cglen) < 0)
		die_errno("read %s", path);
	close(fd);
	int nsflags = ns_differ(x.pf.init);
	if (syscall(SYS_pidfd_send_signal, pidfd, 0, NULL, 0) < 0) {
		snprintf(why, sizeof(why), "its PID 1, %d, is gone", (int)x.pf.init);
		not_running(&x, why);
	}
	check_monitor(&x);
	if (!(nsflags & CLONE_NEWNS))
		die("pid file '%s': process %d is in our mount namespace, not a container's", x.pidfile,
		    (int)x.pf.init);

	/* Signals are taken synchronously from here on (as mdk-run takes
	 * them); a reader of our output that goes away ends the relay. */
	signal(SIGPIPE, SIG_IGN);
	sigset_t sigs;
	sig_take_over(&sigs);
	sigprocmask(SIG_BLOCK, &sigs, NULL);
	int sfd = signalfd(-1, &sigs, SFD_CLOEXEC), null = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (sfd < 0 || null < 0)
		die_errno("signalfd, /dev/null");
	stdio_plan(&x, null);
	/* The helper exits once the command is forked: the command becomes
	 * our child, to wait for (its own orphans go to the container's PID 1,
	 * whose namespace they are in). */
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
		die_errno("prctl(PR_SET_CHILD_SUBREAPER)");
	int master, status;
	pid_t cmd = start(&x, cg, pidfd, rootfd, nsflags, sfd, &master, &status);
	if (cmd < 0)
		return status;
	close(pidfd);
	close(rootfd);
	if (x.detach)
		return 0;
	struct relay io = { .out = { x.relay[1], x.relay[2] }, .in = x.relay[0] };
	if (master >= 0)
		io = (struct relay){ .out = { master, -1 }, .in = master, .pty = true };
	return supervise(&io, x.in, cmd, sfd);
}
