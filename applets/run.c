/* mdk-run: run a command in a container on a prepared root directory.
 *
 * usage: mdk-run [OPTIONS] ROOTFS CMD [ARG]...
 *
 * New UTS, PID, mount, IPC, network (loopback up) and cgroup namespaces, and
 * a session of its own (never the caller's terminal: see -t);
 * pivot_root into ROOTFS with a fresh /proc, /dev and read-only /sys; a tiny
 * init as PID 1 that forwards signals and reaps zombies; docker's default
 * capabilities, a seccomp filter after docker's, masked /proc and /sys paths;
 * mdk's own binary reaches the container only through a read-only mount
 * (CVE-2019-5736); the container dies with mdk-run.
 *
 * Exit codes: the command's; 128+N if it was killed by signal N; 125 mdk-run
 * failed (bad option, setup error); 126 CMD not executable; 127 not found. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <limits.h>
#include <linux/capability.h>
#include <linux/mount.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mdk.h"

const char run_usage[] =
	"usage: mdk-run [OPTIONS] ROOTFS CMD [ARG]...\n"
	"Run CMD in new namespaces (UTS, PID, mount, IPC, network, cgroup) with ROOTFS\n"
	"as its root: fresh /proc, /dev, read-only /sys, docker's default capabilities.\n"
	"  -i                 keep stdin open (else the command reads /dev/null)\n"
	"  -t                 allocate a pseudo-terminal for the command (without -t,\n"
	"                     our stdin, stdout and stderr are relayed through pipes\n"
	"                     unless they are pipes, sockets or /dev/null: the\n"
	"                     container never holds a terminal or host file of ours)\n"
	"  -e K=V             set an environment variable (repeatable); -e K copies K\n"
	"  -w DIR             working directory inside the container (created)\n"
	"  -u UID[:GID]       user, numeric or a name from the container's /etc/passwd\n"
	"  -v SRC:DST[:ro]    bind mount host SRC at DST inside the container (SRC a\n"
	"                     NAME: the named volume DIR/NAME of --volume-root DIR,\n"
	"                     made empty on first use, kept after the container)\n"
	"  --tmpfs DST[:OPTS] a new tmpfs at DST; OPTS: ro, size=, mode=, uid=, gid=,\n"
	"                     nr_inodes=, exec, suid (default nosuid,nodev,noexec;\n"
	"                     always nodev)\n"
	"  --read-only        the root read-only (volumes, tmpfs, /dev as they are)\n"
	"  --etc-files        a container's own /etc/hostname, /etc/hosts (localhost\n"
	"                     and the hostname) and /etc/resolv.conf (the host's with\n"
	"                     --net host, else none: loopback only) bound over ROOTFS's\n"
	"                     (a missing one made there); a volume on one of them wins\n"
	"  --cap-add CAP, --cap-drop CAP  capabilities (CAP_NET_ADMIN or NET_ADMIN, ALL)\n"
	"                     added to or dropped from docker's default set (add wins;\n"
	"                     never MKNOD: no device cgroup here)\n"
	"  --hostname NAME    (default: --name, else --id, else a random id)\n"
	"  --name NAME        container name (hostname, cgroup)\n"
	"  --id ID            container id (hostname, cgroup)\n"
	"  --net host|none    host: keep the host's network (default none: only lo)\n"
	"  --privileged       all capabilities, nothing masked, no seccomp filter\n"
	"  --security-opt seccomp=FILE  a docker/OCI JSON seccomp profile instead of\n"
	"                     the default (an allowlist after docker's: keyrings, bpf,\n"
	"                     mounts, new namespaces... EPERM; unknown syscalls ENOSYS)\n"
	"  --security-opt seccomp=unconfined, or --no-seccomp: no seccomp filter\n"
	"  --security-opt no-new-privileges: setuid and file caps give nothing\n"
	"  --no-init          CMD is PID 1 itself (no signal forwarding or reaping)\n"
	"  --die-with-parent  end the container when mdk-run's parent dies\n"
	"  -d, --detach       return (0) once CMD runs, or with the status of what\n"
	"                     failed; mdk-run stays, in a session of its own, as the\n"
	"                     container's monitor (needs --log; no -i, -t)\n"
	"  --pid-file FILE    once CMD runs: pid=, start= of mdk-run (the monitor),\n"
	"                     init= (the container's PID 1 on the host), and how CMD\n"
	"                     was confined, for mdk-exec; replaced whole, mode 0600\n"
	"  --exit-file FILE   at the end: the exit status, replaced whole\n"
	"  --exit-command PATH  exec PATH (--exit-command-arg ARG, repeatable) at the\n"
	"                     very end, after the cgroup is gone (e.g. to remove the\n"
	"                     container's overlay)\n"
	"  -m, --memory SIZE  memory limit (64m, 1g; swap capped too)\n"
	"  --cpus N.NN        CPU quota in CPUs (0.5 = half of one CPU)\n"
	"  --cpuset-cpus LIST CPUs the container may use (0-2,4)\n"
	"  --cpu-shares N     relative CPU weight (2..262144; v2: cpu.weight)\n"
	"  --pids-limit N     at most N processes (default and -1: no limit)\n"
	"  --log FILE         the command's stdout and stderr go to FILE, a record a\n"
	"                     line in the CRI format kubelet reads (TIME STREAM F|P MSG)\n"
	"  --log-max-size SIZE  past SIZE (default 10m), FILE becomes FILE.1 and a new\n"
	"                     FILE starts: the newest output is kept\n"
	"  --check            (first) check the options, then exit: 0 if they are good\n"
	"The container runs in cgroup $MDK_CGROUP_PARENT/ID (default m-docker/ID),\n"
	"removed on exit; a limit that cannot be applied fails with 125.\n"
	"The environment is PATH, HOME, HOSTNAME (TERM with -t) and -e, nothing else.\n"
	"Exit codes: the command's status; 128+N killed by signal N; 125 mdk-run\n"
	"failed; 126 command not executable; 127 command not found.\n";

#define MAX_VOLUMES 64
#define MAX_ENV 256
#define MAX_EXIT_ARGS 32

struct run {
	const char *rootfs, *workdir, *user, *hostname, *name;
	char **argv;
	char *env[MAX_ENV + 8];
	size_t nenv;
	struct volume vol[MAX_VOLUMES];
	size_t nvol;
	const char *volroot;	/* --volume-root: named volumes */
	bool in, tty, hostnet, privileged, init, readonly, etc;
	uint64_t cap_add, cap_drop;	/* --cap-add, --cap-drop */
	bool cap_add_all, cap_drop_all;	/* ... ALL */
	const char *memory;	/* -m as given, for the OOM message */
	bool chrooted;		/* the root switch fell back to chroot */
	bool seccomp;		/* a filter (off: --no-seccomp, seccomp=unconfined) */
	const char *profile;	/* seccomp=FILE, else the default */
	char *profile_text;	/* its text, for the pid file (mdk-exec) */
	size_t profile_len;
	void *filter;		/* compiled before the fork */
	bool nnp;		/* no-new-privileges */
	struct limits lim;
	const char *log;	/* --log FILE */
	long long log_max;
	struct ctr_log *logf;	/* open before the fork */
	bool detach;
	int ready;		/* -d: the caller waits on it for "started" */
	const char *pidfile, *exitfile;
	char *exitcmd[MAX_EXIT_ARGS + 2];
	size_t nexitcmd;
	/* Without -t, a standard fd of ours that is a terminal reaches the
	 * container only as a pipe: its end (child_std) and ours (relay). */
	int child_std[3], relay[3];
};

