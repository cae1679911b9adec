/* exe-pair: what protecting a runtime's binary costs per run (issue 13),
 * measured in one process that runs every variant N times, interleaved
 * (the order rotates each round), timing fork .. waitpid with
 * CLOCK_MONOTONIC. For bench/run.sh; also usable alone (as root).
 *
 *   exe-pair floor N BIN
 *	The mechanisms alone, on BIN (mdk: `BIN check name x`, which exits at
 *	once). Variants:
 *	  none    the child exits at once (fork + wait)
 *	  plain   execve(BIN)
 *	  small   execve of exe-pair itself (`exe-pair exit`: a static binary
 *		  a tenth of mdk's size, that exits at once): what a smaller
 *		  program to exec would save
 *	  held    execveat of BIN through a read-only bind mount made once,
 *		  before the loop (an exec from a binary that is protected
 *		  already: the exec alone, without making the mount)
 *	  ro      mdk's exe_reexec_protected: open_tree(OPEN_TREE_CLONE),
 *		  mount_setattr(RDONLY), execveat; the detached mount
 *		  dissolves when the fd closes at the exec
 *	  bindfd  crun 1.8's (runc 1.0's try_bindfd): bind mount BIN onto a
 *		  temporary file, remount it read-only, open O_PATH,
 *		  umount2(MNT_DETACH), unlink, execveat (in a private mount
 *		  namespace made once, as crun runs in its wrapper)
 *	  memfd   copy BIN into a memfd (sendfile), seal it, execveat
 *
 *   exe-pair runtime [-u DIR] N KIND PROG [ARG]...
 *	A whole runtime with its own protection (as-is) against the same
 *	runtime exec'd already protected (pre): from a read-only bind mount
 *	made once, with the mark that makes it skip its own re-exec (KIND
 *	mdk: MDK_EXE_PROTECTED=<pid>; KIND crun: _LIBCONTAINER_CLONED_BINARY=1,
 *	runc's and crun's). as-is - pre is what the protection costs that
 *	runtime. -u DIR: each child first makes a private mount namespace
 *	and unmounts DIR (crun 1.8 on hybrid cgroups: bench/run.sh's
 *	wrapper, without its shell); for both variants alike.
 *
 *   exe-pair cmp N PROG [ARG]... -- PROG [ARG]...
 *	Any two commands side by side, (a) and (b): mdk before and after a
 *	change, or m-docker run of two images.
 *
 * Output, one line per variant:
 *	VARIANT n=N med=US p25=US p75=US d_med=US d_p25=US d_p75=US d_lo=US d_hi=US
 *		c_med=US dc_med=US dc_lo=US dc_hi=US
 * in microseconds; d_* are the per-round paired differences from the
 * first variant (none; pre), with d_lo .. d_hi the 95 % confidence
 * interval of their median (order statistics). c_ and dc_ are the same for
 * the CPU time the child and its descendants used (wait4's rusage): what
 * other work on the machine inflates less than wall time, but without the
 * waits (an RCU grace period) that wall time has. A child that fails makes
 * the whole run fail (exit 1).
 *
 * Compiled with: musl-gcc -static -O2 -o exe-pair exe-pair.c */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* <linux/mount.h>, which musl-gcc does not see. */
struct mount_attr { unsigned long long attr_set, attr_clr, propagation, userns_fd; };
#define MOUNT_ATTR_RO_NOSUID_NODEV 0x7
#define OPEN_TREE_CLONE 1
#define MFD_CLOEXEC_ 1U
#define MFD_ALLOW_SEALING_ 2U
#ifndef F_ADD_SEALS
#define F_ADD_SEALS 1033
#define F_SEAL_SEAL 1
#define F_SEAL_SHRINK 2
#define F_SEAL_GROW 4
#define F_SEAL_WRITE 8
#endif

enum { NONE, PLAIN, SMALL, HELD, RO, BINDFD, MEMFD, ASIS, PRE, CMP_A, CMP_B };
static const char *names[] = { "none", "plain", "small", "held", "ro", "bindfd", "memfd", "as-is", "pre", "a", "b" };

static char *bin, *bin_b, **av, **av_b, *unmount_dir, *kind, self[4096];
static int held = -1;

_Noreturn static void fail(const char *what)
{
	fprintf(stderr, "exe-pair: %s: %s\n", what, strerror(errno));
	_exit(1);
}

/* A read-only, detached bind mount of PATH, as an fd to execveat. */
static int ro_tree(const char *path)
{
	struct mount_attr ma = { .attr_set = MOUNT_ATTR_RO_NOSUID_NODEV };
	int fd = (int)syscall(SYS_open_tree, AT_FDCWD, path, OPEN_TREE_CLONE | O_CLOEXEC);

	if (fd < 0 || syscall(SYS_mount_setattr, fd, "", AT_EMPTY_PATH, &ma, sizeof(ma)) < 0)
		fail("open_tree/mount_setattr");
	return fd;
}

