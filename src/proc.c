/* Process plumbing for mdk-run and mdk-pivot: exec with docker's exit codes,
 * the parent<->child channel, capabilities, users, fds, PID 1. */
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/magic.h>
#include <linux/mount.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mdk.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

char **mdk_argv;	/* set by main(): the re-exec needs the whole argv */

/* The signals a container's PID 1 passes on to the command, as tini does. */
const int forwarded_signals[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH, 0 };

int exec_status(int err)
{
	return err == ENOENT || err == ENOTDIR || err == ENAMETOOLONG ? 127 : 126;
}

/* --- the channel: SOCK_SEQPACKET, one message = status byte + text ------- */

void chan_report(int sock, int status, const char *fmt, ...)
{
	char buf[640];
	va_list ap;
	int n;

	buf[0] = (char)status;
	va_start(ap, fmt);
	n = vsnprintf(buf + 1, sizeof(buf) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	if ((size_t)n >= sizeof(buf) - 1)
		n = sizeof(buf) - 2;
	/* Nothing to do if the parent is gone: we die with it. */
	if (send(sock, buf, (size_t)n + 1, MSG_NOSIGNAL) < 0)
		return;
}

int chan_send_fd(int sock, int fd)
{
	char byte = 0, cbuf[CMSG_SPACE(sizeof(int))] = { 0 };
	struct iovec iov = { &byte, 1 };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
			    .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *c = CMSG_FIRSTHDR(&m);

	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(int));
	return sendmsg(sock, &m, MSG_NOSIGNAL) < 0 ? -1 : 0;
}

/* One message: returns its length (0 at EOF), the status byte in *status
 * (0 for an fd message), text in BUF, a passed fd in *fd (else -1). */
ssize_t chan_recv(int sock, int *status, char *buf, size_t n, int *fd)
{
	char cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { buf, n - 1 };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
			    .msg_controllen = sizeof(cbuf) };
	ssize_t k;

	*fd = -1;
	*status = 0;
	do
		k = recvmsg(sock, &m, MSG_CMSG_CLOEXEC);
	while (k < 0 && errno == EINTR);
	if (k <= 0)
		return k;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c))
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
			memcpy(fd, CMSG_DATA(c), sizeof(int));
	if (*fd >= 0)
		return k;
	*status = (unsigned char)buf[0];
	memmove(buf, buf + 1, (size_t)k - 1);
	buf[k - 1] = 0;
	return k;
}

/* --- capabilities ------------------------------------------------------------ */

/* docker's default set, less CAP_MKNOD: docker may keep it because its
 * device cgroup refuses to open the nodes; with no device cgroup here, a
 * container's root could mknod the host's disks in its /dev tmpfs. */
#define DEFAULT_CAPS                                                                         \
	(1ULL << CAP_CHOWN | 1ULL << CAP_DAC_OVERRIDE | 1ULL << CAP_FOWNER |                 \
	 1ULL << CAP_FSETID | 1ULL << CAP_KILL | 1ULL << CAP_SETGID | 1ULL << CAP_SETUID |    \
	 1ULL << CAP_SETPCAP | 1ULL << CAP_NET_BIND_SERVICE | 1ULL << CAP_NET_RAW |           \
	 1ULL << CAP_SYS_CHROOT | 1ULL << CAP_AUDIT_WRITE | 1ULL << CAP_SETFCAP)

/* Drop every capability outside docker's default set (less SYS_CHROOT with
 * NO_CHROOT) from the bounding set, so no setuid binary or file capability
 * brings it back. */
static uint64_t keep_caps = DEFAULT_CAPS;

uint64_t caps_default(void)
{
	return keep_caps;
}

void caps_keep(uint64_t set)
{
	keep_caps = set;
}

/* Every capability we can give (docker's "ALL"): the ones we hold, which
 * are at most the kernel's (a host may hold back some, even from root). */
uint64_t caps_all(void)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2] = { 0 };

	if (syscall(SYS_capget, &h, d) < 0)
		return 0;
	return (uint64_t)d[1].permitted << 32 | d[0].permitted;
}

int caps_bound_default(bool no_chroot)
{
	if (no_chroot)
		keep_caps &= ~(1ULL << CAP_SYS_CHROOT);
	prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	for (int c = 0; c < 64; c++) {
		if (keep_caps & (1ULL << c))
			continue;
		if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0) {
			if (errno == EINVAL)
				break;	/* past the kernel's last capability */
			return -1;
		}
	}
	return 0;
}

/* Effective and permitted = SET, inheritable none: the default set for
 * root, nothing for any other user (what the kernel's setuid rules leave
 * is cleared too). */
int caps_set(uint64_t set)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2] = { 0 };

	d[0].effective = d[0].permitted = (uint32_t)set;
	d[1].effective = d[1].permitted = (uint32_t)(set >> 32);
	return (int)syscall(SYS_capset, &h, d);
}