/* docker's --cpus: a decimal number of CPUs, at most 3 decimals, from 0.01
 * to the number of CPUs online; as a CFS quota per 100 ms period. */
static void parse_cpus(struct run *r, const char *s)
{
	uint64_t milli = 0;
	const char *p = s;
	int dec = -1;

	for (; *p; p++) {
		if (*p == '.' && dec < 0) {
			dec = 0;
			continue;
		}
		if (*p < '0' || *p > '9' || dec >= 3 || milli > 1000000000)
			usage_die("invalid --cpus '%s' (want a number like 1.5)", s);
		milli = milli * 10 + (uint64_t)(*p - '0');
		if (dec >= 0)
			dec++;
	}
	for (dec = dec < 0 ? 0 : dec; dec < 3; dec++)
		milli *= 10;
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	if (p == s || milli < 10 || milli > (uint64_t)(ncpu > 0 ? ncpu : 1) * 1000)
		usage_die("invalid --cpus '%s': the range is 0.01 to %ld", s, ncpu);
	r->lim.cpu_period = 100000;
	r->lim.cpu_quota = milli * 100;
}

static const char *getenv_from(char **env, size_t n, const char *key)
{
	size_t klen = strlen(key);

	for (size_t i = 0; i < n; i++)
		if (!strncmp(env[i], key, klen) && env[i][klen] == '=')
			return env[i] + klen + 1;
	return NULL;
}

static void env_set(struct run *r, const char *kv)
{
	size_t klen = strcspn(kv, "=");

	for (size_t i = 0; i < r->nenv; i++) {
		if (!strncmp(r->env[i], kv, klen) && r->env[i][klen] == '=') {
			r->env[i] = (char *)kv;
			return;
		}
	}
	/* Room kept for HOME, which the command's child adds, and the NULL. */
	if (r->nenv == MAX_ENV + 6)
		usage_die("too many environment variables");
	r->env[r->nenv++] = (char *)kv;
}

static struct volume *new_volume(struct run *r)
{
	if (r->nvol == MAX_VOLUMES)
		usage_die("at most %d volumes", MAX_VOLUMES);
	return &r->vol[r->nvol++];
}

static void parse_volume(struct run *r, char *spec)
{
	struct volume *v = new_volume(r);
	char *dst = strchr(spec, ':'), *mode;

	if (!dst || dst == spec)
		usage_die("invalid volume '%s' (want HOSTDIR:DIR[:ro])", spec);
	*dst++ = 0;
	if ((mode = strchr(dst, ':'))) {
		*mode++ = 0;
		if (strcmp(mode, "ro") && strcmp(mode, "rw"))
			usage_die("invalid volume mode '%s' (want ro or rw)", mode);
		v->ro = !strcmp(mode, "ro");
	}
	if (*dst != '/')
		usage_die("invalid volume target '%s': must be an absolute path", dst);
	if (spec[0] != '/' && !valid_name(spec))
		usage_die("invalid volume source '%s': want an absolute path or a volume name "
			  "([a-z0-9][a-z0-9._-]*)", spec);
	v->src = spec;
	v->dst = dst;
}

