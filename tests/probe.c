/* Test probe for tests/run.test and tests/pivot.test: a static program put
 * into the test rootfs, for what busybox cannot tell.
 *
 *   probe caps               capget: "eff=%016llx prm=%016llx inh=%016llx"
 *   probe bnd                the bounding set (PR_CAPBSET_READ) as hex
 *   probe fds                open fds (from readdir /proc/self/fd), one line
 *   probe cwd                getcwd()
 *   probe pids               "pid=N ppid=N"
 *   probe zombies N [CMD..]  fork N children that exit at once, wait until
 *                            all N are zombies, never wait for them; then exit 0,
 *                            or exec CMD (the zombies stay its children)
 *   probe open PATH MODE     open PATH (MODE r, w, a, or t: write and truncate);
 *                            "ok" or the errno text (exit 0 if it opened, 1 if not)
 *   probe exeattack [-r ROOT] [-n N] CMD [ARG..]
 *                            CVE-2019-5736: run CMD with its output held in
 *                            a full pipe, so it blocks on its first write;
 *                            meanwhile race to hold an O_PATH fd of
 *                            /proc/PID/exe of every process whose root is
 *                            ROOT (default /; not ourselves, not busybox)
 *                            until N are held; then, while they run, open
 *                            each truncating (t), and after CMD exits, open
 *                            each for writing (w), all through
 *                            /proc/self/fd/N. One line a process:
 *                            "COMM t=ERR w=ERR" or "COMM open=ERR"
 *   probe exeremount PATH    with CAP_SYS_ADMIN, try to make the mount of the
 *                            file PATH (an exe link) writable again: clear
 *                            its read-only flag (mount_setattr), clone it
 *                            (open_tree) and clear the clone's, remount it
 *                            rw; then open it truncating. One line:
 *                            "setattr=R clone=R remount=R t=R"
 *   probe stdin              read stdin to EOF, print how many bytes
 *   probe sys NAME           try one syscall the seccomp filter refuses
 *                            (keyctl, unshare-user, clone-newns, bpf,
 *                            io_uring, clone3, futex_waitv, vsock[-high],
 *                            inet[-high],
 *                            personality-query|rie, mkdir, getpid, getppid,
 *                            x32-getpid|keyctl|unshare-user|clone-newns,
 *                            i386-getpid|keyctl|vsock|socketcall-vsock|
 *                            unshare-none|unshare-user|clone-newns|inet|
 *                            bind|socketcall-bind (of fd -1)|semget);
 *                            "ok" or the errno text
 *   probe ttyattack TEXT     what a hostile container does to a terminal it
 *                            gets hold of, on fds 0, 1, 2 and /dev/tty: push
 *                            "TEXT\n" into its input (TIOCSTI), then turn its
 *                            echo off; one line per target, e.g.
 *                            "fd1: sti=Not a tty echo-off=Not a tty"
 *   probe racer A B [USEC]   rename A to B and back, forever (pausing USEC
 *                            microseconds after each): the red team's racer
 *                            on a rootfs it holds as a volume
 *   probe xchg A B           swap A and B (renameat2 RENAME_EXCHANGE), forever:
 *                            a file that is now one thing, now another, under
 *                            one name, for a reader that stats then opens
 *   probe breach DIR...      what a masked /proc must refuse, tried under
 *                            each DIR (the racer's names for /proc): open
 *                            DIR/sys/kernel/core_pattern and DIR/sysrq-trigger
 *                            for writing, read a byte of DIR/interrupts,
 *                            kcore, keys, timer_list; one line "BREACH what"
 *                            for each that worked, then "tried N" (targets
 *                            found); exit 3 on a breach
 *
 * Compiled with: musl-gcc -static -Os -o probe probe.c */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <termios.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* <linux/capability.h>, which musl-gcc does not see. */
struct cap_header { unsigned version; int pid; };
struct cap_data { unsigned effective, permitted, inheritable; };
#define CAP_VERSION_3 0x20080522