/* --- users ----------------------------------------------------------------------- */

#define DB_MAX (1 << 20)	/* passwd, group: a real one is a few KiB */

/* The container's FILE (/etc/passwd or /etc/group) whole, NUL-terminated,
 * in a malloc'd *OUT (NULL when there is none). The image's: resolved
 * inside ROOTFD, a regular file or an error (a FIFO would hang us, a
 * device fire on open), at most DB_MAX. */
static int db_read(int rootfd, const char *file, char **out, char *err, size_t en)
{
	char proc[32], *buf = NULL;
	struct stat st;
	size_t len = 0;
	int fd = open_in_root(rootfd, file, O_PATH), rd = -1;

	*out = NULL;
	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		return snprintf(err, en, "open %s: %s", file, strerror(errno)), -1;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, en, "%s is not a regular file", file);
		goto fail;
	}
	/* procfs and sysfs files pass for regular ones, and reading some has
	 * effects on the host: /proc/kmsg would drain the kernel log. */
	struct statfs sf;
	if (fstatfs(fd, &sf) < 0 || sf.f_type == PROC_SUPER_MAGIC || sf.f_type == SYSFS_MAGIC) {
		snprintf(err, en, "%s is not a file of the image", file);
		goto fail;
	}
	/* Opened for reading only now that it is known to be a plain file:
	 * that very file, through our own procfs (the container's, mounted
	 * and checked by rootfs_enter). */
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	if ((rd = open(proc, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC)) < 0) {
		snprintf(err, en, "open %s: %s", file, strerror(errno));
		goto fail;
	}
	buf = xmalloc(DB_MAX + 2);
	for (ssize_t k; (k = read(rd, buf + len, DB_MAX + 1 - len)) != 0;) {
		if (k < 0) {
			snprintf(err, en, "read %s: %s", file, strerror(errno));
			goto fail;
		}
		if ((len += (size_t)k) > DB_MAX) {
			snprintf(err, en, "%s is larger than %d MiB", file, DB_MAX >> 20);
			goto fail;
		}
	}
	buf[len] = 0;
	close(rd);
	close(fd);
	*out = buf;
	return 0;
fail:
	free(buf);
	if (rd >= 0)
		close(rd);
	close(fd);
	return -1;
}

/* Find KEY (a name, or a numeric id) in DB, a passwd or group file, line by
 * line of any length: F gets the line's first 7 fields (name, -, id, gid,
 * -, home, -), pointing into DB. */
bool db_find(char *db, const char *key, const char *f[7])
{
	for (char *line = db, *next; line && *line; line = next) {
		char *p = line;
		if ((next = strchr(line, '\n')))
			*next++ = 0;
		for (int i = 0; i < 7; i++) {
			f[i] = p;
			p += strcspn(p, ":");
			if (*p)
				*p++ = 0;
		}
		if (!strcmp(f[0], key) || !strcmp(f[2], key))
			return true;
	}
	return false;
}

/* "-u" as docker takes it: UID, NAME, UID:GID, NAME:GROUP. Resolved in the
 * container's /etc/passwd and /etc/group; a numeric id needs no entry. */
int user_resolve(int rootfd, const char *spec, uid_t *uid, gid_t *gid, char *home, size_t n, char *err,
		 size_t en)
{
	char u[256], *db;
	const char *g = strchr(spec, ':'), *f[7];
	uint64_t v;
	int rc = -1;

	snprintf(u, sizeof(u), "%.*s", g ? (int)(g - spec) : (int)strlen(spec), spec);
	snprintf(home, n, "/");
	*gid = 0;
	if (db_read(rootfd, "/etc/passwd", &db, err, en) < 0)
		return -1;
	if (db && db_find(db, u, f)) {
		if (parse_uint(f[2], 0, UINT32_MAX - 1, &v) < 0) {
			snprintf(err, en, "bad uid in /etc/passwd for '%s'", u);
			goto out;
		}
		*uid = (uid_t)v;
		if (parse_uint(f[3], 0, UINT32_MAX - 1, &v) == 0)
			*gid = (gid_t)v;
		if (f[5][0] == '/' && strlen(f[5]) < n)
			snprintf(home, n, "%s", f[5]);
	} else if (parse_uint(u, 0, UINT32_MAX - 1, &v) == 0) {
		*uid = (uid_t)v;
		if (!v)
			snprintf(home, n, "/root");
	} else {
		snprintf(err, en, "unable to find user %s: no matching entries in passwd file", u);
		goto out;
	}
	free(db);
	if (!g)
		return 0;
	g++;
	if (db_read(rootfd, "/etc/group", &db, err, en) < 0)
		return -1;
	if (db && db_find(db, g, f) && parse_uint(f[2], 0, UINT32_MAX - 1, &v) == 0)
		*gid = (gid_t)v;
	else if (parse_uint(g, 0, UINT32_MAX - 1, &v) == 0)
		*gid = (gid_t)v;
	else {
		snprintf(err, en, "unable to find group %s: no matching entries in group file", g);
		goto out;
	}
	rc = 0;
out:
	free(db);
	return rc;
}