/* Named volumes: VOLROOT/NAME, made (empty) on first use. */
static int named_volumes(struct run *r)
{
	int dir = -1;

	for (size_t i = 0; i < r->nvol; i++) {
		struct volume *v = &r->vol[i];
		if (!v->src || v->src[0] == '/')
			continue;
		if (dir < 0 && (((mkdir(r->volroot, 0700) < 0 && errno != EEXIST)) ||
				(dir = open(r->volroot, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0))
			return -1;
		if (mkdirat(dir, v->src, 0755) < 0 && errno != EEXIST) {
			int e = errno;
			close(dir);
			return errno = e, -1;
		}
		v->src = xasprintf("%s/%s", r->volroot, v->src);
	}
	if (dir >= 0)
		close(dir);
	return 0;
}

/* --tmpfs DST[:OPTS], docker's: flags go on the mount, the rest to tmpfs. */
static void parse_tmpfs(struct run *r, char *spec)
{
	static const struct { const char *name; unsigned set, clr; } flags[] = {
		{ "ro", MOUNT_ATTR_RDONLY, 0 },	       { "rw", 0, MOUNT_ATTR_RDONLY },
		{ "nosuid", MOUNT_ATTR_NOSUID, 0 },    { "suid", 0, MOUNT_ATTR_NOSUID },
		{ "nodev", MOUNT_ATTR_NODEV, 0 },
		{ "noexec", MOUNT_ATTR_NOEXEC, 0 },    { "exec", 0, MOUNT_ATTR_NOEXEC },
	};
	static const char *const data[] = { "size=", "mode=", "uid=", "gid=", "nr_inodes=", "nr_blocks=" };
	struct volume *v = new_volume(r);
	char *opts = strchr(spec, ':'), *o, *save, buf[256] = "";

	if (opts)
		*opts++ = 0;
	if (*spec != '/')
		usage_die("invalid --tmpfs target '%s': must be an absolute path", spec);
	v->dst = spec;
	v->attr = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC;
	for (o = opts ? strtok_r(opts, ",", &save) : NULL; o; o = strtok_r(NULL, ",", &save)) {
		size_t i, n = sizeof(flags) / sizeof(*flags);
		for (i = 0; i < n && strcmp(o, flags[i].name); i++)
			;
		if (i < n) {
			v->attr = (v->attr | flags[i].set) & ~flags[i].clr;
			continue;
		}
		for (i = 0; i < sizeof(data) / sizeof(*data) && strncmp(o, data[i], strlen(data[i])); i++)
			;
		if (i == sizeof(data) / sizeof(*data) || !o[strlen(data[i])])
			usage_die("invalid --tmpfs option '%s' (want ro, rw, [no]exec, [no]suid, nodev, "
				  "size=, mode=, uid=, gid=, nr_inodes=; device nodes open only in /dev)", o);
		if (strlen(buf) + strlen(o) + 2 > sizeof(buf))
			usage_die("--tmpfs '%s': options too long", spec);
		snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), "%s%s", *buf ? "," : "", o);
	}
	v->opts = xasprintf("%s", buf);
}

/* --cap-add/--cap-drop NAME[,NAME...] into *SET; ALL sets *ALL. */
static void parse_caps(const char *opt, const char *list, uint64_t *set, bool *all)
{
	char *copy = xasprintf("%s", list), *save;
	bool add = !strcmp(opt, "--cap-add");
	int n = -1;

	for (char *c = strtok_r(copy, ",", &save); c; c = strtok_r(NULL, ",", &save)) {
		n = strcasecmp(c, "ALL") ? cap_from_name(c) : 64;
		if (n < 0 || (add && n < 64 && !(caps_all() & 1ULL << n)))
			usage_die("%s: capability '%s' is %s", opt, c,
				  n < 0 ? "unknown" : "not ours to give (this kernel, or the caller, has not got it)");
		if (n == 64)
			*all = true;
		else
			*set |= 1ULL << n;
	}
	if (n < 0)
		usage_die("%s: want a capability name", opt);
	free(copy);
}

/* --security-opt seccomp=FILE|unconfined, no-new-privileges[=true|false] */
static void security_opt(struct run *r, const char *opt)
{
	if (!strncmp(opt, "seccomp=", 8) || !strncmp(opt, "seccomp:", 8)) {
		r->seccomp = strcmp(opt + 8, "unconfined") != 0;
		r->profile = r->seccomp ? opt + 8 : NULL;
		if (r->profile && !*r->profile)
			usage_die("--security-opt seccomp=: want a profile file or unconfined");
	} else if (!strcmp(opt, "no-new-privileges") || !strcmp(opt, "no-new-privileges=true") ||
		   !strcmp(opt, "no-new-privileges:true")) {
		r->nnp = true;
	} else if (!strcmp(opt, "no-new-privileges=false") || !strcmp(opt, "no-new-privileges:false")) {
		r->nnp = false;
	} else {
		usage_die("unknown --security-opt '%s' (want seccomp=FILE|unconfined or no-new-privileges)", opt);
	}
}

/* The filter is compiled here, before anything is set up: a bad profile
 * costs nothing, and the container's start does not pay for the parse. */