static int caps(void)
{
	struct cap_header h = { CAP_VERSION_3, 0 };
	struct cap_data d[2];

	if (syscall(SYS_capget, &h, d) < 0) {
		perror("capget");
		return 1;
	}
	printf("eff=%016llx prm=%016llx inh=%016llx\n",
	       (unsigned long long)d[1].effective << 32 | d[0].effective,
	       (unsigned long long)d[1].permitted << 32 | d[0].permitted,
	       (unsigned long long)d[1].inheritable << 32 | d[0].inheritable);
	return 0;
}

static int bnd(void)
{
	unsigned long long set = 0;

	for (int c = 0; c < 64; c++) {
		int r = prctl(PR_CAPBSET_READ, c, 0, 0, 0);
		if (r < 0)
			break;
		if (r)
			set |= 1ULL << c;
	}
	printf("%016llx\n", set);
	return 0;
}

static int fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int self, first = 1;

	if (!d) {
		perror("opendir /proc/self/fd");
		return 1;
	}
	self = dirfd(d);
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.' || atoi(e->d_name) == self)
			continue;
		printf("%s%s", first ? "" : " ", e->d_name);
		first = 0;
	}
	printf("\n");
	closedir(d);
	return 0;
}

/* Is PID a zombie? (state field of /proc/PID/stat) */
static int is_zombie(pid_t pid)
{
	char p[64], buf[512], *s;
	int fd, n;

	snprintf(p, sizeof(p), "/proc/%d/stat", (int)pid);
	if ((fd = open(p, O_RDONLY)) < 0)
		return 0;
	n = (int)read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = 0;
	s = strrchr(buf, ')');
	return s && s[1] == ' ' && s[2] == 'Z';
}

static int zombies(int n, char **cmd)
{
	pid_t kids[256];

	if (n < 1 || n > 256)
		return 2;
	for (int i = 0; i < n; i++) {
		if ((kids[i] = fork()) < 0) {
			perror("fork");
			return 1;
		}
		if (kids[i] == 0)
			_exit(0);
	}
	/* Until every child is a zombie: then they are there to be reaped. */
	for (int i = 0, tries = 0; i < n && tries < 2000; tries++) {
		if (is_zombie(kids[i])) {
			i++;
			continue;
		}
		struct timespec ts = { 0, 1000000 };
		nanosleep(&ts, NULL);
	}
	printf("made %d zombies\n", n);
	fflush(stdout);
	if (cmd[0]) {
		execvp(cmd[0], cmd);
		perror("execvp");
		return 127;
	}
	return 0;
}

static int do_open(const char *path, const char *mode)
{
	int flags = !strcmp(mode, "w") ? O_WRONLY : !strcmp(mode, "a") ? O_WRONLY | O_APPEND :
		    !strcmp(mode, "t") ? O_WRONLY | O_TRUNC : O_RDONLY;
	int fd = open(path, flags);

	if (fd < 0) {
		printf("%s\n", strerror(errno));
		return 1;
	}
	printf("ok\n");
	close(fd);
	return 0;
}

/* <linux/mount.h>, which musl-gcc does not see. */
struct mount_attr { unsigned long long attr_set, attr_clr, propagation, userns_fd; };
#define MOUNT_ATTR_RDONLY 0x1
#define OPEN_TREE_CLONE 1
#ifndef AT_EMPTY_PATH
#define AT_EMPTY_PATH 0x1000
#endif

/* "ok" or why FD (an O_PATH fd) does not open with FLAGS. */
static const char *reopen(int fd, int flags)
{
	char p[32];
	int w;

	snprintf(p, sizeof(p), "/proc/self/fd/%d", fd);
	if ((w = open(p, flags)) < 0)
		return strerror(errno);
	close(w);
	return "ok";
}

static bool same_file(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino;
}

/* See the usage at the top. The writes that could change a file are only
 * tried while its process runs (the kernel's text-busy rule stops them
 * where nothing else does): truncating ones before CMD is let go, plain
 * opens for writing (no byte written) after it ended. */