/* --- namespaces ---------------------------------------------------------------- */

static bool same_ns(pid_t pid, const char *name)
{
	char path[64];
	struct stat a, b;

	snprintf(path, sizeof(path), "/proc/%d/ns/%s", (int)pid, name);
	if (stat(path, &a) < 0)
		return true;	/* the kernel has none of that kind */
	snprintf(path, sizeof(path), "/proc/self/ns/%s", name);
	return stat(path, &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

/* The namespaces of PID 1 that are not ours already: all of them, but the
 * network with --net host (a user namespace may not be entered twice). */
int ns_differ(pid_t init)
{
	static const struct { const char *name; int flag; } ns[] = {
		{ "user", CLONE_NEWUSER }, { "mnt", CLONE_NEWNS },	   { "uts", CLONE_NEWUTS },
		{ "ipc", CLONE_NEWIPC },   { "net", CLONE_NEWNET },	   { "cgroup", CLONE_NEWCGROUP },
		{ "pid", CLONE_NEWPID },   { "time", CLONE_NEWTIME },
	};
	int flags = 0;

	for (size_t i = 0; i < sizeof(ns) / sizeof(*ns); i++)
		if (!same_ns(init, ns[i].name))
			flags |= ns[i].flag;
	return flags;
}

/* --- fds, network ---------------------------------------------------------------- */

/* Close every fd above 2 but A, B and C (-1: none). */
void close_fds_but(int a, int b, int c)
{
	int keep[3] = { a, b, c };
	unsigned lo = 3;

	for (int i = 0; i < 3; i++)
		for (int j = i + 1; j < 3; j++)
			if (keep[j] < keep[i]) {
				int t = keep[i];
				keep[i] = keep[j], keep[j] = t;
			}
	for (int i = 0; i < 3; i++) {
		if (keep[i] < (int)lo)
			continue;
		for (int fd = (int)lo; fd < keep[i]; fd++)
			close(fd);
		lo = (unsigned)keep[i] + 1;
	}
	if (syscall(SYS_close_range, lo, ~0U, 0U) < 0)
		for (int fd = (int)lo; fd < 65536; fd++)
			close(fd);
}

/* Close every fd above 2 but KEEP (close-on-exec itself). */
void close_fds_except(int keep)
{
	close_fds_but(keep, -1, -1);
}

/* ip link set lo up, without ip. */
int loopback_up(void)
{
	struct ifreq ifr = { 0 };
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), r = -1;

	if (s < 0)
		return -1;
	strcpy(ifr.ifr_name, "lo");
	if (ioctl(s, SIOCGIFFLAGS, &ifr) == 0) {
		ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
		r = ioctl(s, SIOCSIFFLAGS, &ifr);
	}
	close(s);
	return r;
}

/* --- the binary ------------------------------------------------------------------ */

/* In the environment of the re-executed mdk: the PID that made the
 * protected copy it runs from (an exec keeps the PID). Unset at once: no
 * child, and no container through -e, ever sees it. */
#define EXE_MARK "MDK_EXE_PROTECTED"

/* Does this process run from a binary nothing can write through
 * /proc/PID/exe: one on a read-only mount, or a memfd sealed against
 * writes? */
static bool exe_is_protected(void)
{
	struct statvfs sv;
	int fd, seals;

	if (statvfs("/proc/self/exe", &sv) == 0 && sv.f_flag & ST_RDONLY)
		return true;
	if ((fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC)) < 0)
		return false;
	seals = fcntl(fd, F_GET_SEALS);
	close(fd);
	return seals >= 0 && seals & F_SEAL_WRITE;
}

/* The fallback, where the mount API is missing (before Linux 5.12) or
 * refused: exec a sealed in-memory copy, as runc before 1.2 did. Returns
 * only on failure. */
static void exec_sealed_copy(void)
{
	int fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC), mfd;
	struct stat st;

	if (fd < 0)
		die_errno("open /proc/self/exe (is /proc mounted?)");
	if (fstat(fd, &st) < 0 || (mfd = memfd_create("mdk", MFD_CLOEXEC | MFD_ALLOW_SEALING)) < 0)
		die_errno("make a sealed copy of mdk");
	for (off_t left = st.st_size; left > 0;) {
		ssize_t k = sendfile(mfd, fd, NULL, (size_t)left);
		if (k <= 0)
			die_errno("copy mdk into memory");
		left -= k;
	}
	close(fd);
	if (fcntl(mfd, F_ADD_SEALS, F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE) < 0)
		die_errno("seal the copy of mdk");
	syscall(SYS_execveat, mfd, "", mdk_argv, environ, AT_EMPTY_PATH);
}