static void compile_seccomp(struct run *r)
{
	char *text = NULL, err[512];
	size_t len = 0;

	if (r->profile) {
		int fd = open(r->profile, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
		if (fd < 0)
			die_errno("seccomp profile '%s'", r->profile);
		if (read_fd_max(fd, 1 << 20, &text, &len) < 0)
			die(errno == EFBIG ? "seccomp profile '%s': larger than 1 MiB" :
					     "seccomp profile '%s': %s", r->profile, strerror(errno));
		close(fd);
	}
	if (seccomp_compile(text, len, caps_default(), &r->filter, err, sizeof(err)) < 0) {
		if (r->profile)
			die("seccomp profile '%s': %s", r->profile, err);
		die("seccomp filter: %s", err);
	}
	r->profile_text = text;
	r->profile_len = len;
}

/* --- in the container --------------------------------------------------------- */

/* The command's working directory, resolved (and made, as docker makes a
 * missing one, as root) inside the container's root: an O_PATH fd to
 * fchdir to once the command's user is set. */
static int workdir_open(const char *path, int rootfd)
{
	struct stat st;
	int fd = mkpath_in_root(rootfd, path ? path : "/", false);

	if (fd < 0)
		return -1;
	if (fstat(fd, &st) < 0 || !S_ISDIR(st.st_mode)) {
		close(fd);
		return errno = errno ? errno : ENOTDIR, -1;
	}
	return fd;
}

/* The command: PID 2 under our init (or PID 1 with --no-init). */
_Noreturn static void exec_command(struct run *r, int sock, int tty)
{
	char home[PATH_MAX], err[PATH_MAX + 300];
	uid_t uid = 0;
	gid_t gid = 0;
	sigset_t none;
	int rootfd, wd;

	/* Every signal as a fresh process has it: not what mdk-run (or the
	 * caller that started it, e.g. SIGPIPE ignored by systemd) set. */
	sigemptyset(&none);
	for (int s = 1; s < NSIG; s++)
		signal(s, SIG_DFL);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (tty >= 0) {
		/* The pty becomes the command's controlling terminal (a session
		 * of its own: with --no-init we lead one already). */
		if ((getsid(0) != getpid() && setsid() < 0) || ioctl(tty, TIOCSCTTY, 0) < 0 ||
		    dup2(tty, 0) < 0 || dup2(tty, 1) < 0 || dup2(tty, 2) < 0) {
			chan_report(sock, 125, "set up the terminal: %s", strerror(errno));
			_exit(125);
		}
		if (tty > 2)
			close(tty);
	} else if (!r->in) {
		int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
		if (fd < 0 || dup2(fd, 0) < 0) {
			chan_report(sock, 125, "open /dev/null as stdin: %s", strerror(errno));
			_exit(125);
		}
		close(fd);
	}
	/* The image's paths (passwd, group, the working directory), resolved
	 * inside the root, which is "/" by now. */
	if ((rootfd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0) {
		chan_report(sock, 125, "open /: %s", strerror(errno));
		_exit(125);
	}
	snprintf(home, sizeof(home), "/root");
	if (r->user && user_resolve(rootfd, r->user, &uid, &gid, home, sizeof(home), err, sizeof(err)) < 0) {
		chan_report(sock, 125, "user '%s': %s", r->user, err);
		_exit(125);
	}
	char home_kv[sizeof(home) + 5];
	if (!getenv_from(r->env, r->nenv, "HOME")) {
		snprintf(home_kv, sizeof(home_kv), "HOME=%s", home);
		r->env[r->nenv++] = home_kv;
	}
	r->env[r->nenv] = NULL;
	if ((wd = workdir_open(r->workdir, rootfd)) < 0) {
		chan_report(sock, 125, "working directory '%s': %s", r->workdir ? r->workdir : "/",
			    strerror(errno));
		_exit(125);
	}
	close(rootfd);
	if (r->filter && seccomp_install(r->filter) < 0) {
		chan_report(sock, 125, "install the seccomp filter: %s", strerror(errno));
		_exit(125);
	}
	if (!r->privileged && caps_bound_default(r->chrooted) < 0) {
		chan_report(sock, 125, "drop capabilities: %s", strerror(errno));
		_exit(125);
	}
	/* No supplementary group of the caller's goes in, with -u or without. */
	if (setgroups(0, NULL) < 0 || (r->user && (setgid(gid) < 0 || setuid(uid) < 0))) {
		chan_report(sock, 125, "switch to uid %u gid %u: %s", (unsigned)uid, (unsigned)gid,
			    strerror(errno));
		_exit(125);
	}
	if (!r->privileged && caps_set(uid == 0 ? caps_default() : 0) < 0) {
		chan_report(sock, 125, "set capabilities: %s", strerror(errno));
		_exit(125);
	}
	if (r->nnp && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		chan_report(sock, 125, "no-new-privileges: %s", strerror(errno));
		_exit(125);
	}
	/* As the command's user: its permissions decide, as docker's do. */
	if (fchdir(wd) < 0) {
		chan_report(sock, 125, "chdir to working directory '%s': %s",
			    r->workdir ? r->workdir : "/", strerror(errno));
		_exit(125);
	}
	/* No fd of ours may reach the command: not even for a chdir through
	 * /proc/self/fd/N into the host (runc CVE-2024-21626). */
	close_fds_except(sock);
	char cwd[4096];
	if (!getcwd(cwd, sizeof(cwd)) || cwd[0] != '/') {
		chan_report(sock, 125, "working directory '%s' is outside the container",
			    r->workdir ? r->workdir : "/");
		_exit(125);
	}
	environ = r->env;
	execvp(r->argv[0], r->argv);
	int e = errno, st = exec_status(e);
	chan_report(sock, st, "exec '%s': %s", r->argv[0], strerror(e));
	_exit(st);
}

/* What the container sees of PID 1: "mdk-init", not mdk-run's command line
 * with host paths in it. argv's strings are contiguous: overwrite them. */
static void name_init(void)
{
	char *start = mdk_argv[0], *end = start;

	for (char **a = mdk_argv; *a; a++)
		end = *a + strlen(*a);
	memset(start, 0, (size_t)(end - start));
	strncpy(start, "mdk-init", (size_t)(end - start));
	prctl(PR_SET_NAME, "mdk-init");
}

/* The child's standard fds: the relay pipe's end for each one mdk-run
 * relays, /dev/null for stdin without -i and for all three with -t (the
 * pty replaces them), else the caller's own (a pipe, socket or
 * /dev/null: see needs_relay). */
static int stdio_setup(struct run *r)
{
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);

	if (null < 0)
		return -1;
	for (int i = 0; i < 3; i++) {
		int fd = r->child_std[i] >= 0 ? r->child_std[i] : r->tty || (i == 0 && !r->in) ? null : i;
		if (fd != i && dup2(fd, i) < 0)
			return -1;
	}
	return 0;
}

/* -d: fork; the caller's process waits until the monitor (the child, in a
 * session of its own, which goes on) says the command runs, and exits 0;
 * or, when the monitor ends first, with its status (it said why on our
 * stderr). Returns the monitor's end of that channel. */
static int detach(void)
{
	int p[2], ws;
	pid_t pid;
	char c;

	if (pipe2(p, O_CLOEXEC) < 0)
		die_errno("pipe");
	if ((pid = fork()) < 0)
		die_errno("fork");
	if (pid == 0) {
		close(p[0]);
		if (setsid() < 0)
			die_errno("setsid");
		return p[1];
	}
	close(p[1]);
	if (read(p[0], &c, 1) == 1)
		_exit(0);
	if (waitpid(pid, &ws, 0) < 0)
		die_errno("wait for the monitor");
	_exit(WIFEXITED(ws) ? WEXITSTATUS(ws) : 125);
}

/* The command runs: the pid file, then (-d) the caller is told, and our
 * standard fds, the caller's, are let go (a $(mdk-run -d ...) returns). */
static int started(struct run *r, pid_t init)
{
	unsigned long long start;

	if (r->pidfile) {
		if (proc_starttime(getpid(), &start) < 0) {
			warn_errno("read our start time");
			return -1;
		}
		/* With how the command was confined: what mdk-exec applies. */
		struct pidfile pf = { .pid = getpid(), .start = start, .init = init,
				      .privileged = r->privileged, .nnp = r->nnp, .caps = caps_default(),
				      .seccomp = r->seccomp && !r->privileged, .profile = r->profile_text,
				      .profile_len = r->profile_len, .user = r->user, .workdir = r->workdir,
				      .env = r->env, .nenv = r->nenv };
		char *rec = pidfile_format(&pf);
		int e = write_file_atomic(r->pidfile, rec);
		free(rec);
		if (e < 0) {
			warn_errno("write pid file '%s'", r->pidfile);
			return -1;
		}
	}
	if (r->ready < 0)
		return 0;
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null < 0 || write(r->ready, "", 1) != 1) {
		warn_errno("detach");
		return -1;
	}
	close(r->ready);
	r->ready = -1;
	for (int i = 0; i < 3; i++)
		dup2(null, i);
	close(null);
	return 0;
}