static int exeattack(int argc, char **argv)
{
	struct held { pid_t pid; int fd; char comm[32]; const char *err; } h[64];
	struct stat self, bb, root, st;
	const char *rootpath = "/";
	int n = 0, want = 1, p[2], c;
	char junk[4096];
	pid_t kid;

	while ((c = getopt(argc, argv, "+r:n:")) != -1) {
		if (c == 'r')
			rootpath = optarg;
		else if (c == 'n')
			want = atoi(optarg);
		else
			return 2;
	}
	if (optind == argc || stat("/proc/self/exe", &self) < 0 || stat(rootpath, &root) < 0 || pipe(p) < 0) {
		perror("exeattack");
		return 2;
	}
	if (stat("/bin/busybox", &bb) < 0)
		bb = self;
	/* A full pipe: CMD's first write blocks until we drain it. */
	fcntl(p[1], F_SETPIPE_SZ, 4096);
	fcntl(p[1], F_SETFL, O_NONBLOCK);
	while (write(p[1], junk, sizeof(junk)) > 0)
		;
	fcntl(p[1], F_SETFL, 0);
	if ((kid = fork()) == 0) {
		dup2(p[1], 1);
		dup2(p[1], 2);
		execvp(argv[optind], argv + optind);
		_exit(127);
	}
	close(p[1]);
	/* The race: every process under ROOT, until WANT exes are held, CMD
	 * ended, or 30 s passed (a sanitized mdk on a loaded machine takes
	 * seconds to start a container; the scan itself takes time). */
	struct timespec t0, now;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int got = 0; got < want; ) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec - t0.tv_sec >= 30)
			break;
		DIR *d = opendir("/proc");
		struct dirent *e;
		got = 0;
		while (d && (e = readdir(d)) && n < 64) {
			pid_t pid = (pid_t)atoi(e->d_name);
			char path[64];
			int i, fd;
			if (pid <= 0 || pid == getpid())
				continue;
			snprintf(path, sizeof(path), "/proc/%d/root", (int)pid);
			/* In a container, a process we may not look at (PID 1)
			 * is reported; on the host (-r), only ROOT's are ours. */
			if (stat(path, &st) < 0 ? errno != EACCES || strcmp(rootpath, "/") : !same_file(&st, &root))
				continue;
			for (i = 0; i < n && h[i].pid != pid; i++)
				;
			if (i < n && !h[i].err) {
				got++;
				continue;
			}
			snprintf(path, sizeof(path), "/proc/%d/exe", (int)pid);
			fd = open(path, O_PATH | O_CLOEXEC);
			if (fd >= 0 && (fstat(fd, &st) < 0 || same_file(&st, &self) || same_file(&st, &bb))) {
				close(fd);
				continue;	/* not mdk (yet) */
			}
			/* A process that is exiting has no exe any more (our
			 * child, once its exec of CMD failed): nothing to hold. */
			if (fd < 0 && (errno == ENOENT || errno == ESRCH))
				continue;
			h[i].pid = pid;
			h[i].fd = fd;
			h[i].err = fd < 0 ? strerror(errno) : NULL;
			snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
			int cf = open(path, O_RDONLY);
			ssize_t k = cf >= 0 ? read(cf, h[i].comm, sizeof(h[i].comm) - 1) : 0;
			h[i].comm[k > 0 ? k - 1 : 0] = 0;
			if (cf >= 0)
				close(cf);
			if (i == n)
				n++;
			got += fd >= 0;
		}
		if (d)
			closedir(d);
		if (waitpid(kid, NULL, WNOHANG) == kid) {
			kid = -1;
			break;
		}
		struct timespec ts = { 0, 1000000 };
		nanosleep(&ts, NULL);
	}
	const char *trunc[64];
	for (int i = 0; i < n; i++)
		trunc[i] = h[i].err ? NULL : reopen(h[i].fd, O_WRONLY | O_TRUNC);
	/* Let CMD go and end; then write through what we hold. */
	while (read(p[0], junk, sizeof(junk)) > 0)
		;
	if (kid > 0)
		waitpid(kid, NULL, 0);
	for (int i = 0; i < n; i++) {
		if (h[i].err)
			printf("%s open=%s\n", h[i].comm, h[i].err);
		else
			printf("%s t=%s w=%s\n", h[i].comm, trunc[i], reopen(h[i].fd, O_WRONLY));
	}
	return 0;
}