void exe_reexec_protected(void)
{
	const char *mark = getenv(EXE_MARK);
	struct mount_attr ma = { .attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV };
	char pid[16];
	int fd;

	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	if (mark && !strcmp(mark, pid)) {
		unsetenv(EXE_MARK);
		/* Never a loop, never a writable binary: a marker forged with
		 * our PID on a writable binary ends here too. */
		if (!exe_is_protected())
			die("re-executed, yet the binary is still writable");
		return;
	}
	/* Already out of the container's reach: a binary on a read-only mount
	 * (a read-only /usr or image; no container can remount a mount of the
	 * host's) or a sealed memfd. No copy, no exec. */
	if (!mark && exe_is_protected())
		return;
	if (setenv(EXE_MARK, pid, 1) < 0)
		die_errno("setenv");
	/* A bind mount of our own file, read-only before anyone can see it
	 * and in no mount namespace: the fd closes at the exec, which leaves
	 * the mount unmounted, so no mount_setattr, remount or open_tree can
	 * make it (or a clone of it) writable again. Every process started
	 * from this one, and every exec of /proc/self/exe in the container,
	 * runs the binary through it: opening it for writing fails with EROFS.
	 * No copy: it costs about one exec. */
	fd = (int)syscall(SYS_open_tree, AT_FDCWD, "/proc/self/exe", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
	if (fd >= 0 && syscall(SYS_mount_setattr, fd, "", AT_EMPTY_PATH, &ma, sizeof(ma)) == 0)
		syscall(SYS_execveat, fd, "", mdk_argv, environ, AT_EMPTY_PATH);
	if (fd >= 0)
		close(fd);
	exec_sealed_copy();
	die_errno("re-exec mdk from a protected copy");
}

/* --- PID 1 ----------------------------------------------------------------------- */

static void on_forwardable(int sig) { (void)sig; }

/* A PID 1 gets only the signals it has a handler for (SIG_DFL ones are
 * dropped by the kernel), so install real handlers, then take the signals
 * synchronously. Call with them blocked. */
void sig_take_over(sigset_t *set)
{
	struct sigaction sa = { .sa_handler = on_forwardable };

	sigemptyset(set);
	sigaddset(set, SIGCHLD);
	for (const int *s = forwarded_signals; *s; s++)
		sigaddset(set, *s);
	for (int s = 1; s < NSIG; s++)
		if (sigismember(set, s))
			sigaction(s, &sa, NULL);
}

/* Be PID 1 for CMD: pass signals on, reap every zombie, and return (as an
 * exit code) CMD's status as soon as CMD ends; returning ends the PID
 * namespace, so the kernel kills whatever is left. */
int init_loop(pid_t cmd)
{
	sigset_t set;
	siginfo_t si;
	int st;

	sig_take_over(&set);
	for (;;) {
		if (sigwaitinfo(&set, &si) < 0)
			continue;
		if (si.si_signo != SIGCHLD) {
			kill(cmd, si.si_signo);
			continue;
		}
		for (pid_t p; (p = waitpid(-1, &st, WNOHANG)) > 0;)
			if (p == cmd)
				return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	}
}

/* Fields 4 (the parent) and 22 (the start time, in clock ticks since boot)
 * of /proc/PID/stat; either pointer may be NULL. -1 with errno for no such
 * process (or a zombie: ESRCH). */
int proc_stat(pid_t pid, pid_t *ppid, unsigned long long *start)
{
	char path[64], buf[1024], state;
	unsigned long long st;
	ssize_t k;
	int fd, pp;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -1;
	k = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (k <= 0)
		return -1;
	buf[k] = 0;
	/* The command name may hold spaces and ')': cut at the last ')'. */
	char *p = strrchr(buf, ')');
	if (!p || sscanf(p + 1, " %c %d %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %llu",
			 &state, &pp, &st) != 3) {
		errno = EINVAL;
		return -1;
	}
	if (state == 'Z' || state == 'X') {
		errno = ESRCH;
		return -1;
	}
	if (ppid)
		*ppid = pp;
	if (start)
		*start = st;
	return 0;
}

/* The start time of process PID: with the PID it names a process for good,
 * as a recycled PID has another. */
int proc_starttime(pid_t pid, unsigned long long *start)
{
	return proc_stat(pid, NULL, start);
}

/* INT, TERM and HUP call FN (no SA_RESTART: a blocking read returns): the
 * applets that must undo what they began stop at their next step. */
void catch_stop_signals(void (*fn)(int))
{
	struct sigaction sa = { .sa_handler = fn };

	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
}