/* PID 1 of the new PID namespace. */
_Noreturn static void container_init(struct run *r, int sock, int nsflags)
{
	/* "go", and the user's window size for a pty (zero if none). */
	struct { char go; struct winsize ws; } go;
	int master = -1, slave = -1;

	/* If mdk-run dies, so does the container (PID 1 takes it along). The
	 * "go" read closes the race: a parent already gone reads as EOF. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (read(sock, &go, sizeof(go)) != sizeof(go))
		_exit(125);
	/* Never in the caller's session: a terminal of the caller's must not
	 * be the container's controlling terminal (TIOCSTI, job control). */
	if (setsid() < 0) {
		chan_report(sock, 125, "setsid: %s", strerror(errno));
		_exit(125);
	}
	/* Of the caller's fds, only 0, 1 and 2 go on -- and of those no
	 * terminal (a pipe relayed by mdk-run, or /dev/null) -- and of ours
	 * only the channel: no host directory (the cgroup lock) or file stays
	 * open while the image's paths are resolved. */
	if (stdio_setup(r) < 0) {
		chan_report(sock, 125, "set up stdin, stdout, stderr: %s", strerror(errno));
		_exit(125);
	}
	close_fds_except(sock);
	if (unshare(nsflags) < 0) {
		chan_report(sock, 125, "unshare namespaces: %s", strerror(errno));
		_exit(125);
	}
	if (sethostname(r->hostname, strlen(r->hostname)) < 0) {
		chan_report(sock, 125, "sethostname '%s': %s", r->hostname, strerror(errno));
		_exit(125);
	}
	if (!r->hostnet && loopback_up() < 0) {
		chan_report(sock, 125, "bring up the loopback interface: %s", strerror(errno));
		_exit(125);
	}
	struct rootfs rf = { .root = r->rootfs, .volumes = r->vol, .nvolumes = r->nvol,
			     .privileged = r->privileged, .new_ipc = true, .readonly = r->readonly,
			     .workdir = r->workdir,
			     .etc_host = r->etc ? r->hostname : NULL, .etc_name = r->name, .hostnet = r->hostnet };
	if (rootfs_enter(&rf) < 0) {
		chan_report(sock, 125, "%s", rf.err);
		_exit(125);
	}
	r->chrooted = rf.chrooted;
	if (r->tty) {
		/* The pty comes from the container's own devpts instance; its
		 * master goes to mdk-run. */
		if ((master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC)) < 0 ||
		    unlockpt(master) < 0 || (slave = open(ptsname(master), O_RDWR | O_NOCTTY)) < 0 ||
		    (go.ws.ws_row && ioctl(master, TIOCSWINSZ, &go.ws) < 0) || chan_send_fd(sock, master) < 0) {
			chan_report(sock, 125, "allocate a pseudo-terminal: %s", strerror(errno));
			_exit(125);
		}
		close(master);
	}
	if (!r->init)
		exec_command(r, sock, slave);
	/* Not dumpable: the container cannot reach this process's /proc/1/exe. */
	prctl(PR_SET_DUMPABLE, 0);
	pid_t cmd = fork();
	if (cmd < 0) {
		chan_report(sock, 125, "fork: %s", strerror(errno));
		_exit(125);
	}
	if (cmd == 0)
		exec_command(r, sock, slave);
	name_init();	/* after the fork: the command's argv lives there too */
	/* PID 1 needs nothing but CAP_KILL (to pass signals on to a command
	 * of another user): a process that ever got hold of it would find
	 * nothing more to take. It also leaves non-dumpability as what keeps
	 * the container's root from its /proc/1 (not a lack of capabilities). */
	if (caps_set(1ULL << CAP_KILL) < 0) {
		chan_report(sock, 125, "drop PID 1's capabilities: %s", strerror(errno));
		kill(cmd, SIGKILL);
		_exit(125);
	}
	close(sock);
	if (slave >= 0)
		close(slave);
	close_fds_except(-1);
	_exit(init_loop(cmd));
}