static const char *res(long r) { return r < 0 ? strerror(errno) : "ok"; }

static int exeremount(const char *path)
{
	struct mount_attr clr = { .attr_clr = MOUNT_ATTR_RDONLY };
	int fd = open(path, O_PATH | O_CLOEXEC), clone;
	char p[32];

	if (fd < 0) {
		printf("open=%s\n", strerror(errno));
		return 1;
	}
	printf("setattr=%s", res(syscall(SYS_mount_setattr, fd, "", AT_EMPTY_PATH, &clr, sizeof(clr))));
	clone = (int)syscall(SYS_open_tree, fd, "", AT_EMPTY_PATH | OPEN_TREE_CLONE);
	printf(" clone=%s", res(clone));
	if (clone >= 0) {
		printf(" clone-setattr=%s", res(syscall(SYS_mount_setattr, clone, "", AT_EMPTY_PATH, &clr, sizeof(clr))));
		printf(" clone-t=%s", reopen(clone, O_WRONLY | O_TRUNC));
	}
	snprintf(p, sizeof(p), "/proc/self/fd/%d", fd);
	printf(" remount=%s", res(mount(NULL, p, NULL, MS_REMOUNT | MS_BIND, NULL)));
	printf(" t=%s\n", reopen(fd, O_WRONLY | O_TRUNC));
	return 0;
}