_Noreturn static void child(int v)
{
	char tmp[] = "/tmp/exe-pair.XXXXXX";
	struct stat st;
	int fd, mfd;

	if (unmount_dir && (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
			    umount2(unmount_dir, MNT_DETACH) < 0))
		fail("-u");
	switch (v) {
	case NONE:
		_exit(0);
	case PLAIN:
	case ASIS:
	case CMP_A:
		execv(bin, av);
		fail("execv");
	case CMP_B:
		execv(bin_b, av_b);
		fail("execv");
	case SMALL: {
		char *small_av[] = { self, "exit", NULL };
		execv(self, small_av);
		fail("execv");
	}
	case HELD:
		syscall(SYS_execveat, held, "", av, environ, AT_EMPTY_PATH);
		fail("execveat");
	case PRE: {
		char mark[64];
		if (!strcmp(kind, "mdk"))
			snprintf(mark, sizeof(mark), "%d", (int)getpid());
		else
			strcpy(mark, "1");
		setenv(!strcmp(kind, "mdk") ? "MDK_EXE_PROTECTED" : "_LIBCONTAINER_CLONED_BINARY", mark, 1);
		syscall(SYS_execveat, held, "", av, environ, AT_EMPTY_PATH);
		fail("execveat");
	}
	case RO:
		fd = ro_tree(bin);
		syscall(SYS_execveat, fd, "", av, environ, AT_EMPTY_PATH);
		fail("execveat");
	case BINDFD:
		if ((fd = mkstemp(tmp)) < 0)
			fail("mkstemp");
		close(fd);
		if (mount(bin, tmp, NULL, MS_BIND, NULL) < 0 ||
		    mount(NULL, tmp, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY, NULL) < 0)
			fail("bind mount");
		if ((fd = open(tmp, O_PATH | O_CLOEXEC)) < 0)
			fail("open");
		umount2(tmp, MNT_DETACH);
		unlink(tmp);
		syscall(SYS_execveat, fd, "", av, environ, AT_EMPTY_PATH);
		fail("execveat");
	case MEMFD:
		if ((fd = open(bin, O_RDONLY | O_CLOEXEC)) < 0 || fstat(fd, &st) < 0 ||
		    (mfd = (int)syscall(SYS_memfd_create, "exe-pair", MFD_CLOEXEC_ | MFD_ALLOW_SEALING_)) < 0)
			fail("memfd");
		for (off_t left = st.st_size; left > 0;) {
			ssize_t k = sendfile(mfd, fd, NULL, (size_t)left);
			if (k <= 0)
				fail("sendfile");
			left -= k;
		}
		if (fcntl(mfd, F_ADD_SEALS, F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE) < 0)
			fail("seal");
		syscall(SYS_execveat, mfd, "", av, environ, AT_EMPTY_PATH);
		fail("execveat");
	}
	_exit(1);
}

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int cmp(const void *a, const void *b);
static double q(const double *v, int n, double p);

/* One run of variant V: its wall time; its CPU time in *CPU. */
static double run_once(int v, double *cpu)
{
	double t0 = now_us();
	struct rusage ru;
	pid_t p = fork();
	int st;

	if (p < 0)
		fail("fork");
	if (p == 0)
		child(v);
	while (wait4(p, &st, 0, &ru) < 0)
		if (errno != EINTR)
			fail("wait4");
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		fprintf(stderr, "exe-pair: variant %s: child status 0x%x\n", names[v], st);
		exit(1);
	}
	*cpu = (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e6 + ru.ru_utime.tv_usec + ru.ru_stime.tv_usec;
	return now_us() - t0;
}

/* Sort A[N] and the differences A[i] - BASE[i] into D; print the stats with
 * PREFIX ("" for wall time, "c" for CPU time). */