/* --- mdk-run itself ---------------------------------------------------------------- */

/* Start the container in CG and see it through: the command's status, or
 * 125 (128+N for signal N while starting) with one line said why. The one
 * way out: on every failure PID 1, and with it the whole PID namespace, is
 * killed and reaped before this returns; the caller removes the cgroup. */
static int run_container(struct run *r, const struct cgroup *cg, int sv[2], int sfd, int nsflags)
{
	/* "go", and the window size: the command must see it set. */
	struct { char go; struct winsize ws; } go = { 'g', { 0 } };
	char err[600] = "", msg[640];
	int status = 125, master = -1, fd, st;
	pid_t init = -1;

	/* The next child is PID 1 of a new PID namespace. */
	if (unshare(CLONE_NEWPID) < 0) {
		warn_errno("unshare PID namespace");
		goto out;
	}
	if ((init = fork()) < 0) {
		warn_errno("fork");
		goto out;
	}
	if (init == 0) {
		close(sv[0]);
		container_init(r, sv[1], nsflags);
	}
	close(sv[1]);
	for (int i = 0; i < 3; i++)
		if (r->child_std[i] >= 0)
			close(r->child_std[i]);
	/* In its cgroup before it runs anything: then "go". */
	if (cgroup_attach(cg, init, err, sizeof(err)) < 0) {
		warn("%s", err);
		goto out;
	}
	if (r->tty)
		tty_getsize(&go.ws);
	if (write(sv[0], &go, sizeof(go)) != sizeof(go)) {
		warn_errno("start the container");
		goto out;
	}
	/* Until the command runs (the channel closes at its exec): a pty
	 * master, or why it could not start. A signal meanwhile ends the
	 * container before it starts. */
	for (;;) {
		struct pollfd p[2] = { { sv[0], POLLIN, 0 }, { sfd, POLLIN, 0 } };
		struct signalfd_siginfo si;
		ssize_t k;
		if (poll(p, 2, -1) < 0)
			continue;
		if (p[1].revents & POLLIN && read(sfd, &si, sizeof(si)) == sizeof(si) &&
		    si.ssi_signo != SIGCHLD && si.ssi_signo != SIGWINCH) {
			warn("stopped by signal %u while starting", si.ssi_signo);
			status = 128 + (int)si.ssi_signo;
			goto out;
		}
		if (!(p[0].revents & (POLLIN | POLLHUP | POLLERR)))
			continue;
		if ((k = chan_recv(sv[0], &st, msg, sizeof(msg), &fd)) == 0)
			break;
		if (k < 0) {
			warn_errno("read from the container");
			goto out;
		}
		if (fd < 0) {
			warn("%s", msg);
			status = st ? st : 125;
			goto out;
		}
		if (master >= 0)
			close(master);
		master = fd;
	}
	close(sv[0]);
	if (started(r, init) < 0)
		goto out;
	struct relay io = { .out = { r->relay[1], r->relay[2] }, .in = r->relay[0], .log = r->logf };
	if (master >= 0)
		io = (struct relay){ .out = { master, -1 }, .in = master, .pty = true, .log = r->logf };
	status = supervise(&io, r->in, init, sfd);
	init = -1;	/* reaped */
out:
	if (init > 0) {
		kill(init, SIGKILL);
		wait_status(init, 0);
	}
	return status;
}