/* Try syscall NAME; print "ok" (exit 0) or the errno's text (exit 1). */
static int sys(const char *name)
{
	long r = -1;
	char attr[128] = { 0 };

	errno = 0;
	if (!strcmp(name, "keyctl"))	/* KEYCTL_GET_KEYRING_ID of the session keyring */
		r = syscall(SYS_keyctl, 0, -3, 0);
	else if (!strcmp(name, "unshare-user"))
		r = syscall(SYS_unshare, 0x10000000);
	else if (!strcmp(name, "clone-newns")) {
		r = syscall(SYS_clone, 0x00020000 | 17, 0, 0, 0, 0);
		if (r == 0)
			_exit(0);
		if (r > 0)
			waitpid((pid_t)r, NULL, 0);
	} else if (!strcmp(name, "bpf"))	/* BPF_PROG_LOAD of nothing */
		r = syscall(SYS_bpf, 5, attr, sizeof(attr));
	else if (!strcmp(name, "io_uring"))
		r = syscall(SYS_io_uring_setup, 1, attr);
	else if (!strcmp(name, "clone3"))
		r = syscall(SYS_clone3, attr, 0);
	else if (!strcmp(name, "vsock")) {
		r = socket(40, SOCK_STREAM, 0);	/* AF_VSOCK */
		if (r < 0 && errno != EPERM)
			r = 0;	/* not refused by the filter, only unsupported here */
	} else if (!strcmp(name, "getpid"))
		r = syscall(SYS_getpid);
	else if (!strcmp(name, "futex_waitv"))	/* 5.16: newer than any list of ours */
		r = syscall(449, 0, 0, 0, 0, 0);
	else if (!strcmp(name, "vsock-high"))	/* the int family in a long: 0x1_00000028 */
		r = syscall(SYS_socket, 0x100000000L | 40, 1, 0);
	else if (!strcmp(name, "inet-high"))
		r = syscall(SYS_socket, 0x100000000L | 2, 1, 0);
	else if (!strcmp(name, "inet"))
		r = syscall(SYS_socket, 2, 1, 0);
	else if (!strcmp(name, "personality-query"))
		r = syscall(SYS_personality, 0xffffffff);
	else if (!strcmp(name, "personality-rie"))	/* READ_IMPLIES_EXEC */
		r = syscall(SYS_personality, 0x0400000);
	else if (!strcmp(name, "mkdir"))
		r = syscall(SYS_mkdir, "/tmp/probe-dir", 0755);
	else if (!strcmp(name, "getppid"))
		r = syscall(SYS_getppid);
	else if (!strncmp(name, "x32-", 4)) {	/* x32 numbers: bit 30 set */
		long nr = 250, a = 0, b = -3;	/* keyctl */
		if (!strcmp(name + 4, "getpid"))
			nr = 39;
		else if (!strcmp(name + 4, "unshare-user"))
			nr = 272, a = 0x10000000, b = 0;
		else if (!strcmp(name + 4, "clone-newns"))
			nr = 56, a = 0x00020000 | 17, b = 0;
		r = syscall(0x40000000 | nr, a, b, 0, 0, 0);
		if (r == 0 && nr == 56)
			_exit(0);
		if (r > 0 && nr == 56)
			waitpid((pid_t)r, NULL, 0);
	}
	else if (!strncmp(name, "i386-", 5)) {
		/* The 32-bit entry (int 0x80), as a 32-bit program makes it,
		 * with i386's numbers. socketcall's arguments are in memory
		 * below 4 GiB (a static binary's data). */
		static unsigned sockargs[3] = { 40, 1, 0 }, bindargs[3] = { -1u, 0, 0 };
		long nr = 20, b = 0, c = -3, d = 0;
		if (!strcmp(name + 5, "keyctl"))
			nr = 288;
		else if (!strcmp(name + 5, "vsock"))
			nr = 359, b = 40, c = 1;
		else if (!strcmp(name + 5, "socketcall-vsock"))
			nr = 102, b = 1, c = (long)(unsigned long)sockargs;
		else if (!strcmp(name + 5, "unshare-none"))
			nr = 310, b = 0;
		else if (!strcmp(name + 5, "unshare-user"))
			nr = 310, b = 0x10000000;
		else if (!strcmp(name + 5, "clone-newns"))	/* a fork on our stack */
			nr = 120, b = 0x00020000 | 17, c = 0;
		else if (!strcmp(name + 5, "inet"))	/* socket(2): since Linux 4.3 */
			nr = 359, b = 2, c = 1;
		else if (!strcmp(name + 5, "bind"))
			nr = 361, b = -1, c = 0;
		else if (!strcmp(name + 5, "socketcall-bind"))
			nr = 102, b = 2, c = (long)(unsigned long)bindargs;
		else if (!strcmp(name + 5, "semget"))	/* semget(2): since Linux 5.1 */
			nr = 393, b = 0, c = 1, d = 0600;
		/* int 0x80 from 64-bit code zeroes r8-r11 on the way back. */
		__asm__ volatile("int $0x80" : "=a"(r) : "a"(nr), "b"(b), "c"(c), "d"(d)
				 : "memory", "r8", "r9", "r10", "r11");
		if (nr == 120 && r == 0)
			_exit(0);
		if (nr == 120 && r > 0)
			waitpid((pid_t)r, NULL, 0);
		if (r < 0 && r > -4096) {
			errno = (int)-r;
			r = -1;
		}
	}
	if (r >= 0) {
		printf("ok\n");
		return 0;
	}
	printf("%s\n", strerror(errno));
	return 1;
}

_Noreturn static void racer(const char *a, const char *b, long usec)
{
	struct timespec ts = { usec / 1000000, usec % 1000000 * 1000 };

	for (;;) {
		rename(a, b);
		if (usec)
			nanosleep(&ts, NULL);
		rename(b, a);
		if (usec)
			nanosleep(&ts, NULL);
	}
}

_Noreturn static void xchg(const char *a, const char *b)
{
	for (;;)
		if (syscall(SYS_renameat2, AT_FDCWD, a, AT_FDCWD, b, 2 /* RENAME_EXCHANGE */) < 0) {
			perror("renameat2");
			exit(1);
		}
}