static void stats(const char *prefix, double *a, const double *base, double *d, int n, int lo, int hi, bool full)
{
	for (int i = 0; i < n; i++)
		d[i] = a[i] - base[i];
	qsort(a, (size_t)n, sizeof(double), cmp);
	qsort(d, (size_t)n, sizeof(double), cmp);
	if (full)
		printf(" %smed=%.1f p25=%.1f p75=%.1f d_med=%.1f d_p25=%.1f d_p75=%.1f d_lo=%.1f d_hi=%.1f", prefix,
		       q(a, n, .5), q(a, n, .25), q(a, n, .75), q(d, n, .5), q(d, n, .25), q(d, n, .75), d[lo], d[hi]);
	else
		printf(" %s_med=%.1f d%s_med=%.1f d%s_lo=%.1f d%s_hi=%.1f", prefix, q(a, n, .5), prefix, q(d, n, .5),
		       prefix, d[lo], prefix, d[hi]);
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* The q-quantile of the sorted V[N] (nearest rank). */
static double q(const double *v, int n, double p)
{
	int i = (int)(p * (n - 1) + 0.5);

	return v[i < 0 ? 0 : i >= n ? n - 1 : i];
}

int main(int argc, char **argv)
{
	static char *floor_av[] = { NULL, "check", "name", "x", NULL };
	int vs[9], nv = 0, n, arg = 2;
	ssize_t k;

	if (argc == 2 && !strcmp(argv[1], "exit"))
		return 0;
	if (argc < 4)
		goto usage;
	if ((k = readlink("/proc/self/exe", self, sizeof(self) - 1)) < 0)
		fail("readlink /proc/self/exe");
	self[k] = 0;
	if (!strcmp(argv[1], "floor") && argc == 4) {
		int f[] = { NONE, PLAIN, SMALL, HELD, RO, BINDFD, MEMFD };
		memcpy(vs, f, sizeof(f));
		nv = 7;
		bin = argv[3];
		floor_av[0] = bin;
		av = floor_av;
	} else if (!strcmp(argv[1], "runtime")) {
		if (!strcmp(argv[arg], "-u") && argc > arg + 1) {
			unmount_dir = argv[arg + 1];
			arg += 2;
		}
		if (argc < arg + 3)
			goto usage;
		kind = argv[arg + 1];
		if (strcmp(kind, "mdk") && strcmp(kind, "crun"))
			goto usage;
		vs[0] = PRE, vs[1] = ASIS, nv = 2;
		bin = argv[arg + 2];
		av = argv + arg + 2;
	} else if (!strcmp(argv[1], "cmp") && argc >= 6) {
		int sep = 3;
		while (sep < argc && strcmp(argv[sep], "--"))
			sep++;
		if (sep == 3 || sep >= argc - 1)
			goto usage;
		vs[0] = CMP_A, vs[1] = CMP_B, nv = 2;
		argv[sep] = NULL;
		bin = argv[3], av = argv + 3;
		bin_b = argv[sep + 1], av_b = argv + sep + 1;
		if (!strchr(bin_b, '/')) {
			fprintf(stderr, "exe-pair: PROG must be a path\n");
			return 2;
		}
	} else {
		goto usage;
	}
	n = atoi(argv[argv[1][0] == 'r' ? arg : 2]);
	if (n < 10)
		goto usage;
	if (strchr(bin, '/') == NULL) {
		fprintf(stderr, "exe-pair: PROG must be a path\n");
		return 2;
	}
	held = ro_tree(bin);
	if (unmount_dir == NULL && vs[0] == NONE) {
		/* bindfd's temporary mounts stay out of the host's mount table. */
		if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
			fail("private mount namespace");
	}

	double *t = calloc((size_t)n * nv, sizeof(double)), *c = calloc((size_t)n * nv, sizeof(double)),
	       *d = calloc((size_t)n, sizeof(double)), *base = calloc((size_t)n, sizeof(double)),
	       *cbase = calloc((size_t)n, sizeof(double)), dummy;
	if (!t || !c || !d || !base || !cbase)
		fail("calloc");
	/* One untimed warm-up round. */
	for (int j = 0; j < nv; j++)
		run_once(vs[j], &dummy);
	for (int i = 0; i < n; i++)
		for (int j = 0; j < nv; j++) {
			int k = (i + j) % nv;	/* rotate the order */
			t[k * n + i] = run_once(vs[k], &c[k * n + i]);
		}
	/* 95 % CI of a median from order statistics: ranks n/2 -+ 0.98 sqrt(n). */
	int lo = (int)floor(n / 2.0 - 0.98 * sqrt((double)n)), hi = (int)ceil(n / 2.0 + 0.98 * sqrt((double)n));
	if (lo < 0)
		lo = 0;
	if (hi > n - 1)
		hi = n - 1;
	memcpy(base, t, (size_t)n * sizeof(double));
	memcpy(cbase, c, (size_t)n * sizeof(double));
	for (int k = 0; k < nv; k++) {
		printf("%s n=%d", names[vs[k]], n);
		stats("", t + k * n, base, d, n, lo, hi, true);
		stats("c", c + k * n, cbase, d, n, lo, hi, false);
		printf("\n");
	}
	return 0;
usage:
	fprintf(stderr, "usage: exe-pair floor N BIN | exe-pair runtime [-u DIR] N mdk|crun PROG [ARG]...\n"
			"       exe-pair cmp N PROG [ARG]... -- PROG [ARG]...\n");
	return 2;
}