int run_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "hostname", required_argument, NULL, 'H' }, { "name", required_argument, NULL, 'N' },
		{ "id", required_argument, NULL, 'I' },	      { "net", required_argument, NULL, 'n' },
		{ "privileged", no_argument, NULL, 'P' },     { "no-init", no_argument, NULL, 'X' },
		{ "memory", required_argument, NULL, 'm' },   { "cpus", required_argument, NULL, 'C' },
		{ "cpuset-cpus", required_argument, NULL, 'S' },
		{ "cpu-shares", required_argument, NULL, 'W' },
		{ "pids-limit", required_argument, NULL, 'p' },
		{ "die-with-parent", no_argument, NULL, 'D' },
		{ "no-seccomp", no_argument, NULL, 'Z' },
		{ "security-opt", required_argument, NULL, 'O' },
		{ "log", required_argument, NULL, 'L' },
		{ "detach", no_argument, NULL, 'd' },
		{ "pid-file", required_argument, NULL, 'F' },
		{ "exit-file", required_argument, NULL, 'E' },
		{ "exit-command", required_argument, NULL, 'x' },
		{ "exit-command-arg", required_argument, NULL, 'a' },
		{ "log-max-size", required_argument, NULL, 'M' },
		{ "tmpfs", required_argument, NULL, 'T' },
		{ "read-only", no_argument, NULL, 'R' },
		{ "etc-files", no_argument, NULL, 'c' },
		{ "cap-add", required_argument, NULL, 'A' },
		{ "cap-drop", required_argument, NULL, 'B' },
		{ "volume-root", required_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct run r = { .init = true, .seccomp = true, .log_max = 10 << 20, .ready = -1,
			 .child_std = { -1, -1, -1 }, .relay = { -1, -1, -1 } };
	const char *name = NULL, *id = NULL;
	bool dwp = false, check = argc > 1 && !strcmp(argv[1], "--check");
	int c;

	die_status = usage_status = 125;
	/* --check: the options only (m-docker's, before any work). */
	if (check)
		argc--, argv++;
	/* CVE-2019-5736, two layers in every mode. The container's processes
	 * that run mdk -- PID 1, and whatever execs /proc/self/exe in there --
	 * run it from a read-only copy (first: option parsing edits argv, the
	 * re-exec needs it whole); and PID 1 is not dumpable (container_init). */
	if (!check)
		exe_reexec_protected();
	opterr = 0;
	env_set(&r, "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
	while ((c = getopt_long(argc, argv, "+idte:w:u:v:m:", opts, NULL)) != -1) {
		switch (c) {
		case 'i': r.in = true; break;
		case 't': r.tty = true; break;
		case 'e':
			if (!*optarg || *optarg == '=')
				usage_die("invalid environment variable '%s'", optarg);
			if (strchr(optarg, '='))
				env_set(&r, optarg);
			else if (getenv(optarg))
				env_set(&r, xasprintf("%s=%s", optarg, getenv(optarg)));
			break;
		case 'w':
			if (optarg[0] != '/')
				usage_die("working directory '%s' is not an absolute path", optarg);
			r.workdir = optarg;
			break;
		case 'u': r.user = optarg; break;
		case 'v': parse_volume(&r, optarg); break;
		case 'H': r.hostname = optarg; break;
		case 'N': name = optarg; break;
		case 'I': id = optarg; break;
		case 'n':
			if (strcmp(optarg, "host") && strcmp(optarg, "none"))
				usage_die("--net '%s': want host or none", optarg);
			r.hostnet = !strcmp(optarg, "host");
			break;
		case 'P': r.privileged = true; break;
		case 'Z': r.seccomp = false; break;
		case 'O': security_opt(&r, optarg); break;
		case 'X': r.init = false; break;
		case 'L': r.log = optarg; break;
		case 'd': r.detach = true; break;
		case 'F': r.pidfile = optarg; break;
		case 'E': r.exitfile = optarg; break;
		case 'x':
			if (r.nexitcmd)
				usage_die("--exit-command given twice");
			r.exitcmd[r.nexitcmd++] = optarg;
			break;
		case 'a':
			if (!r.nexitcmd)
				usage_die("--exit-command-arg before --exit-command");
			if (r.nexitcmd > MAX_EXIT_ARGS)
				usage_die("more than %d --exit-command-arg", MAX_EXIT_ARGS);
			r.exitcmd[r.nexitcmd++] = optarg;
			break;
		case 'M': {
			uint64_t v;
			if (parse_size(optarg, &v) < 0 || v < 4096 || v > (1ULL << 40))
				usage_die("invalid --log-max-size '%s' (want a size from 4k to 1t, like 10m)", optarg);
			r.log_max = (long long)v;
			break;
		}
		case 'D': dwp = true; break;
		case 'm':
			/* docker's floor: below it nothing starts anyway. */
			if (parse_size(optarg, &r.lim.memory) < 0 || r.lim.memory < 6 << 20)
				usage_die("invalid memory limit '%s' (want a size of at least 6m, like 64m or 1g)", optarg);
			r.memory = optarg;
			break;
		case 'T': parse_tmpfs(&r, optarg); break;
		case 'R': r.readonly = true; break;
		case 'c': r.etc = true; break;
		case 'A': parse_caps("--cap-add", optarg, &r.cap_add, &r.cap_add_all); break;
		case 'B': parse_caps("--cap-drop", optarg, &r.cap_drop, &r.cap_drop_all); break;
		case 'V':
			if (optarg[0] != '/')
				usage_die("--volume-root '%s' is not an absolute path", optarg);
			r.volroot = optarg;
			break;
		case 'C': parse_cpus(&r, optarg); break;
		case 'S':
			if (!*optarg || optarg[strspn(optarg, "0123456789,-")] || strlen(optarg) > 256)
				usage_die("invalid --cpuset-cpus '%s' (want a list like 0-2,4)", optarg);
			r.lim.cpuset = optarg;
			break;
		case 'W':
			if (parse_uint(optarg, 2, 262144, &r.lim.cpu_shares) < 0)
				usage_die("invalid --cpu-shares '%s' (want 2 to 262144)", optarg);
			break;
		case 'p':
			/* -1: no limit, as docker and podman spell it. */
			r.lim.pids = 0;
			if (strcmp(optarg, "-1") && parse_uint(optarg, 1, 4194304, &r.lim.pids) < 0)
				usage_die("invalid --pids-limit '%s' (want 1 to 4194304, or -1 for none)", optarg);
			break;
		default:
			if (optopt)
				usage_die("unknown option '-%c'", optopt);
			usage_die("unknown option '%s'", argv[optind - 1]);
		}
	}
	/* moby's rules: ALL added is all but what is dropped; ALL dropped is
	 * only what is added; else the default, less drops, plus adds. Never
	 * MKNOD, not even in ALL (docker's device cgroup keeps the nodes from
	 * opening; there is none here: the host's disks could be made in /dev
	 * and opened). --privileged gives every capability. */
	if (r.cap_add & 1ULL << CAP_MKNOD)
		usage_die("--cap-add MKNOD: refused (no device cgroup here: a node made in /dev would open "
			  "the host's disks); --privileged has it");
	if (r.cap_add_all)
		caps_keep(caps_all() & ~r.cap_drop & ~(1ULL << CAP_MKNOD));
	else if (r.cap_drop_all)
		caps_keep(r.cap_add);
	else
		caps_keep((caps_default() & ~r.cap_drop) | r.cap_add);
	for (size_t i = 0; i < r.nvol; i++)
		if (r.vol[i].src && r.vol[i].src[0] != '/' && !r.volroot)
			usage_die("invalid volume source '%s': must be an absolute path (or a volume name, "
				  "with --volume-root)", r.vol[i].src);
	if (r.detach && (r.tty || r.in || dwp))
		usage_die("-d with -i, -t or --die-with-parent: nothing stays attached");
	if ((name && !valid_name(name)) || (id && !valid_name(id)))
		usage_die("invalid --name or --id (want [a-z0-9][a-z0-9._-]*, at most %d)", MDK_NAME_MAX);
	if (r.hostname && (strlen(r.hostname) > 64 || !*r.hostname || r.hostname[strcspn(r.hostname, " \t\n\r")]))
		usage_die("invalid hostname '%s' (want 1 to 64 characters, no spaces)", r.hostname);
	/* A profile must compile; the default one does (--check skips it). */
	if (r.seccomp && !r.privileged && (!check || r.profile))
		compile_seccomp(&r);
	if (check)
		return 0;
	if (argc - optind < 2)
		usage_die("expected ROOTFS and CMD");
	r.rootfs = argv[optind];
	r.argv = argv + optind + 1;
	if (!*r.argv[0])
		usage_die("empty command");
	if (!id && !(id = name)) {
		unsigned char b[6];
		if (getrandom(b, sizeof(b), 0) != sizeof(b))
			die_errno("getrandom");
		id = xasprintf("%02x%02x%02x%02x%02x%02x", b[0], b[1], b[2], b[3], b[4], b[5]);
	}
	r.name = name ? name : id;
	if (!r.hostname)
		r.hostname = r.name;
	struct stat st;
	if (stat(r.rootfs, &st) < 0)
		die_errno("rootfs '%s'", r.rootfs);
	if (!S_ISDIR(st.st_mode))
		die("rootfs '%s' is not a directory", r.rootfs);
	env_set(&r, xasprintf("HOSTNAME=%s", r.hostname));
	if (r.tty && !getenv_from(r.env, r.nenv, "TERM"))
		env_set(&r, "TERM=xterm");
	if (r.detach && !r.log)
		usage_die("-d needs --log FILE (where the command's output goes)");
	if (named_volumes(&r) < 0)
		die_errno("volume directory '%s'", r.volroot);
	/* Our death takes the container along (PDEATHSIG of PID 1). */
	if (dwp && (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() == 1))
		die("--die-with-parent: the parent is gone");
	if (r.detach)
		r.ready = detach();

	/* Signals are taken synchronously (signalfd) from here on; blocked
	 * before the fork, so none is lost, and PID 1 inherits the mask. */
	/* A reader of our output that goes away ends the relay, not us. */
	signal(SIGPIPE, SIG_IGN);
	sigset_t sigs;
	sig_take_over(&sigs);
	sigprocmask(SIG_BLOCK, &sigs, NULL);
	/* What needs no undoing comes first: a failure up to the cgroup just
	 * dies. Without -t, the container gets no terminal or file of ours:
	 * such a standard fd is relayed through a pipe instead (needs_relay). */
	int sv[2], sfd;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		die_errno("socketpair");
	if ((sfd = signalfd(-1, &sigs, SFD_CLOEXEC)) < 0)
		die_errno("signalfd");
	static struct ctr_log logf;
	if (r.log) {
		if (log_open(&logf, r.log, r.log_max) < 0)
			die_errno("log '%s'", r.log);
		r.logf = &logf;
	}
	for (int i = 0; i < 3 && !r.tty; i++) {
		int pp[2];
		if ((i == 0 && !r.in) || (!needs_relay(i) && !(i > 0 && r.log)))
			continue;
		if (pipe2(pp, O_CLOEXEC) < 0)
			die_errno("pipe");
		r.child_std[i] = pp[i == 0 ? 0 : 1];
		r.relay[i] = pp[i == 0 ? 1 : 0];
	}
	int nsflags = CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | (r.hostnet ? 0 : CLONE_NEWNET);
	if (access("/proc/self/ns/cgroup", F_OK) == 0)
		nsflags |= CLONE_NEWCGROUP;
	/* The cgroup next: a limit the host cannot apply stops us here. */
	struct cgroup cg;
	char err[600] = "";
	if (cgroup_create(&cg, id, &r.lim, err, sizeof(err)) < 0)
		die("cgroup: %s", err);
	/* The one way out from here: run_container ends every process it
	 * started, whatever failed; then the cgroup goes. */
	int status = run_container(&r, &cg, sv, sfd, nsflags);
	/* docker's OOMKilled, said: a bare 137 explains nothing. Into the log
	 * too, where a -d container's owner looks (our stderr is gone). */
	if (cgroup_oom_kills(id) > 0) {
		char msg[160], lim[80] = "no memory limit of its own";
		if (r.memory)
			snprintf(lim, sizeof(lim), "limit %s", r.memory);
		snprintf(msg, sizeof(msg), "%s: out of memory (%s)", status == 128 + SIGKILL ?
			 "container was killed" : "a process of the container was killed", lim);
		warn("%s", msg);
		if (r.logf) {
			char *line = xasprintf("%s: %s\n", applet_name, msg);
			if (log_write(r.logf, 1, line, strlen(line)) < 0)
				warn_errno("log '%s'", r.log);
			free(line);
		}
	}
	if (cgroup_destroy(id) < 0)
		warn_errno("remove cgroup %s/%s (mdk-cgroup prune retries)", cgroup_parent(), id);
	if (r.exitfile) {
		char b[16];
		snprintf(b, sizeof(b), "%d\n", status);
		if (write_file_atomic(r.exitfile, b) < 0)
			warn_errno("write exit file '%s'", r.exitfile);
	}
	if (r.nexitcmd) {
		/* As a new program: nothing of ours blocked or ignored. */
		sigprocmask(SIG_UNBLOCK, &sigs, NULL);
		signal(SIGPIPE, SIG_DFL);
		execv(r.exitcmd[0], r.exitcmd);
		warn_errno("exit command '%s'", r.exitcmd[0]);
	}
	return status;
}