static int breach(int n, char **dirs)
{
	static const char *const writes[] = { "sys/kernel/core_pattern", "sysrq-trigger" };
	static const char *const reads[] = { "interrupts", "kcore", "keys", "timer_list" };
	int tried = 0, bad = 0;
	char p[4096], c;

	for (int i = 0; i < n; i++) {
		for (size_t k = 0; k < sizeof(writes) / sizeof(*writes) + sizeof(reads) / sizeof(*reads); k++) {
			int w = k < sizeof(writes) / sizeof(*writes);
			snprintf(p, sizeof(p), "%s/%s", dirs[i], w ? writes[k] : reads[k - 2]);
			int fd = open(p, w ? O_WRONLY : O_RDONLY);
			if (fd < 0) {
				tried += errno != ENOENT;
				continue;
			}
			tried++;
			if (w || read(fd, &c, 1) == 1) {
				printf("BREACH %s %s\n", w ? "write" : "read", p);
				bad = 1;
			}
			close(fd);
		}
	}
	printf("tried %d\n", tried);
	return bad ? 3 : 0;
}

static const char *result(int r) { return r < 0 ? strerror(errno) : "ok"; }

static int ttyattack(const char *text)
{
	for (int i = 0; i < 4; i++) {
		int fd = i < 3 ? i : open("/dev/tty", O_RDWR | O_NONBLOCK);
		const char *sti = "ok", *echo;
		struct termios t;

		if (fd < 0) {
			printf("/dev/tty: %s\n", strerror(errno));
			continue;
		}
		for (const char *c = text;; c++) {
			if (ioctl(fd, TIOCSTI, *c ? c : "\n") < 0) {
				sti = strerror(errno);
				break;
			}
			if (!*c)
				break;
		}
		int r = tcgetattr(fd, &t);
		if (r == 0) {
			t.c_lflag &= ~(tcflag_t)ECHO;
			r = tcsetattr(fd, TCSANOW, &t);
		}
		echo = result(r);
		if (i < 3)
			printf("fd%d: sti=%s echo-off=%s\n", i, sti, echo);
		else
			printf("/dev/tty: sti=%s echo-off=%s\n", sti, echo);
		if (i == 3)
			close(fd);
	}
	return 0;
}

int main(int argc, char **argv)
{
	const char *what = argc > 1 ? argv[1] : "";

	if (!strcmp(what, "caps"))
		return caps();
	if (!strcmp(what, "bnd"))
		return bnd();
	if (!strcmp(what, "fds"))
		return fds();
	if (!strcmp(what, "cwd")) {
		char buf[4096];
		if (!getcwd(buf, sizeof(buf))) {
			perror("getcwd");
			return 1;
		}
		printf("%s\n", buf);
		return 0;
	}
	if (!strcmp(what, "pids")) {
		printf("pid=%d ppid=%d\n", (int)getpid(), (int)getppid());
		return 0;
	}
	if (!strcmp(what, "zombies") && argc > 2)
		return zombies(atoi(argv[2]), argv + 3);
	if (!strcmp(what, "open") && argc == 4)
		return do_open(argv[2], argv[3]);
	if (!strcmp(what, "exeattack") && argc > 2)
		return exeattack(argc - 1, argv + 1);
	if (!strcmp(what, "exeremount") && argc == 3)
		return exeremount(argv[2]);
	if (!strcmp(what, "stdin")) {
		char buf[4096];
		long total = 0;
		ssize_t k;
		while ((k = read(0, buf, sizeof(buf))) > 0)
			total += k;
		printf("%ld\n", total);
		return k < 0;
	}
	if (!strcmp(what, "sys") && argc == 3)
		return sys(argv[2]);
	if (!strcmp(what, "ttyattack") && argc == 3)
		return ttyattack(argv[2]);
	if (!strcmp(what, "racer") && (argc == 4 || argc == 5))
		racer(argv[2], argv[3], argc == 5 ? atol(argv[4]) : 0);
	if (!strcmp(what, "xchg") && argc == 4)
		xchg(argv[2], argv[3]);
	if (!strcmp(what, "breach") && argc > 2)
		return breach(argc - 2, argv + 2);
	fprintf(stderr, "usage: probe caps|bnd|fds|cwd|pids|zombies N [CMD]|open PATH r|w|a|t|exeattack [-r ROOT] [-n N] CMD|exeremount PATH|stdin|sys NAME|ttyattack TEXT|racer A B [USEC]|xchg A B|breach DIR...\n");
	return 2;
}
